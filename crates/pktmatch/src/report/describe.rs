//! What a packet is, in the words of the seed's packet flow summary:
//! `[SYN]`, `[SYN, ACK]`, `GET /book/index.asp`, `200 OK`, `DNS query A
//! shop.example.test`, `TLS Client Hello` — with its direction (client to
//! server or back) and the client's port as seen at that point.
//!
//! One [`Describer`] reads one capture in file order, because some answers
//! need what came before: who sent the SYN (the client), which packets
//! continue an HTTP message or TLS record started earlier (counted so the
//! report can say `200 OK – 3 of 20`), which data was seen before
//! (retransmissions).  Headers are parsed with etherparse, HTTP start lines
//! with httparse, DNS with simple-dns; only TLS record headers (5 bytes: type,
//! version, length) are read here.

use std::collections::HashMap;
use std::net::IpAddr;

use capture::Link;
use etherparse::{Icmpv4Type, Icmpv6Type, LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// Which way a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
    Unknown,
}

impl Dir {
    /// `→` client to server, `←` back, empty when unknown.
    pub fn arrow(self) -> &'static str {
        match self {
            Dir::ToServer => "→",
            Dir::ToClient => "←",
            Dir::Unknown => "",
        }
    }
}

/// One frame, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub ts_ns: i64,
    pub dir: Dir,
    /// The client's TCP/UDP port at this point.
    pub client_port: Option<u16>,
    /// What it is (for a part of a message: the message's label; the
    /// report's text is [`Describer::label`]).
    pub what: String,
    /// (message id, part number from 1) when it carries part of an HTTP
    /// message or TLS record run spread over several packets.
    pub message: Option<(u32, u32)>,
    /// Flags worth showing besides the content: ` [FIN, ACK]`, ` [RST]`.
    pub suffix: String,
}

/// Longest text taken from a packet into a label (a URL, a DNS name).
const TEXT_MAX: usize = 80;

/// Text from a packet made safe to show: control characters replaced,
/// cut at [`TEXT_MAX`] characters.  (HTML and CSV escaping come later.)
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(TEXT_MAX + 3));
    for (n, c) in s.chars().enumerate() {
        if n == TEXT_MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

/// TCP flags in Wireshark's order: `[SYN, ACK]`.
pub fn tcp_flags(fin: bool, syn: bool, rst: bool, psh: bool, ack: bool, urg: bool) -> String {
    let names: Vec<&str> = [
        (fin, "FIN"),
        (syn, "SYN"),
        (rst, "RST"),
        (psh, "PSH"),
        (ack, "ACK"),
        (urg, "URG"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() {
        "[<none>]".into()
    } else {
        format!("[{}]", names.join(", "))
    }
}

type Endpoint = (IpAddr, u16);

/// A connection, endpoints in canonical order (lower first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ConnKey {
    lo: Endpoint,
    hi: Endpoint,
    proto: u8,
}

#[derive(Clone, Debug, Default)]
struct Stream {
    /// The message that data in this direction continues.
    message: Option<u32>,
    /// The sequence number after the highest data seen (retransmissions
    /// end at or before it).
    high_end: Option<u32>,
    /// A ChangeCipherSpec went this way: later handshake records are
    /// encrypted.
    tls_encrypted: bool,
}

#[derive(Clone, Debug, Default)]
struct Conn {
    /// The client, once a SYN said it.
    client: Option<Endpoint>,
    /// lo → hi, hi → lo.
    streams: [Stream; 2],
}

/// An HTTP message or TLS record run spread over several packets.
#[derive(Clone, Debug)]
struct Message {
    label: String,
    parts: u32,
}

/// Describes the frames of one capture, in file order.
#[derive(Debug, Default)]
pub struct Describer {
    conns: HashMap<ConnKey, Conn>,
    /// Indexed by message id.
    messages: Vec<Message>,
}

/// The client of a TCP connection with no SYN seen: the endpoint that is
/// not on a service port (capture::keys::client_by_ports, the matcher's
/// rule too), else the higher port (ephemeral ports are high).
fn guess_client(a: Endpoint, b: Endpoint) -> Endpoint {
    match capture::keys::client_by_ports(a.1, b.1) {
        Some(true) => a,
        Some(false) => b,
        None if a.1 >= b.1 => a,
        None => b,
    }
}

/// True when sequence number `a` is after `b` (mod 2^32).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

fn http_label(payload: &[u8]) -> Option<String> {
    // 32 headers cover ordinary requests; more only stops the parse after
    // the start line, which is all we use.
    let mut headers = [httparse::EMPTY_HEADER; 32];
    if payload.starts_with(b"HTTP/") {
        let mut r = httparse::Response::new(&mut headers);
        let _ = r.parse(payload);
        let code = r.code?;
        return Some(clean(
            format!("{code} {}", r.reason.unwrap_or("")).trim_end(),
        ));
    }
    let mut r = httparse::Request::new(&mut headers);
    let _ = r.parse(payload);
    match (r.method, r.path, r.version) {
        (Some(m), Some(p), Some(_)) => Some(clean(&format!("{m} {p}"))),
        _ => None,
    }
}

fn tls_content(t: u8) -> Option<&'static str> {
    Some(match t {
        20 => "Change Cipher Spec",
        21 => "Alert",
        22 => "Handshake",
        23 => "Application Data",
        24 => "Heartbeat",
        _ => return None,
    })
}

fn tls_handshake(t: u8) -> &'static str {
    match t {
        0 => "Hello Request",
        1 => "Client Hello",
        2 => "Server Hello",
        4 => "New Session Ticket",
        8 => "Encrypted Extensions",
        11 => "Certificate",
        12 => "Server Key Exchange",
        13 => "Certificate Request",
        14 => "Server Hello Done",
        15 => "Certificate Verify",
        16 => "Client Key Exchange",
        20 => "Finished",
        _ => "Handshake",
    }
}

