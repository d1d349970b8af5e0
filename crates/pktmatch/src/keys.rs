//! `pktmatch keys -o DIR [--point LABEL=]FILE...`: every capture's
//! per-frame matching keys as Parquet key tables
//! (`DIR/point=LABEL/part-NNNNN.parquet`, docs/keys.md), the captures in
//! parallel, the machine's cores shared among them: a classic pcap or
//! pcapng file given more than one is read, keyed and encoded on that many
//! (engine::write's `pieces`).  `pktmatch index --keys DIR` matches from
//! them.

use clap::Args as ClapArgs;
use engine::write::{self, PointSpec, WriteOptions, Written};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The directory to write (created; `point=LABEL` subdirectories).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Replace the key tables an earlier run wrote for the same labels.
    #[arg(long)]
    pub force: bool,
    /// A capture point: its label and file.
    #[arg(long = "point", value_name = "LABEL=FILE")]
    pub points: Vec<String>,
    /// More capture points, labelled by their file name without extension.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Rows per part file (a point's frames are split into parts of this
    /// many rows, in frame order).
    #[arg(long, default_value_t = 16 << 20, value_name = "ROWS")]
    pub rows_per_part: usize,
    /// Rows per Parquet row group (engine::write::WriteOptions says why).
    #[arg(long, default_value_t = WriteOptions::default().rows_per_group, value_name = "ROWS", hide = true)]
    pub rows_per_group: usize,
    /// Threads in all (0: the machine's cores), shared among the
    /// captures; `--threads 1` writes every capture on one thread (what
    /// bench/keys.sh compares with).
    #[arg(long, default_value_t = 0, value_name = "N", hide = true)]
    pub threads: usize,
    /// Bytes of a pcap file per piece its threads count the frames of
    /// (engine::write::PIECE_BYTES; small for tests).
    #[arg(long, default_value_t = write::PIECE_BYTES, value_name = "BYTES", hide = true)]
    pub piece_bytes: u64,
    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Threads for each of `points` captures out of `total` (0: the
/// machine's cores): an even share, the remainder to the first ones, at
/// least one each.  Every capture is written at once, so the total stays
/// the core count (or one thread a capture when there are more captures
/// than cores, as before the pieces).
fn shares(total: usize, points: usize) -> Vec<usize> {
    let total = match total {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let points = points.max(1);
    (0..points)
        .map(|k| (total / points + usize::from(k < total % points)).max(1))
        .collect()
}

/// Runs the command; returns the summary.
pub fn run(args: &Args) -> Result<String, String> {
    let inputs = crate::index::labelled(&args.points, &args.files, 1)?;
    let specs: Vec<PointSpec> = inputs
        .iter()
        .map(|i| PointSpec {
            label: i.label.clone(),
            capture: i.path.clone(),
            given: i.given.unwrap_or(0),
        })
        .collect();
    for s in &specs {
        write::check_label(&s.label)?;
    }
    if args.rows_per_part == 0 || args.rows_per_group == 0 {
        return Err("--rows-per-part and --rows-per-group must be at least 1".into());
    }
    let options = WriteOptions {
        rows_per_part: args.rows_per_part,
        rows_per_group: args.rows_per_group,
        force: args.force,
        threads: 1,
        piece_bytes: args.piece_bytes,
    };
    let threads = shares(args.threads, specs.len());
    std::fs::create_dir_all(&args.output).map_err(|e| format!("{}: {e}", args.output.display()))?;
    let started = Instant::now();
    let results: Vec<Result<Written, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = specs
            .iter()
            .zip(&threads)
            .map(|(spec, &threads)| {
                let dir = &args.output;
                let options = WriteOptions {
                    threads,
                    ..options.clone()
                };
                // Where the system starts no thread, written when joined.
                matcher::beside::beside(s, move || {
                    write::write_point(spec, dir, &options).map_err(|e| e.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("internal error: a writer panicked".into()))
            })
            .collect()
    });
    let written = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let secs = started.elapsed().as_secs_f64();
    let mut t = String::new();
    let total: u64 = written.iter().map(|w| w.frames).sum();
    let _ = writeln!(
        t,
        "pktmatch: keys of {total} frames at {} points in {secs:.2} s -> {}",
        written.len(),
        args.output.display()
    );
    for w in &written {
        let _ = writeln!(
            t,
            "  {}: {} frames ({} with keys) in {} part{}{}",
            w.label,
            w.frames,
            w.keyed,
            w.files.len(),
            if w.files.len() == 1 { "" } else { "s" },
            match w.pieces {
                0 => String::new(),
                n => format!(", read in {n} pieces on {} threads", w.threads),
            }
        );
        if let Some(tr) = &w.truncated {
            let _ = writeln!(t, "  warning: {tr} (read up to there)");
        }
    }
    Ok(t)
}
