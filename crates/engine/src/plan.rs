//! The indexer's stages on Apache DataFusion, embedded (docs/engine.md).
//!
//! * Stage 1 from key tables: each point's Parquet parts are a DataFusion
//!   table (`point_K`), declared in frame order, scanned in up to
//!   `partitions` partitions and merged in frame order (a sort by frame,
//!   which spills to disk when the memory pool is full, where DataFusion
//!   cannot prove the order from the parts' statistics), then folded into
//!   the matcher's point table by the matcher's own
//!   [`matcher::table::TableBuilder`].  One point after the other, each on
//!   all partitions.
//! * Stages 2–4 (pairing, matching, clock fitting of each adjacent pair of
//!   points): [`MatchExec`], a user-defined DataFusion operator with one
//!   partition per pair, each calling the matcher's per-pair logic
//!   ([`matcher::PairJob`]); DataFusion schedules the partitions on its
//!   runtime.
//! * Composition, losses and the index stay in the matcher after the plan
//!   ([`matcher::run_tables_on`]).

use crate::error::Error;
use crate::load::{point_dirs, push_batch, read_meta, LoadedPoint, PointMeta};
use arrow_array::{RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    collect, execute_stream, DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties, SendableRecordBatchStream,
};
use datafusion::prelude::{col, ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use matcher::pairing::{ConnPair, NatSample};
use matcher::table::{Checks, PointTable, TableBuilder};
use matcher::{PairJob, PairOutcome, PairStage};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How the embedded engine runs.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Partitions of a scan (DataFusion's target partitions) and threads.
    pub partitions: usize,
    /// Bytes DataFusion's operators may hold at once (its memory pool);
    /// past it they spill to disk.
    pub memory_limit: usize,
    /// Where spill files go (None: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            partitions: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_limit: default_memory_limit(),
            spill_dir: None,
        }
    }
}

/// Half of the machine's memory (/proc/meminfo), else 4 GiB: the whole
/// run's budget (the matcher's point tables are charged to the pool, from
/// key tables and, since 2026-12-07, from captures: a session whose tables
/// and matching need more is refused under this default too).
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(8 << 30);
    usize::try_from(total / 2).unwrap_or(usize::MAX)
}

/// An embedded DataFusion session with its memory pool and spill files.
pub struct Engine {
    ctx: SessionContext,
    /// Tier-1 connection pairing's session: the same runtime (memory pool,
    /// spill files), its own plan options ([`crate::tier1::session`]).
    tier1: SessionContext,
    rt: tokio::runtime::Runtime,
    /// The matcher's point tables, charged to the same pool as DataFusion's
    /// operators (they cannot spill): what they hold is what the scans'
    /// sorts may not use.
    tables: MemoryReservation,
    /// The pool's size: the limit but what DataFusion does not charge.
    pool: usize,
    /// The whole limit (`--memory-limit`).
    limit: usize,
    /// Pairs matched at once (the partitions: the cores by default).
    partitions: usize,
    spills: AtomicU64,
    spilled_bytes: AtomicU64,
    /// While captures are read ([`matcher::PairStage::while_reading`]).
    reading: Mutex<Reading>,
}

/// The tables of captures being read.
#[derive(Default)]
struct Reading {
    points: Vec<PointReading>,
    /// The most they held together.
    peak: usize,
}

/// A capture being read.
struct PointReading {
    label: String,
    /// Its size, where its offsets are the file's (an uncompressed regular
    /// file: what `capture::estimate_frames` estimates).
    size: Option<u64>,
    /// Its frames as estimated before reading, and what reading them
    /// reserves (`TableBuilder::reading_bytes`): its projection until it
    /// reports (a point not started yet: more points than threads).
    estimate: Option<(usize, usize)>,
    /// What its table holds so far.
    held: matcher::table::Held,
    /// The most its reading has held beside the table
    /// ([`matcher::table::Held::aside`]).
    aside_most: usize,
}

