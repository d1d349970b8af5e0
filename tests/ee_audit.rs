//! The 2026-12 audit of `ee` in real tshark, on vectors written by the
//! auditor from public sources (tests/data/ee-vectors, README there;
//! docs/ee-audit.md for the findings): retransmissions of bytes the capture
//! never saw sent, LDLC probes answered on retry, the TOS of LLC commands,
//! port roles from single ports, IBM's stall thresholds, the setup-time
//! segments and vectors, EE over IPv6.  Each test failed before its fix
//! (the decode checks passed, and are kept as independent vectors).

mod common;
mod ee_support;

use ee_support::{matching, plugin, rtp_table, vector};

/// A resend of bytes the capture never saw sent (lost before the capture
/// point, or sent before the capture started), after the partner's status
/// reported them not received, is a retransmission: it was "out of order"
/// and missing from the retransmission columns.
#[test]
fn a_resend_the_status_asked_for_is_a_retransmission_though_unseen_before() {
    let ws = plugin();
    let file = vector(&ws, "resend-uncaptured");
    for passes in [&[][..], &["-2"][..]] {
        let t = ws.fields(
            &file,
            passes,
            &[
                "ee.analysis.retransmission",
                "ee.analysis.retransmission_requested",
                "ee.analysis.resend_count",
                "ee.analysis.out_of_order",
            ],
        );
        assert_eq!(t[&4], ["", "3", "1", ""], "receiver side");
        assert_eq!(t[&8], ["", "7", "1", ""], "sender side");
        assert!(t.values().all(|row| row[3].is_empty()), "{t:?}");
        assert_eq!(
            matching(&ws, &file, passes, "ee.expert.retransmission"),
            [4, 8]
        );
    }
    let rows = rtp_table(&ws, &file, &[]);
    assert_eq!(rows.len(), 2);
    let cells = |row: usize, names: &[&str]| -> Vec<String> {
        names.iter().map(|n| rows[row][*n].clone()).collect()
    };
    let counts = [
        "Retrans A>B",
        "Gaps",
        "Out of order",
        "Msgs A>B",
        "Priority",
    ];
    assert_eq!(cells(0, &counts), ["1", "1", "0", "3", "high"]);
    assert_eq!(cells(1, &counts), ["1", "0", "0", "2", "medium"]);
}

/// EEVERIFY-like TEST probes: a command lost and answered on its retry is
/// not a blocked port (note, not the warning); the port whose command and
/// retry go unanswered is.  TEST commands carry the signalling TOS on every
/// port (RFC 2584: LLC commands are a traffic type of their own): no note.
#[test]
fn an_ldlc_probe_answered_on_retry_is_not_a_blocked_port() {
    let ws = plugin();
    let file = vector(&ws, "probe-retry");
    let two = ["-2"];
    assert_eq!(
        matching(&ws, &file, &two, "ee.expert.ldlc_unanswered"),
        [6, 11]
    );
    assert_eq!(matching(&ws, &file, &two, "ee.expert.ldlc_lost"), [3]);
    let t = ws.fields(
        &file,
        &two,
        &[
            "ee.ldlc.unanswered",
            "ee.ldlc.answered_on_retry",
            "ee.ldlc.retry_of",
            "ee.ldlc.response_to",
        ],
    );
    assert_eq!(t[&3], ["1", "10", "", ""]);
    assert_eq!(t[&9], ["", "", "3", ""]);
    assert_eq!(t[&10], ["", "", "", "9"]);
    assert_eq!(t[&11], ["1", "", "6", ""]);
    assert_eq!(
        matching(&ws, &file, &two, "ee.expert.tos"),
        Vec::<u32>::new()
    );
    assert_eq!(matching(&ws, &file, &two, "ee.ip.tos == 0xc0").len(), 11);
}

/// Five single ports typed one by one in `ee.udp.port` are one run of five
/// ports: 12002 is the high priority port (it was "signalling", and its
/// transmission priority was not checked).
#[test]
fn single_ports_listed_one_by_one_keep_their_roles() {
    let ws = plugin();
    let file = vector(&ws, "mid-capture");
    let prefs = ["-o", "ee.udp.port:12000,12001,12002,12003,12004"];
    let t = ws.fields(&file, &prefs, &["ee.port_role", "ee.port_base"]);
    assert!(
        t.values()
            .all(|row| row[0] == "high priority" && row[1] == "12000"),
        "{t:?}"
    );
    // Frame 9: priority low on the high port, as with the range.
    assert_eq!(matching(&ws, &file, &prefs, "ee.expert.priority"), [9]);
}

