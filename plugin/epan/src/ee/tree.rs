//! Shows a decoded EE datagram as protocol tree items: one function per
//! layer, each adding the fields of `fields.rs` at the offsets the `ee`
//! crate found.

use ee::cv::{self, Vector};
use ee::datagram::{Body, Datagram, DecodedSegment, Nlp, Payload, SegmentContent};
use ee::fid5::Fid5;
use ee::gds::Gds;
use ee::llc::LlcHeader;
use ee::thdr::{self, Thdr};
use ee::xid3::{self, Xid3};
use wireshark_ffi::packet::{Packet, Tree};

use super::fields::*;

pub fn llc(packet: &Packet, root: Tree, datagram: &Datagram) {
    let Some(llc) = datagram.llc else { return };
    packet.add_uint(root, &LLC_DSAP, 0, 1, llc.dsap().into());
    packet.add_uint(root, &LLC_SSAP, 1, 1, llc.ssap().into());
    packet.add_uint(root, &LLC_CONTROL, 2, 1, llc.control().into());
    packet.add_string(root, &LLC_COMMAND, 2, 1, llc.command().label());
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

pub fn body(packet: &Packet, root: Tree, datagram: &Datagram, info: &mut String) {
    match &datagram.body {
        Body::None => {}
        Body::Xid { offset, xid } => xid3(packet, root, *offset, xid, info),
        Body::Raw { offset, bytes } => {
            packet.add_bytes(root, &DATA, *offset, bytes.len());
        }
        Body::Nlp(nlp) => network_layer_packet(packet, root, nlp, info),
    }
}

fn network_layer_packet(packet: &Packet, root: Tree, nlp: &Nlp, info: &mut String) {
    let base = nlp.offset;
    let nhdr = &nlp.nhdr;
    let item = packet.add_uint(root, &NHDR_SM, base, 1, nhdr.byte0().into());
    packet.append_text(item, " (network layer header)");
    let sub = packet.subtree(item, &ETT_NHDR);
    packet.add_uint(sub, &NHDR_TPF, base, 1, nhdr.byte0().into());
    packet.add_uint(sub, &NHDR_FT, base + 1, 1, nhdr.byte1().into());
    let b1 = u64::from(nhdr.byte1());
    packet.add_bool(sub, &NHDR_TSI, base + 1, 1, b1);
    packet.add_bool(sub, &NHDR_SLOWDOWN1, base + 1, 1, b1);
    packet.add_bool(sub, &NHDR_SLOWDOWN2, base + 1, 1, b1);
    let labels = nhdr.labels();
    packet.add_bytes(sub, &NHDR_LABELS, base + 2, labels.len());
    if nhdr.is_anr() {
        for (i, &label) in labels.iter().enumerate() {
            packet.add_uint(sub, &NHDR_ANR_LABEL, base + 2 + i, 1, label.into());
        }
    }
    packet.add_bytes(sub, &NHDR_RESERVED, base + nhdr.reserved_offset(), 1);
    packet.set_len(item, nhdr.len());
    if let Some((at, frh)) = nhdr.function_routing_header() {
        packet.add_uint(sub, &NHDR_FRH, base + at, 1, frh.into());
        let name = ee::nhdr::FUNCTION_ROUTING_HEADERS
            .iter()
            .find(|(v, _)| *v == frh)
            .map_or("function routing", |(_, n)| n);
        info.push_str(&format!(", {name}"));
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
            fid5_headers(packet, root, *at, fid5);
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

fn transport_header(
    packet: &Packet,
    root: Tree,
    base: usize,
    thdr: &Thdr,
    segments: &[DecodedSegment],
    info: &mut String,
) {
    let item = packet.add_uint64(root, &THDR_TCID, base, 8, thdr.tcid());
    packet.append_text(item, " (RTP transport header)");
    packet.set_len(item, thdr.header_len());
    let sub = packet.subtree(item, &ETT_THDR);
    let f0 = thdr.flags0();
    let flags = packet.add_uint(sub, &THDR_FLAGS0, base + 8, 1, f0.into());
    let flags_tree = packet.subtree(flags, &ETT_FLAGS);
    for field in [
        &THDR_SETUPI,
        &THDR_SOMI,
        &THDR_EOMI,
        &THDR_SRI,
        &THDR_RASAPI,
        &THDR_RETRYI,
    ] {
        packet.add_bool(flags_tree, field, base + 8, 1, f0.into());
    }
    let f1 = thdr.flags1();
    let flags = packet.add_uint(sub, &THDR_FLAGS1, base + 9, 1, f1.into());
    let flags_tree = packet.subtree(flags, &ETT_FLAGS);
    for field in [&THDR_LMI, &THDR_CQFI, &THDR_OSI] {
        packet.add_bool(flags_tree, field, base + 9, 1, f1.into());
    }
    packet.add_uint(
        sub,
        &THDR_OFFSET,
        base + 10,
        2,
        thdr.data_offset_words().into(),
    );
    packet.add_uint(sub, &THDR_DLF, base + 12, 4, thdr.dlf());
    packet.add_uint(sub, &THDR_BSN, base + 16, 4, thdr.bsn());
    if let Some((at, _, data)) = thdr.connection_qualifier() {
        packet.add_bytes(sub, &THDR_QUALIFIER, base + at, data.len() + 2);
    }
    info.push_str(&format!(
        " TCID={:016X} BSN={} DLF={}",
        thdr.tcid(),
        thdr.bsn(),
        thdr.dlf()
    ));
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
    let at = decoded.offset;
    let bytes = decoded.segment.bytes;
    let item = packet.add_uint(parent, &SEG_TYPE, at + 1, 1, decoded.segment.kind.into());
    packet.set_len(item, bytes.len());
    let sub = packet.subtree(item, &ETT_SEGMENT);
    packet.add_uint(sub, &SEG_LEN, at, 1, bytes[0].into());
    match &decoded.content {
        SegmentContent::ConnectionSetup {
            version,
            flags,
            vectors,
        } => {
            packet.add_uint(sub, &SETUP_VERSION, at + 2, 2, (*version).into());
            let fl = packet.add_uint(sub, &SETUP_FLAGS, at + 4, 1, (*flags).into());
            let fl = packet.subtree(fl, &ETT_FLAGS);
            for field in [&SETUP_TARGET, &SETUP_ARB, &SETUP_RELIABLE, &SETUP_DEDICATED] {
                packet.add_bool(fl, field, at + 4, 1, (*flags).into());
            }
            for vector in vectors {
                control_vector(packet, sub, at, vector, true);
            }
        }
        SegmentContent::Status(status) => {
            let fl = packet.add_uint(sub, &STATUS_FLAGS, at + 2, 1, status.flags.into());
            let fl = packet.subtree(fl, &ETT_FLAGS);
            packet.add_bool(fl, &STATUS_GAP, at + 2, 1, status.flags.into());
            packet.add_bool(fl, &STATUS_IDLE, at + 2, 1, status.flags.into());
            packet.add_uint(
                sub,
                &STATUS_ABSP_COUNT,
                at + 3,
                1,
                status.pairs.len() as u32,
            );
            packet.add_uint(sub, &STATUS_REPORT, at + 4, 2, status.report_number.into());
            packet.add_uint(sub, &STATUS_ACK, at + 6, 2, status.ack_number.into());
            packet.add_uint(sub, &STATUS_RECEIVED, at + 8, 4, status.received_sequence);
            for (i, (begin, end)) in status.pairs.iter().enumerate() {
                let pair = at + thdr::status::PAIRS + 8 * i;
                packet.add_uint(sub, &STATUS_ABSP_BEGIN, pair, 4, *begin);
                packet.add_uint(sub, &STATUS_ABSP_END, pair + 4, 4, *end);
            }
            info.push_str(if status.flags & thdr::status::IDLE != 0 {
                ", Idle status"
            } else {
                ", Status"
            });
        }
        SegmentContent::ClientOutOfBand(bits) => {
            packet.add_uint(sub, &OOB_BITS, at + 2, 2, (*bits).into());
        }
        SegmentContent::ConnectionIdExchange(tcid) => {
            packet.add_uint64(sub, &CIE_TCID, at + thdr::EXCHANGED_TCID, 8, *tcid);
        }
        SegmentContent::ConnectionFault(sense) => {
            let item = packet.add_uint(sub, &FAULT_SENSE, at + thdr::FAULT_SENSE, 4, *sense);
            packet.add_expert(
                item,
                &EI_FAULT,
                &format!("RTP connection fault, sense {sense:08X}"),
            );
        }
        SegmentContent::SwitchingInformation(si) => {
            let cv = at + si.cv83_offset;
            let fl = packet.add_uint(sub, &SWITCH_FLAGS, cv + 2, 1, si.flags.into());
            let fl = packet.subtree(fl, &ETT_FLAGS);
            for field in [
                &SWITCH_REFIFO,
                &SWITCH_MOBILITY,
                &SWITCH_DIRSEARCH,
                &SWITCH_LIMITED,
                &SWITCH_NCESCOPE,
                &SWITCH_MNPS,
            ] {
                packet.add_bool(fl, field, cv + 2, 1, si.flags.into());
            }
            packet.add_uint(sub, &SWITCH_MAX_PACKET, cv + 4, 4, si.max_packet_size);
            packet.add_uint(
                sub,
                &SWITCH_PATH_SWITCH_TIME,
                cv + 8,
                4,
                si.path_switch_time,
            );
            packet.add_uint(sub, &SWITCH_ALIVE_TIMER, cv + 12, 4, si.alive_timer);
            if let Some((off, cv85)) = si.cv85 {
                if cv85.len() >= 4 {
                    packet.add_bool(sub, &SWITCH_RR_BF, at + off + 2, 1, cv85[2].into());
                    packet.add_uint(sub, &SWITCH_RR_COUNT, at + off + 3, 1, cv85[3].into());
                    // The return route's TG descriptors, unpadded.
                    let tgs = cv::Vectors::new(&cv85[4..], cv::Framing::LengthKey, false);
                    for vector in tgs.take(usize::from(cv85[3])).flatten() {
                        control_vector(packet, sub, at + off + 4, &vector, true);
                    }
                }
            }
        }
        SegmentContent::AdaptiveRateBased(arb) => {
            let c = u32::from(arb.control);
            let item = packet.add_uint(sub, &ARB_CONTROL, at + 2, 1, c);
            let fl = packet.subtree(item, &ETT_FLAGS);
            packet.add_uint(fl, &ARB_TYPE, at + 2, 1, c);
            packet.add_uint(fl, &ARB_RATE_ACTION, at + 2, 1, c);
            packet.add_bool(fl, &ARB_PARITY, at + 2, 1, c.into());
            packet.add_uint(fl, &ARB_MODE, at + 2, 1, c);
            packet.add_uint(
                sub,
                &ARB_REQUEST_CORRELATOR,
                at + 3,
                1,
                arb.correlators.into(),
            );
            packet.add_uint(
                sub,
                &ARB_REPLY_CORRELATOR,
                at + 3,
                1,
                arb.correlators.into(),
            );
            for (i, value) in arb.fields.iter().enumerate() {
                if let Some(value) = value {
                    packet.add_uint(sub, &ARB_FIELD, at + thdr::arb::FIELDS + 4 * i, 4, *value);
                }
            }
        }
        SegmentContent::Unknown => {
            if bytes.len() > 2 {
                packet.add_bytes(sub, &SEGMENT_DATA, at + 2, bytes.len() - 2);
            }
        }
    }
}

/// One control vector; `base` is the offset its `vector.offset` counts from.
fn control_vector(packet: &Packet, parent: Tree, base: usize, vector: &Vector, length_key: bool) {
    let at = base + vector.offset;
    let (key_at, len_at) = if length_key {
        (at + 1, at)
    } else {
        (at, at + 1)
    };
    let item = packet.add_uint(parent, &CV_KEY, key_at, 1, vector.key.into());
    packet.set_len(item, vector.len);
    let sub = packet.subtree(item, &ETT_CV);
    packet.add_uint(sub, &CV_LEN, len_at, 1, packet.bytes()[len_at].into());
    let data_at = at + 2;
    match vector.key {
        cv::NETWORK_NAME => {
            if let Some((kind, name)) = cv::network_name(vector.data) {
                packet.add_uint(sub, &CV_NAME_TYPE, data_at, 1, kind.into());
                packet.add_string(sub, &CV_NAME, data_at + 1, vector.data.len() - 1, &name);
                packet.append_text(item, &format!(": {name}"));
            }
        }
        cv::PRODUCT_SET_ID if !length_key => {
            let (start, subvectors) = cv::product_set_subvectors(vector.data);
            for subvector in subvectors.flatten() {
                let sv_at = data_at + start + subvector.offset;
                let sv_item =
                    packet.add_uint(sub, &CV_SUBVECTOR_KEY, sv_at + 1, 1, subvector.key.into());
                packet.set_len(sv_item, subvector.len);
                if subvector.key != cv::PRODUCT_IDENTIFIER {
                    continue;
                }
                let sv = packet.subtree(sv_item, &ETT_CV);
                if let Some((class, first, subfields)) = cv::product_identifier(subvector.data) {
                    packet.add_uint(sv, &CV_PRODUCT_CLASS, sv_at + 2, 1, class.into());
                    for field in subfields.flatten() {
                        let f_at = sv_at + 2 + first + field.offset;
                        packet.add_uint(sv, &CV_SUBFIELD_KEY, f_at + 1, 1, field.key.into());
                        match (field.key, cv::common_level(field.data)) {
                            (0x04, Some(level)) => {
                                packet.add_string(sv, &CV_PRODUCT_LEVEL, f_at + 2, 6, &level);
                            }
                            (0x00, _) => {
                                packet.add_bytes(sv, &CV_DATA, f_at + 2, field.data.len());
                            }
                            _ => {
                                let text = ee::ebcdic::to_ascii(field.data);
                                packet.add_string(
                                    sv,
                                    &CV_PRODUCT_TEXT,
                                    f_at + 2,
                                    field.data.len(),
                                    text.trim_end(),
                                );
                            }
                        }
                    }
                }
            }
        }
        cv::TG_DESCRIPTOR => tg_descriptor(packet, sub, data_at, vector.data),
        cv::NETWORK_ADDRESS if length_key => network_address(packet, sub, data_at, vector.data),
        _ => {
            if !vector.data.is_empty() {
                packet.add_bytes(sub, &CV_DATA, data_at, vector.data.len());
            }
        }
    }
}

/// CV 0x05 in an RTP segment: flags, then nested HPR vectors (node
/// identifier, network identifier, …), length-key and padded.
fn network_address(packet: &Packet, parent: Tree, at: usize, data: &[u8]) {
    let Some((flags, first, nested)) = cv::network_address(data) else {
        packet.add_bytes(parent, &CV_DATA, at, data.len());
        return;
    };
    let item = packet.add_uint(parent, &CV_NETADDR_FLAGS, at, 1, flags.into());
    let fl = packet.subtree(item, &ETT_FLAGS);
    packet.add_bool(fl, &CV_NETADDR_PTP, at, 1, flags.into());
    for vector in nested {
        let Ok(vector) = vector else { break };
        let v_at = at + first + vector.offset;
        let item = packet.add_uint(parent, &CV_HPR_KEY, v_at + 1, 1, vector.key.into());
        packet.set_len(item, vector.len);
        let sub = packet.subtree(item, &ETT_CV);
        packet.add_uint(sub, &CV_LEN, v_at, 1, vector.len as u32);
        match vector.key {
            cv::HPR_NETWORK_IDENTIFIER if !vector.data.is_empty() => {
                let netid = ee::ebcdic::to_ascii(vector.data);
                packet.add_string(
                    sub,
                    &CV_NETWORK_ID,
                    v_at + 2,
                    vector.data.len(),
                    netid.trim_end(),
                );
            }
            cv::NETWORK_ADDRESS => network_address(packet, sub, v_at + 2, vector.data),
            _ if !vector.data.is_empty() => {
                packet.add_bytes(sub, &CV_DATA, v_at + 2, vector.data.len());
            }
            _ => {}
        }
    }
}

/// CV 0x46: length-key subfields; 0x80 (TG identifier) decoded.
fn tg_descriptor(packet: &Packet, parent: Tree, at: usize, data: &[u8]) {
    for subfield in cv::tg_descriptor_subfields(data) {
        let Ok(subfield) = subfield else {
            packet.add_bytes(parent, &CV_DATA, at, data.len());
            return;
        };
        let sf_at = at + subfield.offset;
        let item = packet.add_uint(parent, &CV_TG_SUBFIELD, sf_at + 1, 1, subfield.key.into());
        packet.set_len(item, subfield.len);
        let sub = packet.subtree(item, &ETT_CV);
        match cv::tg_identifier(subfield.data).filter(|_| subfield.key == cv::TG_IDENTIFIER) {
            Some((tg, partner)) => {
                packet.add_uint(sub, &CV_TG_NUMBER, sf_at + 2, 1, tg.into());
                packet.add_string(
                    sub,
                    &CV_TG_PARTNER,
                    sf_at + 3,
                    subfield.data.len() - 1,
                    &partner,
                );
            }
            None if !subfield.data.is_empty() => {
                packet.add_bytes(sub, &CV_DATA, sf_at + 2, subfield.data.len());
            }
            None => {}
        }
    }
}

fn fid5_headers(packet: &Packet, root: Tree, at: usize, fid5: &Fid5) {
    let b0 = fid5.th_byte0();
    let item = packet.add_uint(root, &TH_FID, at, 1, b0.into());
    packet.append_text(item, " (FID5 transmission header)");
    packet.set_len(item, ee::fid5::field::TH_LEN);
    let th = packet.subtree(item, &ETT_FID5);
    packet.add_uint(th, &TH_MPF, at, 1, b0.into());
    packet.add_bool(th, &TH_EFI, at, 1, b0.into());
    packet.add_uint(th, &TH_SNF, at + 2, 2, fid5.sequence_number().into());
    packet.add_uint64(th, &TH_SA, at + 4, 8, fid5.session_address());
    let rh = fid5.rh();
    let rh_at = at + ee::fid5::field::RH.start;
    let item = packet.add_bool(root, &RH_RRI, rh_at, 1, rh[0].into());
    packet.append_text(item, " (request/response header)");
    packet.set_len(item, 3);
    let sub = packet.subtree(item, &ETT_RH);
    packet.add_uint(sub, &RH_CATEGORY, rh_at, 1, rh[0].into());
    for field in [&RH_FI, &RH_SDI, &RH_BCI, &RH_ECI] {
        packet.add_bool(sub, field, rh_at, 1, rh[0].into());
    }
    for field in [
        &RH_DR1I, &RH_LCCI, &RH_DR2I, &RH_ERI, &RH_RLWI, &RH_QRI, &RH_PI,
    ] {
        packet.add_bool(sub, field, rh_at + 1, 1, rh[1].into());
    }
    if !fid5.is_response() {
        for field in [
            &RH_BBI, &RH_EBI, &RH_CDI, &RH_CSI, &RH_EDI, &RH_PDI, &RH_CEBI,
        ] {
            packet.add_bool(sub, field, rh_at + 2, 1, rh[2].into());
        }
    }
    let ru = fid5.ru();
    if !ru.is_empty() {
        packet.add_bytes(root, &RU, at + ee::fid5::field::LEN, ru.len());
    }
}

fn route_setup(packet: &Packet, root: Tree, at: usize, gds: &Gds) {
    let word = u32::from(gds.length_word());
    let item = packet.add_uint(root, &GDS_ID, at + 2, 2, gds.id().into());
    packet.set_len(item, gds.len().min(packet.captured_len() - at));
    let sub = packet.subtree(item, &ETT_GDS);
    packet.add_uint(sub, &GDS_LEN, at, 2, word);
    packet.add_bool(sub, &GDS_CONTINUATION, at, 2, word.into());
    let body = gds.body();
    if !body.is_empty() {
        packet.add_bytes(sub, &GDS_DATA, at + ee::gds::HEADER_LEN, body.len());
    }
}

fn xid3(packet: &Packet, root: Tree, at: usize, xid: &Xid3, info: &mut String) {
    let b0 = xid.byte(xid3::field::FORMAT_TYPE);
    let item = packet.add_uint(root, &XID_FORMAT, at, 1, b0.into());
    packet.append_text(item, " (XID3)");
    packet.set_len(item, xid.len());
    let sub = packet.subtree(item, &ETT_XID);
    packet.add_uint(sub, &XID_NODE_TYPE, at, 1, b0.into());
    packet.add_uint(sub, &XID_LEN, at + 1, 1, xid.len() as u32);
    let id = packet.add_uint(sub, &XID_NODE_ID, at + 2, 4, xid.node_id());
    let id = packet.subtree(id, &ETT_FLAGS);
    packet.add_uint(id, &XID_IDBLK, at + 2, 4, xid.node_id());
    packet.add_uint(id, &XID_IDNUM, at + 2, 4, xid.node_id());
    let caps = u32::from(xid.capabilities());
    let item = packet.add_uint(sub, &XID_CAPS, at + 8, 2, caps);
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
        packet.add_bool(c, field, at + 8, 2, caps.into());
    }
    packet.add_uint(c, &XID_EXCHANGE_STATE, at + 8, 2, caps);
    packet.add_bool(c, &XID_NONACTIVATION, at + 8, 2, caps.into());
    packet.add_bool(c, &XID_CP_NAME_CHANGE, at + 8, 2, caps.into());
    let b10 = xid.byte(xid3::field::BYTE10);
    let item = packet.add_uint(sub, &XID_BYTE10, at + 10, 1, b10.into());
    let c = packet.subtree(item, &ETT_FLAGS);
    for field in [
        &XID_PACING_SENDER,
        &XID_PACING_RECEIVER,
        &XID_QUIESCE,
        &XID_PU_CAPS,
        &XID_PBN,
    ] {
        packet.add_bool(c, field, at + 10, 1, b10.into());
    }
    packet.add_uint(c, &XID_PACING_QUALIFIER, at + 10, 1, b10.into());
    let b11 = xid.byte(xid3::field::BYTE11);
    packet.add_bool(sub, &XID_TG_SHARING_PROHIBITED, at + 11, 1, b11.into());
    packet.add_bool(sub, &XID_DEDICATED_SVC, at + 11, 1, b11.into());
    let b12 = xid.byte(xid3::field::BYTE12);
    packet.add_bool(
        sub,
        &XID_NEGOTIATION_COMPLETE_SUPPORTED,
        at + 12,
        1,
        b12.into(),
    );
    packet.add_bool(sub, &XID_NEGOTIATION_COMPLETE, at + 12, 1, b12.into());
    let b15 = xid.byte(xid3::field::BYTE15);
    let item = packet.add_uint(sub, &XID_BYTE15, at + 15, 1, b15.into());
    let c = packet.subtree(item, &ETT_FLAGS);
    for field in [
        &XID_PARALLEL_TGS,
        &XID_DLUR,
        &XID_DLUS,
        &XID_EXBN,
        &XID_ODAI,
    ] {
        packet.add_bool(c, field, at + 15, 1, b15.into());
    }
    packet.add_uint(c, &XID_BRANCH, at + 15, 1, b15.into());
    packet.add_bool(c, &XID_OPTION_SET_1123, at + 15, 1, b15.into());
    packet.add_uint(sub, &XID_TG, at + 16, 1, xid.tg_number().into());
    packet.add_uint(sub, &XID_DLC_TYPE, at + 17, 1, xid.dlc_type().into());
    let dlc = xid.dlc_section();
    packet.add_uint(sub, &XID_DLC_LEN, at + 18, 1, dlc.len() as u32);
    if dlc.len() > 1 {
        let link = xid.byte(xid3::field::DLC_LINK_FLAGS);
        let item = packet.add_uint(sub, &XID_LINK_FLAGS, at + 19, 1, link.into());
        let c = packet.subtree(item, &ETT_FLAGS);
        packet.add_bool(c, &XID_ABM, at + 19, 1, link.into());
        packet.add_uint(c, &XID_STATION_ROLE, at + 19, 1, link.into());
        packet.add_bool(c, &XID_SHORT_HOLD_STATUS, at + 19, 1, link.into());
        packet.add_bool(c, &XID_SHORT_HOLD_SUPPORT, at + 19, 1, link.into());
        packet.add_uint(c, &XID_TRANSMIT_RECEIVE, at + 19, 1, link.into());
    }
    if let Some(btu) = xid.max_btu() {
        packet.add_uint(sub, &XID_MAX_BTU, at + 21, 2, btu.into());
    }
    if dlc.len() > xid3::field::DLC_MAX_IFRAMES - xid3::field::DLC_LENGTH {
        let iframes = xid.byte(xid3::field::DLC_MAX_IFRAMES);
        packet.add_uint(sub, &XID_MAX_IFRAMES, at + 27, 1, iframes.into());
    }
    let vectors_at = at + xid.vectors_offset();
    let mut cp_name = None;
    for vector in xid.vectors() {
        match vector {
            Ok(vector) => {
                if vector.key == cv::NETWORK_NAME {
                    cp_name = cv::network_name(vector.data).map(|(_, name)| name);
                }
                control_vector(packet, sub, vectors_at, &vector, false);
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

/// The headers of a reassembled message, over its own data source.
pub fn message(view: &Packet, root: Tree, message: &[u8], frames: &[u32]) {
    let item = view.add_uint(
        root,
        &MESSAGE_LENGTH,
        0,
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
        fid5_headers(view, sub, 0, &fid5);
    } else if let Ok(gds) = Gds::new_checked(message) {
        route_setup(view, sub, 0, &gds);
    }
}
