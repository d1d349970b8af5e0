//! Per-packet matching keys: [`extract`] turns one frame into a [`FlowKey`]
//! (the 5-tuple, kept once per connection by the caller) and a
//! [`PacketKey`] (48 bytes, `Copy`, kept per packet).
//!
//! # What matching needs, and where it is
//!
//! The indexer looks for the same packet in captures taken at several points
//! of a path, through NAT/PAT, firewalls that randomise TCP sequence
//! numbers, TSO/GSO, proxies (see shared/research/matching.md).  It needs:
//!
//! | need | field |
//! |---|---|
//! | (a) same addressing: exact 5-tuple and direction | [`PacketKey::conn_hash`] + [`flag::REVERSE`] ([`PacketKey::flow_hash`]); the [`FlowKey`] itself |
//! | (b) NAT-tolerant lookup, no addresses/ports | [`PacketKey::nat_hash`], [`PacketKey::content_hash`] (computed, not stored) |
//! | (c) IP ID | [`PacketKey::ip_id`] with [`flag::HAS_IP_ID`] (IPv4, or an IPv6 fragment header's 32-bit id) |
//! | (d) TCP | [`seq`](PacketKey::seq), [`ack`](PacketKey::ack) (absolute), [`tcp_flags`](PacketKey::tcp_flags), [`l4_len`](PacketKey::l4_len) (payload), [`tsval`](PacketKey::tsval) |
//! | (e) UDP length | [`l4_len`](PacketKey::l4_len) = UDP length − 8 |
//! | (f) content fingerprint | [`digest`](PacketKey::digest): 32-bit hash of the first ≤ 64 L4 payload bytes |
//! | (g) application identity | [`app`](PacketKey::app), a tagged u64 ([`App`]) |
//! | fragments | [`frag_offset`](PacketKey::frag_offset), [`flag::MF`], [`flag::FRAGMENT`], [`flag::NO_PORTS`] |
//! | hop order | [`ttl`](PacketKey::ttl) (not invariant: one less per router) |
//!
//! # Layout (48 bytes, checked at compile time)
//!
//! ```text
//! conn_hash u64  direction-insensitive hash of the 5-tuple (canonical order)
//! app       u64  tagged application id: tag in the top byte, 56-bit value
//! seq       u32  TCP sequence number (absolute, as on the wire)
//! ack       u32  TCP acknowledgement number
//! tsval     u32  TCP timestamp option TSval (flag::HAS_TSVAL)
//! ip_id     u32  IPv4 identification, or IPv6 fragment identification
//! l4_len    u32  L4 payload length per the IP/UDP length fields
//! digest    u32  hash of the first min(64, l4_len) payload bytes, 0 if none
//! frag_offset u16  fragment offset in 8-byte units
//! flags     u16  flag::*
//! proto     u8   IP protocol of the (innermost) packet
//! tcp_flags u8   TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN)
//! ttl       u8   IPv4 TTL / IPv6 hop limit
//! (3 bytes padding)
//! ```
//!
//! An index record then fits in 64 bytes: this key, the time stamp (8) and
//! the frame number (4), with 4 bytes to spare for a file or flow number.
//!
//! # Design choices
//!
//! * **Flow identity as one hash plus a direction bit.**  `conn_hash` hashes
//!   the 5-tuple with its endpoints in canonical order (lower (address,
//!   port) first), and [`flag::REVERSE`] says the packet goes from the higher
//!   endpoint to the lower.  The pair is the direction-sensitive identity
//!   ([`PacketKey::flow_hash`], equal to [`FlowKey::flow_hash`]); `conn_hash`
//!   alone groups both directions of a connection.  One u64 serves both
//!   lookups instead of two.  At 2^-64 per pair, hash collisions between
//!   flows are negligible for any capture (10^7 flows: ~3·10^-6 chance of any
//!   collision); a matcher that cares compares the interned [`FlowKey`].
//! * **Addresses live in [`FlowKey`], not in the packet key.**  A FlowKey is
//!   38 bytes (IPv6-sized addresses, IPv4 as `::ffff:a.b.c.d`); a capture
//!   has a few flows per thousand packets, so the caller interns it
//!   (`HashMap<FlowKey, u32>`) and the per-packet record stays at 48 bytes.
//! * **NAT-tolerant keys are computed, not stored.**  Which fields survive
//!   depends on the middlebox; [`PacketKey::nat_hash`] (NAT/PAT: leaves out
//!   addresses, ports, checksums, TTL, the ICMP echo id) and
//!   [`PacketKey::content_hash`] (also sequence randomisation, IP ID
//!   rewriting, timestamp rewriting) hash the surviving stored fields, so a
//!   matcher picks a tier without a bigger record.
//! * **Digest.**  The first up to 64 bytes of the L4 payload (not headers,
//!   so NAT does not change it; bounded by the IP length, so Ethernet
//!   padding does not count), hashed to 32 bits with [`crate::hash`].  It
//!   tells apart packets with equal lengths and sequence numbers
//!   (retransmissions carry the same bytes and so the same digest, as they
//!   should).  When the capture cut the payload short of 64 bytes,
//!   [`flag::PARTIAL_DIGEST`] says the digest cannot be compared with one
//!   from a capture with a larger snap length.
//! * **Left out:** the TCP window (rewritten by window-scaling middleboxes
//!   and proxies; no matcher should trust it), checksums (change with NAT),
//!   DSCP/ECN (re-marked), IP options, TCP options other than TSval (MSS is
//!   clamped; SACK blocks are a per-connection question the matcher asks of
//!   the packets themselves), VLAN ids and MAC addresses (per hop), the
//!   capture's own metadata (time, frame number, interface, direction:
//!   they are in [`Packet`](crate::Packet)).
//! * **Tunnels** (IPv4/IPv6 in IP, GRE carrying IP, Ethernet (TEB), MPLS or
//!   ERSPAN I/II/III, VXLAN on UDP 4789, Geneve on UDP 6081, GTP-U on UDP
//!   2152, MPLS on UDP 6635; MPLS label stacks on the link) are opened, up
//!   to 3 deep: the keys describe the innermost packet, [`flag::TUNNEL`] is
//!   set and [`PacketKey::encap`] says which tunnels were around it, since
//!   the inner packet is what another capture point sees bare (a remote
//!   capture: a switch's ERSPAN session, a VXLAN underlay).
//!   [`inner_ip`] gives every other stage the same inner packet.
//! * **Fragments.**  A first fragment is keyed as usual (ports, TCP/UDP
//!   header) and carries [`flag::FRAGMENT`] and [`flag::MF`]; later
//!   fragments have no L4 header: [`flag::NO_PORTS`], ports 0 in the
//!   FlowKey, `l4_len` the fragment's payload and `digest` over its first
//!   bytes.  The matcher joins them to the first fragment by (addresses,
//!   protocol, IP ID) — [`FlowKey::without_ports`].
//! * **ICMP errors** carry the offending packet: [`App::IcmpError`] holds 56
//!   bits of its direction-sensitive [`FlowKey::flow_hash`] (so the error
//!   can be tied to its flow in the same capture), [`icmp_error_inner`]
//!   gives the inner FlowKey itself, and the digest covers only NAT-invariant
//!   inner fields (inner IP ID, protocol, TCP sequence number / UDP length).
//! * **Never a panic:** every length is checked; a packet whose IP header
//!   cannot be read gives None, anything damaged or cut off further down
//!   gives a partial key with [`flag::L4_PARTIAL`] or
//!   [`flag::PARTIAL_DIGEST`].

