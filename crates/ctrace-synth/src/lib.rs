//! Writes synthetic z/OS CTRACE packet trace files (SYSTCPDA packet and data
//! trace, SYSTCPOT OSAENTA) from the packets of a real pcap or pcapng file,
//! byte for byte as docs/ctrace-format.md says.  No real SYSTCPDA file is
//! public: these are the project's test fixtures.
//!
//! Every byte position comes from the `ctrace` crate's layout table (through
//! `ctrace::build`), the table the reader uses: a fixture written here and
//! read there shows only that the two agree.  The layout itself is checked
//! by the independent vectors in tests/data/ctrace-vectors.py, written from
//! the evidence (docs/ctrace-format.md, "Evidence").

pub mod capture;
pub mod output;
pub mod records;
pub mod report;

use capture::{Frame, Link};
use records::Header;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// How the written file is framed (see the document's "Framing").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Framing {
    /// CTEs packed into zero-padded 4096-byte writer buffers.
    #[default]
    Raw,
    /// One RDW record per CTE.
    Rdw,
    /// RDW records in BDW blocks of at most 32 760 bytes.
    Bdw,
}

/// A deliberately damaged variant (`--malformed KIND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// `truncated`: the file ends in the middle of its last CTE.
    Truncated,
    /// `cte-lene`: the second CTE's CTELENE is CTELENP − 4.
    CteLene,
    /// `xmit`: the trace wrapped in TSO TRANSMIT (INMR01…INMR06) records.
    Xmit,
    /// `terse`: a 12-byte AMATERSE SPACK header, then the trace bytes (not
    /// really compressed: only the header is realistic).
    Terse,
    /// `ebcdic-text`: an IPCS-like formatted report in EBCDIC.
    EbcdicText,
    /// `ascii-text`: the same report in ASCII.
    AsciiText,
    /// `lost-record`: a lost-records CTE (CTEFMTID X'FF000000') in the
    /// middle.
    LostRecord,
    /// `long-rdw`: RDW records longer than 32 760 bytes, unspanned (as no
    /// z/OS writer writes them).
    LongRdw,
}

