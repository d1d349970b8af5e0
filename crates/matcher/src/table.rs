//! Stage 1 — extract: read one capture point and keep, per frame, the few
//! fields matching needs ([`Rec`], 22 bytes, and the time stamp in about
//! 4: [`Times`]), grouped by connection; the index's checks wait in a
//! temporary file ([`Checks`]).
//!
//! Frames are numbered as Wireshark numbers them: `recs[f - 1]` is frame
//! `f`, including frames without IP (their `conn` is [`NO_CONN`]).  The
//! index's per-frame checks are computed in the same pass, so the capture
//! is read exactly once.

use crate::payload;
mod checks;
mod rows;
mod times;
use capture::keys::{flag, tcp};
use capture::{FlowKey, PacketKey};
pub use checks::Checks;
pub use rows::{FrameRow, TableBuilder};
use rustc_hash::FxHashMap;
use std::path::Path;
pub use times::{Times, WholeBlocks};

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
///
/// 22 bytes: aligned to 2 bytes, not 4 (x86 and ARMv8 load the unaligned
/// words at no extra cost), and the payload length in 16 bits — the whole
/// length is [`PointTable::len`], which looks the few longer ones (super
/// packets of TSO or GRO, jumbograms) up aside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, packed(2))]
pub struct Rec {
    pub seq: u32,
    pub ack: u32,
    pub tsval: u32,
    pub digest: u32,
    /// L4 payload length, [`LONG_LEN`] for that or more
    /// ([`PointTable::len`] has it whole).
    pub len16: u16,
    pub ip_id: u16,
    pub tcp_flags: u8,
    pub bits: u8,
}

// The time stamp is kept apart (PointTable::ts): it moves into the index
// builder as it is.  The connection is kept apart too (only grouping and
// the few message starts need it by frame).
const _: () = assert!(std::mem::size_of::<Rec>() == 22);

/// [`Rec::len16`] of a payload this long or longer.
pub const LONG_LEN: u16 = u16::MAX;

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
    /// It carries a payload (of [`PointTable::len`] bytes).
    pub fn has_payload(&self) -> bool {
        self.len16 > 0
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
    pub ts: Times,
    pub conns: Vec<Conn>,
    /// (record, payload length) of the records whose length is
    /// [`LONG_LEN`] or more, by record.
    pub long_lens: Vec<(u32, u32)>,
    /// Packets of each connection in frame order: `by_conn[conn_start[c] ..
    /// conn_start[c + 1]]` are indexes into `recs`.
    pub by_conn: Vec<u32>,
    pub conn_start: Vec<u32>,
    pub msgs: Vec<Msg>,
    pub first_ts: i64,
    pub last_ts: i64,
    /// The capture ended in damaged data: what and where.
    pub truncated: Option<String>,
    /// Per frame the index's check value, for the index builder (in a
    /// temporary file while the point is matched).
    pub checks: Checks,
    /// A mirror (span) port doubled this capture: a third or more of a
    /// sample of its packets, and at least three, repeat an earlier one of
    /// their connection and direction field for field within
    /// [`SPAN_DUPLICATE_NS`].
    pub mirrored: bool,
    /// The tunnels its packets arrived in ([`capture::keys::encap`] bits).
    pub encap: u8,
}

