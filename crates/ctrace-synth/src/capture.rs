//! Reading the source capture (pcap or pcapng) and finding the IP packet in
//! each frame.  Deliberately small: only what the writer needs.

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// Link-layer type of a frame, as far as the writer cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// Raw IP (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6).
    RawIp,
    /// Linux cooked capture v1 (16-byte header).
    Sll,
    /// Linux cooked capture v2 (20-byte header).
    Sll2,
    /// Anything else (skipped).
    Other(u32),
}

fn link_of(d: DataLink) -> Link {
    match d {
        DataLink::ETHERNET => Link::Ethernet,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Link::RawIp,
        DataLink::LINUX_SLL => Link::Sll,
        DataLink::LINUX_SLL2 => Link::Sll2,
        other => Link::Other(u32::from(other)),
    }
}

/// One frame of the source capture.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    pub link: Link,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: u32,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads every frame of a pcap or pcapng file.
pub fn read(path: &Path) -> io::Result<Vec<Frame>> {
    let mut f = BufReader::new(File::open(path)?);
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic)?;
    let f = BufReader::new(File::open(path)?);
    if magic == [0x0A, 0x0D, 0x0D, 0x0A] {
        read_pcapng(f)
    } else {
        read_pcap(f)
    }
}

fn read_pcap(f: impl Read) -> io::Result<Vec<Frame>> {
    let mut r = PcapReader::new(f).map_err(|e| bad(format!("pcap: {e}")))?;
    let link = link_of(r.header().datalink);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.map_err(|e| bad(format!("pcap: {e}")))?;
        out.push(Frame {
            ts_ns: p.timestamp.as_nanos() as i64,
            link,
            data: p.data.into_owned(),
            orig_len: p.orig_len,
            interface: 0,
        });
    }
    Ok(out)
}

/// if_tsresol: units per second of an interface's timestamps.
fn units_per_sec(tsresol: Option<u8>) -> i128 {
    match tsresol {
        None => 1_000_000,
        Some(v) if v & 0x80 != 0 => 1i128 << (v & 0x7F).min(100),
        Some(v) => 10i128.pow(v.min(30) as u32),
    }
}

