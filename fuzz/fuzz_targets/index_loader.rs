//! Any bytes as a pktmatch index: `Index::load`, and when it accepts them,
//! every accessor for every point and frame within small bounds, with the
//! invariants load promises (peer points and frames exist, lost entries are
//! of the frame asked for, a point's own checks identify it…).  Inputs that
//! start with 'B' are also read as a script for `IndexBuilder`: whatever it
//! builds must load and read back.  A panic is a bug.
#![no_main]

use index::{
    export_csv, frame_check, ClockModel, ClockSegment, Identification, Index, IndexBuilder,
    PairSpec, Tracker,
};
use libfuzzer_sys::fuzz_target;

/// Bounds that keep one execution fast.
const MAX_POINTS: u16 = 24;
const MAX_FRAMES: u32 = 200;

fuzz_target!(|input: &[u8]| {
    match Index::load(input) {
        Ok(ix) => walk(&ix),
        Err(e) => {
            let _ = (e.to_string(), e.offset(), e.is_newer_format());
        }
    }
    if let Some(script) = input.strip_prefix(b"B") {
        build_and_read(script);
    }
});

fn walk(ix: &Index<'_>) {
    let n = ix.point_count();
    let _ = (
        ix.version(),
        ix.flags(),
        ix.created_ns(),
        ix.as_bytes().len(),
        ix.bytes_per_packet(),
    );
    let pc = (n as u16).min(MAX_POINTS);
    let mut csv_rows_expected = 0u64;
    for p in 0..ix.point_count() {
        let p = p as u16;
        for f in 1..=ix.packets(p) {
            csv_rows_expected += ix.peers(p, f).filter(|q| q.point > p).count() as u64;
        }
    }
    for p in 0..=pc {
        let packets = ix.packets(p);
        match ix.point(p) {
            Some(pt) => {
                assert_eq!(pt.index(), p);
                assert_eq!(pt.packets(), packets);
                let _ = (
                    pt.label(),
                    pt.path(),
                    pt.file_size(),
                    pt.first_ts_ns(),
                    pt.last_ts_ns(),
                );
                let _ = (pt.fingerprint(), pt.flags(), pt.details());
                let _ = index::points::encap::names(pt.encapsulations());
                assert!(index::valid_name(pt.label()));
                assert_eq!(ix.point_by_label(pt.label()).map(|q| q.index()), Some(p));
            }
            None => assert_eq!(packets, 0),
        }
        if let Some(s) = ix.session() {
            let _ = (s.order(), s.topology(), s.evidence(), s.warnings(), s.clocks());
        }
        // The first frames, and the last ones and just beyond.
        let head = 0..=packets.min(MAX_FRAMES);
        let tail = packets.saturating_sub(3)..=packets.saturating_add(1);
        let mut peers_seen = 0usize;
        for f in head.chain(tail) {
            let exists = f >= 1 && f <= packets;
            let c = ix.check(p, f);
            assert_eq!(c.is_some(), exists);
            if let Some(c) = c {
                assert!(ix.verify(p, f, c));
                assert!(!ix.verify(p, f, c ^ 1));
            }
            assert_eq!(ix.frame_time_ns(p, f).is_some() && !exists, false);
            for peer in ix.peers(p, f) {
                assert!((peer.point as usize) < n && peer.point != p);
                assert!(peer.frame >= 1 && peer.frame <= ix.packets(peer.point));
                let _ = (ix.method_name(peer.method), peer.confidence_percent());
                let _ = ix.corrected_delta(p, f, &peer, ix.frame_time_ns(p, f).unwrap_or(0));
                let _ = ix.clock_at_time(p, ix.frame_time_ns(p, f).unwrap_or(0), peer.point);
                peers_seen += 1;
            }
            for l in ix.lost(p, f) {
                assert_eq!(l.frame, f);
                assert!((l.point as usize) < n && l.point != p);
                let _ = l.kind.name();
            }
            let _ = ix.peers(p, f).rev().next();
        }
        let _ = peers_seen;
        let _ = ix.peer_count(p);
        for l in ix.lost_all(p).take(1000) {
            assert!(l.frame >= 1 && l.frame <= packets);
        }
        for q in 0..=pc {
            if let Some(pair) = ix.pair(p, q) {
                assert!(pair.a() < pair.b());
                assert_eq!((pair.a(), pair.b()), (p.min(q), p.max(q)));
                let _ = (pair.flags(), pair.offset_error_ns(), pair.matched());
                let _ = (pair.lost_a_to_b(), pair.lost_b_to_a(), pair.missing());
                if let Some(m) = pair.clock() {
                    let _ = (
                        m.offset_ns(),
                        m.drift_ppb(),
                        m.reference_ns(),
                        m.inverse().peer_time(0),
                    );
                    assert_eq!(m.inverse().inverse(), m);
                }
            }
            let _ = ix.clock(p, q);
            let segs: Vec<ClockSegment> = ix.clock_segments(p, q).take(100).collect();
            for w in segs.windows(2) {
                assert!(w[1].a_from_frame > w[0].a_from_frame);
                assert!(w[1].b_from_frame > w[0].b_from_frame);
                let _ = w[1].step_from(&w[0]);
            }
            if let Some(s) = segs.first() {
                assert_eq!((s.a_from_frame, s.b_from_frame), (1, 1));
                assert_eq!(ix.pair(p, q).and_then(|r| r.clock()), Some(s.model));
            }
            for f in [0, 1, 2, packets / 2, packets, packets.saturating_add(1)] {
                let _ = ix.clock_at(p, f, q);
            }
            for t in ix.translations(p, q).take(100) {
                assert_eq!((t.a(), t.b()), (p.min(q), p.max(q)));
                let _ = (
                    t.kind().name(),
                    t.flags(),
                    t.summary(),
                    t.endpoints(),
                    t.seq_offsets(),
                );
            }
        }
        // A point's own first checks identify it (or a twin).
        if packets > 0 {
            let obs: Vec<(u32, u32)> = (1..=packets.min(4))
                .filter_map(|f| Some((f, ix.check(p, f)?)))
                .collect();
            match ix.identify(&obs) {
                Identification::Point(q) => assert_eq!(q, p),
                Identification::Ambiguous => {}
                other => panic!("point {p}'s own checks gave {other:?}"),
            }
            let mut t = Tracker::new();
            for &(f, c) in &obs {
                let _ = t.observe(ix, f, c);
            }
            let _ = t.observe(ix, packets.saturating_add(1), 0).point();
        }
    }
    let _ = ix.identify(&[(1, 0), (2, 0xFFFF_FFFF)]);
    for pair in ix.pairs().take(1000) {
        assert!(pair.a() < pair.b() && (pair.b() as usize) < n);
    }
    for t in ix.all_translations().take(1000) {
        let _ = t.summary();
    }
    let mut last = None;
    for (id, name) in ix.methods() {
        assert!(last.map_or(true, |l| l < id));
        assert_eq!(ix.method_name(id), Some(name));
        last = Some(id);
    }
    if ix.total_packets() <= 20_000 {
        let mut out = Vec::new();
        let rows = export_csv(ix, &mut out).expect("writing to a Vec");
        assert_eq!(rows, csv_rows_expected);
        let text = String::from_utf8(out).expect("CSV is UTF-8");
        assert_eq!(text.lines().count() as u64, rows + 1);
        for line in text.lines() {
            assert_eq!(line.split(',').count(), 8, "{line}");
        }
    }
}

