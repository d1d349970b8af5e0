//! CTRACE in real tshark: traces written by the fixture writer
//! (crates/ctrace-synth) from the real captures in tests/data, opened by
//! our wiretap plugin and decoded by the `ctrace` dissector, compared field
//! by field with the source captures; every framing (writer buffers with
//! unknown leading bytes, spanned records, over-long RDW records),
//! segmented packets, OSAENTA, data trace, malformed inputs, random access;
//! and the pcapng written by `pktmatch convert`, read by tshark without our
//! plugins.  The writer and the reader share the layout table, so these
//! tests show they agree; tests/ctrace_vectors.rs checks the layout itself
//! against records written straight from the evidence.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{convert_args, release_plugins, repo_root, Wireshark};

fn wireshark() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

fn real(name: &str) -> PathBuf {
    repo_root().join("tests/data").join(name)
}

fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ctrace-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the fixture writer with command line `args` (after IN OUT).
fn synth(input: &Path, output: &Path, args: &[&str]) -> ctrace_synth::Summary {
    let mut argv = vec![
        input.to_string_lossy().into_owned(),
        output.to_string_lossy().into_owned(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let (input, output, options) = ctrace_synth::parse_args(argv).expect("writer arguments");
    ctrace_synth::write(&input, &output, &options).expect("writer runs")
}

/// Fields that identify an IP packet and its bytes.
const PACKET_FIELDS: &[&str] = &[
    "frame.time_epoch",
    "ip.src",
    "ip.dst",
    "ip.id",
    "ip.len",
    "ip.checksum",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.plen",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.checksum",
    "udp.length",
    "udp.checksum",
    "tcp.payload",
    "udp.payload",
    "icmpv6.type",
    "dns.id",
];

/// The rows of the IP packets of a capture, in order.
fn packet_rows(ws: &Wireshark, file: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-Y", "ip || ipv6"];
    args.extend(extra);
    ws.fields(file, &args, PACKET_FIELDS)
        .into_values()
        .collect()
}

#[test]
fn capinfos_names_the_file_type_and_tshark_recognises_it_by_content() {
    let ws = wireshark();
    let dir = workdir("capinfos");
    // A name that says nothing about the format.
    let trace = dir.join("SYSTCPDA.TRACE.BIN");
    synth(&real("real-dns.pcap"), &trace, &["--framing", "raw"]);
    let trace = ws.add_file(&trace);
    let out = ws.tool("capinfos", &["-t", "-c", &trace]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("z/OS CTRACE (SYSTCPDA/SYSTCPOT)"), "{text}");
    let rows = ws.fields(&trace, &[], &["ctrace.fmtid"]);
    assert!(!rows.is_empty() && rows.values().all(|r| r[0] == "4"));
}

#[test]
fn every_framing_round_trips_every_real_capture() {
    let ws = wireshark();
    let dir = workdir("roundtrip");
    for capture in [
        "real-dns.pcap",
        "real-http.pcap",
        "real-tls.pcap",
        "real-ftp.pcap",
        "real-tcp-retrans.pcap",
        "real-ipv6.pcap",
    ] {
        let source = ws.add_file(&real(capture));
        let expected = packet_rows(&ws, &source, &[]);
        assert!(
            expected.len() > 10,
            "{capture}: {} IP packets",
            expected.len()
        );
        for framing in ["raw", "rdw", "bdw"] {
            let out = dir.join(format!("synthetic-{capture}.{framing}.ctrace"));
            synth(&real(capture), &out, &["--framing", framing]);
            let trace = ws.add_file(&out);
            let got = packet_rows(&ws, &trace, &[]);
            assert_eq!(
                got.len(),
                expected.len(),
                "{capture} {framing}: packet count"
            );
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                assert_eq!(g, e, "{capture} {framing}: IP packet {} differs", i + 1);
            }
        }
    }
}

#[test]
fn writer_headers_spanned_records_and_long_records_in_one_and_two_passes() {
    let ws = wireshark();
    let dir = workdir("records");
    let source = ws.add_file(&real("real-http.pcap"));
    let expected = packet_rows(&ws, &source, &[]);
    for (name, args) in [
        // unknown bytes before the entries of every 4096-byte buffer
        (
            "raw-hdr",
            &["--framing", "raw", "--writer-header", "48"][..],
        ),
        // 64 KB buffers as spanned records (SDW first/middle/last)
        (
            "vbs",
            &[
                "--framing",
                "rdw",
                "--buffer",
                "65536",
                "--writer-header",
                "32",
            ][..],
        ),
        (
            "bdw-vbs",
            &[
                "--framing",
                "bdw",
                "--buffer",
                "65536",
                "--segment-size",
                "700",
            ][..],
        ),
        // RDW records longer than 32 760 bytes: read, and said
        (
            "long",
            &["--malformed", "long-rdw", "--buffer", "40000"][..],
        ),
    ] {
        let out = dir.join(format!("synthetic-http-{name}.ctrace"));
        synth(&real("real-http.pcap"), &out, args);
        let trace = ws.add_file(&out);
        assert_eq!(packet_rows(&ws, &trace, &[]), expected, "{name}");
        assert_eq!(packet_rows(&ws, &trace, &["-2"]), expected, "{name} -2");
        let headers = ws.fields(
            &trace,
            &["-Y", "ctrace.writer_header"],
            &["ctrace.writer_header", "_ws.expert.message"],
        );
        let comments = ws.fields(&trace, &["-Y", "frame.comment"], &["frame.comment"]);
        match name {
            "raw-hdr" | "vbs" => {
                assert!(headers.len() > 2, "{name}: {headers:?}");
                for row in headers.values() {
                    // EBCDIC "WTRHDR"
                    assert!(row[0].starts_with("e6e3d9c8c4d9"), "{row:?}");
                    assert!(row[1].contains("no trace entry"), "{row:?}");
                }
                assert!(comments.is_empty(), "{comments:?}");
            }
            "long" => {
                assert!(headers.is_empty());
                assert!(!comments.is_empty());
                for row in comments.values() {
                    assert!(
                        row[0].contains("RDW record of")
                            && row[0].contains("longer than the 32 760"),
                        "{row:?}"
                    );
                }
            }
            _ => assert!(headers.is_empty() && comments.is_empty(), "{name}"),
        }
    }
}

#[test]
fn segmented_packets_are_reassembled_in_one_and_two_passes() {
    let ws = wireshark();
    let dir = workdir("segments");
    let out = dir.join("synthetic-http-segmented.ctrace");
    let summary = synth(
        &real("real-http.pcap"),
        &out,
        &["--framing", "bdw", "--segment-size", "300"],
    );
    assert!(
        summary.segmented > 10,
        "{} packets segmented",
        summary.segmented
    );
    let source = ws.add_file(&real("real-http.pcap"));
    let trace = ws.add_file(&out);
    let expected = packet_rows(&ws, &source, &[]);
    assert_eq!(packet_rows(&ws, &trace, &[]), expected);
    // Two passes read every frame again by random access (seek-read).
    assert_eq!(packet_rows(&ws, &trace, &["-2"]), expected);
    let segments = ws.fields(
        &trace,
        &["-Y", "ctrace.segments"],
        &["ctrace.segments", "ctrace.segment.seq"],
    );
    assert_eq!(segments.len(), summary.segmented);
    let (_, first) = segments.iter().next().unwrap();
    let count: usize = first[0].parse().unwrap();
    let seqs: Vec<&str> = first[1].split(',').collect();
    assert_eq!(seqs.len(), count);
    assert_eq!(seqs[..2], ["0", "1"]);
}

#[test]
fn header_fields_carry_what_the_writer_put_there() {
    let ws = wireshark();
    let dir = workdir("fields");
    let out = dir.join("synthetic-dns.ctrace");
    synth(
        &real("real-dns.pcap"),
        &out,
        &[
            "--framing",
            "rdw",
            "--interface",
            "OSAQDIO4",
            "--local",
            "198.51.100.10",
        ],
    );
    let trace = ws.add_file(&out);
    let names = [
        "ctrace.fmtid",
        "ctrace.format_id",
        "ctrace.cte.offset",
        "ctrace.pth.len",
        "ctrace.devtype",
        "ctrace.interface",
        "ctrace.direction",
        "ctrace.flags.out",
        "ctrace.src",
        "ctrace.dst",
        "ctrace.srcport",
        "ctrace.dstport",
        "ctrace.plen",
        "ctrace.tlen",
        "ctrace.protocol",
        "ctrace.abbreviated",
        "ip.src",
        "ip.len",
        "udp.srcport",
        "frame.time_epoch",
        "ctrace.time",
        "frame.packet_flags_direction",
        "_ws.col.Info",
    ];
    let rows = ws.fields(&trace, &["-Y", "ip && udp"], &names);
    assert!(rows.len() > 10);
    for row in rows.values() {
        let get = |n: &str| row[names.iter().position(|x| *x == n).unwrap()].as_str();
        assert_eq!(get("ctrace.fmtid"), "4");
        assert_eq!(get("ctrace.format_id"), "0x00000004");
        assert_eq!(get("ctrace.cte.offset"), "16");
        assert_eq!(get("ctrace.pth.len"), "92");
        assert_eq!(get("ctrace.devtype"), "39");
        assert_eq!(get("ctrace.interface"), "OSAQDIO4");
        // Header addresses and ports are those of the packet itself.
        assert_eq!(get("ctrace.src"), get("ip.src"));
        assert_eq!(
            get("ctrace.srcport"),
            get("udp.srcport").split(',').next().unwrap()
        );
        assert_eq!(get("ctrace.plen"), get("ip.len").split(',').next().unwrap());
        assert_eq!(get("ctrace.tlen"), get("ctrace.plen"));
        assert_eq!(get("ctrace.abbreviated"), "0");
        // Outbound = sent from the --local address; pcapng-style flags too.
        let out = get("ip.src") == "198.51.100.10";
        assert_eq!(get("ctrace.direction"), if out { "To" } else { "From" });
        assert_eq!(get("ctrace.flags.out"), if out { "1" } else { "0" });
        assert_eq!(
            get("frame.packet_flags_direction"),
            if out { "0x00000002" } else { "0x00000001" }
        );
        // Info starts like the IPCS report line.
        let prefix = format!(
            "{} OSAQDIO4 Full={}: ",
            get("ctrace.direction"),
            get("ctrace.tlen")
        );
        assert!(
            get("_ws.col.Info").starts_with(&prefix),
            "{}",
            get("_ws.col.Info")
        );
        // TOD → UTC agrees with the frame time (no leap seconds).
        let frame: f64 = get("frame.time_epoch").parse().unwrap();
        assert!(get("ctrace.time").contains("UTC") || !get("ctrace.time").is_empty());
        assert!(frame > 1.7e9);
    }
    // Filters on our fields.
    // The server's (local) UDP packets are all DNS answers from port 53.
    let to = ws.fields(
        &trace,
        &["-Y", "ctrace.direction == \"To\" && udp"],
        &["udp.srcport"],
    );
    assert!(!to.is_empty() && to.values().all(|r| r[0] == "53"));
    let from = ws.fields(
        &trace,
        &["-Y", "ctrace.flags.out == 0 && udp"],
        &["udp.dstport"],
    );
    assert!(!from.is_empty() && from.values().all(|r| r[0] == "53"));
    // The leap-second preference moves ctrace.time, not the frame time.
    let plain = ws.fields(
        &trace,
        &["-Y", "frame.number == 1"],
        &["ctrace.time", "frame.time_epoch"],
    );
    let leap = ws.fields(
        &trace,
        &[
            "-Y",
            "frame.number == 1",
            "-o",
            "ctrace.tod_leap_seconds:27",
        ],
        &["ctrace.time", "frame.time_epoch"],
    );
    assert_eq!(plain[&1][1], leap[&1][1]);
    assert_ne!(plain[&1][0], leap[&1][0]);
}

#[test]
fn osaenta_frames_go_to_ethernet() {
    let ws = wireshark();
    let dir = workdir("osaenta");
    let out = dir.join("synthetic-osaenta.ctrace");
    synth(
        &real("real-tcp-retrans.pcap"),
        &out,
        &["--framing", "raw", "--osaenta"],
    );
    let trace = ws.add_file(&out);
    let source = ws.add_file(&real("real-tcp-retrans.pcap"));
    let names = [
        "eth.src",
        "eth.dst",
        "eth.type",
        "frame.time_epoch",
        "tcp.seq_raw",
        "tcp.payload",
    ];
    let expected: Vec<_> = ws.fields(&source, &[], &names).into_values().collect();
    let got = ws.fields(&trace, &[], &names);
    assert_eq!(got.values().cloned().collect::<Vec<_>>(), expected);
    assert!(ws
        .fields(&trace, &[], &["ctrace.fmtid"])
        .values()
        .all(|r| r[0] == "7"));
    // Wireshark's own TCP analysis sees the real retransmissions.
    let retrans = ws.fields(&trace, &["-Y", "tcp.analysis.retransmission"], &[]);
    assert!(!retrans.is_empty());
}

#[test]
fn osaenta_keeps_vlan_tags_and_shows_the_unknown_bytes_raw() {
    let ws = wireshark();
    let dir = workdir("osaenta-vlan");
    let out = dir.join("synthetic-vlan-osaenta.ctrace");
    synth(
        &real("real-vlan.pcap"),
        &out,
        &["--framing", "bdw", "--osaenta"],
    );
    let trace = ws.add_file(&out);
    let source = ws.add_file(&real("real-vlan.pcap"));
    let names = [
        "vlan.id",
        "eth.src",
        "ip.src",
        "ipv6.src",
        "frame.time_epoch",
        "tcp.payload",
        "icmp.seq",
    ];
    let expected: Vec<_> = ws.fields(&source, &[], &names).into_values().collect();
    let got = ws.fields(&trace, &[], &names);
    assert_eq!(got.values().cloned().collect::<Vec<_>>(), expected);
    // bytes 68-81 are unknown: shown raw (the writer leaves them zero)
    let rows = ws.fields(&trace, &[], &["ctrace.unknown", "vlan.id", "ctrace.fmtid"]);
    assert!(rows.len() > 40);
    assert!(
        rows.values()
            .all(|r| r == &["0000000000000000000000000000", "100", "7"]),
        "{rows:?}"
    );
}

#[test]
fn data_trace_payload_goes_to_the_port_dissector() {
    let ws = wireshark();
    let dir = workdir("datatrace");
    let out = dir.join("synthetic-http-data.ctrace");
    let summary = synth(
        &real("real-http.pcap"),
        &out,
        &["--framing", "rdw", "--data-trace", "--job", "HTTPD1"],
    );
    assert!(summary.data_records > 5);
    let trace = ws.add_file(&out);
    let rows = ws.fields(
        &trace,
        &["-Y", "http.request && ctrace.fmtid == 5"],
        &[
            "ctrace.fmtid",
            "ctrace.job",
            "ctrace.dt.protocol",
            "http.request.method",
            "http.request.uri",
        ],
    );
    assert!(!rows.is_empty(), "no HTTP request decoded from data trace");
    for row in rows.values() {
        assert_eq!(
            (row[0].as_str(), row[1].as_str(), row[2].as_str()),
            ("5", "HTTPD1", "6")
        );
        assert!(!row[3].is_empty());
    }
}

#[test]
fn old_format_records_show_what_is_known() {
    // No writer emits the old GTCNTL format (fmtid 1, no public header
    // layout): make the first entry of a raw trace one by its format id.
    let ws = wireshark();
    let dir = workdir("fmtid1");
    let out = dir.join("synthetic-dns-fmtid1.ctrace");
    synth(&real("real-dns.pcap"), &out, &["--framing", "raw"]);
    let mut bytes = std::fs::read(&out).unwrap();
    bytes[7] = 1; // low byte of CTEFMTID of the entry at offset 0
    std::fs::write(&out, &bytes).unwrap();
    let trace = ws.add_file(&out);
    let rows = ws.fields(
        &trace,
        &["-c", "2"],
        &["ctrace.fmtid", "ctrace.cte.len", "data.len", "_ws.col.Info"],
    );
    let first = &rows[&1];
    assert_eq!(first[0], "1");
    let cte_len: usize = first[1].parse().unwrap();
    // Everything after the 16-byte CTE header, less the 2-byte CTELENE.
    assert_eq!(first[2], (cte_len - 16 - 2).to_string());
    assert_eq!(
        first[3],
        "CTRACE IPv4 packet trace (old GTCNTL header) (format id 0x1)"
    );
    assert_eq!(rows[&2][0], "4");
}

/// tshark's error output and exit status for a file.
fn open_error(ws: &Wireshark, file: &str) -> (bool, String) {
    let out = ws.tshark(&["-r", file]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_traces_get_specific_errors() {
    let ws = wireshark();
    let dir = workdir("malformed");
    let mut outcomes = BTreeMap::new();
    for kind in ctrace_synth::Malformed::ALL {
        let out = dir.join(format!("synthetic-malformed-{}.ctrace", kind.name()));
        synth(
            &real("real-dns.pcap"),
            &out,
            &["--framing", "raw", "--malformed", kind.name()],
        );
        let file = ws.add_file(&out);
        outcomes.insert(kind.name(), (file.clone(), open_error(&ws, &file)));
    }
    for (kind, (file, (ok, stderr))) in &outcomes {
        let expect = |needle: &str| {
            assert!(
                stderr.contains(needle),
                "{kind}: {needle:?} not in {stderr:?}"
            );
        };
        match *kind {
            "xmit" => {
                assert!(!ok);
                expect("XMIT");
            }
            "terse" => {
                assert!(!ok);
                expect("AMATERSE");
            }
            "ebcdic-text" | "ascii-text" => {
                // An IPCS formatted report (ASCII or EBCDIC): opened by the
                // report reader, the packets rebuilt from its dumps (which
                // hold 64 bytes of each: said on the packet).
                assert!(*ok, "{kind}: {stderr}");
                let rows = ws.fields(
                    file,
                    &[],
                    &[
                        "ctrace.interface",
                        "ctrace.direction",
                        "ip.src",
                        "_ws.expert.message",
                    ],
                );
                assert_eq!(rows.len(), 46, "{kind}");
                let first = &rows[&1];
                assert_eq!(&first[..3], ["OSAQDIO1", "To", "192.0.2.10"], "{kind}");
                assert!(
                    first[3].contains("hex dumps hold 64 of"),
                    "{kind}: {first:?}"
                );
            }
            "truncated" => {
                // Every packet, then the cut entry's bytes as a malformed
                // frame of their own.
                assert!(*ok, "{kind}: {stderr}");
                let rows = ws.fields(
                    file,
                    &[],
                    &["ctrace.writer_header", "_ws.expert.message", "ip.src"],
                );
                let (_, last) = rows.iter().next_back().unwrap();
                assert!(!last[0].is_empty() && last[2].is_empty(), "{last:?}");
                assert!(last[1].contains("truncated"), "{last:?}");
                assert!(rows.len() > 10);
            }
            "cte-lene" => {
                // The damaged entry is shown as malformed bytes before the
                // next entry; reading goes on.
                assert!(*ok, "{kind}: {stderr}");
                let bad = ws.fields(
                    file,
                    &["-Y", "ctrace.writer_header"],
                    &["_ws.expert.message", "ip.src"],
                );
                assert_eq!(bad.len(), 1, "{bad:?}");
                let (_, row) = bad.iter().next().unwrap();
                assert!(row[0].contains("CTELENE"), "{row:?}");
                assert!(!row[1].is_empty(), "the next packet is decoded");
            }
            "long-rdw" => {
                // 4096-byte buffers: records too short to be too long
                assert!(*ok, "{kind}: {stderr}");
            }
            "lost-record" => {
                assert!(*ok, "{kind}: {stderr}");
                let lost = ws.fields(file, &["-Y", "ctrace.lost"], &["_ws.col.Info"]);
                assert_eq!(lost.len(), 1);
                assert_eq!(lost.values().next().unwrap()[0], "Lost trace records");
            }
            other => panic!("no expectation for malformed kind {other}"),
        }
    }
}

#[test]
fn converted_pcapng_opens_without_the_plugin() {
    let dir = workdir("convert");
    for (capture, extra) in [
        ("real-ipv6.pcap", &["--framing", "raw"][..]),
        (
            "real-http.pcap",
            &["--framing", "bdw", "--segment-size", "500"][..],
        ),
    ] {
        let trace = dir.join(format!("synthetic-{capture}.ctrace"));
        synth(&real(capture), &trace, extra);
        let before = std::fs::read(&trace).unwrap();
        let out = dir.join(format!("{capture}.pcapng"));
        let args = convert_args(&trace, &out);
        let summary = pktmatch::convert::run(&args).expect("convert");
        assert_eq!(std::fs::read(&trace).unwrap(), before, "input modified");
        // A second run refuses to overwrite.
        assert!(pktmatch::convert::run(&args).is_err());
        assert!(summary.packets > 10);
        // Plain tshark (no personal plugins: a fresh HOME, and as root they
        // are ignored anyway).
        let plain = |file: &Path, fields: &[&str]| -> Vec<String> {
            let mut cmd = std::process::Command::new("tshark");
            cmd.env("HOME", &dir)
                .arg("-r")
                .arg(file)
                .args(["-T", "fields"]);
            for f in fields {
                cmd.args(["-e", f]);
            }
            let out = cmd.output().unwrap();
            assert!(out.status.success());
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let source: Vec<String> = plain(
            &real(capture),
            &[
                "frame.time_epoch",
                "ip.id",
                "ipv6.plen",
                "tcp.seq_raw",
                "tcp.payload",
            ],
        )
        .into_iter()
        .zip(plain(&real(capture), &["ip.version"]))
        .filter(|(_, v)| !v.is_empty())
        .map(|(row, _)| row)
        .collect();
        let converted = plain(
            &out,
            &[
                "frame.time_epoch",
                "ip.id",
                "ipv6.plen",
                "tcp.seq_raw",
                "tcp.payload",
            ],
        );
        assert_eq!(converted, source, "{capture}");
        let flags = plain(
            &out,
            &["frame.packet_flags_direction", "frame.interface_name"],
        );
        assert!(flags
            .iter()
            .all(|l| l.starts_with("0x0000000") && l.contains('\t')));
    }
}

/// A CTRACE trace as a `pktmatch index` point (issue 14, item 4): the
/// post-dissector finds its frames — the trace records Wireshark shows, not
/// the IP packets the matcher reads — and shows their peers at the other
/// point, the source capture, packet for packet.
#[test]
fn a_ctrace_trace_indexed_as_a_point_is_found_by_the_post_dissector() {
    let ws = wireshark();
    let dir = workdir("indexed");
    let pcap = real("real-http.pcap");
    // Writer headers and segments: records that are not just IP packets.
    let trace = dir.join("synthetic-http-zos.ctrace");
    synth(
        &pcap,
        &trace,
        &[
            "--framing",
            "rdw",
            "--writer-header",
            "24",
            "--segment-size",
            "700",
        ],
    );
    let index = dir.join("session.pktmatch");
    let summary = pktmatch::index::run(&pktmatch::index::Args {
        output: index.clone(),
        force: true,
        path: None,
        points: vec![
            format!("pc={}", pcap.display()),
            format!("zos={}", trace.display()),
        ],
        files: vec![],
        window: 2.0,
        keys: None,
        engine: pktmatch::index::DEFAULT_ENGINE.into(),
        memory_limit: None,
        partitions: None,
        quiet: true,
    })
    .expect("pktmatch index");
    assert!(!summary.is_empty());
    let index = ws.add_file(&index);
    let pref = format!("pktmatch.index:{index}");
    let names = [
        "pktmatch.point",
        "pktmatch.peer_frame",
        "_ws.expert.message",
        "ip.id",
    ];
    let zos = ws.fields(&ws.add_file(&trace), &["-o", &pref], &names);
    let pc = ws.fields(&ws.add_file(&pcap), &["-o", &pref], &names);
    // The IP packets of the source, in order: frame k of the trace is the
    // k-th of them.
    let ip_frames: Vec<u32> = pc
        .iter()
        .filter(|(_, r)| !r[3].is_empty())
        .map(|(f, _)| *f)
        .collect();
    assert_eq!(zos.len(), ip_frames.len());
    let mut matched = 0;
    for (frame, row) in &zos {
        assert_eq!(row[0], "zos", "frame {frame}: {row:?}");
        assert!(
            !row[2].contains("not in the index"),
            "frame {frame}: {row:?}"
        );
        if !row[1].is_empty() {
            let want = ip_frames[*frame as usize - 1];
            assert_eq!(row[1], want.to_string(), "frame {frame}'s peer");
            assert_eq!(pc[&want][1], frame.to_string(), "and back");
            matched += 1;
        }
    }
    assert!(
        matched * 10 >= zos.len() * 9,
        "{matched} of {} frames matched",
        zos.len()
    );
    assert!(pc.values().all(|r| r[0] == "pc"));
}
