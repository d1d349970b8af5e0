//! Framing the CTEs into a file, and the packed-file wrappers of the
//! malformed variants.  Descriptors are written with `ctrace::build` from
//! the layout table.

use crate::Framing;
use ctrace::build;
use ctrace::layout::{bdw, rdw};

/// How the writer lays entries out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub framing: Framing,
    /// Writer buffer size: entries are packed into buffers (logical
    /// records) of at most this many bytes; an entry longer than that gets
    /// a buffer of its own.
    pub buffer: usize,
    /// Bytes at the start of every buffer, before its first entry (standing
    /// in for the writer's own record header, whose layout is not public).
    pub header: Vec<u8>,
    /// RDW framing: write a buffer longer than an RDW allows as one record
    /// anyway (as no z/OS writer would) instead of spanning it.
    pub long_records: bool,
}

/// The writer buffers: each `header` then entries; and where each entry is
/// (buffer index, offset in it).
fn buffers(ctes: &[Vec<u8>], l: &Layout) -> (Vec<Vec<u8>>, Vec<(usize, usize)>) {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut at = Vec::with_capacity(ctes.len());
    let mut cur: Option<Vec<u8>> = None;
    for c in ctes {
        if let Some(b) = &cur {
            if b.len() + c.len() > l.buffer {
                out.extend(cur.take());
            }
        }
        let b = cur.get_or_insert_with(|| l.header.clone());
        at.push((out.len(), b.len()));
        b.extend_from_slice(c);
    }
    out.extend(cur);
    (out, at)
}

/// A logical record as RDW/SDW-framed pieces: one complete record, or
/// segments of at most 32 756 bytes with their control codes (VBS).
fn segments(record: &[u8], long: bool) -> Vec<(u8, &[u8])> {
    let max = if long {
        usize::MAX
    } else {
        rdw::MAX_RECORD - 2 * rdw::SIZE
    };
    if record.len() <= max {
        return vec![(rdw::COMPLETE, record)];
    }
    let pieces: Vec<&[u8]> = record.chunks(max).collect();
    let n = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let code = match (i, n - 1 - i) {
                (0, _) => rdw::FIRST,
                (_, 0) => rdw::LAST,
                _ => rdw::MIDDLE,
            };
            (code, p)
        })
        .collect()
}

/// The file bytes and, for every CTE, (offset of its first byte, length).
pub fn frame(ctes: &[Vec<u8>], l: &Layout) -> (Vec<u8>, Vec<(usize, usize)>) {
    let (bufs, at) = buffers(ctes, l);
    // file offset of each buffer byte's piece: (buffer, start in buffer,
    // file offset), in order
    let mut out = Vec::new();
    let mut pieces: Vec<(usize, usize, usize)> = Vec::new();
    match l.framing {
        Framing::Raw => {
            for (i, b) in bufs.iter().enumerate() {
                pieces.push((i, 0, out.len()));
                out.extend_from_slice(b);
                let size = l.buffer.max(1);
                out.resize(out.len() + (size - b.len() % size) % size, 0);
            }
        }
        Framing::Rdw | Framing::Bdw => {
            // descriptor-framed pieces, then (BDW) packed into blocks
            let mut framed: Vec<(usize, usize, Vec<u8>)> = Vec::new();
            for (i, b) in bufs.iter().enumerate() {
                let mut from = 0;
                for (code, seg) in segments(b, l.long_records && l.framing == Framing::Rdw) {
                    let mut v = build::rdw(seg.len() + rdw::SIZE, code).to_vec();
                    v.extend_from_slice(seg);
                    framed.push((i, from, v));
                    from += seg.len();
                }
            }
            let mut block: Vec<u8> = Vec::new();
            let mut block_pieces: Vec<(usize, usize, usize)> = Vec::new();
            let flush = |out: &mut Vec<u8>,
                         pieces: &mut Vec<(usize, usize, usize)>,
                         block: &mut Vec<u8>,
                         bp: &mut Vec<(usize, usize, usize)>| {
                if block.is_empty() {
                    return;
                }
                let base = out.len() + bdw::SIZE;
                out.extend_from_slice(&build::bdw(block.len() + bdw::SIZE));
                pieces.extend(bp.drain(..).map(|(i, f, o)| (i, f, base + o)));
                out.append(block);
            };
            for (i, from, v) in framed {
                if l.framing == Framing::Rdw {
                    pieces.push((i, from, out.len() + rdw::SIZE));
                    out.extend_from_slice(&v);
                    continue;
                }
                if bdw::SIZE + block.len() + v.len() > bdw::MAX_BLOCK {
                    flush(&mut out, &mut pieces, &mut block, &mut block_pieces);
                }
                block_pieces.push((i, from, block.len() + rdw::SIZE));
                block.extend_from_slice(&v);
            }
            flush(&mut out, &mut pieces, &mut block, &mut block_pieces);
        }
    }
    let spans = at
        .iter()
        .zip(ctes)
        .map(|(&(buf, off), c)| {
            let &(_, from, file) = pieces
                .iter()
                .rfind(|&&(i, from, _)| i == buf && from <= off)
                .expect("every buffer is written");
            (file + off - from, c.len())
        })
        .collect();
    (out, spans)
}

