//! The index matched from key tables is the index matched from the
//! captures, byte for byte (creation time set equal), with the matcher's
//! threads and through the embedded DataFusion plan with several partition
//! counts: on the example session (four points, NAT/PAT, TSO, a full
//! proxy), on a real NAT pair, on gzip and CTRACE points, and on the lab
//! runs `make test` names in PKTMATCH_LAB_DIRS.  Small parts and row
//! groups, so a point spans several files.  And within a memory limit the
//! key tables exceed (each point is scanned in frame order: nothing to spill).

mod common;

use common::{bytes, inputs, repo, session};
use engine::write::{write_point, PointSpec, WriteOptions};
use matcher::Options;
use std::path::{Path, PathBuf};

fn from_captures(points: &[(&str, PathBuf)]) -> Vec<u8> {
    let (b, _) = matcher::run(&inputs(points), &Options::default(), &mut |_| {}).expect("match");
    bytes(b)
}

/// Writes the key tables, reads them back, matches.
fn from_keys(points: &[(&str, PathBuf)], options: &WriteOptions) -> (Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (k, (label, path)) in points.iter().enumerate() {
        let spec = PointSpec {
            label: label.to_string(),
            capture: path.clone(),
            given: k as u16,
        };
        let w = write_point(&spec, dir.path(), options).expect("write keys");
        assert!(w.frames > 0);
    }
    let loaded = engine::load::load_dir(dir.path()).expect("load keys");
    let labels: Vec<&str> = loaded.iter().map(|p| p.label.as_str()).collect();
    let given: Vec<&str> = points.iter().map(|p| p.0).collect();
    assert_eq!(labels, given, "points come back in the order given");
    let (ins, sizes, tables) = engine::load::into_inputs(loaded);
    let (b, _) = matcher::run_tables(&ins, &sizes, tables, &Options::default(), &mut |_| {})
        .expect("match from keys");
    (bytes(b), dir)
}

fn small_parts() -> WriteOptions {
    WriteOptions {
        rows_per_part: 100,
        rows_per_group: 37,
        ..WriteOptions::default()
    }
}

/// The same index from the captures and from the key tables, with the
/// matcher's threads and (feature `datafusion`) through the embedded
/// DataFusion plan with 1, 2, 3 and 8 partitions.
fn assert_same(points: &[(&str, PathBuf)]) {
    let a = from_captures(points);
    let (b, dir) = from_keys(points, &small_parts());
    assert!(a.len() > 1000, "an index with content");
    assert!(
        a == b,
        "index from key tables differs from the captures' ({points:?})"
    );
    #[cfg(feature = "datafusion")]
    plan::assert_same(points, &a, dir.path());
    #[cfg(not(feature = "datafusion"))]
    drop(dir);
}

/// The embedded DataFusion plan (feature `datafusion`, which make test
/// turns on).
#[cfg(feature = "datafusion")]
mod plan {
    use super::*;
    use engine::plan::{Engine, EngineOptions};

    /// The same index `want` through the plan from the captures and from the key
    /// tables in `dir`, with 1, 2, 3 and 8 partitions.
    pub fn assert_same(points: &[(&str, PathBuf)], want: &[u8], dir: &Path) {
        let a = want;
        for partitions in [1, 2, 3, 8] {
            let e = engine(partitions, 1 << 30);
            let (c, _) = matcher::run_on(&inputs(points), &Options::default(), &mut |_| {}, &e)
                .expect("match through the plan");
            assert!(
                bytes(c) == a,
                "captures through the plan, {partitions} partitions: index differs ({points:?})"
            );
            assert!(
                plan_from_keys(dir, &e) == a,
                "key tables through the plan, {partitions} partitions: index differs ({points:?})"
            );
        }
    }

    fn engine(partitions: usize, memory_limit: usize) -> Engine {
        Engine::new(&EngineOptions {
            partitions,
            memory_limit,
            spill_dir: None,
        })
        .expect("engine")
    }

    fn plan_from_keys(dir: &Path, e: &Engine) -> Vec<u8> {
        let loaded = e.load_dir(dir).expect("keys through the plan");
        let (ins, sizes, tables) = engine::load::into_inputs(loaded);
        let (b, _) =
            matcher::run_tables_on(&ins, &sizes, tables, &Options::default(), &mut |_| {}, e)
                .expect("match through the plan");
        bytes(b)
    }

