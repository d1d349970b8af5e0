//! Byte builders, one per header.  Every position and width comes from the
//! `ee` crate's layout constants (the `field` modules its accessors and the
//! Wireshark tree use, listed with their sources in `ee::layout` and the
//! project's docs/ee.md), so the generator and the reader share one layout
//! table; what checks that table against the world are the independent
//! vectors of tests/data/ee-vectors and Wireshark's own decode.  Nothing
//! here reads bytes back: every function turns a few plain values into the
//! wire bytes.
//!
//! All multi-byte fields are big-endian.  Bit masks are written on the byte
//! (0x80 is IBM "bit 0").

use std::ops::Range;

use ee::xid3 as ee_xid3;
use ee::{cv, fid5 as ee_fid5, gds as ee_gds, llc as ee_llc, nhdr as ee_nhdr, thdr as ee_thdr};

/// Writes `value` big-endian into `out[range]` (1 to 8 bytes).
fn put(out: &mut [u8], range: Range<usize>, value: u64) {
    let width = range.len();
    assert!(
        (1..=8).contains(&width),
        "{range:?} is not an integer field"
    );
    out[range].copy_from_slice(&value.to_be_bytes()[8 - width..]);
}

/// `range` of a structure at `base`.
fn at(base: usize, range: Range<usize>) -> Range<usize> {
    base + range.start..base + range.end
}

/// Zero-pads `bytes` to a multiple of 4.
pub fn pad4(bytes: &mut Vec<u8>) {
    while bytes.len() % 4 != 0 {
        bytes.push(0);
    }
}

/// EBCDIC (code page 037) for the SNA "type A" character set: A-Z, 0-9,
/// '.', blank.  Other characters are a programming error here.
pub fn ebcdic(text: &str) -> Vec<u8> {
    text.bytes()
        .map(|c| match c {
            b'A'..=b'I' => 0xC1 + (c - b'A'),
            b'J'..=b'R' => 0xD1 + (c - b'J'),
            b'S'..=b'Z' => 0xE2 + (c - b'S'),
            b'0'..=b'9' => 0xF0 + (c - b'0'),
            b'.' => 0x4B,
            b' ' => 0x40,
            _ => panic!("no type-A EBCDIC code for {:?}", c as char),
        })
        .collect()
}

/// A control vector in KEY-LENGTH framing (XID3): key, length of the data
/// only, data.
pub fn cv_key_length(key: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0; cv::field::DATA];
    put(&mut out, cv::field::KL_KEY, key.into());
    let len = u8::try_from(data.len()).expect("CV data <= 255");
    put(&mut out, cv::field::KL_LEN, len.into());
    out.extend_from_slice(data);
    out
}

/// A vector in LENGTH-KEY framing (HPR control vectors, MS subvectors and
/// subfields): length counting the 2-byte header, key, data.  Not padded.
pub fn length_key(key: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0; cv::field::DATA];
    let len = u8::try_from(data.len() + cv::field::DATA).expect("vector <= 255 bytes");
    put(&mut out, cv::field::LT_LEN, len.into());
    put(&mut out, cv::field::LT_KEY, key.into());
    out.extend_from_slice(data);
    out
}

/// LENGTH-KEY vector followed by zero padding to a multiple of 4 (the
/// padding is outside the length byte).
pub fn length_key_padded(key: u8, data: &[u8]) -> Vec<u8> {
    let mut out = length_key(key, data);
    pad4(&mut out);
    out
}

// ---------------------------------------------------------------------
// IEEE 802.2 LLC
// ---------------------------------------------------------------------

pub mod llc {
    /// SNA path control SAP, the EE default local SAP.
    pub const SAP_SNA: u8 = 0x04;
    /// SNA SAP 0xC8 (Wireshark SAP_SNA4).
    pub const SAP_C8: u8 = 0xC8;
    /// SSAP bit set in responses.
    pub const RESPONSE: u8 = 0x01;
    /// Poll/final bit in a U-format control byte.
    pub const POLL_FINAL: u8 = 0x10;

