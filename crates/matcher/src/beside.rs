//! Work started on a scoped thread of its own when the system starts one,
//! and otherwise kept for whoever waits for it.
//!
//! `std::thread::Scope::spawn` panics when the system will not start a
//! thread (a process or cgroup thread limit, `pids.max`; memory for the
//! stack): the whole command then died of a panic on work that one thread
//! can do.  [`beside`] tries, and on a refusal keeps the work (a copy of
//! the closure: closures that borrow are `Copy`), which [`Beside::join`]
//! then does on the waiting thread.  The result is the same; only the
//! time differs.  crates/pktmatch/tests/no_threads.rs runs the commands
//! under a real thread limit.

use std::thread::{Builder, Scope, ScopedJoinHandle};

/// Work on a thread, or kept to be done by [`Beside::join`].
pub enum Beside<'scope, T> {
    Thread(ScopedJoinHandle<'scope, T>),
    Later(Box<dyn FnOnce() -> T + Send + 'scope>),
}

/// `f` on a new thread of `scope`, or kept for [`Beside::join`] if the
/// system will not start one.
pub fn beside<'scope, T, F>(scope: &'scope Scope<'scope, '_>, f: F) -> Beside<'scope, T>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + Clone + 'scope,
{
    match Builder::new().spawn_scoped(scope, f.clone()) {
        Ok(h) => Beside::Thread(h),
        Err(_) => Beside::Later(Box::new(f)),
    }
}

impl<T> Beside<'_, T> {
    /// The work's result: the thread's, or the work done here now.  Err
    /// with the panic's payload if it panicked, on either.
    pub fn join(self) -> std::thread::Result<T> {
        match self {
            Beside::Thread(h) => h.join(),
            Beside::Later(f) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_work_is_done_by_join_and_its_panic_is_caught() {
        let data = [1, 2, 3];
        std::thread::scope(|s| {
            let b: Beside<'_, i32> = Beside::Later(Box::new(|| data.iter().sum()));
            assert!(matches!(b, Beside::Later(_)));
            assert_eq!(b.join().unwrap(), 6);
            let p: Beside<'_, i32> = Beside::Later(Box::new(|| panic!("later")));
            assert!(p.join().is_err());
            let t = beside(s, || data.len());
            assert!(matches!(t, Beside::Thread(_)));
            assert_eq!(t.join().unwrap(), 3);
        });
    }
}
