//! `PairTasksExec`: the matching stage as the leaf of a distributed plan.
//!
//! The coordinator's [`crate::plan::MatchExec`] calls a closure over point
//! tables in its own memory; a worker has none of them.  This leaf carries
//! instead what a worker needs to match one adjacent pair by itself: where
//! the two points' frames are (captures or key-table directories, on
//! storage the workers share with the coordinator), the pair's tier-1
//! connection pairs (found while ordering, which needs every point) and
//! the matching window.  Task i of the stage matches pair i
//! (`DistributedTaskContext::task_index`): the worker reads the two points,
//! runs `matcher::match_pair` and sends the outcome back as Arrow rows
//! (outcome.rs).

use super::outcome;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use datafusion_distributed::DistributedTaskContext;
use futures::StreamExt;
use matcher::pairing::ConnPair;
use matcher::table::{Fingerprint, PointTable};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a point's frames are read from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A capture file (absolute path).
    Capture(PathBuf),
    /// A point's key tables: `pktmatch keys`' directory `point=LABEL`.
    Keys { label: String, dir: PathBuf },
}

impl Source {
    /// The point's table, as the coordinator built it from the same source.
    fn read(&self) -> Result<PointTable, String> {
        match self {
            // One thread: the worker runs its tasks side by side.
            Source::Capture(path) => matcher::table::read_point_on(path, 1, |_| {}),
            Source::Keys { label, dir } => crate::load::load_point(label, dir)
                .map(|p| p.table)
                .map_err(|e| e.to_string()),
        }
    }

    fn path(&self) -> &std::path::Path {
        match self {
            Source::Capture(p) => p,
            Source::Keys { dir, .. } => dir,
        }
    }
}

/// Adjacent pair k: its two points, what the coordinator read there, and
/// the pair's tier-1 connection pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct PairTask {
    pub a: Source,
    pub b: Source,
    pub fa: Fingerprint,
    pub fb: Fingerprint,
    pub tier1: Vec<ConnPair>,
}

/// What every task of the stage shares.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub pairs: Vec<PairTask>,
    /// `matcher::Options::window_ns` (the only option the per-pair stage
    /// reads).
    pub window_ns: i64,
    /// Tasks of the stage: one per pair, and at least two (a one-task
    /// stage would run in the coordinator; see `super::tasks`).
    pub tasks: usize,
}

/// The session extension a worker's sessions carry: a task of this leaf
/// refuses to run anywhere else, so that nothing silently runs locally.
/// It holds the address the worker listens on: a task's error names it (the
/// coordinator's message names only the cluster's URL).
#[derive(Debug, Default)]
pub struct OnWorker(pub String);

/// The leaf: one partition per task, task i matching pair i.
pub struct PairTasksExec {
    pub spec: Arc<Spec>,
    properties: Arc<PlanProperties>,
}

impl PairTasksExec {
    pub fn new(spec: Arc<Spec>) -> PairTasksExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(outcome::schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        PairTasksExec { spec, properties }
    }
}

impl std::fmt::Debug for PairTasksExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PairTasksExec({} pairs)", self.spec.pairs.len())
    }
}

impl DisplayAs for PairTasksExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "PairTasksExec: pairs={}", self.spec.pairs.len())
    }
}

fn external(e: impl Into<String>) -> DataFusionError {
    DataFusionError::External(e.into().into())
}

/// A point's fingerprint in words, for a message.
fn describe(f: &Fingerprint) -> String {
    format!(
        "{} frames in {} connections from {} to {} ns",
        f.frames, f.conns, f.first_ts, f.last_ts
    )
}

/// Sets its flag when dropped: the task's future, which holds it, is
/// dropped when the coordinator no longer awaits the task's stream (the
/// run failed elsewhere, or was given up), or when the task is done.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Task `k`: reads its two points and matches them; gives up with
/// [`matcher::STOPPED`] soon after `stop` is set (before each point is
/// read, before the matching, and within it: `matcher::match_pair_until`).
/// Before this, the first run's tasks on the workers still there ran to
/// their end beside the rerun's (docs/engine.md, "The cluster").
fn run_task(
    spec: &Spec,
    k: usize,
    stop: &AtomicBool,
) -> Result<Vec<arrow_array::RecordBatch>, DataFusionError> {
    let task = &spec.pairs[k];
    let go_on = || match stop.load(Ordering::Relaxed) {
        true => Err(external(matcher::STOPPED)),
        false => Ok(()),
    };
    let read = |s: &Source, want: &Fingerprint| {
        go_on()?;
        let t = s
            .read()
            .map_err(|e| external(format!("{}: {e}", s.path().display())))?;
        let got = t.fingerprint();
        match got == *want {
            true => Ok(t),
            false => Err(external(format!(
                "{}: the worker read {}, the coordinator {}: the file changed or is another \
                 copy (workers must see the coordinator's files)",
                s.path().display(),
                describe(&got),
                describe(want)
            ))),
        }
    };
    let (ta, tb) = (read(&task.a, &task.fa)?, read(&task.b, &task.fb)?);
    let options = matcher::Options {
        window_ns: spec.window_ns,
        path: None,
    };
    go_on()?;
    let o =
        matcher::match_pair_until(&ta, &tb, k, &options, &task.tier1, stop).map_err(external)?;
    drop((ta, tb));
    Ok(outcome::to_batches(k as u32, o)?)
}

