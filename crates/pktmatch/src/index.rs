//! `pktmatch index`: read the capture points, match, write the sidecar index.

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use matcher::table::PointTable;
use matcher::{Input, Options, Progress, Summary};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::output::{self, Inputs, Output, Plan, Rules};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The index to write (`-`: standard output).  A new file, or with
    /// --force an existing one replaced when complete; never a capture file,
    /// never anything but a regular file replaced.
    #[arg(short, long, value_name = "SESSION.pktmatch")]
    pub output: PathBuf,
    /// Replace OUTPUT if it exists (a regular file that is not a capture).
    #[arg(long)]
    pub force: bool,
    /// A capture point: its label and file.  Any order: the path order is
    /// inferred from the data (see --path).
    #[arg(long = "point", value_name = "LABEL=FILE")]
    pub points: Vec<String>,
    /// The path order, client side first, by label (e.g. client,wan,dc):
    /// stated instead of inferred; refused when the data contradicts it.
    #[arg(long, value_name = "LABEL,LABEL,...", value_delimiter = ',')]
    pub path: Option<Vec<String>>,
    /// More capture points, labelled by their file name without extension.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Match from the key tables `pktmatch keys -o DIR` wrote instead of
    /// the captures (the index is the same; it names the captures the keys
    /// were taken from).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["points", "files"])]
    pub keys: Option<PathBuf>,
    /// How far (seconds) from the learnt clock model connections paired by
    /// content alone (sequence numbers rewritten) may be.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub window: f64,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Who runs the stages: `embedded` (an Apache DataFusion plan in this
    /// process, docs/engine.md; the default when built with the
    /// `datafusion` feature), `threads` (the matcher's own threads), or a
    /// cluster's URL, flight://HOST:PORT[,HOST:PORT...] (the matching of
    /// each pair of points on `pktmatch worker`s, which must see the
    /// captures or key tables at the same paths; tools/local-cluster.sh).
    /// The index is the same.
    #[arg(long, default_value = DEFAULT_ENGINE, value_name = "ENGINE")]
    pub engine: String,
    /// Bytes the embedded engine may hold (e.g. 512M, 4G; default: half the
    /// machine's memory): the matcher's point tables, which stay in memory,
    /// and the key tables' sorts, which spill to disk past it.  A session
    /// whose point tables and matching would exceed it is refused: key
    /// tables before any work, captures before they are read (an estimate
    /// from each file's start) and once read, before matching.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Partitions (and threads) of the engine's scans (default: the cores).
    #[arg(long, value_name = "N")]
    pub partitions: Option<usize>,
}

/// `--engine`'s default: the DataFusion plan when this pktmatch has it.
pub const DEFAULT_ENGINE: &str = if cfg!(feature = "datafusion") {
    "embedded"
} else {
    "threads"
};

/// The embedded engine, when built in (feature `datafusion`).
#[cfg(feature = "datafusion")]
type Embedded = engine::plan::Engine;
/// No embedded engine in this build: no value of this type exists.
#[cfg(not(feature = "datafusion"))]
enum Embedded {}

#[cfg(feature = "datafusion")]
fn embedded(args: &Args) -> Result<Embedded, String> {
    let defaults = engine::plan::EngineOptions::default();
    engine::plan::Engine::new(&engine::plan::EngineOptions {
        partitions: args.partitions.unwrap_or(defaults.partitions),
        memory_limit: args.memory_limit.unwrap_or(defaults.memory_limit),
        spill_dir: None,
    })
}

#[cfg(not(feature = "datafusion"))]
fn embedded(_: &Args) -> Result<Embedded, String> {
    Err(
        "--engine embedded: this pktmatch is built without DataFusion (cargo feature \
         pktmatch/datafusion, docs/engine.md); give --engine threads"
            .into(),
    )
}

#[cfg(feature = "datafusion")]
fn stage_of(e: &Embedded) -> &dyn matcher::PairStage {
    e
}

#[cfg(not(feature = "datafusion"))]
fn stage_of(e: &Embedded) -> &dyn matcher::PairStage {
    match *e {}
}

#[cfg(feature = "datafusion")]
fn load_with(e: &Embedded, dir: &Path) -> Result<Vec<engine::load::LoadedPoint>, engine::Error> {
    e.load_dir(dir)
}

#[cfg(not(feature = "datafusion"))]
fn load_with(e: &Embedded, _: &Path) -> Result<Vec<engine::load::LoadedPoint>, engine::Error> {
    match *e {}
}

/// The matching stage on a cluster (feature `datafusion`).
#[cfg(feature = "datafusion")]
type Remote = engine::cluster::Cluster;
/// No cluster client in this build: no value of this type exists.
#[cfg(not(feature = "datafusion"))]
enum Remote {}

