//! Statistics tables: Wireshark's `stat_tap_table_ui`, from Rust.
//!
//! A table is registered once and then appears in two places at no further
//! cost: `tshark -z CLI[,FILTER]` prints it at the end of a run, and the
//! GUI's Statistics menu opens it in a dialog (a sortable, copyable tree with
//! a display filter box).  Both are Wireshark's own code; they fill the table
//! by registering a tap listener for it on the [`Tap`] the table names, and
//! our part is the model behind the rows:
//!
//! * a dissector (or post-dissector) queues one `Copy` record per packet on a
//!   [`Tap`] — a summary of what it found, e.g. from its stored per-frame
//!   results, so a retap (the GUI re-dissects every frame when a dialog opens
//!   or its filter changes) gives the same records;
//! * a [`TableModel`] accumulates records into rows of typed [`Cell`]s;
//!   rows are append-only (the GUI keeps pointers to them), a record may
//!   change any number of them;
//! * [`StatTable`] keeps Wireshark's C rows in step with the model: only the
//!   rows a record changed are rewritten; text cells point to strings this
//!   module owns until the row is rewritten or the table reset or freed.
//!
//! Wireshark's sequence (4.0–4.6, `epan/stat_tap_ui.c`, `ui/cli/
//! tap-simple_stattable.c`, `ui/qt/simple_statistics_dialog.cpp`): the init
//! callback (tshark once; the GUI each time the dialog is filled), a reset of
//! every table before each tap run, the packet callback per tapped packet,
//! Wireshark's draw (tshark prints each cell with the column's printf format,
//! which we generate from the column's kind — never from caller text), and
//! the free callback per cell when the GUI closes the dialog.  Every callback
//! runs under the panic guard; a panic makes the packet callback report
//! failure (Wireshark then stops calling it) instead of unwinding into C.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::guard;
use crate::packet::Packet;
use crate::sys;

/// A named tap: per-packet records of type `R` for whoever listens.
pub struct Tap<R> {
    id: AtomicI32,
    name: &'static CStr,
    _record: PhantomData<fn(R)>,
}

impl<R: Copy + 'static> Tap<R> {
    pub const fn new(name: &'static CStr) -> Self {
        Tap {
            id: AtomicI32::new(-1),
            name,
            _record: PhantomData,
        }
    }

    /// Registers the tap (during protocol registration, before any table
    /// naming it is opened).
    pub fn register(&'static self) {
        // SAFETY: a static NUL-terminated name; Wireshark keeps the pointer.
        let id = unsafe { sys::register_tap(self.name.as_ptr()) };
        self.id.store(id, Ordering::Relaxed);
    }

    pub fn name(&self) -> &'static CStr {
        self.name
    }

    /// True when a listener (a table, `-z`, an extcap…) is on the tap: only
    /// then is a record worth making.
    pub fn is_listened(&self) -> bool {
        let id = self.id.load(Ordering::Relaxed);
        // SAFETY: have_tap_listener only reads Wireshark's listener list.
        id >= 0 && crate::abi::from_wbool(unsafe { sys::have_tap_listener(id) })
    }

    /// Queues `record` for this packet's listeners; they get it once the
    /// whole frame is dissected.  The record is copied into the packet's
    /// memory pool, which outlives the tap run of the frame.
    pub fn queue(&self, packet: &Packet, record: R) {
        if !self.is_listened() {
            return;
        }
        let data = packet.pool_copy(record);
        // SAFETY: a registered tap id, the packet's own pinfo, and data that
        // lives as long as the packet.
        unsafe {
            sys::tap_queue_packet(
                self.id.load(Ordering::Relaxed),
                packet.pinfo_ptr(),
                data.cast(),
            )
        };
    }
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned 32-bit count (right-aligned).
    Uint,
    /// Signed 32-bit number (right-aligned).
    Int,
    /// A number with `decimals` digits after the point in tshark's output
    /// (the GUI always shows 6) (right-aligned).
    Float { decimals: u8 },
    /// Text (left-aligned).
    Text,
}

