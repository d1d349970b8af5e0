//! What the HTML page shows instead of every row: a summary whose size
//! does not grow with the session.
//!
//! * per hop and direction (`index::hops`): packets, network losses,
//!   capture drops, delay minimum / median / p99 / maximum, and the delay
//!   distribution;
//! * the worst packets: the rows with the longest one-way delay over one
//!   hop;
//! * the worst connections: the rows grouped by the connection of their
//!   first frame (its 5-tuple at the first point that saw the packet),
//!   ranked by their longest hop delay, with their losses and drops;
//! * one connection's rows for the ladder diagram: the one `--connection`
//!   names, else the worst one.

use std::collections::HashMap;

use index::hops::HopStats;
use index::{Index, Links, LossKind};

use super::describe::Dir;
use super::rows::Row;

/// A connection at one point: (point, `FlowKey::conn_hash`).
pub type ConnKey = (u16, u64);

/// The 5-tuple of every frame, and a name for each connection.
#[derive(Default)]
pub struct Connections {
    /// Per point, per frame (index 0 = frame 1): `conn_hash`, 0 without an
    /// IP header.
    pub of_frame: Vec<Vec<u64>>,
    /// `client:port → server:port TCP` by connection, from its first frame.
    pub names: HashMap<ConnKey, String>,
}

impl Connections {
    pub fn of(&self, point: u16, frame: u32) -> u64 {
        self.of_frame
            .get(point as usize)
            .and_then(|v| v.get((frame as usize).wrapping_sub(1)))
            .copied()
            .unwrap_or(0)
    }
}

/// One adjacent pair's delay for a row, in the packet's direction of
/// travel (the row's deltas are later point − earlier point).
pub fn travel_delay(row: &Row, hop: usize) -> Option<i64> {
    let c = row.deltas.get(hop)?.as_ref()?.corrected_ns?;
    Some(match row.dir {
        Dir::ToClient => c.saturating_neg(),
        _ => c,
    })
}

/// A row's longest hop delay: (delay, adjacent pair index).
pub fn worst_hop(row: &Row) -> Option<(i64, usize)> {
    (0..row.deltas.len())
        .filter_map(|h| Some((travel_delay(row, h)?, h)))
        .max()
}

/// A connection's line in the page.
#[derive(Clone, Debug)]
pub struct Connection {
    pub key: ConnKey,
    pub name: String,
    pub rows: usize,
    /// Rows not seen somewhere: network losses, capture drops.
    pub lost: usize,
    pub dropped: usize,
    /// The longest hop delay of its rows, and the hop.
    pub worst: Option<(i64, usize)>,
    /// The median of its rows' longest hop delays.
    pub median: Option<i64>,
}

pub struct Summary {
    pub hops: HopStats,
    /// Row indices, longest hop delay first.
    pub worst_rows: Vec<usize>,
    /// Worst first.
    pub connections: Vec<Connection>,
    /// Connections in all.
    pub connection_count: usize,
    /// The ladder's connection and its rows (in time order; at most
    /// `limit`), and how many rows it has in all.
    pub ladder: Option<(Connection, Vec<usize>, usize)>,
    pub limit: usize,
}

/// The key of a row's connection: the 5-tuple of its first frame.
pub fn row_connection(row: &Row, conns: &Connections) -> Option<ConnKey> {
    let cell = row.cells.get(row.point as usize)?.as_ref()?;
    let c = conns.of(row.point, *cell.frames.first()?);
    (c != 0).then_some((row.point, c))
}

/// Builds the summary of `rows` (in time order) for the frames `in_subset`
/// says are reported (`None`: every frame).
pub fn build(
    ix: &Index<'_>,
    rows: &[Row],
    conns: &Connections,
    in_subset: &dyn Fn(u16, u32) -> bool,
    chosen: Option<ConnKey>,
    limit: usize,
) -> Summary {
    let links = Links::new(ix);
    let mut hops = HopStats::new(ix);
    let mut changed = Vec::new();
    for p in ix.points() {
        for f in 1..=p.packets() {
            if in_subset(p.index(), f) {
                hops.add_frame(ix, &links, (p.index(), f), &mut changed);
                changed.clear();
            }
        }
    }
    let mut worst_rows: Vec<(i64, usize)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((worst_hop(r)?.0, i)))
        .collect();
    worst_rows.sort_unstable_by(|a, b| b.cmp(a));
    let worst_rows = worst_rows.into_iter().take(limit).map(|w| w.1).collect();

    let mut by_conn: HashMap<ConnKey, (Connection, Vec<i64>, Vec<usize>)> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(key) = row_connection(r, conns) else {
            continue;
        };
        let entry = by_conn.entry(key).or_insert_with(|| {
            let name = conns.names.get(&key).cloned().unwrap_or_default();
            let c = Connection {
                key,
                name,
                rows: 0,
                lost: 0,
                dropped: 0,
                worst: None,
                median: None,
            };
            (c, Vec::new(), Vec::new())
        });
        entry.0.rows += 1;
        entry.0.lost += usize::from(r.missing.contains(&Some(LossKind::NetworkLoss)));
        entry.0.dropped += usize::from(r.missing.contains(&Some(LossKind::CaptureDrop)));
        if let Some(w) = worst_hop(r) {
            entry.0.worst = entry.0.worst.max(Some(w));
            entry.1.push(w.0);
        }
        entry.2.push(i);
    }
    let connection_count = by_conn.len();
    let mut all: Vec<(Connection, Vec<usize>)> = by_conn
        .into_values()
        .map(|(mut c, mut delays, rows)| {
            delays.sort_unstable();
            c.median = delays.get(delays.len().saturating_sub(1) / 2).copied();
            (c, rows)
        })
        .collect();
    // Worst first: the longest delay, then the most losses and drops.
    all.sort_by(|a, b| {
        let rank = |c: &Connection| (c.worst.map(|w| w.0), c.lost + c.dropped, c.key);
        rank(&b.0).cmp(&rank(&a.0))
    });
    let ladder = chosen
        .and_then(|k| all.iter().find(|c| c.0.key == k))
        .or_else(|| all.first())
        .map(|(c, rows)| {
            let shown = rows.iter().copied().take(limit).collect();
            (c.clone(), shown, rows.len())
        });
    let connections = all.into_iter().take(limit).map(|c| c.0).collect();
    Summary {
        hops,
        worst_rows,
        connections,
        connection_count,
        ladder,
        limit,
    }
}
