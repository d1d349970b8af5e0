//! `pktmatch keys` checked by tools we did not write: the Parquet files are
//! read by pyarrow (tools/pyarrow-venv.sh installs it from PyPI), and every
//! row's values are compared with what real tshark says of the same frame
//! (`-T fields`), on the real captures of tests/data.  Also: `index --keys`
//! and `export --parquet` from the command line, the latter against the CSV
//! export.

mod common;

use common::{pktmatch_ok, tool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The python of a virtual environment with pyarrow.
fn pyarrow_python() -> String {
    let out = Command::new("sh")
        .arg(repo().join("tools/pyarrow-venv.sh"))
        .output()
        .expect("run tools/pyarrow-venv.sh");
    assert!(
        out.status.success(),
        "tools/pyarrow-venv.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().last().expect("python path").trim().to_string()
}

/// Rows as pyarrow reads them: point → rows of the columns asked for (the
/// frame first), and the row counts pyarrow's dataset API gives.
fn pyarrow_rows(dir: &Path, columns: &[&str]) -> (BTreeMap<String, Vec<Vec<String>>>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys_dump.py");
    let out = Command::new(pyarrow_python())
        .arg(script)
        .arg(dir)
        .args(columns)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "keys_dump.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines = text.lines();
    let counts = lines.next().expect("counts line").to_string();
    let mut rows: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for l in lines {
        let mut f = l.split('\t').map(str::to_string);
        let point = f.next().expect("point");
        rows.entry(point).or_default().push(f.collect());
    }
    (rows, counts)
}

const REAL: [&str; 9] = [
    "real-dns.pcap",
    "real-ftp.pcap",
    "real-http.pcap",
    "real-ipv6.pcap",
    "real-nat-client.pcapng",
    "real-nat-wan.pcapng",
    "real-tcp-retrans.pcap",
    "real-tls.pcap",
    "real-vlan.pcap",
];

const KEY_COLUMNS: [&str; 19] = [
    "frame",
    "ts",
    "orig_len",
    "cap_len",
    "ip_version",
    "src_addr",
    "dst_addr",
    "src_port",
    "dst_port",
    "ip_proto",
    "ttl",
    "ip_id",
    "seq",
    "ack",
    "tcp_flags",
    "tsval",
    "l4_len",
    "dns_id",
    "key_flags",
];

const TSHARK_FIELDS: [&str; 25] = [
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.proto",
    "ip.ttl",
    "ipv6.hlim",
    "ip.id",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.flags",
    "tcp.len",
    "tcp.options.timestamp.tsval",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "dns.id",
    "ip.flags.mf",
    "ip.frag_offset",
];

/// "1795329130.750348000" → ns.
fn epoch_ns(s: &str) -> i128 {
    let (sec, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<9}");
    sec.parse::<i128>().expect("seconds") * 1_000_000_000
        + frac[..9].parse::<i128>().expect("fraction")
}

/// A tshark number, decimal or 0x-hex.
fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex"),
        None => s.parse().unwrap_or_else(|_| panic!("number {s:?}")),
    }
}

// capture::keys::flag bits (docs/keys.md, key_flags).
const FRAGMENT: u64 = 1 << 4;
const L4_PARTIAL: u64 = 1 << 6;
const HAS_TSVAL: u64 = 1 << 8;
const TUNNEL: u64 = 1 << 10;

