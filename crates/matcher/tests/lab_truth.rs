//! The engine against the multi-point lab's ground truth (docs/lab.md):
//! examples/session-small (a real lab run: client, WAN behind SNAT/PAT, DC
//! behind DNAT with TSO/GSO, server side of a full-proxy load balancer,
//! clocks skewed by capclock), and any lab runs named in PKTMATCH_LAB_DIRS
//! (colon-separated OUTDIRs of tests/lab/run.sh; CI sets it when it could
//! run the lab: the default run and --clock-step, wan's clock set back
//! 1.5 s halfway).  Truth: truth/packets.csv (pairs from conntrack,
//! haproxy, nginx and client logs, not from this matcher) and
//! truth/clocks.json (the clocks capclock applied, steps included).

use index::Index;
use matcher::{Input, Options};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every attributable capture drop of a derived variant's truth
/// (truth/capture_drops.csv, tests/lab/derive.py --drop) is in the index as
/// a capture drop at its point, from a frame of the same packet elsewhere;
/// every network loss the index reports is a packet the truth lists as
/// unpaired (truth/unpaired.csv): none where there was none.
fn check_losses(dir: &Path, idx: &Index<'_>) {
    let point = |l: &str| idx.point_by_label(l).map(|p| p.index());
    let mut unpaired: HashSet<(u16, u32)> = HashSet::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("truth/unpaired.csv")) {
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            if let (Some(p), Ok(fr)) = (point(f[1]), f[2].parse::<u32>()) {
                unpaired.insert((p, fr));
            }
        }
    }
    let mut false_losses = Vec::new();
    for p in idx.points() {
        for l in idx.lost_all(p.index()) {
            if l.kind == index::LossKind::NetworkLoss && !unpaired.contains(&(p.index(), l.frame)) {
                false_losses.push((p.label().to_owned(), l.frame));
            }
        }
    }
    assert!(
        false_losses.is_empty(),
        "{}: network loss reported where the truth has none: {false_losses:?}",
        dir.display()
    );
    let Ok(text) = std::fs::read_to_string(dir.join("truth/capture_drops.csv")) else {
        return;
    };
    let (mut attributable, mut attributed) = (0, 0);
    // Every frame elsewhere of a dropped packet, with the point that
    // dropped it: a capture drop reported anywhere else is false.
    let mut dropped: HashSet<(u16, u32, u16)> = HashSet::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let at = point(f[0]).unwrap();
        for s in f[3].split(';').filter(|s| !s.is_empty()) {
            let (q, fr) = s.split_once(':').unwrap();
            dropped.insert((point(q).unwrap(), fr.parse::<u32>().unwrap(), at));
        }
        if f[2] != "1" {
            continue;
        }
        attributable += 1;
        let at = point(f[0]).unwrap();
        let found = f[3].split(';').any(|s| {
            let (q, fr) = s.split_once(':').unwrap();
            let (q, fr) = (point(q).unwrap(), fr.parse::<u32>().unwrap());
            idx.lost(q, fr)
                .any(|x| x.point == at && x.kind == index::LossKind::CaptureDrop)
        });
        attributed += usize::from(found);
    }
    let counted = idx.point_by_label("wan").map_or(0, |p| p.capture_drops());
    eprintln!(
        "{}: capture drops attributed {attributed} of {attributable}; point counts {counted}",
        dir.display()
    );
    assert_eq!(attributed, attributable, "{}: capture drops", dir.display());
    let mut false_drops = Vec::new();
    for p in idx.points() {
        for l in idx.lost_all(p.index()) {
            if l.kind == index::LossKind::CaptureDrop
                && !dropped.contains(&(p.index(), l.frame, l.point))
            {
                false_drops.push((p.label().to_owned(), l.frame));
            }
        }
    }
    assert!(
        false_drops.is_empty(),
        "{}: capture drop reported where the truth has none: {false_drops:?}",
        dir.display()
    );
}

struct Scores {
    /// (point_a, point_b) → (truth, predicted, correct, found)
    hops: BTreeMap<(String, String), (usize, usize, usize, usize)>,
    /// kind → (truth, found), adjacent hops only
    kinds: BTreeMap<String, (usize, usize)>,
    /// (a, b, side of the steps, max offset error ns, drift error ppm, the
    /// pair's clocks stepped, ns of true time the side spans)
    clock_errors_ns: Vec<(String, String, usize, i64, f64, bool, i64)>,
    /// (a, b, true steps, steps found, frames matched between the true and
    /// the found start): steps as (size ns, first frame at a, at b)
    #[allow(clippy::type_complexity)]
    steps: Vec<(
        String,
        String,
        Vec<(i64, u32, u32)>,
        Vec<(i64, u32, u32)>,
        Vec<String>,
    )>,
}

