//! Any bytes as an AMATERSE/TERSE or TSO XMIT file: header parsing,
//! decompression with both methods whatever the header says, XMIT
//! segment and text unit parsing, nested unpacking.  Output is capped; a
//! panic, a hang or an allocation beyond the cap is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zunpack::{terse, xmit};

const LIMIT: u64 = 1 << 18;

fuzz_target!(|input: &[u8]| {
    let _ = zunpack::detect(input);
    let _ = zunpack::unpack(input, LIMIT).map(|(layers, _)| layers.iter().map(|l| l.describe()).count());
    if let Ok(h) = terse::Header::parse(input) {
        let _ = h.record_format().describe();
    }
    // the same codes under every host header form
    for head in [[0x02u8, 0], [0x02, 1], [0x05, 0], [0x05, 1]] {
        let mut f = vec![head[0], head[1], 0, 80, 0, 0, 0, 0, 0, 0, 0, 0];
        f.extend_from_slice(input);
        if let Ok((_, data)) = terse::decompress(&f, LIMIT) {
            assert!(data.len() as u64 <= LIMIT);
            if head[1] == 1 {
                assert!(zunpack::records::rdw_records(&data).is_some());
            }
        }
    }
    if let Ok(x) = xmit::parse(input, LIMIT) {
        let _ = (x.dataset_name(), x.is_partitioned(), x.record_format(), x.data(LIMIT).map(|d| d.len()));
        for c in &x.controls {
            for u in &c.units {
                let _ = (u.number(), u.text("."), xmit::key::name(u.key));
            }
        }
    }
});
