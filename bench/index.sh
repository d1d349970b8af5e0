#!/bin/sh
# Benchmark of `pktmatch index` (issue: indexer bars), all figures from one run:
#
#   * a large four-point session made by bench/replicate-session.py from a
#     real lab run (default examples/session-small × 3400 ≈ 4.1 M packets);
#   * baseline: tshark -T fields extracting the keys the indexer takes from
#     every packet (addresses, ports, IP ID, TCP seq/ack/flags/length/TSval,
#     UDP length, DNS id, time), two tshark processes at a time (the machine's
#     cores; tshark is single-threaded), on the same page-cached files;
#   * pktmatch index on the same files: wall time, packets/s, ratio to the
#     baseline, heap high-water mark per packet (counting allocator:
#     PKTMATCH_TIMINGS=1; the resident set would count the memory-mapped
#     inputs) and the resident set for reference.
#
#   bench/index.sh [LABDIR] [COPIES]
#
# Needs python3, tshark, /usr/bin/time; builds pktmatch (release).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:-$here/examples/session-small}
copies=${2:-3400}
work=$here/target/bench/index-$(basename "$lab")-$copies
pktmatch=$here/target/release/pktmatch

(cd "$here" && cargo build --release -q -p pktmatch)
if [ ! -f "$work/lbserver.pcap" ]; then
    echo "making the session: $(basename "$lab") × $copies (once; kept in $work)"
    python3 "$here/bench/replicate-session.py" "$lab" "$work" "$copies"
fi
files="$work/client.pcap $work/wan.pcap $work/dc.pcap $work/lbserver.pcap"
cat $files > /dev/null   # page cache

now() { date +%s.%N; }

t0=$(now)
printf '%s\n' $files | xargs -P 2 -I F sh -c \
    'tshark -r "F" -n -T fields -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
        -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e ip.id -e tcp.seq_raw \
        -e tcp.ack_raw -e tcp.flags -e tcp.len -e tcp.options.timestamp.tsval -e udp.length \
        -e dns.id > /dev/null'
t1=$(now)

# pktmatch: three runs on the page-cached files (read again first: the
# two tshark processes of the baseline may have pushed them out), the median
# wall time counts; the heap high-water mark is the highest of the three.
cat $files > /dev/null
walls=""
for run in 1 2 3; do
    r0=$(now)
    PKTMATCH_TIMINGS=1 /usr/bin/time -f 'maxrss_kb %M' "$pktmatch" index -q --force -o "$work/session.pktmatch" $files \
        2> "$work/timings-$run.txt"
    r1=$(now)
    walls="$walls $(echo "$r1 - $r0" | bc)"
done
median=$(printf '%s\n' $walls | sort -n | sed -n 2p)
best=$(for run in 1 2 3; do
    printf '%s %s\n' "$(sed -n 's/.*heap peak *\([0-9.]*\) MiB.*done/\1/p' "$work/timings-$run.txt")" $run
done | sort -n | tail -1 | cut -d' ' -f2)
cp "$work/timings-$best.txt" "$work/timings.txt"
t2=$(echo "$t1 + $median" | bc)

packets=$(for f in $files; do capinfos -c -M "$f" | sed -n 's/^Number of packets: *//p'; done | paste -sd+ | bc)
heap_mib=$(sed -n 's/.*heap peak *\([0-9.]*\) MiB.*done/\1/p' "$work/timings.txt")
rss_kb=$(sed -n 's/^maxrss_kb //p' "$work/timings.txt")
python3 - "$packets" "$t0" "$t1" "$t2" "$heap_mib" "$rss_kb" <<'EOF'
import sys
n, t0, t1, t2, heap, rss = int(sys.argv[1]), *map(float, sys.argv[2:5]), float(sys.argv[5]), int(sys.argv[6])
base, ours = t1 - t0, t2 - t1
print(f"packets                     {n}")
print(f"tshark -T fields (2 procs)  {base:8.2f} s   {n / base:12,.0f} packets/s")
print(f"pktmatch index (median of 3) {ours:7.2f} s   {n / ours:12,.0f} packets/s")
print(f"speed-up                    {base / ours:8.1f} x   (bar: >= 20 x, >= 1,000,000 packets/s)")
print(f"heap high-water mark        {heap:8.1f} MiB = {heap * 1048576 / n:.1f} bytes/packet   (bar: <= 64 + constant)")
print(f"max resident set            {rss / 1024:8.1f} MiB (includes the memory-mapped inputs)")
EOF
echo "  wall times of the three runs:$walls s; stages of the run with the highest heap mark:"
grep '^timing' "$work/timings.txt" | sed 's/^/  /'
