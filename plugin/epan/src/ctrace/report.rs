//! Records of an IPCS formatted report (the `ctrace-report` encapsulation
//! our file reader gives them): the values the report showed, each as the
//! `ctrace.*` field of the binary trace that means the same thing (the
//! report's own as `ctrace.report.*`), shown over the bytes of the
//! `ipcs_report::wire` record that hold them; what did not add up and the
//! report lines skipped as expert info; then the packet rebuilt from the
//! hex dumps to Wireshark's own dissectors.

use std::sync::atomic::Ordering;

use ipcs_report::wire::{self, Tag};
use wireshark_ffi::packet::{handle_for, Outcome, Packet, Tree};
use wireshark_ffi::register::{
    Base, ExpertDef, ExpertField, ExpertGroup, Registration, Severity, StringField, Subtree,
    Uint64Field, UintField, UintWidth,
};
use wireshark_ffi::{statics, sys};

use super::fields::*;
use super::{leap_seconds, DATA, IP, IPV6, PROTO};

statics!(Subtree: ETT_REPORT);
statics!(UintField: LINE, ASID, TCB, CID);
statics!(Uint64Field: RECORD, LOST_RECORDS);
statics!(StringField: SYSNAME, MNEMONIC, DESCRIPTION, DEVICE, RFLAGS, EXTENT, DOMAIN,
    SOCKET_TYPE, SOCKET_PROTOCOL, STATE);
statics!(ExpertField: EI_PROBLEM, EI_SKIPPED_LINE, EI_MESSAGE, EI_NO_PACKET);

pub fn register(reg: &Registration) {
    use UintWidth::{U16, U32};
    let s = |f: &'static StringField, name, abbrev, blurb| f.def(name, abbrev, blurb);
    reg.fields(vec![
        LINE.def(
            c"Report line",
            c"ctrace.report.line",
            U32,
            Base::Dec,
            c"Line of the record in the IPCS report",
        ),
        RECORD.def(
            c"Record number (RcdNr)",
            c"ctrace.report.record",
            Base::Dec,
            c"",
        ),
        s(&SYSNAME, c"System name", c"ctrace.report.sysname", c""),
        s(
            &MNEMONIC,
            c"Mnemonic",
            c"ctrace.report.mnemonic",
            c"PACKET, DATA, …",
        ),
        s(
            &DESCRIPTION,
            c"Description",
            c"ctrace.report.description",
            c"Packet Trace, Data Trace, …",
        ),
        s(
            &DEVICE,
            c"Device",
            c"ctrace.report.device",
            c"Device type as the report words it",
        ),
        s(
            &RFLAGS,
            c"Flags",
            c"ctrace.report.flags",
            c"Flags of the trace header as printed (Pkt Ver2 Out)",
        ),
        s(
            &EXTENT,
            c"Full/Abbrev",
            c"ctrace.report.extent",
            c"Full=n or Abbrev=n as printed",
        ),
        LOST_RECORDS.def(
            c"Lost records",
            c"ctrace.report.lost_records",
            Base::Dec,
            c"",
        ),
        ASID.def(c"ASID", c"ctrace.report.asid", U16, Base::Hex, c""),
        TCB.def(c"TCB", c"ctrace.report.tcb", U32, Base::Hex, c""),
        CID.def(c"Connection id", c"ctrace.report.cid", U32, Base::Hex, c""),
        s(
            &DOMAIN,
            c"Socket domain",
            c"ctrace.report.domain",
            c"Data trace",
        ),
        s(
            &SOCKET_TYPE,
            c"Socket type",
            c"ctrace.report.socket_type",
            c"Data trace",
        ),
        s(
            &SOCKET_PROTOCOL,
            c"Socket protocol",
            c"ctrace.report.socket_protocol",
            c"Data trace",
        ),
        s(
            &STATE,
            c"Socket state",
            c"ctrace.report.state",
            c"Data trace",
        ),
    ]);
    reg.subtrees(&[&ETT_REPORT]);
    let expert = ExpertDef::new;
    reg.experts(vec![
        expert(
            &EI_PROBLEM,
            c"ctrace.report.problem",
            ExpertGroup::Protocol,
            Severity::Warn,
            c"The record's values or dumps do not add up",
        ),
        expert(
            &EI_SKIPPED_LINE,
            c"ctrace.report.skipped_line",
            ExpertGroup::Malformed,
            Severity::Warn,
            c"A report line that could not be read was skipped",
        ),
        expert(
            &EI_MESSAGE,
            c"ctrace.report.message",
            ExpertGroup::Protocol,
            Severity::Note,
            c"An MVS message in the report, or a note on the record's time",
        ),
        expert(
            &EI_NO_PACKET,
            c"ctrace.report.no_packet",
            ExpertGroup::Protocol,
            Severity::Note,
            c"The record has no hex dump: its packet cannot be rebuilt",
        ),
    ]);
}

