//! A packet's journey: which frames of the session carry the same packet,
//! where it came from and where it went next.
//!
//! The index links frames by method (PEERS).  Most methods say "the same
//! packet at both points", rewritten or not (NAT, sequence offsets, TSO/GSO
//! segments of one large segment, a span port's second copy).  Two kinds do
//! not:
//!
//! * `via` links are composed through the points in between: the same
//!   packet when every hop is, not when one hop crossed a full proxy;
//! * `proxy-*` links join *different* packets that belong together, the
//!   front and back connections of a full proxy (a request and the request
//!   it was forwarded as).
//!
//! pcapng's `epb_packetid` means "the same packet" (draft-ietf-opsawg-pcapng,
//! EPB option 5: "if the same packet is seen by multiple interfaces ... the
//! same epb_packetid value must be used"), so `pktmatch merge` gives one id
//! per journey and the post-dissector's frame links point only within one;
//! proxy links are shown as related frames.  A method this reader has no
//! name for is taken as related (nothing is claimed about it).

use std::collections::VecDeque;

use crate::{Index, Peer};

/// A frame of the session: (point, frame number from 1).
pub type Node = (u16, u32);

/// What a peer link says about its two frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkClass {
    /// The same packet at both points.
    Same,
    /// Composed through the points in between (`via`): the same packet when
    /// each hop is.
    Composed,
    /// Different packets that belong together (`proxy-*`), or a method
    /// without a known meaning.
    Related,
}

/// The class of a method by its name in METHODS (None: unnamed).
pub fn class_of_name(name: Option<&str>) -> LinkClass {
    match name {
        Some("via") => LinkClass::Composed,
        Some(n) if n.starts_with("proxy") => LinkClass::Related,
        Some(_) => LinkClass::Same,
        None => LinkClass::Related,
    }
}

/// The most frames one journey is followed to: a GSO packet of 64 KiB is
/// at most 45 segments at each of a few points; anything far beyond is not
/// one packet and is cut here rather than walked for ever.
pub const JOURNEY_LIMIT: usize = 4096;

/// The link class of every method id of one index, looked up once.
#[derive(Clone, Debug)]
pub struct Links {
    class: [LinkClass; 256],
}

impl Links {
    pub fn new(ix: &Index<'_>) -> Links {
        let mut class = [LinkClass::Related; 256];
        for (id, c) in class.iter_mut().enumerate() {
            *c = class_of_name(ix.method_name(id as u8));
        }
        Links { class }
    }

    pub fn class(&self, method: u8) -> LinkClass {
        self.class[method as usize]
    }

    /// The frames that carry the same packet as `node` (itself included),
    /// sorted by (point, frame): the frames reachable over `Same` links.
    pub fn journey(&self, ix: &Index<'_>, node: Node) -> Vec<Node> {
        let mut seen = vec![node];
        let mut queue = VecDeque::from([node]);
        while let Some((p, f)) = queue.pop_front() {
            for peer in ix.peers(p, f) {
                let n = (peer.point, peer.frame);
                if self.class(peer.method) == LinkClass::Same && !seen.contains(&n) {
                    if seen.len() >= JOURNEY_LIMIT {
                        break;
                    }
                    seen.push(n);
                    queue.push_back(n);
                }
            }
        }
        seen.sort_unstable();
        seen
    }

    /// True when `peer` (a peer of `node`) carries the same packet.
    pub fn same_packet(&self, ix: &Index<'_>, node: Node, peer: &Peer) -> bool {
        match self.class(peer.method) {
            LinkClass::Same => true,
            LinkClass::Related => false,
            LinkClass::Composed => self
                .journey(ix, node)
                .binary_search(&(peer.point, peer.frame))
                .is_ok(),
        }
    }
}

/// The nearest point on one side of a frame that saw the same packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub point: u16,
    pub frame: u32,
    /// Neighbour time − this time, clock corrected (negative upstream).
    pub delta_corrected_ns: i64,
    /// Time from the upstream point to this one, or from this one to the
    /// downstream point: the corrected delta in the packet's direction of
    /// travel (positive unless the clock model errs by more than the transit).
    pub transit_ns: i64,
}

/// Where a packet came from and went next, as seen from one of its frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neighbours {
    pub upstream: Option<Neighbour>,
    pub downstream: Option<Neighbour>,
}

