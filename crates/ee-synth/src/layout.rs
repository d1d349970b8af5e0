//! Byte builders, one per header, written from the layouts documented in
//! the project's docs/ee.md (sources there).  Nothing here reads bytes
//! back: every function turns a few plain values into the wire bytes.
//!
//! All multi-byte fields are big-endian.  Bit masks are written on the byte
//! (0x80 is IBM "bit 0").

/// Appends `value` big-endian.
fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
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
    let mut out = vec![key, u8::try_from(data.len()).expect("CV data <= 255")];
    out.extend_from_slice(data);
    out
}

/// A vector in LENGTH-KEY framing (HPR control vectors, MS subvectors and
/// subfields): length counting the 2-byte header, key, data.  Not padded.
pub fn length_key(key: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![
        u8::try_from(data.len() + 2).expect("vector <= 255 bytes"),
        key,
    ];
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
    [sap, ssap, control]
}

// ---------------------------------------------------------------------
// XID format 3
// ---------------------------------------------------------------------

/// XID3 bytes 8-9 bits.
pub mod xid3_caps {
    pub const NETWORK_NODE: u16 = 0x0040;
    pub const CP_CP_SESSIONS: u16 = 0x0010;
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
pub const XID3_DLC_LENGTH_OFFSET: usize = 18;
/// DLC-dependent section length used: bytes 18..29.
pub const XID3_DLC_LENGTH: u8 = 0x0B;

/// The XID3 I-field (bytes after the LLC header).  Byte 1 is the total
/// length of the I-field.
pub fn xid3(x: &Xid3) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    out.push(0x30 | (x.node_type & 0x0F)); // 0: format 3 | node type
    out.push(0); // 1: XID length, filled in below
    put32(&mut out, x.node_id); // 2-5: IDBLK | IDNUM
    put16(&mut out, 0); // 6-7: reserved
    put16(&mut out, x.capabilities); // 8-9
    out.push(x.byte10); // 10
    out.extend_from_slice(&[0; 5]); // 11-15
    out.push(x.tg_number); // 16
    out.push(x.dlc_type); // 17
    debug_assert_eq!(out.len(), XID3_DLC_LENGTH_OFFSET);
    // DLC-dependent section, SDLC/LAN layout, 11 bytes counting byte 18.
    out.push(XID3_DLC_LENGTH); // 18
    out.push(0x41); // 19: ABM combined station, two-way simultaneous
    out.push(0x00); // 20
    put16(&mut out, x.max_btu & 0x7FFF); // 21-22: maximum BTU receivable
    out.push(0x00); // 23: SNA link profile
    out.push(0x00); // 24: SIM/RIM not supported
    put16(&mut out, 0); // 25-26
    out.push(x.max_iframes & 0x7F); // 27
    out.push(0x00); // 28
    debug_assert_eq!(
        out.len(),
        XID3_DLC_LENGTH_OFFSET + usize::from(XID3_DLC_LENGTH)
    );

    // Control vectors, KEY-LENGTH framing.
    let mut name = vec![0xF4]; // CP name
    name.extend(ebcdic(&x.cp_name));
    out.extend(cv_key_length(0x0E, &name));
    out.extend(cv_key_length(0x10, &product_set_id(x)));
    let mut tg_id = vec![x.tg_number];
    tg_id.extend(ebcdic(&x.tg_partner));
    out.extend(cv_key_length(0x46, &length_key(0x80, &tg_id)));
    out.extend(cv_key_length(0x61, &[0x80, 0x00, 0x00, 0x00]));

    out[1] = u8::try_from(out.len()).expect("XID3 fits its length byte");
    out
}

/// CV 0x10 data: reserved byte, then the product identifier MS subvector
/// 0x11 (LENGTH-KEY) holding classification and LENGTH-KEY subfields.
fn product_set_id(x: &Xid3) -> Vec<u8> {
    let mut subvector = vec![0x0E]; // IBM or non-IBM software
    subvector.extend(length_key(0x04, &ebcdic(&x.product_level)));
    subvector.extend(length_key(0x06, &ebcdic(&x.product_name)));
    let mut out = vec![0x00];
    out.extend(length_key(0x11, &subvector));
    out
}

// ---------------------------------------------------------------------
// NHDR (network layer header)
// ---------------------------------------------------------------------

