//! PAIRS (optional): per point pair a < b, the clock model and the counts.
//!
//! ```text
//! section:  0  4  COUNT          number of pairs
//!           4  4  RECORD_LEN     80 in 2.0
//!           8  ..  records, sorted by (A, B), each pair at most once
//! record:   0  2  A              point a
//!           2  2  B              point b (a < b < point count)
//!           4  4  FLAGS          bit 0 HAS_CLOCK: the next three fields hold a model;
//!                                bit 1 NEIGHBOURS: a and b are next to each other on the path
//!           8  8  OFFSET_NS      t_b - t_a at REFERENCE_NS (i64)
//!          16  8  DRIFT_PPB      drift of b against a, parts per billion (i64, |·| ≤ 1e8)
//!          24  8  REFERENCE_NS   on a's clock, ns since the epoch (i64)
//!          32  8  OFFSET_ERROR_NS  bound on the model's error over the captures (u64)
//!          40  4  MATCHED        packets matched between a and b
//!          44  4  LOST_A_TO_B    network loss: seen at a on the way to b, not seen at b
//!                                nor anywhere after it
//!          48  4  LOST_B_TO_A    the same from b towards a
//!          52  4  reserved       0
//!          56  4  DROPPED_A_TO_B seen at a on the way to b, not captured at b but seen
//!                                after it: a capture drop at b (2.0)
//!          60  4  DROPPED_B_TO_A the same from b: a capture drop at a
//!          64  4  OUTSIDE_A_TO_B seen at a when b's capture was not running
//!          68  4  OUTSIDE_B_TO_A
//!          72  4  UNCERTAIN_A_TO_B  seen at a, not at b, which it may legitimately not pass
//!          76  4  UNCERTAIN_B_TO_A
//! ```
//! The counts are those of the LOST entries of the pair's frames, by kind.

use crate::clock::{ClockModel, DRIFT_LIMIT_PPB};
use crate::{le16, le32, le64, lei64, Result, Sec, Table};

/// Byte ranges of a PAIRS record (the section is a table, see
/// [`crate::table_field`]).
pub mod field {
    use core::ops::Range;
    pub const A: Range<usize> = 0..2;
    pub const B: Range<usize> = 2..4;
    pub const FLAGS: Range<usize> = 4..8;
    pub const OFFSET_NS: Range<usize> = 8..16;
    pub const DRIFT_PPB: Range<usize> = 16..24;
    pub const REFERENCE_NS: Range<usize> = 24..32;
    pub const OFFSET_ERROR_NS: Range<usize> = 32..40;
    pub const MATCHED: Range<usize> = 40..44;
    pub const LOST_A_TO_B: Range<usize> = 44..48;
    pub const LOST_B_TO_A: Range<usize> = 48..52;
    pub const RESERVED: Range<usize> = 52..56;
    pub const DROPPED_A_TO_B: Range<usize> = 56..60;
    pub const DROPPED_B_TO_A: Range<usize> = 60..64;
    pub const OUTSIDE_A_TO_B: Range<usize> = 64..68;
    pub const OUTSIDE_B_TO_A: Range<usize> = 68..72;
    pub const UNCERTAIN_A_TO_B: Range<usize> = 72..76;
    pub const UNCERTAIN_B_TO_A: Range<usize> = 76..80;
    /// Record length in format 2.0.
    pub const LEN: usize = 80;
}

/// PAIRS record flags.
pub mod flags {
    /// OFFSET_NS, DRIFT_PPB and REFERENCE_NS hold a clock model.
    pub const HAS_CLOCK: u32 = 0x0000_0001;
    /// a and b are neighbours on the path (no capture point between them).
    pub const NEIGHBOURS: u32 = 0x0000_0002;
}

/// Packets seen at one point of a pair and not at the other, by why, each
/// way ([0]: seen at a, not at b; [1]: seen at b, not at a).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Network loss.
    pub lost: [u32; 2],
    /// A capture drop at the other point.
    pub dropped: [u32; 2],
    /// The other capture was not running.
    pub outside: [u32; 2],
    /// It may legitimately not pass the other point.
    pub uncertain: [u32; 2],
}

impl Missing {
    /// The counts of `kind` (an unknown kind counts nowhere).
    pub fn of(&self, kind: crate::lost::LossKind) -> [u32; 2] {
        use crate::lost::LossKind::*;
        match kind {
            NetworkLoss => self.lost,
            CaptureDrop => self.dropped,
            OutsideCapture => self.outside,
            Uncertain => self.uncertain,
            Other(_) => [0, 0],
        }
    }

