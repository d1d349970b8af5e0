use super::*;
use crate::build;
use crate::input::ReadInput;
use crate::layout::{cte as cte_f, pthdr as pth_f, rdw};
use crate::testutil::*;

/// What a test compares of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    kind: Kind,
    record: Vec<u8>,
    entries: Vec<(usize, usize)>,
    data: Vec<u8>,
    direction: Direction,
    tlen: Option<u32>,
    plen: Option<u32>,
    offset: u64,
    chunks: Vec<(u64, usize)>,
    notes: Vec<Note>,
}

fn seen(p: &Packet) -> Seen {
    Seen {
        kind: p.kind,
        record: p.record.to_vec(),
        entries: p.entries.to_vec(),
        data: p.data.to_vec(),
        direction: p.direction,
        tlen: p.tlen,
        plen: p.plen,
        offset: p.offset,
        chunks: p.chunks.to_vec(),
        notes: p.notes.to_vec(),
    }
}

fn read_all(file: &[u8], framing: Framing) -> Vec<Seen> {
    let mut r = Reader::new(framing);
    let mut input = SliceInput::new(file);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet(&mut input).unwrap() {
        out.push(seen(&p));
    }
    out
}

/// A reader that gives out at most `n` bytes at a time.
struct Dribble<'a>(&'a [u8], usize);

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.1).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Reads `file` whole and streamed, checks both agree, that every record
/// reads back to the same packet, and that the chunks give the record.
fn read_checked(file: &[u8], framing: Framing) -> Vec<Seen> {
    let whole = read_all(file, framing);
    for step in [1, 7, 4096] {
        let mut r = Reader::new(framing);
        let mut input = ReadInput::new(Dribble(file, step));
        let mut streamed = Vec::new();
        while let Some(p) = r.next_packet(&mut input).unwrap() {
            streamed.push(seen(&p));
        }
        assert_eq!(streamed, whole, "streamed {step} bytes at a time");
    }
    let mut again = Reader::for_records();
    for s in &whole {
        let mut from_chunks = Vec::new();
        for &(at, len) in &s.chunks {
            from_chunks.extend_from_slice(&file[at as usize..at as usize + len]);
        }
        assert_eq!(
            from_chunks, s.record,
            "chunks of the record at {}",
            s.offset
        );
        let p = again.read_record(&s.record);
        assert_eq!(p.kind, s.kind);
        assert_eq!(p.record, &s.record[..]);
        assert_eq!(p.entries, &s.entries[..]);
        assert_eq!(p.data, &s.data[..]);
        assert_eq!((p.direction, p.tlen, p.plen), (s.direction, s.tlen, s.plen));
        // the same notes, except framing notes (no descriptors in a record)
        // and where a record start split skipped bytes in two
        let kinds = |n: &[Note]| -> (Vec<String>, u64) {
            let skipped = n
                .iter()
                .map(|n| match n.kind {
                    NoteKind::Skipped { len, .. } => len,
                    _ => 0,
                })
                .sum();
            let others = n
                .iter()
                .filter(|n| {
                    !matches!(
                        n.kind,
                        NoteKind::Skipped { .. }
                            | NoteKind::LongRecord { .. }
                            | NoteKind::SegmentOrder { .. }
                            | NoteKind::FramingLost { .. }
                            | NoteKind::TruncatedRecord { .. }
                    )
                })
                .map(|n| format!("{:?}", n.kind))
                .collect();
            (others, skipped)
        };
        assert_eq!(kinds(p.notes), kinds(&s.notes), "notes of {}", s.offset);
    }
    whole
}

#[test]
fn raw_buffers_with_padding_and_short_entries() {
    // entries below 256 bytes start with a zero byte right after padding
    let ctes = vec![packet(40, true), packet(120, false), packet(30, true)];
    let file = raw(&ctes, 256, &[]);
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].direction, Direction::Outbound);
    assert_eq!(got[1].direction, Direction::Inbound);
    assert_eq!(got[1].data, ipv4(120));
    assert_eq!(got[1].tlen, Some(120));
    assert_eq!(got[2].offset, 512);
    assert!(got.iter().all(|s| s.notes.is_empty()), "{got:?}");
    assert_eq!(got[0].record, ctes[0]);
    assert_eq!(got[0].chunks, vec![(0, ctes[0].len())]);
}