/// Task `k` run off the async workers (the matcher's work is CPU-bound),
/// and the flag that asks it to stop: set when the future is dropped (a
/// blocking task cannot be aborted).
fn task_future(
    spec: Arc<Spec>,
    k: usize,
    worker: String,
) -> (
    impl std::future::Future<Output = datafusion::error::Result<Vec<arrow_array::RecordBatch>>>,
    Arc<AtomicBool>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let guard = StopOnDrop(Arc::clone(&stop));
    let flag = Arc::clone(&stop);
    let fut = async move {
        let _guard = guard;
        let ran = tokio::task::spawn_blocking(move || {
            let r = run_task(&spec, k, &flag);
            if let Err(DataFusionError::External(e)) = &r {
                if e.to_string() == matcher::STOPPED {
                    eprintln!("pktmatch worker: pair {k}: {}", matcher::STOPPED);
                }
            }
            r
        });
        ran.await
            .map_err(|e| DataFusionError::External(Box::new(e)))
            .and_then(|r| r)
            // An External error is given without DataFusion's "External
            // error: " prefix (the coordinator adds its own).
            .map_err(|e| match e {
                DataFusionError::External(e) => external(format!("worker {worker}: {e}")),
                e => external(format!("worker {worker}: {e}")),
            })
    };
    (fut, stop)
}

impl ExecutionPlan for PairTasksExec {
    fn name(&self) -> &str {
        "PairTasksExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::error::Result<TreeNodeRecursion>,
    ) -> datafusion::error::Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let Some(worker) = context.session_config().get_extension::<OnWorker>() else {
            return Err(external(
                "internal error: a pair's matching task ran outside a pktmatch worker",
            ));
        };
        let worker = worker.0.clone();
        let k = DistributedTaskContext::from_ctx(&context).task_index;
        let schema = outcome::schema();
        // Tasks past the pairs (a stage has at least two) emit nothing.
        if partition != 0 || k >= self.spec.pairs.len() {
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::empty(),
            )));
        }
        let (fut, _) = task_future(Arc::clone(&self.spec), k, worker);
        let stream = futures::stream::once(fut).flat_map(|r| {
            let items: Vec<datafusion::error::Result<_>> = match r {
                Ok(batches) => batches.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(items)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn fingerprint() -> Fingerprint {
        Fingerprint {
            frames: 1,
            conns: 1,
            first_ts: 0,
            last_ts: 0,
        }
    }

    /// One pair whose points cannot be read (no such files).
    fn spec() -> Arc<Spec> {
        let missing = |p: &str| Source::Capture(PathBuf::from(format!("/nonexistent/{p}.pcap")));
        Arc::new(Spec {
            pairs: vec![PairTask {
                a: missing("a"),
                b: missing("b"),
                fa: fingerprint(),
                fb: fingerprint(),
                tier1: Vec::new(),
            }],
            window_ns: 1,
            tasks: 2,
        })
    }

    /// Asked to stop, a task reads nothing (the missing files would be
    /// named); not asked, it tries.
    #[test]
    fn a_task_asked_to_stop_reads_nothing() {
        let e = run_task(&spec(), 0, &AtomicBool::new(true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("External error: {}", matcher::STOPPED)
        );
        let e = run_task(&spec(), 0, &AtomicBool::new(false)).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/a.pcap"), "{e}");
    }

    /// Dropping a task's future, polled or not, sets its stop flag; a task
    /// that ran to its end sets it too (harmless: nothing is left to stop).
    #[test]
    fn dropping_a_tasks_future_asks_it_to_stop() {
        let (fut, stop) = task_future(spec(), 0, "w".into());
        assert!(!stop.load(Ordering::Relaxed));
        drop(fut);
        assert!(stop.load(Ordering::Relaxed));

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        // Polled once (the blocking task started), then dropped.
        let (fut, stop) = task_future(spec(), 0, "w".into());
        let mut fut = Box::pin(fut);
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let _ = rt.block_on(async { fut.as_mut().poll(&mut cx) });
        assert!(!stop.load(Ordering::Relaxed));
        drop(fut);
        assert!(stop.load(Ordering::Relaxed));

        // Run to its end: the missing file's error, worker named.
        let (fut, stop) = task_future(spec(), 0, "w".into());
        let e = rt.block_on(fut).unwrap_err();
        assert!(
            e.to_string().contains("worker w: /nonexistent/a.pcap"),
            "{e}"
        );
        assert!(stop.load(Ordering::Relaxed));
    }
}