/// A point table's size and time span ([`PointTable::fingerprint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub frames: u32,
    pub conns: u32,
    pub first_ts: i64,
    pub last_ts: i64,
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
        self.ts.get(i)
    }

    /// L4 payload length of record `i`.
    #[inline]
    pub fn len(&self, i: u32) -> u32 {
        match self.recs[i as usize].len16 {
            LONG_LEN => self.long_len(i),
            n => u32::from(n),
        }
    }

    #[cold]
    fn long_len(&self, i: u32) -> u32 {
        match self.long_lens.binary_search_by_key(&i, |&(r, _)| r) {
            Ok(k) => self.long_lens[k].1,
            // A record made elsewhere (from_parts) at the mark itself.
            Err(_) => u32::from(LONG_LEN),
        }
    }

    /// Records `x` and `y` are equal field for field, the whole payload
    /// length included.
    pub fn same_rec(&self, x: u32, y: u32) -> bool {
        self.recs[x as usize] == self.recs[y as usize]
            && (self.recs[x as usize].len16 != LONG_LEN || self.len(x) == self.len(y))
    }

    /// Packets (rec indexes) of connection `c`, in frame order.
    pub fn packets(&self, c: u32) -> &[u32] {
        let c = c as usize;
        &self.by_conn[self.conn_start[c] as usize..self.conn_start[c + 1] as usize]
    }

    /// What another process reading the same point again must find
    /// (`pktmatch worker`): a capture that grew or was replaced, or another
    /// copy at the same path, almost surely differs in one of them.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            frames: self.recs.len() as u32,
            conns: self.conns.len() as u32,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
        }
    }

    /// Gives back what only ordering and the matching stage read (the
    /// message starts), once the pairs are matched.
    pub fn matched(&mut self) {
        self.msgs = Vec::new();
    }

    /// Bytes the table holds on the heap (its vectors' capacities): what a
    /// memory budget (`pktmatch index --memory-limit`) charges for it.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let words = self.by_conn.capacity() + self.conn_start.capacity();
        self.recs.capacity() * size_of::<Rec>()
            + self.ts.heap_bytes()
            + self.checks.heap_bytes()
            + self.conns.capacity() * size_of::<Conn>()
            + words * size_of::<u32>()
            + self.msgs.capacity() * size_of::<Msg>()
            + self.long_lens.capacity() * size_of::<(u32, u32)>()
    }
}

/// Reads the capture at `path`: every frame's record, its index check
/// ([`index::frame_check`]) and the connections.  `progress` gets the bytes
/// read so far now and then.  An uncompressed classic pcap, pcapng or raw
/// CTRACE file is read in pieces on all cores ([`read_pieces`]); other
/// files, or one whose pieces do not join up, in one go.
pub fn read_point(path: &Path, progress: impl FnMut(u64)) -> Result<PointTable, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    read_point_on(path, threads, progress)
}

/// [`read_point`] on up to `threads` threads (1: in one go, on this one).
pub fn read_point_on(
    path: &Path,
    threads: usize,
    progress: impl FnMut(u64),
) -> Result<PointTable, String> {
    read_point_within(path, threads, progress, |_: &Held| Ok(()))
}

/// Frames between two calls of [`read_point_within`]'s `held`: about 1.2
/// MB of a table of small frames, more with a connection a frame (a scan).
pub const HELD_EVERY: u32 = 8192;

/// What the table of a point being read holds ([`read_point_within`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Held {
    /// Bytes on the heap ([`TableBuilder::held_bytes`]), with a growth
    /// about to be made.
    pub bytes: usize,
    /// Of those, the per-frame vectors' room not yet filled (grown ahead
    /// to the file's prediction).
    pub unused: usize,
    /// Frames so far.
    pub frames: usize,
    /// Connections so far.
    pub conns: usize,
    /// The capture's offset reached (of the decompressed stream, for a
    /// compressed file).
    pub read: u64,
    /// The table is finished: `bytes` is its [`PointTable::heap_bytes`].
    pub done: bool,
    /// Bytes the reading holds beside the table until it ends: frames
    /// extracted ahead of the table and the capture's own buffers
    /// ([`capture::Capture::held_bytes`]: a compressed file's read-ahead).
    /// 0 once done.
    pub aside: usize,
}

/// [`read_point_on`], telling `held` what the table being built holds on
/// the heap ([`Held`]) every [`HELD_EVERY`] frames, before any growth of
/// its per-frame vectors or of its connections' lookup and list, and once
/// finished.  An error `held` returns ends the reading, and is returned as
/// it is: a memory budget (`pktmatch index --memory-limit`) the table has
/// passed.
pub fn read_point_within(
    path: &Path,
    threads: usize,
    mut progress: impl FnMut(u64),
    mut held: impl FnMut(&Held) -> Result<(), String>,
) -> Result<PointTable, String> {
    let t = read_reporting(path, threads, &mut Report::quiet(&mut progress, &mut held))?;
    held(&Held {
        bytes: t.heap_bytes(),
        unused: 0,
        frames: t.recs.len(),
        conns: t.conns.len(),
        read: 0,
        done: true,
        aside: 0,
    })?;
    Ok(t)
}

