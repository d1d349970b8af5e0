#!/usr/bin/env python3
"""Builds the ground truth of a lab run: OUTDIR/truth/ (format: docs/lab.md).

    tests/lab/build_truth.py OUTDIR

Inputs (written by tests/lab/run.sh): OUTDIR/raw/<point>.pcap (true clock),
OUTDIR/points/<point>.pcapng (frame numbering checked against raw),
OUTDIR/logs/{client.jsonl, conntrack-wanfw.log, conntrack-dcfw.log,
haproxy.log, nginx-access.log}.

Connections are chained across points with the NAT boxes' own conntrack
events (client -> wan: wanfw's SNAT mapping; wan -> dc: dcfw's DNAT mapping),
across the load balancer with haproxy's log (front client ip:port -> back
source port) and nginx's log (remote port, request id, unique id).  Packets of
the same connection at two adjacent points are paired by direction, relative
TCP sequence number, payload length, relative ack, window and SACK blocks,
disambiguated by IPv4 ID and TCP timestamp; DNS by id and question.  No
matcher output is used.
"""

import collections
import csv
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402
from labpcap import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN  # noqa: E402

POINTS = ["client", "wan", "dc", "lbserver"]
ORDER = {p: i for i, p in enumerate(POINTS)}
HOPS = [("client", "wan"), ("wan", "dc"), ("dc", "lbserver")]
M32 = 1 << 32
NEAR_NS = 5_000_000_000          # conntrack / log time vs capture time tolerance
AMBIG_CAP = 16                   # at most this many candidates listed per ambiguous group