impl Malformed {
    pub const ALL: [Malformed; 8] = [
        Malformed::Truncated,
        Malformed::CteLene,
        Malformed::Xmit,
        Malformed::Terse,
        Malformed::EbcdicText,
        Malformed::AsciiText,
        Malformed::LostRecord,
        Malformed::LongRdw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Malformed::Truncated => "truncated",
            Malformed::CteLene => "cte-lene",
            Malformed::Xmit => "xmit",
            Malformed::Terse => "terse",
            Malformed::EbcdicText => "ebcdic-text",
            Malformed::AsciiText => "ascii-text",
            Malformed::LostRecord => "lost-record",
            Malformed::LongRdw => "long-rdw",
        }
    }

    pub fn parse(s: &str) -> Option<Malformed> {
        Malformed::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// What to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub framing: Framing,
    /// Write the whole Ethernet frames as OSAENTA (format id 7) records.
    pub osaenta: bool,
    /// Split traced bytes longer than this over several CTEs (default and
    /// maximum: 65 424, so that no entry exceeds 65 534 bytes).
    pub segment_size: Option<usize>,
    /// Writer buffer size: entries are packed into buffers of this many
    /// bytes (default 4096); each buffer is one logical record.
    pub buffer: usize,
    /// Bytes of a stand-in writer record header at the start of every
    /// buffer (default 0).
    pub writer_header: usize,
    /// Also write a data trace (format id 5) record with the TCP/UDP payload
    /// after each packet that has one.
    pub data_trace: bool,
    pub malformed: Option<Malformed>,
    /// The local (z/OS) address: packets from it are outbound.  Default: the
    /// source of the first IP packet.
    pub local: Option<IpAddr>,
    /// Interface name for packet records (default OSAQDIO1; LOOPBACK /
    /// LOOPBACK6 for packets between loopback addresses).
    pub interface: Option<String>,
    /// Job name for data trace records (default TCPAPPL).
    pub job: String,
    /// OSA port name; the OSAENTA interface is EZANTA + port (default
    /// OSAPORT1).
    pub port_name: String,
    /// TOD − UTC in seconds written into the TOD values (default 0).
    pub leap_seconds: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            framing: Framing::Raw,
            osaenta: false,
            segment_size: None,
            buffer: 4096,
            writer_header: 0,
            data_trace: false,
            malformed: None,
            local: None,
            interface: None,
            job: "TCPAPPL".into(),
            port_name: "OSAPORT1".into(),
            leap_seconds: 0,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Frames in the source capture.
    pub frames: usize,
    /// Frames written (as packet or OSAENTA records).
    pub packets: usize,
    /// Frames skipped (not IP; for OSAENTA: not Ethernet).
    pub skipped: usize,
    /// Data trace records' packets (before segmentation).
    pub data_records: usize,
    /// CTEs written (segments and lost-record marker included).
    pub ctes: usize,
    /// Packets split over more than one CTE.
    pub segmented: usize,
    /// Size of the output file.
    pub bytes: u64,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// One traced thing, before it becomes CTEs: for the report and for tests.
#[derive(Clone, Debug)]
pub struct Traced {
    pub format_id: u32,
    pub header: Header,
    pub bytes: Vec<u8>,
    /// Index of the source frame.
    pub frame: usize,
}

fn is_loopback(ip: &IpAddr) -> bool {
    ip.is_loopback()
}

/// Builds the traced items of every frame (in order), per the document's
/// "What the fixture writer emits".
pub fn trace_items(
    frames: &[Frame],
    options: &Options,
    summary: &mut Summary,
) -> io::Result<Vec<Traced>> {
    let mut local = options.local;
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let tod = records::tod_from_unix_ns(f.ts_ns, options.leap_seconds);
        let info = capture::ip_info(f.link, &f.data);
        if options.osaenta {
            if f.link != Link::Ethernet {
                return Err(invalid(
                    "--osaenta needs an Ethernet capture (OSAENTA traces layer-2 frames)",
                ));
            }
            let Some((_, ethertype, _vlan)) = capture::ethernet(&f.data) else {
                summary.skipped += 1;
                continue;
            };
            let mut h = Header {
                device_type: if ethertype == 0x86DD {
                    records::DEV_IPAQENET6
                } else {
                    records::DEV_IPAQENET
                },
                name: name16(&format!("EZANTA{}", options.port_name)),
                tod,
                plen: u16_len(f.orig_len as usize),
                tlen: f.data.len() as u32,
                interface_index: f.interface + 1,
                ..Header::default()
            };
            if let Some(ip) = &info {
                let l = *local.get_or_insert(ip.src);
                fill_ip(&mut h, ip, l);
            }
            out.push(Traced {
                format_id: records::FMT_OSAENTA,
                header: h,
                bytes: f.data.clone(),
                frame: i,
            });
            summary.packets += 1;
            continue;
        }
        let Some(ip) = info else {
            summary.skipped += 1;
            continue;
        };
        let l = *local.get_or_insert(ip.src);
        let loop_pair = is_loopback(&ip.src) && is_loopback(&ip.dst);
        let name = match (&options.interface, loop_pair, ip.version) {
            (Some(n), _, _) => n.clone(),
            (None, true, 4) => "LOOPBACK".into(),
            (None, true, _) => "LOOPBACK6".into(),
            (None, false, _) => "OSAQDIO1".into(),
        };
        let bytes = f.data[ip.l3..ip.l3 + ip.captured].to_vec();
        let mut h = Header {
            device_type: if ip.version == 6 {
                records::DEV_IPAQENET6
            } else {
                records::DEV_IPAQENET
            },
            name: name16(&name),
            tod,
            plen: u16_len(ip.total),
            tlen: bytes.len() as u32,
            interface_index: f.interface + 1,
            ..Header::default()
        };
        fill_ip(&mut h, &ip, l);
        out.push(Traced {
            format_id: records::FMT_PACKET,
            header: h.clone(),
            bytes,
            frame: i,
        });
        summary.packets += 1;
        if options.data_trace {
            if let Some(p) = ip.l4_payload {
                if p < ip.captured {
                    let data = f.data[ip.l3 + p..ip.l3 + ip.captured].to_vec();
                    let mut d = h;
                    let mut name = records::ebcdic_name(&options.job, 8);
                    name.push(if ip.version == 6 { 19 } else { 2 });
                    name.push(if ip.protocol == 6 { 1 } else { 2 });
                    name.push(ip.protocol);
                    name.push(0);
                    name.resize(16, 0);
                    d.name.copy_from_slice(&name);
                    d.plen = u16_len(ip.total - p);
                    d.tlen = data.len() as u32;
                    out.push(Traced {
                        format_id: records::FMT_DATA,
                        header: d,
                        bytes: data,
                        frame: i,
                    });
                    summary.data_records += 1;
                }
            }
        }
    }
    Ok(out)
}

