//! What one line (or one piece of a line that mail joined to another) is.

use crate::time;
use crate::vocab::{self, Label, LABELS};

/// A record line: `RcdNr Sysname Mnemonic EntryId hh:mm:ss.ffffff Description`
/// ("3 MVSJ PACKET 00000001 23:39:11.873541 Packet Trace").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLine {
    pub number: u64,
    pub sysname: String,
    pub mnemonic: String,
    pub entry_id: u32,
    pub time_us: i64,
    /// Byte index in the piece where the description starts.
    pub description_at: usize,
}

/// Whitespace-separated tokens with their byte positions.
pub fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == ' ' {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// A 6-digit dump offset.
pub fn offset_token(t: &str) -> Option<u32> {
    (t.len() == 6 && is_hex(t)).then(|| u32::from_str_radix(t, 16).ok())?
}

/// A dump word: 2, 4, 6 or 8 hex digits, as bytes.
pub fn hex_word(t: &str) -> Option<Vec<u8>> {
    if t.len() > 8 || t.len() % 2 != 0 || !is_hex(t) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
        .collect()
}

/// Parses a record line starting at token `i` of `toks`.
pub fn record_line(toks: &[(usize, &str)], i: usize) -> Option<RecordLine> {
    let t = toks.get(i..i + 5)?;
    let number: u64 = t[0]
        .1
        .parse()
        .ok()
        .filter(|_| t[0].1.bytes().all(|c| c.is_ascii_digit()))?;
    let sysname = t[1].1;
    let mnemonic = t[2].1;
    if sysname.len() > 8
        || mnemonic.len() > 8
        || !mnemonic
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || t[3].1.len() != 8
        || !is_hex(t[3].1)
    {
        return None;
    }
    let entry_id = u32::from_str_radix(t[3].1, 16).ok()?;
    let time_us = time::parse_time(t[4].1)?;
    let description_at = toks.get(i + 5).map_or(t[4].0 + t[4].1.len(), |d| d.0);
    Some(RecordLine {
        number,
        sysname: sysname.to_owned(),
        mnemonic: mnemonic.to_owned(),
        entry_id,
        time_us,
        description_at,
    })
}

/// A date line: `**** yyyy/mm/dd` → day number.
pub fn date_line(s: &str) -> Option<i64> {
    let t = tokens(s);
    if t.len() < 2 || t[0].1 != vocab::DATE_MARK {
        return None;
    }
    time::parse_date(t[1].1)
}

/// A section heading: `IP Header : 20`, `Protocol Header : 32`,
/// `Data : 12  Data Length: 12` (colon and count optional); returns the
/// name, the counts, and where anything after them (a joined dump) starts.
pub fn section_heading(s: &str) -> Option<(&'static str, Option<u32>, Option<u32>, usize)> {
    let lead = s.len() - s.trim_start().len();
    let rest = &s[lead..];
    let name = [vocab::IP_HEADER, vocab::PROTOCOL_HEADER, vocab::DATA]
        .into_iter()
        .find(|n| rest.starts_with(n))?;
    let mut at = lead + name.len();
    let after = &s[at..];
    let trimmed = after.trim_start();
    let colon = trimmed.starts_with(':');
    // "Data" must be followed by its colon; the headers by a colon, a
    // count, a dump or nothing ("IP Header 000000 45…" in a joined line)
    if name == vocab::DATA && !colon {
        return None;
    }
    if !colon && !trimmed.is_empty() && !trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    at += after.len() - trimmed.len();
    if colon {
        at += 1;
    }
    let toks = tokens(&s[at..]);
    let mut declared = None;
    let mut data_length = None;
    let mut end = at;
    let mut k = 0;
    // the count, unless the next token is already a dump offset
    if let Some(&(p, t)) = toks.first() {
        if offset_token(t).is_none() || toks.get(1).map_or(true, |n| hex_word(n.1).is_none()) {
            if let Ok(n) = t.parse::<u32>() {
                declared = Some(n);
                end = at + p + t.len();
                k = 1;
            }
        }
    }
    // "Data Length: n"
    if toks.get(k).map(|t| t.1) == Some("Data")
        && toks.get(k + 1).map(|t| t.1.trim_end_matches(':')) == Some("Length")
    {
        let mut j = k + 2;
        if toks.get(j).map(|t| t.1) == Some(":") {
            j += 1;
        }
        if let Some(&(p, t)) = toks.get(j) {
            if let Ok(n) = t.parse::<u32>() {
                data_length = Some(n);
                end = at + p + t.len();
            }
        }
    }
    Some((name, declared, data_length, end))
}

/// Where a dump starts in a piece: the first token is a 6-digit offset
/// followed by a dump word (or nothing).
pub fn is_dump_line(s: &str) -> bool {
    let t = tokens(s);
    match t.first() {
        Some(&(_, first)) => {
            offset_token(first).is_some() && t.get(1).map_or(true, |n| hex_word(n.1).is_some())
        }
        None => false,
    }
}

/// One label found on a line: where it starts and where its value starts.
#[derive(Clone, Copy, Debug)]
pub struct Found {
    pub at: usize,
    pub value_at: usize,
    pub label: &'static Label,
}

/// Every label on `s`, in order; the longest wins where several start at
/// one place.  A label counts only at the start of a word and followed
/// (after blanks) by its separator.
pub fn find_labels(s: &str) -> Vec<Found> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if i > 0 && b[i - 1] != b' ' {
            i += 1;
            continue;
        }
        let mut best: Option<Found> = None;
        for l in LABELS {
            let Some(mut j) = match_words(b, i, l.text.as_bytes()) else {
                continue;
            };
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            if j < b.len()
                && b[j] == l.sep
                && best.map_or(true, |f| f.label.text.len() < l.text.len())
            {
                best = Some(Found {
                    at: i,
                    value_at: j + 1,
                    label: l,
                });
            }
        }
        match best {
            Some(f) => {
                out.push(f);
                i = f.value_at;
            }
            None => i += 1,
        }
    }
    out
}

