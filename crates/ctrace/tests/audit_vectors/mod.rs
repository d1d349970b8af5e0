//! The 2026-12 audit's own CTRACE vectors (docs/ctrace-audit.md), written
//! by hand from the sources, not from the `ctrace` crate: every offset below
//! is a literal with the source it comes from, so that a wrong row in
//! `ctrace::layout` (or in ctrace-synth, or in tests/data/ctrace-vectors.py)
//! cannot hide here.  Shared by crates/ctrace/tests/audit.rs (the crate) and
//! tests/ctrace_audit.rs (real tshark, `pktmatch convert`).
//!
//! Sources (docs/ctrace-audit.md, "Sources"):
//! * S1: IBM's PTHDR_T/CTE as compiled into colinpaicemq/zWireshark @ 9e8efe1
//!   `load/ZWIRESHA.LOAD.XMIT`, printPacket() disassembled again by the
//!   auditor (llvm-mc 14, s390x): LLGH 0 PTH_len; LLGC 2 PTH_SeqNum; LLGC 3
//!   with masks X'80' Local, X'40' CfTxt, X'20' ClearTxt, X'01' Out; LLGC 4
//!   PTH_DevTy; LLGH 5 + LLGC 7 → 24-bit PTH_Tlen; LA 8 PTH_Name; LLGC
//!   16..19 data trace socket bytes; MVC 24(8) PTH_Time; LA 32/48
//!   PTH_Src/Dst; LLGH 64/66 ports; LLGH 82 PTH_Plen; LLGF 84 PTH_InfIx;
//!   LLGH 88 PTH_DropRsn (only when PTH_len >= 92); LLGH 90 PTH_OffSegLen;
//!   sizeof = 92; CTE: LLGH 2 cteoff, LLGF 4 ctefmtid.
//! * IBM "Format of trace records" (struct cte: ctelenp u16, cteoff u16,
//!   ctefmtid u32, ctetime u64; the trailing length last).
//! * IBM "Segmented records" (same PTH_Tlen = total and PTH_Time in every
//!   record of a set; PTH_SeqNum 0, +1, past 256 records back to 1; the
//!   first record holds the IP and transport headers).
//! * DFSMS "Record Descriptor Word" (length incl. RDW, 4..32 760, bytes 3-4
//!   zero), "Segment Descriptor Word" (5..32 756; low 2 bits of byte 3: 01
//!   first, 11 middle, 10 last), "Block Descriptor Word".
//! * IBM support note "When C:D z/OS transfers a VB file there are 4 extra
//!   bytes…": the documented bytes `7D 22 00 00 04 76 00 00` (BDW of a
//!   32 034-byte block, RDW of a 1 142-byte record).
//! * FTP `SITE RDW` of a spanned data set: "FTP reassembles spanned records
//!   into a single record … the last 2 bits of the 3rd byte are zero"
//!   (IBM-MAIN, A. Rowley, 2025-11); DFSMS QSAM: "GET consolidates segments
//!   into logical records and creates the RDW".
//! * TOD: bit 51 = 1 µs, epoch 1900-01-01 (POP); published values:
//!   X'B361183F48000000' = 2000-01-01 00:00:00 (P. Saers, "How to convert a
//!   TOD clock value"), X'FFFFFFFFFFFFFFFF' = 2042-09-17 23:53:47.370495
//!   (IBM's J. Scott, ASSEMBLER-LIST).

#![allow(dead_code)]

/// Unix seconds of 2026-12-05 10:00:00 UTC.
pub const T0_S: u64 = 1_796_464_800;
/// TOD of the Unix epoch: 2 208 988 800 s × 10^6 µs × 4096 (POP: bit 51 = 1 µs).
pub const TOD_1970: u64 = 2_208_988_800 * 1_000_000 * 4096;

/// A TOD value for Unix microseconds.
pub fn tod(unix_us: u64) -> u64 {
    TOD_1970 + (unix_us << 12)
}

/// `frame.time_epoch` as tshark prints it for Unix microseconds.
pub fn epoch(unix_us: u64) -> String {
    format!("{}.{:06}000", unix_us / 1_000_000, unix_us % 1_000_000)
}

fn put(buf: &mut [u8], at: usize, width: usize, value: u64) {
    for i in 0..width {
        buf[at + i] = (value >> (8 * (width - 1 - i))) as u8;
    }
}

