//! The `ee` dissector: Enterprise Extender (SNA/HPR over UDP 12000–12004).
//!
//! Files by role: `fields` (wire fields, subtrees), `findings` (diagnosis
//! fields and expert infos), `tree` (shows what the `ee` crate decoded),
//! `rtp` (per-capture state: RTP analysis, ANR labels, LDLC probes),
//! `stats` (the `-z ee,rtp` table).  The datagram is decoded once by
//! `ee::datagram::Datagram::parse`; nothing here reads wire bytes itself.
//!
//! Wireshark's own decode stays available beside ours: every datagram also
//! goes to Wireshark's `llc` (→ `sna`) into a hidden subtree, so filters
//! and colouring rules on `llc.*` and `sna.*` match EE traffic as they do
//! without this plugin, with nothing shown twice; a FID5 BIU goes to `sna`
//! visibly for its RU (reassembled when split), our own TH and RH then
//! hidden.  With `ee.llc_handoff` the datagram goes to `llc` visibly
//! instead (the oracle mode of the differential test).

mod fields;
mod findings;
mod rtp;
mod stats;
mod tree;

use std::sync::atomic::{AtomicPtr, Ordering};

use ee::analysis::{Config, DataKind, FrameAnalysis};
use ee::datagram::{Body, Datagram, Nlp, Payload, SegmentContent};
use ee::ports::{self, PortRole};
use wireshark_ffi::packet::{Outcome, Packet, SubCall, Tree};
use wireshark_ffi::register::{range_pref_value, BoolPref, Protocol, StringPref, UintPref};
use wireshark_ffi::sys;

use fields::*;
use findings::*;
use stats::{DataClass, RtpRecord, RTP_TAP};

/// RFC 2353 section 2.3: the five EE ports (a Wireshark range preference).
const EE_UDP_PORTS: &std::ffi::CStr = c"12000-12004";
/// The UDP header in front of our bytes.
const UDP_HEADER_LEN: usize = 8;
const IP_PROTO_UDP: u8 = 17;

static PROTO: Protocol = Protocol::new();
static PREF_LLC_HANDOFF: BoolPref = BoolPref::new(false);
static PREF_SNA_BIU: BoolPref = BoolPref::new(true);
static PREF_LABEL_LENGTH: UintPref = UintPref::new(0);
static PREF_STALL_RESENDS: UintPref = UintPref::new(6);
static PREF_STALL_SECONDS: UintPref = UintPref::new(10);
static PREF_IPTOS: StringPref = StringPref::new(c"C0 C0 80 40 20");
static LLC_HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static SNA_HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());

pub fn register() {
    let mut reg = PROTO.register(
        c"Enterprise Extender (SNA/HPR over UDP)",
        c"EE",
        c"ee",
        c"ee.internal_error",
    );
    fields::register(&reg);
    findings::register(&reg);
    reg.bool_pref(
        &PREF_LLC_HANDOFF,
        c"llc_handoff",
        c"Hand EE datagrams to Wireshark's LLC/SNA instead",
        c"Show only the EE port role and LLC header here, then let Wireshark's own llc/sna \
          dissectors decode the datagram (the stock decode of UDP 12000-12004).",
    );
    reg.bool_pref(
        &PREF_SNA_BIU,
        c"sna_biu",
        c"Hand FID5 BIUs to Wireshark's SNA dissector",
        c"After the EE decode, let Wireshark's sna dissector show the TH, RH and RU of a FID5 \
          BIU (reassembled when an RTP message spans several packets); the EE decode of TH and \
          RH is then hidden, still filterable as ee.th.* and ee.rh.*.",
    );
    reg.uint_pref(
        &PREF_LABEL_LENGTH,
        c"anr_label_length",
        c"ANR label length (0: unknown)",
        c"When every ANR label of the network is this many bytes (1-8), split the label field \
          into labels; 0 splits only where the capture shows a label (the same packet seen \
          before and after an ANR node).",
    );
    reg.uint_pref(
        &PREF_STALL_RESENDS,
        c"stall_resends",
        c"Stall: retransmissions of the same bytes",
        c"A transmission stall is flagged when the same bytes are retransmitted this many times \
          without being acknowledged (IBM IST2245I: 6) ...",
    );
    reg.uint_pref(
        &PREF_STALL_SECONDS,
        c"stall_seconds",
        c"Stall: seconds since the first retransmission",
        c"... and at least this many seconds have passed since the first of them (IBM: 10).",
    );
    reg.string_pref(
        &PREF_IPTOS,
        c"iptos",
        c"IP type of service per port (IPTOS)",
        c"Five hex bytes for the signal, network, high, medium and low priority ports, as \
          VTAM's IPTOS start option (default C0 C0 80 40 20); a datagram whose TOS differs \
          from its port's gets a note.",
    );
    rtp::register_reset();
    stats::register();
}

