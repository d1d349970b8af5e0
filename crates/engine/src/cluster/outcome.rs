//! A pair's outcome as Arrow rows, the way it comes back from a worker.
//!
//! One schema for every row a matching task emits:
//!
//! | column | type | |
//! | --- | --- | --- |
//! | `pair` | UInt32 | adjacent pair k (points k, k + 1 in path order) |
//! | `a`, `b` | UInt32, null in the header row | the match's records (frame − 1) at k and k + 1 |
//! | `method`, `conf`, `dir` | UInt8, null in the header row | as `matcher::packets::PacketMatch` |
//! | `outcome` | Binary, null in match rows | the rest of the outcome (`matcher::wire`) |
//!
//! A pair's rows are its header row (the one with `outcome`) and one row
//! per match, in the matcher's order: the matches are columns (what Arrow
//! carries well, and most of the bytes), the small rest — clock fit,
//! connection pairs, losses, translations — one binary value.

use arrow_array::builder::{BinaryBuilder, UInt32Builder, UInt8Builder};
use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch, UInt32Array, UInt8Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use matcher::packets::PacketMatch;
use matcher::PairOutcome;
use std::sync::{Arc, OnceLock};

/// Rows per batch a task sends (Arrow Flight messages of about 1 MB).
const ROWS_PER_BATCH: usize = 1 << 16;

/// The rows' schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    Arc::clone(SCHEMA.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("pair", DataType::UInt32, false),
            Field::new("a", DataType::UInt32, true),
            Field::new("b", DataType::UInt32, true),
            Field::new("method", DataType::UInt8, true),
            Field::new("conf", DataType::UInt8, true),
            Field::new("dir", DataType::UInt8, true),
            Field::new("outcome", DataType::Binary, true),
        ]))
    }))
}

/// Pair `k`'s outcome as batches: the header row first, then the matches.
pub fn to_batches(k: u32, outcome: PairOutcome) -> Result<Vec<RecordBatch>, ArrowError> {
    let (matches, rest) = outcome.into_parts();
    let mut out = Vec::with_capacity(matches.len() / ROWS_PER_BATCH + 1);
    // The header row and the first matches share a batch.
    let mut header = Some(rest);
    let mut chunks = matches.chunks(ROWS_PER_BATCH - 1);
    loop {
        let chunk = match (header.is_some(), chunks.next()) {
            (_, Some(c)) => c,
            (true, None) => &[][..],
            (false, None) => break,
        };
        out.push(batch(k, header.take(), chunk)?);
    }
    Ok(out)
}

fn batch(
    k: u32,
    header: Option<Vec<u8>>,
    matches: &[PacketMatch],
) -> Result<RecordBatch, ArrowError> {
    let rows = matches.len() + usize::from(header.is_some());
    let mut pair = UInt32Builder::with_capacity(rows);
    let (mut a, mut b) = (
        UInt32Builder::with_capacity(rows),
        UInt32Builder::with_capacity(rows),
    );
    let (mut method, mut conf, mut dir) = (
        UInt8Builder::with_capacity(rows),
        UInt8Builder::with_capacity(rows),
        UInt8Builder::with_capacity(rows),
    );
    let mut outcome = BinaryBuilder::new();
    if let Some(h) = header {
        pair.append_value(k);
        a.append_null();
        b.append_null();
        method.append_null();
        conf.append_null();
        dir.append_null();
        outcome.append_value(h);
    }
    for m in matches {
        pair.append_value(k);
        a.append_value(m.a);
        b.append_value(m.b);
        method.append_value(m.method);
        conf.append_value(m.conf);
        dir.append_value(m.dir);
        outcome.append_null();
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(pair.finish()),
        Arc::new(a.finish()),
        Arc::new(b.finish()),
        Arc::new(method.finish()),
        Arc::new(conf.finish()),
        Arc::new(dir.finish()),
        Arc::new(outcome.finish()),
    ];
    RecordBatch::try_new(schema(), columns)
}

/// [`from_batches`] for points of `frames[k]` frames (pair k's two), each
/// outcome checked against them ([`PairOutcome::check_against`]).
pub fn from_batches_checked(
    frames: &[(u32, u32)],
    batches: &[RecordBatch],
) -> Result<Vec<PairOutcome>, String> {
    let outcomes = from_batches(frames.len(), batches)?;
    for (k, (o, &f)) in outcomes.iter().zip(frames).enumerate() {
        o.check_against(k, f)?;
    }
    Ok(outcomes)
}

/// Every pair's outcome from the rows of all tasks (any batch order; a
/// pair's rows in their order): `pairs` outcomes, each exactly once.
pub fn from_batches(pairs: usize, batches: &[RecordBatch]) -> Result<Vec<PairOutcome>, String> {
    let mut matches: Vec<Vec<PacketMatch>> = (0..pairs).map(|_| Vec::new()).collect();
    let mut rests: Vec<Option<Vec<u8>>> = (0..pairs).map(|_| None).collect();
    for batch in batches {
        let cols = Columns::of(batch)?;
        for row in 0..batch.num_rows() {
            let k = cols.pair.value(row) as usize;
            if k >= pairs {
                return Err(format!("a worker sent pair {k} of {pairs}"));
            }
            if cols.outcome.is_valid(row) {
                if rests[k].is_some() {
                    return Err(format!("pair {k} came back twice"));
                }
                rests[k] = Some(cols.outcome.value(row).to_vec());
            } else {
                matches[k].push(cols.packet_match(row)?);
            }
        }
    }
    matches
        .into_iter()
        .zip(rests)
        .enumerate()
        .map(|(k, (m, rest))| {
            let rest = rest.ok_or_else(|| format!("pair {k} did not come back"))?;
            PairOutcome::from_parts(m, &rest).map_err(|e| format!("pair {k}: {e}"))
        })
        .collect()
}

/// A batch's columns, typed.
struct Columns<'a> {
    pair: &'a UInt32Array,
    a: &'a UInt32Array,
    b: &'a UInt32Array,
    method: &'a UInt8Array,
    conf: &'a UInt8Array,
    dir: &'a UInt8Array,
    outcome: &'a BinaryArray,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a RecordBatch) -> Result<Columns<'a>, String> {
        fn col<'b, T: 'static>(batch: &'b RecordBatch, name: &str) -> Result<&'b T, String> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<T>())
                .ok_or_else(|| {
                    format!("a worker's rows have no column {name} of the expected type")
                })
        }
        Ok(Columns {
            pair: col(batch, "pair")?,
            a: col(batch, "a")?,
            b: col(batch, "b")?,
            method: col(batch, "method")?,
            conf: col(batch, "conf")?,
            dir: col(batch, "dir")?,
            outcome: col(batch, "outcome")?,
        })
    }

    fn packet_match(&self, row: usize) -> Result<PacketMatch, String> {
        let all = [
            self.a.is_valid(row),
            self.b.is_valid(row),
            self.method.is_valid(row),
            self.conf.is_valid(row),
            self.dir.is_valid(row),
        ];
        if all.contains(&false) {
            return Err("a worker sent a match row with a null column".into());
        }
        Ok(PacketMatch {
            a: self.a.value(row),
            b: self.b.value(row),
            method: self.method.value(row),
            conf: self.conf.value(row),
            dir: self.dir.value(row),
        })
    }
}
