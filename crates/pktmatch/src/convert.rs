//! `pktmatch convert`: a z/OS CTRACE file — or an IPCS formatted report of
//! one, or either packed with AMATERSE or TSO XMIT — to pcapng.
//!
//! The input is memory-mapped read-only and read with the `ctrace` crate's
//! [`Reader`] (the pipeline Wireshark's CTRACE reader uses too); packets
//! split over several CTEs are put back together.  Output: one interface
//! block per CTRACE interface and link type — raw IP (LINKTYPE_RAW) for
//! packet trace, Ethernet for OSAENTA, exported PDUs
//! (LINKTYPE_WIRESHARK_UPPER_PDU) carrying the socket's addresses and ports
//! for data trace — nanosecond time stamps, the packet's original length
//! (PTH_Plen) beside its captured length, its direction in the packet flags.
//! Records without a packet trace header, and bytes that are no entry at
//! the end of a damaged file, go whole to a LINKTYPE_USER0 interface
//! ("--raw-cte" sends every record there), so nothing is dropped;
//! lost-record markers become a comment on the next packet and a count in
//! the summary.  What the reader notes — bytes skipped, lengths that
//! contradict each other, framing anomalies — becomes a comment on the
//! packet and a warning naming the file and byte offset.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ctrace::{cte, Kind, Packet, Pthdr, Reader, SliceInput};

mod ipcs;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The CTRACE file as transferred from z/OS (binary; raw, RDW — spanned
    /// or not — or BDW+RDW), or an IPCS formatted report of one (FULL,
    /// FORMAT with DUMP, DUMP; text as mailed, printed or transferred),
    /// either of them possibly packed by AMATERSE or TSO XMIT.
    pub input: PathBuf,
    /// The pcapng file to write (`-`: standard output; refused if it
    /// exists, unless --force; docs/cli.md, "Outputs").
    pub output: PathBuf,
    /// Keep every record whole (CTE header included) on a LINKTYPE_USER0
    /// interface instead of decoding it.
    #[arg(long)]
    pub raw_cte: bool,
    /// Seconds the z/OS TOD clock runs ahead of UTC (leap seconds).
    #[arg(long, default_value_t = 0)]
    pub leap_seconds: i64,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// IPCS report formatted with LOCAL: seconds the z/OS local time runs
    /// ahead of UTC (e.g. -18000 for US Eastern standard time).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub report_local_offset: i64,
}

/// What a conversion did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub input_bytes: u64,
    pub entries: u64,
    pub packets: u64,
    pub segmented_packets: u64,
    pub raw_records: u64,
    pub lost_markers: u64,
    pub interfaces: usize,
    /// Notes of the reader (skipped bytes, contradicting lengths, framing
    /// anomalies), counted.
    pub notes: u64,
    /// The first [`MAX_WARNINGS`] of them, each naming the file and offset.
    pub warnings: Vec<String>,
    /// Containers taken off (AMATERSE, XMIT), outermost first.
    pub unpacked: Vec<String>,
    /// For an IPCS report: its layout and counts.
    pub report: Option<String>,
}

/// How many notes the summary spells out.
pub const MAX_WARNINGS: usize = 20;

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in &self.unpacked {
            writeln!(f, "unpacked: {layer}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        if self.notes > self.warnings.len() as u64 {
            writeln!(
                f,
                "warning: ... and {} more notes (in the packets' comments)",
                self.notes - self.warnings.len() as u64
            )?;
        }
        if let Some(report) = &self.report {
            return write!(
                f,
                "{report} -> {} packets, {} undecoded dumps kept raw, {} interfaces",
                self.packets, self.raw_records, self.interfaces
            );
        }
        write!(
            f,
            "{} entries -> {} packets ({} reassembled from segments), {} undecoded records kept raw, {} lost-record markers, {} interfaces",
            self.entries, self.packets, self.segmented_packets, self.raw_records, self.lost_markers, self.interfaces
        )
    }
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn io_error(path: &Path, what: &str, e: impl fmt::Display) -> Error {
    Error(format!("{}: {what}: {e}", path.display()))
}

