//! Every `ee.*` field, subtree and expert info, in one table per layer.
//! Value names and bit masks come from the `ee` crate's tables, so a field
//! shows exactly what the crate decodes.

use ee::{cv, fid5, gds, nhdr, thdr, xid3};
use wireshark_ffi::register::{
    Base, BoolField, BytesField, DurationField, ExpertDef, ExpertField, ExpertGroup, FieldDef,
    FrameNumField, LabelField, Registration, Severity, StringField, Subtree, Uint64Field,
    UintField, UintWidth,
};

use wireshark_ffi::statics;

statics!(Subtree: ETT, ETT_NHDR, ETT_THDR, ETT_SEGMENT, ETT_CV, ETT_FID5, ETT_RH, ETT_GDS, ETT_XID,
    ETT_XID_CAPS, ETT_ANALYSIS, ETT_MESSAGE, ETT_FLAGS, ETT_COMPAT, ETT_LABELS);

statics!(StringField: PORT_ROLE, LLC_COMMAND, CV_NAME, CV_TG_PARTNER, CV_NETWORK_ID, CV_PRODUCT_LEVEL, CV_PRODUCT_TEXT);
statics!(UintField: LLC_DSAP, LLC_SSAP, LLC_CONTROL,
    NHDR_SM, NHDR_TPF, NHDR_FT, NHDR_LIST_END, NHDR_FRH,
    THDR_FLAGS0, THDR_FLAGS1, THDR_OFFSET, THDR_DLF, THDR_BSN,
    SEG_LEN, SEG_TYPE,
    SETUP_VERSION, SETUP_FLAGS,
    STATUS_FLAGS, STATUS_ABSP_COUNT, STATUS_REPORT, STATUS_ACK, STATUS_RECEIVED, STATUS_ABSP_BEGIN,
    STATUS_ABSP_END,
    OOB_BITS, FAULT_SENSE,
    SWITCH_FLAGS, SWITCH_MAX_PACKET, SWITCH_PATH_SWITCH_TIME, SWITCH_ALIVE_TIMER, SWITCH_RR_COUNT,
    ARB_CONTROL, ARB_TYPE, ARB_RATE_ACTION, ARB_MODE, ARB_REQUEST_CORRELATOR, ARB_REPLY_CORRELATOR,
    ARB_FIELD,
    TH_FID, TH_MPF, TH_SNF, RH_CATEGORY,
    GDS_LEN, GDS_ID,
    XID_FORMAT, XID_NODE_TYPE, XID_LEN, XID_NODE_ID, XID_IDBLK, XID_IDNUM, XID_CAPS,
    XID_EXCHANGE_STATE, XID_BYTE10, XID_PACING_QUALIFIER, XID_BYTE15, XID_BRANCH, XID_TG,
    XID_DLC_TYPE, XID_DLC_LEN, XID_LINK_FLAGS, XID_STATION_ROLE, XID_TRANSMIT_RECEIVE, XID_MAX_BTU,
    XID_MAX_IFRAMES,
    CV_KEY, CV_SUB_LEN, SWITCH_CV_LEN, SWITCH_CV_KEY, CV_SUBVECTOR_KEY, CV_HPR_KEY, CV_NETADDR_FLAGS, CV_TG_SUBFIELD, CV_TG_NUMBER, CV_LEN, CV_NAME_TYPE, CV_PRODUCT_CLASS, CV_SUBFIELD_KEY,
    RTP_STREAM, ANALYSIS_GAP, ANALYSIS_MISSING_BEGIN, ANALYSIS_MISSING_END, MESSAGE_LENGTH);
statics!(Uint64Field: THDR_TCID, CIE_TCID, TH_SA);
statics!(BoolField: NHDR_TSI, NHDR_SLOWDOWN1, NHDR_SLOWDOWN2,
    THDR_SETUPI, THDR_SOMI, THDR_EOMI, THDR_SRI, THDR_RASAPI, THDR_RETRYI, THDR_LMI, THDR_CQFI, THDR_OSI,
    SETUP_TARGET, SETUP_ARB, SETUP_RELIABLE, SETUP_DEDICATED,
    STATUS_GAP, STATUS_IDLE,
    SWITCH_REFIFO, SWITCH_MOBILITY, SWITCH_DIRSEARCH, SWITCH_LIMITED, SWITCH_NCESCOPE, SWITCH_MNPS,
    SWITCH_RR_BF, ARB_PARITY, CV_NETADDR_PTP,
    TH_EFI, RH_RRI, RH_FI, RH_SDI, RH_BCI, RH_ECI, RH_DR1I, RH_LCCI, RH_DR2I, RH_ERI, RH_RLWI, RH_QRI,
    RH_PI, RH_BBI, RH_EBI, RH_CDI, RH_CSI, RH_EDI, RH_PDI, RH_CEBI,
    GDS_CONTINUATION,
    XID_INIT_SELF, XID_STANDALONE_BIND, XID_WHOLE_BIND_GENERATED, XID_WHOLE_BIND_REQUIRED,
    XID_ACTPU_SUPPRESSION, XID_NETWORK_NODE, XID_CP_SERVICES, XID_CP_CP, XID_NONACTIVATION,
    XID_CP_NAME_CHANGE, XID_PACING_SENDER, XID_PACING_RECEIVER, XID_QUIESCE, XID_PU_CAPS, XID_PBN,
    XID_TG_SHARING_PROHIBITED, XID_DEDICATED_SVC, XID_NEGOTIATION_COMPLETE_SUPPORTED,
    XID_NEGOTIATION_COMPLETE, XID_PARALLEL_TGS, XID_DLUR, XID_DLUS, XID_EXBN, XID_ODAI, XID_OPTION_SET_1123,
    XID_ABM, XID_SHORT_HOLD_STATUS, XID_SHORT_HOLD_SUPPORT,
    ANALYSIS_OUT_OF_ORDER, ANALYSIS_SETUP, ANALYSIS_PATH_SWITCH, ANALYSIS_SLOWDOWN,
    ANALYSIS_STATUS_UNANSWERED);
