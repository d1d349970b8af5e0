#!/bin/sh
# What a gzip-compressed capture costs `pktmatch keys`, against baselines
# run in the same script, alternating, on page-cached files:
#
#   * `gzip -dc F.gz > /dev/null`: the system's gzip inflating alone;
#   * `pktmatch keys --threads 1 F`: the same capture uncompressed, on one
#     thread (what the gzip capture's reading does beside its inflating
#     thread, capture/src/inflate.rs), and `pktmatch keys F` (uncompressed,
#     in pieces on every core);
#   * `pktmatch keys F.gz` (this build) and, with PKTMATCH_BEFORE=BINARY,
#     the same with another build (e.g. the one before a change).
#
#   bench/gzip.sh CAPTURE [RUNS] [LEVEL]
#
# The capture is gzipped once at LEVEL (default 1, as capture appliances
# and `tcpdump -w - | gzip -1` do) into a temporary directory, removed at
# the end.  RUNS (default 5) rounds; prints every round, the medians and
# the ratios (each build's gzip time over the uncompressed one-thread time,
# and this build's over PKTMATCH_BEFORE's).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
capture=${1:?usage: bench/gzip.sh CAPTURE [RUNS] [LEVEL]}
runs=${2:-5}
level=${3:-1}
before=${PKTMATCH_BEFORE:-}
(cd "$here" && cargo build --release -q -p pktmatch)
pktmatch=$here/target/release/pktmatch
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gzip-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
gz=$tmp/$(basename "$capture").gz
gzip -c "-$level" "$capture" > "$gz"
cat "$capture" "$gz" > /dev/null

now() { date +%s%N; }
# Seconds a command takes (its output thrown away; a failure stops all).
took() {
    t0=$(now)
    "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'
}
gunzip_only() { gzip -dc "$gz" > /dev/null; }
keys() { # binary threads input
    rm -rf "$tmp/k"
    if [ "$2" = 0 ]; then "$1" keys -q -o "$tmp/k" "$3"; else "$1" keys -q -o "$tmp/k" --threads "$2" "$3"; fi
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "capture: $capture ($(wc -c < "$capture") bytes; gzip -$level: $(wc -c < "$gz") bytes), $runs rounds, $(nproc) cores"
: > "$tmp/gunzip"; : > "$tmp/plain1"; : > "$tmp/plainn"; : > "$tmp/gz"; : > "$tmp/before"
i=0
while [ "$i" -lt "$runs" ]; do
    g=$(took gunzip_only)
    p=$(took keys "$pktmatch" 1 "$capture")
    q=$(took keys "$pktmatch" 0 "$capture")
    z=$(took keys "$pktmatch" 0 "$gz")
    line="round $((i + 1)): gzip -dc $g s, keys plain on one thread $p s, in pieces $q s, keys gz $z s"
    echo "$g" >> "$tmp/gunzip"; echo "$p" >> "$tmp/plain1"; echo "$q" >> "$tmp/plainn"; echo "$z" >> "$tmp/gz"
    if [ -n "$before" ]; then
        b=$(took keys "$before" 0 "$gz")
        echo "$b" >> "$tmp/before"
        line="$line, before's keys gz $b s"
    fi
    echo "$line"
    i=$((i + 1))
done
mg=$(median < "$tmp/gunzip"); mp=$(median < "$tmp/plain1"); mq=$(median < "$tmp/plainn"); mz=$(median < "$tmp/gz")
ratio() { echo "$1 $2" | awk '{ printf "%.2f", ($2 > 0) ? $1 / $2 : 0 }'; }
echo "median: gzip -dc $mg s; keys plain, one thread $mp s, in pieces $mq s; keys gz $mz s"
echo "keys gz / keys plain one thread = $(ratio "$mz" "$mp"); / keys plain in pieces = $(ratio "$mz" "$mq"); / gzip -dc = $(ratio "$mz" "$mg")"
if [ -n "$before" ]; then
    mb=$(median < "$tmp/before")
    echo "before's keys gz $mb s: / keys plain one thread = $(ratio "$mb" "$mp"); this build / before = $(ratio "$mz" "$mb")"
fi
