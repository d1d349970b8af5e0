//! CLOCK_SEGMENTS (format 1.1 on): a pair whose clock stepped, written,
//! loaded back, looked up per frame and per time stamp, and refused when
//! damaged.

mod common;

use common::{assemble, sections, T0};
use index::header::kind;
use index::{corrected_delta, BuildError, ClockModel, ClockSegment, Index, IndexBuilder, PairSpec};

const MS: i64 = 1_000_000;
/// b's clock: 1 s ahead of a's, then 1.5 s back at packet 10 (true time
/// T0 + 1 s): b's readings T0 + 1.005 s .. 1.405 s happen twice.
const OFFSET: i64 = 1_000 * MS;
const STEP: i64 = -1_500 * MS;
const TRANSIT: i64 = 5 * MS;
const PACKETS: i64 = 20;
const STEP_AT: i64 = 10;

fn b_clock(k: i64, t: i64) -> i64 {
    t + OFFSET + if k >= STEP_AT { STEP } else { 0 }
}

fn segments() -> [ClockSegment; 2] {
    let from = T0 + STEP_AT * 100 * MS;
    [
        ClockSegment {
            a_from_frame: 1,
            b_from_frame: 1,
            from_ns: T0,
            model: ClockModel::new(OFFSET, 0, T0),
            offset_error_ns: 2_000,
            before_ns: 0,
        },
        ClockSegment {
            a_from_frame: STEP_AT as u32 + 1,
            b_from_frame: STEP_AT as u32 + 1,
            from_ns: from,
            model: ClockModel::new(OFFSET + STEP, 0, from),
            offset_error_ns: 3_000,
            before_ns: from - 100 * MS,
        },
    ]
}

/// Points a and b; packet k (true time T0 + k × 100 ms) is frame k + 1 at
/// both, 5 ms later at b.
fn builder() -> IndexBuilder {
    let mut b = IndexBuilder::new();
    b.created_ns(T0 - 1);
    let pa = b.add_point("a", "/a.pcapng", 100).unwrap();
    let pb = b.add_point("b", "/b.pcapng", 100).unwrap();
    for k in 0..PACKETS {
        let t = T0 + k * 100 * MS;
        b.add_frame_bytes(pa, t, 60, &[k as u8; 60]).unwrap();
        b.add_frame_bytes(pb, b_clock(k, t + TRANSIT), 60, &[k as u8; 60])
            .unwrap();
    }
    for k in 0..PACKETS as u32 {
        let (ta, tb) = (
            b.frame_time(pa, k + 1).unwrap(),
            b.frame_time(pb, k + 1).unwrap(),
        );
        b.add_match(pa, k + 1, pb, k + 1, tb - ta, 2, 255).unwrap();
    }
    b.set_pair(
        0,
        1,
        PairSpec {
            matched: PACKETS as u32,
            ..PairSpec::default()
        },
    )
    .unwrap();
    b.set_clock_segments(0, 1, &segments()).unwrap();
    b
}

