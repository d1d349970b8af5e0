//! Stage 1 — extract: read one capture point and keep, per frame, the few
//! fields matching needs ([`Rec`], 24 bytes, and the time stamp), grouped
//! by connection.
//!
//! Frames are numbered as Wireshark numbers them: `recs[f - 1]` is frame
//! `f`, including frames without IP (their `conn` is [`NO_CONN`]).  The
//! index's per-frame checks are computed in the same pass, so the capture
//! is read exactly once.

use crate::payload;
mod rows;
use capture::keys::{flag, tcp};
use capture::{FlowKey, PacketKey};
pub use rows::{FrameRow, TableBuilder};
use rustc_hash::FxHashMap;
use std::path::Path;

/// No connection (not IP, or unreadable).
pub const NO_CONN: u32 = u32::MAX;

/// [`Rec::bits`].
pub mod bits {
    /// The packet goes from the connection's higher endpoint to its lower
    /// one (see [`capture::keys::flag::REVERSE`]).
    pub const REVERSE: u8 = 1 << 0;
    pub const HAS_IP_ID: u8 = 1 << 1;
    pub const HAS_TSVAL: u8 = 1 << 2;
    /// The digest covers fewer bytes than the payload's first 64 (short
    /// snap length): not comparable with a full one.
    pub const PARTIAL_DIGEST: u8 = 1 << 3;
    /// A fragment after the first (no L4 header).
    pub const LATER_FRAGMENT: u8 = 1 << 4;
    /// A TCP segment (else `seq`/`ack` hold the application id).
    pub const TCP: u8 = 1 << 5;
}

/// What matching keeps of one frame besides its time stamp and its
/// connection (which [`PointTable::by_conn`] holds the other way round).
/// For non-TCP packets `seq`/`ack` hold the packed application id
/// ([`capture::App::pack`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rec {
    pub seq: u32,
    pub ack: u32,
    pub tsval: u32,
    pub digest: u32,
    /// L4 payload length.
    pub len: u32,
    pub ip_id: u16,
    pub tcp_flags: u8,
    pub bits: u8,
}

// The time stamp is kept apart (PointTable::ts): it moves into the index
// builder as it is.  The connection is kept apart too (only grouping and
// the few message starts need it by frame): the record stays at 24 bytes.
const _: () = assert!(std::mem::size_of::<Rec>() == 24);

impl Rec {
    pub fn has(&self, b: u8) -> bool {
        self.bits & b != 0
    }
    /// 0: lower endpoint → higher, 1: the other way.
    pub fn dir(&self) -> usize {
        usize::from(self.has(bits::REVERSE))
    }
    pub fn is_tcp(&self) -> bool {
        self.has(bits::TCP)
    }
    pub fn app(&self) -> u64 {
        u64::from(self.seq) << 32 | u64::from(self.ack)
    }
}

/// One connection (TCP) or flow (UDP, ICMP…, both directions) at a point.
#[derive(Clone, Debug)]
pub struct Conn {
    /// 5-tuple in canonical order (lower endpoint first); direction 0 goes
    /// from `key.src` to `key.dst`.
    pub key: FlowKey,
    /// The first SYN's sequence number and direction (TCP), to tell a
    /// reused 5-tuple from a retransmitted SYN.
    pub syn: Option<(u32, u8)>,
    /// Some packet of this connection was a FIN or RST.
    pub closed: bool,
    /// Direction of its first packet at this point.
    pub first_dir: u8,
    /// Direction of its first ICMP echo request, if any.
    pub echo_dir: Option<u8>,
    /// TTL (hop limit) of the first packet each way that carries data
    /// (else the first packet; 0: none seen): its steps between two points
    /// order them.  Data, because a middlebox may make the handshake's
    /// packets itself (SYNPROXY's SYN to the server has its own TTL).
    pub ttl: [u8; 2],
    /// Time stamp of that packet each way (i64::MIN: none).
    pub first_ts_dir: [i64; 2],
    /// `ttl` and `first_ts_dir` are a data packet's, each way.
    pub data_seen: [bool; 2],
    pub first_ts: i64,
    pub last_ts: i64,
}