impl PointReading {
    /// What its table will hold, its frames and connections, from what it
    /// holds at the offset reached (the filled part scaled to the file's
    /// size; not started yet: its estimate, with `conns_per_frame`), and
    /// whether that is an estimate of the whole (else what is known so
    /// far: a compressed file, a pipe, CTRACE).
    fn projected(&self, conns_per_frame: f64) -> (usize, usize, usize, bool) {
        let h = &self.held;
        if h.done {
            return (h.bytes, h.frames, h.conns, true);
        }
        if h.read == 0 && h.frames == 0 {
            return match self.estimate {
                Some((frames, bytes)) => {
                    let conns = (frames as f64 * conns_per_frame) as usize;
                    (bytes.max(h.bytes), frames, conns, true)
                }
                None => (h.bytes, 0, 0, false),
            };
        }
        match self.size {
            Some(size) if h.read > 0 && h.read <= size => {
                let scale = size as f64 / h.read as f64;
                let filled = h.bytes.saturating_sub(h.unused) as f64 * scale;
                let (frames, conns) = (h.frames as f64 * scale, h.conns as f64 * scale);
                let bytes = (filled as usize).max(h.bytes);
                (bytes, frames as usize, conns as usize, true)
            }
            _ => (h.bytes, h.frames, h.conns, false),
        }
    }
}

impl Reading {
    /// What the points' reading holds beside their tables now
    /// ([`matcher::table::Held::aside`]).
    fn aside(&self) -> usize {
        self.points.iter().map(|p| p.held.aside).sum()
    }

    /// What the points not finished yet may hold beside their tables
    /// while they are read: each the most it has held, a point not
    /// started yet the most any has; as many of them at once as captures
    /// are read at once ([`matcher::reading_workers`]), the largest.
    fn aside_projected(&self) -> usize {
        let most = self.points.iter().map(|p| p.aside_most).max().unwrap_or(0);
        let started = |p: &PointReading| p.held.read > 0 || p.held.frames > 0 || p.aside_most > 0;
        let mut each: Vec<usize> = self
            .points
            .iter()
            .filter(|p| !p.held.done)
            .map(|p| match started(p) {
                true => p.aside_most,
                false => most,
            })
            .collect();
        each.sort_unstable_by(|a, b| b.cmp(a));
        each.iter()
            .take(matcher::reading_workers())
            .fold(0usize, |a, &b| a.saturating_add(b))
    }

    /// The tables and what reading holds beside them, every point.
    fn held(&self) -> usize {
        self.points
            .iter()
            .map(|p| p.held.bytes.saturating_add(p.held.aside))
            .sum()
    }

    /// The limit to name once the tables passed one while read: each
    /// point's projected table ([`PointReading::projected`]; a point not
    /// started yet with as many connections a frame as those read so far),
    /// matching beside them and 1/32 more; "about" where every point could
    /// be projected, else "more than" what is known.
    fn named_limit(&self) -> String {
        let (seen_frames, seen_conns) = self
            .points
            .iter()
            .fold((0, 0), |(f, c), p| (f + p.held.frames, c + p.held.conns));
        let per_frame = match seen_frames {
            0 => 0.0,
            f => seen_conns as f64 / f as f64,
        };
        let (mut tables, mut frames, mut conns, mut whole) = (0usize, 0usize, 0usize, true);
        for p in &self.points {
            let (b, f, c, w) = p.projected(per_frame);
            tables = tables.saturating_add(b);
            frames = frames.saturating_add(f);
            conns = conns.saturating_add(c);
            whole &= w;
        }
        // What reading holds beside the tables is held until it ends,
        // matching's memory only after.
        let beside = matching_bytes_with(frames, conns).max(self.aside_projected());
        let all = tables.saturating_add(beside);
        let give = mib_up(all.saturating_add(all / 32));
        match whole {
            true => format!("give about {give} (projected from what was read so far)"),
            false => format!(
                "give more than {give} (what a capture whose frames could not be estimated, \
                 compressed, a pipe or CTRACE, will need is not known until it is read)"
            ),
        }
    }
}

fn df_err(e: DataFusionError) -> String {
    format!("DataFusion: {e}")
}

