//! The subset `pktmatch merge --filter` and `pktmatch report --connection`
//! keep: a small expression in Wireshark's display filter syntax over the
//! fields a connection is named by, evaluated on each frame's 5-tuple
//! (`capture::keys`):
//!
//! ```text
//! tcp.port == 35777
//! ip.addr == 192.0.2.10 && tcp.port == 443
//! ip.src == 192.0.2.0/24 and not udp
//! ipv6.addr == 2001:db8::1 || (udp.port == 53 && ip.dst == 203.0.113.53)
//! ```
//!
//! Fields: `ip.addr`, `ip.src`, `ip.dst`, `ipv6.addr`, `ipv6.src`,
//! `ipv6.dst` (an address or a CIDR prefix), `tcp.port`, `tcp.srcport`,
//! `tcp.dstport`, `udp.port`, `udp.srcport`, `udp.dstport`; protocols `ip`,
//! `ipv6`, `tcp`, `udp`, `icmp`, `icmpv6`; operators `==` (`eq`), `!=`
//! (`ne`; as in Wireshark 4, "no occurrence equals"), `&&` (`and`), `||`
//! (`or`), `!` (`not`), parentheses.  The meaning follows Wireshark's
//! (`ip.addr` is source or destination, `tcp.port` either port), but only
//! what a 5-tuple holds can be asked for; anything else is refused with the
//! position it was found at.

use std::net::IpAddr;

use capture::keys::FlowKey;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Proto(Proto),
    Addr {
        family: Family,
        which: Which,
        net: Net,
        equal: bool,
    },
    Port {
        proto: u8,
        which: Which,
        port: u16,
        equal: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Ip,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// Which end of the flow a field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Either,
    Src,
    Dst,
}

/// An address or prefix, as 16 bytes (IPv4 mapped) and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    bytes: [u8; 16],
    prefix: u8,
}

impl Net {
    fn contains(&self, a: &[u8; 16]) -> bool {
        let full = usize::from(self.prefix / 8);
        let rest = self.prefix % 8;
        if a[..full] != self.bytes[..full] {
            return false;
        }
        rest == 0 || (a[full] ^ self.bytes[full]) >> (8 - rest) == 0
    }
}

/// A flow's protocol numbers (IANA): TCP 6, UDP 17, ICMP 1, ICMPv6 58.
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

impl Filter {
    /// Parses `text`; the error names what was wrong and where.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            text,
        };
        let f = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(f),
            Some(t) => Err(p.error(t, "expected && or || or the end")),
        }
    }

    /// True when the frame with this 5-tuple is in the subset (a frame
    /// without an IP header is not).
    pub fn matches(&self, key: Option<&FlowKey>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(key) && b.matches(key),
            Filter::Or(a, b) => a.matches(key) || b.matches(key),
            Filter::Not(a) => !a.matches(key),
            Filter::Proto(p) => key.is_some_and(|k| match p {
                Proto::Ip => !k.ipv6,
                Proto::Ipv6 => k.ipv6,
                Proto::Tcp => k.proto == TCP,
                Proto::Udp => k.proto == UDP,
                Proto::Icmp => k.proto == ICMP,
                Proto::Icmpv6 => k.proto == ICMPV6,
            }),
            Filter::Addr {
                family,
                which,
                net,
                equal,
            } => {
                let Some(k) = key.filter(|k| k.ipv6 == (*family == Family::V6)) else {
                    // No such field in the frame: == is false, and so is !=.
                    return false;
                };
                let (s, d) = (net.contains(&k.src), net.contains(&k.dst));
                occurrence(*which, s, d, *equal)
            }
            Filter::Port {
                proto,
                which,
                port,
                equal,
            } => {
                let Some(k) = key.filter(|k| k.proto == *proto) else {
                    return false;
                };
                occurrence(*which, k.sport == *port, k.dport == *port, *equal)
            }
        }
    }
}

/// `==` on a field with two occurrences is true when one equals; `!=`
/// (Wireshark 4's "all not equal") when none does.
fn occurrence(which: Which, src: bool, dst: bool, equal: bool) -> bool {
    let hit = match which {
        Which::Either => src || dst,
        Which::Src => src,
        Which::Dst => dst,
    };
    hit == equal
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Op(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    at: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    const OPS: [&str; 7] = ["==", "!=", "&&", "||", "!", "(", ")"];
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Token {
                tok: Tok::Op(op),
                at: i,
            });
            i += op.len();
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b':' | b'/' | b'_'))
        {
            i += 1;
        }
        if i == start {
            return Err(format!(
                "filter {text:?}: unexpected {:?} at position {}",
                text[i..].chars().next().unwrap_or(' '),
                i + 1
            ));
        }
        out.push(Token {
            tok: Tok::Word(text[start..i].to_owned()),
            at: start,
        });
    }
    Ok(out)
}

struct Parser<'t> {
    tokens: Vec<Token>,
    at: usize,
    text: &'t str,
}

