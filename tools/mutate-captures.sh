#!/bin/bash
# Wireshark-style fuzz run: mutates captures with `editcap -E` (random byte
# errors, fixed seeds so every failure can be replayed) and feeds each
# mutated file to real tshark with our plugins loaded, printing the whole
# tree (-V) in one pass and in two passes (-2).  A run fails when tshark
# dies from a signal, exits with a status above 2 (2: a damaged file refused
# with a message, fine), prints our internal-error line, or prints a
# "Dissector bug" line that tshark without our plugins does not print for
# the same file (Wireshark's own, e.g. TLS reassembly assertions of 4.0 on
# damaged streams, are counted and kept apart in target/mutate/wireshark).
#
# Usage: tools/mutate-captures.sh [-n FILES] [-p PROBABILITY] [-o OFFSET] [-r]
#                                 [-i INDEX] [-j JOBS] CAPTURE...
#   -n  number of mutated files (default 2000), spread over the captures
#   -p  editcap error probability per byte (default 0.02)
#   -o  bytes at the start of each packet left intact (default 42: Ethernet,
#       IPv4 and UDP headers, so the damage reaches our dissectors)
#   -r  raw: mutate the file's bytes themselves (headers and framing too),
#       for formats editcap cannot write, such as CTRACE; same seeds, same
#       probability, done by a few lines of Python below
#   -i  mutate the pktmatch index INDEX instead (raw, as -r) and feed the
#       captures unchanged with `-o pktmatch.index:MUTATED`: fuzzes the index
#       loader inside tshark (a damaged index must give expert info, exit 0)
#   -j  mutated files handled in parallel (default 1)
# Extra tshark options may be given in TSHARK_ARGS, e.g. an index for the
# mutated captures: TSHARK_ARGS="-o pktmatch.index:S.pktmatch".
# The plugins are taken from target/release (build with `make`).
# Failing inputs are kept in target/mutate/failures with the command line.
# The summary also counts what the pktmatch post-dissector reported per run
# (index refused, capture not in the index, index stale, identified).
set -euo pipefail
cd "$(dirname "$0")/.."

files=2000 probability=0.02 offset=42 raw=0 index="" jobs=1
while getopts "n:p:o:ri:j:" opt; do
    case $opt in
        n) files=$OPTARG ;;
        p) probability=$OPTARG ;;
        o) offset=$OPTARG ;;
        r) raw=1 ;;
        i) index=$OPTARG ;;
        j) jobs=$OPTARG ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || {
    echo "usage: $0 [-n N] [-p P] [-o OFFSET] [-r] [-i INDEX] [-j JOBS] CAPTURE..." >&2
    exit 2
}

work=target/mutate
rm -rf "$work"
mkdir -p "$work/failures" "$work/wireshark"
home=$(mktemp -d /tmp/pktmatch-mutate-XXXXXX)
trap 'rm -rf "$home"' EXIT
# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
bare="$home/bare" # a HOME without our plugins
mkdir "$bare"
plugin_home "$home"
run_tshark() { as_plugin_user "$home" tshark "$@"; }
loaded=$(run_tshark -G plugins | grep -c 'pktmatch.so\|ctrace.so' || true)
[ "$loaded" = 2 ] || { echo "plugins not loaded by tshark" >&2; exit 1; }

raw_mutate() {
    python3 -c '
import random, sys
src, dst, p, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
data = bytearray(open(src, "rb").read())
changed = 0
for i in range(len(data)):
    if rng.random() < p:
        byte = rng.randrange(256)
        changed += byte != data[i]
        data[i] = byte
open(dst, "wb").write(data)
print(changed)
' "$@"
}

# What the post-dissector said in one -V output.
finding() {
    local lines='^Packet matching across capture points, '
    if grep -q 'pktmatch index unusable' "$1"; then
        echo index-refused
    elif grep -q -E 'Index not for this file|match several points' "$1"; then
        echo not-in-index
    elif grep -q 'Index stale:' "$1"; then
        if grep -q "$lines" "$1"; then echo identified-then-stale; else echo stale; fi
    elif grep -q "$lines" "$1"; then
        echo identified
    else
        echo none
    fi
}

