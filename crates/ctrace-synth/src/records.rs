//! The bytes of one CTE and its packet trace header, written from the
//! tables of docs/ctrace-format.md.
//!
//! Every constant here duplicates one of the `ctrace` crate on purpose: the
//! writer must not share code with the reader it is meant to test, so that a
//! wrong offset in one is caught by the other instead of being carried into
//! both.  If the document changes, change both (and the tests will say if
//! they disagree).

/// CTE header length; CTEOFF is always 16 here.
pub const CTE_HEADER: usize = 16;
/// CTELENE.
pub const CTE_TRAILER: usize = 2;

/// Format ids (low byte of CTEFMTID).
pub const FMT_PACKET: u32 = 4;
pub const FMT_DATA: u32 = 5;
pub const FMT_OSAENTA: u32 = 7;
/// Lost-records marker: CTEFMTID byte 0 X'FF'.
pub const FMT_LOST: u32 = 0xFF00_0000;

/// PTHDR_T offsets (from the start of the header).
pub mod off {
    pub const LEN: usize = 0;
    pub const SEQ_NUM: usize = 2;
    pub const FLAG: usize = 3;
    pub const DEV_TYPE: usize = 4;
    pub const OPT: usize = 5;
    pub const NAME: usize = 8;
    pub const DT_DOMAIN: usize = 16;
    pub const DT_TYPE: usize = 17;
    pub const DT_PROTO: usize = 18;
    pub const DT_STATE: usize = 19;
    pub const TIME: usize = 24;
    pub const SRC: usize = 32;
    pub const DST: usize = 48;
    pub const SPORT: usize = 64;
    pub const DPORT: usize = 66;
    pub const PLEN: usize = 68;
    pub const PROTOCOL: usize = 73;
    pub const VLAN: usize = 74;
    pub const OFF_SEG: usize = 76;
    pub const TLEN: usize = 80;
    pub const INF_IX: usize = 84;
    pub const DROP_RSN: usize = 88;
}

/// PTH_Len the writer emits.
pub const PTH_LEN: usize = 92;

/// PTH_Flag bits.
pub const FLAG_LOCAL: u8 = 0x80;
pub const FLAG_OUT: u8 = 0x10;
/// PTH_Opt: PTO_SEGMENT.
pub const OPT_SEGMENT: u8 = 0x80;

/// PTH_DevTy values.
pub const DEV_IPAQENET: u8 = 39;
pub const DEV_IPAQENET6: u8 = 53;

/// Largest CTE data (IBM: at most 60 KB of variable data).
pub const MAX_DATA: usize = 61_440;
/// Largest traced bytes per record, and the default segment size.
pub const MAX_SEGMENT: usize = MAX_DATA - PTH_LEN;

/// TOD units between PTH_Time and CTETIME (13 µs).
pub const CTETIME_DELAY: u64 = 13 * 4096;

/// TOD of the Unix epoch; one TOD unit is 1/4096 µs.
const UNIX_EPOCH_TOD: i128 = 0x7D91_048B_CA00_0000;

/// Nanoseconds since the Unix epoch (UTC) → TOD, rounded up to the next
/// TOD unit: `ceil(ns × 512 / 125)` + epoch.  `leap_seconds` = TOD − UTC.
pub fn tod_from_unix_ns(ns: i64, leap_seconds: i64) -> u64 {
    let ns = ns as i128 + leap_seconds as i128 * 1_000_000_000;
    let units = (ns * 512 + 124).div_euclid(125);
    (units + UNIX_EPOCH_TOD).clamp(0, u64::MAX as i128) as u64
}

/// ASCII 0x20..=0x7E → EBCDIC CCSID 37 (generated from the published CCSID
/// 37 mapping); anything else becomes '?'.
const ASCII_TO_CP037: [u8; 95] = [
    0x40, 0x5A, 0x7F, 0x7B, 0x5B, 0x6C, 0x50, 0x7D, 0x4D, 0x5D, 0x5C, 0x4E, 0x6B, 0x60, 0x4B,
    0x61, //
    0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0x7A, 0x5E, 0x4C, 0x7E, 0x6E,
    0x6F, //
    0x7C, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5,
    0xD6, //
    0xD7, 0xD8, 0xD9, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xBA, 0xE0, 0xBB, 0xB0,
    0x6D, //
    0x79, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x91, 0x92, 0x93, 0x94, 0x95,
    0x96, //
    0x97, 0x98, 0x99, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xC0, 0x4F, 0xD0, 0xA1,
];

