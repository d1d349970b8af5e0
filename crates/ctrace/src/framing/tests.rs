use super::*;
use crate::cte::tests::make as make_cte;

fn cte(n: usize, fill: u8) -> Vec<u8> {
    make_cte(4, n as u64, &vec![fill; n])
}

fn raw_file(entries: &[Vec<u8>], buffer: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut used = 0;
    for e in entries {
        if used % buffer + e.len() > buffer && used % buffer > 0 {
            out.resize(out.len() + buffer - used % buffer, 0);
            used = 0;
        }
        out.extend_from_slice(e);
        used += e.len();
    }
    out.resize(out.len() + (buffer - used % buffer) % buffer, 0);
    out
}

fn rdw(payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 4) as u16).to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

fn bdw(records: &[Vec<u8>]) -> Vec<u8> {
    let len: usize = 4 + records.iter().map(|r| r.len()).sum::<usize>();
    let mut v = (len as u16).to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    for r in records {
        v.extend_from_slice(r);
    }
    v
}

/// Collects (offset, entry) pairs from a whole slice.
fn all(buf: &[u8], f: Framing) -> Vec<(u64, Vec<u8>)> {
    Entries::new(buf, f)
        .map(|r| r.map(|(o, b)| (o, b.to_vec())).unwrap())
        .collect()
}

/// The same through a Stepper fed by a reader with a `chunk`-byte read size.
fn streamed(
    file: &[u8],
    f: Framing,
    chunk: usize,
) -> std::result::Result<Vec<(u64, Vec<u8>)>, Error> {
    let mut st = Stepper::new(f);
    let mut buf: Vec<u8> = Vec::new();
    let mut read = 0usize; // bytes of `file` read into buf so far
    let mut consumed = 0u64;
    let mut out = Vec::new();
    let mut guard = 0;
    loop {
        guard += 1;
        assert!(guard < 1_000_000, "no progress");
        let eof = read == file.len();
        match st.step(&buf, eof) {
            Step::Entry { skip, len } => {
                out.push((consumed + skip as u64, buf[skip..skip + len].to_vec()));
                buf.drain(..skip + len);
                consumed += (skip + len) as u64;
                assert_eq!(st.offset(), consumed);
            }
            Step::Skip(n) => {
                assert!(n > 0 && n <= buf.len());
                buf.drain(..n);
                consumed += n as u64;
                assert_eq!(st.offset(), consumed);
            }
            Step::NeedMore(n) => {
                assert!(!eof && n > buf.len());
                // read `chunk` bytes whatever was asked for: the walker must
                // cope with partial input and ask again
                let want = chunk;
                let end = (read + want).min(file.len());
                buf.extend_from_slice(&file[read..end]);
                read = end;
            }
            Step::End => return Ok(out),
            Step::Error(e) => {
                assert_eq!(st.step(&buf, eof), Step::End);
                return Err(e);
            }
        }
    }
}

fn check_both(file: &[u8], f: Framing) -> Vec<(u64, Vec<u8>)> {
    let whole = all(file, f);
    for chunk in [1, 2, 3, 7, 64, 5000] {
        assert_eq!(streamed(file, f, chunk).unwrap(), whole, "chunk {chunk}");
    }
    whole
}

#[test]
fn raw_with_padding() {
    // short entries (CTELENP < 256: zero high byte) right after padding
    let entries: Vec<Vec<u8>> = [10, 300, 40, 1000, 2, 3000, 200, 5000, 0, 6]
        .iter()
        .map(|&n| cte(n, 0xAB))
        .collect();
    let file = raw_file(&entries, 4096);
    assert_eq!(detect(&file), Ok(Framing::Raw));
    let got = check_both(&file, Framing::Raw);
    assert_eq!(got.len(), entries.len());
    for (g, e) in got.iter().zip(&entries) {
        assert_eq!(&g.1, e);
        assert_eq!(&file[g.0 as usize..g.0 as usize + e.len()], &e[..]);
    }
}

