//! What a TCP payload starts with, for the full-proxy stage: an HTTP
//! request line, an HTTP status line, or a TLS record header.  Only the
//! first bytes of packets that start a message are looked at; the proxy
//! stage pairs messages, never whole streams.

use crate::table::MsgKind;
use capture::Link;
use etherparse::{LaxIpSlice, TcpHeaderSlice};

/// HTTP/1.x request methods (RFC 9110 §9 and WebDAV's common ones).
const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
    b"PROPFIND ",
];

/// The TCP payload of a frame's innermost IP packet — inside any tunnel
/// the keys opened (a remote capture's ERSPAN or VXLAN: the outer headers
/// are the collector's, the payload is the inner packet's) — bounded by the
/// IP length fields, so Ethernet padding is not payload.
pub fn tcp_payload(link: Link, data: &[u8]) -> Option<&[u8]> {
    let (ip, _) = capture::inner_ip(link, data)?;
    let (ip, _) = LaxIpSlice::from_slice(ip).ok()?;
    let p = ip.payload();
    if p.ip_number.0 != 6 || p.fragmented {
        return None;
    }
    let seg = p.payload;
    let tcp = TcpHeaderSlice::from_slice(seg).ok()?;
    seg.get(tcp.slice().len()..)
}

/// A stable hash of a request line (capture's byte hasher: the same in
/// every run, so two indexes of the same captures agree).
fn line_hash(bytes: &[u8]) -> u64 {
    let mut h = capture::hash::Hasher::new(0x9E37_79B9_7F4A_7C15);
    h.bytes(bytes);
    h.finish()
}

/// The message a payload starts, if any: (kind, value).
pub fn sniff(link: Link, data: &[u8]) -> Option<(MsgKind, u64)> {
    classify(tcp_payload(link, data)?)
}

/// Bits of an HTTP request's value that hold its request-line hash.
const LINE_BITS: u32 = 38;
/// Above them in a request, 8 bits hold the X-Forwarded-For fingerprint.
const XFF_BITS: u32 = 8;
/// Bits of an HTTP response's value that hold its status code.
const STATUS_BITS: u32 = 10;
/// Above those, 16 bits hold the header block's length.
const HEADER_LEN_MAX: usize = 0xFFFF;

/// What a message's value says.  HTTP: the request-line hash or the
/// status code (what a proxy leaves alone), and the length of the header
/// block up to and including its empty line when it ends in the first
/// packet (0: not seen; the body then cannot be placed); a request also
/// the fingerprint of the client address a proxy put in X-Forwarded-For.
/// TLS: the record's content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgValue {
    pub key: u64,
    pub header_len: u32,
    /// [`address_fingerprint`] of the last address of the last
    /// X-Forwarded-For header in the first packet; 0 without one.
    pub forwarded_for: u8,
}

impl MsgValue {
    pub fn of(kind: MsgKind, value: u64) -> MsgValue {
        let len_at = |bits: u32| (value >> bits) as u32 & HEADER_LEN_MAX as u32;
        match kind {
            MsgKind::HttpRequest => MsgValue {
                key: value & ((1 << LINE_BITS) - 1),
                forwarded_for: (value >> LINE_BITS) as u8,
                header_len: len_at(LINE_BITS + XFF_BITS),
            },
            MsgKind::HttpResponse => MsgValue {
                key: value & ((1 << STATUS_BITS) - 1),
                forwarded_for: 0,
                header_len: len_at(STATUS_BITS),
            },
            MsgKind::Tls => MsgValue {
                key: value,
                header_len: 0,
                forwarded_for: 0,
            },
        }
    }
}

/// The header block's end (past its empty line) if it ends in `p`
/// (RFC 9112 §2.1: the message's header section ends with an empty line).
fn header_end(p: &[u8]) -> Option<usize> {
    p.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .filter(|&n| n <= HEADER_LEN_MAX)
}

/// 8 bits of an address (IPv4 as IPv4-mapped IPv6), never 0: enough to
/// tell most clients apart, in the room a message has.
pub fn address_fingerprint(addr: &[u8; 16]) -> u8 {
    let mut h = capture::hash::Hasher::new(0x5846_465F_4144_4452);
    h.bytes(addr);
    (h.finish() % 255) as u8 + 1
}

