//! The packet flow summary as one self-contained HTML page whose size does
//! not grow with the session (`summary`): the per-hop table (packets,
//! losses, drops, delays), the delay distribution and the delay over time
//! (inline SVG), the worst packets and connections (`--limit` each), a
//! ladder diagram of one connection across every point, then the points,
//! path and clock models.  Rows are laid out like the seed's table
//! (direction, what, per point frame / time / client port, corrected delta
//! between adjacent points); every row is in the CSV (`--csv`).  No script
//! and nothing fetched: it opens the same from a mail attachment.  Every
//! string that comes from a capture or the index is escaped.

use std::io::{self, Write};

use index::Index;

use super::describe::Dir;
use super::plot::{self, Series};
use super::rows::Row;
use super::summary::{self, Summary};
use super::{histogram, ladder};
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
svg.ladder{max-width:100%;height:auto;font-family:system-ui,sans-serif}
td.worst{font-weight:bold}
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

/// What the page says about how it was made.
pub struct Page<'a> {
    pub session: &'a str,
    /// The `--connection` filter, if any.
    pub connection: Option<&'a str>,
}

/// Writes the page.
pub fn write(
    ix: &Index<'_>,
    page: &Page<'_>,
    rows: &[Row],
    summary: &Summary,
    out: &mut dyn Write,
) -> io::Result<()> {
    let session = page.session;
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>pktmatch packet flow summary: {}</title><style>{STYLE}</style></head><body>",
        escape(session)
    )?;
    let subset = match page.connection {
        Some(f) => format!(" · connections <code>{}</code> at every point", escape(f)),
        None => String::new(),
    };
    writeln!(
        out,
        "<h1>Packet flow summary</h1><p class=\"note\">Index {} · {} packets (rows) in {} \
         connections{subset} · times UTC · written by pktmatch {}.  Every row, with its frames \
         and times at every point: <code>pktmatch report {} --csv FILE</code>.</p>",
        escape(session),
        rows.len(),
        summary.connection_count,
        env!("CARGO_PKG_VERSION"),
        escape(session)
    )?;
    hops_table(ix, summary, out)?;
    writeln!(
        out,
        "<h2>Delay distribution</h2><p class=\"note\">Packets per one-way delay, per hop \
         and direction (corrected with the pair's clock model; log scale).</p>{}",
        histogram::svg(ix, summary.hops.hops())
    )?;
    writeln!(
        out,
        "<h2>Per-hop delay over time</h2><p class=\"note\">The time each packet took from \
         one point to the next in its direction of travel: the corrected delta between \
         adjacent points (clock offset and drift taken out), sign turned for packets \
         going back to the client.  The tables' deltas are later point − earlier point, \
         negative for those.</p>{}",
        plot::svg(&series(ix, rows))
    )?;
    writeln!(
        out,
        "<h2>Worst packets</h2><p class=\"note\">The {} rows with the longest delay over one \
         hop (marked bold).</p>",
        summary.worst_rows.len()
    )?;
    rows_table(ix, rows, &summary.worst_rows, true, out)?;
    connections_table(ix, summary, out)?;
    if let Some((c, shown, total)) = &summary.ladder {
        let chosen: Vec<&Row> = shown.iter().filter_map(|&i| rows.get(i)).collect();
        writeln!(
            out,
            "<h2>Ladder: {}</h2><p class=\"note\">{}: its first {} of {} packets as they \
             crossed the points (time in ms from the first, on the first point's clock), the \
             delay over each hop; × where one was not seen.</p>{}",
            escape(&c.name),
            if page.connection.is_some() {
                "The first connection --connection selects"
            } else {
                "The worst connection (first in the list above)"
            },
            chosen.len(),
            total,
            ladder::svg(ix, &chosen)
        )?;
        rows_table(ix, rows, shown, false, out)?;
    }
    points_tables(ix, out)?;
    writeln!(out, "</body></html>")?;
    Ok(())
}

