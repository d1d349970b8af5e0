//! Any bytes as a CTRACE file: framing detection, then every record walked
//! twice — with the streaming `Stepper` fed through small, input-chosen
//! reads, and with the whole-slice `Entries` iterator (the two must agree)
//! — every view accessor, the segment grouping and reassembly, and the TOD
//! conversions.  A panic is a bug.
#![no_main]

use ctrace::framing::{self, Entries, Framing, Step, Stepper};
use ctrace::{cte, ebcdic, tod, Cte, Pthdr};
use libfuzzer_sys::fuzz_target;

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
    let whole: Vec<(u64, &[u8])> = Entries::new(file, forced).map_while(|e| e.ok()).collect();
    let streamed = stream(file, forced, chunk);
    assert_eq!(streamed.len(), whole.len());
    for ((o1, b1), (o2, b2)) in streamed.iter().zip(&whole) {
        assert_eq!(o1, o2);
        assert_eq!(&b1[..], *b2);
    }
    let mut slices: Vec<&[u8]> = Vec::new();
    for (_, bytes) in &whole {
        let cte = Cte::new_checked(bytes).expect("the walker returned a bad CTE");
        views(&cte);
        slices.push(bytes);
    }
    // Also take the raw input as one CTE.
    if let Ok(c) = Cte::new_checked(file) {
        views(&c);
    }
    let mut i = 0;
    while i < slices.len() {
        let n = ctrace::segment::group_len(&slices[i..]).max(1);
        if let Ok(r) = ctrace::reassemble(&slices[i..i + n]) {
            let _ = (r.is_complete(), r.packet.len(), r.segments, r.header.traced_len());
        }
        if i + 1 < slices.len() {
            let _ = ctrace::continues(slices[i], slices[i + 1]);
        }
        i += n;
    }
    let _ = ctrace::reassemble(&slices);
});

fn stream(file: &[u8], framing: Framing, chunk: usize) -> Vec<(u64, Vec<u8>)> {
    let mut st = Stepper::new(framing);
    let (mut buf, mut read, mut out) = (Vec::new(), 0usize, Vec::new());
    let mut consumed = 0u64;
    loop {
        let eof = read == file.len();
        match st.step(&buf, eof) {
            Step::Entry { skip, len } => {
                out.push((consumed + skip as u64, buf[skip..skip + len].to_vec()));
                buf.drain(..skip + len);
                consumed += (skip + len) as u64;
                assert_eq!(st.offset(), consumed);
            }
            Step::Skip(n) => {
                assert!(n > 0 && n <= buf.len());
                buf.drain(..n);
                consumed += n as u64;
            }
            Step::NeedMore(n) => {
                assert!(!eof && n > buf.len());
                let end = (read + chunk).min(file.len());
                buf.extend_from_slice(&file[read..end]);
                read = end;
            }
            Step::End => return out,
            Step::Error(e) => {
                let _ = e.to_string();
                return out;
            }
        }
    }
}

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
        let _ = (p.options(), p.is_segmented(), p.device_type(), p.device_type_name());
        let _ = (p.interface_name(), p.job_name(), ebcdic::decode(p.name_bytes()));
        let _ = (p.dt_domain(), p.dt_type(), p.dt_protocol(), p.dt_state(), p.tod(), p.unix_ns(3));
        let _ = (p.src_ip(), p.dst_ip(), p.src_port(), p.dst_port(), p.packet_len(), p.traced_len());
        let _ = (p.is_abbreviated(), p.protocol(), p.vlan_id(), p.segment_offset());
        let _ = (p.interface_index(), p.drop_reason(), p.expects_more(), p.as_bytes().len());
    }
}
