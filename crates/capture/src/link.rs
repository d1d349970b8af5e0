//! Link layers: which ones a packet can come in, and getting from a frame to
//! the IP packet inside it.
//!
//! Decoded: Ethernet II (LINKTYPE_ETHERNET 1) with any stack of 802.1Q /
//! 802.1ad / 0x9100 VLAN tags, MPLS label stacks and PPPoE sessions on top;
//! raw IP (LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229, CTRACE
//! packet trace records), Linux cooked capture v1 (SLL, 113) and v2 (SLL2,
//! 276), BSD null/loopback (0: the address family in the writer's byte
//! order, so both orders are accepted) and OpenBSD loop (108: network
//! order).  Ethernet, VLAN and SLL headers are parsed with etherparse; SLL2,
//! null/loop, MPLS and PPPoE (which etherparse 0.21 does not parse) here,
//! every length checked.
//!
//! What is left out: VLAN ids, MAC addresses and every other link-layer
//! field.  They change at every hop, so no matcher can use them across
//! capture points, and the same packet traced by z/OS (raw IP) and by a
//! switch port (Ethernet, tagged) must give the same keys.

use etherparse::{Ethernet2Slice, LinuxSllProtocolType, LinuxSllSlice, SingleVlanSlice};

/// The link layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// Ethernet II, VLAN tags allowed (LINKTYPE_ETHERNET; CTRACE OSAENTA
    /// records, format id 7).
    Ethernet,
    /// An IPv4 or IPv6 packet, told apart by its version nibble
    /// (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6; CTRACE packet trace
    /// records, format id 4).
    Raw,
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    LinuxSll,
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family in the writer's byte order
    /// (LINKTYPE_NULL).
    Null,
    /// OpenBSD loopback: a 4-byte address family in network byte order
    /// (LINKTYPE_LOOP).
    Loop,
    /// A CTRACE record that holds no packet keys can be taken from: data
    /// trace (5), Enterprise Extender (6), SMC (8), old formats (1-3), lost
    /// records (0xFF), or a record whose packet trace header is damaged.
    /// The value is the format id.
    Ctrace(u8),
    /// Any other pcap/pcapng link type (its number): read, not decoded.
    Other(u32),
}

/// LINKTYPE_NULL.
pub const LINKTYPE_NULL: u32 = 0;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_RAW.
pub const LINKTYPE_RAW: u32 = 101;
/// LINKTYPE_LOOP.
pub const LINKTYPE_LOOP: u32 = 108;
/// LINKTYPE_LINUX_SLL.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_IPV4.
pub const LINKTYPE_IPV4: u32 = 228;
/// LINKTYPE_IPV6.
pub const LINKTYPE_IPV6: u32 = 229;
/// LINKTYPE_LINUX_SLL2.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

impl Link {
    /// The link of a pcap/pcapng link type number (the low 16 bits; pcap
    /// keeps FCS information in the upper bits).
    pub fn from_linktype(linktype: u32) -> Link {
        match linktype & 0xFFFF {
            LINKTYPE_NULL => Link::Null,
            LINKTYPE_ETHERNET => Link::Ethernet,
            LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => Link::Raw,
            LINKTYPE_LOOP => Link::Loop,
            LINKTYPE_LINUX_SLL => Link::LinuxSll,
            LINKTYPE_LINUX_SLL2 => Link::LinuxSll2,
            other => Link::Other(other),
        }
    }

    /// The pcap link type a packet of this link would be written with
    /// (None for CTRACE records that are no packet).
    pub fn linktype(self) -> Option<u32> {
        match self {
            Link::Null => Some(LINKTYPE_NULL),
            Link::Ethernet => Some(LINKTYPE_ETHERNET),
            Link::Raw => Some(LINKTYPE_RAW),
            Link::Loop => Some(LINKTYPE_LOOP),
            Link::LinuxSll => Some(LINKTYPE_LINUX_SLL),
            Link::LinuxSll2 => Some(LINKTYPE_LINUX_SLL2),
            Link::Ctrace(_) => None,
            Link::Other(n) => Some(n),
        }
    }

    /// True for the links [`keys::extract`](crate::keys::extract) decodes.
    pub fn is_decoded(self) -> bool {
        !matches!(self, Link::Ctrace(_) | Link::Other(_))
    }
}

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
pub(crate) const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MC: u16 = 0x8848;
const ETHERTYPE_PPPOE: u16 = 0x8864;

/// Most link-layer headers (tags, labels) peeled off before giving up.
const MAX_LINK_HEADERS: usize = 8;

