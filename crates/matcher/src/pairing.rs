//! Stage 2 — pair connections between two adjacent points, without
//! trusting addresses or ports (NAT, PAT, both at once).
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
use capture::keys::{app_nat_safe, tcp};
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
pub fn nat_key(r: &Rec) -> u64 {
    if r.is_tcp() {
        let f = r.tcp_flags & (tcp::SYN | tcp::FIN | tcp::RST | tcp::ACK);
        let ack = if f & tcp::ACK != 0 { r.ack } else { 0 };
        hash_words(
            SEED_NAT,
            &[
                u64::from(f) | u64::from(r.len) << 8,
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
                u64::from(r.len) << 32 | digest_of(r),
                id | u64::from(r.has(bits::LATER_FRAGMENT)) << 24,
            ],
        )
    }
}

/// Tier 2 key: survives sequence randomisation and IP ID rewriting too.
/// None for packets whose content says too little (no payload).
pub fn content_key(r: &Rec) -> Option<u64> {
    if r.len == 0 || r.has(bits::PARTIAL_DIGEST) || r.has(bits::LATER_FRAGMENT) {
        return None;
    }
    let app = if r.is_tcp() { 0 } else { app_nat_safe(r.app()) };
    let f = r.tcp_flags & (tcp::SYN | tcp::FIN | tcp::RST);
    Some(hash_words(
        SEED_CONTENT,
        &[
            app,
            u64::from(f) | u64::from(r.len) << 8,
            u64::from(r.digest),
        ],
    ))
}

/// Calls `f(rec index, dir, key)` for the voting sample of connection `c`.
fn sample(
    t: &PointTable,
    c: u32,
    key: impl Fn(&Rec) -> Option<u64>,
    mut f: impl FnMut(u32, usize, u64),
) {
    let mut seen = [0usize; 2];
    for &i in t.packets(c) {
        let r = &t.recs[i as usize];
        let d = r.dir();
        seen[d] += 1;
        if let Some(k) = key(r) {
            if seen[d] <= HEAD || k % SAMPLE_MOD == 0 {
                f(i, d, k);
            }
        }
    }
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

/// Tier 1 pairing of all connections of `ta` and `tb`.
pub fn pair_nat(ta: &PointTable, tb: &PointTable) -> Vec<ConnPair> {
    let mut table: FxHashMap<u64, (u32, u8)> = FxHashMap::default();
    let mut ambiguous: FxHashMap<u64, ()> = FxHashMap::default();
    for c in 0..tb.conns.len() as u32 {
        sample(
            tb,
            c,
            |r| Some(nat_key(r)),
            |_, d, k| {
                if let Some(&(other, _)) = table.get(&k) {
                    if other != c {
                        ambiguous.insert(k, ());
                    }
                } else {
                    table.insert(k, (c, d as u8));
                }
            },
        );
    }
    let mut votes: FxHashMap<(u32, u32, bool), f32> = FxHashMap::default();
    for c in 0..ta.conns.len() as u32 {
        let proto = ta.conns[c as usize].key.proto;
        sample(
            ta,
            c,
            |r| Some(nat_key(r)),
            |_, d, k| {
                if ambiguous.contains_key(&k) {
                    return;
                }
                if let Some(&(cb, db)) = table.get(&k) {
                    if tb.conns[cb as usize].key.proto == proto {
                        *votes.entry((c, cb, d as u8 != db)).or_default() += 1.0;
                    }
                }
            },
        );
    }
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
        let proto = ta.conns[c as usize].key.proto;
        sample(ta, c, content_key, |i, d, k| {
            let Some(list) = table.get(&k) else { return };
            let ts = ta.time(i);
            let expect = clock.map(|m| m.peer_time(i, ts));
            let fits = |&&(cb, _, tb_ts): &&(u32, u8, i64)| {
                tb.conns[cb as usize].key.proto == proto
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
