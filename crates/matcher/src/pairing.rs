//! Stage 2 — pair connections between two adjacent points, without
//! trusting addresses or ports (NAT, PAT, both at once), except that a
//! link-scoped address (which no router forwards) must be the same at both.
//!
//! Packets vote.  Tier 1 keys are what NAT/PAT leave alone: TCP flags,
//! absolute sequence and acknowledgement numbers, payload length and digest
//! (UDP and others: the application id without the ICMP echo id, length,
//! digest, IP ID).  A 64-bit sequence/ack pair is as good as unique, so one
//! vote nearly decides; several make it certain.  Tier 2 (sequence numbers
//! randomised, IP IDs rewritten) votes with what survives everything —
//! payload length and digest of data packets — only within a time window
//! around the clock model learnt from tier 1, and divided among the
//! connections sharing the key.
//!
//! Only a consistent sample votes: the first [`HEAD`] packets of every
//! connection direction, and every packet whose key hash is 0 mod
//! [`SAMPLE_MOD`] (the same packet is sampled at both points), so the
//! tables stay small however long the connections are.

use crate::clock::ClockFit;
use crate::table::{bits, PointTable, Rec};
use capture::hash::{Hasher, SEED_CONTENT, SEED_NAT};
use capture::keys::{app_nat_safe, tcp, FlowKey};
use rustc_hash::FxHashMap;

/// Packets per connection direction that always vote.
const HEAD: usize = 16;
/// Beyond the head, packets vote when their key hash ≡ 0 mod this.
const SAMPLE_MOD: u64 = 8;

/// Two connections found to be the same one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnPair {
    pub a: u32,
    pub b: u32,
    /// Direction 0 at a is direction 1 at b (NAT changed which endpoint
    /// sorts first).
    pub flip: bool,
    /// Votes for the pairing.
    pub votes: f32,
    /// 1: NAT-invariant keys, 2: content within a time window.
    pub tier: u8,
}

/// A key from a few words (capture's packet hasher: stable across runs and
/// well mixed, so `key % SAMPLE_MOD` samples evenly).
pub(crate) fn hash_words(seed: u64, words: &[u64]) -> u64 {
    let mut h = Hasher::new(seed);
    for &w in words {
        h.word(w);
    }
    h.finish()
}

fn digest_of(r: &Rec) -> u64 {
    if r.has(bits::PARTIAL_DIGEST) {
        0
    } else {
        u64::from(r.digest)
    }
}

/// Tier 1 key: survives NAT and PAT.
pub fn nat_key(r: &Rec, len: u32) -> u64 {
    if r.is_tcp() {
        let f = r.tcp_flags & (tcp::SYN | tcp::FIN | tcp::RST | tcp::ACK);
        let ack = if f & tcp::ACK != 0 { r.ack } else { 0 };
        hash_words(
            SEED_NAT,
            &[
                u64::from(f) | u64::from(len) << 8,
                u64::from(r.seq) << 32 | u64::from(ack),
                digest_of(r),
            ],
        )
    } else {
        let id = if r.has(bits::HAS_IP_ID) {
            u64::from(r.ip_id) | 1 << 20
        } else {
            0
        };
        hash_words(
            SEED_NAT,
            &[
                app_nat_safe(r.app()),
                u64::from(len) << 32 | digest_of(r),
                id | u64::from(r.has(bits::LATER_FRAGMENT)) << 24,
            ],
        )
    }
}

/// Tier 2 key: survives sequence randomisation and IP ID rewriting too.
/// None for packets whose content says too little (no payload).
pub fn content_key(r: &Rec, len: u32) -> Option<u64> {
    if len == 0 || r.has(bits::PARTIAL_DIGEST) || r.has(bits::LATER_FRAGMENT) {
        return None;
    }
    let app = if r.is_tcp() { 0 } else { app_nat_safe(r.app()) };
    let f = r.tcp_flags & (tcp::SYN | tcp::FIN | tcp::RST);
    Some(hash_words(
        SEED_CONTENT,
        &[app, u64::from(f) | u64::from(len) << 8, u64::from(r.digest)],
    ))
}

/// Calls `f(rec index, dir, key)` for the voting sample of connection `c`.
fn sample(
    t: &PointTable,
    c: u32,
    key: impl Fn(&Rec, u32) -> Option<u64>,
    mut f: impl FnMut(u32, usize, u64),
) {
    let mut seen = [0usize; 2];
    for &i in t.packets(c) {
        let r = &t.recs[i as usize];
        let d = r.dir();
        seen[d] += 1;
        if let Some(k) = key(r, t.len(i)) {
            if seen[d] <= HEAD || k % SAMPLE_MOD == 0 {
                f(i, d, k);
            }
        }
    }
}