#[test]
fn raw_padding_then_long_entry() {
    // padding, then an entry whose CTELENP high byte is non-zero: the zero
    // before it is padding, not part of the entry
    let mut file = cte(20, 1);
    file.extend_from_slice(&[0; 9]);
    let long = cte(400, 2);
    file.extend_from_slice(&long);
    file.extend_from_slice(&[0; 3]);
    let got = check_both(&file, Framing::Raw);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], (47, long));
}

#[test]
fn raw_padding_then_entry_with_zero_payload_bytes() {
    // an entry of length 0x0100 (high byte 1) after padding
    let mut file = cte(1, 0);
    file.extend_from_slice(&[0; 4]);
    let e = cte(256 - 18, 0);
    assert_eq!(e[0], 1);
    file.extend_from_slice(&e);
    let got = check_both(&file, Framing::Raw);
    assert_eq!(got.len(), 2);
}

#[test]
fn raw_leading_zeros() {
    let mut file = vec![0; 5];
    file.extend_from_slice(&cte(30, 9));
    assert_eq!(detect(&file), Ok(Framing::Raw));
    assert_eq!(check_both(&file, Framing::Raw).len(), 1);
}

#[test]
fn rdw_records() {
    let a = cte(10, 1);
    let b = cte(500, 2);
    let c = cte(3, 3);
    // one record with one entry, one with two entries and zero fill
    let mut two = b.clone();
    two.extend_from_slice(&c);
    two.extend_from_slice(&[0; 7]);
    let mut file = rdw(&a);
    file.extend_from_slice(&rdw(&two));
    file.extend_from_slice(&rdw(&[])); // an empty record
    file.extend_from_slice(&[0; 6]); // zeros at the end
    assert_eq!(detect(&file), Ok(Framing::Rdw));
    let got = check_both(&file, Framing::Rdw);
    assert_eq!(
        got,
        vec![
            (4, a.clone()),
            (4 + a.len() as u64 + 4, b.clone()),
            (4 + a.len() as u64 + 4 + b.len() as u64, c)
        ]
    );
}

#[test]
fn bdw_blocks() {
    let a = cte(10, 1);
    let b = cte(700, 2);
    let mut file = bdw(&[rdw(&a), rdw(&b)]);
    let c = cte(5, 3);
    let mut blk = bdw(&[rdw(&c)]);
    // zero fill at the end of the block, counted in the BDW
    blk.extend_from_slice(&[0; 10]);
    let l = (blk.len() as u16).to_be_bytes();
    blk[0] = l[0];
    blk[1] = l[1];
    file.extend_from_slice(&blk);
    assert_eq!(detect(&file), Ok(Framing::BdwRdw));
    let got = check_both(&file, Framing::BdwRdw);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], (8, a));
    assert_eq!(got[2].1, c);
}

#[test]
fn extended_bdw() {
    let a = cte(40000, 7);
    let r = {
        // RDW lengths are 16-bit: a 40 022-byte record still fits
        rdw(&a)
    };
    let len = 4 + r.len();
    let mut file = ((len as u32) | 0x8000_0000).to_be_bytes().to_vec();
    file.extend_from_slice(&r);
    assert_eq!(detect(&file), Ok(Framing::BdwRdw));
    let got = check_both(&file, Framing::BdwRdw);
    assert_eq!(got, vec![(8, a)]);
}

