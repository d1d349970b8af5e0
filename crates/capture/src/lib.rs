//! The first layer of `pktmatch index`: read capture files fast and take
//! from every packet the compact record that multi-point matching uses.
//!
//! * [`open`] / [`from_bytes`] recognise the format by content, never by
//!   name: classic pcap (both byte orders, µs and ns), pcapng (any number of
//!   sections and interfaces, per-interface link type and `if_tsresol`),
//!   either of them gzip-compressed (magic 1f 8b), and z/OS CTRACE packet
//!   traces (raw, RDW — spanned or not — or BDW framing).  Files are opened read-only;
//!   uncompressed files are memory-mapped, compressed ones decompressed as a
//!   stream through one reused buffer (a file's on a thread of its own,
//!   a few chunks ahead: `inflate`).
//! * [`Capture::next_packet`] is a lending iterator: each [`Packet`]
//!   borrows the capture, its `data` points into the mapped file (or the
//!   stream buffer), and nothing is allocated per packet (CTRACE: the
//!   `ctrace` reader copies the records' contents through its own buffer).
//!   [`Capture::for_each`] and [`scan`] wrap it in a callback.
//! * [`keys::extract`] turns a packet into a [`FlowKey`] (5-tuple, interned
//!   by the caller per connection) and a 48-byte [`PacketKey`] (IP ID, TCP
//!   seq/ack/flags/length/TSval, UDP length, payload digest, application
//!   id…); the design is in the [`keys`] module.
//!
//! Performance: the indexer wants ≥ 1 M packets/s and ≤ 64 bytes per packet
//! for its whole index.  Reading is a bounds check and a few loads per
//! record on a mapped file, extraction parses headers in place with
//! etherparse and hashes at most 64 payload bytes; `examples/scan.rs`
//! measures both.
//!
//! Frame numbers are Wireshark's (1-based, in file order).  Packets are
//! returned for every frame, including those no key can be taken from
//! ([`Link::Other`], [`Link::Ctrace`]); only pcapng systemd journal entries
//! and custom blocks, which Wireshark shows as frames but which hold no
//! packet, are skipped (numbered, not returned).

pub mod error;
mod estimate;
pub mod hash;
mod inflate;
pub mod keys;
pub mod link;
mod pcap;
mod pcapng;
mod reader;
mod source;
mod zos;

pub use error::{Error, ErrorKind};
pub use estimate::estimate_frames;
pub use keys::{extract, extract_frame, inner_ip, App, FlowKey, FrameKeys, PacketKey};
pub use link::Link;
pub use source::MAX_RECORD;

use reader::{Fail, Loc, Record};
use source::{Bytes, FileMap, Source};
use std::fs::File;
use std::path::Path;

/// Which way a packet went, when the capture says so (pcapng `epb_flags`,
/// CTRACE PTH_Out, Linux cooked capture packet type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    #[default]
    Unknown,
    Inbound,
    Outbound,
}

/// One packet, borrowed from its [`Capture`] until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based frame number, as Wireshark numbers the frames of the file.
    pub frame: u32,
    /// Capture time, nanoseconds since the Unix epoch (UTC).
    pub ts_ns: i64,
    /// Length on the wire (CTRACE: PTH_Plen, the IP packet's length).
    pub orig_len: u32,
    /// Link layer of `data`.
    pub link: Link,
    /// Index in [`Capture::interfaces`].
    pub interface: u32,
    /// Direction, if the capture records it.
    pub direction: Direction,
    /// Byte offset of the record in the file (of the decompressed data for
    /// gzip input): where to read the packet again.
    pub offset: u64,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The frame as Wireshark shows it, which the pktmatch post-dissector
    /// checks against the index: `data` itself, except for CTRACE, where
    /// Wireshark's frame is the trace record (entries and the bytes skipped
    /// before them) around the packet.
    pub wire: &'a [u8],
    /// The frame's time as Wireshark shows it: `ts_ns`, except for CTRACE
    /// read with leap seconds (Wireshark's frame time takes none).
    pub wire_ts_ns: i64,
}

/// A capture interface (pcap: the one of the file; pcapng: each interface
/// description block, all sections numbered together; CTRACE: each
/// interface name and link type, in order of first appearance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub link: Link,
    /// The link type number (pcap/pcapng), or the one a CTRACE record
    /// would be written with (0 for records that are no packet).
    pub linktype: u32,
    pub name: Option<String>,
    /// Snap length (0: none).
    pub snaplen: u32,
    /// Time stamp resolution as pcapng's `if_tsresol` says it (6 for µs,
    /// 9 for ns, bit 7 set for a power of two).
    pub tsresol: u8,
}

