#!/usr/bin/env python3
"""Independent CTRACE test vectors, written straight from the evidence.

Usage: ctrace-vectors.py OUTDIR

Writes SYSTCPDA/SYSTCPOT trace files in every framing and OUTDIR/expected.tsv,
the values an analyst expects Wireshark and `pktmatch convert` to show.

Nothing here comes from the project's Rust code (the `ctrace` crate's layout
table, ctrace-synth): every offset below is written out from the evidence in
docs/ctrace-format.md, "Evidence" —

  S1: IBM's PTHDR_T as compiled into colinpaicemq/zWireshark's load module
      (disassembled printPacket(): PTH_Len u16 at 0, PTH_SeqNum 2, PTH_Flag 3
      with PTH_Local X'80', PTH_CfTxt X'40', PTH_ClearTxt X'20', PTH_Out
      X'01', PTH_DevTy 4, PTH_Tlen 24 bits at 5..7, PTH_Name 8..23 (data
      trace: PTH_JobNm 8..15, PTH_DtDomain 16, PTH_DtType 17, PTH_DtProto 18,
      PTH_DtState 19), PTH_Time 24..31, PTH_Src 32..47, PTH_Dst 48..63,
      PTH_SPort 64, PTH_DPort 66, PTH_Plen u16 at 82, PTH_InfIx u32 at 84,
      PTH_DropRsn u16 at 88 and PTH_OffSegLen u16 at 90 when PTH_Len >= 92,
      sizeof(pthdr_t) 92; cteoff u16 at CTE+2, ctefmtid u32 at CTE+4);
  IBM:  the CTE (CTELENP 0, CTEOFF 2, CTEFMTID 4, CTETIME 8, data, CTELENE
      last); segmented records (PTH_Tlen the whole set's total, same
      PTH_Time, PTH_SeqNum 0, 1, ...; records over 65 534 bytes are split);
      DFSMS RDW (length 4..32 760, bytes 3-4 zero), SDW (segment control code
      in the low 2 bits of byte 3: 01 first, 11 middle, 10 last), BDW;
      the TOD clock (bit 51 = 1 microsecond, epoch 1900).

The bytes the evidence does not name (PTHDR 68..81, the writer's own record
header) are filled with values nothing may read: a reader that took PTH_Plen
or PTH_Tlen from the old guessed offsets, or PTH_Out from X'10', gets these
vectors wrong.
"""

import os
import sys

# --- the evidence, spelled out ------------------------------------------------

CTE_HEADER = 16            # struct cte: CTELENP, CTEOFF, CTEFMTID, CTETIME
PTH_FULL = 92              # S1: sizeof(struct pthdr_t)
OUT, LOCAL = 0x01, 0x80    # S1: PTH_Flag bits
IPAQENET, IPAQENET6 = 39, 53
MAX_ENTRY = 65534          # IBM: records larger than this are segmented
RDW_MAX = 32760            # DFSMS: the longest record an RDW describes
SEG_MAX_DATA = 32756 - 4   # DFSMS: a segment is at most 32 756 bytes, SDW included
BLOCK_MAX = 32760
TOD_UNIX_EPOCH = 2208988800 * 1000000 * 4096

EBCDIC = {c: b for c, b in zip(
    " ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    [0x40] + list(range(0xC1, 0xCA)) + list(range(0xD1, 0xDA))
    + list(range(0xE2, 0xEA)) + list(range(0xF0, 0xFA)))}


def ebcdic(text, width):
    return bytes(EBCDIC[c] for c in text).ljust(width, b'\x40')


def be(value, width):
    return value.to_bytes(width, 'big')


def ip16(text):
    """PTH_Src/PTH_Dst: IPv4 IPv4-mapped (S2), IPv6 as is."""
    if ':' in text:
        import ipaddress
        return ipaddress.IPv6Address(text).packed
    return b'\x00' * 10 + b'\xff\xff' + bytes(int(p) for p in text.split('.'))


def tod(unix_us):
    return (unix_us << 12) + TOD_UNIX_EPOCH


def cte(fmtid, ctetime, data):
    length = CTE_HEADER + len(data) + 2
    assert length <= 65535
    return (be(length, 2) + be(CTE_HEADER, 2) + be(fmtid, 4) + be(ctetime, 8)
            + data + be(length, 2))


