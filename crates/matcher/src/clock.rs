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

fn median(v: &mut [i64]) -> i64 {
    let m = v.len() / 2;
    *v.select_nth_unstable(m).1
}

/// The line under all points (over all when `upper`) that is closest to
/// them on average — the supporting line of the convex hull whose edge
/// spans the points' mean abscissa (Moon, Skelly and Towsley, "Estimation
/// and removal of clock skew from network delay measurements", 1999).
/// The points' one-sided noise (queueing only adds delay) does not bias
/// it as a least-squares fit would.  A 0.1 % of points furthest outside
/// are dropped first (a time stamp glitch must not tilt the line).
fn envelope(pts: &mut Vec<(f64, f64)>, upper: bool) -> Option<(f64, f64)> {
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
    let mean_x = pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64;
    let line = if hull.len() == 1 {
        (hull[0].1, 0.0)
    } else {
        let k = hull.windows(2).position(|w| w[1].0 >= mean_x).unwrap_or(hull.len() - 2);
        let (p, q) = (hull[k], hull[k + 1]);
        let slope = (q.1 - p.1) / (q.0 - p.0);
        (p.1 - slope * p.0, slope)
    };
    Some(if upper { (-line.0, -line.1) } else { line })
}

/// Fits the clock model from A to B; `reference_ns` (on A's clock) is
/// where the model's offset is given.  None without samples.
pub fn fit(samples: &[Sample], reference_ns: i64) -> Option<ClockFit> {
    if samples.is_empty() {
        return None;
    }
    // Forward/backward per group: within a connection the direction with
    // the larger median difference goes A → B.
    let mut groups: Vec<(u32, i64)> = {
        let mut by: std::collections::BTreeMap<u32, Vec<i64>> = Default::default();
        for s in samples {
            by.entry(s.group).or_default().push(s.delta);
        }
        by.into_iter().map(|(g, mut v)| (g, median(&mut v))).collect()
    };
    let mut all: Vec<i64> = samples.iter().map(|s| s.delta).collect();
    let global = median(&mut all);
    groups.sort_unstable();
    let forward = |g: u32| -> bool {
        let find = |g: u32| groups.binary_search_by_key(&g, |x| x.0).ok().map(|i| groups[i].1);
        let own = find(g).unwrap_or(global);
        match find(g ^ 1) {
            Some(other) if other != own => own > other,
            _ => own >= global,
        }
    };
    let tmin = samples.iter().map(|s| s.ta).min()?;
    let tmax = samples.iter().map(|s| s.ta).max()?;
    // Relative coordinates keep f64 exact enough (ns over days).
    let (mut f, mut b): (Vec<(f64, f64)>, Vec<(f64, f64)>) = (Vec::new(), Vec::new());
    for s in samples {
        let p = ((s.ta - reference_ns) as f64, (s.delta - global) as f64);
        if forward(s.group) {
            f.push(p);
        } else {
            b.push(p);
        }
    }
    let fit_f = envelope(&mut f, false);
    let fit_b = envelope(&mut b, true);
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
        model: ClockModel::new(global.saturating_add(a0.round() as i64), drift_ppb, reference_ns),
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
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let jitter = (x >> 40) as i64 % 500_000;
            let t = t0 + i * 5_000_000;
            let group = (i % 4) as u32 * 2 + (i % 2) as u32;
            let fwd = group % 2 == 0;
            let delta = clock(t) + if fwd { 300_000 + jitter } else { -200_000 - jitter };
            s.push(Sample { ta: t, delta, group });
        }
        let f = fit(&s, t0).unwrap();
        assert!(f.both_ways);
        // The truth is not halfway (transit 300 vs 200 µs): the error is
        // half the asymmetry, 50 µs, and within the bound.
        let err = (f.model.difference_at(t0) - clock(t0)).abs();
        assert!(err <= 60_000, "offset error {err}");
        assert!(err as u64 <= f.bound_ns);
        assert!((f.model.drift_ppb() - 20_000).abs() < 500, "drift {}", f.model.drift_ppb());
    }
}
