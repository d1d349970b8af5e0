//! A synthetic four-point session in the shape of the lab (docs/lab.md):
//! client → wan (SNAT) → dc (DNAT) → lbserver (behind a full proxy), with
//! the lab's clock errors, one packet lost between wan and dc, and
//! every other packet forwarded by the proxy.
#![allow(dead_code)]

use index::methods::id;
use index::{
    frame_check, ClockModel, Endpoints, IndexBuilder, PairSpec, SeqOffsets, TranslationKind,
    TranslationSpec,
};

pub const T0: i64 = 1_700_000_000_000_000_000;
pub const LABELS: [&str; 4] = ["client", "wan", "dc", "lbserver"];
/// Clock offset (ns) and drift (ppb) of each point against true time.
pub const CLOCKS: [(i64, i64); 4] = [
    (0, 0),
    (2_718_281_828, 25_000),
    (-97_314_159_265, -40_000),
    (10_812_345_678_901, 12_500),
];
/// True transit from the client to each point.
pub const TRANSIT: [i64; 4] = [0, 30_000, 61_000, 95_000];
/// Packet lost between wan and dc.
pub const LOST_PACKET: usize = 7;

/// A point's clock reading at true time t.
pub fn clock_at(p: usize, t: i64) -> i64 {
    let (o, d) = CLOCKS[p];
    let drift = ((t - T0) as i128 * d as i128) / 1_000_000_000;
    t + o + drift as i64
}

/// One frame of a point.
#[derive(Clone, Debug)]
pub struct Frame {
    pub packet: usize,
    pub ts: i64,
    pub data: Vec<u8>,
}

/// The session, built.
pub struct Session {
    pub builder: IndexBuilder,
    pub bytes: Vec<u8>,
    /// Frames of each point, frame f at index f-1.
    pub frames: Vec<Vec<Frame>>,
    /// (a, frame_a, b, frame_b, delta_raw, method, confidence) with a < b.
    pub matches: Vec<(u16, u32, u16, u32, i64, u8, u8)>,
}

/// Points that see packet k.
pub fn seen_at(k: usize) -> Vec<usize> {
    let mut v = vec![0, 1];
    if k != LOST_PACKET {
        v.push(2);
        if k % 2 == 0 {
            v.push(3);
        }
    }
    v
}

pub fn method_for(a: usize, b: usize) -> u8 {
    match (a, b) {
        (_, 3) => id::PROXY_HTTP,
        (0, _) => id::NAT,
        _ => id::SAME_ADDRESSING,
    }
}

/// The pair model (a to b) the session's clocks imply, reference at T0 on
/// a's clock.
pub fn pair_model(a: usize, b: usize) -> ClockModel {
    let (oa, da) = CLOCKS[a];
    let (ob, db) = CLOCKS[b];
    // t_b - t_a at true T0 is ob - oa; drift of b in a's seconds.
    let drift = ((db - da) as f64 / (1.0 + da as f64 * 1e-9)).round() as i64;
    ClockModel::new(ob - oa, drift, T0 + oa)
}

