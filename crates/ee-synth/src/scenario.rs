//! The two generated captures, step by step.  Frame numbers in comments are
//! those the steps produce; the truth events are recorded as each packet is
//! written (see rtp::Connection::emit) or, for the data-ordering events,
//! right here where the scenario arranges them.

use crate::capture::{node_a, node_b, Capture, Node};
use crate::layout::{self, arb, ebcdic, llc, nhdr, segment, thdr, Xid3};
use crate::rtp::{self, Connection, Dir, Ends, Segment, Spec};

/// LLC (signal) port: XID, TEST, DISC/DM and the LDLC NLPs.
pub const PORT_SIGNAL: u16 = 12000;
/// Network-priority port: the route setup connection.
pub const PORT_NETWORK: u16 = 12001;
/// High-priority port: the session connection.
pub const PORT_HIGH: u16 = 12002;

/// TCIDs: X_A* are chosen by A (B->A packets carry them), X_B* by B.
pub const TCID_A_ROUTE: u64 = 0xA0A0_0000_0000_0010;
pub const TCID_B_ROUTE: u64 = 0xB0B0_0000_0000_0010;
pub const TCID_A_SESSION: u64 = 0xA0A0_0000_0000_0021;
pub const TCID_B_SESSION: u64 = 0xB0B0_0000_0000_0021;

/// Connection fault sense code put in the 0x12 segment.
pub const FAULT_SENSE: u32 = 0x8003_0004;

/// The XID3 a node sends, in the given exchange state.
pub fn xid3_of(node: &Node, partner: &Node, state: u16) -> Xid3 {
    use layout::xid3_caps::*;
    Xid3 {
        node_type: 2,
        node_id: node.node_id,
        capabilities: NETWORK_NODE | CP_CP_SESSIONS | (state << STATE_SHIFT),
        byte10: 0x80 | 0x01,
        tg_number: 21,
        dlc_type: 0x04,
        max_btu: 1461,
        max_iframes: 7,
        cp_name: node.cp_name.to_string(),
        tg_partner: partner.cp_name.to_string(),
        product_level: "020500".to_string(),
        product_name: "PKTSYNTH".to_string(),
    }
}

/// An LLC frame: header then I-field.
fn llc_frame(sap: u8, response: bool, control: u8, info: &[u8]) -> Vec<u8> {
    let mut out = layout::llc(sap, response, control).to_vec();
    out.extend_from_slice(info);
    out
}

/// XID command/response and TEST command/response on `sap`, port 12000.
fn llc_bringup(cap: &mut Capture, a: &Node, b: &Node, sap: u8, test_first: bool) {
    let pf = llc::POLL_FINAL;
    let test = |cap: &mut Capture| {
        cap.send(
            a,
            b,
            PORT_SIGNAL,
            &llc_frame(sap, false, llc::TEST | pf, &[]),
            "TEST command".into(),
        );
        cap.send(
            b,
            a,
            PORT_SIGNAL,
            &llc_frame(sap, true, llc::TEST | pf, &[]),
            "TEST response".into(),
        );
    };
    if test_first {
        test(cap);
    }
    use layout::xid3_caps::*;
    let xid_a = layout::xid3(&xid3_of(a, b, STATE_PRENEGOTIATION));
    cap.send(
        a,
        b,
        PORT_SIGNAL,
        &llc_frame(sap, false, llc::XID | pf, &xid_a),
        "XID command, XID3 of A, prenegotiation".into(),
    );
    let xid_b = layout::xid3(&xid3_of(b, a, STATE_NEGOTIATION_PROCEEDING));
    cap.send(
        b,
        a,
        PORT_SIGNAL,
        &llc_frame(sap, true, llc::XID | pf, &xid_b),
        "XID response, XID3 of B, negotiation proceeding".into(),
    );
    if !test_first {
        test(cap);
    }
}

