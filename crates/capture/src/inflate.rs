//! gzip-compressed captures decompressed on a thread of their own.
//!
//! Inflating is sequential (a gzip member has no point where decoding can
//! start but its beginning), so one compressed capture cannot be cut into
//! pieces as an uncompressed one is (`Capture::pieces`).  What can run
//! beside it is everything after it: records, keys, the table.  Read
//! inline, the two took turns on one core (`pktmatch keys` of a 590,000-frame
//! snaplen-256 capture gzipped at level 1: 1.2–1.6 s, where `zcat` alone
//! takes 0.77 s); here a thread inflates a few chunks ahead of the reader
//! (docs/keys.md, "Compressed captures").
//!
//! The reader sees exactly the bytes, and the error, that inflating inline
//! gives, in the same order: a chunk ends where the decoder's output
//! stopped, an error comes after the bytes read before it, and the end of
//! the stream is a message of its own, so a thread that stops any other
//! way is an error, never an early end of the capture.  A panic in the
//! decoder (a bug; inline it would have unwound through the reader) is
//! such an error, at the end of the last whole chunk: the chunk being
//! filled is lost with it.
//!
//! Only a regular file's stream: a pipe's is inflated inline, so that what
//! a writer has sent so far is read at once (a capture still being
//! written) and nothing keeps the pipe open after the capture is dropped.

use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes a chunk holds.
const CHUNK: usize = 256 << 10;

/// Chunks inflated ahead of the reader: the most held at once is this,
/// one being filled and the reader's own (1.5 MiB).
const AHEAD: usize = 4;

/// The most a stream inflated on a thread of its own holds in chunks:
/// those ahead, the one being filled and the reader's own.
pub(crate) const AHEAD_BYTES: usize = (AHEAD + 2) * CHUNK;

/// A stream of compressed bytes.
pub(crate) type Compressed<'a> = Box<dyn Read + Send + 'a>;

/// How a capture's gzip stream is inflated: [`inline`] or [`ahead`]; the
/// inflated stream, and whether a thread of its own inflates it.
pub(crate) type Gunzip<'a> = fn(Compressed<'a>) -> (Compressed<'a>, bool);

/// Inflated as the reader asks, on its thread (a capture borrowed from
/// memory, which a thread could outlive, or a pipe's).
pub(crate) fn inline(compressed: Compressed<'_>) -> (Compressed<'_>, bool) {
    (Box::new(MultiGzDecoder::new(compressed)), false)
}

/// Inflated on a thread of its own, [`AHEAD`] chunks ahead; inline if the
/// system will not start a thread.
pub(crate) fn ahead(compressed: Compressed<'static>) -> (Compressed<'static>, bool) {
    ahead_of(MultiGzDecoder::new(compressed))
}

/// Any reader read on a thread of its own (tests give it others), and
/// whether it is.
fn ahead_of<R: Read + Send + 'static>(source: R) -> (Compressed<'static>, bool) {
    // The reader is handed over once the thread runs, so that it is still
    // here if the thread cannot start.
    let (give, take) = sync_channel::<R>(1);
    let (full_tx, full) = sync_channel(AHEAD);
    let (empty, empty_rx) = sync_channel(AHEAD + 2);
    let started = std::thread::Builder::new()
        .name("pktmatch gunzip".into())
        .spawn(move || {
            if let Ok(source) = take.recv() {
                produce(source, &full_tx, &empty_rx);
            }
        });
    match started {
        Ok(thread) => match give.send(source) {
            Ok(()) => (Box::new(Ahead::new(full, empty, Some(thread))), true),
            Err(back) => (Box::new(back.0), false),
        },
        Err(_) => (Box::new(source), false),
    }
}

/// What the inflating thread sends.
enum Chunk {
    Bytes(Vec<u8>),
    /// The stream ended (after every chunk before it).
    End,
    Failed(io::Error),
}

