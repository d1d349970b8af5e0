#!/bin/sh
# The one-machine speed and memory bars of `pktmatch index` (issue 19, item
# 5), every ratio from baselines run in this same script, round after round
# on the same page-cached files:
#
#   * snaplen-256 session (examples/session-small × SNAP_COPIES by
#     bench/replicate-session.py --snaplen 256, ≈ 2 M frames): baseline
#     `tcpdump -r F -w /dev/null`, two tcpdump processes at a time (the
#     machine's two cores; tcpdump is single-threaded); bar: pktmatch index
#     >= 1/3 of tcpdump's rate (ratio = tcpdump's time / pktmatch's);
#   * full-size session (× FULL_COPIES, ≈ 4.1 M frames, ≈ 4 GB, the files of
#     bench/index.sh): baseline `cat FILES > /dev/null` (one process, the
#     files in turn) and, for reference, two cat processes at a time; bar:
#     pktmatch index >= 1/3 of cat's throughput;
#   * heap high-water mark per frame, from the counting allocator
#     (PKTMATCH_TIMINGS=1; the resident set would count the memory-mapped
#     inputs); bar: <= 48 bytes.
#
# Each round runs all four timings back to back, so a ratio compares
# figures taken within seconds of each other (the machine is shared); the
# report gives every round's ratio and the minimum and median.  Run it under
# `flock /tmp/pktmatch-lab.lock` (the lab must not run meanwhile).
#
#   bench/index-baselines.sh [ROUNDS] [LABDIR] [FULL_COPIES] [SNAP_COPIES]
#
# PKTMATCH_CACHE=best|small|keep: the page cache's state for every run
# (below; default best).
#
# PKTMATCH_BEFORE=BINARY: every round also times that build (e.g. the one
# before a change) on both sessions and takes its heap mark, and its
# indexes are compared with this build's by bench/same-index.py at the end.
#
# PKTMATCH_NULL=1: every round also times this build writing its index to
# /dev/null (a character device: written into, no file, no sync), on both
# sessions: the same work without the disk.  The index written to a file is
# synced before it is put in place (docs/cli.md "Outputs"); on a slow disk
# that wait is part of the figure above (docs/matching.md, 2026-12-07).
#
# Needs python3, tcpdump, capinfos; builds pktmatch (release).  The index of
# the last round of each session is kept (session.pktmatch) to compare
# before and after a change with bench/same-index.py.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
lab=${2:-$here/examples/session-small}
full_copies=${3:-3400}
snap_copies=${4:-1700}
name=$(basename "$lab")
full=$here/target/bench/index-$name-$full_copies
snap=$here/target/bench/snap256-$name-$snap_copies
# PKTMATCH_BIN: another build to measure (e.g. the one before a change).
pktmatch=${PKTMATCH_BIN:-$here/target/release/pktmatch}

(cd "$here" && cargo build --release -q -p pktmatch)
if [ ! -f "$full/lbserver.pcap" ]; then
    echo "making the full-size session: $name × $full_copies (once; kept in $full)"
    python3 "$here/bench/replicate-session.py" "$lab" "$full" "$full_copies"
fi
if [ ! -f "$snap/lbserver.pcap" ]; then
    echo "making the snaplen-256 session: $name × $snap_copies (once; kept in $snap)"
    python3 "$here/bench/replicate-session.py" --snaplen 256 "$lab" "$snap" "$snap_copies"
fi
points="client wan dc lbserver"
full_files=$(for p in $points; do printf '%s ' "$full/$p.pcap"; done)
snap_files=$(for p in $points; do printf '%s ' "$snap/$p.pcap"; done)

