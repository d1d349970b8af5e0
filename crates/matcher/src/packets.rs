//! Stage 3 — match the packets of two paired connections.
//!
//! Per direction the pair first learns what the path between the points
//! does to the packets: a constant sequence number offset (firewall ISN
//! randomisation, SYNPROXY), the acknowledgement offset (the other
//! direction's sequence offset), a TCP timestamp offset, and whether the IP
//! ID survives.  B's packets are then translated into A's number space and
//! matched on an exact key: flags, seq, ack, payload length and digest,
//! plus TSval and IP ID where they are known to survive — the IP ID is
//! never the only key.  Equal keys (retransmitted bytes with equal headers)
//! pair in capture order, the nearest in time first once a clock is known.
//! What is left is tried for TSO/GSO/GRO: a segment whose byte range lies
//! inside a bigger segment with the same acknowledgement and timestamp at
//! the other point (one-to-many, either way round).

use crate::clock::ClockFit;
use crate::methods;
use crate::pairing::{hash_words, ConnPair};
use crate::table::{bits, PointTable, Rec};
use capture::keys::app_nat_safe;
use capture::keys::tcp;
use rustc_hash::FxHashMap;

/// One packet seen at both points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMatch {
    /// Rec index (frame − 1) at A and at B.
    pub a: u32,
    pub b: u32,
    pub method: u8,
    /// 0-255 ↔ 0-100 %.
    pub conf: u8,
    /// Direction at A (0/1, see [`Rec::dir`]).
    pub dir: u8,
}

/// What the path does to one direction of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirTranslation {
    /// B's sequence number minus A's (wrapping).
    pub seq_off: u32,
    pub ack_off: u32,
    /// None: no timestamps to compare, or not constant.
    pub ts_off: Option<u32>,
    /// Where `ts_off` is None: the TSval difference most unique pairs
    /// agree on (two thirds of them, at least two), used only to refuse
    /// a pair whose difference contradicts it (see [`ts_contradicts`]).
    pub ts_hint: Option<u32>,
    /// The IP ID is carried unchanged.
    pub ip_id_kept: bool,
}

/// The result for one connection pair.
#[derive(Clone, Debug, Default)]
pub struct PairResult {
    pub dirs: [DirTranslation; 2],
    /// Where its matches are in the pair's vector (see [`match_pair`]).
    pub matches: std::ops::Range<usize>,
    /// The client's SYN was seen at both points but is not the same
    /// packet: a middlebox answered the handshake (SYNPROXY).
    pub handshake_by_middlebox: bool,
    /// Copies with equal keys came in different numbers at the two points:
    /// a clock would choose better which pair up.
    pub needed_clock: bool,
}

fn mode(counts: &FxHashMap<u32, u32>) -> Option<(u32, u32)> {
    counts
        .iter()
        .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
        .map(|(&v, &n)| (v, n))
}

/// Packets of a connection split by A's direction numbering.
fn split(t: &PointTable, c: u32, flip: bool) -> [Vec<u32>; 2] {
    // Sized once for the whole connection (no regrowth per direction; a
    // connection is short-lived here).
    let n = t.packets(c).len();
    let mut out = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for &i in t.packets(c) {
        let d = t.recs[i as usize].dir() ^ usize::from(flip);
        out[d].push(i);
    }
    out
}

impl PairResult {
    /// This connection pair's matches in `all`, the vector given to
    /// [`match_pair`].
    pub fn of<'a>(&self, all: &'a [PacketMatch]) -> &'a [PacketMatch] {
        &all[self.matches.clone()]
    }
}

