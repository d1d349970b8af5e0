//! The `ctrace` dissector: z/OS Communications Server component trace
//! records (SYSTCPDA packet and data trace, SYSTCPOT OSAENTA), as our
//! wiretap reader hands them over: one packet's CTE, or all CTEs of a
//! packet that was split.  Every header field is shown (`fields`), the
//! packet is put back together when split (the `ctrace` crate), and handed
//! to Wireshark's own dissectors: IPv4/IPv6 for packet trace, Ethernet for
//! OSAENTA, the socket's port dissector for data trace.

mod fields;

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicPtr, Ordering};

use ctrace::{cte, Cte, Pthdr};
use wireshark_ffi::packet::{handle_for, handle_named, Outcome, Packet, Tree};
use wireshark_ffi::register::{Protocol, UintPref};
use wireshark_ffi::sys;

use fields::*;

static PROTO: Protocol = Protocol::new();
static PREF_TOD_MINUS_UTC: UintPref = UintPref::new(0);

static IP: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static IPV6: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static ETH: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());
static DATA: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(std::ptr::null_mut());

pub fn register() {
    let mut reg = PROTO.register(
        c"z/OS Communications Server component trace record",
        c"CTRACE",
        c"ctrace",
        c"ctrace.internal_error",
    );
    fields::register(&reg);
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
}

wireshark_ffi::dissector!(dissect, &PROTO, dissect_record);

fn leap_seconds() -> i64 {
    i64::from(PREF_TOD_MINUS_UTC.get())
}

/// The CTEs of the record: (offset, view); a damaged one ends the list
/// with its error.
fn split(bytes: &[u8]) -> (Vec<(usize, Cte<'_>)>, Option<ctrace::Error>) {
    let mut ctes = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        match Cte::new_checked(&bytes[offset..]) {
            Ok(cte) => {
                let len = cte.len();
                ctes.push((offset, cte));
                offset += len;
            }
            Err(error) => return (ctes, Some(error.at(offset as u64))),
        }
    }
    (ctes, None)
}

