//! Bytes to report lines, whatever happened to the text on its way:
//!
//! * ASCII (or UTF-8, or Latin-1) with any line ends (LF, CR LF, CR);
//! * EBCDIC (CCSID 37): lines ended by NL/LF/CR LF, or RDW records (a
//!   binary `site rdw` transfer of a VB data set, or what `zunpack` gives),
//!   or fixed-length records with no line ends at all (a binary transfer of
//!   an FB data set: the record length is found by trying the usual ones);
//! * form feeds, tabs, no-break spaces, trailing blanks, `>` mail quoting;
//! * ASA carriage control in column 1 (decided for the whole file by the
//!   caller, who can tell which reading makes more sense of the lines).

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based.
    pub number: usize,
    /// Byte offset of the line's record in the input.
    pub offset: usize,
    pub text: String,
}

/// How the text was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Ascii,
    Ebcdic,
}

/// How the lines were separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    LineEnds,
    Rdw,
    Fixed(usize),
}

/// The decoded text.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub lines: Vec<Line>,
    pub encoding: Encoding,
    pub framing: Framing,
}

/// Whether the bytes look like EBCDIC text rather than ASCII: blanks and
/// digits are where each code page has them.
pub fn is_ebcdic(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(64 * 1024)];
    let mut e = 0usize;
    let mut a = 0usize;
    for &c in sample {
        match c {
            0x40 | 0xF0..=0xF9 | 0xC1..=0xC9 | 0xD1..=0xD9 | 0xE2..=0xE9 => e += 1,
            0x20 | 0x30..=0x39 | 0x41..=0x5A | 0x61..=0x7A => a += 1,
            _ => {}
        }
    }
    e > a
}

/// Splits on LF, CR LF or lone CR (ASCII) / NL, LF, CR LF (EBCDIC).
fn split_line_ends(b: &[u8], ebcdic: bool) -> Vec<(usize, &[u8])> {
    let (lf, alt) = if ebcdic {
        (0x15u8, 0x25u8)
    } else {
        (b'\n', b'\n')
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == lf || c == alt {
            let end = if i > start && b[i - 1] == 0x0D {
                i - 1
            } else {
                i
            };
            out.push((start, &b[start..end]));
            start = i + 1;
        } else if c == 0x0D && b.get(i + 1).is_some_and(|&n| n != lf && n != alt) && !ebcdic {
            out.push((start, &b[start..i]));
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        let end = if b[b.len() - 1] == 0x0D {
            b.len() - 1
        } else {
            b.len()
        };
        out.push((start, &b[start..end]));
    }
    out
}

/// RDW records covering all of `b`, if that is what it is.
fn split_rdw(b: &[u8]) -> Option<Vec<(usize, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let h = b.get(at..at + 4)?;
        let len = u16::from_be_bytes([h[0], h[1]]) as usize;
        if len < 4 || h[2] != 0 || h[3] != 0 {
            return None;
        }
        out.push((at, b.get(at + 4..at + len)?));
        at += len;
    }
    (!out.is_empty()).then_some(out)
}

/// Record lengths tried for text with no line ends: IPCS print data sets
/// (133 with ASA, 132, 121/120), card images, and a few others.
pub const FIXED_LRECLS: &[usize] = &[133, 132, 121, 120, 81, 80, 137, 255, 256, 100];

fn decode_line(raw: &[u8], ebcdic: bool) -> String {
    let s: String = if ebcdic {
        raw.iter().map(|&c| ctrace::ebcdic::to_char(c)).collect()
    } else {
        match std::str::from_utf8(raw) {
            Ok(s) => s.to_owned(),
            // Latin-1: every byte one character
            Err(_) => raw.iter().map(|&c| char::from(c)).collect(),
        }
    };
    clean(&s)
}