/// Matches the packets of `p` (connection `p.a` at A, `p.b` at B) and
/// appends the matches to `out` (one vector for all connections of a point
/// pair: no small vector per connection).  `clock` (A → B), when known,
/// orders equal-key candidates by time.
pub fn match_pair(
    ta: &PointTable,
    tb: &PointTable,
    p: &ConnPair,
    clock: Option<&ClockFit>,
    out: &mut Vec<PacketMatch>,
) -> PairResult {
    let begin = out.len();
    let pa = split(ta, p.a, false);
    let pb = split(tb, p.b, p.flip);
    let ca = &ta.conns[p.a as usize];
    let cb = &tb.conns[p.b as usize];
    let same_addressing = ca.key == cb.key && !p.flip;
    // A digest cut short by a snap length is not comparable: when either
    // point cut any packet of the connection, the digest stays out of it.
    let partial = |t: &PointTable, s: &[Vec<u32>; 2]| {
        s.iter()
            .flatten()
            .any(|&i| t.recs[i as usize].has(bits::PARTIAL_DIGEST))
    };
    let use_digest = !partial(ta, &pa) && !partial(tb, &pb);
    let mut res = PairResult::default();
    if ca.is_tcp() {
        res.dirs = learn_tcp(ta, tb, &pa, &pb, use_digest);
    } else {
        for d in 0..2 {
            res.dirs[d].ip_id_kept = ip_id_kept_datagram(ta, tb, &pa[d], &pb[d], use_digest);
        }
    }
    let translated = res
        .dirs
        .iter()
        .any(|t| t.seq_off != 0 || t.ack_off != 0 || t.ts_off.is_some_and(|o| o != 0));
    let exact_method = if !ca.is_tcp() {
        methods::APP
    } else if same_addressing {
        methods::SAME
    } else if translated {
        methods::SEQ
    } else {
        methods::NAT
    };
    // The client's direction first: whether its SYN got through decides
    // how the server's SYN-ACK is treated.
    let client = ca.client_dir().unwrap_or(0);
    let mut handshake_by_middlebox = false;
    for d in [client, 1 - client] {
        let tr = res.dirs[d];
        // Duplicates only where a mirror port doubled this direction at
        // that point, not one coincidence (SYNPROXY's own ACK equals the
        // server's forwarded one field for field).
        // (Judged only where a group has unequal counts: rare.)
        let (mirrored_a, mirrored_b) = (std::cell::OnceCell::new(), std::cell::OnceCell::new());
        let key = |t: &PointTable, i: u32, from_b: bool| exact_key(t, i, from_b, &tr, use_digest);
        // A middlebox that answered the handshake itself (SYNPROXY) made
        // the SYN-ACK A saw; the server's SYN-ACK at B is another packet
        // even if its translated numbers agree.
        let skip = |r: &Rec| {
            handshake_by_middlebox
                && d != client
                && r.tcp_flags & (tcp::SYN | tcp::ACK) == tcp::SYN | tcp::ACK
        };
        // Keys of both sides sorted, then joined: a group is a key seen at
        // A, with its copies at A and at B in frame order (sorting beats a
        // hash table of small vectors: no allocation per key).
        let keyed = |t: &PointTable, idx: &[u32], from_b: bool| -> Vec<(u64, u32)> {
            let mut v: Vec<(u64, u32)> = idx
                .iter()
                .filter(|&&i| !skip(&t.recs[i as usize]))
                .map(|&i| (key(t, i, from_b), i))
                .collect();
            v.sort_unstable();
            v
        };
        let (ka, kb) = (keyed(ta, &pa[d], false), keyed(tb, &pb[d], true));
        let mut groups: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < ka.len() {
            let k = ka[i].0;
            let ie = i + ka[i..].iter().take_while(|x| x.0 == k).count();
            while j < kb.len() && kb[j].0 < k {
                j += 1;
            }
            let je = j + kb[j..].iter().take_while(|x| x.0 == k).count();
            groups.push((i..ie, j..je));
            (i, j) = (ie, je);
        }
        let (ia, ib): (Vec<u32>, Vec<u32>) = (
            ka.iter().map(|x| x.1).collect(),
            kb.iter().map(|x| x.1).collect(),
        );
        let method_for = |ra: &Rec| {
            if !ca.is_tcp() && ra.app() == 0 {
                methods::DIGEST
            } else {
                exact_method
            }
        };
        let contradicts = |ra: &Rec, rb: &Rec| ts_contradicts(&tr, ra, rb);
        let strong_for = |ra: &Rec, rb: &Rec| {
            (tr.ip_id_kept && ra.has(bits::HAS_IP_ID))
                || (ra.has(bits::HAS_TSVAL) && rb.has(bits::HAS_TSVAL) && tr.ts_off.is_some())
        };
        // Groups with one copy on each side (nearly all) first: their
        // transit times say what a normal transit is in this direction.
        let mut transits = Vec::new();
        let start = out.len();
        for g in &groups {
            let (ga, gb) = (&ia[g.0.clone()], &ib[g.1.clone()]);
            if ga.len() == 1 && gb.len() == 1 {
                let (ra, rb) = (&ta.recs[ga[0] as usize], &tb.recs[gb[0] as usize]);
                if contradicts(ra, rb) {
                    continue;
                }
                if let Some(m) = clock {
                    transits.push(tb.time(gb[0]) - m.peer_time(ga[0], ta.time(ga[0])));
                }
                let conf = if strong_for(ra, rb) { 255 } else { 240 };
                out.push(PacketMatch {
                    a: ga[0],
                    b: gb[0],
                    method: method_for(ra),
                    conf,
                    dir: d as u8,
                });
            }
        }
        let typical = if transits.is_empty() {
            None
        } else {
            let m = transits.len() / 2;
            Some(*transits.select_nth_unstable(m).1)
        };
        // Several copies with equal keys: the path is FIFO, so the copies
        // pair in order; when the counts differ, the alignment whose
        // transit times are nearest the typical one wins.
        for g in &groups {
            let (ga, gb) = (&ia[g.0.clone()], &ib[g.1.clone()]);
            if (ga.len() == 1 && gb.len() == 1) || gb.is_empty() {
                continue;
            }
            // A span port's second copy of a frame is not another packet:
            // where one side has more copies, as many as it has too many
            // may be duplicates.  The copies of each side are aligned
            // without them, and each duplicate then gets its original's
            // partner.  (Equal counts pair in order: a burst of equal pure
            // ACKs is not taken for duplicates.)
            let extra = |x: &[u32], y: &[u32], doubled: &dyn Fn() -> bool| {
                if x.len() > y.len() && doubled() {
                    x.len() - y.len()
                } else {
                    0
                }
            };
            let (extra_a, extra_b) = (
                extra(ga, gb, &|| *mirrored_a.get_or_init(|| mirrored(ta, &pa[d]))),
                extra(gb, ga, &|| *mirrored_b.get_or_init(|| mirrored(tb, &pb[d]))),
            );
            let (ga, dup_a) = span_duplicates(ta, ga, extra_a);
            let (gb, dup_b) = span_duplicates(tb, gb, extra_b);
            let (ga, gb) = (&ga[..], &gb[..]);
            let matched_from = out.len();
            let n = ga.len().min(gb.len());
            let shifts = ga.len().max(gb.len()) - n;
            res.needed_clock |= shifts > 0;
            // The x-th pair of the alignment shifted by s.
            let pair = |s: usize, x: usize| {
                if ga.len() >= gb.len() {
                    (ga[x + s], gb[x])
                } else {
                    (ga[x], gb[x + s])
                }
            };
            let cost = |s: usize| -> u128 {
                let (Some(m), Some(t)) = (clock, typical) else {
                    return 0;
                };
                (0..n)
                    .map(|x| {
                        let (i, j) = pair(s, x);
                        let tr_ = tb.time(j) - m.peer_time(i, ta.time(i));
                        u128::from((tr_ - t).unsigned_abs())
                    })
                    .sum()
            };
            // Pairs whose TSval contradicts the direction's (a
            // retransmission against an original): the alignment with
            // fewest first, before any clock can tell.
            let contradictions = |s: usize| {
                (0..n)
                    .filter(|&x| {
                        let (i, j) = pair(s, x);
                        contradicts(&ta.recs[i as usize], &tb.recs[j as usize])
                    })
                    .count()
            };
            let best = (0..=shifts.min(16))
                .min_by_key(|&s| (contradictions(s), cost(s), s))
                .unwrap_or(0);
            for x in 0..n {
                let (i, j) = pair(best, x);
                let (ra, rb) = (&ta.recs[i as usize], &tb.recs[j as usize]);
                if contradicts(ra, rb) {
                    continue;
                }
                let conf = if strong_for(ra, rb) && ga.len() == gb.len() {
                    240
                } else {
                    CONF_BY_ORDER
                };
                out.push(PacketMatch {
                    a: i,
                    b: j,
                    method: method_for(ra),
                    conf,
                    dir: d as u8,
                });
            }
            let pairs_now = matched_from..out.len();
            for (dup, original) in dup_a {
                if let Some(m) = out[pairs_now.clone()].iter().find(|m| m.a == original) {
                    let m = PacketMatch {
                        a: dup,
                        method: methods::DUPLICATE,
                        ..*m
                    };
                    out.push(m);
                }
            }
            for (dup, original) in dup_b {
                if let Some(m) = out[pairs_now.clone()].iter().find(|m| m.b == original) {
                    let m = PacketMatch {
                        b: dup,
                        method: methods::DUPLICATE,
                        ..*m
                    };
                    out.push(m);
                }
            }
        }
        if d == client && ca.is_tcp() {
            let pure_syn = |r: &Rec| r.tcp_flags & (tcp::SYN | tcp::ACK) == tcp::SYN;
            let syn_a = pa[d].iter().any(|&i| pure_syn(&ta.recs[i as usize]));
            let syn_b = pb[d].iter().any(|&j| pure_syn(&tb.recs[j as usize]));
            let syn_matched = out[start..]
                .iter()
                .any(|m| pure_syn(&ta.recs[m.a as usize]));
            handshake_by_middlebox = syn_a && syn_b && !syn_matched;
        }
        if ca.is_tcp() {
            // What the exact keys left, for TSO: the matched frames sorted,
            // looked up by binary search (no hash set per connection).
            let mut matched_a: Vec<u32> = out[start..].iter().map(|m| m.a).collect();
            let mut matched_b: Vec<u32> = out[start..].iter().map(|m| m.b).collect();
            matched_a.sort_unstable();
            matched_b.sort_unstable();
            let left = |all: &[u32], matched: &[u32]| -> Vec<u32> {
                all.iter()
                    .copied()
                    .filter(|i| matched.binary_search(i).is_err())
                    .collect()
            };
            let (left_a, left_b) = (left(&pa[d], &matched_a), left(&pb[d], &matched_b));
            res.needed_clock |= tso(ta, tb, &left_a, &left_b, &tr, d as u8, clock, out);
        }
    }
    res.handshake_by_middlebox = handshake_by_middlebox;
    res.matches = begin..out.len();
    res
}

