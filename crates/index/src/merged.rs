//! The packet comment of a merged capture: what `pktmatch merge` writes on
//! every packet and the post-dissector reads back.
//!
//! A merged capture holds the frames of every point in one file, each
//! frame's time stamp corrected to one reference clock, so the frame
//! itself no longer says which capture it came from nor when that capture
//! saw it.  The comment (pcapng `opt_comment`, shown by any Wireshark as
//! `frame.comment`) says both, and where the frames the index links it to
//! are in the merged file:
//!
//! ```text
//! pktmatch: client frame 7, captured 2026-11-22 07:19:30.515082123 UTC; same packet: wan frame 5 = #12, dc frame 5 = #15; related: lbserver frame 9 = #20
//! ```
//!
//! * `LABEL frame N`: the point and the frame number in its own capture;
//! * `captured …`: the time stamp in that capture (its own clock, to the
//!   nanosecond): with it the post-dissector verifies the frame against the
//!   index's check;
//! * `same packet:` the frames of other points carrying the same packet
//!   (`journey`), `related:` the other side of a full proxy, each as
//!   `LABEL frame N = #M` with M its frame number in the merged file; a
//!   linked frame the merge left out (time window, subset) is not listed.
//!
//! Labels hold no comma (`valid_name`), so ", " separates links.  One
//! writer and one parser, both here.

use std::fmt::Write as _;

/// Every merged-capture comment starts so (annotate's comments continue
/// differently: `pktmatch: wan #5 …`).
pub const PREFIX: &str = "pktmatch: ";
const CAPTURED: &str = ", captured ";
const UTC: &str = " UTC";
const SAME: &str = "; same packet: ";
const RELATED: &str = "; related: ";
const FRAME: &str = " frame ";
const HERE: &str = " = #";

/// A frame linked to the commented one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergedLink<'s> {
    pub label: &'s str,
    /// Frame number in the linked point's own capture.
    pub frame: u32,
    /// Frame number in the merged capture.
    pub merged: u32,
    /// The same packet (else a related one).
    pub same: bool,
}

/// What one merged frame's comment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedComment<'s> {
    pub label: &'s str,
    /// Frame number in the point's own capture.
    pub frame: u32,
    /// Time stamp in the point's own capture, ns since the epoch.
    pub ts_ns: i64,
    pub links: Vec<MergedLink<'s>>,
}

impl MergedComment<'_> {
    /// The comment text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{PREFIX}{}{FRAME}{}{CAPTURED}{}{UTC}",
            self.label,
            self.frame,
            format_utc(self.ts_ns)
        );
        for (same, heading) in [(true, SAME), (false, RELATED)] {
            let mut first = true;
            for l in self.links.iter().filter(|l| l.same == same) {
                s.push_str(if first { heading } else { ", " });
                first = false;
                let _ = write!(s, "{}{FRAME}{}{HERE}{}", l.label, l.frame, l.merged);
            }
        }
        s
    }
}

/// Reads a merged-capture comment; None for any other text.
pub fn parse_comment(text: &str) -> Option<MergedComment<'_>> {
    let rest = text.strip_prefix(PREFIX)?;
    let (node, rest) = rest.split_once(CAPTURED)?;
    let (label, frame) = parse_node(node)?;
    let (time, mut tail) = rest.split_once(UTC)?;
    let ts_ns = parse_utc(time)?;
    let mut links = Vec::new();
    let mut related = "";
    if let Some((before, r)) = tail.split_once(RELATED) {
        tail = before;
        related = r;
    }
    if !tail.is_empty() {
        parse_links(tail.strip_prefix(SAME)?, true, &mut links)?;
    }
    if !related.is_empty() {
        parse_links(related, false, &mut links)?;
    }
    Some(MergedComment {
        label,
        frame,
        ts_ns,
        links,
    })
}

