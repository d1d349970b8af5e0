//! The one writer every subcommand's output goes through (index, convert,
//! export, report, annotate).  Its rules:
//!
//! * `-` is standard output (a reader that stops early, `| head`, is not an
//!   error).  Binary outputs refuse a terminal.
//! * Nothing but a regular file is ever replaced.  A FIFO or a character
//!   device the user names (`/dev/null`, a named pipe, `/dev/stdout`) is
//!   written into as it is — opened, never unlinked or renamed over; a block
//!   device, a directory or a socket is refused.
//! * A symbolic link is never replaced: the output goes through it, to the
//!   file it names (created there when missing), under the same rules.
//! * A file is written beside its final name (`.<name>.partial.<pid>.<n>`)
//!   and put in place only when complete and synced, so an interrupted run
//!   leaves nothing behind: a new file by a hard link, which fails rather
//!   than replace a file that appeared meanwhile; an existing regular file
//!   only with `--force`, by a rename over it, keeping its permissions.
//! * Inputs are never outputs: the session's captures and its index are
//!   refused, also through another name (a link, another spelling: the same
//!   device and inode).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::session::Error;

/// True for the `-` that means standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// What an output must not be: the files the run reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// The session's capture files.
    pub captures: &'a [PathBuf],
    /// The index the run reads, if any.
    pub index: Option<&'a Path>,
}

/// How to write: what a [`Output::create`] needs besides the path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules<'a> {
    pub inputs: Inputs<'a>,
    /// An existing regular file may be replaced.
    pub force: bool,
    /// The output is binary (an index, a pcapng): not onto a terminal.
    pub binary: bool,
}

/// Where an output goes, decided before anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    Stdout,
    /// A FIFO or character device, written in place (the path as given:
    /// the kernel follows its links).
    Direct(PathBuf),
    /// A new regular file at this path (links followed).
    New(PathBuf),
    /// An existing regular file at this path (links followed), replaced.
    Replace(PathBuf),
}

/// Most symbolic links followed (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// The path `path` names once every symbolic link in its last component is
/// followed (the file itself may not exist).  Relative link targets are
/// relative to the link's directory.
pub fn follow_links(path: &Path) -> Result<PathBuf, Error> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)
                    .map_err(|e| Error(format!("{}: cannot read the link: {e}", p.display())))?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error(format!(
        "{}: more than {MAX_LINKS} symbolic links in a row (a loop?)",
        path.display()
    )))
}

/// Same device and inode.
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Refuses `path` (existing, links followed: `meta`) when it is one of the
/// inputs.
fn refuse_inputs(path: &Path, meta: &fs::Metadata, inputs: &Inputs<'_>) -> Result<(), Error> {
    let is = |p: &Path| fs::metadata(p).is_ok_and(|m| same_file(&m, meta));
    if inputs.index.is_some_and(is) {
        return Err(Error(format!(
            "{}: refusing to write over the index itself",
            path.display()
        )));
    }
    if let Some(c) = inputs.captures.iter().find(|c| is(c)) {
        return Err(Error(format!(
            "{}: refusing to write over a capture of the session ({}); inputs are never modified",
            path.display(),
            c.display()
        )));
    }
    Ok(())
}

/// Decides where `path` goes under `rules` (nothing is written).
pub fn plan(path: &Path, rules: &Rules<'_>) -> Result<Plan, Error> {
    if is_stdout(path) {
        if rules.binary && io::stdout().is_terminal() {
            return Err(Error(
                "refusing to write binary output to a terminal: redirect standard output, or \
                 name a file"
                    .into(),
            ));
        }
        return Ok(Plan::Stdout);
    }
    let dest = follow_links(path)?;
    let shown = path.display();
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = match dest.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !dir.is_dir() {
                return Err(Error(format!(
                    "{shown}: cannot create it: {} is not a directory",
                    dir.display()
                )));
            }
            return Ok(Plan::New(dest));
        }
        Err(e) => return Err(Error(format!("{shown}: {e}"))),
    };
    refuse_inputs(path, &meta, &rules.inputs)?;
    let t = meta.file_type();
    if t.is_file() {
        if !rules.force {
            return Err(Error(format!("{shown}: exists (use --force to overwrite)")));
        }
        return Ok(Plan::Replace(dest));
    }
    if t.is_fifo() || t.is_char_device() {
        return Ok(Plan::Direct(path.to_path_buf()));
    }
    let what = if t.is_dir() {
        "a directory"
    } else if t.is_block_device() {
        "a block device (a disk)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(Error(format!(
        "{shown}: is {what}: refusing to write there (name a file, a pipe or a character device)"
    )))
}

