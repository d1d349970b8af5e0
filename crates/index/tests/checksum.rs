//! The CHECKSUM (format 1.2, required since 2.0): damage that every structure check lets through
//! (a changed frame number, time stamp, address or delta) is refused too.

mod common;

use common::*;
use index::header::{checksum, kind};
use index::Index;

#[test]
fn every_single_byte_change_is_refused() {
    let s = session(6);
    let ix = Index::load(&s.bytes).unwrap();
    assert_eq!(ix.version(), (2, 0));
    let mut accepted = Vec::new();
    for at in 0..s.bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut b = s.bytes.clone();
            b[at] ^= flip;
            if Index::load(&b).is_ok() {
                accepted.push((at, flip));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "accepted after one change: {accepted:?}"
    );
}

#[test]
fn a_value_change_is_named_as_damage() {
    let s = session(6);
    // The last PEERS entry's delta: every structure stays valid.
    let secs = sections(&s.bytes);
    let peers_end = {
        let n = secs.iter().position(|x| x.0 == kind::PEERS).unwrap();
        let e = &s.bytes[48 + 24 * n..48 + 24 * n + 24];
        let off = u64::from_le_bytes(e[8..16].try_into().unwrap());
        let len = u64::from_le_bytes(e[16..24].try_into().unwrap());
        (off + len) as usize
    };
    let mut b = s.bytes.clone();
    b[peers_end - 1] ^= 0x10;
    let e = Index::load(&b).unwrap_err().to_string();
    assert!(e.contains("CHECKSUM section"), "{e}");
    assert!(e.contains("changed or damaged after it was written"), "{e}");
    // Sealed again (a deliberate edit), it loads, with the new value.
    checksum::reseal(&mut b);
    assert!(Index::load(&b).is_ok());
}

#[test]
fn the_checksum_must_end_a_current_file() {
    let s = session(4);
    let secs = sections(&s.bytes);
    assert_eq!(secs.last().unwrap().0, kind::CHECKSUM);
    // Left out of a 2.x file: refused.
    let without: Vec<_> = secs[..secs.len() - 1].to_vec();
    let e = Index::load(&assemble(&without, 2, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no CHECKSUM section"), "{e}");
    // A 1.x file (with or without one) is refused as an older format,
    // saying what to do.
    for (file, minor) in [(&without, 1), (&secs, 2)] {
        let e = Index::load(&assemble(file, 1, minor)).unwrap_err();
        assert!(e.is_older_format(), "{e}");
        assert!(e.to_string().contains("re-run `pktmatch index`"), "{e}");
    }
    // Not the last section: refused.
    let mut moved = secs.clone();
    let c = moved.pop().unwrap();
    moved.insert(0, c);
    let e = Index::load(&assemble(&moved, 2, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("must be the file's last 8 bytes"), "{e}");
}