statics!(BytesField: NHDR_LABELS, NHDR_ANR_LABEL, NHDR_ANR_UNKNOWN, NHDR_RESERVED, THDR_QUALIFIER, CV_DATA,
    SEGMENT_DATA, RU, DATA, GDS_DATA, RESERVED, PADDING);
statics!(LabelField: LBL_NHDR, LBL_THDR, LBL_SEG, LBL_CV, LBL_TH, LBL_RH, LBL_GDS, LBL_XID, LBL_ABSP,
    LBL_COMPAT);
statics!(StringField: NHDR_ANR_SOURCE);
statics!(FrameNumField: ANALYSIS_RETRANSMISSION, ANALYSIS_RETRANSMISSION_REQUESTED, ANALYSIS_DUPLICATE, ANALYSIS_STATUS_REPLY_TO,
    ANALYSIS_STATUS_REPLY_IN, MESSAGE_FRAME, MESSAGE_IN);
statics!(DurationField: ANALYSIS_STATUS_TIME);
statics!(ExpertField: EI_MALFORMED, EI_GAP, EI_OUT_OF_ORDER, EI_RETRANSMISSION, EI_DUPLICATE,
    EI_STATUS_MISSING, EI_SETUP, EI_PATH_SWITCH, EI_SLOWDOWN, EI_ARB, EI_ARB_RATE, EI_FAULT, EI_DEACTIVATION,
    EI_UNANSWERED_SRI);

use UintWidth::{U16, U32, U8};