const LINKTYPE_USER0: DataLink = DataLink::USER0;

/// Exported PDU tags (wsutil/exported_pdu_tlvs.h).
mod exported_pdu {
    pub const END_OF_OPT: u16 = 0;
    pub const DISSECTOR_TABLE_NAME: u16 = 14;
    pub const IPV4_SRC: u16 = 20;
    pub const IPV4_DST: u16 = 21;
    pub const IPV6_SRC: u16 = 22;
    pub const IPV6_DST: u16 = 23;
    pub const PORT_TYPE: u16 = 24;
    pub const SRC_PORT: u16 = 25;
    pub const DST_PORT: u16 = 26;
    pub const DISSECTOR_TABLE_NUM_VAL: u16 = 32;
    pub const PT_TCP: u32 = 2;
    pub const PT_UDP: u32 = 3;
}

/// The socket endpoints of a data trace record.
struct Socket {
    udp: bool,
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
}

impl Socket {
    fn of(pthdr: &Pthdr) -> Socket {
        Socket {
            udp: pthdr.dt_protocol() == 17,
            src: pthdr.src_ip(),
            dst: pthdr.dst_ip(),
            src_port: pthdr.src_port(),
            dst_port: pthdr.dst_port(),
        }
    }
}

/// The exported-PDU header that tells Wireshark the socket endpoints and
/// which port table decodes the payload.
fn exported_pdu_header(socket: &Socket, out: &mut Vec<u8>) {
    use exported_pdu::*;
    let tag = |out: &mut Vec<u8>, tag: u16, value: &[u8]| {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(value);
    };
    let udp = socket.udp;
    let table: &[u8] = if udp { b"udp.port" } else { b"tcp.port" };
    tag(out, DISSECTOR_TABLE_NAME, table);
    let port = socket.src_port.min(socket.dst_port);
    tag(out, DISSECTOR_TABLE_NUM_VAL, &u32::from(port).to_be_bytes());
    match (socket.src, socket.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            tag(out, IPV4_SRC, &s.octets());
            tag(out, IPV4_DST, &d.octets());
        }
        (s, d) => {
            let v6 = |ip: IpAddr| match ip {
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
                IpAddr::V6(v) => v.octets(),
            };
            tag(out, IPV6_SRC, &v6(s));
            tag(out, IPV6_DST, &v6(d));
        }
    }
    tag(
        out,
        PORT_TYPE,
        &(if udp { PT_UDP } else { PT_TCP }).to_be_bytes(),
    );
    tag(out, SRC_PORT, &u32::from(socket.src_port).to_be_bytes());
    tag(out, DST_PORT, &u32::from(socket.dst_port).to_be_bytes());
    tag(out, END_OF_OPT, &[]);
}

/// pcapng epb_flags direction bits: 01 inbound, 10 outbound.
fn direction_flags(direction: ctrace::Direction) -> Option<u32> {
    match direction {
        ctrace::Direction::Inbound => Some(1),
        ctrace::Direction::Outbound => Some(2),
        ctrace::Direction::Unknown => None,
    }
}

pub(crate) struct Writer<W: Write> {
    out: PcapNgWriter<W>,
    /// Interface ids by (name, link type number).
    interfaces: HashMap<(String, u32), u32>,
}

impl<W: Write> Writer<W> {
    pub(crate) fn interface(
        &mut self,
        name: String,
        link: DataLink,
    ) -> Result<u32, pcap_file::PcapError> {
        let key = (name.clone(), u32::from(link));
        if let Some(id) = self.interfaces.get(&key) {
            return Ok(*id);
        }
        let id = self.interfaces.len() as u32;
        let idb = InterfaceDescriptionBlock {
            linktype: link,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(name.clone())),
                // Nanosecond time stamps.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        self.out.write_pcapng_block(idb)?;
        self.interfaces.insert(key, id);
        Ok(id)
    }

