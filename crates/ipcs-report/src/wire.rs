//! The record a report's packet travels in from the file reader to the
//! dissector (Wireshark's frame bytes): a small header with every value the
//! report showed, as tagged values, then the rebuilt packet.  Values the
//! report did not show are simply absent, so the dissector shows only what
//! the report said.  [`TAGS`] is the one table of the tags; the encoder,
//! the decoder and the dissector's fields all come from it.
//!
//! | offset | size | what |
//! |---|---|---|
//! | 0 | 4 | magic "IPCR" |
//! | 4 | 2 | header length = offset of the packet |
//! | 6 | 1 | version (1) |
//! | 7 | 1 | what the packet is: 0 none, 1 IP, 2 socket data, 3 other |
//! | 8 | 4 | line number of the record in the report |
//! | 12 | 4 | Entry Id (CTEFMTID) |
//! | 16 | … | tagged values: tag (2), length (2), value |
//!
//! All big-endian.  Times are z/Architecture TOD values (the µs of the
//! report, exactly representable), so that they are shown as the binary
//! trace's are.

use crate::packet::{Kind, Packet};
use crate::record::{Direction, Endpoint, Extent, Record};
use crate::{Note, NoteKind};

pub const MAGIC: &[u8; 4] = b"IPCR";
pub const VERSION: u8 = 1;
/// Fixed part of the header.
pub const FIXED_LEN: usize = 16;

/// Fixed fields: byte ranges.
pub mod field {
    use std::ops::Range;
    pub const MAGIC: Range<usize> = 0..4;
    pub const HEADER_LEN: Range<usize> = 4..6;
    pub const VERSION: usize = 6;
    pub const KIND: usize = 7;
    pub const LINE: Range<usize> = 8..12;
    pub const ENTRY_ID: Range<usize> = 12..16;
}

/// How a tagged value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// Big-endian unsigned integer of the value's length (1–8 bytes).
    Uint,
    /// A TOD clock value (8 bytes).
    Tod,
    /// UTF-8 text.
    Text,
    /// 1 byte: 1 inbound, 2 outbound.
    Direction,
    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    Address,
}

/// The tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Tag {
    Tod = 1,
    Stamp = 2,
    Direction = 3,
    Interface = 4,
    Job = 5,
    Seq = 6,
    IfIndex = 7,
    SrcPort = 8,
    DstPort = 9,
    OriginalLen = 10,
    TracedLen = 11,
    Abbreviated = 12,
    RecordNumber = 16,
    Sysname = 17,
    Mnemonic = 18,
    Description = 19,
    Device = 20,
    Flags = 21,
    Extent = 22,
    LostRecords = 23,
    Asid = 24,
    Tcb = 25,
    Cid = 26,
    Domain = 27,
    SocketType = 28,
    SocketProtocol = 29,
    State = 30,
    Src = 31,
    Dst = 32,
    Problem = 48,
    Note = 49,
    Message = 50,
}

/// One tag's definition.
#[derive(Clone, Copy, Debug)]
pub struct TagDef {
    pub tag: Tag,
    pub ty: Type,
    /// The dissector field it is shown as.
    pub field: &'static str,
    pub meaning: &'static str,
}

macro_rules! t {
    ($tag:ident, $ty:ident, $field:expr, $meaning:expr) => {
        TagDef {
            tag: Tag::$tag,
            ty: Type::$ty,
            field: $field,
            meaning: $meaning,
        }
    };
}

