//! The one CTE → packet pipeline: every consumer (the capture crate behind
//! `pktmatch index`, `pktmatch convert`, the Wireshark file reader and the
//! Wireshark dissector) reads traces through [`Reader`].
//!
//! 1. [`crate::framing::Deframer`] takes the record descriptors off.
//! 2. The entry scanner walks the records' contents: an entry must pass
//!    [`Cte::check_strict`] (CTELENP = CTELENE, CTEOFF, a known format id, a
//!    sane packet trace header).  After an entry the next one normally
//!    follows; zeros are padding (a writer buffer's unused end); anything
//!    else — a writer's per-record header, whose layout is not public, or
//!    damage — is scanned byte by byte up to the next valid entry and
//!    reported.  Where a logical record starts (framed files), the bytes
//!    before its first entry are scanned the same way, zeros included.
//! 3. Entries are grouped into packets: a record whose PTH_SeqNum is 0 and
//!    which holds fewer bytes than PTH_Tlen is continued by the following
//!    records with PTH_SeqNum +1 (255 → 1), the same PTH_Time, PTH_Tlen,
//!    format id and direction (IBM "Segmented records"), across padding and
//!    unknown bytes, until PTH_Tlen bytes are there.
//! 4. Each packet says what contradicts: PTH_Tlen against the bytes there,
//!    PTH_Plen against PTH_Tlen and against the IP header's own length.
//!
//! A packet's `record` — what Wireshark is given as the frame — is the
//! content from the first skipped byte before its first entry to the end of
//! its last entry.  [`Reader::read_record`] reads such a record again with the
//! same scanner and builder (the dissector, and Wireshark's random access),
//! and finds the same packet.

use crate::cte::{self, Cte};
use crate::framing::{Content, Deframer, Framing, RAW_MAX_LEAD};
use crate::input::{Input, SliceInput};
use crate::packet::{Direction, Kind, Note, NoteKind, Packet};
use crate::pthdr::{next_seq, Pthdr};
use crate::Error;
use std::collections::VecDeque;
use std::io;

/// The most bytes that are no entry one record carries: a longer run (a
/// file that is mostly damage) becomes records of its own, each at most
/// this long, so that memory stays bounded and every record fits a
/// Wireshark frame (256 KiB).
pub const MAX_SKIPPED: u64 = 64 * 1024;

/// What the scanner found.
#[derive(Clone, Debug)]
enum Item {
    /// A valid entry at content `start`.
    Entry { start: u64, len: usize },
    /// Bytes that are no entry; `why` when they start like a damaged one.
    Skipped {
        start: u64,
        len: u64,
        why: Option<Error>,
    },
}

impl Item {
    fn start(&self) -> u64 {
        match *self {
            Item::Entry { start, .. } | Item::Skipped { start, .. } => start,
        }
    }
}

#[derive(Clone, Debug)]
enum State {
    /// An entry (or padding) should come next.
    Expect,
    /// Looking for the next valid entry; the bytes since `start` are no
    /// entry.
    Scan { start: u64, why: Option<Error> },
}

/// Where the current packet's traced bytes are.
#[derive(Clone, Copy, Debug)]
enum DataAt {
    /// Content positions.
    Content(u64, u64),
    /// The joined segments.
    Joined,
}

/// The current packet, by position (the [`Packet`] view is built on
/// demand).
#[derive(Clone, Copy, Debug)]
struct Current {
    kind: Kind,
    record: (u64, u64),
    data: DataAt,
    tod: Option<u64>,
    direction: Direction,
    /// Content position of PTH_Name.
    name: Option<u64>,
    interface_index: Option<u32>,
    plen: Option<u32>,
    tlen: Option<u32>,
    offset: u64,
}

impl Current {
    /// A packet with only what every kind has; the header's values are
    /// filled in by the caller when there is one.
    fn bare(kind: Kind, record: (u64, u64), data: DataAt, tod: Option<u64>, offset: u64) -> Self {
        Current {
            kind,
            record,
            data,
            tod,
            direction: Direction::Unknown,
            name: None,
            interface_index: None,
            plen: None,
            tlen: None,
            offset,
        }
    }
}

