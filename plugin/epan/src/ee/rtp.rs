//! The per-capture state of the `ee` dissector: RTP connection analysis,
//! ANR label learning and LDLC probe pairing (all from the `ee` crate),
//! behind one lock, reset by Wireshark's init/cleanup routines whenever a
//! capture is (re)opened or preferences change.  Frames are analysed on
//! their first visit in frame order; later visits (`-2`, the GUI) see the
//! stored results, completed by what later frames taught (a reply found, a
//! direction linked, a probe never answered).  The first revisit of a frame
//! means the whole capture has been read: commands and status requests
//! still waiting then are unanswered.

use std::sync::{Mutex, MutexGuard, PoisonError};

use ee::analysis::{Analyzer, ArbFacts, Config, DataKind, FrameAnalysis, PacketFacts};
use ee::anr::{Labels, Split};
use ee::datagram::{Nlp, SegmentContent};
use ee::llc::{Command, LlcHeader};
use ee::probes::{ProbeAnalysis, ProbeFacts, ProbeKind, Probes};
use ee::thdr::{self, flags0};
use wireshark_ffi::guard;
use wireshark_ffi::packet::{Endpoint, Packet, Tree};
use wireshark_ffi::sys;

use super::fields::*;
use super::findings::*;

struct State {
    rtp: Analyzer,
    labels: Labels,
    probes: Probes,
    /// The highest frame analysed; a frame at or below it is a revisit.
    max_frame: u32,
    finished: bool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<State>> {
    // A panic while holding the lock left a state we cannot trust: start
    // over rather than propagate the poison.
    STATE.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        let mut guard = poisoned.into_inner();
        *guard = None;
        guard
    })
}

/// Runs `f` on the capture's state, first noting the visit of `frame`.
fn with<R>(frame: u32, config: Config, f: impl FnOnce(&mut State) -> R) -> R {
    let mut guard = state();
    let state = guard.get_or_insert_with(|| State {
        rtp: Analyzer::with_config(config),
        labels: Labels::new(),
        probes: Probes::new(),
        max_frame: 0,
        finished: false,
    });
    if frame > state.max_frame {
        state.max_frame = frame;
    } else if !state.finished {
        state.finished = true;
        state.rtp.finish();
        state.probes.finish();
    }
    f(state)
}

unsafe extern "C" fn reset() {
    let _ = guard::catch(|| *state() = None);
}

pub fn register_reset() {
    // SAFETY: a static function with no arguments; called by Wireshark
    // when a capture is opened and closed.
    unsafe {
        sys::register_init_routine(Some(reset));
        sys::register_cleanup_routine(Some(reset));
    }
}

pub fn key(endpoint: Endpoint) -> ([u8; 16], u8, u32) {
    (endpoint.address, endpoint.address_len, endpoint.port)
}

/// What the state says about one NLP.
pub struct NlpResult {
    pub analysis: Option<FrameAnalysis>,
    /// The ANR label field split where label lengths are known.
    pub labels: Option<Split>,
}

/// Analyses (first visit) or looks up (later visits) an NLP.
pub fn nlp(packet: &Packet, nlp: &Nlp, config: Config, label_length: Option<usize>) -> NlpResult {
    let frame = packet.frame_number();
    let facts = nlp.thdr.as_ref().map(|(_, thdr)| facts(packet, nlp, thdr));
    with(frame, config, |state| {
        let first_visit = state.rtp.result(frame).is_none();
        if let (Some((_, thdr)), true, true) = (&nlp.thdr, first_visit, nlp.nhdr.is_anr()) {
            let id = (
                thdr.tcid(),
                thdr.bsn(),
                thdr.dlf(),
                thdr.flags0(),
                thdr.flags1(),
            );
            state.labels.observe(frame, id, nlp.nhdr.labels());
        }
        NlpResult {
            analysis: facts.map(|f| state.rtp.analyse(&f).clone()),
            labels: nlp
                .nhdr
                .is_anr()
                .then(|| state.labels.split(nlp.nhdr.labels(), label_length)),
        }
    })
}

fn facts<'a>(packet: &Packet, nlp: &Nlp, thdr: &thdr::Thdr<'a>) -> PacketFacts<'a> {
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
            SegmentContent::ConnectionSetup { .. } => {
                facts.setup = true;
                facts.setup_segment = true;
            }
            SegmentContent::Status(status) => {
                facts.status = Some((status.received_sequence, status.pairs.clone()))
            }
            SegmentContent::ConnectionIdExchange(tcid) => facts.announced_tcid = Some(*tcid),
            SegmentContent::AdaptiveRateBased(arb) => {
                facts.arb = Some(ArbFacts {
                    message_type: arb.message_type(),
                    rate_action: arb.rate_action(),
                    mode: arb.mode(),
                })
            }
            SegmentContent::SwitchingInformation(_) => facts.switching_information = true,
            _ => {}
        }
    }
    facts
}