#[test]
fn unknown_bytes_before_each_buffer_are_skipped_and_kept_in_the_record() {
    let header: Vec<u8> = (1..=40).collect();
    let ctes = vec![packet(100, true), packet(100, false), packet(3900, true)];
    let file = raw(&ctes, 4096, &header);
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].record[..40], header[..]);
    assert_eq!(got[0].entries, vec![(40, ctes[0].len())]);
    assert_eq!(
        got[0].notes,
        vec![Note {
            offset: 0,
            kind: NoteKind::Skipped { len: 40, why: None }
        }]
    );
    assert!(got[1].notes.is_empty());
    // the third entry did not fit: a new buffer, its header after padding
    assert_eq!(got[2].offset, 4096);
    assert_eq!(got[2].notes.len(), 1);
    assert_eq!(got[2].data, ipv4(3900));
}

#[test]
fn rdw_records_with_writer_headers() {
    let header = [0xC3u8, 0xE3, 0xD9, 0xC5, 0, 0, 0, 7];
    let ctes: Vec<Vec<u8>> = (0..10).map(|i| packet(500 + i * 10, i % 2 == 0)).collect();
    let recs = records(&ctes, 2000, &header);
    let file = rdw_records(&recs);
    assert_eq!(crate::detect(&file).unwrap(), Framing::Rdw);
    let got = read_checked(&file, Framing::Rdw);
    assert_eq!(got.len(), 10);
    let with_header: Vec<usize> = (0..10)
        .filter(|&i| got[i].notes.iter().any(Note::is_unknown_bytes))
        .collect();
    assert_eq!(with_header.len(), recs.len());
    // every record's header, zeros included, is in front of its first entry
    for &i in &with_header {
        assert_eq!(got[i].record[..8], header);
    }
    assert_eq!(got[0].offset, rdw::SIZE as u64);
}

#[test]
fn spanned_records_are_joined_and_long_rdw_records_noted() {
    let ctes: Vec<Vec<u8>> = (0..6).map(|i| packet(13_000 + i, i % 3 == 0)).collect();
    let recs = records(&ctes, 40_000, b"WRITERHD");
    let segments = vbs_segments(&recs, 5000);
    let file: Vec<u8> = segments.concat();
    assert_eq!(crate::detect(&file).unwrap(), Framing::Rdw);
    let got = read_checked(&file, Framing::Rdw);
    assert_eq!(got.len(), 6);
    for (s, c) in got.iter().zip(&ctes) {
        assert_eq!(&s.record[s.entries[0].0..], &c[..]);
        assert!(s.chunks.len() >= 2, "an entry spans segments");
        assert!(
            s.notes.iter().all(|n| n.is_unknown_bytes()),
            "{:?}",
            s.notes
        );
    }
    // The same records unspanned: longer than an RDW allows.
    let long = rdw_records(&recs);
    let got = read_checked(&long, Framing::Rdw);
    let longs: Vec<&Note> = got
        .iter()
        .flat_map(|s| &s.notes)
        .filter(|n| matches!(n.kind, NoteKind::LongRecord { .. }))
        .collect();
    assert_eq!(longs.len(), recs.len());
    assert_eq!(longs[0].offset, 0);
    assert_eq!(
        longs[0].kind,
        NoteKind::LongRecord {
            len: (recs[0].len() + 4) as u64
        }
    );
}

#[test]
fn segment_codes_out_of_order_are_noted() {
    let ctes = vec![packet(300, true), packet(300, false)];
    let recs = records(&ctes, 400, &[]);
    let mut segs = vbs_segments(&recs, 100);
    // drop the last segment of the first record: the second record's first
    // segment arrives inside a spanned record
    let last_of_first = segs
        .iter()
        .position(|s| s[rdw::SEGMENT.offset] == rdw::LAST)
        .unwrap();
    segs.remove(last_of_first);
    let file = segs.concat();
    let got = read_all(&file, Framing::Rdw);
    let order: Vec<&Note> = got
        .iter()
        .flat_map(|s| &s.notes)
        .filter(|n| matches!(n.kind, NoteKind::SegmentOrder { inside: true, .. }))
        .collect();
    assert_eq!(order.len(), 1);
    // the second packet is still found
    assert!(got.iter().any(|s| s.record.ends_with(&ctes[1])));
}

#[test]
fn bdw_blocks_of_records_and_segments() {
    let ctes: Vec<Vec<u8>> = (0..8).map(|i| packet(700 + i * 100, i % 2 == 1)).collect();
    let recs = records(&ctes, 3000, &[0xAA; 12]);
    let framed = vbs_segments(&recs, 1000);
    let file = bdw_blocks(&framed, 4000);
    assert_eq!(crate::detect(&file).unwrap(), Framing::BdwRdw);
    let got = read_checked(&file, Framing::BdwRdw);
    assert_eq!(got.len(), 8);
    for (s, c) in got.iter().zip(&ctes) {
        assert_eq!(&s.record[s.entries[0].0..], &c[..]);
    }
}

