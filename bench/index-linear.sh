#!/bin/sh
# Is the cost of `pktmatch index` linear in frames (issue 19, item 5)?
# Indexes snaplen-256 sessions of several sizes (examples/session-small ×
# COPIES by bench/replicate-session.py --snaplen 256; 1700 copies ≈ 2 M
# frames, 42000 ≈ 50 M) and gives per size: wall time, ns per frame, heap
# per frame (counting allocator, PKTMATCH_TIMINGS=1), and, as a baseline run
# just before on the same page-cached files, two tcpdump processes at a time
# (`tcpdump -r F -w /dev/null`).  Linear: ns per frame and bytes per frame
# stay flat as the frames grow.  Run it under `flock /tmp/pktmatch-lab.lock`.
#
#   bench/index-linear.sh [COPIES...]     (default: 1700 10500 42000)
#
# A session is made once and kept in target/bench/snap256-session-small-N
# (42000 copies: 9.5 GB of disk, and about as much page cache to be fair to
# both tools; the index needs about 50 bytes of heap per frame).
#
# PKTMATCH_ROUNDS=R (default 3): each size is timed R times, tcpdump and
# pktmatch back to back in each round, and the line gives the medians (the
# ratio: the median of the rounds' ratios) and, after it, every round's
# times: on a shared machine one round of a big size can be twice another
# (measured 2026-12-07: 50 M frames in 16.9 s and in 29.0 s, minutes apart).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lab=$here/examples/session-small
# PKTMATCH_BIN: another build to measure (e.g. the one before a change).
pktmatch=${PKTMATCH_BIN:-$here/target/release/pktmatch}
[ $# -gt 0 ] || set -- 1700 10500 42000
(cd "$here" && cargo build --release -q -p pktmatch)
now() { date +%s.%N; }
printf '%10s %10s %9s %9s %9s %9s %8s\n' frames tcpdump_s index_s ns/frame B/frame ratio rss_MiB
echo '(medians of the rounds; B/frame and rss: the largest round)'
for copies in "$@"; do
    dir=$here/target/bench/snap256-session-small-$copies
    if [ ! -f "$dir/lbserver.pcap" ]; then
        python3 "$here/bench/replicate-session.py" --snaplen 256 "$lab" "$dir" "$copies" > /dev/null
    fi
    files="$dir/client.pcap $dir/wan.pcap $dir/dc.pcap $dir/lbserver.pcap"
    frames=$(for f in $files; do capinfos -c -M "$f" | sed -n 's/^Number of packets: *//p'; done | paste -sd+ | bc)
    cat $files > /dev/null
    rows=
    for r in $(seq "${PKTMATCH_ROUNDS:-3}"); do
        t0=$(now)
        printf '%s\n' $files | xargs -P 2 -I F tcpdump -r F -w /dev/null 2> /dev/null
        t1=$(now)
        PKTMATCH_TIMINGS=1 /usr/bin/time -f 'maxrss_kb %M' "$pktmatch" index -q --force -o "$dir/session.pktmatch" $files 2> "$dir/timings.txt"
        t2=$(now)
        heap=$(sed -n 's/.*heap peak *\([0-9.]*\) MiB.*done/\1/p' "$dir/timings.txt")
        rss=$(sed -n 's/^maxrss_kb //p' "$dir/timings.txt")
        rows="$rows $t0,$t1,$t2,$heap,$rss"
    done
    python3 -c "
import statistics as st
n = int('$frames')
rounds = [list(map(float, r.split(','))) for r in '$rows'.split()]
td = [t1 - t0 for t0, t1, _, _, _ in rounds]
ix = [t2 - t1 for _, t1, t2, _, _ in rounds]
heap = max(r[3] for r in rounds)
rss = max(r[4] for r in rounds)
ratio = st.median(a / b for a, b in zip(td, ix))
print('%10d %10.2f %9.2f %9.0f %9.1f %9.3f %8.0f   rounds: tcpdump %s, index %s' % (
    n, st.median(td), st.median(ix), st.median(ix) * 1e9 / n, heap * 1048576 / n, ratio, rss / 1024,
    ' '.join('%.2f' % t for t in td), ' '.join('%.2f' % t for t in ix)))
"
done
