//! pcap → ctrace-synth → ctrace reader → the same packets, bytes and
//! timestamps, for the real captures in tests/data, in every framing
//! (writer buffers, spanned records, writer headers), with and without
//! segmentation; and the malformed variants are reported as the document
//! says.  Writer and reader share the layout table: this shows they agree
//! with each other; tests/ctrace_vectors.rs checks the table against the
//! evidence.

use ctrace::framing::{detect, Framing as ReadFraming};
use ctrace::{Error, Kind, NoteKind, ReadInput, Reader, SliceInput, TextEncoding};
use ctrace_synth::{build, capture, Framing, Malformed, Options};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, TsResolution};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn real_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| {
        p.extension().is_some_and(|e| e == "pcap")
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("real-")
    });
    v.sort();
    v
}

/// What the reader must give back for one frame: (ns, IP packet bytes,
/// original IP length), computed here from the frame without the writer.
fn expected(f: &capture::Frame) -> Option<(i64, Vec<u8>, u32)> {
    let d = &f.data;
    let mut at = 12;
    while at + 2 <= d.len() && matches!(u16::from_be_bytes([d[at], d[at + 1]]), 0x8100 | 0x88A8) {
        at += 4;
    }
    let et = u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]);
    let ip = &d[at + 2..];
    let total = match et {
        0x0800 => u16::from_be_bytes([ip[2], ip[3]]) as usize,
        0x86DD => 40 + u16::from_be_bytes([ip[4], ip[5]]) as usize,
        _ => return None,
    };
    Some((f.ts_ns, ip[..total.min(ip.len())].to_vec(), total as u32))
}

/// A packet read back: ns, fmtid, bytes, PTH_Plen, outbound, notes.
type Back = (i64, u8, Vec<u8>, u32, bool, Vec<String>);

fn read_with(file: &[u8], input: &mut dyn ctrace::Input) -> Vec<Back> {
    let f = detect(&file[..file.len().min(ctrace::framing::DETECT_PREFIX)]).unwrap();
    let mut r = Reader::new(f);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet(input).unwrap() {
        out.push((
            p.time_ns(0).unwrap_or(0),
            p.fmtid().unwrap_or(0),
            p.data.to_vec(),
            p.plen.unwrap_or(0),
            p.direction == ctrace::Direction::Outbound,
            p.notes.iter().map(|n| n.to_string()).collect(),
        ));
    }
    out
}

fn read_back(file: &[u8]) -> Vec<Back> {
    read_with(file, &mut SliceInput::new(file))
}

/// A reader that gives out 100 bytes at a time.
struct Dribble<'a>(&'a [u8]);

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(100).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn real_captures_round_trip() {
    let caps = real_captures();
    assert!(!caps.is_empty(), "no tests/data/real-*.pcap");
    for path in caps {
        let frames = capture::read(&path).unwrap();
        let want: Vec<_> = frames.iter().filter_map(expected).collect();
        assert!(!want.is_empty());
        for (framing, rf) in [
            (Framing::Raw, ReadFraming::Raw),
            (Framing::Rdw, ReadFraming::Rdw),
            (Framing::Bdw, ReadFraming::BdwRdw),
        ] {
            for (seg, buffer, header) in [
                (None, 4096, 0),
                (Some(100), 4096, 40),
                (Some(1), 4096, 0),
                (None, 65_536, 64),
            ] {
                if seg == Some(1) && framing != Framing::Raw {
                    continue;
                }
                let o = Options {
                    framing,
                    segment_size: seg,
                    buffer,
                    writer_header: header,
                    ..Options::default()
                };
                let (file, s) = build(&frames, &o).unwrap();
                assert_eq!(detect(&file), Ok(rf), "{}", path.display());
                let got = read_back(&file);
                assert_eq!(
                    got.len(),
                    want.len(),
                    "{} {framing:?} {seg:?}",
                    path.display()
                );
                assert_eq!(s.packets, want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g.0, w.0, "timestamp");
                    assert_eq!(g.1, 4);
                    assert_eq!(g.2, w.1, "bytes");
                    assert_eq!(g.3, w.2, "original length");
                    // only the writer headers are skipped, nothing contradicts
                    assert!(
                        g.5.iter().all(|n| n.contains("no trace entry skipped")),
                        "{:?}",
                        g.5
                    );
                }
                // the first packet's source is the local address: outbound
                assert!(got[0].4);
                let streamed = read_with(&file, &mut ReadInput::new(Dribble(&file)));
                assert_eq!(streamed, got);
            }
        }
    }
}

#[test]
fn osaenta_and_data_trace_round_trip() {
    for path in real_captures() {
        let frames = capture::read(&path).unwrap();
        let o = Options {
            osaenta: true,
            ..Options::default()
        };
        let (file, _) = build(&frames, &o).unwrap();
        let got = read_back(&file);
        assert_eq!(got.len(), frames.len());
        for (g, f) in got.iter().zip(&frames) {
            assert_eq!((g.0, g.1, &g.2, g.3), (f.ts_ns, 7, &f.data, f.orig_len));
        }
        let o = Options {
            data_trace: true,
            framing: Framing::Rdw,
            ..Options::default()
        };
        let (file, s) = build(&frames, &o).unwrap();
        let got = read_back(&file);
        let data: Vec<_> = got.iter().filter(|g| g.1 == 5).collect();
        assert_eq!(data.len(), s.data_records);
        let mut r = Reader::new(ReadFraming::Rdw);
        let mut input = SliceInput::new(&file);
        while let Some(p) = r.next_packet(&mut input).unwrap() {
            if p.kind == Kind::Traced(5) {
                let h = p.pthdr().unwrap();
                assert_eq!(h.job_name(), "TCPAPPL");
                assert!(h.dt_protocol() == 6 || h.dt_protocol() == 17);
                assert!(!p.data.is_empty());
            }
        }
    }
}

