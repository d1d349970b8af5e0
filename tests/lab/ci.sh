#!/bin/sh
# One lab run for `make test` (CI): tests/lab/run.sh OUTDIR [OPTIONS], whose
# truth crates/matcher/tests/lab_truth.rs then scores the matcher against
# (PKTMATCH_LAB_DIRS); `make test` runs the default and --clock-step.
# Skipped, with the reason, when not root or when a lab package is missing
# (tools/setup-debian.sh --lab installs them); a lab run that starts and
# fails fails the tests.
#
#   tests/lab/ci.sh OUTDIR CAPCLOCK [run.sh options...]
set -eu
out=$1
capclock=$2
shift 2
rm -rf "$out"
if [ "$(id -u)" != 0 ]; then
    echo "lab: skipped (needs root for network namespaces)"
    exit 0
fi
for c in ip nft conntrack tcpdump haproxy nginx dnsmasq openssl editcap ethtool; do
    if ! command -v "$c" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$c" ]; then
        echo "lab: skipped ($c missing; tools/setup-debian.sh --lab installs the lab's packages)"
        exit 0
    fi
done
if ! ip netns add pktmatch-lab-probe 2>/dev/null; then
    echo "lab: skipped (cannot create network namespaces here)"
    exit 0
fi
ip netns del pktmatch-lab-probe
mkdir -p "$(dirname "$out")"
if ! bash "$(dirname "$0")/run.sh" "$out" --capclock "$capclock" "$@" > "$out.log" 2>&1; then
    tail -20 "$out.log" >&2
    echo "lab: run failed (log: $out.log)" >&2
    exit 1
fi
echo "lab: $(cat "$out/truth/points.json" | tr -d ' \n' | sed 's/.*"order":\[\([^]]*\)\].*/points \1/') in $out"
