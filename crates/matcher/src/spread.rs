//! The connection pairs of one pair of points matched on the cores the
//! other pairs of points leave free.
//!
//! The matching stage runs one job per adjacent pair of points, so a
//! session of two points (one pair) matched on one core however many the
//! machine has, and three points on a 4-core machine on two.  A pair's
//! connection pairs are independent of each other while they are matched
//! ([`packets::match_pair`] reads the two point tables and writes only its
//! own matches, from where it starts in the vector it is given): here they
//! are cut into runs and matched by helper threads too, one for each core
//! no other pair's job holds when the loop starts or falls free while it
//! runs (another pair of points finished: the tail of the stage), and the
//! runs' matches are appended in the order of the connection pairs — the
//! vector, the ranges and so the index are those of one thread.
//!
//! Memory: [`in_order::run_growing`] keeps only a few runs waiting
//! ([`AHEAD_PER_THREAD`] per thread, done or being done), and a run of
//! several connection pairs holds less than three times [`RUN_PACKETS`]
//! packets (at least that, but the last run and one cut short by a big
//! connection pair after it).  A connection pair of twice that or more is
//! a run of its own that no helper takes: the calling thread matches it
//! straight into the pair's vector when its turn comes (its matches are
//! not held twice, and two of them are not matched at once for one pair of
//! points), while helpers go on with the runs after it, as far as the
//! window lets them.  So a pair of points whose packets are mostly in such
//! big connection pairs (long bulk transfers) still matches them one after
//! another on one core: the price of not holding their matches twice.
//!
//! The cores are counted per process ([`BUSY`]): the matcher's own threads,
//! the embedded engine's partitions and a cluster worker's tasks all run
//! the pair's job through [`crate::match_adjacent_with`], which holds one
//! for as long as it runs; a helper holds its core until it finds no run
//! left to start (not until the whole loop ends; also while it waits for
//! the calling thread to take the runs before its next one, as behind a
//! big connection pair: idle, not oversubscribed), and a core taken for a
//! helper the system would not start stays counted until the loop ends;
//! [`Kept`] holds cores for the jobs a stage is about to start (its first
//! jobs only: a core that a finished job gives back may go to a helper
//! before the stage's next job starts, which then runs beside it).
//!
//! A helper's panic (a bug) is the loop's error, naming the run's first
//! connection pair (the panic's own message is printed by the default
//! panic hook before it); one in a connection pair the calling thread
//! matches itself stays a panic, as in the plain loop.

use crate::in_order::{self, Window};
use crate::packets::{self, PacketMatch, PairResult};
use crate::{clock::ClockFit, go_on, pairing::ConnPair, table::PointTable};
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// Packets (both points) a run of connection pairs holds at least: a few
/// milliseconds of matching, so that handing runs over costs little beside
/// them, while a big pair of points still makes dozens of runs.
pub(crate) const RUN_PACKETS: usize = 1 << 14;

/// Runs done and not yet appended (or being done), per thread.
const AHEAD_PER_THREAD: usize = 2;

/// Cores of a process in use for matching pairs of points.
#[derive(Debug)]
pub(crate) struct Busy {
    /// Threads matching a pair of points now (the pairs' jobs and their
    /// helpers) and the cores kept for jobs about to start.
    held: AtomicUsize,
    /// Of `held`, the cores kept for pairs' jobs that have not started yet
    /// (any stage's).
    kept: AtomicUsize,
    /// The most `held` has been (what the tests look at).
    peak: AtomicUsize,
    /// Cores given back by helpers as they ended, and by loops for the
    /// helpers still counted when they ended (what the tests look at).
    by_helpers: AtomicUsize,
    at_end: AtomicUsize,
}

impl Busy {
    pub(crate) const fn new() -> Busy {
        Busy {
            held: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            by_helpers: AtomicUsize::new(0),
            at_end: AtomicUsize::new(0),
        }
    }

    fn add(&self, n: usize) {
        let now = self.held.fetch_add(n, SeqCst) + n;
        self.peak.fetch_max(now, SeqCst);
    }

    /// Up to `want` of `cores` that no one holds now (0 if none are free),
    /// now held.
    fn take_free(&self, cores: usize, want: usize) -> usize {
        let mut busy = self.held.load(SeqCst);
        loop {
            let n = cores.saturating_sub(busy).min(want);
            if n == 0 {
                return 0;
            }
            match self
                .held
                .compare_exchange_weak(busy, busy + n, SeqCst, SeqCst)
            {
                Ok(_) => {
                    self.peak.fetch_max(busy + n, SeqCst);
                    return n;
                }
                Err(now) => busy = now,
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(SeqCst)
    }

    /// `n` more held, as a pair's job holds its own core.
    #[cfg(test)]
    pub(crate) fn hold(&self, n: usize) {
        self.add(n);
    }

    /// Cores given back (by helpers as they ended, by loops as they ended).
    #[cfg(test)]
    pub(crate) fn given_back(&self) -> (usize, usize) {
        (self.by_helpers.load(SeqCst), self.at_end.load(SeqCst))
    }

    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(SeqCst)
    }
}

/// This process's: what every pair of points' job counts itself in.
static BUSY: Busy = Busy::new();

/// Threads counted in [`BUSY`] for as long as this lives.
pub(crate) struct Held(usize);

impl Held {
    /// This thread, matching a pair of points: a core kept for it, else
    /// one more.
    pub(crate) fn job() -> Held {
        if BUSY
            .kept
            .fetch_update(SeqCst, SeqCst, |k| k.checked_sub(1))
            .is_err()
        {
            BUSY.add(1);
        }
        Held(1)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        BUSY.held.fetch_sub(self.0, SeqCst);
    }
}

/// The cores one loop took for its helpers and has not given back: a
/// helper gives its own back when it finds no run left to start; the
/// loop gives the rest (threads that could not start) when it ends.
struct Lent<'b> {
    busy: &'b Busy,
    n: AtomicUsize,
}

