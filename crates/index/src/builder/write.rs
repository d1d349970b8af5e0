//! How [`IndexBuilder::write_to`] makes the file: cut into jobs in file
//! order, run by a worker per core, written in file order by the calling
//! thread.
//!
//! - Preparations first, with no bytes of their own: each point's facts
//!   (fingerprint, time base), the translations' summaries, the sorted
//!   LOST section, each pair's matches in the order of its b point's frames.
//!   A job that needs one makes it if no one has (`OnceLock`), so the
//!   result never depends on which worker runs what.
//! - Then the file's bytes: the header and the small sections (whole, lent
//!   to the writer, not copied), FRAME_CHECKS and FRAME_TIMES in runs of
//!   262,144 frames, PEERS' FIRST tables in runs of as many values and its
//!   entries in runs of 32,768 frames of one point (the sides of a run
//!   found by binary search), LOST and the rest.
//!
//! Each piece carries its CRC-32, made by the worker; the writer joins them
//! in file order (`crc32fast::Hasher::combine`) for the CHECKSUM section,
//! and pads between sections.  A worker claims the next job only with a
//! token, and the writer gives one back per job written: at most
//! `WINDOW_PER_WORKER` jobs per worker are ahead of the writer, each
//! holding at most two pieces of about [`PIECE`] bytes.

use super::{IndexBuilder, PairStore};
use crate::header::{self, entry_field, kind};
use crate::peers::{self, Peer};
use crate::segments;
use crate::strings::Blob;
use crate::{
    align8, checks, lost, methods, pairs, points, session, table_field, times, translations,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock, PoisonError};

/// The size of a piece: large, because each one may wake the writing
/// thread, and on a busy machine a woken thread waits for a core.  (Measured
/// with the writer before this one, one maker thread and a pipe: with
/// 64 KiB pieces writing the full-size bench session's 192 MB index took
/// 1.36 s against 0.84 s with one buffer, at load 7; with 1 MiB, 0.68 s.
/// Not measured again for this writer.)
const PIECE: usize = 1 << 20;
/// u32 values (checks, coarse times, FIRST) per job: one piece.
const VALUES_PER_JOB: usize = PIECE / 4;
/// Frames of one point per job of PEERS entries (16 bytes per match side:
/// about a piece at two peers a frame).
const FRAMES_PER_ENTRIES_JOB: u32 = 1 << 15;
/// Translation summaries formatted per job.
const SUMMARIES_PER_JOB: usize = 2048;
/// Workers at most: past a few, the one writing thread (the kernel's copy
/// into the page cache) is the bottleneck, and each worker adds pieces in
/// flight.  (A judgement from perf on the 2-core machine, where it never
/// binds: not measured on more cores.)
const MAX_WORKERS: usize = 4;
/// Jobs a worker may be ahead of the writer.
const WINDOW_PER_WORKER: usize = 3;
/// Emptied pieces kept for reuse (fresh ones fault their pages in).
const SPARE_PIECES: usize = 8;

type Stores = BTreeMap<(u16, u16), PairStore>;

/// One job: what it makes.
#[derive(Clone, Copy, Debug)]
enum Job {
    /// Preparations (no bytes): a point's facts, a chunk of translation
    /// summaries, LOST, a pair's order by b's frames.
    Facts(u16),
    Summaries(usize),
    Lost,
    Order(usize),
    /// Header and section table.
    Head,
    /// A section made whole beforehand (POINTS, METHODS, PAIRS,
    /// TRANSLATIONS, STRINGS, LOST, CLOCK_SEGMENTS, SESSION).
    Whole(u32),
    /// Checks of frames `from..to` (0-based) of a point.
    Checks {
        point: u16,
        from: usize,
        to: usize,
    },
    TimesHead,
    /// Coarse times of frames `from..to` (0-based) of a point.
    Times {
        point: u16,
        from: usize,
        to: usize,
    },
    /// PEERS' entry count.
    PeersHead,
    /// Values `from..to` of a point's FIRST table (value i: the point's
    /// entries of frames 1..=i).
    First {
        point: u16,
        from: u32,
        to: u32,
    },
    /// Entries of frames `from..to` (1-based) of a point.
    Entries {
        point: u16,
        from: u32,
        to: u32,
    },
    /// An empty section's place.
    Nothing,
}

/// Where a job's bytes start when it begins a section or PEERS' entries:
/// the writer pads up to there.
#[derive(Clone, Copy, Debug)]
enum Mark {
    Section(u32),
    PeerEntries,
}

