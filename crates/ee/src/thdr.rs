//! RTP transport header (THDR) and its optional segments.
//!
//! Fixed part (20 bytes): TCID (0–7), flags (8, 9), data offset in 4-byte
//! words (10–11), data length field DLF (12–15), byte sequence number BSN
//! (16–19).  Then, if CQFI, a connection qualifier (length, key, data, as
//! Wireshark reads it: the only public description; low confidence); if
//! OSI, optional segments up to the data offset, each `[length in 4-byte
//! words, header included][type]`.  Sources and confidence: docs/ee.md,
//! "THDR".

use crate::cv::{Framing, Vector, Vectors};
use crate::{be16, be32, be64, need, Error};

pub mod field {
    use std::ops::Range;
    pub const TCID: Range<usize> = 0..8;
    pub const FLAGS0: Range<usize> = 8..9;
    pub const FLAGS1: Range<usize> = 9..10;
    pub const DATA_OFFSET: Range<usize> = 10..12;
    pub const DLF: Range<usize> = 12..16;
    pub const BSN: Range<usize> = 16..20;
    pub const FIXED_LEN: usize = 20;
    /// Connection qualifier (CQFI), from FIXED_LEN: length of the data,
    /// key (Wireshark packet-sna.c dissect_nlp: length byte first, key
    /// X'05' network address second, length + 2 bytes in all; before
    /// 2026-12 `ee` read key first, with no source), data.
    pub const QUALIFIER_LEN: Range<usize> = 0..1;
    pub const QUALIFIER_KEY: Range<usize> = 1..2;
    pub const QUALIFIER_DATA: usize = 2;
}

/// Byte 8 flags.
pub mod flags0 {
    pub const SETUPI: u8 = 0x40;
    pub const SOMI: u8 = 0x20;
    pub const EOMI: u8 = 0x10;
    pub const SRI: u8 = 0x08;
    pub const RASAPI: u8 = 0x04;
    pub const RETRYI: u8 = 0x02;
}

/// Byte 9 flags.
pub mod flags1 {
    pub const LMI: u8 = 0x80;
    pub const CQFI: u8 = 0x08;
    pub const OSI: u8 = 0x04;
}

/// A checked THDR: fixed part, data offset within the bytes, and the
/// connection qualifier (if any) in range.
#[derive(Clone, Copy, Debug)]
pub struct Thdr<'a> {
    bytes: &'a [u8],
    segments_start: usize,
}

impl<'a> Thdr<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, 0, field::FIXED_LEN, "RTP transport header")?;
        let view = Thdr {
            bytes,
            segments_start: field::FIXED_LEN,
        };
        let header_len = view.header_len();
        if header_len < field::FIXED_LEN {
            return Err(Error::Invalid {
                what: "THDR data offset",
                offset: field::DATA_OFFSET.start,
                value: view.data_offset_words().into(),
                rule: "the header is at least 5 words (20 bytes)",
            });
        }
        need(bytes, 0, header_len, "RTP transport header (data offset)")?;
        let mut segments_start = field::FIXED_LEN;
        if view.flags1() & flags1::CQFI != 0 {
            need(bytes, field::FIXED_LEN, 2, "connection qualifier")?;
            let len = usize::from(bytes[field::FIXED_LEN + field::QUALIFIER_LEN.start])
                + field::QUALIFIER_DATA;
            if field::FIXED_LEN + len > header_len {
                return Err(Error::Truncated {
                    what: "connection qualifier",
                    offset: field::FIXED_LEN,
                    needed: len,
                    available: header_len - field::FIXED_LEN,
                });
            }
            segments_start += len;
        }
        Ok(Thdr {
            bytes,
            segments_start,
        })
    }

    pub fn tcid(&self) -> u64 {
        be64(self.bytes, field::TCID.start)
    }
    pub fn flags0(&self) -> u8 {
        self.bytes[field::FLAGS0.start]
    }
    pub fn flags1(&self) -> u8 {
        self.bytes[field::FLAGS1.start]
    }
    pub fn has(&self, flag0: u8) -> bool {
        self.flags0() & flag0 != 0
    }
    pub fn data_offset_words(&self) -> u16 {
        be16(self.bytes, field::DATA_OFFSET.start)
    }
    /// THDR length in bytes (where the data starts).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset_words()) * 4
    }
    pub fn dlf(&self) -> u32 {
        be32(self.bytes, field::DLF.start)
    }
    pub fn bsn(&self) -> u32 {
        be32(self.bytes, field::BSN.start)
    }
    /// The connection qualifier: (offset, key, data).
    pub fn connection_qualifier(&self) -> Option<(usize, u8, &'a [u8])> {
        (self.flags1() & flags1::CQFI != 0).then(|| {
            let at = field::FIXED_LEN;
            (
                at,
                self.bytes[at + field::QUALIFIER_KEY.start],
                &self.bytes[at + field::QUALIFIER_DATA..self.segments_start],
            )
        })
    }
    /// The optional segments (empty unless OSI is set).
    pub fn segments(&self) -> Segments<'a> {
        let end = if self.flags1() & flags1::OSI != 0 {
            self.header_len()
        } else {
            self.segments_start
        };
        Segments {
            bytes: &self.bytes[..end],
            offset: self.segments_start,
            failed: false,
        }
    }
    /// The bytes after the header: DLF bytes of data, as far as captured.
    pub fn data(&self) -> &'a [u8] {
        let rest = &self.bytes[self.header_len()..];
        &rest[..rest.len().min(self.dlf() as usize)]
    }
}

