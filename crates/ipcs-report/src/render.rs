//! Writes packets as an IPCS SYSTCPDA report, the way IBM's documented
//! examples look (the FORMAT example of the IP Diagnosis Guide for the
//! record header and the formatted IP and protocol headers, its DUMP
//! example for the hex dumps, the SHARE 2010 FULL record for "Intfx").
//! This is the documented generator of the `rendered-ipcs-*` fixtures: the
//! reader is tested against IBM's own examples too, never only against
//! this.  Labels come from [`crate::vocab`], the table the reader uses.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::record::Direction;
use crate::time;
use crate::vocab::{self, label, Key};

/// Which layout to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// CTRACE … FULL: formatted headers and dumps, "COMPONENT TRACE FULL FORMAT".
    Full,
    /// OPTIONS((FORMAT DUMP)) under SHORT.
    FormatDump,
    /// OPTIONS((DUMP)) under SHORT: record header and dumps only.
    Dump,
}

impl Style {
    pub fn name(self) -> &'static str {
        match self {
            Style::Full => "full",
            Style::FormatDump => "format-dump",
            Style::Dump => "dump",
        }
    }
}

/// One packet to write.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub number: u64,
    pub sysname: &'a str,
    /// The record line's time (when the entry reached the trace buffer),
    /// Unix µs.
    pub stamp_us: i64,
    /// The Tod Clock (when the packet was traced), Unix µs.
    pub tod_us: i64,
    pub direction: Direction,
    pub interface: &'a str,
    pub device: &'a str,
    pub ifindex: Option<u32>,
    pub seq: u32,
    /// The traced bytes: an IP packet.
    pub ip: &'a [u8],
    /// The packet's length before tracing cut it.
    pub original_len: u32,
    pub asid: u16,
    pub tcb: u32,
}

/// The report's heading: print log title, command echo, first date line,
/// column headings.
pub fn heading(style: Style, user: &str, sysname: &str, first_us: i64) -> String {
    let (title, opts) = match style {
        Style::Full => ("COMPONENT TRACE FULL FORMAT", "OPTIONS((FTP(20,21)))"),
        Style::FormatDump => ("COMPONENT TRACE SHORT FORMAT", "OPTIONS((FORMAT DUMP))"),
        Style::Dump => ("COMPONENT TRACE SHORT FORMAT", "OPTIONS((DUMP))"),
    };
    let mut s = String::new();
    let _ = writeln!(s, "IPCS PRINT LOG FOR USER {user}");
    let _ = writeln!(s);
    let _ = writeln!(s, "{title}");
    let _ = writeln!(s, " SYSNAME({sysname})");
    let _ = writeln!(s, " COMP(SYSTCPDA)SUBNAME((TCPIP))");
    let _ = writeln!(s, " {opts}");
    let _ = writeln!(
        s,
        " z/OS TCP/IP Packet Trace Formatter, (C) IBM 2000-2005, 2005.047"
    );
    let _ = writeln!(s, " OPTIONS((Both Gmt Segment))");
    let _ = writeln!(s);
    let _ = writeln!(s, " {} {}", vocab::DATE_MARK, time::format_date(first_us));
    let _ = writeln!(s, " {}", vocab::COLUMNS);
    let _ = writeln!(
        s,
        " ----- -------- -------- -------- --------------- --------------------------------"
    );
    s
}

/// A date line, written before a record whose date differs from the one
/// before.
pub fn date_line(us: i64) -> String {
    format!(" {} {}\n", vocab::DATE_MARK, time::format_date(us))
}

fn pair(left: &str, value: &str, right: &str, rvalue: &str) -> String {
    format!("  {left:<17}: {value:<16} {right}: {rvalue}\n")
}

