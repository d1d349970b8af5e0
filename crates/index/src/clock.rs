//! Clock models between two points, and the corrected time difference.
//!
//! A pair (a, b) stores the model the lab uses (docs/lab.md, "Clock errors"):
//!
//! ```text
//! t_b = t_a + offset_ns + (t_a - reference_ns) × drift_ppb × 1e-9
//! ```
//! for readings of the two clocks at the same instant, `reference_ns` on a's
//! clock.  Seen from b the model is inverted exactly: with r = drift_ppb/1e9,
//! t_a = t_b - offset_ns + (t_b - (reference_ns + offset_ns)) × (-r / (1 + r)).
//! [`ClockModel`] keeps the drift as a fraction num/den so that the inverse
//! of the inverse is the original, bit for bit.
//!
//! A peer entry's raw delta is peer time − this time as captured.  The
//! corrected delta takes the clock difference at that instant away:
//!
//! ```text
//! corrected = raw - (peer_clock(this_ts) - this_ts)
//! ```
//! i.e. the transit time (positive: the peer saw the packet later).

/// The largest drift a model may have: ±10 % (real clocks stay within a few
/// hundred ppm; a model outside this is a bad fit, not a clock).
pub const DRIFT_LIMIT_PPB: i64 = 100_000_000;

const PPB: i64 = 1_000_000_000;

/// A clock model oriented from "this" point to a peer: the peer's clock
/// reading at the instant this point's clock reads `t` is
/// `t + offset + (t - reference) × num / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockModel {
    // i128: the inverse's reference (reference + offset) and offset (-offset)
    // never saturate, so inverse().inverse() is the model itself.
    offset_ns: i128,
    reference_ns: i128,
    num: i128,
    den: i128,
}

/// Integer division rounded to nearest, halves away from zero (`d > 0`).
fn div_round(n: i128, d: i128) -> i128 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