    pub const UI: u8 = 0x03;
    pub const XID: u8 = 0xAF;
    pub const TEST: u8 = 0xE3;
    pub const DISC: u8 = 0x43;
    pub const DM: u8 = 0x0F;
}

/// LLC header: DSAP, SSAP (| 0x01 for a response), control.
pub fn llc(sap: u8, response: bool, control: u8) -> [u8; 3] {
    let ssap = if response { sap | llc::RESPONSE } else { sap };
    let mut out = [0u8; ee_llc::field::LEN];
    put(&mut out, ee_llc::field::DSAP, sap.into());
    put(&mut out, ee_llc::field::SSAP, ssap.into());
    put(&mut out, ee_llc::field::CONTROL, control.into());
    out
}

// ---------------------------------------------------------------------
// XID format 3
// ---------------------------------------------------------------------

/// XID3 bytes 8-9 bits.
pub mod xid3_caps {
    pub const NETWORK_NODE: u16 = ee::xid3::capabilities::NETWORK_NODE;
    pub const CP_CP_SESSIONS: u16 = ee::xid3::capabilities::CP_CP_SESSIONS;
    /// Exchange state indicator, mask 0x000C.
    pub const STATE_SHIFT: u16 = 2;
    pub const STATE_NEGOTIATION_PROCEEDING: u16 = 1;
    pub const STATE_PRENEGOTIATION: u16 = 2;
}

/// The values of one XID3 I-field.
#[derive(Clone, Debug)]
pub struct Xid3 {
    /// Low nibble of byte 0: 2 = T2.1.
    pub node_type: u8,
    /// IDBLK (12 bits) << 20 | IDNUM (20 bits).
    pub node_id: u32,
    /// Bytes 8-9.
    pub capabilities: u16,
    /// Byte 10.
    pub byte10: u8,
    pub tg_number: u8,
    pub dlc_type: u8,
    /// DLC-dependent section byte 21-22 (15-bit value).
    pub max_btu: u16,
    /// Byte 27, maximum I-frames before acknowledgment.
    pub max_iframes: u8,
    /// Network-qualified CP name of the sender, "NETID.NAME".
    pub cp_name: String,
    /// Network-qualified CP name put in the TG descriptor (the partner).
    pub tg_partner: String,
    /// Product set ID: 6 decimal digits (version, release, modification).
    pub product_level: String,
    pub product_name: String,
}

/// Offset of the DLC-dependent section length byte (it counts itself).
pub const XID3_DLC_LENGTH_OFFSET: usize = ee_xid3::field::DLC_LENGTH.start;
/// DLC-dependent section length used: bytes 18..29 (SDLC/LAN layout).
pub const XID3_DLC_LENGTH: u8 = 0x0B;

/// The XID3 I-field (bytes after the LLC header).  Byte 1 is the total
/// length of the I-field.
pub fn xid3(x: &Xid3) -> Vec<u8> {
    use ee_xid3::field as f;
    let mut out = vec![0u8; XID3_DLC_LENGTH_OFFSET + usize::from(XID3_DLC_LENGTH)];
    put(
        &mut out,
        f::FORMAT_TYPE,
        u64::from(0x30 | (x.node_type & 0x0F)),
    );
    put(&mut out, f::NODE_ID, x.node_id.into());
    put(&mut out, f::CAPABILITIES, x.capabilities.into());
    put(&mut out, f::BYTE10, x.byte10.into());
    put(&mut out, f::TG_NUMBER, x.tg_number.into());
    put(&mut out, f::DLC_TYPE, x.dlc_type.into());
    // DLC-dependent section, SDLC/LAN layout, counting its length byte.
    put(&mut out, f::DLC_LENGTH, XID3_DLC_LENGTH.into());
    // ABM combined station, two-way simultaneous.
    put(&mut out, f::DLC_LINK_FLAGS, 0x41);
    put(&mut out, f::DLC_MAX_BTU, (x.max_btu & 0x7FFF).into());
    put(&mut out, f::DLC_MAX_IFRAMES, (x.max_iframes & 0x7F).into());

    // Control vectors, KEY-LENGTH framing.
    let mut name = vec![0xF4]; // CP name
    name.extend(ebcdic(&x.cp_name));
    out.extend(cv_key_length(cv::NETWORK_NAME, &name));
    out.extend(cv_key_length(cv::PRODUCT_SET_ID, &product_set_id(x)));
    let mut tg_id = vec![x.tg_number];
    tg_id.extend(ebcdic(&x.tg_partner));
    out.extend(cv_key_length(
        cv::TG_DESCRIPTOR,
        &length_key(cv::TG_IDENTIFIER, &tg_id),
    ));
    out.extend(cv_key_length(
        cv::HPR_CAPABILITIES,
        &[0x80, 0x00, 0x00, 0x00],
    ));

    let len = u8::try_from(out.len()).expect("XID3 fits its length byte");
    put(&mut out, f::LENGTH, len.into());
    out
}