use crate::hash::{digest32, fmix64, Hasher, SEED_CONTENT, SEED_DNS, SEED_FLOW, SEED_NAT};
use crate::link::{self, Link};
use etherparse::{
    Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, IpAuthHeaderSlice, IpNumber, LaxIpSlice,
    TcpHeaderSlice, UdpHeaderSlice,
};
use etherparse::{Ipv6FragmentHeaderSlice, Ipv6RawExtHeaderSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bits of [`PacketKey::flags`].
pub mod flag {
    /// IPv6 (else IPv4).
    pub const IPV6: u16 = 1 << 0;
    /// [`ip_id`](super::PacketKey::ip_id) holds an identification: always
    /// for IPv4, for IPv6 only with a fragment header.
    pub const HAS_IP_ID: u16 = 1 << 1;
    /// IPv4 don't-fragment bit.
    pub const DF: u16 = 1 << 2;
    /// More fragments follow (IPv4 MF bit, IPv6 M flag).
    pub const MF: u16 = 1 << 3;
    /// Part of a fragmented datagram: MF set or a non-zero offset.
    pub const FRAGMENT: u16 = 1 << 4;
    /// The packet should have ports but they are unknown (a later fragment,
    /// or an L4 header cut off before them); the FlowKey's ports are 0.
    pub const NO_PORTS: u16 = 1 << 5;
    /// The L4 header is cut short or malformed: the fields it would have
    /// given are partly 0.
    pub const L4_PARTIAL: u16 = 1 << 6;
    /// The digest covers fewer than min(64, l4_len) bytes: the capture cut
    /// the payload.
    pub const PARTIAL_DIGEST: u16 = 1 << 7;
    /// [`tsval`](super::PacketKey::tsval) holds a TCP timestamp option.
    pub const HAS_TSVAL: u16 = 1 << 8;
    /// The packet goes from the higher to the lower endpoint of the
    /// canonical 5-tuple.
    pub const REVERSE: u16 = 1 << 9;
    /// The keys describe a tunnelled (inner) packet.
    pub const TUNNEL: u16 = 1 << 10;
    /// The IP length field was 0 or too small (typical of captures on a
    /// host doing TSO/GSO): lengths come from the captured bytes.
    pub const LEN_FROM_CAPTURE: u16 = 1 << 11;
}

/// Bits of [`PacketKey::encap`]: the tunnels around the packet the keys
/// describe (the same bits as the index's per-point ENCAPSULATIONS,
/// docs/index-format.md).
pub mod encap {
    /// GRE carrying IP or Ethernet (RFC 2784, 2890).
    pub const GRE: u8 = 1 << 0;
    /// ERSPAN type I or II (GRE 0x88BE).
    pub const ERSPAN_I_II: u8 = 1 << 1;
    /// ERSPAN type III (GRE 0x22EB).
    pub const ERSPAN_III: u8 = 1 << 2;
    /// VXLAN (RFC 7348, UDP 4789).
    pub const VXLAN: u8 = 1 << 3;
    /// Geneve (RFC 8926, UDP 6081).
    pub const GENEVE: u8 = 1 << 4;
    /// An MPLS label stack (RFC 3032): on the link, in GRE, in UDP 6635.
    pub const MPLS: u8 = 1 << 5;
    /// IPv4 or IPv6 directly in IP (protocols 4 and 41).
    pub const IP_IN_IP: u8 = 1 << 6;
    /// GTP-U (3GPP TS 29.281, UDP 2152).
    pub const GTP_U: u8 = 1 << 7;
}

/// UDP ports of the tunnels [`extract`] opens.
mod tunnel_port {
    pub const VXLAN: u16 = 4789;
    pub const GENEVE: u16 = 6081;
    pub const GTP_U: u16 = 2152;
    /// MPLS in UDP (RFC 7510).
    pub const MPLS: u16 = 6635;
}

/// How many payload bytes the digest covers at most.
pub const DIGEST_BYTES: usize = 64;

/// Ports that servers listen on: the well-known ones (below 1024, RFC 6335
/// §6) and registered ports commonly served (databases, proxies, VPNs,
/// SIP, STUN, RADIUS, Enterprise Extender).  The endpoint on one is the
/// server when nothing else (a SYN, an echo request) says who the client is.
pub fn is_service_port(p: u16) -> bool {
    p < 1024
        || matches!(
            p,
            1194 | 1433
                | 1812
                | 1813
                | 2049
                | 3128
                | 3306
                | 3478
                | 4500
                | 5060
                | 5061
                | 5353
                | 5432
                | 8000
                | 8080
                | 8443
                | 8888
                | 12000..=12004 | 51820
        )
}

/// Who the client is by port roles: `Some(true)` when the endpoint with
/// port `a` is the client (`b` is on a service port and `a` is not),
/// `Some(false)` the other way round, None when the ports do not say.
pub fn client_by_ports(a: u16, b: u16) -> Option<bool> {
    match (is_service_port(a), is_service_port(b)) {
        (false, true) => Some(true),
        (true, false) => Some(false),
        _ => None,
    }
}

/// Most tunnel layers opened.
const MAX_TUNNEL_DEPTH: u8 = 3;

/// TCP flag bits.
pub mod tcp {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A flow's 5-tuple as the packet carries it (source first).  IPv4
/// addresses are stored IPv4-mapped (`::ffff:a.b.c.d`).  For ICMP/ICMPv6
/// echo both ports hold the echo identifier (as Linux conntrack does), for
/// other protocols without ports both are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub ipv6: bool,
}

const _: () = assert!(std::mem::size_of::<FlowKey>() <= 38);

impl FlowKey {
    fn addr(b: &[u8; 16], v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::from(*b))
        } else {
            IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15]))
        }
    }

    /// Source address.
    pub fn src_ip(&self) -> IpAddr {
        Self::addr(&self.src, self.ipv6)
    }

    /// Destination address.
    pub fn dst_ip(&self) -> IpAddr {
        Self::addr(&self.dst, self.ipv6)
    }

    /// The same flow seen the other way.
    #[inline]
    pub fn reversed(&self) -> FlowKey {
        FlowKey {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            ..*self
        }
    }

    /// True when (src, sport) ≤ (dst, dport): the canonical direction.
    #[inline]
    pub fn is_canonical(&self) -> bool {
        (self.src, self.sport) <= (self.dst, self.dport)
    }

    /// The canonical form (lower endpoint first) and whether this key had
    /// to be reversed to get it.
    #[inline]
    pub fn canonical(&self) -> (FlowKey, bool) {
        if self.is_canonical() {
            (*self, false)
        } else {
            (self.reversed(), true)
        }
    }

    /// Either address never leaves its link: a router does not forward
    /// it, nor does a NAT translate it.  IPv6 link-local unicast fe80::/10
    /// (RFC 4291 §2.5.6) and multicast of interface- or link-local scope
    /// (ff01::/16, ff02::/16 and their flag variants: scope 1 or 2, RFC 4291
    /// §2.7); IPv4's Local Network Control Block 224.0.0.0/24 (RFC 5771
    /// §4) and the limited broadcast 255.255.255.255 (RFC 919 §7).  Such a
    /// packet seen with other addresses at another point is another packet
    /// (each interface's own MLD report, say), however alike its content.
    /// Not IPv4 link-local unicast 169.254.0.0/16 (RFC 3927): hosts do
    /// translate it (containers reaching a cloud's metadata service at
    /// 169.254.169.254 through the host's masquerade).
    pub fn link_scoped(&self) -> bool {
        let scoped = |a: &[u8; 16]| {
            if self.ipv6 {
                (a[0] == 0xfe && a[1] & 0xc0 == 0x80)
                    || (a[0] == 0xff && matches!(a[1] & 0x0f, 1 | 2))
            } else {
                let v4 = [a[12], a[13], a[14], a[15]];
                (v4[0] == 224 && v4[1] == 0 && v4[2] == 0) || v4 == [255; 4]
            }
        };
        scoped(&self.src) || scoped(&self.dst)
    }

    /// The same two addresses, whichever is the source.
    pub fn same_addresses(&self, other: &FlowKey) -> bool {
        self.ipv6 == other.ipv6
            && ((self.src, self.dst) == (other.src, other.dst)
                || (self.src, self.dst) == (other.dst, other.src))
    }

    /// The same flow without ports: what a later fragment and its first
    /// fragment share (with the IP ID).
    pub fn without_ports(&self) -> FlowKey {
        FlowKey {
            sport: 0,
            dport: 0,
            ..*self
        }
    }

    fn tuple_hash(&self, reversed: bool) -> u64 {
        let (a, b, pa, pb) = if reversed {
            (&self.dst, &self.src, self.dport, self.sport)
        } else {
            (&self.src, &self.dst, self.sport, self.dport)
        };
        let w = |x: &[u8; 16]| {
            let (hi, lo) = x.split_at(8);
            let word = |q: &[u8]| u64::from_le_bytes(q.try_into().unwrap_or_default());
            [word(hi), word(lo)]
        };
        tuple_words_hash([w(a), w(b)], [pa, pb], self.proto, self.ipv6)
    }

    /// Direction-insensitive hash: equal for both directions of a
    /// connection.
    pub fn conn_hash(&self) -> u64 {
        self.tuple_hash(!self.is_canonical())
    }

    /// Direction-sensitive hash (equals [`PacketKey::flow_hash`] of the
    /// packets of this flow in this direction).
    pub fn flow_hash(&self) -> u64 {
        directed(self.conn_hash(), !self.is_canonical())
    }
}

