#!/bin/sh
# Benchmark of `pktmatch keys` on ONE big capture: the key table written on
# one thread (--threads 1, the path every capture took before) against the
# classic pcap file read in pieces, its row groups built and encoded on all
# cores (the default), in the same run, alternating (one thread, pieces,
# one thread, ...) so that both see the same machine; the captures are
# read once first to be page-cached.  Prints every run's wall-clock
# seconds (the whole command), the medians, their ratio, and that the
# part files are the same bytes (cmp).
#
#   bench/keys.sh CAPTURE [RUNS] [PKTMATCH]
#
# RUNS (default 5) runs of each.  PKTMATCH defaults to
# target/release/pktmatch (built first when it is the default).  The key
# tables go to a temporary directory, removed at the end.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
capture=${1:?usage: bench/keys.sh CAPTURE [RUNS] [PKTMATCH]}
runs=${2:-5}
pktmatch=${3:-}
if [ -z "$pktmatch" ]; then
    (cd "$here" && cargo build --release -q -p pktmatch)
    pktmatch=$here/target/release/pktmatch
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/keys-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cat "$capture" > /dev/null

# One run: prints its wall-clock seconds and keeps the summary.
run() { # threads out
    rm -rf "$2"
    t0=$(date +%s%N)
    "$pktmatch" keys -o "$2" --threads "$1" "$capture" 2> "$tmp/summary" ||
        { cat "$tmp/summary" >&2; exit 1; }
    t1=$(date +%s%N)
    echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "capture: $capture ($(wc -c < "$capture") bytes), $runs runs each, alternating, $(nproc) cores"
: > "$tmp/one"
: > "$tmp/pieces"
i=0
while [ "$i" -lt "$runs" ]; do
    a=$(run 1 "$tmp/k1")
    b=$(run 0 "$tmp/kn")
    echo "run $((i + 1)): one thread $a s, pieces $b s"
    echo "$a" >> "$tmp/one"
    echo "$b" >> "$tmp/pieces"
    i=$((i + 1))
done
sed -n 's/^  \(.*frames.*\)/last run: \1/p' "$tmp/summary"
# The same files on both sides (none missing, none extra), each the same
# bytes.
same=yes
(cd "$tmp/k1" && ls -d -- */*.parquet) > "$tmp/files1"
(cd "$tmp/kn" && ls -d -- */*.parquet) > "$tmp/filesn"
cmp -s "$tmp/files1" "$tmp/filesn" || same=no
while read -r f; do
    cmp -s "$tmp/k1/$f" "$tmp/kn/$f" || same=no
done < "$tmp/files1"
m1=$(median < "$tmp/one")
mn=$(median < "$tmp/pieces")
echo "median: one thread $m1 s, pieces $mn s; one thread / pieces = $(echo "$m1 $mn" | awk '{ printf "%.2f", ($2 > 0) ? $1 / $2 : 0 }')"
echo "part files the same bytes: $same"
