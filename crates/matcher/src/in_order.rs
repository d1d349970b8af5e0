//! Units of work done on several threads and taken in order on this one,
//! with a bounded window: what reading a capture in pieces
//! ([`crate::table`]'s `read_pieces`) and writing its key tables in row
//! groups (the `engine` crate's `write::pieces`) both are.  The workers
//! start a unit only while it is fewer than `ahead` units past the one
//! being taken, so what waits in memory stays a few units per thread
//! however big the file.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How [`run`] runs.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Threads started beside this one.
    pub threads: usize,
    /// Units done but not yet taken, and being done, at most.
    pub ahead: usize,
    /// Whether this thread does a unit itself while the next one to take is
    /// not ready (rather than wait), when the window has room (always
    /// without `threads`).
    pub help: bool,
}

/// Runs `work(state, k)` for every `k` in `0..units` on `window.threads`
/// threads (each with its own `state` from `init`) and hands each result
/// to `take(k, r)` on this thread, in order of `k`; `r` is None if that
/// unit's `work` panicked (the panic stays in the unit).  Stops when
/// `take` breaks, and returns its value: the threads then start no
/// further unit.  A thread the system cannot start is one fewer (with none,
/// this thread does every unit).  However this ends (a `take` that panics,
/// a worker's `init` that panics: that worker's units come out None; this
/// thread's own `init` panics out of `run`), no thread is left waiting.
pub fn run<S, T: Send, B>(
    units: usize,
    window: Window,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
    take: impl FnMut(usize, Option<T>) -> ControlFlow<B>,
) -> Option<B> {
    run_growing(units, window, |_| 0, init, work, take)
}

/// [`run`], asking `more(left)` before each unit it takes, while `left`
/// units are not started yet, how many threads to start now beside those
/// running (a core that fell idle elsewhere joins the work;
/// `window.ahead` bounds the units in flight all the same).
pub fn run_growing<S, T: Send, B>(
    units: usize,
    window: Window,
    mut more: impl FnMut(usize) -> usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
    mut take: impl FnMut(usize, Option<T>) -> ControlFlow<B>,
) -> Option<B> {
    let pool = Pool {
        next: AtomicUsize::new(0),
        ahead: window.ahead.max(1),
        units,
        shared: Mutex::new(Shared {
            done: BTreeMap::new(),
            taken: 0,
            stop: false,
        }),
        changed: Condvar::new(),
    };
    let pool = &pool;
    let (init, work) = (&init, &work);
    // Without threads this one does every unit.
    let help = window.help || window.threads == 0;
    std::thread::scope(|s| {
        // Made before the first thread: a thread that could not be
        // started, or a panic below, still stops those that were.
        let _stop = Stop(pool);
        let worker = move || {
            // A state that cannot be made (its `init` panicked): this
            // thread's units come out as panicked ones, rather than wait
            // for ever for a thread that is gone.
            let mut state = std::panic::catch_unwind(std::panic::AssertUnwindSafe(init)).ok();
            while let Some(k) = pool.claim() {
                let r = state.as_mut().and_then(|s| work_guarded(work, s, k));
                pool.finish(k, r);
            }
        };
        // A thread the system will not start is one fewer: with none at
        // all this one does every unit.
        let spawn = || std::thread::Builder::new().spawn_scoped(s, worker).is_ok();
        let started = (0..window.threads).filter(|_| spawn()).count();
        let help = help || started == 0;
        let mut mine = None;
        for k in 0..units {
            let left = units.saturating_sub(pool.next.load(Ordering::Relaxed));
            if left > 0 {
                // Stops at the first that cannot start.
                let _ = (0..more(left)).all(|_| spawn());
            }
            let r = loop {
                let g = pool.lock();
                if let Some(r) = pool.taken(g, k) {
                    break r;
                }
                match help.then(|| pool.claim_now()).flatten() {
                    Some(j) => {
                        let state = mine.get_or_insert_with(init);
                        pool.finish(j, work_guarded(work, state, j));
                    }
                    None => pool.wait_for(k),
                }
            };
            if let ControlFlow::Break(b) = take(k, r) {
                return Some(b);
            }
        }
        None
    })
}

/// `work(state, k)`, None if it panicked.
fn work_guarded<S, T>(work: &impl Fn(&mut S, usize) -> T, state: &mut S, k: usize) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(state, k))).ok()
}

/// What [`run`]'s threads share.
struct Pool<T> {
    /// The next unit to start.
    next: AtomicUsize,
    ahead: usize,
    units: usize,
    shared: Mutex<Shared<T>>,
    changed: Condvar,
}

struct Shared<T> {
    /// Units done and not yet taken.
    done: BTreeMap<usize, Option<T>>,
    /// Units taken so far.
    taken: usize,
    /// Stop: every unit is taken, or the taking stopped.
    stop: bool,
}

impl<T> Pool<T> {
    fn lock(&self) -> MutexGuard<'_, Shared<T>> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker's next unit, once the window has room for it; None when
    /// none is left or the pool stopped.
    fn claim(&self) -> Option<usize> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if k >= self.units {
            return None;
        }
        let mut g = self.lock();
        while !g.stop && k >= g.taken.saturating_add(self.ahead) {
            g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        (!g.stop).then_some(k)
    }

    /// The next unit if the window has room for it now (this thread's
    /// help), else None.
    fn claim_now(&self) -> Option<usize> {
        let g = self.lock();
        let room = g.taken.saturating_add(self.ahead).min(self.units);
        drop(g);
        if self.next.load(Ordering::Relaxed) >= room {
            return None;
        }
        let j = self.next.fetch_add(1, Ordering::Relaxed);
        (j < self.units).then_some(j)
    }

