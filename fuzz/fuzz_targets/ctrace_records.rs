//! Any bytes as a CTRACE file: framing detection, then the file read with
//! the one `ctrace::Reader` twice — whole, and streamed through small,
//! input-chosen reads (the two must agree) — every packet's record read
//! again with `Reader::read_record` (the dissector's path: it must find the
//! same packet), every view accessor, and the TOD conversions.  A panic is a
//! bug.
#![no_main]

use ctrace::framing::{self, Framing};
use ctrace::{cte, ebcdic, tod, Cte, Input, Pthdr, ReadInput, Reader, SliceInput};
use libfuzzer_sys::fuzz_target;

/// A reader handing out `n` bytes at a time.
struct Dribble<'a>(&'a [u8], usize);

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.1).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// What a packet is, for comparing two readings.
type Seen = (Vec<u8>, Vec<(usize, usize)>, Vec<u8>, u64, Vec<(u64, usize)>, usize);

fn read(framing: Framing, input: &mut dyn Input) -> Vec<Seen> {
    let mut r = Reader::new(framing);
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet(input) {
        let _ = (p.skipped(), p.pthdr(), p.fmtid(), p.time_ns(27), p.original_len());
        let _ = (p.is_abbreviated(), p.segments(), p.direction, p.name, p.interface_index);
        for n in p.notes {
            let _ = (n.to_string(), n.is_damage(), n.is_unknown_bytes());
        }
        out.push((
            p.record.to_vec(),
            p.entries.to_vec(),
            p.data.to_vec(),
            p.offset,
            p.chunks.to_vec(),
            p.notes.len(),
        ));
    }
    out
}

fuzz_target!(|input: &[u8]| {
    // First byte: read size for the streaming walk and the framing to force.
    let (ctl, file) = match input.split_first() {
        Some((c, rest)) => (*c, rest),
        None => (0, input),
    };
    if let Err(e) = framing::detect(&file[..file.len().min(framing::DETECT_PREFIX)]) {
        let _ = (e.to_string(), e.offset(), e.at(7), e.is_wrong_file_kind());
    }
    let forced = [Framing::Raw, Framing::Rdw, Framing::BdwRdw][(ctl % 3) as usize];
    let chunk = 1 + (ctl as usize >> 2);
    let whole = read(forced, &mut SliceInput::new(file));
    let streamed = read(forced, &mut ReadInput::new(Dribble(file, chunk)));
    assert_eq!(streamed, whole);
    let mut again = Reader::for_records();
    for (record, entries, data, offset, chunks, _) in &whole {
        let mut from_chunks = Vec::new();
        for &(at, len) in chunks {
            from_chunks.extend_from_slice(&file[at as usize..at as usize + len]);
        }
        assert_eq!(&from_chunks, record, "record at {offset}");
        let p = again.read_record(record);
        assert_eq!(p.record, &record[..]);
        assert_eq!(p.entries, &entries[..]);
        assert_eq!(p.data, &data[..]);
        for &(at, len) in entries {
            let cte = Cte::new_checked(&record[at..at + len]).expect("a checked entry");
            views(&cte);
        }
    }
    // Also take the raw input as one CTE.
    if let Ok(c) = Cte::new_checked(file) {
        views(&c);
    }
});

fn views(c: &Cte) {
    let _ = (c.len(), c.cteoff(), c.format_id(), c.fmtid(), c.trace_type(), c.tod());
    let _ = (c.data().len(), c.trailing_len(), c.is_lost_record(), c.has_pthdr(), c.format_name());
    let _ = (tod::to_unix_ns(c.tod(), 27), tod::to_unix_us(c.tod(), -5), tod::to_unix_secs_nanos(c.tod(), 0));
    let ns = tod::to_unix_ns(c.tod(), 0);
    assert_eq!(tod::to_unix_ns(tod::from_unix_ns(ns, 0), 0), ns);
    let _ = cte::format_name(c.fmtid());
    for p in [Pthdr::from_cte(c), Pthdr::new_checked(c.data())].into_iter().flatten() {
        let _ = (p.header_len(), p.header().len(), p.payload().len(), p.seq_num(), p.flags());
        let _ = (p.is_outbound(), p.is_local(), p.is_confidential(), p.is_clear_text());
        let _ = (p.is_full(), p.device_type(), p.device_type_name(), p.traced_len());
        let _ = (p.interface_name(), p.job_name(), ebcdic::decode(p.name_bytes()));
        let _ = (p.dt_domain(), p.dt_type(), p.dt_protocol(), p.dt_state(), p.tod(), p.unix_ns(3));
        let _ = (p.src_ip(), p.dst_ip(), p.src_port(), p.dst_port(), p.packet_len());
        let _ = (p.is_abbreviated(), p.unknown_bytes(), p.off_seg_len());
        let _ = (p.interface_index(), p.drop_reason(), p.as_bytes().len());
    }
}
