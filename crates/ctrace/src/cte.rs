//! The component trace entry (CTE): the record every CTRACE writer emits.
//!
//! ```text
//!  0  2  CTELENP   length of the whole entry, this field and CTELENE included
//!  2  2  CTEOFF    offset of the variable data from the start of the entry
//!  4  4  CTEFMTID  format id: byte 0 X'00' packet/data trace, X'FF' lost record;
//!                  low byte = record type (FORMAT_IDS)
//!  8  8  CTETIME   TOD clock when the entry was moved into the trace buffer
//! CTEOFF .. len-2  variable data (for SYSTCPDA/SYSTCPOT: a PTHDR_T and the traced bytes)
//! len-2  2  CTELENE   trailing length, equal to CTELENP
//! ```
//! Source: IBM z/OS MVS Programming: Authorized Assembler Services / Diagnosis
//! "Understanding the fields in a CTE"; z/OS Communications Server IP
//! Programmer's Guide "Format of trace records" (struct cte, 16 bytes).

use crate::{be16, be32, be64, Error, Result};

/// Byte ranges of the CTE fields (see [`crate::layout`] for sources).
pub mod field {
    use core::ops::Range;
    pub const LENP: Range<usize> = 0..2;
    pub const OFF: Range<usize> = 2..4;
    pub const FMTID: Range<usize> = 4..8;
    pub const TIME: Range<usize> = 8..16;
    /// Length of the fixed CTE header (struct cte).
    pub const HEADER_LEN: usize = 16;
    /// Length of the trailing CTELENE.
    pub const TRAILER_LEN: usize = 2;
}

/// The smallest entry: 16-byte header, no data, 2-byte trailer.
pub const MIN_LEN: usize = field::HEADER_LEN + field::TRAILER_LEN;

/// Format ids (low byte of CTEFMTID) and what they hold.  Sources: IBM
/// "Formatting packet traces using IPCS" (ENTIDLIST 1-6; 1-3 "no longer
/// written by TCP/IP"); IP Programmer's Guide "Processing the cte records for
/// SYSTCPDA and SYSTCPOT" (4 PTHIdPkt, 5 PTHIdDat, 6 PTHIdEE, 7 PTHidNTA,
/// 8 PTHIdSmc); "Format of trace records" (X'FF' lost record).
pub const FORMAT_IDS: &[(u8, &str)] = &[
    (1, "IPv4 packet trace (old GTCNTL header)"),
    (2, "X.25 trace"),
    (3, "EE IPv4 data trace"),
    (4, "IPv4/IPv6 packet trace"),
    (5, "IPv4/IPv6 data trace"),
    (6, "Enterprise Extender trace"),
    (7, "OSAENTA trace"),
    (8, "SMC trace"),
    (0xFF, "lost records"),
];

/// Format id: old IPv4 packet trace record (GTCNTL header; not parsed here).
pub const FMT_OLD_IPV4: u8 = 1;
/// Format id: X.25 trace.
pub const FMT_X25: u8 = 2;
/// Format id: EE IPv4 data trace.
pub const FMT_EE_IPV4: u8 = 3;
/// Format id: IPv4/IPv6 packet trace (PTHDR_T + IP packet).
pub const FMT_PACKET: u8 = 4;
/// Format id: IPv4/IPv6 data trace (PTHDR_T + socket data).
pub const FMT_DATA: u8 = 5;
/// Format id: Enterprise Extender trace (PTHDR_T).
pub const FMT_EE: u8 = 6;
/// Format id: OSAENTA (SYSTCPOT) trace (PTHDR_T + layer-2 frame).
pub const FMT_OSAENTA: u8 = 7;
/// Format id: SMC trace (PTHDR_T).
pub const FMT_SMC: u8 = 8;
/// Format id low byte / trace-type byte meaning "records were lost".
pub const FMT_LOST: u8 = 0xFF;

/// The name of a format id (low byte), if known.
pub fn format_name(fmtid: u8) -> Option<&'static str> {
    FORMAT_IDS
        .iter()
        .find(|(id, _)| *id == fmtid)
        .map(|(_, n)| *n)
}

/// True for the format ids whose data starts with a PTHDR_T.
pub fn has_pthdr(fmtid: u8) -> bool {
    (FMT_PACKET..=FMT_SMC).contains(&fmtid)
}

/// A view over one CTE, exactly CTELENP bytes long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cte<'a> {
    buf: &'a [u8],
}

