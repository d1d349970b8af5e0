//! `pktmatch annotate`: pcapng copies with match comments, read back with
//! real tshark and capinfos.

mod common;

use std::path::Path;

use common::synthetic::synthetic_session;
use common::{pktmatch_err, pktmatch_ok, tool, truth_fixture, LABELS};

/// Per frame: its comments (tshark -T fields -e frame.comment, joined by
/// `|`, which our comments never hold).
fn comments(file: &Path, home: &Path) -> Vec<Vec<String>> {
    let text = tool(
        "tshark",
        &[
            "-r",
            file.to_str().unwrap(),
            "-T",
            "fields",
            "-E",
            "aggregator=|",
            "-e",
            "frame.comment",
        ],
        home,
    );
    text.lines()
        .map(|l| {
            if l.is_empty() {
                Vec::new()
            } else {
                l.split('|').map(str::to_owned).collect()
            }
        })
        .collect()
}

/// What tshark says of every frame that must survive the copy.
fn frame_facts(file: &Path, home: &Path) -> String {
    tool(
        "tshark",
        &[
            "-r",
            file.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.protocols",
            "-e",
            "tcp.srcport",
            "-e",
            "ip.id",
        ],
        home,
    )
}

#[test]
fn synthetic_comments_read_back_with_tshark() {
    let s = synthetic_session();
    let out = s.dir.path().join("annotated");
    let home = s.dir.path();
    pktmatch_ok(&[
        "annotate",
        s.session.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let client = comments(&out.join("client.pcapng"), home);
    assert_eq!(client.len(), 10);
    assert_eq!(
        client[0],
        ["pktmatch: wan #1 +1.000030 s (corrected +30.0 µs), method nat, 100%"]
    );
    assert_eq!(
        client[1],
        ["pktmatch: wan #2 +999.970 ms (corrected -30.0 µs), method nat, 100%"]
    );
    assert_eq!(
        client[8],
        ["pktmatch: not seen at wan (lost on the network)"]
    );
    assert_eq!(
        client[9],
        ["pktmatch: wan #9 +1.000030 s (corrected +30.0 µs), method nat, 100%"]
    );
    let wan = comments(&out.join("wan.pcapng"), home);
    assert_eq!(wan.len(), 9);
    assert_eq!(
        wan[8],
        ["pktmatch: client #10 -1.000030 s (corrected -30.0 µs), method nat, 100%"]
    );
    // Same frames as the (pcap) inputs: time stamps, lengths, link types.
    assert_eq!(
        frame_facts(&s.client, home),
        frame_facts(&out.join("client.pcapng"), home)
    );
    assert_eq!(
        frame_facts(&s.wan, home),
        frame_facts(&out.join("wan.pcapng"), home)
    );
    let info = tool(
        "capinfos",
        &[out.join("wan.pcapng").to_str().unwrap()],
        home,
    );
    assert!(info.contains("Number of packets:   9"), "{info}");
    assert!(info.contains("Raw IP"), "{info}");
    let info = tool(
        "capinfos",
        &[out.join("client.pcapng").to_str().unwrap()],
        home,
    );
    assert!(info.contains("Ethernet"), "{info}");
}

#[test]
fn lab_copies_keep_every_frame_and_name_every_match() {
    let t = truth_fixture();
    let session = t.session.to_str().unwrap();
    let out = t.dir.path().join("annotated");
    let home = t.dir.path();
    let before: Vec<Vec<u8>> = LABELS
        .iter()
        .map(|l| std::fs::read(common::capture_path(l)).unwrap())
        .collect();
    pktmatch_ok(&["annotate", session, out.to_str().unwrap()]);

    let bytes = std::fs::read(&t.session).unwrap();
    let ix = index::Index::load(&bytes).unwrap();
    for (p, label) in LABELS.iter().enumerate() {
        let copy = out.join(format!("{label}.pcapng"));
        let got = comments(&copy, home);
        assert_eq!(got.len(), t.ts[p].len(), "{label}: every frame");
        // What each frame's comments must be, from the index.
        for (i, frame_comments) in got.iter().enumerate() {
            let frame = i as u32 + 1;
            let mut want: Vec<String> = ix
                .peers(p as u16, frame)
                .map(|peer| {
                    pktmatch::annotate::match_comment(&ix, p as u16, frame, t.ts[p][i], &peer)
                })
                .collect();
            want.extend(
                ix.lost(p as u16, frame)
                    .map(|l| pktmatch::annotate::lost_comment(&ix, &l)),
            );
            assert_eq!(frame_comments, &want, "{label} frame {frame}");
        }
        assert_eq!(
            frame_facts(&common::capture_path(label), home),
            frame_facts(&copy, home),
            "{label}: frames as they were"
        );
        // The copy is still the indexed capture (same frame checks).
        let check = pktmatch::session::check_file(&ix, p as u16, &copy);
        let point = ix.point(p as u16).unwrap();
        assert_eq!(
            check.state(point.file_size(), point.fingerprint()),
            "converted"
        );
    }
    // Spot check against the truth: client #7 is wan #5, 31.3 µs later.
    let client = comments(&out.join("client.pcapng"), home);
    let c7 = &client[6];
    assert!(c7[0].starts_with("pktmatch: wan #5 +2.718"), "{c7:?}");
    assert!(
        c7[0].ends_with("(corrected +31.3 µs), method nat, 100%"),
        "{c7:?}"
    );
    assert_eq!(
        client[0],
        ["pktmatch: not seen at wan (lost on the network)"]
    );
    assert_eq!(
        client[1],
        ["pktmatch: not seen at wan (that capture was not running then)"]
    );
    // The wan-dc matches with confidence 200.
    let wan = comments(&out.join("wan.pcapng"), home);
    assert!(wan.iter().flatten().any(|c| c.ends_with(", 78%")));
    // Inputs untouched.
    for (l, b) in LABELS.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(common::capture_path(l)).unwrap(),
            b,
            "{l} modified"
        );
    }
    let cap = tool("capinfos", &[out.join("dc.pcapng").to_str().unwrap()], home);
    assert!(
        cap.contains(&format!("Number of packets:   {}", t.ts[2].len())),
        "{cap}"
    );
    assert!(cap.contains("pktmatch annotate: point dc of"), "{cap}");
}