/// IBM IST2245I: the 6th retransmission, at least 10 s after the first.
/// The 5th (8 s) is no stall, the 6th exactly 10 s after the first is;
/// the status acknowledging the bytes relieves it (IST2247I).
#[test]
fn a_stall_starts_at_ibms_thresholds() {
    let ws = plugin();
    let file = vector(&ws, "stall-boundary");
    let t = ws.fields(
        &file,
        &[],
        &[
            "ee.analysis.resend_count",
            "ee.analysis.stall_resends",
            "ee.analysis.stall_time",
            "ee.analysis.stall_first",
        ],
    );
    assert_eq!(t[&12][..2], ["5", ""]);
    assert_eq!(t[&14], ["6", "6", "10.000000000", "4"]);
    assert_eq!(t[&16], ["7", "7", "12.000000000", "4"]);
    assert_eq!(matching(&ws, &file, &[], "ee.expert.stall"), [14, 16]);
    assert_eq!(
        matching(&ws, &file, &[], "ee.analysis.stall_relieved == 14"),
        [18]
    );
    let rows = rtp_table(&ws, &file, &[]);
    let row = &rows[0];
    let got: Vec<&str> = [
        "Retrans A>B",
        "Rexmit % A>B",
        "Retrans B>A",
        "Stalls",
        "Msgs A>B",
        "Status RTTs",
        "State",
    ]
    .iter()
    .map(|n| row[*n].as_str())
    .collect();
    // 7 of A's 9 NLPs were resends (IBM IST2249I's retransmit rate).
    assert_eq!(got, ["7", "77.8", "0", "1", "2", "8", "active"]);
}

/// Connection setup, connection identifier exchange, switching
/// information with an embedded vector and a TG descriptor, ARB setup,
/// path switch and deactivation, laid out as Wireshark reads them (the
/// values are the auditor's; tests/ee_differential.rs compares every field
/// both decode).
#[test]
fn setup_time_segments_and_vectors_decode_as_laid_out() {
    let ws = plugin();
    let file = vector(&ws, "rtp-setup");
    let names = [
        "ee.setup.version",
        "ee.setup.arb",
        "ee.cv.key",
        "ee.cv.hpr_key",
        "ee.cv.netaddr.ptp",
        "ee.cv.network_id",
        "ee.cv.name",
        "ee.cie.tcid",
        "ee.switch.max_packet",
        "ee.switch.path_switch_time",
        "ee.switch.alive_timer",
        "ee.switch.rr.count",
        "ee.cv.tg.number",
        "ee.cv.tg.partner",
        "ee.arb.type",
        "ee.arb.mode",
        "ee.arb.field",
        "ee.oob.bits",
    ];
    let t = ws.fields(&file, &[], &names);
    let want = [
        "0x0101",
        "1",
        "0x05,0x0e,0x0e,0x46",
        "0x03,0x26",
        "1",
        "NETA",
        "NETA.CPA1,NETA.CPB1",
        "0xa1a1a1a1a1a1a1a1",
        "1472",
        "120",
        "10000",
        "1",
        "21",
        "NETA.CPB1",
        "0",
        "1",
        "256,512,768,1024",
        "",
    ];
    for ((name, got), want) in names.iter().zip(&t[&1]).zip(want) {
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(t[&2][7], "0xb1b1b1b1b1b1b1b1");
    assert_eq!(
        (t[&5][17].as_str(), t[&6][17].as_str()),
        ("0x0001", "0x8000")
    );
    assert_eq!(matching(&ws, &file, &[], "ee.analysis.path_switch"), [4]);
    let rows = rtp_table(&ws, &file, &[]);
    assert_eq!(rows.len(), 1);
    let got: Vec<&str> = ["State", "Path switches", "ARB mode", "Priority"]
        .iter()
        .map(|n| rows[0][*n].as_str())
        .collect();
    assert_eq!(got, ["deactivated", "1", "responsive", "network"]);
}

/// EE over IPv6: the traffic class is checked like the IPv4 TOS; XID3
/// with HIS's product identifier bytes, XID_DONE_RQ/RSP, a Route Setup.
#[test]
fn ee_over_ipv6_is_decoded_and_its_traffic_class_checked() {
    let ws = plugin();
    let file = vector(&ws, "ipv6-ldlc");
    let t = ws.fields(
        &file,
        &[],
        &[
            "ee.ip.tos",
            "ee.xid.idnum",
            "ee.cv.product_level",
            "ee.cv.product_text",
            "ee.nhdr.frh",
            "ee.gds.id",
        ],
    );
    assert_eq!(
        t[&1],
        ["0xc0", "0x00000001", "V02 R00 M00", "0000000", "", ""]
    );
    assert_eq!((t[&3][4].as_str(), t[&4][4].as_str()), ("0x03", "0x04"));
    assert_eq!((t[&5][0].as_str(), t[&6][0].as_str()), ("0x20", "0x80"));
    assert_eq!(t[&7][5], "0x12ce");
    assert_eq!(matching(&ws, &file, &[], "ee.expert.tos"), [6]);
    assert_eq!(matching(&ws, &file, &[], "ee.ldlc.response_to == 1"), [2]);
}
