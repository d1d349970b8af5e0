//! Integration tests on the project's real captures (tests/data/real-*.pcap):
//! fields compared with tshark, a merged two-interface pcapng, gzip input,
//! and synthetic CTRACE files written from the same captures by
//! ctrace-synth, whose keys must equal the source packets' keys.

use capture::{extract, App, Direction, FlowKey, Link, PacketKey};
use std::path::{Path, PathBuf};
use std::process::Command;
use trace_pieces::{trace_packet, TracePacket};

mod trace_pieces;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn real_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with("real-") && n.ends_with(".pcap")
        })
        .collect();
    v.sort();
    assert!(v.len() >= 7, "{v:?}");
    v
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capture-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// (frame, time, keys) of every packet.
type Row = (u32, i64, Option<(FlowKey, PacketKey)>);

fn rows(path: &Path) -> Vec<Row> {
    let mut v = Vec::new();
    let stats = capture::scan(path, |p, k| v.push((p.frame, p.ts_ns, k))).unwrap();
    assert!(stats.truncated.is_none());
    assert_eq!(stats.packets as usize, v.len());
    v
}

fn first(field: &str) -> Option<&str> {
    field.split(',').next().filter(|s| !s.is_empty())
}

fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

fn epoch_ns(s: &str) -> i64 {
    let (secs, frac) = s.split_once('.').unwrap();
    let frac = format!("{frac:0<9}");
    secs.parse::<i64>().unwrap() * 1_000_000_000 + frac[..9].parse::<i64>().unwrap()
}

/// Compares every packet with tshark's frame.number, ip.id, tcp.seq_raw,
/// tcp.len, udp.srcport, dns.id, frame.time_epoch; returns how many field
/// values were compared.
fn compare_with_tshark(path: &Path) -> usize {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "ip.id",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.len",
        ])
        .args([
            "-e",
            "udp.srcport",
            "-e",
            "dns.id",
            "-e",
            "frame.time_epoch",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut cap = capture::open(path).unwrap();
    let mut compared = 0;
    let mut n = 0;
    while let Some(p) = cap.next_packet().unwrap() {
        let line = lines[n];
        n += 1;
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "{line}");
        let what = format!("{} frame {}", path.display(), p.frame);
        assert_eq!(p.frame as u64, num(f[0]), "{what}");
        assert_eq!(p.ts_ns, epoch_ns(f[6]), "{what}");
        compared += 2;
        let keys = extract(p.link, p.data);
        let Some((flow, key)) = keys else {
            assert!(
                first(f[1]).is_none() && first(f[2]).is_none() && first(f[4]).is_none(),
                "{what}: {line}"
            );
            continue;
        };
        // ip.id: IPv4 only (the outer header's, first)
        match first(f[1]) {
            Some(id) => {
                assert_eq!(key.ip_id(), Some(num(id) as u32), "{what}");
                compared += 1;
            }
            None => assert!(key.is_ipv6(), "{what}"),
        }
        let icmp_error = matches!(key.app(), App::IcmpError { .. });
        if key.proto == 6 {
            assert_eq!(Some(u64::from(key.seq)), first(f[2]).map(num), "{what}");
            assert_eq!(Some(u64::from(key.l4_len)), first(f[3]).map(num), "{what}");
            compared += 2;
        } else if !icmp_error {
            assert!(first(f[2]).is_none(), "{what}");
        }
        if key.proto == 17 {
            assert_eq!(Some(u64::from(flow.sport)), first(f[4]).map(num), "{what}");
            compared += 1;
        }
        if icmp_error {
            let inner = capture::keys::icmp_error_inner(p.link, p.data).unwrap();
            if let Some(sport) = first(f[4]) {
                assert_eq!(u64::from(inner.sport), num(sport), "{what}: inner UDP port");
                compared += 1;
            }
            assert_eq!(
                key.app(),
                App::IcmpError {
                    v6: key.is_ipv6(),
                    inner: inner.flow_hash() & ((1 << 56) - 1)
                }
            );
        }
        match (first(f[5]), key.app()) {
            (Some(id), App::Dns { id: ours, .. }) => {
                assert_eq!(u64::from(ours), num(id), "{what}");
                compared += 1;
            }
            // tshark also shows the DNS id quoted in an ICMP error
            (Some(_), App::IcmpError { .. }) => {}
            // and finds DNS on other ports with its heuristic dissector;
            // the keys know DNS by its ports (53, 5353, 5355) only
            (Some(_), App::None)
                if ![53, 5353, 5355]
                    .iter()
                    .any(|p| *p == flow.sport || *p == flow.dport) => {}
            (Some(id), other) => panic!("{what}: tshark dns.id {id}, ours {other:?}"),
            (None, App::Dns { .. }) => panic!("{what}: DNS id tshark does not see"),
            (None, _) => {}
        }
    }
    assert_eq!(n, lines.len(), "{}: packet count", path.display());
    compared
}

