//! The writer's jobs run on every core, and which worker makes which
//! preparation or piece, and when, changes from run to run.  A session
//! large enough for many jobs per section, and for the writer to fall
//! behind, gives the same bytes every time, and every frame's peers,
//! check and time read back are the ones added.  A slow sink gets the
//! same bytes; a sink that fails part-way gets its own error back, and
//! nothing waits for ever.

use index::builder::PairMatch;
use index::header::{self, kind};
use index::{Index, IndexBuilder, Peer};
use std::fmt;
use std::io::{self, Write};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;
/// Frames per point: two FRAME_CHECKS jobs, ten PEERS entries jobs each.
const FRAMES: u32 = 300_000;
const POINTS: u16 = 4;
/// Nanoseconds between a point's frames: time spans of 0.3 s, 7.5 s,
/// 300 s and 106 s, so that FRAME_TIMES stores them in units of 1, 2, 128
/// and 32 ns (docs/index-format.md, FRAME_TIMES).
const SPACING: [i64; POINTS as usize] = [1_000, 25_000, 1_000_003, 333_337];

/// Frame f's time stamp at point p.  At point 3 frames 25,000, 75,000, ...,
/// 275,000 are stamped seconds before the first frame (a clock stepped
/// back): there the smallest time stamp is not the first frame's.
fn ts(p: u16, f: u32) -> i64 {
    if p == 3 && f % 50_000 == 25_000 {
        return T0 - i64::from(f / 50_000 + 1) * 1_000_000_007;
    }
    T0 + i64::from(p) * 1_000_000 + i64::from(f) * SPACING[p as usize]
}

/// Frame f's check at point p.
fn check(p: u16, f: u32) -> u32 {
    f * 7 + u32::from(p)
}

/// The matches of pair (a, b) as (frame a, frame b, method, confidence):
/// neighbours share every frame, and every fifth also with the next frame
/// (one-to-many); other pairs every tenth frame.  Given in reverse blocks
/// of 1000, as a matcher gives them (by connection, not by frame).
fn matches(a: u16, b: u16) -> Vec<(u32, u32, u8, u8)> {
    let step = if b == a + 1 { 1 } else { 10 };
    let mut v = Vec::new();
    for f in (1..=FRAMES).step_by(step) {
        let conf = (f % 200) as u8 + 55;
        v.push((f, f, (f % 3) as u8 + 1, conf));
        if step == 1 && f % 5 == 0 && f < FRAMES {
            v.push((f, f + 1, 5, conf / 2));
        }
    }
    let mut out = Vec::with_capacity(v.len());
    for block in v.chunks(1000).rev() {
        out.extend_from_slice(block);
    }
    out
}

fn pairs() -> Vec<(u16, u16)> {
    let mut p = Vec::new();
    for a in 0..POINTS {
        for b in a + 1..POINTS {
            p.push((a, b));
        }
    }
    p
}

fn session() -> IndexBuilder {
    let mut b = IndexBuilder::new();
    b.created_ns(T0);
    for p in 0..POINTS {
        let label = format!("p{p}");
        b.add_point(&label, &format!("/c/{label}.pcap"), 100)
            .unwrap();
        let times = (1..=FRAMES).map(|f| ts(p, f)).collect();
        let checks = (1..=FRAMES).map(|f| check(p, f)).collect();
        b.add_frames(p, times, checks).unwrap();
    }
    for (a, c) in pairs() {
        let v = matches(a, c)
            .into_iter()
            .map(|(fa, fb, method, conf)| PairMatch::new(fa, fb, method, conf))
            .collect();
        b.add_pair_matches(a, c, v).unwrap();
    }
    b.prepare();
    b
}

/// The session and the bytes `build` gives, made once for every test here.
fn built() -> &'static (IndexBuilder, Vec<u8>) {
    static BUILT: OnceLock<(IndexBuilder, Vec<u8>)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let b = session();
        let bytes = b.build();
        (b, bytes)
    })
}

type Expected = (u16, u32, u8, u8, i64);

/// Every frame's peers as added: both sides of every match, by (peer
/// point, peer frame), the delta the time stamps give.
fn expected() -> Vec<Vec<Vec<Expected>>> {
    let mut exp = vec![vec![Vec::new(); FRAMES as usize + 1]; POINTS as usize];
    for (a, b) in pairs() {
        for (fa, fb, method, conf) in matches(a, b) {
            let d = ts(b, fb) - ts(a, fa);
            exp[a as usize][fa as usize].push((b, fb, method, conf, d));
            exp[b as usize][fb as usize].push((a, fa, method, conf, -d));
        }
    }
    for list in exp.iter_mut().flatten() {
        list.sort_unstable_by_key(|e| (e.0, e.1));
    }
    exp
}

