//! The 2026-12 audit (docs/ctrace-audit.md): the `ctrace` crate against
//! vectors written by hand from the sources (tests/audit_vectors), published
//! TOD values, and mutated inputs.  tests/ctrace_audit.rs shows the same
//! vectors in real tshark.

mod audit_vectors;

use audit_vectors as v;
use ctrace::{detect, tod, Direction, Framing, NoteKind, Reader, SliceInput};

struct Read {
    framing: Framing,
    packets: Vec<(
        Direction,
        Option<u32>,
        Option<u32>,
        usize,
        usize,
        Option<i64>,
        usize,
    )>,
    notes: Vec<String>,
    kinds: Vec<NoteKind>,
}

fn read(bytes: &[u8]) -> Read {
    let framing = detect(&bytes[..bytes.len().min(ctrace::framing::DETECT_PREFIX)])
        .unwrap_or_else(|e| panic!("detect: {e}"));
    let mut r = Reader::new(framing);
    let mut input = SliceInput::new(bytes);
    let mut out = Read {
        framing,
        packets: Vec::new(),
        notes: Vec::new(),
        kinds: Vec::new(),
    };
    while let Some(p) = r.next_packet(&mut input).unwrap() {
        out.packets.push((
            p.direction,
            p.tlen,
            p.plen,
            p.record.len(),
            p.data.len(),
            p.time_ns(0),
            p.segments(),
        ));
        for n in p.notes {
            out.notes.push(n.to_string());
            out.kinds.push(n.kind.clone());
        }
    }
    for n in r.final_notes() {
        out.notes.push(n.to_string());
        out.kinds.push(n.kind.clone());
    }
    out
}

fn direction(d: &str) -> Direction {
    match d {
        "To" => Direction::Outbound,
        _ => Direction::Inbound,
    }
}

/// Every frame of every vector as the analyst expects it.
fn check(vector: &v::Vector) -> Read {
    let got = read(&vector.bytes);
    assert_eq!(
        got.packets.len(),
        vector.frames.len(),
        "{}: packets",
        vector.name
    );
    for (i, (p, w)) in got.packets.iter().zip(&vector.frames).enumerate() {
        let what = format!("{} packet {}", vector.name, i + 1);
        assert_eq!(p.0, direction(w.direction), "{what}: direction");
        assert_eq!(p.1, Some(w.tlen), "{what}: PTH_Tlen");
        assert_eq!(p.2, Some(w.plen), "{what}: PTH_Plen");
        assert_eq!(p.3, w.cap_len, "{what}: record");
        assert_eq!(p.4, w.traced, "{what}: traced bytes");
        assert_eq!(p.5, Some(w.time_us as i64 * 1000), "{what}: time");
        assert_eq!(p.6, w.segments, "{what}: segments");
    }
    got
}

#[test]
fn ftp_site_rdw_of_a_spanned_data_set_is_read_without_alarm() {
    let vector = v::ftp_vbs();
    let got = check(&vector);
    assert_eq!(got.framing, Framing::Rdw);
    // FTP joins a VBS record's segments (IBM-MAIN; DFSMS QSAM GET): a
    // 40 000-byte record behind one RDW is how z/OS data reaches the PC,
    // not a file "not written by z/OS as it is".
    assert!(
        got.kinds
            .iter()
            .any(|k| matches!(k, NoteKind::LongRecord { .. })),
        "{:?}",
        got.notes
    );
    for n in &got.notes {
        assert!(!n.contains("not written by z/OS"), "{n}");
        assert!(n.contains("spanned"), "{n}");
    }
}