fn nanosecond_frames() -> Vec<(i64, Vec<u8>)> {
    let ip = |n: u8| {
        let mut v = vec![
            0x45, 0, 0, 20, 0, n, 0, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
        ];
        v.resize(20, 0);
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0];
        f.extend_from_slice(&v);
        f
    };
    [
        1_767_225_600_000_000_001i64,
        1_767_225_600_123_456_789,
        1_767_225_601_999_999_999,
        946_684_800_000_000_007,
    ]
    .iter()
    .enumerate()
    .map(|(i, &ns)| (ns, ip(i as u8)))
    .collect()
}

#[test]
fn nanosecond_pcap_and_pcapng() {
    let dir = std::env::temp_dir().join(format!("ctrace-synth-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let frames = nanosecond_frames();
    // pcap, nanosecond magic
    let p = dir.join("ns.pcap");
    let header = PcapHeader {
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(&p).unwrap(), header).unwrap();
    for (ns, f) in &frames {
        w.write_packet(&PcapPacket::new(
            Duration::from_nanos(*ns as u64),
            f.len() as u32,
            f,
        ))
        .unwrap();
    }
    drop(w);
    // pcapng, if_tsresol 9
    let q = dir.join("ns.pcapng");
    let mut w = PcapNgWriter::new(std::fs::File::create(&q).unwrap()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    })
    .unwrap();
    for (ns, f) in &frames {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(*ns as u64),
            original_len: f.len() as u32,
            data: Cow::Borrowed(f),
            options: vec![],
        })
        .unwrap();
    }
    drop(w);
    for path in [&p, &q] {
        let out = dir.join("synthetic-ns.ctrace");
        let s = ctrace_synth::write(path, &out, &Options::default()).unwrap();
        assert_eq!(s.packets, 4);
        let file = std::fs::read(&out).unwrap();
        let got = read_back(&file);
        let times: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            times,
            frames.iter().map(|f| f.0).collect::<Vec<_>>(),
            "{}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_variants_are_reported() {
    let path = &real_captures()[0];
    let frames = capture::read(path).unwrap();
    let m = |k, framing| {
        build(
            &frames,
            &Options {
                malformed: Some(k),
                framing,
                ..Options::default()
            },
        )
        .unwrap()
        .0
    };
    let prefix = |f: &[u8]| f[..f.len().min(ctrace::framing::DETECT_PREFIX)].to_vec();
    assert!(matches!(
        detect(&prefix(&m(Malformed::Xmit, Framing::Raw))),
        Err(Error::Xmit { offset: 2 })
    ));
    assert!(matches!(
        detect(&prefix(&m(Malformed::Terse, Framing::Raw))),
        Err(Error::Terse { mode: "SPACK", .. })
    ));
    assert_eq!(
        detect(&prefix(&m(Malformed::AsciiText, Framing::Raw))),
        Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ascii
        })
    );
    assert_eq!(
        detect(&prefix(&m(Malformed::EbcdicText, Framing::Raw))),
        Err(Error::Text {
            offset: 0,
            encoding: TextEncoding::Ebcdic
        })
    );
    let packets = read_back(&build(&frames, &Options::default()).unwrap().0);
    for framing in [Framing::Raw, Framing::Rdw, Framing::Bdw] {
        // a cut-off file: every packet before the cut, then the rest, said
        let t = read_back(&m(Malformed::Truncated, framing));
        assert_eq!(t.len(), packets.len(), "{framing:?}");
        let data = |p: &[Back]| -> Vec<Vec<u8>> { p.iter().map(|b| b.2.clone()).collect() };
        assert!(data(&t[..t.len() - 1]) == data(&packets[..packets.len() - 1]));
        let last = &t[t.len() - 1];
        assert_eq!(last.1, 0, "no entry");
        assert!(
            last.5.iter().any(|n| n.contains("truncated")),
            "{framing:?} {:?}",
            last.5
        );
        if framing != Framing::Raw {
            let said = t.iter().flat_map(|p| &p.5);
            assert_eq!(
                said.filter(|n| n.contains("the file ends after")).count(),
                1,
                "{framing:?}: the cut record"
            );
        }
        // a damaged entry: shown where it is, reading goes on
        let l = read_back(&m(Malformed::CteLene, framing));
        assert_eq!(l.len(), packets.len() - 1, "{framing:?}");
        assert!(l[1].5.iter().any(|n| n.contains("CTELENE")), "{:?}", l[1].5);
        assert_eq!(l[1].2, packets[2].2);
        // a lost-records marker among the packets
        let lost = read_back(&m(Malformed::LostRecord, framing));
        let at = lost.iter().position(|p| p.1 == 0xFF).unwrap();
        assert!(at > 0 && at < lost.len() - 1);
        assert_eq!(lost.len(), packets.len() + 1);
    }
    // RDW records longer than 32 760 bytes: read, and said
    let long = read_back(&m(Malformed::LongRdw, Framing::Raw));
    let _ = NoteKind::LongRecord { len: 0 };
    assert_eq!(long.len(), packets.len());
    assert!(
        long.iter().all(|p| p.5.is_empty()),
        "4096-byte buffers are no long records"
    );
    let http = capture::read(&data_dir().join("real-http.pcap")).unwrap();
    let long = build(
        &http,
        &Options {
            malformed: Some(Malformed::LongRdw),
            buffer: 40_000,
            ..Options::default()
        },
    )
    .unwrap()
    .0;
    let got = read_back(&long);
    assert!(got
        .iter()
        .any(|p| p.5.iter().any(|n| n.contains("longer than the 32 760"))));
}
