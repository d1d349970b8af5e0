//! The matching stage on a cluster of `pktmatch worker`s, through
//! datafusion-distributed (Arrow Flight over gRPC; docs/engine.md, "The
//! cluster").
//!
//! The coordinator is the `pktmatch index` process itself (no scheduler):
//! it reads and orders the points as always, then plans one distributed
//! stage, `PairTasksExec` under a `NetworkCoalesceExec`, whose task i runs
//! on a worker and matches adjacent pair i there (exec.rs).  The outcomes
//! come back as Arrow rows (outcome.rs) and the stages after matching run
//! here.  The workers read the points themselves: they must see the
//! captures (or key tables) at the coordinator's paths — a loopback
//! cluster shares the file system; a real one needs shared storage.
//!
//! The cluster's URL is `flight://HOST:PORT[,HOST:PORT...]`, one address
//! per worker.

pub mod codec;
pub mod exec;
pub mod outcome;
pub mod worker;

use crate::load::point_dirs;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{
    DistributedExt, NetworkCoalesceExec, SessionStateBuilderExt, WorkerResolver,
};
use exec::{PairTask, PairTasksExec, Source, Spec};
use matcher::{PairJob, PairOutcome, PairPlan, PairStage};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The URL scheme of a cluster of `pktmatch worker`s.
pub const SCHEME: &str = "flight://";

/// How long a worker has to accept a connection before the cluster counts
/// as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What went wrong with a cluster (each a one-line message naming it).
#[derive(Debug)]
pub enum Error {
    /// Not a `flight://HOST:PORT[,HOST:PORT...]` URL.
    Url { url: String, why: String },
    /// A worker does not answer.
    Unreachable {
        url: String,
        worker: String,
        why: String,
    },
    /// The distributed plan failed (a worker went away, a task failed).
    Run { url: String, why: String },
    /// A worker could not start or serve.
    Worker(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Url { url, why } => write!(
                f,
                "--engine {url}: {why} (give flight://HOST:PORT[,HOST:PORT...], as \
                 tools/local-cluster.sh start prints)"
            ),
            Error::Unreachable { url, worker, why } => write!(
                f,
                "--engine {url}: worker {worker} does not answer ({why}); is the cluster \
                 running? (tools/local-cluster.sh start N)"
            ),
            Error::Run { url, why } => write!(f, "--engine {url}: {why}"),
            Error::Worker(why) => write!(f, "worker: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// The workers' addresses in a cluster URL.
pub fn parse_url(url: &str) -> Result<Vec<String>, Error> {
    let bad = |why: &str| Error::Url {
        url: url.to_string(),
        why: why.to_string(),
    };
    let rest = url
        .strip_prefix(SCHEME)
        .ok_or_else(|| bad("not a cluster URL"))?;
    let workers: Vec<String> = rest
        .split(',')
        .map(|w| w.trim().trim_end_matches('/').to_string())
        .collect();
    for w in &workers {
        let (host, port) = w
            .rsplit_once(':')
            .ok_or_else(|| bad(&format!("{w:?} has no port")))?;
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad(&format!("{w:?} is not HOST:PORT")));
        }
    }
    Ok(workers)
}

/// The matching stage on a running cluster.
pub struct Cluster {
    url: String,
    /// Each worker's address as the URL gives it, and as a URL.
    workers: Vec<(String, url::Url)>,
    /// `index --keys DIR`: the workers read the points' key tables there.
    keys: Option<PathBuf>,
    rt: tokio::runtime::Runtime,
    notes: Mutex<Vec<String>>,
}

/// Whether a worker accepts a TCP connection within [`CONNECT_TIMEOUT`]
/// (Err: why not).
fn answers(worker: &str) -> Result<(), String> {
    let resolved: Vec<SocketAddr> = worker
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    let mut why = "no address".to_string();
    for a in &resolved {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => why = e.to_string(),
        }
    }
    Err(why)
}