/// Whether connections with these keys can be one: a link-scoped flow
/// (link-local or link-scope multicast addresses) only where both points
/// see the same addresses, i.e. the same link; no NAT rewrites them.
fn may_pair(a: &FlowKey, b: &FlowKey) -> bool {
    a.proto == b.proto && (!(a.link_scoped() || b.link_scoped()) || a.same_addresses(b))
}

/// Greedy one-to-one assignment, strongest votes first.
fn assign(
    votes: FxHashMap<(u32, u32, bool), f32>,
    taken_a: &mut [bool],
    taken_b: &mut [bool],
    min_votes: f32,
    tier: u8,
    out: &mut Vec<ConnPair>,
) {
    let mut v: Vec<_> = votes.into_iter().filter(|&(_, n)| n >= min_votes).collect();
    // Ties broken by connection numbers: the result does not depend on
    // hash map order.
    v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    for ((a, b, flip), n) in v {
        if !taken_a[a as usize] && !taken_b[b as usize] {
            taken_a[a as usize] = true;
            taken_b[b as usize] = true;
            out.push(ConnPair {
                a,
                b,
                flip,
                votes: n,
                tier,
            });
        }
    }
}

/// A sampled tier-1 key and where it was seen: 12 bytes, so a point's
/// sample costs little more than its keys (no hash table).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Sampled {
    key_hi: u32,
    key_lo: u32,
    /// Connection << 1 | direction.
    conn_dir: u32,
}

impl Sampled {
    fn key(&self) -> u64 {
        u64::from(self.key_hi) << 32 | u64::from(self.key_lo)
    }
    fn conn(&self) -> u32 {
        self.conn_dir >> 1
    }
    fn dir(&self) -> u8 {
        (self.conn_dir & 1) as u8
    }
}

/// How many packets the tier-1 sample of the connections of `t` that
/// `allow` lets in is expected to hold: the heads whole, 1 in SAMPLE_MOD of
/// the rest (0 exactly when those connections have no packet).
fn expected_sample(t: &PointTable, allow: &dyn Fn(u32) -> bool) -> usize {
    (0..t.conns.len() as u32)
        .filter(|&c| allow(c))
        .map(|c| {
            let n = t.packets(c).len();
            n.min(2 * HEAD) + n.saturating_sub(2 * HEAD) / SAMPLE_MOD as usize
        })
        .sum()
}

/// The tier-1 sample of every connection of `t` that `allow` lets in,
/// sorted by key; of it only the keys `keep` keeps.  `expected`: how many
/// that is expected to be.
fn nat_sample(
    t: &PointTable,
    allow: &dyn Fn(u32) -> bool,
    keep: &dyn Fn(u64) -> bool,
    expected: usize,
) -> Vec<Sampled> {
    // One pass, each key hashed once (a counting pass first hashed every
    // packet beyond the head twice).  The vector starts at what the sample
    // is expected to hold and grows by small steps past it, not by
    // doubling: the ordering's heap stays near the sample's own size.
    let mut v = Vec::with_capacity(expected);
    for c in (0..t.conns.len() as u32).filter(|&c| allow(c)) {
        sample(
            t,
            c,
            |r, len| Some(nat_key(r, len)),
            |_, d, k| {
                if !keep(k) {
                    return;
                }
                if v.len() == v.capacity() {
                    v.reserve_exact(v.capacity() / 64 + 1024);
                }
                v.push(Sampled {
                    key_hi: (k >> 32) as u32,
                    key_lo: k as u32,
                    conn_dir: c << 1 | d as u32,
                })
            },
        );
    }
    v.shrink_to_fit();
    v.sort_unstable();
    v
}

/// Tier 1 pairing of all connections of `ta` and `tb`: the two samples,
/// sorted, are joined on the key.  A key B saw in more than one connection
/// decides nothing; every A packet with a key B saw in one votes for that
/// connection.
pub fn pair_nat(ta: &PointTable, tb: &PointTable) -> Vec<ConnPair> {
    pair_nat_among(ta, tb, &|_| true, &|_| true)
}

/// A point's tier-1 sample of all its connections, sorted by key: made
/// once per point when every pair of points is paired ([`pair_nat_sampled`]).
pub struct NatSample(Vec<Sampled>);

impl NatSample {
    pub fn of(t: &PointTable) -> NatSample {
        NatSample(nat_sample(
            t,
            &|_| true,
            &|_| true,
            expected_sample(t, &|_| true),
        ))
    }