    /// Bytes of the key tables' columns as Arrow holds them in memory.
    fn keys_in_memory(dir: &Path) -> usize {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let mut total = 0;
        for p in std::fs::read_dir(dir).unwrap() {
            for f in std::fs::read_dir(p.unwrap().path()).unwrap() {
                let file = std::fs::File::open(f.unwrap().path()).unwrap();
                let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
                for b in reader {
                    total += b.unwrap().get_array_memory_size();
                }
            }
        }
        total
    }

    /// The plan within a limit that holds the matcher's point tables, the
    /// matching stage's estimated working memory and 1 MiB more, on key
    /// tables bigger than the whole limit in memory: the scans stream each
    /// point in frame order, nothing spills, and the index is the same.  A limit the point tables alone
    /// exceed is refused, naming the limit, and so is one that leaves no room
    /// to match beside them.
    ///
    /// `proven`: the parts as `pktmatch keys` writes them, whose frame order
    /// DataFusion proves from their statistics (nothing is sorted, nothing
    /// spills); else rewritten without statistics, so that the plan sorts
    /// each point and the sorts spill.
    pub fn assert_within_limit(points: &[(&str, PathBuf)], partitions: usize, proven: bool) {
        assert_within_limit_with(points, partitions, proven, &small_parts());
    }

    /// [`assert_within_limit`] with the key tables written with `options`.
    pub fn assert_within_limit_with(
        points: &[(&str, PathBuf)],
        partitions: usize,
        proven: bool,
        options: &WriteOptions,
    ) {
        let want = from_captures(points);
        let (_, dir) = from_keys(points, options);
        if !proven {
            without_statistics(dir.path());
        }
        let in_memory = keys_in_memory(dir.path());
        // As the engine counts them: each point's table on its own (a
        // table's bound has a part per point, the checks it holds in memory
        // before they go to a file).
        let loaded = engine::load::load_dir(dir.path()).expect("keys");
        let frames: usize = loaded.iter().map(|p| p.table.recs.len()).sum();
        let tables: usize = loaded
            .iter()
            .map(|p| {
                let mut whole = matcher::table::WholeBlocks::default();
                p.table.ts.iter().for_each(|t| whole.push(t));
                let whole = whole.whole() as usize;
                matcher::table::TableBuilder::bytes_for(p.table.recs.len(), whole, true)
            })
            .sum();
        drop(loaded);
        let matching = engine::plan::matching_bytes(frames);
        let limit = tables + matching + (1 << 20);
        assert!(
            in_memory > limit,
            "the key tables ({in_memory} bytes in memory) exceed the limit ({limit})"
        );
        let e = engine(partitions, limit);
        assert!(
            plan_from_keys(dir.path(), &e) == want,
            "index within the limit differs ({points:?})"
        );
        // Each point's parts are scanned in frame order and merged, not
        // sorted (DataFusion proves the declared order from their
        // statistics): nothing to spill, at a limit the sort did spill in.
        // Without statistics the sorts stay, and spill.
        let (files, spilled) = e.spilled();
        match proven {
            true => assert!(
                files == 0 && spilled == 0,
                "the scans were sorted: {files} spill files, {spilled} bytes"
            ),
            false => assert!(
                files > 0 && spilled > 0,
                "the sorts spilled ({files} files, {spilled} bytes)"
            ),
        }
        eprintln!(
            "keys {in_memory} bytes in memory, limit {limit} (point tables {tables}, \
             matching {matching}), \
             {partitions} partitions: {files} spill files, {spilled} bytes"
        );
        for (short, why) in [
            (
                tables - 1,
                "a limit below the point tables' need is refused",
            ),
            (
                tables + matching - 1,
                "a limit with no room to match beside the tables is refused",
            ),
        ] {
            let err = match engine(partitions, short).load_dir(dir.path()) {
                Ok(_) => panic!("{why}"),
                Err(e) => e.to_string(),
            };
            assert!(
                err.contains("--memory-limit") && err.contains("give at least"),
                "{err}"
            );
        }
    }