impl Engine {
    pub fn new(options: &EngineOptions) -> Result<Engine, String> {
        let partitions = options.partitions.max(1);
        // Batches of at most a 64th of the pool (a key table row takes
        // about 100 bytes in memory): a sort that spills holds a batch of
        // each run while it merges them.
        let batch = (options.memory_limit / 64 / 128).clamp(256, 8192);
        let mut config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(batch);
        // A sort that spills merges its runs within what it reserved first:
        // a share of the pool, so that a small limit still sorts.
        let e = &mut config.options_mut().execution;
        e.sort_spill_reservation_bytes = (options.memory_limit / 16).clamp(8 << 10, 10 << 20);
        e.sort_in_place_threshold_bytes = (options.memory_limit / 16).clamp(8 << 10, 1 << 20);
        // Strings as the key tables' schema has them (Utf8), not as views.
        e.parquet.schema_force_view_types = false;
        // One sort per point over the partitions' scans: sorts per partition
        // and a merge of them would share the pool with a merge that cannot
        // spill (SortPreservingMergeExec).
        config.options_mut().optimizer.repartition_sorts = false;
        let mode = match &options.spill_dir {
            Some(d) => DiskManagerMode::Directories(vec![d.clone()]),
            None => DiskManagerMode::OsTmpDirectory,
        };
        // What DataFusion does not charge to its pool (the row groups' column
        // chunks a scan reads, its runtime) is kept out of the pool.
        let pool_size = options.memory_limit - unaccounted(options.memory_limit);
        let pool: Arc<dyn MemoryPool> = Arc::new(FairSpillPool::new(pool_size));
        let tables = MemoryConsumer::new("matcher point tables").register(&pool);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(pool)
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(mode))
            .build_arc()
            .map_err(df_err)?;
        let rt = crate::runtime::build(
            partitions,
            "pktmatch-engine",
            false,
            " or give --engine threads, which runs on one",
        )?;
        Ok(Engine {
            tier1: crate::tier1::session(Arc::clone(&runtime), batch, partitions),
            ctx: SessionContext::new_with_config_rt(config, runtime),
            rt,
            tables,
            pool: pool_size,
            limit: options.memory_limit,
            partitions,
            spills: AtomicU64::new(0),
            spilled_bytes: AtomicU64::new(0),
            reading: Mutex::new(Reading::default()),
        })
    }

    /// Spill files written so far, and their bytes.
    pub fn spilled(&self) -> (u64, u64) {
        (
            self.spills.load(Ordering::Relaxed),
            self.spilled_bytes.load(Ordering::Relaxed),
        )
    }

    /// Every point of a key table directory read through the plan, in the
    /// order `pktmatch keys` was given them (as [`crate::load::load_dir`]).
    pub fn load_dir(&self, dir: &Path) -> Result<Vec<LoadedPoint>, Error> {
        let dirs = point_dirs(dir)?;
        let metas = dirs
            .iter()
            .map(|(label, d)| read_meta(d, label))
            .collect::<Result<Vec<_>, _>>()?;
        // Without a temporary file the checks stay in memory (4 bytes a
        // frame): asked once, before any table is sized.
        let checks_file = Checks::file_possible();
        self.fits(dir, &metas, checks_file)?;
        // One point after the other, each on all partitions: its sort has
        // the pool but for the tables built so far and this one's.
        let mut points: Vec<LoadedPoint> = Vec::new();
        for (k, ((label, d), meta)) in dirs.into_iter().zip(metas).enumerate() {
            let held: usize = points.iter().map(|p| p.table.heap_bytes()).sum();
            let need = meta.table_bytes(checks_file);
            self.tables
                .try_resize(held + need)
                .map_err(|_| Error::format(&d, self.too_small(held + need, 0, &label)))?;
            let (rows, builder, (n, bytes)) = self
                .rt
                .block_on(async {
                    let plan = self.point_plan(k, &meta).await?;
                    let (rows, builder) =
                        fold(Arc::clone(&plan), self.ctx.task_ctx(), meta.capacity()).await?;
                    Ok::<_, String>((rows, builder, spill_metrics(&plan)))
                })
                .map_err(|e| Error::format(&d, e))?;
            self.spills.fetch_add(n, Ordering::Relaxed);
            self.spilled_bytes.fetch_add(bytes, Ordering::Relaxed);
            points.push(meta.finish(&label, rows, builder)?);
        }
        // From here on the charge is what the tables hold (connections and
        // messages included), whatever the pool has left.
        self.tables
            .resize(points.iter().map(|p| p.table.heap_bytes()).sum());
        points.sort_by(|a, b| (a.given, &a.label).cmp(&(b.given, &b.label)));
        Ok(points)
    }

    /// Refuses, before any point is read, key tables whose point tables
    /// alone would not fit in the limit (the tables cannot spill), or with
    /// the matching stage's working memory beside them (which cannot spill
    /// either: it ran past the limit instead).
    fn fits(&self, dir: &Path, metas: &[PointMeta], checks_file: bool) -> Result<(), Error> {
        let need: usize = metas.iter().map(|m| m.table_bytes(checks_file)).sum();
        let frames: usize = metas.iter().map(PointMeta::capacity).sum();
        let matching = matching_bytes(frames);
        let sorts = need + SORT_MIN.min(self.pool / 4) > self.pool;
        match sorts || need + matching > self.limit {
            true => Err(Error::format(
                dir,
                self.too_small(need, matching, "every point"),
            )),
            false => Ok(()),
        }
    }

    /// The message for a limit the point tables (and `matching`, the
    /// matching stage's estimated working memory beside them) do not fit in.
    fn too_small(&self, need: usize, matching: usize, what: &str) -> String {
        let sorts = need + need / 4 + SORT_MIN + (8 << 20);
        self.too_small_for(need, matching, what, sorts, 0)
    }

    /// [`Self::too_small`] where at least `sorts` bytes are needed for the
    /// sorts (0: no sort, as when the tables come from the captures), and
    /// at least `held` in all (what reading the captures held at its
    /// most, with 1/32 more).
    fn too_small_for(
        &self,
        need: usize,
        matching: usize,
        what: &str,
        sorts: usize,
        held: usize,
    ) -> String {
        let all = need.saturating_add(matching).max(held);
        let at_least = sorts.max(all.saturating_add(all / 32)).max(pool_for(need));
        let beside = match matching {
            0 => String::new(),
            m => format!(", matching about {} more beside them (an estimate)", mib(m)),
        };
        let leaves = match sorts {
            0 => format!("the limit is {}", mib(self.limit)),
            _ => format!(
                "the limit leaves {} for the tables and the sorts (which spill to disk, \
                 docs/engine.md)",
                mib(self.pool)
            ),
        };
        format!(
            "--memory-limit: the matcher's point tables ({what}) need {}{beside} and stay \
             in memory, {leaves}; give at least {}",
            mib(need),
            mib_up(at_least)
        )
    }

    /// Point `k`'s parts as table `point_K`, scanned and sorted by frame.
    async fn point_plan(
        &self,
        k: usize,
        meta: &PointMeta,
    ) -> Result<Arc<dyn ExecutionPlan>, String> {
        // The parts with rows (`PointMeta::scanned`); all of them if none
        // has (a point without frames: its scan is empty either way).
        let parts = match meta.scanned.is_empty() {
            true => &meta.files,
            false => &meta.scanned,
        };
        let files: Vec<String> = parts
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let name = format!("point_{k}");
        let df = self
            .ctx
            .read_parquet(
                files,
                // pktmatch keys writes a point's rows in frame order across
                // its parts (docs/keys.md): declared, DataFusion trusts it
                // within a file, proves the order of a partition's files
                // from their statistics, and drops the sort below for a
                // merge of its partitions' ordered scans, which streams
                // (the sort held a whole point: 154.7 MiB of heap on the
                // 2 M-frame bench session, 93.7 MiB without).  Where it
                // cannot prove it, the sort stays.  A file out of order
                // after all is refused by TableBuilder, not sorted.
                ParquetReadOptions::default()
                    .file_sort_order(vec![vec![col("frame").sort(true, false)]]),
            )
            .await
            .map_err(df_err)?;
        self.ctx
            .register_table(name.as_str(), df.into_view())
            .map_err(df_err)?;
        let df = self
            .ctx
            .table(name.as_str())
            .await
            .map_err(df_err)?
            .sort(vec![col("frame").sort(true, false)])
            .map_err(df_err)?;
        df.create_physical_plan().await.map_err(df_err)
    }
}

