//! pktmatch's file format (wiretap) plugin: the z/OS CTRACE file type and the
//! "ctrace" encapsulation that the `ctrace` dissector attaches to; the IPCS
//! report file type and its "ctrace-report" encapsulation, which the same
//! dissector reads.
//!
//! The heuristic open routines recognise by content: a trace (`reader`) in
//! any of the framings a transfer from z/OS leaves (raw entries, RDW, BDW +
//! RDW), an IPCS formatted report (`report`), either of them also packed by
//! AMATERSE or TSO XMIT (unpacked in memory by `zunpack`).  Only
//! libwiretap/libwsutil symbols may be used here: capinfos and editcap load
//! this plugin without libwireshark.

mod reader;
mod report;

use std::ffi::c_int;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use wireshark_ffi::register::StaticTable;
use wireshark_ffi::wiretap::{open_routine, File, FormatReader, ReadError, RecordOut};
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

/// A read-only file type's description (the two differ only in names).
const fn file_type(
    description: &'static std::ffi::CStr,
    name: &'static std::ffi::CStr,
) -> sys::file_type_subtype_info {
    sys::file_type_subtype_info {
        description: description.as_ptr(),
        name: name.as_ptr(),
        default_file_extension: ptr::null(),
        additional_file_extensions: ptr::null(),
        writing_must_seek: abi::wbool(false),
        num_supported_blocks: SUPPORTED_BLOCKS.0.len(),
        supported_blocks: SUPPORTED_BLOCKS.0.as_ptr(),
        can_write_encap: None,
        dump_open: None,
        wslua_info: ptr::null_mut(),
    }
}

static FILE_TYPE: StaticTable<sys::file_type_subtype_info> =
    StaticTable(file_type(c"z/OS CTRACE (SYSTCPDA/SYSTCPOT)", c"ctrace"));

static FILE_TYPE_ID: AtomicI32 = AtomicI32::new(-1);
static ENCAP_ID: AtomicI32 = AtomicI32::new(-1);

static REPORT_FILE_TYPE: StaticTable<sys::file_type_subtype_info> = StaticTable(file_type(
    c"z/OS IPCS packet trace report (SYSTCPDA FULL/FORMAT/DUMP)",
    c"ipcs-report",
));

static REPORT_FILE_TYPE_ID: AtomicI32 = AtomicI32::new(-1);
static REPORT_ENCAP_ID: AtomicI32 = AtomicI32::new(-1);

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
            let report_type = sys::wtap_register_file_type_subtype(&REPORT_FILE_TYPE.0);
            REPORT_FILE_TYPE_ID.store(report_type, Ordering::Relaxed);
            let report_encap = sys::wtap_register_encap_type(
                c"z/OS IPCS report record".as_ptr(),
                c"ctrace-report".as_ptr(),
            );
            REPORT_ENCAP_ID.store(report_encap, Ordering::Relaxed);
            // Registered first, then the trace's before it: text heuristics
            // of other readers come after both.
            let report_info = Box::leak(Box::new(sys::open_info {
                name: c"z/OS IPCS report".as_ptr(),
                type_: sys::PM_OPEN_INFO_HEURISTIC,
                open_routine: Some(open_routine::<IpcsReport>),
                extensions: ptr::null(),
                extensions_set: ptr::null_mut(),
                wslua_data: ptr::null_mut(),
            }));
            sys::wtap_register_open_info(report_info, abi::wbool(true));
            // Wireshark keeps (and writes to) the open_info: leak one.
            let open_info = Box::leak(Box::new(sys::open_info {
                name: c"z/OS CTRACE".as_ptr(),
                type_: sys::PM_OPEN_INFO_HEURISTIC,
                open_routine: Some(open_routine::<Ctrace>),
                extensions: ptr::null(),
                extensions_set: ptr::null_mut(),
                wslua_data: ptr::null_mut(),
            }));
            // First among the heuristic readers: some built-in heuristics
            // misread trace bytes (and read far into a pipe) before ours
            // would run; ours is strict (CTELENP = CTELENE self-check).
            sys::wtap_register_open_info(open_info, abi::wbool(true));
        }
    });
}

/// Bytes looked at before deciding whether to read more (well within the
/// buffer Wireshark keeps for seeking back on pipes).
const PROBE: usize = 4096;

