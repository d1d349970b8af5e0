//! How the entries of a trace reached the PC, and taking the record framing
//! off.
//!
//! The CTRACE external writer (ITTTRCWR) writes a format-V data set; it
//! chooses the record length itself ("do not specify DCB parameters for
//! trace data sets", IBM IP Diagnosis Guide).  What reaches a PC depends on
//! the transfer:
//!
//! * [`Framing::Raw`] — binary FTP (the default) drops the descriptors: the
//!   records' contents follow one another.
//! * [`Framing::Rdw`] — `quote site rdw` keeps a record descriptor word before
//!   every record; in a spanned (VS/VBS) data set each record segment has a
//!   segment descriptor word of the same shape whose segment control code
//!   says first, middle or last segment.
//! * [`Framing::BdwRdw`] — RECFM=U transfers (e.g. Connect:Direct) keep the
//!   block descriptor words too.
//!
//! [`Deframer`] turns any of them into the stream of the records' contents
//! ([`Content`]), remembering where each piece came from in the file and
//! where each logical record starts (a spanned record's segments are joined:
//! only its first segment starts a record).  What the records hold is the
//! [`crate::Reader`]'s business: entries, and bytes that are no entries (a
//! writer's per-record header, whose layout is not public).
//!
//! Descriptor positions and limits: [`crate::layout::rdw`],
//! [`crate::layout::bdw`].  Anomalies — records longer than 32 760 bytes,
//! segments out of order, a record cut off by the end of the file — become
//! [`Note`]s; a descriptor that cannot be right (a length below 4, a record
//! overrunning its block, non-zero reserved bits) ends the framing: the rest
//! of the file is read as raw bytes, where the entry scanner resynchronises.

use crate::input::Input;
use crate::layout::{bdw, rdw};
use crate::packet::{Note, NoteKind};
use crate::{cte, Error, Result, TextEncoding};
use std::collections::VecDeque;
use std::io;

/// How the entries of a file are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// No descriptors: the records' contents back to back.
    Raw,
    /// Each record (or record segment) preceded by a 4-byte RDW (SDW).
    Rdw,
    /// Blocks with a 4-byte BDW, holding RDW records or segments.
    BdwRdw,
}

impl Framing {
    /// A short name: "raw", "rdw", "bdw".
    pub fn name(self) -> &'static str {
        match self {
            Framing::Raw => "raw",
            Framing::Rdw => "rdw",
            Framing::BdwRdw => "bdw",
        }
    }
}

/// How many bytes [`detect`] would like to see: the longest entry behind a
/// BDW and an RDW.
pub const DETECT_PREFIX: usize = cte::MAX_LEN + 1 + rdw::SIZE + bdw::SIZE;

/// How many unknown bytes may come before the first entry of a file without
/// descriptors for [`detect`] to still take it for a trace (a writer record
/// header would be that long; this crate's choice).
pub const RAW_MAX_LEAD: usize = 1024;

/// EBCDIC "INMR01": the first control record of a TSO TRANSMIT file.
pub const XMIT_MAGIC: [u8; 6] = [0xC9, 0xD5, 0xD4, 0xD9, 0xF0, 0xF1];
/// "TRSNIFF data    \x1a": a Network General Sniffer file.
pub const SNIFFER_MAGIC: &[u8] = b"TRSNIFF data    \x1a";
/// Where XMIT's "INMR01" may be: after the segment length and flag bytes.
const XMIT_WINDOW: usize = 16 + XMIT_MAGIC.len();

