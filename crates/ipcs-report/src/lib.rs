//! IPCS formatted z/OS packet trace reports (`CTRACE COMP(SYSTCPDA) …`
//! with FULL, OPTIONS((FORMAT DUMP)) or OPTIONS((DUMP))) read back into the
//! records they show and the packets their hex dumps hold — the form a
//! network analyst is most often sent instead of the binary trace.
//!
//! * [`text`] turns whatever arrived (ASCII or EBCDIC, line ends or
//!   records, page headings, form feeds, ASA control, mail quoting and
//!   wrapping) into lines;
//! * [`parse`] reads the lines into [`Record`]s, noting every line it
//!   could not use with its number and text;
//! * [`Record::packet`] rebuilds a record's packet from its "IP Header",
//!   "Protocol Header" and "Data" dumps, with its original length and the
//!   problems found on the way (a dump whose byte count disagrees with its
//!   heading, …);
//! * [`render`] writes packets the way IBM's examples look: the documented
//!   generator of this project's rendered fixtures, from the same
//!   vocabulary table ([`vocab`]) the reader uses.
//!
//! No panics on any input (fuzzed).  Sources and confidence for every fact
//! about the report: [`vocab`] and docs/ipcs-report.md.

pub mod line;
pub mod packet;
mod parse;
pub mod record;
pub mod render;
pub mod text;
pub mod time;
pub mod vocab;
pub mod wire;

use std::fmt;

pub use packet::{Kind, Packet};
pub use record::{Direction, Endpoint, Extent, Problem, Record, Section};

/// What the reader noted about a line that it did not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// Not understood; skipped.
    Skipped,
    /// An MVS message printed in the report (ITT…, BLS…).
    Message,
    /// Something about the times.
    Time,
}

/// One note about the report, with its line number and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub line: usize,
    pub kind: NoteKind,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            NoteKind::Skipped => "skipped",
            NoteKind::Message => "message",
            NoteKind::Time => "time",
        };
        write!(f, "line {}: {what}: {}", self.line, self.text)
    }
}

/// The time zone of the report's times (the formatter's GMT or LOCAL
/// option, echoed in the report's option listing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeZone {
    Gmt,
    Local,
    /// Not stated: taken as GMT.
    Unknown,
}

/// Which of IBM's layouts the report is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// CTRACE … FULL: formatted headers and hex dumps.
    Full,
    /// OPTIONS((FORMAT DUMP)): the same content without the FULL heading.
    FormatDump,
    /// OPTIONS((DUMP)): record headers and hex dumps only.
    Dump,
    /// OPTIONS((FORMAT)): formatted, no hex dumps.
    Format,
    /// SHORT: record lines and trace headers only.
    Short,
    /// SUMMARY: one line per packet.
    Summary,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Full => "FULL",
            Layout::FormatDump => "FORMAT with DUMP",
            Layout::Dump => "DUMP",
            Layout::Format => "FORMAT (no hex dumps)",
            Layout::Short => "SHORT (no hex dumps)",
            Layout::Summary => "SUMMARY",
        }
    }
}

