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
//! table, one entry per pair of connections.  Each point's sample is
//! turned into its table once (its vector given up for the columns), and
//! one pair's plan runs at a time, on all partitions.  Figures (2 M-frame
//! bench session, 2 cores): docs/engine.md.

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

/// A point's sample as a table of two columns, `key` and `cd`, declared
/// in key order (as [`NatSample::into_columns`] gives them): made once per
/// point, read by every pair it is in (an Arrow array is shared, not
/// copied).
pub(crate) struct Sample {
    table: Arc<MemTable>,
    rows: usize,
}

impl Sample {
    pub(crate) fn new(s: NatSample) -> Result<Sample, DataFusionError> {
        let (keys, cds) = s.into_columns();
        // DataFusion trusts a declared order without checking it.
        debug_assert!(keys.is_sorted());
        let rows = keys.len();
        let schema = Arc::new(Schema::new(vec![
            Field::new("key", DataType::UInt64, false),
            Field::new("cd", DataType::UInt32, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(UInt64Array::from(keys)),
                Arc::new(UInt32Array::from(cds)),
            ],
        )?;
        let sorted = vec![vec![col("key").sort(true, false)]];
        let table = MemTable::try_new(schema, vec![vec![batch]])?.with_sort_order(sorted);
        Ok(Sample {
            table: Arc::new(table),
            rows,
        })
    }

    /// The sample as `{side}_key`, `{side}_cd`.
    fn read(&self, ctx: &SessionContext, side: &str) -> Result<DataFrame, DataFusionError> {
        ctx.read_table(Arc::clone(&self.table) as _)?.select(vec![
            col("key").alias(format!("{side}_key")),
            col("cd").alias(format!("{side}_cd")),
        ])
    }
}

/// The votes plan over samples `sa` and `sb`: rows (a_conn, b_conn, flip,
/// votes).
pub(crate) fn votes_plan(
    ctx: &SessionContext,
    sa: &Sample,
    sb: &Sample,
) -> Result<DataFrame, DataFusionError> {
    let two = || lit(2u32);
    let b = sb
        .read(ctx, "b")?
        .aggregate(
            vec![col("b_key")],
            vec![
                min(col("b_cd")).alias("b_first"),
                max(col("b_cd")).alias("b_last"),
            ],
        )?
        // One connection: the first and the last direction's connection.
        .filter((col("b_first") / two()).eq(col("b_last") / two()))?;
    sa.read(ctx, "a")?
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
    sa: &Sample,
    sb: &Sample,
) -> Result<Vec<((u32, u32, bool), u64)>, DataFusionError> {
    if sa.rows == 0 || sb.rows == 0 {
        return Ok(Vec::new());
    }
    let batches = votes_plan(ctx, sa, sb)?.collect().await?;
    let mut out = Vec::new();
    let wrong = || {
        DataFusionError::Internal("the votes plan's columns are not (u32, u32, bool, i64)".into())
    };
    for b in &batches {
        let [a, bc, flip, n] = b.columns() else {
            return Err(wrong());
        };
        let (Some(a), Some(bc), Some(flip), Some(n)) = (
            a.as_primitive_opt::<UInt32Type>(),
            bc.as_primitive_opt::<UInt32Type>(),
            flip.as_boolean_opt(),
            n.as_primitive_opt::<Int64Type>(),
        ) else {
            return Err(wrong());
        };
        for i in 0..b.num_rows() {
            let votes = u64::try_from(n.value(i)).unwrap_or(0);
            out.push(((a.value(i), bc.value(i), flip.value(i)), votes));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{session, votes, votes_plan, Sample};
    use crate::plan::{Engine, EngineOptions};
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;
    use matcher::pairing::{nat_votes_sampled, pair_nat_sampled, NatSample};
    use matcher::table::{read_point, PointTable};
    use matcher::PairStage;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn data(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    /// The plan's votes, sorted, against the merge join's.
    fn plan_votes(
        ctx: &SessionContext,
        sa: NatSample,
        sb: NatSample,
    ) -> Vec<((u32, u32, bool), u64)> {
        let (a, b) = (Sample::new(sa).expect("a"), Sample::new(sb).expect("b"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime");
        let mut v = rt.block_on(votes(ctx, &a, &b)).expect("votes");
        v.sort_unstable();
        v
    }

    fn merge_votes(sa: &NatSample, sb: &NatSample) -> Vec<((u32, u32, bool), u64)> {
        let mut v: Vec<_> = nat_votes_sampled(sa, sb).into_iter().collect();
        v.sort_unstable();
        v
    }

    /// Through the plan's join and aggregates, every pair of points gets
    /// the merge join's tier-1 pairs (the same pairs, votes and order) and
    /// votes: the example session's four points (a source NAT, a
    /// destination NAT, a full proxy) and the real NAT pair of tests/data,
    /// read from the captures.
    #[test]
    fn the_plans_join_gives_the_merge_joins_pairs() {
        let e = Engine::new(&EngineOptions {
            partitions: 2,
            memory_limit: 1 << 30,
            spill_dir: None,
        })
        .expect("engine");
        let ctx = session(Arc::new(Default::default()), 8192, 2);
        let session_points = ["client", "wan", "dc", "lbserver"]
            .map(|p| data(&format!("examples/session-small/{p}.pcapng")));
        let nat = ["client", "wan"].map(|p| data(&format!("tests/data/real-nat-{p}.pcapng")));
        let (mut pairs, mut flips, mut votes_seen) = (0, 0, 0);
        for points in [&session_points[..], &nat[..]] {
            let tables: Vec<PointTable> = points
                .iter()
                .map(|p| read_point(p, |_| {}).expect("capture"))
                .collect();
            let ij: Vec<(usize, usize)> = (0..tables.len())
                .flat_map(|i| (i + 1..tables.len()).map(move |j| (i, j)))
                .collect();
            let got = e.pair_nat(&tables, &ij).expect("plan");
            for (&(i, j), got) in ij.iter().zip(got) {
                let (sa, sb) = (NatSample::of(&tables[i]), NatSample::of(&tables[j]));
                let want = pair_nat_sampled(&tables[i], &sa, &tables[j], &sb);
                let name = format!("{} and {}", points[i].display(), points[j].display());
                assert_eq!(got, want, "{name}");
                pairs += want.len();
                flips += want.iter().filter(|p| p.flip).count();
                let merge = merge_votes(&sa, &sb);
                assert_eq!(plan_votes(&ctx, sa, sb), merge, "votes of {name}");
                votes_seen += merge.len();
            }
        }
        assert!(pairs > 20 && flips > 0, "{pairs} pairs, {flips} flipped");
        assert!(votes_seen >= pairs, "{votes_seen} votes");
    }

    /// The plan's votes are the merge join's on samples made to hold what
    /// real ones rarely do: keys B saw in two connections (no vote), in
    /// both directions of one (flip as to its first), repeated rows, keys
    /// at the ends of the u64 range, connection numbers near 2^30, and
    /// empty samples.
    #[test]
    fn the_plans_votes_are_the_merge_joins_on_made_samples() {
        let ctx = session(Arc::new(Default::default()), 64, 2);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut ambiguous, mut both_ways) = (0, 0);
        for case in 0..60 {
            let rows = |next: &mut dyn FnMut() -> u64, n: u64| -> Vec<(u64, u32)> {
                (0..n)
                    .map(|_| {
                        let r = next();
                        let key = match r % 7 {
                            0 => u64::MAX - r % 3,
                            _ => r % 40,
                        };
                        let conn = match (r >> 8) % 9 {
                            0 => (1 << 30) + (r >> 16) as u32 % 3,
                            _ => (r >> 16) as u32 % 6,
                        };
                        (key, (conn << 1) | ((r >> 40) as u32 % 2))
                    })
                    .collect()
            };
            let (na, nb) = match case {
                0 => (0, 30),
                1 => (30, 0),
                _ => (next() % 300, next() % 300),
            };
            let (ra, rb) = (rows(&mut next, na), rows(&mut next, nb));
            for &(k, _) in &rb {
                let of_key: Vec<u32> = rb.iter().filter(|r| r.0 == k).map(|r| r.1).collect();
                ambiguous += usize::from(of_key.iter().any(|c| c >> 1 != of_key[0] >> 1));
                both_ways += usize::from(of_key.iter().any(|c| c ^ of_key[0] == 1));
            }
            let (sa, sb) = (
                NatSample::from_rows(ra.clone()),
                NatSample::from_rows(rb.clone()),
            );
            let want = merge_votes(&sa, &sb);
            let got = plan_votes(&ctx, NatSample::from_rows(ra), NatSample::from_rows(rb));
            assert_eq!(got, want, "case {case}");
        }
        assert!(
            ambiguous > 100 && both_ways > 100,
            "{ambiguous} {both_ways}"
        );
    }

    /// The physical plan is a streaming one: a merge join and an aggregate
    /// by key in key order, repartitioned keeping the order, nothing
    /// sorted again.
    #[test]
    fn the_plan_streams() {
        let s = || {
            Sample::new(NatSample::from_rows(
                (0..1000u64).map(|k| (k * 7, k as u32)),
            ))
            .expect("sample")
        };
        let ctx = session(Arc::new(Default::default()), 8192, 2);
        let df = votes_plan(&ctx, &s(), &s()).expect("plan");
        let plan = futures::executor::block_on(df.create_physical_plan()).expect("physical plan");
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert!(shown.contains("SortMergeJoinExec"), "{shown}");
        assert!(shown.contains("ordering_mode=Sorted"), "{shown}");
        assert!(!shown.contains("SortExec"), "{shown}");
        assert!(shown.matches("AggregateExec").count() >= 2, "{shown}");
    }
}
