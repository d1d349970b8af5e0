//! Stage 4 — clock offset and drift between two points, from matched
//! packets, and the steps of either clock inside the captures.
//!
//! A packet going from A towards B is seen at B later: its time difference
//! `d = t_B − t_A` is the clock difference plus a transit time ≥ 0.  A
//! packet going the other way gives the clock difference minus a transit
//! time.  So the clock difference lies below the *lower envelope* of the
//! forward differences and above the *upper envelope* of the backward ones
//! (the method of the seed talk's "time sync": smallest delay both ways).
//! Per bucket we take the forward minimum and the backward maximum, fit a
//! straight line through each envelope (offset + drift) and take the line
//! halfway between them.  The bound is half the gap between the envelopes
//! (the clock cannot be outside it).
//!
//! Which direction is "forward" is not known from addresses (a connection
//! may be opened from either side): per connection, the direction whose
//! differences lie higher goes from A to B.
//!
//! **Steps.**  A clock that is set (an NTP step, a manual correction, a
//! wrong time zone fixed) moves every later difference by the same amount.
//! The buckets are taken in A's *frame order*, not by time stamp, because a
//! clock stepped backwards repeats readings and only the order of the frames
//! still says what came first.  Candidates come from the buckets' bands of
//! differences (whatever their direction): binary segmentation (Scott and
//! Knott 1974; Vostrikova 1981) of the bands' middles, each change compared
//! between the medians of the buckets either side after the drift is taken
//! out (a median of slopes, after Sen 1968), at least 10 times the
//! bucket-to-bucket noise and 100 µs, with the bands either
//! side apart.  With the directions known, causality must confirm each step
//! where both are seen: after a step up the clock's new lower bound lies
//! above its old upper bound.  Each segment gets its own offset; the drift
//! is common to all segments (a step sets a clock, it does not change its
//! rate): whether one rate fits them all is judged on the segments lined up
//! by their steps, and the rate is the mean of the segments' own, weighted
//! by their spans squared.  Each segment keeps its own drift only when the
//! common one is inconsistent with some segment's envelopes.  A segment begins at
//! its first matched frame at A and at B.  docs/matching.md, "Clock steps",
//! has the references.

use index::ClockModel;

/// One matched packet: time at A, t_B − t_A, its group (connection pair ×
/// 2 + direction, used to tell forward from backward) and its records at A
/// and B (frame − 1).
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub ta: i64,
    pub delta: i64,
    pub group: u32,
    pub ia: u32,
    pub ib: u32,
}

/// Segments a pair's clock may have (steps + 1); further steps are not
/// looked for.
pub const MAX_SEGMENTS: usize = 8;

/// One stretch of a pair's clock between steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First record (frame − 1) at A and at B in the segment.
    pub from_a: u32,
    pub from_b: u32,
    /// A's clock reading where the segment starts.
    pub from_ns: i64,
    /// A's clock reading at the previous segment's last matched record (0
    /// in the first segment): the step lies between the two.
    pub before_ns: i64,
    pub model: ClockModel,
    pub bound_ns: u64,
}

/// A fitted clock: one or more segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockFit {
    /// The first segment's model (the only one without a step).
    pub model: ClockModel,
    /// The largest bound of the segments.
    pub bound_ns: u64,
    /// Envelope points the fit used.
    pub points: u32,
    /// Both directions were seen in every segment (else the offset includes
    /// the one-way transit time, and the bound says so).
    pub both_ways: bool,
    segs: [Segment; MAX_SEGMENTS],
    n: u8,
}

impl ClockFit {
    /// One model for the whole capture.
    pub fn single(model: ClockModel, bound_ns: u64, points: u32, both_ways: bool) -> ClockFit {
        let s = Segment {
            from_a: 0,
            from_b: 0,
            from_ns: model.reference_ns(),
            before_ns: 0,
            model,
            bound_ns,
        };
        ClockFit {
            model,
            bound_ns,
            points,
            both_ways,
            segs: [s; MAX_SEGMENTS],
            n: 1,
        }
    }

    /// Segments in order (the first starting at records 0; at most
    /// [`MAX_SEGMENTS`] are kept).
    fn from_segments(segs: &[Segment], points: u32, both_ways: bool) -> ClockFit {
        let mut f = ClockFit::single(segs[0].model, segs[0].bound_ns, points, both_ways);
        f.segs[0].from_ns = segs[0].from_ns;
        for (k, s) in segs.iter().enumerate().take(MAX_SEGMENTS) {
            f.segs[k] = *s;
            f.n = k as u8 + 1;
        }
        f.bound_ns = f.segments().iter().map(|s| s.bound_ns).max().unwrap_or(0);
        f
    }

    /// Every field, the unused segment slots too (wire.rs: a fit that
    /// crossed the network compares equal to the one fitted).
    pub(crate) fn raw(&self) -> (ClockModel, u64, u32, bool, &[Segment; MAX_SEGMENTS], u8) {
        (
            self.model,
            self.bound_ns,
            self.points,
            self.both_ways,
            &self.segs,
            self.n,
        )
    }

    /// The fit of [`ClockFit::raw`]'s fields; None when `n` is not 1 to
    /// [`MAX_SEGMENTS`].
    pub(crate) fn from_raw(
        model: ClockModel,
        bound_ns: u64,
        points: u32,
        both_ways: bool,
        segs: [Segment; MAX_SEGMENTS],
        n: u8,
    ) -> Option<ClockFit> {
        (1..=MAX_SEGMENTS as u8).contains(&n).then_some(ClockFit {
            model,
            bound_ns,
            points,
            both_ways,
            segs,
            n,
        })
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segs[..usize::from(self.n)]
    }

    /// Steps found (segments − 1).
    pub fn steps(&self) -> usize {
        usize::from(self.n) - 1
    }

    /// The segment of A's record `rec`.
    pub fn segment_a(&self, rec: u32) -> &Segment {
        let s = self.segments();
        &s[s.iter().rposition(|x| x.from_a <= rec).unwrap_or(0)]
    }

    /// The segment of B's record `rec`.
    pub fn segment_b(&self, rec: u32) -> &Segment {
        let s = self.segments();
        &s[s.iter().rposition(|x| x.from_b <= rec).unwrap_or(0)]
    }

    /// Index of A's record's segment.
    pub fn seg_index_a(&self, rec: u32) -> usize {
        self.segments()
            .iter()
            .rposition(|x| x.from_a <= rec)
            .unwrap_or(0)
    }

