//! TSO TRANSMIT (XMIT, NETDATA) files.
//!
//! IBM z/OS TSO/E Customization, "Format of transmitted data": the file is
//! a stream of *segments* (card boundaries ignored), each
//!
//! | byte | len | meaning |
//! |---|---|---|
//! | 0 | 1 | segment length, this 2-byte header included (2–255) |
//! | 1 | 1 | flags: X'80' first segment of a record, X'40' last segment, X'20' (part of) a control record, X'10' record number of the next record |
//! | 2 | n | data |
//!
//! Segments join into logical records.  Control records start with their
//! EBCDIC identifier (INMR01 header, INMR02 file utility, INMR03 data
//! description, INMR04 user, INMR06 trailer, INMR07 acknowledgement);
//! INMR02 carries a 4-byte file number before its text units, the others
//! start their text units right after the identifier ("INMR02 -- file
//! utility control record"; INMR03 as the public zWireshark XMIT shows).
//! A text unit is a 2-byte key, a 2-byte count, then count × (2-byte
//! length, data) ("Numeric values", "Text unit descriptions and format").
//! Data records between the last control record and INMR06 are the
//! records of the transmitted data set; after INMR06 the last 80-byte card
//! is padded (with EBCDIC blanks in the public sample).
//!
//! A sequential data set (one INMR02, utility INMCOPY) is returned with
//! [`crate::records`] framing: RDWs for variable records.  A partitioned
//! one (an IEBCOPY unload, INMR02 utility IEBCOPY) is refused: a trace is
//! never a PDS.

use crate::records::{RecordFormat, Sink};
use crate::{Error, Result};

/// EBCDIC "INMR0" — the first five characters of every control record id.
const INMR0: [u8; 5] = [0xC9, 0xD5, 0xD4, 0xD9, 0xF0];

/// Segment flags.
pub const FIRST: u8 = 0x80;
pub const LAST: u8 = 0x40;
pub const CONTROL: u8 = 0x20;
pub const RECORD_NUMBER: u8 = 0x10;

/// Text unit keys this crate reads or names (IBM "Text unit descriptions
/// and format"; each seen in the public zWireshark XMIT unless marked).
pub mod key {
    pub const INMDDNAM: u16 = 0x0001;
    pub const INMDSNAM: u16 = 0x0002;
    pub const INMMEMBR: u16 = 0x0003; // not in the sample
    pub const INMDIR: u16 = 0x000C;
    pub const INMBLKSZ: u16 = 0x0030;
    pub const INMDSORG: u16 = 0x003C;
    pub const INMLRECL: u16 = 0x0042;
    pub const INMRECFM: u16 = 0x0049;
    pub const INMTNODE: u16 = 0x1001;
    pub const INMTUID: u16 = 0x1002;
    pub const INMFNODE: u16 = 0x1011;
    pub const INMFUID: u16 = 0x1012;
    pub const INMCREAT: u16 = 0x1022;
    pub const INMFTIME: u16 = 0x1024;
    pub const INMUTILN: u16 = 0x1028;
    pub const INMSIZE: u16 = 0x102C;
    pub const INMNUMF: u16 = 0x102F;
    pub const INMTYPE: u16 = 0x8012;

    /// The mnemonic of a key, if known.
    pub fn name(key: u16) -> Option<&'static str> {
        Some(match key {
            INMDDNAM => "INMDDNAM",
            INMDSNAM => "INMDSNAM",
            INMMEMBR => "INMMEMBR",
            INMDIR => "INMDIR",
            INMBLKSZ => "INMBLKSZ",
            INMDSORG => "INMDSORG",
            INMLRECL => "INMLRECL",
            INMRECFM => "INMRECFM",
            INMTNODE => "INMTNODE",
            INMTUID => "INMTUID",
            INMFNODE => "INMFNODE",
            INMFUID => "INMFUID",
            INMCREAT => "INMCREAT",
            INMFTIME => "INMFTIME",
            INMUTILN => "INMUTILN",
            INMSIZE => "INMSIZE",
            INMNUMF => "INMNUMF",
            INMTYPE => "INMTYPE",
            _ => return None,
        })
    }
}

