//! The index end to end: build, load, read back; identification and
//! staleness; damaged and foreign files; CSV; corrected deltas; size per
//! packet; writing.

mod common;

use common::*;
use index::header::{kind, section_flags};
use index::methods::id;
use index::{
    bytes_per_packet, export_csv, frame_check, ClockModel, Error, Identification, Index,
    IndexBuilder, PairSpec, TrackState, Tracker, TranslationKind, CSV_HEADER, IDENTIFY_FRAMES,
};

#[test]
fn round_trip() {
    let s = session(40);
    let ix = Index::load(&s.bytes).unwrap();
    assert_eq!(ix.version(), (2, 0));
    assert_eq!(ix.created_ns(), T0 - 1);
    assert_eq!(ix.flags(), 0);
    assert_eq!(ix.as_bytes().len(), s.bytes.len());
    assert_eq!(s.bytes.len() % 8, 0);
    assert_eq!(ix.point_count(), 4);
    assert_eq!(
        ix.total_packets(),
        s.frames.iter().map(|f| f.len() as u64).sum()
    );

    // Points.
    for (p, pt) in ix.points().enumerate() {
        let frames = &s.frames[p];
        assert_eq!(pt.index() as usize, p);
        assert_eq!(pt.label(), LABELS[p]);
        assert_eq!(pt.path(), format!("/captures/{}.pcapng", LABELS[p]));
        assert_eq!(pt.file_size(), 4096 + p as u64);
        assert_eq!(pt.packets() as usize, frames.len());
        assert_eq!(pt.first_ts_ns(), frames[0].ts);
        assert_eq!(pt.last_ts_ns(), frames.last().unwrap().ts);
        assert_eq!(
            pt.fingerprint(),
            index::checks_fingerprint(frames.iter().map(check_of))
        );
        assert_eq!(ix.point_by_label(LABELS[p]).unwrap().index() as usize, p);
        // Checks and times of every frame.
        for (i, f) in frames.iter().enumerate() {
            let frame = i as u32 + 1;
            assert_eq!(ix.check(p as u16, frame), Some(check_of(f)));
            assert!(ix.verify(p as u16, frame, check_of(f)));
            let t = ix.frame_time_ns(p as u16, frame).unwrap();
            // 40 ms of capture: shift 0, exact.
            assert_eq!(t, f.ts);
        }
        assert_eq!(ix.check(p as u16, 0), None);
        assert_eq!(ix.check(p as u16, frames.len() as u32 + 1), None);
    }
    assert!(ix.point(4).is_none());
    assert!(ix.point_by_label("nowhere").is_none());
    assert_eq!(ix.packets(9), 0);
    assert_eq!(ix.check(4, 1), None);

    // Peers, both directions, sorted, with the right deltas.
    let mut expected: Vec<Vec<Vec<index::Peer>>> = s
        .frames
        .iter()
        .map(|f| vec![Vec::new(); f.len() + 1])
        .collect();
    for &(a, fa, b, fb, d, m, c) in &s.matches {
        expected[a as usize][fa as usize].push(index::Peer {
            point: b,
            frame: fb,
            method: m,
            confidence: c,
            delta_raw_ns: d,
        });
        expected[b as usize][fb as usize].push(index::Peer {
            point: a,
            frame: fa,
            method: m,
            confidence: c,
            delta_raw_ns: -d,
        });
    }
    let mut total = 0;
    for p in 0..4u16 {
        for f in 1..=ix.packets(p) {
            let mut want = expected[p as usize][f as usize].clone();
            want.sort_by_key(|e| (e.point, e.frame));
            let got: Vec<_> = ix.peers(p, f).collect();
            assert_eq!(got, want, "point {p} frame {f}");
            total += got.len();
        }
        assert_eq!(ix.peers(p, 0).len(), 0);
        assert_eq!(ix.peers(p, u32::MAX).len(), 0);
    }
    assert_eq!(total, 2 * s.matches.len());
    assert_eq!(
        (0..4).map(|p| ix.peer_count(p)).sum::<usize>(),
        2 * s.matches.len()
    );
    assert_eq!(ix.peers(7, 1).len(), 0);
    // A packet seen at all four points has three peers at each.
    assert_eq!(ix.peers(0, 1).len(), 3);
    assert_eq!(ix.peers(3, 1).len(), 3);
    let p = ix.peers(0, 1).next().unwrap();
    assert_eq!(
        (p.point, p.frame, p.method, p.confidence),
        (1, 1, id::NAT, 255)
    );
    assert_eq!(ix.method_name(p.method), Some("nat"));

    // Pairs.
    assert_eq!(ix.pairs().len(), 6);
    let pr = ix.pair(0, 1).unwrap();
    assert_eq!((pr.a(), pr.b()), (0, 1));
    assert_eq!(pr.clock(), Some(pair_model(0, 1)));
    assert_eq!(pr.offset_error_ns(), 500);
    assert_eq!(pr.matched(), 40);
    assert_eq!(ix.pair(2, 0).unwrap().lost_a_to_b(), 1);
    assert_eq!(ix.pair(1, 0), ix.pair(0, 1));
    assert!(ix.pair(0, 0).is_none());
    assert!(ix.pair(0, 4).is_none());
    assert_eq!(ix.clock(0, 1), Some(pair_model(0, 1)));
    assert_eq!(ix.clock(1, 0), Some(pair_model(0, 1).inverse()));

    // Lost: the lost packet at client and wan.
    let lost_at_client = s.frames[0]
        .iter()
        .position(|f| f.packet == LOST_PACKET)
        .unwrap() as u32
        + 1;
    let l: Vec<_> = ix.lost(0, lost_at_client).collect();
    assert_eq!(l.len(), 2);
    assert_eq!(
        (l[0].frame, l[0].point, l[0].kind),
        (lost_at_client, 2, index::LossKind::NetworkLoss)
    );
    assert_eq!((l[1].point, l[1].kind), (3, index::LossKind::Uncertain));
    assert_eq!(ix.lost(0, lost_at_client + 1).count(), 0);
    assert_eq!(ix.lost_all(1).count(), 2);
    assert_eq!(ix.lost_all(2).count(), 0);
    assert_eq!(ix.lost_all(9).count(), 0);

    // Translations, both in the order added within a pair.
    let t: Vec<_> = ix.translations(1, 0).collect();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].kind(), TranslationKind::Snat);
    assert!(t[0]
        .summary()
        .starts_with("SNAT 10.0.0.5:51000 → 203.0.113.7:40123"));
    let ep = t[0].endpoints().unwrap();
    assert_eq!(ep.b_src, "203.0.113.7:40123".parse().unwrap());
    assert_eq!(t[0].seq_offsets().unwrap().client_to_server, 0x1A2B_3C4D);
    assert_eq!(t[1].summary(), "SNAT 10.0.0.5:51002 → 203.0.113.7:40200");
    assert!(t[1].endpoints().is_none());
    assert_eq!(
        ix.translations(2, 3).next().unwrap().kind(),
        TranslationKind::Proxy
    );
    assert_eq!(ix.translations(0, 3).count(), 0);
    assert_eq!(ix.all_translations().count(), 4);

    // Methods.
    let names: Vec<_> = ix.methods().map(|(_, n)| n).collect();
    assert_eq!(
        names,
        [
            "same-addressing",
            "nat",
            "seq-offset",
            "tso",
            "app-id",
            "payload",
            "proxy-http",
            "proxy-tls-turns"
        ]
    );
    assert_eq!(ix.method_name(0), None);
    assert_eq!(ix.method_name(200), None);

    // The same builder gives the same bytes.
    assert_eq!(s.builder.build(), s.bytes);
    assert!(walk(&ix) > 0);
}

