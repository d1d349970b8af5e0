//! The index matched from key tables is the index matched from the
//! captures, byte for byte (creation time set equal): on the example
//! session (four points, NAT/PAT, TSO, a full proxy), on a real NAT pair,
//! and on the lab runs `make test` names in PKTMATCH_LAB_DIRS.  Small parts
//! and row groups, so a point spans several files.

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

fn from_captures(points: &[(&str, PathBuf)]) -> Vec<u8> {
    let (b, _) = matcher::run(&inputs(points), &Options::default(), &mut |_| {}).expect("match");
    bytes(b)
}

/// Writes the key tables, reads them back, matches.
fn from_keys(points: &[(&str, PathBuf)], options: &WriteOptions) -> (Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (k, (label, path)) in points.iter().enumerate() {
        let spec = PointSpec {
            label: label.to_string(),
            capture: path.clone(),
            given: k as u16,
        };
        let w = write_point(&spec, dir.path(), options).expect("write keys");
        assert!(w.frames > 0);
    }
    let loaded = engine::load::load_dir(dir.path()).expect("load keys");
    let labels: Vec<&str> = loaded.iter().map(|p| p.label.as_str()).collect();
    let given: Vec<&str> = points.iter().map(|p| p.0).collect();
    assert_eq!(labels, given, "points come back in the order given");
    let (ins, sizes, tables) = engine::load::into_inputs(loaded);
    let (b, _) = matcher::run_tables(&ins, &sizes, tables, &Options::default(), &mut |_| {})
        .expect("match from keys");
    (bytes(b), dir)
}

fn small_parts() -> WriteOptions {
    WriteOptions {
        rows_per_part: 100,
        rows_per_group: 37,
        force: false,
    }
}

fn session(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    ["client", "wan", "dc", "lbserver"]
        .into_iter()
        .map(|l| (l, dir.join(format!("{l}.pcapng"))))
        .collect()
}

fn assert_same(points: &[(&str, PathBuf)]) {
    let a = from_captures(points);
    let (b, _dir) = from_keys(points, &small_parts());
    assert!(a.len() > 1000, "an index with content");
    assert!(
        a == b,
        "index from key tables differs from the captures' ({points:?})"
    );
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
        assert_same(&session(&d.join("points")));
        n += 1;
    }
    assert!(n > 0, "PKTMATCH_LAB_DIRS names no run");
}

#[test]
fn a_part_missing_is_refused() {
    let points = session(&repo().join("examples/session-small"));
    let (_, dir) = from_keys(&points[..2], &small_parts());
    let pdir = dir.path().join("point=client");
    // The last part carries the frame count: without it the table is not whole.
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&pdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    assert!(parts.len() >= 4, "347 frames in parts of 100");
    std::fs::remove_file(parts.last().unwrap()).unwrap();
    let e = engine::load::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not whole"), "{e}");
    // A part in the middle gone: the numbering says so.
    std::fs::remove_file(&parts[1]).unwrap();
    let e = engine::load::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("expected part 1"), "{e}");
}

#[test]
fn existing_tables_need_force() {
    let points = session(&repo().join("examples/session-small"));
    let (_, dir) = from_keys(&points[..2], &WriteOptions::default());
    let spec = PointSpec {
        label: "client".into(),
        capture: points[0].1.clone(),
        given: 0,
    };
    let e = write_point(&spec, dir.path(), &WriteOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force"), "{e}");
    let force = WriteOptions {
        force: true,
        ..WriteOptions::default()
    };
    write_point(&spec, dir.path(), &force).expect("replaced with force");
    // Something that is not ours stops it, with or without --force.
    let stranger = dir.path().join("point=client/notes.txt");
    std::fs::write(&stranger, "mine").unwrap();
    let e = write_point(&spec, dir.path(), &force)
        .unwrap_err()
        .to_string();
    assert!(e.contains("left alone"), "{e}");
    assert_eq!(std::fs::read_to_string(&stranger).unwrap(), "mine");
}