/// The IP packet (IPv4 or IPv6 header first) in a frame of `link`, or None
/// when the frame carries no IP (ARP, LLDP…) or is too short.
pub fn ip_payload(link: Link, data: &[u8]) -> Option<&[u8]> {
    ip_payload_mpls(link, data).map(|(ip, _)| ip)
}

/// [`ip_payload`], and whether an MPLS label stack was on the way.
pub fn ip_payload_mpls(link: Link, data: &[u8]) -> Option<(&[u8], bool)> {
    match link {
        Link::Raw => ip_by_version(data).map(|ip| (ip, false)),
        Link::Ethernet => {
            let eth = Ethernet2Slice::from_slice_without_fcs(data).ok()?;
            ether_payload_mpls(eth.ether_type().0, eth.payload_slice())
        }
        Link::LinuxSll => {
            let sll = LinuxSllSlice::from_slice(data).ok()?;
            match sll.protocol_type() {
                LinuxSllProtocolType::EtherType(t) => ether_payload_mpls(t.0, sll.payload_slice()),
                _ => None,
            }
        }
        Link::LinuxSll2 => {
            // protocol (2), reserved (2), interface index (4), ARPHRD (2),
            // packet type (1), address length (1), address (8).
            let hdr = data.get(..20)?;
            ether_payload_mpls(u16::from_be_bytes([hdr[0], hdr[1]]), &data[20..])
        }
        Link::Null => {
            let af = data.get(..4)?;
            let le = u32::from_le_bytes([af[0], af[1], af[2], af[3]]);
            let be = u32::from_be_bytes([af[0], af[1], af[2], af[3]]);
            // The writer's byte order: the family is a small number.
            let family = if le <= 0xFFFF { le } else { be };
            by_family(family, &data[4..]).map(|ip| (ip, false))
        }
        Link::Loop => {
            let af = data.get(..4)?;
            by_family(u32::from_be_bytes([af[0], af[1], af[2], af[3]]), &data[4..])
                .map(|ip| (ip, false))
        }
        Link::Ctrace(_) | Link::Other(_) => None,
    }
}

/// Address families of IPv4 (2 everywhere) and IPv6 (Linux 10, NetBSD and
/// OpenBSD 24, FreeBSD 28, macOS 30).
fn by_family(family: u32, payload: &[u8]) -> Option<&[u8]> {
    match family {
        2 | 10 | 24 | 28 | 30 => ip_by_version(payload),
        _ => None,
    }
}

/// The IP packet after an MPLS label stack (RFC 3032: 4-byte entries up to
/// the one with the bottom-of-stack bit), told by its version nibble
/// (pseudowires with a control word are not followed).
pub(crate) fn mpls_payload(payload: &[u8]) -> Option<&[u8]> {
    let mut rest = payload;
    for _ in 0..MAX_LINK_HEADERS {
        let entry = rest.get(..4)?;
        rest = &rest[4..];
        if entry[2] & 0x01 != 0 {
            return ip_by_version(rest);
        }
    }
    None
}

fn ip_by_version(b: &[u8]) -> Option<&[u8]> {
    match b.first()? >> 4 {
        4 | 6 => Some(b),
        _ => None,
    }
}