/// Terse header: `Some(mode)` if `b` starts with one.  Source:
/// openmainframeproject/tersedecompress TerseHeader.java (byte 0 X'02' PACK
/// or X'05' SPACK with a 12-byte header; X'01'/X'07' then X'8969A5' native).
fn terse_mode(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 4 && (b[0] == 0x01 || b[0] == 0x07) && b[1..4] == [0x89, 0x69, 0xA5] {
        return Some("native");
    }
    if b.len() >= 12 && (b[0] == 0x02 || b[0] == 0x05) && b[1] <= 1 {
        let len1 = u32::from(u16::from_be_bytes([b[2], b[3]]));
        let flags = b[4];
        let len2 = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let lens_ok = (len1 != 0 || len2 != 0) && (len1 == 0 || len2 == 0 || len1 == len2);
        // without the MVS flag (X'01'), flags, ratio and block size are 0
        let mvs_ok = flags & 0x01 != 0 || (flags == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0);
        if lens_ok && mvs_ok {
            return Some(if b[0] == 0x05 { "SPACK" } else { "PACK" });
        }
    }
    None
}

fn ascii_text(b: &[u8]) -> bool {
    b.iter()
        .filter(|&&c| {
            (0x20..0x7F).contains(&c) || c == b'\n' || c == b'\r' || c == b'\t' || c == 0x0C
        })
        .count()
        * 100
        >= b.len() * 95
}

fn ebcdic_text(b: &[u8]) -> bool {
    let texty = |c: u8| {
        matches!(c,
            0x40 | 0x4A..=0x50 | 0x5A..=0x61 | 0x6A..=0x6F | 0x79..=0x7F
            | 0x81..=0x89 | 0x91..=0x99 | 0xA1..=0xA9 | 0xC0..=0xC9 | 0xD0..=0xD9
            | 0xE0 | 0xE2..=0xE9 | 0xF0..=0xF9 | 0x05 | 0x0D | 0x15 | 0x25)
    };
    b.iter().filter(|&&c| texty(c)).count() * 100 >= b.len() * 95
}

/// Finds out the framing from the first bytes of a file (pass
/// [`DETECT_PREFIX`] bytes, or the whole file if shorter).  Checks, in this
/// order: Sniffer magic, EBCDIC "INMR01" near the start (XMIT), then reads
/// the prefix as BDW blocks, as RDW records and as raw bytes
/// ([`crate::Reader::probe`]): the first reading whose descriptors all fit
/// and that finds a valid entry wins (the stricter framings first: a BDW
/// file read as RDW records would see its RDWs as unknown bytes).  Raw
/// bytes whose first entry comes after unknown bytes are taken only when
/// they do not start with a Terse header.  Then ASCII and EBCDIC text.
pub fn detect(prefix: &[u8]) -> Result<Framing> {
    if prefix.len() < cte::MIN_LEN {
        if !prefix.is_empty() && prefix.iter().all(|&b| b == 0) {
            return Err(Error::UnknownFraming { offset: 0 });
        }
        return Err(Error::Truncated {
            offset: 0,
            what: "trace file",
            needed: cte::MIN_LEN as u64,
            available: prefix.len() as u64,
        });
    }
    if prefix.starts_with(SNIFFER_MAGIC) {
        return Err(Error::Sniffer { offset: 0 });
    }
    let head = &prefix[..prefix.len().min(XMIT_WINDOW)];
    if let Some(i) = head.windows(XMIT_MAGIC.len()).position(|w| w == XMIT_MAGIC) {
        return Err(Error::Xmit { offset: i as u64 });
    }
    if prefix.iter().all(|&b| b == 0) {
        return Err(Error::UnknownFraming { offset: 0 });
    }
    for framing in [Framing::BdwRdw, Framing::Rdw] {
        if crate::Reader::probe(prefix, framing).is_some() {
            return Ok(framing);
        }
    }
    let raw = crate::Reader::probe(prefix, Framing::Raw);
    if raw == Some(0) {
        return Ok(Framing::Raw);
    }
    // A packed file's header before unknown bytes is the packed file's,
    // not a writer header before entries.
    if let Some(mode) = terse_mode(prefix) {
        return Err(Error::Terse { offset: 0, mode });
    }
    if raw.is_some() {
        return Ok(Framing::Raw);
    }
    let sample = &prefix[..prefix.len().min(4096)];
    if ascii_text(sample) {
        return Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ascii,
        });
    }
    if ebcdic_text(sample) {
        return Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ebcdic,
        });
    }
    Err(Error::UnknownFraming { offset: 0 })
}

