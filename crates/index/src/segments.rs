//! CLOCK_SEGMENTS (optional, format 1.1): the clock model of a point pair
//! whose clocks stepped inside the captures, one record per segment (the
//! stretch between two steps).  Pairs without a step have no records: their
//! PAIRS record is the whole model.
//!
//! ```text
//! section:  0  4  COUNT          number of records
//!           4  4  RECORD_LEN     64 in 1.1
//!           8  ..  records, sorted by (A, B), a pair's segments in order
//! record:   0  2  A              point a (the pair's PAIRS record has a clock)
//!           2  2  B              point b (a < b < point count)
//!           4  4  FLAGS          none defined (0)
//!           8  4  A_FROM_FRAME   first frame of a in the segment (1 in the first)
//!          12  4  B_FROM_FRAME   first frame of b in the segment (1 in the first)
//!          16  8  FROM_NS        a's clock reading where the segment starts (i64)
//!          24  8  OFFSET_NS      t_b - t_a at REFERENCE_NS (i64)
//!          32  8  DRIFT_PPB      drift of b against a (i64, |·| ≤ 1e8)
//!          40  8  REFERENCE_NS   on a's clock (i64)
//!          48  8  OFFSET_ERROR_NS  bound on the model's error within the segment (u64)
//!          56  8  BEFORE_NS      a's clock reading at the last frame of the segment
//!                                before that the step was seen after (0 in the first)
//! ```
//!
//! The step itself lies between BEFORE_NS and FROM_NS of a's readings (the
//! last matched frame before it and the first after); its size is the
//! segment's model at FROM_NS less the previous one's at BEFORE_NS.
//!
//! A pair's records: at least two; A_FROM_FRAME and B_FROM_FRAME strictly
//! increasing and within the points' frames; the first repeats the PAIRS
//! record (frames 1, same model and bound).  A frame belongs to the last
//! segment whose *_FROM_FRAME is at most its number: frames, not time
//! stamps, decide, because after a step backwards a clock shows some
//! readings twice.

use crate::clock::{ClockModel, DRIFT_LIMIT_PPB};
use crate::pairs::Pair;
use crate::{le16, le32, le64, lei64, Result, Sec, Table};

/// Byte ranges of a CLOCK_SEGMENTS record (the section is a table, see
/// [`crate::table_field`]).
pub mod field {
    use core::ops::Range;
    pub const A: Range<usize> = 0..2;
    pub const B: Range<usize> = 2..4;
    pub const FLAGS: Range<usize> = 4..8;
    pub const A_FROM_FRAME: Range<usize> = 8..12;
    pub const B_FROM_FRAME: Range<usize> = 12..16;
    pub const FROM_NS: Range<usize> = 16..24;
    pub const OFFSET_NS: Range<usize> = 24..32;
    pub const DRIFT_PPB: Range<usize> = 32..40;
    pub const REFERENCE_NS: Range<usize> = 40..48;
    pub const OFFSET_ERROR_NS: Range<usize> = 48..56;
    pub const BEFORE_NS: Range<usize> = 56..64;
    /// Record length in format 1.1.
    pub const LEN: usize = 64;
}

/// One segment of a pair's clock: from frame `a_from_frame` of a and
/// `b_from_frame` of b on, `t_b = model.peer_time(t_a)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSegment {
    /// First frame of a in this segment (1 in the first segment).
    pub a_from_frame: u32,
    /// First frame of b in this segment (1 in the first segment).
    pub b_from_frame: u32,
    /// a's clock reading where the segment starts (after a step of a's own
    /// clock, the reading after the step).
    pub from_ns: i64,
    /// The model from a to b within the segment.
    pub model: ClockModel,
    /// Bound on the model's error within the segment, ns.
    pub offset_error_ns: u64,
    /// a's clock reading at the last frame before the step that starts this
    /// segment (the previous segment's last matched frame); 0 when not
    /// known and in the first segment.
    pub before_ns: i64,
}

