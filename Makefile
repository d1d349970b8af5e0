# pktmatch — build, install and test the Wireshark plugins.
#
#   make                 release build of both plugins for the detected Wireshark
#   make install         copy them into the personal plugin directory, and the
#                        pktmatch command into ~/.local/bin (BINDIR)
#   make uninstall       remove them again
#   make test            everything CI runs (layout test, real tshark, unit tests, and
#                        two lab runs, default and --clock-step, scored by the matcher's
#                        test when root with the lab's packages: tools/setup-debian.sh --lab)
#   make compat          build for 4.4 and 4.6 and run the real-tshark tests
#                        (plugins, faults, ee, ctrace, zforms, pktmatch) in tshark 4.4/4.6
#
# WIRESHARK_VERSION=4.4 make   builds for another Wireshark (4.0, 4.4, 4.6).
# make CARGO_FEATURES="--features pktmatch/datafusion"   also builds pktmatch index's
#   embedded Apache DataFusion engine (docs/engine.md; make test always builds and tests it).
# Packagers: make install PLUGINDIR=/usr/lib/x86_64-linux-gnu/wireshark/plugins/4.0 DESTDIR=pkgroot

SHELL := /bin/sh
CARGO ?= cargo

# Wireshark major.minor: given, else pkg-config, else tshark --version.
WIRESHARK_VERSION ?= $(shell \
	v=$$(pkg-config --modversion wireshark 2>/dev/null) || \
	v=$$(tshark --version 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9.]*\).*/\1/p'); \
	echo "$$v" | cut -d. -f1,2)
export WIRESHARK_VERSION
SUPPORTED_VERSIONS := 4.0 4.4 4.6

PLUGINDIR ?= $(HOME)/.local/lib/wireshark/plugins/$(WIRESHARK_VERSION)
BINDIR ?= $(HOME)/.local/bin
# The Wireshark configuration profile "pktmatch" (columns for matching).
PROFILEDIR ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/wireshark/profiles/pktmatch
DESTDIR ?=
RELEASE_DIR := target/release
FAULT_DIR := target/fault/release
EPAN_SO := $(RELEASE_DIR)/libpktmatch_epan.so
WIRETAP_SO := $(RELEASE_DIR)/libpktmatch_wiretap.so

.PHONY: all check-version build install uninstall test headers compat clean

all: build

check-version:
	@case " $(SUPPORTED_VERSIONS) " in \
	  *" $(WIRESHARK_VERSION) "*) ;; \
	  "  ") echo "pktmatch: no Wireshark found; install tshark and libwireshark-dev or set WIRESHARK_VERSION" >&2; exit 1;; \
	  *) echo "pktmatch: Wireshark $(WIRESHARK_VERSION) is not supported (supported: $(SUPPORTED_VERSIONS))" >&2; exit 1;; \
	esac

build: check-version
	$(CARGO) build --release --workspace $(CARGO_FEATURES)

install: build
	install -d "$(DESTDIR)$(PLUGINDIR)/epan" "$(DESTDIR)$(PLUGINDIR)/wiretap"
	install -m 0644 $(EPAN_SO) "$(DESTDIR)$(PLUGINDIR)/epan/pktmatch.so"
	install -m 0644 $(WIRETAP_SO) "$(DESTDIR)$(PLUGINDIR)/wiretap/ctrace.so"
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 $(RELEASE_DIR)/pktmatch "$(DESTDIR)$(BINDIR)/pktmatch"
	install -d "$(DESTDIR)$(PROFILEDIR)"
# -b: a preferences file Wireshark saved in the profile is kept as preferences.bak
	install -b -S .bak -m 0644 plugin/epan/profile/pktmatch/preferences "$(DESTDIR)$(PROFILEDIR)/preferences"
# recent (column widths): only into a profile without one (Wireshark keeps yours there)
	[ -e "$(DESTDIR)$(PROFILEDIR)/recent" ] || install -m 0644 plugin/epan/profile/pktmatch/recent "$(DESTDIR)$(PROFILEDIR)/recent"
	@echo "installed for Wireshark $(WIRESHARK_VERSION):"
	@echo "  $(DESTDIR)$(PLUGINDIR)/epan/pktmatch.so"
	@echo "  $(DESTDIR)$(PLUGINDIR)/wiretap/ctrace.so"
	@echo "  $(DESTDIR)$(BINDIR)/pktmatch"
	@echo "  $(DESTDIR)$(PROFILEDIR)/preferences (profile: wireshark -C pktmatch)"
	@if [ "$$(id -u)" = 0 ] && [ -z "$(DESTDIR)" ]; then \
	  echo "note: Wireshark ignores personal plugins when run as root; run it as a normal user"; fi

uninstall:
	rm -f "$(DESTDIR)$(PLUGINDIR)/epan/pktmatch.so" "$(DESTDIR)$(PLUGINDIR)/wiretap/ctrace.so"
	rm -f "$(DESTDIR)$(BINDIR)/pktmatch"
# the profile: our preferences, the backup, and what Wireshark itself keeps there
	rm -f "$(DESTDIR)$(PROFILEDIR)/preferences" "$(DESTDIR)$(PROFILEDIR)/preferences.bak" "$(DESTDIR)$(PROFILEDIR)/recent"
	@rmdir "$(DESTDIR)$(PROFILEDIR)" 2>/dev/null || \
	  { [ ! -d "$(DESTDIR)$(PROFILEDIR)" ] || echo "kept $(DESTDIR)$(PROFILEDIR): it holds files of yours"; }
	@echo "removed pktmatch plugins from $(DESTDIR)$(PLUGINDIR)"

headers:
	sh tests/fetch-wireshark-headers.sh target/wireshark-headers

LAB_DIR := target/lab/default
LAB_STEP_DIR := target/lab/clock-step

test: build headers
	$(CARGO) build --release -p pktmatch-epan --features fault-injection --target-dir target/fault
	sh tests/lab/ci.sh $(LAB_DIR) $(RELEASE_DIR)/capclock --pause-ms 400 --ping 5
	sh tests/lab/ci.sh $(LAB_STEP_DIR) $(RELEASE_DIR)/capclock --clock-step --pause-ms 400
	rm -f target/layout-report.txt
	dirs=; for d in $(LAB_DIR) $(LAB_STEP_DIR); do [ -f $$d/truth/packets.csv ] && dirs="$${dirs:+$$dirs:}$(CURDIR)/$$d"; done; \
	PKTMATCH_LAB_DIRS="$$dirs" $(CARGO) test --release --workspace --features pktmatch/datafusion; status=$$?; \
	echo "== what tests/layout.rs verified, per Wireshark version (docs/ffi.md):"; \
	cat target/layout-report.txt 2>/dev/null || echo "(the layout test did not run)"; \
	exit $$status

compat:
	sh tests/compat/run.sh 4.4 4.6

clean:
	$(CARGO) clean
