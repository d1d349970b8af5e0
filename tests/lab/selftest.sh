#!/bin/bash
# Self-test of the lab scorer on a finished lab run (no root needed):
#   1. the truth itself, in the indexer's export format, must score
#      precision = recall = 1.0 on every point pair, with zero clock error;
#   2. a degraded copy (5 % of rows dropped, 1 % wrong rows added, clocks off
#      by 250 us and 3 ppm) must score below 1.0 and show the clock errors.
#
#   tests/lab/selftest.sh OUTDIR
set -euo pipefail
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
T=$OUT/selftest
rm -rf "$T"; mkdir -p "$T"

timeout 300 "$PY" "$LAB/truth_matches.py" "$OUT" --clocks-out "$T/clocks-exact.json" >"$T/matches-exact.csv"
timeout 300 "$PY" "$LAB/score.py" "$OUT" "$T/matches-exact.csv" "$T/clocks-exact.json" \
    --json "$T/score-exact.json" | tee "$T/score-exact.txt"
timeout 300 "$PY" "$LAB/truth_matches.py" "$OUT" --degrade --clocks-out "$T/clocks-degraded.json" \
    >"$T/matches-degraded.csv"
timeout 300 "$PY" "$LAB/score.py" "$OUT" "$T/matches-degraded.csv" "$T/clocks-degraded.json" \
    --json "$T/score-degraded.json" | tee "$T/score-degraded.txt"

"$PY" - "$T/score-exact.json" "$T/score-degraded.json" <<'EOF'
import json, sys
exact, degr = (json.load(open(p)) for p in sys.argv[1:3])
fails = []
for hop, s in exact["per_point_pair"].items():
    if s["truth"] and (s["precision"] != 1.0 or s["recall"] != 1.0):
        fails.append("exact: %s precision %s recall %s" % (hop, s["precision"], s["recall"]))
for c in exact["clocks"]:
    if c["max_offset_error_ns"] > 2 or abs(c["drift_error_ppm"]) > 1e-6:
        fails.append("exact: clock %s-%s error %s ns %s ppm" % (c["a"], c["b"], c["max_offset_error_ns"], c["drift_error_ppm"]))
for st in exact.get("clock_steps", []):
    if st.get("spurious") or not st["found"] or st["size_error_ns"] or st["instant_error_ns"] \
            or not st["bracketed"]:
        fails.append("exact: clock step %s-%s scored %s" % (st["a"], st["b"], st))
if exact["delta_raw_mismatch"]:
    fails.append("exact: %d delta_raw mismatches" % exact["delta_raw_mismatch"])
o = degr["adjacent_overall"]
if not (o["precision"] < 1.0 and o["recall"] < 1.0):
    fails.append("degraded: scorer did not notice (precision %s recall %s)" % (o["precision"], o["recall"]))
if not all(c["max_offset_error_ns"] >= 250_000 and abs(c["drift_error_ppm"] - 3.0) < 1e-6 for c in degr["clocks"]):
    fails.append("degraded: clock errors not reported")
n_ok = 0 if fails else 1
print("selftest: exact: all point pairs precision = recall = 1.0; degraded: precision %.4f recall %.4f"
      % (o["precision"], o["recall"]) if not fails else "selftest: " + "; ".join(fails))
print("%d passed, %d failed" % (n_ok, 1 - n_ok))
sys.exit(0 if not fails else 1)
EOF
