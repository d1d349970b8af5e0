//! FRAME_TIMES (optional): every frame's time stamp, coarse, for readers
//! without the capture (CSV export, reports) that need it for the drift part
//! of the clock correction.  The post-dissector has the exact time from
//! Wireshark and does not read this section.
//!
//! ```text
//! section:  0  4  POINT_COUNT   equal to the POINTS count
//!           4  4  reserved      0
//!           8  POINT_COUNT × 16:
//!                   0  8  BASE_NS   smallest time stamp of the point (i64)
//!                   8  1  SHIFT     unit of the values: 2^SHIFT ns (0-32)
//!                   9  7  reserved  0
//!           8 + 16 × POINT_COUNT: one u32 per frame, points in order as in
//!                   FRAME_CHECKS: round((ts - BASE_NS) / 2^SHIFT)
//! ```
//! A time is BASE_NS + value × 2^SHIFT, within 2^(SHIFT-1) ns of the true
//! one.  The writer takes the smallest SHIFT that fits the point's time span
//! in 32 bits: 0 up to 4.3 s, 10 (~1 µs) up to 73 min, 20 (~1 ms) up to 52 days.

use crate::{le32, lei64, Error, Result, Sec};

/// Byte ranges of the FRAME_TIMES section.
pub mod field {
    use core::ops::Range;
    pub const POINT_COUNT: Range<usize> = 0..4;
    pub const RESERVED: Range<usize> = 4..8;
    pub const HEADER_LEN: usize = 8;

    /// Fields of one per-point entry.
    pub mod point {
        use core::ops::Range;
        pub const BASE_NS: Range<usize> = 0..8;
        pub const SHIFT: usize = 8;
        pub const RESERVED: Range<usize> = 9..16;
        pub const LEN: usize = 16;
    }
}

/// Largest SHIFT (a u32 value times 2^32 spans every i64 difference).
pub const MAX_SHIFT: u8 = 32;

/// (base, shift) of each point, and the values (from `8 + 16 × points`).
pub(crate) type Checked<'a> = (Vec<(i64, u8)>, &'a [u8]);

/// Checks FRAME_TIMES against the points' packet counts.
pub(crate) fn check<'a>(sec: Sec<'a>, packets: &[u32]) -> Result<Checked<'a>> {
    sec.at_least(field::HEADER_LEN)?;
    let n = le32(sec.bytes, field::POINT_COUNT.start) as usize;
    if n != packets.len() {
        return Err(sec.invalid(
            field::POINT_COUNT.start,
            format!("point count {n}, POINTS has {}", packets.len()),
        ));
    }
    let values_at = field::HEADER_LEN + n * field::point::LEN;
    let total: u64 = packets.iter().map(|&p| p as u64).sum();
    sec.exact_len(values_at as u64 + 4 * total, "the frame times")?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = field::HEADER_LEN + i * field::point::LEN;
        let base = lei64(sec.bytes, at + field::point::BASE_NS.start);
        let shift = sec.bytes[at + field::point::SHIFT];
        if shift > MAX_SHIFT {
            return Err(Error::Invalid {
                offset: sec.base + (at + field::point::SHIFT) as u64,
                what: sec.what,
                detail: format!("point {i}: shift {shift} is above {MAX_SHIFT}"),
            });
        }
        out.push((base, shift));
    }
    Ok((out, &sec.bytes[values_at..]))
}

