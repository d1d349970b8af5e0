//! Independent vectors: files made by IBM's own programs on z/OS, not by
//! us.
//!
//! * openmainframeproject/tersedecompress-testdata: the Canterbury corpus
//!   uploaded to z/OS as FB and VB data sets, tersed there by AMATERSE
//!   (PACK and SPACK), and the data sets downloaded in binary with `site
//!   rdw` (ZOSBINARY/).  Every tersed file must decompress to exactly the
//!   downloaded data set.
//! * colinpaicemq/zWireshark `load/ZWIRESHA.LOAD.XMIT`: a real TSO XMIT
//!   (of an IEBCOPY-unloaded load library).
//! * mainframed/xmi `tests/test_seq.xmi`: an XMIT of a sequential FB 80
//!   data set (a JCL deck) written on MVS 3.8 under Hercules by XMIT370
//!   (the job that made it is that repository's tests/TEST.PDS/XMIT.jcl).
//!
//! They are public repositories, not ours, and are not committed here
//! (their licences and size): the tests read them from a local copy —
//! a checkout or a bare git directory — named by ZUNPACK_TERSE_CORPUS,
//! ZUNPACK_XMIT_SAMPLE_GIT and ZUNPACK_XMIT_SEQ_SAMPLE_GIT (defaults: the
//! mirrors this project's helpers use).  Without one, a test says so and checks nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

use zunpack::{records, terse, xmit, RecordFormat};

fn source(var: &str, default: &str) -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
    p.exists().then_some(p)
}

/// A file from a checkout or a bare git directory.
fn read(root: &Path, rel: &str) -> Option<Vec<u8>> {
    if let Ok(b) = std::fs::read(root.join(rel)) {
        return Some(b);
    }
    let out = Command::new("git")
        .arg(format!("--git-dir={}", root.display()))
        .args(["show", &format!("HEAD:{rel}")])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

const TERSE_DEFAULT: &str = "/work/.mirror/openmainframeproject+tersedecompress-testdata/repo";
const XMIT_DEFAULT: &str = "/work/.mirror/colinpaicemq+zWireshark/repo";
const XMIT_SEQ_DEFAULT: &str = "/work/.mirror/mainframed+xmi/repo";

/// The corpus files present in the repository (the largest are not in
/// every copy) and small enough to run quickly.
const NAMES: &[&str] = &[
    "FB.A.TXT",
    "FB.AAA.TXT",
    "FB.ALICE29.TXT",
    "FB.ALPHABET.TXT",
    "FB.ASYOULIK.TXT",
    "FB.CP.HTML",
    "FB.FIELDS.C",
    "FB.GRAMMAR.LSP",
    "FB.KENNEDY.XLS",
    "FB.LCET10.TXT",
    "FB.PI.TXT",
    "FB.PLRABN12.TXT",
    "FB.PTT5",
    "FB.RANDOM.TXT",
    "FB.SUM",
    "FB.XARGS",
    "VB.A.TXT",
    "VB.AAA.TXT",
    "VB.ALICE29.TXT",
    "VB.ALPHABET.TXT",
    "VB.ASYOULIK.TXT",
    "VB.BIBLE.TXT",
    "VB.CP.HTML",
    "VB.FIELDS.C",
    "VB.GRAMMAR.LSP",
    "VB.LCET10.TXT",
    "VB.PLRABN12.TXT",
    "VB.RANDOM.TXT",
    "VB.WORLD192.TXT",
    "VB.XARGS",
];

/// AMATERSE itself wrote these two broken (tersedecompress's AppTest
/// leaves both out: "also uncompresses incorrectly using AMATERSE on
/// z/OS"; their compressed streams are empty).
const KNOWN_BROKEN: &[&str] = &["FB.A.TXT.SPACK", "VB.A.TXT.SPACK"];

#[test]
fn amaterse_corpus_decompresses_to_the_zos_data_sets() {
    let Some(root) = source("ZUNPACK_TERSE_CORPUS", TERSE_DEFAULT) else {
        eprintln!("skipped: no copy of tersedecompress-testdata (set ZUNPACK_TERSE_CORPUS)");
        return;
    };
    let mut checked = 0;
    let mut bytes = 0u64;
    for name in NAMES {
        let Some(expected) = read(&root, &format!("ZOSBINARY/{name}")) else {
            continue;
        };
        for method in ["PACK", "SPACK"] {
            let file = format!("{name}.{method}");
            let Some(packed) = read(&root, &format!("TERSED/{file}")) else {
                continue;
            };
            if KNOWN_BROKEN.contains(&file.as_str()) {
                continue;
            }
            let (header, data) =
                terse::decompress(&packed, 1 << 30).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(header.method.name(), method, "{file}");
            assert_eq!(header.variable, name.starts_with("VB."), "{file}");
            assert!(
                data == expected,
                "{file}: {} bytes, expected {}",
                data.len(),
                expected.len()
            );
            if header.variable {
                assert!(records::rdw_records(&data).is_some(), "{file}");
            } else {
                assert!(matches!(header.record_format(), RecordFormat::Fixed { .. }));
            }
            assert_eq!(
                zunpack::detect(&packed),
                Some(zunpack::Kind::Terse(header.method))
            );
            checked += 1;
            bytes += data.len() as u64;
        }
    }
    eprintln!("{checked} AMATERSE files, {bytes} bytes, equal to the z/OS data sets");
    assert!(
        checked >= 50,
        "only {checked} corpus files found in {}",
        root.display()
    );
}

#[test]
fn real_xmit_file() {
    let Some(root) = source("ZUNPACK_XMIT_SAMPLE_GIT", XMIT_DEFAULT) else {
        eprintln!("skipped: no copy of colinpaicemq/zWireshark (set ZUNPACK_XMIT_SAMPLE_GIT)");
        return;
    };
    let b = read(&root, "load/ZWIRESHA.LOAD.XMIT").expect("load/ZWIRESHA.LOAD.XMIT");
    assert_eq!(b.len(), 275_520); // 3444 cards of 80 bytes
    assert_eq!(zunpack::detect(&b), Some(zunpack::Kind::Xmit));
    let x = xmit::parse(&b, 1 << 30).unwrap();
    let ids: Vec<&str> = x.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["INMR01", "INMR02", "INMR02", "INMR03", "INMR06"]);
    assert!(x.complete);
    assert_eq!(x.trailing, 43); // blanks after INMR06 to the card's end
    let r1 = &x.controls[0];
    assert_eq!(r1.unit(xmit::key::INMFNODE).unwrap().text(""), "S0W1");
    assert_eq!(r1.unit(xmit::key::INMFUID).unwrap().text(""), "COLIN");
    assert_eq!(
        r1.unit(xmit::key::INMFTIME).unwrap().text(""),
        "20250102110501"
    );
    assert_eq!(r1.unit(xmit::key::INMNUMF).unwrap().number(), Some(1));
    let utils: Vec<String> = x
        .utilities()
        .map(|c| c.unit(xmit::key::INMUTILN).unwrap().text(""))
        .collect();
    assert_eq!(utils, ["IEBCOPY", "INMCOPY"]);
    assert_eq!(x.dataset_name().as_deref(), Some("COLIN.ZWIRESHA.LOAD"));
    assert!(x.is_partitioned());
    // the logical records the evidence script (shared research xmit.py)
    // finds, less the one it makes of the blank padding after INMR06 (82
    // records, 272,918 bytes, the last 41 blanks): 81 records, 272,877
    // bytes, 66 of them the 4108-byte unloaded pages it extracts code from
    assert_eq!(x.records.len(), 81);
    assert_eq!(
        x.records.iter().map(|(_, r)| r.len()).sum::<usize>(),
        272_877
    );
    assert_eq!(
        x.records.iter().filter(|(_, r)| r.len() == 4108).count(),
        66
    );
    let e = x.data(1 << 30).unwrap_err();
    assert!(e.to_string().contains("partitioned data set"), "{e}");
    assert!(matches!(
        zunpack::unpack(&b, 1 << 30),
        Err(zunpack::Error::Unsupported { .. })
    ));
}

