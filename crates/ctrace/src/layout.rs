//! The one table of every byte position this crate reads or writes: record
//! descriptors (RDW, segment descriptor, BDW), the component trace entry
//! (CTE) and the packet trace header (PTHDR_T), each field with its offset,
//! width, meaning, source and confidence.  The views ([`crate::cte`],
//! [`crate::pthdr`]), the record framing ([`crate::framing`]), the Wireshark
//! tree, docs/ctrace-format.md (a test checks that every row is there) and
//! the ctrace-synth fixture writer all take positions from here; nothing
//! else spells out an offset.
//!
//! Sources (docs/ctrace-format.md, "Evidence", says what each establishes):
//! * **S1** — IBM's own PTHDR_T/CTE layout as compiled: colinpaicemq/
//!   zWireshark @ 9e8efe1, `load/ZWIRESHA.LOAD.XMIT`, a load module whose C
//!   source includes IBM's `EZBYPTHH.h` and `EZBNMCTE.h` from SEZANMAC,
//!   compiled NOOPT; disassembling `printPacket()` gives the offset and width
//!   the compiler used for each named field (reproduced with
//!   shared/research/ctrace-evidence, llvm-mc 14).  One z/OS 2.4/2.5 build.
//! * **S2** — the same repository's C source: how it uses the fields
//!   (pcap captured length = PTH_Tlen, original length = PTH_Plen).
//! * **S3** — AnSyNova/2cUTC_lua_dissectors @ ab51b3c,
//!   `dissector_2cutc_SYSTCPDA.lua`: offsets a commercial reader of real
//!   records uses (counted from the CTE: PTHDR offset + 16).
//! * **S3-SMC** — the same repository's `dissector_2cutc_SYSTCPDA_SMC.lua`
//!   and the SMC branch of `dissector_2cutc_SYSTCPDA.lua`: the SMC
//!   extension of format-8 records (offsets from its body = CTE+112).
//!   Nobody else describes it; every row from it is low confidence.
//! * **IBM-…** — IBM's published documentation, named per field.

use core::ops::Range;

/// How sure a layout fact is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confidence {
    /// IBM's published documentation, or IBM's own header as compiled (S1,
    /// one z/OS release).
    High,
    /// A third-party reader of real records (S3), or a behaviour of code
    /// compiled against IBM's header (S2), without IBM's word for it.
    Medium,
    /// A label nobody has verified, or this crate's choice.
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
    /// Record descriptor word / segment descriptor word (DFSMS format-V).
    Rdw,
    /// Block descriptor word (DFSMS format-V).
    Bdw,
    /// The component trace entry; CTELENE counts from the entry's end.
    Cte,
    /// The packet trace header (CTE + CTEOFF).
    Pthdr,
    /// The extension of SMC records (format id 8), right after the 92-byte
    /// packet trace header (S3-SMC); offsets from its start.
    SmcExt,
    /// The SMC-R LLC message after the SMC extension (S3-SMC); offsets from
    /// its start.
    SmcLlc,
}

impl Structure {
    pub fn name(self) -> &'static str {
        match self {
            Structure::Rdw => "RDW/SDW",
            Structure::Bdw => "BDW",
            Structure::Cte => "CTE",
            Structure::Pthdr => "PTHDR_T",
            Structure::SmcExt => "SMC extension",
            Structure::SmcLlc => "SMC-R LLC",
        }
    }
}

/// One field: `width` big-endian bytes at `offset` (from the structure's
/// end when `from_end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub structure: Structure,
    pub name: &'static str,
    pub offset: usize,
    pub width: usize,
    /// The offset counts back from the end of the structure (CTELENE).
    pub from_end: bool,
    pub meaning: &'static str,
    pub source: &'static str,
    pub confidence: Confidence,
}

impl Field {
    /// The field's bytes from the start of its structure (not for a
    /// `from_end` field: use [`Field::range_in`]).
    pub const fn range(&self) -> Range<usize> {
        assert!(
            !self.from_end,
            "a field counted from the end needs range_in"
        );
        self.offset..self.offset + self.width
    }

    /// The field's bytes in a structure of `len` bytes.
    pub const fn range_in(&self, len: usize) -> Range<usize> {
        if self.from_end {
            len - self.offset..len - self.offset + self.width
        } else {
            self.offset..self.offset + self.width
        }
    }

