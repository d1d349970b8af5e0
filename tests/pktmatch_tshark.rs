//! The `pktmatch` post-dissector in real tshark.
//!
//! The session index is built here with the `index` crate's builder from
//! the lab captures in examples/session-small: every frame of the four
//! captures (read with the `capture` crate), the matches of
//! truth/packets.csv, the true clock models of truth/clocks.json, lost
//! entries and translations.  Every field tshark shows is then compared with
//! what `Index` (the reference reader) says for that frame; a small
//! two-point session with hand-computed values checks the arithmetic itself.
//! Stale, foreign, corrupt and truncated indexes must give expert info and
//! tshark must exit 0.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{release_plugins, repo_root, rows, Wireshark};
use index::{
    ClockModel, Endpoints, Index, IndexBuilder, LossKind, PairSpec, TranslationKind,
    TranslationSpec,
};

const POINTS: [&str; 4] = ["client", "wan", "dc", "lbserver"];

fn wireshark() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

fn session_dir() -> PathBuf {
    repo_root().join("examples/session-small")
}

fn capture_path(label: &str) -> PathBuf {
    session_dir().join(format!("{label}.pcapng"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pktmatch-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The session index, built once per test process.
struct Session {
    bytes: Vec<u8>,
    /// Per point, the time stamp of each frame (index 0 = frame 1).
    times: Vec<Vec<i64>>,
}

impl Session {
    fn index(&self) -> Index<'_> {
        Index::load(&self.bytes).unwrap()
    }
}

/// Client-side (initiator) endpoints of conn0000 at the client and the wan
/// point, from truth/connections.jsonl.
fn conn0000() -> Endpoints {
    let at = |s: &str| s.parse().unwrap();
    Endpoints {
        ip_proto: 6,
        a_src: at("192.0.2.10:35777"),
        a_dst: at("203.0.113.80:80"),
        b_src: at("198.51.100.1:63545"),
        b_dst: at("203.0.113.80:80"),
    }
}

fn session() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(build_session)
}

fn build_session() -> Session {
    let mut b = IndexBuilder::new();
    let mut times = Vec::new();
    for label in POINTS {
        let path = capture_path(label);
        let size = std::fs::metadata(&path).unwrap().len();
        let p = b.add_point(label, &path.to_string_lossy(), size).unwrap();
        let mut capture = capture::open(&path).unwrap();
        let mut ts = Vec::new();
        while let Some(packet) = capture.next_packet().unwrap() {
            b.add_frame_bytes(p, packet.ts_ns, packet.data.len() as u32, packet.data)
                .unwrap();
            ts.push(packet.ts_ns);
        }
        times.push(ts);
    }
    let point = |label: &str| POINTS.iter().position(|p| *p == label).unwrap() as u16;
    let truth = std::fs::read_to_string(session_dir().join("truth/packets.csv")).unwrap();
    let mut matched: BTreeMap<(u16, u16), u32> = BTreeMap::new();
    for line in truth.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let (pa, fa, pb, fb, kind) = (
            point(c[0]),
            c[1].parse::<u32>().unwrap(),
            point(c[2]),
            c[3].parse::<u32>().unwrap(),
            c[4],
        );
        let delta = times[pb as usize][fb as usize - 1] - times[pa as usize][fa as usize - 1];
        // Method ids of index::methods::DEFAULT; the proxy anchors get lower
        // confidences so that some matches are low-confidence.
        let (method, confidence) = match kind {
            "dns" => (5, 255),
            "tcp" => (2, 255),
            "tcp-tso" => (4, 230),
            "http-request" => (7, 200),
            "http-response" => (7, 100),
            other => panic!("unknown kind {other}"),
        };
        b.add_match(pa, fa, pb, fb, delta, method, confidence)
            .unwrap();
        *matched.entry((pa.min(pb), pa.max(pb))).or_default() += 1;
    }
    // truth/clocks.json, pair models (drift ppm × 1000 = ppb, rounded);
    // dc–lbserver deliberately without a model (no corrected delta there).
    let clocks = [
        (
            "client",
            "wan",
            2_718_281_828,
            25_000,
            1_795_331_968_000_000_000,
        ),
        (
            "client",
            "dc",
            -97_314_159_265,
            -40_000,
            1_795_331_968_000_000_000,
        ),
        (
            "client",
            "lbserver",
            10_812_345_678_901,
            12_500,
            1_795_331_968_000_000_000,
        ),
        (
            "wan",
            "dc",
            -100_032_441_093,
            -64_998,
            1_795_331_970_718_281_828,
        ),
        (
            "wan",
            "lbserver",
            10_809_627_397_073,
            -12_500,
            1_795_331_970_718_281_828,
        ),
    ];
    for (a, bb, offset, ppb, reference) in clocks {
        let (a, bb) = (point(a), point(bb));
        let spec = PairSpec {
            clock: Some(ClockModel::new(offset, ppb, reference)),
            offset_error_ns: 1000,
            matched: matched.get(&(a, bb)).copied().unwrap_or(0),
            ..Default::default()
        };
        b.set_pair(a, bb, spec).unwrap();
    }
    let (dc, lbserver) = (point("dc"), point("lbserver"));
    b.set_pair(
        dc,
        lbserver,
        PairSpec {
            matched: matched[&(dc, lbserver)],
            ..Default::default()
        },
    )
    .unwrap();
    // One entry of each kind at the client: ARP request "lost" on the way
    // to the wan, the ARP reply outside dc's capture, conn0000's SYN
    // uncertain at lbserver (a full proxy: it does not pass), an MLD report
    // "not captured" at the wan (a capture drop).
    b.add_lost(0, 3, point("wan"), LossKind::NetworkLoss)
        .unwrap();
    b.add_lost(0, 4, dc, LossKind::OutsideCapture).unwrap();
    b.add_lost(0, 7, lbserver, LossKind::Uncertain).unwrap();
    b.add_lost(0, 2, point("wan"), LossKind::CaptureDrop)
        .unwrap();
    // A translation with endpoints (one connection), one pair with a single
    // translation without endpoints (applies to all its matches), one pair
    // with two (cannot tell which: none shown).
    b.add_translation(TranslationSpec {
        a: 0,
        b: point("wan"),
        kind: TranslationKind::Snat,
        summary: "SNAT 192.0.2.10:35777 → 198.51.100.1:63545".into(),
        endpoints: Some(conn0000()),
        seq_offsets: None,
    })
    .unwrap();
    b.add_translation(TranslationSpec {
        a: 0,
        b: dc,
        kind: TranslationKind::SnatDnat,
        summary: "SNAT+DNAT 203.0.113.80 → 192.0.2.70 (every connection)".into(),
        endpoints: None,
        seq_offsets: None,
    })
    .unwrap();
    for summary in ["DNAT :80 → :8080", "DNAT :443 → :8443"] {
        b.add_translation(TranslationSpec {
            a: point("wan"),
            b: dc,
            kind: TranslationKind::Dnat,
            summary: summary.into(),
            endpoints: None,
            seq_offsets: None,
        })
        .unwrap();
    }
    Session {
        bytes: b.build(),
        times,
    }
}