#[test]
fn segmented_packets_are_joined_across_padding_and_headers() {
    let bytes = ipv4(70_000);
    let segs = segmented(4, &bytes, 30_000, true);
    assert_eq!(segs.len(), 3);
    let mut ctes = vec![packet(60, false)];
    ctes.extend(segs.iter().cloned());
    ctes.push(packet(61, false));
    // each segment fills a buffer of its own: padding and a header between
    let file = raw(&ctes, 32_768, b"HDR1HDR2");
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(
        got.len(),
        3,
        "{:?}",
        got.iter().map(|s| s.kind).collect::<Vec<_>>()
    );
    let p = &got[1];
    assert_eq!(p.entries.len(), 3);
    assert_eq!(p.data, bytes);
    assert_eq!(p.tlen, Some(70_000));
    assert_eq!(p.direction, Direction::Outbound);
    // PTH_Plen is 16 bits: it cannot say 70 000 (the IP header can't
    // either), which is no contradiction of the record's (audit F2)
    assert!(!p
        .notes
        .iter()
        .any(|n| matches!(n.kind, NoteKind::PlenBelowTlen { .. })));
    assert_eq!(got[2].data, ipv4(61));
}

#[test]
fn a_missing_segment_leaves_an_incomplete_packet_and_an_orphan() {
    let bytes = ipv4(1000);
    let mut segs = segmented(4, &bytes, 400, false);
    segs.remove(1);
    let file = raw(&segs, 4096, &[]);
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, bytes[..400]);
    assert!(got[0].notes.iter().any(|n| n.kind
        == NoteKind::TracedBeyondEntry {
            tlen: 1000,
            have: 400
        }));
    assert!(got[1]
        .notes
        .iter()
        .any(|n| n.kind == NoteKind::OrphanSegment { seq: 2 }));
}

#[test]
fn a_damaged_entry_is_skipped_and_reading_goes_on() {
    let ctes: Vec<Vec<u8>> = (0..4).map(|i| packet(200 + i, true)).collect();
    let mut file = raw(&ctes, 4096, &[]);
    // break the second entry's CTELENE
    let second = ctes[0].len();
    let lene = cte_f::LENE.range_in(ctes[1].len());
    file[second + lene.start + 1] ^= 0x40;
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got.len(), 3);
    let n = &got[1].notes[0];
    assert_eq!(n.offset, second as u64);
    assert!(n.is_damage());
    assert!(n.to_string().contains("CTELENE"), "{n}");
    assert_eq!(got[1].entries[0].0, ctes[1].len());
    assert_eq!(got[1].data, ipv4(202));
}

#[test]
fn a_file_cut_inside_an_entry_ends_with_what_is_left() {
    let ctes = vec![packet(300, true), packet(300, false)];
    let mut file = raw(&ctes, 1024, &[]);
    file.truncate(ctes[0].len() + 100);
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].kind, Kind::NoEntry);
    assert_eq!(got[1].record.len(), 100);
    assert!(got[1].notes[0].is_damage());
    assert!(got[1].notes[0].to_string().contains("truncated"));
}

#[test]
fn lengths_that_contradict_each_other_are_said() {
    // abbreviated: 200 of a 1500-byte packet
    let mut ip = ipv4(200);
    ip[2..4].copy_from_slice(&1500u16.to_be_bytes());
    let mut e = entry(4, 0, 200, true, &ip);
    pth_f::PLEN.put_uint(&mut e[16..], 1500);
    let file = raw(&[e], 1024, &[]);
    let got = read_checked(&file, Framing::Raw);
    assert!(got[0].notes.is_empty(), "{:?}", got[0].notes);
    assert_eq!((got[0].tlen, got[0].plen), (Some(200), Some(1500)));
    // PTH_Plen below PTH_Tlen, and the IP header disagreeing with PTH_Plen
    let mut e = entry(4, 0, 100, true, &ipv4(100));
    pth_f::PLEN.put_uint(&mut e[16..], 90);
    // PTH_Tlen beyond what the entry holds
    let f = entry(4, 0, 150, true, &ipv4(120));
    // more bytes than PTH_Tlen
    let g = entry(4, 0, 50, true, &ipv4(60));
    let file = raw(&[e, f, g], 4096, &[]);
    let got = read_checked(&file, Framing::Raw);
    let kinds: Vec<Vec<NoteKind>> = got
        .iter()
        .map(|s| s.notes.iter().map(|n| n.kind.clone()).collect())
        .collect();
    assert_eq!(
        kinds[0],
        vec![
            NoteKind::PlenBelowTlen {
                plen: 90,
                tlen: 100
            },
            NoteKind::IpLength { ip: 100, plen: 90 }
        ]
    );
    assert_eq!(
        kinds[1][0],
        NoteKind::TracedBeyondEntry {
            tlen: 150,
            have: 120
        }
    );
    assert_eq!(kinds[2][0], NoteKind::BeyondTlen { tlen: 50, have: 60 });
    assert_eq!(got[0].notes[0].offset, 16, "at the packet trace header");
}