def pthdr(hlen, seq, flags, devty, tlen, name, when, src, dst, sport, dport,
          plen, ifindex, drop=0, offseg=0):
    h = bytearray(b'\xee' * max(hlen, PTH_FULL))   # unnamed bytes: 0xEE
    h[0:2] = be(hlen, 2)
    h[2] = seq
    h[3] = flags
    h[4] = devty
    h[5:8] = be(tlen, 3)
    h[8:24] = name
    h[24:32] = be(when, 8)
    h[32:48] = ip16(src)
    h[48:64] = ip16(dst)
    h[64:66] = be(sport, 2)
    h[66:68] = be(dport, 2)
    h[82:84] = be(plen, 2)
    h[84:88] = be(ifindex, 4)
    h[88:90] = be(drop, 2)
    h[90:92] = be(offseg, 2)
    return bytes(h[:hlen])


# --- packets (RFC 791/8200/793/768 headers; checksums left zero) ----------------

def ipv4(src, dst, proto, total, payload_after_header):
    h = bytearray(20)
    h[0] = 0x45
    h[2:4] = be(total, 2)
    h[4:6] = be(0x1234, 2)
    h[8] = 64
    h[9] = proto
    h[12:16] = bytes(int(p) for p in src.split('.'))
    h[16:20] = bytes(int(p) for p in dst.split('.'))
    return bytes(h) + payload_after_header


def tcp(sport, dport, payload=b''):
    h = bytearray(20)
    h[0:2] = be(sport, 2)
    h[2:4] = be(dport, 2)
    h[4:8] = be(1000, 4)
    h[12] = 0x50
    h[13] = 0x18
    h[14:16] = be(65535, 2)
    return bytes(h) + payload


def udp(sport, dport, total):
    return be(sport, 2) + be(dport, 2) + be(total, 2) + b'\x00\x00'


T0 = 1796464800 * 1000000   # 2026-12-05 10:00:00 UTC, in microseconds


class Vector:
    def __init__(self, name, fmtid, entries, expect, convert):
        self.name, self.fmtid, self.entries = name, fmtid, entries
        self.expect, self.convert = expect, convert