fn point_file(dir: &Path, label: &str) -> PathBuf {
    let p = dir.join("points").join(format!("{label}.pcapng"));
    if p.exists() {
        p
    } else {
        dir.join(format!("{label}.pcapng"))
    }
}

/// The lab's points in path order.
const PATH: [&str; 4] = ["client", "wan", "dc", "lbserver"];

fn score(dir: &Path) -> Scores {
    score_given(dir, &PATH)
}

/// Scores the matcher on the points given in `given` order (it must find
/// the path order itself).
fn score_given(dir: &Path, given: &[&str]) -> Scores {
    let inputs: Vec<Input> = given
        .iter()
        .map(|l| Input {
            label: l.to_string(),
            path: point_file(dir, l),
            given: None,
        })
        .collect();
    let (builder, _summary) =
        matcher::run(&inputs, &Options::default(), &mut |_| {}).expect("matcher runs");
    let bytes = builder.build();
    let idx = Index::load(&bytes).expect("index loads");
    let order: Vec<&str> = idx.points().map(|p| p.label()).collect();
    assert_eq!(order, PATH, "{}: path order from {given:?}", dir.display());
    check_losses(dir, &idx);

    let truth = std::fs::read_to_string(dir.join("truth/packets.csv")).expect("truth/packets.csv");
    // A truth written before body packets across the proxy were in it
    // (examples/session-small) cannot score them: left out, and said.
    // Through one (a via match whose middle packet's match is a body
    // match) neither.
    let body_truth = truth.contains(",http-body,");
    let mut body: HashSet<(u16, u32, u16, u32)> = HashSet::new();
    for (p, point) in idx.points().enumerate() {
        for f in 1..=point.packets() {
            for peer in idx.peers(p as u16, f) {
                if usize::from(peer.point) > p && idx.method_name(peer.method) == Some("proxy-body")
                {
                    body.insert((p as u16, f, peer.point, peer.frame));
                }
            }
        }
    }
    let through_body = |p: u16, f: u32, q: u16, g: u32| {
        body.contains(&(p, f, q, g))
            || idx
                .peers(p, f)
                .any(|m| p < m.point && m.point < q && body.contains(&(m.point, m.frame, q, g)))
    };
    let mut predicted: HashSet<(String, u32, String, u32)> = HashSet::new();
    let mut unscored = 0;
    for (p, point) in idx.points().enumerate() {
        for f in 1..=point.packets() {
            for peer in idx.peers(p as u16, f) {
                if usize::from(peer.point) > p {
                    if !body_truth && through_body(p as u16, f, peer.point, peer.frame) {
                        unscored += 1;
                        continue;
                    }
                    let b = idx.point(peer.point).unwrap();
                    predicted.insert((point.label().into(), f, b.label().into(), peer.frame));
                }
            }
        }
    }
    if unscored > 0 {
        eprintln!(
            "{}: {unscored} body matches across the proxy not scored (this truth has no http-body pairs)",
            dir.display()
        );
    }
    let mut lines = truth.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (ca, cfa, cb, cfb, ck, cc, ch) = (
        col("point_a"),
        col("frame_a"),
        col("point_b"),
        col("frame_b"),
        col("kind"),
        col("certain"),
        col("hop"),
    );
    let mut certain = HashMap::new();
    let mut candidates = HashSet::new();
    for l in lines {
        let r: Vec<&str> = l.split(',').collect();
        let k = (
            r[ca].to_string(),
            r[cfa].parse::<u32>().unwrap(),
            r[cb].to_string(),
            r[cfb].parse::<u32>().unwrap(),
        );
        if r[cc] == "1" {
            certain.insert(k, (r[ck].to_string(), r[ch] == "adjacent"));
        } else {
            candidates.insert(k);
        }
    }
    let mut s = Scores {
        hops: BTreeMap::new(),
        kinds: BTreeMap::new(),
        clock_errors_ns: Vec::new(),
        steps: Vec::new(),
    };
    for (k, (kind, adjacent)) in &certain {
        let e = s.hops.entry((k.0.clone(), k.2.clone())).or_default();
        e.0 += 1;
        let found = predicted.contains(k);
        e.3 += usize::from(found);
        if *adjacent {
            let kk = s.kinds.entry(kind.clone()).or_default();
            kk.0 += 1;
            kk.1 += usize::from(found);
        }
    }
    for k in &predicted {
        let e = s.hops.entry((k.0.clone(), k.2.clone())).or_default();
        e.1 += 1;
        e.2 += usize::from(certain.contains_key(k) || candidates.contains(k));
    }

    // Clocks: the index's model against the clocks the lab applied, on
    // each side of every step of either clock (truth/clocks.json: per point
    // offset, drift and steps), at a's first, middle and last frame there;
    // and each true step against the step the index has.
    let clocks = std::fs::read_to_string(dir.join("truth/clocks.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&clocks).unwrap();
    let truth_clock = |label: &str| -> TrueClock {
        let p = &v["points"][label];
        TrueClock {
            offset: p["offset_ns"].as_i64().unwrap(),
            drift_ppm: p["drift_ppm"].as_f64().unwrap(),
            reference: p["reference_ns"].as_i64().unwrap(),
            steps: p["steps"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| {
                            (
                                s["at_ns"].as_i64().unwrap(),
                                s["delta_ns"].as_i64().unwrap(),
                                s["first_frame"].as_u64().map_or(u32::MAX, |f| f as u32),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    };
    for pair in v["pairs"].as_array().unwrap() {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        let (pa, pb) = (
            idx.point_by_label(a).unwrap().index(),
            idx.point_by_label(b).unwrap().index(),
        );
        let (ca, cb) = (truth_clock(a), truth_clock(b));
        let true_drift = (cb.drift_ppm - ca.drift_ppm) / (1.0 + ca.drift_ppm * 1e-6);
        let times = |p: u16, c: &TrueClock| -> Vec<(u32, i64, i64)> {
            (1..=idx.packets(p))
                .filter_map(|f| {
                    let t = idx.frame_time_ns(p, f)?;
                    Some((f, t, c.true_time(f, t)))
                })
                .collect()
        };
        let (fa, fb) = (times(pa, &ca), times(pb, &cb));
        let span = |f: &[(u32, i64, i64)]| {
            let lo = f.iter().map(|x| x.2).min().unwrap_or(0);
            let hi = f.iter().map(|x| x.2).max().unwrap_or(0);
            (lo, hi)
        };
        let ((la, ha), (lb, hb)) = (span(&fa), span(&fb));
        let (lo, hi) = (la.max(lb), ha.min(hb));
        let mut instants: Vec<i64> = ca
            .steps
            .iter()
            .chain(&cb.steps)
            .map(|s| s.0)
            .filter(|&t| lo < t && t < hi)
            .collect();
        instants.sort_unstable();
        instants.dedup();
        let mut edges = vec![lo];
        edges.extend(&instants);
        edges.push(hi);
        const MARGIN: i64 = 10_000_000;
        for k in 0..edges.len() - 1 {
            let s0 = edges[k] + if k > 0 { MARGIN } else { 0 };
            let s1 = edges[k + 1] - if k + 2 < edges.len() { MARGIN } else { 0 };
            let inside: Vec<&(u32, i64, i64)> =
                fa.iter().filter(|x| s0 <= x.2 && x.2 <= s1).collect();
            if inside.is_empty() {
                continue;
            }
            let mut worst = (0i64, 0f64);
            for x in [
                inside[0],
                inside[inside.len() / 2],
                inside[inside.len() - 1],
            ] {
                let &(f, t, tt) = x;
                let Some(model) = idx.clock_at(pa, f, pb) else {
                    worst = (i64::MAX, f64::MAX);
                    break;
                };
                let truth = cb.reading(tt) - ca.reading(tt);
                let err = (model.difference_at(t) - truth).abs();
                let derr = model.drift_ppb() as f64 / 1000.0 - true_drift;
                worst = (
                    worst.0.max(err),
                    if derr.abs() > worst.1.abs() {
                        derr
                    } else {
                        worst.1
                    },
                );
            }
            s.clock_errors_ns.push((
                a.into(),
                b.into(),
                k,
                worst.0,
                worst.1,
                !instants.is_empty(),
                s1 - s0,
            ));
        }
        // Steps: the true ones (b − a changes by b's step less a's), the
        // index's, matched in order.
        let found: Vec<index::ClockSegment> = idx.clock_segments(pa, pb).collect();
        let found_steps: Vec<(i64, u32, u32)> = found
            .windows(2)
            .map(|w| (w[1].step_from(&w[0]), w[1].a_from_frame, w[1].b_from_frame))
            .collect();
        let first_after = |f: &[(u32, i64, i64)], t: i64| {
            f.iter()
                .filter(|x| x.2 >= t)
                .map(|x| x.0)
                .min()
                .unwrap_or(u32::MAX)
        };
        let true_steps: Vec<(i64, u32, u32)> = instants
            .iter()
            .map(|&t| {
                let size = |c: &TrueClock| {
                    c.steps
                        .iter()
                        .filter(|s| s.0 == t)
                        .map(|s| s.1)
                        .sum::<i64>()
                };
                (
                    size(&cb) - size(&ca),
                    first_after(&fa, t),
                    first_after(&fb, t),
                )
            })
            .collect();
        // A step found must start at the first frame after it that has a
        // peer at the other point: none in between, at either point, but a
        // packet in flight across the step (seen before it at one point,
        // after it at the other), which goes with the side its difference
        // shows.
        let true_of =
            |f: &[(u32, i64, i64)], frame: u32| f.iter().find(|x| x.0 == frame).map_or(0, |x| x.2);
        let mut between = Vec::new();
        for ((t, f), &at) in true_steps.iter().zip(&found_steps).zip(&instants) {
            for (p, q, tf, ff, (own, other)) in [
                (pa, pb, t.1, f.1, (&fa, &fb)),
                (pb, pa, t.2, f.2, (&fb, &fa)),
            ] {
                for frame in tf.min(ff)..tf.max(ff) {
                    let before = true_of(own, frame) < at;
                    let straight = idx
                        .peers(p, frame)
                        .filter(|x| x.point == q)
                        .any(|x| (true_of(other, x.frame) < at) == before);
                    if straight {
                        between.push(format!(
                            "step found at frames {f:?}, truth {t:?}: frame {frame} of point {p} \
                             is matched in between"
                        ));
                    }
                }
            }
        }
        s.steps
            .push((a.into(), b.into(), true_steps, found_steps, between));
    }
    s
}

/// A point's clock as the lab applied it.
struct TrueClock {
    offset: i64,
    drift_ppm: f64,
    reference: i64,
    /// (instant on the true clock, size, first frame at or after it)
    steps: Vec<(i64, i64, u32)>,
}

impl TrueClock {
    /// The reading at true time t.
    fn reading(&self, t: i64) -> i64 {
        let drift = ((t - self.reference) as f64 * self.drift_ppm * 1e-6).round() as i64;
        let steps: i64 = self.steps.iter().filter(|s| t >= s.0).map(|s| s.1).sum();
        t + self.offset + drift + steps
    }

    /// The true time of frame `frame`, which read `t`.
    fn true_time(&self, frame: u32, t: i64) -> i64 {
        let steps: i64 = self
            .steps
            .iter()
            .filter(|s| frame >= s.2)
            .map(|s| s.1)
            .sum();
        let x = t - steps - self.offset;
        x - ((x - self.reference) as f64 * self.drift_ppm * 1e-6).round() as i64
    }
}

fn check(dir: &Path) {
    check_with(dir, score(dir));
}

fn check_with(dir: &Path, s: Scores) {
    let order = |p: &str| {
        ["client", "wan", "dc", "lbserver"]
            .iter()
            .position(|x| *x == p)
            .unwrap()
    };
    for ((a, b), (truth, pred, correct, found)) in &s.hops {
        let adjacent = order(b) == order(a) + 1;
        eprintln!(
            "{}: {a}-{b} truth {truth} predicted {pred} correct {correct} found {found}",
            dir.display()
        );
        if adjacent && *pred > 0 {
            let precision = *correct as f64 / *pred as f64;
            assert!(precision >= 0.999, "{a}-{b}: precision {precision}");
        }
        // Recall per adjacent hop and end to end (every pair).
        if *truth > 0 {
            let recall = *found as f64 / *truth as f64;
            assert!(recall >= 0.995, "{a}-{b}: recall {recall}");
        }
    }
    for (kind, (truth, found)) in &s.kinds {
        eprintln!("{}: kind {kind}: {found} of {truth}", dir.display());
        // Transactions across the full proxy: ≥ 98 % (issue bar).
        if kind.starts_with("http-") {
            assert!(
                *found as f64 >= 0.98 * *truth as f64,
                "{kind}: {found} of {truth}"
            );
        }
    }
    for (a, b, side, e, drift, stepped, span) in &s.clock_errors_ns {
        eprintln!(
            "{}: clock {a}-{b}{}: max offset error {e} ns, drift error {drift:+.3} ppm over {:.2} s",
            dir.display(),
            if *stepped {
                format!(" side {} of the step", side + 1)
            } else {
                String::new()
            },
            *span as f64 / 1e9
        );
        // Time stamps in whole milliseconds: the clocks are known to about
        // their resolution, and drift not to a few ppm (a variant's bars are
        // the matches and transactions; docs/matching.md, known limits).
        let coarse = dir.to_string_lossy().contains("-ms-");
        let limit = if coarse { 2_000_000 } else { 1_000_000 };
        assert!(*e < limit, "clock {a}-{b}: offset error {e} ns");
        // Drift (issue bar: within 5 ppm) where it can be seen: a few µs of
        // timing noise over a second's traffic are several ppm, so the bar
        // holds for stretches of at least 1.5 s (the paced lab runs: CI's
        // default run and --clock-step, whose steps must be seen in both
        // directions too); shorter ones are printed only.
        if !coarse && (*stepped || *span >= 1_500_000_000) {
            assert!(
                drift.abs() < 5.0,
                "clock {a}-{b}: drift error {drift} ppm over {span} ns"
            );
        }
    }
    // Every step found, none made up; its size within 1 ms, and it starts
    // at the first frame after it that has a peer at the other point.
    for (a, b, truth, found, between) in &s.steps {
        eprintln!(
            "{}: clock steps {a}-{b}: true {truth:?}, found {found:?}",
            dir.display()
        );
        assert_eq!(
            truth.len(),
            found.len(),
            "clock {a}-{b}: steps {found:?}, truth {truth:?}"
        );
        for (t, f) in truth.iter().zip(found) {
            assert!(
                (t.0 - f.0).abs() < 1_000_000,
                "clock {a}-{b}: step {f:?}, truth {t:?}"
            );
        }
        assert!(between.is_empty(), "clock {a}-{b}: {between:?}");
    }
}

#[test]
fn session_small_meets_the_bars() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/session-small");
    let s = score(&dir);
    // Every kind of the truth is represented in this small run.
    for kind in ["tcp", "tcp-tso", "dns", "http-request", "http-response"] {
        assert!(s.kinds.contains_key(kind), "no {kind} pairs in the truth");
    }
    check(&dir);
}

/// A variant of a lab run (tests/lab/derive.py, which writes its truth
/// too) in a scratch directory.
fn derive(src: &Path, name: &str, args: &[&str], seed: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!(
        "lab-variant-{}-{name}-{seed}-{}",
        std::process::id(),
        src.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&out);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/derive.py");
    let ok = std::process::Command::new("python3")
        .arg(&script)
        .arg(src)
        .arg(&out)
        .args(args)
        .args(["--seed", seed])
        .status()
        .expect("python3 runs tests/lab/derive.py")
        .success();
    assert!(ok, "derive.py {args:?} --seed {seed} on {}", src.display());
    out
}

/// The variants of issue 17 derived from one run, each scored with the
/// points given out of order: capture drops at a middle point (3 % of
/// wan's frames; three random draws, each drops other frames — a drop
/// next to a retransmission or of a ping's request is what went wrong
/// before), a remote capture behind ERSPAN III at dc and VXLAN at wan,
/// time stamps in whole milliseconds everywhere.
/// PKTMATCH_LAB_VARIANTS=drop,ms scores only those, PKTMATCH_LAB_SEED=S
/// only that draw (to reproduce one).
fn check_variants(src: &Path) {
    let shuffled = ["dc", "lbserver", "client", "wan"];
    let only = std::env::var("PKTMATCH_LAB_VARIANTS").ok();
    let seed = std::env::var("PKTMATCH_LAB_SEED").ok();
    for (name, args, draws) in [
        ("drop", &["--drop", "wan:3"][..], &["1", "2", "3"][..]),
        ("erspan", &["--encap", "dc:erspan3"][..], &["1"][..]),
        ("vxlan", &["--encap", "wan:vxlan"][..], &["1"][..]),
        ("ms", &["--resolution-ns", "1000000"][..], &["1"][..]),
    ] {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|v| v == name))
        {
            continue;
        }
        let draws: Vec<&str> = seed.as_deref().map_or(draws.to_vec(), |s| vec![s]);
        for s in draws {
            let d = derive(src, name, args, s);
            check_with(&d, score_given(&d, &shuffled));
            let _ = std::fs::remove_dir_all(&d);
        }
    }
}

#[test]
fn session_small_variants_meet_the_bars() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/session-small");
    check_variants(&dir);
}

#[test]
fn lab_runs_meet_the_bars() {
    let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") else {
        eprintln!("PKTMATCH_LAB_DIRS not set: only examples/session-small is scored");
        return;
    };
    for d in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
        check(&d);
        // The derived variants from the first (default) run only: CI's
        // time is short.
        if !d.to_string_lossy().contains("clock-step") {
            check_variants(&d);
        }
    }
}
