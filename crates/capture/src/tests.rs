//! Reading tests on captures built in memory: pcap in both byte orders and
//! resolutions, pcapng with several sections, interfaces, link types and
//! time stamp resolutions, gzip, cut-off and damaged files, format errors.

use super::*;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::simple_packet::SimplePacketBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};
use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

fn ip_packet(i: u16) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1000 + i, 53)
        .write(&mut v, &[i as u8; 30])
        .unwrap();
    v
}

fn eth_frame(i: u16) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    v.extend_from_slice(&ip_packet(i));
    v
}

/// A classic pcap of `n` Ethernet frames, frame i at i seconds + i·1001 ns
/// (µs files keep i µs).
fn pcap(n: u16, endianness: Endianness, res: TsResolution) -> Vec<u8> {
    let header = PcapHeader {
        endianness,
        ts_resolution: res,
        snaplen: 65535,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for i in 0..n {
        let frame = eth_frame(i);
        let ns = if res == TsResolution::NanoSecond {
            1001
        } else {
            1000
        };
        let ts = Duration::new(1_700_000_000 + u64::from(i), u32::from(i) * ns);
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32 + 4, &frame))
            .unwrap();
    }
    w.into_writer()
}

/// (frame, time, original length, link, interface, direction, bytes)
type Seen = (u32, i64, u32, Link, u32, Direction, Vec<u8>);

fn seen(p: &Packet<'_>) -> Seen {
    (
        p.frame,
        p.ts_ns,
        p.orig_len,
        p.link,
        p.interface,
        p.direction,
        p.data.to_vec(),
    )
}

fn collect(c: &mut Capture<'_>) -> Vec<Seen> {
    let mut out = Vec::new();
    c.for_each(|p| out.push(seen(p))).unwrap();
    out
}

#[test]
fn pcap_both_orders_and_resolutions() {
    for endianness in [Endianness::Little, Endianness::Big] {
        for res in [TsResolution::MicroSecond, TsResolution::NanoSecond] {
            let bytes = pcap(5, endianness, res);
            let mut c = from_bytes(&bytes).unwrap();
            assert_eq!(
                c.format(),
                Format::Pcap {
                    nanosecond: res == TsResolution::NanoSecond,
                    big_endian: endianness == Endianness::Big
                }
            );
            let got = collect(&mut c);
            assert_eq!(got.len(), 5);
            for (i, (frame, ts, orig, link, iface, dir, data)) in got.into_iter().enumerate() {
                let i16 = i as u16;
                let frac = if res == TsResolution::NanoSecond {
                    1001
                } else {
                    1000
                };
                assert_eq!(frame, i as u32 + 1);
                assert_eq!(
                    ts,
                    (1_700_000_000 + i as i64) * 1_000_000_000 + i as i64 * frac
                );
                assert_eq!(data, eth_frame(i16));
                assert_eq!(
                    (orig, link, iface, dir),
                    (data.len() as u32 + 4, Link::Ethernet, 0, Direction::Unknown)
                );
            }
            assert_eq!(c.interfaces().len(), 1);
            assert_eq!(c.interfaces()[0].linktype, 1);
            assert!(c.next_packet().unwrap().is_none());
        }
    }
}

#[test]
fn pcap_snaplen_shorter_than_packets() {
    // original length beyond the snap length: valid (pcap-file's checked
    // reader refuses it, this crate does not)
    let header = PcapHeader {
        snaplen: 50,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    let frame = eth_frame(1);
    let raw = pcap_file::pcap::RawPcapPacket {
        ts_sec: 1,
        ts_frac: 2,
        incl_len: 50,
        orig_len: frame.len() as u32,
        data: Cow::Borrowed(&frame[..50]),
    };
    w.write_raw_packet(&raw).unwrap();
    let bytes = w.into_writer();
    let mut c = from_bytes(&bytes).unwrap();
    let p = c.next_packet().unwrap().unwrap();
    assert_eq!(
        (p.data.len(), p.orig_len, p.ts_ns),
        (50, frame.len() as u32, 1_000_002_000)
    );
    let (_, k) = extract(p.link, p.data).unwrap();
    assert!(k.has(keys::flag::PARTIAL_DIGEST));
}

#[test]
fn cut_off_pcap_keeps_the_packets_before() {
    let bytes = pcap(4, Endianness::Little, TsResolution::MicroSecond);
    for cut in [bytes.len() - 1, bytes.len() - 60, 24 + 16 + 72 + 5] {
        let mut c = from_bytes(&bytes[..cut]).unwrap();
        let mut n = 0;
        let err = loop {
            match c.next_packet() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("no error at {cut}"),
                Err(e) => break e,
            }
        };
        assert!(err.is_truncation(), "{err}");
        assert!(n < 4);
        assert!(err.to_string().starts_with("<memory>: byte "), "{err}");
        assert!(c.next_packet().unwrap().is_none());
        let stats = from_bytes(&bytes[..cut]).unwrap().scan(|_, _| {}).unwrap();
        assert_eq!(stats.packets, n);
        assert!(stats.truncated.is_some());
    }
    // a header alone is an empty capture
    assert!(from_bytes(&bytes[..24])
        .unwrap()
        .next_packet()
        .unwrap()
        .is_none());
    let e = from_bytes(&bytes[..20]).unwrap_err();
    assert!(
        e.is_truncation() && e.to_string().contains("pcap file header"),
        "{e}"
    );
}

