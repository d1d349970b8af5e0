//! The matches as CSV: the machine-readable contract other tools (the lab's
//! scorer, spreadsheets) rely on.
//!
//! ```text
//! point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence
//! client,7,wan,5,2718312124,30296,nat,1.000
//! ```
//! * one row per match, point_a before point_b in path order; rows sorted by
//!   (point_a, frame_a, point_b, frame_b);
//! * points by label, frames 1-based;
//! * delta_raw_ns = time at b − time at a as captured (integer ns);
//! * delta_corrected_ns = [`crate::corrected_delta`] with the pair's clock
//!   model in force at frame_a (its clock segment, when the clocks stepped)
//!   and frame_a's time from FRAME_TIMES; empty when the pair has no
//!   model or the index no FRAME_TIMES;
//! * method = its name from METHODS, or `method-<id>` when not named;
//! * confidence = CONFIDENCE / 255 with three decimals (0.000-1.000).
//!
//! Labels and method names never hold commas, quotes or line breaks (the
//! format forbids them), so no field is quoted.  Lines end in `\n`.

use crate::{clock, Index};
use std::io::{self, Write};

/// The header line (without the line end).
pub const CSV_HEADER: &str =
    "point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence";

/// Confidence byte as a fraction with three decimals.
pub fn confidence_text(c: u8) -> String {
    let m = (c as u32 * 1000 + 127) / 255;
    format!("{}.{:03}", m / 1000, m % 1000)
}

/// One match as the CSV contract (and `pktmatch export --parquet`) give
/// it: points by index (their labels: [`Index::point`]), frames 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchRow {
    pub point_a: u16,
    pub frame_a: u32,
    pub point_b: u16,
    pub frame_b: u32,
    pub delta_raw_ns: i64,
    /// None when the pair has no clock model or the index no FRAME_TIMES.
    pub delta_corrected_ns: Option<i64>,
    pub method: u8,
    /// 0-255 ↔ 0-100 %.
    pub confidence: u8,
}

/// Calls `f` with every match once, point_a before point_b in path order,
/// sorted by (point_a, frame_a, point_b, frame_b) — the rows of
/// [`export_csv`]; returns how many, or `f`'s first error.
pub fn for_each_match<E>(
    index: &Index<'_>,
    mut f: impl FnMut(MatchRow) -> Result<(), E>,
) -> Result<u64, E> {
    let mut rows = 0u64;
    for a in index.points() {
        let ai = a.index();
        for frame in 1..=a.packets() {
            let mut ts: Option<Option<i64>> = None;
            for peer in index.peers(ai, frame) {
                if peer.point <= ai || index.point(peer.point).is_none() {
                    continue;
                }
                let corrected = index.clock_at(ai, frame, peer.point).and_then(|m| {
                    let t = *ts.get_or_insert_with(|| index.frame_time_ns(ai, frame));
                    t.map(|t| clock::corrected_delta(peer.delta_raw_ns, t, &m))
                });
                f(MatchRow {
                    point_a: ai,
                    frame_a: frame,
                    point_b: peer.point,
                    frame_b: peer.frame,
                    delta_raw_ns: peer.delta_raw_ns,
                    delta_corrected_ns: corrected,
                    method: peer.method,
                    confidence: peer.confidence,
                })?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// Writes the header and every match once; returns the number of rows.
/// Buffered internally.
pub fn export_csv<W: Write>(index: &Index<'_>, writer: W) -> io::Result<u64> {
    let mut w = io::BufWriter::new(writer);
    writeln!(w, "{CSV_HEADER}")?;
    let label = |p: u16| index.point(p).map_or("", |p| p.label());
    let rows = for_each_match(index, |r| -> io::Result<()> {
        write!(
            w,
            "{},{},{},{},{},",
            label(r.point_a),
            r.frame_a,
            label(r.point_b),
            r.frame_b,
            r.delta_raw_ns
        )?;
        if let Some(d) = r.delta_corrected_ns {
            write!(w, "{d}")?;
        }
        match index.method_name(r.method) {
            Some(n) => write!(w, ",{n},")?,
            None => write!(w, ",method-{},", r.method)?,
        }
        writeln!(w, "{}", confidence_text(r.confidence))
    })?;
    w.flush()?;
    Ok(rows)
}

/// The header of the missing-packets CSV ([`export_lost_csv`]).
pub const LOST_CSV_HEADER: &str = "point,frame,not_seen_at,kind";

/// Writes every LOST entry: the frame of `point` not seen at
/// `not_seen_at`, and why (`network-loss`, `capture-drop`,
/// `outside-capture`, `uncertain`; [`crate::LossKind::name`]); rows sorted
/// by (point, frame, not_seen_at) in path order.  Returns the rows.
pub fn export_lost_csv<W: Write>(index: &Index<'_>, writer: W) -> io::Result<u64> {
    let mut w = io::BufWriter::new(writer);
    writeln!(w, "{LOST_CSV_HEADER}")?;
    let mut rows = 0u64;
    for p in index.points() {
        for l in index.lost_all(p.index()) {
            let Some(at) = index.point(l.point) else {
                continue;
            };
            writeln!(
                w,
                "{},{},{},{}",
                p.label(),
                l.frame,
                at.label(),
                l.kind.name()
            )?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_values() {
        assert_eq!(confidence_text(255), "1.000");
        assert_eq!(confidence_text(0), "0.000");
        assert_eq!(confidence_text(128), "0.502");
        assert_eq!(confidence_text(1), "0.004");
        assert_eq!(confidence_text(254), "0.996");
    }
}
