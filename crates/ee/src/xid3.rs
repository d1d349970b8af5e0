//! XID format 3: the I-field of an LLC XID frame (or, in FR/LDLC mode, of
//! an NLP) that two EE nodes exchange to activate a link.
//!
//! Bytes 0–18 are fixed (format/node type, length, node id, capability
//! flags, TG number, DLC type, DLC-section length); the DLC-dependent
//! section runs from byte 18 for the length found there (counting byte 18
//! itself); control vectors in key-length framing follow, up to the XID
//! length in byte 1.  Sources and confidence: docs/ee.md, "XID3".

use crate::cv::{Framing, Vectors};
use crate::{be16, be32, need, Error};

pub mod field {
    use std::ops::Range;
    pub const FORMAT_TYPE: Range<usize> = 0..1;
    pub const LENGTH: Range<usize> = 1..2;
    pub const NODE_ID: Range<usize> = 2..6;
    pub const RESERVED_6: Range<usize> = 6..8;
    /// Bytes 8–9, one 16-bit flag word.
    pub const CAPABILITIES: Range<usize> = 8..10;
    pub const BYTE10: Range<usize> = 10..11;
    pub const BYTE11: Range<usize> = 11..12;
    pub const BYTE12: Range<usize> = 12..13;
    pub const RESERVED_13: Range<usize> = 13..15;
    pub const BYTE15: Range<usize> = 15..16;
    pub const TG_NUMBER: Range<usize> = 16..17;
    pub const DLC_TYPE: Range<usize> = 17..18;
    /// DLC-dependent section length, counting this byte.
    pub const DLC_LENGTH: Range<usize> = 18..19;
    pub const FIXED_LEN: usize = 19;
    /// Within the DLC section as the SDLC/LAN layout has it (XID offsets).
    pub const DLC_LINK_FLAGS: Range<usize> = 19..20;
    pub const DLC_BYTE20: Range<usize> = 20..21;
    pub const DLC_MAX_BTU: Range<usize> = 21..23;
    pub const DLC_MAX_IFRAMES: Range<usize> = 27..28;
}

/// Bytes 8–9 as one big-endian word.
pub mod capabilities {
    pub const INIT_SELF: u16 = 0x8000;
    pub const STANDALONE_BIND: u16 = 0x4000;
    pub const WHOLE_BIND_GENERATED: u16 = 0x2000;
    pub const WHOLE_BIND_REQUIRED: u16 = 0x1000;
    pub const ACTPU_SUPPRESSION: u16 = 0x0080;
    pub const NETWORK_NODE: u16 = 0x0040;
    pub const CP_SERVICES: u16 = 0x0020;
    pub const CP_CP_SESSIONS: u16 = 0x0010;
    pub const EXCHANGE_STATE: u16 = 0x000C;
    pub const NONACTIVATION_EXCHANGE: u16 = 0x0002;
    pub const CP_NAME_CHANGE: u16 = 0x0001;
}

pub mod byte10 {
    pub const ADAPTIVE_PACING_SENDER: u8 = 0x80;
    pub const ADAPTIVE_PACING_RECEIVER: u8 = 0x40;
    pub const QUIESCE_TG: u8 = 0x20;
    pub const PU_CAPABILITIES: u8 = 0x10;
    pub const PERIPHERAL_BORDER_NODE: u8 = 0x08;
    pub const PACING_QUALIFIER: u8 = 0x03;
}

pub mod byte11 {
    pub const TG_SHARING_PROHIBITED: u8 = 0x40;
    pub const DEDICATED_SVC: u8 = 0x20;
}

pub mod byte12 {
    pub const NEGOTIATION_COMPLETE_SUPPORTED: u8 = 0x80;
    pub const NEGOTIATION_COMPLETE: u8 = 0x40;
}

pub mod byte15 {
    pub const PARALLEL_TGS: u8 = 0x80;
    pub const DLUR: u8 = 0x40;
    pub const DLUS_REGISTRATION: u8 = 0x20;
    pub const EXTENDED_HPR_BORDER_NODE: u8 = 0x10;
    pub const GENERALIZED_ODAI: u8 = 0x08;
    pub const BRANCH: u8 = 0x06;
    pub const OPTION_SET_1123: u8 = 0x01;
}

/// DLC section byte 19 (SDLC/LAN layout).
pub mod link {
    pub const ABM: u8 = 0x40;
    pub const STATION_ROLE: u8 = 0x30;
    pub const SHORT_HOLD_STATUS: u8 = 0x08;
    pub const SHORT_HOLD_SUPPORT: u8 = 0x04;
    pub const TRANSMIT_RECEIVE: u8 = 0x03;
}