/// Whether a mirror (span) port doubled these packets (one direction of a
/// connection at one point, in frame order): the whole capture was
/// ([`PointTable::mirrored`]), or at least three of them, and a third,
/// repeat an earlier one.  One or two coincidences are not a mirror port:
/// SYNPROXY's own window-update ACK equals the server's forwarded one.
fn mirrored(t: &PointTable, packets: &[u32]) -> bool {
    // Fewer than six packets cannot show three copies of three originals.
    t.mirrored || (packets.len() >= 6 && crate::table::doubled(t.repeats(packets), packets.len()))
}

/// Splits equal-key copies at one point (rec indexes in frame order) into
/// the originals and at most `max` span-port duplicates, each with its
/// original: a duplicate has the very same fields as the last original and
/// follows it within [`crate::table::SPAN_DUPLICATE_NS`].
fn span_duplicates(t: &PointTable, copies: &[u32], max: usize) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut originals: Vec<u32> = Vec::with_capacity(copies.len());
    let mut dups = Vec::new();
    for &i in copies {
        match originals.last() {
            Some(&o)
                if dups.len() < max
                    && t.same_rec(o, i)
                    && crate::table::close_in_time(t.time(o), t.time(i)) =>
            {
                dups.push((i, o))
            }
            _ => originals.push(i),
        }
    }
    (originals, dups)
}