/// The time stored as `value` for (base, shift), saturating.
pub fn decode(base: i64, shift: u8, value: u32) -> i64 {
    let t = base as i128 + ((value as i128) << shift.min(MAX_SHIFT));
    t.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// (base, shift) for a point whose time stamps span `min..=max`.
pub fn choose(min: i64, max: i64) -> (i64, u8) {
    let span = (max as i128 - min as i128).max(0) as u128;
    let mut shift = 0u8;
    // Rounding adds up to half a unit.
    while shift < MAX_SHIFT && (span + ((1u128 << shift) >> 1)) >> shift > u32::MAX as u128 {
        shift += 1;
    }
    (min, shift)
}

/// The stored value of `ts` for (base, shift): rounded to the nearest unit.
///
/// In 64-bit arithmetic (it runs once per frame when an index is written):
/// ts − base is below 2^64 whatever the two are, and rounding to the
/// nearest unit adds bit SHIFT−1 of it (⌊(d + 2^(s−1)) / 2^s⌋ = ⌊d / 2^s⌋ +
/// that bit), so no sum can overflow.
#[inline]
pub fn encode(base: i64, shift: u8, ts: i64) -> u32 {
    if ts <= base {
        return 0;
    }
    let d = (ts as u64).wrapping_sub(base as u64);
    let v = match shift {
        0 => d,
        1..=63 => (d >> shift) + ((d >> (shift - 1)) & 1),
        64 => d >> 63,
        _ => 0,
    };
    v.min(u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_choice_and_error() {
        assert_eq!(choose(5, 5), (5, 0));
        assert_eq!(choose(0, u32::MAX as i64), (0, 0));
        assert_eq!(choose(0, u32::MAX as i64 + 1), (0, 1));
        assert_eq!(choose(0, 73 * 60 * 1_000_000_000).1, 10);
        assert_eq!(choose(0, 49 * 86_400 * 1_000_000_000).1, 20);
        assert_eq!(choose(i64::MIN, i64::MAX).1, 32);
        for (min, max) in [
            (0i64, 10i64),
            (-7, 1 << 40),
            (
                1_700_000_000_000_000_000,
                1_700_000_000_000_000_000 + 3_600_000_000_000,
            ),
            (-(1 << 62), 1 << 62),
        ] {
            let (b, s) = choose(min, max);
            let half = (1i128 << s) >> 1;
            for t in [min, max, min / 2 + max / 2, max - 1, min.saturating_add(1)] {
                let back = decode(b, s, encode(b, s, t));
                assert!(
                    (back as i128 - t as i128).abs() <= half.max(0),
                    "{t} -> {back} (shift {s})"
                );
            }
        }
        assert_eq!(decode(i64::MAX, 32, u32::MAX), i64::MAX);
        assert_eq!(encode(10, 0, 5), 0);
    }

    /// The 64-bit `encode` against the definition, round(max(0, ts − base)
    /// / 2^shift) saturated to u32, computed in 128 bits.
    #[test]
    fn encode_is_the_rounded_quotient() {
        let definition = |base: i64, shift: u8, ts: i64| -> u32 {
            let d = (ts as i128 - base as i128).max(0) as u128;
            let v = (d + ((1u128 << shift) >> 1)) >> shift;
            v.min(u32::MAX as u128) as u32
        };
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -(1 << 40) - 1,
            -1,
            0,
            1,
            2,
            3,
            511,
            512,
            513,
            u32::MAX as i64,
            u32::MAX as i64 + 1,
            (1 << 40) + (1 << 9),
            1_700_000_000_000_000_000,
            i64::MAX - 1,
            i64::MAX,
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as i64
        };
        for shift in 0..=100u8 {
            for &base in &edges {
                for &ts in &edges {
                    assert_eq!(
                        encode(base, shift, ts),
                        definition(base, shift, ts),
                        "{base} {shift} {ts}"
                    );
                }
            }
            for _ in 0..2000 {
                let (base, ts) = (random(), random());
                let near = base.wrapping_add(random() >> (random() & 63));
                for t in [ts, near] {
                    assert_eq!(encode(base, shift, t), definition(base, shift, t));
                }
            }
        }
    }

    #[test]
    fn section() {
        let mut v = Vec::new();
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        for (b, s) in [(100i64, 0u8), (-50, 3)] {
            v.extend_from_slice(&b.to_le_bytes());
            v.push(s);
            v.extend_from_slice(&[0; 7]);
        }
        for x in [1u32, 2, 3] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "FRAME_TIMES section",
        };
        let (pts, vals) = check(sec, &[2, 1]).unwrap();
        assert_eq!(pts, vec![(100, 0), (-50, 3)]);
        assert_eq!(vals.len(), 12);
        assert!(check(sec, &[2]).is_err());
        assert!(matches!(check(sec, &[2, 2]), Err(Error::Truncated { .. })));
        v[16] = 33;
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "FRAME_TIMES section",
        };
        let e = check(sec, &[2, 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "FRAME_TIMES section at byte 16: point 0: shift 33 is above 32"
        );
    }
}
