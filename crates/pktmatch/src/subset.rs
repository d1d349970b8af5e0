//! One connection across every point: the frames a [`Filter`] picks at the
//! points where its addresses and ports are seen, and everything that
//! belongs to the same connections elsewhere, where NAT and proxies have
//! changed the addresses.
//!
//! From the frames the filter picks (the seeds):
//! 1. their journeys (the same packet at every point, `index::journey`),
//!    and the journeys of the packets linked to them across a full proxy
//!    (the back connection of a proxied request);
//! 2. at each point, every frame of a connection (same 5-tuple, either
//!    direction) one of those frames belongs to — also the packets no other
//!    point saw — and their journeys; repeated until nothing is added.
//!
//! [`Filter`]: crate::filter::Filter

use std::collections::HashSet;

use index::{Index, Links, Node};

/// Most rounds of step 2 (each adds the connections the previous one
/// reached at other points; one connection needs one or two).
const ROUNDS: usize = 8;

/// Which frames are in the subset: per point, per frame (index 0 =
/// frame 1).
pub struct Selection {
    pub frames: Vec<Vec<bool>>,
}

impl Selection {
    pub fn contains(&self, (p, f): Node) -> bool {
        f >= 1
            && self
                .frames
                .get(p as usize)
                .and_then(|v| v.get(f as usize - 1))
                .copied()
                .unwrap_or(false)
    }

    fn add(&mut self, (p, f): Node, added: &mut Vec<Node>) {
        if let Some(slot) = self
            .frames
            .get_mut(p as usize)
            .and_then(|v| v.get_mut((f as usize).wrapping_sub(1)))
        {
            if !*slot {
                *slot = true;
                added.push((p, f));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.frames
            .iter()
            .map(|v| v.iter().filter(|&&s| s).count())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The subset grown from `seeds`.  `conns[p][f - 1]`: the connection hash
/// of frame f of point p (`FlowKey::conn_hash`; 0 for a frame without an IP
/// header, which joins no connection).
pub fn expand(ix: &Index<'_>, links: &Links, seeds: &[Node], conns: &[Vec<u64>]) -> Selection {
    let mut sel = Selection {
        frames: ix
            .points()
            .map(|p| vec![false; p.packets() as usize])
            .collect(),
    };
    let mut added = Vec::new();
    for &seed in seeds {
        for n in links.journey(ix, seed) {
            sel.add(n, &mut added);
            for peer in ix.peers(n.0, n.1) {
                for m in links.journey(ix, (peer.point, peer.frame)) {
                    sel.add(m, &mut added);
                }
            }
        }
    }
    for _ in 0..ROUNDS {
        let mut flows: Vec<HashSet<u64>> = vec![HashSet::new(); conns.len()];
        for &(p, f) in &added {
            let c = conns
                .get(p as usize)
                .and_then(|v| v.get(f as usize - 1))
                .copied()
                .unwrap_or(0);
            if c != 0 {
                flows[p as usize].insert(c);
            }
        }
        added.clear();
        if flows.iter().all(HashSet::is_empty) {
            break;
        }
        let mut reached = Vec::new();
        for (p, set) in flows.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
            for (i, c) in conns[p].iter().enumerate() {
                if set.contains(c) {
                    sel.add((p as u16, i as u32 + 1), &mut reached);
                }
            }
        }
        added.extend(reached.iter().copied());
        for &n in &reached {
            for m in links.journey(ix, n) {
                sel.add(m, &mut added);
            }
        }
    }
    sel
}
