//! pktmatch's matching engine: finds the same packet in captures taken at
//! several points of a path (client side first) and fills an
//! [`index::IndexBuilder`].  Knows nothing of Wireshark or of the command
//! line.
//!
//! Stages, each over flow-partitioned data so the work stays linear in
//! packets (the method: shared/research/matching.md and Offord's talk):
//!
//! 1. [`table`] — extract: one pass per capture, 40 bytes per frame, frames
//!    grouped by connection.
//! 2. [`pairing`] — pair connections of adjacent points by NAT-invariant
//!    packet keys (tier 1), then by content within a time window (tier 2).
//! 3. [`packets`] — match packets within each connection pair (sequence,
//!    timestamp and IP ID translation learnt per direction; TSO/GSO/GRO
//!    containment); [`proxy`] links the front and back connections of a
//!    full proxy by HTTP request lines, or TLS turns and timing.
//! 4. [`clock`] — offset and drift per pair from the matches.
//! 5. losses (a matched connection's packet missing at the next point) and
//!    [`via`] — matches between non-adjacent points through the points in
//!    between.

mod answered;
pub mod beside;
pub mod clock;
mod fill;
pub mod in_order;
mod marks;
pub mod methods;
pub mod order;
pub mod packets;
pub mod pairing;
pub mod payload;
pub mod proxy;
mod reconcile;
mod spread;
pub mod table;
pub mod via;
pub mod wire;

#[cfg(test)]
mod tests;

use clock::{ClockFit, Sample};
use index::{
    Endpoints, IndexBuilder, LossKind, Missing, PairSpec, SeqOffsets, TranslationKind,
    TranslationSpec,
};
use marks::Marks;
use packets::PacketMatch;
use pairing::ConnPair;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use table::PointTable;

/// One capture point.
#[derive(Clone, Debug)]
pub struct Input {
    pub label: String,
    pub path: PathBuf,
    /// Where the caller got it among its inputs (from 0), when the points
    /// are not in that order.
    pub given: Option<u16>,
}

/// What the engine tells its caller while it works.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// Reading point `point`: `done` of `total` bytes.
    Reading { point: u16, done: u64, total: u64 },
    /// A stage starts.
    Stage(&'a str),
}

/// Tuning knobs (defaults suit LANs to intercontinental WANs).
#[derive(Clone, Debug)]
pub struct Options {
    /// Tier 2 connection pairing and proxy linking accept time differences
    /// this far from the clock model.
    pub window_ns: i64,
    /// The path order stated by the user (the inputs' labels, client side
    /// first); None: inferred from the data (order.rs).
    pub path: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            window_ns: 2_000_000_000,
            path: None,
        }
    }
}

/// Results for one pair of points.
#[derive(Clone, Debug, Default)]
pub struct PairSummary {
    pub a: u16,
    pub b: u16,
    pub adjacent: bool,
    /// Connections paired by tier 1 (NAT-invariant keys), tier 2 (content
    /// in a time window) and by the proxy stage.
    pub conns_tier1: u32,
    pub conns_tier2: u32,
    pub conns_proxy: u32,
    /// Matches per method id.
    pub by_method: Vec<(u8, u64)>,
    pub clock: Option<ClockFit>,
    /// Packets seen at one point and not at the other, by why.
    pub missing: Missing,
    pub translations: u32,
}

/// Results of a whole run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Per point, in path order: its label, frames, and capture drops,
    /// clock resolution, encapsulations.
    pub labels: Vec<String>,
    pub packets: Vec<u64>,
    pub details: Vec<index::PointDetails>,
    /// How the order was found, the evidence, topology warnings.
    pub order: Option<order::Order>,
    pub pairs: Vec<PairSummary>,
    /// Captures that ended in damaged data (read up to there).
    pub warnings: Vec<String>,
    /// What the user should know about this run that is not in the index
    /// (e.g. the frame checks kept in memory for want of a temporary file).
    pub notes: Vec<String>,
}

/// Matches of one point pair, as rec indexes (frame − 1).
pub(crate) struct PairMatches {
    pub a: u16,
    pub b: u16,
    pub matches: Vec<PacketMatch>,
    pub clock: Option<ClockFit>,
}

impl PairMatches {
    /// A placeholder left where a pair's matches were taken out.
    fn empty() -> PairMatches {
        PairMatches {
            a: 0,
            b: 0,
            matches: Vec::new(),
            clock: None,
        }
    }
}

/// Runs `f(0..n)` on up to `workers` threads (work taken in order, results
/// in order), calling `tick` on this thread about every 100 ms until all are
/// done.  A panic in `f` is raised again here once every thread is joined.
/// A thread the system will not start is one fewer; with none, this thread
/// does the work (and ticks after each item).
pub fn parallel<R: Send>(
    n: usize,
    workers: usize,
    f: impl Fn(usize) -> R + Sync,
    mut tick: impl FnMut(),
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let workers = workers.clamp(1, n.max(1));
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        // Each worker holds a sender: when the last one is dropped (every
        // worker returned, or panicked and unwound), the wait below ends at
        // once (it polled every 2 ms, and each stage lost up to that much).
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let (next, results, f) = (&next, &results, &f);
        let work = move |done: &std::sync::mpsc::Sender<()>, tick: &mut dyn FnMut()| loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= n {
                break;
            }
            let r = f(k);
            if let Ok(mut v) = results.lock() {
                v[k] = Some(r);
            }
            let _ = done.send(());
            tick();
        };
        let started = (0..workers)
            .filter(|_| {
                let done = done.clone();
                std::thread::Builder::new()
                    .spawn_scoped(s, move || work(&done, &mut || {}))
                    .is_ok()
            })
            .count();
        if started == 0 {
            work(&done, &mut tick);
        }
        drop(done);
        let period = std::time::Duration::from_millis(100);
        let mut last = std::time::Instant::now();
        // (Done here: ticked after each item already.)
        if started > 0 {
            tick();
        }
        loop {
            let left = period.saturating_sub(last.elapsed());
            if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
                finished.recv_timeout(left)
            {
                break;
            }
            if last.elapsed() >= period {
                last = std::time::Instant::now();
                tick();
            }
        }
    });
    // A worker that panicked left its slot empty, and scope() re-raised
    // its panic when it joined the threads: every slot is filled here.
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Captures read at once, and threads a capture may be read on (the
/// cores, at most 8).
pub fn reading_workers() -> usize {
    workers()
}

/// Threads to use: the machine's cores (at most 8; reading is memory bound).
///
/// Asked once: `available_parallelism` reads the cgroup's files each time
/// (0.4 ms here), and spread.rs asks before every run of connection pairs.
fn workers() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
}

/// The threads the `k`-th of `n` files started is read on (the rule is
/// said where [`run_on`] reads the points), `size` of `total` bytes.
fn reading_threads(n: usize, k: usize, workers: usize, size: u64, total: u64) -> usize {
    match n >= workers {
        _ if size > total / 2 => workers,
        true if k < workers => 1,
        true => workers,
        false => workers.saturating_sub(n - 1 - k).max(1),
    }
}

