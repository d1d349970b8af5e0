//! The reader: lines in, records out.  One pass; every line is either
//! understood, known furniture, formatted protocol detail (ignored on
//! purpose), or noted as skipped with its number and text.

use std::net::IpAddr;

use crate::line::{self, Found};
use crate::record::{Direction, Endpoint, Extent, Problem, Record, Section};
use crate::text::Line;
use crate::vocab::{self, Key, Zone};
use crate::{time, Note, NoteKind, TimeZone};

/// How a dump line is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Expecting a dump offset.
    Offset,
    /// Reading dump words.
    Words,
    /// In the character translation after the words.
    Translation,
}

struct Open {
    section: Section,
    /// The last line ended inside the words with a full word: a line of
    /// bare words after it continues it (a mail client wrapped it).
    words_open: bool,
}

pub(crate) struct Parser {
    date: Option<i64>,
    date_line_seen: bool,
    last_stamp: Option<i64>,
    zone: Zone,
    cur: Option<Record>,
    open: Option<Open>,
    /// "Echo Data : 248" just before a dump: names the dump.
    heading: Option<(String, u32, usize)>,
    pub(crate) records: Vec<Record>,
    pub(crate) notes: Vec<Note>,
    pub(crate) time_zone: TimeZone,
    pub(crate) summary_line: Option<usize>,
    pub(crate) full_heading: bool,
}

const MAX_NOTES: usize = 10_000;

impl Parser {
    pub(crate) fn new() -> Parser {
        Parser {
            date: None,
            date_line_seen: false,
            last_stamp: None,
            zone: Zone::Header,
            cur: None,
            open: None,
            heading: None,
            records: Vec::new(),
            notes: Vec::new(),
            time_zone: TimeZone::Unknown,
            summary_line: None,
            full_heading: false,
        }
    }