/// The records' contents, descriptors taken off: a window of the content
/// stream, addressed by absolute content positions.
#[derive(Debug, Default)]
pub(crate) struct Content {
    buf: Vec<u8>,
    /// Content position of `buf[0]`.
    base: u64,
    /// (content position, input offset, length) of each piece, in order.
    pieces: VecDeque<(u64, u64, usize)>,
    /// Content positions where a logical record starts.
    starts: VecDeque<u64>,
}

impl Content {
    /// Bytes it holds on the heap (its buffer's room).
    pub fn held_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Content position one past the last byte.
    pub fn end(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// The bytes from `from` to the end.
    pub fn from(&self, from: u64) -> &[u8] {
        &self.buf[(from - self.base) as usize..]
    }

    /// The bytes `from..to`.
    pub fn range(&self, from: u64, to: u64) -> &[u8] {
        &self.buf[(from - self.base) as usize..(to - self.base) as usize]
    }

    fn push(&mut self, bytes: &[u8], offset: u64) {
        let at = self.end();
        match self.pieces.back_mut() {
            // contiguous in the input too: one piece
            Some((p, o, l)) if *p + *l as u64 == at && *o + *l as u64 == offset => {
                *l += bytes.len()
            }
            _ => self.pieces.push_back((at, offset, bytes.len())),
        }
        self.buf.extend_from_slice(bytes);
    }

    fn mark_record_start(&mut self) {
        let at = self.end();
        if self.starts.back() != Some(&at) {
            self.starts.push_back(at);
        }
    }

    /// True when a logical record starts at `pos` (forgets starts before
    /// it).
    pub fn record_starts_at(&mut self, pos: u64) -> bool {
        while self.starts.front().is_some_and(|&s| s < pos) {
            self.starts.pop_front();
        }
        self.starts.front() == Some(&pos)
    }

    /// The first record start in `(after, before)`, if any.
    pub fn next_record_start(&self, after: u64, before: u64) -> Option<u64> {
        self.starts
            .iter()
            .copied()
            .find(|&s| s > after)
            .filter(|&s| s < before)
    }

    /// The input offset of content position `pos`.
    pub fn offset_of(&self, pos: u64) -> u64 {
        let i = self.pieces.partition_point(|&(p, _, _)| p <= pos);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(p, o, _)) => o + (pos - p),
            None => pos,
        }
    }

    /// The input pieces of content `from..to`, appended to `out`.
    pub fn chunks(&self, from: u64, to: u64, out: &mut Vec<(u64, usize)>) {
        let i = self
            .pieces
            .partition_point(|&(p, _, l)| p + l as u64 <= from);
        for &(p, o, l) in self.pieces.iter().skip(i) {
            if p >= to {
                break;
            }
            let s = from.max(p);
            let e = to.min(p + l as u64);
            if e > s {
                out.push((o + (s - p), (e - s) as usize));
            }
        }
    }

    /// Empty, at content position 0.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.base = 0;
        self.pieces.clear();
        self.starts.clear();
    }

    /// Forgets everything before `keep` (when it is worth the move).
    pub fn release(&mut self, keep: u64) {
        let dead = (keep.min(self.end()) - self.base) as usize;
        if dead < 64 * 1024 || dead * 2 < self.buf.len() {
            return;
        }
        self.buf.drain(..dead);
        self.base += dead as u64;
        while self
            .pieces
            .front()
            .is_some_and(|&(p, _, l)| p + l as u64 <= self.base)
        {
            self.pieces.pop_front();
        }
        while self.starts.front().is_some_and(|&s| s < self.base) {
            self.starts.pop_front();
        }
    }
}