#[test]
fn round_trip_and_lookups() {
    let bytes = builder().build();
    let ix = Index::load(&bytes).unwrap();
    assert_eq!(ix.version(), (2, 0));
    let segs: Vec<ClockSegment> = ix.clock_segments(0, 1).collect();
    assert_eq!(segs, segments());
    assert_eq!(ix.clock_segments(1, 0).len(), 2);
    // The PAIRS record is the first segment.
    let pair = ix.pair(0, 1).unwrap();
    assert_eq!(pair.clock(), Some(segments()[0].model));
    assert_eq!(pair.offset_error_ns(), 2_000);
    assert_eq!(pair.matched(), PACKETS as u32);
    assert_eq!(ix.clock(0, 1), Some(segments()[0].model));
    // The step as a's clock sees it.
    assert_eq!(segs[1].step_from(&segs[0]), STEP);

    // Per frame, both sides: the corrected delta is the transit everywhere,
    // also in the stretch b's clock shows twice.
    for f in 1..=PACKETS as u32 {
        for (this, other, sign) in [(0u16, 1u16, 1), (1, 0, -1)] {
            let peer = ix.peers(this, f).next().unwrap();
            assert_eq!(peer.frame, f);
            let ts = ix.frame_time_ns(this, f).unwrap();
            let c = ix.corrected_delta(this, f, &peer, ts).unwrap();
            assert_eq!(c, sign * TRANSIT, "{this} frame {f}");
            let m = ix.clock_at(this, f, other).unwrap();
            let want = if f as i64 > STEP_AT { 1 } else { 0 };
            let seg = segments()[want].model;
            assert_eq!(m, if this == 0 { seg } else { seg.inverse() });
        }
    }
    // By time stamp only: a's clock did not step, so a's readings are
    // unambiguous; b's readings T0 + 1.005 .. 1.405 s exist twice and get
    // the later segment.
    for f in 1..=PACKETS as u32 {
        let ta = ix.frame_time_ns(0, f).unwrap();
        assert_eq!(ix.clock_at_time(0, ta, 1), ix.clock_at(0, f, 1));
        let tb = ix.frame_time_ns(1, f).unwrap();
        let later = ix.clock_at_time(1, tb, 0).unwrap();
        let twice = (T0 + 1_005 * MS..=T0 + 1_405 * MS).contains(&tb);
        if twice {
            assert_eq!(later, segments()[1].model.inverse(), "frame {f}");
        } else {
            assert_eq!(Some(later), ix.clock_at(1, f, 0), "frame {f}");
        }
    }
    // Frames out of range and pairs without a clock.
    assert_eq!(ix.clock_at(0, 0, 1), Some(segments()[0].model));
    assert_eq!(ix.clock_at(0, 999, 1), Some(segments()[1].model));
    assert_eq!(ix.clock_at(0, 1, 0), None);
    assert_eq!(ix.clock_at(0, 1, 7), None);
    assert_eq!(ix.clock_segments(0, 7).len(), 0);

    // The CSV takes each row's segment.
    let mut csv = Vec::new();
    index::export_csv(&ix, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols[5], TRANSIT.to_string(), "{line}");
    }
    // With the first model only, the frames after the step would be 1.5 s
    // off: what a reader without CLOCK_SEGMENTS shows.
    let last = ix.peers(0, PACKETS as u32).next().unwrap();
    let ts = ix.frame_time_ns(0, PACKETS as u32).unwrap();
    let old = corrected_delta(last.delta_raw_ns, ts, &ix.clock(0, 1).unwrap());
    assert_eq!(old, TRANSIT + STEP);
}

#[test]
fn older_files_and_no_steps() {
    // A file without CLOCK_SEGMENTS (its writer found no step, or did not
    // look) reads as one model per pair.
    let bytes = builder().build();
    let secs: Vec<_> = sections(&bytes)
        .into_iter()
        .filter(|s| s.0 != kind::CLOCK_SEGMENTS)
        .collect();
    let old = assemble(&secs, 2, 0);
    let ix = Index::load(&old).unwrap();
    assert_eq!(ix.version(), (2, 0));
    assert_eq!(ix.clock_segments(0, 1).len(), 0);
    assert_eq!(ix.clock_at(0, 20, 1), Some(segments()[0].model));
    // Clearing the segments: no section written, the PAIRS record stays.
    let mut b = builder();
    b.set_clock_segments(0, 1, &[]).unwrap();
    let bytes = b.build();
    assert!(sections(&bytes).iter().all(|s| s.0 != kind::CLOCK_SEGMENTS));
    let ix = Index::load(&bytes).unwrap();
    assert_eq!(ix.clock(0, 1), Some(segments()[0].model));
}

#[test]
fn builder_refuses_segments_out_of_order() {
    let mut b = builder();
    let mut s = segments();
    s[1].a_from_frame = 1;
    assert_eq!(
        b.set_clock_segments(0, 1, &s),
        Err(BuildError::BadClockSegments {
            a: 0,
            b: 1,
            segment: 1
        })
    );
    let mut s = segments();
    s[0].b_from_frame = 2;
    let e = b.set_clock_segments(0, 1, &s).unwrap_err();
    assert!(
        e.to_string().contains("clock segment 0 of pair (0, 1)"),
        "{e}"
    );
    assert_eq!(
        b.set_clock_segments(1, 0, &segments()),
        Err(BuildError::PairOrder { a: 1, b: 0 })
    );
    let mut s = segments();
    s[1].model = ClockModel::new(0, index::DRIFT_LIMIT_PPB, 0);
    assert!(matches!(
        b.set_clock_segments(0, 1, &s),
        Err(BuildError::DriftOutOfRange { .. })
    ));
    // Frames the points do not have: the segments are left out, the pair
    // keeps the first model.
    let mut s = segments();
    s[1].b_from_frame = 500;
    b.set_clock_segments(0, 1, &s).unwrap();
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    assert_eq!(ix.clock_segments(0, 1).len(), 0);
    assert_eq!(ix.clock(0, 1), Some(segments()[0].model));
}

