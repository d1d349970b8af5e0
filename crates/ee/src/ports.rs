//! The five UDP ports of Enterprise Extender and what each carries.
//! Source: RFC 2353 section 2.3 ("UDP port numbers") and the IANA service
//! names entextxid, entextnetwk, entexthigh, entextmed, entextlow.

/// What traffic an EE UDP port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortRole {
    /// 12000: LDLC signalling (XID, TEST, DISC).
    Signalling,
    /// 12001: network priority.
    NetworkPriority,
    /// 12002: high priority.
    HighPriority,
    /// 12003: medium priority.
    MediumPriority,
    /// 12004: low priority.
    LowPriority,
}

impl PortRole {
    /// The role of a well-known EE port, if it is one.
    pub fn of_port(port: u16) -> Option<PortRole> {
        match port {
            12000 => Some(PortRole::Signalling),
            12001 => Some(PortRole::NetworkPriority),
            12002 => Some(PortRole::HighPriority),
            12003 => Some(PortRole::MediumPriority),
            12004 => Some(PortRole::LowPriority),
            _ => None,
        }
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
}
