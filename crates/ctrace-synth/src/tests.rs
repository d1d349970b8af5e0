//! Unit tests of the writer, reading what it wrote with the `ctrace`
//! crate's views (the writer takes its positions from the same layout
//! table; tests/data/ctrace-vectors.py checks the table itself).

use super::*;
use crate::capture::{Frame, Link};
use ctrace::{Cte, Pthdr};

fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = 40 + payload.len();
    let mut v = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ];
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(&[
        0x04, 0x01, 0x00, 0x15, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0,
    ]);
    v.extend_from_slice(payload);
    v
}

fn eth(ip: &[u8], vlan: Option<u16>) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(ip);
    f
}

fn frame(ts_ns: i64, data: Vec<u8>) -> Frame {
    Frame {
        ts_ns,
        link: Link::Ethernet,
        orig_len: data.len() as u32,
        data,
        interface: 0,
    }
}

fn sample() -> Vec<Frame> {
    let a = [10, 0, 0, 1];
    let b = [10, 0, 0, 2];
    let mut arp = vec![0xFF; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    vec![
        frame(1_000_000_001_000, eth(&ipv4_tcp(a, b, b"hello"), None)),
        frame(1_000_000_002_000, eth(&ipv4_tcp(b, a, b""), Some(42))),
        frame(1_000_000_003_000, arp),
        frame(1_000_000_004_000, eth(&ipv4_tcp(b, a, &[7; 300]), None)),
    ]
}

/// The entries of a written file, in order (any framing).
fn entries(file: &[u8], framing: Framing) -> Vec<Vec<u8>> {
    let framing = match framing {
        Framing::Raw => ctrace::Framing::Raw,
        Framing::Rdw => ctrace::Framing::Rdw,
        Framing::Bdw => ctrace::Framing::BdwRdw,
    };
    let mut r = ctrace::Reader::new(framing);
    let mut input = ctrace::SliceInput::new(file);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet(&mut input).unwrap() {
        for &(at, len) in p.entries {
            out.push(p.record[at..at + len].to_vec());
        }
    }
    out
}

fn raw_ctes(file: &[u8]) -> Vec<Vec<u8>> {
    entries(file, Framing::Raw)
}

fn hdr(c: &[u8]) -> Pthdr<'_> {
    Pthdr::from_cte(&Cte::new_checked(c).unwrap()).unwrap()
}

#[test]
fn packet_records() {
    let (file, s) = build(&sample(), &Options::default()).unwrap();
    assert_eq!(
        (s.frames, s.packets, s.skipped, s.ctes, s.segmented),
        (4, 3, 1, 3, 0)
    );
    assert_eq!(file.len(), 4096);
    let ctes = raw_ctes(&file);
    assert_eq!(ctes.len(), 3);
    let c = Cte::new_checked(&ctes[0]).unwrap();
    assert_eq!((c.cteoff(), c.format_id()), (16, 4));
    let h = hdr(&ctes[0]);
    assert_eq!(h.header_len(), 92);
    assert_eq!(h.seq_num(), 0);
    assert!(h.is_outbound(), "the first packet's source is local");
    assert_eq!(h.device_type(), 39);
    assert_eq!(h.interface_name(), "OSAQDIO1");
    assert_eq!(h.tod(), records::tod_from_unix_ns(1_000_000_001_000, 0));
    assert_eq!(c.tod() - h.tod(), 13 * 4096);
    assert_eq!(h.src_ip().to_string(), "10.0.0.1");
    assert_eq!((h.src_port(), h.dst_port()), (0x0401, 21));
    assert_eq!((h.packet_len(), h.traced_len()), (45, 45));
    assert_eq!(h.interface_index(), 1);
    assert_eq!(h.drop_reason(), Some(0));
    assert_eq!(h.unknown_bytes(), &[0; 14]);
    assert_eq!(
        h.payload(),
        &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], b"hello")[..]
    );
    assert!(!hdr(&ctes[1]).is_outbound());
}