    /// Index of B's record's segment.
    pub fn seg_index_b(&self, rec: u32) -> usize {
        self.segments()
            .iter()
            .rposition(|x| x.from_b <= rec)
            .unwrap_or(0)
    }

    /// B's clock reading at the instant A's record `rec` reads `t`.
    pub fn peer_time(&self, rec: u32, t: i64) -> i64 {
        self.segment_a(rec).model.peer_time(t)
    }

    /// A's clock reading at the instant B's record `rec` reads `t`.
    pub fn back_time(&self, rec: u32, t: i64) -> i64 {
        self.segment_b(rec).model.inverse().peer_time(t)
    }

    /// Each step's first records moved back to `other`'s where `other` saw
    /// the same step earlier: a pair not adjacent fitted from its own
    /// matches starts a segment at its first match after the step, while
    /// the composition through the hops, which see more packets, may know
    /// an earlier frame.  Only when both have the same steps (sizes within
    /// their bounds and [`STEP_MIN_NS`]).
    pub fn earliest_starts(&mut self, other: &ClockFit) {
        let n = usize::from(self.n);
        if n < 2 || self.n != other.n {
            return;
        }
        let size = |f: &ClockFit, k: usize| {
            let (p, s) = (&f.segs[k - 1], &f.segs[k]);
            s.model.difference_at(s.from_ns) - p.model.difference_at(s.from_ns)
        };
        let slack = (self.bound_ns + other.bound_ns) as i64 + STEP_MIN_NS as i64;
        if (1..n).any(|k| (size(self, k) - size(other, k)).abs() > slack) {
            return;
        }
        for k in 1..n {
            let (prev, o) = (self.segs[k - 1], other.segs[k]);
            let s = &mut self.segs[k];
            if o.from_a > prev.from_a {
                s.from_a = s.from_a.min(o.from_a);
            }
            if o.from_b > prev.from_b {
                s.from_b = s.from_b.min(o.from_b);
            }
        }
    }

    /// The segments as the index stores them (frames 1-based); empty
    /// without a step.
    pub fn index_segments(&self) -> Vec<index::ClockSegment> {
        if self.n < 2 {
            return Vec::new();
        }
        self.segments()
            .iter()
            .map(|s| index::ClockSegment {
                a_from_frame: s.from_a + 1,
                b_from_frame: s.from_b + 1,
                from_ns: s.from_ns,
                model: s.model,
                offset_error_ns: s.bound_ns,
                before_ns: s.before_ns,
            })
            .collect()
    }
}

/// The lower convex hull of `pts` (sorted here; the lower point kept of
/// equal abscissae), monotone chain.
fn lower_hull(pts: &mut [(f64, f64)]) -> Vec<(f64, f64)> {
    pts.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for &p in pts.iter() {
        if hull.last().is_some_and(|h| h.0 == p.0) {
            continue;
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
    hull
}

/// One side's envelope of one segment: its lower hull (of −y for the
/// upper envelope), the samples counted and their mean abscissa.
struct Envelope {
    hull: Vec<(f64, f64)>,
    n: f64,
    mean_x: f64,
}

impl Envelope {
    /// Slopes of the hull's edges (increasing).
    fn slopes(&self) -> impl Iterator<Item = f64> + '_ {
        self.hull
            .windows(2)
            .map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
    }

    /// The intercept of the line of slope `s` supporting the hull from
    /// below: min (y − s·x) over its vertices.
    fn support(&self, s: f64) -> f64 {
        let k = self.slopes().take_while(|&e| e < s).count();
        let (x, y) = self.hull[k];
        y - s * x
    }
}

/// The slope of lines touching envelopes, one intercept each, that are
/// closest to the samples on average: per envelope the line touching its
/// hull, maximising Σ n·(line at the mean abscissa) — for one envelope the
/// supporting line of the hull edge spanning the mean abscissa (Moon,
/// Skelly and Towsley, "Estimation and removal of clock skew from network
/// delay measurements", INFOCOM 1999), here with the slope shared.  The
/// sum is concave in the slope and piecewise linear, so its maximum is at
/// one of the edges' slopes.  `envs` pairs each envelope with the sign of
/// its slope (−1 for a backward envelope, whose hull is of −y).  The
/// points' one-sided noise (queueing only adds delay) does not bias it as a
/// least-squares fit would.
fn shared_slope(envs: &[(&Envelope, f64)]) -> f64 {
    let value = |s: f64| -> f64 {
        envs.iter()
            .map(|(e, k)| e.n * (e.support(k * s) + k * s * e.mean_x))
            .sum()
    };
    let mut best: Option<(f64, f64)> = None;
    for (e, k) in envs {
        for edge in e.slopes() {
            let s = k * edge;
            let v = value(s);
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((s, v));
            }
        }
    }
    best.map_or(0.0, |b| b.0)
}

/// Time buckets (in A's frame order) whose extremes stand for all samples
/// in the hulls: memory stays constant however many packets matched.
const BUCKETS: u64 = 4096;

/// What one bucket of one segment holds.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Forward minimum and backward maximum: (t_A, delta).
    lo: Option<(i64, i64)>,
    hi: Option<(i64, i64)>,
    /// Forward and backward samples and the sums of their abscissae.
    nf: u64,
    xf: f64,
    nb: u64,
    xb: f64,
    /// First and last record at A (and their times), first record at B.
    first_a: (u32, i64),
    last_a: (u32, i64),
    first_b: u32,
    tmin: i64,
    tmax: i64,
    sum: i128,
    n: u64,
}

impl Default for Bucket {
    fn default() -> Bucket {
        Bucket {
            lo: None,
            hi: None,
            nf: 0,
            xf: 0.0,
            nb: 0,
            xb: 0.0,
            first_a: (u32::MAX, 0),
            last_a: (0, 0),
            first_b: u32::MAX,
            tmin: i64::MAX,
            tmax: i64::MIN,
            sum: 0,
            n: 0,
        }
    }
}

impl Bucket {
    fn add(&mut self, s: &Sample, forward: bool, x: f64) {
        if forward {
            self.nf += 1;
            self.xf += x;
            if self.lo.is_none_or(|(_, d)| s.delta < d) {
                self.lo = Some((s.ta, s.delta));
            }
        } else {
            self.nb += 1;
            self.xb += x;
            if self.hi.is_none_or(|(_, d)| s.delta > d) {
                self.hi = Some((s.ta, s.delta));
            }
        }
        if s.ia < self.first_a.0 {
            self.first_a = (s.ia, s.ta);
        }
        if s.ia >= self.last_a.0 {
            self.last_a = (s.ia, s.ta);
        }
        self.first_b = self.first_b.min(s.ib);
        self.tmin = self.tmin.min(s.ta);
        self.tmax = self.tmax.max(s.ta);
        self.sum += i128::from(s.delta);
        self.n += 1;
    }
}

