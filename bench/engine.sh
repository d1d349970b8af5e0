#!/bin/sh
# Benchmark of the embedded DataFusion plan (docs/engine.md), all figures
# from one run on one replicated session (bench/replicate-session.py; default
# examples/session-small × 600 ≈ 830 k frames):
#
#   * `pktmatch index` from the captures: --engine threads (the matcher's
#     own threads, the baseline) and --engine embedded (the plan);
#   * `pktmatch index --keys` from the key tables (`pktmatch keys`), both
#     engines, and the plan within a memory limit the key tables exceed
#     (--memory-limit, default 64M: the point tables of 721,200 frames are
#     charged to it, about 30 MiB), which spills;
#   * frames/s (median of three runs, page-cached), the ratio to the
#     baseline, the heap peak (PKTMATCH_TIMINGS=1) and that the indexes are
#     the same (`pktmatch export --csv`).
#
#   bench/engine.sh [LABDIR] [COPIES] [LIMIT]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:-$here/examples/session-small}
copies=${2:-600}
limit=${3:-64M}
work=$here/target/bench/engine-$(basename "$lab")-$copies
pktmatch=$here/target/release/pktmatch

(cd "$here" && cargo build --release -q -p pktmatch --features datafusion)
if [ ! -f "$work/lbserver.pcap" ]; then
    echo "making the session: $(basename "$lab") × $copies (once; kept in $work)"
    python3 "$here/bench/replicate-session.py" --vary-ports "$lab" "$work" "$copies"
fi
files="$work/client.pcap $work/wan.pcap $work/dc.pcap $work/lbserver.pcap"
if [ ! -d "$work/keys" ]; then
    "$pktmatch" keys -q -o "$work/keys" $files > /dev/null
fi
cat $files > /dev/null
find "$work/keys" -type f -exec cat {} + > /dev/null

now() { date +%s.%N; }

# run NAME ARGS...: three runs, the median wall time in $work/NAME.wall,
# the highest heap peak in $work/NAME.heap.
run() {
    name=$1
    shift
    walls=""
    peak=0
    for k in 1 2 3; do
        r0=$(now)
        PKTMATCH_TIMINGS=1 "$pktmatch" index -q --force -o "$work/$name.pktmatch" "$@" \
            2> "$work/$name-$k.txt"
        r1=$(now)
        walls="$walls $(echo "$r1 - $r0" | bc)"
        p=$(sed -n 's/.*heap peak *\([0-9.]*\) MiB.*done/\1/p' "$work/$name-$k.txt")
        peak=$(echo "if ($p > $peak) $p else $peak" | bc)
    done
    printf '%s\n' $walls | sort -n | sed -n 2p > "$work/$name.wall"
    echo "$peak" > "$work/$name.heap"
    "$pktmatch" export "$work/$name.pktmatch" --csv "$work/$name.csv" --force > /dev/null
}

run threads --engine threads $files
run embedded --engine embedded $files
run keys-threads --engine threads --keys "$work/keys"
run keys-embedded --engine embedded --keys "$work/keys"
run keys-limited --engine embedded --memory-limit "$limit" --keys "$work/keys"

frames=$(for f in $files; do tcpdump -r "$f" -nn 2>/dev/null | wc -l; done | paste -sd+ | bc)
base=$(cat "$work/threads.wall")
echo "session: $(basename "$lab") × $copies, $frames frames at 4 points"
printf '%-16s %9s %12s %7s %12s %s\n' run wall_s frames/s ratio heap_MiB same_index
for name in threads embedded keys-threads keys-embedded keys-limited; do
    w=$(cat "$work/$name.wall")
    same=no
    cmp -s "$work/threads.csv" "$work/$name.csv" && same=yes
    printf '%-16s %9.3f %12.0f %7.2f %12s %s\n' "$name" "$w" \
        "$(echo "$frames / $w" | bc -l)" "$(echo "$base / $w" | bc -l)" \
        "$(cat "$work/$name.heap")" "$same"
done
grep -h spilled "$work"/keys-limited-*.txt | head -1 || echo "keys-limited: no spill reported"
