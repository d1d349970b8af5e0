//! An inline SVG scatter plot of per-hop delay over time: one series per
//! adjacent point pair, x = the packet's time (seconds from the first row,
//! first point's clock), y = the corrected delta.  No script, no external
//! file: the report stays one self-contained page.

use std::fmt::Write as _;

use super::html::escape;

/// One series: its name and (x seconds, y ns) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, i64)>,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 70.0;

/// Series colours (distinguishable, also in grey print).
pub const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// Tick positions for [lo, hi]: about `n` round steps (1, 2, 5 × 10^k).
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    // Integer multiples of the step: no accumulated rounding error.
    let k0 = (lo / step - 1e-9).ceil() as i64;
    let k1 = (hi / step + 1e-9).floor() as i64;
    (k0..=k1.min(k0 + 100))
        .map(|k| if k == 0 { 0.0 } else { k as f64 * step })
        .collect()
}

/// The unit that suits the largest magnitude: (divisor in ns, name).
fn unit(max_abs_ns: f64) -> (f64, &'static str) {
    if max_abs_ns < 1e3 {
        (1.0, "ns")
    } else if max_abs_ns < 1e6 {
        (1e3, "µs")
    } else if max_abs_ns < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// Keeps at most the lowest and highest point per pixel column, so a
/// million-row report still draws a few thousand marks.
fn thin(points: &[(f64, i64)], x_of: impl Fn(f64) -> f64) -> Vec<(f64, i64)> {
    type Point = (f64, i64);
    // Per pixel column: its lowest and highest point.
    let mut cols: std::collections::BTreeMap<i64, (Point, Point)> = Default::default();
    for &p in points {
        let c = x_of(p.0).round() as i64;
        let e = cols.entry(c).or_insert((p, p));
        if p.1 < e.0 .1 {
            e.0 = p;
        }
        if p.1 > e.1 .1 {
            e.1 = p;
        }
    }
    let mut out = Vec::with_capacity(cols.len() * 2);
    for (lo, hi) in cols.into_values() {
        out.push(lo);
        if hi != lo {
            out.push(hi);
        }
    }
    out
}

/// The SVG element (empty-plot message when no series has a point).
pub fn svg(series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, i64::MAX, i64::MIN);
    let mut any = false;
    for &(x, y) in all {
        any = true;
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" class=\"plot\">\
         <title>Per-hop corrected delay over time</title>"
    );
    if !any {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no corrected delays to plot \
             (no clock models, or no packet seen at two adjacent points)</text></svg>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return o;
    }
    // Zero is always in view: delays are compared with it.
    let (ylo, yhi) = ((y0.min(0)) as f64, (y1.max(0)) as f64);
    let (ylo, yhi) = if yhi > ylo {
        (ylo, yhi)
    } else {
        (ylo - 1.0, yhi + 1.0)
    };
    let pad = (yhi - ylo) * 0.05;
    let (ylo, yhi) = (ylo - pad, yhi + pad);
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 0.5, x1 + 0.5)
    };
    let (div, uname) = unit(ylo.abs().max(yhi.abs()));
    let pw = WIDTH - LEFT - RIGHT;
    let ph = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let py = |y: f64| TOP + (yhi - y) / (yhi - ylo) * ph;

    let _ = write!(
        o,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"#fff\" stroke=\"#999\"/>"
    );
    for t in ticks(ylo / div, yhi / div, 6) {
        let y = py(t * div);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            LEFT + pw,
            if t == 0.0 { "#666" } else { "#e4e4e4" },
            LEFT - 6.0,
            y + 4.0,
            trim_number(t)
        );
    }
    for t in ticks(x0, x1, 8) {
        let x = px(t);
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#f0f0f0\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            TOP + ph,
            TOP + ph + 16.0,
            trim_number(t)
        );
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">time (s, first point's clock)</text>\
         <text x=\"14\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" \
         transform=\"rotate(-90 14 {})\">corrected delay ({uname})</text>",
        LEFT + pw / 2.0,
        TOP + ph + 34.0,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(o, "<g fill=\"{colour}\"><title>{}</title>", escape(&s.name));
        for (x, y) in thin(&s.points, px) {
            let _ = write!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\"/>",
                px(x),
                py(y as f64)
            );
        }
        o.push_str("</g>");
        let lx = LEFT + 10.0 + 180.0 * i as f64;
        let ly = HEIGHT - 12.0;
        let _ = write!(
            o,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{ly}\" font-size=\"12\">{} ({})</text>",
            ly - 9.0,
            lx + 14.0,
            escape(&s.name),
            s.points.len()
        );
    }
    o.push_str("</svg>");
    o
}

/// A tick value without float noise: `0.5`, `12`, `-3.25`.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(-0.3, 0.3, 6);
        assert_eq!(t.len(), 7);
        assert!((t[0] + 0.3).abs() < 1e-9 && t[3] == 0.0);
        assert_eq!(ticks(5.0, 5.0, 4), vec![5.0]);
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(12.0), "12");
        assert_eq!(trim_number(-0.0), "0");
    }

    #[test]
    fn svg_is_escaped_and_complete() {
        let s = svg(&[Series {
            name: "a<b → c".into(),
            points: vec![(0.0, 30_000), (1.0, 31_000), (2.0, -500)],
        }]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("a&lt;b → c (3)"));
        assert_eq!(s.matches("<circle").count(), 3);
        assert!(s.contains("corrected delay (µs)"));
        let empty = svg(&[]);
        assert!(empty.contains("no corrected delays"));
    }
}