    /// The field's bytes in a larger buffer whose structure starts at `base`.
    pub const fn at(&self, base: usize) -> Range<usize> {
        let r = self.range();
        base + r.start..base + r.end
    }

    /// One past the field's last byte (the least structure length that holds
    /// it).
    pub const fn end(&self) -> usize {
        self.offset + self.width
    }

    /// The big-endian unsigned value of the field in `buf` (a structure of
    /// at least [`Field::end`] bytes; at most 8 bytes wide).
    pub fn uint(&self, buf: &[u8]) -> u64 {
        buf[self.range_in(buf.len())]
            .iter()
            .fold(0u64, |v, b| (v << 8) | u64::from(*b))
    }

    /// The field's bytes in `buf`.
    pub fn bytes<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.range_in(buf.len())]
    }

    /// Writes `value` big-endian into the field (its low `width` bytes).
    pub fn put_uint(&self, buf: &mut [u8], value: u64) {
        let r = self.range_in(buf.len());
        let n = r.len();
        for (i, b) in buf[r].iter_mut().enumerate() {
            *b = (value >> (8 * (n - 1 - i))) as u8;
        }
    }

    /// Copies `value` (exactly `width` bytes) into the field.
    pub fn put_bytes(&self, buf: &mut [u8], value: &[u8]) {
        let r = self.range_in(buf.len());
        buf[r].copy_from_slice(value);
    }
}

/// One bit (or bits) of a flag field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bit {
    pub field: &'static Field,
    pub name: &'static str,
    pub mask: u8,
    pub meaning: &'static str,
    pub source: &'static str,
    pub confidence: Confidence,
}

impl Bit {
    /// Whether the bit is set in the structure `buf`.
    pub fn is_set(&self, buf: &[u8]) -> bool {
        self.field.uint(buf) as u8 & self.mask != 0
    }
}

const DFSMS_RDW: &str =
    "IBM z/OS DFSMS Using Data Sets, \"Record descriptor word (RDW)\", \"Segment descriptor word\"";
const DFSMS_BDW: &str = "IBM z/OS DFSMS Using Data Sets, \"Block descriptor word (BDW)\"";
const IBM_CTE: &str = "IBM z/OS MVS \"Understanding the fields in a CTE\"; IP Programmer's Guide \"Format of trace records\"";

macro_rules! field {
    ($s:ident, $name:expr, $off:expr, $width:expr, $meaning:expr, $source:expr, $conf:ident) => {
        Field {
            structure: Structure::$s,
            name: $name,
            offset: $off,
            width: $width,
            from_end: false,
            meaning: $meaning,
            source: $source,
            confidence: Confidence::$conf,
        }
    };
}

/// Record and segment descriptor words (4 bytes before each record or
/// record segment of a format-V data set).
pub mod rdw {
    use super::*;
    pub const LEN: Field = field!(
        Rdw,
        "RDW length",
        0,
        2,
        "record (or segment) length, this descriptor included: 4 to 32 760 (segments 5 to 32 756)",
        DFSMS_RDW,
        High
    );
    pub const SEGMENT: Field = field!(Rdw, "segment control code", 2, 1, "low 2 bits: 00 complete record, 01 first, 10 last, 11 middle segment (spanned VS/VBS data sets); the other bits 0", DFSMS_RDW, High);
    pub const RESERVED: Field = field!(Rdw, "RDW reserved", 3, 1, "0", DFSMS_RDW, High);
    /// Length of the descriptor.
    pub const SIZE: usize = 4;
    /// The longest record an RDW can describe.
    pub const MAX_RECORD: usize = 32_760;
    /// Segment control codes (low 2 bits of [`SEGMENT`]).
    pub const COMPLETE: u8 = 0b00;
    pub const FIRST: u8 = 0b01;
    pub const LAST: u8 = 0b10;
    pub const MIDDLE: u8 = 0b11;
    /// The bits of [`SEGMENT`] that hold the code.
    pub const CODE_MASK: u8 = 0b11;
}