/// Why a report cannot be read into packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// No trace record found at all.
    NotAReport,
    /// A SUMMARY report: one line per packet, no hex dumps.
    SummaryOnly { line: usize },
    /// Records without hex dumps: their packets cannot be rebuilt.
    NoDumps { records: usize, layout: Layout },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ASK: &str = "ask for the report again with CTRACE … FULL (or OPTIONS((DUMP))), \
                           or better for the trace data set itself";
        match self {
            Error::NotAReport => f.write_str(
                "no IPCS packet trace records found (no line like \
                 \"3 MVSJ PACKET 00000004 23:39:11.873541 Packet Trace\")",
            ),
            Error::SummaryOnly { line } => write!(
                f,
                "an IPCS SUMMARY report (line {line}): one line per packet and no hex dumps, \
                 so the packets cannot be rebuilt; {ASK}"
            ),
            Error::NoDumps { records, layout } => write!(
                f,
                "an IPCS {} report: {records} records but no hex dumps, so the packets \
                 cannot be rebuilt; {ASK}",
                layout.name()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A report read.
#[derive(Clone, Debug)]
pub struct Report {
    pub records: Vec<Record>,
    pub notes: Vec<Note>,
    pub layout: Layout,
    pub time_zone: TimeZone,
    pub encoding: text::Encoding,
    pub framing: text::Framing,
    /// Whether ASA carriage control was found and removed.
    pub asa: bool,
    /// Number of lines read.
    pub lines: usize,
    /// Line of a SUMMARY report's column heading, if one was seen.
    pub summary_line: Option<usize>,
}

impl Report {
    /// How many records have a packet.
    pub fn packets(&self) -> usize {
        self.records.iter().filter(|r| r.has_dump()).count()
    }
}

/// How much a line looks like a report's: record and date lines weigh
/// most (a wrong record length cuts them), labels least (they survive in
/// fragments).
fn weight(s: &str) -> usize {
    if line::record_line(&line::tokens(s), 0).is_some() || line::date_line(s).is_some() {
        8
    } else if line::section_heading(s).is_some() {
        4
    } else if line::is_dump_line(s) {
        2
    } else {
        usize::from(!line::find_labels(s).is_empty())
    }
}

fn score(lines: &[text::Line]) -> usize {
    lines
        .iter()
        .map(|l| weight(l.text.trim_start_matches(text::ASA[0])))
        .sum()
}

/// Decodes and reads a report, whatever it holds; the records are there
/// even when some lines were not understood (see [`Report::notes`]).
pub fn read(bytes: &[u8]) -> Report {
    let decoded = text::decode(bytes, &score);
    let mut lines = decoded.lines;
    let mut asa = false;
    if text::could_be_asa(&lines) {
        let stripped = text::strip_asa(&lines);
        let sample = 5000;
        if score(&stripped[..stripped.len().min(sample)]) > score(&lines[..lines.len().min(sample)])
        {
            lines = stripped;
            asa = true;
        }
    }
    let p = parse::Parser::new().run(&lines);
    let with_dump = p.records.iter().filter(|r| r.has_dump()).count();
    let formatted = p.records.iter().filter(|r| r.formatted).count();
    let layout = match (with_dump > 0, formatted > 0) {
        _ if p.records.is_empty() && p.summary_line.is_some() => Layout::Summary,
        (true, true) if p.full_heading => Layout::Full,
        (true, true) => Layout::FormatDump,
        (true, false) => Layout::Dump,
        (false, true) => Layout::Format,
        (false, false) => Layout::Short,
    };
    Report {
        records: p.records,
        notes: p.notes,
        layout,
        time_zone: p.time_zone,
        encoding: decoded.encoding,
        framing: decoded.framing,
        asa,
        lines: lines.len(),
        summary_line: p.summary_line,
    }
}

/// Reads a report that packets can be rebuilt from: refuses summary-only
/// reports and reports without any hex dump, saying why.
pub fn parse(bytes: &[u8]) -> Result<Report, Error> {
    let r = read(bytes);
    if r.records.is_empty() {
        return Err(match r.summary_line {
            Some(line) => Error::SummaryOnly { line },
            None => Error::NotAReport,
        });
    }
    if r.packets() == 0 {
        return Err(Error::NoDumps {
            records: r.records.len(),
            layout: r.layout,
        });
    }
    Ok(r)
}

/// What the first bytes of a file (a few KB) say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recognised {
    /// An IPCS packet trace report (with or without dumps: [`parse`] says).
    Report,
    /// Not one.
    No,
}

/// Cheap recognition for a file-type probe: text (ASCII or EBCDIC) with a
/// trace record line, or IPCS's CTRACE headings together with a date
/// line or a SUMMARY heading.
pub fn recognise(prefix: &[u8]) -> Recognised {
    if prefix.is_empty() {
        return Recognised::No;
    }
    let decoded = text::decode(prefix, &score);
    // binary data is not a report (allow a little for EBCDIC controls);
    // records behind RDWs are structure enough
    if decoded.framing != text::Framing::Rdw {
        let printable = match decoded.encoding {
            text::Encoding::Ebcdic => prefix
                .iter()
                .filter(|&&c| c >= 0x40 || matches!(c, 0x05 | 0x0C | 0x0D | 0x15 | 0x25))
                .count(),
            text::Encoding::Ascii => prefix
                .iter()
                .filter(|&&c| c >= 0x20 || matches!(c, b'\t' | b'\n' | b'\r' | 0x0C))
                .count(),
        };
        if printable * 100 < prefix.len() * 95 {
            return Recognised::No;
        }
    }
    let mut heading = false;
    let mut dated = false;
    let mut summary = 0;
    for l in &decoded.lines {
        // as it is, and without an ASA control character in column 1
        let mut forms = vec![l.text.as_str()];
        if l.text.starts_with(text::ASA) {
            forms.push(&l.text[1..]);
        }
        for piece in forms.into_iter().flat_map(line::split_joined) {
            let toks = line::tokens(piece);
            if line::record_line(&toks, 0).is_some() {
                return Recognised::Report;
            }
            dated |= line::date_line(piece).is_some();
            heading |= piece.contains("COMP(SYSTCP")
                || piece.contains("COMP (SYSTCP")
                || piece.contains("Packet Trace Formatter")
                || piece.trim_start().starts_with("COMPONENT TRACE");
            if line::is_summary_heading(piece) || (summary > 0 && line::is_summary_row(piece)) {
                summary += 1;
            }
        }
    }
    if (heading && dated) || (dated && summary >= 2) {
        Recognised::Report
    } else {
        Recognised::No
    }
}

#[cfg(test)]
mod tests;
