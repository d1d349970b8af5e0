//! The IEEE 802.2 LLC header that starts every EE UDP payload.
//!
//! Layout (IEEE 802.2 clause 3; RFC 2353 section 2.2 "LDLC"): DSAP (1 byte),
//! SSAP (1 byte, low bit set = response), and a one-byte U-format control
//! field.  EE uses only U-format frames, so the header is always 3 bytes.

use crate::Error;

pub mod field {
    use std::ops::Range;
    pub const DSAP: Range<usize> = 0..1;
    pub const SSAP: Range<usize> = 1..2;
    pub const CONTROL: Range<usize> = 2..3;
    pub const LEN: usize = 3;
}

/// Low bit of the SSAP: the frame is a response.
const SSAP_RESPONSE: u8 = 0x01;
/// The poll/final bit of a U-format control byte.
const CONTROL_POLL_FINAL: u8 = 0x10;

/// A U-format LLC command, with the poll/final bit masked off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// 0x03 unnumbered information: carries NHDR/THDR traffic.
    UnnumberedInfo,
    /// 0xAF exchange identification (XID).
    Xid,
    /// 0xE3 TEST.
    Test,
    /// 0x43 disconnect.
    Disconnect,
    /// 0x0F disconnected mode.
    DisconnectedMode,
    /// Any other control value.
    Other(u8),
}

impl Command {
    fn from_control(control: u8) -> Command {
        match control & !CONTROL_POLL_FINAL {
            0x03 => Command::UnnumberedInfo,
            0xAF => Command::Xid,
            0xE3 => Command::Test,
            0x43 => Command::Disconnect,
            0x0F => Command::DisconnectedMode,
            other => Command::Other(other),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Command::UnnumberedInfo => "UI",
            Command::Xid => "XID",
            Command::Test => "TEST",
            Command::Disconnect => "DISC",
            Command::DisconnectedMode => "DM",
            Command::Other(_) => "unknown U-format",
        }
    }
}

/// A read-only view of an LLC header.
#[derive(Clone, Copy, Debug)]
pub struct LlcHeader<'a> {
    bytes: &'a [u8],
}

impl<'a> LlcHeader<'a> {
    pub const LEN: usize = field::LEN;

    /// Checks once that the 3 header bytes are present.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < field::LEN {
            return Err(Error::Truncated {
                what: "LLC header",
                offset: 0,
                needed: field::LEN,
                available: bytes.len(),
            });
        }
        Ok(LlcHeader { bytes })
    }

    pub fn dsap(&self) -> u8 {
        self.bytes[field::DSAP.start]
    }

    pub fn ssap(&self) -> u8 {
        self.bytes[field::SSAP.start]
    }

    pub fn control(&self) -> u8 {
        self.bytes[field::CONTROL.start]
    }

    pub fn is_response(&self) -> bool {
        self.ssap() & SSAP_RESPONSE != 0
    }

    pub fn poll_final(&self) -> bool {
        self.control() & CONTROL_POLL_FINAL != 0
    }

    pub fn command(&self) -> Command {
        Command::from_control(self.control())
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[field::LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_xid_command_with_poll() {
        let frame = [0x04, 0x04, 0xBF, 0x32, 0x00];
        let llc = LlcHeader::new_checked(&frame).unwrap();
        assert_eq!((llc.dsap(), llc.ssap(), llc.control()), (0x04, 0x04, 0xBF));
        assert_eq!(llc.command(), Command::Xid);
        assert!(llc.poll_final());
        assert!(!llc.is_response());
        assert_eq!(llc.payload(), &[0x32, 0x00]);
    }

    #[test]
    fn response_bit_and_test_command() {
        let llc = LlcHeader::new_checked(&[0xC8, 0xC9, 0xF3]).unwrap();
        assert!(llc.is_response());
        assert_eq!(llc.command(), Command::Test);
        assert_eq!(llc.command().label(), "TEST");
    }

    #[test]
    fn short_input_reports_what_and_where() {
        let err = LlcHeader::new_checked(&[0x04, 0x04]).unwrap_err();
        assert_eq!(
            err,
            Error::Truncated {
                what: "LLC header",
                offset: 0,
                needed: 3,
                available: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "LLC header at byte 0 needs 3 bytes, only 2 present"
        );
    }
}
