//! A second compressor we did not write: terselib (PyPI, an independent
//! implementation validated against IBM's corpus) tersed a text file as
//! AMATERSE does (EBCDIC CCSID 37, variable records, MVS header), with
//! both methods:
//!
//!     terse -q -t -c cp037 rendered-ipcs-dump-real-dns.txt \
//!         terselib-spack-rendered-ipcs-dump-real-dns.trs
//!     terse -q -m pack -t -c cp037 rendered-ipcs-dump-real-dns.txt \
//!         terselib-pack-rendered-ipcs-dump-real-dns.trs
//!
//! (terselib 0.1.0).  Each must unpack to that text's lines, one EBCDIC
//! record per line.

use zunpack::{records, terse, RecordFormat};

fn data(name: &str) -> Vec<u8> {
    let p = format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn terselib_files_unpack_to_the_text() {
    let text = String::from_utf8(data("rendered-ipcs-dump-real-dns.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (file, method) in [
        (
            "terselib-spack-rendered-ipcs-dump-real-dns.trs",
            terse::Method::Spack,
        ),
        (
            "terselib-pack-rendered-ipcs-dump-real-dns.trs",
            terse::Method::Pack,
        ),
    ] {
        let packed = data(file);
        assert_eq!(zunpack::detect(&packed), Some(zunpack::Kind::Terse(method)));
        let (layers, out) = zunpack::unpack(&packed, 1 << 24).unwrap();
        assert_eq!(layers[0].format, RecordFormat::Variable, "{file}");
        let recs = records::rdw_records(&out).unwrap();
        let got: Vec<String> = recs.iter().map(|r| ctrace::ebcdic::decode(r)).collect();
        assert_eq!(got.len(), lines.len(), "{file}");
        for (i, (g, want)) in got.iter().zip(&lines).enumerate() {
            assert_eq!(g.trim_end(), want.trim_end(), "{file} line {}", i + 1);
        }
    }
}
