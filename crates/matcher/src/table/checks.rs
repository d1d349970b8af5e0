//! The index's per-frame checks of a point ([`index::frame_check`]), kept
//! out of the heap while the point is matched: nothing reads them between
//! reading the capture and writing the index but the test for the same
//! capture given twice, which a hash of them answers.  Past
//! [`SPILL_FRAMES`] frames they go, a piece at a time, to an unnamed
//! temporary file (`tempfile::tempfile`: in `TMPDIR`, else /tmp; it
//! vanishes with the process) and are read back when the index takes them.
//! Without a temporary file (none can be made) they stay in memory: slower
//! to nothing, only larger.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

/// Checks held in memory before they go to the file (256 KiB), and the
/// most a capture keeps in memory without a file.
pub const SPILL_FRAMES: usize = 1 << 16;

/// Bytes moved to or from the file per call.
const IO_BYTES: usize = 16 << 10;

#[derive(Debug)]
pub struct Checks {
    /// The checks not in the file, the last ones (all of them without one).
    mem: Vec<u32>,
    /// The first `spilled` checks, native byte order (this process reads
    /// them back).
    file: Option<File>,
    spilled: usize,
    /// No temporary file could be made: everything stays in `mem`.
    in_memory: bool,
    /// FNV-1a 64 over every check, in order.
    hash: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

impl Checks {
    pub fn new() -> Checks {
        Checks {
            mem: Vec::new(),
            file: None,
            spilled: 0,
            in_memory: false,
            hash: FNV_OFFSET,
        }
    }