/// How much raw input is taken at a time.
const RAW_CHUNK: usize = 256 * 1024;

/// Takes the record framing off an input, a record (or segment, or raw
/// chunk) at a time.
#[derive(Debug)]
pub(crate) struct Deframer {
    pub framing: Framing,
    /// A descriptor did not fit: reading on as raw.
    pub degraded: bool,
    /// BDW: bytes of the current block not read yet.
    block_left: u64,
    /// Inside a spanned record (after a first or middle segment).
    spanned: bool,
    /// Input offset of the next unread byte.
    offset: u64,
    pub eof: bool,
    /// Probing a prefix: its end is not the file's.
    pub probing: bool,
}

/// The length of a plausible descriptor at the start of `b`: a BDW
/// (`block`) or an RDW/SDW.
fn descriptor_len(b: &[u8], block: bool) -> Option<u64> {
    if b.len() < rdw::SIZE {
        return None;
    }
    if block {
        if b[0] & bdw::EXTENDED != 0 {
            return Some(bdw::EXT_LEN.uint(b) & !(u64::from(bdw::EXTENDED) << 24));
        }
        let len = bdw::LEN.uint(b);
        return (bdw::RESERVED.uint(b) == 0 && len >= (bdw::SIZE + rdw::SIZE) as u64)
            .then_some(len);
    }
    let len = rdw::LEN.uint(b);
    let fits = len >= rdw::SIZE as u64
        && rdw::SEGMENT.uint(b) as u8 & !rdw::CODE_MASK == 0
        && rdw::RESERVED.uint(b) == 0;
    fits.then_some(len)
}

/// Whether a descriptor fits at `b[at]`: `Some(true)` when what follows it
/// is seen to be the end, zeros or another descriptor, `Some(false)` when it
/// reaches past what `b` shows, None when it does not fit.
fn chain_fits(b: &[u8], at: usize, block: bool) -> Option<bool> {
    let len = b.get(at..).and_then(|d| descriptor_len(d, block))?;
    let Some(rest) = b.get(at + len as usize..) else {
        return Some(false);
    };
    let next_fits =
        rest.len() < 2 || (rest[0] == 0 && rest[1] == 0) || descriptor_len(rest, block).is_some();
    next_fits.then_some(true)
}

/// A parsed descriptor: length, segment code.
struct Descriptor {
    len: u64,
    code: u8,
}

impl Deframer {
    pub fn new(framing: Framing) -> Deframer {
        Deframer {
            framing,
            degraded: false,
            block_left: 0,
            spanned: false,
            offset: 0,
            eof: false,
            probing: false,
        }
    }

    fn raw(&self) -> bool {
        self.framing == Framing::Raw || self.degraded
    }

    /// Appends the next piece of the records' contents to `content`; false
    /// at the end of the input.
    pub fn pull(
        &mut self,
        input: &mut dyn Input,
        content: &mut Content,
        notes: &mut Vec<Note>,
    ) -> io::Result<bool> {
        while !self.eof {
            if self.raw() {
                let bytes = input.fill(RAW_CHUNK)?;
                if bytes.is_empty() {
                    self.eof = true;
                    return Ok(false);
                }
                let n = bytes.len().min(RAW_CHUNK);
                content.push(&bytes[..n], self.offset);
                input.consume(n);
                self.offset += n as u64;
                return Ok(true);
            }
            let top = Framing::BdwRdw == self.framing && self.block_left == 0;
            let inside_block = self.framing == Framing::BdwRdw && !top;
            if inside_block {
                let b = input.fill(2)?;
                if b.len() >= 2 && b[0] == 0 && b[1] == 0 {
                    // zeros after the last record of a block: its padding
                    let n = self.block_left;
                    self.skip_input(input, n)?;
                    self.block_left = 0;
                    continue;
                }
            } else if !self.skip_zeros(input, top)? {
                self.eof = true;
                return Ok(false);
            }
            let parsed = if top {
                self.block(input)?.map(|len| {
                    input.consume(bdw::SIZE);
                    self.offset += bdw::SIZE as u64;
                    self.block_left = len - bdw::SIZE as u64;
                    None
                })
            } else {
                self.record_descriptor(input)?.map(Some)
            };
            match parsed {
                Ok(Some(d)) => return self.record(input, content, notes, d),
                Ok(None) => {}
                Err(_) if self.probing && input.fill(rdw::SIZE)?.len() < rdw::SIZE => {
                    // a prefix cut inside a descriptor: its end, not damage
                    self.eof = true;
                }
                Err(error) => self.degrade(error, notes),
            }
        }
        Ok(false)
    }

