//! EBCDIC → ASCII for SNA names.
//!
//! SNA names (network names, CP and LU names, product ids) are EBCDIC
//! "type A" symbol strings: A–Z, 0–9, $, #, @ and, in network-qualified
//! names, a period (SNA Formats GA27-3136, "Character Sets"; IBM's CCSID 37
//! code page, which agrees with CCSID 500 on every character of these sets).
//! The table maps CCSID 37 to ASCII for printable ASCII characters and shows
//! everything else as '.', as a hex dump would.  Generated once from the
//! CCSID 37 code chart (Python's `cp037` codec); not hand-typed.

/// CCSID 37 byte → printable ASCII byte, '.' where there is none.
const CCSID37_TO_ASCII: [u8; 256] = [
    b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x00
    b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x10
    b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x20
    b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x30
    b' ', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'<', b'(', b'+',
    b'|', // 0x40
    b'&', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'!', b'$', b'*', b')', b';',
    b'.', // 0x50
    b'-', b'/', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b',', b'%', b'_', b'>',
    b'?', // 0x60
    b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'`', b':', b'#', b'@', b'\'', b'=',
    b'"', // 0x70
    b'.', b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x80
    b'.', b'j', b'k', b'l', b'm', b'n', b'o', b'p', b'q', b'r', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0x90
    b'.', b'~', b's', b't', b'u', b'v', b'w', b'x', b'y', b'z', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0xA0
    b'^', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'[', b']', b'.', b'.', b'.',
    b'.', // 0xB0
    b'{', b'A', b'B', b'C', b'D', b'E', b'F', b'G', b'H', b'I', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0xC0
    b'}', b'J', b'K', b'L', b'M', b'N', b'O', b'P', b'Q', b'R', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0xD0
    b'\\', b'.', b'S', b'T', b'U', b'V', b'W', b'X', b'Y', b'Z', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0xE0
    b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', b'.', b'.', b'.', b'.', b'.',
    b'.', // 0xF0
];

/// Decodes EBCDIC bytes into text, one character per byte.
pub fn to_ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| CCSID37_TO_ASCII[usize::from(b)] as char)
        .collect()
}

/// True when every byte is a character of an SNA symbol string (type A
/// characters, blanks and the period of a network-qualified name).
pub fn is_symbol_string(bytes: &[u8]) -> bool {
    const PERIOD: u8 = 0x4B;
    const BLANK: u8 = 0x40;
    bytes.iter().all(|&b| {
        let c = CCSID37_TO_ASCII[usize::from(b)];
        b == PERIOD
            || b == BLANK
            || c.is_ascii_uppercase()
            || c.is_ascii_digit()
            || matches!(c, b'$' | b'#' | b'@')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_network_qualified_cp_name() {
        // CV 0x0E from RFC/IBM examples: "APPN.MOON".
        let name = [0xC1, 0xD7, 0xD7, 0xD5, 0x4B, 0xD4, 0xD6, 0xD6, 0xD5];
        assert_eq!(to_ascii(&name), "APPN.MOON");
        assert!(is_symbol_string(&name));
    }

    #[test]
    fn unprintable_bytes_show_as_dots() {
        assert_eq!(to_ascii(&[0x00, 0xF1, 0xFF]), ".1.");
        assert!(!is_symbol_string(&[0x00]));
    }
}
