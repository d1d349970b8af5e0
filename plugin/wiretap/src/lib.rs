//! pktmatch's file format (wiretap) plugin: the z/OS CTRACE file type and the
//! "ctrace" encapsulation that the `ctrace` dissector attaches to.
//!
//! Foundation scope: the file type, encapsulation and a heuristic open routine
//! are registered, so `-G plugins` lists the plugin as a file type plugin;
//! the open routine recognises nothing yet (the CTRACE issue teaches it the
//! formats).  Only libwiretap/libwsutil symbols may be used here: capinfos
//! and editcap load this plugin without libwireshark.

use std::ffi::{c_char, c_int};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use wireshark_ffi::register::StaticTable;
use wireshark_ffi::{abi, guard, plugin_symbols, sys};

plugin_symbols!(describe: wireshark_ffi::plugin::DESCRIBE_FILE_TYPE, register: register_plugin);

static PLUGIN: sys::pm_wtap_plugin = sys::pm_wtap_plugin {
    register_wtap_module: Some(register_module),
};

/// Read-only format: packets only, no options.
static SUPPORTED_BLOCKS: StaticTable<[sys::supported_block_type; 1]> =
    StaticTable([sys::supported_block_type {
        type_: sys::PM_WTAP_BLOCK_PACKET,
        support: sys::PM_MULTIPLE_BLOCKS_SUPPORTED,
        num_supported_options: 0,
        supported_options: ptr::null(),
    }]);

static FILE_TYPE: StaticTable<sys::file_type_subtype_info> =
    StaticTable(sys::file_type_subtype_info {
        description: c"z/OS CTRACE (SYSTCPDA/SYSTCPOT)".as_ptr(),
        name: c"ctrace".as_ptr(),
        default_file_extension: ptr::null(),
        additional_file_extensions: ptr::null(),
        writing_must_seek: abi::wbool(false),
        num_supported_blocks: SUPPORTED_BLOCKS.0.len(),
        supported_blocks: SUPPORTED_BLOCKS.0.as_ptr(),
        can_write_encap: None,
        dump_open: None,
        wslua_info: ptr::null_mut(),
    });

static FILE_TYPE_ID: AtomicI32 = AtomicI32::new(-1);
static ENCAP_ID: AtomicI32 = AtomicI32::new(-1);

fn register_plugin() {
    // SAFETY: PLUGIN is static; Wireshark calls register_module later.
    unsafe { sys::wtap_register_plugin(&PLUGIN) };
}

extern "C" fn register_module() {
    guard::registration("ctrace file type registration", || {
        // SAFETY: static, NUL-terminated data that Wireshark keeps.
        unsafe {
            let file_type = sys::wtap_register_file_type_subtype(&FILE_TYPE.0);
            FILE_TYPE_ID.store(file_type, Ordering::Relaxed);
            let encap =
                sys::wtap_register_encap_type(c"z/OS CTRACE record".as_ptr(), c"ctrace".as_ptr());
            ENCAP_ID.store(encap, Ordering::Relaxed);
            // Wireshark keeps (and writes to) the open_info: leak one.
            let open_info = Box::leak(Box::new(sys::open_info {
                name: c"z/OS CTRACE".as_ptr(),
                type_: sys::PM_OPEN_INFO_HEURISTIC,
                open_routine: Some(open_ctrace),
                extensions: ptr::null(),
                extensions_set: ptr::null_mut(),
                wslua_data: ptr::null_mut(),
            }));
            sys::wtap_register_open_info(open_info, abi::wbool(false));
        }
    });
}

/// Heuristic open routine.  Recognises nothing yet.
unsafe extern "C" fn open_ctrace(
    _wth: *mut sys::wtap,
    _err: *mut c_int,
    _err_info: *mut *mut c_char,
) -> c_int {
    guard::catch(|| sys::PM_WTAP_OPEN_NOT_MINE as c_int)
        .unwrap_or(sys::PM_WTAP_OPEN_NOT_MINE as c_int)
}
