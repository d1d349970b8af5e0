//! Tier-1 connection pairing as a DataFusion plan: the join of two
//! points' samples on the NAT-invariant key and the votes per pair of
//! connections, an aggregate (docs/engine.md, "The plan").
//!
//! The matcher samples every point once while it orders them
//! ([`matcher::pairing::NatSample`]: the first packets of every
//! connection direction and one in eight by key hash) and by default
//! merge-joins two sorted samples itself.  Here the same samples are two
//! tables, `a(a_key, a_cd)` and `b(b_key, b_cd)` (`cd`: connection << 1 |
//! direction), and the rule is the plan's:
//!
//! 1. B's keys, grouped: a key B saw in more than one connection decides
//!    nothing (min and max of `b_cd` in different connections); otherwise
//!    its connection and the first of its directions (the lowest `b_cd`,
//!    the first of the key's run in the sorted sample) — an aggregate;
//! 2. every A packet with such a key votes: an inner join on the key;
//! 3. the votes per (A connection, B connection, flip), flip when the two
//!    directions differ — an aggregate.
//!
//! The matcher then keeps the pairs that may be one and assigns them one
//! to one ([`matcher::pairing::assign_nat`]), as after its own join: the
//! same pairs, which crates/engine/tests/same_index.rs checks through the
//! index and this module's test directly.
//!
//! The samples come sorted by key, and the tables say so: the plan is then
//! a streaming one, both samples repartitioned by key keeping their order,
//! B's aggregate by key in key order and a sort-merge join on the key, as
//! the matcher's own merge join; only the votes' aggregate holds a hash
//! table, one entry per pair of connections.  One plan runs at a time (on
//! all partitions), so that one pair's copies of the samples are in
//! memory.  Figures (2 M-frame bench session, 2 cores): docs/engine.md.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt32Type};
use arrow_array::{RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::functions_aggregate::expr_fn::{count, max, min};
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{col, lit, DataFrame, SessionConfig, SessionContext};
use matcher::pairing::NatSample;
use std::sync::Arc;

/// The session tier-1 plans run in: the engine's runtime (its memory pool
/// and spill files), `partitions` partitions (at least 2: DataFusion plans
/// a sort-merge join only for more than one), the samples repartitioned
/// by key keeping their order (no sort again), a sort-merge join.
pub(crate) fn session(
    runtime: Arc<RuntimeEnv>,
    batch_size: usize,
    partitions: usize,
) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(partitions.max(2))
        .with_batch_size(batch_size);
    config.options_mut().optimizer.prefer_hash_join = false;
    config.options_mut().optimizer.prefer_existing_sort = true;
    config
        .options_mut()
        .optimizer
        .enable_round_robin_repartition = false;
    SessionContext::new_with_config_rt(config, runtime)
}