    /// Rewrites every part under `dir` as it was (rows, row groups, footer
    /// metadata) but without column statistics.
    fn without_statistics(dir: &Path) {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::{EnabledStatistics, WriterProperties};
        for p in std::fs::read_dir(dir).unwrap() {
            for f in std::fs::read_dir(p.unwrap().path()).unwrap() {
                let path = f.unwrap().path();
                let file = std::fs::File::open(&path).unwrap();
                let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
                let kv = reader
                    .metadata()
                    .file_metadata()
                    .key_value_metadata()
                    .cloned();
                let schema = reader.schema().clone();
                let batches: Vec<_> = reader.build().unwrap().map(|b| b.unwrap()).collect();
                let props = WriterProperties::builder()
                    .set_statistics_enabled(EnabledStatistics::None)
                    .set_max_row_group_row_count(Some(small_parts().rows_per_group))
                    .set_key_value_metadata(kv)
                    .build();
                let out = std::fs::File::create(&path).unwrap();
                let mut w = ArrowWriter::try_new(out, schema, Some(props)).unwrap();
                batches.iter().for_each(|b| w.write(b).unwrap());
                w.close().unwrap();
            }
        }
    }

    /// The example session repeated 30 times (bench/replicate-session.py:
    /// distinct packets, ports varied), ~36,000 frames at four points.
    fn replicated_session(dir: &Path) -> Vec<(&'static str, PathBuf)> {
        replicated(&repo().join("examples/session-small"), dir, 30)
    }

    /// The four points of the session in `src`, `copies` times over (the
    /// ports varied) as pcap files in `dir`.
    pub fn replicated(src: &Path, dir: &Path, copies: u32) -> Vec<(&'static str, PathBuf)> {
        let status = std::process::Command::new("python3")
            .arg(repo().join("bench/replicate-session.py"))
            .arg("--vary-ports")
            .arg(src)
            .arg(dir)
            .arg(copies.to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs");
        assert!(status.success(), "replicate-session.py");
        ["client", "wan", "dc", "lbserver"]
            .into_iter()
            .map(|l| (l, dir.join(format!("{l}.pcap"))))
            .collect()
    }

    /// The replicated session within its point tables, the matching
    /// estimate and 1 MiB: the parts in order, streamed.
    #[test]
    fn memory_limit_same_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_within_limit(&replicated_session(dir.path()), 2, true);
    }

