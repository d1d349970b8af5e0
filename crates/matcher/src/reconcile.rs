//! Every pair's clock made consistent around loops, as Huygens does (Geng
//! et al., *Exploiting a Natural Network Effect for Scalable, Fine-grained
//! Clock Synchronization*, NSDI 2018): the offsets of A→B and B→C must add
//! up to A→C.  Each neighbour pair has its own fit; a pair further apart
//! whose own matches gave a tighter fit than the composition of the hops
//! is another measurement of the same clocks.  With one unknown clock per
//! point (point 0 the reference), the hops' and those pairs' offsets and
//! drifts are reconciled by weighted least squares (weights 1/bound²), so
//! a loop's disagreement is shared by the measurements it has, by how sure
//! each is; a measurement that disagrees with the rest by more than four
//! times its bound (and 10 µs) is set aside, and named, so that one bad
//! estimate cannot skew the others.  Pairs whose clocks stepped are left as
//! they are (their segments are not one line).

use crate::clock::ClockFit;
use index::ClockModel;

/// One measurement: the clock difference of points `i` < `j` at the
/// common instant, and drift, with the bound of its offset.
#[derive(Clone, Copy, Debug)]
struct Measure {
    i: usize,
    j: usize,
    /// What it says x_j − x_i is (0 for a hop: its own fit).
    offset: f64,
    drift: f64,
    bound: f64,
}

/// What reconciliation did, for the index's SESSION text and warnings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Solves the weighted least squares of x (x_0 = 0) for the measurements'
/// `value` (offset or drift) as x_j − x_i; None when singular.
fn solve(n: usize, ms: &[Measure], value: impl Fn(&Measure) -> f64) -> Option<Vec<f64>> {
    let k = n - 1;
    let mut a = vec![vec![0f64; k]; k];
    let mut c = vec![0f64; k];
    for m in ms {
        let w = 1.0 / (m.bound * m.bound).max(1.0);
        let v = value(m);
        // Unknown index of point p: p − 1 (point 0 is fixed).
        let (i, j) = (m.i.checked_sub(1), m.j.checked_sub(1));
        if let Some(j) = j {
            a[j][j] += w;
            c[j] += w * v;
        }
        if let Some(i) = i {
            a[i][i] += w;
            c[i] -= w * v;
        }
        if let (Some(i), Some(j)) = (i, j) {
            a[i][j] -= w;
            a[j][i] -= w;
        }
    }
    // Gaussian elimination with partial pivoting (k is the point count).
    for col in 0..k {
        let p = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[p][col].abs() < 1e-30 {
            return None;
        }
        a.swap(col, p);
        c.swap(col, p);
        let pivot = a[col].clone();
        for r in 0..k {
            if r != col {
                let f = a[r][col] / pivot[col];
                for (x, p) in a[r].iter_mut().zip(&pivot).skip(col) {
                    *x -= f * p;
                }
                c[r] -= f * c[col];
            }
        }
    }
    let mut x = vec![0.0];
    x.extend((0..k).map(|r| c[r] / a[r][r]));
    Some(x)
}

/// Whether the measurements still link every point.
fn connected(n: usize, ms: &[Measure]) -> bool {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for m in ms {
        let (a, b) = (root(&mut parent, m.i), root(&mut parent, m.j));
        parent[a] = b;
    }
    let r0 = root(&mut parent, 0);
    (0..n).all(|i| root(&mut parent, i) == r0)
}

