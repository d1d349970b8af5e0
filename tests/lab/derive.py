#!/usr/bin/env python3
"""Derives a lab variant from a lab run, with its truth (docs/lab.md, "Derived variants").

    tests/lab/derive.py SRC DST [--drop POINT:PCT] [--encap POINT:KIND]
                        [--resolution-ns NS] [--seed S]

SRC is a lab OUTDIR (points/<p>.pcapng and truth/) or the examples layout
(<p>.pcapng beside truth/).  DST gets points/<p>.pcapng and truth/, changed:

--drop POINT:PCT   removes PCT % of POINT's frames (seeded, uniformly), as a
                   busy SPAN port or TAP collector drops them: the packets
                   passed the point, its capture missed them.  The truth keeps
                   every pair between the other points (via pairs through
                   POINT stay: they are the same packet at both ends), loses
                   the pairs with a dropped frame, renumbers POINT's frames,
                   and lists each dropped frame in truth/capture_drops.csv with
                   the frames of the same packet at the other points and
                   whether it is attributable (seen at a point before POINT and
                   at one after it on its way).
--encap POINT:KIND wraps every frame of POINT as a remote capture receives it:
                   erspan2 (GRE + ERSPAN type II, draft-foschiano-erspan-03
                   §4.1), erspan3 (GRE + ERSPAN type III, §4.2), vxlan (UDP
                   4789, RFC 7348 §5), each in an outer Ethernet/IPv4 from a
                   collector's addresses.  Frame numbers and time stamps stay:
                   the truth is unchanged.
--resolution-ns NS floors every point's time stamps to a multiple of NS (a
                   capture tool that stamps in milliseconds: 1000000).  The
                   truth (true times from raw/) is unchanged.

Written by this script, not by the matcher; Wireshark decodes the wrapped
files (tests check it with tshark).  Standard library only.
"""

import argparse
import csv
import json
import os
import random
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402

TRUTH_FILES = ["packets.csv", "unpaired.csv", "points.json", "clocks.json", "summary.json",
               "connections.jsonl", "transactions.jsonl"]


def point_file(src, p):
    for f in (os.path.join(src, "points", p + ".pcapng"), os.path.join(src, p + ".pcapng")):
        if os.path.exists(f):
            return f
    sys.exit("derive: no capture for point %s in %s" % (p, src))


