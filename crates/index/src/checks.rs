//! FRAME_CHECKS: one u32 check per frame, for every point in order (point 0's
//! PACKETS checks, then point 1's, …; frame f of a point is its element f-1).
//! No header: the section is exactly 4 × ΣPACKETS bytes.
//!
//! The check identifies a frame as Wireshark shows it, from what the
//! post-dissector has at hand (no file name, no file offset):
//!
//! ```text
//! h = FNV-1a 32 (basis 0x811C9DC5, prime 0x01000193) over the bytes
//!       ts_ns  as 8 bytes little-endian (absolute time stamp, ns since the epoch)
//!       caplen as 4 bytes little-endian (captured length)
//!       the first min(32, caplen) bytes of the frame
//! check = fmix32(h):  h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13;
//!                     h *= 0xC2B2AE35; h ^= h >> 16        (wrapping u32)
//! ```
//! The fingerprint of a point (in POINTS) is FNV-1a 64 (basis
//! 0xCBF29CE484222325, prime 0x100000001B3) over its checks, each as 4 bytes
//! little-endian, then the number of checks as 8 bytes little-endian.

use crate::{le32, Error, Result, Sec};

/// Bytes of the frame that go into its check (fewer when the frame is
/// shorter).
pub const CHECK_PREFIX_LEN: usize = 32;

const FNV32_BASIS: u32 = 0x811C_9DC5;
const FNV32_PRIME: u32 = 0x0100_0193;
const FNV64_BASIS: u64 = 0xCBF2_9CE4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01B3;

fn fnv32(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(FNV32_PRIME);
    }
    h
}

fn fnv64(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV64_PRIME);
    }
    h
}

/// The check of a frame: time stamp (ns since the Unix epoch, as Wireshark
/// shows it), captured length, and its first bytes (`prefix`: the frame's
/// first min(32, caplen) bytes; bytes past 32 are ignored).
pub fn frame_check(ts_ns: i64, caplen: u32, prefix: &[u8]) -> u32 {
    let p = &prefix[..prefix.len().min(CHECK_PREFIX_LEN)];
    let mut h = fnv32(FNV32_BASIS, &ts_ns.to_le_bytes());
    h = fnv32(h, &caplen.to_le_bytes());
    h = fnv32(h, p);
    fmix32(h)
}

/// [`frame_check`] of four frames at once (each `(ts_ns, caplen, prefix)`),
/// the same values.  FNV-1a is one chain of multiplications per frame, each
/// waiting for the one before (some 4 cycles a byte, 44 bytes a frame);
/// the four chains interleaved here keep the multiplier busy instead: what
/// a reader that has several frames at hand saves.
// Indexes, not iterators: byte i of the four frames, one after the other, is
// the interleaving itself.
#[allow(clippy::needless_range_loop)]
pub fn frame_checks4(frames: [(i64, u32, &[u8]); 4]) -> [u32; 4] {
    let head = frames.map(|(ts, caplen, _)| {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&ts.to_le_bytes());
        b[8..].copy_from_slice(&caplen.to_le_bytes());
        b
    });
    let prefix = frames.map(|(_, _, p)| &p[..p.len().min(CHECK_PREFIX_LEN)]);
    let common = prefix.iter().map(|p| p.len()).min().unwrap_or(0);
    let mut body = [[0u8; CHECK_PREFIX_LEN]; 4];
    for (b, p) in body.iter_mut().zip(prefix) {
        b[..common].copy_from_slice(&p[..common]);
    }
    let mut h = [FNV32_BASIS; 4];
    for i in 0..12 {
        for j in 0..4 {
            h[j] = (h[j] ^ head[j][i] as u32).wrapping_mul(FNV32_PRIME);
        }
    }
    for i in 0..common {
        for j in 0..4 {
            h[j] = (h[j] ^ body[j][i] as u32).wrapping_mul(FNV32_PRIME);
        }
    }
    let mut out = [0u32; 4];
    for j in 0..4 {
        out[j] = fmix32(fnv32(h[j], &prefix[j][common..]));
    }
    out
}

/// murmur3's finaliser: every input bit reaches every output bit.
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^= h >> 16;
    h
}

/// The fingerprint of a point's frame checks (stored in POINTS).
pub fn checks_fingerprint<I: IntoIterator<Item = u32>>(checks: I) -> u64 {
    let mut h = FNV64_BASIS;
    let mut n = 0u64;
    for c in checks {
        h = fnv64(h, &c.to_le_bytes());
        n += 1;
    }
    fnv64(h, &n.to_le_bytes())
}