#[test]
fn damaged_pcap_length() {
    let mut bytes = pcap(3, Endianness::Little, TsResolution::MicroSecond);
    let second = 24 + 16 + eth_frame(0).len();
    bytes[second + 8..second + 12].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let mut c = from_bytes(&bytes).unwrap();
    assert!(c.next_packet().unwrap().is_some());
    let e = c.next_packet().unwrap_err();
    assert!(!e.is_truncation());
    assert_eq!(e.offset(), Some(second as u64));
    assert!(e.to_string().contains("exceeds"), "{e}");
}

fn idb(
    link: DataLink,
    options: Vec<InterfaceDescriptionOption<'static>>,
) -> InterfaceDescriptionBlock<'static> {
    InterfaceDescriptionBlock {
        linktype: link,
        snaplen: 0,
        options,
    }
}

fn epb(iface: u32, raw_ts: u64, data: &[u8], flags: Option<u32>) -> EnhancedPacketBlock<'_> {
    EnhancedPacketBlock {
        interface_id: iface,
        // pcap-file writes the Duration's nanoseconds as the raw count
        timestamp: Duration::from_nanos(raw_ts),
        original_len: data.len() as u32,
        data: Cow::Borrowed(data),
        options: flags.map(EnhancedPacketOption::Flags).into_iter().collect(),
    }
}

/// Two sections: little-endian (Ethernet µs, raw IP ns with a name, Linux
/// SLL at 2^-20 s with a 100 s offset), then big-endian (raw IP at 10^-3 s
/// and a simple packet block on Ethernet).
fn two_sections() -> Vec<u8> {
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
    w.write_pcapng_block(idb(DataLink::ETHERNET, vec![]))
        .unwrap();
    w.write_pcapng_block(idb(
        DataLink::RAW,
        vec![
            InterfaceDescriptionOption::IfName("rawip".into()),
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    ))
    .unwrap();
    w.write_pcapng_block(idb(
        DataLink::LINUX_SLL,
        vec![
            InterfaceDescriptionOption::IfTsResol(0x80 | 20),
            InterfaceDescriptionOption::IfTsOffset(100),
        ],
    ))
    .unwrap();
    let e = eth_frame(1);
    let ip = ip_packet(2);
    let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip_packet(3));
    w.write_pcapng_block(epb(0, 1_700_000_000_000_001, &e, Some(1)))
        .unwrap();
    w.write_pcapng_block(epb(1, 1_700_000_000_000_000_002, &ip, Some(2)))
        .unwrap();
    w.write_pcapng_block(epb(2, 3 << 19, &sll, None)).unwrap();
    let mut bytes = w.into_inner();
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Big).unwrap();
    w.write_pcapng_block(idb(DataLink::ETHERNET, vec![]))
        .unwrap();
    w.write_pcapng_block(idb(
        DataLink::IPV4,
        vec![InterfaceDescriptionOption::IfTsResol(3)],
    ))
    .unwrap();
    w.write_pcapng_block(epb(1, 1_700_000_000_123, &ip_packet(4), None))
        .unwrap();
    let e5 = eth_frame(5);
    w.write_pcapng_block(SimplePacketBlock {
        original_len: e5.len() as u32,
        data: Cow::Borrowed(&e5),
    })
    .unwrap();
    bytes.extend_from_slice(&w.into_inner());
    bytes
}

#[test]
fn pcapng_sections_interfaces_resolutions() {
    let bytes = two_sections();
    let mut c = from_bytes(&bytes).unwrap();
    assert_eq!(c.format(), Format::PcapNg { big_endian: false });
    let got = collect(&mut c);
    let want = [
        (
            1,
            1_700_000_000_000_001_000,
            Link::Ethernet,
            0,
            Direction::Inbound,
            eth_frame(1),
        ),
        (
            2,
            1_700_000_000_000_000_002,
            Link::Raw,
            1,
            Direction::Outbound,
            ip_packet(2),
        ),
        (
            3,
            101_500_000_000,
            Link::LinuxSll,
            2,
            Direction::Outbound,
            Vec::new(),
        ),
        (
            4,
            1_700_000_000_123_000_000,
            Link::Raw,
            4,
            Direction::Unknown,
            ip_packet(4),
        ),
        (5, 0, Link::Ethernet, 3, Direction::Unknown, eth_frame(5)),
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.0, g.1, g.3, g.4, g.5),
            (w.0, w.1, w.2, w.3, w.4),
            "frame {}",
            w.0
        );
        if !w.5.is_empty() {
            assert_eq!(g.6, w.5);
        }
        // the same UDP packet keys whatever the link
        let (flow, _) = extract(g.3, &g.6).unwrap();
        assert_eq!(flow.dport, 53);
    }
    let ifs = c.interfaces();
    assert_eq!(ifs.len(), 5);
    assert_eq!(ifs[1].name.as_deref(), Some("rawip"));
    assert_eq!((ifs[1].link, ifs[1].tsresol), (Link::Raw, 9));
    assert_eq!((ifs[4].linktype, ifs[4].link), (228, Link::Raw));
    assert_eq!(ifs[2].tsresol, 0x80 | 20);
    // gzip of it reads the same
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let mut c = from_bytes(&gz).unwrap();
    assert!(c.is_compressed());
    assert_eq!(collect(&mut c), got);
}

