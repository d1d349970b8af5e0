//! Per-hop statistics: for each pair of neighbouring points and each
//! direction of travel, the packets matched, the network losses, the
//! capture drops and the one-way delays (clock corrected) — what
//! `tshark -z pktmatch,hops` and the report's summary show.
//!
//! Frames are added one by one (the ones a tap saw, or every frame of the
//! session); each adds what its packet's journey says about every hop it
//! crossed, so a capture of one point still yields the delays of the hops
//! further on, and a merged capture, which holds every copy of a packet,
//! counts each link and each loss once however many of its frames come by.
//!
//! The direction of a link is the sign of its corrected delay (the later
//! copy is downstream); without a clock model for the pair, the direction
//! of the packet's journey, else the path's order.  Delays go into a
//! [`Delays`] histogram with exact minimum and maximum and quantiles to
//! 0.4 % (log-linear buckets, a Fenwick tree for the ranks: adding a
//! sample and asking a quantile are O(log buckets), as a statistics
//! dialog needs after every packet).

use std::collections::HashSet;

use crate::journey::{Links, Node};
use crate::{Index, LossKind, Peer};

/// Buckets below this hold one nanosecond each.
const LINEAR: u64 = 1024;
/// Sub-buckets per power of two above it (relative width 1/256).
const SUB_BITS: u32 = 8;
const BUCKETS: usize = LINEAR as usize + (64 - 10) * (1 << SUB_BITS);

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 10
    let m = (v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + ((e - 10) as usize) * (1 << SUB_BITS) + m as usize
}

/// The smallest value of a bucket, and its width.
fn bucket_range(b: usize) -> (u64, u64) {
    if b < LINEAR as usize {
        return (b as u64, 1);
    }
    let k = b - LINEAR as usize;
    let e = (k >> SUB_BITS) as u32 + 10;
    let m = (k & ((1 << SUB_BITS) - 1)) as u64;
    let width = 1u64 << (e - SUB_BITS);
    ((1u64 << e) + m * width, width)
}