/// One sample as a table of two columns, `{side}_key` and `{side}_cd`,
/// declared in key order (as [`NatSample::rows`] gives them).
fn table(ctx: &SessionContext, s: &NatSample, side: &str) -> Result<DataFrame, DataFusionError> {
    let (keys, cds): (Vec<u64>, Vec<u32>) = s.rows().unzip();
    let key = format!("{side}_key");
    let schema = Arc::new(Schema::new(vec![
        Field::new(&key, DataType::UInt64, false),
        Field::new(format!("{side}_cd"), DataType::UInt32, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(UInt64Array::from(keys)),
            Arc::new(UInt32Array::from(cds)),
        ],
    )?;
    let sorted = vec![vec![col(key).sort(true, false)]];
    let table = MemTable::try_new(schema, vec![vec![batch]])?.with_sort_order(sorted);
    ctx.read_table(Arc::new(table))
}

/// The votes plan over samples `sa` and `sb`: rows (a_conn, b_conn, flip,
/// votes).
pub(crate) fn votes_plan(
    ctx: &SessionContext,
    sa: &NatSample,
    sb: &NatSample,
) -> Result<DataFrame, DataFusionError> {
    let two = || lit(2u32);
    let b = table(ctx, sb, "b")?
        .aggregate(
            vec![col("b_key")],
            vec![
                min(col("b_cd")).alias("b_first"),
                max(col("b_cd")).alias("b_last"),
            ],
        )?
        // One connection: the first and the last direction's connection.
        .filter((col("b_first") / two()).eq(col("b_last") / two()))?;
    table(ctx, sa, "a")?
        .join(b, JoinType::Inner, &["a_key"], &["b_key"], None)?
        .aggregate(
            vec![
                (col("a_cd") / two()).alias("a_conn"),
                (col("b_first") / two()).alias("b_conn"),
                (col("a_cd") % two())
                    .not_eq(col("b_first") % two())
                    .alias("flip"),
            ],
            vec![count(lit(1)).alias("votes")],
        )
}

/// The votes of samples `sa` and `sb`: ((A connection, B connection,
/// flip), votes), each triple once, in no order.
pub(crate) async fn votes(
    ctx: &SessionContext,
    sa: &NatSample,
    sb: &NatSample,
) -> Result<Vec<((u32, u32, bool), u64)>, DataFusionError> {
    if sa.is_empty() || sb.is_empty() {
        return Ok(Vec::new());
    }
    let batches = votes_plan(ctx, sa, sb)?.collect().await?;
    let mut out = Vec::new();
    for b in &batches {
        let [a, bc, flip, n] = b.columns() else {
            return Err(DataFusionError::Internal(format!(
                "the votes plan gave {} columns, not 4",
                b.num_columns()
            )));
        };
        let (a, bc) = (
            a.as_primitive::<UInt32Type>(),
            bc.as_primitive::<UInt32Type>(),
        );
        let (flip, n) = (flip.as_boolean(), n.as_primitive::<Int64Type>());
        for i in 0..b.num_rows() {
            let votes = u64::try_from(n.value(i)).unwrap_or(0);
            out.push(((a.value(i), bc.value(i), flip.value(i)), votes));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::plan::{Engine, EngineOptions};
    use datafusion::physical_plan::displayable;
    use matcher::pairing::{pair_nat_sampled, NatSample};
    use matcher::table::{read_point, PointTable};
    use matcher::PairStage;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn data(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    /// Through the plan's join and aggregates, every pair of points gets
    /// the merge join's tier-1 pairs (the same pairs, votes and order): the
    /// example session's four points (a source NAT, a destination NAT, a
    /// full proxy) and the real NAT pair of tests/data, read from the
    /// captures.  The physical plan holds a hash join and aggregates.
    #[test]
    fn the_plans_join_gives_the_merge_joins_pairs() {
        let e = Engine::new(&EngineOptions {
            partitions: 2,
            memory_limit: 1 << 30,
            spill_dir: None,
        })
        .expect("engine");
        let session = ["client", "wan", "dc", "lbserver"]
            .map(|p| data(&format!("examples/session-small/{p}.pcapng")));
        let nat = ["client", "wan"].map(|p| data(&format!("tests/data/real-nat-{p}.pcapng")));
        let mut pairs = 0;
        let mut flips = 0;
        for points in [&session[..], &nat[..]] {
            let tables: Vec<PointTable> = points
                .iter()
                .map(|p| read_point(p, |_| {}).expect("capture"))
                .collect();
            let samples: Vec<NatSample> = tables.iter().map(NatSample::of).collect();
            for i in 0..tables.len() {
                for j in i + 1..tables.len() {
                    let (ta, tb) = (&tables[i], &tables[j]);
                    let want = pair_nat_sampled(ta, &samples[i], tb, &samples[j]);
                    let got = e.pair_nat(ta, &samples[i], tb, &samples[j]).expect("plan");
                    assert_eq!(
                        got,
                        want,
                        "{} and {}",
                        points[i].display(),
                        points[j].display()
                    );
                    pairs += want.len();
                    flips += want.iter().filter(|p| p.flip).count();
                }
            }
        }
        assert!(pairs > 20 && flips > 0, "{pairs} pairs, {flips} flipped");
        let s = NatSample::of(&read_point(&session[0], |_| {}).expect("capture"));
        let ctx = super::session(Arc::new(Default::default()), 8192, 2);
        let df = super::votes_plan(&ctx, &s, &s).expect("plan");
        let plan = futures::executor::block_on(df.create_physical_plan()).expect("physical plan");
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        eprintln!("{pairs} pairs, {flips} flipped");
        // A streaming plan: a merge join and an aggregate by key in key
        // order, repartitioned keeping the order, nothing sorted again.
        assert!(shown.contains("SortMergeJoinExec"), "{shown}");
        assert!(shown.contains("ordering_mode=Sorted"), "{shown}");
        assert!(!shown.contains("SortExec"), "{shown}");
        assert!(shown.matches("AggregateExec").count() >= 2, "{shown}");
    }
}