/// A point's facts the file states more than once.
struct Facts {
    fingerprint: u64,
    /// FRAME_TIMES' (base, shift).
    base: i64,
    shift: u8,
}

/// The small sections and the layout.
struct Small {
    head: Vec<u8>,
    /// Section bytes by kind (LOST is [`Plan::lost`]).
    sections: Vec<(u32, Vec<u8>)>,
    /// Section offsets by kind.
    offsets: Vec<(u32, u64)>,
    total_len: u64,
}

impl Small {
    fn offset(&self, k: u32) -> u64 {
        self.offsets
            .iter()
            .find(|(x, _)| *x == k)
            .map_or(0, |s| s.1)
    }
    fn bytes(&self, k: u32) -> &[u8] {
        self.sections
            .iter()
            .find(|(x, _)| *x == k)
            .map_or(&[], |s| &s.1)
    }
}

/// One piece of the file, in the order of its job.
struct Piece<'p> {
    bytes: Bytes<'p>,
    crc: u32,
    /// The job's last piece.
    last: bool,
}

enum Bytes<'p> {
    Owned(Vec<u8>),
    Lent(&'p [u8]),
}

impl Bytes<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Lent(s) => s,
        }
    }
}

/// The writer stopped taking pieces.
struct Stopped;

/// A job's way to the writer.
struct Out<'p> {
    to: To<'p>,
    spare: &'p Mutex<Vec<Vec<u8>>>,
    buf: Vec<u8>,
}

/// Where a job's pieces go: to the writer as they are made, or (a job the
/// writer runs itself, where the system starts no worker) kept until the
/// job is done.
enum To<'p> {
    Writer(mpsc::SyncSender<Piece<'p>>),
    Here(Vec<Piece<'p>>),
}

impl<'p> Out<'p> {
    /// The piece being filled (a reused one if there is one).
    fn buf(&mut self) -> &mut Vec<u8> {
        if self.buf.capacity() == 0 {
            let reused = self
                .spare
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            self.buf = reused.unwrap_or_else(|| Vec::with_capacity(PIECE + 64));
        }
        &mut self.buf
    }
    fn send(&mut self, bytes: Bytes<'p>, last: bool) -> Result<(), Stopped> {
        let crc = crc32fast::hash(bytes.as_slice());
        let piece = Piece { bytes, crc, last };
        match &mut self.to {
            To::Writer(tx) => tx.send(piece).map_err(|_| Stopped),
            To::Here(kept) => {
                kept.push(piece);
                Ok(())
            }
        }
    }
    /// Called after every entry: the test inlined, the hand-over not.
    #[inline(always)]
    fn full(&mut self) -> Result<(), Stopped> {
        if self.buf.len() >= PIECE {
            self.hand_over()?;
        }
        Ok(())
    }
    #[cold]
    #[inline(never)]
    fn hand_over(&mut self) -> Result<(), Stopped> {
        let full = std::mem::take(&mut self.buf);
        self.send(Bytes::Owned(full), false)
    }
    /// `bytes` lent to the writer, after what was made before them.
    fn lend(&mut self, bytes: &'p [u8]) -> Result<(), Stopped> {
        if !self.buf.is_empty() {
            self.hand_over()?;
        }
        self.send(Bytes::Lent(bytes), false)
    }
    /// u32 values, little-endian (at most [`VALUES_PER_JOB`] at a time).
    fn values(&mut self, vals: impl ExactSizeIterator<Item = u32>) {
        let buf = self.buf();
        let start = buf.len();
        buf.resize(start + 4 * vals.len(), 0);
        for (d, v) in buf[start..].chunks_exact_mut(4).zip(vals) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }
    /// The job's last piece (empty for a preparation).
    fn finish(mut self) -> Result<(), Stopped> {
        let last = std::mem::take(&mut self.buf);
        self.send(Bytes::Owned(last), true)
    }
    /// A job made by the writer itself ([`To::Here`]): all its pieces,
    /// the last one included.
    fn finish_here(mut self) -> Vec<Piece<'p>> {
        let last = std::mem::take(&mut self.buf);
        let _ = self.send(Bytes::Owned(last), true);
        match self.to {
            To::Here(pieces) => pieces,
            To::Writer(_) => Vec::new(),
        }
    }
}

