//! z/OS CTRACE packet traces (SYSTCPDA, SYSTCPOT), read with the `ctrace`
//! crate's [`ctrace::Reader`] — the one pipeline Wireshark's CTRACE reader,
//! its dissector and `pktmatch convert` use too — over the same [`Source`]
//! window as the other formats (the whole mapped file, or a gzip stream a
//! buffer at a time).
//!
//! * Format id 4 (packet trace) is an IP packet: [`Link::Raw`]; 7 (OSAENTA)
//!   an Ethernet frame: [`Link::Ethernet`].  Every other packet the reader
//!   yields (data trace, EE, SMC, old formats, lost-record markers, bytes at
//!   the end that are no entry) is returned too, as [`Link::Ctrace`] with its
//!   bytes, so that frame numbers are those Wireshark gives: one frame per
//!   packet (all its segments), one per other entry.
//! * Time is PTH_Time (when the packet was traced) as UTC, less the
//!   configured leap seconds; records without a packet trace header use
//!   CTETIME.
//! * Interfaces are numbered in order of first appearance of (interface
//!   name, link), as `pktmatch convert` numbers them in the pcapng it
//!   writes.
//! * The frame as Wireshark shows it ([`CtraceReader::wire`]: the bytes
//!   skipped before the entry, the entries) is kept beside the packet, so the
//!   index can check frames the way the post-dissector sees them.

use crate::reader::{Fail, Loc, Record};
use crate::source::Source;
use crate::{Direction, Interface, Link};
use ctrace::cte::{FMT_OSAENTA, FMT_PACKET};
use ctrace::{Framing, Kind, Reader};

/// PTH_Name's width.
const NAME: usize = ctrace::layout::pthdr::NAME.width;
use std::io;

pub(crate) struct CtraceReader {
    reader: Reader,
    leap_seconds: i64,
    /// (PTH_Name, link) of each interface seen, by interface number.
    names: Vec<([u8; NAME], Link)>,
    frame: u32,
    /// The file offset where reading began (a piece's start; offsets in
    /// the file are the reader's plus this).
    base: u64,
    /// A piece's end: reading stops at the packet whose record starts
    /// there, and a record that starts before and reaches past it, or
    /// the file's end before it, is an error (the piece did not end where
    /// a record ends: [`crate::Capture::pieces`]).
    stop: Option<u64>,
}

/// The capture's source as the `ctrace` reader's input.
struct SourceInput<'s, 'a>(&'s mut Source<'a>);

impl ctrace::Input for SourceInput<'_, '_> {
    fn fill(&mut self, want: usize) -> io::Result<&[u8]> {
        self.0.ensure(want)?;
        Ok(self.0.avail())
    }

    fn consume(&mut self, n: usize) {
        self.0.advance(n);
    }
}

fn link_of(kind: Kind) -> Link {
    match kind {
        Kind::Traced(FMT_PACKET) => Link::Raw,
        Kind::Traced(FMT_OSAENTA) => Link::Ethernet,
        Kind::Traced(f) | Kind::Other(f) => Link::Ctrace(f),
        Kind::Lost => Link::Ctrace(ctrace::cte::FMT_LOST),
        Kind::NoEntry => Link::Ctrace(0),
    }
}

impl CtraceReader {
    pub fn new(framing: Framing, leap_seconds: i64) -> CtraceReader {
        CtraceReader {
            reader: Reader::new(framing),
            leap_seconds,
            names: Vec::new(),
            frame: 0,
            base: 0,
            stop: None,
        }
    }

    /// A reader of the piece `start..end` of a raw trace (`end` None: to
    /// the file's end), its source already at `start`.  It reads on past
    /// `end` to the next record, which must start there; whether a fresh
    /// reader at `start` reads what reading the file whole reads from
    /// there is the piece before's to confirm, by that rule.
    pub fn piece(framing: Framing, leap_seconds: i64, start: u64, end: Option<u64>) -> Self {
        CtraceReader {
            base: start,
            stop: end,
            ..CtraceReader::new(framing, leap_seconds)
        }
    }

    /// Bytes the `ctrace` reader's buffers hold on the heap.
    pub fn held_bytes(&self) -> usize {
        self.reader.held_bytes()
    }

    /// Seconds taken off TOD times (the capture's option).
    pub fn leap_seconds(&self) -> i64 {
        self.leap_seconds
    }

    /// What tells its interfaces apart, by number: the PTH_Name bytes and
    /// the link (two names may decode to the same text).
    pub fn interface_keys(&self) -> Vec<(Vec<u8>, Link)> {
        self.names.iter().map(|(n, l)| (n.to_vec(), *l)).collect()
    }

    /// Frames numbered so far (the last one's number).
    pub fn frames(&self) -> u32 {
        self.frame
    }

    fn interface(&mut self, name: [u8; NAME], link: Link, interfaces: &mut Vec<Interface>) -> u32 {
        if let Some(i) = self.names.iter().position(|&(n, l)| n == name && l == link) {
            return i as u32;
        }
        self.names.push((name, link));
        let text = if name == [0; NAME] {
            None
        } else {
            Some(ctrace::ebcdic::decode_name(&name))
        };
        interfaces.push(Interface {
            link,
            linktype: link.linktype().unwrap_or(0),
            name: text,
            snaplen: 0,
            tsresol: 9,
        });
        (interfaces.len() - 1) as u32
    }

    pub fn next(
        &mut self,
        src: &mut Source<'_>,
        interfaces: &mut Vec<Interface>,
    ) -> Result<Option<Record>, Fail> {
        let leap = self.leap_seconds;
        let Some(p) = self
            .reader
            .next_packet(&mut SourceInput(src))
            .map_err(Fail::io)?
        else {
            return match self.stop {
                Some(stop) => Err(piece_end(stop, "the file ends before it")),
                None => Ok(None),
            };
        };
        let offset = self.base + p.offset;
        if let Some(stop) = self.stop.filter(|&stop| offset >= stop) {
            return match offset == stop {
                true => Ok(None),
                false => Err(piece_end(stop, "a record runs past it")),
            };
        }
        let link = link_of(p.kind);
        let mut name = [0u8; NAME];
        if let Some(n) = p.name {
            name.copy_from_slice(n);
        }
        let ts_ns = p.time_ns(leap).unwrap_or(0);
        let orig_len = p.original_len();
        let direction = match p.direction {
            ctrace::Direction::Inbound => Direction::Inbound,
            ctrace::Direction::Outbound => Direction::Outbound,
            ctrace::Direction::Unknown => Direction::Unknown,
        };
        let interface = self.interface(name, link, interfaces);
        self.frame = self.frame.wrapping_add(1);
        Ok(Some(Record {
            frame: self.frame,
            loc: Loc::Ctrace,
            ts_ns,
            orig_len,
            link,
            interface,
            direction,
            offset,
        }))
    }

    /// The traced bytes of the packet `next` returned last.
    pub fn data(&self) -> &[u8] {
        self.reader.last().map_or(&[], |p| p.data)
    }

    /// The frame Wireshark shows for that packet, and its time (TOD as UTC,
    /// no leap seconds: Wireshark's frame time).
    pub fn wire(&self) -> (&[u8], i64) {
        self.reader
            .last()
            .map_or((&[], 0), |p| (p.record, p.time_ns(0).unwrap_or(0)))
    }
}

/// A piece of a trace that does not end where a record does.
fn piece_end(stop: u64, why: &str) -> Fail {
    Fail::invalid(
        stop,
        "CTRACE piece",
        format!("no record starts at the piece's end: {why}"),
    )
}