pub mod nhdr {
    /// Switching mode in bits 0xE0 of byte 0.
    pub const FUNCTION_ROUTING: u8 = 5;
    pub const ANR: u8 = 6;
    /// Transmission priority in bits 0x06 of byte 0.
    pub const TPF_LOW: u8 = 0;
    pub const TPF_MEDIUM: u8 = 1;
    pub const TPF_HIGH: u8 = 2;
    pub const TPF_NETWORK: u8 = 3;
    /// Byte 1.
    pub const FT_LDLC: u8 = 1;
    pub const TIME_SENSITIVE: u8 = 0x08;
    pub const SLOWDOWN1: u8 = 0x04;
    pub const SLOWDOWN2: u8 = 0x02;
    /// Terminator of the ANR / FR field.
    pub const END: u8 = 0xFF;
    /// FRH values.
    pub const FRH_XID_COMPLETE_REQUEST: u8 = 0x03;
    pub const FRH_XID_COMPLETE_RESPONSE: u8 = 0x04;
}

/// NHDR: byte 0 switching mode | priority, byte 1 function type |
/// indicators, the label bytes, 0xFF, one reserved byte.
pub fn nhdr(mode: u8, tpf: u8, byte1: u8, labels: &[u8]) -> Vec<u8> {
    debug_assert!(!labels.contains(&nhdr::END));
    let mut out = vec![(mode << 5) | ((tpf & 0x03) << 1), byte1];
    out.extend_from_slice(labels);
    out.push(nhdr::END);
    out.push(0x00); // reserved
    out
}

/// A function-routing NLP for LDLC: NHDR with no FR entries, then the
/// function routing header byte.
pub fn ldlc_nlp(tpf: u8, frh: u8) -> Vec<u8> {
    let mut out = nhdr(nhdr::FUNCTION_ROUTING, tpf, nhdr::FT_LDLC << 4, &[]);
    out.push(frh);
    out
}

// ---------------------------------------------------------------------
// RTP transport header and optional segments
// ---------------------------------------------------------------------

pub mod thdr {
    /// Byte 8.
    pub const SETUPI: u8 = 0x40;
    pub const SOMI: u8 = 0x20;
    pub const EOMI: u8 = 0x10;
    pub const SRI: u8 = 0x08;
    pub const RASAPI: u8 = 0x04;
    pub const RETRYI: u8 = 0x02;
    /// Byte 9.
    pub const LMI: u8 = 0x80;
    pub const OSI: u8 = 0x04;
    /// Length of the fixed part.
    pub const FIXED_LEN: usize = 20;
}

/// THDR: TCID, two flag bytes (OSI is set here when segments are given),
/// data offset in words, DLF, BSN, then the segments (each already a
/// multiple of 4 bytes).
pub fn thdr(tcid: u64, byte8: u8, byte9: u8, segments: &[Vec<u8>], dlf: u32, bsn: u32) -> Vec<u8> {
    let segment_len: usize = segments.iter().map(Vec::len).sum();
    let total = thdr::FIXED_LEN + segment_len;
    assert!(total % 4 == 0, "segments are whole words");
    let osi = if segments.is_empty() { 0 } else { thdr::OSI };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&tcid.to_be_bytes()); // 0-7
    out.push(byte8); // 8
    out.push(byte9 | osi); // 9
    put16(&mut out, u16::try_from(total / 4).expect("THDR words fit")); // 10-11
    put32(&mut out, dlf); // 12-15
    put32(&mut out, bsn); // 16-19
    for segment in segments {
        out.extend_from_slice(segment);
    }
    out
}

pub mod segment {
    pub const CONNECTION_SETUP: u8 = 0x0D;
    pub const STATUS: u8 = 0x0E;
    pub const CLIENT_OOB: u8 = 0x0F;
    pub const CONNECTION_ID_EXCHANGE: u8 = 0x10;
    pub const CONNECTION_FAULT: u8 = 0x12;
    pub const SWITCHING_INFORMATION: u8 = 0x14;
    pub const ARB: u8 = 0x22;

    /// Client out-of-band bit values.
    pub const OOB_REQUEST_DEACTIVATION: u16 = 0x0001;
    pub const OOB_REPLY_OK: u16 = 0x8000;
}

/// An optional segment: byte 0 length in 4-byte words counting the 2-byte
/// header, byte 1 type, the body, zero padding to a whole word.
pub fn optional_segment(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0, kind];
    out.extend_from_slice(body);
    pad4(&mut out);
    out[0] = u8::try_from(out.len() / 4).expect("segment words fit a byte");
    out
}

