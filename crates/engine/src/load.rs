//! `pktmatch index --keys DIR`: the key tables back into the matcher's
//! point tables ([`matcher::table::TableBuilder`]), checked for being whole.

use crate::batch::msg_kind_from;
use crate::error::Error;
use crate::schema::{self, col, meta, COLUMNS};
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampNanosecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch, StringArray};
use capture::{FlowKey, PacketKey};
use matcher::table::{FrameRow, PointTable, TableBuilder};
use matcher::Input;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One point read back.
#[derive(Debug)]
pub struct LoadedPoint {
    pub label: String,
    /// The capture the keys were taken from (absolute path).
    pub capture: PathBuf,
    /// Its size in bytes when the keys were taken.
    pub capture_size: u64,
    /// Its position among the points `pktmatch keys` was given.
    pub given: u16,
    pub table: PointTable,
}

/// What `matcher::run_tables` takes: the points as inputs (positions from
/// 0 in the order given: tables written by several `pktmatch keys` runs
/// each start at 0), their captures' sizes, their tables.
pub fn into_inputs(points: Vec<LoadedPoint>) -> (Vec<Input>, Vec<u64>, Vec<PointTable>) {
    let mut inputs = Vec::with_capacity(points.len());
    let mut sizes = Vec::with_capacity(points.len());
    let mut tables = Vec::with_capacity(points.len());
    for (k, p) in points.into_iter().enumerate() {
        inputs.push(Input {
            label: p.label,
            path: p.capture,
            given: Some(k as u16),
        });
        sizes.push(p.capture_size);
        tables.push(p.table);
    }
    (inputs, sizes, tables)
}

/// The points of a key table directory (`point=LABEL` subdirectories), in
/// the order `pktmatch keys` was given them.
pub fn point_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let e = e.map_err(Error::io(dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(label) = name.strip_prefix("point=") {
            if e.file_type().map_err(Error::io(dir))?.is_dir() {
                out.push((label.to_string(), e.path()));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::format(
            dir,
            "no key tables here (point=LABEL directories written by pktmatch keys)",
        ));
    }
    out.sort();
    Ok(out)
}

/// Reads every point of `dir`, the points in parallel.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedPoint>, Error> {
    let dirs = point_dirs(dir)?;
    let results: Vec<Result<LoadedPoint, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|(label, d)| matcher::beside::beside(s, move || load_point(label, d)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::format(
                        dir,
                        "internal error: a reader thread panicked",
                    ))
                })
            })
            .collect()
    });
    let mut points = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    points.sort_by(|a, b| (a.given, &a.label).cmp(&(b.given, &b.label)));
    Ok(points)
}

/// The part files of one point, in order.
fn parts(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("part-") && n.ends_with(".parquet"))
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(Error::format(dir, "no part-*.parquet files"));
    }
    Ok(v)
}

/// What the footers of a point's parts say, checked: the parts numbered
/// 0…n from one capture, the expected schema, the last with the frame
/// count.
#[derive(Debug)]
pub(crate) struct PointMeta {
    pub files: Vec<PathBuf>,
    /// The parts that hold rows: what the DataFusion plan scans.  A point
    /// whose frame count is a multiple of the rows per part ends in an
    /// empty part (it carries the frame count), whose `frame` column has no
    /// statistics: with it among the files DataFusion could not prove
    /// their order, and sorted the point (a CI lab run of 5,100 frames at
    /// 100 rows a part spilled, where the order should have streamed).
    #[cfg_attr(not(feature = "datafusion"), allow(dead_code))]
    pub scanned: Vec<PathBuf>,
    /// Rows in all parts together (the last part's count).
    pub frames: u64,
    /// Blocks of the point whose time stamps its table keeps whole (None:
    /// not recorded, every block counted so).  Read by the DataFusion
    /// plan's memory limit only.
    #[cfg_attr(not(feature = "datafusion"), allow(dead_code))]
    pub whole_blocks: Option<u64>,
    /// Rows the parts' footers say they hold (what a table is sized for:
    /// not the count above, which a damaged footer could make huge).
    pub rows_in_parts: u64,
    /// The highest frame number the last part's statistics give (None: no
    /// statistics).  Above the rows where frames hold no packet (pcapng
    /// custom blocks): the table has a record for each.
    pub last_frame: Option<u64>,
    pub truncated: Option<String>,
    pub capture: PathBuf,
    pub capture_size: u64,
    pub given: u16,
}

