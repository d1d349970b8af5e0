//! `pktmatch report`: the packet flow summary, checked row by row on the
//! synthetic two-point session (hand-checked values) and against the
//! truth-built index of the real lab captures.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::synthetic::{synthetic_session, GET_PATH, OFFSET_NS, TRANSIT_NS};
use common::{columns, parse_csv, pktmatch_err, pktmatch_ok, truth_fixture, LABELS};

#[test]
fn synthetic_session_row_by_row() {
    let s = synthetic_session();
    let csv = pktmatch_ok(&["report", s.session.to_str().unwrap(), "--csv", "-"]);
    let rows = parse_csv(&csv);
    let h = columns(&rows[0]);
    assert_eq!(
        rows[0],
        [
            "row",
            "dir",
            "what",
            "client_frame",
            "client_time",
            "client_rel_s",
            "client_client_port",
            "wan_frame",
            "wan_time",
            "wan_rel_s",
            "wan_client_port",
            "delta_client_wan_ns",
            "delta_client_wan_raw_ns",
            "lost_at",
            "dropped_at",
            "outside_capture_at",
            "uncertain_at"
        ]
    );
    let get = format!("GET {GET_PATH}");
    let want: Vec<(&str, &str, &str, &str)> = vec![
        ("→", "[SYN]", "1", "1"),
        ("←", "[SYN, ACK]", "2", "2"),
        ("→", "[ACK]", "3", "3"),
        ("→", &get, "4", "4"),
        ("←", "200 OK – first of 3", "5", "5"),
        ("←", "200 OK – 2 of 3", "6", "6"),
        ("←", "200 OK – last of 3", "7", "7"),
        ("→", "[ACK]", "8", "8"),
        ("→", "[FIN, ACK]", "9", "lost"),
        ("→", "[FIN, ACK]", "10", "9"),
    ];
    assert_eq!(rows.len() - 1, want.len());
    for (i, (r, w)) in rows[1..].iter().zip(&want).enumerate() {
        let cell = |c: &str| r[h[c]].as_str();
        assert_eq!(cell("row"), (i + 1).to_string());
        assert_eq!((cell("dir"), cell("what")), (w.0, w.1), "row {}", i + 1);
        assert_eq!((cell("client_frame"), cell("wan_frame")), (w.2, w.3));
        assert_eq!(cell("client_client_port"), "40000");
        assert_eq!(cell("client_rel_s"), format!("0.{:06}", i * 1000));
        assert_eq!(
            cell("client_time"),
            "2023-11-14 22:13:20.".to_owned() + &format!("{:06}", i * 1000)
        );
        if w.3 == "lost" {
            assert_eq!((cell("wan_time"), cell("delta_client_wan_ns")), ("", ""));
            assert_eq!(cell("lost_at"), "wan");
            continue;
        }
        assert_eq!(
            (
                cell("lost_at"),
                cell("dropped_at"),
                cell("outside_capture_at")
            ),
            ("", "", "")
        );
        assert_eq!(cell("wan_client_port"), "61000");
        let transit = if w.0 == "→" {
            TRANSIT_NS
        } else {
            -TRANSIT_NS
        };
        assert_eq!(cell("delta_client_wan_ns"), transit.to_string());
        assert_eq!(
            cell("delta_client_wan_raw_ns"),
            (OFFSET_NS + transit).to_string()
        );
    }
}