/// Follows an ether type through VLAN tags, MPLS labels and PPPoE to IP;
/// also says whether an MPLS label stack was on the way.
pub(crate) fn ether_payload_mpls(mut ether_type: u16, mut payload: &[u8]) -> Option<(&[u8], bool)> {
    for _ in 0..MAX_LINK_HEADERS {
        match ether_type {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return ip_by_version(payload).map(|ip| (ip, false)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let vlan = SingleVlanSlice::from_slice(payload).ok()?;
                ether_type = vlan.ether_type().0;
                payload = vlan.payload_slice();
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MC => {
                return mpls_payload(payload).map(|ip| (ip, true));
            }
            ETHERTYPE_PPPOE => {
                // PPPoE session header (6 bytes), then the PPP protocol.
                let hdr = payload.get(..8)?;
                return match u16::from_be_bytes([hdr[6], hdr[7]]) {
                    0x0021 | 0x0057 => ip_by_version(&payload[8..]).map(|ip| (ip, false)),
                    _ => None,
                };
            }
            _ => return None,
        }
    }
    None
}

/// The direction a link header states: Linux cooked captures say whether
/// the kernel sent or received the packet.  None when the header says
/// nothing (every other link).
pub fn direction(link: Link, data: &[u8]) -> Option<crate::Direction> {
    let packet_type = match link {
        Link::LinuxSll => u16::from_be_bytes([*data.first()?, *data.get(1)?]),
        Link::LinuxSll2 => u16::from(*data.get(10)?),
        _ => return None,
    };
    // 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    match packet_type {
        0..=3 => Some(crate::Direction::Inbound),
        4 => Some(crate::Direction::Outbound),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP4: [u8; 20] = [
        0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    fn eth(ether_type: u16, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        v.extend_from_slice(&ether_type.to_be_bytes());
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn linktypes() {
        for (n, l) in [
            (0, Link::Null),
            (1, Link::Ethernet),
            (101, Link::Raw),
            (108, Link::Loop),
            (113, Link::LinuxSll),
            (228, Link::Raw),
            (229, Link::Raw),
            (276, Link::LinuxSll2),
            (147, Link::Other(147)),
        ] {
            assert_eq!(Link::from_linktype(n), l, "{n}");
        }
        // FCS bits in the upper half of a pcap header's link type
        assert_eq!(Link::from_linktype(0x1000_0001), Link::Ethernet);
        assert_eq!(Link::Raw.linktype(), Some(101));
        assert_eq!(Link::Ctrace(5).linktype(), None);
        assert!(Link::LinuxSll2.is_decoded() && !Link::Other(9).is_decoded());
    }

    #[test]
    fn ethernet_vlan_qinq_mpls_pppoe() {
        assert_eq!(
            ip_payload(Link::Ethernet, &eth(0x0800, &IP4)),
            Some(&IP4[..])
        );
        let mut tagged = vec![0x00, 0x64, 0x08, 0x00];
        tagged.extend_from_slice(&IP4);
        assert_eq!(
            ip_payload(Link::Ethernet, &eth(0x8100, &tagged)),
            Some(&IP4[..])
        );
        let mut qinq = vec![0x00, 0x0A, 0x81, 0x00];
        qinq.extend_from_slice(&tagged);
        assert_eq!(
            ip_payload(Link::Ethernet, &eth(0x88A8, &qinq)),
            Some(&IP4[..])
        );
        let mut mpls = vec![0, 1, 0x00, 64, 0, 2, 0x01, 64];
        mpls.extend_from_slice(&IP4);
        assert_eq!(
            ip_payload(Link::Ethernet, &eth(0x8847, &mpls)),
            Some(&IP4[..])
        );
        let mut pppoe = vec![0x11, 0, 0, 1, 0, 22, 0x00, 0x21];
        pppoe.extend_from_slice(&IP4);
        assert_eq!(
            ip_payload(Link::Ethernet, &eth(0x8864, &pppoe)),
            Some(&IP4[..])
        );
        // ARP, truncated tags, endless tags
        assert_eq!(ip_payload(Link::Ethernet, &eth(0x0806, &[0; 28])), None);
        assert_eq!(ip_payload(Link::Ethernet, &eth(0x8100, &[0, 1])), None);
        let endless: Vec<u8> = [0x00, 0x01, 0x81, 0x00].repeat(20);
        assert_eq!(ip_payload(Link::Ethernet, &eth(0x8100, &endless)), None);
        assert_eq!(ip_payload(Link::Ethernet, &[0; 5]), None);
        // wrong version nibble behind an IPv4 ether type
        assert_eq!(ip_payload(Link::Ethernet, &eth(0x0800, &[0x55; 20])), None);
    }

    #[test]
    fn cooked_and_loopback() {
        let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&IP4);
        assert_eq!(ip_payload(Link::LinuxSll, &sll), Some(&IP4[..]));
        assert_eq!(
            direction(Link::LinuxSll, &sll),
            Some(crate::Direction::Outbound)
        );
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
        ];
        sll2.extend_from_slice(&IP4);
        assert_eq!(ip_payload(Link::LinuxSll2, &sll2), Some(&IP4[..]));
        assert_eq!(
            direction(Link::LinuxSll2, &sll2),
            Some(crate::Direction::Inbound)
        );
        assert_eq!(ip_payload(Link::LinuxSll2, &sll2[..19]), None);
        for af in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
            let mut null = af.to_vec();
            null.extend_from_slice(&IP4);
            assert_eq!(ip_payload(Link::Null, &null), Some(&IP4[..]));
        }
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&IP4);
        assert_eq!(ip_payload(Link::Loop, &lo), Some(&IP4[..]));
        assert_eq!(ip_payload(Link::Null, &[2, 0, 0]), None);
        assert_eq!(ip_payload(Link::Null, &[7, 0, 0, 0, 0x45]), None);
        assert_eq!(ip_payload(Link::Other(147), &IP4), None);
        assert_eq!(direction(Link::Ethernet, &IP4), None);
    }
}
