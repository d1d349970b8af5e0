//! RTP connection analysis for the capture being read: the `ee` crate's
//! [`Analyzer`] behind a lock, reset by Wireshark's init/cleanup routines
//! whenever a capture is (re)opened, fed in frame order on the first pass
//! and asked again (unchanged results) on later passes and random access.

use std::sync::{Mutex, MutexGuard, PoisonError};

use ee::analysis::{Analyzer, DataKind, FrameAnalysis, PacketFacts};
use ee::datagram::{Nlp, SegmentContent};
use ee::thdr::flags0;
use wireshark_ffi::guard;
use wireshark_ffi::packet::{Endpoint, Packet, Tree};
use wireshark_ffi::sys;

use super::fields::*;

static ANALYZER: Mutex<Option<Analyzer>> = Mutex::new(None);

fn analyzer() -> MutexGuard<'static, Option<Analyzer>> {
    // A panic while holding the lock left a state we cannot trust: start
    // over rather than propagate the poison.
    ANALYZER.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        let mut guard = poisoned.into_inner();
        *guard = None;
        guard
    })
}

unsafe extern "C" fn reset() {
    let _ = guard::catch(|| *analyzer() = None);
}

pub fn register_reset() {
    // SAFETY: a static function with no arguments; called by Wireshark
    // when a capture is opened and closed.
    unsafe {
        sys::register_init_routine(Some(reset));
        sys::register_cleanup_routine(Some(reset));
    }
}

fn key(endpoint: Endpoint) -> ([u8; 16], u8, u32) {
    (endpoint.address, endpoint.address_len, endpoint.port)
}

/// Analyses (first visit) or looks up (later visits) this frame.
pub fn analyse(packet: &Packet, nlp: &Nlp) -> Option<FrameAnalysis> {
    let (_, thdr) = nlp.thdr.as_ref()?;
    let mut facts = PacketFacts {
        frame: packet.frame_number(),
        time_ns: packet.time_ns(),
        source: key(packet.source()),
        destination: key(packet.destination()),
        tcid: thdr.tcid(),
        bsn: thdr.bsn(),
        dlf: thdr.dlf(),
        data: thdr.data(),
        setup: thdr.has(flags0::SETUPI),
        start_of_message: thdr.has(flags0::SOMI),
        end_of_message: thdr.has(flags0::EOMI),
        status_requested: thdr.has(flags0::SRI),
        slowdown: nlp.nhdr.slowdown(),
        ..Default::default()
    };
    for segment in &nlp.segments {
        match &segment.content {
            SegmentContent::ConnectionSetup { .. } => facts.setup = true,
            SegmentContent::Status(status) => {
                facts.status = Some((status.received_sequence, status.pairs.clone()))
            }
            SegmentContent::ConnectionIdExchange(tcid) => facts.announced_tcid = Some(*tcid),
            SegmentContent::AdaptiveRateBased(arb) => {
                facts.arb = Some((arb.message_type(), arb.rate_action()))
            }
            SegmentContent::SwitchingInformation(_) => facts.switching_information = true,
            _ => {}
        }
    }
    let mut state = analyzer();
    let analyzer = state.get_or_insert_with(Analyzer::new);
    Some(analyzer.analyse(&facts).clone())
}

