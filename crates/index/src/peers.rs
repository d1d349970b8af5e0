//! PEERS: for every frame of every point, the frames of other points that
//! carry the same packet.  What the post-dissector reads, O(1) per frame.
//!
//! ```text
//! section:  0  8  ENTRY_COUNT    peer entries of all points (u64)
//!           8  FIRST arrays: for each point p in order, PACKETS_p + 1 u32:
//!                  first[0] = 0 ≤ first[1] ≤ … ≤ first[PACKETS_p] = n_p;
//!                  the peers of frame f are p's entries first[f-1] .. first[f]
//!           then zero padding to a multiple of 8 (from the section start)
//!           E = align8(8 + 4 × Σ(PACKETS_p + 1)): ENTRY_COUNT entries of 16 bytes,
//!                  point 0's n_0 entries, then point 1's, … (Σ n_p = ENTRY_COUNT)
//! entry:    0  2  PEER_POINT     the other point (≠ this one, < point count)
//!           2  1  METHOD         match method (names in METHODS)
//!           3  1  CONFIDENCE     0-255 ↔ 0-100 %
//!           4  4  PEER_FRAME     1 ..= PACKETS of the peer point
//!           8  8  DELTA_RAW_NS   peer time − this time, as captured (i64)
//! ```
//! Within a frame the entries are sorted by (PEER_POINT, PEER_FRAME), each
//! pair at most once.  The builder writes every match in both directions.
//!
//! Per packet this costs 4 bytes (first[]) + 16 per peer; with the 4-byte
//! check and the 4-byte coarse time, [`bytes_per_packet`].

use crate::{align8, le16, le32, le64, lei64, Error, Result, Sec};

/// Byte ranges of the PEERS section.
pub mod field {
    use core::ops::Range;
    pub const ENTRY_COUNT: Range<usize> = 0..8;
    /// Start of the first[] arrays.
    pub const FIRST: usize = 8;

    /// Fields of one peer entry.
    pub mod entry {
        use core::ops::Range;
        pub const PEER_POINT: Range<usize> = 0..2;
        pub const METHOD: usize = 2;
        pub const CONFIDENCE: usize = 3;
        pub const PEER_FRAME: Range<usize> = 4..8;
        pub const DELTA_RAW_NS: Range<usize> = 8..16;
        pub const LEN: usize = 16;
    }
}

/// Index bytes per packet that has `peers` peers: check (4) + coarse time
/// (4) + first[] (4) + 16 per peer.  A packet seen at all four points of a
/// four-point path has 3 peers at each: 60 bytes.  The per-point and
/// per-file overheads (one more first[] entry, POINTS, PAIRS, STRINGS…) are
/// a few hundred bytes in all.
pub const fn bytes_per_packet(peers: usize) -> usize {
    4 + 4 + 4 + field::entry::LEN * peers
}

/// One peer of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The other point.
    pub point: u16,
    /// Its frame (1-based).
    pub frame: u32,
    /// Match method (see [`crate::Index::method_name`]).
    pub method: u8,
    /// 0-255 ↔ 0-100 %.
    pub confidence: u8,
    /// Peer time − this time, as captured (no clock correction).
    pub delta_raw_ns: i64,
}

impl Peer {
    fn decode(e: &[u8]) -> Peer {
        use field::entry::*;
        Peer {
            point: le16(e, PEER_POINT.start),
            frame: le32(e, PEER_FRAME.start),
            method: e[METHOD],
            confidence: e[CONFIDENCE],
            delta_raw_ns: lei64(e, DELTA_RAW_NS.start),
        }
    }

    /// Confidence in percent (0.0-100.0).
    pub fn confidence_percent(&self) -> f64 {
        self.confidence as f64 * 100.0 / 255.0
    }
}

/// Confidence byte for a percentage (clamped to 0-100, rounded).
pub fn confidence_from_percent(percent: f64) -> u8 {
    if percent.is_nan() {
        return 0;
    }
    (percent.clamp(0.0, 100.0) * 255.0 / 100.0).round() as u8
}

/// The peers of one frame.
#[derive(Clone, Debug)]
pub struct Peers<'a> {
    entries: core::slice::ChunksExact<'a, u8>,
}

impl<'a> Peers<'a> {
    pub(crate) fn new(entries: &'a [u8]) -> Peers<'a> {
        Peers {
            entries: entries.chunks_exact(field::entry::LEN),
        }
    }

    /// No peers.
    pub fn empty() -> Peers<'static> {
        Peers::new(&[])
    }
}

impl Iterator for Peers<'_> {
    type Item = Peer;

    fn next(&mut self) -> Option<Peer> {
        self.entries.next().map(Peer::decode)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for Peers<'_> {}

impl DoubleEndedIterator for Peers<'_> {
    fn next_back(&mut self) -> Option<Peer> {
        self.entries.next_back().map(Peer::decode)
    }
}

/// Where each point's data lies in the section (element indices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PointPeers {
    /// Index of first[0] among all first[] elements.
    pub first_start: usize,
    /// Index of the point's first entry among all entries.
    pub entry_start: usize,
}

