//! SNA control vectors, in the two framings SNA uses:
//! - KL (XID3 and most SNA control vectors): key byte, then a length byte
//!   counting the data only (not the 2 header bytes);
//! - LT (RTP segment control vectors, MS subvectors and subfields): a
//!   length byte counting the whole vector including itself, then the key.
//!
//! Decoders for the vectors whose content is public: 0x0E network name,
//! 0x10 product set id (with 0x11 product identifier subvectors and their
//! subfields) and, in RTP, 0x05 network address with its nested vectors.
//! Everything else (0x46 TG descriptor subfields, 0x61 HPR capabilities, …)
//! is shown as key, length and raw data.  Sources: docs/ee.md, "Control
//! vectors".

use crate::{ebcdic, Error};

/// The two header layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// key, length of the data.
    KeyLength,
    /// length of the whole vector, key.
    LengthKey,
}

/// The header bytes of a vector in each framing.
pub mod field {
    use std::ops::Range;
    /// Key-length: key, then the length of the data.
    pub const KL_KEY: Range<usize> = 0..1;
    pub const KL_LEN: Range<usize> = 1..2;
    /// Length-key: the length of the whole vector, then the key.
    pub const LT_LEN: Range<usize> = 0..1;
    pub const LT_KEY: Range<usize> = 1..2;
    /// The data follows the header in both.
    pub const DATA: usize = 2;

    /// Within the data of CV X'0E' network name.
    pub const NAME_TYPE: Range<usize> = 0..1;
    pub const NAME: usize = 1;
    /// Within the data of CV X'10' product set ID: a reserved byte, then
    /// subvectors.
    pub const PRODUCT_SET_RESERVED: Range<usize> = 0..1;
    pub const PRODUCT_SET_SUBVECTORS: usize = 1;
    /// Within the data of subvector X'11' product identifier.
    pub const PRODUCT_CLASS: Range<usize> = 0..1;
    pub const PRODUCT_SUBFIELDS: usize = 1;
    /// Within the data of CV X'05' network address (RTP connection setup).
    pub const NETADDR_FLAGS: Range<usize> = 0..1;
    pub const NETADDR_RESERVED: Range<usize> = 1..2;
    pub const NETADDR_VECTORS: usize = 2;
    /// Within the data of TG descriptor subfield X'80' TG identifier.
    pub const TG_NUMBER: Range<usize> = 0..1;
    pub const TG_PARTNER: usize = 1;
    /// Within the data of CV X'22' XID negotiation error.
    pub const NEG_ERROR_BYTE: Range<usize> = 0..2;
    pub const NEG_ERROR_BIT: Range<usize> = 2..3;
    pub const NEG_ERROR_SENSE: Range<usize> = 3..7;
}

/// One control vector (or subvector, or subfield) found in a list.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    /// Offset of the vector's first header byte within the list's bytes.
    pub offset: usize,
    pub key: u8,
    /// Bytes the vector covers, header included.
    pub len: usize,
    /// The data after the 2 header bytes.
    pub data: &'a [u8],
    pub framing: Framing,
}

impl Vector<'_> {
    /// The whole vector, relative to the list's start.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
    /// The key byte, relative to the list's start.
    pub fn key_range(&self) -> std::ops::Range<usize> {
        let key = match self.framing {
            Framing::KeyLength => field::KL_KEY,
            Framing::LengthKey => field::LT_KEY,
        };
        self.offset + key.start..self.offset + key.end
    }
    /// The length byte, relative to the list's start.
    pub fn len_range(&self) -> std::ops::Range<usize> {
        let len = match self.framing {
            Framing::KeyLength => field::KL_LEN,
            Framing::LengthKey => field::LT_LEN,
        };
        self.offset + len.start..self.offset + len.end
    }
    /// The data, relative to the list's start.
    pub fn data_range(&self) -> std::ops::Range<usize> {
        self.offset + field::DATA..self.offset + self.len
    }
}

/// Walks a list of vectors; yields an error (once, then stops) where a
/// header or a length runs past the end.
pub struct Vectors<'a> {
    bytes: &'a [u8],
    offset: usize,
    framing: Framing,
    /// LT vectors of RTP segments are padded to a multiple of 4 bytes.
    pad_to_4: bool,
    failed: bool,
}

impl<'a> Vectors<'a> {
    pub fn new(bytes: &'a [u8], framing: Framing, pad_to_4: bool) -> Self {
        Vectors {
            bytes,
            offset: 0,
            framing,
            pad_to_4,
            failed: false,
        }
    }
}