/// Format 2.0's additions through the builder and back: the three kinds of
/// a missing packet (and the uncertain one), per point capture drops,
/// clock resolution, encapsulations and position as given, a pair's
/// neighbour flag and counts per kind, the SESSION texts; and the
/// missing-packets CSV.
#[test]
fn loss_kinds_point_details_and_session() {
    use index::{LossKind, Missing, OrderSource, PointDetails, SessionSpec, Topology};
    let mut b = IndexBuilder::new();
    b.created_ns(0);
    let labels = ["client", "wan", "dc"];
    for (i, l) in labels.iter().enumerate() {
        let p = b.add_point(l, &format!("{l}.pcap"), 1).unwrap();
        for f in 0..4 {
            b.add_frame(p, f, (10 * i) as u32 + f as u32).unwrap();
        }
    }
    // client frame 1 reached dc but not wan's capture: a capture drop at
    // wan, also noted at dc's frame; client frame 2: lost before wan;
    // frame 3: wan not capturing; frame 4: may not pass dc.
    b.add_match(0, 1, 2, 1, 60_000, id::NAT, 255).unwrap();
    b.add_lost(0, 1, 1, LossKind::CaptureDrop).unwrap();
    b.add_lost(2, 1, 1, LossKind::CaptureDrop).unwrap();
    b.add_lost(0, 2, 1, LossKind::NetworkLoss).unwrap();
    b.add_lost(0, 3, 1, LossKind::OutsideCapture).unwrap();
    b.add_lost(0, 4, 2, LossKind::Uncertain).unwrap();
    b.set_point_details(
        1,
        PointDetails {
            capture_drops: 1,
            clock_resolution_ns: 1_000_000,
            encapsulations: index::points::encap::ERSPAN_III,
            given_position: 2,
        },
    )
    .unwrap();
    let missing = Missing {
        lost: [1, 0],
        dropped: [1, 0],
        outside: [1, 0],
        uncertain: [0, 0],
    };
    b.set_pair(
        0,
        1,
        PairSpec {
            neighbours: true,
            missing,
            ..Default::default()
        },
    )
    .unwrap();
    b.set_session(SessionSpec {
        order: OrderSource::Inferred,
        topology: Topology::Line,
        evidence: "client → wan: TTL 64 → 63 on 3 packets".into(),
        warnings: String::new(),
        clocks: "no loop".into(),
    })
    .unwrap();
    assert!(matches!(
        b.set_point_details(9, PointDetails::default()),
        Err(index::BuildError::NoSuchPoint { point: 9 })
    ));
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    let kinds: Vec<(u32, u16, LossKind)> =
        ix.lost_all(0).map(|l| (l.frame, l.point, l.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, 1, LossKind::CaptureDrop),
            (2, 1, LossKind::NetworkLoss),
            (3, 1, LossKind::OutsideCapture),
            (4, 2, LossKind::Uncertain)
        ]
    );
    let wan = ix.point(1).unwrap();
    assert_eq!(wan.capture_drops(), 1);
    assert_eq!(wan.clock_resolution_ns(), 1_000_000);
    assert_eq!(
        index::points::encap::names(wan.encapsulations()),
        ["ERSPAN type III"]
    );
    assert_eq!(wan.given_position(), Some(2));
    assert_eq!(ix.point(0).unwrap().given_position(), None);
    assert_eq!(ix.point(0).unwrap().details(), PointDetails::default());
    let pair = ix.pair(0, 1).unwrap();
    assert!(pair.neighbours());
    assert_eq!(pair.missing(), missing);
    assert_eq!((pair.lost_a_to_b(), pair.lost_b_to_a()), (1, 0));
    let session = ix.session().unwrap();
    assert_eq!(session.order(), OrderSource::Inferred);
    assert_eq!(session.topology(), Topology::Line);
    assert_eq!(session.evidence(), "client → wan: TTL 64 → 63 on 3 packets");
    assert_eq!(session.clocks(), "no loop");
    // Without set_session there is no SESSION section.
    assert!(Index::load(&IndexBuilder::new().build())
        .unwrap()
        .session()
        .is_none());
    let mut csv = Vec::new();
    assert_eq!(index::export_lost_csv(&ix, &mut csv).unwrap(), 5);
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "point,frame,not_seen_at,kind\n\
         client,1,wan,capture-drop\n\
         client,2,wan,network-loss\n\
         client,3,wan,outside-capture\n\
         client,4,dc,uncertain\n\
         dc,1,wan,capture-drop\n"
    );
}

