//! Where a [`crate::Reader`] gets its bytes: anything that can hand over the
//! unread bytes a buffer at a time.  A slice in memory ([`SliceInput`]),
//! any [`std::io::Read`] ([`ReadInput`]), or a consumer's own buffer (the
//! capture crate's mapped-or-streamed source, Wireshark's file handle)
//! implementing [`Input`].

use std::io::{self, Read};

/// A source of bytes read front to back.
pub trait Input {
    /// The unread bytes: at least `want` of them, unless the input ends
    /// first (then all that is left; an empty slice at the end).
    fn fill(&mut self, want: usize) -> io::Result<&[u8]>;
    /// Marks the first `n` bytes of what [`Input::fill`] returned as read.
    fn consume(&mut self, n: usize);
}

/// A whole input in memory.
#[derive(Clone, Debug)]
pub struct SliceInput<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> SliceInput<'a> {
    pub fn new(buf: &'a [u8]) -> SliceInput<'a> {
        SliceInput { buf, pos: 0 }
    }
}

impl Input for SliceInput<'_> {
    fn fill(&mut self, _want: usize) -> io::Result<&[u8]> {
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

/// Any reader, through a buffer.
#[derive(Debug)]
pub struct ReadInput<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

/// How much a [`ReadInput`] reads at a time.
pub const READ_CHUNK: usize = 256 * 1024;

impl<R: Read> ReadInput<R> {
    pub fn new(inner: R) -> ReadInput<R> {
        ReadInput::with_prefix(inner, Vec::new())
    }

    /// A reader whose first bytes were already read into `prefix` (e.g. to
    /// recognise the format).
    pub fn with_prefix(inner: R, prefix: Vec<u8>) -> ReadInput<R> {
        ReadInput {
            inner,
            buf: prefix,
            pos: 0,
            eof: false,
        }
    }
}

impl<R: Read> Input for ReadInput<R> {
    fn fill(&mut self, want: usize) -> io::Result<&[u8]> {
        if self.buf.len() - self.pos < want && !self.eof {
            self.buf.drain(..self.pos);
            self.pos = 0;
            while self.buf.len() < want && !self.eof {
                let start = self.buf.len();
                self.buf.resize(start + READ_CHUNK.max(want - start), 0);
                let got = loop {
                    match self.inner.read(&mut self.buf[start..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                match got {
                    Ok(n) => {
                        self.buf.truncate(start + n);
                        self.eof = n == 0;
                    }
                    Err(e) => {
                        self.buf.truncate(start);
                        return Err(e);
                    }
                }
            }
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most 3 bytes per call.
    struct Dribble<'a>(&'a [u8]);

    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(3).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_input_fills_what_is_wanted() {
        let data: Vec<u8> = (0..100).collect();
        let mut r = ReadInput::with_prefix(Dribble(&data[4..]), data[..4].to_vec());
        assert_eq!(r.fill(10).unwrap()[..10], data[..10]);
        r.consume(7);
        assert_eq!(r.fill(50).unwrap()[..50], data[7..57]);
        r.consume(40);
        assert_eq!(r.fill(100).unwrap(), &data[47..]);
        r.consume(53);
        assert!(r.fill(1).unwrap().is_empty());
        let mut s = SliceInput::new(&data);
        s.consume(98);
        assert_eq!(s.fill(5).unwrap(), &[98, 99]);
        s.consume(9);
        assert!(s.fill(1).unwrap().is_empty());
    }
}
