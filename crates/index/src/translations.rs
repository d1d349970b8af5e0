//! TRANSLATIONS (optional): per matched connection and point pair, how the
//! addressing changed between a and b, as a sentence and (optionally) as
//! fields.
//!
//! ```text
//! section:  0  4  COUNT          number of records
//!           4  4  RECORD_LEN     96 in 1.0
//!           8  ..  records, sorted by (A, B) (several per pair)
//! record:   0  2  A              point a
//!           2  2  B              point b (a < b < point count)
//!           4  1  KIND           0 other, 1 none, 2 SNAT, 3 DNAT, 4 SNAT+DNAT,
//!                                5 proxy (two connections), 6 sequence numbers only
//!           5  1  FLAGS          bit 0 ENDPOINTS: the address/port fields are set;
//!                                bit 1 SEQ_OFFSETS: the sequence offsets are set
//!           6  1  IP_PROTO       IP protocol (6 TCP, 17 UDP…), with ENDPOINTS
//!           7  1  reserved       0
//!           8  4  SUMMARY_OFF    human-readable summary: STRINGS reference
//!          12  4  SUMMARY_LEN
//!          16 16  A_SRC_ADDR     client-side (initiator) address as seen at a;
//!          32 16  A_DST_ADDR     server-side address at a;
//!          48 16  B_SRC_ADDR     the same at b (IPv6, or IPv4-mapped ::ffff:a.b.c.d)
//!          64 16  B_DST_ADDR
//!          80  2  A_SRC_PORT     ports, same order
//!          82  2  A_DST_PORT
//!          84  2  B_SRC_PORT
//!          86  2  B_DST_PORT
//!          88  4  SEQ_C2S        seq at b − seq at a, client to server (mod 2^32)
//!          92  4  SEQ_S2C        the same, server to client
//! ```

use crate::{le16, le32, strings, Result, Sec, Table};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Byte ranges of a TRANSLATIONS record (the section is a table, see
/// [`crate::table_field`]).
pub mod field {
    use core::ops::Range;
    pub const A: Range<usize> = 0..2;
    pub const B: Range<usize> = 2..4;
    pub const KIND: usize = 4;
    pub const FLAGS: usize = 5;
    pub const IP_PROTO: usize = 6;
    pub const RESERVED: usize = 7;
    pub const SUMMARY_OFF: Range<usize> = 8..12;
    pub const SUMMARY_LEN: Range<usize> = 12..16;
    pub const A_SRC_ADDR: Range<usize> = 16..32;
    pub const A_DST_ADDR: Range<usize> = 32..48;
    pub const B_SRC_ADDR: Range<usize> = 48..64;
    pub const B_DST_ADDR: Range<usize> = 64..80;
    pub const A_SRC_PORT: Range<usize> = 80..82;
    pub const A_DST_PORT: Range<usize> = 82..84;
    pub const B_SRC_PORT: Range<usize> = 84..86;
    pub const B_DST_PORT: Range<usize> = 86..88;
    pub const SEQ_C2S: Range<usize> = 88..92;
    pub const SEQ_S2C: Range<usize> = 92..96;
    /// Record length in format 1.0.
    pub const LEN: usize = 96;
}

/// TRANSLATIONS record flags.
pub mod flags {
    pub const ENDPOINTS: u8 = 0x01;
    pub const SEQ_OFFSETS: u8 = 0x02;
}

/// What changed between the two points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TranslationKind {
    /// Not stated (0) or a kind this reader does not know (the byte).
    Other(u8),
    /// Same addresses and ports at both points.
    None,
    /// Source address/port translated.
    Snat,
    /// Destination address/port translated.
    Dnat,
    /// Both.
    SnatDnat,
    /// A full proxy: a different connection on each side.
    Proxy,
    /// Addresses unchanged, sequence numbers rewritten.
    SeqOnly,
}

impl TranslationKind {
    /// The KIND byte.
    pub fn to_u8(self) -> u8 {
        match self {
            TranslationKind::Other(b) => b,
            TranslationKind::None => 1,
            TranslationKind::Snat => 2,
            TranslationKind::Dnat => 3,
            TranslationKind::SnatDnat => 4,
            TranslationKind::Proxy => 5,
            TranslationKind::SeqOnly => 6,
        }
    }