/// Reads a trace, packet by packet.
#[derive(Debug)]
pub struct Reader {
    deframer: Deframer,
    content: Content,
    /// Content position of the next byte the scanner looks at.
    pos: u64,
    state: State,
    /// Items found ahead of the packet that needed them.
    held: VecDeque<Item>,
    /// Framing notes not given out yet.
    pending: VecDeque<Note>,
    current: Option<Current>,
    entries: Vec<(usize, usize)>,
    joined: Vec<u8>,
    notes: Vec<Note>,
    chunks: Vec<(u64, usize)>,
    scratch: Vec<Item>,
    /// The last packet's time, for bytes that are no entry.
    last_tod: Option<u64>,
    /// Probing: where an entry that looked right was cut by the prefix's
    /// end.
    cut: Option<u64>,
}

/// The IPv4/IPv6 header's own idea of the packet length (RFC 791 total
/// length; RFC 8200 payload length + 40), when `ip` holds it.
fn ip_length(ip: &[u8]) -> Option<u32> {
    match ip.first()? >> 4 {
        4 => Some(u32::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]))),
        6 => Some(u32::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?])) + 40),
        _ => None,
    }
}

/// The segment of a packet trace record, as far as grouping cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seg {
    fmtid: u8,
    seq: u8,
    tod: u64,
    tlen: u32,
    out: bool,
    have: usize,
}

fn seg_of(entry: &[u8]) -> Option<Seg> {
    let cte = Cte::new_checked(entry).ok()?;
    let p = Pthdr::from_cte(&cte).ok()?;
    Some(Seg {
        fmtid: cte.fmtid(),
        seq: p.seq_num(),
        tod: p.tod(),
        tlen: p.traced_len(),
        out: p.is_outbound(),
        have: p.payload().len(),
    })
}

/// Where a raw trace (no descriptors) may be cut for reading in pieces,
/// from a candidate `x`: an entry the reader would take at `x`
/// ([`Cte::starts_entry`]), and right after it, with no bytes between
/// (which would be the next record's), another that starts a packet (no
/// packet trace header, or sequence number 0: not a further segment of
/// the packet before).  That second entry's position, where reading the
/// trace whole starts a record if it took the first as an entry: the
/// caller confirms that by reading on to it (`capture::Capture::pieces`).
pub fn piece_start(bytes: &[u8], x: usize) -> Option<usize> {
    let at = |k: usize| {
        let b = bytes.get(k..)?;
        Cte::starts_entry(b).then(|| &b[..crate::layout::cte::LENP.uint(b) as usize])
    };
    let y = x + at(x)?.len();
    let next = at(y)?;
    seg_of(next).map_or(true, |s| s.seq == 0).then_some(y)
}

/// `next` continues the set `first` started, `prev` being its last record so
/// far.
fn continues(first: &Seg, prev: &Seg, next: &Seg) -> bool {
    next.fmtid == first.fmtid
        && next.seq == next_seq(prev.seq)
        && next.tod == first.tod
        && next.tlen == first.tlen
        && next.out == first.out
}

impl Reader {
    /// A reader at the start of an input framed as `framing`.
    pub fn new(framing: Framing) -> Reader {
        Reader {
            deframer: Deframer::new(framing),
            content: Content::default(),
            pos: 0,
            state: State::Expect,
            held: VecDeque::new(),
            pending: VecDeque::new(),
            current: None,
            entries: Vec::new(),
            joined: Vec::new(),
            notes: Vec::new(),
            chunks: Vec::new(),
            scratch: Vec::new(),
            last_tod: None,
            cut: None,
        }
    }

    /// Reads `prefix` (a file's first bytes) as `framing` for
    /// [`crate::framing::detect`]: every descriptor fits, a valid entry is
    /// found, and without descriptors the first entry comes within
    /// [`RAW_MAX_LEAD`] unknown bytes and another entry follows (after any
    /// bytes), or nothing but zeros.  The number of unknown bytes before the first
    /// entry, or None.
    pub fn probe(prefix: &[u8], framing: Framing) -> Option<usize> {
        let mut r = Reader::new(framing);
        r.deframer.probing = true;
        let mut input = SliceInput::new(prefix);
        let (mut entries, mut lead) = (0usize, None);
        while let Ok(Some(p)) = r.next_packet(&mut input) {
            let (skipped, n) = (p.skipped().len(), p.entries.len());
            if r.deframer.degraded {
                return None;
            }
            lead.get_or_insert(skipped);
            entries += n;
            if entries >= 2 {
                break;
            }
        }
        if r.deframer.degraded {
            return None;
        }
        if entries == 0 {
            // an entry that looked right, cut by the prefix's end: enough
            // when nothing but zeros (or a record start) came before it
            let cut = r.cut?;
            let before = r.content.range(0, cut);
            let quiet = framing != Framing::Raw || before.iter().all(|&b| b == 0);
            return quiet.then_some(0);
        }
        let lead = lead?;
        let fits = match framing {
            Framing::Raw if lead > 0 => {
                lead <= RAW_MAX_LEAD && (entries >= 2 || r.rest_is_zero(&mut input))
            }
            _ => true,
        };
        fits.then_some(lead)
    }

