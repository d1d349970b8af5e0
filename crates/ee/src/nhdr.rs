//! HPR network layer header (NHDR): the first header of a network layer
//! packet (NLP), right after the LLC header of an EE UI frame.
//!
//! Byte 0: switching mode (0xE0: 5 function routing, 6 ANR) and
//! transmission priority (0x06).  Byte 1: function type (0xF0, 1 = LDLC),
//! time-sensitive (0x08), slowdown 1 (0x04) and slowdown 2 (0x02).  From
//! byte 2 the ANR labels (ANR) or function routing entries (FR), ended by
//! and including X'FF', then one reserved byte.  In FR mode with function
//! type LDLC one function routing header byte follows.  Sources and
//! confidence: docs/ee.md, "NHDR".

use crate::{need, Error};

pub mod field {
    use std::ops::Range;
    pub const BYTE0: Range<usize> = 0..1;
    pub const BYTE1: Range<usize> = 1..2;
    /// The routing list starts here and runs to its X'FF' end.
    pub const LABELS: usize = 2;
    /// After the X'FF': one reserved byte (relative to the X'FF').
    pub const RESERVED_AFTER_END: usize = 1;
    /// FR mode, function type LDLC: the function routing header byte
    /// (relative to the X'FF').
    pub const FRH_AFTER_END: usize = 2;
}

/// Byte 0 masks.
pub mod byte0 {
    pub const SWITCHING_MODE: u8 = 0xE0;
    pub const TRANSMISSION_PRIORITY: u8 = 0x06;
}

/// Byte 1 masks.
pub mod byte1 {
    pub const FUNCTION_TYPE: u8 = 0xF0;
    pub const TIME_SENSITIVE: u8 = 0x08;
    pub const SLOWDOWN1: u8 = 0x04;
    pub const SLOWDOWN2: u8 = 0x02;
}

/// The byte that ends the ANR label / FR entry list (part of the list).
pub const LIST_END: u8 = 0xFF;

pub const SWITCHING_FUNCTION_ROUTING: u8 = 5;
pub const SWITCHING_ANR: u8 = 6;
pub const FUNCTION_TYPE_LDLC: u8 = 1;

pub const SWITCHING_MODES: &[(u8, &str)] = &[
    (SWITCHING_FUNCTION_ROUTING, "Function routing"),
    (SWITCHING_ANR, "Automatic network routing (ANR)"),
];

pub const TRANSMISSION_PRIORITIES: &[(u8, &str)] =
    &[(0, "Low"), (1, "Medium"), (2, "High"), (3, "Network")];

pub const FUNCTION_TYPES: &[(u8, &str)] = &[(FUNCTION_TYPE_LDLC, "LDLC")];

/// Function routing header values (FR mode, function type LDLC).
pub const FRH_XID_COMPLETE_REQUEST: u8 = 0x03;
pub const FRH_XID_COMPLETE_RESPONSE: u8 = 0x04;
pub const FUNCTION_ROUTING_HEADERS: &[(u8, &str)] = &[
    (FRH_XID_COMPLETE_REQUEST, "XID complete request"),
    (FRH_XID_COMPLETE_RESPONSE, "XID complete response"),
];

/// A checked NHDR: the list end was found and every fixed byte is present.
#[derive(Clone, Copy, Debug)]
pub struct Nhdr<'a> {
    bytes: &'a [u8],
    /// Offset of the X'FF' that ends the label list.
    list_end: usize,
    /// Header length (up to the THDR, or past the FRH).
    len: usize,
}

