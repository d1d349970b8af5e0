//! z/OS Communications Server component trace records — SYSTCPDA (TCP/IP
//! packet trace and data trace) and SYSTCPOT (OSA-Express Network Traffic
//! Analyzer, OSAENTA) — read into packets.  Knows nothing of Wireshark and
//! has no dependencies.
//!
//! * [`layout`] is the one table of every byte position (descriptors, CTE,
//!   packet trace header), each with its source and confidence;
//!   docs/ctrace-format.md mirrors it.  Nothing else spells out an offset.
//! * [`framing`] finds out how a file was transferred from z/OS (raw
//!   contents, RDW records — spanned or not — or BDW blocks) and takes the
//!   descriptors off.
//! * [`Reader`] is the one CTE → packet pipeline every consumer uses: it
//!   finds each valid entry (self-checking, resynchronising after unknown or
//!   damaged bytes), joins segmented packets and yields [`Packet`]s with
//!   direction, time, interface, lengths and [`packet::Note`]s about what
//!   contradicts or was skipped.  It reads any [`input::Input`].
//! * [`cte::Cte`] and [`pthdr::Pthdr`] are typed zero-copy views of one
//!   entry and its packet trace header; [`build`] writes them (fixtures).
//! * [`tod`] converts z/Architecture TOD clock values; [`ebcdic`] decodes
//!   CCSID 37 names.
//!
//! Every view checks its lengths once, in `new_checked`; the header length is
//! always taken from the record (CTEOFF, PTH_Len), never from a struct size.
//! Accessors then cannot fail or panic.  Where each fact comes from, and how
//! sure it is: docs/ctrace-format.md.

pub mod build;
pub mod cte;
pub mod ebcdic;
pub mod framing;
pub mod input;
pub mod layout;
pub mod packet;
pub mod pthdr;
pub mod reader;
pub mod tod;

#[cfg(test)]
mod testutil;

pub use cte::Cte;
pub use framing::{detect, Framing};
pub use input::{Input, ReadInput, SliceInput};
pub use packet::{Direction, Kind, Note, NoteKind, Packet, Packets};
pub use pthdr::Pthdr;
pub use reader::Reader;

use std::fmt;

/// Which character set a text file (not a trace) was found to be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Ascii,
    Ebcdic,
}