/// One pair seen from one of its points, for PEERS: its matches in the
/// order of this point's frames (then the peer's), from `next` on.
struct Side<'p> {
    peer: u16,
    /// This point is the pair's a.
    is_a: bool,
    store: &'p PairStore,
    /// For a b side: match indexes by (frame b, frame a).
    order: &'p [u32],
    next: usize,
}

impl Side<'_> {
    /// The next match's index and this point's frame of it.
    #[inline(always)]
    fn at(&self) -> Option<(usize, u32)> {
        let m = &self.store.matches;
        if self.is_a {
            m.get(self.next).map(|m| (self.next, m.frame_a))
        } else {
            let k = *self.order.get(self.next)? as usize;
            Some((k, m[k].frame_b))
        }
    }
    /// Moves to the first match of this point's frame `frame` or later.
    fn seek(&mut self, frame: u32) {
        let m = &self.store.matches;
        self.next = if self.is_a {
            m.partition_point(|m| m.frame_a < frame)
        } else {
            self.order
                .partition_point(|&k| m[k as usize].frame_b < frame)
        };
    }
}

/// Everything the jobs share.
struct Plan<'b> {
    b: &'b IndexBuilder,
    pairs: Vec<((u16, u16), &'b PairStore)>,
    /// Section kinds in file order.
    kinds: Vec<u32>,
    jobs: Vec<(Job, Option<Mark>)>,
    total_frames: u64,
    /// PEERS: entries, and the length of its count and FIRST tables.
    entries: u64,
    first_len: u64,
    facts: Vec<OnceLock<Facts>>,
    summaries: Vec<OnceLock<Vec<Cow<'b, str>>>>,
    lost: OnceLock<Vec<u8>>,
    orders: Vec<OnceLock<Vec<u32>>>,
    small: OnceLock<Small>,
}

/// [`IndexBuilder::write_to`].
pub(super) fn write_to<W: Write>(b: &IndexBuilder, mut w: W) -> io::Result<u64> {
    let copy;
    let stores: &Stores = if b.prepared {
        &b.matches
    } else {
        let mut c = b.matches.clone();
        c.values_mut().for_each(PairStore::prepare);
        copy = c;
        &copy
    };
    let plan = Plan::new(b, stores);
    // Before the channels, which may hold pieces that borrow it.
    let spare = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS);
    let (senders, receivers): (Vec<_>, Vec<_>) = plan
        .jobs
        .iter()
        .map(|_| {
            let (tx, rx) = mpsc::sync_channel::<Piece>(1);
            (Mutex::new(Some(tx)), rx)
        })
        .unzip();
    let (tokens, token) = mpsc::channel::<()>();
    for _ in 0..WINDOW_PER_WORKER * workers {
        let _ = tokens.send(());
    }
    let token = Mutex::new(token);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let work = || plan.work(&next, &token, &senders, &spare);
        // As many as the system starts; with none, the writer runs every
        // job itself (Scope::spawn panicked here before).
        let handles: Vec<_> = (0..workers)
            .map_while(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
            .collect();
        let alone = handles.is_empty();
        // Returning drops the receivers and the tokens: a worker stops at
        // its next piece or claim.
        let written = plan.write(receivers, tokens, &spare, &mut w, alone);
        for h in handles {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
        // Flushed here, so a failing last write is reported, not dropped
        // (not after a failed write: a buffered writer would try its
        // bytes again).
        let n = written?;
        w.flush().map(|()| n)
    })
}

