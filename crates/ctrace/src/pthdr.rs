//! The packet trace header (IBM PTHDR_T, EZBYPTHA / EZBYPTHH.h) at the start
//! of the CTE data of SYSTCPDA packet (4) and data (5) trace records, EE (6),
//! SYSTCPOT OSAENTA (7) and SMC (8) records.  The traced bytes follow it at
//! offset PTH_Len: an IP packet (4), socket data (5), a layer-2 frame (7).
//!
//! IBM's header is not published; field *names* come from IBM's
//! documentation and from code compiled against the header
//! (colinpaicemq/zWireshark), *offsets* mostly from AnSyNova's 2cUTC
//! SYSTCPDA dissector, and some are this crate's choice.  Every offset,
//! with its source and confidence, is in [`crate::layout`] and
//! docs/ctrace-format.md.  Offsets below count from the start of the
//! header (= CTE offset CTEOFF, normally 16).
//!
//! ```text
//!  0  2  PTH_Len      header length = offset of the traced bytes
//!  2  1  PTH_SeqNum   0 in a packet's first record, +1 per further segment
//!  3  1  PTH_Flag     flag::*
//!  4  1  PTH_DevTy    device type (DEVICE_TYPES)
//!  5  1  PTH_Opt      option flags: opt::SEGMENT
//!  6  2  reserved
//!  8 16  PTH_Name     EBCDIC interface name; data trace: job name[8], domain,
//!                     type, protocol, state, reserved[4]
//! 24  8  PTH_Time     TOD when the packet was traced
//! 32 16  PTH_Src      source IP (IPv4 as ::ffff:a.b.c.d)
//! 48 16  PTH_Dst      destination IP
//! 64  2  PTH_SPort    source port
//! 66  2  PTH_DPort    destination port
//! 68  4  PTH_Plen     original packet length
//! 72  1  reserved
//! 73  1  protocol     IP protocol number
//! 74  2  VLAN id      (OSAENTA)
//! 76  4  PTH_OffSegLen  offset of this record's bytes in the whole packet
//! 80  4  PTH_Tlen     traced length of the whole packet (all segments)
//! 84  4  PTH_InfIx    interface index
//! 88     end of the base header (MIN_LEN)
//! 88  2  PTH_DropRsn  drop reason (only when PTH_Len ≥ 90)
//! 90  2  reserved
//! 92     header length this crate's fixture writer emits
//! ```

use crate::cte::Cte;
use crate::{be16, be32, be64, ebcdic, Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Byte ranges of the PTHDR_T fields, from the start of the header.
pub mod field {
    use core::ops::Range;
    pub const LEN: Range<usize> = 0..2;
    pub const SEQ_NUM: usize = 2;
    pub const FLAG: usize = 3;
    pub const DEV_TYPE: usize = 4;
    pub const OPT: usize = 5;
    pub const RESERVED_6: Range<usize> = 6..8;
    pub const NAME: Range<usize> = 8..24;
    pub const JOB_NAME: Range<usize> = 8..16;
    pub const DT_DOMAIN: usize = 16;
    pub const DT_TYPE: usize = 17;
    pub const DT_PROTO: usize = 18;
    pub const DT_STATE: usize = 19;
    pub const DT_RESERVED: Range<usize> = 20..24;
    pub const TIME: Range<usize> = 24..32;
    pub const SRC: Range<usize> = 32..48;
    pub const DST: Range<usize> = 48..64;
    pub const SPORT: Range<usize> = 64..66;
    pub const DPORT: Range<usize> = 66..68;
    pub const PLEN: Range<usize> = 68..72;
    pub const RESERVED_72: usize = 72;
    pub const PROTOCOL: usize = 73;
    pub const VLAN: Range<usize> = 74..76;
    pub const OFF_SEG: Range<usize> = 76..80;
    pub const TLEN: Range<usize> = 80..84;
    pub const INF_IX: Range<usize> = 84..88;
    /// End of the base header: the least PTH_Len accepted.
    pub const BASE_END: usize = 88;
    pub const DROP_RSN: Range<usize> = 88..90;
    pub const RESERVED_90: Range<usize> = 90..92;
    /// End of the extended header (the length the fixture writer emits).
    pub const EXT_END: usize = 92;
}

/// Least PTH_Len accepted (the base header this crate reads).
pub const MIN_LEN: usize = field::BASE_END;
/// PTH_Len of the extended header, with PTH_DropRsn.
pub const EXT_LEN: usize = field::EXT_END;

/// PTH_Flag bits.
pub mod flag {
    /// PTH_Local: source and destination are both local addresses of this
    /// stack.  (IBM "Common real-time trace record header": X'80'.)
    pub const LOCAL: u8 = 0x80;
    /// PTH_CfTxt: AT-TLS confidential data; the data is not traced.
    /// (IBM: X'40'.)
    pub const CF_TXT: u8 = 0x40;
    /// PTH_ClearTxt: AT-TLS cleartext of protected data.  (Bit value not
    /// public: this crate's choice.)
    pub const CLEAR_TXT: u8 = 0x20;
    /// PTH_Out: outbound ("To" interface) rather than inbound ("From").
    /// (Bit value not public: this crate's choice.)
    pub const OUT: u8 = 0x10;
}

/// PTH_Opt bits (IBM calls these PTO_*; the byte's position is this crate's
/// choice).
pub mod opt {
    /// PTO_SEGMENT: this record is one of a set of segmented records.
    pub const SEGMENT: u8 = 0x80;
}

/// Device types (PTH_DevTy) with known values.  Source: colinpaicemq/
/// zWireshark source/TCPPRINT (39 IPAQENET, 53 IPAQENET6); no public list
/// of the others exists.
pub const DEVICE_TYPES: &[(u8, &str)] = &[(39, "IPAQENET"), (53, "IPAQENET6")];

/// Device type IPAQENET (OSA-Express QDIO Ethernet, IPv4).
pub const DEV_IPAQENET: u8 = 39;
/// Device type IPAQENET6 (OSA-Express QDIO Ethernet, IPv6).
pub const DEV_IPAQENET6: u8 = 53;

/// The name of a device type, if known.
pub fn device_type_name(devty: u8) -> Option<&'static str> {
    DEVICE_TYPES
        .iter()
        .find(|(d, _)| *d == devty)
        .map(|(_, n)| *n)
}

