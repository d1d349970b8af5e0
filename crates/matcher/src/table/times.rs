//! A point's time stamps in about 4 bytes a frame instead of 8: each block
//! of [`BLOCK`] frames keeps its smallest time stamp whole and every frame
//! its distance from it in 32 bits (up to 4.29 s).  A block whose frames
//! lie further apart (fewer than 60 frames a second, or a pause in the
//! traffic within it) keeps its time stamps whole, in 8 bytes a frame (the
//! low halves where the offsets go, the high halves aside): a capture that
//! slow has few frames for its length, so the table of a busy capture, the
//! one that counts against the memory bar, stays at 4 bytes a frame.
//!
//! Exact: every time stamp reads back as it was given (the index and the
//! clock fits need them to the nanosecond).

/// Frames per block: the base costs 8 / 256 bytes a frame.
pub const BLOCK: usize = 256;

/// [`Times::base`] of a block whose time stamps are kept whole.
const WHOLE: i64 = i64::MIN;

/// A block whose time stamps lie between `lo` and `hi` keeps them as 4-byte
/// offsets from `lo` (else whole).  The difference as i128: two time stamps
/// of opposite signs far apart overflow i64.
fn as_offsets(lo: i64, hi: i64) -> bool {
    lo != WHOLE && i128::from(hi) - i128::from(lo) <= i128::from(u32::MAX)
}

/// Counts, time stamp after time stamp in frame order, the blocks a
/// [`Times`] of the same time stamps keeps whole: what a key table records
/// for its point's table to be sized before it is read
/// ([`Times::bytes_for`]; `--memory-limit` counts a slow capture's 8 bytes a
/// frame, not 4).
#[derive(Clone, Copy, Debug, Default)]
pub struct WholeBlocks {
    lo: i64,
    hi: i64,
    /// Time stamps in the open block.
    open: usize,
    whole: u64,
    /// Frames pushed, and the last one's time stamp (for [`Self::push_frame`]).
    frames: u64,
    last_ts: i64,
}

impl WholeBlocks {
    /// Frame number `frame` (from 1) at `ts`, the frames missing before it
    /// (a pcapng custom or journal block: a frame without a packet) counted
    /// as the point's table fills them ([`super::TableBuilder`]'s
    /// placeholders: the time stamp of the frame before, 0 before the
    /// first), so that the blocks fall where the table's do.
    pub fn push_frame(&mut self, frame: u32, ts: i64) {
        while self.frames + 1 < u64::from(frame) {
            self.push(self.last_ts);
        }
        self.push(ts);
    }

    /// The next frame's time stamp.
    pub fn push(&mut self, ts: i64) {
        self.frames += 1;
        self.last_ts = ts;
        (self.lo, self.hi) = match self.open {
            0 => (ts, ts),
            _ => (self.lo.min(ts), self.hi.max(ts)),
        };
        self.open += 1;
        if self.open == BLOCK {
            self.whole += u64::from(!as_offsets(self.lo, self.hi));
            self.open = 0;
        }
    }

    /// Sealed blocks kept whole so far.
    pub fn whole(&self) -> u64 {
        self.whole
    }
}

/// Time stamps (ns since the epoch) of frames 1, 2, … in frame order.
#[derive(Clone, Debug, Default)]
pub struct Times {
    /// Per sealed block: its smallest time stamp, or [`WHOLE`].
    base: Vec<i64>,
    /// Per frame of the sealed blocks: its distance from the block's base;
    /// in a block kept whole, the low 32 bits of its time stamp.
    off: Vec<u32>,
    /// The high 32 bits of the time stamps of the blocks kept whole, block
    /// after block (a whole block cost 12 bytes a frame when its time stamps
    /// were kept here entire beside a 4-byte place: review of 2026-12-06).
    high: Vec<u32>,
    /// Per sealed block: how many blocks before it are kept whole (its
    /// high halves start at that times [`BLOCK`]).
    rank: Vec<u32>,
    /// The last block's time stamps (fewer than BLOCK), whole.
    open: Vec<i64>,
}

impl Times {
    pub fn new() -> Times {
        Times::default()
    }

