//! Packets built with etherparse's PacketBuilder (raw IP link), described.

use super::*;
use etherparse::PacketBuilder;

const C: [u8; 4] = [192, 0, 2, 10];
const S: [u8; 4] = [203, 0, 113, 80];

fn tcp(from_client: bool, seq: u32, flags: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (C, S, 40000, 80)
    } else {
        (S, C, 80, 40000)
    };
    let mut b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, seq, 64240);
    if flags.contains('S') {
        b = b.syn();
    }
    if flags.contains('A') {
        b = b.ack(1);
    }
    if flags.contains('F') {
        b = b.fin();
    }
    if flags.contains('R') {
        b = b.rst();
    }
    if flags.contains('P') {
        b = b.psh();
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .udp(sp, dp)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn labels(d: &mut Describer, frames: &[Vec<u8>]) -> Vec<(Dir, String, Option<u16>)> {
    let described: Vec<Frame> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| d.describe(i as i64, Link::Raw, f))
        .collect();
    described
        .iter()
        .map(|f| (f.dir, d.label(f), f.client_port))
        .collect()
}

#[test]
fn handshake_request_and_a_response_in_parts() {
    let mut d = Describer::new();
    let get = b"GET /book/index.asp HTTP/1.1\r\nHost: shop.example.test\r\n\r\n";
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n";
    let frames = vec![
        tcp(true, 1000, "S", b""),
        tcp(false, 5000, "SA", b""),
        tcp(true, 1001, "A", b""),
        tcp(true, 1001, "PA", get),
        tcp(false, 5001, "A", ok),
        tcp(false, 5001 + ok.len() as u32, "A", &[0x55; 1000]),
        tcp(true, 1001 + get.len() as u32, "A", b""),
        tcp(false, 5001 + ok.len() as u32 + 1000, "PA", &[0x55; 500]),
        // the second part again: a retransmission
        tcp(false, 5001 + ok.len() as u32, "A", &[0x55; 1000]),
        tcp(true, 1001 + get.len() as u32, "FA", b""),
        tcp(false, 7, "R", b""),
    ];
    let got = labels(&mut d, &frames);
    let want: Vec<(Dir, &str)> = vec![
        (Dir::ToServer, "[SYN]"),
        (Dir::ToClient, "[SYN, ACK]"),
        (Dir::ToServer, "[ACK]"),
        (Dir::ToServer, "GET /book/index.asp"),
        (Dir::ToClient, "200 OK – first of 3"),
        (Dir::ToClient, "200 OK – 2 of 3"),
        (Dir::ToServer, "[ACK]"),
        (Dir::ToClient, "200 OK – last of 3"),
        (Dir::ToClient, "200 OK (retransmission)"),
        (Dir::ToServer, "[FIN, ACK]"),
        (Dir::ToClient, "[RST]"),
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1.as_str()), *w);
        assert_eq!(g.2, Some(40000), "client port as seen: {g:?}");
    }
}

#[test]
fn client_from_syn_even_on_high_server_port() {
    // Server on 50000, client on 80: only the SYN can tell.
    let mut d = Describer::new();
    let mut syn = Vec::new();
    PacketBuilder::ipv4(C, S, 64)
        .tcp(80, 50000, 1, 1000)
        .syn()
        .write(&mut syn, b"")
        .unwrap();
    let mut back = Vec::new();
    PacketBuilder::ipv4(S, C, 64)
        .tcp(50000, 80, 9, 1000)
        .ack(2)
        .write(&mut back, b"x")
        .unwrap();
    let got = labels(&mut d, &[syn, back]);
    assert_eq!(got[0].0, Dir::ToServer);
    assert_eq!(got[1].0, Dir::ToClient);
    assert_eq!(got[1].2, Some(80));
    assert_eq!(got[1].1, "TCP data, 1 bytes");
}

