//! Stage 4 — clock offset and drift between two points, from matched
//! packets.
//!
//! A packet going from A towards B is seen at B later: its time difference
//! `d = t_B − t_A` is the clock difference plus a transit time ≥ 0.  A
//! packet going the other way gives the clock difference minus a transit
//! time.  So the clock difference lies below the *lower envelope* of the
//! forward differences and above the *upper envelope* of the backward ones
//! (the method of the seed talk's "time sync": smallest delay both ways).
//! Per time bucket we take the forward minimum and the backward maximum,
//! fit a straight line through each envelope (offset + drift), drop
//! outliers and refit, and take the line halfway between them.  The bound
//! is half the gap between the envelopes (the clock cannot be outside it)
//! plus the fit's residual spread.
//!
//! Which direction is "forward" is not known from addresses (a connection
//! may be opened from either side): per connection, the direction whose
//! differences are larger goes from A to B.

use index::ClockModel;

/// One matched packet: time at A, t_B − t_A, and its group (connection
/// pair × 2 + direction), used to tell forward from backward.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub ta: i64,
    pub delta: i64,
    pub group: u32,
}

/// A fitted clock model with its error bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockFit {
    pub model: ClockModel,
    pub bound_ns: u64,
    /// Envelope points the fit used.
    pub points: u32,
    /// Both directions were seen (else the offset includes the one-way
    /// transit time, and the bound says so).
    pub both_ways: bool,
}

