//! The hand-read IPv4 headers ([`ipv4_layer`]) against etherparse's
//! ([`lax_ip_layer`]), and the fixed-offset Ethernet/IPv4/TCP path
//! ([`extract_frame_into`]) against the same: both must give the keys,
//! flow and TCP payload of the reference path for every frame of the project's
//! captures, the bench sessions (ignored test: run it in release), and
//! those frames cut at every length and with header bytes changed.

use super::*;
use std::path::{Path, PathBuf};

/// Both paths on one frame; panics with the frame's bytes when they
/// differ.  True when the frame has keys.
fn same(link: Link, data: &[u8]) -> bool {
    let fast = extract_frame_with::<true>(link, data);
    let slow = extract_frame_with::<false>(link, data);
    let view = |k: &Option<FrameKeys<'_>>| {
        k.map(|k| {
            let at = k.tcp_payload.map(|p| (p.as_ptr() as usize, p.len()));
            (k.flow, k.key, at)
        })
    };
    assert_eq!(view(&fast), view(&slow), "{link:?} {data:02x?}");
    // The keys written in place, over a key and flow holding other
    // values (a field the fixed-offset path forgot would show).
    let mut flow = FlowKey {
        src: [0xAB; 16],
        sport: 7,
        proto: 99,
        ipv6: true,
        ..FlowKey::default()
    };
    let mut key = PacketKey {
        app: u64::MAX,
        flags: u16::MAX,
        encap: 0xFF,
        frag_offset: 3,
        ..PacketKey::default()
    };
    let into = extract_frame_into(link, data, &mut flow, &mut key)
        .map(|p| (flow, key, p.map(|p| (p.as_ptr() as usize, p.len()))));
    assert_eq!(into, view(&slow), "in place: {link:?} {data:02x?}");
    fast.is_some()
}

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    v
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Calls `f` on every frame of `path`; returns how many had keys.
fn each_frame(path: &Path, mut f: impl FnMut(Link, &[u8])) -> usize {
    let mut cap = crate::open(path).unwrap();
    let mut keyed = 0;
    while let Some(p) = cap.next_packet().unwrap() {
        keyed += usize::from(same(p.link, p.data));
        f(p.link, p.data);
    }
    keyed
}

/// The IPv4 header's offset in an Ethernet frame (untagged or one tag).
fn ipv4_at(link: Link, data: &[u8]) -> Option<usize> {
    let (ip, _) = link::ip_payload_mpls(link, data)?;
    (ip.first()? >> 4 == 4).then(|| ip.as_ptr() as usize - data.as_ptr() as usize)
}

/// The frame with IPv4 header fields set to what the fast path must
/// tell apart: every IHL, total lengths around the header's and the
/// captured length, fragment bits, the authentication header.
fn header_variants(link: Link, data: &[u8]) {
    let Some(at) = ipv4_at(link, data) else {
        return;
    };
    let mut d = data.to_vec();
    let caplen = (data.len() - at) as u16;
    for ihl in 0..16u8 {
        d[at] = 0x40 | ihl;
        same(link, &d);
    }
    d[at] = data[at];
    if d.len() < at + 10 {
        return;
    }
    let hlen = u16::from(data[at] & 0x0F) * 4;
    for total in [
        0,
        1,
        hlen.wrapping_sub(1),
        hlen,
        hlen + 1,
        caplen - 1,
        caplen,
        caplen + 1,
        0xFFFF,
    ] {
        d[at + 2..at + 4].copy_from_slice(&total.to_be_bytes());
        same(link, &d);
    }
    d[at + 2..at + 4].copy_from_slice(&data[at + 2..at + 4]);
    for frag in [0x2000u16, 0x0001, 0x1FFF, 0x6000, 0x8000, 0xE000, 0x4001] {
        d[at + 6..at + 8].copy_from_slice(&frag.to_be_bytes());
        same(link, &d);
    }
    d[at + 6..at + 8].copy_from_slice(&data[at + 6..at + 8]);
    for proto in [51, 1, 4, 41, 47, 50, 58, 132, 33, 136, 0, 255] {
        d[at + 9] = proto;
        same(link, &d);
    }
}

