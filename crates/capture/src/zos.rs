//! z/OS CTRACE packet traces (SYSTCPDA, SYSTCPOT), read with the `ctrace`
//! crate: its [`Stepper`] walks the entries (raw, RDW or BDW framing, found
//! by `ctrace::framing::detect`) over the same [`Source`] window as the
//! other formats — the whole mapped file at once, or a gzip stream a
//! buffer at a time — which is what `ctrace::Entries` does over a slice;
//! [`ctrace::continues`] and [`ctrace::reassemble`] put packets split over
//! several entries back together; [`Pthdr`] gives time, direction,
//! original length and interface.
//!
//! * Format id 4 (packet trace) is an IP packet: [`Link::Raw`]; 7 (OSAENTA)
//!   an Ethernet frame: [`Link::Ethernet`].  Every other record (data trace,
//!   EE, SMC, old formats, lost-record markers, a damaged packet trace
//!   header) is returned too, as [`Link::Ctrace`] with its traced bytes, so
//!   that frame numbers are those the project's Wireshark CTRACE reader
//!   gives: one frame per packet (all its segments), one per other entry.
//! * Time is PTH_Time (when the packet was traced) as UTC, less the
//!   configured leap seconds; records without a packet trace header use
//!   CTETIME.
//! * Interfaces are numbered in order of first appearance of (interface
//!   name, link), as `pktmatch convert` numbers them in the pcapng it
//!   writes.
//! * Each entry is copied once into a reused buffer (an entry's successor
//!   must be seen before its packet is known to be complete, and a stream
//!   buffer may move in between); a packet split over several entries is
//!   joined by `ctrace::reassemble` (one allocation, for those only).

use crate::error::ErrorKind;
use crate::reader::{Fail, Loc, Record};
use crate::source::Source;
use crate::{Direction, Interface, Link};
use ctrace::cte::{FMT_OSAENTA, FMT_PACKET};
use ctrace::{Cte, Framing, Pthdr, Step, Stepper};
use std::borrow::Cow;

pub(crate) struct CtraceReader {
    stepper: Stepper,
    leap_seconds: i64,
    /// The current packet's entries, back to back.
    pub(crate) group: Vec<u8>,
    /// (start, length) of each entry in `group`.
    spans: Vec<(usize, usize)>,
    /// An entry read ahead that starts the next packet, and its offset.
    pending: Vec<u8>,
    pending_offset: Option<u64>,
    /// The reassembled bytes of a packet split over several entries.
    pub(crate) joined: Vec<u8>,
    /// (PTH_Name, link) of each interface seen, by interface number.
    names: Vec<([u8; 16], Link)>,
    frame: u32,
}

/// What one entry says about its packet.
struct Head {
    link: Link,
    ts_ns: i64,
    orig_len: u32,
    direction: Direction,
    name: [u8; 16],
    /// Where the traced bytes are in the entry, and how many.
    payload: (usize, usize),
    /// Traced bytes of the whole packet (PTH_Tlen), if there is a header.
    traced_len: Option<u32>,
}

fn head(entry: &[u8], leap_seconds: i64) -> Head {
    let Ok(cte) = Cte::new_checked(entry) else {
        // The stepper only returns checked entries; keep this total anyway.
        return Head {
            link: Link::Ctrace(0),
            ts_ns: 0,
            orig_len: entry.len() as u32,
            direction: Direction::Unknown,
            name: [0; 16],
            payload: (0, entry.len()),
            traced_len: None,
        };
    };
    let fmtid = if cte.is_lost_record() {
        ctrace::cte::FMT_LOST
    } else {
        cte.fmtid()
    };
    let data_start = usize::from(cte.cteoff());
    match Pthdr::from_cte(&cte) {
        Ok(p) => {
            let mut name = [0u8; 16];
            name.copy_from_slice(p.name_bytes());
            Head {
                link: match fmtid {
                    FMT_PACKET => Link::Raw,
                    FMT_OSAENTA => Link::Ethernet,
                    other => Link::Ctrace(other),
                },
                ts_ns: p.unix_ns(leap_seconds),
                orig_len: p.packet_len(),
                direction: if p.is_outbound() {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                },
                name,
                payload: (data_start + usize::from(p.header_len()), p.payload().len()),
                traced_len: Some(p.traced_len()),
            }
        }
        Err(_) => Head {
            link: Link::Ctrace(fmtid),
            ts_ns: ctrace::tod::to_unix_ns(cte.tod(), leap_seconds),
            orig_len: cte.data().len() as u32,
            direction: Direction::Unknown,
            name: [0; 16],
            payload: (data_start, cte.data().len()),
            traced_len: None,
        },
    }
}