#[test]
fn real_sequential_xmit_file() {
    let Some(root) = source("ZUNPACK_XMIT_SEQ_SAMPLE_GIT", XMIT_SEQ_DEFAULT) else {
        eprintln!("skipped: no copy of mainframed/xmi (set ZUNPACK_XMIT_SEQ_SAMPLE_GIT)");
        return;
    };
    let b = read(&root, "tests/test_seq.xmi").expect("tests/test_seq.xmi");
    assert_eq!(b.len(), 2880); // 36 cards
    assert_eq!(zunpack::detect(&b), Some(zunpack::Kind::Xmit));
    let x = xmit::parse(&b, 1 << 20).unwrap();
    let ids: Vec<&str> = x.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["INMR01", "INMR02", "INMR03", "INMR06"]);
    assert!(x.complete);
    let r1 = &x.controls[0];
    assert_eq!(r1.unit(xmit::key::INMFNODE).unwrap().text(""), "ORIGNODE");
    assert_eq!(r1.unit(xmit::key::INMTUID).unwrap().text(""), "DESTUID");
    assert_eq!(
        r1.unit(xmit::key::INMFTIME).unwrap().text(""),
        "20210309045318"
    );
    assert!(!x.is_partitioned());
    assert_eq!(x.record_format(), RecordFormat::Fixed { lrecl: 80 });
    // XMIT370 sends the data set's blocks (here one of 33 cards)
    assert_eq!(x.records.len(), 1);
    let (layers, data) = zunpack::unpack(&b, 1 << 20).unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(data.len(), 33 * 80);
    // the deck checks itself: JCL in columns 1-72, sequence numbers
    // 00000100, 00000200, … in columns 73-80
    let cards: Vec<String> = data.chunks(80).map(ctrace::ebcdic::decode).collect();
    assert!(
        cards[0].starts_with("//XMITAPE JOB (01),'COPY TO TAPE'"),
        "{}",
        cards[0]
    );
    for (i, card) in cards.iter().enumerate() {
        assert!(
            card.starts_with("//") || card.starts_with("  ") || card.starts_with("/*"),
            "{card}"
        );
        assert_eq!(
            &card[72..],
            format!("{:08}", (i + 1) * 100),
            "card {}",
            i + 1
        );
    }
}
