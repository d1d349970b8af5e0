//! The path order, from the data: which point is nearer the client.
//!
//! Users often do not know which capture sits where, and points given out
//! of order used to be matched as given (recall 10 %, precision 63 %, exit
//! status 0).  Every pair of points is paired by its tier-1 keys (the
//! connections whose packets both saw, [`crate::pairing::pair_nat`]) and by
//! HTTP request lines (a full proxy forwards them unchanged); each shared
//! connection then says which of the two points its client's packets reach
//! first:
//!
//! * **TTL steps**: every router between decrements the TTL (hop limit,
//!   RFC 791, RFC 8200): the client's packets have the higher TTL at the
//!   point nearer the client, the server's at the one nearer the server.
//! * **Time order of the copies**: whatever the clocks' offset, the client's
//!   first packet reaches the nearer point first and the server's reaches
//!   it last, so (t_b − t_a) of the client's first packet exceeds that of
//!   the server's first packet by twice the transit (counted only beyond
//!   twice the clocks' resolution).
//!
//!   Both look at each direction's first packet that carries data: a
//!   middlebox may make the handshake itself (SYNPROXY answers the client's
//!   SYN and sends the server its own, with its own TTL, later).
//! * **NAT direction**: a source NAT maps many client addresses to one, so
//!   the point with more client addresses is the inside.
//! * **Proxy direction**: the request forwarded by a proxy carries an
//!   X-Forwarded-For that the client's own request did not.
//!
//! The points are put in order of how many others each is upstream of
//! (ties: as given); pairs the data decides must agree.  A stated order
//! (`--path`) the data contradicts is refused with the reason; points next
//! to each other that share nothing, and a middle point that sees only part
//! of the traffic the points around it share, are reported: not a line.

use crate::pairing::ConnPair;
use crate::payload::MsgValue;
use crate::table::{MsgKind, PointTable};
use index::{OrderSource, Topology};
use rustc_hash::FxHashMap;

/// What one pair of points shares and what it says about their order.
#[derive(Clone, Debug, Default)]
pub struct PairEvidence {
    /// Connections whose packets both saw (tier 1).
    pub shared: usize,
    /// HTTP request lines both saw (a proxy between them).
    pub requests: usize,
    /// Votes that the first point is nearer the client ([0]) or the second
    /// ([1]), by TTL, by time order, by X-Forwarded-For.
    pub ttl: [u32; 2],
    pub time: [u32; 2],
    pub proxy: [u32; 2],
    /// Distinct client addresses at each point (source NAT: more inside).
    pub clients: [usize; 2],
    /// A TTL step seen: the client's TTL at each point.
    pub ttl_example: Option<(u8, u8)>,
}

impl PairEvidence {
    /// Votes for each side, the NAT fan-in counting one.
    fn votes(&self) -> [u32; 2] {
        let mut v: [u32; 2] = std::array::from_fn(|k| self.ttl[k] + self.time[k] + self.proxy[k]);
        if self.shared >= 2 && self.clients[0] != self.clients[1] {
            v[usize::from(self.clients[1] > self.clients[0])] += 1;
        }
        v
    }

    /// Some(true): the first point is nearer the client; Some(false): the
    /// second; None: the data does not say (no votes, or split).
    pub fn first_upstream(&self) -> Option<bool> {
        let [a, b] = self.votes();
        if a > 0 && a >= 3 * b {
            Some(true)
        } else if b > 0 && b >= 3 * a {
            Some(false)
        } else {
            None
        }
    }

    /// Shares anything at all.
    pub fn related(&self) -> bool {
        self.shared > 0 || self.requests > 0
    }
}