/// Reconciles the hops' clocks (`hops[k]`: point k → k + 1) with the
/// pairs further apart that have their own fits (`direct`: (i, j, fit)),
/// in place: the hops' models are corrected.  `t0`: the instant (on point
/// 0's clock) the offsets are compared at.  `labels` name the points.
pub(crate) fn reconcile(
    hops: &mut [Option<ClockFit>],
    direct: &[(usize, usize, ClockFit)],
    t0: i64,
    labels: &[String],
) -> Outcome {
    let mut out = Outcome::default();
    let n = hops.len() + 1;
    if direct.is_empty() {
        out.notes
            .push("no loop to reconcile: each pair's clock composes its hops'".into());
        return out;
    }
    let Some(fits) = hops
        .iter()
        .map(|h| h.filter(|f| f.steps() == 0))
        .collect::<Option<Vec<_>>>()
    else {
        out.notes.push(
            "not reconciled: a hop has no clock model, or its clocks stepped (each segment is \
             its own line)"
                .into(),
        );
        return out;
    };
    // The common instant on every point's clock, through the hops.
    let mut at = vec![t0];
    for f in &fits {
        let t = *at.last().unwrap_or(&t0);
        at.push(f.model.peer_time(t));
    }
    let mut ms: Vec<Measure> = fits
        .iter()
        .enumerate()
        .map(|(k, f)| Measure {
            i: k,
            j: k + 1,
            offset: 0.0,
            drift: 0.0,
            bound: f.bound_ns as f64,
        })
        .collect();
    let hop_count = ms.len();
    for (i, j, f) in direct {
        if *j >= n || f.steps() > 0 {
            continue;
        }
        let chain_drift: i64 = fits[*i..*j].iter().map(|h| h.model.drift_ppb()).sum();
        ms.push(Measure {
            i: *i,
            j: *j,
            offset: (f.model.difference_at(at[*i]) - (at[*j] - at[*i])) as f64,
            drift: (f.model.drift_ppb() - chain_drift) as f64,
            bound: f.bound_ns as f64,
        });
    }
    if ms.len() == hop_count {
        out.notes.push("no loop to reconcile".into());
        return out;
    }
    let name = |m: &Measure| format!("{}–{}", labels[m.i], labels[m.j]);
    let largest = ms[hop_count..]
        .iter()
        .map(|m| m.offset.abs())
        .fold(0.0, f64::max);
    // Solve; while measurements disagree beyond their bounds, set aside
    // the one whose removal alone makes the rest agree — when exactly one
    // does (one loop of three cannot say which of its pairs is wrong: its
    // disagreement is then shared by how sure each is, and said).
    let bad = |ms: &[Measure], xo: &[f64]| -> Vec<usize> {
        ms.iter()
            .enumerate()
            .filter(|(_, m)| {
                let r = (xo[m.j] - xo[m.i] - m.offset).abs();
                r > 10_000.0 && r > 4.0 * m.bound.max(1.0)
            })
            .map(|(k, _)| k)
            .collect()
    };
    let (xo, xd) = loop {
        let (Some(xo), Some(xd)) = (solve(n, &ms, |m| m.offset), solve(n, &ms, |m| m.drift)) else {
            out.notes
                .push("not reconciled: the measurements do not link every point".into());
            return out;
        };
        let suspects = bad(&ms, &xo);
        if suspects.is_empty() {
            break (xo, xd);
        }
        let explains: Vec<usize> = suspects
            .iter()
            .copied()
            .filter(|&k| {
                let mut rest = ms.clone();
                rest.remove(k);
                connected(n, &rest)
                    && solve(n, &rest, |m| m.offset).is_some_and(|x| bad(&rest, &x).is_empty())
            })
            .collect();
        if let [k] = explains[..] {
            let m = ms.remove(k);
            out.warnings.push(format!(
                "the clock of {} disagrees with the other pairs' by more than four times its \
                 bound ({:.1} µs): set aside, its model follows from the others",
                name(&m),
                m.bound / 1e3
            ));
            continue;
        }
        let names: Vec<String> = suspects.iter().map(|&k| name(&ms[k])).collect();
        out.warnings.push(format!(
            "the clocks of {} disagree around their loop beyond their bounds, and no single \
             pair explains it: the disagreement is shared by how sure each is",
            names.join(", ")
        ));
        break (xo, xd);
    };
    // Each hop corrected by its share.
    let mut moved = 0f64;
    for (k, h) in hops.iter_mut().enumerate() {
        let f = fits[k];
        let (dxo, dxd) = (xo[k + 1] - xo[k], xd[k + 1] - xd[k]);
        moved = moved.max(dxo.abs());
        // The correction is (dxo, dxd) at at[k]; expressed at the hop's own
        // reference instant so a hop the loop does not move keeps its model
        // exactly (the reference instant depends on which copies a point has).
        let reference = f.model.reference_ns();
        let shift = dxo + dxd * (reference - at[k]) as f64 * 1e-9;
        let (shift, dxd) = (shift.round() as i64, dxd.round() as i64);
        if shift == 0 && dxd == 0 {
            continue;
        }
        let model = ClockModel::new(
            f.model.difference_at(reference) + shift,
            f.model.drift_ppb() + dxd,
            reference,
        );
        *h = Some(ClockFit::single(model, f.bound_ns, f.points, f.both_ways));
    }
    out.notes.push(format!(
        "{} pair(s) further apart with their own fits reconciled with the hops by least \
         squares (Huygens, NSDI 2018): the largest loop disagreement was {:.1} µs, each hop \
         moved at most {:.1} µs",
        ms.len() - hop_count,
        largest / 1e3,
        moved / 1e3
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(off: i64, ppb: i64, reference: i64, bound: u64) -> ClockFit {
        ClockFit::single(ClockModel::new(off, ppb, reference), bound, 100, true)
    }

    /// Three points; the true offsets b − a = 1 ms, c − b = 2 ms (no
    /// drift).  The hop a–b is 60 µs off (a bad fit); one loop cannot say
    /// which of its three pairs is wrong: the disagreement is shared by how
    /// sure each is (the tight direct a–c keeps nearly its value) and said.
    #[test]
    fn one_loop_shares_its_disagreement() {
        let t0 = 1_000_000_000_000;
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut hops = vec![
            Some(fit(1_060_000, 0, t0, 2_000)),
            Some(fit(2_000_000, 0, t0 + 1_060_000, 2_000)),
        ];
        let direct = vec![(0, 2, fit(3_000_000, 0, t0, 1_000))];
        let out = reconcile(&mut hops, &direct, t0, &labels);
        let ab = hops[0].unwrap().model.difference_at(t0);
        let bc = hops[1].unwrap().model.difference_at(t0 + ab);
        // The loop's 60 µs is shared by how sure each is: a–c (1 µs) keeps
        // nearly all of its value; the hops share the rest equally.
        assert!((ab + bc - 3_000_000).abs() < 15_000, "{ab} + {bc}");
        assert!((ab - 1_000_000).abs() < 40_000, "{ab}");
        assert!(
            out.notes[0].contains("largest loop disagreement was 60.0 µs"),
            "{out:?}"
        );
        assert!(
            out.warnings[0].contains("no single pair explains it"),
            "{out:?}"
        );
        // Nothing to reconcile without a direct fit.
        let mut hops2 = vec![Some(fit(5, 0, t0, 1)), Some(fit(7, 0, t0, 1))];
        let out = reconcile(&mut hops2, &[], t0, &labels);
        assert!(out.notes[0].contains("no loop"));
        assert_eq!(hops2[0].unwrap().model.offset_ns(), 5);
    }

    /// A direct fit that disagrees wildly with two hops that agree with a
    /// second direct one is set aside and named.
    #[test]
    fn an_outlier_is_set_aside_and_named() {
        let t0 = 0;
        let labels: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let mut hops = vec![
            Some(fit(1_000_000, 0, t0, 2_000)),
            Some(fit(1_000_000, 0, t0 + 1_000_000, 2_000)),
            Some(fit(1_000_000, 0, t0 + 2_000_000, 2_000)),
        ];
        let direct = vec![
            (0, 2, fit(2_000_000, 0, t0, 2_000)),
            (1, 3, fit(2_000_000, 0, t0 + 1_000_000, 2_000)),
            (0, 3, fit(3_500_000, 0, t0, 2_000)),
        ];
        let out = reconcile(&mut hops, &direct, t0, &labels);
        assert!(
            out.warnings
                .iter()
                .any(|w| w.starts_with("the clock of a–d disagrees")),
            "{out:?}"
        );
        for (k, h) in hops.iter().enumerate() {
            let off = h.unwrap().model.difference_at(t0 + k as i64 * 1_000_000);
            assert!((off - 1_000_000).abs() < 1_000, "hop {k}: {off}");
        }
    }

    /// Four points, pairs further apart measured directly: a hop 60 µs
    /// off is the one pair whose removal makes the rest agree — set aside,
    /// its model from the others, which it does not skew.
    #[test]
    fn one_bad_hop_does_not_skew_the_others() {
        let t0 = 0;
        let labels: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let mut hops = vec![
            Some(fit(1_000_000, 0, t0, 2_000)),
            Some(fit(1_060_000, 0, t0 + 1_000_000, 2_000)),
            Some(fit(1_000_000, 0, t0 + 2_060_000, 2_000)),
        ];
        let direct = vec![
            (0, 2, fit(2_000_000, 0, t0, 2_000)),
            (1, 3, fit(2_000_000, 0, t0 + 1_000_000, 2_000)),
            (0, 3, fit(3_000_000, 0, t0, 2_000)),
        ];
        let out = reconcile(&mut hops, &direct, t0, &labels);
        assert!(
            out.warnings
                .iter()
                .any(|w| w.starts_with("the clock of b–c disagrees")),
            "{out:?}"
        );
        let mut at = t0;
        for (k, h) in hops.iter().enumerate() {
            let off = h.unwrap().model.difference_at(at);
            assert!((off - 1_000_000).abs() < 1_000, "hop {k}: {off}");
            at += off;
        }
    }
}
