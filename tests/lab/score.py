#!/usr/bin/env python3
"""Scores a matcher's output against a lab run's truth (docs/lab.md).

    tests/lab/score.py OUTDIR MATCHES.csv [CLOCKS.json] [--json REPORT.json]
                       [--min-precision P] [--min-recall R]

MATCHES.csv: the indexer's export format, header exactly
    point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence
points by label (client, wan, dc, lbserver), frames 1-based as Wireshark
numbers them in OUTDIR/points/<label>.pcapng.  A row may name its points in
either order.  CLOCKS.json (optional): `info --json` style
    {"pairs": [{"a": .., "b": .., "offset_ns": .., "drift_ppm": .., "reference_ns": ..}, ...]}
meaning t_b = t_a + offset_ns + (t_a - reference_ns) * drift_ppm * 1e-6 with
t_a, t_b the two points' clock readings (reference_ns on a's clock; default:
the first packet time stamp of a's file).

A predicted pair is correct if the truth lists it (certain pair, or one of the
candidates of an ambiguous group).  Precision = correct / predicted; recall =
predicted certain pairs / certain truth pairs; both per point pair (hop), per
predicted method (precision) and per truth kind (recall).  Exit status 0;
1 when --min-precision / --min-recall are given and an adjacent hop misses them;
2 on unusable input.
"""

import argparse
import collections
import csv
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402

HEADER = ["point_a", "frame_a", "point_b", "frame_b", "delta_raw_ns", "delta_corrected_ns", "method", "confidence"]


def point_file(outdir, point):
    """OUTDIR/points/<point>.pcapng (a lab run) or OUTDIR/<point>.pcapng (examples/)."""
    for f in (os.path.join(outdir, "points", point + ".pcapng"), os.path.join(outdir, point + ".pcapng")):
        if os.path.exists(f):
            return f
    fail("no capture file for point %s in %s" % (point, outdir))


def fail(msg):
    print("score: " + msg, file=sys.stderr)
    sys.exit(2)


def pct(x):
    return "  -   " if x is None else "%6.4f" % x


