//! The `ctrace` dissector: z/OS Communications Server component trace
//! records (SYSTCPDA packet and data trace, SYSTCPOT OSAENTA), as our
//! wiretap reader hands them over: one packet's trace record — the bytes
//! skipped before its entry (a writer record header, damage), the entry, or
//! all entries of a packet that was split.  The record is read again with
//! the `ctrace` crate's [`Reader::read_record`] (the pipeline the file reader
//! used), every field is shown at the position the crate's layout table
//! gives (`ctrace::layout`), what the reader noted becomes expert info, and
//! the packet goes to Wireshark's own dissectors: IPv4/IPv6 for packet
//! trace, Ethernet for OSAENTA, the socket's port dissector for data trace.

mod fields;
mod report;
mod smc;

use std::cell::RefCell;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicPtr, Ordering};

use ctrace::layout::{cte as cte_at, pthdr as pth_at};
use ctrace::{cte, Cte, Kind, NoteKind, Packet as Record, Pthdr, Reader};
use wireshark_ffi::packet::{handle_for, handle_named, Outcome, Packet, Tree};
use wireshark_ffi::register::{Protocol, UintPref};
use wireshark_ffi::sys;

use fields::*;

pub(crate) static PROTO: Protocol = Protocol::new();
static PREF_TOD_MINUS_UTC: UintPref = UintPref::new(0);

pub(crate) static IP: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
pub(crate) static IPV6: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static ETH: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
pub(crate) static DATA: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());

pub fn register() {
    let mut reg = PROTO.register(
        c"z/OS Communications Server component trace record",
        c"CTRACE",
        c"ctrace",
        c"ctrace.internal_error",
    );
    fields::register(&reg);
    report::register(&reg);
    smc::register(&reg);
    reg.uint_pref(
        &PREF_TOD_MINUS_UTC,
        c"tod_leap_seconds",
        c"TOD clock minus UTC (seconds)",
        c"Leap seconds the z/OS TOD clock runs ahead of UTC (0 when the TOD is set to UTC; \
          27 for a TOD that counts every leap second since 1972).  Applies to ctrace.time \
          and ctrace.cte.time; the frame time is read with 0 (use View > Time Shift).",
    );
}

pub fn handoff() {
    // SAFETY: wtap_name_to_encap only reads; the encapsulation exists when
    // our wiretap plugin is loaded (wiretap plugins register first).
    unsafe {
        let encap = sys::wtap_name_to_encap(c"ctrace".as_ptr());
        if encap > 0 {
            let handle = sys::register_dissector(c"ctrace".as_ptr(), Some(dissect), PROTO.id());
            sys::dissector_add_uint(c"wtap_encap".as_ptr(), encap as u32, handle);
        }
    }
    IP.store(handle_named(c"ip"), Ordering::Relaxed);
    IPV6.store(handle_named(c"ipv6"), Ordering::Relaxed);
    ETH.store(handle_named(c"eth_withoutfcs"), Ordering::Relaxed);
    DATA.store(handle_named(c"data"), Ordering::Relaxed);
    report::handoff();
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_record);

pub(crate) fn leap_seconds() -> i64 {
    i64::from(PREF_TOD_MINUS_UTC.get())
}

thread_local! {
    /// Reads records again; its buffers are kept from frame to frame.
    static READER: RefCell<Reader> = RefCell::new(Reader::for_records());
}

fn dissect_record(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"CTRACE");
    READER.with(|reader| match reader.try_borrow_mut() {
        Ok(mut reader) => dissect_with(packet, &mut reader),
        // never nested in practice; a fresh reader if it were
        Err(_) => dissect_with(packet, &mut Reader::for_records()),
    })
}

