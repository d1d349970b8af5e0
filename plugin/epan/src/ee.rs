//! The `ee` dissector (Enterprise Extender, SNA/HPR over UDP 12000–12004).
//!
//! Foundation scope: the LLC header that starts every EE datagram and the
//! role of the port, decoded by the pure `ee` crate.  After our part the
//! datagram goes on to Wireshark's own `llc` → `sna` decode (preference
//! `ee.llc_handoff`), so taking the ports over loses nothing until the EE
//! issue brings NHDR/THDR/XID3 and RTP analysis.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use ee::llc::LlcHeader;
use ee::ports::PortRole;
use wireshark_ffi::packet::{dissector_entry, Outcome, Packet};
use wireshark_ffi::register::{
    Base, BoolPref, ExpertDef, ExpertField, ExpertGroup, Protocol, Severity, StringField, Subtree,
    UintField, UintWidth,
};
use wireshark_ffi::sys;

/// RFC 2353 section 2.3: the five EE ports (a Wireshark range preference).
const EE_UDP_PORTS: &std::ffi::CStr = c"12000-12004";

static PROTO: Protocol = Protocol::new();
static ETT: Subtree = Subtree::new();
static HF_PORT_ROLE: StringField = StringField::new();
static HF_DSAP: UintField = UintField::new();
static HF_SSAP: UintField = UintField::new();
static HF_CONTROL: UintField = UintField::new();
static HF_COMMAND: StringField = StringField::new();
static EI_MALFORMED: ExpertField = ExpertField::new();
static PREF_LLC_HANDOFF: BoolPref = BoolPref::new(true);
static LLC_HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());

pub fn register() {
    let mut reg = PROTO.register(
        c"Enterprise Extender (SNA/HPR over UDP)",
        c"EE",
        c"ee",
        c"ee.internal_error",
    );
    reg.fields(vec![
        HF_PORT_ROLE.def(
            c"Port role",
            c"ee.port_role",
            c"What the EE UDP port carries (RFC 2353)",
        ),
        HF_DSAP.def(
            c"DSAP",
            c"ee.llc.dsap",
            UintWidth::U8,
            Base::Hex,
            c"IEEE 802.2 destination SAP",
        ),
        HF_SSAP.def(
            c"SSAP",
            c"ee.llc.ssap",
            UintWidth::U8,
            Base::Hex,
            c"IEEE 802.2 source SAP (low bit: response)",
        ),
        HF_CONTROL.def(
            c"Control",
            c"ee.llc.control",
            UintWidth::U8,
            Base::Hex,
            c"IEEE 802.2 U-format control byte",
        ),
        HF_COMMAND.def(
            c"Command",
            c"ee.llc.command",
            c"U-format command, poll/final bit masked off",
        ),
    ]);
    reg.subtrees(&[&ETT]);
    reg.experts(vec![ExpertDef {
        field: &EI_MALFORMED,
        abbrev: c"ee.malformed",
        group: ExpertGroup::Malformed,
        severity: Severity::Error,
        summary: c"Malformed Enterprise Extender datagram",
    }]);
    reg.bool_pref(
        &PREF_LLC_HANDOFF,
        c"llc_handoff",
        c"Continue with Wireshark's LLC/SNA decode",
        c"After the EE header, hand the datagram to Wireshark's own llc/sna dissectors.",
    );
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
    }
}

unsafe extern "C" fn dissect(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut std::ffi::c_void,
) -> c_int {
    // SAFETY: arguments straight from Wireshark.
    unsafe { dissector_entry(&PROTO, tvb, pinfo, tree, dissect_datagram) }
}

fn dissect_datagram(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"EE");
    let bytes = packet.bytes();
    let role = u16::try_from(packet.matched_value())
        .ok()
        .and_then(PortRole::of_port);

    let header_len = bytes.len().min(LlcHeader::LEN);
    let tree = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, header_len);
    if let Some(role) = role {
        packet.add_string(tree, &HF_PORT_ROLE, 0, 0, role.label());
    }
    let llc = match LlcHeader::new_checked(bytes) {
        Ok(llc) => llc,
        Err(error) => {
            packet.add_expert(tree, &EI_MALFORMED, &error.to_string());
            packet.set_info(&format!("EE: {error}"));
            return Outcome::Done(bytes.len());
        }
    };
    packet.add_uint(tree, &HF_DSAP, 0, 1, llc.dsap().into());
    packet.add_uint(tree, &HF_SSAP, 1, 1, llc.ssap().into());
    packet.add_uint(tree, &HF_CONTROL, 2, 1, llc.control().into());
    packet.add_string(tree, &HF_COMMAND, 2, 1, llc.command().label());
    let kind = if llc.is_response() { "rsp" } else { "cmd" };
    packet.set_info(&format!("EE {} {kind}", llc.command().label()));

    let llc_handle = LLC_HANDLE.load(Ordering::Relaxed);
    if PREF_LLC_HANDOFF.get() && !llc_handle.is_null() {
        Outcome::HandOff {
            handle: llc_handle,
            offset: 0,
        }
    } else {
        Outcome::Done(bytes.len())
    }
}
