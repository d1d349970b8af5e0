//! What the reader subcommands (info, export, report, annotate) share:
//! opening an index, finding each point's capture file (the path stored when
//! indexing, or a `--point LABEL=FILE` override), and reading a capture while
//! checking that its frames are the ones the index describes — a report or
//! annotated copy built from a different file would put the matches on the
//! wrong packets.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use index::Index;

/// An error for the user: one line naming the file (and frame) concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The bytes of an index file, mapped read-only (an index of millions of
/// frames is hundreds of MB; the accessors read it in place).
pub struct IndexFile {
    path: PathBuf,
    bytes: Bytes,
}

enum Bytes {
    Map(memmap2::Mmap),
    // An empty file cannot be mapped; Index::load then reports "empty file".
    Empty,
}

impl IndexFile {
    /// Opens and maps `path` (does not check it: see [`IndexFile::load`]).
    pub fn open(path: &Path) -> Result<IndexFile, Error> {
        let file = File::open(path)
            .map_err(|e| Error(format!("{}: cannot open the index: {e}", path.display())))?;
        let len = file
            .metadata()
            .map_err(|e| Error(format!("{}: cannot read the index: {e}", path.display())))?
            .len();
        let bytes = if len == 0 {
            Bytes::Empty
        } else {
            // SAFETY: a read-only shared map of a file this process never
            // writes; like any mapped reader it relies on nobody truncating
            // the index while it is read (the indexer replaces indexes by
            // rename, which leaves this mapping intact).
            let map = unsafe { memmap2::Mmap::map(&file) }
                .map_err(|e| Error(format!("{}: cannot map the index: {e}", path.display())))?;
            Bytes::Map(map)
        };
        Ok(IndexFile {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// The index file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the whole index once and returns its reader.
    pub fn load(&self) -> Result<Index<'_>, Error> {
        let bytes: &[u8] = match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Empty => &[],
        };
        Index::load(bytes).map_err(|e| Error(format!("{}: {e}", self.path.display())))
    }
}

/// A `--point LABEL=FILE` argument: read point LABEL's capture from FILE
/// (the capture was moved, or the index was made on another machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointFile {
    pub label: String,
    pub file: PathBuf,
}

/// clap value parser for `LABEL=FILE`.
pub fn parse_point_file(s: &str) -> Result<PointFile, String> {
    match s.split_once('=') {
        Some((label, file)) if !label.is_empty() && !file.is_empty() => Ok(PointFile {
            label: label.to_owned(),
            file: PathBuf::from(file),
        }),
        _ => Err(format!(
            "{s:?}: expected LABEL=FILE, e.g. wan=/data/wan.pcapng"
        )),
    }
}

/// The capture file of every point, in point order: the override if one
/// names the point, else the path stored in the index — taken as it is when
/// it exists, else (a relative path written from another directory)
/// relative to the index file's directory.  Fails on an override naming no
/// point.
pub fn capture_paths(
    index: &Index<'_>,
    session: &Path,
    overrides: &[PointFile],
) -> Result<Vec<PathBuf>, Error> {
    for o in overrides {
        if index.point_by_label(&o.label).is_none() {
            let labels: Vec<&str> = index.points().map(|p| p.label()).collect();
            return Err(Error(format!(
                "--point {}={}: {} has no point labelled {:?} (its points: {})",
                o.label,
                o.file.display(),
                session.display(),
                o.label,
                labels.join(", ")
            )));
        }
    }
    let base = session.parent().unwrap_or(Path::new(""));
    Ok(index
        .points()
        .map(|p| {
            if let Some(o) = overrides.iter().rev().find(|o| o.label == p.label()) {
                return o.file.clone();
            }
            let stored = PathBuf::from(p.path());
            if stored.is_relative() && !stored.exists() {
                let beside = base.join(&stored);
                if beside.exists() {
                    return beside;
                }
            }
            stored
        })
        .collect())
}