/// The least limit whose pool holds `need` bytes (the inverse of
/// [`unaccounted`]'s share).
fn pool_for(need: usize) -> usize {
    match need.saturating_mul(8) / 7 {
        l if l <= 128 << 20 => l + 1,
        _ => need.saturating_add(16 << 20),
    }
}

/// The share of a memory limit left outside the pool: an eighth, at most
/// 16 MiB.  DataFusion does not charge the column chunks a scan reads, the
/// batches its merge reads back from spill files beyond its reservation, or
/// its runtime: measured 6–14 MiB over the pool on the 2 M-frame bench
/// session's key tables (docs/engine.md).
fn unaccounted(limit: usize) -> usize {
    (limit / 8).min(16 << 20)
}

/// Least pool beside the point tables for the sorts to spill and merge
/// (measured: 4 MiB fails on the 2 M-frame bench session, 10 MiB does not).
const SORT_MIN: usize = 12 << 20;

/// The matching stage's working memory beside the point tables, per frame
/// of all points: the pairs' matches, their clock fits' and the proxy
/// step's temporaries.  Measured on the 2 M-frame bench session's key
/// tables (bench/memory-limit.sh, docs/engine.md): the heap's peak while
/// matching less the tables' is about 15 bytes per frame.
const MATCHING_PER_FRAME: usize = 16;

