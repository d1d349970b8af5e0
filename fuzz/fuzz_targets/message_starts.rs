//! Any bytes as a TCP payload, and as a packet of every link type, through
//! the matcher's message-start classifier (HTTP request and status lines,
//! header block length, X-Forwarded-For, TLS record headers), with what
//! its value promises: the header block lies inside the payload, the parts
//! of the value fit their fields.  A panic is a bug.
#![no_main]

use capture::Link;
use libfuzzer_sys::fuzz_target;
use matcher::payload::{classify, sniff, MsgValue};
use matcher::table::MsgKind;

const LINKS: [Link; 6] = [
    Link::Ethernet,
    Link::Raw,
    Link::LinuxSll,
    Link::LinuxSll2,
    Link::Null,
    Link::Loop,
];

fuzz_target!(|data: &[u8]| {
    if let Some((kind, value)) = classify(data) {
        let v = MsgValue::of(kind, value);
        assert!(v.header_len as usize <= data.len());
        match kind {
            MsgKind::HttpRequest => assert!(v.key < 1 << 38),
            MsgKind::HttpResponse => {
                assert!(v.key < 1000);
                assert_eq!(v.forwarded_for, 0);
            }
            MsgKind::Tls => assert!((0x14..=0x17).contains(&v.key)),
        }
        if v.header_len > 0 {
            assert!(data[..v.header_len as usize].ends_with(b"\r\n\r\n"));
        }
    }
    for link in LINKS {
        let _ = sniff(link, data);
    }
});
