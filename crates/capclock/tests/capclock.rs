//! capclock: drift math, pcap and pcapng round trips, input untouched, CLI.

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use capclock::{
    first_packet_ns, packet_times, rewrite_bytes, rewrite_bytes_stepped, rewrite_file, Format, Ppm,
    Skew, Step, StepReport, TimeBase,
};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{PcapNgWriter, RawBlock};
use pcap_file::{DataLink, Endianness, TsResolution};

const T_BASE: i128 = 1_700_000_000_123_456_789; // ns

fn ppm(s: &str) -> Ppm {
    s.parse().unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capclock-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

// ---------------------------------------------------------------- drift math

#[test]
fn apply_offset_and_drift() {
    let s = Skew {
        offset_ns: 2_000_000_000,
        drift: ppm("25"),
        reference_ns: T_BASE,
    };
    assert_eq!(s.apply(T_BASE), T_BASE + 2_000_000_000);
    // 10 s after T0 at 25 ppm: +250 us.
    assert_eq!(
        s.apply(T_BASE + 10_000_000_000),
        T_BASE + 10_000_000_000 + 2_000_000_000 + 250_000
    );
    // Before T0 the drift term is negative.
    assert_eq!(
        s.apply(T_BASE - 4_000_000_000),
        T_BASE - 4_000_000_000 + 2_000_000_000 - 100_000
    );
    // Negative drift and offset, fractional ppm: 12.5 ppm over 1 h = 45 ms.
    let s = Skew {
        offset_ns: -3_600_000_000_000,
        drift: ppm("-12.5"),
        reference_ns: 0,
    };
    assert_eq!(
        s.apply(3_600_000_000_000),
        3_600_000_000_000 - 3_600_000_000_000 - 45_000_000
    );
}

#[test]
fn apply_rounds_half_away_from_zero() {
    // 0.5 ppm over 1 ns -> 0.0000005 ns -> 0; over 1 s -> 500 ns exactly.
    let s = Skew {
        offset_ns: 0,
        drift: ppm("0.5"),
        reference_ns: 0,
    };
    assert_eq!(s.apply(1_000_000_000), 1_000_000_500);
    // 1 ppm of 1500 ns = 0.0015 ns; 1 ppm of 500_000 ns = 0.5 ns -> 1 (away from zero).
    let s = Skew {
        offset_ns: 0,
        drift: ppm("1"),
        reference_ns: 0,
    };
    assert_eq!(s.apply(500_000), 500_001);
    assert_eq!(s.apply(-500_000), -500_001);
    assert_eq!(s.apply(499_999), 499_999);
}

#[test]
fn ppm_parse_and_display() {
    for (s, f, shown) in [
        ("25", 25.0, "25"),
        ("-40", -40.0, "-40"),
        ("12.5", 12.5, "12.5"),
        ("+0.125", 0.125, "0.125"),
        ("-0.05", -0.05, "-0.05"),
        ("0", 0.0, "0"),
    ] {
        let p: Ppm = s.parse().unwrap();
        assert!((p.as_f64() - f).abs() < 1e-12, "{s}");
        assert_eq!(p.to_string(), shown);
    }
    for bad in ["", "-", "1e3", "abc", "1.2.3", "1,5"] {
        assert!(bad.parse::<Ppm>().is_err(), "{bad} accepted");
    }
}

#[test]
fn timebase_conversions() {
    let micro = TimeBase::MICRO;
    assert_eq!(micro.to_ns(1_500_000), 1_500_000_000);
    assert_eq!(micro.from_ns(1_500_000_499).unwrap(), 1_500_000);
    assert_eq!(micro.from_ns(1_500_000_500).unwrap(), 1_500_001);
    let nano = TimeBase {
        binary: false,
        exponent: 9,
        offset_s: 0,
    };
    assert_eq!(nano.from_ns(T_BASE).unwrap() as i128, T_BASE);
    let bin = TimeBase {
        binary: true,
        exponent: 10,
        offset_s: 0,
    }; // 1/1024 s
    assert_eq!(bin.to_ns(1024), 1_000_000_000);
    assert_eq!(bin.from_ns(500_000_000).unwrap(), 512);
    let off = TimeBase {
        binary: false,
        exponent: 6,
        offset_s: 100,
    };
    assert_eq!(off.to_ns(0), 100_000_000_000);
    assert_eq!(off.from_ns(101_000_000_000).unwrap(), 1_000_000);
    assert!(micro.from_ns(-5_000).is_err());
}

// ---------------------------------------------------------------- fixtures

fn frame(i: u8) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    f[12] = 0x08;
    f[14] = 0x45;
    f[59] = i;
    f
}