/// [`FlowKey`]'s 5-tuple hash from its parts in the order hashed: each
/// address as its two little-endian 64-bit words, then the ports, the
/// protocol and the IP version.  Apart from the key so that a reader
/// holding the addresses in registers ([`fast`]) hashes them as they are.
#[inline]
fn tuple_words_hash(addrs: [[u64; 2]; 2], ports: [u16; 2], proto: u8, ipv6: bool) -> u64 {
    let mut h = Hasher::new(SEED_FLOW);
    for w in addrs.as_flattened() {
        h.word(*w);
    }
    h.word(
        u64::from(ports[0]) << 32
            | u64::from(ports[1]) << 16
            | u64::from(proto) << 8
            | u64::from(ipv6),
    );
    h.finish()
}

/// The direction-sensitive hash from the connection hash and the direction.
fn directed(conn_hash: u64, reverse: bool) -> u64 {
    if reverse {
        fmix64(conn_hash ^ 0x5851_F42D_4C95_7F2D)
    } else {
        conn_hash
    }
}

/// An application-level identity found in the packet, stored in
/// [`PacketKey::app`] as a tag (top byte) and a 56-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    None,
    /// DNS (UDP/TCP 53, mDNS 5353, LLMNR 5355): transaction id and a 32-bit
    /// hash of the first question (name lower-cased, type, class; 0 when
    /// there is none or it cannot be read).
    Dns {
        id: u16,
        question: u32,
    },
    /// ICMP (v6 false) or ICMPv6 echo request/reply.  PAT may rewrite `id`.
    IcmpEcho {
        v6: bool,
        reply: bool,
        id: u16,
        seq: u16,
    },
    /// DHCP/BOOTP (UDP 67/68): op (1 request, 2 reply) and transaction id.
    Dhcp {
        op: u8,
        xid: u32,
    },
    /// DHCPv6 (UDP 546/547): message type and 24-bit transaction id.
    Dhcpv6 {
        msg_type: u8,
        txid: u32,
    },
    /// Enterprise Extender HPR/RTP (UDP 12000-12004): low 24 bits of the
    /// THDR's transport connection id and its byte sequence number.
    Ee {
        tcid_low: u32,
        bsn: u32,
    },
    /// ICMP/ICMPv6 error: 56 bits of the inner packet's
    /// [`FlowKey::flow_hash`] (0 if the inner packet cannot be read).
    IcmpError {
        v6: bool,
        inner: u64,
    },
    /// IPsec ESP (IP protocol 50, or UDP 4500 NAT-T): low 24 bits of the SPI
    /// and the sequence number.
    Esp {
        spi_low: u32,
        seq: u32,
    },
}

/// Tags of [`App`] in the top byte of [`PacketKey::app`].
pub mod app_tag {
    pub const NONE: u8 = 0;
    pub const DNS: u8 = 1;
    pub const ICMP_ECHO: u8 = 2;
    pub const ICMPV6_ECHO: u8 = 3;
    pub const DHCP: u8 = 4;
    pub const DHCPV6: u8 = 5;
    pub const EE: u8 = 6;
    pub const ICMP_ERROR: u8 = 7;
    pub const ICMPV6_ERROR: u8 = 8;
    pub const ESP: u8 = 9;
}

const LOW56: u64 = (1 << 56) - 1;
const LOW24: u32 = (1 << 24) - 1;

impl App {
    /// The tagged u64 form.
    pub fn pack(self) -> u64 {
        use app_tag::*;
        let (tag, v) = match self {
            App::None => (NONE, 0),
            App::Dns { id, question } => (DNS, u64::from(id) << 32 | u64::from(question)),
            App::IcmpEcho { v6, reply, id, seq } => (
                if v6 { ICMPV6_ECHO } else { ICMP_ECHO },
                u64::from(reply) << 32 | u64::from(id) << 16 | u64::from(seq),
            ),
            App::Dhcp { op, xid } => (DHCP, u64::from(op) << 32 | u64::from(xid)),
            App::Dhcpv6 { msg_type, txid } => {
                (DHCPV6, u64::from(msg_type) << 24 | u64::from(txid & LOW24))
            }
            App::Ee { tcid_low, bsn } => (EE, u64::from(tcid_low & LOW24) << 32 | u64::from(bsn)),
            App::IcmpError { v6, inner } => {
                (if v6 { ICMPV6_ERROR } else { ICMP_ERROR }, inner & LOW56)
            }
            App::Esp { spi_low, seq } => (ESP, u64::from(spi_low & LOW24) << 32 | u64::from(seq)),
        };
        u64::from(tag) << 56 | (v & LOW56)
    }

    /// Back from the tagged form; unknown tags give [`App::None`].
    pub fn unpack(packed: u64) -> App {
        use app_tag::*;
        let v = packed & LOW56;
        let lo32 = v as u32;
        match (packed >> 56) as u8 {
            DNS => App::Dns {
                id: (v >> 32) as u16,
                question: lo32,
            },
            t @ (ICMP_ECHO | ICMPV6_ECHO) => App::IcmpEcho {
                v6: t == ICMPV6_ECHO,
                reply: (v >> 32) & 1 != 0,
                id: (v >> 16) as u16,
                seq: v as u16,
            },
            DHCP => App::Dhcp {
                op: (v >> 32) as u8,
                xid: lo32,
            },
            DHCPV6 => App::Dhcpv6 {
                msg_type: (v >> 24) as u8,
                txid: lo32 & LOW24,
            },
            EE => App::Ee {
                tcid_low: (v >> 32) as u32,
                bsn: lo32,
            },
            t @ (ICMP_ERROR | ICMPV6_ERROR) => App::IcmpError {
                v6: t == ICMPV6_ERROR,
                inner: v,
            },
            ESP => App::Esp {
                spi_low: (v >> 32) as u32,
                seq: lo32,
            },
            _ => App::None,
        }
    }
}

/// The part of a packed [`App`] that survives NAT/PAT: the ICMP echo id
/// (PAT translates it like a port) and the ICMP error's inner flow hash
/// (NAT rewrites the inner addresses) are dropped.
pub fn app_nat_safe(packed: u64) -> u64 {
    use app_tag::*;
    match (packed >> 56) as u8 {
        ICMP_ECHO | ICMPV6_ECHO => packed & !(0xFFFF << 16),
        ICMP_ERROR | ICMPV6_ERROR => packed & !LOW56,
        _ => packed,
    }
}

