//! The pktmatch sidecar index (`*.pktmatch`): what `pktmatch index` writes
//! and the `pktmatch` post-dissector reads, as typed zero-copy views over a
//! byte slice in the style of smoltcp's `wire` module.  Knows nothing of
//! Wireshark and has no dependencies.
//!
//! A session is N capture points in path order (client side first).  The
//! index holds, per point, one check value per frame (to recognise which
//! capture Wireshark has open, and to notice that it changed), and for every
//! frame the frames of the other points that carry the same packet, with the
//! method that matched them, a confidence and the raw time difference; per
//! point pair a clock model; frames lost between points; the address and
//! sequence number translations found; the names of the match methods.
//!
//! * [`Index::load`] checks every length, offset, reference and order once;
//!   the accessors then cannot fail or panic (out-of-range arguments give
//!   `None` or an empty iterator).
//! * [`IndexBuilder`] collects points, frames, pairs and matches (it makes
//!   both directions' peer entries and sorts them) and writes the file
//!   ([`IndexBuilder::build`], [`IndexBuilder::write_to`]).
//! * [`frame_check`] is the per-frame check hash; [`Index::identify`] and
//!   [`Tracker`] apply the identification and staleness rules.
//! * [`ClockModel`] and [`corrected_delta`] turn raw time differences into
//!   corrected ones; a pair whose clocks stepped has several
//!   [`ClockSegment`]s ([`Index::clock_at`] picks the one of a frame).
//! * [`export_csv`] writes the matches in the CSV form other tools read.
//!
//! Each section has its own module with a `field` module of byte ranges.  The
//! format, field by field: docs/index-format.md.

pub mod builder;
pub mod checks;
pub mod clock;
pub mod csv;
pub mod header;
pub mod hops;
pub mod identify;
pub mod journey;
pub mod lost;
pub mod merged;
pub mod methods;
pub mod pairs;
pub mod peers;
pub mod points;
mod reader;
pub mod segments;
pub mod session;
pub mod strings;
pub mod timeline;
pub mod times;
pub mod translations;

pub use builder::{BuildError, IndexBuilder, PairSpec};
pub use checks::{checks_fingerprint, frame_check, frame_checks4, CHECK_PREFIX_LEN};
pub use clock::{corrected_delta, ClockModel, DRIFT_LIMIT_PPB};
pub use csv::{export_csv, export_lost_csv, for_each_match, MatchRow, CSV_HEADER, LOST_CSV_HEADER};
pub use header::{MAGIC, VERSION_MAJOR, VERSION_MINOR};
pub use identify::{Identification, TrackState, Tracker, IDENTIFY_FRAMES};
pub use journey::{neighbours, LinkClass, Links, Neighbour, Neighbours, Node};
pub use lost::{LossKind, Lost};
pub use pairs::{Missing, Pair};
pub use peers::{bytes_per_packet, Peer, Peers};
pub use points::{Point, PointDetails};
pub use reader::Index;
pub use segments::ClockSegment;
pub use session::{OrderSource, Session, SessionSpec, Topology};
pub use translations::{Endpoints, SeqOffsets, Translation, TranslationKind, TranslationSpec};

use std::fmt;

/// Why bytes could not be read as an index.  Every variant but `BadMagic`
/// names the byte offset (from the start of the file) it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The file does not start with `PKTMIDX\0` (`found`: its first bytes,
    /// fewer than 8 when the file is that short).
    BadMagic { found: Vec<u8> },
    /// Written by a newer pktmatch whose format this reader does not know.
    NewerVersion { major: u16, minor: u16 },
    /// Written by an older pktmatch in a format this reader no longer reads
    /// (1.x: a capture drop could be shown as a network loss).
    OlderVersion { major: u16, minor: u16 },
    /// Something a newer writer uses and this reader must understand but
    /// does not (a required section kind, an incompatible header flag).
    Unsupported {
        offset: u64,
        what: &'static str,
        detail: String,
    },
    /// `what` needs `needed` bytes from `offset`, only `available` are there.
    Truncated {
        offset: u64,
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// A value breaks a rule of the format (detail says which and why).
    Invalid {
        offset: u64,
        what: &'static str,
        detail: String,
    },
}

