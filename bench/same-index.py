#!/usr/bin/env python3
"""Tells whether two pktmatch indexes hold the same thing: byte for byte,
except the header's CREATED_NS (bytes 24..32, docs/index-format.md) and the
CHECKSUM section (the last 8 bytes) whose CRC covers it.  Used to check that a speed change
leaves the index of the benchmark sessions unchanged.

Usage: same-index.py A.pktmatch B.pktmatch   (exit status 0: the same)
"""
import sys

CREATED = slice(24, 32)
CHECKSUM = 8


def body(path):
    with open(path, "rb") as f:
        b = bytearray(f.read())
    b[CREATED] = bytes(8)
    return bytes(b[:-CHECKSUM])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = body(sys.argv[1]), body(sys.argv[2])
    if a == b:
        print("same index (%d bytes)" % len(a))
        return
    n = min(len(a), len(b))
    first = next((i for i in range(n) if a[i] != b[i]), n)
    sys.exit("indexes differ: sizes %d and %d, first difference at byte %d" % (len(a), len(b), first))


if __name__ == "__main__":
    main()