/// Where `label` ends if it starts at `b[i]`; a blank between its words
/// matches any run of blanks (re-spaced text: "To   Interface").
fn match_words(b: &[u8], i: usize, label: &[u8]) -> Option<usize> {
    let mut j = i;
    for &c in label {
        if c == b' ' {
            if b.get(j) != Some(&b' ') {
                return None;
            }
            while b.get(j) == Some(&b' ') {
                j += 1;
            }
        } else {
            if b.get(j) != Some(&c) {
                return None;
            }
            j += 1;
        }
    }
    Some(j)
}

/// The values of `found` on `s`: each runs to the next label.
pub fn values<'a>(s: &'a str, found: &[Found]) -> Vec<(&'static Label, &'a str)> {
    found
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let end = found.get(k + 1).map_or(s.len(), |n| n.at);
            (f.label, s[f.value_at.min(end)..end].trim())
        })
        .collect()
}

/// Lines that are the report's furniture: print log and page headings,
/// the command echo, column headings, rules.
pub fn is_furniture(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() || t.chars().all(|c| matches!(c, '-' | '=' | '_' | '*' | ' ')) {
        return true;
    }
    const STARTS: &[&str] = &[
        "IPCS PRINT LOG",
        "COMPONENT TRACE",
        "SYSNAME",
        "COMP(",
        "COMP (",
        "SUBNAME",
        "OPTIONS",
        "DSNAME",
        "DDNAME",
        "FILE (",
        "FILE(",
        "z/OS TCP/IP Packet Trace Formatter",
        "RcdNr",
        "I - Inbound",
        "O - Outbound",
        "END OF IPCS PRINT LOG",
    ];
    STARTS.iter().any(|p| t.starts_with(p)) || is_page_heading(t)
}

/// "… PAGE 12" headings of printed output.
fn is_page_heading(t: &str) -> bool {
    let toks = tokens(t);
    toks.len() >= 2
        && toks[toks.len() - 2].1.eq_ignore_ascii_case("PAGE")
        && toks[toks.len() - 1].1.bytes().all(|c| c.is_ascii_digit())
}

