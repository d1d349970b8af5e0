//! The symbols Wireshark's plugin loader looks up in a plugin library:
//! `plugin_version` (a NUL-terminated char array), `plugin_want_major` and
//! `plugin_want_minor` (ints that must equal the running major.minor),
//! `plugin_register` (called once) and, from 4.4, `plugin_describe` (type
//! flags shown by `tshark -G plugins`; older versions ignore it).
//! Use [`crate::plugin_symbols!`] once at the root of each plugin crate.

/// `plugin_describe` flags (WS_PLUGIN_DESC_*, verified for 4.4+ by the
/// layout test; 4.0 has no such symbol and never calls plugin_describe).
#[cfg(ws_plugin_describe)]
pub const DESCRIBE_DISSECTOR: u32 = crate::sys::PM_WS_PLUGIN_DESC_DISSECTOR;
#[cfg(ws_plugin_describe)]
pub const DESCRIBE_FILE_TYPE: u32 = crate::sys::PM_WS_PLUGIN_DESC_FILE_TYPE;
#[cfg(not(ws_plugin_describe))]
pub const DESCRIBE_DISSECTOR: u32 = 1;
#[cfg(not(ws_plugin_describe))]
pub const DESCRIBE_FILE_TYPE: u32 = 2;

/// Copies a NUL-terminated string into a fixed-size array at compile time.
pub const fn nul_terminated<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(
        bytes.len() == N && N > 0 && bytes[N - 1] == 0,
        "needs exactly one trailing NUL"
    );
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Exports the plugin symbols.  `describe` is one of the DESCRIBE_ consts;
/// `register` is called (under the panic guard) from `plugin_register`.
#[macro_export]
macro_rules! plugin_symbols {
    (describe: $describe:expr, register: $register:path) => {
        #[no_mangle]
        pub static plugin_version: [u8; concat!(env!("CARGO_PKG_VERSION"), "\0").len()] =
            $crate::plugin::nul_terminated(concat!(env!("CARGO_PKG_VERSION"), "\0"));

        #[no_mangle]
        pub static plugin_want_major: ::std::ffi::c_int = $crate::abi::MAJOR;

        #[no_mangle]
        pub static plugin_want_minor: ::std::ffi::c_int = $crate::abi::MINOR;

        #[no_mangle]
        pub extern "C" fn plugin_register() {
            $crate::guard::registration("plugin_register", $register);
        }

        #[no_mangle]
        pub extern "C" fn plugin_describe() -> u32 {
            $describe
        }
    };
}