impl ClockSegment {
    pub(crate) fn read(rec: &[u8]) -> ClockSegment {
        ClockSegment {
            a_from_frame: le32(rec, field::A_FROM_FRAME.start),
            b_from_frame: le32(rec, field::B_FROM_FRAME.start),
            from_ns: lei64(rec, field::FROM_NS.start),
            model: ClockModel::new(
                lei64(rec, field::OFFSET_NS.start),
                lei64(rec, field::DRIFT_PPB.start),
                lei64(rec, field::REFERENCE_NS.start),
            ),
            offset_error_ns: le64(rec, field::OFFSET_ERROR_NS.start),
            before_ns: lei64(rec, field::BEFORE_NS.start),
        }
    }

    /// The change of the clock difference (b − a) across the step that
    /// starts this segment: this model at `from_ns` less the previous
    /// segment's at `before_ns` (at `from_ns` when that is not known).
    /// Each model is taken at a reading of its own: a's own clock may be
    /// the one that stepped.
    pub fn step_from(&self, before: &ClockSegment) -> i64 {
        let at = if self.before_ns != 0 {
            self.before_ns
        } else {
            self.from_ns
        };
        self.model
            .difference_at(self.from_ns)
            .saturating_sub(before.model.difference_at(at))
    }
}

fn pair_key(rec: &[u8]) -> (u16, u16) {
    (le16(rec, field::A.start), le16(rec, field::B.start))
}

/// Checks CLOCK_SEGMENTS against PAIRS and the points' frame counts.
pub(crate) fn check<'a>(sec: Sec<'a>, pairs: &Table<'_>, packets: &[u32]) -> Result<Table<'a>> {
    let t = Table::check(sec, field::LEN)?;
    let mut i = 0;
    while i < t.count {
        let (a, b) = pair_key(t.record(i));
        let at =
            |k: usize, f: core::ops::Range<usize>| crate::table_field::LEN + k * t.stride + f.start;
        let bad = |k: usize, f: core::ops::Range<usize>, why: String| {
            sec.invalid(at(k, f), format!("record {k} (pair ({a}, {b})): {why}"))
        };
        if a >= b || b as usize >= packets.len() {
            return Err(bad(
                i,
                field::A,
                format!("needs a < b < {} (the point count)", packets.len()),
            ));
        }
        let j = (i..t.count)
            .find(|&k| pair_key(t.record(k)) != (a, b))
            .unwrap_or(t.count);
        if let Some(next) = (j < t.count).then(|| pair_key(t.record(j))) {
            if next < (a, b) {
                return Err(sec.invalid(
                    at(j, field::A),
                    format!(
                        "record {j} (pair ({}, {})) is out of order (after pair ({a}, {b}))",
                        next.0, next.1
                    ),
                ));
            }
        }
        let Some(pair) = crate::pairs::find(pairs, a, b).filter(|p| p.clock().is_some()) else {
            return Err(bad(
                i,
                field::A,
                "the pair has no clock model in PAIRS".into(),
            ));
        };
        if j - i < 2 {
            return Err(bad(
                i,
                field::A,
                "a pair's segments are at least two (one segment is its PAIRS record)".into(),
            ));
        }
        let limit = |p: u16| packets[p as usize].max(1);
        for k in i..j {
            let rec = t.record(k);
            let s = ClockSegment::read(rec);
            let d = lei64(rec, field::DRIFT_PPB.start);
            if !(-DRIFT_LIMIT_PPB..=DRIFT_LIMIT_PPB).contains(&d) {
                return Err(bad(
                    k,
                    field::DRIFT_PPB,
                    format!("drift {d} ppb is beyond ±{DRIFT_LIMIT_PPB}"),
                ));
            }
            for (frame, p, f) in [
                (s.a_from_frame, a, field::A_FROM_FRAME),
                (s.b_from_frame, b, field::B_FROM_FRAME),
            ] {
                if frame == 0 || frame > limit(p) {
                    return Err(bad(
                        k,
                        f,
                        format!(
                            "first frame {frame} is not a frame of point {p} (1..={})",
                            limit(p)
                        ),
                    ));
                }
            }
            if k == i {
                if !first_matches(&s, &pair) {
                    return Err(bad(
                        k,
                        field::A_FROM_FRAME,
                        "the first segment must start at frames 1 and repeat the PAIRS \
                         record's model and bound"
                            .into(),
                    ));
                }
            } else {
                let prev = ClockSegment::read(t.record(k - 1));
                if s.a_from_frame <= prev.a_from_frame || s.b_from_frame <= prev.b_from_frame {
                    return Err(bad(
                        k,
                        field::A_FROM_FRAME,
                        format!(
                            "first frames ({}, {}) do not follow the previous segment's ({}, {})",
                            s.a_from_frame, s.b_from_frame, prev.a_from_frame, prev.b_from_frame
                        ),
                    ));
                }
            }
        }
        i = j;
    }
    Ok(t)
}