/// The SUMMARY report's column heading ("DP   Nr hh:mm:ss.mmmmmm IpId").
pub fn is_summary_heading(s: &str) -> bool {
    let t = tokens(s);
    t.len() >= 3 && t[0].1 == "DP" && t[1].1 == "Nr" && t[2].1 == "hh:mm:ss.mmmmmm"
}

/// A SUMMARY row ("OT    1 14:18:00.447462 19E6 …").
pub fn is_summary_row(s: &str) -> bool {
    let t = tokens(s);
    t.len() >= 3
        && t[0].1.len() == 2
        && matches!(t[0].1.as_bytes()[0], b'I' | b'O')
        && t[1].1.bytes().all(|c| c.is_ascii_digit())
        && time::parse_time(t[2].1).is_some()
}

/// An MVS message line ("ITT10016I BUFFER 3 WAS NOT FOUND").
pub fn is_message(s: &str) -> bool {
    let t = s.trim_start();
    let id = t.split(' ').next().unwrap_or("").as_bytes();
    id.len() >= 8
        && id.len() <= 10
        && id[..3].iter().all(|c| c.is_ascii_uppercase())
        && id[3..id.len() - 1].iter().all(|c| c.is_ascii_digit())
        && matches!(id[id.len() - 1], b'I' | b'E' | b'W' | b'S' | b'A' | b'D')
}

/// Protocol headings that start the formatted protocol header.
pub const PROTOCOLS: &[&str] = &[
    "TCP", "UDP", "ICMP", "ICMPv6", "IGMP", "ESP", "AH", "GRE", "SCTP", "OSPF",
];