/// A CTE (IBM "Format of trace records"): ctelenp(2) cteoff(2) ctefmtid(4)
/// ctetime(8), data from cteoff, the trailing length (2) last.
pub fn cte(fmtid: u32, ctetime: u64, data: &[u8]) -> Vec<u8> {
    let len = 16 + data.len() + 2;
    assert!(len <= 0xFFFF, "a CTE of {len} bytes");
    let mut e = vec![0u8; 16];
    put(&mut e, 0, 2, len as u64);
    put(&mut e, 2, 2, 16);
    put(&mut e, 4, 4, u64::from(fmtid));
    put(&mut e, 8, 8, ctetime);
    e.extend_from_slice(data);
    e.extend_from_slice(&(len as u16).to_be_bytes());
    e
}

/// The values of one packet trace header.
#[derive(Clone, Debug)]
pub struct Pth {
    pub len: usize,
    pub seq: u8,
    pub flags: u8,
    pub devty: u8,
    pub tlen: u32,
    /// 16 bytes of PTH_Name (EBCDIC).
    pub name: [u8; 16],
    pub time: u64,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub plen: u16,
    pub ifindex: u32,
    pub drop: u16,
    pub offseg: u16,
}

/// S1's masks for PTH_Flag (byte 3).
pub const LOCAL: u8 = 0x80;
pub const CF_TXT: u8 = 0x40;
pub const CLEAR_TXT: u8 = 0x20;
pub const OUT: u8 = 0x01;

impl Pth {
    /// A full (92-byte) header for an IPv4 packet at `T0_S` + `us`.
    pub fn v4(src: [u8; 4], dst: [u8; 4], ports: (u16, u16), tlen: u32, out: bool, us: u64) -> Pth {
        Pth {
            len: 92,
            seq: 0,
            flags: if out { OUT } else { 0 },
            devty: 39,
            tlen,
            name: ebcdic16("OSAQDIO1"),
            time: tod(T0_S * 1_000_000 + us),
            src: mapped(src),
            dst: mapped(dst),
            sport: ports.0,
            dport: ports.1,
            plen: tlen as u16,
            ifindex: 5,
            drop: 0,
            offseg: 0,
        }
    }

    /// The header bytes at S1's offsets; bytes no source names are X'DD'
    /// (nothing may read them).
    pub fn bytes(&self) -> Vec<u8> {
        let mut h = vec![0xDDu8; self.len.max(92)];
        put(&mut h, 0, 2, self.len as u64); // PTH_len (LLGH 0)
        h[2] = self.seq; // PTH_SeqNum (LLGC 2)
        h[3] = self.flags; // PTH_Flag (LLGC 3)
        h[4] = self.devty; // PTH_DevTy (LLGC 4)
        put(&mut h, 5, 3, u64::from(self.tlen)); // PTH_Tlen, 24 bits (LLGH 5, LLGC 7)
        h[8..24].copy_from_slice(&self.name); // PTH_Name (LA 8)
        put(&mut h, 24, 8, self.time); // PTH_Time (MVC 24(8))
        h[32..48].copy_from_slice(&self.src); // PTH_Src (LA 32)
        h[48..64].copy_from_slice(&self.dst); // PTH_Dst (LA 48)
        put(&mut h, 64, 2, u64::from(self.sport)); // PTH_SPort (LLGH 64)
        put(&mut h, 66, 2, u64::from(self.dport)); // PTH_DPort (LLGH 66)
        put(&mut h, 82, 2, u64::from(self.plen)); // PTH_Plen (LLGH 82)
        put(&mut h, 84, 4, u64::from(self.ifindex)); // PTH_InfIx (LLGF 84)
        if self.len >= 92 {
            put(&mut h, 88, 2, u64::from(self.drop)); // PTH_DropRsn (LLGH 88)
            put(&mut h, 90, 2, u64::from(self.offseg)); // PTH_OffSegLen (LLGH 90)
        }
        h.truncate(self.len);
        h
    }

    /// A packet trace (format 4) entry of this header and `traced` bytes;
    /// CTETIME 13 µs after PTH_Time (the SHARE 2010 IPCS sample's gap).
    pub fn entry(&self, fmtid: u32, traced: &[u8]) -> Vec<u8> {
        let mut data = self.bytes();
        data.extend_from_slice(traced);
        cte(fmtid, self.time + 13 * 4096, &data)
    }
}

