//! The one table of every field this crate reads, with where the fact comes
//! from and how sure it is.  docs/ctrace-format.md mirrors it (a test checks
//! that every row appears there).

use crate::{cte, pthdr};

/// How sure a layout fact is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confidence {
    /// Stated by IBM's published documentation.
    High,
    /// Stated by public code that reads real records, or by IBM for the
    /// name with the position derived from such code.
    Medium,
    /// Nothing public says it: a guess or this crate's choice.
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

/// Which structure a field belongs to; offsets count from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Structure {
    /// The CTE; offset from the start of the entry (CTELENE: from its end).
    Cte,
    /// The PTHDR_T; offset from the start of the header (CTE + CTEOFF).
    Pthdr,
}

/// One field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub structure: Structure,
    pub name: &'static str,
    /// Offset from the start of the structure; for CTELENE, from its end
    /// (−2).
    pub offset: isize,
    pub len: usize,
    pub meaning: &'static str,
    pub source: &'static str,
    pub confidence: Confidence,
}

const IBM_CTE: &str = "IBM z/OS MVS \"Understanding the fields in a CTE\"; IP Programmer's Guide \"Format of trace records\" (struct cte)";
const IBM_PTH: &str =
    "IBM IP Programmer's Guide \"Common real-time trace record header\" (netmancommon)";

const CUTC: &str = "AnSyNova/2cUTC_lua_dissectors dissector_2cutc_SYSTCPDA.lua (CTE offset − 16)";
const SEG: &str = "IBM IP Programmer's Guide \"Segmented records\"";
const OURS: &str = "this crate's choice (nothing public)";

macro_rules! f {
    ($s:ident, $name:expr, $off:expr, $len:expr, $meaning:expr, $source:expr, $conf:ident) => {
        FieldDef {
            structure: Structure::$s,
            name: $name,
            offset: $off as isize,
            len: $len,
            meaning: $meaning,
            source: $source,
            confidence: Confidence::$conf,
        }
    };
}

use pthdr::field as p;