    fn degrade(&mut self, error: Error, notes: &mut Vec<Note>) {
        self.degraded = true;
        notes.push(Note {
            offset: error.offset(),
            kind: NoteKind::FramingLost { error },
        });
    }

    /// Skips bytes of the input (within what is there).
    fn skip_input(&mut self, input: &mut dyn Input, n: u64) -> io::Result<()> {
        let mut left = n;
        while left > 0 {
            let have = input.fill(left.min(RAW_CHUNK as u64) as usize)?.len();
            if have == 0 {
                break;
            }
            let k = (have as u64).min(left) as usize;
            input.consume(k);
            self.offset += k as u64;
            left -= k as u64;
        }
        Ok(())
    }

    /// Skips a run of zero bytes before a descriptor (padding), leaving the
    /// input at the descriptor: the run's last zero byte when a descriptor
    /// with a length below 256 starts there, else the first non-zero byte
    /// (no descriptor starts with two zero bytes: its length is at least
    /// 4).  When both readings fit, the one whose next descriptor fits too
    /// wins.  False at the end of the input.
    fn skip_zeros(&mut self, input: &mut dyn Input, block: bool) -> io::Result<bool> {
        loop {
            let b = input.fill(2)?;
            if b.is_empty() {
                return Ok(false);
            }
            if b[0] != 0 || (b.len() >= 2 && b[1] != 0) {
                return Ok(true);
            }
            let b = input.fill(RAW_CHUNK)?;
            let zeros = b.iter().take_while(|&&x| x == 0).count();
            if zeros == b.len() {
                if b.len() < RAW_CHUNK {
                    // zeros to the end of the file
                    let n = b.len();
                    input.consume(n);
                    self.offset += n as u64;
                    return Ok(false);
                }
                // zeros to the end of what is at hand: drop all but one
                let n = b.len() - 1;
                input.consume(n);
                self.offset += n as u64;
                continue;
            }
            let window = input.fill(zeros + DETECT_PREFIX)?;
            let (last_zero, first) = (
                chain_fits(window, zeros - 1, block),
                chain_fits(window, zeros, block),
            );
            let at = match (last_zero, first) {
                (Some(true), _) | (Some(false), None) => zeros - 1,
                _ => zeros,
            };
            input.consume(at);
            self.offset += at as u64;
            return Ok(true);
        }
    }

    /// Reads a BDW at the input position (not consumed): the block length.
    fn block(&mut self, input: &mut dyn Input) -> io::Result<Result<u64>> {
        let at = self.offset;
        let b = input.fill(bdw::SIZE)?;
        if b.len() < bdw::SIZE {
            return Ok(Err(Error::Truncated {
                offset: at,
                what: "BDW",
                needed: bdw::SIZE as u64,
                available: b.len() as u64,
            }));
        }
        let (len, reserved) = if b[0] & bdw::EXTENDED != 0 {
            (bdw::EXT_LEN.uint(b) & !(u64::from(bdw::EXTENDED) << 24), 0)
        } else {
            (bdw::LEN.uint(b), bdw::RESERVED.uint(b))
        };
        if reserved != 0 {
            return Ok(Err(Error::Invalid {
                offset: at + bdw::RESERVED.offset as u64,
                what: "BDW",
                field: bdw::RESERVED.name,
                value: reserved as u32,
                rule: "must be zero",
            }));
        }
        if len < (bdw::SIZE + rdw::SIZE) as u64 {
            return Ok(Err(Error::Invalid {
                offset: at,
                what: "BDW",
                field: bdw::LEN.name,
                value: len as u32,
                rule: "is below 8 (the BDW and one RDW)",
            }));
        }
        Ok(Ok(len))
    }

