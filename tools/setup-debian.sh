#!/bin/sh
# One command for a fresh Debian 12 (or newer) machine: installs what the
# build and the tests need from Debian, builds both plugins and installs them
# into your personal Wireshark plugin directory.
#
#   tools/setup-debian.sh            prerequisites + build + install
#   tools/setup-debian.sh --deps     prerequisites only (used by CI)
#   tools/setup-debian.sh --deps --lab   also the multi-point lab's packages
#                                    (haproxy, nginx-light, dnsmasq-base,
#                                    conntrack, tcpdump, nftables…; CI uses it;
#                                    note that Debian starts nginx and haproxy
#                                    as services when it installs them)
#
# Rust: uses the cargo on PATH (1.85 or newer).  Debian 12's own cargo is
# older; install Rust with rustup (https://rustup.rs) if cargo is missing.
set -eu

# bzip2/xz-utils: the header fetcher unpacks wiretap/wtap-int.h from Debian's
# source tarballs; binutils (objdump): the layout test reads struct wtap
# offsets from the machine code of the real libwiretap; python3: bench scripts.
packages="tshark wireshark-common libwireshark-dev libwiretap-dev libwsutil-dev \
libglib2.0-dev pkg-config libclang-dev clang gcc make util-linux debootstrap \
bzip2 xz-utils python3 binutils"

case " $* " in
*" --lab "*) packages="$packages haproxy nginx-light dnsmasq-base conntrack tcpdump nftables \
iproute2 ethtool openssl iputils-ping coreutils" ;;
esac

if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark's package asks whether non-root users may capture; keep Debian's default.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections 2>/dev/null || true
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $packages

case " $* " in *" --deps "*) exit 0 ;; esac

command -v cargo >/dev/null || {
    echo "setup: cargo not found; install Rust 1.85+ (https://rustup.rs), then run this again" >&2
    exit 1
}
cd "$(dirname "$0")/.."
make
make install