/// Every tag: the fields that mean the same as the binary trace's keep
/// their `ctrace.*` names; the report's own are `ctrace.report.*`.
pub const TAGS: &[TagDef] = &[
    t!(
        Tod,
        Tod,
        "ctrace.time",
        "Tod Clock: when the packet was traced"
    ),
    t!(
        Stamp,
        Tod,
        "ctrace.cte.time",
        "record line time: when the entry reached the trace buffer"
    ),
    t!(
        Direction,
        Direction,
        "ctrace.direction",
        "From (inbound) / To (outbound)"
    ),
    t!(
        Interface,
        Text,
        "ctrace.interface",
        "interface or link name"
    ),
    t!(Job, Text, "ctrace.job", "data trace job name"),
    t!(Seq, Uint, "ctrace.seq", "Sequence # / Segment #"),
    t!(IfIndex, Uint, "ctrace.ifindex", "Intfx"),
    t!(
        SrcPort,
        Uint,
        "ctrace.srcport",
        "Source Port of the trace header"
    ),
    t!(
        DstPort,
        Uint,
        "ctrace.dstport",
        "Dest Port of the trace header"
    ),
    t!(
        OriginalLen,
        Uint,
        "ctrace.plen",
        "the packet's length before tracing cut it"
    ),
    t!(
        TracedLen,
        Uint,
        "ctrace.tlen",
        "bytes traced (rebuilt from the dumps)"
    ),
    t!(
        Abbreviated,
        Uint,
        "ctrace.abbreviated",
        "Abbrev=, or fewer bytes dumped than the packet had"
    ),
    t!(RecordNumber, Uint, "ctrace.report.record", "RcdNr"),
    t!(Sysname, Text, "ctrace.report.sysname", "Sysname"),
    t!(Mnemonic, Text, "ctrace.report.mnemonic", "Mnemonic"),
    t!(
        Description,
        Text,
        "ctrace.report.description",
        "Description"
    ),
    t!(Device, Text, "ctrace.report.device", "Device"),
    t!(
        Flags,
        Text,
        "ctrace.report.flags",
        "Flags of the trace header"
    ),
    t!(
        Extent,
        Text,
        "ctrace.report.extent",
        "Full=n / Abbrev=n as shown"
    ),
    t!(
        LostRecords,
        Uint,
        "ctrace.report.lost_records",
        "Lost Records"
    ),
    t!(Asid, Uint, "ctrace.report.asid", "Asid"),
    t!(Tcb, Uint, "ctrace.report.tcb", "TCB"),
    t!(Cid, Uint, "ctrace.report.cid", "Cid"),
    t!(Domain, Text, "ctrace.report.domain", "data trace Domain"),
    t!(
        SocketType,
        Text,
        "ctrace.report.socket_type",
        "data trace Type"
    ),
    t!(
        SocketProtocol,
        Text,
        "ctrace.report.socket_protocol",
        "data trace Protocol"
    ),
    t!(State, Text, "ctrace.report.state", "data trace State"),
    t!(
        Src,
        Address,
        "ctrace.src",
        "formatted Source address (an IPv6 one: ctrace.src6)"
    ),
    t!(
        Dst,
        Address,
        "ctrace.dst",
        "formatted Destination address (an IPv6 one: ctrace.dst6)"
    ),
    t!(
        Problem,
        Text,
        "ctrace.report.problem",
        "something about this record that does not add up (expert info)"
    ),
    t!(
        Note,
        Text,
        "ctrace.report.skipped_line",
        "a report line skipped before or in this record (expert info)"
    ),
    t!(
        Message,
        Text,
        "ctrace.report.message",
        "an MVS message printed in the report, or a note on the record's time, \
         before or in this record (expert info)"
    ),
];

/// The definition of a tag number.
pub fn def(tag: u16) -> Option<&'static TagDef> {
    TAGS.iter().find(|d| d.tag as u16 == tag)
}

/// TOD clock value of Unix microseconds (bit 51 = 1 µs, epoch 1900).
pub fn tod_of_us(us: i64) -> u64 {
    const EPOCH: u64 = 0x7D91_048B_CA00_0000;
    EPOCH.wrapping_add((us as u64).wrapping_shl(12))
}

struct Out(Vec<u8>);

impl Out {
    fn tag(&mut self, tag: Tag, value: &[u8]) {
        let len = value.len().min(u16::MAX as usize);
        self.0.extend_from_slice(&(tag as u16).to_be_bytes());
        self.0.extend_from_slice(&(len as u16).to_be_bytes());
        self.0.extend_from_slice(&value[..len]);
    }
    fn text(&mut self, tag: Tag, v: &Option<String>) {
        if let Some(v) = v {
            self.tag(tag, v.as_bytes());
        }
    }
}