pub fn handoff() {
    // SAFETY: as for the trace's encapsulation (see `super::handoff`).
    unsafe {
        let encap = sys::wtap_name_to_encap(c"ctrace-report".as_ptr());
        if encap > 0 {
            let handle =
                sys::register_dissector(c"ctrace_report".as_ptr(), Some(dissect), PROTO.id());
            sys::dissector_add_uint(c"wtap_encap".as_ptr(), encap as u32, handle);
        }
    }
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_report);

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("?")
}

fn dissect_report(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"CTRACE");
    let bytes = packet.bytes().to_vec();
    let root = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let Some(view) = wire::decode(&bytes) else {
        packet.add_expert(root, &EI_MALFORMED, "not an IPCS report record");
        packet.set_info("CTRACE: malformed IPCS report record");
        return Outcome::Done(bytes.len());
    };
    let sub = packet.add_uint_at(root, &LINE, wire::field::LINE);
    packet.set_len(sub, view.packet_at);
    let sub = packet.subtree(sub, &ETT_REPORT);
    packet.add_uint_at(sub, &FORMAT_ID, wire::field::ENTRY_ID);
    let kind = wire::field::ENTRY_ID.end - 1..wire::field::ENTRY_ID.end;
    packet.add_uint_at(sub, &FMTID, kind);
    let mut info = Info::default();
    for (tag, r) in &view.values {
        show(packet, sub, *tag, r.clone(), &bytes, &mut info);
    }
    packet.set_info(&info.text());
    packet.fence_info();
    let data = &bytes[view.packet_at..];
    if view.kind == 0 {
        packet.add_expert(
            sub,
            &EI_NO_PACKET,
            "No hex dump in this record: no packet to rebuild",
        );
        return Outcome::Done(bytes.len());
    }
    if data.is_empty() {
        return Outcome::Done(bytes.len());
    }
    let handle = match view.kind {
        1 => match data[0] >> 4 {
            4 => IP.load(Ordering::Relaxed),
            6 => IPV6.load(Ordering::Relaxed),
            _ => DATA.load(Ordering::Relaxed),
        },
        2 => socket_handle(&info),
        _ => DATA.load(Ordering::Relaxed),
    };
    Outcome::HandOffRange {
        handle,
        offset: view.packet_at,
        len: data.len(),
    }
}

/// What the Info column and the hand-off need.
#[derive(Default)]
struct Info {
    outbound: Option<bool>,
    name: String,
    extent: String,
    udp: bool,
    ports: (u16, u16),
}

impl Info {
    fn text(&self) -> String {
        let dir = match self.outbound {
            Some(true) => "To ",
            Some(false) => "From ",
            None => "",
        };
        format!("{dir}{} {}: ", self.name, self.extent)
    }
}

/// Data trace socket data: the dissector of the lower well-known port.
fn socket_handle(info: &Info) -> sys::dissector_handle_t {
    let table = if info.udp { c"udp.port" } else { c"tcp.port" };
    let (a, b) = info.ports;
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut h = handle_for(table, low.into());
    if h.is_null() {
        h = handle_for(table, high.into());
    }
    if h.is_null() {
        DATA.load(Ordering::Relaxed)
    } else {
        h
    }
}

