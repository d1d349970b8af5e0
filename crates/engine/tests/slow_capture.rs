//! A capture slower than 60 frames a second: its point table keeps the
//! time stamps of most blocks whole (8 bytes a frame, not 4:
//! `matcher::table::Times`), its key table's last part says how many such
//! blocks it has (`pktmatch.ts_whole_blocks`), and the size `--memory-limit`
//! counts from that covers what the table holds — the count of 4 bytes a
//! frame did not.

use engine::schema::meta;
use engine::write::{write_point, PointSpec, WriteOptions};
use matcher::table::{Times, WholeBlocks};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A classic pcap (µs) of `n` frames, the frames of a real capture again
/// and again, `gap_us` apart.
fn slow_pcap(path: &Path, n: usize, gap_us: u64) {
    let mut cap = capture::open(repo().join("tests/data/real-dns.pcap")).expect("real-dns.pcap");
    let mut frames = Vec::new();
    while let Some(p) = cap.next_packet().expect("readable") {
        frames.push(p.wire.to_vec());
    }
    // The file header: magic, version 2.4, zone, accuracy, snaplen, Ethernet.
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for k in 0..n {
        let t = 1_700_000_000_000_000 + k as u64 * gap_us;
        let f = &frames[k % frames.len()];
        for v in [t / 1_000_000, t % 1_000_000, f.len() as u64, f.len() as u64] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).expect("write pcap");
}

#[test]
fn a_slow_captures_key_table_sizes_its_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("slow.pcap");
    // 10 frames a second: every block of 256 frames spans 25.6 s.
    let n = 1000;
    slow_pcap(&pcap, n, 100_000);
    let keys = dir.path().join("keys");
    let spec = PointSpec {
        label: "slow".into(),
        capture: pcap.clone(),
        given: 0,
    };
    let w = write_point(&spec, &keys, &WriteOptions::default()).expect("keys");
    assert_eq!(w.frames, n as u64);
    let last = w.files.last().expect("a part");
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(last).unwrap()).unwrap();
    let said: usize = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == meta::WHOLE_BLOCKS))
        .and_then(|k| k.value.as_deref()?.parse().ok())
        .expect("the last part counts the whole blocks");
    // The three sealed blocks (the last 232 frames are the open one).
    assert_eq!(said, n / 256);
    let point =
        engine::load::load_point("slow", &engine::write::point_dir(&keys, "slow")).expect("load");
    let mut counted = WholeBlocks::default();
    point.table.ts.iter().for_each(|t| counted.push(t));
    assert_eq!(
        counted.whole() as usize,
        said,
        "the table's own time stamps agree"
    );
    let held = point.table.ts.heap_bytes();
    assert!(
        held > Times::bytes_for(n, 0),
        "counted at 4 bytes a frame the table would be under-sized: {held} held"
    );
    assert!(
        held <= Times::bytes_for(n, said),
        "{held} held, {} counted",
        Times::bytes_for(n, said)
    );
}
