//! The rows of the packet flow summary: one per packet as it travelled —
//! the frames at every point that the index links, directly or through
//! other points (client #7 = wan #5 = dc #4 is one row) — plus packets seen
//! at one point and lost before another.  Segments that TSO/GSO merged at a
//! later point get a row each ([`split`]).  Rows are put in time order on the
//! first point's clock (each point's time converted with the clock models),
//! so the rows of different points interleave as the packets did.

use std::collections::HashMap;

use index::{Index, LossKind};

use super::describe::{Describer, Dir, Frame};

/// (point, frame).
pub type Node = (u16, u32);

/// Groups of frames that carry one packet: connected components of the
/// peer links, plus lone frames that have LOST entries.  Each group sorted
/// by (point, frame); groups in no particular order.
pub fn groups(ix: &Index<'_>) -> Vec<Vec<Node>> {
    let mut id: HashMap<Node, usize> = HashMap::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    fn node(
        n: Node,
        id: &mut HashMap<Node, usize>,
        nodes: &mut Vec<Node>,
        parent: &mut Vec<usize>,
    ) -> usize {
        *id.entry(n).or_insert_with(|| {
            nodes.push(n);
            parent.push(parent.len());
            parent.len() - 1
        })
    }
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]]; // path halving
            i = parent[i];
        }
        i
    }
    for p in ix.points() {
        let a = p.index();
        for frame in 1..=p.packets() {
            let mut peers = ix.peers(a, frame).peekable();
            let lost = ix.lost(a, frame).len() > 0;
            if peers.peek().is_none() && !lost {
                continue;
            }
            let x = node((a, frame), &mut id, &mut nodes, &mut parent);
            for peer in peers {
                let y = node((peer.point, peer.frame), &mut id, &mut nodes, &mut parent);
                let (rx, ry) = (root(&mut parent, x), root(&mut parent, y));
                if rx != ry {
                    parent[rx.max(ry)] = rx.min(ry);
                }
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<Node>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(*n);
    }
    let mut out: Vec<Vec<Node>> = by_root.into_values().collect();
    for g in &mut out {
        g.sort_unstable();
    }
    out
}

/// Splits a group whose first point has several frames (segments that
/// TSO/GSO merged further on) into one row per frame there: each row takes
/// the frames of later points linked to a frame already in it from an
/// earlier point, so a merged segment appears in each row it carries.
/// Frames no row took join the first row holding one of their peers.
pub fn split(ix: &Index<'_>, group: &[Node]) -> Vec<Vec<Node>> {
    let Some(&(p0, _)) = group.first() else {
        return Vec::new();
    };
    let seeds: Vec<Node> = group.iter().copied().filter(|n| n.0 == p0).collect();
    if seeds.len() < 2 {
        return vec![group.to_vec()];
    }
    let mut rows: Vec<Vec<Node>> = seeds.iter().map(|s| vec![*s]).collect();
    // The group is sorted by (point, frame): later points come later.
    for &(q, f) in group.iter().filter(|n| n.0 != p0) {
        for row in &mut rows {
            let linked = ix
                .peers(q, f)
                .any(|peer| peer.point < q && row.contains(&(peer.point, peer.frame)));
            if linked {
                row.push((q, f));
            }
        }
    }
    for &(q, f) in group {
        if rows.iter().any(|r| r.contains(&(q, f))) {
            continue;
        }
        let home = rows
            .iter()
            .position(|r| {
                ix.peers(q, f)
                    .any(|peer| r.contains(&(peer.point, peer.frame)))
            })
            .unwrap_or(0);
        rows[home].push((q, f));
    }
    for r in &mut rows {
        r.sort_unstable();
    }
    rows
}

/// The frames of one point in a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Frame numbers (several where TSO/GSO made one segment of many).
    pub frames: Vec<u32>,
    /// Time stamp of the first frame, ns since the epoch.
    pub ts_ns: i64,
    /// The same, from the point's first packet.
    pub rel_ns: i64,
    pub client_port: Option<u16>,
}

/// A delta between adjacent points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delta {
    /// Time at the later point − time at the earlier, as captured.
    pub raw_ns: i64,
    /// The same with the clocks' difference taken out (None: no clock
    /// model for the pair).
    pub corrected_ns: Option<i64>,
}

/// One row of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub dir: Dir,
    pub what: String,
    /// Per point (path order); None where the packet was not seen.
    pub cells: Vec<Option<Cell>>,
    /// Per point: the packet should have been there and was not, and why
    /// (the index's LOST entries: network loss, capture drop, outside the
    /// capture, uncertain).
    pub missing: Vec<Option<LossKind>>,
    /// Per adjacent pair (p, p+1).
    pub deltas: Vec<Option<Delta>>,
    /// Sort key: the row's time on the first point's clock.
    pub time_ns: i64,
    /// The point whose frame describes the row (the first one it was seen at).
    pub point: u16,
}