#[test]
fn a_bad_descriptor_ends_the_framing_and_the_scanner_resynchronises() {
    let ctes: Vec<Vec<u8>> = (0..5).map(|i| packet(100 + i, true)).collect();
    let recs: Vec<Vec<u8>> = ctes.iter().map(|c| c.to_vec()).collect();
    let mut file = rdw_records(&recs);
    let third = 2 * rdw::SIZE + ctes[0].len() + ctes[1].len();
    file[third + rdw::RESERVED.offset] = 0x99;
    let got = read_checked(&file, Framing::Rdw);
    assert_eq!(got.len(), 5);
    assert!(got[2]
        .notes
        .iter()
        .any(|n| matches!(n.kind, NoteKind::FramingLost { .. }) && n.offset == third as u64 + 2));
    // from then on each RDW shows up as 4 skipped bytes
    assert_eq!(got[3].entries[0].0, 4);
}

#[test]
fn other_entries_lost_markers_and_headers_of_other_lengths() {
    let lost = build::cte(0xFF00_0000, 1, &[]);
    let old = build::cte(1, 2, b"gtcntl");
    let mut short = packet(40, true);
    // PTH_Len 88: no PTH_DropRsn, no PTH_OffSegLen
    let h = crate::build::Header {
        tlen: 4,
        plen: 4,
        ..Default::default()
    };
    let mut data = h.bytes_with_len(88);
    data.extend_from_slice(b"abcd");
    short = [short, build::cte(4, 0, &data)].concat();
    let file = raw(&[lost, old, short], 4096, &[]);
    let got = read_checked(&file, Framing::Raw);
    assert_eq!(got[0].kind, Kind::Lost);
    assert_eq!(got[1].kind, Kind::Other(1));
    assert_eq!(got[1].data, b"gtcntl");
    assert_eq!(got[2].kind, Kind::Traced(4));
    assert_eq!(got[3].data, b"abcd");
    let mut r = Reader::for_records();
    assert_eq!(
        r.read_record(&got[3].record).pthdr().unwrap().drop_reason(),
        None
    );
}