/// Adds the analysis subtree, its expert infos and the Info column tags.
pub fn show(packet: &Packet, root: Tree, analysis: &FrameAnalysis, info: &mut String) {
    let item = packet.add_uint(root, &RTP_STREAM, 0, 0, analysis.stream);
    packet.set_generated(item);
    let sub = packet.subtree(item, &ETT_ANALYSIS);
    let generated = |item: Tree| {
        packet.set_generated(item);
        item
    };
    match analysis.data {
        None | Some(DataKind::InOrder) => {}
        Some(DataKind::Gap { missing }) => {
            let item = generated(packet.add_uint(sub, &ANALYSIS_GAP, 0, 0, missing));
            packet.add_expert(
                item,
                &EI_GAP,
                &format!("{missing} bytes before this packet not captured"),
            );
            info.push_str(" [gap]");
        }
        Some(DataKind::OutOfOrder) => {
            let item = generated(packet.add_bool(sub, &ANALYSIS_OUT_OF_ORDER, 0, 0, 1));
            packet.add_expert(item, &EI_OUT_OF_ORDER, "Out-of-order RTP packet");
            info.push_str(" [out of order]");
        }
        Some(DataKind::Retransmission { original }) => {
            let item = generated(packet.add_frame_number(sub, &ANALYSIS_RETRANSMISSION, original));
            packet.add_expert(
                item,
                &EI_RETRANSMISSION,
                &format!("Retransmission of frame {original}"),
            );
            info.push_str(" [retransmission]");
        }
        Some(DataKind::Duplicate { original }) => {
            let item = generated(packet.add_frame_number(sub, &ANALYSIS_DUPLICATE, original));
            packet.add_expert(
                item,
                &EI_DUPLICATE,
                &format!("Duplicate of frame {original}"),
            );
            info.push_str(" [duplicate]");
        }
    }
    if let Some((request, nanos)) = analysis.status_reply_to {
        generated(packet.add_frame_number(sub, &ANALYSIS_STATUS_REPLY_TO, request));
        generated(packet.add_duration(sub, &ANALYSIS_STATUS_TIME, nanos));
    }
    if let Some(reply) = analysis.status_reply_in {
        generated(packet.add_frame_number(sub, &ANALYSIS_STATUS_REPLY_IN, reply));
    }
    for (begin, end) in &analysis.status_missing {
        let item = generated(packet.add_uint(sub, &ANALYSIS_MISSING_BEGIN, 0, 0, *begin));
        generated(packet.add_uint(sub, &ANALYSIS_MISSING_END, 0, 0, *end));
        packet.add_expert(
            item,
            &EI_STATUS_MISSING,
            &format!(
                "Status reports bytes {begin}..{end} not received ({} bytes)",
                end.wrapping_sub(*begin)
            ),
        );
    }
    if analysis.setup {
        let item = generated(packet.add_bool(sub, &ANALYSIS_SETUP, 0, 0, 1));
        packet.add_expert(item, &EI_SETUP, "RTP connection setup");
    }
    if analysis.path_switch {
        let item = generated(packet.add_bool(sub, &ANALYSIS_PATH_SWITCH, 0, 0, 1));
        packet.add_expert(item, &EI_PATH_SWITCH, "Switching information (path switch)");
    }
    if analysis.slowdown {
        let item = generated(packet.add_bool(sub, &ANALYSIS_SLOWDOWN, 0, 0, 1));
        packet.add_expert(
            item,
            &EI_SLOWDOWN,
            "Slowdown bit set in the network layer header",
        );
    }
    if let Some((_, action)) = analysis.arb.filter(|&(_, action)| action != 0) {
        let name = ee::thdr::ARB_RATE_ACTIONS
            .iter()
            .find(|(a, _)| *a == action)
            .map_or("unknown", |(_, n)| *n);
        packet.add_expert(item, &EI_ARB_RATE, &format!("ARB rate adjustment: {name}"));
    }
    if let Some((kind, action)) = analysis.arb {
        let name = |table: &[(u8, &'static str)], v: u8| {
            table
                .iter()
                .find(|(k, _)| *k == v)
                .map_or("unknown", |(_, n)| *n)
        };
        packet.add_expert(
            item,
            &EI_ARB,
            &format!(
                "ARB {}, rate action {}",
                name(ee::thdr::ARB_MESSAGE_TYPES, kind),
                name(ee::thdr::ARB_RATE_ACTIONS, action)
            ),
        );
    }
    if let Some((_, frames)) = &analysis.message {
        info.push_str(&format!(" [message of {} packets]", frames.len()));
    }
}