/// Form feeds and other controls out, tabs and no-break spaces to blanks,
/// mail quoting and trailing blanks off.
pub fn clean(s: &str) -> String {
    let mut t: String = s
        .chars()
        .filter(|&c| c != '\u{0C}' && c != '\u{FEFF}')
        .map(|c| {
            if c == '\t' || c == '\u{A0}' || (c.is_control() && c != ' ') {
                ' '
            } else {
                c
            }
        })
        .collect();
    // "> " quoting of mail replies (no report line starts with '>')
    let quoted = t.trim_start().starts_with('>');
    if quoted {
        let rest = t.trim_start().trim_start_matches(['>', ' ']);
        t = rest.to_owned();
    }
    let end = t.trim_end().len();
    t.truncate(end);
    t
}

/// Whether ASCII text is quoted-printable (RFC 2045; a report saved from a
/// raw mail): soft line breaks (a line ending in '=') and `=3D` escapes.
fn is_quoted_printable(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(64 * 1024)];
    let soft = sample.windows(2).filter(|w| w == b"=\n").count()
        + sample.windows(3).filter(|w| w == b"=\r\n").count();
    let escapes = sample
        .windows(3)
        .filter(|w| w == b"=3D" || w == b"=20")
        .count();
    soft > 0 && escapes > 0
}

