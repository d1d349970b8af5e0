#!/bin/bash
# Wireshark-style fuzz run: mutates captures with `editcap -E` (random byte
# errors, fixed seeds so every failure can be replayed) and feeds each
# mutated file to real tshark with our plugins loaded, printing the whole
# tree (-V) in one pass and in two passes (-2).  A run fails when tshark
# dies from a signal, exits non-zero, or prints a "Dissector bug" /
# internal-error line that names one of our protocols.
#
# Usage: tools/mutate-captures.sh [-n FILES] [-p PROBABILITY] [-o OFFSET] [-r] CAPTURE...
#   -n  number of mutated files (default 2000), spread over the captures
#   -p  editcap error probability per byte (default 0.02)
#   -o  bytes at the start of each packet left intact (default 42: Ethernet,
#       IPv4 and UDP headers, so the damage reaches our dissectors)
#   -r  raw: mutate the file's bytes themselves (headers and framing too),
#       for formats editcap cannot write, such as CTRACE; same seeds, same
#       probability, done by a few lines of Python below
# Extra tshark options may be given in TSHARK_ARGS (e.g. an index).
# The plugins are taken from target/release (build with `make`).
# Failing inputs are kept in target/mutate/failures with the command line.
set -euo pipefail
cd "$(dirname "$0")/.."

files=2000 probability=0.02 offset=42 raw=0
while getopts "n:p:o:r" opt; do
    case $opt in
        n) files=$OPTARG ;;
        p) probability=$OPTARG ;;
        o) offset=$OPTARG ;;
        r) raw=1 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-n N] [-p P] [-o OFFSET] CAPTURE..." >&2; exit 2; }

work=target/mutate
rm -rf "$work"
mkdir -p "$work/failures"
home=$(mktemp -d /tmp/pktmatch-mutate-XXXXXX)
trap 'rm -rf "$home"' EXIT
# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
plugin_home "$home"
run_tshark() { as_plugin_user "$home" tshark "$@"; }
loaded=$(run_tshark -G plugins | grep -c 'pktmatch.so\|ctrace.so' || true)
[ "$loaded" = 2 ] || { echo "plugins not loaded by tshark" >&2; exit 1; }

inputs=("$@")
failures=0 opened=0 refused=0
for ((i = 0; i < files; i++)); do
    source=${inputs[$((i % ${#inputs[@]}))]}
    mutated="$home/mutated-$i.pcapng"
    if [ "$raw" = 1 ]; then
        mutated="$home/mutated-$i.bin"
        python3 -c '
import random, sys
src, dst, p, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
data = bytearray(open(src, "rb").read())
for i in range(len(data)):
    if rng.random() < p:
        data[i] = rng.randrange(256)
open(dst, "wb").write(data)
' "$source" "$mutated" "$probability" "$i"
    else
        editcap -F pcapng -E "$probability" -o "$offset" --seed "$i" "$source" "$mutated" 2>/dev/null
    fi
    chmod a+r "$mutated"
    for passes in "" "-2"; do
        # shellcheck disable=SC2086
        if run_tshark -r "$mutated" -V $passes ${TSHARK_ARGS:-} >/dev/null 2>"$home/err"; then
            status=0
        else
            status=$?
        fi
        # A damaged file may be refused (exit 2 with a message): fine.  A
        # signal (exit > 128), a dissector bug or our internal error is not.
        if [ "$status" = 0 ]; then opened=$((opened + 1)); else refused=$((refused + 1)); fi
        if [ "$status" -gt 2 ] || grep -q -i -E "dissector bug|internal error" "$home/err"; then
            failures=$((failures + 1))
            cp "$mutated" "$work/failures/"
            echo "seed $i, source $source, p=$probability, offset=$offset, raw=$raw; tshark -r ... -V $passes: exit $status" \
                >> "$work/failures/README"
            head -3 "$home/err" >> "$work/failures/README"
        fi
    done
    rm -f "$mutated"
done
echo "mutated files: $files (from ${#inputs[@]} captures, p=$probability, offset=$offset, raw=$raw), tshark runs: $((files * 2)) (read to the end: $opened, stopped with an error: $refused), failures: $failures"
[ "$failures" = 0 ]
