//! The `ee` dissector: Enterprise Extender (SNA/HPR over UDP 12000–12004).
//!
//! Files by role: `fields` (every field, subtree and expert info), `tree`
//! (shows what the `ee` crate decoded), `rtp` (per-capture RTP connection
//! analysis and message reassembly).  The datagram is decoded once by
//! `ee::datagram::Datagram::parse`; nothing here reads wire bytes itself.
//! FID5 BIUs (reassembled when split) go on to Wireshark's own `sna`
//! dissector for the RU, unless the preference turns it off; with
//! `ee.llc_handoff` the whole datagram goes to Wireshark's llc/sna instead.

mod fields;
mod rtp;
mod tree;

use std::sync::atomic::{AtomicPtr, Ordering};

use ee::datagram::{Body, Datagram, Payload};
use ee::ports::PortRole;
use wireshark_ffi::packet::{Outcome, Packet};
use wireshark_ffi::register::{BoolPref, Protocol};
use wireshark_ffi::sys;

use fields::*;

/// RFC 2353 section 2.3: the five EE ports (a Wireshark range preference).
const EE_UDP_PORTS: &std::ffi::CStr = c"12000-12004";

static PROTO: Protocol = Protocol::new();
static PREF_LLC_HANDOFF: BoolPref = BoolPref::new(false);
static PREF_SNA_BIU: BoolPref = BoolPref::new(true);
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
        c"After the EE decode of TH and RH, let Wireshark's sna dissector show the RU \
          (reassembled when an RTP message spans several packets).",
    );
    rtp::register_reset();
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

fn dissect_datagram(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"EE");
    let bytes = packet.bytes();
    let datagram = Datagram::parse(bytes);
    let root = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let role = u16::try_from(packet.matched_value())
        .ok()
        .and_then(PortRole::of_port);
    if let Some(role) = role {
        let item = packet.add_string(root, &PORT_ROLE, 0, 0, role.label());
        packet.set_generated(item);
        packet.append_text(root, &format!(", {}", role.label()));
    }
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
    tree::body(packet, root, &datagram, &mut info);
    let analysis = match &datagram.body {
        Body::Nlp(nlp) if nlp.thdr.is_some() => rtp::analyse(packet, nlp),
        _ => None,
    };
    if let Some(analysis) = &analysis {
        rtp::show(packet, root, analysis, &mut info);
    }
    if let Some(error) = &datagram.error {
        packet.add_expert(root, &EI_MALFORMED, &error.to_string());
        info.push_str(" [malformed]");
    }
    packet.set_info(&info);

    let sna = SNA_HANDLE.load(Ordering::Relaxed);
    // Wireshark's sna would replace our Info with "HPR RTP endpoint nodes"
    // (with ee.llc_handoff, above, llc/sna write the columns themselves).
    packet.keep_columns();
    if !PREF_SNA_BIU.get() || sna.is_null() {
        return Outcome::Done(bytes.len());
    }
    // A whole message reassembled here: show its headers over the new data
    // source and let sna decode the BIU.
    if let Some((message, frames)) = analysis.as_ref().and_then(|a| a.message.as_ref()) {
        let (source, view) = packet.data_source(message, c"Reassembled RTP message");
        tree::message(&view, root, message, frames);
        if message.first().is_some_and(|b| b >> 4 == ee::fid5::FID5) {
            return Outcome::HandOffData {
                handle: sna,
                data: source,
                offset: 0,
            };
        }
        return Outcome::Done(bytes.len());
    }
    if let Body::Nlp(nlp) = &datagram.body {
        let whole = nlp.thdr.as_ref().is_some_and(|(_, thdr)| {
            thdr.has(ee::thdr::flags0::SOMI) && thdr.has(ee::thdr::flags0::EOMI)
        });
        if let Some((offset, Payload::Fid5(_))) = &nlp.payload {
            if whole && datagram.error.is_none() {
                return Outcome::HandOff {
                    handle: sna,
                    offset: *offset,
                };
            }
        }
    }
    Outcome::Done(bytes.len())
}
