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
        }
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
            return Ok(None);
        };
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
        let offset = p.offset;
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
