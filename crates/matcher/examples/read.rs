//! Times the reading stage alone (stage 1 of `pktmatch index`): each
//! capture read into its point table, one after the other.
//!
//!     cargo run --release --example read -p matcher -- [--threads N] [--repeat R] FILE...
//!
//! `--threads 1` (the default) reads each file in one go, as a worker of
//! `pktmatch index` does; more reads a classic pcap file in pieces.  Prints,
//! per file, the best wall time of R runs, nanoseconds per frame and a
//! summary of the table (frames, connections, message starts and a hash of
//! the checks), so that two builds can be compared on the same files; run
//! it under `perf stat -e task-clock` for the CPU time.

use std::time::{Duration, Instant};

fn main() {
    let mut threads = 1;
    let mut runs = 1;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> usize {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => n,
                _ => {
                    eprintln!("{what} wants a positive number");
                    std::process::exit(2);
                }
            }
        };
        match a.as_str() {
            "--threads" => threads = num("--threads"),
            "--repeat" => runs = num("--repeat"),
            _ => files.push(std::path::PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: read [--threads N] [--repeat R] FILE...");
        std::process::exit(2);
    }
    let mut total = Duration::ZERO;
    let mut frames_all = 0u64;
    for f in &files {
        let mut best = Duration::MAX;
        let mut summary = String::new();
        let mut frames = 0u64;
        for _ in 0..runs {
            let start = Instant::now();
            let t = match matcher::table::read_point_on(f, threads, |_| {}) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            best = best.min(start.elapsed());
            frames = t.recs.len() as u64;
            let checks = t.checks.to_vec().unwrap_or_default();
            let checks = checks.iter().fold(0u64, |h, &c| {
                (h ^ u64::from(c)).wrapping_mul(0x100_0000_01B3)
            });
            let recs = t.recs.iter().enumerate().fold(0u64, |h, (i, r)| {
                let len = t.len(i as u32);
                let w = u64::from(r.seq) ^ u64::from(r.digest) << 32 ^ u64::from(len) << 7;
                (h ^ w).wrapping_mul(0x100_0000_01B3)
            });
            let order = t.by_conn.iter().fold(0u64, |h, &c| {
                (h ^ u64::from(c)).wrapping_mul(0x100_0000_01B3)
            });
            summary = format!(
                "frames {} conns {} msgs {} heap {} checks {checks:016x} recs {recs:016x} order {order:016x}",
                t.recs.len(),
                t.conns.len(),
                t.msgs.len(),
                t.heap_bytes()
            );
        }
        total += best;
        frames_all += frames;
        println!(
            "{}: {:.3} s, {:.0} ns/frame; {summary}",
            f.display(),
            best.as_secs_f64(),
            best.as_nanos() as f64 / frames.max(1) as f64
        );
    }
    println!(
        "all: {:.3} s, {:.0} ns/frame",
        total.as_secs_f64(),
        total.as_nanos() as f64 / frames_all.max(1) as f64
    );
}
