//! A panic inside a dissector callback must not take tshark down: the
//! fault-injection build of the epan plugin panics in the pktmatch
//! post-dissector on frames containing PKTMATCH-TEST-PANIC; the panic guard
//! must turn that into expert info on that frame, and tshark must go on to
//! the following frames and exit 0.

mod common;

use common::{fault_plugins, pcap_from_hex, rows, Wireshark};

#[test]
fn a_panic_in_a_dissector_becomes_expert_info_and_tshark_carries_on() {
    let ws = Wireshark::with_plugins(fault_plugins());
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = ws.add_file(&pcap_from_hex(
        "synthetic-fault-marker.hex",
        (5000, 6000),
        &dir,
    ));

    let out = ws.tshark(&[
        "-r",
        &pcap,
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "udp.length",
        "-e",
        "_ws.expert.message",
    ]);
    assert!(out.status.success(), "tshark exited with {}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let table = rows(&stdout);
    assert_eq!(table.len(), 3, "all frames dissected:\n{stdout}");
    assert_eq!(table[0], ["1", "13", ""]);
    assert_eq!(
        table[1],
        [
            "2",
            "27",
            "pktmatch internal error: deliberate test panic on frame 2"
        ]
    );
    assert_eq!(table[2], ["3", "13", ""]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pktmatch: frame 2: internal error: deliberate test panic on frame 2"),
        "{stderr}"
    );

    let filtered = ws.tshark_ok(&[
        "-r",
        &pcap,
        "-Y",
        "pktmatch.internal_error",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert_eq!(filtered.trim(), "2");
}