/// The record's bytes: header, values, packet.
pub fn encode(rec: &Record, packet: Option<&Packet>, notes: &[&Note]) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(
        128 + packet.map_or(0, |p| p.bytes.len()),
    ));
    o.0.extend_from_slice(MAGIC);
    o.0.extend_from_slice(&[0, 0, VERSION]);
    o.0.push(match packet.map(|p| p.kind) {
        None => 0,
        Some(Kind::Ip) => 1,
        Some(Kind::SocketData) => 2,
        Some(Kind::Other) => 3,
    });
    o.0.extend_from_slice(&(rec.line.min(u32::MAX as usize) as u32).to_be_bytes());
    o.0.extend_from_slice(&rec.entry_id.to_be_bytes());
    if let Some(us) = rec.tod_us {
        o.tag(Tag::Tod, &tod_of_us(us).to_be_bytes());
    }
    if let Some(us) = rec.stamp_us {
        o.tag(Tag::Stamp, &tod_of_us(us).to_be_bytes());
    }
    let direction = packet.and_then(|p| p.direction).or(rec.direction);
    if let Some(d) = direction {
        o.tag(
            Tag::Direction,
            &[if d == Direction::Outbound { 2 } else { 1 }],
        );
    }
    match rec.endpoint {
        Some(Endpoint::Job) => o.text(Tag::Job, &rec.name),
        _ => o.text(Tag::Interface, &rec.name),
    }
    if let Some(s) = rec.seq.filter(|&s| s <= 255) {
        o.tag(Tag::Seq, &[s as u8]);
    }
    if let Some(x) = rec.ifindex {
        o.tag(Tag::IfIndex, &x.to_be_bytes());
    }
    if let Some(x) = rec.src_port {
        o.tag(Tag::SrcPort, &x.to_be_bytes());
    }
    if let Some(x) = rec.dst_port {
        o.tag(Tag::DstPort, &x.to_be_bytes());
    }
    if let Some(p) = packet {
        o.tag(Tag::OriginalLen, &p.original_len.to_be_bytes());
        o.tag(Tag::TracedLen, &(p.bytes.len() as u32).to_be_bytes());
        o.tag(Tag::Abbreviated, &[u8::from(p.abbreviated)]);
    }
    o.tag(Tag::RecordNumber, &rec.number.to_be_bytes());
    o.tag(Tag::Sysname, rec.sysname.as_bytes());
    o.tag(Tag::Mnemonic, rec.mnemonic.as_bytes());
    o.tag(Tag::Description, rec.description.as_bytes());
    o.text(Tag::Device, &rec.device);
    if !rec.flags.is_empty() {
        o.tag(Tag::Flags, rec.flags.join(" ").as_bytes());
    }
    match rec.extent {
        Some(Extent::Full(n)) => o.tag(Tag::Extent, format!("Full={n}").as_bytes()),
        Some(Extent::Abbrev(n)) => o.tag(Tag::Extent, format!("Abbrev={n}").as_bytes()),
        None => {}
    }
    if let Some(x) = rec.lost_records {
        o.tag(Tag::LostRecords, &x.to_be_bytes());
    }
    if let Some(x) = rec.asid {
        o.tag(Tag::Asid, &x.to_be_bytes());
    }
    if let Some(x) = rec.tcb {
        o.tag(Tag::Tcb, &x.to_be_bytes());
    }
    if let Some(x) = rec.cid {
        o.tag(Tag::Cid, &x.to_be_bytes());
    }
    o.text(Tag::Domain, &rec.domain);
    o.text(Tag::SocketType, &rec.socket_type);
    o.text(Tag::SocketProtocol, &rec.socket_protocol);
    o.text(Tag::State, &rec.state);
    for (tag, a) in [(Tag::Src, rec.ip_src), (Tag::Dst, rec.ip_dst)] {
        match a {
            Some(std::net::IpAddr::V4(v)) => o.tag(tag, &v.octets()),
            Some(std::net::IpAddr::V6(v)) => o.tag(tag, &v.octets()),
            None => {}
        }
    }
    let problems = packet.map_or(&rec.problems[..], |p| &p.problems[..]);
    for p in problems {
        o.tag(Tag::Problem, p.to_string().as_bytes());
    }
    for n in notes {
        let tag = match n.kind {
            NoteKind::Skipped => Tag::Note,
            NoteKind::Message | NoteKind::Time => Tag::Message,
        };
        o.tag(tag, n.to_string().as_bytes());
    }
    let header_len = o.0.len().min(u16::MAX as usize) as u16;
    o.0[field::HEADER_LEN].copy_from_slice(&header_len.to_be_bytes());
    if let Some(p) = packet {
        o.0.extend_from_slice(&p.bytes);
    }
    o.0
}

