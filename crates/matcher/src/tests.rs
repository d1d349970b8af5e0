//! Small hand-checked cases, one per matching rule of the issue: records
//! built by hand (what the extract stage takes from packets), the expected
//! pairs worked out on paper.

use crate::methods;
use crate::pairing::{pair_content, pair_nat};
use crate::proxy;
use crate::table::{bits, Conn, Msg, MsgKind, PointTable, Rec};
use capture::keys::tcp::{ACK, PSH, SYN};
use capture::FlowKey;
use std::net::Ipv4Addr;

const T0: i64 = 1_700_000_000_000_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// A connection from `client` to `server`, and the direction number (0/1,
/// canonical order) of the client's packets.
fn conn(
    client: (Ipv4Addr, u16),
    server: (Ipv4Addr, u16),
    proto: u8,
    isn: Option<u32>,
) -> (Conn, usize) {
    let k = FlowKey {
        src: client.0.to_ipv6_mapped().octets(),
        dst: server.0.to_ipv6_mapped().octets(),
        sport: client.1,
        dport: server.1,
        proto,
        ipv6: false,
    };
    let (canon, rev) = k.canonical();
    let d = usize::from(rev);
    let c = Conn {
        key: canon,
        syn: isn.map(|s| (s, d as u8)),
        closed: false,
        first_dir: d as u8,
        echo_dir: None,
        ttl: [0; 2],
        first_ts_dir: [i64::MIN; 2],
        data_seen: [false; 2],
        first_ts: T0,
        last_ts: T0,
    };
    (c, d)
}

/// One TCP segment of connection 0.
#[allow(clippy::too_many_arguments)]
fn seg(
    us: i64,
    client_dir: usize,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    len: u32,
    digest: u32,
    ip_id: u16,
    tsval: u32,
) -> (i64, Rec) {
    let dir = if from_client {
        client_dir
    } else {
        1 - client_dir
    };
    (
        T0 + us * 1000,
        Rec {
            seq,
            ack,
            tsval,
            digest,
            len16: u16::try_from(len).unwrap(),
            ip_id,
            tcp_flags: flags,
            bits: bits::TCP
                | bits::HAS_IP_ID
                | bits::HAS_TSVAL
                | if dir == 1 { bits::REVERSE } else { 0 },
        },
    )
}

/// Handshake, request and response of one connection at a point whose
/// sequence numbers are shifted by (c2s, s2c), clock `skew_us` ahead, IP
/// IDs passed through `ids`.
fn exchange(
    d: usize,
    c2s: u32,
    s2c: u32,
    skew_us: i64,
    ids: impl Fn(u16) -> u16,
) -> Vec<(i64, Rec)> {
    let (ci, si) = (1000u32.wrapping_add(c2s), 5000u32.wrapping_add(s2c));
    vec![
        seg(skew_us, d, true, SYN, ci, 0, 0, 0, ids(11), 100),
        seg(
            skew_us + 100,
            d,
            false,
            SYN | ACK,
            si,
            ci + 1,
            0,
            0,
            ids(0),
            900,
        ),
        seg(
            skew_us + 200,
            d,
            true,
            ACK,
            ci + 1,
            si + 1,
            0,
            0,
            ids(12),
            101,
        ),
        seg(
            skew_us + 300,
            d,
            true,
            ACK | PSH,
            ci + 1,
            si + 1,
            120,
            0xAAAA,
            ids(13),
            102,
        ),
        seg(
            skew_us + 400,
            d,
            false,
            ACK,
            si + 1,
            ci + 121,
            0,
            0,
            ids(0),
            901,
        ),
        seg(
            skew_us + 500,
            d,
            false,
            ACK | PSH,
            si + 1,
            ci + 121,
            1000,
            0xBBBB,
            ids(7),
            902,
        ),
        seg(
            skew_us + 600,
            d,
            true,
            ACK,
            ci + 121,
            si + 1001,
            0,
            0,
            ids(14),
            103,
        ),
    ]
}

fn one_conn(recs: Vec<(i64, Rec)>, c: Conn) -> PointTable {
    let frames = recs.into_iter().map(|(t, r)| (t, 0, r)).collect();
    PointTable::from_parts(frames, vec![c])
}

/// One connection pair's result, its matches in a vector of their own.
struct Matched {
    result: crate::packets::PairResult,
    matches: Vec<crate::packets::PacketMatch>,
}

impl std::ops::Deref for Matched {
    type Target = crate::packets::PairResult;
    fn deref(&self) -> &Self::Target {
        &self.result
    }
}

fn match_pair(
    ta: &PointTable,
    tb: &PointTable,
    p: &crate::pairing::ConnPair,
    clock: Option<&index::ClockModel>,
) -> Matched {
    let mut matches = Vec::new();
    let fit = clock.map(|m| crate::clock::ClockFit::single(*m, 0, 0, true));
    let result = crate::packets::match_pair(ta, tb, p, fit.as_ref(), &mut matches);
    Matched { result, matches }
}

fn pairs_of(r: &Matched) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = r.matches.iter().map(|m| (m.a, m.b)).collect();
    v.sort();
    v
}

#[test]
fn nat_pat_and_sequence_randomisation() {
    // A: 10.0.0.5:40000 → 203.0.113.80:443.  B, behind SNAT+PAT and DNAT
    // and a firewall adding 0x10000000 to the client's and 0x07654321 to
    // the server's sequence numbers: 198.51.100.1:61000 → 192.0.2.70:8443,
    // clock 5 s ahead.
    let (ca, da) = conn(
        (ip("10.0.0.5"), 40000),
        (ip("203.0.113.80"), 443),
        6,
        Some(1000),
    );
    let (cb, db) = conn(
        (ip("198.51.100.1"), 61000),
        (ip("192.0.2.70"), 8443),
        6,
        Some(0x1000_0000 + 1000),
    );
    let ta = one_conn(exchange(da, 0, 0, 0, |i| i), ca);
    let tb = one_conn(exchange(db, 0x1000_0000, 0x0765_4321, 5_000_000, |i| i), cb);
    // Tier 1 (exact numbers) cannot pair them: every number changed.
    assert!(pair_nat(&ta, &tb).is_empty());
    // Tier 2: lengths and digests, no clock yet.
    let pairs = pair_content(&ta, &tb, &[], None, 2_000_000_000);
    assert_eq!(pairs.len(), 1);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(pairs_of(&r), (0..7).map(|i| (i, i)).collect::<Vec<_>>());
    assert!(r.matches.iter().all(|m| m.method == methods::SEQ));
    assert_eq!(r.dirs[da].seq_off, 0x1000_0000);
    assert_eq!(r.dirs[1 - da].seq_off, 0x0765_4321);
    assert!(r.dirs[da].ip_id_kept);
}

#[test]
fn ip_id_rewritten_is_not_needed() {
    // Same addressing, IP IDs rewritten (pf scrub): matched on the rest.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, Some(1000));
    let ta = one_conn(exchange(d, 0, 0, 0, |i| i), c.clone());
    let tb = one_conn(
        exchange(d, 0, 0, 40, |i| i.wrapping_mul(7919).wrapping_add(3)),
        c,
    );
    let pairs = pair_nat(&ta, &tb);
    assert_eq!(pairs.len(), 1);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(pairs_of(&r), (0..7).map(|i| (i, i)).collect::<Vec<_>>());
    assert!(r.matches.iter().all(|m| m.method == methods::SAME));
    assert!(!r.dirs[0].ip_id_kept && !r.dirs[1].ip_id_kept);
}

#[test]
fn middlebox_handshake_is_not_matched() {
    // SYNPROXY: the client's SYN at A and the proxy's own SYN at B carry
    // the same sequence number but another IP ID; the SYN-ACKs (the
    // proxy's at A, the server's at B) agree after translation but are not
    // the same packet either.  The data and what follows match.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, Some(1000));
    let ta = one_conn(exchange(d, 0, 0, 0, |i| i), c.clone());
    let mut b = exchange(d, 0, 0x0100_0000, 40, |i| i);
    b[0].1.ip_id = 0; // the proxy's SYN
    b[2].1.ip_id = 0; // the proxy's handshake ACK
    let tb = one_conn(b, c);
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert!(r.handshake_by_middlebox);
    assert_eq!(pairs_of(&r), vec![(3, 3), (4, 4), (5, 5), (6, 6)]);
}

#[test]
fn tso_super_packet_holds_three_segments() {
    // A (wire) sees three 1448-byte segments; B (the sender, TSO) one
    // 4344-byte packet with the same ack and TSval: one-to-many.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let mut a = Vec::new();
    for k in 0..3u32 {
        a.push(seg(
            100 + k as i64,
            d,
            false,
            ACK,
            5000 + 1448 * k,
            777,
            1448,
            0x100 + k,
            40 + k as u16,
            9,
        ));
    }
    a.push(seg(200, d, true, ACK, 777, 5000 + 4344, 0, 0, 3, 50));
    let b = vec![
        seg(90, d, false, ACK | PSH, 5000, 777, 4344, 0x100, 40, 9),
        seg(210, d, true, ACK, 777, 5000 + 4344, 0, 0, 3, 50),
    ];
    let (ta, tb) = (one_conn(a, c.clone()), one_conn(b, c));
    let pairs = pair_nat(&ta, &tb);
    assert_eq!(pairs.len(), 1);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    let mut tso: Vec<(u32, u32)> = r
        .matches
        .iter()
        .filter(|m| m.method == methods::TSO)
        .map(|m| (m.a, m.b))
        .collect();
    tso.sort();
    assert_eq!(tso, vec![(0, 0), (1, 0), (2, 0)]);
    assert!(r
        .matches
        .iter()
        .any(|m| m.a == 3 && m.b == 1 && m.method == methods::SAME));
}