/// INMRECFM bits (IBM "INMRECFM").
pub mod recfm {
    pub const FIXED: u16 = 0x8000;
    pub const VARIABLE: u16 = 0x4000;
    pub const UNDEFINED: u16 = 0xC000;
    pub const BLOCKED: u16 = 0x1000;
    pub const SPANNED: u16 = 0x0800;
    pub const ASA: u16 = 0x0400;
}

/// INMDSORG values.
pub mod dsorg {
    pub const PARTITIONED: u16 = 0x0200;
    pub const SEQUENTIAL: u16 = 0x4000;
}

/// One text unit: key and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextUnit {
    pub key: u16,
    pub values: Vec<Vec<u8>>,
}

impl TextUnit {
    /// The first value as a big-endian number (1–8 bytes; longer: its
    /// low-order 4 bytes, as IBM specifies).
    pub fn number(&self) -> Option<u64> {
        let v = self.values.first()?;
        if v.is_empty() {
            return None;
        }
        let v = if v.len() > 8 {
            &v[v.len() - 4..]
        } else {
            &v[..]
        };
        Some(v.iter().fold(0u64, |n, &b| n << 8 | u64::from(b)))
    }

    /// The values as EBCDIC text joined by `sep` (a data set name's
    /// qualifiers by '.').
    pub fn text(&self, sep: &str) -> String {
        self.values
            .iter()
            .map(|v| ebcdic_text(v))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// A control record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// "INMR01" … "INMR07".
    pub id: String,
    /// Offset of its first segment in the file.
    pub offset: usize,
    /// INMR02 only: the file number it applies to.
    pub file: Option<u32>,
    pub units: Vec<TextUnit>,
}

impl Control {
    pub fn unit(&self, key: u16) -> Option<&TextUnit> {
        self.units.iter().find(|u| u.key == key)
    }
}

/// A whole XMIT file, taken apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Xmit {
    pub controls: Vec<Control>,
    /// The data records, in order, each with the offset of its first
    /// segment.
    pub records: Vec<(usize, Vec<u8>)>,
    /// Whether the INMR06 trailer was found.
    pub complete: bool,
    /// Bytes after the trailer (card padding).
    pub trailing: usize,
}

/// Whether `b` starts like an XMIT file: a first control segment holding
/// EBCDIC "INMR01".
pub fn looks_like(b: &[u8]) -> bool {
    b.len() >= 8 && b[1] & (FIRST | CONTROL) == FIRST | CONTROL && b[2..7] == INMR0 && b[7] == 0xF1
}

fn ebcdic_text(b: &[u8]) -> String {
    // Names in control records are upper-case letters, digits, national
    // characters and a few specials; CCSID 37 for those.
    b.iter()
        .map(|&c| match c {
            0x40 => ' ',
            0x4B => '.',
            0x5B => '$',
            0x7B => '#',
            0x7C => '@',
            0x60 => '-',
            0x6D => '_',
            0xC1..=0xC9 => char::from(b'A' + (c - 0xC1)),
            0xD1..=0xD9 => char::from(b'J' + (c - 0xD1)),
            0xE2..=0xE9 => char::from(b'S' + (c - 0xE2)),
            0x81..=0x89 => char::from(b'a' + (c - 0x81)),
            0x91..=0x99 => char::from(b'j' + (c - 0x91)),
            0xA2..=0xA9 => char::from(b's' + (c - 0xA2)),
            0xF0..=0xF9 => char::from(b'0' + (c - 0xF0)),
            _ => '?',
        })
        .collect()
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn text_units(b: &[u8], base: usize) -> Result<Vec<TextUnit>> {
    let mut units = Vec::new();
    let mut at = 0;
    while at < b.len() {
        if b.len() - at < 4 {
            return Err(Error::truncated(
                base + at,
                "XMIT text unit",
                4,
                b.len() - at,
            ));
        }
        let (key, count) = (be16(b, at), be16(b, at + 2) as usize);
        at += 4;
        let mut values = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            if b.len() - at < 2 {
                return Err(Error::truncated(
                    base + at,
                    "XMIT text unit value",
                    2,
                    b.len() - at,
                ));
            }
            let len = be16(b, at) as usize;
            at += 2;
            let Some(v) = b.get(at..at + len) else {
                return Err(Error::truncated(
                    base + at,
                    "XMIT text unit value",
                    len,
                    b.len() - at,
                ));
            };
            values.push(v.to_vec());
            at += len;
        }
        units.push(TextUnit { key, values });
    }
    Ok(units)
}

