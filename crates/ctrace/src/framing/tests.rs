use super::*;
use crate::build;
use crate::input::SliceInput;

fn contents(file: &[u8], framing: Framing) -> (Vec<u8>, Vec<Note>, Deframer, Content) {
    let mut d = Deframer::new(framing);
    let mut c = Content::default();
    let mut notes = Vec::new();
    let mut input = SliceInput::new(file);
    while d.pull(&mut input, &mut c, &mut notes).unwrap() {}
    (c.from(0).to_vec(), notes, d, c)
}

#[test]
fn rdw_records_give_their_contents_and_where_they_came_from() {
    let mut file = build::rdw(7, rdw::COMPLETE).to_vec();
    file.extend_from_slice(b"abc");
    file.extend_from_slice(&build::rdw(6, rdw::FIRST));
    file.extend_from_slice(b"de");
    file.extend_from_slice(&build::rdw(5, rdw::MIDDLE));
    file.extend_from_slice(b"f");
    file.extend_from_slice(&build::rdw(8, rdw::LAST));
    file.extend_from_slice(b"ghij");
    let (bytes, notes, _, mut c) = contents(&file, Framing::Rdw);
    assert_eq!(bytes, b"abcdefghij");
    assert!(notes.is_empty());
    assert!(c.record_starts_at(0));
    assert!(c.record_starts_at(3));
    assert!(!c.record_starts_at(5), "a middle segment starts no record");
    assert_eq!(c.offset_of(0), 4);
    assert_eq!(c.offset_of(3), 11);
    assert_eq!(c.offset_of(6), 22);
    let mut chunks = Vec::new();
    c.chunks(2, 7, &mut chunks);
    assert_eq!(chunks, vec![(6, 1), (11, 2), (17, 1), (22, 1)]);
}

#[test]
fn zero_runs_between_records_and_blocks_are_padding() {
    // a record shorter than 256 bytes after zeros: its RDW starts with 0
    let mut file = build::rdw(6, rdw::COMPLETE).to_vec();
    file.extend_from_slice(b"ab");
    file.extend_from_slice(&[0; 9]);
    file.extend_from_slice(&build::rdw(7, rdw::COMPLETE));
    file.extend_from_slice(b"cde");
    file.extend_from_slice(&[0; 5]);
    let (bytes, notes, d, _) = contents(&file, Framing::Rdw);
    assert_eq!(bytes, b"abcde");
    assert!(notes.is_empty() && !d.degraded);
    // blocks: zeros after the last record of a block are its padding
    let mut block = build::bdw(4 + 7 + 5).to_vec();
    block.extend_from_slice(&build::rdw(7, rdw::COMPLETE));
    block.extend_from_slice(b"xyz");
    block.extend_from_slice(&[0; 5]);
    let mut file = block.clone();
    file.extend_from_slice(&[0; 3]);
    file.extend_from_slice(&block);
    let (bytes, notes, d, _) = contents(&file, Framing::BdwRdw);
    assert_eq!(bytes, b"xyzxyz");
    assert!(notes.is_empty() && !d.degraded, "{notes:?}");
}

#[test]
fn descriptors_that_cannot_be_right_end_the_framing() {
    let mut file = build::rdw(6, rdw::COMPLETE).to_vec();
    file.extend_from_slice(b"ab");
    file.extend_from_slice(&[0, 3, 0, 0]); // length below 4
    file.extend_from_slice(b"rest");
    let (bytes, notes, d, _) = contents(&file, Framing::Rdw);
    assert!(d.degraded);
    assert_eq!(bytes, b"ab\x00\x03\x00\x00rest");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].offset, 6);
    assert!(
        notes[0].to_string().contains("below the 4-byte"),
        "{}",
        notes[0]
    );
    // a record overrunning its block
    let mut file = build::bdw(12).to_vec();
    file.extend_from_slice(&build::rdw(20, rdw::COMPLETE));
    file.extend_from_slice(&[1; 16]);
    let (_, notes, d, _) = contents(&file, Framing::BdwRdw);
    assert!(d.degraded);
    assert!(notes[0].to_string().contains("bytes left in its block"));
    // an extended BDW
    let mut file = build::bdw(40_000).to_vec();
    file.extend_from_slice(&build::rdw(39_996, rdw::COMPLETE));
    file.extend_from_slice(&vec![2; 39_992]);
    let (bytes, notes, d, _) = contents(&file, Framing::BdwRdw);
    assert_eq!(bytes.len(), 39_992);
    assert!(!d.degraded);
    assert_eq!(notes[0].kind, NoteKind::LongRecord { len: 39_996 });
}

#[test]
fn a_record_cut_off_by_the_end_of_the_file() {
    let mut file = build::rdw(100, rdw::COMPLETE).to_vec();
    file.extend_from_slice(&[5; 10]);
    let (bytes, notes, _, _) = contents(&file, Framing::Rdw);
    assert_eq!(bytes, [5; 10]);
    assert_eq!(
        notes[0].kind,
        NoteKind::TruncatedRecord {
            len: 100,
            available: 14
        }
    );
    assert_eq!(Framing::BdwRdw.name(), "bdw");
}
