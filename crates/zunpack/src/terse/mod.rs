//! AMATERSE / TERSE (PACK and SPACK) decompression.
//!
//! The format, as the published open-source decoders establish it
//! (openmainframeproject/tersedecompress, Apache-2.0, `TerseHeader.java`,
//! `NonSpackDecompresser.java`, `SpackDecompresser.java`,
//! `TerseBlockReader.java`; terselib, a second independent implementation
//! validated against IBM's test corpus), restated here in our own words and
//! code:
//!
//! * **Header.**  Host files (written by AMATERSE on z/OS) start with 12
//!   bytes: version (X'02' PACK, X'05' SPACK), record format (X'00' fixed,
//!   X'01' variable), a 2-byte record length, flags, ratio, a 2-byte block
//!   size and a 4-byte record length (one of the two lengths is set, or both
//!   equal).  When the flags lack X'04' (MVS) the flags, ratio and block
//!   size must be zero.  Native files (the PC TERSE program) start with
//!   X'01' or X'07' then X'8969A5' and always use SPACK; whether 2 more
//!   bytes follow is disputed between the two decoders (we follow terselib:
//!   4 bytes), and no native sample is public — low confidence.
//! * **Codes.**  The compressed stream is a sequence of 12-bit codes, two in
//!   three bytes, most significant bits first.  Code 0 ends the stream (the
//!   file is padded with zeros to a multiple of 1024 bytes); codes 1–256 are
//!   the bytes 0–255 (code − 1); code 257 is a record mark; codes 258–4095
//!   name dictionary entries.
//! * **Records.**  A record mark ends a record of a variable-length data
//!   set; in a fixed-length one record marks are dropped and the bytes are
//!   the records back to back.  We return the records as [`crate::records`]
//!   describes (RDWs for variable records), byte for byte what the
//!   decoders' binary mode and a `site rdw` transfer of the data set give.
//! * **PACK** is an LZW variant ([`pack`]), **SPACK** an LZMW variant
//!   ([`spack`]).

mod codes;
mod pack;
mod spack;

use crate::records::{RecordFormat, Sink};
use crate::{Error, Result};

/// The compression method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Pack,
    Spack,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Pack => "PACK",
            Method::Spack => "SPACK",
        }
    }
}

/// Header byte 0 values.
const VERSION_PACK: u8 = 0x02;
const VERSION_SPACK: u8 = 0x05;
const VERSION_NATIVE: [u8; 2] = [0x01, 0x07];
/// Bytes 1–3 of a native header.
const NATIVE_CHECK: [u8; 3] = [0x89, 0x69, 0xA5];
/// Flags bit: the file was written on MVS (z/OS).
const FLAG_MVS: u8 = 0x04;

/// Header lengths.
pub const HOST_HEADER_LEN: usize = 12;
pub const NATIVE_HEADER_LEN: usize = 4;

/// A parsed TERSE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub method: Method,
    /// Written by AMATERSE on the host (12-byte header), else native.
    pub host: bool,
    /// Variable-length records (host files only).
    pub variable: bool,
    /// Record length (LRECL for fixed records; for variable, the longest
    /// record without its RDW as AMATERSE stores it).  0 for native files.
    pub record_len: u32,
    pub flags: u8,
    pub ratio: u8,
    pub block_size: u16,
    /// Where the compressed codes start.
    pub len: usize,
}

