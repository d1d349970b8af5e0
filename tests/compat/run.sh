#!/bin/sh
# Compatibility run: builds the plugins for Wireshark 4.4 and/or 4.6 and runs
# the real-tshark tests against tshark 4.4 (Debian trixie) and 4.6 (Debian sid)
# installed in debootstrap'd root file systems.  Needs root (debootstrap,
# chroot) and a few minutes the first time; the roots are kept for next time.
#
# Usage: tests/compat/run.sh [4.4] [4.6]
#   PKTMATCH_COMPAT_ROOTS  where the roots live (default target/compat/roots)
set -eu

[ "$(id -u)" = 0 ] || { echo "compat: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "compat: apt-get install debootstrap" >&2; exit 1; }
roots=${PKTMATCH_COMPAT_ROOTS:-target/compat/roots}
mkdir -p "$roots"
roots=$(cd "$roots" && pwd)
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)

suite_of() {
    case "$1" in
        4.4) echo trixie ;;
        4.6) echo sid ;;
        *) echo "compat: no Debian suite known for Wireshark $1" >&2; exit 1 ;;
    esac
}

[ $# -gt 0 ] || set -- 4.4 4.6
for version in "$@"; do
    suite=$(suite_of "$version")
    root="$roots/$suite"
    if [ ! -x "$root/usr/bin/tshark" ]; then
        echo "== debootstrap $suite into $root (tshark $version)"
        debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$roots/$suite.log" 2>&1
        chroot "$root" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark' >> "$roots/$suite.log" 2>&1
    fi
    echo "== Wireshark $version: $(chroot "$root" tshark --version 2>/dev/null | head -1)"
    target="target/compat-$version"
    WIRESHARK_VERSION=$version cargo build --release --workspace --target-dir "$target"
    WIRESHARK_VERSION=$version cargo build --release -p pktmatch-epan --features fault-injection \
        --target-dir "$target/fault"
    WIRESHARK_VERSION=$version \
    PKTMATCH_TSHARK_ROOT="$root" \
    PKTMATCH_PLUGIN_DIR="$target/release" \
    PKTMATCH_FAULT_PLUGIN_DIR="$target/fault/release" \
        cargo test --release --target-dir "$target" --test tshark_plugins --test fault_injection --test ee_tshark --test ee_differential --test ee_vectors --test ee_audit \
        --test ctrace_tshark --test ctrace_vectors --test ctrace_audit --test zforms_tshark \
        --test pktmatch_tshark --test pktmatch_merge
done