#[test]
fn never_over_an_input() {
    let t = truth_fixture();
    let session = t.session.to_str().unwrap();
    // OUTDIR holding the inputs: client.pcapng there is an input.
    let examples = common::example_dir();
    let e = pktmatch_err(&["annotate", session, examples.to_str().unwrap()]);
    assert!(
        e.contains("refusing to write over a capture of the session"),
        "{e}"
    );
    // A link named like an output, pointing at an input.
    let out = t.dir.path().join("links");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(common::capture_path("wan"), out.join("wan.pcapng")).unwrap();
    let e = pktmatch_err(&["annotate", session, out.to_str().unwrap(), "--force"]);
    assert!(
        e.contains("refusing to write over a capture of the session"),
        "{e}"
    );
    assert!(
        !out.join("client.pcapng").exists(),
        "nothing written before the check"
    );
    // Existing copies: only with --force.
    let out2 = t.dir.path().join("again");
    pktmatch_ok(&["annotate", session, out2.to_str().unwrap()]);
    let e = pktmatch_err(&["annotate", session, out2.to_str().unwrap()]);
    assert!(e.contains("exists (use --force to overwrite)"), "{e}");
    pktmatch_ok(&["annotate", session, out2.to_str().unwrap(), "--force"]);
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(&out2)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn a_changed_capture_leaves_no_copy() {
    let s = synthetic_session();
    let out = s.dir.path().join("annotated");
    let e = pktmatch_err(&[
        "annotate",
        s.session.to_str().unwrap(),
        out.to_str().unwrap(),
        "--point",
        &format!("wan={}", s.client.display()),
    ]);
    assert!(e.contains("is not the frame indexed for point wan"), "{e}");
    assert!(!out.join("wan.pcapng").exists());
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn labels_that_would_share_a_file_are_refused() {
    let s = synthetic_session();
    let mut b = index::IndexBuilder::new();
    for (label, path) in [("lan/1", &s.client), ("lan_1", &s.wan)] {
        let size = std::fs::metadata(path).unwrap().len();
        let p = b.add_point(label, path.to_str().unwrap(), size).unwrap();
        let mut cap = capture::open(path).unwrap();
        while let Some(f) = cap.next_packet().unwrap() {
            b.add_frame_bytes(p, f.ts_ns, f.data.len() as u32, f.data)
                .unwrap();
        }
    }
    let session = s.dir.path().join("labels.pktmatch");
    std::fs::write(&session, b.build()).unwrap();
    let out = s.dir.path().join("labels");
    let e = pktmatch_err(&["annotate", session.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(
        e.contains("lan_1.pcapng: two points would be written there"),
        "{e}"
    );
    assert!(!out.join("lan_1.pcapng").exists());
}