#[test]
fn identical_copies_pair_in_order() {
    // Two identical pure ACKs (same numbers, IP ID 0 as Linux sends DF
    // packets): the first copy at A is the first at B.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let ack = |us: i64| seg(us, d, false, ACK, 5000, 777, 0, 0, 0, 9);
    let data = |us: i64| seg(us, d, false, ACK | PSH, 5000, 777, 100, 0x55, 0, 9);
    let ta = one_conn(vec![data(0), ack(10), ack(18)], c.clone());
    let tb = one_conn(vec![data(30), ack(40), ack(48)], c);
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(pairs_of(&r), vec![(0, 0), (1, 1), (2, 2)]);
}

#[test]
fn span_port_duplicates_take_their_originals_peer() {
    // A (a span port) has every frame of a download twice, 40 µs apart,
    // the second ACK also a third time; B has each once.  Each copy is
    // matched to B's frame, the extra ones as span duplicates, none lost.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let data = |us: i64, seq: u32| seg(us, d, false, ACK | PSH, seq, 777, 100, seq, 1, 9);
    let ack = |us: i64, n: u32| seg(us, d, true, ACK, 777, 5000 + n, 0, 0, 0, 9);
    let ta = one_conn(
        vec![
            data(0, 5000),
            data(40, 5000),
            ack(100, 100),
            ack(140, 100),
            data(200, 5100),
            data(240, 5100),
            ack(300, 200),
            ack(340, 200),
            ack(380, 200),
        ],
        c.clone(),
    );
    let tb = one_conn(
        vec![data(20, 5000), ack(90, 100), data(220, 5100), ack(290, 200)],
        c,
    );
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    let mut got: Vec<(u32, u32, bool)> = r
        .matches
        .iter()
        .map(|m| (m.a, m.b, m.method == methods::DUPLICATE))
        .collect();
    got.sort();
    let want = [
        (0, 0, false),
        (1, 0, true),
        (2, 1, false),
        (3, 1, true),
        (4, 2, false),
        (5, 2, true),
        (6, 3, false),
        (7, 3, true),
        (8, 3, true),
    ];
    assert_eq!(got, want);

    // A copy beyond the window (a retransmission 3 ms later, same
    // numbers) is not a duplicate: it stays unmatched when B has one copy.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let data = |us: i64| seg(us, d, false, ACK | PSH, 5000, 777, 100, 7, 0, 9);
    let ta = one_conn(vec![data(0), data(3_000)], c.clone());
    let tb = one_conn(vec![data(20)], c);
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(r.matches.len(), 1);
    assert!(r.matches.iter().all(|m| m.method != methods::DUPLICATE));

    // One coincidence is no mirror port: SYNPROXY's own window-update ACK
    // equals the server's forwarded ACK field for field, 35 µs apart (lab
    // --synproxy, wan frames 10 and 11), among packets that are not
    // doubled.  The extra copy stays unmatched.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let ack = |us: i64| seg(us, d, false, ACK, 5000, 777, 0, 0, 0, 9);
    let data = |us: i64, seq: u32| seg(us, d, false, ACK | PSH, seq, 777, 100, seq, 0, 9);
    let ta = one_conn(
        vec![
            ack(0),
            ack(35),
            data(400, 5000),
            data(500, 5100),
            data(600, 5200),
        ],
        c.clone(),
    );
    let tb = one_conn(
        vec![ack(10), data(410, 5000), data(510, 5100), data(610, 5200)],
        c,
    );
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(r.matches.len(), 4);
    assert!(r.matches.iter().all(|m| m.method != methods::DUPLICATE));
    // Nor in a short direction, where that one repeat is a third.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let ack = |us: i64| seg(us, d, false, ACK, 5000, 777, 0, 0, 0, 9);
    let data = |us: i64| seg(us, d, false, ACK | PSH, 5000, 777, 100, 1, 0, 9);
    let ta = one_conn(vec![ack(0), ack(35), data(400)], c.clone());
    let tb = one_conn(vec![ack(10), data(410)], c);
    let pairs = pair_nat(&ta, &tb);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(r.matches.len(), 2);
    assert!(r.matches.iter().all(|m| m.method != methods::DUPLICATE));
}

#[test]
fn dns_through_nat_by_application_id() {
    // UDP: query and response, addresses and ports translated; seq/ack
    // hold the packed application id.
    let app = capture::App::Dns {
        id: 0x1234,
        question: 0xCAFE,
    }
    .pack();
    let udp = |us: i64, dir: usize, len: u32, digest: u32| {
        (
            T0 + us * 1000,
            Rec {
                seq: (app >> 32) as u32,
                ack: app as u32,
                tsval: 0,
                digest,
                len16: u16::try_from(len).unwrap(),
                ip_id: 99,
                tcp_flags: 0,
                bits: bits::HAS_IP_ID | if dir == 1 { bits::REVERSE } else { 0 },
            },
        )
    };
    let (ca, da) = conn((ip("10.0.0.5"), 5353), (ip("203.0.113.53"), 53), 17, None);
    let (cb, db) = conn(
        (ip("198.51.100.1"), 33333),
        (ip("192.0.2.53"), 53),
        17,
        None,
    );
    let ta = one_conn(vec![udp(0, da, 40, 1), udp(500, 1 - da, 56, 2)], ca);
    let tb = one_conn(vec![udp(100, db, 40, 1), udp(400, 1 - db, 56, 2)], cb);
    let pairs = pair_nat(&ta, &tb);
    assert_eq!(pairs.len(), 1);
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert_eq!(pairs_of(&r), vec![(0, 0), (1, 1)]);
    assert!(r.matches.iter().all(|m| m.method == methods::APP));
}

