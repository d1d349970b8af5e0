//! POINTS: the capture points in path order (client side first); point `i`
//! is the i-th record.
//!
//! ```text
//! section:  0  4  COUNT        number of points (at most 65535)
//!           4  4  RECORD_LEN   56 in 1.0; larger = fields appended by a newer minor
//!           8  ..  COUNT records of RECORD_LEN bytes
//! record:   0  4  LABEL_OFF    label: STRINGS reference (1-64 bytes, no control
//!           4  4  LABEL_LEN           characters, comma or quote; unique)
//!           8  4  PATH_OFF     original path of the capture file: STRINGS reference
//!          12  4  PATH_LEN
//!          16  8  FILE_SIZE    bytes of the capture file when indexed
//!          24  4  PACKETS      frames in it (frames are numbered 1..=PACKETS)
//!          28  4  FLAGS        none defined (0)
//!          32  8  FIRST_TS     time stamp of frame 1, ns since the Unix epoch (i64)
//!          40  8  LAST_TS      time stamp of the last frame
//!          48  8  FINGERPRINT  checks_fingerprint of the point's frame checks
//! ```

use crate::{le32, le64, lei64, strings, valid_name, Error, Result, Sec, Table};

/// Byte ranges of the POINTS section and its records.
pub mod field {
    use core::ops::Range;
    pub const COUNT: Range<usize> = 0..4;
    pub const RECORD_LEN: Range<usize> = 4..8;
    pub const HEADER_LEN: usize = 8;

    /// Fields of one record.
    pub mod record {
        use core::ops::Range;
        pub const LABEL_OFF: Range<usize> = 0..4;
        pub const LABEL_LEN: Range<usize> = 4..8;
        pub const PATH_OFF: Range<usize> = 8..12;
        pub const PATH_LEN: Range<usize> = 12..16;
        pub const FILE_SIZE: Range<usize> = 16..24;
        pub const PACKETS: Range<usize> = 24..28;
        pub const FLAGS: Range<usize> = 28..32;
        pub const FIRST_TS: Range<usize> = 32..40;
        pub const LAST_TS: Range<usize> = 40..48;
        pub const FINGERPRINT: Range<usize> = 48..56;
        /// Record length in format 1.0.
        pub const LEN: usize = 56;
    }
}

/// Most points an index can have (point numbers are u16).
pub const MAX_POINTS: usize = u16::MAX as usize;

/// One capture point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point<'a> {
    rec: &'a [u8],
    strings: &'a str,
    index: u16,
}

impl<'a> Point<'a> {
    pub(crate) fn new(rec: &'a [u8], strings: &'a str, index: u16) -> Point<'a> {
        Point {
            rec,
            strings,
            index,
        }
    }

    /// Its number: position in path order, from 0.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Its label (CSV-safe, unique in the index).
    pub fn label(&self) -> &'a str {
        use field::record::*;
        strings::get(
            self.strings,
            le32(self.rec, LABEL_OFF.start),
            le32(self.rec, LABEL_LEN.start),
        )
    }

    /// The capture file's path when it was indexed.
    pub fn path(&self) -> &'a str {
        use field::record::*;
        strings::get(
            self.strings,
            le32(self.rec, PATH_OFF.start),
            le32(self.rec, PATH_LEN.start),
        )
    }

    /// The capture file's size when it was indexed.
    pub fn file_size(&self) -> u64 {
        le64(self.rec, field::record::FILE_SIZE.start)
    }

    /// Its number of frames.
    pub fn packets(&self) -> u32 {
        le32(self.rec, field::record::PACKETS.start)
    }

    /// Record flags (none defined).
    pub fn flags(&self) -> u32 {
        le32(self.rec, field::record::FLAGS.start)
    }

    /// Time stamp of frame 1 (ns since the Unix epoch; 0 without frames).
    pub fn first_ts_ns(&self) -> i64 {
        lei64(self.rec, field::record::FIRST_TS.start)
    }

    /// Time stamp of the last frame.
    pub fn last_ts_ns(&self) -> i64 {
        lei64(self.rec, field::record::LAST_TS.start)
    }

    /// [`crate::checks_fingerprint`] of its frame checks (checked at load).
    pub fn fingerprint(&self) -> u64 {
        le64(self.rec, field::record::FINGERPRINT.start)
    }
}