#[test]
fn real_captures_match_tshark() {
    if !have("tshark") {
        eprintln!("SKIPPED: tshark is not installed, the comparison with tshark did not run");
        return;
    }
    let mut total = 0;
    for path in real_captures() {
        let c = compare_with_tshark(&path);
        assert!(c > 100, "{}: only {c} values compared", path.display());
        total += c;
    }
    eprintln!("compared {total} field values with tshark");
}

#[test]
fn real_captures_read_and_key() {
    for path in real_captures() {
        let mut cap = capture::open(&path).unwrap();
        assert_eq!(
            cap.format(),
            capture::Format::Pcap {
                nanosecond: false,
                big_endian: false
            }
        );
        let mut arp = 0;
        let mut keyed = 0;
        let mut last_ts = i64::MIN;
        cap.for_each(|p| {
            assert_eq!(p.link, Link::Ethernet);
            assert!(p.ts_ns >= last_ts);
            last_ts = p.ts_ns;
            match extract(p.link, p.data) {
                Some((flow, key)) => {
                    keyed += 1;
                    assert_eq!(
                        key.flags & capture::keys::flag::L4_PARTIAL,
                        0,
                        "frame {}",
                        p.frame
                    );
                    assert_eq!(key.conn_hash, flow.conn_hash());
                }
                None => arp += 1,
            }
        })
        .unwrap();
        assert!(keyed > 40, "{}", path.display());
        assert!(arp < 20, "{}", path.display());
    }
}

fn gzip_file(src: &Path, dst: &Path) {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&std::fs::read(src).unwrap()).unwrap();
    std::fs::write(dst, e.finish().unwrap()).unwrap();
}