    /// From the KIND byte.
    pub fn from_u8(b: u8) -> TranslationKind {
        match b {
            1 => TranslationKind::None,
            2 => TranslationKind::Snat,
            3 => TranslationKind::Dnat,
            4 => TranslationKind::SnatDnat,
            5 => TranslationKind::Proxy,
            6 => TranslationKind::SeqOnly,
            b => TranslationKind::Other(b),
        }
    }

    /// Short name ("SNAT", "proxy"…).
    pub fn name(self) -> &'static str {
        match self {
            TranslationKind::Other(_) => "other",
            TranslationKind::None => "none",
            TranslationKind::Snat => "SNAT",
            TranslationKind::Dnat => "DNAT",
            TranslationKind::SnatDnat => "SNAT+DNAT",
            TranslationKind::Proxy => "proxy",
            TranslationKind::SeqOnly => "seq",
        }
    }
}

/// A connection's addresses at both points (client side as source).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// IP protocol number (6 TCP, 17 UDP…).
    pub ip_proto: u8,
    pub a_src: SocketAddr,
    pub a_dst: SocketAddr,
    pub b_src: SocketAddr,
    pub b_dst: SocketAddr,
}

/// Sequence number offsets: seq at b − seq at a, per direction, mod 2^32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeqOffsets {
    pub client_to_server: u32,
    pub server_to_client: u32,
}

/// What the builder is given for one translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationSpec {
    pub a: u16,
    pub b: u16,
    pub kind: TranslationKind,
    /// e.g. "SNAT 10.0.0.5:51000 → 203.0.113.7:40123; seq +0x1A2B3C4D
    /// client→server".  Empty: made from the kind, endpoints and sequence
    /// offsets when the index is written ([`TranslationSpec::summary_text`]),
    /// so that a session with a translation per connection does not hold
    /// a string per connection while it is matched.
    pub summary: String,
    pub endpoints: Option<Endpoints>,
    pub seq_offsets: Option<SeqOffsets>,
}

impl TranslationSpec {
    /// The summary stored: [`TranslationSpec::summary`], or, when that is
    /// empty, [`describe`] with the points' labels.
    pub fn summary_text(&self, label_a: &str, label_b: &str) -> std::borrow::Cow<'_, str> {
        if self.summary.is_empty() {
            std::borrow::Cow::Owned(describe(
                self.kind,
                self.endpoints.as_ref(),
                self.seq_offsets.as_ref(),
                label_a,
                label_b,
            ))
        } else {
            std::borrow::Cow::Borrowed(&self.summary)
        }
    }
}

/// A sequence offset (mod 2^32) as the signed difference it stands for:
/// "+0x1A2B3C4D", "-0x10".
pub fn seq_offset_text(v: u32) -> String {
    let s = v as i32;
    if s < 0 {
        format!("-0x{:X}", s.unsigned_abs())
    } else {
        format!("+0x{v:X}")
    }
}

/// A translation in words: "SNAT 10.0.0.5:51000 → 192.0.2.80:80 at client
/// is 203.0.113.7:40123 → 192.0.2.80:80 at wan; seq +0x1A2B3C4D
/// client→server, -0x10 server→client" (what is known of it).
pub fn describe(
    kind: TranslationKind,
    endpoints: Option<&Endpoints>,
    seq: Option<&SeqOffsets>,
    label_a: &str,
    label_b: &str,
) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(128);
    s.push_str(kind.name());
    if let Some(e) = endpoints {
        for (part, at) in [
            (" ", Some(&e.a_src)),
            (" → ", Some(&e.a_dst)),
            (" at ", None),
            (label_a, None),
            (" is ", Some(&e.b_src)),
            (" → ", Some(&e.b_dst)),
            (" at ", None),
            (label_b, None),
        ] {
            s.push_str(part);
            if let Some(a) = at {
                push_socket_addr(&mut s, a);
            }
        }
    }
    if let Some(o) = seq {
        let _ = write!(
            s,
            "; seq {} client→server, {} server→client",
            seq_offset_text(o.client_to_server),
            seq_offset_text(o.server_to_client)
        );
    }
    s
}

