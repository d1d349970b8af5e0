//! File readers: the glue between Wireshark's wiretap reader callbacks and
//! a reader written in Rust.
//!
//! A plugin implements [`FormatReader`] and hands
//! [`open_routine::<R>`](open_routine) to `wtap_register_open_info`.  When
//! the routine recognises a file it stores the reader in the `wtap`'s
//! private pointer and installs the read, seek-read and close callbacks.
//! Every callback runs under the panic guard: a panic becomes a "bad file"
//! error naming it, never an unwind into C.  The version differences (the
//! data buffer moved into the record in 4.6) stay in this file.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;

use crate::guard;
use crate::sys;

/// Wireshark's file handle (gzip-transparent, seekable).
pub struct File(sys::FILE_T);

impl File {
    /// Reads up to `buf.len()` bytes; fewer only at the end of the file.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(u32::MAX as usize / 2) as u32;
            // SAFETY: the slice is valid for `want` bytes; fh is the open file.
            let got = unsafe { sys::file_read(buf[done..].as_mut_ptr().cast(), want, self.0) };
            if got < 0 {
                return Err(self.error("read"));
            }
            if got == 0 {
                break;
            }
            done += got as usize;
        }
        Ok(done)
    }

    /// Reads exactly `buf.len()` bytes or fails with "short read" naming
    /// `what`.
    pub fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), ReadError> {
        let at = self.tell();
        let got = self.read(buf)?;
        if got < buf.len() {
            return Err(ReadError::short(format!(
                "{what} at byte {at}: {} bytes expected, file ends after {got}",
                buf.len()
            )));
        }
        Ok(())
    }

    pub fn seek(&mut self, offset: i64) -> Result<(), ReadError> {
        let mut err: c_int = 0;
        // SAFETY: fh is the open file; SEEK_SET = 0.
        let at = unsafe { sys::file_seek(self.0, offset, 0, &mut err) };
        if at < 0 || err != 0 {
            return Err(ReadError {
                code: err,
                message: format!("cannot seek to byte {offset}"),
            });
        }
        Ok(())
    }

    pub fn tell(&self) -> i64 {
        // SAFETY: fh is the open file.
        unsafe { sys::file_tell(self.0) }
    }

    fn error(&self, what: &str) -> ReadError {
        let mut info: *mut c_char = ptr::null_mut();
        // SAFETY: file_error may set info to a g_malloc'd string we leave be.
        let code = unsafe { sys::file_error(self.0, &mut info) };
        ReadError {
            code: if code == 0 {
                sys::PM_WTAP_ERR_SHORT_READ
            } else {
                code
            },
            message: format!("{what} failed"),
        }
    }
}

/// Why a record could not be read: a wiretap error code and a message that
/// Wireshark shows the user.
#[derive(Debug)]
pub struct ReadError {
    code: c_int,
    message: String,
}

impl ReadError {
    /// The file is not what it claims, or is damaged ("bad file").
    pub fn bad_file(message: String) -> Self {
        ReadError {
            code: sys::PM_WTAP_ERR_BAD_FILE,
            message,
        }
    }