frames() {
    for f in "$@"; do capinfos -c -M "$f" | sed -n 's/^Number of packets: *//p'; done | paste -sd+ | bc
}
now() { date +%s.%N; }
# seconds a command takes
took() {
    t0=$(now)
    "$@"
    t1=$(now)
    echo "$t1 - $t0" | bc
}
tcpdump2() { printf '%s\n' "$@" | xargs -P 2 -I F tcpdump -r F -w /dev/null 2> /dev/null; }
cat1() { cat "$@" > /dev/null; }
cat2() { printf '%s\n' "$@" | xargs -P 2 -I F sh -c 'cat "F" > /dev/null'; }
# pktmatch index DIR FILES...: its time stamps and heap mark in DIR/timings.txt
index() {
    dir=$1
    shift
    PKTMATCH_TIMINGS=1 "$pktmatch" index -q --force -o "$dir/session.pktmatch" "$@" 2> "$dir/timings.txt"
}
null=${PKTMATCH_NULL:-}
# index_null FILES...: the index to /dev/null.
index_null() { "$pktmatch" index -q -o /dev/null "$@"; }
before=${PKTMATCH_BEFORE:-}
index_before() {
    dir=$1
    shift
    PKTMATCH_TIMINGS=1 "$before" index -q --force -o "$dir/session-before.pktmatch" "$@" \
        2> "$dir/timings-before.txt"
}
# heap_mib DIR [before]: the heap mark of the last run (of the before build).
heap_mib() { sed -n 's/.*heap peak *\([0-9.]*\) MiB.*done/\1/p' "$1/timings${2:+-$2}.txt"; }

snap_frames=$(frames $snap_files)
full_frames=$(frames $full_files)
full_bytes=$(cat $full_files | wc -c)
snap_bytes=$(cat $snap_files | wc -c)
echo "snaplen-256 session: $snap_frames frames, $snap_bytes bytes; full-size: $full_frames frames, $full_bytes bytes"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
# The disk the index goes to: 256 MiB written and synced (the index is
# synced before it is put in place).
probe=$here/target/bench/disk-probe.tmp
echo "disk: $(dd if=/dev/zero of="$probe" bs=1M count=256 conv=fsync 2>&1 | tail -1)"
rm -f "$probe"
log=$here/target/bench/index-baselines.txt
: > "$log"
# The page cache in one known state for every run (PKTMATCH_CACHE):
#   best (default): the session's files dropped from it and read back once,
#     each in one sequential pass: held in 2 MiB folios (FileHugePages in
#     /proc/meminfo), mapping a 1 GB file takes 1-2 ms.  The best case for
#     both sides of each ratio, pktmatch's more than cat's (cat 0.45-0.49 s
#     against 0.60 s; pktmatch maps the files, cat copies them).
#   small: dropped and read back with readahead off (FADV_RANDOM): small
#     folios, the state of a capture a tool has just written in small
#     writes — mapping takes 45-150 ms a file and 16-44 ms to unmap
#     (docs/matching.md, branch map4).
#   keep: as it is (some pages may have been evicted by other work, the
#     rest in whatever folios the replicating script's writes left).
cache=${PKTMATCH_CACHE:-best}
case $cache in
best | small)
    python3 - "$cache" $snap_files $full_files <<'PY'
import os, sys
for p in sys.argv[2:]:
    fd = os.open(p, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    if sys.argv[1] == "small":
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        while os.read(fd, 1 << 20):
            pass
    os.close(fd)
PY
    [ "$cache" = small ] || cat $snap_files $full_files > /dev/null
    ;;
keep) ;;
*)
    echo "PKTMATCH_CACHE=$cache: give best, small or keep" >&2
    exit 2
    ;;
esac
echo "page cache: $cache"
for r in $(seq "$rounds"); do
    cat $snap_files $full_files > /dev/null   # page cache
    td=$(took tcpdump2 $snap_files)
    is=$(took index "$snap" $snap_files)
    hs=$(heap_mib "$snap")
    cp "$snap/timings.txt" "$snap/timings-$r.txt"
    c1=$(took cat1 $full_files)
    c2=$(took cat2 $full_files)
    if_=$(took index "$full" $full_files)
    hf=$(heap_mib "$full")
    cp "$full/timings.txt" "$full/timings-$r.txt"
    bs=0
    bf=0
    hbs=0
    hbf=0
    if [ -n "$before" ]; then
        bs=$(took index_before "$snap" $snap_files)
        hbs=$(heap_mib "$snap" before)
        bf=$(took index_before "$full" $full_files)
        hbf=$(heap_mib "$full" before)
    fi
    ns=0
    nf=0
    if [ -n "$null" ]; then
        ns=$(took index_null $snap_files)
        nf=$(took index_null $full_files)
    fi
    echo "$r $td $is $hs $c1 $c2 $if_ $hf $bs $bf ${hbs:-0} ${hbf:-0} $ns $nf" >> "$log"
    echo "round $r: tcpdump×2 $td s, index(snap) $is s; cat $c1 s, cat×2 $c2 s, index(full) $if_ s; heap $hs / $hf MiB; before: $bs / $bf s, heap $hbs / $hbf MiB"