/// The TLS records starting at the payload's first byte: `TLS Server Hello,
/// Certificate`; None when the payload does not start with a record
/// header.  Sets `encrypted` after a ChangeCipherSpec.
fn tls_label(payload: &[u8], encrypted: &mut bool) -> Option<String> {
    let looks_like_record =
        |b: &[u8]| b.len() >= 5 && tls_content(b[0]).is_some() && b[1] == 3 && b[2] <= 4;
    if !looks_like_record(payload) {
        return None;
    }
    let mut names: Vec<&'static str> = Vec::new();
    let mut rest = payload;
    while looks_like_record(rest) {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let name = match rest[0] {
            22 if *encrypted => "Encrypted Handshake Message",
            22 => rest.get(5).map_or("Handshake", |t| tls_handshake(*t)),
            20 => {
                *encrypted = true;
                "Change Cipher Spec"
            }
            t => tls_content(t).unwrap_or("record"),
        };
        if names.last() != Some(&name) {
            names.push(name);
        }
        if rest.len() < 5 + len {
            break; // the record goes on in the next packet
        }
        rest = &rest[5 + len..];
    }
    Some(format!("TLS {}", names.join(", ")))
}

fn dns_label(payload: &[u8]) -> String {
    use simple_dns::{Packet, PacketFlag, QTYPE, RCODE, TYPE};
    let Ok(p) = Packet::parse(payload) else {
        return "DNS (not decoded)".into();
    };
    let response = p.has_flags(PacketFlag::RESPONSE);
    let mut s = String::from(if response {
        "DNS response"
    } else {
        "DNS query"
    });
    if let Some(q) = p.questions.first() {
        let qtype = match q.qtype {
            QTYPE::TYPE(TYPE::Unknown(n)) => format!("TYPE{n}"),
            QTYPE::TYPE(t) => format!("{t:?}"),
            other => format!("{other:?}"),
        };
        s.push_str(&format!(" {qtype} {}", clean(&q.qname.to_string())));
    }
    if response {
        match p.rcode() {
            RCODE::NoError => {
                let n = p.answers.len();
                s.push_str(&format!(", {n} answer{}", if n == 1 { "" } else { "s" }));
            }
            RCODE::NameError => s.push_str(", no such name"),
            other => s.push_str(&format!(", {other:?}")),
        }
    }
    s
}