#[test]
fn detect_every_framing_and_the_files_that_are_not_traces() {
    let ctes: Vec<Vec<u8>> = (0..3).map(|i| packet(300 + i, true)).collect();
    let recs = records(&ctes, 1000, &[]);
    assert_eq!(crate::detect(&raw(&ctes, 4096, &[])).unwrap(), Framing::Raw);
    let mut zeros_first = vec![0u8; 100];
    zeros_first.extend(raw(&ctes, 4096, &[]));
    assert_eq!(crate::detect(&zeros_first).unwrap(), Framing::Raw);
    assert_eq!(
        crate::detect(&raw(&ctes, 4096, &[7; 100])).unwrap(),
        Framing::Raw
    );
    // a first entry longer than the bytes looked at
    let big = raw(&[packet(10_000, true)], 16_384, &[]);
    assert_eq!(crate::detect(&big[..4096]).unwrap(), Framing::Raw);
    let mut rdw_big = rdw_records(&[packet(10_000, true)]);
    rdw_big.truncate(4096);
    assert_eq!(crate::detect(&rdw_big).unwrap(), Framing::Rdw);
    // one entry per writer buffer, a header before each
    let one_each: Vec<Vec<u8>> = (0..3).map(|i| packet(3000 + i, true)).collect();
    assert_eq!(
        crate::detect(&raw(&one_each, 4096, b"HEADERHEADER")).unwrap(),
        Framing::Raw
    );
    // records whose first RDW is damaged: read without descriptors
    let mut broken = rdw_records(&recs);
    broken[rdw::RESERVED.offset] = 0x77;
    assert_eq!(crate::detect(&broken).unwrap(), Framing::Raw);
    // too many unknown bytes before the first entry: not taken for a trace
    assert!(crate::detect(&raw(&ctes, 8192, &[7; 2000])).is_err());
    assert_eq!(crate::detect(&rdw_records(&recs)).unwrap(), Framing::Rdw);
    let framed: Vec<Vec<u8>> = vbs_segments(&recs, 64);
    assert_eq!(crate::detect(&framed.concat()).unwrap(), Framing::Rdw);
    assert_eq!(
        crate::detect(&bdw_blocks(&framed, 500)).unwrap(),
        Framing::BdwRdw
    );
    let mut xmit = vec![0x50, 0xE0];
    xmit.extend_from_slice(&crate::framing::XMIT_MAGIC);
    xmit.resize(100, 0x40);
    assert!(matches!(
        crate::detect(&xmit),
        Err(Error::Xmit { offset: 2 })
    ));
    assert!(matches!(
        crate::detect(b"TRSNIFF data    \x1a and more bytes"),
        Err(Error::Sniffer { .. })
    ));
    assert!(matches!(
        crate::detect(b" 1 MVS1 PACKET 00000004 20:48:42.883175 Packet Trace\n To Interface"),
        Err(Error::Text { .. })
    ));
    assert!(matches!(
        crate::detect(&[0x05, 0x01, 0, 0, 1, 0, 0x6D, 0x5E, 0, 0, 0x6D, 0x5A, 9, 9, 9, 9, 9, 9, 9]),
        Err(Error::Terse { mode: "SPACK", .. })
    ));
    assert!(matches!(
        crate::detect(&[0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(Error::UnknownFraming { .. })
    ));
    assert!(matches!(
        crate::detect(&[0; 40]),
        Err(Error::UnknownFraming { .. })
    ));
    assert!(matches!(
        crate::detect(&[1; 5]),
        Err(Error::Truncated { .. })
    ));
}

/// xorshift64*: a small deterministic generator for the mutation test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Damaged files of every framing: whatever the damage, the whole and the
/// streamed readings agree, every record's pieces give the record, and
/// reading a record again finds the same packet (what the fuzz target
/// checks, here on a fixed set of mutations so it runs in every test run).
#[test]
fn damaged_files_read_alike_whole_streamed_and_record_by_record() {
    let bytes = ipv4(3000);
    let mut ctes: Vec<Vec<u8>> = (0..12).map(|i| packet(60 + i * 37, i % 2 == 0)).collect();
    ctes.extend(segmented(4, &bytes, 1000, true));
    ctes.push(build::cte(0xFF00_0000, 1, &[]));
    let recs = records(&ctes, 1500, b"HDRHDRHD");
    let files = [
        (raw(&ctes, 2048, &[]), Framing::Raw),
        (raw(&ctes, 2048, b"HDRHDRHD"), Framing::Raw),
        (rdw_records(&recs), Framing::Rdw),
        (vbs_segments(&recs, 300).concat(), Framing::Rdw),
        (bdw_blocks(&vbs_segments(&recs, 700), 1800), Framing::BdwRdw),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut packets = 0;
    for round in 0..15 {
        for (file, framing) in &files {
            let mut f = file.clone();
            let flips = 1 + rng.next() % 6;
            for _ in 0..flips {
                let at = (rng.next() % f.len() as u64) as usize;
                f[at] = rng.next() as u8;
            }
            if round % 5 == 0 {
                let cut = (rng.next() % f.len() as u64) as usize;
                f.truncate(cut.max(1));
            }
            packets += read_checked(&f, *framing).len();
        }
    }
    assert!(packets > 300, "{packets}");
}

#[test]
fn long_runs_of_unknown_bytes_become_records_of_at_most_64_kib() {
    let junk: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 | 0x80).collect();
    let mut file = raw(&[packet(100, true)], 4096, &[]);
    file.extend_from_slice(&junk);
    file.extend(raw(&[packet(120, false)], 4096, &[]));
    let got = read_checked(&file, Framing::Raw);
    let sizes: Vec<(Kind, usize)> = got.iter().map(|s| (s.kind, s.record.len())).collect();
    assert_eq!(sizes.len(), 5, "{sizes:?}");
    assert_eq!(sizes[0].0, Kind::Traced(4));
    for &(kind, len) in &sizes[1..4] {
        assert_eq!((kind, len as u64), (Kind::NoEntry, MAX_SKIPPED));
    }
    assert_eq!(sizes[4].0, Kind::Traced(4));
    assert_eq!(got[4].data, ipv4(120));
    assert!(sizes[4].1 < MAX_SKIPPED as usize);
}
