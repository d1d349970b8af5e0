//! Writing records, position by position from [`crate::layout`]: the CTE,
//! the packet trace header and the record descriptors.  The fixture writer
//! (ctrace-synth) and this crate's tests build with it, so the one table
//! decides what is written as well as what is read; what checks the table
//! itself are the independent vectors (tests/data/ctrace-vectors.py), written
//! from the evidence, not from here.

use crate::layout::{bdw, cte, pthdr, rdw};

/// One CTE: CTELENP, CTEOFF = 16, CTEFMTID, CTETIME, `data`, CTELENE.
/// Panics if the entry would exceed 65 535 bytes (a caller's bug).
pub fn cte(format_id: u32, ctetime: u64, data: &[u8]) -> Vec<u8> {
    let len = cte::HEADER_LEN + data.len() + cte::TRAILER_LEN;
    assert!(len <= crate::cte::MAX_LEN, "CTE of {len} bytes");
    let mut v = vec![0u8; len];
    cte::LENP.put_uint(&mut v, len as u64);
    cte::OFF.put_uint(&mut v, cte::HEADER_LEN as u64);
    cte::FMTID.put_uint(&mut v, u64::from(format_id));
    cte::TIME.put_uint(&mut v, ctetime);
    v[cte::HEADER_LEN..len - cte::TRAILER_LEN].copy_from_slice(data);
    cte::LENE.put_uint(&mut v, len as u64);
    v
}

/// A record (or segment) descriptor word: `len` counts the descriptor.
pub fn rdw(len: usize, segment_code: u8) -> [u8; rdw::SIZE] {
    let mut d = [0u8; rdw::SIZE];
    rdw::LEN.put_uint(&mut d, len as u64);
    rdw::SEGMENT.put_uint(&mut d, u64::from(segment_code & rdw::CODE_MASK));
    d
}

/// A block descriptor word: standard up to 32 760 bytes, else extended.
pub fn bdw(len: usize) -> [u8; bdw::SIZE] {
    let mut d = [0u8; bdw::SIZE];
    if len <= bdw::MAX_BLOCK {
        bdw::LEN.put_uint(&mut d, len as u64);
    } else {
        bdw::EXT_LEN.put_uint(&mut d, len as u64);
        d[0] |= bdw::EXTENDED;
    }
    d
}

/// PTH_Name's width.
const NAME: usize = pthdr::NAME.width;

/// A blank-padded 16-byte EBCDIC name (PTH_Name); longer names are cut.
pub fn name16(name: &str) -> [u8; NAME] {
    let mut a = [0x40u8; NAME];
    for (slot, b) in a.iter_mut().zip(crate::ebcdic::encode(name)) {
        *slot = b;
    }
    a
}

/// The values of one packet trace header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub seq: u8,
    pub flags: u8,
    pub device_type: u8,
    /// PTH_Tlen (24 bits).
    pub tlen: u32,
    /// PTH_Name, 16 bytes, EBCDIC (data trace: job name and socket bytes).
    pub name: [u8; NAME],
    pub tod: u64,
    pub src: [u8; pthdr::SRC.width],
    pub dst: [u8; pthdr::DST.width],
    pub sport: u16,
    pub dport: u16,
    /// The 14 bytes nobody names (68..82).
    pub unknown: [u8; pthdr::UNKNOWN.width],
    pub plen: u16,
    pub interface_index: u32,
    pub drop_reason: u16,
    pub off_seg_len: u16,
}

impl Header {
    /// The header as sizeof(pthdr_t) bytes (PTH_Len = 92).
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes_with_len(pthdr::FULL_LEN)
    }

    /// The header with PTH_Len = `len` (at least 88): shorter than 92 drops
    /// PTH_DropRsn and PTH_OffSegLen, longer pads with zeros (a newer
    /// release's fields).
    pub fn bytes_with_len(&self, len: usize) -> Vec<u8> {
        assert!(len >= pthdr::MIN_LEN, "PTH_Len {len}");
        let mut h = vec![0u8; len.max(pthdr::FULL_LEN)];
        pthdr::LEN.put_uint(&mut h, len as u64);
        pthdr::SEQ_NUM.put_uint(&mut h, u64::from(self.seq));
        pthdr::FLAG.put_uint(&mut h, u64::from(self.flags));
        pthdr::DEV_TY.put_uint(&mut h, u64::from(self.device_type));
        pthdr::TLEN.put_uint(&mut h, u64::from(self.tlen.min(crate::pthdr::MAX_TLEN)));
        pthdr::NAME.put_bytes(&mut h, &self.name);
        pthdr::TIME.put_uint(&mut h, self.tod);
        pthdr::SRC.put_bytes(&mut h, &self.src);
        pthdr::DST.put_bytes(&mut h, &self.dst);
        pthdr::SPORT.put_uint(&mut h, u64::from(self.sport));
        pthdr::DPORT.put_uint(&mut h, u64::from(self.dport));
        pthdr::UNKNOWN.put_bytes(&mut h, &self.unknown);
        pthdr::PLEN.put_uint(&mut h, u64::from(self.plen));
        pthdr::INF_IX.put_uint(&mut h, u64::from(self.interface_index));
        pthdr::DROP_RSN.put_uint(&mut h, u64::from(self.drop_reason));
        pthdr::OFF_SEG_LEN.put_uint(&mut h, u64::from(self.off_seg_len));
        h.truncate(len);
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        assert_eq!(rdw(23, rdw::COMPLETE), [0, 23, 0, 0]);
        assert_eq!(rdw(100, rdw::MIDDLE), [0, 100, 3, 0]);
        assert_eq!(bdw(32_760), [0x7F, 0xF8, 0, 0]);
        assert_eq!(bdw(40_026), [0x80, 0, 0x9C, 0x5A]);
    }

    #[test]
    fn cte_bytes() {
        let c = cte(4, 0x0102_0304_0506_0708, b"ab");
        assert_eq!(
            c,
            vec![0, 20, 0, 16, 0, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, b'a', b'b', 0, 20]
        );
        assert_eq!(name16("ETH1")[..5], [0xC5, 0xE3, 0xC8, 0xF1, 0x40]);
    }

    #[test]
    fn short_header_keeps_its_length() {
        let h = Header {
            drop_reason: 9,
            ..Header::default()
        };
        assert_eq!(h.bytes_with_len(88).len(), 88);
        assert_eq!(h.bytes_with_len(100).len(), 100);
        assert_eq!(h.bytes()[pthdr::DROP_RSN.range()], [0, 9]);
    }
}