/// One-way delays: count, exact minimum and maximum, quantiles from a
/// histogram (within 0.4 % of the value, and never outside [min, max]).
#[derive(Clone, Debug)]
pub struct Delays {
    /// Fenwick tree over the buckets (1-based inside).
    tree: Vec<u32>,
    count: u64,
    min: u64,
    max: u64,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            tree: Vec::new(),
            count: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl Delays {
    /// Adds a delay (negative values, a clock model's error exceeding the
    /// transit, count as 0).
    pub fn add(&mut self, ns: i64) {
        let v = ns.max(0) as u64;
        if self.tree.is_empty() {
            self.tree = vec![0; BUCKETS + 1];
        }
        let mut i = bucket(v) + 1;
        while i <= BUCKETS {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The q-quantile (0 < q ≤ 1) by the nearest-rank rule: the value of
    /// rank ⌈q·n⌉, as the middle of its bucket.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        // The first bucket whose cumulative count reaches `rank`.
        let (mut pos, mut left) = (0usize, rank);
        let mut step = BUCKETS.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= BUCKETS && u64::from(self.tree[next]) < left {
                pos = next;
                left -= u64::from(self.tree[next]);
            }
            step >>= 1;
        }
        let (low, width) = bucket_range(pos);
        Some((low + width / 2).clamp(self.min, self.max))
    }

    /// Counts per bucket of a histogram with `bins` equal-width bins on a
    /// log scale between the minimum and the maximum (for a plot): (lower
    /// edge ns, count) per bin.
    pub fn log_bins(&self, bins: usize) -> Vec<(u64, u64)> {
        let (Some(lo), Some(hi)) = (self.min(), self.max()) else {
            return Vec::new();
        };
        let (lo_f, hi_f) = ((lo.max(1) as f64).ln(), (hi.max(1) as f64).ln());
        let span = (hi_f - lo_f).max(1e-9);
        let mut out: Vec<(u64, u64)> = (0..bins)
            .map(|i| ((lo_f + span * i as f64 / bins as f64).exp() as u64, 0))
            .collect();
        let mut prev = 0u64;
        for b in 0..BUCKETS {
            let c = self.prefix(b + 1) - prev;
            prev += c;
            if c == 0 {
                continue;
            }
            let (low, width) = bucket_range(b);
            let mid = ((low + width / 2).clamp(lo, hi).max(1) as f64).ln();
            let i = (((mid - lo_f) / span) * bins as f64) as usize;
            out[i.min(bins - 1)].1 += c;
            if prev == self.count {
                break;
            }
        }
        out
    }

    fn prefix(&self, mut i: usize) -> u64 {
        let mut s = 0u64;
        while i > 0 {
            s += u64::from(self.tree[i]);
            i &= i - 1;
        }
        s
    }
}

/// One direction of one pair of neighbouring points.
#[derive(Clone, Debug)]
pub struct Hop {
    pub from: u16,
    pub to: u16,
    /// Frame links between the two points in this direction.
    pub matched: u64,
    /// Packets seen at `from` (or before) on their way to `to`, seen neither
    /// at `to` nor after it.
    pub network_losses: u64,
    /// Packets `to`'s capture dropped on their way from `from`'s side.
    pub capture_drops: u64,
    /// One-way delays from `from` to `to`, clock corrected.
    pub delays: Delays,
}

/// Per-hop statistics of the frames added so far.
pub struct HopStats {
    hops: Vec<Hop>,
    /// Links counted, as (lower node, higher node).
    links: HashSet<(Node, Node)>,
    /// Losses and drops counted, as (the packet's first frame, point).
    missing: HashSet<(Node, u16)>,
}

impl HopStats {
    /// The hops of the session: every pair of neighbouring points (PAIRS
    /// flag), both ways, in path order.
    pub fn new(ix: &Index<'_>) -> HopStats {
        let mut hops = Vec::new();
        for p in ix.pairs().filter(|p| p.neighbours()) {
            for (from, to) in [(p.a(), p.b()), (p.b(), p.a())] {
                hops.push(Hop {
                    from,
                    to,
                    matched: 0,
                    network_losses: 0,
                    capture_drops: 0,
                    delays: Delays::default(),
                });
            }
        }
        HopStats {
            hops,
            links: HashSet::new(),
            missing: HashSet::new(),
        }
    }

    pub fn hops(&self) -> &[Hop] {
        &self.hops
    }

    fn hop(&self, from: u16, to: u16) -> Option<usize> {
        self.hops.iter().position(|h| h.from == from && h.to == to)
    }

    /// The hop into `at` from the side of lower points (`from_below`) or
    /// of higher ones.
    fn hop_into(&self, at: u16, from_below: bool) -> Option<usize> {
        self.hops
            .iter()
            .position(|h| h.to == at && (h.from < at) == from_below)
    }

    /// Adds frame `frame` of `point`: the links of its packet's journey
    /// between neighbouring points, and its losses and drops, each once.
    /// Pushes the index of every hop that changed onto `changed`.
    pub fn add_frame(
        &mut self,
        ix: &Index<'_>,
        links: &Links,
        (point, frame): Node,
        changed: &mut Vec<usize>,
    ) {
        let journey = links.journey(ix, (point, frame));
        let Some(&first) = journey.first() else {
            return;
        };
        let forward = direction(ix, &journey);
        for &(q, g) in &journey {
            let ts = ix.frame_time_ns(q, g).unwrap_or(0);
            for peer in ix.peers(q, g) {
                let other = (peer.point, peer.frame);
                let key = ((q, g).min(other), (q, g).max(other));
                let Some(corrected) = self.neighbour_link(ix, q, peer.point) else {
                    continue;
                };
                if !self.links.insert(key) {
                    continue;
                }
                // Always from the link's first end, so that the value (and
                // the histogram bucket it lands in) does not depend on which
                // end of the link a file shows first: a single capture and
                // the merged one give the same table.
                let d = corrected
                    .then(|| canonical_delta(ix, (q, g), ts, &peer, key.0))
                    .flatten();
                // Later copy downstream; without a model, the journey's way.
                let towards_peer = match d {
                    Some(d) => d >= 0,
                    None => forward.unwrap_or(true) == (q < peer.point),
                };
                let (from, to) = if towards_peer {
                    (q, peer.point)
                } else {
                    (peer.point, q)
                };
                if let Some(h) = self.hop(from, to) {
                    let hop = &mut self.hops[h];
                    hop.matched += 1;
                    if let Some(d) = d {
                        hop.delays.add(d.saturating_abs());
                    }
                    changed.push(h);
                }
            }
            for lost in ix.lost(q, g) {
                let from_below = match lost.kind {
                    LossKind::NetworkLoss => q < lost.point,
                    LossKind::CaptureDrop => forward.unwrap_or(q < lost.point),
                    _ => continue,
                };
                if !self.missing.insert((first, lost.point)) {
                    continue;
                }
                if let Some(h) = self.hop_into(lost.point, from_below) {
                    let hop = &mut self.hops[h];
                    if lost.kind == LossKind::NetworkLoss {
                        hop.network_losses += 1;
                    } else {
                        hop.capture_drops += 1;
                    }
                    changed.push(h);
                }
            }
        }
    }

