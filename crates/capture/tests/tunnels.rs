//! Tunnels against Wireshark's own dissectors: the packets of a real capture
//! (tests/data/real-http.pcap) wrapped in ERSPAN II and III, GRE, VXLAN,
//! Geneve, GTP-U, IP in IP and MPLS as the RFCs and 3GPP TS 29.281 lay them
//! out; tshark must decode each wrapper (its own field for it) and find the
//! same inner packet our keys and `inner_ip` describe — the inner IP
//! addresses, IP ID and TCP sequence number of the innermost layer — and
//! the keys must equal the bare packet's.

use capture::keys::{encap, flag};
use capture::{extract, inner_ip, Link};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn real_http() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/real-http.pcap")
}

/// The IP packets of the capture's frames.
fn ip_packets() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cap = capture::open(real_http()).unwrap();
    while let Some(p) = cap.next_packet().unwrap() {
        if let Some(ip) = capture::link::ip_payload(p.link, p.data) {
            out.push(ip.to_vec());
        }
    }
    assert!(out.len() > 50);
    out
}

fn ethernet(ether_type: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend_from_slice(&ether_type.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// An outer IPv4 header (10.99.0.1 → 10.99.0.2, checksum filled in).
fn ipv4(proto: u8, body: &[u8]) -> Vec<u8> {
    let len = (20 + body.len()) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 63, proto, 0, 0];
    h[2..4].copy_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[10, 99, 0, 1, 10, 99, 0, 2]);
    let sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let folded = (sum & 0xFFFF) + (sum >> 16);
    let c = !((folded & 0xFFFF) + (folded >> 16)) as u16;
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(body);
    h
}

/// UDP with checksum 0 (allowed for IPv4, RFC 768).
fn udp(dport: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xC0, 0x01];
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(body);
    v
}

/// Each wrapper: name, the tshark field that proves the wrapper was
/// decoded, our encap bits, and the frame (Ethernet) for an IP packet.
#[allow(clippy::type_complexity)]
fn wrappers() -> Vec<(
    &'static str,
    &'static str,
    u8,
    Box<dyn Fn(&[u8], u32) -> Vec<u8>>,
)> {
    vec![
        (
            "erspan-ii",
            "erspan.version",
            encap::ERSPAN_I_II,
            Box::new(|ip, n| {
                // GRE with S bit, protocol 0x88BE, sequence number; ERSPAN
                // type II: version 1, VLAN 0, COS/En/T, session 100, index.
                let mut g = vec![0x10, 0x00, 0x88, 0xBE];
                g.extend_from_slice(&n.to_be_bytes());
                g.extend_from_slice(&[0x10, 0x00, 0x00, 0x64, 0, 0, 0, 1]);
                g.extend_from_slice(&ethernet(0x0800, ip));
                ethernet(0x0800, &ipv4(47, &g))
            }),
        ),
        (
            "erspan-iii",
            "erspan.version",
            encap::ERSPAN_III,
            Box::new(|ip, n| {
                // ERSPAN type III: version 2, session 100, timestamp, SGT,
                // P/FT/HW ID/D/Gra/O (O = 0: no platform subheader).
                let mut g = vec![0x10, 0x00, 0x22, 0xEB];
                g.extend_from_slice(&n.to_be_bytes());
                g.extend_from_slice(&[0x20, 0x00, 0x00, 0x64]);
                g.extend_from_slice(&n.to_be_bytes());
                g.extend_from_slice(&[0, 0, 0, 0]);
                g.extend_from_slice(&ethernet(0x0800, ip));
                ethernet(0x0800, &ipv4(47, &g))
            }),
        ),
        (
            "gre",
            "gre.proto",
            encap::GRE,
            Box::new(|ip, _| {
                let mut g = vec![0x00, 0x00, 0x08, 0x00];
                g.extend_from_slice(ip);
                ethernet(0x0800, &ipv4(47, &g))
            }),
        ),
        (
            "vxlan",
            "vxlan.vni",
            encap::VXLAN,
            Box::new(|ip, _| {
                let mut v = vec![0x08, 0, 0, 0, 0, 0x10, 0x01, 0];
                v.extend_from_slice(&ethernet(0x0800, ip));
                ethernet(0x0800, &ipv4(17, &udp(4789, &v)))
            }),
        ),
        (
            "geneve",
            "geneve.vni",
            encap::GENEVE,
            Box::new(|ip, _| {
                let mut v = vec![0x00, 0x00, 0x65, 0x58, 0, 0x10, 0x01, 0];
                v.extend_from_slice(&ethernet(0x0800, ip));
                ethernet(0x0800, &ipv4(17, &udp(6081, &v)))
            }),
        ),
        (
            "gtp-u",
            "gtp.teid",
            encap::GTP_U,
            Box::new(|ip, n| {
                // Version 1, PT 1, S: a sequence number, no extension.
                let mut v = vec![0x32, 0xFF];
                v.extend_from_slice(&((ip.len() + 4) as u16).to_be_bytes());
                v.extend_from_slice(&0x0102_0304u32.to_be_bytes());
                v.extend_from_slice(&(n as u16).to_be_bytes());
                v.extend_from_slice(&[0, 0]);
                v.extend_from_slice(ip);
                ethernet(0x0800, &ipv4(17, &udp(2152, &v)))
            }),
        ),
        (
            "ip-in-ip",
            "ip.proto",
            encap::IP_IN_IP,
            Box::new(|ip, _| ethernet(0x0800, &ipv4(4, ip))),
        ),
        (
            "mpls",
            "mpls.label",
            encap::MPLS,
            Box::new(|ip, _| {
                // Two labels (16, 17), the second with bottom of stack.
                let mut v = vec![0x00, 0x01, 0x00, 64, 0x00, 0x01, 0x11, 64];
                v.extend_from_slice(ip);
                ethernet(0x8847, &v)
            }),
        ),
    ]
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let file = std::fs::File::create(path).unwrap();
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(&PcapPacket::new(
            Duration::from_micros(1_700_000_000_000_000 + i as u64),
            f.len() as u32,
            f,
        ))
        .unwrap();
    }
}