/// Optional segment types.
pub mod kind {
    pub const CONNECTION_SETUP: u8 = 0x0D;
    pub const STATUS: u8 = 0x0E;
    pub const CLIENT_OUT_OF_BAND: u8 = 0x0F;
    pub const CONNECTION_ID_EXCHANGE: u8 = 0x10;
    pub const CONNECTION_FAULT: u8 = 0x12;
    pub const SWITCHING_INFORMATION: u8 = 0x14;
    pub const ADAPTIVE_RATE_BASED: u8 = 0x22;
}

pub const SEGMENT_TYPES: &[(u8, &str)] = &[
    (kind::CONNECTION_SETUP, "Connection setup"),
    (kind::STATUS, "Status"),
    (kind::CLIENT_OUT_OF_BAND, "Client out-of-band bits"),
    (
        kind::CONNECTION_ID_EXCHANGE,
        "Connection identifier exchange",
    ),
    (kind::CONNECTION_FAULT, "Connection fault"),
    (kind::SWITCHING_INFORMATION, "Switching information"),
    (kind::ADAPTIVE_RATE_BASED, "Adaptive rate-based (ARB)"),
];

/// The two header bytes of every optional segment.
pub mod segment {
    use std::ops::Range;
    /// Length in 4-byte words, header included.
    pub const LEN: Range<usize> = 0..1;
    pub const TYPE: Range<usize> = 1..2;
    pub const HEADER_LEN: usize = 2;
}

/// One optional segment: `bytes` covers it whole, header included.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Offset within the THDR.
    pub offset: usize,
    pub kind: u8,
    pub bytes: &'a [u8],
}

pub struct Segments<'a> {
    bytes: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let at = self.offset;
        self.failed = true;
        if let Err(e) = need(self.bytes, at, 2, "optional segment header") {
            return Some(Err(e));
        }
        let words = self.bytes[at + segment::LEN.start];
        if words == 0 {
            return Some(Err(Error::Invalid {
                what: "optional segment length",
                offset: at,
                value: 0,
                rule: "a segment is at least one 4-byte word",
            }));
        }
        let len = usize::from(words) * 4;
        if let Err(e) = need(self.bytes, at, len, "optional segment") {
            return Some(Err(e));
        }
        self.failed = false;
        self.offset = at + len;
        Some(Ok(Segment {
            offset: at,
            kind: self.bytes[at + segment::TYPE.start],
            bytes: &self.bytes[at..at + len],
        }))
    }
}

fn segment_need(seg: &Segment, len: usize, what: &'static str) -> Result<(), Error> {
    need(seg.bytes, 0, len, what).map_err(|e| e.at(seg.offset))
}