/// One row per hop and direction (`index::hops`).
fn hops_table(ix: &Index<'_>, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let label = |p: u16| ix.point(p).map_or("?", |pt| pt.label());
    writeln!(
        out,
        "<h2>Hops</h2><table><tr><th>hop</th><th>packets</th><th>lost on the network</th>\
         <th>capture drops</th><th>min</th><th>median</th><th>p99</th><th>max</th>\
         <th>clock offset</th><th>drift</th></tr>"
    )?;
    let delay = |v: Option<u64>| {
        v.map_or_else(String::new, |v| {
            units::duration(v as i64).trim_start_matches('+').to_owned()
        })
    };
    for h in summary.hops.hops() {
        let d = &h.delays;
        let (offset, drift) = match ix.clock(h.from, h.to) {
            Some(m) => (
                units::duration(m.offset_ns()),
                format!("{:+.3} ppm", m.drift_ppb() as f64 / 1000.0),
            ),
            None => ("no model".into(), String::new()),
        };
        writeln!(
            out,
            "<tr><td>{} → {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"d\">{}</td><td class=\"d\">{}</td>\
             <td class=\"d\">{}</td><td class=\"d\">{}</td><td class=\"d\">{offset}</td>\
             <td class=\"d\">{drift}</td></tr>",
            escape(label(h.from)),
            escape(label(h.to)),
            h.matched,
            h.network_losses,
            h.capture_drops,
            delay(d.min()),
            delay(d.quantile(0.5)),
            delay(d.quantile(0.99)),
            delay(d.max())
        )?;
    }
    writeln!(out, "</table>")
}

/// The worst connections.
fn connections_table(ix: &Index<'_>, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
    writeln!(
        out,
        "<h2>Worst connections</h2><p class=\"note\">{} of {} connections (named by their \
         5-tuple at the first point that saw them), by their longest hop delay, then their \
         losses and drops.</p><table><tr><th>connection</th><th>packets</th>\
         <th>lost on the network</th><th>capture drops</th><th>longest hop delay</th>\
         <th>over</th><th>median of the packets' longest</th></tr>",
        summary.connections.len(),
        summary.connection_count
    )?;
    for c in &summary.connections {
        let (worst, hop) = match c.worst {
            Some((d, h)) => (
                units::duration(d).trim_start_matches('+').to_owned(),
                format!(
                    "{} – {}",
                    labels.get(h).copied().unwrap_or("?"),
                    labels.get(h + 1).copied().unwrap_or("?")
                ),
            ),
            None => (String::new(), String::new()),
        };
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"d\">{worst}</td><td>{}</td><td class=\"d\">{}</td></tr>",
            escape(&c.name),
            c.rows,
            c.lost,
            c.dropped,
            escape(&hop),
            c.median.map_or_else(String::new, |m| units::duration(m)
                .trim_start_matches('+')
                .to_owned())
        )?;
    }
    writeln!(out, "</table>")
}

/// The rows `which` (indices into `rows`) in the seed's layout; with
/// `mark_worst`, each row's longest hop delay in bold.
fn rows_table(
    ix: &Index<'_>,
    rows: &[Row],
    which: &[usize],
    mark_worst: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
    writeln!(out, "<table><thead><tr><th rowspan=\"2\">#</th><th rowspan=\"2\">dir</th><th rowspan=\"2\">what</th>")?;
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
    for &i in which {
        let Some(r) = rows.get(i) else { continue };
        let worst = summary::worst_hop(r).filter(|_| mark_worst).map(|w| w.1);
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
        for (h, d) in r.deltas.iter().enumerate() {
            let class = if worst == Some(h) { "d worst" } else { "d" };
            match d {
                Some(d) => match d.corrected_ns {
                    Some(c) => write!(
                        out,
                        "<td class=\"{class}\" title=\"raw {}\">{}</td>",
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
    writeln!(out, "</tbody></table>")
}

/// The capture points, the path and the clock models.
fn points_tables(ix: &Index<'_>, out: &mut dyn Write) -> io::Result<()> {
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
