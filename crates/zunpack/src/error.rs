//! The one error type of the crate.  Every variant that is about a place in
//! the input names its byte offset.

use std::fmt;

/// Why a container could not be unpacked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `what` needs `needed` bytes at `offset`, only `available` are there.
    Truncated {
        offset: u64,
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// The bytes at `offset` break a rule of the format.
    Invalid {
        offset: u64,
        what: &'static str,
        detail: String,
    },
    /// The unpacked data would exceed `limit` bytes (a guard against
    /// decompression bombs; raise the limit if the data set is that big).
    TooLarge { limit: u64 },
    /// A valid container holding something this crate does not unpack
    /// (e.g. a partitioned data set in an XMIT file).
    Unsupported { what: String },
    /// Neither a TERSE nor an XMIT container.
    NotPacked,
}

impl Error {
    pub(crate) fn invalid(offset: usize, what: &'static str, detail: impl Into<String>) -> Error {
        Error::Invalid {
            offset: offset as u64,
            what,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    ) -> Error {
        Error::Truncated {
            offset: offset as u64,
            what,
            needed: needed as u64,
            available: available as u64,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated {
                offset,
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} at byte {offset}: truncated, needs {needed} bytes, only {available} there"
            ),
            Error::Invalid {
                offset,
                what,
                detail,
            } => write!(f, "{what} at byte {offset}: {detail}"),
            Error::TooLarge { limit } => write!(
                f,
                "the unpacked data would exceed {limit} bytes (the limit set against \
                 decompression bombs)"
            ),
            Error::Unsupported { what } => write!(f, "{what}"),
            Error::NotPacked => f.write_str("neither an AMATERSE/TERSE nor a TSO XMIT file"),
        }
    }
}

impl std::error::Error for Error {}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