/// Packet times: T_BASE, +1 ms, +2.5 s, +60 s (ns).
fn times() -> Vec<i128> {
    vec![
        T_BASE,
        T_BASE + 1_000_000,
        T_BASE + 2_500_000_000,
        T_BASE + 60_000_000_000,
    ]
}

fn pcap_bytes(res: TsResolution, endianness: Endianness) -> Vec<u8> {
    let hdr = PcapHeader {
        ts_resolution: res,
        endianness,
        datalink: DataLink::ETHERNET,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), hdr).unwrap();
    for (i, t) in times().into_iter().enumerate() {
        let d = Duration::from_nanos(t as u64);
        let data = frame(i as u8);
        w.write_packet(&PcapPacket::new(d, data.len() as u32, &data))
            .unwrap();
    }
    w.into_writer()
}

/// pcapng with two interfaces: 0 nanosecond (if_tsresol 9), 1 default microsecond
/// with if_tsoffset 10 s; packets alternate; one ISB with start/end options; a
/// second section with a binary-resolution interface.
fn pcapng_bytes(endianness: Endianness) -> Vec<u8> {
    let mut w = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("wan0")),
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    })
    .unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsOffset(10)],
    })
    .unwrap();
    for (i, t) in times().into_iter().enumerate() {
        let iface = (i % 2) as u32;
        let raw = if iface == 0 {
            t
        } else {
            (t - 10_000_000_000) / 1000
        };
        let data = frame(i as u8);
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: iface,
            timestamp: Duration::from_nanos(raw as u64),
            original_len: data.len() as u32,
            data: Cow::Owned(data),
            options: vec![],
        })
        .unwrap();
    }
    // ISB for interface 0: time stamp, isb_starttime, isb_endtime, isb_ifrecv.
    let mut body = Vec::new();
    let put32 = |b: &mut Vec<u8>, v: u32| match endianness {
        Endianness::Big => b.extend_from_slice(&v.to_be_bytes()),
        Endianness::Little => b.extend_from_slice(&v.to_le_bytes()),
    };
    let put16 = |b: &mut Vec<u8>, v: u16| match endianness {
        Endianness::Big => b.extend_from_slice(&v.to_be_bytes()),
        Endianness::Little => b.extend_from_slice(&v.to_le_bytes()),
    };
    let ts = |b: &mut Vec<u8>, t: i128| {
        put32(b, (t as u64 >> 32) as u32);
        put32(b, t as u64 as u32);
    };
    put32(&mut body, 0);
    ts(&mut body, T_BASE + 61_000_000_000);
    put16(&mut body, 2);
    put16(&mut body, 8);
    ts(&mut body, T_BASE);
    put16(&mut body, 3);
    put16(&mut body, 8);
    ts(&mut body, T_BASE + 61_000_000_000);
    put16(&mut body, 4);
    put16(&mut body, 8);
    put32(&mut body, 0);
    put32(&mut body, 4);
    put16(&mut body, 0);
    put16(&mut body, 0);
    let len = body.len() as u32 + 12;
    w.write_raw_block(&RawBlock {
        type_: 5,
        initial_len: len,
        body: Cow::Owned(body),
        trailer_len: len,
    })
    .unwrap();
    let mut out = w.into_inner();

    // Second section, binary resolution 2^-20 s.
    let mut w2 = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
    w2.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(0x80 | 20)],
    })
    .unwrap();
    let t = T_BASE + 70_000_000_000;
    let raw = (t * (1 << 20) / 1_000_000_000) as u64;
    let data = frame(9);
    w2.write_pcapng_block(EnhancedPacketBlock {
        interface_id: 0,
        timestamp: Duration::from_nanos(raw),
        original_len: data.len() as u32,
        data: Cow::Owned(data),
        options: vec![],
    })
    .unwrap();
    out.extend_from_slice(&w2.into_inner());
    out
}