fn control(data: &[u8], offset: usize) -> Result<Control> {
    if data.len() < 6 || data[..5] != INMR0 {
        return Err(Error::invalid(
            offset,
            "XMIT control record",
            "does not start with EBCDIC \"INMR0\"",
        ));
    }
    let id = format!("INMR0{}", ebcdic_text(&data[5..6]));
    let (file, units_at) = if id == "INMR02" {
        if data.len() < 10 {
            return Err(Error::truncated(
                offset,
                "XMIT INMR02 record",
                10,
                data.len(),
            ));
        }
        (
            Some(u32::from_be_bytes([data[6], data[7], data[8], data[9]])),
            10,
        )
    } else {
        (None, 6)
    };
    let units = if id == "INMR06" {
        Vec::new()
    } else {
        text_units(&data[units_at..], offset)?
    };
    Ok(Control {
        id,
        offset,
        file,
        units,
    })
}

/// Takes an XMIT file apart into control and data records.  Data records
/// larger than `limit` bytes in total are refused.
pub fn parse(b: &[u8], limit: u64) -> Result<Xmit> {
    if !looks_like(b) {
        return Err(Error::NotPacked);
    }
    let mut x = Xmit::default();
    let mut at = 0usize;
    // the record being joined: (first segment offset, control?, bytes)
    let mut open: Option<(usize, bool, Vec<u8>)> = None;
    let mut total = 0u64;
    while at < b.len() {
        let len = b[at] as usize;
        if len < 2 {
            return Err(Error::invalid(
                at,
                "XMIT segment",
                format!("length {len} is below the 2-byte header"),
            ));
        }
        let Some(seg) = b.get(at..at + len) else {
            return Err(Error::truncated(at, "XMIT segment", len, b.len() - at));
        };
        let flags = seg[1];
        if flags & FIRST != 0 {
            if let Some((start, _, _)) = open {
                return Err(Error::invalid(
                    at,
                    "XMIT segment",
                    format!("starts a record while the one at byte {start} has no last segment"),
                ));
            }
            open = Some((at, flags & CONTROL != 0, Vec::new()));
        }
        let Some((start, is_control, data)) = open.as_mut() else {
            return Err(Error::invalid(
                at,
                "XMIT segment",
                "continues a record that was never started",
            ));
        };
        if (flags & CONTROL != 0) != *is_control {
            return Err(Error::invalid(
                at,
                "XMIT segment",
                "control flag differs from the record's first segment",
            ));
        }
        total += (len - 2) as u64;
        if total > limit {
            return Err(Error::TooLarge { limit });
        }
        data.extend_from_slice(&seg[2..]);
        at += len;
        if flags & LAST == 0 {
            continue;
        }
        let (start, is_control, data) = (*start, *is_control, std::mem::take(data));
        open = None;
        if !is_control {
            x.records.push((start, data));
            continue;
        }
        if flags & RECORD_NUMBER != 0 {
            // a record-number record: no identifier, nothing we need
            continue;
        }
        let c = control(&data, start)?;
        let end = c.id == "INMR06";
        x.controls.push(c);
        if end {
            x.complete = true;
            x.trailing = b.len() - at;
            break;
        }
    }
    if let Some((start, _, _)) = open {
        return Err(Error::truncated(start, "XMIT record", 1, 0));
    }
    Ok(x)
}