#[test]
fn builder_normalises_and_deduplicates() {
    let mut b = IndexBuilder::new();
    b.created_ns(0);
    let a = b.add_point("a", "a.pcap", 1).unwrap();
    let c = b.add_point("c", "c.pcap", 1).unwrap();
    for i in 0..3 {
        b.add_frame(a, i, i as u32).unwrap();
        b.add_frame(c, i + 10, 100 + i as u32).unwrap();
    }
    assert_eq!(b.packets(a), 3);
    b.add_match(c, 2, a, 1, -9, id::NAT, 100).unwrap();
    b.add_match(a, 1, c, 2, 9, id::NAT, 250).unwrap(); // same pair, more confident
    b.add_match(a, 1, c, 1, 10, 77, 1).unwrap(); // unnamed method
    b.add_lost(a, 3, c, index::LossKind::NetworkLoss).unwrap();
    b.add_lost(a, 3, c, index::LossKind::NetworkLoss).unwrap();
    b.set_method(77, "custom").unwrap();
    b.set_method(1, "renamed").unwrap();
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    let p: Vec<_> = ix.peers(a, 1).collect();
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].frame, p[0].confidence, p[0].delta_raw_ns), (1, 1, 10));
    assert_eq!(
        (p[1].frame, p[1].confidence, p[1].delta_raw_ns),
        (2, 250, 9)
    );
    let q: Vec<_> = ix.peers(c, 2).collect();
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].point, q[0].frame, q[0].delta_raw_ns), (a, 1, -9));
    assert_eq!(ix.lost_all(a).count(), 1);
    assert_eq!(ix.method_name(77), Some("custom"));
    assert_eq!(ix.method_name(1), Some("renamed"));
    // No pairs set: no clock, no pair record.
    assert!(ix.pair(0, 1).is_none());
    assert!(ix.clock(0, 1).is_none());
    // Times span 2 ns: exact.
    assert_eq!(ix.frame_time_ns(c, 3), Some(12));
}

#[test]
fn builder_errors() {
    use index::BuildError::*;
    let mut b = IndexBuilder::new();
    let a = b.add_point("a", "a.pcap", 1).unwrap();
    assert!(matches!(
        b.add_point("a", "x", 1),
        Err(DuplicateLabel { .. })
    ));
    assert!(matches!(b.add_point("a,b", "x", 1), Err(BadName { .. })));
    assert!(matches!(b.add_point("", "x", 1), Err(BadName { .. })));
    let c = b.add_point("c", "c.pcap", 1).unwrap();
    b.add_frame(a, 0, 0).unwrap();
    b.add_frame(c, 0, 0).unwrap();
    assert!(matches!(
        b.add_frame(9, 0, 0),
        Err(NoSuchPoint { point: 9 })
    ));
    assert_eq!(
        b.add_match(a, 2, c, 1, 0, 1, 1),
        Err(NoSuchFrame {
            point: 0,
            frame: 2,
            packets: 1
        })
    );
    assert!(matches!(
        b.add_match(a, 0, c, 1, 0, 1, 1),
        Err(NoSuchFrame { .. })
    ));
    assert_eq!(
        b.add_match(a, 1, a, 1, 0, 1, 1),
        Err(SamePoint { point: 0 })
    );
    assert_eq!(
        b.set_pair(1, 0, PairSpec::default()),
        Err(PairOrder { a: 1, b: 0 })
    );
    assert_eq!(
        b.set_pair(0, 0, PairSpec::default()),
        Err(SamePoint { point: 0 })
    );
    assert!(matches!(
        b.set_pair(
            0,
            1,
            PairSpec {
                clock: Some(ClockModel::new(0, i64::MAX, 0)),
                ..PairSpec::default()
            }
        ),
        Err(DriftOutOfRange { .. })
    ));
    assert!(matches!(
        b.add_lost(a, 1, a, index::LossKind::NetworkLoss),
        Err(SamePoint { .. })
    ));
    assert!(matches!(
        b.add_lost(a, 1, 5, index::LossKind::NetworkLoss),
        Err(NoSuchPoint { point: 5 })
    ));
    assert!(matches!(b.set_method(3, "a\"b"), Err(BadName { .. })));
    let t = index::TranslationSpec {
        a: 1,
        b: 0,
        kind: TranslationKind::None,
        summary: String::new(),
        endpoints: None,
        seq_offsets: None,
    };
    assert!(matches!(b.add_translation(t), Err(PairOrder { .. })));
    for e in [
        TooManyPoints,
        NoSuchPoint { point: 3 },
        DriftOutOfRange { drift_ppb: 1 },
    ] {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        TooLarge { what: "x" }.to_string(),
        "too large for the index format: x"
    );
}

