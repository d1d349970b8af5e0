//! Every subcommand's outputs go through one writer with one set of rules
//! (crates/pktmatch/src/output.rs): nothing but a regular file is ever
//! replaced (a device or a pipe is written into, a symbolic link written
//! through), an existing file needs --force, inputs are never outputs, `-`
//! is standard output — `index -o` included, which once renamed its
//! temporary file over whatever was at its path.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::synthetic::synthetic_session;
use common::{pktmatch, pktmatch_err, pktmatch_ok};

fn index_args<'a>(out: &'a str, s: &'a common::synthetic::Synthetic) -> Vec<&'a str> {
    vec![
        "index",
        "-q",
        "-o",
        out,
        s.client.to_str().unwrap(),
        s.wan.to_str().unwrap(),
    ]
}

fn with<'a>(mut args: Vec<&'a str>, extra: &[&'static str]) -> Vec<&'a str> {
    args.extend_from_slice(extra);
    args
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Reads a FIFO to the end on another thread.
fn drain(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    let p = path.to_path_buf();
    std::thread::spawn(move || fs::read(p).unwrap())
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".partial."))
        .collect()
}

#[test]
fn index_output_rules() {
    let s = synthetic_session();
    let d = s.dir.path();
    let out = d.join("s.pktmatch");
    let o = out.to_str().unwrap();
    pktmatch_ok(&index_args(o, &s));
    let first = fs::read(&out).unwrap();
    assert!(index::Index::load(&first).is_ok());

    // An existing file needs --force.
    let e = pktmatch_err(&index_args(o, &s));
    assert!(e.contains("exists (use --force to overwrite)"), "{e}");
    assert_eq!(fs::read(&out).unwrap(), first);
    pktmatch_ok(&with(index_args(o, &s), &["--force"]));
    assert!(index::Index::load(&fs::read(&out).unwrap()).is_ok());

    // `-` is standard output: the same bytes but the creation time.
    let stdout = pktmatch(&index_args("-", &s));
    assert!(stdout.status.success());
    let ix = index::Index::load(&stdout.stdout).unwrap();
    assert_eq!(
        ix.total_packets(),
        index::Index::load(&first).unwrap().total_packets()
    );

    // A character device is written into, not replaced.
    pktmatch_ok(&index_args("/dev/null", &s));
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    // A named pipe: written into; still a pipe afterwards.
    let fifo = d.join("pipe.pktmatch");
    mkfifo(&fifo);
    let reader = drain(&fifo);
    pktmatch_ok(&index_args(fifo.to_str().unwrap(), &s));
    let got = reader.join().unwrap();
    assert!(index::Index::load(&got).is_ok());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A symbolic link is written through, never replaced.
    let target = d.join("real.pktmatch");
    fs::write(&target, b"old").unwrap();
    let link = d.join("link.pktmatch");
    symlink("real.pktmatch", &link).unwrap();
    let l = link.to_str().unwrap();
    let e = pktmatch_err(&index_args(l, &s));
    assert!(e.contains("exists (use --force"), "{e}");
    pktmatch_ok(&with(index_args(l, &s), &["--force"]));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(index::Index::load(&fs::read(&target).unwrap()).is_ok());
    // A dangling link: the file it names is created.
    let dangling = d.join("dangling.pktmatch");
    symlink("created.pktmatch", &dangling).unwrap();
    pktmatch_ok(&index_args(dangling.to_str().unwrap(), &s));
    assert!(fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(index::Index::load(&fs::read(d.join("created.pktmatch")).unwrap()).is_ok());

    // Refused, --force or not: a directory, an input (also through a link),
    // a capture's name, an existing capture.
    let dir = d.join("adir");
    fs::create_dir(&dir).unwrap();
    let e = pktmatch_err(&with(index_args(dir.to_str().unwrap(), &s), &["--force"]));
    assert!(e.contains("is a directory"), "{e}");
    let to_input = d.join("to-input.pktmatch");
    symlink(&s.client, &to_input).unwrap();
    let before = fs::read(&s.client).unwrap();
    for target in [s.client.to_str().unwrap(), to_input.to_str().unwrap()] {
        let e = pktmatch_err(&with(index_args(target, &s), &["--force"]));
        assert!(e.contains("a capture of the session"), "{target}: {e}");
    }
    assert_eq!(fs::read(&s.client).unwrap(), before);
    let e = pktmatch_err(&index_args(d.join("x.pcapng").to_str().unwrap(), &s));
    assert!(e.contains("a capture file name"), "{e}");
    let copy = d.join("copy.dat");
    fs::copy(&s.client, &copy).unwrap();
    let e = pktmatch_err(&with(index_args(copy.to_str().unwrap(), &s), &["--force"]));
    assert!(e.contains("is a capture"), "{e}");
    // A block device (a disk), when the machine has one to name.
    if let Some(dev) = fs::read_dir("/dev")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_ok_and(|t| t.is_block_device()))
    {
        let p = dev.path();
        let e = pktmatch_err(&with(index_args(p.to_str().unwrap(), &s), &["--force"]));
        assert!(e.contains("a block device"), "{e}");
    }
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// A write that fails (here past the file size limit, `ulimit -f`, the
/// signal ignored so that the write returns its error) is reported with
/// the output's name, and leaves neither the index nor a partial file.
#[test]
fn a_failed_index_write_names_the_file_and_leaves_nothing() {
    let s = synthetic_session();
    let d = s.dir.path();
    let out = d.join("s.pktmatch");
    let args = index_args(out.to_str().unwrap(), &s).join(" ");
    let full = pktmatch_ok(&index_args(d.join("full.pktmatch").to_str().unwrap(), &s));
    let size = fs::metadata(d.join("full.pktmatch")).unwrap().len();
    assert!(size > 1024, "{full}: {size} bytes");
    // ulimit -f counts 512-byte blocks: half the index fits.
    let script = format!(
        "trap '' XFSZ; ulimit -f {}; exec {} {args}",
        size / 1024,
        env!("CARGO_BIN_EXE_pktmatch")
    );
    let run = Command::new("sh").args(["-c", &script]).output().unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "the write did not fail: {said}");
    assert!(
        said.contains(&format!("{}: cannot write:", out.display())) && said.contains("too large"),
        "{said}"
    );
    assert!(!out.exists());
    assert_eq!(leftovers(d), Vec::<PathBuf>::new());
}