impl<'a> Iterator for Vectors<'a> {
    type Item = Result<Vector<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let at = self.offset;
        let rest = &self.bytes[at..];
        let fail = |what, needed, available| Error::Truncated {
            what,
            offset: at,
            needed,
            available,
        };
        if rest.len() < 2 {
            self.failed = true;
            return Some(Err(fail("control vector header", 2, rest.len())));
        }
        let (key, len) = match self.framing {
            Framing::KeyLength => (
                rest[field::KL_KEY.start],
                usize::from(rest[field::KL_LEN.start]) + field::DATA,
            ),
            Framing::LengthKey => (
                rest[field::LT_KEY.start],
                usize::from(rest[field::LT_LEN.start]),
            ),
        };
        if len < field::DATA {
            self.failed = true;
            return Some(Err(Error::Invalid {
                what: "control vector length",
                offset: at,
                value: len as u32,
                rule: "a length-key vector counts its own 2 header bytes",
            }));
        }
        if rest.len() < len {
            self.failed = true;
            return Some(Err(fail("control vector", len, rest.len())));
        }
        let step = if self.pad_to_4 { (len + 3) & !3 } else { len };
        self.offset = at + step.min(rest.len());
        Some(Ok(Vector {
            offset: at,
            key,
            len,
            data: &rest[field::DATA..len],
            framing: self.framing,
        }))
    }
}

pub const NETWORK_NAME: u8 = 0x0E;
pub const PRODUCT_SET_ID: u8 = 0x10;
pub const PRODUCT_IDENTIFIER: u8 = 0x11;
pub const TG_DESCRIPTOR: u8 = 0x46;
pub const HPR_CAPABILITIES: u8 = 0x61;
pub const NETWORK_ADDRESS: u8 = 0x05;

/// Names of control vector keys seen in XID3 and HPR.
pub const KEYS: &[(u8, &str)] = &[
    (0x05, "Network address"),
    (PRODUCT_IDENTIFIER, "Product identifier"),
    (NETWORK_NAME, "Network name"),
    (PRODUCT_SET_ID, "Product set ID"),
    (0x22, "XID negotiation error"),
    (0x2C, "COS/TPF"),
    (0x32, "Short-hold mode"),
    (TG_DESCRIPTOR, "TG descriptor"),
    (0x47, "TG characteristics"),
    (0x4B, "RTP transport connection identifier"),
    (0x51, "DLUR/S capabilities"),
    (0x60, "Fully qualified PCID"),
    (HPR_CAPABILITIES, "HPR capabilities"),
    (0x67, "ANR path"),
    (0x83, "Switching information"),
    (0x85, "Return route TG descriptor"),
];

/// CV 0x0E name types (byte 0 of the data).
pub const NAME_TYPES: &[(u8, &str)] = &[
    (0xF1, "PU name"),
    (0xF3, "LU name"),
    (0xF4, "CP name"),
    (0xF5, "SSCP name"),
    (0xF6, "NNCP name"),
    (0xF7, "Link station name"),
    (0xF8, "CP name of CP(PLU)"),
    (0xF9, "CP name of CP(SLU)"),
    (0xFA, "Generic name"),
];

/// CV 0x0E: (name type, name in text).
pub fn network_name(data: &[u8]) -> Option<(u8, String)> {
    let kind = *data.get(field::NAME_TYPE.start)?;
    Some((kind, ebcdic::to_ascii(&data[field::NAME..])))
}

/// Product classification of a 0x11 product identifier subvector.
pub const PRODUCT_CLASSES: &[(u8, &str)] = &[
    (0x01, "IBM hardware"),
    (0x03, "IBM or non-IBM hardware"),
    (0x04, "IBM software"),
    (0x09, "Non-IBM hardware"),
    (0x0C, "Non-IBM software"),
    (0x0E, "IBM or non-IBM software"),
];

/// Subfields of a product identifier subvector.
pub const PRODUCT_SUBFIELDS: &[(u8, &str)] = &[
    (0x00, "Hardware product identifier"),
    (0x04, "Software product common level"),
    (0x06, "Software product common name"),
    (0x08, "Software product program number"),
];

/// CV 0x10: the subvectors after its reserved byte (LT framing), with the
/// offset of the list within the vector's data.
pub fn product_set_subvectors(data: &[u8]) -> (usize, Vectors<'_>) {
    let start = data.len().min(field::PRODUCT_SET_SUBVECTORS);
    (
        start,
        Vectors::new(&data[start..], Framing::LengthKey, false),
    )
}

/// A 0x11 product identifier subvector's data: (classification, offset of
/// the subfields within the data, subfields).
pub fn product_identifier(data: &[u8]) -> Option<(u8, usize, Vectors<'_>)> {
    let class = *data.get(field::PRODUCT_CLASS.start)?;
    let rest = &data[field::PRODUCT_SUBFIELDS..];
    Some((
        class,
        field::PRODUCT_SUBFIELDS,
        Vectors::new(rest, Framing::LengthKey, false),
    ))
}