/// A pair of equal exact keys whose TSval difference is not the one most
/// of the direction's pairs show ([`DirTranslation::ts_hint`]): the same
/// bytes sent again at another time — a retransmission at one point
/// keyed to the original at the other, whose own copy there the capture
/// dropped.  A path that keeps TSval constant (nearly all) tells them
/// apart by it even where too few unique pairs made the offset certain
/// enough for the key (a GRO'd download leaves a handful).  Refused, the
/// two are left to the TSO stage and to the drop/loss accounting.
fn ts_contradicts(tr: &DirTranslation, ra: &Rec, rb: &Rec) -> bool {
    match tr.ts_hint {
        Some(h) => {
            ra.has(bits::HAS_TSVAL)
                && rb.has(bits::HAS_TSVAL)
                && rb.tsval.wrapping_sub(ra.tsval) != h
        }
        None => false,
    }
}

fn exact_key(t: &PointTable, i: u32, from_b: bool, tr: &DirTranslation, use_digest: bool) -> u64 {
    let r = &t.recs[i as usize];
    let sub = |v: u32, off: u32| if from_b { v.wrapping_sub(off) } else { v };
    let flags = r.tcp_flags & (tcp::SYN | tcp::FIN | tcp::RST | tcp::ACK);
    let mut words = [0u64; 5];
    words[0] = u64::from(t.len(i)) << 8 | u64::from(flags);
    if r.is_tcp() {
        let ack = if flags & tcp::ACK != 0 {
            sub(r.ack, tr.ack_off)
        } else {
            0
        };
        words[1] = u64::from(sub(r.seq, tr.seq_off)) << 32 | u64::from(ack);
        if let (Some(off), true) = (tr.ts_off, r.has(bits::HAS_TSVAL)) {
            words[2] = u64::from(sub(r.tsval, off)) | 1 << 40;
        }
    } else {
        words[1] = app_nat_safe(r.app());
    }
    if use_digest {
        words[3] = u64::from(r.digest) | 1 << 33;
    }
    if tr.ip_id_kept && r.has(bits::HAS_IP_ID) {
        words[4] = u64::from(r.ip_id) | 1 << 20;
    }
    hash_words(SEED_EXACT, &words)
}