/// Reads and checks the footers of one point's parts.
pub(crate) fn read_meta(dir: &Path, label: &str) -> Result<PointMeta, Error> {
    let files = parts(dir)?;
    let mut first: Option<HashMap<String, String>> = None;
    let mut frames = None;
    let mut whole_blocks = None;
    let mut truncated = None;
    let mut rows_in_parts = 0u64;
    let mut last_frame = None;
    let mut scanned = Vec::with_capacity(files.len());
    for (n, path) in files.iter().enumerate() {
        let file = File::open(path).map_err(Error::io(path))?;
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(Error::parquet(path))?;
        let rows = reader.metadata().file_metadata().num_rows().max(0) as u64;
        rows_in_parts += rows;
        if rows > 0 {
            scanned.push(path.clone());
        }
        let kv: HashMap<String, String> = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|v| {
                v.iter()
                    .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        check_part(path, &kv, label, n, first.as_ref())?;
        check_schema(path, reader.schema())?;
        if let Some(f) = kv.get(meta::FRAMES) {
            last_frame = highest_frame(reader.metadata());
            if n + 1 != files.len() {
                return Err(Error::format(
                    path,
                    "says it is the last part, but more follow: a mix of two runs?",
                ));
            }
            frames = Some(
                f.parse()
                    .map_err(|_| Error::format(path, "bad frame count"))?,
            );
        }
        if let Some(w) = kv.get(meta::WHOLE_BLOCKS) {
            whole_blocks = Some(
                w.parse()
                    .map_err(|_| Error::format(path, "bad count of whole time stamp blocks"))?,
            );
        }
        if let Some(t) = kv.get(meta::TRUNCATED) {
            truncated = Some(t.clone());
        }
        first.get_or_insert(kv);
    }
    let last = files.last().map_or(dir, |p| p.as_path());
    let Some(frames) = frames else {
        return Err(Error::format(
            last,
            "the key table is not whole (its last part lacks the frame count: \
             pktmatch keys did not finish); write it again",
        ));
    };
    let kv = first.unwrap_or_default();
    let get = |k: &str| {
        kv.get(k)
            .cloned()
            .ok_or_else(|| Error::format(&files[0], format!("no {k} in its metadata")))
    };
    let capture = PathBuf::from(get(meta::CAPTURE)?);
    let capture_size = get(meta::CAPTURE_SIZE)?
        .parse()
        .map_err(|_| Error::format(&files[0], "bad capture size"))?;
    let given = get(meta::GIVEN)?
        .parse()
        .map_err(|_| Error::format(&files[0], "bad point position"))?;
    Ok(PointMeta {
        files,
        scanned,
        frames,
        whole_blocks,
        rows_in_parts,
        last_frame,
        truncated,
        capture,
        capture_size,
        given,
    })
}

impl PointMeta {
    /// Frames to size the point's table for: its rows, and a record for
    /// each frame without a packet between them — the last frame number
    /// when the statistics give it, held between the rows and
    /// `FRAMES_WITHOUT_ROWS` more (sized by the rows alone, the records of
    /// those frames made its vectors grow to twice what they hold; a
    /// damaged statistic must not reserve more than the bound).
    pub(crate) fn capacity(&self) -> usize {
        let rows = self.frames.min(self.rows_in_parts);
        let most = rows.saturating_add(rows / FRAMES_WITHOUT_ROWS.0 + FRAMES_WITHOUT_ROWS.1);
        let frames = self.last_frame.map_or(rows, |f| f.clamp(rows, most));
        usize::try_from(frames).unwrap_or(0)
    }

    /// Bytes its table needs at most while it is built, with (`checks_file`)
    /// or without a temporary file for its checks
    /// ([`TableBuilder::bytes_for`]).
    #[cfg(feature = "datafusion")]
    pub(crate) fn table_bytes(&self, checks_file: bool) -> usize {
        let frames = self.capacity();
        let blocks = matcher::table::Times::blocks(frames);
        let whole = self
            .whole_blocks
            .map_or(blocks, |w| usize::try_from(w).unwrap_or(blocks));
        TableBuilder::bytes_for(frames, whole, checks_file)
    }

    /// The point once its rows are in `table`: refused unless they are as
    /// many as the last part says.
    pub(crate) fn finish(
        self,
        label: &str,
        rows: u64,
        builder: TableBuilder,
    ) -> Result<LoadedPoint, Error> {
        if rows != self.frames {
            let last = self.files.last().cloned().unwrap_or_default();
            return Err(Error::format(
                &last,
                format!(
                    "the point has {rows} frames in its parts, its last part says {}",
                    self.frames
                ),
            ));
        }
        let table = builder.finish(self.truncated);
        Ok(LoadedPoint {
            label: label.to_string(),
            capture: self.capture,
            capture_size: self.capture_size,
            given: self.given,
            table,
        })
    }
}

/// Frames without a row (pcapng custom or journal blocks: a few) a table
/// is sized for at most: one per `.0` rows and `.1` more.
const FRAMES_WITHOUT_ROWS: (u64, u64) = (16, 65_536);

/// The largest `frame` in a part's row group statistics (None if a row
/// group has none).
fn highest_frame(meta: &parquet::file::metadata::ParquetMetaData) -> Option<u64> {
    use parquet::file::statistics::Statistics;
    let columns = meta.file_metadata().schema_descr().columns();
    let k = columns.iter().position(|c| c.name() == "frame")?;
    let mut top = None;
    for group in meta.row_groups() {
        let Some(Statistics::Int32(s)) = group.column(k).statistics() else {
            return None;
        };
        // A UINT_32 column's values, stored as INT32 bit patterns.
        let max = u64::from(*s.max_opt()? as u32);
        top = top.max(Some(max));
    }
    top
}

/// Rows per batch read back: the points load at once (one thread each), each
/// holding a decoded batch of about 60 bytes a row beside its table; at
/// 64 Ki rows that was 25 MiB over the tables (the heap's peak on the
/// 2 M-frame bench session's keys 117.5 MiB against 92.8 from its
/// captures), at 8 Ki it is 3 MiB and the peak is the matching stage's.
const LOAD_BATCH_ROWS: usize = 8 * 1024;

/// Reads one point's parts into a point table, one part after the other.
pub fn load_point(label: &str, dir: &Path) -> Result<LoadedPoint, Error> {
    let meta = read_meta(dir, label)?;
    let mut builder = TableBuilder::with_capacity(meta.capacity());
    let mut rows = 0u64;
    for path in &meta.files {
        let file = File::open(path).map_err(Error::io(path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(Error::parquet(path))?
            .with_batch_size(LOAD_BATCH_ROWS)
            .build()
            .map_err(Error::parquet(path))?;
        for batch in reader {
            let batch = batch.map_err(Error::arrow(path))?;
            rows += batch.num_rows() as u64;
            push_batch(&mut builder, &batch).map_err(|e| Error::format(path, e))?;
        }
    }
    meta.finish(label, rows, builder)
}

/// Version, label and part number as expected, and the same capture as
/// the point's first part.
fn check_part(
    path: &Path,
    kv: &HashMap<String, String>,
    label: &str,
    n: usize,
    first: Option<&HashMap<String, String>>,
) -> Result<(), Error> {
    match kv.get(meta::VERSION).map(String::as_str) {
        Some(schema::VERSION) => {}
        Some(v) => {
            return Err(Error::format(
                path,
                format!(
                    "key table version {v}; this pktmatch reads version {}",
                    schema::VERSION
                ),
            ))
        }
        None => return Err(Error::format(path, "not a pktmatch key table (no version)")),
    }
    if kv.get(meta::LABEL).map(String::as_str) != Some(label) {
        return Err(Error::format(
            path,
            format!("its label is not {label:?}, its directory's: moved from another point?"),
        ));
    }
    if kv.get(meta::PART) != Some(&n.to_string()) {
        return Err(Error::format(
            path,
            format!("expected part {n} here: a part is missing"),
        ));
    }
    if let Some(f) = first {
        if f.get(meta::CAPTURE) != kv.get(meta::CAPTURE) {
            return Err(Error::format(path, "from another capture than part 0"));
        }
    }
    Ok(())
}

fn check_schema(path: &Path, s: &arrow_schema::Schema) -> Result<(), Error> {
    for c in &COLUMNS {
        match s.field_with_name(c.name) {
            Ok(f) if *f.data_type() == c.ty.arrow() => {}
            Ok(f) => {
                return Err(Error::format(
                    path,
                    format!(
                        "column {} is {}, expected {}",
                        c.name,
                        f.data_type(),
                        c.ty.name()
                    ),
                ))
            }
            Err(_) => return Err(Error::format(path, format!("no column {}", c.name))),
        }
    }
    Ok(())
}

/// A primitive column of the batch (its type was checked).
fn prim<'a, T: ArrowPrimitiveType>(
    b: &'a RecordBatch,
    c: usize,
) -> Result<&'a PrimitiveArray<T>, String> {
    b.column_by_name(COLUMNS[c].name)
        .and_then(|a| a.as_primitive_opt::<T>())
        .ok_or_else(|| format!("column {} missing or of another type", COLUMNS[c].name))
}

fn text<'a>(b: &'a RecordBatch, c: usize) -> Result<&'a StringArray, String> {
    b.column_by_name(COLUMNS[c].name)
        .and_then(|a| a.as_string_opt::<i32>())
        .ok_or_else(|| format!("column {} missing or of another type", COLUMNS[c].name))
}

