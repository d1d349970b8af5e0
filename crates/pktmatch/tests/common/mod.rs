//! Fixtures for the reader subcommands' tests.
//!
//! * [`truth_fixture`]: an index over the real lab captures of
//!   examples/session-small, built with `index::IndexBuilder` from the lab's
//!   ground truth (truth/packets.csv, truth/clocks.json) — not by the
//!   matcher — so every value the subcommands show is known in advance.
//!   Lost entries and translations are added by hand (the truth has none
//!   for this run) and named as such.
//! * [`synthetic_session`]: two tiny pcap captures made here with
//!   etherparse (a NAT'd HTTP exchange with hostile text in it), for exact
//!   hand-checked values.
//! * Helpers to run the `pktmatch` binary and real tshark.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use index::methods::id as method;
use index::{ClockModel, IndexBuilder, PairSpec, TranslationKind, TranslationSpec};

pub const LABELS: [&str; 4] = ["client", "wan", "dc", "lbserver"];

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/session-small")
}

pub fn capture_path(label: &str) -> PathBuf {
    example_dir()
        .join(format!("{label}.pcapng"))
        .canonicalize()
        .expect("example capture")
}

/// Every frame's time stamp of a capture (index 0 = frame 1), and adds the
/// frames to the builder as point `point`.
fn add_frames(b: &mut IndexBuilder, point: u16, path: &Path) -> Vec<i64> {
    let mut cap = capture::open(path).expect("open capture");
    let mut ts = Vec::new();
    while let Some(p) = cap.next_packet().expect("read capture") {
        assert_eq!(
            p.frame as usize,
            ts.len() + 1,
            "frames numbered without gaps"
        );
        b.add_frame_bytes(point, p.ts_ns, p.data.len() as u32, p.data)
            .unwrap();
        ts.push(p.ts_ns);
    }
    ts
}

/// One match the fixture put into the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub a: u16,
    pub fa: u32,
    pub b: u16,
    pub fb: u32,
    pub raw_ns: i64,
    pub true_ns: i64,
    pub method: u8,
    pub confidence: u8,
    pub kind: String,
}

/// What [`truth_fixture`] put in.
pub struct Truth {
    pub dir: tempfile::TempDir,
    pub session: PathBuf,
    pub matches: Vec<Match>,
    /// (point, frame, not seen at, why)
    pub lost: Vec<(u16, u32, u16, index::LossKind)>,
    /// Per pair (a, b): (offset_ns, drift_ppb, reference_ns, error bound).
    pub clocks: BTreeMap<(u16, u16), (i64, i64, i64, u64)>,
    pub ts: Vec<Vec<i64>>,
}

fn point_index(label: &str) -> u16 {
    LABELS.iter().position(|l| *l == label).expect("label") as u16
}