/// The file format found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap {
        nanosecond: bool,
        big_endian: bool,
    },
    /// Byte order of the first section.
    PcapNg {
        big_endian: bool,
    },
    Ctrace(ctrace::Framing),
}

/// How to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// CTRACE: seconds the z/OS TOD clock runs ahead of UTC (leap seconds
    /// the installation counts; 0 for a TOD that is plain UTC).
    pub ctrace_leap_seconds: i64,
}

enum Reader {
    Pcap(pcap::PcapReader),
    PcapNg(pcapng::NgReader),
    Ctrace(Box<zos::CtraceReader>),
}

/// An open capture: iterate its packets with [`Capture::next_packet`].
pub struct Capture<'a> {
    name: String,
    source: Source<'a>,
    reader: Reader,
    format: Format,
    compressed: bool,
    /// Inflated on a thread of its own (inflate.rs).
    inflating_thread: bool,
    interfaces: Vec<Interface>,
    done: bool,
}

const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// Opens a capture file (read-only), recognising its format by content.
pub fn open(path: impl AsRef<Path>) -> Result<Capture<'static>, Error> {
    open_with(path, &Options::default())
}

/// [`open`] with options.
pub fn open_with(path: impl AsRef<Path>, options: &Options) -> Result<Capture<'static>, Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let io_err = |e| Error::new(&name, None, false, ErrorKind::Io(e));
    let file = File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    let bytes = if meta.is_file() {
        if meta.len() == 0 {
            return Err(Error::new(&name, None, false, ErrorKind::Empty));
        }
        // SAFETY: the map is a read-only shared map of the file; like
        // every memory-mapped reader, it relies on no other process
        // truncating or rewriting the capture while it is read (a capture
        // still being written is read as a stream: open it through a pipe).
        let map = match FileMap::populates_in_steps() {
            true => unsafe { memmap2::Mmap::map(&file) },
            false => unsafe { memmap2::MmapOptions::new().populate().map(&file) },
        };
        match map {
            Ok(map) => Bytes::Map(FileMap::new(map)),
            Err(_) => Bytes::Stream(Box::new(file)),
        }
    } else {
        Bytes::Stream(Box::new(file))
    };
    // A regular file's gzip stream is inflated ahead of the reader; a
    // pipe's inline, each piece handed on as soon as inflated (a capture
    // still being written, read through a pipe, must not wait for a chunk
    // to fill, and a thread would keep the pipe open after the capture).
    let gunzip: inflate::Gunzip<'static> = match &bytes {
        Bytes::Map(_) => inflate::ahead,
        // A closure: the fn item is generic over the lifetime, and the
        // match needs both arms as this one pointer type.
        _ => |c| inflate::inline(c),
    };
    Capture::start(name, Source::new(bytes), options, false, gunzip)
}

/// Reads a capture held in memory (any format [`open`] reads).
pub fn from_bytes(bytes: &[u8]) -> Result<Capture<'_>, Error> {
    from_bytes_with(bytes, &Options::default())
}

/// [`from_bytes`] with options.
pub fn from_bytes_with<'a>(bytes: &'a [u8], options: &Options) -> Result<Capture<'a>, Error> {
    Capture::start(
        "<memory>".into(),
        Source::new(Bytes::Slice(bytes)),
        options,
        false,
        inflate::inline,
    )
}

/// What [`scan`] saw.
#[derive(Debug, Default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Packets [`keys::extract`] gave keys for.
    pub keyed: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    /// The file ended inside a record: every packet before it was read.
    pub truncated: Option<Error>,
}