/// One record.
pub fn record(style: Style, p: &Input<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>6} {:<8} {:<8} {:08X} {} Packet Trace",
        p.number,
        p.sysname,
        "PACKET",
        4,
        time::format_time(p.stamp_us)
    );
    let dir = match p.direction {
        Direction::Inbound => label(Key::FromInterface).text,
        Direction::Outbound => label(Key::ToInterface).text,
    };
    let traced = p.ip.len() as u32;
    let extent = if traced < p.original_len {
        format!("{}={}", label(Key::Abbrev).text, traced)
    } else {
        format!("{}={}", label(Key::Full).text, p.original_len)
    };
    let _ = writeln!(
        s,
        " {dir:<18}: {:<16} {}: {:<16} {extent}",
        p.interface,
        label(Key::Device).text,
        p.device
    );
    let mut tod = format!(
        "  {:<17}: {} {}",
        label(Key::TodClock).text,
        time::format_date(p.tod_us),
        time::format_time(p.tod_us)
    );
    if let Some(ix) = p.ifindex {
        let _ = write!(tod, " {}: {ix}", label(Key::Intfx).text);
    }
    s.push_str(&tod);
    s.push('\n');
    let mut flags = "Pkt Ver2".to_owned();
    if p.direction == Direction::Outbound {
        flags.push_str(" Out");
    }
    s.push_str(&pair(
        label(Key::SequenceNumber).text,
        &p.seq.to_string(),
        label(Key::Flags).text,
        &flags,
    ));
    let ports = ports(p.ip);
    let _ = writeln!(
        s,
        "  {:<17}: {:<16} {}: {:<5} {}: {:04X} {}: {:08X}",
        label(Key::SourcePort).text,
        ports.0,
        label(Key::DestPort).text,
        ports.1,
        label(Key::Asid).text,
        p.asid,
        label(Key::Tcb).text,
        p.tcb
    );
    let (ip_len, proto_len) = header_lengths(p.ip);
    if style != Style::Dump {
        s.push_str(&formatted(p.ip, ip_len, proto_len));
    }
    s.push('\n');
    let ip_end = ip_len.min(p.ip.len());
    let proto_end = (ip_len + proto_len).min(p.ip.len());
    dump(
        &mut s,
        &format!("{:<18}: {}", vocab::IP_HEADER, ip_len),
        &p.ip[..ip_end],
        32,
        false,
    );
    if proto_len > 0 {
        dump(
            &mut s,
            &format!("{:<18}: {}", vocab::PROTOCOL_HEADER, proto_len),
            &p.ip[ip_end..proto_end],
            32,
            false,
        );
    }
    let data = &p.ip[proto_end..];
    let data_len = p.original_len.saturating_sub((ip_len + proto_len) as u32);
    if !data.is_empty() || data_len > 0 {
        dump(
            &mut s,
            &format!(
                "{:<18}: {:<16} {}: {}",
                vocab::DATA,
                data.len(),
                vocab::DATA_LENGTH,
                data_len
            ),
            data,
            16,
            true,
        );
    }
    s.push_str(
        " -------------------------------------------------------------------------------\n",
    );
    s
}

/// IP and protocol header lengths of the traced bytes (what fits).
fn header_lengths(ip: &[u8]) -> (usize, usize) {
    let (ihl, proto) = match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => (usize::from(ip[0] & 0x0F) * 4, ip[9]),
        Some(6) if ip.len() >= 40 => (40, ip[6]),
        _ => return (ip.len(), 0),
    };
    let rest = ip.len().saturating_sub(ihl);
    let proto_len = match proto {
        6 if rest >= 13 => usize::from(ip[ihl + 12] >> 4) * 4,
        17 => 8,
        1 | 58 => 8,
        _ => 0,
    };
    (ihl.min(ip.len()), proto_len.min(rest))
}

fn ports(ip: &[u8]) -> (u16, u16) {
    let (ihl, proto) = match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => (usize::from(ip[0] & 0x0F) * 4, ip[9]),
        Some(6) if ip.len() >= 40 => (40, ip[6]),
        _ => return (0, 0),
    };
    match (proto, ip.get(ihl..ihl + 4)) {
        (6 | 17, Some(p)) => (
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        ),
        _ => (0, 0),
    }
}

