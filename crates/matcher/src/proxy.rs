//! Stage 3b — across a full proxy (load balancer, reverse proxy): the
//! front connection (client ↔ proxy, seen at A) and the back connection
//! (proxy ↔ server, seen at B) are different TCP connections, so no packet
//! is the same.  What is the same is the *transaction*: the request the
//! proxy received is the one it forwarded, the response it got back is the
//! one it returned.  The truth the lab gives (docs/lab.md) and what an
//! analyst wants are the anchors: the packet carrying a request's first
//! byte on each side, and the one carrying the response's first byte.
//!
//! * Plain HTTP on both sides: the request line is forwarded unchanged
//!   (headers are not: X-Forwarded-For is added), so equal request-line
//!   hashes pair requests ([`crate::methods::HTTP`]).  These pairs also give
//!   the clock if nothing else did.
//! * TLS on the front (the proxy terminates it): requests are paired by
//!   time — the proxy forwards a request after it has received it, so the
//!   front request is the latest one starting before the back request (on
//!   A's clock, within the clock bound), preferring the client its
//!   X-Forwarded-For names and a typical size difference; responses
//!   likewise, the first front record after the back response arrived
//!   ([`crate::methods::TURNS`]).
//!   Without any clock, the offset is the most common difference between
//!   back and front request times (a histogram; proxy processing is short
//!   and steady compared with the spread of request times).
//! * Plain HTTP on both sides: the packets of each message's body too, by
//!   offset within the body ([`crate::methods::PROXY_BODY`]).
//!
//! Front and back connections are linked by the transactions they share
//! (a back connection serves one front connection at a time), reported as
//! a `proxy` translation.

use crate::clock::ClockFit;
use crate::methods;
use crate::packets::PacketMatch;
use crate::pairing::ConnPair;
use crate::payload::{address_fingerprint, MsgValue};
use crate::table::{Msg, MsgKind, PointTable};
use index::{ClockModel, Endpoints, TranslationKind, TranslationSpec};
use rustc_hash::{FxHashMap, FxHashSet};

/// Links and message matches found across a full proxy.
#[derive(Debug, Default)]
pub struct Proxied {
    pub matches: Vec<PacketMatch>,
    pub links: Vec<TranslationSpec>,
}

/// A message start in one unpaired TCP connection: 36 bytes (aligned to
/// 4, not 8: the stage holds one per message start of both points, at the
/// peak of the heap).
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
struct Start {
    conn: u32,
    rec: u32,
    ts: i64,
    /// What a proxy leaves alone: the request-line hash, the status code,
    /// the TLS content type ([`MsgValue::key`]).
    value: u64,
    /// TCP payload length of the packet.
    len: u32,
    /// HTTP: the header block's length, 0 if not in the first packet.
    header_len: u32,
    /// Sent by the connection's client (request side).
    from_client: bool,
    kind: MsgKind,
    /// A request's X-Forwarded-For fingerprint (0: none).
    forwarded_for: u8,
    /// The fingerprint of the connection's client address.
    client: u8,
}

const _: () = assert!(std::mem::size_of::<Start>() == 36);

/// The client direction of a connection: the SYN's sender, else the
/// direction of its first HTTP request or TLS record.
fn client_dir(t: &PointTable, c: u32, first_msg: Option<&Msg>) -> usize {
    if let Some(d) = t.conns[c as usize].client_dir() {
        return d;
    }
    first_msg.map_or(0, |m| t.recs[m.rec as usize].dir())
}

/// Message starts of TCP connections not paired yet (`paired[c]`): the
/// requests and responses among them.
fn starts(t: &PointTable, paired: &[bool]) -> Vec<Start> {
    // Each unpaired connection's client direction, from its first message
    // (NO_DIR: paired, or no message).  A byte per connection: a map per
    // connection was most of this stage's memory on a full proxy's points.
    const NO_DIR: u8 = u8::MAX;
    let mut dirs = vec![NO_DIR; t.conns.len()];
    for m in &t.msgs {
        let c = m.conn as usize;
        if dirs[c] == NO_DIR && !paired.get(c).copied().unwrap_or(false) {
            dirs[c] = client_dir(t, m.conn, Some(m)) as u8;
        }
    }
    let mut v = t
        .msgs
        .iter()
        .filter_map(|m| {
            let r = &t.recs[m.rec as usize];
            let d = dirs[m.conn as usize];
            if d == NO_DIR {
                return None;
            }
            let d = usize::from(d);
            let v = MsgValue::of(m.kind(), m.value());
            let s = Start {
                conn: m.conn,
                rec: m.rec,
                ts: t.time(m.rec),
                from_client: r.dir() == d,
                len: t.len(m.rec),
                kind: m.kind(),
                value: v.key,
                header_len: v.header_len,
                forwarded_for: v.forwarded_for,
                client: address_fingerprint(&t.conns[m.conn as usize].key_from(d).src),
            };
            (is_request(&s) || is_response(&s)).then_some(s)
        })
        .collect::<Vec<_>>();
    // Held until the links are made, the stage's peak: without the
    // doubling's unused rest.
    v.shrink_to_fit();
    v
}

