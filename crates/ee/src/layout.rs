//! The one table of every field this crate reads: its structure, name,
//! byte range (from the start of its structure), where the fact comes from
//! and how sure it is.  The ranges are the very constants the accessors and
//! the Wireshark tree use (`field` modules of each format module), so the
//! table cannot drift from the code; docs/ee.md lists the same rows (a test
//! checks that every name appears there).

use std::ops::Range;

use crate::{cv, fid5, gds, llc, nhdr, thdr, xid3};

/// How sure a layout fact is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confidence {
    /// A standard, vendor documentation, or a published decoded dump.
    High,
    /// One open implementation, or two that agree.
    Medium,
    /// Inferred, or this crate's choice.
    Low,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// One field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The structure offsets count from.
    pub structure: &'static str,
    pub name: &'static str,
    /// Bytes within the structure; a variable part has `start..start` and
    /// `variable` set.
    pub range: Range<usize>,
    pub variable: bool,
    pub source: &'static str,
    pub confidence: Confidence,
}

const IEEE: &str = "IEEE 802.2 clause 3 (U-format); RFC 2353 section 2";
const WS: &str = "Wireshark packet-sna.c 4.0.17/4.4.18";
const WS_LSNA: &str = "Wireshark packet-sna.c and Linux-SNA sna_formats.h agree";
const LSNA_V: &str = "Linux-SNA sna_vectors.h (one implementation)";
const HP: &str = "HP-UX SNAplus2 Diagnostics Guide, example A-2 (decoded XID3 dump)";
const HP_WS: &str = "HP-UX SNAplus2 Diagnostics Guide example A-2; Wireshark packet-sna.c";
const HIS: &str = "HP SNAplus2 example A-2; Microsoft HIS \"Added headers and subvectors\"";
const IBM_A018: &str = "IBM sense code A018 (vectors nested in CV X'05'); WS for the flag byte";
const RFC2238: &str = "RFC 2238 hprAnrLabel: labels of 1 to 8 octets, boundaries not encoded";

macro_rules! f {
    ($structure:expr, $name:expr, $range:expr, $source:expr, $conf:ident) => {
        Field {
            structure: $structure,
            name: $name,
            range: $range,
            variable: false,
            source: $source,
            confidence: Confidence::$conf,
        }
    };
    ($structure:expr, $name:expr, from $start:expr, $source:expr, $conf:ident) => {
        Field {
            structure: $structure,
            name: $name,
            range: $start..$start,
            variable: true,
            source: $source,
            confidence: Confidence::$conf,
        }
    };
}