/// A step found between the buckets before and after `bucket` (whose own
/// samples go to the nearer level).
#[derive(Clone, Copy, Debug)]
struct Cut {
    bucket: usize,
    left: i64,
    right: i64,
    up: bool,
}

/// Per bucket, the range of all differences whatever their direction.
#[derive(Clone, Copy, Debug)]
struct Band {
    lo: i64,
    hi: i64,
    tmin: i64,
    tmax: i64,
}

/// The drift and noise of a pair's bucket levels: levels far apart compare
/// once the drift between them is taken out.
#[derive(Clone, Copy, Debug, Default)]
struct Trend {
    t0: i64,
    rate: f64,
    noise: f64,
    window: usize,
}

impl Trend {
    fn flat(&self, t: i64, x: f64) -> f64 {
        x - self.rate * (t - self.t0) as f64
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// How far (ns per ns) a segment's own rate may lie from the lined-up
/// rate of a stepped pair and still count in the common one: 20 ppm, many
/// times what the lab's segments differ by, far below a burst's −1.
const OWN_RATE_SPREAD: f64 = 20e-6;

/// A level change smaller than this is not looked for (finer steps widen
/// the bound instead).
const STEP_MIN_NS: f64 = 100_000.0;
/// A step must exceed this many times the typical bucket-to-bucket change
/// of the level.
const STEP_NOISE: f64 = 10.0;

/// Candidate steps in the buckets' bands, direction unknown yet: binary
/// segmentation (the largest change first, then within the parts, up to
/// [`MAX_SEGMENTS`] parts) of the bands' middles, each change at least
/// [`STEP_NOISE`] times the noise and with the bands on either side apart
/// (a queue that builds up widens the band; a step moves all of it).
fn candidates(bands: &[Option<Band>]) -> (Vec<Cut>, Trend) {
    let valid: Vec<usize> = (0..bands.len()).filter(|&k| bands[k].is_some()).collect();
    let band = |p: usize| bands[valid[p]].expect("valid");
    let v = valid.len();
    let w = (v / 32).clamp(3, 16);
    if v < 2 * w + 1 {
        return (Vec::new(), Trend::default());
    }
    let t0 = band(0).tmin;
    let time = |p: usize| {
        let b = band(p);
        b.tmin + (b.tmax - b.tmin) / 2
    };
    let level: Vec<f64> = (0..v)
        .map(|p| (band(p).lo as f64 + band(p).hi as f64) / 2.0)
        .collect();
    // The drift, robustly: the median rate between buckets an eighth of
    // the buckets apart (neighbours would see mostly the noise; a step
    // spoils only the rates across it).
    let lag = (v / 8).max(1);
    let mut rates: Vec<f64> = (lag..v)
        .filter_map(|p| {
            let dt = (time(p) - time(p - lag)) as f64;
            (dt > 0.0).then(|| (level[p] - level[p - lag]) / dt)
        })
        .collect();
    let mut trend = Trend {
        t0,
        rate: median(&mut rates),
        noise: 0.0,
        window: w,
    };
    let r: Vec<f64> = (0..v).map(|p| trend.flat(time(p), level[p])).collect();
    let mut diffs: Vec<f64> = (1..v).map(|p| (r[p] - r[p - 1]).abs()).collect();
    trend.noise = median(&mut diffs);
    let threshold = (STEP_NOISE * trend.noise).max(STEP_MIN_NS);
    let med = |ps: std::ops::Range<usize>, f: &dyn Fn(usize) -> f64| {
        let mut xs: Vec<f64> = ps.map(f).collect();
        median(&mut xs)
    };
    let lo = |p: usize| trend.flat(time(p), band(p).lo as f64);
    let hi = |p: usize| trend.flat(time(p), band(p).hi as f64);
    // The best cut in valid positions from..to: (position, change).
    let best = |from: usize, to: usize| -> Option<(usize, f64)> {
        let mut out: Option<(usize, f64)> = None;
        for p in from + w..to.saturating_sub(w) {
            let (before, after) = (p - w..p, p + 1..p + 1 + w);
            let d = med(after.clone(), &|q| r[q]) - med(before.clone(), &|q| r[q]);
            if d.abs() < threshold || out.is_some_and(|(_, o)| o.abs() >= d.abs()) {
                continue;
            }
            let apart = if d > 0.0 {
                med(after, &lo) - med(before, &hi)
            } else {
                med(before, &lo) - med(after, &hi)
            };
            if apart > 2.0 * trend.noise {
                out = Some((p, d));
            }
        }
        out
    };
    // The windows see the change from up to w positions before it: the
    // cut goes where two levels fit the neighbourhood best (least absolute
    // deviation from each side's median), the position itself left to
    // either side sample by sample.
    let place = |p: usize, from: usize, to: usize| -> usize {
        let (a, b) = (p.saturating_sub(w).max(from), (p + 2 * w + 1).min(to));
        let dev = |xs: &[f64]| {
            let mut m = xs.to_vec();
            let c = median(&mut m);
            xs.iter().map(|x| (x - c).abs()).sum::<f64>()
        };
        (a + 1..b.saturating_sub(1))
            .min_by(|&x, &y| {
                let cost = |q: usize| dev(&r[a..q]) + dev(&r[q + 1..b]);
                cost(x).total_cmp(&cost(y)).then(x.cmp(&y))
            })
            .unwrap_or(p)
    };
    let mut parts = vec![(0usize, v)];
    let mut cuts: Vec<(usize, f64, usize, usize)> = Vec::new();
    while parts.len() < MAX_SEGMENTS {
        let found = parts
            .iter()
            .enumerate()
            .filter_map(|(i, &(from, to))| best(from, to).map(|c| (i, c)))
            .max_by(|x, y| x.1 .1.abs().total_cmp(&y.1 .1.abs()));
        let Some((i, (p, d))) = found else { break };
        let (from, to) = parts[i];
        let q = place(p, from, to);
        parts[i] = (from, q);
        parts.insert(i + 1, (q + 1, to));
        cuts.push((q, d, from, to));
    }
    cuts.sort_by_key(|c| c.0);
    let out = cuts
        .iter()
        .map(|&(q, d, from, to)| {
            let raw = |ps: std::ops::Range<usize>| {
                let mut xs: Vec<f64> = level[ps].to_vec();
                median(&mut xs).round() as i64
            };
            Cut {
                bucket: valid[q],
                left: raw(q.saturating_sub(w).max(from)..q),
                right: raw(q + 1..(q + 1 + w).min(to)),
                up: d > 0.0,
            }
        })
        .collect();
    (out, trend)
}

/// Whether the directions confirm cut `i` (between segments i and i + 1):
/// after a step up, the clock's new lower bound (backward maxima) lies
/// above its old upper bound (forward minima), beyond the noise; after a
/// step down the other way round.  None when a side needed is not seen
/// near the cut.
fn confirmed(cut: &Cut, before: &[Bucket], after: &[Bucket], trend: &Trend) -> Option<bool> {
    let w = trend.window.max(1);
    let pick = |bs: &mut dyn Iterator<Item = &Bucket>, upper: bool| -> Vec<f64> {
        bs.filter_map(|b| {
            let (t, d) = if upper { b.lo? } else { b.hi? };
            Some(trend.flat(t, d as f64))
        })
        .take(w)
        .collect()
    };
    let mut left = before[..=cut.bucket].iter().rev();
    let mut right = after[cut.bucket..].iter();
    let (mut low, mut high) = if cut.up {
        (pick(&mut right, false), pick(&mut left, true))
    } else {
        (pick(&mut left, false), pick(&mut right, true))
    };
    if low.is_empty() || high.is_empty() {
        return None;
    }
    Some(median(&mut low) - median(&mut high) > 2.0 * trend.noise)
}

/// A segment's forward and backward envelope lines: (intercept, slope).
type Lines = (Option<(f64, f64)>, Option<(f64, f64)>);

/// One segment's fit.
struct SegFit {
    model: ClockModel,
    bound: f64,
    both: bool,
    points: u32,
}

/// Fits the segments' buckets: per side a shared slope (or one per
/// segment), per segment the intercepts.  None when a drift is out of
/// bounds.
fn fit_segments(segs: &[Vec<Bucket>], reference_ns: i64, starts: &[i64]) -> Option<Vec<SegFit>> {
    struct Side {
        fwd: Option<Envelope>,
        back: Option<Envelope>,
        base: i64,
        x0: f64,
        x1: f64,
        points: u32,
    }
    let sides: Vec<Side> = segs
        .iter()
        .map(|bs| {
            let (sum, n) = bs
                .iter()
                .fold((0i128, 0u64), |a, b| (a.0 + b.sum, a.1 + b.n));
            let base = (sum / i128::from(n.max(1))) as i64;
            let rel = |(t, d): (i64, i64)| ((t - reference_ns) as f64, (d - base) as f64);
            let mut f: Vec<(f64, f64)> = bs.iter().filter_map(|b| b.lo).map(rel).collect();
            let mut k: Vec<(f64, f64)> = bs
                .iter()
                .filter_map(|b| b.hi)
                .map(rel)
                .map(|(x, y)| (x, -y))
                .collect();
            let (nf, xf) = bs
                .iter()
                .fold((0u64, 0f64), |a, b| (a.0 + b.nf, a.1 + b.xf));
            let (nb, xb) = bs
                .iter()
                .fold((0u64, 0f64), |a, b| (a.0 + b.nb, a.1 + b.xb));
            let points = (f.len() + k.len()) as u32;
            let env = |pts: &mut Vec<(f64, f64)>, n: u64, x: f64| {
                (!pts.is_empty()).then(|| Envelope {
                    hull: lower_hull(pts),
                    n: n as f64,
                    mean_x: x / n.max(1) as f64,
                })
            };
            let tmin = bs.iter().map(|b| b.tmin).min().unwrap_or(reference_ns);
            let tmax = bs.iter().map(|b| b.tmax).max().unwrap_or(reference_ns);
            Side {
                fwd: env(&mut f, nf, xf),
                back: env(&mut k, nb, xb),
                base,
                x0: (tmin - reference_ns) as f64,
                x1: (tmax - reference_ns) as f64,
                points,
            }
        })
        .collect();
    // (forward line, backward line) of a segment with the given slopes;
    // the backward hull is of −y.
    let lines = |s: &Side, sf: Option<f64>, sb: Option<f64>| {
        let f = s.fwd.as_ref().zip(sf).map(|(e, k)| (e.support(k), k));
        let b = s.back.as_ref().zip(sb).map(|(e, k)| (-e.support(-k), k));
        (f, b)
    };
    // One segment: each envelope its own slope (the lines then meet
    // halfway).
    let alone = |s: &Side| {
        let f = s.fwd.as_ref().map(|e| shared_slope(&[(e, 1.0)]));
        let b = s.back.as_ref().map(|e| shared_slope(&[(e, -1.0)]));
        lines(s, f, b)
    };
    // Several segments (a step between them): the rate of the clocks,
    // which a step does not change, from all of them.  Each segment alone
    // is short, and its envelopes alone can tilt with the queues; the
    // segments lined up (each moved by its step) give the envelopes their
    // whole length again.  The steps are the differences of the segments'
    // middle lines at the slopes found, the slopes those of the lined-up
    // envelopes: a few rounds settle both.
    let middles = |sf: f64, sb: f64| -> Vec<f64> {
        let both: Vec<(f64, f64)> = sides
            .iter()
            .map(|s| {
                let (f, b) = lines(s, Some(sf), Some(sb));
                (f.map_or(f64::NAN, |l| l.0), b.map_or(f64::NAN, |l| l.0))
            })
            .collect();
        // A segment seen one way only: moved by the others' half gap.
        let gaps: Vec<f64> = both
            .iter()
            .filter(|(f, b)| f.is_finite() && b.is_finite())
            .map(|(f, b)| (f - b) / 2.0)
            .collect();
        let half = if gaps.is_empty() {
            0.0
        } else {
            gaps.iter().sum::<f64>() / gaps.len() as f64
        };
        both.iter()
            .map(|&(f, b)| match (f.is_finite(), b.is_finite()) {
                (true, true) => (f + b) / 2.0,
                (true, false) => f - half,
                (false, true) => b + half,
                (false, false) => 0.0,
            })
            .collect()
    };
    let lined_up = |mids: &[f64], upper: bool| -> Option<Envelope> {
        let mut pts: Vec<(f64, f64)> = Vec::new();
        let (mut n, mut sx) = (0.0, 0.0);
        for (s, m) in sides.iter().zip(mids) {
            let Some(e) = (if upper { &s.back } else { &s.fwd }) else {
                continue;
            };
            // Each segment's middle line taken out (its base cancels; the
            // backward hull is of −y).
            let shift = if upper { m - mids[0] } else { mids[0] - m };
            pts.extend(e.hull.iter().map(|&(x, y)| (x, y + shift)));
            n += e.n;
            sx += e.n * e.mean_x;
        }
        (!pts.is_empty()).then(|| Envelope {
            hull: lower_hull(&mut pts),
            n,
            mean_x: sx / n.max(1.0),
        })
    };
    let (mut sf, mut sb) = {
        let (f, b) = alone(&sides[0]);
        (f.map_or(0.0, |l| l.1), b.map_or(0.0, |l| l.1))
    };
    for _ in 0..16 {
        let mids = middles(sf, sb);
        let f = lined_up(&mids, false).map(|e| shared_slope(&[(&e, 1.0)]));
        let b = lined_up(&mids, true).map(|e| shared_slope(&[(&e, -1.0)]));
        let (nf, nb) = (f.or(b).unwrap_or(0.0), b.or(f).unwrap_or(0.0));
        let settled = nf == sf && nb == sb;
        (sf, sb) = (nf, nb);
        if settled {
            break;
        }
    }
    // How far a segment's envelope lines cross (> 0: the clock cannot lie
    // between them).
    let cross = |s: &Side, (f, b): Lines| match (f, b) {
        (Some(f), Some(b)) => [s.x0, s.x1]
            .iter()
            .map(|&x| (b.0 + b.1 * x) - (f.0 + f.1 * x))
            .fold(f64::MIN, f64::max),
        _ => f64::MIN,
    };
    // A clock whose rate changed with the step (a machine moved to other
    // hardware) shows as the common slopes crossing some segment's
    // envelopes by more than the segment's own lines leave between them:
    // then each segment has its own.
    let shared_ok = sides.len() == 1
        || !sides.iter().any(|s| {
            let own_gap = -cross(s, alone(s)) / 2.0;
            cross(s, lines(s, Some(sf), Some(sb))) > (2.0 * own_gap).max(1_000.0)
        });
    // The common rate itself: the mean of the segments' own rates (the
    // middle of each one's two envelope slopes), weighted by their spans
    // squared (a slope's error goes as 1 / span).  The lined-up envelopes
    // above depend on the step sizes, and a few µs of error in one tilts
    // them: over 32 lab runs with a step this halved the worst drift error
    // (4.8 → 3.2 ppm at 3.4 s of traffic), at the cost of a slightly wider
    // typical one on some pairs.  Only segments seen both ways count, and
    // only those whose own rate is within [`OWN_RATE_SPREAD`] of the
    // lined-up one (a few packets of one GSO burst make a slope of −1);
    // the mean is kept only if no segment's envelopes then cross by more
    // than the lined-up rate lets them, else the lined-up rates stay.
    if sides.len() > 1 && shared_ok {
        let lined = (sf + sb) / 2.0;
        let (mut sum, mut weight) = (0.0, 0.0);
        for s in &sides {
            if let (Some(f), Some(b)) = alone(s) {
                let own = (f.1 + b.1) / 2.0;
                if (own - lined).abs() <= OWN_RATE_SPREAD {
                    let w = (s.x1 - s.x0).powi(2);
                    sum += w * own;
                    weight += w;
                }
            }
        }
        if weight > 0.0 {
            let mean = sum / weight;
            let worse = sides.iter().any(|s| {
                let allowed = cross(s, lines(s, Some(sf), Some(sb))).max(0.0) + 1_000.0;
                cross(s, lines(s, Some(mean), Some(mean))) > allowed
            });
            if !worse {
                (sf, sb) = (mean, mean);
            }
        }
    }
    let mut out = Vec::with_capacity(sides.len());
    for (s, &start) in sides.iter().zip(starts) {
        let (f, b) = if sides.len() > 1 && shared_ok {
            lines(s, Some(sf), Some(sb))
        } else {
            alone(s)
        };
        let ((a0, a1), bound) = match (f, b) {
            (Some(lf), Some(lb)) => {
                let mid = ((lf.0 + lb.0) / 2.0, (lf.1 + lb.1) / 2.0);
                // Half the gap between the envelopes over the segment's
                // span: the clock cannot be outside them.
                let gap = |x: f64| ((lf.0 + lf.1 * x) - (lb.0 + lb.1 * x)).abs() / 2.0;
                (mid, gap(s.x0).max(gap(s.x1)))
            }
            // One direction only: the line is the clock plus (or minus)
            // the smallest transit time, which is unknown.
            (Some(l), None) | (None, Some(l)) => (l, 1_000_000.0),
            (None, None) => return None,
        };
        let drift_ppb = (a1 * 1e9).round() as i64;
        if drift_ppb.abs() >= index::DRIFT_LIMIT_PPB {
            return None;
        }
        let at = (start - reference_ns) as f64;
        out.push(SegFit {
            model: ClockModel::new(
                s.base.saturating_add((a0 + a1 * at).round() as i64),
                drift_ppb,
                start,
            ),
            bound,
            both: f.is_some() && b.is_some(),
            points: s.points,
        });
    }
    Some(out)
}

/// A group's sums: of its differences, their count, and of their times
/// (A's clock, from the reference).
type Sums = (i128, u64, i128);

/// Per group (connection pair × 2 + direction) its [`Sums`], in the order
/// the groups first came.  The sums in a vector and only their positions
/// in a hash map: a big pair has some 20,000 groups, and a map of the sums
/// themselves (64 bytes an entry) held its old and new tables at once as
/// it grew, about 3 MiB for a moment in each of the first clock fits that
/// the two big pairs of the bench sessions make at about the same time
/// (a vector grows by `realloc`).
#[derive(Default)]
struct Groups {
    keys: Vec<u32>,
    sums: Vec<Sums>,
    at: rustc_hash::FxHashMap<u32, u32>,
}

impl Groups {
    fn entry(&mut self, g: u32) -> &mut Sums {
        let n = self.sums.len() as u32;
        let k = *self.at.entry(g).or_insert(n);
        if k == n {
            self.keys.push(g);
            self.sums.push((0, 0, 0));
        }
        &mut self.sums[k as usize]
    }
    fn get(&self, g: u32) -> Option<&Sums> {
        self.at.get(&g).map(|&k| &self.sums[k as usize])
    }
    /// The groups in the order they first came.
    fn iter(&self) -> impl Iterator<Item = (u32, &Sums)> {
        self.keys.iter().copied().zip(&self.sums)
    }
}

/// The groups that go from A to B: within a connection the direction
/// whose differences lie higher; alone, those above the trend of the
/// two-way connections' middles at the group's mean time (a drifting clock
/// moves every difference over a capture — 25 ppm is 0.1 ms in 4 s — so
/// the mean of all, `global`, which is used without two such connections,
/// would call a late lone group forward and an early one backward; in a
/// lab run with 5 % loss, DNS queries whose answers were lost did).
fn directions(groups: &Groups, global: i128) -> rustc_hash::FxHashSet<u32> {
    let mean = |g: u32| groups.get(g).map(|&(d, c, _)| d / i128::from(c.max(1)));
    // (mean time, middle of the two directions' means, weight)
    let middles: Vec<(f64, f64, f64)> = groups
        .iter()
        .filter(|&(g, _)| g & 1 == 0)
        .filter_map(|(g, &(d0, c0, t0))| {
            let &(d1, c1, t1) = groups.get(g | 1)?;
            let m = (d0 / i128::from(c0.max(1)) + d1 / i128::from(c1.max(1))) as f64 / 2.0;
            let n = (c0 + c1) as f64;
            Some(((t0 + t1) as f64 / n, m, n))
        })
        .collect();
    let trend = (middles.len() >= 2)
        .then(|| {
            let w: f64 = middles.iter().map(|m| m.2).sum();
            let (mt, mm) = middles
                .iter()
                .fold((0.0, 0.0), |a, m| (a.0 + m.2 * m.0, a.1 + m.2 * m.1));
            let (mt, mm) = (mt / w, mm / w);
            let (sxy, sxx) = middles.iter().fold((0.0, 0.0), |a, m| {
                (
                    a.0 + m.2 * (m.0 - mt) * (m.1 - mm),
                    a.1 + m.2 * (m.0 - mt).powi(2),
                )
            });
            // Clocks do not drift by a thousandth: a slope beyond that is
            // noise between middles close in time.
            let slope = sxy / sxx;
            (sxx > 0.0 && slope.abs() < 1e-3).then_some((mt, mm, slope))
        })
        .flatten();
    groups
        .iter()
        .filter(|&(g, &(d, c, t))| {
            let own = d / i128::from(c.max(1));
            match mean(g ^ 1) {
                Some(other) if other != own => own > other,
                _ => match trend {
                    Some((mt, mm, slope)) => {
                        own as f64 >= mm + slope * (t as f64 / c.max(1) as f64 - mt)
                    }
                    None => own >= global,
                },
            }
        })
        .map(|(g, _)| g)
        .collect()
}

/// The sums of the groups of one connection (group >> 1), both directions,
/// in the order they first came: [`fit_iter`]'s first pass looks up the
/// hash map once per connection instead of once per sample.
#[derive(Default)]
struct GroupRun {
    conn: Option<u32>,
    /// (group, sums), at most the two directions.
    groups: Vec<(u32, Sums)>,
}

impl GroupRun {
    /// The sums of `group`, its connection's run started if it is new
    /// (the last one's added to `raw`).
    fn sums(&mut self, group: u32, raw: &mut Groups) -> &mut Sums {
        if self.conn != Some(group >> 1) {
            self.flush(raw);
            self.conn = Some(group >> 1);
        }
        let k = match self.groups.iter().position(|(g, _)| *g == group) {
            Some(k) => k,
            None => {
                self.groups.push((group, (0, 0, 0)));
                self.groups.len() - 1
            }
        };
        &mut self.groups[k].1
    }

    /// Adds the run's sums to `raw`, in the order its groups came.
    fn flush(&mut self, raw: &mut Groups) {
        for (g, (d, c, t)) in self.groups.drain(..) {
            let e = raw.entry(g);
            e.0 += d;
            e.1 += c;
            e.2 += t;
        }
        self.conn = None;
    }
}

/// How many decimal zeros a time stamp ends in (at most 9).
fn decimal_zeros(mut t: i64) -> usize {
    let mut k = 0;
    while k < 9 && t % 10 == 0 {
        t /= 10;
        k += 1;
    }
    k
}

/// A clock's resolution from its readings' decimal zeros: the largest
/// power of ten that at least 999 in 1000 of them are multiples of (as
/// [`crate::table::clock_resolution`] judges a whole capture).
fn clock_step(zeros: &[u64; 10]) -> i64 {
    let n: u64 = zeros.iter().sum();
    // Readings with fewer than k zeros are not multiples of 10^k.
    let mut fewer = 0;
    let mut r = 1i64;
    for k in 1..zeros.len() {
        fewer += zeros[k - 1];
        if fewer * 1000 > n {
            break;
        }
        r *= 10;
    }
    r
}

/// Fits the clock model from A to B; `reference_ns` (on A's clock) is
/// where the first segment's offset is given.  None without samples.
pub fn fit(samples: &[Sample], reference_ns: i64) -> Option<ClockFit> {
    fit_iter(samples.iter().copied(), reference_ns)
}

/// [`fit`] over an iterator that can be walked several times (nothing per
/// sample is kept: per group and segment a sum, per bucket the extremes).
pub fn fit_iter<I: Iterator<Item = Sample> + Clone>(
    samples: I,
    reference_ns: i64,
) -> Option<ClockFit> {
    // Pass 1: the records' span at A, for buckets in frame order, and per
    // group the sum of the differences.
    let (mut lo_ia, mut hi_ia, mut n) = (u32::MAX, 0u32, 0u64);
    let mut raw: Groups = Default::default();
    let mut total = 0i128;
    // Per point, how many readings end in k decimal zeros (up to 9): the
    // coarser clock's resolution (outliers.rs).
    let mut zeros = [[0u64; 10]; 2];
    // A connection's samples come together, both directions interleaved:
    // their sums are gathered here and go into `raw` when the next
    // connection's begin (in the order the groups first came, so that the
    // map is the one adding them one by one made).
    let mut run = GroupRun::default();
    for s in samples.clone() {
        zeros[0][decimal_zeros(s.ta)] += 1;
        zeros[1][decimal_zeros(s.ta + s.delta)] += 1;
        lo_ia = lo_ia.min(s.ia);
        hi_ia = hi_ia.max(s.ia);
        n += 1;
        let g = run.sums(s.group, &mut raw);
        g.0 += i128::from(s.delta);
        g.1 += 1;
        g.2 += i128::from(s.ta - reference_ns);
        total += i128::from(s.delta);
    }
    run.flush(&mut raw);
    if n == 0 {
        return None;
    }
    let resolution = clock_step(&zeros[0]).max(clock_step(&zeros[1]));
    let x = |s: &Sample| (s.ta - reference_ns) as f64;
    let width = u64::from(hi_ia - lo_ia) / BUCKETS + 1;
    let k = (u64::from(hi_ia - lo_ia) / width + 1) as usize;
    let bucket = |s: &Sample| ((u64::from(s.ia - lo_ia) / width) as usize).min(k - 1);
    // Pass 2: per bucket the range of all differences, whatever their
    // direction, and the candidate steps in it; and the envelopes as if
    // there were none (directions by the groups' means), which is all
    // there is to do when none is found.
    let global = total / i128::from(n);
    let fwd = directions(&raw, global);
    let mut bands: Vec<Option<Band>> = vec![None; k];
    let mut one = vec![Bucket::default(); k];
    // fwd's answer for both directions of the last connection looked up.
    let mut last: Option<(u32, [bool; 2])> = None;
    let mut forward = |g: u32| {
        let c = g >> 1;
        let both = match last {
            Some((lc, both)) if lc == c => both,
            _ => {
                let both = [fwd.contains(&(c << 1)), fwd.contains(&(c << 1 | 1))];
                last = Some((c, both));
                both
            }
        };
        both[(g & 1) as usize]
    };
    for s in samples.clone() {
        one[bucket(&s)].add(&s, forward(s.group), x(&s));
        let b = &mut bands[bucket(&s)];
        *b = Some(match *b {
            None => Band {
                lo: s.delta,
                hi: s.delta,
                tmin: s.ta,
                tmax: s.ta,
            },
            Some(b) => Band {
                lo: b.lo.min(s.delta),
                hi: b.hi.max(s.delta),
                tmin: b.tmin.min(s.ta),
                tmax: b.tmax.max(s.ta),
            },
        });
    }
    let (mut cuts, trend) = candidates(&bands);
    drop(bands);
    drop(raw);
    let mut without_steps = cuts.is_empty().then_some(one);
    loop {
        let mut per = match without_steps.take() {
            Some(one) => vec![one],
            None => {
                // A sample's segment: by its bucket, and in a cut's own
                // bucket by the nearer level.
                let seg_of = |s: &Sample| -> usize {
                    let b = bucket(s);
                    let mut i = cuts.iter().take_while(|c| c.bucket < b).count();
                    if let Some(c) = cuts.get(i).filter(|c| c.bucket == b) {
                        i += usize::from(s.delta.abs_diff(c.right) < s.delta.abs_diff(c.left));
                    }
                    i
                };
                // Pass 3: per group and segment the sum of the differences:
                // per group their mean distance from its segments' means.
                // Within a connection the direction lying higher goes A → B.
                let mut sums: rustc_hash::FxHashMap<(u32, usize), (i128, u64, i128)> =
                    Default::default();
                let mut seg_sum = vec![(0i128, 0u64); cuts.len() + 1];
                for s in samples.clone() {
                    let i = seg_of(&s);
                    let e = sums.entry((s.group, i)).or_default();
                    e.0 += i128::from(s.delta);
                    e.1 += 1;
                    e.2 += i128::from(s.ta - reference_ns);
                    seg_sum[i].0 += i128::from(s.delta);
                    seg_sum[i].1 += 1;
                }
                let seg_mean: Vec<i128> = seg_sum
                    .iter()
                    .map(|&(t, c)| t / i128::from(c.max(1)))
                    .collect();
                let mut groups: Groups = Default::default();
                let mut global = 0i128;
                for (&(g, i), &(t, c, ts)) in &sums {
                    let r = t - i128::from(c) * seg_mean[i];
                    let e = groups.entry(g);
                    e.0 += r;
                    e.1 += c;
                    e.2 += ts;
                    global += r;
                }
                drop(sums);
                let global = global / i128::from(n);
                let fwd = directions(&groups, global);
                // Pass 4: per segment and bucket the forward minimum and the
                // backward maximum.
                let mut per: Vec<Vec<Bucket>> = vec![vec![Bucket::default(); k]; cuts.len() + 1];
                for s in samples.clone() {
                    per[seg_of(&s)][bucket(&s)].add(&s, fwd.contains(&s.group), x(&s));
                }
                per
            }
        };
        for bs in per.iter_mut() {
            outliers::drop_impossible(bs, resolution);
        }
        // The directions must confirm each step (causality), and segments
        // start at later records than the one before at both points; else
        // the cut goes and the passes are done again.
        // A pair seen both ways must see both ways around each step: a
        // cut next to a stretch with one direction only (a queue that
        // built up and drained while only the other way was matched) is
        // unconfirmed, and goes.  Seen one way only, size alone tells.
        let two_way = per.iter().flatten().any(|b| b.lo.is_some())
            && per.iter().flatten().any(|b| b.hi.is_some());
        let refuted =
            (0..cuts.len()).find(
                |&i| match confirmed(&cuts[i], &per[i], &per[i + 1], &trend) {
                    Some(ok) => !ok,
                    None => two_way,
                },
            );
        let first = |bs: &[Bucket]| {
            let a = bs.iter().map(|b| b.first_a).min_by_key(|f| f.0)?;
            let b = bs.iter().map(|b| b.first_b).min()?;
            (a.0 != u32::MAX && b != u32::MAX).then_some((a, b))
        };
        let fs: Vec<Option<((u32, i64), u32)>> = per.iter().map(|p| first(p)).collect();
        let disordered = (1..fs.len()).find(|&i| match (fs[i - 1], fs[i]) {
            (Some((pa, pb)), Some((na, nb))) => na.0 <= pa.0 || nb <= pb,
            _ => true,
        });
        if let Some(i) = refuted.or(disordered.map(|i| i - 1)) {
            cuts.remove(i);
            continue;
        }
        let starts: Vec<i64> = std::iter::once(reference_ns)
            .chain(fs[1..].iter().flatten().map(|f| f.0 .1))
            .collect();
        let firsts: Vec<(u32, u32)> = std::iter::once((0, 0))
            .chain(fs[1..].iter().flatten().map(|f| (f.0 .0, f.1)))
            .collect();
        // Where each segment's predecessor was last seen, on A's clock.
        let befores: Vec<i64> = std::iter::once(0)
            .chain(per[..per.len() - 1].iter().map(|bs| {
                bs.iter()
                    .filter(|b| b.n > 0)
                    .map(|b| b.last_a)
                    .max_by_key(|l| l.0)
                    .map_or(0, |l| l.1)
            }))
            .collect();
        // No fit with these segments (a stretch so short that its slope
        // is absurd): the step next to the smallest goes, and with no step
        // left the whole pair is fitted as one, as without candidates.
        let Some(fits) = fit_segments(&per, reference_ns, &starts) else {
            if cuts.is_empty() {
                return None;
            }
            let sizes: Vec<u64> = per.iter().map(|p| p.iter().map(|b| b.n).sum()).collect();
            let smallest = (0..sizes.len()).min_by_key(|&i| sizes[i]).unwrap_or(0);
            cuts.remove(smallest.min(cuts.len() - 1));
            continue;
        };
        // A step the fitted models do not show (their difference at the
        // segment's start within their bounds, or below the smallest step
        // looked for) is none: the segments are one.
        let slight = (1..fits.len()).find(|&i| {
            let at = starts[i];
            let size = fits[i]
                .model
                .difference_at(at)
                .abs_diff(fits[i - 1].model.difference_at(befores[i]));
            (size as f64) <= (fits[i].bound + fits[i - 1].bound).max(STEP_MIN_NS)
        });
        if let Some(i) = slight {
            cuts.remove(i - 1);
            continue;
        }
        let both = fits.iter().all(|f| f.both);
        let points = fits.iter().map(|f| f.points).sum();
        let list: Vec<Segment> = fits
            .iter()
            .zip(&firsts)
            .zip(starts.iter().zip(&befores))
            .map(|((f, &(a, b)), (&from, &before))| Segment {
                from_a: a,
                from_b: b,
                from_ns: from,
                before_ns: before,
                model: f.model,
                bound_ns: f.bound.round() as u64,
            })
            .collect();
        return Some(ClockFit::from_segments(&list, points, both));
    }
}

/// Composes two clock models: A → M then M → B, as one A → B model.
fn compose_models(ab: &ClockModel, mb: &ClockModel, at: i64) -> ClockModel {
    let off = mb.peer_time(ab.peer_time(at)) - at;
    ClockModel::new(off, ab.drift_ppb() + mb.drift_ppb(), at)
}

/// The composition of A → M and M → B fits.  Without steps, one model;
/// with steps, [`Composer`] decides the segments from the joined packets.
pub fn compose(ab: &ClockFit, mb: &ClockFit) -> ClockFit {
    let r = ab.model.reference_ns();
    ClockFit::single(
        compose_models(&ab.model, &mb.model, r),
        ab.bound_ns + mb.bound_ns,
        ab.points.min(mb.points),
        ab.both_ways && mb.both_ways,
    )
}

/// Composes two fits with steps, one joined packet at a time: each packet,
/// through its frame at M, lies in one segment of each hop; the composed
/// segments are those pairs, in A's frame order, neighbours whose models
/// agree within their bounds merged (a step of M's own clock cancels).
pub struct Composer<'a> {
    ab: &'a ClockFit,
    mb: &'a ClockFit,
    /// Per (i, j): packets, first record at A, first record at B.
    seen: Vec<(u64, u32, u32)>,
}

impl<'a> Composer<'a> {
    /// None when neither hop has a step ([`compose`] is then exact).
    pub fn new(ab: &'a ClockFit, mb: &'a ClockFit) -> Option<Composer<'a>> {
        (ab.steps() + mb.steps() > 0).then(|| Composer {
            ab,
            mb,
            seen: vec![(0, u32::MAX, u32::MAX); ab.segments().len() * mb.segments().len()],
        })
    }

