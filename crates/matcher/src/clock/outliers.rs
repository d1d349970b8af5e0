//! Extremes no clock can explain, taken out before the envelopes are
//! fitted.
//!
//! A forward difference (A → B) is the clock plus a transit, a backward
//! one the clock minus a transit: near in time, every backward difference
//! lies below every forward one.  A backward maximum above a forward
//! minimum nearby (by more than the clocks' resolution and what any drift
//! could move the clock in between) is impossible: one of the two is a
//! wrong match — a retransmission at one point matched to the original at
//! the other, milliseconds off.  Its bucket extreme would be a vertex of
//! its hull and tilt the fitted line (one such sample moved a lab run's
//! wan–dc drift by 650 ppm).  Of the two, the one further from its own
//! side's neighbours goes; the bucket keeps its other side.

use super::Bucket;

/// Buckets either side compared.
const NEAR: usize = 8;

/// The most two clocks drift apart (ns per ns) in the allowance; real
/// oscillators stay within a tenth of it.
const MAX_DRIFT: f64 = 500e-6;

/// Drops, per bucket, a forward minimum or backward maximum that crosses
/// the other side's nearby extremes.  `resolution_ns`: the coarser of the
/// two clocks' time stamp steps.
pub(super) fn drop_impossible(bs: &mut [Bucket], resolution_ns: i64) {
    let lo: Vec<Option<(i64, i64)>> = bs.iter().map(|b| b.lo).collect();
    let hi: Vec<Option<(i64, i64)>> = bs.iter().map(|b| b.hi).collect();
    let n = bs.len();
    let near = |i: usize| i.saturating_sub(NEAR)..(i + NEAR + 1).min(n);
    // How far an extreme lies from the median of its side's neighbours
    // (positive: towards the other side).
    let deviation = |side: &[Option<(i64, i64)>], i: usize, upward: bool| -> i64 {
        let mut v: Vec<i64> = near(i)
            .filter(|&j| j != i)
            .filter_map(|j| side[j].map(|e| e.1))
            .collect();
        let Some((_, d)) = side[i] else { return 0 };
        if v.is_empty() {
            return i64::MAX;
        }
        let m = v.len() / 2;
        let med = *v.select_nth_unstable(m).1;
        if upward {
            d - med
        } else {
            med - d
        }
    };
    let allowed = |a: (i64, i64), b: (i64, i64)| {
        2 * resolution_ns + ((a.0 - b.0).abs() as f64 * MAX_DRIFT) as i64 + 1_000
    };
    for i in 0..n {
        let Some(h) = hi[i] else { continue };
        for j in near(i) {
            let Some(l) = lo[j] else { continue };
            if bs[i].hi.is_none() {
                break;
            }
            if bs[j].lo.is_none() || h.1 - l.1 <= allowed(h, l) {
                continue;
            }
            if deviation(&hi, i, true) >= deviation(&lo, j, false) {
                bs[i].hi = None;
            } else {
                bs[j].lo = None;
            }
        }
    }
}
