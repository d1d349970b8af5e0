//! Test records and framings, built with [`crate::build`].

use crate::build::{self, Header};
use crate::layout::{pthdr, rdw};

pub const TOD: u64 = 0xDA00_0000_0000_0000;

/// A packet trace (or `fmt`) CTE: header values, then `payload`.
pub fn entry(fmt: u8, seq: u8, tlen: u32, out: bool, payload: &[u8]) -> Vec<u8> {
    let h = Header {
        seq,
        flags: if out { pthdr::OUT.mask } else { 0 },
        device_type: 39,
        tlen,
        name: build::name16("OSAQDIO1"),
        tod: TOD + u64::from(tlen),
        src: crate::pthdr::ip_to_16("10.0.0.1".parse().unwrap()),
        dst: crate::pthdr::ip_to_16("10.0.0.2".parse().unwrap()),
        sport: 1024,
        dport: 80,
        plen: tlen as u16,
        interface_index: 3,
        ..Header::default()
    };
    let mut data = h.bytes();
    data.extend_from_slice(payload);
    build::cte(u32::from(fmt), TOD + 4096, &data)
}

/// A whole packet trace entry of `n` traced bytes (an IPv4 header first
/// when `n` ≥ 20, with the right total length).
pub fn packet(n: usize, out: bool) -> Vec<u8> {
    entry(4, 0, n as u32, out, &ipv4(n))
}

pub fn ipv4(n: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..n).map(|i| i as u8).collect();
    if n >= 20 {
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    }
    p
}

/// `bytes` split into segmented records of at most `piece` traced bytes.
pub fn segmented(fmt: u8, bytes: &[u8], piece: usize, out: bool) -> Vec<Vec<u8>> {
    let mut seq = 0u8;
    bytes
        .chunks(piece)
        .map(|c| {
            let e = entry(fmt, seq, bytes.len() as u32, out, c);
            seq = crate::pthdr::next_seq(seq);
            e
        })
        .collect()
}

/// Raw framing: writer buffers of `size` bytes, each starting with
/// `header`, then as many entries as fit, zero-padded.
pub fn raw(ctes: &[Vec<u8>], size: usize, header: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = header.to_vec();
    for c in ctes {
        if buf.len() + c.len() > size && buf.len() > header.len() {
            buf.resize(size.max(buf.len()), 0);
            out.append(&mut buf);
            buf = header.to_vec();
        }
        buf.extend_from_slice(c);
    }
    if buf.len() > header.len() {
        buf.resize(size.max(buf.len()), 0);
        out.append(&mut buf);
    }
    out
}

/// The contents of writer buffers (as [`raw`]) as logical records.
pub fn records(ctes: &[Vec<u8>], size: usize, header: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = header.to_vec();
    for c in ctes {
        if buf.len() + c.len() > size && buf.len() > header.len() {
            out.push(std::mem::replace(&mut buf, header.to_vec()));
        }
        buf.extend_from_slice(c);
    }
    if buf.len() > header.len() {
        out.push(buf);
    }
    out
}

/// Each logical record as one RDW record (no spanning, whatever its
/// length).
pub fn rdw_records(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(&build::rdw(r.len() + rdw::SIZE, rdw::COMPLETE));
        out.extend_from_slice(r);
    }
    out
}

/// Each logical record as segments of at most `seg` data bytes (VBS).
pub fn vbs_segments(records: &[Vec<u8>], seg: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for r in records {
        let pieces: Vec<&[u8]> = r.chunks(seg).collect();
        for (i, p) in pieces.iter().enumerate() {
            let code = match (i == 0, i + 1 == pieces.len()) {
                (true, true) => rdw::COMPLETE,
                (true, false) => rdw::FIRST,
                (false, true) => rdw::LAST,
                (false, false) => rdw::MIDDLE,
            };
            let mut s = build::rdw(p.len() + rdw::SIZE, code).to_vec();
            s.extend_from_slice(p);
            out.push(s);
        }
    }
    out
}

/// Descriptor-framed records (RDW or SDW included) in BDW blocks of at most
/// `block` bytes.
pub fn bdw_blocks(framed: &[Vec<u8>], block: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let close = |out: &mut Vec<u8>, cur: &mut Vec<u8>| {
        if !cur.is_empty() {
            out.extend_from_slice(&build::bdw(cur.len() + 4));
            out.append(cur);
        }
    };
    for r in framed {
        if 4 + cur.len() + r.len() > block {
            close(&mut out, &mut cur);
        }
        cur.extend_from_slice(r);
    }
    close(&mut out, &mut cur);
    out
}
