//! The 2026-12 CTRACE audit (docs/ctrace-audit.md) in real tshark: the
//! auditor's vectors (crates/ctrace/tests/audit_vectors, bytes written by
//! hand from the sources, nothing from the `ctrace` crate) must show what an
//! analyst expects — direction, PTH_Tlen/PTH_Plen, frame lengths, time,
//! segments — opened directly and after `pktmatch convert` (tshark's own
//! pcapng reader: direction flags, captured and original length); and
//! truncated or changed copies of them must never crash tshark nor reach a
//! dissector bug or an internal error.

mod common;

#[path = "../crates/ctrace/tests/audit_vectors/mod.rs"]
mod audit_vectors;

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

use audit_vectors as v;
use common::{convert_args, release_plugins, Wireshark};

/// A directory of the test's own (tests run in parallel in one process).
fn workdir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ctrace-audit-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a vector into `dir` and gives it to tshark: (host path, tshark's path).
fn add(ws: &Wireshark, dir: &std::path::Path, vector: &v::Vector) -> (PathBuf, String) {
    let path = dir.join(vector.name);
    std::fs::write(&path, &vector.bytes).unwrap();
    let file = ws.add_file(&path);
    (path, file)
}

const FIELDS: [&str; 8] = [
    "ctrace.direction",
    "ctrace.tlen",
    "ctrace.plen",
    "frame.cap_len",
    "frame.len",
    "frame.time_epoch",
    "frame.packet_flags_direction",
    "ctrace.segments",
];

fn flags(direction: &str) -> &'static str {
    match direction {
        "To" => "0x00000002",
        _ => "0x00000001",
    }
}

#[test]
fn audit_vectors_decode_and_convert_right() {
    let dir = workdir("decode");
    let ws = Wireshark::with_plugins(release_plugins());
    let mut compared = 0;
    for vector in v::all() {
        let (path, file) = add(&ws, &dir, &vector);
        let got = ws.fields(&file, &[], &FIELDS);
        assert_eq!(got.len(), vector.frames.len(), "{}: frames", vector.name);
        for (i, w) in vector.frames.iter().enumerate() {
            let row = &got[&(i as u32 + 1)];
            let what = format!("{} frame {}", vector.name, i + 1);
            // frame length = the record + what tracing cut off
            let cut = w.plen.saturating_sub(w.traced as u32) as usize;
            let segments = if w.segments > 1 {
                w.segments.to_string()
            } else {
                String::new()
            };
            let want = [
                w.direction.to_owned(),
                w.tlen.to_string(),
                w.plen.to_string(),
                w.cap_len.to_string(),
                (w.cap_len + cut).to_string(),
                v::epoch(w.time_us),
                flags(w.direction).to_owned(),
                segments,
            ];
            for (k, name) in FIELDS.iter().enumerate() {
                assert_eq!(row[k], want[k], "{what}: {name}");
                compared += 1;
            }
        }
        // the same in two passes (Wireshark's random access)
        let two = ws.fields(&file, &["-2"], &FIELDS);
        assert_eq!(two, got, "{}: -2", vector.name);

        let out = dir.join(format!("{}.pcapng", vector.name));
        let summary = pktmatch::convert::run(&convert_args(&path, &out)).expect("convert");
        assert_eq!(
            summary.packets as usize,
            vector.frames.len(),
            "{}",
            vector.name
        );
        let conv = ws.add_file(&out);
        let names = [
            "frame.packet_flags_direction",
            "frame.cap_len",
            "frame.len",
            "frame.time_epoch",
        ];
        let got = ws.fields(&conv, &[], &names);
        for (i, w) in vector.frames.iter().enumerate() {
            let row = &got[&(i as u32 + 1)];
            let what = format!("{}.pcapng frame {}", vector.name, i + 1);
            assert_eq!(row[0], flags(w.direction), "{what}: direction");
            // data trace goes out as an exported PDU: its header comes first
            let extra: usize = row[1].parse::<usize>().unwrap() - w.traced;
            assert!(extra == 0 || vector.name.contains("data-trace"), "{what}");
            let original = (w.plen as usize).max(w.traced) + extra;
            assert_eq!(row[2], original.to_string(), "{what}: original length");
            assert_eq!(row[3], v::epoch(w.time_us), "{what}: time");
            compared += 4;
        }
    }
    assert!(compared > 500, "{compared}");
}

#[test]
fn a_spanned_record_joined_by_ftp_is_commented_as_such() {
    let dir = workdir("comment");
    let ws = Wireshark::with_plugins(release_plugins());
    let vector = v::ftp_vbs();
    let (_, file) = add(&ws, &dir, &vector);
    let rows = ws.field_rows(&file, &[], &["frame.number", "frame.comment"], "|");
    let commented: Vec<&Vec<String>> = rows.iter().filter(|r| !r[1].is_empty()).collect();
    assert_eq!(commented.len(), 1, "{rows:?}");
    assert_eq!(commented[0][0], "1");
    let c = &commented[0][1];
    assert!(
        c.contains("RDW record of 40894 bytes") && c.contains("spanned"),
        "{c}"
    );
    assert!(!c.contains("not written by z/OS"), "{c}");
}

