//! LOST (optional): per point, frames seen there but not at another point
//! where they should have been (a later point for packets going away from
//! this one, an earlier one for packets coming towards it), and why — the
//! [`LossKind`]: lost on the network, not captured there (a capture drop:
//! seen before and after that point), that capture not running, or a
//! packet that may legitimately not pass there.
//!
//! ```text
//! section:  0  4  POINT_COUNT    equal to the POINTS count
//!           4  4  reserved       0
//!           8  POINT_COUNT u32:  number of entries of each point
//!           then zero padding to a multiple of 8 (from the section start)
//!           align8(8 + 4 × POINT_COUNT): the entries, point 0's first, 8 bytes each
//! entry:    0  4  FRAME          frame of this point (1 ..= PACKETS)
//!           4  2  POINT          where it was not seen (≠ this point)
//!           6  1  KIND           0 network loss, 1 capture drop, 2 outside capture,
//!                                3 uncertain; others: read as "not seen" (a newer kind)
//!           7  1  reserved       0
//! ```
//! Each point's entries are sorted by (FRAME, POINT), each at most once:
//! binary-searchable by frame.  (Format 1.x had FLAGS in byte 6 —
//! OUTSIDE_CAPTURE, UNCERTAIN — and called every other absence lost.)

use crate::{align8, le16, le32, Error, Result, Sec};

/// Byte ranges of the LOST section.
pub mod field {
    use core::ops::Range;
    pub const POINT_COUNT: Range<usize> = 0..4;
    pub const RESERVED: Range<usize> = 4..8;
    /// Start of the per-point counts.
    pub const COUNTS: usize = 8;

    /// Fields of one entry.
    pub mod entry {
        use core::ops::Range;
        pub const FRAME: Range<usize> = 0..4;
        pub const POINT: Range<usize> = 4..6;
        pub const KIND: usize = 6;
        pub const RESERVED: usize = 7;
        pub const LEN: usize = 8;
    }
}

/// Why a packet seen at one point was not seen at another where it should
/// have been.  Each has its own post-dissector field and expert info, its
/// own counts in `pktmatch info` and its own report column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LossKind {
    /// Lost on the network between the two points: seen on the way to the
    /// point and neither there nor anywhere after it.
    NetworkLoss,
    /// Not captured at that point although it passed there: seen at a point
    /// before it and at one after it on its way (the capture dropped it, as
    /// busy SPAN ports and TAP collectors do).  dShark (NSDI 2019) draws the
    /// same line.
    CaptureDrop,
    /// That point's capture was not running then (before its first or after
    /// its last frame).
    OutsideCapture,
    /// It may legitimately not pass there: made or answered by a middlebox
    /// between the points (SYNPROXY's handshake), filtered.  A guess.
    Uncertain,
    /// A kind this reader does not know (a newer minor version): shown as
    /// "not seen".
    Other(u8),
}

impl LossKind {
    /// Every kind this version writes, in code order.
    pub const ALL: [LossKind; 4] = [
        LossKind::NetworkLoss,
        LossKind::CaptureDrop,
        LossKind::OutsideCapture,
        LossKind::Uncertain,
    ];

    /// The KIND byte.
    pub fn code(self) -> u8 {
        match self {
            LossKind::NetworkLoss => 0,
            LossKind::CaptureDrop => 1,
            LossKind::OutsideCapture => 2,
            LossKind::Uncertain => 3,
            LossKind::Other(k) => k,
        }
    }

    /// From the KIND byte.
    pub fn from_code(k: u8) -> LossKind {
        match k {
            0 => LossKind::NetworkLoss,
            1 => LossKind::CaptureDrop,
            2 => LossKind::OutsideCapture,
            3 => LossKind::Uncertain,
            k => LossKind::Other(k),
        }
    }

