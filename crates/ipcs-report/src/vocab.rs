//! The one table of the report's vocabulary: every label the reader
//! understands, where it occurs, what it means, which `ctrace.*` field of
//! the binary trace it corresponds to (if it means the same thing), and
//! where the fact comes from.  The parser, the renderer and
//! docs/ipcs-report.md all use this table.

/// Which part of a record a label belongs to.  The same word can mean
/// different things in different parts ("Flags" of the trace header and of
/// the TCP header; "Protocol" of a data trace socket and of an IP header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The trace record header (PTHDR_T), from the record line to
    /// "IpHeader:".
    Header,
    /// The formatted IP header.
    Ip,
    /// The formatted protocol header and data: recognised only so that
    /// their labels are not taken for header fields.
    Protocol,
}

/// What a label's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    FromInterface,
    ToInterface,
    FromLink,
    ToLink,
    FromJob,
    ToJob,
    Device,
    Full,
    Abbrev,
    TodClock,
    Intfx,
    SequenceNumber,
    SegmentNumber,
    Flags,
    LostRecords,
    SourcePort,
    DestPort,
    Asid,
    Tcb,
    Cid,
    Domain,
    SocketType,
    Proto,
    State,
    JobName,
    Module,
    Correlator,
    Policy,
    IpHeader,
    Version,
    HeaderLength,
    Tos,
    Qos,
    PacketLength,
    IdNumber,
    Fragment,
    Offset,
    Ttl,
    CheckSum,
    Source,
    Destination,
    DestinationPort,
    SeqNumber,
    AckNumber,
    WindowSize,
    UrgentPointer,
    TcpOption,
    DatagramLength,
    TypeCode,
}

/// Where a fact about the report comes from.
pub mod source {
    /// IBM z/OS Communications Server IP Diagnosis Guide, "FORMAT" report
    /// of SYSTCPDA (hald001/rptformat.htm).
    pub const IBM_FORMAT: &str = "IBM IP Diagnosis Guide, SYSTCPDA FORMAT report example";
    /// Same guide, "DUMP" report example (hald001/dump.htm; a SYSTCPIS
    /// trace through the same formatter).
    pub const IBM_DUMP: &str = "IBM IP Diagnosis Guide, DUMP report example";
    /// Same guide, "Using IP packet trace" (hald001/snaip.htm).
    pub const IBM_SNAIP: &str =
        "IBM IP Diagnosis Guide, CTRACE formatted packet trace record (Using IP packet trace)";
    /// Same guide, "Formatting data traces using IPCS" (hald001/ipcsdatat.htm).
    pub const IBM_DATA: &str = "IBM IP Diagnosis Guide, data trace FORMAT example";
    /// Same guide, "SUMMARY" report (hald001/rptsummary.htm).
    pub const IBM_SUMMARY: &str = "IBM IP Diagnosis Guide, SYSTCPDA SUMMARY report example";
    /// SHARE Boston 2010, "Diagnosing with packet trace" (Applied Expert
    /// Systems), "Sample IPCS Output": a real FULL record.
    pub const SHARE2010: &str =
        "SHARE 2010 Diagnosing with packet trace, Sample IPCS Output (FULL)";
}

/// How sure a fact is: seen in IBM's documented examples (`High`), in one
/// real report (`Medium`), or this reader's assumption (`Low`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// One label.
#[derive(Clone, Copy, Debug)]
pub struct Label {
    /// As IPCS prints it.
    pub text: &'static str,
    /// The character after it (and optional blanks): ':' or '='.
    pub sep: u8,
    pub key: Key,
    pub zone: Zone,
    /// The field of the binary trace's dissector that means the same
    /// thing, if any.
    pub ctrace: Option<&'static str>,
    pub meaning: &'static str,
    pub source: &'static str,
    pub confidence: Confidence,
}

use source::*;
use Confidence::*;
use Key::*;
use Zone::*;

macro_rules! l {
    ($text:expr, $sep:expr, $key:ident, $zone:ident, $ct:expr, $meaning:expr, $src:expr, $conf:ident) => {
        Label {
            text: $text,
            sep: $sep,
            key: $key,
            zone: $zone,
            ctrace: $ct,
            meaning: $meaning,
            source: $src,
            confidence: $conf,
        }
    };
}