fn sat(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

impl ClockModel {
    /// The model `peer = t + offset_ns + (t − reference_ns) × drift_ppb × 1e-9`
    /// (`drift_ppb` clamped to ±[`DRIFT_LIMIT_PPB`]).
    pub fn new(offset_ns: i64, drift_ppb: i64, reference_ns: i64) -> ClockModel {
        ClockModel {
            offset_ns: offset_ns as i128,
            reference_ns: reference_ns as i128,
            num: drift_ppb.clamp(-DRIFT_LIMIT_PPB, DRIFT_LIMIT_PPB) as i128,
            den: PPB as i128,
        }
    }

    /// The model's exact terms (offset, reference, numerator, denominator),
    /// for a process that hands a fitted model to another (pktmatch's
    /// cluster workers): the accessors below round and saturate, and an
    /// inverse's ratio is not a drift in ppb, so only these rebuild the
    /// same model.
    pub fn to_raw(&self) -> [i128; 4] {
        [self.offset_ns, self.reference_ns, self.num, self.den]
    }

    /// The model of [`ClockModel::to_raw`]'s terms; None when the
    /// denominator is not positive (no model has one).
    pub fn from_raw(raw: [i128; 4]) -> Option<ClockModel> {
        let [offset_ns, reference_ns, num, den] = raw;
        (den > 0).then_some(ClockModel {
            offset_ns,
            reference_ns,
            num,
            den,
        })
    }

    /// Clock difference (peer − this) at `reference_ns` (saturated to i64;
    /// only an inverse of an extreme model saturates).
    pub fn offset_ns(&self) -> i64 {
        sat(self.offset_ns)
    }

    /// The instant (on this point's clock) the offset refers to (saturated
    /// like the offset).
    pub fn reference_ns(&self) -> i64 {
        sat(self.reference_ns)
    }

    /// Drift in parts per billion (rounded when the model is an inverse).
    pub fn drift_ppb(&self) -> i64 {
        sat(div_round(self.num * PPB as i128, self.den))
    }

    /// The same relation seen from the peer (exact: the inverse of the
    /// inverse is the model).
    pub fn inverse(&self) -> ClockModel {
        ClockModel {
            offset_ns: -self.offset_ns,
            reference_ns: self.reference_ns + self.offset_ns,
            num: -self.num,
            den: self.den + self.num,
        }
    }

    /// The peer's clock reading at the instant this point's clock reads `t`
    /// (saturated to i64).
    pub fn peer_time(&self, t: i64) -> i64 {
        let d = div_round((t as i128 - self.reference_ns) * self.num, self.den);
        sat(t as i128 + self.offset_ns + d)
    }

    /// Clock difference peer − this at the instant this point's clock reads
    /// `t`.
    pub fn difference_at(&self, t: i64) -> i64 {
        sat(self.peer_time(t) as i128 - t as i128)
    }
}

/// The corrected delta of a peer entry: `raw_ns` (peer time − this time, as
/// captured) less the clock difference the model gives at `this_ts_ns`.
/// `model` must be oriented from this point to the peer
/// ([`crate::Index::clock`] does that).
pub fn corrected_delta(raw_ns: i64, this_ts_ns: i64, model: &ClockModel) -> i64 {
    sat(raw_ns as i128 - model.difference_at(this_ts_ns) as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn offset_only() {
        let m = ClockModel::new(2_718_281_828, 0, T0);
        assert_eq!(m.peer_time(T0 + 5), T0 + 5 + 2_718_281_828);
        // Packet captured at a at T0+1s, at b 30 µs later in true time.
        let raw = 2_718_281_828 + 30_000;
        assert_eq!(corrected_delta(raw, T0 + 1_000_000_000, &m), 30_000);
        // Seen from b: delta is a − b.
        let inv = m.inverse();
        let tb = T0 + 1_000_000_000 + raw;
        assert_eq!(corrected_delta(-raw, tb, &inv), -30_000);
        assert_eq!(inv.offset_ns(), -2_718_281_828);
        assert_eq!(inv.drift_ppb(), 0);
    }

    #[test]
    fn offset_and_drift() {
        // wan in the lab: +2.718 s, +25 ppm = 25 000 ppb.
        let m = ClockModel::new(2_718_281_828, 25_000, T0);
        assert_eq!(m.drift_ppb(), 25_000);
        assert_eq!(m.reference_ns(), T0);
        // 100 s after the reference, b's clock is 2.5 ms further ahead.
        let ta = T0 + 100_000_000_000;
        assert_eq!(m.difference_at(ta), 2_718_281_828 + 2_500_000);
        let transit = 41_000;
        let raw = m.peer_time(ta) + transit - ta;
        assert_eq!(corrected_delta(raw, ta, &m), transit);
        // From b, with b's time stamp.
        let tb = m.peer_time(ta) + transit;
        let inv = m.inverse();
        // b's reading tb corresponds to a's ta + transit (within rounding).
        let back = inv.peer_time(tb);
        assert!((back - (ta + transit)).abs() <= 1, "{back}");
        // The transit in a's units: 41 000 / (1 + 25e-6) = 40 998.97.
        assert_eq!(corrected_delta(ta - tb, tb, &inv), -40_999);
        // Before the reference the drift goes the other way.
        assert_eq!(m.difference_at(T0 - 1_000_000_000), 2_718_281_828 - 25_000);
        // The inverse's drift is -r/(1+r).
        assert_eq!(inv.drift_ppb(), -24_999);
        assert_eq!(inv.inverse(), m);
    }

    #[test]
    fn negative_drift_and_rounding() {
        let m = ClockModel::new(-97_314_159_265, -40_000, T0);
        let ta = T0 + 3;
        // 3 ns × -40e-6 = -0.00012 ns: rounds to 0.
        assert_eq!(m.difference_at(ta), -97_314_159_265);
        let ta = T0 + 12_500;
        // 12 500 × -4e-5 = -0.5: rounds away from zero.
        assert_eq!(m.difference_at(ta), -97_314_159_266);
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(-4, 10), 0);
        let ta = T0 + 3_600_000_000_000;
        let tb = m.peer_time(ta);
        assert!((m.inverse().peer_time(tb) - ta).abs() <= 1);
    }

    #[test]
    fn limits_saturate() {
        let m = ClockModel::new(i64::MAX, i64::MAX, i64::MIN);
        assert_eq!(m.drift_ppb(), DRIFT_LIMIT_PPB);
        assert_eq!(m.peer_time(i64::MAX), i64::MAX);
        let inv = m.inverse();
        assert_eq!(inv.offset_ns(), -i64::MAX);
        let _ = inv.peer_time(i64::MIN);
        assert_eq!(corrected_delta(i64::MIN, i64::MAX, &m), i64::MIN);
        let m = ClockModel::new(0, i64::MIN, 0);
        assert_eq!(m.drift_ppb(), -DRIFT_LIMIT_PPB);
        assert!(m.inverse().drift_ppb() > 0);
        // A fuzz finding: the inverse's reference (reference + offset)
        // overflowed i64 and saturated, so inverse().inverse() differed.
        let m = ClockModel::new(
            7_381_168_279_590_892_390,
            694_004,
            7_578_837_376_309_489_764,
        );
        assert_eq!(m.inverse().inverse(), m);
        assert_eq!(m.inverse().reference_ns(), i64::MAX);
        let m = ClockModel::new(i64::MIN, -5, i64::MIN);
        assert_eq!(m.inverse().inverse(), m);
        assert_eq!(m.inverse().offset_ns(), i64::MAX);
    }
}