/// Block descriptor words.
pub mod bdw {
    use super::*;
    pub const LEN: Field = field!(
        Bdw,
        "BDW length",
        0,
        2,
        "block length, this descriptor included, up to 32 760",
        DFSMS_BDW,
        High
    );
    pub const RESERVED: Field = field!(Bdw, "BDW reserved", 2, 2, "0", DFSMS_BDW, High);
    pub const EXT_LEN: Field = field!(
        Bdw,
        "extended BDW length",
        0,
        4,
        "when bit X'80' of byte 0 is set: 31-bit block length (large block interface)",
        DFSMS_BDW,
        High
    );
    /// Byte 0 bit that marks an extended BDW.
    pub const EXTENDED: u8 = 0x80;
    pub const SIZE: usize = 4;
    /// The longest block a standard BDW describes.
    pub const MAX_BLOCK: usize = 32_760;
}

/// The component trace entry.
pub mod cte {
    use super::*;
    pub const LENP: Field = field!(
        Cte,
        "CTELENP",
        0,
        2,
        "entry length, CTELENP and CTELENE included",
        IBM_CTE,
        High
    );
    pub const OFF: Field = field!(Cte, "CTEOFF", 2, 2, "offset of the variable data (the PTHDR_T) from the start of the entry", "IBM (as CTELENP); S1 (LLGH 2: pData = pCTE + cteoff). S3 labels these bytes \"ASID\": wrong", High);
    pub const FMTID: Field = field!(
        Cte,
        "CTEFMTID",
        4,
        4,
        "format id: byte 0 X'00' packet/data, X'FF' lost records; low byte the record kind",
        "IBM (as CTELENP); S1 (LLGF 4, compared with 4 and 5)",
        High
    );
    pub const TIME: Field = field!(
        Cte,
        "CTETIME",
        8,
        8,
        "TOD when the entry was moved into the trace buffer",
        IBM_CTE,
        High
    );
    pub const TRACE_TYPE: Field = field!(
        Cte,
        "CTEFMTID byte 0",
        4,
        1,
        "X'00' packet/data trace, X'FF' lost records",
        IBM_CTE,
        High
    );
    pub const KIND: Field = field!(
        Cte,
        "CTEFMTID low byte",
        7,
        1,
        "the record kind: 4 packet, 5 data, 6 EE, 7 OSAENTA, 8 SMC trace",
        "IBM-SYSTCPDA (ctefmtid values)",
        High
    );
    pub const LENE: Field = Field {
        structure: Structure::Cte,
        name: "CTELENE",
        offset: 2,
        width: 2,
        from_end: true,
        meaning: "trailing length, equal to CTELENP (the entry's last 2 bytes)",
        source: IBM_CTE,
        confidence: Confidence::High,
    };
    /// Length of the fixed header (struct cte).
    pub const HEADER_LEN: usize = TIME.end();
    /// Length of the trailing CTELENE.
    pub const TRAILER_LEN: usize = LENE.width;
}

