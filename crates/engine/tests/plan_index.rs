//! The embedded DataFusion plan (engine::plan) writes the index the
//! matcher's own threads write, byte for byte (creation time set equal):
//! from the captures and from key tables, for several partition counts, on
//! the example session, the real NAT pair of tests/data and the lab runs
//! `make test` names in PKTMATCH_LAB_DIRS; and within a memory limit the
//! key tables exceed several times (the scans' sorts spill to disk), on a
//! replicated example session and the lab runs.

use engine::plan::{Engine, EngineOptions};
use engine::write::{write_point, PointSpec, WriteOptions};
use matcher::{Input, Options};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bytes(mut b: index::IndexBuilder) -> Vec<u8> {
    b.created_ns(1_700_000_000_000_000_000);
    let mut out = Vec::new();
    b.write_to(&mut out).expect("write index");
    out
}

fn inputs(points: &[(&str, PathBuf)]) -> Vec<Input> {
    points
        .iter()
        .enumerate()
        .map(|(k, (label, path))| Input {
            label: label.to_string(),
            path: path.canonicalize().expect("capture exists"),
            given: Some(k as u16),
        })
        .collect()
}

fn session(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    ["client", "wan", "dc", "lbserver"]
        .into_iter()
        .map(|l| (l, dir.join(format!("{l}.pcapng"))))
        .collect()
}

fn engine(partitions: usize, memory_limit: usize) -> Engine {
    Engine::new(&EngineOptions {
        partitions,
        memory_limit,
        spill_dir: None,
    })
    .expect("engine")
}

/// The matcher's own threads, from the captures: today's index.
fn threads_index(points: &[(&str, PathBuf)]) -> Vec<u8> {
    let (b, _) = matcher::run(&inputs(points), &Options::default(), &mut |_| {}).expect("match");
    bytes(b)
}

/// Key tables in small parts and row groups (a point spans several files).
fn write_keys(points: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = WriteOptions {
        rows_per_part: 100,
        rows_per_group: 37,
        force: false,
    };
    for (k, (label, path)) in points.iter().enumerate() {
        let spec = PointSpec {
            label: label.to_string(),
            capture: path.clone(),
            given: k as u16,
        };
        write_point(&spec, dir.path(), &options).expect("write keys");
    }
    dir
}

fn plan_from_keys(dir: &Path, e: &Engine) -> Vec<u8> {
    let loaded = e.load_dir(dir).expect("keys through the plan");
    let (ins, sizes, tables) = engine::load::into_inputs(loaded);
    let (b, _) = matcher::run_tables_on(&ins, &sizes, tables, &Options::default(), &mut |_| {}, e)
        .expect("match through the plan");
    bytes(b)
}

fn assert_same(points: &[(&str, PathBuf)]) {
    let want = threads_index(points);
    assert!(want.len() > 1000, "an index with content");
    let keys = write_keys(points);
    for partitions in [1, 2, 3, 8] {
        let e = engine(partitions, 1 << 30);
        let (b, _) = matcher::run_on(&inputs(points), &Options::default(), &mut |_| {}, &e)
            .expect("match through the plan");
        assert!(
            bytes(b) == want,
            "captures through the plan, {partitions} partitions: index differs ({points:?})"
        );
        assert!(
            plan_from_keys(keys.path(), &e) == want,
            "key tables through the plan, {partitions} partitions: index differs ({points:?})"
        );
    }
}

#[test]
fn example_session_same_index() {
    assert_same(&session(&repo().join("examples/session-small")));
}

#[test]
fn real_nat_pair_same_index() {
    let d = repo().join("tests/data");
    assert_same(&[
        ("client", d.join("real-nat-client.pcapng")),
        ("wan", d.join("real-nat-wan.pcapng")),
    ]);
}

#[test]
fn lab_runs_same_index() {
    let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") else {
        eprintln!("PKTMATCH_LAB_DIRS not set: lab runs not compared (make test sets it)");
        return;
    };
    let mut n = 0;
    for d in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
        let points = session(&d.join("points"));
        assert_same(&points);
        assert_within_limit(&points, 1 << 20, 2);
        n += 1;
    }
    assert!(n > 0, "PKTMATCH_LAB_DIRS names no run");
}

/// Bytes of the key tables' columns as Arrow holds them in memory.
fn keys_in_memory(dir: &Path) -> usize {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut total = 0;
    for p in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(p.unwrap().path()).unwrap() {
            let file = std::fs::File::open(f.unwrap().path()).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap();
            for b in reader {
                total += b.unwrap().get_array_memory_size();
            }
        }
    }
    total
}

/// A memory limit the key tables exceed several times over: the sorts of
/// the scans spill to disk, and the index is still the same.
/// The example session repeated 30 times (bench/replicate-session.py:
/// distinct packets, ports varied), ~36,000 frames at four points.
#[test]
fn memory_limit_spills_same_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = std::process::Command::new("python3")
        .arg(repo().join("bench/replicate-session.py"))
        .arg("--vary-ports")
        .arg(repo().join("examples/session-small"))
        .arg(dir.path())
        .arg("30")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "replicate-session.py");
    let points: Vec<(&str, PathBuf)> = ["client", "wan", "dc", "lbserver"]
        .into_iter()
        .map(|l| (l, dir.path().join(format!("{l}.pcap"))))
        .collect();
    assert_within_limit(&points, 1 << 20, 2);
}

fn assert_within_limit(points: &[(&str, PathBuf)], limit: usize, partitions: usize) {
    let want = threads_index(points);
    let keys = write_keys(points);
    let in_memory = keys_in_memory(keys.path());
    assert!(
        in_memory > 2 * limit,
        "the key tables ({in_memory} bytes in memory) exceed the limit ({limit}) twice"
    );
    let e = engine(partitions, limit);
    assert!(
        plan_from_keys(keys.path(), &e) == want,
        "index within the limit differs ({points:?})"
    );
    let (files, spilled) = e.spilled();
    assert!(
        files > 0 && spilled > 0,
        "the sorts spilled ({files} files, {spilled} bytes)"
    );
    eprintln!(
        "keys {in_memory} bytes in memory, limit {limit}, {partitions} partitions: \
         {files} spill files, {spilled} bytes"
    );
}