#[test]
fn full_proxy_links_requests_by_request_line_and_time() {
    // Front (A): plain HTTP on one client connection, TLS on the other.
    // Back (B): two proxy → server connections, plain HTTP, clock 1 s
    // ahead; the proxy forwards requests 300 µs after receiving them,
    // responses 50 µs after.
    let get = |path: &str| {
        crate::payload::classify(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap()
            .1
    };
    let (f1, d1) = conn((ip("10.0.0.5"), 40001), (ip("192.0.2.70"), 80), 6, Some(1));
    let (f2, d2) = conn((ip("10.0.0.6"), 40002), (ip("192.0.2.70"), 443), 6, Some(1));
    let (b1, e1) = conn(
        (ip("192.0.2.129"), 50001),
        (ip("192.0.2.140"), 80),
        6,
        Some(1),
    );
    let (b2, e2) = conn(
        (ip("192.0.2.129"), 50002),
        (ip("192.0.2.140"), 80),
        6,
        Some(1),
    );
    let on = |(t, r): (i64, Rec), c: u32| (t, c, r);
    // Front: /a (plain) at 1000 µs, its response at 2400; TLS request at
    // 1100, a session ticket at 1200, the response at 2600.
    let fa = vec![
        on(seg(1000, d1, true, ACK | PSH, 2, 1, 80, 1, 1, 1), 0),
        on(seg(1100, d2, true, ACK | PSH, 2, 1, 100, 2, 1, 1), 1),
        on(seg(1200, d2, false, ACK | PSH, 1, 102, 250, 3, 1, 1), 1),
        on(seg(2400, d1, false, ACK | PSH, 1, 82, 500, 4, 1, 1), 0),
        on(seg(2600, d2, false, ACK | PSH, 251, 102, 600, 5, 1, 1), 1),
    ];
    let s = 1_000_000;
    let fb = vec![
        on(seg(s + 1300, e1, true, ACK | PSH, 2, 1, 110, 6, 1, 1), 0),
        on(seg(s + 1400, e2, true, ACK | PSH, 2, 1, 95, 7, 1, 1), 1),
        on(seg(s + 2350, e1, false, ACK | PSH, 1, 112, 480, 8, 1, 1), 0),
        on(seg(s + 2550, e2, false, ACK | PSH, 1, 97, 580, 9, 1, 1), 1),
    ];
    let msg = |t: &PointTable, rec: u32, kind: MsgKind, value: u64| {
        Msg::new(rec, t.conn_of(rec), kind, value)
    };
    let mut ta = PointTable::from_parts(fa, vec![f1, f2]);
    ta.msgs = vec![
        msg(&ta, 0, MsgKind::HttpRequest, get("/a")),
        msg(&ta, 1, MsgKind::Tls, 23),
        msg(&ta, 2, MsgKind::Tls, 23),
        msg(&ta, 3, MsgKind::HttpResponse, 200),
        msg(&ta, 4, MsgKind::Tls, 23),
    ];
    let mut tb = PointTable::from_parts(fb, vec![b1, b2]);
    tb.msgs = vec![
        msg(&tb, 0, MsgKind::HttpRequest, get("/a")),
        msg(&tb, 1, MsgKind::HttpRequest, get("/b")),
        msg(&tb, 2, MsgKind::HttpResponse, 200),
        msg(&tb, 3, MsgKind::HttpResponse, 200),
    ];
    let p = proxy::link(&ta, &tb, &[], None, 2_000_000_000);
    let mut got: Vec<(u32, u32, u8)> = p.matches.iter().map(|m| (m.a, m.b, m.method)).collect();
    got.sort();
    // /a by its request line; the clock from it places /b's front request
    // (not the ticket); each response follows its request.
    assert_eq!(
        got,
        vec![
            (0, 0, methods::HTTP),
            (1, 1, methods::TURNS),
            (3, 2, methods::HTTP),
            (4, 3, methods::TURNS)
        ]
    );
    assert_eq!(p.links.len(), 2);
}

#[test]
fn tls_close_notify_is_no_request() {
    // Front: a TLS request (155 bytes) on one connection, then another
    // connection's TLS 1.3 close_notify (an application-data record of 24
    // bytes on the wire) just before the proxy forwards the request.  The
    // request is the one forwarded, not the later, shorter record.
    let get = crate::payload::classify(b"GET /b HTTP/1.1\r\n\r\n")
        .unwrap()
        .1;
    let (f1, d1) = conn((ip("10.0.0.5"), 40001), (ip("192.0.2.70"), 443), 6, Some(1));
    let (f2, d2) = conn((ip("10.0.0.6"), 40002), (ip("192.0.2.70"), 443), 6, Some(1));
    let (b1, e1) = conn(
        (ip("192.0.2.129"), 50001),
        (ip("192.0.2.140"), 80),
        6,
        Some(1),
    );
    let on = |(t, r): (i64, Rec), c: u32| (t, c, r);
    let fa = vec![
        on(seg(1000, d1, true, ACK | PSH, 2, 1, 155, 1, 1, 1), 0),
        on(seg(1100, d2, true, ACK | PSH, 2, 1, 24, 2, 1, 1), 1),
    ];
    let fb = vec![on(
        seg(1_000_000 + 1150, e1, true, ACK | PSH, 2, 1, 225, 3, 1, 1),
        0,
    )];
    let msg = |t: &PointTable, rec: u32, kind: MsgKind, value: u64| {
        Msg::new(rec, t.conn_of(rec), kind, value)
    };
    let mut ta = PointTable::from_parts(fa, vec![f1, f2]);
    ta.msgs = vec![msg(&ta, 0, MsgKind::Tls, 23), msg(&ta, 1, MsgKind::Tls, 23)];
    let mut tb = PointTable::from_parts(fb, vec![b1]);
    tb.msgs = vec![msg(&tb, 0, MsgKind::HttpRequest, get)];
    let clock = index::ClockModel::new(1_000_000_000, 0, T0);
    let clock = crate::clock::ClockFit::single(clock, 0, 0, true);
    let p = proxy::link(&ta, &tb, &[], Some(&clock), 2_000_000_000);
    let got: Vec<(u32, u32)> = p.matches.iter().map(|m| (m.a, m.b)).collect();
    assert_eq!(got, vec![(0, 0)]);
}

#[test]
fn tls_ticket_after_the_request_is_no_response() {
    // Front (TLS 1.3, the proxy terminates it): the request at 1000 µs,
    // then a session ticket the proxy sends at 1150 µs while the server is
    // still answering; the response leaves the proxy at 1350 µs, 50 µs
    // after the back response arrived at 1300 µs.  The clock is known both
    // ways to 4 µs: the ticket, 150 µs before the back response, cannot
    // carry it (a fixed 200 µs margin took it).
    let get = crate::payload::classify(b"GET /t HTTP/1.1\r\n\r\n")
        .unwrap()
        .1;
    let (f1, d1) = conn((ip("10.0.0.5"), 40001), (ip("192.0.2.70"), 443), 6, Some(1));
    let (b1, e1) = conn(
        (ip("192.0.2.129"), 50001),
        (ip("192.0.2.140"), 80),
        6,
        Some(1),
    );
    let on = |(t, r): (i64, Rec), c: u32| (t, c, r);
    let s = 1_000_000;
    let fa = vec![
        on(seg(1000, d1, true, ACK | PSH, 2, 1, 153, 1, 1, 1), 0),
        on(seg(1150, d1, false, ACK | PSH, 1, 155, 271, 2, 1, 1), 0),
        on(seg(1350, d1, false, ACK | PSH, 272, 155, 4349, 3, 1, 1), 0),
    ];
    let fb = vec![
        on(seg(s + 1100, e1, true, ACK | PSH, 2, 1, 223, 4, 1, 1), 0),
        on(
            seg(s + 1300, e1, false, ACK | PSH, 1, 225, 1448, 5, 1, 1),
            0,
        ),
    ];
    let msg = |t: &PointTable, rec: u32, kind: MsgKind, value: u64| {
        Msg::new(rec, t.conn_of(rec), kind, value)
    };
    let mut ta = PointTable::from_parts(fa, vec![f1]);
    ta.msgs = vec![
        msg(&ta, 0, MsgKind::Tls, 23),
        msg(&ta, 1, MsgKind::Tls, 23),
        msg(&ta, 2, MsgKind::Tls, 23),
    ];
    let mut tb = PointTable::from_parts(fb, vec![b1]);
    tb.msgs = vec![
        msg(&tb, 0, MsgKind::HttpRequest, get),
        msg(&tb, 1, MsgKind::HttpResponse, 200),
    ];
    let clock = index::ClockModel::new(s * 1000, 0, T0);
    let clock = crate::clock::ClockFit::single(clock, 4_000, 24, true);
    let p = proxy::link(&ta, &tb, &[], Some(&clock), 2_000_000_000);
    let got: Vec<(u32, u32)> = p.matches.iter().map(|m| (m.a, m.b)).collect();
    assert_eq!(got, vec![(0, 0), (2, 1)]);
}

#[test]
fn link_scoped_flows_pair_only_on_the_same_link() {
    // Each side's router interface sends its own membership report to
    // 224.0.0.22 (IGMPv3; IPv6 MLD to ff02::16 is the same case): same
    // length and content, no IP ID to tell them apart, other sources.
    // They are two packets, not one translated by a NAT.
    let report = |us: i64| {
        (
            T0 + us * 1000,
            Rec {
                seq: 0,
                ack: 0,
                tsval: 0,
                digest: 0x5eed,
                len16: 16,
                ip_id: 0,
                tcp_flags: 0,
                bits: 0,
            },
        )
    };
    let group = ip("224.0.0.22");
    let (ca, _) = conn((ip("192.0.2.65"), 0), (group, 0), 2, None);
    let (cb, _) = conn((ip("192.0.2.129"), 0), (group, 0), 2, None);
    let ta = one_conn(vec![report(0), report(1_000)], ca.clone());
    let tb = one_conn(vec![report(36_000), report(37_000)], cb);
    assert!(pair_nat(&ta, &tb).is_empty());
    let clock = crate::clock::ClockFit::single(index::ClockModel::new(0, 0, T0), 5_000, 4, true);
    assert!(crate::pairing::pair_content(&ta, &tb, &[], Some(&clock), 1_000_000_000).is_empty());
    assert!(crate::pairing::pair_content(&ta, &tb, &[], None, 1_000_000_000).is_empty());
    // Two capture points on one link see the same addresses: one flow.
    let tb = one_conn(vec![report(10), report(1_010)], ca);
    assert_eq!(pair_nat(&ta, &tb).len(), 1);
}

#[test]
fn body_packets_pair_by_offset_within_the_body() {
    // Plain HTTP both sides.  The response's header block is 100 bytes at
    // the front and 80 at the back (the proxy rewrote headers); its
    // 2000-byte body is cut 400 + 1000 + 600 at the front (after the
    // headers) and 1368 + 632 at the back, whose second packet is
    // retransmitted.  Each front packet goes with the back packet carrying
    // its last body byte, first copy: the 1000- and 600-byte ones with the
    // back's second; the first is the anchor pair already, its retransmitted
    // copy goes with the back's first.
    let header = |n: usize| {
        let h = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(n - 24));
        assert_eq!(h.len(), n);
        crate::payload::classify(h.as_bytes()).unwrap().1
    };
    let get = crate::payload::classify(b"GET /x HTTP/1.1\r\n\r\n")
        .unwrap()
        .1;
    let (f1, d1) = conn((ip("10.0.0.5"), 40001), (ip("192.0.2.70"), 80), 6, Some(1));
    let (b1, e1) = conn(
        (ip("192.0.2.129"), 50001),
        (ip("192.0.2.140"), 80),
        6,
        Some(1),
    );
    let on = |(t, r): (i64, Rec), c: u32| (t, c, r);
    let s = 1_000_000;
    let run = |second_back_len: u32| {
        let fa = vec![
            on(seg(1000, d1, true, ACK | PSH, 1, 1, 19, 1, 1, 1), 0),
            on(seg(1350, d1, false, ACK | PSH, 1, 20, 500, 2, 1, 1), 0),
            // The first packet again (a retransmission): another message
            // start, but not the next message.
            on(seg(1355, d1, false, ACK | PSH, 1, 20, 500, 2, 1, 1), 0),
            on(seg(1360, d1, false, ACK, 501, 20, 1000, 3, 1, 1), 0),
            on(seg(1370, d1, false, ACK | PSH, 1501, 20, 600, 4, 1, 1), 0),
        ];
        let fb = vec![
            on(seg(s + 1100, e1, true, ACK | PSH, 1, 1, 19, 5, 1, 1), 0),
            on(seg(s + 1300, e1, false, ACK, 1, 20, 1448, 6, 1, 1), 0),
            on(
                seg(
                    s + 1310,
                    e1,
                    false,
                    ACK | PSH,
                    1449,
                    20,
                    second_back_len,
                    7,
                    1,
                    1,
                ),
                0,
            ),
            on(
                seg(
                    s + 1320,
                    e1,
                    false,
                    ACK | PSH,
                    1449,
                    20,
                    second_back_len,
                    7,
                    1,
                    1,
                ),
                0,
            ),
        ];
        let msg = |t: &PointTable, rec: u32, kind: MsgKind, value: u64| {
            Msg::new(rec, t.conn_of(rec), kind, value)
        };
        let mut ta = PointTable::from_parts(fa, vec![f1.clone()]);
        ta.msgs = vec![
            msg(&ta, 0, MsgKind::HttpRequest, get),
            msg(&ta, 1, MsgKind::HttpResponse, header(100)),
            msg(&ta, 2, MsgKind::HttpResponse, header(100)),
        ];
        let mut tb = PointTable::from_parts(fb, vec![b1.clone()]);
        tb.msgs = vec![
            msg(&tb, 0, MsgKind::HttpRequest, get),
            msg(&tb, 1, MsgKind::HttpResponse, header(80)),
        ];
        let clock = index::ClockModel::new(s * 1000, 0, T0);
        let clock = crate::clock::ClockFit::single(clock, 4_000, 24, true);
        let p = proxy::link(&ta, &tb, &[], Some(&clock), 2_000_000_000);
        let mut got: Vec<(u32, u32, u8)> = p.matches.iter().map(|m| (m.a, m.b, m.method)).collect();
        got.sort();
        got
    };
    assert_eq!(
        run(632),
        vec![
            (0, 0, methods::HTTP),
            (1, 1, methods::HTTP),
            (2, 1, methods::PROXY_BODY),
            (3, 2, methods::PROXY_BODY),
            (4, 2, methods::PROXY_BODY)
        ]
    );
    // A body the proxy changed (here 10 bytes shorter at the back): the
    // offsets say nothing, only the anchors stay.
    assert_eq!(run(622), vec![(0, 0, methods::HTTP), (1, 1, methods::HTTP)]);
}