/// The packet trace header, PTHDR_T (IBM EZBYPTHA / EZBYPTHH.h).
pub mod pthdr {
    use super::*;
    pub const LEN: Field = field!(
        Pthdr,
        "PTH_Len",
        0,
        2,
        "header length = offset of the traced bytes",
        "S1 (LLGH 0); meaning: IBM-PTH",
        High
    );
    pub const SEQ_NUM: Field = field!(
        Pthdr,
        "PTH_SeqNum",
        2,
        1,
        "segmented records: 0 in the first, +1 in each further record (past 255 back to 1)",
        "S1 (LLGC 2); meaning: IBM-SEG",
        High
    );
    pub const FLAG: Field = field!(
        Pthdr,
        "PTH_Flag",
        3,
        1,
        "flags (see the bits below)",
        "S1 (LLGC 3, four bit tests)",
        High
    );
    pub const DEV_TY: Field = field!(
        Pthdr,
        "PTH_DevTy",
        4,
        1,
        "device type: 39 IPAQENET, 53 IPAQENET6 (no public list of the others)",
        "S1 (LLGC 4, compared with 53 and 39)",
        High
    );
    pub const TLEN: Field = field!(Pthdr, "PTH_Tlen", 5, 3, "traced length: bytes after the header; for segmented records the total of the whole set", "S1 (24 bits from bytes 5..7, checked by emulating the RNSBG/RISBGN sequence); S2 (pcap captured length); meaning of a set: IBM-SEG", High);
    pub const NAME: Field = field!(
        Pthdr,
        "PTH_Name",
        8,
        16,
        "packet, OSAENTA: interface name (PTH_InfName), EBCDIC, blank padded",
        "S1 (LA 8); S3 (interface name at CTE+24)",
        High
    );
    pub const JOB_NM: Field = field!(
        Pthdr,
        "PTH_JobNm",
        8,
        8,
        "data trace: job name (PTH_DtStruc), EBCDIC",
        "S1 (LA 8 for the %8.8s of PTH_JobNm)",
        High
    );
    pub const DT_DOMAIN: Field = field!(
        Pthdr,
        "PTH_DtDomain",
        16,
        1,
        "data trace: socket domain",
        "S1 (LLGC 16)",
        High
    );
    pub const DT_TYPE: Field = field!(
        Pthdr,
        "PTH_DtType",
        17,
        1,
        "data trace: socket type",
        "S1 (LLGC 17)",
        High
    );
    pub const DT_PROTO: Field = field!(
        Pthdr,
        "PTH_DtProto",
        18,
        1,
        "data trace: IP protocol",
        "S1 (LLGC 18)",
        High
    );
    pub const DT_STATE: Field = field!(
        Pthdr,
        "PTH_DtState",
        19,
        1,
        "data trace: socket state",
        "S1 (LLGC 19)",
        High
    );
    pub const TIME: Field = field!(
        Pthdr,
        "PTH_Time",
        24,
        8,
        "TOD when the packet was traced",
        "S1 (MVC 24, 8 bytes, shifted right 12 as a TOD)",
        High
    );
    pub const SRC: Field = field!(
        Pthdr,
        "PTH_Src",
        32,
        16,
        "source address; IPv4 as ::ffff:a.b.c.d (S2 also takes ::fffe:a.b.c.d)",
        "S1 (LA 32); S3 (IPv4 at CTE+60); S2 (mapping)",
        High
    );
    pub const DST: Field = field!(
        Pthdr,
        "PTH_Dst",
        48,
        16,
        "destination address",
        "S1 (LA 48); S3 (IPv4 at CTE+76)",
        High
    );
    pub const SPORT: Field = field!(
        Pthdr,
        "PTH_SPort",
        64,
        2,
        "source port",
        "S1 (LLGH 64); S3 (CTE+80)",
        High
    );
    pub const DPORT: Field = field!(
        Pthdr,
        "PTH_DPort",
        66,
        2,
        "destination port",
        "S1 (LLGH 66); S3 (CTE+82)",
        High
    );
    pub const UNKNOWN: Field = field!(
        Pthdr,
        "unknown",
        68,
        14,
        "not named by any source that knows IBM's header; shown raw",
        "S1 does not touch them; S3's labels below are unverified",
        Low
    );
    pub const S3_RECORD_NUMBER: Field = field!(
        Pthdr,
        "(S3) record number",
        68,
        4,
        "what S3 calls these bytes; unverified",
        "S3 (CTE+84, 4 bytes)",
        Low
    );
    pub const S3_PROTOCOL: Field = field!(
        Pthdr,
        "(S3) protocol",
        73,
        1,
        "what S3 calls this byte; unverified",
        "S3 (CTE+89)",
        Low
    );
    pub const S3_VLAN: Field = field!(
        Pthdr,
        "(S3) VLAN id",
        74,
        2,
        "what S3 calls these bytes; unverified",
        "S3 (CTE+90)",
        Low
    );
    pub const S3_PAYLOAD_LEN: Field = field!(
        Pthdr,
        "(S3) payload length",
        80,
        4,
        "S3 reads 4 bytes here; its low half is PTH_Plen",
        "S3 (CTE+96)",
        Low
    );
    pub const PLEN: Field = field!(
        Pthdr,
        "PTH_Plen",
        82,
        2,
        "original length of the packet (or socket data)",
        "S1 (LLGH 82); S2 (pcap original length)",
        High
    );
    pub const INF_IX: Field = field!(
        Pthdr,
        "PTH_InfIx",
        84,
        4,
        "interface index",
        "S1 (LLGF 84); S3 (CTE+100)",
        High
    );
    pub const DROP_RSN: Field = field!(
        Pthdr,
        "PTH_DropRsn",
        88,
        2,
        "drop reason code (0: not dropped); only when PTH_Len >= 92",
        "S1 (LLGH 88, read only when PTH_len >= sizeof(pthdr_t) = 92)",
        High
    );
    pub const OFF_SEG_LEN: Field = field!(Pthdr, "PTH_OffSegLen", 90, 2, "named by IBM's header; meaning unpublished (S2 prints it as \"segment offset\"; a 16-bit value cannot hold the offsets of segmented sets, which exceed 65 534 bytes): shown, not used", "S1 (LLGH 90, packet trace only)", High);
    /// sizeof(pthdr_t): the header with PTH_DropRsn and PTH_OffSegLen.
    pub const FULL_LEN: usize = OFF_SEG_LEN.end();
    /// The least PTH_Len accepted: up to PTH_InfIx (IBM also names a shorter
    /// `pthdr_base_T` whose length is not known; this crate's choice).
    pub const MIN_LEN: usize = INF_IX.end();
    /// The 16-byte name field's data trace view ends with 4 bytes nobody
    /// names.
    pub const DT_REST: Field = field!(
        Pthdr,
        "PTH_DtStruc rest",
        20,
        4,
        "data trace: the rest of PTH_Name, not named",
        "S1 (not touched)",
        Low
    );

