//! The bytes of a capture, behind one interface whatever they come from: a
//! read-only memory map of an uncompressed file (no copy at all), a slice
//! the caller holds, or a stream (gzip decompressor, pipe) read into one
//! reused buffer.
//!
//! Readers see the unconsumed bytes as one slice ([`Source::avail`]), ask
//! for at least n of them with [`Source::ensure`] (a no-op for whole
//! slices; for a stream it moves the unconsumed tail to the front of the
//! buffer and reads more), and [`Source::advance`] past what they used.
//! Packet data handed out borrows the slice, so nothing is copied per
//! packet; a stream buffer grows only to the largest record (records are
//! capped at [`MAX_RECORD`]).

use memmap2::Mmap;
use std::io::{self, Cursor, Read};

/// How much a stream reads at a time.
const CHUNK: usize = 1 << 20;

/// The largest record (pcap record, pcapng block, CTRACE entry) accepted:
/// a length beyond it means a damaged file, and a stream buffer never
/// grows past it.
pub const MAX_RECORD: usize = 16 << 20;

pub(crate) enum Bytes<'a> {
    Map(FileMap),
    Slice(&'a [u8]),
    Stream(Box<dyn Read + Send + 'a>),
}

/// A capture file's read-only map, whose page table entries are made and
/// removed a chunk of [`MAP_CHUNK`] bytes at a time.  Both hold the
/// process's memory map lock, and one pass over a whole file kept the
/// other threads waiting for it: to open their captures, or to grow or
/// free a vector (`mremap`, `munmap`), for up to 30 ms a gigabyte
/// (MAP_POPULATE at the start; the unmap at a file's end, 20–26 ms a
/// gigabyte, stalled the table still being built).
pub(crate) struct FileMap(Mmap);

/// Bytes of a [`FileMap`] mapped at a time.
#[cfg(target_os = "linux")]
const MAP_CHUNK: usize = 8 << 20;

/// Bytes of a [`FileMap`] unmapped at a time: more than mapped, because
/// each unmapping makes the other cores flush their address translations.
#[cfg(target_os = "linux")]
const UNMAP_CHUNK: usize = 64 << 20;

impl FileMap {
    /// Whether [`FileMap::new`] can populate a map in steps
    /// (`MADV_POPULATE_READ`, Linux 5.14 and later; asked once).  Where it
    /// cannot, the caller maps with MAP_POPULATE instead (one pass, as
    /// before): on page-cached input, faulting the pages in as they are
    /// read took a third of the time.
    pub fn populates_in_steps() -> bool {
        #[cfg(target_os = "linux")]
        {
            static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
            *SUPPORTED.get_or_init(|| memmap2::Advice::PopulateRead.is_supported())
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Maps the whole file in the page tables up front, in steps where
    /// [`FileMap::populates_in_steps`] (else `map` was made populated).
    pub fn new(map: Mmap) -> FileMap {
        let _ = map.advise(memmap2::Advice::Sequential);
        #[cfg(target_os = "linux")]
        for at in (0..map.len()).step_by(MAP_CHUNK) {
            let len = MAP_CHUNK.min(map.len() - at);
            if map
                .advise_range(memmap2::Advice::PopulateRead, at, len)
                .is_err()
            {
                break;
            }
        }
        FileMap(map)
    }
}

impl std::ops::Deref for FileMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for FileMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for FileMap {
    /// Unmaps the pages a chunk at a time before the map itself goes.
    fn drop(&mut self) {
        // Measured on Linux only (the lock and the flushes are its).
        #[cfg(target_os = "linux")]
        for at in (0..self.0.len()).step_by(UNMAP_CHUNK) {
            let len = UNMAP_CHUNK.min(self.0.len() - at);
            // SAFETY: nothing borrows the map any more (it is being
            // dropped); on a shared read-only file map DONTNEED only
            // removes page table entries, the file's pages stay cached.
            let dropped = unsafe {
                self.0
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, at, len)
            };
            if dropped.is_err() {
                break;
            }
        }
    }
}

/// [`Source::bytes_kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The whole input is held ([`Bytes::Map`], [`Bytes::Slice`]).
    Whole,
    /// Read a buffer at a time.
    Stream,
}

pub(crate) struct Source<'a> {
    bytes: Bytes<'a>,
    /// Stream buffer (unused for maps and slices).
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in [`Source::slice`].
    pos: usize,
    /// End of the valid bytes in [`Source::slice`].
    end: usize,
    /// Offset in the file of `slice()[0]`.
    base: u64,
    eof: bool,
    /// A read error, kept until the bytes before it are used up.
    error: Option<io::Error>,
}