#[test]
fn empty_and_tiny_indexes() {
    let bytes = IndexBuilder::new().build();
    let ix = Index::load(&bytes).unwrap();
    assert_eq!(ix.point_count(), 0);
    assert_eq!(ix.identify(&[(1, 2)]), Identification::Unknown);
    let mut csv = Vec::new();
    assert_eq!(export_csv(&ix, &mut csv).unwrap(), 0);
    assert_eq!(String::from_utf8(csv).unwrap(), format!("{CSV_HEADER}\n"));
    let mut b = IndexBuilder::new();
    b.add_point("only", "", 0).unwrap();
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    assert_eq!(ix.packets(0), 0);
    assert_eq!(ix.point(0).unwrap().first_ts_ns(), 0);
    assert_eq!(ix.peers(0, 1).len(), 0);
    walk(&ix);
}

#[test]
fn identification() {
    let s = session(40);
    let ix = Index::load(&s.bytes).unwrap();
    let obs = |p: usize, frames: &[u32]| -> Vec<(u32, u32)> {
        frames
            .iter()
            .map(|&f| (f, check_of(&s.frames[p][f as usize - 1])))
            .collect()
    };
    // Unique, from one frame or several, in any order.
    for p in 0..4 {
        assert_eq!(ix.identify(&obs(p, &[1])), Identification::Point(p as u16));
        assert_eq!(
            ix.identify(&obs(p, &[3, 1, 2])),
            Identification::Point(p as u16)
        );
    }
    // Unknown: nothing agrees, or no observation.
    assert_eq!(ix.identify(&[]), Identification::Unknown);
    assert_eq!(ix.identify(&[(1, 0xDEAD_BEEF)]), Identification::Unknown);
    assert_eq!(ix.identify(&[(1_000, 1)]), Identification::Unknown);
    // Stale: most agree with wan, one changed.
    let mut o = obs(1, &[1, 2, 3, 4]);
    o[2].1 ^= 1;
    assert_eq!(ix.identify(&o), Identification::Stale(1));
    // Half agree: still wan's; a quarter: unknown.
    o[3].1 ^= 1;
    assert_eq!(ix.identify(&o), Identification::Stale(1));
    o[1].1 ^= 1;
    assert_eq!(ix.identify(&o), Identification::Unknown);
    // A frame beyond the point's count counts as disagreeing.
    let mut o = obs(3, &[1, 2, 3]);
    o.push((10_000, 5));
    assert_eq!(ix.identify(&o), Identification::Stale(3));

    // Ambiguous: the same capture indexed as two points.
    let mut b = IndexBuilder::new();
    for label in ["x", "y", "z"] {
        let p = b.add_point(label, "", 0).unwrap();
        for f in 0..20u32 {
            let c = if label == "z" { f + 100 } else { f * 7 };
            b.add_frame(p, f as i64, c).unwrap();
        }
    }
    let bytes = b.build();
    let ix2 = Index::load(&bytes).unwrap();
    assert_eq!(ix2.identify(&[(1, 0), (2, 7)]), Identification::Ambiguous);
    assert_eq!(ix2.identify(&[(1, 100)]), Identification::Point(2));
    // Half for x and y alike: a tie, unknown.
    assert_eq!(ix2.identify(&[(1, 0), (2, 8)]), Identification::Unknown);
    let mut t = Tracker::new();
    for f in 1..IDENTIFY_FRAMES as u32 {
        assert_eq!(t.observe(&ix2, f, (f - 1) * 7), TrackState::Identifying);
    }
    assert_eq!(
        t.observe(
            &ix2,
            IDENTIFY_FRAMES as u32,
            (IDENTIFY_FRAMES as u32 - 1) * 7
        ),
        TrackState::Ambiguous
    );
    assert_eq!(t.observe(&ix2, 20, 133), TrackState::Ambiguous);
}