/// Every label, in no particular order (matching takes the longest).
pub const LABELS: &[Label] = &[
    l!("From Interface", b':', FromInterface, Header, Some("ctrace.interface"), "inbound packet, network interface name (PTH_Out clear)", IBM_FORMAT, High),
    l!("To Interface", b':', ToInterface, Header, Some("ctrace.interface"), "outbound packet, network interface name (PTH_Out set)", IBM_FORMAT, High),
    l!("From Link", b':', FromLink, Header, Some("ctrace.interface"), "inbound packet, link name (older releases)", IBM_SNAIP, High),
    l!("To Link", b':', ToLink, Header, Some("ctrace.interface"), "outbound packet, link name (older releases)", IBM_SNAIP, High),
    l!("From Jobname", b':', FromJob, Header, Some("ctrace.job"), "data trace, data received by the job", IBM_DATA, Medium),
    l!("To Jobname", b':', ToJob, Header, Some("ctrace.job"), "data trace, data sent by the job", IBM_DATA, High),
    l!("Device", b':', Device, Header, None, "device type, as text (PTH_DevTy's meaning; the numbers are not printed)", IBM_FORMAT, High),
    l!("Full", b'=', Full, Header, None, "the whole packet was traced; its length", IBM_FORMAT, High),
    l!("Abbrev", b'=', Abbrev, Header, Some("ctrace.abbreviated"), "the packet was abbreviated (PKTTRACE ABBREV); a length, whether traced or original is not documented", IBM_FORMAT, Low),
    l!("Tod Clock", b':', TodClock, Header, Some("ctrace.time"), "date and time the packet was traced (PTH_Time), to the microsecond", IBM_FORMAT, High),
    l!("Intfx", b':', Intfx, Header, Some("ctrace.ifindex"), "interface index (PTH_InfIx)", SHARE2010, Medium),
    l!("Sequence #", b':', SequenceNumber, Header, Some("ctrace.seq"), "segment sequence number of the record (PTH_SeqNum)", IBM_FORMAT, High),
    l!("Segment #", b':', SegmentNumber, Header, Some("ctrace.seq"), "data trace: segment sequence number (PTH_SeqNum)", IBM_DATA, High),
    l!("Flags", b':', Flags, Header, None, "formatter flags: Pkt, Ver2, Out (Out = PTH_Out)", IBM_FORMAT, High),
    l!("Lost Records", b':', LostRecords, Header, None, "records lost before this one", IBM_SNAIP, High),
    l!("Source Port", b':', SourcePort, Header, Some("ctrace.srcport"), "source port (PTH_SPort)", IBM_FORMAT, High),
    l!("Dest Port", b':', DestPort, Header, Some("ctrace.dstport"), "destination port (PTH_DPort)", IBM_FORMAT, High),
    l!("Asid", b':', Asid, Header, None, "address space id of the traced work, hex", IBM_FORMAT, High),
    l!("TCB", b':', Tcb, Header, None, "task control block address, hex", IBM_FORMAT, High),
    l!("Tcb", b':', Tcb, Header, None, "task control block address, hex", IBM_DUMP, High),
    l!("Cid", b':', Cid, Header, None, "connection id, hex", IBM_DATA, High),
    l!("Domain", b':', Domain, Header, None, "data trace: socket domain (AF_Inet, AF_Inet6)", IBM_DATA, High),
    l!("Type", b':', SocketType, Header, None, "data trace: socket type (Stream, Datagram)", IBM_DATA, High),
    l!("Protocol", b':', Proto, Header, None, "data trace: socket protocol; in the IP header: the IP protocol", IBM_DATA, High),
    l!("State", b':', State, Header, None, "data trace: socket state", IBM_DATA, High),
    l!("Job Name", b':', JobName, Header, None, "job name (intrusion detection records)", IBM_DUMP, High),
    l!("Module", b':', Module, Header, None, "module (intrusion detection records)", IBM_DUMP, High),
    l!("Correlator", b':', Correlator, Header, None, "correlator (intrusion detection records)", IBM_DUMP, High),
    l!("Policy", b':', Policy, Header, None, "policy (intrusion detection records)", IBM_DUMP, High),
    l!("IpHeader", b':', IpHeader, Ip, None, "start of the formatted IP header", IBM_FORMAT, High),
    l!("Version", b':', Version, Ip, None, "IP version", IBM_FORMAT, High),
    l!("Header Length", b':', HeaderLength, Ip, None, "IP (or TCP) header length", IBM_FORMAT, High),
    l!("Tos", b':', Tos, Ip, None, "type of service, hex", IBM_FORMAT, High),
    l!("QOS", b':', Qos, Ip, None, "quality of service, text", IBM_FORMAT, High),
    l!("Packet Length", b':', PacketLength, Ip, None, "IP total length", IBM_FORMAT, High),
    l!("ID Number", b':', IdNumber, Ip, None, "IP identification, hex", IBM_FORMAT, High),
    l!("Fragment", b':', Fragment, Ip, None, "fragment flags, text", IBM_FORMAT, High),
    l!("Offset", b':', Offset, Ip, None, "fragment offset", IBM_FORMAT, High),
    l!("TTL", b':', Ttl, Ip, None, "time to live", IBM_FORMAT, High),
    l!("CheckSum", b':', CheckSum, Ip, None, "checksum, hex, and its verification", IBM_FORMAT, High),
    l!("Source", b':', Source, Ip, None, "source address", IBM_FORMAT, High),
    l!("Destination", b':', Destination, Ip, None, "destination address", IBM_FORMAT, High),
    l!("Destination Port", b':', DestinationPort, Protocol, None, "TCP/UDP destination port", IBM_FORMAT, High),
    l!("Sequence Number", b':', SeqNumber, Protocol, None, "TCP sequence number", SHARE2010, Medium),
    l!("Ack Number", b':', AckNumber, Protocol, None, "TCP acknowledgement number", SHARE2010, Medium),
    l!("Window Size", b':', WindowSize, Protocol, None, "TCP window", SHARE2010, Medium),
    l!("Urgent Data Pointer", b':', UrgentPointer, Protocol, None, "TCP urgent pointer", SHARE2010, Medium),
    l!("Option", b':', TcpOption, Protocol, None, "TCP option", SHARE2010, Medium),
    l!("Datagram Length", b':', DatagramLength, Protocol, None, "UDP length", IBM_FORMAT, High),
    l!("Type/Code", b':', TypeCode, Protocol, None, "ICMP type and code", IBM_SNAIP, High),
];