#[test]
fn tso_copies_resent_go_by_clock_not_by_guess() {
    // B (the sender, GSO) sends 2896 bytes as one packet at 90 µs and
    // resends them the same way at 400 µs; A (the wire) sees both copies as
    // two 1448-byte segments each, 10 µs later.  No IP ID ties a segment to
    // its packet.  Without a clock each segment goes to the first copy, a
    // guess that asks for the clock; with it, each to its own.
    let (c, d) = conn((ip("10.0.0.5"), 40000), (ip("10.9.9.9"), 80), 6, None);
    let mut a = Vec::new();
    for (k, t) in [100i64, 101, 410, 411].into_iter().enumerate() {
        let off = 1448 * (k as u32 % 2);
        a.push(seg(
            t,
            d,
            false,
            ACK,
            5000 + off,
            777,
            1448,
            0x100 + k as u32,
            900 + k as u16,
            9,
        ));
    }
    a.push(seg(500, d, true, ACK, 777, 5000 + 2896, 0, 0, 3, 50));
    let b = vec![
        seg(90, d, false, ACK | PSH, 5000, 777, 2896, 0x100, 40, 9),
        seg(400, d, false, ACK | PSH, 5000, 777, 2896, 0x100, 41, 9),
        seg(510, d, true, ACK, 777, 5000 + 2896, 0, 0, 3, 50),
    ];
    let (ta, tb) = (one_conn(a, c.clone()), one_conn(b, c));
    let pairs = pair_nat(&ta, &tb);
    assert_eq!(pairs.len(), 1);
    let tso_of = |r: &Matched| {
        let mut v: Vec<(u32, u32, u8)> = r
            .matches
            .iter()
            .filter(|m| m.method == methods::TSO)
            .map(|m| (m.a, m.b, m.conf))
            .collect();
        v.sort();
        v
    };
    let guess = crate::packets::CONF_BY_ORDER;
    let r = match_pair(&ta, &tb, &pairs[0], None);
    assert!(r.needed_clock);
    assert_eq!(
        tso_of(&r),
        vec![(0, 0, guess), (1, 0, guess), (2, 0, guess), (3, 0, guess)]
    );
    let clock = index::ClockModel::new(0, 0, T0);
    let r = match_pair(&ta, &tb, &pairs[0], Some(&clock));
    assert_eq!(
        tso_of(&r),
        vec![(0, 0, 230), (1, 0, 230), (2, 1, 230), (3, 1, 230)]
    );
}

/// TLS turns through [`proxy::link`]: one TLS request per front connection
/// (client address, µs, TCP payload length) and one plain request per back
/// connection (µs, length, X-Forwarded-For), B's clock 1 s ahead and known
/// both ways to 4 µs.  The request pairs found (front, back, confidence),
/// sorted.
fn tls_turns(
    fronts: &[(&str, i64, u32)],
    backs: &[(i64, u32, Option<&str>)],
) -> Vec<(u32, u32, u8)> {
    let on = |(t, r): (i64, Rec), c: u32| (t, c, r);
    let front: Vec<(Conn, usize)> = fronts
        .iter()
        .enumerate()
        .map(|(k, f)| {
            conn(
                (ip(f.0), 40001 + k as u16),
                (ip("192.0.2.70"), 443),
                6,
                Some(1),
            )
        })
        .collect();
    let back: Vec<(Conn, usize)> = (0..backs.len() as u16)
        .map(|k| {
            conn(
                (ip("192.0.2.129"), 50001 + k),
                (ip("192.0.2.140"), 80),
                6,
                Some(1),
            )
        })
        .collect();
    let s = 1_000_000;
    let fa = fronts
        .iter()
        .enumerate()
        .map(|(k, &(_, t, len))| {
            let r = seg(t, front[k].1, true, ACK | PSH, 2, 1, len, k as u32, 1, 1);
            on(r, k as u32)
        })
        .collect();
    let fb = backs
        .iter()
        .enumerate()
        .map(|(k, &(t, len, _))| {
            let r = seg(
                s + t,
                back[k].1,
                true,
                ACK | PSH,
                2,
                1,
                len,
                100 + k as u32,
                1,
                1,
            );
            on(r, k as u32)
        })
        .collect();
    let msg = |t: &PointTable, rec: u32, kind: MsgKind, value: u64| {
        Msg::new(rec, t.conn_of(rec), kind, value)
    };
    let mut ta = PointTable::from_parts(fa, front.into_iter().map(|c| c.0).collect());
    ta.msgs = (0..fronts.len() as u32)
        .map(|r| msg(&ta, r, MsgKind::Tls, 23))
        .collect();
    let mut tb = PointTable::from_parts(fb, back.into_iter().map(|c| c.0).collect());
    tb.msgs = backs
        .iter()
        .enumerate()
        .map(|(r, b)| {
            let xff =
                b.2.map_or(String::new(), |a| format!("X-Forwarded-For: {a}\r\n"));
            let line = format!("GET /r{r} HTTP/1.1\r\n{xff}\r\n");
            let v = crate::payload::classify(line.as_bytes()).unwrap().1;
            msg(&tb, r as u32, MsgKind::HttpRequest, v)
        })
        .collect();
    let clock = index::ClockModel::new(s * 1000, 0, T0);
    let clock = crate::clock::ClockFit::single(clock, 4_000, 24, true);
    let p = proxy::link(&ta, &tb, &[], Some(&clock), 2_000_000_000);
    let mut got: Vec<(u32, u32, u8)> = p.matches.iter().map(|m| (m.a, m.b, m.conf)).collect();
    got.sort();
    got
}

/// Three TLS turns alone in time, from `client`, through a proxy that adds
/// 70 bytes net: what teaches the typical size difference.
#[allow(clippy::type_complexity)]
fn taught_turns(client: &str) -> (Vec<(&str, i64, u32)>, Vec<(i64, u32, Option<&str>)>) {
    (
        vec![
            (client, 0, 153),
            (client, 10_000, 155),
            (client, 20_000, 154),
        ],
        vec![(250, 223, None), (10_250, 225, None), (20_250, 224, None)],
    )
}

#[test]
fn tls_turns_that_arrive_together_pair_by_size() {
    // Five TLS clients; the proxy adds 70 bytes net (X-Forwarded-For less
    // the TLS 1.3 record overhead).  Three requests alone in time teach
    // that; then two arrive 140 µs apart (153 and 154 bytes) and are
    // forwarded in arrival order (223 and 224 bytes).  The latest front
    // request before the first back one is the second client's: only the
    // sizes say it is not this one.  Size and time agree: 92 %, more than
    // time alone.
    let (mut fronts, mut backs) = taught_turns("10.0.0.5");
    fronts.extend([("10.0.0.5", 100_000, 153), ("10.0.0.5", 100_140, 154)]);
    backs.extend([(100_300, 223, None), (100_350, 224, None)]);
    let got = tls_turns(&fronts, &backs);
    assert_eq!(got, (0..5).map(|k| (k, k, 235)).collect::<Vec<_>>());
}

#[test]
fn tls_turn_size_only_decides_between_requests_that_arrived_together() {
    // The proxy adds 70 bytes net for most clients (three turns teach it);
    // one client's differ by 63 (TLS 1.2).  Its request is the latest
    // before the back one; an unanswered request of the usual kind 5 ms
    // earlier (it went to a backend not captured) has the typical size but
    // did not arrive with it: time decides.
    let (mut fronts, mut backs) = taught_turns("10.0.0.5");
    fronts.extend([("10.0.0.5", 95_000, 154), ("10.0.0.5", 100_000, 161)]);
    backs.push((100_300, 224, None));
    let got = tls_turns(&fronts, &backs);
    let pairs: Vec<(u32, u32)> = got.iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(pairs, vec![(0, 0), (1, 1), (2, 2), (4, 3)]);
}

#[test]
fn tls_turns_follow_x_forwarded_for() {
    // Two clients' TLS requests of the same size reach the proxy 140 µs
    // apart and are forwarded in arrival order; the back requests name
    // their clients in X-Forwarded-For.  The latest front request before
    // the first back one is the second client's: the header says not.
    let (c1, c2) = ("10.0.0.5", "10.0.0.6");
    let got = tls_turns(
        &[(c1, 100_000, 153), (c2, 100_140, 153)],
        &[(100_300, 223, Some(c1)), (100_350, 223, Some(c2))],
    );
    let pairs: Vec<(u32, u32)> = got.iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(pairs, vec![(0, 0), (1, 1)]);
}