fn show(
    packet: &Packet,
    sub: Tree,
    tag: u16,
    r: std::ops::Range<usize>,
    b: &[u8],
    info: &mut Info,
) {
    let v = &b[r.clone()];
    let (at, len) = (r.start, r.len());
    let uint = |v: &[u8]| v.iter().fold(0u64, |n, &x| n << 8 | u64::from(x));
    let Some(def) = wire::def(tag) else {
        return; // a tag of a later version: shown as the header's bytes only
    };
    match def.tag {
        Tag::Tod | Tag::Stamp if len == 8 => {
            let ns = ctrace::tod::to_unix_ns(uint(v), leap_seconds());
            let field = if def.tag == Tag::Tod {
                &TIME
            } else {
                &CTE_TIME
            };
            packet.add_time(sub, field, at, len, ns);
        }
        Tag::Direction if len == 1 => {
            let out = v[0] == 2;
            info.outbound = Some(out);
            packet.add_string(sub, &DIRECTION, at, len, if out { "To" } else { "From" });
            packet.add_bool(sub, &FLAG_OUT, at, len, out.into());
        }
        Tag::Interface | Tag::Job => {
            info.name = text(v).to_owned();
            let field = if def.tag == Tag::Job {
                &JOB
            } else {
                &INTERFACE
            };
            packet.add_string(sub, field, at, len, text(v));
        }
        Tag::Seq if len == 1 => {
            packet.add_uint_at(sub, &SEQ, r);
        }
        Tag::IfIndex if len == 4 => {
            packet.add_uint_at(sub, &IFINDEX, r);
        }
        Tag::SrcPort | Tag::DstPort if len == 2 => {
            let port = uint(v) as u16;
            if def.tag == Tag::SrcPort {
                info.ports.0 = port;
                packet.add_uint_at(sub, &SRCPORT, r);
            } else {
                info.ports.1 = port;
                packet.add_uint_at(sub, &DSTPORT, r);
            }
        }
        Tag::OriginalLen if len == 4 => {
            packet.add_uint_at(sub, &PLEN, r);
        }
        Tag::TracedLen if len == 4 => {
            packet.add_uint_at(sub, &TLEN, r);
        }
        Tag::Abbreviated if len == 1 => {
            let item = packet.add_bool(sub, &ABBREVIATED, at, len, u64::from(v[0] != 0));
            if v[0] != 0 {
                packet.add_expert(item, &EI_ABBREVIATED, "Packet traced (or dumped) in part");
            }
        }
        Tag::RecordNumber if len == 8 => {
            packet.add_uint64(sub, &RECORD, at, len, uint(v));
        }
        Tag::LostRecords if len == 8 => {
            packet.add_uint64(sub, &LOST_RECORDS, at, len, uint(v));
        }
        Tag::Asid if len == 2 => {
            packet.add_uint_at(sub, &ASID, r);
        }
        Tag::Tcb | Tag::Cid if len == 4 => {
            packet.add_uint_at(sub, if def.tag == Tag::Tcb { &TCB } else { &CID }, r);
        }
        Tag::Extent => {
            info.extent = text(v).to_owned();
            packet.add_string(sub, &EXTENT, at, len, text(v));
        }
        Tag::SocketProtocol => {
            info.udp = text(v).eq_ignore_ascii_case("UDP");
            packet.add_string(sub, &SOCKET_PROTOCOL, at, len, text(v));
        }
        Tag::Sysname
        | Tag::Mnemonic
        | Tag::Description
        | Tag::Device
        | Tag::Flags
        | Tag::Domain
        | Tag::SocketType
        | Tag::State => {
            let field = match def.tag {
                Tag::Sysname => &SYSNAME,
                Tag::Mnemonic => &MNEMONIC,
                Tag::Description => &DESCRIPTION,
                Tag::Device => &DEVICE,
                Tag::Flags => &RFLAGS,
                Tag::Domain => &DOMAIN,
                Tag::SocketType => &SOCKET_TYPE,
                _ => &STATE,
            };
            packet.add_string(sub, field, at, len, text(v));
        }
        Tag::Src | Tag::Dst => {
            let src = def.tag == Tag::Src;
            match len {
                4 => packet.add_ipv4_at(sub, if src { &SRC } else { &DST }, r),
                16 => packet.add_ipv6_at(sub, if src { &SRC6 } else { &DST6 }, r),
                _ => sub,
            };
        }
        Tag::Problem => packet.add_expert(sub, &EI_PROBLEM, text(v)),
        Tag::Note => packet.add_expert(sub, &EI_SKIPPED_LINE, text(v)),
        Tag::Message => packet.add_expert(sub, &EI_MESSAGE, text(v)),
        // a known tag with a length it never has: the bytes are shown raw
        _ => {
            packet.add_bytes_at(sub, &UNKNOWN, r);
        }
    }
}