/// Pairs (first visit) or looks up an LDLC TEST or XID command/response.
pub fn probe(packet: &Packet, llc: &LlcHeader, config: Config) -> Option<ProbeAnalysis> {
    let kind = match llc.command() {
        Command::Test => ProbeKind::Test,
        Command::Xid => ProbeKind::Xid,
        _ => return None,
    };
    let facts = ProbeFacts {
        frame: packet.frame_number(),
        time_ns: packet.time_ns(),
        source: key(packet.source()),
        destination: key(packet.destination()),
        kind,
        response: llc.is_response(),
    };
    Some(with(facts.frame, config, |state| {
        state.probes.analyse(&facts)
    }))
}

/// Marks `item` as derived by the analysis (shown in [brackets]).
fn generated(packet: &Packet, item: Tree) -> Tree {
    packet.set_generated(item);
    item
}

/// The probe pairing of an LLC frame, its expert infos and Info tags.
pub fn show_probe(
    packet: &Packet,
    root: Tree,
    llc: &LlcHeader,
    probe: &ProbeAnalysis,
    info: &mut String,
) {
    let what = llc.command().label();
    let generated = |item: Tree| generated(packet, item);
    if let Some(frame) = probe.response_in {
        generated(packet.add_frame_number(root, &LDLC_RESPONSE_IN, frame));
    }
    if let Some((command, rtt)) = probe.response_to {
        generated(packet.add_frame_number(root, &LDLC_RESPONSE_TO, command));
        let item = generated(packet.add_duration(root, &LDLC_RTT, rtt));
        packet.add_expert(
            item,
            &EI_LDLC_RTT,
            &format!(
                "{what} response {:.3} ms after the command in frame {command}",
                rtt as f64 / 1e6
            ),
        );
    }
    if let Some(earlier) = probe.retry_of {
        let item = generated(packet.add_frame_number(root, &LDLC_RETRY_OF, earlier));
        packet.add_expert(
            item,
            &EI_LDLC_RETRY,
            &format!("{what} command repeated: the one in frame {earlier} got no response"),
        );
        info.push_str(" [retry]");
    }
    if probe.unanswered {
        let item = generated(packet.add_bool(root, &LDLC_UNANSWERED, 0, 0, 1));
        let port = packet.destination().port;
        if let Some(response) = probe.answered_on_retry {
            generated(packet.add_frame_number(root, &LDLC_ANSWERED_ON_RETRY, response));
            packet.add_expert(
                item,
                &EI_LDLC_LOST,
                &format!(
                    "{what} command to UDP port {port} got no response; a retry of it was \
                     answered in frame {response} (an LDLC retransmission, IBM IST2025I)"
                ),
            );
            info.push_str(" [lost]");
        } else {
            packet.add_expert(
                item,
                &EI_LDLC_UNANSWERED,
                &format!(
                    "{what} command to UDP port {port} never answered (a port a firewall \
                     blocks shows this way, as IBM's EEVERIFY reports)"
                ),
            );
            info.push_str(" [unanswered]");
        }
    }
}

/// Adds the analysis subtree, its expert infos and the Info column tags.
pub fn show(packet: &Packet, root: Tree, analysis: &FrameAnalysis, info: &mut String) {
    let item = packet.add_uint(root, &RTP_STREAM, 0, 0, analysis.stream);
    packet.set_generated(item);
    let sub = packet.subtree(item, &ETT_ANALYSIS);
    let generated = |item: Tree| generated(packet, item);
    if let Some(pairing) = analysis.pairing {
        let item = generated(packet.add_uint(
            sub,
            &ANALYSIS_PAIRING,
            0,
            0,
            pairing.evidence.code().into(),
        ));
        generated(packet.add_frame_number(sub, &ANALYSIS_PAIRING_FRAME, pairing.frame));
        // Said once, where the link was made.
        if pairing.frame == packet.frame_number() {
            let how = ee::analysis::Evidence::NAMES
                .iter()
                .find(|(code, _)| *code == pairing.evidence.code())
                .map_or("?", |(_, name)| *name);
            packet.add_expert(
                item,
                &EI_PAIRING,
                &format!(
                    "The two directions of RTP connection {} linked here: {how}",
                    analysis.stream
                ),
            );
        }
    }
    data_kind(packet, sub, analysis, info);
    status(packet, sub, analysis);
    events(packet, sub, analysis);
    if let Some((_, frames)) = &analysis.message {
        info.push_str(&format!(" [message of {} packets]", frames.len()));
    }
}