impl<'b> Plan<'b> {
    fn new(b: &'b IndexBuilder, stores: &'b Stores) -> Plan<'b> {
        let n = b.points.len();
        let pairs: Vec<_> = stores.iter().map(|(k, s)| (*k, s)).collect();
        let total_frames: u64 = b.points.iter().map(|p| p.checks.len() as u64).sum();
        let entries = 2 * pairs.iter().map(|p| p.1.matches.len() as u64).sum::<u64>();
        let mut kinds = vec![
            kind::POINTS,
            kind::METHODS,
            kind::PAIRS,
            kind::TRANSLATIONS,
            kind::STRINGS,
            kind::FRAME_CHECKS,
            kind::FRAME_TIMES,
            kind::PEERS,
            kind::LOST,
        ];
        if b.pairs
            .keys()
            .any(|&(a, c)| b.writable_segments(a, c).is_some())
        {
            kinds.push(kind::CLOCK_SEGMENTS);
        }
        if b.session.is_some() {
            kinds.push(kind::SESSION);
        }
        // Last, so that it can cover every byte before it.
        kinds.push(kind::CHECKSUM);
        let summary_jobs = b.translations.len().div_ceil(SUMMARIES_PER_JOB);
        let mut plan = Plan {
            b,
            kinds,
            jobs: Vec::new(),
            total_frames,
            entries,
            first_len: 8 + 4 * (total_frames + n as u64),
            facts: (0..n).map(|_| OnceLock::new()).collect(),
            summaries: (0..summary_jobs).map(|_| OnceLock::new()).collect(),
            lost: OnceLock::new(),
            orders: (0..pairs.len()).map(|_| OnceLock::new()).collect(),
            small: OnceLock::new(),
            pairs,
        };
        plan.jobs = plan.make_jobs();
        plan
    }

    /// The jobs in file order, preparations first.
    fn make_jobs(&self) -> Vec<(Job, Option<Mark>)> {
        let n = self.b.points.len() as u16;
        let mut jobs: Vec<(Job, Option<Mark>)> = Vec::new();
        let mut push = |mark: Option<Mark>, list: &mut dyn Iterator<Item = Job>| {
            let at = jobs.len();
            jobs.extend(list.map(|j| (j, None)));
            if mark.is_some() {
                if jobs.len() == at {
                    jobs.push((Job::Nothing, None));
                }
                jobs[at].1 = mark;
            }
        };
        push(None, &mut (0..n).map(Job::Facts));
        push(None, &mut (0..self.summaries.len()).map(Job::Summaries));
        push(None, &mut std::iter::once(Job::Lost));
        push(None, &mut std::iter::once(Job::Head));
        // Every point's frames `start..frames + extra` in runs of `len`, as jobs.
        let per_point =
            |start: usize, extra: usize, len: usize, job: fn(u16, usize, usize) -> Job| {
                (0..n).flat_map(move |point| {
                    let frames = self.b.points[point as usize].checks.len();
                    runs(start, frames + extra, len).map(move |(from, to)| job(point, from, to))
                })
            };
        for &k in &self.kinds {
            let mark = Some(Mark::Section(k));
            match k {
                kind::FRAME_CHECKS => {
                    // The orders first: they are needed by PEERS.
                    push(None, &mut (0..self.pairs.len()).map(Job::Order));
                    push(
                        mark,
                        &mut per_point(0, 0, VALUES_PER_JOB, |point, from, to| Job::Checks {
                            point,
                            from,
                            to,
                        }),
                    );
                }
                kind::FRAME_TIMES => {
                    push(mark, &mut std::iter::once(Job::TimesHead));
                    push(
                        None,
                        &mut per_point(0, 0, VALUES_PER_JOB, |point, from, to| Job::Times {
                            point,
                            from,
                            to,
                        }),
                    );
                }
                kind::PEERS => {
                    // FIRST: values 0..=frames; entries: frames 1..=frames.
                    push(mark, &mut std::iter::once(Job::PeersHead));
                    push(
                        None,
                        &mut per_point(0, 1, VALUES_PER_JOB, |point, from, to| Job::First {
                            point,
                            from: from as u32,
                            to: to as u32,
                        }),
                    );
                    push(
                        Some(Mark::PeerEntries),
                        &mut per_point(1, 1, FRAMES_PER_ENTRIES_JOB as usize, |point, from, to| {
                            Job::Entries {
                                point,
                                from: from as u32,
                                to: to as u32,
                            }
                        }),
                    );
                }
                // The writer's own.
                kind::CHECKSUM => {}
                _ => push(mark, &mut std::iter::once(Job::Whole(k))),
            }
        }
        jobs
    }

    /// A worker: claims jobs in order (one token each) until there are none
    /// or the writer stopped.
    fn work<'p>(
        &'p self,
        next: &AtomicUsize,
        token: &Mutex<mpsc::Receiver<()>>,
        senders: &[Mutex<Option<mpsc::SyncSender<Piece<'p>>>>],
        spare: &'p Mutex<Vec<Vec<u8>>>,
    ) {
        loop {
            let got = token.lock().unwrap_or_else(PoisonError::into_inner).recv();
            let k = next.fetch_add(1, Ordering::Relaxed);
            if got.is_err() || k >= self.jobs.len() {
                return;
            }
            // Taken, so that it is dropped if this job panics: the writer
            // then stops waiting for it.
            let tx = senders[k]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let Some(tx) = tx else { return };
            let mut out = Out {
                to: To::Writer(tx),
                spare,
                buf: Vec::new(),
            };
            if self
                .run(self.jobs[k].0, &mut out)
                .and_then(|()| out.finish())
                .is_err()
            {
                return;
            }
        }
    }

    /// The writer: every job's pieces in file order, the padding between
    /// sections, the CHECKSUM section.  Returns the bytes written.
    fn write<'p, W: Write>(
        &'p self,
        receivers: Vec<mpsc::Receiver<Piece<'p>>>,
        tokens: mpsc::Sender<()>,
        spare: &'p Mutex<Vec<Vec<u8>>>,
        w: &mut W,
        alone: bool,
    ) -> io::Result<u64> {
        let mut sink = Sink {
            w,
            crc: crc32fast::Hasher::new(),
            written: 0,
        };
        // A piece into the file, its buffer kept for another.
        let put = |sink: &mut Sink<'_, W>, piece: Piece<'_>| -> io::Result<()> {
            sink.put(piece.bytes.as_slice(), Some(piece.crc))?;
            if let Bytes::Owned(mut v) = piece.bytes {
                let mut pool = spare.lock().unwrap_or_else(PoisonError::into_inner);
                if v.capacity() >= PIECE && pool.len() < SPARE_PIECES {
                    v.clear();
                    pool.push(v);
                }
            }
            Ok(())
        };
        for (rx, &(job, mark)) in receivers.iter().zip(&self.jobs) {
            if let Some(mark) = mark {
                let small = self.small();
                let at = match mark {
                    Mark::Section(k) => small.offset(k),
                    Mark::PeerEntries => small.offset(kind::PEERS) + align8(self.first_len),
                };
                sink.pad_to(at)?;
            }
            if alone {
                // No worker: the job made here, its pieces (about one)
                // kept until it is done.
                let mut out = Out {
                    to: To::Here(Vec::new()),
                    spare,
                    buf: Vec::new(),
                };
                // Kept here, a piece is never refused (no Stopped).
                let _ = self.run(job, &mut out);
                for piece in out.finish_here() {
                    put(&mut sink, piece)?;
                }
                continue;
            }
            loop {
                // Only a panicking worker drops a job's sender unfinished
                // (write_to passes its panic on).
                let piece = rx
                    .recv()
                    .map_err(|_| io::Error::other("the index maker stopped"))?;
                let last = piece.last;
                put(&mut sink, piece)?;
                if last {
                    break;
                }
            }
            let _ = tokens.send(());
        }
        let small = self.small();
        sink.pad_to(small.offset(kind::CHECKSUM))?;
        let crc = std::mem::take(&mut sink.crc).finalize();
        sink.put(&header::checksum::section(crc), None)?;
        if sink.written != small.total_len {
            return Err(io::Error::other(format!(
                "index layout: {} bytes written for a TOTAL_LEN of {} (a bug)",
                sink.written, small.total_len
            )));
        }
        Ok(sink.written)
    }

    /// Makes job `job`'s bytes into `out`.
    fn run<'p>(&'p self, job: Job, out: &mut Out<'p>) -> Result<(), Stopped> {
        let points = &self.b.points;
        match job {
            Job::Facts(p) => {
                self.facts(p);
            }
            Job::Summaries(c) => {
                self.summaries(c);
            }
            Job::Lost => {
                self.lost();
            }
            Job::Order(i) => {
                self.order(i);
            }
            Job::Head => out.lend(&self.small().head)?,
            Job::Whole(kind::LOST) => out.lend(self.lost())?,
            Job::Whole(k) => out.lend(self.small().bytes(k))?,
            Job::Checks { point, from, to } => {
                out.values(points[point as usize].checks[from..to].iter().copied())
            }
            Job::TimesHead => {
                use times::field::{point, POINT_COUNT};
                let mut head = [0u8; times::field::HEADER_LEN];
                head[POINT_COUNT].copy_from_slice(&(points.len() as u32).to_le_bytes());
                out.buf().extend_from_slice(&head);
                for p in 0..points.len() {
                    let f = self.facts(p as u16);
                    let mut entry = [0u8; point::LEN];
                    entry[point::BASE_NS].copy_from_slice(&f.base.to_le_bytes());
                    entry[point::SHIFT] = f.shift;
                    out.buf().extend_from_slice(&entry);
                }
            }
            Job::Times { point, from, to } => {
                let f = self.facts(point);
                let (base, shift) = (f.base, f.shift);
                out.values(
                    points[point as usize].ts[from..to]
                        .iter()
                        .map(|&t| times::encode(base, shift, t)),
                )
            }
            Job::PeersHead => out.buf().extend_from_slice(&self.entries.to_le_bytes()),
            Job::First { point, from, to } => self.first(point, from, to, out),
            Job::Entries { point, from, to } => self.peer_entries(point, from, to, out)?,
            Job::Nothing => {}
        }
        Ok(())
    }

    /// Values `from..to` of `point`'s FIRST table: value i counts the
    /// point's entries of frames 1..=i.
    fn first(&self, point: u16, from: u32, to: u32, out: &mut Out<'_>) {
        let mut sides = self.sides(point, from);
        let mut total: u32 = sides.iter().map(|s| s.next as u32).sum();
        out.values((from..to).map(|i| {
            for s in &mut sides {
                while s.at().is_some_and(|(_, f)| f == i) {
                    s.next += 1;
                    total += 1;
                }
            }
            total
        }));
    }

    /// PEERS' entries of frames `from..to` of `point`; within a frame the
    /// pairs with lower points first (there `point` is b), each pair's
    /// matches by peer frame.
    fn peer_entries(
        &self,
        point: u16,
        from: u32,
        to: u32,
        out: &mut Out<'_>,
    ) -> Result<(), Stopped> {
        let mut sides = self.sides(point, from);
        for f in from..to {
            for side in &mut sides {
                while let Some((k, this)) = side.at() {
                    if this != f {
                        break;
                    }
                    let s = side.store;
                    let m = &s.matches[k];
                    let (a, b, peer_frame) = if side.is_a {
                        (point, side.peer, m.frame_b)
                    } else {
                        (side.peer, point, m.frame_a)
                    };
                    let delta = match s.deltas.get(k) {
                        Some(&d) => d,
                        None => self.b.frame_delta(a, b, m),
                    };
                    let entry = peers::entry_bytes(&Peer {
                        point: side.peer,
                        frame: peer_frame,
                        method: m.method,
                        confidence: m.confidence(),
                        delta_raw_ns: if side.is_a {
                            delta
                        } else {
                            delta.saturating_neg()
                        },
                    });
                    out.buf().extend_from_slice(&entry);
                    out.full()?;
                    side.next += 1;
                }
            }
        }
        Ok(())
    }

    /// The pairs that hold `point`, those where it is b first (lower peers),
    /// each at its first match of frame `frame` or later.
    fn sides(&self, point: u16, frame: u32) -> Vec<Side<'_>> {
        let mut sides = Vec::new();
        for (i, &((a, b), store)) in self.pairs.iter().enumerate() {
            if b == point {
                sides.push(Side {
                    peer: a,
                    is_a: false,
                    store,
                    order: self.order(i),
                    next: 0,
                });
            }
        }
        for &((a, b), store) in &self.pairs {
            if a == point {
                sides.push(Side {
                    peer: b,
                    is_a: true,
                    store,
                    order: &[],
                    next: 0,
                });
            }
        }
        for s in &mut sides {
            s.seek(frame);
        }
        sides
    }

    fn facts(&self, p: u16) -> &Facts {
        self.facts[p as usize].get_or_init(|| {
            let d = &self.b.points[p as usize];
            let (min, max) =
                d.ts.iter()
                    .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            let (base, shift) = if d.ts.is_empty() {
                times::choose(0, 0)
            } else {
                times::choose(min, max)
            };
            Facts {
                fingerprint: checks::checks_fingerprint(d.checks.iter().copied()),
                base,
                shift,
            }
        })
    }

    /// Summaries of translations `c × SUMMARIES_PER_JOB ..`, in the order
    /// they were added.
    fn summaries(&self, c: usize) -> &[Cow<'b, str>] {
        self.summaries[c].get_or_init(|| {
            let b = self.b;
            let all = &b.translations;
            let from = c * SUMMARIES_PER_JOB;
            all[from..(from + SUMMARIES_PER_JOB).min(all.len())]
                .iter()
                .map(|t| {
                    let label = |p: u16| b.points[p as usize].label.as_str();
                    t.summary_text(label(t.a), label(t.b))
                })
                .collect()
        })
    }

    fn summary(&self, i: usize) -> &str {
        &self.summaries(i / SUMMARIES_PER_JOB)[i % SUMMARIES_PER_JOB]
    }

    /// The LOST section.
    fn lost(&self) -> &[u8] {
        self.lost.get_or_init(|| {
            let n = self.b.points.len();
            let mut sorted = self.b.lost.clone();
            sorted.sort_unstable_by_key(|(p, l)| (*p, l.frame, l.point, l.kind));
            sorted.dedup_by_key(|(p, l)| (*p, l.frame, l.point));
            let mut lst = Vec::new();
            lst.extend_from_slice(&(n as u32).to_le_bytes());
            lst.extend_from_slice(&0u32.to_le_bytes());
            let mut counts = vec![0u32; n];
            for (p, _) in &sorted {
                counts[*p as usize] += 1;
            }
            for c in counts {
                lst.extend_from_slice(&c.to_le_bytes());
            }
            lst.resize(align8(lst.len() as u64) as usize, 0);
            for (_, l) in &sorted {
                lost::write_entry(&mut lst, l);
            }
            lst
        })
    }

    /// Pair `i`'s match indexes by (frame b, frame a).
    fn order(&self, i: usize) -> &[u32] {
        self.orders[i].get_or_init(|| {
            let ((_, b), store) = self.pairs[i];
            by_frame_b(&store.matches, self.b.points[b as usize].checks.len())
        })
    }

    fn small(&self) -> &Small {
        self.small.get_or_init(|| self.make_small())
    }

    /// The small sections (strings in the order of POINTS, SESSION,
    /// METHODS, TRANSLATIONS), the layout, the header.
    fn make_small(&self) -> Small {
        let b = self.b;
        let n = b.points.len();
        let mut blob = Blob::default();
        let mut sections = Vec::new();

        let mut pts = Vec::with_capacity(table_field::LEN + n * points::field::record::LEN);
        pts.extend_from_slice(&(n as u32).to_le_bytes());
        pts.extend_from_slice(&(points::field::record::LEN as u32).to_le_bytes());
        for (i, p) in b.points.iter().enumerate() {
            let (l, path) = (blob.add(&p.label), blob.add(&p.path));
            points::write_record(
                &mut pts,
                &points::Record {
                    label: l,
                    path,
                    file_size: p.file_size,
                    packets: p.checks.len() as u32,
                    first_ts: p.ts.first().copied().unwrap_or(0),
                    last_ts: p.ts.last().copied().unwrap_or(0),
                    fingerprint: self.facts(i as u16).fingerprint,
                    details: p.details,
                },
            );
        }
        sections.push((kind::POINTS, pts));

        let mut ses = Vec::new();
        if let Some(spec) = &b.session {
            let (e, w, c) = (
                blob.add(&spec.evidence),
                blob.add(&spec.warnings),
                blob.add(&spec.clocks),
            );
            session::write(&mut ses, spec, e, w, c);
        }
        sections.push((kind::SESSION, ses));

        let mut meth = Vec::new();
        meth.extend_from_slice(&(b.methods.len() as u32).to_le_bytes());
        meth.extend_from_slice(&0u32.to_le_bytes());
        for (id, name) in &b.methods {
            let r = blob.add(name);
            methods::write_entry(&mut meth, *id, r);
        }
        sections.push((kind::METHODS, meth));

        // PAIRS, and CLOCK_SEGMENTS where a pair's clocks stepped (its PAIRS
        // record repeats the first segment).
        let mut prs = Vec::new();
        prs.extend_from_slice(&(b.pairs.len() as u32).to_le_bytes());
        prs.extend_from_slice(&(pairs::field::LEN as u32).to_le_bytes());
        let mut segs = Vec::new();
        segs.extend_from_slice(&0u32.to_le_bytes());
        segs.extend_from_slice(&(segments::field::LEN as u32).to_le_bytes());
        let mut seg_count = 0u32;
        for (&(a, c), spec) in &b.pairs {
            let mut spec = *spec;
            if let Some(list) = b.writable_segments(a, c) {
                spec.clock = Some(list[0].model);
                spec.offset_error_ns = list[0].offset_error_ns;
                for s in list {
                    segments::write_record(&mut segs, a, c, s);
                    seg_count += 1;
                }
            }
            pairs::write_record(&mut prs, a, c, &spec);
        }
        segs[..4].copy_from_slice(&seg_count.to_le_bytes());
        sections.push((kind::PAIRS, prs));
        sections.push((kind::CLOCK_SEGMENTS, segs));

        // TRANSLATIONS (stable sort: each pair's records in the order added)
        let mut sorted: Vec<usize> = (0..b.translations.len()).collect();
        sorted.sort_by_key(|&i| (b.translations[i].a, b.translations[i].b));
        let mut trs =
            Vec::with_capacity(table_field::LEN + sorted.len() * translations::field::LEN);
        trs.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
        trs.extend_from_slice(&(translations::field::LEN as u32).to_le_bytes());
        for i in sorted {
            let r = blob.add(self.summary(i));
            translations::write_record(&mut trs, &b.translations[i], r);
        }
        sections.push((kind::TRANSLATIONS, trs));
        sections.push((kind::STRINGS, blob.text.into_bytes()));

        // Layout: header, section table, sections 8-aligned.
        let lens: Vec<(u32, u64)> = self
            .kinds
            .iter()
            .map(|&k| {
                let len = match k {
                    kind::FRAME_CHECKS => 4 * self.total_frames,
                    kind::FRAME_TIMES => {
                        (times::field::HEADER_LEN + times::field::point::LEN * n) as u64
                            + 4 * self.total_frames
                    }
                    kind::PEERS => align8(self.first_len) + 16 * self.entries,
                    kind::LOST => self.lost().len() as u64,
                    kind::CHECKSUM => header::checksum::LEN as u64,
                    k => sections
                        .iter()
                        .find(|s| s.0 == k)
                        .map_or(0, |s| s.1.len() as u64),
                };
                (k, len)
            })
            .collect();
        let table_end = header::field::LEN + lens.len() * entry_field::ENTRY_LEN;
        let mut offsets = Vec::with_capacity(lens.len());
        let mut at = align8(table_end as u64);
        for &(k, len) in &lens {
            offsets.push((k, at));
            at = align8(at + len);
        }
        let total_len = at;
        let mut head = Vec::with_capacity(table_end);
        header::write(&mut head, total_len, b.created_ns, lens.len() as u32);
        for (&(k, len), &(_, o)) in lens.iter().zip(&offsets) {
            header::write_entry(&mut head, k, 0, o, len);
        }
        Small {
            head,
            sections,
            offsets,
            total_len,
        }
    }
}

