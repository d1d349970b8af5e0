//! z/OS traces in the forms analysts receive, in real tshark with our
//! plugins and through `pktmatch convert`:
//!
//! * IPCS formatted reports (FULL, FORMAT with DUMP, DUMP, abbreviated)
//!   rendered from the real captures in tests/data by the documented
//!   generator (crates/ipcs-report/examples/ipcs-render.rs): every packet
//!   equal to the capture's (addresses, IP id, ports, sequence numbers,
//!   lengths, time to the µs) with the right direction — also after mail
//!   wrapping and as an EBCDIC print data set;
//! * IBM's documented DUMP example and the SHARE 2010 FULL record;
//! * SUMMARY and FORMAT-only reports refused with what to ask for;
//! * a trace tersed by a compressor we did not write (terselib, PACK and
//!   SPACK), a trace in a TSO XMIT package, a tersed report.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{convert_args, release_plugins, repo_root, Wireshark};

fn wireshark() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

fn data(name: &str) -> PathBuf {
    repo_root().join("tests/data").join(name)
}

fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("zforms-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fields that identify an IP packet.
const PACKET: &[&str] = &[
    "frame.time_epoch",
    "ip.src",
    "ip.dst",
    "ip.id",
    "ip.len",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.plen",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "udp.srcport",
    "udp.dstport",
];

/// The IP frames of a capture, by position (non-IP frames dropped).
fn ip_rows(ws: &Wireshark, file: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut with_version = fields.to_vec();
    with_version.push("ip.version");
    with_version.push("ipv6.version");
    ws.fields(file, &[], &with_version)
        .into_values()
        .filter(|row| row[fields.len()..].iter().any(|v| !v.is_empty()))
        .map(|mut row| {
            row.truncate(fields.len());
            row
        })
        .collect()
}

/// Outbound ("0x00000002") when the source is the capture's first sender,
/// as the generator decides.
fn expected_direction(rows: &[Vec<String>]) -> Vec<String> {
    let src = |r: &Vec<String>| {
        if r[1].is_empty() {
            r[5].clone()
        } else {
            r[1].clone()
        }
    };
    let local = src(&rows[0]);
    rows.iter()
        .map(|r| {
            if src(r) == local {
                "0x00000002"
            } else {
                "0x00000001"
            }
            .to_owned()
        })
        .collect()
}

/// The report's packets equal the capture's, with direction and ctrace
/// fields.
fn report_equals_capture(ws: &Wireshark, report: &str, pcap: &Path, what: &str) {
    let source = ip_rows(ws, &ws.add_file(pcap), PACKET);
    let mut fields = PACKET.to_vec();
    fields.extend([
        "frame.packet_flags_direction",
        "ctrace.direction",
        "ctrace.flags.out",
        "ctrace.interface",
        "ctrace.ifindex",
        "ctrace.seq",
        "ctrace.plen",
        "ctrace.report.record",
        "ctrace.report.sysname",
    ]);
    let got: Vec<Vec<String>> = ws.fields(report, &[], &fields).into_values().collect();
    assert_eq!(got.len(), source.len(), "{what}: frame count");
    let directions = expected_direction(&source);
    for (i, (row, want)) in got.iter().zip(&source).enumerate() {
        let n = PACKET.len();
        assert_eq!(&row[..n], &want[..], "{what}: frame {}", i + 1);
        assert_eq!(row[n], directions[i], "{what}: frame {} direction", i + 1);
        let to = directions[i].ends_with('2');
        assert_eq!(
            row[n + 1],
            if to { "To" } else { "From" },
            "{what}: frame {}",
            i + 1
        );
        assert_eq!(row[n + 2], if to { "1" } else { "0" });
        assert_eq!(&row[n + 3..n + 6], ["OSAQDIO1", "5", "0"]);
        // the outer header's (an ICMP error quotes another)
        let first = |v: &str| v.split(',').next().unwrap().parse::<u32>().unwrap();
        let ip_len = if want[4].is_empty() {
            40 + first(&want[7])
        } else {
            first(&want[4])
        };
        assert_eq!(
            row[n + 6],
            ip_len.to_string(),
            "{what}: frame {} ctrace.plen",
            i + 1
        );
        assert_eq!(row[n + 7], (i + 1).to_string());
        assert_eq!(row[n + 8], "MVS1");
    }
}

const RENDERED: &[(&str, &str)] = &[
    ("rendered-ipcs-full-real-ftp.txt", "real-ftp.pcap"),
    ("rendered-ipcs-format-dump-real-ipv6.txt", "real-ipv6.pcap"),
    ("rendered-ipcs-dump-real-dns.txt", "real-dns.pcap"),
    (
        "rendered-ipcs-full-abbrev120-real-http.txt",
        "real-http.pcap",
    ),
];

#[test]
fn reports_open_in_tshark_packet_for_packet_equal_to_their_captures() {
    let ws = wireshark();
    for (report, pcap) in RENDERED {
        let file = ws.add_file(&data(report));
        report_equals_capture(&ws, &file, &data(pcap), report);
        let info = ws.tool("capinfos", &["-t", &file]);
        assert!(String::from_utf8_lossy(&info.stdout).contains("z/OS IPCS packet trace report"));
    }
    // abbreviated to 120 bytes: the frame keeps the packet's length, the
    // capture only what was dumped
    let file = ws.add_file(&data(RENDERED[3].0));
    let rows = ws.fields(
        &file,
        &[],
        &[
            "ctrace.abbreviated",
            "ctrace.tlen",
            "ip.len",
            "ctrace.report.extent",
        ],
    );
    let cut = rows.values().filter(|r| r[0] == "1").count();
    assert!(cut > 10, "{cut} abbreviated packets");
    for r in rows.values().filter(|r| r[0] == "1") {
        assert_eq!(r[1], "120");
        assert!(r[2].parse::<u32>().unwrap() > 120);
        assert_eq!(r[3], "Abbrev=120");
    }
}

#[test]
fn mangled_reports_open_the_same() {
    let ws = wireshark();
    let dir = workdir("mangled");
    let text = std::fs::read_to_string(data(RENDERED[2].0)).unwrap();
    // a mail client's wrapping at 72 columns
    let mut wrapped = String::new();
    for line in text.lines() {
        let mut rest = line;
        while rest.len() > 72 {
            let cut = rest[..72].rfind(' ').filter(|&c| c > 0).unwrap_or(72);
            wrapped.push_str(rest[..cut].trim_end());
            wrapped.push_str("\r\n");
            rest = rest[cut..].trim_start();
        }
        wrapped.push_str(rest);
        wrapped.push_str("\r\n");
    }
    // the EBCDIC print data set: ASA control, 133-byte records, no line ends
    let mut fba = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cc = if i % 60 == 0 { "1" } else { " " };
        let mut rec = ctrace::ebcdic::encode(&format!("{cc}{line}"));
        rec.resize(133, 0x40);
        fba.extend(rec);
    }
    for (name, bytes) in [
        ("wrapped.txt", wrapped.into_bytes()),
        ("report.fba133", fba),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let file = ws.add_file(&path);
        report_equals_capture(&ws, &file, &data(RENDERED[2].1), name);
    }
}

