//! `tshark -z pktmatch,hops` and Statistics > pktmatch: Hops between
//! capture points in the GUI: per pair of neighbouring points and direction
//! of travel, the packets matched, network losses, capture drops, one-way
//! delay minimum / median / p99 / maximum in milliseconds, and the clock
//! offset and drift the delays were corrected with.
//!
//! The post-dissector queues one record per frame it identified (its point
//! and frame there) on the `pktmatch` tap; the table adds each frame's
//! journey to `index::hops::HopStats`, which counts every link and loss
//! once.  So the table covers the packets of the open capture (all of them
//! in a merged capture), the hops beyond it included, and a display filter
//! given to the table (`-z pktmatch,hops,FILTER`, the dialog's filter box)
//! selects packets, not hops.  One registration gives both (wireshark_ffi::
//! stats).

use std::sync::Arc;

use index::hops::{Delays, HopStats};
use wireshark_ffi::packet::Packet;
use wireshark_ffi::stats::{Cell, Column, Kind, StatTable, TableModel, Tap};

use super::session;
use super::source::Loaded;

/// What the post-dissector tells the table about one frame.
#[derive(Clone, Copy)]
pub struct Record {
    point: u16,
    frame: u32,
}

static TAP: Tap<Record> = Tap::new(c"pktmatch");

const COLUMNS: &[Column] = &[
    Column::new("Hop", Kind::Text, 20),
    Column::new("Packets", Kind::Uint, 7),
    Column::new("Lost", Kind::Uint, 4),
    Column::new("Drops", Kind::Uint, 5),
    Column::new("Min ms", Kind::Text, 8),
    Column::new("Median ms", Kind::Text, 9),
    Column::new("p99 ms", Kind::Text, 8),
    Column::new("Max ms", Kind::Text, 8),
    Column::new("Clock offset", Kind::Text, 15),
    Column::new("Drift", Kind::Text, 12),
];

static TABLE: StatTable<Model> = StatTable::new(
    c"pktmatch: Hops between capture points",
    c"Hops",
    c"pktmatch,hops",
    &TAP,
    COLUMNS,
);

pub fn register() {
    TAP.register();
    TABLE.register();
}

/// Queues the frame for the table, when a table listens.
pub fn tap(packet: &Packet, point: u16, frame: u32) {
    if TAP.is_listened() {
        TAP.queue(packet, Record { point, frame });
    }
}

#[derive(Default)]
struct Model {
    /// The index the statistics are of, and the statistics.
    state: Option<(Arc<Loaded>, HopStats)>,
    /// Rows the table has (never fewer: rows are append-only).
    rows: usize,
}

impl TableModel for Model {
    type Record = Record;

    fn add(&mut self, record: &Record, changed: &mut Vec<usize>) {
        let Some(loaded) = session::current_index() else {
            return;
        };
        let fresh = match &self.state {
            Some((l, _)) => !Arc::ptr_eq(l, &loaded),
            None => true,
        };
        if fresh {
            let stats = HopStats::new(loaded.index());
            self.rows = self.rows.max(stats.hops().len());
            changed.extend(0..self.rows);
            self.state = Some((loaded, stats));
        }
        if let Some((loaded, stats)) = &mut self.state {
            let node = (record.point, record.frame);
            stats.add_frame(loaded.index(), &loaded.lookup().links, node, changed);
        }
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn row(&self, index: usize) -> Vec<Cell> {
        let Some((loaded, stats)) = &self.state else {
            return blank();
        };
        let Some(hop) = stats.hops().get(index) else {
            return blank();
        };
        let ix = loaded.index();
        let label = |p: u16| ix.point(p).map_or("?", |pt| pt.label());
        let ms = |v: Option<u64>| Cell::Text(v.map_or_else(|| "-".into(), milliseconds));
        let d: &Delays = &hop.delays;
        let (offset, drift) = match ix.clock(hop.from, hop.to) {
            Some(m) => {
                let steps = ix.clock_segments(hop.from, hop.to).len().saturating_sub(1);
                let stepped = if steps > 0 {
                    format!(" ({steps} step{})", if steps > 1 { "s" } else { "" })
                } else {
                    String::new()
                };
                (
                    format!("{}{stepped}", seconds(m.offset_ns())),
                    format!("{:+.3} ppm", m.drift_ppb() as f64 / 1000.0),
                )
            }
            None => ("no model".into(), "-".into()),
        };
        vec![
            Cell::Text(format!("{} -> {}", label(hop.from), label(hop.to))),
            Cell::Uint(clamp(hop.matched)),
            Cell::Uint(clamp(hop.network_losses)),
            Cell::Uint(clamp(hop.capture_drops)),
            ms(d.min()),
            ms(d.quantile(0.5)),
            ms(d.quantile(0.99)),
            ms(d.max()),
            Cell::Text(offset),
            Cell::Text(drift),
        ]
    }
}

fn blank() -> Vec<Cell> {
    let mut cells = vec![Cell::Text(String::new())];
    cells.extend([Cell::Uint(0), Cell::Uint(0), Cell::Uint(0)]);
    cells.extend((4..COLUMNS.len()).map(|_| Cell::Text(String::new())));
    cells
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// ns as milliseconds to the microsecond: one unit down the column, so
/// rows compare at a glance.
fn milliseconds(ns: u64) -> String {
    let us = (ns + 500) / 1000;
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// A clock offset in seconds to the microsecond, signed.
fn seconds(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    let us = (ns.unsigned_abs() + 500) / 1000;
    format!("{sign}{}.{:06} s", us / 1_000_000, us % 1_000_000)
}
