//! Shows a decoded EE datagram as protocol tree items: one function per
//! layer.  Every item covers exactly the bytes it describes: a structure
//! (header, segment, vector) is a label over its whole range with its
//! fields beneath, and every field's range comes from the `ee` crate's
//! layout constants (`field` modules) shifted to where the crate found the
//! structure — no offset is written here.

use std::ops::Range;

use ee::anr::{LabelSource, Split};
use ee::cv::{self, Vector};
use ee::datagram::{Body, Datagram, DecodedSegment, Nlp, Payload, SegmentContent};
use ee::fid5::{self, Fid5};
use ee::gds::{self, Gds};
use ee::llc::{self, LlcHeader};
use ee::nhdr::{self, Nhdr};
use ee::thdr::{self, Thdr};
use ee::xid3::{self, Xid3};
use wireshark_ffi::packet::{Packet, Tree};

use super::fields::*;
use super::findings::*;

/// `range` of a structure found at `base`.
fn at(base: usize, range: Range<usize>) -> Range<usize> {
    base + range.start..base + range.end
}

/// A named value of a table, or "unknown".
fn name_of<V: PartialEq>(table: &[(V, &'static str)], value: V) -> &'static str {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("unknown", |(_, n)| n)
}

pub fn llc(packet: &Packet, root: Tree, datagram: &Datagram) {
    let Some(llc) = datagram.llc else { return };
    packet.add_uint_at(root, &LLC_DSAP, llc::field::DSAP);
    packet.add_uint_at(root, &LLC_SSAP, llc::field::SSAP);
    packet.add_uint_at(root, &LLC_CONTROL, llc::field::CONTROL);
    let control = llc::field::CONTROL;
    packet.add_string(
        root,
        &LLC_COMMAND,
        control.start,
        control.len(),
        llc.command().label(),
    );
}

/// Start of the Info column: what kind of frame this is.
pub fn info_prefix(datagram: &Datagram) -> String {
    match (&datagram.llc, &datagram.body) {
        (None, _) => "EE".to_owned(),
        (Some(llc), Body::Nlp(nlp)) => {
            if nlp.thdr.is_some() {
                "HPR".to_owned()
            } else {
                format!("LDLC {}", command_text(llc))
            }
        }
        (Some(llc), _) => format!("LDLC {}", command_text(llc)),
    }
}

fn command_text(llc: &LlcHeader) -> String {
    let kind = if llc.is_response() { "rsp" } else { "cmd" };
    format!("{} {kind}", llc.command().label())
}

/// How the layers below the NHDR are shown: the ANR label split the
/// capture taught, and whether Wireshark's sna shows the FID5 headers.
pub struct Shown<'a> {
    pub labels: Option<&'a Split>,
    pub sna_shows_biu: bool,
}

pub fn body(packet: &Packet, root: Tree, datagram: &Datagram, shown: &Shown, info: &mut String) {
    match &datagram.body {
        Body::None => {}
        Body::Xid { offset, xid } => xid3(packet, root, *offset, xid, info),
        Body::Raw { offset, bytes } => {
            packet.add_bytes(root, &DATA, *offset, bytes.len());
        }
        Body::Nlp(nlp) => network_layer_packet(packet, root, nlp, shown, info),
    }
}

fn network_layer_packet(packet: &Packet, root: Tree, nlp: &Nlp, shown: &Shown, info: &mut String) {
    let base = nlp.offset;
    let nhdr = &nlp.nhdr;
    network_header(packet, root, base, nhdr, shown.labels);
    if let Some((_, frh)) = nhdr.function_routing_header() {
        info.push_str(&format!(
            ", {}",
            name_of(nhdr::FUNCTION_ROUTING_HEADERS, frh)
        ));
    }
    if let Some((offset, data)) = nlp.ldlc {
        if !data.is_empty() {
            packet.add_bytes(root, &DATA, offset, data.len());
        }
    }
    if let Some((at, thdr)) = &nlp.thdr {
        transport_header(packet, root, *at, thdr, &nlp.segments, info);
    }
    match &nlp.payload {
        None => {}
        Some((at, Payload::Fid5(fid5))) => {
            info.push_str(if fid5.is_response() {
                ", FID5 response"
            } else {
                ", FID5 request"
            });
            fid5_headers(packet, root, *at, fid5, shown.sna_shows_biu);
        }
        Some((at, Payload::RouteSetup(gds))) => {
            info.push_str(", Route Setup");
            route_setup(packet, root, *at, gds);
        }
        Some((at, Payload::Continuation(data) | Payload::Other(data))) => {
            packet.add_bytes(root, &DATA, *at, data.len());
        }
    }
}

fn network_header(packet: &Packet, root: Tree, base: usize, nhdr: &Nhdr, labels: Option<&Split>) {
    let item = packet.add_label_at(root, &LBL_NHDR, base..base + nhdr.len());
    let sub = packet.subtree(item, &ETT_NHDR);
    packet.add_uint_at(sub, &NHDR_SM, at(base, nhdr::field::BYTE0));
    packet.add_uint_at(sub, &NHDR_TPF, at(base, nhdr::field::BYTE0));
    packet.add_uint_at(sub, &NHDR_FT, at(base, nhdr::field::BYTE1));
    for flag in [&NHDR_TSI, &NHDR_SLOWDOWN1, &NHDR_SLOWDOWN2] {
        packet.add_bool_at(sub, flag, at(base, nhdr::field::BYTE1));
    }
    let entries = at(base, nhdr.labels_range());
    if !entries.is_empty() {
        let item = packet.add_bytes_at(sub, &NHDR_LABELS, entries.clone());
        if nhdr.is_anr() {
            if let Some(split) = labels {
                anr_labels(packet, item, entries.start, split);
            }
        }
    }
    packet.add_uint_at(sub, &NHDR_LIST_END, at(base, nhdr.list_end_range()));
    packet.add_bytes_at(sub, &NHDR_RESERVED, at(base, nhdr.reserved_range()));
    if let Some(frh) = nhdr.function_routing_header_range() {
        packet.add_uint_at(sub, &NHDR_FRH, at(base, frh));
    }
}

/// The labels of an ANR field where their lengths are known, then the
/// rest as one run.
fn anr_labels(packet: &Packet, item: Tree, start: usize, split: &Split) {
    let sub = packet.subtree(item, &ETT_LABELS);
    for (range, source) in &split.labels {
        let label = packet.add_bytes_at(sub, &NHDR_ANR_LABEL, at(start, range.clone()));
        let text = match source {
            LabelSource::Learnt { before, after } => {
                format!("the same packet in frames {before} and {after}")
            }
            LabelSource::Preference(len) => {
                format!("the ee.anr_label_length preference ({len} bytes)")
            }
        };
        let known = packet.subtree(label, &ETT_LABELS);
        let source = at(start, range.clone());
        let source_item = packet.add_string(known, &NHDR_ANR_SOURCE, source.start, 0, &text);
        packet.set_generated(source_item);
    }
    if !split.unknown.is_empty() {
        packet.add_bytes_at(sub, &NHDR_ANR_UNKNOWN, at(start, split.unknown.clone()));
    }
}

fn transport_header(
    packet: &Packet,
    root: Tree,
    base: usize,
    thdr: &Thdr,
    segments: &[DecodedSegment],
    info: &mut String,
) {
    let item = packet.add_label_at(root, &LBL_THDR, base..base + thdr.header_len());
    let sub = packet.subtree(item, &ETT_THDR);
    packet.add_uint64_at(sub, &THDR_TCID, at(base, thdr::field::TCID));
    let flags = packet.add_uint_at(sub, &THDR_FLAGS0, at(base, thdr::field::FLAGS0));
    let flags_tree = packet.subtree(flags, &ETT_FLAGS);
    for field in [
        &THDR_SETUPI,
        &THDR_SOMI,
        &THDR_EOMI,
        &THDR_SRI,
        &THDR_RASAPI,
        &THDR_RETRYI,
    ] {
        packet.add_bool_at(flags_tree, field, at(base, thdr::field::FLAGS0));
    }
    let flags = packet.add_uint_at(sub, &THDR_FLAGS1, at(base, thdr::field::FLAGS1));
    let flags_tree = packet.subtree(flags, &ETT_FLAGS);
    for field in [&THDR_LMI, &THDR_CQFI, &THDR_OSI] {
        packet.add_bool_at(flags_tree, field, at(base, thdr::field::FLAGS1));
    }
    packet.add_uint_at(sub, &THDR_OFFSET, at(base, thdr::field::DATA_OFFSET));
    packet.add_uint_at(sub, &THDR_DLF, at(base, thdr::field::DLF));
    packet.add_uint_at(sub, &THDR_BSN, at(base, thdr::field::BSN));
    if let Some((offset, _, data)) = thdr.connection_qualifier() {
        let start = base + offset;
        let len = thdr::field::QUALIFIER_DATA + data.len();
        packet.add_bytes_at(sub, &THDR_QUALIFIER, start..start + len);
    }
    info.push_str(&format!(
        " TCID={:016X} BSN={} DLF={}",
        thdr.tcid(),
        thdr.bsn(),
        thdr.dlf()
    ));
    let f0 = thdr.flags0();
    let names: Vec<&str> = [
        (thdr::flags0::SETUPI, "SETUPI"),
        (thdr::flags0::SOMI, "SOMI"),
        (thdr::flags0::EOMI, "EOMI"),
        (thdr::flags0::SRI, "SRI"),
    ]
    .iter()
    .filter(|(mask, _)| f0 & mask != 0)
    .map(|(_, name)| *name)
    .collect();
    if !names.is_empty() {
        info.push_str(&format!(" [{}]", names.join(" ")));
    }
    for segment in segments {
        optional_segment(packet, sub, segment, info);
    }
}

fn optional_segment(packet: &Packet, parent: Tree, decoded: &DecodedSegment, info: &mut String) {
    let o = decoded.offset;
    let bytes = decoded.segment.bytes;
    let kind = decoded.segment.kind;
    let item = packet.add_label_at(parent, &LBL_SEG, o..o + bytes.len());
    packet.append_text(
        item,
        &format!(": {} (X'{kind:02X}')", name_of(thdr::SEGMENT_TYPES, kind)),
    );
    let sub = packet.subtree(item, &ETT_SEGMENT);
    packet.add_uint_at(sub, &SEG_LEN, at(o, thdr::segment::LEN));
    packet.add_uint_at(sub, &SEG_TYPE, at(o, thdr::segment::TYPE));
    match &decoded.content {
        SegmentContent::ConnectionSetup { vectors, .. } => {
            use thdr::setup;
            packet.add_uint_at(sub, &SETUP_VERSION, at(o, setup::VERSION));
            let fl = packet.add_uint_at(sub, &SETUP_FLAGS, at(o, setup::FLAGS));
            let fl = packet.subtree(fl, &ETT_FLAGS);
            for field in [&SETUP_TARGET, &SETUP_ARB, &SETUP_RELIABLE, &SETUP_DEDICATED] {
                packet.add_bool_at(fl, field, at(o, setup::FLAGS));
            }
            packet.add_bytes_at(sub, &RESERVED, at(o, setup::RESERVED));
            // Vector offsets count from the segment start.
            for vector in vectors {
                control_vector(packet, sub, o, vector);
            }
        }
        SegmentContent::Status(status) => {
            use thdr::status as st;
            let fl = packet.add_uint_at(sub, &STATUS_FLAGS, at(o, st::FLAGS));
            let fl = packet.subtree(fl, &ETT_FLAGS);
            packet.add_bool_at(fl, &STATUS_GAP, at(o, st::FLAGS));
            packet.add_bool_at(fl, &STATUS_IDLE, at(o, st::FLAGS));
            packet.add_uint_at(sub, &STATUS_ABSP_COUNT, at(o, st::PAIR_COUNT));
            packet.add_uint_at(sub, &STATUS_REPORT, at(o, st::REPORT_NUMBER));
            packet.add_uint_at(sub, &STATUS_ACK, at(o, st::ACK_NUMBER));
            packet.add_uint_at(sub, &STATUS_RECEIVED, at(o, st::RECEIVED_SEQUENCE));
            packet.add_bytes_at(sub, &RESERVED, at(o, st::RESERVED));
            for i in 0..status.pairs.len() {
                let pair = o + st::pair(i);
                let item = packet.add_label_at(sub, &LBL_ABSP, pair..pair + st::PAIR_LEN);
                let pair_tree = packet.subtree(item, &ETT_FLAGS);
                packet.add_uint_at(pair_tree, &STATUS_ABSP_BEGIN, at(pair, st::PAIR_BEGIN));
                packet.add_uint_at(pair_tree, &STATUS_ABSP_END, at(pair, st::PAIR_END));
            }
            info.push_str(if status.flags & st::IDLE != 0 {
                ", Idle status"
            } else {
                ", Status"
            });
        }
        SegmentContent::ClientOutOfBand(bits) => {
            let item = packet.add_uint_at(sub, &OOB_BITS, at(o, thdr::oob::BITS));
            packet.add_expert(
                item,
                &EI_DEACTIVATION,
                &format!(
                    "Client out-of-band bits {bits:#06x}: {}",
                    name_of(thdr::OUT_OF_BAND_VALUES, u32::from(*bits))
                ),
            );
        }
        SegmentContent::ConnectionIdExchange(_) => {
            packet.add_bytes_at(sub, &RESERVED, at(o, thdr::cie::RESERVED));
            packet.add_uint64_at(sub, &CIE_TCID, at(o, thdr::cie::TCID));
        }
        SegmentContent::ConnectionFault(sense) => {
            packet.add_bytes_at(sub, &RESERVED, at(o, thdr::fault::RESERVED));
            let item = packet.add_uint_at(sub, &FAULT_SENSE, at(o, thdr::fault::SENSE));
            let text = sense_text(packet, item, *sense);
            packet.add_expert(
                item,
                &EI_FAULT,
                &format!("RTP connection fault, sense {sense:08X}: {text}"),
            );
        }
        SegmentContent::SwitchingInformation(si) => switching(packet, sub, o, si),
        SegmentContent::AdaptiveRateBased(arb) => {
            use thdr::arb as a;
            let item = packet.add_uint_at(sub, &ARB_CONTROL, at(o, a::CONTROL));
            let fl = packet.subtree(item, &ETT_FLAGS);
            packet.add_uint_at(fl, &ARB_TYPE, at(o, a::CONTROL));
            packet.add_uint_at(fl, &ARB_RATE_ACTION, at(o, a::CONTROL));
            packet.add_bool_at(fl, &ARB_PARITY, at(o, a::CONTROL));
            packet.add_uint_at(fl, &ARB_MODE, at(o, a::CONTROL));
            packet.add_uint_at(sub, &ARB_REQUEST_CORRELATOR, at(o, a::CORRELATORS));
            packet.add_uint_at(sub, &ARB_REPLY_CORRELATOR, at(o, a::CORRELATORS));
            for (i, value) in arb.fields.iter().enumerate() {
                if value.is_some() {
                    packet.add_uint_at(sub, &ARB_FIELD, at(o, a::field(i)));
                }
            }
        }
        SegmentContent::Unknown => {
            if bytes.len() > thdr::segment::HEADER_LEN {
                packet.add_bytes_at(
                    sub,
                    &SEGMENT_DATA,
                    o + thdr::segment::HEADER_LEN..o + bytes.len(),
                );
            }
        }
    }
}

fn switching(packet: &Packet, sub: Tree, o: usize, si: &thdr::SwitchingInformation) {
    use thdr::switching as sw;
    packet.add_bytes_at(sub, &RESERVED, at(o, sw::RESERVED));
    let cv = o + si.cv83_offset;
    let item = packet.add_label_at(sub, &LBL_CV, cv..cv + si.cv83_len);
    packet.append_text(item, ": Switching information (X'83')");
    let cv_tree = packet.subtree(item, &ETT_CV);
    packet.add_uint_at(cv_tree, &SWITCH_CV_LEN, at(cv, sw::CV_LEN));
    packet.add_uint_at(cv_tree, &SWITCH_CV_KEY, at(cv, sw::CV_KEY));
    let fl = packet.add_uint_at(cv_tree, &SWITCH_FLAGS, at(cv, sw::FLAGS));
    let fl = packet.subtree(fl, &ETT_FLAGS);
    for field in [
        &SWITCH_REFIFO,
        &SWITCH_MOBILITY,
        &SWITCH_DIRSEARCH,
        &SWITCH_LIMITED,
        &SWITCH_NCESCOPE,
        &SWITCH_MNPS,
    ] {
        packet.add_bool_at(fl, field, at(cv, sw::FLAGS));
    }
    packet.add_bytes_at(cv_tree, &RESERVED, at(cv, sw::CV83_RESERVED));
    packet.add_uint_at(cv_tree, &SWITCH_MAX_PACKET, at(cv, sw::MAX_PACKET_SIZE));
    packet.add_uint_at(
        cv_tree,
        &SWITCH_PATH_SWITCH_TIME,
        at(cv, sw::PATH_SWITCH_TIME),
    );
    packet.add_uint_at(cv_tree, &SWITCH_ALIVE_TIMER, at(cv, sw::ALIVE_TIMER));
    // Vectors embedded after the 16 fixed bytes (offsets from the CV).
    for vector in &si.embedded {
        control_vector(packet, cv_tree, cv, vector);
    }
    if let Some(rr) = &si.cv85 {
        let cv85 = o + rr.offset;
        padding(packet, sub, cv + si.cv83_len..cv85);
        let item = packet.add_label_at(sub, &LBL_CV, cv85..cv85 + rr.bytes.len());
        packet.append_text(item, ": Return route TG descriptors (X'85')");
        let rr_tree = packet.subtree(item, &ETT_CV);
        packet.add_uint_at(rr_tree, &SWITCH_CV_LEN, at(cv85, sw::CV_LEN));
        packet.add_uint_at(rr_tree, &SWITCH_CV_KEY, at(cv85, sw::CV_KEY));
        packet.add_bool_at(rr_tree, &SWITCH_RR_BF, at(cv85, sw::BF_FLAGS));
        packet.add_uint_at(rr_tree, &SWITCH_RR_COUNT, at(cv85, sw::TG_COUNT));
        for vector in &rr.tgs {
            control_vector(packet, rr_tree, cv85, vector);
        }
    }
}

fn padding(packet: &Packet, parent: Tree, range: Range<usize>) {
    if !range.is_empty() {
        packet.add_bytes_at(parent, &PADDING, range);
    }
}

/// The meaning of a sense code, added (generated) under `item`.
fn sense_text(packet: &Packet, item: Tree, sense: u32) -> String {
    let text = ee::sense::describe(sense).unwrap_or_else(|| "meaning not in our tables".into());
    let sub = packet.subtree(item, &ETT_FLAGS);
    let t = packet.add_string(sub, &SENSE_TEXT, 0, 0, &text);
    packet.set_generated(t);
    packet.append_text(item, &format!(" ({text})"));
    text
}

/// One control vector (or subvector), whose `vector.offset` counts from
/// `base`: a label over its bytes, its key and length, its data.
fn control_vector(packet: &Packet, parent: Tree, base: usize, vector: &Vector) {
    let item = packet.add_label_at(parent, &LBL_CV, at(base, vector.range()));
    packet.append_text(
        item,
        &format!(
            ": {} (X'{:02X}')",
            name_of(cv::KEYS, vector.key),
            vector.key
        ),
    );
    let sub = packet.subtree(item, &ETT_CV);
    packet.add_uint_at(sub, &CV_KEY, at(base, vector.key_range()));
    packet.add_uint_at(sub, &CV_LEN, at(base, vector.len_range()));
    let data = at(base, vector.data_range());
    let length_key = vector.framing == cv::Framing::LengthKey;
    match vector.key {
        cv::NETWORK_NAME => {
            if let Some((_, name)) = cv::network_name(vector.data) {
                packet.add_uint_at(sub, &CV_NAME_TYPE, at(data.start, cv::field::NAME_TYPE));
                let name_at = data.start + cv::field::NAME;
                packet.add_string(sub, &CV_NAME, name_at, data.end - name_at, &name);
                packet.append_text(item, &format!(" {name}"));
            }
        }
        cv::PRODUCT_SET_ID if !length_key => product_set(packet, sub, data.start, vector.data),
        cv::TG_DESCRIPTOR => tg_descriptor(packet, sub, data.start, vector.data),
        cv::NETWORK_ADDRESS if length_key => network_address(packet, sub, data.start, vector.data),
        cv::XID_NEGOTIATION_ERROR if !length_key => {
            negotiation_error(packet, sub, data, vector.data)
        }
        _ => {
            if !data.is_empty() {
                packet.add_bytes_at(sub, &CV_DATA, data);
            }
        }
    }
}

/// CV X'10': a reserved byte, then product identifier subvectors (X'11')
/// with their subfields.
fn product_set(packet: &Packet, parent: Tree, at_data: usize, data: &[u8]) {
    let (start, subvectors) = cv::product_set_subvectors(data);
    if start > 0 {
        packet.add_bytes_at(
            parent,
            &RESERVED,
            at(at_data, cv::field::PRODUCT_SET_RESERVED),
        );
    }
    let list = at_data + start;
    for subvector in subvectors.flatten() {
        let item = packet.add_label_at(parent, &LBL_CV, at(list, subvector.range()));
        packet.append_text(
            item,
            &format!(
                ": {} (X'{:02X}')",
                name_of(cv::KEYS, subvector.key),
                subvector.key
            ),
        );
        let sv = packet.subtree(item, &ETT_CV);
        packet.add_uint_at(sv, &CV_SUBVECTOR_KEY, at(list, subvector.key_range()));
        packet.add_uint_at(sv, &CV_SUB_LEN, at(list, subvector.len_range()));
        let sv_data = at(list, subvector.data_range());
        if subvector.key != cv::PRODUCT_IDENTIFIER {
            if !sv_data.is_empty() {
                packet.add_bytes_at(sv, &CV_DATA, sv_data);
            }
            continue;
        }
        let Some((_, first, subfields)) = cv::product_identifier(subvector.data) else {
            continue;
        };
        packet.add_uint_at(
            sv,
            &CV_PRODUCT_CLASS,
            at(sv_data.start, cv::field::PRODUCT_CLASS),
        );
        let fields_at = sv_data.start + first;
        for field in subfields.flatten() {
            let item = packet.add_label_at(sv, &LBL_CV, at(fields_at, field.range()));
            packet.append_text(
                item,
                &format!(
                    ": {} (X'{:02X}')",
                    name_of(cv::PRODUCT_SUBFIELDS, field.key),
                    field.key
                ),
            );
            let f = packet.subtree(item, &ETT_CV);
            packet.add_uint_at(f, &CV_SUBFIELD_KEY, at(fields_at, field.key_range()));
            packet.add_uint_at(f, &CV_SUB_LEN, at(fields_at, field.len_range()));
            let value = at(fields_at, field.data_range());
            if value.is_empty() {
                continue;
            }
            match (field.key, cv::common_level(field.data)) {
                (0x04, Some(level)) => {
                    packet.add_string(f, &CV_PRODUCT_LEVEL, value.start, value.len(), &level);
                    packet.append_text(item, &format!(" {level}"));
                }
                (0x00, _) => {
                    packet.add_bytes_at(f, &CV_DATA, value);
                }
                _ => {
                    let text = ee::ebcdic::to_ascii(field.data);
                    packet.add_string(
                        f,
                        &CV_PRODUCT_TEXT,
                        value.start,
                        value.len(),
                        text.trim_end(),
                    );
                    packet.append_text(item, &format!(" {}", text.trim_end()));
                }
            }
        }
    }
}

/// CV X'05' in an RTP segment: flags, a reserved byte, then nested HPR
/// vectors (node identifier, network identifier, …), length-key, padded.
fn network_address(packet: &Packet, parent: Tree, at_data: usize, data: &[u8]) {
    let Some((_, first, nested)) = cv::network_address(data) else {
        if !data.is_empty() {
            packet.add_bytes_at(parent, &CV_DATA, at_data..at_data + data.len());
        }
        return;
    };
    let item = packet.add_uint_at(
        parent,
        &CV_NETADDR_FLAGS,
        at(at_data, cv::field::NETADDR_FLAGS),
    );
    let fl = packet.subtree(item, &ETT_FLAGS);
    packet.add_bool_at(fl, &CV_NETADDR_PTP, at(at_data, cv::field::NETADDR_FLAGS));
    packet.add_bytes_at(parent, &RESERVED, at(at_data, cv::field::NETADDR_RESERVED));
    let list = at_data + first;
    let mut end = list;
    for vector in nested {
        let vector = match vector {
            Ok(vector) => vector,
            Err(error) => {
                // The vector that runs past the end of CV X'05' (IBM sense
                // A018, flagged as a violation): shown as what it claims,
                // not as padding.
                let from = list + error.offset();
                padding(packet, parent, end..from);
                overrunning_vector(packet, parent, from..at_data + data.len());
                return;
            }
        };
        padding(packet, parent, end..list + vector.offset);
        end = list + vector.range().end;
        let item = packet.add_label_at(parent, &LBL_CV, at(list, vector.range()));
        packet.append_text(
            item,
            &format!(
                ": {} (X'{:02X}')",
                name_of(cv::HPR_KEYS, vector.key),
                vector.key
            ),
        );
        let sub = packet.subtree(item, &ETT_CV);
        packet.add_uint_at(sub, &CV_HPR_KEY, at(list, vector.key_range()));
        packet.add_uint_at(sub, &CV_LEN, at(list, vector.len_range()));
        let value = at(list, vector.data_range());
        match vector.key {
            cv::HPR_NETWORK_IDENTIFIER if !value.is_empty() => {
                let netid = ee::ebcdic::to_ascii(vector.data);
                packet.add_string(
                    sub,
                    &CV_NETWORK_ID,
                    value.start,
                    value.len(),
                    netid.trim_end(),
                );
                packet.append_text(item, &format!(" {}", netid.trim_end()));
            }
            cv::NETWORK_ADDRESS => network_address(packet, sub, value.start, vector.data),
            _ if !value.is_empty() => {
                packet.add_bytes_at(sub, &CV_DATA, value);
            }
            _ => {}
        }
    }
    padding(packet, parent, end..at_data + data.len());
}

/// The bytes of a nested length-key vector that claims more than is left:
/// its length and key, if present, under a label over what is there.
fn overrunning_vector(packet: &Packet, parent: Tree, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    let from = range.start;
    let item = packet.add_label_at(parent, &LBL_CV, range.clone());
    packet.append_text(item, ": runs past the end of the vector holding it");
    let sub = packet.subtree(item, &ETT_CV);
    let len = at(from, cv::field::LT_LEN);
    let key = at(from, cv::field::LT_KEY);
    if key.end <= range.end {
        packet.add_uint_at(sub, &CV_HPR_KEY, key);
    }
    if len.end <= range.end {
        packet.add_uint_at(sub, &CV_LEN, len);
    }
}

/// CV X'46': length-key subfields; X'80' (TG identifier) decoded.
fn tg_descriptor(packet: &Packet, parent: Tree, at_data: usize, data: &[u8]) {
    for subfield in cv::tg_descriptor_subfields(data) {
        let Ok(subfield) = subfield else {
            packet.add_bytes_at(parent, &CV_DATA, at_data..at_data + data.len());
            return;
        };
        let item = packet.add_label_at(parent, &LBL_CV, at(at_data, subfield.range()));
        packet.append_text(
            item,
            &format!(": TG descriptor subfield X'{:02X}'", subfield.key),
        );
        let sub = packet.subtree(item, &ETT_CV);
        packet.add_uint_at(sub, &CV_TG_SUBFIELD, at(at_data, subfield.key_range()));
        packet.add_uint_at(sub, &CV_SUB_LEN, at(at_data, subfield.len_range()));
        let value = at(at_data, subfield.data_range());
        match cv::tg_identifier(subfield.data).filter(|_| subfield.key == cv::TG_IDENTIFIER) {
            Some((_, partner)) => {
                packet.add_uint_at(sub, &CV_TG_NUMBER, at(value.start, cv::field::TG_NUMBER));
                let name_at = value.start + cv::field::TG_PARTNER;
                packet.add_string(sub, &CV_TG_PARTNER, name_at, value.end - name_at, &partner);
            }
            None if !value.is_empty() => {
                packet.add_bytes_at(sub, &CV_DATA, value);
            }
            None => {}
        }
    }
}

/// CV X'22' XID negotiation error: where the rejected field is, and why.
fn negotiation_error(packet: &Packet, parent: Tree, data: Range<usize>, bytes: &[u8]) {
    let Some((byte, bit, sense)) = cv::xid_negotiation_error(bytes) else {
        if !data.is_empty() {
            packet.add_bytes_at(parent, &CV_DATA, data);
        }
        return;
    };
    packet.add_uint_at(
        parent,
        &CV_NEG_BYTE,
        at(data.start, cv::field::NEG_ERROR_BYTE),
    );
    packet.add_uint_at(
        parent,
        &CV_NEG_BIT,
        at(data.start, cv::field::NEG_ERROR_BIT),
    );
    let item = packet.add_uint_at(
        parent,
        &CV_NEG_SENSE,
        at(data.start, cv::field::NEG_ERROR_SENSE),
    );
    let text = sense_text(packet, item, sense);
    packet.add_expert(
        item,
        &EI_XID_NEGOTIATION,
        &format!("XID rejected at byte {byte} bit {bit}, sense {sense:08X}: {text}"),
    );
}

/// FID5 TH and RH; hidden (still filterable) when Wireshark's sna shows the
/// same BIU right after, so that they appear once.
pub fn fid5_headers(packet: &Packet, root: Tree, base: usize, fid5: &Fid5, hidden: bool) {
    use fid5::field;
    let th = packet.add_label_at(root, &LBL_TH, at(base, field::TH));
    let sub = packet.subtree(th, &ETT_FID5);
    packet.add_uint_at(sub, &TH_FID, at(base, field::BYTE0));
    packet.add_uint_at(sub, &TH_MPF, at(base, field::BYTE0));
    packet.add_bool_at(sub, &TH_EFI, at(base, field::BYTE0));
    packet.add_bytes_at(sub, &RESERVED, at(base, field::RESERVED));
    packet.add_uint_at(sub, &TH_SNF, at(base, field::SNF));
    packet.add_uint64_at(sub, &TH_SA, at(base, field::SESSION_ADDRESS));
    let rh = packet.add_label_at(root, &LBL_RH, at(base, field::RH));
    let sub = packet.subtree(rh, &ETT_RH);
    packet.add_bool_at(sub, &RH_RRI, at(base, field::RH0));
    packet.add_uint_at(sub, &RH_CATEGORY, at(base, field::RH0));
    for flag in [&RH_FI, &RH_SDI, &RH_BCI, &RH_ECI] {
        packet.add_bool_at(sub, flag, at(base, field::RH0));
    }
    for flag in [
        &RH_DR1I, &RH_LCCI, &RH_DR2I, &RH_ERI, &RH_RLWI, &RH_QRI, &RH_PI,
    ] {
        packet.add_bool_at(sub, flag, at(base, field::RH1));
    }
    if !fid5.is_response() {
        for flag in [
            &RH_BBI, &RH_EBI, &RH_CDI, &RH_CSI, &RH_EDI, &RH_PDI, &RH_CEBI,
        ] {
            packet.add_bool_at(sub, flag, at(base, field::RH2));
        }
    }
    let ru = base + field::LEN..base + field::LEN + fid5.ru().len();
    let ru_item = (!ru.is_empty()).then(|| packet.add_bytes_at(root, &RU, ru.clone()));
    if hidden {
        for item in [Some(th), Some(rh), ru_item].into_iter().flatten() {
            packet.set_hidden(root, item);
        }
    }
    // A negative response's sense is a finding of its own: always shown.
    if let Some(sense) = fid5.sense() {
        let item = packet.add_uint_at(root, &RU_SENSE, at(ru.start, field::SENSE));
        let text = sense_text(packet, item, sense);
        packet.add_expert(
            item,
            &EI_NEGATIVE_RESPONSE,
            &format!("Negative response, sense {sense:08X}: {text}"),
        );
    }
}

fn route_setup(packet: &Packet, root: Tree, base: usize, gds: &Gds) {
    let end = (base + gds.len()).min(packet.captured_len());
    let item = packet.add_label_at(root, &LBL_GDS, base..end);
    packet.append_text(
        item,
        &format!(": {}", name_of(gds::GDS_IDS, u32::from(gds.id()))),
    );
    let sub = packet.subtree(item, &ETT_GDS);
    packet.add_uint_at(sub, &GDS_LEN, at(base, gds::field::LENGTH));
    packet.add_bool_at(sub, &GDS_CONTINUATION, at(base, gds::field::LENGTH));
    packet.add_uint_at(sub, &GDS_ID, at(base, gds::field::ID));
    let body = gds.body();
    if !body.is_empty() {
        let start = base + gds::HEADER_LEN;
        packet.add_bytes_at(sub, &GDS_DATA, start..start + body.len());
    }
}

fn xid3(packet: &Packet, root: Tree, base: usize, xid: &Xid3, info: &mut String) {
    use xid3::field as f;
    let item = packet.add_label_at(root, &LBL_XID, base..base + xid.len());
    let sub = packet.subtree(item, &ETT_XID);
    packet.add_uint_at(sub, &XID_FORMAT, at(base, f::FORMAT_TYPE));
    packet.add_uint_at(sub, &XID_NODE_TYPE, at(base, f::FORMAT_TYPE));
    packet.add_uint_at(sub, &XID_LEN, at(base, f::LENGTH));
    let id = packet.add_uint_at(sub, &XID_NODE_ID, at(base, f::NODE_ID));
    let id = packet.subtree(id, &ETT_FLAGS);
    packet.add_uint_at(id, &XID_IDBLK, at(base, f::NODE_ID));
    packet.add_uint_at(id, &XID_IDNUM, at(base, f::NODE_ID));
    packet.add_bytes_at(sub, &RESERVED, at(base, f::RESERVED_6));
    let item = packet.add_uint_at(sub, &XID_CAPS, at(base, f::CAPABILITIES));
    let c = packet.subtree(item, &ETT_XID_CAPS);
    for field in [
        &XID_INIT_SELF,
        &XID_STANDALONE_BIND,
        &XID_WHOLE_BIND_GENERATED,
        &XID_WHOLE_BIND_REQUIRED,
        &XID_ACTPU_SUPPRESSION,
        &XID_NETWORK_NODE,
        &XID_CP_SERVICES,
        &XID_CP_CP,
    ] {
        packet.add_bool_at(c, field, at(base, f::CAPABILITIES));
    }
    packet.add_uint_at(c, &XID_EXCHANGE_STATE, at(base, f::CAPABILITIES));
    packet.add_bool_at(c, &XID_NONACTIVATION, at(base, f::CAPABILITIES));
    packet.add_bool_at(c, &XID_CP_NAME_CHANGE, at(base, f::CAPABILITIES));
    let item = packet.add_uint_at(sub, &XID_BYTE10, at(base, f::BYTE10));
    let c = packet.subtree(item, &ETT_FLAGS);
    for field in [
        &XID_PACING_SENDER,
        &XID_PACING_RECEIVER,
        &XID_QUIESCE,
        &XID_PU_CAPS,
        &XID_PBN,
    ] {
        packet.add_bool_at(c, field, at(base, f::BYTE10));
    }
    packet.add_uint_at(c, &XID_PACING_QUALIFIER, at(base, f::BYTE10));
    packet.add_bool_at(sub, &XID_TG_SHARING_PROHIBITED, at(base, f::BYTE11));
    packet.add_bool_at(sub, &XID_DEDICATED_SVC, at(base, f::BYTE11));
    packet.add_bool_at(
        sub,
        &XID_NEGOTIATION_COMPLETE_SUPPORTED,
        at(base, f::BYTE12),
    );
    packet.add_bool_at(sub, &XID_NEGOTIATION_COMPLETE, at(base, f::BYTE12));
    packet.add_bytes_at(sub, &RESERVED, at(base, f::RESERVED_13));
    let item = packet.add_uint_at(sub, &XID_BYTE15, at(base, f::BYTE15));
    let c = packet.subtree(item, &ETT_FLAGS);
    for field in [
        &XID_PARALLEL_TGS,
        &XID_DLUR,
        &XID_DLUS,
        &XID_EXBN,
        &XID_ODAI,
    ] {
        packet.add_bool_at(c, field, at(base, f::BYTE15));
    }
    packet.add_uint_at(c, &XID_BRANCH, at(base, f::BYTE15));
    packet.add_bool_at(c, &XID_OPTION_SET_1123, at(base, f::BYTE15));
    packet.add_uint_at(sub, &XID_TG, at(base, f::TG_NUMBER));
    packet.add_uint_at(sub, &XID_DLC_TYPE, at(base, f::DLC_TYPE));
    packet.add_uint_at(sub, &XID_DLC_LEN, at(base, f::DLC_LENGTH));
    if xid.has(f::DLC_LINK_FLAGS) {
        let item = packet.add_uint_at(sub, &XID_LINK_FLAGS, at(base, f::DLC_LINK_FLAGS));
        let c = packet.subtree(item, &ETT_FLAGS);
        packet.add_bool_at(c, &XID_ABM, at(base, f::DLC_LINK_FLAGS));
        packet.add_uint_at(c, &XID_STATION_ROLE, at(base, f::DLC_LINK_FLAGS));
        packet.add_bool_at(c, &XID_SHORT_HOLD_STATUS, at(base, f::DLC_LINK_FLAGS));
        packet.add_bool_at(c, &XID_SHORT_HOLD_SUPPORT, at(base, f::DLC_LINK_FLAGS));
        packet.add_uint_at(c, &XID_TRANSMIT_RECEIVE, at(base, f::DLC_LINK_FLAGS));
    }
    if xid.has(f::DLC_MAX_BTU) {
        packet.add_uint_at(sub, &XID_MAX_BTU, at(base, f::DLC_MAX_BTU));
    }
    if xid.has(f::DLC_MAX_IFRAMES) {
        packet.add_uint_at(sub, &XID_MAX_IFRAMES, at(base, f::DLC_MAX_IFRAMES));
    }
    let vectors_at = base + xid.vectors_offset();
    let mut cp_name = None;
    for vector in xid.vectors() {
        match vector {
            Ok(vector) => {
                if vector.key == cv::NETWORK_NAME {
                    cp_name = cv::network_name(vector.data).map(|(_, name)| name);
                }
                control_vector(packet, sub, vectors_at, &vector);
            }
            Err(error) => {
                let error = error.at(vectors_at);
                packet.add_expert(item, &EI_MALFORMED, &error.to_string());
                break;
            }
        }
    }
    info.push_str(&format!(", XID3 node type {}", xid.node_type()));
    if let Some(name) = cp_name {
        info.push_str(&format!(", {name}"));
    }
}

/// A reassembled message is a data source of its own, starting at its
/// first byte.
const MESSAGE_START: usize = 0;

/// The headers of a reassembled message, over its own data source.
pub fn message(view: &Packet, root: Tree, message: &[u8], frames: &[u32], sna_shows_biu: bool) {
    let item = view.add_uint(
        root,
        &MESSAGE_LENGTH,
        MESSAGE_START,
        message.len(),
        message.len() as u32,
    );
    view.set_generated(item);
    let sub = view.subtree(item, &ETT_MESSAGE);
    for frame in frames {
        let item = view.add_frame_number(sub, &MESSAGE_FRAME, *frame);
        view.set_generated(item);
    }
    if let Ok(fid5) = Fid5::new_checked(message) {
        fid5_headers(view, sub, MESSAGE_START, &fid5, sna_shows_biu);
    } else if let Ok(gds) = Gds::new_checked(message) {
        route_setup(view, sub, MESSAGE_START, &gds);
    }
}
