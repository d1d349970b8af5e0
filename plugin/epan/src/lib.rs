//! pktmatch's dissector (epan) plugin: registers the `ctrace`, `ee` and
//! `pktmatch` protocols.  One file per protocol; each has a `register`
//! (fields, subtrees, expert infos, preferences) and a `handoff`.

use wireshark_ffi::{abi, guard, plugin_symbols, sys};

mod ctrace;
mod ee;
mod pktmatch;

plugin_symbols!(describe: wireshark_ffi::plugin::DESCRIBE_DISSECTOR, register: register_plugin);

static PLUGIN: sys::pm_proto_plugin = sys::pm_proto_plugin {
    register_protoinfo: Some(register_protocols),
    register_handoff: Some(register_handoffs),
};

fn register_plugin() {
    if let Err(problem) = abi::check_running_epan() {
        guard::report(&format!("dissector plugin not registered: {problem}"));
        return;
    }
    // SAFETY: PLUGIN is static; Wireshark calls its functions later.
    unsafe { sys::proto_register_plugin(&PLUGIN) };
}

extern "C" fn register_protocols() {
    guard::registration("ctrace registration", ctrace::register);
    guard::registration("ee registration", ee::register);
    guard::registration("pktmatch registration", pktmatch::register);
}

extern "C" fn register_handoffs() {
    guard::registration("ctrace handoff", ctrace::handoff);
    guard::registration("ee handoff", ee::handoff);
    guard::registration("pktmatch handoff", pktmatch::handoff);
}
