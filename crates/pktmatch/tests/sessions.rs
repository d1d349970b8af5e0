//! Sessions as users bring them: points in any order (the path order is
//! inferred from the data, or stated with --path and checked), and
//! nonsense refused with a one-line error naming the files — the lab's
//! example session (examples/session-small) and the synthetic one.

mod common;

use common::synthetic::synthetic_session;
use common::{capture_path, pktmatch_err, pktmatch_ok, LABELS};

fn path(label: &str) -> String {
    capture_path(label).display().to_string()
}

fn info(session: &str) -> serde_json::Value {
    serde_json::from_str(&pktmatch_ok(&["info", session, "--json", "--no-files"])).unwrap()
}

#[test]
fn any_order_gives_the_path_order_and_the_same_matches() {
    let dir = tempfile::tempdir().unwrap();
    let in_order = dir.path().join("in-order.pktmatch");
    let shuffled = dir.path().join("shuffled.pktmatch");
    let (a, b) = (in_order.to_str().unwrap(), shuffled.to_str().unwrap());
    let files: Vec<String> = LABELS.iter().map(|l| path(l)).collect();
    let mut args = vec!["index", "-q", "-o", a];
    args.extend(files.iter().map(String::as_str));
    pktmatch_ok(&args);
    // dc, lbserver, client, wan: recall fell to 10 % like this.
    let mut args = vec!["index", "-q", "-o", b];
    for k in [2, 3, 0, 1] {
        args.push(&files[k]);
    }
    pktmatch_ok(&args);
    let j = info(b);
    let labels: Vec<&str> = j["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, LABELS);
    let given: Vec<u64> = j["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["given_position"].as_u64().unwrap())
        .collect();
    assert_eq!(given, [2, 3, 0, 1]);
    assert_eq!(j["order"]["source"], "inferred");
    assert_eq!(j["order"]["topology"], "line");
    let evidence = j["order"]["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 3, "{evidence:?}");
    assert!(
        evidence[0]
            .as_str()
            .unwrap()
            .starts_with("client → wan: the client's TTL is higher at client"),
        "{evidence:?}"
    );
    assert!(
        evidence[2].as_str().unwrap().contains("X-Forwarded-For"),
        "{evidence:?}"
    );
    // The same matches, whatever the order given.
    let csv = |s: &str| pktmatch_ok(&["export", s, "--csv", "-"]);
    assert_eq!(csv(a), csv(b));
    // The text says so.
    let text = pktmatch_ok(&["info", b, "--no-files"]);
    assert!(text.contains("order inferred from the data"), "{text}");
    assert!(text.contains("given as input 3"), "{text}");
}

#[test]
fn a_stated_path_is_checked_against_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.pktmatch");
    let o = out.to_str().unwrap();
    let files: Vec<String> = ["dc", "client", "lbserver", "wan"]
        .iter()
        .map(|l| path(l))
        .collect();
    let mut args = vec!["index", "-q", "-o", o, "--path", "client,wan,dc,lbserver"];
    args.extend(files.iter().map(String::as_str));
    pktmatch_ok(&args);
    assert_eq!(info(o)["order"]["source"], "stated");
    // Contradicted: refused, saying why.
    args.insert(1, "--force");
    args[6] = "client,dc,wan,lbserver";
    let e = pktmatch_err(&args);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("--path puts dc before wan, but the data says wan is nearer the client"),
        "{e}"
    );
    assert!(e.contains("TTL is higher at wan"), "{e}");
    args[6] = "client,wan,dc";
    let e = pktmatch_err(&args);
    assert!(e.contains("leaves out lbserver"), "{e}");
    args[6] = "client,wan,dc,server";
    let e = pktmatch_err(&args);
    assert!(e.contains("\"server\", which is not a point"), "{e}");
}

#[test]
fn nonsense_is_refused_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.pktmatch");
    let o = out.to_str().unwrap();
    let client = path("client");
    let one_line = |e: &str| assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    // One point.
    let e = pktmatch_err(&["index", "-q", "-o", o, &client]);
    one_line(&e);
    assert!(e.contains("client.pcapng: only one capture point"), "{e}");
    // The same file twice, also under two labels.
    let twice = format!("again={client}");
    let e = pktmatch_err(&["index", "-q", "-o", o, &client, "--point", &twice]);
    one_line(&e);
    assert!(e.contains("is given twice"), "{e}");
    // A copy of it: the same frames.
    let copy = dir.path().join("copy.pcapng");
    std::fs::copy(&client, &copy).unwrap();
    let e = pktmatch_err(&["index", "-q", "-o", o, &client, copy.to_str().unwrap()]);
    one_line(&e);
    assert!(
        e.contains("are the same capture (the same 347 frames)"),
        "{e}"
    );
    assert!(e.contains("copy.pcapng"), "{e}");
    // A capture sharing nothing with the others.
    let other = capture_path("client")
        .parent()
        .unwrap()
        .join("../../tests/data/real-dns.pcap");
    let e = pktmatch_err(&[
        "index",
        "-q",
        "-o",
        o,
        &client,
        &path("wan"),
        other.to_str().unwrap(),
    ]);
    one_line(&e);
    assert!(
        e.contains("real-dns.pcap shares no traffic with any other point"),
        "{e}"
    );
    assert!(!out.exists());
}

#[test]
fn unrelated_pairs_in_a_bigger_session_are_named() {
    // Two sessions in one: the lab's client and wan, the synthetic client
    // and wan — each point shares traffic with its own partner only.
    let s = synthetic_session();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.pktmatch");
    let o = out.to_str().unwrap();
    let (lab_client, lab_wan) = (
        format!("lab_client={}", path("client")),
        format!("lab_wan={}", path("wan")),
    );
    let (syn_client, syn_wan) = (
        format!("syn_client={}", s.client.display()),
        format!("syn_wan={}", s.wan.display()),
    );
    let out_text = common::pktmatch(&[
        "index",
        "-o",
        o,
        "--point",
        &lab_client,
        "--point",
        &lab_wan,
        "--point",
        &syn_client,
        "--point",
        &syn_wan,
    ]);
    assert!(out_text.status.success());
    let stderr = String::from_utf8_lossy(&out_text.stderr);
    let j = info(o);
    assert_eq!(j["order"]["topology"], "not-a-line");
    let warnings: Vec<&str> = j["order"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("lab_client and syn_client share no packet")),
        "{warnings:?}"
    );
    assert!(stderr.contains("warning:"), "{stderr}");
}