fn dissect_with(packet: &mut Packet, reader: &mut Reader) -> Outcome {
    let bytes = packet.bytes().to_vec();
    let root = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let record = reader.read_record(&bytes);
    // Without a tree (plain `tshark -r`) only the columns and the hand-off
    // are wanted: the items would be dropped anyway.
    let tree = !root.is_null();
    if tree {
        show_notes(packet, root, &record);
    }
    let Some(&(first_at, first_len)) = record.entries.first() else {
        packet.set_info("CTRACE: no trace entry (bytes skipped)");
        return Outcome::Done(bytes.len());
    };
    let Ok(first) = Cte::new_checked(&bytes[first_at..first_at + first_len]) else {
        return Outcome::Done(bytes.len());
    };
    if tree {
        show_cte(packet, root, first_at, &first);
    }
    match record.kind {
        Kind::Lost => {
            let kind = at(first_at, &cte_at::TRACE_TYPE);
            let item = packet.add_bool(root, &LOST, kind.start, kind.len(), 1);
            packet.add_expert(
                item,
                &EI_LOST,
                "Trace records were lost here (the trace buffer overflowed)",
            );
            packet.set_info("Lost trace records");
            Outcome::Done(bytes.len())
        }
        Kind::Traced(fmtid) => {
            let Some(pthdr) = record.pthdr() else {
                return Outcome::Done(bytes.len());
            };
            let header_at = first_at + usize::from(first.cteoff());
            if tree {
                show_pthdr(packet, root, header_at, fmtid, &pthdr);
                if record.segments() > 1 {
                    show_segments(packet, root, &bytes, &record);
                }
            }
            packet.set_info(&info(&pthdr, fmtid));
            packet.fence_info();
            if fmtid == cte::FMT_SMC && record.segments() == 1 {
                // the extension as S3-SMC reads it; no dissector follows
                let data_at = header_at + usize::from(pthdr.header_len());
                let end = data_at + record.data.len();
                let ext = header_at + ctrace::layout::smc::AFTER_PTHDR;
                let kind = smc::show(packet, root, ext, end, pthdr.interface_name().trim_end());
                packet.append_info(kind);
                return Outcome::Done(bytes.len());
            }
            hand_off(packet, &record, fmtid, &pthdr, header_at)
        }
        Kind::Other(_) | Kind::NoEntry => {
            // Old IPv4 (GTCNTL), X.25, EE IPv4: no public header layout; the
            // CTE fields above and the data bytes are what is known.
            let name = first.format_name().unwrap_or("unknown record kind");
            packet.set_info(&format!(
                "CTRACE {name} (format id {:#x})",
                first.format_id()
            ));
            let data = first.data_range();
            if data.is_empty() {
                return Outcome::Done(bytes.len());
            }
            Outcome::HandOffRange {
                handle: DATA.load(Ordering::Relaxed),
                offset: first_at + data.start,
                len: data.len(),
            }
        }
    }
}

/// The traced bytes go to the next dissector: where they are in the frame,
/// or (segments joined) as a new data source.
fn hand_off(
    packet: &mut Packet,
    record: &Record,
    fmtid: u8,
    pthdr: &Pthdr,
    header_at: usize,
) -> Outcome {
    let whole = record.data;
    if whole.is_empty() {
        return Outcome::Done(record.record.len());
    }
    let handle = next_dissector(fmtid, pthdr, whole);
    if record.segments() == 1 {
        return Outcome::HandOffRange {
            handle,
            offset: header_at + usize::from(pthdr.header_len()),
            len: whole.len(),
        };
    }
    let (source, _) = packet.data_source(whole, c"Reassembled CTRACE packet");
    Outcome::HandOffData {
        handle,
        data: source,
        offset: 0,
    }
}

/// What the reader noted: skipped bytes as `ctrace.writer_header` items,
/// contradictions as expert info.
fn show_notes(packet: &Packet, root: Tree, record: &Record) {
    for note in record.notes {
        let at = note.offset as usize;
        match &note.kind {
            NoteKind::Skipped { len, why } => {
                let range = at..at + *len as usize;
                let item = packet.add_bytes_at(root, &WRITER_HEADER, range);
                match why {
                    Some(_) => packet.add_expert(item, &EI_MALFORMED, &note.to_string()),
                    None => packet.add_expert(item, &EI_SKIPPED, &note.to_string()),
                }
            }
            NoteKind::TracedBeyondEntry { .. } => {
                packet.add_expert(root, &EI_INCOMPLETE, &note.to_string())
            }
            NoteKind::OrphanSegment { .. } => {
                packet.add_expert(root, &EI_INCOMPLETE, &note.to_string())
            }
            _ => packet.add_expert(root, &EI_LENGTHS, &note.to_string()),
        }
    }
}