    /// The name scripts see (`pktmatch export --lost-csv`, `info --json`).
    pub fn name(self) -> &'static str {
        match self {
            LossKind::NetworkLoss => "network-loss",
            LossKind::CaptureDrop => "capture-drop",
            LossKind::OutsideCapture => "outside-capture",
            LossKind::Uncertain => "uncertain",
            LossKind::Other(_) => "not-seen",
        }
    }
}

/// A frame missing at another point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lost {
    /// Frame of this point.
    pub frame: u32,
    /// The point where it was not seen.
    pub point: u16,
    /// Why.
    pub kind: LossKind,
}

impl Lost {
    fn decode(e: &[u8]) -> Lost {
        Lost {
            frame: le32(e, field::entry::FRAME.start),
            point: le16(e, field::entry::POINT.start),
            kind: LossKind::from_code(e[field::entry::KIND]),
        }
    }
}

/// Entries of one point (or of one frame).
#[derive(Clone, Debug)]
pub struct LostIter<'a> {
    entries: core::slice::ChunksExact<'a, u8>,
}

impl<'a> LostIter<'a> {
    pub(crate) fn new(entries: &'a [u8]) -> LostIter<'a> {
        LostIter {
            entries: entries.chunks_exact(field::entry::LEN),
        }
    }
}

impl Iterator for LostIter<'_> {
    type Item = Lost;

    fn next(&mut self) -> Option<Lost> {
        self.entries.next().map(Lost::decode)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for LostIter<'_> {}

/// The entries of `frame` within one point's sorted entries.
pub(crate) fn of_frame(entries: &[u8], frame: u32) -> &[u8] {
    let n = entries.len() / field::entry::LEN;
    let frame_at = |i: usize| le32(entries, i * field::entry::LEN);
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if frame_at(mid) < frame {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut end = lo;
    while end < n && frame_at(end) == frame {
        end += 1;
    }
    &entries[lo * field::entry::LEN..end * field::entry::LEN]
}

/// Each point's (first entry, entry count), and all entries.
pub(crate) type Checked<'a> = (Vec<(usize, usize)>, &'a [u8]);

/// Checks LOST against the points' packet counts: lengths, frames, points,
/// order.
pub(crate) fn check<'a>(sec: Sec<'a>, packets: &[u32]) -> Result<Checked<'a>> {
    sec.at_least(field::COUNTS)?;
    let n = le32(sec.bytes, field::POINT_COUNT.start) as usize;
    if n != packets.len() {
        return Err(sec.invalid(
            field::POINT_COUNT.start,
            format!("point count {n}, POINTS has {}", packets.len()),
        ));
    }
    sec.at_least(field::COUNTS + 4 * n)?;
    let entries_at = align8((field::COUNTS + 4 * n) as u64);
    let total: u64 = (0..n)
        .map(|i| le32(sec.bytes, field::COUNTS + 4 * i) as u64)
        .sum();
    sec.exact_len(
        entries_at + total * field::entry::LEN as u64,
        "the lost entries",
    )?;
    let entries = &sec.bytes[entries_at as usize..];
    let mut out = Vec::with_capacity(n);
    let mut start = 0usize;
    for (p, &pk) in packets.iter().enumerate() {
        let count = le32(sec.bytes, field::COUNTS + 4 * p) as usize;
        let mut prev: Option<(u32, u16)> = None;
        for k in start..start + count {
            let l = Lost::decode(&entries[k * 8..k * 8 + 8]);
            let fail = |detail: String| -> Error {
                sec.invalid(
                    entries_at as usize + k * 8,
                    format!("point {p} lost entry {}: {detail}", k - start),
                )
            };
            if l.frame == 0 || l.frame > pk {
                return Err(fail(format!("frame {} is outside 1..={pk}", l.frame)));
            }
            if l.point as usize >= packets.len() || l.point as usize == p {
                return Err(fail(format!(
                    "point {} is not another point of the {}",
                    l.point,
                    packets.len()
                )));
            }
            if prev.is_some_and(|q| q >= (l.frame, l.point)) {
                return Err(fail(format!(
                    "({}, {}) is out of order or repeated",
                    l.frame, l.point
                )));
            }
            prev = Some((l.frame, l.point));
        }
        out.push((start, count));
        start += count;
    }
    Ok((out, entries))
}

