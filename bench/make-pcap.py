#!/usr/bin/env python3
"""Writes a large classic pcap by repeating the packets of real captures.

Usage: make-pcap.py OUT.pcap PACKETS IN.pcap...

The packets of the inputs (Ethernet link type) are written again and again,
each copy shifted in time so that time stamps keep increasing, until PACKETS
packets are written.  Used by the benchmark scripts to get a capture of a
given size from the project's real test captures (tests/data/real-*.pcap).
"""
import struct
import sys


def packets(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nanos = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(order + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, expected Ethernet (1)")
    offset = 24
    while offset + 16 <= len(data):
        secs, frac, caplen, length = struct.unpack(order + "IIII", data[offset:offset + 16])
        offset += 16
        ns = secs * 1_000_000_000 + (frac if nanos else frac * 1000)
        yield ns, length, data[offset:offset + caplen]
        offset += caplen


def main():
    out, count, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    source = [p for path in inputs for p in packets(path)]
    source.sort(key=lambda p: p[0])
    start = source[0][0]
    span = source[-1][0] - start + 1_000_000
    with open(out, "wb") as f:
        # nanosecond pcap, Ethernet
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        written = 0
        round_ = 0
        while written < count:
            for ns, length, frame in source:
                if written == count:
                    break
                t = ns + round_ * span
                f.write(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(frame), length))
                f.write(frame)
                written += 1
            round_ += 1


if __name__ == "__main__":
    main()