/// The formatted IP and protocol header, as in IBM's FORMAT example.
fn formatted(ip: &[u8], ip_len: usize, proto_len: usize) -> String {
    let mut s = String::new();
    let be16 = |a: usize| u16::from_be_bytes([ip[a], ip[a + 1]]);
    let l = |k: Key| label(k).text;
    let (proto, src, dst) = match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => {
            let _ = writeln!(
                s,
                " {}: {} : {:<16} {}: {}",
                l(Key::IpHeader),
                l(Key::Version),
                4,
                l(Key::HeaderLength),
                ip_len
            );
            s.push_str(&pair(
                l(Key::Tos),
                &format!("{:02X}", ip[1]),
                l(Key::Qos),
                "Routine Normal Service",
            ));
            s.push_str(&pair(
                l(Key::PacketLength),
                &be16(2).to_string(),
                l(Key::IdNumber),
                &format!("{:04X}", be16(4)),
            ));
            let frag = if be16(6) & 0x4000 != 0 {
                "DontFragment"
            } else {
                ""
            };
            s.push_str(&pair(
                l(Key::Fragment),
                frag,
                l(Key::Offset),
                &((be16(6) & 0x1FFF) * 8).to_string(),
            ));
            let _ = writeln!(
                s,
                "  {:<17}: {:<16} {}: {:<14} {}: {:04X} FFFF",
                l(Key::Ttl),
                ip[8],
                l(Key::Proto),
                proto_name(ip[9]),
                l(Key::CheckSum),
                be16(10)
            );
            (
                ip[9],
                Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]).to_string(),
                Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]).to_string(),
            )
        }
        Some(6) if ip.len() >= 40 => {
            let _ = writeln!(
                s,
                " {}: {} : {:<16} {}: {}",
                l(Key::IpHeader),
                l(Key::Version),
                6,
                l(Key::HeaderLength),
                40
            );
            s.push_str(&pair(
                l(Key::PacketLength),
                &(40 + u32::from(be16(4))).to_string(),
                l(Key::Proto),
                proto_name(ip[6]),
            ));
            let a = |o: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&ip[o..o + 16]);
                Ipv6Addr::from(b).to_string()
            };
            (ip[6], a(8), a(24))
        }
        _ => return s,
    };
    let _ = writeln!(s, "  {:<17}: {src}", l(Key::Source));
    let _ = writeln!(s, "  {:<17}: {dst}", l(Key::Destination));
    let t = &ip[ip_len..];
    match proto {
        6 if proto_len >= 20 && t.len() >= 20 => {
            let b16 = |a: usize| u16::from_be_bytes([t[a], t[a + 1]]);
            let b32 = |a: usize| u32::from_be_bytes([t[a], t[a + 1], t[a + 2], t[a + 3]]);
            let _ = writeln!(s, "\n TCP");
            s.push_str(&pair(
                l(Key::SourcePort),
                &format!("{:<5} ()", b16(0)),
                l(Key::DestinationPort),
                &b16(2).to_string(),
            ));
            s.push_str(&pair(
                l(Key::SeqNumber),
                &b32(4).to_string(),
                l(Key::AckNumber),
                &b32(8).to_string(),
            ));
            s.push_str(&pair(
                l(Key::HeaderLength),
                &proto_len.to_string(),
                l(Key::Flags),
                &tcp_flags(t[13]),
            ));
            let _ = writeln!(
                s,
                "  {:<17}: {:<16} {}: {:04X} FFFF {}: {:04X}",
                l(Key::WindowSize),
                b16(14),
                l(Key::CheckSum),
                b16(16),
                l(Key::UrgentPointer),
                b16(18)
            );
        }
        17 if t.len() >= 8 => {
            let b16 = |a: usize| u16::from_be_bytes([t[a], t[a + 1]]);
            let _ = writeln!(s, "\n UDP");
            s.push_str(&pair(
                l(Key::SourcePort),
                &format!("{:<5} ()", b16(0)),
                l(Key::DestinationPort),
                &b16(2).to_string(),
            ));
            s.push_str(&pair(
                l(Key::DatagramLength),
                &b16(4).to_string(),
                l(Key::CheckSum),
                &format!("{:04X} FFFF", b16(6)),
            ));
        }
        _ => {}
    }
    s
}

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "ICMP",
        6 => "TCP",
        17 => "UDP",
        58 => "ICMPv6",
        _ => "Other",
    }
}

