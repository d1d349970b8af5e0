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
            Framing::KeyLength => (rest[0], usize::from(rest[1]) + 2),
            Framing::LengthKey => (rest[1], usize::from(rest[0])),
        };
        if len < 2 {
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
            data: &rest[2..len],
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
    let (&kind, name) = data.split_first()?;
    Some((kind, ebcdic::to_ascii(name)))
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
    let start = data.len().min(1);
    (
        start,
        Vectors::new(&data[start..], Framing::LengthKey, false),
    )
}

/// A 0x11 product identifier subvector's data: (classification, offset of
/// the subfields within the data, subfields).
pub fn product_identifier(data: &[u8]) -> Option<(u8, usize, Vectors<'_>)> {
    let (&class, rest) = data.split_first()?;
    Some((class, 1, Vectors::new(rest, Framing::LengthKey, false)))
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
    (data.len() >= 2).then(|| {
        (
            data[0],
            2,
            Vectors::new(&data[2..], Framing::LengthKey, true),
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
    let (&tg, name) = data.split_first()?;
    Some((tg, ebcdic::to_ascii(name)))
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
