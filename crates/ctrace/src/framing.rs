//! How the entries of a trace file are framed, found out from the bytes, and
//! walking them.
//!
//! The CTRACE external writer (ITTTRCWR) writes a variable-length (VB) data
//! set; how it groups entries into records is not publicly documented.  What
//! reaches a PC depends on the transfer:
//!
//! * [`Framing::Raw`] — binary FTP (the default) drops the record
//!   descriptors: CTEs follow one another; where a writer buffer ended, the
//!   rest of it is zeros (IBM: "clear the remaining portion of the trace
//!   buffer to zeros").  A zero CTELENP therefore starts padding: the walker
//!   skips zero bytes up to the next entry, whose CTELENP may itself begin
//!   with a zero byte (entries shorter than 256 bytes), so the entry is
//!   looked for at the last zero byte and at the first non-zero one.
//! * [`Framing::Rdw`] — `quote site rdw` keeps a 4-byte record descriptor
//!   word before every record: 2-byte big-endian length including the RDW,
//!   2 zero bytes.  A record holds one or more entries; zeros after the last
//!   entry of a record are skipped.
//! * [`Framing::BdwRdw`] — RECFM=U transfers (e.g. Connect:Direct) keep the
//!   block descriptor word too: 2-byte length including the BDW and 2 zero
//!   bytes, or the extended form (first bit 1, 31-bit length); the block
//!   holds RDW records.
//!
//! Zero runs between records and blocks and at the end of an RDW/BDW file
//! are skipped too (no descriptor starts with two zero bytes), with the same
//! last-zero-byte rule.  Spanned records (VBS, non-zero RDW segment code) are
//! not supported.  [`Stepper`] and [`Entries`] decide alike whatever the read
//! sizes.

use crate::cte::{self, Cte};
use crate::{be16, be32, Error, Result, TextEncoding};

/// How the entries of a file are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// CTEs back to back, zero padding between writer buffers.
    Raw,
    /// Each record preceded by a 4-byte RDW.
    Rdw,
    /// Blocks with a 4-byte BDW, holding RDW records.
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
/// BDW and an RDW.  Fewer work (the first entry's trailing length is then
/// not checked).
pub const DETECT_PREFIX: usize = 65536 + 8;

/// EBCDIC "INMR01": the first control record of a TSO TRANSMIT file.
pub const XMIT_MAGIC: [u8; 6] = [0xC9, 0xD5, 0xD4, 0xD9, 0xF0, 0xF1];
/// "TRSNIFF data    \x1a": a Network General Sniffer file.
pub const SNIFFER_MAGIC: &[u8] = b"TRSNIFF data    \x1a";

/// An entry is plausible at `at`: header plausible (see below) and, if the
/// whole entry is in `buf`, a valid CTE.  `limit` caps CTELENP (record remainder).
fn cte_at(buf: &[u8], at: usize, limit: usize) -> bool {
    let Some(b) = buf.get(at..) else {
        return false;
    };
    if !Cte::plausible_header(b) {
        return false;
    }
    // Stricter than a CTE needs, for telling files apart: CTEOFF at most
    // 256, and a packet/data format id X'000000nn' with nn 1-8 (or a lost
    // record, X'FF' in byte 0).
    if be16(b, 2) > 256 || (b[4] == 0 && (b[5] != 0 || b[6] != 0 || !(1..=8).contains(&b[7]))) {
        return false;
    }
    let len = be16(b, 0) as usize;
    if len > limit {
        return false;
    }
    if b.len() >= len {
        Cte::new_checked(b).is_ok()
    } else {
        true
    }
}

/// An RDW is plausible at the start of `b`: zero bytes 2-3, length 4 (an
/// empty record) or at least 22 and at most `limit`, and (if the bytes are
/// there) a plausible CTE header after it that fits the record.
fn rdw_plausible(b: &[u8], limit: usize) -> bool {
    if b.len() < 4 || b[2] != 0 || b[3] != 0 {
        return false;
    }
    let len = be16(b, 0) as usize;
    if len > limit || (len != 4 && len < 4 + cte::MIN_LEN) {
        return false;
    }
    if len == 4 || b.len() < 12 {
        return true;
    }
    Cte::plausible_header(&b[4..]) && be16(b, 4) as usize <= len - 4
}