#[test]
fn tracker_identifies_then_detects_staleness() {
    let s = session(40);
    let ix = Index::load(&s.bytes).unwrap();
    let mut t = Tracker::new();
    assert_eq!(t.state(), TrackState::Identifying);
    let dc = &s.frames[2];
    assert_eq!(
        t.observe(&ix, 1, check_of(&dc[0])),
        TrackState::Identified(2)
    );
    assert_eq!(t.state().point(), Some(2));
    for (i, f) in dc.iter().enumerate().take(20) {
        assert_eq!(
            t.observe(&ix, i as u32 + 1, check_of(f)),
            TrackState::Identified(2)
        );
    }
    // Frame 21 edited (e.g. its time shifted by 1 ns).
    let f = &dc[20];
    let edited = frame_check(f.ts + 1, f.data.len() as u32, &f.data);
    let stale = TrackState::Stale {
        point: 2,
        frame: 21,
    };
    assert_eq!(t.observe(&ix, 21, edited), stale);
    assert_eq!(t.state().point(), None);
    // Stays stale.
    assert_eq!(t.observe(&ix, 22, check_of(&dc[21])), stale);
    // A capture with more frames than indexed: stale at the first extra one.
    let mut t = Tracker::new();
    for (i, f) in dc.iter().enumerate() {
        t.observe(&ix, i as u32 + 1, check_of(f));
    }
    assert_eq!(t.state(), TrackState::Identified(2));
    let extra = dc.len() as u32 + 1;
    assert_eq!(
        t.observe(&ix, extra, 42),
        TrackState::Stale {
            point: 2,
            frame: extra
        }
    );
    // Not in the session at all.
    let mut t = Tracker::new();
    assert_eq!(t.observe(&ix, 1, 1234), TrackState::Unknown);
    assert_eq!(t.observe(&ix, 2, check_of(&dc[1])), TrackState::Unknown);
    // A frame repeated while identifying is taken once.
    let mut t = Tracker::new();
    let c = check_of(&s.frames[0][0]);
    assert_eq!(t.observe(&ix, 1, c), TrackState::Identified(0));
}

#[test]
fn every_prefix_is_an_error() {
    let s = session(12);
    assert!(Index::load(&s.bytes).is_ok());
    for n in 0..s.bytes.len() {
        let e = Index::load(&s.bytes[..n]).unwrap_err();
        assert!(!e.to_string().is_empty());
        match n {
            0..=7 => assert!(matches!(
                e,
                Error::BadMagic { .. } | Error::Truncated { .. }
            )),
            _ => assert!(matches!(e, Error::Truncated { .. }), "{n}: {e}"),
        }
    }
    // And a byte too many.
    let mut long = s.bytes.clone();
    long.push(0);
    assert!(matches!(
        Index::load(&long),
        Err(Error::Invalid { offset: 16, .. })
    ));
}

#[test]
fn every_byte_flipped_is_handled() {
    // Each byte of a small index inverted in turn: an error or a valid index
    // (a flipped time stamp, delta or reserved byte is still a valid file),
    // never a panic; a valid one is walked through every accessor.
    let s = session(6);
    let mut ok = 0;
    let mut errors = 0;
    for i in 0..s.bytes.len() {
        for mask in [0xFFu8, 0x01, 0x80] {
            let mut v = s.bytes.clone();
            v[i] ^= mask;
            match Index::load(&v) {
                Ok(ix) => {
                    walk(&ix);
                    ok += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > ok / 4, "{errors} errors, {ok} loaded");
}

#[test]
fn flipped_section_offsets_and_lengths() {
    let s = session(8);
    let n = u32::from_le_bytes(s.bytes[32..36].try_into().unwrap()) as usize;
    let total = s.bytes.len() as u64;
    for i in 0..n {
        let at = 48 + 24 * i;
        let off = u64::from_le_bytes(s.bytes[at + 8..at + 16].try_into().unwrap());
        let len = u64::from_le_bytes(s.bytes[at + 16..at + 24].try_into().unwrap());
        let values = [
            0,
            8,
            off.wrapping_sub(8),
            off + 8,
            off + 1,
            total,
            total - 8,
            u64::MAX,
            u64::MAX - 7,
            off ^ 0x8000_0000_0000_0000,
        ];
        for v in values {
            if v == off {
                continue;
            }
            let mut b = s.bytes.clone();
            b[at + 8..at + 16].copy_from_slice(&v.to_le_bytes());
            if let Ok(ix) = Index::load(&b) {
                panic!(
                    "section {i} offset {off} -> {v} loaded ({} points)",
                    ix.point_count()
                );
            }
        }
        for v in [0, len + 1, len.wrapping_sub(1), len + 8, u64::MAX, total] {
            if v == len {
                continue;
            }
            let mut b = s.bytes.clone();
            b[at + 16..at + 24].copy_from_slice(&v.to_le_bytes());
            // Shrinking STRINGS to a character boundary, or a section whose
            // end lands in padding… can still be consistent; never a panic.
            if let Ok(ix) = Index::load(&b) {
                walk(&ix);
            }
        }
        // Kind changed to another known kind (a duplicate) or an unknown one.
        for k in [kind::STRINGS, kind::PEERS, 77] {
            let mut b = s.bytes.clone();
            let old = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
            b[at..at + 4].copy_from_slice(&k.to_le_bytes());
            if k != old {
                let r = Index::load(&b);
                if index::header::kind::REQUIRED.contains(&old) || k != 77 {
                    assert!(r.is_err(), "section {i} kind {old} -> {k}");
                } else if let Ok(ix) = r {
                    walk(&ix);
                }
            }
        }
    }
}

#[test]
fn foreign_and_newer_files() {
    let s = session(4);
    // Bad magic: a pcapng, a pcap, text.
    for head in [
        &b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"[..],
        b"\xd4\xc3\xb2\xa1",
        b"hello world",
    ] {
        let e = Index::load(head).unwrap_err();
        assert!(matches!(e, Error::BadMagic { .. }));
        assert!(e.to_string().starts_with("not a pktmatch index"), "{e}");
    }
    let mut b = s.bytes.clone();
    b[0] = b'X';
    assert!(matches!(Index::load(&b), Err(Error::BadMagic { .. })));
    // Newer major: refused with a clear message.
    let mut b = s.bytes.clone();
    b[8] = 3;
    let e = Index::load(&b).unwrap_err();
    assert_eq!(e, Error::NewerVersion { major: 3, minor: 0 });
    assert!(e.is_newer_format());
    assert!(e
        .to_string()
        .contains("format version 3.0 is newer than this reader (2.0)"));
    // Older major (1.x): refused, saying to index again.
    let mut b = s.bytes.clone();
    b[8] = 1;
    let e = Index::load(&b).unwrap_err();
    assert_eq!(e, Error::OlderVersion { major: 1, minor: 0 });
    assert!(e.to_string().contains("re-run `pktmatch index`"), "{e}");
    // Newer minor with an extra unknown section: read, the section skipped.
    let mut secs = sections(&s.bytes);
    secs.insert(2, (1000, 0, vec![0xAB; 13]));
    let b = assemble(&secs, 2, 7);
    let ix = Index::load(&b).unwrap();
    assert_eq!(ix.version(), (2, 7));
    assert_eq!(walk(&ix), walk(&Index::load(&s.bytes).unwrap()));
    // The same section marked required: refused.
    secs[2].1 = section_flags::REQUIRED;
    let e = Index::load(&assemble(&secs, 2, 7)).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }));
    assert!(
        e.to_string().contains("required section kind 1000 unknown"),
        "{e}"
    );
    // Optional sections left out: still an index.
    let secs = sections(&s.bytes);
    let required: Vec<_> = secs
        .iter()
        .filter(|s| kind::REQUIRED.contains(&s.0))
        .cloned()
        .collect();
    let b = assemble(&required, 2, 0);
    let ix = Index::load(&b).unwrap();
    assert_eq!(ix.frame_time_ns(0, 1), None);
    assert_eq!(ix.method_name(1), None);
    assert_eq!(ix.pairs().count(), 0);
    assert!(ix.peers(0, 1).len() > 0);
    let mut csv = Vec::new();
    export_csv(&ix, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",,method-"), "{csv}");
    // A required section missing.
    for k in kind::REQUIRED {
        let without: Vec<_> = secs.iter().filter(|s| s.0 != *k).cloned().collect();
        let e = Index::load(&assemble(&without, 2, 0)).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("no {} section", kind::name(*k).unwrap())),
            "{e}"
        );
    }
}