def main():
    ap = argparse.ArgumentParser(description="score matcher output against the lab truth")
    ap.add_argument("outdir")
    ap.add_argument("matches")
    ap.add_argument("clocks", nargs="?")
    ap.add_argument("--json", help="also write the scores as JSON")
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--min-recall", type=float)
    args = ap.parse_args()

    truth = os.path.join(args.outdir, "truth")
    pinfo = json.load(open(os.path.join(truth, "points.json")))
    order = {p: i for i, p in enumerate(pinfo["order"])}
    nframes = {p: pinfo["points"][p]["frames"] for p in pinfo["order"]}

    certain, candidates = {}, set()
    kind_of, hop_type = {}, {}
    with open(os.path.join(truth, "packets.csv")) as f:
        for r in csv.DictReader(f):
            k = (r["point_a"], int(r["frame_a"]), r["point_b"], int(r["frame_b"]))
            hop_type[(r["point_a"], r["point_b"])] = r["hop"]
            if r["certain"] == "1":
                certain[k] = int(r["delta_true_ns"])
                kind_of[k] = r["kind"]
            else:
                candidates.add(k)

    # ---- predictions
    pred = {}
    bad = collections.Counter()
    with open(args.matches, newline="") as f:
        rd = csv.reader(f)
        head = next(rd, None)
        if head != HEADER:
            fail("header must be exactly: " + ",".join(HEADER) + " (got %r)" % (head,))
        for line in rd:
            if not line:
                continue
            if len(line) != len(HEADER):
                bad["wrong number of columns"] += 1
                continue
            a, fa, b, fb, draw, dcor, method, conf = line
            try:
                fa, fb = int(fa), int(fb)
            except ValueError:
                bad["frame not an integer"] += 1
                continue
            if a not in order or b not in order or a == b:
                bad["unknown or equal point labels"] += 1
                continue
            if not (1 <= fa <= nframes[a] and 1 <= fb <= nframes[b]):
                bad["frame out of range"] += 1
                continue

            def num(x):
                try:
                    return int(float(x))
                except ValueError:
                    return None
            draw, dcor = num(draw), num(dcor)
            if order[a] > order[b]:
                a, fa, b, fb = b, fb, a, fa
                draw = -draw if draw is not None else None
                dcor = -dcor if dcor is not None else None
            k = (a, fa, b, fb)
            if k in pred:
                bad["duplicate rows (counted once)"] += 1
                continue
            pred[k] = (draw, dcor, method or "(none)")

    # ---- frame time stamps of the point files (for delta_raw_ns)
    ts = {}
    for p in pinfo["order"]:
        ts[p] = {fr: t for fr, t, _, _, _ in labpcap.read_capture(point_file(args.outdir, p))}

    # ---- scores per point pair, method, kind
    pairs_seen = sorted({(k[0], k[2]) for k in list(certain) + list(pred)}, key=lambda h: (order[h[0]], order[h[1]]))
    per_hop = {}
    for h in pairs_seen:
        t_c = {k for k in certain if (k[0], k[2]) == h}
        p_k = {k for k in pred if (k[0], k[2]) == h}
        correct = {k for k in p_k if k in certain or k in candidates}
        found = p_k & t_c
        per_hop["%s-%s" % h] = {
            "type": hop_type.get(h, "adjacent" if order[h[1]] - order[h[0]] == 1 else "via"),
            "truth": len(t_c), "predicted": len(p_k), "correct": len(correct), "wrong": len(p_k) - len(correct),
            "missed": len(t_c - found),
            "precision": len(correct) / len(p_k) if p_k else None,
            "recall": len(found) / len(t_c) if t_c else None}
    per_method = collections.defaultdict(lambda: collections.Counter())
    for k, (_, _, m) in pred.items():
        per_method[m]["predicted"] += 1
        if k in certain or k in candidates:
            per_method[m]["correct"] += 1
    per_kind = collections.defaultdict(lambda: collections.Counter())
    for k, kind in kind_of.items():
        hop = "adjacent" if order[k[2]] - order[k[0]] == 1 else "via"
        per_kind[(kind, hop)]["truth"] += 1
        if k in pred:
            per_kind[(kind, hop)]["found"] += 1

    # ---- deltas
    err_cor, raw_mismatch, raw_checked = [], 0, 0
    for k, (draw, dcor, _) in pred.items():
        if k in certain and dcor is not None:
            err_cor.append(abs(dcor - certain[k]))
        if draw is not None:
            raw_checked += 1
            if abs(draw - (ts[k[2]][k[3]] - ts[k[0]][k[1]])) > 1000:
                raw_mismatch += 1

    # ---- clocks
    clock_scores = []
    if args.clocks:
        cj = json.load(open(args.clocks))
        plist = cj.get("pairs", cj) if isinstance(cj, dict) else cj
        tc = json.load(open(os.path.join(truth, "clocks.json")))
        pts = tc["points"]
        raw_first_last = {}      # true first/last instants of each capture (clock model inverted)
        for p in pinfo["order"]:
            o, d, r = pts[p]["offset_ns"], pts[p]["drift_ppm"], pts[p]["reference_ns"]
            times = [t - o - (t - o - r) * d * 1e-6 for t in ts[p].values()]
            raw_first_last[p] = (int(min(times)), int(max(times))) if times else (0, 0)
        for q in plist:
            a, b = q.get("a"), q.get("b")
            if a not in order or b not in order or a == b:
                bad["clock pair with unknown points"] += 1
                continue
            oa, da, ob, db = pts[a]["offset_ns"], pts[a]["drift_ppm"], pts[b]["offset_ns"], pts[b]["drift_ppm"]
            t0 = pts[a]["reference_ns"]
            first_a = min(ts[a].values())
            ref = q.get("reference_ns", first_a)
            errs = []
            lo = max(raw_first_last[a][0], raw_first_last[b][0])
            hi = min(raw_first_last[a][1], raw_first_last[b][1])
            if hi < lo:
                lo, hi = raw_first_last[a]
            for t in (lo, (lo + hi) // 2, hi):            # true instants within both captures
                dt = t - t0                                 # exact integers before any float
                ta_rel = dt + oa + dt * da * 1e-6           # a's reading minus T0
                tb_rel = dt + ob + dt * db * 1e-6
                predicted = q["offset_ns"] + (ta_rel - (ref - t0)) * q.get("drift_ppm", 0.0) * 1e-6
                errs.append(abs(predicted - (tb_rel - ta_rel)))
            true_drift = (db - da) / (1 + da * 1e-6)
            clock_scores.append({"a": a, "b": b, "max_offset_error_ns": round(max(errs)),
                                 "drift_error_ppm": round(q.get("drift_ppm", 0.0) - true_drift, 6),
                                 "true_offset_ns": ob - oa, "true_drift_ppm": true_drift})

    # ---- report
    out = sys.stdout
    print("score: %s vs %s: %d predicted rows, %d certain truth pairs (%d ambiguous candidates)" % (
        args.matches, args.outdir, len(pred), len(certain), len(candidates)), file=out)
    if bad:
        print("score: rejected/merged rows: %s" % dict(bad), file=out)
    print("\n%-18s %-8s %8s %9s %8s %7s %7s %9s %8s" % ("point pair", "type", "truth", "predicted", "correct",
                                                     "wrong", "missed", "precision", "recall"), file=out)
    for h, s in per_hop.items():
        print("%-18s %-8s %8d %9d %8d %7d %7d %9s %8s" % (h, s["type"], s["truth"], s["predicted"], s["correct"],
                                                         s["wrong"], s["missed"], pct(s["precision"]),
                                                         pct(s["recall"])), file=out)
    adj = [s for s in per_hop.values() if s["type"] == "adjacent"]
    tp = sum(s["correct"] for s in adj)
    npred = sum(s["predicted"] for s in adj)
    ntruth = sum(s["truth"] for s in adj)
    found_adj = sum(s["truth"] - s["missed"] for s in adj)
    overall = {"precision": tp / npred if npred else None, "recall": found_adj / ntruth if ntruth else None}
    print("%-18s %-8s %8d %9d %8d %7d %7d %9s %8s" % ("ALL adjacent", "", ntruth, npred, tp, npred - tp,
                                                     ntruth - found_adj, pct(overall["precision"]),
                                                     pct(overall["recall"])), file=out)
    print("\n%-22s %9s %8s %9s" % ("method (predicted)", "predicted", "correct", "precision"), file=out)
    for m, c in sorted(per_method.items()):
        print("%-22s %9d %8d %9s" % (m, c["predicted"], c["correct"], pct(c["correct"] / c["predicted"])), file=out)
    print("\n%-22s %-8s %8s %8s %8s" % ("truth kind", "hop", "truth", "found", "recall"), file=out)
    for (kind, hop), c in sorted(per_kind.items()):
        print("%-22s %-8s %8d %8d %8s" % (kind, hop, c["truth"], c["found"], pct(c["found"] / c["truth"])), file=out)
    deltas = {}
    if err_cor:
        err_cor.sort()
        deltas = {"n": len(err_cor), "median_abs_error_ns": statistics.median(err_cor),
                  "p95_abs_error_ns": err_cor[int(0.95 * (len(err_cor) - 1))], "max_abs_error_ns": err_cor[-1]}
        print("\ndelta_corrected_ns vs true delta (correct rows): median %d ns, p95 %d ns, max %d ns" % (
            deltas["median_abs_error_ns"], deltas["p95_abs_error_ns"], deltas["max_abs_error_ns"]), file=out)
    print("delta_raw_ns consistent with the point files' time stamps: %d of %d rows" % (
        raw_checked - raw_mismatch, raw_checked), file=out)
    if clock_scores:
        print("\n%-18s %16s %16s %20s %16s" % ("clock pair", "true offset ns", "true drift ppm",
                                               "max offset err ns", "drift err ppm"), file=out)
        for c in clock_scores:
            print("%-18s %16d %16.4f %20d %16.4f" % ("%s-%s" % (c["a"], c["b"]), c["true_offset_ns"],
                                                      c["true_drift_ppm"], c["max_offset_error_ns"],
                                                      c["drift_error_ppm"]), file=out)
    report = {"per_point_pair": per_hop, "adjacent_overall": overall,
              "per_method": {m: dict(c) for m, c in per_method.items()},
              "per_kind": {"%s/%s" % k: dict(c) for k, c in per_kind.items()},
              "delta_corrected": deltas, "delta_raw_checked": raw_checked, "delta_raw_mismatch": raw_mismatch,
              "clocks": clock_scores, "rejected": dict(bad)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    rc = 0
    for s in adj:
        if args.min_precision is not None and (s["precision"] or 0) < args.min_precision:
            rc = 1
        if args.min_recall is not None and (s["recall"] or 0) < args.min_recall:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