#[test]
fn every_schedule_writes_the_same_bytes_and_peers() {
    let (b, first) = built();
    for run in 1..5 {
        assert!(b.build() == *first, "run {run} wrote other bytes");
    }
    let ix = Index::load(first).unwrap();
    let exp = expected();
    for p in 0..POINTS {
        for f in 1..=FRAMES {
            let got: Vec<Expected> = ix
                .peers(p, f)
                .map(|x: Peer| (x.point, x.frame, x.method, x.confidence, x.delta_raw_ns))
                .collect();
            assert_eq!(got, exp[p as usize][f as usize], "point {p} frame {f}");
        }
    }
}

/// Where `got` and `want` first differ, for a message shorter than the
/// bytes.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(g, w)| g != w) {
        Some(at) => format!("byte {at} differs (of {} written)", got.len()),
        None => format!("{} bytes written for {}", got.len(), want.len()),
    }
}

/// `write_to` of the session into `sink`, on a thread of its own, so that a
/// writer or worker that never returns fails the test instead of hanging it
/// (after 60 s: generous for a debug build on a busy machine).
fn write_within<S: Write + Send + 'static>(what: &str, sink: S) -> (io::Result<u64>, S) {
    const LIMIT: Duration = Duration::from_secs(60);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = sink;
        let r = built().0.write_to(&mut sink);
        let _ = tx.send((r, sink));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(done) => done,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!(
                "{what}: write_to did not return within {LIMIT:?}: the writer or a worker \
                 waits for ever"
            )
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: write_to panicked"),
    }
}

/// A sink slower than the workers: it takes 1 byte to 64 KiB a call,
/// refuses every 13th call with `Interrupted` (which `write_all` retries),
/// and sleeps at its first call and again after every 4 MiB, long enough
/// for the workers to make every job of their window and wait, for a
/// token or for the writer to take a piece.  (That they waited cannot be
/// seen from here: the sleeps only give them the time to.)
#[derive(Default)]
struct SlowSink {
    bytes: Vec<u8>,
    calls: usize,
    naps: usize,
    flushes: usize,
}

impl SlowSink {
    const NAP: Duration = Duration::from_millis(50);
    const NAP_EVERY: usize = 4 << 20;
    const TAKE: [usize; 6] = [1, 4093, 65_536, 7, 30_000, 65_536];
}

impl Write for SlowSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 13 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.bytes.len() >= self.naps * SlowSink::NAP_EVERY {
            std::thread::sleep(SlowSink::NAP);
            self.naps += 1;
        }
        let n = buf
            .len()
            .min(SlowSink::TAKE[self.calls % SlowSink::TAKE.len()]);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

/// Through a slow sink that takes a little at a time, `write_to` writes
/// `build`'s bytes, says how many, and flushes once.
#[test]
fn a_slow_sink_gets_the_same_bytes() {
    let first = &built().1;
    let (n, sink) = write_within("slow sink", SlowSink::default());
    assert_eq!(n.unwrap(), first.len() as u64);
    assert!(
        sink.bytes == *first,
        "{}",
        first_difference(&sink.bytes, first)
    );
    assert_eq!(sink.flushes, 1);
    // It slept at its start and after every 4 MiB, so in each of the
    // per-frame sections (FRAME_CHECKS, FRAME_TIMES, PEERS' FIRST tables:
    // 4.8 MB each here; PEERS' entries: 37 MB).
    assert!(
        sink.naps > first.len() / SlowSink::NAP_EVERY,
        "{} naps",
        sink.naps
    );
}

/// The error a [`FailingSink`] gives: the bytes it had taken.
#[derive(Debug, PartialEq, Eq)]
struct Refused(u64);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused after {} bytes", self.0)
    }
}

impl std::error::Error for Refused {}

/// A sink that takes `limit` bytes, then fails every call (`BrokenPipe`,
/// [`Refused`]); with `fail_flush`, its flush fails too.  Before it first
/// fails it sleeps, so that the workers fill their window and wait (for a
/// token, or for the writer to take a piece) when the error comes.
struct FailingSink {
    limit: u64,
    taken: u64,
    /// Calls after the first failure.
    calls_after: usize,
    failed: bool,
    flushes: usize,
    fail_flush: bool,
}

impl FailingSink {
    fn new(limit: u64, fail_flush: bool) -> FailingSink {
        FailingSink {
            limit,
            taken: 0,
            calls_after: 0,
            failed: false,
            flushes: 0,
            fail_flush,
        }
    }
    fn refused(&self) -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, Refused(self.taken))
    }
}

impl Write for FailingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed {
            self.calls_after += 1;
            return Err(self.refused());
        }
        let n = (buf.len() as u64).min(self.limit - self.taken);
        if n == 0 && !buf.is_empty() {
            self.failed = true;
            std::thread::sleep(Duration::from_millis(40));
            return Err(self.refused());
        }
        self.taken += n;
        Ok(n as usize)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        if self.fail_flush {
            return Err(self.refused());
        }
        Ok(())
    }
}