impl Lent<'_> {
    /// Up to `want` more of `cores`, if free.
    fn take(&self, cores: usize, want: usize) -> usize {
        let n = self.busy.take_free(cores, want);
        self.n.fetch_add(n, SeqCst);
        n
    }

    fn give_one(&self) {
        if self
            .n
            .fetch_update(SeqCst, SeqCst, |k| k.checked_sub(1))
            .is_ok()
        {
            self.busy.held.fetch_sub(1, SeqCst);
            self.busy.by_helpers.fetch_add(1, SeqCst);
        }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let n = self.n.swap(0, SeqCst);
        self.busy.held.fetch_sub(n, SeqCst);
        self.busy.at_end.fetch_add(n, SeqCst);
    }
}

/// A helper's state in [`in_order::run_growing`]: gives the helper's core
/// back when the helper ends (None: the calling thread's, which holds its
/// own core as the pair's job).
struct Back<'l, 'b>(Option<&'l Lent<'b>>);

impl Drop for Back<'_, '_> {
    fn drop(&mut self) {
        if let Some(lent) = self.0 {
            lent.give_one();
        }
    }
}

/// Cores kept, from before a stage starts the pairs' jobs, for the `jobs`
/// it will run at once: the first job to reach its connection pairs does
/// not take for helpers the core the next one is about to start on.  When
/// this is dropped, as many as are still kept (at most this one's) are
/// given back.
pub(crate) struct Kept(usize);

impl Kept {
    pub(crate) fn for_jobs(jobs: usize) -> Kept {
        let n = jobs.min(crate::workers());
        BUSY.add(n);
        BUSY.kept.fetch_add(n, SeqCst);
        Kept(n)
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        for _ in 0..self.0 {
            if BUSY
                .kept
                .fetch_update(SeqCst, SeqCst, |k| k.checked_sub(1))
                .is_err()
            {
                break;
            }
            BUSY.held.fetch_sub(1, SeqCst);
        }
    }
}

/// Which threads help, and how the connection pairs are cut.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cores {
    /// The cores free when the loop starts and those that fall free while
    /// runs are left to start: of `cores` (0: the machine's, at most 8),
    /// as `busy` counts them (the process's [`BUSY`]; a test's own).
    Free {
        run_packets: usize,
        busy: &'static Busy,
        cores: usize,
    },
    /// Exactly `helpers` helper threads (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed { helpers: usize, run_packets: usize },
}

/// What the matcher runs on: the free cores, runs of [`RUN_PACKETS`].
pub(crate) const FREE: Cores = Cores::free(RUN_PACKETS);

impl Cores {
    /// The machine's free cores, runs of `run_packets`.
    pub(crate) const fn free(run_packets: usize) -> Cores {
        Cores::Free {
            run_packets,
            busy: &BUSY,
            cores: 0,
        }
    }
}

/// One run's outcome, from a helper: its matches and results (their ranges
/// from 0), or a connection pair left to the calling thread.
enum Done {
    Matched(Vec<PacketMatch>, Vec<PairResult>),
    Big,
}

