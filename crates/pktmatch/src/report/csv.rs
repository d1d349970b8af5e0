//! The packet flow summary as CSV, for spreadsheets: one line per row.
//!
//! Columns: `row,dir,what`, then per point `<label>_frame` (frames separated
//! by `;`; where the packet should have been and was not, why: `lost`
//! (on the network), `dropped` (not captured there: a capture drop),
//! `not running` (that capture was not running), `not seen` (it may not
//! pass there)), `<label>_time` (UTC, µs), `<label>_rel_s` (seconds from
//! that point's first packet), `<label>_client_port`, then per adjacent
//! point pair `delta_<a>_<b>_ns` (corrected; empty without a clock model)
//! and `delta_<a>_<b>_raw_ns` (as captured), then one column per kind of
//! absence naming the points (`;`-separated): `lost_at`, `dropped_at`,
//! `outside_capture_at`, `uncertain_at`.  Fields are quoted as RFC 4180
//! says when they hold a comma, quote or line break (labels such as
//! `[SYN, ACK]` do).

use std::borrow::Cow;
use std::io::{self, Write};

use index::{Index, LossKind};

use super::rows::Row;
use crate::units;

/// A CSV field, quoted when it must be.  A leading `=`, `+`, `-` or `@`
/// (text from a packet that a spreadsheet would run as a formula) gets a
/// `'` in front.
pub fn field(s: &str) -> Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@']);
    if !formula && !s.contains([',', '"', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let body = if formula {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if body.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", body.replace('"', "\"\"")))
    } else {
        Cow::Owned(body)
    }
}

/// The header line's fields.
pub fn header(ix: &Index<'_>) -> Vec<String> {
    let mut h: Vec<String> = vec!["row".into(), "dir".into(), "what".into()];
    let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
    for l in &labels {
        for c in ["frame", "time", "rel_s", "client_port"] {
            h.push(format!("{l}_{c}"));
        }
    }
    for w in labels.windows(2) {
        h.push(format!("delta_{}_{}_ns", w[0], w[1]));
        h.push(format!("delta_{}_{}_raw_ns", w[0], w[1]));
    }
    for (_, column, _) in KINDS {
        h.push(column.into());
    }
    h
}

/// Each kind of absence: its column, and the word in the point's cell.
pub const KINDS: [(LossKind, &str, &str); 4] = [
    (LossKind::NetworkLoss, "lost_at", "lost"),
    (LossKind::CaptureDrop, "dropped_at", "dropped"),
    (
        LossKind::OutsideCapture,
        "outside_capture_at",
        "not running",
    ),
    (LossKind::Uncertain, "uncertain_at", "not seen"),
];

/// The word a point's cell shows for an absence of this kind.
pub fn cell_word(kind: LossKind) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or("not seen", |k| k.2)
}

/// Writes the header and every row; returns the number of rows.
pub fn write(ix: &Index<'_>, rows: &[Row], out: &mut dyn Write) -> io::Result<u64> {
    let h: Vec<Cow<str>> = header(ix)
        .into_iter()
        .map(|s| field(&s).into_owned().into())
        .collect();
    writeln!(out, "{}", h.join(","))?;
    for (i, r) in rows.iter().enumerate() {
        let mut f: Vec<String> = vec![
            (i + 1).to_string(),
            r.dir.arrow().into(),
            field(&r.what).into_owned(),
        ];
        for (c, missing) in r.cells.iter().zip(&r.missing) {
            match c {
                Some(c) => {
                    let frames: Vec<String> = c.frames.iter().map(u32::to_string).collect();
                    f.push(frames.join(";"));
                    f.push(units::datetime(c.ts_ns));
                    f.push(units::seconds(c.rel_ns));
                    f.push(c.client_port.map_or_else(String::new, |p| p.to_string()));
                }
                None => {
                    f.push(missing.map_or_else(String::new, |k| cell_word(k).into()));
                    f.extend([String::new(), String::new(), String::new()]);
                }
            }
        }
        for d in &r.deltas {
            match d {
                Some(d) => {
                    f.push(d.corrected_ns.map_or_else(String::new, |c| c.to_string()));
                    f.push(d.raw_ns.to_string());
                }
                None => f.extend([String::new(), String::new()]),
            }
        }
        for (kind, _, _) in KINDS {
            let at: Vec<&str> = r
                .missing
                .iter()
                .zip(ix.points())
                .filter(|(m, _)| m.map(|m| m.min(LossKind::Uncertain)) == Some(kind))
                .map(|(_, p)| p.label())
                .collect();
            f.push(at.join(";"));
        }
        writeln!(out, "{}", f.join(","))?;
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn quoting() {
        assert_eq!(field("[ACK]"), "[ACK]");
        assert_eq!(field("[SYN, ACK]"), "\"[SYN, ACK]\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("-1,2"), "\"'-1,2\"");
    }
}