/// An index file inside the test's HOME, as tshark sees its path.
fn add_index(ws: &Wireshark, name: &str, bytes: &[u8]) -> String {
    // A directory per call: the tests run in parallel threads of one
    // process, and two writing "session.pktmatch" in one directory let a
    // third copy a half-written file (a flaky "index truncated").
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = scratch(&format!("indexes-{n}")).join(name);
    std::fs::write(&path, bytes).unwrap();
    ws.add_file(&path)
}

/// tshark's `-T fields` text of an FT_RELATIVE_TIME value: seconds with
/// nine decimals, the sign in front.
fn seconds(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    format!("{sign}{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000)
}

fn percent(confidence: u8) -> u32 {
    (u32::from(confidence) * 100 + 127) / 255
}

const FIELDS: [&str; 16] = [
    "pktmatch.point",
    "pktmatch.matched",
    "pktmatch.peer",
    "pktmatch.peer_point",
    "pktmatch.peer_file",
    "pktmatch.peer_frame",
    "pktmatch.delta",
    "pktmatch.delta_corrected",
    "pktmatch.clock_offset",
    "pktmatch.method",
    "pktmatch.confidence",
    "pktmatch.translation",
    "pktmatch.lost_at",
    "pktmatch.capture_drop_at",
    "pktmatch.outside_capture_at",
    "pktmatch.uncertain_at",
];

/// What tshark must print for FIELDS on `frame` of `point`.
fn expected_fields(s: &Session, point: u16, frame: u32) -> Vec<String> {
    let ix = s.index();
    let label = |p: u16| ix.point(p).unwrap().label().to_owned();
    let this_ts = s.times[point as usize][frame as usize - 1];
    let peers: Vec<_> = ix.peers(point, frame).collect();
    let join = |items: Vec<String>| items.join(",");
    let mut corrected = Vec::new();
    let mut offsets = Vec::new();
    let mut translations = Vec::new();
    let not_seen = |kind: LossKind| {
        join(
            ix.lost(point, frame)
                .filter(|l| l.kind == kind)
                .map(|l| label(l.point))
                .collect(),
        )
    };
    for peer in &peers {
        if let Some(model) = ix.clock_at(point, frame, peer.point) {
            corrected.push(seconds(index::corrected_delta(
                peer.delta_raw_ns,
                this_ts,
                &model,
            )));
            offsets.push(seconds(model.difference_at(this_ts)));
        }
        let records: Vec<_> = ix.translations(point, peer.point).collect();
        let summary = records.iter().find_map(|t| match t.endpoints() {
            Some(_) => in_conn0000(point, frame).then(|| t.summary().to_owned()),
            None if records.len() == 1 => Some(t.summary().to_owned()),
            None => None,
        });
        translations.extend(summary);
    }
    vec![
        label(point),
        if peers.is_empty() { "0" } else { "1" }.into(),
        join(
            peers
                .iter()
                .map(|p| format!("{} frame {}", label(p.point), p.frame))
                .collect(),
        ),
        join(peers.iter().map(|p| label(p.point)).collect()),
        join(
            peers
                .iter()
                .map(|p| ix.point(p.point).unwrap().path().to_owned())
                .collect(),
        ),
        join(peers.iter().map(|p| p.frame.to_string()).collect()),
        join(peers.iter().map(|p| seconds(p.delta_raw_ns)).collect()),
        join(corrected),
        join(offsets),
        join(
            peers
                .iter()
                .map(|p| ix.method_name(p.method).unwrap().to_owned())
                .collect(),
        ),
        join(
            peers
                .iter()
                .map(|p| percent(p.confidence).to_string())
                .collect(),
        ),
        join(translations),
        not_seen(LossKind::NetworkLoss),
        not_seen(LossKind::CaptureDrop),
        not_seen(LossKind::OutsideCapture),
        not_seen(LossKind::Uncertain),
    ]
}

/// Whether `frame` of `point` belongs to conn0000, whose client–wan
/// translation has endpoints: by its TCP ports at that point (client and
/// wan only; the test's translation is between those two).
fn in_conn0000(point: u16, frame: u32) -> bool {
    static PORTS: OnceLock<Vec<BTreeMap<u32, (u16, u16)>>> = OnceLock::new();
    let ports = PORTS.get_or_init(|| {
        let ws = wireshark();
        ["client", "wan"]
            .map(|label| {
                let file = ws.add_file(&capture_path(label));
                ws.fields(&file, &["-Y", "tcp"], &["tcp.srcport", "tcp.dstport"])
                    .into_iter()
                    .map(|(f, v)| (f, (v[0].parse().unwrap(), v[1].parse().unwrap())))
                    .collect()
            })
            .to_vec()
    });
    let conn = conn0000();
    let (src, dst) = match point {
        0 => (conn.a_src, conn.a_dst),
        1 => (conn.b_src, conn.b_dst),
        _ => return false,
    };
    ports[point as usize].get(&frame).is_some_and(|&(a, b)| {
        let pair = (src.port(), dst.port());
        (a, b) == pair || (b, a) == pair
    })
}

/// Runs tshark for FIELDS over a capture with `extra` arguments.
fn shown(ws: &Wireshark, file: &str, extra: &[&str]) -> BTreeMap<u32, Vec<String>> {
    ws.fields(file, extra, &FIELDS)
}

#[test]
fn every_field_equals_the_index_at_every_point() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let pref = format!("pktmatch.index:{index}");
    let mut low = 0;
    for (p, label) in POINTS.iter().enumerate() {
        let file = ws.add_file(&capture_path(label));
        let table = shown(&ws, &file, &["-o", &pref]);
        assert_eq!(table.len(), s.times[p].len(), "{label}: every frame");
        for (frame, values) in &table {
            let want = expected_fields(s, p as u16, *frame);
            assert_eq!(values, &want, "{label} frame {frame}");
            low += values[10]
                .split(',')
                .filter(|v| v.parse::<u32>().is_ok_and(|c| c < 50))
                .count();
        }
    }
    assert!(low > 0, "the session has low-confidence matches");
}