    pub const LOCAL: Bit = Bit {
        field: &FLAG,
        name: "PTH_Local",
        mask: 0x80,
        meaning: "source and destination are both local to this stack",
        source: "S1 (RNSBG rotate 57); IBM-PTH (X'80')",
        confidence: Confidence::High,
    };
    pub const CF_TXT: Bit = Bit {
        field: &FLAG,
        name: "PTH_CfTxt",
        mask: 0x40,
        meaning: "AT-TLS confidential data: not traced",
        source: "S1 (RNSBG rotate 58); IBM-PTH (X'40')",
        confidence: Confidence::High,
    };
    pub const CLEAR_TXT: Bit = Bit {
        field: &FLAG,
        name: "PTH_ClearTxt",
        mask: 0x20,
        meaning: "AT-TLS cleartext",
        source: "S1 (RNSBG rotate 59)",
        confidence: Confidence::High,
    };
    pub const OUT: Bit = Bit {
        field: &FLAG,
        name: "PTH_Out",
        mask: 0x01,
        meaning: "outbound (IPCS \"To\" interface); clear: inbound (\"From\")",
        source: "S1 (NG with literal-pool word 1)",
        confidence: Confidence::High,
    };
}

/// The SMC extension of format-8 (SMC-R / SMC-D) records, as S3-SMC reads
/// it: a 4-byte header (length, type) at PTHDR_T + 92, then a body whose
/// fields depend on the kind, told by the interface name (S3-SMC: `EZAISM…`
/// SMC-D, `EZARI…` SMC-R); then, for SMC-R, the LLC message.  Offsets from
/// the extension's start (S3-SMC's body offsets + 4).
pub mod smc {
    use super::*;
    const S3: &str = "S3-SMC (body offset + 4)";
    /// Where the extension starts in the packet trace header's record.
    pub const AFTER_PTHDR: usize = super::pthdr::FULL_LEN;
    pub const EXT_LEN: Field = field!(SmcExt, "(S3) extension length", 0, 2, "length of the extension, these 4 header bytes included (S3-SMC takes the body as length - 4)", "S3-SMC (CTE+108)", Low);
    pub const EXT_TYPE: Field = field!(
        SmcExt,
        "(S3) extension type",
        2,
        2,
        "extension type (S3-SMC shows it raw)",
        "S3-SMC (CTE+110)",
        Low
    );
    pub const HEADER_LEN: usize = EXT_TYPE.end();
    pub const D_PROD_CURSOR: Field = field!(
        SmcExt,
        "(S3) SMC-D producer cursor",
        4,
        8,
        "SMC-D: producer cursor",
        S3,
        Low
    );
    pub const D_CONS_CURSOR: Field = field!(
        SmcExt,
        "(S3) SMC-D consumer cursor",
        12,
        8,
        "SMC-D: consumer cursor",
        S3,
        Low
    );
    pub const D_PROD_FLAGS: Field = field!(
        SmcExt,
        "(S3) SMC-D producer flags",
        20,
        1,
        "SMC-D: producer flags",
        S3,
        Low
    );
    pub const D_CONN_STATE: Field = field!(
        SmcExt,
        "(S3) SMC-D connection state",
        21,
        1,
        "SMC-D: connection state",
        S3,
        Low
    );
    pub const D_RMT_CONN_INDEX: Field = field!(
        SmcExt,
        "(S3) SMC-D remote connection index",
        22,
        1,
        "SMC-D: remote connection index",
        S3,
        Low
    );
    pub const D_LCL_CONN_INDEX: Field = field!(
        SmcExt,
        "(S3) SMC-D local connection index",
        23,
        1,
        "SMC-D: local connection index",
        S3,
        Low
    );
    pub const LCL_CONN_ID: Field = field!(
        SmcExt,
        "(S3) local connection id",
        32,
        4,
        "local connection id (SMC-D and SMC-R)",
        S3,
        Low
    );
    pub const RMT_CONN_ID: Field = field!(
        SmcExt,
        "(S3) remote connection id",
        36,
        4,
        "remote connection id (SMC-D and SMC-R)",
        S3,
        Low
    );
    pub const D_RMT_GID: Field = field!(
        SmcExt,
        "(S3) SMC-D remote GID",
        40,
        8,
        "SMC-D: remote GID",
        S3,
        Low
    );
    pub const D_LCL_GID: Field = field!(
        SmcExt,
        "(S3) SMC-D local GID",
        56,
        8,
        "SMC-D: local GID",
        S3,
        Low
    );
    pub const R_RMT_GID: Field = field!(
        SmcExt,
        "(S3) SMC-R remote GID",
        48,
        8,
        "SMC-R: remote GID",
        S3,
        Low
    );
    pub const R_LCL_GID: Field = field!(
        SmcExt,
        "(S3) SMC-R local GID",
        64,
        8,
        "SMC-R: local GID",
        S3,
        Low
    );
    pub const R_RMT_QP: Field = field!(
        SmcExt,
        "(S3) SMC-R remote QP",
        72,
        3,
        "SMC-R: remote queue pair number",
        S3,
        Low
    );
    pub const R_LCL_QP: Field = field!(
        SmcExt,
        "(S3) SMC-R local QP",
        75,
        3,
        "SMC-R: local queue pair number",
        S3,
        Low
    );
    /// The SMC-R LLC message after the extension: offsets from its start.
    pub const LLC_TYPE: Field = field!(
        SmcLlc,
        "(S3) SMC-R LLC function",
        0,
        1,
        "LLC message type",
        "S3-SMC (payload offset)",
        Low
    );
    pub const LLC_LEN: Field = field!(
        SmcLlc,
        "(S3) SMC-R LLC length",
        1,
        2,
        "LLC message length",
        "S3-SMC (payload offset)",
        Low
    );
    pub const LLC_FLAGS: Field = field!(
        SmcLlc,
        "(S3) SMC-R LLC flags",
        3,
        1,
        "LLC flags",
        "S3-SMC (payload offset)",
        Low
    );
    pub const LLC_LINK_ID: Field = field!(
        SmcLlc,
        "(S3) SMC-R LLC link id",
        4,
        1,
        "LLC link id",
        "S3-SMC (payload offset)",
        Low
    );
    pub const LLC_REASON: Field = field!(
        SmcLlc,
        "(S3) SMC-R LLC reason code",
        6,
        3,
        "LLC reason code",
        "S3-SMC (payload offset)",
        Low
    );
    /// The fields of each kind's body.
    pub const SMC_D: &[&Field] = &[
        &D_PROD_CURSOR,
        &D_CONS_CURSOR,
        &D_PROD_FLAGS,
        &D_CONN_STATE,
        &D_RMT_CONN_INDEX,
        &D_LCL_CONN_INDEX,
        &LCL_CONN_ID,
        &RMT_CONN_ID,
        &D_RMT_GID,
        &D_LCL_GID,
    ];
    pub const SMC_R: &[&Field] = &[
        &LCL_CONN_ID,
        &RMT_CONN_ID,
        &R_RMT_GID,
        &R_LCL_GID,
        &R_RMT_QP,
        &R_LCL_QP,
    ];
    pub const LLC: &[&Field] = &[&LLC_TYPE, &LLC_LEN, &LLC_FLAGS, &LLC_LINK_ID, &LLC_REASON];
    /// Interface name prefixes (S3-SMC): SMC-D, SMC-R.
    pub const D_PREFIX: &str = "EZAISM";
    pub const R_PREFIX: &str = "EZARI";
}

