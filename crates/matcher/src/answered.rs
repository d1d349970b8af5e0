//! Was a packet that one point did not capture answered through it?
//!
//! A request seen at `from` on its way to `to`, not captured at `to` and
//! seen nowhere beyond (so [`crate::fill::classify`] cannot call it a
//! capture drop), would be reported lost on the network between the two.
//! But if its answer came back through `to` (captured there and at
//! `from`), the request reached the answerer and passed `to` on its way:
//! `to`'s capture dropped it.  A ping to a host just past a busy SPAN port
//! whose echo request the port dropped and whose reply it kept: without
//! this, the analyst is told the network lost a packet it delivered (lab
//! runs, derive.py --drop wan:3: the client's pings to the WAN router).
//!
//! The answer: an ICMP echo reply with the request's id and sequence
//! number, a DNS message with the query's id and question, a DHCP reply
//! with the request's transaction id; for TCP an acknowledgement covering
//! the segment's last byte (SYN and FIN count one) — unless another copy of
//! those bytes passed `to` (a retransmission), which the acknowledgement
//! may be for: then the first copy may well have been lost, and it stays a
//! network loss.

use crate::table::PointTable;
use capture::keys::{tcp, App};
use rustc_hash::FxHashSet;

/// How many packets of the connection after the request are searched for
/// its answer (and around it for other copies of its bytes): an answer
/// comes within a round trip, well inside this many packets; the bound
/// keeps a connection with many losses from costing its length squared.
const SEARCH: usize = 4096;

/// Whether `from`'s record `i` (of connection `conn`, direction `dir`) was
/// answered by a packet going the other way that `to` saw (`seen`: `from`'s
/// records matched at `to`), with no other copy of it seen at `to`.
pub(crate) fn answered_through(
    t: &PointTable,
    conn: u32,
    i: u32,
    dir: usize,
    seen: &FxHashSet<u32>,
) -> bool {
    let all = t.packets(conn);
    let Ok(pos) = all.binary_search(&i) else {
        return false;
    };
    let rec = &t.recs[i as usize];
    let back = |k: &u32| {
        let r = &t.recs[*k as usize];
        r.dir() != dir && seen.contains(k)
    };
    let after = &all[pos + 1..all.len().min(pos + 1 + SEARCH)];
    if rec.is_tcp() {
        let Some(end) = tcp_end(rec) else {
            return false;
        };
        let acked = after.iter().filter(|k| back(k)).any(|&k| {
            let r = &t.recs[k as usize];
            r.tcp_flags & tcp::ACK != 0 && r.ack.wrapping_sub(end) as i32 >= 0
        });
        acked && !other_copy_seen(t, all, pos, dir, seen)
    } else {
        let Some(answer) = answer_app(rec.app()) else {
            return false;
        };
        after
            .iter()
            .filter(|k| back(k))
            .any(|&k| t.recs[k as usize].app() == answer)
    }
}

/// The sequence number after a segment's last byte (SYN and FIN count
/// one); None for a pure acknowledgement or reset, which nothing answers.
fn tcp_end(r: &crate::table::Rec) -> Option<u32> {
    let flags = u32::from(r.tcp_flags & tcp::SYN != 0) + u32::from(r.tcp_flags & tcp::FIN != 0);
    let n = r.len + flags;
    (n > 0 && r.tcp_flags & tcp::RST == 0).then(|| r.seq.wrapping_add(n))
}

/// Another packet of the same direction near `pos` whose bytes overlap
/// the one at `pos` and that `to` saw: the answer may be for that copy.
fn other_copy_seen(
    t: &PointTable,
    all: &[u32],
    pos: usize,
    dir: usize,
    seen: &FxHashSet<u32>,
) -> bool {
    let rec = &t.recs[all[pos] as usize];
    let Some(end) = tcp_end(rec) else {
        return false;
    };
    let near = &all[pos.saturating_sub(SEARCH)..all.len().min(pos + 1 + SEARCH)];
    near.iter().any(|&k| {
        let r = &t.recs[k as usize];
        k != all[pos]
            && r.dir() == dir
            && seen.contains(&k)
            && tcp_end(r).is_some_and(|e| {
                // [r.seq, e) and [rec.seq, end) overlap (wrapping).
                e.wrapping_sub(rec.seq) as i32 > 0 && end.wrapping_sub(r.seq) as i32 > 0
            })
    })
}

/// The packed application id of the answer to a request (a packed
/// [`App`]), None for what is not a request.
fn answer_app(packed: u64) -> Option<u64> {
    match App::unpack(packed) {
        App::IcmpEcho {
            v6,
            reply: false,
            id,
            seq,
        } => Some(
            App::IcmpEcho {
                v6,
                reply: true,
                id,
                seq,
            }
            .pack(),
        ),
        // Query and response carry the same id and question (QR is not in
        // the key).
        App::Dns { .. } => Some(packed),
        App::Dhcp { op: 1, xid } => Some(App::Dhcp { op: 2, xid }.pack()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let req = App::IcmpEcho {
            v6: false,
            reply: false,
            id: 7,
            seq: 3,
        };
        let rep = App::IcmpEcho {
            v6: false,
            reply: true,
            id: 7,
            seq: 3,
        };
        assert_eq!(answer_app(req.pack()), Some(rep.pack()));
        assert_eq!(answer_app(rep.pack()), None, "a reply is not a request");
        let dhcp = App::Dhcp { op: 1, xid: 9 }.pack();
        assert_eq!(answer_app(dhcp), Some(App::Dhcp { op: 2, xid: 9 }.pack()));
        assert_eq!(answer_app(App::None.pack()), None);
    }
}