/// CV 0x10 data: reserved byte, then the product identifier MS subvector
/// 0x11 (LENGTH-KEY) holding classification and LENGTH-KEY subfields.
fn product_set_id(x: &Xid3) -> Vec<u8> {
    let mut subvector = vec![0x0E]; // IBM or non-IBM software
    subvector.extend(length_key(0x04, &ebcdic(&x.product_level)));
    subvector.extend(length_key(0x06, &ebcdic(&x.product_name)));
    let mut out = vec![0; cv::field::PRODUCT_SET_SUBVECTORS];
    out.extend(length_key(cv::PRODUCT_IDENTIFIER, &subvector));
    out
}

// ---------------------------------------------------------------------
// NHDR (network layer header)
// ---------------------------------------------------------------------

pub mod nhdr {
    /// Switching mode in bits 0xE0 of byte 0.
    pub const FUNCTION_ROUTING: u8 = ee::nhdr::SWITCHING_FUNCTION_ROUTING;
    pub const ANR: u8 = ee::nhdr::SWITCHING_ANR;
    /// Transmission priority in bits 0x06 of byte 0.
    pub const TPF_LOW: u8 = 0;
    pub const TPF_MEDIUM: u8 = 1;
    pub const TPF_HIGH: u8 = 2;
    pub const TPF_NETWORK: u8 = 3;
    /// Byte 1.
    pub const FT_LDLC: u8 = ee::nhdr::FUNCTION_TYPE_LDLC;
    pub const TIME_SENSITIVE: u8 = ee::nhdr::byte1::TIME_SENSITIVE;
    pub const SLOWDOWN1: u8 = ee::nhdr::byte1::SLOWDOWN1;
    pub const SLOWDOWN2: u8 = ee::nhdr::byte1::SLOWDOWN2;
    /// Terminator of the ANR / FR field.
    pub const END: u8 = ee::nhdr::LIST_END;
    /// FRH values.
    pub const FRH_XID_COMPLETE_REQUEST: u8 = ee::nhdr::FRH_XID_COMPLETE_REQUEST;
    pub const FRH_XID_COMPLETE_RESPONSE: u8 = ee::nhdr::FRH_XID_COMPLETE_RESPONSE;
}

/// NHDR: byte 0 switching mode | priority, byte 1 function type |
/// indicators, the label field, 0xFF, one reserved byte.
pub fn nhdr(mode: u8, tpf: u8, byte1: u8, labels: &[u8]) -> Vec<u8> {
    use ee_nhdr::field as f;
    debug_assert!(!labels.contains(&nhdr::END));
    let end = f::LABELS + labels.len();
    let mut out = vec![0u8; end + f::RESERVED_AFTER_END + 1];
    put(
        &mut out,
        f::BYTE0,
        u64::from((mode << 5) | ((tpf & 0x03) << 1)),
    );
    put(&mut out, f::BYTE1, byte1.into());
    out[f::LABELS..end].copy_from_slice(labels);
    out[end] = nhdr::END;
    // The reserved byte after the end stays 0.
    out
}

