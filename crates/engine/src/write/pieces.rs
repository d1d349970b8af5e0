//! [`super::write_point`] on several threads, for an uncompressed classic
//! pcap or pcapng file: the same part files, byte for byte, as writing on
//! one thread.
//!
//! Two passes over the file's pieces ([`capture::Capture::pieces`]):
//!
//! 1. **Count.**  The threads read the pieces' record headers and count
//!    their rows (packets) and frames (no keys, no columns; pcapng custom
//!    blocks and journal entries are frames without a row).  A piece does
//!    not know how many rows and frames the pieces before it hold, and a
//!    row group and a part are cut by *global* row number (part k holds
//!    rows k·P+1 …, its row groups G rows each from the part's start), so
//!    the counts come first: then each row group is known before it is
//!    read, is built and
//!    encoded whole by one thread, and nothing is fixed up or stitched
//!    together afterwards.  The count is cheap next to the rest (a header
//!    walk; the keys, the Arrow columns and the Parquet encoding are most
//!    of the time), and it also proves that the pieces join up (each but
//!    the last ends exactly where the next starts): if one does not, the
//!    file is written on one thread.
//! 2. **Row groups.**  Each row group is a unit of work: a thread opens
//!    the piece its first frame is in, skips to it, reads its frames
//!    (into the following pieces if need be), builds its Arrow columns and
//!    encodes its Parquet column chunks.  This thread appends the chunks
//!    to the part files in frame order; the threads work at most
//!    [`AHEAD_PER_THREAD`] row groups each ahead of it, so memory stays a
//!    few row groups per thread however big the file.

use super::{message, open_part, Last, WriteOptions, Written, BATCH_ROWS};
use crate::batch::Batch;
use crate::error::{Error, ErrorKind};
use crate::schema;
use arrow_array::RecordBatch;
use matcher::table::WholeBlocks;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::writer::SerializedFileWriter;
use std::fs::File;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Row groups a thread may have built ahead of the one being appended.
const AHEAD_PER_THREAD: usize = 2;

/// Where and how the point is written.
pub(super) struct Target<'a> {
    /// The capture (canonical), for messages.
    pub capture: &'a Path,
    /// The point's directory (prepared).
    pub dir: &'a Path,
    /// Every part's key-value metadata.
    pub common: &'a [KeyValue],
    pub options: &'a WriteOptions,
}

/// One row group to build: `rows` rows from global row `first` (from
/// 0), part `part`'s rows from `in_part`.
#[derive(Clone, Copy, Debug)]
struct Unit {
    part: u32,
    first: u64,
    in_part: usize,
    rows: usize,
}

/// A row group built and encoded.
struct Encoded {
    chunks: Vec<ArrowColumnChunk>,
    /// Its rows' frame numbers and time stamps (for [`WholeBlocks`]).
    ts: Vec<(u32, i64)>,
    keyed: u64,
}

/// What pass 1 found ([`count`]).
struct Counted {
    /// Rows (packets) of the pieces before each piece.
    rows_before: Vec<u64>,
    /// Frames the pieces before each piece numbered (pcapng: with the
    /// frames that hold no packet, which have no row).
    frames_before: Vec<u32>,
    /// Rows in all.
    rows: u64,
    /// The error the last piece ended in.
    truncated: Option<String>,
    /// Per piece, the file's number of each interface the piece numbered
    /// (a CTRACE trace numbers its interfaces in order of first
    /// appearance, which a piece read on its own starts again from 0);
    /// empty for pcap and pcapng, whose pieces number them as the file's
    /// head does.
    interfaces: Vec<Vec<u32>>,
}