/// Reads every input, matches, and fills a new index builder.
pub fn run(
    inputs: &[Input],
    options: &Options,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(IndexBuilder, Summary), String> {
    run_on(inputs, options, progress, &Threads)
}

/// [`run`] with the matching stage run by `stage`.
pub fn run_on(
    inputs: &[Input],
    options: &Options,
    progress: &mut dyn FnMut(Progress<'_>),
    stage: &dyn PairStage,
) -> Result<(IndexBuilder, Summary), String> {
    if inputs.len() < 2 {
        return Err("at least two capture points are needed".into());
    }
    let mut sizes = Vec::with_capacity(inputs.len());
    for input in inputs {
        let size = std::fs::metadata(&input.path)
            .map_err(|e| format!("{}: {e}", input.path.display()))?
            .len();
        sizes.push(size);
    }
    // The stated order is checked before the captures are read, and the
    // stage's memory.
    stated_order(inputs, options)?;
    stage.before_reading(inputs)?;

    // Stage 1, the points in parallel.
    let read: Vec<AtomicU64> = inputs.iter().map(|_| AtomicU64::new(0)).collect();
    for (i, &total) in sizes.iter().enumerate() {
        progress(Progress::Reading {
            point: i as u16,
            done: 0,
            total,
        });
    }
    // With as many files as workers or more, the first files whole, one
    // per worker, and each file started after those (when a worker is done
    // with its first) in pieces on all cores, so that a worker that
    // finishes early helps with the files still being read instead of
    // idling at the end (a pcap file's pieces cost about 3 % more CPU than
    // reading it whole); with fewer, all at once, the k-th on max(1,
    // workers − files after it) threads: the later ones take the cores the
    // earlier ones' ends free.  A file that holds more than half of all
    // the bytes is read in pieces on all cores whatever its turn: the
    // others end long before it, and their cores would idle (a z/OS trace
    // beside a small capture of the network side).
    let workers = workers();
    let total: u64 = sizes.iter().sum();
    let started = AtomicUsize::new(0);
    let results = parallel(
        inputs.len(),
        workers,
        |i| {
            let k = started.fetch_add(1, Ordering::Relaxed);
            let threads = reading_threads(inputs.len(), k, workers, sizes[i], total);
            table::read_point_within(
                &inputs[i].path,
                threads,
                |done| read[i].store(done, Ordering::Relaxed),
                |held| stage.while_reading(i, held),
            )
        },
        || {
            for (i, &total) in sizes.iter().enumerate() {
                let done = read[i].load(Ordering::Relaxed);
                if done > 0 && done < total {
                    progress(Progress::Reading {
                        point: i as u16,
                        done,
                        total,
                    });
                }
            }
        },
    );
    let read_tables = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    stage.after_reading(&read_tables)?;
    run_tables_on(inputs, &sizes, read_tables, options, progress, stage)
}

/// Stages 2–5 on point tables read elsewhere (`read_tables[i]` is
/// `inputs[i]`'s, `sizes[i]` its capture's size in bytes): what [`run`]
/// does once it has read the captures.  The key tables of the `engine`
/// crate (`pktmatch index --keys`) come in here; the index is the one
/// [`run`] writes from the same frames.
pub fn run_tables(
    inputs: &[Input],
    sizes: &[u64],
    read_tables: Vec<PointTable>,
    options: &Options,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(IndexBuilder, Summary), String> {
    run_tables_on(inputs, sizes, read_tables, options, progress, &Threads)
}

/// Matches one adjacent pair of points (stages 2–4 for points k and k + 1
/// in path order); shared, so that an executor may hold it.
pub type PairJob = Arc<dyn Fn(usize) -> Result<PairOutcome, String> + Send + Sync>;

/// What matching one adjacent pair gave (opaque: only this crate reads it).
pub struct PairOutcome(Outcome);

impl PairOutcome {
    /// Packet matches found (for an executor's own accounting).
    pub fn matches(&self) -> usize {
        self.0.matches.matches.len()
    }
    /// Connection pairs found.
    pub fn connections(&self) -> usize {
        self.0.conn_pairs.len()
    }
}

/// Who runs the matching stage: [`run_tables`] on this crate's threads,
/// the `engine` crate as a partition of an Apache DataFusion plan, or on
/// a cluster's workers.
pub trait PairStage: Sync {
    /// `job(k)` for every k in `0..pairs`, the results in that order.  All
    /// clones of `job` must be dropped on return.
    fn run(&self, pairs: usize, job: PairJob) -> Result<Vec<PairOutcome>, String>;

    /// [`PairStage::run`], told what the job is made of: a stage that runs
    /// pairs in other processes cannot send `job` (a closure over this
    /// process's tables), it sends `plan` and has each pair matched there
    /// by [`match_pair`].  By default, `run`.
    fn run_planned(&self, plan: &PairPlan<'_>, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        self.run(plan.pairs(), job)
    }

    /// How many of `pairs` jobs this stage runs at once in this process:
    /// the cores kept for them while they start (spread.rs: a job's
    /// connection pairs get helpers only from the other cores).  By
    /// default, one a core.
    fn jobs_at_once(&self, pairs: usize) -> usize {
        pairs.min(workers())
    }

    /// Before captures are read ([`run_on`]): refuses `inputs` whose
    /// tables would not fit the stage's memory, rather than pass it (an
    /// estimate: `capture::estimate_frames`).  By default, no limit (and
    /// nothing read).
    fn before_reading(&self, inputs: &[Input]) -> Result<(), String> {
        let _ = inputs;
        Ok(())
    }

    /// While capture `point` (of [`run_on`]'s inputs) is read, every
    /// [`table::HELD_EVERY`] frames, before a growth and once finished:
    /// what its table holds ([`table::Held`]; the points are read at once).
    /// An error ends the run: tables that have passed the stage's memory,
    /// which the estimate before reading let through (a capture of more
    /// connections than frames foretold, or one it could not estimate).
    /// By default, no limit.
    fn while_reading(&self, point: usize, held: &table::Held) -> Result<(), String> {
        let _ = (point, held);
        Ok(())
    }

    /// Once captures are read, before matching: the tables as built (their
    /// [`PointTable::heap_bytes`] are known now), refused if they and the
    /// matching stage would not fit.  By default, no limit.
    fn after_reading(&self, tables: &[PointTable]) -> Result<(), String> {
        let _ = tables;
        Ok(())
    }

    /// Tier-1 connection pairing of the points `pairs` names (every pair
    /// of points, while ordering them), in that order: each point's sample
    /// ([`pairing::NatSample`], made once), the join of two samples on the
    /// NAT-invariant key, the votes per pair of connections, and
    /// [`pairing::assign_nat`].  By default the matcher's merge join
    /// ([`pairing::pair_nat_sampled`]) on all cores; a stage that runs the
    /// join itself must give the same pairs.
    fn pair_nat(
        &self,
        tables: &[PointTable],
        pairs: &[(usize, usize)],
    ) -> Result<Vec<Vec<ConnPair>>, String> {
        let samples = parallel(
            tables.len(),
            workers(),
            |i| pairing::NatSample::of(&tables[i]),
            || {},
        );
        Ok(parallel(
            pairs.len(),
            workers(),
            |k| {
                let (i, j) = pairs[k];
                pairing::pair_nat_sampled(&tables[i], &samples[i], &tables[j], &samples[j])
            },
            || {},
        ))
    }
}

/// What the matching stage of one run is made of, for a process that
/// rebuilds the point tables itself (docs/engine.md, "The cluster").
pub struct PairPlan<'a> {
    /// The points in path order (pair k is points k and k + 1).
    pub points: Vec<&'a Input>,
    /// Each adjacent pair's tier-1 connection pairs (found while
    /// ordering, which needs every point: a worker with two cannot).
    pub tier1: &'a [Vec<ConnPair>],
    pub options: &'a Options,
    /// Each point's table as this process read it (path order): a process
    /// that reads a point again checks it read the same.
    pub fingerprints: Vec<table::Fingerprint>,
}

impl PairPlan<'_> {
    /// Adjacent pairs of points.
    pub fn pairs(&self) -> usize {
        self.points.len().saturating_sub(1)
    }
}

/// Stages 2–4 for adjacent pair `k` (points `ta` = k and `tb` = k + 1 in
/// path order, their tier-1 connection pairs `tier1`): what a
/// [`PairJob`] does, for a process that read the two tables itself.
pub fn match_pair(
    ta: &PointTable,
    tb: &PointTable,
    k: usize,
    options: &Options,
    tier1: &[ConnPair],
) -> Result<PairOutcome, String> {
    match_pair_until(ta, tb, k, options, tier1, &NEVER)
}

/// [`match_pair`] that gives up, with the error [`STOPPED`], soon after
/// `stop` is set: between its steps and between connection pairs (a
/// cluster worker whose task's result is no longer awaited stops making
/// it, rather than run beside the task that replaces it).
pub fn match_pair_until(
    ta: &PointTable,
    tb: &PointTable,
    k: usize,
    options: &Options,
    tier1: &[ConnPair],
    stop: &AtomicBool,
) -> Result<PairOutcome, String> {
    match_adjacent_with(ta, tb, k, options, tier1, true, stop, spread::FREE)
        .map(|(o, _)| PairOutcome(o))
}

/// What [`match_pair_until`] returns when it was stopped.
pub const STOPPED: &str = "stopped: the pair's result is no longer wanted";

/// A flag nothing sets (the matcher's own threads are never stopped).
static NEVER: AtomicBool = AtomicBool::new(false);

/// Ok unless `stop` is set.
fn go_on(stop: &AtomicBool) -> Result<(), String> {
    match stop.load(Ordering::Relaxed) {
        true => Err(STOPPED.to_string()),
        false => Ok(()),
    }
}

/// The matching stage on up to 8 threads.
pub struct Threads;

impl PairStage for Threads {
    fn run(&self, pairs: usize, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        parallel(pairs, workers(), |k| job(k), || {})
            .into_iter()
            .collect()
    }

    /// The pair with the fewest tier-1 connection pairs first (a full
    /// proxy's pair has next to none), for the heap: its message linking
    /// then overlaps the start of a big pair's packet matching, not the end
    /// of both big pairs at once (their losses and final clock fits: where
    /// the heap peaked when the three met).  The others largest first, so
    /// that with more pairs than cores a big one does not start last and
    /// run alone (the count of tier-1 pairs stands in for the work).
    fn run_planned(&self, plan: &PairPlan<'_>, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        let mut order: Vec<usize> = (0..plan.pairs()).collect();
        let size = |k: &usize| plan.tier1.get(*k).map_or(0, Vec::len);
        order.sort_by_key(|k| std::cmp::Reverse(size(k)));
        if let Some(smallest) = order.pop() {
            order.insert(0, smallest);
        }
        let ran = parallel(order.len(), workers(), |x| job(order[x]), || {});
        let mut out: Vec<Option<Result<PairOutcome, String>>> = ran.iter().map(|_| None).collect();
        for (&k, r) in order.iter().zip(ran) {
            out[k] = Some(r);
        }
        out.into_iter().flatten().collect()
    }
}

/// [`run_tables`] with the matching stage run by `stage`.
pub fn run_tables_on(
    inputs: &[Input],
    sizes: &[u64],
    read_tables: Vec<PointTable>,
    options: &Options,
    progress: &mut dyn FnMut(Progress<'_>),
    stage: &dyn PairStage,
) -> Result<(IndexBuilder, Summary), String> {
    if inputs.len() < 2 || read_tables.len() != inputs.len() || sizes.len() != inputs.len() {
        return Err("at least two capture points are needed, each with its table".into());
    }
    let mut builder = IndexBuilder::new();
    for &(id, name) in methods::ALL {
        builder.set_method(id, name).map_err(|e| e.to_string())?;
    }
    let stated = stated_order(inputs, options)?;
    let mut summary = Summary::default();
    for t in &read_tables {
        if let Some(w) = &t.truncated {
            summary.warnings.push(w.clone());
        }
    }
    refuse_same_capture(inputs, &read_tables)?;
    for (t, input) in read_tables.iter().zip(inputs) {
        if t.checks.without_file() {
            summary.notes.push(format!(
                "{}: no temporary file could be made for its frame checks (TMPDIR): they stayed \
                 in memory, 4 more bytes a frame",
                input.label
            ));
        }
    }

    // The path order, from the data (or stated and checked against it).
    progress(Progress::Stage("ordering"));
    let labels: Vec<String> = inputs.iter().map(|i| i.label.clone()).collect();
    let (mut tier1, evidence) = order::gather(&read_tables, stage)?;
    let found = order::decide(&labels, &evidence, stated.as_deref())?;
    let perm = found.perm.clone();
    let mut slots: Vec<Option<PointTable>> = read_tables.into_iter().map(Some).collect();
    let tables: Vec<PointTable> = perm
        .iter()
        .map(|&i| slots[i].take().ok_or("internal error: order"))
        .collect::<Result<_, _>>()?;
    // The adjacent pairs' tier-1 connection pairs, found while ordering.
    let adjacent_tier1: Vec<Vec<ConnPair>> = perm
        .windows(2)
        .map(|w| {
            let (i, j) = (w[0], w[1]);
            let pairs = tier1.remove(&(i.min(j), i.max(j))).unwrap_or_default();
            if i < j {
                pairs
            } else {
                pairs
                    .into_iter()
                    .map(|p| ConnPair {
                        a: p.b,
                        b: p.a,
                        ..p
                    })
                    .collect()
            }
        })
        .collect();
    drop(tier1);
    for (k, &i) in perm.iter().enumerate() {
        let input = &inputs[i];
        builder
            .add_point(&input.label, &input.path.to_string_lossy(), sizes[i])
            .map_err(|e| format!("{}: {e}", input.label))?;
        let t = &tables[k];
        let details = index::PointDetails {
            capture_drops: 0,
            clock_resolution_ns: table::clock_resolution(&t.ts),
            // capture::keys::encap has the index's bits (the low 8).
            encapsulations: u32::from(t.encap),
            given_position: input.given.unwrap_or(i as u16),
        };
        builder
            .set_point_details(k as u16, details)
            .map_err(|e| e.to_string())?;
        summary.details.push(details);
        summary.labels.push(input.label.clone());
        summary.packets.push(t.recs.len() as u64);
    }

    // Stages 2-5 per adjacent pair, the pairs in parallel.
    progress(Progress::Stage("matching"));
    let n = tables.len();
    let fingerprints = tables.iter().map(PointTable::fingerprint).collect();
    let shared = Arc::new((tables, adjacent_tier1, options.clone()));
    let job: PairJob = {
        let s = Arc::clone(&shared);
        Arc::new(move |a| {
            let (tables, tier1, options) = &*s;
            match_adjacent(&tables[a], &tables[a + 1], a, options, &tier1[a]).map(PairOutcome)
        })
    };
    let plan = PairPlan {
        points: perm.iter().map(|&i| &inputs[i]).collect(),
        tier1: &shared.1,
        options,
        fingerprints,
    };
    let kept = spread::Kept::for_jobs(stage.jobs_at_once(n - 1));
    let outcomes = stage.run_planned(&plan, job);
    drop(kept);
    let outcomes = outcomes?;
    drop(plan);
    if outcomes.len() != n - 1 {
        return Err("internal error: the matching stage lost a pair of points".into());
    }
    let (mut tables, _, _) = Arc::try_unwrap(shared)
        .map_err(|_| "internal error: the matching stage kept the point tables")?;
    tables.iter_mut().for_each(PointTable::matched);
    let mut outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.0).collect();

    // Non-adjacent pairs: composed through the points between, and matched
    // directly where those did not capture the packet (fill.rs).
    progress(Progress::Stage("composing"));
    let hops = {
        let list: Vec<(&PairMatches, &[ConnPair])> = outcomes
            .iter()
            .map(|o| (&o.matches, o.conn_pairs.as_slice()))
            .collect();
        fill::Hops::new(&tables, &list)
    };
    let counts: Vec<usize> = tables.iter().map(|t| t.recs.len()).collect();
    let mut adjacent: Vec<PairMatches> = outcomes
        .iter_mut()
        .map(|o| std::mem::replace(&mut o.matches, PairMatches::empty()))
        .collect();
    // The direct matches first, while the tables are whole; each pair's
    // clock then is its hops' composed.
    // The pairs (i, j) and their hops' clocks composed, then every pair's
    // direct matches on all cores; the drops in the same (i, j) order.
    let mut direct_pairs = Vec::new();
    for i in 0..n {
        let mut clock = adjacent.get(i).and_then(|pm| pm.clock);
        for j in i + 2..n {
            clock = match (clock, adjacent[j - 1].clock) {
                (Some(x), Some(y)) => Some(clock::compose(&x, &y)),
                _ => None,
            };
            direct_pairs.push((i, j, clock));
        }
    }
    let direct = parallel(
        direct_pairs.len(),
        workers(),
        |k| {
            let (i, j, clock) = &direct_pairs[k];
            let mut drops = Vec::new();
            let m = fill::direct(
                &tables[*i],
                &tables[*j],
                *i,
                *j,
                &hops,
                clock.as_ref(),
                &mut drops,
            );
            (m, drops)
        },
        || {},
    );
    let mut drop_entries: Vec<fill::NotSeen> = Vec::new();
    let mut fills: rustc_hash::FxHashMap<(u16, u16), Vec<PacketMatch>> = Default::default();
    for (&(i, j, _), (m, mut drops)) in direct_pairs.iter().zip(direct) {
        drop_entries.append(&mut drops);
        if !m.is_empty() {
            fills.insert((i as u16, j as u16), m);
        }
    }
    drop(hops);
    progress(Progress::Stage("composing: joining hops"));
    // What composition's anchor rule reads of the frames linked to a proxy
    // anchor (sequence number, length), kept before the tables shrink.
    let needed = anchor_frames(&tables, &adjacent, &fills);
    progress(Progress::Stage("composing: tables to frames"));
    let (ranges, frames) = to_frames(tables, needed)?;
    progress(Progress::Stage("composing: via"));
    // Both owned by what via is given, so freed when it returns.
    let range = move |p: u16, r: u32| ranges.get(p, r);
    let fills = Mutex::new(fills);
    let fills_of = move |i, j, _: Option<&ClockFit>, _: &[PacketMatch]| {
        fills
            .lock()
            .map(|mut f| f.remove(&(i, j)).unwrap_or_default())
            .unwrap_or_default()
    };
    // A pair's own matches may fit its clock better than the composition
    // of the hops' models (whose errors add up): the tighter bound wins
    // (below).  Each fit reads the pair's matches and the two points'
    // frames only: made as soon as via has the pair, while other rows join.
    let fit = |pm: &PairMatches| {
        let (fa, fb) = (&frames[pm.a as usize], &frames[pm.b as usize]);
        let s = pm
            .matches
            .iter()
            .filter(|m| m.method != methods::DUPLICATE)
            .map(|m| {
                let ta = fa.ts.get(m.a);
                Sample {
                    ta,
                    delta: fb.ts.get(m.b) - ta,
                    group: fa.conn[m.a as usize] << 1 | u32::from(m.dir),
                    ia: m.a,
                    ib: m.b,
                }
            });
        clock::fit_iter(s, fa.first_ts).filter(|c| c.both_ways)
    };
    // Meanwhile another thread widens the time stamps to the builder's 8
    // bytes a frame (via's rows are uneven, so a core idles for part of it;
    // the checks are read back after, not to raise the heap's peak).  Once
    // every pair is joined, the losses are settled while the last pairs'
    // fits still run (one of them ran alone at the end).
    let mut lost: Vec<fill::NotSeen> = drop_entries;
    for o in &mut outcomes {
        lost.append(&mut o.lost);
    }
    let scoped = std::thread::scope(|s| -> Result<_, String> {
        let frames = &frames;
        let widening = beside::beside(s, || {
            frames.iter().map(|f| f.ts.to_vec()).collect::<Vec<_>>()
        });
        let pending = via::compose(s, &counts, &adjacent, range, fills_of, &fit);
        let composed_now: Vec<&PairMatches> = pending.pairs.iter().map(|pm| &**pm).collect();
        let settled = settle(
            &mut builder,
            &mut summary,
            outcomes,
            &adjacent,
            &composed_now,
            lost,
            progress,
        )?;
        drop(composed_now);
        progress(Progress::Stage("composing: clock fits"));
        let made = pending.finish()?;
        let wide = widening
            .join()
            .map_err(|_| "internal error: widening the time stamps failed")?;
        Ok((made, wide, settled))
    });
    let (made, wide, settled) = scoped?;
    let (mut composed, fits): (Vec<PairMatches>, Vec<Option<ClockFit>>) = made.into_iter().unzip();
    let Settled {
        adjacent_specs,
        missing,
        lost,
    } = settled;

    let mut direct_fits: Vec<(usize, usize, ClockFit)> = Vec::new();
    let mut found = found;
    for (pm, fit) in composed.iter_mut().zip(fits) {
        let composed_bound = pm.clock.map_or(u64::MAX, |c| c.bound_ns);
        if let Some(mut fit) = fit {
            if let Some(composed) = &pm.clock {
                fit.earliest_starts(composed);
            }
            // A measurement of the loop it closes, whatever its bound —
            // unless it spans a full proxy, whose anchors carry the proxy's
            // own time (the hop's fit leaves them out).
            let via_proxy = (pm.a..pm.b).any(|k| {
                summary
                    .pairs
                    .iter()
                    .any(|q| q.a == k && q.b == k + 1 && q.conns_proxy > 0)
            });
            if !via_proxy {
                direct_fits.push((pm.a as usize, pm.b as usize, fit));
            }
            if fit.bound_ns < composed_bound {
                pm.clock = Some(fit);
            }
        }
    }
    // Every pair consistent around the loops those fits make (Huygens).
    let mut hop_clocks: Vec<Option<ClockFit>> = adjacent.iter().map(|pm| pm.clock).collect();
    let t0 = wide[0].iter().min().map_or(0, |t| t / 2) + wide[0].iter().max().map_or(0, |t| t / 2);
    let reconciled = reconcile::reconcile(&mut hop_clocks, &direct_fits, t0, &summary.labels);
    let changed = hop_clocks
        .iter()
        .zip(&adjacent)
        .any(|(h, pm)| h.map(|c| c.model) != pm.clock.map(|c| c.model));
    if changed {
        for (k, pm) in adjacent.iter_mut().enumerate() {
            pm.clock = hop_clocks[k];
            let spec = PairSpec {
                clock: pm.clock.map(|c| c.model),
                offset_error_ns: pm.clock.map_or(0, |c| c.bound_ns),
                ..adjacent_specs[k]
            };
            builder
                .set_pair(pm.a, pm.b, spec)
                .map_err(|e| e.to_string())?;
            if let Some(q) = summary
                .pairs
                .iter_mut()
                .find(|q| (q.a, q.b) == (pm.a, pm.b))
            {
                q.clock = pm.clock;
            }
        }
        // Every other pair: its hops' reconciled clocks composed.
        for pm in &mut composed {
            let (i, j) = (pm.a as usize, pm.b as usize);
            let mut c = hop_clocks[i];
            for h in &hop_clocks[i + 1..j] {
                c = match (c, h) {
                    (Some(x), Some(y)) => Some(clock::compose(&x, y)),
                    _ => None,
                };
            }
            if let Some(c) = c {
                pm.clock = Some(c);
            }
        }
    }
    found.warnings.extend(reconciled.warnings);
    let clock_notes = reconciled.notes;
    progress(Progress::Stage("composing: frames to builder"));
    // The time stamps, widened while via ran, and the checks (read back
    // from their file) go into the builder as they are, then every pair's
    // matches, each turned into the builder's 12-byte form in place and
    // dropped from here as it goes.
    for (i, (f, ts)) in frames.into_iter().zip(wide).enumerate() {
        let checks = f
            .checks
            .to_vec()
            .map_err(|e| format!("{}: reading back the frame checks: {e}", inputs[i].label))?;
        builder
            .add_frames(i as u16, ts, checks)
            .map_err(|e| format!("{}: {e}", inputs[i].label))?;
    }
    for (p, f, at, kind) in lost {
        builder
            .add_lost(p, f, at, kind)
            .map_err(|e| e.to_string())?;
    }
    progress(Progress::Stage("collecting matches"));
    let mut composed_specs = Vec::with_capacity(composed.len());
    for pm in adjacent.into_iter().chain(composed) {
        if pm.b > pm.a + 1 {
            composed_specs.push((pm.a, pm.b, pm.clock, pm.matches.len()));
        }
        let (a, b) = (pm.a, pm.b);
        let matches: Vec<index::builder::PairMatch> = pm
            .matches
            .into_iter()
            .map(|m| index::builder::PairMatch::new(m.a + 1, m.b + 1, m.method, m.conf))
            .collect();
        builder
            .add_pair_matches(a, b, matches)
            .map_err(|e| e.to_string())?;
    }
    builder.prepare();
    for (a, b, clock, matched) in composed_specs {
        let missing = missing.get(&(a, b)).copied().unwrap_or_default();
        let spec = PairSpec {
            clock: clock.map(|c| c.model),
            offset_error_ns: clock.map_or(0, |c| c.bound_ns),
            matched: matched.min(u32::MAX as usize) as u32,
            neighbours: false,
            missing,
        };
        builder.set_pair(a, b, spec).map_err(|e| e.to_string())?;
        if let Some(c) = &clock {
            builder
                .set_clock_segments(a, b, &c.index_segments())
                .map_err(|e| e.to_string())?;
        }
        summary.pairs.push(PairSummary {
            a,
            b,
            adjacent: false,
            by_method: vec![(methods::VIA, matched as u64)],
            clock,
            missing,
            ..Default::default()
        });
    }
    // Nonsense refused: a point none of whose packets was found anywhere
    // else is not part of this session.
    let alone: Vec<String> = (0..n as u16)
        .filter(|&p| {
            !summary
                .pairs
                .iter()
                .any(|q| (q.a == p || q.b == p) && q.by_method.iter().any(|m| m.1 > 0))
        })
        .map(|p| inputs[perm[p as usize]].path.display().to_string())
        .collect();
    if !alone.is_empty() {
        return Err(format!(
            "{} {} no traffic with any other point (not one packet found elsewhere): not part \
             of one session?",
            alone.join(" and "),
            if alone.len() == 1 { "shares" } else { "share" }
        ));
    }
    for q in &summary.pairs {
        if q.by_method.iter().all(|m| m.1 == 0) {
            found.warnings.push(format!(
                "{} and {} share no packet (directly or through the points between)",
                summary.labels[q.a as usize], summary.labels[q.b as usize]
            ));
        }
    }
    builder
        .set_session(index::SessionSpec {
            order: found.source,
            topology: found.topology,
            evidence: found.evidence.join("\n"),
            warnings: found.warnings.join("\n"),
            clocks: clock_notes.join("\n"),
        })
        .map_err(|e| e.to_string())?;
    summary.order = Some(found);
    Ok((builder, summary))
}

/// The stated path (`Options::path`) as input indexes; every point named
/// once.
fn stated_order(inputs: &[Input], options: &Options) -> Result<Option<Vec<usize>>, String> {
    let Some(path) = &options.path else {
        return Ok(None);
    };
    let labels: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    let mut out = Vec::new();
    for l in path {
        let i = labels.iter().position(|x| x == l).ok_or_else(|| {
            format!(
                "--path names {l:?}, which is not a point (points: {})",
                labels.join(", ")
            )
        })?;
        if out.contains(&i) {
            return Err(format!("--path names {l:?} twice"));
        }
        out.push(i);
    }
    if out.len() != inputs.len() {
        let missing: Vec<&str> = (0..inputs.len())
            .filter(|i| !out.contains(i))
            .map(|i| labels[i])
            .collect();
        return Err(format!(
            "--path must name every point; it leaves out {}",
            missing.join(", ")
        ));
    }
    Ok(Some(out))
}

/// Refuses the same capture given twice (the same file, or a copy: the
/// same frames).
fn refuse_same_capture(inputs: &[Input], tables: &[PointTable]) -> Result<(), String> {
    for i in 0..tables.len() {
        for j in i + 1..tables.len() {
            if tables[i].checks.len() == tables[j].checks.len()
                && !tables[i].checks.is_empty()
                && tables[i].checks == tables[j].checks
            {
                return Err(format!(
                    "{} and {} are the same capture (the same {} frames): give each point its own capture",
                    inputs[i].path.display(),
                    inputs[j].path.display(),
                    tables[i].checks.len()
                ));
            }
        }
    }
    Ok(())
}

/// What stage 5 (composition, its clock fits) and the index keep of a
/// point: its time stamps and checks, and each frame's connection (the
/// clock fit's groups).
struct Frames {
    ts: table::Times,
    checks: table::Checks,
    /// Each frame's connection ([`table::NO_CONN`] for none).
    conn: Vec<u32>,
    first_ts: i64,
}

impl From<PointTable> for Frames {
    fn from(t: PointTable) -> Frames {
        let mut conn = vec![table::NO_CONN; t.recs.len()];
        for c in 0..t.conns.len() as u32 {
            for &i in t.packets(c) {
                conn[i as usize] = c;
            }
        }
        Frames {
            conn,
            ts: t.ts,
            checks: t.checks,
            first_ts: t.first_ts,
        }
    }
}

/// The losses, classified now that every pair's matches are known (a
/// packet seen beyond the point it missed is a capture drop) and tallied,
/// and the adjacent pairs' specs, translations and steps into the builder.
fn settle(
    builder: &mut IndexBuilder,
    summary: &mut Summary,
    mut outcomes: Vec<Outcome>,
    adjacent: &[PairMatches],
    composed: &[&PairMatches],
    mut lost: Vec<fill::NotSeen>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Settled, String> {
    progress(Progress::Stage("composing: losses"));
    {
        let all: Vec<&PairMatches> = adjacent.iter().chain(composed.iter().copied()).collect();
        fill::classify(&mut lost, &all);
    }
    progress(Progress::Stage("composing: tally"));
    let (missing, per_point) = fill::tally(&lost, summary.details.len());
    for (i, d) in summary.details.iter_mut().enumerate() {
        d.capture_drops = per_point[i];
        builder
            .set_point_details(i as u16, *d)
            .map_err(|e| e.to_string())?;
    }
    for (o, pm) in outcomes.iter_mut().zip(adjacent) {
        o.spec.missing = missing.get(&(pm.a, pm.b)).copied().unwrap_or_default();
        o.summary.missing = o.spec.missing;
        for t in o.translations.drain(..) {
            builder.add_translation(t).map_err(|e| e.to_string())?;
        }
        builder
            .set_pair(pm.a, pm.b, o.spec)
            .map_err(|e| e.to_string())?;
        set_steps(builder, pm)?;
        summary.pairs.push(o.summary.clone());
    }
    Ok(Settled {
        adjacent_specs: outcomes.iter().map(|o| o.spec).collect(),
        missing,
        lost,
    })
}

/// What [`settle`] leaves for the rest of composing.
struct Settled {
    adjacent_specs: Vec<PairSpec>,
    /// Per pair of points, the packets not seen at the other.
    missing: rustc_hash::FxHashMap<(u16, u16), Missing>,
    lost: Vec<fill::NotSeen>,
}

/// The frames whose (sequence number, payload length) a proxy anchor's
/// composition looks at, one bit per frame and point: each anchor frame at
/// the front of a proxy hop, and every frame at an earlier point linked to
/// one (through the hops or directly).  [`to_frames`] reads their ranges.
fn anchor_frames(
    tables: &[PointTable],
    adjacent: &[PairMatches],
    fills: &rustc_hash::FxHashMap<(u16, u16), Vec<PacketMatch>>,
) -> Vec<Vec<u64>> {
    let anchor = |m: &PacketMatch| m.method == methods::HTTP || m.method == methods::TURNS;
    // The frames needed, one bit per frame and point (a hash set of them
    // was looked up for every match of every pair).
    let mut needed: Vec<Vec<u64>> = tables
        .iter()
        .map(|t| vec![0u64; t.recs.len().div_ceil(64)])
        .collect();
    let has = |needed: &[Vec<u64>], p: u16, r: u32| {
        needed
            .get(p as usize)
            .and_then(|v| v.get(r as usize / 64))
            .is_some_and(|w| w >> (r % 64) & 1 != 0)
    };
    let add = |needed: &mut [Vec<u64>], p: u16, r: u32| {
        if let Some(w) = needed
            .get_mut(p as usize)
            .and_then(|v| v.get_mut(r as usize / 64))
        {
            *w |= 1 << (r % 64);
        }
    };
    for pm in adjacent {
        for m in pm.matches.iter().filter(|m| anchor(m)) {
            add(&mut needed, pm.a, m.a);
        }
    }
    // Back along the hops, nearest point first.
    for pm in adjacent.iter().rev() {
        for m in &pm.matches {
            if has(&needed, pm.b, m.b) {
                add(&mut needed, pm.a, m.a);
            }
        }
    }
    for (&(i, j), ms) in fills {
        let linked: Vec<u32> = ms
            .iter()
            .filter(|m| has(&needed, j, m.b))
            .map(|m| m.a)
            .collect();
        for a in linked {
            add(&mut needed, i, a);
        }
    }
    needed
}

/// Each point's table shrunk to what the clock fits and the index need,
/// once the ranges of its [`anchor_frames`] are read from it: two points at
/// a time (on one core they were 17 of composing's 110 ms on the snaplen
/// bench session, the other idle), the smallest first: a table is freed as
/// its frames are made, so the largest ones' new vectors come when the
/// smallest tables are gone (the heap is near its peak here: more at a
/// time would hold more new vectors beside the tables).
fn to_frames(
    tables: Vec<PointTable>,
    needed: Vec<Vec<u64>>,
) -> Result<(AnchorRanges, Vec<Frames>), String> {
    let n = tables.len();
    let mut order: Vec<usize> = (0..tables.len()).collect();
    order.sort_by_key(|&k| tables[k].recs.len());
    let mut slots: Vec<_> = tables
        .into_iter()
        .zip(needed)
        .map(|x| Mutex::new(Some(x)))
        .collect();
    let made = parallel(
        order.len(),
        workers().min(2),
        |x| {
            let (t, bits) = slots[order[x]].lock().ok()?.take()?;
            Some((PointRanges::new(bits, &t), Frames::from(t)))
        },
        || {},
    );
    slots.clear();
    let mut out: Vec<Option<(PointRanges, Frames)>> = (0..n).map(|_| None).collect();
    for (&k, m) in order.iter().zip(made) {
        out[k] = m;
    }
    let (ranges, frames): (Vec<PointRanges>, Vec<Frames>) = out.into_iter().flatten().unzip();
    if frames.len() != n {
        return Err("internal error: a point's table was lost on its way to frames".into());
    }
    Ok((AnchorRanges(ranges), frames))
}

/// [`to_frames`]: per point, the frames needed (a bit each) and their
/// (sequence number, payload length) in frame order, found by counting the
/// bits before a frame's.  A hash map of them held several times their
/// 8 bytes, at the peak of the heap.
struct AnchorRanges(Vec<PointRanges>);

struct PointRanges {
    bits: Vec<u64>,
    /// Bits set in the words before each word.
    before: Vec<u32>,
    ranges: Vec<(u32, u32)>,
}

impl PointRanges {
    /// `bits`: the frames needed; a bit past the records (none expected)
    /// is cleared.
    fn new(mut bits: Vec<u64>, t: &PointTable) -> PointRanges {
        let recs = &t.recs;
        let mut before = Vec::with_capacity(bits.len());
        let mut n = 0u32;
        for (w, word) in bits.iter_mut().enumerate() {
            let past = (w * 64).saturating_add(64).saturating_sub(recs.len());
            if past >= 64 {
                *word = 0;
            } else if past > 0 {
                *word &= u64::MAX >> past;
            }
            before.push(n);
            n += word.count_ones();
        }
        let mut ranges = Vec::with_capacity(n as usize);
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let r = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                ranges.push((recs[r].seq, t.len(r as u32)));
            }
        }
        PointRanges {
            bits,
            before,
            ranges,
        }
    }
}