/// Writes one entry.
pub(crate) fn write_entry(out: &mut Vec<u8>, l: &Lost) {
    out.extend_from_slice(&l.frame.to_le_bytes());
    out.extend_from_slice(&l.point.to_le_bytes());
    out.push(l.kind.code());
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(points: &[Vec<Lost>]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(points.len() as u32).to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        for p in points {
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
        }
        v.resize(align8(v.len() as u64) as usize, 0);
        for l in points.iter().flatten() {
            write_entry(&mut v, l);
        }
        v
    }

    fn lost(frame: u32, point: u16) -> Lost {
        Lost {
            frame,
            point,
            kind: LossKind::Uncertain,
        }
    }

    #[test]
    fn kinds() {
        for k in LossKind::ALL {
            assert_eq!(LossKind::from_code(k.code()), k);
        }
        assert_eq!(LossKind::from_code(9), LossKind::Other(9));
        assert_eq!(LossKind::Other(9).code(), 9);
        let names: Vec<&str> = LossKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "network-loss",
                "capture-drop",
                "outside-capture",
                "uncertain"
            ]
        );
        // Byte 6 of an entry is the kind.
        let mut v = Vec::new();
        write_entry(
            &mut v,
            &Lost {
                frame: 7,
                point: 2,
                kind: LossKind::CaptureDrop,
            },
        );
        assert_eq!(v, [7, 0, 0, 0, 2, 0, 1, 0]);
        assert_eq!(Lost::decode(&v).kind, LossKind::CaptureDrop);
    }

    #[test]
    fn search() {
        let v = section(&[
            vec![lost(2, 1), lost(2, 2), lost(5, 2)],
            vec![],
            vec![lost(1, 0)],
        ]);
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "LOST section",
        };
        let (pts, entries) = check(sec, &[9, 3, 1]).unwrap();
        assert_eq!(pts, vec![(0, 3), (3, 0), (3, 1)]);
        let e0 = &entries[..24];
        assert_eq!(
            LostIter::new(of_frame(e0, 2)).collect::<Vec<_>>(),
            vec![lost(2, 1), lost(2, 2)]
        );
        assert_eq!(LostIter::new(of_frame(e0, 5)).len(), 1);
        for f in [0, 1, 3, 4, 6, u32::MAX] {
            assert_eq!(of_frame(e0, f).len(), 0);
        }
        assert_eq!(of_frame(&[], 1).len(), 0);
    }

    #[test]
    fn rules() {
        let check_err = |points: &[Vec<Lost>], packets: &[u32]| -> String {
            let v = section(points);
            check(
                Sec {
                    bytes: &v,
                    base: 0,
                    what: "LOST section",
                },
                packets,
            )
            .unwrap_err()
            .to_string()
        };
        assert!(check_err(&[vec![lost(0, 1)], vec![]], &[3, 3]).contains("frame 0 is outside"));
        assert!(check_err(&[vec![lost(4, 1)], vec![]], &[3, 3]).contains("frame 4 is outside"));
        assert!(check_err(&[vec![lost(1, 0)], vec![]], &[3, 3]).contains("not another point"));
        assert!(check_err(&[vec![lost(1, 2)], vec![]], &[3, 3]).contains("not another point"));
        assert!(
            check_err(&[vec![lost(2, 1), lost(1, 1)], vec![]], &[3, 3]).contains("out of order")
        );
        assert!(check_err(&[vec![], vec![]], &[3]).contains("point count 2, POINTS has 1"));
        let v = section(&[vec![lost(1, 1)], vec![]]);
        assert!(matches!(
            check(
                Sec {
                    bytes: &v[..v.len() - 1],
                    base: 0,
                    what: "LOST section",
                },
                &[3, 3]
            ),
            Err(Error::Truncated { .. })
        ));
    }
}
