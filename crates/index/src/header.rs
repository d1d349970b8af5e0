//! The file header and the section table.
//!
//! ```text
//!  0  8  MAGIC          "PKTMIDX\0"
//!  8  2  VERSION_MAJOR  2; a reader refuses a larger one, and a smaller one (1.x files
//!                       mixed capture drops into losses: index the captures again)
//! 10  2  VERSION_MINOR  0; readers accept any minor of their major
//! 12  4  FLAGS          bits 0-15 compatible (ignored when unknown),
//!                       bits 16-31 incompatible (refused when unknown); none defined
//! 16  8  TOTAL_LEN      length of the whole file
//! 24  8  CREATED_NS     creation time, ns since the Unix epoch (i64)
//! 32  4  SECTION_COUNT  entries in the section table
//! 36  4  HEADER_LEN     where the section table starts (48 in 1.0; at least 48)
//! 40  8  reserved       0
//! HEADER_LEN: SECTION_COUNT entries of 24 bytes:
//!  0  4  KIND           section kind (`kind`)
//!  4  4  FLAGS          bit 0 REQUIRED: a reader that does not know KIND must refuse
//!  8  8  OFFSET         from the start of the file, a multiple of 8
//! 16  8  LEN            bytes (padding to the next section not included)
//! ```
//! All integers little-endian.  Sections start at multiples of 8 (readers
//! refuse others, a sign of damage, but never rely on alignment: every field
//! is read byte-wise), lie after the section table, inside TOTAL_LEN, and do
//! not overlap; a known kind appears at most once; unknown
//! kinds without REQUIRED are skipped.  The last section is CHECKSUM: the
//! CRC-32 of every byte before it (see [`checksum`]).

use crate::{le16, le32, le64, lei64, Error, Result};

/// The first 8 bytes of every index.
pub const MAGIC: [u8; 8] = *b"PKTMIDX\0";
/// The format version this crate writes and reads.  2.0 told the three
/// kinds of a missing packet apart (network loss, capture drop, outside
/// capture) and added the per-point capture drop counts, clock resolution
/// and encapsulations, the pairs' neighbour flag and counts per kind, and
/// the SESSION section (how the path order was found).
pub const VERSION_MAJOR: u16 = 2;
/// The minor version written (readers of major 2 read any minor).
pub const VERSION_MINOR: u16 = 0;

/// Byte ranges of the header fields.
pub mod field {
    use core::ops::Range;
    pub const MAGIC: Range<usize> = 0..8;
    pub const VERSION_MAJOR: Range<usize> = 8..10;
    pub const VERSION_MINOR: Range<usize> = 10..12;
    pub const FLAGS: Range<usize> = 12..16;
    pub const TOTAL_LEN: Range<usize> = 16..24;
    pub const CREATED_NS: Range<usize> = 24..32;
    pub const SECTION_COUNT: Range<usize> = 32..36;
    pub const HEADER_LEN: Range<usize> = 36..40;
    pub const RESERVED: Range<usize> = 40..48;
    /// Length of the 1.0 header.
    pub const LEN: usize = 48;
}

/// Byte ranges of a section table entry.
pub mod entry_field {
    use core::ops::Range;
    pub const KIND: Range<usize> = 0..4;
    pub const FLAGS: Range<usize> = 4..8;
    pub const OFFSET: Range<usize> = 8..16;
    pub const LEN: Range<usize> = 16..24;
    /// Length of one entry.
    pub const ENTRY_LEN: usize = 24;
}

/// Header flags.
pub mod flags {
    /// Bits a reader must understand; any unknown one set means refuse.
    pub const INCOMPATIBLE_MASK: u32 = 0xFFFF_0000;
    /// Incompatible bits this reader knows (none in 1.0).
    pub const KNOWN_INCOMPATIBLE: u32 = 0;
}

/// Section table entry flags.
pub mod section_flags {
    /// A reader that does not know the section kind must refuse the file.
    pub const REQUIRED: u32 = 0x0000_0001;
}

/// Section kinds.
pub mod kind {
    pub const STRINGS: u32 = 1;
    pub const POINTS: u32 = 2;
    pub const FRAME_CHECKS: u32 = 3;
    pub const FRAME_TIMES: u32 = 4;
    pub const PAIRS: u32 = 5;
    pub const PEERS: u32 = 6;
    pub const LOST: u32 = 7;
    pub const TRANSLATIONS: u32 = 8;
    pub const METHODS: u32 = 9;
    /// Format 1.1.
    pub const CLOCK_SEGMENTS: u32 = 10;
    /// Format 1.2: the file's CRC-32, the last section.
    pub const CHECKSUM: u32 = 11;
    /// Format 2.0: how the path order was found, the topology, the clocks'
    /// reconciliation.
    pub const SESSION: u32 = 12;