/// IPv4 as PTH_Src/PTH_Dst hold it: IPv4-mapped (S2).
pub fn mapped(v4: [u8; 4]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[10] = 0xFF;
    a[11] = 0xFF;
    a[12..].copy_from_slice(&v4);
    a
}

/// CCSID 37 for upper-case letters, digits and blank, blank padded.
pub fn ebcdic16(text: &str) -> [u8; 16] {
    let mut out = [0x40u8; 16];
    for (o, c) in out.iter_mut().zip(text.bytes()) {
        *o = match c {
            b'A'..=b'I' => 0xC1 + (c - b'A'),
            b'J'..=b'R' => 0xD1 + (c - b'J'),
            b'S'..=b'Z' => 0xE2 + (c - b'S'),
            b'0'..=b'9' => 0xF0 + (c - b'0'),
            _ => 0x40,
        };
    }
    out
}

/// An IPv4 packet (RFC 791; checksum left 0) with a TCP header (RFC 793)
/// and `payload` bytes of `fill`: `total` bytes in all.
pub fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], ports: (u16, u16), total: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; total];
    p[..40].fill(0);
    p[0] = 0x45;
    put(&mut p, 2, 2, total as u64);
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    put(&mut p, 20, 2, u64::from(ports.0));
    put(&mut p, 22, 2, u64::from(ports.1));
    p[32] = 0x50;
    p[33] = 0x10;
    p
}

/// An RDW record (DFSMS): length incl. the 4-byte RDW, bytes 3-4 zero.
/// Longer than 32 760 only as FTP SITE RDW hands over a spanned record.
pub fn rdw(content: &[u8]) -> Vec<u8> {
    let len = content.len() + 4;
    assert!(len <= 0xFFFF);
    let mut r = (len as u16).to_be_bytes().to_vec();
    r.extend_from_slice(&[0, 0]);
    r.extend_from_slice(content);
    r
}

/// A segment with its SDW (DFSMS): `code` 0b01 first, 0b11 middle, 0b10 last.
pub fn sdw(code: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len() + 4;
    assert!((5..=32_756).contains(&len));
    let mut r = (len as u16).to_be_bytes().to_vec();
    r.extend_from_slice(&[code, 0]);
    r.extend_from_slice(content);
    r
}

/// A block with its BDW (DFSMS): length incl. the 4-byte BDW, bytes 3-4 zero.
pub fn bdw(content: &[u8]) -> Vec<u8> {
    let len = content.len() + 4;
    assert!(len <= 32_760);
    let mut r = (len as u16).to_be_bytes().to_vec();
    r.extend_from_slice(&[0, 0]);
    r.extend_from_slice(content);
    r
}

/// What an analyst expects of one frame.
#[derive(Clone, Debug, Default)]
pub struct Want {
    pub direction: &'static str,
    pub tlen: u32,
    pub plen: u32,
    /// Bytes Wireshark gets as the frame (the whole record).
    pub cap_len: usize,
    /// Bytes traced (the packet, segments joined).
    pub traced: usize,
    pub time_us: u64,
    pub segments: usize,
}

/// One test file and what each of its frames must show.
pub struct Vector {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub frames: Vec<Want>,
}

fn frame(p: &Pth, cap_len: usize, traced: usize, segments: usize) -> Want {
    Want {
        direction: if p.flags & OUT != 0 { "To" } else { "From" },
        tlen: p.tlen,
        plen: u32::from(p.plen),
        cap_len,
        traced,
        time_us: (p.time - TOD_1970) >> 12,
        segments,
    }
}

/// A run of packets (outbound and inbound by turns), each a whole entry.
fn packets(n: usize, size: usize, first_us: u64) -> (Vec<Vec<u8>>, Vec<Want>) {
    let mut entries = Vec::new();
    let mut wants = Vec::new();
    for i in 0..n {
        let out = i % 2 == 0;
        let (a, b) = ([10, 1, 1, 1], [10, 2, 2, 2]);
        let (src, dst, ports) = if out {
            (a, b, (1025, 80))
        } else {
            (b, a, (80, 1025))
        };
        let pkt = ipv4_tcp(src, dst, ports, size, i as u8);
        let p = Pth::v4(src, dst, ports, size as u32, out, first_us + i as u64 * 100);
        let e = p.entry(4, &pkt);
        wants.push(frame(&p, e.len(), size, 1));
        entries.push(e);
    }
    (entries, wants)
}

