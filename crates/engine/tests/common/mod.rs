//! What the engine's integration tests share: the repository, an index's
//! bytes with a fixed creation time, a four-point session's captures.

use matcher::Input;
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The index's bytes, created at a fixed time (the one field that differs
/// between two runs).
pub fn bytes(mut b: index::IndexBuilder) -> Vec<u8> {
    b.created_ns(1_700_000_000_000_000_000);
    let mut out = Vec::new();
    b.write_to(&mut out).expect("write index");
    out
}

/// A session's four points (examples/session-small, a lab run's points/).
pub fn session(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    ["client", "wan", "dc", "lbserver"]
        .into_iter()
        .map(|l| (l, dir.join(format!("{l}.pcapng"))))
        .collect()
}

/// The points as the matcher's inputs, in the order given.
pub fn inputs(points: &[(&str, PathBuf)]) -> Vec<Input> {
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