/// Connects to the cluster at `url` (every worker must answer).
#[cfg(feature = "datafusion")]
fn remote(url: &str, keys: Option<&Path>) -> Result<Remote, String> {
    engine::cluster::Cluster::connect(url, keys).map_err(|e| e.to_string())
}

#[cfg(not(feature = "datafusion"))]
fn remote(url: &str, _: Option<&Path>) -> Result<Remote, String> {
    Err(format!(
        "--engine {url}: this pktmatch is built without DataFusion (cargo feature \
         pktmatch/datafusion, docs/engine.md); give --engine threads"
    ))
}

#[cfg(feature = "datafusion")]
fn remote_stage(r: &Remote) -> &dyn matcher::PairStage {
    r
}

#[cfg(not(feature = "datafusion"))]
fn remote_stage(r: &Remote) -> &dyn matcher::PairStage {
    match *r {}
}

/// What the cluster says happened though the run went on.
#[cfg(feature = "datafusion")]
fn cluster_notes(r: &Remote) -> Vec<String> {
    r.notes()
}

#[cfg(not(feature = "datafusion"))]
fn cluster_notes(r: &Remote) -> Vec<String> {
    match *r {}
}

/// Spill files and bytes of the run so far.
#[cfg(feature = "datafusion")]
fn spilled(e: &Embedded) -> (u64, u64) {
    e.spilled()
}

#[cfg(not(feature = "datafusion"))]
fn spilled(e: &Embedded) -> (u64, u64) {
    match *e {}
}

/// A size in bytes: a number with an optional K, M, G or T suffix (powers
/// of 1024; `iB` or `B` after it accepted).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{s:?}: a size is a number with K, M, G or T")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: a size is a number with K, M, G or T"))?;
    let bytes = v * (1u64 << shift) as f64;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("{s:?}: give a positive size"));
    }
    Ok(bytes as usize)
}

/// The points in path order, labelled.
fn inputs(args: &Args) -> Result<Vec<Input>, String> {
    labelled(&args.points, &args.files, 2)
}

/// Capture points from `--point LABEL=FILE` and plain FILE arguments
/// (labelled by the file name without extension), in the order given, at
/// least `min` of them: each file and label once.
pub fn labelled(points: &[String], files: &[PathBuf], min: usize) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for p in points {
        let (label, file) = p
            .split_once('=')
            .ok_or_else(|| format!("--point {p:?}: expected LABEL=FILE"))?;
        out.push(Input {
            label: label.to_string(),
            path: PathBuf::from(file),
            given: None,
        });
    }
    for f in files {
        let stem = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        // client.pcapng.gz → client
        let label = stem.split('.').next().unwrap_or("").to_string();
        out.push(Input {
            label: if label.is_empty() { stem } else { label },
            path: f.clone(),
            given: None,
        });
    }
    let mut files: Vec<(PathBuf, &Path)> = Vec::new();
    for i in &out {
        if let Ok(c) = std::fs::canonicalize(&i.path) {
            if let Some((_, first)) = files.iter().find(|(f, _)| *f == c) {
                return Err(format!(
                    "{} is given twice ({} and {}): give each point its own capture",
                    c.display(),
                    first.display(),
                    i.path.display()
                ));
            }
            files.push((c, &i.path));
        }
    }
    let mut seen = HashSet::new();
    for i in &out {
        if !seen.insert(i.label.clone()) {
            return Err(format!(
                "two capture points labelled {:?}: name them with --point LABEL=FILE",
                i.label
            ));
        }
    }
    match out.as_slice() {
        [] if min > 0 => {
            return Err(format!(
                "give at least {} capture point{} (FILE or --point LABEL=FILE)",
                if min == 2 { "two" } else { "one" },
                if min == 1 { "" } else { "s" }
            ))
        }
        [one] if min > 1 => {
            return Err(format!(
                "{}: only one capture point; give at least two (FILE or --point LABEL=FILE)",
                one.path.display()
            ))
        }
        _ => {}
    }
    for (k, i) in out.iter_mut().enumerate() {
        i.given = Some(k as u16);
    }
    Ok(out)
}