/// [`MATCHING_PER_FRAME`] for `frames` frames: what a limit must hold
/// beside the point tables for the run not to pass it while matching.
pub fn matching_bytes(frames: usize) -> usize {
    frames.saturating_mul(MATCHING_PER_FRAME)
}

/// The matching stage's and the index's working memory beside the point
/// tables, per frame and per connection, where the connections are known
/// (captures once read): connection pairs, their results, translations and
/// the index's records of them grow with the connections, not the frames.
/// Fitted on two sessions (2026-12-07, `PKTMATCH_TIMINGS=1`, the heap's
/// peak less the tables' `heap_bytes`): the 2 M-frame bench session
/// (40,825 connections: 25.1 MiB beside 67.8) and two scans of 200,000
/// SYNs (a connection a frame: 98.2 MiB beside 49.6), 8 bytes a frame and
/// 250 a connection; never below [`matching_bytes`], which the bench
/// session was measured against.
const MATCHING_PER_FRAME_WITH_CONNS: usize = 8;
const MATCHING_PER_CONN: usize = 250;

/// [`matching_bytes`] for `frames` frames in `conns` connections (all
/// points).
pub fn matching_bytes_with(frames: usize, conns: usize) -> usize {
    let by_conns = frames
        .saturating_mul(MATCHING_PER_FRAME_WITH_CONNS)
        .saturating_add(conns.saturating_mul(MATCHING_PER_CONN));
    matching_bytes(frames).max(by_conns)
}

/// Bytes as MiB, one decimal.
fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// Bytes as MiB, one decimal, rounded up: a limit to give (rounded to
/// the nearest, it could name one just short of what is needed).
fn mib_up(bytes: usize) -> String {
    format!("{:.1} MiB", (bytes as f64 / 1048576.0 * 10.0).ceil() / 10.0)
}

/// Runs a point's sorted scan into the matcher's table builder.
async fn fold(
    plan: Arc<dyn ExecutionPlan>,
    ctx: Arc<TaskContext>,
    capacity: usize,
) -> Result<(u64, TableBuilder), String> {
    if plan.output_partitioning().partition_count() != 1 {
        return Err("internal error: a sorted scan of more than one partition".into());
    }
    let mut stream = execute_stream(plan, ctx).map_err(df_err)?;
    let mut builder = TableBuilder::with_capacity(capacity);
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(df_err)?;
        rows += batch.num_rows() as u64;
        push_batch(&mut builder, &batch)?;
    }
    Ok((rows, builder))
}

/// Every point's tier-1 sample as a table, `threads` points at a time.
fn samples(
    tables: &[PointTable],
    threads: usize,
) -> Result<Vec<crate::tier1::Sample>, DataFusionError> {
    let made = |k: usize| crate::tier1::Sample::new(NatSample::of(&tables[k]));
    matcher::parallel(tables.len(), threads, made, || {})
        .into_iter()
        .collect()
}

