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
use std::ops::Range;
use std::ptr;

use crate::guard;
use crate::register::{
    BoolField, BytesField, DurationField, ExpertField, FrameNumField, Ipv4Field, Ipv6Field,
    LabelField, Protocol, StringField, Subtree, TimeField, Uint64Field, UintField,
};
use crate::sys;

/// A node of the protocol tree (NULL when Wireshark builds no tree).
/// Comparable: when Wireshark's tree is not shown, `proto_tree_add_*`
/// returns the parent instead of a new item for a field no filter or column
/// uses ("faked" items), so `added == parent` tells a dissector that the
/// label it would format is never seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tree(*mut sys::proto_tree);

impl Tree {
    /// True when Wireshark builds no tree for this packet (e.g. `tshark -r`
    /// without filter or details): items added to it are dropped, so a
    /// dissector can skip the work of preparing them.
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }
}

/// A buffer of our own (e.g. a reassembled message) that Wireshark shows as
/// an extra data source tab; valid for the current packet.
#[derive(Clone, Copy, Debug)]
pub struct DataSource {
    tvb: *mut sys::tvbuff_t,
    len: usize,
}

/// A network endpoint: IPv4/IPv6 address bytes and transport port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub address: [u8; 16],
    pub address_len: u8,
    pub port: u32,
}

/// One packet being dissected.
pub struct Packet {
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: Tree,
    captured: usize,
    /// Keep our Protocol/Info columns when handing off (see
    /// [`Packet::keep_columns`]).
    keep_columns: std::cell::Cell<bool>,
}

/// An IP header found by [`Packet::ip_header`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpHeader {
    /// 4 or 6.
    pub version: u8,
    /// IPv4 type of service / IPv6 traffic class (DSCP << 2 | ECN).
    pub tos: u8,
    /// Where the header starts in the frame.
    pub offset: usize,
}

impl IpHeader {
    /// The header that ends at `transport` in `frame`, carries `protocol`
    /// and has the given addresses (IPv4 with any header length, IPv6
    /// without extension headers).
    fn find(
        frame: &[u8],
        transport: usize,
        protocol: u8,
        source: &Endpoint,
        destination: &Endpoint,
    ) -> Option<IpHeader> {
        let addresses = |at: usize, len: usize| {
            let src = frame.get(at..at + len)?;
            let dst = frame.get(at + len..at + 2 * len)?;
            Some(
                usize::from(source.address_len) == len
                    && usize::from(destination.address_len) == len
                    && src == &source.address[..len]
                    && dst == &destination.address[..len],
            )
        };
        match source.address_len {
            4 => (5..=15usize).find_map(|ihl| {
                let at = transport.checked_sub(4 * ihl)?;
                let header = frame.get(at..transport)?;
                let fits = header[0] == 0x40 | ihl as u8
                    && header[9] == protocol
                    && addresses(at + 12, 4)?;
                fits.then(|| IpHeader {
                    version: 4,
                    tos: header[1],
                    offset: at,
                })
            }),
            16 => {
                let at = transport.checked_sub(40)?;
                let header = frame.get(at..transport)?;
                let fits = header[0] >> 4 == 6 && header[6] == protocol && addresses(at + 8, 16)?;
                fits.then(|| IpHeader {
                    version: 6,
                    tos: (header[0] << 4) | (header[1] >> 4),
                    offset: at,
                })
            }
            _ => None,
        }
    }
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
    /// As `HandOff`, for the `len` bytes from `offset` only.
    HandOffRange {
        handle: sys::dissector_handle_t,
        offset: usize,
        len: usize,
    },
    /// As `HandOff`, for bytes from `offset` of a data source of ours.
    HandOffData {
        handle: sys::dissector_handle_t,
        data: DataSource,
        offset: usize,
    },
    /// One or two sub-dissector calls, in order, each into a tree of our
    /// choice (e.g. a hidden subtree whose fields stay filterable); the
    /// dissector claims `consumed` bytes.  A throw in the first skips the
    /// second.
    Calls {
        first: SubCall,
        then: Option<SubCall>,
        consumed: usize,
    },
}

