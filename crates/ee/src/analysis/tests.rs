use super::*;

const A: EndpointKey = ([10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4, 12002);
const B: EndpointKey = ([10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4, 12002);

fn data<'a>(frame: u32, bsn: u32, bytes: &'a [u8]) -> PacketFacts<'a> {
    PacketFacts {
        frame,
        time_ns: i64::from(frame) * 1_000_000,
        source: A,
        destination: B,
        tcid: 0xB,
        bsn,
        dlf: bytes.len() as u32,
        data: bytes,
        start_of_message: true,
        end_of_message: true,
        ..Default::default()
    }
}

fn status(frame: u32, received: u32, pairs: Vec<(u32, u32)>) -> PacketFacts<'static> {
    PacketFacts {
        frame,
        time_ns: i64::from(frame) * 1_000_000,
        source: B,
        destination: A,
        tcid: 0xA,
        status: Some((received, pairs)),
        ..Default::default()
    }
}

#[test]
fn classifies_gap_out_of_order_retransmission_and_duplicate() {
    let mut an = Analyzer::new();
    let mut setup = data(1, 0, b"aaaa");
    setup.announced_tcid = Some(0xA);
    assert_eq!(an.analyse(&setup).data, Some(DataKind::InOrder));
    // bytes 4..8 lost, 8..12 arrives: gap of 4.
    assert_eq!(
        an.analyse(&data(2, 8, b"cccc")).data,
        Some(DataKind::Gap { missing: 4 })
    );
    // partner reports 4..8 missing
    let st = an.analyse(&status(3, 4, vec![(8, 12)])).clone();
    assert_eq!(st.stream, 0, "0x10 segment links the reverse direction");
    assert_eq!(
        st.pairing.map(|p| p.evidence),
        Some(Evidence::ConnectionIdExchange)
    );
    assert_eq!(st.status_missing, vec![(4, 8)]);
    // the resend of 4..8, never seen but reported missing by that status:
    // the retransmission it asked for (was "out of order" before 2026-12)
    let first = an.analyse(&data(4, 4, b"bbbb")).clone();
    assert_eq!(
        first.data,
        Some(DataKind::Retransmission { original: None })
    );
    assert_eq!(first.retransmission_requested, Some(3));
    assert_eq!(first.resend_count, Some(1));
    // resend of 8..12 after the status: retransmission
    let re = an.analyse(&data(5, 8, b"cccc")).clone();
    assert_eq!(
        re.data,
        Some(DataKind::Retransmission { original: Some(2) })
    );
    assert_eq!(re.resend_count, Some(1));
    // the same packet again with no status between: a duplicate of the
    // retransmission
    assert_eq!(
        an.analyse(&data(6, 8, b"cccc")).data,
        Some(DataKind::Duplicate { original: 5 })
    );
    assert_eq!(
        an.analyse(&data(7, 12, b"dddd")).data,
        Some(DataKind::InOrder)
    );
    assert_eq!(
        an.analyse(&data(8, 12, b"dddd")).data,
        Some(DataKind::Duplicate { original: 7 })
    );
    // a second visit returns the stored result
    assert_eq!(
        an.analyse(&data(2, 8, b"cccc")).data,
        Some(DataKind::Gap { missing: 4 })
    );
}

/// A capture that starts mid-connection: no connection identifier exchange
/// ever seen.  The status links the directions; the resend after it is a
/// retransmission, the status answers the request.
#[test]
fn mid_capture_resend_after_status_is_a_retransmission() {
    let mut an = Analyzer::new();
    an.analyse(&data(1, 5000, b"xxxx"));
    let mut request = data(2, 5004, b"yyyy");
    request.status_requested = true;
    an.analyse(&request);
    // B's first packet: a status acknowledging A's bytes up to 5004.
    let st = an.analyse(&status(3, 5004, vec![])).clone();
    assert_eq!(st.stream, 0);
    assert_eq!(st.side, 1);
    assert_eq!(
        st.pairing,
        Some(Pairing {
            evidence: Evidence::Status,
            frame: 3
        })
    );
    assert_eq!(st.status_reply_to, Some((2, 1_000_000)));
    let re = an.analyse(&data(4, 5004, b"yyyy")).clone();
    assert_eq!(
        re.data,
        Some(DataKind::Retransmission { original: Some(2) })
    );
    assert_eq!(
        an.result(1).unwrap().pairing.unwrap().evidence,
        Evidence::Status
    );
}