/// FTP `SITE RDW` of a spanned (VBS) writer data set: FTP hands each
/// logical record over whole, behind one RDW with segment code 00, so a
/// record of 40 000 bytes comes with an RDW of 40 004.  Then an ordinary
/// short record.
pub fn ftp_vbs() -> Vector {
    let (entries, frames) = packets(30, 1300, 1_000);
    let big: Vec<u8> = entries[..29].concat();
    assert!(big.len() + 4 > 32_760 && big.len() + 4 <= 0xFFFF);
    let mut bytes = rdw(&big);
    bytes.extend(rdw(&entries[29]));
    Vector {
        name: "audit-ftp-vbs.ctrace",
        bytes,
        frames,
    }
}

/// Connect:Direct RECFM=U: BDW X'7D220000' (a 32 034-byte block) whose
/// first record's RDW is X'04760000' (1 142 bytes) — the bytes of IBM's
/// support note — then records filling the block exactly.
pub fn cd_block() -> Vector {
    // record 1: 1 142 bytes = RDW 4 + one entry of 1 138 bytes
    // (CTE 16 + PTHDR 92 + trailer 2 → 1 028 traced bytes)
    let (e1, mut frames) = packets(1, 1_028, 2_000);
    assert_eq!(e1[0].len() + 4, 0x0476);
    let mut block = rdw(&e1[0]);
    // the rest of the 32 034 bytes (less the BDW): records of 3 entries
    let mut left = 0x7D22 - 4 - block.len();
    let mut us = 2_100;
    while left > 0 {
        let rec_len = left.min(9_000);
        // one entry filling the record: RDW 4 + CTE 18 + PTHDR 92 + packet
        let size = rec_len - 4 - 18 - 92;
        let (e, w) = packets(1, size, us);
        assert_eq!(e[0].len() + 4, rec_len);
        block.extend(rdw(&e[0]));
        frames.extend(w);
        left -= rec_len;
        us += 100;
    }
    let bytes = bdw(&block);
    assert_eq!(&bytes[..8], &[0x7D, 0x22, 0, 0, 0x04, 0x76, 0, 0]);
    Vector {
        name: "audit-cd-block.ctrace",
        bytes,
        frames,
    }
}

/// A VB data set of LRECL 27 994 (a practitioner's preallocation,
/// shared/research/ctrace-ibm-layout.md) holding the writer's stream of
/// entries cut at record boundaries: entries cross records.  Whether the
/// writer ever does this is not known; a reader of the descriptors' content
/// stream must not lose a packet if it does.
pub fn straddling() -> Vector {
    let (entries, frames) = packets(12, 9_000, 3_000);
    let stream = entries.concat();
    let mut bytes = Vec::new();
    for chunk in stream.chunks(27_994 - 4) {
        bytes.extend(rdw(chunk));
    }
    Vector {
        name: "audit-straddling.ctrace",
        bytes,
        frames,
    }
}

/// A segmented set of 258 records (IBM "Segmented records": PTH_SeqNum 0,
/// 1, …, 255, then back to 1, 2), the first with the IP and TCP headers, the
/// others one byte each; PTH_Tlen the total in every record; then one
/// ordinary packet.  Raw framing (binary FTP), entries back to back.
pub fn seq_wrap() -> Vector {
    let total = 40 + 257;
    let pkt = ipv4_tcp([10, 1, 1, 1], [10, 3, 3, 3], (7000, 7001), total, 0x5A);
    let mut p = Pth::v4(
        [10, 1, 1, 1],
        [10, 3, 3, 3],
        (7000, 7001),
        total as u32,
        true,
        4_000,
    );
    let mut bytes = Vec::new();
    let mut seq = 0u8;
    let mut at = 0;
    let mut seqs = Vec::new();
    while at < total {
        let n = if at == 0 { 40 } else { 1 };
        p.seq = seq;
        seqs.push(seq);
        bytes.extend(p.entry(4, &pkt[at..at + n]));
        at += n;
        seq = if seq == 255 { 1 } else { seq + 1 };
    }
    assert_eq!(seqs.len(), 258);
    assert_eq!(&seqs[255..], &[255, 1, 2]);
    let mut frames = vec![frame(&p, bytes.len(), total, 258)];
    let (e, w) = packets(1, 60, 4_100);
    bytes.extend(&e[0]);
    frames.extend(w);
    Vector {
        name: "audit-seq-wrap.ctrace",
        bytes,
        frames,
    }
}