/// Text → EBCDIC CCSID 37 ('\n' becomes NL X'15').
pub fn ebcdic(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\n' => 0x15,
            ' '..='~' => ASCII_TO_CP037[c as usize - 0x20],
            _ => 0x6F,
        })
        .collect()
}

/// A blank-padded EBCDIC name field of `len` bytes.
pub fn ebcdic_name(name: &str, len: usize) -> Vec<u8> {
    let mut v = ebcdic(name);
    v.truncate(len);
    v.resize(len, 0x40);
    v
}

/// An IP address as PTH_Src/PTH_Dst hold it (IPv4 mapped).
pub fn ip16(ip: std::net::IpAddr) -> [u8; 16] {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut a = [0u8; 16];
            a[10] = 0xFF;
            a[11] = 0xFF;
            a[12..].copy_from_slice(&v4.octets());
            a
        }
        std::net::IpAddr::V6(v6) => v6.octets(),
    }
}

/// The values of one packet trace header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub seq: u8,
    pub flags: u8,
    pub device_type: u8,
    pub options: u8,
    /// PTH_Name, 16 bytes, EBCDIC.
    pub name: [u8; 16],
    pub tod: u64,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub plen: u32,
    pub protocol: u8,
    pub vlan: u16,
    pub seg_offset: u32,
    pub tlen: u32,
    pub interface_index: u32,
}

impl Header {
    /// The 92 header bytes.
    pub fn bytes(&self) -> [u8; PTH_LEN] {
        let mut h = [0u8; PTH_LEN];
        h[off::LEN..off::LEN + 2].copy_from_slice(&(PTH_LEN as u16).to_be_bytes());
        h[off::SEQ_NUM] = self.seq;
        h[off::FLAG] = self.flags;
        h[off::DEV_TYPE] = self.device_type;
        h[off::OPT] = self.options;
        h[off::NAME..off::NAME + 16].copy_from_slice(&self.name);
        h[off::TIME..off::TIME + 8].copy_from_slice(&self.tod.to_be_bytes());
        h[off::SRC..off::SRC + 16].copy_from_slice(&self.src);
        h[off::DST..off::DST + 16].copy_from_slice(&self.dst);
        h[off::SPORT..off::SPORT + 2].copy_from_slice(&self.sport.to_be_bytes());
        h[off::DPORT..off::DPORT + 2].copy_from_slice(&self.dport.to_be_bytes());
        h[off::PLEN..off::PLEN + 4].copy_from_slice(&self.plen.to_be_bytes());
        h[off::PROTOCOL] = self.protocol;
        h[off::VLAN..off::VLAN + 2].copy_from_slice(&self.vlan.to_be_bytes());
        h[off::OFF_SEG..off::OFF_SEG + 4].copy_from_slice(&self.seg_offset.to_be_bytes());
        h[off::TLEN..off::TLEN + 4].copy_from_slice(&self.tlen.to_be_bytes());
        h[off::INF_IX..off::INF_IX + 4].copy_from_slice(&self.interface_index.to_be_bytes());
        // PTH_DropRsn (88) and the reserved bytes stay zero.
        h
    }
}

/// One CTE: CTELENP, CTEOFF 16, CTEFMTID, CTETIME, data, CTELENE.
pub fn cte(format_id: u32, ctetime: u64, data: &[u8]) -> Vec<u8> {
    let len = CTE_HEADER + data.len() + CTE_TRAILER;
    assert!(len <= u16::MAX as usize, "CTE of {len} bytes");
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    v.extend_from_slice(&(CTE_HEADER as u16).to_be_bytes());
    v.extend_from_slice(&format_id.to_be_bytes());
    v.extend_from_slice(&ctetime.to_be_bytes());
    v.extend_from_slice(data);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    v
}