fn collect(data: &[u8]) -> Vec<i128> {
    let mut v = Vec::new();
    packet_times(data, |t| v.push(t)).unwrap();
    v
}

// ---------------------------------------------------------------- pcap

#[test]
fn pcap_identity_is_byte_exact() {
    for res in [TsResolution::MicroSecond, TsResolution::NanoSecond] {
        for e in [Endianness::Big, Endianness::Little] {
            let input = pcap_bytes(res, e);
            let (out, rep) = rewrite_bytes(&input, 0, Ppm::ZERO, None).unwrap();
            assert_eq!(out, input, "{res:?} {e:?}");
            assert_eq!(rep.packets, 4);
            assert_eq!(rep.format, Format::Pcap);
        }
    }
}

#[test]
fn pcap_nano_shift_exact() {
    let input = pcap_bytes(TsResolution::NanoSecond, Endianness::Little);
    let (out, rep) = rewrite_bytes(&input, -97_314_159_265, ppm("-40"), Some(T_BASE)).unwrap();
    let skew = Skew {
        offset_ns: -97_314_159_265,
        drift: ppm("-40"),
        reference_ns: T_BASE,
    };
    let want: Vec<i128> = times().into_iter().map(|t| skew.apply(t)).collect();
    assert_eq!(collect(&out), want);
    // 60 s at -40 ppm: -2.4 ms.
    assert_eq!(want[3] - times()[3], -97_314_159_265 - 2_400_000);
    assert_eq!(rep.first_out_ns, Some(want[0]));
    assert_eq!(rep.last_in_ns, Some(times()[3]));
    // Payloads and lengths untouched: only the 8 time stamp bytes of each record differ.
    assert_eq!(out.len(), input.len());
    let differing: usize = out.iter().zip(&input).filter(|(a, b)| a != b).count();
    assert!(differing <= 4 * 8, "{differing} bytes changed");
}

#[test]
fn pcap_micro_rounds_to_microseconds() {
    let input = pcap_bytes(TsResolution::MicroSecond, Endianness::Big);
    let (out, _) = rewrite_bytes(&input, 1_499, ppm("0"), None).unwrap();
    // +1.499 us rounds to +1 us.
    let got = collect(&out);
    for (g, t) in got.iter().zip(times()) {
        assert_eq!(*g, (t / 1000) * 1000 + 1000);
    }
    // Shift and shift back: identical bytes (offset whole microseconds, no drift).
    let (there, _) = rewrite_bytes(&input, 3_600_000_000_000, Ppm::ZERO, None).unwrap();
    let (back, _) = rewrite_bytes(&there, -3_600_000_000_000, Ppm::ZERO, None).unwrap();
    assert_eq!(back, input);
}

