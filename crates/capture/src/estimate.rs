//! How many frames a capture file holds, estimated before it is read (a
//! memory limit is checked against it up front): the frames per byte in
//! [`SAMPLES`] windows of [`WINDOW`] bytes, one at the start of each of as
//! many equal slices of the file, each resynchronised on a record
//! boundary, times the file's size.  The windows are read with plain
//! reads: the file is not mapped, so a capture not in the page cache costs
//! a few reads, not a pass over it.
//!
//! Record layouts: classic pcap (draft-ietf-opsawg-pcap, "Packet Record"),
//! pcapng blocks (draft-ietf-opsawg-pcapng, "General Block Structure": type,
//! total length, body, total length again; "Enhanced Packet Block", "Simple
//! Packet Block"), as the readers in pcap.rs and pcapng.rs have them.

use crate::pcap::{self, HEADER_LEN};
use crate::source::MAX_RECORD;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read at each sample.
const WINDOW: usize = 32 << 10;

/// Windows read over the file (the first at its start): a slice of records
/// unlike the rest (small frames of a handshake before a transfer) weighs
/// at most a slice's share.
const SAMPLES: u64 = 64;

/// A file of at most this many bytes is read whole and its frames counted.
const WHOLE: usize = 1 << 20;

/// About how many frames the capture at `path` holds: exact for a file of
/// at most [`WHOLE`] bytes (its complete records counted), else estimated
/// from [`SAMPLES`] windows spread over it.  None for anything but a
/// regular classic pcap or pcapng file (a pipe, which must be read once
/// only; a compressed file, whose size does not tell; CTRACE), or when no
/// window holds a record.
pub fn estimate_frames(path: &Path) -> Option<u64> {
    // Looked at before it is opened: opening a named pipe waits for its
    // writer, and what is read from it is gone for the real reading.
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let size = meta.len();
    if size <= WHOLE as u64 {
        let all = window(&mut file, 0, WHOLE)?;
        return Format::of(&all)?.whole(&all);
    }
    let head = window(&mut file, 0, WINDOW)?;
    let format = Format::of(&head)?;
    let (mut density, mut windows) = (0f64, 0u32);
    for i in 0..SAMPLES {
        let at = i * size / SAMPLES;
        let buf = match i {
            0 => head.clone(),
            _ => window(&mut file, at, WINDOW)?,
        };
        if let Some(d) = format.density(&buf, at, i == 0) {
            density += d;
            windows += 1;
        }
    }
    let body = size.saturating_sub(format.header()) as f64;
    (windows > 0).then(|| (body * density / f64::from(windows)) as u64)
}