/// Splits a line that mail (or a PDF's text layer) joined from several:
/// before a date mark, a record line or a section heading found after its
/// start.
pub fn split_joined(s: &str) -> Vec<&str> {
    let toks = tokens(s);
    let mut cuts = Vec::new();
    for (k, &(p, t)) in toks.iter().enumerate().skip(1) {
        let prev = toks[k - 1].1;
        let heading_here = || section_heading(&s[p..]).is_some();
        let cut = (t == vocab::DATE_MARK && toks.get(k + 1).is_some_and(|n| time::parse_date(n.1).is_some()))
            || (t.bytes().all(|c| c.is_ascii_digit()) && record_line(&toks, k).is_some())
            || ((t == "IP" || t == "Protocol")
                && toks.get(k + 1).map(|n| n.1) == Some("Header")
                && !prev.ends_with("IpHeader:")
                && heading_here())
            // "… 39937BFD Data : 28 …" after a dump, unlike "Echo Data : 248"
            || (t == vocab::DATA && (prev.ends_with('|') || hex_word(prev).is_some()) && heading_here());
        if cut {
            cuts.push(p);
        }
    }
    if cuts.is_empty() {
        return vec![s];
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        out.push(&s[start..c]);
        start = c;
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines() {
        let s = "    3 MVSJ     PACKET   00000001 23:39:11.873541 Packet Trace";
        let t = tokens(s);
        let r = record_line(&t, 0).unwrap();
        assert_eq!(
            (r.number, r.sysname.as_str(), r.mnemonic.as_str()),
            (3, "MVSJ", "PACKET")
        );
        assert_eq!(r.entry_id, 1);
        assert_eq!(&s[r.description_at..], "Packet Trace");
        assert!(record_line(&tokens("3 MVSJ packet 00000001 23:39:11.873541 X"), 0).is_none());
        assert!(record_line(&tokens("3 MVSJ PACKET 0000001 23:39:11.873541 X"), 0).is_none());
        assert!(record_line(&tokens("Tos : 00 QOS: Routine"), 0).is_none());
    }

    #[test]
    fn headings_and_dumps() {
        assert_eq!(
            section_heading(" IP Header : 20").map(|h| (h.0, h.1, h.2)),
            Some(("IP Header", Some(20), None))
        );
        let (n, d, l, end) = section_heading(" Data : 12 Data Length: 12").unwrap();
        assert_eq!((n, d, l, end), ("Data", Some(12), Some(12), 26));
        let s = "IP Header 000000 45000034 AD044000";
        let (n, d, _, end) = section_heading(s).unwrap();
        assert_eq!(
            (n, d, &s[end..]),
            ("IP Header", None, "000000 45000034 AD044000")
        );
        assert!(section_heading("Data Trace").is_none());
        assert!(section_heading(" IpHeader: Version : 4").is_none());
        assert!(is_dump_line(" 000000 45000028 00004000"));
        assert!(is_dump_line("000010 0A"));
        assert!(!is_dump_line("000000 Routine"));
        assert_eq!(hex_word("0B3F0000"), Some(vec![0x0B, 0x3F, 0, 0]));
        assert_eq!(hex_word("ABC"), None);
        assert_eq!(hex_word("|ABCD"), None);
    }

    #[test]
    fn labels_and_values() {
        let s = " Tod Clock        : 2002/02/12 23:39:11.873539 Intfx: 4";
        let f = find_labels(s);
        let v = values(s, &f);
        assert_eq!(v[0].1, "2002/02/12 23:39:11.873539");
        assert_eq!((v[1].0.text, v[1].1), ("Intfx", "4"));
        let s = " To Interface      : TR1              Device: LCS Token Ring   Full=56";
        let v = values(s, &find_labels(s));
        let got: Vec<(&str, &str)> = v.iter().map(|(l, v)| (l.text, *v)).collect();
        assert_eq!(
            got,
            [
                ("To Interface", "TR1"),
                ("Device", "LCS Token Ring"),
                ("Full", "56")
            ]
        );
        // "Source" must not take "Source Port"; "Flags" stops at "Header Length"
        let s = "Source Port : 1025 Dest Port: 53 Flags: Pkt Header Length: 20";
        let got: Vec<&str> = values(s, &find_labels(s)).iter().map(|(_, v)| *v).collect();
        assert_eq!(got, ["1025", "53", "Pkt", "20"]);
        // re-spaced words still make the label
        let s = " To   Interface   : OSAQDIO1  Tod  Clock: x";
        let got: Vec<(&str, &str)> = values(s, &find_labels(s))
            .iter()
            .map(|(l, v)| (l.text, *v))
            .collect();
        assert_eq!(got, [("To Interface", "OSAQDIO1"), ("Tod Clock", "x")]);
    }

    #[test]
    fn furniture_and_summary() {
        assert!(is_furniture("IPCS PRINT LOG FOR USER AESDJC1"));
        assert!(is_furniture(" ----- -------- --------"));
        assert!(is_furniture("IPCS PRINT LOG  DATE: 2008/02/22   PAGE    2"));
        assert!(!is_furniture("  Tod Clock : 2008/02/22"));
        assert!(is_summary_heading(
            "DP   Nr hh:mm:ss.mmmmmm IpId    Seq_num"
        ));
        assert!(is_summary_row("OT    1 14:18:00.447462 19E6 1452693653"));
        assert!(is_message("ITT10016I BUFFER 3 WAS NOT FOUND"));
        assert!(!is_message("IpHeader: Version : 4"));
        assert!(!is_message("ÛÛÛÛÛ")); // found by the fuzzer
        assert_eq!(
            date_line(" **** 2002/11/20"),
            crate::time::parse_date("2002/11/20")
        );
    }

    #[test]
    fn joined_lines() {
        let s = "FILE (TRACE) **** 2008/02/22 RcdNr Sysname 804059 ADCD PACKET 00000004 20:48:42.883175 Packet Trace From Interface : ETH1 Source : 1.2.3.4 IP Header 000000 45000034";
        let p = split_joined(s);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[1].starts_with("**** 2008/02/22"));
        assert!(p[2].starts_with("804059 ADCD"));
        assert_eq!(p[3], "IP Header 000000 45000034");
        assert_eq!(split_joined("  Tod Clock : x").len(), 1);
    }
}