/// A pair's one-to-one assignment: on a thread of its own (beside the
/// next pair's plan) or, where the system would not start one, done here.
enum Assigning<'s> {
    Thread(std::thread::ScopedJoinHandle<'s, Vec<ConnPair>>),
    Done(std::thread::Result<Vec<ConnPair>>),
}

impl Assigning<'_> {
    /// Its pairs (a panic in it: an error naming the capture points `i`
    /// and `j`, numbered from 0).
    fn joined(self, (i, j): (usize, usize)) -> Result<Vec<ConnPair>, String> {
        let done = match self {
            Assigning::Done(r) => r,
            Assigning::Thread(h) => h.join(),
        };
        done.map_err(|_| {
            format!(
                "internal error: the tier-1 assignment of capture points {} and {} panicked",
                i + 1,
                j + 1
            )
        })
    }
}

/// Spill files and bytes of a finished plan, all operators together.
fn spill_metrics(plan: &Arc<dyn ExecutionPlan>) -> (u64, u64) {
    let (mut n, mut bytes) = plan.metrics().map_or((0, 0), |m| {
        (
            m.spill_count().unwrap_or(0) as u64,
            m.spilled_bytes().unwrap_or(0) as u64,
        )
    });
    for c in plan.children() {
        let (cn, cb) = spill_metrics(c);
        n += cn;
        bytes += cb;
    }
    (n, bytes)
}

impl PairStage for Engine {
    /// Tier-1 pairing as a DataFusion join and aggregates ([`crate::tier1`]),
    /// the assignment the matcher's.  Each point's sample is made and
    /// turned into a table once, the points on the engine's partitions
    /// (each sample's vector and its columns are held only while it is
    /// turned); the pairs' plans run one after the other, each on all
    /// partitions, and a pair's assignment on a thread of its own while
    /// the next pair's plan runs.
    fn pair_nat(
        &self,
        tables: &[PointTable],
        pairs: &[(usize, usize)],
    ) -> Result<Vec<Vec<ConnPair>>, String> {
        let samples = samples(tables, self.partitions).map_err(df_err)?;
        std::thread::scope(|s| {
            let mut out = Vec::with_capacity(pairs.len());
            // The pair being assigned, and its assignment.
            let mut assigning: Option<((usize, usize), Assigning)> = None;
            for &(i, j) in pairs {
                let votes = self
                    .rt
                    .block_on(crate::tier1::votes(&self.tier1, &samples[i], &samples[j]))
                    .map_err(|e| {
                        format!(
                            "tier-1 pairing of capture points {} and {}: {}",
                            i + 1,
                            j + 1,
                            df_err(e)
                        )
                    });
                // Joined before an error goes out: a panic in it then is
                // not raised again by the scope over the error (and is the
                // error, being the earlier pair's).
                let before = assigning.take().map(|(ij, a)| a.joined(ij));
                out.extend(before.transpose()?);
                let votes = votes?;
                let (ti, tj) = (&tables[i], &tables[j]);
                // Taken by the thread, or here if it does not start.
                let votes = Arc::new(Mutex::new(Some(votes)));
                let take = |v: &Mutex<Option<_>>| {
                    let votes = v.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let votes = votes.expect("the tier-1 votes are taken once");
                    matcher::pairing::assign_nat(ti, tj, votes)
                };
                let theirs = Arc::clone(&votes);
                let a = match std::thread::Builder::new().spawn_scoped(s, move || take(&theirs)) {
                    Ok(h) => Assigning::Thread(h),
                    Err(_) => Assigning::Done(std::panic::catch_unwind(
                        std::panic::AssertUnwindSafe(|| take(&votes)),
                    )),
                };
                assigning = Some(((i, j), a));
            }
            out.extend(assigning.take().map(|(ij, a)| a.joined(ij)).transpose()?);
            Ok(out)
        })
    }

    /// As many as the plan's partitions (`MatchExec`'s gate).
    fn jobs_at_once(&self, pairs: usize) -> usize {
        pairs.min(self.partitions)
    }