/// Checks the POINTS section: table lengths, at most 65535 points, string
/// references, labels valid and unique.
pub(crate) fn check<'a>(sec: Sec<'a>, strings: &'a str) -> Result<Table<'a>> {
    let t = Table::check(sec, field::record::LEN)?;
    if t.count > MAX_POINTS {
        return Err(sec.invalid(
            field::COUNT.start,
            format!("{} points, at most {MAX_POINTS} allowed", t.count),
        ));
    }
    let mut labels: Vec<(&str, usize)> = Vec::with_capacity(t.count);
    for i in 0..t.count {
        use field::record::*;
        let r = t.record(i);
        let at = field::HEADER_LEN + i * t.stride;
        let label = strings::check_ref(
            strings,
            le32(r, LABEL_OFF.start),
            le32(r, LABEL_LEN.start),
            &sec,
            at + LABEL_OFF.start,
            &format!("point {i} label"),
        )?;
        if !valid_name(label) {
            return Err(sec.invalid(
                at + LABEL_OFF.start,
                format!(
                    "point {i} label {label:?} must be 1-64 bytes without control characters, \
                     commas or quotes"
                ),
            ));
        }
        strings::check_ref(
            strings,
            le32(r, PATH_OFF.start),
            le32(r, PATH_LEN.start),
            &sec,
            at + PATH_OFF.start,
            &format!("point {i} path"),
        )?;
        labels.push((label, i));
    }
    labels.sort_unstable();
    if let Some(w) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
        let i = w[0].1.max(w[1].1);
        return Err(Error::Invalid {
            offset: sec.base + (field::HEADER_LEN + i * t.stride) as u64,
            what: sec.what,
            detail: format!(
                "point {i} has the label {:?} of point {}",
                w[0].0,
                w[0].1.min(w[1].1)
            ),
        });
    }
    Ok(t)
}

/// Writes one record.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_record(
    out: &mut Vec<u8>,
    label: (u32, u32),
    path: (u32, u32),
    file_size: u64,
    packets: u32,
    first_ts: i64,
    last_ts: i64,
    fingerprint: u64,
) {
    out.extend_from_slice(&label.0.to_le_bytes());
    out.extend_from_slice(&label.1.to_le_bytes());
    out.extend_from_slice(&path.0.to_le_bytes());
    out.extend_from_slice(&path.1.to_le_bytes());
    out.extend_from_slice(&file_size.to_le_bytes());
    out.extend_from_slice(&packets.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&first_ts.to_le_bytes());
    out.extend_from_slice(&last_ts.to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::Blob;

    fn section(points: &[(&str, &str)], blob: &mut Blob) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(points.len() as u32).to_le_bytes());
        v.extend_from_slice(&(field::record::LEN as u32).to_le_bytes());
        for (i, (l, p)) in points.iter().enumerate() {
            let (l, p) = (blob.add(l), blob.add(p));
            write_record(&mut v, l, p, 1000 + i as u64, 7, -5, 9, 0xABCD);
        }
        v
    }

    #[test]
    fn fields() {
        let mut blob = Blob::default();
        let v = section(
            &[("client", "/tmp/c.pcapng"), ("wan", "/tmp/w.pcapng")],
            &mut blob,
        );
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "POINTS section",
        };
        let t = check(sec, &blob.text).unwrap();
        assert_eq!(t.count, 2);
        let p = Point::new(t.record(1), &blob.text, 1);
        assert_eq!(p.index(), 1);
        assert_eq!(p.label(), "wan");
        assert_eq!(p.path(), "/tmp/w.pcapng");
        assert_eq!(p.file_size(), 1001);
        assert_eq!(p.packets(), 7);
        assert_eq!(p.flags(), 0);
        assert_eq!(p.first_ts_ns(), -5);
        assert_eq!(p.last_ts_ns(), 9);
        assert_eq!(p.fingerprint(), 0xABCD);
    }

    #[test]
    fn bad_labels() {
        for (points, word) in [
            (
                &[("a", "x"), ("a", "y")][..],
                "has the label \"a\" of point 0",
            ),
            (&[("a,b", "x")][..], "must be 1-64 bytes"),
            (&[("", "x")][..], "must be 1-64 bytes"),
        ] {
            let mut blob = Blob::default();
            let v = section(points, &mut blob);
            let sec = Sec {
                bytes: &v,
                base: 0,
                what: "POINTS section",
            };
            let e = check(sec, &blob.text).unwrap_err();
            assert!(e.to_string().contains(word), "{e}");
        }
        let mut blob = Blob::default();
        let mut v = section(&[("a", "x")], &mut blob);
        v[20] = 9; // path length beyond the strings
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "POINTS section",
        };
        let e = check(sec, &blob.text).unwrap_err();
        assert!(e.to_string().contains("point 0 path"), "{e}");
    }
}