/// Matches the connection pairs `pairs` (A → B; `clock`, when known, as
/// [`packets::match_pair`] takes it) in that order, appending each one's
/// matches to `all` and returning its result, its range in `all` — as the
/// plain loop does, on more threads where cores are free.  Gives up once
/// `stop` is set.
pub(crate) fn match_in_order(
    ta: &PointTable,
    tb: &PointTable,
    pairs: &[&ConnPair],
    clock: Option<&ClockFit>,
    all: &mut Vec<PacketMatch>,
    stop: &AtomicBool,
    cores: Cores,
) -> Result<Vec<PairResult>, String> {
    let size = |p: &&ConnPair| ta.packets(p.a).len() + tb.packets(p.b).len();
    let (run_packets, fixed, busy, machine) = match cores {
        Cores::Free {
            run_packets,
            busy,
            cores,
        } => {
            let cores = if cores == 0 { crate::workers() } else { cores };
            (run_packets.max(1), None, busy, cores)
        }
        Cores::Fixed {
            helpers,
            run_packets,
        } => (run_packets.max(1), Some(helpers), &BUSY, 0),
    };
    let runs = runs(pairs.iter().map(size), run_packets);
    let mut results = Vec::with_capacity(pairs.len());
    let plain = |pairs: &[&ConnPair],
                 all: &mut Vec<PacketMatch>,
                 results: &mut Vec<PairResult>|
     -> Result<(), String> {
        for p in pairs {
            go_on(stop)?;
            results.push(packets::match_pair(ta, tb, p, clock, all));
        }
        Ok(())
    };
    // One run, or one core: the plain loop.
    if runs.len() < 2 || fixed.is_none() && machine < 2 {
        plain(pairs, all, &mut results)?;
        return Ok(results);
    }
    // Helpers: those asked for; else a core no one holds for every run
    // but the one this thread does, now and whenever one falls free (a
    // pair of points finished) while runs are left to start.
    let lent = Lent {
        busy,
        n: AtomicUsize::new(0),
    };
    let mut started = 0;
    let mut free = |left: usize| {
        let n = lent.take(machine, left.saturating_sub(1 + started));
        started += n;
        n
    };
    let (threads, most) = match fixed {
        Some(helpers) => (helpers, helpers),
        None => (free(runs.len()), machine - 1),
    };
    let me = std::thread::current().id();
    let init = || Back((std::thread::current().id() != me).then_some(&lent));
    // A run's matches in a vector of its own, sized for them as the
    // pair's is (one per packet of the larger side of each connection
    // pair), then appended, the ranges moved along.
    let work = |_: &mut Back, k: usize| -> Result<Done, String> {
        let run = &pairs[runs[k].clone()];
        if run.len() == 1 && big(size(&run[0]), run_packets) {
            return Ok(Done::Big);
        }
        let room = run
            .iter()
            .map(|p| ta.packets(p.a).len().max(tb.packets(p.b).len()))
            .sum();
        let mut mine = Vec::with_capacity(room);
        let mut res = Vec::with_capacity(run.len());
        for p in run {
            go_on(stop)?;
            res.push(packets::match_pair(ta, tb, p, clock, &mut mine));
        }
        Ok(Done::Matched(mine, res))
    };
    let window = Window {
        threads,
        ahead: (most + 1) * AHEAD_PER_THREAD,
        help: true,
    };
    let more = |left| match fixed {
        Some(_) => 0,
        None => free(left),
    };
    let failed = in_order::run_growing(runs.len(), window, more, init, work, |k, r| {
        let run = runs[k].clone();
        let taken = match r {
            Some(Ok(Done::Matched(mine, res))) => {
                let at = all.len();
                all.extend_from_slice(&mine);
                results.extend(res.into_iter().map(|r| PairResult {
                    matches: r.matches.start + at..r.matches.end + at,
                    ..r
                }));
                Ok(())
            }
            Some(Ok(Done::Big)) => plain(&pairs[run], all, &mut results),
            Some(Err(e)) => Err(e),
            None => Err(format!(
                "internal error: a thread matching {} connection pairs panicked \
                 (the first: connection {} with connection {})",
                run.len(),
                pairs[run.start].a,
                pairs[run.start].b
            )),
        };
        match taken {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

/// Whether a connection pair of `size` packets is a run of its own, left
/// to the calling thread (runs of at least `min`): twice that or more.
fn big(size: usize, min: usize) -> bool {
    size >= min.saturating_mul(2)
}

/// Cuts items of sizes `sizes` into runs, in order: an item of `2 × min`
/// or more is a run of its own; the others are gathered into runs of at
/// least `min` (but the last, and one cut short by such an item after
/// it), each less than `3 × min`.
pub(crate) fn runs(sizes: impl Iterator<Item = usize>, min: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut held, mut n) = (0, 0, 0);
    for (i, s) in sizes.enumerate() {
        n = i + 1;
        if big(s, min) {
            if start < i {
                out.push(start..i);
            }
            out.push(i..n);
            (start, held) = (n, 0);
            continue;
        }
        held += s;
        if held >= min {
            out.push(start..n);
            (start, held) = (n, 0);
        }
    }
    if start < n {
        out.push(start..n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_cover_every_item_once_in_order() {
        assert!(runs([].into_iter(), 4).is_empty());
        assert_eq!(
            runs([1, 2, 3, 4, 0, 0].into_iter(), 3),
            [0..2, 2..3, 3..4, 4..6]
        );
        assert_eq!(runs([5].into_iter(), 3), vec![0..1usize]);
        assert_eq!(runs([0, 0].into_iter(), 3), vec![0..2usize]);
        assert_eq!(runs([1, 1, 1].into_iter(), 1), [0..1, 1..2, 2..3]);
        // A big item alone, what was held before it a run of its own.
        assert_eq!(runs([1, 9, 1, 1].into_iter(), 3), [0..1, 1..2, 2..4]);
        assert_eq!(runs([9, 9].into_iter(), 3), [0..1, 1..2]);
        // Below twice the least: with the others.
        assert_eq!(runs([1, 5, 1].into_iter(), 3), [0..2, 2..3]);
    }
}