/// 0x0D connection setup: version 1.1, flags (0x10 ARB, 0x08 reliable),
/// three reserved bytes, then LENGTH-KEY control vectors padded to 4:
/// here one CV 0x05 network address holding node identifier (0x00) and
/// network identifier (0x03) sub-vectors.
pub fn connection_setup(flags: u8, node_id: u32, network_id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, 0x0101); // +2..3 version
    body.push(flags); // +4
    body.extend_from_slice(&[0; 3]); // +5..7
    let mut address = vec![0x80, 0x00]; // point-to-point, reserved
    address.extend(length_key_padded(0x00, &node_id.to_be_bytes()));
    address.extend(length_key_padded(0x03, &ebcdic(network_id)));
    body.extend(length_key_padded(0x05, &address));
    optional_segment(segment::CONNECTION_SETUP, &body)
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
pub fn status(s: &Status) -> Vec<u8> {
    let mut body = Vec::new();
    body.push(if s.gap { 0x80 } else { 0 } | if s.idle { 0x40 } else { 0 }); // +2
    body.push(u8::try_from(s.absp.len()).expect("ABSP count fits")); // +3
    put16(&mut body, s.report_number); // +4..5
    put16(&mut body, s.acknowledge_number); // +6..7
    put32(&mut body, s.received); // +8..11
    body.extend_from_slice(&[0; 8]); // +12..19
    for &(begin, end) in &s.absp {
        put32(&mut body, begin);
        put32(&mut body, end);
    }
    optional_segment(segment::STATUS, &body)
}

/// 0x0F client out-of-band bits (one word).
pub fn client_out_of_band(bits: u16) -> Vec<u8> {
    optional_segment(segment::CLIENT_OOB, &bits.to_be_bytes())
}

/// 0x10 connection identifier exchange: 2 reserved bytes, the TCID the
/// sender wants its partner to use towards it.
pub fn connection_id_exchange(tcid: u64) -> Vec<u8> {
    let mut body = vec![0, 0];
    body.extend_from_slice(&tcid.to_be_bytes());
    optional_segment(segment::CONNECTION_ID_EXCHANGE, &body)
}

/// 0x12 connection fault: 2 reserved bytes, 4 bytes of sense data.
pub fn connection_fault(sense: u32) -> Vec<u8> {
    let mut body = vec![0, 0];
    put32(&mut body, sense);
    optional_segment(segment::CONNECTION_FAULT, &body)
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
    let mut body = vec![0, 0];
    let mut cv83 = vec![si.flags, 0x00];
    put32(&mut cv83, si.max_packet_size);
    put32(&mut cv83, si.path_switch_time);
    put32(&mut cv83, si.alive_timer);
    body.extend(length_key_padded(0x83, &cv83));
    body.extend(length_key_padded(0x85, &[0x80, 0x00])); // BF entry, N = 0
    optional_segment(segment::SWITCHING_INFORMATION, &body)
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
    let expected = if a.message_type == arb::SETUP { 4 } else { 2 };
    assert_eq!(a.fields.len(), expected, "ARB field count for the type");
    let mut body = vec![
        ((a.message_type & 0x03) << 6)
            | ((a.rate_action & 0x07) << 3)
            | if a.parity { 0x04 } else { 0 }
            | (a.mode & 0x03),
        ((a.request_correlator & 0x0F) << 4) | (a.reply_correlator & 0x0F),
    ];
    for &field in &a.fields {
        put32(&mut body, field);
    }
    optional_segment(segment::ARB, &body)
}

// ---------------------------------------------------------------------
// FID5 TH, RH, GDS
// ---------------------------------------------------------------------

/// Mapping field value "whole BIU".
pub const MPF_WHOLE_BIU: u8 = 3;

/// FID5 transmission header, 12 bytes.
pub fn fid5(mpf: u8, expedited: bool, snf: u16, session_address: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[0] = 0x50 | ((mpf & 0x03) << 2) | u8::from(expedited);
    out[1] = 0x00;
    out[2..4].copy_from_slice(&snf.to_be_bytes());
    out[4..12].copy_from_slice(&session_address.to_be_bytes());
    out
}

pub mod rh {
    pub const RESPONSE: u8 = 0x80;
    pub const CATEGORY_FMD: u8 = 0;
    pub const CATEGORY_SC: u8 = 3;
    pub const FI: u8 = 0x08;
    pub const BCI: u8 = 0x02;
    pub const ECI: u8 = 0x01;
    /// Byte 1.
    pub const DR1I: u8 = 0x80;
    /// Byte 2 (requests).
    pub const BBI: u8 = 0x80;
}

/// Request/response header, 3 bytes: byte 0 = RRI | category << 5 | the
/// flags given (FI, SDI, BCI, ECI); bytes 1 and 2 as given.
pub fn rh(response: bool, category: u8, byte0_flags: u8, byte1: u8, byte2: u8) -> [u8; 3] {
    let rri = if response { rh::RESPONSE } else { 0 };
    [
        rri | ((category & 0x03) << 5) | (byte0_flags & 0x1F),
        byte1,
        byte2,
    ]
}

/// GDS ID of route setup.
pub const GDS_ROUTE_SETUP: u16 = 0x12CE;

/// GDS variable: 2-byte length counting the 4-byte header, 2-byte ID, body.
pub fn gds(id: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    put16(
        &mut out,
        u16::try_from(body.len() + 4).expect("GDS length fits 15 bits"),
    );
    put16(&mut out, id);
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