/// The per-packet matching record (see the module documentation for the
/// layout and what each field is for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PacketKey {
    /// Direction-insensitive hash of the 5-tuple ([`FlowKey::conn_hash`]).
    pub conn_hash: u64,
    /// Tagged application id ([`App::pack`]); 0 for none.
    pub app: u64,
    /// TCP sequence number, absolute.
    pub seq: u32,
    /// TCP acknowledgement number, absolute.
    pub ack: u32,
    /// TCP timestamp option TSval ([`flag::HAS_TSVAL`]).
    pub tsval: u32,
    /// IPv4 identification (16 bits) or IPv6 fragment identification
    /// ([`flag::HAS_IP_ID`]).
    pub ip_id: u32,
    /// L4 payload length from the length fields (not the captured bytes):
    /// TCP payload, UDP length − 8, ICMP body after its 8-byte header, ESP
    /// and others the whole IP payload; a later fragment its payload.
    pub l4_len: u32,
    /// 32-bit hash of the first min(64, l4_len) bytes of L4 payload (0: no
    /// payload).  ICMP errors: of the NAT-invariant inner fields.
    pub digest: u32,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// [`flag`] bits.
    pub flags: u16,
    /// IP protocol (after IPv6 extension headers).
    pub proto: u8,
    /// TCP flags byte ([`tcp`] bits).
    pub tcp_flags: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// [`encap`] bits: the tunnels the packet arrived in (0: bare).
    pub encap: u8,
}

const _: () = assert!(std::mem::size_of::<PacketKey>() <= 48);

impl PacketKey {
    /// True if the flag bit(s) are all set.
    #[inline]
    pub fn has(&self, bits: u16) -> bool {
        self.flags & bits == bits
    }

    /// IPv6 (else IPv4).
    pub fn is_ipv6(&self) -> bool {
        self.has(flag::IPV6)
    }

    /// The IP identification, if the packet has one.
    pub fn ip_id(&self) -> Option<u32> {
        self.has(flag::HAS_IP_ID).then_some(self.ip_id)
    }

    /// The TCP TSval, if the packet has a timestamp option.
    pub fn tsval(&self) -> Option<u32> {
        self.has(flag::HAS_TSVAL).then_some(self.tsval)
    }

    /// A fragment after the first: no L4 header.
    #[inline]
    pub fn is_later_fragment(&self) -> bool {
        self.frag_offset != 0
    }

    /// The application id.
    pub fn app(&self) -> App {
        App::unpack(self.app)
    }

    /// Direction-sensitive flow hash (the same value as
    /// [`FlowKey::flow_hash`] of the packet's FlowKey).
    pub fn flow_hash(&self) -> u64 {
        directed(self.conn_hash, self.has(flag::REVERSE))
    }

    /// TCP: the sequence number after this segment (SYN and FIN count one).
    /// With `seq` this is the byte range `[seq, seq_end)` that TSO/GSO/GRO
    /// split or join.
    pub fn seq_end(&self) -> u32 {
        let syn_fin =
            u32::from(self.tcp_flags & tcp::SYN != 0) + u32::from(self.tcp_flags & tcp::FIN != 0);
        self.seq.wrapping_add(self.l4_len).wrapping_add(syn_fin)
    }

    fn common(&self, h: &mut Hasher, tcp_mask: u8) {
        h.word(
            u64::from(self.proto)
                | u64::from(self.tcp_flags & tcp_mask) << 8
                | u64::from(self.flags & (flag::IPV6 | flag::MF)) << 16
                | u64::from(self.frag_offset) << 32,
        );
        h.word(u64::from(self.l4_len) << 32 | u64::from(self.digest));
        h.word(app_nat_safe(self.app));
    }

    /// Hash of the fields that survive NAT and PAT (no addresses, ports,
    /// checksums, TTL, ICMP echo id): protocol, FIN/SYN/RST/ACK, IP ID (when
    /// present), fragment offset, TCP seq/ack/TSval, L4 length, digest,
    /// application id.  Breaks where a middlebox rewrites the IP ID (pf
    /// scrub, proxies), TCP sequence numbers (firewall randomisation,
    /// SYNPROXY) or segmentation (TSO): use [`content_hash`] there.
    ///
    /// [`content_hash`]: PacketKey::content_hash
    pub fn nat_hash(&self) -> u64 {
        let mut h = Hasher::new(SEED_NAT);
        self.common(&mut h, tcp::FIN | tcp::SYN | tcp::RST | tcp::ACK);
        h.word(u64::from(self.seq) << 32 | u64::from(self.ack));
        let id = self.ip_id().map_or(u64::MAX, u64::from);
        let ts = self.tsval().map_or(u64::MAX, u64::from);
        h.word(id ^ ts.rotate_left(32));
        h.finish()
    }

    /// Hash of what also survives sequence-number randomisation, IP ID and
    /// TCP timestamp rewriting: protocol, FIN/SYN/RST, fragment offset, L4
    /// length, digest, application id.  Many packets share it (every pure
    /// ACK of a connection): use it within a time window and a candidate
    /// connection.
    pub fn content_hash(&self) -> u64 {
        let mut h = Hasher::new(SEED_CONTENT);
        self.common(&mut h, tcp::FIN | tcp::SYN | tcp::RST);
        h.finish()
    }
}

/// Keys of one frame: None when it holds no readable IP header (ARP, other
/// link types, damaged IP), otherwise the flow and the packet key, partial
/// (see [`flag::L4_PARTIAL`]) when something after the IP header is
/// damaged or cut off.
pub fn extract(link: Link, data: &[u8]) -> Option<(FlowKey, PacketKey)> {
    extract_frame(link, data).map(|k| (k.flow, k.key))
}

/// What [`extract_frame`] takes from a frame: the keys, and where the TCP
/// payload is, found on the way.
#[derive(Clone, Copy, Debug)]
pub struct FrameKeys<'a> {
    pub flow: FlowKey,
    pub key: PacketKey,
    /// The TCP payload of the packet the keys describe (the innermost one),
    /// bounded by the IP length fields, when its TCP header was read whole
    /// and the IP datagram is not fragmented: the bytes after the header
    /// that a second parse of the frame (through [`inner_ip`], then the IP
    /// and TCP headers) would find, without that second parse.
    pub tcp_payload: Option<&'a [u8]>,
}

/// [`extract`], and the TCP payload ([`FrameKeys::tcp_payload`]) for the
/// stages that look at the start of it.
pub fn extract_frame(link: Link, data: &[u8]) -> Option<FrameKeys<'_>> {
    extract_frame_with::<true>(link, data)
}

/// [`extract_frame`] written into `flow` and `key` rather than returned
/// (a reader keeping them in place saves moving 86 bytes, and reading back
/// what was just written piecewise): None when the frame has no keys
/// (`flow` and `key` then hold anything), else the frame's
/// [`FrameKeys::tcp_payload`].  Ethernet frames carrying IPv4 and TCP
/// (one VLAN tag at most) are read at fixed offsets ([`fast`]).
#[inline]
pub fn extract_frame_into<'a>(
    link: Link,
    data: &'a [u8],
    flow: &mut FlowKey,
    key: &mut PacketKey,
) -> Option<Option<&'a [u8]>> {
    if link == Link::Ethernet {
        if let Some(payload) = fast::ethernet_ipv4_tcp(data, flow, key) {
            return Some(Some(payload));
        }
    }
    let k = extract_frame(link, data)?;
    *flow = k.flow;
    *key = k.key;
    Some(k.tcp_payload)
}

/// [`extract_frame`] with IPv4 headers read by hand ([`ipv4_layer`],
/// `FAST`) or all through etherparse (the reference the tests compare the
/// hand-read path with, frame by frame).
fn extract_frame_with<const FAST: bool>(link: Link, data: &[u8]) -> Option<FrameKeys<'_>> {
    let (ip, mpls) = link::ip_payload_mpls(link, data)?;
    let mut k = keys_at_depth::<FAST>(ip, 0)?;
    if mpls {
        k.key.encap |= encap::MPLS;
    }
    Some(k)
}

