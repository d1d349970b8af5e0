//! `pktmatch index --memory-limit SIZE FILE...` (the embedded engine) from
//! captures, the real command on the example session (four pcapng points):
//! a limit below what the session's point tables and matching need is
//! refused in one line, before anything is written, with a limit that
//! would do; that limit indexes, and gives the index of a run without one
//! (docs/engine.md, "The limit from the captures").
#![cfg(feature = "datafusion")]

mod common;

use common::{capture_path, pktmatch_err, pktmatch_ok, same_but_creation, LABELS};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The MiB a refusal's "give at least N MiB" names.
fn at_least(err: &str) -> f64 {
    let tail = err
        .split("give at least ")
        .nth(1)
        .expect("a limit that would do");
    tail.split(' ').next().unwrap().parse().expect("MiB")
}

#[test]
fn a_limit_too_small_is_refused_and_the_one_it_names_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<String> = LABELS
        .iter()
        .map(|l| capture_path(l).display().to_string())
        .collect();
    let run = |limit: &str, out: &str| {
        let mut args = vec!["index", "-q", "--memory-limit", limit, "-o", out];
        args.extend(files.iter().map(String::as_str));
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let free = dir.path().join("free.pktmatch");
    let free_s = free.display().to_string();
    let mut plain = vec!["index", "-q", "-o", &free_s];
    plain.extend(files.iter().map(String::as_str));
    pktmatch_ok(&plain);

    let limited = dir.path().join("limited.pktmatch");
    let limited_s = limited.display().to_string();
    let err = pktmatch_err(&args(&run("64K", &limited_s)));
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("--memory-limit") && err.contains("estimated from the captures"),
        "{err}"
    );
    assert!(!limited.exists(), "nothing written on a refusal");

    let need = at_least(&err);
    let limit = format!("{}K", (need * 1024.0).ceil() as u64);
    pktmatch_ok(&args(&run(&limit, &limited_s)));
    let (a, b) = (
        std::fs::read(&free).unwrap(),
        std::fs::read(&limited).unwrap(),
    );
    assert!(
        same_but_creation(&a, &b),
        "the index within --memory-limit {limit} differs from the one without"
    );
}
