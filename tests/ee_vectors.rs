//! `ee` in real tshark on the independent vectors of tests/data/ee-vectors:
//! EE frames written by hand from public sources (HP's published XID3 dump,
//! RFC 2238, Linux-SNA's header layouts, Wireshark's packet-sna.c, IBM's
//! sense code and message documentation), not by ee-synth and not by the
//! `ee` crate (the README there names the source of every byte).  Where
//! Wireshark's own sna decodes a field it is a second oracle; with the
//! plugin installed, filters and colouring rules on `llc.*`/`sna.*` must
//! match the same frames as without it.

mod common;
mod ee_support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::Wireshark;
use ee_support::{column, frames, matching, plugin, vector};

#[test]
fn the_vectors_are_what_their_readme_says() {
    let names = ee_support::VECTORS;
    let readme =
        std::fs::read_to_string(common::repo_root().join("tests/data/ee-vectors/README.md"))
            .unwrap();
    for name in names {
        assert!(
            readme.contains(&format!("`{name}.txt`")),
            "{name} not in the README"
        );
        assert!(!frames(name).is_empty());
    }
    // HP's dump: 3 bytes of LLC, then the 84 bytes HP printed (X'54').
    let hp = frames("hp-xid3");
    assert_eq!(hp[0].payload.len(), 3 + 0x54);
    assert_eq!(hp[1].payload.len(), 3 + 0x5D);
}

/// HP's XID3 decoded as HP decodes it, and as Wireshark's sna does.
#[test]
fn hp_published_xid3_decodes_as_hp_says() {
    let ws = plugin();
    let file = vector(&ws, "hp-xid3");
    let names = [
        "ee.xid.format",
        "ee.xid.node_type",
        "ee.xid.len",
        "ee.xid.idblk",
        "ee.xid.idnum",
        "ee.xid.caps",
        "ee.xid.exchange_state",
        "ee.xid.network_node",
        "ee.xid.nonactivation",
        "ee.xid.byte10",
        "ee.xid.pacing_sender",
        "ee.xid.pacing_receiver",
        "ee.xid.pu_capabilities",
        "ee.xid.pacing_qualifier",
        "ee.xid.byte15",
        "ee.xid.tg",
        "ee.xid.dlc_type",
        "ee.xid.dlc_len",
        "ee.xid.link_flags",
        "ee.xid.abm",
        "ee.xid.station_role",
        "ee.xid.transmit_receive",
        "ee.xid.max_btu",
        "ee.xid.max_iframes",
        "ee.cv.name",
        "ee.cv.product_class",
        "ee.cv.product_level",
        "ee.cv.product_text",
    ];
    let t = ws.fields(&file, &[], &names);
    let hp: Vec<&str> = vec![
        "3",
        "2",
        "84",
        "0x00000011",
        "0x00000002",
        "0x000a",
        "2",
        "0",
        "1",
        "0xd1",
        "1",
        "1",
        "1",
        "1",
        "0x00",
        "0",
        "0x01",
        "11",
        "0x41",
        "1",
        "0",
        "1",
        "1033",
        "7",
        "APPN.MOON",
        "0x0c",
        "V06 R00 M06",
        "SNASTAR,,SNASTAR LIMITED",
    ];
    for (i, (name, want)) in names.iter().zip(&hp).enumerate() {
        assert_eq!(column(&t, 1, i), *want, "{name}");
    }
    // Wireshark's sna decodes the same XID (hidden, beside ours).
    let theirs = ws.fields(
        &file,
        &[],
        &[
            "sna.xid.type",
            "sna.xid.idnum",
            "sna.xid.type3.state",
            "sna.xid.type3.tg",
            "sna.control.0e.value",
        ],
    );
    assert_eq!(
        theirs[&1],
        ["2", "0x00000002", "0x0002", "0x00", "APPN.MOON"]
    );

    // The response: the XID negotiation error CV X'22' and the pairing.
    let t = ws.fields(
        &file,
        &[],
        &[
            "ee.cv.neg_error.byte",
            "ee.cv.neg_error.bit",
            "ee.cv.neg_error.sense",
            "ee.sense.text",
            "ee.ldlc.response_to",
            "ee.ldlc.rtt",
        ],
    );
    assert_eq!(&t[&2][..3], ["18", "0", "0x10160000"]);
    assert_eq!(t[&2][3], "XID format 3 parameter error");
    assert_eq!(t[&2][4], "1");
    assert!((t[&2][5].parse::<f64>().unwrap() - 0.007).abs() < 1e-9);
    assert_eq!(
        matching(&ws, &file, &[], "ee.expert.xid_negotiation_error"),
        [2]
    );
}

