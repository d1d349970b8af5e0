#!/usr/bin/env python3
"""Writes a lab run's packet-level truth as a matcher would export it.

    tests/lab/truth_matches.py OUTDIR [--degrade] [--seed S] [--clocks-out FILE] > MATCHES.csv

Output: CSV with the header
    point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence
one row per certain pair of OUTDIR/truth/packets.csv (ambiguous candidates are
left out), frames 1-based in file order, delta_raw_ns from the time stamps of
OUTDIR/points/*.pcapng (the files with clock errors), delta_corrected_ns the
true delta, method = the truth kind, confidence 1.

--degrade: drop 5 % of the rows at random and add 1 % wrong rows (a true row
whose frame_b is replaced by another frame of point_b that is no partner of
frame_a), so that tests/lab/score.py can be seen to catch errors.
--clocks-out FILE: also write the true clock relations as an `info --json`
style object {"pairs": [{a, b, offset_ns, drift_ppm, reference_ns}]}
(perturbed by --degrade: +250 us offset, +3 ppm drift on every pair).
"""

import argparse
import csv
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402

HEADER = ["point_a", "frame_a", "point_b", "frame_b", "delta_raw_ns", "delta_corrected_ns", "method", "confidence"]


def main():
    ap = argparse.ArgumentParser(description="write the lab truth in the indexer's export format")
    ap.add_argument("outdir")
    ap.add_argument("--degrade", action="store_true")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--clocks-out")
    args = ap.parse_args()
    truth = os.path.join(args.outdir, "truth")
    ts = {}
    nframes = {}
    for pt in json.load(open(os.path.join(truth, "points.json")))["order"]:
        ts[pt] = {}
        f = os.path.join(args.outdir, "points", pt + ".pcapng")
        if not os.path.exists(f):
            f = os.path.join(args.outdir, pt + ".pcapng")        # examples/ layout
        for frame, t, _, _, _ in labpcap.read_capture(f):
            ts[pt][frame] = t
        nframes[pt] = len(ts[pt])
    rows, partners = [], {}
    with open(os.path.join(truth, "packets.csv")) as f:
        for r in csv.DictReader(f):
            key = (r["point_a"], int(r["frame_a"]), r["point_b"])
            partners.setdefault(key, set()).add(int(r["frame_b"]))
            if r["certain"] != "1":
                continue
            a, fa, b, fb = r["point_a"], int(r["frame_a"]), r["point_b"], int(r["frame_b"])
            rows.append([a, fa, b, fb, ts[b][fb] - ts[a][fa], int(r["delta_true_ns"]), r["kind"], "1.0"])
    rng = random.Random("degrade-" + args.seed)
    if args.degrade:
        n = len(rows)
        keep = [r for r in rows if rng.random() >= 0.05]
        wrong = []
        for r in rng.sample(rows, max(1, n // 100)):
            a, fa, b = r[0], r[1], r[2]
            for _ in range(100):
                fb = rng.randint(1, nframes[b])
                if fb not in partners.get((a, fa, b), ()):
                    break
            wrong.append([a, fa, b, fb, ts[b][fb] - ts[a][fa], ts[b][fb] - ts[a][fa], r[6],
                          "%.2f" % rng.uniform(0.3, 0.9)])
        rows = keep + wrong
        rows.sort(key=lambda r: (r[0], r[2], r[1], r[3]))
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    if args.clocks_out:
        clocks = json.load(open(os.path.join(truth, "clocks.json")))
        pairs = []
        for p in clocks["pairs"]:
            q = {k: p[k] for k in ("a", "b", "offset_ns", "drift_ppm", "reference_ns")}
            # A clock stepped: the segments and steps as `info --json` has them.
            if len(p.get("segments", [])) > 1:
                q["segments"] = [dict(s) for s in p["segments"]]
                q["steps"] = [{"at_ns": s["at_ns"], "before_ns": s.get("before_ns"), "size_ns": s["size_ns"],
                               "a_frame": s["a_frame"], "b_frame": s["b_frame"]} for s in p["steps"]]
            if args.degrade:
                for x in [q] + q.get("segments", []):
                    x["offset_ns"] += 250_000
                    x["drift_ppm"] += 3.0
            pairs.append(q)
        with open(args.clocks_out, "w") as f:
            json.dump({"pairs": pairs}, f, indent=1)


if __name__ == "__main__":
    main()
