//! One batch of key table rows being built: a column builder per entry of
//! [`crate::schema::COLUMNS`], filled frame by frame.

use crate::schema::{self, col, Ty, COLUMNS};
use arrow_array::builder::{
    ArrayBuilder, StringBuilder, TimestampNanosecondBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use capture::keys::{app_tag, flag};
use capture::{App, Direction, FlowKey, Packet, PacketKey};
use matcher::table::MsgKind;
use std::sync::Arc;

enum Builder {
    U8(UInt8Builder),
    U16(UInt16Builder),
    U32(UInt32Builder),
    U64(UInt64Builder),
    Ts(TimestampNanosecondBuilder),
    Str(StringBuilder),
}

impl Builder {
    fn new(ty: Ty, n: usize) -> Builder {
        match ty {
            Ty::U8 => Builder::U8(UInt8Builder::with_capacity(n)),
            Ty::U16 => Builder::U16(UInt16Builder::with_capacity(n)),
            Ty::U32 => Builder::U32(UInt32Builder::with_capacity(n)),
            Ty::U64 => Builder::U64(UInt64Builder::with_capacity(n)),
            Ty::TimestampNs => {
                Builder::Ts(TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC"))
            }
            Ty::Utf8 => Builder::Str(StringBuilder::with_capacity(n, n * 12)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::U8(b) => Arc::new(b.finish()),
            Builder::U16(b) => Arc::new(b.finish()),
            Builder::U32(b) => Arc::new(b.finish()),
            Builder::U64(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Builder::U8(b) => b.len(),
            Builder::U16(b) => b.len(),
            Builder::U32(b) => b.len(),
            Builder::U64(b) => b.len(),
            Builder::Ts(b) => b.len(),
            Builder::Str(b) => b.len(),
        }
    }

    fn null(&mut self) {
        match self {
            Builder::U8(b) => b.append_null(),
            Builder::U16(b) => b.append_null(),
            Builder::U32(b) => b.append_null(),
            Builder::U64(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
            Builder::Str(b) => b.append_null(),
        }
    }
}

/// A value for one column; its type must be the column's.
enum V<'a> {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Ts(i64),
    Str(&'a str),
}

/// Rows being gathered into a [`RecordBatch`].
pub struct Batch {
    cols: Vec<Builder>,
    capacity: usize,
    /// Reused for address text.
    text: String,
}

/// The `app_kind` column's name of an [`App`] tag (None: no application id).
pub fn app_kind(packed: u64) -> Option<&'static str> {
    Some(match (packed >> 56) as u8 {
        app_tag::DNS => "dns",
        app_tag::ICMP_ECHO => "icmp-echo",
        app_tag::ICMPV6_ECHO => "icmpv6-echo",
        app_tag::DHCP => "dhcp",
        app_tag::DHCPV6 => "dhcpv6",
        app_tag::EE => "ee",
        app_tag::ICMP_ERROR => "icmp-error",
        app_tag::ICMPV6_ERROR => "icmpv6-error",
        app_tag::ESP => "esp",
        _ => return None,
    })
}

/// The `msg_kind` column's value.
pub fn msg_kind_code(k: MsgKind) -> u8 {
    match k {
        MsgKind::HttpRequest => 0,
        MsgKind::HttpResponse => 1,
        MsgKind::Tls => 2,
    }
}

/// Back from the `msg_kind` column's value.
pub fn msg_kind_from(code: u8) -> Option<MsgKind> {
    match code {
        0 => Some(MsgKind::HttpRequest),
        1 => Some(MsgKind::HttpResponse),
        2 => Some(MsgKind::Tls),
        _ => None,
    }
}

fn direction_code(d: Direction) -> u8 {
    match d {
        Direction::Unknown => 0,
        Direction::Inbound => 1,
        Direction::Outbound => 2,
    }
}

impl Batch {
    pub fn with_capacity(n: usize) -> Batch {
        Batch {
            cols: COLUMNS.iter().map(|c| Builder::new(c.ty, n)).collect(),
            capacity: n,
            text: String::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.cols[col::FRAME].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    fn set(&mut self, c: usize, v: Option<V<'_>>) {
        let b = &mut self.cols[c];
        match (b, v) {
            (b, None) => b.null(),
            (Builder::U8(b), Some(V::U8(x))) => b.append_value(x),
            (Builder::U16(b), Some(V::U16(x))) => b.append_value(x),
            (Builder::U32(b), Some(V::U32(x))) => b.append_value(x),
            (Builder::U64(b), Some(V::U64(x))) => b.append_value(x),
            (Builder::Ts(b), Some(V::Ts(x))) => b.append_value(x),
            (Builder::Str(b), Some(V::Str(x))) => b.append_value(x),
            // A programming error caught by the tests: the column stays one
            // row short and RecordBatch::try_new refuses the batch.
            _ => {}
        }
    }

    /// Adds one frame: its packet, its index check, and its keys and
    /// message start when it has them.
    pub fn push(
        &mut self,
        p: &Packet<'_>,
        check: u32,
        keys: Option<(&FlowKey, &PacketKey)>,
        msg: Option<(MsgKind, u64)>,
    ) {
        self.set(col::FRAME, Some(V::U32(p.frame)));
        self.set(col::TS, Some(V::Ts(p.ts_ns)));
        self.set(col::ORIG_LEN, Some(V::U32(p.orig_len)));
        self.set(col::CAP_LEN, Some(V::U32(p.wire.len() as u32)));
        self.set(col::INTERFACE, Some(V::U32(p.interface)));
        self.set(col::DIRECTION, Some(V::U8(direction_code(p.direction))));
        self.set(col::CHECK, Some(V::U32(check)));
        match keys {
            Some((f, k)) => self.push_keys(f, k),
            None => {
                for c in col::CONN_HASH..=col::ENCAP {
                    self.cols[c].null();
                }
            }
        }
        self.set(col::MSG_KIND, msg.map(|m| V::U8(msg_kind_code(m.0))));
        self.set(col::MSG_VALUE, msg.map(|m| V::U64(m.1)));
    }

    fn push_keys(&mut self, f: &FlowKey, k: &PacketKey) {
        self.set(col::CONN_HASH, Some(V::U64(k.conn_hash)));
        self.set(col::NAT_HASH, Some(V::U64(k.nat_hash())));
        self.set(col::IP_VERSION, Some(V::U8(if f.ipv6 { 6 } else { 4 })));
        let mut text = std::mem::take(&mut self.text);
        for (c, a) in [(col::SRC_ADDR, f.src_ip()), (col::DST_ADDR, f.dst_ip())] {
            use std::fmt::Write;
            text.clear();
            let _ = write!(text, "{a}");
            self.set(c, Some(V::Str(&text)));
        }
        self.text = text;
        self.set(col::SRC_PORT, Some(V::U16(f.sport)));
        self.set(col::DST_PORT, Some(V::U16(f.dport)));
        self.set(col::IP_PROTO, Some(V::U8(k.proto)));
        self.set(col::TTL, Some(V::U8(k.ttl)));
        self.set(col::IP_ID, Some(V::U32(k.ip_id)));
        self.set(col::FRAG_OFFSET, Some(V::U16(k.frag_offset)));
        self.set(col::SEQ, Some(V::U32(k.seq)));
        self.set(col::ACK, Some(V::U32(k.ack)));
        self.set(col::TCP_FLAGS, Some(V::U8(k.tcp_flags)));
        self.set(col::TSVAL, Some(V::U32(k.tsval)));
        self.set(col::L4_LEN, Some(V::U32(k.l4_len)));
        self.set(col::DIGEST, Some(V::U32(k.digest)));
        self.set(col::APP, Some(V::U64(k.app)));
        self.set(col::APP_KIND, app_kind(k.app).map(V::Str));
        let dns = match App::unpack(k.app) {
            App::Dns { id, .. } => Some(V::U16(id)),
            _ => None,
        };
        self.set(col::DNS_ID, dns);
        self.set(col::KEY_FLAGS, Some(V::U16(k.flags)));
        self.set(col::ENCAP, Some(V::U8(k.encap)));
        debug_assert!(k.flags & flag::IPV6 == 0 || f.ipv6);
    }

    /// The rows as a record batch; the builders are emptied for the next.
    pub fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let arrays: Vec<ArrayRef> = self.cols.iter_mut().map(|b| b.finish()).collect();
        RecordBatch::try_new(schema::schema(), arrays)
    }
}
