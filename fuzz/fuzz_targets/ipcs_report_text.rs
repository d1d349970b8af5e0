//! Any bytes as an IPCS report: decoding (ASCII, EBCDIC, records, fixed
//! lengths, ASA), recognition, every record's fields and rebuilt packet,
//! every note and problem formatted.  A panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let _ = ipcs_report::recognise(input);
    let _ = ipcs_report::wire::decode(input);
    let r = ipcs_report::read(input);
    for n in &r.notes {
        let _ = n.to_string();
    }
    for rec in &r.records {
        let _ = (rec.time_us(), rec.format_id(), rec.has_dump());
        let packet = rec.packet();
        // what the file reader hands the dissector decodes again
        let wire = ipcs_report::wire::encode(rec, packet.as_ref(), &[]);
        assert!(ipcs_report::wire::decode(&wire).is_some());
        if let Some(p) = packet {
            assert!(p.original_len as usize >= p.bytes.len());
            for pr in &p.problems {
                let _ = (pr.to_string(), pr.line());
            }
        }
    }
    if let Err(e) = ipcs_report::parse(input) {
        let _ = e.to_string();
    }
    // the same bytes as text lines, to reach the line-level reader
    if let Ok(s) = std::str::from_utf8(input) {
        for line in s.lines().take(200) {
            let _ = ipcs_report::line::split_joined(line);
            let _ = ipcs_report::line::find_labels(line);
            let _ = ipcs_report::line::section_heading(line);
        }
    }
});