/// The innermost IP packet of a frame — through the same tunnels
/// [`extract`] opens — and the [`encap`] bits of the tunnels around it;
/// for the stages that read a packet's payload (the full-proxy stage,
/// reports), so that they see what the keys describe.
pub fn inner_ip(link: Link, data: &[u8]) -> Option<(&[u8], u8)> {
    let (mut ip, mpls) = link::ip_payload_mpls(link, data)?;
    let mut bits = if mpls { encap::MPLS } else { 0 };
    for _ in 0..MAX_TUNNEL_DEPTH {
        let Some(layer) = ip_layer(ip) else { break };
        if layer.later_fragment {
            break;
        }
        match tunnel_inner(&layer) {
            Some((inner, b)) if ip_layer(inner).is_some() => {
                ip = inner;
                bits |= b;
            }
            _ => break,
        }
    }
    Some((ip, bits))
}

/// Keys of an IP packet (IPv4 or IPv6 header first).
pub fn from_ip(bytes: &[u8]) -> Option<(FlowKey, PacketKey)> {
    keys_at_depth::<true>(bytes, 0).map(|k| (k.flow, k.key))
}

/// The packet an ICMP/ICMPv6 error quotes, as its own FlowKey (source =
/// the host that sent it), for a frame whose keys carry
/// [`App::IcmpError`]; None for other frames.  Ports are 0 when the quoted
/// bytes stop before them.
pub fn icmp_error_inner(link: Link, data: &[u8]) -> Option<FlowKey> {
    let ip = ip_layer(link::ip_payload(link, data)?)?;
    if ip.later_fragment {
        return None;
    }
    let body = match ip.key.proto {
        1 => {
            let icmp = Icmpv4Slice::from_slice(ip.payload).ok()?;
            matches!(icmp.type_u8(), 3 | 4 | 5 | 11 | 12).then(|| icmp.payload())?
        }
        58 => {
            let icmp = Icmpv6Slice::from_slice(ip.payload).ok()?;
            (1..=4).contains(&icmp.type_u8()).then(|| icmp.payload())?
        }
        _ => return None,
    };
    inner_flow::<true>(body).map(|(f, _)| f)
}

/// What the IP layer gives.
struct IpLayer<'a> {
    flow: FlowKey,
    key: PacketKey,
    /// The captured IP payload (after extension headers), cut at the IP
    /// length when the length field is usable.
    payload: &'a [u8],
    /// The IP payload length per the header (or captured, see
    /// [`flag::LEN_FROM_CAPTURE`]).
    real_len: usize,
    later_fragment: bool,
    /// etherparse's "the payload is a fragment" (a first or later one).
    fragmented: bool,
}

/// An IPv4 address IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2):
/// made in registers and stored whole (built byte by byte in memory, it
/// was an out-of-line call whose narrow stores the caller read back wide).
#[inline]
fn mapped(v4: [u8; 4]) -> [u8; 16] {
    (0xFFFF << 32 | u128::from(u32::from_be_bytes(v4))).to_be_bytes()
}

fn sat32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The IP layer of `bytes`: IPv4 read by hand ([`ipv4_layer`]), anything
/// else through etherparse ([`lax_ip_layer`]).
// Inlined: its 100-byte result, returned through the stack, was written
// and read back in pieces the processor could not forward (a tenth of key
// extraction's time waited there).
#[inline(always)]
fn ip_layer(bytes: &[u8]) -> Option<IpLayer<'_>> {
    match ipv4_layer(bytes) {
        Some(ip) => Some(ip),
        None => lax_ip_layer(bytes),
    }
}

/// [`ip_layer`] (`FAST`) or [`lax_ip_layer`] alone: the reference the
/// tests compare the hand-read IPv4 headers with.
#[inline(always)]
fn layer<const FAST: bool>(bytes: &[u8]) -> Option<IpLayer<'_>> {
    if FAST {
        ip_layer(bytes)
    } else {
        lax_ip_layer(bytes)
    }
}

/// What [`lax_ip_layer`] makes of an IPv4 header without an
/// authentication header (protocol 51, left to etherparse), read at fixed
/// offsets as etherparse 0.21's `LaxIpSlice` reads it: IHL at least 5 and
/// the header captured whole; the payload ends at the total length, or at
/// the captured bytes when they end first or when the total length is
/// below the header's (then [`flag::LEN_FROM_CAPTURE`]).  None: not such
/// a header.  The key extraction's commonest case, a tenth of its time in
/// etherparse's general IP parse.
#[inline(always)]
fn ipv4_layer(bytes: &[u8]) -> Option<IpLayer<'_>> {
    let h = ipv4::Ipv4::at(bytes)?;
    let hlen = h.header_len();
    if h.version() != 4
        || hlen < ipv4::MIN_LEN
        || bytes.len() < hlen
        || h.protocol() == IpNumber::AUTHENTICATION_HEADER.0
    {
        return None;
    }
    let mut flow = FlowKey {
        proto: h.protocol(),
        ..FlowKey::default()
    };
    flow.src = mapped(h.src());
    flow.dst = mapped(h.dst());
    let frag = h.frag_word();
    let mut key = PacketKey {
        ip_id: u32::from(h.ident()),
        frag_offset: frag & ipv4::OFFSET,
        ttl: h.ttl(),
        proto: h.protocol(),
        flags: flag::HAS_IP_ID,
        ..PacketKey::default()
    };
    if frag & ipv4::DF != 0 {
        key.flags |= flag::DF;
    }
    let fragmented = frag & (ipv4::MF | ipv4::OFFSET) != 0;
    if fragmented {
        key.flags |= flag::FRAGMENT;
        if frag & ipv4::MF != 0 {
            key.flags |= flag::MF;
        }
    }
    let total = h.total_len();
    let (payload, real_len) = if total < hlen {
        key.flags |= flag::LEN_FROM_CAPTURE;
        (&bytes[hlen..], bytes.len() - hlen)
    } else {
        (&bytes[hlen..total.min(bytes.len())], total - hlen)
    };
    Some(IpLayer {
        flow,
        key,
        payload,
        real_len,
        later_fragment: key.frag_offset != 0,
        fragmented,
    })
}

/// The IP layer of `bytes` through etherparse: IPv4 and IPv6, extension
/// and authentication headers.
#[inline(always)]
fn lax_ip_layer(bytes: &[u8]) -> Option<IpLayer<'_>> {
    let (ip, _stop) = LaxIpSlice::from_slice(bytes).ok()?;
    let mut flow = FlowKey::default();
    let mut key = PacketKey::default();
    let declared_end;
    let payload = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            flow.src = mapped(h.source());
            flow.dst = mapped(h.destination());
            key.ip_id = u32::from(h.identification());
            key.flags |= flag::HAS_IP_ID;
            if h.dont_fragment() {
                key.flags |= flag::DF;
            }
            if h.more_fragments() {
                key.flags |= flag::MF;
            }
            key.frag_offset = h.fragments_offset().value();
            key.ttl = h.ttl();
            let total = usize::from(h.total_len());
            declared_end = (total >= h.slice().len()).then_some(total);
            v4.payload()
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            flow.ipv6 = true;
            flow.src = h.source();
            flow.dst = h.destination();
            key.flags |= flag::IPV6;
            key.ttl = h.hop_limit();
            if let Some((id, offset, more)) = ipv6_fragment(v6.extensions()) {
                key.ip_id = id;
                key.flags |= flag::HAS_IP_ID;
                key.frag_offset = offset;
                if more {
                    key.flags |= flag::MF;
                }
            }
            let plen = usize::from(h.payload_length());
            declared_end = (plen != 0).then_some(40 + plen);
            v6.payload()
        }
    };
    key.proto = payload.ip_number.0;
    flow.proto = key.proto;
    if key.flags & flag::MF != 0 || key.frag_offset != 0 {
        key.flags |= flag::FRAGMENT;
    }
    // Where the payload starts in `bytes` (it is a sub-slice of it).
    let off = (payload.payload.as_ptr() as usize).saturating_sub(bytes.as_ptr() as usize);
    let real_len = match declared_end {
        Some(end) => end.saturating_sub(off),
        None => {
            key.flags |= flag::LEN_FROM_CAPTURE;
            payload.payload.len()
        }
    };
    Some(IpLayer {
        flow,
        key,
        payload: payload.payload,
        real_len,
        later_fragment: key.frag_offset != 0,
        fragmented: payload.fragmented,
    })
}