    /// Every kind of format 2.0 with its name.
    pub const ALL: &[(u32, &str)] = &[
        (STRINGS, "STRINGS"),
        (POINTS, "POINTS"),
        (FRAME_CHECKS, "FRAME_CHECKS"),
        (FRAME_TIMES, "FRAME_TIMES"),
        (PAIRS, "PAIRS"),
        (PEERS, "PEERS"),
        (LOST, "LOST"),
        (TRANSLATIONS, "TRANSLATIONS"),
        (METHODS, "METHODS"),
        (CLOCK_SEGMENTS, "CLOCK_SEGMENTS"),
        (CHECKSUM, "CHECKSUM"),
        (SESSION, "SESSION"),
    ];

    /// The sections every index has (the others may be left out: empty).
    /// CHECKSUM too since 2.0.
    pub const REQUIRED: &[u32] = &[STRINGS, POINTS, FRAME_CHECKS, PEERS, CHECKSUM];

    /// The name of a kind, if known.
    pub fn name(kind: u32) -> Option<&'static str> {
        ALL.iter().find(|(k, _)| *k == kind).map(|(_, n)| *n)
    }

    /// "`<NAME>` section", for errors.
    pub fn what(kind: u32) -> &'static str {
        match kind {
            STRINGS => "STRINGS section",
            POINTS => "POINTS section",
            FRAME_CHECKS => "FRAME_CHECKS section",
            FRAME_TIMES => "FRAME_TIMES section",
            PAIRS => "PAIRS section",
            PEERS => "PEERS section",
            LOST => "LOST section",
            TRANSLATIONS => "TRANSLATIONS section",
            METHODS => "METHODS section",
            CLOCK_SEGMENTS => "CLOCK_SEGMENTS section",
            CHECKSUM => "CHECKSUM section",
            SESSION => "SESSION section",
            _ => "unknown section",
        }
    }
}

/// A view over a checked header: magic, version, flags and lengths agree with
/// the slice, and the section table lies within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    buf: &'a [u8],
}

/// One section table entry, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionEntry {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub len: u64,
    /// Where the entry itself is in the file.
    pub entry_offset: u64,
}

const WHAT: &str = "index header";

