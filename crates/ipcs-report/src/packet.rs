//! A record's packet, put back together from its hex dumps.

use crate::record::{Direction, Extent, Problem, Record};
use crate::vocab;

/// What the rebuilt bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An IPv4 or IPv6 packet (IP header + protocol header + data).
    Ip,
    /// Socket data of a data trace record (no IP header).
    SocketData,
    /// Dumps that are neither: kept as they are.
    Other,
}

/// The packet of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// The packet's length before tracing cut it (≥ bytes.len()).
    pub original_len: u32,
    /// Whether the report says the packet was abbreviated, or the dumps
    /// hold less than the packet had.
    pub abbreviated: bool,
    pub direction: Option<Direction>,
    /// What does not add up, for this packet (the record's problems too).
    pub problems: Vec<Problem>,
}

/// The length an IP header says its packet had.
pub fn ip_length(b: &[u8]) -> Option<u32> {
    match b.first()? >> 4 {
        4 if b.len() >= 4 => Some(u32::from(u16::from_be_bytes([b[2], b[3]]))),
        6 if b.len() >= 6 => Some(40 + u32::from(u16::from_be_bytes([b[4], b[5]]))),
        _ => None,
    }
}

/// Whether an IPv4 header's checksum verifies.
fn ipv4_checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum == 0xFFFF
}

impl Record {
    fn looks_like_ip(&self, b: &[u8]) -> bool {
        let addrs = |s: usize, d: usize, n: usize| -> bool {
            let same = |a: Option<std::net::IpAddr>, at: usize| match (a, b.get(at..at + n)) {
                (Some(std::net::IpAddr::V4(v)), Some(x)) if n == 4 => v.octets() == x,
                (Some(std::net::IpAddr::V6(v)), Some(x)) if n == 16 => v.octets() == x,
                _ => false,
            };
            same(self.ip_src, s) && same(self.ip_dst, d)
        };
        match b.first().map(|v| v >> 4) {
            Some(4) => {
                let ihl = usize::from(b[0] & 0x0F) * 4;
                ihl >= 20 && b.len() >= ihl && (ipv4_checksum_ok(&b[..ihl]) || addrs(12, 16, 4))
            }
            Some(6) => b.len() >= 40 && addrs(8, 24, 16),
            _ => false,
        }
    }

    /// The packet rebuilt from the dumps; `None` when the record has none.
    pub fn packet(&self) -> Option<Packet> {
        if !self.has_dump() {
            return None;
        }
        let mut problems = self.problems.clone();
        let std = [vocab::IP_HEADER, vocab::PROTOCOL_HEADER, vocab::DATA];
        // an "IP Header" dump, or an unheaded dump that is an IP packet
        // (its header checksum verifies, or its addresses are the
        // formatted Source and Destination)
        let has_ip = self.section(vocab::IP_HEADER).is_some()
            || (self.sections.len() == 1 && self.looks_like_ip(&self.sections[0].bytes));
        let data_only = !has_ip
            && self
                .sections
                .iter()
                .all(|s| s.name.eq_ignore_ascii_case(vocab::DATA));
        let kind = if has_ip {
            Kind::Ip
        } else if data_only && (self.format_id() == 5 || self.mnemonic == "DATA") {
            Kind::SocketData
        } else {
            Kind::Other
        };
        let mut bytes = Vec::new();
        for s in &self.sections {
            let keep = match kind {
                Kind::Ip => std.iter().any(|n| s.name.eq_ignore_ascii_case(n)),
                _ => true,
            };
            if keep {
                bytes.extend_from_slice(&s.bytes);
            }
        }
        let dumped = bytes.len() as u32;
        let stated = match self.extent {
            Some(Extent::Full(n)) | Some(Extent::Abbrev(n)) => Some(n),
            None => None,
        };
        let from_ip = if kind == Kind::Ip {
            ip_length(&bytes)
        } else {
            None
        };
        if let (Some(ip), Some(Extent::Full(full))) = (from_ip, self.extent) {
            if ip != full {
                problems.push(Problem::Disagree {
                    line: self.line,
                    what: format!("Full={full} but the IP header says the packet had {ip} bytes"),
                });
            }
        }
        if let (Some(ip), Some(formatted)) = (from_ip, self.ip_packet_length) {
            if ip != formatted {
                problems.push(Problem::Disagree {
                    line: self.line,
                    what: format!("Packet Length {formatted} but the dumped IP header says {ip}"),
                });
            }
        }
        let original = from_ip.or(stated).unwrap_or(dumped).max(dumped);
        let said_abbrev = matches!(self.extent, Some(Extent::Abbrev(_)));
        if dumped < original && !said_abbrev {
            problems.push(Problem::Incomplete {
                line: self.line,
                dumped,
                expected: original,
            });
        }
        let out = self.flags.iter().any(|f| f == "Out");
        let direction = match (self.direction, self.flags.is_empty()) {
            (Some(d), false) if (d == Direction::Outbound) != out => {
                problems.push(Problem::Disagree {
                    line: self.line,
                    what: format!(
                        "direction \"{}\" but Flags {} Out",
                        if d == Direction::Outbound {
                            "To"
                        } else {
                            "From"
                        },
                        if out { "has" } else { "lacks" }
                    ),
                });
                Some(d)
            }
            (Some(d), _) => Some(d),
            (None, false) => Some(if out {
                Direction::Outbound
            } else {
                Direction::Inbound
            }),
            (None, true) => None,
        };
        Some(Packet {
            kind,
            bytes,
            original_len: original,
            abbreviated: said_abbrev || dumped < original,
            direction,
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_lengths() {
        assert_eq!(ip_length(&[0x45, 0, 0x00, 0x34]), Some(52));
        assert_eq!(ip_length(&[0x60, 0, 0, 0, 0x00, 0x20]), Some(72));
        assert_eq!(ip_length(&[0x45, 0]), None);
        assert_eq!(ip_length(&[0x12; 8]), None);
        assert_eq!(ip_length(&[]), None);
    }
}