/// What a capture file on disk is, compared with what the index says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Bytes on disk (None: cannot be read).
    pub disk_size: Option<u64>,
    /// Frames read.
    pub frames: u32,
    /// Fingerprint of the frames read (index::checks_fingerprint).
    pub fingerprint: Option<u64>,
    /// The first frame whose check differs from the index's.
    pub first_mismatch: Option<u32>,
    /// Why the file could not be read (to the end).
    pub error: Option<String>,
}

impl FileCheck {
    /// True when the frames are exactly the indexed ones (the size may
    /// differ: a pcap converted to pcapng keeps its frames).
    pub fn frames_match(&self, indexed_fingerprint: u64) -> bool {
        self.error.is_none()
            && self.first_mismatch.is_none()
            && self.fingerprint == Some(indexed_fingerprint)
    }

    /// One word for tables and JSON: `matches`, `converted` (same frames,
    /// other size), `changed` (other frames: edited, or another file),
    /// `missing`, `unreadable`.
    pub fn state(&self, indexed_size: u64, indexed_fingerprint: u64) -> &'static str {
        match (&self.disk_size, &self.error) {
            (None, _) => "missing",
            (Some(_), Some(_)) if self.frames == 0 && self.first_mismatch.is_none() => "unreadable",
            _ if self.frames_match(indexed_fingerprint) => {
                if self.disk_size == Some(indexed_size) {
                    "matches"
                } else {
                    "converted"
                }
            }
            _ => "changed",
        }
    }

    /// A sentence for people.
    pub fn describe(&self, index: &Index<'_>, point: u16) -> String {
        let Some(p) = index.point(point) else {
            return String::new();
        };
        let state = self.state(p.file_size(), p.fingerprint());
        match state {
            "matches" => "matches the index (size and frames)".into(),
            "converted" => format!(
                "same frames, other size ({} bytes on disk, {} indexed): a converted copy",
                self.disk_size.unwrap_or(0),
                p.file_size()
            ),
            "missing" => format!(
                "missing: {}",
                self.error.as_deref().unwrap_or("cannot be read")
            ),
            "unreadable" => format!(
                "unreadable: {}",
                self.error.as_deref().unwrap_or("cannot be read")
            ),
            _ => {
                // Either the capture was edited since indexing, or the
                // file is another capture (a wrong --point, a moved file).
                let why = "changed since indexing, or another capture";
                if let Some(f) = self.first_mismatch {
                    format!("DIFFERS from the indexed capture from frame {f} on ({why})")
                } else if let Some(e) = &self.error {
                    format!("DIFFERS from the indexed capture, or is damaged: {e}")
                } else if self.frames != p.packets() {
                    format!(
                        "DIFFERS from the indexed capture: {} frames on disk, {} indexed ({why})",
                        self.frames,
                        p.packets()
                    )
                } else {
                    format!("DIFFERS from the indexed capture: fingerprint ({why})")
                }
            }
        }
    }
}

/// The check the index keeps for a frame, computed from the capture: from
/// the frame as Wireshark shows it (for CTRACE, the trace record around the
/// packet), which is what the post-dissector checks.
pub fn frame_check(packet: &capture::Packet<'_>) -> u32 {
    index::frame_check(packet.wire_ts_ns, packet.wire.len() as u32, packet.wire)
}