impl AnchorRanges {
    /// (sequence number, payload length) of point `p`'s record `r`;
    /// (0, 0) for a frame not needed.
    fn get(&self, p: u16, r: u32) -> (u32, u32) {
        let Some(t) = self.0.get(p as usize) else {
            return (0, 0);
        };
        let (w, b) = (r as usize / 64, r % 64);
        match t.bits.get(w) {
            Some(&word) if word >> b & 1 != 0 => {
                let k = t.before[w] + (word & ((1u64 << b) - 1)).count_ones();
                t.ranges[k as usize]
            }
            _ => (0, 0),
        }
    }
}

/// The clock segments of a pair whose clocks stepped, into the index.
fn set_steps(builder: &mut IndexBuilder, pm: &PairMatches) -> Result<(), String> {
    match &pm.clock {
        Some(c) => builder
            .set_clock_segments(pm.a, pm.b, &c.index_segments())
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// What matching one adjacent pair gives, for the index and the summary.
struct Outcome {
    matches: PairMatches,
    /// The connections paired (the direct matches of the points around
    /// follow them).
    conn_pairs: Vec<ConnPair>,
    summary: PairSummary,
    spec: PairSpec,
    /// (point, frame, not seen at point, why)
    lost: Vec<(u16, u32, u16, LossKind)>,
    translations: Vec<TranslationSpec>,
}

/// Stages 2-5 for points `a` and `a + 1`.
fn match_adjacent(
    ta: &PointTable,
    tb: &PointTable,
    a: usize,
    options: &Options,
    tier1: &[ConnPair],
) -> Result<Outcome, String> {
    match_adjacent_with(ta, tb, a, options, tier1, true, &NEVER, spread::FREE).map(|(o, _)| o)
}

/// [`match_adjacent`]; `reuse_fit`: the first clock fit stands for the
/// final one where their samples are the same (false: fitted again, the
/// reference a test compares with).  Also says whether it did.  Gives up
/// once `stop` is set ([`match_pair_until`]).  The connection pairs are
/// matched on `cores` ([`spread`]).
#[allow(clippy::too_many_arguments)]
fn match_adjacent_with(
    ta: &PointTable,
    tb: &PointTable,
    a: usize,
    options: &Options,
    tier1: &[ConnPair],
    reuse_fit: bool,
    stop: &AtomicBool,
    cores: spread::Cores,
) -> Result<(Outcome, bool), String> {
    // This thread's core, not lent to another pair's connection pairs.
    let _held = spread::Held::job();
    let (pa, pb) = (a as u16, a as u16 + 1);
    let reference = ta.first_ts;

    // Tier 1 (found while ordering), matched without a clock; the clock
    // from its matches.
    let mut conn_pairs = tier1.to_vec();
    // All matches of the pair go into one vector, sized for the most a
    // connection pair can have short of TSO both ways: one match per
    // packet of its larger side (a doubling vector could leave up to half
    // of itself unused; the unused rest is given back once matched).
    let expected = |pairs: &[ConnPair]| -> usize {
        pairs
            .iter()
            .map(|p| ta.packets(p.a).len().max(tb.packets(p.b).len()))
            .sum()
    };
    let mut all: Vec<PacketMatch> = Vec::with_capacity(expected(&conn_pairs));
    // Pushed one by one into room for all (a collect into a Result has no
    // exact size and grew the vector by doubling: ~1.2 MiB more on each
    // big pair of the bench sessions, where their peaks meet).
    let first = {
        let list: Vec<&ConnPair> = conn_pairs.iter().collect();
        spread::match_in_order(ta, tb, &list, None, &mut all, stop, cores)?
    };
    // The first clock without the pairs that only order or a guess chose
    // (retransmitted copies seen a different number of times at the two
    // points): a wrong copy is hundreds of µs off and would skew the very
    // clock that is to put it right.  With nothing else, with them.
    let sure = packets::CONF_BY_ORDER + 1;
    let clock0 = clock::fit_iter(samples(ta, tb, &all, &first, &[], sure), reference)
        .or_else(|| clock::fit_iter(samples(ta, tb, &all, &first, &[], 0), reference));
    go_on(stop)?;
    let tier1 = conn_pairs.len() as u32;
    // Tier 2 within a window around that clock (no window without one).
    let tier2 = pairing::pair_content(ta, tb, &conn_pairs, clock0.as_ref(), options.window_ns);
    let tier2_n = tier2.len() as u32;
    conn_pairs.extend(tier2);
    let clock_hint = clock0;
    // Matched again with the clock only where it can change something:
    // groups of equal copies with different counts at the two points.
    let again = expected(&conn_pairs[tier1 as usize..])
        + first
            .iter()
            .filter(|r| r.needed_clock)
            .map(|r| r.matches.len())
            .sum::<usize>();
    all.reserve_exact(again);
    // Whether the final clock fit would read the very samples clock0 read
    // (checked before `first` is taken apart; see `refit` below).
    let same_samples = reuse_fit
        && tier2_n == 0
        && !first.iter().any(|r| r.needed_clock)
        && all.iter().all(|m| m.conf >= sure);
    // Those matched again, in order, then every result in its place.
    let redo: Vec<&ConnPair> = again_of(&first, conn_pairs.len())
        .map(|k| &conn_pairs[k])
        .collect();
    let rematched =
        spread::match_in_order(ta, tb, &redo, clock_hint.as_ref(), &mut all, stop, cores)?;
    let mut results = merged(first, rematched, conn_pairs.len())?;
    compact(&mut all, &mut results);
    // Full proxy: connections still unpaired, linked by their messages.
    go_on(stop)?;
    let mut proxied = proxy::link(ta, tb, &conn_pairs, clock_hint.as_ref(), options.window_ns);
    // Proxy anchors carry the proxy's processing time, not a transit: they
    // bound the clock only loosely, so they count only when the matched
    // packets alone cannot give both envelopes.
    // Nothing matched again, no pair added, no match below `sure`: the
    // samples are clock0's, one by one in the same order, and so is their
    // fit (a whole fit, about a tenth of a big pair's time, not made twice).
    go_on(stop)?;
    let refit = if same_samples {
        clock0
    } else {
        clock::fit_iter(samples(ta, tb, &all, &results, &[], 0), reference)
    };
    let clock = refit
        .filter(|c| c.both_ways)
        .or_else(|| {
            clock::fit_iter(
                samples(ta, tb, &all, &results, &proxied.matches, 0),
                reference,
            )
        })
        .or(clock0);

    // Losses: a matched connection's packet seen at the point it passes
    // first and missing at the other.
    go_on(stop)?;
    let mut lost = Vec::new();
    let missing = losses(
        ta,
        tb,
        pa,
        pb,
        &conn_pairs,
        &all,
        &results,
        clock.as_ref(),
        &mut lost,
    );

    // Counted first, then made into a vector of that size: collected, it
    // grew by doubling to up to twice what it holds (a translation is over
    // 100 bytes and a NAT'd pair has one per connection: about 2.8 MiB
    // more for a moment at the end of each big pair of the full-size bench
    // session).
    let translated = || {
        conn_pairs
            .iter()
            .zip(&results)
            .filter_map(|(p, r)| translation(ta, tb, pa, pb, p, r))
    };
    let mut translations: Vec<TranslationSpec> =
        Vec::with_capacity(translated().count() + proxied.links.len());
    translations.extend(translated());
    // The proxy's links move over (a copy of each, with its summary, was
    // held twice at once).
    let conns_proxy = proxied.links.len() as u32;
    translations.extend(
        std::mem::take(&mut proxied.links)
            .into_iter()
            .map(|l| TranslationSpec { a: pa, b: pb, ..l }),
    );
    translations.shrink_to_fit();
    // The proxy's few anchors fit the room left in nearly every case
    // (reserve_exact does nothing then); the unused rest goes after.
    let mut matches = all;
    matches.reserve_exact(proxied.matches.len());
    matches.extend(proxied.matches.iter().copied());
    matches.shrink_to_fit();

    let mut by_method = std::collections::BTreeMap::<u8, u64>::new();
    for m in &matches {
        *by_method.entry(m.method).or_default() += 1;
    }
    let spec = PairSpec {
        clock: clock.map(|c| c.model),
        offset_error_ns: clock.map_or(0, |c| c.bound_ns),
        matched: matches.len().min(u32::MAX as usize) as u32,
        neighbours: true,
        missing,
    };
    let summary = PairSummary {
        a: pa,
        b: pb,
        adjacent: true,
        conns_tier1: tier1,
        conns_tier2: tier2_n,
        conns_proxy,
        by_method: by_method.into_iter().collect(),
        clock,
        missing,
        translations: translations.len() as u32,
    };
    let outcome = Outcome {
        matches: PairMatches {
            a: pa,
            b: pb,
            matches,
            clock,
        },
        conn_pairs,
        summary,
        spec,
        lost,
        translations,
    };
    Ok((outcome, same_samples))
}

/// The connection pairs (of `n`, the first results' then tier 2's) to
/// match again with the clock: those without a first result (tier 2) and
/// those whose first one asks for it, in order.
fn again_of(first: &[packets::PairResult], n: usize) -> impl Iterator<Item = usize> + '_ {
    (0..n).filter(move |&k| first.get(k).is_none_or(|r| r.needed_clock))
}

/// Every connection pair's result, in order: its first one where that
/// stands, else the next of those matched again ([`again_of`]'s order).
fn merged(
    first: Vec<packets::PairResult>,
    again: Vec<packets::PairResult>,
    n: usize,
) -> Result<Vec<packets::PairResult>, String> {
    let mut first = first.into_iter();
    let mut again = again.into_iter();
    let results: Vec<_> = (0..n)
        .map_while(|_| match first.next() {
            Some(r) if !r.needed_clock => Some(r),
            _ => again.next(),
        })
        .collect();
    if results.len() == n && again.next().is_none() {
        Ok(results)
    } else {
        Err("internal error: connection pairs matched again do not add up".into())
    }
}

/// Drops from `all` the matches no result refers to any more (those of
/// connection pairs matched again with the clock), in place, and moves the
/// results' ranges along.
fn compact(all: &mut Vec<PacketMatch>, results: &mut [packets::PairResult]) {
    let mut order: Vec<usize> = (0..results.len()).collect();
    order.sort_unstable_by_key(|&k| results[k].matches.start);
    let mut to = 0;
    for k in order {
        let r = &mut results[k].matches;
        let len = r.len();
        all.copy_within(r.clone(), to);
        *r = to..to + len;
        to += len;
    }
    all.truncate(to);
}

/// Clock samples: every match of at least `min_conf`, grouped by
/// connection pair and direction (an iterator: nothing per match is
/// copied).
fn samples<'a>(
    ta: &'a PointTable,
    tb: &'a PointTable,
    all: &'a [PacketMatch],
    results: &'a [packets::PairResult],
    extra: &'a [PacketMatch],
    min_conf: u8,
) -> impl Iterator<Item = Sample> + Clone + 'a {
    let sample = move |m: &PacketMatch, group: u32| {
        let t = ta.time(m.a);
        Sample {
            ta: t,
            delta: tb.time(m.b) - t,
            group,
            ia: m.a,
            ib: m.b,
        }
    };
    // Proxy anchors: one group per direction after all connection pairs.
    let base = (results.len() as u32 + 1) << 1;
    results
        .iter()
        .enumerate()
        .flat_map(move |(k, r)| {
            // A span-port duplicate is the same packet seen later: its
            // difference is the mirror's delay less, not a transit.
            r.of(all)
                .iter()
                .filter(move |m| m.method != methods::DUPLICATE && m.conf >= min_conf)
                .map(move |m| sample(m, (k as u32) << 1 | u32::from(m.dir)))
        })
        .chain(
            extra
                .iter()
                .map(move |m| sample(m, base | u32::from(m.dir))),
        )
}