/// A length as PTH_Plen (16 bits) holds it: larger ones are cut to 65 535
/// (the reader then reports PTH_Plen below PTH_Tlen).
fn u16_len(n: usize) -> u16 {
    n.min(u16::MAX as usize) as u16
}

fn name16(name: &str) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&records::ebcdic_name(name, 16));
    a
}

fn fill_ip(h: &mut Header, ip: &capture::IpInfo, local: IpAddr) {
    h.src = records::ip16(ip.src);
    h.dst = records::ip16(ip.dst);
    h.sport = ip.ports.0;
    h.dport = ip.ports.1;
    if ip.src == local {
        h.flags |= records::FLAG_OUT;
    }
    if is_loopback(&ip.src) && is_loopback(&ip.dst) {
        h.flags |= records::FLAG_LOCAL;
    }
}

/// Reads `input`, writes the trace to `output`.
pub fn write(input: &Path, output: &Path, options: &Options) -> io::Result<Summary> {
    let frames = capture::read(input)?;
    let (bytes, summary) = build(&frames, options)?;
    std::fs::write(output, &bytes)?;
    Ok(summary)
}

/// The whole output file for `frames`.
pub fn build(frames: &[Frame], options: &Options) -> io::Result<(Vec<u8>, Summary)> {
    let mut summary = Summary {
        frames: frames.len(),
        ..Summary::default()
    };
    if let Some(n) = options.segment_size {
        if n == 0 || n > records::MAX_SEGMENT {
            return Err(invalid(format!(
                "--segment-size must be 1..={} (no entry may exceed 65 534 bytes)",
                records::MAX_SEGMENT
            )));
        }
    }
    let items = trace_items(frames, options, &mut summary)?;
    if matches!(
        options.malformed,
        Some(Malformed::AsciiText) | Some(Malformed::EbcdicText)
    ) {
        let text = report::report(&items, options);
        let bytes = if options.malformed == Some(Malformed::EbcdicText) {
            records::ebcdic(&text)
        } else {
            text.into_bytes()
        };
        summary.bytes = bytes.len() as u64;
        return Ok((bytes, summary));
    }
    let segment = options.segment_size.unwrap_or(records::MAX_SEGMENT);
    let mut ctes: Vec<Vec<u8>> = Vec::new();
    for t in &items {
        let r = records::records(t.format_id, &t.header, &t.bytes, segment);
        if r.len() > 1 {
            summary.segmented += 1;
        }
        ctes.extend(r);
    }
    match options.malformed {
        Some(Malformed::LostRecord) => {
            let at = ctes.len() / 2;
            let tod = items
                .get(items.len() / 2)
                .map_or(0, |t| t.header.tod.wrapping_add(records::CTETIME_DELAY));
            ctes.insert(at, records::cte(records::FMT_LOST, tod, &[]));
        }
        Some(Malformed::CteLene) => {
            let i = if ctes.len() > 1 { 1 } else { 0 };
            if let Some(c) = ctes.get_mut(i) {
                let n = c.len();
                let bad = (n as u16).wrapping_sub(4).to_be_bytes();
                c[n - 2..].copy_from_slice(&bad);
            }
        }
        _ => {}
    }
    summary.ctes = ctes.len();
    let layout = output::Layout {
        framing: if options.malformed == Some(Malformed::LongRdw) {
            Framing::Rdw
        } else {
            options.framing
        },
        buffer: options.buffer.max(1),
        header: writer_header(options.writer_header),
        long_records: options.malformed == Some(Malformed::LongRdw),
    };
    let (mut bytes, spans) = output::frame(&ctes, &layout);
    match options.malformed {
        Some(Malformed::Truncated) => {
            if let Some(&(start, len)) = spans.last() {
                bytes.truncate(start + len / 2);
            }
        }
        Some(Malformed::Xmit) => bytes = output::xmit(&bytes),
        Some(Malformed::Terse) => bytes = output::terse(&bytes),
        _ => {}
    }
    summary.bytes = bytes.len() as u64;
    Ok((bytes, summary))
}

