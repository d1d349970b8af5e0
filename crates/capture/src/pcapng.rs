//! pcapng: pcap-file's `PcapNgParser` frames the blocks (both byte orders,
//! a new byte order at every section header) and parses section and
//! interface description blocks; on top of it this module
//!
//! * applies each interface's time stamp resolution (`if_tsresol`, decimal
//!   or binary, default microseconds) and offset (`if_tsoffset`): pcap-file
//!   2 reads every enhanced packet block's time stamp as nanoseconds, which
//!   is wrong for every file not written with `if_tsresol` 9;
//! * decodes enhanced, simple and (obsolete) packet blocks itself from the
//!   raw block: pcap-file's own decoding would build a `Vec` of options per
//!   packet and fail the whole packet on an option it dislikes; here the
//!   options are only walked for the direction bits of `epb_flags`;
//! * numbers interfaces across sections (interface ids restart at every
//!   section header; [`Packet::interface`](crate::Packet::interface) is the
//!   index in [`Capture::interfaces`](crate::Capture::interfaces));
//! * reads an interface block pcap-file rejects (it insists on UTF-8 in
//!   name and description options, Wireshark does not) with a minimal
//!   parser of its own, so such a file still opens.
//!
//! Frame numbers count what Wireshark (4.0) counts: enhanced, simple and
//! packet blocks, and also systemd journal export blocks, custom blocks
//! and sysdig event blocks (0x204, 0x216, 0x221), which carry no packet
//! and are not returned (a gap in the numbers).  Interface statistics,
//! name resolution and decryption secrets blocks, and sysdig "events with
//! flags", are no frames (tshark 4.0.17 on files made for it: capture's
//! tests).

use crate::error::ErrorKind;
use crate::reader::{Fail, Loc, Record};
use crate::source::{Source, MAX_RECORD};
use crate::{Direction, Interface, Link};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::Endianness;

pub(crate) const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
pub(crate) const PB: u32 = 0x0000_0002;
pub(crate) const SPB: u32 = 0x0000_0003;
pub(crate) const EPB: u32 = 0x0000_0006;
const SJE: u32 = 0x0000_0009;
/// Custom blocks, copyable and not.
const CB_COPY: u32 = 0x0000_0BAD;
const CB_NOCOPY: u32 = 0x4000_0BAD;
/// The frames that hold no packet, and the shortest block of each kind
/// Wireshark 4.0 reads: tshark 4.0.17 calls a shorter one damaged and
/// shows no frame after it (measured on files made for it; capture's
/// tests).  Custom blocks need their private enterprise number; systemd
/// journal export blocks Wireshark's `MIN_SYSTEMD_JOURNAL_EXPORT_BLOCK_SIZE`
/// (and an entry of at least [`SJE_MIN_ENTRY`] bytes); the sysdig event
/// blocks v1, v2 and v2 large their fixed headers (wiretap/pcapng.c
/// handles these three itself and leaves the "events with flags" 0x208,
/// 0x217, 0x222 to plugins: 4.0.17 numbers none of those).
const NO_PACKET_FRAMES: [NoPacketFrame; 6] = [
    (SJE, 35, "pcapng systemd journal export block"),
    (CB_COPY, 16, "pcapng custom block"),
    (CB_NOCOPY, 16, "pcapng custom block"),
    (0x0000_0204, 36, "pcapng sysdig event block"),
    (0x0000_0216, 40, "pcapng sysdig event block"),
    (0x0000_0221, 40, "pcapng sysdig event block"),
];

/// A kind of frame without a packet: block type, shortest total length,
/// name.
type NoPacketFrame = (u32, usize, &'static str);

/// The shortest journal entry Wireshark 4.0 reads (the block's text, its
/// trailing NULs left out): tshark 4.0.17 calls a shorter one damaged.
const SJE_MIN_ENTRY: usize = 23;

/// Nanoseconds from raw time stamp units: `raw · num / den + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TsScale {
    num: u64,
    den: u64,
    offset_s: i64,
}

