//! A capture from a span (mirror) port that sees every frame twice: made
//! from the lab's client capture (examples/session-small) by the real
//! `editcap -t` (a copy 50 µs later) and `mergecap` (both in time order).
//! Each copy must be matched to the same wan frame as its original, as a
//! `span-duplicate`, and nothing may be reported lost or matched otherwise
//! than without the copies.

mod common;

use common::{columns, parse_csv, pktmatch_ok, tool, LABELS};
use std::collections::BTreeMap;

const SHIFT_NS: i64 = 50_000;

#[test]
fn every_span_copy_takes_its_originals_peer() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let client = common::capture_path("client");
    let shifted = dir.path().join("shifted.pcapng");
    let doubled = dir.path().join("client-span.pcapng");
    tool(
        "editcap",
        &[
            "-t",
            "0.00005",
            client.to_str().unwrap(),
            shifted.to_str().unwrap(),
        ],
        home,
    );
    tool(
        "mergecap",
        &[
            "-w",
            doubled.to_str().unwrap(),
            client.to_str().unwrap(),
            shifted.to_str().unwrap(),
        ],
        home,
    );

    let index = |client_file: &str, name: &str| -> (serde_json::Value, Vec<Vec<String>>) {
        let session = dir.path().join(name);
        let s = session.to_str().unwrap();
        let points: Vec<String> = LABELS
            .iter()
            .map(|l| {
                let file = if *l == "client" {
                    client_file.to_string()
                } else {
                    common::capture_path(l).display().to_string()
                };
                format!("{l}={file}")
            })
            .collect();
        let mut args = vec!["index", "-q", "-o", s];
        for p in &points {
            args.extend(["--point", p.as_str()]);
        }
        pktmatch_ok(&args);
        let info = serde_json::from_str(&pktmatch_ok(&["info", s, "--json"])).unwrap();
        (info, parse_csv(&pktmatch_ok(&["export", s, "--csv", "-"])))
    };
    let (plain_info, plain) = index(client.to_str().unwrap(), "plain.pktmatch");
    let (span_info, span) = index(doubled.to_str().unwrap(), "span.pktmatch");

    let pair = |info: &serde_json::Value, a: &str, b: &str| -> serde_json::Value {
        info["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["a"] == a && q["b"] == b)
            .cloned()
            .unwrap_or_else(|| panic!("pair {a}-{b} in {info}"))
    };
    let (p, s) = (
        pair(&plain_info, "client", "wan"),
        pair(&span_info, "client", "wan"),
    );
    assert_eq!(s["lost_a_to_b"], p["lost_a_to_b"], "{s}");
    assert_eq!(s["lost_b_to_a"], p["lost_b_to_a"], "{s}");
    // The copies are no transits: every pair's clock is the one without
    // them (a duplicate's delta is the mirror's delay short).
    for (a, b) in [("client", "wan"), ("client", "dc"), ("client", "lbserver")] {
        let (p, s) = (pair(&plain_info, a, b), pair(&span_info, a, b));
        for field in ["offset_ns", "drift_ppb", "offset_bound_ns"] {
            assert_eq!(s[field], p[field], "{a}-{b} {field}: {s} vs {p}");
        }
    }

    // client–wan rows by wan frame: (client frame, raw delta, method).
    let by_wan = |rows: &[Vec<String>]| -> BTreeMap<u32, Vec<(u32, i64, String)>> {
        let h = columns(&rows[0]);
        let mut m: BTreeMap<u32, Vec<(u32, i64, String)>> = BTreeMap::new();
        for r in &rows[1..] {
            if r[h["point_a"]] == "client" && r[h["point_b"]] == "wan" {
                m.entry(r[h["frame_b"]].parse().unwrap())
                    .or_default()
                    .push((
                        r[h["frame_a"]].parse().unwrap(),
                        r[h["delta_raw_ns"]].parse().unwrap(),
                        r[h["method"]].clone(),
                    ));
            }
        }
        m
    };
    let (plain, span) = (by_wan(&plain), by_wan(&span));
    assert!(!plain.is_empty());
    // The same wan frames are matched; each now by the original and by its
    // copy, 50 µs later (the raw delta 50 µs smaller), as a duplicate.
    assert_eq!(
        plain.keys().collect::<Vec<_>>(),
        span.keys().collect::<Vec<_>>()
    );
    let mut duplicates = 0;
    for (wan_frame, rows) in &span {
        let before = &plain[wan_frame];
        assert_eq!(
            rows.len(),
            2 * before.len(),
            "wan frame {wan_frame}: {rows:?}"
        );
        let mut rows = rows.clone();
        rows.sort_by_key(|r| r.0);
        for pair in rows.chunks(2) {
            let (orig, copy) = (&pair[0], &pair[1]);
            assert_eq!(orig.1 - copy.1, SHIFT_NS, "wan frame {wan_frame}: {rows:?}");
            assert_ne!(orig.2, "span-duplicate", "{rows:?}");
            assert_eq!(copy.2, "span-duplicate", "{rows:?}");
            assert!(before.iter().any(|b| b.1 == orig.1 && b.2 == orig.2));
            duplicates += 1;
        }
    }
    assert!(duplicates >= 300, "{duplicates}");
}