/// Reads bytes one at a time; zeros once they run out.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn i64(&mut self) -> i64 {
        (self.u32() as i64) << 32 | self.u32() as i64
    }
}

fn build_and_read(script: &[u8]) {
    let mut s = Script(script);
    let mut b = IndexBuilder::new();
    b.created_ns(s.i64());
    let points = 1 + s.u8() % 4;
    for p in 0..points {
        b.add_point(&format!("p{p}"), &format!("/c/p{p}.pcap"), s.u32() as u64)
            .unwrap();
        let frames = s.u8() % 24;
        let base = s.i64();
        for f in 0..frames {
            let step = s.u32() as i64;
            let ts = base.wrapping_add(step.wrapping_mul(f as i64));
            let data = [s.u8(); 40];
            b.add_frame_bytes(p as u16, ts, 40, &data).unwrap();
        }
    }
    let ops = s.u8() % 64;
    let mut matches = std::collections::BTreeSet::new();
    for _ in 0..ops {
        let op = s.u8();
        let (a, c) = ((s.u8() % points) as u16, (s.u8() % points) as u16);
        let (fa, fc) = (1 + s.u8() as u32 % 24, 1 + s.u8() as u32 % 24);
        let r = match op % 6 {
            0 | 1 => {
                let r = b.add_match(a, fa, c, fc, s.i64(), s.u8(), s.u8());
                if r.is_ok() {
                    matches.insert(if a < c {
                        (a, fa, c, fc)
                    } else {
                        (c, fc, a, fa)
                    });
                }
                r
            }
            2 => b.add_lost(a, fa, c, index::LossKind::from_code(s.u8())),
            3 => b.set_pair(
                a,
                c,
                PairSpec {
                    clock: (s.u8() & 1 == 1).then(|| {
                        ClockModel::new(s.i64(), (s.u32() as i32 % 1_000_000) as i64, s.i64())
                    }),
                    offset_error_ns: s.u32() as u64,
                    matched: s.u32(),
                    neighbours: s.u8() & 1 == 1,
                    missing: index::Missing {
                        lost: [s.u32(), s.u32()],
                        dropped: [s.u32(), s.u32()],
                        ..Default::default()
                    },
                },
            ),
            5 => {
                let n = s.u8() % 4;
                let (mut fa, mut fb) = (1u32, 1u32);
                let segs: Vec<ClockSegment> = (0..n)
                    .map(|k| {
                        if k > 0 {
                            fa += s.u8() as u32 % 8;
                            fb += s.u8() as u32 % 8;
                        }
                        ClockSegment {
                            a_from_frame: fa,
                            b_from_frame: fb,
                            from_ns: s.i64(),
                            model: ClockModel::new(
                                s.i64(),
                                (s.u32() as i32 % 1_000_000) as i64,
                                s.i64(),
                            ),
                            offset_error_ns: s.u32() as u64,
                            before_ns: s.i64(),
                        }
                    })
                    .collect();
                b.set_clock_segments(a, c, &segs)
            }
            _ => b.set_method(s.u8(), if op & 8 == 0 { "m" } else { "x,y" }),
        };
        let _ = r.map_err(|e| e.to_string());
    }
    let bytes = b.build();
    let ix = Index::load(&bytes)
        .unwrap_or_else(|e| panic!("the builder wrote an index load refuses: {e}"));
    assert_eq!(ix.point_count(), points as usize);
    let entries: usize = (0..points as u16).map(|p| ix.peer_count(p)).sum();
    assert_eq!(entries, 2 * matches.len());
    for &(a, fa, c, fc) in &matches {
        assert!(ix.peers(a, fa).any(|q| q.point == c && q.frame == fc));
        assert!(ix.peers(c, fc).any(|q| q.point == a && q.frame == fa));
    }
    for p in 0..points as u16 {
        for f in 1..=ix.packets(p) {
            assert!(ix.check(p, f).is_some());
        }
        let _ = frame_check(0, 0, &[]);
    }
    walk(&ix);
}
