//! Reports rendered from real captures (tests/data/rendered-ipcs-*, by
//! examples/ipcs-render.rs) read back packet for packet equal to the
//! capture: every byte traced, the original length, the time to the µs,
//! the direction — also after the text is mangled the ways mail clients,
//! printers and transfers mangle it.

use std::net::IpAddr;

use ipcs_report::{parse, render, Direction, Kind, Report};

fn data(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// (capture µs, IP packet) of every IPv4/IPv6 frame.
fn capture(name: &str) -> Vec<(i64, Vec<u8>)> {
    let f = std::fs::File::open(data(name)).unwrap();
    let mut r = pcap_file::pcap::PcapReader::new(f).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        if let Some(ip) = render::ip_of_ethernet(&p.data) {
            out.push((p.timestamp.as_micros() as i64, ip.to_vec()));
        }
    }
    out
}

struct Case {
    report: &'static str,
    pcap: &'static str,
    abbrev: Option<usize>,
}

const CASES: &[Case] = &[
    Case {
        report: "rendered-ipcs-full-real-ftp.txt",
        pcap: "real-ftp.pcap",
        abbrev: None,
    },
    Case {
        report: "rendered-ipcs-format-dump-real-ipv6.txt",
        pcap: "real-ipv6.pcap",
        abbrev: None,
    },
    Case {
        report: "rendered-ipcs-dump-real-dns.txt",
        pcap: "real-dns.pcap",
        abbrev: None,
    },
    Case {
        report: "rendered-ipcs-full-abbrev120-real-http.txt",
        pcap: "real-http.pcap",
        abbrev: Some(120),
    },
];