    /// The file ends in the middle of a record.
    pub fn short(message: String) -> Self {
        ReadError {
            code: sys::PM_WTAP_ERR_SHORT_READ,
            message,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Packet direction, as pcapng's packet flags say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One record a reader hands to Wireshark.
#[derive(Default)]
pub struct RecordOut {
    /// The record's bytes (what the dissector of the encapsulation sees).
    pub bytes: Vec<u8>,
    /// Capture time, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// Length on the wire; the captured length is `bytes.len()`.
    pub original_len: u32,
    pub direction: Option<Direction>,
    /// Packet comments (pcapng `opt_comment`): what the reader found about
    /// the record that its bytes cannot tell the dissector.
    pub comments: Vec<String>,
}

/// A file format reader.  `open` is given the file at offset 0.
pub trait FormatReader: Sized + 'static {
    /// The ids Wireshark gave the file type and encapsulation at
    /// registration.
    fn file_type() -> c_int;
    fn encapsulation() -> c_int;
    /// Recognises the file: Ok(None) = not this format.  On recognition the
    /// reader goes on from where `open` left the file (no seek back: a pipe
    /// cannot seek back beyond Wireshark's small buffer), so a reader keeps
    /// the bytes it looked at.
    fn open(file: &mut File) -> Result<Option<Self>, ReadError>;
    /// The next record and its offset in the file; Ok(None) at the end.
    fn read(&mut self, file: &mut File, out: &mut RecordOut) -> Result<Option<i64>, ReadError>;
    /// The record `read` reported at `offset` (random access).
    fn seek_read(
        &mut self,
        file: &mut File,
        offset: i64,
        out: &mut RecordOut,
    ) -> Result<(), ReadError>;
}

struct State<R> {
    reader: R,
    out: RecordOut,
}

unsafe fn field<T>(base: *mut c_void, offset: u32) -> *mut T {
    // SAFETY: caller passes a valid struct and a layout-checked offset.
    unsafe { base.cast::<u8>().add(offset as usize).cast::<T>() }
}

unsafe fn set<T>(base: *mut c_void, offset: u32, value: T) {
    // SAFETY: as for field.
    unsafe { ptr::write_unaligned(field::<T>(base, offset), value) }
}

unsafe fn get<T: Copy>(base: *mut c_void, offset: u32) -> T {
    // SAFETY: as for field.
    unsafe { ptr::read_unaligned(field::<T>(base, offset)) }
}

/// Hands `message` to Wireshark as a g_malloc'd error string.
unsafe fn report(err: *mut c_int, err_info: *mut *mut c_char, error: &ReadError) {
    let text = CString::new(error.message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: err/err_info are the caller's out-parameters; g_strdup copies.
    unsafe {
        *err = error.code;
        if !err_info.is_null() {
            *err_info = sys::g_strdup(text.as_ptr());
        }
    }
}

fn panic_error(message: String) -> ReadError {
    ReadError::bad_file(format!("internal error in the pktmatch reader: {message}"))
}

/// The heuristic open routine for reader `R`.
///
/// # Safety
/// Called by Wireshark with a valid `wtap` and out-parameters.
pub unsafe extern "C" fn open_routine<R: FormatReader>(
    wth: *mut sys::wtap,
    err: *mut c_int,
    err_info: *mut *mut c_char,
) -> c_int {
    let wth = wth.cast::<c_void>();
    // SAFETY: fh is set by Wireshark before open routines run.
    let mut file = File(unsafe { get(wth, sys::PM_WTAP_OFFSET_FH) });
    let opened = guard::catch(|| R::open(&mut file)).unwrap_or_else(|m| Err(panic_error(m)));
    match opened {
        Ok(None) => sys::PM_WTAP_OPEN_NOT_MINE as c_int,
        Err(error) => {
            // SAFETY: out-parameters from Wireshark.
            unsafe { report(err, err_info, &error) };
            sys::PM_WTAP_OPEN_ERROR
        }
        Ok(Some(reader)) => {
            let state = Box::new(State {
                reader,
                out: RecordOut::default(),
            });
            // SAFETY: offsets checked by the layout test; the callbacks match
            // the real callback types (static asserts in our headers).
            unsafe {
                set(wth, sys::PM_WTAP_OFFSET_FILE_TYPE_SUBTYPE, R::file_type());
                set(wth, sys::PM_WTAP_OFFSET_FILE_ENCAP, R::encapsulation());
                set(
                    wth,
                    sys::PM_WTAP_OFFSET_FILE_TSPREC,
                    sys::PM_WTAP_TSPREC_NSEC as c_int,
                );
                set(wth, sys::PM_WTAP_OFFSET_SNAPSHOT_LENGTH, 0u32);
                set(
                    wth,
                    sys::PM_WTAP_OFFSET_PRIV,
                    Box::into_raw(state).cast::<c_void>(),
                );
                let read: sys::pm_subtype_read_func = Some(read_trampoline::<R>);
                let seek_read: sys::pm_subtype_seek_read_func = Some(seek_read_trampoline::<R>);
                let close: Option<unsafe extern "C" fn(*mut sys::wtap)> =
                    Some(close_trampoline::<R>);
                set(wth, sys::PM_WTAP_OFFSET_SUBTYPE_READ, read);
                set(wth, sys::PM_WTAP_OFFSET_SUBTYPE_SEEK_READ, seek_read);
                set(wth, sys::PM_WTAP_OFFSET_SUBTYPE_CLOSE, close);
            }
            sys::PM_WTAP_OPEN_MINE as c_int
        }
    }
}

unsafe fn state<R>(wth: *mut c_void) -> *mut State<R> {
    // SAFETY: priv holds our State<R> from open_routine until close.
    unsafe { get(wth, sys::PM_WTAP_OFFSET_PRIV) }
}

/// Fills Wireshark's record (and its data buffer) from `out`.
unsafe fn fill<R: FormatReader>(
    rec: *mut sys::pm_wtap_rec,
    buf: *mut sys::Buffer,
    out: &RecordOut,
) {
    let rec = rec.cast::<c_void>();
    // SAFETY: rec/buf are the caller's; offsets layout-checked.
    unsafe {
        #[cfg(ws_rec_has_data)]
        sys::wtap_setup_packet_rec(rec.cast(), R::encapsulation());
        set(
            rec,
            sys::PM_WTAP_REC_OFFSET_REC_TYPE,
            sys::PM_REC_TYPE_PACKET,
        );
        set(
            rec,
            sys::PM_WTAP_REC_OFFSET_PRESENCE_FLAGS,
            sys::PM_WTAP_HAS_TS | sys::PM_WTAP_HAS_CAP_LEN,
        );
        let ts = crate::packet::nstime(out.time_ns);
        set(rec, sys::PM_WTAP_REC_OFFSET_TS, ts);
        set(
            rec,
            sys::PM_WTAP_REC_OFFSET_TSPREC,
            sys::PM_WTAP_TSPREC_NSEC as c_int,
        );
        let caplen = out.bytes.len() as u32;
        set(rec, sys::PM_WTAP_REC_OFFSET_CAPLEN, caplen);
        set(
            rec,
            sys::PM_WTAP_REC_OFFSET_LEN,
            out.original_len.max(caplen),
        );
        set(rec, sys::PM_WTAP_REC_OFFSET_PKT_ENCAP, R::encapsulation());
        if out.direction.is_some() || !out.comments.is_empty() {
            let mut block: sys::wtap_block_t = get(rec, sys::PM_WTAP_REC_OFFSET_BLOCK);
            if block.is_null() {
                block = sys::wtap_block_create(sys::PM_WTAP_BLOCK_PACKET);
                set(rec, sys::PM_WTAP_REC_OFFSET_BLOCK, block);
            }
            if let Some(direction) = out.direction {
                let flags = match direction {
                    Direction::Inbound => sys::PM_PACK_FLAGS_DIRECTION_INBOUND,
                    Direction::Outbound => sys::PM_PACK_FLAGS_DIRECTION_OUTBOUND,
                };
                sys::wtap_block_add_uint32_option(block, sys::PM_OPT_PKT_FLAGS, flags);
            }
            for comment in &out.comments {
                // Wireshark copies the bytes (value, length: no NUL needed).
                sys::wtap_block_add_string_option(
                    block,
                    sys::PM_OPT_COMMENT,
                    comment.as_ptr().cast(),
                    comment.len(),
                );
            }
        }
        // The bytes go at the buffer's start; its length is set to them
        // (the caller reads them from the start, 4.6 also by length).
        sys::ws_buffer_assure_space(buf, out.bytes.len());
        let data = (*buf).data.add((*buf).start);
        ptr::copy_nonoverlapping(out.bytes.as_ptr(), data, out.bytes.len());
        (*buf).first_free = (*buf).start + out.bytes.len();
    }
}

#[cfg(ws_rec_has_data)]
unsafe fn record_buffer(rec: *mut sys::pm_wtap_rec) -> *mut sys::Buffer {
    // SAFETY: the record's own buffer (4.6), offset layout-checked.
    unsafe { field(rec.cast(), sys::PM_WTAP_REC_OFFSET_DATA) }
}

unsafe fn do_read<R: FormatReader>(
    wth: *mut sys::wtap,
    rec: *mut sys::pm_wtap_rec,
    buf: *mut sys::Buffer,
    err: *mut c_int,
    err_info: *mut *mut c_char,
    data_offset: *mut i64,
) -> bool {
    let wth = wth.cast::<c_void>();
    // SAFETY: priv and fh as set in open_routine.
    let (state, mut file) = unsafe {
        (
            &mut *state::<R>(wth),
            File(get(wth, sys::PM_WTAP_OFFSET_FH)),
        )
    };
    let result = guard::catch(|| state.reader.read(&mut file, &mut state.out))
        .unwrap_or_else(|m| Err(panic_error(m)));
    match result {
        Ok(Some(offset)) => {
            // SAFETY: out-parameters and buffers from Wireshark.
            unsafe {
                fill::<R>(rec, buf, &state.out);
                *data_offset = offset;
            }
            true
        }
        Ok(None) => {
            // SAFETY: out-parameter.
            unsafe { *err = 0 };
            false
        }
        Err(error) => {
            // SAFETY: out-parameters.
            unsafe { report(err, err_info, &error) };
            false
        }
    }
}

unsafe fn do_seek_read<R: FormatReader>(
    wth: *mut sys::wtap,
    offset: i64,
    rec: *mut sys::pm_wtap_rec,
    buf: *mut sys::Buffer,
    err: *mut c_int,
    err_info: *mut *mut c_char,
) -> bool {
    let wth = wth.cast::<c_void>();
    // SAFETY: priv and random_fh as set by open_routine / Wireshark.
    let (state, mut file) = unsafe {
        (
            &mut *state::<R>(wth),
            File(get(wth, sys::PM_WTAP_OFFSET_RANDOM_FH)),
        )
    };
    let result = guard::catch(|| state.reader.seek_read(&mut file, offset, &mut state.out))
        .unwrap_or_else(|m| Err(panic_error(m)));
    match result {
        Ok(()) => {
            // SAFETY: as in do_read.
            unsafe { fill::<R>(rec, buf, &state.out) };
            true
        }
        Err(error) => {
            // SAFETY: out-parameters.
            unsafe { report(err, err_info, &error) };
            false
        }
    }
}

#[cfg(not(ws_rec_has_data))]
unsafe extern "C" fn read_trampoline<R: FormatReader>(
    wth: *mut sys::wtap,
    rec: *mut sys::pm_wtap_rec,
    buf: *mut sys::Buffer,
    err: *mut c_int,
    err_info: *mut *mut c_char,
    data_offset: *mut i64,
) -> sys::pm_wbool {
    // SAFETY: arguments from Wireshark.
    crate::abi::wbool(unsafe { do_read::<R>(wth, rec, buf, err, err_info, data_offset) })
}

#[cfg(ws_rec_has_data)]
unsafe extern "C" fn read_trampoline<R: FormatReader>(
    wth: *mut sys::wtap,
    rec: *mut sys::pm_wtap_rec,
    err: *mut c_int,
    err_info: *mut *mut c_char,
    data_offset: *mut i64,
) -> sys::pm_wbool {
    // SAFETY: arguments from Wireshark.
    crate::abi::wbool(unsafe {
        do_read::<R>(wth, rec, record_buffer(rec), err, err_info, data_offset)
    })
}

#[cfg(not(ws_rec_has_data))]
unsafe extern "C" fn seek_read_trampoline<R: FormatReader>(
    wth: *mut sys::wtap,
    offset: i64,
    rec: *mut sys::pm_wtap_rec,
    buf: *mut sys::Buffer,
    err: *mut c_int,
    err_info: *mut *mut c_char,
) -> sys::pm_wbool {
    // SAFETY: arguments from Wireshark.
    crate::abi::wbool(unsafe { do_seek_read::<R>(wth, offset, rec, buf, err, err_info) })
}

#[cfg(ws_rec_has_data)]
unsafe extern "C" fn seek_read_trampoline<R: FormatReader>(
    wth: *mut sys::wtap,
    offset: i64,
    rec: *mut sys::pm_wtap_rec,
    err: *mut c_int,
    err_info: *mut *mut c_char,
) -> sys::pm_wbool {
    // SAFETY: arguments from Wireshark.
    crate::abi::wbool(unsafe {
        do_seek_read::<R>(wth, offset, rec, record_buffer(rec), err, err_info)
    })
}

unsafe extern "C" fn close_trampoline<R: FormatReader>(wth: *mut sys::wtap) {
    let wth = wth.cast::<c_void>();
    // SAFETY: priv holds our box; wtap_close g_free()s priv afterwards, so
    // it is set to NULL here once the reader is dropped.
    unsafe {
        let state = state::<R>(wth);
        if !state.is_null() {
            let _ = guard::catch(move || drop(Box::from_raw(state)));
            set(wth, sys::PM_WTAP_OFFSET_PRIV, ptr::null_mut::<c_void>());
        }
    }
}
