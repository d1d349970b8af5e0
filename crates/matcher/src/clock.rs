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

/// Least squares line through (x, y) (x, y relative values): (a, b) with
/// y ≈ a + b·x.  A single x value gives a flat line.
fn line(pts: &[(f64, f64)]) -> (f64, f64) {
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

/// Fits a line, drops points further than 4 median absolute deviations
/// (at least 2 µs) from it, fits again.
fn robust_line(pts: &[(f64, f64)]) -> ((f64, f64), f64) {
    let first = line(pts);
    let res = |l: (f64, f64), p: &(f64, f64)| (p.1 - (l.0 + l.1 * p.0)).abs();
    let mut r: Vec<f64> = pts.iter().map(|p| res(first, p)).collect();
    r.sort_by(f64::total_cmp);
    let mad = r[r.len() / 2];
    let keep: Vec<(f64, f64)> = pts
        .iter()
        .copied()
        .filter(|p| res(first, p) <= (4.0 * mad).max(2_000.0))
        .collect();
    let l = if keep.len() >= 2 { line(&keep) } else { first };
    let spread = keep.iter().map(|p| res(l, p)).fold(0.0, f64::max);
    (l, spread)
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
    let buckets = (samples.len() / 16).clamp(1, 256);
    let width = ((tmax - tmin) / buckets as i64).max(1);
    let mut fwd: Vec<Option<(i64, i64)>> = vec![None; buckets];
    let mut bwd: Vec<Option<(i64, i64)>> = vec![None; buckets];
    for s in samples {
        let k = (((s.ta - tmin) / width) as usize).min(buckets - 1);
        if forward(s.group) {
            if fwd[k].is_none_or(|(_, d)| s.delta < d) {
                fwd[k] = Some((s.ta, s.delta));
            }
        } else if bwd[k].is_none_or(|(_, d)| s.delta > d) {
            bwd[k] = Some((s.ta, s.delta));
        }
    }
    // Relative coordinates keep f64 exact enough (ns over days).
    let rel = |v: &[Option<(i64, i64)>]| -> Vec<(f64, f64)> {
        v.iter()
            .flatten()
            .map(|&(t, d)| ((t - reference_ns) as f64, (d - global) as f64))
            .collect()
    };
    let (f, b) = (rel(&fwd), rel(&bwd));
    let fit_f = (!f.is_empty()).then(|| robust_line(&f));
    let fit_b = (!b.is_empty()).then(|| robust_line(&b));
    let ((a0, a1), bound) = match (fit_f, fit_b) {
        (Some((lf, sf)), Some((lb, sb))) => {
            let mid = ((lf.0 + lb.0) / 2.0, (lf.1 + lb.1) / 2.0);
            // Half the gap between the envelopes over the samples' span.
            let gap = |x: f64| ((lf.0 + lf.1 * x) - (lb.0 + lb.1 * x)).abs() / 2.0;
            let x0 = (tmin - reference_ns) as f64;
            let x1 = (tmax - reference_ns) as f64;
            (mid, gap(x0).max(gap(x1)) + sf.max(sb))
        }
        (Some((l, s)), None) | (None, Some((l, s))) => {
            // One direction only: the line is the clock plus (or minus) the
            // smallest transit time, which is unknown.
            (l, s.max(1_000_000.0))
        }
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
        both_ways: !f.is_empty() && !b.is_empty(),
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