# Mutates file $1 and runs tshark on it; one line per run in $home/tally-$1.
one() {
    local i=$1 source mutated capture extra status changed=- bugs verdict own dir
    source=${inputs[$((i % ${#inputs[@]}))]}
    capture=$source extra=()
    if [ -n "$index" ]; then
        mutated="$home/mutated-$i.pktmatch"
        changed=$(raw_mutate "$index" "$mutated" "$probability" "$i")
        extra=(-o "pktmatch.index:$mutated")
    elif [ "$raw" = 1 ]; then
        mutated="$home/mutated-$i.bin"
        changed=$(raw_mutate "$source" "$mutated" "$probability" "$i")
        capture=$mutated
    else
        mutated="$home/mutated-$i.pcapng"
        editcap -F pcapng -E "$probability" -o "$offset" --seed "$i" "$source" "$mutated" 2>/dev/null
        capture=$mutated
    fi
    chmod a+r "$mutated"
    for passes in "" "-2"; do
        # shellcheck disable=SC2086
        if run_tshark -r "$capture" -V $passes "${extra[@]}" ${TSHARK_ARGS:-} \
            >"$home/out-$i" 2>"$home/err-$i"; then
            status=0
        else
            status=$?
        fi
        echo "$status $(finding "$home/out-$i") $changed" >>"$home/tally-$i"
        bugs=$(grep -o -i "dissector bug.*" "$home/err-$i" | sort -u || true)
        verdict=fine
        if [ "$status" -gt 2 ] || grep -q -i "internal error" "$home/err-$i"; then
            verdict=failed
        elif [ -n "$bugs" ]; then
            # shellcheck disable=SC2086
            own=$(as_plugin_user "$bare" tshark -r "$capture" -V $passes 2>&1 >/dev/null |
                grep -o -i "dissector bug.*" | sort -u || true)
            if [ "$own" = "$bugs" ]; then verdict=wireshark; else verdict=failed; fi
        fi
        if [ "$verdict" != fine ]; then
            dir="$work/failures"
            [ "$verdict" = failed ] || dir="$work/wireshark"
            cp "$mutated" "$dir/"
            {
                echo "seed $i, source $source, p=$probability, offset=$offset, raw=$raw, index=$index;" \
                    "tshark -r ... -V $passes: exit $status"
                head -3 "$home/err-$i"
            } >>"$home/$verdict-$i"
        fi
    done
    rm -f "$mutated" "$home/out-$i" "$home/err-$i"
}

inputs=("$@")
for ((i = 0; i < files; i++)); do
    if [ "$jobs" -gt 1 ]; then
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
        one "$i" &
    else
        one "$i"
    fi
done
wait

for ((i = 0; i < files; i++)); do
    if [ -f "$home/failed-$i" ]; then cat "$home/failed-$i" >>"$work/failures/README"; fi
    if [ -f "$home/wireshark-$i" ]; then cat "$home/wireshark-$i" >>"$work/wireshark/README"; fi
done
runs=$(cat "$home"/tally-* | wc -l)
opened=$(cat "$home"/tally-* | awk '$1 == 0' | wc -l)
failures=$(cat "$home"/failed-* 2>/dev/null | grep -c '^seed ' || true)
theirs=$(cat "$home"/wireshark-* 2>/dev/null | grep -c '^seed ' || true)
findings=$(cat "$home"/tally-* | awk '{ n[$2]++ } END { for (k in n) printf " %s %d,", k, n[k] }')
findings=${findings%,}
# Raw mutations may leave a file unchanged (no byte drawn, or the same value).
unchanged=$(cat "$home"/tally-* | awk '$3 == "0"' | wc -l)
[ "$unchanged" = 0 ] || findings="$findings (unchanged files: $((unchanged / 2)))"
what="from ${#inputs[@]} captures, p=$probability, offset=$offset, raw=$raw"
[ -z "$index" ] || what="index $index, p=$probability, with ${#inputs[@]} captures"
echo "mutated files: $files ($what)," \
    "tshark runs: $runs (read to the end: $opened, stopped with an error: $((runs - opened)))," \
    "pktmatch:$findings; failures: $failures" \
    "(Wireshark's own dissector bugs, also without our plugins: $theirs runs)"
[ "$failures" = 0 ] && [ "$runs" = $((files * 2)) ]
