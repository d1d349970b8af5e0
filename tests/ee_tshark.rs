//! The `ee` dissector in real tshark, on the synthetic EE captures written
//! by `ee-synth` (crates/ee-synth) and on hand-written malformed datagrams.
//! Values are checked against what the generator put on the wire and
//! against its truth file of injected RTP events.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{pcap_from_hex, release_plugins, Wireshark};

fn wireshark() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

/// The generated captures, once per test process.
fn synthetic() -> &'static ee_synth::Written {
    static WRITTEN: std::sync::OnceLock<ee_synth::Written> = std::sync::OnceLock::new();
    WRITTEN.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ee-synth-{}", std::process::id()));
        ee_synth::generate(&dir).expect("ee-synth writes its captures")
    })
}

fn capture(name: &str) -> PathBuf {
    let written = synthetic();
    written
        .captures
        .iter()
        .map(|(path, _)| path.clone())
        .find(|p| p.file_name().unwrap() == name)
        .unwrap_or_else(|| panic!("ee-synth wrote no {name}"))
}

#[test]
fn full_trees_print_without_dissector_bugs() {
    let ws = wireshark();
    for name in ["synthetic-ee-session.pcapng", "synthetic-ee-sap-c8.pcapng"] {
        let file = ws.add_file(&capture(name));
        for passes in [&[][..], &["-2"][..]] {
            let mut args = vec!["-r", file.as_str(), "-V", "-x"];
            args.extend(passes);
            let out = ws.tshark(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{name}: {}", out.status);
            assert!(
                !stderr.contains("Dissector bug") && !stderr.contains("WARNING"),
                "{name}: {stderr}"
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(!stdout.contains("internal error"), "{name}: internal error");
            assert!(!stdout.contains("<MISSING>"), "{name}: an empty item");
            assert!(stdout.contains("Reassembled RTP message") || name.contains("c8"));
        }
    }
}

#[test]
fn every_layer_has_its_fields_registered() {
    let out = wireshark().tshark_ok(&["-G", "fields"]);
    let ours: BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.split('\t').nth(2))
        .filter(|abbrev| abbrev.starts_with("ee."))
        .collect();
    for prefix in [
        "ee.llc.",
        "ee.nhdr.",
        "ee.thdr.",
        "ee.seg.",
        "ee.setup.",
        "ee.status.",
        "ee.oob.",
        "ee.cie.",
        "ee.fault.",
        "ee.switch.",
        "ee.arb.",
        "ee.th.",
        "ee.rh.",
        "ee.gds.",
        "ee.xid.",
        "ee.cv.",
        "ee.rtp.",
        "ee.analysis.",
        "ee.message.",
    ] {
        assert!(
            ours.iter().any(|f| f.starts_with(prefix)),
            "no {prefix}* field registered"
        );
    }
    assert!(ours.len() >= 150, "only {} ee fields", ours.len());
}

#[test]
fn xid3_exchange_is_decoded_on_sap_04_and_c8() {
    let ws = wireshark();
    let names = [
        "ee.llc.dsap",
        "ee.xid.node_type",
        "ee.xid.len",
        "ee.xid.idnum",
        "ee.xid.exchange_state",
        "ee.xid.network_node",
        "ee.xid.tg",
        "ee.xid.max_btu",
        "ee.xid.max_iframes",
        "ee.cv.key",
        "ee.cv.name_type",
        "ee.cv.name",
        "ee.cv.product_class",
        "ee.cv.product_level",
        "ee.cv.product_text",
    ];
    let session = ws.add_file(&capture("synthetic-ee-session.pcapng"));
    let xids = ws.fields(&session, &["-Y", "ee.xid.format == 3"], &names);
    let frames: Vec<u32> = xids.keys().copied().collect();
    assert_eq!(frames, [3, 4]);
    // What the generator wrote: node type 2, 87 bytes, IDNUM 1 and 2,
    // prenegotiation (2) vs negotiation-proceeding (1), network nodes, TG 21,
    // max BTU 1461, 7 I-frames, CVs 0E 10 (11) 46 61, CP names, product.
    fn expect(idnum: &'static str, state: &'static str, cp: &'static str) -> Vec<&'static str> {
        vec![
            "0x04",
            "2",
            "87",
            idnum,
            state,
            "1",
            "21",
            "1461",
            "7",
            "0x0e,0x10,0x46,0x61",
            "0xf4",
            cp,
            "0x0e",
            "V02 R05 M00",
            "PKTSYNTH",
        ]
    }
    assert_eq!(xids[&3], expect("0x00000001", "2", "NETA.NODEA"));
    assert_eq!(xids[&4], expect("0x00000002", "1", "NETA.NODEB"));
    // TG descriptor subfield 0x80: TG 21 with the partner's CP name.
    let tgs = ws.fields(
        &session,
        &["-Y", "ee.xid.format == 3"],
        &["ee.cv.tg.subfield", "ee.cv.tg.number", "ee.cv.tg.partner"],
    );
    assert_eq!(tgs[&3], ["0x80", "21", "NETA.NODEB"]);
    assert_eq!(tgs[&4], ["0x80", "21", "NETA.NODEA"]);

    // SAP 0xC8, where Wireshark's own sna_xid is not registered.
    let c8 = ws.add_file(&capture("synthetic-ee-sap-c8.pcapng"));
    let xids = ws.fields(&c8, &["-Y", "ee.xid.format == 3"], &names);
    assert_eq!(xids.len(), 2, "both XIDs on SAP C8 decoded");
    assert!(xids
        .values()
        .all(|row| row[0] == "0xc8" && row[11].starts_with("NETA.")));
}

#[test]
fn headers_and_segments_carry_the_generated_values() {
    let ws = wireshark();
    let session = ws.add_file(&capture("synthetic-ee-session.pcapng"));
    let names = [
        "ee.nhdr.sm",
        "ee.nhdr.tpf",
        "ee.nhdr.ft",
        "ee.nhdr.frh",
        "ee.nhdr.labels",
        "ee.nhdr.anr_label",
        "ee.nhdr.anr_unknown",
        "ee.seg.type",
        "ee.setup.version",
        "ee.setup.reliable",
        "ee.cie.tcid",
        "ee.switch.max_packet",
        "ee.arb.type",
        "ee.arb.rate_action",
        "ee.th.mpf",
        "ee.rh.category",
        "ee.gds.id",
        "ee.status.received",
        "ee.status.absp_begin",
        "ee.status.absp_end",
        "ee.fault.sense",
        "ee.oob.bits",
        "ee.thdr.dlf",
        "ee.thdr.bsn",
    ];
    let t = ws.fields(&session, &[], &names);
    let get = |frame: u32, name: &str| -> String {
        let column = names.iter().position(|n| *n == name).unwrap();
        t[&frame][column].clone()
    };
    // LDLC XID complete request/response: function routing, type LDLC.
    assert_eq!(
        (get(5, "ee.nhdr.sm"), get(5, "ee.nhdr.ft")),
        ("5".into(), "1".into())
    );
    assert_eq!(
        (get(5, "ee.nhdr.frh"), get(6, "ee.nhdr.frh")),
        ("0x03".into(), "0x04".into())
    );
    // Route setup connection on the network-priority port.
    assert_eq!(get(7, "ee.nhdr.sm"), "6");
    assert_eq!(get(7, "ee.nhdr.tpf"), "3");
    // The label field as it is (RFC 2238: labels of 1 to 8 bytes, their
    // boundaries not in the header): no label of known length in this
    // capture, so no single labels, the bytes as one run.
    assert_eq!(get(7, "ee.nhdr.labels"), "8015");
    assert_eq!(get(7, "ee.nhdr.anr_label"), "");
    assert_eq!(get(7, "ee.nhdr.anr_unknown"), "8015");
    assert_eq!(get(7, "ee.seg.type"), "0x0d,0x10,0x14");
    assert_eq!(get(7, "ee.setup.version"), "0x0101");
    assert_eq!(get(7, "ee.cie.tcid"), "0xa0a0000000000010");
    assert_eq!(get(7, "ee.switch.max_packet"), "1461");
    assert_eq!(get(7, "ee.gds.id"), "0x12ce");
    // The setup's network address CV: point-to-point, node id and NETID.
    let setup = ws.fields(
        &session,
        &["-Y", "frame.number == 7"],
        &[
            "ee.cv.key",
            "ee.cv.netaddr.ptp",
            "ee.cv.hpr_key",
            "ee.cv.network_id",
        ],
    );
    assert_eq!(setup[&7], ["0x05", "1", "0x00,0x03", "NETA"]);
    // Session setup: ARB setup segment, BIND (SC category, whole BIU).
    assert_eq!(get(9, "ee.seg.type"), "0x0d,0x10,0x14,0x22");
    assert_eq!(
        (get(9, "ee.arb.type"), get(9, "ee.arb.rate_action")),
        ("0".into(), "0".into())
    );
    assert_eq!(
        (get(9, "ee.th.mpf"), get(9, "ee.rh.category")),
        ("3".into(), "3".into())
    );
    // ARB rate request and reply (slowdown 1).
    assert_eq!(
        (get(40, "ee.arb.type"), get(40, "ee.arb.rate_action")),
        ("2".into(), "0".into())
    );
    assert_eq!(
        (get(41, "ee.arb.type"), get(41, "ee.arb.rate_action")),
        ("1".into(), "2".into())
    );
    // Status after the loss: received up to 1358, bytes 1458..1638 held.
    assert_eq!(get(27, "ee.status.received"), "1358");
    assert_eq!(get(27, "ee.status.absp_begin"), "1458");
    assert_eq!(get(27, "ee.status.absp_end"), "1638");
    assert_eq!(get(46, "ee.fault.sense"), "0x80030004");
    assert_eq!(get(47, "ee.oob.bits"), "0x0001");
    assert_eq!(get(48, "ee.oob.bits"), "0x8000");
    assert_eq!(
        (get(16, "ee.thdr.bsn"), get(16, "ee.thdr.dlf")),
        ("404".into(), "240".into())
    );

    // Display filters on our fields and named values.
    let filtered = |filter: &str| -> Vec<u32> {
        ws.fields(&session, &["-Y", filter], &[])
            .keys()
            .copied()
            .collect()
    };
    assert_eq!(filtered("ee.nhdr.ft == 1"), [5, 6]);
    assert_eq!(filtered("ee.gds.id == 0x12ce"), [7, 8]);
    assert_eq!(filtered("ee.arb.rate_action == 2"), [41]);
    assert_eq!(filtered("ee.thdr.sri == 1"), [14, 20, 23, 26, 32]);
    assert_eq!(filtered("ee.llc.command == \"DISC\""), [49]);
}

/// (frame, event, value) lines, as in the generator's truth file.
fn events_from_tshark(
    ws: &Wireshark,
    file: &str,
    extra: &[&str],
) -> BTreeSet<(u32, String, String)> {
    let names = [
        "ee.rtp.stream",
        "ee.analysis.gap",
        "ee.analysis.out_of_order",
        "ee.analysis.retransmission",
        "ee.analysis.duplicate",
        "ee.analysis.status_reply_to",
        "ee.analysis.missing_begin",
        "ee.analysis.missing_end",
        "ee.message.frame",
        "ee.analysis.setup",
        "ee.analysis.path_switch",
        "ee.analysis.slowdown",
        "ee.arb.type",
        "ee.arb.rate_action",
        "ee.fault.sense",
        "ee.analysis.retransmission_requested",
    ];
    let mut events = BTreeSet::new();
    for (frame, row) in ws.fields(file, extra, &names) {
        let mut add = |event: &str, value: String| {
            events.insert((frame, event.to_owned(), value));
        };
        let set = |v: &str| !v.is_empty() && v != "0" && v != "False";
        if !row[0].is_empty() {
            add("stream", row[0].clone());
        }
        if !row[1].is_empty() {
            add("gap", row[1].clone());
        }
        if set(&row[2]) {
            add("out_of_order", "-".into());
        }
        if !row[3].is_empty() {
            add("retransmission", row[3].clone());
        } else if !row[15].is_empty() {
            // The original is not in the capture; a status asked for it.
            add("retransmission", "-".into());
        }
        if !row[4].is_empty() {
            add("duplicate", row[4].clone());
        }
        if !row[5].is_empty() {
            add("status_reply", row[5].clone());
        }
        if !row[6].is_empty() {
            for (begin, end) in row[6].split(',').zip(row[7].split(',')) {
                add("status_missing", format!("{begin}-{end}"));
            }
        }
        if !row[8].is_empty() {
            add("message", row[8].clone());
        }
        for (column, event) in [(9, "setup"), (10, "path_switch"), (11, "slowdown")] {
            if set(&row[column]) {
                add(event, "-".into());
            }
        }
        if !row[12].is_empty() {
            add("arb", format!("{}/{}", row[12], row[13]));
        }
        if !row[14].is_empty() {
            add("fault", row[14].trim_start_matches("0x").to_uppercase());
        }
    }
    events
}

#[test]
fn rtp_analysis_flags_exactly_the_injected_events() {
    let ws = wireshark();
    let session = ws.add_file(&capture("synthetic-ee-session.pcapng"));
    let truth_text = std::fs::read_to_string(&synthetic().truth).unwrap();
    let truth: BTreeSet<(u32, String, String)> = truth_text
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (
                cols[0].parse().unwrap(),
                cols[1].to_owned(),
                cols[2].to_owned(),
            )
        })
        .collect();
    assert!(truth.iter().any(|(_, e, _)| e == "retransmission"));
    assert!(truth.iter().any(|(_, e, _)| e == "gap"));

    let one_pass = events_from_tshark(&ws, &session, &[]);
    let missing: Vec<_> = truth.difference(&one_pass).collect();
    let extra: Vec<_> = one_pass.difference(&truth).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not flagged: {missing:?}\nflagged but not injected: {extra:?}"
    );
    // Two passes (as the GUI): the same results, from the stored analysis.
    let two_pass = events_from_tshark(&ws, &session, &["-2"]);
    assert_eq!(one_pass, two_pass);

    // The status request learns where its reply is on the second pass.
    let replies = ws.fields(
        &session,
        &["-2", "-Y", "ee.analysis.status_reply_in"],
        &["ee.analysis.status_reply_in"],
    );
    let pairs: Vec<(u32, String)> = replies
        .into_iter()
        .map(|(f, v)| (f, v[0].clone()))
        .collect();
    assert_eq!(
        pairs,
        [
            (14, "15".into()),
            (20, "21".into()),
            (23, "24".into()),
            (26, "27".into()),
            (32, "33".into())
        ]
    );
    // Response time of the status in frame 15 = its time - frame 14's.
    let times = ws.fields(
        &session,
        &[],
        &["frame.time_epoch", "ee.analysis.status_time"],
    );
    let epoch = |f: u32| times[&f][0].parse::<f64>().unwrap();
    let reported: f64 = times[&15][1].parse().unwrap();
    assert!(
        (reported - (epoch(15) - epoch(14))).abs() < 1e-6,
        "{reported}"
    );

    // Rate reply asking for slowdown 1: a warning of its own.
    let slow = ws.fields(&session, &["-Y", "ee.expert.arb_rate_change"], &[]);
    assert_eq!(slow.keys().copied().collect::<Vec<_>>(), [41]);

    // Experts are filterable by name: every retransmission, the one whose
    // original is not in the capture (28) included.
    let retrans = ws.fields(&session, &["-Y", "ee.expert.retransmission"], &[]);
    assert_eq!(retrans.keys().copied().collect::<Vec<_>>(), [28, 34]);
}