/// A BIND-like RU: request code 0x31 then plausible BIND fields (format 0,
/// FM profile 19, TS profile 7, LU 6.2 PS profile) and the PLU name.  Only
/// the first byte is meant to be checked.
fn bind_ru() -> Vec<u8> {
    let mut ru = vec![
        0x31, 0x00, 0x13, 0x07, 0xB0, 0xB0, 0x50, 0x33, 0x07, 0x07, 0x85, 0x85, 0x00, 0x00, 0x06,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00,
    ];
    let name = ebcdic("NETA.LUA01");
    ru.push(u8::try_from(name.len()).expect("short name"));
    ru.extend(name);
    ru
}

/// Route setup GDS body: opaque here (its layout is not public); an EBCDIC
/// marker padded with zeros to `len` bytes.
fn route_setup_body(marker: &str, len: usize) -> Vec<u8> {
    let mut body = ebcdic(marker);
    body.resize(len, 0);
    body
}

/// synthetic-ee-session.pcapng: LDLC bring-up, two RTP connections and the
/// analysis events listed in the README, in that order.
pub fn session() -> Capture {
    let mut cap = Capture::new();
    let (a, b) = (node_a(), node_b());

    // 1. LDLC on UDP 12000: TEST, XID, XID-complete request/response.
    llc_bringup(&mut cap, &a, &b, llc::SAP_SNA, true);
    let ui = |frh| {
        llc_frame(
            llc::SAP_SNA,
            false,
            llc::UI,
            &layout::ldlc_nlp(nhdr::TPF_NETWORK, frh),
        )
    };
    cap.send(
        &a,
        &b,
        PORT_SIGNAL,
        &ui(nhdr::FRH_XID_COMPLETE_REQUEST),
        "LDLC NLP, FRH XID complete request".into(),
    );
    cap.send(
        &b,
        &a,
        PORT_SIGNAL,
        &ui(nhdr::FRH_XID_COMPLETE_RESPONSE),
        "LDLC NLP, FRH XID complete response".into(),
    );

    // 2. Route setup connection, stream 0, network priority.
    let mut route = Connection::new(
        0,
        PORT_NETWORK,
        nhdr::TPF_NETWORK,
        (
            a.clone(),
            Ends {
                tcid: TCID_A_ROUTE,
                labels: vec![0x80, 0x15],
                session_address: 0,
            },
        ),
        (
            b.clone(),
            Ends {
                tcid: TCID_B_ROUTE,
                labels: vec![0x80, 0x21],
                session_address: 0,
            },
        ),
    );
    let request = layout::gds(
        layout::GDS_ROUTE_SETUP,
        &route_setup_body("ROUTE SETUP REQUEST", 36),
    );
    route.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(request, "route setup request")
            .flag(thdr::SETUPI)
            .with(Segment::ConnectionSetup)
            .with(Segment::AnnounceTcid)
            .with(Segment::SwitchingInformation),
    );
    let reply = layout::gds(
        layout::GDS_ROUTE_SETUP,
        &route_setup_body("ROUTE SETUP REPLY", 28),
    );
    route.send(
        &mut cap,
        Dir::BtoA,
        Spec::message(reply, "route setup reply").with(Segment::AnnounceTcid),
    );

    // 3. Session connection, stream 1, high priority: setup with BIND.
    let mut s = Connection::new(
        1,
        PORT_HIGH,
        nhdr::TPF_HIGH,
        (
            a.clone(),
            Ends {
                tcid: TCID_A_SESSION,
                labels: vec![0x80, 0x15],
                session_address: 0x0000_0000_0001_B001,
            },
        ),
        (
            b.clone(),
            Ends {
                tcid: TCID_B_SESSION,
                labels: vec![0x80, 0x21],
                session_address: 0x0000_0000_0001_A001,
            },
        ),
    );
    let bind = s.session_control(Dir::AtoB, false, &bind_ru());
    s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(bind, "connection setup, BIND")
            .flag(thdr::SETUPI)
            .with(Segment::ConnectionSetup)
            .with(Segment::AnnounceTcid)
            .with(Segment::SwitchingInformation)
            .with(rtp::arb(
                arb::SETUP,
                arb::ACTION_NORMAL,
                (0, 0),
                vec![64_000, 1_000, 8_000, 250],
            )),
    );
    let bind_response = s.session_control(Dir::BtoA, true, &[0x31]);
    s.send(
        &mut cap,
        Dir::BtoA,
        Spec::message(bind_response, "+RSP(BIND)").with(Segment::AnnounceTcid),
    );

    // 4. Data, with a message in three packets; 5. status requests
    // answered after different delays.
    let m = s.request(Dir::AtoB, 80);
    s.send(&mut cap, Dir::AtoB, Spec::message(m, "data"));
    let m = s.request(Dir::AtoB, 150);
    s.send(&mut cap, Dir::AtoB, Spec::message(m, "data"));
    let r = s.response(Dir::BtoA);
    s.send(&mut cap, Dir::BtoA, Spec::message(r, "+RSP"));
    status_exchange(&mut cap, &mut s, 120, 3_000);

    let whole = s.request(Dir::AtoB, 620);
    let parts = [&whole[..240], &whole[240..480], &whole[480..]];
    let flags = [thdr::SOMI, 0, thdr::EOMI];
    let names = [
        "message part 1 of 3 (SOMI)",
        "message part 2 of 3",
        "message part 3 of 3 (EOMI)",
    ];
    let mut frames = Vec::new();
    for i in 0..3 {
        let spec = Spec {
            flags: flags[i],
            data: parts[i].to_vec(),
            comment: names[i].into(),
            ..Spec::default()
        };
        frames.push(s.send(&mut cap, Dir::AtoB, spec).0);
    }
    cap.event(frames[2], "message", join(&frames));
    let r = s.response(Dir::BtoA);
    s.send(&mut cap, Dir::BtoA, Spec::message(r, "+RSP"));

    status_exchange(&mut cap, &mut s, 64, 12_000);
    let m = s.request(Dir::AtoB, 90);
    s.send(&mut cap, Dir::AtoB, Spec::message(m, "data"));
    status_exchange(&mut cap, &mut s, 180, 25_000);

    // 6. Loss: a packet is not captured; the next one shows the gap; B's
    // status names the hole; A resends it (RETRYI left clear, as in every
    // packet here): the first sight of those bytes in the capture, but the
    // resend the status asked for, so a retransmission whose original is
    // not in the capture (before 2026-12 this said "out of order", the
    // decoder's assumption; docs/ee-audit.md).
    let m = s.request(Dir::AtoB, 100);
    let lost = s.prepare(Dir::AtoB, Spec::message(m, "data (never written: lost)"));
    let m = s.request(Dir::AtoB, 110);
    let (after, after_packet) = s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data after the lost packet"),
    );
    cap.event(after, "gap", lost.dlf);
    let m = s.request(Dir::AtoB, 70);
    let (_, sri_packet) = s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data, status requested").flag(thdr::SRI),
    );
    cap.delay_next(4_000);
    let st = s.status(
        Dir::BtoA,
        lost.bsn,
        vec![(after_packet.bsn, sri_packet.end())],
    );
    s.send(&mut cap, Dir::BtoA, Spec::control(vec![st], "status: gap"));
    let resent = s.emit_again(
        &mut cap,
        &lost,
        "data, resend of the packet lost before the capture point",
    );
    cap.event(resent, "retransmission", "-");
    let r = s.response(Dir::BtoA);
    s.send(&mut cap, Dir::BtoA, Spec::message(r, "+RSP"));

    // 7. Retransmission: a captured packet that B reports missing.
    let m = s.request(Dir::AtoB, 130);
    let (first_copy, missed) = s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data (lost after the capture point)"),
    );
    let m = s.request(Dir::AtoB, 60);
    let (_, next) = s.send(&mut cap, Dir::AtoB, Spec::message(m, "data"));
    let m = s.request(Dir::AtoB, 75);
    let (_, sri_packet) = s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data, status requested").flag(thdr::SRI),
    );
    cap.delay_next(9_000);
    let st = s.status(Dir::BtoA, missed.bsn, vec![(next.bsn, sri_packet.end())]);
    s.send(&mut cap, Dir::BtoA, Spec::control(vec![st], "status: gap"));
    let again = s.emit_again(
        &mut cap,
        &missed,
        "data, retransmission of the packet reported missing",
    );
    cap.event(again, "retransmission", first_copy);
    let r = s.response(Dir::BtoA);
    s.send(&mut cap, Dir::BtoA, Spec::message(r, "+RSP"));

    // 8. Out of order: two consecutive packets written swapped.
    let m = s.request(Dir::AtoB, 95);
    let earlier = s.prepare(Dir::AtoB, Spec::message(m, "data (written second)"));
    let m = s.request(Dir::AtoB, 85);
    let later = s.prepare(Dir::AtoB, Spec::message(m, "data (written first)"));
    let frame = s.emit(&mut cap, &later);
    cap.event(frame, "gap", earlier.dlf);
    let frame = s.emit(&mut cap, &earlier);
    cap.event(frame, "out_of_order", "-");

    // 9. Duplicate: a B->A packet written twice in a row.
    let r = s.request(Dir::BtoA, 66);
    let (original, packet) = s.send(&mut cap, Dir::BtoA, Spec::message(r, "data"));
    let copy = s.emit_again(&mut cap, &packet, "data, duplicate copy");
    cap.event(copy, "duplicate", original);

    // 10. ARB rate request, reply with slowdown 1, NHDR slowdown 1 bit.
    let m = s.request(Dir::AtoB, 140);
    s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data, ARB rate request").with(rtp::arb(
            arb::RATE_REQUEST,
            arb::ACTION_NORMAL,
            (1, 0),
            vec![64_000, 1_000],
        )),
    );
    let r = s.response(Dir::BtoA);
    s.send(
        &mut cap,
        Dir::BtoA,
        Spec::message(r, "+RSP, ARB rate reply slowdown 1").with(rtp::arb(
            arb::RATE_REPLY,
            arb::ACTION_SLOWDOWN1,
            (1, 1),
            vec![48_000, 1_000],
        )),
    );
    let m = s.request(Dir::AtoB, 55);
    s.send(&mut cap, Dir::AtoB, Spec::message(m, "data"));
    let r = s.response(Dir::BtoA);
    let mut slow = Spec::message(r, "+RSP, NHDR slowdown 1");
    slow.nhdr_flags = nhdr::SLOWDOWN1;
    s.send(&mut cap, Dir::BtoA, slow);

    // 11. Path switch: A->B on new ANR labels with switching information.
    s.set_labels(Dir::AtoB, vec![0x80, 0x16, 0x33]);
    let m = s.request(Dir::AtoB, 100);
    s.send(
        &mut cap,
        Dir::AtoB,
        Spec::message(m, "data on a new path").with(Segment::SwitchingInformation),
    );
    let r = s.response(Dir::BtoA);
    s.send(&mut cap, Dir::BtoA, Spec::message(r, "+RSP"));

    // 12. Connection fault on the route setup connection; deactivation of
    // the session connection; LLC DISC / DM.
    route.send(
        &mut cap,
        Dir::BtoA,
        Spec::control(
            vec![Segment::ConnectionFault(FAULT_SENSE)],
            "connection fault",
        ),
    );
    s.send(
        &mut cap,
        Dir::AtoB,
        Spec::control(
            vec![Segment::ClientOutOfBand(segment::OOB_REQUEST_DEACTIVATION)],
            "client out-of-band: request deactivation",
        ),
    );
    s.send(
        &mut cap,
        Dir::BtoA,
        Spec::control(
            vec![Segment::ClientOutOfBand(segment::OOB_REPLY_OK)],
            "client out-of-band: reply OK",
        ),
    );
    let pf = llc::POLL_FINAL;
    cap.send(
        &a,
        &b,
        PORT_SIGNAL,
        &llc_frame(llc::SAP_SNA, false, llc::DISC | pf, &[]),
        "DISC command".into(),
    );
    cap.send(
        &b,
        &a,
        PORT_SIGNAL,
        &llc_frame(llc::SAP_SNA, true, llc::DM | pf, &[]),
        "DM response".into(),
    );
    cap
}