fn read_pcapng(f: impl Read) -> io::Result<Vec<Frame>> {
    let mut r = PcapNgReader::new(f).map_err(|e| bad(format!("pcapng: {e}")))?;
    // (link, units per second) of each interface of the current section
    let mut ifaces: Vec<(Link, i128)> = Vec::new();
    let mut out = Vec::new();
    while let Some(b) = r.next_block() {
        match b.map_err(|e| bad(format!("pcapng: {e}")))? {
            Block::SectionHeader(_) => ifaces.clear(),
            Block::InterfaceDescription(idb) => {
                let res = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfTsResol(v) => Some(*v),
                    _ => None,
                });
                ifaces.push((link_of(idb.linktype), units_per_sec(res)));
            }
            Block::EnhancedPacket(epb) => {
                let (link, ups) = *ifaces
                    .get(epb.interface_id as usize)
                    .ok_or_else(|| bad("pcapng: packet of an undeclared interface"))?;
                // pcap-file hands the raw 64-bit count over as "nanoseconds".
                let units = epb.timestamp.as_nanos() as i128;
                let ns = units * 1_000_000_000 / ups;
                out.push(Frame {
                    ts_ns: ns as i64,
                    link,
                    data: epb.data.into_owned(),
                    orig_len: epb.original_len,
                    interface: epb.interface_id,
                });
            }
            Block::SimplePacket(spb) => {
                let (link, _) = *ifaces.first().ok_or_else(|| bad("pcapng: no interface"))?;
                out.push(Frame {
                    ts_ns: 0,
                    link,
                    orig_len: spb.original_len,
                    data: spb.data.into_owned(),
                    interface: 0,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What the writer needs to know of a frame's IP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpInfo {
    /// Offset of the IP header in the frame.
    pub l3: usize,
    /// Captured IP bytes (link padding after the IP packet dropped).
    pub captured: usize,
    /// Original IP packet length (IP header length fields).
    pub total: usize,
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// TCP/UDP ports (0 for other protocols and later fragments).
    pub ports: (u16, u16),
    /// Offset of the TCP/UDP payload from the IP header, when the transport
    /// header was captured whole.
    pub l4_payload: Option<usize>,
    /// First 802.1Q VLAN id (Ethernet), 0 if none.
    pub vlan: u16,
}

/// Ethernet: offset of the layer-3 header, its EtherType, first VLAN id.
pub fn ethernet(data: &[u8]) -> Option<(usize, u16, u16)> {
    let mut at = 12;
    let mut vlan = 0;
    loop {
        let et = u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]);
        if et == 0x8100 || et == 0x88A8 || et == 0x9100 {
            let tci = u16::from_be_bytes([*data.get(at + 2)?, *data.get(at + 3)?]);
            if vlan == 0 {
                vlan = tci & 0x0FFF;
            }
            at += 4;
            continue;
        }
        return Some((at + 2, et, vlan));
    }
}

/// Finds and decodes the IP packet of a frame; `None` for non-IP frames.
pub fn ip_info(link: Link, data: &[u8]) -> Option<IpInfo> {
    let (l3, vlan) = match link {
        Link::Ethernet => {
            let (l3, et, vlan) = ethernet(data)?;
            if et != 0x0800 && et != 0x86DD {
                return None;
            }
            (l3, vlan)
        }
        Link::RawIp => (0, 0),
        Link::Sll => {
            let p = u16::from_be_bytes([*data.get(14)?, *data.get(15)?]);
            if p != 0x0800 && p != 0x86DD {
                return None;
            }
            (16, 0)
        }
        Link::Sll2 => {
            let p = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            if p != 0x0800 && p != 0x86DD {
                return None;
            }
            (20, 0)
        }
        Link::Other(_) => return None,
    };
    let ip = data.get(l3..)?;
    let version = ip.first()? >> 4;
    let (total, src, dst, mut protocol, mut hl, first_fragment) = match version {
        4 => {
            if ip.len() < 20 {
                return None;
            }
            let ihl = (ip[0] & 0x0F) as usize * 4;
            let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
            let frag = u16::from_be_bytes([ip[6], ip[7]]) & 0x1FFF;
            let s = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
            let d = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
            (total.max(ihl), s, d, ip[9], ihl, frag == 0)
        }
        6 => {
            if ip.len() < 40 {
                return None;
            }
            let plen = u16::from_be_bytes([ip[4], ip[5]]) as usize;
            let mut s = [0u8; 16];
            s.copy_from_slice(&ip[8..24]);
            let mut d = [0u8; 16];
            d.copy_from_slice(&ip[24..40]);
            let total = if plen == 0 { ip.len() } else { 40 + plen };
            (
                total,
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                ip[6],
                40,
                true,
            )
        }
        _ => return None,
    };
    let captured = ip.len().min(total);
    let mut first = first_fragment;
    if version == 6 {
        // walk the common extension headers
        loop {
            match protocol {
                0 | 43 | 60 => {
                    let (nh, len) = (*ip.get(hl)?, *ip.get(hl + 1)? as usize);
                    protocol = nh;
                    hl += (len + 1) * 8;
                }
                44 => {
                    let nh = *ip.get(hl)?;
                    let off = u16::from_be_bytes([*ip.get(hl + 2)?, *ip.get(hl + 3)?]) >> 3;
                    first = first && off == 0;
                    protocol = nh;
                    hl += 8;
                }
                _ => break,
            }
        }
    }
    let mut ports = (0, 0);
    let mut l4_payload = None;
    if first && (protocol == 6 || protocol == 17) && hl + 4 <= captured {
        ports = (
            u16::from_be_bytes([ip[hl], ip[hl + 1]]),
            u16::from_be_bytes([ip[hl + 2], ip[hl + 3]]),
        );
        let l4len = if protocol == 17 {
            Some(8)
        } else if hl + 13 <= captured {
            Some((ip[hl + 12] >> 4) as usize * 4)
        } else {
            None
        };
        if let Some(l) = l4len {
            if hl + l <= captured && l >= 8 {
                l4_payload = Some(hl + l);
            }
        }
    }
    Some(IpInfo {
        l3,
        captured,
        total,
        version,
        src,
        dst,
        protocol,
        ports,
        l4_payload,
        vlan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let total = 28 + payload.len();
        let mut v = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0x40,
            0,
            64,
            17,
            0,
            0,
            10,
            0,
            0,
            1,
            10,
            0,
            0,
            2,
        ];
        v.extend_from_slice(&[0x13, 0x88, 0x00, 0x35, 0, (8 + payload.len()) as u8, 0, 0]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ethernet_vlan_padding() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x20, 0x64, 0x08, 0x00]);
        f.extend_from_slice(&ipv4_udp(b"hi"));
        f.extend_from_slice(&[0; 12]); // Ethernet padding
        let i = ip_info(Link::Ethernet, &f).unwrap();
        assert_eq!(i.l3, 18);
        assert_eq!(i.vlan, 100);
        assert_eq!(i.total, 30);
        assert_eq!(i.captured, 30);
        assert_eq!(i.ports, (5000, 53));
        assert_eq!(i.l4_payload, Some(28));
        assert_eq!(i.protocol, 17);
    }

    #[test]
    fn raw_sll_sll2_and_non_ip() {
        let p = ipv4_udp(b"");
        assert_eq!(ip_info(Link::RawIp, &p).unwrap().l3, 0);
        let mut s = vec![0u8; 14];
        s.extend_from_slice(&[0x08, 0x00]);
        s.extend_from_slice(&p);
        assert_eq!(ip_info(Link::Sll, &s).unwrap().l3, 16);
        let mut s2 = vec![0x86, 0xDD];
        s2.resize(20, 0);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        s2.extend_from_slice(&v6);
        let i = ip_info(Link::Sll2, &s2).unwrap();
        assert_eq!((i.l3, i.version, i.total, i.ports), (20, 6, 48, (1, 2)));
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        assert!(ip_info(Link::Ethernet, &arp).is_none());
        assert!(ip_info(Link::Other(105), &p).is_none());
        assert!(ip_info(Link::RawIp, &[0x45, 0]).is_none());
    }

    #[test]
    fn tsresol() {
        assert_eq!(units_per_sec(None), 1_000_000);
        assert_eq!(units_per_sec(Some(9)), 1_000_000_000);
        assert_eq!(units_per_sec(Some(0x80 | 10)), 1024);
    }
}
