//! One formatted trace record, with every value the report shows.

use std::fmt;
use std::net::IpAddr;

/// Packet direction, from "From …"/"To …" (and "Flags: … Out").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// What the record's name is the name of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Interface,
    Link,
    Job,
}

/// "Full=n" or "Abbrev=n".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    Full(u32),
    Abbrev(u32),
}

/// One hex dump section ("IP Header : 20", "Protocol Header : 32",
/// "Data : 12  Data Length: 12", or another heading followed by a dump).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// Line number of the heading (or of the first dump line).
    pub line: usize,
    /// The byte count the heading states.
    pub declared: Option<u32>,
    /// "Data Length: n", the data's length in the packet.
    pub data_length: Option<u32>,
    pub bytes: Vec<u8>,
}

/// Something about one record that does not add up; shown on that packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A section's heading states `declared` bytes; its dump holds `dumped`.
    SectionLength {
        line: usize,
        section: String,
        declared: u32,
        dumped: u32,
    },
    /// A dump line's offset is not where the bytes before it end.
    Offset {
        line: usize,
        section: String,
        expected: u32,
        found: u32,
    },
    /// Two values that must agree do not.
    Disagree { line: usize, what: String },
    /// The dumps hold fewer bytes than the packet had and the record does
    /// not say it was abbreviated.
    Incomplete {
        line: usize,
        dumped: u32,
        expected: u32,
    },
}

impl Problem {
    pub fn line(&self) -> usize {
        match self {
            Problem::SectionLength { line, .. }
            | Problem::Offset { line, .. }
            | Problem::Disagree { line, .. }
            | Problem::Incomplete { line, .. } => *line,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SectionLength {
                line,
                section,
                declared,
                dumped,
            } => write!(
                f,
                "line {line}: \"{section}\" states {declared} bytes, its hex dump holds {dumped}"
            ),
            Problem::Offset {
                line,
                section,
                expected,
                found,
            } => write!(
                f,
                "line {line}: \"{section}\" dump offset {found:06X} where {expected:06X} was expected"
            ),
            Problem::Disagree { line, what } => write!(f, "line {line}: {what}"),
            Problem::Incomplete {
                line,
                dumped,
                expected,
            } => write!(
                f,
                "line {line}: the hex dumps hold {dumped} of the packet's {expected} bytes"
            ),
        }
    }
}

/// A record of the report.  Fields the report did not show are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Line number of the record line.
    pub line: usize,
    /// Byte offset of the record line in the decoded text.
    pub offset: usize,
    /// "RcdNr".
    pub number: u64,
    pub sysname: String,
    /// "PACKET", "DATA", …
    pub mnemonic: String,
    /// "Entry Id": the CTE format id (low byte: 4 packet, 5 data, …).
    pub entry_id: u32,
    /// The record line's time stamp with the date of the `****` line
    /// before it: when the entry reached the trace buffer (CTETIME), or
    /// with the formatter's TOD option the capture time.  Unix µs.
    pub stamp_us: Option<i64>,
    /// "Packet Trace", "Data Trace", …
    pub description: String,
    pub direction: Option<Direction>,
    pub endpoint: Option<Endpoint>,
    /// Interface, link or job name.
    pub name: Option<String>,
    pub device: Option<String>,
    pub extent: Option<Extent>,
    /// "Tod Clock", Unix µs.
    pub tod_us: Option<i64>,
    pub ifindex: Option<u32>,
    /// "Sequence #" / "Segment #".
    pub seq: Option<u32>,
    /// "Flags:" words of the trace header.
    pub flags: Vec<String>,
    pub lost_records: Option<u64>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub asid: Option<u16>,
    pub tcb: Option<u32>,
    pub cid: Option<u32>,
    /// Data trace: domain, type, protocol, state as printed.
    pub domain: Option<String>,
    pub socket_type: Option<String>,
    pub socket_protocol: Option<String>,
    pub state: Option<String>,
    /// Formatted IP header values (FORMAT/FULL), for cross-checks.
    pub ip_version: Option<u8>,
    pub ip_packet_length: Option<u32>,
    pub ip_id: Option<u32>,
    pub ip_src: Option<IpAddr>,
    pub ip_dst: Option<IpAddr>,
    /// Whether the formatted IP header ("IpHeader:") was shown.
    pub formatted: bool,
    pub sections: Vec<Section>,
    pub problems: Vec<Problem>,
}

impl Record {
    /// The format id: the Entry Id's low byte.
    pub fn format_id(&self) -> u8 {
        self.entry_id as u8
    }

    /// Whether any hex dump was shown.
    pub fn has_dump(&self) -> bool {
        self.sections.iter().any(|s| !s.bytes.is_empty())
    }

    /// The section named `name` (case-insensitive).
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The packet's time: the Tod Clock, else the record line's stamp.
    pub fn time_us(&self) -> Option<i64> {
        self.tod_us.or(self.stamp_us)
    }
}