impl Conn {
    pub fn is_tcp(&self) -> bool {
        self.key.proto == 6
    }
    /// Direction of the connection's client: the SYN's sender; for other
    /// flows the echo request's sender, else the endpoint not on a service
    /// port (capture::keys::client_by_ports), else whoever sent first (at
    /// this point); for TCP without a SYN the port roles only.
    pub fn client_dir(&self) -> Option<usize> {
        if let Some((_, d)) = self.syn {
            return Some(usize::from(d));
        }
        if let Some(d) = self.echo_dir {
            return Some(usize::from(d));
        }
        // Direction 0 goes from key.src to key.dst.
        match capture::keys::client_by_ports(self.key.sport, self.key.dport) {
            Some(src_is_client) => Some(usize::from(!src_is_client)),
            None if !self.is_tcp() => Some(usize::from(self.first_dir)),
            None => None,
        }
    }

    /// The 5-tuple with direction `dir`'s sender as the source.
    pub fn key_from(&self, dir: usize) -> FlowKey {
        if dir == 0 {
            self.key
        } else {
            self.key.reversed()
        }
    }
}

/// What the start of a TCP payload says (for the full-proxy stage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgKind {
    /// An HTTP request; the value holds a hash of the request line and
    /// the header block's length ([`crate::payload::MsgValue`]).
    HttpRequest,
    /// An HTTP response; the value holds the status code and the header
    /// block's length.
    HttpResponse,
    /// A TLS record header; the value is the content type.
    Tls,
}

/// A TCP payload that starts an application message: 16 bytes (a lab
/// session has one for every sixth packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg {
    /// Index in [`PointTable::recs`] (frame − 1).
    pub rec: u32,
    /// Its connection.
    pub conn: u32,
    /// The kind in the top 2 bits, the value in the other 62.
    packed: u64,
}

const MSG_VALUE_BITS: u32 = 62;

impl Msg {
    /// `value` keeps its low 62 bits (all that [`crate::payload::classify`]
    /// uses).
    pub fn new(rec: u32, conn: u32, kind: MsgKind, value: u64) -> Msg {
        let k = match kind {
            MsgKind::HttpRequest => 0u64,
            MsgKind::HttpResponse => 1,
            MsgKind::Tls => 2,
        };
        Msg {
            rec,
            conn,
            packed: k << MSG_VALUE_BITS | value & ((1 << MSG_VALUE_BITS) - 1),
        }
    }
    pub fn kind(&self) -> MsgKind {
        match self.packed >> MSG_VALUE_BITS {
            0 => MsgKind::HttpRequest,
            1 => MsgKind::HttpResponse,
            _ => MsgKind::Tls,
        }
    }
    pub fn value(&self) -> u64 {
        self.packed & ((1 << MSG_VALUE_BITS) - 1)
    }
}

const _: () = assert!(std::mem::size_of::<Msg>() == 16);

/// One capture point after extraction.
#[derive(Debug, Default)]
pub struct PointTable {
    pub recs: Vec<Rec>,
    /// Time stamp of each frame (ns since the epoch), as `recs`.
    pub ts: Vec<i64>,
    pub conns: Vec<Conn>,
    /// Packets of each connection in frame order: `by_conn[conn_start[c] ..
    /// conn_start[c + 1]]` are indexes into `recs`.
    pub by_conn: Vec<u32>,
    pub conn_start: Vec<u32>,
    pub msgs: Vec<Msg>,
    pub first_ts: i64,
    pub last_ts: i64,
    /// The capture ended in damaged data: what and where.
    pub truncated: Option<String>,
    /// Per frame the index's check value; handed to the index builder
    /// (and emptied) once the point is read.
    pub checks: Vec<u32>,
    /// A mirror (span) port doubled this capture: a third or more of a
    /// sample of its packets, and at least three, repeat an earlier one of
    /// their connection and direction field for field within
    /// [`SPAN_DUPLICATE_NS`].
    pub mirrored: bool,
    /// The tunnels its packets arrived in ([`capture::keys::encap`] bits).
    pub encap: u8,
}

/// Copies of a frame a span (mirror) port adds closer together than this
/// are duplicates; a retransmission takes at least a round trip and, on
/// most stacks, carries another IP ID or TCP timestamp anyway.
pub const SPAN_DUPLICATE_NS: i64 = 2_000_000;

/// Two time stamps within [`SPAN_DUPLICATE_NS`] of each other (either
/// order: a multi-queue capture may stamp a copy a little earlier; no
/// overflow at the ends of the range).
pub fn close_in_time(x: i64, y: i64) -> bool {
    x.abs_diff(y) <= SPAN_DUPLICATE_NS as u64
}

impl PointTable {
    /// Time stamp of record `i`.
    pub fn time(&self, i: u32) -> i64 {
        self.ts[i as usize]
    }