pub const NODE_TYPES: &[(u8, &str)] = &[
    (1, "T1"),
    (2, "T2.0 or T2.1"),
    (3, "Reserved"),
    (4, "T4 or T5"),
];

pub const EXCHANGE_STATES: &[(u8, &str)] = &[
    (0, "Not supported"),
    (1, "Negotiation-proceeding"),
    (2, "Prenegotiation"),
    (3, "Nonactivation"),
];

pub const BRANCH_INDICATORS: &[(u8, &str)] = &[
    (0, "Not supported"),
    (1, "Branch uplink"),
    (2, "Branch downlink"),
    (3, "Neither"),
];

/// Link station role (byte 19, 0x30): the value HP's decode names.
pub const STATION_ROLES: &[(u8, &str)] = &[(0, "Secondary (non-negotiable)")];

pub const TRANSMIT_RECEIVE: &[(u8, &str)] =
    &[(0, "Two-way alternating"), (1, "Two-way simultaneous")];

/// A checked XID3: fixed part present, XID length and DLC section within
/// the bytes.
#[derive(Clone, Copy, Debug)]
pub struct Xid3<'a> {
    bytes: &'a [u8],
}

impl<'a> Xid3<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, 0, 2, "XID header")?;
        let format = bytes[field::FORMAT_TYPE.start] >> 4;
        if format != 3 {
            return Err(Error::Invalid {
                what: "XID format",
                offset: field::FORMAT_TYPE.start,
                value: format.into(),
                rule: "EE nodes exchange format 3 XIDs",
            });
        }
        let len = usize::from(bytes[field::LENGTH.start]);
        if len < field::FIXED_LEN {
            return Err(Error::Invalid {
                what: "XID length",
                offset: field::LENGTH.start,
                value: len as u32,
                rule: "a format 3 XID has at least 19 bytes",
            });
        }
        need(bytes, 0, len, "XID3 (its length byte)")?;
        let dlc_len = usize::from(bytes[field::DLC_LENGTH.start]);
        if dlc_len == 0 || field::DLC_LENGTH.start + dlc_len > len {
            return Err(Error::Invalid {
                what: "XID3 DLC section length",
                offset: field::DLC_LENGTH.start,
                value: dlc_len as u32,
                rule: "counts its own byte and ends within the XID length",
            });
        }
        Ok(Xid3 {
            bytes: &bytes[..len],
        })
    }

    pub fn node_type(&self) -> u8 {
        self.bytes[field::FORMAT_TYPE.start] & 0x0F
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn node_id(&self) -> u32 {
        be32(self.bytes, field::NODE_ID.start)
    }
    pub fn id_block(&self) -> u32 {
        self.node_id() >> 20
    }
    pub fn id_number(&self) -> u32 {
        self.node_id() & 0x000F_FFFF
    }
    pub fn capabilities(&self) -> u16 {
        be16(self.bytes, field::CAPABILITIES.start)
    }
    pub fn exchange_state(&self) -> u8 {
        ((self.capabilities() & capabilities::EXCHANGE_STATE) >> 2) as u8
    }
    /// The byte at `at` (a one-byte range of [`field`]).
    pub fn byte(&self, at: std::ops::Range<usize>) -> u8 {
        self.bytes[at.start]
    }
    /// Whether the XID (its length) reaches to the end of `range`, and the
    /// DLC section covers it when it is part of that section.
    pub fn has(&self, range: std::ops::Range<usize>) -> bool {
        let dlc_end = field::DLC_LENGTH.start + self.dlc_section().len();
        range.end <= self.bytes.len() && (range.start < field::FIXED_LEN || range.end <= dlc_end)
    }
    pub fn tg_number(&self) -> u8 {
        self.bytes[field::TG_NUMBER.start]
    }
    pub fn dlc_type(&self) -> u8 {
        self.bytes[field::DLC_TYPE.start]
    }
    /// The DLC-dependent section, from byte 18 (its length byte) on.
    pub fn dlc_section(&self) -> &'a [u8] {
        let len = usize::from(self.bytes[field::DLC_LENGTH.start]);
        &self.bytes[field::DLC_LENGTH.start..field::DLC_LENGTH.start + len]
    }
    /// Maximum BTU length receivable, when the DLC section has the
    /// SDLC/LAN layout far enough (bytes 21–22).
    pub fn max_btu(&self) -> Option<u16> {
        self.has(field::DLC_MAX_BTU)
            .then(|| be16(self.bytes, field::DLC_MAX_BTU.start) & 0x7FFF)
    }
    /// Offset of the first control vector.
    pub fn vectors_offset(&self) -> usize {
        field::DLC_LENGTH.start + usize::from(self.bytes[field::DLC_LENGTH.start])
    }
    pub fn vectors(&self) -> Vectors<'a> {
        Vectors::new(
            &self.bytes[self.vectors_offset()..],
            Framing::KeyLength,
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cv;

    /// XID3 sent by HP-UX SNAplus2, printed in the "HP-UX SNAplus2
    /// Diagnostics Guide", appendix A, example A-2 (pages 119–122), with
    /// the guide's own decode of bytes 0–27; transcribed byte for byte.
    const SNAPLUS2_XID3: &str = "32540110 00020000 000AD100 00000000 \
        00010B41 00040900 00000007 000E0AF4 \
        C1D7D7D5 4BD4D6D6 D5102900 28110C08 \
        04F0F6F0 F0F0F609 06E2D5C1 E2E3C1D9 \
        03084011 0FE2D5C1 E2E3C1D9 40D3C9D4 \
        C9E3C5C4";

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_published_snaplus2_xid3() {
        let bytes = hex(SNAPLUS2_XID3);
        assert_eq!(bytes.len(), 84);
        let xid = Xid3::new_checked(&bytes).unwrap();
        // The guide: node type 2, length 0x54, block/ID number 01100002.
        assert_eq!((xid.node_type(), xid.len()), (2, 0x54));
        assert_eq!((xid.id_block(), xid.id_number()), (0x011, 0x00002));
        // "Prenegotiation exchange", "not a network node",
        // "Secondary initiated non-activation exchange supported".
        assert_eq!(xid.exchange_state(), 2);
        assert_eq!(xid.capabilities() & capabilities::NETWORK_NODE, 0);
        assert_ne!(xid.capabilities() & capabilities::NONACTIVATION_EXCHANGE, 0);
        // Byte 10 = D1: adaptive pacing both ways, PU capabilities CV,
        // "Adaptive pacing on both, negotiable" (qualifier 1).
        assert_eq!(xid.byte(field::BYTE10) & byte10::PACING_QUALIFIER, 1);
        assert_eq!((xid.tg_number(), xid.dlc_type()), (0, 1));
        // DLC section 0B: ABM, two-way simultaneous, max BTU 0x409.
        assert_eq!(xid.dlc_section().len(), 0x0B);
        assert_eq!(xid.byte(field::DLC_LINK_FLAGS), 0x41);
        assert_eq!(xid.max_btu(), Some(0x409));
        assert_eq!(xid.byte(field::DLC_MAX_IFRAMES), 7);
        // Control vectors: CP name APPN.MOON, product set id.
        let cvs: Vec<_> = xid.vectors().collect::<Result<_, _>>().unwrap();
        assert_eq!(cvs.len(), 2);
        assert_eq!(
            cv::network_name(cvs[0].data),
            Some((0xF4, "APPN.MOON".to_owned()))
        );
        assert_eq!(cvs[1].key, cv::PRODUCT_SET_ID);
        let (_, mut subvectors) = cv::product_set_subvectors(cvs[1].data);
        let product = subvectors.next().unwrap().unwrap();
        assert_eq!(product.key, cv::PRODUCT_IDENTIFIER);
        let (class, _, subfields) = cv::product_identifier(product.data).unwrap();
        assert_eq!(class, 0x0C);
        let subfields: Vec<_> = subfields.collect::<Result<_, _>>().unwrap();
        assert_eq!(subfields.len(), 4);
        assert_eq!(
            cv::common_level(subfields[0].data).as_deref(),
            Some("V06 R00 M06")
        );
        assert_eq!(crate::ebcdic::to_ascii(subfields[1].data), "SNASTAR");
        assert_eq!(
            crate::ebcdic::to_ascii(subfields[3].data),
            "SNASTAR LIMITED"
        );
    }

    #[test]
    fn lengths_are_checked() {
        let mut bytes = hex(SNAPLUS2_XID3);
        bytes.truncate(60);
        assert!(matches!(
            Xid3::new_checked(&bytes),
            Err(Error::Truncated {
                needed: 84,
                available: 60,
                ..
            })
        ));
        let mut bytes = hex(SNAPLUS2_XID3);
        bytes[field::DLC_LENGTH.start] = 0x80;
        assert!(matches!(
            Xid3::new_checked(&bytes),
            Err(Error::Invalid { offset: 18, .. })
        ));
    }
}
