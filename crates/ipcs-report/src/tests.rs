//! The reader against IBM's documented examples and the SHARE 2010 report
//! (transcribed in tests/data/ibm-*.txt and share2010-full-record.txt;
//! figure callout numbers removed).

use super::*;
use std::net::IpAddr;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn us(date: &str, time: &str) -> i64 {
    time::unix_us(
        time::parse_date(date).unwrap(),
        time::parse_time(time).unwrap(),
    )
}

/// The IPv4 header checksum verifies: the dump was read byte for byte.
fn ipv4_checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum == 0xFFFF
}

#[test]
fn ibm_dump_example() {
    let r = parse(&fixture("ibm-dump-example.txt")).unwrap();
    assert_eq!(r.layout, Layout::Dump);
    assert_eq!(r.time_zone, TimeZone::Gmt);
    assert_eq!(r.records.len(), 1);
    let rec = &r.records[0];
    assert_eq!(
        (rec.number, rec.sysname.as_str(), rec.mnemonic.as_str()),
        (4521, "MVS118", "SCAN")
    );
    assert_eq!(
        (rec.entry_id, rec.description.as_str()),
        (0x0303_0000, "Scan-Normal packet")
    );
    assert_eq!(
        (rec.direction, rec.endpoint, rec.name.as_deref()),
        (Some(Direction::Inbound), Some(Endpoint::Link), Some("ETH1"))
    );
    assert_eq!(
        (rec.device.as_deref(), rec.extent),
        (Some("LCS Ethernet"), Some(Extent::Full(40)))
    );
    assert_eq!(rec.tod_us, Some(us("2002/11/20", "17:38:32.175559")));
    assert_eq!(rec.stamp_us, Some(us("2002/11/20", "17:38:32.175560")));
    assert_eq!(
        (rec.asid, rec.tcb, rec.cid),
        (Some(0x01F7), Some(0), Some(0))
    );
    let names: Vec<(&str, Option<u32>, usize)> = rec
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.declared, s.bytes.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("IP Header", Some(20), 20),
            ("Protocol Header", Some(8), 8),
            ("Data", Some(12), 12)
        ]
    );
    assert_eq!(rec.section("data").unwrap().data_length, Some(12));
    assert!(rec.problems.is_empty(), "{:?}", rec.problems);
    let p = rec.packet().unwrap();
    assert_eq!(
        (p.kind, p.bytes.len(), p.original_len, p.abbreviated),
        (Kind::Ip, 40, 40, false)
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert!(ipv4_checksum_ok(&p.bytes[..20]));
    // The same record in IBM's SUMMARY example of that trace ("II 4521
    // 17:38:32.175560 0000 SCAN 03030000 10 TCPCS 00000000 12 ICMP
    // 9.42.105.71 9.42.104.38"): inbound ICMP, IP id 0000, 12 data bytes.
    assert_eq!(&p.bytes[4..6], &[0, 0]);
    assert_eq!(p.bytes[9], 1);
    assert_eq!(&p.bytes[12..16], &[9, 42, 105, 71]);
    assert_eq!(&p.bytes[16..20], &[9, 42, 104, 38]);
    assert_eq!(p.bytes.len() - 28, 12);
    assert_eq!(p.direction, Some(Direction::Inbound));
    // only the furniture and the option listing, nothing skipped
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn ibm_format_example_has_no_dumps() {
    let b = fixture("ibm-format-example.txt");
    assert_eq!(
        parse(&b).unwrap_err(),
        Error::NoDumps {
            records: 1,
            layout: Layout::Format
        }
    );
    assert!(parse(&b)
        .unwrap_err()
        .to_string()
        .contains("cannot be rebuilt"));
    let r = read(&b);
    let rec = &r.records[0];
    assert_eq!(
        (rec.number, rec.entry_id, rec.direction),
        (3, 1, Some(Direction::Outbound))
    );
    assert_eq!(
        (rec.name.as_deref(), rec.device.as_deref()),
        (Some("TR1"), Some("LCS Token Ring"))
    );
    assert_eq!((rec.extent, rec.seq), (Some(Extent::Full(56)), Some(0)));
    assert_eq!(rec.flags, ["Pkt", "Ver2", "Out"]);
    assert_eq!(
        (rec.src_port, rec.dst_port, rec.asid, rec.tcb),
        (Some(1025), Some(53), Some(0x1E), Some(0x007F_62C0))
    );
    assert_eq!(
        (rec.ip_version, rec.ip_packet_length, rec.ip_id),
        (Some(4), Some(56), Some(0x0E))
    );
    assert_eq!(rec.ip_src, Some("9.67.113.65".parse::<IpAddr>().unwrap()));
    assert_eq!(rec.ip_dst, Some("9.37.80.3".parse::<IpAddr>().unwrap()));
    assert!(rec.formatted && !rec.has_dump() && rec.packet().is_none());
    // the DNS decode after the UDP header is formatted protocol detail
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn ibm_snaip_example_flags_a_dump_shorter_than_its_heading() {
    let r = read(&fixture("ibm-snaip-example.txt"));
    let rec = &r.records[0];
    assert_eq!(
        (rec.endpoint, rec.name.as_deref(), rec.lost_records),
        (Some(Endpoint::Link), Some("SNALU62L"), Some(0))
    );
    assert_eq!((rec.ip_id, rec.ip_packet_length), (Some(0x1543), Some(276)));
    // "Echo Data : 248" heads the dump; the transcription holds 96 bytes
    let s = &rec.sections[0];
    assert_eq!(
        (s.name.as_str(), s.declared, s.bytes.len()),
        ("Echo Data", Some(248), 96)
    );
    assert_eq!(&s.bytes[..4], &[0xB5, 0x6D, 0x52, 0xDB]);
    assert_eq!(
        rec.problems,
        [Problem::SectionLength {
            line: 16,
            section: "Echo Data".into(),
            declared: 248,
            dumped: 96
        }]
    );
    let p = rec.packet().unwrap();
    assert_eq!(p.kind, Kind::Other);
    assert!(p.problems[0]
        .to_string()
        .starts_with("line 16: \"Echo Data\" states 248 bytes, its hex dump holds 96"));
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn ibm_data_trace_example() {
    let r = read(&fixture("ibm-data-trace-example.txt"));
    let rec = &r.records[0];
    assert_eq!(
        (
            rec.mnemonic.as_str(),
            rec.format_id(),
            rec.description.as_str()
        ),
        ("DATA", 5, "Data Trace")
    );
    assert_eq!(
        (rec.direction, rec.endpoint, rec.name.as_deref()),
        (
            Some(Direction::Outbound),
            Some(Endpoint::Job),
            Some("USER12")
        )
    );
    assert_eq!(
        (rec.extent, rec.cid, rec.seq),
        (Some(Extent::Full(0)), Some(0x58), Some(0))
    );
    assert_eq!(rec.tod_us, Some(us("2009/06/22", "13:18:52.705248")));
    assert_eq!(
        (
            rec.domain.as_deref(),
            rec.socket_type.as_deref(),
            rec.socket_protocol.as_deref()
        ),
        (Some("AF_Inet"), Some("Stream"), Some("TCP"))
    );
    assert_eq!(rec.state.as_deref(), Some("API Data Flow Starts"));
    assert_eq!(rec.flags, ["Out"]);
    // a start record: no data, no date line before it in the excerpt
    assert_eq!(rec.stamp_us, None);
    assert!(matches!(
        parse(&fixture("ibm-data-trace-example.txt")),
        Err(Error::NoDumps {
            records: 1,
            layout: Layout::Short
        })
    ));
}

#[test]
fn ibm_summary_example_is_refused_clearly() {
    let e = parse(&fixture("ibm-summary-example.txt")).unwrap_err();
    assert_eq!(e, Error::SummaryOnly { line: 5 });
    assert!(e.to_string().contains("SUMMARY report"));
    // recognised, so that the refusal is this clear one
    assert_eq!(
        recognise(&fixture("ibm-summary-example.txt")),
        Recognised::Report
    );
}

#[test]
fn share2010_full_record_flattened_into_one_line() {
    // The seed's text layer joined the whole record into one line and cut
    // the slide after the IP header dump.
    let r = parse(&fixture("share2010-full-record.txt")).unwrap();
    assert_eq!(r.layout, Layout::Full);
    let rec = &r.records[0];
    assert_eq!(
        (rec.number, rec.sysname.as_str(), rec.entry_id),
        (804_059, "ADCD", 4)
    );
    assert_eq!(
        (rec.direction, rec.name.as_deref(), rec.device.as_deref()),
        (Some(Direction::Inbound), Some("ETH1"), Some("LCS Ethernet"))
    );
    assert_eq!(
        (rec.extent, rec.ifindex, rec.seq),
        (Some(Extent::Full(52)), Some(4), Some(0))
    );
    assert_eq!(rec.flags, ["Pkt"]);
    assert_eq!(rec.tod_us, Some(us("2008/02/22", "20:48:42.883162")));
    assert_eq!(rec.stamp_us, Some(us("2008/02/22", "20:48:42.883175")));
    assert_eq!((rec.ip_id, rec.ip_packet_length), (Some(0xAD04), Some(52)));
    assert_eq!(rec.ip_src, Some("137.72.43.110".parse::<IpAddr>().unwrap()));
    assert_eq!(rec.ip_dst, Some("137.72.43.207".parse::<IpAddr>().unwrap()));
    let p = rec.packet().unwrap();
    assert_eq!(
        (p.bytes.len(), p.original_len, p.abbreviated),
        (20, 52, true)
    );
    assert!(ipv4_checksum_ok(&p.bytes));
    assert_eq!(&p.bytes[4..6], &[0xAD, 0x04]);
    assert_eq!(
        p.problems,
        [Problem::Incomplete {
            line: 6,
            dumped: 20,
            expected: 52
        }]
    );
    assert_eq!(
        recognise(&fixture("share2010-full-record.txt")),
        Recognised::Report
    );
}

#[test]
fn recognition() {
    assert_eq!(
        recognise(&fixture("ibm-dump-example.txt")),
        Recognised::Report
    );
    assert_eq!(
        recognise(&fixture("ibm-format-example.txt")),
        Recognised::Report
    );
    assert_eq!(recognise(b"just some text\nwith lines\n"), Recognised::No);
    assert_eq!(recognise(&[0u8, 1, 2, 3, 0xFF, 0x80]), Recognised::No);
    assert_eq!(recognise(b""), Recognised::No);
    assert_eq!(parse(b"hello\n").unwrap_err(), Error::NotAReport);
    let ebcdic =
        ctrace::ebcdic::encode("    3 MVSJ     PACKET   00000001 23:39:11.873541 Packet Trace");
    assert_eq!(recognise(&ebcdic), Recognised::Report);
}

#[test]
fn records_without_dumps_beside_records_with() {
    let mut b = fixture("ibm-dump-example.txt");
    b.extend(fixture("ibm-data-trace-example.txt"));
    let r = parse(&b).unwrap();
    assert_eq!((r.records.len(), r.packets()), (2, 1));
    assert!(r.records[1].packet().is_none());
    // the data trace record takes the date of the dump example's line
    assert_eq!(
        r.records[1].stamp_us,
        Some(us("2002/11/20", "13:18:52.705250"))
    );
}