fn first_matches(s: &ClockSegment, pair: &Pair<'_>) -> bool {
    s.a_from_frame == 1
        && s.b_from_frame == 1
        && pair.clock() == Some(s.model)
        && pair.offset_error_ns() == s.offset_error_ns
}

/// The records of pair (a, b) in a checked table: their index range.
pub(crate) fn range(t: &Table<'_>, a: u16, b: u16) -> core::ops::Range<usize> {
    let bound = |strict: bool| {
        let (mut lo, mut hi) = (0usize, t.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = pair_key(t.record(mid));
            if k < (a, b) || (strict && k == (a, b)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    bound(false)..bound(true)
}

/// Writes one record.
pub(crate) fn write_record(out: &mut Vec<u8>, a: u16, b: u16, s: &ClockSegment) {
    out.extend_from_slice(&a.to_le_bytes());
    out.extend_from_slice(&b.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&s.a_from_frame.to_le_bytes());
    out.extend_from_slice(&s.b_from_frame.to_le_bytes());
    out.extend_from_slice(&s.from_ns.to_le_bytes());
    out.extend_from_slice(&s.model.offset_ns().to_le_bytes());
    out.extend_from_slice(&s.model.drift_ppb().to_le_bytes());
    out.extend_from_slice(&s.model.reference_ns().to_le_bytes());
    out.extend_from_slice(&s.offset_error_ns.to_le_bytes());
    out.extend_from_slice(&s.before_ns.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PairSpec;

    fn seg(fa: u32, fb: u32, off: i64) -> ClockSegment {
        ClockSegment {
            a_from_frame: fa,
            b_from_frame: fb,
            from_ns: 1000 * i64::from(fa),
            model: ClockModel::new(off, 20_000, 1000 * i64::from(fa)),
            offset_error_ns: 700,
            before_ns: 0,
        }
    }

    fn tables(segs: &[(u16, u16, ClockSegment)]) -> (Vec<u8>, Vec<u8>) {
        let mut p = Vec::new();
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&(crate::pairs::field::LEN as u32).to_le_bytes());
        let first = seg(1, 1, 5_000);
        let spec = PairSpec {
            clock: Some(first.model),
            offset_error_ns: first.offset_error_ns,
            ..PairSpec::default()
        };
        crate::pairs::write_record(&mut p, 0, 1, &spec);
        let mut s = Vec::new();
        s.extend_from_slice(&(segs.len() as u32).to_le_bytes());
        s.extend_from_slice(&(field::LEN as u32).to_le_bytes());
        for (a, b, x) in segs {
            write_record(&mut s, *a, *b, x);
        }
        (p, s)
    }

    fn run(segs: &[(u16, u16, ClockSegment)]) -> Result<usize> {
        let (p, s) = tables(segs);
        let psec = Sec {
            bytes: &p,
            base: 0,
            what: "PAIRS section",
        };
        let pt = crate::pairs::check(psec, 3)?;
        let sec = Sec {
            bytes: &s,
            base: 1000,
            what: "CLOCK_SEGMENTS section",
        };
        check(sec, &pt, &[100, 200, 50]).map(|t| t.count)
    }

    #[test]
    fn good_and_read_back() {
        let segs = [(0, 1, seg(1, 1, 5_000)), (0, 1, seg(40, 43, -1_495_000))];
        assert_eq!(run(&segs).unwrap(), 2);
        let (_, s) = tables(&segs);
        let back = ClockSegment::read(&s[8 + field::LEN..]);
        assert_eq!(back, segs[1].2);
        // The step at the second segment's start, on a's clock: the two
        // offsets differ by 1.5 ms, and the drift (20 ppm) ran for 39 µs
        // between the references: 0.78 ns, rounded.
        assert_eq!(back.step_from(&segs[0].2), -1_500_000 - 1);
        // With the reading before the step known: the first model there.
        let mut s1 = back;
        s1.before_ns = 1000;
        assert_eq!(s1.step_from(&segs[0].2), -1_500_000);
        // Extreme values saturate (a fuzz finding: the difference overflowed).
        let hi = ClockSegment {
            model: ClockModel::new(i64::MAX, 0, 0),
            ..s1
        };
        let lo = ClockSegment {
            model: ClockModel::new(i64::MIN, 0, 0),
            ..s1
        };
        assert_eq!(hi.step_from(&lo), i64::MAX);
        assert_eq!(lo.step_from(&hi), i64::MIN);
    }

    #[test]
    fn corrupt_records_are_refused() {
        let ok0 = (0u16, 1u16, seg(1, 1, 5_000));
        type Records = Vec<(u16, u16, ClockSegment)>;
        let cases: Vec<(Records, &str)> = vec![
            (vec![ok0], "at least two"),
            (vec![ok0, (0, 1, seg(1, 5, 0))], "do not follow"),
            (vec![ok0, (0, 1, seg(9, 1, 0))], "do not follow"),
            (vec![ok0, (0, 1, seg(101, 5, 0))], "not a frame of point 0"),
            (vec![ok0, (0, 1, seg(9, 201, 0))], "not a frame of point 1"),
            (vec![ok0, (0, 1, seg(0, 5, 0))], "not a frame of point 0"),
            (
                vec![(0, 1, seg(1, 1, 6_000)), (0, 1, seg(9, 5, 0))],
                "repeat the PAIRS",
            ),
            (
                vec![(0, 1, seg(2, 1, 5_000)), (0, 1, seg(9, 5, 0))],
                "repeat the PAIRS",
            ),
            (
                vec![(0, 2, seg(1, 1, 5_000)), (0, 2, seg(9, 5, 0))],
                "no clock model",
            ),
            (
                vec![(1, 1, seg(1, 1, 5_000)), (1, 1, seg(9, 5, 0))],
                "needs a < b",
            ),
            (
                vec![(1, 7, seg(1, 1, 5_000)), (1, 7, seg(9, 5, 0))],
                "needs a < b",
            ),
            (
                vec![ok0, (0, 1, seg(9, 5, 0)), (0, 0, seg(1, 1, 0))],
                "out of order",
            ),
        ];
        for (segs, word) in cases {
            let e = run(&segs).unwrap_err().to_string();
            assert!(e.contains(word), "{e} lacks {word}");
            assert!(e.starts_with("CLOCK_SEGMENTS section at byte "), "{e}");
        }
        // Drift beyond the limit.
        let (p, mut s) = tables(&[ok0, (0, 1, seg(9, 5, 0))]);
        let at = 8 + field::LEN + field::DRIFT_PPB.start;
        s[at..at + 8].copy_from_slice(&(DRIFT_LIMIT_PPB + 1).to_le_bytes());
        let pt = crate::pairs::check(
            Sec {
                bytes: &p,
                base: 0,
                what: "PAIRS section",
            },
            3,
        )
        .unwrap();
        let e = check(
            Sec {
                bytes: &s,
                base: 0,
                what: "CLOCK_SEGMENTS section",
            },
            &pt,
            &[100, 200, 50],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "CLOCK_SEGMENTS section at byte {at}: record 1 (pair (0, 1)): drift 100000001 \
                 ppb is beyond ±100000000"
            )
        );
    }
}
