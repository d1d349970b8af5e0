//! A pair's outcome through the cluster's Arrow rows (engine::cluster::
//! outcome) and back, on real sessions' outcomes: the decoded outcome
//! encodes to the same rows and bytes again, and the index written from
//! decoded outcomes is the threads' byte for byte (creation time set
//! equal).  The example session (NAT/PAT, TSO, a full proxy, losses,
//! translations) and the lab runs `make test` names in PKTMATCH_LAB_DIRS
//! (a clock step among them).  The processes and the network are
//! crates/pktmatch/tests/cluster.rs's.
#![cfg(feature = "datafusion")]

mod common;

use common::{bytes, inputs, repo, session};
use engine::cluster::outcome::{from_batches, to_batches};
use matcher::{Options, PairJob, PairOutcome, PairStage};
use std::path::PathBuf;
use std::sync::Mutex;

/// Runs each pair, sends its outcome through the rows and back, and
/// checks the decoded outcome encodes to the same parts again.
struct ThroughRows {
    /// (pair, matches, rest bytes) seen.
    seen: Mutex<Vec<(usize, usize, usize)>>,
    /// Each point's frames (path order), from the plan.
    frames: Mutex<Vec<u32>>,
}

impl PairStage for ThroughRows {
    fn run_planned(
        &self,
        plan: &matcher::PairPlan<'_>,
        job: PairJob,
    ) -> Result<Vec<PairOutcome>, String> {
        *self.frames.lock().unwrap() = plan.fingerprints.iter().map(|f| f.frames).collect();
        self.run(plan.pairs(), job)
    }

    fn run(&self, pairs: usize, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        let mut batches = Vec::new();
        let mut parts = Vec::new();
        // Last pair first: the decoder must not depend on the rows' order
        // across pairs.
        for k in (0..pairs).rev() {
            let o = job(k)?;
            // The parts of the original, from a second run of the same pair
            // (an outcome is consumed by its encoding).
            parts.push((k, job(k)?.into_parts()));
            batches.extend(to_batches(k as u32, o).map_err(|e| e.to_string())?);
        }
        let decoded = from_batches(pairs, &batches)?;
        let mut again = Vec::new();
        for (k, o) in decoded.into_iter().enumerate() {
            let (m, rest) = o.into_parts();
            let (_, (m0, rest0)) = parts.iter().find(|(j, _)| *j == k).expect("pair ran");
            assert_eq!(&m, m0, "pair {k}: matches");
            assert_eq!(&rest, rest0, "pair {k}: the rest of the outcome");
            // A cut-off outcome is refused, never misread (500 cuts).
            for n in (0..rest.len()).step_by((rest.len() / 500).max(1)) {
                assert!(
                    PairOutcome::from_parts(Vec::new(), &rest[..n]).is_err(),
                    "pair {k}: {n} of {} bytes decoded",
                    rest.len()
                );
            }
            self.seen.lock().unwrap().push((k, m.len(), rest.len()));
            let o = PairOutcome::from_parts(m, &rest).map_err(|e| e.to_string())?;
            // What a worker sends is checked against the coordinator's
            // tables: the true frame counts pass, another pair or no
            // frames at all (a file that shrank) is refused.
            let frames = self.frames.lock().unwrap().clone();
            let f = (frames[k], frames[k + 1]);
            o.check_against(k, f).expect("the pair's own frames");
            assert!(
                o.check_against(k + 1, f).is_err(),
                "pair {k} as pair {}",
                k + 1
            );
            if o.matches() > 0 {
                assert!(
                    o.check_against(k, (0, 0)).is_err(),
                    "pair {k} in empty points"
                );
            }
            again.push(o);
        }
        Ok(again)
    }
}

fn check(points: &[(&str, PathBuf)]) {
    let inputs = inputs(points);
    let (b, _) = matcher::run(&inputs, &Options::default(), &mut |_| {}).expect("threads");
    let threads = bytes(b);
    let stage = ThroughRows {
        seen: Mutex::new(Vec::new()),
        frames: Mutex::new(Vec::new()),
    };
    let (b, _) =
        matcher::run_on(&inputs, &Options::default(), &mut |_| {}, &stage).expect("through rows");
    assert!(
        bytes(b) == threads,
        "the index from decoded outcomes differs"
    );
    let seen = stage.seen.into_inner().unwrap();
    assert_eq!(seen.len(), points.len() - 1);
    assert!(seen.iter().any(|&(_, m, _)| m > 0), "some pair matched");
    eprintln!("{:?}", seen);
}

#[test]
fn example_session_outcomes_round_trip() {
    check(&session(&repo().join("examples/session-small")));
}

#[test]
fn lab_outcomes_round_trip() {
    let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") else {
        eprintln!("PKTMATCH_LAB_DIRS not set: lab runs not checked (make test sets it)");
        return;
    };
    let mut n = 0;
    for d in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
        check(&session(&d.join("points")));
        n += 1;
    }
    assert!(n > 0, "PKTMATCH_LAB_DIRS names no run");
}