/// A function-routing NLP for LDLC: NHDR with no FR entries, then the
/// function routing header byte.
pub fn ldlc_nlp(tpf: u8, frh: u8) -> Vec<u8> {
    let mut out = nhdr(nhdr::FUNCTION_ROUTING, tpf, nhdr::FT_LDLC << 4, &[]);
    let end = out.len() - 1 - ee_nhdr::field::RESERVED_AFTER_END;
    let at = end + ee_nhdr::field::FRH_AFTER_END;
    out.resize(at + 1, 0);
    out[at] = frh;
    out
}

// ---------------------------------------------------------------------
// RTP transport header and optional segments
// ---------------------------------------------------------------------

pub mod thdr {
    /// Byte 8.
    pub const SETUPI: u8 = ee::thdr::flags0::SETUPI;
    pub const SOMI: u8 = ee::thdr::flags0::SOMI;
    pub const EOMI: u8 = ee::thdr::flags0::EOMI;
    pub const SRI: u8 = ee::thdr::flags0::SRI;
    pub const RASAPI: u8 = ee::thdr::flags0::RASAPI;
    pub const RETRYI: u8 = ee::thdr::flags0::RETRYI;
    /// Byte 9.
    pub const LMI: u8 = ee::thdr::flags1::LMI;
    pub const OSI: u8 = ee::thdr::flags1::OSI;
    /// Length of the fixed part.
    pub const FIXED_LEN: usize = ee::thdr::field::FIXED_LEN;
}

/// THDR: TCID, two flag bytes (OSI is set here when segments are given),
/// data offset in words, DLF, BSN, then the segments (each already a
/// multiple of 4 bytes).
pub fn thdr(tcid: u64, byte8: u8, byte9: u8, segments: &[Vec<u8>], dlf: u32, bsn: u32) -> Vec<u8> {
    use ee_thdr::field as f;
    let segment_len: usize = segments.iter().map(Vec::len).sum();
    let total = thdr::FIXED_LEN + segment_len;
    assert!(total % 4 == 0, "segments are whole words");
    let osi = if segments.is_empty() { 0 } else { thdr::OSI };
    let mut out = vec![0u8; thdr::FIXED_LEN];
    put(&mut out, f::TCID, tcid);
    put(&mut out, f::FLAGS0, byte8.into());
    put(&mut out, f::FLAGS1, (byte9 | osi).into());
    let words = u16::try_from(total / 4).expect("THDR words fit");
    put(&mut out, f::DATA_OFFSET, words.into());
    put(&mut out, f::DLF, dlf.into());
    put(&mut out, f::BSN, bsn.into());
    for segment in segments {
        out.extend_from_slice(segment);
    }
    out
}

pub mod segment {
    use ee::thdr::kind;
    pub const CONNECTION_SETUP: u8 = kind::CONNECTION_SETUP;
    pub const STATUS: u8 = kind::STATUS;
    pub const CLIENT_OOB: u8 = kind::CLIENT_OUT_OF_BAND;
    pub const CONNECTION_ID_EXCHANGE: u8 = kind::CONNECTION_ID_EXCHANGE;
    pub const CONNECTION_FAULT: u8 = kind::CONNECTION_FAULT;
    pub const SWITCHING_INFORMATION: u8 = kind::SWITCHING_INFORMATION;
    pub const ARB: u8 = kind::ADAPTIVE_RATE_BASED;

    /// Client out-of-band bit values.
    pub const OOB_REQUEST_DEACTIVATION: u16 = 0x0001;
    pub const OOB_REPLY_OK: u16 = 0x8000;
}

/// An optional segment of type `kind` whose body (everything after the
/// 2-byte header) `fill` writes into a buffer of `body_len` bytes, zero
/// padded to a whole word; byte 0 counts the words.
fn optional_segment(kind: u8, body_len: usize, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    use ee_thdr::segment as s;
    let mut out = vec![0u8; s::HEADER_LEN + body_len];
    put(&mut out, s::TYPE, kind.into());
    fill(&mut out);
    pad4(&mut out);
    let words = u8::try_from(out.len() / 4).expect("segment words fit a byte");
    put(&mut out, s::LEN, words.into());
    out
}