/// 0x0D connection setup.
pub mod setup {
    use std::ops::Range;
    pub const VERSION: Range<usize> = 2..4;
    pub const FLAGS: Range<usize> = 4..5;
    pub const RESERVED: Range<usize> = 5..8;
    /// Control vectors (length-key, padded to 4 bytes) from here.
    pub const VECTORS: usize = 8;
    pub const TARGET_RESOURCE_ID: u8 = 0x80;
    pub const ARB_FLOW_CONTROL: u8 = 0x10;
    pub const RELIABLE: u8 = 0x08;
    pub const DEDICATED: u8 = 0x04;
}

/// (version, flags, vectors at offset 8 of the segment, LT framing, padded).
pub fn connection_setup<'a>(seg: &Segment<'a>) -> Result<(u16, u8, Vectors<'a>), Error> {
    segment_need(seg, setup::VECTORS, "connection setup segment")?;
    Ok((
        be16(seg.bytes, setup::VERSION.start),
        seg.bytes[setup::FLAGS.start],
        Vectors::new(&seg.bytes[setup::VECTORS..], Framing::LengthKey, true),
    ))
}

/// 0x0E status.
pub mod status {
    use std::ops::Range;
    pub const FLAGS: Range<usize> = 2..3;
    pub const GAP: u8 = 0x80;
    pub const IDLE: u8 = 0x40;
    pub const PAIR_COUNT: Range<usize> = 3..4;
    pub const REPORT_NUMBER: Range<usize> = 4..6;
    pub const ACK_NUMBER: Range<usize> = 6..8;
    pub const RECEIVED_SEQUENCE: Range<usize> = 8..12;
    pub const RESERVED: Range<usize> = 12..20;
    /// Acknowledged byte sequence pairs from here, PAIR_LEN bytes each.
    pub const PAIRS: usize = 20;
    pub const PAIR_LEN: usize = 8;
    /// Within a pair.
    pub const PAIR_BEGIN: Range<usize> = 0..4;
    pub const PAIR_END: Range<usize> = 4..8;

