//! The packet trace header (IBM PTHDR_T, EZBYPTHA / EZBYPTHH.h) at the start
//! of the CTE data of SYSTCPDA packet (4) and data (5) trace records, EE (6),
//! SYSTCPOT OSAENTA (7) and SMC (8) records.  The traced bytes follow it at
//! offset PTH_Len: an IP packet (4), socket data (5), a layer-2 frame (7).
//!
//! IBM names the fields but does not publish their positions; every
//! position, with its source and confidence, is in [`crate::layout::pthdr`]
//! (mostly from IBM's own header as compiled into a public load module, S1).
//! PTH_Len is always used as the header length, never a structure size:
//! releases differ (PTH_DropRsn and PTH_OffSegLen exist only when PTH_Len
//! reaches sizeof(pthdr_t) = 92).

use crate::cte::Cte;
use crate::layout::pthdr as field;
use crate::{ebcdic, Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::layout::pthdr::{FULL_LEN, MIN_LEN};

/// Device types (PTH_DevTy) with known values.  Source: S1/S2 (compares
/// with 39 IPAQENET and 53 IPAQENET6); no public list of the others exists.
pub const DEVICE_TYPES: &[(u8, &str)] = &[(39, "IPAQENET"), (53, "IPAQENET6")];

/// Device type IPAQENET (OSA-Express QDIO Ethernet, IPv4).
pub const DEV_IPAQENET: u8 = 39;
/// Device type IPAQENET6 (OSA-Express QDIO Ethernet, IPv6).
pub const DEV_IPAQENET6: u8 = 53;

/// The largest PTH_Tlen (24 bits).
pub const MAX_TLEN: u32 = (1 << (8 * field::TLEN.width)) - 1;

/// The largest PTH_Plen (16 bits): a segmented set can be longer than this
/// (PTH_Tlen has 24 bits).
pub const MAX_PLEN: u32 = (1 << (8 * field::PLEN.width)) - 1;

/// Who discarded a packet, by its PTH_DropRsn: IBM assigns ranges of
/// discard reason codes to layers (z/OS Communications Server IP and SNA
/// Codes, "TCP/IP Discard reason codes": OSA-Express 1 to 4095, see
/// OSAENTA; TCP/IP 4096 to 20479 — interface and IP layer 4096 to 8191,
/// TCP 8192 to 12287, UDP 12288 to 16383, RAW 16384 to 20479).
pub const DROP_REASON_RANGES: &[(u16, u16, &str)] = &[
    (1, 4095, "OSA-Express"),
    (4096, 8191, "the interface or IP layer"),
    (8192, 12287, "the TCP layer"),
    (12288, 16383, "the UDP layer"),
    (16384, 20479, "the RAW layer"),
];

/// The layer that discarded a packet with this PTH_DropRsn, if the code is
/// in one of IBM's ranges ([`DROP_REASON_RANGES`]).
pub fn drop_reason_layer(code: u16) -> Option<&'static str> {
    DROP_REASON_RANGES
        .iter()
        .find(|(low, high, _)| (*low..=*high).contains(&code))
        .map(|(_, _, layer)| *layer)
}

/// What a non-zero PTH_DropRsn says, for expert info and comments.
pub fn describe_drop_reason(code: u16) -> String {
    match drop_reason_layer(code) {
        Some(layer) => format!("discarded by {layer}: drop reason {code} (X'{code:04X}')"),
        None => format!("discarded: drop reason {code} (X'{code:04X}'), outside IBM's ranges"),
    }
}

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
/// (::ffff:a.b.c.d); S2 also takes ::fffe:a.b.c.d as IPv4.
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