#[test]
fn gzip_input_reads_like_the_plain_file() {
    let dir = temp_dir("gzip");
    for path in real_captures() {
        // named .bin: detected by content, not by name
        let gz = dir.join(format!(
            "{}.bin",
            path.file_name().unwrap().to_string_lossy()
        ));
        gzip_file(&path, &gz);
        assert!(capture::open(&gz).unwrap().is_compressed());
        assert_eq!(rows(&gz), rows(&path), "{}", path.display());
        let bytes = std::fs::read(&gz).unwrap();
        let mut c = capture::from_bytes(&bytes).unwrap();
        let mut n = 0;
        c.for_each(|_| n += 1).unwrap();
        assert_eq!(n, rows(&path).len());
    }
    if have("tshark") {
        let gz = dir.join("real-dns.pcap.bin");
        assert!(compare_with_tshark(&gz) > 100);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the IP packets of an Ethernet capture (no VLANs) as a raw-IP
/// (LINKTYPE_RAW) pcap with nanosecond time stamps.
fn raw_ip_copy(src: &Path, dst: &Path) -> usize {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let header = PcapHeader {
        datalink: pcap_file::DataLink::RAW,
        ts_resolution: pcap_file::TsResolution::NanoSecond,
        endianness: pcap_file::Endianness::Little,
        snaplen: 262144,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(dst).unwrap(), header).unwrap();
    let mut n = 0;
    capture::open(src)
        .unwrap()
        .for_each(|p| {
            if p.data.len() > 14 && matches!(&p.data[12..14], [0x08, 0x00] | [0x86, 0xDD]) {
                let ts = std::time::Duration::from_nanos(p.ts_ns as u64);
                w.write_packet(&PcapPacket::new(ts, p.orig_len - 14, &p.data[14..]))
                    .unwrap();
                n += 1;
            }
        })
        .unwrap();
    n
}

#[test]
fn merged_pcapng_with_two_link_types() {
    let dir = temp_dir("merge");
    let http = data_dir().join("real-http.pcap");
    let raw = dir.join("http-raw.pcap");
    let n_raw = raw_ip_copy(&http, &raw);
    // the raw-IP copy keys like the original
    let eth_keys: Vec<Row> = rows(&http).into_iter().filter(|r| r.2.is_some()).collect();
    let raw_keys = rows(&raw);
    assert_eq!(raw_keys.len(), n_raw);
    for (a, b) in eth_keys.iter().zip(&raw_keys) {
        assert_eq!((a.1, a.2), (b.1, b.2));
    }
    if !have("mergecap") {
        eprintln!("SKIPPED: mergecap is not installed, no merged pcapng test");
        return;
    }
    let merged = dir.join("merged.pcapng");
    let st = Command::new("mergecap")
        .arg("-w")
        .arg(&merged)
        .arg(data_dir().join("real-dns.pcap"))
        .arg(&raw)
        .status()
        .unwrap();
    assert!(st.success());
    let mut cap = capture::open(&merged).unwrap();
    assert!(matches!(cap.format(), capture::Format::PcapNg { .. }));
    let mut per_iface = [0usize; 2];
    cap.for_each(|p| per_iface[p.interface as usize] += 1)
        .unwrap();
    let ifs = cap.interfaces();
    assert_eq!(ifs.len(), 2);
    assert_eq!((ifs[0].link, ifs[0].tsresol), (Link::Ethernet, 6));
    assert_eq!((ifs[1].link, ifs[1].tsresol), (Link::Raw, 9));
    assert_eq!(
        per_iface,
        [rows(&data_dir().join("real-dns.pcap")).len(), n_raw]
    );
    if have("tshark") {
        assert!(compare_with_tshark(&merged) > 500);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn synth(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec![input.display().to_string(), output.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let (i, o, opts) = ctrace_synth::parse_args(args).unwrap();
    ctrace_synth::write(&i, &o, &opts).unwrap();
}

/// Keys from CTRACE files written from each real capture equal the keys
/// from the capture itself, packet by packet, time stamps included.
#[test]
fn ctrace_keys_equal_source_keys() {
    let dir = temp_dir("ctrace");
    let variants: [(&str, &[&str]); 5] = [
        ("raw", &["--framing", "raw"]),
        ("rdw", &["--framing", "rdw"]),
        ("bdw-seg", &["--framing", "bdw", "--segment-size", "100"]),
        (
            "raw-seg",
            &["--framing", "raw", "--segment-size", "333", "--data-trace"],
        ),
        ("osaenta", &["--framing", "rdw", "--osaenta"]),
    ];
    let mut checked = 0;
    for path in real_captures() {
        let source = rows(&path);
        for (name, extra) in variants {
            let out = dir.join(format!(
                "{}.{name}.ctrace",
                path.file_stem().unwrap().to_string_lossy()
            ));
            synth(&path, &out, extra);
            let mut cap = capture::open(&out).unwrap();
            assert!(matches!(cap.format(), capture::Format::Ctrace(_)));
            let osaenta = name == "osaenta";
            let mut got: Vec<(i64, Option<(FlowKey, PacketKey)>)> = Vec::new();
            let mut local = None;
            let mut frames = 0;
            cap.for_each(|p| {
                frames += 1;
                assert_eq!(p.frame, frames);
                match p.link {
                    Link::Raw | Link::Ethernet => {
                        assert_eq!(p.link == Link::Ethernet, osaenta);
                        let k = extract(p.link, p.data);
                        // direction: outbound from the first packet's source
                        if let Some((flow, _)) = k {
                            let l = *local.get_or_insert(flow.src);
                            let out = flow.src == l;
                            assert_eq!(
                                p.direction,
                                if out {
                                    Direction::Outbound
                                } else {
                                    Direction::Inbound
                                }
                            );
                        }
                        got.push((p.ts_ns, k));
                    }
                    // data trace records
                    Link::Ctrace(5) => assert!(name == "raw-seg"),
                    other => panic!("{other:?}"),
                }
            })
            .unwrap();
            let want: Vec<(i64, Option<(FlowKey, PacketKey)>)> = source
                .iter()
                .filter(|r| osaenta || r.2.is_some())
                .map(|r| (r.1, r.2))
                .collect();
            assert_eq!(got.len(), want.len(), "{}", out.display());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "{} packet {i}", out.display());
            }
            let names: Vec<_> = cap
                .interfaces()
                .iter()
                .filter_map(|i| i.name.clone())
                .collect();
            assert!(!names.is_empty(), "{names:?}");
            checked += got.len();
            if name == "rdw" {
                let gz = dir.join("trace.gz");
                gzip_file(&out, &gz);
                let mut c = capture::open(&gz).unwrap();
                assert!(c.is_compressed());
                let mut again = Vec::new();
                c.for_each(|p| again.push((p.ts_ns, extract(p.link, p.data))))
                    .unwrap();
                assert_eq!(again, got);
            }
        }
    }
    assert!(checked > 3000, "{checked}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Damage in a trace is read past, as Wireshark's CTRACE reader does: the
/// frames stay Wireshark's frames (bytes that are no entry at the end of a
/// cut file are one more frame), and only a packed file is refused.
#[test]
fn damaged_ctrace_is_read_past_and_packed_files_refused() {
    let dir = temp_dir("ctrace-bad");
    let src = data_dir().join("real-dns.pcap");
    let links = |path: &Path| {
        let mut links = Vec::new();
        let stats = capture::open(path)
            .unwrap()
            .scan(|p, _| links.push(p.link))
            .unwrap();
        assert!(stats.truncated.is_none());
        links
    };
    let good = dir.join("good.ctrace");
    synth(&src, &good, &["--framing", "rdw"]);
    let n = links(&good).len();
    let out = dir.join("cut.ctrace");
    synth(
        &src,
        &out,
        &["--framing", "rdw", "--malformed", "truncated"],
    );
    let cut = links(&out);
    assert_eq!(cut.len(), n);
    assert_eq!(cut.last(), Some(&Link::Ctrace(0)), "the cut entry's bytes");
    let lene = dir.join("lene.ctrace");
    synth(
        &src,
        &lene,
        &["--framing", "rdw", "--malformed", "cte-lene"],
    );
    assert_eq!(
        links(&lene).len(),
        n - 1,
        "the damaged entry goes with the next frame"
    );
    let xmit = dir.join("xmit.ctrace");
    synth(&src, &xmit, &["--malformed", "xmit"]);
    let e = capture::open(&xmit).unwrap_err();
    assert!(e.to_string().contains("TSO RECEIVE"), "{e}");
    let lost = dir.join("lost.ctrace");
    synth(&src, &lost, &["--malformed", "lost-record"]);
    let mut links = Vec::new();
    capture::open(&lost)
        .unwrap()
        .for_each(|p| links.push(p.link))
        .unwrap();
    assert_eq!(
        links.iter().filter(|l| **l == Link::Ctrace(0xFF)).count(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A mapped capture of several of the steps its map is populated in
/// (capture::source::FileMap) reads as the same bytes held in memory do:
/// a real capture's records repeated past 20 MiB.
#[test]
fn a_large_mapped_capture_reads_like_its_bytes() {
    const PCAP_HEADER: usize = 24;
    let dir = temp_dir("large");
    let src = std::fs::read(&real_captures()[0]).unwrap();
    let mut bytes = src.clone();
    while bytes.len() < 20 << 20 {
        bytes.extend_from_slice(&src[PCAP_HEADER..]);
    }
    let path = dir.join("large.pcap");
    std::fs::write(&path, &bytes).unwrap();
    // Mapped, not read as a stream (which has no pieces).
    assert!(!capture::open(&path).unwrap().pieces(2).is_empty());
    // Every packet's frame, time, keys and bytes.
    let read = |mut c: capture::Capture<'_>| {
        let mut v = Vec::new();
        let stats = c
            .scan(|p, k| v.push((p.frame, p.ts_ns, k, p.data.to_vec())))
            .unwrap();
        assert!(stats.truncated.is_none());
        (v, stats.packets, stats.bytes)
    };
    let mapped = read(capture::open(&path).unwrap());
    let held = read(capture::from_bytes(&bytes).unwrap());
    assert!(mapped.0.len() > 10_000, "{}", mapped.0.len());
    assert!(mapped == held, "the map and the bytes differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `path`'s packets read in `n` pieces ([`trace_pieces::in_pieces`]).
fn trace_in_pieces(path: &Path, n: usize) -> (Option<Vec<TracePacket>>, usize) {
    trace_pieces::in_pieces(&capture::open(path).unwrap(), n)
}

/// A raw CTRACE trace (binary FTP's transfer, no descriptors) read in
/// pieces gives, packet for packet, what reading it whole gives, or says
/// that its pieces did not join up (never other packets): traces written
/// from every real capture, with segmented packets and data trace
/// records, writer buffers padded with zeros, unknown bytes at the start
/// of each writer record, and damage.  Framed traces have no pieces.
#[test]
fn ctrace_pieces_read_what_the_whole_trace_holds() {
    let dir = temp_dir("ctrace-pieces");
    let variants: [(&str, &[&str]); 8] = [
        ("raw", &["--framing", "raw"]),
        (
            "seg",
            &["--framing", "raw", "--segment-size", "333", "--data-trace"],
        ),
        ("buffer", &["--framing", "raw", "--buffer", "4096"]),
        (
            "header",
            &[
                "--framing",
                "raw",
                "--buffer",
                "8192",
                "--writer-header",
                "24",
            ],
        ),
        ("osaenta", &["--framing", "raw", "--osaenta"]),
        ("cut", &["--framing", "raw", "--malformed", "truncated"]),
        ("lene", &["--framing", "raw", "--malformed", "cte-lene"]),
        ("lost", &["--framing", "raw", "--malformed", "lost-record"]),
    ];
    let (mut joined_up, mut fell_back) = (0, 0);
    for path in real_captures() {
        for (name, extra) in variants {
            let stem = path.file_stem().unwrap().to_string_lossy();
            let out = dir.join(format!("{stem}.{name}.ctrace"));
            synth(&path, &out, extra);
            let mut whole = Vec::new();
            let mut cap = capture::open(&out).unwrap();
            assert_eq!(cap.format(), capture::Format::Ctrace(ctrace::Framing::Raw));
            cap.for_each(|p| whole.push(trace_packet(p))).unwrap();
            assert!(whole.len() > 20, "{}", out.display());
            for n in [2, 3, 7, 40, 1000] {
                match trace_in_pieces(&out, n) {
                    (Some(joined), pieces) => {
                        assert!(joined == whole, "{} in {n} pieces", out.display());
                        joined_up += usize::from(pieces > 1);
                    }
                    (None, _) => {
                        fell_back += 1;
                        eprintln!("fell back: {name} {stem} {n}");
                    }
                }
            }
        }
    }
    eprintln!("{joined_up} readings in pieces joined up, {fell_back} fell back to the whole trace");
    assert!(
        joined_up > 5 * fell_back,
        "{joined_up} joined, {fell_back} fell back"
    );
    // A trace whose packets carry another trace's bytes: the guesses
    // land inside payloads, and reading shows it, never other packets.
    let inner = dir.join("inner.ctrace");
    synth(&real_captures()[0], &inner, &["--framing", "raw"]);
    let carrier = dir.join("carrier.pcap");
    udp_carrying(&std::fs::read(&inner).unwrap(), &carrier);
    // ... the last packet too, with 60,000 bytes: a guess in it has no
    // record after it, and the piece before reads to the file's end
    // (which must be an error, not the piece's end)
    let outer = dir.join("outer.ctrace");
    synth(&carrier, &outer, &["--framing", "raw"]);
    let mut whole = Vec::new();
    capture::open(&outer)
        .unwrap()
        .for_each(|p| whole.push(trace_packet(p)))
        .unwrap();
    let mut fooled = 0;
    for n in [2, 3, 7, 40, 1000] {
        match trace_in_pieces(&outer, n).0 {
            Some(joined) => assert!(joined == whole, "{n} pieces"),
            None => fooled += 1,
        }
    }
    assert!(fooled > 0);
    // framed traces are read whole
    let rdw = dir.join("rdw.ctrace");
    synth(&real_captures()[0], &rdw, &["--framing", "rdw"]);
    assert!(capture::open(&rdw).unwrap().pieces(4).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A raw-IP pcap of UDP packets whose payloads are `bytes`, 1000 at a time,
/// then one of the first 60,000 (checksums 0: none).
fn udp_carrying(bytes: &[u8], dst: &Path) {
    let last = &bytes[..bytes.len().min(60_000)];
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let header = PcapHeader {
        datalink: pcap_file::DataLink::RAW,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(dst).unwrap(), header).unwrap();
    for (i, chunk) in bytes.chunks(1000).chain([last]).enumerate() {
        let total = (20 + 8 + chunk.len()) as u16;
        let udp_len = (8 + chunk.len()) as u16;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&(i as u16).to_be_bytes());
        ip.extend_from_slice(&[0x30, 0x39, 0x30, 0x3A]);
        ip.extend_from_slice(&udp_len.to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(chunk);
        let ts = std::time::Duration::from_micros(1_700_000_000_000_000 + 100 * i as u64);
        w.write_packet(&PcapPacket::new(ts, ip.len() as u32, &ip))
            .unwrap();
    }
}

/// A CTRACE reader's buffers are counted in what the capture holds
/// (`Capture::held_bytes`, which `--memory-limit` counts while a point is
/// read, whole or in pieces); a mapped pcap holds none.
#[test]
fn a_trace_readers_buffers_are_counted() {
    let dir = temp_dir("ctrace-held");
    let src = data_dir().join("real-http.pcap");
    let trace = dir.join("http.ctrace");
    synth(&src, &trace, &["--framing", "raw", "--segment-size", "333"]);
    let mut cap = capture::open(&trace).unwrap();
    assert_eq!(cap.held_bytes(), 0, "nothing read yet");
    let mut most = 0;
    while cap.next_packet().unwrap().is_some() {
        most = most.max(cap.held_bytes());
    }
    assert!(most >= 1024, "{most} bytes");
    assert!(most <= 4 << 20, "{most} bytes");
    let mut pcap = capture::open(&src).unwrap();
    while pcap.next_packet().unwrap().is_some() {
        assert_eq!(pcap.held_bytes(), 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