/// [`read_point_within`] but the last report.
fn read_reporting(
    path: &Path,
    threads: usize,
    report: &mut Report<'_>,
) -> Result<PointTable, String> {
    let cap = capture::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // The file's size tells roughly how many frames are to come (not for a
    // compressed file: its offsets count decompressed bytes).
    let size = match cap.is_compressed() {
        false => std::fs::metadata(path).map(|m| m.len()).ok(),
        true => None,
    };
    if threads > 1 {
        let n = size.map_or(1, |s| (s / PIECE_BYTES) as usize);
        let pieces = cap.pieces(n);
        if pieces.len() > 1 {
            if let Some(t) = read_pieces(path, &pieces, size, threads, report)? {
                return Ok(t);
            }
        }
    }
    read_whole(cap, path, size, report)
}

/// What the reading of a point tells its caller as it goes.
struct Report<'a> {
    /// The file offset reached, now and then.
    progress: &'a mut dyn FnMut(u64),
    /// The table's heap ([`read_point_within`]).
    held: &'a mut dyn FnMut(&Held) -> Result<(), String>,
    /// What `held` said when it refused: the reading stops.
    refused: Option<String>,
    /// The offset of the last frame added.
    read: u64,
    /// What the reading holds beside the table ([`Held::aside`]) but the
    /// frames extracted ahead: the capture's buffers, a batch.
    aside: usize,
    /// The frames the piece buffers have room for ([`read_pieces`]),
    /// counted as they are made, on whichever thread makes them.
    extracted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The room the piece buffers will take, told before they are made
    /// ([`read_pieces`]): the aside is at least this until they are given
    /// back.
    extracted_floor: usize,
}