fn data_kind(packet: &Packet, sub: Tree, analysis: &FrameAnalysis, info: &mut String) {
    let generated = |item: Tree| generated(packet, item);
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
            let count = analysis.resend_count.unwrap_or(1);
            let original_item = original
                .map(|o| generated(packet.add_frame_number(sub, &ANALYSIS_RETRANSMISSION, o)));
            let requested = analysis.retransmission_requested.map(|status| {
                let item = packet.add_frame_number(sub, &ANALYSIS_RETRANSMISSION_REQUESTED, status);
                (generated(item), status)
            });
            generated(packet.add_uint(sub, &ANALYSIS_RESEND_COUNT, 0, 0, count));
            let (item, text) = match (original_item, original, requested) {
                (Some(item), Some(o), _) => (
                    item,
                    format!("Retransmission of frame {o} (resend {count} of these bytes)"),
                ),
                (_, _, Some((item, status))) => (
                    item,
                    format!(
                        "Retransmission of bytes this capture did not see sent before: the \
                         status in frame {status} reported them not received (resend {count})"
                    ),
                ),
                _ => (
                    sub,
                    format!("Retransmission (resend {count} of these bytes)"),
                ),
            };
            packet.add_expert(item, &EI_RETRANSMISSION, &text);
            info.push_str(" [retransmission]");
        }
        Some(DataKind::Duplicate { original }) => {
            let item = generated(packet.add_frame_number(sub, &ANALYSIS_DUPLICATE, original));
            packet.add_expert(
                item,
                &EI_DUPLICATE,
                &format!("Duplicate of frame {original} (no status from the partner in between)"),
            );
            info.push_str(" [duplicate]");
        }
    }
    if let Some(stall) = analysis.stall {
        let item = generated(packet.add_bool(sub, &ANALYSIS_STALL, 0, 0, 1));
        let detail = packet.subtree(item, &ETT_ANALYSIS);
        generated(packet.add_uint(detail, &ANALYSIS_STALL_RESENDS, 0, 0, stall.resends));
        generated(packet.add_duration(detail, &ANALYSIS_STALL_TIME, stall.span_ns));
        generated(packet.add_frame_number(detail, &ANALYSIS_STALL_FIRST, stall.first_frame));
        packet.add_expert(
            item,
            &EI_STALL,
            &format!(
                "Transmission stall: bytes from BSN {} resent {} times over {:.1} s without \
                 being acknowledged (IBM IST2245I)",
                stall.bsn,
                stall.resends,
                stall.span_ns as f64 / 1e9
            ),
        );
        info.push_str(" [stall]");
    }
}

fn status(packet: &Packet, sub: Tree, analysis: &FrameAnalysis) {
    let generated = |item: Tree| generated(packet, item);
    if let Some((request, nanos)) = analysis.status_reply_to {
        generated(packet.add_frame_number(sub, &ANALYSIS_STATUS_REPLY_TO, request));
        generated(packet.add_duration(sub, &ANALYSIS_STATUS_TIME, nanos));
    }
    if let Some(reply) = analysis.status_reply_in {
        generated(packet.add_frame_number(sub, &ANALYSIS_STATUS_REPLY_IN, reply));
    }
    if analysis.status_unanswered {
        let item = generated(packet.add_bool(sub, &ANALYSIS_STATUS_UNANSWERED, 0, 0, 1));
        packet.add_expert(
            item,
            &EI_UNANSWERED_SRI,
            "Status requested, no status from the partner before the next request or the end \
             of the capture",
        );
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
    if let Some(flagged) = analysis.stall_relieved {
        let item = generated(packet.add_frame_number(sub, &ANALYSIS_STALL_RELIEVED, flagged));
        packet.add_expert(
            item,
            &EI_STALL_RELIEVED,
            &format!("Transmission stall flagged in frame {flagged} relieved: its bytes acknowledged (IBM IST2247I)"),
        );
    }
}

fn events(packet: &Packet, sub: Tree, analysis: &FrameAnalysis) {
    let generated = |item: Tree| generated(packet, item);
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
    if let Some(arb) = analysis.arb {
        let name = |table: &[(u8, &'static str)], v: u8| {
            table
                .iter()
                .find(|(k, _)| *k == v)
                .map_or("unknown", |(_, n)| *n)
        };
        if arb.rate_action != 0 {
            packet.add_expert(
                sub,
                &EI_ARB_RATE,
                &format!(
                    "ARB rate adjustment: {}",
                    name(thdr::ARB_RATE_ACTIONS, arb.rate_action)
                ),
            );
        }
        packet.add_expert(
            sub,
            &EI_ARB,
            &format!(
                "ARB {}, rate action {}, {}",
                name(thdr::ARB_MESSAGE_TYPES, arb.message_type),
                name(thdr::ARB_RATE_ACTIONS, arb.rate_action),
                name(thdr::ARB_MODES, arb.mode)
            ),
        );
    }
    for sense in &analysis.violations {
        violation(packet, sub, *sense, None);
    }
}

/// A protocol violation: its sense code and meaning, as an error.
pub fn violation(packet: &Packet, parent: Tree, sense: u32, range: Option<std::ops::Range<usize>>) {
    let item = match range {
        Some(range) => packet.add_uint(parent, &VIOLATION_SENSE, range.start, range.len(), sense),
        None => {
            let item = packet.add_uint(parent, &VIOLATION_SENSE, 0, 0, sense);
            packet.set_generated(item);
            item
        }
    };
    let text = ee::sense::describe(sense).unwrap_or_default();
    packet.append_text(item, &format!(" ({text})"));
    packet.add_expert(
        item,
        &EI_VIOLATION,
        &format!("RTP protocol violation, IBM sense {sense:08X}: {text}"),
    );
}
