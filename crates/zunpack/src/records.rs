//! Where unpacked records go: the bytes a binary FTP transfer with
//! `quote site rdw` would have given.  Fixed-length records are simply
//! concatenated; variable-length records each get a 4-byte record
//! descriptor word (2-byte big-endian length including the RDW, 2 zero
//! bytes; IBM DFSMS "Record descriptor word"), the framing the `ctrace`
//! crate and the IPCS report reader understand.

use crate::{Error, Result};

/// How the records of a data set are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// Fixed-length records of `lrecl` bytes, concatenated.
    Fixed { lrecl: u32 },
    /// Variable-length records, each with an RDW.
    Variable,
    /// Undefined-length records (or unknown), concatenated.
    Undefined,
}

impl RecordFormat {
    /// A short name: "F(80)", "V", "U".
    pub fn describe(&self) -> String {
        match self {
            RecordFormat::Fixed { lrecl } => format!("F({lrecl})"),
            RecordFormat::Variable => "V".to_owned(),
            RecordFormat::Undefined => "U".to_owned(),
        }
    }
}

/// The longest record an RDW can describe (its length counts itself).
pub const MAX_RDW_RECORD: usize = u16::MAX as usize - 4;

/// Collects records into one output buffer, never more than `limit`
/// bytes.
pub(crate) struct Sink {
    pub(crate) out: Vec<u8>,
    variable: bool,
    /// Where the RDW of the open variable record is.
    open: Option<usize>,
    limit: u64,
}

impl Sink {
    pub(crate) fn new(variable: bool, limit: u64) -> Sink {
        Sink {
            out: Vec::new(),
            variable,
            open: None,
            limit,
        }
    }

    fn room(&self, more: usize) -> Result<()> {
        if (self.out.len() + more) as u64 > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// Appends record bytes.
    pub(crate) fn bytes(&mut self, b: &[u8]) -> Result<()> {
        let rdw = self.variable && self.open.is_none();
        self.room(b.len() + if rdw { 4 } else { 0 })?;
        if rdw {
            self.open = Some(self.out.len());
            self.out.extend_from_slice(&[0; 4]);
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    pub(crate) fn byte(&mut self, b: u8) -> Result<()> {
        if self.open.is_some() || !self.variable {
            if self.out.len() as u64 >= self.limit {
                return Err(Error::TooLarge { limit: self.limit });
            }
            self.out.push(b);
            return Ok(());
        }
        self.bytes(&[b])
    }

    /// Ends the current record (variable records only; an empty record
    /// gets an RDW of its own).  `at` is the input offset for errors.
    pub(crate) fn end_record(&mut self, at: usize) -> Result<()> {
        if !self.variable {
            return Ok(());
        }
        let start = match self.open.take() {
            Some(start) => start,
            None => {
                self.room(4)?;
                self.out.extend_from_slice(&[0, 4, 0, 0]);
                return Ok(());
            }
        };
        let len = self.out.len() - start;
        if len - 4 > MAX_RDW_RECORD {
            return Err(Error::invalid(
                at,
                "record",
                format!(
                    "of {} bytes is longer than an RDW can describe ({MAX_RDW_RECORD})",
                    len - 4
                ),
            ));
        }
        self.out[start..start + 2].copy_from_slice(&(len as u16).to_be_bytes());
        Ok(())
    }

    /// Closes an open record and returns the bytes.
    pub(crate) fn finish(mut self, at: usize) -> Result<Vec<u8>> {
        if self.open.is_some() {
            self.end_record(at)?;
        }
        Ok(self.out)
    }
}

/// Splits RDW-framed bytes (as [`Sink`] writes them) into records; `None`
/// if they are not exactly that.
pub fn rdw_records(data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let head = data.get(at..at + 4)?;
        let len = u16::from_be_bytes([head[0], head[1]]) as usize;
        if len < 4 || head[2] != 0 || head[3] != 0 {
            return None;
        }
        out.push(data.get(at + 4..at + len)?);
        at += len;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_records_get_rdws() {
        let mut s = Sink::new(true, 100);
        s.bytes(b"ab").unwrap();
        s.byte(b'c').unwrap();
        s.end_record(0).unwrap();
        s.end_record(0).unwrap(); // empty record
        s.byte(b'd').unwrap();
        let out = s.finish(0).unwrap();
        assert_eq!(out, b"\x00\x07\x00\x00abc\x00\x04\x00\x00\x00\x05\x00\x00d");
        let recs = rdw_records(&out).unwrap();
        assert_eq!(recs, vec![&b"abc"[..], b"", b"d"]);
    }

    #[test]
    fn fixed_records_are_concatenated_and_limited() {
        let mut s = Sink::new(false, 3);
        s.bytes(b"ab").unwrap();
        s.end_record(0).unwrap();
        s.byte(b'c').unwrap();
        assert_eq!(s.byte(b'd'), Err(Error::TooLarge { limit: 3 }));
        assert_eq!(RecordFormat::Fixed { lrecl: 80 }.describe(), "F(80)");
    }

    #[test]
    fn rdw_split_refuses_other_bytes() {
        assert!(rdw_records(b"\x00\x03\x00\x00").is_none());
        assert!(rdw_records(b"\x00\x08\x00\x00ab").is_none());
        assert!(rdw_records(b"\x00\x05\x01\x00a").is_none());
        assert_eq!(rdw_records(b"").unwrap().len(), 0);
    }
}