impl Xmit {
    /// The INMR02 records of file 1, in file order.
    pub fn utilities(&self) -> impl Iterator<Item = &Control> {
        self.controls
            .iter()
            .filter(|c| c.id == "INMR02" && c.file.unwrap_or(1) == 1)
    }

    /// The transmitted data set's name (INMDSNAM of an INMR02), if given.
    pub fn dataset_name(&self) -> Option<String> {
        self.utilities()
            .find_map(|c| c.unit(key::INMDSNAM))
            .map(|u| u.text("."))
    }

    /// Whether an IEBCOPY step (a partitioned data set) is involved.
    pub fn is_partitioned(&self) -> bool {
        self.utilities().any(|c| {
            c.unit(key::INMUTILN).map(|u| u.text("")).as_deref() == Some("IEBCOPY")
                || c.unit(key::INMDSORG).and_then(|u| u.number())
                    == Some(u64::from(dsorg::PARTITIONED))
        })
    }

    /// The record format of the data set as RECEIVE restores it: from the
    /// INMCOPY (last) INMR02.
    pub fn record_format(&self) -> RecordFormat {
        let Some(c) = self.utilities().last() else {
            return RecordFormat::Undefined;
        };
        let fm = c.unit(key::INMRECFM).and_then(|u| u.number()).unwrap_or(0) as u16;
        let lrecl = c.unit(key::INMLRECL).and_then(|u| u.number()).unwrap_or(0) as u32;
        match fm & recfm::UNDEFINED {
            recfm::FIXED => RecordFormat::Fixed { lrecl },
            recfm::VARIABLE => RecordFormat::Variable,
            _ => RecordFormat::Undefined,
        }
    }

    /// The data set's records in [`crate::records`] framing.
    pub fn data(&self, limit: u64) -> Result<Vec<u8>> {
        if self.is_partitioned() {
            return Err(Error::Unsupported {
                what: format!(
                    "the XMIT file holds a partitioned data set (IEBCOPY unload{}), not a \
                     sequential trace or report: RECEIVE it on z/OS and send the member",
                    self.dataset_name()
                        .map(|n| format!(" of {n}"))
                        .unwrap_or_default()
                ),
            });
        }
        let variable = self.record_format() == RecordFormat::Variable;
        let mut sink = Sink::new(variable, limit);
        for (offset, record) in &self.records {
            sink.bytes(record)?;
            sink.end_record(*offset)?;
        }
        sink.finish(0)
    }
}

/// What [`write`] puts in the control records.
#[derive(Clone, Debug)]
pub struct WriteOptions<'a> {
    /// Data set name, qualifiers separated by '.' (upper case).
    pub dataset: &'a str,
    pub format: RecordFormat,
    /// LRECL as INMR02 states it (for variable records: the longest record
    /// plus 4).
    pub lrecl: u32,
    pub from_node: &'a str,
    pub from_user: &'a str,
    /// INMFTIME, yyyymmddhhmmss.
    pub time: &'a str,
}

fn ebcdic_encode(s: &str) -> Vec<u8> {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'I' => 0xC1 + (c - b'A'),
            b'J'..=b'R' => 0xD1 + (c - b'J'),
            b'S'..=b'Z' => 0xE2 + (c - b'S'),
            b'0'..=b'9' => 0xF0 + (c - b'0'),
            b'.' => 0x4B,
            b'$' => 0x5B,
            b'#' => 0x7B,
            b'@' => 0x7C,
            _ => 0x40,
        })
        .collect()
}

fn unit(out: &mut Vec<u8>, key: u16, values: &[&[u8]]) {
    out.extend_from_slice(&key.to_be_bytes());
    out.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        out.extend_from_slice(v);
    }
}