pub fn handoff() {
    // SAFETY: static strings and a static function; Wireshark keeps both.
    unsafe {
        let handle = sys::register_dissector(c"ee".as_ptr(), Some(dissect), PROTO.id());
        // Creates the "UDP ports" preference of the ee module; plugin handoffs
        // run after the built-in ones, so this takes over from the stock
        // LLC-on-UDP mapping for these ports.
        sys::dissector_add_uint_range_with_preference(
            c"udp.port".as_ptr(),
            EE_UDP_PORTS.as_ptr(),
            handle,
        );
        LLC_HANDLE.store(sys::find_dissector(c"llc".as_ptr()), Ordering::Relaxed);
        SNA_HANDLE.store(sys::find_dissector(c"sna".as_ptr()), Ordering::Relaxed);
    }
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_datagram);

fn config() -> Config {
    Config {
        stall_resends: PREF_STALL_RESENDS.get().max(1),
        stall_ns: i64::from(PREF_STALL_SECONDS.get()) * 1_000_000_000,
    }
}

fn label_length() -> Option<usize> {
    let len = PREF_LABEL_LENGTH.get() as usize;
    (1..=ee::anr::MAX_LABEL).contains(&len).then_some(len)
}

fn dissect_datagram(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"EE");
    let bytes = packet.bytes();
    let datagram = Datagram::parse(bytes);
    let root = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let role = port_role(packet, root);
    tree::llc(packet, root, &datagram);

    let llc_handle = LLC_HANDLE.load(Ordering::Relaxed);
    if PREF_LLC_HANDOFF.get() && !llc_handle.is_null() {
        if datagram.llc.is_none() {
            if let Some(error) = &datagram.error {
                packet.add_expert(root, &EI_MALFORMED, &error.to_string());
            }
            packet.set_info(&format!(
                "EE: {}",
                datagram.error.map(|e| e.to_string()).unwrap_or_default()
            ));
            return Outcome::Done(bytes.len());
        }
        return Outcome::HandOff {
            handle: llc_handle,
            offset: 0,
        };
    }

    let mut info = tree::info_prefix(&datagram);
    let probe = datagram
        .llc
        .and_then(|llc| rtp::probe(packet, &llc, config()).map(|p| (llc, p)));
    let state = match &datagram.body {
        Body::Nlp(nlp) => Some(rtp::nlp(packet, nlp, config(), label_length())),
        _ => None,
    };
    let analysis = state.as_ref().and_then(|s| s.analysis.as_ref());

    let sna = SNA_HANDLE.load(Ordering::Relaxed);
    let sna_on = PREF_SNA_BIU.get() && !sna.is_null();
    let message = analysis.and_then(|a| a.message.as_ref());
    let whole_biu = whole_biu_offset(&datagram).filter(|_| sna_on);
    let shown = tree::Shown {
        labels: state.as_ref().and_then(|s| s.labels.as_ref()),
        sna_shows_biu: whole_biu.is_some(),
    };
    tree::body(packet, root, &datagram, &shown, &mut info);
    if let Some((llc, probe)) = &probe {
        rtp::show_probe(packet, root, llc, probe, &mut info);
    }
    let llc_command = datagram
        .llc
        .is_some_and(|llc| llc.command() != ee::llc::Command::UnnumberedInfo);
    if let Body::Nlp(nlp) = &datagram.body {
        priority_checks(packet, root, role, llc_command, Some(nlp));
        for violation in &nlp.violations {
            rtp::violation(packet, root, violation.sense, Some(violation.range.clone()));
        }
    } else {
        priority_checks(packet, root, role, llc_command, None);
    }
    if let Some(analysis) = analysis {
        rtp::show(packet, root, analysis, &mut info);
        if let Body::Nlp(nlp) = &datagram.body {
            if let Some(record) = record(packet, nlp, analysis) {
                RTP_TAP.queue(packet, record);
            }
        }
    }
    if let Some(error) = &datagram.error {
        packet.add_expert(root, &EI_MALFORMED, &error.to_string());
        info.push_str(" [malformed]");
    }
    packet.set_info(&info);
    // Wireshark's llc/sna would replace our columns with theirs.
    packet.keep_columns();

    // A whole message reassembled here: its headers over the new data
    // source, its BIU to sna.
    let mut visible = None;
    if let Some((message, frames)) = message {
        let fid5 = message.first().is_some_and(|b| b >> 4 == ee::fid5::FID5);
        let (source, view) = packet.data_source(message, c"Reassembled RTP message");
        tree::message(&view, root, message, frames, sna_on && fid5);
        if sna_on && fid5 {
            visible = Some(SubCall {
                handle: sna,
                data: Some(source),
                offset: 0,
                len: None,
                tree: packet.tree(),
            });
        }
    } else if let Some(offset) = whole_biu {
        visible = Some(SubCall {
            handle: sna,
            data: None,
            offset,
            len: None,
            tree: packet.tree(),
        });
    }
    let compat = compat_call(packet, root, &datagram, whole_biu, llc_handle);
    match (compat, visible) {
        (Some(first), then) => Outcome::Calls {
            first,
            then,
            consumed: bytes.len(),
        },
        (None, Some(first)) => Outcome::Calls {
            first,
            then: None,
            consumed: bytes.len(),
        },
        (None, None) => Outcome::Done(bytes.len()),
    }
}