#[test]
fn connect_direct_block_with_ibms_documented_descriptors() {
    let vector = v::cd_block();
    let got = check(&vector);
    assert_eq!(got.framing, Framing::BdwRdw);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn entries_crossing_record_boundaries_are_not_lost() {
    let vector = v::straddling();
    let got = check(&vector);
    assert_eq!(got.framing, Framing::Rdw);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn a_set_of_258_segments_wraps_its_sequence_number_to_1() {
    let got = check(&v::seq_wrap());
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn only_x01_makes_a_packet_outbound() {
    let vector = v::flags();
    check(&vector);
    let got = read(&vector.bytes);
    for (f, p) in v::FLAG_VALUES.iter().zip(&got.packets) {
        let out = f & v::OUT != 0;
        assert_eq!(p.0 == Direction::Outbound, out, "PTH_Flag {f:#04x}");
    }
}

#[test]
fn header_length_decides_where_the_packet_and_the_drop_reason_are() {
    let vector = v::header_lengths();
    let got = check(&vector);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    let mut r = Reader::new(Framing::Raw);
    let mut input = SliceInput::new(&vector.bytes);
    for &(len, drop) in &v::HEADER_LENGTHS {
        let p = r.next_packet(&mut input).unwrap().unwrap();
        let h = p.pthdr().unwrap();
        assert_eq!(usize::from(h.header_len()), len);
        assert_eq!(
            h.drop_reason(),
            (len >= 92).then_some(drop),
            "PTH_Len {len}"
        );
        // the packet starts at PTH_len: its first byte is the IPv4 X'45'
        assert_eq!(p.data[0], 0x45, "PTH_Len {len}");
    }
}

#[test]
fn a_data_trace_set_beyond_64k_has_a_24_bit_tlen_and_no_false_contradiction() {
    let vector = v::big_data_trace();
    let got = check(&vector);
    // A 16-bit PTH_Plen cannot hold 80 000: that is no contradiction of
    // the record's, and no packet is shorter than what was traced.
    assert!(
        !got.kinds
            .iter()
            .any(|k| matches!(k, NoteKind::PlenBelowTlen { .. })),
        "{:?}",
        got.notes
    );
    let mut r = Reader::new(Framing::Raw);
    let p = r
        .next_packet(&mut SliceInput::new(&vector.bytes))
        .unwrap()
        .unwrap();
    assert_eq!(p.original_len(), 80_000);
    assert_eq!(p.data.len(), 80_000);
    assert_eq!(&p.data[..4], b"abcd");
}

/// Published TOD values, converted by `ctrace::tod`.
#[test]
fn tod_values_published_by_others() {
    // P. Saers, "How to convert a TOD clock value": 2000-01-01 00:00:00.
    assert_eq!(
        tod::to_unix_ns(0xB361_183F_4800_0000, 0),
        946_684_800 * 1_000_000_000
    );
    // the same page's worked example: AAAA AAAA AAAA AAAA is 1995-02-21
    // 23:55:51.580330 (1995.052), to the microsecond.
    assert_eq!(
        tod::to_unix_us(0xAAAA_AAAA_AAAA_AAAA, 0),
        793_410_951_580_330
    );
    // IBM (J. Scott, ASSEMBLER-LIST): the TOD overflows after 2042-09-17
    // 23:53:47.370495.
    assert_eq!(tod::to_unix_us(u64::MAX, 0), 2_294_610_827_370_495);
    // a TOD that counts the 27 leap seconds of 1972-2016 is 27 s ahead of
    // UTC (TOD - UTC = 27: UTC = TOD - 27 s).
    assert_eq!(
        tod::to_unix_ns(0xB361_183F_4800_0000 + 27 * 1_000_000 * 4096, 27),
        946_684_800 * 1_000_000_000
    );
}

/// Truncations and byte changes of every vector, read in every framing and
/// again record by record: no panic, and every note's offset within the
/// file.
#[test]
fn mutated_vectors_never_panic() {
    let mut runs = 0;
    let mut rand = v::Rand(0x2026_1206);
    for vector in v::all() {
        let n = vector.bytes.len();
        let mut inputs = Vec::new();
        for k in 1..=24 {
            inputs.push(vector.bytes[..n * k / 25].to_vec());
        }
        for _ in 0..24 {
            let mut b = vector.bytes.clone();
            for _ in 0..1 + rand.below(8) {
                let at = rand.below(n);
                b[at] = rand.next() as u8;
            }
            inputs.push(b);
        }
        for b in &inputs {
            let _ = detect(&b[..b.len().min(ctrace::framing::DETECT_PREFIX)]);
            for framing in [Framing::Raw, Framing::Rdw, Framing::BdwRdw] {
                let mut r = Reader::new(framing);
                let mut again = Reader::for_records();
                let mut input = SliceInput::new(b);
                let mut records = Vec::new();
                while let Some(p) = r.next_packet(&mut input).unwrap() {
                    for note in p.notes {
                        assert!(note.offset <= b.len() as u64, "{}: {note}", vector.name);
                        let _ = note.to_string();
                    }
                    records.push(p.record.to_vec());
                }
                for rec in &records {
                    let p = again.read_record(rec);
                    let _ = (p.pthdr(), p.original_len(), p.time_ns(27));
                }
                runs += 1;
            }
        }
    }
    assert!(runs >= 7 * 48 * 3, "{runs}");
}