/// One column: heading, kind and the width tshark pads cells to (at least
/// the heading's, so cells line up under it).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub width: usize,
}

impl Column {
    pub const fn new(name: &'static str, kind: Kind, width: usize) -> Self {
        Column { name, kind, width }
    }

    fn padded_width(&self) -> usize {
        self.width.max(self.name.len())
    }

    /// The heading, padded to the column's width on the side away from the
    /// alignment (tshark prints headings as they are, then each cell with
    /// [`Column::format`]: so they line up; the GUI does not show the spaces).
    fn heading(&self) -> String {
        let width = self.padded_width();
        match self.kind {
            Kind::Text => format!("{:<width$}", self.name),
            _ => format!("{:>width$}", self.name),
        }
    }

    /// The printf format tshark prints this column's cells with.
    fn format(&self) -> String {
        let width = self.padded_width();
        match self.kind {
            Kind::Uint => format!("%{width}u"),
            Kind::Int => format!("%{width}d"),
            Kind::Float { decimals } => format!("%{width}.{decimals}f"),
            Kind::Text => format!("%-{width}s"),
        }
    }

    fn c_type(&self) -> c_int {
        (match self.kind {
            Kind::Uint => sys::PM_TABLE_ITEM_UINT,
            Kind::Int => sys::PM_TABLE_ITEM_INT,
            Kind::Float { .. } => sys::PM_TABLE_ITEM_FLOAT,
            Kind::Text => sys::PM_TABLE_ITEM_STRING,
        }) as c_int
    }
}

/// One cell's value; its variant must match its column's [`Kind`].
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Uint(u32),
    Int(i32),
    Float(f64),
    Text(String),
}

/// The rows behind a table, built from the records of its tap.
pub trait TableModel: Default + Send + 'static {
    type Record: Copy + 'static;
    /// One tapped packet's record: update the rows and push the index of
    /// every row that changed onto `changed`.  Rows are never removed; a new
    /// row takes the next index.
    fn add(&mut self, record: &Self::Record, changed: &mut Vec<usize>);
    /// The number of rows.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `index` as it stands: one cell per column.
    fn row(&self, index: usize) -> Vec<Cell>;
}

/// A table statistic over the records of one tap.  Make it a `static` and
/// call [`StatTable::register`] once during protocol registration.
pub struct StatTable<M: TableModel> {
    /// Menu entry and dialog title in the GUI, heading of tshark's output.
    title: &'static CStr,
    /// The title of the (only) table, printed by tshark above the rows.
    table_title: &'static CStr,
    /// `-z` argument, e.g. `c"ee,rtp"` (a filter may follow after a comma).
    cli: &'static CStr,
    tap: &'static Tap<M::Record>,
    columns: &'static [Column],
    state: Mutex<Option<State<M>>>,
}

struct State<M> {
    model: M,
    /// The C strings text cells of each row point to, per column.
    strings: Vec<Vec<Option<CString>>>,
    changed: Vec<usize>,
}

impl<M: TableModel> State<M> {
    fn new() -> Self {
        State {
            model: M::default(),
            strings: Vec::new(),
            changed: Vec::new(),
        }
    }
}

impl<M: TableModel> StatTable<M> {
    pub const fn new(
        title: &'static CStr,
        table_title: &'static CStr,
        cli: &'static CStr,
        tap: &'static Tap<M::Record>,
        columns: &'static [Column],
    ) -> Self {
        StatTable {
            title,
            table_title,
            cli,
            tap,
            columns,
            state: Mutex::new(None),
        }
    }

