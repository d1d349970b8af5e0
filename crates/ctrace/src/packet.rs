//! What a trace yields: [`Packet`]s (one per traced packet, all its
//! segments joined; one per other entry; one for bytes at the end that no
//! entry follows), each with the [`Note`]s about it — bytes skipped before
//! it, framing anomalies, lengths that contradict each other.  The type says
//! nothing about where the bytes came from, so other kinds of input (an IPCS
//! formatted report, an unpacked XMIT or AMATERSE file) can yield the same.

use crate::cte::{self, Cte};
use crate::input::Input;
use crate::pthdr::Pthdr;
use crate::Error;
use std::fmt;
use std::io;

/// A source of [`Packet`]s.  [`crate::Reader`] reads trace data sets (raw,
/// RDW, BDW framing); other inputs — an IPCS formatted report, an unpacked
/// TSO XMIT or AMATERSE file — can implement it and feed the same
/// consumers.
pub trait Packets {
    /// The next packet; `None` at the end.  Only reading can fail: damage is
    /// said in the packets' notes.
    fn next_packet(&mut self, input: &mut dyn Input) -> io::Result<Option<Packet<'_>>>;
}

/// Which way a packet went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    #[default]
    Unknown,
    /// PTH_Out clear: IPCS "From" interface.
    Inbound,
    /// PTH_Out set: IPCS "To" interface.
    Outbound,
}

/// What a [`Packet`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An entry with a packet trace header: its format id (4 packet, 5 data,
    /// 6 EE, 7 OSAENTA, 8 SMC).
    Traced(u8),
    /// An entry without one (old formats 1-3): its format id.
    Other(u8),
    /// A lost-records marker.
    Lost,
    /// No entry at all: bytes that are no entry, at the end of the input.
    NoEntry,
}

impl Kind {
    /// The format id (low byte of CTEFMTID), if there is an entry.
    pub fn fmtid(self) -> Option<u8> {
        match self {
            Kind::Traced(f) | Kind::Other(f) => Some(f),
            Kind::Lost => Some(cte::FMT_LOST),
            Kind::NoEntry => None,
        }
    }
}

/// One packet (or other entry) of a trace.  Borrowed from its reader until
/// the next one is read.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub kind: Kind,
    /// The record as Wireshark is given it: the bytes skipped before the
    /// first entry (a writer's record header, damage), the entry, and for a
    /// segmented packet the further entries with whatever lay between them.
    pub record: &'a [u8],
    /// Where each entry is in `record`: (start, length).  The first starts
    /// after the skipped bytes; empty for [`Kind::NoEntry`].
    pub entries: &'a [(usize, usize)],
    /// The traced bytes: the packet (segments joined), the socket data, the
    /// frame; for entries without a packet trace header, the CTE data.
    pub data: &'a [u8],
    /// PTH_Time, else CTETIME; for [`Kind::NoEntry`] the time of the packet
    /// before (none for the first).
    pub tod: Option<u64>,
    pub direction: Direction,
    /// PTH_Name (EBCDIC; data trace: job name and socket bytes).
    pub name: Option<&'a [u8]>,
    pub interface_index: Option<u32>,
    /// PTH_Plen.
    pub plen: Option<u32>,
    /// PTH_Tlen.
    pub tlen: Option<u32>,
    /// Input offset of `record[0]`.
    pub offset: u64,
    /// Where `record` is in the input: (offset, length) pieces, in order
    /// (more than one when descriptors or segments lie between its bytes).
    pub chunks: &'a [(u64, usize)],
    /// What is worth saying about this packet and the bytes before it.
    pub notes: &'a [Note],
}

