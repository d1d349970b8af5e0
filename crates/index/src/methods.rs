//! METHODS (optional): the names of the match methods, so that readers show
//! names without a table of their own.
//!
//! ```text
//! section:  0  4  COUNT      number of entries (at most 256)
//!           4  4  reserved   0
//!           8  COUNT entries of 12 bytes, sorted by ID, each ID at most once:
//! entry:    0  1  ID         the METHOD byte of peer entries
//!           1  3  reserved   0
//!           4  4  NAME_OFF   name: STRINGS reference (1-64 bytes, no control
//!           8  4  NAME_LEN         characters, comma or quote)
//! ```

use crate::{le32, strings, valid_name, Result, Sec};

/// Byte ranges of the METHODS section.
pub mod field {
    use core::ops::Range;
    pub const COUNT: Range<usize> = 0..4;
    pub const RESERVED: Range<usize> = 4..8;
    pub const HEADER_LEN: usize = 8;

    /// Fields of one entry.
    pub mod entry {
        use core::ops::Range;
        pub const ID: usize = 0;
        pub const RESERVED: Range<usize> = 1..4;
        pub const NAME_OFF: Range<usize> = 4..8;
        pub const NAME_LEN: Range<usize> = 8..12;
        pub const LEN: usize = 12;
    }
}

/// Method ids the builder names by default.
pub mod id {
    /// Same addresses, ports and payload at both points.
    pub const SAME_ADDRESSING: u8 = 1;
    /// Addresses or ports translated (NAT/PAT), payload and IP ID equal.
    pub const NAT: u8 = 2;
    /// TCP sequence numbers shifted by a constant per direction.
    pub const SEQ_OFFSET: u8 = 3;
    /// One large segment at one point, several at the other (TSO/GSO/GRO).
    pub const TSO: u8 = 4;
    /// An application identifier (DNS id, HTTP request id…).
    pub const APP_ID: u8 = 5;
    /// Payload bytes alone.
    pub const PAYLOAD: u8 = 6;
    /// HTTP through a full proxy (request and response pairs).
    pub const PROXY_HTTP: u8 = 7;
    /// TLS through a full proxy, by turns (sizes and timing of records).
    pub const PROXY_TLS_TURNS: u8 = 8;
}

/// The default METHODS table.
pub const DEFAULT: &[(u8, &str)] = &[
    (id::SAME_ADDRESSING, "same-addressing"),
    (id::NAT, "nat"),
    (id::SEQ_OFFSET, "seq-offset"),
    (id::TSO, "tso"),
    (id::APP_ID, "app-id"),
    (id::PAYLOAD, "payload"),
    (id::PROXY_HTTP, "proxy-http"),
    (id::PROXY_TLS_TURNS, "proxy-tls-turns"),
];

/// Checks METHODS: at most 256 entries, ids strictly increasing, names
/// valid.  Returns the entries.
pub(crate) fn check<'a>(sec: Sec<'a>, strings: &str) -> Result<&'a [u8]> {
    sec.at_least(field::HEADER_LEN)?;
    let n = le32(sec.bytes, field::COUNT.start) as u64;
    if n > 256 {
        return Err(sec.invalid(
            field::COUNT.start,
            format!("{n} methods, at most 256 ids exist"),
        ));
    }
    sec.exact_len(
        field::HEADER_LEN as u64 + n * field::entry::LEN as u64,
        "the method entries",
    )?;
    let entries = &sec.bytes[field::HEADER_LEN..];
    let mut prev: Option<u8> = None;
    for (i, e) in entries.chunks_exact(field::entry::LEN).enumerate() {
        let at = field::HEADER_LEN + i * field::entry::LEN;
        let id = e[field::entry::ID];
        if prev.is_some_and(|p| p >= id) {
            return Err(sec.invalid(at, format!("method {id} is out of order or repeated")));
        }
        prev = Some(id);
        let name = strings::check_ref(
            strings,
            le32(e, field::entry::NAME_OFF.start),
            le32(e, field::entry::NAME_LEN.start),
            &sec,
            at + field::entry::NAME_OFF.start,
            &format!("method {id} name"),
        )?;
        if !valid_name(name) {
            return Err(sec.invalid(
                at + field::entry::NAME_OFF.start,
                format!(
                    "method {id} name {name:?} must be 1-64 bytes without control characters, \
                     commas or quotes"
                ),
            ));
        }
    }
    Ok(entries)
}

/// The name of `id` in checked entries.
pub(crate) fn name<'a>(entries: &[u8], strings: &'a str, id: u8) -> Option<&'a str> {
    let n = entries.len() / field::entry::LEN;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let e = &entries[mid * field::entry::LEN..(mid + 1) * field::entry::LEN];
        match e[field::entry::ID].cmp(&id) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => {
                return Some(strings::get(
                    strings,
                    le32(e, field::entry::NAME_OFF.start),
                    le32(e, field::entry::NAME_LEN.start),
                ))
            }
        }
    }
    None
}

/// Writes one entry.
pub(crate) fn write_entry(out: &mut Vec<u8>, id: u8, name: (u32, u32)) {
    out.push(id);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&name.0.to_le_bytes());
    out.extend_from_slice(&name.1.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::Blob;

    fn section(list: &[(u8, &str)], blob: &mut Blob) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(list.len() as u32).to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        for (id, n) in list {
            let r = blob.add(n);
            write_entry(&mut v, *id, r);
        }
        v
    }

    #[test]
    fn lookup() {
        let mut blob = Blob::default();
        let v = section(DEFAULT, &mut blob);
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "METHODS section",
        };
        let e = check(sec, &blob.text).unwrap();
        for (id, n) in DEFAULT {
            assert_eq!(name(e, &blob.text, *id), Some(*n));
        }
        assert_eq!(name(e, &blob.text, 0), None);
        assert_eq!(name(e, &blob.text, 200), None);
        assert_eq!(name(&[], "", 1), None);
    }

    #[test]
    fn rules() {
        for (list, word) in [
            (&[(2u8, "a"), (1, "b")][..], "method 1 is out of order"),
            (&[(2, "a"), (2, "b")][..], "method 2 is out of order"),
            (&[(2, "a,b")][..], "must be 1-64 bytes"),
        ] {
            let mut blob = Blob::default();
            let v = section(list, &mut blob);
            let e = check(
                Sec {
                    bytes: &v,
                    base: 0,
                    what: "METHODS section",
                },
                &blob.text,
            )
            .unwrap_err();
            assert!(e.to_string().contains(word), "{e}");
        }
        let mut v = vec![0u8; 8];
        v[0..4].copy_from_slice(&257u32.to_le_bytes());
        let e = check(
            Sec {
                bytes: &v,
                base: 0,
                what: "METHODS section",
            },
            "",
        )
        .unwrap_err();
        assert!(e.to_string().contains("257 methods"), "{e}");
    }
}
