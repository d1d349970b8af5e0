//! Enterprise Extender (RFC 2353) wire formats, as typed zero-copy views over
//! byte slices.  Knows nothing of Wireshark.
//!
//! Each view checks the length it needs once, in `new_checked`; accessors
//! then read fixed ranges named in a `field` module.  Variable parts (label
//! lists, optional segments, control vectors) are walked by iterators that
//! check every length before use.  Errors carry the byte offset, counted
//! from the start of the EE UDP payload where the caller passes one in.
//! Where each format fact comes from: docs/ee.md.

pub mod analysis;
pub mod anr;
pub mod cv;
pub mod datagram;
pub mod ebcdic;
pub mod fid5;
pub mod gds;
pub mod layout;
pub mod llc;
pub mod nhdr;
pub mod ports;
pub mod probes;
pub mod sense;
pub mod thdr;
pub mod xid3;

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
    /// A length or code at `offset` cannot be right: `value` breaks `rule`.
    Invalid {
        what: &'static str,
        offset: usize,
        value: u32,
        rule: &'static str,
    },
}

impl Error {
    /// The byte offset the error names.
    pub fn offset(&self) -> usize {
        match *self {
            Error::Truncated { offset, .. } | Error::Invalid { offset, .. } => offset,
        }
    }

    /// The same error with its offset moved by `base` (for a structure found
    /// `base` bytes into the datagram).
    pub fn at(self, base: usize) -> Error {
        match self {
            Error::Truncated {
                what,
                offset,
                needed,
                available,
            } => Error::Truncated {
                what,
                offset: offset + base,
                needed,
                available,
            },
            Error::Invalid {
                what,
                offset,
                value,
                rule,
            } => Error::Invalid {
                what,
                offset: offset + base,
                value,
                rule,
            },
        }
    }
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
            Error::Invalid {
                what,
                offset,
                value,
                rule,
            } => write!(f, "{what} at byte {offset} is {value:#x}: {rule}"),
        }
    }
}

impl std::error::Error for Error {}

/// Checks that `bytes` holds `needed` bytes from `offset`.
pub(crate) fn need(
    bytes: &[u8],
    offset: usize,
    needed: usize,
    what: &'static str,
) -> Result<(), Error> {
    let available = bytes.len().saturating_sub(offset);
    if available < needed {
        return Err(Error::Truncated {
            what,
            offset,
            needed,
            available,
        });
    }
    Ok(())
}

pub(crate) fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

pub(crate) fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

pub(crate) fn be64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(word)
}