    /// Counts one entry of `kind` in direction `dir` (0: a → b).
    pub fn count(&mut self, kind: crate::lost::LossKind, dir: usize) {
        use crate::lost::LossKind::*;
        let slot = match kind {
            NetworkLoss => &mut self.lost,
            CaptureDrop => &mut self.dropped,
            OutsideCapture => &mut self.outside,
            Uncertain => &mut self.uncertain,
            Other(_) => return,
        };
        slot[dir & 1] = slot[dir & 1].saturating_add(1);
    }
}

/// One point pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair<'a> {
    rec: &'a [u8],
}

impl<'a> Pair<'a> {
    pub(crate) fn new(rec: &'a [u8]) -> Pair<'a> {
        Pair { rec }
    }

    /// Point a (the one nearer the client).
    pub fn a(&self) -> u16 {
        le16(self.rec, field::A.start)
    }

    /// Point b (a < b).
    pub fn b(&self) -> u16 {
        le16(self.rec, field::B.start)
    }

    /// Record flags.
    pub fn flags(&self) -> u32 {
        le32(self.rec, field::FLAGS.start)
    }

    /// The clock model from a to b, if one was fitted.
    pub fn clock(&self) -> Option<ClockModel> {
        if self.flags() & flags::HAS_CLOCK == 0 {
            return None;
        }
        Some(ClockModel::new(
            lei64(self.rec, field::OFFSET_NS.start),
            lei64(self.rec, field::DRIFT_PPB.start),
            lei64(self.rec, field::REFERENCE_NS.start),
        ))
    }

    /// Bound on the model's error over the captures, ns.
    pub fn offset_error_ns(&self) -> u64 {
        le64(self.rec, field::OFFSET_ERROR_NS.start)
    }

    /// Packets matched between a and b.
    pub fn matched(&self) -> u32 {
        le32(self.rec, field::MATCHED.start)
    }

    /// a and b are neighbours on the path.
    pub fn neighbours(&self) -> bool {
        self.flags() & flags::NEIGHBOURS != 0
    }

    /// Network loss: packets seen at a on their way to b, seen neither at b
    /// nor after it.
    pub fn lost_a_to_b(&self) -> u32 {
        le32(self.rec, field::LOST_A_TO_B.start)
    }

    /// Network loss from b towards a.
    pub fn lost_b_to_a(&self) -> u32 {
        le32(self.rec, field::LOST_B_TO_A.start)
    }

    /// Every count of packets seen at one point and not at the other.
    pub fn missing(&self) -> Missing {
        let r = |f: core::ops::Range<usize>| le32(self.rec, f.start);
        Missing {
            lost: [r(field::LOST_A_TO_B), r(field::LOST_B_TO_A)],
            dropped: [r(field::DROPPED_A_TO_B), r(field::DROPPED_B_TO_A)],
            outside: [r(field::OUTSIDE_A_TO_B), r(field::OUTSIDE_B_TO_A)],
            uncertain: [r(field::UNCERTAIN_A_TO_B), r(field::UNCERTAIN_B_TO_A)],
        }
    }
}

/// Checks PAIRS: a < b < points, strictly increasing (a, b), drift within
/// the limit.
pub(crate) fn check(sec: Sec<'_>, points: usize) -> Result<Table<'_>> {
    let t = Table::check(sec, field::LEN)?;
    let mut prev: Option<(u16, u16)> = None;
    for i in 0..t.count {
        let p = Pair::new(t.record(i));
        let at = crate::table_field::LEN + i * t.stride;
        let (a, b) = (p.a(), p.b());
        if a >= b || b as usize >= points {
            return Err(sec.invalid(
                at,
                format!("pair {i} ({a}, {b}): needs a < b < {points} (the point count)"),
            ));
        }
        if prev.is_some_and(|q| q >= (a, b)) {
            return Err(sec.invalid(
                at,
                format!("pair {i} ({a}, {b}) is out of order or repeated"),
            ));
        }
        prev = Some((a, b));
        if p.flags() & flags::HAS_CLOCK != 0 {
            let d = lei64(p.rec, field::DRIFT_PPB.start);
            if !(-DRIFT_LIMIT_PPB..=DRIFT_LIMIT_PPB).contains(&d) {
                return Err(sec.invalid(
                    at + field::DRIFT_PPB.start,
                    format!("pair {i} ({a}, {b}): drift {d} ppb is beyond ±{DRIFT_LIMIT_PPB}"),
                ));
            }
        }
    }
    Ok(t)
}

/// Binary search for (a, b) in a checked table.
pub(crate) fn find<'a>(t: &Table<'a>, a: u16, b: u16) -> Option<Pair<'a>> {
    let (mut lo, mut hi) = (0usize, t.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let p = Pair::new(t.record(mid));
        match (p.a(), p.b()).cmp(&(a, b)) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return Some(p),
        }
    }
    None
}