#[test]
fn longer_records_from_a_newer_minor() {
    // A newer minor version may append fields to the records of POINTS,
    // PAIRS and TRANSLATIONS: RECORD_LEN grows, this reader skips the rest.
    let s = session(10);
    let mut secs = sections(&s.bytes);
    for (k, _, bytes) in secs.iter_mut() {
        if ![kind::POINTS, kind::PAIRS, kind::TRANSLATIONS].contains(k) {
            continue;
        }
        let count = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
        let stride = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let mut v = bytes[..8].to_vec();
        v[4..8].copy_from_slice(&(stride as u32 + 12).to_le_bytes());
        for i in 0..count {
            v.extend_from_slice(&bytes[8 + i * stride..8 + (i + 1) * stride]);
            v.extend_from_slice(&[0xEE; 12]);
        }
        *bytes = v;
    }
    let b = assemble(&secs, 2, 1);
    let newer = Index::load(&b).unwrap();
    let ix = Index::load(&s.bytes).unwrap();
    assert_eq!(walk(&newer), walk(&ix));
    let (mut c1, mut c2) = (Vec::new(), Vec::new());
    export_csv(&ix, &mut c1).unwrap();
    export_csv(&newer, &mut c2).unwrap();
    assert!(c1 == c2);
    assert_eq!(newer.point(3).unwrap().label(), "lbserver");
    assert_eq!(newer.pair(2, 3).unwrap().clock(), Some(pair_model(2, 3)));
    // Shorter than format 2.0's records: refused.
    let mut secs = sections(&s.bytes);
    let points = secs.iter_mut().find(|s| s.0 == kind::POINTS).unwrap();
    points.2[4] = 48;
    let e = Index::load(&assemble(&secs, 2, 0)).unwrap_err();
    assert!(
        e.to_string()
            .contains("record length 48 is below the 72 bytes"),
        "{e}"
    );
}

#[test]
fn error_messages_name_the_place() {
    let s = session(4);
    let secs = sections(&s.bytes);
    let b = assemble(&secs, 2, 0);
    assert!(
        b == s.bytes,
        "assemble() does not lay sections out as the builder does"
    );
    // first[2] of point 0 in PEERS beyond the entries.
    let mut secs2 = secs.clone();
    let peers = secs2.iter_mut().find(|s| s.0 == kind::PEERS).unwrap();
    peers.2[16..20].copy_from_slice(&900u32.to_le_bytes());
    let b = assemble(&secs2, 2, 0);
    let peers_at = {
        let n = secs2.iter().position(|s| s.0 == kind::PEERS).unwrap();
        u64::from_le_bytes(b[48 + 24 * n + 8..48 + 24 * n + 16].try_into().unwrap())
    };
    let e = Index::load(&b).unwrap_err();
    let entries = 2 * s.matches.len();
    assert_eq!(
        e.to_string(),
        format!(
            "PEERS section at byte {}: point 0 (client): first[2] = 900 beyond the {entries} peer \
             entries left of {entries}",
            peers_at + 16
        )
    );
    assert_eq!(e.offset(), peers_at + 16);
    // A damaged check: the fingerprint says so.
    let mut secs3 = secs.clone();
    let checks = secs3
        .iter_mut()
        .find(|s| s.0 == kind::FRAME_CHECKS)
        .unwrap();
    checks.2[17] ^= 1;
    let e = Index::load(&assemble(&secs3, 2, 0)).unwrap_err();
    assert!(
        e.to_string()
            .contains("the 4 checks of point 1 (wan) have fingerprint"),
        "{e}"
    );
}