/// Writes the point from `pieces` (more than one) on
/// `target.options.threads` threads; `out` holds the label.  None when the
/// pieces do not join up (nothing written yet: the caller reads the file
/// whole).
pub(super) fn write(
    pieces: &[capture::Piece<'_>],
    to: &Target<'_>,
    mut out: Written,
) -> Result<Option<Written>, Error> {
    let threads = to.options.threads.max(1);
    let Some(counted) = count(pieces, to.capture, threads)? else {
        return Ok(None);
    };
    // The point's "frames" are its rows (packets), as on one thread.
    let rows = counted.rows;
    out.frames = rows;
    out.truncated = counted.truncated.clone();
    out.pieces = pieces.len();
    out.threads = threads;
    let units = units(rows, to.options);
    // Part k holds rows k·P+1 … (k+1)·P; after a full part comes another,
    // empty if no row is left for it (as on one thread).
    let parts = (rows / to.options.rows_per_part as u64) as u32 + 1;

    let window = matcher::in_order::Window {
        threads,
        ahead: threads * AHEAD_PER_THREAD,
        help: false,
    };
    let mut whole = WholeBlocks::default();
    let mut files = Vec::new();
    let mut part = open(to, 0)?;
    let stopped = matcher::in_order::run(
        units.len(),
        window,
        // Each thread's writer factory, made at its first row group.
        || None,
        |factory, k| encode(&units[k], pieces, &counted, to, factory),
        |k, r| {
            // A panic (a bug) is an error of this file, not a hang.
            let r = r.unwrap_or_else(|| {
                Err(Error::format(
                    to.capture,
                    "internal error: a key table thread panicked",
                ))
            });
            match r.and_then(|e| take(&units[k], e, to, &mut part, &mut files, &mut whole)) {
                Ok(keyed) => {
                    out.keyed += keyed;
                    ControlFlow::Continue(())
                }
                Err(e) => ControlFlow::Break(e),
            }
        },
    );
    if let Some(e) = stopped {
        return Err(e);
    }
    while part.n + 1 < parts {
        let next = open(to, part.n + 1)?;
        files.push(close(std::mem::replace(&mut part, next), None)?);
    }
    let last = Last {
        frames: out.frames,
        whole_blocks: whole.whole(),
        truncated: out.truncated.as_deref(),
    };
    files.push(close(part, Some(last))?);
    out.files = files;
    Ok(Some(out))
}

/// Appends row group `unit`, encoded, to its part (opening the parts up to
/// it, closing those before); returns its keyed frames.
fn take(
    unit: &Unit,
    e: Encoded,
    to: &Target<'_>,
    part: &mut Part,
    files: &mut Vec<PathBuf>,
    whole: &mut WholeBlocks,
) -> Result<u64, Error> {
    while part.n < unit.part {
        let next = open(to, part.n + 1)?;
        files.push(close(std::mem::replace(part, next), None)?);
    }
    append(&mut part.writer, e.chunks).map_err(Error::parquet(&part.path))?;
    for &(frame, t) in &e.ts {
        whole.push_frame(frame, t);
    }
    Ok(e.keyed)
}

/// The row groups of `total` rows, in order: each part's rows cut
/// every `rows_per_group` rows from the part's start, as [`ArrowWriter`]
/// cuts them on one thread.
fn units(total: u64, options: &WriteOptions) -> Vec<Unit> {
    let (per_part, per_group) = (options.rows_per_part as u64, options.rows_per_group.max(1));
    let mut units = Vec::new();
    let mut first = 0;
    while first < total {
        let part = (first / per_part) as u32;
        let in_part = (first % per_part) as usize;
        let part_end = (u64::from(part) + 1) * per_part;
        let rows = (per_group as u64).min(part_end - first).min(total - first) as usize;
        units.push(Unit {
            part,
            first,
            in_part,
            rows,
        });
        first += rows as u64;
    }
    units
}

/// Pass 1: the rows (packets) and frames of each piece, on `threads`
/// threads, and the error the last piece ended in (the capture cut short:
/// kept up to there, as on one thread).  None if a piece but the last
/// ended in an error (it did not end where the next starts), or a piece
/// cannot be read on its own ([`capture::Error::needs_whole_file`]).
fn count(
    pieces: &[capture::Piece<'_>],
    capture: &Path,
    threads: usize,
) -> Result<Option<Counted>, Error> {
    // Every piece may be counted ahead: a count is three numbers.
    let window = matcher::in_order::Window {
        threads,
        ahead: pieces.len(),
        help: false,
    };
    let mut counted = Vec::with_capacity(pieces.len());
    // A panic leaves the piece uncounted (None): an error below.
    let _: Option<()> = matcher::in_order::run(
        pieces.len(),
        window,
        || (),
        |_, k| count_piece(&pieces[k], capture),
        |_, r| {
            counted.push(r);
            ControlFlow::Continue(())
        },
    );
    let mut c = Counted {
        rows_before: Vec::with_capacity(pieces.len()),
        frames_before: Vec::with_capacity(pieces.len()),
        rows: 0,
        truncated: None,
        interfaces: Vec::with_capacity(pieces.len()),
    };
    // CTRACE: the interfaces in the order the pieces first met them (the
    // file's numbering).
    let mut met: Vec<(Vec<u8>, capture::Link)> = Vec::new();
    let mut frames = 0u64;
    for (k, piece) in counted.into_iter().enumerate() {
        let Some(piece) = piece else {
            return Err(Error::format(
                capture,
                "internal error: counting a piece's frames panicked",
            ));
        };
        if piece.whole || piece.error.is_some() && k + 1 < pieces.len() {
            return Ok(None);
        }
        c.interfaces.push(file_numbers(&piece.interfaces, &mut met));
        c.rows_before.push(c.rows);
        c.frames_before.push(frames as u32);
        c.rows += piece.rows;
        frames += u64::from(piece.frames);
        c.truncated = piece.error;
        // Frame numbers are 32-bit, as on one thread.
        if frames > u64::from(u32::MAX) {
            return Ok(None);
        }
    }
    Ok(Some(c))
}

/// The file's numbers of the interfaces a CTRACE piece numbered (`piece`:
/// what tells them apart, by its numbers), adding those not `met` before.
/// Empty for other formats: their pieces number the interfaces as the
/// file does.
fn file_numbers(
    piece: &[(Vec<u8>, capture::Link)],
    met: &mut Vec<(Vec<u8>, capture::Link)>,
) -> Vec<u32> {
    let number = |key: &(Vec<u8>, capture::Link), met: &mut Vec<_>| {
        let n = met.iter().position(|m| m == key).unwrap_or_else(|| {
            met.push(key.clone());
            met.len() - 1
        });
        n as u32
    };
    piece.iter().map(|key| number(key, met)).collect()
}

/// One piece's count.
struct PieceCount {
    rows: u64,
    frames: u32,
    error: Option<String>,
    /// The piece cannot be read on its own.
    whole: bool,
    /// CTRACE: what tells the interfaces it numbered apart, by its
    /// numbers (else empty).
    interfaces: Vec<(Vec<u8>, capture::Link)>,
}

/// One piece's rows and frames, and the error it ended in.
fn count_piece(piece: &capture::Piece<'_>, capture: &Path) -> PieceCount {
    let fail = |rows, frames, e: capture::Error| PieceCount {
        rows,
        frames,
        whole: e.needs_whole_file(),
        error: Some(format!("{}: {e}", capture.display())),
        interfaces: Vec::new(),
    };
    let mut cap = match piece.open() {
        Ok(c) => c,
        Err(e) => return fail(0, 0, e),
    };
    let mut rows = 0;
    loop {
        match cap.next_packet() {
            Ok(Some(_)) => rows += 1,
            Ok(None) => {
                return PieceCount {
                    rows,
                    frames: cap.frames(),
                    error: None,
                    whole: false,
                    interfaces: cap.interface_keys(),
                }
            }
            Err(e) => {
                return PieceCount {
                    interfaces: cap.interface_keys(),
                    ..fail(rows, cap.frames(), e)
                }
            }
        }
    }
}

/// Pass 2, one unit: reads its rows' packets, builds its row group's columns and
/// encodes them.  `factory` makes the column writers (one per thread, made
/// on first use: the column writers depend only on the schema and the
/// writer properties, which every part shares but for its key-value
/// metadata).
fn encode(
    unit: &Unit,
    pieces: &[capture::Piece<'_>],
    counted: &Counted,
    to: &Target<'_>,
    factory: &mut Option<ArrowRowGroupWriterFactory>,
) -> Result<Encoded, Error> {
    let path = to.capture;
    let cap_err = |e: capture::Error| Error::new(path, ErrorKind::Capture(e));
    let moved = |what: &str| {
        Error::format(
            path,
            format!(
                "{what} (row {}): did the file change while read?",
                unit.first + 1
            ),
        )
    };
    // The piece the unit's first row is in.
    let starts = &counted.rows_before;
    let mut j = starts.partition_point(|&s| s <= unit.first) - 1;
    let mut cap = pieces[j].open().map_err(cap_err)?;
    for _ in starts[j]..unit.first {
        if cap.next_packet().map_err(cap_err)?.is_none() {
            return Err(moved("a piece ended early"));
        }
    }
    let mut batch = Batch::with_capacity(unit.rows);
    let mut ts = Vec::with_capacity(unit.rows);
    let mut keyed = 0;
    while ts.len() < unit.rows {
        let Some(mut p) = cap.next_packet().map_err(cap_err)? else {
            j += 1;
            if j >= pieces.len() {
                return Err(moved("the file ended early"));
            }
            cap = pieces[j].open().map_err(cap_err)?;
            continue;
        };
        // The file's frame number (the piece's count from 1) and
        // interface number.
        p.frame = counted.frames_before[j].wrapping_add(p.frame);
        let numbers = &counted.interfaces[j];
        if !numbers.is_empty() {
            p.interface = match numbers.get(p.interface as usize) {
                Some(&n) => n,
                None => return Err(moved("an interface the count did not meet")),
            };
        }
        let check = index::frame_check(p.wire_ts_ns, p.wire.len() as u32, p.wire);
        let keys = capture::extract(p.link, p.data);
        let msg = keys.as_ref().and_then(|(_, k)| message(&p, k));
        keyed += u64::from(keys.is_some());
        batch.push(&p, check, keys.as_ref().map(|(f, k)| (f, k)), msg);
        ts.push((p.frame, p.ts_ns));
    }
    let b = batch.finish().map_err(Error::arrow(path))?;
    let factory = match factory {
        Some(f) => f,
        None => factory.insert(column_factory(to)?),
    };
    let parquet = Error::parquet(path);
    let chunks = encode_columns(&b, unit.in_part, factory).map_err(parquet)?;
    Ok(Encoded { chunks, ts, keyed })
}

/// The column writers' factory: the one a part's [`ArrowWriter`] makes,
/// from a writer to nowhere with the parts' properties.
fn column_factory(to: &Target<'_>) -> Result<ArrowRowGroupWriterFactory, Error> {
    let props = super::properties(to.options, Vec::new());
    ArrowWriter::try_new(std::io::sink(), schema::schema(), Some(props))
        .and_then(ArrowWriter::into_serialized_writer)
        .map(|(_, f)| f)
        .map_err(Error::parquet(to.capture))
}

/// Encodes row group `b` (its first row the part's row `in_part`) as
/// [`ArrowWriter`] does on one thread: the batches it is handed are cut
/// every [`BATCH_ROWS`] rows from the part's start, and each write of a
/// batch's slice is a write of each column, so the row group's columns
/// are written in the same slices (the page boundaries depend on them).
fn encode_columns(
    b: &RecordBatch,
    in_part: usize,
    factory: &ArrowRowGroupWriterFactory,
) -> parquet::errors::Result<Vec<ArrowColumnChunk>> {
    let mut writers = factory.create_column_writers(0)?;
    let schema = schema::schema();
    let mut at = 0;
    while at < b.num_rows() {
        let batch_end = ((in_part + at) / BATCH_ROWS + 1) * BATCH_ROWS - in_part;
        let n = batch_end.min(b.num_rows()) - at;
        let slice = b.slice(at, n);
        let mut w = writers.iter_mut();
        for (field, column) in schema.fields().iter().zip(slice.columns()) {
            for leaf in compute_leaves(field, column)? {
                let Some(w) = w.next() else {
                    return Err(parquet::errors::ParquetError::General(
                        "more leaves than column writers".into(),
                    ));
                };
                w.write(&leaf)?;
            }
        }
        at += n;
    }
    writers.into_iter().map(|w| w.close()).collect()
}

/// One part file being written from encoded row groups.
struct Part {
    n: u32,
    path: PathBuf,
    writer: SerializedFileWriter<File>,
}

/// Appends a row group's chunks as [`ArrowWriter`]'s flush does.
fn append(
    w: &mut SerializedFileWriter<File>,
    chunks: Vec<ArrowColumnChunk>,
) -> parquet::errors::Result<()> {
    let mut rg = w.next_row_group()?;
    for c in chunks {
        c.append_to_row_group(&mut rg)?;
    }
    rg.close()?;
    Ok(())
}

/// Opens part `n` as one thread does ([`open_part`]: the same properties
/// and metadata) and takes its file writer.
fn open(to: &Target<'_>, n: u32) -> Result<Part, Error> {
    let p = open_part(to.dir, n, to.common, to.options)?;
    let (writer, _) = p
        .writer
        .into_serialized_writer()
        .map_err(Error::parquet(&p.path))?;
    Ok(Part {
        n,
        path: p.path,
        writer,
    })
}

/// [`super::close`] for a part written here.
fn close(mut part: Part, last: Option<Last<'_>>) -> Result<PathBuf, Error> {
    for kv in last.map_or_else(Vec::new, |l| l.metadata()) {
        part.writer.append_key_value_metadata(kv);
    }
    part.writer.close().map_err(Error::parquet(&part.path))?;
    Ok(part.path)
}