impl CtraceReader {
    pub fn new(framing: Framing, leap_seconds: i64) -> CtraceReader {
        CtraceReader {
            stepper: Stepper::new(framing),
            leap_seconds,
            group: Vec::new(),
            spans: Vec::new(),
            pending: Vec::new(),
            pending_offset: None,
            joined: Vec::new(),
            names: Vec::new(),
            frame: 0,
        }
    }

    /// The next entry: its file offset and where it is in the source slice.
    fn next_entry(&mut self, src: &mut Source<'_>) -> Result<Option<(u64, usize, usize)>, Fail> {
        src.ensure(8).map_err(Fail::io)?;
        loop {
            match self.stepper.step(src.avail(), src.at_eof()) {
                Step::Entry { skip, len } => {
                    let start = src.pos() + skip;
                    let off = src.offset() + skip as u64;
                    src.advance(skip + len);
                    return Ok(Some((off, start, len)));
                }
                Step::Skip(n) => {
                    src.advance(n);
                    if src.avail().is_empty() {
                        src.ensure(8).map_err(Fail::io)?;
                    }
                }
                Step::NeedMore(n) => {
                    if src.at_eof() {
                        return Err(Fail::at(
                            self.stepper.offset(),
                            ErrorKind::Truncated {
                                what: "CTRACE entry",
                                needed: n as u64,
                                available: src.avail().len() as u64,
                            },
                        ));
                    }
                    src.ensure(n).map_err(Fail::io)?;
                }
                Step::End => return Ok(None),
                Step::Error(e) => {
                    return Err(Fail {
                        offset: Some(e.offset()),
                        kind: ErrorKind::Ctrace(e),
                    })
                }
            }
        }
    }

    fn interface(&mut self, name: [u8; 16], link: Link, interfaces: &mut Vec<Interface>) -> u32 {
        if let Some(i) = self.names.iter().position(|&(n, l)| n == name && l == link) {
            return i as u32;
        }
        self.names.push((name, link));
        let text = if name == [0; 16] {
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
        self.group.clear();
        self.spans.clear();
        let offset = match self.pending_offset.take() {
            Some(off) => {
                std::mem::swap(&mut self.group, &mut self.pending);
                off
            }
            None => match self.next_entry(src)? {
                Some((off, start, len)) => {
                    self.group
                        .extend_from_slice(&src.slice()[start..start + len]);
                    off
                }
                None => return Ok(None),
            },
        };
        self.spans.push((0, self.group.len()));
        let first = head(&self.group, self.leap_seconds);
        // Read on while the first entry's header says bytes are missing and
        // the next entry continues it.
        let mut have = first.payload.1 as u64;
        while first.traced_len.is_some_and(|t| have < u64::from(t)) {
            let Some((off, start, len)) = self.next_entry(src)? else {
                break;
            };
            let next = &src.slice()[start..start + len];
            let &(ls, ll) = self.spans.last().unwrap_or(&(0, 0));
            if ctrace::continues(&self.group[ls..ls + ll], next) {
                have += head(next, self.leap_seconds).payload.1 as u64;
                self.spans.push((self.group.len(), len));
                self.group.extend_from_slice(next);
            } else {
                self.pending.clear();
                self.pending.extend_from_slice(next);
                self.pending_offset = Some(off);
                break;
            }
        }
        let mut loc = Loc::Group {
            start: first.payload.0,
            len: first.payload.1,
        };
        if self.spans.len() > 1 {
            let parts: Vec<&[u8]> = self
                .spans
                .iter()
                .map(|&(s, l)| &self.group[s..s + l])
                .collect();
            // A set that does not join (a lying PTH_OffSegLen) keeps the
            // first entry's bytes, as a cut-off packet.
            if let Ok(r) = ctrace::reassemble(&parts) {
                if let Cow::Owned(v) = r.packet {
                    self.joined = v;
                    loc = Loc::Joined;
                }
            }
        }
        let interface = self.interface(first.name, first.link, interfaces);
        self.frame = self.frame.wrapping_add(1);
        Ok(Some(Record {
            frame: self.frame,
            loc,
            ts_ns: first.ts_ns,
            orig_len: first.orig_len,
            link: first.link,
            interface,
            direction: first.direction,
            offset,
        }))
    }
}