/// Every field, in table order (structure, then offset); docs/ctrace-format.md
/// mirrors it.
pub const FIELDS: &[&Field] = &[
    &rdw::LEN,
    &rdw::SEGMENT,
    &rdw::RESERVED,
    &bdw::LEN,
    &bdw::RESERVED,
    &bdw::EXT_LEN,
    &cte::LENP,
    &cte::OFF,
    &cte::FMTID,
    &cte::TIME,
    &cte::TRACE_TYPE,
    &cte::KIND,
    &cte::LENE,
    &pthdr::LEN,
    &pthdr::SEQ_NUM,
    &pthdr::FLAG,
    &pthdr::DEV_TY,
    &pthdr::TLEN,
    &pthdr::NAME,
    &pthdr::JOB_NM,
    &pthdr::DT_DOMAIN,
    &pthdr::DT_TYPE,
    &pthdr::DT_PROTO,
    &pthdr::DT_STATE,
    &pthdr::DT_REST,
    &pthdr::TIME,
    &pthdr::SRC,
    &pthdr::DST,
    &pthdr::SPORT,
    &pthdr::DPORT,
    &pthdr::UNKNOWN,
    &pthdr::S3_RECORD_NUMBER,
    &pthdr::S3_PROTOCOL,
    &pthdr::S3_VLAN,
    &pthdr::S3_PAYLOAD_LEN,
    &pthdr::PLEN,
    &pthdr::INF_IX,
    &pthdr::DROP_RSN,
    &pthdr::OFF_SEG_LEN,
    &smc::EXT_LEN,
    &smc::EXT_TYPE,
    &smc::D_PROD_CURSOR,
    &smc::D_CONS_CURSOR,
    &smc::D_PROD_FLAGS,
    &smc::D_CONN_STATE,
    &smc::D_RMT_CONN_INDEX,
    &smc::D_LCL_CONN_INDEX,
    &smc::LCL_CONN_ID,
    &smc::RMT_CONN_ID,
    &smc::D_RMT_GID,
    &smc::R_RMT_GID,
    &smc::D_LCL_GID,
    &smc::R_LCL_GID,
    &smc::R_RMT_QP,
    &smc::R_LCL_QP,
    &smc::LLC_TYPE,
    &smc::LLC_LEN,
    &smc::LLC_FLAGS,
    &smc::LLC_LINK_ID,
    &smc::LLC_REASON,
];