/// Up to `len` bytes of `file` from `at`.
fn window(file: &mut File, at: u64, len: usize) -> Option<Vec<u8>> {
    file.seek(SeekFrom::Start(at)).ok()?;
    let mut buf = Vec::with_capacity(len);
    file.by_ref().take(len as u64).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// A file's record format, from its first bytes.
enum Format {
    Pcap {
        big: bool,
        nanos: bool,
        near_sec: u32,
    },
    PcapNg {
        big: bool,
    },
}

/// pcapng block types that hold a frame.
const EPB: u32 = 6;
const SPB: u32 = 3;
const PB: u32 = 2;
const SHB: u32 = 0x0A0D_0D0A;

impl Format {
    fn of(head: &[u8]) -> Option<Format> {
        let magic = u32::from_be_bytes(head.get(..4)?.try_into().ok()?);
        let pcap = |big, nanos| {
            let near_sec = pcap::record_sec(head, HEADER_LEN, big).unwrap_or(0);
            Some(Format::Pcap {
                big,
                nanos,
                near_sec,
            })
        };
        match magic {
            0xD4C3_B2A1 => pcap(false, false),
            0xA1B2_C3D4 => pcap(true, false),
            0x4D3C_B2A1 => pcap(false, true),
            0xA1B2_3C4D => pcap(true, true),
            SHB => match u32::from_be_bytes(head.get(8..12)?.try_into().ok()?) {
                0x1A2B_3C4D => Some(Format::PcapNg { big: true }),
                0x4D3C_2B1A => Some(Format::PcapNg { big: false }),
                _ => None,
            },
            _ => None,
        }
    }

    /// Bytes before the first record (pcap's file header; pcapng's
    /// section and interface blocks are counted as records' bytes).
    fn header(&self) -> u64 {
        match self {
            Format::Pcap { .. } => HEADER_LEN as u64,
            Format::PcapNg { .. } => 0,
        }
    }

    /// The frames of a whole file held in `all`: its complete records.
    fn whole(&self, all: &[u8]) -> Option<u64> {
        let (start, big) = match *self {
            Format::Pcap { big, .. } => (HEADER_LEN, big),
            Format::PcapNg { big } => (0, big),
        };
        let mut k = start;
        let mut frames = 0;
        while let Some((len, frame)) = self
            .record(all, k, big)
            .filter(|&(len, _)| k + len <= all.len())
        {
            k += len;
            frames += u64::from(frame);
        }
        Some(frames)
    }

    /// Frames starting per byte of `buf` (read at file offset `at`): the
    /// records that start in it, from the file's first one when `first`,
    /// else from the first offset where records plausibly start, counted
    /// over the window's length.  Counting starts over a fixed length, not
    /// whole records over the bytes they span, is what keeps big records
    /// from being missed: one that runs past the window's end would be
    /// left out more often than a small one (on the replicated example
    /// session that over-counted the frames by 14 %).
    fn density(&self, buf: &[u8], at: u64, first: bool) -> Option<f64> {
        let (start, big) = match *self {
            Format::Pcap {
                big,
                nanos,
                near_sec,
            } => match first {
                true => (HEADER_LEN, big),
                false => (
                    (0..buf.len()).find(|&k| pcap::starts_records(buf, k, big, nanos, near_sec))?,
                    big,
                ),
            },
            Format::PcapNg { big } => {
                // Blocks start at multiples of 4 from the file's start.
                let align = ((4 - at % 4) % 4) as usize;
                match first {
                    true => (0, big),
                    false => (
                        (align..buf.len())
                            .step_by(4)
                            .find(|&k| starts_blocks(buf, k, big))?,
                        big,
                    ),
                }
            }
        };
        let base = if first { start } else { 0 };
        let (mut k, mut frames) = (start, 0u64);
        while k < buf.len() {
            let Some((len, frame)) = self.record(buf, k, big) else {
                // A header cut by the window's end: a frame for pcap.
                frames += u64::from(matches!(self, Format::Pcap { .. }));
                break;
            };
            frames += u64::from(frame);
            k += len;
        }
        (buf.len() > base).then(|| frames as f64 / (buf.len() - base) as f64)
    }

    /// The record at `b[k..]`: its length and whether it is a frame (its
    /// header's fields only: its end may be past `b`).
    fn record(&self, b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
        match self {
            Format::Pcap { .. } => pcap_record(b, k, big),
            Format::PcapNg { .. } => block_head(b, k, big),
        }
    }
}

fn u32_at(b: &[u8], k: usize, big: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(k..k + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    })
}

/// The pcap record at `k`: its length with its header.
fn pcap_record(b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
    let incl = u32_at(b, k + 8, big)? as usize;
    (incl <= MAX_RECORD).then_some((16 + incl, true))
}

/// The pcapng block at `k` from its header: its total length and whether
/// it holds a frame.
fn block_head(b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
    let (btype, len) = (u32_at(b, k, big)?, u32_at(b, k + 4, big)? as usize);
    (len >= 12 && len % 4 == 0 && len <= MAX_RECORD)
        .then_some((len, matches!(btype, EPB | SPB | PB)))
}

/// [`block_head`], and the length repeated at the block's end.
fn block(b: &[u8], k: usize, big: bool) -> Option<(usize, bool)> {
    let (len, frame) = block_head(b, k, big)?;
    (u32_at(b, k + len - 4, big)? as usize == len).then_some((len, frame))
}