/// The packets of matched connections missing at the other point.
#[allow(clippy::too_many_arguments)]
fn losses(
    ta: &PointTable,
    tb: &PointTable,
    pa: u16,
    pb: u16,
    pairs: &[ConnPair],
    all: &[PacketMatch],
    results: &[packets::PairResult],
    clock: Option<&ClockFit>,
    out: &mut Vec<(u16, u32, u16, LossKind)>,
) -> Missing {
    let mut counts = Missing::default();
    let Some(clock) = clock else { return counts };
    // Each packet with the clock segment of its own frame (the clocks may
    // have stepped).
    let to_b = |i: u32, t: i64| clock.peer_time(i, t);
    let to_a = |j: u32, t: i64| clock.back_time(j, t);
    // The current connection pair's matched records at either point.
    let (mut seen_a, mut seen_b) = (Marks::new(ta.recs.len()), Marks::new(tb.recs.len()));
    for (p, r) in pairs.iter().zip(results) {
        // Which direction goes from A to B: the one whose transit, after
        // the clock model, is larger.
        let mut transit = [(0i128, 0i64); 2];
        for m in r.of(all) {
            let t = ta.time(m.a);
            let d = tb.time(m.b) - clock.peer_time(m.a, t);
            transit[m.dir as usize].0 += i128::from(d);
            transit[m.dir as usize].1 += 1;
        }
        let mean = |k: usize| transit[k].0 / i128::from(transit[k].1.max(1));
        let forward = if transit[0].1 > 0 && transit[1].1 > 0 {
            if mean(0) >= mean(1) {
                0
            } else {
                1
            }
        } else if let Some(cd) = ta.conns[p.a as usize].client_dir() {
            // One direction matched only: assume the client is on A's side.
            cd
        } else {
            continue;
        };
        // Records marked, each once: a side whose every packet was matched
        // (a match's records are its connections' own) has none missing,
        // and its packets are not walked again (most connections).
        let (mut marked_a, mut marked_b) = (0, 0);
        for m in r.of(all) {
            marked_a += usize::from(!seen_a.contains(m.a));
            marked_b += usize::from(!seen_b.contains(m.b));
            seen_a.set(m.a);
            seen_b.set(m.b);
        }
        let a = Side {
            t: ta,
            conn: p.a,
            point: pa,
        };
        let b = Side {
            t: tb,
            conn: p.b,
            point: pb,
        };
        let mb = r.handshake_by_middlebox;
        if marked_a < ta.packets(p.a).len() {
            for k in missing(&a, &b, forward, &seen_a, &to_b, mb, out) {
                counts.count(k, 0);
            }
        }
        let backward_at_b = forward ^ usize::from(p.flip) ^ 1;
        if marked_b < tb.packets(p.b).len() {
            for k in missing(&b, &a, backward_at_b, &seen_b, &to_a, mb, out) {
                counts.count(k, 1);
            }
        }
        for m in r.of(all) {
            seen_a.clear(m.a);
            seen_b.clear(m.b);
        }
    }
    counts
}