impl<'a> Nhdr<'a> {
    /// Checks the two fixed bytes, finds the list end and the bytes after it.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, 0, 2, "NHDR")?;
        let mode = (bytes[field::BYTE0.start] & byte0::SWITCHING_MODE) >> 5;
        if mode != SWITCHING_FUNCTION_ROUTING && mode != SWITCHING_ANR {
            return Err(Error::Invalid {
                what: "NHDR switching mode",
                offset: field::BYTE0.start,
                value: mode.into(),
                rule: "must be 5 (function routing) or 6 (ANR)",
            });
        }
        let list_end = bytes[field::LABELS..]
            .iter()
            .position(|&b| b == LIST_END)
            .map(|i| field::LABELS + i)
            .ok_or(Error::Truncated {
                what: "NHDR label list (no X'FF' end)",
                offset: field::LABELS,
                needed: bytes.len().saturating_sub(field::LABELS) + 1,
                available: bytes.len().saturating_sub(field::LABELS),
            })?;
        // The reserved byte after the list end.
        let mut len = list_end + field::RESERVED_AFTER_END + 1;
        let view = Nhdr {
            bytes,
            list_end,
            len,
        };
        if view.has_function_routing_header() {
            len += 1;
        }
        need(bytes, 0, len, "NHDR")?;
        Ok(Nhdr { len, ..view })
    }

    pub fn byte0(&self) -> u8 {
        self.bytes[field::BYTE0.start]
    }
    pub fn byte1(&self) -> u8 {
        self.bytes[field::BYTE1.start]
    }
    pub fn switching_mode(&self) -> u8 {
        (self.byte0() & byte0::SWITCHING_MODE) >> 5
    }
    pub fn is_anr(&self) -> bool {
        self.switching_mode() == SWITCHING_ANR
    }
    pub fn transmission_priority(&self) -> u8 {
        (self.byte0() & byte0::TRANSMISSION_PRIORITY) >> 1
    }
    pub fn function_type(&self) -> u8 {
        (self.byte1() & byte1::FUNCTION_TYPE) >> 4
    }
    pub fn slowdown(&self) -> bool {
        self.byte1() & (byte1::SLOWDOWN1 | byte1::SLOWDOWN2) != 0
    }
    /// The labels (ANR) or routing entries (FR), without the X'FF'.
    pub fn labels(&self) -> &'a [u8] {
        &self.bytes[field::LABELS..self.list_end]
    }
    /// Offset of the X'FF' list end.
    pub fn list_end_offset(&self) -> usize {
        self.list_end
    }
    /// The reserved byte after the list end.
    pub fn reserved_range(&self) -> std::ops::Range<usize> {
        let at = self.list_end + field::RESERVED_AFTER_END;
        at..at + 1
    }
    /// The routing list, X'FF' included.
    pub fn list_range(&self) -> std::ops::Range<usize> {
        field::LABELS..self.list_end + 1
    }
    /// The labels or entries, without the X'FF'.
    pub fn labels_range(&self) -> std::ops::Range<usize> {
        field::LABELS..self.list_end
    }
    /// The X'FF' that ends the list.
    pub fn list_end_range(&self) -> std::ops::Range<usize> {
        self.list_end..self.list_end + 1
    }
    /// The function routing header byte (FR mode, function type LDLC).
    pub fn function_routing_header_range(&self) -> Option<std::ops::Range<usize>> {
        let at = self.list_end + field::FRH_AFTER_END;
        self.has_function_routing_header().then(|| at..at + 1)
    }
    fn has_function_routing_header(&self) -> bool {
        !self.is_anr() && self.function_type() == FUNCTION_TYPE_LDLC
    }
    /// FR mode, function type LDLC: the function routing header byte and
    /// its offset.
    pub fn function_routing_header(&self) -> Option<(usize, u8)> {
        let at = self.list_end + field::FRH_AFTER_END;
        self.has_function_routing_header()
            .then(|| (at, self.bytes[at]))
    }
    /// Header length: where the THDR (ANR) or the LDLC data (FR) starts.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anr_header_with_two_labels() {
        // ANR, high priority; slowdown1; labels 0x80 0x12; end; reserved.
        let nlp = [0xC4, 0x04, 0x80, 0x12, 0xFF, 0x00, 0xAA];
        let nhdr = Nhdr::new_checked(&nlp).unwrap();
        assert!(nhdr.is_anr());
        assert_eq!(nhdr.transmission_priority(), 2);
        assert!(nhdr.slowdown());
        assert_eq!(nhdr.labels(), &[0x80, 0x12]);
        assert_eq!(nhdr.len(), 6);
        assert_eq!(nhdr.payload(), &[0xAA]);
        assert_eq!(nhdr.function_routing_header(), None);
    }

    #[test]
    fn function_routing_ldlc_has_an_frh() {
        let nlp = [0xA6, 0x10, 0xFF, 0x00, 0x03];
        let nhdr = Nhdr::new_checked(&nlp).unwrap();
        assert_eq!(nhdr.switching_mode(), 5);
        assert_eq!(nhdr.function_type(), FUNCTION_TYPE_LDLC);
        assert_eq!(nhdr.function_routing_header(), Some((4, 3)));
        assert_eq!(nhdr.len(), 5);
    }

    #[test]
    fn missing_list_end_and_bad_mode_are_errors() {
        let err = Nhdr::new_checked(&[0xC0, 0x00, 0x01, 0x02]).unwrap_err();
        assert!(matches!(err, Error::Truncated { offset: 2, .. }), "{err}");
        let err = Nhdr::new_checked(&[0x20, 0x00, 0xFF, 0x00]).unwrap_err();
        assert!(matches!(err, Error::Invalid { value: 1, .. }), "{err}");
        // FR/LDLC without its FRH byte
        let err = Nhdr::new_checked(&[0xA0, 0x10, 0xFF, 0x00]).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
    }
}
