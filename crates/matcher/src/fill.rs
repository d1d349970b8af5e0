//! Packets a point between two others did not capture: matched directly
//! between the points around it, and told apart from network loss.
//!
//! Composition (`via`) pairs A with C through B, so a packet B's capture
//! dropped (every busy SPAN port or TAP collector drops some) had no match
//! between A and C, and A–B reported it lost on the network: the analyst
//! blamed the WAN for the capture's own drops.  dShark (Yu et al., NSDI
//! 2019) draws the line this module draws: a packet seen before and after a
//! point but not at it is a capture drop there, not a network loss.
//!
//! * [`direct`]: for a non-adjacent pair (i, j), the connection pairs the
//!   adjacent hops chain together (i → i+1 → … → j), matched packet by
//!   packet where both sides have packets the neighbours towards the other
//!   did not match; and connections no point between saw at all, paired
//!   by their tier-1 keys.  Only matches of such packets are kept (the
//!   others compose).
//! * [`classify`]: a network loss the adjacent hop reported (seen at p on
//!   its way to q, not at q) whose packet was seen beyond q is a capture
//!   drop at q; the frame beyond q gets the same entry.

use crate::clock::ClockFit;
use crate::packets::{self, PacketMatch};
use crate::pairing::{self, ConnPair};
use crate::table::PointTable;
use crate::PairMatches;
use index::{LossKind, Missing};
use rustc_hash::FxHashMap;

/// One bit per frame.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    pub fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
    pub fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
}

/// What the adjacent hops found, for the direct matches: per point the
/// frames matched towards the next point and towards the previous one,
/// and per hop which connection at p is which at p + 1.
pub(crate) struct Hops {
    pub to_next: Vec<Bits>,
    pub to_prev: Vec<Bits>,
    /// `next[p][c]`: connection c of point p is this one at p + 1 (and the
    /// direction numbering flips).
    pub next: Vec<Vec<Option<(u32, bool)>>>,
    /// `paired_prev[p][c]`: connection c of point p was paired with one at
    /// p − 1.
    pub paired_prev: Vec<Vec<bool>>,
}

impl Hops {
    /// From the tables and each adjacent hop's matches and connection pairs.
    pub fn new(tables: &[PointTable], hops: &[(&PairMatches, &[ConnPair])]) -> Hops {
        let n = tables.len();
        let mut to_next: Vec<Bits> = tables.iter().map(|t| Bits::new(t.recs.len())).collect();
        let mut to_prev = to_next.clone();
        let mut next: Vec<Vec<Option<(u32, bool)>>> =
            tables.iter().map(|t| vec![None; t.conns.len()]).collect();
        let mut paired_prev: Vec<Vec<bool>> =
            tables.iter().map(|t| vec![false; t.conns.len()]).collect();
        for (pm, pairs) in hops {
            let (a, b) = (pm.a as usize, pm.b as usize);
            if b != a + 1 || b >= n {
                continue;
            }
            for m in &pm.matches {
                to_next[a].set(m.a);
                to_prev[b].set(m.b);
            }
            for p in pairs.iter() {
                next[a][p.a as usize] = Some((p.b, p.flip));
                paired_prev[b][p.b as usize] = true;
            }
        }
        Hops {
            to_next,
            to_prev,
            next,
            paired_prev,
        }
    }

    /// Connection `c` of point `i` at point `j` (j > i) through the hops.
    fn chain(&self, i: usize, c: u32, j: usize) -> Option<(u32, bool)> {
        let (mut c, mut flip) = (c, false);
        for p in i..j {
            let (d, f) = self.next[p].get(c as usize).copied().flatten()?;
            c = d;
            flip ^= f;
        }
        Some((c, flip))
    }
}

/// Whether connection `c` of `t` has a packet `matched` does not hold.
fn has_unmatched(t: &PointTable, c: u32, matched: &Bits) -> bool {
    t.packets(c).iter().any(|&r| !matched.get(r))
}

/// A frame (1-based) not seen at a point, and why: (point, frame, not seen
/// at, kind).
pub(crate) type NotSeen = (u16, u32, u16, LossKind);