/// The CTRACE format behind Wireshark's reader callbacks.
struct Ctrace(reader::CtraceReader);

impl FormatReader for Ctrace {
    fn file_type() -> c_int {
        FILE_TYPE_ID.load(Ordering::Relaxed)
    }
    fn encapsulation() -> c_int {
        ENCAP_ID.load(Ordering::Relaxed)
    }
    fn open(file: &mut File) -> Result<Option<Self>, ReadError> {
        // A small probe first: when the file is not ours, Wireshark seeks
        // back to 0 for the next reader, which a pipe allows only within its
        // buffer.  More is read only for what already looks like a trace.
        let mut prefix = vec![0u8; PROBE];
        let got = file.read(&mut prefix)?;
        prefix.truncate(got);
        let mut at_eof = got < PROBE;
        if zunpack::detect(&prefix).is_some() {
            // Packed: unpack it all; a trace inside is ours, a report the
            // report reader's.
            let (_, data) = unpack(file, prefix, "CTRACE")?;
            let head = &data[..data.len().min(ctrace::framing::DETECT_PREFIX)];
            return Ok(ctrace::detect(head)
                .ok()
                .map(|framing| Ctrace(reader::CtraceReader::in_memory(framing, data))));
        }
        let mut recognised = reader::recognise(&prefix, at_eof);
        if let reader::Recognised::NeedMore = recognised {
            let mut rest = vec![0u8; ctrace::framing::DETECT_PREFIX - PROBE];
            let more = file.read(&mut rest)?;
            prefix.extend_from_slice(&rest[..more]);
            at_eof = more < rest.len();
            recognised = reader::recognise(&prefix, true);
        }
        match recognised {
            reader::Recognised::Trace(framing) => Ok(Some(Ctrace(reader::CtraceReader::new(
                framing, prefix, at_eof,
            )))),
            reader::Recognised::NotMine | reader::Recognised::NeedMore => Ok(None),
            reader::Recognised::Explain(message) => Err(ReadError::bad_file(message)),
        }
    }

    fn read(&mut self, file: &mut File, out: &mut RecordOut) -> Result<Option<i64>, ReadError> {
        self.0.read(file, out)
    }
    fn seek_read(
        &mut self,
        file: &mut File,
        offset: i64,
        out: &mut RecordOut,
    ) -> Result<(), ReadError> {
        self.0.seek_read(file, offset, out)
    }
}

/// Reads the whole file and takes its containers off.
fn unpack(
    file: &mut File,
    prefix: Vec<u8>,
    who: &str,
) -> Result<(Vec<zunpack::Layer>, Vec<u8>), ReadError> {
    let all = report::read_all(file, prefix)?;
    zunpack::unpack(&all, zunpack::DEFAULT_LIMIT)
        .map_err(|e| ReadError::bad_file(format!("{who}: {e}")))
}

/// The IPCS report format behind Wireshark's reader callbacks.
struct IpcsReport(report::ReportReader);

impl FormatReader for IpcsReport {
    fn file_type() -> c_int {
        REPORT_FILE_TYPE_ID.load(Ordering::Relaxed)
    }
    fn encapsulation() -> c_int {
        REPORT_ENCAP_ID.load(Ordering::Relaxed)
    }
    fn open(file: &mut File) -> Result<Option<Self>, ReadError> {
        let mut prefix = vec![0u8; PROBE];
        let got = file.read(&mut prefix)?;
        prefix.truncate(got);
        if zunpack::detect(&prefix).is_some() {
            let (layers, data) = unpack(file, prefix, "IPCS report")?;
            if !report::is_report(&data[..data.len().min(64 * 1024)]) {
                return Ok(None);
            }
            return report::ReportReader::new(&data, &layers).map(|r| Some(IpcsReport(r)));
        }
        if !report::is_report(&prefix) {
            return Ok(None);
        }
        let all = report::read_all(file, prefix)?;
        report::ReportReader::new(&all, &[]).map(|r| Some(IpcsReport(r)))
    }

    fn read(&mut self, _file: &mut File, out: &mut RecordOut) -> Result<Option<i64>, ReadError> {
        Ok(self.0.read(out))
    }
    fn seek_read(
        &mut self,
        _file: &mut File,
        offset: i64,
        out: &mut RecordOut,
    ) -> Result<(), ReadError> {
        self.0.seek_read(offset, out)
    }
}