    /// Room for `frames` frames.
    pub fn with_capacity(frames: usize) -> Times {
        let mut t = Times::new();
        t.reserve_exact(frames);
        t
    }

    /// Bytes `frames` frames take at most when `whole` of their blocks keep
    /// their time stamps whole ([`WholeBlocks`] counts them; at most
    /// [`Times::blocks`]) and the others are kept as offsets.  The high
    /// halves grow as a `Vec` does, by doubling: up to twice what they hold.
    pub fn bytes_for(frames: usize, whole: usize) -> usize {
        use std::mem::size_of;
        let blocks = Times::blocks(frames);
        let high = whole
            .min(blocks)
            .saturating_mul(2 * BLOCK * size_of::<u32>());
        frames
            .saturating_mul(size_of::<u32>())
            .saturating_add(high)
            .saturating_add(blocks * (size_of::<i64>() + size_of::<u32>()))
            .saturating_add(BLOCK * size_of::<i64>())
    }

    /// Blocks of `frames` frames, the last one open (what [`Times::bytes_for`]
    /// counts when nothing says how many are kept whole: all of them).
    pub fn blocks(frames: usize) -> usize {
        frames / BLOCK + 1
    }

    /// Frames so far.
    pub fn len(&self) -> usize {
        self.off.len() + self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the next frame's time stamp.
    pub fn push(&mut self, ts: i64) {
        if self.open.len() == self.open.capacity() {
            self.open.reserve_exact(BLOCK - self.open.len());
        }
        self.open.push(ts);
        if self.open.len() == BLOCK {
            self.seal();
        }
    }

    /// Places the open block's time stamps once it is full (every sealed
    /// block is: frame i's block is i / BLOCK).
    fn seal(&mut self) {
        let (Some(&lo), Some(&hi)) = (self.open.iter().min(), self.open.iter().max()) else {
            return;
        };
        self.rank.push((self.high.len() / BLOCK) as u32);
        if as_offsets(lo, hi) {
            self.base.push(lo);
            self.off
                .extend(self.open.iter().map(|&t| t.wrapping_sub(lo) as u32));
        } else {
            self.base.push(WHOLE);
            self.off.extend(self.open.iter().map(|&t| t as u64 as u32));
            self.high
                .extend(self.open.iter().map(|&t| (t as u64 >> 32) as u32));
        }
        self.open.clear();
    }

    /// Time stamp of frame `i + 1` (`i`: its index, as in `PointTable::recs`).
    #[inline]
    pub fn get(&self, i: u32) -> i64 {
        let i = i as usize;
        match self.base.get(i / BLOCK) {
            Some(&WHOLE) => {
                let at = self.rank[i / BLOCK] as usize * BLOCK + i % BLOCK;
                (u64::from(self.high[at]) << 32 | u64::from(self.off[i])) as i64
            }
            Some(&base) => base.wrapping_add(i64::from(self.off[i])),
            None => self.open[i - self.off.len()],
        }
    }

    /// The time stamps in frame order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = i64> + '_ {
        (0..self.len() as u32).map(|i| self.get(i))
    }

    /// The time stamps whole, 8 bytes each (what the index builder takes).
    pub fn to_vec(&self) -> Vec<i64> {
        let mut v = Vec::with_capacity(self.len());
        v.extend(self.iter());
        v
    }

    /// Room for `more` frames without growing.
    pub fn reserve_exact(&mut self, more: usize) {
        self.off.reserve_exact(more);
        self.base.reserve_exact(more / BLOCK + 1);
        self.rank.reserve_exact(more / BLOCK + 1);
    }

    /// Frames that fit before the next growth.
    pub fn capacity(&self) -> usize {
        self.off.capacity()
    }

    /// Gives back the room not used.
    pub fn shrink_to_fit(&mut self) {
        self.open.shrink_to_fit();
        self.off.shrink_to_fit();
        self.base.shrink_to_fit();
        self.rank.shrink_to_fit();
        self.high.shrink_to_fit();
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        (self.off.capacity() + self.high.capacity() + self.rank.capacity()) * size_of::<u32>()
            + (self.base.capacity() + self.open.capacity()) * size_of::<i64>()
    }
}