#[test]
fn a_set_of_258_records_is_one_packet_with_every_byte() {
    let dir = workdir("set258");
    let ws = Wireshark::with_plugins(release_plugins());
    let vector = v::seq_wrap();
    let (_, file) = add(&ws, &dir, &vector);
    let got = ws.fields(
        &file,
        &[],
        &["ip.len", "tcp.srcport", "tcp.len", "_ws.expert.message"],
    );
    assert_eq!(got[&1][..3], ["297", "7000", "257"]);
    assert!(
        !got[&1][3].contains("PTH_"),
        "a complete set: {}",
        got[&1][3]
    );
}

/// Truncated and changed copies of the vectors through tshark with the
/// plugins: never a crash, a dissector bug or an internal error; a file cut
/// inside its first descriptor is still opened or refused with a message.
#[test]
fn mutated_vectors_never_crash_tshark() {
    let dir = workdir("mutated");
    let ws = Wireshark::with_plugins(release_plugins());
    let mut rand = v::Rand(0x0400_2026);
    let mut runs = 0;
    for vector in v::all() {
        let n = vector.bytes.len();
        for k in 0..8 {
            let mut b = vector.bytes.clone();
            if k < 4 {
                b.truncate(rand.below(n));
            } else {
                for _ in 0..1 + rand.below(6) {
                    let at = rand.below(n);
                    b[at] = rand.next() as u8;
                }
            }
            let path = dir.join(format!("{}.{k}", vector.name));
            std::fs::write(&path, &b).unwrap();
            let file = ws.add_file(&path);
            let out = ws.tshark(&["-r", &file, "-V"]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.signal().is_none(),
                "{}: tshark killed by signal {:?}\n{stderr}",
                path.display(),
                out.status.signal()
            );
            for text in [&stdout, &stderr] {
                assert!(
                    !text.contains("Dissector bug"),
                    "{}: {text}",
                    path.display()
                );
                assert!(
                    !text.contains("internal error"),
                    "{}: {text}",
                    path.display()
                );
            }
            if !out.status.success() {
                // refused: a one-line reason, nothing else
                assert!(!stderr.trim().is_empty(), "{}", path.display());
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 56);
}

/// A discarded packet (PTH_DropRsn, IBM's layer ranges) says so: the field,
/// expert info, the Info column, and a comment in the converted pcapng;
/// a header longer than 92 bytes shows its further bytes.
#[test]
fn discarded_packets_say_who_discarded_them() {
    let dir = workdir("discarded");
    let ws = Wireshark::with_plugins(release_plugins());
    let vector = v::header_lengths();
    let (path, file) = add(&ws, &dir, &vector);
    let rows = ws.field_rows(
        &file,
        &[],
        &[
            "ctrace.pth.len",
            "ctrace.drop_reason",
            "_ws.col.Info",
            "_ws.expert.message",
        ],
        "|",
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][..2], ["88", ""]);
    assert!(!rows[0][2].contains("discarded"), "{:?}", rows[0]);
    assert_eq!(rows[1][..2], ["92", "0x1006"]);
    assert!(
        rows[1][2].contains("[discarded, reason 4102]"),
        "{:?}",
        rows[1]
    );
    assert!(
        rows[1][3]
            .contains("Packet discarded by the interface or IP layer: drop reason 4102 (X'1006')"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2][..2], ["100", "0x2000"]);
    assert!(
        rows[2][3].contains("discarded by the TCP layer: drop reason 8192"),
        "{:?}",
        rows[2]
    );
    // the 100-byte header's 8 bytes after PTH_OffSegLen are shown, not lost
    let rest = ws.field_rows(&file, &[], &["ctrace.pth.rest"], "|");
    assert_eq!(rest, [[""], [""], ["dddddddddddddddd"]]);
    let filtered = ws.tshark_ok(&["-r", &file, "-Y", "ctrace.expert.discarded"]);
    assert_eq!(filtered.lines().count(), 2, "{filtered}");

    let out = dir.join("discarded.pcapng");
    pktmatch::convert::run(&convert_args(&path, &out)).expect("convert");
    let rows = ws.field_rows(&ws.add_file(&out), &[], &["frame.comment"], "|");
    assert_eq!(rows[0][0], "");
    assert!(
        rows[1][0].contains("CTRACE: packet discarded by the interface or IP layer"),
        "{rows:?}"
    );
    assert!(rows[2][0].contains("the TCP layer"), "{rows:?}");
}