    /// Packets (rec indexes) of connection `c`, in frame order.
    pub fn packets(&self, c: u32) -> &[u32] {
        let c = c as usize;
        &self.by_conn[self.conn_start[c] as usize..self.conn_start[c + 1] as usize]
    }
}

/// Reads the capture at `path`: every frame's record, its index check
/// ([`index::frame_check`]) and the connections.  `progress` gets the bytes
/// read so far now and then.
pub fn read_point(path: &Path, mut progress: impl FnMut(u64)) -> Result<PointTable, String> {
    let mut cap = capture::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut t = PointTable {
        first_ts: i64::MAX,
        last_ts: i64::MIN,
        ..Default::default()
    };
    let mut current: FxHashMap<FlowKey, u32> = FxHashMap::default();
    // Each frame's connection, until grouping turns it into `by_conn`.
    let mut conn_of: Vec<u32> = Vec::new();
    let mut last_ts = 0i64;
    // The file's size tells roughly how many frames are to come (not for a
    // compressed file: its offsets count decompressed bytes).
    let size = match cap.is_compressed() {
        false => std::fs::metadata(path).map(|m| m.len()).ok(),
        true => None,
    };
    loop {
        let p = match cap.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                // Keep what was read: a capture cut short (tcpdump killed)
                // is the normal case, and its frames are still matchable.
                t.truncated = Some(format!("{}: {e}", path.display()));
                break;
            }
        };
        // Frames Wireshark numbers but that hold no packet (pcapng journal
        // and custom blocks): placeholders keep recs[f - 1] == frame f.
        while (t.recs.len() as u64) + 1 < u64::from(p.frame) {
            make_room(&mut t, &mut conn_of, p.offset, size);
            t.checks.push(0);
            t.ts.push(last_ts);
            t.recs.push(Rec::default());
            conn_of.push(NO_CONN);
        }
        last_ts = p.ts_ns;
        make_room(&mut t, &mut conn_of, p.offset, size);
        t.checks.push(index::frame_check(
            p.wire_ts_ns,
            p.wire.len() as u32,
            p.wire,
        ));
        t.first_ts = t.first_ts.min(p.ts_ns);
        t.last_ts = t.last_ts.max(p.ts_ns);
        let idx = t.recs.len() as u32;
        let (conn, rec) = match capture::extract(p.link, p.data) {
            Some((flow, key)) => {
                t.encap |= key.encap;
                let (conn, rec) = keyed(&mut t, &mut current, p.ts_ns, &flow, &key);
                if rec.is_tcp() && rec.len > 0 {
                    if let Some((kind, value)) = payload::sniff(p.link, p.data) {
                        t.msgs.push(Msg::new(idx, conn, kind, value));
                    }
                }
                (conn, rec)
            }
            None => (NO_CONN, Rec::default()),
        };
        t.recs.push(rec);
        conn_of.push(conn);
        t.ts.push(p.ts_ns);
        if idx % 65536 == 0 {
            progress(p.offset);
        }
    }
    if t.recs.is_empty() {
        t.first_ts = 0;
        t.last_ts = 0;
    }
    // What the estimate left unused goes back before grouping allocates.
    t.recs.shrink_to_fit();
    t.ts.shrink_to_fit();
    t.checks.shrink_to_fit();
    t.msgs.shrink_to_fit();
    t.conns.shrink_to_fit();
    drop(current);
    group(&mut t, conn_of);
    t.mirrored = mirrored_point(&t);
    Ok(t)
}

impl PointTable {
    /// Whether packet `packets[k]` repeats, field for field and within
    /// [`SPAN_DUPLICATE_NS`], one of the few packets before it in
    /// `packets` (one direction of a connection, frame order; a burst
    /// interleaves a mirror's copies: p1 p2 p1' p2').
    pub fn repeats_earlier(&self, packets: &[u32], k: usize) -> bool {
        const LOOK_BACK: usize = 64;
        let y = packets[k] as usize;
        packets[k.saturating_sub(LOOK_BACK)..k]
            .iter()
            .rev()
            .map(|&x| x as usize)
            .take_while(|&x| close_in_time(self.ts[x], self.ts[y]))
            .any(|x| self.recs[x] == self.recs[y])
    }

    /// How many of `packets` (one direction of a connection, frame order)
    /// repeat an earlier one ([`PointTable::repeats_earlier`]).
    pub fn repeats(&self, packets: &[u32]) -> usize {
        (1..packets.len())
            .filter(|&k| self.repeats_earlier(packets, k))
            .count()
    }
}

