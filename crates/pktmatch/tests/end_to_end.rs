//! The reader subcommands on an index written by the real `pktmatch index`
//! from the lab captures of examples/session-small: they agree with each
//! other and with the index, whatever the matcher found.

mod common;

use common::{columns, parse_csv, pktmatch_ok, tool, LABELS};

#[test]
fn index_then_info_export_report_annotate() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session-small.pktmatch");
    let s = session.to_str().unwrap();
    let inputs: Vec<String> = LABELS
        .iter()
        .map(|l| common::capture_path(l).display().to_string())
        .collect();
    let mut args = vec!["index", "-q", "-o", s];
    args.extend(inputs.iter().map(String::as_str));
    pktmatch_ok(&args);

    // info: four points whose files match; pairs by label with clock models.
    let info: serde_json::Value =
        serde_json::from_str(&pktmatch_ok(&["info", s, "--json"])).unwrap();
    let points = info["points"].as_array().unwrap();
    let labels: Vec<&str> = points
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, LABELS);
    assert!(
        points.iter().all(|p| p["file_state"] == "matches"),
        "{points:?}"
    );
    let pairs = info["pairs"].as_array().unwrap();
    let cw = pairs
        .iter()
        .find(|q| q["a"] == "client" && q["b"] == "wan")
        .expect("client-wan pair");
    assert_eq!(cw["has_clock"], true);
    // The lab put wan 2.718281828 s ahead of the client.
    let off = cw["offset_ns"].as_i64().unwrap();
    assert!((off - 2_718_281_828).abs() < 1_000_000, "{off}");
    let links: u64 = pairs.iter().map(|q| q["links"].as_u64().unwrap()).sum();

    // export: one row per link.
    let csv = pktmatch_ok(&["export", s, "--csv", "-"]);
    assert_eq!(csv.lines().count() as u64, links + 1);

    // report: every client frame with a match is in exactly one row.
    let report = parse_csv(&pktmatch_ok(&["report", s, "--csv", "-"]));
    let h = columns(&report[0]);
    let what: Vec<&str> = report[1..].iter().map(|r| r[h["what"]].as_str()).collect();
    assert!(what.contains(&"[SYN]") && what.contains(&"DNS query A shop.example.test"));
    let bytes = std::fs::read(&session).unwrap();
    let ix = index::Index::load(&bytes).unwrap();
    let matched_client: Vec<u32> = (1..=ix.packets(0))
        .filter(|f| ix.peers(0, *f).len() > 0)
        .collect();
    let mut shown: Vec<u32> = report[1..]
        .iter()
        .flat_map(|r| {
            r[h["client_frame"]]
                .split(';')
                .filter_map(|f| f.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    shown.sort_unstable();
    assert_eq!(shown, matched_client);
    let html = dir.path().join("report.html");
    pktmatch_ok(&["report", s, "--html", html.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));

    // annotate: tshark sees a comment on exactly the frames with peers or
    // lost entries.
    let out = dir.path().join("annotated");
    pktmatch_ok(&["annotate", s, out.to_str().unwrap()]);
    for (p, label) in LABELS.iter().enumerate() {
        let text = tool(
            "tshark",
            &[
                "-r",
                out.join(format!("{label}.pcapng")).to_str().unwrap(),
                "-T",
                "fields",
                "-e",
                "frame.comment",
            ],
            dir.path(),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u32, ix.packets(p as u16), "{label}");
        for (i, l) in lines.iter().enumerate() {
            let f = i as u32 + 1;
            let has = ix.peers(p as u16, f).len() + ix.lost(p as u16, f).len() > 0;
            assert_eq!(!l.is_empty(), has, "{label} frame {f}: {l:?}");
            if has {
                assert!(l.starts_with("pktmatch: "), "{l}");
            }
        }
    }
}