/// Runs the command; returns the summary text printed on success.
pub fn run(args: &Args) -> Result<String, String> {
    let started = Instant::now();
    // From key tables: the points as `pktmatch keys` was given them, read
    // now (reading them is what reading the captures is otherwise).
    // A cluster is checked first of all: a worker that does not answer
    // fails the run before anything is read (never a silent local run).
    if args.engine != "embedded" && (args.memory_limit.is_some() || args.partitions.is_some()) {
        return Err(format!(
            "--memory-limit and --partitions are the embedded engine's; --engine {} has \
             neither (give --engine embedded, docs/engine.md)",
            args.engine
        ));
    }
    let (engine, cluster) = match args.engine.as_str() {
        "embedded" => (Some(embedded(args)?), None),
        "threads" => (None, None),
        url if url.contains("://") => (None, Some(remote(url, args.keys.as_deref())?)),
        other => {
            return Err(format!(
                "--engine {other:?}: give embedded (a DataFusion plan in this process), threads \
                 or a cluster's flight://HOST:PORT[,HOST:PORT...]"
            ))
        }
    };
    let (mut inputs, from_keys) = match &args.keys {
        Some(dir) => {
            let (inputs, sizes, tables) = from_key_tables(dir, engine.as_ref())?;
            (inputs, Some((sizes, tables)))
        }
        None => (inputs(args)?, None),
    };
    // The index names its captures by absolute path, so that `info`,
    // `report` and `annotate` find them from any directory (key tables
    // hold them so).
    if from_keys.is_none() {
        for i in &mut inputs {
            i.path =
                std::fs::canonicalize(&i.path).map_err(|e| format!("{}: {e}", i.path.display()))?;
        }
    }
    if !(args.window > 0.0 && args.window < 86_400.0 * 365.0) {
        return Err(format!(
            "--window {}: give a positive number of seconds",
            args.window
        ));
    }
    let options = Options {
        window_ns: (args.window * 1e9) as i64,
        path: args.path.clone(),
    };
    // The output is checked before the captures are read.
    let captures: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    let rules = Rules {
        inputs: Inputs {
            captures: &captures,
            index: None,
        },
        force: args.force,
        binary: true,
    };
    check_output(&args.output, &rules)?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:24} {wide_bar} {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let labels: Vec<String> = inputs.iter().map(|i| i.label.clone()).collect();
    // PKTMATCH_TIMINGS=1: elapsed time at each stage on stderr (benchmarks).
    let timings = std::env::var_os("PKTMATCH_TIMINGS").is_some();
    let stamp = |what: &str| {
        if timings {
            eprintln!(
                "timing {:8.3} s  cpu {:7.3} s  heap peak {:8.1} MiB  {what}",
                started.elapsed().as_secs_f64(),
                crate::heap::cpu_seconds(),
                crate::heap::peak() as f64 / 1048576.0
            );
        }
    };
    let mut report = |p: Progress<'_>| match p {
        Progress::Reading { point, done, total } => {
            if done == 0 {
                stamp(&format!("reading {}", labels[usize::from(point)]));
            }
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(format!("reading {}", labels[usize::from(point)]));
        }
        Progress::Stage(s) => {
            stamp(s);
            bar.set_message(s.to_string());
        }
    };
    let stage: &dyn matcher::PairStage = match (&engine, &cluster) {
        (Some(e), _) => stage_of(e),
        (None, Some(c)) => remote_stage(c),
        (None, None) => &matcher::Threads,
    };
    let matched = match from_keys {
        Some((sizes, tables)) => {
            matcher::run_tables_on(&inputs, &sizes, tables, &options, &mut report, stage)
        }
        None => matcher::run_on(&inputs, &options, &mut report, stage),
    };
    // The heap mark of a refused run too (a memory limit's tests).
    let (builder, summary) = matched.inspect_err(|_| stamp("failed"))?;
    // Even with -q: the run is whole, but the cluster lost a worker.
    for note in cluster.iter().flat_map(cluster_notes) {
        bar.suspend(|| eprintln!("pktmatch: warning: {note}"));
    }
    if let Some(e) = &engine {
        let (n, bytes) = spilled(e);
        if n > 0 {
            stamp(&format!("spilled {n} files, {bytes} bytes"));
        }
    }
    stamp("writing index");
    bar.set_message("writing index");
    check_output(&args.output, &rules)?;
    let mut out = Output::create(&args.output, &rules).map_err(|e| e.to_string())?;
    let bytes = builder
        .write_to(&mut out)
        .map_err(|e| out.error(e).to_string())?;
    out.finish().map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    stamp("done");
    Ok(describe(
        &inputs,
        &summary,
        bytes,
        &args.output,
        started.elapsed().as_secs_f64(),
    ))
}

/// The points of a key table directory as inputs (in the order `pktmatch
/// keys` was given them), their captures' sizes and their tables.
fn from_key_tables(
    dir: &Path,
    engine: Option<&Embedded>,
) -> Result<(Vec<Input>, Vec<u64>, Vec<PointTable>), String> {
    let points = match engine {
        Some(e) => load_with(e, dir),
        None => engine::load::load_dir(dir),
    }
    .map_err(|e| e.to_string())?;
    if points.len() < 2 {
        return Err(format!(
            "{}: key tables of {} point(s); give at least two",
            dir.display(),
            points.len()
        ));
    }
    Ok(engine::load::into_inputs(points))
}