/// Converts a time on point `from`'s clock to point 0's, with the direct
/// clock model (the clock segment of that time, when a clock stepped),
/// else through adjacent points, else unchanged.
pub fn to_first_clock(ix: &Index<'_>, from: u16, t: i64) -> i64 {
    if from == 0 {
        return t;
    }
    if let Some(m) = ix.clock_at_time(from, t, 0) {
        return m.peer_time(t);
    }
    let mut x = t;
    for q in (1..=from).rev() {
        match ix.clock_at_time(q, x, q - 1) {
            Some(m) => x = m.peer_time(x),
            None => return t,
        }
    }
    x
}

/// The delta from the frames of `a` to those of `b` in one row: from a
/// direct peer link when the index has one (its frame pairing and raw
/// delta), else from the first frames' time stamps; corrected with the
/// pair's clock model at a's time stamp.
fn delta(
    ix: &Index<'_>,
    a: u16,
    ca: &Cell,
    b: u16,
    cb: &Cell,
    time: &dyn Fn(Node) -> Option<i64>,
) -> Delta {
    for &fa in &ca.frames {
        if let Some(peer) = ix
            .peers(a, fa)
            .find(|p| p.point == b && cb.frames.contains(&p.frame))
        {
            let ts = time((a, fa)).unwrap_or(ca.ts_ns);
            return Delta {
                raw_ns: peer.delta_raw_ns,
                corrected_ns: ix.corrected_delta(a, fa, &peer, ts),
            };
        }
    }
    let raw = cb.ts_ns.saturating_sub(ca.ts_ns);
    Delta {
        raw_ns: raw,
        corrected_ns: ca
            .frames
            .first()
            .map_or_else(|| ix.clock(a, b), |&f| ix.clock_at(a, f, b))
            .map(|m| index::corrected_delta(raw, ca.ts_ns, &m)),
    }
}

/// Builds the rows from the groups and the described frames (one
/// [`Describer`] per point, with the frames it kept), in time order.
pub fn build(
    ix: &Index<'_>,
    groups: &[Vec<Node>],
    describers: &[Describer],
    frames: &HashMap<Node, Frame>,
) -> Vec<Row> {
    let n = ix.point_count();
    let first_ts: Vec<i64> = ix.points().map(|p| p.first_ts_ns()).collect();
    let time = |node: Node| frames.get(&node).map(|f| f.ts_ns);
    let mut rows = Vec::with_capacity(groups.len());
    for g in groups {
        let Some(&(p0, f0)) = g.first() else { continue };
        let mut cells: Vec<Option<Cell>> = vec![None; n];
        for &(p, f) in g {
            let Some(info) = frames.get(&(p, f)) else {
                continue;
            };
            match &mut cells[p as usize] {
                Some(c) => c.frames.push(f),
                slot => {
                    *slot = Some(Cell {
                        frames: vec![f],
                        ts_ns: info.ts_ns,
                        rel_ns: info.ts_ns.saturating_sub(first_ts[p as usize]),
                        client_port: info.client_port,
                    })
                }
            }
        }
        let mut missing: Vec<Option<LossKind>> = vec![None; n];
        for &(p, f) in g {
            for l in ix.lost(p, f) {
                // A LOST entry for a point where the group was seen after
                // all (another frame) is not shown.
                if let Some(x) = missing.get_mut(l.point as usize) {
                    if cells[l.point as usize].is_none() {
                        // Two frames of the row may disagree (one saw the
                        // capture drop, one only the absence): the first
                        // kind in code order.
                        *x = Some(x.map_or(l.kind, |k| k.min(l.kind)));
                    }
                }
            }
        }
        let (dir, what) = match (frames.get(&(p0, f0)), describers.get(p0 as usize)) {
            (Some(info), Some(d)) => {
                let mut what = d.label(info);
                let more = cells[p0 as usize]
                    .as_ref()
                    .map_or(0, |c| c.frames.len() - 1);
                if more > 0 {
                    what.push_str(&format!(" (+{more} more at this point)"));
                }
                (info.dir, what)
            }
            _ => (Dir::Unknown, String::new()),
        };
        let deltas = (0..n.saturating_sub(1))
            .map(|a| match (&cells[a], &cells[a + 1]) {
                (Some(ca), Some(cb)) => Some(delta(ix, a as u16, ca, a as u16 + 1, cb, &time)),
                _ => None,
            })
            .collect();
        let t0 = cells[p0 as usize].as_ref().map_or(0, |c| c.ts_ns);
        rows.push(Row {
            dir,
            what,
            cells,
            missing,
            deltas,
            time_ns: to_first_clock(ix, p0, t0),
            point: p0,
        });
    }
    rows.sort_by(|x, y| {
        let fx = x.cells[x.point as usize].as_ref().map(|c| c.frames[0]);
        let fy = y.cells[y.point as usize].as_ref().map(|c| c.frames[0]);
        (x.time_ns, x.point, fx).cmp(&(y.time_ns, y.point, fy))
    });
    rows
}