    fn run(&self, pairs: usize, job: PairJob) -> Result<Vec<PairOutcome>, String> {
        let slots = Arc::new(Mutex::new((0..pairs).map(|_| None).collect::<Vec<_>>()));
        let gate = Arc::new(Gate::new(self.partitions));
        let plan: Arc<dyn ExecutionPlan> =
            Arc::new(MatchExec::new(job, pairs, Arc::clone(&slots), gate));
        let batches = self
            .rt
            .block_on(collect(plan, self.ctx.task_ctx()))
            .map_err(df_err)?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let slots = Arc::try_unwrap(slots)
            .map_err(|_| "internal error: the matching plan is still running".to_string())?
            .into_inner()
            .map_err(|_| "internal error: a matching partition panicked".to_string())?;
        if rows != pairs {
            return Err(format!(
                "internal error: {rows} of {pairs} pairs of points matched"
            ));
        }
        slots
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Err("internal error: a pair not matched".into())))
            .collect()
    }

    /// Captures (`pktmatch index FILE...`): the same up-front check as key
    /// tables', on the frames estimated from each file (none for a pipe
    /// or a compressed file: the check once read covers them).  Their
    /// tables are not scanned and sorted here, so the sorts' room is not
    /// asked.
    fn before_reading(&self, inputs: &[matcher::Input]) -> Result<(), String> {
        let checks_file = Checks::file_possible();
        let (mut frames, mut need) = (0usize, 0usize);
        let mut points = Vec::with_capacity(inputs.len());
        for i in inputs {
            let estimate = capture::estimate_frames(&i.path);
            let f = usize::try_from(estimate.unwrap_or(0)).unwrap_or(usize::MAX);
            let reserves = TableBuilder::reading_bytes(f, checks_file);
            frames = frames.saturating_add(f);
            need = need.saturating_add(reserves);
            points.push(PointReading {
                label: i.label.clone(),
                size: estimate.and(std::fs::metadata(&i.path).ok().map(|m| m.len())),
                estimate: estimate.map(|_| (f, reserves)),
                held: Default::default(),
                aside_most: 0,
            });
        }
        *self.reading.lock().unwrap_or_else(|e| e.into_inner()) = Reading { points, peak: 0 };
        let matching = matching_bytes(frames);
        match need.saturating_add(matching) > self.limit {
            true => Err(self.too_small_for(
                need,
                matching,
                "every point, estimated from the captures",
                0,
                0,
            )),
            false => Ok(()),
        }
    }

    /// Captures being read: the tables so far, all points together, past
    /// the whole limit end the run there, rather than at the check once
    /// read (the estimate before reading counts frames, not connections,
    /// and has nothing for a pipe or a compressed capture).  The tables
    /// are the heap's; the limit, not the pool, bounds them while nothing
    /// of DataFusion runs.
    fn while_reading(&self, point: usize, held: &matcher::table::Held) -> Result<(), String> {
        let mut reading = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        let Some(slot) = reading.points.get_mut(point) else {
            return Ok(());
        };
        slot.held = *held;
        slot.aside_most = slot.aside_most.max(held.aside);
        let all = reading.held();
        reading.peak = reading.peak.max(all);
        if all <= self.limit {
            return Ok(());
        }
        let give = reading.named_limit();
        Err(format!(
            "--memory-limit: the matcher's point tables passed the limit while the \
             captures were read ({} so far, of which {} frames read ahead and buffers, \
             reading {}; the limit is {}): the captures hold more than their files \
             foretold (many connections, or a compressed capture); {give}, or --engine \
             threads",
            mib(all),
            mib(reading.aside()),
            reading.points[point].label,
            mib(self.limit)
        ))
    }

    /// Captures once read: the tables as built are charged to the pool
    /// (as key tables' are), and refused with the matching stage beside
    /// them past the limit.
    fn after_reading(&self, tables: &[PointTable]) -> Result<(), String> {
        let held: usize = tables.iter().map(PointTable::heap_bytes).sum();
        let frames: usize = tables.iter().map(|t| t.recs.len()).sum();
        let conns: usize = tables.iter().map(|t| t.conns.len()).sum();
        let matching = matching_bytes_with(frames, conns);
        if held + matching > self.limit || self.tables.try_resize(held).is_err() {
            let peak = self.reading.lock().unwrap_or_else(|e| e.into_inner()).peak;
            return Err(self.too_small_for(
                held,
                matching,
                "every point, read from the captures",
                0,
                peak,
            ));
        }
        Ok(())
    }
}