#[test]
fn synthetic_html_is_self_contained_and_escaped() {
    let s = synthetic_session();
    let out = s.dir.path().join("report.html");
    pktmatch_ok(&[
        "report",
        s.session.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    // Nothing fetched, nothing run.
    for bad in ["<script", "src=", "href=", "https://", "@import", "url("] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "only the SVG namespace"
    );
    assert!(html.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    // The request line from the packet, escaped.
    assert!(html.contains("GET /&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;?a=1&amp;b=2"));
    // The plot: one series (client → wan), 9 packets seen at both points,
    // each 30 µs in its direction of travel (the table's b − a is -30 µs
    // for ← packets; the plot shows the hop's delay).
    assert!(html.contains("client → wan (9)"), "legend");
    assert_eq!(html.matches("<circle").count(), 9);
    assert!(html.contains("corrected delay (µs)"));
    // The hops: 5 packets client → wan and 4 back, 30 µs each, one lost
    // on the way to wan.
    assert!(html.contains(
        "<tr><td>client → wan</td><td class=\"n\">5</td><td class=\"n\">1</td>\
         <td class=\"n\">0</td><td class=\"d\">30.0 µs</td><td class=\"d\">30.0 µs</td>\
         <td class=\"d\">30.0 µs</td><td class=\"d\">30.0 µs</td>"
    ));
    assert!(html.contains("<tr><td>wan → client</td><td class=\"n\">4</td><td class=\"n\">0</td>"));
    // The worst packets: the 9 rows with a delay (all 30 µs), the lost
    // one has none; deltas as durations, the worst hop bold.
    let section = |from: &str, to: &str| {
        let a = html.find(from).unwrap();
        let b = html[a + 1..].find(to).map_or(html.len(), |b| a + 1 + b);
        html[a..b].to_owned()
    };
    let worst = section("<h2>Worst packets", "<h2>");
    assert_eq!(worst.matches("<tr class=\"c2s\"").count(), 5);
    assert_eq!(worst.matches("<tr class=\"s2c\"").count(), 4);
    assert!(worst.contains("<td class=\"d worst\" title=\"raw +1.000030 s\">+30.0 µs</td>"));
    assert!(worst.contains("<td class=\"d worst\" title=\"raw +999.970 ms\">-30.0 µs</td>"));
    // The one connection, its ladder and its 10 rows, the lost one marked.
    let conns = section("<h2>Worst connections", "<h2>");
    assert!(conns.contains("<td>192.0.2.10:40000 → 203.0.113.80:80 TCP at client</td><td class=\"n\">10</td><td class=\"n\">1</td>"));
    let ladder = section("<h2>Ladder", "<h2>");
    assert!(ladder.contains("192.0.2.10:40000 → 203.0.113.80:80 TCP at client"));
    assert_eq!(ladder.matches("<tr class=\"c2s\"").count(), 6);
    assert_eq!(ladder.matches("<tr class=\"s2c\"").count(), 4);
    assert_eq!(ladder.matches("not seen (lost on the network)").count(), 1);
    assert_eq!(
        ladder
            .matches("<title>lost on the network before this point</title>")
            .count(),
        1
    );
    // Nine arrows (the lost FIN never left the client's lane), each 30 µs.
    assert_eq!(ladder.matches(">30.0 µs</text>").count(), 9);
    assert!(ladder.contains("200 OK – first of 3"));
}

/// The HTML page of a session made of `copies` copies of the example
/// (bench/replicate-session.py, ports varied per copy), and its CSV.
fn replicated_report(copies: u32) -> (u64, u64, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = std::process::Command::new("python3")
        .arg(repo.join("bench/replicate-session.py"))
        .arg("--vary-ports")
        .arg(repo.join("examples/session-small"))
        .arg(d)
        .arg(copies.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3");
    assert!(status.success());
    let p = |n: &str| d.join(n).to_str().unwrap().to_owned();
    let files: Vec<String> = ["client", "wan", "dc", "lbserver"]
        .iter()
        .map(|l| p(&format!("{l}.pcap")))
        .collect();
    let mut args = vec!["index", "-q", "-o"];
    let session = p("s.pktmatch");
    args.push(&session);
    args.extend(files.iter().map(String::as_str));
    pktmatch_ok(&args);
    pktmatch_ok(&["report", &session, "--html", &p("r.html")]);
    pktmatch_ok(&["report", &session, "--csv", &p("r.csv")]);
    let size = |n: &str| std::fs::metadata(d.join(n)).unwrap().len();
    (size("r.html"), size("r.csv"), dir)
}

#[test]
fn the_page_stays_small_whatever_the_session_size() {
    let (small_html, small_csv, _a) = replicated_report(4);
    let (big_html, big_csv, b) = replicated_report(64);
    // Sixteen times the packets: the CSV grows with them, the page does not.
    assert!(big_csv > 12 * small_csv, "{big_csv} vs {small_csv}");
    assert!(big_html < small_html * 5 / 4, "{big_html} vs {small_html}");
    assert!(big_html < 400_000, "{big_html}");
    let html = std::fs::read_to_string(b.path().join("r.html")).unwrap();
    // Every packet of the 64 copies counted (341 rows each).
    let counts = html.split("packets (rows) in ").nth(1).unwrap();
    let connections: usize = counts.split(' ').next().unwrap().parse().unwrap();
    assert!(
        html.contains("21824 packets (rows) in "),
        "{}",
        &html[..800]
    );
    assert!(connections > 600, "{connections}");
    // --limit sets the lists' length.
    let s = b.path().join("s.pktmatch");
    let five = b.path().join("five.html");
    pktmatch_ok(&[
        "report",
        s.to_str().unwrap(),
        "--html",
        five.to_str().unwrap(),
        "--limit",
        "5",
    ]);
    let five = std::fs::read_to_string(five).unwrap();
    assert!(five.contains("The 5 rows with the longest delay"));
    assert!(five.contains(&format!("5 of {connections} connections")));
}

#[test]
fn refuses_a_capture_that_is_not_the_indexed_one() {
    let s = synthetic_session();
    let session = s.session.to_str().unwrap();
    // The client's capture given for the wan point.
    let e = pktmatch_err(&[
        "report",
        session,
        "--csv",
        "-",
        "--point",
        &format!("wan={}", s.client.display()),
    ]);
    assert!(
        e.contains("synthetic-client.pcap: frame 1 is not the frame indexed for point wan")
            && e.contains("--point wan=FILE"),
        "{e}"
    );
    // A capture cut short.
    let cut = s.dir.path().join("cut.pcap");
    let bytes = std::fs::read(&s.wan).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 60]).unwrap();
    let e = pktmatch_err(&[
        "report",
        session,
        "--csv",
        "-",
        "--point",
        &format!("wan={}", cut.display()),
    ]);
    assert!(e.contains("cut.pcap") && !e.contains("panicked"), "{e}");
    // A moved capture: found again with --point.
    let moved = s.dir.path().join("moved-wan.pcap");
    std::fs::rename(&s.wan, &moved).unwrap();
    let e = pktmatch_err(&["report", session, "--csv", "-"]);
    assert!(
        e.contains("point wan:") && e.contains("use --point wan=FILE"),
        "{e}"
    );
    pktmatch_ok(&[
        "report",
        session,
        "--csv",
        "-",
        "--point",
        &format!("wan={}", moved.display()),
    ]);
    // Never over an input; both formats at once is a usage error.
    let e = pktmatch_err(&["report", session, "--csv", s.client.to_str().unwrap()]);
    assert!(e.contains("refusing to write over a capture"), "{e}");
    let e = pktmatch_err(&["report", session, "--csv", "-", "--html", "x.html"]);
    assert!(e.contains("cannot be used with"), "{e}");
}

#[test]
fn lab_captures_every_match_in_one_row_with_true_deltas() {
    let t = truth_fixture();
    let session = t.session.to_str().unwrap();
    let csv = pktmatch_ok(&["report", session, "--csv", "-"]);
    let rows = parse_csv(&csv);
    let h = columns(&rows[0]);
    let body = &rows[1..];
    let frames = |r: &Vec<String>, label: &str| -> Vec<u32> {
        r[h[&format!("{label}_frame")]]
            .split(';')
            .filter_map(|f| f.parse().ok())
            .collect()
    };
    // Where each (point, frame) is shown.
    let mut row_of: HashMap<(usize, u32), Vec<usize>> = HashMap::new();
    for (i, r) in body.iter().enumerate() {
        for (p, l) in LABELS.iter().enumerate() {
            for f in frames(r, l) {
                row_of.entry((p, f)).or_default().push(i);
            }
        }
    }
    // Every match: both frames share a row.
    for m in &t.matches {
        let ra = &row_of[&(m.a as usize, m.fa)];
        let rb = &row_of[&(m.b as usize, m.fb)];
        assert!(
            ra.iter().any(|r| rb.contains(r)),
            "{m:?} split over rows {ra:?} / {rb:?}"
        );
    }
    // Client frames appear once each (TSO at dc repeats dc's frame instead).
    assert!(row_of
        .iter()
        .filter(|(k, _)| k.0 == 0)
        .all(|(_, v)| v.len() == 1));
    // Adjacent deltas: the truth's transit of the match in that row.
    let truth: BTreeMap<(u16, u32, u16, u32), i64> = t
        .matches
        .iter()
        .map(|m| ((m.a, m.fa, m.b, m.fb), m.true_ns))
        .collect();
    let mut checked = 0;
    for r in body {
        for a in 0..3u16 {
            let (la, lb) = (LABELS[a as usize], LABELS[a as usize + 1]);
            let (fa, fb) = (frames(r, la), frames(r, lb));
            let d = &r[h[&format!("delta_{la}_{lb}_ns")]];
            if fa.len() != 1 || fb.len() != 1 {
                continue;
            }
            if let Some(want) = truth.get(&(a, fa[0], a + 1, fb[0])) {
                let got: i64 = d.parse().unwrap();
                assert!(
                    (got - want).abs() <= 50,
                    "{la}#{} {lb}#{}: {got} vs {want}",
                    fa[0],
                    fb[0]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 600, "{checked} deltas checked");
    // What the rows say: the seed's vocabulary, from real packets.
    let what: Vec<&str> = body.iter().map(|r| r[h["what"]].as_str()).collect();
    for want in [
        "[SYN]",
        "[SYN, ACK]",
        "[ACK]",
        "[FIN, ACK]",
        "DNS query A shop.example.test",
        "TLS Client Hello",
    ] {
        assert!(what.contains(&want), "no row {want:?}");
    }
    assert!(what.iter().any(|w| w.starts_with("GET /")), "a request row");
    assert!(
        what.iter().any(|w| w.starts_with("200 OK")),
        "a response row"
    );
    assert!(
        what.iter().any(|w| w.contains(" – first of ")),
        "a response over several packets"
    );
    // SNAT: the client port differs between client and wan, not wan and dc.
    let r = body
        .iter()
        .find(|r| r[h["what"]] == "[SYN]" && !r[h["dc_frame"]].is_empty())
        .unwrap();
    assert_ne!(r[h["client_client_port"]], r[h["wan_client_port"]]);
    assert_eq!(r[h["wan_client_port"]], r[h["dc_client_port"]]);
    // The hand-added entries: client frame 1 lost before wan, frame 2 not
    // seen at wan because wan's capture was not running.
    for (f, cell, column) in [
        ("1", "lost", "lost_at"),
        ("2", "not running", "outside_capture_at"),
    ] {
        let r = body.iter().find(|r| r[h["client_frame"]] == f).unwrap();
        assert_eq!(r[h["wan_frame"]], cell);
        assert_eq!(r[h[column]], "wan");
    }
    // Rows are in time order on the client's clock within the client.
    let client_frames: Vec<u32> = body
        .iter()
        .filter_map(|r| frames(r, "client").first().copied())
        .collect();
    assert!(
        client_frames.windows(2).all(|w| w[0] < w[1]),
        "client frames in order"
    );
}

#[test]
fn lab_html_plots_each_hop() {
    let t = truth_fixture();
    let out = t.dir.path().join("lab.html");
    pktmatch_ok(&[
        "report",
        t.session.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(out).unwrap();
    for series in ["client → wan (", "wan → dc (", "dc → lbserver ("] {
        assert!(html.contains(series), "{series}");
    }
    assert!(!html.contains("<script"));
    // The hand-written translation text reaches the page only escaped (it
    // is not shown in the report at all; the clock table is).
    assert!(!html.contains("<b>&amp;</b>"));
    assert!(html.contains(
        "<td>client → wan</td><td class=\"d\">+2.718281 s</td><td class=\"d\">+25.000 ppm</td>"
    ));
}

#[test]
fn lab_connection_keeps_one_connection_at_every_point() {
    // conn0000 is 192.0.2.10:35777 at the client (truth/connections.jsonl):
    // 9 packets each way at client, wan and dc, its request and response
    // across the proxy at lbserver.
    let t = truth_fixture();
    let csv = pktmatch_ok(&[
        "report",
        t.session.to_str().unwrap(),
        "--csv",
        "-",
        "--connection",
        "tcp.port == 35777",
    ]);
    let rows = parse_csv(&csv);
    let h = columns(&rows[0]);
    assert_eq!(rows.len() - 1, 9);
    for r in &rows[1..] {
        assert_eq!(r[h["client_client_port"]], "35777", "{r:?}");
        assert_eq!(r[h["wan_client_port"]], "63545", "{r:?}");
    }
    let at_lb: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[h["lbserver_frame"]].as_str())
        .filter(|f| !f.is_empty())
        .collect();
    assert_eq!(at_lb.len(), 2, "request and response across the proxy");
    let out = t.dir.path().join("conn.html");
    pktmatch_ok(&[
        "report",
        t.session.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
        "--connection",
        "tcp.port == 35777",
    ]);
    let html = std::fs::read_to_string(out).unwrap();
    assert!(html.contains("<h2>Ladder: 192.0.2.10:35777 → 203.0.113.80:80 TCP at client</h2>"));
    assert!(html.contains("9 packets (rows) in 1 connections"));
    let e = pktmatch_err(&[
        "report",
        t.session.to_str().unwrap(),
        "--csv",
        "-",
        "--connection",
        "tcp.port = 1",
    ]);
    assert!(e.contains("filter \"tcp.port = 1\""), "{e}");
}