    /// A packet seen at A's record `a`, M's record `m` and B's record `b`.
    pub fn add(&mut self, a: u32, m: u32, b: u32) {
        let (i, j) = (self.ab.seg_index_b(m), self.mb.seg_index_a(m));
        let e = &mut self.seen[i * self.mb.segments().len() + j];
        e.0 += 1;
        e.1 = e.1.min(a);
        e.2 = e.2.min(b);
    }

    pub fn finish(self) -> ClockFit {
        let nj = self.mb.segments().len();
        let mut used: Vec<(usize, usize, u32, u32)> = self
            .seen
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0 > 0)
            .map(|(k, e)| (k / nj, k % nj, e.1, e.2))
            .collect();
        used.sort_by_key(|u| u.2);
        let both = self.ab.both_ways && self.mb.both_ways;
        let points = self.ab.points.min(self.mb.points);
        let mut out: Vec<Segment> = Vec::new();
        let mut prev: Option<(usize, usize)> = None;
        for (i, j, fa, fb) in used {
            let (x, y) = (&self.ab.segments()[i], &self.mb.segments()[j]);
            // Where it starts on A's clock: where A's segment starts, or
            // where M's does, seen from A (and likewise where the one
            // before was last seen).
            let (from, before) = match prev {
                None => (self.ab.model.reference_ns(), 0),
                Some((pi, _)) if pi != i => (x.from_ns, x.before_ns),
                Some((pi, _)) => {
                    let back = self.ab.segments()[pi].model.inverse();
                    (
                        x.model.inverse().peer_time(y.from_ns),
                        back.peer_time(y.before_ns),
                    )
                }
            };
            // Where it starts at A and B: at the first joined packet, or
            // earlier where the hop whose segment changed saw the step (a
            // step of A's clock is seen at A-M's first match after it,
            // often well before the first packet that also crossed M-B).
            let (from_a, from_b) = match prev {
                None => (0, 0),
                Some((pi, pj)) => (
                    if pi != i { fa.min(x.from_a) } else { fa },
                    if pj != j { fb.min(y.from_b) } else { fb },
                ),
            };
            let seg = Segment {
                from_a,
                from_b,
                from_ns: from,
                before_ns: before,
                model: compose_models(&x.model, &y.model, from),
                bound_ns: x.bound_ns + y.bound_ns,
            };
            // Which hop changed is judged against the pair of segments just
            // seen, merged or not (a step of M's own clock changes both and
            // cancels; the next change is another clock's).
            prev = Some((i, j));
            if let Some(last) = out.last() {
                let agree = seg
                    .model
                    .difference_at(from)
                    .abs_diff(last.model.difference_at(from))
                    <= (last.bound_ns + seg.bound_ns).max(STEP_MIN_NS as u64);
                if agree || from_a <= last.from_a || from_b <= last.from_b {
                    continue;
                }
            }
            out.push(seg);
        }
        if out.is_empty() {
            return compose(self.ab, self.mb);
        }
        ClockFit::from_segments(&out, points, both)
    }
}

mod outliers;
#[cfg(test)]
mod tests;