/// At most so many pairs matched at once.  The blocking pool runs every
/// partition's job at the same time: with four points three pairs on two
/// cores, no faster, and every pair's working memory held together (the
/// DataFusion build's heap peak was 48.5–49 bytes a frame on the bench
/// session against 47.6 with the matcher's own threads, two at a time).
struct Gate {
    free: Mutex<usize>,
    freed: std::sync::Condvar,
}

impl Gate {
    fn new(n: usize) -> Gate {
        Gate {
            free: Mutex::new(n.max(1)),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a turn (on the blocking pool's thread: it may block).
    fn enter(&self) -> Turn<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Turn(self)
    }
}

/// A turn at the [`Gate`], given back when dropped (a panicking job too).
struct Turn<'a>(&'a Gate);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|e| e.into_inner());
        *free += 1;
        self.0.freed.notify_one();
    }
}

/// Stages 2–4 as a DataFusion operator: partition k matches the adjacent
/// pair of points k, k + 1 with the matcher's per-pair logic and emits one
/// row (pair, connection pairs, matches); the outcome itself goes to its
/// slot, for the stages after the plan.
pub struct MatchExec {
    job: PairJob,
    pairs: usize,
    slots: Arc<Mutex<Vec<Option<Result<PairOutcome, String>>>>>,
    gate: Arc<Gate>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl MatchExec {
    fn new(
        job: PairJob,
        pairs: usize,
        slots: Arc<Mutex<Vec<Option<Result<PairOutcome, String>>>>>,
        gate: Arc<Gate>,
    ) -> MatchExec {
        let schema = Arc::new(Schema::new(vec![
            Field::new("pair", DataType::UInt32, false),
            Field::new("connections", DataType::UInt64, false),
            Field::new("matches", DataType::UInt64, false),
        ]));
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(pairs.max(1)),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        MatchExec {
            job,
            pairs,
            slots,
            gate,
            schema,
            properties,
        }
    }
}

impl std::fmt::Debug for MatchExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatchExec({} pairs)", self.pairs)
    }
}

impl DisplayAs for MatchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "MatchExec: pairs={}", self.pairs)
    }
}

impl ExecutionPlan for MatchExec {
    fn name(&self) -> &str {
        "MatchExec"
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
        _context: Arc<TaskContext>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.schema);
        let job = Arc::clone(&self.job);
        let slots = Arc::clone(&self.slots);
        let gate = Arc::clone(&self.gate);
        let pairs = self.pairs;
        let out = Arc::clone(&schema);
        let fut = async move {
            if partition >= pairs {
                return Ok(RecordBatch::new_empty(out));
            }
            // The matcher's work is CPU-bound: off the async workers.
            let r = tokio::task::spawn_blocking(move || {
                let _turn = gate.enter();
                job(partition)
            })
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let (c, m) = match &r {
                Ok(o) => (o.connections() as u64, o.matches() as u64),
                Err(_) => (0, 0),
            };
            if let Ok(mut s) = slots.lock() {
                s[partition] = Some(r);
            }
            RecordBatch::try_new(
                out,
                vec![
                    Arc::new(UInt32Array::from(vec![partition as u32])),
                    Arc::new(UInt64Array::from(vec![c])),
                    Arc::new(UInt64Array::from(vec![m])),
                ],
            )
            .map_err(DataFusionError::from)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(fut),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limit a refusal names holds the tables in the pool.
    #[test]
    fn pool_for_holds_the_tables() {
        for need in [
            0,
            1,
            1000,
            7 << 20,
            100 << 20,
            112 << 20,
            113 << 20,
            5 << 30,
        ] {
            let l = pool_for(need);
            assert!(l - unaccounted(l) >= need, "need {need}: limit {l}");
        }
    }
}
