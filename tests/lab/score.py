#!/usr/bin/env python3
"""Scores a matcher's output against a lab run's truth (docs/lab.md).

    tests/lab/score.py OUTDIR MATCHES.csv [CLOCKS.json] [--json REPORT.json]
                       [--lost LOST.csv] [--min-precision P] [--min-recall R]

MATCHES.csv: the indexer's export format, header exactly
    point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence
points by label (client, wan, dc, lbserver), frames 1-based as Wireshark
numbers them in OUTDIR/points/<label>.pcapng.  A row may name its points in
either order.  CLOCKS.json (optional): `info --json` style
    {"pairs": [{"a": .., "b": .., "offset_ns": .., "drift_ppm": .., "reference_ns": ..}, ...]}
meaning t_b = t_a + offset_ns + (t_a - reference_ns) * drift_ppm * 1e-6 with
t_a, t_b the two points' clock readings (reference_ns on a's clock; default:
the first packet time stamp of a's file); with `segments` (a clock stepped:
each segment's model from its a_from_frame of a on) and `steps` (at_ns on a's
clock, size_ns), the offset error is scored on each side of every true step
and each true step matched with the nearest step found (instant, size).

LOST.csv (optional): `pktmatch export --lost-csv` (point,frame,not_seen_at,kind).
Every attributable capture drop of truth/capture_drops.csv (a derived variant,
tests/lab/derive.py --drop) must be reported as a capture-drop at its point
(from a frame of the same packet at another point), and every network-loss row
must be a packet the truth lists as unpaired (truth/unpaired.csv): reported
network loss where the truth has none is counted as false.

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
    ap.add_argument("--lost", help="pktmatch export --lost-csv output")
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

    # A truth written before body packets across the proxy were in it
    # (examples/session-small) cannot score them: left out, and said.
    # Through one (a via row whose packet's match at an earlier point than
    # the body match's has it) neither.
    if "http-body" not in kind_of.values():
        body = {k for k, v in pred.items() if v[2] == "proxy-body"}
        ends = collections.defaultdict(set)
        for k in body:
            ends[(k[2], k[3])].add((k[0], k[1]))
        later = collections.defaultdict(set)
        for k in pred:
            later[(k[0], k[1])].add((k[2], k[3]))
        through = {k for k, v in pred.items()
                   if v[2] == "via" and ends[(k[2], k[3])] & later[(k[0], k[1])]}
        for k in body | through:
            del pred[k]
        if body:
            print("note: %d body matches across the proxy not scored (this truth has no http-body pairs)"
                  % len(body | through), file=sys.stderr)

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
    clock_scores, step_scores = [], []
    if args.clocks:
        cj = json.load(open(args.clocks))
        plist = cj.get("pairs", cj) if isinstance(cj, dict) else cj
        tc = json.load(open(os.path.join(truth, "clocks.json")))
        pts = tc["points"]

        def steps_of(p):
            return pts[p].get("steps", [])

        def reading(p, t):
            # Point p's clock at true time t (its steps included).
            o, d, r = pts[p]["offset_ns"], pts[p]["drift_ppm"], pts[p]["reference_ns"]
            # Integers, floats only for the drift term (ns since 1970 exceed
            # a double's 53 bits of precision).
            return t + o + round((t - r) * d * 1e-6) + sum(s["delta_ns"] for s in steps_of(p) if t >= s["at_ns"])

        def true_time(p, frame, t):
            # The true instant of frame `frame` of p read `t` (the steps by frame).
            o, d, r = pts[p]["offset_ns"], pts[p]["drift_ppm"], pts[p]["reference_ns"]
            x = t - sum(s["delta_ns"] for s in steps_of(p)
                        if s.get("first_frame") is not None and frame >= s["first_frame"])
            return x - o - round((x - o - r) * d * 1e-6)

        true_ts = {p: {fr: true_time(p, fr, t) for fr, t in ts[p].items()} for p in pinfo["order"]}
        for q in plist:
            a, b = q.get("a"), q.get("b")
            if a not in order or b not in order or a == b:
                bad["clock pair with unknown points"] += 1
                continue
            da, db = pts[a]["drift_ppm"], pts[b]["drift_ppm"]
            true_drift = (db - da) / (1 + da * 1e-6)
            first_a = min(ts[a].values())
            segs = q.get("segments") or [{"a_from_frame": 1, "b_from_frame": 1, "offset_ns": q["offset_ns"],
                                          "drift_ppm": q.get("drift_ppm", 0.0),
                                          "reference_ns": q.get("reference_ns", first_a)}]
            segs = sorted(segs, key=lambda s: s.get("a_from_frame", 1))

            def seg_of(frame):
                return [s for s in segs if s.get("a_from_frame", 1) <= frame][-1] if frame >= 1 else segs[0]

            # True instants within both captures, split where either clock
            # stepped: each side of a step is scored on its own, at a's first,
            # middle and last frame inside it (10 ms clear of the step).
            lo = max(min(true_ts[a].values()), min(true_ts[b].values()))
            hi = min(max(true_ts[a].values()), max(true_ts[b].values()))
            if hi < lo:
                lo, hi = min(true_ts[a].values()), max(true_ts[a].values())
            instants = sorted({s["at_ns"] for p in (a, b) for s in steps_of(p) if lo < s["at_ns"] < hi})
            edges = [lo] + instants + [hi]
            margin = 10_000_000
            sides = []
            for k in range(len(edges) - 1):
                s0 = edges[k] + (margin if k > 0 else 0)
                s1 = edges[k + 1] - (margin if k + 1 < len(edges) - 1 else 0)
                frames = sorted(f for f, t in true_ts[a].items() if s0 <= t <= s1)
                if not frames:
                    continue
                errs, drifts = [], []
                for f in (frames[0], frames[len(frames) // 2], frames[-1]):
                    seg = seg_of(f)
                    ta = ts[a][f]
                    predicted = seg["offset_ns"] + round((ta - seg["reference_ns"]) * seg.get("drift_ppm", 0.0) * 1e-6)
                    t = true_ts[a][f]
                    errs.append(abs(predicted - (reading(b, t) - reading(a, t))))
                    drifts.append(seg.get("drift_ppm", 0.0) - true_drift)
                sides.append({"from_true_ns": edges[k], "to_true_ns": edges[k + 1],
                              "max_offset_error_ns": round(max(errs)),
                              "drift_error_ppm": round(max(drifts, key=abs), 6)})
            clock_scores.append({"a": a, "b": b,
                                 "max_offset_error_ns": max(s["max_offset_error_ns"] for s in sides),
                                 "drift_error_ppm": max((s["drift_error_ppm"] for s in sides), key=abs),
                                 "true_offset_ns": pts[b]["offset_ns"] - pts[a]["offset_ns"],
                                 "true_drift_ppm": true_drift, "sides": sides})
            # Steps: each true one (b − a changes by b's step − a's step) and
            # the predicted step nearest it on a's clock; predicted steps
            # left over are spurious.
            pred_steps = list(q.get("steps", []))
            for t in instants:
                size = sum(s["delta_ns"] for s in steps_of(b) if s["at_ns"] == t) - \
                    sum(s["delta_ns"] for s in steps_of(a) if s["at_ns"] == t)
                at_a = reading(a, t)
                fa = min((f for f, x in true_ts[a].items() if x >= t), default=None)
                fb = min((f for f, x in true_ts[b].items() if x >= t), default=None)
                row = {"a": a, "b": b, "true_at_ns": round(at_a), "true_size_ns": size,
                       "true_a_frame": fa, "true_b_frame": fb, "found": False}
                if pred_steps:
                    p = min(pred_steps, key=lambda s: abs(s["at_ns"] - at_a))
                    pred_steps.remove(p)

                    def instant(reading, after):
                        # The true instant of a's reading, before or after the step.
                        o, d, r = pts[a]["offset_ns"], pts[a]["drift_ppm"], pts[a]["reference_ns"]
                        x = reading - sum(s["delta_ns"] for s in steps_of(a)
                                          if s["at_ns"] < t or (after and s["at_ns"] == t))
                        return x - o - round((x - o - r) * d * 1e-6)
                    # The step found lies between a's last frame matched before
                    # it and the first after: the true one must too (1 µs for
                    # the rounding of the clocks' inversion).
                    bracketed = p.get("before_ns") is not None and \
                        instant(p["before_ns"], False) - 1000 < t <= instant(p["at_ns"], True) + 1000
                    row.update(found=True, at_ns=p["at_ns"], size_ns=p["size_ns"],
                               instant_error_ns=round(p["at_ns"] - at_a), bracketed=bracketed,
                               size_error_ns=p["size_ns"] - size,
                               a_frame=p.get("a_frame"), b_frame=p.get("b_frame"))
                step_scores.append(row)
            for p in pred_steps:
                step_scores.append({"a": a, "b": b, "spurious": True, "at_ns": p["at_ns"], "size_ns": p["size_ns"]})

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
            if len(c["sides"]) > 1:
                for k, sd in enumerate(c["sides"]):
                    print("%-18s %33s %20d %16.4f" % ("", "side %d of the step(s)" % (k + 1),
                                                      sd["max_offset_error_ns"], sd["drift_error_ppm"]), file=out)
    if step_scores:
        print("\n%-18s %16s %16s %18s %14s %22s %10s" % ("clock step", "true size ns", "found size ns",
                                                         "instant error ns", "size error ns", "frames a/b (true)",
                                                         "bracketed"), file=out)
        for s in step_scores:
            pair = "%s-%s" % (s["a"], s["b"])
            if s.get("spurious"):
                print("%-18s %16s %16d   spurious step at %d" % (pair, "-", s["size_ns"], s["at_ns"]), file=out)
            elif not s["found"]:
                print("%-18s %16d %16s   NOT FOUND" % (pair, s["true_size_ns"], "-"), file=out)
            else:
                print("%-18s %16d %16d %18d %14d %22s %10s" % (
                    pair, s["true_size_ns"], s["size_ns"], s["instant_error_ns"], s["size_error_ns"],
                    "%s/%s (%s/%s)" % (s["a_frame"], s["b_frame"], s["true_a_frame"], s["true_b_frame"]),
                    "yes" if s["bracketed"] else "NO"), file=out)
    losses = {}
    if args.lost:
        losses = score_losses(args.outdir, args.lost, order)
        print("\ncapture drops attributed to their point: %d of %d attributable (%d dropped frames)" % (
            losses["drops_attributed"], losses["drops_attributable"], losses["drops"]), file=out)
        print("network loss reported: %d rows, %d of them not a loss in the truth (false)" % (
            losses["network_loss_rows"], losses["false_network_loss"]), file=out)
        print("not seen, by kind: %s" % losses["by_kind"], file=out)
    report = {"per_point_pair": per_hop, "adjacent_overall": overall, "losses": losses,
              "per_method": {m: dict(c) for m, c in per_method.items()},
              "per_kind": {"%s/%s" % k: dict(c) for k, c in per_kind.items()},
              "delta_corrected": deltas, "delta_raw_checked": raw_checked, "delta_raw_mismatch": raw_mismatch,
              "clocks": clock_scores, "clock_steps": step_scores, "rejected": dict(bad)}
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


def score_losses(outdir, lost_csv, order):
    """Capture drops attributed, network losses confirmed (see the module doc)."""
    truth = os.path.join(outdir, "truth")
    rows = list(csv.DictReader(open(lost_csv)))
    by_kind = collections.Counter(r["kind"] for r in rows)
    reported = {(r["point"], int(r["frame"]), r["not_seen_at"], r["kind"]) for r in rows}
    drops = attributable = attributed = 0
    cd = os.path.join(truth, "capture_drops.csv")
    if os.path.exists(cd):
        for r in csv.DictReader(open(cd)):
            drops += 1
            if r["attributable"] != "1":
                continue
            attributable += 1
            seen = [s.split(":") for s in r["seen_at"].split(";") if s]
            if any((q, int(f), r["point"], "capture-drop") in reported for q, f in seen):
                attributed += 1
    unpaired = set()
    up = os.path.join(truth, "unpaired.csv")
    if os.path.exists(up):
        for r in csv.DictReader(open(up)):
            unpaired.add((r["point"], int(r["frame"])))
    net = [r for r in rows if r["kind"] == "network-loss"]
    false_net = [r for r in net if (r["point"], int(r["frame"])) not in unpaired]
    return {"drops": drops, "drops_attributable": attributable, "drops_attributed": attributed,
            "network_loss_rows": len(net), "false_network_loss": len(false_net),
            "by_kind": dict(by_kind)}


if __name__ == "__main__":
    sys.exit(main())