impl Cluster {
    /// A cluster whose every worker accepts a connection now (else an
    /// error naming the URL and the worker: no silent local fallback).
    pub fn connect(url: &str, keys: Option<&Path>) -> Result<Cluster, Error> {
        let addrs = parse_url(url)?;
        let mut workers = Vec::with_capacity(addrs.len());
        for w in &addrs {
            answers(w).map_err(|why| Error::Unreachable {
                url: url.to_string(),
                worker: w.to_string(),
                why,
            })?;
            let u = url::Url::parse(&format!("http://{w}")).map_err(|e| Error::Url {
                url: url.to_string(),
                why: format!("{w}: {e}"),
            })?;
            workers.push((w.clone(), u));
        }
        let rt = crate::runtime::build(2, "pktmatch-coordinator", true, "").map_err(|why| {
            Error::Run {
                url: url.to_string(),
                why,
            }
        })?;
        Ok(Cluster {
            url: url.to_string(),
            workers,
            keys: keys.map(Path::to_path_buf),
            rt,
            notes: Mutex::new(Vec::new()),
        })
    }

    /// What happened that the user should know of, though the run went on
    /// (a worker that went away and the stage run again without it).
    pub fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|n| n.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn run_error(&self, why: impl std::fmt::Display) -> String {
        Error::Run {
            url: self.url.clone(),
            why: why.to_string(),
        }
        .to_string()
    }

    /// Where a worker reads point `input`.
    fn source(&self, input: &matcher::Input) -> Result<Source, String> {
        match &self.keys {
            None => Ok(Source::Capture(input.path.clone())),
            Some(dir) => {
                let dirs = point_dirs(dir).map_err(|e| e.to_string())?;
                let (label, d) = dirs
                    .into_iter()
                    .find(|(l, _)| *l == input.label)
                    .ok_or_else(|| format!("{}: no point={}", dir.display(), input.label))?;
                let d = std::fs::canonicalize(&d).map_err(|e| format!("{}: {e}", d.display()))?;
                Ok(Source::Keys { label, dir: d })
            }
        }
    }

    fn spec(&self, plan: &PairPlan<'_>) -> Result<Spec, String> {
        let sources = plan
            .points
            .iter()
            .map(|i| self.source(i))
            .collect::<Result<Vec<_>, _>>()?;
        if plan.fingerprints.len() != sources.len() {
            return Err("internal error: a point without its fingerprint".into());
        }
        let pairs: Vec<PairTask> = sources
            .windows(2)
            .zip(plan.fingerprints.windows(2))
            .zip(plan.tier1)
            .map(|((w, f), t)| PairTask {
                a: w[0].clone(),
                b: w[1].clone(),
                fa: f[0],
                fb: f[1],
                tier1: t.clone(),
            })
            .collect();
        Ok(Spec {
            tasks: tasks(pairs.len()),
            pairs,
            window_ns: plan.options.window_ns,
        })
    }
}

/// Tasks of the matching stage for `pairs` pairs: one per pair, at least
/// two — datafusion-distributed runs a stage of one task feeding one
/// consumer in the coordinator itself (prepare_network_boundaries.rs
/// elides that boundary), and the cluster must do the work it was asked to.
fn tasks(pairs: usize) -> usize {
    pairs.max(2)
}

/// The workers the coordinator's session sends tasks to.
#[derive(Clone)]
struct Workers(Vec<url::Url>);

impl WorkerResolver for Workers {
    fn get_urls(&self) -> Result<Vec<url::Url>, DataFusionError> {
        Ok(self.0.clone())
    }
}

/// The matching stage as a table, so that DataFusion's (distributed)
/// planner plans it: its scan is the stage under its network boundary.
#[derive(Debug)]
struct PairsTable {
    spec: Arc<Spec>,
}

