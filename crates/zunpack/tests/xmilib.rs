//! A second XMIT writer we did not write: xmi-reader (PyPI, GPLv2; its
//! `create_xmi`) packed the rendered DNS report as a sequential FB data
//! set of 133-byte EBCDIC (CCSID 37) records, the way an IPCS print data
//! set is sent:
//!
//!     python3 -c 'import xmi; xmi.create_xmi("rendered-ipcs-dump-real-dns.txt",
//!         "xmilib-fb133-rendered-ipcs-dump-real-dns.xmi", dsn="SYSPROG.IPCS.REPORT",
//!         lrecl=133, recfm="FB", encoding="cp037", from_user="SYSPROG",
//!         from_node="MVS1", to_user="ANALYST", to_node="PC")'
//!
//! (xmi-reader 1.0.5).  It must unpack to that text's lines, one blank-
//! padded record per line.

use zunpack::{xmit, RecordFormat};

fn data(name: &str) -> Vec<u8> {
    let p = format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn xmilib_report_unpacks_to_the_text() {
    let file = "xmilib-fb133-rendered-ipcs-dump-real-dns.xmi";
    let packed = data(file);
    let text = String::from_utf8(data("rendered-ipcs-dump-real-dns.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(zunpack::detect(&packed), Some(zunpack::Kind::Xmit));
    let x = xmit::parse(&packed, 1 << 24).unwrap();
    assert!(x.complete);
    assert_eq!(x.dataset_name().as_deref(), Some("SYSPROG.IPCS.REPORT"));
    let (layers, out) = zunpack::unpack(&packed, 1 << 24).unwrap();
    assert_eq!(layers[0].format, RecordFormat::Fixed { lrecl: 133 });
    assert_eq!(out.len(), lines.len() * 133, "{file}");
    for (i, (rec, want)) in out.chunks(133).zip(&lines).enumerate() {
        let got = ctrace::ebcdic::decode(rec);
        assert_eq!(got.trim_end(), want.trim_end(), "{file} line {}", i + 1);
    }
}