/// Every record's packet equals the captured one.
fn check(r: &Report, packets: &[(i64, Vec<u8>)], abbrev: Option<usize>, what: &str) {
    assert_eq!(r.records.len(), packets.len(), "{what}: record count");
    let local: Option<IpAddr> = render::source(&packets[0].1);
    for (i, (rec, (us, ip))) in r.records.iter().zip(packets).enumerate() {
        let p = rec
            .packet()
            .unwrap_or_else(|| panic!("{what}: record {} has no packet", i + 1));
        let traced = &ip[..abbrev.map_or(ip.len(), |n| n.min(ip.len()))];
        assert_eq!(p.kind, Kind::Ip, "{what}: record {}", i + 1);
        assert!(p.bytes == traced, "{what}: record {} bytes differ", i + 1);
        assert_eq!(
            p.original_len as usize,
            ip.len(),
            "{what}: record {} length",
            i + 1
        );
        assert_eq!(
            p.abbreviated,
            traced.len() < ip.len(),
            "{what}: record {}",
            i + 1
        );
        assert_eq!(rec.time_us(), Some(*us), "{what}: record {} time", i + 1);
        assert_eq!(
            rec.stamp_us,
            Some(us + 13),
            "{what}: record {} stamp",
            i + 1
        );
        let dir = if render::source(ip) == local {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        assert_eq!(p.direction, Some(dir), "{what}: record {} direction", i + 1);
        assert_eq!(rec.number, i as u64 + 1);
        assert_eq!(
            (rec.name.as_deref(), rec.ifindex, rec.seq),
            (Some("OSAQDIO1"), Some(5), Some(0))
        );
        assert!(
            p.problems.is_empty(),
            "{what}: record {}: {:?}",
            i + 1,
            p.problems
        );
    }
}

#[test]
fn rendered_reports_equal_their_captures() {
    for c in CASES {
        let text = std::fs::read(data(c.report)).unwrap();
        let r = parse(&text).unwrap();
        let layout = match c.report.split('-').nth(2) {
            Some("full") => ipcs_report::Layout::Full,
            Some("format") => ipcs_report::Layout::FormatDump,
            _ => ipcs_report::Layout::Dump,
        };
        assert_eq!(r.layout, layout, "{}", c.report);
        check(&r, &capture(c.pcap), c.abbrev, c.report);
        assert!(
            r.notes.is_empty(),
            "{}: {:?}",
            c.report,
            &r.notes[..r.notes.len().min(5)]
        );
    }
}

#[test]
fn the_generator_reproduces_the_committed_fixtures() {
    for c in CASES {
        let style = [
            render::Style::Full,
            render::Style::FormatDump,
            render::Style::Dump,
        ]
        .into_iter()
        .find(|s| {
            c.report
                .starts_with(&format!("rendered-ipcs-{}-", s.name()))
        })
        .unwrap();
        let packets = capture(c.pcap);
        let refs: Vec<(i64, &[u8])> = packets.iter().map(|(t, p)| (*t, &p[..])).collect();
        let text = render::report(style, &refs, None, c.abbrev);
        assert!(
            text == std::fs::read_to_string(data(c.report)).unwrap(),
            "{} is stale: regenerate it (docs/ipcs-report.md)",
            c.report
        );
    }
}

// ---- mangling, as mail, printers and transfers do ----

/// A mail client's wrapping at `width` columns, at blanks.
fn mail_wrap(t: &str, width: usize) -> String {
    let mut out = String::new();
    for line in t.lines() {
        let mut rest = line;
        while rest.len() > width {
            let cut = rest[..width].rfind(' ').filter(|&c| c > 0).unwrap_or(width);
            out.push_str(rest[..cut].trim_end());
            out.push('\n');
            rest = rest[cut..].trim_start();
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// ASA carriage control, 60-line pages each headed by the print log
/// title after a form feed, blank lines folded into '0' control.
fn asa_pages(t: &str) -> String {
    let mut out = String::new();
    let mut page = 0;
    let mut on_page = 60;
    let mut blank = false;
    for line in t.lines() {
        if line.trim().is_empty() {
            blank = true;
            continue;
        }
        if on_page >= 60 {
            page += 1;
            out.push_str(&format!(
                "\u{0C}1IPCS PRINT LOG FOR USER ANALYST                        PAGE {page:>5}\n"
            ));
            on_page = 0;
        }
        out.push(if blank { '0' } else { ' ' });
        out.push_str(line);
        out.push('\n');
        on_page += 1;
        blank = false;
    }
    out
}

fn ebcdic(t: &str) -> Vec<u8> {
    ctrace::ebcdic::encode(t)
}

/// EBCDIC, fixed 133-byte records, no line ends (binary transfer of the
/// FBA print data set).
fn ebcdic_fba133(t: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in asa_pages(t).lines() {
        let line = line.trim_start_matches('\u{0C}');
        let mut r = ebcdic(line);
        r.resize(133, 0x40);
        out.extend(r);
    }
    out
}

/// EBCDIC with NL line ends.
fn ebcdic_nl(t: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in t.lines() {
        out.extend(ebcdic(line));
        out.push(0x15);
    }
    out
}

/// Each record's lines joined into one (as the seed's PDF text layer).
fn joined(t: &str) -> String {
    let mut out = String::new();
    for line in t.lines() {
        let starts_record = line.len() > 30 && line.contains(" PACKET   0000000");
        if starts_record || line.starts_with(" ****") {
            out.push('\n');
        } else {
            out.push(' ');
        }
        out.push_str(line.trim());
    }
    out.push('\n');
    out
}

/// A raw mail body: quoted-printable, 76-column soft breaks.
fn quoted_printable(t: &str) -> String {
    let mut out = String::new();
    for line in t.lines() {
        let enc = line.replace('=', "=3D");
        let mut col = 0;
        for ch in enc.chars() {
            if col >= 75 {
                out.push_str("=\n");
                col = 0;
            }
            out.push(ch);
            col += 1;
        }
        out.push('\n');
    }
    out
}

#[test]
fn mangled_reports_read_the_same() {
    let c = &CASES[0];
    let text = std::fs::read_to_string(data(c.report)).unwrap();
    let packets = capture(c.pcap);
    let manglings: Vec<(&str, Vec<u8>)> = vec![
        ("mail-wrapped at 72", mail_wrap(&text, 72).into_bytes()),
        ("mail-wrapped at 60", mail_wrap(&text, 60).into_bytes()),
        (
            "CR LF and trailing blanks",
            text.replace('\n', "    \r\n").into_bytes(),
        ),
        (
            "quoted in a reply",
            text.lines()
                .map(|l| format!("> {l}\n"))
                .collect::<String>()
                .into_bytes(),
        ),
        ("ASA, pages, form feeds", asa_pages(&text).into_bytes()),
        ("EBCDIC FBA 133, no line ends", ebcdic_fba133(&text)),
        ("EBCDIC with NL", ebcdic_nl(&text)),
        ("records joined into lines", joined(&text).into_bytes()),
        (
            "quoted-printable mail body",
            quoted_printable(&text).into_bytes(),
        ),
    ];
    for (what, bytes) in manglings {
        let r = parse(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&r, &packets, c.abbrev, what);
    }
}

#[test]
fn bad_lines_are_noted_and_miscounted_dumps_flagged() {
    let c = &CASES[2];
    let text = std::fs::read_to_string(data(c.report)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // garbage inside the first record's header; a dump line of the second
    // record's IP header lost
    let first = lines.iter().position(|l| l.contains("Tod Clock")).unwrap();
    lines.insert(first + 1, "  %%% not a report line %%%".to_owned());
    let ip_headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with(" IP Header"))
        .map(|(i, _)| i)
        .collect();
    lines.remove(ip_headers[1] + 1);
    let r = parse(lines.join("\n").as_bytes()).unwrap();
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert_eq!(r.notes[0].line, first + 2);
    assert!(r.notes[0]
        .to_string()
        .ends_with("skipped: %%% not a report line %%%"));
    let p = r.records[1].packet().unwrap();
    assert!(
        p.problems.iter().any(|pr| pr
            .to_string()
            .contains("\"IP Header\" states 20 bytes, its hex dump holds 0")),
        "{:?}",
        p.problems
    );
    // the other packets are untouched
    let packets = capture(c.pcap);
    assert!(r.records[0].packet().unwrap().bytes == packets[0].1);
    assert!(r.records[2].packet().unwrap().bytes == packets[2].1);
}
