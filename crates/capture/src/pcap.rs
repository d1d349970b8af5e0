//! Classic pcap: the file header is parsed by pcap-file (all four magics:
//! both byte orders, microsecond and nanosecond time stamps); the 16-byte
//! record headers are read here, field by field at the offsets of
//! [`REC_SEC`] and the three after it, in the byte order pcap-file found:
//! the record loop is the innermost loop of reading, and pcap-file's
//! `next_raw_packet` parsed each header a second time (after the length
//! check below) and built a result for an error that cannot happen then.
//! Lengths are checked first, so that a cut-off or damaged file gives an
//! error with the byte offset and the packets before it; the time stamp is
//! turned into nanoseconds.
//!
//! pcap-file's validating `PcapPacket` is not used: it rejects a record
//! whose original length exceeds the snap length, which is exactly what a
//! capture with a small snap length has.  Lengths are checked here instead:
//! a record may not be longer than [`MAX_RECORD`](crate::source::MAX_RECORD)
//! (what a damaged length field looks like) nor than the file.

use crate::error::ErrorKind;
use crate::reader::{Fail, Loc, Record};
use crate::source::{Source, MAX_RECORD};
use crate::{Direction, Interface, Link};
use pcap_file::pcap::PcapParser;
use pcap_file::{Endianness, TsResolution};

pub(crate) const HEADER_LEN: usize = 24;
pub(crate) const RECORD_HEADER_LEN: usize = 16;

// The record header (draft-ietf-opsawg-pcap, "Packet Record"; the layout
// libpcap's pcap_sf_pkthdr has written since the 1990s; the same in
// pcap-file's RawPcapPacket): four 32-bit fields in the file's byte order.
/// Time stamp, seconds.
const REC_SEC: usize = 0;
/// Time stamp, microseconds or nanoseconds (by the magic).
const REC_FRAC: usize = 4;
/// Captured packet length.
pub(crate) const REC_INCL: usize = 8;
/// Original packet length.
const REC_ORIG: usize = 12;

pub(crate) struct PcapReader {
    big: bool,
    ns_per_frac: i64,
    link: Link,
    frame: u32,
}

impl PcapReader {
    /// Reads the file header (the caller has seen a pcap magic).
    pub fn new(src: &mut Source<'_>, interfaces: &mut Vec<Interface>) -> Result<PcapReader, Fail> {
        let off = src.offset();
        if !src.ensure(HEADER_LEN).map_err(Fail::io)? {
            return Err(Fail::at(
                off,
                ErrorKind::Truncated {
                    what: "pcap file header",
                    needed: HEADER_LEN as u64,
                    available: src.avail().len() as u64,
                },
            ));
        }
        let (_, parser) =
            PcapParser::new(src.avail()).map_err(|e| Fail::invalid(off, "pcap file header", e))?;
        let h = parser.header();
        src.advance(HEADER_LEN);
        let linktype = u32::from(h.datalink);
        let link = Link::from_linktype(linktype);
        let nanos = h.ts_resolution == TsResolution::NanoSecond;
        interfaces.push(Interface {
            link,
            linktype: linktype & 0xFFFF,
            name: None,
            snaplen: h.snaplen,
            tsresol: if nanos { 9 } else { 6 },
        });
        Ok(PcapReader {
            big: h.endianness == Endianness::Big,
            ns_per_frac: if nanos { 1 } else { 1000 },
            link,
            frame: 0,
        })
    }

    /// True for a big-endian file.
    pub fn big_endian(&self) -> bool {
        self.big
    }

    /// True for nanosecond time stamps.
    pub fn nanosecond(&self) -> bool {
        self.ns_per_frac == 1
    }

    /// Frames numbered so far (the last one's number).
    pub fn frames(&self) -> u32 {
        self.frame
    }

