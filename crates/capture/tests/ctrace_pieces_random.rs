//! Random raw CTRACE traces (ctrace::build, from the layout table), read
//! whole and in pieces (`capture::Capture::pieces`): packet for packet the
//! same, or the pieces say they did not join up.  Written in the
//! 2026-12-08 review of reading traces in pieces: whole and segmented
//! packets (segments lost, out of order, with zeros or junk between), data
//! trace, OSAENTA, old formats and lost-record markers, zero runs (an entry
//! at a run's last byte), junk up to 135 KiB (the 64 KiB cuts of bytes
//! that are no entry), damaged entries, writer headers, and packets whose
//! payloads carry earlier entries (guesses that must fail).  `SEEDS=N` for
//! more traces (the review ran 1000: 7843 readings joined up, 2575 fell
//! back, none differed).
use ctrace::build::{self, Header};
use trace_pieces::{in_pieces, trace_packet};

mod trace_pieces;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const TOD: u64 = 0xDA00_0000_0000_0000;

fn entry(fmt: u32, seq: u8, tlen: u32, out: bool, tod: u64, name: &str, payload: &[u8]) -> Vec<u8> {
    let h = Header {
        seq,
        flags: if out {
            ctrace::layout::pthdr::OUT.mask
        } else {
            0
        },
        device_type: 39,
        tlen,
        name: build::name16(name),
        tod,
        src: ctrace::pthdr::ip_to_16("10.0.0.1".parse().unwrap()),
        dst: ctrace::pthdr::ip_to_16("10.0.0.2".parse().unwrap()),
        sport: 1024,
        dport: 80,
        plen: tlen.min(65535) as u16,
        interface_index: 3,
        ..Header::default()
    };
    let mut data = h.bytes();
    data.extend_from_slice(payload);
    build::cte(fmt, tod + 4096, &data)
}

fn ipv4(r: &mut Rng, n: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
    if n >= 20 {
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    }
    p
}

/// A random trace.
fn trace(r: &mut Rng, target: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut tod = TOD;
    let names = ["OSAQDIO1", "LOOPBACK", "ETH2"];
    // start with a whole packet so that raw framing is detected
    out.extend(entry(4, 0, 40, false, tod, names[0], &ipv4(r, 40)));
    let mut last_entries: Vec<Vec<u8>> = Vec::new();
    while out.len() < target {
        tod += 1 + r.below(1 << 20);
        let name = names[r.below(3) as usize];
        let out_dir = r.chance(50);
        let k = r.below(100);
        let mut add: Vec<Vec<u8>> = Vec::new();
        if k < 40 {
            // a whole packet, lengths around multiples of 256 sometimes
            let n = match r.below(4) {
                0 => 256 * (1 + r.below(3) as usize) - 18 - 92 + r.below(3) as usize,
                1 => r.below(60) as usize,
                _ => r.below(1500) as usize,
            };
            let fmt = [4u32, 4, 4, 5, 7][r.below(5) as usize];
            add.push(entry(fmt, 0, n as u32, out_dir, tod, name, &ipv4(r, n)));
        } else if k < 58 {
            // segmented
            let total = 100 + r.below(4000) as usize;
            let seg = 50 + r.below(700) as usize;
            let bytes = ipv4(r, total);
            let mut seq = if r.chance(5) { 1 } else { 0 };
            let mut segs = Vec::new();
            for c in bytes.chunks(seg) {
                segs.push(entry(4, seq, total as u32, out_dir, tod, name, c));
                seq = ctrace::pthdr::next_seq(seq);
            }
            if r.chance(10) && segs.len() > 1 {
                // lose one
                let i = r.below(segs.len() as u64) as usize;
                segs.remove(i);
            }
            for s in segs {
                add.push(s);
                if r.chance(15) {
                    let n = r.below(300) as usize;
                    if r.chance(50) {
                        add.push(vec![0; n]);
                    } else {
                        add.push((0..n).map(|_| r.next() as u8).collect());
                    }
                }
            }
        } else if k < 63 {
            // other entries: lost record marker, old formats without pthdr
            let data: Vec<u8> = (0..r.below(80)).map(|_| r.next() as u8).collect();
            let fmt = if r.chance(50) {
                0xFF00_0000 | r.below(256) as u32
            } else {
                [1u32, 2, 3][r.below(3) as usize]
            };
            add.push(build::cte(fmt, tod, &data));
        } else if k < 73 {
            // zeros
            let n = match r.below(5) {
                0 => 1,
                1 => 2,
                2 => r.below(20) as usize,
                3 => r.below(5000) as usize,
                _ => 256 * r.below(4) as usize,
            };
            add.push(vec![0; n]);
        } else if k < 83 {
            // junk, sometimes looking like a header
            let n = match r.below(6) {
                0 => 1 + r.below(3) as usize,
                1 => r.below(100) as usize,
                2 => 65536 + r.below(70000) as usize,
                3 => 65536 - 5 + r.below(10) as usize,
                _ => r.below(3000) as usize,
            };
            let mut j: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
            if r.chance(30) && n >= 4 {
                j[0] = 0;
                j[1] = 18 + r.below(200) as u8;
                j[2] = 0;
                j[3] = 16;
            }
            add.push(j);
        } else if k < 88 {
            // a damaged entry: truncated, or a bad trailer
            let n = r.below(500) as usize;
            let mut e = entry(4, 0, n as u32, out_dir, tod, name, &ipv4(r, n));
            if r.chance(50) {
                let cut = r.below(e.len() as u64) as usize;
                e.truncate(cut);
            } else {
                let l = e.len();
                e[l - 1] ^= 1;
            }
            add.push(e);
        } else if k < 93 && !last_entries.is_empty() {
            // a packet whose payload carries earlier entries (nested trace)
            let mut payload = Vec::new();
            for e in last_entries.iter().take(1 + r.below(4) as usize) {
                payload.extend_from_slice(e);
            }
            payload.truncate(60000);
            let n = payload.len();
            add.push(entry(4, 0, n as u32, out_dir, tod, name, &payload));
        } else if k < 96 {
            // an entry that starts at a zero-run's last byte: entry of len < 256 after zeros
            add.push(vec![0; 1 + r.below(8) as usize]);
            let n = r.below(100) as usize;
            add.push(entry(4, 0, n as u32, out_dir, tod, name, &ipv4(r, n)));
        } else {
            // a writer header, then entries
            let n = 8 + r.below(40) as usize;
            add.push((0..n).map(|_| r.next() as u8).collect());
        }
        for a in add {
            if a.len() >= 18 && a.len() < 20000 {
                last_entries.push(a.clone());
                if last_entries.len() > 8 {
                    last_entries.remove(0);
                }
            }
            out.extend(a);
        }
    }
    out
}

