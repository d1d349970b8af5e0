//! The bytes of one CTE and its packet trace header, written with the
//! `ctrace` crate's [`ctrace::build`] from its layout table — the same table
//! the reader uses.  What checks the table against IBM's real layout is not
//! this writer but the independent vectors (tests/data/ctrace-vectors.py),
//! written straight from the evidence.

pub use ctrace::build::{cte, Header};
use ctrace::layout::{cte as cte_field, pthdr};

/// Format ids (CTEFMTID) the writer emits.
pub const FMT_PACKET: u32 = ctrace::cte::FMT_PACKET as u32;
pub const FMT_DATA: u32 = ctrace::cte::FMT_DATA as u32;
pub const FMT_OSAENTA: u32 = ctrace::cte::FMT_OSAENTA as u32;
/// Lost-records marker: CTEFMTID byte 0 X'FF'.
pub const FMT_LOST: u32 = (ctrace::cte::FMT_LOST as u32) << 24;

/// PTH_Flag bits.
pub const FLAG_LOCAL: u8 = pthdr::LOCAL.mask;
pub const FLAG_OUT: u8 = pthdr::OUT.mask;

/// PTH_DevTy values.
pub const DEV_IPAQENET: u8 = ctrace::pthdr::DEV_IPAQENET;
pub const DEV_IPAQENET6: u8 = ctrace::pthdr::DEV_IPAQENET6;

/// The longest entry z/OS writes unsegmented: "Segmented records are created
/// when the resulting trace record is larger than 65534 bytes" (IBM IP
/// Programmer's Guide, "Segmented records").
pub const MAX_ENTRY: usize = 65_534;
/// Largest traced bytes per record, and the default segment size.
pub const MAX_SEGMENT: usize =
    MAX_ENTRY - cte_field::HEADER_LEN - cte_field::TRAILER_LEN - pthdr::FULL_LEN;

/// TOD units between PTH_Time and CTETIME (13 µs, as in the SHARE 2010
/// IPCS report).
pub const CTETIME_DELAY: u64 = 13 * ctrace::tod::UNITS_PER_US;

/// Nanoseconds since the Unix epoch (UTC) → TOD, rounded up to the next
/// TOD unit.  `leap_seconds` = TOD − UTC.
pub fn tod_from_unix_ns(ns: i64, leap_seconds: i64) -> u64 {
    ctrace::tod::from_unix_ns(ns, leap_seconds)
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

/// Text → EBCDIC CCSID 37 ('\n' becomes NL X'15'), for reports and XMIT
/// text units.
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
    ctrace::pthdr::ip_to_16(ip)
}

/// The CTEs of one traced packet: `bytes` split into pieces of at most
/// `segment` bytes, one record each, with PTH_SeqNum 0, 1, … (255 → 1) and
/// PTH_Tlen the whole set's length in every record (IBM "Segmented
/// records").
pub fn records(format_id: u32, header: &Header, bytes: &[u8], segment: usize) -> Vec<Vec<u8>> {
    let segment = segment.clamp(1, MAX_SEGMENT);
    let pieces: Vec<&[u8]> = if bytes.is_empty() {
        vec![bytes]
    } else {
        bytes.chunks(segment).collect()
    };
    let mut seq = 0u8;
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let mut h = header.clone();
        h.seq = seq;
        let mut data = h.bytes();
        data.extend_from_slice(piece);
        out.push(cte(
            format_id,
            header.tod.wrapping_add(CTETIME_DELAY),
            &data,
        ));
        seq = ctrace::pthdr::next_seq(seq);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctrace::{Cte, Pthdr};

    #[test]
    fn segmentation() {
        let h = Header {
            tlen: 10,
            ..Header::default()
        };
        let r = records(FMT_PACKET, &h, b"0123456789", 4);
        assert_eq!(r.len(), 3);
        for (i, c) in r.iter().enumerate() {
            let c = Cte::new_checked(c).unwrap();
            let p = Pthdr::from_cte(&c).unwrap();
            assert_eq!(p.seq_num(), i as u8);
            assert_eq!(p.traced_len(), 10);
        }
        let one = records(FMT_PACKET, &h, b"", 4);
        assert_eq!(one.len(), 1);
        let many = records(FMT_PACKET, &h, &[0; 300], 1);
        let seq = |c: &Vec<u8>| {
            Pthdr::from_cte(&Cte::new_checked(c).unwrap())
                .unwrap()
                .seq_num()
        };
        assert_eq!(seq(&many[255]), 255);
        assert_eq!(seq(&many[256]), 1);
        assert_eq!(MAX_SEGMENT, 65_424);
        let full = records(FMT_PACKET, &h, &vec![0; MAX_SEGMENT], MAX_SEGMENT);
        assert_eq!(full[0].len(), MAX_ENTRY);
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