/// An output being written.
pub enum Output {
    Stdout(io::StdoutLock<'static>),
    /// A FIFO or character device, written as it is.
    Direct {
        target: PathBuf,
        writer: Option<BufWriter<File>>,
    },
    /// A regular file, written beside its final name.
    File {
        target: PathBuf,
        partial: PathBuf,
        replace: bool,
        writer: Option<BufWriter<Behind>>,
    },
}

impl Output {
    /// Opens `path` for writing under `rules` (see the module comment).
    pub fn create(path: &Path, rules: &Rules<'_>) -> Result<Output, Error> {
        Ok(match plan(path, rules)? {
            Plan::Stdout => Output::Stdout(io::stdout().lock()),
            Plan::Direct(target) => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(|e| Error(format!("{}: cannot open: {e}", target.display())))?;
                Output::Direct {
                    target,
                    writer: Some(BufWriter::with_capacity(1 << 16, file)),
                }
            }
            Plan::New(target) => Output::beside(target, false)?,
            Plan::Replace(target) => Output::beside(target, true)?,
        })
    }

    fn beside(target: PathBuf, replace: bool) -> Result<Output, Error> {
        let (partial, file) = partial_file(&target)?;
        Ok(Output::File {
            target,
            partial,
            replace,
            writer: Some(BufWriter::with_capacity(1 << 16, Behind::new(file))),
        })
    }

    /// The file written in the end (None for standard output).
    pub fn target(&self) -> Option<&Path> {
        match self {
            Output::Stdout(_) => None,
            Output::Direct { target, .. } | Output::File { target, .. } => Some(target),
        }
    }

    /// An error writing this output, naming it.
    pub fn error(&self, e: impl std::fmt::Display) -> Error {
        match self.target() {
            None => Error(format!("standard output: {e}")),
            Some(t) => Error(format!("{}: cannot write: {e}", t.display())),
        }
    }

    /// Flushes; a file is synced and put in place.
    pub fn finish(mut self) -> Result<(), Error> {
        let name = |t: &Path| t.display().to_string();
        match &mut self {
            Output::Stdout(s) => {
                unless_closed(s.flush(), ()).map_err(|e| Error(format!("standard output: {e}")))
            }
            Output::Direct { target, writer } => match writer.take() {
                Some(mut w) => unless_closed(w.flush(), ())
                    .map_err(|e| Error(format!("{}: cannot write: {e}", name(target)))),
                None => Ok(()),
            },
            Output::File {
                target,
                partial,
                replace,
                writer,
            } => {
                let Some(w) = writer.take() else {
                    return Ok(());
                };
                let result = put_in_place(w, partial, target, *replace);
                if result.is_err() {
                    let _ = fs::remove_file(&*partial);
                }
                result
            }
        }
    }
}

/// Syncs the partial file and puts it at `target`: over the regular file
/// there (`replace`, keeping its permissions), else as a new name that
/// must not exist by then.
fn put_in_place(
    w: BufWriter<Behind>,
    partial: &Path,
    target: &Path,
    replace: bool,
) -> Result<(), Error> {
    let shown = target.display();
    let file = w
        .into_inner()
        .map_err(|e| Error(format!("{shown}: cannot write: {}", e.error())))?
        .file;
    if replace {
        // Still a regular file (not swapped for something else meanwhile)?
        let old = fs::symlink_metadata(target).map_err(|e| Error(format!("{shown}: {e}")))?;
        if !old.file_type().is_file() {
            return Err(Error(format!(
                "{shown}: is no longer a regular file: not replaced"
            )));
        }
        let _ = file.set_permissions(old.permissions());
    }
    file.sync_all()
        .map_err(|e| Error(format!("{shown}: cannot write: {e}")))?;
    drop(file);
    if replace {
        fs::rename(partial, target)
            .map_err(|e| Error(format!("{shown}: cannot rename into place: {e}")))?;
    } else {
        // A hard link fails where a rename would replace: a file that
        // appeared at the target while this one was written stays.
        match fs::hard_link(partial, target) {
            Ok(()) => {
                let _ = fs::remove_file(partial);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error(format!(
                    "{shown}: appeared while the output was written: not replaced (use --force \
                     to overwrite it)"
                )));
            }
            // A file system without hard links: rename, having looked.
            Err(_) if fs::symlink_metadata(target).is_err() => {
                fs::rename(partial, target)
                    .map_err(|e| Error(format!("{shown}: cannot rename into place: {e}")))?;
            }
            Err(e) => return Err(Error(format!("{shown}: cannot put in place: {e}"))),
        }
    }
    // Make the new name durable where directories can be synced.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Bytes written to a file between two requests to start writing them to
/// the disk.
const WRITE_BACK: u64 = 4 << 20;
/// Handed to the disk in whole pages of this size (the smallest in use).
const PAGE: u64 = 4096;

/// A file whose written bytes are handed to the disk as they come, every
/// [`WRITE_BACK`] bytes, so that the sync before it is put in place finds
/// little left to write (the kernel would otherwise start only when the
/// dirty pages pile up, or at the sync).
pub struct Behind {
    file: File,
    written: u64,
    /// Bytes already handed to the disk.
    started: u64,
}