/// Direct matches between points i and j (j ≥ i + 2) of packets no
/// neighbour towards the other matched: the ones the points between did
/// not capture.  `clock`: the pair's composed clock.  Where j = i + 2, the
/// frames of such packets get a capture drop entry naming the point
/// between (added to `drops`).
pub(crate) fn direct(
    ti: &PointTable,
    tj: &PointTable,
    i: usize,
    j: usize,
    hops: &Hops,
    clock: Option<&ClockFit>,
    drops: &mut Vec<NotSeen>,
) -> Vec<PacketMatch> {
    let (away, back) = (&hops.to_next[i], &hops.to_prev[j]);
    let mut out = Vec::new();
    let mut tmp = Vec::new();
    let keep = |pair: &ConnPair, tmp: &mut Vec<PacketMatch>, out: &mut Vec<PacketMatch>| {
        tmp.clear();
        packets::match_pair(ti, tj, pair, clock, tmp);
        // A packet the next point (from i) or the previous one (from j)
        // did not match: one side alone may be (a GSO packet at j holds
        // segments the point before did capture and the one it dropped).
        out.extend(tmp.iter().filter(|m| !away.get(m.a) || !back.get(m.b)));
    };
    // Connections the hops chain together.
    for c in 0..ti.conns.len() as u32 {
        let Some((d, flip)) = hops.chain(i, c, j) else {
            continue;
        };
        if !has_unmatched(ti, c, away) && !has_unmatched(tj, d, back) {
            continue;
        }
        let pair = ConnPair {
            a: c,
            b: d,
            flip,
            votes: 0.0,
            tier: 1,
        };
        keep(&pair, &mut tmp, &mut out);
    }
    // Connections the next point (from i) and the previous one (from j)
    // did not see at all: paired by their own keys.
    let lone_i = |c: u32| hops.next[i].get(c as usize).is_some_and(|x| x.is_none());
    let lone_j = |c: u32| hops.paired_prev[j].get(c as usize) == Some(&false);
    for pair in pairing::pair_nat_among(ti, tj, &lone_i, &lone_j) {
        keep(&pair, &mut tmp, &mut out);
    }
    if j == i + 2 {
        let m = (i + 1) as u16;
        for x in &out {
            if !away.get(x.a) {
                drops.push((i as u16, x.a + 1, m, LossKind::CaptureDrop));
            }
            if !back.get(x.b) {
                drops.push((j as u16, x.b + 1, m, LossKind::CaptureDrop));
            }
        }
    }
    out
}

/// Turns the network losses of `lost` whose packet was seen beyond the
/// point it missed into capture drops there (the frame beyond gets the same
/// entry), then keeps one entry per (point, frame, not seen at): a capture
/// drop over the rest, then outside capture, uncertain, network loss.
/// `matches`: every pair's matches (adjacent and composed).
pub(crate) fn classify(lost: &mut Vec<NotSeen>, matches: &[&PairMatches]) {
    // The frames of network losses, and where else they were seen.
    let mut seen: FxHashMap<(u16, u32), Vec<(u16, u32)>> = lost
        .iter()
        .filter(|l| l.3 == LossKind::NetworkLoss)
        .map(|l| ((l.0, l.1 - 1), Vec::new()))
        .collect();
    if !seen.is_empty() {
        for pm in matches {
            for m in &pm.matches {
                if let Some(v) = seen.get_mut(&(pm.a, m.a)) {
                    v.push((pm.b, m.b));
                }
                if let Some(v) = seen.get_mut(&(pm.b, m.b)) {
                    v.push((pm.a, m.a));
                }
            }
        }
    }
    let mut added = Vec::new();
    for l in lost.iter_mut() {
        let (p, f, q, kind) = *l;
        if kind != LossKind::NetworkLoss {
            continue;
        }
        // Beyond q, on the side away from p: the nearest point there that
        // has the packet.
        let beyond = seen.get(&(p, f - 1)).and_then(|v| {
            v.iter()
                .filter(|(r, _)| if q > p { *r > q } else { *r < q })
                .min_by_key(|(r, _)| r.abs_diff(q))
                .copied()
        });
        if let Some((r, g)) = beyond {
            l.3 = LossKind::CaptureDrop;
            added.push((r, g + 1, q, LossKind::CaptureDrop));
        }
    }
    lost.extend(added);
    let rank = |k: LossKind| match k {
        LossKind::CaptureDrop => 0,
        LossKind::OutsideCapture => 1,
        LossKind::Uncertain => 2,
        _ => 3,
    };
    lost.sort_unstable_by_key(|l| (l.0, l.1, l.2, rank(l.3)));
    lost.dedup_by_key(|l| (l.0, l.1, l.2));
}

/// Per point pair (a < b) the counts of `lost` by kind each way, and per
/// point its capture drops: each packet counted once, from the side that
/// has more of them (a GSO packet after the point holds several dropped
/// segments; the point before saw each).
pub(crate) fn tally(lost: &[NotSeen], points: usize) -> (FxHashMap<(u16, u16), Missing>, Vec<u32>) {
    let mut pairs: FxHashMap<(u16, u16), Missing> = FxHashMap::default();
    let mut sides = vec![[0u32; 2]; points];
    for &(p, _, q, kind) in lost {
        pairs
            .entry((p.min(q), p.max(q)))
            .or_default()
            .count(kind, usize::from(p > q));
        if kind == LossKind::CaptureDrop {
            if let Some(s) = sides.get_mut(q as usize) {
                s[usize::from(p > q)] += 1;
            }
        }
    }
    (pairs, sides.iter().map(|s| s[0].max(s[1])).collect())
}
