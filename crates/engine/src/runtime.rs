//! The tokio runtimes of the embedded engine and the cluster, made within
//! the threads the system will start.
//!
//! tokio's multi-thread runtime panics when the system refuses it a worker
//! thread (a thread limit: `ulimit -u`, a cgroup's `pids.max`), and a
//! blocking task (the matcher's per-pair stage, `plan::MatchExec`) whose
//! thread cannot start waits for one of the blocking pool's threads to be
//! free, which the workers never are: under a limit of two tasks the
//! embedded engine panicked and then hung (measured 2026-12-07).  So the
//! threads are counted first: as many as the system starts at once, up
//! to the workers asked for plus one for the blocking tasks; the runtime
//! gets one worker fewer than that count (at least one), and with fewer
//! than two the engine is refused with a message that says what to do.
//! crates/pktmatch/tests/no_threads.rs runs it under real limits.

use std::sync::{Arc, PoisonError, RwLock};

/// A multi-thread runtime of up to `workers` workers named `name` (fewer
/// where the system starts fewer threads), with I/O and timers if `io`.
pub fn build(workers: usize, name: &str, io: bool) -> Result<tokio::runtime::Runtime, String> {
    let wanted = workers.max(1) + 1;
    let can = startable(wanted);
    if can < 2 {
        return Err(format!(
            "the system starts {can} more thread(s) for this process, and the engine needs 2 \
             at least (its tasks, and the matcher beside them): raise the limit on threads \
             (ulimit -u, the cgroup's pids.max) or give --engine threads, which runs on one"
        ));
    }
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads((can - 1).min(workers.max(1)))
        .thread_name(name);
    if io {
        b.enable_all();
    }
    // A thread refused between the count and here: tokio panics rather
    // than fail; its panic is made this error (after its message).
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.build())) {
        Ok(r) => r.map_err(|e| format!("engine threads: {e}")),
        Err(_) => Err("engine threads: the system refused one (see above)".into()),
    }
}

/// How many threads, up to `n`, the system starts at once: each waits
/// until all are started, then all end and are joined.
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
        let rt = build(2, "pktmatch-test", false).unwrap();
        assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    }
}
