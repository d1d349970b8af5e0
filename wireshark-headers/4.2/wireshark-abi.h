/*
 * pktmatch — Wireshark 4.2 is not supported yet.
 *
 * Every variant header must be checked against the real headers of its
 * version (tests/layout.rs).  Debian ships no 4.2 (bookworm has 4.0, trixie
 * 4.4, sid 4.6), so there are no 4.2 headers we can fetch and verify, and the
 * values that moved in 4.2 (COL_* numbering, packet_info layout) would be
 * guesses.  Until a verifiable 4.2 source is available, building for 4.2
 * stops here rather than producing a plugin that could crash Wireshark.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#error "pktmatch: Wireshark 4.2 headers are not verified (no Debian package to check them against); see docs/ffi.md"