#[test]
fn csv_export() {
    let s = session(40);
    let ix = Index::load(&s.bytes).unwrap();
    let mut out = Vec::new();
    let rows = export_csv(&ix, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence")
    );
    assert_eq!(rows as usize, s.matches.len());
    assert!(text.ends_with('\n'));
    let mut got = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 8, "{line}");
        let a = LABELS.iter().position(|l| *l == f[0]).unwrap();
        let b = LABELS.iter().position(|l| *l == f[2]).unwrap();
        assert!(a < b, "{line}");
        let (fa, fb): (u32, u32) = (f[1].parse().unwrap(), f[3].parse().unwrap());
        let raw: i64 = f[4].parse().unwrap();
        let corrected: i64 = f[5].parse().unwrap();
        // The true transit between the two points.
        let truth = TRANSIT[b] - TRANSIT[a];
        assert!(
            (corrected - truth).abs() <= 3,
            "{line}: corrected {corrected}, true {truth}"
        );
        let method = match (a, b) {
            (_, 3) => "proxy-http",
            (0, _) => "nat",
            _ => "same-addressing",
        };
        assert_eq!(f[6], method);
        assert_eq!(f[7], if b == 3 { "0.784" } else { "1.000" });
        got.push((a as u16, fa, b as u16, fb, raw));
    }
    let want: Vec<_> = s
        .matches
        .iter()
        .map(|m| (m.0, m.1, m.2, m.3, m.4))
        .collect();
    assert_eq!(got, want);
    // The first row: client frame 1, wan frame 1.
    let first = text.lines().nth(1).unwrap();
    let d = s.frames[1][0].ts - s.frames[0][0].ts;
    assert_eq!(first, format!("client,1,wan,1,{d},30000,nat,1.000"));
}

#[test]
fn corrected_delta_through_the_index() {
    let s = session(40);
    let ix = Index::load(&s.bytes).unwrap();
    // Every peer of every frame, both directions, with the exact time stamp:
    // the corrected delta is the true transit (peer − this).
    for p in 0..4u16 {
        for (i, f) in s.frames[p as usize].iter().enumerate() {
            for peer in ix.peers(p, i as u32 + 1) {
                let c = ix.corrected_delta(p, i as u32 + 1, &peer, f.ts).unwrap();
                let truth = TRANSIT[peer.point as usize] - TRANSIT[p as usize];
                // Seen from a drifting clock the transit is in that clock's
                // units: within 25 ppm of 95 µs plus rounding.
                assert!(
                    (c - truth).abs() <= 4,
                    "{p}/{} → {:?}: {c} vs {truth}",
                    i + 1,
                    peer
                );
            }
        }
    }
    // Hand-computed: wan is 2.718 s ahead and gains 25 ppm on the client.
    let m = ClockModel::new(2_718_281_828, 25_000, T0);
    let t = T0 + 200_000_000_000; // 200 s later: +5 ms drift
    assert_eq!(m.difference_at(t), 2_718_281_828 + 5_000_000);
    assert_eq!(index::corrected_delta(2_723_311_828, t, &m), 30_000);
    // From wan: the client's frame came 2.723 s "earlier", 30 µs of it transit.
    let c = index::corrected_delta(-2_723_311_828, t + 2_723_311_828, &m.inverse());
    assert!((c + 30_000).abs() <= 1, "{c}");
}

#[test]
fn memory_per_packet() {
    // Four points, every packet seen at all four: 3 peers per frame.
    let mut b = IndexBuilder::new();
    let n = 5_000u32;
    for label in LABELS {
        b.add_point(label, &format!("/c/{label}.pcapng"), 1 << 30)
            .unwrap();
    }
    for k in 0..n {
        for p in 0..4u16 {
            let ts = T0 + k as i64 * 1_000_000 + p as i64 * 30_000;
            b.add_frame(p, ts, k.wrapping_mul(2_654_435_761) ^ p as u32)
                .unwrap();
        }
    }
    for k in 1..=n {
        for a in 0..4u16 {
            for c in a + 1..4 {
                b.add_match(a, k, c, k, (c - a) as i64 * 30_000, id::NAT, 255)
                    .unwrap();
            }
        }
    }
    for a in 0..4u16 {
        for c in a + 1..4 {
            b.set_pair(a, c, PairSpec::default()).unwrap();
        }
    }
    let bytes = b.build();
    let ix = Index::load(&bytes).unwrap();
    let frames = 4 * n as usize;
    assert_eq!(bytes_per_packet(3), 60);
    // Exactly 60 bytes a frame, plus per point one first[] element (4), the
    // POINTS record (72) and FRAME_TIMES entry (16), plus the fixed parts:
    // header and section table (264), METHODS (104), PAIRS (8 + 80 per
    // pair), strings, section headers and padding.
    let per_frame = bytes_per_packet(3) * frames;
    let overhead = bytes.len() - per_frame;
    assert!(overhead < 1600, "overhead {overhead}");
    assert!(ix.bytes_per_packet() <= 64.0, "{}", ix.bytes_per_packet());
    assert!(ix.bytes_per_packet() > 60.0);
    // A frame with no peers costs 12 bytes.
    assert_eq!(bytes_per_packet(0), 12);
}

