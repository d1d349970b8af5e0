//! Writes the index bench/postdissector.sh measures the post-dissector with:
//! the given capture as point "client", plus three points that saw every
//! packet 30, 61 and 95 µs later on clocks that are off by seconds to hours
//! and drift (as in the lab session), so every frame has three peers, the
//! largest per-frame load a four-point session gives (60 index bytes per
//! frame and point).  The three other captures need not exist: the
//! post-dissector reads only the open capture's checks and peers.
//!
//! Usage: bench-index CAPTURE OUT.pktmatch

use index::{ClockModel, IndexBuilder, PairSpec, TranslationKind, TranslationSpec};

/// (label, transit ns, clock offset ns, drift ppb) of the virtual points.
const PEERS: [(&str, i64, i64, i64); 3] = [
    ("wan", 30_000, 2_718_281_828, 25_000),
    ("dc", 61_000, -97_314_159_265, -40_000),
    ("lbserver", 95_000, 10_812_345_678_901, 12_500),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, capture_path, out] = &args[..] else {
        return Err("usage: bench-index CAPTURE OUT.pktmatch".into());
    };
    let size = std::fs::metadata(capture_path)?.len();
    let mut b = IndexBuilder::new();
    let client = b.add_point("client", capture_path, size)?;
    let peers: Vec<u16> = PEERS
        .iter()
        .map(|(label, ..)| b.add_point(label, "", 0))
        .collect::<Result<_, _>>()?;
    let mut capture = capture::open(capture_path)?;
    let mut times = Vec::new();
    let reference = {
        let mut first = None;
        while let Some(packet) = capture.next_packet()? {
            first.get_or_insert(packet.ts_ns);
            b.add_frame_bytes(client, packet.ts_ns, packet.data.len() as u32, packet.data)?;
            // What the peer points would have recorded: same bytes, their
            // own clock's time stamp.
            for (&p, &(_, transit, offset, ppb)) in peers.iter().zip(&PEERS) {
                let model = ClockModel::new(offset, ppb, first.unwrap_or(0));
                let ts = model.peer_time(packet.ts_ns + transit);
                b.add_frame_bytes(p, ts, packet.data.len() as u32, packet.data)?;
            }
            times.push(packet.ts_ns);
        }
        first.unwrap_or(0)
    };
    for (&p, &(_, transit, offset, ppb)) in peers.iter().zip(&PEERS) {
        let model = ClockModel::new(offset, ppb, reference);
        b.set_pair(
            client,
            p,
            PairSpec {
                clock: Some(model),
                matched: times.len() as u32,
                ..Default::default()
            },
        )?;
        for (i, &t) in times.iter().enumerate() {
            let frame = i as u32 + 1;
            let delta = model.peer_time(t + transit) - t;
            b.add_match(client, frame, p, frame, delta, 2, 255)?;
        }
    }
    b.add_translation(TranslationSpec {
        a: client,
        b: peers[0],
        kind: TranslationKind::Snat,
        summary: "SNAT (every connection)".into(),
        endpoints: None,
        seq_offsets: None,
    })?;
    let bytes = b.build();
    std::fs::write(out, &bytes)?;
    let written = bytes.len();
    eprintln!(
        "bench-index: {} frames x 4 points, {written} bytes ({:.1} bytes per frame and point)",
        times.len(),
        written as f64 / (4 * times.len().max(1)) as f64
    );
    Ok(())
}