    fn rest_is_zero(&mut self, input: &mut dyn Input) -> bool {
        let _ = self.ensure(input, u64::MAX);
        self.held.is_empty()
            && self
                .content
                .from(self.pos.min(self.content.end()))
                .iter()
                .all(|&b| b == 0)
    }

    /// Bytes its buffers hold on the heap: the content read ahead of the
    /// scanner and a segmented packet's joined bytes (the rest is a few
    /// positions).  A caller that keeps a memory limit counts them.
    pub fn held_bytes(&self) -> usize {
        self.content.held_bytes() + self.joined.capacity()
    }

    /// The framing read (raw once a descriptor did not fit).
    pub fn framing(&self) -> Framing {
        if self.deframer.degraded {
            Framing::Raw
        } else {
            self.deframer.framing
        }
    }

    /// Notes about the end of the input that no packet followed (read after
    /// [`Reader::next_packet`] returned `None`).
    pub fn final_notes(&mut self) -> Vec<Note> {
        self.pending.drain(..).collect()
    }

    fn ensure(&mut self, input: &mut dyn Input, upto: u64) -> io::Result<()> {
        while self.content.end() < upto {
            let mut notes = Vec::new();
            let more = self.deframer.pull(input, &mut self.content, &mut notes)?;
            self.pending.extend(notes);
            if !more {
                break;
            }
        }
        Ok(())
    }

    /// Checks the entry that would start at content `pos`: its length, or
    /// why not.
    fn check(&mut self, input: &mut dyn Input, pos: u64) -> io::Result<Result<usize, Error>> {
        self.ensure(input, pos + crate::layout::cte::LENP.end() as u64)?;
        let head = self.content.from(pos);
        if head.len() < crate::layout::cte::LENP.end() {
            return Ok(Cte::new_checked(head).map(|c| c.len()));
        }
        let len = crate::layout::cte::LENP.uint(head);
        self.ensure(input, pos + len)?;
        let end = (pos + len).min(self.content.end());
        let bytes = self.content.range(pos, end);
        let checked = Cte::check_strict(bytes).map(|c| c.len());
        if self.deframer.probing
            && self.cut.is_none()
            && matches!(checked, Err(Error::Truncated { .. }))
            && Cte::plausible_header(bytes)
        {
            self.cut = Some(pos);
        }
        Ok(checked)
    }

    /// Why the bytes at `pos` are no entry, if they look like one.
    fn why(&self, pos: u64, e: Error) -> Option<Error> {
        Cte::plausible_header(self.content.from(pos)).then_some(e)
    }