    /// Registers the table with Wireshark (tshark's `-z` and the GUI's
    /// Statistics menu).  Call after [`Tap::register`].
    pub fn register(&'static self) {
        let fields: Vec<sys::stat_tap_table_item> = self
            .columns
            .iter()
            .map(|column| sys::stat_tap_table_item {
                type_: column.c_type(),
                align: if column.kind == Kind::Text {
                    sys::PM_TAP_ALIGN_LEFT
                } else {
                    sys::PM_TAP_ALIGN_RIGHT
                } as c_int,
                column_name: leak_c(&column.heading()),
                field_format: leak_c(&column.format()),
            })
            .collect();
        let fields = Box::leak(fields.into_boxed_slice());
        let registered: &'static Registered = Box::leak(Box::new(Registered {
            ui: UnsafeCell::new(sys::stat_tap_table_ui {
                group: sys::PM_REGISTER_PACKET_STAT_GROUP_UNSORTED as c_int,
                title: self.title.as_ptr(),
                tap_name: self.tap.name().as_ptr(),
                cli_string: self.cli.as_ptr(),
                stat_tap_init_cb: Some(init_cb),
                packet_func: Some(packet_cb),
                stat_tap_reset_table_cb: Some(reset_cb),
                stat_tap_free_table_item_cb: Some(free_item_cb),
                stat_filter_check_cb: None,
                nfields: fields.len(),
                fields: fields.as_mut_ptr(),
                nparams: 0,
                params: ptr::null_mut(),
                tables: ptr::null_mut(),
                refcount: 0,
            }),
            table: self,
        }));
        registry().push(registered);
        // SAFETY: the registration and everything it points to live forever;
        // from here on only Wireshark writes to it (tables, refcount).
        unsafe { sys::register_stat_tap_table_ui(registered.ui.get()) };
    }

    fn lock(&self) -> MutexGuard<'_, Option<State<M>>> {
        // A panic under the lock left state we cannot trust: start over.
        self.state
            .lock()
            .unwrap_or_else(|poisoned: PoisonError<_>| {
                let mut guard = poisoned.into_inner();
                *guard = None;
                guard
            })
    }

    /// The table of `ui`, created (empty) if Wireshark has none yet.
    fn table(&self, ui: *mut sys::stat_tap_table_ui) -> *mut sys::stat_tap_table {
        // SAFETY: ui is our registration; the title is a static string.
        unsafe {
            let found = sys::stat_tap_find_table(ui, self.table_title.as_ptr());
            if !found.is_null() {
                return found;
            }
            let table = sys::stat_tap_init_table(
                self.table_title.as_ptr(),
                self.columns.len() as c_int,
                0,
                ptr::null(),
            );
            sys::stat_tap_add_table(ui, table);
            table
        }
    }

    /// Rewrites C row `index` from the model (Wireshark copies the cells;
    /// text stays ours until the row is rewritten).
    fn write_row(&self, state: &mut State<M>, table: *mut sys::stat_tap_table, index: usize) {
        let cells = state.model.row(index);
        assert_eq!(
            cells.len(),
            self.columns.len(),
            "row {index} has {} cells for {} columns",
            cells.len(),
            self.columns.len()
        );
        let mut texts: Vec<Option<CString>> = Vec::with_capacity(cells.len());
        let items: Vec<sys::stat_tap_table_item_type> = cells
            .into_iter()
            .zip(self.columns)
            .map(|(cell, column)| {
                let mut item = sys::stat_tap_table_item_type {
                    type_: column.c_type(),
                    ..Default::default()
                };
                let mut text = None;
                match (cell, column.kind) {
                    (Cell::Uint(v), Kind::Uint) => item.value.uint_value = v,
                    (Cell::Int(v), Kind::Int) => item.value.int_value = v,
                    (Cell::Float(v), Kind::Float { .. }) => item.value.float_value = v,
                    (Cell::Text(v), Kind::Text) => {
                        let owned = c_text(&v);
                        item.value.string_value = owned.as_ptr();
                        text = Some(owned);
                    }
                    (cell, kind) => panic!(
                        "row {index}, column {:?}: {cell:?} in a {kind:?} column",
                        column.name
                    ),
                }
                texts.push(text);
                item
            })
            .collect();
        if state.strings.len() <= index {
            state.strings.resize_with(index + 1, Vec::new);
        }
        // SAFETY: a table of ours with num_fields == columns; the items are
        // copied; the strings they point to are kept below.
        unsafe {
            sys::stat_tap_init_table_row(
                table,
                index as c_uint,
                items.len() as c_uint,
                items.as_ptr(),
            )
        };
        // The old strings of this row are no longer pointed to.
        state.strings[index] = texts;
    }

    fn init(&self, ui: *mut sys::stat_tap_table_ui) {
        // SAFETY: ui is our registration.
        let existing = unsafe { sys::stat_tap_find_table(ui, self.table_title.as_ptr()) };
        if existing.is_null() {
            // A new table (first run, or the GUI freed the last one): rows
            // of a previous table are gone with it.
            *self.lock() = Some(State::new());
        }
        self.table(ui);
    }

    fn packet(&self, ui: *mut sys::stat_tap_table_ui, data: *const c_void) {
        if data.is_null() {
            return;
        }
        // SAFETY: only our dissector queues on our tap, always an M::Record
        // in the packet's pool, valid during this callback.
        let record: M::Record = unsafe { ptr::read(data.cast::<M::Record>()) };
        let table = self.table(ui);
        let mut guard = self.lock();
        let state = guard.get_or_insert_with(State::new);
        let mut changed = std::mem::take(&mut state.changed);
        changed.clear();
        state.model.add(&record, &mut changed);
        // SAFETY: a live table of ours.
        let rows_in_c = unsafe { (*table).num_elements } as usize;
        // New rows in order (no index may be skipped), then the others.
        for index in rows_in_c..state.model.len() {
            self.write_row(state, table, index);
        }
        for &index in &changed {
            if index < rows_in_c {
                self.write_row(state, table, index);
            }
        }
        state.changed = changed;
    }

    /// A new tap run: forget every row, ours and Wireshark's.
    fn reset(&self, table: *mut sys::stat_tap_table) {
        let mut guard = self.lock();
        // SAFETY: a live table of ours; its rows were allocated by
        // stat_tap_init_table_row with g_new0, and nothing points to them
        // after a reset (the GUI clears its tree right after this call).
        unsafe {
            let rows = (*table).num_elements as usize;
            for index in 0..rows {
                let row = *(*table).elements.add(index);
                sys::g_free(row.cast());
                *(*table).elements.add(index) = ptr::null_mut();
            }
            (*table).num_elements = 0;
        }
        *guard = Some(State::new());
    }

    /// Wireshark is freeing the table: drop what its cells pointed to.
    fn forget(&self) {
        *self.lock() = None;
    }
}