    fn note(&mut self, line: usize, kind: NoteKind, text: &str) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(Note {
                line,
                kind,
                text: text.trim().to_owned(),
            });
        }
    }

    pub(crate) fn run(mut self, lines: &[Line]) -> Parser {
        for l in lines {
            for piece in line::split_joined(&l.text) {
                self.piece(l, piece);
            }
        }
        self.finish_record();
        self
    }

    fn piece(&mut self, l: &Line, s: &str) {
        let n = l.number;
        if self.open.is_some() {
            // a page break can fall inside a dump
            if self.feed_dump(n, s) || line::is_furniture(s) {
                return;
            }
            self.close_section();
        }
        if s.trim().is_empty() {
            return;
        }
        if let Some(day) = line::date_line(s) {
            self.date = Some(day);
            self.date_line_seen = true;
            return;
        }
        let toks = line::tokens(s);
        if let Some(r) = line::record_line(&toks, 0) {
            self.start_record(l, s, r);
            return;
        }
        if let Some((name, declared, data_length, end)) = line::section_heading(s) {
            self.heading = None;
            self.open = Some(Open {
                section: Section {
                    name: name.to_owned(),
                    line: n,
                    declared,
                    data_length,
                    bytes: Vec::new(),
                },
                words_open: false,
            });
            let rest = &s[end..];
            if !rest.trim().is_empty() && !self.feed_dump(n, rest) {
                self.note(n, NoteKind::Skipped, s);
            }
            return;
        }
        if line::is_dump_line(s) {
            let (name, declared, at) = self
                .heading
                .take()
                .unwrap_or_else(|| (vocab::DATA.to_owned(), 0, n));
            self.open = Some(Open {
                section: Section {
                    name,
                    line: at,
                    declared: (declared > 0).then_some(declared),
                    data_length: None,
                    bytes: Vec::new(),
                },
                words_open: false,
            });
            self.feed_dump(n, s);
            return;
        }
        self.heading = None;
        if line::is_summary_heading(s) {
            self.summary_line.get_or_insert(n);
            return;
        }
        if line::is_summary_row(s) || line::is_message(s) {
            if line::is_message(s) {
                self.note(n, NoteKind::Message, s);
            }
            return;
        }
        if line::is_furniture(s) {
            if s.trim_start().starts_with("COMPONENT TRACE FULL") {
                self.full_heading = true;
            }
            if self.cur.is_none() {
                self.time_zone_from(s);
            }
            return;
        }
        if self.cur.is_none() {
            // the command echo and option listing before the first record
            self.time_zone_from(s);
            return;
        }
        self.fields(n, s);
    }

    fn time_zone_from(&mut self, s: &str) {
        for (_, t) in line::tokens(s) {
            let t = t.trim_matches(|c: char| !c.is_ascii_alphabetic());
            if t.eq_ignore_ascii_case("gmt") {
                self.time_zone = TimeZone::Gmt;
            } else if t.eq_ignore_ascii_case("local") {
                self.time_zone = TimeZone::Local;
            }
        }
    }

    fn start_record(&mut self, l: &Line, s: &str, r: line::RecordLine) {
        self.finish_record();
        let n = l.number;
        let mut stamp = self.date.map(|d| time::unix_us(d, r.time_us));
        // past midnight without a new date line: the next day
        if let (Some(st), Some(last)) = (stamp, self.last_stamp) {
            if !self.date_line_seen && st + 12 * 3_600_000_000 < last {
                if let Some(d) = self.date.as_mut() {
                    *d += 1;
                }
                stamp = Some(st + 86_400_000_000);
                self.note(n, NoteKind::Time, "record time earlier than the one before and no new date line: taken as the next day");
            }
        }
        self.date_line_seen = false;
        if stamp.is_some() {
            self.last_stamp = stamp;
        }
        let rest = &s[r.description_at..];
        let found = line::find_labels(rest);
        let description = found
            .first()
            .map_or(rest, |f| &rest[..f.at])
            .trim()
            .to_owned();
        self.cur = Some(Record {
            line: n,
            offset: l.offset,
            number: r.number,
            sysname: r.sysname,
            mnemonic: r.mnemonic,
            entry_id: r.entry_id,
            stamp_us: stamp,
            description,
            ..Record::default()
        });
        self.zone = Zone::Header;
        if !found.is_empty() {
            self.apply(n, rest, &found);
        }
    }

    fn finish_record(&mut self) {
        self.close_section();
        self.heading = None;
        if let Some(r) = self.cur.take() {
            self.records.push(r);
        }
    }

    fn close_section(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        let sec = open.section;
        let Some(rec) = self.cur.as_mut() else {
            let text = format!("a hex dump (\"{}\") outside any record", sec.name);
            self.note(sec.line, NoteKind::Skipped, &text);
            return;
        };
        if let Some(d) = sec.declared {
            if d as usize != sec.bytes.len() {
                rec.problems.push(Problem::SectionLength {
                    line: sec.line,
                    section: sec.name.clone(),
                    declared: d,
                    dumped: sec.bytes.len() as u32,
                });
            }
        }
        rec.sections.push(sec);
    }

    /// Reads dump words from `s` into the open section; false if `s` is
    /// not part of the dump.
    fn feed_dump(&mut self, n: usize, s: &str) -> bool {
        let Some(open) = self.open.as_mut() else {
            return false;
        };
        let toks = line::tokens(s);
        let Some(&(_, first)) = toks.first() else {
            return false;
        };
        let continues = open.words_open && first.len() == 8 && line::hex_word(first).is_some();
        if line::offset_token(first).is_none() && !continues {
            // the wrapped tail of a character translation
            let t = s.trim();
            return t.starts_with('|')
                || t.ends_with('|')
                || (t.starts_with('*') && t.ends_with('*'));
        }
        let sec = &mut open.section;
        let mut mode = if continues { Mode::Words } else { Mode::Offset };
        let mut last_len = 0usize;
        let mut problems = Vec::new();
        for &(_, t) in &toks {
            let have = sec.bytes.len() as u32;
            if mode != Mode::Words || (t.len() == 6 && last_len == 8) {
                if let Some(off) = line::offset_token(t) {
                    if mode == Mode::Offset || off == have {
                        if off != have {
                            problems.push(Problem::Offset {
                                line: n,
                                section: sec.name.clone(),
                                expected: have,
                                found: off,
                            });
                        }
                        mode = Mode::Words;
                        last_len = 0;
                        continue;
                    }
                }
                if mode != Mode::Words {
                    continue;
                }
            }
            let complete = sec.declared.is_some_and(|d| have >= d);
            match line::hex_word(t) {
                Some(b) if !complete => {
                    sec.bytes.extend_from_slice(&b);
                    last_len = t.len();
                    if t.len() < 8 {
                        mode = Mode::Translation;
                    }
                }
                _ => mode = Mode::Translation,
            }
        }
        open.words_open = mode == Mode::Words
            && last_len == 8
            && sec.declared.map_or(true, |d| (sec.bytes.len() as u32) < d);
        if let Some(rec) = self.cur.as_mut() {
            rec.problems.extend(problems);
        }
        true
    }

    /// A line of labelled values in the current record.
    fn fields(&mut self, n: usize, s: &str) {
        let found = line::find_labels(s);
        if found.is_empty() {
            let t = s.trim();
            if line::PROTOCOLS.contains(&t) {
                self.zone = Zone::Protocol;
                return;
            }
            // "Echo Data : 248": may head a dump that follows
            if let Some((label, count)) = t.rsplit_once(':') {
                if let Ok(c) = count.trim().parse::<u32>() {
                    self.heading = Some((label.trim().to_owned(), c, n));
                    return;
                }
            }
            if self.zone != Zone::Protocol {
                self.note(n, NoteKind::Skipped, s);
            }
            return;
        }
        if found[0].at > 0 && self.zone == Zone::Ip {
            // "TCP Source Port : …" on one joined line
            let lead = s[..found[0].at].trim();
            if line::PROTOCOLS.contains(&lead) {
                self.zone = Zone::Protocol;
            }
        }
        self.apply(n, s, &found);
    }

    fn apply(&mut self, n: usize, s: &str, found: &[Found]) {
        for (label, value) in line::values(s, found) {
            if label.key == Key::IpHeader {
                self.zone = Zone::Ip;
                if let Some(r) = self.cur.as_mut() {
                    r.formatted = true;
                }
                continue;
            }
            let ok = match self.zone {
                Zone::Header => self.header_field(label.key, value),
                Zone::Ip => self.ip_field(label.key, value),
                Zone::Protocol => true,
            };
            if !ok {
                let text = format!(
                    "value \"{value}\" of \"{}\" not understood in: {}",
                    label.text,
                    s.trim()
                );
                self.note(n, NoteKind::Skipped, &text);
            }
        }
    }

    fn header_field(&mut self, key: Key, v: &str) -> bool {
        let Some(r) = self.cur.as_mut() else {
            return true;
        };
        let first = v.split(' ').next().unwrap_or("");
        let dec = |s: &str| s.parse::<u64>().ok();
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        match key {
            Key::FromInterface
            | Key::ToInterface
            | Key::FromLink
            | Key::ToLink
            | Key::FromJob
            | Key::ToJob => {
                r.direction = Some(match key {
                    Key::FromInterface | Key::FromLink | Key::FromJob => Direction::Inbound,
                    _ => Direction::Outbound,
                });
                r.endpoint = Some(match key {
                    Key::FromInterface | Key::ToInterface => Endpoint::Interface,
                    Key::FromLink | Key::ToLink => Endpoint::Link,
                    _ => Endpoint::Job,
                });
                r.name = (!first.is_empty()).then(|| first.to_owned());
                true
            }
            Key::Device => {
                r.device = Some(v.to_owned());
                true
            }
            Key::Full => dec(first)
                .map(|x| r.extent = Some(Extent::Full(x as u32)))
                .is_some(),
            Key::Abbrev => dec(first)
                .map(|x| r.extent = Some(Extent::Abbrev(x as u32)))
                .is_some(),
            Key::TodClock => {
                let mut t = v.split(' ').filter(|t| !t.is_empty());
                let (a, b) = (t.next().unwrap_or(""), t.next().unwrap_or(""));
                let us = match (
                    time::parse_date(a),
                    time::parse_time(b),
                    time::parse_time(a),
                ) {
                    (Some(d), Some(tm), _) => Some(time::unix_us(d, tm)),
                    (None, _, Some(tm)) => self.date.map(|d| time::unix_us(d, tm)),
                    _ => None,
                };
                us.map(|us| r.tod_us = Some(us)).is_some()
            }
            Key::Intfx => dec(first).map(|x| r.ifindex = Some(x as u32)).is_some(),
            Key::SequenceNumber | Key::SegmentNumber => {
                dec(first).map(|x| r.seq = Some(x as u32)).is_some()
            }
            Key::Flags => {
                r.flags = v
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect();
                true
            }
            Key::LostRecords => dec(first).map(|x| r.lost_records = Some(x)).is_some(),
            Key::SourcePort => dec(first).map(|x| r.src_port = Some(x as u16)).is_some(),
            Key::DestPort => dec(first).map(|x| r.dst_port = Some(x as u16)).is_some(),
            Key::Asid => hex(first).map(|x| r.asid = Some(x as u16)).is_some(),
            Key::Tcb => hex(first).map(|x| r.tcb = Some(x)).is_some(),
            Key::Cid => hex(first).map(|x| r.cid = Some(x)).is_some(),
            Key::Domain => set(&mut r.domain, v),
            Key::SocketType => set(&mut r.socket_type, v),
            Key::Proto => set(&mut r.socket_protocol, v),
            Key::State => set(&mut r.state, v),
            Key::Source | Key::Destination => self.ip_field(key, v),
            // other labels: shown by IPCS, not needed to rebuild packets
            _ => true,
        }
    }

    fn ip_field(&mut self, key: Key, v: &str) -> bool {
        let Some(r) = self.cur.as_mut() else {
            return true;
        };
        let mut words = v.split(' ').filter(|w| !w.is_empty());
        let first = words.next().unwrap_or("");
        match key {
            Key::Version => first.parse().map(|x| r.ip_version = Some(x)).is_ok(),
            Key::PacketLength => first.parse().map(|x| r.ip_packet_length = Some(x)).is_ok(),
            Key::IdNumber => u32::from_str_radix(first, 16)
                .map(|x| r.ip_id = Some(x))
                .is_ok(),
            Key::Source | Key::Destination => {
                // FORMAT shows an empty address for some records
                if first.is_empty() {
                    return true;
                }
                let Ok(a) = first.parse::<IpAddr>() else {
                    return false;
                };
                if key == Key::Source {
                    r.ip_src = Some(a);
                } else {
                    r.ip_dst = Some(a);
                    if words.next().is_some_and(|w| line::PROTOCOLS.contains(&w)) {
                        self.zone = Zone::Protocol;
                    }
                }
                true
            }
            _ => true,
        }
    }
}

fn set(slot: &mut Option<String>, v: &str) -> bool {
    *slot = Some(v.to_owned());
    true
}