impl Header {
    /// Parses the header at the start of `b`.
    pub fn parse(b: &[u8]) -> Result<Header> {
        let Some(&version) = b.first() else {
            return Err(Error::truncated(0, "TERSE header", 1, 0));
        };
        if VERSION_NATIVE.contains(&version) {
            if b.len() < NATIVE_HEADER_LEN {
                return Err(Error::truncated(
                    0,
                    "TERSE header",
                    NATIVE_HEADER_LEN,
                    b.len(),
                ));
            }
            if b[1..4] != NATIVE_CHECK {
                return Err(Error::invalid(
                    1,
                    "TERSE header",
                    "native check bytes are not X'8969A5'",
                ));
            }
            return Ok(Header {
                method: Method::Spack,
                host: false,
                variable: false,
                record_len: 0,
                flags: 0,
                ratio: 0,
                block_size: 0,
                len: NATIVE_HEADER_LEN,
            });
        }
        let method = match version {
            VERSION_PACK => Method::Pack,
            VERSION_SPACK => Method::Spack,
            v => {
                return Err(Error::invalid(
                    0,
                    "TERSE header",
                    format!("version byte X'{v:02X}' is not X'02' (PACK) or X'05' (SPACK)"),
                ))
            }
        };
        if b.len() < HOST_HEADER_LEN {
            return Err(Error::truncated(
                0,
                "TERSE header",
                HOST_HEADER_LEN,
                b.len(),
            ));
        }
        let variable = match b[1] {
            0 => false,
            1 => true,
            v => {
                return Err(Error::invalid(
                    1,
                    "TERSE header",
                    format!("record format byte X'{v:02X}' is not X'00' or X'01'"),
                ))
            }
        };
        let len1 = u32::from(u16::from_be_bytes([b[2], b[3]]));
        let (flags, ratio) = (b[4], b[5]);
        let block_size = u16::from_be_bytes([b[6], b[7]]);
        let len2 = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let record_len = match (len1, len2) {
            (0, 0) => {
                return Err(Error::invalid(
                    2,
                    "TERSE header",
                    "both record lengths are zero",
                ))
            }
            (a, 0) => a,
            (0, b) => b,
            (a, b) if a == b => a,
            (a, b) => {
                return Err(Error::invalid(
                    2,
                    "TERSE header",
                    format!("record lengths {a} and {b} disagree"),
                ))
            }
        };
        if flags & FLAG_MVS == 0 && (flags != 0 || ratio != 0 || block_size != 0) {
            return Err(Error::invalid(
                4,
                "TERSE header",
                "flags, ratio or block size set although the MVS flag (X'04') is not",
            ));
        }
        Ok(Header {
            method,
            host: true,
            variable,
            record_len,
            flags,
            ratio,
            block_size,
            len: HOST_HEADER_LEN,
        })
    }

    /// The record format of the packed data set.
    pub fn record_format(&self) -> RecordFormat {
        match (self.host, self.variable) {
            (false, _) => RecordFormat::Undefined,
            (true, true) => RecordFormat::Variable,
            (true, false) => RecordFormat::Fixed {
                lrecl: self.record_len,
            },
        }
    }
}

/// Where decoded codes go: bytes, record marks.
pub(crate) struct Output {
    sink: Sink,
    /// Input offset, for errors.
    pub(crate) at: usize,
}

/// The record-mark code.
pub(crate) const RECORD_MARK: u16 = 257;
/// Codes up to this one are single symbols (bytes, record mark).
pub(crate) const LAST_SYMBOL: u16 = 257;
/// Codes are below this.
pub(crate) const CODES: usize = 4096;

impl Output {
    /// Emits one symbol: code 1–256 is byte code−1, 257 a record mark; 0
    /// (never a symbol of a valid stream) is ignored as the decoders do.
    #[inline]
    pub(crate) fn symbol(&mut self, code: u16) -> Result<()> {
        match code {
            0 => Ok(()),
            RECORD_MARK => self.sink.end_record(self.at),
            c => self.sink.byte((c - 1) as u8),
        }
    }
}

/// Decompresses a whole TERSE file; the output never exceeds `limit`
/// bytes.  Returns the header and the data set's bytes (see the module
/// documentation for their layout).
pub fn decompress(input: &[u8], limit: u64) -> Result<(Header, Vec<u8>)> {
    let header = Header::parse(input)?;
    let mut out = Output {
        sink: Sink::new(header.variable, limit),
        at: header.len,
    };
    let mut codes = codes::Codes::new(input, header.len);
    match header.method {
        Method::Pack => pack::decode(&mut codes, &mut out)?,
        Method::Spack => spack::decode(&mut codes, &mut out)?,
    }
    let data = out.sink.finish(codes.offset())?;
    Ok((header, data))
}

#[cfg(test)]
mod tests;