/// The CTEs of one traced packet: `bytes` split into pieces of at most
/// `segment` bytes, one record each, with PTH_SeqNum 0, 1, … (255 → 1),
/// PTO_SEGMENT and PTH_OffSegLen set when there is more than one.
pub fn records(format_id: u32, header: &Header, bytes: &[u8], segment: usize) -> Vec<Vec<u8>> {
    let segment = segment.clamp(1, MAX_SEGMENT);
    let pieces: Vec<&[u8]> = if bytes.is_empty() {
        vec![bytes]
    } else {
        bytes.chunks(segment).collect()
    };
    let split = pieces.len() > 1;
    let mut seq = 0u8;
    let mut out = Vec::with_capacity(pieces.len());
    for (i, piece) in pieces.iter().enumerate() {
        let mut h = header.clone();
        h.seq = seq;
        if split {
            h.options |= OPT_SEGMENT;
            h.seg_offset = (i * segment) as u32;
        }
        let mut data = h.bytes().to_vec();
        data.extend_from_slice(piece);
        out.push(cte(
            format_id,
            header.tod.wrapping_add(CTETIME_DELAY),
            &data,
        ));
        seq = if seq == 255 { 1 } else { seq + 1 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cte_layout() {
        let c = cte(4, 0x0102_0304_0506_0708, b"ab");
        assert_eq!(
            c,
            vec![0, 20, 0, 16, 0, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, b'a', b'b', 0, 20]
        );
    }

    #[test]
    fn header_layout() {
        let h = Header {
            seq: 3,
            flags: FLAG_OUT,
            device_type: DEV_IPAQENET,
            name: ebcdic_name("ETH1", 16).try_into().unwrap(),
            tod: 0x1122_3344_5566_7788,
            src: ip16("10.0.0.1".parse().unwrap()),
            sport: 0x1234,
            plen: 0x0A0B_0C0D,
            tlen: 7,
            interface_index: 9,
            vlan: 5,
            protocol: 6,
            seg_offset: 0x100,
            ..Header::default()
        };
        let b = h.bytes();
        assert_eq!(&b[0..6], &[0, 92, 3, 0x10, 39, 0]);
        assert_eq!(&b[8..12], &[0xC5, 0xE3, 0xC8, 0xF1]);
        assert_eq!(b[12], 0x40);
        assert_eq!(&b[24..32], &0x1122_3344_5566_7788u64.to_be_bytes());
        assert_eq!(&b[42..48], &[0xFF, 0xFF, 10, 0, 0, 1]);
        assert_eq!(&b[64..66], &[0x12, 0x34]);
        assert_eq!(&b[68..72], &[0x0A, 0x0B, 0x0C, 0x0D]);
        assert_eq!((b[73], b[75]), (6, 5));
        assert_eq!(&b[76..80], &[0, 0, 1, 0]);
        assert_eq!(&b[80..92], &[0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0]);
    }

    #[test]
    fn segmentation() {
        let h = Header {
            tlen: 10,
            ..Header::default()
        };
        let r = records(FMT_PACKET, &h, b"0123456789", 4);
        assert_eq!(r.len(), 3);
        for (i, c) in r.iter().enumerate() {
            let d = &c[16..c.len() - 2];
            assert_eq!(d[off::SEQ_NUM], i as u8);
            assert_eq!(d[off::OPT], OPT_SEGMENT);
            assert_eq!(
                u32::from_be_bytes(d[76..80].try_into().unwrap()),
                4 * i as u32
            );
        }
        assert_eq!(&r[2][16 + 92..r[2].len() - 2], b"89");
        let one = records(FMT_PACKET, &h, b"", 4);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0][16 + off::OPT], 0);
        let many = records(FMT_PACKET, &h, &[0; 300], 1);
        assert_eq!(many[255][16 + 2], 255);
        assert_eq!(many[256][16 + 2], 1);
    }

    #[test]
    fn tod() {
        assert_eq!(tod_from_unix_ns(0, 0), 0x7D91_048B_CA00_0000);
        assert_eq!(tod_from_unix_ns(1000, 0), 0x7D91_048B_CA00_0000 + 4096);
        assert_eq!(tod_from_unix_ns(1, 0), 0x7D91_048B_CA00_0000 + 5); // ceil(4.096)
        assert_eq!(
            tod_from_unix_ns(0, 1) - tod_from_unix_ns(0, 0),
            4_096_000_000
        );
    }

    #[test]
    fn text() {
        assert_eq!(ebcdic("A a\n0~"), vec![0xC1, 0x40, 0x81, 0x15, 0xF0, 0xA1]);
        assert_eq!(ebcdic("é"), vec![0x6F]);
        assert_eq!(ebcdic_name("LONGER THAN EIGHT", 8).len(), 8);
    }
}