    /// A point whose frame count is a multiple of the rows per part ends
    /// in an empty part (it carries the frame count, and has no frame
    /// statistics): its order is still proven, nothing spills (the empty
    /// part is not scanned; a CI lab run of 5,100 frames at 100 rows a part
    /// found it sorted and spilling).  dc has 183 × 30 = 5,490 frames: 18
    /// parts of 305 rows and an empty one.
    #[test]
    fn memory_limit_with_an_empty_last_part_same_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let points = replicated_session(dir.path());
        let options = WriteOptions {
            rows_per_part: 305,
            ..small_parts()
        };
        let keys = tempfile::tempdir().expect("temp dir");
        let spec = PointSpec {
            label: "dc".into(),
            capture: points[2].1.clone(),
            given: 0,
        };
        assert_eq!(points[2].0, "dc");
        let w = write_point(&spec, keys.path(), &options).expect("write keys");
        assert_eq!((w.frames, w.files.len()), (5_490, 19));
        let last = keys.path().join("point=dc/part-00018.parquet");
        let rows = parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(&last).expect("an 19th part"),
        )
        .map(|r| {
            use parquet::file::reader::FileReader;
            r.metadata().file_metadata().num_rows()
        })
        .expect("a part");
        assert_eq!(rows, 0, "{} is the empty last part", last.display());
        assert_within_limit_with(&points, 2, true, &options);
    }

    /// From the captures (`pktmatch index FILE...` through the plan): a
    /// limit below the tables and matching estimated from the files'
    /// starts is refused before they are read; one that holds them gives
    /// the same index.
    #[test]
    fn memory_limit_from_captures() {
        let dir = tempfile::tempdir().expect("temp dir");
        let points = replicated_session(dir.path());
        let want = from_captures(&points);
        let per_point: Vec<usize> = points
            .iter()
            .map(|(_, p)| capture::estimate_frames(p).expect("a pcap file's estimate") as usize)
            .collect();
        let estimated: usize = per_point.iter().sum();
        let tables: Vec<_> = points
            .iter()
            .map(|(_, p)| matcher::table::read_point(p, |_| {}).expect("read"))
            .collect();
        let frames: usize = tables.iter().map(|t| t.recs.len()).sum();
        // The replicated session's copies are alike: the estimate is
        // within 10 % of the count (64 windows of 32 KiB over the files).
        assert!(
            estimated.abs_diff(frames) * 10 < frames,
            "estimated {estimated} frames, read {frames}"
        );
        // What reading reserves, point by point (the engine's estimate).
        let checks_file = matcher::table::Checks::file_possible();
        let guess = per_point
            .iter()
            .map(|&f| matcher::table::TableBuilder::reading_bytes(f, checks_file))
            .sum::<usize>()
            + engine::plan::matching_bytes(estimated);
        let conns: usize = tables.iter().map(|t| t.conns.len()).sum();
        let held: usize = tables.iter().map(|t| t.heap_bytes()).sum::<usize>()
            + engine::plan::matching_bytes_with(frames, conns);
        drop(tables);
        let run = |limit: usize| {
            matcher::run_on(
                &inputs(&points),
                &Options::default(),
                &mut |_| {},
                &engine(2, limit),
            )
            .map(|(b, _)| bytes(b))
        };
        let err = run(guess - 1).err().expect("below the estimate: refused");
        assert!(
            err.contains("estimated from the captures") && err.contains("give at least"),
            "{err}"
        );
        // At the estimate itself the check before reading lets it pass.
        if let Err(e) = run(guess) {
            assert!(!e.contains("estimated from the captures"), "{e}");
        }
        // The tables and matching, and 1 MiB: beside the tables, reading a
        // point in pieces holds their frames extracted ahead (about 2 MiB
        // here when a point is read in pieces, which depends on the order
        // the points finish in: docs/engine.md, "The limit from the
        // captures").  A refusal while reading names a limit projected from
        // what was read (a projection: it may be refused again, naming a
        // higher one); following them, it indexes within a few steps.
        let mut limit = held.max(guess) + (1 << 20);
        let mut steps = Vec::new();
        let got = loop {
            match run(limit) {
                Ok(got) => break got,
                Err(e) if e.contains("while the captures were read") && steps.len() < 3 => {
                    let named: f64 = e
                        .split("give about ")
                        .nth(1)
                        .and_then(|t| t.split(' ').next())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| panic!("a limit named: {e}"));
                    steps.push(limit);
                    limit = ((named * 1048576.0).ceil() as usize).max(limit + 1);
                }
                Err(e) => panic!("within the limit {limit} (after {steps:?}): {e}"),
            }
        };
        assert!(
            got == want,
            "index from the captures within the limit differs"
        );
        eprintln!(
            "{frames} frames ({estimated} estimated): estimate {guess} bytes, as read {held}"
        );
    }

    /// A classic pcap file (microsecond time stamps, Ethernet) of `n` TCP
    /// SYNs, each from another address and port: a scan, every frame its
    /// own connection, which the tables hold beside the frames.
    fn scan_capture(path: &Path, n: u32) {
        let mut f = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for k in 0..n {
            for w in [1_700_000_000 + k / 1000, (k % 1000) * 1000, 54, 54] {
                f.extend_from_slice(&w.to_le_bytes());
            }
            let mut frame = vec![0u8; 54];
            frame[12..14].copy_from_slice(&[0x08, 0x00]);
            // IPv4, 20-byte header, 40 bytes, TTL 64, TCP, 10.x.y.z to 192.0.2.1.
            frame[14..24].copy_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6]);
            frame[26..30].copy_from_slice(&[10, (k >> 16) as u8, (k >> 8) as u8, k as u8]);
            frame[30..34].copy_from_slice(&[192, 0, 2, 1]);
            // TCP from port 40000 + k % 20000 to 443, SYN, data offset 5.
            frame[34..36].copy_from_slice(&(40_000 + (k % 20_000) as u16).to_be_bytes());
            frame[36..38].copy_from_slice(&443u16.to_be_bytes());
            frame[38..42].copy_from_slice(&k.to_be_bytes());
            frame[46] = 0x50;
            frame[47] = 0x02;
            frame[48..50].copy_from_slice(&[0xff, 0xff]);
            f.extend_from_slice(&frame);
        }
        std::fs::write(path, f).expect("write a capture");
    }

    /// A scan: the estimate (the tables' frames) lets a limit pass that the
    /// tables as read (each frame a connection besides) and matching beside
    /// them do not fit, and the run is refused while the captures are read,
    /// before the tables pass the limit (since 2026-12-07; before, once
    /// they were read whole).
    #[test]
    fn memory_limit_from_captures_checked_while_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let points: Vec<(&str, PathBuf)> = ["a", "b"]
            .into_iter()
            .map(|l| (l, dir.path().join(format!("{l}.pcap"))))
            .collect();
        points.iter().for_each(|(_, p)| scan_capture(p, 100_000));
        let estimated: usize = points
            .iter()
            .map(|(_, p)| capture::estimate_frames(p).expect("an estimate") as usize)
            .sum();
        let checks_file = matcher::table::Checks::file_possible();
        let guess = matcher::table::TableBuilder::bytes_for(estimated, 0, checks_file)
            + engine::plan::matching_bytes(estimated);
        let tables: Vec<_> = points
            .iter()
            .map(|(_, p)| matcher::table::read_point(p, |_| {}).expect("read"))
            .collect();
        let frames: usize = tables.iter().map(|t| t.recs.len()).sum();
        let held: usize = tables.iter().map(|t| t.heap_bytes()).sum::<usize>()
            + engine::plan::matching_bytes(frames);
        drop(tables);
        assert!(
            estimated.abs_diff(frames) * 1000 < frames,
            "the SYNs are alike: estimated {estimated} frames, read {frames}"
        );
        assert!(
            held > guess + guess / 4,
            "connections beyond the estimate: {held} against {guess}"
        );
        let limit = guess + guess / 8;
        let err = matcher::run_on(
            &inputs(&points),
            &Options::default(),
            &mut |_| {},
            &engine(2, limit),
        )
        .err()
        .expect("the tables as read exceed the limit: refused");
        assert!(
            err.contains("passed the limit while the captures were read")
                && err.contains("--memory-limit"),
            "{err}"
        );
    }

    /// The same with parts whose order DataFusion cannot prove: sorted,
    /// spilled, the same index.
    #[test]
    fn memory_limit_unproven_order_sorts_and_spills_same_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_within_limit(&replicated_session(dir.path()), 2, false);
    }
}