    pub(crate) fn packet(
        &mut self,
        interface: u32,
        time_ns: i64,
        original_len: u32,
        data: &[u8],
        options: Vec<EnhancedPacketOption<'_>>,
    ) -> Result<(), pcap_file::PcapError> {
        let epb = EnhancedPacketBlock {
            interface_id: interface,
            timestamp: Duration::from_nanos(time_ns.max(0) as u64),
            original_len: original_len.max(data.len() as u32),
            data: Cow::Borrowed(data),
            options,
        };
        self.out.write_pcapng_block(epb).map(|_| ())
    }
}

/// Converts `args.input` to `args.output`.
pub fn run(args: &Args) -> Result<Summary, Error> {
    let input = &args.input;
    let output = &args.output;
    let inputs = [input.clone()];
    let rules = crate::output::Rules {
        inputs: crate::output::Inputs {
            captures: &inputs,
            index: None,
        },
        force: args.force,
        binary: true,
    };
    // Checked before anything is read; the output writer's rules
    // (crate::output): never over the input, a device, a link.
    crate::output::plan(output, &rules).map_err(|e| Error(e.0))?;
    let file = File::open(input).map_err(|e| io_error(input, "cannot open", e))?;
    // SAFETY: a read-only shared map of a file we do not modify; a file
    // truncated by someone else while we read would fault, as with any
    // memory-mapped reader.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| io_error(input, "cannot map", e))?;
    let (layers, unpacked) = match zunpack::unpack(&map, zunpack::DEFAULT_LIMIT) {
        Ok((layers, data)) => (layers, Some(data)),
        Err(zunpack::Error::NotPacked) => (Vec::new(), None),
        Err(e) => return Err(Error(format!("{}: {e}", input.display()))),
    };
    let bytes: &[u8] = unpacked.as_deref().unwrap_or(&map);
    let source = match ctrace::detect(&bytes[..bytes.len().min(ctrace::framing::DETECT_PREFIX)]) {
        Ok(framing) => Source::Trace(framing),
        Err(e) => match ipcs_report::recognise(bytes) {
            ipcs_report::Recognised::Report => Source::Report(
                ipcs_report::parse(bytes)
                    .map_err(|e| Error(format!("{}: IPCS report: {e}", input.display())))?,
            ),
            ipcs_report::Recognised::No => return Err(Error(format!("{}: {e}", input.display()))),
        },
    };

    // Written beside the output, put in place when complete.
    let sink = crate::output::Output::create(output, &rules).map_err(|e| Error(e.0))?;
    let writer = PcapNgWriter::new(sink).map_err(|e| io_error(output, "cannot write", e))?;
    let mut writer = Writer {
        out: writer,
        interfaces: HashMap::new(),
    };
    let progress = progress_bar(bytes.len() as u64);
    let result = match &source {
        Source::Trace(framing) => convert(*framing, bytes, args, &mut writer, &progress),
        Source::Report(report) => ipcs::convert(report, args, &mut writer),
    };
    progress.finish_and_clear();
    // On an error the output is dropped: its partial file goes.
    let summary = result?;
    let interfaces = writer.interfaces.len();
    writer.out.into_inner().finish().map_err(|e| Error(e.0))?;
    Ok(Summary {
        input_bytes: bytes.len() as u64,
        interfaces,
        unpacked: layers.iter().map(zunpack::Layer::describe).collect(),
        ..summary
    })
}