impl<'a> Cte<'a> {
    /// Checks the entry at the start of `buf` (which may go on past it):
    /// CTELENP at least 18 and within `buf`, CTEOFF within [16, CTELENP-2],
    /// CTELENE equal to CTELENP.  Offsets in errors count from `buf[0]`.
    pub fn new_checked(buf: &'a [u8]) -> Result<Cte<'a>> {
        if buf.len() < field::LENP.end {
            return Err(Error::Truncated {
                offset: 0,
                what: "CTE",
                needed: MIN_LEN as u64,
                available: buf.len() as u64,
            });
        }
        let len = be16(buf, 0) as usize;
        if len < MIN_LEN {
            return Err(Error::Invalid {
                offset: 0,
                what: "CTE",
                field: "CTELENP",
                value: len as u32,
                rule: "is below the 18-byte minimum (16-byte header and CTELENE)",
            });
        }
        if buf.len() < len {
            return Err(Error::Truncated {
                offset: 0,
                what: "CTE",
                needed: len as u64,
                available: buf.len() as u64,
            });
        }
        let off = be16(buf, 2) as usize;
        if off < field::HEADER_LEN || off > len - field::TRAILER_LEN {
            return Err(Error::Invalid {
                offset: 2,
                what: "CTE",
                field: "CTEOFF",
                value: off as u32,
                rule: "is outside the entry (must be at least 16 and at most CTELENP-2)",
            });
        }
        let lene = be16(buf, len - 2);
        if lene as usize != len {
            return Err(Error::LengthMismatch {
                offset: 0,
                what: "CTE",
                field: "CTELENE",
                found: lene as u32,
                other: "CTELENP",
                expected: len as u32,
            });
        }
        Ok(Cte { buf: &buf[..len] })
    }

    /// Cheap plausibility test of a CTE header alone (for framing
    /// detection when the whole entry is not at hand): CTELENP ≥ 18, CTEOFF
    /// in [16, CTELENP-2], format id byte 0 X'00' or X'FF'.  `buf` needs 8
    /// bytes.
    pub fn plausible_header(buf: &[u8]) -> bool {
        if buf.len() < 8 {
            return false;
        }
        let len = be16(buf, 0) as usize;
        let off = be16(buf, 2) as usize;
        len >= MIN_LEN
            && off >= field::HEADER_LEN
            && off <= len - field::TRAILER_LEN
            && (buf[4] == 0x00 || buf[4] == 0xFF)
    }

    /// The whole entry.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// CTELENP: length of the entry.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Never true: an entry has at least 18 bytes.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// CTEOFF: offset of the variable data.
    pub fn cteoff(&self) -> u16 {
        be16(self.buf, field::OFF.start)
    }

    /// CTEFMTID, all four bytes.
    pub fn format_id(&self) -> u32 {
        be32(self.buf, field::FMTID.start)
    }

    /// Low byte of CTEFMTID: the record type (4 packet, 5 data, 7 OSAENTA…).
    pub fn fmtid(&self) -> u8 {
        self.buf[field::FMTID.end - 1]
    }

    /// Byte 0 of CTEFMTID: the trace type (X'00' packet/data, X'FF' lost).
    pub fn trace_type(&self) -> u8 {
        self.buf[field::FMTID.start]
    }

    /// Name of the record type, if known.
    pub fn format_name(&self) -> Option<&'static str> {
        if self.is_lost_record() {
            return format_name(FMT_LOST);
        }
        format_name(self.fmtid())
    }

    /// CTETIME: TOD clock when the entry was moved into the trace buffer
    /// (the packet's own capture time is PTH_Time, see [`crate::pthdr`]).
    pub fn tod(&self) -> u64 {
        be64(self.buf, field::TIME.start)
    }

