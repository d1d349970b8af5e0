//! The fields and expert infos of the diagnosis (what an EE operator looks
//! for beyond the decode): how a connection's directions were linked,
//! resend counts and stalls (IST2245I), LDLC probe pairing (EEVERIFY),
//! sense codes with their meaning, protocol violations IBM enforces, and
//! IP type of service and transmission priority against the port's role.

use ee::analysis::Evidence;
use ee::nhdr;
use wireshark_ffi::register::{
    Base, BoolField, DurationField, ExpertDef, ExpertField, ExpertGroup, FrameNumField,
    Registration, Severity, StringField, UintField, UintWidth,
};
use wireshark_ffi::statics;

statics!(UintField: CV_NEG_BYTE, CV_NEG_BIT, CV_NEG_SENSE, RU_SENSE, VIOLATION_SENSE,
    ANALYSIS_PAIRING, ANALYSIS_RESEND_COUNT, ANALYSIS_STALL_RESENDS, IP_TOS, IP_TOS_EXPECTED,
    PORT_BASE, TPF_EXPECTED);
statics!(StringField: SENSE_TEXT);
statics!(BoolField: ANALYSIS_STALL, LDLC_UNANSWERED);
statics!(DurationField: ANALYSIS_STALL_TIME, LDLC_RTT);
statics!(FrameNumField: ANALYSIS_PAIRING_FRAME, ANALYSIS_STALL_FIRST, ANALYSIS_STALL_RELIEVED,
    LDLC_RESPONSE_IN, LDLC_RESPONSE_TO, LDLC_RETRY_OF, LDLC_ANSWERED_ON_RETRY);
statics!(ExpertField: EI_PAIRING, EI_STALL, EI_STALL_RELIEVED, EI_LDLC_RTT, EI_LDLC_UNANSWERED,
    EI_LDLC_RETRY, EI_LDLC_LOST, EI_VIOLATION, EI_NEGATIVE_RESPONSE, EI_XID_NEGOTIATION, EI_TOS, EI_PRIORITY,
    EI_SENSE);