/// Every flag bit.
pub const BITS: &[&Bit] = &[
    &pthdr::LOCAL,
    &pthdr::CF_TXT,
    &pthdr::CLEAR_TXT,
    &pthdr::OUT,
];

/// Fields that lie over (part of) another one and are not part of the
/// header's tiling: the data trace view of PTH_Name and S3's labels inside
/// the unknown bytes.
pub fn is_overlay(f: &Field) -> bool {
    [
        &pthdr::JOB_NM,
        &pthdr::DT_DOMAIN,
        &pthdr::DT_TYPE,
        &pthdr::DT_PROTO,
        &pthdr::DT_STATE,
        &pthdr::DT_REST,
        &pthdr::S3_RECORD_NUMBER,
        &pthdr::S3_PROTOCOL,
        &pthdr::S3_VLAN,
        &pthdr::S3_PAYLOAD_LEN,
        &bdw::EXT_LEN,
        &cte::TRACE_TYPE,
        &cte::KIND,
    ]
    .contains(&f)
}

/// One row of docs/ctrace-format.md's table for a field.
pub fn doc_row(f: &Field) -> String {
    let off = if f.from_end {
        format!("-{}", f.offset)
    } else {
        f.offset.to_string()
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        f.structure.name(),
        off,
        f.width,
        f.name,
        f.meaning,
        f.source,
        f.confidence.name()
    )
}