#[test]
fn environment_variable_and_two_passes_show_the_same() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let file = ws.add_file(&capture_path("client"));
    let pref = format!("pktmatch.index:{index}");
    let one_pass = shown(&ws, &file, &["-o", &pref]);
    assert!(one_pass.values().filter(|v| v[1] == "1").count() > 300);
    assert_eq!(shown(&ws, &file, &["-o", &pref, "-2"]), one_pass, "-2");

    // PKTMATCH_INDEX when the preference is empty (env runs tshark).
    let mut args = vec![format!("PKTMATCH_INDEX={index}"), "tshark".into()];
    args.extend(
        [
            "-r",
            &file,
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-e",
            "frame.number",
        ]
        .map(String::from),
    );
    for f in FIELDS {
        args.extend(["-e".into(), f.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ws.tool("env", &args);
    assert!(out.status.success());
    let by_env: BTreeMap<u32, Vec<String>> = rows(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .map(|r| {
            let values = r[1..]
                .iter()
                .map(|v| v.replace("True", "1").replace("False", "0"))
                .collect();
            (r[0].parse().unwrap(), values)
        })
        .collect();
    assert_eq!(by_env, one_pass, "PKTMATCH_INDEX");
}

/// Frames of `file` that `filter` selects, with the index preference.
fn filtered(ws: &Wireshark, file: &str, pref: &str, filter: &str, two_pass: bool) -> BTreeSet<u32> {
    let mut args = vec![
        "-r",
        file,
        "-o",
        pref,
        "-Y",
        filter,
        "-T",
        "fields",
        "-e",
        "frame.number",
    ];
    if two_pass {
        args.push("-2");
    }
    ws.tshark_ok(&args)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn filters_on_every_field_select_what_the_index_says() {
    let s = session();
    let ix = s.index();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let pref = format!("pktmatch.index:{index}");
    let file = ws.add_file(&capture_path("wan"));
    let wan = 1u16;
    let frames = 1..=ix.packets(wan);
    let select =
        |f: &dyn Fn(u32) -> bool| -> BTreeSet<u32> { frames.clone().filter(|&n| f(n)).collect() };
    let peers = |n: u32| ix.peers(wan, n).collect::<Vec<_>>();
    let ts = |n: u32| s.times[1][n as usize - 1];
    // The issue's example: a peer frame number.
    let target = peers(40)
        .iter()
        .find(|p| p.point == 2)
        .expect("wan 40 has a dc peer")
        .frame;
    let cases: Vec<(String, BTreeSet<u32>)> = vec![
        (
            format!("pktmatch.peer_frame == {target}"),
            select(&|n| peers(n).iter().any(|p| p.frame == target)),
        ),
        ("pktmatch.point == \"wan\"".into(), select(&|_| true)),
        (
            "pktmatch.matched == 1".into(),
            select(&|n| !peers(n).is_empty()),
        ),
        (
            "pktmatch.peer_point == \"lbserver\"".into(),
            select(&|n| peers(n).iter().any(|p| p.point == 3)),
        ),
        (
            "pktmatch.peer contains \"client frame 1\"".into(),
            select(&|n| {
                peers(n)
                    .iter()
                    .any(|p| p.point == 0 && p.frame.to_string().starts_with('1'))
            }),
        ),
        (
            "pktmatch.peer_file contains \"dc.pcapng\"".into(),
            select(&|n| peers(n).iter().any(|p| p.point == 2)),
        ),
        (
            "pktmatch.method == \"tso\"".into(),
            select(&|n| peers(n).iter().any(|p| p.method == 4)),
        ),
        (
            "pktmatch.confidence < 50".into(),
            select(&|n| peers(n).iter().any(|p| percent(p.confidence) < 50)),
        ),
        (
            "pktmatch.delta < 0".into(),
            select(&|n| peers(n).iter().any(|p| p.delta_raw_ns < 0)),
        ),
        (
            "pktmatch.delta_corrected > 0.0001".into(),
            select(&|n| {
                peers(n).iter().any(|p| {
                    ix.corrected_delta(wan, n, p, ts(n))
                        .is_some_and(|d| d > 100_000)
                })
            }),
        ),
        (
            "pktmatch.clock_offset < -90".into(),
            select(&|n| {
                peers(n).iter().any(|p| {
                    ix.clock_at(wan, n, p.point)
                        .is_some_and(|m| m.difference_at(ts(n)) < -90_000_000_000)
                })
            }),
        ),
        (
            "pktmatch.translation".into(),
            select(&|n| {
                peers(n)
                    .iter()
                    .any(|p| p.point == 0 && in_conn0000(0, p.frame))
            }),
        ),
        (
            "pktmatch.expert.unmatched".into(),
            select(&|n| peers(n).is_empty() && ix.lost(wan, n).len() == 0),
        ),
        (
            "pktmatch.expert.low_confidence".into(),
            select(&|n| peers(n).iter().any(|p| percent(p.confidence) < 50)),
        ),
    ];
    for (filter, want) in &cases {
        assert!(!want.is_empty(), "{filter}: the case selects something");
        assert_eq!(
            &filtered(&ws, &file, &pref, filter, false),
            want,
            "{filter}"
        );
    }
    // -2 with the filter on the second pass selects the same.
    let (filter, want) = &cases[0];
    assert_eq!(
        &filtered(&ws, &file, &pref, filter, true),
        want,
        "-2 {filter}"
    );
}

#[test]
fn lost_packets_and_unmatched_frames_get_expert_info() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let pref = format!("pktmatch.index:{index}");
    let file = ws.add_file(&capture_path("client"));
    let experts = ws.fields(
        &file,
        &["-o", &pref],
        &[
            "_ws.expert.message",
            "pktmatch.lost_at",
            "pktmatch.capture_drop_at",
            "pktmatch.outside_capture_at",
            "pktmatch.uncertain_at",
        ],
    );
    assert_eq!(
        experts[&3][0],
        "Lost on the network between client and wan: seen neither at wan nor after it"
    );
    assert_eq!(experts[&3][1..], ["wan", "", "", ""]);
    assert_eq!(
        experts[&2][0],
        "Not captured at wan: seen before and after it\\, so wan's capture dropped it (not a \
         network loss)"
            .replace("\\,", ",")
    );
    assert_eq!(experts[&2][1..], ["", "wan", "", ""]);
    assert_eq!(
        experts[&4][0],
        "Not seen at dc\\, whose capture was not running then".replace("\\,", ",")
    );
    assert_eq!(experts[&4][1..], ["", "", "dc", ""]);
    assert!(
        experts[&7][0].contains("Not seen at lbserver (it may legitimately not pass there)"),
        "{:?}",
        experts[&7]
    );
    assert_eq!(experts[&7][4], "lbserver");
    assert_eq!(experts[&1][0], "Not found at any other capture point");
    for (filter, want) in [
        ("pktmatch.expert.lost", "3"),
        ("pktmatch.expert.capture_drop", "2"),
        ("pktmatch.expert.outside_capture", "4"),
        ("pktmatch.expert.uncertain", "7"),
        ("pktmatch.lost_at == \"dc\"", ""),
        ("pktmatch.outside_capture_at == \"dc\"", "4"),
        ("pktmatch.capture_drop_at == \"wan\"", "2"),
    ] {
        let out = ws.tshark_ok(&[
            "-r",
            &file,
            "-o",
            &pref,
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ]);
        assert_eq!(out.trim(), want, "{filter}");
    }
}

#[test]
fn info_column_tag_only_when_asked() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let pref = format!("pktmatch.index:{index}");
    let file = ws.add_file(&capture_path("client"));
    // The packet list as a user sees it: a summary line of two columns.
    // (Seen with tshark 4.4.19: `-T fields -e _ws.col.Info` gives the Info
    // text without what post-dissectors append, although the packet list
    // and `-T tabs` show it.)
    let info = |extra: &[&str]| {
        let mut args = vec![
            "-r",
            file.as_str(),
            "-o",
            &pref,
            "-T",
            "tabs",
            "-o",
            r#"gui.column.format:"No.","%m","Info","%i""#,
        ];
        args.extend(extra);
        rows(&ws.tshark_ok(&args))
            .into_iter()
            .map(|r| r.into_iter().map(|c| c.trim().to_owned()).collect())
            .collect::<Vec<Vec<String>>>()
    };
    assert!(info(&[]).iter().all(|r| !r[1].contains("[pm:")));
    let tagged = info(&["-o", "pktmatch.info_tag:TRUE"]);
    let ix = s.index();
    let peers = ix
        .peers(0, 5)
        .map(|p| format!("{}#{}", POINTS[p.point as usize], p.frame))
        .collect::<Vec<_>>();
    assert!(
        tagged[4][1].ends_with(&format!(" [pm: {}]", peers.join(" "))),
        "{:?}",
        tagged[4]
    );
    assert!(
        tagged[0][1].ends_with(" [pm: unmatched]"),
        "{:?}",
        tagged[0]
    );
    assert!(tagged[2][1].ends_with(" [pm: lost@wan]"), "{:?}", tagged[2]);
}

#[test]
fn without_an_index_the_post_dissector_is_idle() {
    let ws = wireshark();
    let file = ws.add_file(&capture_path("client"));
    let out = ws.tshark_ok(&["-r", &file, "-V"]);
    assert!(!out.contains("Packet matching across capture points"));
    let protocols = ws.tshark_ok(&["-r", &file, "-T", "fields", "-e", "frame.protocols"]);
    assert!(!protocols.contains("pktmatch"));
}

// ---- a hand-checked session --------------------------------------------

/// A classic pcap (ns resolution, Ethernet) of `frames` (time ns, bytes).
fn write_pcap(path: &Path, frames: &[(i64, Vec<u8>)]) {
    let mut out = Vec::new();
    out.extend(0xA1B2_3C4Du32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (ts, data) in frames {
        out.extend(((ts / 1_000_000_000) as u32).to_le_bytes());
        out.extend(((ts % 1_000_000_000) as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
    }
    std::fs::write(path, out).unwrap();
}

/// An Ethernet/IPv4/UDP frame with `tag` as payload.
fn udp_frame(tag: u8) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let payload = [tag; 8];
    let total = 20 + 8 + payload.len() as u16;
    f.extend([
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        tag,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend([10, 0, 0, 1, 10, 0, 0, 2]);
    f.extend([0x30, 0x39, 0x30, 0x3a, 0, 16, 0, 0]);
    f.extend(payload);
    f
}

#[test]
fn hand_checked_deltas_and_clock_correction() {
    // docs/index-format.md's example: wan 2.718281828 s ahead of the client
    // and gaining 25 ppm; 200 s after the reference the clock difference is
    // 2 718 281 828 + 5 000 000 ns, so a raw delta of 2 723 311 828 ns is a
    // transit of 30 000 ns.  Frame 2 goes the other way: the wan reads
    // 2.723281828 s + 10 µs later than the client's reading of its arrival.
    let reference = 1_700_000_000_000_000_000i64;
    let t = reference + 200_000_000_000;
    let client = [(t, udp_frame(1)), (t + 1_000_000, udp_frame(2))];
    let wan = [
        (t + 2_723_311_828, udp_frame(1)),
        (t + 1_000_000 + 2_723_281_828 - 10_000, udp_frame(2)),
    ];
    let dir = scratch("hand");
    let (cpath, wpath) = (dir.join("hand-client.pcap"), dir.join("hand-wan.pcap"));
    write_pcap(&cpath, &client);
    write_pcap(&wpath, &wan);
    let mut b = IndexBuilder::new();
    let c = b.add_point("client", "hand-client.pcap", 0).unwrap();
    let w = b.add_point("wan", "hand-wan.pcap", 0).unwrap();
    for (p, frames) in [(c, &client), (w, &wan)] {
        for (ts, data) in frames.iter() {
            b.add_frame_bytes(p, *ts, data.len() as u32, data).unwrap();
        }
    }
    b.set_pair(
        c,
        w,
        PairSpec {
            clock: Some(ClockModel::new(2_718_281_828, 25_000, reference)),
            ..Default::default()
        },
    )
    .unwrap();
    b.add_match(c, 1, w, 1, 2_723_311_828, 2, 255).unwrap();
    b.add_match(c, 2, w, 2, 2_723_281_828 - 10_000, 6, 64)
        .unwrap();
    let ws = wireshark();
    let index = add_index(&ws, "hand.pktmatch", &b.build());
    let pref = format!("pktmatch.index:{index}");
    let names = [
        "pktmatch.peer_frame",
        "pktmatch.delta",
        "pktmatch.delta_corrected",
        "pktmatch.clock_offset",
        "pktmatch.method",
        "pktmatch.confidence",
    ];
    let client_file = ws.add_file(&cpath);
    let table = ws.fields(&client_file, &["-o", &pref], &names);
    assert_eq!(
        table[&1],
        [
            "1",
            "2.723311828",
            "0.000030000",
            "2.723281828",
            "nat",
            "100"
        ]
    );
    // 1 ms later the difference has grown by 25 ns (25 ppm of 1 ms).
    assert_eq!(
        table[&2],
        [
            "2",
            "2.723271828",
            "-0.000010025",
            "2.723281853",
            "payload",
            "25"
        ]
    );
    let wan_file = ws.add_file(&wpath);
    let table = ws.fields(&wan_file, &["-o", &pref], &names);
    // Seen from the wan the model is evaluated at the wan's time stamp,
    // 30 µs (the transit) later on the drifting clock: with r = 25e-6,
    // (t_w − reference − offset) × r / (1 + r) = 200 005 030 000 × r / (1 + r)
    // = 5 000 000.75 ns, so the difference is −2 723 281 828.75, rounded
    // −2 723 281 829, and the corrected delta −29 999 ns (the transit's own
    // drift, docs/index-format.md).
    assert_eq!(
        table[&1],
        [
            "1",
            "-2.723311828",
            "-0.000029999",
            "-2.723281829",
            "nat",
            "100"
        ]
    );
    let dissected = ws.tshark_ok(&["-r", &client_file, "-o", &pref, "-V", "-c", "1"]);
    assert!(
        dissected.contains("Peer: wan frame 1, delta +30.0 µs (corrected), nat"),
        "{dissected}"
    );
}

// ---- indexes that do not fit -------------------------------------------

/// Expert messages and peer frames per frame for `file` with `index`.
fn experts_and_peers(
    ws: &Wireshark,
    file: &str,
    index: &str,
    extra: &[&str],
) -> BTreeMap<u32, Vec<String>> {
    let pref = format!("pktmatch.index:{index}");
    let mut args = vec!["-o", pref.as_str()];
    args.extend(extra);
    ws.fields(
        file,
        &args,
        &[
            "_ws.expert.message",
            "pktmatch.peer_frame",
            "pktmatch.point",
        ],
    )
}

#[test]
fn an_edited_capture_makes_the_index_stale_from_the_first_changed_frame() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let dir = scratch("stale");
    let edited = dir.join("client-edited.pcapng");
    let status = std::process::Command::new("editcap")
        .arg(capture_path("client"))
        .arg(&edited)
        .arg("10")
        .status()
        .unwrap();
    assert!(status.success());
    let file = ws.add_file(&edited);
    for passes in [&[][..], &["-2"][..]] {
        let table = experts_and_peers(&ws, &file, &index, passes);
        let ix = s.index();
        for frame in 5..10 {
            let want: Vec<String> = ix.peers(0, frame).map(|p| p.frame.to_string()).collect();
            assert_eq!(table[&frame][1], want.join(","), "frame {frame} {passes:?}");
        }
        assert!(
            table[&10][0].contains("Index stale: this capture is point client of "),
            "{:?}",
            table[&10]
        );
        assert!(table[&10][0].contains("frame 10 is not the frame that was indexed"));
        assert!(
            table.range(10..).all(|(_, v)| v[1].is_empty()),
            "no peers from frame 10 on"
        );
        assert_eq!(
            table
                .values()
                .filter(|v| v[0].contains("Index stale"))
                .count(),
            1,
            "reported once"
        );
    }
}

#[test]
fn a_capture_of_another_session_is_reported_as_foreign() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    // A capture from elsewhere, and the client capture time-shifted by 1 s.
    let dir = scratch("foreign");
    let shifted = dir.join("client-shifted.pcapng");
    let status = std::process::Command::new("editcap")
        .args(["-t", "1"])
        .arg(capture_path("client"))
        .arg(&shifted)
        .status()
        .unwrap();
    assert!(status.success());
    for capture in [repo_root().join("tests/data/real-http.pcap"), shifted] {
        let file = ws.add_file(&capture);
        for passes in [&[][..], &["-2"][..]] {
            let table = experts_and_peers(&ws, &file, &index, passes);
            let ours = |v: &Vec<String>| v[0].contains("Index not for this file");
            assert!(ours(&table[&1]), "{:?}", table[&1]);
            assert!(table[&1][0].contains("this capture is none of the capture points of "));
            assert!(table[&1][0].ends_with("(client, wan, dc, lbserver)"));
            assert!(table.values().all(|v| v[1].is_empty() && v[2].is_empty()));
            assert_eq!(
                table.values().filter(|v| ours(v)).count(),
                1,
                "reported once"
            );
        }
    }
}

#[test]
fn corrupt_truncated_or_missing_indexes_give_expert_info_and_exit_0() {
    let s = session();
    let ws = wireshark();
    let file = ws.add_file(&capture_path("client"));
    let ix = s.index();
    let _ = ix;
    let mut flipped = s.bytes.clone();
    // A byte in the middle of the file: inside FRAME_CHECKS or PEERS, which
    // Index::load checks (fingerprint, frame numbers, order).
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x5A;
    let mut damaged_checks = s.bytes.clone();
    let at = find_check_bytes(&s.bytes);
    damaged_checks[at] ^= 1;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.pktmatch",
            s.bytes[..s.bytes.len() / 3].to_vec(),
            "truncated",
        ),
        ("checks.pktmatch", damaged_checks, "fingerprint"),
        ("flipped.pktmatch", flipped, "at byte"),
        ("empty.pktmatch", Vec::new(), "empty file"),
        (
            "capture.pktmatch",
            std::fs::read(capture_path("wan")).unwrap(),
            "not a pktmatch index",
        ),
    ];
    for (name, bytes, words) in cases {
        let index = add_index(&ws, name, &bytes);
        if name == "flipped.pktmatch" && Index::load(&bytes).is_ok() {
            continue; // the flip hit padding or a time stamp: not an error
        }
        for passes in [&[][..], &["-2"][..]] {
            let table = experts_and_peers(&ws, &file, &index, passes);
            let message = &table[&1][0];
            assert!(
                message.contains("pktmatch index unusable: "),
                "{name}: {message}"
            );
            assert!(message.contains(words), "{name}: {message}");
            assert!(table.values().all(|v| v[1].is_empty()), "{name}: no peers");
            let ours = table
                .values()
                .filter(|v| v[0].contains("pktmatch index unusable"))
                .count();
            assert_eq!(ours, 1, "{name}: once");
        }
    }
    let table = experts_and_peers(&ws, &file, "/nonexistent/session.pktmatch", &[]);
    assert!(
        table[&1][0].contains("pktmatch index unusable: cannot read /nonexistent/session.pktmatch"),
        "{:?}",
        table[&1]
    );
}

/// The offset of the first frame check (FRAME_CHECKS, section kind 3) in
/// an index, from its section table.
fn find_check_bytes(bytes: &[u8]) -> usize {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (count, table) = (u32_at(32), u32_at(36));
    (0..count)
        .map(|i| table + 24 * i)
        .find(|&e| u32_at(e) == 3)
        .map(|e| u64_at(e + 8))
        .expect("a FRAME_CHECKS section")
}

// ---- the profile -------------------------------------------------------

#[test]
fn the_pktmatch_profile_shows_the_match_columns() {
    let s = session();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let profile = ws.config_dir().join("profiles/pktmatch");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::copy(
        repo_root().join("plugin/epan/profile/pktmatch/preferences"),
        profile.join("preferences"),
    )
    .unwrap();
    ws.write_preferences(""); // hands the new directories to nobody when root
    let file = ws.add_file(&capture_path("client"));
    let pref = format!("pktmatch.index:{index}");
    // Columns are printed by tshark's summary lines with the profile's
    // gui.column.format; check the header names and values of frame 7.
    let lines = ws.tshark_ok(&[
        "-C", "pktmatch", "-r", &file, "-o", &pref, "-T", "tabs", "-c", "7",
    ]);
    let rows: Vec<Vec<&str>> = lines
        .lines()
        .map(|l| l.split('\t').map(str::trim).collect())
        .collect();
    // Frame 7, the first SYN, goes from the client to wan: its point, no
    // previous hop, the next one with the transit in µs.
    let row7 = &rows[6];
    let ix = s.index();
    let wan = ix.peers(0, 7).find(|p| p.point == 1).unwrap();
    let model = ix.clock_at(0, 7, 1).unwrap();
    let transit = index::corrected_delta(wan.delta_raw_ns, s.times[0][6], &model);
    let next = format!("wan {:.1} µs", transit as f64 / 1000.0);
    assert_eq!(row7[0], "7", "{row7:?}");
    assert!(row7.contains(&"client"), "{row7:?}");
    assert!(row7.contains(&next.as_str()), "{row7:?} lacks {next:?}");
    // The profile's column widths (its `recent`) name exactly its columns.
    let prefs =
        std::fs::read_to_string(repo_root().join("plugin/epan/profile/pktmatch/preferences"))
            .unwrap();
    let recent =
        std::fs::read_to_string(repo_root().join("plugin/epan/profile/pktmatch/recent")).unwrap();
    let formats: Vec<String> = prefs
        .lines()
        .filter(|l| l.starts_with('\t'))
        .filter_map(|l| l.split(", ").nth(1))
        .map(|f| {
            let f = f.trim_end_matches(',').trim_matches('"');
            // Custom columns are named without occurrence and alignment.
            f.strip_suffix(":0:R").unwrap_or(f).to_owned()
        })
        .collect();
    let widths: Vec<String> = recent
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| {
            l.trim()
                .split(", ")
                .next()
                .unwrap()
                .trim_matches('"')
                .to_owned()
        })
        .collect();
    assert_eq!(widths, formats);
    assert_eq!(formats.len(), 10);
}

// ---- the real indexer --------------------------------------------------

/// The index `pktmatch index` writes for the lab session (once per process).
fn indexed_by_pktmatch() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(|| {
        let output = scratch("indexer").join("session.pktmatch");
        let args = pktmatch::index::Args {
            output: output.clone(),
            points: Vec::new(),
            files: POINTS.iter().map(|p| capture_path(p)).collect(),
            window: 2.0,
            keys: None,
            engine: pktmatch::index::DEFAULT_ENGINE.into(),
            memory_limit: None,
            partitions: None,
            quiet: true,
            force: true,
            path: None,
        };
        pktmatch::index::run(&args).expect("pktmatch index");
        Session {
            bytes: std::fs::read(&output).unwrap(),
            times: session().times.clone(),
        }
    })
}

