//! Any bytes through the `capture` crate: key extraction for every link
//! type (and the ICMP-error inner flow), with the consistency the key
//! documentation promises; then the same bytes as a whole capture file —
//! format detection (pcap, pcapng, gzip, CTRACE) and packet iteration, each
//! packet's keys extracted.  The first byte picks a file header to put in
//! front (none, a pcap header, a pcapng section and interface block) and
//! its link type, so that the record walkers are reached without the
//! fuzzer having to find the magics first.  A panic is a bug.
#![no_main]

use capture::{keys, App, Link};
use libfuzzer_sys::fuzz_target;

const LINKS: [Link; 8] = [
    Link::Ethernet,
    Link::Raw,
    Link::LinuxSll,
    Link::LinuxSll2,
    Link::Null,
    Link::Loop,
    Link::Ctrace(5),
    Link::Other(147),
];

const LINKTYPES: [u32; 8] = [1, 101, 113, 276, 0, 108, 228, 229];

fn check_keys(link: Link, data: &[u8]) {
    if let Some((flow, key)) = keys::extract(link, data) {
        assert_eq!(key.conn_hash, flow.conn_hash());
        assert_eq!(key.flow_hash(), flow.flow_hash());
        assert_eq!(key.proto, flow.proto);
        assert_eq!(key.is_ipv6(), flow.ipv6);
        assert_eq!(flow.canonical().0, flow.reversed().canonical().0);
        assert_eq!(App::unpack(key.app).pack(), key.app);
        let _ = (
            key.nat_hash(),
            key.content_hash(),
            key.seq_end(),
            key.ip_id(),
            key.tsval(),
        );
        let _ = (flow.src_ip(), flow.dst_ip(), flow.without_ports());
        if key.has(keys::flag::NO_PORTS) {
            assert_eq!((flow.sport, flow.dport), (0, 0));
        }
    }
    if let Some(inner) = keys::icmp_error_inner(link, data) {
        let _ = inner.flow_hash();
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&ctl, data)) = input.split_first() else {
        return;
    };
    for link in LINKS {
        check_keys(link, data);
    }
    let linktype = LINKTYPES[usize::from(ctl >> 3) % LINKTYPES.len()];
    let mut file = Vec::with_capacity(data.len() + 64);
    match ctl & 3 {
        1 => {
            let magic: u32 = if ctl & 4 != 0 {
                0xA1B2_3C4D
            } else {
                0xA1B2_C3D4
            };
            file.extend_from_slice(&magic.to_le_bytes());
            file.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            file.extend_from_slice(&65535u32.to_le_bytes());
            file.extend_from_slice(&linktype.to_le_bytes());
        }
        2 => {
            // section header (28 bytes), interface block (20 bytes)
            file.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
            file.extend_from_slice(&28u32.to_le_bytes());
            file.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
            file.extend_from_slice(&[1, 0, 0, 0]);
            file.extend_from_slice(&u64::MAX.to_le_bytes());
            file.extend_from_slice(&28u32.to_le_bytes());
            file.extend_from_slice(&1u32.to_le_bytes());
            file.extend_from_slice(&20u32.to_le_bytes());
            file.extend_from_slice(&(linktype as u16).to_le_bytes());
            file.extend_from_slice(&[0, 0]);
            file.extend_from_slice(&0u32.to_le_bytes());
            file.extend_from_slice(&20u32.to_le_bytes());
        }
        _ => {}
    }
    file.extend_from_slice(data);
    let Ok(mut cap) = capture::from_bytes(&file) else {
        return;
    };
    let mut n = 0u32;
    let mut last_frame = 0;
    let mut interfaces_used = 0;
    loop {
        match cap.next_packet() {
            Ok(Some(p)) => {
                n += 1;
                assert!(p.frame > last_frame);
                last_frame = p.frame;
                interfaces_used = interfaces_used.max(p.interface as usize + 1);
                check_keys(p.link, p.data);
            }
            Ok(None) => break,
            Err(e) => {
                let _ = (e.to_string(), e.offset(), e.is_truncation());
                assert!(cap.next_packet().map(|p| p.is_none()).unwrap_or(false));
                break;
            }
        }
        if n > 100_000 {
            break;
        }
    }
    // interface numbers index Capture::interfaces
    assert!(interfaces_used <= cap.interfaces().len());
    for i in cap.interfaces() {
        let _ = (i.link.linktype(), i.link.is_decoded());
    }
});