def die(msg):
    print("build_truth: " + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- captures and flows

class Flow:
    """One TCP connection (or one UDP 5-tuple) as seen at one point."""

    def __init__(self, fid, point, proto, cli, srv, ts):
        self.id, self.point, self.proto = fid, point, proto
        self.cli, self.srv = cli, srv            # (ip, port)
        self.start = ts
        self.pkts = []                           # [(Pkt, dir)]
        self.isn = {"c2s": None, "s2c": None}
        self.chain = None

    def tuple(self):
        return (self.cli[0], self.cli[1], self.srv[0], self.srv[1])

    def desc(self):
        return {"src": self.cli[0], "sport": self.cli[1], "dst": self.srv[0], "dport": self.srv[1],
                "first_frame": self.pkts[0][0].frame, "last_frame": self.pkts[-1][0].frame,
                "packets": len(self.pkts), "start_ns": self.start,
                "end_ns": self.pkts[-1][0].ts}


SERVER_PORTS = {80, 443, 8080, 8443, 53}


def tcp_flows(point, pkts):
    active, flows = {}, []
    for p in pkts:
        if p.proto != 6:
            continue
        t = (p.src, p.sport, p.dst, p.dport)
        r = (p.dst, p.dport, p.src, p.sport)
        syn_only = (p.flags & TCP_SYN) and not (p.flags & TCP_ACK)
        if syn_only:
            f = active.get(t)
            if f is None or (f.isn["c2s"] is not None and f.isn["c2s"] != p.seq):
                f = Flow("%s-t%d" % (point, len(flows)), point, "tcp", (p.src, p.sport), (p.dst, p.dport), p.ts)
                flows.append(f)
                active[t] = f
                active.pop(r, None)
        if t in active:
            f, d = active[t], "c2s"
        elif r in active:
            f, d = active[r], "s2c"
        else:                                     # picked up mid-stream
            if p.sport in SERVER_PORTS and p.dport not in SERVER_PORTS:
                cli, srv, d = (p.dst, p.dport), (p.src, p.sport), "s2c"
            else:
                cli, srv, d = (p.src, p.sport), (p.dst, p.dport), "c2s"
            f = Flow("%s-t%d" % (point, len(flows)), point, "tcp", cli, srv, p.ts)
            flows.append(f)
            active[f.tuple()] = f
        if p.flags & TCP_SYN:
            if d == "c2s" and not (p.flags & TCP_ACK) and f.isn["c2s"] is None:
                f.isn["c2s"] = p.seq
            if d == "s2c" and (p.flags & TCP_ACK) and f.isn["s2c"] is None:
                f.isn["s2c"] = p.seq
        f.pkts.append((p, d))
    for f in flows:       # a side whose SYN was not seen: first sequence number seen
        for d in ("c2s", "s2c"):
            if f.isn[d] is None:
                for p, dd in f.pkts:
                    if dd == d:
                        f.isn[d] = (p.seq - 1) % M32
                        break
    return flows


def find_flow(flows_by_tuple, t, ts):
    best = None
    for f in flows_by_tuple.get(t, ()):
        dt = abs(f.start - ts)
        if dt <= NEAR_NS and (best is None or dt < abs(best.start - ts)):
            best = f
    return best


def flow_at(flows_by_tuple, t, ts):
    """The latest flow with tuple t that started at or before ts."""
    best = None
    for f in flows_by_tuple.get(t, ()):
        if f.start <= ts and (best is None or f.start > best.start):
            best = f
    return best


# ---------------------------------------------------------------- component logs

CT_HEAD = re.compile(r"^\[(\d+)\.(\d+)\]\s+\[(\w+)\]\s+(ipv4|ipv6)\s+\d+\s+(\w+)\s+\d+\s")
CT_TUPLE = re.compile(r"src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)")
CT_ID = re.compile(r"\bid=(\d+)")


def parse_conntrack(path):
    """Returns {(proto, orig tuple): [entry]} with entry = dict(orig, reply, t_new, events, id)."""
    entries = {}
    if not os.path.exists(path):
        return {}
    for line in open(path):
        m = CT_HEAD.match(line)
        if not m:
            continue
        ts = int(m.group(1)) * 1_000_000_000 + int(m.group(2).ljust(9, "0")[:9])
        ev, proto = m.group(3), m.group(5)
        tups = CT_TUPLE.findall(line)
        if len(tups) < 2:
            continue
        orig = (tups[0][0], int(tups[0][2]), tups[0][1], int(tups[0][3]))
        reply = (tups[1][0], int(tups[1][2]), tups[1][1], int(tups[1][3]))
        mid = CT_ID.search(line)
        key = (mid.group(1) if mid else None, proto, orig)
        e = entries.get(key)
        if e is None:
            e = entries[key] = {"id": key[0], "proto": proto, "orig": orig, "reply": reply,
                                "t_first": ts, "t_new": None, "events": []}
        if ev == "NEW" and e["t_new"] is None:
            e["t_new"] = ts
        e["reply"] = reply
        e["events"].append(ev)
    by_orig = collections.defaultdict(list)
    for e in entries.values():
        by_orig[(e["proto"], e["orig"])].append(e)
    return by_orig


def ct_find(ct, proto, orig, ts):
    best = None
    for e in ct.get((proto, orig), ()):
        t = e["t_new"] or e["t_first"]
        if abs(t - ts) <= NEAR_NS and (best is None or abs(t - ts) < abs((best["t_new"] or best["t_first"]) - ts)):
            best = e
    return best


def ct_outside(e):
    """The connection as the initiator's packets look after the box (reply tuple reversed)."""
    r = e["reply"]
    return (r[2], r[3], r[0], r[1])


KV = re.compile(r'(\w+)=("([^"]*)"|\S*)')


def parse_kv_log(path):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        d = {}
        for m in KV.finditer(line):
            d[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
        if d:
            out.append(d)
    return out


def to_ns(sec_str):
    s, _, frac = sec_str.partition(".")
    return int(s) * 1_000_000_000 + int(frac.ljust(9, "0")[:9] or 0)


# ---------------------------------------------------------------- packet keys

class PK:
    """A packet of a flow with the fields the truth compares."""
    __slots__ = ("p", "d", "key", "rs", "ra", "tsval", "tsecr", "ipid")


def keyed(flow):
    out = []
    isn, other = flow.isn, {"c2s": "s2c", "s2c": "c2s"}
    for p, d in flow.pkts:
        k = PK()
        k.p, k.d = p, d
        base, ob = isn[d], isn[other[d]]
        k.rs = (p.seq - base) % M32
        k.ra = (p.ack - ob) % M32 if (p.flags & TCP_ACK) else None
        sack = tuple(((a - ob) % M32, (b - ob) % M32) for a, b in p.sack) if p.sack else ()
        k.key = (d, p.flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK), k.rs, p.plen, k.ra, p.win, sack)
        k.tsval, k.tsecr, k.ipid = p.tsval, p.tsecr, (p.ipid if p.fam == 4 else None)
        out.append(k)
    return out


def mode(counter):
    if not counter:
        return None, 0.0
    v, n = counter.most_common(1)[0]
    return v, n / sum(counter.values())


def causal_ok(a, b):
    """a at the upstream point of the hop (client side), b downstream: a c2s
    packet reaches b after a, an s2c packet reaches a after b (raw captures
    share the host clock)."""
    return b.p.ts >= a.p.ts if a.d == "c2s" else a.p.ts >= b.p.ts


def pair_tcp(fa, fb):
    """Pairs of the same TCP connection at two points: [(PK a, PK b, kind, certain)], info."""
    A, B = keyed(fa), keyed(fb)
    ga, gb = collections.defaultdict(list), collections.defaultdict(list)
    for x in A:
        ga[x.key].append(x)
    for x in B:
        gb[x.key].append(x)
    # Learn how the path treats TCP timestamps and IPv4 IDs (per direction) from
    # packets whose base key is unique on both sides.
    tsd = {"c2s": collections.Counter(), "s2c": collections.Counter()}
    ted = {"c2s": collections.Counter(), "s2c": collections.Counter()}
    idd = {"c2s": collections.Counter(), "s2c": collections.Counter()}
    for k, la in ga.items():
        lb = gb.get(k)
        if len(la) == 1 and lb and len(lb) == 1:
            a, b = la[0], lb[0]
            if a.tsval is not None and b.tsval is not None:
                tsd[a.d][(b.tsval - a.tsval) % M32] += 1
            if a.tsecr is not None and b.tsecr is not None:
                ted[a.d][(b.tsecr - a.tsecr) % M32] += 1
            if a.ipid is not None and b.ipid is not None:
                idd[a.d][(b.ipid - a.ipid) % 65536] += 1
    tsoff, ecroff, use_id = {}, {}, {}
    for d in ("c2s", "s2c"):
        tsoff[d] = mode(tsd[d])[0] or 0
        ecroff[d] = mode(ted[d])[0] or 0
        v, share = mode(idd[d])
        use_id[d] = v == 0 and share >= 0.5

    def full_a(x):
        return x.key + ((x.ipid if use_id[x.d] else None),
                        ((x.tsval + tsoff[x.d]) % M32 if x.tsval is not None else None),
                        ((x.tsecr + ecroff[x.d]) % M32 if x.tsecr is not None else None))

    def full_b(x):
        return x.key + ((x.ipid if use_id[x.d] else None), x.tsval, x.tsecr)

    fa_g, fb_g = collections.defaultdict(list), collections.defaultdict(list)
    for x in A:
        fa_g[full_a(x)].append(x)
    for x in B:
        fb_g[full_b(x)].append(x)
    pairs, used_a, used_b = [], set(), set()
    ambiguous = 0
    for k, la in fa_g.items():
        lb = fb_g.get(k)
        if not lb:
            continue
        if len(la) == len(lb):
            for a, b in zip(la, lb):
                pairs.append((a, b, "tcp", True))
            used_a.update(id(a) for a in la)
            used_b.update(id(b) for b in lb)
            continue
        # Unequal numbers of identical packets: keep the causal combinations
        # (a packet is seen upstream before downstream; one host clock).
        causal = [(a, b) for a in la for b in lb if causal_ok(a, b)]
        na = collections.Counter(id(a) for a, _ in causal)
        nb = collections.Counter(id(b) for _, b in causal)
        if causal and all(v == 1 for v in na.values()) and all(v == 1 for v in nb.values()):
            for a, b in causal:
                pairs.append((a, b, "tcp", True))
                used_a.add(id(a))
                used_b.add(id(b))
            continue           # the others may be parts of TSO packets (next pass)
        ambiguous += 1
        for a, b in (causal or [(a, b) for a in la for b in lb])[:AMBIG_CAP * AMBIG_CAP]:
            pairs.append((a, b, "tcp", False))
        used_a.update(id(a) for a in la)
        used_b.update(id(b) for b in lb)
    # TSO/GSO/GRO: a data packet at one point covering several at the other
    # (same direction, same ack, same timestamp, byte range containment).
    la = [x for x in A if id(x) not in used_a and x.p.plen > 0]
    lb = [x for x in B if id(x) not in used_b and x.p.plen > 0]
    idx_b = collections.defaultdict(list)
    for b in lb:
        idx_b[(b.d, b.ra, b.tsval)].append(b)
    cand = collections.defaultdict(list)     # small packet -> [(a, b)]
    for a in la:
        k = (a.d, a.ra, (a.tsval + tsoff[a.d]) % M32 if a.tsval is not None else None)
        a0, a1 = a.rs, a.rs + a.p.plen
        for b in idx_b.get(k, ()):
            b0, b1 = b.rs, b.rs + b.p.plen
            if a0 <= b0 and b1 <= a1 and (a1 - a0) > (b1 - b0):
                cand[("b", id(b))].append((a, b))
            elif b0 <= a0 and a1 <= b1 and (b1 - b0) > (a1 - a0):
                cand[("a", id(a))].append((a, b))
    # Segment size per direction: the largest payload of a packet that fits the MTU.
    mss = {}
    for x in A + B:
        if x.p.plen <= 1460 and x.p.plen > mss.get(x.d, 0):
            mss[x.d] = x.p.plen
    multi = []
    for lst in cand.values():
        if len(lst) > 1 and use_id[lst[0][0].d]:
            # Several candidates (the same bytes sent twice within a millisecond):
            # the k-th segment of a TSO/GSO packet carries the big packet's IPv4
            # ID + k (GRO keeps the first segment's ID).
            def id_fits(a, b):
                big, small = (a, b) if a.p.plen > b.p.plen else (b, a)
                k = (small.p.ipid - big.p.ipid) % 65536
                return k == ((small.rs - big.rs) % M32) // max(mss.get(a.d, 1), 1)
            fit = [(a, b) for a, b in lst if id_fits(a, b)]
            if fit:
                lst = fit
        if len(lst) > 1:
            lst = [(a, b) for a, b in lst if causal_ok(a, b)] or lst
        multi.append(lst)
    # Several candidates remain when the same bytes were sent twice within a
    # millisecond (IPv6: no ID to tell): per byte range, a small packet with a single candidate
    # takes it (each big packet carries a given range once), repeatedly; the
    # rest pair in capture order (the path is FIFO) when there are as many
    # copies as big packets, else every combination, uncertain.
    groups = collections.defaultdict(list)
    for lst in multi:
        a0, b0 = lst[0]
        small_is_a = all(a is a0 for a, _ in lst)
        small = a0 if small_is_a else b0
        groups[(small_is_a, small.d, small.rs, small.p.plen)].append(
            (small, {id(b if small_is_a else a): (b if small_is_a else a) for a, b in lst}))
    for (small_is_a, _, _, _), items in groups.items():
        out = []
        changed = True
        while changed:
            changed = False
            for sm, cands in items:
                if len(cands) == 1:
                    (bid, bg), = cands.items()
                    out.append((sm, bg, True))
                    items = [(s2, {k: v for k, v in c2.items() if k != bid}) for s2, c2 in items if s2 is not sm]
                    changed = True
                    break
        items = [(sm, c) for sm, c in items if c]
        bigs = {}
        for _, c in items:
            bigs.update(c)
        smalls = sorted((sm for sm, _ in items), key=lambda x: x.p.frame)
        bigl = sorted(bigs.values(), key=lambda x: x.p.frame)
        if len(smalls) == len(bigl):
            out += [(sm, bg, True) for sm, bg in zip(smalls, bigl)]
        else:
            out += [(sm, bg, False) for sm, c in items for bg in list(c.values())[:AMBIG_CAP]]
        for sm, bg, certain in out:
            a, b = (sm, bg) if small_is_a else (bg, sm)
            pairs.append((a, b, "tcp-tso", certain))
            used_a.add(id(a))
            used_b.add(id(b))
    info = {"ts_offset": {d: tsoff[d] or ecroff[d] for d in tsoff}, "ipid_preserved": use_id,
            "ambiguous_groups": ambiguous,
            "unpaired_a": [x for x in A if id(x) not in used_a],
            "unpaired_b": [x for x in B if id(x) not in used_b]}
    return pairs, info


# ---------------------------------------------------------------- streams (anchors, checks)

def stream(flow, d):
    """Reassembled payload of one direction (first copy of each byte wins), from offset 0."""
    segs = []
    base = flow.isn[d]
    for p, dd in flow.pkts:
        if dd == d and p.plen and p.payload:
            off = (p.seq - base - 1) % M32
            if off < (1 << 31):
                segs.append((off, p.payload))
    if not segs:
        return b""
    end = max(o + len(pl) for o, pl in segs)
    buf = bytearray(end)
    have = bytearray(end)
    for o, pl in segs:
        # fast path: copy where nothing is filled yet
        sl = have[o:o + len(pl)]
        if not any(sl):
            buf[o:o + len(pl)] = pl
            have[o:o + len(pl)] = b"\x01" * len(pl)
        else:
            for i, byte in enumerate(pl):
                if not have[o + i]:
                    buf[o + i] = byte
                    have[o + i] = 1
    return bytes(buf)


def packet_at(flow, d, offset):
    """First packet (file order) of direction d whose payload carries stream byte offset."""
    base = flow.isn[d]
    for p, dd in flow.pkts:
        if dd == d and p.plen:
            o = (p.seq - base - 1) % M32
            if o <= offset < o + p.plen:
                return p
    return None


def http_messages(data, responses):
    """Offsets of HTTP/1.1 messages in a stream: [(start, end, first line)]."""
    out, pos = [], 0
    while pos < len(data):
        i = data.find(b"\r\n\r\n", pos)
        if i < 0:
            break
        head = data[pos:i].decode("latin-1").split("\r\n")
        clen = 0
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                clen = int(v.strip())
        end = i + 4 + clen
        out.append((pos, end, head[0]))
        pos = end
    return out


# ---------------------------------------------------------------- main

def main():
    if len(sys.argv) != 2:
        die("usage: build_truth.py OUTDIR")
    outdir = sys.argv[1]
    raw, logs, truth = (os.path.join(outdir, d) for d in ("raw", "logs", "truth"))
    os.makedirs(truth, exist_ok=True)
    run = json.load(open(os.path.join(outdir, "run.json")))

    # ---- captures
    caps, nframes, ts_of = {}, {}, {}
    for pt in POINTS:
        path = os.path.join(raw, pt + ".pcap")
        pk, n = labpcap.load(path, keep_payload=True)
        caps[pt], nframes[pt] = pk, n
        pf = os.path.join(outdir, "points", pt + ".pcapng")
        if os.path.exists(pf):
            m = sum(1 for _ in labpcap.read_capture(pf))
            if m != n:
                die("%s: %d frames in raw, %d in points file" % (pt, n, m))
        ts_of[pt] = {p.frame: p.ts for p in pk}
    flows = {pt: tcp_flows(pt, caps[pt]) for pt in POINTS}
    by_tuple = {}
    for pt in POINTS:
        d = collections.defaultdict(list)
        for f in flows[pt]:
            d[f.tuple()].append(f)
        by_tuple[pt] = d

    ct_wan = parse_conntrack(os.path.join(logs, "conntrack-wanfw.log"))
    ct_dc = parse_conntrack(os.path.join(logs, "conntrack-dcfw.log"))
    hap = [h for h in parse_kv_log(os.path.join(logs, "haproxy.log")) if "uid" in h]
    ngx = [n for n in parse_kv_log(os.path.join(logs, "nginx-access.log")) if "msec" in n]
    client_log = [json.loads(line) for line in open(os.path.join(logs, "client.jsonl"))]
    http_recs = [r for r in client_log if r["type"] == "http"]
    dns_recs = [r for r in client_log if r["type"] == "dns"]

    # ---- TCP chains: client -> wan (wanfw SNAT) -> dc (dcfw DNAT)
    chains = []
    issues = collections.Counter()
    for fc in flows["client"]:
        ch = {"id": "conn%04d" % len(chains), "proto": "tcp", "flows": {"client": fc}, "nat": {}}
        e1 = ct_find(ct_wan, "tcp", fc.tuple(), fc.start)
        if e1:
            ch["nat"]["wanfw"] = e1
            fw = find_flow(by_tuple["wan"], ct_outside(e1), fc.start)
            if fw:
                ch["flows"]["wan"] = fw
                e2 = ct_find(ct_dc, "tcp", fw.tuple(), fw.start)
                if e2:
                    ch["nat"]["dcfw"] = e2
                    fd = find_flow(by_tuple["dc"], ct_outside(e2), fw.start)
                    if fd:
                        ch["flows"]["dc"] = fd
                    else:
                        issues["dc flow not found for dcfw mapping"] += 1
                else:
                    issues["no dcfw conntrack entry"] += 1
            else:
                issues["wan flow not found for wanfw mapping"] += 1
        else:
            issues["no wanfw conntrack entry"] += 1
        for f in ch["flows"].values():
            f.chain = ch
        chains.append(ch)
    for pt in ("wan", "dc", "lbserver"):
        for f in flows[pt]:
            if f.chain is None and pt != "lbserver":
                issues["%s flow without client flow" % pt] += 1

    # ---- client requests -> client flows
    chain_of_client = {fc.tuple(): fc.chain for fc in flows["client"]}
    for r in http_recs:
        r["_chain"] = None
        if "sport" in r:
            # The connection open when the request started (the client logs
            # it after connecting): the latest flow with the tuple started
            # by then.  Not the nearest start: the client's port can come
            # back for a later connection, which may start closer to a
            # keep-alive request than its own connection did.
            t = (r["src"], r["sport"], r["dst"], r["dport"])
            f = flow_at(by_tuple["client"], t, r.get("start_ns", 0))
            if f is None:
                f = find_flow(by_tuple["client"], t, r.get("start_ns", 0))
            r["_chain"] = f.chain if f else None

    # ---- load balancer: haproxy front tuple -> back tuple; nginx
    ngx_by_rid = {n.get("rid"): n for n in ngx}
    hap_by_rid = {h.get("rid"): h for h in hap}
    lb_back = collections.defaultdict(list)          # chain id -> [lbserver flow]
    transactions = []
    for r in http_recs:
        t = {"rid": r["rid"], "conn": None, "client": {k: r.get(k) for k in (
            "scheme", "tls", "src", "sport", "dst", "dport", "req_on_conn", "path", "start_ns", "end_ns",
            "status", "body_bytes", "c2s_off", "c2s_len", "s2c_off", "s2c_len", "ok", "error")}}
        ch = r.get("_chain")
        t["conn"] = ch["id"] if ch else None
        h = hap_by_rid.get(r["rid"])
        n = ngx_by_rid.get(r["rid"])
        if h:
            t["haproxy"] = {k: h.get(k) for k in ("uid", "fe", "ci", "cp", "fi", "fp", "bi", "bp", "si", "sp",
                                                  "accept", "Th", "Ti", "TR", "Tw", "Tc", "Tr", "Ta", "Tt", "st",
                                                  "bytes", "sslv", "rt")}
            fd = ch["flows"].get("dc") if ch else None
            if fd is not None:
                if (h["ci"], int(h["cp"]), h["fi"], int(h["fp"])) != fd.tuple():
                    issues["haproxy front tuple differs from dc flow"] += 1
            bt = (h["bi"], int(h["bp"]), h["si"], int(h["sp"]))
            fl = find_flow(by_tuple["lbserver"], bt, to_ns(h["accept"]))
            if fl is None:
                cand = by_tuple["lbserver"].get(bt, [])
                fl = cand[-1] if cand else None
            if fl is not None:
                t["lb_back_flow"] = fl
                if ch and fl not in lb_back[ch["id"]]:
                    lb_back[ch["id"]].append(fl)
                    fl.chain = ch
            else:
                issues["lbserver flow not found for haproxy back tuple"] += 1
        else:
            issues["request without haproxy log line"] += 1
        if n:
            t["nginx"] = {k: n.get(k) for k in ("msec", "ra", "rp", "conn", "creq", "xff", "uid", "st", "bytes")}
            if h and (n["ra"] != h["bi"] or n["rp"] != h["bp"]):
                issues["nginx remote addr/port differs from haproxy back source"] += 1
            if h and n.get("uid") != h.get("uid"):
                issues["nginx unique id differs from haproxy"] += 1
            fw = ch["flows"].get("wan") if ch else None
            if fw is not None and n.get("xff") != fw.cli[0]:
                issues["X-Forwarded-For differs from the WAN source address"] += 1
        elif r.get("ok"):
            issues["request without nginx log line"] += 1
        transactions.append(t)

    # ---- packet pairs, same TCP connection, adjacent hops
    rows = []            # (a_point, a_frame, b_point, b_frame, kind, certain, conn, dir)
    unpaired = []
    hop_info = {}
    pairs_by_hop = collections.defaultdict(list)
    for ch in chains:
        for a, b in HOPS[:2]:
            fa, fb = ch["flows"].get(a), ch["flows"].get(b)
            if fa is None or fb is None:
                continue
            prs, info = pair_tcp(fa, fb)
            for x, y, kind, certain in prs:
                pairs_by_hop[(a, b)].append((x.p.frame, y.p.frame, kind, certain, ch["id"], x.d))
            for x in info["unpaired_a"]:
                unpaired.append((a, b, a, x.p.frame, ch["id"], x.d, x.p.plen, x.p.flags))
            for x in info["unpaired_b"]:
                unpaired.append((a, b, b, x.p.frame, ch["id"], x.d, x.p.plen, x.p.flags))
            hi = hop_info.setdefault("%s-%s" % (a, b), collections.Counter())
            hi["connections"] += 1
            hi["ambiguous_groups"] += info["ambiguous_groups"]
            for d in ("c2s", "s2c"):
                if info["ts_offset"][d]:
                    hi["ts_translated_%s" % d] += 1
                if not info["ipid_preserved"][d]:
                    hi["ipid_not_used_%s" % d] += 1

    # ---- DNS: same id + question (+ IPv4 ID), every hop (lb routes DNS without NAT)
    dns_by_point = {}
    for pt in POINTS:
        g = collections.defaultdict(list)
        for p in caps[pt]:
            if p.proto == 17 and p.dns_id is not None and (p.sport == 53 or p.dport == 53):
                g[(p.dns_id, p.dns_qr, p.dns_qname, p.dns_qtype)].append(p)
        dns_by_point[pt] = g
    dns_checks = collections.Counter()
    for a, b in HOPS:
        ga, gb = dns_by_point[a], dns_by_point[b]
        for k, la in ga.items():
            lb = gb.get(k, [])
            if not lb:
                for x in la:
                    unpaired.append((a, b, a, x.frame, "dns:%d" % k[0], "response" if k[1] else "query", x.plen, 0))
                continue
            if len(la) == 1 and len(lb) == 1:
                prs = [(la[0], lb[0], True)]
            else:
                byid = collections.defaultdict(list)
                for y in lb:
                    byid[y.ipid].append(y)
                prs = []
                for x in la:
                    c = byid.get(x.ipid, [])
                    prs += [(x, y, len(c) == 1) for y in c]
            for x, y, certain in prs:
                q = x if k[1] == 0 else None
                # conntrack check of the 5-tuple mapping for the query direction
                if q is not None:
                    if (a, b) == ("client", "wan"):
                        e = ct_find(ct_wan, "udp", q.tuple(), q.ts)
                        ok = e is not None and ct_outside(e) == y.tuple()
                    elif (a, b) == ("wan", "dc"):
                        e = ct_find(ct_dc, "udp", q.tuple(), q.ts)
                        ok = e is not None and ct_outside(e) == y.tuple()
                    else:
                        ok = q.tuple() == y.tuple()
                    dns_checks["mapping_confirmed" if ok else "mapping_NOT_confirmed"] += 1
                pairs_by_hop[(a, b)].append((x.frame, y.frame, "dns", certain, "dns:%d" % k[0],
                                             "response" if k[1] else "query"))
        for k, lb in gb.items():
            if k not in ga:
                for y in lb:
                    unpaired.append((a, b, b, y.frame, "dns:%d" % k[0], "response" if k[1] else "query", y.plen, 0))

    # ---- ICMP echo (--ping): type, sequence number and echoed data, every
    # hop (a NAT translates the echo id like a port: the id is left out);
    # with several copies the IPv4 ID decides.
    icmp_by_point = {}
    for pt in POINTS:
        g = collections.defaultdict(list)
        for p in caps[pt]:
            if p.proto in (1, 58) and p.icmp_type in (0, 8, 128, 129):
                g[(p.icmp_type, p.icmp_seq, p.icmp_body)].append(p)
        icmp_by_point[pt] = g
    for a, b in HOPS:
        ga, gb = icmp_by_point[a], icmp_by_point[b]
        for k, la in ga.items():
            lb = gb.get(k, [])
            name = "icmp:%d" % k[1]
            d = "request" if k[0] in (8, 128) else "reply"
            if not lb:
                continue
            if len(la) == 1 and len(lb) == 1:
                prs = [(la[0], lb[0], True)]
            else:
                byid = collections.defaultdict(list)
                for y in lb:
                    byid[y.ipid].append(y)
                prs = [(x, y, len(byid.get(x.ipid, [])) == 1) for x in la for y in byid.get(x.ipid, [])]
            for x, y, certain in prs:
                pairs_by_hop[(a, b)].append((x.frame, y.frame, "icmp", certain, name, d))

    # ---- composition: non-adjacent point pairs through the intermediate points
    same_packet = {h: [r for r in pairs_by_hop[h]] for h in HOPS}
    composed = {}
    for i in range(len(POINTS)):
        for j in range(i + 2, len(POINTS)):
            a, m, b = POINTS[i], POINTS[j - 1], POINTS[j]
            left = same_packet[(a, m)] if j - 1 == i + 1 else composed[(a, m)]
            right = same_packet[(m, b)]
            idx = collections.defaultdict(list)
            for fm, fb, kind, certain, conn, d in right:
                idx[fm].append((fb, kind, certain))
            out = []
            for fa, fm, kind, certain, conn, d in left:
                for fb, kind2, certain2 in idx.get(fm, ()):
                    k = "tcp-tso" if "tcp-tso" in (kind, kind2) else kind
                    out.append((fa, fb, k, certain and certain2, conn, d))
            composed[(a, b)] = sorted(set(out))

    # ---- transaction anchors across the load balancer (full proxy)
    anchor_stats = collections.Counter()
    body_pairs = []
    for t in transactions:
        r = t["client"]
        ch = next((c for c in chains if c["id"] == t["conn"]), None)
        fl = t.get("lb_back_flow")
        t["anchors"] = {}
        if ch is None or r.get("c2s_off") is None or not r.get("ok"):
            continue
        front = {}
        for pt in ("client", "wan", "dc"):
            f = ch["flows"].get(pt)
            if f is None:
                continue
            preq = packet_at(f, "c2s", r["c2s_off"])
            prsp = packet_at(f, "s2c", r["s2c_off"])
            front[pt] = (preq, prsp)
            t["anchors"][pt] = {"request_frame": preq.frame if preq else None,
                                "response_frame": prsp.frame if prsp else None}
            if r["scheme"] == "http" and preq is not None:
                # plain HTTP: the client's offset must be where the request line is
                s = stream(f, "c2s")
                want = ("GET " + r["path"] + " ").encode()
                anchor_stats["front_offset_" + ("ok" if s[r["c2s_off"]:r["c2s_off"] + len(want)] == want
                                               else "MISMATCH")] += 1
        if fl is None:
            continue
        cs, ss = stream(fl, "c2s"), stream(fl, "s2c")
        reqs = http_messages(cs, False)
        rsps = http_messages(ss, True)
        k = next((i for i, (s0, e0, line) in enumerate(reqs) if ("rid=%s " % t["rid"]) in line), None)
        if k is None or k >= len(rsps):
            anchor_stats["back_request_not_found"] += 1
            continue
        breq = packet_at(fl, "c2s", reqs[k][0])
        brsp = packet_at(fl, "s2c", rsps[k][0])
        t["anchors"]["lbserver"] = {"request_frame": breq.frame if breq else None,
                                    "response_frame": brsp.frame if brsp else None,
                                    "request_on_back_conn": k}
        anchor_stats["transactions_anchored"] += 1
        # Plain HTTP both sides: each front packet carrying response body
        # bytes with the back packet (first in file order) that carries
        # its last one, by offset within the body (the header blocks
        # differ), unless that is the anchor pair already.  At dc only;
        # client and wan reach it through dc like every via pair (composed
        # below).
        dcf = ch["flows"].get("dc")
        if r["scheme"] == "http" and dcf is not None and r.get("s2c_off") is not None:
            fs = stream(dcf, "s2c")
            fh = fs.find(b"\r\n\r\n", r["s2c_off"])
            bh = ss.find(b"\r\n\r\n", rsps[k][0])
            if fh >= 0 and bh >= 0:
                fbody, bbody = fh + 4, bh + 4
                blen = rsps[k][1] - bbody
                for p, d in dcf.pkts:
                    if d != "s2c" or not p.plen:
                        continue
                    off = (p.seq - dcf.isn["s2c"] - 1) % M32
                    end = min(off + p.plen, fbody + blen)
                    if end <= fbody or off >= fbody + blen:
                        continue
                    bp = packet_at(fl, "s2c", bbody + end - 1 - fbody)
                    anchor = front.get("dc", (None, None))[1]
                    if bp is not None and (anchor is None or (p.frame, bp.frame) != (anchor.frame, brsp.frame)):
                        body_pairs.append((p.frame, bp.frame, "http-body", True, t["conn"], "s2c"))
                        anchor_stats["body_packets"] += 1
        for pt, (preq, prsp) in front.items():
            via = "adjacent" if pt == "dc" else "via"
            if preq is not None and breq is not None:
                pairs_by_hop.setdefault(("anchor", pt), []).append(
                    (preq.frame, breq.frame, "http-request", True, t["conn"], "c2s"))
            if prsp is not None and brsp is not None:
                pairs_by_hop.setdefault(("anchor", pt), []).append(
                    (prsp.frame, brsp.frame, "http-response", True, t["conn"], "s2c"))

    # ---- write packets.csv
    def emit(a, b, lst, hop):
        for fa, fb, kind, certain, conn, d in lst:
            rows.append((a, fa, b, fb, kind, 1 if certain else 0, hop,
                         ts_of[b][fb] - ts_of[a][fa], conn, d))
    for a, b in HOPS:
        emit(a, b, same_packet[(a, b)], "adjacent")
    for (a, b), lst in composed.items():
        emit(a, b, lst, "via")
    for pt in ("client", "wan", "dc"):
        emit(pt, "lbserver", pairs_by_hop.get(("anchor", pt), []), "adjacent" if pt == "dc" else "via")
    # Body packets: at dc directly, from client and wan through their
    # packets' pairs with dc (a dc GSO packet's every segment goes along).
    emit("dc", "lbserver", sorted(set(body_pairs)), "adjacent")
    by_dc = collections.defaultdict(list)
    for fdc, flb, kind, certain, conn, d in body_pairs:
        by_dc[fdc].append((flb, certain, conn, d))
    for pt in ("client", "wan"):
        left = composed[(pt, "dc")] if pt == "client" else same_packet[("wan", "dc")]
        out = set()
        for fa, fdc, kind, certain, conn, d in left:
            for flb, certain2, conn2, d2 in by_dc.get(fdc, ()):
                out.add((fa, flb, "http-body", certain and certain2, conn2, d2))
        emit(pt, "lbserver", sorted(out), "via")
    rows.sort(key=lambda r: (ORDER[r[0]], ORDER[r[2]], r[1], r[3]))
    with open(os.path.join(truth, "packets.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["point_a", "frame_a", "point_b", "frame_b", "kind", "certain", "hop", "delta_true_ns",
                    "conn", "dir"])
        w.writerows(rows)
    with open(os.path.join(truth, "unpaired.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hop", "point", "frame", "conn", "dir", "payload_len", "tcp_flags"])
        for a, b, pt, fr, conn, d, plen, fl in sorted(unpaired, key=lambda u: (ORDER[u[0]], u[2], u[3])):
            w.writerow(["%s-%s" % (a, b), pt, fr, conn, d, plen, "0x%03x" % fl if fl else ""])

    # ---- connections.jsonl
    def ct_desc(e):
        if not e:
            return None
        return {"id": e["id"], "orig": list(e["orig"]), "reply": list(e["reply"]),
                "new_ns": e["t_new"], "events": e["events"]}
    with open(os.path.join(truth, "connections.jsonl"), "w") as f:
        for ch in chains:
            fc = ch["flows"]["client"]
            rec = {"conn": ch["id"], "proto": "tcp",
                   "scheme": next((r["scheme"] for r in http_recs if r.get("_chain") is ch), None),
                   "points": {pt: fl.desc() for pt, fl in ch["flows"].items()},
                   "nat": {k: ct_desc(v) for k, v in ch["nat"].items()},
                   "lb_back": [fl.desc() for fl in lb_back.get(ch["id"], [])],
                   "requests": [r["rid"] for r in http_recs if r.get("_chain") is ch],
                   "complete": all(pt in ch["flows"] for pt in ("client", "wan", "dc"))}
            rec["lb_back_points"] = "lbserver"
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    # ---- transactions.jsonl (HTTP, then DNS)
    dns_client = {}
    for p in caps["client"]:
        if p.proto == 17 and p.dns_id is not None:
            dns_client.setdefault((p.dns_id, p.dns_qr), p)
    with open(os.path.join(truth, "transactions.jsonl"), "w") as f:
        for t in transactions:
            out = dict(t)
            out.pop("lb_back_flow", None)
            out["type"] = "http"
            if t.get("lb_back_flow") is not None:
                out["lb_back"] = t["lb_back_flow"].desc()
            f.write(json.dumps(out, sort_keys=True) + "\n")
        for r in dns_recs:
            out = {"type": "dns", "qid": r["qid"], "qname": r["qname"], "qtype": r["qtype"],
                   "ok": r.get("ok"), "rcode": r.get("rcode"), "answers": r.get("answers"),
                   "client": {k: r.get(k) for k in ("src", "sport", "dst", "dport", "start_ns", "end_ns",
                                                    "attempt")},
                   "frames": {}}
            for pt in POINTS:
                fr = {}
                for qr, name in ((0, "query"), (1, "response")):
                    for k, lst in dns_by_point[pt].items():
                        if k[0] == r["qid"] and k[1] == qr:
                            fr[name] = [p.frame for p in lst]
                            fr[name + "_tuple"] = list(lst[0].tuple())
                out["frames"][pt] = fr
            f.write(json.dumps(out, sort_keys=True) + "\n")

    # ---- points.json
    with open(os.path.join(truth, "points.json"), "w") as f:
        json.dump({"order": POINTS, "hops": ["%s-%s" % h for h in HOPS],
                   "points": {pt: dict(run["points"][pt], file="points/%s.pcapng" % pt,
                                       raw="raw/%s.pcap" % pt, frames=nframes[pt]) for pt in POINTS}},
                  f, indent=1)

    # ---- summary.json
    kinds = collections.Counter()
    per_hop = collections.defaultdict(collections.Counter)
    for r in rows:
        per_hop["%s-%s" % (r[0], r[2])]["%s%s" % (r[4], "" if r[5] else " (ambiguous)")] += 1
        kinds[r[4]] += 1
    unp = collections.Counter("%s %s" % (u[0] + "-" + u[1], u[2]) for u in unpaired)
    counts = {}
    for pt in POINTS:
        c = collections.Counter()
        c["frames"] = nframes[pt]
        for p in caps[pt]:
            c["tcp" if p.proto == 6 else "udp" if p.proto == 17 else "icmp"] += 1
            if p.proto == 6 and p.iplen and p.iplen > 1500:
                c["tcp_over_mtu (TSO/GSO super-packets)"] += 1
        c["other (ARP, ND, ...)"] = nframes[pt] - c["tcp"] - c["udp"] - c["icmp"]
        c["tcp_connections"] = len(flows[pt])
        counts[pt] = dict(c)
    loss = {}
    nft = os.path.join(logs, "nft-dcfw.txt")
    if os.path.exists(nft):
        txt = open(nft).read()
        m = re.search(r"table inet mpl_loss \{(.*?)\n\}", txt, re.S)
        if m:
            dropped = [int(x) for x in re.findall(r"packets (\d+)", m.group(1))]
            # Every drop is a packet seen at one side of the wan-dc hop only.
            loss = {"dropped_client_to_server": dropped[0], "dropped_server_to_client": dropped[1],
                    "unpaired_at_wan": unp.get("wan-dc wan", 0), "unpaired_at_dc": unp.get("wan-dc dc", 0),
                    "note": "with --synproxy each connection adds 3 unpaired packets on each side "
                            "(handshakes made by dcfw)"}
    summary = {
        "run": run,
        "packets_per_point": counts,
        "connections": {"tcp_chains": len(chains),
                        "complete_client_wan_dc": sum(1 for c in chains
                                                      if all(p in c["flows"] for p in ("client", "wan", "dc"))),
                        "lb_back_connections": sum(len(v) for v in lb_back.values()),
                        "lbserver_flows": len(flows["lbserver"])},
        "transactions": {"http_requests": len(http_recs),
                         "http_ok": sum(1 for r in http_recs if r.get("ok")),
                         "https": sum(1 for r in http_recs if r.get("scheme") == "https"),
                         "haproxy_lines": len(hap), "nginx_lines": len(ngx),
                         "dns_queries": len(dns_recs), "dns_ok": sum(1 for r in dns_recs if r.get("ok"))},
        "pairs_per_point_pair": {k: dict(v) for k, v in sorted(per_hop.items())},
        "pairs_per_kind": dict(kinds),
        "unpaired_per_hop_point": dict(unp),
        "hop_info": {k: dict(v) for k, v in hop_info.items()},
        "dns_mapping_checks": dict(dns_checks),
        "anchor_checks": dict(anchor_stats),
        "issues": dict(issues),
        "loss": loss,
    }
    with open(os.path.join(truth, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    # short report on stderr
    print("truth: frames %s" % {pt: nframes[pt] for pt in POINTS}, file=sys.stderr)
    print("truth: %d TCP connections (%d complete client-wan-dc), %d LB back connections, "
          "%d HTTP transactions (%d ok), %d DNS queries" % (
              len(chains), summary["connections"]["complete_client_wan_dc"],
              summary["connections"]["lb_back_connections"], len(http_recs),
              summary["transactions"]["http_ok"], len(dns_recs)), file=sys.stderr)
    for k, v in sorted(per_hop.items(), key=lambda kv: (ORDER[kv[0].split("-")[0]], ORDER[kv[0].split("-")[1]])):
        print("truth: pairs %-16s %s" % (k, dict(v)), file=sys.stderr)
    if unp:
        print("truth: unpaired %s" % dict(unp), file=sys.stderr)
    if issues:
        print("truth: issues %s" % dict(issues), file=sys.stderr)
    print("truth: checks dns %s anchors %s" % (dict(dns_checks), dict(anchor_stats)), file=sys.stderr)
    if loss:
        print("truth: loss %s" % {k: v for k, v in loss.items() if k != "note"}, file=sys.stderr)


if __name__ == "__main__":
    main()