/// One point's view of a paired connection.
struct Side<'a> {
    t: &'a PointTable,
    conn: u32,
    point: u16,
}

/// Records the packets of `from`'s connection going `dir` (the way to
/// `to`) that `to` did not see; returns the kind of each.
/// `to_clock(record, t)`: `to`'s clock reading when `from`'s record reads t.
fn missing(
    from: &Side,
    to: &Side,
    dir: usize,
    seen: &Marks,
    to_clock: &dyn Fn(u32, i64) -> i64,
    handshake_by_middlebox: bool,
    out: &mut Vec<(u16, u32, u16, LossKind)>,
) -> Vec<LossKind> {
    // Only within the other point's view of the connection (± 1 s): a
    // capture that started late or stopped early misses, not loses.
    const MARGIN: i64 = 1_000_000_000;
    let other = &to.t.conns[to.conn as usize];
    // Its first and last time stamps, in either order (a clock stepped
    // backwards during the connection).
    let (o_first, o_last) = (
        other.first_ts.min(other.last_ts),
        other.first_ts.max(other.last_ts),
    );
    // A middlebox that answered the handshake made or consumed the packets
    // before the first data (in frame order): not seen at the other point,
    // but not lost either (flagged uncertain, not counted).
    let first_data = from
        .t
        .packets(from.conn)
        .iter()
        .copied()
        .find(|&k| from.t.recs[k as usize].has_payload())
        .unwrap_or(u32::MAX);
    let mut kinds = Vec::new();
    let to_saw = std::cell::OnceCell::new();
    for &i in from.t.packets(from.conn) {
        let rec = &from.t.recs[i as usize];
        if rec.dir() != dir || seen.contains(i) {
            continue;
        }
        let t = from.t.time(i);
        let there = to_clock(i, t);
        let outside = there < to.t.first_ts || there > to.t.last_ts;
        let within = there >= o_first - MARGIN && there <= o_last + MARGIN;
        if !within && !outside {
            continue;
        }
        let made = handshake_by_middlebox && !rec.has_payload() && i < first_data;
        // Answered through `to`: it passed there (answered.rs).
        let answered = !outside
            && !made
            && answered::answered_through(from.t, from.conn, i, dir)
            && *to_saw.get_or_init(|| answered::to_saw_direction(from.t, from.conn, dir, seen));
        let kind = if answered {
            LossKind::CaptureDrop
        } else {
            loss_kind(outside, made)
        };
        out.push((from.point, i + 1, to.point, kind));
        kinds.push(kind);
    }
    kinds
}