/// Why bytes could not be read as trace records.  Every variant names the
/// byte offset it is about: from the start of the file for errors of
/// [`framing`], from the start of the slice given for the views (move it with
/// [`Error::at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A TSO TRANSMIT (XMIT) file: its EBCDIC "INMR01" control record was
    /// found at `offset`.  It has to be unpacked with TSO RECEIVE on z/OS.
    Xmit { offset: u64 },
    /// An AMATERSE/TERSE packed file (header `mode`: "PACK", "SPACK" or
    /// "native").  It has to be unpacked with AMATERSE on z/OS.
    Terse { offset: u64, mode: &'static str },
    /// Text, not records: most likely an IPCS formatted CTRACE report, or a
    /// trace transferred in ASCII mode.
    Text { offset: u64, encoding: TextEncoding },
    /// A Network General Sniffer file (what IPCS CTRACE OPTIONS((SNIFFER))
    /// exports); Wireshark opens those with its own reader.
    Sniffer { offset: u64 },
    /// `what` needs `needed` bytes from `offset`, only `available` are there.
    Truncated {
        offset: u64,
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// Two lengths that must agree do not: `field` of `what` holds `found`,
    /// `other` says `expected`.
    LengthMismatch {
        offset: u64,
        what: &'static str,
        field: &'static str,
        found: u32,
        other: &'static str,
        expected: u32,
    },
    /// `field` of `what` holds `value`, which breaks `rule`.
    Invalid {
        offset: u64,
        what: &'static str,
        field: &'static str,
        value: u32,
        rule: &'static str,
    },
    /// None of the known framings (raw CTEs, RDW, BDW+RDW) fits the bytes at
    /// `offset`.
    UnknownFraming { offset: u64 },
}

impl Error {
    /// The byte offset the error is about.
    pub fn offset(&self) -> u64 {
        match *self {
            Error::Xmit { offset }
            | Error::Terse { offset, .. }
            | Error::Text { offset, .. }
            | Error::Sniffer { offset }
            | Error::Truncated { offset, .. }
            | Error::LengthMismatch { offset, .. }
            | Error::Invalid { offset, .. }
            | Error::UnknownFraming { offset } => offset,
        }
    }

    /// The same error with its offset moved by `base` (for a structure found
    /// `base` bytes into a larger one).
    pub fn at(self, base: u64) -> Error {
        let mut e = self;
        match &mut e {
            Error::Xmit { offset }
            | Error::Terse { offset, .. }
            | Error::Text { offset, .. }
            | Error::Sniffer { offset }
            | Error::Truncated { offset, .. }
            | Error::LengthMismatch { offset, .. }
            | Error::Invalid { offset, .. }
            | Error::UnknownFraming { offset } => *offset = offset.saturating_add(base),
        }
        e
    }

    /// True for the errors that say "this is not a trace file at all" (a
    /// packed file, text, another capture format) as opposed to a damaged
    /// trace.
    pub fn is_wrong_file_kind(&self) -> bool {
        matches!(
            self,
            Error::Xmit { .. } | Error::Terse { .. } | Error::Text { .. } | Error::Sniffer { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Xmit { offset } => write!(
                f,
                "byte {offset}: a TSO TRANSMIT (XMIT) file (EBCDIC \"INMR01\"), not a trace: \
                 unpack it with TSO RECEIVE on z/OS, then transfer the trace data set in binary"
            ),
            Error::Terse { offset, mode } => write!(
                f,
                "byte {offset}: an AMATERSE/TERSE packed file ({mode} header), not a trace: \
                 unpack it with AMATERSE on z/OS, then transfer the trace data set in binary"
            ),
            Error::Text { offset, encoding } => write!(
                f,
                "byte {offset}: {} text, not trace records: an IPCS formatted report, or a \
                 trace transferred in ASCII mode (transfer it in binary)",
                match encoding {
                    TextEncoding::Ascii => "ASCII",
                    TextEncoding::Ebcdic => "EBCDIC",
                }
            ),
            Error::Sniffer { offset } => write!(
                f,
                "byte {offset}: a Network General Sniffer file (IPCS SNIFFER export), \
                 which Wireshark opens with its own reader"
            ),
            Error::Truncated {
                offset,
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} at byte {offset}: truncated, needs {needed} bytes, only {available} there"
            ),
            Error::LengthMismatch {
                offset,
                what,
                field,
                found,
                other,
                expected,
            } => write!(
                f,
                "{what} at byte {offset}: {field} 0x{found:04X} disagrees with {other} 0x{expected:04X}"
            ),
            Error::Invalid {
                offset,
                what,
                field,
                value,
                rule,
            } => write!(f, "{what} at byte {offset}: {field} 0x{value:X} {rule}"),
            Error::UnknownFraming { offset } => write!(
                f,
                "byte {offset}: not component trace records in any known framing \
                 (raw entries, RDW records, BDW blocks)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_length_mismatch() {
        let e = Error::LengthMismatch {
            offset: 1234,
            what: "CTE",
            field: "CTELENE",
            found: 0x40,
            other: "CTELENP",
            expected: 0x44,
        };
        assert_eq!(
            e.to_string(),
            "CTE at byte 1234: CTELENE 0x0040 disagrees with CTELENP 0x0044"
        );
        assert_eq!(e.offset(), 1234);
        assert_eq!(e.at(10).offset(), 1244);
        assert!(!e.is_wrong_file_kind());
    }

    #[test]
    fn display_every_variant() {
        let all = [
            Error::Xmit { offset: 2 },
            Error::Terse {
                offset: 0,
                mode: "SPACK",
            },
            Error::Text {
                offset: 0,
                encoding: TextEncoding::Ebcdic,
            },
            Error::Text {
                offset: 0,
                encoding: TextEncoding::Ascii,
            },
            Error::Sniffer { offset: 0 },
            Error::Truncated {
                offset: 7,
                what: "CTE",
                needed: 100,
                available: 50,
            },
            Error::Invalid {
                offset: 3,
                what: "CTE",
                field: "CTEOFF",
                value: 4,
                rule: "is below the 16-byte CTE header",
            },
            Error::UnknownFraming { offset: 0 },
        ];
        let words = [
            "XMIT",
            "AMATERSE",
            "EBCDIC",
            "ASCII",
            "Sniffer",
            "truncated",
            "CTEOFF 0x4",
            "framing",
        ];
        for (e, w) in all.iter().zip(words) {
            let s = e.to_string();
            assert!(s.contains(w), "{s} lacks {w}");
        }
        assert!(all[0].is_wrong_file_kind());
        assert_eq!(all[5].at(u64::MAX).offset(), u64::MAX);
    }
}
