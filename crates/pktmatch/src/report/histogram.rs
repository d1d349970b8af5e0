//! The delay distribution of every hop as inline SVG: one line per hop and
//! direction, the number of packets (y) per delay bin on a logarithmic
//! axis (x), from `index::hops::Delays` — a few hundred marks whatever the
//! number of packets.

use std::fmt::Write as _;

use index::hops::Hop;
use index::Index;

use super::html::escape;
use super::plot::COLOURS;
use crate::units;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 76.0;
const BINS: usize = 48;

/// The SVG of the hops' delay distributions.
pub fn svg(ix: &Index<'_>, hops: &[Hop]) -> String {
    let with: Vec<&Hop> = hops.iter().filter(|h| h.delays.count() > 0).collect();
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" class=\"plot\">\
         <title>One-way delay distribution per hop</title>"
    );
    let lo = with.iter().filter_map(|h| h.delays.min()).min();
    let hi = with.iter().filter_map(|h| h.delays.max()).max();
    let (Some(lo), Some(hi)) = (lo, hi) else {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no corrected delays (no clock \
             models, or no packet seen at two neighbouring points)</text></svg>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return o;
    };
    // One log axis for all: the decades around the delays seen.
    let (l0, l1) = (
        (lo.max(1) as f64).log10().floor(),
        (hi.max(1) as f64)
            .log10()
            .ceil()
            .max((lo.max(1) as f64).log10().floor() + 1.0),
    );
    let pw = WIDTH - LEFT - RIGHT;
    let ph = HEIGHT - TOP - BOTTOM;
    let px = |ns: f64| LEFT + (ns.max(1.0).log10() - l0) / (l1 - l0) * pw;
    let binned: Vec<Vec<(f64, u64)>> = with
        .iter()
        .map(|h| {
            // Bins of equal width on the common axis.
            let mut counts = vec![0u64; BINS];
            for (edge, c) in h.delays.log_bins(BINS * 4) {
                let x = ((edge.max(1) as f64).log10() - l0) / (l1 - l0);
                let i = ((x * BINS as f64) as usize).min(BINS - 1);
                counts[i] += c;
            }
            counts
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        10f64.powf(l0 + (l1 - l0) * (i as f64 + 0.5) / BINS as f64),
                        c,
                    )
                })
                .collect()
        })
        .collect();
    let ymax = binned
        .iter()
        .flatten()
        .map(|b| b.1)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let py = |c: f64| TOP + ph - c / ymax * ph;
    let _ = write!(
        o,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"#fff\" stroke=\"#999\"/>"
    );
    let mut decade = l0;
    while decade <= l1 + 1e-9 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powf(decade);
            let x = px(v);
            if x > LEFT + pw + 0.5 {
                break;
            }
            let _ = write!(
                o,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#eee\"/>\
                 <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                TOP + ph,
                TOP + ph + 15.0,
                units::duration(v as i64).trim_start_matches('+')
            );
        }
        decade += 1.0;
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">one-way delay \
         (log scale)</text><text x=\"14\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" \
         transform=\"rotate(-90 14 {})\">packets</text>",
        LEFT + pw / 2.0,
        TOP + ph + 32.0,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    let label = |p: u16| ix.point(p).map_or("?", |pt| pt.label());
    for (i, (h, bins)) in with.iter().zip(&binned).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = bins
            .iter()
            .map(|&(v, c)| format!("{:.1},{:.1}", px(v), py(c as f64)))
            .collect();
        let name = format!("{} → {}", label(h.from), label(h.to));
        let _ = write!(
            o,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" points=\"{}\">\
             <title>{}</title></polyline>",
            pts.join(" "),
            escape(&name)
        );
        let lx = LEFT + 10.0 + 150.0 * (i % 6) as f64;
        let ly = HEIGHT - 22.0 + 14.0 * (i / 6) as f64;
        let _ = write!(
            o,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{ly}\" font-size=\"12\">{} ({})</text>",
            ly - 9.0,
            lx + 14.0,
            escape(&name),
            h.delays.count()
        );
    }
    o.push_str("</svg>");
    o
}