impl Describer {
    pub fn new() -> Describer {
        Describer::default()
    }

    /// How many parts message `id` had (final once the capture is read).
    pub fn parts(&self, id: u32) -> u32 {
        self.messages.get(id as usize).map_or(1, |m| m.parts)
    }

    /// The final label of a described frame: `200 OK – first of 20`.
    pub fn label(&self, f: &Frame) -> String {
        let mut s = f.what.clone();
        if let Some((id, part)) = f.message {
            let Some(m) = self.messages.get(id as usize) else {
                return s;
            };
            s.clone_from(&m.label);
            let n = m.parts;
            if n > 1 {
                let which = if part == 1 {
                    "first".to_owned()
                } else if part == n {
                    "last".to_owned()
                } else {
                    part.to_string()
                };
                s.push_str(&format!(" – {which} of {n}"));
            }
        }
        s.push_str(&f.suffix);
        s
    }

    /// Describes the next frame of the capture.
    pub fn describe(&mut self, ts_ns: i64, link: Link, data: &[u8]) -> Frame {
        let mut f = Frame {
            ts_ns,
            dir: Dir::Unknown,
            client_port: None,
            what: String::new(),
            message: None,
            suffix: String::new(),
        };
        // The packet inside any tunnel (ERSPAN, VXLAN…): what the keys
        // matched and what the other points see.
        let Some((ip, _)) = capture::inner_ip(link, data) else {
            f.what = match link {
                Link::Ctrace(_) => "CTRACE record".into(),
                _ => "not IP".into(),
            };
            return f;
        };
        let Ok(pkt) = LaxSlicedPacket::from_ip(ip) else {
            f.what = "IP (damaged header)".into();
            return f;
        };
        let (src, dst, proto, fragmented) = match &pkt.net {
            Some(LaxNetSlice::Ipv4(v4)) => (
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
                v4.payload().ip_number.0,
                v4.payload().fragmented,
            ),
            Some(LaxNetSlice::Ipv6(v6)) => (
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
                v6.payload().ip_number.0,
                v6.payload().fragmented,
            ),
            _ => {
                f.what = "not IP".into();
                return f;
            }
        };
        match &pkt.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                let (s, d) = ((src, tcp.source_port()), (dst, tcp.destination_port()));
                self.tcp(&mut f, s, d, tcp);
            }
            Some(TransportSlice::Udp(udp)) => {
                let (s, d) = ((src, udp.source_port()), (dst, udp.destination_port()));
                // The endpoint not on a service port, else the one that
                // sent first (the matcher's rule): for the whole flow.
                let key = ConnKey {
                    lo: s.min(d),
                    hi: s.max(d),
                    proto: 17,
                };
                let conn = self.conns.entry(key).or_default();
                let client =
                    *conn.client.get_or_insert_with(|| {
                        match capture::keys::client_by_ports(s.1, d.1) {
                            Some(false) => d,
                            _ => s,
                        }
                    });
                f.client_port = Some(client.1);
                f.dir = if client == s {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                let payload = udp.payload();
                f.what = if [s.1, d.1].iter().any(|p| *p == 53 || *p == 5353) {
                    dns_label(payload)
                } else {
                    format!("UDP, {} bytes", payload.len())
                };
            }
            Some(TransportSlice::Icmpv4(icmp)) => {
                (f.dir, f.what) = match icmp.icmp_type() {
                    Icmpv4Type::EchoRequest(e) => (
                        Dir::ToServer,
                        format!("ICMP echo request id={} seq={}", e.id, e.seq),
                    ),
                    Icmpv4Type::EchoReply(e) => (
                        Dir::ToClient,
                        format!("ICMP echo reply id={} seq={}", e.id, e.seq),
                    ),
                    Icmpv4Type::DestinationUnreachable(_) => {
                        (Dir::Unknown, "ICMP destination unreachable".into())
                    }
                    Icmpv4Type::TimeExceeded(_) => (Dir::Unknown, "ICMP time exceeded".into()),
                    _ => (Dir::Unknown, format!("ICMP type {}", icmp.type_u8())),
                };
            }
            Some(TransportSlice::Icmpv6(icmp)) => {
                (f.dir, f.what) = match icmp.icmp_type() {
                    Icmpv6Type::EchoRequest(e) => (
                        Dir::ToServer,
                        format!("ICMPv6 echo request id={} seq={}", e.id, e.seq),
                    ),
                    Icmpv6Type::EchoReply(e) => (
                        Dir::ToClient,
                        format!("ICMPv6 echo reply id={} seq={}", e.id, e.seq),
                    ),
                    _ => (Dir::Unknown, format!("ICMPv6 type {}", icmp.type_u8())),
                };
            }
            _ if fragmented => f.what = "IP fragment".into(),
            _ => f.what = format!("IP protocol {proto}"),
        }
        f
    }

    fn tcp(&mut self, f: &mut Frame, s: Endpoint, d: Endpoint, tcp: &etherparse::TcpSlice<'_>) {
        let (lo, hi, s_is_lo) = if s <= d { (s, d, true) } else { (d, s, false) };
        let key = ConnKey { lo, hi, proto: 6 };
        let conn = self.conns.entry(key).or_default();
        if tcp.syn() {
            // SYN from the client, SYN-ACK from the server: either says who
            // the client is, for the whole connection.
            conn.client = Some(if tcp.ack() { d } else { s });
        }
        let client = conn.client.unwrap_or_else(|| guess_client(s, d));
        f.client_port = Some(client.1);
        f.dir = if client == s {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let flags = tcp_flags(
            tcp.fin(),
            tcp.syn(),
            tcp.rst(),
            tcp.psh(),
            tcp.ack(),
            tcp.urg(),
        );
        let payload = tcp.payload();
        let stream = &mut conn.streams[usize::from(!s_is_lo)];
        let seq = tcp.sequence_number();
        if tcp.syn() {
            stream.high_end = Some(seq.wrapping_add(1));
            stream.message = None;
        }
        if payload.is_empty() {
            f.what = flags;
            return;
        }
        if tcp.fin() || tcp.rst() || tcp.syn() {
            f.suffix = format!(" {flags}");
        }
        let end = seq.wrapping_add(payload.len() as u32);
        let retransmission = stream.high_end.is_some_and(|h| !seq_after(end, h));
        if !retransmission {
            stream.high_end = Some(end);
        }
        let start = http_label(payload).or_else(|| tls_label(payload, &mut stream.tls_encrypted));
        if retransmission {
            let again = start
                .or_else(|| {
                    let m = self.messages.get(stream.message? as usize)?;
                    Some(m.label.clone())
                })
                .unwrap_or_else(|| format!("TCP data, {} bytes", payload.len()));
            f.what = format!("{again} (retransmission)");
            return;
        }
        match (start, stream.message) {
            (Some(label), _) => {
                // A new message starts here; later data this way continues it.
                let id = self.messages.len() as u32;
                self.messages.push(Message {
                    label: label.clone(),
                    parts: 1,
                });
                stream.message = Some(id);
                f.what = label;
                f.message = Some((id, 1));
            }
            (None, Some(id)) => match self.messages.get_mut(id as usize) {
                Some(m) => {
                    m.parts += 1;
                    f.what.clone_from(&m.label);
                    f.message = Some((id, m.parts));
                }
                None => f.what = format!("TCP data, {} bytes", payload.len()),
            },
            (None, None) => f.what = format!("TCP data, {} bytes", payload.len()),
        }
    }
}

#[cfg(test)]
mod tests;