/// A stand-in writer record header of `n` bytes: EBCDIC "WTRHDR" and a
/// count, never mistaken for an entry (its CTEOFF bytes are blanks).
fn writer_header(n: usize) -> Vec<u8> {
    let mut h = records::ebcdic("WTRHDR");
    h.extend(
        (0..)
            .map(|i: u32| (i % 251) as u8 | 0x80)
            .take(n.saturating_sub(6)),
    );
    h.truncate(n);
    h
}

/// Parses the command line (without the program name):
/// `IN OUT [--framing raw|rdw|bdw] [--buffer N] [--writer-header N]
/// [--osaenta] [--segment-size N] [--data-trace] [--malformed KIND]
/// [--local IP] [--interface NAME] [--job NAME] [--port NAME]
/// [--leap-seconds N]`.
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
) -> Result<(PathBuf, PathBuf, Options), String> {
    let mut o = Options::default();
    let mut paths = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--framing" => {
                o.framing = match val("--framing")?.as_str() {
                    "raw" => Framing::Raw,
                    "rdw" => Framing::Rdw,
                    "bdw" => Framing::Bdw,
                    x => return Err(format!("--framing {x}: expected raw, rdw or bdw")),
                }
            }
            "--osaenta" => o.osaenta = true,
            "--buffer" => {
                let v = val("--buffer")?;
                o.buffer = v
                    .parse()
                    .ok()
                    .filter(|&n: &usize| n > 0)
                    .ok_or_else(|| format!("--buffer {v}: not a positive number"))?;
            }
            "--writer-header" => {
                let v = val("--writer-header")?;
                o.writer_header = v
                    .parse()
                    .map_err(|_| format!("--writer-header {v}: not a number"))?;
            }
            "--data-trace" => o.data_trace = true,
            "--segment-size" => {
                let v = val("--segment-size")?;
                o.segment_size = Some(
                    v.parse()
                        .map_err(|_| format!("--segment-size {v}: not a number"))?,
                );
            }
            "--malformed" => {
                let v = val("--malformed")?;
                o.malformed = Some(Malformed::parse(&v).ok_or_else(|| {
                    let all: Vec<&str> = Malformed::ALL.iter().map(|m| m.name()).collect();
                    format!("--malformed {v}: expected one of {}", all.join(", "))
                })?);
            }
            "--local" => {
                let v = val("--local")?;
                o.local = Some(
                    v.parse()
                        .map_err(|_| format!("--local {v}: not an IP address"))?,
                );
            }
            "--interface" => o.interface = Some(val("--interface")?),
            "--job" => o.job = val("--job")?,
            "--port" => o.port_name = val("--port")?,
            "--leap-seconds" => {
                let v = val("--leap-seconds")?;
                o.leap_seconds = v
                    .parse()
                    .map_err(|_| format!("--leap-seconds {v}: not a number"))?;
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    if paths.len() != 2 {
        return Err(
            "usage: ctrace-synth IN.pcap OUT --framing raw|rdw|bdw [--buffer N] \
                    [--writer-header N] [--osaenta] [--segment-size N] [--data-trace] \
                    [--malformed KIND] [--local IP] [--interface NAME] [--job NAME] \
                    [--port NAME] [--leap-seconds N]"
                .into(),
        );
    }
    let out = paths.pop().unwrap_or_default();
    let inp = paths.pop().unwrap_or_default();
    Ok((inp, out, o))
}

#[cfg(test)]
mod tests;