#[test]
fn detect_wrong_kinds() {
    let mut xmit = vec![0x50, 0xE0];
    xmit.extend_from_slice(&XMIT_MAGIC);
    xmit.resize(80, 0x40);
    assert_eq!(detect(&xmit), Err(Error::Xmit { offset: 2 }));
    let mut xmit_rdw = vec![0, 84, 0, 0, 0x50, 0xE0];
    xmit_rdw.extend_from_slice(&XMIT_MAGIC);
    xmit_rdw.resize(84, 0);
    assert_eq!(detect(&xmit_rdw), Err(Error::Xmit { offset: 6 }));

    let mut terse = vec![
        0x05, 0x01, 0x00, 0x00, 0x01, 0x00, 0x6A, 0x40, 0, 0, 0x6A, 0x40,
    ];
    terse.extend_from_slice(&[0x3C; 100]);
    assert_eq!(
        detect(&terse),
        Err(Error::Terse {
            offset: 0,
            mode: "SPACK"
        })
    );
    let mut pack = vec![0x02, 0x00, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0];
    pack.extend_from_slice(&[0x91; 100]);
    assert_eq!(
        detect(&pack),
        Err(Error::Terse {
            offset: 0,
            mode: "PACK"
        })
    );
    let mut native = vec![0x07, 0x89, 0x69, 0xA5, 0, 80];
    native.extend_from_slice(&[0x11; 100]);
    assert_eq!(
        detect(&native),
        Err(Error::Terse {
            offset: 0,
            mode: "native"
        })
    );

    let ascii = b"   804059 ADCD     PACKET   00000004 20:48:42.883175 Packet Trace\r\n From Interface    : ETH1\r\n".to_vec();
    assert_eq!(
        detect(&ascii),
        Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ascii
        })
    );
    let mut ebcdic =
        crate::ebcdic::encode(" 804059 ADCD PACKET 00000004 20:48:42.883175 Packet Trace");
    ebcdic.push(0x15);
    ebcdic.extend(crate::ebcdic::encode(
        " From Interface    : ETH1   Device: LCS Ethernet  Full=52",
    ));
    assert_eq!(
        detect(&ebcdic),
        Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ebcdic
        })
    );
    let mut sniff = SNIFFER_MAGIC.to_vec();
    sniff.resize(64, 0);
    assert_eq!(detect(&sniff), Err(Error::Sniffer { offset: 0 }));
    assert!(matches!(
        detect(&[1, 2, 3]),
        Err(Error::Truncated { available: 3, .. })
    ));
    assert_eq!(detect(&[0; 100]), Err(Error::UnknownFraming { offset: 0 }));
    assert_eq!(detect(&[0; 5]), Err(Error::UnknownFraming { offset: 0 }));
    let junk: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8 | 0x80).collect();
    assert_eq!(detect(&junk), Err(Error::UnknownFraming { offset: 0 }));
    assert!(Entries::detect(&junk).is_err());
}

#[test]
fn detect_with_short_prefix() {
    // the first entry is longer than the prefix: header plausibility only
    let e = cte(3000, 1);
    assert_eq!(detect(&e[..100]), Ok(Framing::Raw));
    assert_eq!(detect(&rdw(&e)[..100]), Ok(Framing::Rdw));
    assert_eq!(detect(&bdw(&[rdw(&e)])[..100]), Ok(Framing::BdwRdw));
}

#[test]
fn error_cte_lene_disagrees() {
    let a = cte(1234 - 18, 1);
    let mut b = cte(0x44 - 18, 2);
    let n = b.len();
    b[n - 1] = 0x40;
    let mut file = a.clone();
    file.extend_from_slice(&b);
    let e = streamed(&file, Framing::Raw, 16).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CTE at byte 1234: CTELENE 0x0040 disagrees with CTELENP 0x0044"
    );
    let mut it = Entries::new(&file, Framing::Raw);
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next().unwrap().unwrap_err(), e);
    assert!(it.next().is_none());
}

#[test]
fn error_truncated_last_entry() {
    let mut file = cte(10, 1);
    file.extend_from_slice(&cte(100, 2)[..50]);
    let e = streamed(&file, Framing::Raw, 8).unwrap_err();
    assert_eq!(
        e,
        Error::Truncated {
            offset: 28,
            what: "CTE",
            needed: 118,
            available: 50
        }
    );
    let mut r = rdw(&cte(10, 1));
    r.extend_from_slice(&rdw(&cte(100, 2))[..60]);
    assert!(matches!(
        streamed(&r, Framing::Rdw, 8),
        Err(Error::Truncated { offset: 36, .. })
    ));
    // a lone byte at the end
    let mut one = cte(10, 1);
    one.push(7);
    assert!(matches!(
        streamed(&one, Framing::Raw, 8),
        Err(Error::Truncated { offset: 28, .. })
    ));
    // RDW cut short
    let mut r = rdw(&cte(10, 1));
    r.extend_from_slice(&[0, 9]);
    assert!(matches!(
        streamed(&r, Framing::Rdw, 8),
        Err(Error::Truncated { what: "RDW", .. })
    ));
}

