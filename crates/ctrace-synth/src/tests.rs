//! Unit tests of the writer, checking bytes at the documented offsets (no
//! use of the `ctrace` parsers; the round trip through them is in
//! tests/roundtrip.rs).

use super::*;
use crate::capture::{Frame, Link};

fn be16(b: &[u8], at: usize) -> usize {
    u16::from_be_bytes([b[at], b[at + 1]]) as usize
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

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

/// The CTEs of a raw file (walking CTELENP, skipping zero padding): only
/// for files whose entries are all ≥ 256 bytes or start a buffer.
fn raw_ctes(file: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= file.len() {
        let len = be16(file, at);
        if len == 0 {
            at = (at / output::BUFFER + 1) * output::BUFFER;
            continue;
        }
        out.push(&file[at..at + len]);
        at += len;
    }
    out
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
    let c = ctes[0];
    // CTE header
    assert_eq!(be16(c, 0), c.len());
    assert_eq!(be16(c, 2), 16);
    assert_eq!(be32(c, 4), 4);
    assert_eq!(be16(c, c.len() - 2), c.len());
    let h = &c[16..];
    assert_eq!(be16(h, 0), 92);
    assert_eq!(h[2], 0); // seq
    assert_eq!(h[3], records::FLAG_OUT); // first packet's source is local
    assert_eq!(h[4], 39);
    assert_eq!(&h[8..16], &records::ebcdic_name("OSAQDIO1", 8)[..]);
    let tod = u64::from_be_bytes(h[24..32].try_into().unwrap());
    assert_eq!(tod, records::tod_from_unix_ns(1_000_000_001_000, 0));
    let ctetime = u64::from_be_bytes(c[8..16].try_into().unwrap());
    assert_eq!(ctetime - tod, 13 * 4096);
    assert_eq!(&h[42..48], &[0xFF, 0xFF, 10, 0, 0, 1]);
    assert_eq!(be16(h, 64), 0x0401);
    assert_eq!(be16(h, 66), 21);
    assert_eq!(be32(h, 68), 45); // PTH_Plen
    assert_eq!(h[73], 6);
    assert_eq!(be32(h, 80), 45); // PTH_Tlen
    assert_eq!(be32(h, 84), 1);
    assert_eq!(
        &h[92..c.len() - 16 - 2],
        &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], b"hello")[..]
    );
    // the reply is inbound; packet records carry no VLAN id
    let h2 = &ctes[1][16..];
    assert_eq!(h2[3], 0);
    assert_eq!(be16(h2, 74), 0);
}

#[test]
fn local_option_and_loopback() {
    let o = Options {
        local: Some("10.0.0.2".parse().unwrap()),
        ..Options::default()
    };
    let (file, _) = build(&sample(), &o).unwrap();
    let ctes = raw_ctes(&file);
    assert_eq!(ctes[0][16 + 3], 0);
    assert_eq!(ctes[1][16 + 3], records::FLAG_OUT);
    let lo = vec![frame(
        5,
        eth(&ipv4_tcp([127, 0, 0, 1], [127, 0, 0, 1], b"x"), None),
    )];
    let (file, _) = build(&lo, &Options::default()).unwrap();
    let c = raw_ctes(&file)[0];
    assert_eq!(c[16 + 3], records::FLAG_OUT | records::FLAG_LOCAL);
    assert_eq!(&c[24..32], &records::ebcdic_name("LOOPBACK", 8)[..]);
    let named = Options {
        interface: Some("ETH1".into()),
        ..Options::default()
    };
    let (file, _) = build(&lo, &named).unwrap();
    assert_eq!(&raw_ctes(&file)[0][24..28], &records::ebcdic("ETH1")[..]);
}

#[test]
fn ethernet_padding_is_not_traced() {
    let mut f = eth(&ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], b""), None);
    f.extend_from_slice(&[0; 6]);
    let (file, _) = build(&[frame(0, f)], &Options::default()).unwrap();
    let c = raw_ctes(&file)[0];
    assert_eq!(c.len(), 16 + 92 + 40 + 2);
}

#[test]
fn abbreviated_packet() {
    let mut fr = frame(
        0,
        eth(&ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], &[9; 100]), None),
    );
    fr.data.truncate(14 + 60);
    let (file, _) = build(&[fr], &Options::default()).unwrap();
    let h = &raw_ctes(&file)[0][16..];
    assert_eq!(be32(h, 68), 140);
    assert_eq!(be32(h, 80), 60);
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
    let tod = &segs[0][16 + 24..16 + 32];
    for (i, c) in segs.iter().enumerate() {
        let h = &c[16..];
        assert_eq!(h[2] as usize, i);
        assert_eq!(h[5], records::OPT_SEGMENT);
        assert_eq!(be32(h, 76) as usize, 100 * i);
        assert_eq!(be32(h, 80), 340);
        assert_eq!(&h[24..32], tod);
    }
    assert_eq!(segs[3].len(), 16 + 92 + 40 + 2);
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
    assert_eq!(be32(ctes[0], 4), 7);
    let h = &ctes[1][16..];
    assert_eq!(&h[8..22], &records::ebcdic("EZANTAOSAPORT1")[..]);
    assert_eq!(be16(h, 74), 42);
    assert_eq!(&h[92..ctes[1].len() - 18], &frames[1].data[..]);
    // ARP: no addresses
    let arp = &ctes[2][16..];
    assert!(arp[32..64].iter().all(|&b| b == 0));
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
    let d = ctes[1];
    assert_eq!(be32(d, 4), 5);
    let h = &d[16..];
    assert_eq!(&h[8..16], &records::ebcdic_name("TCPAPPL", 8)[..]);
    assert_eq!(&h[16..24], &[2, 1, 6, 0, 0, 0, 0, 0]);
    assert_eq!(&h[92..d.len() - 18], b"hello");
    assert_eq!((be32(h, 68), be32(h, 80)), (5, 5));
    assert_eq!(be16(h, 64), 0x0401);
}

#[test]
fn rdw_and_bdw_framing() {
    let (rdw, _) = build(
        &sample(),
        &Options {
            framing: Framing::Rdw,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(be16(&rdw, 0), be16(&rdw, 4) + 4);
    assert_eq!(&rdw[2..4], &[0, 0]);
    let (bdw, _) = build(
        &sample(),
        &Options {
            framing: Framing::Bdw,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(be16(&bdw, 0), bdw.len());
    assert_eq!(be16(&bdw, 4), be16(&bdw, 8) + 4);
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
    let last = raw_ctes(&good)[2];
    let start =
        good.len() - 4096 + (4096 - good.iter().rev().position(|&b| b != 0).unwrap()) - last.len();
    assert_eq!(t.len(), start + last.len() / 2);
    let l = m(Malformed::CteLene);
    let c = raw_ctes(&l)[1];
    assert_eq!(be16(c, c.len() - 2), c.len() - 4);
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
    assert_eq!(ctes[1].len(), 18);
    assert_eq!(be32(ctes[1], 4), 0xFF00_0000);
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
    let tod = u64::from_be_bytes(raw_ctes(&file)[0][16 + 24..16 + 32].try_into().unwrap());
    assert_eq!(tod, records::tod_from_unix_ns(1_000_000_001_000, 27));
}