/// Seed of the exact per-pair key (any constant other than capture's seeds).
const SEED_EXACT: u64 = 0x2545_F491_4F6C_DD1D;

/// Learns the per-direction translation of a TCP connection pair.
fn learn_tcp(
    ta: &PointTable,
    tb: &PointTable,
    pa: &[Vec<u32>; 2],
    pb: &[Vec<u32>; 2],
    use_digest: bool,
) -> [DirTranslation; 2] {
    LEARN.with(|l| match l.try_borrow_mut() {
        Ok(mut maps) => {
            let out = learn_tcp_with(ta, tb, pa, pb, use_digest, &mut maps);
            maps.trim();
            out
        }
        // Not reached (nothing here calls back in): fresh maps then.
        Err(_) => learn_tcp_with(ta, tb, pa, pb, use_digest, &mut Learn::default()),
    })
}

/// [`learn_tcp`]'s hash maps, kept by each thread from one connection
/// pair to the next: made afresh for every pair (five or more per
/// direction, for a few dozen packets each) their allocations and growth
/// were about a third of learning's time (by `perf`).
#[derive(Default)]
struct Learn {
    first: FxHashMap<(u32, u32, u8), u32>,
    counts: FxHashMap<u32, u32>,
    by_ack: FxHashMap<u32, u32>,
    a_keys: FxHashMap<u64, (u32, bool)>,
}

/// Maps that grew past this many entries (a long connection) are dropped
/// after use: clearing and scanning them would cost every later short one.
const LEARN_KEEP: usize = 4096;

impl Learn {
    fn trim(&mut self) {
        fn keep<K, V>(m: &mut FxHashMap<K, V>) {
            if m.capacity() > LEARN_KEEP {
                *m = FxHashMap::default();
            }
        }
        keep(&mut self.first);
        keep(&mut self.counts);
        keep(&mut self.by_ack);
        keep(&mut self.a_keys);
    }
}