#[test]
fn example_session_same_index() {
    assert_same(&session(&repo().join("examples/session-small")));
}

#[test]
fn real_nat_pair_same_index() {
    let d = repo().join("tests/data");
    assert_same(&[
        ("client", d.join("real-nat-client.pcapng")),
        ("wan", d.join("real-nat-wan.pcapng")),
    ]);
}

#[test]
fn lab_runs_same_index() {
    let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") else {
        eprintln!("PKTMATCH_LAB_DIRS not set: lab runs not compared (make test sets it)");
        return;
    };
    let mut n = 0;
    for d in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
        let points = session(&d.join("points"));
        assert_same(&points);
        // A lab run's ~17,000 frames are within a few per cent of the limit
        // the check sets (its 1 MiB of room weighs most), on either side:
        // a CI run had 2,918,812 bytes of key tables against a limit of
        // 2,934,336, and the check's premise failed.  Three copies of the
        // run exceed it whatever the run.
        #[cfg(feature = "datafusion")]
        {
            let copies = tempfile::tempdir().expect("temp dir");
            let tripled = plan::replicated(&d.join("points"), copies.path(), 3);
            plan::assert_within_limit(&tripled, 2, true);
        }
        n += 1;
    }
    assert!(n > 0, "PKTMATCH_LAB_DIRS names no run");
}

#[test]
fn a_part_missing_is_refused() {
    let points = session(&repo().join("examples/session-small"));
    let (_, dir) = from_keys(&points[..2], &small_parts());
    let pdir = dir.path().join("point=client");
    // The last part carries the frame count: without it the table is not whole.
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&pdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    assert!(parts.len() >= 4, "347 frames in parts of 100");
    std::fs::remove_file(parts.last().unwrap()).unwrap();
    let e = engine::load::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not whole"), "{e}");
    // A part in the middle gone: the numbering says so.
    std::fs::remove_file(&parts[1]).unwrap();
    let e = engine::load::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("expected part 1"), "{e}");
}

