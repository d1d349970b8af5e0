//! GDS variable header, as it starts a Route Setup message on an RTP
//! connection: 2-byte length (0x7FFF, header included; 0x8000 continuation)
//! and a 2-byte GDS id, 0x12CE for Route Setup.  The layout of the Route
//! Setup body is not public (docs/ee.md, "Route Setup"): it is shown raw.

use crate::{be16, need, Error};

pub mod field {
    use std::ops::Range;
    /// Length (header included) and continuation flag.
    pub const LENGTH: Range<usize> = 0..2;
    pub const ID: Range<usize> = 2..4;
}

pub const ROUTE_SETUP: u16 = 0x12CE;
pub const LENGTH_MASK: u16 = 0x7FFF;
pub const CONTINUATION: u16 = 0x8000;
pub const HEADER_LEN: usize = 4;

pub const GDS_IDS: &[(u32, &str)] = &[(ROUTE_SETUP as u32, "Route Setup")];

#[derive(Clone, Copy, Debug)]
pub struct Gds<'a> {
    bytes: &'a [u8],
}

impl<'a> Gds<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, 0, HEADER_LEN, "GDS variable header")?;
        let len = usize::from(be16(bytes, field::LENGTH.start) & LENGTH_MASK);
        if len < HEADER_LEN {
            return Err(Error::Invalid {
                what: "GDS variable length",
                offset: 0,
                value: len as u32,
                rule: "counts its own 4 header bytes",
            });
        }
        Ok(Gds { bytes })
    }
    pub fn length_word(&self) -> u16 {
        be16(self.bytes, field::LENGTH.start)
    }
    pub fn len(&self) -> usize {
        usize::from(self.length_word() & LENGTH_MASK)
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn id(&self) -> u16 {
        be16(self.bytes, field::ID.start)
    }
    /// The body as far as captured.
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..self.len().min(self.bytes.len())]
    }
}

/// Whether data after a THDR starts a Route Setup GDS variable.
pub fn is_route_setup(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN && be16(data, field::ID.start) == ROUTE_SETUP
}