thread_local! {
    static LEARN: std::cell::RefCell<Learn> = std::cell::RefCell::new(Learn::default());
}

fn learn_tcp_with(
    ta: &PointTable,
    tb: &PointTable,
    pa: &[Vec<u32>; 2],
    pb: &[Vec<u32>; 2],
    use_digest: bool,
    maps: &mut Learn,
) -> [DirTranslation; 2] {
    let Learn {
        first,
        counts,
        by_ack,
        a_keys,
    } = maps;
    let mut seq_off: [Option<u32>; 2] = [None, None];
    for d in 0..2 {
        // Data packets with equal content (length, digest) and SYNs: the
        // sequence offset is the most common difference.
        first.clear();
        for &i in &pa[d] {
            let r = &ta.recs[i as usize];
            if r.has_payload() || r.tcp_flags & tcp::SYN != 0 {
                let dg = if use_digest { r.digest } else { 0 };
                first
                    .entry((ta.len(i), dg, r.tcp_flags & tcp::SYN))
                    .or_insert(r.seq);
            }
        }
        counts.clear();
        for &j in &pb[d] {
            let r = &tb.recs[j as usize];
            if r.has_payload() || r.tcp_flags & tcp::SYN != 0 {
                let dg = if use_digest { r.digest } else { 0 };
                if let Some(&s) = first.get(&(tb.len(j), dg, r.tcp_flags & tcp::SYN)) {
                    *counts.entry(r.seq.wrapping_sub(s)).or_default() += 1;
                }
            }
        }
        seq_off[d] = mode(counts).map(|(v, _)| v);
    }
    // A direction with neither data nor SYN at both points (pure ACKs of a
    // download): its acks are the other direction's sequence numbers, so
    // pair packets by acknowledgement and take the sequence difference.
    for d in 0..2 {
        if seq_off[d].is_some() {
            continue;
        }
        let ack_off = seq_off[1 - d].unwrap_or(0);
        by_ack.clear();
        for &i in &pa[d] {
            let r = &ta.recs[i as usize];
            by_ack.entry(r.ack).or_insert(r.seq);
        }
        counts.clear();
        for &j in &pb[d] {
            let r = &tb.recs[j as usize];
            if let Some(&s) = by_ack.get(&r.ack.wrapping_sub(ack_off)) {
                *counts.entry(r.seq.wrapping_sub(s)).or_default() += 1;
            }
        }
        seq_off[d] = Some(mode(counts).map_or(0, |(v, _)| v));
    }
    let mut out = [DirTranslation::default(); 2];
    for d in 0..2 {
        out[d].seq_off = seq_off[d].unwrap_or(0);
        out[d].ack_off = seq_off[1 - d].unwrap_or(0);
    }
    // With sequence numbers aligned, packets unique on (flags, seq, ack,
    // length, digest) tell whether TSval and IP ID survive.
    for d in 0..2 {
        let tr = out[d];
        let base = DirTranslation {
            ts_off: None,
            ip_id_kept: false,
            ..tr
        };
        a_keys.clear();
        for &i in &pa[d] {
            let k = exact_key(ta, i, false, &base, use_digest);
            a_keys
                .entry(k)
                .and_modify(|e| e.1 = false)
                .or_insert((i, true));
        }
        // (`counts` now holds the TSval differences.)
        let ts_counts = &mut *counts;
        ts_counts.clear();
        // IP IDs of data packets, and of all: a middlebox's own packets
        // (SYNPROXY's handshake ACK) are pure ACKs with their own IDs.
        let (mut id_same, mut id_total) = ([0u32; 2], [0u32; 2]);
        for &j in &pb[d] {
            let rb = &tb.recs[j as usize];
            let k = exact_key(tb, j, true, &base, use_digest);
            let Some(&(i, true)) = a_keys.get(&k) else {
                continue;
            };
            let ra = &ta.recs[i as usize];
            if ra.has(bits::HAS_TSVAL) && rb.has(bits::HAS_TSVAL) {
                *ts_counts
                    .entry(rb.tsval.wrapping_sub(ra.tsval))
                    .or_default() += 1;
            }
            if ra.has(bits::HAS_IP_ID) && rb.has(bits::HAS_IP_ID) {
                let same = u32::from(ra.ip_id == rb.ip_id);
                id_total[0] += 1;
                id_same[0] += same;
                if ra.has_payload() {
                    id_total[1] += 1;
                    id_same[1] += same;
                }
            }
        }
        let ts_total: u32 = ts_counts.values().sum();
        let ts_mode = mode(ts_counts);
        out[d].ts_off = ts_mode.and_then(|(v, n)| (n * 10 >= ts_total * 9).then_some(v));
        out[d].ts_hint = ts_mode
            .filter(|&(_, n)| out[d].ts_off.is_none() && n >= 2 && n * 3 >= ts_total * 2)
            .map(|(v, _)| v);
        let k = usize::from(id_total[1] > 0);
        out[d].ip_id_kept = id_total[k] > 0 && id_same[k] * 10 >= id_total[k] * 9;
    }
    out
}