/// The truth-built index of examples/session-small (see the module
/// comment): every certain adjacent-hop pair of truth/packets.csv as a
/// match (raw delta from the captures' time stamps), the true clock model
/// of every pair, two hand-added LOST entries on client frames that have
/// no match (frame 1: lost before wan; frame 2: wan's capture was not
/// running), one hand-written SNAT translation client→wan and one proxy
/// translation dc→lbserver.
pub fn truth_fixture() -> Truth {
    let dir = tempfile::tempdir().unwrap();
    let mut b = IndexBuilder::new();
    b.created_ns(1_795_331_968_000_000_000);
    let mut ts = Vec::new();
    for l in LABELS {
        let path = capture_path(l);
        let size = std::fs::metadata(&path).unwrap().len();
        let p = b.add_point(l, path.to_str().unwrap(), size).unwrap();
        ts.push(add_frames(&mut b, p, &path));
    }

    let csv = std::fs::read_to_string(example_dir().join("truth/packets.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let mut matches = Vec::new();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f[col("certain")] != "1" || f[col("hop")] != "adjacent" {
            continue;
        }
        let (a, b_) = (
            point_index(f[col("point_a")]),
            point_index(f[col("point_b")]),
        );
        let fa: u32 = f[col("frame_a")].parse().unwrap();
        let fb: u32 = f[col("frame_b")].parse().unwrap();
        let kind = f[col("kind")].to_owned();
        let m = match kind.as_str() {
            "dns" => method::APP_ID,
            "tcp" => method::NAT,
            "tcp-tso" => method::TSO,
            _ => method::PROXY_HTTP,
        };
        // Some doubt on every 7th wan-dc match, to see percentages.
        let confidence = if a == 1 && i % 7 == 0 { 200 } else { 255 };
        let raw = ts[b_ as usize][fb as usize - 1] - ts[a as usize][fa as usize - 1];
        b.add_match(a, fa, b_, fb, raw, m, confidence).unwrap();
        matches.push(Match {
            a,
            fa,
            b: b_,
            fb,
            raw_ns: raw,
            true_ns: f[col("delta_true_ns")].parse().unwrap(),
            method: m,
            confidence,
            kind,
        });
    }

    let lost = vec![
        (0u16, 1u32, 1u16, index::LossKind::NetworkLoss),
        (0, 2, 1, index::LossKind::OutsideCapture),
    ];
    for m in &matches {
        assert!(
            !(m.a == 0 && (m.fa == 1 || m.fa == 2)),
            "client frames 1 and 2 must have no match for the lost entries"
        );
    }
    for &(p, f, at, kind) in &lost {
        b.add_lost(p, f, at, kind).unwrap();
    }

    let clocks_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(example_dir().join("truth/clocks.json")).unwrap(),
    )
    .unwrap();
    let mut clocks = BTreeMap::new();
    for (i, q) in clocks_json["pairs"].as_array().unwrap().iter().enumerate() {
        let a = point_index(q["a"].as_str().unwrap());
        let b_ = point_index(q["b"].as_str().unwrap());
        let offset = q["offset_ns"].as_i64().unwrap();
        let ppb = (q["drift_ppm"].as_f64().unwrap() * 1000.0).round() as i64;
        let reference = q["reference_ns"].as_i64().unwrap();
        let bound = 1000 + i as u64;
        let matched = matches.iter().filter(|m| (m.a, m.b) == (a, b_)).count() as u32;
        let mut missing = index::Missing::default();
        for l in lost.iter().filter(|l| (l.0, l.2) == (a, b_)) {
            missing.count(l.3, 0);
        }
        b.set_pair(
            a,
            b_,
            PairSpec {
                clock: Some(ClockModel::new(offset, ppb, reference)),
                offset_error_ns: bound,
                matched,
                neighbours: b_ == a + 1,
                missing,
            },
        )
        .unwrap();
        clocks.insert((a, b_), (offset, ppb, reference, bound));
    }

    b.add_translation(TranslationSpec {
        a: 0,
        b: 1,
        kind: TranslationKind::Snat,
        summary: String::new(),
        endpoints: Some(index::Endpoints {
            ip_proto: 6,
            a_src: "192.0.2.10:35777".parse().unwrap(),
            a_dst: "203.0.113.80:80".parse().unwrap(),
            b_src: "198.51.100.1:63545".parse().unwrap(),
            b_dst: "203.0.113.80:80".parse().unwrap(),
        }),
        seq_offsets: Some(index::SeqOffsets {
            client_to_server: 0x1A2B_3C4D,
            server_to_client: 0xFFFF_FFF0,
        }),
    })
    .unwrap();
    b.add_translation(TranslationSpec {
        a: 2,
        b: 3,
        kind: TranslationKind::Proxy,
        summary: "proxy: hand-written fixture text <b>&amp;</b>".into(),
        endpoints: None,
        seq_offsets: None,
    })
    .unwrap();

    let session = dir.path().join("truth-fixture.pktmatch");
    std::fs::write(&session, b.build()).unwrap();
    Truth {
        dir,
        session,
        matches,
        lost,
        clocks,
        ts,
    }
}

/// `b` equals `a` once `a` carries `b`'s creation time (the header field,
/// and the CRC of every byte before the CHECKSUM section, which covers it):
/// two indexes of the same inputs written at different times.
pub fn same_but_creation(a: &[u8], b: &[u8]) -> bool {
    use index::header::{checksum, field};
    if a.len() != b.len() || a.len() < field::LEN + checksum::LEN {
        return false;
    }
    let mut x = a.to_vec();
    x[field::CREATED_NS].copy_from_slice(&b[field::CREATED_NS]);
    let end = x.len() - checksum::LEN;
    let crc = checksum::crc32(&x[..end]);
    x[end..].copy_from_slice(&checksum::section(crc));
    x == b
}

/// The `pktmatch` binary with `args`.
pub fn pktmatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pktmatch"))
        .args(args)
        .output()
        .expect("run pktmatch")
}

/// Runs `pktmatch` and returns its standard output; panics with stderr on
/// failure.
pub fn pktmatch_ok(args: &[&str]) -> String {
    let out = pktmatch(args);
    assert!(
        out.status.success(),
        "pktmatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `pktmatch`, expects failure, returns stderr.
pub fn pktmatch_err(args: &[&str]) -> String {
    let out = pktmatch(args);
    assert!(
        !out.status.success(),
        "pktmatch {args:?} should have failed"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Real tshark (or capinfos) in a fresh HOME (no personal plugins);
/// stdout as text.  These are the project's test prerequisites
/// (tools/setup-debian.sh installs them).
pub fn tool(program: &str, args: &[&str], home: &Path) -> String {
    let out = Command::new(program)
        .env("HOME", home)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} not runnable ({e}): tools/setup-debian.sh installs it")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A minimal CSV reader for the report's output (RFC 4180 quoting).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Header name → column.
pub fn columns(header: &[String]) -> BTreeMap<String, usize> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect()
}

pub mod synthetic;