/// Terse header: `Some(mode)` if `b` starts with one.  Source:
/// openmainframeproject/tersedecompress TerseHeader.java (byte 0 X'02' PACK
/// or X'05' SPACK with a 12-byte header; X'01'/X'07' then X'8969A5' native).
fn terse_mode(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 4 && (b[0] == 0x01 || b[0] == 0x07) && b[1..4] == [0x89, 0x69, 0xA5] {
        return Some("native");
    }
    if b.len() >= 12 && (b[0] == 0x02 || b[0] == 0x05) && b[1] <= 1 {
        let len1 = be16(b, 2) as u32;
        let flags = b[4];
        let len2 = be32(b, 8);
        let lens_ok = (len1 != 0 || len2 != 0) && (len1 == 0 || len2 == 0 || len1 == len2);
        // without the MVS flag (X'01'), flags, ratio and block size are 0
        let mvs_ok = flags & 0x01 != 0 || (flags == 0 && b[5] == 0 && be16(b, 6) == 0);
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
/// order: Sniffer magic, EBCDIC "INMR01" in the first 16 bytes (XMIT), a CTE
/// at 0 (raw; leading zeros skipped), BDW+RDW+CTE, RDW+CTE, Terse headers,
/// ASCII and EBCDIC text.  A raw CTE has a non-zero CTEOFF where an RDW has
/// its zero bytes, and an RDW a CTE where a BDW has an RDW, so the three
/// framings cannot be taken for one another.
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
    let head = &prefix[..prefix.len().min(16 + XMIT_MAGIC.len())];
    if let Some(i) = head.windows(XMIT_MAGIC.len()).position(|w| w == XMIT_MAGIC) {
        return Err(Error::Xmit { offset: i as u64 });
    }
    // Raw: a CTE at 0, or after leading zero padding.
    let first = prefix.iter().position(|&b| b != 0);
    match first {
        None => return Err(Error::UnknownFraming { offset: 0 }),
        Some(0) => {
            if cte_at(prefix, 0, usize::MAX) {
                return Ok(Framing::Raw);
            }
        }
        Some(n) => {
            if cte_at(prefix, n - 1, usize::MAX) || cte_at(prefix, n, usize::MAX) {
                return Ok(Framing::Raw);
            }
        }
    }
    // BDW + RDW + CTE.
    if prefix.len() >= 8 + cte::MIN_LEN {
        let (blen, std_bdw) = if prefix[0] & 0x80 != 0 {
            ((be32(prefix, 0) & 0x7FFF_FFFF) as usize, true)
        } else {
            (be16(prefix, 0) as usize, prefix[2] == 0 && prefix[3] == 0)
        };
        let rlen = be16(prefix, 4) as usize;
        if std_bdw
            && blen >= 8 + cte::MIN_LEN
            && prefix[6] == 0
            && prefix[7] == 0
            && rlen >= 4 + cte::MIN_LEN
            && rlen <= blen - 4
            && cte_at(prefix, 8, rlen - 4)
        {
            return Ok(Framing::BdwRdw);
        }
    }
    // RDW + CTE.
    let rlen = be16(prefix, 0) as usize;
    if prefix[2] == 0 && prefix[3] == 0 && rlen >= 4 + cte::MIN_LEN && cte_at(prefix, 4, rlen - 4) {
        return Ok(Framing::Rdw);
    }
    if let Some(mode) = terse_mode(prefix) {
        return Err(Error::Terse { offset: 0, mode });
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

/// What [`Stepper::step`] found at the front of the input it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Skip `skip` framing bytes (descriptors, padding), then one checked
    /// CTE of `len` bytes follows; consume `skip + len` bytes.
    Entry { skip: usize, len: usize },
    /// Consume this many bytes of framing or padding (never 0).
    Skip(usize),
    /// Call again with at least this many bytes of input (counted from the
    /// same position), unless the file ends first.
    NeedMore(usize),
    /// No more entries.
    End,
    /// The file is damaged here; further calls return `End`.
    Error(Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    /// Between records (RDW) / blocks (BDW).
    Top,
    /// Inside a block, `left` bytes of it not yet consumed.
    Block { left: usize },
    /// Inside a record, `left` bytes of it not yet consumed; `block` is what
    /// is left of the enclosing block after the record.
    Record { left: usize, block: Option<usize> },
}

/// A streaming walker: give it the unconsumed bytes of a file (as many as a
/// buffer holds) and it says what they start with.  It keeps its place
/// between calls, and the file offset for errors, on the understanding that
/// the caller consumes exactly what each [`Step::Entry`] and [`Step::Skip`]
/// says.
#[derive(Clone, Debug)]
pub struct Stepper {
    framing: Framing,
    ctx: Ctx,
    offset: u64,
    after_padding: bool,
    done: bool,
}

impl Stepper {
    /// A walker at the start of a file framed as `framing`.
    pub fn new(framing: Framing) -> Stepper {
        Stepper {
            framing,
            ctx: Ctx::Top,
            offset: 0,
            after_padding: false,
            done: false,
        }
    }

    /// The framing walked.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// File offset of the next byte to be given.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn commit(&mut self, ctx: Ctx, consumed: usize, step: Step) -> Step {
        self.ctx = ctx;
        self.offset += consumed as u64;
        step
    }

    fn commit_pad(&mut self, pad: bool, ctx: Ctx, consumed: usize, step: Step) -> Step {
        self.after_padding = pad;
        self.commit(ctx, consumed, step)
    }

    fn fail(&mut self, e: Error) -> Step {
        self.done = true;
        Step::Error(e)
    }

    fn truncated(
        &mut self,
        at: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    ) -> Step {
        let e = Error::Truncated {
            offset: self.offset + at as u64,
            what,
            needed: needed as u64,
            available: available as u64,
        };
        self.fail(e)
    }

    /// Looks at `input`, the bytes from the walker's position on; `at_eof`
    /// says whether the file ends after them.
    pub fn step(&mut self, input: &[u8], at_eof: bool) -> Step {
        if self.done {
            return Step::End;
        }
        match self.framing {
            Framing::Raw => self.step_raw(input, at_eof),
            Framing::Rdw | Framing::BdwRdw => self.step_framed(input, at_eof),
        }
    }

    fn step_raw(&mut self, input: &[u8], at_eof: bool) -> Step {
        if input.is_empty() {
            return if at_eof { Step::End } else { Step::NeedMore(2) };
        }
        if input[0] == 0 && (input.len() < 2 || input[1] == 0) {
            // Zero padding: skip to the last zero byte before data.
            match input.iter().position(|&b| b != 0) {
                Some(n) => {
                    self.after_padding = true;
                    return self.commit(Ctx::Top, n - 1, Step::Skip(n - 1));
                }
                None if at_eof => {
                    self.after_padding = true;
                    return self.commit(Ctx::Top, input.len(), Step::Skip(input.len()));
                }
                None if input.len() >= 2 => {
                    self.after_padding = true;
                    let n = input.len() - 1;
                    return self.commit(Ctx::Top, n, Step::Skip(n));
                }
                None => return Step::NeedMore(2),
            }
        }
        // A zero byte just before data after padding may be the high byte of
        // a short entry's CTELENP, or padding: try it, else skip it.
        let retry = self.after_padding && input[0] == 0;
        if input.len() < 2 {
            if !at_eof {
                return Step::NeedMore(2);
            }
            return self.truncated(0, "CTE", cte::MIN_LEN, input.len());
        }
        let len = be16(input, 0) as usize;
        if len < cte::MIN_LEN || (len > input.len() && at_eof) {
            if retry {
                return self.commit(Ctx::Top, 1, Step::Skip(1));
            }
            if len < cte::MIN_LEN {
                return self.fail(Error::Invalid {
                    offset: self.offset,
                    what: "CTE",
                    field: "CTELENP",
                    value: len as u32,
                    rule: "is below the 18-byte minimum (16-byte header and CTELENE)",
                });
            }
            return self.truncated(0, "CTE", len, input.len());
        }
        if len > input.len() {
            return Step::NeedMore(len);
        }
        match Cte::new_checked(input) {
            Ok(_) => {
                self.after_padding = false;
                self.commit(Ctx::Top, len, Step::Entry { skip: 0, len })
            }
            Err(_) if retry => self.commit(Ctx::Top, 1, Step::Skip(1)),
            Err(e) => {
                let e = e.at(self.offset);
                self.fail(e)
            }
        }
    }

    fn step_framed(&mut self, input: &[u8], at_eof: bool) -> Step {
        let mut pos = 0usize;
        let mut ctx = self.ctx;
        // "the byte at `pos` is the kept last zero of a zero run"; committed
        // with the context, so a NeedMore leaves no trace
        let mut pad = self.after_padding;
        loop {
            let avail = input.len() - pos;
            match ctx {
                Ctx::Top => {
                    if avail == 0 {
                        if !at_eof {
                            return Step::NeedMore(pos + 4);
                        }
                        if pos > 0 {
                            return self.commit_pad(pad, ctx, pos, Step::Skip(pos));
                        }
                        return Step::End;
                    }
                    if avail < 4 {
                        if !at_eof {
                            return Step::NeedMore(pos + 4);
                        }
                        if input[pos..].iter().all(|&b| b == 0) {
                            return self.commit_pad(pad, ctx, input.len(), Step::Skip(input.len()));
                        }
                        let what = if self.framing == Framing::Rdw {
                            "RDW"
                        } else {
                            "BDW"
                        };
                        return self.truncated(pos, what, 4, avail);
                    }
                    let h = &input[pos..pos + 4];
                    if h[0] == 0 && h[1] == 0 {
                        // Zeros between or after records (no descriptor
                        // starts with two zero bytes): skip them but the
                        // last, which may be the high byte of the next
                        // descriptor's length (decided below).
                        let z = input[pos..].iter().position(|&b| b != 0).unwrap_or(avail);
                        if pos + z == input.len() && at_eof {
                            return self.commit_pad(pad, ctx, input.len(), Step::Skip(input.len()));
                        }
                        pad = true;
                        return self.commit_pad(pad, ctx, pos + z - 1, Step::Skip(pos + z - 1));
                    }
                    if pad && h[0] == 0 {
                        // One zero before data: a descriptor with a short
                        // length starts here, or the data starts one on.
                        let need = if self.framing == Framing::Rdw { 12 } else { 16 };
                        if avail < need && !at_eof {
                            return Step::NeedMore(pos + need);
                        }
                        pad = false;
                        let here = &input[pos..];
                        let ok = if self.framing == Framing::Rdw {
                            rdw_plausible(here, usize::MAX)
                        } else {
                            here[2] == 0 && here[3] == 0 && {
                                let b = be16(here, 0) as usize;
                                b >= 4 && (b == 4 || rdw_plausible(&here[4..], b - 4))
                            }
                        };
                        if !ok {
                            return self.commit_pad(pad, ctx, pos + 1, Step::Skip(pos + 1));
                        }
                    }
                    pad = false;
                    if self.framing == Framing::Rdw {
                        match self.rdw(h, pos, None) {
                            Ok(c) => ctx = c,
                            Err(e) => return self.fail(e),
                        }
                    } else {
                        let blen = if h[0] & 0x80 != 0 {
                            (be32(h, 0) & 0x7FFF_FFFF) as usize
                        } else {
                            if h[2] != 0 || h[3] != 0 {
                                return self.fail(Error::Invalid {
                                    offset: self.offset + pos as u64 + 2,
                                    what: "BDW",
                                    field: "reserved bytes",
                                    value: be16(h, 2) as u32,
                                    rule: "must be zero",
                                });
                            }
                            be16(h, 0) as usize
                        };
                        if blen < 4 {
                            return self.fail(Error::Invalid {
                                offset: self.offset + pos as u64,
                                what: "BDW",
                                field: "block length",
                                value: blen as u32,
                                rule: "is below the 4-byte BDW itself",
                            });
                        }
                        ctx = Ctx::Block { left: blen - 4 };
                    }
                    pos += 4;
                }
                Ctx::Block { left } => {
                    if left == 0 {
                        ctx = Ctx::Top;
                        continue;
                    }
                    if avail < left.min(4) {
                        if !at_eof {
                            return Step::NeedMore(pos + left.min(4));
                        }
                        return self.truncated(pos, "block", left, avail);
                    }
                    let n = left.min(avail);
                    if input[pos..pos + n.min(2)].iter().all(|&b| b == 0) {
                        // Zero fill after the last record of a block (no
                        // RDW starts with two zero bytes: its length is ≥ 4).
                        let z = input[pos..pos + n]
                            .iter()
                            .position(|&b| b != 0)
                            .unwrap_or(n);
                        if z == left {
                            ctx = Ctx::Top;
                            pos += z;
                            pad = false;
                            continue;
                        }
                        if z == n && at_eof {
                            return self.truncated(pos, "block", left, avail);
                        }
                        if z >= 2 {
                            // keep the last zero (see Top)
                            pad = true;
                            let c = Ctx::Block {
                                left: left - (z - 1),
                            };
                            return self.commit_pad(pad, c, pos + z - 1, Step::Skip(pos + z - 1));
                        }
                    }
                    if pad && input[pos] == 0 && left >= 4 {
                        let need = left.min(12);
                        if avail < need && !at_eof {
                            return Step::NeedMore(pos + need);
                        }
                        pad = false;
                        if !rdw_plausible(&input[pos..pos + n], left) {
                            let c = Ctx::Block { left: left - 1 };
                            return self.commit_pad(pad, c, pos + 1, Step::Skip(pos + 1));
                        }
                    }
                    pad = false;
                    if left < 4 {
                        return self.fail(Error::Invalid {
                            offset: self.offset + pos as u64,
                            what: "block",
                            field: "bytes left",
                            value: left as u32,
                            rule: "are too few for an RDW",
                        });
                    }
                    if avail < 4 {
                        if !at_eof {
                            return Step::NeedMore(pos + 4);
                        }
                        return self.truncated(pos, "RDW", 4, avail);
                    }
                    let h = &input[pos..pos + 4];
                    match self.rdw(h, pos, Some(left)) {
                        Ok(c) => ctx = c,
                        Err(e) => return self.fail(e),
                    }
                    pos += 4;
                }
                Ctx::Record { left, block } => {
                    if left == 0 {
                        ctx = match block {
                            Some(b) => Ctx::Block { left: b },
                            None => Ctx::Top,
                        };
                        continue;
                    }
                    if avail == 0 {
                        if !at_eof {
                            return Step::NeedMore(pos + left.min(2));
                        }
                        return self.truncated(pos, "record", left, 0);
                    }
                    let mut retry = pad && input[pos] == 0;
                    if input[pos] == 0 && (avail < 2 || left < 2 || input[pos + 1] == 0) {
                        // Zeros after the last entry of the record.
                        let n = left.min(avail);
                        let z = input[pos..pos + n]
                            .iter()
                            .position(|&b| b != 0)
                            .unwrap_or(n);
                        if z == left {
                            ctx = Ctx::Record { left: 0, block };
                            pos += z;
                            pad = false;
                            continue;
                        }
                        if z == n && at_eof {
                            return self.truncated(pos, "record", left, avail);
                        }
                        if z >= 2 {
                            // keep the last zero: it may be the high byte
                            // of a short entry's CTELENP
                            let k = z - 1;
                            pad = true;
                            let c = Ctx::Record {
                                left: left - k,
                                block,
                            };
                            return self.commit_pad(pad, c, pos + k, Step::Skip(pos + k));
                        }
                        if z == n {
                            if pos > 0 {
                                return self.commit_pad(pad, ctx, pos, Step::Skip(pos));
                            }
                            return Step::NeedMore(2);
                        }
                        retry = true;
                    }
                    if avail < 2 {
                        if at_eof {
                            return self.truncated(pos, "CTE", cte::MIN_LEN, avail);
                        }
                        return Step::NeedMore(pos + 2);
                    }
                    let len = be16(input, pos) as usize;
                    let bad = if len > left {
                        Some(Error::LengthMismatch {
                            offset: self.offset + pos as u64,
                            what: "CTE",
                            field: "CTELENP",
                            found: len as u32,
                            other: "the bytes left in its record",
                            expected: left as u32,
                        })
                    } else if len >= cte::MIN_LEN && avail < len {
                        if !at_eof {
                            return Step::NeedMore(pos + len);
                        }
                        Some(Error::Truncated {
                            offset: self.offset + pos as u64,
                            what: "CTE",
                            needed: len as u64,
                            available: avail as u64,
                        })
                    } else {
                        Cte::new_checked(&input[pos..])
                            .err()
                            .map(|e| e.at(self.offset + pos as u64))
                    };
                    match bad {
                        None => {
                            pad = false;
                            let c = Ctx::Record {
                                left: left - len,
                                block,
                            };
                            return self.commit_pad(
                                pad,
                                c,
                                pos + len,
                                Step::Entry { skip: pos, len },
                            );
                        }
                        Some(_) if retry => {
                            pad = false;
                            let c = Ctx::Record {
                                left: left - 1,
                                block,
                            };
                            return self.commit_pad(pad, c, pos + 1, Step::Skip(pos + 1));
                        }
                        Some(e) => return self.fail(e),
                    }
                }
            }
        }
    }

    /// Parses an RDW `h` found at `pos`; `block` is what is left of the
    /// enclosing block, RDW included.
    fn rdw(&self, h: &[u8], pos: usize, block: Option<usize>) -> Result<Ctx> {
        let at = self.offset + pos as u64;
        if h[2] != 0 || h[3] != 0 {
            return Err(Error::Invalid {
                offset: at + 2,
                what: "RDW",
                field: "segment code and reserved byte",
                value: be16(h, 2) as u32,
                rule: "must be zero (spanned VBS records are not supported)",
            });
        }
        let len = be16(h, 0) as usize;
        if len < 4 {
            return Err(Error::Invalid {
                offset: at,
                what: "RDW",
                field: "record length",
                value: len as u32,
                rule: "is below the 4-byte RDW itself",
            });
        }
        if let Some(b) = block {
            if len > b {
                return Err(Error::LengthMismatch {
                    offset: at,
                    what: "RDW",
                    field: "record length",
                    found: len as u32,
                    other: "the bytes left in its block",
                    expected: b as u32,
                });
            }
        }
        Ok(Ctx::Record {
            left: len - 4,
            block: block.map(|b| b - len),
        })
    }
}

/// Every entry of a whole file in memory, with its file offset.  Stops after
/// the first error.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    buf: &'a [u8],
    pos: usize,
    stepper: Stepper,
}

impl<'a> Entries<'a> {
    /// Walks `buf`, framed as `framing`.
    pub fn new(buf: &'a [u8], framing: Framing) -> Entries<'a> {
        Entries {
            buf,
            pos: 0,
            stepper: Stepper::new(framing),
        }
    }

    /// Detects the framing of `buf`, then walks it.
    pub fn detect(buf: &'a [u8]) -> Result<Entries<'a>> {
        let f = detect(&buf[..buf.len().min(DETECT_PREFIX)])?;
        Ok(Entries::new(buf, f))
    }

    /// The framing walked.
    pub fn framing(&self) -> Framing {
        self.stepper.framing()
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<(u64, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.stepper.step(&self.buf[self.pos..], true) {
                Step::Entry { skip, len } => {
                    let start = self.pos + skip;
                    self.pos = start + len;
                    return Some(Ok((start as u64, &self.buf[start..start + len])));
                }
                Step::Skip(n) => self.pos += n,
                Step::NeedMore(n) => {
                    // cannot happen at end of file; report it as truncation
                    let e = Error::Truncated {
                        offset: self.pos as u64,
                        what: "entry",
                        needed: n as u64,
                        available: (self.buf.len() - self.pos) as u64,
                    };
                    self.stepper.done = true;
                    return Some(Err(e));
                }
                Step::End => return None,
                Step::Error(e) => return Some(Err(e)),
            }
        }
    }
}

impl std::iter::FusedIterator for Entries<'_> {}

#[cfg(test)]
mod tests;