/// Where a FID5 BIU starts that is a whole message in this packet and can
/// go to Wireshark's sna as it is.
fn whole_biu_offset(datagram: &Datagram) -> Option<usize> {
    let Body::Nlp(nlp) = &datagram.body else {
        return None;
    };
    let (_, thdr) = nlp.thdr.as_ref()?;
    let whole = thdr.has(ee::thdr::flags0::SOMI) && thdr.has(ee::thdr::flags0::EOMI);
    match &nlp.payload {
        Some((offset, Payload::Fid5(_))) if whole && datagram.error.is_none() => Some(*offset),
        _ => None,
    }
}

/// Wireshark's llc (→ sna) decode of the datagram into a hidden subtree:
/// `llc.*` and `sna.*` stay filterable as without this plugin.  When the
/// BIU goes to sna visibly, this one stops before it, so that sna decodes
/// each BIU once.
fn compat_call(
    packet: &Packet,
    root: Tree,
    datagram: &Datagram,
    visible_biu: Option<usize>,
    llc: sys::dissector_handle_t,
) -> Option<SubCall> {
    if llc.is_null() || datagram.llc.is_none() {
        return None;
    }
    let len = packet.captured_len();
    let item = packet.add_label_at(root, &LBL_COMPAT, 0..len);
    packet.set_hidden(root, item);
    Some(SubCall {
        handle: llc,
        data: None,
        offset: 0,
        len: Some(visible_biu.unwrap_or(len)),
        tree: packet.subtree(item, &ETT_COMPAT),
    })
}

/// The role of the port this datagram came to, from the `ee.udp.port`
/// range it is in (first port of the range = signalling).
fn port_role(packet: &Packet, root: Tree) -> Option<(PortRole, u32)> {
    let mut ranges = range_pref_value(c"ee", c"udp.port");
    if ranges.is_empty() {
        ranges.push((ports::DEFAULT_BASE, ports::DEFAULT_BASE + 4));
    }
    let found = PortRole::in_ranges(&ranges, packet.matched_value());
    if let Some((role, base)) = found {
        let item = packet.add_string(root, &PORT_ROLE, 0, 0, role.label());
        packet.set_generated(item);
        let sub = packet.subtree(item, &ETT_FLAGS);
        let item = packet.add_uint(sub, &PORT_BASE, 0, 0, base);
        packet.set_generated(item);
        packet.append_text(root, &format!(", {}", role.label()));
    }
    found
}