#[test]
fn dns_query_and_response() {
    use simple_dns::{Name, Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};
    let mut q = Packet::new_query(0x1234);
    q.questions.push(Question::new(
        Name::new("shop.example.test").unwrap(),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let query = q.build_bytes_vec().unwrap();
    let mut r = Packet::new_reply(0x1234);
    r.questions.push(Question::new(
        Name::new("shop.example.test").unwrap(),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    r.answers.push(ResourceRecord::new(
        Name::new("shop.example.test").unwrap(),
        CLASS::IN,
        60,
        simple_dns::rdata::RData::A(simple_dns::rdata::A {
            address: 0xCB00_7150,
        }),
    ));
    let response = r.build_bytes_vec().unwrap();
    let mut d = Describer::new();
    let got = labels(
        &mut d,
        &[
            udp(C, S, 51000, 53, &query),
            udp(S, C, 53, 51000, &response),
            udp(C, S, 51000, 53, b"\x00garbage"),
            udp(C, S, 51000, 9999, b"hello"),
        ],
    );
    assert_eq!(
        got[0],
        (
            Dir::ToServer,
            "DNS query A shop.example.test".into(),
            Some(51000)
        )
    );
    assert_eq!(
        got[1],
        (
            Dir::ToClient,
            "DNS response A shop.example.test, 1 answer".into(),
            Some(51000)
        )
    );
    assert_eq!(got[2].1, "DNS (not decoded)");
    assert_eq!(got[3].1, "UDP, 5 bytes");
}

#[test]
fn tls_records() {
    let mut d = Describer::new();
    // ClientHello record header + handshake type 1 (body cut short: the
    // record goes on in the next packet).
    let hello = [22, 3, 1, 0x02, 0x00, 1, 0, 1, 0xFC, 3, 3];
    // ServerHello (complete, 4 bytes), ChangeCipherSpec, then a handshake
    // record after it: encrypted.
    let server = [
        22, 3, 3, 0, 4, 2, 0, 0, 0, 20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 2, 0xAB, 0xCD,
    ];
    let mut app = vec![23, 3, 3, 0x40, 0x00];
    app.extend_from_slice(&[0x77; 100]);
    let got = labels(
        &mut d,
        &[
            tcp(true, 1, "PA", &hello),
            tcp(false, 1, "PA", &server),
            tcp(true, 1 + hello.len() as u32, "PA", &app),
            tcp(
                true,
                1 + (hello.len() + app.len()) as u32,
                "A",
                &[0x77; 200],
            ),
        ],
    );
    assert_eq!(got[0].1, "TLS Client Hello");
    assert_eq!(
        got[1].1,
        "TLS Server Hello, Change Cipher Spec, Encrypted Handshake Message"
    );
    assert_eq!(got[2].1, "TLS Application Data – first of 2");
    assert_eq!(got[3].1, "TLS Application Data – last of 2");
}

#[test]
fn icmp_other_links_and_damage() {
    let mut d = Describer::new();
    let mut echo = Vec::new();
    PacketBuilder::ipv4(C, S, 64)
        .icmpv4_echo_request(7, 3)
        .write(&mut echo, b"ping")
        .unwrap();
    let f = d.describe(0, Link::Raw, &echo);
    assert_eq!(
        (f.dir, f.what.as_str()),
        (Dir::ToServer, "ICMP echo request id=7 seq=3")
    );
    // Ethernet with an ARP ether type: not IP.
    let mut arp = vec![0xFF; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(d.describe(0, Link::Ethernet, &arp).what, "not IP");
    // An IPv4 header cut after 3 bytes, an empty frame, a link not decoded.
    assert_eq!(
        d.describe(0, Link::Raw, &echo[..3]).what,
        "IP (damaged header)"
    );
    assert_eq!(d.describe(0, Link::Raw, &[]).what, "not IP");
    assert_eq!(d.describe(0, Link::Other(147), &echo).what, "not IP");
    // TCP cut inside its header: IP is known, the transport is not.
    let syn = tcp(true, 1, "S", b"");
    assert_eq!(d.describe(0, Link::Raw, &syn[..30]).what, "IP protocol 6");
}

#[test]
fn packet_text_is_cleaned() {
    let mut d = Describer::new();
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(200));
    let f = d.describe(0, Link::Raw, &tcp(true, 1, "PA", long.as_bytes()));
    assert_eq!(f.what.chars().count(), 81);
    assert!(f.what.ends_with('…'));
    assert_eq!(clean("a\u{1b}[31mb"), "a\u{FFFD}[31mb");
    assert_eq!(
        tcp_flags(true, false, false, true, true, false),
        "[FIN, PSH, ACK]"
    );
    assert_eq!(
        tcp_flags(false, false, false, false, false, false),
        "[<none>]"
    );
}

/// UDP without service ports: the flow's first sender is the client, for
/// the whole flow (the higher port alone made a client on a lower port
/// send "←" packets, and the plot negative delays); DNS by its port, even
/// when the response comes first.
#[test]
fn udp_direction_by_port_roles_then_first_sender() {
    let mut d = Describer::new();
    let rows = labels(
        &mut d,
        &[
            udp(C, S, 40000, 51000, b"hello"),
            udp(S, C, 51000, 40000, b"hello back"),
            udp(S, C, 53, 41000, &[0; 12]),
            udp(C, S, 41000, 53, &[0; 12]),
        ],
    );
    let dirs: Vec<(Dir, Option<u16>)> = rows.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        dirs,
        [
            (Dir::ToServer, Some(40000)),
            (Dir::ToClient, Some(40000)),
            (Dir::ToClient, Some(41000)),
            (Dir::ToServer, Some(41000)),
        ]
    );
}
