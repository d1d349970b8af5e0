//! Match methods: the number stored per match in the index and its name
//! (the index's METHODS section, `pktmatch.method` in Wireshark, the CSV's
//! `method` column).

/// Same 5-tuple at both points; flags, seq/ack, length, digest (and IP ID
/// and TSval where they survive) equal.
pub const SAME: u8 = 1;
/// Addresses or ports translated (NAT/PAT); everything else equal.
pub const NAT: u8 = 2;
/// Sequence numbers (and maybe TCP timestamps) shifted by a constant
/// learnt per connection direction (ISN randomisation, SYNPROXY).
pub const SEQ: u8 = 3;
/// TSO/GSO/GRO: one point's segment lies inside the other's bigger one.
pub const TSO: u8 = 4;
/// UDP and others by application id (DNS id + question, DHCP xid, ICMP
/// echo seq, EE TCID + BSN, ESP SPI + seq), length and digest.
pub const APP: u8 = 5;
/// UDP and others without an application id: length, payload digest, IP ID.
pub const DIGEST: u8 = 6;
/// Full proxy, plain HTTP: the same request line on the front and back
/// connections; the message's first packets.
pub const HTTP: u8 = 7;
/// Full proxy, TLS on one side: request/response turns aligned by order,
/// direction and timing.
pub const TURNS: u8 = 8;
/// Not adjacent: composed through the points in between.
pub const VIA: u8 = 9;
/// A span (mirror) port's second copy of a frame, matched to the peer of
/// the first copy.
pub const DUPLICATE: u8 = 10;
/// Full proxy, plain HTTP both sides: a packet of a message's body and the
/// one on the other side carrying its last byte, by offset within the body.
pub const PROXY_BODY: u8 = 11;

/// (id, name) of every method, for the index.
pub const ALL: &[(u8, &str)] = &[
    (SAME, "same-addressing"),
    (NAT, "nat"),
    (SEQ, "seq-translation"),
    (TSO, "tso-containment"),
    (APP, "app-id"),
    (DIGEST, "payload-digest"),
    (HTTP, "proxy-http"),
    (TURNS, "proxy-tls-turns"),
    (VIA, "via"),
    (DUPLICATE, "span-duplicate"),
    (PROXY_BODY, "proxy-body"),
];