#[test]
fn steps_forward_and_back() {
    // +0.5 s at 1 ms after T0 (the second packet on), then -3 s at 2.5 s
    // (the third on): the third packet's time stamp goes back past the
    // second's.
    let steps: Vec<Step> = ["0.001:500000000", "2.5:-3000000000"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        steps[1],
        Step {
            after_ns: 2_500_000_000,
            delta_ns: -3_000_000_000
        }
    );
    let input = pcap_bytes(TsResolution::NanoSecond, Endianness::Little);
    let (out, rep) = rewrite_bytes_stepped(&input, 7, ppm("10"), Some(T_BASE), &steps).unwrap();
    let skew = Skew {
        offset_ns: 7,
        drift: ppm("10"),
        reference_ns: T_BASE,
    };
    let t = times();
    let want = vec![
        skew.apply(t[0]),
        skew.apply(t[1]) + 500_000_000,
        skew.apply(t[2]) - 2_500_000_000,
        skew.apply(t[3]) - 2_500_000_000,
    ];
    assert_eq!(collect(&out), want);
    assert!(want[2] < want[1]);
    assert_eq!(
        rep.steps,
        vec![
            StepReport {
                at_ns: T_BASE + 1_000_000,
                delta_ns: 500_000_000,
                first_packet: Some(2)
            },
            StepReport {
                at_ns: T_BASE + 2_500_000_000,
                delta_ns: -3_000_000_000,
                first_packet: Some(3)
            }
        ]
    );
    let json = rep.to_json(std::path::Path::new("i"), std::path::Path::new("o"));
    assert!(
        json.contains(&format!(
            "\"steps\": [{{\"at_ns\": {}, \"delta_ns\": 500000000, \"first_packet\": 2}}, ",
            T_BASE + 1_000_000
        )),
        "{json}"
    );
    // A step after the last packet shifts nothing and names no packet.
    let late: Step = "100:1".parse().unwrap();
    let (same, rep) = rewrite_bytes_stepped(&input, 0, Ppm::ZERO, None, &[late]).unwrap();
    assert_eq!(same, input);
    assert_eq!(rep.steps[0].first_packet, None);
    // Malformed.
    for bad in ["", "3", "3:", ":5", "x:5", "3:5.5", "1e3:5", "3:-"] {
        assert!(bad.parse::<Step>().is_err(), "{bad}");
    }
    assert_eq!("-1.25:-7".parse::<Step>().unwrap().after_ns, -1_250_000_000);
}

#[test]
fn pcap_before_epoch_is_an_error() {
    let input = pcap_bytes(TsResolution::NanoSecond, Endianness::Little);
    let err = rewrite_bytes(&input, -(T_BASE as i64) - 1_000_000_000, Ppm::ZERO, None).unwrap_err();
    assert!(err.to_string().contains("outside"), "{err}");
}

// ---------------------------------------------------------------- pcapng

#[test]
fn pcapng_identity_is_byte_exact() {
    for e in [Endianness::Big, Endianness::Little] {
        let input = pcapng_bytes(e);
        let (out, rep) = rewrite_bytes(&input, 0, Ppm::ZERO, None).unwrap();
        assert_eq!(out, input, "{e:?}");
        assert_eq!(rep.packets, 5);
        assert_eq!(rep.other_timestamps, 3);
        assert_eq!(rep.format, Format::PcapNg);
    }
}

#[test]
fn pcapng_reads_resolutions_and_offsets() {
    let input = pcapng_bytes(Endianness::Little);
    let mut want = times();
    want.push(T_BASE + 70_000_000_000);
    // Interface 1 (odd packets) stores microseconds: sub-us digits are gone.
    for i in [1, 3] {
        want[i] = want[i] / 1000 * 1000;
    }
    let got = collect(&input);
    assert_eq!(got[..4], want[..4]);
    // 2^-20 s resolution: within one unit (~954 ns).
    assert!((got[4] - want[4]).abs() < 954);
    assert_eq!(first_packet_ns(&input).unwrap(), Some(T_BASE));
}

#[test]
fn pcapng_shift_all_interfaces_and_sections() {
    for e in [Endianness::Big, Endianness::Little] {
        let input = pcapng_bytes(e);
        let offset = 10_812_345_678_901; // 3 h 0 min 12.3 s
        let (out, rep) = rewrite_bytes(&input, offset, ppm("12.5"), None).unwrap();
        assert_eq!(
            rep.skew.reference_ns, T_BASE,
            "default reference: first packet"
        );
        let skew = rep.skew;
        let before = collect(&input);
        let after = collect(&out);
        // Interface 0: ns resolution, exact.
        assert_eq!(after[0], skew.apply(before[0]));
        assert_eq!(after[2], skew.apply(before[2]));
        // Interface 1: us resolution (with if_tsoffset), rounded to the us.
        assert!((after[1] - skew.apply(before[1])).abs() <= 500);
        assert!((after[3] - skew.apply(before[3])).abs() <= 500);
        // 60 s * 12.5 ppm = 750 us; the interface stores us, so within 500 ns.
        assert!((after[3] - before[3] - (offset as i128 + 750_000)).abs() <= 500);
        // Binary resolution, second section.
        assert!((after[4] - skew.apply(before[4])).abs() < 954);
        // Same length, only time stamp bytes changed; the ISB options moved too.
        assert_eq!(out.len(), input.len());
        let (back, _) = rewrite_bytes(&out, 0, Ppm::ZERO, None).unwrap();
        assert_eq!(back, out);
        let differing = out.iter().zip(&input).filter(|(a, b)| a != b).count();
        assert!(differing > 0 && differing <= 8 * 8);
    }
}