#[test]
fn error_cte_longer_than_record() {
    let e = cte(100, 1);
    let mut r = rdw(&e[..60]);
    r.extend_from_slice(&rdw(&cte(1, 1)));
    let err = streamed(&r, Framing::Rdw, 1000).unwrap_err();
    assert!(matches!(
        err,
        Error::LengthMismatch {
            offset: 4,
            field: "CTELENP",
            found: 118,
            expected: 60,
            ..
        }
    ));
}

#[test]
fn error_record_longer_than_block() {
    let mut file = bdw(&[rdw(&cte(10, 1))]);
    file[1] -= 1; // block one byte shorter than its record
    let err = streamed(&file, Framing::BdwRdw, 100).unwrap_err();
    assert!(matches!(
        err,
        Error::LengthMismatch {
            what: "RDW",
            offset: 4,
            ..
        }
    ));
}

#[test]
fn error_descriptors() {
    let mut r = rdw(&cte(10, 1));
    r[2] = 1; // spanned segment code
    assert!(matches!(
        streamed(&r, Framing::Rdw, 100),
        Err(Error::Invalid {
            what: "RDW",
            offset: 2,
            ..
        })
    ));
    let mut r = rdw(&cte(10, 1));
    r[0] = 0;
    r[1] = 3;
    assert!(matches!(
        streamed(&r, Framing::Rdw, 100),
        Err(Error::Invalid {
            field: "record length",
            value: 3,
            ..
        })
    ));
    let mut b = bdw(&[rdw(&cte(10, 1))]);
    b[3] = 1;
    assert!(matches!(
        streamed(&b, Framing::BdwRdw, 100),
        Err(Error::Invalid {
            what: "BDW",
            offset: 2,
            ..
        })
    ));
    let b = [0u8, 2, 0, 0, 1, 1];
    assert!(matches!(
        streamed(&b, Framing::BdwRdw, 100),
        Err(Error::Invalid {
            what: "BDW",
            value: 2,
            ..
        })
    ));
    // a block with 2 bytes left: too few for an RDW
    let mut b = bdw(&[rdw(&cte(10, 1))]);
    b.extend_from_slice(&[0, 6, 0, 0, 1, 1]);
    assert!(matches!(
        streamed(&b, Framing::BdwRdw, 100),
        Err(Error::Invalid {
            what: "block",
            value: 2,
            ..
        })
    ));
    // raw: CTELENP below the minimum, not after padding
    let mut raw = cte(10, 1);
    raw.extend_from_slice(&[0, 5, 1, 1]);
    assert!(matches!(
        streamed(&raw, Framing::Raw, 100),
        Err(Error::Invalid {
            field: "CTELENP",
            value: 5,
            offset: 28,
            ..
        })
    ));
    // raw: garbage after padding
    let mut raw = cte(10, 1);
    raw.extend_from_slice(&[0, 0, 0, 0x33, 0x33, 1]);
    assert!(streamed(&raw, Framing::Raw, 100).is_err());
}