/// A capture of a long-lived pipe, no connection identifier exchange: the
/// status links the two directions, so the resend is a retransmission, its
/// network copy a duplicate, and status replies are paired.
#[test]
fn a_connection_seen_mid_way_is_linked_by_its_status() {
    let ws = plugin();
    let file = vector(&ws, "mid-capture");
    let names = [
        "ee.rtp.stream",
        "ee.analysis.pairing",
        "ee.analysis.pairing_frame",
        "ee.analysis.retransmission",
        "ee.analysis.resend_count",
        "ee.analysis.duplicate",
        "ee.analysis.status_reply_to",
        "ee.analysis.status_time",
        "ee.analysis.missing_begin",
        "ee.arb.mode",
    ];
    for passes in [&[][..], &["-2"][..]] {
        let t = ws.fields(&file, passes, &names);
        assert!(t.values().all(|row| row[0] == "0"), "one connection: {t:?}");
        assert_eq!(&t[&4][1..3], ["2", "4"], "linked by B's status in frame 4");
        assert_eq!(&t[&5][3..6], ["2", "1", ""], "resend after a status");
        assert_eq!(t[&6][5], "5", "the copy with no status between");
        assert_eq!(t[&6][3], "");
        assert_eq!(&t[&4][6..9], ["3", "0.004000000", "1048592"]);
        assert_eq!(&t[&8][6..8], ["7", "0.005000000"]);
        assert_eq!(t[&8][9], "1", "responsive mode ARB");
    }
    // On later passes the frames before the link say how it was made.
    let t = ws.fields(&file, &["-2"], &["ee.analysis.pairing_frame"]);
    assert_eq!(t[&1], ["4"]);

    // The negative response's sense, with its meaning.
    let t = ws.fields(&file, &[], &["ee.ru.sense", "ee.sense.text"]);
    assert_eq!(t[&9], ["0x08010000", "resource not available"]);
    assert_eq!(
        matching(&ws, &file, &[], "ee.expert.negative_response"),
        [9]
    );
    // Frame 9 has priority low and TOS 00 on the high priority port.
    assert_eq!(matching(&ws, &file, &[], "ee.expert.priority"), [9]);
    assert_eq!(matching(&ws, &file, &[], "ee.expert.tos"), [9]);
    let t = ws.fields(
        &file,
        &[],
        &["ee.ip.tos", "ee.ip.tos_expected", "ee.nhdr.tpf_expected"],
    );
    assert_eq!(t[&9], ["0x00", "0x80", "2"]);
    assert_eq!(t[&1], ["0x80", "0x80", ""]);
}