fn tcp_flags(f: u8) -> String {
    let names = [
        (0x20, "Urg"),
        (0x10, "Ack"),
        (0x08, "Psh"),
        (0x04, "Rst"),
        (0x02, "Syn"),
        (0x01, "Fin"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join(" ")
}

/// A heading and its hex dump: offset, words of 4 bytes, and with
/// `translate` the EBCDIC and ASCII translations between bars (the
/// formatter's BOTH default).
fn dump(s: &mut String, heading: &str, bytes: &[u8], per_line: usize, translate: bool) {
    let _ = writeln!(s, " {heading}");
    for (i, chunk) in bytes.chunks(per_line).enumerate() {
        let mut line = format!(" {:06X}", i * per_line);
        for word in chunk.chunks(4) {
            line.push(' ');
            for b in word {
                let _ = write!(line, "{b:02X}");
            }
        }
        if translate {
            let width = 6 + 1 + per_line / 4 * 9;
            while line.len() < width {
                line.push(' ');
            }
            line.push_str(" |");
            line.extend(chunk.iter().map(|&b| printable(ctrace::ebcdic::to_char(b))));
            line.push(' ');
            line.extend(chunk.iter().map(|&b| printable(char::from(b))));
            line.push('|');
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
}

fn printable(c: char) -> char {
    if c.is_ascii_graphic() || c == ' ' {
        c
    } else {
        '.'
    }
}

/// The IP packet in an Ethernet frame (VLAN tags skipped), if it has one.
pub fn ip_of_ethernet(f: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    loop {
        let t = u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]);
        match t {
            0x8100 | 0x88A8 => at += 4,
            0x0800 | 0x86DD => return f.get(at + 2..),
            _ => return None,
        }
    }
}

/// The source address of an IP packet.
pub fn source(ip: &[u8]) -> Option<IpAddr> {
    match ip.first()? >> 4 {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?)),
        6 => Some(IpAddr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?)),
        _ => None,
    }
}

/// A whole report of `packets` (capture time in Unix µs, IP packet): the
/// "z/OS host" is `local` (default: the first packet's source), whose
/// packets are outbound; the record line's time is the Tod Clock + 13 µs
/// (as in the SHARE 2010 report); `abbrev` traces at most that many bytes
/// of each packet (PKTTRACE ABBREV).
pub fn report(
    style: Style,
    packets: &[(i64, &[u8])],
    local: Option<IpAddr>,
    abbrev: Option<usize>,
) -> String {
    let local = local.or_else(|| packets.first().and_then(|p| source(p.1)));
    let first = packets.first().map_or(0, |p| p.0);
    let mut out = heading(style, "ANALYST", "MVS1", first);
    const DAY: i64 = 86_400_000_000;
    let mut day = (first + 13).div_euclid(DAY);
    for (i, &(us, ip)) in packets.iter().enumerate() {
        let stamp = us + 13;
        if stamp.div_euclid(DAY) != day {
            day = stamp.div_euclid(DAY);
            out.push_str(&date_line(stamp));
        }
        let traced = &ip[..abbrev.map_or(ip.len(), |n| n.min(ip.len()))];
        let direction = if source(ip) == local {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let input = Input {
            number: i as u64 + 1,
            sysname: "MVS1",
            stamp_us: stamp,
            tod_us: us,
            direction,
            interface: "OSAQDIO1",
            device: "QDIO Ethernet",
            ifindex: Some(5),
            seq: 0,
            ip: traced,
            original_len: ip.len() as u32,
            asid: 0x001E,
            tcb: 0,
        };
        out.push_str(&record(style, &input));
    }
    out
}