#[test]
fn empty_and_zero_files() {
    assert_eq!(streamed(&[], Framing::Raw, 10).unwrap(), vec![]);
    assert_eq!(streamed(&[0; 9000], Framing::Raw, 100).unwrap(), vec![]);
    assert_eq!(streamed(&[0; 9], Framing::Rdw, 2).unwrap(), vec![]);
    assert_eq!(streamed(&[0; 3], Framing::BdwRdw, 2).unwrap(), vec![]);
    assert_eq!(streamed(&[], Framing::BdwRdw, 2).unwrap(), vec![]);
    assert_eq!(Framing::Raw.name(), "raw");
    assert_eq!(Framing::Rdw.name(), "rdw");
    assert_eq!(Framing::BdwRdw.name(), "bdw");
    let f = vec![0u8; 4];
    let e = Entries::new(&f, Framing::Rdw);
    assert_eq!(e.framing(), Framing::Rdw);
    assert_eq!(e.count(), 0);
}

#[test]
fn block_zero_fill_streamed_in_pieces() {
    let c = cte(5, 3);
    let mut blk = bdw(&[rdw(&c)]);
    blk.extend_from_slice(&[0; 300]);
    let l = (blk.len() as u16).to_be_bytes();
    blk[0] = l[0];
    blk[1] = l[1];
    let mut file = blk.clone();
    file.extend_from_slice(&blk);
    let got = check_both(&file, Framing::BdwRdw);
    assert_eq!(got.len(), 2);
    // truncated inside the zero fill
    assert!(matches!(
        streamed(&file[..blk.len() - 10], Framing::BdwRdw, 50),
        Err(Error::Truncated { what: "block", .. })
    ));
}

#[test]
fn record_zero_fill_then_short_entry() {
    // zeros inside a record, then a short entry (high byte zero)
    let a = cte(10, 1);
    let b = cte(20, 2);
    let mut payload = a.clone();
    payload.extend_from_slice(&[0; 5]);
    payload.extend_from_slice(&b);
    let file = rdw(&payload);
    let got = check_both(&file, Framing::Rdw);
    assert_eq!(
        got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(),
        vec![a, b]
    );
}

#[test]
fn zeros_between_records_and_blocks() {
    // zeros between RDW records, before a short (high byte 0) and a long RDW
    let short = cte(10, 1);
    let long = cte(400, 2);
    let mut file = rdw(&short);
    file.extend_from_slice(&[0; 6]);
    file.extend_from_slice(&rdw(&short));
    file.extend_from_slice(&[0; 5]);
    file.extend_from_slice(&rdw(&long));
    let got = check_both(&file, Framing::Rdw);
    assert_eq!(
        got.iter().map(|g| g.1.len()).collect::<Vec<_>>(),
        vec![28, 28, 418]
    );
    // zeros inside a block before a short and a long RDW, and between blocks
    let mut blk = bdw(&[rdw(&short)]);
    blk.extend_from_slice(&[0; 9]);
    blk.extend_from_slice(&rdw(&short));
    blk.extend_from_slice(&[0; 3]);
    blk.extend_from_slice(&rdw(&long));
    let l = (blk.len() as u16).to_be_bytes();
    blk[0] = l[0];
    blk[1] = l[1];
    let mut file = blk.clone();
    file.extend_from_slice(&[0; 7]);
    file.extend_from_slice(&blk);
    let got = check_both(&file, Framing::BdwRdw);
    assert_eq!(
        got.iter().map(|g| g.1.len()).collect::<Vec<_>>(),
        vec![28, 28, 418, 28, 28, 418]
    );
}

#[test]
fn block_zero_fill_to_its_end_then_short_block() {
    // a block whose zero fill ends exactly at its end, then a block whose
    // BDW length is below 256 (high byte zero): the fill's zeros must not
    // be taken for that BDW's high byte, however the input is cut
    let c = cte(5, 3);
    let mut a = bdw(&[rdw(&c)]);
    a.extend_from_slice(&[0; 19]);
    let l = (a.len() as u16).to_be_bytes();
    a[0] = l[0];
    a[1] = l[1];
    let b = bdw(&[rdw(&c)]);
    assert_eq!(b[0], 0);
    let mut file = a.clone();
    file.extend_from_slice(&b);
    file.extend_from_slice(&a);
    let got = check_both(&file, Framing::BdwRdw);
    assert_eq!(got.len(), 3);
}
