//! `pktmatch info` and `pktmatch export` on the truth-built index of the
//! real lab captures (tests/common: truth_fixture): every value shown is
//! one the fixture put in.

mod common;

use std::collections::BTreeMap;

use common::{pktmatch_err, pktmatch_ok, truth_fixture, LABELS};

#[test]
fn info_json_has_what_the_index_holds() {
    let t = truth_fixture();
    let s = t.session.to_str().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&pktmatch_ok(&["info", s, "--json"])).unwrap();

    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    for (p, label) in points.iter().zip(LABELS) {
        assert_eq!(p["label"], label);
        assert_eq!(p["file_state"], "matches", "{p}");
        assert_eq!(
            p["packets"].as_u64().unwrap() as usize,
            t.ts[p["index"].as_u64().unwrap() as usize].len()
        );
    }
    assert_eq!(points[0]["lost_entries"], 2);

    let pairs = json["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6, "every truth clock pair has a record");
    for q in pairs {
        let a = LABELS.iter().position(|l| *l == q["a"]).unwrap() as u16;
        let b = LABELS.iter().position(|l| *l == q["b"]).unwrap() as u16;
        assert!(a < b);
        let (offset, ppb, reference, bound) = t.clocks[&(a, b)];
        assert_eq!(q["offset_ns"].as_i64(), Some(offset));
        assert_eq!(q["drift_ppb"].as_i64(), Some(ppb));
        assert!((q["drift_ppm"].as_f64().unwrap() - ppb as f64 / 1000.0).abs() < 1e-9);
        assert_eq!(q["reference_ns"].as_i64(), Some(reference));
        assert_eq!(q["offset_bound_ns"].as_u64(), Some(bound));
        let ours: Vec<_> = t.matches.iter().filter(|m| (m.a, m.b) == (a, b)).collect();
        assert_eq!(q["matched"].as_u64(), Some(ours.len() as u64));
        assert_eq!(q["links"].as_u64(), Some(ours.len() as u64));
        let mut by_method: BTreeMap<String, u64> = BTreeMap::new();
        for m in &ours {
            let name = match m.method {
                2 => "nat",
                4 => "tso",
                5 => "app-id",
                7 => "proxy-http",
                _ => unreachable!(),
            };
            *by_method.entry(name.into()).or_default() += 1;
        }
        let got: BTreeMap<String, u64> = serde_json::from_value(q["methods"].clone()).unwrap();
        assert_eq!(got, by_method, "{}-{}", q["a"], q["b"]);
        // The fixture's two client entries: one network loss, one
        // outside wan's capture; each kind has its own keys.
        let here = u64::from((a, b) == (0, 1));
        assert_eq!(q["lost_a_to_b"].as_u64(), Some(here));
        assert_eq!(q["outside_capture_a_to_b"].as_u64(), Some(here));
        for k in [
            "lost_b_to_a",
            "dropped_a_to_b",
            "dropped_b_to_a",
            "outside_capture_b_to_a",
            "uncertain_a_to_b",
            "uncertain_b_to_a",
        ] {
            assert_eq!(q[k].as_u64(), Some(0), "{k}");
        }
        assert_eq!(q["neighbours"].as_bool(), Some(b == a + 1));
    }
    // Every point has its capture drop count beside its other keys.
    for p in points {
        assert_eq!(p["capture_drops"].as_u64(), Some(0), "{p}");
        assert!(p["encapsulations"].as_array().unwrap().is_empty());
    }
    let cw = &pairs[0];
    assert_eq!(
        (cw["a"].as_str(), cw["b"].as_str()),
        (Some("client"), Some("wan"))
    );
    let tr = &cw["translations"][0];
    assert_eq!(tr["kind"], "SNAT");
    assert_eq!(tr["a_src"], "192.0.2.10:35777");
    assert_eq!(tr["b_src"], "198.51.100.1:63545");
    assert_eq!(tr["seq_client_to_server"], 0x1A2B_3C4D);
    let dl = pairs.iter().find(|q| q["a"] == "dc").unwrap();
    assert_eq!(dl["translations"][0]["kind"], "proxy");
    assert_eq!(json["methods"]["2"], "nat");
}

