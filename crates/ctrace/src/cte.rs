//! The component trace entry (CTE): the record every CTRACE writer emits —
//! CTELENP, CTEOFF, CTEFMTID, CTETIME, the variable data from CTEOFF (for
//! SYSTCPDA/SYSTCPOT a PTHDR_T and the traced bytes), and CTELENE, the
//! trailing copy of CTELENP.  Positions: [`crate::layout::cte`].
//! Source: IBM z/OS MVS Programming: Authorized Assembler Services / Diagnosis
//! "Understanding the fields in a CTE"; z/OS Communications Server IP
//! Programmer's Guide "Format of trace records" (struct cte, 16 bytes).

use crate::layout::cte as field;
use crate::{Error, Result};

pub use crate::layout::cte::{HEADER_LEN, TRAILER_LEN};

/// The smallest entry: 16-byte header, no data, 2-byte trailer.
pub const MIN_LEN: usize = HEADER_LEN + TRAILER_LEN;

/// The largest CTELENP (a 16-bit length).
pub const MAX_LEN: usize = u16::MAX as usize;

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

/// The largest CTEOFF accepted when looking for entries among unknown bytes
/// (IBM's CTE header is 16 bytes; a larger CTEOFF is allowed, but not
/// without bound): this crate's choice.
pub const MAX_CTEOFF: usize = 256;

/// A view over one CTE, exactly CTELENP bytes long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cte<'a> {
    buf: &'a [u8],
}

fn lenp(buf: &[u8]) -> usize {
    field::LENP.uint(buf) as usize
}

impl<'a> Cte<'a> {
    /// Checks the entry at the start of `buf` (which may go on past it):
    /// CTELENP at least 18 and within `buf`, CTEOFF within [16, CTELENP-2],
    /// CTELENE equal to CTELENP.  Offsets in errors count from `buf[0]`.
    pub fn new_checked(buf: &'a [u8]) -> Result<Cte<'a>> {
        if buf.len() < field::LENP.end() {
            return Err(Error::Truncated {
                offset: 0,
                what: "CTE",
                needed: MIN_LEN as u64,
                available: buf.len() as u64,
            });
        }
        let len = lenp(buf);
        if len < MIN_LEN {
            return Err(Error::Invalid {
                offset: 0,
                what: "CTE",
                field: field::LENP.name,
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
        let entry = &buf[..len];
        let off = field::OFF.uint(entry) as usize;
        if off < HEADER_LEN || off > len - TRAILER_LEN {
            return Err(Error::Invalid {
                offset: field::OFF.offset as u64,
                what: "CTE",
                field: field::OFF.name,
                value: off as u32,
                rule: "is outside the entry (must be at least 16 and at most CTELENP-2)",
            });
        }
        let lene = field::LENE.uint(entry) as usize;
        if lene != len {
            return Err(Error::LengthMismatch {
                offset: 0,
                what: "CTE",
                field: field::LENE.name,
                found: lene as u32,
                other: field::LENP.name,
                expected: len as u32,
            });
        }
        Ok(Cte { buf: entry })
    }

    /// The strict test used to find entries among unknown bytes (a
    /// writer's record header, damage): a checked CTE whose CTEOFF is at
    /// most [`MAX_CTEOFF`], whose format id is a known kind — X'000000nn'
    /// with nn one of [`FORMAT_IDS`] (1 to 8), or a lost-records marker
    /// (byte 0 X'FF') — and whose packet trace header, for the kinds that
    /// have one, passes [`crate::Pthdr::new_checked`].  The error says why
    /// not (offsets from `buf[0]`).
    pub fn check_strict(buf: &'a [u8]) -> Result<Cte<'a>> {
        let cte = Cte::new_checked(buf)?;
        let off = cte.cteoff() as usize;
        if off > MAX_CTEOFF {
            return Err(Error::Invalid {
                offset: field::OFF.offset as u64,
                what: "CTE",
                field: field::OFF.name,
                value: off as u32,
                rule: "is beyond 256: not taken for an entry",
            });
        }
        let id = cte.format_id();
        let known = cte.trace_type() == FMT_LOST
            || (id >> 8 == 0 && (FMT_OLD_IPV4..=FMT_SMC).contains(&cte.fmtid()));
        if !known {
            return Err(Error::Invalid {
                offset: field::FMTID.offset as u64,
                what: "CTE",
                field: field::FMTID.name,
                value: id,
                rule: "is no known format id (X'00000001' to X'00000008', or X'FF' lost records)",
            });
        }
        if cte.has_pthdr() {
            crate::Pthdr::from_cte(&cte)?;
        }
        Ok(cte)
    }

    /// Whether an entry the reader would take starts at `buf[0]`
    /// ([`Cte::plausible_header`], then [`Cte::check_strict`] on the
    /// entry's CTELENP bytes, all in `buf`).  A guess where a raw trace may
    /// be cut into pieces read on several threads
    /// (`capture::Capture::pieces`): reading confirms it.
    pub fn starts_entry(buf: &[u8]) -> bool {
        if !Cte::plausible_header(buf) {
            return false;
        }
        buf.get(..lenp(buf))
            .is_some_and(|entry| Cte::check_strict(entry).is_ok())
    }

    /// Cheap first test of a CTE header alone, before the whole entry is at
    /// hand: CTELENP ≥ 18, CTEOFF in [16, min(CTELENP-2, 256)], format id
    /// byte 0 X'00' or X'FF'.  `buf` needs [`HEADER_LEN`] bytes.
    pub fn plausible_header(buf: &[u8]) -> bool {
        if buf.len() < HEADER_LEN {
            return false;
        }
        let len = lenp(buf);
        let off = field::OFF.uint(buf) as usize;
        let kind = field::TRACE_TYPE.uint(buf) as u8;
        len >= MIN_LEN
            && off >= HEADER_LEN
            && off <= len - TRAILER_LEN
            && off <= MAX_CTEOFF
            && (kind == 0x00 || kind == FMT_LOST)
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
        field::OFF.uint(self.buf) as u16
    }

    /// CTEFMTID, all four bytes.
    pub fn format_id(&self) -> u32 {
        field::FMTID.uint(self.buf) as u32
    }

    /// Low byte of CTEFMTID: the record type (4 packet, 5 data, 7 OSAENTA…).
    pub fn fmtid(&self) -> u8 {
        field::KIND.uint(self.buf) as u8
    }

    /// Byte 0 of CTEFMTID: the trace type (X'00' packet/data, X'FF' lost).
    pub fn trace_type(&self) -> u8 {
        field::TRACE_TYPE.uint(self.buf) as u8
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
        field::TIME.uint(self.buf)
    }

    /// Where the variable data is in the entry: CTEOFF up to CTELENE.
    pub fn data_range(&self) -> core::ops::Range<usize> {
        self.cteoff() as usize..self.buf.len() - TRAILER_LEN
    }

    /// The variable data: CTEOFF up to the trailing CTELENE.
    pub fn data(&self) -> &'a [u8] {
        &self.buf[self.data_range()]
    }

    /// CTELENE (equal to CTELENP once checked).
    pub fn trailing_len(&self) -> u16 {
        field::LENE.uint(self.buf) as u16
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
