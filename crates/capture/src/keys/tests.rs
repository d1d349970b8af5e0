//! Unit tests of key extraction: every link type, VLAN/QinQ, tunnels,
//! fragments, application ids, NAT invariance, cut-off and damaged packets.

use super::*;
use crate::hash::digest32;
use etherparse::{PacketBuilder, TcpOptionElement};

const A: [u8; 4] = [192, 0, 2, 10];
const B: [u8; 4] = [198, 51, 100, 10];
const A6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];
const B6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

/// Sets the IPv4 identification and flags (header checksum not fixed:
/// nothing here checks it).
fn set_id(ip: &mut [u8], id: u16, flags_frag: u16) {
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6..8].copy_from_slice(&flags_frag.to_be_bytes());
}

/// IPv4 TCP, PSH|ACK, with a timestamp option, IP ID 0x1234, DF.
fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, seq: u32, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 502)
        .ack(0x0A0B_0C0D)
        .psh()
        .options(&[
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            TcpOptionElement::Timestamp(777, 555),
        ])
        .unwrap()
        .write(&mut v, data)
        .unwrap();
    set_id(&mut v, 0x1234, 0x4000);
    v
}

fn udp4(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .udp(sport, dport)
        .write(&mut v, data)
        .unwrap();
    set_id(&mut v, 0x4321, 0);
    v
}

fn udp6(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv6(A6, B6, 64)
        .udp(sport, dport)
        .write(&mut v, data)
        .unwrap();
    v
}

