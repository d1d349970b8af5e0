//! `pktmatch export --parquet`: the matches as Parquet, the same rows as
//! the CSV contract ([`index::for_each_match`]; docs/keys.md, "Matches as
//! Parquet"), typed: frames uint32, deltas int64 (null where the CSV field
//! is empty), confidence as the index's byte over 255.

use crate::error::Error;
use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The columns of the matches file: (name, type, nullable).
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("point_a", DataType::Utf8, false),
        Field::new("frame_a", DataType::UInt32, false),
        Field::new("point_b", DataType::Utf8, false),
        Field::new("frame_b", DataType::UInt32, false),
        Field::new("delta_raw_ns", DataType::Int64, false),
        Field::new("delta_corrected_ns", DataType::Int64, true),
        Field::new("method", DataType::Utf8, false),
        Field::new("confidence", DataType::Float64, false),
    ]))
}

struct Cols {
    point_a: StringBuilder,
    frame_a: UInt32Builder,
    point_b: StringBuilder,
    frame_b: UInt32Builder,
    raw: Int64Builder,
    corrected: Int64Builder,
    method: StringBuilder,
    confidence: Float64Builder,
    rows: usize,
}

impl Cols {
    fn new() -> Cols {
        Cols {
            point_a: StringBuilder::new(),
            frame_a: UInt32Builder::new(),
            point_b: StringBuilder::new(),
            frame_b: UInt32Builder::new(),
            raw: Int64Builder::new(),
            corrected: Int64Builder::new(),
            method: StringBuilder::new(),
            confidence: Float64Builder::new(),
            rows: 0,
        }
    }

    fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        self.rows = 0;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.point_a.finish()),
            Arc::new(self.frame_a.finish()),
            Arc::new(self.point_b.finish()),
            Arc::new(self.frame_b.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(self.corrected.finish()),
            Arc::new(self.method.finish()),
            Arc::new(self.confidence.finish()),
        ];
        RecordBatch::try_new(schema(), cols)
    }
}

const BATCH_ROWS: usize = 64 * 1024;

/// Writes every match of `ix` as Parquet to `out` (`name`: for errors);
/// returns the rows.  The Parquet writer fills a buffer that goes to `out`
/// as it grows (so `out` may be standard output, which is not `Send`).
pub fn export(ix: &index::Index<'_>, out: &mut dyn Write, name: &Path) -> Result<u64, Error> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("pktmatch {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut w =
        ArrowWriter::try_new(Vec::new(), schema(), Some(props)).map_err(Error::parquet(name))?;
    let mut c = Cols::new();
    let label = |p: u16| ix.point(p).map_or("", |p| p.label());
    let mut method = String::new();
    let rows = index::for_each_match(ix, |r| -> Result<(), Error> {
        c.point_a.append_value(label(r.point_a));
        c.frame_a.append_value(r.frame_a);
        c.point_b.append_value(label(r.point_b));
        c.frame_b.append_value(r.frame_b);
        c.raw.append_value(r.delta_raw_ns);
        c.corrected.append_option(r.delta_corrected_ns);
        method.clear();
        match ix.method_name(r.method) {
            Some(n) => method.push_str(n),
            None => method.push_str(&format!("method-{}", r.method)),
        }
        c.method.append_value(&method);
        c.confidence.append_value(f64::from(r.confidence) / 255.0);
        c.rows += 1;
        if c.rows >= BATCH_ROWS {
            let b = c.finish().map_err(Error::arrow(name))?;
            w.write(&b).map_err(Error::parquet(name))?;
            let buf = w.inner_mut();
            if buf.len() >= 1 << 20 {
                out.write_all(buf).map_err(Error::io(name))?;
                buf.clear();
            }
        }
        Ok(())
    })?;
    let b = c.finish().map_err(Error::arrow(name))?;
    w.write(&b).map_err(Error::parquet(name))?;
    let rest = w.into_inner().map_err(Error::parquet(name))?;
    out.write_all(&rest).map_err(Error::io(name))?;
    Ok(rows)
}