// ---------------------------------------------------------------- files

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn input_file_untouched() {
    let dir = tmpdir("untouched");
    for (name, bytes) in [
        (
            "in.pcap",
            pcap_bytes(TsResolution::NanoSecond, Endianness::Little),
        ),
        ("in.pcapng", pcapng_bytes(Endianness::Little)),
    ] {
        let input = dir.join(name);
        std::fs::write(&input, &bytes).unwrap();
        let meta_before = std::fs::metadata(&input).unwrap();
        let hash_before = fnv(&std::fs::read(&input).unwrap());
        let output = dir.join(format!("out-{name}"));
        let rep = rewrite_file(&input, &output, 2_718_281_828, ppm("25"), Some(T_BASE)).unwrap();
        assert_eq!(
            rep.packets as usize,
            if name.ends_with("ng") { 5 } else { 4 }
        );
        let meta_after = std::fs::metadata(&input).unwrap();
        assert_eq!(fnv(&std::fs::read(&input).unwrap()), hash_before);
        assert_eq!(
            meta_before.modified().unwrap(),
            meta_after.modified().unwrap()
        );
        assert_eq!(meta_before.len(), meta_after.len());
        let out = std::fs::read(&output).unwrap();
        assert_ne!(fnv(&out), hash_before);
        assert_eq!(collect(&out)[0], T_BASE + 2_718_281_828);
        // No temporary file left behind.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(left.is_empty());
        // Refuses to write over its input, also through another path.
        let same = dir.join(".").join(name);
        assert!(rewrite_file(&input, &same, 1, Ppm::ZERO, None).is_err());
        assert_eq!(fnv(&std::fs::read(&input).unwrap()), hash_before);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn not_a_capture() {
    assert!(rewrite_bytes(b"hello world", 0, Ppm::ZERO, None).is_err());
    assert!(rewrite_bytes(b"", 0, Ppm::ZERO, None).is_err());
    // Truncated pcapng: a block cut in the middle.
    let ng = pcapng_bytes(Endianness::Little);
    assert!(rewrite_bytes(&ng[..ng.len() - 7], 0, Ppm::ZERO, None).is_err());
}

#[test]
fn cli_prints_true_values() {
    let dir = tmpdir("cli");
    let input = dir.join("in.pcapng");
    std::fs::write(&input, pcapng_bytes(Endianness::Little)).unwrap();
    let output = dir.join("out.pcapng");
    let record = dir.join("clocks.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_capclock"))
        .arg(&input)
        .arg(&output)
        .args([
            "--offset-ns",
            "-97314159265",
            "--drift-ppm",
            "-40",
            "--reference-ns",
        ])
        .arg(T_BASE.to_string())
        .args(["--step", "2:-1500000000"])
        .arg("--record")
        .arg(&record)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains("\"offset_ns\": -97314159265"), "{stdout}");
    assert!(stdout.contains("\"drift_ppm\": -40"), "{stdout}");
    assert!(
        stdout.contains(&format!("\"reference_ns\": {T_BASE}")),
        "{stdout}"
    );
    assert!(stdout.contains("\"packets\": 5"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\"steps\": [{{\"at_ns\": {}, \"delta_ns\": -1500000000, \"first_packet\": ",
            T_BASE + 2_000_000_000
        )),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&record).unwrap().trim(),
        stdout.trim()
    );
    // Same file: refused, exit 1.
    let run = Command::new(env!("CARGO_BIN_EXE_capclock"))
        .arg(&input)
        .arg(&input)
        .args(["--offset-ns", "5"])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("never modifies"));
    let _ = std::fs::remove_dir_all(&dir);
}