/// 0x0D connection setup: version 1.1, flags (0x10 ARB, 0x08 reliable),
/// three reserved bytes, then LENGTH-KEY control vectors padded to 4:
/// here one CV 0x05 network address holding node identifier (0x00) and
/// network identifier (0x03) sub-vectors.
pub fn connection_setup(flags: u8, node_id: u32, network_id: &str) -> Vec<u8> {
    use ee_thdr::setup as s;
    let mut address = vec![0u8; cv::field::NETADDR_VECTORS];
    put(
        &mut address,
        cv::field::NETADDR_FLAGS,
        cv::NETWORK_ADDRESS_POINT_TO_POINT.into(),
    );
    address.extend(length_key_padded(
        cv::HPR_NODE_IDENTIFIER,
        &node_id.to_be_bytes(),
    ));
    address.extend(length_key_padded(
        cv::HPR_NETWORK_IDENTIFIER,
        &ebcdic(network_id),
    ));
    let vectors = length_key_padded(cv::NETWORK_ADDRESS, &address);
    optional_segment(
        segment::CONNECTION_SETUP,
        s::VECTORS - 2 + vectors.len(),
        |out| {
            put(out, s::VERSION, 0x0101);
            put(out, s::FLAGS, flags.into());
            out[s::VECTORS..].copy_from_slice(&vectors);
        },
    )
}

/// What a status segment reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub gap: bool,
    pub idle: bool,
    pub report_number: u16,
    pub acknowledge_number: u16,
    /// Next BSN expected: every byte below it was received.
    pub received: u32,
    /// Byte ranges [begin, end) received beyond the gap.
    pub absp: Vec<(u32, u32)>,
}

/// 0x0E status: flags, number of ABSP pairs, report and acknowledge
/// numbers, received sequence number, 8 reserved bytes, ABSP pairs.
pub fn status(st: &Status) -> Vec<u8> {
    use ee_thdr::status as s;
    let body = s::pair(st.absp.len()) - 2;
    optional_segment(segment::STATUS, body, |out| {
        let flags = if st.gap { s::GAP } else { 0 } | if st.idle { s::IDLE } else { 0 };
        put(out, s::FLAGS, flags.into());
        let count = u8::try_from(st.absp.len()).expect("ABSP count fits");
        put(out, s::PAIR_COUNT, count.into());
        put(out, s::REPORT_NUMBER, st.report_number.into());
        put(out, s::ACK_NUMBER, st.acknowledge_number.into());
        put(out, s::RECEIVED_SEQUENCE, st.received.into());
        for (i, &(begin, end)) in st.absp.iter().enumerate() {
            put(out, at(s::pair(i), s::PAIR_BEGIN), begin.into());
            put(out, at(s::pair(i), s::PAIR_END), end.into());
        }
    })
}

/// 0x0F client out-of-band bits (one word).
pub fn client_out_of_band(bits: u16) -> Vec<u8> {
    let field = ee_thdr::oob::BITS;
    optional_segment(segment::CLIENT_OOB, field.end - 2, |out| {
        put(out, field, bits.into())
    })
}

/// 0x10 connection identifier exchange: 2 reserved bytes, the TCID the
/// sender wants its partner to use towards it.
pub fn connection_id_exchange(tcid: u64) -> Vec<u8> {
    let field = ee_thdr::cie::TCID;
    optional_segment(segment::CONNECTION_ID_EXCHANGE, field.end - 2, |out| {
        put(out, field, tcid)
    })
}

/// 0x12 connection fault: 2 reserved bytes, 4 bytes of sense data.
pub fn connection_fault(sense: u32) -> Vec<u8> {
    let field = ee_thdr::fault::SENSE;
    optional_segment(segment::CONNECTION_FAULT, field.end - 2, |out| {
        put(out, field, sense.into())
    })
}

