//! FID5 transmission header and request/response header: what follows an
//! RTP transport header that starts a message (SOMI set) carrying session
//! traffic.
//!
//! FID5 TH (SNA Formats GA27-3136, "Transmission Headers", FID5), 12 bytes:
//! byte 0 FID (high nibble 5), mapping field MPF (0x0C), expedited flow
//! indicator EFI (0x01); byte 1 reserved; bytes 2–3 sequence number field;
//! bytes 4–11 session address.  RH (same book, "Request/Response Header"),
//! 3 bytes of flags, masks below.

use crate::{be16, be64, need, Error};

pub mod field {
    use std::ops::Range;
    /// FID type, mapping field, expedited flow indicator.
    pub const BYTE0: Range<usize> = 0..1;
    pub const RESERVED: Range<usize> = 1..2;
    pub const SNF: Range<usize> = 2..4;
    pub const SESSION_ADDRESS: Range<usize> = 4..12;
    pub const TH: Range<usize> = 0..12;
    pub const RH: Range<usize> = 12..15;
    pub const RH0: Range<usize> = 12..13;
    pub const RH1: Range<usize> = 13..14;
    pub const RH2: Range<usize> = 14..15;
    /// TH and RH; the RU follows.
    pub const LEN: usize = 15;
    /// A negative response's RU starts with 4 bytes of sense data (RU
    /// relative).
    pub const SENSE: Range<usize> = 0..4;
}

/// Byte 0 of the TH.
pub mod th_flags {
    pub const FID_TYPE: u8 = 0xF0;
    pub const MPF: u8 = 0x0C;
    pub const EFI: u8 = 0x01;
}

/// The FID type value of a FID5 TH (high nibble of byte 0).
pub const FID5: u8 = 0x5;

/// RH byte 0.
pub mod rh0 {
    pub const RRI: u8 = 0x80;
    pub const RU_CATEGORY: u8 = 0x60;
    pub const FI: u8 = 0x08;
    pub const SDI: u8 = 0x04;
    pub const BCI: u8 = 0x02;
    pub const ECI: u8 = 0x01;
}

/// RH byte 1.
pub mod rh1 {
    pub const DR1I: u8 = 0x80;
    pub const LCCI: u8 = 0x40;
    pub const DR2I: u8 = 0x20;
    pub const ERI: u8 = 0x10;
    pub const RLWI: u8 = 0x04;
    pub const QRI: u8 = 0x02;
    pub const PI: u8 = 0x01;
}

/// RH byte 2.
pub mod rh2 {
    pub const BBI: u8 = 0x80;
    pub const EBI: u8 = 0x40;
    pub const CDI: u8 = 0x20;
    pub const CSI: u8 = 0x08;
    pub const EDI: u8 = 0x04;
    pub const PDI: u8 = 0x02;
    pub const CEBI: u8 = 0x01;
}

/// RU category (RH byte 0, bits 1–2).
pub const RU_CATEGORIES: &[(u8, &str)] = &[
    (0, "function management data (FMD)"),
    (1, "network control (NC)"),
    (2, "data flow control (DFC)"),
    (3, "session control (SC)"),
];

/// Mapping field (TH byte 0, bits 4–5).
pub const MAPPING_FIELDS: &[(u8, &str)] = &[
    (0, "middle segment"),
    (1, "last segment"),
    (2, "first segment"),
    (3, "whole BIU"),
];

/// A FID5 TH followed by its RH.
#[derive(Clone, Copy, Debug)]
pub struct Fid5<'a> {
    bytes: &'a [u8],
}

impl<'a> Fid5<'a> {
    pub const LEN: usize = field::LEN;

    /// Checks the 15 bytes of TH + RH and that the FID type is 5.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, 0, field::LEN, "FID5 TH and RH")?;
        let fid = bytes[field::BYTE0.start] >> 4;
        if fid != FID5 {
            return Err(Error::Invalid {
                what: "TH FID type",
                offset: field::BYTE0.start,
                value: fid.into(),
                rule: "an RTP message carries FID5 transmission headers",
            });
        }
        Ok(Fid5 { bytes })
    }

    pub fn th_byte0(&self) -> u8 {
        self.bytes[field::BYTE0.start]
    }
    pub fn mapping_field(&self) -> u8 {
        (self.th_byte0() & th_flags::MPF) >> 2
    }
    pub fn expedited(&self) -> bool {
        self.th_byte0() & th_flags::EFI != 0
    }
    pub fn sequence_number(&self) -> u16 {
        be16(self.bytes, field::SNF.start)
    }
    pub fn session_address(&self) -> u64 {
        be64(self.bytes, field::SESSION_ADDRESS.start)
    }
    pub fn rh(&self) -> [u8; 3] {
        [
            self.bytes[field::RH0.start],
            self.bytes[field::RH1.start],
            self.bytes[field::RH2.start],
        ]
    }
    /// A negative response (RRI and RTI set) with sense data (SDI): the
    /// sense code at the start of the RU, when captured.
    pub fn sense(&self) -> Option<u32> {
        let [b0, b1, _] = self.rh();
        let negative = b0 & rh0::RRI != 0 && b1 & rh1::ERI != 0;
        (negative && b0 & rh0::SDI != 0 && self.ru().len() >= field::SENSE.end)
            .then(|| crate::be32(self.ru(), field::SENSE.start))
    }
    pub fn is_response(&self) -> bool {
        self.rh()[0] & rh0::RRI != 0
    }
    pub fn ru_category(&self) -> u8 {
        (self.rh()[0] & rh0::RU_CATEGORY) >> 5
    }
    /// The request/response unit after the RH.
    pub fn ru(&self) -> &'a [u8] {
        &self.bytes[field::LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_th_and_rh() {
        let biu = [
            0x5C, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, // TH
            0x6B, 0x80, 0x00, // RH: SC request, FI, BCI, ECI; DR1I
            0x31, // RU: BIND
        ];
        let fid5 = Fid5::new_checked(&biu).unwrap();
        assert_eq!(fid5.mapping_field(), 3);
        assert!(!fid5.expedited());
        assert_eq!(fid5.sequence_number(), 7);
        assert_eq!(fid5.session_address(), 0x0000_0000_0001_0002);
        assert_eq!(fid5.ru_category(), 3);
        assert!(!fid5.is_response());
        assert_eq!(fid5.ru(), &[0x31]);
    }

    #[test]
    fn other_fid_types_are_refused_with_offset() {
        let mut biu = [0u8; 15];
        biu[0] = 0x2C;
        let err = Fid5::new_checked(&biu).unwrap_err();
        assert!(matches!(
            err,
            Error::Invalid {
                offset: 0,
                value: 2,
                ..
            }
        ));
    }
}