    /// Frames so far.
    pub fn len(&self) -> usize {
        self.spilled + self.mem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the next frame's check.
    pub fn push(&mut self, check: u32) {
        self.hash = (self.hash ^ u64::from(check)).wrapping_mul(FNV_PRIME);
        if self.mem.len() == self.mem.capacity() && !self.in_memory {
            if self.mem.len() >= SPILL_FRAMES {
                self.spill();
            }
            if self.mem.capacity() == 0 {
                self.mem.reserve_exact(SPILL_FRAMES);
            }
        }
        self.mem.push(check);
    }

    /// Whether a temporary file can be made now (one is made and dropped):
    /// what sizes a table before it is read ([`super::TableBuilder::bytes_for`]).
    pub fn file_possible() -> bool {
        tempfile::tempfile().is_ok()
    }

    /// No temporary file could be made (or written): the checks stayed in
    /// memory, 4 bytes a frame more than the heap figures assume.
    pub fn without_file(&self) -> bool {
        self.in_memory
    }

    /// Moves the checks in memory to the file (made on first use).
    fn spill(&mut self) {
        if self.mem.is_empty() || self.in_memory {
            return;
        }
        if self.file.is_none() {
            self.file = tempfile::tempfile().ok();
        }
        let written = match &mut self.file {
            Some(f) => write_all(f, &self.mem).is_ok(),
            None => false,
        };
        if written {
            self.spilled += self.mem.len();
            self.mem.clear();
        } else {
            // No file, or it failed (a full disk): memory it is, from here
            // on, with what the file took before read back.
            self.in_memory = true;
            if let Ok(mut all) = self.read_spilled() {
                all.append(&mut self.mem);
                self.mem = all;
                self.spilled = 0;
                self.file = None;
            }
        }
    }

    /// Done adding: what is left in memory goes to the file if one is in
    /// use (a small capture's checks stay in memory).
    pub fn finish(&mut self) {
        if self.file.is_some() {
            self.spill();
        }
        self.mem.shrink_to_fit();
    }

    /// All the checks, in frame order.
    pub fn to_vec(&self) -> std::io::Result<Vec<u32>> {
        let mut v = self.read_spilled()?;
        v.extend_from_slice(&self.mem);
        Ok(v)
    }

    fn read_spilled(&self) -> std::io::Result<Vec<u32>> {
        let mut v = Vec::with_capacity(self.len());
        let Some(f) = &self.file else {
            return Ok(v);
        };
        // Positioned reads: the file's own position stays at its end.
        let mut buf = [0u8; IO_BYTES];
        let end = self.spilled as u64 * 4;
        let mut at = 0u64;
        while at < end {
            let n = (end - at).min(IO_BYTES as u64) as usize;
            f.read_exact_at(&mut buf[..n], at)?;
            v.extend(
                buf[..n]
                    .chunks_exact(4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            );
            at += n as u64;
        }
        Ok(v)
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.mem.capacity() * std::mem::size_of::<u32>()
    }

    /// Of [`Self::heap_bytes`], the room not filled yet.
    pub fn room_bytes(&self) -> usize {
        (self.mem.capacity() - self.mem.len()) * std::mem::size_of::<u32>()
    }
}

impl Default for Checks {
    fn default() -> Checks {
        Checks::new()
    }
}

fn write_all(f: &mut File, checks: &[u32]) -> std::io::Result<()> {
    let mut buf = [0u8; IO_BYTES];
    for piece in checks.chunks(IO_BYTES / 4) {
        for (b, c) in buf.chunks_exact_mut(4).zip(piece) {
            b.copy_from_slice(&c.to_ne_bytes());
        }
        f.write_all(&buf[..piece.len() * 4])?;
    }
    Ok(())
}

/// The same checks: by their hash, then (equal hashes: the same capture
/// given twice, or a coincidence) one by one.  Not readable back: not the
/// same (the index would fail to be written anyway).
impl PartialEq for Checks {
    fn eq(&self, other: &Checks) -> bool {
        self.len() == other.len()
            && self.hash == other.hash
            && matches!((self.to_vec(), other.to_vec()), (Ok(a), Ok(b)) if a == b)
    }
}

impl<const N: usize> PartialEq<[u32; N]> for Checks {
    fn eq(&self, other: &[u32; N]) -> bool {
        matches!(self.to_vec(), Ok(v) if v == other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(n: u32, salt: u32) -> Checks {
        let mut c = Checks::new();
        for i in 0..n {
            c.push(i.wrapping_mul(2_654_435_761) ^ salt);
        }
        c.finish();
        c
    }

    #[test]
    fn spilled_checks_read_back_in_order() {
        for n in [
            0,
            1,
            1000,
            SPILL_FRAMES as u32,
            3 * SPILL_FRAMES as u32 + 17,
        ] {
            let c = checks(n, 0);
            let want: Vec<u32> = (0..n).map(|i| i.wrapping_mul(2_654_435_761)).collect();
            assert_eq!(c.len(), n as usize);
            assert_eq!(c.to_vec().unwrap(), want, "{n}");
            // Twice: reading leaves the file as it was.
            assert_eq!(c.to_vec().unwrap(), want, "{n}");
            if n as usize > SPILL_FRAMES {
                assert!(c.file.is_some());
                assert_eq!(c.heap_bytes(), 0, "all in the file once finished");
            } else {
                assert!(c.file.is_none(), "a small capture stays in memory");
            }
        }
    }

    #[test]
    fn equal_only_with_the_same_checks() {
        let n = 2 * SPILL_FRAMES as u32 + 5;
        assert!(checks(n, 0) == checks(n, 0));
        assert!(checks(n, 0) != checks(n, 1));
        assert!(checks(n, 0) != checks(n - 1, 0));
        assert!(checks(3, 0) == checks(3, 0));
        assert!(Checks::new() == Checks::new());
    }

    #[test]
    fn without_a_file_everything_stays_in_memory() {
        let mut c = Checks::new();
        c.in_memory = true;
        for i in 0..3 * SPILL_FRAMES as u32 {
            c.push(i);
        }
        c.finish();
        assert!(c.file.is_none());
        assert_eq!(
            c.to_vec().unwrap(),
            (0..3 * SPILL_FRAMES as u32).collect::<Vec<_>>()
        );
    }
}
