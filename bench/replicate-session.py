#!/usr/bin/env python3
"""Makes a large multi-point session for the indexer benchmark by repeating
a real lab run (tests/lab/run.sh) COPIES times.

Usage: replicate-session.py [--vary-ports] [--snaplen N] LABDIR OUTDIR COPIES

For every point file LABDIR/points/<point>.pcapng (or LABDIR/<point>.pcapng)
writes OUTDIR/<point>.pcap (classic pcap, nanosecond time stamps) holding the
point's packets COPIES times.  Copy k is shifted in time by k times the
session's length plus one second, and rewritten the same way at every point
so that copies are distinct packets and the matching structure (NAT, TSO,
the proxy, clock offsets) stays that of the real run:

* IPv4 identification XOR (k * 40503 mod 65536);
* TCP sequence and acknowledgement numbers + k * 0x01000193 (acknowledgement
  only when the ACK flag is set), TCP timestamps TSval/TSecr + k * 7919;
* DNS transaction id (UDP port 53) XOR k.

With --vary-ports, every TCP/UDP port from 10000 up (the ephemeral ports:
the client's, the NAT's, the proxy's back connections; the lab's services
listen on 53, 80, 443, 8080 and 8443) becomes 10000 + (port - 10000 +
k * 7) mod 55536 at every point, so that each copy's connections have 5-tuples
of their own (thousands of distinct connections and translations) while the
NAT and proxy mappings stay consistent across the points.

With --snaplen N, every frame is cut to its first N bytes (the original
length is kept in the record header, as tcpdump -s N writes it) and the file
header's snapshot length is N: the captures an appliance or `tcpdump -s 256`
records.

Checksums are not recomputed (neither the indexer nor tshark -T fields
checks them).  Only Ethernet/IPv4 frames are rewritten; others are copied.
This is a documented generator for benchmarks, not a source of truth: the
lab's truth files describe the original run only.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lab"))
import labpcap  # noqa: E402

SEQ_STEP = 0x01000193
TS_STEP = 7919


PORT_BASE = 10000
PORT_STEP = 7


def vary_port(port, k):
    if port < PORT_BASE:
        return port
    return PORT_BASE + (port - PORT_BASE + k * PORT_STEP) % (65536 - PORT_BASE)


def rewrite(frame, k, vary_ports=False):
    if k == 0 or len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    b = bytearray(frame)
    ihl = (b[14] & 0x0F) * 4
    ip_id = struct.unpack_from(">H", b, 18)[0] ^ ((k * 40503) & 0xFFFF)
    struct.pack_into(">H", b, 18, ip_id)
    proto = b[23]
    frag = struct.unpack_from(">H", b, 20)[0] & 0x1FFF
    l4 = 14 + ihl
    if frag:
        return bytes(b)
    if vary_ports and proto in (6, 17) and len(b) >= l4 + 4:
        sport, dport = struct.unpack_from(">HH", b, l4)
        struct.pack_into(">HH", b, l4, vary_port(sport, k), vary_port(dport, k))
    if proto == 6 and len(b) >= l4 + 20:
        seq, ack = struct.unpack_from(">II", b, l4 + 4)
        flags = b[l4 + 13]
        seq = (seq + k * SEQ_STEP) & 0xFFFFFFFF
        if flags & 0x10:
            ack = (ack + k * SEQ_STEP) & 0xFFFFFFFF
        struct.pack_into(">II", b, l4 + 4, seq, ack)
        doff = (b[l4 + 12] >> 4) * 4
        p, end = l4 + 20, min(l4 + doff, len(b))
        while p < end:
            kind = b[p]
            if kind == 0:
                break
            if kind == 1:
                p += 1
                continue
            if p + 1 >= end:
                break
            olen = b[p + 1]
            if olen < 2:
                break
            if kind == 8 and olen == 10 and p + 10 <= end:
                tsval, tsecr = struct.unpack_from(">II", b, p + 2)
                tsval = (tsval + k * TS_STEP) & 0xFFFFFFFF
                if tsecr:
                    tsecr = (tsecr + k * TS_STEP) & 0xFFFFFFFF
                struct.pack_into(">II", b, p + 2, tsval, tsecr)
            p += olen
    elif proto == 17 and len(b) >= l4 + 10:
        sport, dport = struct.unpack_from(">HH", b, l4)
        if 53 in (sport, dport) and len(b) >= l4 + 10:
            qid = struct.unpack_from(">H", b, l4 + 8)[0] ^ (k & 0xFFFF)
            struct.pack_into(">H", b, l4 + 8, qid)
    return bytes(b)


def main():
    args = sys.argv[1:]
    vary_ports = "--vary-ports" in args
    args = [a for a in args if a != "--vary-ports"]
    snaplen = 262144
    if "--snaplen" in args:
        i = args.index("--snaplen")
        snaplen = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    lab, out, copies = args[0], args[1], int(args[2])
    os.makedirs(out, exist_ok=True)
    src = os.path.join(lab, "points") if os.path.isdir(os.path.join(lab, "points")) else lab
    points = [p[:-7] for p in sorted(os.listdir(src)) if p.endswith(".pcapng")]
    packets = {p: list(labpcap.read_capture(os.path.join(src, p + ".pcapng"))) for p in points}
    # Clock offsets between points (minutes, hours) are kept: the shift only
    # has to exceed the span of every point's own times.
    span = max(pk[-1][1] - pk[0][1] for pk in packets.values() if pk) + 1_000_000_000
    for p in points:
        pk = packets[p]
        linktype = pk[0][2] if pk else 1
        with open(os.path.join(out, p + ".pcap"), "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snaplen, linktype))
            for k in range(copies):
                shift = k * span
                for _, ts, _, data, orig in pk:
                    t = ts + shift
                    d = rewrite(data, k, vary_ports)[:snaplen]
                    f.write(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(d), orig))
                    f.write(d)
        print("%s: %d packets" % (os.path.join(out, p + ".pcap"), len(pk) * copies))


if __name__ == "__main__":
    main()