/// A C registration and the Rust table behind it (the C struct first, so
/// that the `stat_tap_table_ui *` Wireshark hands back leads to the table).
#[repr(C)]
struct Registered {
    ui: UnsafeCell<sys::stat_tap_table_ui>,
    table: &'static dyn Callbacks,
}

// SAFETY: the raw pointers in `ui` point to leaked, immutable data; only
// Wireshark writes to `ui`, and it calls the callbacks on its main thread.
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

/// The type-erased callbacks of one [`StatTable`].
trait Callbacks: Sync {
    fn init(&self, ui: *mut sys::stat_tap_table_ui);
    fn packet(&self, ui: *mut sys::stat_tap_table_ui, data: *const c_void);
    fn reset(&self, table: *mut sys::stat_tap_table);
    fn forget(&self);
    fn table_title(&self) -> &'static CStr;
}

impl<M: TableModel> Callbacks for StatTable<M> {
    fn init(&self, ui: *mut sys::stat_tap_table_ui) {
        StatTable::init(self, ui)
    }
    fn packet(&self, ui: *mut sys::stat_tap_table_ui, data: *const c_void) {
        StatTable::packet(self, ui, data)
    }
    fn reset(&self, table: *mut sys::stat_tap_table) {
        StatTable::reset(self, table)
    }
    fn forget(&self) {
        StatTable::forget(self)
    }
    fn table_title(&self) -> &'static CStr {
        self.table_title
    }
}

fn registry() -> MutexGuard<'static, Vec<&'static Registered>> {
    static REGISTRY: Mutex<Vec<&'static Registered>> = Mutex::new(Vec::new());
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Our registration behind `ui`, if it is one of ours.
fn by_ui(ui: *mut sys::stat_tap_table_ui) -> Option<&'static dyn Callbacks> {
    registry()
        .iter()
        .find(|r| ptr::eq(r.ui.get(), ui))
        .map(|r| r.table)
}