impl FromIterator<i64> for Times {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Times {
        let mut t = Times::new();
        for ts in iter {
            t.push(ts);
        }
        t.shrink_to_fit();
        t
    }
}

/// Equal when the time stamps are.
impl PartialEq for Times {
    fn eq(&self, other: &Times) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Times {}

impl<const N: usize> PartialEq<[i64; N]> for Times {
    fn eq(&self, other: &[i64; N]) -> bool {
        self.len() == N && self.iter().eq(other.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ts: &[i64]) {
        let t: Times = ts.iter().copied().collect();
        assert_eq!(t.len(), ts.len());
        for (i, &x) in ts.iter().enumerate() {
            assert_eq!(t.get(i as u32), x, "frame {i}");
        }
        assert_eq!(t.to_vec(), ts);
        // Before shrinking, and growing again after it.
        let mut grown = Times::new();
        for (k, &x) in ts.iter().enumerate() {
            grown.push(x);
            if k % 100 == 0 {
                grown.shrink_to_fit();
            }
        }
        assert!(grown.iter().eq(ts.iter().copied()));
        assert_eq!(grown, t);
        // The count a key table records is the blocks kept whole, and the
        // size from it bounds the heap.
        let mut w = WholeBlocks::default();
        ts.iter().for_each(|&x| w.push(x));
        assert_eq!(w.whole() as usize, t.high.len() / BLOCK);
        let whole = w.whole() as usize;
        assert!(t.heap_bytes() <= Times::bytes_for(ts.len(), whole));
        assert!(t.heap_bytes() <= Times::bytes_for(ts.len(), Times::blocks(ts.len())));
    }

    #[test]
    fn dense_blocks_take_four_bytes_a_frame() {
        let ts: Vec<i64> = (0..10 * BLOCK as i64 + 7)
            .map(|i| 1_700_000_000_000_000_000 + i * 1_000_003)
            .collect();
        check(&ts);
        let t: Times = ts.iter().copied().collect();
        assert!(t.high.is_empty());
        assert_eq!(t.open.len(), 7);
        assert!(t.heap_bytes() <= Times::bytes_for(ts.len(), 0));
        assert!(t.heap_bytes() < ts.len() * 4 + ts.len() / 16);
    }

    #[test]
    fn sparse_out_of_order_and_extreme_time_stamps_read_back() {
        // A pause within a block, frames out of order, the ends of i64.
        let mut ts: Vec<i64> = (0..3 * BLOCK as i64).map(|i| i * 1_000_000).collect();
        ts[300] += 60_000_000_000;
        ts[301] -= 5_000_000_000;
        ts.push(i64::MIN);
        ts.push(i64::MAX);
        ts.push(-1);
        check(&ts);
        check(&[]);
        check(&[i64::MIN]);
        check(&[u32::MAX as i64, 0, -(u32::MAX as i64)]);
        // Exactly 2^32 - 1 apart fits; one more does not.
        check(&[5, 5 + u32::MAX as i64]);
        check(&[5, 6 + u32::MAX as i64]);
    }

    #[test]
    fn a_slow_capture_takes_eight_bytes_a_frame() {
        // 10 frames a second: every block spans 25.6 s and is kept whole;
        // between them a dense block, then whole ones again (ranks).
        let mut ts: Vec<i64> = (0..4 * BLOCK as i64)
            .map(|i| 1_700_000_000_000_000_000 + i * 100_000_000)
            .collect();
        let last = *ts.last().unwrap();
        ts.extend((1..=BLOCK as i64).map(|i| last + i * 1000));
        let last = *ts.last().unwrap();
        ts.extend((1..=2 * BLOCK as i64 + 9).map(|i| last - i * 77_000_000_000));
        check(&ts);
        let t: Times = ts.iter().copied().collect();
        assert_eq!(t.high.len(), 6 * BLOCK);
        assert!(
            t.heap_bytes() <= ts.len() * 8 + ts.len() / 16 + 8 * BLOCK,
            "{} bytes for {} frames",
            t.heap_bytes(),
            ts.len()
        );
    }
}