def write_pcapng(path, frames, comment):
    """frames: (ts_ns, linktype, data, orig_len); one interface per link type."""
    out = bytearray()

    def block(btype, body):
        body = bytes(body)
        pad = (-len(body)) % 4
        n = 12 + len(body) + pad
        return struct.pack("<II", btype, n) + body + b"\0" * pad + struct.pack("<I", n)

    def opt(code, value):
        return struct.pack("<HH", code, len(value)) + value + b"\0" * ((-len(value)) % 4)

    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(1, comment.encode()) + opt(0, b"")
    out += block(0x0A0D0D0A, shb)
    ifaces = {}
    for ts, lt, data, orig in frames:
        if lt not in ifaces:
            ifaces[lt] = len(ifaces)
            out += block(1, struct.pack("<HHI", lt, 0, 0) + opt(9, bytes([9])) + opt(0, b""))
        hi, lo = ts >> 32, ts & 0xFFFFFFFF
        out += block(6, struct.pack("<IIIII", ifaces[lt], hi, lo, len(data), max(orig, len(data))) + data)
    with open(path, "wb") as f:
        f.write(out)


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b[:len(b) // 2 * 2]))
    if len(b) % 2:
        s += b[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def outer_ipv4(proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0,
                    bytes([10, 250, 0, 1]), bytes([10, 250, 0, 2]))
    h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
    return h + payload


def ethernet(ether_type, payload):
    return bytes([2, 0, 0, 0xfa, 0, 2, 2, 0, 0, 0xfa, 0, 1]) + struct.pack("!H", ether_type) + payload


def wrap(kind, frame, n, ts):
    """The frame (Ethernet) as a collector receives it."""
    if kind == "erspan2":
        # GRE: S bit, protocol 0x88BE, sequence number; ERSPAN II: version 1,
        # VLAN 0, COS 0, En 0, T 0, session 100; reserved, index 1.
        gre = struct.pack("!HHI", 0x1000, 0x88BE, n)
        hdr = struct.pack("!HHI", 0x1000, 100, 1)
        return ethernet(0x0800, outer_ipv4(47, gre + hdr + frame, n))
    if kind == "erspan3":
        # ERSPAN III: version 2, VLAN 0, COS/BSO/T 0, session 100; a 32-bit
        # timestamp (microseconds here); SGT 0; P 1 (Ethernet), FT 0, HW ID,
        # D, Gra 0b01 (microseconds), O 0.
        gre = struct.pack("!HHI", 0x1000, 0x22EB, n)
        hdr = struct.pack("!HHIHH", 0x2000, 100, (ts // 1000) & 0xFFFFFFFF, 0, 0x8002)
        return ethernet(0x0800, outer_ipv4(47, gre + hdr + frame, n))
    if kind == "vxlan":
        vx = struct.pack("!BBHI", 0x08, 0, 0, 100 << 8)
        udp_payload = vx + frame
        udp = struct.pack("!HHHH", 49152 + n % 16384, 4789, 8 + len(udp_payload), 0) + udp_payload
        return ethernet(0x0800, outer_ipv4(17, udp, n))
    sys.exit("derive: unknown encapsulation %s (erspan2, erspan3, vxlan)" % kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--drop", help="POINT:PCT")
    ap.add_argument("--encap", help="POINT:erspan2|erspan3|vxlan")
    ap.add_argument("--resolution-ns", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    truth_src = os.path.join(a.src, "truth")
    pinfo = json.load(open(os.path.join(truth_src, "points.json")))
    order = pinfo["order"]
    os.makedirs(os.path.join(a.dst, "points"), exist_ok=True)
    tdir = os.path.join(a.dst, "truth")
    os.makedirs(tdir, exist_ok=True)
    for f in TRUTH_FILES:
        if os.path.exists(os.path.join(truth_src, f)):
            shutil.copy(os.path.join(truth_src, f), os.path.join(tdir, f))
    for f in ("run.json",):
        if os.path.exists(os.path.join(a.src, f)):
            shutil.copy(os.path.join(a.src, f), os.path.join(a.dst, f))
    frames = {p: list(labpcap.read_capture(point_file(a.src, p))) for p in order}
    renum = {p: {f[0]: f[0] for f in frames[p]} for p in order}
    rnd = random.Random(a.seed)
    dropped = set()
    drop_point = None
    if a.drop:
        drop_point, pct = a.drop.split(":")
        if drop_point not in order:
            sys.exit("derive: no point %s" % drop_point)
        n = len(frames[drop_point])
        dropped = set(rnd.sample(range(1, n + 1), round(n * float(pct) / 100)))
        kept = [f for f in frames[drop_point] if f[0] not in dropped]
        renum[drop_point] = {f[0]: i + 1 for i, f in enumerate(kept)}
        frames[drop_point] = kept
    encap_point, encap_kind = (a.encap.split(":") + [None])[:2] if a.encap else (None, None)
    for p in order:
        out = []
        for i, (_, ts, lt, data, orig) in enumerate(frames[p]):
            if a.resolution_ns:
                ts -= ts % a.resolution_ns
            if p == encap_point:
                if lt != 1:
                    sys.exit("derive: %s is not Ethernet (link type %d)" % (p, lt))
                data = wrap(encap_kind, data, i + 1, ts)
                orig = len(data)
            out.append((ts, lt, data, orig))
        write_pcapng(os.path.join(a.dst, "points", p + ".pcapng"), out,
                     "derived by tests/lab/derive.py from %s point=%s" % (a.src, p))
    if not dropped:
        return
    # Truth: pairs with a dropped frame go (and are the dropped packets'
    # partners); the others are renumbered.
    rank = {p: i for i, p in enumerate(order)}
    partners = {f: [] for f in dropped}
    with open(os.path.join(truth_src, "packets.csv")) as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys())
    kept_rows = []
    for r in rows:
        gone = False
        for side, other in (("a", "b"), ("b", "a")):
            if r["point_" + side] == drop_point:
                fr = int(r["frame_" + side])
                if fr in dropped:
                    partners[fr].append((r["point_" + other], int(r["frame_" + other]), r["kind"], r["dir"]))
                    gone = True
                else:
                    r["frame_" + side] = str(renum[drop_point][fr])
        if not gone:
            kept_rows.append(r)
    with open(os.path.join(tdir, "packets.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(kept_rows)
    up = os.path.join(truth_src, "unpaired.csv")
    if os.path.exists(up):
        with open(up) as f:
            urows = list(csv.DictReader(f))
        ufields = ["hop", "point", "frame", "conn", "dir", "payload_len", "tcp_flags"]
        out_rows = []
        for r in urows:
            if r["point"] == drop_point:
                fr = int(r["frame"])
                if fr in dropped:
                    # Lost on the network beyond the point whose copy is
                    # dropped now: the copies before it are what the
                    # network lost (seen there, nowhere after).
                    for (q, qf, _, _) in partners[fr]:
                        ends = sorted((q, drop_point), key=lambda x: rank[x])
                        out_rows.append(dict(r, hop="-".join(ends), point=q, frame=str(qf)))
                    continue
                r["frame"] = str(renum[drop_point][fr])
            out_rows.append(r)
        with open(os.path.join(tdir, "unpaired.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=ufields, lineterminator="\n", extrasaction="ignore")
            w.writeheader()
            w.writerows(out_rows)
    pinfo["points"][drop_point]["frames"] = len(frames[drop_point])
    json.dump(pinfo, open(os.path.join(tdir, "points.json"), "w"), indent=1)
    # Each dropped frame: the same packet at the other points; attributable
    # when seen before and after the point (adjacent and via pairs alike).
    me = rank[drop_point]
    with open(os.path.join(tdir, "capture_drops.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["point", "original_frame", "attributable", "seen_at"])
        for fr in sorted(dropped):
            ps = partners[fr]
            before = any(rank[q] < me for q, _, _, _ in ps)
            after = any(rank[q] > me for q, _, _, _ in ps)
            seen = ";".join("%s:%d" % (q, g) for q, g, _, _ in sorted(set(ps)))
            w.writerow([drop_point, fr, int(before and after), seen])
    print("derive: %s: %d of %d frames dropped (%d attributable)" % (
        drop_point, len(dropped), len(dropped) + len(frames[drop_point]),
        sum(1 for fr in dropped if any(rank[q] < me for q, _, _, _ in partners[fr])
            and any(rank[q] > me for q, _, _, _ in partners[fr]))))


if __name__ == "__main__":
    main()