#[test]
fn reader_subcommands_follow_the_same_rules() {
    let s = synthetic_session();
    let d = s.dir.path();
    let session = s.session.to_str().unwrap();
    let csv = d.join("m.csv");
    let c = csv.to_str().unwrap();
    pktmatch_ok(&["export", session, "--csv", c]);
    let e = pktmatch_err(&["export", session, "--csv", c]);
    assert!(e.contains("exists (use --force"), "{e}");
    pktmatch_ok(&["export", session, "--csv", c, "--force"]);
    // The index itself, also through a link: never.
    let to_index = d.join("to-index.csv");
    symlink(&s.session, &to_index).unwrap();
    for t in [session, to_index.to_str().unwrap()] {
        let e = pktmatch_err(&["export", session, "--csv", t, "--force"]);
        assert!(e.contains("the index itself"), "{t}: {e}");
    }
    // A capture, through a link: never.
    let to_capture = d.join("to-capture.html");
    symlink(&s.wan, &to_capture).unwrap();
    let e = pktmatch_err(&[
        "report",
        session,
        "--html",
        to_capture.to_str().unwrap(),
        "--force",
    ]);
    assert!(e.contains("a capture of the session"), "{e}");
    // A pipe and a device: written into.
    let fifo = d.join("report.pipe");
    mkfifo(&fifo);
    let reader = drain(&fifo);
    pktmatch_ok(&["report", session, "--csv", fifo.to_str().unwrap()]);
    assert!(String::from_utf8(reader.join().unwrap())
        .unwrap()
        .starts_with("row,dir,what,"));
    pktmatch_ok(&["export", session, "--lost-csv", "/dev/null"]);
    // `-`: standard output, for every text output.
    let lost = pktmatch_ok(&["export", session, "--lost-csv", "-"]);
    assert!(lost.starts_with("point,frame,not_seen_at,kind\n"), "{lost}");

    // annotate: OUTDIR must be a directory; its files follow the rules.
    let e = pktmatch_err(&["annotate", session, "-"]);
    assert!(e.contains("OUTDIR cannot be -"), "{e}");
    let e = pktmatch_err(&["annotate", session, c]);
    assert!(e.contains("exists and is not a directory"), "{e}");
    let outdir = d.join("annotated");
    fs::create_dir(&outdir).unwrap();
    symlink(&s.client, outdir.join("client.pcapng")).unwrap();
    let e = pktmatch_err(&["annotate", session, outdir.to_str().unwrap(), "--force"]);
    assert!(e.contains("a capture of the session"), "{e}");
    // Nothing was written: every output is checked before the first.
    assert!(!outdir.join("wan.pcapng").exists());
    fs::remove_file(outdir.join("client.pcapng")).unwrap();
    pktmatch_ok(&["annotate", session, outdir.to_str().unwrap()]);
    let e = pktmatch_err(&["annotate", session, outdir.to_str().unwrap()]);
    assert!(e.contains("exists (use --force"), "{e}");
    assert!(leftovers(d).is_empty() && leftovers(&outdir).is_empty());
}

#[test]
fn convert_output_rules() {
    // Refused before the input is read (so any input file will do).
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("trace.bin");
    fs::write(&input, b"not a trace").unwrap();
    let i = input.to_str().unwrap();
    let e = pktmatch_err(&["convert", i, i, "--force"]);
    assert!(
        e.contains("a capture of the session") || e.contains("never modified"),
        "{e}"
    );
    let existing = dir.path().join("out.pcapng");
    fs::write(&existing, b"keep").unwrap();
    let e = pktmatch_err(&["convert", i, existing.to_str().unwrap()]);
    assert!(e.contains("exists (use --force"), "{e}");
    let e = pktmatch_err(&["convert", i, dir.path().to_str().unwrap(), "--force"]);
    assert!(e.contains("is a directory"), "{e}");
    assert_eq!(fs::read(&existing).unwrap(), b"keep");
}