    /// Some(has a clock model) when (a, b) are neighbours.
    fn neighbour_link(&self, ix: &Index<'_>, a: u16, b: u16) -> Option<bool> {
        let p = ix.pair(a, b).filter(|p| p.neighbours())?;
        Some(p.clock().is_some())
    }
}

/// Whether a journey went the path's way (lower points first): its copies
/// at the lowest and the highest point, put on one clock.  None for a
/// journey at one point or without clock models.
/// The corrected delay from `(q, g)` to its peer, computed at the link's
/// end `first`: from the peer's entry pointing back, negated, when the
/// peer is that end.
fn canonical_delta(ix: &Index<'_>, (q, g): Node, ts: i64, peer: &Peer, first: Node) -> Option<i64> {
    let direct = || ix.corrected_delta(q, g, peer, ts);
    if first == (q, g) {
        return direct();
    }
    let back = ix
        .peers(peer.point, peer.frame)
        .find(|p| p.point == q && p.frame == g);
    let peer_ts = ix.frame_time_ns(peer.point, peer.frame);
    match (back, peer_ts) {
        (Some(back), Some(peer_ts)) => ix
            .corrected_delta(peer.point, peer.frame, &back, peer_ts)
            .map(i64::saturating_neg),
        _ => direct(),
    }
}

fn direction(ix: &Index<'_>, journey: &[Node]) -> Option<bool> {
    let (lo, hi) = (journey.first()?, journey.last()?);
    if lo.0 == hi.0 {
        return None;
    }
    let on_lo = |&(p, f): &Node| -> Option<i64> {
        let ts = ix.frame_time_ns(p, f)?;
        crate::timeline::time_on(ix, p, f, ts, lo.0)
    };
    Some(on_lo(hi)? >= on_lo(lo)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClockModel, IndexBuilder, PairSpec};

    #[test]
    fn buckets_cover_values_to_within_their_width() {
        for v in [
            0u64,
            1,
            1023,
            1024,
            1500,
            31_600,
            1_000_000,
            123_456_789,
            u64::MAX / 2,
        ] {
            let (low, width) = bucket_range(bucket(v));
            assert!(low <= v && v < low + width, "{v}: [{low}, +{width})");
            assert!(width == 1 || (width as f64) / (low as f64) <= 1.0 / 256.0 + 1e-12);
        }
    }

    #[test]
    fn quantiles_by_nearest_rank_within_the_bucket_width() {
        let mut d = Delays::default();
        assert_eq!(d.quantile(0.5), None);
        // 1..=1000 µs: median rank 500 → 500 µs, p99 rank 990 → 990 µs.
        for us in 1..=1000i64 {
            d.add(us * 1000);
        }
        let near = |got: Option<u64>, want: u64| {
            let g = got.unwrap() as f64;
            assert!(
                (g - want as f64).abs() <= want as f64 / 256.0,
                "{g} vs {want}"
            );
        };
        near(d.quantile(0.5), 500_000);
        near(d.quantile(0.99), 990_000);
        assert_eq!(
            (d.min(), d.max(), d.count()),
            (Some(1000), Some(1_000_000), 1000)
        );
        near(d.quantile(1.0), 1_000_000);
        assert!(
            d.quantile(1.0).unwrap() <= 1_000_000,
            "never above the maximum"
        );
        let bins = d.log_bins(10);
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 1000);
        // Negative delays (clock error) count as 0.
        let mut z = Delays::default();
        z.add(-5);
        assert_eq!(z.min(), Some(0));
    }