fn dissect_record(packet: &mut Packet) -> Outcome {
    packet.set_protocol_column(c"CTRACE");
    // IP/TCP write after our "To/From interface" prefix.
    let bytes = packet.bytes();
    let root = packet.add_protocol(packet.tree(), &PROTO, &ETT, 0, bytes.len());
    let (ctes, error) = split(bytes);
    if let Some(error) = error {
        packet.add_expert(root, &EI_MALFORMED, &error.to_string());
    }
    let Some(&(first_at, first)) = ctes.first() else {
        packet.set_info("CTRACE: malformed record");
        return Outcome::Done(bytes.len());
    };
    show_cte(packet, root, first_at, &first);
    if first.is_lost_record() {
        let item = packet.add_bool(root, &LOST, first_at + 4, 1, 1);
        packet.add_expert(
            item,
            &EI_LOST,
            "Trace records were lost here (the trace buffer overflowed)",
        );
        packet.set_info("Lost trace records");
        return Outcome::Done(bytes.len());
    }
    if !first.has_pthdr() {
        // Old IPv4 (GTCNTL), X.25, EE: no public header layout; the CTE
        // fields above and the data bytes are what is known.
        let name = first.format_name().unwrap_or("unknown record kind");
        packet.set_info(&format!(
            "CTRACE {name} (format id {:#x})",
            first.format_id()
        ));
        let data = first.data();
        if data.is_empty() {
            return Outcome::Done(bytes.len());
        }
        return Outcome::HandOffRange {
            handle: DATA.load(Ordering::Relaxed),
            offset: first_at + usize::from(first.cteoff()),
            len: data.len(),
        };
    }
    let pthdr = match Pthdr::from_cte(&first) {
        Ok(pthdr) => pthdr,
        Err(error) => {
            packet.add_expert(root, &EI_MALFORMED, &error.at(first_at as u64).to_string());
            packet.set_info("CTRACE: malformed packet trace header");
            return Outcome::Done(bytes.len());
        }
    };
    let header_at = first_at + usize::from(first.cteoff());
    show_pthdr(packet, root, header_at, first.fmtid(), &pthdr);
    packet.set_info(&info(&pthdr, first.fmtid()));
    packet.fence_info();

    // The packet: one CTE's payload, or the segments joined.
    let slices: Vec<&[u8]> = ctes.iter().map(|(_, cte)| cte.as_bytes()).collect();
    let whole = if ctes.len() > 1 {
        match ctrace::reassemble(&slices) {
            Ok(joined) => {
                show_segments(packet, root, &ctes);
                if !joined.is_complete() {
                    packet.add_expert(
                        root,
                        &EI_INCOMPLETE,
                        "Entries of this segmented packet are missing",
                    );
                }
                Some(joined.packet)
            }
            Err(error) => {
                packet.add_expert(root, &EI_MALFORMED, &error.to_string());
                None
            }
        }
    } else {
        if pthdr.is_segmented() {
            packet.add_expert(
                root,
                &EI_INCOMPLETE,
                "Segmented packet: the other entries are missing",
            );
        }
        Some(Cow::Borrowed(pthdr.payload()))
    };
    let Some(whole) = whole else {
        return Outcome::Done(bytes.len());
    };
    if whole.is_empty() {
        return Outcome::Done(bytes.len());
    }
    let handle = next_dissector(first.fmtid(), &pthdr, &whole);
    match whole {
        Cow::Borrowed(payload) => Outcome::HandOffRange {
            handle,
            offset: header_at + usize::from(pthdr.header_len()),
            len: payload.len(),
        },
        Cow::Owned(joined) => {
            let (source, _) = packet.data_source(&joined, c"Reassembled CTRACE packet");
            Outcome::HandOffData {
                handle,
                data: source,
                offset: 0,
            }
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

fn show_cte(packet: &Packet, root: Tree, at: usize, cte: &Cte) {
    // The record kind labels the whole CTE header.
    let item = packet.add_uint(
        root,
        &FMTID,
        at,
        usize::from(cte.cteoff()),
        cte.fmtid().into(),
    );
    let sub = packet.subtree(item, &ETT_CTE);
    packet.add_uint(sub, &CTE_LEN, at, 2, cte.len() as u32);
    packet.add_uint(sub, &CTE_OFFSET, at + 2, 2, cte.cteoff().into());
    packet.add_uint(sub, &FORMAT_ID, at + 4, 4, cte.format_id());
    packet.add_time(
        sub,
        &CTE_TIME,
        at + 8,
        8,
        ctrace::tod::to_unix_ns(cte.tod(), leap_seconds()),
    );
    packet.add_uint(
        sub,
        &CTE_TRAILING_LEN,
        at + cte.len() - 2,
        2,
        cte.trailing_len().into(),
    );
}

fn show_pthdr(packet: &Packet, root: Tree, at: usize, fmtid: u8, pthdr: &Pthdr) {
    use ctrace::pthdr::field;
    let item = packet.add_uint(
        root,
        &PTH_LEN,
        at + field::LEN.start,
        2,
        pthdr.header_len().into(),
    );
    packet.set_len(item, usize::from(pthdr.header_len()));
    let sub = packet.subtree(item, &ETT_PTHDR);
    packet.add_uint(sub, &SEQ, at + field::SEQ_NUM, 1, pthdr.seq_num().into());
    let flags = pthdr.flags();
    let fl = packet.add_uint(sub, &FLAGS, at + field::FLAG, 1, flags.into());
    let fl = packet.subtree(fl, &ETT_FLAGS);
    for bit in [&FLAG_LOCAL, &FLAG_CF_TXT, &FLAG_CLEAR_TXT, &FLAG_OUT] {
        packet.add_bool(fl, bit, at + field::FLAG, 1, flags.into());
    }
    let direction = if pthdr.is_outbound() { "To" } else { "From" };
    let item = packet.add_string(sub, &DIRECTION, at + field::FLAG, 1, direction);
    packet.set_generated(item);
    let options = pthdr.options();
    let op = packet.add_uint(sub, &OPTIONS, at + field::OPT, 1, options.into());
    let op = packet.subtree(op, &ETT_FLAGS);
    packet.add_bool(op, &OPT_SEGMENT, at + field::OPT, 1, options.into());
    packet.add_uint(
        sub,
        &DEVTYPE,
        at + field::DEV_TYPE,
        1,
        pthdr.device_type().into(),
    );
    if fmtid == cte::FMT_DATA {
        packet.add_string(
            sub,
            &JOB,
            at + field::JOB_NAME.start,
            8,
            pthdr.job_name().trim_end(),
        );
        packet.add_uint(
            sub,
            &DT_DOMAIN,
            at + field::DT_DOMAIN,
            1,
            pthdr.dt_domain().into(),
        );
        packet.add_uint(
            sub,
            &DT_TYPE,
            at + field::DT_TYPE,
            1,
            pthdr.dt_type().into(),
        );
        packet.add_uint(
            sub,
            &DT_PROTOCOL,
            at + field::DT_PROTO,
            1,
            pthdr.dt_protocol().into(),
        );
        packet.add_uint(
            sub,
            &DT_STATE,
            at + field::DT_STATE,
            1,
            pthdr.dt_state().into(),
        );
    } else {
        let name = pthdr.interface_name();
        packet.add_string(sub, &INTERFACE, at + field::NAME.start, 16, name.trim_end());
    }
    packet.add_time(
        sub,
        &TIME,
        at + field::TIME.start,
        8,
        pthdr.unix_ns(leap_seconds()),
    );
    for (ip, v4, v6, range) in [
        (pthdr.src_ip(), &SRC, &SRC6, field::SRC),
        (pthdr.dst_ip(), &DST, &DST6, field::DST),
    ] {
        match ip {
            IpAddr::V4(v) => packet.add_ipv4(sub, v4, at + range.start, 16, v),
            IpAddr::V6(v) => packet.add_ipv6(sub, v6, at + range.start, 16, v),
        };
    }
    packet.add_uint(
        sub,
        &SRCPORT,
        at + field::SPORT.start,
        2,
        pthdr.src_port().into(),
    );
    packet.add_uint(
        sub,
        &DSTPORT,
        at + field::DPORT.start,
        2,
        pthdr.dst_port().into(),
    );
    packet.add_uint(sub, &PLEN, at + field::PLEN.start, 4, pthdr.packet_len());
    packet.add_uint(
        sub,
        &PROTOCOL,
        at + field::PROTOCOL,
        1,
        pthdr.protocol().into(),
    );
    packet.add_uint(
        sub,
        &VLAN,
        at + field::VLAN.start,
        2,
        pthdr.vlan_id().into(),
    );
    packet.add_uint(
        sub,
        &SEGMENT_OFFSET,
        at + field::OFF_SEG.start,
        4,
        pthdr.segment_offset(),
    );
    packet.add_uint(sub, &TLEN, at + field::TLEN.start, 4, pthdr.traced_len());
    packet.add_uint(
        sub,
        &IFINDEX,
        at + field::INF_IX.start,
        4,
        pthdr.interface_index(),
    );
    if let Some(reason) = pthdr.drop_reason() {
        packet.add_uint(
            sub,
            &DROP_REASON,
            at + field::DROP_RSN.start,
            2,
            reason.into(),
        );
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

fn show_segments(packet: &Packet, root: Tree, ctes: &[(usize, Cte)]) {
    let item = packet.add_uint(root, &SEGMENTS, 0, 0, ctes.len() as u32);
    packet.set_generated(item);
    let sub = packet.subtree(item, &ETT_SEGMENTS);
    for (at, cte) in ctes {
        if let Ok(pthdr) = Pthdr::from_cte(cte) {
            let header = at + usize::from(cte.cteoff());
            packet.add_uint(
                sub,
                &SEGMENT_SEQ,
                header + ctrace::pthdr::field::SEQ_NUM,
                1,
                pthdr.seq_num().into(),
            );
        }
    }
}