impl<'a> Packet<'a> {
    /// Bytes skipped before the first entry.
    pub fn skipped(&self) -> &'a [u8] {
        let end = self
            .entries
            .first()
            .map_or(self.record.len(), |&(start, _)| start);
        &self.record[..end]
    }

    /// The first entry.
    pub fn first_cte(&self) -> Option<Cte<'a>> {
        let &(start, len) = self.entries.first()?;
        Cte::new_checked(&self.record[start..start + len]).ok()
    }

    /// The first entry's packet trace header.
    pub fn pthdr(&self) -> Option<Pthdr<'a>> {
        match self.kind {
            Kind::Traced(_) => Pthdr::from_cte(&self.first_cte()?).ok(),
            _ => None,
        }
    }

    /// The format id, if there is an entry.
    pub fn fmtid(&self) -> Option<u8> {
        self.kind.fmtid()
    }

    /// Time in nanoseconds since the Unix epoch (TOD − `leap_seconds`).
    pub fn time_ns(&self, leap_seconds: i64) -> Option<i64> {
        self.tod.map(|t| crate::tod::to_unix_ns(t, leap_seconds))
    }

    /// Length of the packet before tracing cut it: PTH_Plen, but never less
    /// than what was traced (a contradiction the notes report).
    pub fn original_len(&self) -> u32 {
        let traced = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        self.plen.map_or(traced, |p| p.max(traced))
    }

    /// Fewer bytes traced than the packet had (IPCS "Abbrev=").
    pub fn is_abbreviated(&self) -> bool {
        matches!((self.tlen, self.plen), (Some(t), Some(p)) if t < p)
    }

    /// How many entries (segments) it took.
    pub fn segments(&self) -> usize {
        self.entries.len()
    }
}

/// Something worth saying about a packet or the bytes before it; `offset`
/// counts from the start of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub offset: u64,
    pub kind: NoteKind,
}

/// What a [`Note`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// `len` bytes that are no entry; `why` when they start like one (a
    /// damaged entry), else unknown bytes such as a writer's record header.
    Skipped { len: u64, why: Option<Error> },
    /// An RDW record longer than the 32 760 bytes an RDW describes on z/OS:
    /// a spanned (VS/VBS) record whose segments the transfer joined, as FTP
    /// `SITE RDW` does (DFSMS: QSAM GET "consolidates segments into logical
    /// records and creates the RDW"); or damage.
    LongRecord { len: u64 },
    /// A segment descriptor out of order (spanned records).
    SegmentOrder { code: u8, inside: bool },
    /// The file ends inside a record its descriptor announced.
    TruncatedRecord { len: u64, available: u64 },
    /// A record or block descriptor that does not fit: the rest is read as
    /// if no descriptors were there, each further descriptor then showing
    /// up as skipped bytes.
    FramingLost { error: Error },
    /// PTH_Tlen says more bytes than the entry (or the segments found)
    /// hold.
    TracedBeyondEntry { tlen: u32, have: u64 },
    /// The entry holds more bytes after the header than PTH_Tlen says.
    BeyondTlen { tlen: u32, have: u64 },
    /// PTH_Plen is below PTH_Tlen.
    PlenBelowTlen { plen: u32, tlen: u32 },
    /// The IP header's own length disagrees with PTH_Plen.
    IpLength { ip: u32, plen: u32 },
    /// A continuation segment whose first record is missing.
    OrphanSegment { seq: u8 },
}

impl Note {
    /// A damaged record or descriptor, rather than something merely odd:
    /// Wireshark shows these as malformed.
    pub fn is_damage(&self) -> bool {
        matches!(
            self.kind,
            NoteKind::Skipped { why: Some(_), .. }
                | NoteKind::TruncatedRecord { .. }
                | NoteKind::FramingLost { .. }
        )
    }