/// A->B data with SRI, then B's status-only packet `delay_us` later
/// reporting everything received.
fn status_exchange(cap: &mut Capture, s: &mut Connection, len: usize, delay_us: u64) {
    let m = s.request(Dir::AtoB, len);
    s.send(
        cap,
        Dir::AtoB,
        Spec::message(m, "data, status requested").flag(thdr::SRI),
    );
    cap.delay_next(delay_us);
    let st = s.status(Dir::BtoA, s.next_bsn(Dir::AtoB), vec![]);
    s.send(cap, Dir::BtoA, Spec::control(vec![st], "status"));
}

fn join(frames: &[u32]) -> String {
    frames
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// synthetic-ee-sap-c8.pcapng: XID3 command/response then TEST
/// command/response on SAP 0xC8, UDP 12000.  No truth file.
pub fn sap_c8() -> Capture {
    let mut cap = Capture::new();
    llc_bringup(&mut cap, &node_a(), &node_b(), llc::SAP_C8, false);
    cap
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UDP destination port of an Ethernet/IPv4 (no options)/UDP frame.
    fn port(frame: &[u8]) -> u16 {
        u16::from_be_bytes([frame[36], frame[37]])
    }

    #[test]
    fn every_rtp_frame_has_exactly_one_stream_event() {
        let cap = session();
        for (index, frame) in cap.frames.iter().enumerate() {
            let number = u32::try_from(index + 1).unwrap();
            let streams = cap
                .truth
                .iter()
                .filter(|e| e.frame == number && e.event == "stream")
                .count();
            let rtp = port(&frame.bytes) != PORT_SIGNAL;
            assert_eq!(streams, usize::from(rtp), "frame {number}");
        }
    }

    #[test]
    fn truth_names_existing_frames_and_known_events() {
        let cap = session();
        let known = [
            "stream",
            "gap",
            "out_of_order",
            "retransmission",
            "duplicate",
            "status_reply",
            "status_missing",
            "message",
            "setup",
            "path_switch",
            "arb",
            "slowdown",
            "fault",
        ];
        for event in &cap.truth {
            assert!(event.frame >= 1 && event.frame as usize <= cap.frames.len());
            assert!(known.contains(&event.event), "{}", event.event);
            assert!(!event.value.is_empty() && !event.value.contains('\t'));
        }
        for event in [
            "gap",
            "out_of_order",
            "retransmission",
            "duplicate",
            "message",
            "fault",
        ] {
            assert!(cap.truth.iter().any(|e| e.event == event), "{event}");
        }
        let replies = cap
            .truth
            .iter()
            .filter(|e| e.event == "status_reply")
            .count();
        assert!(replies >= 3);
    }

    #[test]
    fn generation_is_deterministic_and_time_moves_forward() {
        let (one, two) = (session(), session());
        assert_eq!(one.frames.len(), two.frames.len());
        for (x, y) in one.frames.iter().zip(&two.frames) {
            assert_eq!((x.time_ns, &x.bytes), (y.time_ns, &y.bytes));
        }
        assert_eq!(one.frames[0].time_ns, crate::capture::START_NS);
        for pair in one.frames.windows(2) {
            let step = pair[1].time_ns - pair[0].time_ns;
            assert!((1_000_000..=25_000_000).contains(&step), "step {step}");
        }
    }

    #[test]
    fn sap_c8_frames_use_sap_c8() {
        let cap = sap_c8();
        assert_eq!(cap.frames.len(), 4);
        for (index, frame) in cap.frames.iter().enumerate() {
            let llc = &frame.bytes[42..45];
            let response = index % 2 == 1;
            assert_eq!(llc[0], 0xC8);
            assert_eq!(llc[1], if response { 0xC9 } else { 0xC8 });
            assert_eq!(port(&frame.bytes), PORT_SIGNAL);
        }
    }
}