/// Values of the switching information CV 0x83.
#[derive(Clone, Copy, Debug)]
pub struct SwitchingInformation {
    pub flags: u8,
    pub max_packet_size: u32,
    pub path_switch_time: u32,
    pub alive_timer: u32,
}

/// 0x14 switching information: 2 reserved bytes, CV 0x83 (16 bytes, no
/// embedded vector), CV 0x85 return route TG descriptor with no TG vectors.
pub fn switching_information(si: &SwitchingInformation) -> Vec<u8> {
    use ee_thdr::switching as s;
    let mut cv83 = vec![0u8; s::EMBEDDED];
    put(&mut cv83, s::CV_LEN, s::EMBEDDED as u64);
    put(&mut cv83, s::CV_KEY, s::KEY_83.into());
    put(&mut cv83, s::FLAGS, si.flags.into());
    put(&mut cv83, s::MAX_PACKET_SIZE, si.max_packet_size.into());
    put(&mut cv83, s::PATH_SWITCH_TIME, si.path_switch_time.into());
    put(&mut cv83, s::ALIVE_TIMER, si.alive_timer.into());
    pad4(&mut cv83);
    let mut cv85 = vec![0u8; s::TG_VECTORS];
    put(&mut cv85, s::CV_LEN, s::TG_VECTORS as u64);
    put(&mut cv85, s::CV_KEY, s::KEY_85.into());
    put(&mut cv85, s::BF_FLAGS, 0x80); // BF entry; no TG descriptors
    optional_segment(
        segment::SWITCHING_INFORMATION,
        s::CV83 - 2 + cv83.len() + cv85.len(),
        |out| {
            out[s::CV83..s::CV83 + cv83.len()].copy_from_slice(&cv83);
            out[s::CV83 + cv83.len()..].copy_from_slice(&cv85);
        },
    )
}

/// ARB message types and rate actions.
pub mod arb {
    pub const SETUP: u8 = 0;
    pub const RATE_REPLY: u8 = 1;
    pub const RATE_REQUEST: u8 = 2;
    pub const ACTION_NORMAL: u8 = 0;
    pub const ACTION_SLOWDOWN1: u8 = 2;
    pub const MODE_RESPONSIVE: u8 = 1;
}

/// Values of one ARB segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arb {
    pub message_type: u8,
    pub rate_action: u8,
    pub parity: bool,
    pub mode: u8,
    pub request_correlator: u8,
    pub reply_correlator: u8,
    /// Field 1 and 2; setup messages carry fields 3 and 4 as well.
    pub fields: Vec<u32>,
}

/// 0x22 adaptive rate-based: control byte, correlators, 32-bit fields.
pub fn arb(a: &Arb) -> Vec<u8> {
    use ee_thdr::arb as s;
    let expected = if a.message_type == arb::SETUP { 4 } else { 2 };
    assert_eq!(a.fields.len(), expected, "ARB field count for the type");
    let body = s::field(a.fields.len() - 1).end - 2;
    optional_segment(segment::ARB, body, |out| {
        let control = ((a.message_type & 0x03) << 6)
            | ((a.rate_action & 0x07) << 3)
            | if a.parity { s::PARITY } else { 0 }
            | (a.mode & s::MODE);
        put(out, s::CONTROL, control.into());
        let correlators = ((a.request_correlator & 0x0F) << 4) | (a.reply_correlator & 0x0F);
        put(out, s::CORRELATORS, correlators.into());
        for (i, &field) in a.fields.iter().enumerate() {
            put(out, s::field(i), field.into());
        }
    })
}

// ---------------------------------------------------------------------
// FID5 TH, RH, GDS
// ---------------------------------------------------------------------

/// Mapping field value "whole BIU".
pub const MPF_WHOLE_BIU: u8 = 3;