/// `write_to` makes the index's pieces on worker threads and writes them
/// on the caller's: the same bytes whatever the writer takes per call, and
/// a writer's error comes back as it is (the workers stop, nothing hangs;
/// tests/write_schedule.rs tries more places and a slow writer on a bigger
/// session).
#[test]
fn write_to_pieces_and_a_failing_writer() {
    struct Limited {
        out: Vec<u8>,
        per_call: usize,
        fail_after: usize,
    }
    impl std::io::Write for Limited {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let room = self.fail_after.saturating_sub(self.out.len());
            if room == 0 && !b.is_empty() {
                return Err(std::io::Error::other("disk full"));
            }
            let n = b.len().min(self.per_call).min(room);
            self.out.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut b = IndexBuilder::new();
    for label in LABELS {
        b.add_point(label, &format!("/c/{label}.pcapng"), 1 << 30)
            .unwrap();
    }
    let n = 80_000u32;
    for k in 0..n {
        for p in 0..4u16 {
            b.add_frame(
                p,
                T0 + k as i64 * 1_000_000 + p as i64 * 30_000,
                k ^ p as u32,
            )
            .unwrap();
        }
    }
    for k in 1..=n {
        b.add_match(0, k, 1, k, 30_000, id::NAT, 255).unwrap();
        b.add_match(1, k, 3, k, 60_000, id::NAT, 255).unwrap();
    }
    let whole = b.build();
    // Over six 1 MiB pieces, so that a failing writer may find workers
    // waiting to hand theirs over (write_schedule.rs makes sure of it).
    assert!(whole.len() > 6 << 20, "{}", whole.len());
    let mut w = Limited {
        out: Vec::new(),
        per_call: 1000,
        fail_after: usize::MAX,
    };
    assert_eq!(b.write_to(&mut w).unwrap(), whole.len() as u64);
    assert_eq!(w.out, whole);
    for fail_after in [0, 300_000, 3 << 20, whole.len() - 1] {
        let mut w = Limited {
            out: Vec::new(),
            per_call: 4096,
            fail_after,
        };
        let e = b.write_to(&mut w).unwrap_err();
        assert_eq!(e.to_string(), "disk full", "after {fail_after}");
        assert_eq!(w.out.len(), fail_after);
    }
}

/// Where an index must never go (the command line checks this before its
/// output writer writes): capture names, a point's own file (also through
/// another spelling), an existing capture under another name.
#[test]
fn capture_paths_are_refused() {
    use index::builder::refuse_capture_path;
    let dir = std::env::temp_dir().join(format!("index-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("client.pcapng");
    std::fs::write(&capture, b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00capture").unwrap();
    let protected = [capture.as_path()];
    assert!(refuse_capture_path(&dir.join("session.pktmatch"), &protected).is_ok());
    for name in ["x.pcap", "x.PCAPNG", "x.pcapng.gz", "x.cap", "x.zst"] {
        let e = refuse_capture_path(&dir.join(name), &protected).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("a capture file name"), "{e}");
    }
    let e = refuse_capture_path(&capture, &protected).unwrap_err();
    assert!(e.to_string().contains("refusing"), "{e}");
    let renamed = dir.join("client.dat");
    std::fs::copy(&capture, &renamed).unwrap();
    let e = refuse_capture_path(&renamed, &protected).unwrap_err();
    assert!(e.to_string().contains("is a capture"), "{e}");
    let other_spelling = dir.join(".").join("client.dat");
    let e = refuse_capture_path(&other_spelling, &[renamed.as_path()]).unwrap_err();
    assert!(e.to_string().contains("capture file of a point"), "{e}");
    // write_to gives the bytes build() gives.
    let mut b = IndexBuilder::new();
    let p = b
        .add_point("client", capture.to_str().unwrap(), 15)
        .unwrap();
    b.add_frame(p, 1, 2).unwrap();
    let mut out = Vec::new();
    let n = b.write_to(&mut out).unwrap();
    assert_eq!(n, out.len() as u64);
    assert_eq!(out, b.build());
    assert!(Index::load(&out).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes seed indexes for the fuzz target when INDEX_FUZZ_SEEDS names a
/// directory (tools: `INDEX_FUZZ_SEEDS=fuzz/corpus/index_loader cargo test
/// -p index --test index write_fuzz_seeds`).
#[test]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("INDEX_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        ("session-3", session(3).bytes),
        ("session-10", session(10).bytes),
        ("empty", IndexBuilder::new().build()),
    ];
    let s = session(5);
    let secs = sections(&s.bytes);
    let required: Vec<_> = secs
        .iter()
        .filter(|s| kind::REQUIRED.contains(&s.0))
        .cloned()
        .collect();
    seeds.push(("required-only", assemble(&required, 2, 0)));
    let mut extra = secs.clone();
    extra.push((500, 0, vec![1, 2, 3]));
    seeds.push(("unknown-section", assemble(&extra, 2, 3)));
    let mut b = IndexBuilder::new();
    b.add_point("one", "one.pcap", 0).unwrap();
    for i in 0..4 {
        b.add_frame(0, i, i as u32).unwrap();
    }
    seeds.push(("one-point", b.build()));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}