/// IP type of service and NHDR transmission priority against the port's
/// role (an LLC command may also carry the signalling TOS: ports::tos_fits).
fn priority_checks(
    packet: &Packet,
    root: Tree,
    role: Option<(PortRole, u32)>,
    llc_command: bool,
    nlp: Option<&Nlp>,
) {
    let Some((role, _)) = role else { return };
    if let Some(ip) = packet.ip_header(IP_PROTO_UDP, UDP_HEADER_LEN) {
        let table = ports::parse_tos(&PREF_IPTOS.get()).unwrap_or(ports::DEFAULT_TOS);
        let expected = table[role.index()];
        let item = packet.add_uint(root, &IP_TOS, 0, 0, ip.tos.into());
        packet.set_generated(item);
        let sub = packet.subtree(item, &ETT_FLAGS);
        let e = packet.add_uint(sub, &IP_TOS_EXPECTED, 0, 0, expected.into());
        packet.set_generated(e);
        if !ports::tos_fits(&table, role, llc_command, ip.tos) {
            packet.add_expert(
                item,
                &EI_TOS,
                &format!(
                    "IP TOS {:#04x} on the {} port; IPTOS gives it {expected:#04x}",
                    ip.tos,
                    role.label()
                ),
            );
        }
    }
    let Some(nlp) = nlp.filter(|n| n.thdr.is_some()) else {
        return;
    };
    let (Some(expected), tpf) = (
        role.transmission_priority(),
        nlp.nhdr.transmission_priority(),
    ) else {
        return;
    };
    if tpf != expected {
        let item = packet.add_uint(root, &TPF_EXPECTED, 0, 0, expected.into());
        packet.set_generated(item);
        packet.add_expert(
            item,
            &EI_PRIORITY,
            &format!(
                "Transmission priority {tpf} on the {} port, which carries priority {expected}",
                role.label()
            ),
        );
    }
}

/// What this packet contributes to its connection's row of `-z ee,rtp`.
fn record(packet: &Packet, nlp: &Nlp, analysis: &FrameAnalysis) -> Option<RtpRecord> {
    let (_, thdr) = nlp.thdr.as_ref()?;
    let mut r = RtpRecord {
        stream: analysis.stream,
        side: analysis.side,
        source: packet.source(),
        destination: packet.destination(),
        tcid: thdr.tcid(),
        tpf: nlp.nhdr.transmission_priority(),
        dlf: thdr.dlf(),
        end_of_message: thdr.has(ee::thdr::flags0::EOMI),
        repeat: matches!(
            analysis.data,
            Some(DataKind::Retransmission { original: Some(_) } | DataKind::Duplicate { .. })
        ),
        data: match analysis.data {
            None => DataClass::None,
            Some(DataKind::InOrder) => DataClass::InOrder,
            Some(DataKind::Gap { .. }) => DataClass::Gap,
            Some(DataKind::OutOfOrder) => DataClass::OutOfOrder,
            Some(DataKind::Retransmission { .. }) => DataClass::Retransmission,
            Some(DataKind::Duplicate { .. }) => DataClass::Duplicate,
        },
        status_rtt_ns: analysis.status_reply_to.map(|(_, ns)| ns),
        setup: analysis.setup,
        path_switch: analysis.path_switch,
        fault: None,
        out_of_band: None,
        arb_mode: analysis.arb.map(|a| a.mode),
        stall: analysis.stall.is_some(),
        stall_relieved: analysis.stall_relieved.is_some(),
    };
    for segment in &nlp.segments {
        match segment.content {
            SegmentContent::ConnectionFault(sense) => r.fault = Some(sense),
            SegmentContent::ClientOutOfBand(bits) => r.out_of_band = Some(bits),
            _ => {}
        }
    }
    Some(r)
}
