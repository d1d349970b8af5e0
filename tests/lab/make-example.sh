#!/bin/bash
# Makes the committed example session (examples/session-small/) from one small
# lab run: the four point captures (with their clock errors), truth/, the
# component logs the truth was built from, run.json.  Root (runs the lab).
#
#   tests/lab/make-example.sh [DEST] [run.sh options]
#       DEST default: examples/session-small; options default:
#       --clients 2 --requests 6 --max-size 64k
set -euo pipefail
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
DEST=${1:-$REPO/examples/session-small}
[ $# -gt 0 ] && shift
OPTS=("$@")
[ ${#OPTS[@]} -gt 0 ] || OPTS=(--clients 2 --requests 6 --max-size 64k)
TMP=$(mktemp -d /tmp/mpl-example.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$LAB/run.sh" "$TMP/run" "${OPTS[@]}"
rm -rf "$DEST"
mkdir -p "$DEST/logs"
cp "$TMP"/run/points/*.pcapng "$DEST/"
cp -r "$TMP/run/truth" "$DEST/truth"
cp "$TMP/run/run.json" "$DEST/"
for f in client.jsonl conntrack-wanfw.log conntrack-dcfw.log haproxy.log nginx-access.log dnsmasq.log \
         haproxy.cfg nginx.conf nft-wanfw.txt nft-dcfw.txt offloads.txt capclock.jsonl tcpdump-stats.txt; do
    [ -f "$TMP/run/logs/$f" ] && cp "$TMP/run/logs/$f" "$DEST/logs/"
done
# capclock's record names temporary input files: keep the base names only.
sed -i -E 's#"input": "[^"]*/([^/"]+)"#"input": "\1"#; s#"output": "[^"]*/([^/"]+)"#"output": "\1"#' \
    "$DEST/logs/capclock.jsonl"
# The point files sit at the top of the example directory.
/usr/bin/python3 - "$DEST/truth/points.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
for name, v in p["points"].items():
    v["file"] = name + ".pcapng"
    v.pop("raw", None)
json.dump(p, open(sys.argv[1], "w"), indent=1)
EOF
sed -i 's#"file": "points/#"file": "#' "$DEST/truth/clocks.json"
# Check: the truth scores itself perfectly from the example directory alone.
"$LAB/truth_matches.py" "$DEST" --clocks-out "$TMP/clocks.json" >"$TMP/m.csv"
"$LAB/score.py" "$DEST" "$TMP/m.csv" "$TMP/clocks.json" --min-precision 1 --min-recall 1 >/dev/null
du -sh "$DEST" "$DEST"/*.pcapng
