//! The commonest frame — Ethernet, at most one 802.1Q tag, IPv4, TCP —
//! read at fixed offsets, its keys written once into the caller's
//! [`FlowKey`] and [`PacketKey`].  The general path builds them in its own
//! frame, changes them field by field and returns them by value; reading
//! them back whole right after those narrow writes stalls the processor
//! (a load cannot take its bytes from several recent stores), about a
//! sixth of key extraction.  Here the connection hash and the direction
//! come from the addresses and ports held in registers.  Any frame this
//! path does not take whole (another link or ether type, a fragment, a
//! total length below the header's, a TCP header cut off, DNS ports) is
//! left to the general path; `fast_tests.rs` compares the two frame by
//! frame.

use super::ipv4::{self, Ipv4};
use super::{
    digest_of, flag, is_dns_port, mapped, timestamp_value, tuple_words_hash, FlowKey, PacketKey,
};
use crate::link::{ETHERTYPE_IPV4, ETHERTYPE_VLAN};

/// Bytes of a TCP header without options (RFC 9293, section 3.1: ports in
/// bytes 0–3, sequence 4–7, acknowledgment 8–11, data offset the high
/// nibble of 12, flags 13).
const TCP_MIN_HEADER: usize = 20;

/// The keys of an Ethernet frame carrying IPv4 and TCP, written into
/// `flow` and `key`, and its TCP payload; None (nothing written) for any
/// other frame.
#[inline]
pub(super) fn ethernet_ipv4_tcp<'a>(
    data: &'a [u8],
    flow: &mut FlowKey,
    key: &mut PacketKey,
) -> Option<&'a [u8]> {
    let ip = ipv4_of_ethernet(data)?;
    let h = Ipv4::at(ip)?;
    let hlen = h.header_len();
    let total = h.total_len();
    let frag = h.frag_word();
    // Not a fragment (MF or an offset), the total length usable: what
    // the general path reads as `ipv4_layer` does, then `tcp`.
    if h.version() != 4 || hlen < ipv4::MIN_LEN || ip.len() < hlen || total < hlen {
        return None;
    }
    if h.protocol() != 6 || frag & (ipv4::MF | ipv4::OFFSET) != 0 {
        return None;
    }
    let p = &ip[hlen..total.min(ip.len())];
    let t: &[u8; TCP_MIN_HEADER] = p.first_chunk()?;
    let thlen = usize::from(t[12] >> 4) * 4;
    let sport = u16::from_be_bytes([t[0], t[1]]);
    let dport = u16::from_be_bytes([t[2], t[3]]);
    if thlen < TCP_MIN_HEADER || p.len() < thlen || is_dns_port(sport) || is_dns_port(dport) {
        return None;
    }
    let (src, dst) = (h.src(), h.dst());
    // The mapped addresses (::ffff:a.b.c.d) compare as the IPv4 ones.
    let reverse = (u32::from_be_bytes(src), sport) > (u32::from_be_bytes(dst), dport);
    let (lo, hi) = if reverse { (dst, src) } else { (src, dst) };
    let ports = if reverse {
        [dport, sport]
    } else {
        [sport, dport]
    };
    let conn_hash = tuple_words_hash([mapped_words(lo), mapped_words(hi)], ports, 6, false);
    let len = (total - hlen).saturating_sub(thlen);
    let payload = &p[thlen..];
    let (digest, partial) = digest_of(payload, len);
    let tsval = timestamp_value(&p[TCP_MIN_HEADER..thlen]);
    let mut flags = flag::HAS_IP_ID;
    for (on, bit) in [
        (frag & ipv4::DF != 0, flag::DF),
        (tsval.is_some(), flag::HAS_TSVAL),
        (partial, flag::PARTIAL_DIGEST),
        (reverse, flag::REVERSE),
    ] {
        if on {
            flags |= bit;
        }
    }
    *flow = FlowKey {
        src: mapped(src),
        dst: mapped(dst),
        sport,
        dport,
        proto: 6,
        ipv6: false,
    };
    *key = PacketKey {
        conn_hash,
        app: 0,
        seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
        tsval: tsval.unwrap_or(0),
        ip_id: u32::from(h.ident()),
        l4_len: len as u32,
        digest,
        frag_offset: 0,
        flags,
        proto: 6,
        tcp_flags: t[13],
        ttl: h.ttl(),
        encap: 0,
    };
    Some(payload)
}

/// The IPv4 packet of an Ethernet II frame, untagged or with one 802.1Q
/// tag (as `link::ip_payload_mpls` finds it); None for anything else.
#[inline]
fn ipv4_of_ethernet(data: &[u8]) -> Option<&[u8]> {
    let be16 = |at: usize| Some(u16::from_be_bytes(*data.get(at..)?.first_chunk()?));
    let (ether_type, at) = match be16(12)? {
        ETHERTYPE_VLAN => (be16(16)?, 18),
        t => (t, 14),
    };
    match ether_type {
        ETHERTYPE_IPV4 => data.get(at..),
        _ => None,
    }
}

/// The two little-endian 64-bit words of an IPv4 address as [`mapped`]
/// stores it (::ffff:a.b.c.d), as [`super::FlowKey::conn_hash`] hashes it.
#[inline]
fn mapped_words(v4: [u8; 4]) -> [u64; 2] {
    [0, 0xFFFF_0000 | u64::from(u32::from_le_bytes(v4)) << 32]
}