/// Reads `path` to the end and compares every frame with the checks the
/// index keeps for `point`.  Never fails: what went wrong is in the result.
pub fn check_file(index: &Index<'_>, point: u16, path: &Path) -> FileCheck {
    let mut out = FileCheck {
        disk_size: None,
        frames: 0,
        fingerprint: None,
        first_mismatch: None,
        error: None,
    };
    match std::fs::metadata(path) {
        Ok(m) => out.disk_size = Some(m.len()),
        Err(e) => {
            // The caller shows the path beside this.
            out.error = Some(e.to_string());
            return out;
        }
    }
    let mut checks = Vec::with_capacity(index.packets(point) as usize);
    let mut cap = match capture::open(path) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    loop {
        match cap.next_packet() {
            Ok(Some(p)) => {
                let c = frame_check(&p);
                if out.first_mismatch.is_none() && !index.verify(point, p.frame, c) {
                    out.first_mismatch = Some(p.frame);
                }
                checks.push(c);
                out.frames = p.frame;
            }
            Ok(None) => break,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
    }
    out.fingerprint = Some(index::checks_fingerprint(checks.iter().copied()));
    out
}

/// Reads point `point`'s capture from `path` and calls `f` with every
/// packet, refusing — with an error naming the file and the frame — a
/// capture whose frames are not those the index describes (changed since
/// indexing, or the wrong file given with --point).
pub fn read_checked(
    index: &Index<'_>,
    session: &Path,
    point: u16,
    path: &Path,
    mut f: impl FnMut(&capture::Packet<'_>) -> Result<(), Error>,
) -> Result<u32, Error> {
    read_checked_with_interfaces(index, session, point, path, |p, _| f(p))
}

/// [`read_checked`], also giving `f` the capture's interfaces (described
/// as the file goes on, so known by the time a packet uses one).
pub fn read_checked_with_interfaces(
    index: &Index<'_>,
    session: &Path,
    point: u16,
    path: &Path,
    mut f: impl FnMut(&capture::Packet<'_>, &[capture::Interface]) -> Result<(), Error>,
) -> Result<u32, Error> {
    let Some(p) = index.point(point) else {
        return Err(Error(format!("{}: no point {point}", session.display())));
    };
    let label = p.label();
    let packets = p.packets();
    let advice = format!(
        "the capture changed since {} was made, or is not point {label}'s: give the \
         right file with --point {label}=FILE, or re-run pktmatch index",
        session.display()
    );
    let mut cap = capture::open(path).map_err(|e| {
        Error(format!(
            "point {label}: {e} (the index names {}; if it moved, use --point {label}=FILE)",
            if p.path().is_empty() {
                "no file"
            } else {
                p.path()
            }
        ))
    })?;
    let mut frames = 0u32;
    // The packet borrows the capture until the next read; its bytes are
    // copied into one reused buffer so the interfaces can be looked at too.
    let mut data: Vec<u8> = Vec::new();
    let mut wire: Vec<u8> = Vec::new();
    while let Some((frame, ts_ns, orig_len, link, interface, direction, offset, wire_ts_ns)) = cap
        .next_packet()
        .map_err(|e| Error(format!("point {label}: {e}")))?
        .map(|p| {
            data.clear();
            data.extend_from_slice(p.data);
            wire.clear();
            wire.extend_from_slice(p.wire);
            (
                p.frame,
                p.ts_ns,
                p.orig_len,
                p.link,
                p.interface,
                p.direction,
                p.offset,
                p.wire_ts_ns,
            )
        })
    {
        let packet = capture::Packet {
            frame,
            ts_ns,
            orig_len,
            link,
            interface,
            direction,
            offset,
            data: &data,
            wire: &wire,
            wire_ts_ns,
        };
        if packet.frame > packets {
            return Err(Error(format!(
                "{}: frame {} is beyond the {packets} frames indexed for point {label}: {advice}",
                path.display(),
                packet.frame
            )));
        }
        if !index.verify(point, packet.frame, frame_check(&packet)) {
            return Err(Error(format!(
                "{}: frame {} is not the frame indexed for point {label} (its time stamp, \
                 length or first bytes differ): {advice}",
                path.display(),
                packet.frame
            )));
        }
        f(&packet, cap.interfaces())?;
        frames = packet.frame;
    }
    if frames < packets {
        return Err(Error(format!(
            "{}: ends after frame {frames}, point {label} has {packets} frames indexed: {advice}",
            path.display()
        )));
    }
    Ok(frames)
}
