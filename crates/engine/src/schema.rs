//! The key table's columns: the one list the writer, the reader, the
//! documentation (docs/keys.md, checked by a test) and the pyarrow test use.
//!
//! A key table holds one row per frame of one capture, in frame order.  The
//! key columns are [`capture::keys`]'s `FlowKey` and `PacketKey` as
//! [`capture::extract`] takes them (the design and the sources of every
//! field are there), plus what the matcher keeps besides (the index's frame
//! check, the start of an HTTP/TLS message).  They are null on a frame that
//! has no keys (not IP, or a link type not decoded): `conn_hash IS NULL`.

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::sync::Arc;

/// One column.
pub struct Column {
    pub name: &'static str,
    pub ty: Ty,
    /// Null on frames without keys (and where `doc` says so).
    pub nullable: bool,
    /// The Wireshark field with the same value, if there is one.
    pub tshark: &'static str,
    pub doc: &'static str,
}

/// Column types (Arrow and Parquet logical types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    U8,
    U16,
    U32,
    U64,
    /// Parquet TIMESTAMP(NANOS, isAdjustedToUTC): ns since the epoch, UTC.
    TimestampNs,
    Utf8,
}

impl Ty {
    pub fn arrow(self) -> DataType {
        match self {
            Ty::U8 => DataType::UInt8,
            Ty::U16 => DataType::UInt16,
            Ty::U32 => DataType::UInt32,
            Ty::U64 => DataType::UInt64,
            Ty::TimestampNs => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Ty::Utf8 => DataType::Utf8,
        }
    }

    /// The name docs/keys.md gives the type.
    pub fn name(self) -> &'static str {
        match self {
            Ty::U8 => "uint8",
            Ty::U16 => "uint16",
            Ty::U32 => "uint32",
            Ty::U64 => "uint64",
            Ty::TimestampNs => "timestamp[ns, UTC]",
            Ty::Utf8 => "string",
        }
    }
}

/// Column positions in [`COLUMNS`] (the writer fills them in this order).
pub mod col {
    pub const FRAME: usize = 0;
    pub const TS: usize = 1;
    pub const ORIG_LEN: usize = 2;
    pub const CAP_LEN: usize = 3;
    pub const INTERFACE: usize = 4;
    pub const DIRECTION: usize = 5;
    pub const CHECK: usize = 6;
    pub const CONN_HASH: usize = 7;
    pub const NAT_HASH: usize = 8;
    pub const IP_VERSION: usize = 9;
    pub const SRC_ADDR: usize = 10;
    pub const DST_ADDR: usize = 11;
    pub const SRC_PORT: usize = 12;
    pub const DST_PORT: usize = 13;
    pub const IP_PROTO: usize = 14;
    pub const TTL: usize = 15;
    pub const IP_ID: usize = 16;
    pub const FRAG_OFFSET: usize = 17;
    pub const SEQ: usize = 18;
    pub const ACK: usize = 19;
    pub const TCP_FLAGS: usize = 20;
    pub const TSVAL: usize = 21;
    pub const L4_LEN: usize = 22;
    pub const DIGEST: usize = 23;
    pub const APP: usize = 24;
    pub const APP_KIND: usize = 25;
    pub const DNS_ID: usize = 26;
    pub const KEY_FLAGS: usize = 27;
    pub const ENCAP: usize = 28;
    pub const MSG_KIND: usize = 29;
    pub const MSG_VALUE: usize = 30;
    pub const COUNT: usize = 31;
}

const fn c(
    name: &'static str,
    ty: Ty,
    nullable: bool,
    tshark: &'static str,
    doc: &'static str,
) -> Column {
    Column {
        name,
        ty,
        nullable,
        tshark,
        doc,
    }
}

