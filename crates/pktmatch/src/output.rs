//! Output files of the reader subcommands: `-` is standard output; a file
//! is written beside its final name and renamed into place when complete
//! (an interrupted run leaves no half file), never over a capture of the
//! session or the index, and over an existing file only with --force.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::session::{self, Error};

/// True for the `-` that means standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

pub enum Output {
    Stdout(io::StdoutLock<'static>),
    File {
        target: PathBuf,
        partial: PathBuf,
        writer: Option<BufWriter<File>>,
    },
}

impl Output {
    /// Opens `path` for writing (see the module comment).
    pub fn create(
        path: &Path,
        inputs: &[PathBuf],
        session: &Path,
        force: bool,
    ) -> Result<Output, Error> {
        if is_stdout(path) {
            return Ok(Output::Stdout(io::stdout().lock()));
        }
        session::refuse_input(path, inputs, session)?;
        if path.exists() && !force {
            return Err(Error(format!(
                "{}: exists (use --force to overwrite)",
                path.display()
            )));
        }
        let (partial, file) = partial_file(path)?;
        Ok(Output::File {
            target: path.to_path_buf(),
            partial,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// An error writing this output, naming it.
    pub fn error(&self, e: io::Error) -> Error {
        match self {
            Output::Stdout(_) => Error(format!("standard output: {e}")),
            Output::File { target, .. } => {
                Error(format!("{}: cannot write: {e}", target.display()))
            }
        }
    }

    /// Flushes and, for a file, renames it into place.
    pub fn finish(mut self) -> Result<(), Error> {
        match &mut self {
            Output::Stdout(s) => {
                unless_closed(s.flush(), ()).map_err(|e| Error(format!("standard output: {e}")))
            }
            Output::File {
                target,
                partial,
                writer,
            } => {
                let Some(w) = writer.take() else {
                    return Ok(());
                };
                let file = w.into_inner().map_err(|e| {
                    Error(format!("{}: cannot write: {}", target.display(), e.error()))
                })?;
                file.sync_all()
                    .map_err(|e| Error(format!("{}: cannot write: {e}", target.display())))?;
                drop(file);
                fs::rename(&*partial, &*target).map_err(|e| {
                    Error(format!(
                        "{}: cannot rename into place: {e}",
                        target.display()
                    ))
                })
            }
        }
    }
}

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
            Output::File { writer, .. } => match writer {
                Some(w) => w.write(buf),
                None => Err(io::Error::other("output already finished")),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(s) => unless_closed(s.flush(), ()),
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
pub fn partial_file(path: &Path) -> Result<(PathBuf, File), Error> {
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
