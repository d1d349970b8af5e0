//! A capture slower than 60 frames a second: its point table keeps the
//! time stamps of most blocks whole (8 bytes a frame, not 4:
//! `matcher::table::Times`), its key table's last part says how many such
//! blocks it has (`pktmatch.ts_whole_blocks`), and the size `--memory-limit`
//! counts from that covers what the table holds — the count of 4 bytes a
//! frame did not.  Frames without a packet (a pcapng custom block) are
//! counted where the table places them.

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
    let frames = real_frames();
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

/// The frames of a real capture, again and again.
fn real_frames() -> Vec<Vec<u8>> {
    let mut cap = capture::open(repo().join("tests/data/real-dns.pcap")).expect("real-dns.pcap");
    let mut frames = Vec::new();
    while let Some(p) = cap.next_packet().expect("readable") {
        frames.push(p.wire.to_vec());
    }
    frames
}

/// A pcapng block: type, length, body padded to 4 bytes, length.
fn block(kind: u32, mut body: Vec<u8>) -> Vec<u8> {
    body.resize(body.len().div_ceil(4) * 4, 0);
    let len = (12 + body.len()) as u32;
    let mut v = kind.to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(&len.to_le_bytes());
    v
}

fn words(xs: &[u32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The number the last part says in `key`.
fn said(w: &engine::write::Written, key: &str) -> usize {
    let last = w.files.last().expect("a part");
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(last).unwrap()).unwrap();
    reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == key))
        .and_then(|k| k.value.as_deref()?.parse().ok())
        .expect("the last part says it")
}

/// A pcapng (µs) that starts with a custom block (frame 1, no packet), then
/// 8 bursts of 256 packets 1 ms apart, 10 s between bursts: each burst
/// fits in 4.29 s, but the table's blocks, one frame later, each span a
/// pause.
#[test]
fn a_frame_without_a_packet_shifts_the_blocks() {
    let frames = real_frames();
    let mut shb = words(&[0x1A2B_3C4D, 1]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut file = block(0x0A0D_0D0A, shb);
    file.extend(block(1, words(&[1, 65535])));
    file.extend(block(0x0BAD, b"\xd9\x7e\0\0pktmatch".to_vec()));
    let n = 8 * 256;
    for k in 0..n {
        let t = 1_700_000_000_000_000u64 + (k / 256) as u64 * 10_000_000 + (k % 256) as u64 * 1000;
        let f = &frames[k % frames.len()];
        let len = f.len() as u32;
        let mut epb = words(&[0, (t >> 32) as u32, t as u32, len, len]);
        epb.extend_from_slice(f);
        file.extend(block(6, epb));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("gap.pcapng");
    std::fs::write(&pcap, file).expect("write pcapng");
    let keys = dir.path().join("keys");
    let spec = PointSpec {
        label: "gap".into(),
        capture: pcap,
        given: 0,
    };
    let w = write_point(&spec, &keys, &WriteOptions::default()).expect("keys");
    let point =
        engine::load::load_point("gap", &engine::write::point_dir(&keys, "gap")).expect("load");
    assert_eq!(point.table.recs.len(), n + 1, "the custom block is frame 1");
    let mut counted = WholeBlocks::default();
    point.table.ts.iter().for_each(|t| counted.push(t));
    // Block 0 from the placeholder's 0, blocks 1-7 across a pause each.
    assert_eq!(counted.whole(), 8);
    assert_eq!(
        said(&w, meta::WHOLE_BLOCKS),
        8,
        "the key table counts as the table"
    );
    let held = point.table.ts.heap_bytes();
    assert!(held <= Times::bytes_for(n + 1, 8), "{held} held");
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
    let said = said(&w, meta::WHOLE_BLOCKS);
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
