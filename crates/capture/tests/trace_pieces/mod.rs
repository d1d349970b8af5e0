//! What the CTRACE piece tests compare (real.rs, ctrace_pieces_random.rs):
//! a trace's packets read whole and read in pieces.

use capture::{Direction, Link};

/// What reading a CTRACE trace gives of each packet, but its interface
/// number (a piece numbers the interfaces it meets from 0): frame, times,
/// lengths, link, direction, offset, the traced bytes and the frame as
/// Wireshark shows it.
pub type TracePacket = (u32, i64, u32, Link, Direction, u64, Vec<u8>, Vec<u8>, i64);

pub fn trace_packet(p: &capture::Packet<'_>) -> TracePacket {
    let (data, wire) = (p.data.to_vec(), p.wire.to_vec());
    (
        p.frame,
        p.ts_ns,
        p.orig_len,
        p.link,
        p.direction,
        p.offset,
        data,
        wire,
        p.wire_ts_ns,
    )
}

/// The packets of `cap` (not read from yet) read in `n` pieces, renumbered
/// as the file's, when every piece but the last ended where the next
/// begins (else None: the caller reads the file whole); the number of
/// pieces.
pub fn in_pieces(cap: &capture::Capture<'_>, n: usize) -> (Option<Vec<TracePacket>>, usize) {
    let pieces = cap.pieces(n);
    let mut joined = Vec::new();
    let mut before = 0u32;
    for (k, piece) in pieces.iter().enumerate() {
        let mut r = piece.open().unwrap();
        loop {
            match r.next_packet() {
                Ok(Some(p)) => {
                    let mut t = trace_packet(&p);
                    t.0 += before;
                    joined.push(t);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(k + 1 < pieces.len(), "the last piece: {e}");
                    assert!(e.to_string().contains("piece"), "{e}");
                    return (None, pieces.len());
                }
            }
        }
        before += r.frames();
    }
    (Some(joined), pieces.len())
}