impl<'a> Source<'a> {
    pub fn new(bytes: Bytes<'a>) -> Source<'a> {
        let end = match &bytes {
            Bytes::Map(m) => m.len(),
            Bytes::Slice(s) => s.len(),
            Bytes::Stream(_) => 0,
        };
        let eof = !matches!(bytes, Bytes::Stream(_));
        Source {
            bytes,
            buf: Vec::new(),
            pos: 0,
            end,
            base: 0,
            eof,
            error: None,
        }
    }

    /// What the bytes come from.
    pub fn bytes_kind(&self) -> Kind {
        match &self.bytes {
            Bytes::Stream(_) => Kind::Stream,
            Bytes::Map(_) | Bytes::Slice(_) => Kind::Whole,
        }
    }

    /// All bytes held: the whole file for maps and slices, the buffer's
    /// valid part for streams.
    #[inline]
    pub fn slice(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => &m[..self.end],
            Bytes::Slice(s) => &s[..self.end],
            Bytes::Stream(_) => &self.buf[..self.end],
        }
    }

    /// The unconsumed bytes held.
    #[inline]
    pub fn avail(&self) -> &[u8] {
        &self.slice()[self.pos..]
    }

    /// Position of the unconsumed bytes in [`Source::slice`].
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// File offset of the next unconsumed byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// True when no more bytes will come than those held.
    #[cfg(test)]
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// The unconsumed bytes as a reader (to decompress them).
    pub fn into_reader(self) -> Box<dyn Read + Send + 'a> {
        let (pos, end) = (self.pos, self.end);
        match self.bytes {
            Bytes::Map(m) => {
                let mut c = Cursor::new(m);
                c.set_position(pos as u64);
                Box::new(c)
            }
            Bytes::Slice(s) => Box::new(&s[pos..end]),
            Bytes::Stream(r) => {
                let mut held = self.buf;
                held.truncate(end);
                held.drain(..pos);
                // Only what is left, not the room the first look made: it
                // stays for the whole read (a gzip stream inflated inline).
                // A pipe's first look is short; a file read as a stream
                // (not mapped) keeps what its first look read, up to 1 MiB.
                held.shrink_to_fit();
                Box::new(Cursor::new(held).chain(r))
            }
        }
    }

    /// Consumes `n` bytes (at most those held).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// Bytes its stream buffer holds (none for maps and slices).
    pub fn buffer_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Makes at least `n` unconsumed bytes available if the input has them;
    /// returns whether it does.  A read error is returned only once the
    /// bytes read before it do not suffice.
    #[inline]
    pub fn ensure(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        self.prefetch(n);
        if self.end - self.pos >= n {
            Ok(true)
        } else if let Some(e) = self.error.take() {
            Err(e)
        } else {
            Ok(false)
        }
    }

    /// Asks the processor to start loading the next record (its header and
    /// the packet headers after it) while the current one is processed.
    /// Records of a mapped file are far apart in memory, and waiting for
    /// the first touch of each was most of the time of reading; one record
    /// of lead covers that wait.  Only a hint: nothing for streams, nothing
    /// on other architectures.
    #[inline]
    pub fn prefetch_next_record(&self) {
        #[cfg(target_arch = "x86_64")]
        if let Bytes::Map(_) | Bytes::Slice(_) = &self.bytes {
            let next = self.avail();
            for at in [0, 64, 4096] {
                if let Some(b) = next.get(at) {
                    // SAFETY: prefetching is a hint that never faults or
                    // changes memory; the address is inside the slice.
                    unsafe {
                        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                            (b as *const u8).cast::<i8>(),
                        )
                    };
                }
            }
        }
    }

    /// Reads (a stream) until `n` unconsumed bytes are held or the input
    /// ends; a read error ends the input and is kept for [`Source::ensure`].
    #[cold]
    pub fn prefetch(&mut self, n: usize) {
        if self.eof || self.end - self.pos >= n {
            return;
        }
        let Bytes::Stream(reader) = &mut self.bytes else {
            return;
        };
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let want = n.max(CHUNK);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.end < n && !self.eof {
            match reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most 3 bytes per call.
    struct Dribble(Vec<u8>, usize);

    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(3).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn stream_and_slice_agree() {
        let data: Vec<u8> = (0..100).collect();
        let mut sources = [
            Source::new(Bytes::Slice(&data)),
            Source::new(Bytes::Stream(Box::new(Dribble(data.clone(), 0)))),
        ];
        for s in &mut sources {
            assert!(s.ensure(10).unwrap());
            assert_eq!(&s.avail()[..10], &data[..10]);
            s.advance(7);
            assert_eq!(s.offset(), 7);
            assert!(s.ensure(50).unwrap());
            assert_eq!(&s.avail()[..50], &data[7..57]);
            assert!(s.ensure(90).unwrap());
            s.advance(90);
            assert_eq!(s.offset(), 97);
            assert!(!s.ensure(4).unwrap());
            assert!(s.ensure(3).unwrap());
            assert_eq!(s.avail(), &data[97..]);
            assert!(s.at_eof());
        }
    }
}