/// The line under all points (over all when `upper`) that is closest to
/// them on average — the supporting line of the convex hull whose edge
/// spans the samples' mean abscissa `mean_x` (Moon, Skelly and Towsley, "Estimation
/// and removal of clock skew from network delay measurements", 1999).
/// The points' one-sided noise (queueing only adds delay) does not bias
/// it as a least-squares fit would.  A 0.1 % of points furthest outside
/// are dropped first (a time stamp glitch must not tilt the line).
fn envelope(pts: &mut [(f64, f64)], upper: bool, mean_x: f64) -> Option<(f64, f64)> {
    if pts.is_empty() {
        return None;
    }
    if upper {
        for p in pts.iter_mut() {
            p.1 = -p.1;
        }
    }
    pts.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    // Lower hull, monotone chain.
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for &p in pts.iter() {
        if hull.last().is_some_and(|h| h.0 == p.0) {
            continue; // same abscissa: the lower point came first
        }
        while hull.len() >= 2 {
            let (o, a) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            let cross = (a.0 - o.0) * (p.1 - o.1) - (a.1 - o.1) * (p.0 - o.0);
            if cross <= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(p);
    }
    let line = if hull.len() == 1 {
        (hull[0].1, 0.0)
    } else {
        let k = hull
            .windows(2)
            .position(|w| w[1].0 >= mean_x)
            .unwrap_or(hull.len() - 2);
        let (p, q) = (hull[k], hull[k + 1]);
        let slope = (q.1 - p.1) / (q.0 - p.0);
        (p.1 - slope * p.0, slope)
    };
    Some(if upper { (-line.0, -line.1) } else { line })
}

/// Fits the clock model from A to B; `reference_ns` (on A's clock) is
/// where the model's offset is given.  None without samples.
pub fn fit(samples: &[Sample], reference_ns: i64) -> Option<ClockFit> {
    fit_iter(samples.iter().copied(), reference_ns)
}

/// Time buckets whose extremes stand for all samples in the hull: memory
/// stays constant however many packets matched.
const BUCKETS: i64 = 4096;

/// [`fit`] over an iterator that can be walked twice (nothing per sample
/// is kept: per group a sum, per time bucket the extremes).
pub fn fit_iter<I: Iterator<Item = Sample> + Clone>(
    samples: I,
    reference_ns: i64,
) -> Option<ClockFit> {
    // Pass 1: span, and per group the mean difference.  Within a
    // connection the direction with the larger mean goes A → B.
    let (mut tmin, mut tmax, mut n, mut sum) = (i64::MAX, i64::MIN, 0u64, 0i128);
    let mut groups: rustc_hash::FxHashMap<u32, (i128, u64)> = Default::default();
    for s in samples.clone() {
        tmin = tmin.min(s.ta);
        tmax = tmax.max(s.ta);
        n += 1;
        sum += i128::from(s.delta);
        let g = groups.entry(s.group).or_default();
        g.0 += i128::from(s.delta);
        g.1 += 1;
    }
    if n == 0 {
        return None;
    }
    let global = (sum / i128::from(n)) as i64;
    let mean = |g: u32| groups.get(&g).map(|&(s, k)| (s / i128::from(k)) as i64);
    let forward = |g: u32| -> bool {
        let own = mean(g).unwrap_or(global);
        match mean(g ^ 1) {
            Some(other) if other != own => own > other,
            _ => own >= global,
        }
    };
    // Pass 2: per bucket the forward minimum and the backward maximum, and
    // the mean abscissa of each side (Moon's line goes through it).
    let width = ((tmax - tmin) / BUCKETS).max(1);
    let k = ((tmax - tmin) / width + 1).min(BUCKETS + 1) as usize;
    let mut lo: Vec<Option<(i64, i64)>> = vec![None; k];
    let mut hi: Vec<Option<(i64, i64)>> = vec![None; k];
    let (mut fx, mut fnum, mut bx, mut bnum) = (0f64, 0u64, 0f64, 0u64);
    for s in samples {
        let at = (((s.ta - tmin) / width) as usize).min(k - 1);
        let x = (s.ta - reference_ns) as f64;
        if forward(s.group) {
            fx += x;
            fnum += 1;
            if lo[at].is_none_or(|(_, d)| s.delta < d) {
                lo[at] = Some((s.ta, s.delta));
            }
        } else {
            bx += x;
            bnum += 1;
            if hi[at].is_none_or(|(_, d)| s.delta > d) {
                hi[at] = Some((s.ta, s.delta));
            }
        }
    }
    // Relative coordinates keep f64 exact enough (ns over days).
    let rel = |v: &[Option<(i64, i64)>]| -> Vec<(f64, f64)> {
        v.iter()
            .flatten()
            .map(|&(t, d)| ((t - reference_ns) as f64, (d - global) as f64))
            .collect()
    };
    let (mut f, mut b) = (rel(&lo), rel(&hi));
    let mean_f = fx / fnum.max(1) as f64;
    let mean_b = bx / bnum.max(1) as f64;
    let fit_f = envelope(&mut f, false, mean_f);
    let fit_b = envelope(&mut b, true, mean_b);
    let ((a0, a1), bound) = match (fit_f, fit_b) {
        (Some(lf), Some(lb)) => {
            let mid = ((lf.0 + lb.0) / 2.0, (lf.1 + lb.1) / 2.0);
            // Half the gap between the envelopes over the samples' span:
            // the clock cannot be outside them.
            let gap = |x: f64| ((lf.0 + lf.1 * x) - (lb.0 + lb.1 * x)).abs() / 2.0;
            let x0 = (tmin - reference_ns) as f64;
            let x1 = (tmax - reference_ns) as f64;
            (mid, gap(x0).max(gap(x1)))
        }
        // One direction only: the line is the clock plus (or minus) the
        // smallest transit time, which is unknown.
        (Some(l), None) | (None, Some(l)) => (l, 1_000_000.0),
        (None, None) => return None,
    };
    let drift_ppb = (a1 * 1e9).round() as i64;
    if drift_ppb.abs() >= index::DRIFT_LIMIT_PPB {
        return None;
    }
    Some(ClockFit {
        model: ClockModel::new(
            global.saturating_add(a0.round() as i64),
            drift_ppb,
            reference_ns,
        ),
        bound_ns: bound.round() as u64,
        points: (f.len() + b.len()) as u32,
        both_ways: fit_f.is_some() && fit_b.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_drift_between_the_envelopes() {
        // B's clock: 90 s ahead, +20 ppm.  Forward transit 300-800 µs,
        // backward 200-700 µs, 4 connections.
        let t0 = 1_700_000_000_000_000_000i64;
        let clock = |t: i64| 90_000_000_000 + (t - t0) * 20 / 1_000_000;
        let mut s = Vec::new();
        let mut x = 12345u64;
        for i in 0..4000i64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let jitter = (x >> 40) as i64 % 500_000;
            let t = t0 + i * 5_000_000;
            let group = (i % 4) as u32 * 2 + (i % 2) as u32;
            let fwd = group % 2 == 0;
            let delta = clock(t)
                + if fwd {
                    300_000 + jitter
                } else {
                    -200_000 - jitter
                };
            s.push(Sample {
                ta: t,
                delta,
                group,
            });
        }
        let f = fit(&s, t0).unwrap();
        assert!(f.both_ways);
        // The truth is not halfway (transit 300 vs 200 µs): the error is
        // half the asymmetry, 50 µs, and within the bound.
        let err = (f.model.difference_at(t0) - clock(t0)).abs();
        assert!(err <= 60_000, "offset error {err}");
        assert!(err as u64 <= f.bound_ns);
        assert!(
            (f.model.drift_ppb() - 20_000).abs() < 500,
            "drift {}",
            f.model.drift_ppb()
        );
    }
}