    /// A sample of the given rows (tier-1 key, connection << 1 |
    /// direction), sorted here: for tests of a stage's own join.
    pub fn from_rows(rows: impl IntoIterator<Item = (u64, u32)>) -> NatSample {
        let mut v: Vec<Sampled> = rows
            .into_iter()
            .map(|(k, conn_dir)| Sampled {
                key_hi: (k >> 32) as u32,
                key_lo: k as u32,
                conn_dir,
            })
            .collect();
        v.sort_unstable();
        NatSample(v)
    }

    /// The sample as two columns, each sampled packet's tier-1 key and
    /// connection << 1 | direction, in key order: what a stage that joins
    /// the samples itself reads.
    ///
    /// Both are held while the columns are made (24 bytes a sampled
    /// packet), the sample's vector freed on return.
    pub fn into_columns(self) -> (Vec<u64>, Vec<u32>) {
        self.0.iter().map(|s| (s.key(), s.conn_dir)).unzip()
    }
}

/// [`pair_nat`] from the two points' samples, made beforehand.
pub fn pair_nat_sampled(
    ta: &PointTable,
    sa: &NatSample,
    tb: &PointTable,
    sb: &NatSample,
) -> Vec<ConnPair> {
    join_nat(ta, &sa.0, tb, &sb.0)
}

/// [`pair_nat`] of the connections `allow_a` and `allow_b` let in (those
/// the points between two others did not see at all).
pub fn pair_nat_among(
    ta: &PointTable,
    tb: &PointTable,
    allow_a: &dyn Fn(u32) -> bool,
    allow_b: &dyn Fn(u32) -> bool,
) -> Vec<ConnPair> {
    // Only keys both samples hold vote (join_nat skips the others), so the
    // side expected to sample more keeps just the keys the other sampled:
    // the same join, without sorting (or, with nothing on one side,
    // hashing) a whole point's packets for none (the direct pairs into the
    // back of a full proxy: every back-side connection is one the points
    // between did not pair, and the front has next to none).
    let (na, nb) = (expected_sample(ta, allow_a), expected_sample(tb, allow_b));
    if na == 0 || nb == 0 {
        return Vec::new();
    }
    // (About as many kept as the smaller sample holds.)
    let (sa, sb) = if na <= nb {
        let sa = nat_sample(ta, allow_a, &|_| true, na);
        let sb = nat_sample(tb, allow_b, &holds(&sa), sa.len());
        (sa, sb)
    } else {
        let sb = nat_sample(tb, allow_b, &|_| true, nb);
        let sa = nat_sample(ta, allow_a, &holds(&sb), sb.len());
        (sa, sb)
    };
    join_nat(ta, &sa, tb, &sb)
}

/// Whether a sample (sorted by key) holds a key: looked up in place (a
/// hash set of its keys would add to the heap when both sides are large).
fn holds(sample: &[Sampled]) -> impl Fn(u64) -> bool + '_ {
    move |k| sample.binary_search_by_key(&k, Sampled::key).is_ok()
}

/// [`pair_nat_among`] the plain way, both samples whole: what the tests
/// hold the filtered one to.
#[cfg(test)]
pub(crate) fn pair_nat_among_whole(
    ta: &PointTable,
    tb: &PointTable,
    allow_a: &dyn Fn(u32) -> bool,
    allow_b: &dyn Fn(u32) -> bool,
) -> Vec<ConnPair> {
    let sa = nat_sample(ta, allow_a, &|_| true, expected_sample(ta, allow_a));
    let sb = nat_sample(tb, allow_b, &|_| true, expected_sample(tb, allow_b));
    join_nat(ta, &sa, tb, &sb)
}

/// The join of two tier-1 samples on the key, and the assignment.
fn join_nat(ta: &PointTable, sa: &[Sampled], tb: &PointTable, sb: &[Sampled]) -> Vec<ConnPair> {
    assign_nat(ta, tb, nat_votes(sa, sb))
}

/// The votes of the join of two samples ([`nat_votes`]): what a stage that
/// joins the samples itself must count.
pub fn nat_votes_sampled(sa: &NatSample, sb: &NatSample) -> FxHashMap<(u32, u32, bool), u64> {
    nat_votes(&sa.0, &sb.0)
}