#[test]
fn existing_tables_need_force() {
    let points = session(&repo().join("examples/session-small"));
    let (_, dir) = from_keys(&points[..2], &WriteOptions::default());
    let spec = PointSpec {
        label: "client".into(),
        capture: points[0].1.clone(),
        given: 0,
    };
    let e = write_point(&spec, dir.path(), &WriteOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force"), "{e}");
    let force = WriteOptions {
        force: true,
        ..WriteOptions::default()
    };
    write_point(&spec, dir.path(), &force).expect("replaced with force");
    // Something that is not ours stops it, with or without --force.
    let stranger = dir.path().join("point=client/notes.txt");
    std::fs::write(&stranger, "mine").unwrap();
    let e = write_point(&spec, dir.path(), &force)
        .unwrap_err()
        .to_string();
    assert!(e.contains("left alone"), "{e}");
    assert_eq!(std::fs::read_to_string(&stranger).unwrap(), "mine");
}

/// Inputs that take other reading paths: a gzip-compressed capture (read
/// as a stream) and a z/OS CTRACE trace (frames are trace records; time
/// stamps from the TOD clock) written from the same real packets.
#[test]
fn gzip_and_ctrace_points_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = repo().join("tests/data/real-http.pcap");
    let gz = dir.path().join("pc.pcap.gz");
    let out = std::process::Command::new("gzip")
        .arg("-c")
        .arg(&pcap)
        .output()
        .expect("gzip");
    assert!(out.status.success());
    std::fs::write(&gz, out.stdout).unwrap();
    let trace = dir.path().join("zos.ctrace");
    let argv: Vec<String> = [
        pcap.to_str().unwrap(),
        trace.to_str().unwrap(),
        "--framing",
        "rdw",
        "--writer-header",
        "24",
        "--segment-size",
        "700",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (i, o, options) = ctrace_synth::parse_args(argv).expect("writer arguments");
    ctrace_synth::write(&i, &o, &options).expect("CTRACE written");
    assert_same(&[("pc", gz), ("zos", trace)]);
}

/// A pcapng with blocks Wireshark numbers as frames but that hold no
/// packet (a custom block, RFC draft pcapng §4.8): the key table has no row
/// for them, and the index still numbers every frame as Wireshark does.
#[test]
fn frames_without_packets_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let ex = repo().join("examples/session-small");
    let bytes = std::fs::read(ex.join("client.pcapng")).unwrap();
    // Little-endian pcapng (the SHB's byte-order magic says so).
    assert_eq!(&bytes[8..12], &0x1A2B_3C4Du32.to_le_bytes());
    let custom = {
        let body = b"\xd9\x7e\0\0pktmatch test".to_vec();
        let len = (12 + body.len().div_ceil(4) * 4) as u32;
        let mut b = 0xBADu32.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&body);
        b.resize(len as usize - 4, 0);
        b.extend_from_slice(&len.to_le_bytes());
        b
    };
    // After the 10th and the 11th enhanced packet block: two gaps, one of
    // two frames.
    let mut out = Vec::new();
    let (mut at, mut epbs) = (0usize, 0);
    while at + 8 <= bytes.len() {
        let t = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.extend_from_slice(&bytes[at..at + len]);
        at += len;
        if t == 6 {
            epbs += 1;
            if epbs == 10 {
                out.extend_from_slice(&custom);
            }
            if epbs == 11 {
                out.extend_from_slice(&custom);
                out.extend_from_slice(&custom);
            }
        }
    }
    assert_eq!(at, bytes.len());
    let client = dir.path().join("client.pcapng");
    std::fs::write(&client, out).unwrap();
    let points = vec![("client", client), ("wan", ex.join("wan.pcapng"))];
    let spec = PointSpec {
        label: "client".into(),
        capture: points[0].1.clone(),
        given: 0,
    };
    let kdir = tempfile::tempdir().unwrap();
    let w = write_point(&spec, kdir.path(), &WriteOptions::default()).unwrap();
    assert_eq!(w.frames, 347, "one row per packet");
    let p = engine::load::load_point("client", &kdir.path().join("point=client")).unwrap();
    assert_eq!(p.table.recs.len(), 350, "frames as Wireshark numbers them");
    assert_same(&points);
}