/// The three dump sections a packet is rebuilt from, in packet order, as
/// the DUMP and FULL reports head them ([`IBM_DUMP`], [`SHARE2010`]).
pub const IP_HEADER: &str = "IP Header";
pub const PROTOCOL_HEADER: &str = "Protocol Header";
pub const DATA: &str = "Data";
/// The data section's second count.
pub const DATA_LENGTH: &str = "Data Length";

/// The line that starts each record's date: `**** yyyy/mm/dd`
/// ([`IBM_SUMMARY`], [`IBM_DUMP`], [`SHARE2010`]).
pub const DATE_MARK: &str = "****";

/// The column header line above records in FORMAT/DUMP/FULL reports.
pub const COLUMNS: &str = "RcdNr Sysname  Mnemonic Entry Id   Time Stamp    Description";
/// The column header of a SUMMARY report (one line per packet, no hex).
pub const SUMMARY_COLUMNS: &str = "DP   Nr hh:mm:ss.mmmmmm IpId";

/// The label of `key` (its first spelling).
pub fn label(key: Key) -> &'static Label {
    LABELS
        .iter()
        .find(|l| l.key == key)
        .expect("every key has a label")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_label_and_labels_are_unique() {
        let keys = [
            FromInterface,
            ToInterface,
            FromLink,
            ToLink,
            FromJob,
            ToJob,
            Device,
            Full,
            Abbrev,
            TodClock,
            Intfx,
            SequenceNumber,
            SegmentNumber,
            Flags,
            LostRecords,
            SourcePort,
            DestPort,
            Asid,
            Tcb,
            Cid,
            Domain,
            SocketType,
            Proto,
            State,
            JobName,
            Module,
            Correlator,
            Policy,
            IpHeader,
            Version,
            HeaderLength,
            Tos,
            Qos,
            PacketLength,
            IdNumber,
            Fragment,
            Offset,
            Ttl,
            CheckSum,
            Source,
            Destination,
            DestinationPort,
            SeqNumber,
            AckNumber,
            WindowSize,
            UrgentPointer,
            TcpOption,
            DatagramLength,
            TypeCode,
        ];
        for k in keys {
            assert_eq!(label(k).key, k);
        }
        for (i, a) in LABELS.iter().enumerate() {
            for b in &LABELS[i + 1..] {
                assert_ne!(a.text, b.text);
            }
        }
    }

    #[test]
    fn doc_lists_every_label() {
        let doc = include_str!("../../../docs/ipcs-report.md");
        for l in LABELS {
            let row = format!("| `{}{}` |", l.text, l.sep as char);
            assert!(
                doc.contains(&row),
                "docs/ipcs-report.md lacks the row {row}"
            );
        }
    }
}