/// The output rules, and an index's own: a regular file must not have a
/// capture's name or hold a capture (--force or not).
fn check_output(path: &Path, rules: &Rules<'_>) -> Result<(), String> {
    match output::plan(path, rules).map_err(|e| e.to_string())? {
        Plan::New(p) | Plan::Replace(p) => {
            let captures: Vec<&Path> = rules.inputs.captures.iter().map(|c| c.as_path()).collect();
            index::builder::refuse_capture_path(&p, &captures).map_err(|e| e.to_string())
        }
        Plan::Stdout | Plan::Direct(_) => Ok(()),
    }
}

fn describe(inputs: &[Input], s: &Summary, bytes: u64, out: &Path, secs: f64) -> String {
    let mut t = String::new();
    let total: u64 = s.packets.iter().sum();
    let labels = &s.labels;
    let _ = writeln!(
        t,
        "pktmatch: {} packets at {} points in {:.2} s ({:.0} packets/s); index {} ({} bytes)",
        total,
        inputs.len(),
        secs,
        total as f64 / secs.max(1e-9),
        out.display(),
        bytes
    );
    for w in &s.warnings {
        let _ = writeln!(t, "  warning: {w} (read up to there)");
    }
    for n in &s.notes {
        let _ = writeln!(t, "  note: {n}");
    }
    if let Some(o) = &s.order {
        let how = match o.source {
            index::OrderSource::Inferred => "inferred from the data",
            index::OrderSource::Stated => "as stated with --path (the data agrees)",
            _ => "as given (the data does not say)",
        };
        let _ = writeln!(t, "  path order {how}: {}", labels.join(" → "));
        for e in &o.evidence {
            let _ = writeln!(t, "    {e}");
        }
        for w in &o.warnings {
            let _ = writeln!(t, "  warning: {w}");
        }
    }
    for (d, l) in s.details.iter().zip(labels) {
        if d.capture_drops > 0 {
            let _ = writeln!(
                t,
                "  {l}: {} packets not captured (seen before and after it: capture drops)",
                d.capture_drops
            );
        }
    }
    for p in s.pairs.iter().filter(|p| p.adjacent) {
        let (a, b) = (&labels[usize::from(p.a)], &labels[usize::from(p.b)]);
        let matched: u64 = p.by_method.iter().map(|m| m.1).sum();
        let methods: Vec<String> = p
            .by_method
            .iter()
            .map(|(m, n)| {
                let name = matcher::methods::ALL
                    .iter()
                    .find(|x| x.0 == *m)
                    .map_or("?", |x| x.1);
                format!("{name} {n}")
            })
            .collect();
        let _ = writeln!(
            t,
            "  {a} → {b}: {matched} matched ({}); connections {} by keys, {} by content, {} across a proxy",
            methods.join(", "),
            p.conns_tier1,
            p.conns_tier2,
            p.conns_proxy
        );
        match &p.clock {
            Some(c) => {
                let _ = writeln!(
                    t,
                    "    clock {b} − {a}: {:+.6} s, drift {:+.3} ppm, ± {:.3} ms{}",
                    c.model.offset_ns() as f64 / 1e9,
                    c.model.drift_ppb() as f64 / 1e3,
                    c.bound_ns as f64 / 1e6,
                    if c.both_ways {
                        ""
                    } else {
                        " (one direction only: includes transit time)"
                    }
                );
                // A clock stepped: where, by how much, the model after it.
                let segs = c.index_segments();
                for w in segs.windows(2) {
                    let s = &w[1];
                    let _ = writeln!(
                        t,
                        "    clock step {:+.6} s at {a} frame {}, {b} frame {}: then {:+.6} s, \
                         ± {:.3} ms",
                        s.step_from(&w[0]) as f64 / 1e9,
                        s.a_from_frame,
                        s.b_from_frame,
                        s.model.difference_at(s.from_ns) as f64 / 1e9,
                        s.offset_error_ns as f64 / 1e6
                    );
                }
            }
            None => {
                let _ = writeln!(t, "    clock: no matches to estimate it");
            }
        }
        let m = &p.missing;
        let _ =
            writeln!(
            t,
            "    lost on the network {a} → {b}: {}, {b} → {a}: {}; not captured (capture drop) \
             at {b}: {}, at {a}: {}; outside the other capture {}, {}; {} translations",
            m.lost[0], m.lost[1], m.dropped[0], m.dropped[1], m.outside[0], m.outside[1],
            p.translations
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        for bad in ["", "M", "12Q", "-1G", "0", "nanG"] {
            assert!(parse_size(bad).is_err(), "{bad:?} refused");
        }
    }
}