    /// The variable data: CTEOFF up to the trailing CTELENE.
    pub fn data(&self) -> &'a [u8] {
        &self.buf[self.cteoff() as usize..self.buf.len() - field::TRAILER_LEN]
    }

    /// CTELENE (equal to CTELENP once checked).
    pub fn trailing_len(&self) -> u16 {
        be16(self.buf, self.buf.len() - 2)
    }

    /// A lost-records marker: CTEFMTID byte 0 X'FF' (RCFILost, real-time
    /// interface) or a format id whose low byte is X'FF'.
    pub fn is_lost_record(&self) -> bool {
        self.trace_type() == FMT_LOST || self.fmtid() == FMT_LOST
    }

    /// True when the data starts with a packet trace header (format ids 4-8,
    /// trace type X'00').
    pub fn has_pthdr(&self) -> bool {
        self.trace_type() == 0 && has_pthdr(self.fmtid())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CTE with the given format id, TOD and data, CTEOFF 16.
    pub(crate) fn make(format_id: u32, tod: u64, data: &[u8]) -> Vec<u8> {
        let len = MIN_LEN + data.len();
        let mut v = Vec::with_capacity(len);
        v.extend_from_slice(&(len as u16).to_be_bytes());
        v.extend_from_slice(&16u16.to_be_bytes());
        v.extend_from_slice(&format_id.to_be_bytes());
        v.extend_from_slice(&tod.to_be_bytes());
        v.extend_from_slice(data);
        v.extend_from_slice(&(len as u16).to_be_bytes());
        v
    }

    #[test]
    fn fields() {
        let mut b = make(4, 0x0123_4567_89AB_CDEF, b"hello");
        b.extend_from_slice(b"next");
        let c = Cte::new_checked(&b).unwrap();
        assert_eq!(c.len(), 23);
        assert!(!c.is_empty());
        assert_eq!(c.cteoff(), 16);
        assert_eq!(c.format_id(), 4);
        assert_eq!(c.fmtid(), 4);
        assert_eq!(c.trace_type(), 0);
        assert_eq!(c.tod(), 0x0123_4567_89AB_CDEF);
        assert_eq!(c.data(), b"hello");
        assert_eq!(c.trailing_len(), 23);
        assert_eq!(c.as_bytes().len(), 23);
        assert!(!c.is_lost_record());
        assert!(c.has_pthdr());
        assert_eq!(c.format_name(), Some("IPv4/IPv6 packet trace"));
    }

    #[test]
    fn larger_cteoff() {
        let mut b = make(5, 0, b"abcdef");
        b[3] = 18; // CTEOFF 18: 2 bytes of header extension
        let c = Cte::new_checked(&b).unwrap();
        assert_eq!(c.data(), b"cdef");
        // CTEOFF = len-2: empty data
        b[3] = 22;
        assert_eq!(Cte::new_checked(&b).unwrap().data(), b"");
    }

    #[test]
    fn lost_records() {
        let b = make(0xFF00_0000, 1, &[]);
        let c = Cte::new_checked(&b).unwrap();
        assert!(c.is_lost_record());
        assert!(!c.has_pthdr());
        assert_eq!(c.format_name(), Some("lost records"));
        let b = make(0xFF, 1, &[]);
        assert!(Cte::new_checked(&b).unwrap().is_lost_record());
        assert_eq!(format_name(9), None);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Cte::new_checked(&[0]),
            Err(Error::Truncated {
                needed: 18,
                available: 1,
                ..
            })
        ));
        assert!(matches!(
            Cte::new_checked(&[0, 17, 0, 16]),
            Err(Error::Invalid {
                field: "CTELENP",
                value: 17,
                ..
            })
        ));
        let b = make(4, 0, b"xy");
        assert!(matches!(
            Cte::new_checked(&b[..10]),
            Err(Error::Truncated {
                needed: 20,
                available: 10,
                ..
            })
        ));
        let mut bad = b.clone();
        bad[3] = 15;
        assert!(matches!(
            Cte::new_checked(&bad),
            Err(Error::Invalid {
                offset: 2,
                field: "CTEOFF",
                value: 15,
                ..
            })
        ));
        bad[3] = 19;
        assert!(matches!(
            Cte::new_checked(&bad),
            Err(Error::Invalid {
                field: "CTEOFF",
                value: 19,
                ..
            })
        ));
        let mut bad = b.clone();
        let n = bad.len();
        bad[n - 1] = 0x21;
        let e = Cte::new_checked(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CTE at byte 0: CTELENE 0x0021 disagrees with CTELENP 0x0014"
        );
    }

    #[test]
    fn plausible() {
        let b = make(4, 0, b"xy");
        assert!(Cte::plausible_header(&b));
        assert!(!Cte::plausible_header(&b[..7]));
        let mut bad = b.clone();
        bad[4] = 1;
        assert!(!Cte::plausible_header(&bad));
        bad[4] = 0xFF;
        assert!(Cte::plausible_header(&bad));
        let mut bad = b;
        bad[3] = 0;
        assert!(!Cte::plausible_header(&bad));
    }
}