/// Every field, CTE first, then PTHDR_T, in offset order.
pub const FIELDS: &[FieldDef] = &[
    f!(Cte, "CTELENP", cte::field::LENP.start, 2, "entry length, CTELENP and CTELENE included", IBM_CTE, High),
    f!(Cte, "CTEOFF", cte::field::OFF.start, 2, "offset of the variable data from the start of the entry", IBM_CTE, High),
    f!(Cte, "CTEFMTID", cte::field::FMTID.start, 4, "format id: byte 0 X'00' packet/data, X'FF' lost; low byte record type", IBM_CTE, High),
    f!(Cte, "CTETIME", cte::field::TIME.start, 8, "TOD when the entry was moved into the buffer", IBM_CTE, High),
    f!(Cte, "CTELENE", -2, 2, "trailing length, equal to CTELENP", IBM_CTE, High),
    f!(Pthdr, "PTH_Len", p::LEN.start, 2, "header length = offset of the traced bytes", "name and meaning: IBM netmancommon, zWireshark; offset 0: first field in IBM's list", Medium),
    f!(Pthdr, "PTH_SeqNum", p::SEQ_NUM, 1, "segment sequence: 0 first, +1, 255 wraps to 1", "meaning: IBM Segmented records (wrap after 256 suggests one byte); position: this crate's choice", Low),
    f!(Pthdr, "PTH_Flag", p::FLAG, 1, "flags: X'80' PTH_Local, X'40' PTH_CfTxt (IBM); X'20' PTH_ClearTxt, X'10' PTH_Out (ours)", "bits X'80'/X'40': IBM netmancommon; position, other bits: this crate's choice", Low),
    f!(Pthdr, "PTH_DevTy", p::DEV_TYPE, 1, "device type: 39 IPAQENET, 53 IPAQENET6", "values and one-byte size: zWireshark (printf %hhu); position: this crate's choice", Low),
    f!(Pthdr, "PTH_Opt", p::OPT, 1, "PTO_* option flags: X'80' PTO_SEGMENT", "name PTO_SEGMENT: IBM \"Packet trace records - format only headers\"; byte and bit: this crate's choice", Low),
    f!(Pthdr, "reserved", p::RESERVED_6.start, 2, "reserved, zero", OURS, Low),
    f!(Pthdr, "PTH_Name", p::NAME.start, 16, "EBCDIC interface name, blank padded", "name: zWireshark; offset: 2cUTC (interface name at CTE+24)", Medium),
    f!(Pthdr, "PTH_JobNm", p::JOB_NAME.start, 8, "data trace: EBCDIC job name (PTH_DtStruc)", "zWireshark (%8.8s)", Medium),
    f!(Pthdr, "PTH_DtDomain", p::DT_DOMAIN, 1, "data trace: socket domain", "zWireshark (%2.2x, order JobNm Domain Type Proto State)", Low),
    f!(Pthdr, "PTH_DtType", p::DT_TYPE, 1, "data trace: socket type", "zWireshark", Low),
    f!(Pthdr, "PTH_DtProto", p::DT_PROTO, 1, "data trace: protocol", "zWireshark", Low),
    f!(Pthdr, "PTH_DtState", p::DT_STATE, 1, "data trace: socket state", "zWireshark", Low),
    f!(Pthdr, "PTH_Time", p::TIME.start, 8, "TOD when the packet was traced", "name: zWireshark (converted as TOD); offset: 2cUTC leaves CTE+40..47 unlabelled", Low),
    f!(Pthdr, "PTH_Src", p::SRC.start, 16, "source IP, IPv4 as ::ffff:a.b.c.d", "zWireshark (16 bytes, mapped IPv4); offset: 2cUTC (IPv4 at CTE+60)", Medium),
    f!(Pthdr, "PTH_Dst", p::DST.start, 16, "destination IP", "zWireshark; offset: 2cUTC (IPv4 at CTE+76)", Medium),
    f!(Pthdr, "PTH_SPort", p::SPORT.start, 2, "source port", "zWireshark; offset: 2cUTC (CTE+80)", Medium),
    f!(Pthdr, "PTH_DPort", p::DPORT.start, 2, "destination port", "zWireshark; offset: 2cUTC (CTE+82)", Medium),
    f!(Pthdr, "PTH_Plen", p::PLEN.start, 4, "original packet length", "name: zWireshark; offset: this crate's choice (2cUTC calls CTE+84 \"record number\")", Low),
    f!(Pthdr, "reserved", p::RESERVED_72, 1, "reserved, zero", OURS, Low),
    f!(Pthdr, "protocol", p::PROTOCOL, 1, "IP protocol number", CUTC, Low),
    f!(Pthdr, "VLAN id", p::VLAN.start, 2, "VLAN id (OSAENTA)", CUTC, Low),
    f!(Pthdr, "PTH_OffSegLen", p::OFF_SEG.start, 4, "offset of this record's bytes in the whole packet", "name: zWireshark (\"segment offset\"); size, offset: this crate's choice", Low),
    f!(Pthdr, "PTH_Tlen", p::TLEN.start, 4, "traced length of the whole packet (all segments)", "meaning: IBM Segmented records; offset: 2cUTC \"payload length\" at CTE+96", Low),
    f!(Pthdr, "PTH_InfIx", p::INF_IX.start, 4, "interface index", "name: zWireshark; offset: 2cUTC (CTE+100)", Medium),
    f!(Pthdr, "PTH_DropRsn", p::DROP_RSN.start, 2, "drop reason code (only when PTH_Len ≥ 90)", "name, and that it lies past the base header: zWireshark (tested only when PTH_len ≥ sizeof(pthdr_t)); offset: this crate's choice", Low),
    f!(Pthdr, "reserved", p::RESERVED_90.start, 2, "reserved, zero", OURS, Low),
];

/// Sources not tied to one field.
pub const OTHER_SOURCES: &[(&str, &str)] = &[
    ("format ids", "IBM \"Formatting packet traces using IPCS\" (ENTIDLIST); \"Processing the cte records for SYSTCPDA and SYSTCPOT\""),
    ("segmented records", SEG),
    ("PTHDR common to 4/5/6/7/8", IBM_PTH),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pthdr_fields_tile_the_header() {
        let mut at = 0isize;
        for f in FIELDS.iter().filter(|f| f.structure == Structure::Pthdr) {
            if f.name.starts_with("PTH_Dt") || f.name == "PTH_JobNm" {
                continue; // overlay PTH_Name
            }
            assert_eq!(f.offset, at, "{} at {}", f.name, f.offset);
            at += f.len as isize;
        }
        assert_eq!(at as usize, pthdr::EXT_LEN);
    }

    #[test]
    fn cte_fields_tile_the_header() {
        let mut at = 0isize;
        for f in FIELDS
            .iter()
            .filter(|f| f.structure == Structure::Cte && f.offset >= 0)
        {
            assert_eq!(f.offset, at);
            at += f.len as isize;
        }
        assert_eq!(at as usize, cte::field::HEADER_LEN);
        assert_eq!(Confidence::Medium.name(), "medium");
        assert!(!OTHER_SOURCES.is_empty());
    }

    #[test]
    fn doc_mirrors_the_table() {
        let doc = include_str!("../../../docs/ctrace-format.md");
        for f in FIELDS {
            let row = format!("| {} | {} | {} |", f.offset, f.len, f.name);
            assert!(
                doc.contains(&row),
                "docs/ctrace-format.md lacks the row \"{row}\""
            );
        }
    }
}