/// The next PTH_SeqNum of a segmented set: +1, and 255 wraps to 1 (IBM
/// "Segmented records": "If there are more than 256 records, the value
/// wraps back to 1").
pub fn next_seq(seq: u8) -> u8 {
    if seq == u8::MAX {
        1
    } else {
        seq + 1
    }
}

/// Decodes a 16-byte PTH_Src/PTH_Dst: IPv4 is stored IPv4-mapped
/// (::ffff:a.b.c.d); zWireshark also takes ::fffe:a.b.c.d as IPv4.
pub fn ip_from_16(b: &[u8; 16]) -> IpAddr {
    if b[..10].iter().all(|&x| x == 0) && b[10] == 0xFF && (b[11] == 0xFF || b[11] == 0xFE) {
        IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*b))
    }
}

/// Encodes an address the way PTH_Src/PTH_Dst hold it.
pub fn ip_to_16(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A view over a packet trace header and the bytes it describes (the CTE
/// data: header of PTH_Len bytes, then the traced bytes up to the end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pthdr<'a> {
    buf: &'a [u8],
}

impl<'a> Pthdr<'a> {
    /// Checks `data` (a CTE's data): PTH_Len at least [`MIN_LEN`] and within
    /// `data`.  Offsets in errors count from `data[0]`.
    pub fn new_checked(data: &'a [u8]) -> Result<Pthdr<'a>> {
        if data.len() < MIN_LEN {
            return Err(Error::Truncated {
                offset: 0,
                what: "PTHDR",
                needed: MIN_LEN as u64,
                available: data.len() as u64,
            });
        }
        let len = be16(data, 0) as usize;
        if len < MIN_LEN {
            return Err(Error::Invalid {
                offset: 0,
                what: "PTHDR",
                field: "PTH_Len",
                value: len as u32,
                rule: "is below the 88-byte base header",
            });
        }
        if len > data.len() {
            return Err(Error::LengthMismatch {
                offset: 0,
                what: "PTHDR",
                field: "PTH_Len",
                found: len as u32,
                other: "the CTE data length",
                expected: data.len() as u32,
            });
        }
        Ok(Pthdr { buf: data })
    }

    /// The header of a CTE whose format id carries one (4-8, trace type
    /// X'00'); offsets in errors count from the start of the CTE.
    pub fn from_cte(cte: &Cte<'a>) -> Result<Pthdr<'a>> {
        if !cte.has_pthdr() {
            return Err(Error::Invalid {
                offset: 4,
                what: "CTE",
                field: "CTEFMTID",
                value: cte.format_id(),
                rule: "has no packet trace header (format ids 4-8 have)",
            });
        }
        Pthdr::new_checked(cte.data()).map_err(|e| e.at(cte.cteoff() as u64))
    }

    /// Header and traced bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// PTH_Len: header length, the offset of the traced bytes.
    pub fn header_len(&self) -> u16 {
        be16(self.buf, field::LEN.start)
    }

    /// The header bytes (PTH_Len of them).
    pub fn header(&self) -> &'a [u8] {
        &self.buf[..self.header_len() as usize]
    }

    /// The traced bytes in this record: everything after PTH_Len.  For a
    /// segmented packet only this segment's part (see [`crate::segment`]).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len() as usize..]
    }

    /// PTH_SeqNum: 0 in the first record of a packet, then 1, 2, … (255
    /// wraps to 1) in its further segments.
    pub fn seq_num(&self) -> u8 {
        self.buf[field::SEQ_NUM]
    }

    /// PTH_Flag, all bits (see [`flag`]).
    pub fn flags(&self) -> u8 {
        self.buf[field::FLAG]
    }

    /// PTH_Out: an outbound packet (IPCS "To Interface").
    pub fn is_outbound(&self) -> bool {
        self.flags() & flag::OUT != 0
    }

    /// PTH_Local: both addresses are local to this stack.
    pub fn is_local(&self) -> bool {
        self.flags() & flag::LOCAL != 0
    }

    /// PTH_CfTxt: AT-TLS confidential data, not traced.
    pub fn is_confidential(&self) -> bool {
        self.flags() & flag::CF_TXT != 0
    }

    /// PTH_ClearTxt: AT-TLS cleartext.
    pub fn is_clear_text(&self) -> bool {
        self.flags() & flag::CLEAR_TXT != 0
    }

    /// PTH_Opt (PTO_* bits, see [`opt`]).
    pub fn options(&self) -> u8 {
        self.buf[field::OPT]
    }

    /// PTO_SEGMENT: one of a set of segmented records.
    pub fn is_segmented(&self) -> bool {
        self.options() & opt::SEGMENT != 0
    }

    /// PTH_DevTy.
    pub fn device_type(&self) -> u8 {
        self.buf[field::DEV_TYPE]
    }

    /// Name of PTH_DevTy, if known.
    pub fn device_type_name(&self) -> Option<&'static str> {
        device_type_name(self.device_type())
    }

    /// PTH_Name, all 16 bytes, EBCDIC.
    pub fn name_bytes(&self) -> &'a [u8] {
        &self.buf[field::NAME]
    }

    /// Interface name (packet, OSAENTA records): PTH_Name decoded from
    /// EBCDIC, trailing blanks dropped.
    pub fn interface_name(&self) -> String {
        ebcdic::decode_name(self.name_bytes())
    }

    /// Job name (data trace records): first 8 bytes of PTH_Name, EBCDIC.
    pub fn job_name(&self) -> String {
        ebcdic::decode_name(&self.buf[field::JOB_NAME])
    }

    /// PTH_DtDomain (data trace): socket domain (z/OS AF_INET 2, AF_INET6 19).
    pub fn dt_domain(&self) -> u8 {
        self.buf[field::DT_DOMAIN]
    }

    /// PTH_DtType (data trace): socket type (1 stream, 2 datagram, 3 raw).
    pub fn dt_type(&self) -> u8 {
        self.buf[field::DT_TYPE]
    }

    /// PTH_DtProto (data trace): IP protocol of the socket.
    pub fn dt_protocol(&self) -> u8 {
        self.buf[field::DT_PROTO]
    }

    /// PTH_DtState (data trace): socket state.
    pub fn dt_state(&self) -> u8 {
        self.buf[field::DT_STATE]
    }

    /// PTH_Time: TOD when the packet was traced (the capture time; CTETIME
    /// is when the entry reached the buffer).
    pub fn tod(&self) -> u64 {
        be64(self.buf, field::TIME.start)
    }

    /// PTH_Time as nanoseconds since the Unix epoch (see [`crate::tod`]).
    pub fn unix_ns(&self, leap_seconds: i64) -> i64 {
        crate::tod::to_unix_ns(self.tod(), leap_seconds)
    }

    fn ip(&self, r: core::ops::Range<usize>) -> IpAddr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buf[r]);
        ip_from_16(&a)
    }

    /// PTH_Src.
    pub fn src_ip(&self) -> IpAddr {
        self.ip(field::SRC)
    }

    /// PTH_Dst.
    pub fn dst_ip(&self) -> IpAddr {
        self.ip(field::DST)
    }

    /// PTH_SPort.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SPORT.start)
    }

    /// PTH_DPort.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DPORT.start)
    }

    /// PTH_Plen: original length of the packet (or socket data).
    pub fn packet_len(&self) -> u32 {
        be32(self.buf, field::PLEN.start)
    }

    /// PTH_Tlen: traced length of the whole packet, all segments together
    /// (smaller than PTH_Plen when abbreviated).
    pub fn traced_len(&self) -> u32 {
        be32(self.buf, field::TLEN.start)
    }

    /// Abbreviated ("Abbrev=" in IPCS) rather than full: fewer bytes traced
    /// than the packet had.
    pub fn is_abbreviated(&self) -> bool {
        self.traced_len() < self.packet_len()
    }

    /// IP protocol number (byte 73).
    pub fn protocol(&self) -> u8 {
        self.buf[field::PROTOCOL]
    }

    /// VLAN id (bytes 74-75; OSAENTA).
    pub fn vlan_id(&self) -> u16 {
        be16(self.buf, field::VLAN.start)
    }

    /// PTH_OffSegLen: where this record's traced bytes start in the whole
    /// packet (0 in the first record).
    pub fn segment_offset(&self) -> u32 {
        be32(self.buf, field::OFF_SEG.start)
    }

    /// PTH_InfIx: interface index.
    pub fn interface_index(&self) -> u32 {
        be32(self.buf, field::INF_IX.start)
    }

    /// PTH_DropRsn: drop reason code, when the header is long enough to
    /// have it (PTH_Len ≥ 90); 0 means not dropped.
    pub fn drop_reason(&self) -> Option<u16> {
        if self.header_len() as usize >= field::DROP_RSN.end {
            Some(be16(self.buf, field::DROP_RSN.start))
        } else {
            None
        }
    }

    /// True when this record holds fewer traced bytes than PTH_Tlen: the
    /// first of a set of segmented records, whose rest follow.
    pub fn expects_more(&self) -> bool {
        (self.payload().len() as u64) < self.traced_len() as u64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cte;

    /// A header of `hlen` bytes with the given values, then `payload`.
    pub(crate) fn make(
        hlen: usize,
        seq: u8,
        tlen: u32,
        off: u32,
        opts: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut h = vec![0u8; hlen];
        h[0..2].copy_from_slice(&(hlen as u16).to_be_bytes());
        h[field::SEQ_NUM] = seq;
        h[field::FLAG] = flag::OUT | flag::LOCAL;
        h[field::DEV_TYPE] = DEV_IPAQENET;
        h[field::OPT] = opts;
        let mut name = ebcdic::encode("OSAQDIO1");
        name.resize(16, 0x40);
        h[field::NAME].copy_from_slice(&name);
        h[field::TIME].copy_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
        h[field::SRC].copy_from_slice(&ip_to_16("10.1.2.3".parse().unwrap()));
        h[field::DST].copy_from_slice(&ip_to_16("2001:db8::1".parse().unwrap()));
        h[field::SPORT].copy_from_slice(&1025u16.to_be_bytes());
        h[field::DPORT].copy_from_slice(&53u16.to_be_bytes());
        h[field::PLEN].copy_from_slice(&1500u32.to_be_bytes());
        h[field::PROTOCOL] = 17;
        h[field::VLAN].copy_from_slice(&100u16.to_be_bytes());
        h[field::OFF_SEG].copy_from_slice(&off.to_be_bytes());
        h[field::TLEN].copy_from_slice(&tlen.to_be_bytes());
        h[field::INF_IX].copy_from_slice(&7u32.to_be_bytes());
        if hlen >= field::DROP_RSN.end {
            h[field::DROP_RSN].copy_from_slice(&3u16.to_be_bytes());
        }
        h.extend_from_slice(payload);
        h
    }

    #[test]
    fn every_accessor() {
        let b = make(EXT_LEN, 0, 4, 0, 0, b"abcd");
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.header_len(), 92);
        assert_eq!(p.header().len(), 92);
        assert_eq!(p.as_bytes().len(), 96);
        assert_eq!(p.payload(), b"abcd");
        assert_eq!(p.seq_num(), 0);
        assert_eq!(p.flags(), flag::OUT | flag::LOCAL);
        assert!(p.is_outbound() && p.is_local());
        assert!(!p.is_confidential() && !p.is_clear_text());
        assert_eq!(p.options(), 0);
        assert!(!p.is_segmented());
        assert_eq!(p.device_type(), 39);
        assert_eq!(p.device_type_name(), Some("IPAQENET"));
        assert_eq!(p.name_bytes().len(), 16);
        assert_eq!(p.interface_name(), "OSAQDIO1");
        assert_eq!(p.job_name(), "OSAQDIO1");
        assert_eq!(
            (p.dt_domain(), p.dt_type(), p.dt_protocol(), p.dt_state()),
            (0x40, 0x40, 0x40, 0x40)
        );
        assert_eq!(p.tod(), 0x1122_3344_5566_7788);
        assert_eq!(
            p.unix_ns(0),
            crate::tod::to_unix_ns(0x1122_3344_5566_7788, 0)
        );
        assert_eq!(p.src_ip(), "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(p.dst_ip(), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!((p.src_port(), p.dst_port()), (1025, 53));
        assert_eq!(p.packet_len(), 1500);
        assert_eq!(p.traced_len(), 4);
        assert!(p.is_abbreviated());
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.vlan_id(), 100);
        assert_eq!(p.segment_offset(), 0);
        assert_eq!(p.interface_index(), 7);
        assert_eq!(p.drop_reason(), Some(3));
        assert!(!p.expects_more());
    }

    #[test]
    fn data_trace_name() {
        let mut b = make(MIN_LEN, 0, 0, 0, 0, b"");
        let mut n = ebcdic::encode("FTPD1");
        n.resize(8, 0x40);
        b[field::JOB_NAME].copy_from_slice(&n);
        b[field::DT_DOMAIN] = 19;
        b[field::DT_TYPE] = 1;
        b[field::DT_PROTO] = 6;
        b[field::DT_STATE] = 4;
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.job_name(), "FTPD1");
        assert_eq!(
            (p.dt_domain(), p.dt_type(), p.dt_protocol(), p.dt_state()),
            (19, 1, 6, 4)
        );
        assert_eq!(p.drop_reason(), None);
    }

    #[test]
    fn longer_header_from_a_newer_release() {
        let b = make(120, 0, 2, 0, 0, b"ip");
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.header().len(), 120);
        assert_eq!(p.payload(), b"ip");
    }

    #[test]
    fn segments() {
        let b = make(EXT_LEN, 0, 10, 0, opt::SEGMENT, b"abcd");
        let p = Pthdr::new_checked(&b).unwrap();
        assert!(p.is_segmented() && p.expects_more());
        assert_eq!(next_seq(0), 1);
        assert_eq!(next_seq(254), 255);
        assert_eq!(next_seq(255), 1);
    }

    #[test]
    fn addresses() {
        let mut a = [0u8; 16];
        a[10] = 0xFF;
        a[11] = 0xFE;
        a[12..].copy_from_slice(&[9, 67, 113, 65]);
        assert_eq!(ip_from_16(&a), "9.67.113.65".parse::<IpAddr>().unwrap());
        a[11] = 0xFF;
        assert_eq!(ip_from_16(&a), "9.67.113.65".parse::<IpAddr>().unwrap());
        a[11] = 0xFD;
        assert!(ip_from_16(&a).is_ipv6());
        assert_eq!(ip_from_16(&[0; 16]), "::".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(ip_from_16(&ip_to_16(v6)), v6);
    }

    #[test]
    fn errors() {
        let b = make(EXT_LEN, 0, 0, 0, 0, b"");
        assert!(matches!(
            Pthdr::new_checked(&b[..40]),
            Err(Error::Truncated {
                needed: 88,
                available: 40,
                ..
            })
        ));
        let mut short = b.clone();
        short[1] = 80;
        assert!(matches!(
            Pthdr::new_checked(&short),
            Err(Error::Invalid {
                field: "PTH_Len",
                value: 80,
                ..
            })
        ));
        let mut long = b.clone();
        long[1] = 200;
        let e = Pthdr::new_checked(&long).unwrap_err();
        assert!(matches!(
            e,
            Error::LengthMismatch {
                field: "PTH_Len",
                found: 200,
                expected: 92,
                ..
            }
        ));
    }

    #[test]
    fn from_cte() {
        let data = make(EXT_LEN, 0, 2, 0, 0, b"hi");
        let c = cte::tests::make(4, 0, &data);
        let c = Cte::new_checked(&c).unwrap();
        assert_eq!(Pthdr::from_cte(&c).unwrap().payload(), b"hi");
        let l = cte::tests::make(0xFF00_0000, 0, &data);
        let l = Cte::new_checked(&l).unwrap();
        assert!(matches!(
            Pthdr::from_cte(&l),
            Err(Error::Invalid {
                offset: 4,
                field: "CTEFMTID",
                ..
            })
        ));
        let s = cte::tests::make(4, 0, &data[..50]);
        let s = Cte::new_checked(&s).unwrap();
        assert_eq!(Pthdr::from_cte(&s).unwrap_err().offset(), 16);
        assert_eq!(device_type_name(53), Some("IPAQENET6"));
        assert_eq!(device_type_name(1), None);
    }
}