/// Writes one record.
pub(crate) fn write_record(out: &mut Vec<u8>, a: u16, b: u16, spec: &crate::PairSpec) {
    out.extend_from_slice(&a.to_le_bytes());
    out.extend_from_slice(&b.to_le_bytes());
    let (mut f, o, d, r) = match spec.clock {
        Some(m) => (
            flags::HAS_CLOCK,
            m.offset_ns(),
            m.drift_ppb(),
            m.reference_ns(),
        ),
        None => (0, 0, 0, 0),
    };
    if spec.neighbours {
        f |= flags::NEIGHBOURS;
    }
    out.extend_from_slice(&f.to_le_bytes());
    out.extend_from_slice(&o.to_le_bytes());
    out.extend_from_slice(&d.to_le_bytes());
    out.extend_from_slice(&r.to_le_bytes());
    out.extend_from_slice(&spec.offset_error_ns.to_le_bytes());
    let m = &spec.missing;
    out.extend_from_slice(&spec.matched.to_le_bytes());
    out.extend_from_slice(&m.lost[0].to_le_bytes());
    out.extend_from_slice(&m.lost[1].to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for c in [m.dropped, m.outside, m.uncertain] {
        out.extend_from_slice(&c[0].to_le_bytes());
        out.extend_from_slice(&c[1].to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PairSpec;

    fn section(pairs: &[(u16, u16, Option<ClockModel>)]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
        v.extend_from_slice(&(field::LEN as u32).to_le_bytes());
        for &(a, b, clock) in pairs {
            let spec = PairSpec {
                clock,
                offset_error_ns: 1500,
                matched: 10,
                neighbours: b == a + 1,
                missing: Missing {
                    lost: [2, 3],
                    dropped: [4, 5],
                    outside: [6, 7],
                    uncertain: [8, 9],
                },
            };
            write_record(&mut v, a, b, &spec);
        }
        v
    }

    #[test]
    fn fields_and_search() {
        let m = ClockModel::new(5, -7, 11);
        let v = section(&[(0, 1, Some(m)), (0, 2, None), (1, 2, Some(m))]);
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "PAIRS section",
        };
        let t = check(sec, 3).unwrap();
        let p = find(&t, 0, 1).unwrap();
        assert_eq!((p.a(), p.b(), p.flags()), (0, 1, 3));
        assert!(p.neighbours());
        assert_eq!(p.clock(), Some(m));
        assert_eq!(p.offset_error_ns(), 1500);
        assert_eq!((p.matched(), p.lost_a_to_b(), p.lost_b_to_a()), (10, 2, 3));
        let missing = p.missing();
        assert_eq!(missing.dropped, [4, 5]);
        assert_eq!(missing.of(crate::lost::LossKind::OutsideCapture), [6, 7]);
        assert_eq!(missing.uncertain, [8, 9]);
        assert_eq!(v.len(), 8 + 3 * field::LEN);
        assert_eq!(find(&t, 0, 2).unwrap().clock(), None);
        assert!(!find(&t, 0, 2).unwrap().neighbours());
        assert!(find(&t, 1, 2).is_some());
        assert!(find(&t, 1, 0).is_none());
        assert!(find(&t, 2, 3).is_none());
        assert!(check(sec, 2).is_err());
    }

    #[test]
    fn rules() {
        for (pairs, word) in [
            (vec![(1u16, 1u16, None)], "needs a < b"),
            (vec![(1, 0, None)], "needs a < b"),
            (vec![(0, 2, None), (0, 1, None)], "out of order"),
            (vec![(0, 1, None), (0, 1, None)], "out of order"),
        ] {
            let v = section(&pairs);
            let e = check(
                Sec {
                    bytes: &v,
                    base: 0,
                    what: "PAIRS section",
                },
                3,
            )
            .unwrap_err();
            assert!(e.to_string().contains(word), "{e}");
        }
        let mut v = section(&[(0, 1, Some(ClockModel::new(0, 0, 0)))]);
        v[8 + 16..8 + 24].copy_from_slice(&(DRIFT_LIMIT_PPB + 1).to_le_bytes());
        let e = check(
            Sec {
                bytes: &v,
                base: 0,
                what: "PAIRS section",
            },
            3,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "PAIRS section at byte 24: pair 0 (0, 1): drift 100000001 ppb is beyond ±100000000"
        );
    }
}