impl<'a> Report<'a> {
    /// A report that nothing has refused yet.
    fn quiet(
        progress: &'a mut dyn FnMut(u64),
        held: &'a mut dyn FnMut(&Held) -> Result<(), String>,
    ) -> Report<'a> {
        Report {
            progress,
            held,
            refused: None,
            read: 0,
            aside: 0,
            extracted: Default::default(),
            extracted_floor: 0,
        }
    }

    /// `held` told the table's bytes; Err once it has refused them.
    fn check(&mut self, b: &TableBuilder) -> Result<(), String> {
        self.check_with(b, 0)
    }

    /// [`Self::check`] with `more` bytes the table is about to take.
    fn check_with(&mut self, b: &TableBuilder, more: usize) -> Result<(), String> {
        if self.refused.is_none() {
            let held = Held {
                bytes: b.held_bytes().saturating_add(more),
                // A growth about to be made is room, not filled.
                unused: b.unused_bytes().saturating_add(more),
                frames: b.frames() as usize,
                conns: b.conns(),
                read: self.read,
                done: false,
                aside: self.aside_bytes(),
            };
            if let Err(e) = (self.held)(&held) {
                self.refused = Some(e);
            }
        }
        self.go_on()
    }

    /// [`Held::aside`]: the capture's buffers and the frames extracted
    /// ahead.
    fn aside_bytes(&self) -> usize {
        let frames = self.extracted.load(std::sync::atomic::Ordering::Relaxed);
        let extracted = frames.saturating_mul(std::mem::size_of::<Extracted>());
        self.aside
            .saturating_add(extracted.max(self.extracted_floor))
    }

    /// Err once `held` has refused.
    fn go_on(&self) -> Result<(), String> {
        match &self.refused {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// [`read_point`] on one thread: the frames extracted [`BATCH`] at a time
/// ([`extract_batch`]), then added to the table.
fn read_whole(
    mut cap: capture::Capture<'_>,
    path: &Path,
    size: Option<u64>,
    report: &mut Report<'_>,
) -> Result<PointTable, String> {
    let mut b = TableBuilder::for_capture(size);
    let mut batch = Vec::with_capacity(BATCH);
    let truncated = loop {
        // The capture's buffers grow as it is read (a stream's).
        report.aside = cap
            .held_bytes()
            .saturating_add(batch.capacity() * std::mem::size_of::<Extracted>());
        batch.clear();
        let more = extract_batch(&mut cap, &mut batch, BATCH);
        for f in &batch {
            add(&mut b, f, f.frame, report);
        }
        report.go_on()?;
        match more {
            Ok(true) => {}
            Ok(false) => break None,
            // Keep what was read: a capture cut short (tcpdump killed) is
            // the normal case, and its frames are still matchable.
            Err(e) => break Some(format!("{}: {e}", path.display())),
        }
    };
    report.check(&b)?;
    Ok(b.finish(truncated))
}

/// Frames [`read_whole`] extracts before it adds them to the table: few
/// enough that they stay in the processor's first-level cache.
const BATCH: usize = 64;

/// Adds an extracted frame to the table as frame `frame` (after
/// placeholders for the frames before it that hold no packet).  Tells
/// `report` the offset every 65,536 frames and the table's heap every
/// [`HELD_EVERY`] (its refusal is kept there: the caller stops at the end
/// of its batch or piece).
fn add(b: &mut TableBuilder, f: &Extracted, frame: u32, report: &mut Report<'_>) {
    if report.refused.is_some() {
        return;
    }
    // The tables' growth (the per-frame vectors up to the whole file's
    // prediction at once, the connections' lookup and list, the message
    // starts and long lengths by doubling) is told before it is made.
    report.read = f.offset;
    let msg = f.keyed && tcp_payload(&f.key) && f.msg.is_some();
    let long = f.keyed && f.key.l4_len >= u32::from(LONG_LEN);
    let growth = b.growth(f.offset, msg, long);
    if growth > 0 {
        if report.check_with(b, growth).is_err() {
            return;
        }
        b.grow_ahead();
    }
    b.fill_to(frame, Some(f.offset));
    let keys = f.keyed.then_some((&f.flow, &f.key));
    let idx = b.add(f.ts_ns, f.check, keys, || f.msg, Some(f.offset));
    if idx % HELD_EVERY == 0 {
        if idx % 65536 == 0 {
            (report.progress)(f.offset);
        }
        let _ = report.check(b);
    }
}

/// About how many bytes of a capture one piece holds in [`read_pieces`]:
/// enough for the threads to rarely wait for each other, small enough that
/// the pieces' keys in flight (about 130 bytes a frame, a few pieces per
/// thread) stay far below the tables' size.
const PIECE_BYTES: u64 = 1 << 20;

/// Pieces a thread may extract ahead of the one being added to the table.
const AHEAD_PER_THREAD: usize = 2;

/// One frame's keys as extracted, before they go into the table.
struct Extracted {
    /// Its frame number in what was read (the file, or the piece).
    frame: u32,
    ts_ns: i64,
    offset: u64,
    check: u32,
    /// `flow` and `key` hold the frame's keys (else anything).
    keyed: bool,
    flow: FlowKey,
    key: PacketKey,
    /// What the start of its payload says, where the table keeps it.
    msg: Option<(MsgKind, u64)>,
}

/// What reading one piece gave.
struct PieceKeys {
    /// Its packets' keys.
    frames: Vec<Extracted>,
    /// The frames it numbered (pcapng: with those that hold no packet).
    numbered: u32,
    /// The error that ended it early, if any.
    error: Option<String>,
    /// The piece cannot be read on its own: read the file whole.
    whole: bool,
}

/// A frame's time stamp, captured length and first bytes, kept until
/// [`index::frame_checks4`] makes the checks of four frames at once.
#[derive(Clone, Copy, Default)]
struct CheckInput {
    ts_ns: i64,
    caplen: u32,
    prefix: [u8; index::CHECK_PREFIX_LEN],
    len: usize,
}

impl CheckInput {
    /// Takes `p`'s, in place: the prefix copied as one array when the
    /// frame has that many bytes (a copy of a variable length went
    /// through `memcpy`, and its narrow stores stalled the wide loads
    /// reading the prefix back).
    fn set(&mut self, p: &capture::Packet<'_>) {
        self.ts_ns = p.wire_ts_ns;
        self.caplen = p.wire.len() as u32;
        match p.wire.first_chunk() {
            Some(prefix) => {
                self.prefix = *prefix;
                self.len = index::CHECK_PREFIX_LEN;
            }
            None => {
                self.len = p.wire.len();
                self.prefix[..self.len].copy_from_slice(p.wire);
            }
        }
    }

    fn args(&self) -> (i64, u32, &[u8]) {
        (self.ts_ns, self.caplen, &self.prefix[..self.len])
    }
}

/// Reads up to `max` more frames of `cap` into `out`: their keys, index
/// checks and message starts, in one pass over each frame (the TCP
/// payload's start is where key extraction found it).  Ok(true): there
/// may be more; Ok(false): the capture ended; an error ends it too, the
/// frames before it in `out`.
fn extract_batch(
    cap: &mut capture::Capture<'_>,
    out: &mut Vec<Extracted>,
    max: usize,
) -> Result<bool, capture::Error> {
    let mut pending = [CheckInput::default(); 4];
    let mut n = 0;
    let mut result = Ok(true);
    for _ in 0..max {
        let p = match cap.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => {
                result = Ok(false);
                break;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        pending[n].set(&p);
        n += 1;
        // The keys are written where they stay until added to the table.
        out.push(Extracted {
            frame: p.frame,
            ts_ns: p.ts_ns,
            offset: p.offset,
            check: 0,
            keyed: false,
            flow: FlowKey::default(),
            key: PacketKey::default(),
            msg: None,
        });
        let f = out.last_mut().expect("just pushed");
        if let Some(tcp) =
            capture::keys::extract_frame_into(p.link, p.data, &mut f.flow, &mut f.key)
        {
            f.keyed = true;
            if tcp_payload(&f.key) {
                f.msg = tcp.and_then(payload::classify);
            }
        }
        if n == 4 {
            let checks = index::frame_checks4(pending.each_ref().map(CheckInput::args));
            let at = out.len() - 4;
            for (f, c) in out[at..].iter_mut().zip(checks) {
                f.check = c;
            }
            n = 0;
        }
    }
    let at = out.len() - n;
    for (f, c) in out[at..].iter_mut().zip(&pending[..n]) {
        let (ts, caplen, prefix) = c.args();
        f.check = index::frame_check(ts, caplen, prefix);
    }
    result
}

/// Frames a piece's extraction takes between two looks at its buffer's
/// room (a multiple of four: the checks are made four at a time).
const COUNT_EVERY: usize = 1024;

/// The keys of one piece's frames (numbered from 1 at the piece's
/// start), in `out` (empty; its room is reused, its growth added to
/// `room`, in frames, as it is made).
fn extract_piece(
    path: &Path,
    piece: &capture::Piece<'_>,
    mut out: Vec<Extracted>,
    room: &std::sync::atomic::AtomicUsize,
) -> PieceKeys {
    let fail = |frames, numbered, e: capture::Error| PieceKeys {
        frames,
        numbered,
        whole: e.needs_whole_file(),
        error: Some(format!("{}: {e}", path.display())),
    };
    let mut cap = match piece.open() {
        Ok(c) => c,
        Err(e) => return fail(out, 0, e),
    };
    // The buffer grows in steps counted in `room` as they are made (by
    // doubling: room for the next `COUNT_EVERY` frames at least).  The
    // capture's own buffers (a CTRACE reader's) too, in frames' room, as
    // they grow, and given back when the piece is read.
    use std::sync::atomic::Ordering::Relaxed;
    let mut reader_room = 0;
    let result = loop {
        if out.capacity() - out.len() < COUNT_EVERY {
            let had = out.capacity();
            out.reserve(COUNT_EVERY);
            room.fetch_add(out.capacity() - had, Relaxed);
        }
        let r = cap.held_bytes().div_ceil(std::mem::size_of::<Extracted>());
        if r > reader_room {
            room.fetch_add(r - reader_room, Relaxed);
            reader_room = r;
        }
        match extract_batch(&mut cap, &mut out, COUNT_EVERY) {
            Ok(true) => {}
            done => break done,
        }
    };
    room.fetch_sub(reader_room, Relaxed);
    let numbered = cap.frames();
    match result {
        Ok(_) => PieceKeys {
            frames: out,
            numbered,
            error: None,
            whole: false,
        },
        Err(e) => fail(out, numbered, e),
    }
}

/// [`read_point`] on `threads` threads: they extract the keys of the
/// pieces (a few ahead of the table), this one adds them to the table in
/// file order (and extracts too while it waits), so the connections,
/// frame numbers and everything else are those of reading the file whole.
/// None when a piece other than the last ends in an error: it did not end
/// where the next begins (a wrong guess of a record boundary, or damage
/// there), and the file is to be read whole; also when a piece cannot be
/// read on its own (a pcapng interface block after the first frame).  Any
/// other error in the last piece ends the capture, as in [`read_whole`].
/// Err: `report`'s `held` refused the table (no more pieces are taken).
fn read_pieces(
    path: &Path,
    pieces: &[capture::Piece<'_>],
    size: Option<u64>,
    threads: usize,
    report: &mut Report<'_>,
) -> Result<Option<PointTable>, String> {
    use std::ops::ControlFlow::{Break, Continue};
    use std::sync::Mutex;
    // Emptied piece buffers, to be filled again (fresh ones would cost a
    // page fault every few frames).
    let free: Mutex<Vec<Vec<Extracted>>> = Mutex::new(Vec::new());
    let buffer = || free.lock().unwrap_or_else(|e| e.into_inner()).pop();
    // The room of the piece buffers made so far (none is freed before the
    // end): the frames extracted ahead of the table ([`Held::aside`]),
    // counted as each buffer grows, on the thread that grows it.
    let room = std::sync::Arc::clone(&report.extracted);
    let extract = |k: usize| extract_piece(path, &pieces[k], buffer().unwrap_or_default(), &room);
    let window = crate::in_order::Window {
        threads: threads.saturating_sub(1),
        ahead: threads * AHEAD_PER_THREAD,
        // Not there yet: this thread extracts a piece rather than wait.
        help: true,
    };
    let mut b = TableBuilder::for_capture(size);
    // The first piece alone, before any other is made: its buffer's room
    // times the pieces in flight (those done and being done, and the one
    // being taken; no more than the file has) is told before the others
    // are made, and held as the least of the aside until the buffers are
    // given back.  A panic there (a bug), or a first piece that says to
    // read the file whole, and the file is read whole, as below.
    let given_back = |report: &mut Report<'_>| {
        room.store(0, std::sync::atomic::Ordering::Relaxed);
        report.extracted_floor = 0;
    };
    let r0 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extract(0)));
    let r0 = match r0 {
        Ok(r) if !r.whole && r.error.is_none() => r,
        _ => {
            given_back(report);
            return Ok(None);
        }
    };
    let in_flight = 1 + window.ahead.min(pieces.len() - 1);
    let piece_bytes = r0.frames.capacity() * std::mem::size_of::<Extracted>();
    report.extracted_floor = piece_bytes.saturating_mul(in_flight);
    if let Err(e) = report.check(&b) {
        given_back(report);
        return Err(e);
    }
    let first = Mutex::new(Some(r0));
    let mut truncated = None;
    // Frames the pieces before numbered (the next piece's count from 1).
    let mut before = 0u32;
    let stopped = crate::in_order::run(
        pieces.len(),
        window,
        || (),
        |_, k| match k {
            0 => first
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| extract(0)),
            _ => extract(k),
        },
        // A panic (a bug) in a piece: the file is read whole, where it shows.
        |k, r| {
            let Some(mut r) = r else {
                return Break(());
            };
            if r.whole || r.error.is_some() && k + 1 < pieces.len() {
                return Break(());
            }
            for f in &r.frames {
                // Frames without a packet (pcapng) are filled in, as whole.
                add(&mut b, f, before.wrapping_add(f.frame), report);
            }
            // Refused: no more pieces (the stop below tells it apart).
            if report.go_on().is_err() {
                return Break(());
            }
            before = before.wrapping_add(r.numbered);
            truncated = r.error;
            r.frames.clear();
            free.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r.frames);
            Continue(())
        },
    );
    // The piece buffers are given back before the table is finished (or
    // the file read whole).
    drop(first);
    drop(free);
    given_back(report);
    report.go_on()?;
    match stopped {
        Some(()) => Ok(None),
        None => {
            report.check(&b)?;
            Ok(Some(b.finish(truncated)))
        }
    }
}

