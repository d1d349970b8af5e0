//! Errors of reading a capture: every one names the file and, where it is
//! about a place in it, the byte offset (of the decompressed data for a
//! gzip-compressed file, which the message then says).

use std::fmt;
use std::io;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Opening, mapping, reading or decompressing failed.
    Io(io::Error),
    /// The file is empty.
    Empty,
    /// Not a format this crate reads; `magic` is the first bytes.
    UnknownFormat { magic: Vec<u8> },
    /// A known format this crate does not read (zstd or LZ4 compression,
    /// the modified "Kuznetzov" pcap…).
    Unsupported {
        what: &'static str,
        hint: &'static str,
    },
    /// The file ends inside a record: `what` needs `needed` bytes, only
    /// `available` are left.
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// A structure is damaged.
    Invalid { what: &'static str, detail: String },
    /// The CTRACE reader's error (it carries its own file offset).
    Ctrace(ctrace::Error),
    /// A piece of a file ([`crate::Piece`]) holds `what`, which only a
    /// reading of the whole file can place: read it whole.
    NotInPieces { what: &'static str },
}

/// An error with the file it is about.
#[derive(Debug)]
pub struct Error {
    pub(crate) file: String,
    pub(crate) offset: Option<u64>,
    pub(crate) decompressed: bool,
    pub(crate) kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(
        file: &str,
        offset: Option<u64>,
        decompressed: bool,
        kind: ErrorKind,
    ) -> Error {
        Error {
            file: file.to_owned(),
            offset,
            decompressed,
            kind,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The file (as given to [`open`](crate::open), or "<memory>").
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The byte offset the error is about, if any (in the decompressed
    /// data for gzip input).
    pub fn offset(&self) -> Option<u64> {
        match &self.kind {
            ErrorKind::Ctrace(e) => Some(e.offset()),
            _ => self.offset,
        }
    }

    /// True when the file simply ends inside a record (a capture cut short,
    /// e.g. by killing the capturing program): every packet before it was
    /// read.
    pub fn is_truncation(&self) -> bool {
        match &self.kind {
            ErrorKind::Truncated { .. } => true,
            ErrorKind::Ctrace(e) => matches!(e, ctrace::Error::Truncated { .. }),
            ErrorKind::Io(e) => e.kind() == io::ErrorKind::UnexpectedEof,
            _ => false,
        }
    }

    /// True when a piece of the file ([`crate::Piece::open`]) cannot be
    /// read on its own and the file is to be read whole: this is no error
    /// of the file, whichever piece it comes from.
    pub fn needs_whole_file(&self) -> bool {
        matches!(self.kind, ErrorKind::NotInPieces { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let ErrorKind::Ctrace(e) = &self.kind {
            if self.decompressed {
                write!(f, "(decompressed data) ")?;
            }
            return write!(f, "CTRACE: {e}");
        }
        if let Some(o) = self.offset {
            if self.decompressed {
                write!(f, "byte {o} of the decompressed data: ")?;
            } else {
                write!(f, "byte {o}: ")?;
            }
        }
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "{e}"),
            ErrorKind::Empty => write!(f, "empty file"),
            ErrorKind::UnknownFormat { magic } => {
                write!(
                    f,
                    "not a pcap, pcapng, gzip or z/OS CTRACE file (starts with"
                )?;
                for b in magic {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ")")
            }
            ErrorKind::Unsupported { what, hint } => write!(f, "{what}: not supported; {hint}"),
            ErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} cut short: needs {needed} bytes, the file has {available} left"
            ),
            ErrorKind::Invalid { what, detail } => write!(f, "{what}: {detail}"),
            ErrorKind::Ctrace(_) => Ok(()),
            ErrorKind::NotInPieces { what } => write!(
                f,
                "{what} after the first frame: the file is to be read whole, not in pieces"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            ErrorKind::Ctrace(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_offset() {
        let e = Error::new(
            "a.pcap",
            Some(40),
            false,
            ErrorKind::Truncated {
                what: "pcap record",
                needed: 100,
                available: 12,
            },
        );
        assert_eq!(
            e.to_string(),
            "a.pcap: byte 40: pcap record cut short: needs 100 bytes, the file has 12 left"
        );
        assert!(e.is_truncation());
        assert_eq!(e.offset(), Some(40));
        let e = Error::new(
            "b.pcap.gz",
            Some(7),
            true,
            ErrorKind::Invalid {
                what: "pcapng block",
                detail: "bad".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "b.pcap.gz: byte 7 of the decompressed data: pcapng block: bad"
        );
        assert!(!e.is_truncation());
        let e = Error::new(
            "c",
            None,
            false,
            ErrorKind::UnknownFormat {
                magic: vec![0x12, 0xab],
            },
        );
        assert_eq!(
            e.to_string(),
            "c: not a pcap, pcapng, gzip or z/OS CTRACE file (starts with 12 ab)"
        );
        let c = ctrace::Error::UnknownFraming { offset: 3 };
        let e = Error::new("t.bin", Some(0), false, ErrorKind::Ctrace(c));
        assert!(e.to_string().starts_with("t.bin: CTRACE: byte 3"));
        assert_eq!(e.offset(), Some(3));
        assert!(std::error::Error::source(&e).is_some());
    }
}
