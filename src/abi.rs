//! Which Wireshark ABI this build targets, and the runtime check that the
//! running Wireshark is that one.

use crate::sys;

/// "X.Y" of the Wireshark this build is for (set by build.rs).
pub const BUILT_FOR: &str = env!("PKTMATCH_WIRESHARK_ABI");

/// (major, minor) of the variant header bindgen read.
pub const MAJOR: i32 = sys::PM_WS_MAJOR as i32;
pub const MINOR: i32 = sys::PM_WS_MINOR as i32;

/// The boolean type Wireshark uses for preferences and wiretap callbacks:
/// `gboolean` (an int) before 4.4, C `bool` from 4.4.
pub type WBool = sys::pm_wbool;

#[cfg(ws_bool_is_c_bool)]
pub const fn wbool(value: bool) -> WBool {
    value
}

#[cfg(not(ws_bool_is_c_bool))]
pub const fn wbool(value: bool) -> WBool {
    value as WBool
}

#[cfg(ws_bool_is_c_bool)]
pub const fn from_wbool(value: WBool) -> bool {
    value
}

#[cfg(not(ws_bool_is_c_bool))]
pub const fn from_wbool(value: WBool) -> bool {
    value != 0
}

/// Version of the running libwireshark.  Only for epan plugins: a wiretap
/// plugin may be loaded by programs (capinfos, editcap) without libwireshark.
pub fn running_epan_version() -> (i32, i32, i32) {
    let (mut major, mut minor, mut micro) = (0, 0, 0);
    // SAFETY: plain out-parameters; the function has no other effect.
    unsafe { sys::epan_get_version_number(&mut major, &mut minor, &mut micro) };
    (major, minor, micro)
}

/// Err(message) when the running libwireshark is not the ABI we were built
/// for.  The plugin loader already compares major.minor with
/// plugin_want_major/minor; this catches libraries swapped under the loader.
pub fn check_running_epan() -> Result<(), String> {
    let (major, minor, micro) = running_epan_version();
    if (major, minor) == (MAJOR, MINOR) {
        Ok(())
    } else {
        Err(format!(
            "built for Wireshark {BUILT_FOR} but running in {major}.{minor}.{micro}; \
             rebuild with WIRESHARK_VERSION={major}.{minor}"
        ))
    }
}