/// Checks FRAME_CHECKS against the points' (packets, fingerprint, label):
/// length, and each point's fingerprint.
pub(crate) fn check<'a>(sec: Sec<'a>, points: &[(u32, u64, &str)]) -> Result<&'a [u8]> {
    let total: u64 = points.iter().map(|p| p.0 as u64).sum();
    sec.exact_len(total * 4, "the frame checks of all points")?;
    let mut at = 0usize;
    for (i, &(packets, fingerprint, label)) in points.iter().enumerate() {
        let n = packets as usize * 4;
        let slice = &sec.bytes[at..at + n];
        let f = checks_fingerprint(slice.chunks_exact(4).map(|c| le32(c, 0)));
        if f != fingerprint {
            return Err(Error::Invalid {
                offset: sec.base + at as u64,
                what: sec.what,
                detail: format!(
                    "the {packets} checks of point {i} ({label}) have fingerprint 0x{f:016X}, \
                     POINTS says 0x{fingerprint:016X}: the section is damaged"
                ),
            });
        }
        at += n;
    }
    Ok(sec.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Pinned (computed independently from the description in the module
        // documentation): the post-dissector and the indexer must agree forever.
        assert_eq!(frame_check(0, 0, &[]), 0x1411_1D98);
        assert_eq!(
            frame_check(1_700_000_000_123_456_789, 60, &[0xAA; 60]),
            frame_check(1_700_000_000_123_456_789, 60, &[0xAA; 32])
        );
        let base = frame_check(1_700_000_000_123_456_789, 60, &[0xAA; 32]);
        assert_eq!(base, 0x9BA1_BBB6);
        // Each input matters.
        assert_ne!(
            frame_check(1_700_000_000_123_456_790, 60, &[0xAA; 32]),
            base
        );
        assert_ne!(
            frame_check(1_700_000_000_123_456_789, 61, &[0xAA; 32]),
            base
        );
        let mut p = [0xAA; 32];
        p[31] = 0xAB;
        assert_ne!(frame_check(1_700_000_000_123_456_789, 60, &p), base);
        assert_ne!(frame_check(1_700_000_000_123_456_789, 60, &p[..31]), base);
        assert_eq!(checks_fingerprint([]), 0xA8C7_F832_281A_39C5);
        assert_eq!(checks_fingerprint([1, 2, 3]), 0xD40C_AE13_E35E_D256);
        assert_ne!(checks_fingerprint([1, 2, 3]), checks_fingerprint([1, 3, 2]));
        assert_ne!(checks_fingerprint([0]), checks_fingerprint([0, 0]));
    }

    #[test]
    fn four_at_once_are_the_single_checks() {
        let bytes: Vec<u8> = (0..100u32).map(|i| (i * 37 + 11) as u8).collect();
        let lens = [0usize, 1, 5, 31, 32, 33, 60, 100];
        for (k, &a) in lens.iter().enumerate() {
            for &b in &lens {
                let frames: [(i64, u32, &[u8]); 4] = [
                    (1_700_000_000_123_456_789 + k as i64, a as u32, &bytes[..a]),
                    (-5, b as u32, &bytes[3..3 + b.min(97)]),
                    (0, 60, &bytes[..32]),
                    (i64::MAX, u32::MAX, &bytes[7..7 + a.min(93)]),
                ];
                let single = frames.map(|(t, c, p)| frame_check(t, c, p));
                assert_eq!(frame_checks4(frames), single, "{a} {b}");
            }
        }
    }

    #[test]
    fn spread() {
        // Consecutive time stamps of otherwise equal frames: no collisions,
        // about half the bits differ between neighbours.
        let mut seen = std::collections::HashSet::new();
        let mut flips = 0u64;
        let mut prev = frame_check(0, 64, &[0; 32]);
        for t in 1..20_000i64 {
            let c = frame_check(t * 1000, 64, &[0; 32]);
            assert!(seen.insert(c));
            flips += (c ^ prev).count_ones() as u64;
            prev = c;
        }
        let mean = flips as f64 / 19_999.0;
        assert!((15.0..17.0).contains(&mean), "{mean}");
    }

    #[test]
    fn section() {
        let checks = [5u32, 6, 7];
        let mut v = Vec::new();
        for c in checks {
            v.extend_from_slice(&c.to_le_bytes());
        }
        let f0 = checks_fingerprint([5, 6]);
        let f1 = checks_fingerprint([7]);
        let sec = Sec {
            bytes: &v,
            base: 200,
            what: "FRAME_CHECKS section",
        };
        assert!(check(sec, &[(2, f0, "a"), (1, f1, "b")]).is_ok());
        let e = check(sec, &[(2, f0, "a"), (1, f0, "b")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("FRAME_CHECKS section at byte 208: the 1 checks of point 1 (b)"),
            "{e}"
        );
        assert!(matches!(
            check(sec, &[(2, f0, "a"), (2, f1, "b")]),
            Err(Error::Truncated {
                needed: 16,
                available: 12,
                ..
            })
        ));
    }
}
