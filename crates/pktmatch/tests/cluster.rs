//! `pktmatch index --engine URL` on a real local cluster: the workers are
//! `pktmatch worker` processes started by tools/local-cluster.sh (each on
//! a port the OS picks, so parallel tests do not collide), the matching of
//! each pair of points crosses Arrow Flight, and the index is the one
//! `--engine threads` writes, byte for byte but its creation time — with 1
//! and with 2 workers, from the captures and from key tables, on the
//! example session and the lab runs `make test` names in PKTMATCH_LAB_DIRS.
//! Stopped, the cluster fails the run with one line naming its URL and no
//! index is written.
#![cfg(feature = "datafusion")]

mod common;

use common::{pktmatch, pktmatch_err, pktmatch_ok, same_but_creation};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A local cluster of `n` workers, stopped when dropped.
struct LocalCluster {
    state: tempfile::TempDir,
    url: String,
}

impl LocalCluster {
    fn script(state: &Path, args: &[&str]) -> std::process::Output {
        Command::new(repo().join("tools/local-cluster.sh"))
            .args(args)
            .env("PKTMATCH_CLUSTER_DIR", state)
            .env("PKTMATCH_BIN", env!("CARGO_BIN_EXE_pktmatch"))
            .output()
            .expect("run tools/local-cluster.sh")
    }

    fn start(n: usize) -> LocalCluster {
        let state = tempfile::tempdir().expect("state dir");
        let out = LocalCluster::script(state.path(), &["start", &n.to_string()]);
        assert!(
            out.status.success(),
            "local-cluster.sh start {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let url = stdout.lines().last().expect("a URL line").to_string();
        assert!(url.starts_with("flight://127.0.0.1:"), "{url}");
        assert_eq!(url.split(',').count(), n, "{url}");
        LocalCluster { state, url }
    }

    fn stop(&self) {
        let out = LocalCluster::script(self.state.path(), &["stop"]);
        assert!(out.status.success(), "stop");
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = LocalCluster::script(self.state.path(), &["stop"]);
    }
}

fn session(dir: &Path) -> Vec<String> {
    ["client", "wan", "dc", "lbserver"]
        .iter()
        .map(|l| dir.join(format!("{l}.pcapng")).display().to_string())
        .collect()
}

/// The index of `points` (captures, or `--keys DIR` when `keys`) by
/// `engine`.
fn index(out: &Path, engine: &str, points: &[String], keys: Option<&Path>) -> Vec<u8> {
    let o = out.display().to_string();
    let mut args = vec!["index", "-q", "--engine", engine, "-o", &o];
    let k;
    match keys {
        Some(dir) => {
            k = dir.display().to_string();
            args.extend(["--keys", k.as_str()]);
        }
        None => args.extend(points.iter().map(String::as_str)),
    }
    pktmatch_ok(&args);
    std::fs::read(out).expect("index written")
}

/// Every session through 1 and 2 workers, from captures and key tables.
fn check_sessions(sessions: &[Vec<String>]) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut cases = Vec::new();
    for (s, points) in sessions.iter().enumerate() {
        let keys = tmp.path().join(format!("keys-{s}"));
        let k = keys.display().to_string();
        let mut args = vec!["keys", "-q", "-o", k.as_str()];
        args.extend(points.iter().map(String::as_str));
        pktmatch_ok(&args);
        let threads = index(
            &tmp.path().join(format!("t{s}.pktmatch")),
            "threads",
            points,
            None,
        );
        cases.push((points, keys, threads));
    }
    for n in [1, 2] {
        let cluster = LocalCluster::start(n);
        for (s, (points, keys, threads)) in cases.iter().enumerate() {
            for (what, k) in [("captures", None), ("keys", Some(keys.as_path()))] {
                let out = tmp.path().join(format!("c{n}-{s}-{what}.pktmatch"));
                let got = index(&out, &cluster.url, points, k);
                assert!(
                    same_but_creation(&got, threads),
                    "session {s} from {what} through {n} worker(s): not the threads' index"
                );
            }
        }
        cluster.stop();
    }
}

