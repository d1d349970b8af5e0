//! Any bytes as a sequence of EE UDP payloads: every view the `ee` crate
//! offers is walked to its end, and every RTP packet goes through the
//! connection analysis, as the dissector does.  A panic is a bug.
#![no_main]

use ee::analysis::{Analyzer, ArbFacts, PacketFacts};
use ee::anr::Labels;
use ee::probes::{ProbeFacts, ProbeKind, Probes};
use ee::cv;
use ee::datagram::{Body, Datagram, Payload, SegmentContent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut analyzer = Analyzer::new();
    let mut labels = Labels::new();
    let mut probes = Probes::new();
    // Datagrams are separated by a 0xF0 0x0D marker so one input can drive
    // the connection state across several packets.
    for (frame, bytes) in split(input).enumerate() {
        let datagram = Datagram::parse(bytes);
        let _ = datagram.error.map(|e| e.to_string());
        match &datagram.body {
            Body::Xid { xid, .. } => {
                let _ = (xid.node_type(), xid.id_block(), xid.max_btu(), xid.dlc_section());
                for vector in xid.vectors().flatten() {
                    walk_vector(&vector);
                }
            }
            Body::Nlp(nlp) => {
                let _ = (nlp.nhdr.labels(), nlp.nhdr.function_routing_header());
                let Some((_, thdr)) = &nlp.thdr else { continue };
                let mut facts = PacketFacts {
                    frame: frame as u32 + 1,
                    time_ns: frame as i64 * 1000,
                    source: ([bytes.len() as u8 & 1; 16], 4, 12000),
                    destination: ([!(bytes.len() as u8) & 1; 16], 4, 12000),
                    tcid: thdr.tcid(),
                    bsn: thdr.bsn(),
                    dlf: thdr.dlf(),
                    data: thdr.data(),
                    start_of_message: thdr.has(ee::thdr::flags0::SOMI),
                    end_of_message: thdr.has(ee::thdr::flags0::EOMI),
                    status_requested: thdr.has(ee::thdr::flags0::SRI),
                    ..Default::default()
                };
                for segment in &nlp.segments {
                    match &segment.content {
                        SegmentContent::ConnectionSetup { vectors, .. } => {
                            vectors.iter().for_each(walk_vector)
                        }
                        SegmentContent::Status(s) => {
                            facts.status = Some((s.received_sequence, s.pairs.clone()))
                        }
                        SegmentContent::ConnectionIdExchange(t) => facts.announced_tcid = Some(*t),
                        SegmentContent::AdaptiveRateBased(a) => {
                            facts.arb = Some(ArbFacts {
                                message_type: a.message_type(),
                                rate_action: a.rate_action(),
                                mode: a.mode(),
                            })
                        }
                        _ => {}
                    }
                }
                if let Some((_, Payload::Fid5(fid5))) = &nlp.payload {
                    let _ = (fid5.rh(), fid5.ru(), fid5.session_address(), fid5.sense());
                }
                let id = (thdr.tcid(), thdr.bsn(), thdr.dlf(), thdr.flags0(), thdr.flags1());
                labels.observe(frame as u32 + 1, id, nlp.nhdr.labels());
                let _ = labels.split(nlp.nhdr.labels(), None);
                let _ = analyzer.analyse(&facts);
            }
            _ => {}
        }
        if let Some(llc) = datagram.llc {
            let _ = probes.analyse(&ProbeFacts {
                frame: frame as u32 + 1,
                time_ns: frame as i64,
                source: ([0; 16], 4, 12000),
                destination: ([1; 16], 4, 12000),
                kind: if llc.is_response() { ProbeKind::Xid } else { ProbeKind::Test },
                response: bytes.len() % 2 == 0,
            });
        }
    }
    analyzer.finish();
    probes.finish();
});

fn walk_vector(vector: &cv::Vector) {
    let _ = cv::network_name(vector.data);
    let (_, subvectors) = cv::product_set_subvectors(vector.data);
    for sub in subvectors.flatten() {
        if let Some((_, _, fields)) = cv::product_identifier(sub.data) {
            for field in fields.flatten() {
                let _ = cv::common_level(field.data);
            }
        }
    }
}

fn split(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = input;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = rest.windows(2).position(|w| w == [0xF0, 0x0D]);
        let (head, tail) = match cut {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (rest, &[][..]),
        };
        rest = tail;
        Some(head)
    })
}
