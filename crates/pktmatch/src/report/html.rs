//! The packet flow summary as one self-contained HTML page: inline CSS,
//! an inline SVG plot of per-hop delay, the points and clock models, then
//! the table laid out like the seed's (direction, what, per point frame /
//! time / client port, corrected delta between adjacent points).  No
//! script and nothing fetched: it opens the same from a mail attachment.
//! Every string that comes from a capture or the index is escaped.

use std::io::{self, Write};

use index::Index;

use super::describe::Dir;
use super::plot::{self, Series};
use super::rows::Row;
use crate::units;

/// Text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:2px 6px;white-space:nowrap}
th{background:#f2f2f2}
td.n,td.d,td.f,td.p{text-align:right;font-variant-numeric:tabular-nums}
td.t{font-variant-numeric:tabular-nums}
tr.c2s td.dir{color:#1f4e9a}tr.s2c td.dir{color:#9a1f1f}
tr.s2c{background:#fbf6f6}
td.lost{color:#b00;font-style:italic;text-align:center}
td.raw{color:#888}
td.what{max-width:32em;overflow:hidden;text-overflow:ellipsis}
.note{color:#555;font-size:12px}
svg.plot{max-width:100%;height:auto}
";

/// Series of per-hop delays per adjacent pair, x in seconds from the first
/// row: the corrected delta in the packet's direction of travel (b − a for
/// client-to-server packets, a − b for the answers), so both directions
/// show the hop's delay as a positive time.
fn series(ix: &Index<'_>, rows: &[Row]) -> Vec<Series> {
    let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
    let t0 = rows.first().map_or(0, |r| r.time_ns);
    (0..labels.len().saturating_sub(1))
        .map(|a| Series {
            name: format!("{} → {}", labels[a], labels[a + 1]),
            points: rows
                .iter()
                .filter_map(|r| {
                    let c = r.deltas.get(a)?.as_ref()?.corrected_ns?;
                    let delay = match r.dir {
                        Dir::ToClient => c.saturating_neg(),
                        _ => c,
                    };
                    Some((r.time_ns.saturating_sub(t0) as f64 / 1e9, delay))
                })
                .collect(),
        })
        .collect()
}

fn frames_text(frames: &[u32]) -> String {
    let v: Vec<String> = frames.iter().map(u32::to_string).collect();
    v.join(", ")
}

/// Writes the page.
pub fn write(ix: &Index<'_>, session: &str, rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>pktmatch packet flow summary: {}</title><style>{STYLE}</style></head><body>",
        escape(session)
    )?;
    writeln!(
        out,
        "<h1>Packet flow summary</h1><p class=\"note\">Index {} · {} rows · times UTC · \
         written by pktmatch {}</p>",
        escape(session),
        rows.len(),
        env!("CARGO_PKG_VERSION")
    )?;

    writeln!(out, "<h2>Capture points</h2><table><tr><th>#</th><th>point</th><th>file</th><th>frames</th><th>first packet</th><th>capture drops</th><th>time stamps</th><th>arrived in</th></tr>")?;
    for p in ix.points() {
        let encaps = index::points::encap::names(p.encapsulations());
        writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            p.index(),
            escape(p.label()),
            escape(p.path()),
            p.packets(),
            units::datetime(p.first_ts_ns()),
            p.capture_drops(),
            match p.clock_resolution_ns() {
                0 => String::new(),
                r => format!("to {}", units::resolution(r)),
            },
            escape(&encaps.join(", "))
        )?;
    }
    writeln!(out, "</table>")?;
    if let Some(s) = ix.session() {
        writeln!(
            out,
            "<h2>Path</h2><p>Order {}; {}.</p><ul>",
            match s.order() {
                index::OrderSource::Inferred => "inferred from the data",
                index::OrderSource::Stated => "stated with --path, checked against the data",
                _ => "as given",
            },
            s.topology().name().replace('-', " ")
        )?;
        for l in s
            .evidence()
            .lines()
            .chain(s.warnings().lines())
            .chain(s.clocks().lines())
        {
            writeln!(out, "<li>{}</li>", escape(l))?;
        }
        writeln!(out, "</ul>")?;
    }

    writeln!(out, "<h2>Clocks</h2><table><tr><th>pair</th><th>offset</th><th>drift</th><th>error bound</th><th>reference (first point's clock)</th><th>matched</th><th>lost →</th><th>lost ←</th><th>dropped by b</th><th>dropped by a</th></tr>")?;
    for q in ix.pairs() {
        let name = |i: u16| ix.point(i).map_or("?", |p| p.label());
        let (off, drift, refr) = match q.clock() {
            Some(m) => (
                units::duration(m.offset_ns()),
                format!("{:+.3} ppm", m.drift_ppb() as f64 / 1000.0),
                units::datetime(m.reference_ns()),
            ),
            None => ("no model".into(), String::new(), String::new()),
        };
        writeln!(
            out,
            "<tr><td>{} → {}</td><td class=\"d\">{off}</td><td class=\"d\">{drift}</td>\
             <td class=\"d\">±{}</td><td class=\"t\">{refr}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            escape(name(q.a())),
            escape(name(q.b())),
            units::duration(q.offset_error_ns().min(i64::MAX as u64) as i64)
                .trim_start_matches('+'),
            q.matched(),
            q.lost_a_to_b(),
            q.lost_b_to_a(),
            q.missing().dropped[0],
            q.missing().dropped[1]
        )?;
        // The clocks stepped: each later segment, where it starts.
        let segs: Vec<index::ClockSegment> = ix.clock_segments(q.a(), q.b()).collect();
        for w in segs.windows(2) {
            let s = &w[1];
            writeln!(
                out,
                "<tr><td></td><td colspan=\"9\" class=\"note\">clock step {} at {} on {}'s \
                 clock ({} frame {}, {} frame {}); from there offset {}, drift {:+.3} ppm, \
                 error bound ±{}</td></tr>",
                units::duration(s.step_from(&w[0])),
                units::datetime(s.from_ns),
                escape(name(q.a())),
                escape(name(q.a())),
                s.a_from_frame,
                escape(name(q.b())),
                s.b_from_frame,
                units::duration(s.model.difference_at(s.from_ns)),
                s.model.drift_ppb() as f64 / 1000.0,
                units::duration(s.offset_error_ns.min(i64::MAX as u64) as i64)
                    .trim_start_matches('+'),
            )?;
        }
    }
    writeln!(out, "</table>")?;

    writeln!(
        out,
        "<h2>Per-hop delay over time</h2><p class=\"note\">The time each packet took from \
         one point to the next in its direction of travel: the corrected delta between \
         adjacent points (clock offset and drift taken out), sign turned for packets \
         going back to the client.  The table's deltas are later point − earlier point, \
         negative for those.</p>{}",
        plot::svg(&series(ix, rows))
    )?;

    writeln!(out, "<h2>Packets</h2><table><thead><tr><th rowspan=\"2\">#</th><th rowspan=\"2\">dir</th><th rowspan=\"2\">what</th>")?;
    for l in &labels {
        writeln!(out, "<th colspan=\"3\">{}</th>", escape(l))?;
    }
    for w in labels.windows(2) {
        writeln!(
            out,
            "<th rowspan=\"2\">Δ {} → {}</th>",
            escape(w[0]),
            escape(w[1])
        )?;
    }
    write!(out, "</tr><tr>")?;
    for _ in &labels {
        write!(out, "<th>frame</th><th>time</th><th>client port</th>")?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for (i, r) in rows.iter().enumerate() {
        let class = match r.dir {
            Dir::ToServer => "c2s",
            Dir::ToClient => "s2c",
            Dir::Unknown => "",
        };
        write!(
            out,
            "<tr class=\"{class}\"><td class=\"n\">{}</td><td class=\"dir\">{}</td><td class=\"what\" title=\"{}\">{}</td>",
            i + 1,
            r.dir.arrow(),
            escape(&r.what),
            escape(&r.what)
        )?;
        for (c, missing) in r.cells.iter().zip(&r.missing) {
            match c {
                Some(c) => write!(
                    out,
                    "<td class=\"f\">{}</td><td class=\"t\" title=\"{} UTC, {} s from the point's first packet\">{}</td><td class=\"p\">{}</td>",
                    frames_text(&c.frames),
                    units::datetime(c.ts_ns),
                    units::seconds(c.rel_ns),
                    units::time_of_day(c.ts_ns),
                    c.client_port.map_or_else(String::new, |p| p.to_string())
                )?,
                None => match missing {
                    Some(k) => write!(
                        out,
                        "<td colspan=\"3\" class=\"lost {}\">not seen ({})</td>",
                        k.name(),
                        crate::annotate::why_not_seen(*k)
                    )?,
                    None => write!(out, "<td></td><td></td><td></td>")?,
                },
            }
        }
        for d in &r.deltas {
            match d {
                Some(d) => match d.corrected_ns {
                    Some(c) => write!(
                        out,
                        "<td class=\"d\" title=\"raw {}\">{}</td>",
                        units::duration(d.raw_ns),
                        units::duration(c)
                    )?,
                    None => write!(
                        out,
                        "<td class=\"d raw\" title=\"no clock model: raw delta\">{}</td>",
                        units::duration(d.raw_ns)
                    )?,
                },
                None => write!(out, "<td></td>")?,
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table></body></html>")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(frames_text(&[3, 4, 5]), "3, 4, 5");
    }
}