fn eth(ether_type: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    v.extend_from_slice(&ether_type.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

fn ether_type(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 {
        0x86DD
    } else {
        0x0800
    }
}

/// The same IP packet in every link layer the crate decodes.
fn framings(ip: &[u8]) -> Vec<(&'static str, Link, Vec<u8>)> {
    let et = ether_type(ip);
    let mut out = vec![
        ("raw", Link::Raw, ip.to_vec()),
        ("ethernet", Link::Ethernet, eth(et, ip)),
    ];
    let mut vlan = vec![0x20, 0x64];
    vlan.extend_from_slice(&et.to_be_bytes());
    vlan.extend_from_slice(ip);
    out.push(("vlan", Link::Ethernet, eth(0x8100, &vlan)));
    let mut qinq = vec![0x00, 0x0A, 0x81, 0x00];
    qinq.extend_from_slice(&vlan);
    out.push(("qinq", Link::Ethernet, eth(0x88A8, &qinq)));
    let mut padded = eth(et, ip);
    padded.resize(padded.len().max(60) + 4, 0xEE);
    out.push(("padded", Link::Ethernet, padded));
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll.extend_from_slice(&et.to_be_bytes());
    sll.extend_from_slice(ip);
    out.push(("sll", Link::LinuxSll, sll));
    let mut sll2 = et.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    sll2.extend_from_slice(ip);
    out.push(("sll2", Link::LinuxSll2, sll2));
    let af: u32 = if et == 0x86DD { 30 } else { 2 };
    for (name, link, bytes) in [
        ("null le", Link::Null, af.to_le_bytes()),
        ("null be", Link::Null, af.to_be_bytes()),
        ("loop", Link::Loop, af.to_be_bytes()),
    ] {
        let mut v = bytes.to_vec();
        v.extend_from_slice(ip);
        out.push((name, link, v));
    }
    out
}

#[test]
fn key_layout_is_compact() {
    assert_eq!(std::mem::size_of::<PacketKey>(), 48);
    assert_eq!(std::mem::size_of::<FlowKey>(), 38);
}

#[test]
fn tcp_fields() {
    let data = payload(100);
    let ip = tcp4(A, B, 40000, 80, 1_000_000, &data);
    let (flow, key) = from_ip(&ip).unwrap();
    assert_eq!(flow.src_ip().to_string(), "192.0.2.10");
    assert_eq!(flow.dst_ip().to_string(), "198.51.100.10");
    assert_eq!(
        (flow.sport, flow.dport, flow.proto, flow.ipv6),
        (40000, 80, 6, false)
    );
    assert_eq!(key.seq, 1_000_000);
    assert_eq!(key.ack, 0x0A0B_0C0D);
    assert_eq!(key.tcp_flags, tcp::PSH | tcp::ACK);
    assert_eq!(key.l4_len, 100);
    assert_eq!(key.tsval(), Some(777));
    assert_eq!(key.ip_id(), Some(0x1234));
    assert!(key.has(flag::DF) && !key.has(flag::FRAGMENT) && !key.is_ipv6());
    assert_eq!(key.ttl, 64);
    assert_eq!(key.proto, 6);
    assert_eq!(key.digest, digest32(&data[..64]));
    assert_eq!(key.app(), App::None);
    assert_eq!(key.seq_end(), 1_000_100);
    assert_eq!(key.conn_hash, flow.conn_hash());
    assert_eq!(key.flow_hash(), flow.flow_hash());
    assert_eq!(
        key.flags & (flag::L4_PARTIAL | flag::PARTIAL_DIGEST | flag::NO_PORTS),
        0
    );
}

#[test]
fn directions_share_the_connection_hash() {
    let (f1, k1) = from_ip(&tcp4(A, B, 40000, 80, 1, b"x")).unwrap();
    let (f2, k2) = from_ip(&tcp4(B, A, 80, 40000, 2, b"y")).unwrap();
    assert_eq!(k1.conn_hash, k2.conn_hash);
    assert_ne!(k1.flow_hash(), k2.flow_hash());
    assert_ne!(k1.has(flag::REVERSE), k2.has(flag::REVERSE));
    assert_eq!(f1.reversed(), f2);
    assert_eq!(f1.canonical().0, f2.canonical().0);
    assert_eq!(f2.flow_hash(), k2.flow_hash());
    // another port is another connection
    let (_, k3) = from_ip(&tcp4(A, B, 40001, 80, 1, b"x")).unwrap();
    assert_ne!(k1.conn_hash, k3.conn_hash);
}

#[test]
fn every_link_type_gives_the_same_keys() {
    for ip in [
        tcp4(A, B, 40000, 80, 5, &payload(30)),
        udp6(5353, 53, &payload(20)),
    ] {
        let want = from_ip(&ip).unwrap();
        for (name, link, frame) in framings(&ip) {
            assert_eq!(extract(link, &frame), Some(want), "{name}");
        }
    }
    // not IP, not decoded
    assert_eq!(extract(Link::Ethernet, &eth(0x0806, &[0; 28])), None);
    assert_eq!(extract(Link::Other(147), &tcp4(A, B, 1, 2, 3, b"")), None);
    assert_eq!(extract(Link::Ctrace(5), &tcp4(A, B, 1, 2, 3, b"")), None);
}

#[test]
fn ipv6_and_udp_length() {
    let data = payload(20);
    let (flow, key) = from_ip(&udp6(1234, 9999, &data)).unwrap();
    assert!(flow.ipv6 && key.is_ipv6());
    assert_eq!(flow.src, A6);
    assert_eq!(key.ip_id(), None);
    assert_eq!(key.l4_len, 20);
    assert_eq!(key.digest, digest32(&data));
    assert_eq!(key.ttl, 64);
    // UDP length is the length field's, not the IP payload's
    let mut ip = udp4(1, 2, &payload(30));
    ip[24..26].copy_from_slice(&20u16.to_be_bytes());
    let (_, key) = from_ip(&ip).unwrap();
    assert_eq!(key.l4_len, 12);
}

#[test]
fn ipv4_fragments() {
    // first fragment: UDP header and 40 bytes of a 100-byte datagram
    let full = udp4(5000, 6000, &payload(100));
    let mut first = full[..20 + 48].to_vec();
    first[2..4].copy_from_slice(&68u16.to_be_bytes());
    set_id(&mut first, 0xBEEF, 0x2000);
    let (f1, k1) = from_ip(&first).unwrap();
    assert_eq!((f1.sport, f1.dport), (5000, 6000));
    assert!(k1.has(flag::FRAGMENT | flag::MF) && !k1.has(flag::NO_PORTS));
    assert_eq!(k1.l4_len, 100);
    assert_eq!(k1.ip_id(), Some(0xBEEF));
    assert!(!k1.is_later_fragment());
    // a later fragment: offset 48 bytes = 6 units, no more fragments
    let mut later = full[..20].to_vec();
    later.extend_from_slice(&full[20 + 48..]);
    let n = later.len() as u16;
    later[2..4].copy_from_slice(&n.to_be_bytes());
    set_id(&mut later, 0xBEEF, 6);
    let (f2, k2) = from_ip(&later).unwrap();
    assert!(k2.has(flag::FRAGMENT | flag::NO_PORTS) && !k2.has(flag::MF));
    assert!(k2.is_later_fragment());
    assert_eq!(k2.frag_offset, 6);
    assert_eq!(k2.l4_len, 60);
    assert_eq!(k2.digest, digest32(&full[20 + 48..20 + 48 + 60]));
    assert_eq!((f2.sport, f2.dport), (0, 0));
    assert_eq!(f2, f1.without_ports());
    assert_eq!(k2.ip_id, k1.ip_id);
}

#[test]
fn ipv6_fragments() {
    let full = udp6(7000, 8000, &payload(64));
    let udp = &full[40..];
    let frag = |offset_units: u16, more: bool, part: &[u8]| {
        let mut v = full[..40].to_vec();
        v[4..6].copy_from_slice(&((8 + part.len()) as u16).to_be_bytes());
        v[6] = 44;
        v.extend_from_slice(&[17, 0]);
        v.extend_from_slice(&(offset_units << 3 | u16::from(more)).to_be_bytes());
        v.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        v.extend_from_slice(part);
        v
    };
    let (f1, k1) = from_ip(&frag(0, true, &udp[..32])).unwrap();
    assert_eq!((f1.sport, f1.dport, f1.proto), (7000, 8000, 17));
    assert_eq!(k1.ip_id(), Some(0x1234_5678));
    assert!(k1.has(flag::FRAGMENT | flag::MF | flag::IPV6));
    assert_eq!(k1.l4_len, 64);
    let (f2, k2) = from_ip(&frag(4, false, &udp[32..])).unwrap();
    assert!(k2.has(flag::NO_PORTS) && k2.is_later_fragment());
    assert_eq!((f2.proto, k2.frag_offset, k2.l4_len), (17, 4, 40));
    assert_eq!(k2.ip_id(), Some(0x1234_5678));
    // an atomic fragment (offset 0, no more) has an id but is no fragment
    let (_, k3) = from_ip(&frag(0, false, udp)).unwrap();
    assert!(k3.has(flag::HAS_IP_ID) && !k3.has(flag::FRAGMENT));
    // a hop-by-hop header before the fragment header
    let mut hbh = frag(0, true, &udp[..32]);
    hbh[6] = 0;
    hbh.splice(40..40, [44, 0, 1, 4, 0, 0, 0, 0]);
    let plen = (hbh.len() - 40) as u16;
    hbh[4..6].copy_from_slice(&plen.to_be_bytes());
    let (f4, k4) = from_ip(&hbh).unwrap();
    assert_eq!((f4.sport, k4.ip_id()), (7000, Some(0x1234_5678)));
}

fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

#[test]
fn dns_ids_and_questions() {
    let q = dns_query(0x7B96, "www.Example.test", 1);
    let (_, key) = from_ip(&udp4(59408, 53, &q)).unwrap();
    let App::Dns { id, question } = key.app() else {
        panic!("{:?}", key.app());
    };
    assert_eq!(id, 0x7B96);
    assert_ne!(question, 0);
    // case does not matter, type does
    let (_, lower) = from_ip(&udp4(59408, 53, &dns_query(0x7B96, "www.example.test", 1))).unwrap();
    assert_eq!(lower.app, key.app);
    let (_, aaaa) = from_ip(&udp4(59408, 53, &dns_query(0x7B96, "www.example.test", 28))).unwrap();
    assert_ne!(aaaa.app, key.app);
    // a response from port 53, mDNS, no question, a damaged name
    assert!(matches!(
        from_ip(&udp4(53, 1000, &q)).unwrap().1.app(),
        App::Dns { .. }
    ));
    assert!(matches!(
        from_ip(&udp4(5353, 5353, &q)).unwrap().1.app(),
        App::Dns { .. }
    ));
    let mut none = q.clone();
    none[5] = 0;
    assert_eq!(
        from_ip(&udp4(1, 53, &none)).unwrap().1.app(),
        App::Dns {
            id: 0x7B96,
            question: 0
        }
    );
    let mut bad = q.clone();
    bad[12] = 0xC0;
    assert_eq!(
        from_ip(&udp4(1, 53, &bad)).unwrap().1.app(),
        App::Dns {
            id: 0x7B96,
            question: 0
        }
    );
    assert_eq!(from_ip(&udp4(1, 53, &q[..11])).unwrap().1.app(), App::None);
    // DNS over TCP: a length prefix first
    let mut t = (q.len() as u16).to_be_bytes().to_vec();
    t.extend_from_slice(&q);
    let (_, tk) = from_ip(&tcp4(A, B, 40000, 53, 1, &t)).unwrap();
    assert_eq!(tk.app, key.app);
}

#[test]
fn icmp_echo() {
    let mut v = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .icmpv4_echo_request(0x55, 7)
        .write(&mut v, &payload(56))
        .unwrap();
    let (f, k) = from_ip(&v).unwrap();
    assert_eq!(
        k.app(),
        App::IcmpEcho {
            v6: false,
            reply: false,
            id: 0x55,
            seq: 7
        }
    );
    assert_eq!((f.sport, f.dport, f.proto), (0x55, 0x55, 1));
    assert_eq!(k.l4_len, 56);
    assert_eq!(k.digest, digest32(&payload(56)));
    let mut r = Vec::new();
    PacketBuilder::ipv4(B, A, 63)
        .icmpv4_echo_reply(0x55, 7)
        .write(&mut r, &payload(56))
        .unwrap();
    let (_, kr) = from_ip(&r).unwrap();
    assert_eq!(
        kr.app(),
        App::IcmpEcho {
            v6: false,
            reply: true,
            id: 0x55,
            seq: 7
        }
    );
    assert_eq!(kr.conn_hash, k.conn_hash);
    let mut v6 = Vec::new();
    PacketBuilder::ipv6(A6, B6, 64)
        .icmpv6_echo_request(9, 1)
        .write(&mut v6, b"ping")
        .unwrap();
    assert_eq!(
        from_ip(&v6).unwrap().1.app(),
        App::IcmpEcho {
            v6: true,
            reply: false,
            id: 9,
            seq: 1
        }
    );
}

#[test]
fn icmp_errors_quote_their_flow() {
    let original = udp4(40000, 5300, &dns_query(1, "a.test", 1));
    let (orig_flow, _) = from_ip(&original).unwrap();
    let error = |src: [u8; 4], quoted: &[u8]| {
        let mut v = Vec::new();
        PacketBuilder::ipv4(src, A, 64)
            .icmpv4_raw(3, 3, [0; 4])
            .write(&mut v, quoted)
            .unwrap();
        v
    };
    let e = error(B, &original[..28]);
    let (f, k) = from_ip(&e).unwrap();
    assert_eq!((f.sport, f.dport), (0, 0));
    assert_eq!(
        k.app(),
        App::IcmpError {
            v6: false,
            inner: orig_flow.flow_hash() & ((1 << 56) - 1)
        }
    );
    assert_eq!(icmp_error_inner(Link::Raw, &e), Some(orig_flow));
    assert_eq!(icmp_error_inner(Link::Raw, &original), None);
    // after NAT the quoted addresses differ, the digest does not
    let mut natted = original[..28].to_vec();
    natted[12..16].copy_from_slice(&[203, 0, 113, 5]);
    natted[20..22].copy_from_slice(&61000u16.to_be_bytes());
    let (_, kn) = from_ip(&error([203, 0, 113, 1], &natted)).unwrap();
    assert_eq!(kn.digest, k.digest);
    assert_ne!(kn.app, k.app);
    assert_eq!(kn.nat_hash(), k.nat_hash());
    // ICMPv6 port unreachable quoting as much as fits
    let orig6 = udp6(40000, 5300, b"query");
    let mut e6 = Vec::new();
    PacketBuilder::ipv6(B6, A6, 64)
        .icmpv6_raw(1, 4, [0; 4])
        .write(&mut e6, &orig6)
        .unwrap();
    let (_, k6) = from_ip(&e6).unwrap();
    assert_eq!(
        k6.app(),
        App::IcmpError {
            v6: true,
            inner: from_ip(&orig6).unwrap().0.flow_hash() & ((1 << 56) - 1)
        }
    );
    // an error quoting garbage
    let (_, kg) = from_ip(&error(B, &[1, 2, 3])).unwrap();
    assert_eq!(
        kg.app(),
        App::IcmpError {
            v6: false,
            inner: 0
        }
    );
}

#[test]
fn dhcp_dhcpv6_esp() {
    let mut boot = vec![0u8; 240];
    boot[0] = 1;
    boot[4..8].copy_from_slice(&0x74B9_B328u32.to_be_bytes());
    assert_eq!(
        from_ip(&udp4(68, 67, &boot)).unwrap().1.app(),
        App::Dhcp {
            op: 1,
            xid: 0x74B9_B328
        }
    );
    boot[0] = 9;
    assert_eq!(from_ip(&udp4(68, 67, &boot)).unwrap().1.app(), App::None);
    let solicit = [1, 0xAB, 0xCD, 0xEF, 0, 1];
    assert_eq!(
        from_ip(&udp6(546, 547, &solicit)).unwrap().1.app(),
        App::Dhcpv6 {
            msg_type: 1,
            txid: 0xABCDEF
        }
    );
    let relay = [12, 0xAB, 0xCD, 0xEF];
    assert_eq!(from_ip(&udp6(547, 547, &relay)).unwrap().1.app(), App::None);
    // ESP in IP and in UDP 4500; IKE (non-ESP marker) is not ESP
    let esp = [0x11, 0x22, 0x33, 0x44, 0, 0, 0, 9, 0xAA, 0xBB];
    let mut ip = udp4(1, 2, &esp);
    ip.truncate(20);
    ip[9] = 50;
    ip.extend_from_slice(&esp);
    ip[2..4].copy_from_slice(&30u16.to_be_bytes());
    let (_, k) = from_ip(&ip).unwrap();
    assert_eq!(
        k.app(),
        App::Esp {
            spi_low: 0x223344,
            seq: 9
        }
    );
    assert_eq!(k.l4_len, 10);
    assert_eq!(
        from_ip(&udp4(4500, 4500, &esp)).unwrap().1.app(),
        App::Esp {
            spi_low: 0x223344,
            seq: 9
        }
    );
    assert_eq!(
        from_ip(&udp4(4500, 4500, &[0, 0, 0, 0, 1, 2, 3, 4]))
            .unwrap()
            .1
            .app(),
        App::None
    );
}

/// An EE datagram: LLC UI, an ANR NHDR with two labels, a THDR.
fn ee_datagram(tcid: u64, bsn: u32) -> Vec<u8> {
    let mut d = vec![0x04, 0x04, 0x03, 0xC4, 0x04, 0x80, 0x12, 0xFF, 0x00];
    d.extend_from_slice(&tcid.to_be_bytes());
    d.extend_from_slice(&[0x40, 0x00, 0x00, 0x05]);
    d.extend_from_slice(&16u32.to_be_bytes());
    d.extend_from_slice(&bsn.to_be_bytes());
    d.extend_from_slice(b"data");
    d
}

#[test]
fn enterprise_extender() {
    let d = ee_datagram(0x0102_0304_0506_0708, 0xDEAD_BEEF);
    for port in [12000, 12002, 12004] {
        let (_, k) = from_ip(&udp4(port, port, &d)).unwrap();
        assert_eq!(
            k.app(),
            App::Ee {
                tcid_low: 0x060708,
                bsn: 0xDEAD_BEEF
            }
        );
    }
    assert_eq!(from_ip(&udp4(12005, 12005, &d)).unwrap().1.app(), App::None);
    // cut anywhere: no id, no panic
    for n in 0..d.len() {
        let k = from_ip(&udp4(12001, 12001, &d[..n])).unwrap().1;
        assert_eq!(
            k.app(),
            if n >= 29 {
                App::Ee {
                    tcid_low: 0x060708,
                    bsn: 0xDEAD_BEEF,
                }
            } else {
                App::None
            },
            "{n}"
        );
    }
    // XID (not UI), a bad switching mode, FR + LDLC (no THDR), no X'FF'
    let mut xid = d.clone();
    xid[2] = 0xBF;
    assert_eq!(
        from_ip(&udp4(12000, 12000, &xid)).unwrap().1.app(),
        App::None
    );
    let mut mode = d.clone();
    mode[3] = 0x20;
    assert_eq!(
        from_ip(&udp4(12000, 12000, &mode)).unwrap().1.app(),
        App::None
    );
    let ldlc = [0x04, 0x04, 0x03, 0xA6, 0x10, 0xFF, 0x00, 0x03];
    assert_eq!(
        from_ip(&udp4(12000, 12000, &ldlc)).unwrap().1.app(),
        App::None
    );
    assert_eq!(
        from_ip(&udp4(
            12000,
            12000,
            &[0x04, 0x04, 0x03, 0xC4, 0x04, 1, 2, 3]
        ))
        .unwrap()
        .1
        .app(),
        App::None
    );
    // function routing, not LDLC: a THDR follows
    let mut fr = vec![0x04, 0x04, 0x13, 0xA4, 0x20, 0xFF, 0x00];
    fr.extend_from_slice(&d[9..]);
    assert_eq!(
        from_ip(&udp4(12003, 12003, &fr)).unwrap().1.app(),
        App::Ee {
            tcid_low: 0x060708,
            bsn: 0xDEAD_BEEF
        }
    );
}

#[test]
fn app_ids_pack_and_unpack() {
    for app in [
        App::None,
        App::Dns {
            id: 0xFFFF,
            question: 0xFFFF_FFFF,
        },
        App::IcmpEcho {
            v6: true,
            reply: true,
            id: 1,
            seq: 0xFFFF,
        },
        App::IcmpEcho {
            v6: false,
            reply: false,
            id: 0xFFFF,
            seq: 0,
        },
        App::Dhcp {
            op: 2,
            xid: 0xFFFF_FFFF,
        },
        App::Dhcpv6 {
            msg_type: 11,
            txid: 0xFF_FFFF,
        },
        App::Ee {
            tcid_low: 0xFF_FFFF,
            bsn: 0xFFFF_FFFF,
        },
        App::IcmpError {
            v6: true,
            inner: (1 << 56) - 1,
        },
        App::IcmpError {
            v6: false,
            inner: 5,
        },
        App::Esp {
            spi_low: 0xFF_FFFF,
            seq: 0xFFFF_FFFF,
        },
    ] {
        assert_eq!(App::unpack(app.pack()), app);
    }
    assert_eq!(App::None.pack(), 0);
    assert_eq!(App::unpack(0xEE << 56 | 5), App::None);
    // values are cut to their documented widths
    assert_eq!(
        App::unpack(
            App::Ee {
                tcid_low: 0xAB_CDEF01,
                bsn: 1
            }
            .pack()
        ),
        App::Ee {
            tcid_low: 0xCDEF01,
            bsn: 1
        }
    );
}

#[test]
fn tunnels_give_the_inner_packet() {
    let inner = tcp4(A, B, 40000, 80, 99, &payload(40));
    let want = from_ip(&inner).unwrap();
    let check_bits = |what: &str, outer: &[u8], bits: u8| {
        let (f, k) = from_ip(outer).unwrap_or_else(|| panic!("{what}"));
        assert_eq!(f, want.0, "{what}");
        assert!(k.has(flag::TUNNEL), "{what}");
        assert_eq!(k.encap, bits, "{what}");
        let mut k2 = k;
        k2.flags &= !flag::TUNNEL;
        k2.encap = 0;
        assert_eq!(k2, want.1, "{what}");
        // Every other stage reads the same inner packet.
        assert_eq!(
            super::inner_ip(Link::Raw, outer),
            Some((&inner[..], bits)),
            "{what}"
        );
    };
    let outer = |proto: u8, body: &[u8]| {
        let mut v = udp4(1, 2, body);
        v.truncate(20);
        v[9] = proto;
        v.extend_from_slice(body);
        let n = v.len() as u16;
        v[2..4].copy_from_slice(&n.to_be_bytes());
        v
    };
    use super::encap;
    check_bits("ipip", &outer(4, &inner), encap::IP_IN_IP);
    let mut gre = vec![0x00, 0x00, 0x08, 0x00];
    gre.extend_from_slice(&inner);
    check_bits("gre", &outer(47, &gre), encap::GRE);
    let mut gre_key = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7];
    gre_key.extend_from_slice(&inner);
    check_bits("gre key", &outer(47, &gre_key), encap::GRE);
    let mut teb = vec![0x00, 0x00, 0x65, 0x58];
    teb.extend_from_slice(&eth(0x0800, &inner));
    check_bits("gre teb", &outer(47, &teb), encap::GRE);
    let mut erspan2 = vec![
        0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1, 0x10, 0x64, 0, 1, 0, 0, 0, 0,
    ];
    erspan2.extend_from_slice(&eth(0x0800, &inner));
    check_bits("erspan ii", &outer(47, &erspan2), encap::ERSPAN_I_II);
    let mut erspan3 = vec![0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1];
    erspan3.extend_from_slice(&[0x20, 0x64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    erspan3.extend_from_slice(&eth(0x0800, &inner));
    check_bits("erspan iii", &outer(47, &erspan3), encap::ERSPAN_III);
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 0x64, 0];
    vxlan.extend_from_slice(&eth(0x0800, &inner));
    check_bits("vxlan", &udp4(55555, 4789, &vxlan), encap::VXLAN);
    // Geneve with 8 bytes of options, Ethernet inside; and IP directly.
    let mut geneve = vec![0x02, 0, 0x65, 0x58, 0, 0, 0x64, 0];
    geneve.extend_from_slice(&[0x01, 0x02, 0x03, 0x01, 9, 9, 9, 9]);
    geneve.extend_from_slice(&eth(0x0800, &inner));
    check_bits("geneve", &udp4(55555, 6081, &geneve), encap::GENEVE);
    let mut geneve_ip = vec![0x00, 0, 0x08, 0x00, 0, 0, 0x64, 0];
    geneve_ip.extend_from_slice(&inner);
    check_bits("geneve ip", &udp4(55555, 6081, &geneve_ip), encap::GENEVE);
    // GTP-U G-PDU, plain and with a sequence number and a PDU session
    // container extension header (type 0x85, 1 unit).
    let mut gtp = vec![0x30, 0xFF, 0, 0, 0, 0, 0, 7];
    gtp.extend_from_slice(&inner);
    check_bits("gtp-u", &udp4(2152, 2152, &gtp), encap::GTP_U);
    let mut gtp_ext = vec![0x36, 0xFF, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0x85];
    gtp_ext.extend_from_slice(&[1, 0x10, 0x09, 0]);
    gtp_ext.extend_from_slice(&inner);
    check_bits("gtp-u ext", &udp4(2152, 2152, &gtp_ext), encap::GTP_U);
    // MPLS: two labels in GRE, one in UDP 6635, on the link.
    let mut gre_mpls = vec![0x00, 0x00, 0x88, 0x47, 0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64];
    gre_mpls.extend_from_slice(&inner);
    check_bits("gre mpls", &outer(47, &gre_mpls), encap::GRE | encap::MPLS);
    let mut mpls_udp = vec![0, 0x03, 0x01, 64];
    mpls_udp.extend_from_slice(&inner);
    check_bits("mpls in udp", &udp4(49152, 6635, &mpls_udp), encap::MPLS);
    let mut labelled = vec![0, 0x01, 0x01, 64];
    labelled.extend_from_slice(&inner);
    let frame = eth(0x8847, &labelled);
    let (_, k) = super::extract(Link::Ethernet, &frame).unwrap();
    assert_eq!((k.encap, k.has(flag::TUNNEL)), (encap::MPLS, false));
    assert_eq!(
        super::inner_ip(Link::Ethernet, &frame),
        Some((&inner[..], encap::MPLS))
    );
    // A G-PDU's wrong version or a non-G-PDU message: no tunnel.
    let mut echo = gtp.clone();
    echo[1] = 1;
    assert!(!from_ip(&udp4(2152, 2152, &echo))
        .unwrap()
        .1
        .has(flag::TUNNEL));
    let mut v6in4 = Vec::new();
    PacketBuilder::ipv6(A6, B6, 64)
        .udp(1, 2)
        .write(&mut v6in4, b"six")
        .unwrap();
    let (f, k) = from_ip(&outer(41, &v6in4)).unwrap();
    assert!(f.ipv6 && k.has(flag::TUNNEL));
    // GRE version 1 (PPTP) and an undecodable inner packet: the outer keys
    let (f, k) = from_ip(&outer(47, &[0x30, 0x01, 0x88, 0x0B, 0, 0, 0, 0])).unwrap();
    assert_eq!((f.proto, k.has(flag::TUNNEL)), (47, false));
    let (f, _) = from_ip(&outer(4, &[0x45, 0, 0])).unwrap();
    assert_eq!(f.proto, 4);
    // nesting stops at 3 levels
    let mut deep = inner.clone();
    for _ in 0..5 {
        deep = outer(4, &deep);
    }
    assert_eq!(from_ip(&deep).unwrap().0.proto, 4);
}

#[test]
fn nat_and_sequence_translation() {
    let data = payload(200);
    let (_, k) = from_ip(&tcp4(A, B, 40000, 80, 1000, &data)).unwrap();
    // NAT/PAT: addresses, ports, TTL and checksums change
    let mut natted = tcp4([203, 0, 113, 1], B, 61000, 80, 1000, &data);
    natted[8] = 60;
    natted[10] ^= 0xFF;
    natted[36] ^= 0xFF;
    let (_, kn) = from_ip(&natted).unwrap();
    assert_ne!(kn.conn_hash, k.conn_hash);
    assert_eq!(kn.nat_hash(), k.nat_hash());
    assert_eq!(kn.content_hash(), k.content_hash());
    // sequence randomisation and a new IP ID: only the content hash stays
    let mut shifted = tcp4(A, B, 40000, 80, 0x5000_0000, &data);
    set_id(&mut shifted, 0x9999, 0x4000);
    let (_, ks) = from_ip(&shifted).unwrap();
    assert_ne!(ks.nat_hash(), k.nat_hash());
    assert_eq!(ks.content_hash(), k.content_hash());
    // other bytes: both differ
    let (_, ko) = from_ip(&tcp4(A, B, 40000, 80, 1000, &payload(199))).unwrap();
    assert_ne!(ko.content_hash(), k.content_hash());
    // PAT of an ICMP echo id
    let echo = |id| {
        let mut v = Vec::new();
        PacketBuilder::ipv4(A, B, 64)
            .icmpv4_echo_request(id, 3)
            .write(&mut v, b"abc")
            .unwrap();
        from_ip(&v).unwrap().1
    };
    assert_eq!(echo(1).nat_hash(), echo(2).nat_hash());
}

#[test]
fn tso_length_zero() {
    let mut ip = tcp4(A, B, 1, 2, 3, &payload(3000));
    ip[2..4].copy_from_slice(&[0, 0]);
    let (_, k) = from_ip(&ip).unwrap();
    assert!(k.has(flag::LEN_FROM_CAPTURE));
    assert_eq!(k.l4_len, 3000);
}

#[test]
fn cut_off_packets_never_panic() {
    let frames = [
        eth(0x0800, &tcp4(A, B, 40000, 53, 7, &payload(300))),
        eth(0x86DD, &udp6(12000, 12000, &ee_datagram(1, 2))),
        eth(0x0800, &udp4(68, 67, &[1; 300])),
    ];
    for frame in &frames {
        let full = extract(Link::Ethernet, frame).unwrap().1;
        for n in 0..frame.len() {
            let Some((_, k)) = extract(Link::Ethernet, &frame[..n]) else {
                continue;
            };
            // lengths come from the headers, not the capture
            if !k.has(flag::L4_PARTIAL) {
                assert_eq!(k.l4_len, full.l4_len, "{n}");
            }
            if n < frame.len() && k.digest != full.digest {
                assert!(
                    k.has(flag::PARTIAL_DIGEST) || k.has(flag::L4_PARTIAL),
                    "{n}"
                );
            }
        }
    }
    // an IPv4 header cut short gives nothing; a TCP header cut short, ports
    let ip = tcp4(A, B, 40000, 80, 7, b"");
    assert_eq!(from_ip(&ip[..19]), None);
    let (f, k) = from_ip(&ip[..28]).unwrap();
    assert!(k.has(flag::L4_PARTIAL));
    assert_eq!((f.sport, f.dport, k.seq), (40000, 80, 7));
    let (f, k) = from_ip(&ip[..22]).unwrap();
    assert!(k.has(flag::L4_PARTIAL | flag::NO_PORTS));
    assert_eq!(f.sport, 0);
    // the payload cut at 40 of 300 bytes: partial digest, full length
    let long = tcp4(A, B, 40000, 80, 7, &payload(300));
    let (_, k) = from_ip(&long[..52 + 40]).unwrap();
    assert!(k.has(flag::PARTIAL_DIGEST));
    assert_eq!(k.l4_len, 300);
    assert_eq!(k.digest, digest32(&payload(300)[..40]));
}

#[test]
fn damaged_headers() {
    // TCP data offset below 5
    let mut ip = tcp4(A, B, 40000, 80, 7, b"abcd");
    ip[32] = 0x30;
    let (f, k) = from_ip(&ip).unwrap();
    assert!(k.has(flag::L4_PARTIAL));
    assert_eq!(f.sport, 40000);
    // IP header length beyond the packet, a version 5 packet
    let mut bad = ip.clone();
    bad[0] = 0x4F;
    assert!(from_ip(&bad[..40]).is_none());
    bad[0] = 0x55;
    assert!(from_ip(&bad).is_none());
    // IPv6 extension header chain cut off
    let mut v6 = udp6(1, 2, b"x");
    v6[6] = 0;
    v6.truncate(42);
    let (_, k6) = from_ip(&v6).unwrap();
    assert!(k6.is_ipv6());
    // random bytes in every link type: no panic
    let mut x: u32 = 1;
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for link in [
            Link::Ethernet,
            Link::Raw,
            Link::LinuxSll,
            Link::LinuxSll2,
            Link::Null,
            Link::Loop,
        ] {
            let _ = extract(link, &bytes);
            let _ = icmp_error_inner(link, &bytes);
        }
        let mut v4 = bytes.clone();
        if let Some(b) = v4.first_mut() {
            *b = 0x45;
        }
        let _ = from_ip(&v4);
    }
}

#[test]
fn link_scoped_addresses() {
    let key = |src: &str, dst: &str| {
        let a: std::net::IpAddr = src.parse().unwrap();
        let b: std::net::IpAddr = dst.parse().unwrap();
        let octets = |x: std::net::IpAddr| match x {
            std::net::IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            std::net::IpAddr::V6(v) => v.octets(),
        };
        FlowKey {
            src: octets(a),
            dst: octets(b),
            sport: 0,
            dport: 0,
            proto: 17,
            ipv6: a.is_ipv6(),
        }
    };
    for (s, d) in [
        ("fe80::ff:fe00:346", "ff02::16"),
        ("2001:db8::1", "ff02::1:2"),
        ("2001:db8::1", "ff12::fb"),
        ("2001:db8::1", "fe80::1"),
        ("febf::1", "2001:db8::2"),
        ("fe80::1", "2001:db8::1"),
        ("192.0.2.65", "224.0.0.22"),
        ("0.0.0.0", "255.255.255.255"),
    ] {
        assert!(key(s, d).link_scoped(), "{s} → {d}");
    }
    for (s, d) in [
        ("2001:db8::1", "2001:db8::2"),
        ("2001:db8::1", "ff05::1:3"),
        ("2001:db8::1", "ff0e::1"),
        ("fec0::1", "2001:db8::2"),
        ("2001:db8::1", "ff03::1"),
        ("192.0.2.65", "224.0.1.1"),
        ("192.0.2.65", "239.255.255.250"),
        ("169.253.1.1", "192.0.2.1"),
        // Translated in practice (container → cloud metadata service).
        ("172.17.0.2", "169.254.169.254"),
        ("192.0.2.255", "192.0.2.1"),
    ] {
        assert!(!key(s, d).link_scoped(), "{s} → {d}");
    }
    let k = key("fe80::1", "ff02::16");
    assert!(k.same_addresses(&k.reversed()));
    assert!(!k.same_addresses(&key("fe80::2", "ff02::16")));
}

/// etherparse's own walk of TCP options, as the keys used it before
/// `timestamp_value`: the reference the hand walk must agree with.
fn etherparse_tsval(options: &[u8]) -> Option<u32> {
    for o in etherparse::TcpOptionsIterator::from_slice(options) {
        match o {
            Ok(TcpOptionElement::Timestamp(v, _)) => return Some(v),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[test]
fn timestamp_walk_agrees_with_etherparse() {
    // Options as stacks send them, and each cut short at every length.
    let ts = [8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 1];
    let sack = [5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4];
    let mut cases: Vec<Vec<u8>> = vec![
        [&[1, 1][..], &ts].concat(),
        [&[2, 4, 5, 0xB4, 4, 2][..], &ts, &[1, 3, 3, 7]].concat(),
        [&[1, 1][..], &sack, &ts].concat(),
        [&[1, 1][..], &ts, &[0, 0]].concat(),
        [&[0][..], &ts].concat(),
        [&[9, 2][..], &ts].concat(),           // unknown kind first
        [&[2, 5, 0, 0, 0][..], &ts].concat(),  // MSS of a wrong length
        [&[5, 11][..], &[0; 9], &ts].concat(), // SACK of a wrong length
        [&[8, 9][..], &ts].concat(),           // timestamp of a wrong length
    ];
    for c in cases.clone() {
        for n in 0..c.len() {
            cases.push(c[..n].to_vec());
        }
    }
    // Random options from the kinds that matter, and random bytes.
    let mut x: u32 = 7;
    let mut next = || {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (x >> 16) as u8
    };
    let options: [&[u8]; 8] = [
        &[0],
        &[1],
        &[2, 4, 5, 0xB4],
        &[3, 3, 7],
        &[4, 2],
        &sack,
        &ts,
        &[9, 2],
    ];
    for _ in 0..20_000 {
        let mut c = Vec::new();
        while c.len() < 40 && next() % 8 != 0 {
            c.extend_from_slice(options[usize::from(next() % 8)]);
        }
        c.truncate(40);
        // now and then a byte changed
        if !c.is_empty() && next() % 2 == 0 {
            let at = usize::from(next()) % c.len();
            c[at] = next();
        }
        cases.push(c);
    }
    let mut found = 0;
    for c in &cases {
        assert_eq!(timestamp_value(c), etherparse_tsval(c), "{c:?}");
        found += usize::from(timestamp_value(c).is_some());
    }
    assert!(found > 100, "{found}");
}
