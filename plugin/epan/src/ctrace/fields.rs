//! Every `ctrace.*` field, subtree and expert info.  Value names and bit
//! masks come from the `ctrace` crate's tables (`ctrace::layout` for the
//! flag bits), positions from its layout table when the tree is built.

use ctrace::layout::pthdr as layout;
use ctrace::{cte, pthdr};
use wireshark_ffi::register::{
    Base, BoolField, BytesField, ExpertDef, ExpertField, ExpertGroup, FieldDef, Ipv4Field,
    Ipv6Field, Registration, Severity, StringField, Subtree, TimeField, UintField, UintWidth,
};

use wireshark_ffi::statics;

statics!(Subtree: ETT, ETT_CTE, ETT_PTHDR, ETT_FLAGS, ETT_SEGMENTS, ETT_UNKNOWN);
statics!(UintField: CTE_LEN, CTE_OFFSET, FORMAT_ID, FMTID, CTE_TRAILING_LEN,
    PTH_LEN, SEQ, FLAGS, DEVTYPE, DT_DOMAIN, DT_TYPE, DT_PROTOCOL, DT_STATE,
    SRCPORT, DSTPORT, PLEN, S3_RECORD_NUMBER, PROTOCOL, VLAN, SEGMENT_OFFSET, TLEN, IFINDEX,
    DROP_REASON, SEGMENTS, SEGMENT_SEQ);
statics!(BoolField: FLAG_LOCAL, FLAG_CF_TXT, FLAG_CLEAR_TXT, FLAG_OUT, ABBREVIATED, LOST);
statics!(StringField: INTERFACE, JOB, DIRECTION);
statics!(TimeField: CTE_TIME, TIME);
statics!(Ipv4Field: SRC, DST);
statics!(Ipv6Field: SRC6, DST6);
statics!(BytesField: WRITER_HEADER, UNKNOWN, PTH_REST);
statics!(ExpertField: EI_MALFORMED, EI_LOST, EI_ABBREVIATED, EI_INCOMPLETE, EI_SKIPPED,
    EI_LENGTHS, EI_DISCARDED);

