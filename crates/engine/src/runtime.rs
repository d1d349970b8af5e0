//! The tokio runtimes of the embedded engine and the cluster, made within
//! the threads the system will start.
//!
//! tokio's multi-thread runtime panics when the system refuses it a worker
//! thread (a thread limit: `ulimit -u`, a cgroup's `pids.max`), and so
//! does a blocking task (the matcher's per-pair stage, `plan::MatchExec`;
//! hyper's name lookups on the cluster) whose thread cannot start while the
//! blocking pool has none: under a limit of two tasks the embedded engine
//! panicked and then hung, under three or four it panicked now and then
//! (measured 2026-12-07; an independent review found the second).  So:
//!
//! * the threads the system will start are counted first (as many as start
//!   at once, up to the workers asked for and one more, each joined
//!   before the runtime is made);
//! * with two or more, a multi-thread runtime of one worker fewer than
//!   that; with one, a current-thread runtime (the tasks run on the thread
//!   that waits for them); with none the engine is refused, in one line
//!   that says what to do;
//! * the blocking pool's first thread is started at once, while its slot
//!   is counted, and kept: once the pool has a thread, a blocking task the
//!   system refuses a thread for waits for it instead of panicking.
//!
//! crates/pktmatch/tests/no_threads.rs runs it under real limits.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// How long an idle thread of the blocking pool is kept: the run's whole
/// length (a thread that ended would give its slot to anyone).
const KEEP_BLOCKING: Duration = Duration::from_secs(7 * 24 * 3600);

/// A runtime of up to `workers` workers named `name` (fewer where the
/// system starts fewer threads), with I/O and timers if `io`; `hint` ends
/// the refusal's message (what else the user can do).
pub fn build(
    workers: usize,
    name: &str,
    io: bool,
    hint: &str,
) -> Result<tokio::runtime::Runtime, String> {
    let workers = workers.max(1);
    let can = startable(workers + 1);
    let mut b = match can {
        0 => {
            return Err(format!(
                "the system starts no more thread for this process, and the engine needs one \
                 (for the matcher beside its tasks): raise the limit on threads (ulimit -u, \
                 the cgroup's pids.max){hint}"
            ))
        }
        1 => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads((can - 1).min(workers));
            b
        }
    };
    b.thread_name(name).thread_keep_alive(KEEP_BLOCKING);
    if io {
        b.enable_all();
    }
    // A thread refused between the count and here: tokio panics rather
    // than fail; its panic is made this error (after its message).
    let refused = |_| "engine threads: the system refused one (see above)".to_string();
    let rt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.build()))
        .map_err(refused)?
        .map_err(|e| format!("engine threads: {e}"))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(rt.spawn_blocking(|| ()))
    }))
    .map_err(refused)?
    .map_err(|e| format!("engine threads: {e}"))?;
    Ok(rt)
}

/// How many threads, up to `n`, the system starts at once: each waits
/// until all are started, then all end and are joined (a joined thread's
/// slot is free again; one only out of a scope may not be yet).
fn startable(n: usize) -> usize {
    let gate = Arc::new(RwLock::new(()));
    let held = gate.write().unwrap_or_else(PoisonError::into_inner);
    let started: Vec<_> = (0..n)
        .map_while(|_| {
            let g = Arc::clone(&gate);
            std::thread::Builder::new()
                .name("pktmatch-probe".into())
                .spawn(move || drop(g.read()))
                .ok()
        })
        .collect();
    drop(held);
    let can = started.len();
    for t in started {
        let _ = t.join();
    }
    can
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_counted_and_the_runtime_runs() {
        assert_eq!(startable(3), 3);
        let rt = build(2, "pktmatch-test", false, "").unwrap();
        assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    }
}