/// IBM's published colouring rule and other llc/sna filters select the same
/// frames with the plugin installed as without it.
#[test]
fn filters_and_colouring_rules_on_llc_and_sna_match_as_without_the_plugin() {
    let with = plugin();
    let without = Wireshark::without_plugins();
    let synth_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ee-vectors-synth-{}", std::process::id()));
    let written = ee_synth::generate(&synth_dir).unwrap();
    const IBM_RULE: &str = "sna.nlp.thdr.offset eq 13 and sna.nlp.thdr.dlf eq 0";
    let filters = [
        IBM_RULE,
        "llc",
        "llc.dsap == 0x04",
        "llc.control == 0xf3",
        "sna.nlp.thdr.sri == 1",
        "sna.nlp.thdr.optional.type == 0x0e",
        "sna.nlp.nhdr.sm == 6",
        "sna.xid.format == 3",
        "sna.th.fid == 5",
        "sna.control.0e.value contains \"MOON\"",
        "sna.nlp.thdr.optional.12.sense",
    ];
    let mut files = vec![];
    for name in ee_support::VECTORS {
        files.push((
            name.to_string(),
            vector(&with, name),
            vector(&without, name),
        ));
    }
    for (path, _) in &written.captures {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, with.add_file(path), without.add_file(path)));
    }
    let reassembled: Vec<Vec<u32>> = files
        .iter()
        .map(|(_, with_file, _)| matching(&with, with_file, &[], "ee.message.length"))
        .collect();
    let mut ibm_rule_frames = 0;
    for filter in filters {
        let mut total = 0;
        for ((name, with_file, without_file), reassembled) in files.iter().zip(&reassembled) {
            let theirs = matching(&without, without_file, &[], filter);
            let ours = matching(&with, with_file, &[], filter);
            // Every frame Wireshark alone matches; beyond them only frames
            // where ee reassembled a message whose BIU sna then decodes.
            let extra: Vec<u32> = ours
                .iter()
                .filter(|f| !theirs.contains(f))
                .copied()
                .collect();
            assert!(
                theirs.iter().all(|f| ours.contains(f))
                    && extra.iter().all(|f| reassembled.contains(f)),
                "{filter} on {name}: with the plugin {ours:?}, without {theirs:?}"
            );
            if filter == IBM_RULE {
                assert_eq!(ours, theirs, "IBM's rule on {name}");
            }
            total += theirs.len();
            if filter == IBM_RULE {
                ibm_rule_frames += theirs.len();
            }
        }
        assert!(
            total > 0,
            "{filter} matches nothing anywhere: a test of nothing"
        );
    }
    assert_eq!(ibm_rule_frames, 1, "the status + ARB reply of mid-capture");

    // The same rule as a colouring rule of the profile (tshark --color).
    for ws in [&with, &without] {
        std::fs::write(
            ws.config_dir().join("colorfilters"),
            format!("@IBM RTP status+ARB@{IBM_RULE}@[0,0,0][65535,65535,0]\n"),
        )
        .unwrap();
    }
    let coloured = |ws: &Wireshark, file: &str| -> Vec<u32> {
        ws.fields(file, &["--color"], &["frame.coloring_rule.name"])
            .into_iter()
            .filter(|(_, row)| row[0] == "IBM RTP status+ARB")
            .map(|(frame, _)| frame)
            .collect()
    };
    let (_, with_file, without_file) = files
        .iter()
        .find(|(name, _, _)| name == "mid-capture")
        .unwrap();
    assert_eq!(coloured(&with, with_file), [8]);
    assert_eq!(coloured(&without, without_file), [8]);
}

#[test]
fn a_stall_is_flagged_with_count_and_time_and_relieved() {
    let ws = plugin();
    let file = vector(&ws, "stall");
    let t = ws.fields(
        &file,
        &[],
        &[
            "ee.analysis.resend_count",
            "ee.analysis.stall",
            "ee.analysis.stall_resends",
            "ee.analysis.stall_time",
            "ee.analysis.stall_first",
            "ee.analysis.stall_relieved",
        ],
    );
    let resends: Vec<(u32, String)> = t
        .iter()
        .filter(|(_, row)| !row[0].is_empty())
        .map(|(f, row)| (*f, row[0].clone()))
        .collect();
    let expected: Vec<(u32, String)> = (1..=7).map(|n| (1 + 2 * n, n.to_string())).collect();
    assert_eq!(resends, expected);
    let stalls: Vec<u32> = t
        .iter()
        .filter(|(_, r)| r[1] == "1")
        .map(|(f, _)| *f)
        .collect();
    assert_eq!(
        stalls,
        [13, 15],
        "from the 6th resend, 14 s after the first"
    );
    assert_eq!(&t[&13][2..5], ["6", "14.000000000", "3"]);
    assert_eq!(&t[&15][2..5], ["7", "17.000000000", "3"]);
    assert_eq!(t[&16][5], "13", "the acknowledging status relieves it");
    let out = ws.tshark_ok(&["-r", &file, "-q", "-z", "expert,ee.expert.stall"]);
    assert!(out.contains("IST2245I"), "{out}");
    assert_eq!(matching(&ws, &file, &[], "ee.expert.stall_relieved"), [16]);
}