fn is_request(s: &Start) -> bool {
    s.from_client && matches!(s.kind, MsgKind::HttpRequest | MsgKind::Tls) && tls_data(s)
}

fn is_response(s: &Start) -> bool {
    !s.from_client && matches!(s.kind, MsgKind::HttpResponse | MsgKind::Tls) && tls_data(s)
}

/// The shortest TLS packet that can start an HTTP message: a 5-byte record
/// header, the smallest request or status line ("GET / HTTP/1.1\r\n",
/// 16 bytes) and the least AEAD overhead (TLS 1.3: content type byte and a
/// 16-byte tag).  Shorter application-data records are something else —
/// TLS 1.3 encrypts its close_notify alert as one (24 bytes on the wire).
const MIN_TLS_MESSAGE: u32 = 5 + 16 + 17;

/// TLS: only application data records (content type 23) long enough to
/// hold an HTTP message start carry messages.
fn tls_data(s: &Start) -> bool {
    s.kind != MsgKind::Tls || (s.value == 23 && s.len >= MIN_TLS_MESSAGE)
}

/// The offset (B − A) as the mode of back-minus-front request times, in
/// 100 µs bins, refined by the median within the winning bin.
fn histogram_offset(front: &[&Start], back: &[&Start]) -> Option<i64> {
    const BIN: i64 = 100_000;
    let (f, b) = (
        &front[..front.len().min(4000)],
        &back[..back.len().min(4000)],
    );
    let mut bins: FxHashMap<i64, u32> = FxHashMap::default();
    for x in f {
        for y in b {
            *bins.entry((y.ts - x.ts).div_euclid(BIN)).or_default() += 1;
        }
    }
    // A bin and its right neighbour together: a difference near a bin edge
    // is not split.
    let (&bin, &n) = bins.iter().max_by_key(|(&k, &n)| {
        (
            n + bins.get(&(k + 1)).copied().unwrap_or(0),
            std::cmp::Reverse(k),
        )
    })?;
    let support = n + bins.get(&(bin + 1)).copied().unwrap_or(0);
    // Unrelated captures also have a most common difference: only a peak
    // that explains most of the back requests (and at least three) is a
    // proxy's forwarding delay.
    if support < 3 || (support as usize) * 2 < b.len().min(f.len()) {
        return None;
    }
    let mut inside: Vec<i64> = f
        .iter()
        .flat_map(|x| b.iter().map(move |y| y.ts - x.ts))
        .filter(|d| d.div_euclid(BIN) == bin || d.div_euclid(BIN) == bin + 1)
        .collect();
    let m = inside.len() / 2;
    Some(*inside.select_nth_unstable(m).1)
}

/// Added to a both-ways clock's bound where it decides which side of a
/// message another one lies: the bound is taken at the samples, and time
/// stamps are rounded.
const TOL_MARGIN_NS: i64 = 5_000;
/// Without such a clock: 0.2 ms.
const TOL_FIXED_NS: i64 = 200_000;

/// Confidence (of 255) of a request pair by its request line.
const CONF_HTTP: u8 = 250;
/// By time alone (no typical size difference known).
const CONF_TURNS: u8 = 220;
/// By time, its size difference a typical one.
const CONF_TURNS_SIZED: u8 = 235;
/// By time, though its size difference is not a typical one.
const CONF_TURNS_UNSIZED: u8 = 190;
/// Front requests visited (taken or not), latest first, for one back
/// request: a proxy forwards soon, and a busy one must not make this
/// quadratic.
const MAX_TURN_CANDIDATES: usize = 512;
/// How much earlier than the latest candidate a front request may be and
/// still win by its size: requests that arrived together.
const SIZE_WINDOW_NS: i64 = 2_000_000;

/// Back request length less front: what the proxy's rewriting adds, less
/// TLS's record overhead.
fn len_delta(front: &Start, back: &Start) -> i64 {
    i64::from(back.len) - i64::from(front.len)
}

/// The length differences TLS turns typically have: those of at least
/// [`TYPICAL_DELTA_TURNS`] turns of a first pass by time.  More than one
/// where clients differ (another TLS version or cipher: another record
/// overhead; another X-Forwarded-For).
fn typical_len_deltas(
    turns: &[(usize, usize, u8, u8)],
    req_a: &[&Start],
    req_b: &[&Start],
) -> Vec<i64> {
    let mut counts: FxHashMap<i64, usize> = FxHashMap::default();
    for &(x, y, method, _) in turns {
        if method == methods::TURNS {
            *counts.entry(len_delta(req_a[x], req_b[y])).or_default() += 1;
        }
    }
    let mut v: Vec<i64> = counts
        .into_iter()
        .filter(|&(_, c)| c >= TYPICAL_DELTA_TURNS)
        .map(|(d, _)| d)
        .collect();
    v.sort_unstable();
    v
}

