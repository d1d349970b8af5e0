//! A dissector's view of one packet.
//!
//! Wireshark reports errors in tvb accessors and `proto_tree_add_*` by
//! throwing (a longjmp), which must never cross Rust frames holding values
//! with destructors.  So the bytes are copied out once as a slice and parsed
//! in Rust, and every call below checks its range against the captured
//! length first: a bad range is a bug of ours and panics, which
//! [`dissector_entry`] turns into expert info instead of a throw.  Strings
//! handed to Wireshark are copied into the packet's wmem pool, so no Rust
//! allocation is live across a call into C.

use std::ffi::{c_char, c_int, CStr};
use std::ptr;

use crate::guard;
use crate::register::{ExpertField, FrameNumField, Protocol, StringField, Subtree, UintField};
use crate::sys;

/// A node of the protocol tree (NULL when Wireshark builds no tree).
#[derive(Clone, Copy, Debug)]
pub struct Tree(*mut sys::proto_tree);

/// One packet being dissected.
pub struct Packet {
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: Tree,
    captured: usize,
}

/// What a dissector body decided.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    /// Not our packet: Wireshark tries other dissectors.
    NotMine,
    /// Dissected this many bytes.
    Done(usize),
    /// Dissected the header; hand the bytes from `offset` on to `handle`.
    /// The call happens outside the panic guard, with no Rust value that has
    /// a destructor on the stack, because the sub-dissector may throw.
    HandOff {
        handle: sys::dissector_handle_t,
        offset: usize,
    },
}

/// The body of a dissector.
pub type DissectBody = fn(&mut Packet) -> Outcome;

/// Runs a dissector body under the panic guard.  A panic is reported as the
/// protocol's "internal error" expert info on the packet; the dissector then
/// claims the packet so that nothing else is fed half-dissected state.
///
/// # Safety
/// The arguments must be those Wireshark passed to a `dissector_t`.
pub unsafe fn dissector_entry(
    protocol: &'static Protocol,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    body: DissectBody,
) -> c_int {
    let mut packet = Packet::new(tvb, pinfo, tree);
    let outcome = match guard::catch(|| body(&mut packet)) {
        Ok(outcome) => outcome,
        Err(message) => {
            let _ = guard::catch(|| packet.report_internal_error(protocol, &message));
            Outcome::Done(packet.captured)
        }
    };
    // From here on only Copy values are live in this frame.
    let consumed = match outcome {
        Outcome::NotMine => 0,
        Outcome::Done(len) => len,
        Outcome::HandOff { handle, offset } => {
            packet.call(handle, offset);
            packet.captured
        }
    };
    consumed.min(c_int::MAX as usize) as c_int
}

impl Packet {
    /// # Safety
    /// Pointers as handed to a dissector by Wireshark.
    pub unsafe fn new(
        tvb: *mut sys::tvbuff_t,
        pinfo: *mut sys::packet_info,
        tree: *mut sys::proto_tree,
    ) -> Self {
        // SAFETY: tvb is valid for the call; this accessor does not throw.
        let captured = unsafe { sys::tvb_captured_length(tvb) } as usize;
        Packet {
            tvb,
            pinfo,
            tree: Tree(tree),
            captured,
        }
    }

    /// The tree Wireshark gave us.
    pub fn tree(&self) -> Tree {
        self.tree
    }

    pub fn captured_len(&self) -> usize {
        self.captured
    }

    /// The captured bytes, as one slice valid for this dissector call.
    pub fn bytes(&self) -> &[u8] {
        if self.captured == 0 {
            return &[];
        }
        // SAFETY: offset 0 and the captured length are always in range, so
        // tvb_get_ptr does not throw; the memory lives as long as the tvb.
        unsafe {
            let data = sys::tvb_get_ptr(self.tvb, 0, self.captured as c_int);
            assert!(!data.is_null(), "tvb_get_ptr returned NULL");
            std::slice::from_raw_parts(data, self.captured)
        }
    }

    /// Wireshark's frame number (1-based).
    pub fn frame_number(&self) -> u32 {
        // SAFETY: offset checked against the real packet_info by the layout test.
        unsafe { pinfo_field::<u32>(self.pinfo, sys::PM_PINFO_OFFSET_NUM) }
    }

    /// The value that selected this dissector in a dissector table (for a
    /// "udp.port" registration: the port that matched).
    pub fn matched_value(&self) -> u32 {
        // SAFETY: as for frame_number.
        unsafe { pinfo_field::<u32>(self.pinfo, sys::PM_PINFO_OFFSET_MATCH_UINT) }
    }

    fn columns(&self) -> *mut sys::column_info {
        // SAFETY: as for frame_number; may be NULL, which col_* accept.
        unsafe { pinfo_field::<*mut sys::column_info>(self.pinfo, sys::PM_PINFO_OFFSET_CINFO) }
    }

    fn pool(&self) -> *mut sys::wmem_allocator_t {
        // SAFETY: as for frame_number.
        unsafe { pinfo_field::<*mut sys::wmem_allocator_t>(self.pinfo, sys::PM_PINFO_OFFSET_POOL) }
    }