#[test]
fn ldlc_probes_are_paired_per_port_and_an_unanswered_one_is_flagged() {
    let ws = plugin();
    let file = vector(&ws, "eeverify");
    let names = [
        "udp.dstport",
        "ee.ldlc.response_to",
        "ee.ldlc.rtt",
        "ee.ldlc.retry_of",
        "ee.ldlc.unanswered",
    ];
    let one = ws.fields(&file, &[], &names);
    let two = ws.fields(&file, &["-2"], &names);
    // Responses on 12000, 12001, 12002 and (to the retry) 12003.
    for (frame, command, rtt) in [
        (2, "1", "0.004"),
        (4, "3", "0.006"),
        (6, "5", "0.005"),
        (10, "9", "0.006"),
    ] {
        assert_eq!(one[&frame][1], command, "frame {frame}");
        assert!(
            (one[&frame][2].parse::<f64>().unwrap() - rtt.parse::<f64>().unwrap()).abs() < 1e-9
        );
    }
    assert_eq!((one[&9][3].as_str(), one[&11][3].as_str()), ("7", "8"));
    // A retry shows its predecessor unanswered once the retry is seen; the
    // last probe of port 12004, once the capture has been read (-2).
    assert_eq!(two[&7][4], "1");
    assert_eq!(two[&8][4], "1");
    assert_eq!(one[&11][4], "");
    assert_eq!(two[&11][4], "1");
    assert_eq!(two[&1][4], "");
    // The warning (a blocked port, as EEVERIFY reports) only where no retry
    // was answered either: port 12004.  Port 12003's first command got no
    // response but its retry did (a note; before 2026-12 it had the warning).
    let unanswered = matching(&ws, &file, &["-2"], "ee.expert.ldlc_unanswered");
    assert_eq!(unanswered, [8, 11]);
    let ports: BTreeSet<&str> = unanswered.iter().map(|f| two[f][0].as_str()).collect();
    assert_eq!(ports, BTreeSet::from(["12004"]));
    assert_eq!(matching(&ws, &file, &["-2"], "ee.expert.ldlc_lost"), [7]);
    assert_eq!(
        matching(&ws, &file, &["-2"], "ee.ldlc.answered_on_retry == 10"),
        [7]
    );
}

#[test]
fn protocol_violations_ibm_enforces_get_their_sense_code() {
    let ws = plugin();
    let file = vector(&ws, "violations");
    let t = ws.fields(&file, &[], &["ee.violation.sense"]);
    assert_eq!(t[&2], ["0xa019ff0d"], "setup from the listening partner");
    assert_eq!(t[&3], ["0xa01aff0e"], "two status segments");
    assert_eq!(t[&4], ["0xa0180503"], "CV 03 longer than CV 05");
    assert_eq!((t[&1][0].as_str(), t[&5][0].as_str()), ("", ""));
    assert_eq!(matching(&ws, &file, &[], "ee.expert.violation"), [2, 3, 4]);
    // The connection fault that reports frame 3, with its meaning.
    let t = ws.fields(&file, &[], &["ee.fault.sense", "ee.sense.text"]);
    assert_eq!(t[&6][0], "0xa01aff0e");
    assert!(
        t[&6][1].ends_with("more than one Status (X'0E')"),
        "{}",
        t[&6][1]
    );
    // CV X'83' longer than 16 bytes: the vector embedded after byte 16.
    let t = ws.fields(
        &file,
        &[],
        &[
            "ee.switch.cv_len",
            "ee.cv.key",
            "ee.cv.name",
            "ee.switch.max_packet",
        ],
    );
    assert_eq!(t[&5], ["28,4", "0x0e", "APPN.MOON", "1461"]);
    // Wireshark's sna decodes the same CV X'83' (its length is over 16).
    let theirs = ws.fields(
        &file,
        &[],
        &[
            "sna.nlp.thdr.optional.14.si.len",
            "sna.nlp.thdr.optional.14.si.maxpsize",
            "sna.control.key",
        ],
    );
    assert_eq!(theirs[&5], ["28", "1461", "0x0e"]);
}

#[test]
fn anr_labels_are_split_only_where_a_node_showed_their_length() {
    let ws = plugin();
    let file = vector(&ws, "anr-labels");
    let names = [
        "ee.nhdr.labels",
        "ee.nhdr.anr_label",
        "ee.nhdr.anr_label_source",
        "ee.nhdr.anr_unknown",
    ];
    let one = ws.fields(&file, &[], &names);
    // First pass, frame 1: nothing says where a label ends.
    assert_eq!(
        one[&1],
        ["01020304050607088015", "", "", "01020304050607088015"]
    );
    // Frame 2 is the same packet beyond the node: 8 bytes fewer.
    assert_eq!(one[&3][1], "0102030405060708");
    assert_eq!(one[&3][2], "the same packet in frames 1 and 2");
    assert_eq!(one[&3][3], "8015");
    assert_eq!(one[&2], ["8015", "", "", "8015"]);
    let two = ws.fields(&file, &["-2"], &names);
    assert_eq!(two[&1][1], "0102030405060708");
    let by_label = matching(
        &ws,
        &file,
        &["-2"],
        "ee.nhdr.anr_label == 01:02:03:04:05:06:07:08",
    );
    assert_eq!(by_label, [1, 3]);
    // A label length the user knows splits every field.
    let fixed = ws.fields(
        &file,
        &["-o", "ee.anr_label_length:2"],
        &["ee.nhdr.anr_label"],
    );
    assert_eq!(fixed[&2], ["8015"]);
    assert_eq!(fixed[&1], ["0102,0304,0506,0708,8015"]);
}

