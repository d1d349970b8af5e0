use super::*;

/// A host header: version, record format, LRECL, no MVS flags.
fn header(version: u8, variable: bool, lrecl: u16) -> Vec<u8> {
    let mut h = vec![version, variable as u8];
    h.extend_from_slice(&lrecl.to_be_bytes());
    h.extend_from_slice(&[0; 8]);
    h
}

/// Packs 12-bit codes two to three bytes.
fn codes(c: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    for pair in c.chunks(2) {
        let a = pair[0];
        let b = pair.get(1).copied().unwrap_or(0);
        out.push((a >> 4) as u8);
        out.push(((a & 0xF) << 4) as u8 | (b >> 8) as u8);
        if pair.len() == 2 {
            out.push(b as u8);
        }
    }
    out
}

fn run(version: u8, variable: bool, c: &[u16]) -> Result<Vec<u8>> {
    let mut f = header(version, variable, 80);
    f.extend(codes(c));
    decompress(&f, 1 << 20).map(|(_, d)| d)
}

#[test]
fn header_forms() {
    // A real AMATERSE header (tersedecompress-testdata TERSED/VB.XARGS.PACK):
    // PACK, variable, LRECL 251, flags X'0C' (MVS), block size 27998.
    let h = Header::parse(&[0x02, 0x01, 0x00, 0xFB, 0x0C, 0x00, 0x6D, 0x5E, 0, 0, 0, 0]).unwrap();
    assert_eq!(
        (h.method, h.host, h.variable, h.record_len),
        (Method::Pack, true, true, 251)
    );
    assert_eq!((h.flags, h.block_size, h.len), (0x0C, 27998, 12));
    assert_eq!(h.record_format(), RecordFormat::Variable);
    let n = Header::parse(&[0x07, 0x89, 0x69, 0xA5]).unwrap();
    assert_eq!((n.method, n.host, n.len), (Method::Spack, false, 4));
    assert_eq!(n.record_format(), RecordFormat::Undefined);
    let bad: &[&[u8]] = &[
        &[],
        &[0x03, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x02, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x02, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2],
        &[0x02, 0, 0, 1, 0x01, 0, 0, 0, 0, 0, 0, 0],
        &[0x05, 0, 0, 1],
        &[0x01, 0x89, 0x69, 0xA6],
        &[0x01, 0x89],
    ];
    for b in bad {
        assert!(Header::parse(b).is_err(), "{b:02X?}");
    }
    assert_eq!(Method::Spack.name(), "SPACK");
}

#[test]
fn pack_literals_and_blank_dictionary() {
    // 'A' 'B' (EBCDIC C1 C2), then slot 258 (two blanks) and 259 (three)
    assert_eq!(run(0x02, false, &[0xC2, 0xC3]).unwrap(), vec![0xC1, 0xC2]);
    assert_eq!(run(0x02, false, &[258]).unwrap(), vec![0x40; 2]);
    assert_eq!(run(0x02, false, &[259]).unwrap(), vec![0x40; 3]);
}

#[test]
fn pack_new_slot_extends_previous_string() {
    // 'A', 'B': slot 4095 (the oldest) becomes "AB" once 'B' is read; the
    // code after names it.  Then 4094 = "B" + 'A' ("A" is first of "AB").
    let out = run(0x02, false, &[0xC2, 0xC3, 4095, 4094]).unwrap();
    assert_eq!(out, vec![0xC1, 0xC2, 0xC1, 0xC2, 0xC2, 0xC1]);
}

#[test]
fn pack_code_naming_the_slot_just_made() {
    // 'A', then 4095 = "A" + its own first symbol: "AA" (the KwKwK case)
    let out = run(0x02, false, &[0xC2, 4095]).unwrap();
    assert_eq!(out, vec![0xC1, 0xC1, 0xC1]);
}

#[test]
fn record_marks() {
    // variable: "A" | "" | "B" (the last record closed at the end)
    let out = run(0x02, true, &[0xC2, 257, 257, 0xC3]).unwrap();
    assert_eq!(
        out,
        b"\x00\x05\x00\x00\xC1\x00\x04\x00\x00\x00\x05\x00\x00\xC2"
    );
    // fixed: marks dropped
    assert_eq!(
        run(0x02, false, &[0xC2, 257, 0xC3]).unwrap(),
        vec![0xC1, 0xC2]
    );
    assert_eq!(
        run(0x05, false, &[0xC2, 257, 0xC3]).unwrap(),
        vec![0xC1, 0xC2]
    );
}

#[test]
fn spack_pairs() {
    // 'A', 'B': node 258 = ("A","B"); code 258 = "AB"; node 259 = ("B","AB")
    let out = run(0x05, false, &[0xC2, 0xC3, 258, 259]).unwrap();
    assert_eq!(out, vec![0xC1, 0xC2, 0xC1, 0xC2, 0xC2, 0xC1, 0xC2]);
}

#[test]
fn spack_undefined_node_is_an_error() {
    let e = run(0x05, false, &[0xC2, 300]).unwrap_err();
    assert!(e.to_string().contains("not yet defined"), "{e}");
}

#[test]
fn end_of_stream_forms() {
    // zero code ends; trailing zero padding ignored
    let mut f = header(0x02, false, 1);
    f.extend(codes(&[0xC2, 0, 0xC3]));
    f.extend([0; 20]);
    assert_eq!(decompress(&f, 100).unwrap().1, vec![0xC1]);
    // eight bits alone: truncated
    let mut f = header(0x02, false, 1);
    f.push(0x0C);
    assert!(matches!(
        decompress(&f, 100),
        Err(Error::Truncated { offset: 12, .. })
    ));
    // empty stream: empty data set
    assert_eq!(
        decompress(&header(0x05, true, 1), 100).unwrap().1,
        Vec::<u8>::new()
    );
}

#[test]
fn output_is_capped() {
    let mut f = header(0x02, false, 1);
    f.extend(codes(&[4000; 10]));
    assert_eq!(decompress(&f, 50), Err(Error::TooLarge { limit: 50 }));
}

#[test]
fn damaged_streams_never_panic_or_hang() {
    // every code value, in several orders, both methods
    for version in [0x02, 0x05] {
        for seed in 0..40u32 {
            let mut x = seed.wrapping_mul(2654435761);
            let c: Vec<u16> = (0..300)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 4095 + 1) as u16
                })
                .collect();
            let _ = run(version, seed % 2 == 0, &c);
        }
    }
}