/// One row of docs/ctrace-format.md's flag table.
pub fn doc_bit_row(b: &Bit) -> String {
    format!(
        "| {} | X'{:02X}' | {} | {} | {} | {} |",
        b.field.name,
        b.mask,
        b.name,
        b.meaning,
        b.source,
        b.confidence.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiles(structure: Structure, end: usize) {
        let mut at = 0;
        for f in FIELDS
            .iter()
            .filter(|f| f.structure == structure && !f.from_end && !is_overlay(f))
        {
            assert_eq!(
                f.offset, at,
                "{} starts at {}, expected {at}",
                f.name, f.offset
            );
            at = f.end();
        }
        assert_eq!(at, end, "{structure:?}");
    }

    #[test]
    fn structures_are_tiled_without_gaps_or_overlaps() {
        tiles(Structure::Rdw, rdw::SIZE);
        tiles(Structure::Bdw, bdw::SIZE);
        tiles(Structure::Cte, cte::HEADER_LEN);
        tiles(Structure::Pthdr, pthdr::FULL_LEN);
        assert_eq!(
            pthdr::FULL_LEN,
            92,
            "S1: sizeof(pthdr_t) = 92 (MVHI ...,92)"
        );
        assert_eq!(pthdr::MIN_LEN, 88);
        assert_eq!(cte::HEADER_LEN, 16);
    }

    #[test]
    fn overlays_lie_inside_what_they_overlay() {
        for f in FIELDS.iter().filter(|f| is_overlay(f)) {
            let host = match f.structure {
                Structure::Cte => &cte::FMTID,
                Structure::Pthdr if f.offset < pthdr::NAME.end() => &pthdr::NAME,
                Structure::Pthdr if f.name == "(S3) payload length" => {
                    // straddles the unknown bytes and PTH_Plen
                    assert_eq!(f.range(), pthdr::UNKNOWN.end() - 2..pthdr::PLEN.end());
                    continue;
                }
                Structure::Pthdr => &pthdr::UNKNOWN,
                _ => &bdw::LEN,
            };
            assert!(
                f.offset >= host.offset && (f.end() <= host.end() || f.structure == Structure::Bdw),
                "{} outside {}",
                f.name,
                host.name
            );
        }
    }

    #[test]
    fn read_and_write_big_endian() {
        let mut b = [0u8; 92];
        pthdr::TLEN.put_uint(&mut b, 0x15_1617);
        assert_eq!(&b[5..8], &[0x15, 0x16, 0x17]);
        assert_eq!(pthdr::TLEN.uint(&b), 0x15_1617);
        pthdr::PLEN.put_uint(&mut b, 1500);
        assert_eq!(&b[82..84], &[0x05, 0xDC]);
        let mut c = [0u8; 20];
        cte::LENE.put_uint(&mut c, 20);
        assert_eq!(&c[18..], &[0, 20]);
        assert_eq!(cte::LENE.range_in(20), 18..20);
        assert_eq!(cte::LENE.uint(&c), 20);
        assert_eq!(pthdr::SRC.at(16), 48..64);
        b[3] = 0x01;
        assert!(pthdr::OUT.is_set(&b) && !pthdr::LOCAL.is_set(&b));
        pthdr::NAME.put_bytes(&mut b, &[0x40; 16]);
        assert_eq!(pthdr::NAME.bytes(&b), &[0x40; 16]);
        assert_eq!(Confidence::Medium.name(), "medium");
        assert_eq!(Structure::Rdw.name(), "RDW/SDW");
    }

    #[test]
    fn doc_mirrors_the_table() {
        let doc = include_str!("../../../docs/ctrace-format.md");
        let rows = FIELDS
            .iter()
            .map(|f| doc_row(f))
            .chain(BITS.iter().map(|b| doc_bit_row(b)));
        let missing: Vec<String> = rows.filter(|r| !doc.contains(r.as_str())).collect();
        assert!(
            missing.is_empty(),
            "docs/ctrace-format.md lacks the rows\n{}",
            missing.join("\n")
        );
    }
}
