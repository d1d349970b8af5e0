//! The commands where the system starts few threads or none: the same
//! outputs, no panic, no hang.
//!
//! A real limit, not a switch in the code: each run is put into a Linux
//! cgroup of its own whose `pids.max` (threads count as tasks) is 1 — no
//! thread but the main one can start — or 2 or 3, so that some start and
//! the rest are refused.  Until 2026-12-07 `pktmatch index` and `pktmatch keys`
//! died of a panic there (`std::thread::Scope::spawn` panics when the
//! system refuses a thread), and the index's writer would have waited for
//! ever for workers that never started.
//!
//! Needs a writable pids controller (cgroup v1 `/sys/fs/cgroup/pids`, or
//! v2 with `pids` in the root's `cgroup.subtree_control`), which is there
//! as root on this project's machines: as root the test fails without
//! one; run as another user it says it could not run and passes.

mod common;

use common::same_but_creation;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A cgroup whose tasks (processes and threads) are limited to `max`.
struct Limit {
    dir: PathBuf,
}

impl Limit {
    /// None, and why, where no pids cgroup can be made here.
    fn new(max: u32, name: &str) -> Result<Limit, String> {
        let v1 = Path::new("/sys/fs/cgroup/pids");
        let v2 = Path::new("/sys/fs/cgroup");
        let parent = if v1.join("pids.max").exists() || v1.join("cgroup.procs").exists() {
            v1
        } else {
            let ctl =
                std::fs::read_to_string(v2.join("cgroup.subtree_control")).unwrap_or_default();
            if !ctl.split_whitespace().any(|c| c == "pids") {
                return Err("no pids cgroup controller (v1 or v2)".into());
            }
            v2
        };
        let dir = parent.join(format!("pktmatch-test-{}-{name}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let limit = Limit { dir };
        std::fs::write(limit.dir.join("pids.max"), max.to_string())
            .map_err(|e| format!("{}: {e}", limit.dir.display()))?;
        Ok(limit)
    }

    /// `pktmatch ARGS` inside the cgroup (a shell moves itself in, then
    /// becomes pktmatch); a run that takes more than three minutes is a
    /// hang, killed and failed.
    fn pktmatch(&self, args: &[&str]) -> Output {
        let procs = self.dir.join("cgroup.procs");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("echo $$ > \"$0\" && exec \"$@\"")
            .arg(&procs)
            .arg(env!("CARGO_BIN_EXE_pktmatch"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        let t0 = Instant::now();
        loop {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            if t0.elapsed() > Duration::from_secs(180) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("pktmatch {args:?} hung with {} tasks at most", self.max());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    }

    fn max(&self) -> String {
        let max = std::fs::read_to_string(self.dir.join("pids.max")).unwrap_or_default();
        max.trim().to_string()
    }

    /// How many times a task was refused (the limit was met).
    fn refused(&self) -> u64 {
        let events = std::fs::read_to_string(self.dir.join("pids.events")).unwrap_or_default();
        events
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        // Empty once its process has ended (it has: waited for above).
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn unlimited(args: &[&str]) -> Output {
    let o = common::pktmatch(args);
    assert!(o.status.success(), "pktmatch {args:?}: {}", said(&o));
    o
}

/// The example session 40 times over at snaplen 256 (bench/
/// replicate-session.py): 48,000 frames, files of several MiB, so that a
/// capture is read in pieces, a pair's connection pairs in runs and the
/// index written in many jobs; one point gzipped (inflate.rs's thread).
fn session(dir: &Path) -> Vec<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new("python3")
        .arg(repo.join("bench/replicate-session.py"))
        .args(["--snaplen", "256"])
        .arg(repo.join("examples/session-small"))
        .arg(dir)
        .arg("40")
        .stdout(Stdio::null())
        .status()
        .expect("python3");
    assert!(status.success(), "replicate-session.py");
    let gz = dir.join("dc.pcap.gz");
    let out = Command::new("gzip")
        .arg("-c")
        .arg(dir.join("dc.pcap"))
        .output()
        .expect("gzip");
    assert!(out.status.success());
    std::fs::write(&gz, out.stdout).unwrap();
    ["client.pcap", "wan.pcap", "dc.pcap.gz", "lbserver.pcap"]
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect()
}

/// Whether this process runs as root.
fn root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn index_and_keys_without_threads_are_the_same() {
    let probe = match Limit::new(1, "probe") {
        Ok(l) => l,
        // As root (this project's machines, CI) the limit must be made:
        // a test that silently did not run would pass as if it had.
        Err(why) if !root() => {
            eprintln!("no_threads: not run here (not root): {why}");
            return;
        }
        Err(why) => panic!("no pids cgroup could be made, as root: {why}"),
    };
    drop(probe);
    let tmp = tempfile::tempdir().unwrap();
    let files = session(tmp.path());
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = |name: &str| tmp.path().join(name).display().to_string();

    // The outputs with every thread the machine gives.
    let want = out("want.pktmatch");
    let mut args = vec!["index", "-q", "--engine", "threads", "-o", &want];
    args.extend(&files);
    unlimited(&args);
    let want = std::fs::read(&want).unwrap();
    let want_keys = out("want.keys");
    let mut args = vec!["keys", "-q", "-o", &want_keys];
    args.extend(&files);
    unlimited(&args);

    for max in [1, 2, 3] {
        let limit = Limit::new(max, &format!("max{max}")).expect("made once already");
        // The index, from the captures, on the matcher's threads.
        let got = out(&format!("threads{max}.pktmatch"));
        let mut args = vec!["index", "-q", "--engine", "threads", "-o", &got];
        args.extend(&files);
        let o = limit.pktmatch(&args);
        assert!(o.status.success(), "index at {max} tasks: {}", said(&o));
        let got = std::fs::read(&got).unwrap();
        assert!(
            same_but_creation(&got, &want),
            "index at {max} tasks differs"
        );
        // The key tables: the same files, byte for byte.
        let keys = out(&format!("keys{max}"));
        let mut args = vec!["keys", "-q", "-o", &keys];
        args.extend(&files);
        let o = limit.pktmatch(&args);
        assert!(o.status.success(), "keys at {max} tasks: {}", said(&o));
        for label in ["client", "wan", "dc", "lbserver"] {
            let part = format!("point={label}/part-00000.parquet");
            let a = std::fs::read(Path::new(&want_keys).join(&part)).unwrap();
            let b = std::fs::read(Path::new(&keys).join(&part)).expect("part written");
            assert!(a == b, "{part} at {max} tasks differs");
        }
        // The index from those key tables.
        let from_keys = out(&format!("keys{max}.pktmatch"));
        let o = limit.pktmatch(&[
            "index", "-q", "--engine", "threads", "--keys", &keys, "-o", &from_keys,
        ]);
        assert!(
            o.status.success(),
            "index --keys at {max} tasks: {}",
            said(&o)
        );
        let from_keys = std::fs::read(&from_keys).unwrap();
        assert!(
            same_but_creation(&from_keys, &want),
            "index --keys at {max} tasks differs"
        );
        embedded(
            &limit,
            max,
            &files,
            &want,
            &out(&format!("embedded{max}.pktmatch")),
        );
        assert!(
            limit.refused() > 0,
            "the limit of {max} never refused a thread"
        );
    }
}

/// The embedded engine (a DataFusion build): at one task it is refused
/// with a message that says what to do; at two it runs its tasks on the
/// main thread and the matcher on the other, at three on one worker and
/// one thread for the matcher, and gives the same index.
fn embedded(limit: &Limit, max: u32, files: &[&str], want: &[u8], got: &str) {
    let mut args = vec!["index", "-q", "--engine", "embedded", "-o", got];
    args.extend(files);
    let o = limit.pktmatch(&args);
    let text = said(&o);
    if text.contains("built without DataFusion") {
        eprintln!("no_threads: the embedded engine is not in this build");
        return;
    }
    assert!(
        !text.contains("panicked"),
        "embedded at {max} tasks: {text}"
    );
    if max == 1 {
        assert!(!o.status.success());
        assert!(
            text.contains("raise the limit on threads") && text.contains("--engine threads"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    } else {
        assert!(o.status.success(), "embedded at {max} tasks: {text}");
        let got = std::fs::read(got).unwrap();
        assert!(
            same_but_creation(&got, want),
            "embedded index at {max} tasks differs"
        );
    }
}