#[test]
fn local_option_and_loopback() {
    let o = Options {
        local: Some("10.0.0.2".parse().unwrap()),
        ..Options::default()
    };
    let (file, _) = build(&sample(), &o).unwrap();
    let ctes = raw_ctes(&file);
    assert!(!hdr(&ctes[0]).is_outbound());
    assert!(hdr(&ctes[1]).is_outbound());
    let lo = vec![frame(
        5,
        eth(&ipv4_tcp([127, 0, 0, 1], [127, 0, 0, 1], b"x"), None),
    )];
    let (file, _) = build(&lo, &Options::default()).unwrap();
    let c = &raw_ctes(&file)[0];
    assert!(hdr(c).is_outbound() && hdr(c).is_local());
    assert_eq!(hdr(c).interface_name(), "LOOPBACK");
    let named = Options {
        interface: Some("ETH1".into()),
        ..Options::default()
    };
    let (file, _) = build(&lo, &named).unwrap();
    assert_eq!(hdr(&raw_ctes(&file)[0]).interface_name(), "ETH1");
}

#[test]
fn ethernet_padding_is_not_traced() {
    let mut f = eth(&ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], b""), None);
    f.extend_from_slice(&[0; 6]);
    let (file, _) = build(&[frame(0, f)], &Options::default()).unwrap();
    assert_eq!(hdr(&raw_ctes(&file)[0]).payload().len(), 40);
}

#[test]
fn abbreviated_packet() {
    let mut fr = frame(
        0,
        eth(&ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], &[9; 100]), None),
    );
    fr.data.truncate(14 + 60);
    let (file, _) = build(&[fr], &Options::default()).unwrap();
    let c = &raw_ctes(&file)[0];
    let h = hdr(c);
    assert_eq!((h.packet_len(), h.traced_len()), (140, 60));
    assert!(h.is_abbreviated());
}

#[test]
fn segments() {
    let o = Options {
        segment_size: Some(100),
        ..Options::default()
    };
    let (file, s) = build(&sample(), &o).unwrap();
    // 340-byte packet → 4 CTEs
    assert_eq!((s.ctes, s.segmented), (6, 1));
    let ctes = raw_ctes(&file);
    let segs = &ctes[2..];
    for (i, c) in segs.iter().enumerate() {
        let h = hdr(c);
        assert_eq!(h.seq_num() as usize, i);
        assert_eq!(h.traced_len(), 340);
        assert_eq!(h.tod(), hdr(&segs[0]).tod());
    }
    assert_eq!(hdr(&segs[3]).payload().len(), 40);
    assert!(build(
        &sample(),
        &Options {
            segment_size: Some(0),
            ..Options::default()
        }
    )
    .is_err());
    assert!(build(
        &sample(),
        &Options {
            segment_size: Some(70_000),
            ..Options::default()
        }
    )
    .is_err());
}

#[test]
fn osaenta_frames() {
    let o = Options {
        osaenta: true,
        ..Options::default()
    };
    let frames = sample();
    let (file, s) = build(&frames, &o).unwrap();
    assert_eq!((s.packets, s.skipped), (4, 0));
    let ctes = raw_ctes(&file);
    assert_eq!(Cte::new_checked(&ctes[0]).unwrap().fmtid(), 7);
    let h = hdr(&ctes[1]);
    assert_eq!(h.interface_name(), "EZANTAOSAPORT1");
    assert_eq!(h.payload(), &frames[1].data[..]);
    // ARP: no addresses
    let arp = hdr(&ctes[2]);
    assert_eq!(arp.src_ip().to_string(), "::");
    let raw = vec![Frame {
        link: Link::RawIp,
        ..frame(0, ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], b""))
    }];
    assert!(build(&raw, &o).is_err());
}

#[test]
fn data_trace_records() {
    let o = Options {
        data_trace: true,
        ..Options::default()
    };
    let (file, s) = build(&sample(), &o).unwrap();
    assert_eq!((s.ctes, s.data_records), (5, 2));
    let ctes = raw_ctes(&file);
    assert_eq!(Cte::new_checked(&ctes[1]).unwrap().fmtid(), 5);
    let h = hdr(&ctes[1]);
    assert_eq!(h.job_name(), "TCPAPPL");
    assert_eq!(
        (h.dt_domain(), h.dt_type(), h.dt_protocol(), h.dt_state()),
        (2, 1, 6, 0)
    );
    assert_eq!(h.payload(), b"hello");
    assert_eq!((h.packet_len(), h.traced_len()), (5, 5));
    assert_eq!(h.src_port(), 0x0401);
}