#[test]
fn a_moved_base_port_gives_the_port_roles() {
    let ws = plugin();
    let file = vector(&ws, "base-port");
    // Not an EE port by default.
    assert!(matching(&ws, &file, &[], "ee").is_empty());
    let prefs = [
        "-o",
        "ee.udp.port:21000-21004",
        "-o",
        "ee.iptos:B8 B8 88 48 28",
    ];
    let t = ws.fields(
        &file,
        &prefs,
        &["ee.port_role", "ee.port_base", "ee.ip.tos_expected"],
    );
    assert_eq!(t[&1], ["signalling", "21000", "0xb8"]);
    assert_eq!(t[&3], ["high priority", "21000", "0x88"]);
    assert_eq!(matching(&ws, &file, &prefs, "ee.expert.priority"), [4]);
    assert_eq!(matching(&ws, &file, &prefs, "ee.expert.tos"), [4]);
}

/// A PDML field: name, position, size, and its children.
#[derive(Debug)]
struct Node {
    name: String,
    pos: usize,
    size: usize,
    hide: bool,
    children: Vec<Node>,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

/// The `ee` protocol element of each packet of a PDML document.
fn pdml_ee(pdml: &str) -> Vec<Node> {
    let mut packets = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    for line in pdml.lines() {
        let line = line.trim();
        if line.starts_with("<proto ") || line.starts_with("<field ") {
            let node = Node {
                name: attribute(line, "name").unwrap_or_default(),
                pos: attribute(line, "pos")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                size: attribute(line, "size")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                hide: attribute(line, "hide").is_some_and(|v| v == "yes"),
                children: Vec::new(),
            };
            if line.ends_with("/>") {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            } else {
                stack.push(node);
            }
        } else if line == "</field>" || line == "</proto>" {
            let node = stack.pop().expect("balanced PDML");
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None if node.name == "ee" => packets.push(node),
                None => {}
            }
        }
    }
    packets
}

/// Every visible `ee.*` item lies within its parent's bytes.
fn check_ranges(node: &Node, problems: &mut Vec<String>) {
    for child in &node.children {
        let in_parent = child.pos >= node.pos && child.pos + child.size <= node.pos + node.size;
        let ours = child.name.starts_with("ee.") && node.size > 0 && child.size > 0;
        if ours && !child.hide && !in_parent {
            problems.push(format!(
                "{} [{}+{}] outside {} [{}+{}]",
                child.name, child.pos, child.size, node.name, node.pos, node.size
            ));
        }
        check_ranges(child, problems);
    }
}

fn find<'a>(node: &'a Node, name: &str, out: &mut Vec<&'a Node>) {
    for child in &node.children {
        if child.name == name {
            out.push(child);
        }
        find(child, name, out);
    }
}

