//! Enterprise Extender (RFC 2353) wire formats, as typed zero-copy views over
//! byte slices.  Knows nothing of Wireshark.
//!
//! Each view checks the length it needs once, in `new_checked`; accessors
//! then read fixed ranges named in a `field` module.  Errors carry the byte
//! offset where the data fell short.

pub mod llc;
pub mod ports;

/// A view could not be made over the bytes given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The structure needs `needed` bytes from `offset`, only `available` are there.
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Truncated {
                what,
                offset,
                needed,
                available,
            } => write!(
                f,
                "{what} at byte {offset} needs {needed} bytes, only {available} present"
            ),
        }
    }
}

impl std::error::Error for Error {}
