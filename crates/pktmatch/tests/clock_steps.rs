//! A pair whose clock stepped: `pktmatch info` (text and JSON) shows the
//! step and each segment, `pktmatch export` corrects each frame with its
//! own segment.

mod common;

use common::pktmatch_ok;
use index::{ClockModel, ClockSegment, IndexBuilder, PairSpec};

const T0: i64 = 1_800_000_000_000_000_000;
const MS: i64 = 1_000_000;
/// wan is 2 s ahead of the client; at packet 10 (true T0 + 1 s) its clock
/// is set back 1.5 s.  Transit 30 µs.
const OFFSET: i64 = 2_000 * MS;
const STEP: i64 = -1_500 * MS;
const TRANSIT: i64 = 30_000;

fn session(dir: &std::path::Path) -> std::path::PathBuf {
    let mut b = IndexBuilder::new();
    b.created_ns(T0);
    let client = b.add_point("client", "/c/client.pcapng", 1).unwrap();
    let wan = b.add_point("wan", "/c/wan.pcapng", 1).unwrap();
    let wan_clock = |k: i64, t: i64| t + OFFSET + if k >= 10 { STEP } else { 0 };
    for k in 0..20i64 {
        let t = T0 + k * 100 * MS;
        b.add_frame_bytes(client, t, 60, &[k as u8; 60]).unwrap();
        b.add_frame_bytes(wan, wan_clock(k, t + TRANSIT), 60, &[k as u8; 60])
            .unwrap();
    }
    for f in 1..=20u32 {
        let d = b.frame_time(wan, f).unwrap() - b.frame_time(client, f).unwrap();
        b.add_match(client, f, wan, f, d, 2, 255).unwrap();
    }
    b.set_pair(
        0,
        1,
        PairSpec {
            matched: 20,
            ..PairSpec::default()
        },
    )
    .unwrap();
    let from = T0 + 1_000 * MS;
    b.set_clock_segments(
        0,
        1,
        &[
            ClockSegment {
                a_from_frame: 1,
                b_from_frame: 1,
                from_ns: T0,
                model: ClockModel::new(OFFSET, 0, T0),
                offset_error_ns: 1_000,
                before_ns: 0,
            },
            ClockSegment {
                a_from_frame: 11,
                b_from_frame: 11,
                from_ns: from,
                model: ClockModel::new(OFFSET + STEP, 0, from),
                offset_error_ns: 2_000,
                before_ns: from - 100 * MS,
            },
        ],
    )
    .unwrap();
    let path = dir.join("s.pktmatch");
    std::fs::write(&path, b.build()).unwrap();
    path
}

#[test]
fn info_and_export_show_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = session(dir.path());
    let s = path.to_str().unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&pktmatch_ok(&["info", s, "--json", "--no-files"])).unwrap();
    assert_eq!(json["format_version"], "2.0");
    let q = &json["pairs"][0];
    // The existing fields: the first segment.
    assert_eq!(q["offset_ns"].as_i64(), Some(OFFSET));
    assert_eq!(q["reference_ns"].as_i64(), Some(T0));
    assert_eq!(q["offset_bound_ns"].as_u64(), Some(1_000));
    let segs = q["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[1]["a_from_frame"], 11);
    assert_eq!(segs[1]["b_from_frame"], 11);
    assert_eq!(segs[1]["from_ns"].as_i64(), Some(T0 + 1_000 * MS));
    assert_eq!(segs[1]["offset_at_start_ns"].as_i64(), Some(OFFSET + STEP));
    assert_eq!(segs[1]["offset_bound_ns"], 2_000);
    let steps = q["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["size_ns"].as_i64(), Some(STEP));
    assert_eq!(steps[0]["at_ns"].as_i64(), Some(T0 + 1_000 * MS));
    assert_eq!(steps[0]["before_ns"].as_i64(), Some(T0 + 900 * MS));
    assert_eq!(
        (steps[0]["a_frame"].as_u64(), steps[0]["b_frame"].as_u64()),
        (Some(11), Some(11))
    );

    let text = pktmatch_ok(&["info", s, "--no-files"]);
    for want in [
        "wan = client +2.000000 s, drift +0.000 ppm, error bound ±1.0 µs",
        "clock step    -1.500000 s between 2027-01-15 08:00:00.900000 and 08:00:01.000000 on \
         client's clock (from client frame 11, wan frame 11)",
        "from there wan = client +500.000 ms, drift +0.000 ppm, error bound ±2.0 µs",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // Every row corrected with its own segment: the transit.
    let csv = pktmatch_ok(&["export", s, "--csv", "-"]);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 20);
    for r in rows {
        assert_eq!(
            r.split(',').nth(5),
            Some(TRANSIT.to_string().as_str()),
            "{r}"
        );
    }

    // A pair without a step: one segment, no steps.
    let plain = dir.path().join("plain.pktmatch");
    let mut b = IndexBuilder::new();
    let p0 = b.add_point("a", "/c/a.pcapng", 1).unwrap();
    let p1 = b.add_point("b", "/c/b.pcapng", 1).unwrap();
    b.add_frame_bytes(p0, T0, 60, &[1; 60]).unwrap();
    b.add_frame_bytes(p1, T0 + 5, 60, &[1; 60]).unwrap();
    b.add_match(p0, 1, p1, 1, 5, 2, 255).unwrap();
    b.set_pair(
        0,
        1,
        PairSpec {
            clock: Some(ClockModel::new(3, 0, T0)),
            offset_error_ns: 7,
            matched: 1,
            ..PairSpec::default()
        },
    )
    .unwrap();
    std::fs::write(&plain, b.build()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&pktmatch_ok(&[
        "info",
        plain.to_str().unwrap(),
        "--json",
        "--no-files",
    ]))
    .unwrap();
    let q = &json["pairs"][0];
    assert_eq!(q["segments"].as_array().unwrap().len(), 1);
    assert_eq!(q["segments"][0]["offset_ns"], 3);
    assert_eq!(q["segments"][0]["offset_bound_ns"], 7);
    assert!(q["steps"].as_array().unwrap().is_empty());
}