/// Where the IPv4 address sits in a 16-byte IPv4-mapped address field.
pub const IPV4_IN_16: core::ops::Range<usize> = 12..16;

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
        let len = field::LEN.uint(data) as usize;
        if len < MIN_LEN {
            return Err(Error::Invalid {
                offset: field::LEN.offset as u64,
                what: "PTHDR",
                field: field::LEN.name,
                value: len as u32,
                rule: "is below the 88 bytes up to PTH_InfIx",
            });
        }
        if len > data.len() {
            return Err(Error::LengthMismatch {
                offset: field::LEN.offset as u64,
                what: "PTHDR",
                field: field::LEN.name,
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
                offset: crate::layout::cte::FMTID.offset as u64,
                what: "CTE",
                field: crate::layout::cte::FMTID.name,
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
        field::LEN.uint(self.buf) as u16
    }

    /// The header bytes (PTH_Len of them).
    pub fn header(&self) -> &'a [u8] {
        &self.buf[..self.header_len() as usize]
    }

    /// The traced bytes in this record: everything after PTH_Len.  For a
    /// segmented packet only this record's part.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len() as usize..]
    }

    /// True when the header reaches sizeof(pthdr_t) (92): PTH_DropRsn and
    /// PTH_OffSegLen are there.
    pub fn is_full(&self) -> bool {
        self.header_len() as usize >= FULL_LEN
    }

    /// PTH_SeqNum: 0 in the first record of a packet, then 1, 2, … (255
    /// wraps to 1) in its further segments.
    pub fn seq_num(&self) -> u8 {
        field::SEQ_NUM.uint(self.buf) as u8
    }

    /// PTH_Flag, all bits.
    pub fn flags(&self) -> u8 {
        field::FLAG.uint(self.buf) as u8
    }

    /// PTH_Out: an outbound packet (IPCS "To Interface").
    pub fn is_outbound(&self) -> bool {
        field::OUT.is_set(self.buf)
    }

    /// PTH_Local: both addresses are local to this stack.
    pub fn is_local(&self) -> bool {
        field::LOCAL.is_set(self.buf)
    }

    /// PTH_CfTxt: AT-TLS confidential data, not traced.
    pub fn is_confidential(&self) -> bool {
        field::CF_TXT.is_set(self.buf)
    }

    /// PTH_ClearTxt: AT-TLS cleartext.
    pub fn is_clear_text(&self) -> bool {
        field::CLEAR_TXT.is_set(self.buf)
    }

    /// PTH_DevTy.
    pub fn device_type(&self) -> u8 {
        field::DEV_TY.uint(self.buf) as u8
    }

    /// Name of PTH_DevTy, if known.
    pub fn device_type_name(&self) -> Option<&'static str> {
        device_type_name(self.device_type())
    }

    /// PTH_Tlen: bytes traced (after the header); for a segmented set, the
    /// total of all its records.
    pub fn traced_len(&self) -> u32 {
        field::TLEN.uint(self.buf) as u32
    }

    /// PTH_Name, all 16 bytes, EBCDIC.
    pub fn name_bytes(&self) -> &'a [u8] {
        field::NAME.bytes(self.buf)
    }

    /// Interface name (packet, OSAENTA records): PTH_Name decoded from
    /// EBCDIC, trailing blanks dropped.
    pub fn interface_name(&self) -> String {
        ebcdic::decode_name(self.name_bytes())
    }

    /// Job name (data trace records): PTH_JobNm, EBCDIC.
    pub fn job_name(&self) -> String {
        ebcdic::decode_name(field::JOB_NM.bytes(self.buf))
    }

    /// PTH_DtDomain (data trace): socket domain.
    pub fn dt_domain(&self) -> u8 {
        field::DT_DOMAIN.uint(self.buf) as u8
    }

    /// PTH_DtType (data trace): socket type.
    pub fn dt_type(&self) -> u8 {
        field::DT_TYPE.uint(self.buf) as u8
    }

    /// PTH_DtProto (data trace): IP protocol of the socket.
    pub fn dt_protocol(&self) -> u8 {
        field::DT_PROTO.uint(self.buf) as u8
    }

    /// PTH_DtState (data trace): socket state.
    pub fn dt_state(&self) -> u8 {
        field::DT_STATE.uint(self.buf) as u8
    }

    /// PTH_Time: TOD when the packet was traced (the capture time; CTETIME
    /// is when the entry reached the buffer).
    pub fn tod(&self) -> u64 {
        field::TIME.uint(self.buf)
    }

    /// PTH_Time as nanoseconds since the Unix epoch (see [`crate::tod`]).
    pub fn unix_ns(&self, leap_seconds: i64) -> i64 {
        crate::tod::to_unix_ns(self.tod(), leap_seconds)
    }

    fn ip(&self, f: &crate::layout::Field) -> IpAddr {
        let mut a = [0u8; 16];
        a.copy_from_slice(f.bytes(self.buf));
        ip_from_16(&a)
    }

    /// PTH_Src.
    pub fn src_ip(&self) -> IpAddr {
        self.ip(&field::SRC)
    }

    /// PTH_Dst.
    pub fn dst_ip(&self) -> IpAddr {
        self.ip(&field::DST)
    }

    /// PTH_SPort.
    pub fn src_port(&self) -> u16 {
        field::SPORT.uint(self.buf) as u16
    }

    /// PTH_DPort.
    pub fn dst_port(&self) -> u16 {
        field::DPORT.uint(self.buf) as u16
    }

    /// The bytes no source that knows IBM's header names (shown raw).
    pub fn unknown_bytes(&self) -> &'a [u8] {
        field::UNKNOWN.bytes(self.buf)
    }

    /// PTH_Plen: original length of the packet (or socket data).
    pub fn packet_len(&self) -> u32 {
        field::PLEN.uint(self.buf) as u32
    }

    /// PTH_InfIx: interface index.
    pub fn interface_index(&self) -> u32 {
        field::INF_IX.uint(self.buf) as u32
    }

    /// PTH_DropRsn: drop reason code, when the header is long enough to
    /// have it (PTH_Len ≥ 92); 0 means not dropped.
    pub fn drop_reason(&self) -> Option<u16> {
        self.is_full()
            .then(|| field::DROP_RSN.uint(self.buf) as u16)
    }

    /// PTH_DropRsn when the packet was discarded (present and not 0).
    pub fn discarded(&self) -> Option<u16> {
        self.drop_reason().filter(|&r| r != 0)
    }

    /// PTH_OffSegLen, when the header is long enough to have it (its meaning
    /// is not published; see [`crate::layout::pthdr::OFF_SEG_LEN`]).
    pub fn off_seg_len(&self) -> Option<u16> {
        self.is_full()
            .then(|| field::OFF_SEG_LEN.uint(self.buf) as u16)
    }

    /// Abbreviated ("Abbrev=" in IPCS) rather than full: fewer bytes traced
    /// than the packet had.
    pub fn is_abbreviated(&self) -> bool {
        self.traced_len() < self.packet_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{self, Header};

    fn sample(hlen: usize, payload: &[u8]) -> Vec<u8> {
        let h = Header {
            seq: 3,
            flags: field::OUT.mask | field::LOCAL.mask,
            device_type: DEV_IPAQENET,
            tlen: 0x01_0203,
            name: build::name16("OSAQDIO1"),
            tod: 0x1122_3344_5566_7788,
            src: ip_to_16("10.1.2.3".parse().unwrap()),
            dst: ip_to_16("2001:db8::1".parse().unwrap()),
            sport: 1025,
            dport: 53,
            plen: 1500,
            interface_index: 7,
            drop_reason: 0x0102,
            off_seg_len: 1448,
            ..Header::default()
        };
        let mut b = h.bytes_with_len(hlen);
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn every_accessor() {
        let b = sample(FULL_LEN, b"IP!");
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.header_len(), 92);
        assert_eq!(p.header().len(), 92);
        assert_eq!(p.payload(), b"IP!");
        assert_eq!(p.as_bytes().len(), 95);
        assert_eq!(p.seq_num(), 3);
        assert!(p.is_outbound() && p.is_local());
        assert!(!p.is_confidential() && !p.is_clear_text());
        assert_eq!(p.flags(), 0x81);
        assert_eq!(p.device_type(), 39);
        assert_eq!(p.device_type_name(), Some("IPAQENET"));
        assert_eq!(p.traced_len(), 0x01_0203);
        assert_eq!(p.interface_name(), "OSAQDIO1");
        assert_eq!(p.tod(), 0x1122_3344_5566_7788);
        assert_eq!(p.src_ip(), "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(p.dst_ip(), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!((p.src_port(), p.dst_port()), (1025, 53));
        assert_eq!(p.packet_len(), 1500);
        assert_eq!(p.interface_index(), 7);
        assert_eq!(p.drop_reason(), Some(0x0102));
        assert_eq!(p.discarded(), Some(0x0102));
        assert_eq!(p.off_seg_len(), Some(1448));
        assert_eq!(p.unknown_bytes(), &[0; 14]);
        assert!(p.is_full());
        assert!(!p.is_abbreviated());
        assert_eq!(p.unix_ns(0), crate::tod::to_unix_ns(p.tod(), 0));
    }

    #[test]
    fn short_header_has_no_drop_reason() {
        let b = sample(MIN_LEN, b"x");
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.drop_reason(), None);
        assert_eq!(p.off_seg_len(), None);
        assert!(!p.is_full());
        // The bytes where PTH_DropRsn would be are traced bytes now.
        assert_eq!(p.payload(), &b[88..]);
    }

    #[test]
    fn data_trace_view() {
        let mut b = sample(FULL_LEN, b"");
        let mut name = build::name16("JOBA");
        name[8..12].copy_from_slice(&[19, 1, 6, 4]);
        field::NAME.put_bytes(&mut b, &name);
        let p = Pthdr::new_checked(&b).unwrap();
        assert_eq!(p.job_name(), "JOBA");
        assert_eq!(
            (p.dt_domain(), p.dt_type(), p.dt_protocol(), p.dt_state()),
            (19, 1, 6, 4)
        );
    }

    #[test]
    fn abbreviated_and_longer_headers() {
        let mut b = sample(120, b"ip");
        field::TLEN.put_uint(&mut b, 200);
        let p = Pthdr::new_checked(&b).unwrap();
        assert!(p.is_abbreviated());
        assert_eq!(p.header().len(), 120);
        assert_eq!(p.payload(), b"ip");
        assert_eq!(MAX_TLEN, 0xFF_FFFF);
    }

    #[test]
    fn addresses() {
        let mut a = [0u8; 16];
        a[10] = 0xFF;
        a[11] = 0xFE;
        a[IPV4_IN_16].copy_from_slice(&[9, 67, 113, 65]);
        assert_eq!(ip_from_16(&a), "9.67.113.65".parse::<IpAddr>().unwrap());
        a[11] = 0xFF;
        assert_eq!(ip_from_16(&a), "9.67.113.65".parse::<IpAddr>().unwrap());
        a[11] = 0xFD;
        assert!(ip_from_16(&a).is_ipv6());
        assert_eq!(ip_from_16(&[0; 16]), "::".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(ip_from_16(&ip_to_16(v6)), v6);
        assert_eq!(next_seq(0), 1);
        assert_eq!(next_seq(255), 1);
        assert_eq!(device_type_name(53), Some("IPAQENET6"));
        assert_eq!(device_type_name(1), None);
        assert_eq!(drop_reason_layer(0), None);
        assert_eq!(drop_reason_layer(0x1006), Some("the interface or IP layer"));
        assert_eq!(drop_reason_layer(8192), Some("the TCP layer"));
        assert_eq!(drop_reason_layer(20479), Some("the RAW layer"));
        assert_eq!(drop_reason_layer(20480), None);
        assert_eq!(
            describe_drop_reason(4102),
            "discarded by the interface or IP layer: drop reason 4102 (X'1006')"
        );
        assert!(describe_drop_reason(65535).contains("outside"));
    }

    #[test]
    fn errors() {
        let b = sample(FULL_LEN, b"");
        assert!(matches!(
            Pthdr::new_checked(&b[..40]),
            Err(Error::Truncated {
                needed: 88,
                available: 40,
                ..
            })
        ));
        let mut short = b.clone();
        field::LEN.put_uint(&mut short, 80);
        assert!(matches!(
            Pthdr::new_checked(&short),
            Err(Error::Invalid {
                field: "PTH_Len",
                value: 80,
                ..
            })
        ));
        let mut long = b.clone();
        field::LEN.put_uint(&mut long, 200);
        assert!(matches!(
            Pthdr::new_checked(&long).unwrap_err(),
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
        let data = sample(FULL_LEN, b"hi");
        let c = build::cte(4, 0, &data);
        let c = Cte::new_checked(&c).unwrap();
        assert_eq!(Pthdr::from_cte(&c).unwrap().payload(), b"hi");
        let l = build::cte(0xFF00_0000, 0, &data);
        let l = Cte::new_checked(&l).unwrap();
        assert!(matches!(
            Pthdr::from_cte(&l),
            Err(Error::Invalid {
                offset: 4,
                field: "CTEFMTID",
                ..
            })
        ));
        let s = build::cte(4, 0, &data[..50]);
        let s = Cte::new_checked(&s).unwrap();
        assert_eq!(Pthdr::from_cte(&s).unwrap_err().offset(), 16);
    }
}