/// Turns sharing a length difference for it to be typical (a wrong pick
/// by time has its own, rarely repeated).
const TYPICAL_DELTA_TURNS: usize = 3;

/// Where an HTTP message's body lies in its connection direction: the
/// sequence number of its first byte and, when the next message in that
/// direction is seen, its length.
struct Body {
    conn: u32,
    dir: usize,
    start: u32,
    len: Option<u32>,
    /// Records of the message's first packet and of the next message's:
    /// where its packets are looked for.
    from_rec: u32,
    until_rec: Option<u32>,
}

/// Packets looked at either side of a body's records (reordered and
/// retransmitted ones), so that a connection's every message does not
/// scan all its packets.
const BODY_REORDER: usize = 16;

/// The method and confidence of a front request paired with a back one.
fn turn_method(front: &Start, deltas: &[i64], sized: bool) -> (u8, u8) {
    if front.kind == MsgKind::HttpRequest {
        (methods::HTTP, CONF_HTTP)
    } else if deltas.is_empty() {
        (methods::TURNS, CONF_TURNS)
    } else if sized {
        (methods::TURNS, CONF_TURNS_SIZED)
    } else {
        (methods::TURNS, CONF_TURNS_UNSIZED)
    }
}

/// Message starts grouped by connection, each connection's in frame order:
/// one sorted list of their places in the starts (a map of lists per
/// connection cost several times the starts themselves; 4-byte places,
/// not 8-byte references: the stage runs at the peak of the heap).
struct ByConn<'a> {
    starts: &'a [Start],
    list: Vec<u32>,
    /// Where each connection's starts begin in `list`: connection c's are
    /// `list[first[c]..first[c + 1]]`.  Found by binary search of the
    /// whole list, on (connection, frame) through `starts`, they cost two
    /// cache misses a step: a fifth of the proxy stage's time on the bench
    /// sessions.  4 bytes per connection id up to the largest with a start
    /// (16 for the four lists `link` holds at once), against the ~90 each
    /// connection costs in the point's table; a search of the connections
    /// that have starts instead cost the stage ~10 % more.
    first: Vec<u32>,
}

/// The starts of `v` that `keep` takes, per connection, in frame order
/// (one direction each: requests or responses).
fn by_conn(v: &[Start], keep: fn(&Start) -> bool) -> ByConn<'_> {
    let kept = || (0..v.len() as u32).filter(|&k| keep(&v[k as usize]));
    let first = offsets(kept().map(|k| v[k as usize].conn));
    let list = if v.windows(2).all(|w| w[0].rec < w[1].rec) {
        // The starts in frame order (as `starts` makes them): each one put
        // in its connection's place keeps that order, (connection, frame)
        // with no comparison sort (a sort through `v` cost cache misses).
        let mut at = first.clone();
        let mut list = vec![0u32; kept().count()];
        for k in kept() {
            let c = v[k as usize].conn as usize;
            list[at[c] as usize] = k;
            at[c] += 1;
        }
        list
    } else {
        let mut list: Vec<u32> = kept().collect();
        // (connection, frame) is unique: a frame starts one message at most.
        list.sort_unstable_by_key(|&k| (v[k as usize].conn, v[k as usize].rec));
        list
    };
    ByConn {
        starts: v,
        list,
        first,
    }
}

/// Where each connection's run begins in a list sorted by connection
/// (`conns` gives each element's): connection c's are `first[c]..first[c +
/// 1]`, for every c up to the largest.
fn offsets(conns: impl Iterator<Item = u32> + Clone) -> Vec<u32> {
    let n = conns.clone().max().map_or(0, |c| c as usize + 1);
    let mut first = vec![0u32; n + 1];
    for c in conns {
        first[c as usize + 1] += 1;
    }
    for c in 0..n {
        first[c + 1] += first[c];
    }
    first
}

/// Some of one connection's starts, in frame order.
#[derive(Clone, Copy)]
struct Run<'a, 'b> {
    starts: &'a [Start],
    list: &'b [u32],
}

impl<'a> Run<'a, '_> {
    fn first(&self) -> Option<&'a Start> {
        self.iter().next()
    }
    fn iter(&self) -> impl Iterator<Item = &'a Start> + '_ {
        let starts = self.starts;
        self.list.iter().map(move |&k| &starts[k as usize])
    }
}