/// The resolution the time stamps show: the largest power of ten
/// nanoseconds, up to 1 s, that at least 999 in 1000 of a sample of them are
/// multiples of (1 for nanosecond clocks; 1 000 for microsecond pcap; a
/// tool that stamps in milliseconds gives 1 000 000).  0 without frames.
pub fn clock_resolution(ts: &[i64]) -> u32 {
    if ts.is_empty() {
        return 0;
    }
    let step = (ts.len() / 10_000).max(1);
    let sample: Vec<i64> = ts.iter().step_by(step).copied().collect();
    let mut r: u32 = 1_000_000_000;
    while r > 1 {
        let off = sample
            .iter()
            .filter(|&&t| t.rem_euclid(i64::from(r)) != 0)
            .count();
        if off * 1000 <= sample.len() {
            return r;
        }
        r /= 10;
    }
    1
}

/// A mirror (span) port's doubling, not coincidences: at least three of
/// `seen` packets repeat an earlier one, and at least a third.
pub fn doubled(repeats: usize, seen: usize) -> bool {
    repeats >= 3 && repeats * 3 >= seen
}

/// [`PointTable::mirrored`], judged on every packet of a sample of the
/// connections (every k-th, about 65,536 packets in all: whole connections,
/// because a copy is looked for among the packets just before it).
fn mirrored_point(t: &PointTable) -> bool {
    let step = (t.by_conn.len() / 65_536).max(1);
    let (mut seen, mut repeats) = (0usize, 0usize);
    let mut d: Vec<u32> = Vec::new();
    for c in (0..t.conns.len() as u32).step_by(step) {
        let packets = t.packets(c);
        for dir in 0..2 {
            d.clear();
            d.extend(
                packets
                    .iter()
                    .copied()
                    .filter(|&i| t.recs[i as usize].dir() == dir),
            );
            seen += d.len();
            repeats += t.repeats(&d);
        }
    }
    doubled(repeats, seen)
}

/// Makes room for one more frame in the per-frame vectors.  When they are
/// full, they grow to the frame count the bytes read so far predict for
/// the whole file (+2 %), at most doubling: a doubling vector alone
/// would leave up to half of the largest tables unused, and the memory
/// bar counts them.  `read`: offset of the frame in the file.
fn make_room(t: &mut PointTable, conn_of: &mut Vec<u32>, read: u64, size: Option<u64>) {
    let n = t.recs.len();
    if n < t.recs.capacity()
        && n < t.ts.capacity()
        && n < t.checks.capacity()
        && n < conn_of.capacity()
    {
        return;
    }
    let more = match size {
        // Only a file whose size is ahead of the reading predicts the rest
        // (not a pipe, nor a file still growing); otherwise double.
        Some(size) if n >= 1024 && read > 0 && size > read => {
            let expected = (n as u128 * u128::from(size) / u128::from(read)) as usize;
            (expected + expected / 50 + 1024)
                .saturating_sub(n)
                .clamp(n / 16, n)
        }
        _ => n.max(1024),
    };
    t.recs.reserve_exact(more);
    t.ts.reserve_exact(more);
    t.checks.reserve_exact(more);
    conn_of.reserve_exact(more);
}

