//! The IPCS report file reader: an IPCS formatted SYSTCPDA report (FULL,
//! FORMAT with DUMP, DUMP), recognised by content, read whole with the
//! `ipcs-report` crate — also when it comes packed by AMATERSE or TSO
//! XMIT.  One frame per record: the record's values and its packet rebuilt
//! from the hex dumps, in the `ipcs_report::wire` form the `ctrace`
//! dissector reads; time to the µs from the Tod Clock, direction from
//! From/To, frame length counting what tracing cut off.  Report lines that
//! were skipped become comments on the frame of the record they are in.

use ipcs_report::{wire, Direction as RDirection, Note, Recognised, Report};
use wireshark_ffi::wiretap::{Direction, File, ReadError, RecordOut};

/// The most a report (or the packed file holding one) may be: it is read
/// into memory whole.
pub const MAX_REPORT: u64 = 2 << 30;

/// One frame, ready to hand over.
struct Frame {
    bytes: Vec<u8>,
    time_ns: i64,
    original_len: u32,
    direction: Option<Direction>,
    comments: Vec<String>,
}

/// The frames of a report, all made when it is opened.  A frame's offset
/// is its index (several records can share a line of a joined report).
pub struct ReportReader {
    frames: Vec<Frame>,
    next: usize,
}

/// Reads the rest of `file` after `prefix` (at most [`MAX_REPORT`]).
pub fn read_all(file: &mut File, mut prefix: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let got = file.read(&mut chunk)?;
        if got == 0 {
            return Ok(prefix);
        }
        prefix.extend_from_slice(&chunk[..got]);
        if prefix.len() as u64 > MAX_REPORT {
            return Err(ReadError::bad_file(format!(
                "IPCS report: larger than {MAX_REPORT} bytes"
            )));
        }
    }
}

/// Whether the first bytes are an IPCS report's.
pub fn is_report(prefix: &[u8]) -> bool {
    ipcs_report::recognise(prefix) == Recognised::Report
}

impl ReportReader {
    /// Reads a whole report; a report that cannot give packets (summary
    /// only, no hex dumps) is refused with the crate's explanation.
    pub fn new(bytes: &[u8], unpacked: &[zunpack::Layer]) -> Result<ReportReader, ReadError> {
        let report = ipcs_report::parse(bytes)
            .map_err(|e| ReadError::bad_file(format!("IPCS report: {e}")))?;
        Ok(ReportReader::from_report(&report, unpacked))
    }

    fn from_report(report: &Report, unpacked: &[zunpack::Layer]) -> ReportReader {
        let mut frames = Vec::with_capacity(report.records.len());
        let mut notes = report.notes.iter().peekable();
        for (i, rec) in report.records.iter().enumerate() {
            let end = report.records.get(i + 1).map_or(usize::MAX, |r| r.line);
            let mine: Vec<&Note> = std::iter::from_fn(|| notes.next_if(|n| n.line < end)).collect();
            let packet = rec.packet();
            let bytes = wire::encode(rec, packet.as_ref(), &mine);
            let mut comments: Vec<String> =
                mine.iter().map(|n| format!("IPCS report: {n}")).collect();
            if i == 0 {
                for layer in unpacked {
                    comments.insert(0, format!("unpacked: {}", layer.describe()));
                }
            }
            let cut = packet
                .as_ref()
                .map_or(0, |p| p.original_len.saturating_sub(p.bytes.len() as u32));
            let direction = packet
                .as_ref()
                .and_then(|p| p.direction)
                .or(rec.direction)
                .map(|d| match d {
                    RDirection::Inbound => Direction::Inbound,
                    RDirection::Outbound => Direction::Outbound,
                });
            frames.push(Frame {
                original_len: (bytes.len() as u32).saturating_add(cut),
                time_ns: rec.time_us().unwrap_or(0).saturating_mul(1000),
                direction,
                comments,
                bytes,
            });
        }
        ReportReader { frames, next: 0 }
    }

    fn emit(&self, i: usize, out: &mut RecordOut) {
        let f = &self.frames[i];
        out.bytes.clear();
        out.bytes.extend_from_slice(&f.bytes);
        out.time_ns = f.time_ns;
        out.original_len = f.original_len;
        out.direction = f.direction;
        out.comments.clear();
        out.comments.extend_from_slice(&f.comments);
    }

    /// The next frame and its offset.
    pub fn read(&mut self, out: &mut RecordOut) -> Option<i64> {
        let i = self.next;
        if i >= self.frames.len() {
            return None;
        }
        self.next += 1;
        self.emit(i, out);
        Some(i as i64)
    }

    /// The frame reported at `offset`.
    pub fn seek_read(&mut self, offset: i64, out: &mut RecordOut) -> Result<(), ReadError> {
        let i = usize::try_from(offset)
            .ok()
            .filter(|&i| i < self.frames.len())
            .ok_or_else(|| ReadError::short(format!("IPCS report: no record {offset}")))?;
        self.emit(i, out);
        Ok(())
    }
}