impl<'a> ByConn<'a> {
    fn start(&self, k: u32) -> &'a Start {
        &self.starts[k as usize]
    }
    /// Connection `c`'s starts, in frame order.
    fn of(&self, c: u32) -> Run<'a, '_> {
        let c = c as usize;
        let list = match (self.first.get(c), self.first.get(c + 1)) {
            (Some(&lo), Some(&hi)) => &self.list[lo as usize..hi as usize],
            _ => &[],
        };
        Run {
            starts: self.starts,
            list,
        }
    }
    /// Every connection's starts.
    fn groups(&self) -> impl Iterator<Item = Run<'a, '_>> {
        self.list
            .chunk_by(|&x, &y| self.start(x).conn == self.start(y).conn)
            .map(|list| Run {
                starts: self.starts,
                list,
            })
    }
}

/// The message starts of `s`'s connection in `by_conn` (each list in frame
/// order) after `s`'s frame.
fn later<'a, 'b>(by_conn: &'b ByConn<'a>, s: &Start) -> Run<'a, 'b> {
    let Run { starts, list } = by_conn.of(s.conn);
    let after = list.partition_point(|&x| starts[x as usize].rec <= s.rec);
    Run {
        starts,
        list: &list[after..],
    }
}

/// The body of the plain HTTP message `s` starts, if its header block
/// ended in its first packet; it ends where the next message among `later`
/// (its connection's, in its direction) starts (a retransmitted copy of
/// `s`'s first packet, which starts before the body, is no next message).
fn body_of(t: &PointTable, s: &Start, later: Run<'_, '_>) -> Option<Body> {
    if s.kind == MsgKind::Tls || s.header_len == 0 {
        return None;
    }
    let r = &t.recs[s.rec as usize];
    let start = r.seq.wrapping_add(s.header_len);
    let next = later
        .iter()
        .find(|n| t.recs[n.rec as usize].seq.wrapping_sub(start) as i32 >= 0);
    Some(Body {
        conn: s.conn,
        dir: r.dir(),
        start,
        len: next.map(|n| t.recs[n.rec as usize].seq.wrapping_sub(start)),
        from_rec: s.rec,
        until_rec: next.map(|n| n.rec),
    })
}

/// The packets carrying a body's bytes, in capture order: (offset of
/// their first body byte, offset past their last, record).
fn body_packets(t: &PointTable, b: &Body) -> Vec<(u32, u32, u32)> {
    let lim = b.len.map_or(i64::MAX, i64::from);
    let list = t.packets(b.conn);
    let lo = list
        .partition_point(|&i| i < b.from_rec)
        .saturating_sub(BODY_REORDER);
    let hi = b.until_rec.map_or(list.len(), |u| {
        (list.partition_point(|&i| i < u) + BODY_REORDER).min(list.len())
    });
    list[lo..hi]
        .iter()
        .filter_map(|&i| {
            let r = &t.recs[i as usize];
            if r.dir() != b.dir || !r.has_payload() {
                return None;
            }
            let rel = i64::from(r.seq.wrapping_sub(b.start) as i32);
            let (from, to) = (rel.max(0), (rel + i64::from(t.len(i))).min(lim));
            (from < to).then_some((from as u32, to as u32, i))
        })
        .collect()
}

/// The packets of a body forwarded by the proxy, by offset within the
/// body (the header blocks differ: the proxy adds and removes headers):
/// each front packet carrying body bytes with the back packet carrying its
/// last one (its first copy) — for a response the packet the proxy had to
/// receive before it could send the front one — unless that is the
/// `anchor` pair of the message's first packets.  Nothing when the body's length differs between the sides
/// (the proxy recoded it: compression, another chunking).
fn match_bodies(
    ta: &PointTable,
    tb: &PointTable,
    fa: &Body,
    fb: &Body,
    anchor: (u32, u32),
    out: &mut Vec<PacketMatch>,
) {
    let front = body_packets(ta, fa);
    let mut back = body_packets(tb, fb);
    let seen = |v: &[(u32, u32, u32)]| v.iter().map(|x| x.1).max().unwrap_or(0);
    if front.is_empty()
        || fa.len.unwrap_or_else(|| seen(&front)) != fb.len.unwrap_or_else(|| seen(&back))
    {
        return;
    }
    back.sort_unstable_by_key(|x| (x.0, x.2));
    for &(_, end, i) in &front {
        let last = end - 1;
        let hi = back.partition_point(|x| x.0 <= last);
        let carrier = back[..hi]
            .iter()
            .rev()
            .take(BODY_COPIES)
            .filter(|x| x.1 > last)
            .min_by_key(|x| x.2);
        if let Some(&(_, _, j)) = carrier {
            if (i, j) != anchor {
                out.push(PacketMatch {
                    a: i,
                    b: j,
                    method: methods::PROXY_BODY,
                    conf: CONF_BODY,
                    dir: ta.recs[i as usize].dir() as u8,
                });
            }
        }
    }
}