/// Every column, in file order.
pub const COLUMNS: [Column; col::COUNT] = [
    c("frame", Ty::U32, false, "frame.number", "1-based frame number, as Wireshark numbers the frames of the file"),
    c("ts", Ty::TimestampNs, false, "frame.time_epoch", "capture time stamp, ns since 1970-01-01 UTC (CTRACE: the TOD clock less the leap seconds given)"),
    c("orig_len", Ty::U32, false, "frame.len", "length on the wire"),
    c("cap_len", Ty::U32, false, "frame.cap_len", "bytes captured, as Wireshark shows the frame"),
    c("interface", Ty::U32, false, "frame.interface_id", "capture interface (pcapng: interface description block, all sections numbered together)"),
    c("direction", Ty::U8, false, "", "0 unknown, 1 inbound, 2 outbound (pcapng epb_flags, Linux cooked capture, CTRACE)"),
    c("check", Ty::U32, false, "", "the index's check of the frame (time stamp, length, first bytes; docs/index-format.md FRAME_CHECKS)"),
    c("conn_hash", Ty::U64, true, "", "direction-insensitive hash of the 5-tuple: equal for both directions of a connection (the repartitioning key); null: the frame has no keys"),
    c("nat_hash", Ty::U64, true, "", "hash of the fields NAT and PAT leave alone (no addresses, ports, TTL, checksums): equal for the same packet before and after a NAT"),
    c("ip_version", Ty::U8, true, "ip.version", "4 or 6, of the innermost packet"),
    c("src_addr", Ty::Utf8, true, "ip.src / ipv6.src", "source address (of the innermost packet when tunnelled)"),
    c("dst_addr", Ty::Utf8, true, "ip.dst / ipv6.dst", "destination address"),
    c("src_port", Ty::U16, true, "tcp.srcport / udp.srcport", "source port (ICMP echo: the identifier; 0 for protocols without ports)"),
    c("dst_port", Ty::U16, true, "tcp.dstport / udp.dstport", "destination port (ICMP echo: the identifier)"),
    c("ip_proto", Ty::U8, true, "ip.proto / ipv6.nxt", "IP protocol (after IPv6 extension headers)"),
    c("ttl", Ty::U8, true, "ip.ttl / ipv6.hlim", "IPv4 TTL or IPv6 hop limit"),
    c("ip_id", Ty::U32, true, "ip.id", "IPv4 identification or IPv6 fragment identification; 0 when key_flags lacks HAS_IP_ID (bit 1)"),
    c("frag_offset", Ty::U16, true, "ip.frag_offset / 8", "fragment offset in 8-byte units"),
    c("seq", Ty::U32, true, "tcp.seq_raw", "TCP sequence number as on the wire (0 when not TCP)"),
    c("ack", Ty::U32, true, "tcp.ack_raw", "TCP acknowledgement number as on the wire"),
    c("tcp_flags", Ty::U8, true, "tcp.flags & 0xff", "TCP flags byte: CWR ECE URG ACK PSH RST SYN FIN"),
    c("tsval", Ty::U32, true, "tcp.options.timestamp.tsval", "TCP timestamp option TSval; 0 when key_flags lacks HAS_TSVAL (bit 8)"),
    c("l4_len", Ty::U32, true, "tcp.len / udp.length - 8", "L4 payload length from the length fields (TCP payload, UDP length − 8, ICMP body after 8 bytes)"),
    c("digest", Ty::U32, true, "", "32-bit hash of the first min(64, l4_len) payload bytes (0: no payload; see key_flags PARTIAL_DIGEST)"),
    c("app", Ty::U64, true, "", "application id, tagged: tag in the top byte (app_kind), 56-bit value"),
    c("app_kind", Ty::Utf8, true, "", "the tag of app: dns, icmp-echo, icmpv6-echo, dhcp, dhcpv6, ee, icmp-error, icmpv6-error, esp; null for none"),
    c("dns_id", Ty::U16, true, "dns.id", "DNS transaction id (app_kind dns), else null"),
    c("key_flags", Ty::U16, true, "", "bits: 0 IPv6, 1 HAS_IP_ID, 2 DF, 3 MF, 4 FRAGMENT, 5 NO_PORTS, 6 L4_PARTIAL, 7 PARTIAL_DIGEST, 8 HAS_TSVAL, 9 REVERSE, 10 TUNNEL, 11 LEN_FROM_CAPTURE"),
    c("encap", Ty::U8, true, "", "tunnels around the packet: 0 GRE, 1 ERSPAN I/II, 2 ERSPAN III, 3 VXLAN, 4 Geneve, 5 MPLS, 6 IP in IP, 7 GTP-U (bit numbers)"),
    c("msg_kind", Ty::U8, true, "", "a TCP payload that starts a message: 0 HTTP request, 1 HTTP response, 2 TLS record; else null"),
    c("msg_value", Ty::U64, true, "", "with msg_kind: HTTP request line hash and header length, HTTP status and header length, or the TLS content type (the full-proxy stage's keys)"),
];

/// The Arrow schema of a key table.
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
            .collect::<Vec<_>>(),
    ))
}

/// Key-value metadata every key table file carries (Parquet footer).
pub mod meta {
    /// Format version of the key table: "1".
    pub const VERSION: &str = "pktmatch.keys.version";
    /// The capture point's label.
    pub const LABEL: &str = "pktmatch.label";
    /// The capture's absolute path.
    pub const CAPTURE: &str = "pktmatch.capture";
    /// The capture's size in bytes.
    pub const CAPTURE_SIZE: &str = "pktmatch.capture_size";
    /// The point's position among the `pktmatch keys` arguments (from 0).
    pub const GIVEN: &str = "pktmatch.given";
    /// Present when the capture ended in damaged data: what and where.
    pub const TRUNCATED: &str = "pktmatch.truncated";
    /// This file's number among the point's parts (from 0).
    pub const PART: &str = "pktmatch.part";
    /// On the last part only: the point's frames in all its parts (a point
    /// without it was not written to the end).
    pub const FRAMES: &str = "pktmatch.frames";
    /// On the last part only: how many of the point's blocks of 256 frames
    /// span more than 4.29 s, whose time stamps the matcher keeps in 8 bytes
    /// a frame, not 4 (`matcher::table::WholeBlocks`): what sizes its table
    /// for `--memory-limit` before it is read.  Absent (tables written
    /// before it was added): every block is counted so.
    pub const WHOLE_BLOCKS: &str = "pktmatch.ts_whole_blocks";
}

/// The key table format version this crate writes and reads.
pub const VERSION: &str = "1";