/// Who decodes the traced bytes.
fn next_dissector(fmtid: u8, pthdr: &Pthdr, payload: &[u8]) -> sys::dissector_handle_t {
    let data = DATA.load(Ordering::Relaxed);
    let chosen = match fmtid {
        cte::FMT_OSAENTA => ETH.load(Ordering::Relaxed),
        cte::FMT_DATA => {
            // Socket payload: the dissector of the lower well-known port.
            let table = match pthdr.dt_protocol() {
                17 => c"udp.port",
                _ => c"tcp.port",
            };
            let (a, b) = (pthdr.src_port(), pthdr.dst_port());
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let first = handle_for(table, low.into());
            if first.is_null() {
                handle_for(table, high.into())
            } else {
                first
            }
        }
        _ => match payload.first().map(|b| b >> 4) {
            Some(4) => IP.load(Ordering::Relaxed),
            Some(6) => IPV6.load(Ordering::Relaxed),
            _ => data,
        },
    };
    if chosen.is_null() {
        data
    } else {
        chosen
    }
}

/// The Info column, as the IPCS packet trace report words it.
fn info(pthdr: &Pthdr, fmtid: u8) -> String {
    let text = info_text(pthdr, fmtid);
    match pthdr.discarded() {
        Some(code) => format!("{text}[discarded, reason {code}] "),
        None => text,
    }
}

fn info_text(pthdr: &Pthdr, fmtid: u8) -> String {
    let direction = if pthdr.is_outbound() { "To" } else { "From" };
    let extent = if pthdr.is_abbreviated() {
        "Abbrev"
    } else {
        "Full"
    };
    match fmtid {
        cte::FMT_DATA => format!(
            "{direction} job {} {extent}={}: ",
            pthdr.job_name().trim_end(),
            pthdr.traced_len()
        ),
        _ => format!(
            "{direction} {} {extent}={}: ",
            pthdr.interface_name().trim_end(),
            pthdr.traced_len()
        ),
    }
}

/// `field`'s bytes in a structure at `base`.
fn at(base: usize, field: &ctrace::layout::Field) -> Range<usize> {
    field.at(base)
}

fn show_cte(packet: &Packet, root: Tree, base: usize, cte: &Cte) {
    // The record kind (low byte of CTEFMTID) labels the whole CTE header.
    let item = packet.add_uint_at(root, &FMTID, at(base, &cte_at::KIND));
    packet.set_len(item, usize::from(cte.cteoff()));
    let sub = packet.subtree(item, &ETT_CTE);
    packet.add_uint_at(sub, &CTE_LEN, at(base, &cte_at::LENP));
    packet.add_uint_at(sub, &CTE_OFFSET, at(base, &cte_at::OFF));
    packet.add_uint_at(sub, &FORMAT_ID, at(base, &cte_at::FMTID));
    let time = at(base, &cte_at::TIME);
    let ns = ctrace::tod::to_unix_ns(cte.tod(), leap_seconds());
    packet.add_time(sub, &CTE_TIME, time.start, time.len(), ns);
    let lene = cte_at::LENE.range_in(cte.len());
    packet.add_uint_at(sub, &CTE_TRAILING_LEN, base + lene.start..base + lene.end);
}