/// The keys' encapsulation bits are the index's ENCAPSULATIONS bits (the
/// matcher stores one as the other).
#[test]
fn encapsulation_bits_are_the_index_bits() {
    use capture::keys::encap as k;
    use index::points::encap as i;
    let pairs = [
        (k::GRE, i::GRE),
        (k::ERSPAN_I_II, i::ERSPAN_I_II),
        (k::ERSPAN_III, i::ERSPAN_III),
        (k::VXLAN, i::VXLAN),
        (k::GENEVE, i::GENEVE),
        (k::MPLS, i::MPLS),
        (k::IP_IN_IP, i::IP_IN_IP),
        (k::GTP_U, i::GTP_U),
    ];
    for (a, b) in pairs {
        assert_eq!(u32::from(a), b);
    }
}

#[test]
fn clock_resolution_of_time_stamps() {
    use crate::table::Times;
    let clock_resolution =
        |ts: &[i64]| crate::table::clock_resolution(&ts.iter().copied().collect::<Times>());
    let ns: Vec<i64> = (0..5000)
        .map(|i| 1_700_000_000_123_456_789 + i * 7_919)
        .collect();
    assert_eq!(clock_resolution(&ns), 1);
    let us: Vec<i64> = ns.iter().map(|t| t / 1000 * 1000).collect();
    assert_eq!(clock_resolution(&us), 1000);
    let ms: Vec<i64> = ns.iter().map(|t| t / 1_000_000 * 1_000_000).collect();
    assert_eq!(clock_resolution(&ms), 1_000_000);
    assert_eq!(clock_resolution(&[]), 0);
    // One odd stamp in a thousand does not hide the resolution.
    let mut almost = ms.clone();
    almost[7] += 1;
    assert_eq!(clock_resolution(&almost), 1_000_000);
}

/// UDP and ICMP: the client by the echo request, by port roles, else by
/// who sent first — not the canonical (lower) endpoint, which made a home
/// NAT's every UDP/ICMP translation a DNAT with the server as source.
#[test]
fn client_of_udp_and_icmp_flows() {
    use std::net::Ipv4Addr;
    let client = (Ipv4Addr::new(192, 0, 2, 10), 50000);
    let server = (Ipv4Addr::new(203, 0, 113, 53), 53);
    // The client (192.0.2.10) sorts first: direction 0 from it.
    let (mut c, d) = conn(client, server, 17, None);
    assert_eq!(c.client_dir(), Some(d));
    // The server's address sorts first: the client is still the one not
    // on port 53, whoever the first packet came from.
    let (mut c2, d2) = conn(
        (Ipv4Addr::new(203, 0, 113, 99), 41000),
        (Ipv4Addr::new(192, 0, 2, 1), 53),
        17,
        None,
    );
    c2.first_dir = 1 - d2 as u8;
    assert_eq!(c2.client_dir(), Some(d2));
    // Both ports alike (NTP 123 ↔ 123, or two high ports): who sent first.
    c.key.sport = 40000;
    c.key.dport = 40001;
    c.first_dir = 1;
    assert_eq!(c.client_dir(), Some(1));
    // ICMP echo: the request's sender, whatever came first.
    c.key.proto = 1;
    c.key.sport = 7;
    c.key.dport = 7;
    c.echo_dir = Some(0);
    assert_eq!(c.client_dir(), Some(0));
    // TCP without a SYN: port roles only.
    let (mut t, dt) = conn(client, (server.0, 443), 6, None);
    assert_eq!(t.client_dir(), Some(dt));
    t.key.sport = 40000;
    t.key.dport = 40001;
    assert_eq!(t.client_dir(), None);
}