/// Every field, structure by structure, in offset order.
pub fn fields() -> Vec<Field> {
    use thdr::{arb, cie, fault, oob, segment, setup, status, switching};
    vec![
        f!("LLC", "DSAP", llc::field::DSAP, IEEE, High),
        f!("LLC", "SSAP", llc::field::SSAP, IEEE, High),
        f!("LLC", "control", llc::field::CONTROL, IEEE, High),
        f!(
            "NHDR",
            "switching mode, transmission priority",
            nhdr::field::BYTE0,
            WS_LSNA,
            Medium
        ),
        f!(
            "NHDR",
            "function type, time-sensitive, slowdown 1/2",
            nhdr::field::BYTE1,
            WS_LSNA,
            Medium
        ),
        f!("NHDR", "ANR labels / FR entries, to X'FF'", from nhdr::field::LABELS, RFC2238, High),
        f!("NHDR", "reserved byte after X'FF'", from nhdr::field::RESERVED_AFTER_END, WS, Medium),
        f!("NHDR", "function routing header (FR, LDLC)", from nhdr::field::FRH_AFTER_END, WS, Medium),
        f!("THDR", "TCID", thdr::field::TCID, WS_LSNA, Medium),
        f!("THDR", "flags byte 8", thdr::field::FLAGS0, WS, Medium),
        f!("THDR", "flags byte 9", thdr::field::FLAGS1, WS, Medium),
        f!(
            "THDR",
            "data offset (4-byte words)",
            thdr::field::DATA_OFFSET,
            WS,
            Medium
        ),
        f!("THDR", "DLF", thdr::field::DLF, WS, Medium),
        f!("THDR", "BSN", thdr::field::BSN, WS, Medium),
        f!(
            "connection qualifier",
            "length",
            thdr::field::QUALIFIER_LEN,
            WS,
            Low
        ),
        f!(
            "connection qualifier",
            "key",
            thdr::field::QUALIFIER_KEY,
            WS,
            Low
        ),
        f!(
            "optional segment",
            "length (words)",
            segment::LEN,
            WS,
            Medium
        ),
        f!("optional segment", "type", segment::TYPE, WS, Medium),
        f!("segment X'0D'", "version", setup::VERSION, WS, Medium),
        f!("segment X'0D'", "flags", setup::FLAGS, WS, Medium),
        f!("segment X'0D'", "reserved", setup::RESERVED, WS, Medium),
        f!("segment X'0D'", "control vectors (length-key, padded)", from setup::VECTORS, WS, Medium),
        f!("segment X'0E'", "flags", status::FLAGS, WS, Medium),
        f!(
            "segment X'0E'",
            "ABSP pair count",
            status::PAIR_COUNT,
            WS,
            Medium
        ),
        f!(
            "segment X'0E'",
            "status report number",
            status::REPORT_NUMBER,
            WS,
            Medium
        ),
        f!(
            "segment X'0E'",
            "status acknowledge number",
            status::ACK_NUMBER,
            WS,
            Medium
        ),
        f!(
            "segment X'0E'",
            "received sequence number",
            status::RECEIVED_SEQUENCE,
            WS,
            Medium
        ),
        f!("segment X'0E'", "reserved", status::RESERVED, WS, Medium),
        f!("segment X'0E'", "ABSP pairs (begin, end)", from status::PAIRS, WS, Low),
        f!("ABSP pair", "begin", status::PAIR_BEGIN, WS, Low),
        f!("ABSP pair", "end", status::PAIR_END, WS, Low),
        f!(
            "segment X'0F'",
            "client out-of-band bits",
            oob::BITS,
            WS,
            Medium
        ),
        f!("segment X'10'", "reserved", cie::RESERVED, WS, Medium),
        f!("segment X'10'", "TCID", cie::TCID, WS, Medium),
        f!("segment X'12'", "reserved", fault::RESERVED, WS, Medium),
        f!("segment X'12'", "sense data", fault::SENSE, WS, Medium),
        f!("segment X'14'", "reserved", switching::RESERVED, WS, Medium),
        f!("segment X'14'", "CV X'83'", from switching::CV83, WS, Medium),
        f!("CV X'83'/X'85'", "length", switching::CV_LEN, WS, Medium),
        f!("CV X'83'/X'85'", "key", switching::CV_KEY, WS, Medium),
        f!("CV X'83'", "flags", switching::FLAGS, WS, Medium),
        f!("CV X'83'", "reserved", switching::CV83_RESERVED, WS, Medium),
        f!(
            "CV X'83'",
            "maximum packet size",
            switching::MAX_PACKET_SIZE,
            WS,
            Medium
        ),
        f!(
            "CV X'83'",
            "path switch time",
            switching::PATH_SWITCH_TIME,
            WS,
            Medium
        ),
        f!(
            "CV X'83'",
            "alive timer",
            switching::ALIVE_TIMER,
            WS,
            Medium
        ),
        f!("CV X'83'", "embedded vectors (length-key)", from switching::EMBEDDED, WS, Medium),
        f!(
            "CV X'85'",
            "flags (BF entry)",
            switching::BF_FLAGS,
            WS,
            Medium
        ),
        f!(
            "CV X'85'",
            "TG descriptor count",
            switching::TG_COUNT,
            WS,
            Medium
        ),
        f!("CV X'85'", "TG descriptors (length-key)", from switching::TG_VECTORS, WS, Medium),
        f!("segment X'22'", "control", arb::CONTROL, WS, Medium),
        f!("segment X'22'", "correlators", arb::CORRELATORS, WS, Medium),
        f!("segment X'22'", "32-bit fields 1-4", from arb::FIELDS, WS, Low),
        f!(
            "FID5 TH + RH",
            "FID, mapping field, EFI",
            fid5::field::BYTE0,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "reserved",
            fid5::field::RESERVED,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "sequence number (SNF)",
            fid5::field::SNF,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "session address",
            fid5::field::SESSION_ADDRESS,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "RH byte 0",
            fid5::field::RH0,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "RH byte 1",
            fid5::field::RH1,
            WS_LSNA,
            Medium
        ),
        f!(
            "FID5 TH + RH",
            "RH byte 2",
            fid5::field::RH2,
            WS_LSNA,
            Medium
        ),
        f!(
            "RU",
            "sense data of a negative response",
            fid5::field::SENSE,
            WS_LSNA,
            Medium
        ),
        f!(
            "GDS",
            "length, continuation",
            gds::field::LENGTH,
            WS,
            Medium
        ),
        f!("GDS", "GDS id", gds::field::ID, WS, Medium),
        f!(
            "XID3",
            "format, node type",
            xid3::field::FORMAT_TYPE,
            HP,
            High
        ),
        f!("XID3", "XID length", xid3::field::LENGTH, HP, High),
        f!(
            "XID3",
            "node id (IDBLK, IDNUM)",
            xid3::field::NODE_ID,
            HP,
            High
        ),
        f!("XID3", "reserved", xid3::field::RESERVED_6, HP, High),
        f!(
            "XID3",
            "capabilities (bytes 8-9)",
            xid3::field::CAPABILITIES,
            HP_WS,
            High
        ),
        f!("XID3", "byte 10", xid3::field::BYTE10, HP_WS, High),
        f!("XID3", "byte 11", xid3::field::BYTE11, WS, Medium),
        f!("XID3", "byte 12", xid3::field::BYTE12, WS, Medium),
        f!("XID3", "reserved", xid3::field::RESERVED_13, WS, Medium),
        f!("XID3", "byte 15", xid3::field::BYTE15, HP_WS, Medium),
        f!("XID3", "TG number", xid3::field::TG_NUMBER, HP, High),
        f!("XID3", "DLC type", xid3::field::DLC_TYPE, HP, High),
        f!(
            "XID3",
            "DLC section length",
            xid3::field::DLC_LENGTH,
            HP,
            High
        ),
        f!(
            "XID3",
            "link station flags",
            xid3::field::DLC_LINK_FLAGS,
            HP,
            High
        ),
        f!("XID3", "byte 20", xid3::field::DLC_BYTE20, HP, High),
        f!("XID3", "maximum BTU", xid3::field::DLC_MAX_BTU, HP, High),
        f!(
            "XID3",
            "maximum I-frames",
            xid3::field::DLC_MAX_IFRAMES,
            HP,
            High
        ),
        f!(
            "control vector (key-length)",
            "key",
            cv::field::KL_KEY,
            HP,
            High
        ),
        f!(
            "control vector (key-length)",
            "length of the data",
            cv::field::KL_LEN,
            HP,
            High
        ),
        f!(
            "control vector (length-key)",
            "length of the vector",
            cv::field::LT_LEN,
            HP,
            High
        ),
        f!(
            "control vector (length-key)",
            "key",
            cv::field::LT_KEY,
            HP,
            High
        ),
        f!(
            "CV X'0E' data",
            "name type",
            cv::field::NAME_TYPE,
            HP_WS,
            High
        ),
        f!("CV X'0E' data", "EBCDIC name", from cv::field::NAME, HP_WS, High),
        f!(
            "CV X'10' data",
            "reserved",
            cv::field::PRODUCT_SET_RESERVED,
            HIS,
            High
        ),
        f!("CV X'10' data", "subvectors (length-key)", from cv::field::PRODUCT_SET_SUBVECTORS, HIS, High),
        f!(
            "subvector X'11' data",
            "product classification",
            cv::field::PRODUCT_CLASS,
            HIS,
            High
        ),
        f!("subvector X'11' data", "subfields (length-key)", from cv::field::PRODUCT_SUBFIELDS, HIS, High),
        f!(
            "CV X'05' data (RTP)",
            "flags",
            cv::field::NETADDR_FLAGS,
            WS,
            Medium
        ),
        f!(
            "CV X'05' data (RTP)",
            "reserved",
            cv::field::NETADDR_RESERVED,
            WS,
            Medium
        ),
        f!("CV X'05' data (RTP)", "nested vectors (length-key, padded)", from cv::field::NETADDR_VECTORS, IBM_A018, High),
        f!(
            "TG subfield X'80' data",
            "TG number",
            cv::field::TG_NUMBER,
            LSNA_V,
            Low
        ),
        f!("TG subfield X'80' data", "partner CP name", from cv::field::TG_PARTNER, LSNA_V, Low),
        f!(
            "CV X'22' data",
            "byte offset of the field in error",
            cv::field::NEG_ERROR_BYTE,
            LSNA_V,
            Medium
        ),
        f!(
            "CV X'22' data",
            "bit offset",
            cv::field::NEG_ERROR_BIT,
            LSNA_V,
            Medium
        ),
        f!(
            "CV X'22' data",
            "sense data",
            cv::field::NEG_ERROR_SENSE,
            LSNA_V,
            Medium
        ),
    ]
}

