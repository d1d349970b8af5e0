//! The writer's jobs run on every core, and which worker makes which
//! preparation or piece, and when, changes from run to run.  A session
//! large enough for many jobs per section, and for the writer to fall
//! behind, gives the same bytes every time, and every frame's peers read
//! back are the ones added.

use index::builder::PairMatch;
use index::{Index, IndexBuilder, Peer};

const T0: i64 = 1_700_000_000_000_000_000;
/// Frames per point: two FRAME_CHECKS jobs, ten PEERS entries jobs each.
const FRAMES: u32 = 300_000;
const POINTS: u16 = 4;

fn ts(p: u16, f: u32) -> i64 {
    T0 + i64::from(p) * 1_000_000 + i64::from(f) * 1_000
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
        let checks = (1..=FRAMES).map(|f| f * 7 + u32::from(p)).collect();
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
    let b = session();
    let first = b.build();
    for run in 1..5 {
        assert!(b.build() == first, "run {run} wrote other bytes");
    }
    let ix = Index::load(&first).unwrap();
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
