//! `pktmatch keys`: one capture's frames as key table files,
//! `DIR/point=LABEL/part-NNNNN.parquet`, in frame order.
//!
//! The directory layout is Hive-style partitioning by point, which DuckDB
//! (`read_parquet('DIR/*/*.parquet', hive_partitioning = true)`), Spark,
//! pyarrow datasets and DataFusion read as a `point` column.  Within a
//! point, rows are in frame order across the parts; `conn_hash` is the
//! column to repartition by connection on.

use crate::batch::Batch;
use crate::error::{Error, ErrorKind};
use crate::schema::{self, meta};
use matcher::table::{MsgKind, WholeBlocks};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};

mod pieces;

/// One capture point to write.
#[derive(Clone, Debug)]
pub struct PointSpec {
    pub label: String,
    /// The capture (made absolute before it is recorded).
    pub capture: PathBuf,
    /// Its position among the points given (from 0).
    pub given: u16,
}

/// How to write.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Rows per part file (each part holds whole row groups).
    pub rows_per_part: usize,
    /// Rows per Parquet row group.  A scan reads a row group's column
    /// chunks whole, outside DataFusion's memory pool: 65,536 rows keep
    /// that to about 3 MB per partition (1 Mi rows: 28 MB), and let a
    /// point's scan be split among partitions.
    pub rows_per_group: usize,
    /// Replace the part files of an earlier run.
    pub force: bool,
    /// Threads to write with: more than 1 reads an uncompressed classic
    /// pcap file in pieces and builds and encodes its row groups on that
    /// many threads (`pieces`); other captures, and 1, on this thread.
    pub threads: usize,
    /// About how many bytes of the capture one piece holds (what the
    /// threads count the frames of first).
    pub piece_bytes: u64,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            rows_per_part: 16 << 20,
            rows_per_group: 1 << 16,
            force: false,
            threads: 1,
            piece_bytes: PIECE_BYTES,
        }
    }
}

/// What was written for one point.
#[derive(Clone, Debug, Default)]
pub struct Written {
    pub label: String,
    pub frames: u64,
    /// Frames with keys (IP).
    pub keyed: u64,
    pub files: Vec<PathBuf>,
    /// The capture ended in damaged data (read up to there).
    pub truncated: Option<String>,
    /// The pieces the capture was read in on several threads (0: read
    /// whole, on one).
    pub pieces: usize,
    /// Threads it was read on.
    pub threads: usize,
}

/// Rows per Arrow batch handed to the writer.
const BATCH_ROWS: usize = 64 * 1024;

/// [`WriteOptions::piece_bytes`] by default: as `pktmatch index` reads a
/// pcap file (matcher's table.rs), a few thousand frames a piece.
pub const PIECE_BYTES: u64 = 1 << 20;

/// A label usable as a directory name and a Hive partition value: ASCII
/// letters, digits and `._+-`, not starting with a dot.
pub fn check_label(label: &str) -> Result<(), String> {
    let ok = !label.is_empty()
        && !label.starts_with('.')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "label {label:?}: a key table's labels use only letters, digits and . _ + - \
             (and do not start with a dot); name the point with --point LABEL=FILE"
        ))
    }
}

/// The directory of one point's parts.
pub fn point_dir(dir: &Path, label: &str) -> PathBuf {
    dir.join(format!("point={label}"))
}

fn part_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("part-{n:05}.parquet"))
}

/// Makes the point's directory ready: new, or (with `force`) emptied of
/// the part files an earlier run left.  Anything else in it is refused:
/// never removed.
fn prepare(dir: &Path, force: bool) -> Result<(), Error> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return std::fs::create_dir_all(dir).map_err(Error::io(dir))
        }
        Err(e) => return Err(Error::new(dir, ErrorKind::Io(e))),
        Ok(m) if !m.is_dir() => {
            return Err(Error::new(
                dir,
                ErrorKind::Exists("exists and is not a directory".into()),
            ))
        }
        Ok(_) => {}
    }
    let mut ours = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let e = e.map_err(Error::io(dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        let regular = e.file_type().map_err(Error::io(dir))?.is_file();
        if regular && name.starts_with("part-") && name.ends_with(".parquet") {
            ours.push(e.path());
        } else {
            return Err(Error::new(
                &e.path(),
                ErrorKind::Exists("not a key table part: left alone; give another -o".into()),
            ));
        }
    }
    if !ours.is_empty() && !force {
        return Err(Error::new(
            dir,
            ErrorKind::Exists("holds key tables already (--force replaces them)".into()),
        ));
    }
    for p in ours {
        std::fs::remove_file(&p).map_err(Error::io(&p))?;
    }
    Ok(())
}