/// The IPv6 fragment header among the extension headers etherparse found:
/// (identification, offset in 8-byte units, more fragments).  Walked with
/// etherparse's checked slice constructors (its iterator trusts the slice
/// to be complete, which a lax parse stopped by an error does not promise).
fn ipv6_fragment(exts: &etherparse::Ipv6ExtensionsSlice<'_>) -> Option<(u32, u16, bool)> {
    let mut next = exts.first_header()?;
    let mut rest = exts.slice();
    for _ in 0..16 {
        match next {
            IpNumber::IPV6_HEADER_HOP_BY_HOP
            | IpNumber::IPV6_ROUTE_HEADER
            | IpNumber::IPV6_DESTINATION_OPTIONS => {
                let s = Ipv6RawExtHeaderSlice::from_slice(rest).ok()?;
                next = s.next_header();
                rest = rest.get(s.slice().len()..)?;
            }
            IpNumber::AUTHENTICATION_HEADER => {
                let s = IpAuthHeaderSlice::from_slice(rest).ok()?;
                next = s.next_header();
                rest = rest.get(s.slice().len()..)?;
            }
            IpNumber::IPV6_FRAGMENTATION_HEADER => {
                let f = Ipv6FragmentHeaderSlice::from_slice(rest).ok()?;
                return Some((
                    f.identification(),
                    f.fragment_offset().value(),
                    f.more_fragments(),
                ));
            }
            _ => return None,
        }
    }
    None
}

fn set_digest(key: &mut PacketKey, captured: &[u8], len: usize) {
    let (digest, partial) = digest_of(captured, len);
    if partial {
        key.flags |= flag::PARTIAL_DIGEST;
    }
    key.digest = digest;
}

/// The digest of a payload of `len` bytes whose `captured` part is at
/// hand, and whether it is partial ([`flag::PARTIAL_DIGEST`]).
#[inline]
fn digest_of(captured: &[u8], len: usize) -> (u32, bool) {
    let want = len.min(DIGEST_BYTES);
    let have = captured.len().min(want);
    (digest32(&captured[..have]), have < want)
}

fn finish(flow: FlowKey, mut key: PacketKey, tcp_payload: Option<&[u8]>) -> FrameKeys<'_> {
    let reverse = !flow.is_canonical();
    key.conn_hash = flow.tuple_hash(reverse);
    if reverse {
        key.flags |= flag::REVERSE;
    } else {
        key.flags &= !flag::REVERSE;
    }
    FrameKeys {
        flow,
        key,
        tcp_payload,
    }
}

fn keys_at_depth<const FAST: bool>(bytes: &[u8], depth: u8) -> Option<FrameKeys<'_>> {
    let mut ip = layer::<FAST>(bytes)?;
    if ip.later_fragment {
        ip.key.flags |= flag::NO_PORTS;
        ip.key.l4_len = sat32(ip.real_len);
        set_digest(&mut ip.key, ip.payload, ip.real_len);
        return Some(finish(ip.flow, ip.key, None));
    }
    if depth < MAX_TUNNEL_DEPTH {
        if let Some((inner, bits)) = tunnel_inner(&ip) {
            if let Some(mut k) = keys_at_depth::<FAST>(inner, depth + 1) {
                k.key.flags |= flag::TUNNEL;
                k.key.encap |= bits;
                return Some(k);
            }
        }
    }
    let mut tcp_payload = None;
    match ip.key.proto {
        6 => tcp_payload = tcp(&mut ip),
        17 | 136 => udp(&mut ip),
        1 => icmp::<FAST>(&mut ip, false),
        58 => icmp::<FAST>(&mut ip, true),
        50 => {
            if let Some(app) = esp_app(ip.payload) {
                ip.key.app = app.pack();
            }
            ip.key.l4_len = sat32(ip.real_len);
            set_digest(&mut ip.key, ip.payload, ip.real_len);
        }
        // SCTP (12-byte common header), DCCP (header length in byte 4):
        // ports only, the rest is the digest's.
        132 | 33 => {
            let hlen = if ip.key.proto == 132 {
                12
            } else {
                ip.payload
                    .get(4)
                    .map_or(usize::MAX, |&d| usize::from(d) * 4)
            };
            match (be16(ip.payload, 0), be16(ip.payload, 2)) {
                (Some(s), Some(d)) => {
                    ip.flow.sport = s;
                    ip.flow.dport = d;
                }
                _ => ip.key.flags |= flag::NO_PORTS | flag::L4_PARTIAL,
            }
            let len = ip.real_len.saturating_sub(hlen);
            ip.key.l4_len = sat32(len);
            set_digest(&mut ip.key, ip.payload.get(hlen..).unwrap_or(&[]), len);
        }
        _ => {
            ip.key.l4_len = sat32(ip.real_len);
            set_digest(&mut ip.key, ip.payload, ip.real_len);
        }
    }
    Some(finish(ip.flow, ip.key, tcp_payload))
}