impl Error {
    /// The byte offset the error is about (0 for `BadMagic` and
    /// `NewerVersion`).
    pub fn offset(&self) -> u64 {
        match self {
            Error::BadMagic { .. } => 0,
            Error::NewerVersion { .. } | Error::OlderVersion { .. } => {
                header::field::VERSION_MAJOR.start as u64
            }
            Error::Unsupported { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::Invalid { offset, .. } => *offset,
        }
    }

    /// True when a newer pktmatch wrote the file (update the reader, or
    /// re-run `pktmatch index` with this version).
    pub fn is_newer_format(&self) -> bool {
        matches!(self, Error::NewerVersion { .. } | Error::Unsupported { .. })
    }

    /// True when an older pktmatch wrote the file in a format this reader
    /// no longer reads (index the captures again).
    pub fn is_older_format(&self) -> bool {
        matches!(self, Error::OlderVersion { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadMagic { found } => {
                write!(f, "not a pktmatch index: the file starts with ")?;
                if found.is_empty() {
                    write!(f, "nothing (empty file)")?;
                } else {
                    for b in found {
                        write!(f, "{b:02X}")?;
                    }
                }
                write!(f, ", not \"PKTMIDX\\0\"")
            }
            Error::NewerVersion { major, minor } => write!(
                f,
                "index header at byte 8: format version {major}.{minor} is newer than this \
                 reader ({VERSION_MAJOR}.{VERSION_MINOR}): use the pktmatch that wrote it, or \
                 re-run `pktmatch index` with this one"
            ),
            Error::OlderVersion { major, minor } => write!(
                f,
                "index header at byte 8: format version {major}.{minor} was written by an older \
                 pktmatch; this one reads {VERSION_MAJOR}.x, which tells network losses, capture \
                 drops and packets outside a capture apart: re-run `pktmatch index` on the captures"
            ),
            Error::Unsupported {
                offset,
                what,
                detail,
            } => write!(
                f,
                "{what} at byte {offset}: {detail} (written by a newer pktmatch: use the \
                 pktmatch that wrote it, or re-run `pktmatch index` with this one)"
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
            Error::Invalid {
                offset,
                what,
                detail,
            } => write!(f, "{what} at byte {offset}: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// Results of this crate's reader.
pub type Result<T> = std::result::Result<T, Error>;

/// Little-endian reads; callers have checked the length.
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

pub(crate) fn lei64(b: &[u8], at: usize) -> i64 {
    le64(b, at) as i64
}

/// `n` rounded up to a multiple of 8 (saturating).
pub(crate) fn align8(n: u64) -> u64 {
    n.saturating_add(7) & !7
}

/// One section's bytes and where they start in the file, for errors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sec<'a> {
    pub bytes: &'a [u8],
    pub base: u64,
    pub what: &'static str,
}

impl<'a> Sec<'a> {
    /// An error about the field at `at` (from the section start).
    pub fn invalid(&self, at: usize, detail: String) -> Error {
        Error::Invalid {
            offset: self.base + at as u64,
            what: self.what,
            detail,
        }
    }

    /// Checks that the section is exactly `len` bytes long: shorter is
    /// truncated, longer has stray bytes.
    pub fn exact_len(&self, len: u64, of: &str) -> Result<()> {
        let have = self.bytes.len() as u64;
        if have < len {
            return Err(Error::Truncated {
                offset: self.base,
                what: self.what,
                needed: len,
                available: have,
            });
        }
        if have > len {
            return Err(self.invalid(
                len as usize,
                format!("{} bytes after the end of {of} ({len} bytes)", have - len),
            ));
        }
        Ok(())
    }

    /// Checks that the section has at least `len` bytes.
    pub fn at_least(&self, len: usize) -> Result<()> {
        if self.bytes.len() < len {
            return Err(Error::Truncated {
                offset: self.base,
                what: self.what,
                needed: len as u64,
                available: self.bytes.len() as u64,
            });
        }
        Ok(())
    }
}

/// A checked table of fixed-stride records: `count` records of `stride`
/// bytes each (the stride may exceed the length this version knows: newer
/// minor versions append fields).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Table<'a> {
    pub records: &'a [u8],
    pub stride: usize,
    pub count: usize,
}

/// Header of the table sections (POINTS, PAIRS, TRANSLATIONS): record count
/// and record length.
pub mod table_field {
    use core::ops::Range;
    pub const COUNT: Range<usize> = 0..4;
    pub const RECORD_LEN: Range<usize> = 4..8;
    pub const LEN: usize = 8;
}

impl<'a> Table<'a> {
    /// Checks a table section: 8-byte header {count u32, record length u32},
    /// record length at least `min_record`, then exactly `count` records.
    pub fn check(sec: Sec<'a>, min_record: usize) -> Result<Table<'a>> {
        sec.at_least(table_field::LEN)?;
        let count = le32(sec.bytes, table_field::COUNT.start) as u64;
        let stride = le32(sec.bytes, table_field::RECORD_LEN.start) as u64;
        if stride < min_record as u64 {
            return Err(sec.invalid(
                table_field::RECORD_LEN.start,
                format!(
                    "record length {stride} is below the {min_record} bytes the format defines"
                ),
            ));
        }
        let len = count
            .checked_mul(stride)
            .and_then(|n| n.checked_add(table_field::LEN as u64))
            .unwrap_or(u64::MAX);
        sec.exact_len(len, "the records")?;
        Ok(Table {
            records: &sec.bytes[table_field::LEN..],
            stride: stride as usize,
            count: count as usize,
        })
    }

    /// Record `i` (i < count).
    pub fn record(&self, i: usize) -> &'a [u8] {
        &self.records[i * self.stride..(i + 1) * self.stride]
    }
}

/// Names shown in CSV columns (point labels, method names): 1 to 64 bytes,
/// no control characters, no comma, no double quote.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.chars().any(|c| c.is_control() || c == ',' || c == '"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_every_variant() {
        let all = [
            Error::BadMagic {
                found: b"\x0a\x0d\x0d\x0a".to_vec(),
            },
            Error::BadMagic { found: vec![] },
            Error::NewerVersion { major: 3, minor: 1 },
            Error::Unsupported {
                offset: 48,
                what: "section table",
                detail: "required section kind 77 unknown".into(),
            },
            Error::Truncated {
                offset: 0,
                what: "index",
                needed: 100,
                available: 50,
            },
            Error::Invalid {
                offset: 4096,
                what: "PEERS section",
                detail: "first[12] = 900 beyond the 512 peer entries".into(),
            },
        ];
        let words = [
            "0A0D0D0A",
            "empty file",
            "version 3.1 is newer than this reader (2.0)",
            "newer pktmatch",
            "truncated, needs 100 bytes, only 50 there",
            "PEERS section at byte 4096: first[12] = 900 beyond the 512 peer entries",
        ];
        for (e, w) in all.iter().zip(words) {
            let s = e.to_string();
            assert!(s.contains(w), "{s} lacks {w}");
        }
        assert_eq!(all[5].offset(), 4096);
        assert_eq!(all[2].offset(), 8);
        assert_eq!(all[0].offset(), 0);
        assert!(all[2].is_newer_format() && all[3].is_newer_format());
        assert!(!all[4].is_newer_format());
    }

    #[test]
    fn helpers() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(le16(&b, 1), 0x0302);
        assert_eq!(le32(&b, 0), 0x04030201);
        assert_eq!(le64(&b, 1), 0x0908070605040302);
        assert_eq!(lei64(&[0xFF; 8], 0), -1);
        assert_eq!(align8(0), 0);
        assert_eq!(align8(1), 8);
        assert_eq!(align8(16), 16);
        assert_eq!(align8(u64::MAX), 0xFFFF_FFFF_FFFF_FFF8);
        assert!(valid_name("wan"));
        assert!(valid_name("lb server-1"));
        assert!(!valid_name(""));
        assert!(!valid_name("a,b"));
        assert!(!valid_name("a\"b"));
        assert!(!valid_name("a\nb"));
        assert!(!valid_name(&"x".repeat(65)));
    }

    #[test]
    fn table_lengths() {
        let mut b = vec![2, 0, 0, 0, 4, 0, 0, 0];
        b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let sec = Sec {
            bytes: &b,
            base: 100,
            what: "T",
        };
        let t = Table::check(sec, 4).unwrap();
        assert_eq!((t.count, t.stride), (2, 4));
        assert_eq!(t.record(1), &[5, 6, 7, 8]);
        let e = Table::check(sec, 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "T at byte 104: record length 4 is below the 8 bytes the format defines"
        );
        let short = Sec {
            bytes: &b[..15],
            ..sec
        };
        assert!(matches!(
            Table::check(short, 4),
            Err(Error::Truncated {
                needed: 16,
                available: 15,
                ..
            })
        ));
        let mut long = b.clone();
        long.push(0);
        let e = Table::check(
            Sec {
                bytes: &long,
                ..sec
            },
            4,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "T at byte 116: 1 bytes after the end of the records (16 bytes)"
        );
        // A huge count does not overflow.
        let huge = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(matches!(
            Table::check(
                Sec {
                    bytes: &huge,
                    ..sec
                },
                4
            ),
            Err(Error::Truncated { .. })
        ));
    }
}