/// The row of docs/ee.md's layout table for a field.
pub fn markdown_row(f: &Field) -> String {
    let bytes = if f.variable {
        format!("{}..", f.range.start)
    } else if f.range.len() == 1 {
        format!("{}", f.range.start)
    } else {
        format!("{}-{}", f.range.start, f.range.end - 1)
    };
    format!(
        "| {} | {} | {} | {} | {} |",
        f.structure,
        f.name,
        bytes,
        f.confidence.name(),
        f.source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within each structure, fixed fields do not overlap and come in
    /// offset order.
    #[test]
    fn fixed_fields_do_not_overlap() {
        let fields = fields();
        for pair in fields.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.structure == b.structure && !a.variable && !b.variable {
                assert!(
                    a.range.end <= b.range.start,
                    "{} {} {:?} overlaps {} {:?}",
                    a.structure,
                    a.name,
                    a.range,
                    b.name,
                    b.range
                );
            }
        }
        assert!(fields.iter().all(|f| f.variable || !f.range.is_empty()));
    }

    /// The THDR's fixed fields tile its 20 bytes; the FID5 TH + RH its 15.
    #[test]
    fn headers_are_tiled() {
        for (structure, len) in [
            ("THDR", thdr::field::FIXED_LEN),
            ("FID5 TH + RH", fid5::field::LEN),
        ] {
            let mut at = 0;
            for f in fields()
                .iter()
                .filter(|f| f.structure == structure && !f.variable)
            {
                assert_eq!(f.range.start, at, "{structure} {}", f.name);
                at = f.range.end;
            }
            assert_eq!(at, len, "{structure}");
        }
        assert_eq!(Confidence::Low.name(), "low");
    }

    /// docs/ee.md lists every row of the table as it is here.
    #[test]
    fn docs_list_every_field() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ee.md"))
                .expect("docs/ee.md");
        let missing: Vec<String> = fields()
            .iter()
            .map(markdown_row)
            .filter(|row| !docs.contains(row.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/ee.md:\n{}",
            missing.join("\n")
        );
    }
}