    /// The bytes were skipped as unknown (possibly a writer header), not as
    /// damage.
    pub fn is_unknown_bytes(&self) -> bool {
        matches!(self.kind, NoteKind::Skipped { why: None, .. })
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            NoteKind::Skipped { len, why: None } => write!(
                f,
                "byte {at}: {len} bytes that are no trace entry skipped (a writer record header \
                 or unknown data)"
            ),
            NoteKind::Skipped { len, why: Some(e) } => write!(
                f,
                "byte {at}: {len} bytes skipped: a damaged entry ({}); reading on at the next \
                 valid entry",
                e.at(at)
            ),
            NoteKind::LongRecord { len } => write!(
                f,
                "byte {at}: RDW record of {len} bytes, longer than the 32 760 an RDW describes \
                 on z/OS: a spanned (VBS) record whose segments the transfer joined (as FTP \
                 SITE RDW does), read as one record"
            ),
            NoteKind::SegmentOrder { code, inside } => write!(
                f,
                "byte {at}: segment descriptor code {code:02b} {}",
                if *inside {
                    "starts a new record inside a spanned one (the spanned record's end is missing)"
                } else {
                    "continues a spanned record that never began (its first segment is missing)"
                }
            ),
            NoteKind::TruncatedRecord { len, available } => write!(
                f,
                "byte {at}: the record descriptor announces {len} bytes, the file ends after \
                 {available}"
            ),
            NoteKind::FramingLost { error } => write!(
                f,
                "{error}; reading on without record descriptors (each further one shows up as \
                 skipped bytes)"
            ),
            NoteKind::TracedBeyondEntry { tlen, have } => write!(
                f,
                "byte {at}: PTH_Tlen says {tlen} bytes were traced, the entries hold {have}"
            ),
            NoteKind::BeyondTlen { tlen, have } => write!(
                f,
                "byte {at}: the entry holds {have} traced bytes, PTH_Tlen says {tlen}"
            ),
            NoteKind::PlenBelowTlen { plen, tlen } => write!(
                f,
                "byte {at}: PTH_Plen {plen} is below PTH_Tlen {tlen}: the lengths contradict \
                 each other"
            ),
            NoteKind::IpLength { ip, plen } => write!(
                f,
                "byte {at}: the IP header says the packet has {ip} bytes, PTH_Plen says {plen}"
            ),
            NoteKind::OrphanSegment { seq } => write!(
                f,
                "byte {at}: segment {seq} of a packet whose first record (PTH_SeqNum 0) is \
                 missing"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_say_where_and_what() {
        let n = Note {
            offset: 4100,
            kind: NoteKind::LongRecord { len: 40_000 },
        };
        assert!(n
            .to_string()
            .starts_with("byte 4100: RDW record of 40000 bytes"));
        assert!(!n.is_damage());
        let d = Note {
            offset: 10,
            kind: NoteKind::Skipped {
                len: 30,
                why: Some(Error::LengthMismatch {
                    offset: 0,
                    what: "CTE",
                    field: "CTELENE",
                    found: 16,
                    other: "CTELENP",
                    expected: 20,
                }),
            },
        };
        assert!(d.is_damage() && !d.is_unknown_bytes());
        assert!(d.to_string().contains("CTE at byte 10: CTELENE"), "{d}");
        for kind in [
            NoteKind::Skipped { len: 3, why: None },
            NoteKind::SegmentOrder {
                code: 2,
                inside: false,
            },
            NoteKind::SegmentOrder {
                code: 1,
                inside: true,
            },
            NoteKind::TruncatedRecord {
                len: 100,
                available: 4,
            },
            NoteKind::FramingLost {
                error: Error::UnknownFraming { offset: 5 },
            },
            NoteKind::TracedBeyondEntry { tlen: 9, have: 2 },
            NoteKind::BeyondTlen { tlen: 2, have: 9 },
            NoteKind::PlenBelowTlen { plen: 1, tlen: 2 },
            NoteKind::IpLength { ip: 60, plen: 40 },
            NoteKind::OrphanSegment { seq: 2 },
        ] {
            let s = Note { offset: 5, kind }.to_string();
            assert!(s.contains("byte 5"), "{s}");
        }
        assert_eq!(Kind::Traced(4).fmtid(), Some(4));
        assert_eq!(Kind::Lost.fmtid(), Some(0xFF));
        assert_eq!(Kind::NoEntry.fmtid(), None);
    }
}
