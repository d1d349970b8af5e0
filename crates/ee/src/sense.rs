//! SNA sense data: four bytes, category and modifier (bytes 0–1) naming the
//! condition and two bytes of sense-code-specific information.  EE traffic
//! carries them in RTP connection fault segments (X'12'), in negative
//! responses (RH RRI, RTI and SDI set: the RU starts with them) and in the
//! XID negotiation error control vector (X'22').
//!
//! Short names of the conditions, written for this crate from two public
//! sources (docs/ee.md, "Sense codes"): the APPC sense data list shipped
//! with Linux-SNA (`sense/sense.data`, IBM's APPC sense data of 1994) for
//! the session and path categories (08xx, 10xx, 20xx, 40xx, 80xx), and IBM's
//! z/OS Communications Server "IP and SNA Codes" pages for the HPR codes
//! (0855, A001, A018, A019, A01A, FFxx).

/// Category and modifier → what they mean.
const CATEGORIES: &[(u16, &str)] = &[
    (0x0801, "resource not available"),
    (0x0805, "session limit exceeded"),
    (0x0806, "resource unknown"),
    (0x0809, "mode inconsistency"),
    (0x080A, "permission rejected"),
    (0x080C, "procedure not supported"),
    (0x080E, "NAU not authorized"),
    (0x080F, "security mismatch"),
    (0x0812, "insufficient resource"),
    (0x0813, "bracket bid rejected, no RTR forthcoming"),
    (0x0814, "bracket bid rejected, RTR forthcoming"),
    (0x0815, "function active"),
    (0x0817, "TG not activated"),
    (0x0819, "RTR not required"),
    (0x081C, "request not executable"),
    (0x081E, "session reference error"),
    (0x0821, "invalid session parameters"),
    (0x0824, "logical unit of work terminated"),
    (0x0826, "FM function not supported"),
    (0x0835, "invalid parameter (bytes 2-3 point to it)"),
    (0x0839, "LU-LU session being taken down"),
    (0x083A, "LU not enabled"),
    (0x083B, "invalid PCID"),
    (0x083E, "implementation-defined retry limit exhausted"),
    (0x0840, "procedure invalid for resource"),
    (0x0846, "ERP message forthcoming"),
    (0x084B, "requested resources not available"),
    (0x084C, "transaction program not available, no retry"),
    (0x0850, "link activation limit reached"),
    (0x0852, "duplicate session activation request"),
    (
        0x0855,
        "HPR Route Setup failed at an intermediate or destination node",
    ),
    (0x0857, "SSCP-LU session not active"),
    (0x0860, "function not supported, session continues"),
    (0x0861, "invalid class-of-service name"),
    (0x0864, "function terminated abnormally"),
    (0x086C, "required control vector or subvector missing"),
    (0x086D, "required subfield missing"),
    (0x086F, "length error"),
    (0x0870, "unformatted subvector value invalid"),
    (0x0877, "resource mismatch"),
    (0x087D, "session services path error"),
    (0x0888, "name conflict"),
    (0x0889, "transaction program error"),
    (0x088B, "BB not accepted, BIS reply requested"),
    (0x088C, "missing control vector"),
    (0x0890, "search failure"),
    (0x0891, "invalid or missing network ID"),
    (0x0895, "control vector error"),
    (0x0897, "system definition mismatch"),
    (0x08A0, "session reset"),
    (0x08AA, "required GDS variable missing"),
    (0x08B4, "CP-CP sessions not required"),
    (0x08B6, "CP-CP sessions not supported"),
    (0x1001, "RU data error"),
    (0x1002, "RU length error"),
    (0x1003, "function not supported"),
    (0x1005, "parameter error"),
    (0x1007, "category not supported"),
    (0x1008, "invalid FM header"),
    (
        0x1010,
        "error on a Locate search or CP capabilities message",
    ),
    (
        0x1014,
        "control vector error on a directory services GDS variable",
    ),
    (0x1015, "XID length error"),
    (0x1016, "XID format 3 parameter error"),
    (0x101A, "invalid control vector sequence"),
    (0x2001, "sequence number error"),
    (0x2002, "chaining error"),
    (0x2003, "bracket error"),
    (0x2004, "direction error"),
    (0x2008, "no begin bracket"),
    (0x200A, "immediate request mode error"),
    (0x200E, "response correlation error"),
    (0x2010, "BIS protocol error"),
    (0x2011, "pacing protocol error"),
    (0x2012, "invalid sense code received"),
    (0x4003, "BB not allowed"),
    (0x4007, "definite response not allowed"),
    (0x4011, "incorrect specification of RU category"),
    (0x4012, "incorrect specification of request code"),
    (0x4013, "incorrect specification of SDI, RTI"),
    (0x4014, "incorrect use of DR1I, DR2I, ERI"),
    (0x4015, "incorrect use of QRI"),
    (0x4019, "incorrect indicators with last-in-chain request"),
    (0x8001, "intermediate node failure"),
    (0x8002, "link failure"),
    (0x8003, "NAU inoperative"),
    (0x8004, "unrecognized destination"),
    (0x8005, "no session"),
    (0x8007, "segmenting error"),
    (0x8008, "PU not active"),
    (0x8009, "LU not active"),
    (0x800A, "too-long PIU"),
    (0x800B, "incomplete TH"),
    (0x800C, "DCF error"),
    (0x800D, "lost contact"),
    (0x800E, "unrecognized origin"),
    (0x800F, "invalid address combination"),
    (0x8010, "segmented RU length error"),
    (0x8014, "no path to the destination node"),
    (0x8020, "session reset"),
    (0xA001, "RTP connection failed: RTP protocol error"),
    (0xA018, "RTP connection failed: control vector length error"),
    (
        0xA019,
        "RTP connection failed: segment or vector not valid in this state",
    ),
    (0xA01A, "RTP connection failed: segment or vector repeated"),
];