/// A TCP packet with a payload: what [`keyed`] records as one
/// ([`Rec::is_tcp`], [`Rec::len`] above 0), whose payload's start the
/// table keeps when it starts a message.
fn tcp_payload(key: &PacketKey) -> bool {
    key_is_tcp(key) && key.l4_len > 0
}

/// What [`keyed`] records as TCP: a TCP header was read.
fn key_is_tcp(key: &PacketKey) -> bool {
    key.proto == 6 && !key.is_later_fragment() && !key.has(flag::NO_PORTS)
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
            .take_while(|&x| close_in_time(self.time(x as u32), self.time(y as u32)))
            .any(|x| self.same_rec(x as u32, y as u32))
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
pub fn clock_resolution(ts: &Times) -> u32 {
    if ts.is_empty() {
        return 0;
    }
    let step = (ts.len() / 10_000).max(1);
    let sample: Vec<i64> = (0..ts.len())
        .step_by(step)
        .map(|i| ts.get(i as u32))
        .collect();
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

/// Frames read before [`make_room`] trusts the prediction beyond doubling.
const PREDICT_AFTER: usize = 1 << 16;

/// Makes room for one more frame in the per-frame vectors.  When they are
/// full, they grow to the frame count the bytes read so far predict for
/// the whole file (+2 %): a doubling vector alone would leave up to half
/// of the largest tables unused, and the memory bar counts them.  Below
/// [`PREDICT_AFTER`] frames they at most double (the first frames may be
/// unlike the rest: a capture that starts with small packets); from there
/// on they grow to the prediction at once (at most 16-fold), so the
/// vectors move once more instead of a dozen times (each move a copy of
/// everything so far, into memory touched for the first time).  `read`:
/// offset of the frame in the file.
fn make_room(t: &mut PointTable, conn_of: &mut Vec<u32>, read: u64, size: Option<u64>) {
    let more = more_room(t, conn_of.capacity(), read, size);
    if more > 0 {
        t.recs.reserve_exact(more);
        t.ts.reserve_exact(more);
        conn_of.reserve_exact(more);
    }
}

/// The frames [`make_room`] adds room for before the next frame (0: there
/// is room); `conn_of`: the capacity of the frames' connections.
pub(crate) fn more_room(t: &PointTable, conn_of: usize, read: u64, size: Option<u64>) -> usize {
    let n = t.recs.len();
    if n < t.recs.capacity() && n < t.ts.capacity() && n < conn_of {
        return 0;
    }
    match size {
        // Only a file whose size is ahead of the reading predicts the rest
        // (not a pipe, nor a file still growing); otherwise double.
        Some(size) if n >= 1024 && read > 0 && size > read => {
            let expected = (n as u128 * u128::from(size) / u128::from(read)) as usize;
            let most = if n >= PREDICT_AFTER { 16 * n } else { n };
            (expected + expected / 50 + 1024)
                .saturating_sub(n)
                .clamp(n / 16, most)
        }
        _ => n.max(1024),
    }
}

/// A connection's canonical 5-tuple as [`keyed`] looks it up: with its
/// hash, [`PacketKey::conn_hash`], which key extraction computed already
/// (the map would otherwise hash the 38-byte tuple again for every frame).
/// Equal tuples have equal hashes; unequal ones rarely do, and then the
/// map tells them apart by the tuple.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuple {
    hash: u64,
    key: FlowKey,
}

impl std::hash::Hash for Tuple {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The connections by tuple; each tuple's latest (a reused port starts
/// another).
pub(crate) type Current = FxHashMap<Tuple, u32>;

/// The last keyed frame's tuple and connection: what [`Current`] holds
/// for that tuple (only a new connection changes it, and sets this too).
/// A frame of the same connection as the one before it (a burst) skips
/// the lookup.
pub(crate) type Last = Option<(Tuple, u32)>;

/// Bytes `c` holds on the heap: hashbrown keeps its capacity at 7/8 of
/// its buckets (from 8 buckets up), each an entry and a control byte.
pub(crate) fn lookup_bytes(c: &Current) -> usize {
    let buckets = c.capacity().saturating_mul(8) / 7;
    buckets.saturating_mul(std::mem::size_of::<(Tuple, u32)>() + 1)
}

/// The connection of a keyed packet, whose record it adds to `t.recs`;
/// finds or opens the connection.  `key.conn_hash` must be `flow`'s
/// ([`FlowKey::conn_hash`]), as [`capture::extract`] makes it.  The record
/// goes straight into the table: returned, it was read back whole right
/// after its fields were written one by one, and the processor stalled.
fn keyed(
    t: &mut PointTable,
    current: &mut Current,
    last: &mut Last,
    ts: i64,
    flow: &FlowKey,
    key: &PacketKey,
) -> u32 {
    let (canon, reverse) = flow.canonical();
    let canon = Tuple {
        hash: key.conn_hash,
        key: canon,
    };
    let is_tcp = key_is_tcp(key);
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
    let known = match *last {
        Some((tuple, c)) if tuple == canon => Some(c),
        _ => current.get(&canon).copied(),
    };
    let conn = match known {
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
    *last = Some((canon, conn));
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
    t.recs.push(Rec {
        seq,
        ack,
        tsval: key.tsval,
        digest: key.digest,
        len16: key.l4_len.min(u32::from(LONG_LEN)) as u16,
        ip_id: key.ip_id as u16,
        tcp_flags: if is_tcp { key.tcp_flags } else { 0 },
        bits: b,
    });
    conn
}

fn new_conn(t: &mut PointTable, current: &mut Current, tuple: Tuple, ts: i64) -> u32 {
    let c = t.conns.len() as u32;
    t.conns.push(Conn {
        key: tuple.key,
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
    current.insert(tuple, c);
    c
}

impl PointTable {
    /// A table from frames (time stamp, connection or [`NO_CONN`], record)
    /// and connections made elsewhere (tests, other readers): groups the
    /// records by connection.
    pub fn from_parts(frames: Vec<(i64, u32, Rec)>, conns: Vec<Conn>) -> PointTable {
        let mut ts = Times::new();
        let mut conn_of = Vec::with_capacity(frames.len());
        let mut recs = Vec::with_capacity(frames.len());
        for (t, c, r) in frames {
            ts.push(t);
            conn_of.push(c);
            recs.push(r);
        }
        ts.shrink_to_fit();
        let first_ts = ts.iter().min().unwrap_or(0);
        let last_ts = ts.iter().max().unwrap_or(0);
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

/// [`read_whole`] for tests.
#[cfg(test)]
pub(crate) fn read_whole_for_test(path: &Path) -> PointTable {
    let cap = capture::open(path).unwrap();
    let (mut progress, mut held) = (|_| {}, |_: &Held| Ok(()));
    let mut report = Report::quiet(&mut progress, &mut held);
    read_whole(cap, path, None, &mut report).unwrap()
}

/// [`read_pieces`] in `n` pieces on `threads` threads, for tests.
#[cfg(test)]
pub(crate) fn read_pieces_for_test(path: &Path, n: usize, threads: usize) -> Option<PointTable> {
    let cap = capture::open(path).unwrap();
    let pieces = cap.pieces(n);
    assert_eq!(pieces.len(), n);
    let (mut progress, mut held) = (|_| {}, |_: &Held| Ok(()));
    let mut report = Report::quiet(&mut progress, &mut held);
    read_pieces(path, &pieces, None, threads, &mut report).unwrap()
}
