//! The crate's one error type: what failed, naming the file.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error of the key table or Parquet export, with the file it is about.
#[derive(Debug)]
pub struct Error {
    pub path: PathBuf,
    pub kind: ErrorKind,
}

#[derive(Debug)]
pub enum ErrorKind {
    Io(std::io::Error),
    Parquet(parquet::errors::ParquetError),
    Arrow(arrow_schema::ArrowError),
    /// Reading the capture failed before its first packet.
    Capture(capture::Error),
    /// A key table that is not one, or not a whole one.
    Format(String),
    /// An output that exists (without --force), or is not ours to replace.
    Exists(String),
}

impl Error {
    pub fn new(path: &Path, kind: ErrorKind) -> Error {
        Error {
            path: path.to_path_buf(),
            kind,
        }
    }
    pub fn format(path: &Path, what: impl Into<String>) -> Error {
        Error::new(path, ErrorKind::Format(what.into()))
    }
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |e| Error::new(path, ErrorKind::Io(e))
    }
    pub fn parquet(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
        move |e| Error::new(path, ErrorKind::Parquet(e))
    }
    pub fn arrow(path: &Path) -> impl FnOnce(arrow_schema::ArrowError) -> Error + '_ {
        move |e| Error::new(path, ErrorKind::Arrow(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "{p}: {e}"),
            ErrorKind::Parquet(e) => write!(f, "{p}: Parquet: {e}"),
            ErrorKind::Arrow(e) => write!(f, "{p}: Arrow: {e}"),
            // capture errors name their file themselves
            ErrorKind::Capture(e) => write!(f, "{e}"),
            ErrorKind::Format(s) => write!(f, "{p}: {s}"),
            ErrorKind::Exists(s) => write!(f, "{p}: {s}"),
        }
    }
}

impl std::error::Error for Error {}
