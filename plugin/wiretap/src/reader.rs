//! The CTRACE file reader: recognises a trace by content, walks its entries
//! with the `ctrace` crate's streaming [`Stepper`] through a read buffer,
//! and hands Wireshark one record per packet: the CTE (or, for a packet
//! split over several CTEs, all of them back to back), so the dissector sees
//! every header byte.  Frame time is the packet's TOD as UTC; frame length
//! counts what tracing cut off (PTH_Plen − PTH_Tlen); direction comes from
//! the header's outbound flag.

use std::collections::HashMap;

use ctrace::{framing, Cte, Error, Framing, Pthdr, Step, Stepper, TextEncoding};
use wireshark_ffi::wiretap::{Direction, File, ReadError, RecordOut};

/// How much is read from the file at a time.
const CHUNK: usize = 256 * 1024;

pub struct CtraceReader {
    stepper: Stepper,
    /// Unconsumed file bytes are `buf[pos..]`; `buf[0]` is at file offset
    /// `buf_offset`.
    buf: Vec<u8>,
    pos: usize,
    buf_offset: i64,
    eof: bool,
    /// An entry read ahead that starts the next packet: (offset, CTE).
    lookahead: Option<(i64, Vec<u8>)>,
    /// For packets split over several CTEs, where each part is, by the
    /// offset the packet was reported at (random access needs them: in RDW
    /// and BDW files descriptors sit between the parts).
    parts: HashMap<i64, Vec<(i64, usize)>>,
    group: Vec<(i64, Vec<u8>)>,
}

/// What the first bytes of a file say.
pub enum Recognised {
    Trace(Framing),
    NotMine,
    /// Looks like the start of a trace but the probe was too short to tell.
    NeedMore,
    /// Ours to explain: a CTRACE in a container we cannot read.
    Explain(String),
}

/// Looks at the first bytes of a file (up to [`framing::DETECT_PREFIX`];
/// `complete` when no more can be had).
pub fn recognise(prefix: &[u8], complete: bool) -> Recognised {
    match framing::detect(prefix) {
        Ok(framing) => Recognised::Trace(framing),
        // The crate's message already says what to do on z/OS.
        Err(error @ (Error::Xmit { .. } | Error::Terse { .. })) => {
            Recognised::Explain(format!("CTRACE: {error}"))
        }
        Err(error @ Error::Text { encoding, .. }) if mentions_ctrace(prefix, encoding) => {
            Recognised::Explain(format!("CTRACE: {error}"))
        }
        Err(Error::Truncated { .. }) if !complete => Recognised::NeedMore,
        // Anything else (another format, or too little to tell) is not ours.
        Err(_) => Recognised::NotMine,
    }
}

/// Whether text is about component traces (an IPCS report), in the
/// encoding it was found in: other text files are simply not ours.
fn mentions_ctrace(prefix: &[u8], encoding: TextEncoding) -> bool {
    let words: [&[u8]; 3] = match encoding {
        TextEncoding::Ascii => [b"SYSTCP", b"CTRACE", b"COMPONENT TRACE"],
        // CCSID 37 spellings of the same words.
        TextEncoding::Ebcdic => [
            &[0xE2, 0xE8, 0xE2, 0xE3, 0xC3, 0xD7],
            &[0xC3, 0xE3, 0xD9, 0xC1, 0xC3, 0xC5],
            &[
                0xC3, 0xD6, 0xD4, 0xD7, 0xD6, 0xD5, 0xC5, 0xD5, 0xE3, 0x40, 0xE3, 0xD9, 0xC1, 0xC3,
                0xC5,
            ],
        ],
    };
    words
        .iter()
        .any(|word| prefix.windows(word.len()).any(|w| w == *word))
}

impl CtraceReader {
    /// A reader that goes on from the `prefix` the recognition read (the
    /// file's first bytes; `at_eof` when they are all of it).
    pub fn new(framing: Framing, prefix: Vec<u8>, at_eof: bool) -> Self {
        CtraceReader {
            stepper: Stepper::new(framing),
            buf: prefix,
            pos: 0,
            buf_offset: 0,
            eof: at_eof,
            lookahead: None,
            parts: HashMap::new(),
            group: Vec::new(),
        }
    }

