//! STRINGS: one UTF-8 blob.  Other sections refer to a string by
//! (offset u32, length u32) within it; every reference is checked at load to
//! lie inside the blob on character boundaries.

use crate::{Result, Sec};
use std::collections::HashMap;

/// Checks the blob: valid UTF-8 throughout.
pub(crate) fn check(sec: Sec<'_>) -> Result<&str> {
    core::str::from_utf8(sec.bytes)
        .map_err(|e| sec.invalid(e.valid_up_to(), "not valid UTF-8".into()))
}

/// Checks a reference (`at`: where its offset field is, for errors).
pub(crate) fn check_ref<'a>(
    strings: &'a str,
    off: u32,
    len: u32,
    sec: &Sec<'_>,
    at: usize,
    field: &str,
) -> Result<&'a str> {
    let (o, n) = (off as usize, len as usize);
    match o.checked_add(n).and_then(|end| strings.get(o..end)) {
        Some(s) => Ok(s),
        None => Err(sec.invalid(
            at,
            format!(
                "{field} string (offset {off}, length {len}) is not within the {}-byte STRINGS \
                 section on character boundaries",
                strings.len()
            ),
        )),
    }
}

/// A checked reference's text (empty for an unchecked bad one: never
/// happens after load).
pub(crate) fn get(strings: &str, off: u32, len: u32) -> &str {
    let (o, n) = (off as usize, len as usize);
    o.checked_add(n)
        .and_then(|end| strings.get(o..end))
        .unwrap_or("")
}

/// The blob being written: each distinct string once.
#[derive(Debug, Default)]
pub(crate) struct Blob {
    pub text: String,
    seen: HashMap<String, (u32, u32)>,
}

impl Blob {
    /// (offset, length) of `s`, added if new.  The builder keeps the total
    /// below 4 GiB.
    pub fn add(&mut self, s: &str) -> (u32, u32) {
        if let Some(r) = self.seen.get(s) {
            return *r;
        }
        let r = (self.text.len() as u32, s.len() as u32);
        self.text.push_str(s);
        self.seen.insert(s.to_owned(), r);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_and_refs() {
        let mut b = Blob::default();
        assert_eq!(b.add("wan"), (0, 3));
        assert_eq!(b.add("dc→lb"), (3, 7));
        assert_eq!(b.add("wan"), (0, 3));
        assert_eq!(b.text, "wandc→lb");
        let sec = Sec {
            bytes: b.text.as_bytes(),
            base: 64,
            what: "STRINGS section",
        };
        let s = check(sec).unwrap();
        assert_eq!(get(s, 3, 7), "dc→lb");
        assert_eq!(get(s, 6, 2), "");
        assert_eq!(get(s, u32::MAX, 2), "");
        assert_eq!(check_ref(s, 0, 3, &sec, 0, "label").unwrap(), "wan");
        let e = check_ref(s, 6, 2, &sec, 12, "label").unwrap_err();
        assert_eq!(
            e.to_string(),
            "STRINGS section at byte 76: label string (offset 6, length 2) is not within the \
             10-byte STRINGS section on character boundaries"
        );
        assert!(check_ref(s, 8, 3, &sec, 0, "x").is_err());
        let bad = [b'a', 0xFF];
        let e = check(Sec { bytes: &bad, ..sec }).unwrap_err();
        assert_eq!(e.offset(), 65);
    }
}