    /// a - b - c; packets: 1 a→b→c (10 µs, 20 µs), 2 c→b→a (30, 40 µs),
    /// 3 seen at a, lost before b; 4 seen at a and c, dropped by b's
    /// capture.
    fn session() -> Vec<u8> {
        const T0: i64 = 1_800_000_000_000_000_000;
        let mut ix = IndexBuilder::new();
        for l in ["a", "b", "c"] {
            ix.add_point(l, "", 0).unwrap();
        }
        let ta = [T0, T0 + 1_000_000, T0 + 2_000_000, T0 + 3_000_000];
        let tb = [T0 + 10_000, T0 + 1_000_000 - 40_000];
        let tc = [T0 + 30_000, T0 + 1_000_000 - 70_000, T0 + 3_000_050];
        for t in ta {
            ix.add_frame(0, t, 0).unwrap();
        }
        for t in tb {
            ix.add_frame(1, t, 0).unwrap();
        }
        for t in tc {
            ix.add_frame(2, t, 0).unwrap();
        }
        ix.add_match(0, 1, 1, 1, tb[0] - ta[0], 2, 255).unwrap();
        ix.add_match(1, 1, 2, 1, tc[0] - tb[0], 2, 255).unwrap();
        ix.add_match(0, 2, 1, 2, tb[1] - ta[1], 2, 255).unwrap();
        ix.add_match(1, 2, 2, 2, tc[1] - tb[1], 2, 255).unwrap();
        ix.add_match(0, 4, 2, 3, tc[2] - ta[3], 2, 255).unwrap();
        ix.add_lost(0, 3, 1, LossKind::NetworkLoss).unwrap();
        ix.add_lost(0, 4, 1, LossKind::CaptureDrop).unwrap();
        ix.add_lost(2, 3, 1, LossKind::CaptureDrop).unwrap();
        for (p, q) in [(0, 1), (1, 2), (0, 2)] {
            let spec = PairSpec {
                clock: Some(ClockModel::new(0, 0, T0)),
                neighbours: q == p + 1,
                ..Default::default()
            };
            ix.set_pair(p, q, spec).unwrap();
        }
        ix.build()
    }

    #[test]
    fn each_link_and_loss_counts_once_in_its_direction() {
        let bytes = session();
        let ix = Index::load(&bytes).unwrap();
        let links = Links::new(&ix);
        let mut stats = HopStats::new(&ix);
        let mut changed = Vec::new();
        // Every frame of every point, as a merged capture gives them.
        for p in 0..3u16 {
            for f in 1..=ix.packets(p) {
                stats.add_frame(&ix, &links, (p, f), &mut changed);
            }
        }
        let row = |from: u16, to: u16| {
            let h = &stats.hops()[stats.hop(from, to).unwrap()];
            (
                h.matched,
                h.network_losses,
                h.capture_drops,
                h.delays.min(),
                h.delays.max(),
            )
        };
        assert_eq!(row(0, 1), (1, 1, 1, Some(10_000), Some(10_000)));
        assert_eq!(row(1, 2), (1, 0, 0, Some(20_000), Some(20_000)));
        assert_eq!(row(2, 1), (1, 0, 0, Some(30_000), Some(30_000)));
        assert_eq!(row(1, 0), (1, 0, 0, Some(40_000), Some(40_000)));
        // One capture (a's) gives the same: journeys reach the other hops.
        let mut one = HopStats::new(&ix);
        for f in 1..=ix.packets(0) {
            one.add_frame(&ix, &links, (0, f), &mut changed);
        }
        for (x, y) in one.hops().iter().zip(stats.hops()) {
            assert_eq!(
                (x.matched, x.network_losses, x.capture_drops),
                (y.matched, y.network_losses, y.capture_drops)
            );
        }
    }
}