#[test]
fn cluster_gives_the_threads_index() {
    let mut sessions = vec![session(&repo().join("examples/session-small"))];
    if let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") {
        for d in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
            sessions.push(session(&d.join("points")));
        }
    } else {
        eprintln!("PKTMATCH_LAB_DIRS not set: lab runs not compared (make test sets it)");
    }
    check_sessions(&sessions);
}

#[test]
fn a_stopped_cluster_fails_and_writes_nothing() {
    let points = session(&repo().join("examples/session-small"));
    let cluster = LocalCluster::start(2);
    let url = cluster.url.clone();
    cluster.stop();
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("s.pktmatch");
    let o = out.display().to_string();
    let mut args = vec!["index", "-q", "--engine", &url, "-o", &o];
    args.extend(points.iter().map(String::as_str));
    let e = pktmatch_err(&args);
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
    assert!(e.contains(&url), "names the URL: {e}");
    assert!(e.contains("does not answer"), "{e}");
    assert!(!out.exists(), "no index written");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing written"
    );

    // One worker of two down: the same.
    let cluster = LocalCluster::start(1);
    // (A port of the stopped cluster the OS gave the new worker is left out.)
    let live = cluster.url.trim_start_matches("flight://");
    let dead: Vec<&str> = url
        .trim_start_matches("flight://")
        .split(',')
        .filter(|a| *a != live)
        .collect();
    assert!(!dead.is_empty());
    let half = format!("{},{}", cluster.url, dead.join(","));
    let mut args = vec!["index", "-q", "--engine", &half, "-o", &o];
    args.extend(points.iter().map(String::as_str));
    let e = pktmatch_err(&args);
    assert!(e.contains("does not answer"), "{e}");
    assert!(!out.exists(), "no index written");

    // Not a cluster URL.
    let r = pktmatch(&[
        "index",
        "-q",
        "--engine",
        "flight://nowhere",
        "-o",
        &o,
        &points[0],
        &points[1],
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("HOST:PORT"));
    assert!(!out.exists(), "no index written");
}

/// A loopback port that accepts one connection and then closes (a worker
/// that answers the check before the run and is gone by the stage): its
/// address, and the thread to join once the run is over.
fn accepts_once() -> (String, std::thread::JoinHandle<()>) {
    let once = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = once.local_addr().expect("address").to_string();
    let accepting = std::thread::spawn(move || {
        let _ = once.accept();
    });
    (addr, accepting)
}

/// A worker that goes away between the check before the run and the
/// matching stage: the URL names a live worker and a port that accepts one
/// connection (the check) and then closes.  Tasks go to every worker given
/// (round robin from a random one: two tasks or more, two workers), so the
/// first run of the stage fails; the closed port no longer answers, and the
/// stage runs again on the live worker.  The index is the threads' one, and
/// a warning on stderr names the worker that went away.
#[test]
fn a_worker_lost_during_the_run_is_left_out_and_the_stage_runs_again() {
    let points = session(&repo().join("examples/session-small"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let threads = index(&tmp.path().join("t.pktmatch"), "threads", &points, None);
    let cluster = LocalCluster::start(1);
    let (lost, accepting) = accepts_once();
    let url = format!("{},{lost}", cluster.url);
    let out = tmp.path().join("c.pktmatch");
    let o = out.display().to_string();
    let mut args = vec!["index", "-q", "--engine", &url, "-o", &o];
    args.extend(points.iter().map(String::as_str));
    let r = pktmatch(&args);
    accepting.join().expect("listener");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("pktmatch: warning:"))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(
        warning.contains(&format!("worker {lost} went away"))
            && warning.contains("the 1 that answer"),
        "{warning}"
    );
    let got = std::fs::read(&out).expect("index written");
    assert!(same_but_creation(&got, &threads), "not the threads' index");

    // Every worker gone by the stage: the run fails, nothing written.
    let (addr, accepting) = accepts_once();
    let url = format!("flight://{addr}");
    let out = tmp.path().join("none.pktmatch");
    let o = out.display().to_string();
    let mut args = vec!["index", "-q", "--engine", &url, "-o", &o];
    args.extend(points.iter().map(String::as_str));
    let e = pktmatch_err(&args);
    accepting.join().expect("listener");
    assert!(e.contains("no worker answers now"), "{e}");
    assert!(!out.exists(), "no index written");
}