/// Undoes quoted-printable: soft breaks joined, `=XX` decoded.
fn decode_quoted_printable(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        if b[i] == b'=' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => {
                    i += 3;
                    continue;
                }
                (Some(b'\n'), _) => {
                    i += 2;
                    continue;
                }
                (Some(&h), Some(&l)) => {
                    if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Decodes `b` into lines.  `score` rates a candidate set of lines (how
/// many look like report lines); it picks the record length of
/// fixed-length text.
pub fn decode(b: &[u8], score: &dyn Fn(&[Line]) -> usize) -> Decoded {
    let b = b.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(b);
    let ebcdic = is_ebcdic(b);
    let unquoted;
    let b = if !ebcdic && is_quoted_printable(b) {
        unquoted = decode_quoted_printable(b);
        &unquoted[..]
    } else {
        b
    };
    let encoding = if ebcdic {
        Encoding::Ebcdic
    } else {
        Encoding::Ascii
    };
    let make = |parts: Vec<(usize, &[u8])>| -> Vec<Line> {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (offset, raw))| Line {
                number: i + 1,
                offset,
                text: decode_line(raw, ebcdic),
            })
            .collect()
    };
    let line_end = if ebcdic {
        [0x15u8, 0x25]
    } else {
        [b'\n', b'\r']
    };
    let has_line_ends = b.iter().any(|c| line_end.contains(c));
    if ebcdic {
        if let Some(parts) = split_rdw(b) {
            return Decoded {
                lines: make(parts),
                encoding,
                framing: Framing::Rdw,
            };
        }
    }
    if has_line_ends || b.len() < 200 {
        return Decoded {
            lines: make(split_line_ends(b, ebcdic)),
            encoding,
            framing: Framing::LineEnds,
        };
    }
    // No line ends: fixed-length records; try the usual lengths.
    let mut best: Option<(usize, usize, Vec<Line>)> = None;
    for &lrecl in FIXED_LRECLS {
        let parts: Vec<(usize, &[u8])> = b
            .chunks(lrecl)
            .enumerate()
            .map(|(i, c)| (i * lrecl, c))
            .collect();
        let lines = make(parts);
        let s = score(&lines[..lines.len().min(3000)]);
        if best.as_ref().map_or(true, |(bs, _, _)| s > *bs) {
            best = Some((s, lrecl, lines));
        }
    }
    let (_, lrecl, lines) = best.expect("FIXED_LRECLS is not empty");
    Decoded {
        lines,
        encoding,
        framing: Framing::Fixed(lrecl),
    }
}

/// ASA carriage-control characters.
pub const ASA: &[char] = &[' ', '0', '1', '-', '+'];

/// Whether every non-empty line could carry ASA control in column 1.
pub fn could_be_asa(lines: &[Line]) -> bool {
    let mut n = 0;
    for l in lines {
        match l.text.chars().next() {
            None => {}
            Some(c) if ASA.contains(&c) => n += 1,
            Some(_) => return false,
        }
    }
    n > 0
}

/// The lines with column 1 (ASA control) removed; overprint lines ('+')
/// dropped, as a printer would print them over the line before.
pub fn strip_asa(lines: &[Line]) -> Vec<Line> {
    lines
        .iter()
        .filter(|l| !l.text.starts_with('+'))
        .map(|l| Line {
            number: l.number,
            offset: l.offset,
            text: l.text.chars().skip(1).collect::<String>(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &[Line]) -> usize {
        0
    }

    fn texts(d: &Decoded) -> Vec<&str> {
        d.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn ascii_line_ends_and_cleanup() {
        let d = decode(b"a  \r\nb\rc\n\x0Cd\te\n> > quoted\n", &none);
        assert_eq!(texts(&d), ["a", "b", "c", "d e", "quoted"]);
        assert_eq!(d.encoding, Encoding::Ascii);
        assert_eq!(d.lines[3].number, 4);
        assert_eq!(d.lines[1].offset, 5);
    }

    #[test]
    fn latin1_and_utf8() {
        let d = decode("x\u{A6}y\n".as_bytes(), &none);
        assert_eq!(texts(&d), ["x\u{A6}y"]);
        let d = decode(b"x\xA6y\n", &none);
        assert_eq!(texts(&d), ["x\u{A6}y"]);
    }

    #[test]
    fn ebcdic_lines_records_and_fixed() {
        let enc = |s: &str| ctrace::ebcdic::encode(s);
        let mut b = enc("**** 2002/11/20");
        b.push(0x15);
        b.extend(enc("  4521 MVS118"));
        b.push(0x25);
        let d = decode(&b, &none);
        assert_eq!(d.encoding, Encoding::Ebcdic);
        assert_eq!(texts(&d), ["**** 2002/11/20", "  4521 MVS118"]);
        // RDW records
        let mut r = Vec::new();
        for s in ["ONE 1111", "TWO 2222 2"] {
            let e = enc(s);
            r.extend_from_slice(&((e.len() + 4) as u16).to_be_bytes());
            r.extend_from_slice(&[0, 0]);
            r.extend(e);
        }
        let d = decode(&r, &none);
        assert_eq!(
            (d.framing, texts(&d)),
            (Framing::Rdw, vec!["ONE 1111", "TWO 2222 2"])
        );
        // fixed 133 with no line ends: the scorer picks the length
        let mut f = Vec::new();
        for i in 0..10 {
            let mut e = enc(&format!(" LINE {i:04} 000000 45000028"));
            e.resize(133, 0x40);
            f.extend(e);
        }
        let score = |ls: &[Line]| {
            ls.iter()
                .filter(|l| l.text.trim_start().starts_with("LINE 0"))
                .count()
        };
        let d = decode(&f, &score);
        assert_eq!(d.framing, Framing::Fixed(133));
        assert_eq!(d.lines.len(), 10);
        assert_eq!(d.lines[9].text, " LINE 0009 000000 45000028");
    }

    #[test]
    fn quoted_printable() {
        let d = decode(
            b"Device: LCS Ethernet Full=3D52 and a soft=\nly broken line\n",
            &none,
        );
        assert_eq!(
            texts(&d),
            ["Device: LCS Ethernet Full=52 and a softly broken line"]
        );
        // an '=' alone is not quoted-printable
        let d = decode(b"Full=52\n", &none);
        assert_eq!(texts(&d), ["Full=52"]);
    }

    #[test]
    fn asa() {
        let d = decode(b"1IPCS PRINT LOG\n  4521 X\n0 000000 45\n+___\n", &none);
        assert!(could_be_asa(&d.lines));
        let s = strip_asa(&d.lines);
        let t: Vec<&str> = s.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(t, ["IPCS PRINT LOG", " 4521 X", " 000000 45"]);
        let d = decode(b"804059 ADCD\n", &none);
        assert!(!could_be_asa(&d.lines));
        assert!(!could_be_asa(&[]));
    }
}