impl Behind {
    fn new(file: File) -> Behind {
        Behind {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl Write for Behind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        // Whole pages only: a page the next write fills further would be
        // dirtied again while it is written out (on file systems or devices
        // that keep pages stable during I/O, the writer would wait for it).
        let end = self.written & !(PAGE - 1);
        if end - self.started >= WRITE_BACK {
            start_write_back(&self.file, self.started, end - self.started);
            self.started = end;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks the kernel to start writing `len` bytes of `file` at `offset` to
/// the disk, without waiting for them.  Only a hint: its errors (and the
/// data's) are the final `sync_all`'s to report.
#[cfg(target_os = "linux")]
fn start_write_back(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: a system call on a descriptor `file` keeps open, with no
    // memory passed.
    let _ = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
}

/// Elsewhere, nothing: the final sync writes it all.
#[cfg(not(target_os = "linux"))]
fn start_write_back(_file: &File, _offset: u64, _len: u64) {}

/// A reader that stopped reading (`| head`) is not an error: the rest of
/// the output is dropped, as other command line tools do.
pub fn unless_closed<T>(r: io::Result<T>, done: T) -> io::Result<T> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(done),
        r => r,
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(s) => unless_closed(s.write(buf), buf.len()),
            Output::Direct { writer, .. } => match writer {
                Some(w) => unless_closed(w.write(buf), buf.len()),
                None => Err(io::Error::other("output already finished")),
            },
            Output::File { writer, .. } => match writer {
                Some(w) => w.write(buf),
                None => Err(io::Error::other("output already finished")),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(s) => unless_closed(s.flush(), ()),
            Output::Direct { writer, .. } => match writer {
                Some(w) => unless_closed(w.flush(), ()),
                None => Ok(()),
            },
            Output::File { writer, .. } => match writer {
                Some(w) => w.flush(),
                None => Ok(()),
            },
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not finished (an error): leave no partial file behind.
        if let Output::File {
            partial,
            writer: Some(_),
            ..
        } = self
        {
            let _ = fs::remove_file(partial);
        }
    }
}

/// A new file `.<name>.partial.<pid>.<n>` beside `path`.
fn partial_file(path: &Path) -> Result<(PathBuf, File), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error(format!("{}: not a file name", path.display())))?;
    for n in 0..100 {
        let tmp = dir.join(format!(".{name}.partial.{}.{n}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error(format!(
                    "{}: cannot create {}: {e}",
                    path.display(),
                    tmp.display()
                )))
            }
        }
    }
    Err(Error(format!(
        "{}: cannot create a temporary file beside it",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(force: bool) -> Rules<'static> {
        Rules {
            inputs: Inputs::default(),
            force,
            binary: false,
        }
    }

    #[test]
    fn plans() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let file = d.join("f.csv");
        assert_eq!(plan(&file, &rules(false)), Ok(Plan::New(file.clone())));
        fs::write(&file, "old").unwrap();
        assert!(plan(&file, &rules(false))
            .unwrap_err()
            .0
            .contains("exists (use --force"));
        assert_eq!(plan(&file, &rules(true)), Ok(Plan::Replace(file.clone())));
        // Through a link (relative, two deep): the file it names.
        let link = d.join("link.csv");
        std::os::unix::fs::symlink("f.csv", &link).unwrap();
        let link2 = d.join("link2.csv");
        std::os::unix::fs::symlink(&link, &link2).unwrap();
        assert_eq!(plan(&link2, &rules(true)), Ok(Plan::Replace(file.clone())));
        let dangling = d.join("dangling.csv");
        std::os::unix::fs::symlink("new.csv", &dangling).unwrap();
        assert_eq!(
            plan(&dangling, &rules(false)),
            Ok(Plan::New(d.join("new.csv")))
        );
        let loop_ = d.join("loop");
        std::os::unix::fs::symlink("loop", &loop_).unwrap();
        assert!(plan(&loop_, &rules(true)).unwrap_err().0.contains("loop"));
        // Devices and directories.
        assert_eq!(
            plan(Path::new("/dev/null"), &rules(false)),
            Ok(Plan::Direct("/dev/null".into()))
        );
        assert!(plan(d, &rules(true)).unwrap_err().0.contains("a directory"));
        assert!(plan(&d.join("no/such.csv"), &rules(false))
            .unwrap_err()
            .0
            .contains("is not a directory"));
        // Inputs, also through a link.
        let captures = [file.clone()];
        let r = Rules {
            inputs: Inputs {
                captures: &captures,
                index: None,
            },
            force: true,
            binary: false,
        };
        assert!(plan(&link, &r)
            .unwrap_err()
            .0
            .contains("a capture of the session"));
        let r = Rules {
            inputs: Inputs {
                captures: &[],
                index: Some(&file),
            },
            ..r
        };
        assert!(plan(&file, &r).unwrap_err().0.contains("the index itself"));
    }
}
