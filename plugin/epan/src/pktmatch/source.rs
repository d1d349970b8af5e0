//! Where the index comes from and how it is held in memory.
//!
//! The file is named by the preference `pktmatch.index`, or, when that is
//! empty, by the environment variable `PKTMATCH_INDEX` (read once: the
//! environment of a running Wireshark does not change).  It is read into
//! memory once and checked by `Index::load`; the loaded index is kept across
//! file loads and read again only when its path, size or modification time
//! changed, so reopening a capture or redissecting costs one `stat`.
//!
//! Read, not memory-mapped: a mapping of a file that someone truncates in
//! place (a non-atomic writer, a copy over it) faults with SIGBUS on the
//! next access, which would take Wireshark down; a private copy cannot.
//! `Index::load` touches every byte of the sections it checks anyway, so a
//! mapping would not save the first read.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use index::Index;

use super::lookup::Lookup;

/// Name of the environment variable used when the preference is empty.
pub const ENV: &str = "PKTMATCH_INDEX";

/// The index file named by the environment, if any (non-empty).
pub fn env_path() -> Option<&'static str> {
    static PATH: OnceLock<Option<String>> = OnceLock::new();
    PATH.get_or_init(|| std::env::var(ENV).ok().filter(|p| !p.is_empty()))
        .as_deref()
}

/// A loaded, checked index and the bytes it views.
pub struct Loaded {
    // `index` and `lookup` borrow `_bytes`' heap block (see `read`).
    // Declared first so they are dropped first; `_bytes` is only owned,
    // never touched again.
    lookup: Lookup<'static>,
    index: Index<'static>,
    _bytes: Vec<u8>,
    path: String,
}

impl Loaded {
    /// Reads and checks the index at `path`.  The error is a sentence for
    /// the user (it ends up in expert info).
    fn read(path: &str) -> Result<Loaded, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        // SAFETY: the slice points into the Vec's heap block, which stays
        // where it is for as long as the Vec lives (moving the Vec moves only
        // its pointer) and is never written or reallocated: `bytes` is
        // private and only dropped with `Loaded`, after `index`.  The
        // 'static lifetime never escapes: `index()` shortens it to `&self`.
        let view: &'static [u8] =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
        let index = Index::load(view).map_err(|e| format!("{path}: {e}"))?;
        Ok(Loaded {
            lookup: Lookup::new(&index),
            index,
            _bytes: bytes,
            path: path.to_owned(),
        })
    }

    pub fn index(&self) -> &Index<'_> {
        &self.index
    }

    pub fn lookup(&self) -> &Lookup<'_> {
        &self.lookup
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

/// What the file looked like when it was read: a change reloads it.
#[derive(Clone, PartialEq, Eq)]
struct Stamp {
    path: String,
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &str) -> Option<Stamp> {
    let meta = std::fs::metadata(Path::new(path)).ok()?;
    Some(Stamp {
        path: path.to_owned(),
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// The outcome of the last load: the index, or why it could not be used.
pub type Outcome = Result<Arc<Loaded>, Arc<str>>;

static CACHE: Mutex<Option<(Option<Stamp>, Outcome)>> = Mutex::new(None);

/// The index at `path`, from the cache when the file has not changed since
/// it was read.  Called once per capture load (the session keeps the
/// result), so a failed read is reported once per load.
pub fn load(path: &str) -> Outcome {
    let now = stamp(path);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((Some(seen), outcome)) = cache.as_ref() {
        if now.as_ref() == Some(seen) {
            return outcome.clone();
        }
    }
    let outcome = Loaded::read(path).map(Arc::new).map_err(Arc::from);
    if let Err(problem) = &outcome {
        wireshark_ffi::guard::report(problem);
    }
    *cache = Some((now, outcome.clone()));
    outcome
}