/// A click on an item highlights exactly its bytes: every item inside its
/// parent, a segment from its length byte to its last byte, a length-first
/// vector from its length byte; no `<MISSING>`; TH and RH shown once.
#[test]
fn tree_items_cover_exactly_their_bytes() {
    let ws = plugin();
    let mut problems = Vec::new();
    for name in ee_support::VECTORS {
        let file = vector(&ws, name);
        let pdml = ws.tshark_ok(&["-r", &file, "-T", "pdml"]);
        for packet in pdml_ee(&pdml) {
            check_ranges(&packet, &mut problems);
        }
        let text = ws.tshark_ok(&["-r", &file, "-V"]);
        assert!(!text.contains("<MISSING>"), "{name}: <MISSING> in the tree");
        assert!(!text.contains("Dissector bug"), "{name}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let file = vector(&ws, "violations");
    let packets = pdml_ee(&ws.tshark_ok(&["-r", &file, "-T", "pdml"]));
    // Frame 1: UDP payload at 42 (Ethernet 14, IPv4 20, UDP 8); NHDR 6
    // bytes from 45; THDR from 51; segment 0D from 71 (28 bytes), its
    // CV 05 from 79 (20 bytes, length byte first), segment 10 from 99 (12).
    let mut segments = Vec::new();
    find(&packets[0], "ee.seg", &mut segments);
    let ranges: Vec<(usize, usize)> = segments.iter().map(|s| (s.pos, s.size)).collect();
    assert_eq!(ranges, [(71, 28), (99, 12)]);
    let mut vectors = Vec::new();
    find(&packets[0], "ee.cv", &mut vectors);
    assert_eq!((vectors[0].pos, vectors[0].size), (79, 20));
    let mut lengths = Vec::new();
    find(vectors[0], "ee.cv.len", &mut lengths);
    assert_eq!((lengths[0].pos, lengths[0].size), (79, 1));

    // The FID5 TH and RH appear once: sna's, ours hidden (filterable).
    let file = vector(&ws, "mid-capture");
    let frame1 = ws.tshark_ok(&["-r", &file, "-V", "-Y", "frame.number == 1"]);
    let headers = |label: &str| frame1.lines().filter(|l| l.trim() == label).count();
    assert_eq!(headers("Transmission Header"), 1, "{frame1}");
    assert_eq!(headers("Request/Response Header"), 1, "{frame1}");
    assert!(!frame1.contains("FID5 transmission header"));
    assert_eq!(
        matching(&ws, &file, &[], "ee.th.snf == 1 && sna.th.snf == 1"),
        [1, 9]
    );
}

#[test]
fn z_ee_rtp_prints_one_row_per_connection() {
    let ws = plugin();
    let file = vector(&ws, "mid-capture");
    let out = ws.tshark_ok(&["-r", &file, "-q", "-z", "ee,rtp"]);
    let header = out.lines().find(|l| l.starts_with("Conn ")).expect(&out);
    let columns: Vec<&str> = header.split('|').map(str::trim).collect();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    let cell = |name: &str| rows[0][columns.iter().position(|c| *c == name).expect(name)];
    assert_eq!(cell("Endpoint A"), "192.0.2.1:12002");
    assert_eq!(cell("TCID A>B"), "B5B5B5B5B5B50001");
    assert_eq!(cell("Endpoint B"), "198.51.100.2:12002");
    assert_eq!(cell("TCID B>A"), "A5A5A5A5A5A50001");
    assert_eq!(cell("Priority"), "high");
    assert_eq!(cell("ARB mode"), "responsive");
    // Seven NLPs, five messages: frames 5 and 6 carry frame 2's message
    // again (a retransmission and its copy); before 2026-12 each counted.
    assert_eq!(
        (cell("NLPs A>B"), cell("Bytes A>B"), cell("Msgs A>B")),
        ("7", "112", "5")
    );
    assert_eq!(
        (cell("NLPs B>A"), cell("Bytes B>A"), cell("Msgs B>A")),
        ("3", "19", "1")
    );
    assert_eq!(
        (cell("Retrans A>B"), cell("Dups"), cell("Gaps")),
        ("1", "1", "0")
    );
    // Per direction, as HPRDIAG: 1 of A's 7 NLPs resent, none of B's.
    assert_eq!(
        (
            cell("Rexmit % A>B"),
            cell("Retrans B>A"),
            cell("Rexmit % B>A")
        ),
        ("14.3", "0", "0.0")
    );
    assert_eq!(cell("Status RTTs"), "2");
    assert_eq!(
        (cell("RTT min ms"), cell("RTT avg ms"), cell("RTT max ms")),
        ("4.000", "4.500", "5.000")
    );
    // A tap filter counts only the packets it lets through.
    let out = ws.tshark_ok(&["-r", &file, "-q", "-z", "ee,rtp,frame.number<=4"]);
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with('0'))
        .expect(&out);
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(
        cells[columns.iter().position(|c| *c == "NLPs A>B").unwrap()],
        "3"
    );

    let stall = vector(&ws, "stall");
    let out = ws.tshark_ok(&["-r", &stall, "-q", "-z", "ee,rtp"]);
    assert!(
        out.lines().any(|l| l.trim_end().ends_with("|     1 |")),
        "one stall:\n{out}"
    );
    let help = ws.tshark(&["-z", "help"]);
    let listed = String::from_utf8_lossy(&help.stderr);
    assert!(listed.lines().any(|l| l.trim() == "ee,rtp"), "{listed}");
}
