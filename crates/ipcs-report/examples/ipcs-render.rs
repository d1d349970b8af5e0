//! The documented generator of the `rendered-ipcs-*` fixtures: renders a
//! real capture (Ethernet pcap) as an IPCS SYSTCPDA report the way IBM's
//! examples look ([`ipcs_report::render`]).
//!
//!     cargo run --release -p ipcs-report --example ipcs-render -- \
//!         [--style full|format-dump|dump] [--local IP] [--abbrev N] IN.pcap OUT.txt
//!
//! The "z/OS host" is `--local` (default: the source of the first IP
//! packet): packets it sent are outbound ("To Interface"), the others
//! inbound.  The Tod Clock is the capture time; the record line's time is
//! 13 µs later (as in the SHARE 2010 report).  `--abbrev N` traces at most
//! N bytes of each packet (PKTTRACE ABBREV=N).  Only IPv4/IPv6 packets are
//! written (VLAN tags stripped); the count of others is printed.

use std::net::IpAddr;

use ipcs_report::render::{self, Style};

fn main() {
    if let Err(e) = run() {
        eprintln!("ipcs-render: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut style = Style::Full;
    let mut local: Option<IpAddr> = None;
    let mut abbrev: Option<usize> = None;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{what} needs a value"));
        match a.as_str() {
            "--style" => {
                style = match value("--style")?.as_str() {
                    "full" => Style::Full,
                    "format-dump" => Style::FormatDump,
                    "dump" => Style::Dump,
                    other => return Err(format!("unknown style {other}")),
                }
            }
            "--local" => {
                local = Some(
                    value("--local")?
                        .parse()
                        .map_err(|e| format!("--local: {e}"))?,
                )
            }
            "--abbrev" => {
                abbrev = Some(
                    value("--abbrev")?
                        .parse()
                        .map_err(|e| format!("--abbrev: {e}"))?,
                )
            }
            _ => files.push(a),
        }
    }
    let [input, output] = files.as_slice() else {
        return Err("usage: ipcs-render [--style full|format-dump|dump] [--local IP] [--abbrev N] IN.pcap OUT.txt".into());
    };
    let f = std::fs::File::open(input).map_err(|e| format!("{input}: {e}"))?;
    let mut r = pcap_file::pcap::PcapReader::new(f).map_err(|e| format!("{input}: {e}"))?;
    let mut packets = Vec::new();
    let mut skipped = 0;
    while let Some(p) = r.next_packet() {
        let p = p.map_err(|e| format!("{input}: {e}"))?;
        match render::ip_of_ethernet(&p.data) {
            Some(ip) => packets.push((p.timestamp.as_micros() as i64, ip.to_vec())),
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        eprintln!("{input}: {skipped} frames without IPv4/IPv6 left out");
    }
    let refs: Vec<(i64, &[u8])> = packets.iter().map(|(t, p)| (*t, &p[..])).collect();
    let text = render::report(style, &refs, local, abbrev);
    std::fs::write(output, text).map_err(|e| format!("{output}: {e}"))
}
