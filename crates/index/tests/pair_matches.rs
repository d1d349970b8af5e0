//! Matches added in bulk per pair (`add_pair_matches`, the indexer's way)
//! and one by one (`add_match`) give the same index, and the peers read
//! back are the ones added: each frame's list in (peer point, peer frame)
//! order, duplicates kept once with the highest confidence, raw deltas from
//! the frames' time stamps unless a different one was given.

use index::builder::PairMatch;
use index::{Index, IndexBuilder, Peer};

const T0: i64 = 1_700_000_000_000_000_000;

/// Three points with 6 frames each; frame f of point p at T0 + p ms + f µs.
fn points() -> IndexBuilder {
    let mut b = IndexBuilder::new();
    b.created_ns(T0);
    for p in 0..3u16 {
        let label = ["client", "wan", "dc"][p as usize];
        b.add_point(label, &format!("/c/{label}.pcap"), 100)
            .unwrap();
        for f in 1..=6i64 {
            b.add_frame(p, ts(p, f as u32), f as u32 * 7 + u32::from(p))
                .unwrap();
        }
    }
    b
}

fn ts(p: u16, f: u32) -> i64 {
    T0 + i64::from(p) * 1_000_000 + i64::from(f) * 1_000
}

/// (point a, frame a, point b, frame b, method, confidence), a < b, in no
/// particular order, with a duplicate frame pair of lower confidence.
const MATCHES: &[(u16, u32, u16, u32, u8, u8)] = &[
    (0, 3, 1, 2, 2, 255),
    (0, 1, 1, 1, 2, 255),
    (0, 3, 1, 2, 2, 100), // duplicate, less sure: dropped
    (0, 3, 1, 3, 5, 200), // one-to-many (TSO)
    (1, 2, 2, 6, 1, 255),
    (1, 1, 2, 5, 1, 250),
    (0, 1, 2, 5, 9, 240),
];

fn peers_of(ix: &Index, p: u16, f: u32) -> Vec<(u16, u32, u8, u8, i64)> {
    ix.peers(p, f)
        .map(|x: Peer| (x.point, x.frame, x.method, x.confidence, x.delta_raw_ns))
        .collect()
}

#[test]
fn bulk_and_single_matches_give_the_same_index() {
    let mut bulk = points();
    for (a, b) in [(0u16, 1u16), (0, 2), (1, 2)] {
        let v: Vec<PairMatch> = MATCHES
            .iter()
            .filter(|m| (m.0, m.2) == (a, b))
            .map(|m| PairMatch::new(m.1, m.3, m.4, m.5))
            .collect();
        // In two parts: the second extends the first.
        let (x, y) = v.split_at(v.len() / 2);
        bulk.add_pair_matches(a, b, x.to_vec()).unwrap();
        bulk.add_pair_matches(a, b, y.to_vec()).unwrap();
    }
    let mut single = points();
    for &(a, fa, b, fb, method, conf) in MATCHES.iter().rev() {
        // Given from either side, with the delta the time stamps give.
        if fa % 2 == 0 {
            let d = ts(a, fa) - ts(b, fb);
            single.add_match(b, fb, a, fa, d, method, conf).unwrap();
        } else {
            let d = ts(b, fb) - ts(a, fa);
            single.add_match(a, fa, b, fb, d, method, conf).unwrap();
        }
    }
    let (x, y) = (bulk.build(), single.build());
    assert_eq!(x, y);
    bulk.prepare();
    assert_eq!(bulk.build(), x, "prepare() changes nothing written");

    let ix = Index::load(&x).unwrap();
    let d = |a: u16, fa: u32, b: u16, fb: u32| ts(b, fb) - ts(a, fa);
    assert_eq!(
        peers_of(&ix, 0, 3),
        vec![(1, 2, 2, 255, d(0, 3, 1, 2)), (1, 3, 5, 200, d(0, 3, 1, 3))]
    );
    assert_eq!(
        peers_of(&ix, 0, 1),
        vec![(1, 1, 2, 255, d(0, 1, 1, 1)), (2, 5, 9, 240, d(0, 1, 2, 5))]
    );
    // Point 1's frame 2: its a-side peer (point 0) first, then point 2.
    assert_eq!(
        peers_of(&ix, 1, 2),
        vec![(0, 3, 2, 255, d(1, 2, 0, 3)), (2, 6, 1, 255, d(1, 2, 2, 6))]
    );
    assert_eq!(
        peers_of(&ix, 2, 5),
        vec![(0, 1, 9, 240, d(2, 5, 0, 1)), (1, 1, 1, 250, d(2, 5, 1, 1))]
    );
    assert!(peers_of(&ix, 2, 1).is_empty());
}

#[test]
fn a_given_delta_that_differs_from_the_time_stamps_is_kept() {
    let mut b = points();
    b.add_pair_matches(0, 1, vec![PairMatch::new(1, 1, 2, 255)])
        .unwrap();
    // Frame 2 ↔ 2 given with a delta 10 µs off the time stamps, from b's side.
    let off = ts(1, 2) - ts(0, 2) + 10_000;
    b.add_match(1, 2, 0, 2, -off, 2, 255).unwrap();
    b.add_pair_matches(0, 1, vec![PairMatch::new(3, 3, 2, 255)])
        .unwrap();
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    let delta = |p: u16, f: u32| peers_of(&ix, p, f)[0].4;
    assert_eq!(delta(0, 1), ts(1, 1) - ts(0, 1));
    assert_eq!(delta(0, 2), off);
    assert_eq!(delta(1, 2), -off);
    assert_eq!(delta(0, 3), ts(1, 3) - ts(0, 3));
}

#[test]
fn bulk_matches_are_checked() {
    let mut b = points();
    assert!(b
        .add_pair_matches(1, 0, vec![PairMatch::new(1, 1, 2, 255)])
        .is_err());
    assert!(b
        .add_pair_matches(0, 1, vec![PairMatch::new(1, 7, 2, 255)])
        .is_err());
    assert!(b
        .add_pair_matches(0, 0, vec![PairMatch::new(1, 1, 2, 255)])
        .is_err());
    assert!(b
        .add_pair_matches(0, 3, vec![PairMatch::new(1, 1, 2, 255)])
        .is_err());
    // Nothing of the refused calls went in.
    let ix_bytes = b.build();
    let ix = Index::load(&ix_bytes).unwrap();
    assert!(peers_of(&ix, 0, 1).is_empty());
}
