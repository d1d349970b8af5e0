//! What the format readers (pcap, pcapng, CTRACE) hand to
//! [`Capture`](crate::Capture): a [`Record`] saying where the packet bytes
//! are (never a copy for pcap and pcapng), or a [`Fail`] that the capture
//! turns into an [`Error`](crate::Error) naming the file.

use crate::error::ErrorKind;
use crate::{Direction, Link};
use std::fmt::Display;
use std::io;

/// Where a record's packet bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// In the source's slice.
    Source { start: usize, len: usize },
    /// The CTRACE reader's current packet.
    Ctrace,
}

/// One packet as a reader found it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    pub frame: u32,
    pub loc: Loc,
    pub ts_ns: i64,
    pub orig_len: u32,
    pub link: Link,
    pub interface: u32,
    pub direction: Direction,
    pub offset: u64,
}

/// An error before the file name is attached.
#[derive(Debug)]
pub(crate) struct Fail {
    pub offset: Option<u64>,
    pub kind: ErrorKind,
}

impl Fail {
    pub fn at(offset: u64, kind: ErrorKind) -> Fail {
        Fail {
            offset: Some(offset),
            kind,
        }
    }

    pub fn io(e: io::Error) -> Fail {
        Fail {
            offset: None,
            kind: ErrorKind::Io(e),
        }
    }

    pub fn invalid(offset: u64, what: &'static str, detail: impl Display) -> Fail {
        Fail::at(
            offset,
            ErrorKind::Invalid {
                what,
                detail: detail.to_string(),
            },
        )
    }
}
