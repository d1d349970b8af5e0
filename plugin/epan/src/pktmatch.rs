//! The `pktmatch` post-dissector: where the same packet was seen at the other
//! capture points.  This is the skeleton of the foundation issue: protocol,
//! fields and the index preference are registered; reading the index and
//! filling the fields is the post-dissector issue's work, so until then the
//! post-dissector stays idle (and costs one preference check per frame).

use wireshark_ffi::packet::{Outcome, Packet};
use wireshark_ffi::register::{FrameNumField, Protocol, StringField, StringPref, Subtree};
use wireshark_ffi::sys;

static PROTO: Protocol = Protocol::new();
static ETT: Subtree = Subtree::new();
static HF_PEER_FRAME: FrameNumField = FrameNumField::new();
static HF_PEER_POINT: StringField = StringField::new();
static PREF_INDEX: StringPref = StringPref::new(c"");

pub fn register() {
    let mut reg = PROTO.register(
        c"Packet matching across capture points",
        c"pktmatch",
        c"pktmatch",
        c"pktmatch.internal_error",
    );
    reg.fields(vec![
        HF_PEER_FRAME.def(
            c"Peer frame",
            c"pktmatch.peer_frame",
            c"Frame number of the same packet in the peer capture",
        ),
        HF_PEER_POINT.def(
            c"Peer point",
            c"pktmatch.peer_point",
            c"Label of the capture point where the peer frame was seen",
        ),
    ]);
    reg.subtrees(&[&ETT]);
    reg.filename_pref(
        &PREF_INDEX,
        c"index",
        c"Match index",
        c"Sidecar index written by `pktmatch index` (*.pktmatch). Empty: matching is off.",
    );
}

pub fn handoff() {
    // SAFETY: registers a static function with our protocol id.
    unsafe {
        let handle = sys::create_dissector_handle(Some(dissect), PROTO.id());
        sys::register_postdissector(handle);
    }
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_packet);

fn dissect_packet(_packet: &mut Packet) -> Outcome {
    #[cfg(feature = "fault-injection")]
    fault_injection::panic_on_marker(_packet);

    if PREF_INDEX.is_empty() {
        return Outcome::NotMine;
    }
    // Reading the index is not implemented yet (post-dissector issue).
    Outcome::NotMine
}

#[cfg(feature = "fault-injection")]
mod fault_injection {
    use wireshark_ffi::packet::Packet;

    const MARKER: &[u8] = b"PKTMATCH-TEST-PANIC";

    pub fn panic_on_marker(packet: &Packet) {
        let bytes = packet.bytes();
        if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
            panic!("deliberate test panic on frame {}", packet.frame_number());
        }
    }
}
