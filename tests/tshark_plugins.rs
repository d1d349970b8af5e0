//! The built plugins loaded into the real tshark: registration as Wireshark
//! reports it (-G plugins, protocols, fields, defaultprefs, currentprefs) and
//! the `ee` decode of a small capture.

mod common;

use common::{pcap_from_hex, release_plugins, rows, Wireshark};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn wireshark() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

/// The `-G` line whose `column`-th tab-separated column equals `key`.
fn g_line(output: &str, column: usize, key: &str) -> Vec<String> {
    rows(output)
        .into_iter()
        .find(|cols| cols.get(column).map(|c| c.trim()) == Some(key))
        .unwrap_or_else(|| panic!("no line with {key:?} in column {column}"))
}

#[test]
fn both_plugins_are_listed_with_version_and_type() {
    let ws = wireshark();
    let out = ws.tshark_ok(&["-G", "plugins"]);
    for (file, kind, dir) in [
        ("pktmatch.so", "dissector", "epan"),
        ("ctrace.so", "file type", "wiretap"),
    ] {
        let line = g_line(&out, 0, file);
        assert_eq!(line[1].trim(), VERSION, "{line:?}");
        assert_eq!(line[2].trim(), kind, "{line:?}");
        let path = format!("plugins/{}/{dir}/{file}", common::ABI);
        assert!(line[3].ends_with(&path), "{line:?}");
    }
}

#[test]
fn protocols_are_registered_under_their_names() {
    let out = wireshark().tshark_ok(&["-G", "protocols"]);
    // Name, short name, filter name; 4.4+ add flag columns after these.
    let protocol = |filter: &str| g_line(&out, 2, filter)[..3].to_vec();
    let pktmatch = [
        "Packet matching across capture points",
        "pktmatch",
        "pktmatch",
    ];
    assert_eq!(protocol("pktmatch"), pktmatch);
    assert_eq!(
        protocol("ee"),
        ["Enterprise Extender (SNA/HPR over UDP)", "EE", "ee"]
    );
    let ctrace = [
        "z/OS Communications Server component trace record",
        "CTRACE",
        "ctrace",
    ];
    assert_eq!(protocol("ctrace"), ctrace);
}

#[test]
fn fields_are_registered_with_their_types() {
    let out = wireshark().tshark_ok(&["-G", "fields"]);
    let field = |abbrev: &str| g_line(&out, 2, abbrev);
    // The peer's frame number in its own capture is a plain number; a
    // frame link (FT_FRAMENUM) only points into a merged capture.
    let peer_frame = field("pktmatch.peer_frame");
    assert_eq!(
        &peer_frame[..5],
        [
            "F",
            "Peer frame",
            "pktmatch.peer_frame",
            "FT_UINT32",
            "pktmatch"
        ]
    );
    assert_eq!(field("pktmatch.peer_link")[3], "FT_FRAMENUM");
    assert_eq!(field("pktmatch.peer_point")[3], "FT_STRING");
    let format_id = field("ctrace.format_id");
    assert_eq!(&format_id[3..6], ["FT_UINT32", "ctrace", "BASE_HEX"]);
    let dsap = field("ee.llc.dsap");
    assert_eq!(&dsap[3..6], ["FT_UINT8", "ee", "BASE_HEX"]);
    for expert in [
        "pktmatch.internal_error",
        "ee.internal_error",
        "ctrace.internal_error",
        "ee.malformed",
    ] {
        assert_eq!(field(expert)[3], "FT_NONE", "{expert}");
    }
    for prefix in ["pktmatch.", "ctrace.", "ee."] {
        let count = rows(&out)
            .iter()
            .filter(|c| c[0] == "F" && c[2].starts_with(prefix))
            .count();
        assert!(count >= 2, "{prefix}: {count} fields");
    }
}

/// Asserts that every line in `expected` is a whole line of `output`.
fn assert_has_lines(output: &str, expected: &[&str]) {
    for line in expected {
        assert!(output.lines().any(|l| l == *line), "missing {line:?}");
    }
}

#[test]
fn preferences_have_their_defaults() {
    let out = wireshark().tshark_ok(&["-G", "defaultprefs"]);
    let defaults = [
        "#pktmatch.index: ",
        "#ee.llc_handoff: FALSE",
        "#ee.sna_biu: TRUE",
        "#ctrace.tod_leap_seconds: 0",
    ];
    assert_has_lines(&out, &defaults);
}

#[test]
fn preferences_round_trip_through_the_preferences_file() {
    let ws = wireshark();
    let set = [
        "pktmatch.index: /srv/session.pktmatch",
        "ee.llc_handoff: TRUE",
        "ctrace.tod_leap_seconds: 27",
    ];
    ws.write_preferences(&(set.join("\n") + "\n"));
    assert_has_lines(&ws.tshark_ok(&["-G", "currentprefs"]), &set);
}

#[test]
fn ee_decodes_the_llc_header_and_can_hand_back_to_wiresharks_llc() {
    let ws = wireshark();
    let dir = tempdir();
    let pcap = ws.add_file(&pcap_from_hex(
        "synthetic-ee-ldlc.hex",
        (12000, 12000),
        &dir,
    ));
    let fields = [
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "ee.port_role",
        "-e",
        "ee.llc.dsap",
        "-e",
        "ee.llc.ssap",
        "-e",
        "ee.llc.control",
        "-e",
        "ee.llc.command",
        "-e",
        "llc.dsap",
        "-e",
        "_ws.expert.message",
    ];
    let mut args = vec!["-r", &pcap, "-o", "ee.llc_handoff:TRUE"];
    args.extend(fields);
    let out = rows(&ws.tshark_ok(&args));
    assert_eq!(
        out[0],
        [
            "1",
            "signalling",
            "0x04",
            "0x04",
            "0xe3",
            "TEST",
            "0x04",
            ""
        ]
    );
    assert_eq!(
        out[1],
        [
            "2",
            "signalling",
            "0x04",
            "0x05",
            "0xf3",
            "TEST",
            "0x04",
            ""
        ]
    );
    assert_eq!(
        out[2],
        [
            "3",
            "signalling",
            "",
            "",
            "",
            "",
            "",
            "LLC header at byte 0 needs 3 bytes, only 2 present"
        ]
    );

    // By default ee decodes the datagram; Wireshark's llc decodes it too,
    // hidden: its fields are there for filters, its tree is not shown.
    let mut args = vec!["-r", &pcap];
    args.extend(fields);
    let out = rows(&ws.tshark_ok(&args));
    assert_eq!(out[0][5], "TEST");
    assert_eq!(out[0][6], "0x04", "llc.* filterable beside ee");
    let tree = ws.tshark_ok(&["-r", &pcap, "-V", "-Y", "frame.number == 1"]);
    assert!(
        !tree.contains("Logical-Link Control"),
        "llc shown although ee.llc_handoff is FALSE:\n{tree}"
    );

    // Display filters on our fields.
    let out = ws.tshark_ok(&[
        "-r",
        &pcap,
        "-Y",
        "ee.llc.ssap == 0x05",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert_eq!(out.trim(), "2");
    let out = ws.tshark_ok(&[
        "-r",
        &pcap,
        "-Y",
        "ee.malformed",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert_eq!(out.trim(), "3");
}

/// A fresh directory for generated captures.
pub fn tempdir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("captures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