/// Reads a capture file and extracts the keys of every packet, calling `f`
/// with each packet and its keys (None when it has none: not IP, or a link
/// type not decoded).
pub fn scan(
    path: impl AsRef<Path>,
    f: impl FnMut(&Packet<'_>, Option<(FlowKey, PacketKey)>),
) -> Result<Stats, Error> {
    open(path)?.scan(f)
}

impl<'a> Capture<'a> {
    fn start(
        name: String,
        mut source: Source<'a>,
        options: &Options,
        compressed: bool,
        gunzip: inflate::Gunzip<'a>,
    ) -> Result<Capture<'a>, Error> {
        let fail = |f: Fail| Error::new(&name, f.offset, compressed, f.kind);
        source.prefetch(ctrace::framing::DETECT_PREFIX);
        let head = source.avail();
        if head.is_empty() {
            // nothing read: a read error says more than "empty"
            let kind = match source.ensure(1) {
                Err(e) => ErrorKind::Io(e),
                Ok(_) => ErrorKind::Empty,
            };
            return Err(fail(Fail { offset: None, kind }));
        }
        if head.starts_with(&GZIP_MAGIC) && !compressed {
            let (inner, on_thread) = gunzip(source.into_reader());
            let stream = Source::new(Bytes::Stream(inner));
            let mut c = Capture::start(name, stream, options, true, gunzip)?;
            c.inflating_thread = on_thread;
            return Ok(c);
        }
        let magic = head
            .get(..4)
            .map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
        let unsupported = |what, hint| fail(Fail::at(0, ErrorKind::Unsupported { what, hint }));
        let mut interfaces = Vec::new();
        let (reader, format) = match magic {
            Some(0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1) => {
                let r = pcap::PcapReader::new(&mut source, &mut interfaces).map_err(fail)?;
                let format = Format::Pcap {
                    nanosecond: r.nanosecond(),
                    big_endian: r.big_endian(),
                };
                (Reader::Pcap(r), format)
            }
            Some(0x0A0D_0D0A) => {
                let r = pcapng::NgReader::new(&mut source).map_err(fail)?;
                let format = Format::PcapNg {
                    big_endian: r.big_endian(),
                };
                (Reader::PcapNg(r), format)
            }
            Some(0xA1B2_CD34 | 0x34CD_B2A1) => {
                return Err(unsupported(
                    "a modified (Kuznetzov) pcap file",
                    "convert it with editcap -F pcap",
                ))
            }
            Some(0x28B5_2FFD) => {
                return Err(unsupported(
                    "a zstd-compressed file",
                    "decompress it with zstd -d first",
                ))
            }
            Some(0x0422_4D18) => {
                return Err(unsupported(
                    "an LZ4-compressed file",
                    "decompress it with lz4 -d first",
                ))
            }
            _ if head.starts_with(b"BZh")
                || head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) =>
            {
                return Err(unsupported(
                    "a bzip2- or xz-compressed file",
                    "decompress it first",
                ))
            }
            _ => {
                let prefix = &head[..head.len().min(ctrace::framing::DETECT_PREFIX)];
                match ctrace::framing::detect(prefix) {
                    Ok(framing) => (
                        Reader::Ctrace(Box::new(zos::CtraceReader::new(
                            framing,
                            options.ctrace_leap_seconds,
                        ))),
                        Format::Ctrace(framing),
                    ),
                    // A trace in a container (XMIT, AMATERSE), a report,
                    // a Sniffer file: the ctrace crate says what to do.
                    Err(e) if e.is_wrong_file_kind() => {
                        return Err(fail(Fail {
                            offset: Some(e.offset()),
                            kind: ErrorKind::Ctrace(e),
                        }))
                    }
                    Err(_) => {
                        return Err(fail(Fail::at(
                            0,
                            ErrorKind::UnknownFormat {
                                magic: head[..head.len().min(8)].to_vec(),
                            },
                        )))
                    }
                }
            }
        };
        Ok(Capture {
            name,
            source,
            reader,
            format,
            compressed,
            inflating_thread: false,
            interfaces,
            done: false,
        })
    }

    /// The format found.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True when the file was gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// True when a gzip-compressed file is inflated on a thread of its own,
    /// ahead of the reading (a regular file opened by path, where the
    /// system started the thread).
    pub fn inflates_on_a_thread(&self) -> bool {
        self.inflating_thread
    }

    /// About how many bytes reading holds on the heap beside the packets
    /// it hands out: a stream's buffer and, for a file inflated on a
    /// thread of its own, its chunks read ahead (at most 1.5 MiB); a
    /// CTRACE trace's reader buffers (the content ahead of its scanner, a
    /// segmented packet's joined bytes).  Not counted: the decompressor's
    /// own state (tens of KiB).
    pub fn held_bytes(&self) -> usize {
        let ahead = match self.inflating_thread {
            true => inflate::AHEAD_BYTES,
            false => 0,
        };
        let trace = match &self.reader {
            Reader::Ctrace(r) => r.held_bytes(),
            _ => 0,
        };
        self.source
            .buffer_bytes()
            .saturating_add(ahead)
            .saturating_add(trace)
    }

    /// The file name given to [`open`] ("<memory>" for [`from_bytes`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interfaces seen so far (pcapng and CTRACE describe them as the
    /// file goes on; pcap has one).
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// CTRACE: what tells the interfaces met so far apart, by number (the
    /// PTH_Name bytes and the link), for those who join pieces: a trace
    /// numbers its interfaces in order of first appearance, which a piece
    /// read on its own starts again from 0.  Other formats: empty (a piece
    /// numbers the interfaces as the file's head does).
    pub fn interface_keys(&self) -> Vec<(Vec<u8>, Link)> {
        match &self.reader {
            Reader::Ctrace(r) => r.interface_keys(),
            _ => Vec::new(),
        }
    }

    /// The next packet in file order; `Ok(None)` at the end.  After an
    /// error (a damaged or cut-off file) it returns `Ok(None)`.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        if self.done {
            return Ok(None);
        }
        let rec: Result<Option<Record>, Fail> = match &mut self.reader {
            Reader::Pcap(r) => r.next(&mut self.source),
            Reader::PcapNg(r) => r.next(&mut self.source, &mut self.interfaces),
            Reader::Ctrace(r) => r.next(&mut self.source, &mut self.interfaces),
        };
        let rec = match rec {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(f) => {
                self.done = true;
                let offset = f.offset.or(Some(self.source.offset()));
                return Err(Error::new(&self.name, offset, self.compressed, f.kind));
            }
        };
        let (data, wire, wire_ts_ns): (&[u8], &[u8], i64) = match (rec.loc, &self.reader) {
            (Loc::Source { start, len }, _) => {
                let d = &self.source.slice()[start..start + len];
                (d, d, rec.ts_ns)
            }
            (Loc::Ctrace, Reader::Ctrace(c)) => {
                let (wire, ts) = c.wire();
                (c.data(), wire, ts)
            }
            _ => (&[], &[], rec.ts_ns),
        };
        let direction = match rec.direction {
            Direction::Unknown => link::direction(rec.link, data).unwrap_or_default(),
            d => d,
        };
        Ok(Some(Packet {
            frame: rec.frame,
            ts_ns: rec.ts_ns,
            orig_len: rec.orig_len,
            link: rec.link,
            interface: rec.interface,
            direction,
            offset: rec.offset,
            data,
            wire,
            wire_ts_ns,
        }))
    }

    /// Calls `f` with every packet left; returns how many there were.
    pub fn for_each(&mut self, mut f: impl FnMut(&Packet<'_>)) -> Result<u64, Error> {
        let mut n = 0;
        while let Some(p) = self.next_packet()? {
            f(&p);
            n += 1;
        }
        Ok(n)
    }

    /// Extracts the keys of every packet left and calls `f` with each
    /// packet and its keys.  A file cut short ends the scan normally, with
    /// [`Stats::truncated`] saying where; other errors are returned.
    pub fn scan(
        &mut self,
        mut f: impl FnMut(&Packet<'_>, Option<(FlowKey, PacketKey)>),
    ) -> Result<Stats, Error> {
        let mut stats = Stats::default();
        loop {
            match self.next_packet() {
                Ok(Some(p)) => {
                    let k = keys::extract(p.link, p.data);
                    stats.packets += 1;
                    stats.keyed += u64::from(k.is_some());
                    stats.bytes += p.data.len() as u64;
                    f(&p, k);
                }
                Ok(None) => return Ok(stats),
                Err(e) if e.is_truncation() => {
                    stats.truncated = Some(e);
                    return Ok(stats);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where [`Capture::pieces`] looks for a record boundary after each
/// even split point: at most this far.
const RESYNC_WINDOW: usize = 4 << 20;

/// The same for a CTRACE trace, where each byte is tried as the start of
/// two entries (slower than a pcap record header), which are at most 64
/// KiB each: a window this long holds several where the trace has any
/// two entries side by side.  Where it has none (a writer record of one
/// entry behind its header or padding, all through), the first empty
/// window ends the search and the trace is read whole, without searching
/// it all (a 200 MB trace of such records took 4.6 s to search with the
/// pcap window, against 48 ms to read whole: the 2026-12-08 review).
const CTRACE_RESYNC_WINDOW: usize = 256 << 10;

/// A part of an uncompressed classic pcap, pcapng or raw CTRACE file
/// ([`Capture::pieces`]), read on its own (on any thread) with
/// [`Piece::open`].
#[derive(Clone, Copy, Debug)]
pub struct Piece<'a> {
    name: &'a str,
    /// The whole file.
    bytes: &'a [u8],
    format: Format,
    /// pcapng: where the blocks before the first frame end (the section
    /// header and interface blocks every piece reads first).
    head: usize,
    start: usize,
    end: usize,
    /// CTRACE: the leap seconds its times are taken less.
    leap_seconds: i64,
}

impl<'a> Piece<'a> {
    /// Byte offset of the piece in the file.
    pub fn start(&self) -> u64 {
        self.start as u64
    }

    /// Byte offset just past the piece.
    pub fn end(&self) -> u64 {
        self.end as u64
    }

    /// A capture that reads the piece's records, and ends where the piece
    /// does.  Its frame numbers count from 1 at the piece's first record
    /// ([`Capture::frames`] says how many it numbered, packets or not);
    /// offsets and errors are the file's.  A record that runs past the
    /// piece's end is reported as a truncation: the piece did not start
    /// on a record boundary, or the file is damaged there.  A pcapng
    /// section header or interface block in the piece is an error for
    /// which [`Error::needs_whole_file`] is true, in whichever piece.  A
    /// CTRACE piece is read on past its end, with the bytes after it, to
    /// the next record, which ends it if it starts exactly there; one that
    /// starts later (a record ran past the end), or the file's end before
    /// it, is an error (invalid data).  Its interfaces are numbered from 0
    /// in the order the piece meets them ([`Capture::interface_keys`]).
    pub fn open(&self) -> Result<Capture<'a>, Error> {
        let fail = |f: Fail| Error::new(self.name, f.offset, false, f.kind);
        let mut interfaces = Vec::new();
        let mut source = Source::new(Bytes::Slice(&self.bytes[..self.end]));
        let reader = match self.format {
            Format::Pcap { .. } => {
                let r = pcap::PcapReader::new(&mut source, &mut interfaces).map_err(fail)?;
                Reader::Pcap(r)
            }
            Format::PcapNg { .. } => {
                // The file's head read as when reading it whole: the
                // section's byte order and interfaces, numbered alike.
                let mut head = Source::new(Bytes::Slice(&self.bytes[..self.head]));
                let mut r = pcapng::NgReader::new(&mut head).map_err(fail)?;
                if r.next(&mut head, &mut interfaces).map_err(fail)?.is_some() {
                    let f =
                        Fail::invalid(0, "pcapng piece", "a frame before the piece's head ends");
                    return Err(fail(f));
                }
                Reader::PcapNg(r.into_piece())
            }
            // Read on past the piece's end, to the record that starts
            // there (records are found, not counted: see `pieces`).
            Format::Ctrace(framing) => {
                source = Source::new(Bytes::Slice(self.bytes));
                let end = (self.end < self.bytes.len()).then_some(self.end as u64);
                let r =
                    zos::CtraceReader::piece(framing, self.leap_seconds, self.start as u64, end);
                Reader::Ctrace(Box::new(r))
            }
        };
        source.advance(self.start - source.pos());
        Ok(Capture {
            name: self.name.to_string(),
            source,
            reader,
            format: self.format,
            compressed: false,
            inflating_thread: false,
            interfaces,
            done: false,
        })
    }
}

impl Capture<'_> {
    /// Frames numbered so far: the last one's number, counting those that
    /// hold no packet (pcapng journal entries, custom blocks and sysdig
    /// events).
    pub fn frames(&self) -> u32 {
        match &self.reader {
            Reader::Pcap(r) => r.frames(),
            Reader::PcapNg(r) => r.frames(),
            Reader::Ctrace(r) => r.frames(),
        }
    }

    /// Splits an uncompressed classic pcap, pcapng or raw CTRACE file
    /// (no descriptors), not yet read from, into up to `n` pieces of about
    /// equal size that cover its records in order, for reading on several
    /// threads.  Each piece after the first starts where records plausibly
    /// start at or after an even split point ([`pcap::starts_records`],
    /// [`pcapng::starts_blocks`], [`ctrace::reader::piece_start`]): a
    /// guess, which reading must confirm: if every piece but the last ends
    /// exactly at its end (no error, no record running past it), every
    /// piece started on a true record boundary, by induction from the
    /// file's head, and the pieces' records are exactly the file's;
    /// otherwise the caller reads the file whole.  pcapng: every piece
    /// reads the blocks before the first frame (the section header, the
    /// interfaces) first; a section header or interface block after the
    /// first frame is refused by the piece it is in
    /// ([`Error::needs_whole_file`]).  CTRACE: a piece is read on past its
    /// end, to the record that must start there ([`Piece::open`]).  No
    /// pieces for other formats (a framed CTRACE trace), compressed files,
    /// streams, or a file one has begun to read; one for a small file.
    pub fn pieces(&self, n: usize) -> Vec<Piece<'_>> {
        let stream = matches!(self.source.bytes_kind(), source::Kind::Stream);
        if stream || self.compressed || self.done || self.frames() != 0 {
            return Vec::new();
        }
        let bytes = self.source.slice();
        let leap_seconds = match &self.reader {
            Reader::Ctrace(r) => r.leap_seconds(),
            _ => 0,
        };
        // From a candidate position, where a piece may start.
        let (head, starts_at): (usize, Box<dyn Fn(usize) -> Option<usize>>) = match self.format {
            Format::Pcap {
                nanosecond,
                big_endian,
            } => {
                let Some(near) = pcap::record_sec(bytes, pcap::HEADER_LEN, big_endian) else {
                    return Vec::new();
                };
                let starts = move |at| {
                    pcap::starts_records(bytes, at, big_endian, nanosecond, near, false)
                        .then_some(at)
                };
                (pcap::HEADER_LEN, Box::new(starts))
            }
            Format::PcapNg { big_endian } => {
                let Some(head) = pcapng::head_end(bytes, big_endian) else {
                    return Vec::new();
                };
                // Blocks start at multiples of 4 from the file's start.
                let starts = move |at: usize| {
                    (at % 4 == 0 && pcapng::starts_blocks(bytes, at, big_endian)).then_some(at)
                };
                (head, Box::new(starts))
            }
            // A trace without descriptors (binary FTP's default): a piece
            // starts at an entry that starts a packet right after another
            // entry ([`ctrace::reader::piece_start`]).  Reading confirms
            // the guess otherwise than for pcap: a piece is read on past
            // its end, to the record that must start there, so that
            // segments joined into one packet and bytes skipped before an
            // entry are seen as when reading whole.  Framed traces
            // (descriptors split records at places the bytes do not show)
            // are read whole.
            Format::Ctrace(ctrace::Framing::Raw) => {
                let starts = move |at: usize| ctrace::reader::piece_start(bytes, at);
                (0, Box::new(starts))
            }
            Format::Ctrace(_) => return Vec::new(),
        };
        let trace = matches!(self.format, Format::Ctrace(_));
        let window_len = if trace {
            CTRACE_RESYNC_WINDOW
        } else {
            RESYNC_WINDOW
        };
        let body = bytes.len() - head;
        let mut starts = vec![head];
        for k in 1..n.max(1) {
            let even = head + body / n * k;
            let last = *starts.last().unwrap_or(&0);
            let from = even.max(last + 1);
            // A trace's window from where it starts (a start found may lie
            // an entry past the even point, beyond the next one's).
            let end = if trace { from } else { even } + window_len;
            let window = from..end.min(bytes.len());
            match window.into_iter().find_map(&starts_at) {
                Some(at) => starts.push(at),
                // The trace's end: the last piece is short.
                None if trace && end >= bytes.len() => break,
                // A trace with no two entries side by side here: one piece
                // would hold the rest, extracted ahead of the table whole
                // (memory counted late) on one core; read it whole.
                None if trace => return Vec::new(),
                None => {}
            }
        }
        starts.dedup();
        let ends = starts.iter().skip(1).copied().chain([bytes.len()]);
        starts
            .iter()
            .zip(ends)
            .map(|(&start, end)| Piece {
                name: &self.name,
                bytes,
                format: self.format,
                head,
                start,
                end,
                leap_seconds,
            })
            .collect()
    }
}

impl std::fmt::Debug for Capture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("compressed", &self.compressed)
            .field("interfaces", &self.interfaces)
            .finish()
    }
}

#[cfg(test)]
mod tests;