    /// Offset of pair `i` in the segment.
    pub const fn pair(i: usize) -> usize {
        PAIRS + PAIR_LEN * i
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub flags: u8,
    pub report_number: u16,
    pub ack_number: u16,
    pub received_sequence: u32,
    /// Acknowledged byte sequence pairs: (begin, end) BSNs.
    pub pairs: Vec<(u32, u32)>,
}

pub fn status(seg: &Segment) -> Result<Status, Error> {
    segment_need(seg, status::RECEIVED_SEQUENCE.end, "status segment")?;
    let count = usize::from(seg.bytes[status::PAIR_COUNT.start]);
    if count > 0 {
        segment_need(
            seg,
            status::PAIRS + status::PAIR_LEN * count,
            "status segment ABSP pairs",
        )?;
    }
    let pairs = (0..count)
        .map(|i| {
            let at = status::pair(i);
            (
                be32(seg.bytes, at + status::PAIR_BEGIN.start),
                be32(seg.bytes, at + status::PAIR_END.start),
            )
        })
        .collect();
    Ok(Status {
        flags: seg.bytes[status::FLAGS.start],
        report_number: be16(seg.bytes, status::REPORT_NUMBER.start),
        ack_number: be16(seg.bytes, status::ACK_NUMBER.start),
        received_sequence: be32(seg.bytes, status::RECEIVED_SEQUENCE.start),
        pairs,
    })
}

/// 0x0F client out-of-band bits.
pub mod oob {
    use std::ops::Range;
    pub const BITS: Range<usize> = 2..4;
}
pub const OUT_OF_BAND_VALUES: &[(u32, &str)] = &[
    (0x0001, "Request deactivation"),
    (0x8000, "Reply: OK"),
    (0x8004, "Reply: reject"),
];

pub fn client_out_of_band(seg: &Segment) -> Result<u16, Error> {
    segment_need(seg, oob::BITS.end, "client out-of-band segment")?;
    Ok(be16(seg.bytes, oob::BITS.start))
}

/// 0x10 connection identifier exchange.
pub mod cie {
    use std::ops::Range;
    pub const RESERVED: Range<usize> = 2..4;
    /// The TCID the sender wants to receive with.
    pub const TCID: Range<usize> = 4..12;
}

pub fn connection_id_exchange(seg: &Segment) -> Result<u64, Error> {
    segment_need(seg, cie::TCID.end, "connection identifier exchange segment")?;
    Ok(be64(seg.bytes, cie::TCID.start))
}

/// 0x12 connection fault.
pub mod fault {
    use std::ops::Range;
    pub const RESERVED: Range<usize> = 2..4;
    pub const SENSE: Range<usize> = 4..8;
}

pub fn connection_fault(seg: &Segment) -> Result<u32, Error> {
    segment_need(seg, fault::SENSE.end, "connection fault segment")?;
    Ok(be32(seg.bytes, fault::SENSE.start))
}

/// 0x14 switching information: CV X'83' (length-key) at offset 4, then,
/// 4-byte aligned, CV X'85' return route TG descriptors.
pub mod switching {
    use std::ops::Range;
    pub const RESERVED: Range<usize> = 2..4;
    pub const CV83: usize = 4;
    /// Within CV X'83' and X'85': the length-key header.
    pub const CV_LEN: Range<usize> = 0..1;
    pub const CV_KEY: Range<usize> = 1..2;
    /// Within CV X'83'.
    pub const FLAGS: Range<usize> = 2..3;
    pub const CV83_RESERVED: Range<usize> = 3..4;
    pub const MAX_PACKET_SIZE: Range<usize> = 4..8;
    pub const PATH_SWITCH_TIME: Range<usize> = 8..12;
    pub const ALIVE_TIMER: Range<usize> = 12..16;
    /// Embedded vectors (length-key, unpadded) from here to the length.
    pub const EMBEDDED: usize = 16;
    /// Within CV X'85'.
    pub const BF_FLAGS: Range<usize> = 2..3;
    pub const TG_COUNT: Range<usize> = 3..4;
    /// TG descriptor vectors (length-key, unpadded) from here.
    pub const TG_VECTORS: usize = 4;
    pub const KEY_83: u8 = 0x83;
    pub const KEY_85: u8 = 0x85;
}

/// CV X'85' of a switching information segment.
#[derive(Clone, Debug)]
pub struct ReturnRoute<'a> {
    /// Offset in the segment; the vector's bytes, header included.
    pub offset: usize,
    pub bytes: &'a [u8],
    /// The TG descriptor vectors (offsets relative to the CV), as many as
    /// its count says and fit.
    pub tgs: Vec<Vector<'a>>,
}

#[derive(Clone, Debug)]
pub struct SwitchingInformation<'a> {
    /// Offset of CV X'83' in the segment and its length.
    pub cv83_offset: usize,
    pub cv83_len: usize,
    pub flags: u8,
    pub max_packet_size: u32,
    pub path_switch_time: u32,
    pub alive_timer: u32,
    /// Vectors embedded in CV X'83' after its 16 fixed bytes (offsets
    /// relative to the CV).
    pub embedded: Vec<Vector<'a>>,
    pub cv85: Option<ReturnRoute<'a>>,
}