/// FID5 transmission header, 12 bytes.
pub fn fid5(mpf: u8, expedited: bool, snf: u16, session_address: u64) -> [u8; 12] {
    use ee_fid5::field as f;
    let mut out = [0u8; 12];
    assert_eq!(out.len(), f::TH.len());
    let byte0 = (ee_fid5::FID5 << 4) | ((mpf & 0x03) << 2) | u8::from(expedited);
    put(&mut out, f::BYTE0, byte0.into());
    put(&mut out, f::SNF, snf.into());
    put(&mut out, f::SESSION_ADDRESS, session_address);
    out
}

pub mod rh {
    pub const RESPONSE: u8 = ee::fid5::rh0::RRI;
    pub const CATEGORY_FMD: u8 = 0;
    pub const CATEGORY_SC: u8 = 3;
    pub const FI: u8 = ee::fid5::rh0::FI;
    pub const BCI: u8 = ee::fid5::rh0::BCI;
    pub const ECI: u8 = ee::fid5::rh0::ECI;
    /// Byte 1.
    pub const DR1I: u8 = ee::fid5::rh1::DR1I;
    /// Byte 2 (requests).
    pub const BBI: u8 = ee::fid5::rh2::BBI;
}

/// Request/response header, 3 bytes: byte 0 = RRI | category << 5 | the
/// flags given (FI, SDI, BCI, ECI); bytes 1 and 2 as given.
pub fn rh(response: bool, category: u8, byte0_flags: u8, byte1: u8, byte2: u8) -> [u8; 3] {
    use ee_fid5::field as f;
    let rri = if response { rh::RESPONSE } else { 0 };
    let mut out = [0u8; 3];
    let base = f::RH.start;
    put(
        &mut out,
        f::RH0.start - base..f::RH0.end - base,
        u64::from(rri | ((category & 0x03) << 5) | (byte0_flags & 0x1F)),
    );
    put(
        &mut out,
        f::RH1.start - base..f::RH1.end - base,
        byte1.into(),
    );
    put(
        &mut out,
        f::RH2.start - base..f::RH2.end - base,
        byte2.into(),
    );
    out
}

/// GDS ID of route setup.
pub const GDS_ROUTE_SETUP: u16 = ee_gds::ROUTE_SETUP;