pub fn register(reg: &Registration) {
    use UintWidth::{U16, U32, U8};
    let u = |f: &'static UintField, name, abbrev, w, b, blurb| f.def(name, abbrev, w, b, blurb);
    let flag = |f: &'static BoolField, name, abbrev, mask: u8, blurb| {
        f.flag(name, abbrev, U8, mask.into(), blurb)
    };
    reg.fields(
        vec![
            // CTE
            u(
                &CTE_LEN,
                c"Entry length (CTELENP)",
                c"ctrace.cte.len",
                U16,
                Base::Dec,
                c"",
            ),
            u(
                &CTE_OFFSET,
                c"Data offset (CTEOFF)",
                c"ctrace.cte.offset",
                U16,
                Base::Dec,
                c"",
            ),
            u(
                &FORMAT_ID,
                c"Format id (CTEFMTID)",
                c"ctrace.format_id",
                U32,
                Base::Hex,
                c"",
            ),
            u(
                &FMTID,
                c"Record kind",
                c"ctrace.fmtid",
                U8,
                Base::Dec,
                c"Low byte of CTEFMTID",
            )
            .names(cte::FORMAT_IDS.iter().copied()),
            CTE_TIME.def(
                c"Entry time (CTETIME)",
                c"ctrace.cte.time",
                c"TOD clock when the entry was moved into the trace buffer, as UTC",
            ),
            u(
                &CTE_TRAILING_LEN,
                c"Trailing length (CTELENE)",
                c"ctrace.cte.trailing_len",
                U16,
                Base::Dec,
                c"",
            ),
            WRITER_HEADER.def(
                c"Bytes before the entry",
                c"ctrace.writer_header",
                c"Bytes of the trace record that are no entry: the writer's record header \
                  (its layout is not public), or damage",
            ),
            LOST.def(
                c"Lost records",
                c"ctrace.lost",
                c"Marker entry: trace records were lost here",
            ),
            // PTHDR
            u(
                &PTH_LEN,
                c"Header length (PTH_Len)",
                c"ctrace.pth.len",
                U16,
                Base::Dec,
                c"",
            ),
            u(
                &SEQ,
                c"Sequence number (PTH_SeqNum)",
                c"ctrace.seq",
                U8,
                Base::Dec,
                c"Numbers the CTEs of a segmented packet",
            ),
            u(
                &FLAGS,
                c"Flags (PTH_Flag)",
                c"ctrace.flags",
                U8,
                Base::Hex,
                c"",
            ),
            flag(
                &FLAG_LOCAL,
                c"Local (both ends on this stack)",
                c"ctrace.flags.local",
                layout::LOCAL.mask,
                c"",
            ),
            flag(
                &FLAG_CF_TXT,
                c"Confidential data not traced (AT-TLS)",
                c"ctrace.flags.cf_txt",
                layout::CF_TXT.mask,
                c"",
            ),
            flag(
                &FLAG_CLEAR_TXT,
                c"Cleartext of protected data (AT-TLS)",
                c"ctrace.flags.clear_txt",
                layout::CLEAR_TXT.mask,
                c"",
            ),
            flag(
                &FLAG_OUT,
                c"Outbound",
                c"ctrace.flags.out",
                layout::OUT.mask,
                c"",
            ),
            DIRECTION.def(
                c"Direction",
                c"ctrace.direction",
                c"To (outbound) or From (inbound) the interface, as IPCS prints it",
            ),
            u(
                &DEVTYPE,
                c"Device type (PTH_DevTy)",
                c"ctrace.devtype",
                U8,
                Base::Dec,
                c"",
            )
            .names(pthdr::DEVICE_TYPES.iter().copied()),
            INTERFACE.def(
                c"Interface (PTH_Name)",
                c"ctrace.interface",
                c"Link or interface name (EBCDIC)",
            ),
            JOB.def(
                c"Job name",
                c"ctrace.job",
                c"Data trace: job that owns the socket (EBCDIC)",
            ),
            u(
                &DT_DOMAIN,
                c"Socket domain",
                c"ctrace.dt.domain",
                U8,
                Base::Dec,
                c"",
            ),
            u(
                &DT_TYPE,
                c"Socket type",
                c"ctrace.dt.type",
                U8,
                Base::Dec,
                c"",
            ),
            u(
                &DT_PROTOCOL,
                c"Socket protocol",
                c"ctrace.dt.protocol",
                U8,
                Base::Dec,
                c"",
            ),
            u(
                &DT_STATE,
                c"Socket state",
                c"ctrace.dt.state",
                U8,
                Base::Dec,
                c"",
            ),
            TIME.def(
                c"Packet time (PTH_Time)",
                c"ctrace.time",
                c"TOD clock of the packet, as UTC (minus the TOD-UTC preference)",
            ),
            SRC.def(c"Source address", c"ctrace.src", c""),
            DST.def(c"Destination address", c"ctrace.dst", c""),
            SRC6.def(c"Source address (IPv6)", c"ctrace.src6", c""),
            DST6.def(c"Destination address (IPv6)", c"ctrace.dst6", c""),
            u(
                &SRCPORT,
                c"Source port",
                c"ctrace.srcport",
                U16,
                Base::Dec,
                c"",
            ),
            u(
                &DSTPORT,
                c"Destination port",
                c"ctrace.dstport",
                U16,
                Base::Dec,
                c"",
            ),
            UNKNOWN.def(
                c"Unknown bytes 68-81",
                c"ctrace.unknown",
                c"Header bytes no source that knows IBM's header names; what 2cUTC's \
                  reader calls them is shown under them, unverified",
            ),
            u(
                &S3_RECORD_NUMBER,
                c"2cUTC calls this: record number (unverified)",
                c"ctrace.s3.record_number",
                U32,
                Base::Dec,
                c"Bytes 68-71 as AnSyNova's 2cUTC SYSTCPDA dissector reads them; not verified",
            ),
            u(
                &PROTOCOL,
                c"2cUTC calls this: protocol (unverified)",
                c"ctrace.protocol",
                U8,
                Base::Dec,
                c"Byte 73 as AnSyNova's 2cUTC SYSTCPDA dissector reads it; not verified",
            ),
            u(
                &VLAN,
                c"2cUTC calls this: VLAN id (unverified)",
                c"ctrace.vlan",
                U16,
                Base::Dec,
                c"Bytes 74-75 as AnSyNova's 2cUTC SYSTCPDA dissector reads them; not verified",
            ),
            PTH_REST.def(
                c"Header bytes after PTH_OffSegLen",
                c"ctrace.pth.rest",
                c"Bytes of a header longer than the 92 of sizeof(pthdr_t) (a later z/OS \
                  release's fields); named by no source",
            ),
            u(
                &PLEN,
                c"Packet length (PTH_Plen)",
                c"ctrace.plen",
                U32,
                Base::Dec,
                c"Length of the packet (or socket data) before tracing cut it",
            ),
            u(
                &TLEN,
                c"Traced length (PTH_Tlen)",
                c"ctrace.tlen",
                U32,
                Base::Dec,
                c"Bytes of the packet that were traced (a segmented packet: all records)",
            ),
            u(
                &IFINDEX,
                c"Interface index (PTH_InfIx)",
                c"ctrace.ifindex",
                U32,
                Base::Dec,
                c"",
            ),
            u(
                &DROP_REASON,
                c"Drop reason (PTH_DropRsn)",
                c"ctrace.drop_reason",
                U16,
                Base::Hex,
                c"Why the packet was discarded (0: not discarded): 1-4095 OSA-Express, \
                  4096-8191 interface/IP, 8192-12287 TCP, 12288-16383 UDP, 16384-20479 RAW \
                  (IBM TCP/IP discard reason codes); only in headers of 92 bytes or more",
            ),
            u(
                &SEGMENT_OFFSET,
                c"PTH_OffSegLen",
                c"ctrace.segment_offset",
                U16,
                Base::Dec,
                c"Named by IBM's header; its meaning is not published (not used to join \
                  segments)",
            ),
            ABBREVIATED.def(
                c"Abbreviated",
                c"ctrace.abbreviated",
                c"Only part of the packet was traced (Abbrev rather than Full)",
            ),
            u(
                &SEGMENTS,
                c"Entries of this packet",
                c"ctrace.segments",
                U32,
                Base::Dec,
                c"CTEs the packet was split over",
            ),
            u(
                &SEGMENT_SEQ,
                c"Segment sequence number",
                c"ctrace.segment.seq",
                U8,
                Base::Dec,
                c"",
            ),
        ]
        .into_iter()
        .collect::<Vec<FieldDef>>(),
    );
    reg.subtrees(&[
        &ETT,
        &ETT_CTE,
        &ETT_PTHDR,
        &ETT_FLAGS,
        &ETT_SEGMENTS,
        &ETT_UNKNOWN,
    ]);
    let expert = ExpertDef::new;
    reg.experts(vec![
        expert(
            &EI_MALFORMED,
            c"ctrace.malformed",
            ExpertGroup::Malformed,
            Severity::Error,
            c"Malformed CTRACE record",
        ),
        expert(
            &EI_LOST,
            c"ctrace.expert.lost",
            ExpertGroup::Sequence,
            Severity::Warn,
            c"Trace records were lost",
        ),
        expert(
            &EI_ABBREVIATED,
            c"ctrace.expert.abbreviated",
            ExpertGroup::Protocol,
            Severity::Chat,
            c"Packet traced in part (abbreviated)",
        ),
        expert(
            &EI_INCOMPLETE,
            c"ctrace.expert.incomplete",
            ExpertGroup::Sequence,
            Severity::Warn,
            c"Segmented packet with entries missing",
        ),
        expert(
            &EI_SKIPPED,
            c"ctrace.expert.skipped",
            ExpertGroup::Protocol,
            Severity::Note,
            c"Bytes that are no trace entry (a writer record header, or unknown data)",
        ),
        expert(
            &EI_DISCARDED,
            c"ctrace.expert.discarded",
            ExpertGroup::Sequence,
            Severity::Warn,
            c"Packet discarded by z/OS (PTH_DropRsn)",
        ),
        expert(
            &EI_LENGTHS,
            c"ctrace.expert.lengths",
            ExpertGroup::Protocol,
            Severity::Warn,
            c"Lengths of the record contradict each other",
        ),
    ]);
}
