//! Unpacks the containers z/OS data sets travel in, so that a trace (or an
//! IPCS report) sent as one can be read on a PC without a mainframe:
//!
//! * [`terse`] — AMATERSE / TERSE files, PACK and SPACK;
//! * [`xmit`] — TSO TRANSMIT (XMIT, NETDATA) files.
//!
//! [`unpack`] recognises either by content and unwraps nested ones (an XMIT
//! of a tersed data set, say).  What comes out is the data set's records as
//! a binary `site rdw` FTP transfer would give them ([`records`]): fixed
//! records back to back, variable records each behind an RDW.
//!
//! No dependencies; no panics on any input (fuzzed); every error names the
//! byte offset it is about; output is capped by a caller-given limit.
//! Sources for every format fact: the module documentation and
//! docs/zos-containers.md.

mod error;
pub mod records;
pub mod terse;
pub mod xmit;

pub use error::{Error, Result};
pub use records::RecordFormat;

/// A container kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Terse(terse::Method),
    Xmit,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Terse(terse::Method::Pack) => "AMATERSE PACK",
            Kind::Terse(terse::Method::Spack) => "AMATERSE SPACK",
            Kind::Xmit => "TSO XMIT",
        }
    }
}

/// What `bytes` start with, if a container this crate unpacks.  Cheap:
/// looks at the first 12 bytes.
pub fn detect(bytes: &[u8]) -> Option<Kind> {
    if xmit::looks_like(bytes) {
        return Some(Kind::Xmit);
    }
    terse::Header::parse(bytes)
        .ok()
        // A bare native header (4 bytes of magic) is weak evidence; a host
        // header must hold a plausible record length too.
        .filter(|h| !h.host || h.record_len <= 1 << 20)
        .map(|h| Kind::Terse(h.method))
}

/// One container taken off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub kind: Kind,
    /// The record format of what was inside.
    pub format: RecordFormat,
    /// The data set name, where the container names it (XMIT).
    pub dataset: Option<String>,
    /// Bytes in, bytes out.
    pub packed: u64,
    pub unpacked: u64,
}

impl Layer {
    /// "AMATERSE SPACK, V records, 1234 -> 5678 bytes".
    pub fn describe(&self) -> String {
        format!(
            "{}{}, {} records, {} -> {} bytes",
            self.kind.name(),
            self.dataset
                .as_ref()
                .map(|d| format!(" of {d}"))
                .unwrap_or_default(),
            self.format.describe(),
            self.packed,
            self.unpacked
        )
    }
}

/// The default cap on unpacked bytes: 8 GiB.
pub const DEFAULT_LIMIT: u64 = 8 << 30;

/// At most this many containers inside one another.
pub const MAX_LAYERS: usize = 4;

/// Takes off one container.
pub fn unpack_one(bytes: &[u8], limit: u64) -> Result<(Layer, Vec<u8>)> {
    let (kind, format, dataset, data) = match detect(bytes) {
        Some(Kind::Xmit) => {
            let x = xmit::parse(bytes, limit)?;
            let data = x.data(limit)?;
            (Kind::Xmit, x.record_format(), x.dataset_name(), data)
        }
        Some(Kind::Terse(method)) => {
            let (header, data) = terse::decompress(bytes, limit)?;
            (Kind::Terse(method), header.record_format(), None, data)
        }
        None => return Err(Error::NotPacked),
    };
    let layer = Layer {
        kind,
        format,
        dataset,
        packed: bytes.len() as u64,
        unpacked: data.len() as u64,
    };
    Ok((layer, data))
}

/// Takes off every container (up to [`MAX_LAYERS`]); `Err(NotPacked)` if
/// `bytes` is not in one.
pub fn unpack(bytes: &[u8], limit: u64) -> Result<(Vec<Layer>, Vec<u8>)> {
    let (first, mut data) = unpack_one(bytes, limit)?;
    let mut layers = vec![first];
    while layers.len() < MAX_LAYERS && detect(&data).is_some() {
        match unpack_one(&data, limit) {
            Ok((layer, inner)) => {
                layers.push(layer);
                data = inner;
            }
            // What looked like a container inside is data after all.
            Err(_) => break,
        }
    }
    Ok((layers, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_packed() {
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"hello world, not packed"), None);
        assert_eq!(unpack(b"plain", 100), Err(Error::NotPacked));
    }

    #[test]
    fn nested_xmit_of_tersed_data() {
        // PACK, fixed LRECL 1, no MVS flags: codes C2 C3 = bytes C1 C2
        let tersed = b"\x02\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x0C\x20\xC3";
        let opts = xmit::WriteOptions {
            dataset: "USER.TRACE.TRS",
            format: RecordFormat::Fixed { lrecl: 15 },
            lrecl: 15,
            from_node: "NODE",
            from_user: "USER",
            time: "20250102030405",
        };
        let x = xmit::write(&opts, &[&tersed[..]]);
        let (layers, data) = unpack(&x, 1 << 20).unwrap();
        assert_eq!(data, vec![0xC1, 0xC2]);
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0].kind, Kind::Xmit);
        assert_eq!(layers[0].dataset.as_deref(), Some("USER.TRACE.TRS"));
        assert_eq!(layers[1].kind, Kind::Terse(terse::Method::Pack));
        assert!(layers[1]
            .describe()
            .starts_with("AMATERSE PACK, F(1) records"));
    }
}