pub fn session(packets: usize) -> Session {
    let mut b = IndexBuilder::new();
    b.created_ns(T0 - 1);
    let mut frames: Vec<Vec<Frame>> = vec![Vec::new(); 4];
    for (p, label) in LABELS.iter().enumerate() {
        b.add_point(label, &format!("/captures/{label}.pcapng"), 4096 + p as u64)
            .unwrap();
    }
    for k in 0..packets {
        let t = T0 + k as i64 * 1_000_000 + (k as i64 % 3) * 777;
        for p in seen_at(k) {
            let ts = clock_at(p, t + TRANSIT[p]);
            let mut data = vec![p as u8; 60];
            data[..8].copy_from_slice(&(k as u64).to_be_bytes());
            let f = b
                .add_frame_bytes(p as u16, ts, data.len() as u32, &data)
                .unwrap();
            assert_eq!(f as usize, frames[p].len() + 1);
            frames[p].push(Frame {
                packet: k,
                ts,
                data,
            });
        }
    }
    let frame_of = |frames: &Vec<Vec<Frame>>, p: usize, k: usize| -> Option<u32> {
        frames[p]
            .iter()
            .position(|f| f.packet == k)
            .map(|i| i as u32 + 1)
    };
    let mut matches = Vec::new();
    for k in 0..packets {
        let at = seen_at(k);
        for (i, &a) in at.iter().enumerate() {
            for &bp in &at[i + 1..] {
                let fa = frame_of(&frames, a, k).unwrap();
                let fb = frame_of(&frames, bp, k).unwrap();
                let delta = frames[bp][fb as usize - 1].ts - frames[a][fa as usize - 1].ts;
                let method = method_for(a, bp);
                let conf = if bp == 3 { 200 } else { 255 };
                matches.push((a as u16, fa, bp as u16, fb, delta, method, conf));
                // Give every other match in the reverse order: the builder
                // must normalise.
                if k % 2 == 1 {
                    b.add_match(bp as u16, fb, a as u16, fa, -delta, method, conf)
                        .unwrap();
                } else {
                    b.add_match(a as u16, fa, bp as u16, fb, delta, method, conf)
                        .unwrap();
                }
            }
        }
        if k == LOST_PACKET && k < packets {
            for p in [0, 1] {
                let f = frame_of(&frames, p, k).unwrap();
                b.add_lost(p as u16, f, 2, index::LossKind::NetworkLoss)
                    .unwrap();
                b.add_lost(p as u16, f, 3, index::LossKind::Uncertain)
                    .unwrap();
            }
        }
    }
    for a in 0..4usize {
        for bp in a + 1..4 {
            let matched = matches
                .iter()
                .filter(|m| m.0 as usize == a && m.2 as usize == bp)
                .count() as u32;
            b.set_pair(
                a as u16,
                bp as u16,
                PairSpec {
                    clock: Some(pair_model(a, bp)),
                    offset_error_ns: 500 * (bp - a) as u64,
                    matched,
                    neighbours: bp == a + 1,
                    missing: index::Missing {
                        lost: [u32::from(a < 2 && bp == 2), 0],
                        uncertain: [u32::from(a < 2 && bp == 3), 0],
                        ..Default::default()
                    },
                },
            )
            .unwrap();
        }
    }
    b.add_translation(TranslationSpec {
        a: 0,
        b: 1,
        kind: TranslationKind::Snat,
        summary: "SNAT 10.0.0.5:51000 → 203.0.113.7:40123; seq +0x1A2B3C4D client→server".into(),
        endpoints: Some(Endpoints {
            ip_proto: 6,
            a_src: "10.0.0.5:51000".parse().unwrap(),
            a_dst: "198.51.100.10:443".parse().unwrap(),
            b_src: "203.0.113.7:40123".parse().unwrap(),
            b_dst: "198.51.100.10:443".parse().unwrap(),
        }),
        seq_offsets: Some(SeqOffsets {
            client_to_server: 0x1A2B_3C4D,
            server_to_client: 0,
        }),
    })
    .unwrap();
    b.add_translation(TranslationSpec {
        a: 1,
        b: 2,
        kind: TranslationKind::Dnat,
        summary: "DNAT 198.51.100.10:443 → 192.0.2.20:8443".into(),
        endpoints: None,
        seq_offsets: None,
    })
    .unwrap();
    b.add_translation(TranslationSpec {
        a: 2,
        b: 3,
        kind: TranslationKind::Proxy,
        summary: "proxy: 192.0.2.20:8443 → 192.0.2.30:80 (new connection)".into(),
        endpoints: None,
        seq_offsets: None,
    })
    .unwrap();
    b.add_translation(TranslationSpec {
        a: 0,
        b: 1,
        kind: TranslationKind::Snat,
        summary: "SNAT 10.0.0.5:51002 → 203.0.113.7:40200".into(),
        endpoints: None,
        seq_offsets: None,
    })
    .unwrap();
    let bytes = b.build();
    matches.sort();
    Session {
        builder: b,
        bytes,
        frames,
        matches,
    }
}

/// The check of a fixture frame.
pub fn check_of(f: &Frame) -> u32 {
    frame_check(f.ts, f.data.len() as u32, &f.data)
}

