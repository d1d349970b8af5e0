#!/bin/bash
# One lab run of each variant docs/matching.md's table lists, each indexed
# with its points given out of order (dc, lbserver, client, wan: the path
# order is the matcher's to find), exported and scored by tests/lab/score.py
# (matches, clocks, and the missing packets by kind); from the first run
# also the variants tests/lab/derive.py makes (capture drops at wan, ERSPAN
# III at dc, VXLAN at wan, 1 ms clocks).  Root: the lab needs network
# namespaces; a few minutes.  Takes the lab lock itself (one lab at a time on
# the machine).  Prints each run's score file.
#
#   tools/lab-variants.sh OUTDIR [NAME...]      (default: every variant)
set -euo pipefail
out=$(realpath -m "${1:?usage: tools/lab-variants.sh OUTDIR [NAME...]}")
shift
cd "$(dirname "$0")/.."
cargo build -q --release -p pktmatch -p capclock
pm=$PWD/target/release/pktmatch

score() {  # DIR: index shuffled, export, score
    local d=$1
    (cd "$d/points" && "$pm" index --force -o "$d/session.pktmatch" dc.pcapng lbserver.pcapng client.pcapng wan.pcapng > "$d/index.log" 2>&1)
    "$pm" export "$d/session.pktmatch" --force --csv "$d/matches.csv" --lost-csv "$d/lost.csv" >> "$d/index.log" 2>&1
    "$pm" info --json "$d/session.pktmatch" > "$d/info.json"
    python3 tests/lab/score.py "$d" "$d/matches.csv" "$d/info.json" --lost "$d/lost.csv" \
        --json "$d/score.json" > "$d/score.txt" 2>&1 || true
    echo "$(basename "$d"): $d/score.txt"
}

LIST='pause400|--pause-ms 400 --ping 5
pause150|--pause-ms 150
loss5|--loss 5 --pause-ms 150
step400|--clock-step --pause-ms 400
default|
synproxy|--synproxy
ipv6|--ipv6
udp-only|--udp-only'
first=""
while IFS='|' read -r name opts; do
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
    d=$out/$name
    mkdir -p "$out"
    # shellcheck disable=SC2086 # opts is a list of words
    if ! flock /tmp/pktmatch-lab.lock sh tests/lab/ci.sh "$d" target/release/capclock $opts > "$d.out" 2>&1 ||
        [ ! -f "$d/truth/packets.csv" ]; then
        echo "$name: no lab run ($(tail -1 "$d.out"))"
        continue
    fi
    score "$d"
    [ -n "$first" ] || first=$d
done <<< "$LIST"
[ -n "$first" ] || exit 0
for v in "drop|--drop wan:3" "erspan|--encap dc:erspan3" "vxlan|--encap wan:vxlan" "ms|--resolution-ns 1000000"; do
    name=${v%%|*} opts=${v#*|}
    # shellcheck disable=SC2086
    python3 tests/lab/derive.py "$first" "$out/$(basename "$first")-$name" $opts > /dev/null
    score "$out/$(basename "$first")-$name"
done