pub fn switching_information<'a>(seg: &Segment<'a>) -> Result<SwitchingInformation<'a>, Error> {
    use switching::*;
    segment_need(seg, CV83 + EMBEDDED, "switching information segment")?;
    let cv = &seg.bytes[CV83..];
    let len = usize::from(cv[CV_LEN.start]);
    let key = cv[CV_KEY.start];
    if key != KEY_83 || len < EMBEDDED || len > cv.len() {
        return Err(Error::Invalid {
            what: "switching information CV X'83'",
            offset: seg.offset + CV83,
            value: u32::from(key) << 8 | len as u32,
            rule: "key X'83' with a length of 16 bytes or more within the segment",
        });
    }
    let embedded = Vectors::new(&cv[EMBEDDED..len], Framing::LengthKey, false)
        .map(|v| {
            v.map(|mut v| {
                v.offset += EMBEDDED;
                v
            })
            .map_err(|e| e.at(seg.offset + CV83 + EMBEDDED))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next = CV83 + ((len + 3) & !3);
    let cv85 = (next + TG_VECTORS <= seg.bytes.len() && seg.bytes[next + CV_KEY.start] == KEY_85)
        .then(|| {
            let len85 = usize::from(seg.bytes[next + CV_LEN.start])
                .clamp(TG_VECTORS, seg.bytes.len() - next);
            let bytes = &seg.bytes[next..next + len85];
            let count = usize::from(bytes[TG_COUNT.start]);
            let tgs = Vectors::new(&bytes[TG_VECTORS..], Framing::LengthKey, false)
                .take(count)
                .map_while(Result::ok)
                .map(|mut v| {
                    v.offset += TG_VECTORS;
                    v
                })
                .collect();
            ReturnRoute {
                offset: next,
                bytes,
                tgs,
            }
        });
    Ok(SwitchingInformation {
        cv83_offset: CV83,
        cv83_len: len,
        flags: cv[FLAGS.start],
        max_packet_size: be32(cv, MAX_PACKET_SIZE.start),
        path_switch_time: be32(cv, PATH_SWITCH_TIME.start),
        alive_timer: be32(cv, ALIVE_TIMER.start),
        embedded,
        cv85,
    })
}

/// 0x22 adaptive rate-based.
pub mod arb {
    use std::ops::Range;
    pub const CONTROL: Range<usize> = 2..3;
    pub const MESSAGE_TYPE: u8 = 0xC0;
    pub const RATE_ACTION: u8 = 0x38;
    pub const PARITY: u8 = 0x04;
    pub const MODE: u8 = 0x03;
    pub const CORRELATORS: Range<usize> = 3..4;
    pub const REQUEST_CORRELATOR: u8 = 0xF0;
    pub const REPLY_CORRELATOR: u8 = 0x0F;
    /// 32-bit fields from here (two; four in a setup message).
    pub const FIELDS: usize = 4;
    pub const FIELD_LEN: usize = 4;

    /// Field `i` (0-based) in the segment.
    pub const fn field(i: usize) -> Range<usize> {
        FIELDS + FIELD_LEN * i..FIELDS + FIELD_LEN * (i + 1)
    }
}

pub const ARB_MESSAGE_TYPES: &[(u8, &str)] = &[
    (0, "Setup"),
    (1, "Rate reply"),
    (2, "Rate request"),
    (3, "Rate request and rate reply"),
];

pub const ARB_RATE_ACTIONS: &[(u8, &str)] = &[
    (0, "Normal"),
    (1, "Restraint"),
    (2, "Slowdown 1"),
    (3, "Slowdown 2"),
    (4, "Critical"),
];

/// ARB modes: 0 and 1 as Wireshark names them; 2 "progressive" from IBM's
/// VIT RTP2 record, whose 2-bit ARB algorithm field lists the same values
/// 00 base, 01 responsive, 10 progressive (docs/ee.md: low confidence that
/// the wire uses that value too).
pub const ARB_MODE_PROGRESSIVE: u8 = 2;
pub const ARB_MODES: &[(u8, &str)] = &[
    (0, "Base mode ARB"),
    (1, "Responsive mode ARB"),
    (ARB_MODE_PROGRESSIVE, "Progressive mode ARB"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arb {
    pub control: u8,
    pub correlators: u8,
    /// The 32-bit fields from offset 4 (two, four for setup), as present.
    pub fields: [Option<u32>; 4],
}

impl Arb {
    pub fn message_type(&self) -> u8 {
        (self.control & arb::MESSAGE_TYPE) >> 6
    }
    pub fn rate_action(&self) -> u8 {
        (self.control & arb::RATE_ACTION) >> 3
    }
    pub fn mode(&self) -> u8 {
        self.control & arb::MODE
    }
}

pub fn adaptive_rate_based(seg: &Segment) -> Result<Arb, Error> {
    segment_need(seg, arb::field(1).end, "ARB segment")?;
    let mut fields = [None; 4];
    for (i, slot) in fields.iter_mut().enumerate() {
        let at = arb::field(i);
        if at.end <= seg.bytes.len() {
            *slot = Some(be32(seg.bytes, at.start));
        }
    }
    Ok(Arb {
        control: seg.bytes[arb::CONTROL.start],
        correlators: seg.bytes[arb::CORRELATORS.start],
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags0: u8, flags1: u8, words: u16, dlf: u32, bsn: u32) -> Vec<u8> {
        let mut h = vec![0, 0, 0, 0, 0, 0, 0x12, 0x34, flags0, flags1];
        h.extend(words.to_be_bytes());
        h.extend(dlf.to_be_bytes());
        h.extend(bsn.to_be_bytes());
        h
    }

    #[test]
    fn fixed_part_and_data() {
        let mut t = header(0x30, 0x00, 5, 3, 1000);
        t.extend(b"abcdef");
        let thdr = Thdr::new_checked(&t).unwrap();
        assert_eq!(thdr.tcid(), 0x1234);
        assert!(thdr.has(flags0::SOMI) && thdr.has(flags0::EOMI));
        assert_eq!((thdr.dlf(), thdr.bsn(), thdr.header_len()), (3, 1000, 20));
        assert_eq!(thdr.data(), b"abc");
        assert_eq!(thdr.segments().count(), 0);
    }

    #[test]
    fn status_and_exchange_segments() {
        let mut t = header(0x08, flags1::OSI, 5 + 7 + 3, 0, 0);
        // status: 7 words, gap, 1 pair
        t.extend([7, 0x0E, 0x80, 1, 0, 2, 0, 1, 0, 0, 0, 40]);
        t.extend([0; 8]);
        t.extend([0, 0, 0, 50, 0, 0, 0, 60]);
        // connection id exchange: 3 words
        t.extend([3, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0xAB, 0xCD]);
        let thdr = Thdr::new_checked(&t).unwrap();
        let segs: Vec<_> = thdr.segments().collect::<Result<_, _>>().unwrap();
        assert_eq!(segs.len(), 2);
        let st = status(&segs[0]).unwrap();
        assert_eq!(st.received_sequence, 40);
        assert_eq!(st.pairs, vec![(50, 60)]);
        assert_eq!((st.report_number, st.ack_number), (2, 1));
        assert_eq!(connection_id_exchange(&segs[1]).unwrap(), 0xABCD);
    }

    #[test]
    fn the_connection_qualifier_is_length_then_key_as_wireshark_reads_it() {
        // CQFI and OSI: qualifier [length 6][key 05][6 bytes], then a
        // 3-word segment X'10'; 5 + 2 + 3 words.
        let mut t = header(0, flags1::CQFI | flags1::OSI, 10, 0, 0);
        t.extend([6, 0x05, 1, 2, 3, 4, 5, 6]);
        t.extend([3, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0xAB, 0xCD]);
        let thdr = Thdr::new_checked(&t).unwrap();
        assert_eq!(
            thdr.connection_qualifier(),
            Some((20, 0x05, &[1, 2, 3, 4, 5, 6][..]))
        );
        let segs: Vec<_> = thdr.segments().collect::<Result<_, _>>().unwrap();
        assert_eq!(connection_id_exchange(&segs[0]).unwrap(), 0xABCD);
    }

    #[test]
    fn bad_lengths_are_errors_with_offsets() {
        let t = header(0, 0, 4, 0, 0);
        assert!(matches!(
            Thdr::new_checked(&t),
            Err(Error::Invalid { offset: 10, .. })
        ));
        let mut t = header(0, flags1::OSI, 6, 0, 0);
        t.extend([0, 0x0E, 0, 0]);
        let thdr = Thdr::new_checked(&t).unwrap();
        let err = thdr.segments().next().unwrap().unwrap_err();
        assert!(matches!(err, Error::Invalid { offset: 20, .. }));
        // status segment of one word: too short for its fields
        let mut t = header(0, flags1::OSI, 6, 0, 0);
        t.extend([1, 0x0E, 0, 0]);
        let thdr = Thdr::new_checked(&t).unwrap();
        let seg = thdr.segments().next().unwrap().unwrap();
        assert!(matches!(
            status(&seg),
            Err(Error::Truncated { offset: 20, .. })
        ));
    }
}