/// HPR control vectors nested in a 0x05 network address (RTP connection
/// setup): keys as IBM sense code A018 lists them.
pub const HPR_NODE_IDENTIFIER: u8 = 0x00;
pub const HPR_NETWORK_IDENTIFIER: u8 = 0x03;
pub const HPR_KEYS: &[(u8, &str)] = &[
    (HPR_NODE_IDENTIFIER, "Node identifier"),
    (HPR_NETWORK_IDENTIFIER, "Network identifier"),
    (NETWORK_ADDRESS, "Network address"),
    (0x26, "NCE identifier"),
];
/// Byte 0 of a 0x05 network address in RTP: point-to-point.
pub const NETWORK_ADDRESS_POINT_TO_POINT: u8 = 0x80;

/// CV 0x05 in an RTP segment: (flags byte, offset of the nested vectors
/// within the data, the nested vectors: length-key, padded to 4 bytes).
pub fn network_address(data: &[u8]) -> Option<(u8, usize, Vectors<'_>)> {
    (data.len() >= field::NETADDR_VECTORS).then(|| {
        (
            data[field::NETADDR_FLAGS.start],
            field::NETADDR_VECTORS,
            Vectors::new(&data[field::NETADDR_VECTORS..], Framing::LengthKey, true),
        )
    })
}

/// The sense code IBM reports (A018) for a vector nested in CV X'05' whose
/// length runs past the CV: X'A01805kk', kk the nested vector's key.
pub fn network_address_length_sense(nested_key: u8) -> u32 {
    0xA018_0500 | u32::from(nested_key)
}

/// CV X'22' XID negotiation error: (byte offset, bit offset of the field in
/// error within the XID, sense data).  Layout from one implementation
/// (Linux-SNA sna_vectors.h, sna_cv_xid_neg_err): docs/ee.md.
pub const XID_NEGOTIATION_ERROR: u8 = 0x22;

pub fn xid_negotiation_error(data: &[u8]) -> Option<(u16, u8, u32)> {
    (data.len() >= field::NEG_ERROR_SENSE.end).then(|| {
        (
            crate::be16(data, field::NEG_ERROR_BYTE.start),
            data[field::NEG_ERROR_BIT.start],
            crate::be32(data, field::NEG_ERROR_SENSE.start),
        )
    })
}

/// CV 0x46 TG descriptor: its subfields (length-key framing).
pub fn tg_descriptor_subfields(data: &[u8]) -> Vectors<'_> {
    Vectors::new(data, Framing::LengthKey, false)
}

/// TG descriptor subfield 0x80, TG identifier: (TG number, partner CP
/// name).  Layout from one implementation only (docs/ee.md: low confidence).
pub const TG_IDENTIFIER: u8 = 0x80;

pub fn tg_identifier(data: &[u8]) -> Option<(u8, String)> {
    let tg = *data.get(field::TG_NUMBER.start)?;
    Some((tg, ebcdic::to_ascii(&data[field::TG_PARTNER..])))
}

/// A software common level subfield's text "Vvv Rrr Mmm".
pub fn common_level(data: &[u8]) -> Option<String> {
    (data.len() == 6).then(|| {
        let text = ebcdic::to_ascii(data);
        format!("V{} R{} M{}", &text[0..2], &text[2..4], &text[4..6])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_length_list_and_names() {
        let list = [
            0x0E, 0x04, 0xF4, 0xC1, 0xD7, 0xD7, // CP name "APP"
            0x61, 0x00, // empty HPR capabilities
        ];
        let cvs: Vec<_> = Vectors::new(&list, Framing::KeyLength, false)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(cvs.len(), 2);
        assert_eq!(network_name(cvs[0].data), Some((0xF4, "APP".to_owned())));
        assert_eq!((cvs[1].offset, cvs[1].key, cvs[1].len), (6, 0x61, 2));
    }

    #[test]
    fn tg_descriptor_identifier() {
        // subfield 0x80: TG 21, partner "NETB"
        let data = [0x07, 0x80, 21, 0xD5, 0xC5, 0xE3, 0xC2];
        let sub: Vec<_> = tg_descriptor_subfields(&data)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sub[0].key, TG_IDENTIFIER);
        assert_eq!(tg_identifier(sub[0].data), Some((21, "NETB".to_owned())));
    }

    #[test]
    fn length_key_padding_and_errors() {
        let list = [0x03, 0x05, 0xAA, 0x00, 0x02, 0x00];
        let cvs: Vec<_> = Vectors::new(&list, Framing::LengthKey, true).collect();
        assert_eq!(cvs.len(), 2);
        assert_eq!(cvs[1].as_ref().unwrap().offset, 4);
        let bad: Vec<_> = Vectors::new(&[0x01, 0x05], Framing::LengthKey, false).collect();
        assert!(matches!(bad[0], Err(Error::Invalid { offset: 0, .. })));
        let short: Vec<_> = Vectors::new(&[0x0E, 0x09, 0xF4], Framing::KeyLength, false).collect();
        assert!(matches!(
            short[0],
            Err(Error::Truncated {
                needed: 11,
                available: 3,
                ..
            })
        ));
    }
}