pub fn register(reg: &Registration) {
    use std::ffi::CStr;
    let u = |f: &'static UintField, name: &'static CStr, abbrev: &'static CStr, w, b| {
        f.def(name, abbrev, w, b, c"")
    };
    let flag8 = |f: &'static BoolField, name: &'static CStr, abbrev: &'static CStr, mask: u8| {
        f.flag(name, abbrev, U8, mask.into(), c"")
    };
    let flag16 = |f: &'static BoolField, name: &'static CStr, abbrev: &'static CStr, mask: u16| {
        f.flag(name, abbrev, U16, mask.into(), c"")
    };
    let mut defs: Vec<FieldDef> = vec![
        PORT_ROLE.def(
            c"Port role",
            c"ee.port_role",
            c"What the EE UDP port carries (RFC 2353)",
        ),
        u(&LLC_DSAP, c"DSAP", c"ee.llc.dsap", U8, Base::Hex),
        u(&LLC_SSAP, c"SSAP", c"ee.llc.ssap", U8, Base::Hex),
        u(&LLC_CONTROL, c"Control", c"ee.llc.control", U8, Base::Hex),
        LLC_COMMAND.def(
            c"Command",
            c"ee.llc.command",
            c"U-format command, poll/final bit masked off",
        ),
        // NHDR
        u(&NHDR_SM, c"Switching mode", c"ee.nhdr.sm", U8, Base::Dec)
            .mask(nhdr::byte0::SWITCHING_MODE.into())
            .names(nhdr::SWITCHING_MODES.iter().copied()),
        u(
            &NHDR_TPF,
            c"Transmission priority",
            c"ee.nhdr.tpf",
            U8,
            Base::Dec,
        )
        .mask(nhdr::byte0::TRANSMISSION_PRIORITY.into())
        .names(nhdr::TRANSMISSION_PRIORITIES.iter().copied()),
        u(&NHDR_FT, c"Function type", c"ee.nhdr.ft", U8, Base::Dec)
            .mask(nhdr::byte1::FUNCTION_TYPE.into())
            .names(nhdr::FUNCTION_TYPES.iter().copied()),
        flag8(
            &NHDR_TSI,
            c"Time-sensitive packet",
            c"ee.nhdr.tsi",
            nhdr::byte1::TIME_SENSITIVE,
        ),
        flag8(
            &NHDR_SLOWDOWN1,
            c"Slowdown 1 (minor congestion)",
            c"ee.nhdr.slowdown1",
            nhdr::byte1::SLOWDOWN1,
        ),
        flag8(
            &NHDR_SLOWDOWN2,
            c"Slowdown 2 (severe congestion)",
            c"ee.nhdr.slowdown2",
            nhdr::byte1::SLOWDOWN2,
        ),
        NHDR_LABELS.def(
            c"ANR labels / FR entries",
            c"ee.nhdr.labels",
            c"Routing list, without its X'FF' end",
        ),
        NHDR_ANR_LABEL.def(
            c"ANR label",
            c"ee.nhdr.anr_label",
            c"One label (1 to 8 bytes, RFC 2238), shown only where its length is known",
        ),
        NHDR_ANR_SOURCE.def(
            c"Label length known from",
            c"ee.nhdr.anr_label_source",
            c"How the label's length is known: the same packet seen before and after an ANR \
              node (frames), or the ee.anr_label_length preference",
        ),
        NHDR_ANR_UNKNOWN.def(
            c"ANR labels, lengths unknown",
            c"ee.nhdr.anr_unknown",
            c"Label bytes whose boundaries nothing in the capture shows",
        ),
        u(
            &NHDR_LIST_END,
            c"End of the routing list",
            c"ee.nhdr.list_end",
            U8,
            Base::Hex,
        ),
        NHDR_RESERVED.def(c"Reserved", c"ee.nhdr.reserved", c""),
        RESERVED.def(c"Reserved", c"ee.reserved", c""),
        PADDING.def(
            c"Padding",
            c"ee.padding",
            c"Bytes that align a vector to 4 bytes",
        ),
        LBL_NHDR.def(c"Network layer header (NHDR)", c"ee.nhdr", c""),
        LBL_THDR.def(c"RTP transport header (THDR)", c"ee.thdr", c""),
        LBL_SEG.def(c"Optional segment", c"ee.seg", c""),
        LBL_CV.def(c"Control vector", c"ee.cv", c""),
        LBL_TH.def(c"FID5 transmission header", c"ee.th", c""),
        LBL_RH.def(c"Request/response header", c"ee.rh", c""),
        LBL_GDS.def(c"GDS variable", c"ee.gds", c""),
        LBL_XID.def(c"XID format 3", c"ee.xid", c""),
        LBL_ABSP.def(
            c"Acknowledged byte sequence pair",
            c"ee.status.absp",
            c"",
        ),
        LBL_COMPAT.def(
            c"Wireshark's llc/sna decode (hidden: for filters and colouring rules on llc.* and sna.*)",
            c"ee.compat",
            c"",
        ),
        u(
            &NHDR_FRH,
            c"Function routing header",
            c"ee.nhdr.frh",
            U8,
            Base::Hex,
        )
        .names(nhdr::FUNCTION_ROUTING_HEADERS.iter().copied()),
        // THDR
        THDR_TCID.def(
            c"TCID",
            c"ee.thdr.tcid",
            Base::Hex,
            c"Transport connection identifier",
        ),
        u(
            &THDR_FLAGS0,
            c"Flags (byte 8)",
            c"ee.thdr.flags8",
            U8,
            Base::Hex,
        ),
        flag8(
            &THDR_SETUPI,
            c"Connection setup (SETUPI)",
            c"ee.thdr.setupi",
            thdr::flags0::SETUPI,
        ),
        flag8(
            &THDR_SOMI,
            c"Start of message (SOMI)",
            c"ee.thdr.somi",
            thdr::flags0::SOMI,
        ),
        flag8(
            &THDR_EOMI,
            c"End of message (EOMI)",
            c"ee.thdr.eomi",
            thdr::flags0::EOMI,
        ),
        flag8(
            &THDR_SRI,
            c"Status requested (SRI)",
            c"ee.thdr.sri",
            thdr::flags0::SRI,
        ),
        flag8(
            &THDR_RASAPI,
            c"Reply as soon as possible (RASAPI)",
            c"ee.thdr.rasapi",
            thdr::flags0::RASAPI,
        ),
        flag8(
            &THDR_RETRYI,
            c"Retry (RETRYI)",
            c"ee.thdr.retryi",
            thdr::flags0::RETRYI,
        ),
        u(
            &THDR_FLAGS1,
            c"Flags (byte 9)",
            c"ee.thdr.flags9",
            U8,
            Base::Hex,
        ),
        flag8(
            &THDR_LMI,
            c"Last message (LMI)",
            c"ee.thdr.lmi",
            thdr::flags1::LMI,
        ),
        flag8(
            &THDR_CQFI,
            c"Connection qualifier present (CQFI)",
            c"ee.thdr.cqfi",
            thdr::flags1::CQFI,
        ),
        flag8(
            &THDR_OSI,
            c"Optional segments present (OSI)",
            c"ee.thdr.osi",
            thdr::flags1::OSI,
        ),
        u(
            &THDR_OFFSET,
            c"Data offset (4-byte words)",
            c"ee.thdr.offset",
            U16,
            Base::Dec,
        ),
        u(
            &THDR_DLF,
            c"Data length (DLF)",
            c"ee.thdr.dlf",
            U32,
            Base::Dec,
        ),
        u(
            &THDR_BSN,
            c"Byte sequence number (BSN)",
            c"ee.thdr.bsn",
            U32,
            Base::Dec,
        ),
        THDR_QUALIFIER.def(c"Connection qualifier", c"ee.thdr.qualifier", c""),
        // segments
        u(
            &SEG_LEN,
            c"Segment length (4-byte words)",
            c"ee.seg.len",
            U8,
            Base::Dec,
        ),
        u(&SEG_TYPE, c"Segment type", c"ee.seg.type", U8, Base::Hex)
            .names(thdr::SEGMENT_TYPES.iter().copied()),
        SEGMENT_DATA.def(
            c"Segment data",
            c"ee.seg.data",
            c"Bytes of a segment we do not decode",
        ),
        u(
            &SETUP_VERSION,
            c"Version",
            c"ee.setup.version",
            U16,
            Base::Hex,
        ),
        u(&SETUP_FLAGS, c"Flags", c"ee.setup.flags", U8, Base::Hex),
        flag8(
            &SETUP_TARGET,
            c"Target resource ID present",
            c"ee.setup.target",
            thdr::setup::TARGET_RESOURCE_ID,
        ),
        flag8(
            &SETUP_ARB,
            c"ARB flow control",
            c"ee.setup.arb",
            thdr::setup::ARB_FLOW_CONTROL,
        ),
        flag8(
            &SETUP_RELIABLE,
            c"Reliable connection",
            c"ee.setup.reliable",
            thdr::setup::RELIABLE,
        ),
        flag8(
            &SETUP_DEDICATED,
            c"Dedicated RTP connection",
            c"ee.setup.dedicated",
            thdr::setup::DEDICATED,
        ),
        u(
            &STATUS_FLAGS,
            c"Status flags",
            c"ee.status.flags",
            U8,
            Base::Hex,
        ),
        flag8(
            &STATUS_GAP,
            c"Gap detected",
            c"ee.status.gap",
            thdr::status::GAP,
        ),
        flag8(
            &STATUS_IDLE,
            c"Idle (RTP alive)",
            c"ee.status.idle",
            thdr::status::IDLE,
        ),
        u(
            &STATUS_ABSP_COUNT,
            c"ABSP pairs",
            c"ee.status.absp_count",
            U8,
            Base::Dec,
        ),
        u(
            &STATUS_REPORT,
            c"Status report number",
            c"ee.status.report_number",
            U16,
            Base::Dec,
        ),
        u(
            &STATUS_ACK,
            c"Status acknowledge number",
            c"ee.status.ack_number",
            U16,
            Base::Dec,
        ),
        u(
            &STATUS_RECEIVED,
            c"Received sequence number",
            c"ee.status.received",
            U32,
            Base::Dec,
        ),
        u(
            &STATUS_ABSP_BEGIN,
            c"ABSP begin",
            c"ee.status.absp_begin",
            U32,
            Base::Dec,
        ),
        u(
            &STATUS_ABSP_END,
            c"ABSP end",
            c"ee.status.absp_end",
            U32,
            Base::Dec,
        ),
        u(
            &OOB_BITS,
            c"Client out-of-band bits",
            c"ee.oob.bits",
            U16,
            Base::Hex,
        )
        .names(thdr::OUT_OF_BAND_VALUES.iter().copied()),
        CIE_TCID.def(
            c"Exchanged TCID",
            c"ee.cie.tcid",
            Base::Hex,
            c"TCID the sender wants in packets sent to it",
        ),
        u(
            &FAULT_SENSE,
            c"Sense data",
            c"ee.fault.sense",
            U32,
            Base::Hex,
        ),
        u(
            &SWITCH_FLAGS,
            c"Switching flags",
            c"ee.switch.flags",
            U8,
            Base::Hex,
        ),
        flag8(
            &SWITCH_REFIFO,
            c"Resequencing (REFIFO)",
            c"ee.switch.refifo",
            0x80,
        ),
        flag8(&SWITCH_MOBILITY, c"Mobility", c"ee.switch.mobility", 0x40),
        flag8(
            &SWITCH_DIRSEARCH,
            c"Directory search required on path switch",
            c"ee.switch.dirsearch",
            0x20,
        ),
        flag8(
            &SWITCH_LIMITED,
            c"Limited resource link",
            c"ee.switch.limited_resource",
            0x10,
        ),
        flag8(&SWITCH_NCESCOPE, c"NCE scope", c"ee.switch.nce_scope", 0x08),
        flag8(
            &SWITCH_MNPS,
            c"MNPS RSCV retention",
            c"ee.switch.mnps_rscv",
            0x04,
        ),
        u(
            &SWITCH_MAX_PACKET,
            c"Maximum packet size on return path",
            c"ee.switch.max_packet",
            U32,
            Base::Dec,
        ),
        u(
            &SWITCH_PATH_SWITCH_TIME,
            c"Path switch time",
            c"ee.switch.path_switch_time",
            U32,
            Base::Dec,
        ),
        u(
            &SWITCH_ALIVE_TIMER,
            c"RTP alive timer",
            c"ee.switch.alive_timer",
            U32,
            Base::Dec,
        ),
        flag8(&SWITCH_RR_BF, c"BF entry", c"ee.switch.rr.bf", 0x80),
        u(
            &SWITCH_RR_COUNT,
            c"Return route TG vectors",
            c"ee.switch.rr.count",
            U8,
            Base::Dec,
        ),
        u(
            &ARB_CONTROL,
            c"ARB control",
            c"ee.arb.control",
            U8,
            Base::Hex,
        ),
        u(&ARB_TYPE, c"Message type", c"ee.arb.type", U8, Base::Dec)
            .mask(thdr::arb::MESSAGE_TYPE.into())
            .names(thdr::ARB_MESSAGE_TYPES.iter().copied()),
        u(
            &ARB_RATE_ACTION,
            c"Rate adjustment action",
            c"ee.arb.rate_action",
            U8,
            Base::Dec,
        )
        .mask(thdr::arb::RATE_ACTION.into())
        .names(thdr::ARB_RATE_ACTIONS.iter().copied()),
        flag8(&ARB_PARITY, c"Parity", c"ee.arb.parity", thdr::arb::PARITY),
        u(&ARB_MODE, c"ARB mode", c"ee.arb.mode", U8, Base::Dec)
            .mask(thdr::arb::MODE.into())
            .names(thdr::ARB_MODES.iter().copied()),
        u(
            &ARB_REQUEST_CORRELATOR,
            c"Rate request correlator",
            c"ee.arb.request_correlator",
            U8,
            Base::Dec,
        )
        .mask(thdr::arb::REQUEST_CORRELATOR.into()),
        u(
            &ARB_REPLY_CORRELATOR,
            c"Rate reply correlator",
            c"ee.arb.reply_correlator",
            U8,
            Base::Dec,
        )
        .mask(thdr::arb::REPLY_CORRELATOR.into()),
        ARB_FIELD.def(
            c"ARB field",
            c"ee.arb.field",
            U32,
            Base::Dec,
            c"Rate fields 1-4; their meaning is not public",
        ),
        // FID5 TH and RH
        u(&TH_FID, c"FID type", c"ee.th.fid", U8, Base::Dec).mask(fid5::th_flags::FID_TYPE.into()),
        u(&TH_MPF, c"Mapping field", c"ee.th.mpf", U8, Base::Dec)
            .mask(fid5::th_flags::MPF.into())
            .names(fid5::MAPPING_FIELDS.iter().copied()),
        flag8(
            &TH_EFI,
            c"Expedited flow",
            c"ee.th.efi",
            fid5::th_flags::EFI,
        ),
        u(&TH_SNF, c"Sequence number", c"ee.th.snf", U16, Base::Dec),
        TH_SA.def(c"Session address", c"ee.th.sa", Base::Hex, c""),
        flag8(&RH_RRI, c"Response (RRI)", c"ee.rh.rri", fid5::rh0::RRI),
        u(
            &RH_CATEGORY,
            c"RU category",
            c"ee.rh.category",
            U8,
            Base::Dec,
        )
        .mask(fid5::rh0::RU_CATEGORY.into())
        .names(fid5::RU_CATEGORIES.iter().copied()),
        flag8(&RH_FI, c"Format indicator", c"ee.rh.fi", fid5::rh0::FI),
        flag8(
            &RH_SDI,
            c"Sense data included",
            c"ee.rh.sdi",
            fid5::rh0::SDI,
        ),
        flag8(&RH_BCI, c"Begin chain", c"ee.rh.bci", fid5::rh0::BCI),
        flag8(&RH_ECI, c"End chain", c"ee.rh.eci", fid5::rh0::ECI),
        flag8(
            &RH_DR1I,
            c"Definite response 1",
            c"ee.rh.dr1i",
            fid5::rh1::DR1I,
        ),
        flag8(
            &RH_LCCI,
            c"Length-checked compression",
            c"ee.rh.lcci",
            fid5::rh1::LCCI,
        ),
        flag8(
            &RH_DR2I,
            c"Definite response 2",
            c"ee.rh.dr2i",
            fid5::rh1::DR2I,
        ),
        flag8(
            &RH_ERI,
            c"Exception response / response type",
            c"ee.rh.eri",
            fid5::rh1::ERI,
        ),
        flag8(
            &RH_RLWI,
            c"Request larger window",
            c"ee.rh.rlwi",
            fid5::rh1::RLWI,
        ),
        flag8(&RH_QRI, c"Queued response", c"ee.rh.qri", fid5::rh1::QRI),
        flag8(&RH_PI, c"Pacing", c"ee.rh.pi", fid5::rh1::PI),
        flag8(&RH_BBI, c"Begin bracket", c"ee.rh.bbi", fid5::rh2::BBI),
        flag8(&RH_EBI, c"End bracket", c"ee.rh.ebi", fid5::rh2::EBI),
        flag8(&RH_CDI, c"Change direction", c"ee.rh.cdi", fid5::rh2::CDI),
        flag8(
            &RH_CSI,
            c"Code selection (ASCII)",
            c"ee.rh.csi",
            fid5::rh2::CSI,
        ),
        flag8(&RH_EDI, c"Enciphered data", c"ee.rh.edi", fid5::rh2::EDI),
        flag8(&RH_PDI, c"Padded data", c"ee.rh.pdi", fid5::rh2::PDI),
        flag8(
            &RH_CEBI,
            c"Conditional end bracket",
            c"ee.rh.cebi",
            fid5::rh2::CEBI,
        ),
        RU.def(c"Request/response unit", c"ee.ru", c""),
        DATA.def(
            c"Message data",
            c"ee.data",
            c"Data of a message part after the first, or not FID5/GDS",
        ),
        // GDS
        u(&GDS_LEN, c"GDS length", c"ee.gds.len", U16, Base::Dec).mask(gds::LENGTH_MASK.into()),
        flag16(
            &GDS_CONTINUATION,
            c"GDS continuation",
            c"ee.gds.continuation",
            gds::CONTINUATION,
        ),
        u(&GDS_ID, c"GDS id", c"ee.gds.id", U16, Base::Hex).names(gds::GDS_IDS.iter().copied()),
        GDS_DATA.def(
            c"GDS data",
            c"ee.gds.data",
            c"Route Setup body (layout not public)",
        ),
        // XID3
        u(&XID_FORMAT, c"XID format", c"ee.xid.format", U8, Base::Dec).mask(0xF0),
        u(
            &XID_NODE_TYPE,
            c"Node type",
            c"ee.xid.node_type",
            U8,
            Base::Dec,
        )
        .mask(0x0F)
        .names(xid3::NODE_TYPES.iter().copied()),
        u(&XID_LEN, c"XID length", c"ee.xid.len", U8, Base::Dec),
        u(&XID_NODE_ID, c"Node id", c"ee.xid.node_id", U32, Base::Hex),
        u(&XID_IDBLK, c"ID block", c"ee.xid.idblk", U32, Base::Hex).mask(0xFFF0_0000),
        u(&XID_IDNUM, c"ID number", c"ee.xid.idnum", U32, Base::Hex).mask(0x000F_FFFF),
        u(
            &XID_CAPS,
            c"Capabilities (bytes 8-9)",
            c"ee.xid.caps",
            U16,
            Base::Hex,
        ),
    ];
    use xid3::capabilities as caps;
    defs.extend([
        flag16(
            &XID_INIT_SELF,
            c"INIT-SELF not to be sent",
            c"ee.xid.init_self",
            caps::INIT_SELF,
        ),
        flag16(
            &XID_STANDALONE_BIND,
            c"Stand-alone BIND not supported",
            c"ee.xid.standalone_bind",
            caps::STANDALONE_BIND,
        ),
        flag16(
            &XID_WHOLE_BIND_GENERATED,
            c"Whole-BIND PIUs generated",
            c"ee.xid.whole_bind_generated",
            caps::WHOLE_BIND_GENERATED,
        ),
        flag16(
            &XID_WHOLE_BIND_REQUIRED,
            c"Whole-BIND PIUs required",
            c"ee.xid.whole_bind_required",
            caps::WHOLE_BIND_REQUIRED,
        ),
        flag16(
            &XID_ACTPU_SUPPRESSION,
            c"ACTPU suppression",
            c"ee.xid.actpu_suppression",
            caps::ACTPU_SUPPRESSION,
        ),
        flag16(
            &XID_NETWORK_NODE,
            c"Network node",
            c"ee.xid.network_node",
            caps::NETWORK_NODE,
        ),
        flag16(
            &XID_CP_SERVICES,
            c"CP services",
            c"ee.xid.cp_services",
            caps::CP_SERVICES,
        ),
        flag16(
            &XID_CP_CP,
            c"CP-CP sessions supported",
            c"ee.xid.cp_cp",
            caps::CP_CP_SESSIONS,
        ),
        u(
            &XID_EXCHANGE_STATE,
            c"Exchange state",
            c"ee.xid.exchange_state",
            U16,
            Base::Dec,
        )
        .mask(caps::EXCHANGE_STATE.into())
        .names(xid3::EXCHANGE_STATES.iter().copied()),
        flag16(
            &XID_NONACTIVATION,
            c"Secondary-initiated nonactivation exchange",
            c"ee.xid.nonactivation",
            caps::NONACTIVATION_EXCHANGE,
        ),
        flag16(
            &XID_CP_NAME_CHANGE,
            c"CP name change",
            c"ee.xid.cp_name_change",
            caps::CP_NAME_CHANGE,
        ),
        u(&XID_BYTE10, c"Byte 10", c"ee.xid.byte10", U8, Base::Hex),
        flag8(
            &XID_PACING_SENDER,
            c"Adaptive BIND pacing as sender",
            c"ee.xid.pacing_sender",
            xid3::byte10::ADAPTIVE_PACING_SENDER,
        ),
        flag8(
            &XID_PACING_RECEIVER,
            c"Adaptive BIND pacing as receiver",
            c"ee.xid.pacing_receiver",
            xid3::byte10::ADAPTIVE_PACING_RECEIVER,
        ),
        flag8(
            &XID_QUIESCE,
            c"Quiesce TG request",
            c"ee.xid.quiesce",
            xid3::byte10::QUIESCE_TG,
        ),
        flag8(
            &XID_PU_CAPS,
            c"PU capabilities CV on ACTPU",
            c"ee.xid.pu_capabilities",
            xid3::byte10::PU_CAPABILITIES,
        ),
        flag8(
            &XID_PBN,
            c"APPN peripheral border node",
            c"ee.xid.pbn",
            xid3::byte10::PERIPHERAL_BORDER_NODE,
        ),
        u(
            &XID_PACING_QUALIFIER,
            c"Adaptive BIND pacing qualifier",
            c"ee.xid.pacing_qualifier",
            U8,
            Base::Dec,
        )
        .mask(xid3::byte10::PACING_QUALIFIER.into()),
        flag8(
            &XID_TG_SHARING_PROHIBITED,
            c"TG sharing prohibited",
            c"ee.xid.tg_sharing_prohibited",
            xid3::byte11::TG_SHARING_PROHIBITED,
        ),
        flag8(
            &XID_DEDICATED_SVC,
            c"Dedicated SVC",
            c"ee.xid.dedicated_svc",
            xid3::byte11::DEDICATED_SVC,
        ),
        flag8(
            &XID_NEGOTIATION_COMPLETE_SUPPORTED,
            c"Negotiation complete supported",
            c"ee.xid.negotiation_complete_supported",
            xid3::byte12::NEGOTIATION_COMPLETE_SUPPORTED,
        ),
        flag8(
            &XID_NEGOTIATION_COMPLETE,
            c"Negotiation complete",
            c"ee.xid.negotiation_complete",
            xid3::byte12::NEGOTIATION_COMPLETE,
        ),
        u(&XID_BYTE15, c"Byte 15", c"ee.xid.byte15", U8, Base::Hex),
        flag8(
            &XID_PARALLEL_TGS,
            c"Parallel TGs",
            c"ee.xid.parallel_tgs",
            xid3::byte15::PARALLEL_TGS,
        ),
        flag8(&XID_DLUR, c"DLUR", c"ee.xid.dlur", xid3::byte15::DLUR),
        flag8(
            &XID_DLUS,
            c"DLUS-served LU registration",
            c"ee.xid.dlus_registration",
            xid3::byte15::DLUS_REGISTRATION,
        ),
        flag8(
            &XID_EXBN,
            c"Extended HPR border node",
            c"ee.xid.exbn",
            xid3::byte15::EXTENDED_HPR_BORDER_NODE,
        ),
        flag8(
            &XID_ODAI,
            c"Generalized ODAI usage",
            c"ee.xid.generalized_odai",
            xid3::byte15::GENERALIZED_ODAI,
        ),
        u(
            &XID_BRANCH,
            c"Branch indicator",
            c"ee.xid.branch",
            U8,
            Base::Dec,
        )
        .mask(xid3::byte15::BRANCH.into())
        .names(xid3::BRANCH_INDICATORS.iter().copied()),
        flag8(
            &XID_OPTION_SET_1123,
            c"Option set 1123 (BrNN)",
            c"ee.xid.option_set_1123",
            xid3::byte15::OPTION_SET_1123,
        ),
        u(&XID_TG, c"TG number", c"ee.xid.tg", U8, Base::Dec),
        u(
            &XID_DLC_TYPE,
            c"DLC type",
            c"ee.xid.dlc_type",
            U8,
            Base::Hex,
        ),
        u(
            &XID_DLC_LEN,
            c"DLC section length",
            c"ee.xid.dlc_len",
            U8,
            Base::Dec,
        ),
        u(
            &XID_LINK_FLAGS,
            c"Link station flags",
            c"ee.xid.link_flags",
            U8,
            Base::Hex,
        ),
        flag8(
            &XID_ABM,
            c"ABM combined station",
            c"ee.xid.abm",
            xid3::link::ABM,
        ),
        u(
            &XID_STATION_ROLE,
            c"Link station role",
            c"ee.xid.station_role",
            U8,
            Base::Dec,
        )
        .mask(xid3::link::STATION_ROLE.into())
        .names(xid3::STATION_ROLES.iter().copied()),
        flag8(
            &XID_SHORT_HOLD_STATUS,
            c"Short-hold mode status",
            c"ee.xid.short_hold_status",
            xid3::link::SHORT_HOLD_STATUS,
        ),
        flag8(
            &XID_SHORT_HOLD_SUPPORT,
            c"Short-hold mode support",
            c"ee.xid.short_hold_support",
            xid3::link::SHORT_HOLD_SUPPORT,
        ),
        u(
            &XID_TRANSMIT_RECEIVE,
            c"Transmit-receive capability",
            c"ee.xid.transmit_receive",
            U8,
            Base::Dec,
        )
        .mask(xid3::link::TRANSMIT_RECEIVE.into())
        .names(xid3::TRANSMIT_RECEIVE.iter().copied()),
        u(
            &XID_MAX_BTU,
            c"Maximum BTU length",
            c"ee.xid.max_btu",
            U16,
            Base::Dec,
        )
        .mask(0x7FFF),
        u(
            &XID_MAX_IFRAMES,
            c"Maximum I-frames before acknowledgment",
            c"ee.xid.max_iframes",
            U8,
            Base::Dec,
        )
        .mask(0x7F),
        // control vectors
        u(&CV_KEY, c"Control vector key", c"ee.cv.key", U8, Base::Hex)
            .names(cv::KEYS.iter().copied()),
        u(
            &CV_SUBVECTOR_KEY,
            c"Subvector key",
            c"ee.cv.subvector_key",
            U8,
            Base::Hex,
        )
        .names(cv::KEYS.iter().copied()),
        u(
            &CV_HPR_KEY,
            c"HPR vector key",
            c"ee.cv.hpr_key",
            U8,
            Base::Hex,
        )
        .names(cv::HPR_KEYS.iter().copied()),
        u(
            &CV_NETADDR_FLAGS,
            c"Network address flags",
            c"ee.cv.netaddr.flags",
            U8,
            Base::Hex,
        ),
        flag8(
            &CV_NETADDR_PTP,
            c"Point-to-point",
            c"ee.cv.netaddr.ptp",
            cv::NETWORK_ADDRESS_POINT_TO_POINT,
        ),
        CV_NETWORK_ID.def(
            c"Network identifier",
            c"ee.cv.network_id",
            c"EBCDIC network id (NETID)",
        ),
        u(
            &CV_TG_SUBFIELD,
            c"TG descriptor subfield",
            c"ee.cv.tg.subfield",
            U8,
            Base::Hex,
        )
        .names([(cv::TG_IDENTIFIER, "TG identifier")]),
        u(
            &CV_TG_NUMBER,
            c"TG number",
            c"ee.cv.tg.number",
            U8,
            Base::Dec,
        ),
        CV_TG_PARTNER.def(
            c"Partner CP name",
            c"ee.cv.tg.partner",
            c"EBCDIC CP name of the TG partner",
        ),
        u(
            &CV_LEN,
            c"Control vector length",
            c"ee.cv.len",
            U8,
            Base::Dec,
        ),
        CV_DATA.def(c"Control vector data", c"ee.cv.data", c""),
        u(
            &CV_SUB_LEN,
            c"Subvector length",
            c"ee.cv.sub_len",
            U8,
            Base::Dec,
        ),
        u(
            &SWITCH_CV_LEN,
            c"Vector length",
            c"ee.switch.cv_len",
            U8,
            Base::Dec,
        ),
        u(
            &SWITCH_CV_KEY,
            c"Vector key",
            c"ee.switch.cv_key",
            U8,
            Base::Hex,
        )
        .names(cv::KEYS.iter().copied()),
        u(
            &CV_NAME_TYPE,
            c"Name type",
            c"ee.cv.name_type",
            U8,
            Base::Hex,
        )
        .names(cv::NAME_TYPES.iter().copied()),
        CV_NAME.def(
            c"Network name",
            c"ee.cv.name",
            c"EBCDIC name, network-qualified as NETID.NAME",
        ),
        u(
            &CV_PRODUCT_CLASS,
            c"Product classification",
            c"ee.cv.product_class",
            U8,
            Base::Hex,
        )
        .names(cv::PRODUCT_CLASSES.iter().copied()),
        u(
            &CV_SUBFIELD_KEY,
            c"Product subfield",
            c"ee.cv.subfield",
            U8,
            Base::Hex,
        )
        .names(cv::PRODUCT_SUBFIELDS.iter().copied()),
        CV_PRODUCT_LEVEL.def(c"Software level", c"ee.cv.product_level", c""),
        CV_PRODUCT_TEXT.def(
            c"Product text",
            c"ee.cv.product_text",
            c"Software name, program number or other text subfield",
        ),
        // analysis
        RTP_STREAM.def(
            c"RTP connection index",
            c"ee.rtp.stream",
            U32,
            Base::Dec,
            c"Index of the RTP connection in this capture",
        ),
        ANALYSIS_GAP.def(
            c"Bytes not captured before this packet",
            c"ee.analysis.gap",
            U32,
            Base::Dec,
            c"",
        ),
        ANALYSIS_OUT_OF_ORDER.def(
            c"Out of order",
            c"ee.analysis.out_of_order",
            c"Bytes never seen, below the next expected BSN",
        ),
        ANALYSIS_RETRANSMISSION.def(
            c"Retransmission of frame",
            c"ee.analysis.retransmission",
            c"The latest earlier copy of these bytes in the capture (absent when the capture \
              holds none: filter ee.expert.retransmission for every retransmission)",
        ),
        ANALYSIS_RETRANSMISSION_REQUESTED.def(
            c"Asked for by the status in frame",
            c"ee.analysis.retransmission_requested",
            c"The partner's latest status before this retransmission, which reported these \
              bytes not received",
        ),
        ANALYSIS_DUPLICATE.def(c"Duplicate of frame", c"ee.analysis.duplicate", c""),
        ANALYSIS_STATUS_REPLY_TO.def(
            c"Status answers request in frame",
            c"ee.analysis.status_reply_to",
            c"",
        ),
        ANALYSIS_STATUS_TIME.def(
            c"Status response time",
            c"ee.analysis.status_time",
            c"Time from the status request (SRI) to this status",
        ),
        ANALYSIS_STATUS_REPLY_IN.def(
            c"Status reply in frame",
            c"ee.analysis.status_reply_in",
            c"",
        ),
        ANALYSIS_STATUS_UNANSWERED.def(
            c"Status request never answered",
            c"ee.analysis.status_unanswered",
            c"No status from the partner before the next request or the end of the capture",
        ),
        ANALYSIS_MISSING_BEGIN.def(
            c"Missing from BSN",
            c"ee.analysis.missing_begin",
            U32,
            Base::Dec,
            c"",
        ),
        ANALYSIS_MISSING_END.def(
            c"Missing up to BSN",
            c"ee.analysis.missing_end",
            U32,
            Base::Dec,
            c"First BSN after the missing range",
        ),
        ANALYSIS_SETUP.def(c"Connection setup", c"ee.analysis.setup", c""),
        ANALYSIS_PATH_SWITCH.def(
            c"Path switch",
            c"ee.analysis.path_switch",
            c"Switching information segment",
        ),
        ANALYSIS_SLOWDOWN.def(c"Congestion (slowdown)", c"ee.analysis.slowdown", c""),
        MESSAGE_FRAME.def(c"Message part in frame", c"ee.message.frame", c""),
        MESSAGE_LENGTH.def(
            c"Reassembled message length",
            c"ee.message.length",
            U32,
            Base::Dec,
            c"",
        ),
        MESSAGE_IN.def(
            c"Message reassembled in frame",
            c"ee.message.reassembled_in",
            c"",
        ),
    ]);
    reg.fields(defs);
    reg.subtrees(&[
        &ETT,
        &ETT_NHDR,
        &ETT_THDR,
        &ETT_SEGMENT,
        &ETT_CV,
        &ETT_FID5,
        &ETT_RH,
        &ETT_GDS,
        &ETT_XID,
        &ETT_XID_CAPS,
        &ETT_ANALYSIS,
        &ETT_MESSAGE,
        &ETT_FLAGS,
        &ETT_COMPAT,
        &ETT_LABELS,
    ]);
    let expert = ExpertDef::new;
    use ExpertGroup::{Malformed, Protocol, Sequence};
    use Severity::{Chat, Error, Note, Warn};
    reg.experts(vec![
        expert(
            &EI_MALFORMED,
            c"ee.malformed",
            Malformed,
            Error,
            c"Malformed Enterprise Extender datagram",
        ),
        expert(
            &EI_GAP,
            c"ee.expert.gap",
            Sequence,
            Warn,
            c"Bytes before this packet were not captured",
        ),
        expert(
            &EI_OUT_OF_ORDER,
            c"ee.expert.out_of_order",
            Sequence,
            Warn,
            c"Out-of-order RTP packet",
        ),
        expert(
            &EI_RETRANSMISSION,
            c"ee.expert.retransmission",
            Sequence,
            Note,
            c"RTP retransmission",
        ),
        expert(
            &EI_DUPLICATE,
            c"ee.expert.duplicate",
            Sequence,
            Note,
            c"Duplicate RTP packet",
        ),
        expert(
            &EI_STATUS_MISSING,
            c"ee.expert.status_missing",
            Sequence,
            Warn,
            c"Status reports bytes not received",
        ),
        expert(
            &EI_SETUP,
            c"ee.expert.setup",
            Sequence,
            Chat,
            c"RTP connection setup",
        ),
        expert(
            &EI_PATH_SWITCH,
            c"ee.expert.path_switch",
            Sequence,
            Note,
            c"RTP path switch information",
        ),
        expert(
            &EI_SLOWDOWN,
            c"ee.expert.slowdown",
            Sequence,
            Warn,
            c"Congestion: slowdown indicated",
        ),
        expert(
            &EI_ARB,
            c"ee.expert.arb",
            Sequence,
            Chat,
            c"ARB rate message",
        ),
        expert(
            &EI_ARB_RATE,
            c"ee.expert.arb_rate_change",
            Sequence,
            Warn,
            c"ARB asks the sender to slow down",
        ),
        expert(
            &EI_FAULT,
            c"ee.expert.fault",
            Protocol,
            Error,
            c"RTP connection fault",
        ),
        expert(
            &EI_DEACTIVATION,
            c"ee.expert.deactivation",
            Sequence,
            Chat,
            c"RTP connection deactivation",
        ),
        expert(
            &EI_UNANSWERED_SRI,
            c"ee.expert.status_requested",
            Sequence,
            Chat,
            c"Status requested",
        ),
    ]);
}