done
python3 - "$log" "$snap_frames" "$full_frames" "$full_bytes" <<'PY'
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in open(sys.argv[1])]
sf, ff, fb = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
col = lambda k: [r[k] for r in rows]
td, is_, hs, c1, c2, if_, hf, bs, bf, hbs, hbf, ns, nf = (col(k) for k in range(13))
def line(what, xs, unit, bar=None):
    s = f"{what:38} min {min(xs):8.3f}  median {statistics.median(xs):8.3f}  max {max(xs):8.3f} {unit}"
    print(s + (f"   (bar {bar})" if bar else ""))
print(f"rounds {len(rows)}")
line("tcpdump -r -w /dev/null, 2 procs", td, "s")
line("pktmatch index, snaplen 256", is_, "s")
print(f"{'':38} median {sf / statistics.median(is_) / 1e6:6.2f} M frames/s; tcpdump {sf / statistics.median(td) / 1e6:6.2f} M frames/s")
line("ratio to tcpdump (per round)", [a / b for a, b in zip(td, is_)], "x", ">= 0.333")
line("cat FILES > /dev/null", c1, "s")
line("cat, 2 procs", c2, "s")
line("pktmatch index, full size", if_, "s")
print(f"{'':38} median {fb / statistics.median(if_) / 1e9:6.2f} GB/s, {ff / statistics.median(if_) / 1e6:6.2f} M frames/s; cat {fb / statistics.median(c1) / 1e9:6.2f} GB/s")
line("ratio to cat (per round)", [a / b for a, b in zip(c1, if_)], "x", ">= 0.333")
line("ratio to cat, 2 procs (per round)", [a / b for a, b in zip(c2, if_)], "x")
if max(ns) > 0:
    line("index -o /dev/null, snaplen 256", ns, "s")
    line("  its ratio to tcpdump (per round)", [a / b for a, b in zip(td, ns)], "x")
    line("index -o /dev/null, full size", nf, "s")
    line("  its ratio to cat (per round)", [a / b for a, b in zip(c1, nf)], "x")
if max(bs) > 0:
    line("before: index, snaplen 256", bs, "s")
    line("before: ratio to tcpdump (per round)", [a / b for a, b in zip(td, bs)], "x")
    line("before: index, full size", bf, "s")
    line("before: ratio to cat (per round)", [a / b for a, b in zip(c1, bf)], "x")
    line("speed-up, snaplen 256 (per round)", [a / b for a, b in zip(bs, is_)], "x")
    line("speed-up, full size (per round)", [a / b for a, b in zip(bf, if_)], "x")
line("heap per frame, snaplen 256", [h * 1048576 / sf for h in hs], "B", "<= 48")
line("heap per frame, full size", [h * 1048576 / ff for h in hf], "B", "<= 48")
if min(hbs + hbf) > 0:
    line("before: heap per frame, snaplen 256", [h * 1048576 / sf for h in hbs], "B")
    line("before: heap per frame, full size", [h * 1048576 / ff for h in hbf], "B")
PY
if [ -n "$before" ]; then
    python3 "$here/bench/same-index.py" "$snap/session-before.pktmatch" "$snap/session.pktmatch"
    python3 "$here/bench/same-index.py" "$full/session-before.pktmatch" "$full/session.pktmatch"
fi
echo "stages of the last round (snaplen 256):"
grep '^timing' "$snap/timings.txt" | sed 's/^/  /'
echo "stages of the last round (full size):"
grep '^timing' "$full/timings.txt" | sed 's/^/  /'