    #[inline]
    pub fn next(&mut self, src: &mut Source<'_>) -> Result<Option<Record>, Fail> {
        let off = src.offset();
        if !src.ensure(RECORD_HEADER_LEN).map_err(Fail::io)? {
            let left = src.avail().len();
            if left == 0 {
                return Ok(None);
            }
            return Err(Fail::at(
                off,
                ErrorKind::Truncated {
                    what: "pcap record header",
                    needed: RECORD_HEADER_LEN as u64,
                    available: left as u64,
                },
            ));
        }
        let h = &src.avail()[..RECORD_HEADER_LEN];
        let field = |at: usize| {
            let b = [h[at], h[at + 1], h[at + 2], h[at + 3]];
            if self.big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (ts_sec, ts_frac) = (field(REC_SEC), field(REC_FRAC));
        let (incl, orig_len) = (field(REC_INCL) as usize, field(REC_ORIG));
        if incl > MAX_RECORD {
            return Err(Fail::at(
                off,
                ErrorKind::Invalid {
                    what: "pcap record",
                    detail: format!(
                        "captured length {incl} exceeds {MAX_RECORD} bytes: the file is damaged"
                    ),
                },
            ));
        }
        let total = RECORD_HEADER_LEN + incl;
        if !src.ensure(total).map_err(Fail::io)? {
            return Err(Fail::at(
                off,
                ErrorKind::Truncated {
                    what: "pcap record",
                    needed: total as u64,
                    available: src.avail().len() as u64,
                },
            ));
        }
        let ts_ns = i64::from(ts_sec) * 1_000_000_000 + i64::from(ts_frac) * self.ns_per_frac;
        let start = src.pos() + RECORD_HEADER_LEN;
        src.advance(total);
        src.prefetch_next_record();
        self.frame = self.frame.wrapping_add(1);
        Ok(Some(Record {
            frame: self.frame,
            loc: Loc::Source { start, len: incl },
            ts_ns,
            orig_len,
            link: self.link,
            interface: 0,
            direction: Direction::Unknown,
            offset: off,
        }))
    }
}

/// Records in a row [`starts_records`] wants before it trusts an offset.
const RESYNC_RUN: usize = 8;

/// Seconds from the file's first record within which [`starts_records`]
/// expects the others' time stamps (a capture spanning more is read in
/// fewer pieces, no less correctly).
const RESYNC_SPAN: u32 = 366 * 86_400;

/// The seconds field of the record header at `bytes[at..]`, if whole.
pub(crate) fn record_sec(bytes: &[u8], at: usize, big: bool) -> Option<u32> {
    let h = bytes.get(at + REC_SEC..at + REC_SEC + 4)?;
    let b = [h[0], h[1], h[2], h[3]];
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Whether a record header plausibly starts at `bytes[at..]` (a classic
/// pcap file, `big`-endian or not, `nanos` time stamps): [`RESYNC_RUN`]
/// headers in a row whose lengths chain (or fewer that end exactly at the
/// end of `bytes`), each with a captured length within [`MAX_RECORD`] and
/// not above the original length, a fraction of a second below one second
/// and a second within [`RESYNC_SPAN`] of `near_sec` (the first record's).
/// Only a guess: the caller checks that the records before `at`
/// end exactly there (see [`crate::Piece`]).  `open_end`: `bytes` is a
/// window of a longer file, and a run that leaves it after at least one
/// header is enough (records bigger than an eighth of the window cannot
/// chain eight times in it: crate::estimate).
pub(crate) fn starts_records(
    bytes: &[u8],
    mut at: usize,
    big: bool,
    nanos: bool,
    near_sec: u32,
    open_end: bool,
) -> bool {
    let field = |h: &[u8], k: usize| {
        let b = [h[k], h[k + 1], h[k + 2], h[k + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let second = if nanos { 1_000_000_000 } else { 1_000_000 };
    for n in 0..RESYNC_RUN {
        if at == bytes.len() {
            return true;
        }
        let Some(h) = bytes.get(at..at + RECORD_HEADER_LEN) else {
            return open_end && n > 0;
        };
        let (sec, frac) = (field(h, REC_SEC), field(h, REC_FRAC));
        let (incl, orig) = (field(h, REC_INCL) as usize, field(h, REC_ORIG) as usize);
        if sec.abs_diff(near_sec) > RESYNC_SPAN
            || frac >= second
            || incl > MAX_RECORD
            || incl > orig
        {
            return false;
        }
        at += RECORD_HEADER_LEN + incl;
    }
    at <= bytes.len() || open_end
}