    /// Copies `text` into the packet's memory pool: valid until the packet is
    /// done, and nothing for Rust to free.  Stops at an interior NUL.
    fn pool_str(&self, text: &str) -> *const c_char {
        // SAFETY: wmem_strndup copies at most len bytes and NUL-terminates.
        unsafe { sys::wmem_strndup(self.pool(), text.as_ptr().cast(), text.len()) }
    }

    /// Sets the Protocol column to a static name.
    pub fn set_protocol_column(&self, name: &'static CStr) {
        // SAFETY: col_set_str keeps the pointer; the string is static.
        unsafe { sys::col_set_str(self.columns(), sys::PM_COL_PROTOCOL as c_int, name.as_ptr()) }
    }

    /// Replaces the Info column.
    pub fn set_info(&self, text: &str) {
        let copy = self.pool_str(text);
        // SAFETY: col_add_str copies the text.
        unsafe { sys::col_add_str(self.columns(), sys::PM_COL_INFO as c_int, copy) }
    }

    fn check_range(&self, offset: usize, len: usize, what: &str) {
        assert!(
            offset
                .checked_add(len)
                .is_some_and(|end| end <= self.captured),
            "{what}: bytes {offset}..+{len} outside the {} captured bytes",
            self.captured
        );
    }

    /// Adds the protocol's own item over `offset..offset+len` and returns
    /// the subtree under it.
    pub fn add_protocol(
        &self,
        parent: Tree,
        protocol: &Protocol,
        subtree: &Subtree,
        offset: usize,
        len: usize,
    ) -> Tree {
        self.check_range(offset, len, "protocol item");
        // SAFETY: range checked; FT_PROTOCOL items take ENC_NA.
        unsafe {
            let item = sys::proto_tree_add_item(
                parent.0,
                protocol.id(),
                self.tvb,
                offset as c_int,
                len as c_int,
                sys::PM_ENC_NA,
            );
            Tree(sys::proto_item_add_subtree(item, subtree.id()))
        }
    }

    pub fn add_uint(
        &self,
        parent: Tree,
        field: &UintField,
        offset: usize,
        len: usize,
        value: u32,
    ) -> Tree {
        self.check_range(offset, len, "uint field");
        // SAFETY: range checked; the field was registered as FT_UINT*.
        Tree(unsafe {
            sys::proto_tree_add_uint(
                parent.0,
                field.id(),
                self.tvb,
                offset as c_int,
                len as c_int,
                value,
            )
        })
    }

    pub fn add_frame_number(&self, parent: Tree, field: &FrameNumField, value: u32) -> Tree {
        // SAFETY: zero-length item at offset 0 is always in range; FT_FRAMENUM
        // takes proto_tree_add_uint.
        Tree(unsafe { sys::proto_tree_add_uint(parent.0, field.id(), self.tvb, 0, 0, value) })
    }

    pub fn add_string(
        &self,
        parent: Tree,
        field: &StringField,
        offset: usize,
        len: usize,
        value: &str,
    ) -> Tree {
        self.check_range(offset, len, "string field");
        let copy = self.pool_str(value);
        // SAFETY: range checked; the field was registered as FT_STRING; the
        // value is copied by Wireshark.
        Tree(unsafe {
            sys::proto_tree_add_string(
                parent.0,
                field.id(),
                self.tvb,
                offset as c_int,
                len as c_int,
                copy,
            )
        })
    }

    /// Attaches expert info with `message` to `item`.
    pub fn add_expert(&self, item: Tree, field: &ExpertField, message: &str) {
        let copy = self.pool_str(message);
        // SAFETY: "%s" with one NUL-terminated argument from the pool.
        unsafe {
            sys::expert_add_info_format(self.pinfo, item.0, field.as_ptr(), c"%s".as_ptr(), copy);
        }
    }

    fn report_internal_error(&self, protocol: &Protocol, message: &str) {
        guard::report(&format!(
            "frame {}: internal error: {message}",
            self.frame_number()
        ));
        // SAFETY: a zero-length protocol item is always in range.
        let item = Tree(unsafe {
            sys::proto_tree_add_item(self.tree.0, protocol.id(), self.tvb, 0, 0, sys::PM_ENC_NA)
        });
        self.add_expert(
            item,
            &protocol.internal_error,
            &format!("pktmatch internal error: {message}"),
        );
    }

    /// Hands `offset..` of this packet to another dissector.  Only called by
    /// [`dissector_entry`] outside the guard: the callee may throw.
    fn call(&self, handle: sys::dissector_handle_t, offset: usize) {
        if handle.is_null() || offset > self.captured {
            return;
        }
        // SAFETY: offset within the captured data.  An exception thrown by
        // the sub-dissector unwinds (longjmp) through dissector_entry only,
        // whose live values are all Copy, up to Wireshark's own handler.
        unsafe {
            let sub = sys::tvb_new_subset_remaining(self.tvb, offset as c_int);
            sys::call_dissector(handle, sub, self.pinfo, self.tree.0);
        }
    }
}

/// Reads a `packet_info` member at a byte offset that the layout test checks
/// against the real header of the version we build for.
unsafe fn pinfo_field<T: Copy>(pinfo: *mut sys::packet_info, offset: u32) -> T {
    // SAFETY: caller passes a valid packet_info and a checked offset.
    unsafe { ptr::read_unaligned(pinfo.cast::<u8>().add(offset as usize).cast::<T>()) }
}