/// How every part is written (`kv`: its key-value metadata).
fn properties(options: &WriteOptions, kv: Vec<KeyValue>) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(options.rows_per_group.max(1)))
        .set_created_by(format!("pktmatch {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(kv))
        .build()
}

/// One part file being written.
struct Part {
    path: PathBuf,
    writer: ArrowWriter<File>,
    rows: usize,
}

fn open_part(
    dir: &Path,
    n: u32,
    common: &[KeyValue],
    options: &WriteOptions,
) -> Result<Part, Error> {
    let path = part_path(dir, n);
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(Error::io(&path))?;
    let mut kv = common.to_vec();
    kv.push(KeyValue::new(meta::PART.to_string(), n.to_string()));
    let writer = ArrowWriter::try_new(file, schema::schema(), Some(properties(options, kv)))
        .map_err(Error::parquet(&path))?;
    Ok(Part {
        path,
        writer,
        rows: 0,
    })
}

/// Writes one point's key table under `dir`.
pub fn write_point(spec: &PointSpec, dir: &Path, options: &WriteOptions) -> Result<Written, Error> {
    check_label(&spec.label).map_err(|e| Error::format(&spec.capture, e))?;
    if options.rows_per_part == 0 || options.rows_per_group == 0 {
        // The command line refuses them too; the pieces' row groups divide
        // by them.
        return Err(Error::format(
            &spec.capture,
            "rows per part and per row group must be at least 1",
        ));
    }
    let capture_path = std::fs::canonicalize(&spec.capture).map_err(Error::io(&spec.capture))?;
    let size = std::fs::metadata(&capture_path)
        .map_err(Error::io(&capture_path))?
        .len();
    let mut cap = capture::open(&capture_path)
        .map_err(|e| Error::new(&capture_path, ErrorKind::Capture(e)))?;
    let pdir = point_dir(dir, &spec.label);
    prepare(&pdir, options.force)?;
    let common = vec![
        KeyValue::new(meta::VERSION.to_string(), schema::VERSION.to_string()),
        KeyValue::new(meta::LABEL.to_string(), spec.label.clone()),
        KeyValue::new(
            meta::CAPTURE.to_string(),
            capture_path.to_string_lossy().to_string(),
        ),
        KeyValue::new(meta::CAPTURE_SIZE.to_string(), size.to_string()),
        KeyValue::new(meta::GIVEN.to_string(), spec.given.to_string()),
    ];
    let mut out = Written {
        label: spec.label.clone(),
        threads: 1,
        ..Default::default()
    };
    if options.threads > 1 {
        let n = (size / options.piece_bytes.max(1)) as usize;
        let pieces = cap.pieces(n);
        if pieces.len() > 1 {
            let to = pieces::Target {
                capture: &capture_path,
                dir: &pdir,
                common: &common,
                options,
            };
            if let Some(w) = pieces::write(&pieces, &to, out.clone())? {
                return Ok(w);
            }
            // The pieces did not join up: read whole, below.
        }
    }
    let mut part = open_part(&pdir, 0, &common, options)?;
    let mut batch = Batch::with_capacity(BATCH_ROWS);
    let mut whole = WholeBlocks::default();
    loop {
        let p = match cap.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                // As the indexer does: keep what was read.
                out.truncated = Some(format!("{}: {e}", capture_path.display()));
                break;
            }
        };
        let check = index::frame_check(p.wire_ts_ns, p.wire.len() as u32, p.wire);
        let keys = capture::extract(p.link, p.data);
        let msg = keys.as_ref().and_then(|(_, k)| message(&p, k));
        if keys.is_some() {
            out.keyed += 1;
        }
        batch.push(&p, check, keys.as_ref().map(|(f, k)| (f, k)), msg);
        whole.push_frame(p.frame, p.ts_ns);
        out.frames += 1;
        if batch.is_full() || part.rows + batch.len() >= options.rows_per_part {
            flush(&mut part, &mut batch)?;
            if part.rows >= options.rows_per_part {
                let n = out.files.len() as u32 + 1;
                let next = open_part(&pdir, n, &common, options)?;
                let done = std::mem::replace(&mut part, next);
                out.files.push(close(done, None)?);
            }
        }
    }
    flush(&mut part, &mut batch)?;
    let last = Last {
        frames: out.frames,
        whole_blocks: whole.whole(),
        truncated: out.truncated.as_deref(),
    };
    out.files.push(close(part, Some(last))?);
    Ok(out)
}

/// What the last part says of the whole point.
struct Last<'a> {
    frames: u64,
    whole_blocks: u64,
    truncated: Option<&'a str>,
}

/// What the start of a TCP payload says, for the packets the matcher's
/// full-proxy stage looks at (TCP with a payload and its header).
fn message(p: &capture::Packet<'_>, k: &capture::PacketKey) -> Option<(MsgKind, u64)> {
    use capture::keys::flag;
    let tcp = k.proto == 6 && !k.is_later_fragment() && !k.has(flag::NO_PORTS);
    if tcp && k.l4_len > 0 {
        matcher::payload::sniff(p.link, p.data)
    } else {
        None
    }
}

fn flush(part: &mut Part, batch: &mut Batch) -> Result<(), Error> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows = batch.len();
    let b = batch.finish().map_err(Error::arrow(&part.path))?;
    part.writer.write(&b).map_err(Error::parquet(&part.path))?;
    part.rows += rows;
    Ok(())
}

/// Closes a part; the last one says how many frames the point has (a
/// reader refuses a point without it: the writing did not finish), how many
/// of its blocks keep their time stamps whole, and whether the capture was
/// cut short.
fn close(mut part: Part, last: Option<Last<'_>>) -> Result<PathBuf, Error> {
    for kv in last.map_or_else(Vec::new, |l| l.metadata()) {
        part.writer.append_key_value_metadata(kv);
    }
    part.writer.close().map_err(Error::parquet(&part.path))?;
    Ok(part.path)
}

impl Last<'_> {
    /// The key-value metadata the last part gets when it is closed.
    fn metadata(&self) -> Vec<KeyValue> {
        let kv = |k: &str, v: String| KeyValue::new(k.to_string(), v);
        let mut m = vec![
            kv(meta::FRAMES, self.frames.to_string()),
            kv(meta::WHOLE_BLOCKS, self.whole_blocks.to_string()),
        ];
        if let Some(t) = self.truncated {
            m.push(kv(meta::TRUNCATED, t.to_string()));
        }
        m
    }
}