#[test]
fn a_split_message_is_reassembled_and_its_biu_goes_to_wiresharks_sna() {
    let ws = wireshark();
    let session = ws.add_file(&capture("synthetic-ee-session.pcapng"));
    let t = ws.fields(
        &session,
        &["-Y", "ee.message.length"],
        &[
            "ee.message.length",
            "ee.message.frame",
            "ee.th.mpf",
            "sna.th.fid",
            "_ws.col.Info",
        ],
    );
    assert_eq!(t.keys().copied().collect::<Vec<_>>(), [18]);
    let row = &t[&18];
    // 240 + 240 + 140 bytes over frames 16, 17, 18.
    assert_eq!(row[0], "620");
    assert_eq!(row[1], "16,17,18");
    assert_eq!(row[2], "3", "TH of the reassembled message (whole BIU)");
    assert_eq!(
        row[3], "0x05",
        "Wireshark's sna decoded the reassembled BIU"
    );
    assert!(row[4].contains("[message of 3 packets]"), "{}", row[4]);
    // Without the hand-off, sna decodes only what it decodes without our
    // plugin (in the hidden compatibility subtree): the TH at the start of
    // frame 16, never the reassembled message.
    let t = ws.fields(
        &session,
        &[
            "-o",
            "ee.sna_biu:FALSE",
            "-Y",
            "frame.number >= 16 && frame.number <= 18",
        ],
        &["sna.th.fid", "ee.message.length"],
    );
    assert_eq!(t[&16], ["0x05", ""]);
    assert_eq!(t[&17], ["", ""]);
    assert_eq!(t[&18], ["", "620"]);
}

#[test]
fn malformed_datagrams_get_expert_info_naming_what_and_where() {
    let ws = wireshark();
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ee-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = ws.add_file(&pcap_from_hex(
        "synthetic-ee-malformed.hex",
        (12002, 12002),
        &dir,
    ));
    let t = ws.fields(&pcap, &[], &["_ws.expert.message"]);
    let expected = [
        "NHDR label list (no X'FF' end) at byte 5 needs 4 bytes, only 3 present",
        "THDR data offset at byte 18 is 0x4: the header is at least 5 words (20 bytes)",
        "optional segment length at byte 28 is 0x0: a segment is at least one 4-byte word",
        "status segment at byte 28 needs 12 bytes, only 4 present",
        "XID3 (its length byte) at byte 3 needs 84 bytes, only 19 present",
        "FID5 TH and RH at byte 28 needs 15 bytes, only 4 present",
    ];
    for (i, message) in expected.iter().enumerate() {
        let frame = i as u32 + 1;
        assert!(
            t[&frame][0].contains(message),
            "frame {frame}: {:?} lacks {message:?}",
            t[&frame][0]
        );
    }
    let flagged = ws.fields(&pcap, &["-Y", "ee.malformed"], &[]);
    assert_eq!(flagged.len(), expected.len());
}