#[test]
fn pcapng_damage() {
    let bytes = two_sections();
    // an interface id the section does not have
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
    w.write_pcapng_block(idb(DataLink::ETHERNET, vec![]))
        .unwrap();
    w.write_pcapng_block(epb(0, 1, &eth_frame(1), None))
        .unwrap();
    let mut bad = w.into_inner();
    let epb_at = 28 + 20;
    bad[epb_at + 8] = 7;
    let mut c = from_bytes(&bad).unwrap();
    let e = c.next_packet().unwrap_err();
    assert_eq!(e.offset(), Some(epb_at as u64));
    assert!(e.to_string().contains("interface id 7"), "{e}");
    // a block length that is no multiple of 4
    let mut bad = bytes.clone();
    bad[28 + 4] = 21;
    let e = from_bytes(&bad).unwrap().next_packet().unwrap_err();
    assert!(e.to_string().contains("multiple of 4"), "{e}");
    // cut off in the middle of a block: the packets before, then truncation
    let mut c = from_bytes(&bytes[..bytes.len() - 10]).unwrap();
    let mut n = 0;
    let e = loop {
        match c.next_packet() {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert!(e.is_truncation() && n == 4, "{n} {e}");
    // an interface name that is not UTF-8 (pcap-file refuses it)
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
    w.write_pcapng_block(idb(
        DataLink::RAW,
        vec![
            InterfaceDescriptionOption::IfName("eth\u{e9}".into()),
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    ))
    .unwrap();
    w.write_pcapng_block(epb(0, 5, &ip_packet(1), None))
        .unwrap();
    let mut latin1 = w.into_inner();
    let at = latin1.windows(3).position(|x| x == b"eth").unwrap();
    latin1[at + 3] = 0xE9;
    latin1[at + 4] = b'x';
    let mut c = from_bytes(&latin1).unwrap();
    let p = c.next_packet().unwrap().unwrap();
    assert_eq!((p.ts_ns, p.link), (5, Link::Raw));
    assert_eq!(c.interfaces()[0].name.as_deref(), Some("eth\u{fffd}x"));
}

#[test]
fn format_errors() {
    let e = from_bytes(b"").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Empty));
    let e = from_bytes(b"hello, this is not a capture at all").unwrap_err();
    assert!(
        e.to_string().contains("CTRACE") || e.to_string().contains("not a pcap"),
        "{e}"
    );
    let e = from_bytes(&[
        0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    ])
    .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnknownFormat { .. }), "{e}");
    assert!(e.to_string().contains("12 34 56 78"), "{e}");
    for (magic, word) in [
        (&[0x28, 0xB5, 0x2F, 0xFD][..], "zstd"),
        (&[0x04, 0x22, 0x4D, 0x18][..], "LZ4"),
        (&[0xA1, 0xB2, 0xCD, 0x34][..], "Kuznetzov"),
        (&b"BZh91AY"[..], "bzip2"),
    ] {
        let mut b = magic.to_vec();
        b.resize(64, 0);
        let e = from_bytes(&b).unwrap_err();
        assert!(e.to_string().contains(word), "{e}");
    }
    // gzip of garbage, and a damaged gzip stream
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[0x12; 100]).unwrap();
    let gz = gz.finish().unwrap();
    let e = from_bytes(&gz).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnknownFormat { .. }), "{e}");
    let e = from_bytes(&[0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io(_)), "{e}");
    // a file that does not exist
    let e = open("/nonexistent/x.pcap").unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/x.pcap: "), "{e}");
}