/// A sub-dissector call of [`Outcome::Calls`].
#[derive(Clone, Copy, Debug)]
pub struct SubCall {
    pub handle: sys::dissector_handle_t,
    /// Bytes of this packet (None) or of a data source of ours.
    pub data: Option<DataSource>,
    pub offset: usize,
    /// To the end when None.
    pub len: Option<usize>,
    /// The tree the sub-dissector adds its items to.
    pub tree: Tree,
}

/// The body of a dissector.
pub type DissectBody = fn(&mut Packet) -> Outcome;

/// Defines the `extern "C"` dissector function `$name` that Wireshark
/// calls, running `$body` for `$protocol` under [`dissector_entry`].
#[macro_export]
macro_rules! dissector {
    ($name:ident, $protocol:expr, $body:path) => {
        unsafe extern "C" fn $name(
            tvb: *mut $crate::sys::tvbuff_t,
            pinfo: *mut $crate::sys::packet_info,
            tree: *mut $crate::sys::proto_tree,
            _data: *mut ::std::ffi::c_void,
        ) -> ::std::ffi::c_int {
            // SAFETY: the arguments Wireshark passes to every dissector.
            unsafe { $crate::packet::dissector_entry($protocol, tvb, pinfo, tree, $body) }
        }
    };
}

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
            packet.call(handle, offset, None);
            packet.captured
        }
        Outcome::HandOffRange {
            handle,
            offset,
            len,
        } => {
            packet.call(handle, offset, Some(len));
            packet.captured
        }
        Outcome::HandOffData {
            handle,
            data,
            offset,
        } => {
            let whole = packet.captured;
            packet.tvb = data.tvb;
            packet.captured = data.len;
            packet.call(handle, offset, None);
            whole
        }
        Outcome::Calls {
            first,
            then,
            consumed,
        } => {
            packet.sub_call(first);
            if let Some(then) = then {
                packet.sub_call(then);
            }
            consumed
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
            keep_columns: std::cell::Cell::new(false),
        }
    }

    /// Makes `bytes` (copied into the packet's pool) a data source of this
    /// packet named `name`, and returns a view that adds items over it.
    pub fn data_source(&self, bytes: &[u8], name: &'static CStr) -> (DataSource, Packet) {
        assert!(
            !bytes.is_empty() && bytes.len() <= c_int::MAX as usize,
            "data source of {} bytes",
            bytes.len()
        );
        // SAFETY: the copy lives in the packet pool, as long as the tvb that
        // points to it; the child tvb is freed with the parent.
        unsafe {
            let copy = sys::wmem_alloc(self.pool(), bytes.len()).cast::<u8>();
            assert!(!copy.is_null(), "wmem_alloc returned NULL");
            ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
            let tvb = sys::tvb_new_child_real_data(
                self.tvb,
                copy,
                bytes.len() as _,
                bytes.len() as c_int,
            );
            // Returns a pointer from 4.6 on and nothing before: ignore both.
            #[allow(clippy::let_unit_value)]
            let _ = sys::add_new_data_source(self.pinfo, tvb, name.as_ptr());
            let source = DataSource {
                tvb,
                len: bytes.len(),
            };
            (source, Packet::new(tvb, self.pinfo, self.tree.0))
        }
    }

    /// Makes the columns read-only while a hand-off sub-dissector runs, so
    /// that what we wrote stays (as Wireshark dissectors do with
    /// `col_set_writable` when they call a payload dissector for its tree).
    pub fn keep_columns(&self) {
        self.keep_columns.set(true);
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

    /// The packet's capture time in nanoseconds since the epoch.
    pub fn time_ns(&self) -> i64 {
        // SAFETY: as for frame_number; abs_ts is an nstime_t.
        let ts =
            unsafe { pinfo_field::<sys::pm_nstime_t>(self.pinfo, sys::PM_PINFO_OFFSET_ABS_TS) };
        #[allow(clippy::unnecessary_cast)] // time_t is not i64 everywhere
        (ts.secs as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.nsecs as i64)
    }

    /// The `index`-th comment (pcapng `opt_comment`, from 0) of the record
    /// as the file gave it (`frame.comment`); None when there is none or it
    /// is not UTF-8.  Valid for this dissector call.
    pub fn comment(&self, index: u32) -> Option<&str> {
        // SAFETY: packet_info.rec and wtap_rec.block are read at offsets
        // the layout test checks; rec is set for every dissected record (it
        // may be NULL for none), block may be NULL (no options).  The value
        // points into the block, which lives while the record is dissected;
        // wiretap functions do not throw.
        unsafe {
            let rec = pinfo_field::<*const u8>(self.pinfo, sys::PM_PINFO_OFFSET_REC);
            if rec.is_null() {
                return None;
            }
            let block = ptr::read_unaligned(
                rec.add(sys::PM_WTAP_REC_OFFSET_BLOCK as usize)
                    .cast::<sys::wtap_block_t>(),
            );
            if block.is_null() {
                return None;
            }
            let mut value: *mut c_char = ptr::null_mut();
            let status = sys::wtap_block_get_nth_string_option_value(
                block,
                sys::PM_OPT_COMMENT,
                index,
                &mut value,
            );
            if status != sys::PM_WTAP_OPTTYPE_SUCCESS as c_int || value.is_null() {
                return None;
            }
            CStr::from_ptr(value).to_str().ok()
        }
    }

    /// Source network address bytes and port of the packet as the layers
    /// below set them (IPv4 or IPv6 and UDP/TCP; empty address otherwise).
    pub fn source(&self) -> Endpoint {
        // SAFETY: as for frame_number.
        unsafe { self.endpoint(sys::PM_PINFO_OFFSET_SRC, sys::PM_PINFO_OFFSET_SRCPORT) }
    }

    /// Destination address and port, as [`Packet::source`].
    pub fn destination(&self) -> Endpoint {
        // SAFETY: as for frame_number.
        unsafe { self.endpoint(sys::PM_PINFO_OFFSET_DST, sys::PM_PINFO_OFFSET_DESTPORT) }
    }

    unsafe fn endpoint(&self, address_offset: u32, port_offset: u32) -> Endpoint {
        // SAFETY: offsets checked by the layout test; an address of type
        // IPv4/IPv6 has `len` readable bytes at `data`.
        unsafe {
            let address = pinfo_field::<sys::address>(self.pinfo, address_offset);
            let port = pinfo_field::<u32>(self.pinfo, port_offset);
            let mut endpoint = Endpoint {
                address: [0; 16],
                address_len: 0,
                port,
            };
            let known = address.type_ == sys::PM_AT_IPv4 as c_int
                || address.type_ == sys::PM_AT_IPv6 as c_int;
            if known && !address.data.is_null() && (0..=16).contains(&address.len) {
                let len = address.len as usize;
                let bytes = std::slice::from_raw_parts(address.data.cast::<u8>(), len);
                endpoint.address[..len].copy_from_slice(bytes);
                endpoint.address_len = len as u8;
            }
            endpoint
        }
    }

    /// The IPv4 or IPv6 header in front of the UDP (or TCP) header this
    /// packet's bytes follow, found in the frame's data: the header whose
    /// addresses are the packet's and whose next protocol is `protocol` (17
    /// UDP, 6 TCP), ending where the transport header begins
    /// (`transport_len` bytes before our first byte).  None when our bytes
    /// are not in the frame as captured (reassembled, decrypted) or no such
    /// header is there (IPv6 extension headers).
    pub fn ip_header(&self, protocol: u8, transport_len: usize) -> Option<IpHeader> {
        // SAFETY: tvb_get_ds_tvb and tvb_raw_offset only read tvb fields;
        // tvb_get_ptr over the data source's captured length cannot throw.
        let (frame, start) = unsafe {
            let ds = sys::tvb_get_ds_tvb(self.tvb);
            let offset = sys::tvb_raw_offset(self.tvb);
            if ds.is_null() || offset < 0 {
                return None;
            }
            let len = sys::tvb_captured_length(ds) as usize;
            if len == 0 {
                return None;
            }
            let data = sys::tvb_get_ptr(ds, 0, len as c_int);
            if data.is_null() {
                return None;
            }
            (std::slice::from_raw_parts(data, len), offset as usize)
        };
        let transport = start.checked_sub(transport_len)?;
        let (source, destination) = (self.source(), self.destination());
        IpHeader::find(frame, transport, protocol, &source, &destination)
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

    /// The packet_info Wireshark handed us (for the tap API).
    pub(crate) fn pinfo_ptr(&self) -> *mut sys::packet_info {
        self.pinfo
    }

    /// Copies `value` into the packet's memory pool: valid until the packet
    /// is done (taps run before that), nothing for Rust to free; `T: Copy`
    /// has no destructor to forget.
    pub(crate) fn pool_copy<T: Copy>(&self, value: T) -> *const T {
        // wmem hands out blocks aligned for any C type (8 bytes on x86-64).
        assert!(
            std::mem::align_of::<T>() <= 8,
            "pool_copy: alignment {} over 8",
            std::mem::align_of::<T>()
        );
        // SAFETY: a fresh block of size_of::<T>() bytes, suitably aligned,
        // written once before anyone reads it.
        unsafe {
            let size = std::mem::size_of::<T>().max(1);
            let block = sys::wmem_alloc(self.pool(), size).cast::<T>();
            assert!(!block.is_null(), "wmem_alloc returned NULL");
            ptr::write(block, value);
            block
        }
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

    /// Checks a field and a byte range once, then adds the item with `add`
    /// (given the start and length as C ints).
    fn add_checked(
        &self,
        id: c_int,
        offset: usize,
        len: usize,
        what: &str,
        add: impl FnOnce(c_int, c_int) -> *mut sys::proto_item,
    ) -> Tree {
        Self::check_registered(id, what);
        self.check_range(offset, len, what);
        Tree(add(offset as c_int, len as c_int))
    }

    /// A field used before Wireshark registered it would be a "dissector
    /// bug" inside Wireshark; make it our panic (shown as internal error).
    fn check_registered(id: c_int, what: &str) {
        assert!(id > 0, "{what}: field used but never registered");
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
        let id = field.id();
        self.add_checked(id, offset, len, "uint field", |start, length| {
            // SAFETY: field and range checked by add_checked; the field is FT_UINT*.
            unsafe { sys::proto_tree_add_uint(parent.0, id, self.tvb, start, length, value) }
        })
    }

    /// A boolean; for a flag field pass the whole container value.
    pub fn add_bool(
        &self,
        parent: Tree,
        field: &BoolField,
        offset: usize,
        len: usize,
        value: u64,
    ) -> Tree {
        let id = field.id();
        self.add_checked(id, offset, len, "boolean field", |start, length| {
            // SAFETY: field and range checked by add_checked; FT_BOOLEAN (4.0 takes 32 bits: containers are at most 32 bits there).
            unsafe {
                sys::proto_tree_add_boolean(
                    parent.0,
                    id,
                    self.tvb,
                    start,
                    length,
                    value as sys::pm_boolean_value,
                )
            }
        })
    }

    pub fn add_uint64(
        &self,
        parent: Tree,
        field: &Uint64Field,
        offset: usize,
        len: usize,
        value: u64,
    ) -> Tree {
        let id = field.id();
        self.add_checked(id, offset, len, "uint64 field", |start, length| {
            // SAFETY: field and range checked by add_checked; the field is FT_UINT64.
            unsafe { sys::proto_tree_add_uint64(parent.0, id, self.tvb, start, length, value) }
        })
    }

    /// The bytes `offset..offset+len` of this packet as an FT_BYTES field.
    pub fn add_bytes(&self, parent: Tree, field: &BytesField, offset: usize, len: usize) -> Tree {
        let id = field.id();
        self.add_checked(id, offset, len, "bytes field", |start, length| {
            let data = &self.bytes()[offset..offset + len];
            // SAFETY: field and range checked; Wireshark copies the bytes.
            unsafe {
                sys::proto_tree_add_bytes(parent.0, id, self.tvb, start, length, data.as_ptr())
            }
        })
    }

    /// A point in time (nanoseconds since the Unix epoch) over bytes
    /// `offset..offset+len` (e.g. the TOD value it was computed from).
    pub fn add_time(
        &self,
        parent: Tree,
        field: &TimeField,
        offset: usize,
        len: usize,
        ns: i64,
    ) -> Tree {
        let value = nstime(ns);
        let id = field.id();
        self.add_checked(id, offset, len, "time field", |start, length| {
            // SAFETY: field and range checked; Wireshark copies the value.
            unsafe { sys::proto_tree_add_time(parent.0, id, self.tvb, start, length, &value) }
        })
    }

    pub fn add_ipv4(
        &self,
        parent: Tree,
        field: &Ipv4Field,
        offset: usize,
        len: usize,
        addr: std::net::Ipv4Addr,
    ) -> Tree {
        // ws_in4_addr is in network byte order.
        let value = u32::from_ne_bytes(addr.octets());
        let id = field.id();
        self.add_checked(id, offset, len, "IPv4 field", |start, length| {
            // SAFETY: field and range checked; the field is FT_IPv4.
            unsafe { sys::proto_tree_add_ipv4(parent.0, id, self.tvb, start, length, value) }
        })
    }

    pub fn add_ipv6(
        &self,
        parent: Tree,
        field: &Ipv6Field,
        offset: usize,
        len: usize,
        addr: std::net::Ipv6Addr,
    ) -> Tree {
        let value = sys::ws_in6_addr {
            bytes: addr.octets(),
        };
        let id = field.id();
        self.add_checked(id, offset, len, "IPv6 field", |start, length| {
            // SAFETY: field and range checked; Wireshark copies the address.
            unsafe { sys::proto_tree_add_ipv6(parent.0, id, self.tvb, start, length, &value) }
        })
    }

    /// Keeps the Info column text so far: what sub-dissectors write comes
    /// after it.
    pub fn fence_info(&self) {
        // SAFETY: col_set_fence accepts a NULL cinfo.
        unsafe { sys::col_set_fence(self.columns(), sys::PM_COL_INFO as c_int) }
    }

    /// A duration in nanoseconds (may be negative), shown in seconds.
    pub fn add_duration(&self, parent: Tree, field: &DurationField, nanos: i64) -> Tree {
        let value = duration_nstime(nanos);
        // SAFETY: zero-length item at offset 0; Wireshark copies the value.
        Tree(unsafe { sys::proto_tree_add_time(parent.0, field.id(), self.tvb, 0, 0, &value) })
    }

    /// The subtree of `item` (a NULL item gives a NULL tree).
    pub fn subtree(&self, item: Tree, subtree: &Subtree) -> Tree {
        // SAFETY: proto_item_add_subtree accepts NULL.
        Tree(unsafe { sys::proto_item_add_subtree(item.0, subtree.id()) })
    }

    /// Sets the byte length an item covers.
    pub fn set_len(&self, item: Tree, len: usize) {
        if !item.0.is_null() {
            // SAFETY: a live item of this packet's tree.
            unsafe { sys::proto_item_set_len(item.0, len.min(c_int::MAX as usize) as c_int) }
        }
    }

    /// Marks an item as derived by the dissector rather than read from the
    /// packet (shown in [brackets]), as Wireshark's proto_item_set_generated.
    pub fn set_generated(&self, item: Tree) {
        if item.0.is_null() {
            return;
        }
        // SAFETY: a non-NULL item of this packet's tree.
        unsafe { self.or_field_info_flags(item, sys::PM_FI_GENERATED) }
    }

    /// Hides an item (and so its subtree) from the tree display; its fields
    /// stay filterable, as Wireshark's proto_item_set_hidden.  A "faked"
    /// item (the parent handed back when the tree is not shown) is left
    /// alone: hiding it would hide the parent.
    pub fn set_hidden(&self, parent: Tree, item: Tree) {
        if item.0.is_null() || item == parent {
            return;
        }
        // SAFETY: as for set_generated.
        unsafe { self.or_field_info_flags(item, sys::PM_FI_HIDDEN) }
    }

    /// ORs `flag` into the field_info flags of a non-NULL item.
    unsafe fn or_field_info_flags(&self, item: Tree, flag: u32) {
        // SAFETY: offsets checked against the real proto_node and field_info
        // by the layout test; a non-NULL item has a non-NULL finfo.
        unsafe {
            let node = item.0.cast::<u8>();
            let finfo = ptr::read_unaligned(
                node.add(sys::PM_PROTO_NODE_OFFSET_FINFO as usize)
                    .cast::<*mut u8>(),
            );
            if finfo.is_null() {
                return;
            }
            let flags = finfo
                .add(sys::PM_FIELD_INFO_OFFSET_FLAGS as usize)
                .cast::<u32>();
            ptr::write_unaligned(flags, ptr::read_unaligned(flags) | flag);
        }
    }

    /// Appends text to an item's label.
    pub fn append_text(&self, item: Tree, text: &str) {
        let copy = self.pool_str(text);
        // SAFETY: "%s" with one NUL-terminated argument from the pool.
        unsafe { sys::proto_item_append_text(item.0, c"%s".as_ptr(), copy) }
    }

    /// Appends to the Info column.
    pub fn append_info(&self, text: &str) {
        let copy = self.pool_str(text);
        // SAFETY: col_append_str copies the text.
        unsafe { sys::col_append_str(self.columns(), sys::PM_COL_INFO as c_int, copy) }
    }

    /// True when an item of the field with this id added under `tree`
    /// would be kept: the tree is shown, or a filter, custom column or
    /// colouring rule refers to the field.  Otherwise Wireshark "fakes" the
    /// item (hands back the parent): a dissector can skip preparing it.
    /// False without a tree.
    pub fn is_referenced(&self, tree: Tree, field_id: c_int) -> bool {
        if tree.is_null() {
            return false;
        }
        // SAFETY: a live tree of this packet and a registered field id;
        // the function only reads flags and does not throw.
        crate::abi::from_wbool(unsafe { sys::proto_field_is_referenced(tree.0, field_id) })
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
        let id = field.id();
        self.add_checked(id, offset, len, "string field", |start, length| {
            let copy = self.pool_str(value);
            // SAFETY: field and range checked; Wireshark copies the value.
            unsafe { sys::proto_tree_add_string(parent.0, id, self.tvb, start, length, copy) }
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
    fn call(&self, handle: sys::dissector_handle_t, offset: usize, len: Option<usize>) {
        self.call_into(self.tvb, self.captured, self.tree, handle, offset, len);
    }

    /// A call of [`Outcome::Calls`]; outside the guard, as [`Packet::call`].
    fn sub_call(&self, call: SubCall) {
        let (tvb, captured) = match call.data {
            Some(data) => (data.tvb, data.len),
            None => (self.tvb, self.captured),
        };
        self.call_into(tvb, captured, call.tree, call.handle, call.offset, call.len);
    }

    fn call_into(
        &self,
        tvb: *mut sys::tvbuff_t,
        captured: usize,
        tree: Tree,
        handle: sys::dissector_handle_t,
        offset: usize,
        len: Option<usize>,
    ) {
        let end = len.map_or(Some(captured), |len| offset.checked_add(len));
        if handle.is_null() || offset > captured || end.map_or(true, |end| end > captured) {
            return;
        }
        // SAFETY: offset within the captured data.  An exception thrown by
        // the sub-dissector unwinds (longjmp) through dissector_entry only,
        // whose live values are all Copy, up to Wireshark's own handler.
        unsafe {
            let sub = match len {
                None => sys::tvb_new_subset_remaining(tvb, offset as c_int),
                Some(len) => sys::tvb_new_subset_length(tvb, offset as c_int, len as c_int),
            };
            if self.keep_columns.get() {
                sys::col_set_writable(self.columns(), -1, crate::abi::wbool(false));
            }
            sys::call_dissector(handle, sub, self.pinfo, tree.0);
            // Not reached when the sub-dissector throws; Wireshark makes the
            // columns writable again for the next packet in any case.
            if self.keep_columns.get() {
                sys::col_set_writable(self.columns(), -1, crate::abi::wbool(true));
            }
        }
    }
}

/// Range-based adders: the item covers `range` of this packet and its value
/// is read from those very bytes, big-endian, as `proto_tree_add_item(...,
/// ENC_BIG_ENDIAN)` reads it, so a format crate's layout table (a named range
/// per field) is the only place a field's position and width live. A range
/// outside the captured bytes, or wider than the field type, is a bug of ours:
/// it panics (shown as internal-error expert info), never a throw inside
/// Wireshark. Check a structure's length once before adding its fields.
impl Packet {
    /// The big-endian unsigned value of bytes `range` (1 to 8 bytes).
    pub fn be_at(&self, range: Range<usize>) -> u64 {
        assert!(
            (1..=8).contains(&range.len()),
            "be_at: {} bytes ({range:?}) is not an integer of 1 to 8 bytes",
            range.len()
        );
        self.check_range(range.start, range.len(), "integer");
        self.bytes()[range]
            .iter()
            .fold(0u64, |v, b| (v << 8) | u64::from(*b))
    }

    /// An FT_UINT8/16/24/32 field over `range` (1 to 4 bytes).
    pub fn add_uint_at(&self, parent: Tree, field: &UintField, range: Range<usize>) -> Tree {
        assert!(
            range.len() <= 4,
            "add_uint_at: {range:?} is wider than 32 bits"
        );
        let value = self.be_at(range.clone()) as u32;
        self.add_uint(parent, field, range.start, range.len(), value)
    }

    /// An FT_UINT64 field over `range` (1 to 8 bytes).
    pub fn add_uint64_at(&self, parent: Tree, field: &Uint64Field, range: Range<usize>) -> Tree {
        let value = self.be_at(range.clone());
        self.add_uint64(parent, field, range.start, range.len(), value)
    }

    /// An FT_BOOLEAN field (a flag registered with its container's mask)
    /// over its container's bytes `range` (1 to 4 bytes: 4.0 takes 32 bits).
    pub fn add_bool_at(&self, parent: Tree, field: &BoolField, range: Range<usize>) -> Tree {
        assert!(
            range.len() <= 4,
            "add_bool_at: {range:?} is wider than 32 bits"
        );
        let value = self.be_at(range.clone());
        self.add_bool(parent, field, range.start, range.len(), value)
    }

    /// An FT_BYTES field showing bytes `range`.
    pub fn add_bytes_at(&self, parent: Tree, field: &BytesField, range: Range<usize>) -> Tree {
        self.add_bytes(parent, field, range.start, range.len())
    }

    /// An FT_NONE label over bytes `range` (a structure whose fields go in
    /// its subtree).
    pub fn add_label_at(&self, parent: Tree, field: &LabelField, range: Range<usize>) -> Tree {
        let id = field.id();
        self.add_checked(
            id,
            range.start,
            range.len(),
            "label field",
            |start, length| {
                // SAFETY: field and range checked; FT_NONE items take ENC_NA.
                unsafe {
                    sys::proto_tree_add_item(parent.0, id, self.tvb, start, length, sys::PM_ENC_NA)
                }
            },
        )
    }

    /// An FT_IPv4 field over the 4 bytes `range`.
    pub fn add_ipv4_at(&self, parent: Tree, field: &Ipv4Field, range: Range<usize>) -> Tree {
        assert_eq!(range.len(), 4, "add_ipv4_at: {range:?} is not 4 bytes");
        let addr = std::net::Ipv4Addr::from(self.be_at(range.clone()) as u32);
        self.add_ipv4(parent, field, range.start, 4, addr)
    }

    /// An FT_IPv6 field over the 16 bytes `range`.
    pub fn add_ipv6_at(&self, parent: Tree, field: &Ipv6Field, range: Range<usize>) -> Tree {
        assert_eq!(range.len(), 16, "add_ipv6_at: {range:?} is not 16 bytes");
        self.check_range(range.start, 16, "IPv6 field");
        let octets: [u8; 16] = self.bytes()[range.clone()].try_into().unwrap();
        self.add_ipv6(parent, field, range.start, 16, octets.into())
    }
}

/// Nanoseconds since the epoch (or a duration) as Wireshark's nstime_t.
pub(crate) fn nstime(ns: i64) -> sys::pm_nstime_t {
    sys::pm_nstime_t {
        secs: ns.div_euclid(1_000_000_000) as _,
        nsecs: ns.rem_euclid(1_000_000_000) as c_int,
    }
}

/// A duration as Wireshark's nstime_t: seconds and nanoseconds carry the
/// same sign (-0.5 s is {0, -500000000}), the convention of Wireshark's own
/// nstime_delta, which its display and filter comparisons of relative times
/// expect; the floored form of [`nstime`] would print -0.5 s as "-1.5".
pub(crate) fn duration_nstime(ns: i64) -> sys::pm_nstime_t {
    sys::pm_nstime_t {
        secs: (ns / 1_000_000_000) as _,
        nsecs: (ns % 1_000_000_000) as c_int,
    }
}

/// The dissector registered for `value` in dissector table `table` (e.g.
/// "tcp.port"), or NULL.
pub fn handle_for(table: &CStr, value: u32) -> sys::dissector_handle_t {
    // SAFETY: both functions only read Wireshark's tables.
    unsafe {
        let table = sys::find_dissector_table(table.as_ptr());
        if table.is_null() {
            return ptr::null_mut();
        }
        sys::dissector_get_uint_handle(table, value)
    }
}

/// The dissector registered under `name`, or NULL.
pub fn handle_named(name: &CStr) -> sys::dissector_handle_t {
    // SAFETY: find_dissector only reads Wireshark's table.
    unsafe { sys::find_dissector(name.as_ptr()) }
}

/// Reads a `packet_info` member at a byte offset that the layout test checks
/// against the real header of the version we build for.
unsafe fn pinfo_field<T: Copy>(pinfo: *mut sys::packet_info, offset: u32) -> T {
    // SAFETY: caller passes a valid packet_info and a checked offset.
    unsafe { ptr::read_unaligned(pinfo.cast::<u8>().add(offset as usize).cast::<T>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(address: &[u8], port: u32) -> Endpoint {
        let mut e = Endpoint {
            address: [0; 16],
            address_len: address.len() as u8,
            port,
        };
        e.address[..address.len()].copy_from_slice(address);
        e
    }

    #[test]
    fn finds_the_ipv4_header_before_the_udp_header() {
        // Ethernet (14) + IPv4 with 4 bytes of options (24) + UDP (8) + payload.
        let mut frame = vec![0u8; 14];
        frame.extend([0x46, 0xC0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0]);
        frame.extend([10, 1, 1, 1, 10, 2, 2, 2, 1, 1, 0, 0]);
        frame.extend([0x2E, 0xE2, 0x2E, 0xE2, 0, 12, 0, 0, 4, 4, 3, 0]);
        let (src, dst) = (
            endpoint(&[10, 1, 1, 1], 12002),
            endpoint(&[10, 2, 2, 2], 12002),
        );
        let ip = IpHeader::find(&frame, 14 + 24, 17, &src, &dst).unwrap();
        assert_eq!((ip.version, ip.tos, ip.offset), (4, 0xC0, 14));
        // Other addresses or protocol: not this header.
        assert!(IpHeader::find(&frame, 38, 6, &src, &dst).is_none());
        assert!(IpHeader::find(&frame, 38, 17, &dst, &src).is_none());
        assert!(IpHeader::find(&frame, 10, 17, &src, &dst).is_none());
    }

    #[test]
    fn ipv6_traffic_class_spans_two_bytes() {
        let mut frame = vec![0x6A, 0x40, 0, 0, 0, 8, 17, 64];
        frame.extend([0x20; 16]);
        frame.extend([0x30; 16]);
        let (src, dst) = (endpoint(&[0x20; 16], 1), endpoint(&[0x30; 16], 1));
        let ip = IpHeader::find(&frame, 40, 17, &src, &dst).unwrap();
        assert_eq!((ip.version, ip.tos), (6, 0xA4));
    }
}