fn parse_node(s: &str) -> Option<(&str, u32)> {
    let (label, frame) = s.rsplit_once(FRAME)?;
    Some((label, frame.parse().ok().filter(|&f| f > 0)?))
}

fn parse_links<'s>(s: &'s str, same: bool, out: &mut Vec<MergedLink<'s>>) -> Option<()> {
    for item in s.split(", ") {
        let (node, merged) = item.rsplit_once(HERE)?;
        let (label, frame) = parse_node(node)?;
        let merged = merged.parse().ok().filter(|&m| m > 0)?;
        out.push(MergedLink {
            label,
            frame,
            merged,
            same,
        });
    }
    Some(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, public domain algorithm description).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a count of days since 1970-01-01,
/// proleptic Gregorian (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` (UTC, nanoseconds).
pub fn format_utc(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{nanos:09}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// Reads `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC; a `T` between date and
/// time is accepted too) as ns since the epoch.
pub fn parse_utc(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: u32 = d.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day: u32 = d.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':');
    let h: i64 = t.next()?.parse().ok().filter(|h| *h < 24)?;
    let mi: i64 = t.next()?.parse().ok().filter(|m| *m < 60)?;
    let se: i64 = t.next()?.parse().ok().filter(|s| *s < 61)?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = format!("{frac:0<9}").parse().ok()?;
    let secs = days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + se;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_against_known_instants() {
        // `date -u -d @1795331970` is 2026-11-22 07:19:30 (GNU date).
        assert_eq!(
            format_utc(1_795_331_970_515_082_123),
            "2026-11-22 07:19:30.515082123"
        );
        assert_eq!(format_utc(0), "1970-01-01 00:00:00.000000000");
        // 2000-02-29 (a leap day of a century leap year) is day 11016.
        assert_eq!(
            parse_utc("2000-02-29 00:00:00"),
            Some(11_016 * 86_400 * 1_000_000_000)
        );
        assert_eq!(
            parse_utc("2026-11-22T07:19:30.5"),
            Some(1_795_331_970_500_000_000)
        );
        for ts in [1_795_331_970_515_082_123, 951_782_400_000_000_001, -1] {
            assert_eq!(parse_utc(&format_utc(ts)), Some(ts));
        }
        assert_eq!(parse_utc("2026-13-01 00:00:00"), None);
        assert_eq!(parse_utc("2026-11-22 07:19:30.1234567890"), None);
    }

    #[test]
    fn comments_read_back_and_others_are_refused() {
        let c = MergedComment {
            label: "client one",
            frame: 7,
            ts_ns: 1_795_331_970_515_082_123,
            links: vec![
                MergedLink {
                    label: "wan",
                    frame: 5,
                    merged: 12,
                    same: true,
                },
                MergedLink {
                    label: "dc",
                    frame: 5,
                    merged: 15,
                    same: true,
                },
                MergedLink {
                    label: "lbserver",
                    frame: 9,
                    merged: 20,
                    same: false,
                },
            ],
        };
        let text = c.to_text();
        assert_eq!(
            text,
            "pktmatch: client one frame 7, captured 2026-11-22 07:19:30.515082123 UTC; same \
             packet: wan frame 5 = #12, dc frame 5 = #15; related: lbserver frame 9 = #20"
        );
        assert_eq!(parse_comment(&text), Some(c.clone()));
        let lone = MergedComment {
            links: vec![],
            ..c.clone()
        };
        assert_eq!(parse_comment(&lone.to_text()), Some(lone));
        let only_related = MergedComment {
            links: vec![c.links[2]],
            ..c
        };
        assert_eq!(parse_comment(&only_related.to_text()), Some(only_related));
        // pktmatch annotate's comments are not merged-capture comments.
        assert_eq!(
            parse_comment("pktmatch: wan #5 +2.718312 s (corrected +30.3 µs), method nat, 100%"),
            None
        );
        assert_eq!(
            parse_comment("pktmatch: a frame 0, captured 2026-11-22 07:19:30 UTC"),
            None
        );
    }
}