/// A decoded record: where everything is in its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub kind: u8,
    pub line: u32,
    pub entry_id: u32,
    /// (tag number, value's byte range).
    pub values: Vec<(u16, std::ops::Range<usize>)>,
    /// Where the packet starts.
    pub packet_at: usize,
}

/// Reads a record's header; `None` unless it is one (magic, version,
/// lengths that fit).
pub fn decode(b: &[u8]) -> Option<View> {
    if b.len() < FIXED_LEN || &b[field::MAGIC] != MAGIC || b[field::VERSION] != VERSION {
        return None;
    }
    let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([b[r.start], b[r.start + 1]]);
    let be32 = |r: std::ops::Range<usize>| {
        u32::from_be_bytes([b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3]])
    };
    let header_len = be16(field::HEADER_LEN) as usize;
    if header_len < FIXED_LEN || header_len > b.len() {
        return None;
    }
    let mut values = Vec::new();
    let mut at = FIXED_LEN;
    while at < header_len {
        if header_len - at < 4 {
            return None;
        }
        let tag = be16(at..at + 2);
        let len = be16(at + 2..at + 4) as usize;
        let start = at + 4;
        if len > header_len - start {
            return None;
        }
        values.push((tag, start..start + len));
        at = start + len;
    }
    Some(View {
        kind: b[field::KIND],
        line: be32(field::LINE),
        entry_id: be32(field::ENTRY_ID),
        values,
        packet_at: header_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_defined_once() {
        for (i, a) in TAGS.iter().enumerate() {
            assert!(TAGS[i + 1..]
                .iter()
                .all(|b| b.tag != a.tag && b.field != a.field));
            assert_eq!(def(a.tag as u16).unwrap().field, a.field);
        }
        assert!(def(999).is_none());
    }

    #[test]
    fn tod_of_unix_us() {
        // 1970-01-01: X'7D91048BCA000000'; one µs is bit 51
        assert_eq!(tod_of_us(0), 0x7D91_048B_CA00_0000);
        assert_eq!(tod_of_us(1), 0x7D91_048B_CA00_1000);
    }

    #[test]
    fn encode_decode() {
        let b = std::fs::read(format!(
            "{}/../../tests/data/ibm-dump-example.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let r = crate::parse(&b).unwrap();
        let rec = &r.records[0];
        let p = rec.packet().unwrap();
        let bytes = encode(rec, Some(&p), &[]);
        let v = decode(&bytes).unwrap();
        assert_eq!(
            (v.kind, v.line, v.entry_id),
            (1, rec.line as u32, 0x0303_0000)
        );
        assert_eq!(&bytes[v.packet_at..], &p.bytes[..]);
        let get = |t: Tag| {
            v.values
                .iter()
                .find(|(n, _)| *n == t as u16)
                .map(|(_, r)| &bytes[r.clone()])
        };
        assert_eq!(get(Tag::Interface), Some(&b"ETH1"[..]));
        assert_eq!(get(Tag::Direction), Some(&[1u8][..]));
        assert_eq!(get(Tag::OriginalLen), Some(&40u32.to_be_bytes()[..]));
        assert_eq!(
            get(Tag::Tod),
            Some(&tod_of_us(rec.tod_us.unwrap()).to_be_bytes()[..])
        );
        assert_eq!(get(Tag::Job), None);
        // damaged headers are refused, never read past
        for n in 0..v.packet_at {
            assert!(decode(&bytes[..n]).is_none());
        }
        let mut bad = bytes.clone();
        bad[FIXED_LEN + 3] = 0xFF;
        assert!(decode(&bad).is_none());
    }
}