    fn finish(&self, k: usize, r: Option<T>) {
        self.lock().done.insert(k, r);
        self.changed.notify_all();
    }

    /// Unit `k`'s result if it is done (and the window moves on).
    fn taken(&self, mut g: MutexGuard<'_, Shared<T>>, k: usize) -> Option<Option<T>> {
        let r = g.done.remove(&k)?;
        g.taken = k + 1;
        drop(g);
        self.changed.notify_all();
        Some(r)
    }

    /// Waits until something changed (unit `k` may be done).
    fn wait_for(&self, k: usize) {
        let g = self.lock();
        if !g.done.contains_key(&k) {
            drop(self.changed.wait(g).unwrap_or_else(|e| e.into_inner()));
        }
    }
}

/// Stops the pool's threads when dropped.
struct Stop<'a, T>(&'a Pool<T>);

impl<T> Drop for Stop<'_, T> {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn window(threads: usize, help: bool) -> Window {
        Window {
            threads,
            ahead: 2 * threads.max(1),
            help,
        }
    }

    #[test]
    fn in_order_on_any_threads() {
        for (threads, help) in [(0, true), (1, false), (1, true), (3, false), (3, true)] {
            let mut got = Vec::new();
            let r: Option<()> = run(
                100,
                window(threads, help),
                || 0usize,
                |calls, k| {
                    *calls += 1;
                    k * k
                },
                |k, r| {
                    got.push((k, r));
                    ControlFlow::Continue(())
                },
            );
            assert!(r.is_none());
            let want: Vec<_> = (0..100).map(|k| (k, Some(k * k))).collect();
            assert_eq!(got, want, "{threads} threads, help {help}");
        }
    }

    /// Threads started on the way take units too, and the order holds.
    #[test]
    fn threads_started_late_join_in() {
        let seen = Mutex::new(std::collections::HashSet::new());
        let mut asked = Vec::new();
        let mut got = Vec::new();
        let r: Option<()> = run_growing(
            200,
            window(0, true),
            |left| {
                asked.push(left);
                usize::from(asked.len() == 5)
            },
            || (),
            |_, k| {
                seen.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_micros(200));
                k + 1
            },
            |k, r| {
                got.push((k, r));
                ControlFlow::Continue(())
            },
        );
        assert!(r.is_none());
        let want: Vec<_> = (0..200).map(|k| (k, Some(k + 1))).collect();
        assert_eq!(got, want);
        assert_eq!(seen.lock().unwrap().len(), 2, "the late thread did no unit");
        assert!(
            asked.iter().all(|&left| left > 0),
            "asked with nothing left"
        );
        assert!(asked.windows(2).all(|w| w[0] >= w[1]), "{asked:?}");
    }

    #[test]
    fn a_panic_stays_in_its_unit() {
        let mut got = Vec::new();
        let _: Option<()> = run(
            10,
            window(2, true),
            || (),
            |_, k| {
                assert!(k != 4, "unit 4 fails");
                k
            },
            |k, r| {
                got.push((k, r.is_some()));
                ControlFlow::Continue(())
            },
        );
        let want: Vec<_> = (0..10).map(|k| (k, k != 4)).collect();
        assert_eq!(got, want);
    }

    /// Taking stops early: the threads start no unit past the window and
    /// do not wait for ever.
    #[test]
    fn a_break_stops_the_threads() {
        let started = AtomicUsize::new(0);
        let r = run(
            1000,
            window(2, false),
            || (),
            |_, k| {
                started.fetch_add(1, Ordering::Relaxed);
                k
            },
            |k, _| match k {
                3 => ControlFlow::Break("stopped"),
                _ => ControlFlow::Continue(()),
            },
        );
        assert_eq!(r, Some("stopped"));
        assert!(
            started.load(Ordering::Relaxed) <= 4 + 4,
            "at most the window past unit 3"
        );
    }

    /// A worker whose state cannot be made gives its units as panicked
    /// ones (nobody else would do them: `help` is off).
    #[test]
    fn a_panic_in_init_does_not_hang() {
        let mut got = Vec::new();
        let _: Option<()> = run(
            20,
            window(2, false),
            || -> () { panic!("no state") },
            |_, k| k,
            |k, r| {
                got.push((k, r));
                ControlFlow::Continue(())
            },
        );
        assert_eq!(got, (0..20).map(|k| (k, None)).collect::<Vec<_>>());
    }

    /// A window as wide as can be does not wrap around.
    #[test]
    fn the_widest_window() {
        let w = Window {
            threads: 2,
            ahead: usize::MAX,
            help: true,
        };
        let mut n = 0;
        let _: Option<()> = run(
            50,
            w,
            || (),
            |_, k| k,
            |k, r| {
                assert_eq!(r, Some(k));
                n += 1;
                ControlFlow::Continue(())
            },
        );
        assert_eq!(n, 50);
    }

    /// A panic while taking stops the threads too (the scope then
    /// rethrows it).
    #[test]
    fn a_panic_while_taking_does_not_hang() {
        let r = std::panic::catch_unwind(|| {
            run::<(), usize, ()>(
                1000,
                window(2, false),
                || (),
                |_, k| k,
                |k, _| {
                    assert!(k != 5, "taking fails");
                    ControlFlow::Continue(())
                },
            )
        });
        assert!(r.is_err());
    }
}