    /// Reads an RDW/SDW at the input position (not consumed).
    fn record_descriptor(&mut self, input: &mut dyn Input) -> io::Result<Result<Descriptor>> {
        let at = self.offset;
        let b = input.fill(rdw::SIZE)?;
        if b.len() < rdw::SIZE {
            return Ok(Err(Error::Truncated {
                offset: at,
                what: "RDW",
                needed: rdw::SIZE as u64,
                available: b.len() as u64,
            }));
        }
        let len = rdw::LEN.uint(b);
        let seg = rdw::SEGMENT.uint(b) as u8;
        let reserved = rdw::RESERVED.uint(b);
        if seg & !rdw::CODE_MASK != 0 || reserved != 0 {
            return Ok(Err(Error::Invalid {
                offset: at + rdw::SEGMENT.offset as u64,
                what: "RDW",
                field: "segment code and reserved byte",
                value: (u32::from(seg) << 8) | reserved as u32,
                rule: "must be X'0000', X'0100', X'0200' or X'0300'",
            }));
        }
        if len < rdw::SIZE as u64 {
            return Ok(Err(Error::Invalid {
                offset: at,
                what: "RDW",
                field: rdw::LEN.name,
                value: len as u32,
                rule: "is below the 4-byte descriptor itself",
            }));
        }
        if self.framing == Framing::BdwRdw && len > self.block_left {
            return Ok(Err(Error::LengthMismatch {
                offset: at,
                what: "RDW",
                field: rdw::LEN.name,
                found: len as u32,
                other: "the bytes left in its block",
                expected: self.block_left as u32,
            }));
        }
        Ok(Ok(Descriptor { len, code: seg }))
    }

    /// Takes one record (segment) whose descriptor is at the input position.
    fn record(
        &mut self,
        input: &mut dyn Input,
        content: &mut Content,
        notes: &mut Vec<Note>,
        d: Descriptor,
    ) -> io::Result<bool> {
        let at = self.offset;
        if d.len > rdw::MAX_RECORD as u64 {
            notes.push(Note {
                offset: at,
                kind: NoteKind::LongRecord { len: d.len },
            });
        }
        let starts_record = d.code == rdw::COMPLETE || d.code == rdw::FIRST;
        if starts_record == self.spanned {
            notes.push(Note {
                offset: at,
                kind: NoteKind::SegmentOrder {
                    code: d.code,
                    inside: self.spanned,
                },
            });
        }
        if starts_record || !self.spanned {
            content.mark_record_start();
        }
        self.spanned = d.code == rdw::FIRST || d.code == rdw::MIDDLE;
        input.consume(rdw::SIZE);
        self.offset += rdw::SIZE as u64;
        if self.framing == Framing::BdwRdw {
            self.block_left -= d.len;
        }
        let mut left = d.len - rdw::SIZE as u64;
        while left > 0 {
            let bytes = input.fill(left.min(RAW_CHUNK as u64) as usize)?;
            if bytes.is_empty() {
                if !self.probing {
                    notes.push(Note {
                        offset: at,
                        kind: NoteKind::TruncatedRecord {
                            len: d.len,
                            available: d.len - left,
                        },
                    });
                }
                self.eof = true;
                break;
            }
            let n = (bytes.len() as u64).min(left) as usize;
            content.push(&bytes[..n], self.offset);
            input.consume(n);
            self.offset += n as u64;
            left -= n as u64;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