/// Reads every section out of an index: (kind, flags, bytes).
pub fn sections(bytes: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let n = u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
    let hl = u32::from_le_bytes(bytes[36..40].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| {
            let e = &bytes[hl + 24 * i..hl + 24 * i + 24];
            let k = u32::from_le_bytes(e[0..4].try_into().unwrap());
            let f = u32::from_le_bytes(e[4..8].try_into().unwrap());
            let o = u64::from_le_bytes(e[8..16].try_into().unwrap()) as usize;
            let l = u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize;
            (k, f, bytes[o..o + l].to_vec())
        })
        .collect()
}

/// Lays sections out into an index file (header version `major.minor`),
/// with the CHECKSUM recomputed when it is the last section.
pub fn assemble(sections: &[(u32, u32, Vec<u8>)], major: u16, minor: u16) -> Vec<u8> {
    let align = |n: usize| (n + 7) & !7;
    let table_end = 48 + 24 * sections.len();
    let mut at = align(table_end);
    let mut offsets = Vec::new();
    for s in sections {
        offsets.push(at);
        at = align(at + s.2.len());
    }
    let mut v = Vec::new();
    v.extend_from_slice(b"PKTMIDX\0");
    v.extend_from_slice(&major.to_le_bytes());
    v.extend_from_slice(&minor.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&(at as u64).to_le_bytes());
    v.extend_from_slice(&(T0 - 1).to_le_bytes()); // as session() sets it
    v.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    v.extend_from_slice(&48u32.to_le_bytes());
    v.extend_from_slice(&0u64.to_le_bytes());
    for (s, o) in sections.iter().zip(&offsets) {
        v.extend_from_slice(&s.0.to_le_bytes());
        v.extend_from_slice(&s.1.to_le_bytes());
        v.extend_from_slice(&(*o as u64).to_le_bytes());
        v.extend_from_slice(&(s.2.len() as u64).to_le_bytes());
    }
    for (s, o) in sections.iter().zip(&offsets) {
        v.resize(*o, 0);
        v.extend_from_slice(&s.2);
    }
    v.resize(at, 0);
    // A CHECKSUM section (format 1.2) laid out last covers the new bytes.
    if sections.last().map(|s| s.0) == Some(index::header::kind::CHECKSUM) {
        index::header::checksum::reseal(&mut v);
    }
    v
}

/// Every accessor over every point and frame (and a few out of range); the
/// number of items seen.
pub fn walk(ix: &index::Index<'_>) -> usize {
    let mut n = 0;
    let pc = ix.point_count() as u16;
    for p in 0..=pc {
        if let Some(pt) = ix.point(p) {
            n += pt.label().len() + pt.path().len();
            let _ = (
                pt.file_size(),
                pt.first_ts_ns(),
                pt.last_ts_ns(),
                pt.fingerprint(),
                pt.flags(),
            );
        }
        let packets = ix.packets(p);
        for f in 0..=packets.saturating_add(1).min(10_000) {
            let _ = (ix.check(p, f), ix.frame_time_ns(p, f), ix.verify(p, f, 0));
            for peer in ix.peers(p, f) {
                let _ = ix.corrected_delta(p, f, &peer, 0);
                let _ = ix.method_name(peer.method);
                n += 1;
            }
            n += ix.lost(p, f).count();
        }
        n += ix.lost_all(p).count();
        for q in 0..=pc {
            if let Some(pair) = ix.pair(p, q) {
                let _ = (pair.clock(), pair.matched(), pair.offset_error_ns());
            }
            let _ = ix.clock(p, q);
            let _ = (ix.clock_at(p, 1, q), ix.clock_at_time(p, 0, q));
            n += ix.clock_segments(p, q).count();
            for t in ix.translations(p, q) {
                let _ = (t.summary(), t.endpoints(), t.seq_offsets(), t.kind());
                n += 1;
            }
        }
    }
    n += ix.pairs().count() + ix.all_translations().count() + ix.methods().count();
    let _ = ix.identify(&[(1, 0), (2, 1)]);
    let mut csv = Vec::new();
    index::export_csv(ix, &mut csv).unwrap();
    n + csv.len()
}