/// The client address a proxy forwarded in X-Forwarded-For: the last
/// address of the last such header of the header block (a proxy appends
/// the address of its peer: haproxy adds a header line of its own, nginx
/// extends the list; RFC 7239 §5.2 says the same of Forwarded).  `end`:
/// the header block's end if it is in `p`; else only whole lines count (a
/// line cut at the packet's end may hold a shorter, valid address).
fn forwarded_for(p: &[u8], end: Option<usize>) -> Option<[u8; 16]> {
    let head = match end {
        Some(e) => &p[..e],
        None => {
            let p = &p[..p.len().min(HEADER_LEN_MAX)];
            &p[..p.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)]
        }
    };
    let name = b"x-forwarded-for:";
    let line = head
        .split(|&b| b == b'\n')
        .rfind(|l| l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name))?;
    let last = line[name.len()..].rsplit(|&b| b == b',').next()?;
    let text = std::str::from_utf8(last).ok()?.trim();
    match text.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some(a.to_ipv6_mapped().octets()),
        std::net::IpAddr::V6(a) => Some(a.octets()),
    }
}

/// [`sniff`] on the payload itself.  Only the payloads that start an HTTP
/// message are searched for their header block's end (every TCP payload
/// comes through here).
pub fn classify(p: &[u8]) -> Option<(MsgKind, u64)> {
    if p.len() >= 5 && (0x14..=0x17).contains(&p[0]) && p[1] == 3 && p[2] <= 4 {
        return Some((MsgKind::Tls, u64::from(p[0])));
    }
    if METHODS.iter().any(|m| p.starts_with(m)) {
        // The request line up to CR LF (or what the capture has of it):
        // what a proxy forwards unchanged.
        let end = p.windows(2).position(|w| w == b"\r\n").unwrap_or(p.len());
        let line = line_hash(&p[..end.min(2048)]) & ((1 << LINE_BITS) - 1);
        let head_end = header_end(p);
        let xff = forwarded_for(p, head_end).map_or(0, |a| address_fingerprint(&a));
        let header_len = head_end.unwrap_or(0) as u64;
        return Some((
            MsgKind::HttpRequest,
            line | u64::from(xff) << LINE_BITS | header_len << (LINE_BITS + XFF_BITS),
        ));
    }
    if p.starts_with(b"HTTP/1.") && p.len() >= 12 {
        let code = std::str::from_utf8(&p[9..12]).ok()?.parse::<u64>().ok()?;
        let header_len = header_end(p).unwrap_or(0) as u64;
        return Some((MsgKind::HttpResponse, code | header_len << STATUS_BITS));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_message_starts() {
        let value = |p: &[u8]| {
            let (k, v) = classify(p).unwrap();
            (k, MsgValue::of(k, v))
        };
        let get = value(b"GET /book/index.asp HTTP/1.1\r\nHost: x\r\n\r\nbody");
        assert_eq!(get.0, MsgKind::HttpRequest);
        assert_eq!(get.1.header_len, 41);
        // The hash covers the request line only: headers may differ after a proxy.
        let get2 = value(b"GET /book/index.asp HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n");
        assert_eq!(get.1.key, get2.1.key);
        assert_eq!(get2.1.header_len, 0);
        assert_ne!(get.1.key, value(b"GET /book/other.asp HTTP/1.1\r\n").1.key);
        let not_found = value(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(not_found.0, MsgKind::HttpResponse);
        assert_eq!(
            not_found.1,
            MsgValue {
                key: 404,
                header_len: 45,
                forwarded_for: 0
            }
        );
        // X-Forwarded-For: the last address of the last header, the one
        // the nearest proxy added; the request line's hash unchanged.
        let fp = |a: &str| {
            let a: std::net::IpAddr = a.parse().unwrap();
            address_fingerprint(&match a {
                std::net::IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
                std::net::IpAddr::V6(v) => v.octets(),
            })
        };
        let fwd = value(
            b"GET /book/index.asp HTTP/1.1\r\nX-Forwarded-For: 10.1.1.1, 203.0.113.9\r\nx-forwarded-for:198.51.100.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(fwd.1.key, get.1.key);
        assert_eq!(fwd.1.forwarded_for, fp("198.51.100.1"));
        let list = value(b"GET / HTTP/1.1\r\nX-Forwarded-For: 10.1.1.1, 203.0.113.9\r\n\r\n");
        assert_eq!(list.1.forwarded_for, fp("203.0.113.9"));
        let v6 = value(b"GET / HTTP/1.1\r\nX-Forwarded-For: 2001:db8::7\r\n\r\n");
        assert_eq!(v6.1.forwarded_for, fp("2001:db8::7"));
        let junk = value(b"GET / HTTP/1.1\r\nX-Forwarded-For: unknown\r\n\r\n");
        assert_eq!(junk.1.forwarded_for, 0);
        // Only in the header block.
        let body = value(b"POST / HTTP/1.1\r\n\r\nX-Forwarded-For: 10.1.1.1\r\n");
        assert_eq!(body.1.forwarded_for, 0);
        // A header block cut by the packet's end: its last, cut line
        // (10.0.0.12 seen as 10.0.0.1) does not count; whole lines do.
        let cut =
            value(b"GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.12\r\nX-Forwarded-For: 10.0.0.1");
        assert_eq!(cut.1.forwarded_for, fp("10.0.0.12"));
        assert_eq!(cut.1.header_len, 0);
        assert!((1..=255).contains(&fp("0.0.0.0")));
        assert_eq!(
            classify(&[0x17, 3, 3, 0, 40, 1, 2]),
            Some((MsgKind::Tls, 23))
        );
        assert_eq!(classify(b"random bytes"), None);
        assert_eq!(classify(b"HTTP/1.1 2"), None);
    }

    /// The full-proxy stage reads a remote capture's payload inside its
    /// tunnel (it used to read the outer headers: 0 % of the transactions
    /// across the proxy with ERSPAN or VXLAN at a point).
    #[test]
    fn message_starts_inside_tunnels() {
        let mut ip = Vec::new();
        etherparse::PacketBuilder::ipv4([192, 0, 2, 10], [192, 0, 2, 70], 64)
            .tcp(40000, 8080, 1000, 64240)
            .ack(1)
            .write(
                &mut ip,
                b"GET /f/1k.bin?rid=c01r0001 HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            .unwrap();
        let eth = |ether_type: u16, body: &[u8]| {
            let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
            v.extend_from_slice(&ether_type.to_be_bytes());
            v.extend_from_slice(body);
            v
        };
        let bare = sniff(Link::Ethernet, &eth(0x0800, &ip)).unwrap();
        assert_eq!(bare.0, MsgKind::HttpRequest);
        let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 0x64, 0];
        vxlan.extend_from_slice(&eth(0x0800, &ip));
        let mut outer = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(49152, 4789)
            .write(&mut outer, &vxlan)
            .unwrap();
        assert_eq!(sniff(Link::Ethernet, &eth(0x0800, &outer)), Some(bare));
        let mut erspan = vec![0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1];
        erspan.extend_from_slice(&[0x20, 0x64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        erspan.extend_from_slice(&eth(0x0800, &ip));
        let mut gre = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .write(&mut gre, etherparse::IpNumber(47), &erspan)
            .unwrap();
        assert_eq!(sniff(Link::Ethernet, &eth(0x0800, &gre)), Some(bare));
        // Key extraction finds the same payload on its way (the reading
        // stage takes it from there instead of parsing the frame again).
        for frame in [eth(0x0800, &ip), eth(0x0800, &outer), eth(0x0800, &gre)] {
            let k = capture::extract_frame(Link::Ethernet, &frame).unwrap();
            assert_eq!(k.tcp_payload, tcp_payload(Link::Ethernet, &frame));
            assert!(k.tcp_payload.is_some());
        }
    }

    /// The TCP payload that key extraction finds is the one a second parse
    /// of the frame finds ([`tcp_payload`]), for every frame of the
    /// example session's real captures, whole and cut off at every length
    /// up to its first 120 bytes (lax headers, lengths beyond the bytes).
    #[test]
    fn extraction_finds_the_same_payload() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/session-small");
        let (mut frames, mut with_payload) = (0, 0);
        for point in ["client", "wan", "lbserver", "dc"] {
            let mut cap = capture::open(dir.join(format!("{point}.pcapng"))).unwrap();
            while let Some(p) = cap.next_packet().unwrap() {
                let cuts = (0..p.data.len().min(120)).chain([p.data.len()]);
                for n in cuts {
                    let data = &p.data[..n];
                    let Some(k) = capture::extract_frame(p.link, data) else {
                        continue;
                    };
                    assert_eq!(
                        k.tcp_payload,
                        tcp_payload(p.link, data),
                        "{point} frame {} cut at {n}",
                        p.frame
                    );
                    frames += 1;
                    with_payload += usize::from(k.tcp_payload.is_some_and(|t| !t.is_empty()));
                }
            }
        }
        assert!(
            frames > 50_000 && with_payload > 20_000,
            "{frames} {with_payload}"
        );
    }
}
