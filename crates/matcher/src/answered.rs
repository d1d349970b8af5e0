//! Was a request that one point did not capture answered through it?
//!
//! A request seen at `from` on its way to `to`, not captured at `to` and
//! seen nowhere beyond (so [`crate::fill::classify`] cannot call it a
//! capture drop), would be reported lost on the network between the two.
//! But if its answer came back to `from` — through `to`, which sees this
//! flow's way — the request reached the answerer and passed `to` on its
//! way: `to`'s capture dropped it (and maybe the answer too: a lab variant
//! dropped both of one ping at random).  A ping to a host just past a busy SPAN port
//! whose echo request the port dropped and whose reply it kept: without
//! this, the analyst is told the network lost a packet it delivered (lab
//! runs, derive.py --drop wan:3: the client's pings to the WAN router).
//!
//! The answer: an ICMP echo reply with the request's id and sequence
//! number, a DNS message with the query's id and question going to the
//! client, a DHCP reply with the request's transaction id.  Not when the
//! request was sent again before the answer (a resolver's retry keeps its
//! id: the answer may be the retry's), nor where `to` saw less than half of
//! the connection's packets going that way (a path that bypasses `to` one
//! way — asymmetric routing, a one-way tap — is no capture drop).
//!
//! TCP is left out: an acknowledgement proves the bytes arrived, not which
//! copy carried them, and telling a dropped copy from a lost one needs
//! every copy at both points (an independent review of this module found
//! the cases: a retransmission the capture also missed, one whose original
//! is far back, a copy only the other point kept).

use crate::marks::Marks;
use crate::table::PointTable;
use capture::keys::App;

/// How many packets of the flow after the request are searched for its
/// answer: an answer comes within a round trip, and a request/answer flow
/// (one 5-tuple of pings or DNS) is small; the bound keeps a long one with
/// many losses from costing its length squared.
const SEARCH: usize = 256;

/// Whether `to` saw enough of `from`'s connection `conn` going `dir` for
/// an answer through it to say where a request went: at least half.
pub(crate) fn to_saw_direction(t: &PointTable, conn: u32, dir: usize, seen: &Marks) -> bool {
    let (mut n, mut s) = (0usize, 0usize);
    for &k in t.packets(conn) {
        if t.recs[k as usize].dir() == dir {
            n += 1;
            s += usize::from(seen.contains(k));
        }
    }
    n > 0 && 2 * s >= n
}

/// Whether `from`'s record `i` (of connection `conn`, direction `dir`), a
/// request, was answered by a packet going the other way before it was
/// sent again.
pub(crate) fn answered_through(t: &PointTable, conn: u32, i: u32, dir: usize) -> bool {
    let rec = &t.recs[i as usize];
    if rec.is_tcp() {
        return false;
    }
    let client = t.conns[conn as usize].client_dir();
    let Some(answer) = answer_app(rec.app(), client == Some(dir)) else {
        return false;
    };
    let all = t.packets(conn);
    let Ok(pos) = all.binary_search(&i) else {
        return false;
    };
    for &k in &all[pos + 1..all.len().min(pos + 1 + SEARCH)] {
        let r = &t.recs[k as usize];
        if r.dir() == dir && r.app() == rec.app() {
            // Sent again before any answer: the answer may be the retry's.
            return false;
        }
        if r.dir() != dir && r.app() == answer {
            // Seen at `to` or not (its capture may have dropped the
            // answer too): an answer back at `from` came through `to`,
            // which sees this flow's way (`to_saw_direction`).
            return true;
        }
    }
    false
}

/// The packed application id of the answer to a request (a packed
/// [`App`]), None for what is not a request.  `to_server`: the packet
/// goes from the flow's client (a DNS message is a query only then: the
/// key has no query/response bit).
fn answer_app(packed: u64, to_server: bool) -> Option<u64> {
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
        // Query and response carry the same id and question.
        App::Dns { .. } if to_server => Some(packed),
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
        assert_eq!(answer_app(req.pack(), true), Some(rep.pack()));
        assert_eq!(
            answer_app(rep.pack(), true),
            None,
            "a reply is not a request"
        );
        let dns = App::Dns {
            id: 0x1234,
            question: 99,
        }
        .pack();
        assert_eq!(answer_app(dns, true), Some(dns));
        assert_eq!(answer_app(dns, false), None, "a response is not a query");
        let dhcp = App::Dhcp { op: 1, xid: 9 }.pack();
        assert_eq!(
            answer_app(dhcp, true),
            Some(App::Dhcp { op: 2, xid: 9 }.pack())
        );
        assert_eq!(answer_app(App::None.pack(), true), None);
    }
}