/// A sink that fails part-way — in the header, in FRAME_CHECKS (inside a
/// job's piece and where one job ends), in PEERS' entries, in CHECKSUM,
/// or at the flush — gets its error back from `write_to`, not a panic and
/// not a hang: `write_to` returns only once its workers have stopped (they
/// are scoped threads).  Nothing is written after the error and there is
/// no flush.
#[test]
fn a_failing_sink_gets_its_error_and_everything_stops() {
    let first = &built().1;
    let total = first.len() as u64;
    let sections = header::Header::new_checked(first)
        .unwrap()
        .sections()
        .unwrap();
    let section = |k: u32| sections.iter().find(|s| s.kind == k).unwrap();
    let (checks, peers) = (section(kind::FRAME_CHECKS), section(kind::PEERS));
    let ix = Index::load(first).unwrap();
    let entries: u64 = (0..POINTS).map(|p| ix.peer_count(p) as u64).sum();
    let entries_at = peers.offset + peers.len - 16 * entries;
    assert!(entries_at > peers.offset && checks.len > 2 << 20);
    let cases = [
        ("the magic", 0),
        ("the header", 20),
        ("FRAME_CHECKS, inside its first job", checks.offset + 12_345),
        (
            "FRAME_CHECKS, where its first job ends",
            checks.offset + (1 << 20),
        ),
        ("PEERS' entries, early", entries_at + 16 * 1000 + 5),
        (
            "PEERS' entries, late",
            entries_at + 3 * (peers.offset + peers.len - entries_at) / 4,
        ),
        ("CHECKSUM", total - 1),
    ];
    for (place, limit) in cases {
        let (r, sink) = write_within(place, FailingSink::new(limit, false));
        let e = r.expect_err(place);
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{place}: {e}");
        let inner = e.get_ref().and_then(|e| e.downcast_ref::<Refused>());
        assert_eq!(inner, Some(&Refused(limit)), "{place}: {e}");
        assert_eq!(sink.taken, limit, "{place}");
        assert_eq!(sink.calls_after, 0, "{place}: written to after the error");
        assert_eq!(sink.flushes, 0, "{place}: flushed after the error");
    }
    // Every byte taken, the flush fails.
    let (r, sink) = write_within("the flush", FailingSink::new(u64::MAX, true));
    let e = r.expect_err("the flush");
    let inner = e.get_ref().and_then(|e| e.downcast_ref::<Refused>());
    assert_eq!(inner, Some(&Refused(total)), "the flush: {e}");
    assert_eq!((sink.taken, sink.flushes), (total, 1));
}

/// Every frame's check and time read back through `Index`: the check as
/// added, the time as docs/index-format.md (FRAME_TIMES) says it is
/// stored — BASE_NS the point's smallest time stamp, SHIFT the smallest
/// that fits its span in 32 bits, each value round((ts − BASE_NS) /
/// 2^SHIFT), ties rounded up as `index::times::encode` does — which
/// `frame_time_ns` gives as BASE_NS + value × 2^SHIFT, within 2^(SHIFT−1)
/// ns of the time added.  Worked out here, not with the crate's own
/// `times` functions.
#[test]
fn every_frame_check_and_time_read_back() {
    let first = &built().1;
    let ix = Index::load(first).unwrap();
    let sections = header::Header::new_checked(first)
        .unwrap()
        .sections()
        .unwrap();
    let times = sections
        .iter()
        .find(|s| s.kind == kind::FRAME_TIMES)
        .unwrap();
    let mut shifts = Vec::new();
    for p in 0..POINTS {
        assert_eq!(ix.packets(p), FRAMES);
        assert_eq!((ix.check(p, 0), ix.check(p, FRAMES + 1)), (None, None));
        let all: Vec<i64> = (1..=FRAMES).map(|f| ts(p, f)).collect();
        let base = *all.iter().min().unwrap();
        let span = (*all.iter().max().unwrap() - base) as u64;
        let rounded = |d: u64, s: u32| if s == 0 { d } else { (d + (1 << (s - 1))) >> s };
        let shift = (0..=32)
            .find(|&s| rounded(span, s) <= u64::from(u32::MAX))
            .unwrap();
        shifts.push(shift);
        // This point's (BASE_NS, SHIFT) in the file.
        let at = (times.offset + 8 + 16 * u64::from(p)) as usize;
        let stored = i64::from_le_bytes(first[at..at + 8].try_into().unwrap());
        assert_eq!(
            (stored, u32::from(first[at + 8])),
            (base, shift),
            "point {p}"
        );
        let half = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
        for (f, &t) in (1..=FRAMES).zip(&all) {
            assert_eq!(ix.check(p, f), Some(check(p, f)), "point {p} frame {f}");
            let want = base + ((rounded((t - base) as u64, shift) << shift) as i64);
            let got = ix.frame_time_ns(p, f);
            assert_eq!(got, Some(want), "point {p} frame {f}: time {t}");
            assert!((want - t).abs() <= half, "point {p} frame {f}");
        }
    }
    // Units of 1, 2, 128 and 32 ns.
    assert_eq!(shifts, [0, 1, 7, 5]);
}
