//! The `ctrace` dissector (z/OS Communications Server component trace
//! records).  Foundation scope: the protocol, its format-id field and the
//! TOD−UTC preference are registered, and the dissector is attached to the
//! "ctrace" encapsulation that our wiretap plugin registers.  Reading trace
//! files and decoding every record field is the CTRACE issue's work.

use wireshark_ffi::packet::{Outcome, Packet};
use wireshark_ffi::register::{Base, Protocol, Subtree, UintField, UintPref, UintWidth};
use wireshark_ffi::sys;

/// Offset and length of CTEFMTID in a component trace entry (IBM z/OS MVS
/// Diagnosis: Tools and Service Aids, "Understanding the fields in a CTE").
const CTE_FORMAT_ID: (usize, usize) = (4, 4);

static PROTO: Protocol = Protocol::new();
static ETT: Subtree = Subtree::new();
static HF_FORMAT_ID: UintField = UintField::new();
static PREF_TOD_MINUS_UTC: UintPref = UintPref::new(0);

pub fn register() {
    let mut reg = PROTO.register(
        c"z/OS Communications Server component trace record",
        c"CTRACE",
        c"ctrace",
        c"ctrace.internal_error",
    );
    reg.fields(vec![HF_FORMAT_ID.def(
        c"Format id",
        c"ctrace.format_id",
        UintWidth::U32,
        Base::Hex,
        c"CTEFMTID: kind of trace record (4 = IPv4/IPv6 packet, 5 = data, 7 = OSA frame)",
    )]);
    reg.subtrees(&[&ETT]);
    reg.uint_pref(
        &PREF_TOD_MINUS_UTC,
        c"tod_leap_seconds",
        c"TOD clock minus UTC (seconds)",
        c"Leap seconds the z/OS TOD clock runs ahead of UTC (0 when the TOD is set to UTC).",
    );
}

pub fn handoff() {
    // SAFETY: wtap_name_to_encap only reads; the encapsulation exists when
    // our wiretap plugin is loaded (wiretap plugins register first).
    unsafe {
        let encap = sys::wtap_name_to_encap(c"ctrace".as_ptr());
        if encap > 0 {
            let handle = sys::register_dissector(c"ctrace".as_ptr(), Some(dissect), PROTO.id());
            sys::dissector_add_uint(c"wtap_encap".as_ptr(), encap as u32, handle);
        }
    }
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_record);

fn dissect_record(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"CTRACE");
    let bytes = packet.bytes();
    let tree = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let (offset, len) = CTE_FORMAT_ID;
    if let Some(id) = bytes.get(offset..offset + len) {
        let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        packet.add_uint(tree, &HF_FORMAT_ID, offset, len, id);
    }
    Outcome::Done(bytes.len())
}
