//! POINTS: the capture points in path order (client side first); point `i`
//! is the i-th record.
//!
//! ```text
//! section:  0  4  COUNT        number of points (at most 65535)
//!           4  4  RECORD_LEN   72 in 2.0; larger = fields appended by a newer minor
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
//!          56  4  CAPTURE_DROPS  packets this capture did not record although they passed
//!                              the point: seen at a point before it and one after it (2.0)
//!          60  4  CLOCK_RESOLUTION_NS  the resolution its time stamps show: the largest
//!                              power of ten (ns) that nearly all are multiples of; 0 unknown
//!          64  4  ENCAPSULATIONS  the tunnels its packets arrived in ([`encap`] bits)
//!          68  2  GIVEN_POSITION  where the capture was given among the inputs, from 0
//!                              (the points themselves are in path order); 0xFFFF unknown
//!          70  2  reserved     0
//! ```

use crate::{le16, le32, le64, lei64, strings, valid_name, Error, Result, Sec, Table};

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
        pub const CAPTURE_DROPS: Range<usize> = 56..60;
        pub const CLOCK_RESOLUTION_NS: Range<usize> = 60..64;
        pub const ENCAPSULATIONS: Range<usize> = 64..68;
        pub const GIVEN_POSITION: Range<usize> = 68..70;
        pub const RESERVED: Range<usize> = 70..72;
        /// Record length in format 2.0.
        pub const LEN: usize = 72;
    }
}

/// Bits of ENCAPSULATIONS: the tunnels a point's packets arrived in (a
/// remote capture: a switch's ERSPAN session, a VXLAN underlay…).  The
/// matcher works on the inner packet; these say what was around it.
pub mod encap {
    /// GRE carrying IP or Ethernet (RFC 2784, 2890; transparent Ethernet
    /// bridging 0x6558).
    pub const GRE: u32 = 1 << 0;
    /// ERSPAN type I or II in GRE (0x88BE; draft-foschiano-erspan).
    pub const ERSPAN_I_II: u32 = 1 << 1;
    /// ERSPAN type III in GRE (0x22EB).
    pub const ERSPAN_III: u32 = 1 << 2;
    /// VXLAN (RFC 7348, UDP 4789).
    pub const VXLAN: u32 = 1 << 3;
    /// Geneve (RFC 8926, UDP 6081).
    pub const GENEVE: u32 = 1 << 4;
    /// MPLS label stack (RFC 3032), on Ethernet or in a tunnel.
    pub const MPLS: u32 = 1 << 5;
    /// IPv4 or IPv6 directly in IPv4 or IPv6 (RFC 2003, 2473, 4213).
    pub const IP_IN_IP: u32 = 1 << 6;
    /// GTP-U (3GPP TS 29.281, UDP 2152).
    pub const GTP_U: u32 = 1 << 7;

    /// Every bit with its name, as reports show them.
    pub const ALL: &[(u32, &str)] = &[
        (GRE, "GRE"),
        (ERSPAN_I_II, "ERSPAN type I/II"),
        (ERSPAN_III, "ERSPAN type III"),
        (VXLAN, "VXLAN"),
        (GENEVE, "Geneve"),
        (MPLS, "MPLS"),
        (IP_IN_IP, "IP in IP"),
        (GTP_U, "GTP-U"),
    ];

    /// The names of the bits set (unknown bits as `0x…`).
    pub fn names(bits: u32) -> Vec<String> {
        let mut out: Vec<String> = ALL
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| n.to_string())
            .collect();
        let known: u32 = ALL.iter().map(|(b, _)| b).fold(0, |x, b| x | b);
        if bits & !known != 0 {
            out.push(format!("0x{:08X}", bits & !known));
        }
        out
    }
}

/// What a point's record says besides its capture file: filled in by the
/// indexer ([`crate::IndexBuilder::set_point_details`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointDetails {
    /// Packets not captured here although they passed: seen at a point
    /// before it and at one after it.
    pub capture_drops: u32,
    /// The time stamps' resolution, ns (0: unknown).
    pub clock_resolution_ns: u32,
    /// [`encap`] bits.
    pub encapsulations: u32,
    /// The position among the inputs as given (0xFFFF: unknown).
    pub given_position: u16,
}

impl Default for PointDetails {
    fn default() -> PointDetails {
        PointDetails {
            capture_drops: 0,
            clock_resolution_ns: 0,
            encapsulations: 0,
            given_position: u16::MAX,
        }
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

    /// Packets this capture did not record although they passed the point
    /// (seen at a point before it and at one after it).
    pub fn capture_drops(&self) -> u32 {
        le32(self.rec, field::record::CAPTURE_DROPS.start)
    }

    /// The resolution its time stamps show, ns (0: unknown).
    pub fn clock_resolution_ns(&self) -> u32 {
        le32(self.rec, field::record::CLOCK_RESOLUTION_NS.start)
    }

    /// The tunnels its packets arrived in ([`encap`] bits).
    pub fn encapsulations(&self) -> u32 {
        le32(self.rec, field::record::ENCAPSULATIONS.start)
    }

    /// Where its capture was given among the inputs (from 0), if known.
    pub fn given_position(&self) -> Option<u16> {
        let p = le16(self.rec, field::record::GIVEN_POSITION.start);
        (p != u16::MAX).then_some(p)
    }

    /// Everything the indexer said of the point besides its file.
    pub fn details(&self) -> PointDetails {
        PointDetails {
            capture_drops: self.capture_drops(),
            clock_resolution_ns: self.clock_resolution_ns(),
            encapsulations: self.encapsulations(),
            given_position: self.given_position().unwrap_or(u16::MAX),
        }
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

/// One record's values (string references already in the blob).
pub(crate) struct Record {
    pub label: (u32, u32),
    pub path: (u32, u32),
    pub file_size: u64,
    pub packets: u32,
    pub first_ts: i64,
    pub last_ts: i64,
    pub fingerprint: u64,
    pub details: PointDetails,
}

/// Writes one record.
pub(crate) fn write_record(out: &mut Vec<u8>, r: &Record) {
    let Record {
        label,
        path,
        file_size,
        packets,
        first_ts,
        last_ts,
        fingerprint,
        details: d,
    } = *r;
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
    out.extend_from_slice(&d.capture_drops.to_le_bytes());
    out.extend_from_slice(&d.clock_resolution_ns.to_le_bytes());
    out.extend_from_slice(&d.encapsulations.to_le_bytes());
    out.extend_from_slice(&d.given_position.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
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
            write_record(
                &mut v,
                &Record {
                    label: l,
                    path: p,
                    file_size: 1000 + i as u64,
                    packets: 7,
                    first_ts: -5,
                    last_ts: 9,
                    fingerprint: 0xABCD,
                    details: PointDetails {
                        capture_drops: 3 + i as u32,
                        clock_resolution_ns: 1_000_000,
                        encapsulations: encap::ERSPAN_III | encap::MPLS,
                        given_position: 2 - i as u16,
                    },
                },
            );
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
        assert_eq!(p.capture_drops(), 4);
        assert_eq!(p.clock_resolution_ns(), 1_000_000);
        assert_eq!(
            encap::names(p.encapsulations()),
            ["ERSPAN type III", "MPLS"]
        );
        assert_eq!(p.given_position(), Some(1));
        assert_eq!(v.len(), 8 + 2 * field::record::LEN);
        assert_eq!(encap::names(1 << 31), ["0x80000000"]);
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