/// The order evidence of a connection whose handshake a middlebox made at
/// the second point (SYNPROXY: its own SYN to the server, TTL 64, after the
/// client's data): the TTLs and times of the first *data* packets say the
/// first point is nearer the client (the first packets said the opposite).
#[test]
fn order_evidence_from_data_not_a_middlebox_handshake() {
    use etherparse::PacketBuilder;
    fn pcap(path: &std::path::Path, frames: &[(i64, Vec<u8>)]) {
        let mut v = Vec::new();
        v.extend_from_slice(&0xA1B2_3C4Du32.to_le_bytes()); // ns pcap
        v.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&101u32.to_le_bytes()); // LINKTYPE_RAW
        for (t, d) in frames {
            v.extend_from_slice(&((t / 1_000_000_000) as u32).to_le_bytes());
            v.extend_from_slice(&((t % 1_000_000_000) as u32).to_le_bytes());
            v.extend_from_slice(&(d.len() as u32).to_le_bytes());
            v.extend_from_slice(&(d.len() as u32).to_le_bytes());
            v.extend_from_slice(d);
        }
        std::fs::write(path, v).unwrap();
    }
    let seg = |ttl: u8, from_client: bool, syn: bool, seq: u32, data: &[u8]| {
        let (s, d, sp, dp) = if from_client {
            ([198, 51, 100, 1], [192, 0, 2, 70], 40000, 8080)
        } else {
            ([192, 0, 2, 70], [198, 51, 100, 1], 8080, 40000)
        };
        let mut b = PacketBuilder::ipv4(s, d, ttl).tcp(sp, dp, seq, 1000);
        b = if syn { b.syn() } else { b.ack(1) };
        let mut v = Vec::new();
        b.write(&mut v, data).unwrap();
        v
    };
    let dir = std::env::temp_dir().join(format!("order-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (wan, dc) = (dir.join("wan.pcap"), dir.join("dc.pcap"));
    // wan: the client's SYN, its request, the server's response.
    pcap(
        &wan,
        &[
            (T0 + 17, seg(63, true, true, 100, &[])),
            (
                T0 + 100_031,
                seg(63, true, false, 101, b"GET / HTTP/1.1\r\n\r\n"),
            ),
            (
                T0 + 500_047,
                seg(62, false, false, 900, b"HTTP/1.1 200 OK\r\n\r\n"),
            ),
        ],
    );
    // dc, 50 µs further: the middlebox's own SYN (TTL 64) comes after the
    // request, which it forwards (TTL 62); the response comes from the
    // server (TTL 63) before wan sees it.
    pcap(
        &dc,
        &[
            (T0 + 120_013, seg(64, true, true, 100, &[])),
            (
                T0 + 150_029,
                seg(62, true, false, 101, b"GET / HTTP/1.1\r\n\r\n"),
            ),
            (
                T0 + 450_041,
                seg(63, false, false, 900, b"HTTP/1.1 200 OK\r\n\r\n"),
            ),
        ],
    );
    let ta = crate::table::read_point(&wan, |_| {}).unwrap();
    let tb = crate::table::read_point(&dc, |_| {}).unwrap();
    let pairs = vec![crate::pairing::ConnPair {
        a: 0,
        b: 0,
        flip: false,
        votes: 1.0,
        tier: 1,
    }];
    let e = crate::order::evidence(&ta, &tb, &pairs);
    assert_eq!((e.ttl, e.time), ([1, 0], [1, 0]), "{e:?}");
    assert_eq!(e.first_upstream(), Some(true));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reading a classic pcap file in pieces on several threads gives the
/// table of reading it whole, field for field: a real capture
/// (examples/session-small, converted to pcap by Wireshark's editcap).
#[test]
fn pieces_give_the_table_of_the_whole_file() {
    use crate::table::{read_pieces_for_test, read_whole_for_test};
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pktmatch-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for point in ["client", "dc"] {
        let src = here.join(format!("../../examples/session-small/{point}.pcapng"));
        let pcap = dir.join(format!("{point}.pcap"));
        editcap("pcap", &src, &pcap);
        assert_pieces_read_whole(&pcap);
        // cut inside the last record: the last piece ends the capture as
        // reading whole does
        let bytes = std::fs::read(&pcap).unwrap();
        let cut = dir.join(format!("{point}-cut.pcap"));
        std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
        let whole = read_whole_for_test(&cut);
        let t = read_pieces_for_test(&cut, 5, 2).unwrap();
        assert!(whole.truncated.is_some());
        assert_eq!(t.truncated, whole.truncated);
        assert_eq!(t.recs, whole.recs);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A raw CTRACE trace (binary FTP's transfer) read in pieces on several
/// threads gives the table of reading it whole: traces of the example
/// session's captures, one with segmented packets and data trace records
/// among them.
#[test]
fn ctrace_pieces_give_the_table_of_the_whole_trace() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pktmatch-ctrace-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for point in ["client", "dc"] {
        let src = here.join(format!("../../examples/session-small/{point}.pcapng"));
        for (name, extra) in [
            ("raw", &[][..]),
            ("seg", &["--segment-size", "700", "--data-trace"]),
        ] {
            let trace = dir.join(format!("{point}-{name}.ctrace"));
            let mut args = vec![src.display().to_string(), trace.display().to_string()];
            args.extend(
                ["--framing", "raw"]
                    .iter()
                    .chain(extra)
                    .map(|s| s.to_string()),
            );
            let (i, o, opts) = ctrace_synth::parse_args(args).unwrap();
            ctrace_synth::write(&i, &o, &opts).unwrap();
            let cap = capture::open(&trace).unwrap();
            assert!(matches!(cap.format(), capture::Format::Ctrace(_)));
            assert_pieces_read_whole(&trace);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `src` written again as `dst` in `format` by Wireshark's editcap.
fn editcap(format: &str, src: &std::path::Path, dst: &std::path::Path) {
    let ok = std::process::Command::new("editcap")
        .args(["-F", format])
        .arg(src)
        .arg(dst)
        .status()
        .expect("editcap (Wireshark) is needed");
    assert!(ok.success(), "editcap -F {format} {}", src.display());
}

/// The table of `path` read in pieces on several threads is the table
/// of reading it whole, field for field.
fn assert_pieces_read_whole(path: &std::path::Path) {
    use crate::table::{read_pieces_for_test, read_whole_for_test};
    let whole = read_whole_for_test(path);
    assert!(whole.recs.len() > 150, "{}", whole.recs.len());
    let name = path.display();
    for (n, threads) in [(2, 2), (9, 2), (9, 3), (40, 4)] {
        let t = read_pieces_for_test(path, n, threads).expect("pieces join up");
        assert_eq!(t.recs, whole.recs, "{name} {n}");
        assert_eq!(t.ts, whole.ts);
        assert_eq!(t.checks, whole.checks);
        assert_eq!(t.by_conn, whole.by_conn);
        assert_eq!(t.conn_start, whole.conn_start);
        assert_eq!(t.msgs, whole.msgs);
        assert!(t.msgs.len() > 10);
        assert_eq!(format!("{:?}", t.conns), format!("{:?}", whole.conns));
        assert_eq!((t.first_ts, t.last_ts), (whole.first_ts, whole.last_ts));
        assert_eq!((t.encap, t.mirrored), (whole.encap, whole.mirrored));
    }
}

/// The same for pcapng files: the lab's own (captured, then its times
/// rewritten by capclock), the same written again by Wireshark's editcap, and one with a custom block (a frame
/// without a packet, draft-ietf-opsawg-pcapng "Custom Block") after every
/// tenth block: the frames after them keep their numbers.  A file with
/// an interface block after its first frame is read whole.
#[test]
fn pcapng_pieces_give_the_table_of_the_whole_file() {
    use crate::table::{read_pieces_for_test, read_whole_for_test};
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pktmatch-ng-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let le = |x: u32| x.to_le_bytes();
    for point in ["client", "dc"] {
        let src = here.join(format!("../../examples/session-small/{point}.pcapng"));
        assert_pieces_read_whole(&src);
        let ng = dir.join(format!("{point}-editcap.pcapng"));
        editcap("pcapng", &src, &ng);
        assert_pieces_read_whole(&ng);
        // Blocks walked by their total lengths (little-endian files).
        let bytes = std::fs::read(&ng).unwrap();
        assert_eq!(bytes[8..12], [0x4D, 0x3C, 0x2B, 0x1A]);
        let mut blocks = Vec::new();
        let mut k = 0;
        while k < bytes.len() {
            let len = u32::from_le_bytes(bytes[k + 4..k + 8].try_into().unwrap()) as usize;
            blocks.push(&bytes[k..k + len]);
            k += len;
        }
        let custom = [&le(0xBAD)[..], &le(20), &le(32473), b"abcd", &le(20)].concat();
        let mut with_custom = Vec::new();
        let mut frames = 0;
        for (i, b) in blocks.iter().enumerate() {
            with_custom.extend_from_slice(b);
            let is_packet = u32::from_le_bytes(b[..4].try_into().unwrap()) == 6;
            frames += u32::from(is_packet);
            if is_packet && i % 10 == 0 {
                with_custom.extend_from_slice(&custom);
                frames += 1;
            }
        }
        let path = dir.join(format!("{point}-custom.pcapng"));
        std::fs::write(&path, &with_custom).unwrap();
        assert_pieces_read_whole(&path);
        let whole = read_whole_for_test(&path);
        // the last frame is a packet: every frame is in the table
        assert_eq!(whole.recs.len() as u32, frames);
        // an interface block after the first frame
        let idb = [&le(1)[..], &le(20), &le(1), &le(0), &le(20)].concat();
        let at: usize = blocks[..blocks.len() / 2].iter().map(|b| b.len()).sum();
        let mut late = bytes.clone();
        late.splice(at..at, idb);
        let path = dir.join(format!("{point}-late-idb.pcapng"));
        std::fs::write(&path, &late).unwrap();
        assert!(read_pieces_for_test(&path, 4, 2).is_none());
        let packets = blocks.iter().filter(|b| b[..4] == le(6)).count();
        assert_eq!(read_whole_for_test(&path).recs.len(), packets);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The anchor ranges' lookup by counting bits gives each needed frame's
/// (sequence number, length), (0, 0) for any other, and drops a bit past
/// the records (as the hash map it replaced left such a frame out).
#[test]
fn anchor_ranges_are_found_by_their_bit() {
    let recs: Vec<Rec> = (0..70u32)
        .map(|i| Rec {
            seq: 1000 + i,
            len16: i as u16,
            ..Rec::default()
        })
        .collect();
    let t = PointTable {
        recs,
        ..Default::default()
    };
    // Frames 0, 3, 63 and 69 needed, and bit 70, past the 70 records.
    let bits = vec![1u64 | 1 << 3 | 1 << 63, 1 << 5 | 1 << 6];
    let r = crate::AnchorRanges(vec![crate::PointRanges::new(bits, &t)]);
    for (i, want) in [
        (0, (1000, 0)),
        (3, (1003, 3)),
        (63, (1063, 63)),
        (69, (1069, 69)),
    ] {
        assert_eq!(r.get(0, i), want, "frame {i}");
    }
    for i in [1, 2, 62, 64, 68, 70, 71, 200] {
        assert_eq!(r.get(0, i), (0, 0), "frame {i}");
    }
    assert_eq!(r.get(1, 0), (0, 0), "no such point");
}

/// The point tables of examples/session-small, its points in path order.
fn example_session_tables() -> Vec<PointTable> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ["client", "wan", "dc", "lbserver"]
        .iter()
        .map(|p| {
            let path = here.join(format!("../../examples/session-small/{p}.pcapng"));
            crate::table::read_point(&path, |_| {}).unwrap()
        })
        .collect()
}

/// The final clock fit taken over from the first one where their samples
/// are the same is the fit made again, and so is everything after it:
/// every adjacent pair of a real session (examples/session-small, its
/// points in path order), frame by frame.
#[test]
fn a_reused_clock_fit_is_the_fit_made_again() {
    let tables = example_session_tables();
    let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
    let options = crate::Options::default();
    let mut reused = 0;
    for a in 0..tables.len() - 1 {
        let pairs = tier1.remove(&(a, a + 1)).unwrap_or_default();
        let (ta, tb) = (&tables[a], &tables[a + 1]);
        let (fast, took) =
            crate::match_adjacent_with(ta, tb, a, &options, &pairs, true, &crate::NEVER, FREE)
                .unwrap();
        let (slow, _) =
            crate::match_adjacent_with(ta, tb, a, &options, &pairs, false, &crate::NEVER, FREE)
                .unwrap();
        reused += usize::from(took);
        assert!(slow.matches.clock.is_some(), "pair {a}");
        assert_eq!(fast.matches.clock, slow.matches.clock, "pair {a}");
        assert_eq!(fast.matches.matches, slow.matches.matches, "pair {a}");
        assert_eq!(fast.lost, slow.lost, "pair {a}");
        assert_eq!(fast.conn_pairs.len(), slow.conn_pairs.len(), "pair {a}");
        assert_eq!(format!("{:?}", fast.summary), format!("{:?}", slow.summary));
    }
    assert!(reused > 0, "no pair took the first fit over");
}

const FREE: crate::spread::Cores = crate::spread::FREE;

/// Point tables of real sessions, in path order: examples/session-small
/// (four points) and the real NAT pair of tests/data.
fn real_sessions() -> Vec<Vec<PointTable>> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let nat = ["client", "wan"]
        .iter()
        .map(|p| {
            let path = here.join(format!("../../tests/data/real-nat-{p}.pcapng"));
            crate::table::read_point(&path, |_| {}).unwrap()
        })
        .collect();
    vec![example_session_tables(), nat, resent_gso_tables(8)]
}

/// `n` connections like `tso_copies_resent_go_by_clock_not_by_guess`'s,
/// 1 ms apart: each needs the clock (its first matching guesses, its
/// second goes by the clock), so a pair's second loop has work.
fn resent_gso_tables(n: u16) -> Vec<PointTable> {
    let (mut a, mut b, mut conns) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let (c, d) = conn((ip("10.0.0.5"), 40000 + k), (ip("10.9.9.9"), 80), 6, None);
        let at = |us: i64| us + 1000 * i64::from(k);
        let ci = u32::from(k);
        // Numbers of their own: no key shared between connections.
        let (s0, a0) = (5000 + 100_000 * u32::from(k), 777 + 1000 * u32::from(k));
        for (j, t) in [100i64, 101, 410, 411].into_iter().enumerate() {
            let off = 1448 * (j as u32 % 2);
            let r = seg(
                at(t),
                d,
                false,
                ACK,
                s0 + off,
                a0,
                1448,
                0x100 + j as u32,
                900,
                9,
            );
            a.push((r.0, ci, r.1));
        }
        let r = seg(at(500), d, true, ACK, a0, s0 + 2896, 0, 0, 3, 50);
        a.push((r.0, ci, r.1));
        for r in [
            seg(at(90), d, false, ACK | PSH, s0, a0, 2896, 0x100, 40, 9),
            seg(at(400), d, false, ACK | PSH, s0, a0, 2896, 0x100, 41, 9),
            seg(at(510), d, true, ACK, a0, s0 + 2896, 0, 0, 3, 50),
        ] {
            b.push((r.0, ci, r.1));
        }
        conns.push(c);
    }
    // As that test has them: A the wire, B the sender (GSO).
    vec![
        PointTable::from_parts(a, conns.clone()),
        PointTable::from_parts(b, conns),
    ]
}

/// How spread.rs may run a pair's connection pairs in these tests: helpers
/// given (1, 3) or the free cores, runs of 1 packet (every connection pair
/// of two packets or more is matched by the calling thread, spread.rs's
/// "big" ones), 40 and 400 (several connection pairs a run).
fn spreads() -> Vec<crate::spread::Cores> {
    use crate::spread::Cores;
    let mut v = Vec::new();
    for run_packets in [1, 40, 400] {
        v.push(Cores::free(run_packets));
        for helpers in [1, 3] {
            v.push(Cores::Fixed {
                helpers,
                run_packets,
            });
        }
    }
    v
}

/// A pair of points whose connection pairs are matched on several threads
/// (spread.rs) comes out as on one, match for match: every adjacent pair
/// of two real sessions, every way of cutting and running them.
#[test]
fn connection_pairs_matched_on_helper_threads_give_the_same_outcome() {
    use crate::spread::Cores;
    let options = crate::Options::default();
    let one = Cores::Fixed {
        helpers: 0,
        run_packets: usize::MAX,
    };
    let mut pairs_seen = 0;
    for tables in real_sessions() {
        let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
        for a in 0..tables.len() - 1 {
            let pairs = tier1.remove(&(a, a + 1)).unwrap_or_default();
            let (ta, tb) = (&tables[a], &tables[a + 1]);
            let with = |cores| {
                crate::match_adjacent_with(ta, tb, a, &options, &pairs, true, &crate::NEVER, cores)
                    .unwrap()
                    .0
            };
            let want = with(one);
            assert!(!want.matches.matches.is_empty(), "pair {a}");
            pairs_seen += pairs.len();
            for cores in spreads() {
                let got = with(cores);
                let says = format!("pair {a}, {cores:?}");
                assert_eq!(got.matches.matches, want.matches.matches, "{says}");
                assert_eq!(got.matches.clock, want.matches.clock, "{says}");
                assert_eq!(got.lost, want.lost, "{says}");
                assert_eq!(
                    format!("{:?}", got.conn_pairs),
                    format!("{:?}", want.conn_pairs)
                );
                assert_eq!(format!("{:?}", got.summary), format!("{:?}", want.summary));
                assert_eq!(
                    format!("{:?}", got.translations),
                    format!("{:?}", want.translations)
                );
                assert_eq!(format!("{:?}", got.spec), format!("{:?}", want.spec));
            }
        }
    }
    assert!(
        pairs_seen > 30,
        "{pairs_seen} connection pairs: too few to cut"
    );
}

/// spread.rs's loop against the plain one it replaces, result by result
/// and match by match, after matches already in the vector, without a
/// clock and with one (the second loop's), on every way of cutting and
/// running the connection pairs; and the cuts seen include runs of several
/// connection pairs and connection pairs left to the calling thread.
#[test]
fn spread_loop_is_the_plain_loop() {
    let (mut grouped, mut alone, mut needed_clock) = (0, 0, 0);
    for tables in real_sessions() {
        let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
        for a in 0..tables.len() - 1 {
            let pairs = tier1.remove(&(a, a + 1)).unwrap_or_default();
            let (ta, tb) = (&tables[a], &tables[a + 1]);
            let list: Vec<&crate::pairing::ConnPair> = pairs.iter().collect();
            let clock = crate::match_adjacent(ta, tb, a, &crate::Options::default(), &pairs)
                .unwrap()
                .matches
                .clock;
            assert!(clock.is_some(), "pair {a}");
            // Something before, as the second loop finds the first loop's.
            let before = vec![
                crate::packets::PacketMatch {
                    a: 7,
                    b: 9,
                    method: 1,
                    conf: 2,
                    dir: 0,
                };
                5
            ];
            for clock in [None, clock.as_ref()] {
                let mut want_all = before.clone();
                let want: Vec<_> = list
                    .iter()
                    .map(|p| crate::packets::match_pair(ta, tb, p, clock, &mut want_all))
                    .collect();
                if clock.is_none() {
                    needed_clock += want.iter().filter(|r| r.needed_clock).count();
                }
                for cores in spreads() {
                    let mut all = before.clone();
                    let got = crate::spread::match_in_order(
                        ta,
                        tb,
                        &list,
                        clock,
                        &mut all,
                        &crate::NEVER,
                        cores,
                    )
                    .unwrap();
                    let says = format!("pair {a}, clock {}, {cores:?}", clock.is_some());
                    assert_eq!(all, want_all, "{says}");
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{says}");
                }
            }
            let size = |p: &crate::pairing::ConnPair| ta.packets(p.a).len() + tb.packets(p.b).len();
            for run_packets in [1, 40, 400] {
                for r in crate::spread::runs(pairs.iter().map(size), run_packets) {
                    match r.len() {
                        1 if size(&pairs[r.start]) >= 2 * run_packets => alone += 1,
                        1 => {}
                        _ => grouped += 1,
                    }
                }
            }
        }
    }
    assert!(
        grouped > 5 && alone > 5,
        "runs of several: {grouped}, left alone: {alone}"
    );
    assert!(
        needed_clock >= 8,
        "{needed_clock} connection pairs to match again"
    );
}

/// The free cores as a count of the test's own (three cores, one held as
/// the pair's job holds its own): the loop takes the other two for
/// helpers (it has runs for them), matches as the plain loop does, and
/// each helper gives its core back itself as it ends (none left for the
/// loop to give back: the helpers started and did their part); with one
/// core it takes none.
#[test]
fn free_cores_are_taken_for_helpers_and_given_back() {
    use crate::spread::{Busy, Cores};
    static THREE: Busy = Busy::new();
    static ONE: Busy = Busy::new();
    let tables = example_session_tables();
    let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
    let pairs = tier1.remove(&(0, 1)).unwrap_or_default();
    let (ta, tb) = (&tables[0], &tables[1]);
    let list: Vec<&crate::pairing::ConnPair> = pairs.iter().collect();
    let mut want_all = Vec::new();
    let want: Vec<_> = list
        .iter()
        .map(|p| crate::packets::match_pair(ta, tb, p, None, &mut want_all))
        .collect();
    let size = |p: &crate::pairing::ConnPair| ta.packets(p.a).len() + tb.packets(p.b).len();
    let run_packets = 40;
    let runs = crate::spread::runs(pairs.iter().map(size), run_packets).len();
    assert!(runs >= 4, "{runs} runs: too few for two helpers");
    for (busy, cores, helpers) in [(&THREE, 3, 2), (&ONE, 1, 0)] {
        busy.hold(1);
        let mut all = Vec::new();
        let spread = Cores::Free {
            run_packets,
            busy,
            cores,
        };
        let got =
            crate::spread::match_in_order(ta, tb, &list, None, &mut all, &crate::NEVER, spread)
                .unwrap();
        let says = format!("{cores} cores");
        assert_eq!(all, want_all, "{says}");
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{says}");
        assert_eq!(busy.peak(), 1 + helpers, "cores held at most, {says}");
        assert_eq!(busy.held(), 1, "cores not given back, {says}");
        assert_eq!(
            busy.given_back(),
            (helpers, 0),
            "given back by helpers, at the end: {says}"
        );
    }
}

/// The second loop's bookkeeping: which connection pairs are matched
/// again (tier 2's, without a first result, and those whose first result
/// asks for the clock), and every result put back in its place.
#[test]
fn results_matched_again_go_back_in_their_places() {
    use crate::packets::PairResult;
    let r = |start: usize, needed_clock: bool| PairResult {
        matches: start..start + 1,
        needed_clock,
        ..PairResult::default()
    };
    // Five connection pairs: three with a first result (the second asks
    // for the clock), two of tier 2.
    let first = vec![r(0, false), r(1, true), r(2, false)];
    assert_eq!(crate::again_of(&first, 5).collect::<Vec<_>>(), [1, 3, 4]);
    let again = vec![r(10, false), r(13, false), r(14, false)];
    let got = crate::merged(first.clone(), again.clone(), 5).unwrap();
    let starts: Vec<usize> = got.iter().map(|p| p.matches.start).collect();
    assert_eq!(starts, [0, 10, 2, 13, 14]);
    // Too few or too many matched again: an error, not a shifted result.
    assert!(crate::merged(first.clone(), again[..2].to_vec(), 5).is_err());
    let mut more = again.clone();
    more.push(r(15, false));
    assert!(crate::merged(first, more, 5).is_err());
}

/// The losses step skips a side whose connection's every packet was
/// matched: what it skips finds nothing.  Every tier-1 connection pair of
/// a real session (examples/session-small): a match's records are its
/// connections' own, and where they cover a side, walking it (both
/// directions) records no loss.
#[test]
fn a_side_matched_whole_has_no_loss_to_walk() {
    let tables = example_session_tables();
    let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
    let mut whole = 0;
    for a in 0..tables.len() - 1 {
        let (ta, tb) = (&tables[a], &tables[a + 1]);
        for p in tier1.remove(&(a, a + 1)).unwrap_or_default() {
            let mut all = Vec::new();
            crate::packets::match_pair(ta, tb, &p, None, &mut all);
            let (mut seen_a, mut seen_b) = (
                crate::marks::Marks::new(ta.recs.len()),
                crate::marks::Marks::new(tb.recs.len()),
            );
            for m in &all {
                assert!(ta.packets(p.a).contains(&m.a) && tb.packets(p.b).contains(&m.b));
                seen_a.set(m.a);
                seen_b.set(m.b);
            }
            let side = |t, conn, point| crate::Side { t, conn, point };
            let (sa, sb) = (side(ta, p.a, 0), side(tb, p.b, 1));
            let same = |_: u32, t: i64| t;
            for (from, to, seen) in [(&sa, &sb, &seen_a), (&sb, &sa, &seen_b)] {
                if !from.t.packets(from.conn).iter().all(|&i| seen.contains(i)) {
                    continue;
                }
                whole += 1;
                let mut out = Vec::new();
                for dir in 0..2 {
                    assert!(crate::missing(from, to, dir, seen, &same, false, &mut out).is_empty());
                }
                assert!(out.is_empty());
            }
        }
    }
    assert!(whole > 10, "{whole} sides matched whole");
}

/// Tier-1 pairing among some connections (the direct pairs' lone ones)
/// keeps of the larger sample only the keys the smaller one holds: the
/// same pairs as both samples whole.  Every pair of points of a real
/// session (examples/session-small), with all, some and very few
/// connections let in on either side.
#[test]
fn pairing_among_some_connections_is_the_whole_samples_join() {
    let tables = example_session_tables();
    let subsets: [&dyn Fn(u32) -> bool; 4] = [&|_| true, &|c| c % 3 != 0, &|c| c < 3, &|_| false];
    let mut found = 0;
    for i in 0..tables.len() {
        for j in 0..tables.len() {
            if i == j {
                continue;
            }
            for allow_a in subsets {
                for allow_b in subsets {
                    let (ta, tb) = (&tables[i], &tables[j]);
                    let fast = crate::pairing::pair_nat_among(ta, tb, allow_a, allow_b);
                    let whole = crate::pairing::pair_nat_among_whole(ta, tb, allow_a, allow_b);
                    assert_eq!(fast, whole, "points {i} and {j}");
                    found += fast.len();
                }
            }
        }
    }
    assert!(found > 100, "{found} connection pairs found in all");
}

/// Tier-1 pairing among some connections, filtered either way (the
/// larger side at A, then at B), on keys that repeat at A (a
/// retransmission votes twice) and a key B saw in two connections (which
/// decides nothing): the pairs and votes of the whole samples, and the
/// ones expected.
#[test]
fn pairing_among_keeps_repeated_and_ambiguous_keys() {
    let at = |port: u16| conn((ip("10.0.0.5"), port), (ip("10.9.9.9"), 80), 6, None);
    let (_, d) = at(40000);
    // A segment whose tier-1 key is given by its sequence number, in
    // connection `k` of its table.
    let s = |k: u32, us: i64, seq: u32| {
        let (t, r) = seg(us, d, true, ACK | PSH, seq, 777, 100, seq, 1, 9);
        (t, k, r)
    };
    let (k1, k2, k3) = (1000, 2000, 3000);
    // Extra packets of keys the other side never saw, in a connection of
    // their own: they make their side the larger sample when let in.
    let pad = |k: u32, base: u32| (0..40).map(move |i| s(k, 10 + i64::from(i), base + i));
    let mut a = vec![
        s(0, 0, k1),
        s(0, 1, k1),
        s(0, 2, k2),
        s(1, 3, k3),
        s(1, 4, k3),
        s(1, 5, k3),
    ];
    a.extend(pad(2, 50_000));
    let mut b = vec![s(0, 0, k1), s(1, 1, k1), s(0, 2, k2), s(2, 3, k3)];
    b.extend(pad(3, 60_000));
    let conns = |n: u16| (0..n).map(|i| at(40000 + i).0).collect::<Vec<_>>();
    let (ta, tb) = (
        PointTable::from_parts(a, conns(3)),
        PointTable::from_parts(b, conns(4)),
    );
    let want = vec![(1, 2, 3.0), (0, 0, 1.0)];
    let no_pad_a = |c: u32| c != 2;
    let no_pad_b = |c: u32| c != 3;
    type Allow<'a> = &'a dyn Fn(u32) -> bool;
    let cases: [(Allow, Allow); 3] = [
        (&|_| true, &no_pad_b),
        (&no_pad_a, &|_| true),
        (&no_pad_a, &no_pad_b),
    ];
    for (allow_a, allow_b) in cases {
        let got = crate::pairing::pair_nat_among(&ta, &tb, allow_a, allow_b);
        assert_eq!(
            got,
            crate::pairing::pair_nat_among_whole(&ta, &tb, allow_a, allow_b)
        );
        let got: Vec<(u32, u32, f32)> = got.iter().map(|p| (p.a, p.b, p.votes)).collect();
        assert_eq!(got, want);
    }
}

/// A pair asked to stop gives up with [`crate::STOPPED`]; not asked, it
/// gives what `match_pair` gives (every adjacent pair of
/// examples/session-small, the proxy pair included).
#[test]
fn a_pair_asked_to_stop_gives_up() {
    use std::sync::atomic::AtomicBool;
    let tables = example_session_tables();
    let (mut tier1, _) = crate::order::gather(&tables, &crate::Threads).unwrap();
    let options = crate::Options::default();
    for a in 0..tables.len() - 1 {
        let pairs = tier1.remove(&(a, a + 1)).unwrap_or_default();
        let (ta, tb) = (&tables[a], &tables[a + 1]);
        let stopped = crate::match_pair_until(ta, tb, a, &options, &pairs, &AtomicBool::new(true));
        assert_eq!(stopped.err().as_deref(), Some(crate::STOPPED), "pair {a}");
        let went_on = crate::match_pair_until(ta, tb, a, &options, &pairs, &AtomicBool::new(false))
            .unwrap()
            .0;
        let whole = crate::match_pair(ta, tb, a, &options, &pairs).unwrap().0;
        assert!(!whole.matches.matches.is_empty(), "pair {a}");
        assert_eq!(went_on.matches.matches, whole.matches.matches, "pair {a}");
        assert_eq!(went_on.lost, whole.lost, "pair {a}");
        assert_eq!(
            format!("{:?}", went_on.summary),
            format!("{:?}", whole.summary)
        );
    }
}

/// A capture read in pieces (on two threads whatever the machine's cores)
/// tells what its pieces' extracted frames hold beside the table while it
/// is read (`Held::aside`, counted as the buffers grow), and nothing once
/// the table is finished (docs/engine.md, "The limit from the captures").
#[test]
fn frames_extracted_ahead_are_told_beside_the_table() {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.pcap");
    let mut w =
        PcapWriter::with_header(std::fs::File::create(&path).unwrap(), PcapHeader::default())
            .unwrap();
    // 60,000 SYNs of 54 bytes (70 with the record header): 4.2 MB, four
    // pieces of about 15,000 frames.
    let frames = 60_000u32;
    for k in 0..frames {
        let mut f = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(
                [10, (k >> 16) as u8, (k >> 8) as u8, k as u8],
                [192, 0, 2, 1],
                64,
            )
            .tcp(40_000 + (k % 20_000) as u16, 443, k, 65535)
            .syn()
            .write(&mut f, &[])
            .unwrap();
        let ts = std::time::Duration::from_micros(1_700_000_000_000_000 + u64::from(k));
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, &f))
            .unwrap();
    }
    drop(w);
    let mut told = Vec::new();
    let t = crate::table::read_point_within(
        &path,
        2,
        |_| {},
        |h| {
            told.push(*h);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(t.recs.len(), frames as usize);
    // The report before the finished table's: the piece buffers given
    // back before the table is finished.
    let [.., before_done, last] = &told[..] else {
        panic!("two reports at least: {}", told.len())
    };
    assert!(last.done && last.aside == 0, "finished: nothing aside");
    assert!(
        !before_done.done && before_done.aside == 0,
        "buffers given back"
    );
    // At least one piece's frames (about 15,000 of 128 bytes) were counted.
    let most = told.iter().map(|h| h.aside).max().unwrap_or(0);
    assert!(
        most >= 1 << 20,
        "the most told aside while read: {most} bytes"
    );
    // Before any frame was added, the room of the pieces in flight was told
    // aside: the first piece's buffer (room for about 15,000 frames of 128
    // bytes) times four (two threads: four ahead and the one taken, but the
    // file has only four pieces).
    let first = &told[0];
    assert_eq!(first.frames, 0);
    assert!(
        first.aside >= 4 * (15_000 * 128) && first.aside <= 4 * (2 << 20),
        "the first piece's room times the pieces in flight told first: {}",
        first.aside
    );
}

/// The threads a point is read on: with as many files as cores or more,
/// the first ones whole and the later ones in pieces on all cores; a file
/// that holds more than half of the bytes on all cores whatever its turn
/// (a z/OS trace beside a small capture would be read on one core while
/// the other idles).
#[test]
fn a_file_with_most_of_the_bytes_is_read_on_all_cores() {
    use crate::reading_threads;
    // two equal files on two cores: one thread each
    assert_eq!(reading_threads(2, 0, 2, 100, 200), 1);
    assert_eq!(reading_threads(2, 1, 2, 100, 200), 1);
    // a big trace and a small capture: the trace on both, first or second
    assert_eq!(reading_threads(2, 0, 2, 350, 360), 2);
    assert_eq!(reading_threads(2, 1, 2, 350, 360), 2);
    assert_eq!(reading_threads(2, 0, 2, 10, 360), 1);
    // four files, none with half: the first two whole, the later in pieces
    let sizes = [170, 170, 20, 30];
    let total = sizes.iter().sum();
    let t: Vec<usize> = (0..4)
        .map(|k| reading_threads(4, k, 2, sizes[k], total))
        .collect();
    assert_eq!(t, [1, 1, 2, 2]);
    // fewer files than cores: the later ones take the cores freed
    assert_eq!(reading_threads(2, 0, 4, 100, 200), 3);
    assert_eq!(reading_threads(2, 1, 4, 100, 200), 4);
    assert_eq!(reading_threads(2, 0, 4, 300, 310), 4);
}