impl<'a> Header<'a> {
    /// Checks the header of the index `buf` (the whole file).
    pub fn new_checked(buf: &'a [u8]) -> Result<Header<'a>> {
        let n = buf.len().min(MAGIC.len());
        if buf[..n] != MAGIC[..n] || n == 0 {
            return Err(Error::BadMagic {
                found: buf[..n].to_vec(),
            });
        }
        if buf.len() < field::LEN {
            return Err(Error::Truncated {
                offset: 0,
                what: WHAT,
                needed: field::LEN as u64,
                available: buf.len() as u64,
            });
        }
        let h = Header { buf };
        let (major, minor) = h.version();
        if major > VERSION_MAJOR {
            return Err(Error::NewerVersion { major, minor });
        }
        if major == 0 {
            return Err(Error::Invalid {
                offset: field::VERSION_MAJOR.start as u64,
                what: WHAT,
                detail: "format version 0.x was never written".into(),
            });
        }
        if major < VERSION_MAJOR {
            return Err(Error::OlderVersion { major, minor });
        }
        let unknown = h.flags() & flags::INCOMPATIBLE_MASK & !flags::KNOWN_INCOMPATIBLE;
        if unknown != 0 {
            return Err(Error::Unsupported {
                offset: field::FLAGS.start as u64,
                what: WHAT,
                detail: format!("incompatible flags 0x{unknown:08X} unknown"),
            });
        }
        let total = h.total_len();
        if total > buf.len() as u64 {
            return Err(Error::Truncated {
                offset: 0,
                what: "index",
                needed: total,
                available: buf.len() as u64,
            });
        }
        if total < buf.len() as u64 {
            return Err(Error::Invalid {
                offset: field::TOTAL_LEN.start as u64,
                what: WHAT,
                detail: format!(
                    "total length {total} but {} bytes given: stray bytes after the index, \
                     or a length field damaged",
                    buf.len()
                ),
            });
        }
        let hlen = h.header_len() as u64;
        if hlen < field::LEN as u64 {
            return Err(Error::Invalid {
                offset: field::HEADER_LEN.start as u64,
                what: WHAT,
                detail: format!("header length {hlen} is below the 48 bytes of format 1.0"),
            });
        }
        let table_end = (h.section_count() as u64)
            .checked_mul(entry_field::ENTRY_LEN as u64)
            .and_then(|n| n.checked_add(hlen))
            .unwrap_or(u64::MAX);
        if table_end > total {
            return Err(Error::Truncated {
                offset: hlen.min(total),
                what: "section table",
                needed: table_end.saturating_sub(hlen),
                available: total.saturating_sub(hlen),
            });
        }
        Ok(h)
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// (major, minor) format version.
    pub fn version(&self) -> (u16, u16) {
        (
            le16(self.buf, field::VERSION_MAJOR.start),
            le16(self.buf, field::VERSION_MINOR.start),
        )
    }

    /// Header flags.
    pub fn flags(&self) -> u32 {
        le32(self.buf, field::FLAGS.start)
    }

    /// TOTAL_LEN (equal to the slice length once checked).
    pub fn total_len(&self) -> u64 {
        le64(self.buf, field::TOTAL_LEN.start)
    }

    /// Creation time, ns since the Unix epoch.
    pub fn created_ns(&self) -> i64 {
        lei64(self.buf, field::CREATED_NS.start)
    }

    /// Number of section table entries.
    pub fn section_count(&self) -> u32 {
        le32(self.buf, field::SECTION_COUNT.start)
    }

    /// Offset of the section table.
    pub fn header_len(&self) -> u32 {
        le32(self.buf, field::HEADER_LEN.start)
    }

    /// End of the section table.
    pub fn table_end(&self) -> u64 {
        self.header_len() as u64 + self.section_count() as u64 * entry_field::ENTRY_LEN as u64
    }

    /// Section table entry `i` (i < section_count).
    pub fn entry(&self, i: u32) -> SectionEntry {
        let at = self.header_len() as usize + i as usize * entry_field::ENTRY_LEN;
        let e = &self.buf[at..at + entry_field::ENTRY_LEN];
        SectionEntry {
            kind: le32(e, entry_field::KIND.start),
            flags: le32(e, entry_field::FLAGS.start),
            offset: le64(e, entry_field::OFFSET.start),
            len: le64(e, entry_field::LEN.start),
            entry_offset: at as u64,
        }
    }

    /// The known sections, checked: each starts at a multiple of 8 after the
    /// section table and ends inside the file, none overlaps another, no known kind twice, no
    /// unknown kind marked REQUIRED.  Unknown kinds are left out.
    pub fn sections(&self) -> Result<Vec<SectionEntry>> {
        let total = self.total_len();
        let table_end = self.table_end();
        let mut all: Vec<SectionEntry> = Vec::new();
        for i in 0..self.section_count() {
            let e = self.entry(i);
            let end = e.offset.checked_add(e.len);
            if e.offset < table_end || end.map_or(true, |end| end > total) {
                return Err(Error::Invalid {
                    offset: e.entry_offset + entry_field::OFFSET.start as u64,
                    what: "section table",
                    detail: format!(
                        "section {i} ({}) at offset {} length {} is outside the sections area \
                         (bytes {table_end}..{total})",
                        kind::name(e.kind).unwrap_or("unknown kind"),
                        e.offset,
                        e.len
                    ),
                });
            }
            if e.offset % 8 != 0 {
                return Err(Error::Invalid {
                    offset: e.entry_offset + entry_field::OFFSET.start as u64,
                    what: "section table",
                    detail: format!(
                        "section {i} ({}) offset {} is not a multiple of 8",
                        kind::name(e.kind).unwrap_or("unknown kind"),
                        e.offset
                    ),
                });
            }
            all.push(e);
        }
        let mut sorted = all.clone();
        sorted.sort_by_key(|e| (e.offset, e.len));
        for w in sorted.windows(2) {
            if w[0].offset + w[0].len > w[1].offset {
                return Err(Error::Invalid {
                    offset: w[1].entry_offset + entry_field::OFFSET.start as u64,
                    what: "section table",
                    detail: format!(
                        "section at offset {} overlaps the one at offset {} (length {})",
                        w[1].offset, w[0].offset, w[0].len
                    ),
                });
            }
        }
        let mut known = Vec::new();
        for e in all {
            match kind::name(e.kind) {
                Some(name) => {
                    if known.iter().any(|k: &SectionEntry| k.kind == e.kind) {
                        return Err(Error::Invalid {
                            offset: e.entry_offset,
                            what: "section table",
                            detail: format!("second {name} section"),
                        });
                    }
                    known.push(e);
                }
                None if e.flags & section_flags::REQUIRED != 0 => {
                    return Err(Error::Unsupported {
                        offset: e.entry_offset,
                        what: "section table",
                        detail: format!("required section kind {} unknown", e.kind),
                    });
                }
                None => {}
            }
        }
        Ok(known)
    }
}

/// The CHECKSUM section (format 1.2, required from 2.0): the file's integrity, so that damage
/// that leaves every structure plausible (a changed frame number, time
/// stamp or address) is refused too, not shown as wrong values.
///
/// ```text
/// 0  4  CRC32     CRC-32 (IEEE 802.3, as zlib and PNG compute it) of
///                 bytes 0 .. this section's offset
/// 4  4  reserved  0
/// ```
/// The section ends the file (its offset + 8 = TOTAL_LEN).
pub mod checksum {
    use crate::{le32, Error, Result};

    pub const LEN: usize = 8;

    /// The CRC-32 of `bytes`.
    pub fn crc32(bytes: &[u8]) -> u32 {
        crc32fast::hash(bytes)
    }

    /// The section's bytes for a file whose bytes before it have CRC `crc`.
    pub fn section(crc: u32) -> [u8; LEN] {
        let mut s = [0u8; LEN];
        s[..4].copy_from_slice(&crc.to_le_bytes());
        s
    }

    /// Checks the CHECKSUM section at `offset` (length `len`) of `file`.
    pub fn verify(file: &[u8], offset: u64, len: u64) -> Result<()> {
        let total = file.len() as u64;
        if len != LEN as u64 || offset.checked_add(len) != Some(total) {
            return Err(Error::Invalid {
                offset,
                what: "CHECKSUM section",
                detail: format!(
                    "{len} bytes at offset {offset}: it must be the file's last {LEN} bytes \
                     (the file has {total})"
                ),
            });
        }
        let reserved = le32(file, offset as usize + 4);
        if reserved != 0 {
            return Err(Error::Invalid {
                offset: offset + 4,
                what: "CHECKSUM section",
                detail: format!("reserved field 0x{reserved:08X} is not 0: the index is damaged"),
            });
        }
        let stored = le32(file, offset as usize);
        let computed = crc32(&file[..offset as usize]);
        if stored != computed {
            return Err(Error::Invalid {
                offset,
                what: "CHECKSUM section",
                detail: format!(
                    "the file's CRC-32 is 0x{computed:08X}, not the 0x{stored:08X} written: \
                     the index was changed or damaged after it was written (index the \
                     captures again)"
                ),
            });
        }
        Ok(())
    }

    /// Rewrites the checksum of an index whose bytes were changed on
    /// purpose (tests, tools): `file` must end in a CHECKSUM section (its
    /// last 8 bytes are overwritten; a shorter buffer is left alone).
    pub fn reseal(file: &mut [u8]) {
        if file.len() >= LEN {
            let at = file.len() - LEN;
            let crc = crc32(&file[..at]);
            file[at..].copy_from_slice(&section(crc));
        }
    }
}

/// Writes a header (for the builder and tests).
pub(crate) fn write(out: &mut Vec<u8>, total_len: u64, created_ns: i64, section_count: u32) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION_MAJOR.to_le_bytes());
    out.extend_from_slice(&VERSION_MINOR.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&total_len.to_le_bytes());
    out.extend_from_slice(&created_ns.to_le_bytes());
    out.extend_from_slice(&section_count.to_le_bytes());
    out.extend_from_slice(&(field::LEN as u32).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
}

/// Writes a section table entry.
pub(crate) fn write_entry(out: &mut Vec<u8>, kind: u32, flags: u32, offset: u64, len: u64) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with `n` entries and the given total length (not counting
    /// the sections themselves, which the test appends).
    fn file(entries: &[(u32, u32, u64, u64)], extra: usize) -> Vec<u8> {
        let total = field::LEN + entries.len() * entry_field::ENTRY_LEN + extra;
        let mut v = Vec::new();
        write(&mut v, total as u64, 42, entries.len() as u32);
        for &(k, f, o, l) in entries {
            write_entry(&mut v, k, f, o, l);
        }
        v.resize(total, 0);
        v
    }

    #[test]
    fn fields() {
        let v = file(&[(kind::STRINGS, 0, 72, 8)], 8);
        let h = Header::new_checked(&v).unwrap();
        assert_eq!(h.version(), (2, 0));
        assert_eq!(h.flags(), 0);
        assert_eq!(h.total_len(), 80);
        assert_eq!(h.created_ns(), 42);
        assert_eq!(h.section_count(), 1);
        assert_eq!(h.header_len(), 48);
        assert_eq!(h.table_end(), 72);
        assert_eq!(h.as_bytes().len(), 80);
        let s = h.sections().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].kind, s[0].offset, s[0].len), (kind::STRINGS, 72, 8));
        assert_eq!(kind::name(kind::PEERS), Some("PEERS"));
        assert_eq!(kind::name(99), None);
        assert_eq!(kind::what(99), "unknown section");
        for (k, n) in kind::ALL {
            assert!(kind::what(*k).starts_with(n));
        }
    }

    #[test]
    fn magic_and_version() {
        assert_eq!(
            Header::new_checked(b""),
            Err(Error::BadMagic { found: vec![] })
        );
        assert_eq!(
            Header::new_checked(b"PKT").unwrap_err(),
            Error::Truncated {
                offset: 0,
                what: WHAT,
                needed: 48,
                available: 3
            }
        );
        assert!(matches!(
            Header::new_checked(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"),
            Err(Error::BadMagic { .. })
        ));
        let mut v = file(&[], 0);
        v[8] = 3;
        v[10] = 3;
        assert_eq!(
            Header::new_checked(&v),
            Err(Error::NewerVersion { major: 3, minor: 3 })
        );
        v[8] = 0;
        assert!(matches!(
            Header::new_checked(&v),
            Err(Error::Invalid { offset: 8, .. })
        ));
        // 1.x: refused, with what to do.
        v[8] = 1;
        v[10] = 2;
        let e = Header::new_checked(&v).unwrap_err();
        assert_eq!(e, Error::OlderVersion { major: 1, minor: 2 });
        assert!(e.is_older_format() && !e.is_newer_format());
        assert!(e.to_string().contains("re-run `pktmatch index`"), "{e}");
        // A newer minor is fine.
        v[8] = 2;
        v[10] = 7;
        assert!(Header::new_checked(&v).is_ok());
        // Compatible flags are ignored, incompatible ones refused.
        v[12] = 0xFF;
        assert!(Header::new_checked(&v).is_ok());
        v[14] = 1;
        let e = Header::new_checked(&v).unwrap_err();
        assert!(e.is_newer_format());
        assert!(e.to_string().contains("0x00010000"), "{e}");
    }

    #[test]
    fn lengths() {
        let v = file(&[], 0);
        let mut long = v.clone();
        long.push(0);
        assert!(matches!(
            Header::new_checked(&long),
            Err(Error::Invalid { offset: 16, .. })
        ));
        let mut bad = v.clone();
        bad[36] = 40;
        assert!(matches!(
            Header::new_checked(&bad),
            Err(Error::Invalid { offset: 36, .. })
        ));
        let mut bad = v.clone();
        bad[32] = 1; // one entry, no room for it
        assert_eq!(
            Header::new_checked(&bad).unwrap_err().to_string(),
            "section table at byte 48: truncated, needs 24 bytes, only 0 there"
        );
        let mut bad = v;
        bad[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        bad[36..40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Header::new_checked(&bad).is_err());
    }

    #[test]
    fn section_rules() {
        // Outside: before the table end, past the file, overflowing.
        for (o, l) in [(0u64, 8u64), (72, 9), (u64::MAX - 7, 16), (80, 0), (73, 1)] {
            let v = file(&[(kind::STRINGS, 0, o, l)], 8);
            let h = Header::new_checked(&v).unwrap();
            if (o, l) == (80, 0) {
                assert!(h.sections().is_ok()); // empty section at the very end
                continue;
            }
            let e = h.sections().unwrap_err();
            let want = if o == 73 {
                "not a multiple of 8"
            } else {
                "outside the sections area"
            };
            assert!(e.to_string().contains(want), "{e}");
        }
        // Overlap.
        let v = file(&[(kind::STRINGS, 0, 96, 16), (kind::POINTS, 0, 104, 8)], 16);
        let e = Header::new_checked(&v).unwrap().sections().unwrap_err();
        assert!(e.to_string().contains("overlaps"), "{e}");
        // Twice the same kind.
        let v = file(&[(kind::STRINGS, 0, 96, 8), (kind::STRINGS, 0, 104, 8)], 16);
        let e = Header::new_checked(&v).unwrap().sections().unwrap_err();
        assert!(e.to_string().contains("second STRINGS"), "{e}");
        // Unknown kinds: skipped, refused when required.
        let v = file(&[(77, 0, 96, 8), (kind::STRINGS, 0, 104, 8)], 16);
        let s = Header::new_checked(&v).unwrap().sections().unwrap();
        assert_eq!(s.len(), 1);
        let v = file(&[(77, section_flags::REQUIRED, 72, 8)], 16);
        let e = Header::new_checked(&v).unwrap().sections().unwrap_err();
        assert!(e.is_newer_format());
        assert!(e.to_string().contains("required section kind 77"), "{e}");
    }
}