    fn next_item(&mut self, input: &mut dyn Input) -> io::Result<Option<Item>> {
        if let Some(item) = self.held.pop_front() {
            return Ok(Some(item));
        }
        loop {
            match std::mem::replace(&mut self.state, State::Expect) {
                State::Expect => {
                    self.ensure(input, self.pos + 2)?;
                    let pos = self.pos;
                    if pos >= self.content.end() {
                        return Ok(None);
                    }
                    if self.content.record_starts_at(pos) {
                        self.state = State::Scan {
                            start: pos,
                            why: None,
                        };
                        continue;
                    }
                    let b = self.content.from(pos);
                    if b[0] == 0 && (b.len() < 2 || b[1] == 0) {
                        let Some(q) = self.skip_padding(input)? else {
                            continue;
                        };
                        if let Ok(len) = self.check(input, q - 1)? {
                            return Ok(Some(self.entry(q - 1, len)));
                        }
                        match self.check(input, q)? {
                            Ok(len) => return Ok(Some(self.entry(q, len))),
                            Err(e) => self.start_scan(q, e),
                        }
                        continue;
                    }
                    match self.check(input, pos)? {
                        Ok(len) => return Ok(Some(self.entry(pos, len))),
                        Err(e) => self.start_scan(pos, e),
                    }
                }
                State::Scan { start, why } => {
                    if let Some(item) = self.scan(input, start, why)? {
                        return Ok(Some(item));
                    }
                    if self.pos >= self.content.end() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn entry(&mut self, start: u64, len: usize) -> Item {
        self.pos = start + len as u64;
        self.state = State::Expect;
        Item::Entry { start, len }
    }

    fn start_scan(&mut self, at: u64, e: Error) {
        self.state = State::Scan {
            start: at,
            why: self.why(at, e),
        };
        self.pos = at + 1;
    }

    /// Skips padding zeros from `self.pos`; the first non-zero byte's
    /// position, or None when a record starts or the input ends first.
    fn skip_padding(&mut self, input: &mut dyn Input) -> io::Result<Option<u64>> {
        loop {
            self.ensure(input, self.pos + 1)?;
            let end = self.content.end();
            if self.pos >= end {
                return Ok(None);
            }
            let limit = self.content.next_record_start(self.pos, end).unwrap_or(end);
            let zeros = self
                .content
                .range(self.pos, limit)
                .iter()
                .take_while(|&&b| b == 0)
                .count() as u64;
            self.pos += zeros;
            if self.pos < limit {
                return Ok(Some(self.pos));
            }
            if limit < end {
                return Ok(None);
            }
        }
    }

    /// Looks for the next valid entry from `self.pos`; the bytes from
    /// `start` on are no entry.  None when the input ends without them
    /// (nothing to report).
    fn scan(
        &mut self,
        input: &mut dyn Input,
        start: u64,
        mut why: Option<Error>,
    ) -> io::Result<Option<Item>> {
        loop {
            self.ensure(input, self.pos + cte::HEADER_LEN as u64)?;
            let pos = self.pos;
            let end = self.content.end();
            let skipped = |to: u64| Item::Skipped {
                start,
                len: to - start,
                why,
            };
            if pos >= end {
                self.pos = end;
                return Ok((end > start).then(|| skipped(end)));
            }
            if pos - start >= MAX_SKIPPED {
                self.state = State::Scan {
                    start: pos,
                    why: None,
                };
                return Ok(Some(skipped(pos)));
            }
            if pos > start && self.content.record_starts_at(pos) {
                self.state = State::Scan {
                    start: pos,
                    why: None,
                };
                return Ok(Some(skipped(pos)));
            }
            if Cte::plausible_header(self.content.from(pos)) {
                match self.check(input, pos)? {
                    Ok(len) => {
                        let entry = self.entry(pos, len);
                        if pos == start {
                            return Ok(Some(entry));
                        }
                        self.held.push_back(entry);
                        return Ok(Some(Item::Skipped {
                            start,
                            len: pos - start,
                            why,
                        }));
                    }
                    // bytes that start like an entry but are none: damage
                    Err(e) if pos == start && why.is_none() => why = Some(e),
                    Err(_) => {}
                }
            }
            self.pos += 1;
        }
    }

    /// The next packet; `None` at the end.  Only reading the input can fail:
    /// damage is reported in the packets' notes.
    pub fn next_packet(&mut self, input: &mut dyn Input) -> io::Result<Option<Packet<'_>>> {
        self.current = None;
        self.entries.clear();
        self.joined.clear();
        self.notes.clear();
        self.chunks.clear();
        let keep = self
            .held
            .front()
            .map(Item::start)
            .unwrap_or(self.pos)
            .min(match self.state {
                State::Scan { start, .. } => start,
                State::Expect => self.pos,
            });
        if !self.deframer.probing {
            self.content.release(keep);
        }
        let mut skips = std::mem::take(&mut self.scratch);
        skips.clear();
        let mut first = None;
        let mut skipped = 0;
        while let Some(item) = self.next_item(input)? {
            match item {
                Item::Entry { start, len } => {
                    first = Some((start, len));
                    break;
                }
                Item::Skipped { len, .. } => {
                    skipped += len;
                    skips.push(item);
                    if skipped >= MAX_SKIPPED {
                        break;
                    }
                }
            }
        }
        let record_start = skips.first().map(Item::start).or(first.map(|(s, _)| s));
        let Some(record_start) = record_start else {
            self.scratch = skips;
            return Ok(None);
        };
        let current = match first {
            Some((start, len)) => self.build(input, record_start, start, len, &mut skips)?,
            None => {
                let end = skips.last().map_or(record_start, |i| match *i {
                    Item::Skipped { start, len, .. } => start + len,
                    Item::Entry { start, len } => start + len as u64,
                });
                Current::bare(
                    Kind::NoEntry,
                    (record_start, end),
                    DataAt::Content(end, end),
                    self.last_tod,
                    self.content.offset_of(record_start),
                )
            }
        };
        for item in &skips {
            if let Item::Skipped { start, len, why } = item {
                self.notes.push(Note {
                    offset: self.content.offset_of(*start),
                    kind: NoteKind::Skipped {
                        len: *len,
                        why: *why,
                    },
                });
            }
        }
        self.scratch = skips;
        // framing notes about bytes up to this record's end
        let end_offset = self.content.offset_of(current.record.1.saturating_sub(1)) + 1;
        while self.pending.front().is_some_and(|n| n.offset < end_offset) {
            if let Some(n) = self.pending.pop_front() {
                self.notes.push(n);
            }
        }
        self.notes.sort_by_key(|n| n.offset);
        self.content
            .chunks(current.record.0, current.record.1, &mut self.chunks);
        self.last_tod = current.tod;
        self.current = Some(current);
        Ok(self.last())
    }

    /// Groups the entry at `start` with its further segments and describes
    /// the packet.
    fn build(
        &mut self,
        input: &mut dyn Input,
        record_start: u64,
        start: u64,
        len: usize,
        skips: &mut Vec<Item>,
    ) -> io::Result<Current> {
        let mut end = start + len as u64;
        let mut parts = vec![(start, len)];
        let first = seg_of(self.content.range(start, end));
        if let Some(f) = first.filter(|f| f.seq == 0 && (f.have as u64) < u64::from(f.tlen)) {
            let (mut prev, mut have) = (f, f.have as u64);
            let mut between = Vec::new();
            while have < u64::from(f.tlen) {
                let Some(item) = self.next_item(input)? else {
                    break;
                };
                let Item::Entry { start: s, len: l } = item else {
                    let far = item.start() - end >= MAX_SKIPPED;
                    between.push(item);
                    if far {
                        break;
                    }
                    continue;
                };
                let next = seg_of(self.content.range(s, s + l as u64));
                match next.filter(|n| continues(&f, &prev, n)) {
                    Some(n) => {
                        skips.append(&mut between);
                        parts.push((s, l));
                        end = s + l as u64;
                        have += n.have as u64;
                        prev = n;
                    }
                    None => {
                        between.push(item);
                        break;
                    }
                }
            }
            // what did not belong to the packet starts the next one
            for item in between.into_iter().rev() {
                self.held.push_front(item);
            }
        }
        for &(s, l) in &parts {
            self.entries.push(((s - record_start) as usize, l));
        }
        let cte = Cte::new_checked(self.content.range(start, start + len as u64))
            .expect("the scanner checked the entry");
        let kind = if cte.is_lost_record() {
            Kind::Lost
        } else if cte.has_pthdr() {
            Kind::Traced(cte.fmtid())
        } else {
            Kind::Other(cte.fmtid())
        };
        let data = cte.data_range();
        let mut current = Current::bare(
            kind,
            (record_start, end),
            DataAt::Content(start + data.start as u64, start + data.end as u64),
            Some(cte.tod()),
            self.content.offset_of(record_start),
        );
        let header_at = start + u64::from(cte.cteoff());
        if let Ok(p) = Pthdr::from_cte(&cte) {
            let payload = header_at + u64::from(p.header_len());
            current.data = DataAt::Content(payload, start + cte.data_range().end as u64);
            current.tod = Some(p.tod());
            current.direction = if p.is_outbound() {
                Direction::Outbound
            } else {
                Direction::Inbound
            };
            current.name = Some(header_at + crate::layout::pthdr::NAME.offset as u64);
            current.interface_index = Some(p.interface_index());
            current.plen = Some(p.packet_len());
            current.tlen = Some(p.traced_len());
            let note_at = self.content.offset_of(header_at);
            if p.seq_num() != 0 {
                self.notes.push(Note {
                    offset: note_at,
                    kind: NoteKind::OrphanSegment { seq: p.seq_num() },
                });
            }
            if parts.len() > 1 {
                for &(s, l) in &parts {
                    let e = self.content.range(s, s + l as u64);
                    if let Some(p) = Cte::new_checked(e).ok().and_then(|c| {
                        Pthdr::from_cte(&c)
                            .ok()
                            .map(|p| (c.cteoff(), p.header_len()))
                    }) {
                        let from = s + u64::from(p.0) + u64::from(p.1);
                        let to = s + l as u64 - cte::TRAILER_LEN as u64;
                        self.joined.extend_from_slice(self.content.range(from, to));
                    }
                }
                current.data = DataAt::Joined;
            }
            let have = match current.data {
                DataAt::Content(a, b) => b - a,
                DataAt::Joined => self.joined.len() as u64,
            };
            let (tlen, plen) = (p.traced_len(), p.packet_len());
            let mut say = |kind| {
                self.notes.push(Note {
                    offset: note_at,
                    kind,
                })
            };
            if have < u64::from(tlen) {
                say(NoteKind::TracedBeyondEntry { tlen, have });
            } else if have > u64::from(tlen) {
                say(NoteKind::BeyondTlen { tlen, have });
            }
            // A 16-bit PTH_Plen cannot say the length of a segmented set
            // beyond 65 535 bytes (PTH_Tlen has 24 bits): no contradiction.
            if plen < tlen && tlen <= crate::pthdr::MAX_PLEN {
                say(NoteKind::PlenBelowTlen { plen, tlen });
            }
            if cte.fmtid() == cte::FMT_PACKET && p.seq_num() == 0 {
                if let Some(ip) = ip_length(p.payload()).filter(|&ip| ip != plen) {
                    say(NoteKind::IpLength { ip, plen });
                }
            }
        }
        Ok(current)
    }

    /// The packet the last [`Reader::next_packet`] returned.
    pub fn last(&self) -> Option<Packet<'_>> {
        let c = self.current?;
        let record = self.content.range(c.record.0, c.record.1);
        let data = match c.data {
            DataAt::Content(a, b) => self.content.range(a, b),
            DataAt::Joined => &self.joined,
        };
        Some(Packet {
            kind: c.kind,
            record,
            entries: &self.entries,
            data,
            tod: c.tod,
            direction: c.direction,
            name: c.name.map(|at| {
                self.content
                    .range(at, at + crate::layout::pthdr::NAME.width as u64)
            }),
            interface_index: c.interface_index,
            plen: c.plen,
            tlen: c.tlen,
            offset: c.offset,
            chunks: &self.chunks,
            notes: &self.notes,
        })
    }

    /// Back to the start of a new input, keeping the buffers.
    fn reset(&mut self, framing: Framing) {
        self.deframer = Deframer::new(framing);
        self.content.reset();
        self.pos = 0;
        self.state = State::Expect;
        self.held.clear();
        self.pending.clear();
        self.current = None;
        self.last_tod = None;
    }

    /// A reader for [`Reader::read_record`].
    pub fn for_records() -> Reader {
        Reader::new(Framing::Raw)
    }

    /// Reads `record` — a packet's [`Packet::record`], as Wireshark holds
    /// it — again: the same scanner and builder find the same packet, with
    /// offsets counted from `record[0]`.  Bytes after the packet, which a
    /// record made by this reader never has, get a note.
    pub fn read_record(&mut self, record: &[u8]) -> Packet<'_> {
        self.reset(Framing::Raw);
        self.state = State::Scan {
            start: 0,
            why: None,
        };
        let mut input = SliceInput::new(record);
        // reading a slice cannot fail
        let found = matches!(self.next_packet(&mut input), Ok(Some(_)));
        if let (true, Some(c)) = (found, self.current) {
            let end = c.record.1;
            if end < record.len() as u64 {
                self.notes.push(Note {
                    offset: end,
                    kind: NoteKind::Skipped {
                        len: record.len() as u64 - end,
                        why: None,
                    },
                });
            }
        }
        self.last().unwrap_or(Packet {
            kind: Kind::NoEntry,
            record: &[],
            entries: &[],
            data: &[],
            tod: None,
            direction: Direction::Unknown,
            name: None,
            interface_index: None,
            plen: None,
            tlen: None,
            offset: 0,
            chunks: &[],
            notes: &[],
        })
    }
}

impl crate::packet::Packets for Reader {
    fn next_packet(&mut self, input: &mut dyn Input) -> io::Result<Option<Packet<'_>>> {
        Reader::next_packet(self, input)
    }
}

#[cfg(test)]
mod tests;