#[test]
fn keys_open_in_pyarrow_and_agree_with_tshark() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let dir = tmp.path().join("keys");
    let data = repo().join("tests/data");
    let mut args: Vec<String> = vec!["keys".into(), "-q".into(), "-o".into()];
    args.push(dir.display().to_string());
    for f in REAL {
        let label = f.split('.').next().unwrap();
        args.push("--point".into());
        args.push(format!("{label}={}", data.join(f).display()));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    pktmatch_ok(&a);
    let (rows, counts) = pyarrow_rows(&dir, &KEY_COLUMNS);
    let col: BTreeMap<&str, usize> = KEY_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    for f in REAL {
        let label = f.split('.').next().unwrap();
        let mut targs: Vec<&str> = vec!["-r"];
        let path = data.join(f).display().to_string();
        targs.push(&path);
        targs.extend(["-T", "fields", "-E", "occurrence=f", "-E", "separator=/t"]);
        for t in TSHARK_FIELDS {
            targs.extend(["-e", t]);
        }
        let text = tool("tshark", &targs, &home);
        let ts: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        let ours = rows
            .get(label)
            .unwrap_or_else(|| panic!("{label}: no rows ({counts})"));
        // One row per frame, frames 1..n, as pyarrow's dataset counts them.
        assert_eq!(ours.len(), ts.len(), "{label}: rows vs tshark's frames");
        assert!(
            counts.contains(&format!("{label}={}", ts.len())),
            "{counts}"
        );
        let tf: BTreeMap<&str, usize> = TSHARK_FIELDS
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i))
            .collect();
        for (r, t) in ours.iter().zip(&ts) {
            let o = |c: &str| r[col[c]].as_str();
            let w = |c: &str| t.get(tf[c]).copied().unwrap_or("");
            let frame = o("frame");
            let what = |field: &str| format!("{label} frame {frame}: {field}");
            let mut check = |field: &'static str, ours: String, theirs: String| {
                assert_eq!(ours, theirs, "{}", what(field));
                *compared.entry(field).or_default() += 1;
            };
            check("frame", o("frame").into(), w("frame.number").into());
            check(
                "ts",
                o("ts").into(),
                epoch_ns(w("frame.time_epoch")).to_string(),
            );
            check("orig_len", o("orig_len").into(), w("frame.len").into());
            check("cap_len", o("cap_len").into(), w("frame.cap_len").into());
            if o("src_addr").is_empty() {
                // No keys: tshark sees no IP either.
                assert!(
                    w("ip.src").is_empty() && w("ipv6.src").is_empty(),
                    "{}",
                    what("no keys")
                );
                continue;
            }
            let flags = num(o("key_flags"));
            if flags & TUNNEL != 0 {
                continue;
            }
            let v6 = o("ip_version") == "6";
            let (src, dst, ttl) = if v6 {
                ("ipv6.src", "ipv6.dst", "ipv6.hlim")
            } else {
                ("ip.src", "ip.dst", "ip.ttl")
            };
            check("src_addr", o("src_addr").into(), w(src).into());
            check("dst_addr", o("dst_addr").into(), w(dst).into());
            check("ttl", o("ttl").into(), w(ttl).into());
            if !v6 {
                check("ip_proto", o("ip_proto").into(), w("ip.proto").into());
                check("ip_id", o("ip_id").into(), num(w("ip.id")).to_string());
            }
            if flags & (FRAGMENT | L4_PARTIAL) != 0 {
                continue;
            }
            match o("ip_proto") {
                "6" => {
                    check(
                        "tcp ports",
                        format!("{} {}", o("src_port"), o("dst_port")),
                        format!("{} {}", w("tcp.srcport"), w("tcp.dstport")),
                    );
                    check("seq", o("seq").into(), w("tcp.seq_raw").into());
                    check("ack", o("ack").into(), w("tcp.ack_raw").into());
                    check(
                        "tcp_flags",
                        o("tcp_flags").into(),
                        (num(w("tcp.flags")) & 0xFF).to_string(),
                    );
                    check("tcp l4_len", o("l4_len").into(), w("tcp.len").into());
                    let tsval = if flags & HAS_TSVAL != 0 {
                        o("tsval")
                    } else {
                        ""
                    };
                    check(
                        "tsval",
                        tsval.into(),
                        w("tcp.options.timestamp.tsval").into(),
                    );
                }
                "17" => {
                    check(
                        "udp ports",
                        format!("{} {}", o("src_port"), o("dst_port")),
                        format!("{} {}", w("udp.srcport"), w("udp.dstport")),
                    );
                    check(
                        "udp l4_len",
                        o("l4_len").into(),
                        (num(w("udp.length")) - 8).to_string(),
                    );
                    // capture::keys reads DNS on its ports (53, mDNS 5353,
                    // LLMNR 5355); tshark also elsewhere (real-ipv6: 5300).
                    let dns_port = [o("src_port"), o("dst_port")]
                        .iter()
                        .any(|p| matches!(*p, "53" | "5353" | "5355"));
                    let theirs = match w("dns.id") {
                        id if !id.is_empty() && dns_port => num(id).to_string(),
                        _ => String::new(),
                    };
                    check("udp dns_id", o("dns_id").into(), theirs);
                }
                _ => {}
            }
            // DNS over TCP: where tshark decodes a message, the id is ours.
            if o("ip_proto") == "6" && !w("dns.id").is_empty() {
                check(
                    "tcp dns_id",
                    o("dns_id").into(),
                    num(w("dns.id")).to_string(),
                );
            }
        }
    }
    eprintln!("values compared with tshark: {compared:?}");
    for field in [
        "ts",
        "src_addr",
        "ip_id",
        "seq",
        "tsval",
        "udp l4_len",
        "udp dns_id",
        "tcp dns_id",
    ] {
        assert!(
            compared.get(field).copied().unwrap_or(0) >= 4,
            "{field} compared too rarely: {compared:?}"
        );
    }
}