/// Every PTH_Flag bit alone, and mixtures: only X'01' (S1: PTH_Out) makes
/// a packet outbound.
pub const FLAG_VALUES: [u8; 11] = [
    0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01, 0xFE, 0x81, 0xFF,
];

pub fn flags() -> Vector {
    variants("audit-flags.ctrace", &FLAG_VALUES, 5_000, |p, &f| {
        p.flags = f
    })
}

/// One 40-byte inbound IPv4 packet per item, each header changed by `vary`.
fn variants<T>(
    name: &'static str,
    items: &[T],
    first_us: u64,
    vary: impl Fn(&mut Pth, &T),
) -> Vector {
    let (src, dst, ports) = ([192, 0, 2, 9], [10, 1, 1, 1], (6666, 23));
    let pkt = ipv4_tcp(src, dst, ports, 40, 0);
    let mut bytes = Vec::new();
    let mut frames = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut p = Pth::v4(src, dst, ports, 40, false, first_us + i as u64);
        vary(&mut p, item);
        let e = p.entry(4, &pkt);
        frames.push(frame(&p, e.len(), 40, 1));
        bytes.extend(e);
    }
    Vector {
        name,
        bytes,
        frames,
    }
}

/// Header lengths 88 (no PTH_DropRsn/PTH_OffSegLen), 92 with a drop reason,
/// and 100 (a later release's longer header: the packet starts at
/// PTH_len, S1 reads it from there).  Drop reasons from IBM's "TCP/IP
/// Discard reason codes": X'1006' (4102, IP_BAD_CKSUM, IP layer 4096-8191)
/// and X'2000' (8192, the first of the TCP layer's 8192-12287).
pub const HEADER_LENGTHS: [(usize, u16); 3] = [(88, 0), (92, 0x1006), (100, 0x2000)];

pub fn header_lengths() -> Vector {
    variants(
        "audit-header-lengths.ctrace",
        &HEADER_LENGTHS,
        6_000,
        |p, &(len, drop)| {
            p.len = len;
            p.drop = drop;
        },
    )
}

/// Data trace (format 5) of an 80 000-byte socket send: PTH_Tlen 80 000
/// needs its 24 bits (S1), the set is two records (each at most 65 534
/// bytes, IBM), and a 16-bit PTH_Plen cannot say 80 000 — what z/OS puts
/// there is not known; here its low 16 bits.
pub fn big_data_trace() -> Vector {
    let total = 80_000usize;
    let data: Vec<u8> = (0..total).map(|i| b'a' + (i % 26) as u8).collect();
    let mut p = Pth::v4(
        [10, 1, 1, 1],
        [10, 2, 2, 2],
        (1025, 8080),
        total as u32,
        true,
        7_000,
    );
    let mut name = [0u8; 16];
    name[..8].copy_from_slice(&ebcdic16("BIGSEND")[..8]);
    name[8..12].copy_from_slice(&[2, 1, 6, 0]); // AF_INET, SOCK_STREAM, TCP, state 0
    p.name = name;
    p.plen = (total & 0xFFFF) as u16;
    let first = 65_534 - 18 - 92;
    let mut bytes = Vec::new();
    for (seq, part) in [&data[..first], &data[first..]].into_iter().enumerate() {
        p.seq = seq as u8;
        bytes.extend(p.entry(5, part));
    }
    let mut want = frame(&p, bytes.len(), total, 2);
    want.plen = u32::from(p.plen);
    Vector {
        name: "audit-big-data-trace.ctrace",
        bytes,
        frames: vec![want],
    }
}

/// Every audit vector.
pub fn all() -> Vec<Vector> {
    vec![
        ftp_vbs(),
        cd_block(),
        straddling(),
        seq_wrap(),
        flags(),
        header_lengths(),
        big_data_trace(),
    ]
}

/// A small deterministic generator (xorshift64) for the mutation tests.
pub struct Rand(pub u64);

impl Rand {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A position in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
