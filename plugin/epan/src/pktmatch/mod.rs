//! The `pktmatch` post-dissector: where the same packet was seen at the other
//! capture points of a session, read from the sidecar index `pktmatch index`
//! writes (crates/index, docs/index-format.md).
//!
//! Files by role: `fields` (fields, subtrees, expert infos), `source` (which
//! index file, reading and caching it), `lookup` (per-index tables built at
//! load), `session` (which point the open capture is, frame by frame; merged
//! captures), `tree` (what a frame shows), `hops` (the per-hop statistics
//! table, `-z pktmatch,hops`).
//!
//! With neither the preference `pktmatch.index` nor `PKTMATCH_INDEX` set the
//! post-dissector is not even registered: Wireshark's call of a
//! post-dissector alone costs about 700 instructions per frame (a protocol
//! layer pushed and popped), 1.7 % of a plain `tshark -r`.  It is registered
//! by the init routine Wireshark runs before dissecting a capture, the first
//! time an index is configured (the preference applies before that routine
//! runs in tshark, and a change in the GUI redissects, which runs it again);
//! Wireshark exports no way to unregister it, so from then on frames cost the
//! two loads of the idle check when the index is unset again.  With an
//! index, each frame costs one 44-byte hash (its check), one lock and O(1)
//! index reads; labels are formatted only when Wireshark builds a tree.

mod fields;
mod hops;
mod lookup;
mod session;
mod source;
mod tree;

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use wireshark_ffi::packet::{Outcome, Packet};
use wireshark_ffi::register::{BoolPref, Protocol, StringPref, UintPref};
use wireshark_ffi::{guard, sys};

static PROTO: Protocol = Protocol::new();
static PREF_INDEX: StringPref = StringPref::new(c"");
static PREF_INFO_TAG: BoolPref = BoolPref::new(false);
static PREF_LOW_CONFIDENCE: UintPref = UintPref::new(50);
static HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static REGISTERED: AtomicBool = AtomicBool::new(false);

pub fn register() {
    let mut reg = PROTO.register(
        c"Packet matching across capture points",
        c"pktmatch",
        c"pktmatch",
        c"pktmatch.internal_error",
    );
    fields::register(&reg);
    reg.filename_pref(
        &PREF_INDEX,
        c"index",
        c"Match index",
        c"Sidecar index written by `pktmatch index` (*.pktmatch).  Empty: the environment \
          variable PKTMATCH_INDEX is used; when that is unset too, matching is off.",
    );
    reg.bool_pref(
        &PREF_INFO_TAG,
        c"info_tag",
        c"Tag the Info column",
        c"Append a short tag to the Info column: [pm: wan#871 dc#860], [pm: lost@dc], \
          [pm: unmatched].",
    );
    reg.uint_pref(
        &PREF_LOW_CONFIDENCE,
        c"low_confidence",
        c"Low confidence below (%)",
        c"Matches whose confidence is below this percentage get a low-confidence expert \
          info (0: never).",
    );
    session::register_reset();
    hops::register();
    // SAFETY: a static function without arguments, called by Wireshark on
    // its main thread before it dissects a capture.
    unsafe { sys::register_init_routine(Some(register_when_needed)) };
}

pub fn handoff() {
    // SAFETY: creates a handle for a static function with our protocol id.
    let handle = unsafe { sys::create_dissector_handle(Some(dissect), PROTO.id()) };
    HANDLE.store(handle, Ordering::Relaxed);
    // The fault-injection build must reach its deliberate panic without an
    // index (tests/fault_injection.rs).
    if cfg!(feature = "fault-injection") {
        register_postdissector();
    }
}

fn register_postdissector() {
    let handle = HANDLE.load(Ordering::Relaxed);
    if !handle.is_null() && !REGISTERED.swap(true, Ordering::Relaxed) {
        // SAFETY: a handle Wireshark made; called between dissections.
        unsafe { sys::register_postdissector(handle) };
    }
}

/// Init routine: registers the post-dissector once an index is configured.
unsafe extern "C" fn register_when_needed() {
    let _ = guard::catch(|| {
        if index_path().is_some() {
            register_postdissector();
        }
    });
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_packet);

/// The index file to use: the preference, else the environment.
fn index_path() -> Option<String> {
    if !PREF_INDEX.is_empty() {
        return Some(PREF_INDEX.get());
    }
    source::env_path().map(str::to_owned)
}

fn dissect_packet(packet: &mut Packet) -> Outcome {
    #[cfg(feature = "fault-injection")]
    fault_injection::panic_on_marker(packet);

    // The idle case first, as cheap as it can be.
    if PREF_INDEX.is_empty() && source::env_path().is_none() {
        return Outcome::NotMine;
    }
    // The path is needed (and copied) only at the first frame of a capture.
    let path = || index_path().unwrap_or_default();
    let check = |ts_ns: i64| {
        let bytes = packet.bytes();
        let caplen = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        index::frame_check(ts_ns, caplen, bytes)
    };
    let view = session::view(path, packet.frame_number(), packet.time_ns(), check, || {
        packet.comment(0)
    });
    let options = tree::Options {
        info_tag: PREF_INFO_TAG.get(),
        low_confidence: PREF_LOW_CONFIDENCE.get(),
    };
    tree::show(packet, &PROTO, &view, &options);
    if let Some(point) = view.point {
        hops::tap(packet, point, view.frame);
    }
    // Accepting the frame keeps "pktmatch" in frame.protocols (Protocol
    // Hierarchy); returning 0 would make Wireshark drop that layer again.
    Outcome::Done(packet.captured_len())
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