/// Our registration whose table is `table` (tables carry our title pointer).
fn by_table(table: *mut sys::stat_tap_table) -> Option<&'static dyn Callbacks> {
    if table.is_null() {
        return None;
    }
    // SAFETY: Wireshark hands us a live table.
    let title = unsafe { (*table).title };
    registry()
        .iter()
        .find(|r| ptr::eq(r.table.table_title().as_ptr(), title))
        .map(|r| r.table)
}

unsafe extern "C" fn init_cb(ui: *mut sys::stat_tap_table_ui) {
    let _ = guard::catch(|| {
        if let Some(table) = by_ui(ui) {
            table.init(ui);
        }
    });
}

unsafe extern "C" fn packet_cb(
    tapdata: *mut c_void,
    _pinfo: *mut sys::packet_info,
    _edt: *mut sys::epan_dissect_t,
    data: *const c_void,
    _flags: sys::pm_tap_flags_t,
) -> sys::pm_tap_packet_status {
    let outcome = guard::catch(|| {
        // SAFETY: tshark's and the GUI's listeners for a stat_tap_table_ui
        // pass a stat_data_t whose stat_tap_data is the registration.
        let ui = unsafe { tapdata.cast::<sys::stat_data_t>().as_ref() }
            .map_or(ptr::null_mut(), |sd| sd.stat_tap_data);
        match by_ui(ui) {
            Some(table) => {
                table.packet(ui, data);
                true
            }
            None => false,
        }
    });
    match outcome {
        Ok(true) => sys::PM_TAP_PACKET_REDRAW as sys::pm_tap_packet_status,
        Ok(false) => sys::PM_TAP_PACKET_DONT_REDRAW as sys::pm_tap_packet_status,
        Err(message) => {
            guard::report(&format!("statistics table: {message}"));
            sys::PM_TAP_PACKET_FAILED as sys::pm_tap_packet_status
        }
    }
}

unsafe extern "C" fn reset_cb(table: *mut sys::stat_tap_table) {
    let _ = guard::catch(|| {
        if let Some(owner) = by_table(table) {
            owner.reset(table);
        }
    });
}

unsafe extern "C" fn free_item_cb(
    table: *mut sys::stat_tap_table,
    row: c_uint,
    column: c_uint,
    _field_data: *mut sys::stat_tap_table_item_type,
) {
    let _ = guard::catch(|| {
        // Once per table is enough: Wireshark reads no cell while freeing.
        if (row, column) == (0, 0) {
            if let Some(owner) = by_table(table) {
                owner.forget();
            }
        }
    });
}

/// A string for Wireshark to keep for the program's life.
fn leak_c(text: &str) -> *const c_char {
    Box::leak(c_text(text).into_boxed_c_str()).as_ptr()
}

/// `text` as a C string; an interior NUL (never meant) ends it.
fn c_text(text: &str) -> CString {
    let end = text.find('\0').unwrap_or(text.len());
    CString::new(&text[..end]).expect("no NUL before end")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_kind_and_heading_width() {
        assert_eq!(Column::new("Bytes A>B", Kind::Uint, 6).format(), "%9u");
        assert_eq!(Column::new("n", Kind::Int, 4).format(), "%4d");
        assert_eq!(
            Column::new("RTT ms", Kind::Float { decimals: 3 }, 8).format(),
            "%8.3f"
        );
        assert_eq!(Column::new("State", Kind::Text, 12).format(), "%-12s");
    }

    #[test]
    fn headings_are_padded_to_line_up_with_cells() {
        assert_eq!(Column::new("Bytes", Kind::Uint, 8).heading(), "   Bytes");
        assert_eq!(Column::new("State", Kind::Text, 8).heading(), "State   ");
        assert_eq!(Column::new("Packets", Kind::Uint, 3).heading(), "Packets");
    }

    #[test]
    fn text_cells_stop_at_a_nul() {
        assert_eq!(c_text("ab\0cd").as_bytes(), b"ab");
        assert_eq!(c_text("").as_bytes(), b"");
    }
}
