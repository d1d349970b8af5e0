//! The CTRACE file reader: recognises a trace by content, reads it with the
//! `ctrace` crate's [`Reader`] — the pipeline `pktmatch convert` and the
//! capture crate use too — through a read buffer, and hands Wireshark one
//! record per packet: its trace record (the bytes skipped before the entry,
//! such as a writer's record header or damage, then the entry, or all
//! entries of a packet that was split), so the dissector sees every byte.
//! Frame time is the packet's TOD as UTC; frame length counts what tracing
//! cut off (PTH_Plen − the traced bytes); direction comes from PTH_Out.

use std::collections::HashMap;
use std::io;

use ctrace::{framing, Error, Framing, NoteKind, Packet, Reader, TextEncoding};
use wireshark_ffi::wiretap::{Direction, File, ReadError, RecordOut};

/// How much is read from the file at a time.
const CHUNK: usize = 256 * 1024;

/// The file's unread bytes.
struct Buffered {
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// A read error, kept to be returned as Wireshark's own.
    error: Option<ReadError>,
}

/// [`Buffered`] and the file, as the `ctrace` reader's input.
struct FileInput<'a> {
    file: &'a mut File,
    state: &'a mut Buffered,
}

impl ctrace::Input for FileInput<'_> {
    fn fill(&mut self, want: usize) -> io::Result<&[u8]> {
        let s = &mut *self.state;
        if s.buf.len() - s.pos < want && !s.eof {
            s.buf.drain(..s.pos);
            s.pos = 0;
            while s.buf.len() < want && !s.eof {
                let start = s.buf.len();
                let ask = CHUNK.max(want - start);
                s.buf.resize(start + ask, 0);
                match self.file.read(&mut s.buf[start..]) {
                    Ok(got) => {
                        s.buf.truncate(start + got);
                        s.eof = got < ask;
                    }
                    Err(e) => {
                        s.buf.truncate(start);
                        let message = e.message().to_owned();
                        s.error = Some(e);
                        return Err(io::Error::other(message));
                    }
                }
            }
        }
        Ok(&s.buf[s.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.state.pos = (self.state.pos + n).min(self.state.buf.len());
    }
}

/// What random access needs to read a record again, when its first entry's
/// CTELENP alone does not say it: the file pieces of the record, and for
/// bytes that are no entry, the time they were shown with.
struct Stored {
    chunks: Vec<(u64, usize)>,
    time_ns: i64,
    comments: Vec<String>,
}

pub struct CtraceReader {
    reader: Reader,
    input: Buffered,
    /// The whole input is in `input.buf` (an unpacked AMATERSE or XMIT
    /// file): random access reads from there, not from the file.
    in_memory: bool,
    stored: HashMap<i64, Stored>,
    /// Reads records again for random access.
    again: Reader,
    bytes: Vec<u8>,
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
        // An IPCS formatted report: the report reader's (registered next).
        Err(Error::Text { .. })
            if ipcs_report::recognise(prefix) == ipcs_report::Recognised::Report =>
        {
            Recognised::NotMine
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

/// What the reader found about the record that its bytes cannot tell the
/// dissector (record descriptors are not in them): packet comments.
fn framing_comments(p: &Packet) -> Vec<String> {
    p.notes
        .iter()
        .filter(|n| {
            matches!(
                n.kind,
                NoteKind::LongRecord { .. }
                    | NoteKind::SegmentOrder { .. }
                    | NoteKind::FramingLost { .. }
                    | NoteKind::TruncatedRecord { .. }
            )
        })
        .map(|n| format!("CTRACE: {n}"))
        .collect()
}

/// Fills `out` with a packet (as read, or read again).
fn emit(p: &Packet, out: &mut RecordOut, time_ns: i64, comments: &[String]) {
    out.comments.clear();
    out.comments.extend_from_slice(comments);
    out.bytes.clear();
    out.bytes.extend_from_slice(p.record);
    let cut = p.original_len().saturating_sub(p.data.len() as u32);
    out.original_len = (p.record.len() as u32).saturating_add(cut);
    out.time_ns = time_ns;
    out.direction = match p.direction {
        ctrace::Direction::Inbound => Some(Direction::Inbound),
        ctrace::Direction::Outbound => Some(Direction::Outbound),
        ctrace::Direction::Unknown => None,
    };
}

impl CtraceReader {
    /// A reader that goes on from the `prefix` the recognition read (the
    /// file's first bytes; `at_eof` when they are all of it).
    pub fn new(framing: Framing, prefix: Vec<u8>, at_eof: bool) -> Self {
        CtraceReader {
            reader: Reader::new(framing),
            input: Buffered {
                buf: prefix,
                pos: 0,
                eof: at_eof,
                error: None,
            },
            stored: HashMap::new(),
            again: Reader::for_records(),
            bytes: Vec::new(),
            in_memory: false,
        }
    }

    /// A reader of a trace held whole in memory (unpacked from a container):
    /// offsets are into `data`.
    pub fn in_memory(framing: Framing, data: Vec<u8>) -> Self {
        let mut r = CtraceReader::new(framing, data, true);
        r.in_memory = true;
        r
    }

    pub fn read(&mut self, file: &mut File, out: &mut RecordOut) -> Result<Option<i64>, ReadError> {
        let mut input = FileInput {
            file,
            state: &mut self.input,
        };
        let packet = match self.reader.next_packet(&mut input) {
            Ok(p) => p,
            Err(e) => {
                return Err(self
                    .input
                    .error
                    .take()
                    .unwrap_or_else(|| ReadError::bad_file(format!("CTRACE: {e}"))))
            }
        };
        let Some(p) = packet else {
            return Ok(None);
        };
        let offset = p.offset as i64;
        let time_ns = p.time_ns(0).unwrap_or(0);
        // One entry, first in its record and in one piece: its CTELENP says
        // how much to read again.  Anything else is remembered.
        let comments = framing_comments(&p);
        let plain = p.entries.len() == 1
            && p.skipped().is_empty()
            && p.chunks.len() == 1
            && comments.is_empty();
        if !plain {
            self.stored.insert(
                offset,
                Stored {
                    chunks: p.chunks.to_vec(),
                    time_ns,
                    comments: comments.clone(),
                },
            );
        }
        emit(&p, out, time_ns, &comments);
        Ok(Some(offset))
    }

    pub fn seek_read(
        &mut self,
        file: &mut File,
        offset: i64,
        out: &mut RecordOut,
    ) -> Result<(), ReadError> {
        let (chunks, stored_time, comments) = match self.stored.get(&offset) {
            Some(s) => (s.chunks.clone(), Some(s.time_ns), s.comments.clone()),
            None if self.in_memory => {
                let lenp = ctrace::layout::cte::LENP;
                let at = offset as usize;
                let len = self
                    .input
                    .buf
                    .get(at..at + lenp.width)
                    .map(|b| lenp.uint(b) as usize)
                    .ok_or_else(|| ReadError::short(format!("CTRACE: no record at {offset}")))?;
                (vec![(offset as u64, len)], None, Vec::new())
            }
            None => {
                // One CTE: its first two bytes (CTELENP) give its length.
                file.seek(offset)?;
                let lenp = ctrace::layout::cte::LENP;
                let mut len = [0u8; 2];
                file.read_exact(&mut len[..lenp.width], "CTE length")?;
                (
                    vec![(offset as u64, lenp.uint(&len) as usize)],
                    None,
                    Vec::new(),
                )
            }
        };
        self.bytes.clear();
        for (at, len) in chunks {
            if self.in_memory {
                let (at, end) = (at as usize, at as usize + len);
                let piece = self.input.buf.get(at..end).ok_or_else(|| {
                    ReadError::short(format!(
                        "CTRACE: record at {at} runs past the unpacked data"
                    ))
                })?;
                self.bytes.extend_from_slice(piece);
                continue;
            }
            file.seek(at as i64)?;
            let start = self.bytes.len();
            self.bytes.resize(start + len, 0);
            file.read_exact(&mut self.bytes[start..], "CTRACE record")?;
        }
        let p = self.again.read_record(&self.bytes);
        let time_ns = stored_time.unwrap_or_else(|| p.time_ns(0).unwrap_or(0));
        emit(&p, out, time_ns, &comments);
        Ok(())
    }
}