/// Whether pcapng blocks plausibly start at `k`: a packet block and the
/// next two blocks (or fewer up to the window's end) chain, each with its
/// length repeated at its end.
fn starts_blocks(b: &[u8], mut k: usize, big: bool) -> bool {
    match block(b, k, big) {
        Some((_, true)) => {}
        _ => return false,
    }
    for _ in 0..3 {
        match block(b, k, big) {
            Some((len, _)) => k += len,
            None => return b.len().saturating_sub(k) < 12 + 20,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap file (little-endian, microseconds) of the given
    /// frame lengths.
    fn pcap_file(lens: impl Iterator<Item = u32>) -> Vec<u8> {
        let mut f = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for (k, len) in lens.enumerate() {
            for w in [
                1_700_000_000 + k as u32 / 1000,
                (k as u32 % 1000) * 1000,
                len,
                len,
            ] {
                f.extend_from_slice(&w.to_le_bytes());
            }
            f.extend(std::iter::repeat_n(0x55u8, len as usize));
        }
        f
    }

    fn estimate(bytes: &[u8]) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pcap");
        std::fs::write(&p, bytes).unwrap();
        estimate_frames(&p).expect("an estimate")
    }

    #[test]
    fn a_small_file_is_counted() {
        assert_eq!(estimate(&pcap_file((0..100).map(|k| 60 + k % 7))), 100);
    }

    /// Small frames first, big ones after (a handshake, then a transfer):
    /// the windows over the whole file see both.
    #[test]
    fn frames_of_two_sizes_in_turn() {
        for (small, big) in [(4096, 20_000), (20_000, 4096), (50_000, 50_000)] {
            let lens = (0..small).map(|_| 60).chain((0..big).map(|_| 1500));
            let n = estimate(&pcap_file(lens)) as f64;
            let want = f64::from(small + big);
            assert!(
                (n / want - 1.0).abs() < 0.5,
                "{small} small then {big} big frames: estimated {n}"
            );
        }
    }

    /// A little-endian pcapng file (a section, one Ethernet interface) of
    /// enhanced packet blocks of the given frame lengths.
    fn pcapng_file(lens: impl Iterator<Item = u32>) -> Vec<u8> {
        let mut f = Vec::new();
        let mut block = |btype: u32, body: &[u8]| {
            let len = 12 + body.len() as u32;
            f.extend_from_slice(&btype.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(body);
            f.extend_from_slice(&len.to_le_bytes());
        };
        let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(SHB, &shb);
        block(1, &[1, 0, 0, 0, 0, 0, 1, 0]);
        for (k, len) in lens.enumerate() {
            let mut epb = Vec::new();
            for w in [0, 0x0006_0000, k as u32, len, len] {
                epb.extend_from_slice(&w.to_le_bytes());
            }
            epb.extend(std::iter::repeat_n(0x55u8, (len as usize + 3) & !3));
            block(EPB, &epb);
        }
        f
    }

    #[test]
    fn pcapng_blocks() {
        assert_eq!(estimate(&pcapng_file((0..300).map(|k| 60 + k % 9))), 300);
        for (small, big) in [(4096, 20_000), (20_000, 4096)] {
            let lens = (0..small).map(|_| 60).chain((0..big).map(|_| 1500));
            let n = estimate(&pcapng_file(lens)) as f64;
            let want = f64::from(small + big);
            assert!(
                (n / want - 1.0).abs() < 0.5,
                "pcapng, {small} small then {big} big frames: estimated {n}"
            );
        }
    }

    /// The example session's pcapng points, counted by capinfos (Wireshark
    /// 4.0): 347, 183, 329 and 343 frames.
    #[test]
    fn the_example_session_as_capinfos_counts_it() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/session-small");
        for (point, frames) in [
            ("client", 347),
            ("dc", 183),
            ("lbserver", 329),
            ("wan", 343),
        ] {
            let p = dir.join(format!("{point}.pcapng"));
            assert_eq!(estimate_frames(&p), Some(frames), "{point}");
        }
    }

    /// Neither opened nor read (a pipe's open would wait for a writer).
    #[test]
    fn a_pipe_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(estimate_frames(dir.path()), None, "a directory");
        assert_eq!(estimate_frames(Path::new("/dev/null")), None, "a device");
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        assert_eq!(estimate_frames(&fifo), None, "a named pipe");
    }
}
