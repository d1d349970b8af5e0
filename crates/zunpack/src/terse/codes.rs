//! The 12-bit code stream: two codes in three bytes, high bits first.

use crate::{Error, Result};

pub(crate) struct Codes<'a> {
    input: &'a [u8],
    pos: usize,
    /// The low four bits of the last byte read, when a code is half done.
    pending: Option<u8>,
}

impl<'a> Codes<'a> {
    pub(crate) fn new(input: &'a [u8], start: usize) -> Codes<'a> {
        Codes {
            input,
            pos: start.min(input.len()),
            pending: None,
        }
    }

    /// Byte offset of the next unread byte.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// The next code, `None` at the end of the stream: code 0, or the end
    /// of the input on a code boundary (or with only the 4 pad bits of a
    /// half-used byte left).  Eight bits alone cannot be a code: truncated.
    pub(crate) fn next_code(&mut self) -> Result<Option<u16>> {
        let code = match self.pending.take() {
            Some(high) => {
                let Some(&low) = self.input.get(self.pos) else {
                    return Ok(None);
                };
                self.pos += 1;
                u16::from(high) << 8 | u16::from(low)
            }
            None => {
                let Some(&high) = self.input.get(self.pos) else {
                    return Ok(None);
                };
                let Some(&low) = self.input.get(self.pos + 1) else {
                    return Err(Error::truncated(self.pos, "TERSE code", 2, 1));
                };
                self.pos += 2;
                self.pending = Some(low & 0x0F);
                u16::from(high) << 4 | u16::from(low >> 4)
            }
        };
        Ok((code != 0).then_some(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_codes_in_three_bytes() {
        let b = [0xAB, 0xCD, 0xEF, 0x12, 0x30];
        let mut c = Codes::new(&b, 0);
        assert_eq!(c.next_code().unwrap(), Some(0xABC));
        assert_eq!(c.next_code().unwrap(), Some(0xDEF));
        assert_eq!(c.next_code().unwrap(), Some(0x123));
        // 0x0 in the last nibble: end (pad bits)
        assert_eq!(c.next_code().unwrap(), None);
        assert_eq!(c.offset(), 5);
    }

    #[test]
    fn zero_code_and_truncation() {
        let mut c = Codes::new(&[0x00, 0x01], 0);
        assert_eq!(c.next_code().unwrap(), None);
        let mut c = Codes::new(&[0x12], 0);
        assert!(matches!(
            c.next_code(),
            Err(Error::Truncated { offset: 0, .. })
        ));
        let mut c = Codes::new(&[1, 2, 3], 9);
        assert_eq!(c.next_code().unwrap(), None);
    }
}