/// The inflating thread's loop: fills a chunk (one given back by the
/// reader, else a new one) and sends it, until the stream ends, fails or
/// the reader is gone.  A panic is sent as an error.
fn produce<R: Read>(mut source: R, full: &SyncSender<Chunk>, empty: &Receiver<Vec<u8>>) {
    let run = std::panic::AssertUnwindSafe(|| loop {
        let mut chunk = empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let last = match fill(&mut source, &mut chunk) {
            Some(e) => Some(Chunk::Failed(e)),
            None if chunk.is_empty() => Some(Chunk::End),
            None => None,
        };
        if !chunk.is_empty() && full.send(Chunk::Bytes(chunk)).is_err() {
            return;
        }
        if let Some(last) = last {
            let _ = full.send(last);
            return;
        }
    });
    if std::panic::catch_unwind(run).is_err() {
        let _ = full.send(Chunk::Failed(io::Error::other(
            "internal error: decompressing stopped (a panic); nothing after this point was read",
        )));
    }
}

/// Reads into `chunk` (made `CHUNK` long) until it is full, the stream
/// ends or fails (the error returned); the chunk is cut to what was read.
fn fill<R: Read>(source: &mut R, chunk: &mut Vec<u8>) -> Option<io::Error> {
    chunk.resize(CHUNK, 0);
    let mut n = 0;
    let mut failed = None;
    while n < CHUNK {
        match source.read(&mut chunk[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    chunk.truncate(n);
    failed
}

/// The reader's end: the chunks in order, each given back once read.
struct Ahead {
    full: Receiver<Chunk>,
    empty: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    /// The end, or an error, was read: nothing more comes.
    ended: bool,
    thread: Option<JoinHandle<()>>,
}

impl Ahead {
    fn new(
        full: Receiver<Chunk>,
        empty: SyncSender<Vec<u8>>,
        thread: Option<JoinHandle<()>>,
    ) -> Ahead {
        Ahead {
            full,
            empty,
            chunk: Vec::new(),
            at: 0,
            ended: false,
            thread,
        }
    }
}

impl Read for Ahead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            let used = std::mem::take(&mut self.chunk);
            self.at = 0;
            if used.capacity() > 0 {
                let _ = self.empty.try_send(used);
            }
            match self.full.recv() {
                Ok(Chunk::Bytes(c)) => self.chunk = c,
                Ok(Chunk::End) => self.ended = true,
                Ok(Chunk::Failed(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(_) => {
                    self.ended = true;
                    return Err(io::Error::other(
                        "internal error: the decompressing thread stopped without a word",
                    ));
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for Ahead {
    /// Waits for the thread once it has said its last word; before that
    /// (the capture dropped early) it ends by itself at its next chunk,
    /// when it finds the reader gone, and is not waited for: it may be
    /// waiting on a pipe that never writes again.
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            if self.ended {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Bytes handed out a few at a time, an error at `fail_at` (if any),
    /// a panic at `panic_at`.
    struct Script {
        data: Vec<u8>,
        at: usize,
        fail_at: Option<usize>,
        panic_at: Option<usize>,
    }

    impl Script {
        fn new(data: Vec<u8>) -> Script {
            Script {
                data,
                at: 0,
                fail_at: None,
                panic_at: None,
            }
        }
    }

    impl Read for Script {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if Some(self.at) == self.panic_at {
                panic!("script: a panic at {}", self.at);
            }
            if Some(self.at) == self.fail_at {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "script: bad byte",
                ));
            }
            let stop = self.fail_at.or(self.panic_at).unwrap_or(self.data.len());
            let n = out.len().min(stop - self.at).min(70_001);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Everything read, in reads of an awkward size, and the error that
    /// ended it.
    fn read_all(r: &mut dyn Read) -> (Vec<u8>, Option<io::Error>) {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 100_003];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (got, None),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Some(e)),
            }
        }
    }

    #[test]
    fn the_same_bytes_as_reading_inline() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 7 * CHUNK + 12_345] {
            let d = data(len);
            let (got, err) = read_all(&mut *ahead_of(Script::new(d.clone())).0);
            assert!(err.is_none(), "{len}: {err:?}");
            assert!(got == d, "{len} bytes: got {}", got.len());
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it_and_ends_the_stream() {
        let d = data(3 * CHUNK);
        for fail_at in [0, 1000, CHUNK, 2 * CHUNK + 5] {
            let mut s = Script::new(d.clone());
            s.fail_at = Some(fail_at);
            let (mut r, on_thread) = ahead_of(s);
            assert!(on_thread);
            let (got, err) = read_all(&mut *r);
            assert_eq!(got, &d[..fail_at]);
            let err = err.expect("the error");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert_eq!(err.to_string(), "script: bad byte");
            assert_eq!(
                r.read(&mut [0u8; 10]).unwrap(),
                0,
                "nothing after the error"
            );
        }
    }

    #[test]
    fn a_panic_is_an_error_not_an_early_end() {
        let d = data(2 * CHUNK);
        let mut s = Script::new(d.clone());
        s.panic_at = Some(CHUNK + 10);
        let (got, err) = read_all(&mut *ahead_of(s).0);
        // The chunk being filled goes with the panic: what came is the
        // chunk before it.
        assert_eq!(got, &d[..CHUNK]);
        let err = err.expect("a panic must not look like the end of the capture");
        assert!(err.to_string().contains("decompressing stopped"), "{err}");
    }

    /// Bytes without end, counted as they are read; `dropped` set when the
    /// reader goes.
    struct Endless {
        read: Arc<std::sync::atomic::AtomicUsize>,
        dropped: Arc<AtomicBool>,
    }

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(10_007);
            out[..n].fill(0xA5);
            self.read.fetch_add(n, Ordering::SeqCst);
            Ok(n)
        }
    }

    impl Drop for Endless {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }

    fn endless() -> (
        Endless,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<AtomicBool>,
    ) {
        let e = Endless {
            read: Arc::default(),
            dropped: Arc::default(),
        };
        let (read, dropped) = (Arc::clone(&e.read), Arc::clone(&e.dropped));
        (e, read, dropped)
    }

    #[test]
    fn it_inflates_no_more_than_a_few_chunks_ahead() {
        let (e, read, _) = endless();
        let (mut r, _) = ahead_of(e);
        let mut one = [0u8; 1];
        r.read_exact(&mut one).unwrap();
        // Time for a thread that did not stop to read far past the bound.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let ahead = read.load(Ordering::SeqCst);
        // The queue's chunks, the one being filled and the reader's.
        assert!(ahead <= (AHEAD + 2) * CHUNK, "{ahead} bytes read ahead");
        assert!(ahead >= CHUNK);
    }

    #[test]
    fn a_thread_gone_without_a_word_is_an_error() {
        let (full_tx, full) = sync_channel(AHEAD);
        let (empty, _empty_rx) = sync_channel(AHEAD + 2);
        full_tx.send(Chunk::Bytes(vec![7u8; 1000])).unwrap();
        drop(full_tx);
        let mut r = Ahead::new(full, empty, None);
        let (got, err) = read_all(&mut r);
        assert_eq!(got, vec![7u8; 1000]);
        let err = err.expect("not an end");
        assert!(err.to_string().contains("without a word"), "{err}");
    }

    #[test]
    fn dropped_early_the_thread_ends_and_lets_go_of_the_file() {
        // Without end: only a thread that stops when the reader is gone
        // lets go of it.
        let (s, _, dropped) = endless();
        let (mut r, _) = ahead_of(s);
        let mut one = [0u8; 10];
        r.read_exact(&mut one).unwrap();
        drop(r);
        let t0 = std::time::Instant::now();
        while !dropped.load(Ordering::SeqCst) {
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(20),
                "the inflating thread kept its reader after the capture was dropped"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn gzip_members_inflate_as_inline() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        // Two members, as `cat a.gz b.gz` or pigz make.
        let (a, b) = (data(CHUNK + 77), data(3 * CHUNK / 2));
        let mut gz = Vec::new();
        for part in [&a, &b] {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(part).unwrap();
            gz.extend(e.finish().unwrap());
        }
        let (inl, e1) = read_all(&mut *inline(Box::new(io::Cursor::new(gz.clone()))).0);
        let (thr, e2) = read_all(&mut *ahead(Box::new(io::Cursor::new(gz.clone()))).0);
        assert!(e1.is_none() && e2.is_none());
        assert_eq!(inl.len(), a.len() + b.len());
        assert!(inl == thr);
        // Cut short: the same bytes, then the same kind of error.
        let cut = gz[..gz.len() - 100].to_vec();
        let (inl, e1) = read_all(&mut *inline(Box::new(io::Cursor::new(cut.clone()))).0);
        let (thr, e2) = read_all(&mut *ahead(Box::new(io::Cursor::new(cut))).0);
        assert!(inl == thr);
        let (e1, e2) = (e1.expect("inline error"), e2.expect("threaded error"));
        assert_eq!((e1.kind(), e1.to_string()), (e2.kind(), e2.to_string()));
    }
}
