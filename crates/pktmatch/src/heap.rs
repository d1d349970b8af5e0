//! Heap high-water mark, for the memory bar of `pktmatch index` (bytes per
//! packet).  The resident set size is no measure of it: the inputs are
//! memory-mapped, and their pages count as resident while they are read.
//! Counted per thread and added to a shared total every 64 KiB; reported by
//! `PKTMATCH_TIMINGS=1`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

pub struct Counting;

static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Net bytes a thread allocates before it adds them to [`CURRENT`]: one
/// shared counter updated on every allocation made the two cores contend
/// for its cache line (5–6 % of `pktmatch index`'s CPU, by `perf`).  The
/// total, and so the peak, can be off by up to this much per running
/// thread either way (a thread's unadded allocations read low, its unadded
/// frees high; a thread's balance is added when it ends): well under a MiB
/// against the hundreds measured.  The destructor that adds it relies on
/// the platform's thread-exit hook (glibc's `__cxa_thread_atexit_impl`),
/// which does not allocate through this allocator.
const BATCH: isize = 64 * 1024;

/// A thread's bytes not yet in [`CURRENT`], added when the thread ends.
struct Local(Cell<isize>);

impl Drop for Local {
    fn drop(&mut self) {
        add(self.0.replace(0));
    }
}

thread_local! {
    static LOCAL: Local = const { Local(Cell::new(0)) };
}

fn add(n: isize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    // fetch_max is a compare-and-swap loop on x86: only when a new peak is
    // likely (a stale read can only let one more through, never miss one).
    if now > 0 && now as usize > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now as usize, Ordering::Relaxed);
    }
}

fn changed(n: isize) {
    let kept = LOCAL.try_with(|l| {
        let v = l.0.get() + n;
        if v.abs() >= BATCH {
            l.0.set(0);
            add(v);
        } else {
            l.0.set(v);
        }
    });
    // The thread's counter is gone (the thread is ending): counted here.
    if kept.is_err() {
        add(n);
    }
}

fn grew(n: usize) {
    changed(n as isize);
}

fn shrank(n: usize) {
    changed(-(n as isize));
}

// SAFETY: every call is passed to the system allocator unchanged; only
// counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// The most heap memory in use at any time so far, in bytes.
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// The CPU time (user and system) the process has used so far, in seconds,
/// all threads; 0 where it cannot be read.  Beside the elapsed time in the
/// stage stamps (`PKTMATCH_TIMINGS=1`), it tells how many cores a stage kept
/// busy.
pub fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return s(u.ru_utime) + s(u.ru_stime);
        }
    }
    0.0
}