/// `a` as its `Display` writes it ("192.0.2.80:80", "[2001:db8::1]:80"),
/// IPv4 without the formatting machinery (a session's summaries are made
/// for every translation, twice; the matcher's full-proxy links make
/// theirs with it too).
pub fn push_socket_addr(s: &mut String, a: &SocketAddr) {
    fn push_decimal(s: &mut String, mut v: u16) {
        let mut digits = [0u8; 5];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits[i..].iter().for_each(|&d| s.push(d as char));
    }
    match a {
        SocketAddr::V4(v4) => {
            for (k, o) in v4.ip().octets().into_iter().enumerate() {
                if k > 0 {
                    s.push('.');
                }
                push_decimal(s, o.into());
            }
            s.push(':');
            push_decimal(s, v4.port());
        }
        SocketAddr::V6(_) => {
            use std::fmt::Write;
            let _ = write!(s, "{a}");
        }
    }
}

/// One translation record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation<'a> {
    rec: &'a [u8],
    strings: &'a str,
}

fn addr(rec: &[u8], r: core::ops::Range<usize>, port: core::ops::Range<usize>) -> SocketAddr {
    let mut b = [0u8; 16];
    b.copy_from_slice(&rec[r]);
    let v6 = Ipv6Addr::from(b);
    let ip = match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    };
    SocketAddr::new(ip, le16(rec, port.start))
}

fn addr_bytes(a: &SocketAddr) -> [u8; 16] {
    match a.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl<'a> Translation<'a> {
    pub(crate) fn new(rec: &'a [u8], strings: &'a str) -> Translation<'a> {
        Translation { rec, strings }
    }

    /// Point a.
    pub fn a(&self) -> u16 {
        le16(self.rec, field::A.start)
    }

    /// Point b (a < b).
    pub fn b(&self) -> u16 {
        le16(self.rec, field::B.start)
    }

    /// What changed.
    pub fn kind(&self) -> TranslationKind {
        TranslationKind::from_u8(self.rec[field::KIND])
    }

    /// Record flags.
    pub fn flags(&self) -> u8 {
        self.rec[field::FLAGS]
    }

    /// The human-readable summary.
    pub fn summary(&self) -> &'a str {
        strings::get(
            self.strings,
            le32(self.rec, field::SUMMARY_OFF.start),
            le32(self.rec, field::SUMMARY_LEN.start),
        )
    }

    /// Addresses and ports at both points, if recorded.
    pub fn endpoints(&self) -> Option<Endpoints> {
        if self.flags() & flags::ENDPOINTS == 0 {
            return None;
        }
        use field::*;
        Some(Endpoints {
            ip_proto: self.rec[IP_PROTO],
            a_src: addr(self.rec, A_SRC_ADDR, A_SRC_PORT),
            a_dst: addr(self.rec, A_DST_ADDR, A_DST_PORT),
            b_src: addr(self.rec, B_SRC_ADDR, B_SRC_PORT),
            b_dst: addr(self.rec, B_DST_ADDR, B_DST_PORT),
        })
    }

    /// Sequence number offsets, if recorded.
    pub fn seq_offsets(&self) -> Option<SeqOffsets> {
        if self.flags() & flags::SEQ_OFFSETS == 0 {
            return None;
        }
        Some(SeqOffsets {
            client_to_server: le32(self.rec, field::SEQ_C2S.start),
            server_to_client: le32(self.rec, field::SEQ_S2C.start),
        })
    }
}