/// Evidence of points `i` and `j` from their tier-1 connection pairs
/// (`pairs`, oriented i → j) and their HTTP requests.
pub fn evidence(ti: &PointTable, tj: &PointTable, pairs: &[ConnPair]) -> PairEvidence {
    let mut e = PairEvidence {
        shared: pairs.len(),
        ..Default::default()
    };
    // Two readings more than twice the coarser resolution apart are in
    // order; closer ones do not say.
    let res = i64::from(
        crate::table::clock_resolution(&ti.ts).max(crate::table::clock_resolution(&tj.ts)),
    )
    .max(1);
    let mut clients = [
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    ];
    for p in pairs {
        let (ca, cb) = (&ti.conns[p.a as usize], &tj.conns[p.b as usize]);
        let Some(cd) = ca
            .client_dir()
            .or_else(|| cb.client_dir().map(|d| d ^ usize::from(p.flip)))
        else {
            continue;
        };
        let (sd, cdb, sdb) = (
            1 - cd,
            cd ^ usize::from(p.flip),
            1 - (cd ^ usize::from(p.flip)),
        );
        clients[0].insert(ca.key_from(cd).src);
        clients[1].insert(cb.key_from(cdb).src);
        // TTL: the client's packets lose hops on the way to the server, the
        // server's on the way back.
        let step = |x: u8, y: u8| (x != 0 && y != 0).then(|| i32::from(x) - i32::from(y));
        let up = [step(ca.ttl[cd], cb.ttl[cdb]), step(cb.ttl[sdb], ca.ttl[sd])];
        let (plus, minus) = (
            up.iter().flatten().filter(|d| **d > 0).count(),
            up.iter().flatten().filter(|d| **d < 0).count(),
        );
        if plus > minus {
            e.ttl[0] += 1;
            e.ttl_example.get_or_insert((ca.ttl[cd], cb.ttl[cdb]));
        } else if minus > plus {
            e.ttl[1] += 1;
            e.ttl_example.get_or_insert((ca.ttl[cd], cb.ttl[cdb]));
        }
        // Time order of the first copies each way.
        let first = |c: &crate::table::Conn, d: usize| {
            (c.first_ts_dir[d] != i64::MIN).then_some(c.first_ts_dir[d])
        };
        if let (Some(a_c), Some(b_c), Some(a_s), Some(b_s)) =
            (first(ca, cd), first(cb, cdb), first(ca, sd), first(cb, sdb))
        {
            let twice_transit = i128::from(b_c - a_c) - i128::from(b_s - a_s);
            if twice_transit > 2 * i128::from(res) {
                e.time[0] += 1;
            } else if twice_transit < -2 * i128::from(res) {
                e.time[1] += 1;
            }
        }
    }
    e.clients = [clients[0].len(), clients[1].len()];
    // HTTP requests both saw: the one with X-Forwarded-For is behind the
    // proxy.
    let requests = |t: &PointTable| {
        let mut m: FxHashMap<u64, bool> = FxHashMap::default();
        for msg in t.msgs.iter().filter(|m| m.kind() == MsgKind::HttpRequest) {
            let v = MsgValue::of(MsgKind::HttpRequest, msg.value());
            *m.entry(v.key).or_default() |= v.forwarded_for != 0;
        }
        m
    };
    let (ri, rj) = (requests(ti), requests(tj));
    for (k, &xi) in &ri {
        if let Some(&xj) = rj.get(k) {
            e.requests += 1;
            match (xi, xj) {
                (false, true) => e.proxy[0] += 1,
                (true, false) => e.proxy[1] += 1,
                _ => {}
            }
        }
    }
    e
}

/// The order found.
#[derive(Clone, Debug)]
pub struct Order {
    /// `perm[k]`: the input of the point at path position k.
    pub perm: Vec<usize>,
    pub source: OrderSource,
    pub topology: Topology,
    /// Why, one finding per line.
    pub evidence: Vec<String>,
    pub warnings: Vec<String>,
}

/// Evidence of every pair (i < j, input numbering).
pub type Evidence = FxHashMap<(usize, usize), PairEvidence>;

/// The tier-1 connection pairs of every pair (i < j, input numbering).
pub type Tier1 = FxHashMap<(usize, usize), Vec<ConnPair>>;

/// The tier-1 connection pairs and evidence of every pair of inputs.  Each
/// point's tier-1 sample is made once (not once per pair it is in), the
/// points and then the pairs on all cores.
/// The pairs' tier-1 pairing is `stage`'s ([`crate::PairStage::pair_nat`]).
pub fn gather(
    tables: &[PointTable],
    stage: &dyn crate::PairStage,
) -> Result<(Tier1, Evidence), String> {
    let ij: Vec<(usize, usize)> = (0..tables.len())
        .flat_map(|i| (i + 1..tables.len()).map(move |j| (i, j)))
        .collect();
    let found = stage.pair_nat(tables, &ij)?;
    if found.len() != ij.len() {
        return Err("internal error: tier-1 pairing left out a pair of points".into());
    }
    let ev = crate::parallel(
        ij.len(),
        crate::workers(),
        |k| evidence(&tables[ij[k].0], &tables[ij[k].1], &found[k]),
        || {},
    );
    let mut pairs = FxHashMap::default();
    let mut evidence = Evidence::default();
    for ((&ij, p), e) in ij.iter().zip(found).zip(ev) {
        evidence.insert(ij, e);
        pairs.insert(ij, p);
    }
    Ok((pairs, evidence))
}

/// `i` is nearer the client than `j`, if the data says.
fn upstream(ev: &Evidence, i: usize, j: usize) -> Option<bool> {
    if i < j {
        ev.get(&(i, j)).and_then(|e| e.first_upstream())
    } else {
        ev.get(&(j, i)).and_then(|e| e.first_upstream()).map(|u| !u)
    }
}

fn get(ev: &Evidence, i: usize, j: usize) -> Option<&PairEvidence> {
    ev.get(&(i.min(j), i.max(j)))
}