/// 16-byte address as FlowKey keeps it (IPv4 mapped).
fn addr16(s: &str) -> Option<[u8; 16]> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some(a.to_ipv6_mapped().octets()),
        IpAddr::V6(a) => Some(a.octets()),
    }
}

pub(crate) fn push_batch(b: &mut TableBuilder, batch: &RecordBatch) -> Result<(), String> {
    let frame = prim::<UInt32Type>(batch, col::FRAME)?;
    let ts = prim::<TimestampNanosecondType>(batch, col::TS)?;
    let check = prim::<UInt32Type>(batch, col::CHECK)?;
    let conn_hash = prim::<UInt64Type>(batch, col::CONN_HASH)?;
    let ipv = prim::<UInt8Type>(batch, col::IP_VERSION)?;
    let (src, dst) = (text(batch, col::SRC_ADDR)?, text(batch, col::DST_ADDR)?);
    let sport = prim::<UInt16Type>(batch, col::SRC_PORT)?;
    let dport = prim::<UInt16Type>(batch, col::DST_PORT)?;
    let proto = prim::<UInt8Type>(batch, col::IP_PROTO)?;
    let ttl = prim::<UInt8Type>(batch, col::TTL)?;
    let ip_id = prim::<UInt32Type>(batch, col::IP_ID)?;
    let frag = prim::<UInt16Type>(batch, col::FRAG_OFFSET)?;
    let seq = prim::<UInt32Type>(batch, col::SEQ)?;
    let ack = prim::<UInt32Type>(batch, col::ACK)?;
    let tcp_flags = prim::<UInt8Type>(batch, col::TCP_FLAGS)?;
    let tsval = prim::<UInt32Type>(batch, col::TSVAL)?;
    let l4_len = prim::<UInt32Type>(batch, col::L4_LEN)?;
    let digest = prim::<UInt32Type>(batch, col::DIGEST)?;
    let app = prim::<UInt64Type>(batch, col::APP)?;
    let flags = prim::<UInt16Type>(batch, col::KEY_FLAGS)?;
    let encap = prim::<UInt8Type>(batch, col::ENCAP)?;
    let msg_kind = prim::<UInt8Type>(batch, col::MSG_KIND)?;
    let msg_value = prim::<UInt64Type>(batch, col::MSG_VALUE)?;
    if frame.null_count() + ts.null_count() + check.null_count() > 0 {
        return Err("frame, ts and check must not be null".into());
    }
    for i in 0..batch.num_rows() {
        let keys = if conn_hash.is_null(i) {
            None
        } else {
            let bad = |what: &str| format!("frame {}: {what}", frame.value(i));
            let flow = FlowKey {
                src: addr16(src.value(i)).ok_or_else(|| bad("bad src_addr"))?,
                dst: addr16(dst.value(i)).ok_or_else(|| bad("bad dst_addr"))?,
                sport: sport.value(i),
                dport: dport.value(i),
                proto: proto.value(i),
                ipv6: ipv.value(i) == 6,
            };
            let key = PacketKey {
                conn_hash: conn_hash.value(i),
                app: app.value(i),
                seq: seq.value(i),
                ack: ack.value(i),
                tsval: tsval.value(i),
                ip_id: ip_id.value(i),
                l4_len: l4_len.value(i),
                digest: digest.value(i),
                frag_offset: frag.value(i),
                flags: flags.value(i),
                proto: proto.value(i),
                tcp_flags: tcp_flags.value(i),
                ttl: ttl.value(i),
                encap: encap.value(i),
            };
            Some((flow, key))
        };
        let msg = if msg_kind.is_null(i) {
            None
        } else {
            msg_kind_from(msg_kind.value(i)).map(|k| (k, msg_value.value(i)))
        };
        b.push(&FrameRow {
            frame: frame.value(i),
            ts_ns: ts.value(i),
            check: check.value(i),
            keys: keys.as_ref().map(|(f, k)| (f, k)),
            msg,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{point_dir, write_point, PointSpec, WriteOptions};

    fn block(kind: u32, mut body: Vec<u8>) -> Vec<u8> {
        body.resize(body.len().div_ceil(4) * 4, 0);
        let len = (12 + body.len()) as u32;
        let mut v = [kind.to_le_bytes(), len.to_le_bytes()].concat();
        v.extend_from_slice(&body);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    /// A pcapng of `packets` 60-byte frames with `custom` custom blocks
    /// (frames without a packet) among them, as key tables in `dir`.
    fn key_table(dir: &Path, packets: u32, custom: u32) -> PathBuf {
        let words = |xs: &[u32]| -> Vec<u8> { xs.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let mut file = block(
            0x0A0D_0D0A,
            [words(&[0x1A2B_3C4D, 1]), vec![0xFF; 8]].concat(),
        );
        file.extend(block(1, words(&[1, 65535])));
        let every = (packets / custom.max(1)).max(1);
        for k in 0..packets {
            if custom > 0 && k % every == 0 && k / every < custom {
                file.extend(block(0x0BAD, b"\xd9\x7e\0\0pktmatch".to_vec()));
            }
            let t = 1_700_000_000_000_000u64 + u64::from(k);
            let mut epb = words(&[0, (t >> 32) as u32, t as u32, 60, 60]);
            epb.extend_from_slice(&[0u8; 60]);
            file.extend(block(6, epb));
        }
        let pcap = dir.join("gaps.pcapng");
        std::fs::write(&pcap, file).expect("write pcapng");
        let spec = PointSpec {
            label: "gaps".into(),
            capture: pcap,
            given: 0,
        };
        let options = WriteOptions {
            rows_per_group: 1000,
            rows_per_part: 3000,
            ..WriteOptions::default()
        };
        write_point(&spec, &dir.join("keys"), &options).expect("keys");
        point_dir(&dir.join("keys"), "gaps")
    }

    /// Frames without a packet have no row but a record in the table: the
    /// table is sized for them from the frame column's statistics (sized by
    /// the rows, its exactly reserved vectors doubled at the first).
    #[test]
    fn a_table_is_sized_for_its_frames_without_packets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = key_table(dir.path(), 10_000, 7);
        let meta = read_meta(&keys, "gaps").expect("meta");
        assert!(meta.files.len() > 1, "several parts");
        assert_eq!((meta.frames, meta.last_frame), (10_000, Some(10_007)));
        assert_eq!(meta.capacity(), 10_007);
        let point = load_point("gaps", &keys).expect("load");
        assert_eq!(point.table.recs.len(), 10_007);
    }

    /// The same table rewritten by pyarrow (crates/pktmatch/tests/
    /// keys_rewrite.py; tools/pyarrow-venv.sh installs it from PyPI): its
    /// row groups and `frame` statistics are pyarrow's own, read here as
    /// the last frame (pyarrow's defaults, groups of 50 rows), or absent
    /// (written without statistics: sized by the rows).
    #[test]
    fn a_table_rewritten_by_pyarrow_is_sized_from_its_statistics() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = std::process::Command::new("sh")
            .arg(here.join("../../tools/pyarrow-venv.sh"))
            .output()
            .expect("run tools/pyarrow-venv.sh");
        assert!(
            venv.status.success(),
            "{}",
            String::from_utf8_lossy(&venv.stderr)
        );
        let python = String::from_utf8_lossy(&venv.stdout)
            .lines()
            .last()
            .expect("python")
            .trim()
            .to_string();
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = key_table(dir.path(), 10_000, 7);
        for (mode, last) in [
            ("defaults", Some(10_007)),
            ("small-groups", Some(10_007)),
            ("no-statistics", None),
        ] {
            let out = dir.path().join(mode);
            let run = std::process::Command::new(&python)
                .arg(here.join("../pktmatch/tests/keys_rewrite.py"))
                .args([keys.as_os_str(), out.as_os_str()])
                .arg(mode)
                .output()
                .expect("run keys_rewrite.py");
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            let meta = read_meta(&out, "gaps").expect("meta");
            assert_eq!((meta.frames, meta.last_frame), (10_000, last), "{mode}");
            let point = load_point("gaps", &out).expect("load");
            assert_eq!(point.table.recs.len(), 10_007, "{mode}");
        }
    }

    /// A last frame number past the bound (a damaged statistic) sizes for
    /// the bound, none or one below the rows for the rows.
    #[test]
    fn a_damaged_frame_statistic_sizes_within_the_bound() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut meta = read_meta(&key_table(dir.path(), 2000, 0), "gaps").expect("meta");
        assert_eq!(meta.capacity(), 2000);
        for (last, want) in [
            (None, 2000),
            (Some(10), 2000),
            (Some(2000 + 2000 / 16 + 65_536), 2000 + 2000 / 16 + 65_536),
            (Some(u64::from(u32::MAX)), 2000 + 2000 / 16 + 65_536),
        ] {
            meta.last_frame = last;
            assert_eq!(meta.capacity(), want, "{last:?}");
        }
    }
}
