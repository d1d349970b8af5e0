use super::*;

fn opts(format: RecordFormat) -> WriteOptions<'static> {
    WriteOptions {
        dataset: "SYS1.TRACE.CTRACE1",
        format,
        lrecl: 27994,
        from_node: "S0W1",
        from_user: "IBMUSER",
        time: "20250102110501",
    }
}

#[test]
fn write_then_parse() {
    let long = vec![0xAB; 600]; // three segments
    let records: Vec<&[u8]> = vec![b"\x01\x02\x03", &long, b""];
    let x = write(&opts(RecordFormat::Variable), &records);
    assert_eq!(x.len() % 80, 0);
    assert!(looks_like(&x));
    let p = parse(&x, 1 << 20).unwrap();
    assert!(p.complete);
    let ids: Vec<&str> = p.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["INMR01", "INMR02", "INMR03", "INMR06"]);
    assert_eq!(p.controls[1].file, Some(1));
    assert_eq!(p.dataset_name().as_deref(), Some("SYS1.TRACE.CTRACE1"));
    assert_eq!(p.record_format(), RecordFormat::Variable);
    assert!(!p.is_partitioned());
    let got: Vec<&[u8]> = p.records.iter().map(|(_, r)| &r[..]).collect();
    assert_eq!(got, records);
    let data = p.data(1 << 20).unwrap();
    assert_eq!(crate::records::rdw_records(&data).unwrap(), records);
    let r1 = &p.controls[0];
    assert_eq!(r1.unit(key::INMFTIME).unwrap().text(""), "20250102110501");
    assert_eq!(r1.unit(key::INMLRECL).unwrap().number(), Some(80));
    assert_eq!(key::name(key::INMUTILN), Some("INMUTILN"));
    assert_eq!(key::name(0x7777), None);
}

#[test]
fn fixed_records_are_concatenated() {
    let x = write(&opts(RecordFormat::Fixed { lrecl: 4 }), &[b"abcd", b"efgh"]);
    let p = parse(&x, 1 << 20).unwrap();
    assert_eq!(p.record_format(), RecordFormat::Fixed { lrecl: 27994 });
    assert_eq!(p.data(100).unwrap(), b"abcdefgh");
}

#[test]
fn damage_is_reported_with_offsets() {
    let x = write(&opts(RecordFormat::Variable), &[b"abc"]);
    // not an XMIT
    assert_eq!(parse(b"INMR01", 10), Err(Error::NotPacked));
    // cut in the middle of a segment
    let e = parse(&x[..30], 1 << 20).unwrap_err();
    assert!(matches!(e, Error::Truncated { offset: 0, .. }), "{e}");
    // a zero segment length
    let mut bad = x.clone();
    let second = bad[0] as usize;
    bad[second] = 0;
    assert!(matches!(parse(&bad, 1 << 20), Err(Error::Invalid { .. })));
    // limit on data
    assert_eq!(parse(&x, 2), Err(Error::TooLarge { limit: 2 }));
    // no trailer: still parsed, marked incomplete
    let end = x.len() - 80;
    let trailer_at = x[..end + 80]
        .windows(6)
        .rposition(|w| w == [0xC9, 0xD5, 0xD4, 0xD9, 0xF0, 0xF6])
        .unwrap()
        - 2;
    let p = parse(&x[..trailer_at], 1 << 20).unwrap();
    assert!(!p.complete);
    assert_eq!(p.records.len(), 1);
}

#[test]
fn every_prefix_and_byte_flip_is_safe() {
    let x = write(&opts(RecordFormat::Variable), &[b"abc", &[7; 300]]);
    for n in 0..x.len() {
        let _ = parse(&x[..n], 1 << 20).map(|p| p.data(1 << 20));
    }
    for i in 0..x.len().min(400) {
        let mut y = x.clone();
        y[i] ^= 0x5A;
        let _ = parse(&y, 1 << 20).map(|p| p.data(1 << 20));
    }
}
