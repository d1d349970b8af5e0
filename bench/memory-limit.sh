#!/bin/sh
# `pktmatch index --keys --memory-limit` (issue 19 item 4), all figures from
# one run: key tables of the snaplen-256 bench session (examples/session-small
# × COPIES by bench/replicate-session.py --snaplen 256; 1700 ≈ 2 M frames)
# indexed within each LIMIT; per limit the whole process's heap high-water
# mark (counting allocator, PKTMATCH_TIMINGS=1: it counts DataFusion's
# allocations and the matcher's), DataFusion's spill files and bytes, and
# whether the index is the one `--engine threads` makes from the captures
# (bench/same-index.py).  A limit the point tables do not fit in is refused
# before any work: its message is printed.  The same limits from the captures
# (`pktmatch index --memory-limit FILE...`, embedded engine): heap peak and
# index, or the message of a limit refused (before reading, on an estimate
# from the files' starts, or once read, before matching).
#
#   bench/memory-limit.sh [COPIES] [LIMIT...]     (default 1700 96M 128M 144M 160M)
#
# Needs python3; builds pktmatch with the datafusion feature (release).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
copies=${1:-1700}
[ $# -gt 0 ] && shift
limits=${*:-96M 128M 144M 160M}
lab=$here/examples/session-small
snap=$here/target/bench/snap256-session-small-$copies
work=$here/target/bench/memory-limit-$copies
pktmatch=${CARGO_TARGET_DIR:-$here/target}/release/pktmatch

(cd "$here" && cargo build --release -q -p pktmatch --features datafusion)
if [ ! -f "$snap/lbserver.pcap" ]; then
    echo "making the session: session-small × $copies, snaplen 256 (once; kept in $snap)"
    python3 "$here/bench/replicate-session.py" --snaplen 256 "$lab" "$snap" "$copies" > /dev/null
fi
mkdir -p "$work"
files="$snap/client.pcap $snap/wan.pcap $snap/dc.pcap $snap/lbserver.pcap"
"$pktmatch" keys -q --force -o "$work/keys" $files
"$pktmatch" index -q --force --engine threads -o "$work/threads.pktmatch" $files
echo "key tables: $(du -sb "$work/keys" | cut -f1) bytes of Parquet"
printf '| limit | heap peak | spill files | spilled bytes | same index | from the captures: heap peak, same index |\n|---|---|---|---|---|---|\n'
# captures LIMIT: the index from the captures within LIMIT, as a table cell.
captures() {
    if ! PKTMATCH_TIMINGS=1 "$pktmatch" index -q --force --memory-limit "$1" \
            -o "$work/captures.pktmatch" $files 2> "$work/timings-captures.txt"; then
        printf 'refused: %s' "$(tail -1 "$work/timings-captures.txt")"
        return
    fi
    printf '%s, %s' \
        "$(sed -n 's/.*heap peak *\([0-9.]*\) MiB  done/\1 MiB/p' "$work/timings-captures.txt")" \
        "$(python3 "$here/bench/same-index.py" "$work/threads.pktmatch" "$work/captures.pktmatch" | tail -1)"
}
for limit in $limits; do
    if ! PKTMATCH_TIMINGS=1 "$pktmatch" index -q --force --keys "$work/keys" \
            --memory-limit "$limit" -o "$work/limited.pktmatch" 2> "$work/timings.txt"; then
        printf '| %s | refused: %s | | | | %s |\n' "$limit" "$(tail -1 "$work/timings.txt")" \
            "$(captures "$limit")"
        continue
    fi
    peak=$(sed -n 's/.*heap peak *\([0-9.]*\) MiB  done/\1 MiB/p' "$work/timings.txt")
    spill=$(sed -n 's/.*spilled \([0-9]*\) files, \([0-9]*\) bytes/\1 | \2/p' "$work/timings.txt")
    same=$(python3 "$here/bench/same-index.py" "$work/threads.pktmatch" "$work/limited.pktmatch" | tail -1)
    printf '| %s | %s | %s | %s | %s |\n' "$limit" "$peak" "${spill:-0 | 0}" "$same" "$(captures "$limit")"
done