/// tshark's innermost ip.src, ip.dst, ip.id, tcp.seq_raw and the wrapper's
/// field, per frame (the last occurrence of each: the innermost layer).
fn tshark_rows(path: &Path, wrapper_field: &str) -> Vec<Vec<String>> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=l"])
        .args([
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ip.id",
            "-e",
            "tcp.seq_raw",
        ])
        .args(["-e", wrapper_field])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_tunnel_gives_the_packet_wireshark_finds_inside() {
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("SKIPPED: tshark is not installed");
        return;
    }
    let packets = ip_packets();
    let dir = std::env::temp_dir().join(format!("capture-tunnels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, field, bits, wrap) in wrappers() {
        let frames: Vec<Vec<u8>> = packets
            .iter()
            .enumerate()
            .map(|(i, ip)| wrap(ip, i as u32))
            .collect();
        let path = dir.join(format!("{name}.pcap"));
        write_pcap(&path, &frames);
        let rows = tshark_rows(&path, field);
        assert_eq!(rows.len(), frames.len(), "{name}");
        for (i, (frame, row)) in frames.iter().zip(&rows).enumerate() {
            let what = format!("{name} frame {}", i + 1);
            assert!(!row[4].is_empty(), "{what}: tshark did not decode {field}");
            let bare = capture::keys::from_ip(&packets[i]).unwrap();
            let (flow, key) = extract(Link::Ethernet, frame).unwrap();
            assert_eq!(flow, bare.0, "{what}");
            assert_eq!(key.encap, bits, "{what}");
            assert_eq!(key.has(flag::TUNNEL), bits != encap::MPLS, "{what}");
            let mut k = key;
            k.encap = 0;
            k.flags &= !flag::TUNNEL;
            assert_eq!(k, bare.1, "{what}");
            // What tshark found inside is what we describe.
            assert_eq!(row[0], flow.src_ip().to_string(), "{what}");
            assert_eq!(row[1], flow.dst_ip().to_string(), "{what}");
            let id = u32::from_str_radix(row[2].trim_start_matches("0x"), 16).unwrap();
            assert_eq!(Some(id), key.ip_id(), "{what}");
            if !row[3].is_empty() {
                assert_eq!(row[3].parse::<u32>().unwrap(), key.seq, "{what}");
            }
            assert_eq!(
                inner_ip(Link::Ethernet, frame),
                Some((&packets[i][..], bits)),
                "{what}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