#[test]
fn random_traces_in_pieces() {
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let (mut ok, mut fell, mut bad) = (0, 0, 0);
    for seed in 1..=seeds {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let target = 20_000 + r.below(600_000) as usize;
        let bytes = trace(&mut r, target);
        let opts = capture::Options {
            ctrace_leap_seconds: 27,
        };
        let Ok(mut cap) = capture::from_bytes_with(&bytes, &opts) else {
            continue;
        };
        if cap.format() != capture::Format::Ctrace(ctrace::Framing::Raw) {
            eprintln!("seed {seed}: {:?}", cap.format());
            continue;
        }
        let mut whole = Vec::new();
        let _ = cap.for_each(|p| whole.push(trace_packet(p)));
        for n in [2usize, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233] {
            match in_pieces(&capture::from_bytes_with(&bytes, &opts).unwrap(), n) {
                (Some(j), pieces) => {
                    if j != whole {
                        bad += 1;
                        let i = j.iter().zip(&whole).position(|(a, b)| a != b);
                        eprintln!(
                            "MISMATCH seed {seed} n {n} pieces {pieces}: whole {} joined {} first diff at {:?}",
                            whole.len(),
                            j.len(),
                            i
                        );
                        if let Some(i) = i {
                            let (a, b) = (&j[i], &whole[i]);
                            eprintln!(
                                "  joined: frame {} ts {} len {} off {} data {} wire {}",
                                a.0,
                                a.1,
                                a.2,
                                a.5,
                                a.6.len(),
                                a.7.len()
                            );
                            eprintln!(
                                "  whole : frame {} ts {} len {} off {} data {} wire {}",
                                b.0,
                                b.1,
                                b.2,
                                b.5,
                                b.6.len(),
                                b.7.len()
                            );
                        }
                    } else {
                        ok += usize::from(pieces > 1);
                    }
                }
                (None, _) => fell += 1,
            }
        }
    }
    eprintln!("{ok} readings in pieces joined up, {fell} fell back, {bad} differed");
    assert_eq!(bad, 0);
    assert!(ok > fell, "{ok} joined up, {fell} fell back");
}

/// `len` bytes of whole packets, each entry followed by `gap` bytes that
/// are no entry (none: side by side).
fn packets(r: &mut Rng, len: usize, gap: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut tod = TOD;
    while bytes.len() < len {
        tod += 1000;
        let n = 200 + r.below(1200) as usize;
        bytes.extend(entry(4, 0, n as u32, false, tod, "OSAQDIO1", &ipv4(r, n)));
        bytes.resize(bytes.len() + gap, 0x55);
    }
    bytes
}

/// Where a trace has no two entries side by side (a writer record of one
/// entry behind a header, say), no piece can be confirmed: throughout,
/// the search stops at its first window; in the middle, the rest would be
/// one piece, extracted whole ahead of the table (its memory counted
/// late) on one core: the trace is read whole.  Entries side by side
/// throughout: as many pieces as asked.
#[test]
fn a_trace_without_entries_side_by_side_is_read_whole() {
    let mut r = Rng(12345);
    let pieces = |b: &[u8], n| capture::from_bytes(b).unwrap().pieces(n).len();
    let apart = packets(&mut r, 3 << 20, 1);
    assert_eq!(pieces(&apart, 6), 0);
    let mut middle = packets(&mut r, 1 << 20, 0);
    middle.extend(packets(&mut r, 1 << 20, 1));
    middle.extend(packets(&mut r, 1 << 20, 0));
    assert_eq!(pieces(&middle, 6), 0);
    let side_by_side = packets(&mut r, 3 << 20, 0);
    assert_eq!(pieces(&side_by_side, 6), 6);
}