/// UDP and others: does the IP ID survive between the points?
fn ip_id_kept_datagram(
    ta: &PointTable,
    tb: &PointTable,
    pa: &[u32],
    pb: &[u32],
    use_digest: bool,
) -> bool {
    let base = DirTranslation::default();
    let mut a_keys: FxHashMap<u64, u16> = FxHashMap::default();
    for &i in pa {
        let r = &ta.recs[i as usize];
        if r.has(bits::HAS_IP_ID) {
            a_keys.insert(exact_key(ta, i, false, &base, use_digest), r.ip_id);
        }
    }
    let (mut same, mut total) = (0u32, 0u32);
    for &j in pb {
        let r = &tb.recs[j as usize];
        if let (true, Some(&id)) = (
            r.has(bits::HAS_IP_ID),
            a_keys.get(&exact_key(tb, j, true, &base, use_digest)),
        ) {
            total += 1;
            same += u32::from(id == r.ip_id);
        }
    }
    total > 0 && same * 10 >= total * 9
}

/// A data segment in A's sequence space: [start, end), ack, tsval.
#[derive(Clone, Copy)]
struct Seg {
    idx: u32,
    start: u32,
    end: u32,
    ack: u32,
    ts: Option<u32>,
    ip_id: Option<u16>,
    time: i64,
}

fn segs(t: &PointTable, idx: &[u32], from_b: bool, tr: &DirTranslation) -> Vec<Seg> {
    let sub = |v: u32, off: u32| if from_b { v.wrapping_sub(off) } else { v };
    idx.iter()
        .filter_map(|&i| {
            let r = &t.recs[i as usize];
            r.has_payload().then(|| {
                let start = sub(r.seq, tr.seq_off);
                Seg {
                    idx: i,
                    start,
                    end: start.wrapping_add(t.len(i)),
                    ack: sub(r.ack, tr.ack_off),
                    ts: tr
                        .ts_off
                        .filter(|_| r.has(bits::HAS_TSVAL))
                        .map(|o| sub(r.tsval, o)),
                    ip_id: r.has(bits::HAS_IP_ID).then_some(r.ip_id),
                    time: t.time(i),
                }
            })
        })
        .collect()
}

/// Confidence of a pair chosen by order or by a guess among copies (equal
/// keys with unequal counts at the two points, several bigger segments
/// holding the same bytes) and not confirmed otherwise: such a pair may be
/// the wrong copy until the clock is known, so the first clock of a pair is
/// fitted without them.
pub const CONF_BY_ORDER: u8 = 200;

