//! CTRACE records written straight from the evidence, not by us twice.
//!
//! tests/data/ctrace-vectors.py writes SYSTCPDA/SYSTCPOT traces with its own
//! literal offsets, taken from IBM's compiled header (S1) and IBM's
//! documents (docs/ctrace-format.md, "Evidence") — nothing from the `ctrace`
//! crate's layout table or ctrace-synth — in every framing (zero-padded raw
//! buffers, RDW records, spanned VBS segments, BDW blocks, each with and
//! without unknown bytes at the start of every record), and beside them the
//! values an analyst expects: direction, PTH_Tlen/PTH_Plen, addresses,
//! ports, time, interface, drop reason, what Wireshark's own IP, UDP, HTTP
//! and Ethernet dissectors make of the traced bytes, and the frame lengths.
//! Here the real tshark with our plugins must show exactly those, and the
//! pcapng `pktmatch convert` writes must carry them in tshark's own
//! `frame.packet_flags_direction`, `frame.cap_len` and `frame.len`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::{convert_args, release_plugins, repo_root, Wireshark};

/// (file, frame) → field → expected value.
type Expected = BTreeMap<String, BTreeMap<u32, BTreeMap<String, String>>>;

fn vectors() -> (PathBuf, Expected) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ctrace-vectors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("python3")
        .arg(repo_root().join("tests/data/ctrace-vectors.py"))
        .arg(&dir)
        .status()
        .expect("python3 runs tests/data/ctrace-vectors.py");
    assert!(status.success());
    let text = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut expected = Expected::new();
    for line in text.lines() {
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        expected
            .entry(f[0].to_owned())
            .or_default()
            .entry(f[1].parse().unwrap())
            .or_default()
            .insert(f[2].to_owned(), f[3].to_owned());
    }
    (dir, expected)
}

/// Compares what tshark shows for `file` with `want`, every frame, every
/// field; returns the number of values compared.
fn check(
    ws: &Wireshark,
    name: &str,
    file: &str,
    want: &BTreeMap<u32, BTreeMap<String, String>>,
) -> usize {
    let mut names: Vec<&str> = want
        .values()
        .flat_map(|fields| fields.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let got = ws.fields(file, &[], &names);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        want.keys().copied().collect::<Vec<_>>(),
        "{name}: frames"
    );
    let mut compared = 0;
    for (frame, fields) in want {
        for (field, value) in fields {
            let at = names.iter().position(|n| n == field).unwrap();
            assert_eq!(&got[frame][at], value, "{name} frame {frame}: {field}");
            compared += 1;
        }
    }
    compared
}

#[test]
fn vectors_from_the_evidence_decode_and_convert_right_in_every_framing() {
    let (dir, expected) = vectors();
    let ws = Wireshark::with_plugins(release_plugins());
    let traces: Vec<&String> = expected.keys().filter(|n| n.ends_with(".ctrace")).collect();
    assert_eq!(
        traces.len(),
        6,
        "raw, rdw, bdw, each with and without writer headers"
    );
    let mut compared = 0;
    for name in traces {
        let path = dir.join(name);
        let before = std::fs::read(&path).unwrap();
        let file = ws.add_file(&path);
        compared += check(&ws, name, &file, &expected[name]);
        // Random access (two passes) shows the same.
        let two = ws.fields(
            &file,
            &["-2"],
            &["ctrace.tlen", "ctrace.direction", "frame.cap_len"],
        );
        let one = ws.fields(
            &file,
            &[],
            &["ctrace.tlen", "ctrace.direction", "frame.cap_len"],
        );
        assert_eq!(two, one, "{name} -2");
        // `pktmatch convert`, read by tshark's own pcapng reader.
        let out = dir.join(format!("{name}.pcapng"));
        let summary = pktmatch::convert::run(&convert_args(&path, &out)).expect("convert");
        assert_eq!(std::fs::read(&path).unwrap(), before, "input unchanged");
        assert_eq!(summary.lost_markers, 1);
        assert_eq!(summary.segmented_packets, 1);
        let with_header = name.contains("-hdr");
        // the writer headers are the only thing noted
        assert_eq!(summary.notes > 0, with_header, "{name}: {summary}");
        let converted = format!("{name}.pcapng");
        compared += check(&ws, &converted, &ws.add_file(&out), &expected[&converted]);
    }
    assert!(compared > 900, "{compared} values compared");
}