#[async_trait]
impl TableProvider for PairsTable {
    fn schema(&self) -> arrow_schema::SchemaRef {
        outcome::schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let leaf: Arc<dyn ExecutionPlan> = Arc::new(PairTasksExec::new(Arc::clone(&self.spec)));
        let boundary = NetworkCoalesceExec::try_new(leaf, self.spec.tasks, 1)?;
        Ok(Arc::new(CoalescePartitionsExec::new(Arc::new(boundary))))
    }
}

impl PairStage for Cluster {
    fn run(&self, _pairs: usize, _job: PairJob) -> Result<Vec<PairOutcome>, String> {
        Err("internal error: the cluster stage needs the matching plan".into())
    }

    /// None here: the workers match the pairs.
    fn jobs_at_once(&self, _pairs: usize) -> usize {
        0
    }

    /// The stage on every worker; if it fails and some workers no longer
    /// answer, once more on those that do (a note says so).  A failure with
    /// every worker still answering is reported as it is: most likely the
    /// tasks' own (another file at the same path, a damaged capture), which
    /// would fail again.  The first run's tasks on the workers left are
    /// asked to stop when their streams are dropped (exec.rs, `task_future`):
    /// the second run's overlap them only until each reaches its next
    /// check.
    fn run_planned(&self, plan: &PairPlan<'_>, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        // The job is this process's closure over its tables: not used here.
        drop(job);
        let spec = Arc::new(self.spec(plan)?);
        let all: Vec<url::Url> = self.workers.iter().map(|w| w.1.clone()).collect();
        let first = match self.stage_on(&spec, all) {
            Ok(outcomes) => return Ok(outcomes),
            Err(e) => e,
        };
        let (live, gone): (Vec<_>, Vec<_>) =
            self.workers.iter().partition(|w| answers(&w.0).is_ok());
        if gone.is_empty() {
            return Err(self.run_error(first));
        }
        let gone: Vec<&str> = gone.iter().map(|w| w.0.as_str()).collect();
        let gone = gone.join(", ");
        if live.is_empty() {
            return Err(self.run_error(format!(
                "{first} (no worker answers now; is the cluster running?)"
            )));
        }
        // One line, whatever DataFusion's message holds.
        let why = first.split_whitespace().collect::<Vec<_>>().join(" ");
        let note = format!(
            "--engine {}: worker {gone} went away during the matching stage ({why}); it ran \
             again on the {} that answer",
            self.url,
            live.len()
        );
        if let Ok(mut n) = self.notes.lock() {
            n.push(note);
        }
        let live: Vec<url::Url> = live.iter().map(|w| w.1.clone()).collect();
        self.stage_on(&spec, live).map_err(|e| {
            self.run_error(format!(
                "{e} (the stage's second run, after worker {gone} went away: {why})"
            ))
        })
    }
}

impl Cluster {
    /// One distributed run of the matching stage with `workers`.
    fn stage_on(
        &self,
        spec: &Arc<Spec>,
        workers: Vec<url::Url>,
    ) -> Result<Vec<PairOutcome>, String> {
        let frames: Vec<(u32, u32)> = spec
            .pairs
            .iter()
            .map(|p| (p.fa.frames, p.fb.frames))
            .collect();
        // No physical optimizer rules: the plan is built as it must run
        // (the rules would drop the CoalescePartitionsExec above the
        // boundary, and datafusion-distributed's head runs one partition).
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_physical_optimizer_rules(Vec::new())
            .with_distributed_worker_resolver(Workers(workers))
            .with_distributed_planner()
            .with_distributed_user_codec(codec::PairTasksCodec)
            .build();
        let ctx = SessionContext::from(state);
        let spec = Arc::clone(spec);
        let batches = self
            .rt
            .block_on(async {
                ctx.read_table(Arc::new(PairsTable { spec }))?
                    .collect()
                    .await
            })
            .map_err(|e| e.to_string())?;
        outcome::from_batches_checked(&frames, &batches).map_err(|e| e.to_string())
    }
}