/// The packet a tunnel carries, as IP bytes, and its [`encap`] bits: IP in
/// IP, GRE, and the UDP tunnels on their ports (by destination port, as
/// their senders address them).  None for a packet that is no tunnel.
fn tunnel_inner<'a>(ip: &IpLayer<'a>) -> Option<(&'a [u8], u8)> {
    match ip.key.proto {
        4 | 41 => Some((ip.payload, encap::IP_IN_IP)),
        47 => gre_inner(ip.payload),
        17 => {
            let u = UdpHeaderSlice::from_slice(ip.payload).ok()?;
            let data = ip.payload.get(8..)?;
            match u.destination_port() {
                tunnel_port::VXLAN => vxlan_inner(data),
                tunnel_port::GENEVE => geneve_inner(data),
                tunnel_port::GTP_U => gtpu_inner(data),
                tunnel_port::MPLS => link::mpls_payload(data).map(|ip| (ip, encap::MPLS)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An Ethernet frame's IP packet, with MPLS noted.
fn ethernet_inner(frame: &[u8], bits: u8) -> Option<(&[u8], u8)> {
    let (ip, mpls) = link::ip_payload_mpls(Link::Ethernet, frame)?;
    Some((ip, bits | if mpls { encap::MPLS } else { 0 }))
}

/// The packet a GRE header (version 0) carries: IP directly, Ethernet
/// (transparent bridging), ERSPAN type I/II/III, or anything
/// [`link::ether_payload_mpls`] follows (MPLS, VLANs).
fn gre_inner(p: &[u8]) -> Option<(&[u8], u8)> {
    let h = p.get(..4)?;
    if h[1] & 0x07 != 0 {
        return None; // version 1 is PPTP's enhanced GRE
    }
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let seq = h[0] & 0x10 != 0;
    let off =
        4 + 4 * (usize::from(h[0] & 0x80 != 0) + usize::from(h[0] & 0x20 != 0) + usize::from(seq));
    let rest = p.get(off..)?;
    match proto {
        0x6558 => ethernet_inner(rest, encap::GRE),
        // ERSPAN type II has a sequence number and an 8-byte header; type I
        // neither.
        0x88BE if seq => ethernet_inner(rest.get(8..)?, encap::ERSPAN_I_II),
        0x88BE => ethernet_inner(rest, encap::ERSPAN_I_II),
        // ERSPAN type III: 12 bytes, 8 more with the O flag.
        0x22EB => {
            let o = rest.get(11)? & 0x01 != 0;
            ethernet_inner(rest.get(if o { 20 } else { 12 }..)?, encap::ERSPAN_III)
        }
        other => {
            let (ip, mpls) = link::ether_payload_mpls(other, rest)?;
            Some((ip, encap::GRE | if mpls { encap::MPLS } else { 0 }))
        }
    }
}

/// VXLAN (RFC 7348 §5): flags (the I bit 0x08), 3 reserved bytes, VNI, a
/// reserved byte; then an Ethernet frame.
fn vxlan_inner(d: &[u8]) -> Option<(&[u8], u8)> {
    if *d.first()? & 0x08 == 0 {
        return None;
    }
    ethernet_inner(d.get(8..)?, encap::VXLAN)
}

/// Geneve (RFC 8926 §3.4): version (2 bits, 0) and option length (6 bits,
/// 4-byte units), flags, protocol type, VNI and a reserved byte, then the
/// options; the protocol type says what follows (0x6558 Ethernet, or IP).
fn geneve_inner(d: &[u8]) -> Option<(&[u8], u8)> {
    let h = d.get(..8)?;
    if h[0] >> 6 != 0 {
        return None;
    }
    let rest = d.get(8 + 4 * usize::from(h[0] & 0x3F)..)?;
    match u16::from_be_bytes([h[2], h[3]]) {
        0x6558 => ethernet_inner(rest, encap::GENEVE),
        t => link::ether_payload_mpls(t, rest)
            .map(|(ip, mpls)| (ip, encap::GENEVE | if mpls { encap::MPLS } else { 0 })),
    }
}

/// GTP-U (3GPP TS 29.281 §5.1): flags (version 1, PT 1; E, S, PN), message
/// type (0xFF: a G-PDU carries a user packet), length, TEID; with any of
/// E, S, PN four more bytes (sequence number, N-PDU number, next extension
/// header type), then extension headers while that type is not 0 (each:
/// its length in 4-byte units first, its next type last); then the IP
/// packet.
fn gtpu_inner(d: &[u8]) -> Option<(&[u8], u8)> {
    let h = d.get(..8)?;
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xFF {
        return None;
    }
    let mut at = 8;
    if h[0] & 0x07 != 0 {
        let mut next = *d.get(at + 3)?;
        at += 4;
        for _ in 0..16 {
            if next == 0 {
                break;
            }
            let units = usize::from(*d.get(at)?);
            if units == 0 {
                return None;
            }
            next = *d.get(at + 4 * units - 1)?;
            at += 4 * units;
        }
        if next != 0 {
            return None;
        }
    }
    let ip = d.get(at..)?;
    matches!(ip.first()? >> 4, 4 | 6).then_some((ip, encap::GTP_U))
}

/// The TCP fields of the keys; the TCP payload when the header was read
/// whole and the datagram is no fragment.
fn tcp<'a>(ip: &mut IpLayer<'a>) -> Option<&'a [u8]> {
    let p = ip.payload;
    let key = &mut ip.key;
    match TcpHeaderSlice::from_slice(p) {
        Ok(t) => {
            ip.flow.sport = t.source_port();
            ip.flow.dport = t.destination_port();
            key.seq = t.sequence_number();
            key.ack = t.acknowledgment_number();
            key.tcp_flags = p[13];
            if let Some(v) = timestamp_value(t.options()) {
                key.tsval = v;
                key.flags |= flag::HAS_TSVAL;
            }
            let hlen = t.slice().len();
            let len = ip.real_len.saturating_sub(hlen);
            key.l4_len = sat32(len);
            let data = &p[hlen..];
            set_digest(key, data, len);
            if is_dns_port(ip.flow.sport) || is_dns_port(ip.flow.dport) {
                // DNS over TCP: a 2-byte length, then the message.
                if let Some(app) = data.get(2..).and_then(dns_app) {
                    key.app = app.pack();
                }
            }
            (!ip.fragmented).then_some(data)
        }
        Err(_) => {
            key.flags |= flag::L4_PARTIAL;
            match (be16(p, 0), be16(p, 2)) {
                (Some(s), Some(d)) => {
                    ip.flow.sport = s;
                    ip.flow.dport = d;
                }
                _ => key.flags |= flag::NO_PORTS,
            }
            key.seq = be32(p, 4).unwrap_or(0);
            key.ack = be32(p, 8).unwrap_or(0);
            key.tcp_flags = p.get(13).copied().unwrap_or(0);
            if let Some(&b) = p.get(12) {
                let hlen = usize::from(b >> 4) * 4;
                if hlen >= 20 {
                    key.l4_len = sat32(ip.real_len.saturating_sub(hlen));
                }
            }
            if key.l4_len > 0 {
                key.flags |= flag::PARTIAL_DIGEST;
            }
            None
        }
    }
}

/// The TSval of a TCP timestamp option (RFC 7323 §3: kind 8, length 10)
/// in a TCP header's options, walked as etherparse 0.21's
/// `TcpOptionsIterator` walks them (the keys were defined with it; the
/// tests compare the two): end of list (kind 0), NOP (1), MSS (2, length
/// 4), window scale (3, length 3), SACK permitted (4, length 2) and SACK
/// (5, length 10, 18, 26 or 34) are stepped over; a wrong length, an
/// option cut off, or any other kind ends the walk without a TSval.
/// Walked here rather than through the iterator, which builds an element
/// (SACK blocks included) per option: a tenth of key extraction's time.
fn timestamp_value(mut o: &[u8]) -> Option<u32> {
    loop {
        let len = match *o.first()? {
            1 => {
                o = &o[1..];
                continue;
            }
            2 => 4,
            3 => 3,
            4 => 2,
            5 => match *o.get(1)? {
                n @ (10 | 18 | 26 | 34) => n,
                _ => return None,
            },
            8 => 10,
            _ => return None,
        };
        let len = usize::from(len);
        if o.len() < len || usize::from(o[1]) != len {
            return None;
        }
        if o[0] == 8 {
            return be32(o, 2);
        }
        o = &o[len..];
    }
}

/// UDP (and UDP-Lite).
fn udp(ip: &mut IpLayer<'_>) {
    let p = ip.payload;
    let Ok(u) = UdpHeaderSlice::from_slice(p) else {
        ip.key.flags |= flag::L4_PARTIAL;
        match (be16(p, 0), be16(p, 2)) {
            (Some(s), Some(d)) => {
                ip.flow.sport = s;
                ip.flow.dport = d;
            }
            _ => ip.key.flags |= flag::NO_PORTS,
        }
        return;
    };
    let (sport, dport) = (u.source_port(), u.destination_port());
    ip.flow.sport = sport;
    ip.flow.dport = dport;
    let ulen = usize::from(u.length());
    // UDP-Lite's length field is its checksum coverage; a UDP length below
    // 8 (0 in jumbograms) is no length either.
    let len = if ip.key.proto == 17 && ulen >= 8 {
        ulen - 8
    } else {
        ip.real_len.saturating_sub(8)
    };
    ip.key.l4_len = sat32(len);
    let data = &p[8..p.len().min(8 + len).max(8)];
    set_digest(&mut ip.key, data, len);
    if let Some(app) = udp_app(sport, dport, data) {
        ip.key.app = app.pack();
    }
}

fn is_dns_port(p: u16) -> bool {
    matches!(p, 53 | 5353 | 5355)
}

fn udp_app(sport: u16, dport: u16, data: &[u8]) -> Option<App> {
    let either = |f: fn(u16) -> bool| f(sport) || f(dport);
    if either(is_dns_port) {
        dns_app(data)
    } else if either(|p| p == 67 || p == 68) {
        let h = data.get(..8)?;
        matches!(h[0], 1 | 2).then(|| App::Dhcp {
            op: h[0],
            xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        })
    } else if either(|p| p == 546 || p == 547) {
        let h = data.get(..4)?;
        // Relay messages (12, 13) have no transaction id.
        (1..=11).contains(&h[0]).then(|| App::Dhcpv6 {
            msg_type: h[0],
            txid: u32::from_be_bytes([0, h[1], h[2], h[3]]),
        })
    } else if either(|p| (12000..=12004).contains(&p)) {
        ee_app(data)
    } else if either(|p| p == 4500) {
        // NAT-T: ESP unless the non-ESP marker (4 zero bytes, IKE) or a
        // 1-byte keepalive.
        if data.get(..4)? == [0, 0, 0, 0] {
            None
        } else {
            esp_app(data)
        }
    } else {
        None
    }
}

fn esp_app(p: &[u8]) -> Option<App> {
    Some(App::Esp {
        spi_low: be32(p, 0)? & LOW24,
        seq: be32(p, 4)?,
    })
}

/// A DNS message's id and question hash.
fn dns_app(msg: &[u8]) -> Option<App> {
    let id = be16(msg, 0)?;
    let qdcount = be16(msg, 4)?;
    if msg.len() < 12 {
        return None;
    }
    let question = if qdcount > 0 {
        question_hash(&msg[12..]).unwrap_or(0)
    } else {
        0
    };
    Some(App::Dns { id, question })
}

/// Hash of the first question: the name's labels lower-cased (ASCII, so
/// 0x20 case randomisation does not matter), then type and class.  None if
/// the name is compressed, too long or cut off.
fn question_hash(q: &[u8]) -> Option<u32> {
    let mut name = [0u8; 256];
    let mut n = 0;
    let mut i = 0;
    loop {
        let len = usize::from(*q.get(i)?);
        if len == 0 {
            i += 1;
            break;
        }
        if len > 63 || n + 1 + len > 255 {
            return None;
        }
        let label = q.get(i + 1..i + 1 + len)?;
        name[n] = len as u8;
        for (d, s) in name[n + 1..n + 1 + len].iter_mut().zip(label) {
            *d = s.to_ascii_lowercase();
        }
        n += 1 + len;
        i += 1 + len;
    }
    let tail = be32(q, i)?;
    let mut h = Hasher::new(SEED_DNS);
    h.bytes(&name[..n]);
    h.word(u64::from(tail));
    Some(h.finish32())
}

/// Enterprise Extender: LLC (3 bytes, a UI frame), NHDR (switching mode,
/// flags, labels up to and including X'FF', one reserved byte), then the
/// RTP THDR: TCID at 0..8, BSN at 16..20.  Function-routing LDLC frames
/// carry no THDR.  Layout: crates/ee (nhdr.rs, thdr.rs), docs/ee.md.
fn ee_app(d: &[u8]) -> Option<App> {
    let llc = d.get(..3)?;
    if llc[2] & !0x10 != 0x03 {
        return None;
    }
    let nlp = &d[3..];
    let (b0, b1) = (*nlp.first()?, *nlp.get(1)?);
    let mode = b0 >> 5;
    if mode != 5 && mode != 6 {
        return None;
    }
    if mode == 5 && b1 >> 4 == 1 {
        return None;
    }
    let end = 2 + nlp.get(2..)?.iter().position(|&b| b == 0xFF)?;
    let thdr = nlp.get(end + 2..end + 2 + 20)?;
    let tcid = u64::from_be_bytes([
        thdr[0], thdr[1], thdr[2], thdr[3], thdr[4], thdr[5], thdr[6], thdr[7],
    ]);
    Some(App::Ee {
        tcid_low: (tcid as u32) & LOW24,
        bsn: be32(thdr, 16)?,
    })
}

fn icmp<const FAST: bool>(ip: &mut IpLayer<'_>, v6: bool) {
    let p = ip.payload;
    let key = &mut ip.key;
    // (header length, echo (reply, id, seq), error, body)
    let parsed = if v6 {
        Icmpv6Slice::from_slice(p).ok().map(|icmp| {
            let echo = match icmp.icmp_type() {
                Icmpv6Type::EchoRequest(e) => Some((false, e.id, e.seq)),
                Icmpv6Type::EchoReply(e) => Some((true, e.id, e.seq)),
                _ => None,
            };
            (
                icmp.header_len(),
                echo,
                (1..=4).contains(&icmp.type_u8()),
                icmp.payload(),
            )
        })
    } else {
        Icmpv4Slice::from_slice(p).ok().map(|icmp| {
            let echo = match icmp.icmp_type() {
                Icmpv4Type::EchoRequest(e) => Some((false, e.id, e.seq)),
                Icmpv4Type::EchoReply(e) => Some((true, e.id, e.seq)),
                _ => None,
            };
            let error = matches!(icmp.type_u8(), 3 | 4 | 5 | 11 | 12);
            (icmp.header_len(), echo, error, icmp.payload())
        })
    };
    let Some((hlen, echo, error, body)) = parsed else {
        key.flags |= flag::L4_PARTIAL;
        return;
    };
    let len = ip.real_len.saturating_sub(hlen);
    key.l4_len = sat32(len);
    if let Some((reply, id, seq)) = echo {
        ip.flow.sport = id;
        ip.flow.dport = id;
        key.app = App::IcmpEcho { v6, reply, id, seq }.pack();
        set_digest(key, body, len);
    } else if error {
        match inner_flow::<FAST>(body) {
            Some((inner, digest)) => {
                key.app = App::IcmpError {
                    v6,
                    inner: inner.flow_hash(),
                }
                .pack();
                key.digest = digest;
            }
            None => {
                key.app = App::IcmpError { v6, inner: 0 }.pack();
                set_digest(key, body, len);
            }
        }
    } else {
        set_digest(key, body, len);
    }
}

/// The flow of the packet an ICMP error quotes, and a digest of its
/// NAT-invariant fields (IP ID or IPv6 payload length, protocol, TCP
/// sequence number or UDP length).
fn inner_flow<const FAST: bool>(b: &[u8]) -> Option<(FlowKey, u32)> {
    let ip = layer::<FAST>(b)?;
    let mut flow = ip.flow;
    let p = ip.payload;
    let mut invariant = 0u64;
    if !ip.later_fragment {
        match ip.key.proto {
            6 | 17 | 33 | 132 | 136 => {
                if let (Some(s), Some(d)) = (be16(p, 0), be16(p, 2)) {
                    flow.sport = s;
                    flow.dport = d;
                }
                invariant = match ip.key.proto {
                    6 => be32(p, 4).map_or(0, u64::from),
                    17 => be16(p, 4).map_or(0, u64::from),
                    _ => 0,
                };
            }
            1 | 58 => {
                // a quoted echo: id as ports, seq as invariant
                let echo = if ip.key.proto == 1 {
                    [0, 8]
                } else {
                    [128, 129]
                };
                if p.first().is_some_and(|t| echo.contains(t)) {
                    if let (Some(id), Some(seq)) = (be16(p, 4), be16(p, 6)) {
                        flow.sport = id;
                        flow.dport = id;
                        invariant = u64::from(seq);
                    }
                }
            }
            _ => {}
        }
    }
    let mut h = Hasher::new(crate::hash::SEED_DIGEST);
    let id = if ip.key.flags & flag::HAS_IP_ID != 0 && !flow.ipv6 {
        u64::from(ip.key.ip_id)
    } else {
        ip.real_len as u64
    };
    h.word(id | u64::from(ip.key.proto) << 32 | u64::from(ip.key.frag_offset) << 40);
    h.word(invariant);
    Some((flow, h.finish32().max(1)))
}

mod fast;
mod ipv4;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fast_tests;
