//! The index does not change by accident.  Speed and memory work (issue 19)
//! must leave every byte as it was (but the creation time); until now that
//! rested on hand runs of bench/same-index.py.
//!
//! * The example session's index as the build before that work wrote it
//!   (main 10f79ba, tests/data/session-small-10f79ba.pktmatch; made with
//!   that build from copies of examples/session-small at the fixed directory
//!   below, because the index records the captures' absolute paths) is
//!   written again byte for byte.  A change of the index format on purpose
//!   makes this file anew, with the commit in its name.
//! * Into a file (through the atomic writer, which starts its pages for
//!   the disk as they are written) and to standard output: the same bytes
//!   (but the creation time), on a session large enough for many pieces
//!   per section.
//! * Past 65,536 frames a point's frame checks wait in a temporary file
//!   while the pairs match; without one (TMPDIR not writable) they stay in
//!   memory: both give the same index, and the run says where they stayed.

mod common;

use common::{pktmatch, same_but_creation};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const POINTS: [&str; 4] = ["client", "wan", "dc", "lbserver"];

/// `pktmatch index` of the four points in `dir`, with `env`; the index and
/// what the run printed (both streams).
fn index(dir: &Path, out: &Path, env: &[(&str, &str)]) -> (Vec<u8>, String) {
    let o = out.display().to_string();
    let files: Vec<String> = POINTS
        .iter()
        .map(|l| {
            let p = dir.join(format!("{l}.pcapng"));
            let p = if p.exists() {
                p
            } else {
                dir.join(format!("{l}.pcap"))
            };
            p.display().to_string()
        })
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pktmatch"));
    cmd.args(["index", "--force", "-o", &o]).args(&files);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.output().expect("run pktmatch");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "pktmatch index failed: {said}");
    (std::fs::read(out).expect("index written"), said)
}

#[test]
fn the_example_session_index_is_the_one_main_10f79ba_wrote() {
    // The directory the kept index names (its paths are part of it).
    let dir = Path::new("/tmp/pktmatch-golden-session-small");
    std::fs::create_dir_all(dir).expect("golden directory");
    for l in POINTS {
        let from = repo().join(format!("examples/session-small/{l}.pcapng"));
        let to = dir.join(format!("{l}.pcapng"));
        let want = std::fs::read(&from).expect("example capture");
        if std::fs::read(&to).ok().as_deref() != Some(&want[..]) {
            std::fs::write(&to, &want).expect("copy of the example capture");
        }
    }
    let kept =
        std::fs::read(repo().join("crates/pktmatch/tests/data/session-small-10f79ba.pktmatch"))
            .expect("the kept index");
    let out = tempfile::tempdir().expect("temp dir");
    let (now, _) = index(dir, &out.path().join("s.pktmatch"), &[]);
    assert!(
        same_but_creation(&now, &kept),
        "the example session's index differs from the one main 10f79ba wrote ({} against {} bytes)",
        now.len(),
        kept.len()
    );
    // What this test reads is a real index (not an empty file that
    // compares equal to another).
    let info = pktmatch(&["info", &out.path().join("s.pktmatch").display().to_string()]);
    assert!(info.status.success());
    assert!(String::from_utf8_lossy(&info.stdout).contains("347 frames"));
}

#[test]
fn into_a_file_or_to_standard_output_the_same_index() {
    let work = tempfile::tempdir().expect("temp dir");
    replicate(work.path(), 200);
    let into_file = work.path().join("file.pktmatch");
    let (file, _) = index(work.path(), &into_file, &[]);
    let files: Vec<String> = POINTS
        .iter()
        .map(|l| work.path().join(format!("{l}.pcap")).display().to_string())
        .collect();
    let mut args = vec!["index", "-q", "-o", "-"];
    args.extend(files.iter().map(String::as_str));
    let run = pktmatch(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(file.len() > 4 << 20, "{} bytes: too few pieces", file.len());
    assert!(
        same_but_creation(&run.stdout, &file),
        "standard output's index differs from the file's ({} against {} bytes)",
        run.stdout.len(),
        file.len()
    );
}

/// `copies` copies of the example session in `dir`
/// (bench/replicate-session.py).
fn replicate(dir: &Path, copies: u32) {
    let status = Command::new("python3")
        .arg(repo().join("bench/replicate-session.py"))
        .arg(repo().join("examples/session-small"))
        .arg(dir)
        .arg(copies.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "replicate-session.py");
}

#[test]
fn frame_checks_in_a_file_or_in_memory_give_the_same_index() {
    let work = tempfile::tempdir().expect("temp dir");
    replicate(work.path(), 200);
    let (with_file, said) = index(work.path(), &work.path().join("file.pktmatch"), &[]);
    assert!(!said.contains("no temporary file"), "{said}");
    let missing = work.path().join("no-such-dir");
    let (in_memory, said) = index(
        work.path(),
        &work.path().join("memory.pktmatch"),
        &[("TMPDIR", missing.to_str().expect("UTF-8 path"))],
    );
    assert!(
        said.contains("no temporary file could be made"),
        "the run says the checks stayed in memory: {said}"
    );
    assert!(
        same_but_creation(&in_memory, &with_file),
        "frame checks kept in memory give another index than through the file"
    );
    // Past the 65,536 frames at which the checks go to a file.
    let frames = pktmatch(&[
        "info",
        &work.path().join("file.pktmatch").display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&frames.stdout);
    assert!(
        text.lines().any(|l| l
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > 65_536)),
        "a point of more than 65,536 frames: {text}"
    );
}