/// The frame with what the Ethernet/IPv4/TCP path ([`fast`]) tells
/// apart changed: one or two VLAN tags (802.1Q, 802.1ad) before the IP
/// header or none, every TCP data offset, DNS ports.
fn tcp_variants(link: Link, data: &[u8]) {
    let Some(at) = ipv4_at(link, data) else {
        return;
    };
    if link == Link::Ethernet && at == 14 {
        for tags in [
            &[0x81, 0x00][..],
            &[0x88, 0xA8],
            &[0x81, 0x00, 0, 5, 0x81, 0x00],
        ] {
            let mut d = data[..12].to_vec();
            d.extend_from_slice(tags);
            d.extend_from_slice(&[0x20, 0x07]);
            d.extend_from_slice(&data[12..]);
            same(link, &d);
            for n in 12..d.len().min(60) {
                same(link, &d[..n]);
            }
        }
    }
    if data.len() < at + 20 {
        return;
    }
    let t = at + usize::from(data[at] & 0x0F) * 4;
    if data[at + 9] != 6 || data.len() < t + 20 {
        return;
    }
    let mut d = data.to_vec();
    for off in 0..16u8 {
        d[t + 12] = off << 4 | data[t + 12] & 0x0F;
        same(link, &d);
    }
    d[t + 12] = data[t + 12];
    for port in [53u16, 5353, 5355, 52, 54] {
        for side in [0, 2] {
            d[t + side..t + side + 2].copy_from_slice(&port.to_be_bytes());
            same(link, &d);
            d[t + side..t + side + 2].copy_from_slice(&data[t + side..t + side + 2]);
        }
    }
}

/// The frame cut at every length, and every byte of its first 80 flipped
/// a few ways.
fn cut_and_flipped(link: Link, data: &[u8]) {
    for n in 0..data.len() {
        same(link, &data[..n]);
    }
    let mut d = data.to_vec();
    for i in 0..d.len().min(80) {
        for x in [0xFF, 0x01, 0x10, 0x40, 0x80, 0x0F, 0xF0] {
            d[i] ^= x;
            same(link, &d);
            d[i] ^= x;
        }
    }
}

#[test]
fn fast_path_equals_reference_on_project_captures() {
    let mut files = captures_in(&repo("tests/data"));
    files.extend(captures_in(&repo("examples/session-small")));
    assert!(files.len() >= 13, "{files:?}");
    let mut keyed = 0;
    for path in &files {
        let mut k = 0usize;
        keyed += each_frame(path, |link, data| {
            // Every frame's header variants; the first 300 frames of each
            // file also cut and flipped (all of them would take minutes
            // unoptimised).
            header_variants(link, data);
            tcp_variants(link, data);
            if k < 300 {
                cut_and_flipped(link, data);
            }
            k += 1;
        });
    }
    assert!(keyed > 2_000, "{keyed} frames with keys");
}

#[test]
#[ignore = "reads the bench sessions (target/bench): run with --release --ignored"]
fn fast_path_equals_reference_on_bench_sessions() {
    let mut files = captures_in(&repo("target/bench/snap256-session-small-1700"));
    files.extend(captures_in(&repo("target/bench/index-session-small-3400")));
    assert_eq!(files.len(), 8, "{files:?}");
    let mut keyed = 0;
    for (i, path) in files.iter().enumerate() {
        let mut k = 0usize;
        keyed += each_frame(path, |link, data| {
            // A frame in 1000 cut and flipped, on top of each frame whole.
            if (k + i) % 1000 == 0 {
                cut_and_flipped(link, data);
                header_variants(link, data);
                tcp_variants(link, data);
            }
            k += 1;
        });
    }
    assert!(keyed > 6_000_000, "{keyed} frames with keys");
}