#[test]
fn an_index_from_pktmatch_index_is_shown_as_it_says() {
    let s = indexed_by_pktmatch();
    let ix = s.index();
    let ws = wireshark();
    let index = add_index(&ws, "session.pktmatch", &s.bytes);
    let pref = format!("pktmatch.index:{index}");
    let mut translated = 0;
    for (p, label) in POINTS.iter().enumerate() {
        let p = p as u16;
        let file = ws.add_file(&capture_path(label));
        let table = shown(&ws, &file, &["-o", &pref]);
        assert_eq!(
            table.len(),
            s.times[p as usize].len(),
            "{label}: every frame"
        );
        for (&frame, values) in &table {
            let mut want = expected_fields(s, p, frame);
            // Which connection a frame belongs to is the indexer's business:
            // a translation shown must be one it recorded for a peer's pair.
            let recorded: BTreeSet<String> = ix
                .peers(p, frame)
                .flat_map(|peer| {
                    ix.translations(p, peer.point)
                        .map(|t| t.summary().to_owned())
                        .collect::<Vec<_>>()
                })
                .collect();
            let summaries = &values[11];
            for summary in summaries.split(',').filter(|t| !t.is_empty()) {
                assert!(
                    recorded.contains(summary),
                    "{label} frame {frame}: {summary}"
                );
                translated += 1;
            }
            want[11] = summaries.clone();
            assert_eq!(values, &want, "{label} frame {frame}");
        }
    }
    assert!(translated > 0, "translations shown");
    // The issue's example: the frames whose peers include a given frame.
    let file = ws.add_file(&capture_path("client"));
    let target = ix
        .peers(0, 7)
        .find(|p| p.point == 1)
        .expect("client 7 at the wan")
        .frame;
    let want: BTreeSet<u32> = (1..=ix.packets(0))
        .filter(|&f| ix.peers(0, f).any(|p| p.frame == target))
        .collect();
    let filter = format!("pktmatch.peer_frame == {target}");
    assert_eq!(filtered(&ws, &file, &pref, &filter, false), want);
    assert_eq!(filtered(&ws, &file, &pref, &filter, true), want);
    // Body packets across the full proxy (method proxy-body): at dc, the
    // frames a filter on the method selects are those the index pairs so.
    let dc = POINTS.iter().position(|p| *p == "dc").unwrap() as u16;
    let body: BTreeSet<u32> = (1..=ix.packets(dc))
        .filter(|&f| {
            ix.peers(dc, f)
                .any(|p| ix.method_name(p.method) == Some("proxy-body"))
        })
        .collect();
    assert!(!body.is_empty(), "the session has body pairs at dc");
    let file = ws.add_file(&capture_path("dc"));
    let filter = "pktmatch.method == \"proxy-body\"";
    assert_eq!(filtered(&ws, &file, &pref, filter, false), body);
}