/// The matches of an index, as `export --parquet` wrote them, read by
/// pyarrow and printed as the CSV contract prints them.
fn parquet_as_csv(file: &Path) -> String {
    let code = r#"
import sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(",".join(t.column_names))
cols = [t[c].to_pylist() for c in t.column_names]
for r in zip(*cols):
    a, fa, b, fb, raw, corr, method, conf = r
    m = int(round(conf * 255)) * 1000
    m = (m + 127) // 255
    print(f"{a},{fa},{b},{fb},{raw},{'' if corr is None else corr},{method},{m // 1000}.{m % 1000:03d}")
"#;
    let out = Command::new(pyarrow_python())
        .args(["-c", code])
        .arg(file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The captures of examples/session-small, its four points.
fn session_small() -> Vec<String> {
    let ex = repo().join("examples/session-small");
    ["client", "wan", "dc", "lbserver"]
        .iter()
        .map(|l| ex.join(format!("{l}.pcapng")).display().to_string())
        .collect()
}

/// Indexes `files` into `out`, and their keys, in parts of 128 rows, into
/// the directory `keys`.
fn index_and_keys(files: &[String], out: &str, keys: &str) {
    let mut a = vec!["index", "-q", "-o", out];
    a.extend(files.iter().map(String::as_str));
    pktmatch_ok(&a);
    let mut k = vec!["keys", "-q", "-o", keys, "--rows-per-part", "128"];
    k.extend(files.iter().map(String::as_str));
    pktmatch_ok(&k);
}

/// Asserts two indexes have the same matches, clocks and losses (the files
/// differ only in their creation time: crates/engine/tests/same_index.rs
/// compares the bytes); returns the matches as CSV.
fn assert_same_index(direct: &str, other: &str) -> String {
    let csv = |ix: &str, what: &str| pktmatch_ok(&["export", ix, what, "-"]);
    let direct_csv = csv(direct, "--csv");
    assert!(direct_csv.lines().count() > 500, "matches exported");
    assert_eq!(direct_csv, csv(other, "--csv"));
    assert_eq!(csv(direct, "--lost-csv"), csv(other, "--lost-csv"));
    let info = |ix: &str| pktmatch_ok(&["info", ix, "--json", "--no-files"]);
    // All but the index's own name and creation time.
    let strip = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| !l.contains("\"created") && !l.contains("\"session\""))
            .map(str::to_string)
            .collect()
    };
    let (x, y) = (strip(info(direct)), strip(info(other)));
    assert!(x.len() > 100, "info --json lines");
    for (l, r) in x.iter().zip(&y) {
        assert_eq!(l, r, "info --json differs");
    }
    assert_eq!(x.len(), y.len());
    direct_csv
}

#[test]
fn index_from_keys_and_parquet_export_on_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n).display().to_string();
    let files = session_small();
    let (direct, keys) = (t("direct.pktmatch"), t("keys"));
    index_and_keys(&files, &direct, &keys);
    let from_keys = t("keys.pktmatch");
    pktmatch_ok(&["index", "-q", "--keys", &keys, "-o", &from_keys]);
    let direct_csv = assert_same_index(&direct, &from_keys);
    // Matches as Parquet: pyarrow reads the CSV's rows back.
    let pq = t("matches.parquet");
    pktmatch_ok(&["export", &from_keys, "--parquet", &pq]);
    assert_eq!(parquet_as_csv(Path::new(&pq)), direct_csv);
    // An existing output is refused without --force, like every output.
    let e = common::pktmatch_err(&["keys", "-o", &keys, &files[0], &files[1]]);
    assert!(e.contains("--force"), "{e}");
}