/// The writing end: counts, checksums, pads.
struct Sink<'w, W: Write> {
    w: &'w mut W,
    crc: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> Sink<'_, W> {
    /// Writes `bytes`, whose CRC is `crc` when known.
    fn put(&mut self, bytes: &[u8], crc: Option<u32>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.w.write_all(bytes)?;
        let len = bytes.len() as u64;
        match crc {
            Some(c) => self
                .crc
                .combine(&crc32fast::Hasher::new_with_initial_len(c, len)),
            None => self.crc.update(bytes),
        }
        self.written += len;
        Ok(())
    }

    /// Zero bytes up to absolute offset `to`.
    fn pad_to(&mut self, to: u64) -> io::Result<()> {
        if self.written > to {
            return Err(io::Error::other(format!(
                "index layout: a section at {to} after {} bytes (a bug)",
                self.written
            )));
        }
        const ZEROS: [u8; 8] = [0; 8];
        while self.written < to {
            let n = (to - self.written).min(ZEROS.len() as u64) as usize;
            self.put(&ZEROS[..n], None)?;
        }
        Ok(())
    }
}

/// Indexes of `matches` (sorted by frame a, then frame b, no two alike:
/// [`PairStore::prepare`]) in the order of (frame b, frame a): a stable
/// counting sort by frame b (`frames_b`: the b point's frame count), in
/// time linear in the matches and frames.
fn by_frame_b(matches: &[super::PairMatch], frames_b: usize) -> Vec<u32> {
    // start[f]: the first slot of frame f's matches (frames are 1-based;
    // a frame number past the count only makes the table longer).
    let top = matches
        .iter()
        .map(|m| m.frame_b as usize)
        .max()
        .unwrap_or(0);
    let mut start = vec![0u32; frames_b.max(top) + 2];
    for m in matches {
        start[m.frame_b as usize + 1] += 1;
    }
    for f in 1..start.len() {
        start[f] += start[f - 1];
    }
    let mut order = vec![0u32; matches.len()];
    for (k, m) in matches.iter().enumerate() {
        let slot = &mut start[m.frame_b as usize];
        order[*slot as usize] = k as u32;
        *slot += 1;
    }
    order
}

/// `from..to` in runs of at most `len`.
fn runs(from: usize, to: usize, len: usize) -> impl Iterator<Item = (usize, usize)> {
    (from..to).step_by(len).map(move |s| (s, (s + len).min(to)))
}