/// Why a packet was not seen: the other capture was not running, a
/// middlebox made or consumed it, else lost on the network.
fn loss_kind(outside: bool, made_by_middlebox: bool) -> LossKind {
    if outside {
        LossKind::OutsideCapture
    } else if made_by_middlebox {
        LossKind::Uncertain
    } else {
        LossKind::NetworkLoss
    }
}

/// The endpoints record of a 5-tuple seen as `a` at one point and `b` at
/// the other.
pub(crate) fn endpoints(a: &capture::FlowKey, b: &capture::FlowKey) -> Endpoints {
    Endpoints {
        ip_proto: a.proto,
        a_src: SocketAddr::new(a.src_ip(), a.sport),
        a_dst: SocketAddr::new(a.dst_ip(), a.dport),
        b_src: SocketAddr::new(b.src_ip(), b.sport),
        b_dst: SocketAddr::new(b.dst_ip(), b.dport),
    }
}

/// The translation record of a connection pair, when anything changed.
fn translation(
    ta: &PointTable,
    tb: &PointTable,
    pa: u16,
    pb: u16,
    p: &ConnPair,
    r: &packets::PairResult,
) -> Option<TranslationSpec> {
    // Both as client → server when the client is known (A's direction 0
    // otherwise).
    let client = ta.conns[p.a as usize].client_dir().unwrap_or(0);
    let a_key = ta.conns[p.a as usize].key_from(client);
    let b_key = tb.conns[p.b as usize].key_from(client ^ usize::from(p.flip));
    let src_changed = (a_key.src, a_key.sport) != (b_key.src, b_key.sport);
    // ICMP echo: the flow key's "ports" are the echo id, the querier's
    // (a NAT translates it like a source port): the destination is its
    // address alone (a real home NAT's pings came out as SNAT+DNAT).
    let icmp = matches!(a_key.proto, 1 | 58);
    let dst_changed = if icmp {
        a_key.dst != b_key.dst
    } else {
        (a_key.dst, a_key.dport) != (b_key.dst, b_key.dport)
    };
    let c2s = r.dirs[client].seq_off;
    let s2c = r.dirs[1 - client].seq_off;
    let seq = c2s != 0 || s2c != 0;
    let kind = match (src_changed, dst_changed) {
        (true, true) => TranslationKind::SnatDnat,
        (true, false) => TranslationKind::Snat,
        (false, true) => TranslationKind::Dnat,
        (false, false) if seq => TranslationKind::SeqOnly,
        (false, false) => return None,
    };
    let ep = endpoints(&a_key, &b_key);
    Some(TranslationSpec {
        a: pa,
        b: pb,
        kind,
        // Made from the rest when the index is written.
        summary: String::new(),
        endpoints: Some(ep),
        seq_offsets: seq.then_some(SeqOffsets {
            client_to_server: c2s,
            server_to_client: s2c,
        }),
    })
}