/// With no reverse traffic at all, a resend is a retransmission, never a
/// duplicate (nothing says the partner stayed silent).
#[test]
fn one_way_capture_resend_is_a_retransmission() {
    let mut an = Analyzer::new();
    an.analyse(&data(1, 100, b"ab"));
    let again = an.analyse(&data(2, 100, b"ab")).clone();
    assert_eq!(
        again.data,
        Some(DataKind::Retransmission { original: Some(1) })
    );
    assert_eq!(again.pairing, None);
}

#[test]
fn the_only_reverse_direction_is_linked_by_its_endpoints() {
    let mut an = Analyzer::new();
    an.analyse(&data(1, 0, b"ab"));
    let mut reply = status(2, 0, vec![]);
    reply.status = None;
    reply.dlf = 3;
    reply.data = b"rsp";
    let r = an.analyse(&reply).clone();
    assert_eq!((r.stream, r.side), (0, 1));
    assert_eq!(r.pairing.unwrap().evidence, Evidence::Endpoints);
    // A second connection the same way gets its own stream.
    let mut other = data(3, 900, b"zz");
    other.tcid = 0xC;
    assert_eq!(an.analyse(&other).stream, 1);
}

/// Two connections between the same endpoints: a status acknowledging the
/// second one's bytes moves a direction linked by the endpoints alone.
#[test]
fn a_status_corrects_a_link_made_by_the_endpoints() {
    let mut an = Analyzer::new();
    an.analyse(&data(1, 0, b"aaaa")); // A->B, TCID B, stream 0
    let mut reverse = status(2, 0, vec![]);
    reverse.status = None;
    reverse.tcid = 0xAA; // B->A, linked to stream 0 by endpoints
    assert_eq!(an.analyse(&reverse).stream, 0);
    let mut second = data(3, 7000, b"bbbb");
    second.tcid = 0xBB; // A->B, another connection: stream 1
    assert_eq!(an.analyse(&second).stream, 1);
    let mut st = status(4, 7004, vec![]);
    st.tcid = 0xAA; // B->A acknowledges the second connection's bytes
    let r = an.analyse(&st).clone();
    assert_eq!(r.stream, 1);
    assert_eq!(r.pairing.unwrap().evidence, Evidence::Status);
    // Frame 2 moved with its direction.
    assert_eq!(an.result(2).unwrap().stream, 1);
}

#[test]
fn a_stall_is_flagged_after_six_resends_over_ten_seconds_and_relieved() {
    let mut an = Analyzer::new();
    let mut first = data(1, 0, b"pp");
    first.announced_tcid = Some(0xA);
    an.analyse(&first);
    let mut frame = 2;
    let mut last = None;
    for i in 0..7 {
        // each resend follows a status that does not acknowledge the bytes
        let mut st = status(frame, 0, vec![]);
        st.time_ns = i64::from(i) * 3_000_000_000;
        an.analyse(&st);
        let mut re = data(frame + 1, 0, b"pp");
        re.time_ns = i64::from(i) * 3_000_000_000 + 1;
        last = Some(an.analyse(&re).clone());
        if i < 5 {
            assert_eq!(last.as_ref().unwrap().stall, None, "resend {}", i + 1);
        }
        frame += 2;
    }
    let stall = last.unwrap().stall.expect("stalled after 6 resends, 18 s");
    assert_eq!((stall.bsn, stall.resends, stall.first_frame), (0, 7, 3));
    assert_eq!(stall.span_ns, 18_000_000_000);
    // The status that finally acknowledges the bytes relieves the stall.
    let ok = an.analyse(&status(frame, 2, vec![])).clone();
    assert_eq!(ok.stall_relieved, Some(13));
}

#[test]
fn connection_setup_from_the_listening_partner_is_a019() {
    let mut an = Analyzer::new();
    let mut setup = data(1, 0, b"s");
    setup.setup = true;
    setup.setup_segment = true;
    setup.announced_tcid = Some(0xA);
    assert!(an.analyse(&setup).violations.is_empty());
    let mut wrong = status(2, 1, vec![]);
    wrong.setup_segment = true;
    assert_eq!(an.analyse(&wrong).violations, vec![0xA019_FF0D]);
}