/// The connection and record of a keyed packet; finds or opens the
/// connection.
fn keyed(
    t: &mut PointTable,
    current: &mut FxHashMap<FlowKey, u32>,
    ts: i64,
    flow: &FlowKey,
    key: &PacketKey,
) -> (u32, Rec) {
    let (canon, reverse) = flow.canonical();
    let is_tcp = key.proto == 6 && !key.is_later_fragment() && !key.has(flag::NO_PORTS);
    let mut b = 0u8;
    if reverse {
        b |= bits::REVERSE;
    }
    if key.has(flag::HAS_IP_ID) {
        b |= bits::HAS_IP_ID;
    }
    if key.has(flag::HAS_TSVAL) {
        b |= bits::HAS_TSVAL;
    }
    if key.has(flag::PARTIAL_DIGEST) {
        b |= bits::PARTIAL_DIGEST;
    }
    if key.is_later_fragment() {
        b |= bits::LATER_FRAGMENT;
    }
    if is_tcp {
        b |= bits::TCP;
    }
    let pure_syn = is_tcp && key.tcp_flags & (tcp::SYN | tcp::ACK) == tcp::SYN;
    let conn = match current.get(&canon).copied() {
        None => {
            let c = new_conn(t, current, canon, ts);
            t.conns[c as usize].first_dir = reverse as u8;
            c
        }
        Some(c) => {
            let cn = &t.conns[c as usize];
            // A new SYN with another ISN on a 5-tuple that already carried
            // a connection: the port was reused, a new connection begins.
            let reused = pure_syn
                && match cn.syn {
                    Some((isn, _)) => isn != key.seq,
                    None => cn.closed,
                };
            if reused {
                let c = new_conn(t, current, canon, ts);
                t.conns[c as usize].first_dir = reverse as u8;
                c
            } else {
                c
            }
        }
    };
    let cn = &mut t.conns[conn as usize];
    cn.last_ts = ts;
    let d = usize::from(reverse);
    let data = !is_tcp || key.l4_len > 0;
    if cn.first_ts_dir[d] == i64::MIN || (data && !cn.data_seen[d]) {
        cn.first_ts_dir[d] = ts;
        cn.ttl[d] = key.ttl;
        cn.data_seen[d] = data;
    }
    if cn.echo_dir.is_none() && matches!(key.app(), capture::App::IcmpEcho { reply: false, .. }) {
        cn.echo_dir = Some(reverse as u8);
    }
    if pure_syn && cn.syn.is_none() {
        cn.syn = Some((key.seq, reverse as u8));
    }
    if is_tcp && key.tcp_flags & (tcp::FIN | tcp::RST) != 0 {
        cn.closed = true;
    }
    let (seq, ack) = if is_tcp {
        (key.seq, key.ack)
    } else {
        ((key.app >> 32) as u32, key.app as u32)
    };
    let rec = Rec {
        seq,
        ack,
        tsval: key.tsval,
        digest: key.digest,
        len: key.l4_len,
        ip_id: key.ip_id as u16,
        tcp_flags: if is_tcp { key.tcp_flags } else { 0 },
        bits: b,
    };
    (conn, rec)
}

fn new_conn(
    t: &mut PointTable,
    current: &mut FxHashMap<FlowKey, u32>,
    key: FlowKey,
    ts: i64,
) -> u32 {
    let c = t.conns.len() as u32;
    t.conns.push(Conn {
        key,
        syn: None,
        closed: false,
        first_dir: 0,
        echo_dir: None,
        ttl: [0; 2],
        first_ts_dir: [i64::MIN; 2],
        data_seen: [false; 2],
        first_ts: ts,
        last_ts: ts,
    });
    current.insert(key, c);
    c
}

impl PointTable {
    /// A table from frames (time stamp, connection or [`NO_CONN`], record)
    /// and connections made elsewhere (tests, other readers): groups the
    /// records by connection.
    pub fn from_parts(frames: Vec<(i64, u32, Rec)>, conns: Vec<Conn>) -> PointTable {
        let mut ts = Vec::with_capacity(frames.len());
        let mut conn_of = Vec::with_capacity(frames.len());
        let mut recs = Vec::with_capacity(frames.len());
        for (t, c, r) in frames {
            ts.push(t);
            conn_of.push(c);
            recs.push(r);
        }
        let first_ts = ts.iter().copied().min().unwrap_or(0);
        let last_ts = ts.iter().copied().max().unwrap_or(0);
        let mut t = PointTable {
            recs,
            ts,
            conns,
            first_ts,
            last_ts,
            ..Default::default()
        };
        group(&mut t, conn_of);
        t.mirrored = mirrored_point(&t);
        t
    }

    /// The connection of record `i` (a search: for tests).
    #[cfg(test)]
    pub fn conn_of(&self, i: u32) -> u32 {
        (0..self.conns.len() as u32)
            .find(|&c| self.packets(c).contains(&i))
            .unwrap_or(NO_CONN)
    }
}

/// Counting sort of the records by connection (`conn_of[i]`: record i's;
/// stable: frame order within each connection).
fn group(t: &mut PointTable, conn_of: Vec<u32>) {
    let n = t.conns.len();
    let mut start = vec![0u32; n + 1];
    for &c in &conn_of {
        if c != NO_CONN {
            start[c as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut by = vec![0u32; start[n] as usize];
    for (i, &c) in conn_of.iter().enumerate() {
        if c != NO_CONN {
            let slot = &mut fill[c as usize];
            by[*slot as usize] = i as u32;
            *slot += 1;
        }
    }
    t.by_conn = by;
    t.conn_start = start;
}
