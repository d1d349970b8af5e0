//! A synthetic two-point session, small enough to check by hand: one
//! HTTP exchange seen at a client (Ethernet, nanosecond pcap) and behind a
//! source NAT (raw-IP pcap), the WAN clock exactly 1 s ahead, every packet taking 30 µs
//! between the points.  The request line carries HTML and quotes, so the
//! HTML report must escape them.  Client frame 9 (a FIN) never reaches the
//! WAN; frame 10 is its retransmission, which does.
//!
//! | client | wan | what |
//! |---|---|---|
//! | 1 | 1 | → [SYN] |
//! | 2 | 2 | ← [SYN, ACK] |
//! | 3 | 3 | → [ACK] |
//! | 4 | 4 | → GET /<script>alert("x")</script>?a=1&b=2 |
//! | 5-7 | 5-7 | ← 200 OK – first / 2 / last of 3 |
//! | 8 | 8 | → [ACK] |
//! | 9 | — | → [FIN, ACK], lost before wan |
//! | 10 | 9 | → [FIN, ACK] (again) |

use std::borrow::Cow;
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use etherparse::PacketBuilder;
use index::methods::id as method;
use index::{ClockModel, IndexBuilder, PairSpec};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};

pub const T0: i64 = 1_700_000_000_000_000_000;
pub const OFFSET_NS: i64 = 1_000_000_000;
pub const TRANSIT_NS: i64 = 30_000;
pub const GET_PATH: &str = "/<script>alert(\"x\")</script>?a=1&b=2";

pub struct Synthetic {
    pub dir: tempfile::TempDir,
    pub session: PathBuf,
    pub client: PathBuf,
    pub wan: PathBuf,
    /// Client frame time stamps (frame 1 first).
    pub client_ts: Vec<i64>,
}

struct Pkt {
    to_server: bool,
    seq: u32,
    flags: &'static str,
    payload: Vec<u8>,
}

fn ip_packet(p: &Pkt, natted: bool) -> Vec<u8> {
    let client: [u8; 4] = if natted {
        [198, 51, 100, 1]
    } else {
        [192, 0, 2, 10]
    };
    let cport = if natted { 61000 } else { 40000 };
    let server = [203, 0, 113, 80];
    let (src, dst, sp, dp) = if p.to_server {
        (client, server, cport, 80)
    } else {
        (server, client, 80, cport)
    };
    let mut b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, p.seq, 65535);
    if p.flags.contains('S') {
        b = b.syn();
    }
    if p.flags.contains('A') {
        b = b.ack(1);
    }
    if p.flags.contains('F') {
        b = b.fin();
    }
    if p.flags.contains('P') {
        b = b.psh();
    }
    let mut v = Vec::new();
    b.write(&mut v, &p.payload).unwrap();
    v
}

fn write_pcap(path: &PathBuf, link: DataLink, frames: &[(i64, Vec<u8>)]) {
    let header = PcapHeader {
        datalink: link,
        ts_resolution: TsResolution::NanoSecond,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(File::create(path).unwrap(), header).unwrap();
    for (ts, data) in frames {
        w.write_packet(&PcapPacket {
            timestamp: Duration::from_nanos(*ts as u64),
            orig_len: data.len() as u32,
            data: Cow::Borrowed(data),
        })
        .unwrap();
    }
}

pub fn synthetic_session() -> Synthetic {
    let dir = tempfile::tempdir().unwrap();
    let get = format!("GET {GET_PATH} HTTP/1.1\r\nHost: shop.example.test\r\n\r\n").into_bytes();
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n".to_vec();
    let (c0, s0) = (1000u32, 5000u32);
    let c1 = c0 + 1;
    let s1 = s0 + 1;
    let c2 = c1 + get.len() as u32;
    let s2 = s1 + head.len() as u32;
    let pkts = vec![
        Pkt {
            to_server: true,
            seq: c0,
            flags: "S",
            payload: vec![],
        },
        Pkt {
            to_server: false,
            seq: s0,
            flags: "SA",
            payload: vec![],
        },
        Pkt {
            to_server: true,
            seq: c1,
            flags: "A",
            payload: vec![],
        },
        Pkt {
            to_server: true,
            seq: c1,
            flags: "PA",
            payload: get,
        },
        Pkt {
            to_server: false,
            seq: s1,
            flags: "A",
            payload: head,
        },
        Pkt {
            to_server: false,
            seq: s2,
            flags: "A",
            payload: vec![b'x'; 100],
        },
        Pkt {
            to_server: false,
            seq: s2 + 100,
            flags: "PA",
            payload: vec![b'y'; 100],
        },
        Pkt {
            to_server: true,
            seq: c2,
            flags: "A",
            payload: vec![],
        },
        Pkt {
            to_server: true,
            seq: c2,
            flags: "FA",
            payload: vec![],
        },
        Pkt {
            to_server: true,
            seq: c2,
            flags: "FA",
            payload: vec![],
        },
    ];
    let mut client_frames = Vec::new();
    let mut wan_frames = Vec::new();
    for (i, p) in pkts.iter().enumerate() {
        let t = T0 + i as i64 * 1_000_000;
        let ip = ip_packet(p, false);
        let mut eth = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00];
        eth.extend_from_slice(&ip);
        client_frames.push((t, eth));
        if i == 8 {
            continue; // lost before the WAN
        }
        // The WAN clock reads 1 s more; → packets arrive there 30 µs later,
        // ← packets left it 30 µs before the client saw them.
        let transit = if p.to_server { TRANSIT_NS } else { -TRANSIT_NS };
        wan_frames.push((t + OFFSET_NS + transit, ip_packet(p, true)));
    }
    let client = dir.path().join("synthetic-client.pcap");
    let wan = dir.path().join("synthetic-wan.pcap");
    write_pcap(&client, DataLink::ETHERNET, &client_frames);
    write_pcap(&wan, DataLink::RAW, &wan_frames);

    let mut b = IndexBuilder::new();
    let size = |p: &PathBuf| std::fs::metadata(p).unwrap().len();
    let c = b
        .add_point("client", client.to_str().unwrap(), size(&client))
        .unwrap();
    let w = b
        .add_point("wan", wan.to_str().unwrap(), size(&wan))
        .unwrap();
    for (t, d) in &client_frames {
        b.add_frame_bytes(c, *t, d.len() as u32, d).unwrap();
    }
    for (t, d) in &wan_frames {
        b.add_frame_bytes(w, *t, d.len() as u32, d).unwrap();
    }
    let pairs: Vec<(u32, u32)> = (1..=8).map(|i| (i, i)).chain([(10, 9)]).collect();
    for &(fc, fw) in &pairs {
        let raw = wan_frames[fw as usize - 1].0 - client_frames[fc as usize - 1].0;
        b.add_match(c, fc, w, fw, raw, method::NAT, 255).unwrap();
    }
    b.add_lost(c, 9, w, index::LossKind::NetworkLoss).unwrap();
    b.set_pair(
        c,
        w,
        PairSpec {
            clock: Some(ClockModel::new(OFFSET_NS, 0, T0)),
            offset_error_ns: 500,
            matched: pairs.len() as u32,
            neighbours: true,
            missing: index::Missing {
                lost: [1, 0],
                ..Default::default()
            },
        },
    )
    .unwrap();
    let session = dir.path().join("synthetic.pktmatch");
    std::fs::write(&session, b.build()).unwrap();
    Synthetic {
        dir,
        session,
        client,
        wan,
        client_ts: client_frames.iter().map(|f| f.0).collect(),
    }
}