/// Why `i` is nearer the client than `j`, in words.
fn why(ev: &Evidence, labels: &[String], i: usize, j: usize) -> String {
    let Some(e) = get(ev, i, j) else {
        return String::new();
    };
    let (k, other) = if i < j { (0, 1) } else { (1, 0) };
    let mut parts = Vec::new();
    if e.ttl[k] > 0 {
        let ex = e
            .ttl_example
            .map(|(a, b)| {
                let (x, y) = if i < j { (a, b) } else { (b, a) };
                format!(" ({x} at {}, {y} at {})", labels[i], labels[j])
            })
            .unwrap_or_default();
        parts.push(format!(
            "the client's TTL is higher at {} on {} connection(s){ex}",
            labels[i], e.ttl[k]
        ));
    }
    if e.time[k] > 0 {
        parts.push(format!(
            "the client's first packet reaches {} first, the server's last, on {} of {} \
             connection(s)",
            labels[i],
            e.time[k],
            e.time[0] + e.time[1]
        ));
    }
    if e.proxy[k] > 0 {
        parts.push(format!(
            "{} request(s) reach {} with X-Forwarded-For added (a proxy between)",
            e.proxy[k], labels[j]
        ));
    }
    if e.shared >= 2 && e.clients[k] > e.clients[other] {
        parts.push(format!(
            "{} client address(es) at {} are {} at {} (source NAT)",
            e.clients[k], labels[i], e.clients[other], labels[j]
        ));
    }
    parts.join("; ")
}

/// The order of the points (`labels` as given), from the evidence, or the
/// stated one (`stated`: input indexes in path order), checked against it.
pub fn decide(labels: &[String], ev: &Evidence, stated: Option<&[usize]>) -> Result<Order, String> {
    let n = labels.len();
    let perm: Vec<usize> = match stated {
        Some(s) => {
            // Refused where the data says otherwise.
            for (x, &i) in s.iter().enumerate() {
                for &j in &s[x + 1..] {
                    if upstream(ev, j, i) == Some(true) {
                        return Err(format!(
                            "--path puts {} before {}, but the data says {} is nearer the \
                             client: {}",
                            labels[i],
                            labels[j],
                            labels[j],
                            why(ev, labels, j, i)
                        ));
                    }
                }
            }
            s.to_vec()
        }
        None => {
            let score = |i: usize| -> i64 {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| match upstream(ev, i, j) {
                        Some(true) => 1,
                        Some(false) => -1,
                        None => 0,
                    })
                    .sum()
            };
            let mut p: Vec<usize> = (0..n).collect();
            p.sort_by_key(|&i| (-score(i), i));
            p
        }
    };
    let decided = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .filter(|&(i, j)| upstream(ev, i, j).is_some())
        .count();
    let source = match (stated, decided) {
        (Some(_), _) => OrderSource::Stated,
        (None, 0) => OrderSource::AsGiven,
        (None, _) => OrderSource::Inferred,
    };
    let mut order = Order {
        perm,
        source,
        topology: Topology::Line,
        evidence: Vec::new(),
        warnings: Vec::new(),
    };
    let pos: Vec<usize> = {
        let mut v = vec![0; n];
        for (k, &i) in order.perm.iter().enumerate() {
            v[i] = k;
        }
        v
    };
    // Pairs the data decides the other way round (with an inferred order:
    // a cycle, no line explains it).
    for i in 0..n {
        for j in 0..n {
            if pos[i] < pos[j] && upstream(ev, j, i) == Some(true) {
                order.warnings.push(format!(
                    "{} is placed before {}, but the data says {} is nearer the client ({}): \
                     the points do not form one line",
                    labels[i],
                    labels[j],
                    labels[j],
                    why(ev, labels, j, i)
                ));
                order.topology = Topology::NotALine;
            }
        }
    }
    // Each neighbour pair: what says so, or that nothing does.
    for w in order.perm.windows(2) {
        let (i, j) = (w[0], w[1]);
        let e = get(ev, i, j).cloned().unwrap_or_default();
        let shares = format!(
            "{} connection(s) by packet keys, {} HTTP request(s)",
            e.shared, e.requests
        );
        match upstream(ev, i, j) {
            Some(true) => order.evidence.push(format!(
                "{} → {}: {}; shared: {shares}",
                labels[i],
                labels[j],
                why(ev, labels, i, j)
            )),
            _ if e.related() => order.evidence.push(format!(
                "{} → {}: the data does not say which is nearer the client (shared: {shares}); \
                 {}",
                labels[i],
                labels[j],
                if stated.is_some() {
                    "as stated"
                } else {
                    "kept as given"
                }
            )),
            _ => {
                order.warnings.push(format!(
                    "{} and {} are next to each other in this order but share no traffic \
                     (not a line: branches behind one point, or unrelated captures?)",
                    labels[i], labels[j]
                ));
                order.topology = Topology::NotALine;
            }
        }
    }
    // A point between two others that sees only part of what they share:
    // one of several parallel paths.
    for (x, &i) in order.perm.iter().enumerate() {
        for (z, &j) in order.perm.iter().enumerate().skip(x + 2) {
            let Some(e) = get(ev, i, j) else { continue };
            if e.shared < 5 {
                continue;
            }
            for &m in &order.perm[x + 1..z] {
                let seen = get(ev, i, m).map_or(0, |e| e.shared);
                if seen * 2 < e.shared {
                    order.warnings.push(format!(
                        "{} shares only {seen} connection(s) with {} of the {} that {} and {} \
                         share: it may see only one of several parallel paths (not a line)",
                        labels[m], labels[i], e.shared, labels[i], labels[j]
                    ));
                    order.topology = Topology::NotALine;
                }
            }
        }
    }
    Ok(order)
}