fn show_pthdr(packet: &Packet, root: Tree, h: usize, fmtid: u8, pthdr: &Pthdr) {
    let item = packet.add_uint_at(root, &PTH_LEN, at(h, &pth_at::LEN));
    packet.set_len(item, usize::from(pthdr.header_len()));
    let sub = packet.subtree(item, &ETT_PTHDR);
    packet.add_uint_at(sub, &SEQ, at(h, &pth_at::SEQ_NUM));
    let flags = at(h, &pth_at::FLAG);
    let fl = packet.add_uint_at(sub, &FLAGS, flags.clone());
    let fl = packet.subtree(fl, &ETT_FLAGS);
    for bit in [&FLAG_LOCAL, &FLAG_CF_TXT, &FLAG_CLEAR_TXT, &FLAG_OUT] {
        packet.add_bool_at(fl, bit, flags.clone());
    }
    let direction = if pthdr.is_outbound() { "To" } else { "From" };
    let item = packet.add_string(sub, &DIRECTION, flags.start, flags.len(), direction);
    packet.set_generated(item);
    packet.add_uint_at(sub, &DEVTYPE, at(h, &pth_at::DEV_TY));
    packet.add_uint_at(sub, &TLEN, at(h, &pth_at::TLEN));
    if fmtid == cte::FMT_DATA {
        let job = at(h, &pth_at::JOB_NM);
        packet.add_string(sub, &JOB, job.start, job.len(), pthdr.job_name().trim_end());
        packet.add_uint_at(sub, &DT_DOMAIN, at(h, &pth_at::DT_DOMAIN));
        packet.add_uint_at(sub, &DT_TYPE, at(h, &pth_at::DT_TYPE));
        packet.add_uint_at(sub, &DT_PROTOCOL, at(h, &pth_at::DT_PROTO));
        packet.add_uint_at(sub, &DT_STATE, at(h, &pth_at::DT_STATE));
    } else {
        let name = at(h, &pth_at::NAME);
        let text = pthdr.interface_name();
        packet.add_string(sub, &INTERFACE, name.start, name.len(), text.trim_end());
    }
    let time = at(h, &pth_at::TIME);
    let ns = pthdr.unix_ns(leap_seconds());
    packet.add_time(sub, &TIME, time.start, time.len(), ns);
    for (ip, v4, v6, field) in [
        (pthdr.src_ip(), &SRC, &SRC6, &pth_at::SRC),
        (pthdr.dst_ip(), &DST, &DST6, &pth_at::DST),
    ] {
        let r = at(h, field);
        match ip {
            IpAddr::V4(_) => {
                let v4_at = ctrace::pthdr::IPV4_IN_16;
                packet.add_ipv4_at(sub, v4, r.start + v4_at.start..r.start + v4_at.end)
            }
            IpAddr::V6(_) => packet.add_ipv6_at(sub, v6, r),
        };
    }
    packet.add_uint_at(sub, &SRCPORT, at(h, &pth_at::SPORT));
    packet.add_uint_at(sub, &DSTPORT, at(h, &pth_at::DPORT));
    let unknown = packet.add_bytes_at(sub, &UNKNOWN, at(h, &pth_at::UNKNOWN));
    let unknown = packet.subtree(unknown, &ETT_UNKNOWN);
    packet.add_uint_at(unknown, &S3_RECORD_NUMBER, at(h, &pth_at::S3_RECORD_NUMBER));
    packet.add_uint_at(unknown, &PROTOCOL, at(h, &pth_at::S3_PROTOCOL));
    packet.add_uint_at(unknown, &VLAN, at(h, &pth_at::S3_VLAN));
    packet.add_uint_at(sub, &PLEN, at(h, &pth_at::PLEN));
    packet.add_uint_at(sub, &IFINDEX, at(h, &pth_at::INF_IX));
    if pthdr.is_full() {
        let item = packet.add_uint_at(sub, &DROP_REASON, at(h, &pth_at::DROP_RSN));
        if let Some(code) = pthdr.discarded() {
            let text = ctrace::pthdr::describe_drop_reason(code);
            packet.add_expert(item, &EI_DISCARDED, &format!("Packet {text}"));
        }
        packet.add_uint_at(sub, &SEGMENT_OFFSET, at(h, &pth_at::OFF_SEG_LEN));
    }
    // A later release's header may be longer than sizeof(pthdr_t): its
    // further bytes are named by no source, but they are there.
    let end = usize::from(pthdr.header_len());
    if end > pth_at::FULL_LEN {
        packet.add_bytes_at(sub, &PTH_REST, h + pth_at::FULL_LEN..h + end);
    }
    let item = packet.add_bool(sub, &ABBREVIATED, 0, 0, pthdr.is_abbreviated().into());
    packet.set_generated(item);
    if pthdr.is_abbreviated() {
        packet.add_expert(
            item,
            &EI_ABBREVIATED,
            &format!(
                "{} of {} bytes traced",
                pthdr.traced_len(),
                pthdr.packet_len()
            ),
        );
    }
}

fn show_segments(packet: &Packet, root: Tree, bytes: &[u8], record: &Record) {
    let item = packet.add_uint(root, &SEGMENTS, 0, 0, record.segments() as u32);
    packet.set_generated(item);
    let sub = packet.subtree(item, &ETT_SEGMENTS);
    for &(start, len) in record.entries {
        if let Ok(cte) = Cte::new_checked(&bytes[start..start + len]) {
            let header = start + usize::from(cte.cteoff());
            packet.add_uint_at(sub, &SEGMENT_SEQ, at(header, &pth_at::SEQ_NUM));
        }
    }
}