/// TSO/GSO/GRO: each left-over small segment goes to the bigger segment
/// of the other point that contains its bytes, with equal ack and TSval.
/// Among several (a retransmission resent the bytes), the one whose IP ID
/// fits GSO's numbering, else the one nearest in time on the clock, else
/// (no clock yet) the first: true when that last choice was made, so that
/// the pair is matched again once a clock is known.
#[allow(clippy::too_many_arguments)]
fn tso(
    ta: &PointTable,
    tb: &PointTable,
    left_a: &[u32],
    left_b: &[u32],
    tr: &DirTranslation,
    dir: u8,
    clock: Option<&ClockFit>,
    out: &mut Vec<PacketMatch>,
) -> bool {
    let mut guessed = false;
    if left_a.is_empty() || left_b.is_empty() {
        return guessed;
    }
    let sa = segs(ta, left_a, false, tr);
    let sb = segs(tb, left_b, true, tr);
    // Small at A inside big at B, then small at B inside big at A.
    for (small, big, small_is_a) in [(&sa, &sb, true), (&sb, &sa, false)] {
        if small.is_empty() || big.is_empty() {
            continue;
        }
        // Sequence numbers relative to the first big segment's start, so
        // sorting works across a wrap of the 32-bit space.
        let base = big[0].start;
        let mut order: Vec<usize> = (0..big.len()).collect();
        order.sort_by_key(|&k| big[k].start.wrapping_sub(base));
        let starts: Vec<u32> = order
            .iter()
            .map(|&k| big[k].start.wrapping_sub(base))
            .collect();
        for s in small.iter() {
            let rs = s.start.wrapping_sub(base);
            let re = s.end.wrapping_sub(base);
            if re < rs {
                continue;
            }
            // Candidates start at or before the small segment, at most
            // 256 KiB before (the largest GSO/GRO packet is 64 KiB).
            let hi = starts.partition_point(|&x| x <= rs);
            // Where the other copy should be, on its own clock (raw time
            // stamps of two clocks say nothing: an offset of minutes
            // favours whichever copy is later).
            let expect = clock.map(|c| {
                if small_is_a {
                    c.peer_time(s.idx, s.time)
                } else {
                    c.back_time(s.idx, s.time)
                }
            });
            let mut best: Option<(u8, u64, usize)> = None;
            let mut tied = 0;
            for pos in (0..hi).rev() {
                if rs - starts[pos] > 256 * 1024 {
                    break;
                }
                let g = &big[order[pos]];
                let ge = g.end.wrapping_sub(base);
                let len_g = ge.wrapping_sub(starts[pos]);
                if ge < re
                    || len_g <= re - rs
                    || g.ack != s.ack
                    || (g.ts.is_some() && s.ts.is_some() && g.ts != s.ts)
                {
                    continue;
                }
                // GSO gives the k-th segment the big packet's IP ID + k.
                let id_fits = match (g.ip_id, s.ip_id) {
                    (Some(gi), Some(si)) if tr.ip_id_kept => {
                        let k = si.wrapping_sub(gi);
                        u32::from(k) <= (rs - starts[pos]) && (k == 0) == (rs == starts[pos])
                    }
                    _ => false,
                };
                let rank = if id_fits { 0 } else { 1 };
                // No clock: the first copy (time stamps of one capture).
                let dist = match expect {
                    Some(e) => (g.time - e).unsigned_abs(),
                    None => (g.time as u64) ^ (1 << 63),
                };
                match best {
                    Some((r, _, _)) if rank > r => {}
                    Some((r, _, _)) if rank == r => tied += 1,
                    _ => tied = 0,
                }
                if best.is_none_or(|(r, d, _)| (rank, dist) < (r, d)) {
                    best = Some((rank, dist, order[pos]));
                }
            }
            let guess = expect.is_none() && tied > 0;
            guessed |= guess;
            if let Some((rank, _, k)) = best {
                let g = &big[k];
                let (a, b) = if small_is_a {
                    (s.idx, g.idx)
                } else {
                    (g.idx, s.idx)
                };
                let conf = if guess {
                    CONF_BY_ORDER
                } else if rank == 0 {
                    250
                } else {
                    230
                };
                out.push(PacketMatch {
                    a,
                    b,
                    method: methods::TSO,
                    conf,
                    dir,
                });
            }
        }
    }
    guessed
}
