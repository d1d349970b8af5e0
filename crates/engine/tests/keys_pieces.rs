//! A classic pcap or pcapng file's key table written in pieces on several threads
//! (engine::write's `pieces`) is the one written on one thread, byte for
//! byte: the same parts, row groups, pages, frame numbers and metadata,
//! with several pieces, several row groups, part boundaries inside pieces,
//! a row group across the writer's 64 Ki-row batches, a last part left
//! empty, and a capture cut short in the middle of a record.

// Not every helper is used here.
#[allow(dead_code)]
mod common;

use common::repo;
use engine::write::{write_point, PointSpec, WriteOptions, Written};
use std::path::{Path, PathBuf};

/// The Ethernet records of the real captures of tests/data (classic pcap,
/// little-endian, microseconds): time stamp (µs), original length, bytes.
fn records() -> Vec<(u64, u32, Vec<u8>)> {
    let mut out = Vec::new();
    for name in [
        "real-http",
        "real-dns",
        "real-tls",
        "real-ftp",
        "real-ipv6",
        "real-vlan",
    ] {
        let d = std::fs::read(repo().join(format!("tests/data/{name}.pcap"))).expect("capture");
        assert_eq!(
            &d[..4],
            &0xa1b2_c3d4u32.to_le_bytes(),
            "{name}: little-endian µs"
        );
        let u32_at = |at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        let mut at = 24;
        while at + 16 <= d.len() {
            let ts = u64::from(u32_at(at)) * 1_000_000 + u64::from(u32_at(at + 4));
            let (caplen, orig) = (u32_at(at + 8) as usize, u32_at(at + 12));
            out.push((ts, orig, d[at + 16..at + 16 + caplen].to_vec()));
            at += 16 + caplen;
        }
    }
    out
}

/// A classic pcap of `frames` frames, the records of [`records`] again and
/// again, cut to 128 bytes (as `tcpdump -s 128` writes them), time stamps
/// rising.  Returns where each record starts.
fn big_pcap(path: &Path, frames: usize) -> Vec<usize> {
    let recs = records();
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 128, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let (first, last) = (recs[0].0, recs.iter().map(|r| r.0).max().unwrap());
    let mut ts = 1_700_000_000_000_000u64;
    let mut starts = Vec::with_capacity(frames);
    for k in 0..frames {
        starts.push(out.len());
        let (t, orig, bytes) = &recs[k % recs.len()];
        if k % recs.len() == 0 {
            ts += last - first + 1000;
        }
        let t = ts + t.saturating_sub(first);
        let cut = &bytes[..bytes.len().min(128)];
        for v in [
            (t / 1_000_000) as u32,
            (t % 1_000_000) as u32,
            cut.len() as u32,
            *orig,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(cut);
    }
    std::fs::write(path, out).expect("write pcap");
    starts
}

/// Writes the key table of `capture` under `dir` with `options`.
fn write(capture: &Path, dir: &Path, options: &WriteOptions) -> Written {
    let spec = PointSpec {
        label: "p".into(),
        capture: capture.to_path_buf(),
        given: 0,
    };
    write_point(&spec, dir, options).expect("write keys")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("point=p"))
        .expect("point dir")
        .map(|e| {
            let p: PathBuf = e.expect("entry").path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&p).expect("part"))
        })
        .collect();
    v.sort();
    v
}

/// Writes `capture` on one thread and on `threads`, in pieces of
/// `piece_bytes`; asserts the same files and summary; returns the
/// summary and the part files' names.
fn assert_same(capture: &Path, options: WriteOptions, threads: usize) -> (Written, Vec<String>) {
    let one = tempfile::tempdir().expect("temp dir");
    let many = tempfile::tempdir().expect("temp dir");
    let a = write(capture, one.path(), &options);
    let b = write(
        capture,
        many.path(),
        &WriteOptions {
            threads,
            ..options.clone()
        },
    );
    assert_eq!(a.pieces, 0, "one thread reads the file whole");
    assert!(b.pieces > 4, "written in pieces ({} pieces)", b.pieces);
    assert_eq!(
        (a.frames, a.keyed, &a.truncated, a.files.len()),
        (b.frames, b.keyed, &b.truncated, b.files.len()),
        "summaries ({options:?})"
    );
    let (fa, fb) = (files(one.path()), files(many.path()));
    assert_eq!(fa.len(), fb.len());
    for ((na, da), (nb, db)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        let at = da.iter().zip(db).position(|(x, y)| x != y);
        assert!(
            da.len() == db.len() && at.is_none(),
            "{na} differs ({} and {} bytes, first at {at:?}; {options:?})",
            da.len(),
            db.len()
        );
    }
    (b, fa.into_iter().map(|f| f.0).collect())
}

/// The rows of each row group of one part, read back.
fn row_groups(dir: &Path, part: &str) -> Vec<i64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = std::fs::File::open(dir.join("point=p").join(part)).expect("part");
    let r = SerializedFileReader::new(f).expect("parquet");
    let m = r.metadata();
    (0..m.num_row_groups())
        .map(|k| m.row_group(k).num_rows())
        .collect()
}

