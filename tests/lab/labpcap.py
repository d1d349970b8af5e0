"""Minimal pcap/pcapng reader and Ethernet/IPv4/IPv6/TCP/UDP/DNS dissector
for the multi-point capture lab (standard library only).

Frames are numbered 1, 2, ... in file order, as Wireshark numbers them
(every packet record counts, whatever its protocol).
"""

import socket
import struct

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def read_capture(path):
    """Yields (frame, ts_ns, linktype, data, orig_len)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        yield from _read_pcapng(data)
    else:
        yield from _read_pcap(data)


def _read_pcap(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a pcap/pcapng file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off, frame = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        frame += 1
        yield frame, sec * 1_000_000_000 + frac * (1 if nano else 1000), linktype, data[off:off + incl], orig
        off += incl


def _read_pcapng(data):
    off, frame = 0, 0
    e = "<"
    ifaces = []
    while off + 12 <= len(data):
        btype = struct.unpack("<I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + blen - 4]
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 1:
            linktype = struct.unpack(e + "H", body[:2])[0]
            resol, tsoff = 6, 0
            p = 8
            while p + 4 <= len(body):
                code, ln = struct.unpack(e + "HH", body[p:p + 4])
                if code == 0:
                    break
                v = body[p + 4:p + 4 + ln]
                if code == 9:
                    resol = v[0]
                elif code == 14:
                    tsoff = struct.unpack(e + "q", v)[0]
                p += 4 + ((ln + 3) & ~3)
            if resol & 0x80:
                units = 1 << (resol & 0x7F)
            else:
                units = 10 ** resol
            ifaces.append((linktype, units, tsoff))
        elif btype in (6, 2):
            if btype == 6:
                iface, hi, lo, incl, orig = struct.unpack(e + "IIIII", body[:20])
            else:
                iface, _, hi, lo, incl, orig = struct.unpack(e + "HHIIII", body[:20])
            linktype, units, tsoff = ifaces[iface]
            raw = (hi << 32) | lo
            if 1_000_000_000 % units == 0:
                ts = raw * (1_000_000_000 // units)
            else:
                ts = (raw * 1_000_000_000 + units // 2) // units
            ts += tsoff * 1_000_000_000
            frame += 1
            yield frame, ts, linktype, body[20:20 + incl], orig
        elif btype == 3:
            frame += 1
            orig = struct.unpack(e + "I", body[:4])[0]
            linktype = ifaces[0][0] if ifaces else 1
            yield frame, None, linktype, body[4:4 + orig], orig
        off += blen


class Pkt:
    __slots__ = ("frame", "ts", "fam", "src", "dst", "proto", "ipid", "iplen", "sport", "dport",
                 "seq", "ack", "flags", "win", "tsval", "tsecr", "sack", "plen", "payload",
                 "dns_id", "dns_qr", "dns_qname", "dns_qtype", "dns_rcode", "wire_len",
                 "icmp_type", "icmp_id", "icmp_seq", "icmp_body")

    def __init__(self):
        for s in self.__slots__:
            setattr(self, s, None)

    def tuple(self):
        return (self.src, self.sport, self.dst, self.dport)


def _dns(p, data):
    if len(data) < 12:
        return
    qid, flags, qd = struct.unpack(">HHH", data[:6])
    p.dns_id, p.dns_qr, p.dns_rcode = qid, flags >> 15, flags & 0xF
    if qd < 1:
        return
    off, labels = 12, []
    try:
        while True:
            n = data[off]
            if n == 0:
                off += 1
                break
            if n & 0xC0:
                return
            labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace").lower())
            off += 1 + n
        p.dns_qname = ".".join(labels)
        p.dns_qtype = struct.unpack(">H", data[off:off + 2])[0]
    except (IndexError, struct.error):
        pass


def dissect(frame, ts, linktype, data, orig_len, keep_payload=False):
    """Returns a Pkt for IPv4/IPv6 TCP/UDP packets, else None."""
    if linktype == 1:               # Ethernet
        off = 12
        etype = struct.unpack(">H", data[off:off + 2])[0]
        off += 2
        while etype in (0x8100, 0x88A8) and len(data) >= off + 4:
            etype = struct.unpack(">H", data[off + 2:off + 4])[0]
            off += 4
    elif linktype == 113:           # Linux cooked
        etype = struct.unpack(">H", data[14:16])[0]
        off = 16
    elif linktype in (101, 12, 228, 229):
        off = 0
        etype = 0x0800 if data[0] >> 4 == 4 else 0x86DD
    else:
        return None
    p = Pkt()
    p.frame, p.ts, p.wire_len = frame, ts, orig_len
    if etype == 0x0800 and len(data) >= off + 20:
        ihl = (data[off] & 0x0F) * 4
        tot, ident = struct.unpack(">HH", data[off + 2:off + 6])
        p.fam, p.proto, p.ipid = 4, data[off + 9], ident
        p.src = socket.inet_ntop(socket.AF_INET, data[off + 12:off + 16])
        p.dst = socket.inet_ntop(socket.AF_INET, data[off + 16:off + 20])
        frag = struct.unpack(">H", data[off + 6:off + 8])[0]
        if frag & 0x1FFF:
            return None             # non-first fragment
        l4 = off + ihl
        # GSO super-packets can have a total length of 0 (> 64 KB): use the capture.
        p.iplen = tot if tot else (orig_len - off)
        l4_len = p.iplen - ihl
    elif etype == 0x86DD and len(data) >= off + 40:
        plen_hdr = struct.unpack(">H", data[off + 4:off + 6])[0]
        nxt = data[off + 6]
        p.fam = 6
        p.src = socket.inet_ntop(socket.AF_INET6, data[off + 8:off + 24])
        p.dst = socket.inet_ntop(socket.AF_INET6, data[off + 24:off + 40])
        l4 = off + 40
        l4_len = plen_hdr if plen_hdr else (orig_len - l4)
        while nxt in (0, 43, 60) and len(data) >= l4 + 8:   # hop-by-hop, routing, dest opts
            hl = (data[l4 + 1] + 1) * 8
            nxt = data[l4]
            l4 += hl
            l4_len -= hl
        if nxt == 44:
            return None
        p.proto = nxt
        p.iplen = l4_len + (l4 - off)
    else:
        return None
    if p.proto == 6 and len(data) >= l4 + 20:
        p.sport, p.dport, p.seq, p.ack, offfl, p.win = struct.unpack(">HHIIHH", data[l4:l4 + 16])
        doff = (offfl >> 12) * 4
        p.flags = offfl & 0x1FF
        p.plen = l4_len - doff
        opt = data[l4 + 20:l4 + doff]
        i = 0
        while i < len(opt):
            kind = opt[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            if i + 1 >= len(opt):
                break
            ln = opt[i + 1]
            if ln < 2:
                break
            if kind == 8 and ln == 10:
                p.tsval, p.tsecr = struct.unpack(">II", opt[i + 2:i + 10])
            elif kind == 5 and ln >= 10:
                p.sack = tuple(struct.unpack(">II", opt[j:j + 8]) for j in range(i + 2, i + ln, 8))
            i += ln
        if keep_payload:
            p.payload = data[l4 + doff:l4 + doff + max(p.plen, 0)]
    elif p.proto == 17 and len(data) >= l4 + 8:
        p.sport, p.dport, ulen = struct.unpack(">HHH", data[l4:l4 + 6])
        p.plen = ulen - 8
        pl = data[l4 + 8:l4 + ulen]
        if p.sport == 53 or p.dport == 53:
            _dns(p, pl)
        if keep_payload:
            p.payload = pl
    elif p.proto in (1, 58) and len(data) >= l4 + 8:
        # ICMP / ICMPv6 echo (RFC 792, RFC 4443): type, code, checksum, id,
        # sequence number, then the data the reply echoes.
        p.icmp_type, _code, _sum, p.icmp_id, p.icmp_seq = struct.unpack(">BBHHH", data[l4:l4 + 8])
        p.sport = p.dport = p.icmp_id
        p.plen = l4_len - 8
        p.icmp_body = bytes(data[l4 + 8:l4 + l4_len])
    else:
        return None
    return p


def load(path, keep_payload=False):
    """Returns (packets [Pkt], total frame count)."""
    pkts, n = [], 0
    for frame, ts, lt, data, orig in read_capture(path):
        n = frame
        p = dissect(frame, ts, lt, data, orig, keep_payload)
        if p is not None:
            pkts.append(p)
    return pkts, n