fn segments(out: &mut Vec<u8>, data: &[u8], control: bool) {
    let flag = if control { CONTROL } else { 0 };
    let mut chunks = data.chunks(253).peekable();
    let mut first = true;
    if data.is_empty() {
        out.extend_from_slice(&[2, FIRST | LAST | flag]);
        return;
    }
    while let Some(chunk) = chunks.next() {
        let mut f = flag;
        if first {
            f |= FIRST;
        }
        if chunks.peek().is_none() {
            f |= LAST;
        }
        first = false;
        out.push(chunk.len() as u8 + 2);
        out.push(f);
        out.extend_from_slice(chunk);
    }
}

/// Writes a sequential data set's `records` as TSO TRANSMIT does for one
/// file (INMR01, INMR02 for INMCOPY, INMR03, data records, INMR06, blanks
/// to the end of the last 80-byte card), from the same constants the
/// reader uses.  A test-fixture generator: real XMIT files come from z/OS.
pub fn write(opts: &WriteOptions<'_>, records: &[&[u8]]) -> Vec<u8> {
    let num = |n: u64, width: usize| n.to_be_bytes()[8 - width..].to_vec();
    let size: u64 = records.iter().map(|r| r.len() as u64).sum();
    let recfm_bits = match opts.format {
        RecordFormat::Fixed { .. } => recfm::FIXED | recfm::BLOCKED,
        RecordFormat::Variable => recfm::VARIABLE | recfm::BLOCKED,
        RecordFormat::Undefined => recfm::UNDEFINED,
    };
    let id = |n: u8| {
        let mut v = INMR0.to_vec();
        v.push(0xF0 + n);
        v
    };
    let mut out = Vec::new();
    let mut r1 = id(1);
    unit(&mut r1, key::INMLRECL, &[&num(80, 1)]);
    unit(&mut r1, key::INMFNODE, &[&ebcdic_encode(opts.from_node)]);
    unit(&mut r1, key::INMFUID, &[&ebcdic_encode(opts.from_user)]);
    unit(&mut r1, key::INMTNODE, &[&ebcdic_encode("PC")]);
    unit(&mut r1, key::INMTUID, &[&ebcdic_encode("ANALYST")]);
    unit(&mut r1, key::INMFTIME, &[&ebcdic_encode(opts.time)]);
    unit(&mut r1, key::INMNUMF, &[&num(1, 1)]);
    segments(&mut out, &r1, true);
    let mut r2 = id(2);
    r2.extend_from_slice(&1u32.to_be_bytes());
    unit(&mut r2, key::INMUTILN, &[&ebcdic_encode("INMCOPY")]);
    unit(&mut r2, key::INMSIZE, &[&num(size, 4)]);
    unit(
        &mut r2,
        key::INMDSORG,
        &[&num(u64::from(dsorg::SEQUENTIAL), 2)],
    );
    unit(&mut r2, key::INMLRECL, &[&num(u64::from(opts.lrecl), 2)]);
    unit(
        &mut r2,
        key::INMBLKSZ,
        &[&num(u64::from(opts.lrecl.max(80)) + 4, 4)],
    );
    unit(&mut r2, key::INMRECFM, &[&num(u64::from(recfm_bits), 2)]);
    let qualifiers: Vec<Vec<u8>> = opts.dataset.split('.').map(ebcdic_encode).collect();
    let q: Vec<&[u8]> = qualifiers.iter().map(|v| &v[..]).collect();
    unit(&mut r2, key::INMDSNAM, &q);
    segments(&mut out, &r2, true);
    let mut r3 = id(3);
    unit(&mut r3, key::INMSIZE, &[&num(size, 4)]);
    unit(
        &mut r3,
        key::INMDSORG,
        &[&num(u64::from(dsorg::SEQUENTIAL), 2)],
    );
    unit(&mut r3, key::INMLRECL, &[&num(80, 2)]);
    unit(&mut r3, key::INMRECFM, &[&num(1, 2)]);
    segments(&mut out, &r3, true);
    for r in records {
        segments(&mut out, r, false);
    }
    segments(&mut out, &id(6), true);
    let pad = (80 - out.len() % 80) % 80;
    out.resize(out.len() + pad, 0x40);
    out
}

#[cfg(test)]
mod tests;