/// Back packets starting at or before an offset looked at for the ones
/// carrying it (copies of a retransmission, other segmentations).
const BODY_COPIES: usize = 16;
/// Confidence of a body packet pair: exact once the transaction is right.
const CONF_BODY: u8 = 240;

/// "proxy: front 10.0.0.5:51000 → 192.0.2.80:443 forwarded as
/// 192.0.2.80:40123 → 10.1.0.7:80 (3 requests)": written piece by piece
/// (with `format!`, a tenth of the proxy stage's time on the bench
/// sessions, which have a link per front connection).
fn link_summary(ep: &Endpoints, n: u32) -> String {
    use index::translations::push_socket_addr;
    use std::fmt::Write;
    let mut s = String::with_capacity(96);
    for (part, addr) in [
        ("proxy: front ", &ep.a_src),
        (" → ", &ep.a_dst),
        (" forwarded as ", &ep.b_src),
        (" → ", &ep.b_dst),
    ] {
        s.push_str(part);
        push_socket_addr(&mut s, addr);
    }
    let _ = write!(s, " ({n}");
    s.push_str(if n == 1 { " request)" } else { " requests)" });
    s
}

/// Links the unpaired TCP connections of A (front) and B (back).
pub fn link(
    ta: &PointTable,
    tb: &PointTable,
    paired: &[ConnPair],
    clock: Option<&ClockFit>,
    window_ns: i64,
) -> Proxied {
    let (mut pa, mut pb) = (vec![false; ta.conns.len()], vec![false; tb.conns.len()]);
    for p in paired {
        if let Some(x) = pa.get_mut(p.a as usize) {
            *x = true;
        }
        if let Some(x) = pb.get_mut(p.b as usize) {
            *x = true;
        }
    }
    let sa = starts(ta, &pa);
    let sb = starts(tb, &pb);
    let req_a: Vec<&Start> = sa.iter().filter(|s| is_request(s)).collect();
    let req_b: Vec<&Start> = sb
        .iter()
        .filter(|s| is_request(s) && s.kind == MsgKind::HttpRequest)
        .collect();
    if req_a.is_empty() || req_b.is_empty() {
        return Proxied::default();
    }

    // Plain HTTP both sides: request lines seen once on each side pair
    // directly, clock or not.
    let mut by_line: FxHashMap<u64, (Vec<usize>, Vec<usize>)> = FxHashMap::default();
    for (k, s) in req_a.iter().enumerate() {
        if s.kind == MsgKind::HttpRequest {
            by_line.entry(s.value).or_default().0.push(k);
        }
    }
    for (k, s) in req_b.iter().enumerate() {
        if let Some(e) = by_line.get_mut(&{ s.value }) {
            e.1.push(k);
        }
    }
    // (front request, back request, method, confidence)
    let pairs: Vec<(usize, usize, u8, u8)> = by_line
        .values()
        .filter(|(x, y)| x.len() == 1 && y.len() == 1)
        .map(|(x, y)| (x[0], y[0], methods::HTTP, CONF_HTTP))
        .collect();
    // Two small vectors per request line: given back now, not held
    // through the rest of the stage.
    drop(by_line);

    // The clock: given, else from the HTTP pairs, else the histogram.
    let own: ClockFit;
    let fit = match clock {
        Some(f) => f,
        None => {
            let model = if !pairs.is_empty() {
                let mut d: Vec<i64> = pairs
                    .iter()
                    .map(|&(x, y, _, _)| req_b[y].ts - req_a[x].ts)
                    .collect();
                let m = d.len() / 2;
                ClockModel::new(*d.select_nth_unstable(m).1, 0, ta.first_ts)
            } else {
                match histogram_offset(&req_a, &req_b) {
                    Some(off) => ClockModel::new(off, 0, ta.first_ts),
                    None => return Proxied::default(),
                }
            };
            own = ClockFit::single(model, 0, 0, false);
            &own
        }
    };
    // A back message's time on A's clock, with the clock segment of its
    // frame; front messages of another segment (a clock that stepped in
    // between) are not compared with it.
    let on_a = |s: &Start| (fit.seg_index_b(s.rec), fit.back_time(s.rec, s.ts));
    let seg_a = |s: &Start| fit.seg_index_a(s.rec);
    // How far a proxy may take to forward (and how wrong the clock may be).
    let slack = window_ns.min(5_000_000_000);

    // How far, on A's clock, a front request may seem to follow its back
    // request (or a front response to precede its back one): the clock's
    // own error.  A clock fitted from both directions says how large that
    // is; a proxy's turns can be closer than a fixed margin (a TLS 1.3
    // session ticket the proxy sends while the server is still answering
    // is 0.2 ms ahead of the response in the lab).
    // Never more than the fixed margin: a wide one lets a request that
    // arrived after the back one, or a record sent before the back
    // response arrived, take its place.
    // Coarse time stamps (a tool that stamps in milliseconds) move each
    // reading by up to their resolution: that much more either way.
    let coarse = i64::from(crate::table::clock_resolution(&ta.ts))
        + i64::from(crate::table::clock_resolution(&tb.ts));
    let tol = match clock {
        Some(c) if c.both_ways => (c.bound_ns as i64)
            .saturating_add(TOL_MARGIN_NS)
            .min(TOL_FIXED_NS),
        _ => TOL_FIXED_NS,
    } + coarse;
    let mut front_sorted: Vec<usize> = (0..req_a.len()).collect();
    front_sorted.sort_by_key(|&k| (req_a[k].ts, req_a[k].rec));
    let front_ts: Vec<i64> = front_sorted.iter().map(|&k| req_a[k].ts).collect();
    let used_b: FxHashSet<usize> = pairs.iter().map(|p| p.1).collect();
    let mut back_order: Vec<usize> = (0..req_b.len()).filter(|k| !used_b.contains(k)).collect();
    back_order.sort_by_key(|&k| req_b[k].rec);

    // Remaining back requests in frame order, each given a front request
    // that started before it (on A's clock) and is not taken yet: the
    // latest, preferring a front connection already linked to this back
    // connection, then one from the client the back request's
    // X-Forwarded-For names (when A sees the addresses the proxy saw), and,
    // once known, a size the proxy's rewriting gives.  A
    // TLS request packet and the plain request it becomes differ in length
    // by what the proxy adds (X-Forwarded-For, ...) less the record's
    // overhead: the same for every request of one kind of client, so the
    // common differences of a first pass by time decide between two
    // requests that arrived together (in the lab: two clients' requests
    // 0.14 ms apart, forwarded in arrival order, 153 and 154 bytes
    // becoming 223 and 224; TLS 1.2 clients' differ by 63, not 70).
    let n_line = pairs.len();
    // Each front connection's requests in frame order (one sorted list).
    let mut front_by_conn: Vec<usize> = (0..req_a.len()).collect();
    front_by_conn.sort_unstable_by_key(|&k| (req_a[k].conn, req_a[k].rec));
    // Each front connection's run, as in ByConn (no search through
    // `req_a`).
    let front_first = offsets(front_by_conn.iter().map(|&k| req_a[k].conn));
    let front_of = |c: u32| match (front_first.get(c as usize), front_first.get(c as usize + 1)) {
        (Some(&lo), Some(&hi)) => &front_by_conn[lo as usize..hi as usize],
        _ => &[],
    };
    let turns = |deltas: &[i64]| {
        let mut out = pairs.clone();
        let mut used_a: FxHashSet<usize> = out.iter().map(|p| p.0).collect();
        let mut linked: FxHashMap<u32, u32> = FxHashMap::default(); // back conn → front conn
        let mut linked_front: FxHashMap<u32, u32> = FxHashMap::default(); // front → back
        for &(x, y, _, _) in &out {
            linked.insert(req_b[y].conn, req_a[x].conn);
            linked_front.insert(req_a[x].conn, req_b[y].conn);
        }
        for &y in &back_order {
            let (seg, t) = on_a(req_b[y]);
            let hi = front_ts.partition_point(|&x| x <= t + tol);
            // A back connection already linked: its front connection's
            // next request not yet paired, in frame order (HTTP/1.x sends
            // a connection's requests one after the other), whatever the
            // clocks' resolution says of which came first.
            if let Some(&fc) = linked.get(&req_b[y].conn) {
                let next = front_of(fc).iter().copied().find(|&k| {
                    !used_a.contains(&k)
                        && seg_a(req_a[k]) == seg
                        && req_a[k].ts <= t + tol
                        && t - req_a[k].ts <= slack
                });
                if let Some(k) = next {
                    if req_a[k].kind != MsgKind::HttpRequest || req_a[k].value == req_b[y].value {
                        used_a.insert(k);
                        let sized = deltas.contains(&len_delta(req_a[k], req_b[y]));
                        out.push((
                            k,
                            y,
                            turn_method(req_a[k], deltas, sized).0,
                            turn_method(req_a[k], deltas, sized).1,
                        ));
                        continue;
                    }
                }
            }
            // (front connection free or this one's, client fits, size fits
            // and arrived with the latest): the first candidate of the best
            // rank, the latest first.
            let mut best: Option<(usize, (bool, bool, bool))> = None;
            let mut latest: Option<i64> = None;
            for (visited, pos) in (0..hi).rev().enumerate() {
                let k = front_sorted[pos];
                if t - req_a[k].ts > slack || visited == MAX_TURN_CANDIDATES {
                    break;
                }
                if used_a.contains(&k) || seg_a(req_a[k]) != seg {
                    continue;
                }
                // A plain request with another request line is not this one.
                if req_a[k].kind == MsgKind::HttpRequest && req_a[k].value != req_b[y].value {
                    continue;
                }
                let newest = *latest.get_or_insert(req_a[k].ts);
                let sized = deltas.is_empty()
                    || (deltas.contains(&len_delta(req_a[k], req_b[y]))
                        && newest - req_a[k].ts <= SIZE_WINDOW_NS + coarse);
                // Front and back connections pair one to one: a front
                // connection linked to another back one is not this one's.
                let link = linked
                    .get(&req_b[y].conn)
                    .is_none_or(|&fc| fc == req_a[k].conn)
                    && linked_front
                        .get(&req_a[k].conn)
                        .is_none_or(|&bc| bc == req_b[y].conn);
                let client =
                    req_b[y].forwarded_for == 0 || req_b[y].forwarded_for == req_a[k].client;
                let rank = (link, client, sized);
                if best.is_none_or(|(_, r)| rank > r) {
                    best = Some((k, rank));
                }
                if rank == (true, true, true) {
                    break;
                }
            }
            if let Some((k, (_, _, sized))) = best {
                used_a.insert(k);
                linked.entry(req_b[y].conn).or_insert(req_a[k].conn);
                linked_front.entry(req_a[k].conn).or_insert(req_b[y].conn);
                let (method, conf) = turn_method(req_a[k], deltas, sized);
                out.push((k, y, method, conf));
            }
        }
        out
    };
    let mut pairs = turns(&[]);
    let deltas = typical_len_deltas(&pairs[n_line..], &req_a, &req_b);
    if !deltas.is_empty() {
        pairs = turns(&deltas);
    }
    // Only the turns read these (the stage's peak is further on).
    drop((
        front_sorted,
        front_ts,
        front_by_conn,
        front_first,
        back_order,
        used_b,
    ));

    // Responses: per back connection, the first response after each back
    // request; on the front, the first response record of the linked front
    // connection at or after it arrived (on A's clock).
    let (resp_a, resp_b) = (by_conn(&sa, is_response), by_conn(&sb, is_response));
    let (req_by_conn_a, req_by_conn_b) = (by_conn(&sa, is_request), by_conn(&sb, is_request));
    // TLS records the server sent before the connection's first request
    // (TLS 1.3 session tickets): a record of the same length after a
    // request is another ticket, not the response — which coarse time
    // stamps cannot tell apart (OpenSSL sends two tickets; the second can
    // follow the first request by a fraction of a millisecond).
    let mut before_request: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for list in resp_a.groups() {
        let Some(c) = list.first().map(|s| s.conn) else {
            continue;
        };
        let first_req = req_by_conn_a.of(c).first().map_or(u32::MAX, |s| s.rec);
        let lens: Vec<u32> = list
            .iter()
            .filter(|s| s.kind == MsgKind::Tls && s.rec < first_req)
            .map(|s| s.len)
            .collect();
        if !lens.is_empty() {
            before_request.insert(c, lens);
        }
    }
    let ticket = |s: &Start| {
        s.kind == MsgKind::Tls
            && before_request
                .get(&s.conn)
                .is_some_and(|l| l.contains(&{ s.len }))
    };
    let mut out = Proxied::default();
    let mut used_resp_a: FxHashSet<u32> = FxHashSet::default();
    let mut per_link: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    pairs.sort_by_key(|&(_, y, _, _)| req_b[y].rec);
    for &(x, y, method, conf) in &pairs {
        let (fa, fb) = (req_a[x], req_b[y]);
        out.matches.push(PacketMatch {
            a: fa.rec,
            b: fb.rec,
            method,
            conf,
            dir: ta.recs[fa.rec as usize].dir() as u8,
        });
        *per_link.entry((fa.conn, fb.conn)).or_default() += 1;
        if let (Some(x), Some(y)) = (
            body_of(ta, fa, later(&req_by_conn_a, fa)),
            body_of(tb, fb, later(&req_by_conn_b, fb)),
        ) {
            match_bodies(ta, tb, &x, &y, (fa.rec, fb.rec), &mut out.matches);
        }
        // In frame order (a clock stepped backwards breaks time order).
        let Some(rb) = later(&resp_b, fb).first() else {
            continue;
        };
        let (seg, t) = on_a(rb);
        let Some(ra) = later(&resp_a, fa).iter().find(|s| {
            seg_a(s) == seg && s.ts >= t - tol && !used_resp_a.contains(&s.rec) && !ticket(s)
        }) else {
            continue;
        };
        if ra.ts - t > slack {
            continue;
        }
        // Plain on both sides: the status codes must agree.
        if ra.kind == MsgKind::HttpResponse && rb.value != ra.value {
            continue;
        }
        used_resp_a.insert(ra.rec);
        out.matches.push(PacketMatch {
            a: ra.rec,
            b: rb.rec,
            method,
            conf,
            dir: ta.recs[ra.rec as usize].dir() as u8,
        });
        if let (Some(x), Some(y)) = (
            body_of(ta, ra, later(&resp_a, ra)),
            body_of(tb, rb, later(&resp_b, rb)),
        ) {
            match_bodies(ta, tb, &x, &y, (ra.rec, rb.rec), &mut out.matches);
        }
    }

    // The message starts and their lists given back before the links are
    // made: holding both at once was this stage's peak, and the stage runs
    // while the other pairs' matches are held (the peak of the heap).
    drop((
        req_a,
        req_b,
        pairs,
        resp_a,
        resp_b,
        req_by_conn_a,
        req_by_conn_b,
    ));
    drop((before_request, used_resp_a));
    drop((sa, sb));
    let mut links: Vec<_> = per_link.into_iter().collect();
    links.sort_unstable();
    out.links.reserve_exact(links.len());
    for ((fa, fb), n) in links {
        let (ca, cb) = (&ta.conns[fa as usize], &tb.conns[fb as usize]);
        let ep = crate::endpoints(
            &ca.key_from(ca.client_dir().unwrap_or(0)),
            &cb.key_from(cb.client_dir().unwrap_or(0)),
        );
        out.links.push(TranslationSpec {
            a: 0,
            b: 0,
            kind: TranslationKind::Proxy,
            summary: link_summary(&ep, n),
            endpoints: Some(ep),
            seq_offsets: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(conn: u32, rec: u32) -> Start {
        Start {
            conn,
            rec,
            ts: i64::from(rec) * 1000,
            value: 0,
            len: 100,
            header_len: 0,
            from_client: true,
            kind: MsgKind::Tls,
            forwarded_for: 0,
            client: 0,
        }
    }

    /// Starts of 40 connections (some with none), a pseudo-random
    /// connection per frame, frames 0, 3, 6, ...
    fn starts_in_frame_order() -> Vec<Start> {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        (0..3000u32)
            .map(|k| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                start((x % 37) as u32 + 3 * u32::from(x % 5 == 0), 3 * k)
            })
            .collect()
    }

    fn keep_odd_conns(s: &Start) -> bool {
        s.conn % 2 == 1
    }

    /// `by_conn`'s lists against a filter and a sort of every start, with
    /// the starts in frame order (counted into place) and shuffled (sorted).
    #[test]
    fn by_conn_gives_each_connections_starts_in_frame_order() {
        let ordered = starts_in_frame_order();
        let mut shuffled = ordered.clone();
        shuffled.reverse();
        shuffled.swap(10, 2000);
        for v in [&ordered, &shuffled] {
            let b = by_conn(v, keep_odd_conns);
            for c in 0..50 {
                let mut want: Vec<u32> = v
                    .iter()
                    .filter(|s| s.conn == c && keep_odd_conns(s))
                    .map(|s| s.rec)
                    .collect();
                want.sort_unstable();
                let got: Vec<u32> = b.of(c).iter().map(|s| s.rec).collect();
                assert_eq!(got, want, "connection {c}");
            }
            for s in v.iter() {
                let want: Vec<u32> = b
                    .of(s.conn)
                    .iter()
                    .map(|x| x.rec)
                    .filter(|&r| r > s.rec)
                    .collect();
                let got: Vec<u32> = later(&b, s).iter().map(|x| x.rec).collect();
                assert_eq!(got, want, "after {} of connection {}", s.rec, s.conn);
            }
            let groups: Vec<u32> = b
                .groups()
                .filter_map(|g| g.first().map(|s| s.conn))
                .collect();
            assert!(groups.windows(2).all(|w| w[0] < w[1]));
            assert!(groups.iter().all(|c| c % 2 == 1) && groups.len() > 10);
        }
    }

    /// The summary reads as `format!` wrote it before it was written piece
    /// by piece.
    #[test]
    fn link_summary_is_the_formatted_text() {
        let ep = |a: &str, b: &str, c: &str, d: &str| Endpoints {
            ip_proto: 6,
            a_src: a.parse().unwrap(),
            a_dst: b.parse().unwrap(),
            b_src: c.parse().unwrap(),
            b_dst: d.parse().unwrap(),
        };
        for e in [
            ep(
                "10.0.0.5:51000",
                "192.0.2.80:443",
                "192.0.2.80:40123",
                "10.1.0.7:80",
            ),
            ep(
                "[2001:db8::1]:1",
                "[::1]:65535",
                "0.0.0.0:0",
                "255.255.255.255:8080",
            ),
        ] {
            for n in [0u32, 1, 2, 12345, u32::MAX] {
                let want = format!(
                    "proxy: front {} → {} forwarded as {} → {} ({n} request{})",
                    e.a_src,
                    e.a_dst,
                    e.b_src,
                    e.b_dst,
                    if n == 1 { "" } else { "s" }
                );
                assert_eq!(link_summary(&e, n), want);
            }
        }
    }
}