#[test]
fn gzip_members_and_streams() {
    let bytes = pcap(50, Endianness::Little, TsResolution::NanoSecond);
    // two gzip members (gzip a >f; gzip b >>f) decompress as one
    let (a, b) = bytes.split_at(1000);
    let mut gz = Vec::new();
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(part).unwrap();
        gz.extend_from_slice(&e.finish().unwrap());
    }
    let plain = collect(&mut from_bytes(&bytes).unwrap());
    assert_eq!(collect(&mut from_bytes(&gz).unwrap()), plain);
    // a cut gzip stream: the packets before, then an error
    let mut c = from_bytes(&gz[..gz.len() / 2]).unwrap();
    let mut n = 0;
    let e = loop {
        match c.next_packet() {
            Ok(Some(_)) => n += 1,
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(n > 0 && n < 50);
    let e = e.expect("an error");
    assert!(e.is_truncation(), "{e}");
    assert!(
        e.to_string().contains("decompressed") || matches!(e.kind(), ErrorKind::Io(_)),
        "{e}"
    );
}

/// An error as compared: its kind, offset and whether it is a truncation.
type ErrorSeen = (String, Option<u64>, bool);

/// Everything a capture gives: the packets, then the error that ended it,
/// if any.
fn packets_then_error(c: &mut Capture<'_>) -> (Vec<Seen>, Option<ErrorSeen>) {
    let mut out = Vec::new();
    loop {
        match c.next_packet() {
            Ok(Some(p)) => out.push(seen(&p)),
            Ok(None) => return (out, None),
            Err(e) => {
                return (
                    out,
                    Some((format!("{:?}", e.kind()), e.offset(), e.is_truncation())),
                )
            }
        }
    }
}

/// A gzip file opened by its path is inflated on a thread of its own
/// (inflate.rs), a gzip capture in memory inline: the same packets and,
/// where the stream is cut or damaged, the same error at the same offset,
/// on a capture of many chunks.
#[test]
fn gzip_file_on_a_thread_reads_as_inline() {
    let bytes = pcap(20_000, Endianness::Little, TsResolution::MicroSecond);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&bytes).unwrap();
    let gz = e.finish().unwrap();
    let mut damaged = gz.clone();
    let mid = damaged.len() * 2 / 3;
    damaged[mid..mid + 64].fill(0x55);
    let dir = std::env::temp_dir().join(format!("capture-gunzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (what, file) in [
        ("whole", &gz[..]),
        ("cut", &gz[..gz.len() * 3 / 4]),
        ("damaged", &damaged[..]),
    ] {
        let path = dir.join(format!("{what}.bin"));
        std::fs::write(&path, file).unwrap();
        let mut threaded = open(&path).unwrap();
        assert!(threaded.is_compressed() && threaded.inflates_on_a_thread());
        assert!(!from_bytes(file).unwrap().inflates_on_a_thread());
        let (got, err) = packets_then_error(&mut threaded);
        let (want, want_err) = packets_then_error(&mut from_bytes(file).unwrap());
        assert_eq!(got.len(), want.len(), "{what}");
        assert!(got == want, "{what}");
        assert_eq!(err, want_err, "{what}");
        match what {
            "whole" => assert_eq!((got.len(), err), (20_000, None)),
            _ => assert!(err.is_some() && got.len() < 20_000, "{what}: {}", got.len()),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A gzip capture read through a pipe (one still being written) is
/// inflated inline: its first packets come as soon as the writer has sent
/// them, not once a chunk is full or the writer is done.
#[cfg(unix)]
#[test]
fn gzip_through_a_pipe_is_read_as_it_comes() {
    // More than format detection reads first (ctrace's DETECT_PREFIX, of
    // the compressed bytes too: stored, not compressed) and less than a
    // chunk of inflate.rs (256 KiB).
    let bytes = pcap(1200, Endianness::Little, TsResolution::MicroSecond);
    let len = bytes.len();
    assert!(
        len > ctrace::framing::DETECT_PREFIX && len < 200_000,
        "{len}"
    );
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    e.write_all(&bytes).unwrap();
    let gz = e.finish().unwrap();
    let dir = std::env::temp_dir().join(format!("capture-gzpipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("live.pcap.gz");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            w.write_all(&gz).unwrap();
            w.flush().unwrap();
            // Held open, as a capture still being written is.
            let _ = done_rx.recv_timeout(std::time::Duration::from_secs(20));
        })
    };
    let t0 = std::time::Instant::now();
    let mut c = open(&fifo).unwrap();
    assert!(c.is_compressed() && !c.inflates_on_a_thread());
    let mut n = 0;
    while n < 1200 {
        assert!(c.next_packet().unwrap().is_some());
        n += 1;
    }
    let waited = t0.elapsed();
    let _ = done_tx.send(());
    writer.join().unwrap();
    assert!(c.next_packet().unwrap().is_none());
    assert!(
        waited < std::time::Duration::from_secs(10),
        "the packets sent waited {waited:?} for the writer"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_are_mapped_and_left_alone() {
    let dir = std::env::temp_dir().join(format!("capture-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.pcap");
    let bytes = pcap(7, Endianness::Big, TsResolution::MicroSecond);
    std::fs::write(&path, &bytes).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).unwrap();
    let mut seen = 0;
    let stats = scan(&path, |p, k| {
        seen += 1;
        assert_eq!(p.frame, seen);
        assert_eq!(k.unwrap().0.dport, 53);
    })
    .unwrap();
    assert_eq!((stats.packets, stats.keyed), (7, 7));
    assert_eq!(stats.bytes, 7 * eth_frame(0).len() as u64);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(open(&empty).unwrap_err().kind(), ErrorKind::Empty));
    // a FIFO-like input (not a regular file) is read as a stream
    let c = open("/dev/null").unwrap_err();
    assert!(matches!(c.kind(), ErrorKind::Empty), "{c}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Frame numbers as Wireshark 4.0 gives them: custom and systemd journal
/// blocks are frames, statistics and decryption secrets blocks are not.
#[test]
fn pcapng_frame_numbers_count_what_wireshark_counts() {
    let block = |t, body| ng_block(t, body, false);
    let le = |xs: &[u32]| ng_words(xs, false);
    let (mut file, epb) = ng_head_and_packet();
    for other in [
        block(0xBAD, b"\xd9\x7e\0\0hello".to_vec()),
        block(0x4000_0BAD, b"\xd9\x7e\0\0hello".to_vec()),
        block(5, le(&[0, 0, 0])),
        block(9, JOURNAL_ENTRY.to_vec()),
        block(0x0A, le(&[0x544C_534B, 0])),
        block(0x204, vec![0; 64]),
        block(0x208, vec![0; 64]),
        block(0x216, vec![0; 64]),
        block(0x221, vec![0; 64]),
    ] {
        file.extend_from_slice(&epb);
        file.extend(other);
    }
    file.extend_from_slice(&epb);
    let mut frames = Vec::new();
    from_bytes(&file)
        .unwrap()
        .for_each(|p| frames.push(p.frame))
        .unwrap();
    assert_eq!(frames, [1, 3, 5, 6, 8, 9, 11, 12, 14, 16]);
    // What tshark numbers, when it is there.
    let dir = std::env::temp_dir().join(format!("capture-ng-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("frames.pcapng");
    std::fs::write(&path, &file).unwrap();
    match std::process::Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-Y", "ip", "-T", "fields", "-e", "frame.number"])
        .output()
    {
        Ok(o) if o.status.success() => {
            let shown: Vec<u32> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().parse().unwrap())
                .collect();
            assert_eq!(shown, frames, "tshark's frame numbers");
        }
        _ => eprintln!("SKIPPED: no tshark, frame numbers not compared with it"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    // A journal entry shorter than Wireshark reads: damaged there.
    let (mut short, _) = ng_head_and_packet();
    short.extend_from_slice(&epb);
    let at = short.len() as u64;
    short.extend(block(9, b"MESSAGE=x\n".to_vec()));
    let mut c = from_bytes(&short).unwrap();
    assert!(c.next_packet().unwrap().is_some());
    let e = c.next_packet().unwrap_err();
    assert_eq!(e.offset(), Some(at));
    assert!(e.to_string().contains("below 35"), "{e}");
}

/// A little-endian pcapng file's head (a section header, one raw IP
/// interface at µs) and an enhanced packet block on it.
fn ng_head_and_packet() -> (Vec<u8>, Vec<u8>) {
    let le = |xs: &[u32]| ng_words(xs, false);
    let mut shb = le(&[0x1A2B_3C4D, 1]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut head = ng_block(0x0A0D_0D0A, shb, false);
    head.extend(ng_block(1, le(&[101, 0]), false));
    let ip = ip_packet(1);
    let mut epb = le(&[0, 0, 1000, ip.len() as u32, ip.len() as u32]);
    epb.extend_from_slice(&ip);
    (head, ng_block(6, epb, false))
}

/// A systemd journal export entry as Wireshark reads one (its realtime
/// field first).
const JOURNAL_ENTRY: &[u8] = b"__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=x\n";

/// A pcap file whose packets vary in size (some payloads full of bytes
/// that look like record headers: `fake_sec` their seconds), written by
/// pcap-file.
fn pcap_varied(n: u16, endianness: Endianness, fake_sec: u32) -> Vec<u8> {
    let header = PcapHeader {
        endianness,
        snaplen: 65535,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for i in 0..n {
        let mut frame = eth_frame(i);
        let fake: Vec<u8> = [fake_sec, 2, 0, 0]
            .iter()
            .flat_map(|x| match endianness {
                Endianness::Little => x.to_le_bytes(),
                Endianness::Big => x.to_be_bytes(),
            })
            .collect();
        for _ in 0..usize::from(i % 7) * 5 {
            frame.extend_from_slice(&fake);
        }
        let ts = Duration::new(1_700_000_000 + u64::from(i), u32::from(i) * 1000);
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))
            .unwrap();
    }
    w.into_writer()
}

/// The packets of `n` pieces, renumbered as the file's (each piece's
/// frames after the frames the pieces before it numbered), if every piece
/// but the last read cleanly and none needs the whole file (what a caller
/// must check); the end of the last piece.  The first piece starts at
/// `first`, where the file's first frame does.
fn read_pieces_from(bytes: &[u8], n: usize, first: u64) -> (Option<Vec<Seen>>, u64) {
    let c = from_bytes(bytes).unwrap();
    let pieces = c.pieces(n);
    assert!(pieces.len() <= n.max(1));
    let mut joined: Vec<Seen> = Vec::new();
    let mut at = first;
    let mut clean = true;
    let mut base = 0;
    for (k, p) in pieces.iter().enumerate() {
        assert_eq!(p.start(), at);
        at = p.end();
        let mut r = p.open().unwrap();
        loop {
            match r.next_packet() {
                Ok(Some(p)) => {
                    let mut s = seen(&p);
                    s.0 += base;
                    joined.push(s);
                }
                Ok(None) => break,
                Err(e) => {
                    // the last piece's truncation is the file's own
                    clean &= k + 1 == pieces.len() && !e.needs_whole_file();
                    break;
                }
            }
        }
        base += r.frames();
    }
    (clean.then_some(joined), at)
}

/// [`read_pieces_from`] for a classic pcap file (its first record after
/// the 24-byte file header).
fn read_pieces(bytes: &[u8], n: usize) -> (Option<Vec<Seen>>, u64) {
    read_pieces_from(bytes, n, 24)
}

#[test]
fn pieces_read_what_the_whole_file_holds() {
    for endianness in [Endianness::Little, Endianness::Big] {
        // fake headers with another time are never taken for records
        let bytes = pcap_varied(500, endianness, 1);
        let whole = collect(&mut from_bytes(&bytes).unwrap());
        assert_eq!(whole.len(), 500);
        for n in [1, 2, 3, 7, 40, 1000] {
            assert!(from_bytes(&bytes).unwrap().pieces(n).len() >= n.min(250));
            let (joined, end) = read_pieces(&bytes, n);
            assert_eq!(end, bytes.len() as u64);
            assert_eq!(joined.as_ref(), Some(&whole), "{n} pieces");
        }
        // fake headers with the capture's time fool the guess: reading
        // shows it (a piece runs into the next), never other packets
        let bytes = pcap_varied(500, endianness, 1_700_000_000);
        let whole = collect(&mut from_bytes(&bytes).unwrap());
        let mut fooled = 0;
        for n in [2, 3, 7, 40, 1000] {
            match read_pieces(&bytes, n).0 {
                Some(joined) => assert_eq!(joined, whole, "{n} pieces"),
                None => fooled += 1,
            }
        }
        assert!(fooled > 0);
    }
    // no pieces for a compressed file, nor once reading has begun
    let bytes = pcap_varied(50, Endianness::Little, 1);
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&bytes).unwrap();
        e.finish().unwrap()
    };
    assert!(from_bytes(&gz).unwrap().pieces(4).is_empty());
    let mut c = from_bytes(&bytes).unwrap();
    c.next_packet().unwrap();
    assert!(c.pieces(4).is_empty());
}

#[test]
fn a_piece_off_a_record_boundary_shows() {
    let bytes = pcap_varied(40, Endianness::Little, 1);
    let c = from_bytes(&bytes).unwrap();
    let whole = c.pieces(1)[0];
    let second = 24 + 16 + eth_frame(0).len();
    // the piece before a wrong start runs into it: a record cut short
    for wrong in [second - 1, second + 1, second + 16] {
        let before = Piece {
            end: wrong,
            ..whole
        };
        let mut r = before.open().unwrap();
        let mut n = 0;
        let e = loop {
            match r.next_packet() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("piece ending at {wrong} read cleanly"),
                Err(e) => break e,
            }
        };
        assert_eq!(n, usize::from(wrong > second));
        assert!(e.is_truncation(), "{e}");
        assert!(e.to_string().starts_with("<memory>: byte "), "{e}");
    }
}

/// A pcapng block of type `t` (`big`-endian or not) around `body`, padded
/// to 4 bytes (draft-ietf-opsawg-pcapng, "General Block Structure").
fn ng_block(t: u32, mut body: Vec<u8>, big: bool) -> Vec<u8> {
    body.resize(body.len().div_ceil(4) * 4, 0);
    let l = (12 + body.len()) as u32;
    let w = |x: u32| {
        if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let mut v = w(t).to_vec();
    v.extend_from_slice(&w(l));
    v.extend_from_slice(&body);
    v.extend_from_slice(&w(l));
    v
}

fn ng_words(xs: &[u32], big: bool) -> Vec<u8> {
    xs.iter()
        .flat_map(|&x| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        })
        .collect()
}

/// A pcapng file of one section, `big`-endian or not: a name resolution
/// block and two interfaces (Ethernet at µs, raw IP at ns) before `n`
/// frames that vary in size: enhanced packet blocks on both interfaces
/// (some with epb_flags), simple packet blocks, custom blocks and systemd
/// journal entries (frames without a packet), an interface statistics
/// block (no frame), and payloads that hold whole packet blocks, which
/// look like the file's own (`fake`).  Returns the file and where its
/// first frame starts.
fn pcapng_varied(n: u16, big: bool, fake: bool) -> (Vec<u8>, u64) {
    let w = |xs: &[u32]| ng_words(xs, big);
    let mut shb = w(&[0x1A2B_3C4D]);
    shb.extend_from_slice(&if big { [0, 1, 0, 0] } else { [1, 0, 0, 0] });
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut file = ng_block(0x0A0D_0D0A, shb, big);
    // a name resolution block: an IPv4 record, then opt_endofopt
    let mut nrb = if big {
        vec![0, 1, 0, 7]
    } else {
        vec![1, 0, 7, 0]
    };
    nrb.extend_from_slice(&[10, 0, 0, 1, b'a', b'b', 0, 0]);
    nrb.extend_from_slice(&[0; 4]);
    file.extend(ng_block(4, nrb, big));
    let idb = |link: u16, tsresol: Option<u8>| {
        let mut b = if big {
            link.to_be_bytes()
        } else {
            link.to_le_bytes()
        }
        .to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&w(&[0]));
        if let Some(r) = tsresol {
            let code: u16 = 9;
            b.extend_from_slice(&if big {
                code.to_be_bytes()
            } else {
                code.to_le_bytes()
            });
            b.extend_from_slice(&if big { [0, 1] } else { [1, 0] });
            b.extend_from_slice(&[r, 0, 0, 0, 0, 0, 0, 0]);
        }
        ng_block(1, b, big)
    };
    file.extend(idb(1, None));
    file.extend(idb(101, Some(9)));
    let head = file.len() as u64;
    let epb = |iface: u32, ts: u64, data: &[u8], flags: Option<u32>| {
        let mut b = w(&[iface, (ts >> 32) as u32, ts as u32, data.len() as u32]);
        b.extend_from_slice(&w(&[data.len() as u32 + 4]));
        b.extend_from_slice(data);
        b.resize(b.len().div_ceil(4) * 4, 0);
        if let Some(f) = flags {
            b.extend_from_slice(&if big { [0, 2, 0, 4] } else { [2, 0, 4, 0] });
            b.extend_from_slice(&w(&[f, 0]));
        }
        ng_block(6, b, big)
    };
    for i in 0..n {
        let mut e = eth_frame(i);
        if fake && i % 5 == 0 {
            // three small packet blocks of this file's kind, whole
            let inner = epb(0, 1_700_000_000_000_000, &eth_frame(9), None);
            for _ in 0..3 {
                e.extend_from_slice(&inner);
            }
        }
        e.extend(std::iter::repeat_n(0xEE, usize::from(i % 9) * 40));
        let ts = 1_700_000_000_000_000 + u64::from(i);
        let block = match i % 13 {
            3 => epb(
                1,
                1_700_000_000_000_000_000 + u64::from(i),
                &ip_packet(i),
                None,
            ),
            5 => ng_block(3, [w(&[e.len() as u32]), e].concat(), big),
            7 => ng_block(0xBAD, b"\xd9\x7e\0\0custom".to_vec(), big),
            8 => ng_block(0x4000_0BAD, b"\xd9\x7e\0\0nocopy".to_vec(), big),
            9 => ng_block(9, JOURNAL_ENTRY.to_vec(), big),
            10 => ng_block(0x204, vec![0; 32], big),
            11 => {
                // the obsolete packet block: interface 0 and drops (16
                // bits each), time stamp, captured and original length
                let mut b = w(&[0, (ts >> 32) as u32, ts as u32, e.len() as u32]);
                b.extend_from_slice(&w(&[e.len() as u32]));
                b.extend_from_slice(&e);
                ng_block(2, b, big)
            }
            12 => {
                // a packet, then a decryption secrets block (no frame)
                let mut b = epb(0, ts, &e, None);
                b.extend(ng_block(0x0A, w(&[0x544C_534B, 0]), big));
                b
            }
            k => epb(0, ts, &e, Some(k as u32 % 3)),
        };
        file.extend(block);
    }
    file.extend(ng_block(5, w(&[0, 0, 0]), big));
    (file, head)
}

#[test]
fn pcapng_pieces_read_what_the_whole_file_holds() {
    for big in [false, true] {
        let (bytes, head) = pcapng_varied(600, big, false);
        let mut c = from_bytes(&bytes).unwrap();
        let whole = collect(&mut c);
        assert_eq!(c.frames(), 600);
        // custom blocks and journal entries are frames without a packet
        assert!(whole.len() < 550, "{}", whole.len());
        assert!(whole.iter().any(|s| s.3 == Link::Raw && s.4 == 1));
        for n in [1, 2, 3, 7, 40, 1000] {
            let c = from_bytes(&bytes).unwrap();
            let pieces = c.pieces(n);
            assert!(pieces.len() >= n.min(250), "{n}: {}", pieces.len());
            let (joined, end) = read_pieces_from(&bytes, n, head);
            assert_eq!(end, bytes.len() as u64);
            assert_eq!(joined.as_ref(), Some(&whole), "{n} pieces");
        }
        // cut short inside its last blocks: the last piece ends as reading
        // whole does, the packets before kept
        let whole_cut = |b: &[u8]| {
            let mut c = from_bytes(b).unwrap();
            let mut v = Vec::new();
            loop {
                match c.next_packet() {
                    Ok(Some(p)) => v.push(seen(&p)),
                    Ok(None) => return v,
                    Err(e) => {
                        assert!(e.is_truncation(), "{e}");
                        return v;
                    }
                }
            }
        };
        for cut in [1, 5, 13, 60, 203] {
            let short = &bytes[..bytes.len() - cut];
            let want = whole_cut(short);
            assert!(want.len() + 3 > whole.len(), "{cut}");
            for n in [2, 7, 40] {
                let (joined, _) = read_pieces_from(short, n, head);
                assert_eq!(joined.as_ref(), Some(&want), "cut {cut}, {n} pieces");
            }
        }
        // packet blocks in payloads fool the guess: reading shows it (a
        // piece runs into the next), never other packets
        let (bytes, head) = pcapng_varied(600, big, true);
        let whole = collect(&mut from_bytes(&bytes).unwrap());
        let mut fooled = 0;
        for n in [2, 3, 7, 40, 1000] {
            match read_pieces_from(&bytes, n, head).0 {
                Some(joined) => assert_eq!(joined, whole, "{n} pieces"),
                None => fooled += 1,
            }
        }
        assert!(fooled > 0);
    }
}

/// A section header or an interface block after the first frame: every
/// way of cutting the file leads to reading it whole.
#[test]
fn pcapng_pieces_refuse_a_later_section_or_interface() {
    let (mut late_idb, head) = pcapng_varied(300, false, false);
    let at = late_idb.len() / 2;
    let at = (at..).find(|&k| crate::pcapng::starts_blocks(&late_idb, k, false) && k % 4 == 0);
    let at = at.unwrap();
    let mut idb = ng_words(&[1, 0], false);
    idb.truncate(8);
    late_idb.splice(at..at, ng_block(1, idb, false));
    let two = two_sections();
    let first_epb = 28 + 3 * 20 + 12 * 2 + 12 * 2;
    // a section header alone at the end (an empty section)
    let (mut late_shb, _) = pcapng_varied(300, false, false);
    late_shb.extend_from_slice(&two_sections()[..28]);
    for (bytes, first) in [(late_idb, head), (two, first_epb as u64), (late_shb, head)] {
        // read whole, the file opens and reads to its end
        let mut c = from_bytes(&bytes).unwrap();
        let whole = collect(&mut c);
        assert!(!whole.is_empty());
        for n in [1, 2, 3, 7, 40] {
            let c = from_bytes(&bytes).unwrap();
            let pieces = c.pieces(n);
            assert!(!pieces.is_empty());
            assert_eq!(read_pieces_from(&bytes, n, first).0, None, "{n} pieces");
            let refused = pieces.iter().find_map(|p| {
                let mut r = p.open().unwrap();
                loop {
                    match r.next_packet() {
                        Ok(Some(_)) => {}
                        Ok(None) => return None,
                        Err(e) => return Some(e),
                    }
                }
            });
            let e = refused.expect("a piece refuses");
            assert!(e.needs_whole_file(), "{e}");
            assert!(e.to_string().contains("read whole"), "{e}");
        }
    }
}

/// Frames without a packet too short for Wireshark: tshark 4.0.17 calls
/// the block damaged and shows no frame after it; so does the reader (an
/// error at the block), and a long enough one is a frame.  Compared with
/// tshark when it is installed.
#[test]
fn pcapng_short_frames_without_packets_are_damaged_as_in_wireshark() {
    let (head, epb) = ng_head_and_packet();
    let journal = |text: usize| {
        let mut b = JOURNAL_ENTRY[..text].to_vec();
        b.resize(b.len().max(24), 0);
        b
    };
    // (block type, body, read as a frame)
    let cases: Vec<(u32, Vec<u8>, bool)> = vec![
        (0x204, vec![1; 20], false),
        (0x204, vec![1; 24], true),
        (0x216, vec![1; 24], false),
        (0x216, vec![1; 28], true),
        (0x221, vec![1; 24], false),
        (0x221, vec![1; 28], true),
        (0xBAD, vec![], false),
        (0xBAD, vec![1; 4], true),
        (0x4000_0BAD, vec![], false),
        (0x4000_0BAD, vec![1; 4], true),
        (9, journal(22), false),
        (9, journal(23), true),
    ];
    let dir = std::env::temp_dir().join(format!("capture-ng-short-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut asked = 0;
    for (t, body, frame) in cases {
        let mut file = head.clone();
        file.extend_from_slice(&epb);
        let at = file.len() as u64;
        file.extend(ng_block(t, body.clone(), false));
        file.extend_from_slice(&epb);
        let mut c = from_bytes(&file).unwrap();
        let mut frames = Vec::new();
        let end = loop {
            match c.next_packet() {
                Ok(Some(p)) => frames.push(p.frame),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let what = format!("type 0x{t:X}, {} body bytes", body.len());
        match (frame, end) {
            (true, None) => assert_eq!(frames, [1, 3], "{what}"),
            (false, Some(e)) => {
                assert_eq!(
                    (frames.as_slice(), e.offset()),
                    (&[1][..], Some(at)),
                    "{what}"
                );
                assert!(e.to_string().contains("which Wireshark reads"), "{e}");
            }
            (_, end) => panic!("{what}: {frames:?}, {end:?}"),
        }
        let path = dir.join("short.pcapng");
        std::fs::write(&path, &file).unwrap();
        let Ok(o) = std::process::Command::new("tshark")
            .arg("-r")
            .arg(&path)
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
        else {
            continue;
        };
        let shown = String::from_utf8_lossy(&o.stdout).lines().count();
        let damaged = String::from_utf8_lossy(&o.stderr).contains("damaged");
        assert_eq!(
            (shown, damaged),
            (if frame { 3 } else { 1 }, !frame),
            "tshark, {what}"
        );
        asked += 1;
    }
    if asked == 0 {
        eprintln!("SKIPPED: no tshark, the short blocks not compared with it");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
