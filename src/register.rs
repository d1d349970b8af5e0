//! Registration tables Wireshark keeps for the program's life.
//!
//! Wireshark stores pointers to field ids, subtree ids, expert fields,
//! preference variables and every string we register, so all of them are
//! `'static`: ids and preference cells are statics in the plugin, the arrays
//! handed over are leaked once at registration.  Ids are typed by the kind of
//! field so that only the matching `proto_tree_add_*` can be called on them
//! (a mismatch would make Wireshark throw a dissector bug).

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::abi::{self, WBool};
use crate::sys;

/// Id Wireshark writes at registration; -1 until then (what 4.0 requires).
pub struct RegisteredId(AtomicI32);

impl RegisteredId {
    pub const fn new() -> Self {
        RegisteredId(AtomicI32::new(-1))
    }
    pub fn get(&self) -> c_int {
        self.0.load(Ordering::Relaxed)
    }
    fn as_ptr(&self) -> *mut c_int {
        self.0.as_ptr()
    }
}

impl Default for RegisteredId {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! typed_field {
    // A field type shown without a number base: `def(name, abbrev, blurb)`.
    ($(#[$doc:meta])* $name:ident, plain $ftype:expr) => {
        typed_field!($(#[$doc])* $name);
        impl $name {
            pub fn def(
                &'static self,
                name: &'static CStr,
                abbrev: &'static CStr,
                blurb: &'static CStr,
            ) -> FieldDef {
                FieldDef::new(&self.0, name, abbrev, $ftype, sys::PM_BASE_NONE as c_int, blurb)
            }
        }
    };
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(RegisteredId);
        impl $name {
            pub const fn new() -> Self {
                $name(RegisteredId::new())
            }
            pub fn id(&self) -> c_int {
                self.0.get()
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

typed_field!(
    /// FT_UINT8/16/32: added with `proto_tree_add_uint`.
    UintField
);
typed_field!(
    /// FT_STRING: added with `proto_tree_add_string`.
    StringField,
    plain sys::PM_FT_STRING
);
typed_field!(
    /// FT_FRAMENUM: a frame number Wireshark renders as a link.
    FrameNumField,
    plain sys::PM_FT_FRAMENUM
);
typed_field!(
    /// FT_BOOLEAN: added with `proto_tree_add_boolean`.
    BoolField,
    plain sys::PM_FT_BOOLEAN
);
typed_field!(
    /// FT_IPv4: added with `proto_tree_add_ipv4`.
    Ipv4Field,
    plain sys::PM_FT_IPv4
);
typed_field!(
    /// FT_IPv6: added with `proto_tree_add_ipv6`.
    Ipv6Field,
    plain sys::PM_FT_IPv6
);
typed_field!(
    /// FT_ABSOLUTE_TIME shown in UTC: added with `proto_tree_add_time`.
    TimeField
);
typed_field!(
    /// FT_UINT64: added with `proto_tree_add_uint64`.
    Uint64Field
);
typed_field!(
    /// FT_BYTES: added with `proto_tree_add_bytes`.
    BytesField,
    plain sys::PM_FT_BYTES
);
typed_field!(
    /// FT_RELATIVE_TIME: a duration, added with `proto_tree_add_time`.
    DurationField,
    plain sys::PM_FT_RELATIVE_TIME
);
typed_field!(
    /// FT_NONE: a label over a byte range (a header, a structure) whose
    /// subtree holds its fields; filterable by name.
    LabelField,
    plain sys::PM_FT_NONE
);

/// Declares `pub static` registration cells of one type, e.g.
/// `statics!(UintField: HF_A, HF_B);` — dissectors have dozens.
#[macro_export]
macro_rules! statics {
    ($ty:ident: $($name:ident),* $(,)?) => { $(pub static $name: $ty = $ty::new();)* };
}

/// Width of an unsigned field, for the FT_ type.
#[derive(Clone, Copy, Debug)]
pub enum UintWidth {
    U8,
    U16,
    U32,
}

/// How Wireshark prints an integer.
#[derive(Clone, Copy, Debug)]
pub enum Base {
    Dec,
    Hex,
    DecHex,
    HexDec,
}

impl Base {
    fn display(self) -> c_int {
        (match self {
            Base::Dec => sys::PM_BASE_DEC,
            Base::Hex => sys::PM_BASE_HEX,
            Base::DecHex => sys::PM_BASE_DEC_HEX,
            Base::HexDec => sys::PM_BASE_HEX_DEC,
        }) as c_int
    }
}

/// One header field to register.
pub struct FieldDef {
    id: &'static RegisteredId,
    name: &'static CStr,
    abbrev: &'static CStr,
    ftype: c_uint,
    display: c_int,
    blurb: Option<&'static CStr>,
    bitmask: u64,
    names: Option<Vec<(u32, CString)>>,
}

impl UintField {
    pub fn def(
        &'static self,
        name: &'static CStr,
        abbrev: &'static CStr,
        width: UintWidth,
        base: Base,
        blurb: &'static CStr,
    ) -> FieldDef {
        let ftype = match width {
            UintWidth::U8 => sys::PM_FT_UINT8,
            UintWidth::U16 => sys::PM_FT_UINT16,
            UintWidth::U32 => sys::PM_FT_UINT32,
        };
        FieldDef::new(&self.0, name, abbrev, ftype, base.display(), blurb)
    }
}

impl UintWidth {
    fn bits(self) -> c_int {
        match self {
            UintWidth::U8 => 8,
            UintWidth::U16 => 16,
            UintWidth::U32 => 32,
        }
    }
}

impl BoolField {
    /// A flag that is bit(s) `mask` of a `container`-wide field: add it with
    /// the whole container value and Wireshark shows the bit position.
    pub fn flag(
        &'static self,
        name: &'static CStr,
        abbrev: &'static CStr,
        container: UintWidth,
        mask: u64,
        blurb: &'static CStr,
    ) -> FieldDef {
        let mut def = FieldDef::new(
            &self.0,
            name,
            abbrev,
            sys::PM_FT_BOOLEAN,
            container.bits(),
            blurb,
        );
        def.bitmask = mask;
        def
    }
}

impl TimeField {
    pub fn def(
        &'static self,
        name: &'static CStr,
        abbrev: &'static CStr,
        blurb: &'static CStr,
    ) -> FieldDef {
        FieldDef::new(
            &self.0,
            name,
            abbrev,
            sys::PM_FT_ABSOLUTE_TIME,
            sys::PM_ABSOLUTE_TIME_UTC as c_int,
            blurb,
        )
    }
}

impl Uint64Field {
    pub fn def(
        &'static self,
        name: &'static CStr,
        abbrev: &'static CStr,
        base: Base,
        blurb: &'static CStr,
    ) -> FieldDef {
        FieldDef::new(
            &self.0,
            name,
            abbrev,
            sys::PM_FT_UINT64,
            base.display(),
            blurb,
        )
    }
}

impl FieldDef {
    fn new(
        id: &'static RegisteredId,
        name: &'static CStr,
        abbrev: &'static CStr,
        ftype: c_uint,
        display: c_int,
        blurb: &'static CStr,
    ) -> Self {
        let blurb = (!blurb.is_empty()).then_some(blurb);
        FieldDef {
            id,
            name,
            abbrev,
            ftype,
            display,
            blurb,
            bitmask: 0,
            names: None,
        }
    }

    /// The field is bits `mask` of its integer: add it with the whole
    /// integer; Wireshark masks, shifts and shows the bit positions.
    pub fn mask(mut self, mask: u64) -> Self {
        self.bitmask = mask;
        self
    }

    /// Names for the field's values (Wireshark's value_string), shown
    /// beside the number and in the field's filter help.
    pub fn names<V: Into<u32>>(
        mut self,
        names: impl IntoIterator<Item = (V, &'static str)>,
    ) -> Self {
        self.names = Some(
            names
                .into_iter()
                .map(|(value, name)| {
                    let name = CString::new(name).expect("value name without NUL");
                    (value.into(), name)
                })
                .collect(),
        );
        self
    }

    fn to_raw(&self) -> sys::hf_register_info {
        let strings = match &self.names {
            None => ptr::null(),
            Some(names) => {
                let mut table: Vec<sys::value_string> = names
                    .iter()
                    .map(|(value, name)| sys::value_string {
                        value: *value,
                        // Wireshark keeps the names for the program's life.
                        strptr: Box::leak(name.clone().into_boxed_c_str()).as_ptr(),
                    })
                    .collect();
                table.push(sys::value_string {
                    value: 0,
                    strptr: ptr::null(),
                });
                // Wireshark keeps the table for the program's life.
                Box::leak(table.into_boxed_slice()).as_ptr().cast()
            }
        };
        sys::hf_register_info {
            p_id: self.id.as_ptr(),
            hfinfo: sys::header_field_info {
                name: self.name.as_ptr(),
                abbrev: self.abbrev.as_ptr(),
                type_: self.ftype,
                display: self.display,
                strings,
                bitmask: self.bitmask,
                blurb: self.blurb.map_or(ptr::null(), CStr::as_ptr),
                // What Wireshark's HFILL fills in.
                id: -1,
                parent: 0,
                ref_type: sys::PM_HF_REF_TYPE_NONE,
                same_name_prev_id: -1,
                same_name_next: ptr::null_mut(),
            },
        }
    }
}

/// A protocol tree subtree ("ett") id.
pub struct Subtree(RegisteredId);

impl Subtree {
    pub const fn new() -> Self {
        Subtree(RegisteredId::new())
    }
    pub fn id(&self) -> c_int {
        self.0.get()
    }
}

impl Default for Subtree {
    fn default() -> Self {
        Self::new()
    }
}

/// An expert info field; Wireshark fills it at registration.
pub struct ExpertField(UnsafeCell<sys::expert_field>);

// SAFETY: written only by Wireshark during single-threaded registration,
// read-only afterwards.
unsafe impl Sync for ExpertField {}

impl ExpertField {
    pub const fn new() -> Self {
        let init = sys::PM_EI_INIT_VALUE as c_int;
        ExpertField(UnsafeCell::new(sys::expert_field { ei: init, hf: init }))
    }
    pub(crate) fn as_ptr(&self) -> *mut sys::expert_field {
        self.0.get()
    }
}

impl Default for ExpertField {
    fn default() -> Self {
        Self::new()
    }
}

/// Expert info groups we use.
#[derive(Clone, Copy, Debug)]
pub enum ExpertGroup {
    Malformed,
    Protocol,
    Sequence,
    Debug,
}

/// Expert info severities.
#[derive(Clone, Copy, Debug)]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

/// One expert info to register.
pub struct ExpertDef {
    pub field: &'static ExpertField,
    pub abbrev: &'static CStr,
    pub group: ExpertGroup,
    pub severity: Severity,
    pub summary: &'static CStr,
}

impl ExpertDef {
    pub fn new(
        field: &'static ExpertField,
        abbrev: &'static CStr,
        group: ExpertGroup,
        severity: Severity,
        summary: &'static CStr,
    ) -> Self {
        ExpertDef {
            field,
            abbrev,
            group,
            severity,
            summary,
        }
    }

    fn to_raw(&self) -> sys::ei_register_info {
        let group = match self.group {
            ExpertGroup::Malformed => sys::PM_PI_MALFORMED,
            ExpertGroup::Protocol => sys::PM_PI_PROTOCOL,
            ExpertGroup::Sequence => sys::PM_PI_SEQUENCE,
            ExpertGroup::Debug => sys::PM_PI_DEBUG,
        };
        let severity = match self.severity {
            Severity::Chat => sys::PM_PI_CHAT,
            Severity::Note => sys::PM_PI_NOTE,
            Severity::Warn => sys::PM_PI_WARN,
            Severity::Error => sys::PM_PI_ERROR,
        };
        let mut raw = sys::ei_register_info {
            ids: self.field.as_ptr(),
            ..Default::default()
        };
        // What Wireshark's EXPFILL fills in.
        raw.eiinfo.name = self.abbrev.as_ptr();
        raw.eiinfo.group = group as c_int;
        raw.eiinfo.severity = severity as c_int;
        raw.eiinfo.summary = self.summary.as_ptr();
        raw.eiinfo.id = 0;
        raw.eiinfo.protocol = ptr::null();
        raw.eiinfo.orig_severity = 0;
        raw.eiinfo.hf_info.p_id = ptr::null_mut();
        raw.eiinfo.hf_info.hfinfo.type_ = sys::PM_FT_NONE;
        raw.eiinfo.hf_info.hfinfo.display = sys::PM_BASE_NONE as c_int;
        raw.eiinfo.hf_info.hfinfo.id = -1;
        raw.eiinfo.hf_info.hfinfo.same_name_prev_id = -1;
        raw
    }
}

/// A protocol with its id and the expert info every protocol of ours has:
/// "internal error", where a caught panic is reported.
pub struct Protocol {
    id: RegisteredId,
    pub(crate) internal_error: ExpertField,
}

impl Protocol {
    pub const fn new() -> Self {
        Protocol {
            id: RegisteredId::new(),
            internal_error: ExpertField::new(),
        }
    }

    pub fn id(&self) -> c_int {
        self.id.get()
    }

    /// Registers the protocol and its internal-error expert info named
    /// `internal_error_abbrev` (e.g. `c"ee.internal_error"`).
    pub fn register(
        &'static self,
        name: &'static CStr,
        short_name: &'static CStr,
        filter_name: &'static CStr,
        internal_error_abbrev: &'static CStr,
    ) -> Registration {
        // SAFETY: static NUL-terminated strings; Wireshark keeps the pointers.
        let id = unsafe {
            sys::proto_register_protocol(name.as_ptr(), short_name.as_ptr(), filter_name.as_ptr())
        };
        self.id.0.store(id, Ordering::Relaxed);
        let registration = Registration {
            protocol: self,
            prefs: ptr::null_mut(),
        };
        registration.experts(vec![ExpertDef {
            field: &self.internal_error,
            abbrev: internal_error_abbrev,
            group: ExpertGroup::Malformed,
            severity: Severity::Error,
            summary: c"Internal error in a pktmatch dissector (please report it with the capture)",
        }]);
        registration
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Self::new()
    }
}

/// What a protocol registers after proto_register_protocol.
pub struct Registration {
    protocol: &'static Protocol,
    prefs: *mut sys::module_t,
}

impl Registration {
    pub fn fields(&self, fields: Vec<FieldDef>) {
        let raw: Vec<sys::hf_register_info> = fields.iter().map(FieldDef::to_raw).collect();
        let raw = Box::leak(raw.into_boxed_slice());
        // SAFETY: the array and everything it points to live forever.
        unsafe {
            sys::proto_register_field_array(
                self.protocol.id(),
                raw.as_mut_ptr(),
                raw.len() as c_int,
            )
        };
    }

    pub fn subtrees(&self, subtrees: &[&'static Subtree]) {
        let raw: Vec<*mut c_int> = subtrees.iter().map(|s| s.0.as_ptr()).collect();
        let raw = Box::leak(raw.into_boxed_slice());
        // SAFETY: the pointer array and the ids live forever.
        unsafe { sys::proto_register_subtree_array(raw.as_ptr(), raw.len() as c_int) };
    }

    pub fn experts(&self, experts: Vec<ExpertDef>) {
        let raw: Vec<sys::ei_register_info> = experts.iter().map(ExpertDef::to_raw).collect();
        let raw = Box::leak(raw.into_boxed_slice());
        // SAFETY: as for fields.
        unsafe {
            let module = sys::expert_register_protocol(self.protocol.id());
            sys::expert_register_field_array(module, raw.as_mut_ptr(), raw.len() as c_int);
        }
    }

    fn prefs_module(&mut self) -> *mut sys::module_t {
        if self.prefs.is_null() {
            // SAFETY: registers (once) the preferences module of our protocol.
            self.prefs = unsafe { sys::prefs_register_protocol(self.protocol.id(), None) };
        }
        self.prefs
    }

    /// Makes sure the protocol has a preferences module even before any of
    /// our own preferences are added (needed by `..._with_preference`).
    pub fn ensure_prefs_module(&mut self) {
        self.prefs_module();
    }

    pub fn uint_pref(
        &mut self,
        pref: &'static UintPref,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
    ) {
        let module = self.prefs_module();
        // SAFETY: the variable is a static cell Wireshark may write at any time
        // on the main thread, between dissections.
        unsafe {
            sys::prefs_register_uint_preference(
                module,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                10,
                pref.0.get(),
            )
        };
    }

    pub fn bool_pref(
        &mut self,
        pref: &'static BoolPref,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
    ) {
        let module = self.prefs_module();
        // SAFETY: as for uint_pref.
        unsafe {
            sys::prefs_register_bool_preference(
                module,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                pref.0.get(),
            )
        };
    }

    pub fn filename_pref(
        &mut self,
        pref: &'static StringPref,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
    ) {
        let module = self.prefs_module();
        // SAFETY: as for uint_pref.  Wireshark replaces the pointer with its
        // own g_strdup'd copy at registration and frees only its copies.
        unsafe {
            sys::prefs_register_filename_preference(
                module,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                pref.0.get(),
                abi::wbool(false),
            )
        };
    }
}

impl Registration {
    pub fn string_pref(
        &mut self,
        pref: &'static StringPref,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
    ) {
        let module = self.prefs_module();
        // SAFETY: as for filename_pref.
        unsafe {
            sys::prefs_register_string_preference(
                module,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                pref.0.get(),
            )
        };
    }
}

/// The current value of a range preference (e.g. module "ee", preference
/// "udp.port" made by `dissector_add_uint_range_with_preference`) as
/// inclusive (low, high) pairs; empty when there is no such preference.
pub fn range_pref_value(module: &CStr, pref: &CStr) -> Vec<(u32, u32)> {
    // SAFETY: prefs_get_range_value only looks the preference up; the range
    // it returns is Wireshark's and stays valid until the preference
    // changes (between dissections), and holds nranges pairs at the
    // offsets the layout test checks.
    unsafe {
        let range = sys::prefs_get_range_value(module.as_ptr(), pref.as_ptr());
        if range.is_null() {
            return Vec::new();
        }
        let base = range.cast::<u8>();
        let count = ptr::read_unaligned(
            base.add(sys::PM_RANGE_OFFSET_NRANGES as usize)
                .cast::<c_uint>(),
        ) as usize;
        let pairs = base
            .add(sys::PM_RANGE_OFFSET_RANGES as usize)
            .cast::<sys::range_admin_t>();
        (0..count)
            .map(|i| {
                let pair = ptr::read_unaligned(pairs.add(i));
                (pair.low, pair.high)
            })
            .collect()
    }
}

/// An unsigned preference variable.
pub struct UintPref(UnsafeCell<c_uint>);
/// A boolean preference variable.
pub struct BoolPref(UnsafeCell<WBool>);
/// A string or file name preference variable.
pub struct StringPref(UnsafeCell<*const c_char>);

// SAFETY: Wireshark writes preference variables on its main thread between
// dissections; we only read them while dissecting.
unsafe impl Sync for UintPref {}
unsafe impl Sync for BoolPref {}
unsafe impl Sync for StringPref {}

impl UintPref {
    pub const fn new(default: c_uint) -> Self {
        UintPref(UnsafeCell::new(default))
    }
    pub fn get(&self) -> c_uint {
        // SAFETY: see the Sync impl.
        unsafe { *self.0.get() }
    }
}

impl BoolPref {
    pub const fn new(default: bool) -> Self {
        BoolPref(UnsafeCell::new(abi::wbool(default)))
    }
    pub fn get(&self) -> bool {
        // SAFETY: see the Sync impl.
        abi::from_wbool(unsafe { *self.0.get() })
    }
}

impl StringPref {
    pub const fn new(default: &'static CStr) -> Self {
        StringPref(UnsafeCell::new(default.as_ptr()))
    }
    /// True when unset or set to "": cheap enough to ask on every packet.
    pub fn is_empty(&self) -> bool {
        // SAFETY: see the Sync impl; a non-NULL pointer is NUL-terminated.
        unsafe {
            let value = *self.0.get();
            value.is_null() || *value == 0
        }
    }

    /// The current value; empty when unset.
    pub fn get(&self) -> String {
        // SAFETY: see the Sync impl; Wireshark keeps a NUL-terminated string
        // here (never NULL after registration, but we check anyway).
        unsafe {
            let value = *self.0.get();
            if value.is_null() {
                String::new()
            } else {
                CStr::from_ptr(value).to_string_lossy().into_owned()
            }
        }
    }
}

/// A static C table (raw pointers to other static data) that Rust never
/// mutates, e.g. the wiretap file type description.  Raw pointers are not
/// `Sync`, so such tables need this wrapper to live in a `static`.
pub struct StaticTable<T>(pub T);

// SAFETY: the contents are immutable from Rust's side and point only to
// static data; Wireshark reads them on its main thread.
unsafe impl<T> Sync for StaticTable<T> {}