    /// Makes at least `need` unconsumed bytes available, unless the file
    /// ends first.
    fn fill(&mut self, file: &mut File, need: usize) -> Result<(), ReadError> {
        if self.buf.len() - self.pos >= need || self.eof {
            return Ok(());
        }
        // Drop what was consumed, then read whole chunks.
        self.buf.drain(..self.pos);
        self.buf_offset += self.pos as i64;
        self.pos = 0;
        while self.buf.len() < need && !self.eof {
            let start = self.buf.len();
            let want = CHUNK.max(need - start);
            self.buf.resize(start + want, 0);
            let got = file.read(&mut self.buf[start..])?;
            self.buf.truncate(start + got);
            if got < want {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The next CTE in the file and its offset, or None at the end.
    fn next_entry(&mut self, file: &mut File) -> Result<Option<(i64, Vec<u8>)>, ReadError> {
        self.fill(file, 8)?;
        loop {
            let available = &self.buf[self.pos..];
            match self.stepper.step(available, self.eof) {
                Step::Entry { skip, len } => {
                    let offset = self.buf_offset + (self.pos + skip) as i64;
                    let cte = self.buf[self.pos + skip..self.pos + skip + len].to_vec();
                    self.pos += skip + len;
                    return Ok(Some((offset, cte)));
                }
                Step::Skip(n) => {
                    self.pos += n;
                    if self.pos == self.buf.len() {
                        self.fill(file, 8)?;
                    }
                }
                Step::NeedMore(n) => {
                    if self.eof {
                        // The stepper was told the file ends here.
                        return Err(ReadError::short(format!(
                            "CTRACE: entry at byte {} needs {n} bytes, the file ends first",
                            self.stepper.offset()
                        )));
                    }
                    self.fill(file, n)?;
                }
                Step::End => return Ok(None),
                Step::Error(error) => return Err(ReadError::bad_file(format!("CTRACE: {error}"))),
            }
        }
    }

    fn emit(group: &[(i64, Vec<u8>)], out: &mut RecordOut) {
        out.bytes.clear();
        for (_, cte) in group {
            out.bytes.extend_from_slice(cte);
        }
        out.original_len = out.bytes.len() as u32;
        out.direction = None;
        out.time_ns = 0;
        let Ok(cte) = Cte::new_checked(&group[0].1) else {
            return;
        };
        out.time_ns = ctrace::tod::to_unix_ns(cte.tod(), 0);
        if let Ok(pthdr) = Pthdr::from_cte(&cte) {
            out.time_ns = pthdr.unix_ns(0);
            let cut = pthdr.packet_len().saturating_sub(pthdr.traced_len());
            out.original_len = out.original_len.saturating_add(cut);
            out.direction = Some(if pthdr.is_outbound() {
                Direction::Outbound
            } else {
                Direction::Inbound
            });
        }
    }

    pub fn read(&mut self, file: &mut File, out: &mut RecordOut) -> Result<Option<i64>, ReadError> {
        self.group.clear();
        let first = match self.lookahead.take() {
            Some(entry) => entry,
            None => match self.next_entry(file)? {
                Some(entry) => entry,
                None => return Ok(None),
            },
        };
        self.group.push(first);
        // Read ahead only while the last entry says its packet goes on.
        while ctrace::segment::needs_more(&self.group[self.group.len() - 1].1) {
            match self.next_entry(file)? {
                None => break,
                Some(next) => {
                    let last = &self.group[self.group.len() - 1].1;
                    if ctrace::continues(last, &next.1) {
                        self.group.push(next);
                    } else {
                        self.lookahead = Some(next);
                        break;
                    }
                }
            }
        }
        let offset = self.group[0].0;
        if self.group.len() > 1 {
            let parts = self
                .group
                .iter()
                .map(|(at, bytes)| (*at, bytes.len()))
                .collect();
            self.parts.insert(offset, parts);
        }
        Self::emit(&self.group, out);
        Ok(Some(offset))
    }

    pub fn seek_read(
        &mut self,
        file: &mut File,
        offset: i64,
        out: &mut RecordOut,
    ) -> Result<(), ReadError> {
        let parts = match self.parts.get(&offset) {
            Some(parts) => parts.clone(),
            None => {
                // One CTE: its first two bytes (CTELENP) give its length.
                file.seek(offset)?;
                let mut len = [0u8; 2];
                file.read_exact(&mut len, "CTE length")?;
                vec![(offset, usize::from(u16::from_be_bytes(len)))]
            }
        };
        let mut group = Vec::with_capacity(parts.len());
        for (at, len) in parts {
            file.seek(at)?;
            let mut cte = vec![0u8; len];
            file.read_exact(&mut cte, "CTE")?;
            group.push((at, cte));
        }
        Self::emit(&group, out);
        Ok(())
    }
}