impl TsScale {
    /// From `if_tsresol` (bit 7 clear: 10^-v s, set: 2^-v s) and
    /// `if_tsoffset` (seconds); None for a resolution finer than 10^-19 or
    /// 2^-63 s, which no u64 count can use.
    pub fn new(tsresol: u8, offset_s: i64) -> Option<TsScale> {
        let v = u32::from(tsresol & 0x7F);
        let (num, den) = if tsresol & 0x80 == 0 {
            match v {
                0..=9 => (10u64.pow(9 - v), 1),
                10..=19 => (1, 10u64.pow(v - 9)),
                _ => return None,
            }
        } else {
            match v {
                0..=63 => (1_000_000_000, 1u64 << v),
                _ => return None,
            }
        };
        Some(TsScale { num, den, offset_s })
    }

    #[inline]
    pub fn ns(&self, raw: u64) -> i64 {
        let ns = if self.den == 1 {
            i128::from(raw) * i128::from(self.num)
        } else {
            (u128::from(raw) * u128::from(self.num) / u128::from(self.den)) as i128
        };
        let ns = ns + i128::from(self.offset_s) * 1_000_000_000;
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// An interface of the current section.
#[derive(Clone, Copy, Debug)]
struct Iface {
    global: u32,
    link: Link,
    snaplen: u32,
    scale: TsScale,
}

pub(crate) struct NgReader {
    parser: PcapNgParser,
    big: bool,
    section: Vec<Iface>,
    frame: u32,
    /// Reading a piece of the file ([`NgReader::into_piece`]): a section
    /// header or an interface block is refused, not read.
    in_piece: bool,
}

fn read_u16(b: &[u8], at: usize, big: bool) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(if big {
        u16::from_be_bytes([s[0], s[1]])
    } else {
        u16::from_le_bytes([s[0], s[1]])
    })
}

fn read_u32(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let a = [s[0], s[1], s[2], s[3]];
    Some(if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// Walks pcapng options (code, length, value padded to 4) and calls `f`
/// with each; stops at opt_endofopt or at the first one that does not fit.
fn options(mut b: &[u8], big: bool, mut f: impl FnMut(u16, &[u8])) {
    while let (Some(code), Some(len)) = (read_u16(b, 0, big), read_u16(b, 2, big)) {
        if code == 0 {
            return;
        }
        let len = usize::from(len);
        let Some(value) = b.get(4..4 + len) else {
            return;
        };
        f(code, value);
        b = b.get(4 + ((len + 3) & !3)..).unwrap_or(&[]);
    }
}

/// Packet direction from the low bits of epb_flags / pack_flags.
fn direction_from_flags(body_options: &[u8], big: bool) -> Direction {
    let mut d = Direction::Unknown;
    options(body_options, big, |code, v| {
        if code == 2 && v.len() == 4 {
            let flags = read_u32(v, 0, big).unwrap_or(0);
            d = match flags & 0x3 {
                1 => Direction::Inbound,
                2 => Direction::Outbound,
                _ => Direction::Unknown,
            };
        }
    });
    d
}

/// Length of the block at the start of `a` (at least 12 bytes): the SHB
/// says its own byte order in its magic.
fn block_len(a: &[u8], big: bool) -> Option<(u32, usize)> {
    let btype = read_u32(a, 0, big)?;
    let big = if btype == SHB {
        match read_u32(a, 8, true)? {
            0x1A2B_3C4D => true,
            0x4D3C_2B1A => false,
            _ => big,
        }
    } else {
        big
    };
    Some((btype, read_u32(a, 4, big)? as usize))
}

/// The pcapng block at `k` from its header: its total length and whether
/// it holds a packet (the frames [`crate::estimate`] counts, and where
/// [`starts_blocks`] wants a run to start).
pub(crate) fn block_head(b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
    let (btype, len) = (read_u32(b, k, big)?, read_u32(b, k + 4, big)? as usize);
    (len >= 12 && len % 4 == 0 && len <= MAX_RECORD)
        .then_some((len, matches!(btype, EPB | SPB | PB)))
}

/// [`block_head`], and the length repeated at the block's end.
fn block(b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
    let (len, frame) = block_head(b, k, big)?;
    (read_u32(b, k + len - 4, big)? as usize == len).then_some((len, frame))
}

/// Whether pcapng blocks plausibly start at `k`: a packet block and the
/// next two blocks chain, each with its length repeated at its end; a
/// block that runs past the window's end ends the run there, if it is not
/// the first or is a packet block whose captured length fits its length
/// (an Enhanced Packet Block's: type, length, interface, time stamp high
/// and low, captured length).
pub(crate) fn starts_blocks(b: &[u8], mut k: usize, big: bool) -> bool {
    for n in 0..3 {
        let Some((len, frame)) = block_head(b, k, big) else {
            return n > 0 && b.len().saturating_sub(k) < 8;
        };
        if n == 0 && !frame {
            return false;
        }
        match block(b, k, big) {
            Some(_) => k += len,
            None if k + len > b.len() => {
                let caplen = read_u32(b, k + 20, big).map(|c| c as usize);
                return n > 0 || caplen.is_some_and(|c| c + 32 <= len);
            }
            None => return false,
        }
    }
    true
}

/// Whether a block of type `btype` is a frame: Wireshark numbers it
/// (packet blocks, and the systemd journal entries, custom blocks and
/// sysdig events that hold no packet: [`NgReader`] numbers them and
/// returns none).
pub(crate) fn holds_frame(btype: u32) -> bool {
    matches!(btype, EPB | PB | SPB) || holds_no_packet(btype)
}

/// A frame that holds no packet.
fn holds_no_packet(btype: u32) -> bool {
    no_packet_frame(btype).is_some()
}

/// [`NO_PACKET_FRAMES`]' entry for blocks of type `btype`.
fn no_packet_frame(btype: u32) -> Option<&'static NoPacketFrame> {
    NO_PACKET_FRAMES.iter().find(|f| f.0 == btype)
}

/// A frame without a packet of kind `f` ([`NO_PACKET_FRAMES`]) as
/// Wireshark reads it, or why it calls the block damaged.
fn check_no_packet_frame(f: &NoPacketFrame, len: usize, body: &[u8], off: u64) -> Result<(), Fail> {
    let &(btype, min, what) = f;
    if len < min {
        let detail = format!("total length {len} is below {min}, which Wireshark reads");
        return Err(Fail::invalid(off, what, detail));
    }
    if btype == SJE {
        let entry = body.iter().rposition(|&b| b != 0).map_or(0, |k| k + 1);
        if entry < SJE_MIN_ENTRY {
            let detail =
                format!("an entry of {entry} bytes, below {SJE_MIN_ENTRY}, which Wireshark reads");
            return Err(Fail::invalid(off, what, detail));
        }
    }
    Ok(())
}

/// Where the blocks before the file's first frame end: the section
/// header, its interface blocks and any other block before the first
/// frame (name resolution, decryption secrets…), which a piece of the file
/// ([`crate::Piece`]) replays before its own blocks.  None when no frame
/// follows them, or a second section header or a block that does not
/// chain comes first (such a file is read whole).
pub(crate) fn head_end(b: &[u8], big: bool) -> Option<usize> {
    // The section header's own length, in its own byte order.
    let (_, mut k) = block_len(b, big)?;
    loop {
        let (len, _) = block(b, k, big)?;
        let btype = read_u32(b, k, big)?;
        if holds_frame(btype) {
            return Some(k);
        }
        if btype == SHB {
            return None;
        }
        k += len;
    }
}

/// Ensures the whole block at the source position is held; returns its type
/// and length, or None at a clean end of file.
fn whole_block(src: &mut Source<'_>, big: bool) -> Result<Option<(u32, usize)>, Fail> {
    let off = src.offset();
    if !src.ensure(12).map_err(Fail::io)? {
        let left = src.avail().len();
        if left == 0 {
            return Ok(None);
        }
        return Err(Fail::at(
            off,
            ErrorKind::Truncated {
                what: "pcapng block header",
                needed: 12,
                available: left as u64,
            },
        ));
    }
    let (btype, len) = block_len(src.avail(), big).unwrap_or((0, 0));
    if len < 12 || len % 4 != 0 || len > MAX_RECORD {
        return Err(Fail::invalid(
            off,
            "pcapng block",
            format!("block type 0x{btype:08X} has total length {len}: must be a multiple of 4 from 12 to {MAX_RECORD}"),
        ));
    }
    if !src.ensure(len).map_err(Fail::io)? {
        return Err(Fail::at(
            off,
            ErrorKind::Truncated {
                what: "pcapng block",
                needed: len as u64,
                available: src.avail().len() as u64,
            },
        ));
    }
    Ok(Some((btype, len)))
}

impl NgReader {
    /// Reads the first section header (the caller has seen its magic).
    pub fn new(src: &mut Source<'_>) -> Result<NgReader, Fail> {
        let off = src.offset();
        let Some((_, len)) = whole_block(src, false)? else {
            return Err(Fail::at(
                off,
                ErrorKind::Truncated {
                    what: "pcapng section header",
                    needed: 28,
                    available: 0,
                },
            ));
        };
        let (_, parser) = PcapNgParser::new(src.avail())
            .map_err(|e| Fail::invalid(off, "pcapng section header", e))?;
        src.advance(len);
        Ok(NgReader {
            big: parser.section().endianness == Endianness::Big,
            parser,
            section: Vec::new(),
            frame: 0,
            in_piece: false,
        })
    }

    /// Frames numbered so far (the last one's number).
    pub fn frames(&self) -> u32 {
        self.frame
    }

    /// This reader, having read a file's head ([`head_end`]), as the
    /// reader of one of its pieces: its frames count from 1 again, and a
    /// section header or interface block in the piece is an
    /// [`ErrorKind::NotInPieces`] (the interfaces would be numbered from
    /// the piece's start, not the file's, and a later piece would not
    /// know them).
    pub fn into_piece(self) -> NgReader {
        NgReader {
            frame: 0,
            in_piece: true,
            ..self
        }
    }

    /// True when the current section is big-endian.
    pub fn big_endian(&self) -> bool {
        self.big
    }

    pub fn next(
        &mut self,
        src: &mut Source<'_>,
        interfaces: &mut Vec<Interface>,
    ) -> Result<Option<Record>, Fail> {
        loop {
            let off = src.offset();
            let Some((btype, len)) = whole_block(src, self.big)? else {
                return Ok(None);
            };
            if self.in_piece && matches!(btype, SHB | IDB) {
                let what = match btype {
                    SHB => "a section header block",
                    _ => "an interface description block",
                };
                return Err(Fail::at(off, ErrorKind::NotInPieces { what }));
            }
            // The block body in the source slice.
            let body_start = src.pos() + 8;
            let body_len = len - 12;
            match self.parser.next_raw_block(src.avail()) {
                Ok(_) => {}
                Err(e) if btype == IDB => {
                    // pcap-file refused the options (e.g. a name that is not
                    // UTF-8): read the fixed part and the time stamp options.
                    let body = &src.slice()[body_start..body_start + body_len];
                    self.own_idb(body, off, interfaces)
                        .map_err(|f| match f.kind {
                            ErrorKind::Invalid { .. } => {
                                Fail::invalid(off, "pcapng interface block", e)
                            }
                            _ => f,
                        })?;
                    src.advance(len);
                    continue;
                }
                Err(e) => return Err(Fail::invalid(off, "pcapng block", e)),
            }
            let body = &src.slice()[body_start..body_start + body_len];
            let rec = match btype {
                SHB => {
                    self.big = self.parser.section().endianness == Endianness::Big;
                    self.section.clear();
                    None
                }
                IDB => {
                    self.parser_idb(off, interfaces)?;
                    None
                }
                EPB | PB => Some(self.packet(btype, body, body_start, off)?),
                SPB => Some(self.simple(body, body_start, off)?),
                t => match no_packet_frame(t) {
                    Some(f) => {
                        check_no_packet_frame(f, len, body, off)?;
                        self.frame = self.frame.wrapping_add(1);
                        None
                    }
                    None => None,
                },
            };
            src.advance(len);
            if let Some(r) = rec {
                src.prefetch_next_record();
                return Ok(Some(r));
            }
        }
    }

    /// Adds an interface of the current section (numbered after all
    /// interfaces seen so far).
    fn push_iface(
        &mut self,
        off: u64,
        iface: Interface,
        offset_s: i64,
        interfaces: &mut Vec<Interface>,
    ) -> Result<(), Fail> {
        let tsresol = iface.tsresol;
        let scale = TsScale::new(tsresol, offset_s).ok_or_else(|| {
            Fail::invalid(
                off,
                "pcapng interface block",
                format!("if_tsresol 0x{tsresol:02X} is finer than any 64-bit time stamp can use"),
            )
        })?;
        self.section.push(Iface {
            global: interfaces.len() as u32,
            link: iface.link,
            snaplen: iface.snaplen,
            scale,
        });
        interfaces.push(iface);
        Ok(())
    }

    fn parser_idb(&mut self, off: u64, interfaces: &mut Vec<Interface>) -> Result<(), Fail> {
        let Some(idb) = self.parser.interfaces().last() else {
            return Err(Fail::invalid(
                off,
                "pcapng interface block",
                "not kept by the parser",
            ));
        };
        let (mut tsresol, mut offset_s, mut name) = (6u8, 0i64, None);
        for o in &idb.options {
            match o {
                InterfaceDescriptionOption::IfTsResol(r) => tsresol = *r,
                InterfaceDescriptionOption::IfTsOffset(s) => offset_s = *s as i64,
                InterfaceDescriptionOption::IfName(n) => name = Some(n.to_string()),
                _ => {}
            }
        }
        let linktype = u32::from(idb.linktype);
        let iface = Interface {
            link: Link::from_linktype(linktype),
            linktype,
            name,
            snaplen: idb.snaplen,
            tsresol,
        };
        self.push_iface(off, iface, offset_s, interfaces)
    }

    fn own_idb(
        &mut self,
        body: &[u8],
        off: u64,
        interfaces: &mut Vec<Interface>,
    ) -> Result<(), Fail> {
        let big = self.big;
        let (Some(linktype), Some(snaplen)) = (read_u16(body, 0, big), read_u32(body, 4, big))
        else {
            return Err(Fail::invalid(
                off,
                "pcapng interface block",
                "shorter than 8 bytes",
            ));
        };
        let (mut tsresol, mut offset_s, mut name) = (6u8, 0i64, None);
        options(body.get(8..).unwrap_or(&[]), big, |code, v| {
            match (code, v.len()) {
                (2, _) => name = Some(String::from_utf8_lossy(v).into_owned()),
                (9, 1) => tsresol = v[0],
                (14, 8) => {
                    let (hi, lo) = (
                        read_u32(v, 0, big).unwrap_or(0),
                        read_u32(v, 4, big).unwrap_or(0),
                    );
                    let (hi, lo) = if big { (hi, lo) } else { (lo, hi) };
                    offset_s = (u64::from(hi) << 32 | u64::from(lo)) as i64;
                }
                _ => {}
            }
        });
        let linktype = u32::from(linktype);
        let iface = Interface {
            link: Link::from_linktype(linktype),
            linktype,
            name,
            snaplen,
            tsresol,
        };
        self.push_iface(off, iface, offset_s, interfaces)
    }

    fn iface(&self, id: u32, off: u64) -> Result<Iface, Fail> {
        self.section.get(id as usize).copied().ok_or_else(|| {
            Fail::invalid(
                off,
                "pcapng packet block",
                format!(
                    "interface id {id}, but the section describes {} interface(s)",
                    self.section.len()
                ),
            )
        })
    }

    /// Enhanced (6) and obsolete (2) packet blocks: same layout but for the
    /// interface id (32 bits, or 16 bits plus a drop count).
    fn packet(
        &mut self,
        btype: u32,
        body: &[u8],
        body_start: usize,
        off: u64,
    ) -> Result<Record, Fail> {
        let big = self.big;
        let fields = |at| read_u32(body, at, big);
        let (Some(id), Some(hi), Some(lo), Some(cap), Some(orig)) =
            (fields(0), fields(4), fields(8), fields(12), fields(16))
        else {
            return Err(Fail::invalid(
                off,
                "pcapng packet block",
                "shorter than its 20-byte header",
            ));
        };
        let id = if btype == PB {
            read_u16(body, 0, big).map_or(0, u32::from)
        } else {
            id
        };
        let cap = cap as usize;
        if cap > body.len() - 20 {
            return Err(Fail::invalid(
                off,
                "pcapng packet block",
                format!(
                    "captured length {cap} exceeds the block's {} bytes of data",
                    body.len() - 20
                ),
            ));
        }
        let iface = self.iface(id, off)?;
        let opts = body.get(20 + ((cap + 3) & !3)..).unwrap_or(&[]);
        self.frame = self.frame.wrapping_add(1);
        Ok(Record {
            frame: self.frame,
            loc: Loc::Source {
                start: body_start + 20,
                len: cap,
            },
            ts_ns: iface.scale.ns(u64::from(hi) << 32 | u64::from(lo)),
            orig_len: orig,
            link: iface.link,
            interface: iface.global,
            direction: direction_from_flags(opts, big),
            offset: off,
        })
    }

    /// Simple packet block: interface 0, no time stamp (0), the captured
    /// length is the original length cut at the snap length.
    fn simple(&mut self, body: &[u8], body_start: usize, off: u64) -> Result<Record, Fail> {
        let Some(orig) = read_u32(body, 0, self.big) else {
            return Err(Fail::invalid(
                off,
                "pcapng simple packet block",
                "shorter than 4 bytes",
            ));
        };
        let iface = self.iface(0, off)?;
        let mut cap = (orig as usize).min(body.len() - 4);
        if iface.snaplen != 0 {
            cap = cap.min(iface.snaplen as usize);
        }
        self.frame = self.frame.wrapping_add(1);
        Ok(Record {
            frame: self.frame,
            loc: Loc::Source {
                start: body_start + 4,
                len: cap,
            },
            ts_ns: 0,
            orig_len: orig,
            link: iface.link,
            interface: iface.global,
            direction: Direction::Unknown,
            offset: off,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamp_resolutions() {
        let us = TsScale::new(6, 0).unwrap();
        assert_eq!(us.ns(1_700_000_000_123_456), 1_700_000_000_123_456_000);
        let ns = TsScale::new(9, 0).unwrap();
        assert_eq!(ns.ns(5), 5);
        let ps = TsScale::new(12, 0).unwrap();
        assert_eq!(ps.ns(1_234_567), 1_234);
        let s = TsScale::new(0, 0).unwrap();
        assert_eq!(s.ns(3), 3_000_000_000);
        // 2^-20 s: 1 unit = 953.674… ns, rounded down
        let bin = TsScale::new(0x80 | 20, 0).unwrap();
        assert_eq!(bin.ns(1 << 20), 1_000_000_000);
        assert_eq!(bin.ns(1), 953);
        // offset in seconds, and saturation instead of overflow
        let off = TsScale::new(6, -10).unwrap();
        assert_eq!(off.ns(10_000_000), 0);
        assert_eq!(TsScale::new(0, 0).unwrap().ns(u64::MAX), i64::MAX);
        assert_eq!(TsScale::new(20, 0), None);
        assert_eq!(TsScale::new(0x80 | 64, 0), None);
        assert!(TsScale::new(19, 0).is_some());
    }

    #[test]
    fn option_walk() {
        // epb_flags outbound, then a comment, little-endian
        let mut o = vec![
            2, 0, 4, 0, 2, 0, 0, 0, 1, 0, 3, 0, b'a', b'b', b'c', 0, 0, 0, 0, 0,
        ];
        assert_eq!(direction_from_flags(&o, false), Direction::Outbound);
        o[4] = 1;
        assert_eq!(direction_from_flags(&o, false), Direction::Inbound);
        // big-endian
        let be = [0, 2, 0, 4, 0, 0, 0, 1];
        assert_eq!(direction_from_flags(&be, true), Direction::Inbound);
        // an option longer than what is left ends the walk
        assert_eq!(
            direction_from_flags(&[2, 0, 40, 0, 1], false),
            Direction::Unknown
        );
        assert_eq!(direction_from_flags(&[], false), Direction::Unknown);
    }
}