impl Parser<'_> {
    fn error(&self, t: &Token, what: &str) -> String {
        let shown = match &t.tok {
            Tok::Word(w) => w.clone(),
            Tok::Op(o) => (*o).to_owned(),
        };
        format!(
            "filter {:?}: {what}, found {shown:?} at position {}",
            self.text,
            t.at + 1
        )
    }

    fn end_error(&self, what: &str) -> String {
        format!("filter {:?}: {what}, found the end", self.text)
    }

    fn peek_is(&self, ops: &[&str], words: &[&str]) -> bool {
        match self.tokens.get(self.at).map(|t| &t.tok) {
            Some(Tok::Op(o)) => ops.contains(o),
            Some(Tok::Word(w)) => words.contains(&w.as_str()),
            None => false,
        }
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_is(&["||"], &["or"]) {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.peek_is(&["&&"], &["and"]) {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        let Some(t) = self.tokens.get(self.at).cloned() else {
            return Err(self.end_error("expected a field, a protocol, ! or ("));
        };
        self.at += 1;
        match &t.tok {
            Tok::Op("!") => Ok(Filter::Not(Box::new(self.unary()?))),
            Tok::Word(w) if w == "not" => Ok(Filter::Not(Box::new(self.unary()?))),
            Tok::Op("(") => {
                let inner = self.or()?;
                match self.tokens.get(self.at) {
                    Some(Token {
                        tok: Tok::Op(")"), ..
                    }) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(self.error(t, "expected )")),
                    None => Err(self.end_error("expected )")),
                }
            }
            Tok::Word(w) => self.field(w, &t),
            Tok::Op(_) => Err(self.error(&t, "expected a field, a protocol, ! or (")),
        }
    }

    fn field(&mut self, name: &str, t: &Token) -> Result<Filter, String> {
        let proto = match name {
            "ip" => Some(Proto::Ip),
            "ipv6" => Some(Proto::Ipv6),
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "icmp" => Some(Proto::Icmp),
            "icmpv6" => Some(Proto::Icmpv6),
            _ => None,
        };
        if let Some(p) = proto {
            return Ok(Filter::Proto(p));
        }
        let (kind, which) = match name.split_once('.') {
            Some((k, "addr" | "port")) => (k, Which::Either),
            Some((k, "src" | "srcport")) => (k, Which::Src),
            Some((k, "dst" | "dstport")) => (k, Which::Dst),
            _ => return Err(self.error(t, "unknown field (see docs/cli.md, Subsets)")),
        };
        let is_port = name.ends_with("port");
        let equal = match self.tokens.get(self.at).map(|t| &t.tok) {
            Some(Tok::Op("==")) => true,
            Some(Tok::Op("!=")) => false,
            Some(Tok::Word(w)) if w == "eq" => true,
            Some(Tok::Word(w)) if w == "ne" => false,
            Some(_) => return Err(self.error(&self.tokens[self.at], "expected == or !=")),
            None => return Err(self.end_error("expected == or !=")),
        };
        self.at += 1;
        let Some(v) = self.tokens.get(self.at).cloned() else {
            return Err(self.end_error("expected a value"));
        };
        self.at += 1;
        let Tok::Word(value) = &v.tok else {
            return Err(self.error(&v, "expected a value"));
        };
        match (kind, is_port) {
            ("tcp" | "udp", true) => {
                let port = value
                    .parse::<u16>()
                    .map_err(|_| self.error(&v, "expected a port number"))?;
                let proto = if kind == "tcp" { TCP } else { UDP };
                Ok(Filter::Port {
                    proto,
                    which,
                    port,
                    equal,
                })
            }
            ("ip" | "ipv6", false) if !name.ends_with("port") => {
                let family = if kind == "ip" { Family::V4 } else { Family::V6 };
                let net = parse_net(value, family).ok_or_else(|| {
                    self.error(&v, &format!("expected an {kind} address or prefix"))
                })?;
                Ok(Filter::Addr {
                    family,
                    which,
                    net,
                    equal,
                })
            }
            _ => Err(self.error(t, "unknown field (see docs/cli.md, Subsets)")),
        }
    }
}

fn parse_net(s: &str, family: Family) -> Option<Net> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let (bytes, max, offset) = match (ip, family) {
        (IpAddr::V4(v4), Family::V4) => (v4.to_ipv6_mapped().octets(), 32, 96),
        (IpAddr::V6(v6), Family::V6) => (v6.octets(), 128, 0),
        _ => return None,
    };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some(Net {
        bytes,
        prefix: prefix + offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(src: &str, sport: u16, dst: &str, dport: u16, proto: u8) -> FlowKey {
        let b = |s: &str| match s.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        FlowKey {
            src: b(src),
            dst: b(dst),
            sport,
            dport,
            proto,
            ipv6: src.contains(':'),
        }
    }

    #[test]
    fn fields_mean_what_wireshark_says() {
        let k = key("192.0.2.10", 35777, "203.0.113.80", 80, TCP);
        let yes = |f: &str| Filter::parse(f).unwrap().matches(Some(&k));
        assert!(yes("tcp.port == 35777"));
        assert!(yes("tcp.port == 80 && ip.addr == 192.0.2.10"));
        assert!(yes("ip.src == 192.0.2.0/24 and tcp.dstport eq 80"));
        assert!(!yes("ip.dst == 192.0.2.0/24"));
        assert!(!yes("udp.port == 80"));
        assert!(yes("!udp && tcp"));
        assert!(yes("tcp.port != 443"));
        assert!(!yes("tcp.port != 80"));
        assert!(yes("(udp || tcp.srcport == 35777) && ip"));
        assert!(!yes("ipv6.addr == ::1"));
        assert!(!Filter::parse("tcp").unwrap().matches(None));
        let v6 = key("2001:db8::1", 53, "2001:db8::2", 4000, UDP);
        assert!(
            Filter::parse("ipv6.addr == 2001:db8::/64 && udp.port == 53")
                .unwrap()
                .matches(Some(&v6))
        );
    }

    #[test]
    fn mistakes_are_named_with_their_position() {
        let err = |f: &str| Filter::parse(f).unwrap_err();
        assert!(err("tcp.port == x").contains("expected a port number, found \"x\" at position 13"));
        assert!(err("frame.len == 3").contains("unknown field"));
        assert!(err("ip.addr == 300.1.1.1").contains("expected an ip address"));
        assert!(err("(tcp").contains("expected ), found the end"));
        assert!(err("tcp udp").contains("expected && or || or the end"));
        assert!(err("ip.addr 10.0.0.1").contains("expected == or !="));
    }
}