/// What the input is, once unpacked.
enum Source {
    Trace(ctrace::Framing),
    Report(ipcs_report::Report),
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    // Only worth drawing for inputs that take a while.
    if total < 64 << 20 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} converting [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Where a packet goes: interface name, link type, and whether its bytes
/// are the traced bytes (else the whole record, kept raw).
fn destination(p: &Packet, args: &Args) -> (String, DataLink, bool) {
    let name = p
        .name
        .map(|n| ctrace::ebcdic::decode_name(n).trim_end().to_owned())
        .unwrap_or_default();
    match p.kind {
        _ if args.raw_cte => ("CTRACE records".into(), LINKTYPE_USER0, false),
        Kind::Traced(cte::FMT_PACKET | cte::FMT_EE) => (name, DataLink::RAW, true),
        Kind::Traced(cte::FMT_OSAENTA) => (name, DataLink::ETHERNET, true),
        Kind::Traced(cte::FMT_DATA) => {
            let job = p.pthdr().map(|h| h.job_name()).unwrap_or_default();
            (
                format!("data trace {}", job.trim_end()),
                DataLink::WIRESHARK_UPPER_PDU,
                true,
            )
        }
        _ => ("CTRACE records".into(), LINKTYPE_USER0, false),
    }
}

fn convert<W: Write>(
    framing: ctrace::Framing,
    bytes: &[u8],
    args: &Args,
    writer: &mut Writer<W>,
    progress: &indicatif::ProgressBar,
) -> Result<Summary, Error> {
    let mut summary = Summary::default();
    let mut pending_lost: u64 = 0;
    let mut scratch = Vec::new();
    let input = &args.input;
    let pcap_error = |e: pcap_file::PcapError| io_error(&args.output, "cannot write", e);
    let mut last_tick = 0u64;
    let mut reader = Reader::new(framing);
    let mut source = SliceInput::new(bytes);
    let warn = |summary: &mut Summary, note: &ctrace::Note| {
        summary.notes += 1;
        if summary.warnings.len() < MAX_WARNINGS {
            summary
                .warnings
                .push(format!("{}: {note}", input.display()));
        }
    };
    while let Some(p) = reader
        .next_packet(&mut source)
        .map_err(|e| io_error(input, "cannot read", e))?
    {
        summary.entries += p.entries.len() as u64;
        if p.offset - last_tick > 4 << 20 {
            progress.set_position(p.offset);
            last_tick = p.offset;
        }
        let mut options = Vec::new();
        for note in p.notes {
            warn(&mut summary, note);
            options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                "CTRACE: {note}"
            ))));
        }
        if p.kind == Kind::Lost {
            summary.lost_markers += 1;
            pending_lost += 1;
            continue;
        }
        if let Some(code) = p.pthdr().and_then(|h| h.discarded()) {
            let text = ctrace::pthdr::describe_drop_reason(code);
            options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                "CTRACE: packet {text}"
            ))));
        }
        if pending_lost > 0 {
            options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                "CTRACE: trace records were lost before this packet ({pending_lost} lost-record marker{})",
                if pending_lost == 1 { "" } else { "s" }
            ))));
            pending_lost = 0;
        }
        let time = p.time_ns(args.leap_seconds).unwrap_or(0);
        let (name, link, decoded) = destination(&p, args);
        if !decoded {
            // Kept whole: the record, skipped bytes and entries.
            let id = writer.interface(name, link).map_err(pcap_error)?;
            writer
                .packet(id, time, p.record.len() as u32, p.record, options)
                .map_err(pcap_error)?;
            summary.raw_records += 1;
            summary.packets += 1;
            continue;
        }
        if p.segments() > 1 {
            summary.segmented_packets += 1;
        }
        if let Some(flags) = direction_flags(p.direction) {
            options.push(EnhancedPacketOption::Flags(flags));
        }
        let data: &[u8] = match (p.kind, p.pthdr()) {
            (Kind::Traced(cte::FMT_DATA), Some(h)) => {
                scratch.clear();
                exported_pdu_header(&Socket::of(&h), &mut scratch);
                scratch.extend_from_slice(p.data);
                &scratch
            }
            _ => p.data,
        };
        let extra = (data.len() - p.data.len()) as u32;
        let id = writer.interface(name, link).map_err(pcap_error)?;
        writer
            .packet(
                id,
                time,
                p.original_len().saturating_add(extra),
                data,
                options,
            )
            .map_err(pcap_error)?;
        summary.packets += 1;
    }
    for note in reader.final_notes() {
        warn(&mut summary, &note);
    }
    Ok(summary)
}