/// The join of two tier-1 samples (sorted) on the key: a key B saw in
/// more than one connection decides nothing; every A packet with a key B
/// saw in one votes for (A connection, B connection, flip: its direction
/// is not the one of B's first packet with the key).
fn nat_votes(sa: &[Sampled], sb: &[Sampled]) -> FxHashMap<(u32, u32, bool), u64> {
    let mut votes: FxHashMap<(u32, u32, bool), u64> = FxHashMap::default();
    let run = |v: &[Sampled], i: usize| {
        let k = v[i].key();
        i + v[i..].iter().take_while(|x| x.key() == k).count()
    };
    let (mut i, mut j) = (0, 0);
    while i < sa.len() && j < sb.len() {
        let (ka, kb) = (sa[i].key(), sb[j].key());
        if ka < kb {
            i = run(sa, i);
            continue;
        }
        if kb < ka {
            j = run(sb, j);
            continue;
        }
        let (ie, je) = (run(sa, i), run(sb, j));
        // The first of the run: the lowest direction of B's connection.
        let b = sb[j];
        let ambiguous = sb[j..je].iter().any(|x| x.conn() != b.conn());
        if !ambiguous {
            for x in &sa[i..ie] {
                *votes
                    .entry((x.conn(), b.conn(), x.dir() != b.dir()))
                    .or_default() += 1;
            }
        }
        (i, j) = (ie, je);
    }
    votes
}

/// Tier-1 connection pairs from the votes of the join of two samples
/// (A connection, B connection, flip, votes; any order, each triple once):
/// the pairs of connections that may be one ([`may_pair`]), assigned one
/// to one, strongest votes first.  What [`join_nat`] and a stage that
/// joins the samples itself ([`crate::PairStage::pair_nat`]) both end with.
pub fn assign_nat(
    ta: &PointTable,
    tb: &PointTable,
    votes: impl IntoIterator<Item = ((u32, u32, bool), u64)>,
) -> Vec<ConnPair> {
    // Whether the two may pair is asked once per pair of connections, not
    // per vote (the connections' keys are far apart in memory): those that
    // may not get minus infinity, which `assign` leaves out.
    let votes: FxHashMap<(u32, u32, bool), f32> = votes
        .into_iter()
        .map(|((a, b, flip), n)| {
            let ok = may_pair(&ta.conns[a as usize].key, &tb.conns[b as usize].key);
            ((a, b, flip), if ok { n as f32 } else { f32::NEG_INFINITY })
        })
        .collect();
    let mut out = Vec::new();
    let mut taken_a = vec![false; ta.conns.len()];
    let mut taken_b = vec![false; tb.conns.len()];
    assign(votes, &mut taken_a, &mut taken_b, 1.0, 1, &mut out);
    out
}

/// Tier 2 pairing of the connections tier 1 left: content keys of data
/// packets, votes only when the time difference fits `clock` within
/// `window_ns` (any time difference when there is no clock yet).
pub fn pair_content(
    ta: &PointTable,
    tb: &PointTable,
    done: &[ConnPair],
    clock: Option<&ClockFit>,
    window_ns: i64,
) -> Vec<ConnPair> {
    let mut taken_a = vec![false; ta.conns.len()];
    let mut taken_b = vec![false; tb.conns.len()];
    for p in done {
        taken_a[p.a as usize] = true;
        taken_b[p.b as usize] = true;
    }
    let mut table: FxHashMap<u64, Vec<(u32, u8, i64)>> = FxHashMap::default();
    for c in 0..tb.conns.len() as u32 {
        if taken_b[c as usize] {
            continue;
        }
        sample(tb, c, content_key, |i, d, k| {
            table.entry(k).or_default().push((c, d as u8, tb.time(i)));
        });
    }
    let mut votes: FxHashMap<(u32, u32, bool), f32> = FxHashMap::default();
    for c in 0..ta.conns.len() as u32 {
        if taken_a[c as usize] {
            continue;
        }
        let ka = &ta.conns[c as usize].key;
        sample(ta, c, content_key, |i, d, k| {
            let Some(list) = table.get(&k) else { return };
            let ts = ta.time(i);
            let expect = clock.map(|m| m.peer_time(i, ts));
            let fits = |&&(cb, _, tb_ts): &&(u32, u8, i64)| {
                may_pair(ka, &tb.conns[cb as usize].key)
                    && expect.is_none_or(|e| (tb_ts - e).abs() <= window_ns)
            };
            let n = list.iter().filter(fits).count();
            if n == 0 {
                return;
            }
            let w = 1.0 / n as f32;
            for &(cb, db, _) in list.iter().filter(|x| fits(x)) {
                *votes.entry((c, cb, d as u8 != db)).or_default() += w;
            }
        });
    }
    let mut out = Vec::new();
    // Two votes: one shared payload is not enough to call two connections one.
    assign(votes, &mut taken_a, &mut taken_b, 2.0, 2, &mut out);
    out
}
