//! The ladder diagram (sequence chart) of one connection across every
//! capture point, as inline SVG: one vertical line per point in path
//! order, one line of the chart per packet (time on the first point's
//! clock at the left, what it is at the right), an arrow from each point
//! that saw it to the next one that did, labelled with the one-way delay
//! of that hop, and a red cross where it was not seen (lost, dropped).

use std::fmt::Write as _;

use index::{Index, LossKind};

use super::describe::Dir;
use super::html::escape;
use super::rows::Row;
use crate::units;

const ROW_H: f64 = 24.0;
const TOP: f64 = 46.0;
const LEFT: f64 = 110.0;
const LANES_W: f64 = 640.0;
const WHAT_W: f64 = 330.0;
/// Characters of a packet's description shown beside it.
const WHAT_MAX: usize = 48;

/// The SVG of `rows` (a connection's, in time order).
pub fn svg(ix: &Index<'_>, rows: &[&Row]) -> String {
    let n = ix.point_count().max(2);
    let lane = |p: usize| LEFT + 40.0 + (LANES_W - 80.0) * p as f64 / (n - 1) as f64;
    let width = LEFT + LANES_W + WHAT_W;
    let height = TOP + ROW_H * rows.len() as f64 + 16.0;
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" class=\"ladder\" font-size=\"11\">\
         <title>One connection across the capture points</title>\
         <text x=\"8\" y=\"{}\" font-weight=\"bold\">ms</text>",
        TOP - 24.0
    );
    for p in ix.points() {
        let x = lane(p.index() as usize);
        let _ = write!(
            o,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\
             <line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{height}\" stroke=\"#bbb\"/>",
            TOP - 24.0,
            escape(p.label()),
            TOP - 14.0
        );
    }
    let t0 = rows.first().map_or(0, |r| r.time_ns);
    for (j, r) in rows.iter().enumerate() {
        let y = TOP + ROW_H * j as f64 + ROW_H / 2.0;
        let colour = match r.dir {
            Dir::ToClient => "#9a1f1f",
            _ => "#1f4e9a",
        };
        let _ = write!(
            o,
            "<text x=\"8\" y=\"{:.1}\">{:.3}</text>",
            y + 4.0,
            r.time_ns.saturating_sub(t0) as f64 / 1e6
        );
        let seen: Vec<usize> = (0..r.cells.len())
            .filter(|&p| r.cells[p].is_some())
            .collect();
        for w in seen.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (from, to) = match r.dir {
                Dir::ToClient => (lane(b), lane(a)),
                _ => (lane(a), lane(b)),
            };
            let delay = (b == a + 1)
                .then(|| super::summary::travel_delay(r, a))
                .flatten();
            // The arrow's head: a triangle drawn, not a marker (no url()
            // reference in the page at all).
            let back = if to > from { -7.0 } else { 7.0 };
            let _ = write!(
                o,
                "<line x1=\"{from:.1}\" x2=\"{to:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" \
                 stroke=\"{colour}\" stroke-width=\"1.5\"/><path d=\"M{to:.1},{y:.1} \
                 L{:.1},{:.1} L{:.1},{:.1} z\" fill=\"{colour}\"/>",
                to + back,
                y - 4.0,
                to + back,
                y + 4.0
            );
            if let Some(d) = delay {
                let _ = write!(
                    o,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                    (lane(a) + lane(b)) / 2.0,
                    y - 3.0,
                    units::duration(d).trim_start_matches('+')
                );
            }
        }
        for (p, m) in r.missing.iter().enumerate() {
            let Some(kind) = m else { continue };
            let x = lane(p);
            let why = match kind {
                LossKind::NetworkLoss => "lost on the network before this point",
                LossKind::CaptureDrop => "this capture dropped it",
                LossKind::OutsideCapture => "this capture was not running",
                _ => "not seen here",
            };
            let _ = write!(
                o,
                "<g stroke=\"#c00\" stroke-width=\"2\"><title>{why}</title>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/></g>",
                x - 5.0,
                x + 5.0,
                y - 5.0,
                y + 5.0,
                x - 5.0,
                x + 5.0,
                y + 5.0,
                y - 5.0
            );
        }
        let what: String = r.what.chars().take(WHAT_MAX).collect();
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{} {}</text>",
            LEFT + LANES_W,
            y + 4.0,
            r.dir.arrow(),
            escape(&what)
        );
    }
    o.push_str("</svg>");
    o
}
