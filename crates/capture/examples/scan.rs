//! Measures how fast a capture is read and keyed:
//!
//!     cargo run --release --example scan -p capture -- FILE [--repeat N]
//!
//! Three timings, each the best of N runs (default 3): reading alone
//! (every packet visited, nothing extracted), [`capture::scan`] (reading and
//! key extraction, what the indexer does), and extraction alone (over the
//! packets copied to memory first, so no file reading is counted).

use std::hint::black_box;
use std::time::{Duration, Instant};

fn best(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn rate(n: u64, d: Duration) -> String {
    format!(
        "{:>8.2} M packets/s ({:.3} s)",
        n as f64 / d.as_secs_f64() / 1e6,
        d.as_secs_f64()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut runs = 3;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeat" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(3).max(1),
            _ if file.is_none() => file = Some(a.clone()),
            _ => {
                eprintln!("usage: scan FILE [--repeat N]");
                std::process::exit(2);
            }
        }
    }
    let Some(file) = file else {
        eprintln!("usage: scan FILE [--repeat N]");
        std::process::exit(2);
    };
    let fail = |e: capture::Error| -> ! {
        eprintln!("{e}");
        std::process::exit(1);
    };

    let cap = capture::open(&file).unwrap_or_else(|e| fail(e));
    println!(
        "{file}: {:?}{}",
        cap.format(),
        if cap.is_compressed() { ", gzip" } else { "" }
    );
    drop(cap);

    let (t_read, packets) = best(runs, || {
        let mut cap = capture::open(&file).unwrap_or_else(|e| fail(e));
        let mut sum = 0u64;
        let n = cap
            .for_each(|p| sum = sum.wrapping_add(p.data.len() as u64 ^ p.ts_ns as u64))
            .unwrap_or_else(|e| fail(e));
        black_box(sum);
        n
    });
    println!("read           {}", rate(packets, t_read));

    let mut keyed = 0;
    let mut bytes = 0;
    let (t_scan, _) = best(runs, || {
        let mut acc = 0u64;
        let stats = capture::scan(&file, |_, k| {
            if let Some((_, key)) = k {
                acc = acc.wrapping_add(key.conn_hash ^ u64::from(key.digest));
            }
        })
        .unwrap_or_else(|e| fail(e));
        black_box(acc);
        keyed = stats.keyed;
        bytes = stats.bytes;
        stats.packets
    });
    println!(
        "read + extract {}  {:.0} MB/s",
        rate(packets, t_scan),
        bytes as f64 / t_scan.as_secs_f64() / 1e6
    );

    // The packets in memory, then extraction alone.
    let mut all = Vec::with_capacity(bytes as usize);
    let mut index = Vec::with_capacity(packets as usize);
    capture::open(&file)
        .unwrap_or_else(|e| fail(e))
        .for_each(|p| {
            index.push((p.link, all.len(), p.data.len()));
            all.extend_from_slice(p.data);
        })
        .unwrap_or_else(|e| fail(e));
    let (t_extract, _) = best(runs, || {
        let mut acc = 0u64;
        for &(link, start, len) in &index {
            if let Some((_, key)) = capture::extract(link, &all[start..start + len]) {
                acc = acc.wrapping_add(key.conn_hash ^ u64::from(key.digest));
            }
        }
        black_box(acc);
        index.len() as u64
    });
    println!("extract alone  {}", rate(packets, t_extract));
    println!(
        "{packets} packets, {keyed} keyed; key {} bytes, flow key {} bytes",
        std::mem::size_of::<capture::PacketKey>(),
        std::mem::size_of::<capture::FlowKey>()
    );
}
