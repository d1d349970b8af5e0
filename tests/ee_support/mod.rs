//! The independent EE vectors of tests/data/ee-vectors as captures for
//! real tshark (shared by tests/ee_vectors.rs and tests/ee_audit.rs): each
//! frame's UDP payload, written by hand from public sources, wrapped in
//! Ethernet and IPv4 or IPv6 and UDP, in a classic pcap.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::common::{self, release_plugins, Wireshark};

/// Every vector file (tests/data/ee-vectors/NAME.txt).
pub const VECTORS: &[&str] = &[
    "hp-xid3",
    "mid-capture",
    "stall",
    "eeverify",
    "violations",
    "anr-labels",
    "base-port",
    "resend-uncaptured",
    "probe-retry",
    "stall-boundary",
    "rtp-setup",
    "ipv6-ldlc",
];

/// One frame of a vector file: time, endpoints, IP type of service (IPv6:
/// traffic class) and UDP payload.
pub struct Frame {
    pub seconds: f64,
    pub source: (IpAddr, u16),
    pub destination: (IpAddr, u16),
    pub tos: u8,
    pub payload: Vec<u8>,
}

/// `192.0.2.1:12000` or `[2001:db8::1]:12000`.
fn endpoint(text: &str) -> (IpAddr, u16) {
    let (ip, port) = text.rsplit_once(':').expect("IP:PORT");
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    (ip.parse().unwrap(), port.parse().unwrap())
}

/// Reads `tests/data/ee-vectors/NAME.txt` (format in the README there).
pub fn frames(name: &str) -> Vec<Frame> {
    let path = common::repo_root().join(format!("tests/data/ee-vectors/{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        if let Some(header) = line.strip_prefix('@') {
            let words: Vec<&str> = header.split_whitespace().collect();
            assert_eq!(words[2], ">", "{name}: {line}");
            let tos = words[4].strip_prefix("tos=").expect("tos=XX");
            frames.push(Frame {
                seconds: words[0].parse().unwrap(),
                source: endpoint(words[1]),
                destination: endpoint(words[3]),
                tos: u8::from_str_radix(tos, 16).unwrap(),
                payload: Vec::new(),
            });
        } else if !line.is_empty() {
            let digits: String = line.split_whitespace().collect();
            assert!(digits.len() % 2 == 0, "{name}: odd hex in {line:?}");
            let frame = frames.last_mut().expect("hex before the first @");
            for pair in digits.as_bytes().chunks(2) {
                let pair = std::str::from_utf8(pair).unwrap();
                frame.payload.push(u8::from_str_radix(pair, 16).unwrap());
            }
        }
    }
    frames
}

/// The Internet checksum of `words` (RFC 1071).
fn checksum(bytes: &[u8]) -> u16 {
    let sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    let folded = (sum & 0xFFFF) + (sum >> 16);
    !(((folded & 0xFFFF) + (folded >> 16)) as u16)
}

fn mac(ip: IpAddr) -> [u8; 6] {
    let o = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets()[12..].to_vec(),
    };
    [0x02, 0, o[0], o[1], o[2], o[3]]
}

/// The IP header and UDP datagram of one frame, and the EtherType.
fn ip_udp(f: &Frame) -> (u16, Vec<u8>) {
    let udp_len = 8 + f.payload.len();
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend(f.source.1.to_be_bytes());
    udp.extend(f.destination.1.to_be_bytes());
    udp.extend((udp_len as u16).to_be_bytes());
    udp.extend([0, 0]);
    udp.extend(&f.payload);
    match (f.source.0, f.destination.0) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut ip = vec![0x45, f.tos];
            ip.extend(((20 + udp_len) as u16).to_be_bytes());
            ip.extend([0, 0, 0x40, 0, 64, 17, 0, 0]);
            ip.extend(s.octets());
            ip.extend(d.octets());
            let sum = checksum(&ip);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            // No UDP checksum: allowed over IPv4.
            ip.extend(udp);
            (0x0800, ip)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // UDP over IPv6 needs its checksum (RFC 8200 section 8.1).
            let mut pseudo = Vec::new();
            pseudo.extend(s.octets());
            pseudo.extend(d.octets());
            pseudo.extend((udp_len as u32).to_be_bytes());
            pseudo.extend([0, 0, 0, 17]);
            pseudo.extend(&udp);
            let sum = match checksum(&pseudo) {
                0 => 0xFFFF,
                sum => sum,
            };
            udp[6..8].copy_from_slice(&sum.to_be_bytes());
            let first = (6u32 << 28) | (u32::from(f.tos) << 20);
            let mut ip = first.to_be_bytes().to_vec();
            ip.extend((udp_len as u16).to_be_bytes());
            ip.extend([17, 64]);
            ip.extend(s.octets());
            ip.extend(d.octets());
            ip.extend(udp);
            (0x86DD, ip)
        }
        _ => panic!("source and destination of different IP versions"),
    }
}

/// A classic pcap (Ethernet) of the frames, each in IPv4/UDP or IPv6/UDP.
pub fn pcap(frames: &[Frame]) -> Vec<u8> {
    // 2026-01-01T00:00:00Z
    const EPOCH: u32 = 1_767_225_600;
    let mut out = Vec::new();
    out.extend(0xA1B2_C3D4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for f in frames {
        let mut frame = Vec::new();
        frame.extend(mac(f.destination.0));
        frame.extend(mac(f.source.0));
        let (ethertype, ip) = ip_udp(f);
        frame.extend(ethertype.to_be_bytes());
        frame.extend(ip);
        let micros = (f.seconds * 1e6).round() as u64;
        out.extend((EPOCH + (micros / 1_000_000) as u32).to_le_bytes());
        out.extend(((micros % 1_000_000) as u32).to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend(frame);
    }
    out
}

/// The vector as a pcap in `ws`'s HOME; its path as tshark sees it.
pub fn vector(ws: &Wireshark, name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ee-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("vector-{name}.pcap"));
    std::fs::write(&file, pcap(&frames(name))).unwrap();
    ws.add_file(&file)
}

pub fn plugin() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

/// Frames matching a display filter.
pub fn matching(ws: &Wireshark, file: &str, extra: &[&str], filter: &str) -> Vec<u32> {
    let mut args = extra.to_vec();
    args.extend(["-Y", filter]);
    ws.fields(file, &args, &[]).keys().copied().collect()
}

/// One column of `names` per frame.
pub fn column(t: &BTreeMap<u32, Vec<String>>, frame: u32, i: usize) -> &str {
    &t[&frame][i]
}

/// The rows of `tshark -z ee,rtp[,FILTER]`: each row's cells by column name.
pub fn rtp_table(ws: &Wireshark, file: &str, extra: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut args = vec!["-r", file, "-q"];
    args.extend(extra);
    args.extend(["-z", "ee,rtp"]);
    let out = ws.tshark_ok(&args);
    let header = out.lines().find(|l| l.starts_with("Conn ")).expect(&out);
    let columns: Vec<String> = header.split('|').map(|c| c.trim().to_owned()).collect();
    out.lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            columns
                .iter()
                .cloned()
                .zip(l.split('|').map(|c| c.trim().to_owned()))
                .collect()
        })
        .collect()
}
