//! UDP and ICMP through a real NAT (tests/data/real-nat-*.pcapng, the lab's
//! client and wan sides of its source NAT): the client is the one that
//! sent first and the one not on a service port, so every translation is a
//! source NAT with the client's address as source, and the report draws
//! queries and echo requests →, answers and replies ←, each with a
//! positive delay in its direction of travel (a home NAT's pair used to
//! come out as DNAT with the server as source, rows pointing the wrong way
//! and negative delays).

mod common;

use common::{columns, parse_csv, pktmatch_ok};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
}

#[test]
fn udp_and_icmp_translations_and_arrows_on_a_real_nat_pair() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("nat.pktmatch");
    let s = session.to_str().unwrap();
    let (client, wan) = (data("real-nat-client.pcapng"), data("real-nat-wan.pcapng"));
    // Given wan first: the order comes from the data.
    let (w, c) = (
        format!("wan={}", wan.display()),
        format!("client={}", client.display()),
    );
    pktmatch_ok(&["index", "-q", "-o", s, "--point", &w, "--point", &c]);
    let info: serde_json::Value =
        serde_json::from_str(&pktmatch_ok(&["info", s, "--json", "--no-files"])).unwrap();
    let labels: Vec<&str> = info["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["client", "wan"]);
    let pair = &info["pairs"][0];
    assert_eq!(pair["matched"], 34);
    let translations = pair["translations"].as_array().unwrap();
    let protos: std::collections::BTreeSet<u64> = translations
        .iter()
        .map(|t| t["ip_proto"].as_u64().unwrap())
        .collect();
    assert_eq!(protos, [1, 17].into_iter().collect());
    for t in translations {
        assert_eq!(t["kind"], "SNAT", "{t}");
        let a_src = t["a_src"].as_str().unwrap();
        assert!(a_src.starts_with("192.0.2.1"), "{t}");
        assert!(
            t["b_src"].as_str().unwrap().starts_with("198.51.100.1:"),
            "{t}"
        );
        // The server's address unchanged (for ICMP the "port" is the echo
        // id, the client's, which the NAT translates).
        let host = |k: &str| {
            t[k].as_str()
                .unwrap()
                .rsplit_once(':')
                .unwrap()
                .0
                .to_owned()
        };
        assert_eq!(host("a_dst"), host("b_dst"), "{t}");
        if t["ip_proto"] == 17 {
            assert_eq!(t["a_dst"], t["b_dst"], "{t}");
        }
    }
    let csv = parse_csv(&pktmatch_ok(&["report", s, "--csv", "-"]));
    let h = columns(&csv[0]);
    assert_eq!(csv.len() - 1, 34);
    for r in &csv[1..] {
        let what = r[h["what"]].as_str();
        let outgoing = what.starts_with("DNS query") || what.starts_with("ICMP echo request");
        let incoming = what.starts_with("DNS response") || what.starts_with("ICMP echo reply");
        assert!(outgoing || incoming, "{what}");
        assert_eq!(r[h["dir"]], if outgoing { "→" } else { "←" }, "{what}");
        let delta: i64 = r[h["delta_client_wan_ns"]].parse().unwrap();
        // wan − client on the corrected clocks: the transit for →, minus
        // it for ← (the plot shows both as positive delays).
        assert!(
            if outgoing { delta > 0 } else { delta < 0 },
            "{what}: {delta}"
        );
    }
}