/// EBCDIC text (uppercase letters, digits, '.', blank) for XMIT text units.
fn e(text: &str) -> Vec<u8> {
    crate::records::ebcdic(text)
}

/// One XMIT text unit: key, count 1, length, data.
fn text_unit(key: u16, data: &[u8]) -> Vec<u8> {
    let mut v = key.to_be_bytes().to_vec();
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// A control record (flags X'E0': first and last segment, control).
fn control(name: &str, units: &[Vec<u8>]) -> Vec<u8> {
    let mut body = e(name);
    for u in units {
        body.extend_from_slice(u);
    }
    let mut v = vec![(body.len() + 2) as u8, 0xE0];
    v.extend_from_slice(&body);
    v
}

/// The trace wrapped as a TSO TRANSMIT file: INMR01, INMR02, INMR03
/// control records, the bytes in data segments of at most 253 bytes (flags
/// X'80' first, X'40' last), INMR06.  Text units are a plausible minimum
/// (INMFNODE, INMFUID, INMTNODE, INMTUID, INMLRECL, INMNUMF).
pub fn xmit(trace: &[u8]) -> Vec<u8> {
    let mut out = control(
        "INMR01",
        &[
            text_unit(0x1011, &e("ZOS1")),
            text_unit(0x1012, &e("IBMUSER")),
            text_unit(0x1001, &e("PC")),
            text_unit(0x1002, &e("USER")),
            text_unit(0x0042, &80u16.to_be_bytes()),
            text_unit(0x102F, &1u16.to_be_bytes()),
        ],
    );
    out.extend(control("INMR02", &[text_unit(0x0028, &e("INMCOPY"))]));
    out.extend(control(
        "INMR03",
        &[text_unit(0x0042, &80u16.to_be_bytes())],
    ));
    let chunks: Vec<&[u8]> = trace.chunks(253).collect();
    for (i, c) in chunks.iter().enumerate() {
        let mut flags = 0u8;
        if i == 0 {
            flags |= 0x80;
        }
        if i + 1 == chunks.len() {
            flags |= 0x40;
        }
        out.push((c.len() + 2) as u8);
        out.push(flags);
        out.extend_from_slice(c);
    }
    out.extend(control("INMR06", &[]));
    out
}

/// A 12-byte AMATERSE SPACK header (X'05', variable records, MVS flag,
/// block size 27 998, record length 27 994), then the trace bytes
/// unchanged — not real compressed data; only the header matters.
pub fn terse(trace: &[u8]) -> Vec<u8> {
    let mut out = vec![0x05, 0x01, 0x00, 0x00, 0x01, 0x00];
    out.extend_from_slice(&27_998u16.to_be_bytes());
    out.extend_from_slice(&27_994u32.to_be_bytes());
    out.extend_from_slice(trace);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::cte;

    fn layout(framing: Framing, buffer: usize, header: &[u8]) -> Layout {
        Layout {
            framing,
            buffer,
            header: header.to_vec(),
            long_records: false,
        }
    }

    #[test]
    fn raw_buffers() {
        let a = cte(4, 0, &[1; 2000]); // 2018
        let b = cte(4, 0, &[2; 2000]); // fits: 4036
        let c = cte(4, 0, &[3; 100]); // does not fit: new buffer
        let d = cte(4, 0, &[4; 5000]); // longer than a buffer
        let (out, spans) = frame(&[a, b, c, d], &layout(Framing::Raw, 4096, &[]));
        assert_eq!(
            spans,
            vec![(0, 2018), (2018, 2018), (4096, 118), (8192, 5018)]
        );
        assert_eq!(out.len(), 8192 + 8192);
        assert!(out[4036..4096].iter().all(|&x| x == 0));
        let (empty, _) = frame(&[], &layout(Framing::Raw, 4096, &[]));
        assert!(empty.is_empty());
        let (out, spans) = frame(&[cte(4, 0, b"x")], &layout(Framing::Raw, 64, b"HEAD"));
        assert_eq!(&out[..4], b"HEAD");
        assert_eq!(spans, vec![(4, 19)]);
    }

    #[test]
    fn rdw_records_hold_buffers_and_long_ones_are_spanned() {
        let a = cte(4, 0, b"x");
        let (out, spans) = frame(&[a.clone(), a], &layout(Framing::Rdw, 4096, b"HD"));
        assert_eq!(&out[..4], &[0, 44, 0, 0]);
        assert_eq!(&out[4..6], b"HD");
        assert_eq!(spans, vec![(6, 19), (25, 19)]);
        let big = cte(4, 0, &[7; 60_000]);
        let (out, spans) = frame(
            std::slice::from_ref(&big),
            &layout(Framing::Rdw, 65_536, &[]),
        );
        assert_eq!(out[rdw::SEGMENT.offset], rdw::FIRST);
        let second = 32_756;
        assert_eq!(out[second + rdw::SEGMENT.offset], rdw::LAST);
        assert_eq!(spans, vec![(4, big.len())]);
        assert_eq!(out.len(), big.len() + 8);
        let mut long = layout(Framing::Rdw, 65_536, &[]);
        long.long_records = true;
        let (out, _) = frame(std::slice::from_ref(&big), &long);
        assert_eq!(rdw::LEN.uint(&out), (big.len() + 4) as u64);
    }

    #[test]
    fn bdw_blocks() {
        let small = cte(4, 0, &[0; 10_000]); // 10 018, record 10 022
        let (out, spans) = frame(
            &[small.clone(), small.clone(), small.clone(), small],
            &layout(Framing::Bdw, 10_018, &[]),
        );
        // three records fit in a block (4 + 3 × 10 022 = 30 070)
        assert_eq!(bdw::LEN.uint(&out), 30_070);
        assert_eq!(spans[0], (8, 10_018));
        assert_eq!(spans[3], (30_070 + 8, 10_018));
        let big = cte(4, 0, &[0; 40_000]);
        let (out, spans) = frame(&[big], &layout(Framing::Bdw, 65_536, &[]));
        // spanned in two segments, each in a block of its own
        assert_eq!(bdw::LEN.uint(&out), 32_760);
        assert_eq!(spans[0], (8, 40_018));
    }

    #[test]
    fn wrappers() {
        let x = xmit(&[7; 600]);
        assert_eq!(&x[2..8], &[0xC9, 0xD5, 0xD4, 0xD9, 0xF0, 0xF1]);
        assert_eq!(x[1], 0xE0);
        let t = terse(b"abc");
        assert_eq!(&t[..2], &[0x05, 0x01]);
        assert_eq!(&t[12..], b"abc");
    }
}