/// Whole codes with a meaning of their own (IBM z/OS "IP and SNA Codes").
const CODES: &[(u32, &str)] = &[
    (0xA001_0003, "unexpected start-of-message indicator"),
    (0xA001_0004, "unexpected end-of-message indicator"),
    (0xA001_0008, "unexpected last-message indicator"),
    (
        0xA019_FF0D,
        "connection setup segment from the listening partner",
    ),
];

/// The meaning of a sense code, as precise as the tables know it; None for
/// a category they do not list.
pub fn describe(sense: u32) -> Option<String> {
    let category = (sense >> 16) as u16;
    let specific = (sense & 0xFFFF) as u16;
    let base = CATEGORIES
        .iter()
        .find(|(c, _)| *c == category)
        .map(|(_, text)| *text)
        .or_else(|| (category >> 8 == 0xFF).then_some("HPR error (IBM FFxx sense data)"))?;
    let detail = CODES
        .iter()
        .find(|(code, _)| *code == sense)
        .map(|(_, text)| (*text).to_owned())
        .or_else(|| rtp_key_detail(category, specific));
    Some(match detail {
        Some(detail) => format!("{base}: {detail}"),
        None => base.to_owned(),
    })
}

/// A018 nnmm, A019 FFkk and A01A FFkk name the keys involved.
fn rtp_key_detail(category: u16, specific: u16) -> Option<String> {
    let [high, low] = specific.to_be_bytes();
    let segment = |key: u8| {
        crate::thdr::SEGMENT_TYPES
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(
                || format!("X'{key:02X}'"),
                |(_, name)| format!("{name} (X'{key:02X}')"),
            )
    };
    match (category, high) {
        (0xA018, embedding) => Some(format!(
            "vector X'{low:02X}' runs past the end of its enclosing X'{embedding:02X}'"
        )),
        (0xA019, 0xFF) => Some(format!("{} not valid now", segment(low))),
        (0xA01A, 0xFF) => Some(format!("more than one {}", segment(low))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_codes_and_keys() {
        assert_eq!(describe(0x8003_0004).unwrap(), "NAU inoperative");
        assert_eq!(
            describe(0xA01A_FF0E).unwrap(),
            "RTP connection failed: segment or vector repeated: more than one Status (X'0E')"
        );
        assert_eq!(
            describe(0xA019_FF0D).unwrap(),
            "RTP connection failed: segment or vector not valid in this state: \
             connection setup segment from the listening partner"
        );
        assert!(describe(0xA018_0503)
            .unwrap()
            .ends_with("X'03' runs past the end of its enclosing X'05'"));
        assert_eq!(
            describe(0xFF70_0002).unwrap(),
            "HPR error (IBM FFxx sense data)"
        );
        assert_eq!(describe(0x7777_0000), None);
    }
}