/// The checked section: the first[] arrays, the entries, and where each
/// point's part starts.
pub(crate) struct Checked<'a> {
    pub firsts: &'a [u8],
    pub entries: &'a [u8],
    pub points: Vec<PointPeers>,
}

/// Checks PEERS against the points' packet counts and labels: lengths,
/// first[] starting at 0, never decreasing and ending at the point's share,
/// every entry's peer point and frame, order within a frame.
pub(crate) fn check<'a>(sec: Sec<'a>, points: &[(u32, &str)]) -> Result<Checked<'a>> {
    sec.at_least(field::FIRST)?;
    let count = le64(sec.bytes, field::ENTRY_COUNT.start);
    let firsts_n: u64 = points.iter().map(|p| p.0 as u64 + 1).sum();
    let entries_at = align8(field::FIRST as u64 + 4 * firsts_n);
    let len = count
        .checked_mul(field::entry::LEN as u64)
        .and_then(|n| n.checked_add(entries_at))
        .unwrap_or(u64::MAX);
    sec.exact_len(len, "the peer entries")?;
    let entries_at = entries_at as usize;
    let firsts = &sec.bytes[field::FIRST..field::FIRST + 4 * firsts_n as usize];
    let entries = &sec.bytes[entries_at..];
    let count = count as usize;

    let mut out = Vec::with_capacity(points.len());
    let (mut first_start, mut entry_start) = (0usize, 0usize);
    for (p, &(packets, label)) in points.iter().enumerate() {
        let left = count - entry_start;
        let mut prev = 0u32;
        for i in 0..=packets as usize {
            let at = 4 * (first_start + i);
            let v = le32(firsts, at);
            let here = field::FIRST + at;
            if i == 0 && v != 0 {
                return Err(sec.invalid(
                    here,
                    format!("point {p} ({label}): first[0] = {v}, must be 0"),
                ));
            }
            if v < prev {
                return Err(sec.invalid(
                    here,
                    format!(
                        "point {p} ({label}): first[{i}] = {v} is below first[{}] = {prev}",
                        i - 1
                    ),
                ));
            }
            if v as usize > left {
                return Err(sec.invalid(
                    here,
                    format!(
                        "point {p} ({label}): first[{i}] = {v} beyond the {left} peer entries \
                         left of {count}"
                    ),
                ));
            }
            prev = v;
        }
        let n = prev as usize;
        // Entries of each frame.
        for f in 1..=packets as usize {
            let lo = le32(firsts, 4 * (first_start + f - 1)) as usize;
            let hi = le32(firsts, 4 * (first_start + f)) as usize;
            let mut last: Option<(u16, u32)> = None;
            for k in lo..hi {
                let e = &entries[(entry_start + k) * 16..(entry_start + k + 1) * 16];
                let peer = Peer::decode(e);
                let here = entries_at + (entry_start + k) * 16;
                let fail = |detail: String| -> Error {
                    sec.invalid(
                        here,
                        format!("point {p} ({label}) frame {f} peer entry {k}: {detail}"),
                    )
                };
                let Some(&(peer_packets, _)) = points.get(peer.point as usize) else {
                    return Err(fail(format!(
                        "peer point {} does not exist ({} points)",
                        peer.point,
                        points.len()
                    )));
                };
                if peer.point as usize == p {
                    return Err(fail("peer point is the point itself".into()));
                }
                if peer.frame == 0 || peer.frame > peer_packets {
                    return Err(fail(format!(
                        "peer frame {} is outside 1..={peer_packets} of point {}",
                        peer.frame, peer.point
                    )));
                }
                if last.is_some_and(|l| l >= (peer.point, peer.frame)) {
                    return Err(fail(format!(
                        "peer ({}, {}) is out of order or repeated",
                        peer.point, peer.frame
                    )));
                }
                last = Some((peer.point, peer.frame));
            }
        }
        out.push(PointPeers {
            first_start,
            entry_start,
        });
        first_start += packets as usize + 1;
        entry_start += n;
    }
    if entry_start != count {
        return Err(sec.invalid(
            field::ENTRY_COUNT.start,
            format!("{count} peer entries, the points' first[] arrays use {entry_start}"),
        ));
    }
    Ok(Checked {
        firsts,
        entries,
        points: out,
    })
}