#[test]
fn framings_and_writer_headers() {
    let good = raw_ctes(&build(&sample(), &Options::default()).unwrap().0);
    for framing in [Framing::Raw, Framing::Rdw, Framing::Bdw] {
        for (buffer, header) in [(4096, 0), (200, 24), (65_536, 0)] {
            let o = Options {
                framing,
                buffer,
                writer_header: header,
                ..Options::default()
            };
            let (file, _) = build(&sample(), &o).unwrap();
            assert_eq!(
                entries(&file, framing),
                good,
                "{framing:?} {buffer} {header}"
            );
            if header > 0 {
                let at = if framing == Framing::Raw {
                    0
                } else {
                    4 * (framing as usize)
                };
                assert_eq!(&file[at..at + 6], &records::ebcdic("WTRHDR")[..]);
            }
        }
    }
}

#[test]
fn malformed_kinds() {
    let m = |k| {
        build(
            &sample(),
            &Options {
                malformed: Some(k),
                ..Options::default()
            },
        )
        .unwrap()
        .0
    };
    let good = build(&sample(), &Options::default()).unwrap().0;
    let t = m(Malformed::Truncated);
    let last = raw_ctes(&good)[2].clone();
    let start = good
        .windows(last.len())
        .position(|w| w == &last[..])
        .unwrap();
    assert_eq!(t.len(), start + last.len() / 2);
    let l = m(Malformed::CteLene);
    assert_eq!(raw_ctes(&l).len(), 2, "the damaged second entry is skipped");
    let x = m(Malformed::Xmit);
    assert_eq!(&x[2..8], &[0xC9, 0xD5, 0xD4, 0xD9, 0xF0, 0xF1]);
    let tr = m(Malformed::Terse);
    assert_eq!(tr[0], 0x05);
    assert_eq!(&tr[12..], &good[..]);
    let a = m(Malformed::AsciiText);
    let text = String::from_utf8(a).unwrap();
    assert!(text.contains("Packet Trace") && text.contains("To   Interface   : OSAQDIO1"));
    assert!(text.contains("Tod Clock        : 1970/01/01 00:16:40.000001"));
    let e = m(Malformed::EbcdicText);
    assert_eq!(e, records::ebcdic(&text));
    let lost = m(Malformed::LostRecord);
    let ctes = raw_ctes(&lost);
    assert_eq!(ctes.len(), 4);
    assert!(Cte::new_checked(&ctes[1]).unwrap().is_lost_record());
    let long = m(Malformed::LongRdw);
    assert_eq!(entries(&long, Framing::Rdw), raw_ctes(&good));
    for k in Malformed::ALL {
        assert_eq!(Malformed::parse(k.name()), Some(k));
    }
    assert_eq!(Malformed::parse("nope"), None);
}
#[test]
fn args() {
    let a = |s: &str| parse_args(s.split_whitespace().map(String::from));
    let (i, o, opt) = a("in.pcap out.ctrace --framing bdw --osaenta --segment-size 500 --data-trace \
                         --malformed lost-record --local ::1 --interface ETH1 --job FTPD --port P1 --leap-seconds 27")
        .unwrap();
    assert_eq!(
        (i.to_str(), o.to_str()),
        (Some("in.pcap"), Some("out.ctrace"))
    );
    assert_eq!(opt.framing, Framing::Bdw);
    assert!(opt.osaenta && opt.data_trace);
    assert_eq!(opt.segment_size, Some(500));
    assert_eq!(opt.malformed, Some(Malformed::LostRecord));
    assert_eq!(opt.local, Some("::1".parse().unwrap()));
    assert_eq!(opt.interface.as_deref(), Some("ETH1"));
    assert_eq!(
        (opt.job.as_str(), opt.port_name.as_str(), opt.leap_seconds),
        ("FTPD", "P1", 27)
    );
    assert_eq!(a("a b --framing rdw").unwrap().2.framing, Framing::Rdw);
    let o = a("a b --buffer 65536 --writer-header 32").unwrap().2;
    assert_eq!((o.buffer, o.writer_header), (65_536, 32));
    for bad in [
        "a",
        "a b c",
        "a b --framing x",
        "a b --segment-size x",
        "a b --malformed x",
        "a b --local x",
        "a b --leap-seconds x",
        "a b --bogus",
        "a b --framing",
        "a b --buffer 0",
        "a b --writer-header x",
    ] {
        assert!(a(bad).is_err(), "{bad}");
    }
}

#[test]
fn leap_seconds_in_tod() {
    let o = Options {
        leap_seconds: 27,
        ..Options::default()
    };
    let (file, _) = build(&sample()[..1], &o).unwrap();
    let tod = hdr(&raw_ctes(&file)[0]).tod();
    assert_eq!(tod, records::tod_from_unix_ns(1_000_000_001_000, 27));
}
