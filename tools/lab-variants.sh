#!/bin/bash
# One lab run of each variant docs/matching.md's table lists, each indexed,
# exported and scored by tests/lab/score.py (root: the lab needs network
# namespaces; about 2 minutes).  Prints each run's score file.
#
#   tools/lab-variants.sh OUTDIR
set -euo pipefail
out=$(realpath -m "${1:?usage: tools/lab-variants.sh OUTDIR}")
cd "$(dirname "$0")/.."
cargo build -q --release -p pktmatch -p capclock
pm=$PWD/target/release/pktmatch
while IFS='|' read -r name opts; do
    d=$out/$name
    mkdir -p "$out"
    # shellcheck disable=SC2086 # opts is a list of words
    if ! sh tests/lab/ci.sh "$d" target/release/capclock $opts > "$d.out" 2>&1 ||
        [ ! -f "$d/truth/packets.csv" ]; then
        echo "$name: no lab run ($(tail -1 "$d.out"))"
        continue
    fi
    (cd "$d/points" && "$pm" index client.pcapng wan.pcapng dc.pcapng lbserver.pcapng -o "$d/session.pktmatch" > "$d/index.log" 2>&1)
    "$pm" export "$d/session.pktmatch" --csv "$d/matches.csv" >> "$d/index.log" 2>&1
    "$pm" info --json "$d/session.pktmatch" > "$d/info.json"
    python3 tests/lab/score.py "$d" "$d/matches.csv" "$d/info.json" --json "$d/score.json" > "$d/score.txt" 2>&1
    echo "$name: $d/score.txt"
done <<'LIST'
pause400|--pause-ms 400
pause150|--pause-ms 150
loss5|--loss 5 --pause-ms 150
step400|--clock-step --pause-ms 400
step|--clock-step
default|
synproxy|--synproxy
ipv6|--ipv6
udp-only|--udp-only
LIST