#[test]
fn pieces_write_the_same_key_tables() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("big.pcap");
    // More than the writer's 64 Ki-row batch, in ~40 pieces of 256 KiB.
    big_pcap(&pcap, 75_000);
    let piece_bytes = 256 << 10;
    let small = WriteOptions {
        rows_per_part: 30_000,
        rows_per_group: 7_000,
        piece_bytes,
        ..WriteOptions::default()
    };
    // Parts of 30,000 rows (boundaries inside pieces), row groups of
    // 7,000 cut at each part's start (the last of a part shorter), and
    // the row group of rows 63,000-69,999 across the 64 Ki-row batch.
    let (w, names) = assert_same(&pcap, small.clone(), 3);
    assert_eq!(w.frames, 75_000);
    assert!(w.truncated.is_none());
    assert_eq!(names.len(), 3);
    // The default row groups (65,536 rows) and parts split inside a piece.
    let (_, names) = assert_same(
        &pcap,
        WriteOptions {
            rows_per_part: 70_000,
            piece_bytes,
            ..WriteOptions::default()
        },
        2,
    );
    assert_eq!(names.len(), 2);
    // Row groups of 50,000 rows, pages of at most 20,000 (Parquet's
    // default): the row group of rows 50,000-74,999 is written in two
    // batches on one thread (cut at 65,536), and its pages are cut where
    // those writes put them.
    assert_same(
        &pcap,
        WriteOptions {
            rows_per_group: 50_000,
            piece_bytes,
            ..WriteOptions::default()
        },
        3,
    );
    // Parts that take every frame: one thread leaves the next part empty
    // (the one with the point's metadata), and so do the pieces.
    let (_, names) = assert_same(
        &pcap,
        WriteOptions {
            rows_per_part: 25_000,
            ..small.clone()
        },
        4,
    );
    assert_eq!(names.len(), 4, "three full parts and an empty one");
    let d = tempfile::tempdir().expect("temp dir");
    write(
        &pcap,
        d.path(),
        &WriteOptions {
            threads: 2,
            ..small
        },
    );
    let groups = row_groups(d.path(), "part-00001.parquet");
    assert_eq!(
        groups,
        [7000, 7000, 7000, 7000, 2000],
        "row groups of a part"
    );
}

#[test]
fn pieces_of_a_capture_cut_short_keep_what_one_thread_keeps() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("cut.pcap");
    let starts = big_pcap(&pcap, 20_000);
    let bytes = std::fs::read(&pcap).unwrap();
    let options = WriteOptions {
        rows_per_part: 6_000,
        rows_per_group: 1_000,
        piece_bytes: 64 << 10,
        ..WriteOptions::default()
    };
    // Cut in the middle of the last record's bytes, and in the middle of
    // the header of record 15,001.
    for (cut, kept) in [
        (starts[19_999] + 16 + 30, 19_999u64),
        (starts[15_000] + 8, 15_000),
    ] {
        std::fs::write(&pcap, &bytes[..cut]).unwrap();
        let (w, _) = assert_same(&pcap, options.clone(), 3);
        let t = w.truncated.as_deref().expect("cut short");
        assert!(t.contains("cut.pcap"), "{t}");
        assert_eq!(w.frames, kept, "{t}");
    }
}

/// Rows per part or per row group of 0 are refused, on one thread or in
/// pieces, before anything is written (the pieces' row groups divide by
/// them: a panic before).
#[test]
fn zero_rows_per_part_or_group_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("z.pcap");
    big_pcap(&pcap, 5_000);
    let spec = PointSpec {
        label: "p".into(),
        capture: pcap.clone(),
        given: 0,
    };
    for threads in [1, 3] {
        for (rows_per_part, rows_per_group) in [(0, 1_000), (1_000, 0)] {
            let dir = tmp.path().join(format!("k{threads}-{rows_per_part}"));
            let options = WriteOptions {
                rows_per_part,
                rows_per_group,
                threads,
                piece_bytes: 16 << 10,
                ..WriteOptions::default()
            };
            let e = write_point(&spec, &dir, &options).expect_err("refused");
            assert!(e.to_string().contains("at least 1"), "{e}");
            assert!(!dir.exists(), "{}", dir.display());
        }
    }
}

/// The blocks of a little-endian pcapng file, walked by their total
/// lengths (draft-ietf-opsawg-pcapng, "General Block Structure").
fn ng_blocks(bytes: &[u8]) -> Vec<&[u8]> {
    assert_eq!(
        bytes[8..12],
        [0x4D, 0x3C, 0x2B, 0x1A],
        "little-endian pcapng"
    );
    let mut blocks = Vec::new();
    let mut k = 0;
    while k < bytes.len() {
        let len = u32::from_le_bytes(bytes[k + 4..k + 8].try_into().unwrap()) as usize;
        blocks.push(&bytes[k..k + len]);
        k += len;
    }
    blocks
}