/// The same from classic pcap files (the example session three times,
/// bench/replicate-session.py), whose key tables `keys` writes in pieces
/// on several threads (small pieces, parts and row groups, so that part
/// boundaries fall inside pieces): `index --keys` gives the index
/// `index` gives from the captures.
#[test]
fn index_from_keys_written_in_pieces() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n).display().to_string();
    let status = Command::new("python3")
        .arg(repo().join("bench/replicate-session.py"))
        .arg("--vary-ports")
        .arg(repo().join("examples/session-small"))
        .arg(tmp.path())
        .arg("3")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "replicate-session.py");
    let files: Vec<String> = ["client", "wan", "dc", "lbserver"]
        .iter()
        .map(|l| t(&format!("{l}.pcap")))
        .collect();
    let (direct, keys, from_keys) = (t("direct.pktmatch"), t("keys"), t("keys.pktmatch"));
    let mut a = vec!["index", "-q", "-o", &direct];
    a.extend(files.iter().map(String::as_str));
    pktmatch_ok(&a);
    let mut k = vec![
        "keys",
        "-o",
        &keys,
        "--threads",
        "8",
        "--piece-bytes",
        "16384",
    ];
    k.extend(["--rows-per-part", "1000", "--rows-per-group", "300"]);
    k.extend(files.iter().map(String::as_str));
    // The summary, on standard error.
    let out = common::pktmatch(&k);
    assert!(out.status.success(), "pktmatch keys failed");
    let summary = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        summary.matches("pieces on 2 threads").count(),
        4,
        "every point read in pieces on two threads:\n{summary}"
    );
    pktmatch_ok(&["index", "-q", "--keys", &keys, "-o", &from_keys]);
    assert_same_index(&direct, &from_keys);
}

/// One Parquet file as tests/keys_rewrite.py wrote it.
#[derive(Debug)]
struct Rewritten {
    path: String,
    row_groups: usize,
    /// The largest `frame` of its row group statistics (None: none).
    frame_statistic: Option<u64>,
    /// The largest `frame` of its rows.
    frame_max: u64,
}

/// Rewrites the key tables of `src` into `dst` with pyarrow (MODE: see
/// tests/keys_rewrite.py).
fn pyarrow_rewrite(src: &str, dst: &str, mode: &str) -> Vec<Rewritten> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys_rewrite.py");
    let out = Command::new(pyarrow_python())
        .arg(script)
        .args([src, dst, mode])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "keys_rewrite.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| panic!("{s:?}"));
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "{l}");
            Rewritten {
                path: f[0].to_string(),
                row_groups: num(f[1]) as usize,
                frame_statistic: (f[2] != "none").then(|| num(f[2])),
                frame_max: num(f[3]),
            }
        })
        .collect()
}

/// The Parquet files under a key table directory, as `point=LABEL/part-N`
/// paths, sorted.
fn parquet_files(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in std::fs::read_dir(dir).unwrap() {
        let p = p.unwrap();
        for f in std::fs::read_dir(p.path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".parquet") {
                out.push(format!("{}/{name}", p.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

/// Key tables rewritten by pyarrow (read_table → write_table, as a user
/// reworking them in Python would) index as the captures do: with the
/// `frame` statistics pyarrow writes by default, in many row groups, and
/// without statistics (sized by the rows).  Rows out of frame order, or
/// the footer's pairs lost, are refused with a clear error.
#[test]
fn index_from_keys_rewritten_by_pyarrow() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n).display().to_string();
    let (direct, keys) = (t("direct.pktmatch"), t("keys"));
    index_and_keys(&session_small(), &direct, &keys);
    // 4 points of 183 to 347 frames in parts of 128 rows.
    let layout = parquet_files(&keys);
    assert_eq!(layout.len(), 11, "{layout:?}");
    for mode in ["defaults", "small-groups", "no-statistics"] {
        let dir = t(mode);
        let files = pyarrow_rewrite(&keys, &dir, mode);
        eprintln!("{mode}: {files:?}");
        let mut written: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        written.sort();
        assert_eq!(written, layout, "{mode}");
        assert_eq!(parquet_files(&dir), layout, "{mode}");
        for f in &files {
            let want = match mode {
                "no-statistics" => None,
                _ => Some(f.frame_max),
            };
            assert_eq!(f.frame_statistic, want, "{mode}: {f:?}");
            // pyarrow's default row group (1 Mi rows) holds a part whole;
            // every part has more than 50 rows.
            let many = mode == "small-groups";
            assert_eq!(f.row_groups > 1, many, "{mode}: {f:?}");
        }
        let out = t(&format!("{mode}.pktmatch"));
        pktmatch_ok(&["index", "-q", "--keys", &dir, "-o", &out]);
        assert_same_index(&direct, &out);
    }
    for (mode, error) in [
        ("shuffled", "frames must be in increasing order"),
        ("plain", "not a pktmatch key table (no version)"),
    ] {
        let dir = t(mode);
        assert_eq!(pyarrow_rewrite(&keys, &dir, mode).len(), layout.len());
        let out = t(&format!("{mode}.pktmatch"));
        let e = common::pktmatch_err(&["index", "-q", "--keys", &dir, "-o", &out]);
        // Named by its part (--engine threads) or its point's directory
        // (the embedded engine reads a point's parts as one table).
        assert!(e.contains(error) && e.contains("point="), "{mode}: {e}");
    }
}