#[test]
fn info_text_names_pairs_models_and_mappings() {
    let t = truth_fixture();
    let text = pktmatch_ok(&["info", t.session.to_str().unwrap()]);
    for want in [
        "client → wan",
        "wan = client +2.718281 s, drift +25.000 ppm, error bound ±1.0 µs",
        "dc = client -97.314159 s, drift -40.000 ppm",
        "lost          on the network client → wan: 1, wan → client: 0",
        "outside       wan's capture: 1, client's capture: 0 (not running then)",
        "SNAT 192.0.2.10:35777 → 203.0.113.80:80 at client is 198.51.100.1:63545 → 203.0.113.80:80 at wan; seq +0x1A2B3C4D client→server, -0x10 server→client",
        "proxy: hand-written fixture text <b>&amp;</b>",
        "matches the index (size and frames)",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn info_reports_a_changed_or_missing_capture() {
    let t = truth_fixture();
    let s = t.session.to_str().unwrap();
    let client = common::capture_path("client");
    let json: serde_json::Value = serde_json::from_str(&pktmatch_ok(&[
        "info",
        s,
        "--json",
        "--point",
        &format!("wan={}", client.display()),
        "--point",
        "dc=/nonexistent/dc.pcapng",
    ]))
    .unwrap();
    assert_eq!(json["points"][1]["file_state"], "changed");
    assert!(json["points"][1]["file_note"]
        .as_str()
        .unwrap()
        .contains("DIFFERS from the indexed capture from frame 1 on"));
    assert_eq!(json["points"][2]["file_state"], "missing");
    let quick: serde_json::Value =
        serde_json::from_str(&pktmatch_ok(&["info", s, "--json", "--no-files"])).unwrap();
    assert!(quick["points"][0]["file_state"].is_null());
    let e = pktmatch_err(&["info", s, "--point", "nosuch=x.pcap"]);
    assert!(
        e.contains("has no point labelled \"nosuch\" (its points: client, wan, dc, lbserver)"),
        "{e}"
    );
}

/// The lab's scorer reads `info --json` as its CLOCKS.json: with the true
/// models in the index it must find (near) zero clock error.
#[test]
fn score_py_reads_info_json() {
    let t = truth_fixture();
    let s = t.session.to_str().unwrap();
    let dir = t.dir.path();
    let clocks = dir.join("clocks.json");
    std::fs::write(&clocks, pktmatch_ok(&["info", s, "--json", "--no-files"])).unwrap();
    let matches = dir.join("matches.csv");
    pktmatch_ok(&["export", s, "--csv", matches.to_str().unwrap()]);
    let score = common::example_dir().join("../../tests/lab/score.py");
    let out = std::process::Command::new("python3")
        .arg(&score)
        .arg(common::example_dir())
        .arg(&matches)
        .arg(&clocks)
        .arg("--json")
        .arg(dir.join("score.json"))
        .output()
        .expect("python3 (tools/setup-debian.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("score.json")).unwrap()).unwrap();
    let clocks = report["clocks"].as_array().unwrap();
    assert_eq!(clocks.len(), 6);
    for c in clocks {
        // ppb rounding of the truth's drifts: well under a microsecond.
        assert!(c["max_offset_error_ns"].as_i64().unwrap() < 100, "{c}");
        assert!(c["drift_error_ppm"].as_f64().unwrap().abs() < 0.001, "{c}");
    }
}

#[test]
fn export_is_the_csv_contract() {
    let t = truth_fixture();
    let s = t.session.to_str().unwrap();
    let out = t.dir.path().join("m.csv");
    pktmatch_ok(&["export", s, "--csv", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text,
        pktmatch_ok(&["export", s, "--csv", "-"]),
        "file and stdout agree"
    );
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), t.matches.len());
    let by_key: BTreeMap<(String, u32, String, u32), &common::Match> = t
        .matches
        .iter()
        .map(|m| {
            (
                (
                    LABELS[m.a as usize].to_owned(),
                    m.fa,
                    LABELS[m.b as usize].to_owned(),
                    m.fb,
                ),
                m,
            )
        })
        .collect();
    for r in &rows {
        let key = (
            r[0].to_owned(),
            r[1].parse().unwrap(),
            r[2].to_owned(),
            r[3].parse().unwrap(),
        );
        let m = by_key[&key];
        assert_eq!(r[4].parse::<i64>().unwrap(), m.raw_ns);
        let corrected: i64 = r[5].parse().unwrap();
        // The truth's own clock model (drift rounded to ppb): the corrected
        // delta is the true transit within rounding.
        assert!(
            (corrected - m.true_ns).abs() <= 50,
            "{r:?} vs true {}",
            m.true_ns
        );
        assert_eq!(
            r[7],
            if m.confidence == 255 {
                "1.000"
            } else {
                "0.784"
            }
        );
    }
    // Not over an input, not over an existing file without --force.
    let input = common::capture_path("wan");
    let e = pktmatch_err(&["export", s, "--csv", input.to_str().unwrap()]);
    assert!(
        e.contains("refusing to write over a capture of the session"),
        "{e}"
    );
    let e = pktmatch_err(&["export", s, "--csv", out.to_str().unwrap()]);
    assert!(e.contains("exists (use --force to overwrite)"), "{e}");
    pktmatch_ok(&["export", s, "--csv", out.to_str().unwrap(), "--force"]);
    let e = pktmatch_err(&["export", s, "--csv", s, "--force"]);
    assert!(e.contains("refusing to write over the index itself"), "{e}");
}

#[test]
fn bad_indexes_are_refused_clearly() {
    let t = truth_fixture();
    let dir = t.dir.path();
    let bytes = std::fs::read(&t.session).unwrap();
    let cut = dir.join("cut.pktmatch");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for sub in ["info", "export", "report", "annotate"] {
        let mut args = vec![sub, cut.to_str().unwrap()];
        match sub {
            "export" | "report" => args.extend(["--csv", "-"]),
            "annotate" => args.push(dir.to_str().unwrap()),
            _ => {}
        }
        let e = pktmatch_err(&args);
        assert!(
            e.starts_with("pktmatch: ") && e.contains("cut.pktmatch") && e.contains("truncated"),
            "{sub}: {e}"
        );
        assert!(!e.contains("panicked"), "{e}");
    }
    let e = pktmatch_err(&["info", common::capture_path("dc").to_str().unwrap()]);
    assert!(
        e.contains("not a pktmatch index: the file starts with 0A0D0D0A"),
        "{e}"
    );
}