/// A pcapng file's key table in pieces is the one of one thread, byte for
/// byte: the big capture written again as pcapng by Wireshark's editcap,
/// and the same with a custom block (a frame without a packet, hence
/// without a row: the frame numbers after it skip one) after every
/// 1000th block.  With an interface block after the first frame, it is
/// written on one thread (no pieces) and the same.
#[test]
fn pcapng_pieces_write_the_same_key_tables() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("big.pcap");
    big_pcap(&pcap, 30_000);
    let ng = tmp.path().join("big.pcapng");
    let ok = std::process::Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(&pcap)
        .arg(&ng)
        .status()
        .expect("editcap (Wireshark) is needed");
    assert!(ok.success());
    let options = WriteOptions {
        rows_per_part: 12_000,
        rows_per_group: 5_000,
        piece_bytes: 64 << 10,
        ..WriteOptions::default()
    };
    let (w, names) = assert_same(&ng, options.clone(), 3);
    assert_eq!((w.frames, names.len()), (30_000, 3));

    let bytes = std::fs::read(&ng).unwrap();
    let blocks = ng_blocks(&bytes);
    let le = |x: u32| x.to_le_bytes();
    let custom = [&le(0xBAD)[..], &le(20), &le(32473), b"abcd", &le(20)].concat();
    let mut with_custom = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        with_custom.extend_from_slice(b);
        if i % 1000 == 999 {
            with_custom.extend_from_slice(&custom);
        }
    }
    let path = tmp.path().join("custom.pcapng");
    std::fs::write(&path, &with_custom).unwrap();
    let (w, _) = assert_same(&path, options.clone(), 3);
    assert_eq!(w.frames, 30_000, "rows: the packets");

    let idb = [&le(1)[..], &le(20), &le(1), &le(0), &le(20)].concat();
    let at: usize = blocks[..blocks.len() / 2].iter().map(|b| b.len()).sum();
    let mut late = bytes.clone();
    late.splice(at..at, idb);
    let path = tmp.path().join("late-idb.pcapng");
    std::fs::write(&path, &late).unwrap();
    let one = tempfile::tempdir().expect("temp dir");
    let many = tempfile::tempdir().expect("temp dir");
    let a = write(&path, one.path(), &options);
    let b = write(
        &path,
        many.path(),
        &WriteOptions {
            threads: 3,
            ..options
        },
    );
    assert_eq!((a.pieces, b.pieces), (0, 0), "read whole");
    assert_eq!((a.frames, b.frames), (30_000, 30_000));
    assert!(files(one.path()) == files(many.path()));
}

/// A raw CTRACE trace (binary FTP's transfer) is written in pieces too,
/// the same part files byte for byte: each piece numbers the interfaces
/// it meets from 0, and the file's numbers (order of first appearance in
/// the trace) are given back before the rows are written: the trace's
/// data trace records and packets are interfaces of their own, some first
/// met after the first piece (the files differ when the numbers are not
/// given back: tried).  A trace with RDW descriptors is written whole.
#[test]
fn ctrace_pieces_write_the_same_key_tables() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pcap = here.join("../../examples/session-small/client.pcapng");
    let synth = |out: &Path, framing: &str| {
        let args = [&pcap, out].map(|p| p.display().to_string()).into_iter();
        let extra = [
            "--framing",
            framing,
            "--data-trace",
            "--segment-size",
            "700",
        ];
        let (i, o, opts) =
            ctrace_synth::parse_args(args.chain(extra.map(String::from))).expect("synth args");
        ctrace_synth::write(&i, &o, &opts).expect("synth");
    };
    let trace = tmp.path().join("big.ctrace");
    synth(&trace, "raw");
    let mut cap = capture::open(&trace).expect("trace");
    let mut first_met = Vec::new();
    cap.for_each(|p| {
        if p.interface as usize == first_met.len() {
            first_met.push(p.frame);
        }
    })
    .expect("read");
    let options = WriteOptions {
        rows_per_part: 2_000,
        rows_per_group: 700,
        piece_bytes: 16 << 10,
        ..WriteOptions::default()
    };
    let (w, _) = assert_same(&trace, options.clone(), 3);
    // interfaces first met after the first piece
    let frames = w.frames as u32;
    let late = first_met
        .iter()
        .filter(|&&f| f > frames / w.pieces as u32)
        .count();
    assert!(
        late > 0,
        "{late} of {} interfaces met late",
        first_met.len()
    );
    let rdw = tmp.path().join("big-rdw.ctrace");
    synth(&rdw, "rdw");
    let d = tempfile::tempdir().expect("temp dir");
    let r = write(
        &rdw,
        d.path(),
        &WriteOptions {
            threads: 3,
            ..options
        },
    );
    assert_eq!(r.pieces, 0, "read whole");
}