/// One entry's bytes, laid out by [`field::entry`].
#[inline]
pub(crate) fn entry_bytes(p: &Peer) -> [u8; field::entry::LEN] {
    use field::entry::*;
    let mut e = [0u8; LEN];
    e[PEER_POINT].copy_from_slice(&p.point.to_le_bytes());
    e[METHOD] = p.method;
    e[CONFIDENCE] = p.confidence;
    e[PEER_FRAME].copy_from_slice(&p.frame.to_le_bytes());
    e[DELTA_RAW_NS].copy_from_slice(&p.delta_raw_ns.to_le_bytes());
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEERS section for points with the given per-frame peer lists.
    fn section(points: &[Vec<Vec<Peer>>]) -> Vec<u8> {
        let mut v = Vec::new();
        let total: usize = points.iter().flatten().map(|f| f.len()).sum();
        v.extend_from_slice(&(total as u64).to_le_bytes());
        for frames in points {
            let mut n = 0u32;
            v.extend_from_slice(&0u32.to_le_bytes());
            for f in frames {
                n += f.len() as u32;
                v.extend_from_slice(&n.to_le_bytes());
            }
        }
        v.resize(align8(v.len() as u64) as usize, 0);
        for e in points.iter().flatten().flatten() {
            v.extend_from_slice(&entry_bytes(e));
        }
        v
    }

    fn peer(point: u16, frame: u32, delta: i64) -> Peer {
        Peer {
            point,
            frame,
            method: 2,
            confidence: 255,
            delta_raw_ns: delta,
        }
    }

    fn sample() -> Vec<Vec<Vec<Peer>>> {
        vec![
            vec![
                vec![peer(1, 1, 10)],
                vec![],
                vec![peer(1, 2, 11), peer(2, 1, 20)],
            ],
            vec![vec![peer(0, 1, -10)], vec![peer(0, 3, -11)]],
            vec![vec![peer(0, 3, -20)]],
        ]
    }

    fn meta() -> Vec<(u32, &'static str)> {
        vec![(3, "client"), (2, "wan"), (1, "dc")]
    }

    #[test]
    fn layout() {
        let v = section(&sample());
        // 8 + 4 × (4 + 3 + 2) = 44, padded to 48; 6 entries.
        assert_eq!(v.len(), 48 + 6 * 16);
        let sec = Sec {
            bytes: &v,
            base: 4096,
            what: "PEERS section",
        };
        let c = check(sec, &meta()).unwrap();
        assert_eq!(
            c.points[1],
            PointPeers {
                first_start: 4,
                entry_start: 3
            }
        );
        assert_eq!(c.points[2].entry_start, 5);
        let p = Peers::new(&c.entries[16..48]);
        assert_eq!(p.len(), 2);
        let all: Vec<Peer> = p.clone().collect();
        assert_eq!(all, vec![peer(1, 2, 11), peer(2, 1, 20)]);
        assert_eq!(p.clone().next_back(), Some(peer(2, 1, 20)));
        assert_eq!(Peers::empty().count(), 0);
        assert_eq!(bytes_per_packet(3), 60);
        assert_eq!(bytes_per_packet(0), 12);
    }

    #[test]
    fn confidence() {
        assert_eq!(confidence_from_percent(100.0), 255);
        assert_eq!(confidence_from_percent(0.0), 0);
        assert_eq!(confidence_from_percent(50.0), 128);
        assert_eq!(confidence_from_percent(-3.0), 0);
        assert_eq!(confidence_from_percent(f64::NAN), 0);
        assert_eq!(peer(0, 1, 0).confidence_percent(), 100.0);
    }

    #[test]
    fn rules() {
        let base = section(&sample());
        let sec = |v: &[u8]| -> String {
            check(
                Sec {
                    bytes: v,
                    base: 4096,
                    what: "PEERS section",
                },
                &meta(),
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
        };
        // first[2] of point 0 (byte 8 + 8) set to 900.
        let mut v = base.clone();
        v[16..20].copy_from_slice(&900u32.to_le_bytes());
        assert_eq!(
            sec(&v),
            "PEERS section at byte 4112: point 0 (client): first[2] = 900 beyond the 6 peer \
             entries left of 6"
        );
        let mut v = base.clone();
        v[8] = 1;
        assert!(sec(&v).contains("first[0] = 1, must be 0"));
        // Frame 3 of point 0: (2, 1) before (1, 2).
        let mut v = base.clone();
        let (x, y) = (48 + 16, 48 + 32);
        let tmp = v[x..x + 16].to_vec();
        v.copy_within(y..y + 16, x);
        v[y..y + 16].copy_from_slice(&tmp);
        assert!(
            sec(&v).contains("peer (1, 2) is out of order"),
            "{}",
            sec(&v)
        );
        let mut v = base.clone();
        v[12] = 2; // first[1] = 2 > first[2] = 1
        assert!(sec(&v).contains("is below first[1] = 2"), "{}", sec(&v));
        // Entry 0: peer point 7, then itself, then frame 0, then frame 9.
        let e0 = 48;
        let mut v = base.clone();
        v[e0] = 7;
        assert!(sec(&v).contains("peer point 7 does not exist"));
        v[e0] = 0;
        assert!(sec(&v).contains("is the point itself"));
        let mut v = base.clone();
        v[e0 + 4] = 0;
        assert!(sec(&v).contains("peer frame 0 is outside 1..=2"));
        v[e0 + 4] = 9;
        assert!(sec(&v).contains("peer frame 9 is outside 1..=2"));
        // Count disagreeing with the arrays.
        let mut v = base.clone();
        v.extend_from_slice(&[0; 16]);
        v[0] = 7;
        assert!(sec(&v).contains("7 peer entries, the points' first[] arrays use 6"));
        // Lengths.
        assert!(sec(&base[..base.len() - 1]).contains("truncated"));
        let mut v = base.clone();
        v[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(sec(&v).contains("truncated"));
        assert!(sec(&base[..4]).contains("truncated"));
    }
}