#[test]
fn sequence_numbers_wrap_and_old_ranges_are_forgotten() {
    let mut an = Analyzer::new();
    let chunk = vec![0u8; 1400];
    let mut bsn = u32::MAX - 10 * 1400;
    for frame in 1..=40 {
        let facts = data(frame, bsn, &chunk);
        assert_eq!(
            an.analyse(&facts).data,
            Some(DataKind::InOrder),
            "frame {frame}"
        );
        bsn = bsn.wrapping_add(1400);
    }
}

#[test]
fn a_repeated_start_of_message_does_not_restart_reassembly() {
    let mut an = Analyzer::new();
    let mut first = data(1, 100, b"ab");
    first.end_of_message = false;
    an.analyse(&first);
    let mut copy = first.clone();
    copy.frame = 2;
    an.analyse(&copy);
    let mut last = data(3, 102, b"cd");
    last.start_of_message = false;
    let done = an.analyse(&last).message.clone().unwrap();
    assert_eq!(done, (b"abcd".to_vec(), vec![1, 3]));
}

#[test]
fn pairs_status_request_with_reply() {
    let mut an = Analyzer::new();
    let mut request = data(1, 0, b"xy");
    request.announced_tcid = Some(0xA);
    request.status_requested = true;
    an.analyse(&request);
    let reply = an.analyse(&status(2, 2, vec![])).clone();
    assert_eq!(reply.status_reply_to, Some((1, 1_000_000)));
    assert!(reply.status_missing.is_empty());
    assert_eq!(an.result(1).unwrap().status_reply_in, Some(2));
}

#[test]
fn reassembles_a_message_over_three_packets() {
    let mut an = Analyzer::new();
    let mut first = data(1, 100, b"ab");
    first.end_of_message = false;
    let mut middle = data(2, 102, b"cd");
    middle.start_of_message = false;
    middle.end_of_message = false;
    let mut last = data(3, 104, b"e");
    last.start_of_message = false;
    assert!(an.analyse(&first).message.is_none());
    assert!(an.analyse(&middle).message.is_none());
    let done = an.analyse(&last).message.clone().unwrap();
    assert_eq!(done, (b"abcde".to_vec(), vec![1, 2, 3]));
}

#[test]
fn bytes_sent_before_the_capture_and_resent_on_status_are_a_retransmission() {
    // Captured at the sender after the connection's setup: the first
    // packet seen is 16..20; the partner reports 12..16 not received (the
    // original went before the capture started); the resend of 12..16 is
    // the retransmission the status asked for, not an out-of-order packet.
    let mut an = Analyzer::new();
    assert_eq!(
        an.analyse(&data(1, 16, b"eeee")).data,
        Some(DataKind::InOrder)
    );
    an.analyse(&status(2, 12, vec![(16, 20)]));
    let re = an.analyse(&data(3, 12, b"dddd")).clone();
    assert_eq!(re.data, Some(DataKind::Retransmission { original: None }));
    assert_eq!(re.retransmission_requested, Some(2));
    // The same bytes resent again after another status: a retransmission
    // of frame 3.
    an.analyse(&status(4, 12, vec![(16, 20)]));
    let again = an.analyse(&data(5, 12, b"dddd")).clone();
    assert_eq!(
        again.data,
        Some(DataKind::Retransmission { original: Some(3) })
    );
    assert_eq!(again.resend_count, Some(2));
    assert_eq!(again.retransmission_requested, Some(4));
}

#[test]
fn a_late_packet_no_status_reported_missing_stays_out_of_order() {
    let mut an = Analyzer::new();
    an.analyse(&data(1, 0, b"aaaa"));
    // a status acknowledging everything so far: nothing missing
    an.analyse(&status(2, 4, vec![]));
    an.analyse(&data(3, 8, b"cccc"));
    // 4..8 arrives after 8..12 with no status in between reporting it
    assert_eq!(
        an.analyse(&data(4, 4, b"bbbb")).data,
        Some(DataKind::OutOfOrder)
    );
}