/// The file with its CLOCK_SEGMENTS section changed by `f`.
fn damaged(f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let bytes = builder().build();
    let mut secs = sections(&bytes);
    let s = secs
        .iter_mut()
        .find(|s| s.0 == kind::CLOCK_SEGMENTS)
        .unwrap();
    f(&mut s.2);
    assemble(&secs, 2, 1)
}

#[test]
fn damaged_segments_are_refused_clearly() {
    let rec = |k: usize, off: usize| 8 + 64 * k + off;
    let put32 = |k: usize, off: usize, v: u32| {
        move |s: &mut Vec<u8>| s[rec(k, off)..rec(k, off) + 4].copy_from_slice(&v.to_le_bytes())
    };
    type Damage<'a> = Box<dyn Fn(&mut Vec<u8>) + 'a>;
    let cases: Vec<(Damage, &str)> = vec![
        (
            Box::new(put32(1, 8, 0)),
            "record 1 (pair (0, 1)): first frame 0 is not a frame of point 0 (1..=20)",
        ),
        (
            Box::new(put32(1, 12, 21)),
            "record 1 (pair (0, 1)): first frame 21 is not a frame of point 1 (1..=20)",
        ),
        (
            Box::new(put32(1, 8, 1)),
            "record 1 (pair (0, 1)): first frames (1, 11) do not follow the previous \
             segment's (1, 1)",
        ),
        (
            Box::new(put32(0, 24, 7)),
            "record 0 (pair (0, 1)): the first segment must start at frames 1 and repeat \
             the PAIRS record's model and bound",
        ),
        (
            Box::new(|s: &mut Vec<u8>| {
                s[rec(0, 2)] = 5;
                s[rec(1, 2)] = 5;
            }),
            "needs a < b < 2 (the point count)",
        ),
        (
            Box::new(|s: &mut Vec<u8>| s.truncate(s.len() - 1)),
            "truncated, needs 136 bytes, only 135 there",
        ),
        (
            Box::new(|s: &mut Vec<u8>| s[4] = 40),
            "record length 40 is below the 64 bytes",
        ),
        (
            Box::new(|s: &mut Vec<u8>| {
                s[0] = 1;
                s.truncate(8 + 64);
            }),
            "a pair's segments are at least two",
        ),
        (
            Box::new(|s: &mut Vec<u8>| {
                let d = (index::DRIFT_LIMIT_PPB + 1).to_le_bytes();
                s[rec(1, 32)..rec(1, 40)].copy_from_slice(&d);
            }),
            "drift 100000001 ppb is beyond ±100000000",
        ),
    ];
    for (f, want) in cases {
        let b = damaged(f);
        let e = Index::load(&b).unwrap_err().to_string();
        assert!(
            e.starts_with("CLOCK_SEGMENTS section at byte ") && e.contains(want),
            "{e}\n  lacks: {want}"
        );
    }
}

#[test]
fn any_single_byte_change_loads_or_is_refused() {
    // Every byte of the section, a few values each: never a panic, and a
    // loaded index answers every lookup.
    let len = 8 + 2 * 64;
    for at in 0..len {
        for v in [0u8, 1, 0x7F, 0x80, 0xFF] {
            let b = damaged(|s| s[at] = v);
            if let Ok(ix) = Index::load(&b) {
                for f in 0..=21 {
                    let _ = (ix.clock_at(0, f, 1), ix.clock_at(1, f, 0));
                    let _ = ix.clock_at_time(1, T0 + f as i64 * 100 * MS, 0);
                    for peer in ix.peers(0, f) {
                        let _ = ix.corrected_delta(0, f, &peer, 0);
                    }
                }
                let _: Vec<_> = ix.clock_segments(0, 1).collect();
            }
        }
    }
}