def epoch(us):
    return '%d.%06d000' % (us // 1000000, us % 1000000)


def vectors():
    v = []
    # 1. outbound IPv4 TCP, full; PTH_OffSegLen holds an MSS-like value
    us = T0 + 1
    pkt = ipv4('10.1.1.1', '10.2.2.2', 6, 60, tcp(1025, 80, b'x' * 20))
    e = cte(4, tod(us + 13), pthdr(92, 0, OUT, IPAQENET, 60, ebcdic('OSAQDIO1', 16), tod(us),
                                   '10.1.1.1', '10.2.2.2', 1025, 80, 60, 5, offseg=1448) + pkt)
    v.append(Vector('outbound', 4, [e], {
        'ctrace.direction': 'To', 'ctrace.flags.out': '1', 'ctrace.tlen': '60',
        'ctrace.plen': '60', 'ctrace.src': '10.1.1.1', 'ctrace.dst': '10.2.2.2',
        'ctrace.srcport': '1025', 'ctrace.dstport': '80', 'frame.time_epoch': epoch(us),
        'ctrace.interface': 'OSAQDIO1', 'ctrace.ifindex': '5', 'ctrace.drop_reason': '0x0000',
        'ctrace.devtype': '39', 'ip.src': '10.1.1.1', 'tcp.srcport': '1025',
        'frame.packet_flags_direction': '0x00000002', 'ctrace.abbreviated': '0'},
        {'cap_len': 60, 'len': 60, 'flags': '0x00000002'}))
    # 2. inbound IPv4 TCP with an unnamed PTH_Flag bit (X'10') set, and an
    #    88-byte header (no PTH_DropRsn, no PTH_OffSegLen)
    us = T0 + 250
    pkt = ipv4('10.2.2.2', '10.1.1.1', 6, 40, tcp(80, 1025))
    e = cte(4, tod(us + 13), pthdr(88, 0, 0x10, IPAQENET, 40, ebcdic('OSAQDIO1', 16), tod(us),
                                   '10.2.2.2', '10.1.1.1', 80, 1025, 40, 5) + pkt)
    v.append(Vector('inbound', 4, [e], {
        'ctrace.direction': 'From', 'ctrace.flags.out': '0', 'ctrace.tlen': '40',
        'ctrace.plen': '40', 'ctrace.src': '10.2.2.2', 'ctrace.dst': '10.1.1.1',
        'ctrace.srcport': '80', 'ctrace.dstport': '1025', 'frame.time_epoch': epoch(us),
        'ctrace.interface': 'OSAQDIO1', 'ctrace.drop_reason': '', 'ctrace.pth.len': '88',
        'ip.src': '10.2.2.2', 'frame.packet_flags_direction': '0x00000001'},
        {'cap_len': 40, 'len': 40, 'flags': '0x00000001'}))
    # 3. abbreviated: ABBREV=200 of a 1500-byte inbound packet
    us = T0 + 1000
    pkt = ipv4('192.0.2.7', '10.1.1.1', 6, 1500, tcp(443, 1026, b'\xab' * 1460))[:200]
    e = cte(4, tod(us + 13), pthdr(92, 0, 0, IPAQENET, 200, ebcdic('OSAQDIO2', 16), tod(us),
                                   '192.0.2.7', '10.1.1.1', 443, 1026, 1500, 6) + pkt)
    v.append(Vector('abbreviated', 4, [e], {
        'ctrace.direction': 'From', 'ctrace.tlen': '200', 'ctrace.plen': '1500',
        'ctrace.abbreviated': '1', 'ctrace.src': '192.0.2.7', 'ctrace.srcport': '443',
        'frame.time_epoch': epoch(us), 'ctrace.interface': 'OSAQDIO2', 'ip.len': '1500'},
        {'cap_len': 200, 'len': 1500, 'flags': '0x00000001'}))
    # 4. outbound IPv6 UDP, IPAQENET6
    us = T0 + 2000
    payload = udp(33000, 33001, 20) + b'q' * 12
    pkt6 = (bytes([0x60, 0, 0, 0]) + be(len(payload), 2) + bytes([17, 64])
            + ip16('2001:db8::10') + ip16('2001:db8::53') + payload)
    e = cte(4, tod(us + 13), pthdr(92, 0, OUT | LOCAL, IPAQENET6, len(pkt6), ebcdic('OSAQDIO16', 16),
                                   tod(us), '2001:db8::10', '2001:db8::53', 33000, 33001, len(pkt6), 7) + pkt6)
    v.append(Vector('ipv6', 4, [e], {
        'ctrace.direction': 'To', 'ctrace.flags.out': '1', 'ctrace.flags.local': '1',
        'ctrace.src6': '2001:db8::10', 'ctrace.dst6': '2001:db8::53', 'ctrace.tlen': '60',
        'ctrace.plen': '60', 'ctrace.srcport': '33000', 'ctrace.dstport': '33001',
        'ctrace.devtype': '53', 'frame.time_epoch': epoch(us), 'ipv6.src': '2001:db8::10'},
        {'cap_len': 60, 'len': 60, 'flags': '0x00000002'}))
    # 5. a 65 535-byte IPv4 datagram, segmented: its record would exceed
    #    65 534 bytes, so two records, PTH_Tlen the total in both
    us = T0 + 3000
    total = 65535
    pkt = ipv4('10.1.1.1', '10.3.3.3', 17, total, udp(7000, 7001, total - 20)
               + bytes(i % 251 for i in range(total - 28)))
    first = MAX_ENTRY - CTE_HEADER - 2 - PTH_FULL
    parts = [pkt[:first], pkt[first:]]
    entries = []
    for seq, part in enumerate(parts):
        entries.append(cte(4, tod(us + 13), pthdr(92, seq, OUT, IPAQENET, total, ebcdic('OSAQDIO1', 16),
                                                  tod(us), '10.1.1.1', '10.3.3.3', 7000, 7001,
                                                  total, 5) + part))
    assert len(entries[0]) == MAX_ENTRY
    v.append(Vector('segmented', 4, entries, {
        'ctrace.direction': 'To', 'ctrace.tlen': '65535', 'ctrace.plen': '65535',
        'ctrace.segments': '2', 'ctrace.segment.seq': '0,1', 'ip.src': '10.1.1.1',
        'ip.len': '65535', 'udp.srcport': '7000', 'frame.time_epoch': epoch(us)},
        {'cap_len': 65535, 'len': 65535, 'flags': '0x00000002'}))
    # 6. an inbound packet the stack discarded: PTH_DropRsn
    us = T0 + 4000
    pkt = ipv4('203.0.113.9', '10.1.1.1', 6, 40, tcp(6666, 23))
    e = cte(4, tod(us + 13), pthdr(92, 0, 0, IPAQENET, 40, ebcdic('OSAQDIO1', 16), tod(us),
                                   '203.0.113.9', '10.1.1.1', 6666, 23, 40, 5, drop=0x1234) + pkt)
    v.append(Vector('discarded', 4, [e], {
        'ctrace.direction': 'From', 'ctrace.drop_reason': '0x1234', 'ctrace.src': '203.0.113.9',
        'ctrace.dstport': '23', 'frame.time_epoch': epoch(us)},
        {'cap_len': 40, 'len': 40, 'flags': '0x00000001'}))
    # 7. data trace (format 5): socket data an application sent
    us = T0 + 5000
    data = b'GET / HTTP/1.1\r\nHost: zos.example\r\n\r\n'
    name = ebcdic('HTTPD1', 8) + bytes([2, 1, 6, 0]) + b'\x00' * 4
    e = cte(5, tod(us + 13), pthdr(92, 0, OUT, IPAQENET, len(data), name, tod(us),
                                   '10.1.1.1', '10.2.2.2', 1025, 80, len(data), 0) + data)
    v.append(Vector('data', 5, [e], {
        'ctrace.direction': 'To', 'ctrace.job': 'HTTPD1', 'ctrace.dt.domain': '2',
        'ctrace.dt.type': '1', 'ctrace.dt.protocol': '6', 'ctrace.tlen': str(len(data)),
        'ctrace.srcport': '1025', 'ctrace.dstport': '80', 'http.request.method': 'GET',
        'frame.time_epoch': epoch(us)},
        {'flags': '0x00000002'}))
    # 8. OSAENTA (format 7): an Ethernet frame with a VLAN tag
    us = T0 + 6000
    icmp = bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b'p' * 56
    frame = (bytes.fromhex('020000000001020000000002') + b'\x81\x00' + be(100, 2) + b'\x08\x00'
             + ipv4('10.9.9.9', '10.1.1.1', 1, 20 + len(icmp), icmp))
    e = cte(7, tod(us + 13), pthdr(92, 0, 0, IPAQENET, len(frame), ebcdic('EZANTAOSAP1', 16), tod(us),
                                   '10.9.9.9', '10.1.1.1', 0, 0, len(frame), 9) + frame)
    v.append(Vector('osaenta', 7, [e], {
        'ctrace.direction': 'From', 'ctrace.interface': 'EZANTAOSAP1', 'ctrace.tlen': str(len(frame)),
        'ctrace.plen': str(len(frame)), 'vlan.id': '100', 'eth.src': '02:00:00:00:00:02',
        'ip.src': '10.9.9.9', 'frame.time_epoch': epoch(us)},
        {'cap_len': len(frame), 'len': len(frame), 'flags': '0x00000001'}))
    # 9. a lost-records marker (CTEFMTID byte 0 X'FF')
    e = cte(0xFF000000, tod(T0 + 7000), b'')
    v.append(Vector('lost', 0, [e], {'ctrace.lost': '1'}, None))  # fmtid: CTEFMTID's low byte
    # 10. one more packet after the marker
    us = T0 + 8000
    pkt = ipv4('10.1.1.1', '10.2.2.2', 6, 40, tcp(1025, 80))
    e = cte(4, tod(us + 13), pthdr(92, 0, OUT, IPAQENET, 40, ebcdic('OSAQDIO1', 16), tod(us),
                                   '10.1.1.1', '10.2.2.2', 1025, 80, 40, 5) + pkt)
    v.append(Vector('after-lost', 4, [e], {'ctrace.direction': 'To', 'frame.time_epoch': epoch(us)},
                    {'cap_len': 40, 'len': 40, 'flags': '0x00000002'}))
    return v


# --- framings -----------------------------------------------------------------

HEADER = ebcdic('SYSTCPDA TCPIP   WTR', 24)   # stands in for the writer's own, unknown


def buffers(entries, size, header):
    """Entries packed into writer buffers of `size` bytes (an entry longer
    than a buffer gets one of its own), each starting with `header`.
    Returns the buffers and, per entry, (buffer, offset in it)."""
    out, at, cur = [], [], None
    for e in entries:
        if cur is not None and len(cur) + len(e) > size:
            out.append(cur)
            cur = None
        if cur is None:
            cur = bytearray(header)
        at.append((len(out), len(cur)))
        cur += e
    if cur is not None:
        out.append(cur)
    return out, at


def framed(bufs):
    """Each buffer one logical record: an RDW, or SDW segments when longer
    than an RDW allows."""
    pieces = []
    for b in bufs:
        if len(b) + 4 <= RDW_MAX:
            pieces.append(be(len(b) + 4, 2) + b'\x00\x00' + bytes(b))
            continue
        chunks = [b[i:i + SEG_MAX_DATA] for i in range(0, len(b), SEG_MAX_DATA)]
        for i, c in enumerate(chunks):
            code = 0b01 if i == 0 else (0b10 if i == len(chunks) - 1 else 0b11)
            pieces.append(be(len(c) + 4, 2) + bytes([code, 0]) + bytes(c))
    return pieces


def write_file(kind, header, entries):
    size = 4096
    bufs, at = buffers(entries, size, header)
    if kind == 'raw':
        data = b''.join(bytes(b) + b'\x00' * ((-len(b)) % size) for b in bufs)
        starts, pos = [], 0
        for b in bufs:
            starts.append(pos)
            pos += len(b) + (-len(b)) % size
    else:
        pieces = framed(bufs)
        if kind == 'rdw':
            data = b''.join(pieces)
        else:
            blocks, cur = [], b''
            for p in pieces:
                if 4 + len(cur) + len(p) > BLOCK_MAX:
                    blocks.append(cur)
                    cur = b''
                cur += p
            blocks.append(cur)
            data = b''.join(be(len(b) + 4, 2) + b'\x00\x00' + b for b in blocks)
        # content positions (descriptors off, no padding)
        starts, pos = [], 0
        for b in bufs:
            starts.append(pos)
            pos += len(b)
    # content position of each entry
    content = [starts[b] + off for b, off in at]
    return data, content, starts


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    vs = vectors()
    entries, owner = [], []
    for i, v in enumerate(vs):
        for e in v.entries:
            entries.append(e)
            owner.append(i)
    rows = []
    for kind in ('raw', 'rdw', 'bdw'):
        for hdr_name, header in (('', b''), ('-hdr', HEADER)):
            name = 'vectors-%s%s.ctrace' % (kind, hdr_name)
            data, content, starts = write_file(kind, header, entries)
            with open(os.path.join(out, name), 'wb') as f:
                f.write(data)
            # Wireshark's frame: from the writer header (when the packet's
            # first entry is its buffer's first) to the end of its last
            # entry, whatever lies between (padding, a header) included.
            buffer_first = set(starts[b] + len(header) for b in range(len(starts)))
            frame = 0
            k = 0
            while k < len(entries):
                v = vs[owner[k]]
                n = len(v.entries)
                first, last = content[k], content[k + n - 1] + len(entries[k + n - 1])
                start = first - len(header) if header and first in buffer_first else first
                frame += 1
                rows.append((name, frame, 'ctrace.fmtid', str(v.fmtid)))
                for field, value in v.expect.items():
                    rows.append((name, frame, field, value))
                cap = last - start
                rows.append((name, frame, 'frame.cap_len', str(cap)))
                if v.convert and 'len' in v.convert:
                    cut = v.convert['len'] - v.convert['cap_len']
                    rows.append((name, frame, 'frame.len', str(cap + cut)))
                # a writer header before each of its entries that opens a buffer
                heads = [HEADER.hex() for j in range(k, k + n)
                         if header and content[j] in buffer_first]
                rows.append((name, frame, 'ctrace.writer_header', ','.join(heads)))
                k += n
            # what `pktmatch convert` writes: the lost marker is no packet
            frame = 0
            for v in vs:
                if v.convert is None:
                    continue
                frame += 1
                conv = name + '.pcapng'
                rows.append((conv, frame, 'frame.packet_flags_direction', v.convert['flags']))
                if 'len' in v.convert:
                    rows.append((conv, frame, 'frame.cap_len', str(v.convert['cap_len'])))
                    rows.append((conv, frame, 'frame.len', str(v.convert['len'])))
                rows.append((conv, frame, 'frame.time_epoch', v.expect['frame.time_epoch']))
    with open(os.path.join(out, 'expected.tsv'), 'w') as f:
        for r in rows:
            f.write('%s\t%d\t%s\t%s\n' % r)


if __name__ == '__main__':
    main()