pub fn register(reg: &Registration) {
    use UintWidth::{U16, U32, U8};
    let sense =
        |f: &'static UintField, name, abbrev, blurb| f.def(name, abbrev, U32, Base::Hex, blurb);
    reg.fields(vec![
        CV_NEG_BYTE.def(
            c"Byte offset of the field in error",
            c"ee.cv.neg_error.byte",
            U16,
            Base::Dec,
            c"CV X'22' XID negotiation error: where in the XID the rejected field is",
        ),
        CV_NEG_BIT.def(
            c"Bit offset of the field in error",
            c"ee.cv.neg_error.bit",
            U8,
            Base::Dec,
            c"",
        ),
        sense(
            &CV_NEG_SENSE,
            c"Sense data",
            c"ee.cv.neg_error.sense",
            c"Why the XID was rejected",
        ),
        sense(
            &RU_SENSE,
            c"Sense data",
            c"ee.ru.sense",
            c"The sense code a negative response carries at the start of its RU",
        ),
        SENSE_TEXT.def(
            c"Meaning",
            c"ee.sense.text",
            c"What the sense code means (IBM's and the APPC sense code lists)",
        ),
        sense(
            &VIOLATION_SENSE,
            c"Protocol violation (sense)",
            c"ee.violation.sense",
            c"The sense code IBM's RTP fails the connection with for this packet",
        ),
        ANALYSIS_PAIRING
            .def(
                c"Directions linked by",
                c"ee.analysis.pairing",
                U8,
                Base::Dec,
                c"What made the two directions one RTP connection",
            )
            .names(Evidence::NAMES.iter().copied()),
        ANALYSIS_PAIRING_FRAME.def(
            c"Directions linked in frame",
            c"ee.analysis.pairing_frame",
            c"",
        ),
        ANALYSIS_RESEND_COUNT.def(
            c"Resends of these bytes",
            c"ee.analysis.resend_count",
            U32,
            Base::Dec,
            c"How many times the bytes at this BSN have been retransmitted, this one included",
        ),
        ANALYSIS_STALL.def(
            c"Transmission stall",
            c"ee.analysis.stall",
            c"The same bytes resent again and again without being acknowledged (IBM IST2245I)",
        ),
        ANALYSIS_STALL_RESENDS.def(
            c"Stall: resends",
            c"ee.analysis.stall_resends",
            U32,
            Base::Dec,
            c"",
        ),
        ANALYSIS_STALL_TIME.def(
            c"Stall: time since the first resend",
            c"ee.analysis.stall_time",
            c"",
        ),
        ANALYSIS_STALL_FIRST.def(
            c"Stall: first resend in frame",
            c"ee.analysis.stall_first",
            c"",
        ),
        ANALYSIS_STALL_RELIEVED.def(
            c"Acknowledges the bytes of the stall flagged in frame",
            c"ee.analysis.stall_relieved",
            c"",
        ),
        LDLC_RESPONSE_IN.def(
            c"Response in frame",
            c"ee.ldlc.response_in",
            c"The TEST or XID response to this command",
        ),
        LDLC_RESPONSE_TO.def(
            c"Response to the command in frame",
            c"ee.ldlc.response_to",
            c"",
        ),
        LDLC_RTT.def(
            c"Round-trip time",
            c"ee.ldlc.rtt",
            c"From the command to this response",
        ),
        LDLC_UNANSWERED.def(
            c"No response",
            c"ee.ldlc.unanswered",
            c"No response to this command before the next command of the kind or the end of \
              the capture (ee.ldlc.answered_on_retry says when a retry of it was answered)",
        ),
        LDLC_ANSWERED_ON_RETRY.def(
            c"A retry of it answered in frame",
            c"ee.ldlc.answered_on_retry",
            c"This command got no response, a later retry did: the probe succeeded (IBM \
              IST2025I counts such retransmitted LDLC signals)",
        ),
        LDLC_RETRY_OF.def(
            c"Retry of the unanswered command in frame",
            c"ee.ldlc.retry_of",
            c"",
        ),
        IP_TOS.def(
            c"IP type of service",
            c"ee.ip.tos",
            U8,
            Base::Hex,
            c"The TOS / traffic class byte of the IP header this datagram came in",
        ),
        IP_TOS_EXPECTED.def(
            c"Type of service for this port",
            c"ee.ip.tos_expected",
            U8,
            Base::Hex,
            c"The ee.iptos preference (IBM's IPTOS default C0 C0 80 40 20) for the port's role",
        ),
        PORT_BASE.def(
            c"Base port",
            c"ee.port_base",
            U16,
            Base::Dec,
            c"First port of the ee.udp.port range holding this port (the signalling port)",
        ),
        TPF_EXPECTED
            .def(
                c"Priority of this port",
                c"ee.nhdr.tpf_expected",
                U8,
                Base::Dec,
                c"The transmission priority the port's role carries",
            )
            .names(nhdr::TRANSMISSION_PRIORITIES.iter().copied()),
    ]);
    let expert = ExpertDef::new;
    use ExpertGroup::{Protocol, Sequence};
    use Severity::{Chat, Error, Note, Warn};
    reg.experts(vec![
        expert(
            &EI_PAIRING,
            c"ee.expert.pairing",
            Sequence,
            Chat,
            c"The two directions of an RTP connection linked",
        ),
        expert(
            &EI_STALL,
            c"ee.expert.stall",
            Sequence,
            Warn,
            c"RTP transmission stall (IST2245I)",
        ),
        expert(
            &EI_STALL_RELIEVED,
            c"ee.expert.stall_relieved",
            Sequence,
            Note,
            c"RTP transmission stall relieved (IST2247I)",
        ),
        expert(
            &EI_LDLC_RTT,
            c"ee.expert.ldlc_response",
            Sequence,
            Chat,
            c"LDLC response",
        ),
        expert(
            &EI_LDLC_UNANSWERED,
            c"ee.expert.ldlc_unanswered",
            Sequence,
            Warn,
            c"LDLC command never answered",
        ),
        expert(
            &EI_LDLC_RETRY,
            c"ee.expert.ldlc_retry",
            Sequence,
            Note,
            c"LDLC command retried",
        ),
        expert(
            &EI_LDLC_LOST,
            c"ee.expert.ldlc_lost",
            Sequence,
            Note,
            c"LDLC command lost, a retry of it answered",
        ),
        expert(
            &EI_VIOLATION,
            c"ee.expert.violation",
            Protocol,
            Error,
            c"RTP protocol violation",
        ),
        expert(
            &EI_NEGATIVE_RESPONSE,
            c"ee.expert.negative_response",
            Protocol,
            Warn,
            c"Negative response",
        ),
        expert(
            &EI_XID_NEGOTIATION,
            c"ee.expert.xid_negotiation_error",
            Protocol,
            Error,
            c"XID negotiation error",
        ),
        expert(
            &EI_TOS,
            c"ee.expert.tos",
            Protocol,
            Note,
            c"IP type of service differs from the port's",
        ),
        expert(
            &EI_PRIORITY,
            c"ee.expert.priority",
            Protocol,
            Warn,
            c"Transmission priority differs from the port's",
        ),
        expert(&EI_SENSE, c"ee.expert.sense", Protocol, Note, c"Sense code"),
    ]);
}
