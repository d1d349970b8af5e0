//! The five UDP ports of Enterprise Extender and what each carries.
//!
//! RFC 2353 section 2.3 and the IANA names entextxid, entextnetwk,
//! entexthigh, entextmed, entextlow give 12000–12004; IBM's IPPORT start
//! option moves them to any five consecutive ports, in the same order
//! (signal, network, high, medium, low: DISPLAY EE messages IST2006I and
//! IST2007I), so a role is the offset from the first port of its range.
//! IBM's IPTOS start option gives each port's IP type of service, by
//! default C0 C0 80 40 20 (IST2008I; docs/ee.md for the sources).

/// What traffic an EE UDP port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortRole {
    /// Base port: LDLC signalling (XID, TEST, DISC).
    Signalling,
    /// Base + 1: network priority.
    NetworkPriority,
    /// Base + 2: high priority.
    HighPriority,
    /// Base + 3: medium priority.
    MediumPriority,
    /// Base + 4: low priority.
    LowPriority,
}

/// The well-known base port.
pub const DEFAULT_BASE: u32 = 12000;

const ROLES: [PortRole; 5] = [
    PortRole::Signalling,
    PortRole::NetworkPriority,
    PortRole::HighPriority,
    PortRole::MediumPriority,
    PortRole::LowPriority,
];

impl PortRole {
    /// The role of the port `offset` above the base port.
    pub fn from_offset(offset: u32) -> Option<PortRole> {
        ROLES.get(usize::try_from(offset).ok()?).copied()
    }

    /// The role of a port of the default range 12000–12004.
    pub fn of_port(port: u16) -> Option<PortRole> {
        Self::in_ranges(&[(DEFAULT_BASE, DEFAULT_BASE + 4)], u32::from(port)).map(|(r, _)| r)
    }

    /// The role of `port` within the port ranges EE is registered on (the
    /// `ee.udp.port` preference): its offset from the first port of the
    /// run of consecutive ports holding it, and that base port.  Ranges
    /// that touch form one run, so "12000,12001,12002,12003,12004" (five
    /// single ports, as a user may type them) is the run 12000-12004.
    pub fn in_ranges(ranges: &[(u32, u32)], port: u32) -> Option<(PortRole, u32)> {
        let mut sorted = ranges.to_vec();
        sorted.sort_unstable();
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for (low, high) in sorted {
            match runs.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => runs.push((low, high)),
            }
        }
        let &(base, _) = runs
            .iter()
            .find(|(start, end)| (*start..=*end).contains(&port))?;
        Some((Self::from_offset(port - base)?, base))
    }

    pub fn label(self) -> &'static str {
        match self {
            PortRole::Signalling => "signalling",
            PortRole::NetworkPriority => "network priority",
            PortRole::HighPriority => "high priority",
            PortRole::MediumPriority => "medium priority",
            PortRole::LowPriority => "low priority",
        }
    }

    /// The NHDR transmission priority the port carries (RFC 2353 section
    /// 2.3: one port per priority); none for the signalling port.
    pub fn transmission_priority(self) -> Option<u8> {
        match self {
            PortRole::Signalling => None,
            PortRole::NetworkPriority => Some(3),
            PortRole::HighPriority => Some(2),
            PortRole::MediumPriority => Some(1),
            PortRole::LowPriority => Some(0),
        }
    }

    /// Index 0–4 (signal … low), the order of IPPORT and IPTOS.
    pub fn index(self) -> usize {
        ROLES.iter().position(|r| *r == self).expect("every role")
    }
}

/// IBM's default IPTOS values, in port order (signal, network, high,
/// medium, low).
pub const DEFAULT_TOS: [u8; 5] = [0xC0, 0xC0, 0x80, 0x40, 0x20];

/// Whether an IP type of service fits a datagram on a port of this role,
/// given the five IPTOS values (signal, network, high, medium, low).  The
/// low two bits are ECN, set by the network.  LLC commands and responses
/// other than UI (XID, TEST, DISC, DM) may also carry the signalling value:
/// RFC 2584 (HPR-IP-MIB, AppnTrafficType and AppnTOSPrecedence) gives "LLC
/// commands" a traffic type of their own with the signalling precedence,
/// whatever port they go to (EEVERIFY probes all five ports), while IBM's
/// IST2008I lists the values per port: either is accepted.
pub fn tos_fits(table: &[u8; 5], role: PortRole, llc_command: bool, tos: u8) -> bool {
    let dscp = |t: u8| t & 0xFC;
    dscp(tos) == dscp(table[role.index()])
        || (llc_command && dscp(tos) == dscp(table[PortRole::Signalling.index()]))
}

/// Parses an IPTOS-like list of five hex bytes ("C0 C0 80 40 20", commas or
/// blanks between); None unless exactly five.
pub fn parse_tos(text: &str) -> Option<[u8; 5]> {
    let values: Vec<u8> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| u8::from_str_radix(w.trim_start_matches("0x").trim_start_matches("0X"), 16))
        .collect::<Result<_, _>>()
        .ok()?;
    values.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_map_to_roles() {
        assert_eq!(PortRole::of_port(12000), Some(PortRole::Signalling));
        assert_eq!(
            PortRole::of_port(12004).map(PortRole::label),
            Some("low priority")
        );
        assert_eq!(PortRole::of_port(11999), None);
    }

    #[test]
    fn a_moved_base_port_keeps_the_order() {
        let ranges = [(12000, 12004), (21000, 21004)];
        assert_eq!(
            PortRole::in_ranges(&ranges, 21002),
            Some((PortRole::HighPriority, 21000))
        );
        assert_eq!(PortRole::in_ranges(&[(21000, 21010)], 21007), None);
        // Five single ports typed one by one are one run of five.
        let singles: Vec<(u32, u32)> = (12000..=12004).map(|p| (p, p)).collect();
        assert_eq!(
            PortRole::in_ranges(&singles, 12002),
            Some((PortRole::HighPriority, 12000))
        );
        assert_eq!(
            PortRole::in_ranges(&[(12003, 12004), (12000, 12002)], 12004),
            Some((PortRole::LowPriority, 12000))
        );
        assert_eq!(PortRole::in_ranges(&singles, 12005), None);
        assert_eq!(PortRole::HighPriority.transmission_priority(), Some(2));
        assert_eq!(DEFAULT_TOS[PortRole::LowPriority.index()], 0x20);
    }

    #[test]
    fn llc_commands_may_carry_the_signalling_tos_on_any_port() {
        let low = PortRole::LowPriority;
        assert!(tos_fits(&DEFAULT_TOS, low, false, 0x20));
        assert!(tos_fits(&DEFAULT_TOS, low, false, 0x23), "ECN bits ignored");
        assert!(
            !tos_fits(&DEFAULT_TOS, low, false, 0xC0),
            "an NLP on the low port"
        );
        assert!(
            tos_fits(&DEFAULT_TOS, low, true, 0xC0),
            "a TEST probe on the low port"
        );
        assert!(tos_fits(&DEFAULT_TOS, low, true, 0x20));
        assert!(!tos_fits(&DEFAULT_TOS, low, true, 0x80));
    }

    #[test]
    fn tos_lists_parse() {
        assert_eq!(parse_tos("C0 C0 80 40 20"), Some(DEFAULT_TOS));
        assert_eq!(
            parse_tos("0xb8,0xb8,0x88,0x48,0x28"),
            Some([0xB8, 0xB8, 0x88, 0x48, 0x28])
        );
        assert_eq!(parse_tos("C0 C0"), None);
        assert_eq!(parse_tos("zz C0 80 40 20"), None);
    }
}
