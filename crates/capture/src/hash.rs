//! The one small hash function of the crate: flow hashes, payload digests,
//! DNS question hashes and the tiered matching hashes of
//! [`PacketKey`](crate::keys::PacketKey) all go through it.
//!
//! Design: a multiply–rotate fold over little-endian 64-bit words (the
//! FxHash idea: `h = rotl((h ^ w) · K, 26)`), then the 64-bit finaliser of
//! MurmurHash3 (`fmix64`) so that every input bit reaches every output bit.
//! Bytes are read as little-endian words whatever the machine, the length is
//! folded in after the last word, and the seeds are constants: the same
//! input gives the same value on every machine and in every run, so an index
//! written once can be compared with keys extracted later.  It is fast
//! (a few cycles per word, nothing allocated) and good enough for hash
//! tables and for telling packets apart; it is not cryptographic and makes
//! no attempt to resist crafted collisions — a matcher verifies candidates
//! with further fields anyway.
//!
//! Written for this crate (no dependency): `std::hash` gives no stability
//! promise across Rust versions, which index files need.

/// 2^64 / φ, odd: the multiplier of the fold.
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Seed of flow hashes (5-tuples).
pub const SEED_FLOW: u64 = 0x243F_6A88_85A3_08D3;
/// Seed of payload digests.
pub const SEED_DIGEST: u64 = 0x1319_8A2E_0370_7344;
/// Seed of DNS question hashes.
pub const SEED_DNS: u64 = 0xA409_3822_299F_31D0;
/// Seed of the NAT-tolerant packet hash.
pub const SEED_NAT: u64 = 0x082E_FA98_EC4E_6C89;
/// Seed of the content packet hash.
pub const SEED_CONTENT: u64 = 0x4528_21E6_38D0_1377;

/// MurmurHash3's 64-bit finaliser: a bijection that mixes every bit into
/// every other.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h
}

/// Incremental hasher: feed words and byte strings, then [`finish`].
///
/// [`finish`]: Hasher::finish
#[derive(Clone, Copy, Debug)]
pub struct Hasher(u64);

impl Hasher {
    /// A hasher started from `seed`.
    #[inline]
    pub const fn new(seed: u64) -> Hasher {
        Hasher(seed)
    }

    /// Folds one 64-bit word in.
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(K).rotate_left(26);
    }

    /// Folds a byte string in: its little-endian 8-byte words (the last one
    /// zero-padded), then its length, so that "ab" and "ab\0" differ.
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.word(u64::from_le_bytes(a));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut a = [0u8; 8];
            a[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(a));
        }
        self.word(b.len() as u64);
    }

    /// The 64-bit hash of what was fed.
    #[inline]
    pub fn finish(&self) -> u64 {
        fmix64(self.0)
    }

    /// A 32-bit hash of what was fed (both halves of the 64-bit one).
    #[inline]
    pub fn finish32(&self) -> u32 {
        let h = self.finish();
        (h ^ (h >> 32)) as u32
    }
}

/// The 32-bit digest of a payload prefix (see
/// [`PacketKey::digest`](crate::keys::PacketKey::digest)): 0 for no bytes.
#[inline]
pub fn digest32(b: &[u8]) -> u32 {
    if b.is_empty() {
        return 0;
    }
    let mut h = Hasher::new(SEED_DIGEST);
    h.bytes(b);
    match h.finish32() {
        // 0 means "no payload"; a non-empty payload never maps to it.
        0 => 1,
        d => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_values() {
        // Index files store these: a change here is a format change.
        let mut h = Hasher::new(SEED_FLOW);
        h.bytes(b"abc");
        assert_eq!(h.finish(), {
            let mut g = Hasher::new(SEED_FLOW);
            g.word(u64::from_le_bytes([b'a', b'b', b'c', 0, 0, 0, 0, 0]));
            g.word(3);
            g.finish()
        });
        assert_eq!(fmix64(0), 0);
        assert_eq!(digest32(b""), 0);
        assert_ne!(digest32(b"a"), 0);
        assert_eq!(digest32(b"hello world"), digest32(b"hello world"));
    }

    #[test]
    fn length_and_padding_matter() {
        assert_ne!(digest32(b"ab"), digest32(b"ab\0"));
        assert_ne!(digest32(&[0; 8]), digest32(&[0; 16]));
        let a: Vec<u8> = (0..64).collect();
        let mut b = a.clone();
        b[63] ^= 1;
        assert_ne!(digest32(&a), digest32(&b));
        b = a.clone();
        b[0] ^= 0x80;
        assert_ne!(digest32(&a), digest32(&b));
    }

    #[test]
    fn spreads_small_inputs() {
        // 65 536 two-byte inputs into 32 bits: collisions would show poor
        // mixing (the birthday bound expects about 0.5).
        let mut seen = std::collections::HashSet::new();
        let collisions = (0..=u16::MAX)
            .filter(|i| !seen.insert(digest32(&i.to_be_bytes())))
            .count();
        assert!(collisions <= 4, "{collisions} collisions");
        // Every output bit flips for about half of single-bit input changes.
        let base = {
            let mut h = Hasher::new(SEED_FLOW);
            h.word(0x0102_0304_0506_0708);
            h.finish()
        };
        let mut flips = [0u32; 64];
        for bit in 0..64 {
            let mut h = Hasher::new(SEED_FLOW);
            h.word(0x0102_0304_0506_0708 ^ (1 << bit));
            let d = h.finish() ^ base;
            for (o, f) in flips.iter_mut().enumerate() {
                *f += ((d >> o) & 1) as u32;
            }
        }
        assert!(flips.iter().all(|&f| (16..=48).contains(&f)), "{flips:?}");
    }
}