/// GDS variable: 2-byte length counting the 4-byte header, 2-byte ID, body.
pub fn gds(id: u16, body: &[u8]) -> Vec<u8> {
    use ee_gds::field as f;
    let mut out = vec![0u8; ee_gds::HEADER_LEN];
    let len = u16::try_from(body.len() + ee_gds::HEADER_LEN).expect("GDS length fits 15 bits");
    put(&mut out, f::LENGTH, len.into());
    put(&mut out, f::ID, id.into());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_xid() -> Xid3 {
        Xid3 {
            node_type: 2,
            node_id: 0x05D0_0001,
            capabilities: 0x0058,
            byte10: 0x81,
            tg_number: 21,
            dlc_type: 0x04,
            max_btu: 1461,
            max_iframes: 7,
            cp_name: "NETA.NODEA".into(),
            tg_partner: "NETA.NODEB".into(),
            product_level: "020500".into(),
            product_name: "PKTSYNTH".into(),
        }
    }

    #[test]
    fn xid_length_byte_is_the_i_field_length() {
        let bytes = xid3(&sample_xid());
        assert_eq!(usize::from(bytes[1]), bytes.len());
        assert_eq!(bytes[0], 0x32);
        // Control vectors start right after the DLC-dependent section and
        // chain exactly to the end in KEY-LENGTH framing.
        let mut at = XID3_DLC_LENGTH_OFFSET + usize::from(bytes[XID3_DLC_LENGTH_OFFSET]);
        let mut keys = Vec::new();
        while at < bytes.len() {
            keys.push(bytes[at]);
            at += 2 + usize::from(bytes[at + 1]);
        }
        assert_eq!(at, bytes.len());
        assert_eq!(keys, [0x0E, 0x10, 0x46, 0x61]);
    }

    #[test]
    fn ebcdic_of_a_cp_name() {
        assert_eq!(
            ebcdic("NETA.NODEA"),
            [0xD5, 0xC5, 0xE3, 0xC1, 0x4B, 0xD5, 0xD6, 0xC4, 0xC5, 0xC1]
        );
        assert_eq!(ebcdic("SZ09"), [0xE2, 0xE9, 0xF0, 0xF9]);
    }

    fn all_segments() -> Vec<Vec<u8>> {
        vec![
            connection_setup(0x18, 0x05D0_0001, "NETA"),
            status(&Status {
                gap: true,
                idle: false,
                report_number: 1,
                acknowledge_number: 0,
                received: 100,
                absp: vec![(200, 300), (400, 500)],
            }),
            client_out_of_band(segment::OOB_REQUEST_DEACTIVATION),
            connection_id_exchange(0x0102_0304_0506_0708),
            connection_fault(0x8003_0004),
            switching_information(&SwitchingInformation {
                flags: 0x80,
                max_packet_size: 1461,
                path_switch_time: 60,
                alive_timer: 180,
            }),
            arb(&Arb {
                message_type: arb::SETUP,
                rate_action: 0,
                parity: false,
                mode: 1,
                request_correlator: 0,
                reply_correlator: 0,
                fields: vec![1, 2, 3, 4],
            }),
            arb(&Arb {
                message_type: arb::RATE_REQUEST,
                rate_action: 0,
                parity: false,
                mode: 1,
                request_correlator: 1,
                reply_correlator: 0,
                fields: vec![1, 2],
            }),
        ]
    }

    #[test]
    fn every_segment_is_whole_words_and_says_so() {
        for seg in all_segments() {
            assert_eq!(seg.len() % 4, 0, "segment {:02X}", seg[1]);
            assert_eq!(usize::from(seg[0]) * 4, seg.len(), "segment {:02X}", seg[1]);
        }
    }

    #[test]
    fn segment_sizes_match_the_documented_layouts() {
        let sizes: Vec<(u8, usize)> = all_segments().iter().map(|s| (s[1], s.len())).collect();
        assert_eq!(
            sizes,
            [
                (0x0D, 28),
                (0x0E, 20 + 16),
                (0x0F, 4),
                (0x10, 12),
                (0x12, 8),
                (0x14, 24),
                (0x22, 20),
                (0x22, 12)
            ]
        );
    }

    #[test]
    fn thdr_data_offset_is_header_words() {
        let segments = all_segments();
        let header = thdr(7, thdr::SOMI, 0, &segments, 3, 9);
        let words = usize::from(u16::from_be_bytes([header[10], header[11]]));
        assert_eq!(words * 4, header.len());
        assert_eq!(header[9] & thdr::OSI, thdr::OSI);
        let bare = thdr(7, 0, 0, &[], 0, 0);
        assert_eq!(bare.len(), 20);
        assert_eq!(u16::from_be_bytes([bare[10], bare[11]]), 5);
        assert_eq!(bare[9], 0);
    }

    #[test]
    fn nhdr_and_ldlc_bytes() {
        assert_eq!(
            nhdr(nhdr::ANR, nhdr::TPF_HIGH, 0, &[0x80, 0x15]),
            [0xC4, 0x00, 0x80, 0x15, 0xFF, 0x00]
        );
        assert_eq!(
            ldlc_nlp(nhdr::TPF_NETWORK, nhdr::FRH_XID_COMPLETE_REQUEST),
            [0xA6, 0x10, 0xFF, 0x00, 0x03]
        );
    }

    #[test]
    fn fid5_and_rh_bytes() {
        let th = fid5(MPF_WHOLE_BIU, true, 0x0102, 0x1122_3344_5566_7788);
        assert_eq!(th[0], 0x5D);
        assert_eq!(&th[2..4], &[0x01, 0x02]);
        assert_eq!(
            rh(
                true,
                rh::CATEGORY_SC,
                rh::FI | rh::BCI | rh::ECI,
                rh::DR1I,
                0
            ),
            [0xEB, 0x80, 0x00]
        );
    }
}
