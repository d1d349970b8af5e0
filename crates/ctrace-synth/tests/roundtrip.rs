//! pcap → ctrace-synth → ctrace reader → the same packets, bytes and
//! timestamps, for the real captures in tests/data, in every framing, with
//! and without segmentation; and the malformed variants are reported as the
//! document says.

use ctrace::framing::{detect, Entries, Framing as ReadFraming, Step, Stepper};
use ctrace::{Cte, Error, Pthdr, TextEncoding};
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

/// Packets read back: (ns, fmtid, bytes, PTH_Plen, outbound) per reassembled packet.
fn read_back(file: &[u8]) -> Vec<(i64, u8, Vec<u8>, u32, bool)> {
    let entries: Vec<&[u8]> = Entries::detect(file)
        .unwrap()
        .map(|e| e.unwrap().1)
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let n = ctrace::segment::group_len(&entries[i..]);
        let r = ctrace::reassemble(&entries[i..i + n]).unwrap();
        assert!(r.is_complete());
        out.push((
            r.header.unix_ns(0),
            r.cte.fmtid(),
            r.packet.to_vec(),
            r.header.packet_len(),
            r.header.is_outbound(),
        ));
        i += n;
    }
    out
}

/// The same entries through a Stepper reading 100 bytes at a time.
fn streamed(file: &[u8]) -> Vec<Vec<u8>> {
    let f = detect(&file[..file.len().min(ctrace::framing::DETECT_PREFIX)]).unwrap();
    let mut st = Stepper::new(f);
    let (mut buf, mut read, mut out) = (Vec::new(), 0usize, Vec::new());
    loop {
        match st.step(&buf, read == file.len()) {
            Step::Entry { skip, len } => {
                out.push(buf[skip..skip + len].to_vec());
                buf.drain(..skip + len);
            }
            Step::Skip(n) => {
                buf.drain(..n);
            }
            Step::NeedMore(n) => {
                let end = (read + (n - buf.len()).max(100)).min(file.len());
                buf.extend_from_slice(&file[read..end]);
                read = end;
            }
            Step::End => return out,
            Step::Error(e) => panic!("{e}"),
        }
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
            for seg in [None, Some(100), Some(1)] {
                if seg == Some(1) && framing != Framing::Raw {
                    continue;
                }
                let o = Options {
                    framing,
                    segment_size: seg,
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
                }
                // the first packet's source is the local address: outbound
                assert!(got[0].4);
                let whole: Vec<Vec<u8>> = Entries::detect(&file)
                    .unwrap()
                    .map(|e| e.unwrap().1.to_vec())
                    .collect();
                assert_eq!(streamed(&file), whole);
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
        for e in Entries::detect(&file).unwrap() {
            let c = Cte::new_checked(e.unwrap().1).unwrap();
            if c.fmtid() == 5 {
                let p = Pthdr::from_cte(&c).unwrap();
                assert_eq!(p.job_name(), "TCPAPPL");
                assert!(p.dt_protocol() == 6 || p.dt_protocol() == 17);
                assert!(!p.payload().is_empty());
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
    for framing in [Framing::Raw, Framing::Rdw, Framing::Bdw] {
        let t = m(Malformed::Truncated, framing);
        let r: Vec<_> = Entries::detect(&t).unwrap().collect();
        assert!(
            matches!(r.last(), Some(Err(Error::Truncated { .. }))),
            "{framing:?}"
        );
        assert!(r[..r.len() - 1].iter().all(|e| e.is_ok()));

        let l = m(Malformed::CteLene, framing);
        let r: Vec<_> = Entries::detect(&l).unwrap().collect();
        assert_eq!(r.len(), 2, "{framing:?}");
        let e = r[1].unwrap_err();
        assert!(
            matches!(
                e,
                Error::LengthMismatch {
                    field: "CTELENE",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("CTELENE"));

        let lost = m(Malformed::LostRecord, framing);
        let ctes: Vec<Cte> = Entries::detect(&lost)
            .unwrap()
            .map(|e| Cte::new_checked(e.unwrap().1).unwrap())
            .collect();
        assert_eq!(ctes.iter().filter(|c| c.is_lost_record()).count(), 1);
        let at = ctes.iter().position(|c| c.is_lost_record()).unwrap();
        assert!(at > 0 && at < ctes.len() - 1);
    }
}