/// Checks TRANSLATIONS: a < b < points, sorted by (a, b), summaries valid.
pub(crate) fn check<'a>(sec: Sec<'a>, points: usize, strings: &str) -> Result<Table<'a>> {
    let t = Table::check(sec, field::LEN)?;
    let mut prev = (0u16, 0u16);
    for i in 0..t.count {
        let r = t.record(i);
        let at = crate::table_field::LEN + i * t.stride;
        let (a, b) = (le16(r, field::A.start), le16(r, field::B.start));
        if a >= b || b as usize >= points {
            return Err(sec.invalid(
                at,
                format!("translation {i} ({a}, {b}): needs a < b < {points} (the point count)"),
            ));
        }
        if (a, b) < prev {
            return Err(sec.invalid(at, format!("translation {i} ({a}, {b}) is out of order")));
        }
        prev = (a, b);
        strings::check_ref(
            strings,
            le32(r, field::SUMMARY_OFF.start),
            le32(r, field::SUMMARY_LEN.start),
            &sec,
            at + field::SUMMARY_OFF.start,
            &format!("translation {i} summary"),
        )?;
    }
    Ok(t)
}

/// Records (a, b) of a checked table: the range of indices.
pub(crate) fn range(t: &Table<'_>, a: u16, b: u16) -> core::ops::Range<usize> {
    let key = |i: usize| {
        let r = t.record(i);
        (le16(r, field::A.start), le16(r, field::B.start))
    };
    let bound = |strict: bool| {
        let (mut lo, mut hi) = (0usize, t.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = key(mid);
            if k < (a, b) || (strict && k == (a, b)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    bound(false)..bound(true)
}

/// Writes one record.
pub(crate) fn write_record(out: &mut Vec<u8>, t: &TranslationSpec, summary: (u32, u32)) {
    let start = out.len();
    out.resize(start + field::LEN, 0);
    let r = &mut out[start..];
    r[field::A].copy_from_slice(&t.a.to_le_bytes());
    r[field::B].copy_from_slice(&t.b.to_le_bytes());
    r[field::KIND] = t.kind.to_u8();
    r[field::SUMMARY_OFF].copy_from_slice(&summary.0.to_le_bytes());
    r[field::SUMMARY_LEN].copy_from_slice(&summary.1.to_le_bytes());
    let mut f = 0;
    if let Some(e) = &t.endpoints {
        f |= flags::ENDPOINTS;
        r[field::IP_PROTO] = e.ip_proto;
        for (a, ar, pr) in [
            (&e.a_src, field::A_SRC_ADDR, field::A_SRC_PORT),
            (&e.a_dst, field::A_DST_ADDR, field::A_DST_PORT),
            (&e.b_src, field::B_SRC_ADDR, field::B_SRC_PORT),
            (&e.b_dst, field::B_DST_ADDR, field::B_DST_PORT),
        ] {
            r[ar].copy_from_slice(&addr_bytes(a));
            r[pr].copy_from_slice(&a.port().to_le_bytes());
        }
    }
    if let Some(s) = &t.seq_offsets {
        f |= flags::SEQ_OFFSETS;
        r[field::SEQ_C2S].copy_from_slice(&s.client_to_server.to_le_bytes());
        r[field::SEQ_S2C].copy_from_slice(&s.server_to_client.to_le_bytes());
    }
    r[field::FLAGS] = f;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::Blob;

    /// The summaries' addresses as the standard library's `Display` writes
    /// them.
    #[test]
    fn socket_addresses_as_display_writes_them() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut addrs: Vec<SocketAddr> = vec![
            "0.0.0.0:0".parse().unwrap(),
            "255.255.255.255:65535".parse().unwrap(),
            "10.0.0.5:51000".parse().unwrap(),
            "[2001:db8::1]:80".parse().unwrap(),
            "[::ffff:192.0.2.1]:443".parse().unwrap(),
        ];
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ip = std::net::Ipv4Addr::from((x >> 16) as u32);
            addrs.push(SocketAddr::new(IpAddr::V4(ip), x as u16 >> (x % 16)));
        }
        for a in addrs {
            let mut s = String::new();
            push_socket_addr(&mut s, &a);
            assert_eq!(s, a.to_string());
        }
    }

    #[test]
    fn an_empty_summary_is_made_from_the_record() {
        let mut t = spec(0, 1, true);
        assert_eq!(t.summary_text("client", "wan"), "SNAT 0->1");
        t.summary.clear();
        assert_eq!(
            t.summary_text("client", "wan"),
            "SNAT 10.0.0.5:51000 → [2001:db8::1]:443 at client is 203.0.113.7:40123 → \
             [2001:db8::1]:443 at wan; seq +0x1A2B3C4D client→server, +0x0 server→client"
        );
        t.endpoints = None;
        t.seq_offsets = None;
        assert_eq!(t.summary_text("client", "wan"), "SNAT");
        assert_eq!(seq_offset_text(0xFFFF_FFF0), "-0x10");
        assert_eq!(seq_offset_text(0), "+0x0");
    }

    fn spec(a: u16, b: u16, ep: bool) -> TranslationSpec {
        TranslationSpec {
            a,
            b,
            kind: TranslationKind::Snat,
            summary: format!("SNAT {a}->{b}"),
            endpoints: ep.then(|| Endpoints {
                ip_proto: 6,
                a_src: "10.0.0.5:51000".parse().unwrap(),
                a_dst: "[2001:db8::1]:443".parse().unwrap(),
                b_src: "203.0.113.7:40123".parse().unwrap(),
                b_dst: "[2001:db8::1]:443".parse().unwrap(),
            }),
            seq_offsets: ep.then_some(SeqOffsets {
                client_to_server: 0x1A2B_3C4D,
                server_to_client: 0,
            }),
        }
    }

    fn section(specs: &[TranslationSpec], blob: &mut Blob) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(specs.len() as u32).to_le_bytes());
        v.extend_from_slice(&(field::LEN as u32).to_le_bytes());
        for s in specs {
            let r = blob.add(&s.summary);
            write_record(&mut v, s, r);
        }
        v
    }

    #[test]
    fn round_trip_and_range() {
        let mut blob = Blob::default();
        let specs = [
            spec(0, 1, true),
            spec(0, 1, false),
            spec(1, 2, true),
            spec(1, 3, false),
        ];
        let v = section(&specs, &mut blob);
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "TRANSLATIONS section",
        };
        let t = check(sec, 4, &blob.text).unwrap();
        assert_eq!(range(&t, 0, 1), 0..2);
        assert_eq!(range(&t, 1, 2), 2..3);
        assert_eq!(range(&t, 1, 3), 3..4);
        assert_eq!(range(&t, 0, 2), 2..2);
        assert_eq!(range(&t, 2, 3), 4..4);
        for (i, s) in specs.iter().enumerate() {
            let r = Translation::new(t.record(i), &blob.text);
            assert_eq!((r.a(), r.b(), r.kind()), (s.a, s.b, s.kind));
            assert_eq!(r.summary(), s.summary);
            assert_eq!(r.endpoints(), s.endpoints);
            assert_eq!(r.seq_offsets(), s.seq_offsets);
        }
        let r = Translation::new(t.record(0), &blob.text);
        assert!(r.endpoints().unwrap().a_src.is_ipv4());
        assert!(r.endpoints().unwrap().a_dst.is_ipv6());
        for b in 0..=255u8 {
            assert_eq!(TranslationKind::from_u8(b).to_u8(), b);
            assert!(!TranslationKind::from_u8(b).name().is_empty());
        }
        assert_eq!(TranslationKind::from_u8(0), TranslationKind::Other(0));
    }

    #[test]
    fn rules() {
        for (specs, word) in [
            (vec![spec(1, 1, false)], "needs a < b"),
            (vec![spec(0, 4, false)], "needs a < b < 4"),
            (vec![spec(1, 2, false), spec(0, 1, false)], "out of order"),
        ] {
            let mut blob = Blob::default();
            let v = section(&specs, &mut blob);
            let e = check(
                Sec {
                    bytes: &v,
                    base: 0,
                    what: "TRANSLATIONS section",
                },
                4,
                &blob.text,
            )
            .unwrap_err();
            assert!(e.to_string().contains(word), "{e}");
        }
        let mut blob = Blob::default();
        let v = section(&[spec(0, 1, false)], &mut blob);
        let e = check(
            Sec {
                bytes: &v,
                base: 0,
                what: "TRANSLATIONS section",
            },
            4,
            "",
        )
        .unwrap_err();
        assert!(e.to_string().contains("translation 0 summary"), "{e}");
    }
}