/// The frame's neighbours on the packet's way: the nearest point before it
/// and the nearest after it in path order that saw the same packet (a
/// direct same-packet link with a clock model), oriented by the direction
/// of travel — the side whose copy is earlier, after clock correction, is
/// upstream.  Of several copies at one point (TSO/GSO), the one nearest in
/// time: the latest upstream, the earliest downstream.  `ts_ns` is the
/// frame's own time stamp.
pub fn neighbours(ix: &Index<'_>, links: &Links, point: u16, frame: u32, ts_ns: i64) -> Neighbours {
    // (point, frame, corrected delta) of every same-packet copy with a model.
    let copies: Vec<(u16, u32, i64)> = ix
        .peers(point, frame)
        .filter(|peer| links.class(peer.method) == LinkClass::Same && peer.point != point)
        .filter_map(|peer| {
            let d = ix.corrected_delta(point, frame, &peer, ts_ns)?;
            Some((peer.point, peer.frame, d))
        })
        .collect();
    let nearest_below = copies.iter().map(|c| c.0).filter(|&q| q < point).max();
    let nearest_above = copies.iter().map(|c| c.0).filter(|&q| q > point).min();
    let at = |q: Option<u16>| -> Vec<(u16, u32, i64)> {
        copies.iter().copied().filter(|c| Some(c.0) == q).collect()
    };
    let (lower, higher) = (at(nearest_below), at(nearest_above));
    let mean = |v: &[(u16, u32, i64)]| -> i128 {
        v.iter().map(|x| x.2 as i128).sum::<i128>() / v.len().max(1) as i128
    };
    // Forward (client to server, path order) when the lower side saw it
    // earlier or the higher side later.
    let score = (!lower.is_empty()).then(|| -mean(&lower)).unwrap_or(0)
        + (!higher.is_empty()).then(|| mean(&higher)).unwrap_or(0);
    let (up, down) = if score >= 0 {
        (lower, higher)
    } else {
        (higher, lower)
    };
    let pick = |v: &[(u16, u32, i64)], upstream: bool| -> Option<Neighbour> {
        let best = if upstream {
            v.iter().max_by_key(|x| (x.2, std::cmp::Reverse(x.1)))
        } else {
            v.iter().min_by_key(|x| (x.2, x.1))
        }?;
        Some(Neighbour {
            point: best.0,
            frame: best.1,
            delta_corrected_ns: best.2,
            transit_ns: if upstream {
                best.2.saturating_neg()
            } else {
                best.2
            },
        })
    };
    Neighbours {
        upstream: pick(&up, true),
        downstream: pick(&down, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClockModel, IndexBuilder, PairSpec};

    const T0: i64 = 1_800_000_000_000_000_000;

    /// Three points a-b-c with clocks b = a + 1 s, c = a − 2 s (no drift);
    /// packets: 1 forward a→b→c (10 µs, 20 µs), 2 backward c→b→a, 3 a
    /// GSO packet at b made of two segments at a, 4 a request at b
    /// forwarded by a proxy as another packet at c.
    fn session() -> Vec<u8> {
        let mut ix = IndexBuilder::new();
        let a = ix.add_point("a", "a.pcap", 1).unwrap();
        let b = ix.add_point("b", "b.pcap", 1).unwrap();
        let c = ix.add_point("c", "c.pcap", 1).unwrap();
        let (ob, oc) = (1_000_000_000i64, -2_000_000_000i64);
        let ta = [
            T0,
            T0 + 1000_000,
            T0 + 2_000_000,
            T0 + 2_000_100,
            T0 + 3_000_000,
        ];
        let tb = [
            T0 + ob + 10_000,
            T0 + ob + 1000_000 - 30_000,
            T0 + ob + 2_000_100 + 15_000,
            T0 + ob + 3_000_000 + 10_000,
        ];
        let tc = [
            T0 + oc + 30_000,
            T0 + oc + 1000_000 - 60_000,
            T0 + oc + 3_000_000 + 500_000,
        ];
        for t in ta {
            ix.add_frame(a, t, 0).unwrap();
        }
        for t in tb {
            ix.add_frame(b, t, 0).unwrap();
        }
        for t in tc {
            ix.add_frame(c, t, 0).unwrap();
        }
        let m = |ix: &mut IndexBuilder, p: u16, f: u32, q: u16, g: u32, tp: i64, tq: i64, m: u8| {
            ix.add_match(p, f, q, g, tq - tp, m, 255).unwrap()
        };
        m(&mut ix, a, 1, b, 1, ta[0], tb[0], 2);
        m(&mut ix, b, 1, c, 1, tb[0], tc[0], 2);
        m(&mut ix, a, 1, c, 1, ta[0], tc[0], 9);
        m(&mut ix, a, 2, b, 2, ta[1], tb[1], 2);
        m(&mut ix, b, 2, c, 2, tb[1], tc[1], 2);
        m(&mut ix, a, 3, b, 3, ta[2], tb[2], 4);
        m(&mut ix, a, 4, b, 3, ta[3], tb[2], 4);
        m(&mut ix, a, 5, b, 4, ta[4], tb[3], 2);
        m(&mut ix, b, 4, c, 3, tb[3], tc[2], 7);
        m(&mut ix, a, 5, c, 3, ta[4], tc[2], 9);
        ix.set_method(9, "via").unwrap();
        for (p, q, off) in [(a, b, ob), (a, c, oc), (b, c, oc - ob)] {
            let spec = PairSpec {
                clock: Some(ClockModel::new(off, 0, T0)),
                neighbours: q == p + 1,
                ..Default::default()
            };
            ix.set_pair(p, q, spec).unwrap();
        }
        ix.build()
    }

    #[test]
    fn journeys_follow_same_packet_links_only() {
        let bytes = session();
        let ix = Index::load(&bytes).unwrap();
        let links = Links::new(&ix);
        assert_eq!(links.journey(&ix, (0, 1)), vec![(0, 1), (1, 1), (2, 1)]);
        // Two segments and the GSO packet they became are one journey.
        assert_eq!(links.journey(&ix, (0, 4)), vec![(0, 3), (0, 4), (1, 3)]);
        // Across the proxy: the back packet is another journey.
        assert_eq!(links.journey(&ix, (0, 5)), vec![(0, 5), (1, 4)]);
        let via = |n: Node| ix.peers(n.0, n.1).find(|p| p.method == 9).unwrap();
        assert!(links.same_packet(&ix, (0, 1), &via((0, 1))));
        assert!(!links.same_packet(&ix, (0, 5), &via((0, 5))));
    }

    #[test]
    fn neighbours_follow_the_direction_of_travel() {
        let bytes = session();
        let ix = Index::load(&bytes).unwrap();
        let links = Links::new(&ix);
        let ts = |p: u16, f: u32| ix.frame_time_ns(p, f).unwrap();
        // Forward packet at b: from a (10 µs before), to c (20 µs after).
        let n = neighbours(&ix, &links, 1, 1, ts(1, 1));
        let up = n.upstream.unwrap();
        let down = n.downstream.unwrap();
        assert_eq!((up.point, up.frame, up.transit_ns), (0, 1, 10_000));
        assert_eq!(up.delta_corrected_ns, -10_000);
        assert_eq!((down.point, down.frame, down.transit_ns), (2, 1, 20_000));
        // Backward packet at b: came from c, goes to a.
        let n = neighbours(&ix, &links, 1, 2, ts(1, 2));
        assert_eq!(
            n.upstream.map(|x| (x.point, x.transit_ns)),
            Some((2, 30_000))
        );
        assert_eq!(
            n.downstream.map(|x| (x.point, x.transit_ns)),
            Some((0, 30_000))
        );
        // At a, the first point: only downstream (via is not a neighbour link).
        let n = neighbours(&ix, &links, 0, 1, ts(0, 1));
        assert_eq!(n.upstream, None);
        assert_eq!(n.downstream.map(|x| (x.point, x.frame)), Some((1, 1)));
        // The GSO packet at b: upstream is the later of its two segments.
        let n = neighbours(&ix, &links, 1, 3, ts(1, 3));
        assert_eq!(
            n.upstream.map(|x| (x.frame, x.transit_ns)),
            Some((4, 15_000))
        );
        // The proxy's back packet is no neighbour.
        let n = neighbours(&ix, &links, 1, 4, ts(1, 4));
        assert_eq!(n.downstream, None);
        assert_eq!(n.upstream.map(|x| x.point), Some(0));
    }
}
