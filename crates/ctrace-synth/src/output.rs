//! Framing the CTEs into a file, and the packed-file wrappers of the
//! malformed variants.

use crate::Framing;

/// Raw framing: writer buffer size.
pub const BUFFER: usize = 4096;
/// BDW framing: largest block (BDW included) with a standard BDW.
pub const MAX_BLOCK: usize = 32_760;

/// The file bytes and, for every CTE, (offset, length) in them.
pub fn frame(ctes: &[Vec<u8>], framing: Framing) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::new();
    let mut spans = Vec::with_capacity(ctes.len());
    match framing {
        Framing::Raw => {
            // `used`: bytes of the current buffer in use
            let mut used = 0usize;
            for c in ctes {
                if used > 0 && used + c.len() > BUFFER {
                    out.resize(out.len() + BUFFER - used, 0);
                    used = 0;
                }
                spans.push((out.len(), c.len()));
                out.extend_from_slice(c);
                used += c.len();
                if used >= BUFFER {
                    // an entry longer than a buffer: pad to a whole number
                    out.resize(out.len() + (BUFFER - used % BUFFER) % BUFFER, 0);
                    used = 0;
                }
            }
            if used > 0 {
                out.resize(out.len() + BUFFER - used, 0);
            }
        }
        Framing::Rdw => {
            for c in ctes {
                out.extend_from_slice(&((c.len() + 4) as u16).to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                spans.push((out.len(), c.len()));
                out.extend_from_slice(c);
            }
        }
        Framing::Bdw => {
            // current block: start offset in `out`, bytes so far (BDW incl.)
            let mut block: Option<(usize, usize)> = None;
            let close = |out: &mut Vec<u8>, b: Option<(usize, usize)>| {
                if let Some((start, len)) = b {
                    out[start..start + 2].copy_from_slice(&(len as u16).to_be_bytes());
                }
            };
            for c in ctes {
                let rec = c.len() + 4;
                if 4 + rec > MAX_BLOCK {
                    // a block of its own, extended BDW
                    close(&mut out, block.take());
                    out.extend_from_slice(&((4 + rec) as u32 | 0x8000_0000).to_be_bytes());
                } else {
                    if let Some((_, len)) = block {
                        if len + rec > MAX_BLOCK {
                            close(&mut out, block.take());
                        }
                    }
                    if block.is_none() {
                        block = Some((out.len(), 4));
                        out.extend_from_slice(&[0, 0, 0, 0]);
                    }
                    if let Some((_, len)) = &mut block {
                        *len += rec;
                    }
                }
                out.extend_from_slice(&(rec as u16).to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                spans.push((out.len(), c.len()));
                out.extend_from_slice(c);
            }
            close(&mut out, block.take());
        }
    }
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

    #[test]
    fn raw_buffers() {
        let a = cte(4, 0, &[1; 2000]); // 2018
        let b = cte(4, 0, &[2; 2000]); // fits: 4036
        let c = cte(4, 0, &[3; 100]); // does not fit: new buffer
        let d = cte(4, 0, &[4; 5000]); // longer than a buffer
        let (out, spans) = frame(&[a, b, c, d], Framing::Raw);
        assert_eq!(
            spans,
            vec![(0, 2018), (2018, 2018), (4096, 118), (8192, 5018)]
        );
        assert_eq!(out.len(), 8192 + 8192);
        assert!(out[4036..4096].iter().all(|&x| x == 0));
        assert!(out[4096 + 118..8192].iter().all(|&x| x == 0));
        let (empty, _) = frame(&[], Framing::Raw);
        assert!(empty.is_empty());
    }

    #[test]
    fn rdw_records() {
        let a = cte(4, 0, b"x");
        let (out, spans) = frame(&[a.clone(), a], Framing::Rdw);
        assert_eq!(&out[..4], &[0, 23, 0, 0]);
        assert_eq!(spans, vec![(4, 19), (27, 19)]);
    }

    #[test]
    fn bdw_blocks() {
        let small = cte(4, 0, &[0; 10_000]); // 10 018, record 10 022
        let big = cte(4, 0, &[0; 40_000]);
        let (out, spans) = frame(
            &[
                small.clone(),
                small.clone(),
                small.clone(),
                small.clone(),
                big,
                small,
            ],
            Framing::Bdw,
        );
        // three records fit in a block (4 + 3 × 10 022 = 30 070)
        assert_eq!(&out[..4], &[(30_070u16 >> 8) as u8, 30_070u16 as u8, 0, 0]);
        assert_eq!(spans[0], (8, 10_018));
        let b2 = 30_070;
        assert_eq!(
            &out[b2..b2 + 4],
            &[(10_026u16 >> 8) as u8, 10_026u16 as u8, 0, 0]
        );
        let b3 = b2 + 10_026;
        assert_eq!(out[b3] & 0x80, 0x80);
        assert_eq!(
            u32::from_be_bytes(out[b3..b3 + 4].try_into().unwrap()) & 0x7FFF_FFFF,
            40_026
        );
        let b4 = b3 + 40_026;
        assert_eq!(&out[b4 + 2..b4 + 4], &[0, 0]);
        assert_eq!(spans[5].0, b4 + 8);
        assert_eq!(out.len(), b4 + 10_026);
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