#[test]
fn ibm_dump_example_and_share2010_record_in_tshark() {
    let ws = wireshark();
    let file = ws.add_file(&data("ibm-dump-example.txt"));
    let rows = ws.fields(
        &file,
        &[],
        &[
            "ctrace.report.record",
            "ctrace.report.mnemonic",
            "ctrace.format_id",
            "ctrace.interface",
            "ctrace.direction",
            "ctrace.time",
            "ctrace.cte.time",
            "ctrace.report.asid",
            "ip.src",
            "ip.dst",
            "ip.id",
            "icmp.type",
            "ip.len",
            "frame.time_epoch",
        ],
    );
    let r = &rows[&1];
    assert_eq!(&r[..5], ["4521", "SCAN", "0x03030000", "ETH1", "From"]);
    assert!(r[5].contains("17:38:32.175559000"), "{}", r[5]);
    assert!(r[6].contains("17:38:32.175560000"), "{}", r[6]);
    assert_eq!(
        &r[7..13],
        ["0x01f7", "9.42.105.71", "9.42.104.38", "0x0000", "8", "40"]
    );
    assert_eq!(r[13], "1037813912.175559000");

    let file = ws.add_file(&data("share2010-full-record.txt"));
    let rows = ws.fields(
        &file,
        &[],
        &[
            "ctrace.interface",
            "ctrace.ifindex",
            "ctrace.plen",
            "ctrace.tlen",
            "ip.id",
            "ip.src",
            "frame.time_epoch",
        ],
    );
    assert_eq!(
        rows[&1],
        [
            "ETH1",
            "4",
            "52",
            "20",
            "0xad04",
            "137.72.43.110",
            "1203713322.883162000"
        ]
    );
    // the cut dump is said, on that packet
    let out = ws.tshark_ok(&[
        "-r",
        &file,
        "-Y",
        "_ws.expert.message contains \"hold 20 of\"",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert_eq!(out.trim(), "1");
}

#[test]
fn summary_and_format_only_reports_are_refused_clearly() {
    let ws = wireshark();
    for (name, words) in [
        ("ibm-summary-example.txt", "SUMMARY report"),
        ("ibm-format-example.txt", "no hex dumps"),
    ] {
        let file = ws.add_file(&data(name));
        let out = ws.tshark(&["-r", &file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(
            err.contains(words) && err.contains("cannot be rebuilt"),
            "{name}: {err}"
        );
        let dir = workdir("refused");
        let args = convert_args(&data(name), &dir.join("out.pcapng"));
        let e = pktmatch::convert::run(&args).unwrap_err().to_string();
        assert!(e.contains(words), "{e}");
    }
}

/// `tshark -r FILE` without our plugins: what any Wireshark shows.
fn plain_rows(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let dir = workdir("plain");
    let mut cmd = std::process::Command::new("tshark");
    cmd.env("HOME", &dir)
        .arg("-r")
        .arg(file)
        .args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::rows(&String::from_utf8_lossy(&out.stdout))
}

/// `pktmatch convert` of `input` (without touching it), every packet
/// equal to `pcap`'s with its direction, read by a tshark without our
/// plugins.
fn convert_equals_capture(
    ws: &Wireshark,
    input: &Path,
    pcap: &Path,
    out: &Path,
) -> pktmatch::convert::Summary {
    let what = input.display();
    let before = std::fs::read(input).unwrap();
    let summary = pktmatch::convert::run(&convert_args(input, out)).expect("convert");
    assert_eq!(std::fs::read(input).unwrap(), before, "input modified");
    assert!(
        summary.warnings.is_empty(),
        "{what}: {:?}",
        summary.warnings
    );
    let mut fields = PACKET.to_vec();
    fields.push("frame.packet_flags_direction");
    let source = ip_rows(ws, &ws.add_file(pcap), PACKET);
    let converted = plain_rows(out, &fields);
    assert_eq!(converted.len(), source.len(), "{what}");
    let directions = expected_direction(&source);
    for (i, (row, want)) in converted.iter().zip(&source).enumerate() {
        assert_eq!(&row[..PACKET.len()], &want[..], "{what}: packet {}", i + 1);
        assert_eq!(row[PACKET.len()], directions[i], "{what}: packet {}", i + 1);
    }
    summary
}

#[test]
fn reports_convert_packet_for_packet() {
    let ws = wireshark();
    let dir = workdir("convert");
    for (report, pcap) in RENDERED {
        let out = dir.join(format!("{report}.pcapng"));
        convert_equals_capture(&ws, &data(report), &data(pcap), &out);
    }
}

/// The trace ctrace-synth writes for real-dns.pcap, RDW framing: the one
/// the terselib fixtures were made from.
fn dns_trace(dir: &Path) -> PathBuf {
    let out = dir.join("synthetic-dns.rdw");
    let argv = vec![
        data("real-dns.pcap").to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
        "--framing".to_owned(),
        "rdw".to_owned(),
    ];
    let (input, output, options) = ctrace_synth::parse_args(argv).unwrap();
    ctrace_synth::write(&input, &output, &options).unwrap();
    out
}

#[test]
fn tersed_and_xmit_packed_traces_open_and_convert() {
    let ws = wireshark();
    let dir = workdir("packed");
    let trace = dns_trace(&dir);
    let rdw = std::fs::read(&trace).unwrap();
    // the terselib and xmi-reader fixtures hold exactly this trace
    for name in [
        "terselib-spack-synthetic-ctrace-rdw-real-dns.trs",
        "terselib-pack-synthetic-ctrace-rdw-real-dns.trs",
        "xmilib-u-synthetic-ctrace-rdw-real-dns.xmi",
    ] {
        let (_, unpacked) = zunpack::unpack(&std::fs::read(data(name)).unwrap(), 1 << 26).unwrap();
        assert!(
            unpacked == rdw,
            "{name} is stale: regenerate it (tests/data/README.md)"
        );
    }
    // an XMIT package of the trace's records, as TSO TRANSMIT writes one
    // (our writer; xmi-reader, which we did not write, reads it back to
    // the same records: docs/zos-containers.md)
    let records = zunpack::records::rdw_records(&rdw).unwrap();
    let xmit = zunpack::xmit::write(
        &zunpack::xmit::WriteOptions {
            dataset: "SYS1.CTRACE.DNS",
            format: zunpack::RecordFormat::Variable,
            lrecl: 27998,
            from_node: "MVS1",
            from_user: "SYSPROG",
            time: "20261205120000",
        },
        &records,
    );
    let xmit_path = dir.join("dns.xmit");
    std::fs::write(&xmit_path, &xmit).unwrap();
    let fields = [
        "frame.time_epoch",
        "ip.src",
        "ip.dst",
        "ip.id",
        "udp.srcport",
        "dns.id",
        "ctrace.direction",
        "ctrace.interface",
    ];
    let want = ws.fields(&ws.add_file(&trace), &[], &fields);
    assert_eq!(want.len(), 46);
    for packed in [
        data("terselib-spack-synthetic-ctrace-rdw-real-dns.trs"),
        data("terselib-pack-synthetic-ctrace-rdw-real-dns.trs"),
        data("xmilib-u-synthetic-ctrace-rdw-real-dns.xmi"),
        xmit_path.clone(),
    ] {
        let what = packed.file_name().unwrap().to_string_lossy().into_owned();
        let file = ws.add_file(&packed);
        assert_eq!(ws.fields(&file, &[], &fields), want, "{what} in tshark");
        let info =
            String::from_utf8_lossy(&ws.tool("capinfos", &["-t", &file]).stdout).into_owned();
        assert!(info.contains("z/OS CTRACE"), "{what}: {info}");
        // random access: a later frame first
        let out = ws.tshark_ok(&[
            "-r",
            &file,
            "-2",
            "-Y",
            "frame.number == 40 || frame.number == 3",
            "-T",
            "fields",
            "-e",
            "ip.id",
        ]);
        assert_eq!(out.lines().count(), 2, "{what}");
        let pcapng = dir.join(format!("{what}.pcapng"));
        let summary = pktmatch::convert::run(&convert_args(&packed, &pcapng)).expect("convert");
        assert_eq!(summary.packets, 46, "{what}");
        assert_eq!(summary.unpacked.len(), 1, "{what}");
        let plain: Vec<Vec<String>> = plain_rows(&pcapng, &fields[..6]);
        let want6: Vec<Vec<String>> = want.values().map(|r| r[..6].to_vec()).collect();
        assert_eq!(plain, want6, "{what} converted");
    }
}

#[test]
fn tersed_and_xmit_packed_reports_open_and_convert() {
    let ws = wireshark();
    let dir = workdir("packed-report");
    for (name, container) in [
        ("terselib-spack-rendered-ipcs-dump-real-dns.trs", "AMATERSE"),
        ("terselib-pack-rendered-ipcs-dump-real-dns.trs", "AMATERSE"),
        ("xmilib-fb133-rendered-ipcs-dump-real-dns.xmi", "TSO XMIT"),
    ] {
        let file = ws.add_file(&data(name));
        report_equals_capture(&ws, &file, &data("real-dns.pcap"), name);
        let comments = ws.fields(&file, &[], &["frame.comment"]);
        assert!(
            comments[&1][0].contains(&format!("unpacked: {container}")),
            "{:?}",
            comments[&1]
        );
        // and through pktmatch convert
        let out = dir.join(format!("{name}.pcapng"));
        let summary = convert_equals_capture(&ws, &data(name), &data("real-dns.pcap"), &out);
        assert!(
            summary.unpacked[0].starts_with(container),
            "{:?}",
            summary.unpacked
        );
    }
}

#[test]
fn report_fields_are_registered() {
    let ws = wireshark();
    let out = ws.tshark_ok(&["-G", "fields"]);
    let names: BTreeMap<&str, ()> = out
        .lines()
        .filter_map(|l| l.split('\t').nth(2))
        .map(|n| (n, ()))
        .collect();
    for def in ipcs_report::wire::TAGS {
        for field in def.field.split(" / ") {
            let field = field.split(' ').next().unwrap();
            assert!(
                names.contains_key(field),
                "{field} (wire tag {:?}) is not registered",
                def.tag
            );
        }
    }
}

/// An SMC record (format id 8) built with the byte positions written out
/// from 2cUTC's SMC dissector (its body offsets; the body starts at
/// CTE+112, the extension length at CTE+108) — not from our layout table,
/// which must agree with them.
fn smc_record(interface: &str, body: &[(usize, &[u8])], llc: &[u8]) -> Vec<u8> {
    let mut ext = vec![0u8; 4 + 74];
    for (at, bytes) in body {
        ext[4 + at..4 + at + bytes.len()].copy_from_slice(bytes);
    }
    let ext_len = ext.len() as u16;
    ext[0..2].copy_from_slice(&ext_len.to_be_bytes());
    ext[2..4].copy_from_slice(&[0xE2, 0xD4]); // "SM" in EBCDIC, a made-up type
    ext.extend_from_slice(llc);
    let header = ctrace::build::Header {
        tlen: ext.len() as u32,
        plen: ext.len() as u16,
        name: ctrace::build::name16(interface),
        tod: 0xDA00_0000_0000_0000,
        ..ctrace::build::Header::default()
    };
    let mut data = header.bytes();
    data.extend_from_slice(&ext);
    ctrace::build::cte(8, 0xDA00_0000_0001_0000, &data)
}

#[test]
fn smc_extension_decoded_as_2cutc_reads_it() {
    let ws = wireshark();
    let dir = workdir("smc");
    let r = smc_record(
        "EZARIUT1",
        &[
            (28, &[0x11, 0x22, 0x33, 0x44]),
            (32, &[0x55, 0x66, 0x77, 0x88]),
            (44, &[1, 2, 3, 4, 5, 6, 7, 8]),
            (60, &[9, 10, 11, 12, 13, 14, 15, 16]),
            (68, &[0x00, 0x01, 0x02]),
            (71, &[0x00, 0x03, 0x04]),
        ],
        &[0x02, 0x00, 0x2C, 0x80, 0x07, 0x00, 0x01, 0x02, 0x03, 0xEE],
    );
    let d = smc_record(
        "EZAISM01",
        &[
            (0, &[0, 0, 0, 0, 0, 0, 0x10, 0x00]),
            (8, &[0, 0, 0, 0, 0, 0, 0x08, 0x00]),
            (16, &[0x40]),
            (17, &[0x02]),
            (18, &[5]),
            (19, &[6]),
            (28, &[0xAA, 0, 0, 1]),
            (32, &[0xBB, 0, 0, 2]),
            (36, &[0xCC; 8]),
            (52, &[0xDD; 8]),
        ],
        &[1, 2, 3],
    );
    let path = dir.join("smc.ctrace");
    std::fs::write(&path, [r, d].concat()).unwrap();
    let file = ws.add_file(&path);
    let rows = ws.fields(
        &file,
        &[],
        &[
            "ctrace.fmtid",
            "ctrace.smc.kind",
            "ctrace.smc.ext_len",
            "ctrace.smc.lcl_conn_id",
            "ctrace.smc.rmt_conn_id",
            "ctrace.smc.rmt_gid",
            "ctrace.smc.lcl_gid",
            "ctrace.smc.rmt_qp",
            "ctrace.smc.lcl_qp",
            "ctrace.smc.llc.type",
            "ctrace.smc.llc.len",
            "ctrace.smc.llc.flags",
            "ctrace.smc.llc.link_id",
            "ctrace.smc.llc.reason",
            "ctrace.smc.prod_cursor",
            "ctrace.smc.cons_cursor",
            "ctrace.smc.conn_state",
            "ctrace.smc.rmt_conn_index",
            "ctrace.smc.lcl_conn_index",
            "ctrace.smc.rest",
        ],
    );
    assert_eq!(
        rows[&1],
        [
            "8",
            "SMC-R",
            "78",
            "0x11223344",
            "0x55667788",
            "0x0102030405060708",
            "0x090a0b0c0d0e0f10",
            "258",
            "772",
            "2",
            "44",
            "0x80",
            "7",
            "0x00010203",
            "",
            "",
            "",
            "",
            "",
            "ee"
        ]
    );
    assert_eq!(
        rows[&2],
        [
            "8",
            "SMC-D",
            "78",
            "0xaa000001",
            "0xbb000002",
            "0xcccccccccccccccc",
            "0xdddddddddddddddd",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "0x0000000000001000",
            "0x0000000000000800",
            "0x02",
            "5",
            "6",
            "010203"
        ]
    );
}

/// An MVS message line (message id, text) as IPCS prints them among
/// the records.
const MESSAGE: &str = "BLS18058I Warnings regarding STRUCTURE(CTE) at ASID(X'0001') 00000000";

/// The DUMP report of real-dns.pcap damaged the three ways the issue
/// names: a line that is no report line inside record 1, record 2's IP
/// header dump line lost, record 3's Data heading stating 3 bytes more
/// than its dump holds; and an MVS message inside record 4.  Returns the
/// text and the (1-based) number of the garbage line.
fn damaged_dns_report() -> (String, usize) {
    let text = std::fs::read_to_string(data(RENDERED[2].0)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let tods: Vec<usize> = (lines.iter().enumerate())
        .filter(|(_, l)| l.contains("Tod Clock"))
        .map(|(i, _)| i)
        .collect();
    lines.insert(tods[3] + 1, format!(" {MESSAGE}"));
    let tod = tods[0];
    lines.insert(tod + 1, "  %%% not a report line %%%".to_owned());
    let headings = |lines: &[String], what: &str| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(what))
            .map(|(i, _)| i)
            .collect()
    };
    let ip = headings(&lines, " IP Header");
    lines.remove(ip[1] + 1);
    let data_at = headings(&lines, " Data ")[2];
    let stated: usize = lines[data_at]
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    lines[data_at] =
        lines[data_at].replacen(&format!(": {stated} "), &format!(": {} ", stated + 3), 1);
    assert!(lines[data_at].contains(&format!(": {} ", stated + 3)));
    (lines.join("\n") + "\n", tod + 2)
}

#[test]
fn bad_lines_and_miscounted_dumps_are_said_on_their_packets() {
    let ws = wireshark();
    let dir = workdir("damaged");
    let (text, garbage_line) = damaged_dns_report();
    let path = dir.join("damaged.txt");
    std::fs::write(&path, &text).unwrap();
    let skipped = format!("line {garbage_line}: skipped: %%% not a report line %%%");

    // tshark: each on its own frame, as expert info (and the skipped line
    // as a frame comment); the other frames clean and still equal
    let file = ws.add_file(&path);
    let rows = ws.field_rows(
        &file,
        &[],
        &[
            "frame.number",
            "ctrace.report.skipped_line",
            "ctrace.report.problem",
            "_ws.expert.message",
            "frame.comment",
            "ip.id",
            "ctrace.report.message",
        ],
        "|",
    );
    let source = ip_rows(&ws, &ws.add_file(&data(RENDERED[2].1)), &["ip.id"]);
    assert_eq!(rows.len(), source.len());
    let experts = |n: usize| rows[n - 1][3].clone();
    assert!(experts(1).contains(&skipped), "frame 1: {:?}", rows[0]);
    assert!(
        rows[0][4].contains(&skipped),
        "frame 1 comment: {:?}",
        rows[0]
    );
    assert!(
        experts(2).contains("\"IP Header\" states 20 bytes, its hex dump holds 0"),
        "frame 2: {:?}",
        rows[1]
    );
    assert!(
        experts(3).contains("\"Data\" states") && experts(3).contains("its hex dump holds"),
        "frame 3: {:?}",
        rows[2]
    );
    assert!(!experts(1).contains("states"), "frame 1: {:?}", rows[0]);
    assert!(!experts(3).contains("skipped"), "frame 3: {:?}", rows[2]);
    // the message is a note of its own kind, not a skipped line
    assert!(
        experts(4).contains(&format!("message: {MESSAGE}")) && !experts(4).contains("skipped"),
        "frame 4: {:?}",
        rows[3]
    );
    assert!(
        !rows[3][6].is_empty() && rows[3][1].is_empty(),
        "frame 4: {:?}",
        rows[3]
    );
    assert!(
        !rows[0][1].is_empty() && rows[0][6].is_empty(),
        "frame 1: {:?}",
        rows[0]
    );
    for (i, row) in rows.iter().enumerate().skip(4) {
        assert!(
            row[1].is_empty() && row[2].is_empty() && row[6].is_empty() && !row[3].contains("line"),
            "frame {}: {row:?}",
            i + 1
        );
        assert_eq!(row[5], source[i][0], "frame {}", i + 1);
    }
    // the packets whose dumps are whole are still the capture's
    assert_eq!(rows[0][5], source[0][0]);
    assert_eq!(rows[2][5], source[2][0]);

    // pktmatch convert: the same as packet comments and warnings naming
    // the file and line
    let out = dir.join("damaged.pcapng");
    let summary = pktmatch::convert::run(&convert_args(&path, &out)).expect("convert");
    let named = format!("{}: {skipped}", path.display());
    assert!(
        summary.warnings.iter().any(|w| w == &named),
        "{:?}",
        summary.warnings
    );
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("\"IP Header\" states 20 bytes")),
        "{:?}",
        summary.warnings
    );
    let comments = plain_rows(&out, &["frame.comment", "ip.id"]);
    assert!(comments[0][0].contains(&skipped), "{:?}", comments[0]);
    assert!(comments[1][0].contains("\"IP Header\" states 20 bytes"));
    assert!(comments[2][0].contains("\"Data\" states"));
    assert!(comments[3][0].contains(MESSAGE), "{:?}", comments[3]);
    assert!(comments[4..].iter().all(|r| r[0].is_empty()));
    assert_eq!(comments[2][1], source[2][0]);
}
