#!/bin/sh
# Benchmark of the matching stage on a local cluster (docs/engine.md, "The
# cluster"), all figures from one run on one replicated session
# (bench/replicate-session.py; default examples/session-small × 600):
#
#   * `pktmatch index` from the captures with --engine threads (the
#     matcher's own threads, the baseline), --engine embedded (the
#     DataFusion plan in this process), and --engine URL on a local
#     cluster of 1 and of 2 `pktmatch worker`s (tools/local-cluster.sh);
#   * frames/s (median of three runs, page-cached), the ratio to the
#     baseline, and that the indexes are the same (`pktmatch export --csv`).
#
# On one machine the cluster's workers share its cores with the
# coordinator, and each worker reads its two points again: the figures
# measure the cost of the distribution, not a speed-up.
#
#   bench/cluster.sh [LABDIR] [COPIES]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:-$here/examples/session-small}
copies=${2:-600}
target=${CARGO_TARGET_DIR:-$here/target}
work=$target/bench/engine-$(basename "$lab")-$copies
pktmatch=$target/release/pktmatch
export PKTMATCH_BIN="$pktmatch"
export PKTMATCH_CLUSTER_DIR="$work/cluster-state"

(cd "$here" && cargo build --release -q -p pktmatch --features datafusion)
if [ ! -f "$work/lbserver.pcap" ]; then
    echo "making the session: $(basename "$lab") × $copies (once; kept in $work)"
    python3 "$here/bench/replicate-session.py" --vary-ports "$lab" "$work" "$copies"
fi
files="$work/client.pcap $work/wan.pcap $work/dc.pcap $work/lbserver.pcap"
cat $files > /dev/null

now() { date +%s.%N; }

# run NAME ARGS...: three runs, the median wall time in $work/NAME.wall.
run() {
    name=$1
    shift
    walls=""
    for k in 1 2 3; do
        r0=$(now)
        "$pktmatch" index -q --force -o "$work/$name.pktmatch" "$@" $files
        r1=$(now)
        walls="$walls $(echo "$r1 - $r0" | bc)"
    done
    printf '%s\n' $walls | sort -n | sed -n 2p > "$work/$name.wall"
    "$pktmatch" export "$work/$name.pktmatch" --csv "$work/$name.csv" --force > /dev/null
}

trap '"$here/tools/local-cluster.sh" stop 2>/dev/null || true' EXIT

run threads --engine threads
run embedded --engine embedded
for n in 1 2; do
    url=$("$here/tools/local-cluster.sh" start "$n" | tail -1)
    run "cluster-$n" --engine "$url"
    "$here/tools/local-cluster.sh" stop
done

frames=$(for f in $files; do tcpdump -r "$f" -nn 2>/dev/null | wc -l; done | paste -sd+ | bc)
base=$(cat "$work/threads.wall")
echo "session: $(basename "$lab") × $copies, $frames frames at 4 points"
printf '%-12s %9s %12s %7s %s\n' run wall_s frames/s ratio same_index
for name in threads embedded cluster-1 cluster-2; do
    w=$(cat "$work/$name.wall")
    same=no
    cmp -s "$work/threads.csv" "$work/$name.csv" && same=yes
    printf '%-12s %9.3f %12.0f %7.2f %s\n' "$name" "$w" \
        "$(echo "$frames / $w" | bc -l)" "$(echo "$base / $w" | bc -l)" "$same"
done
echo "matches: $(($(wc -l < "$work/threads.csv") - 1))"
