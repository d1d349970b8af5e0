//! A pair's outcome as bytes, for a stage that matched it in another
//! process (the `engine` crate's cluster workers, docs/engine.md).
//!
//! The matches travel as the caller's own columns ([`PairOutcome::parts`]:
//! Arrow, for the cluster); the small rest — the pair's clock fit with its
//! segments, connection pairs, summary, index record, losses and
//! translations — as one byte string in this module's plain little-endian
//! layout.  No format library: the matcher and `index` stay free of serde
//! (`index` is in the Wireshark plugins' build).  Both ends must be the
//! same `pktmatch` build, so the layout has a version byte and no evolution
//! rules: a worker whose layout version differs is refused, not misread.
//! A worker of another build with the same layout is not detected (its
//! matcher may match otherwise): run one build everywhere.
//!
//! Everything is written exactly (clock models by their i128 terms, the
//! unused clock segment slots too, floats by their bits): a decoded outcome
//! gives the index the threads give, byte for byte.

use crate::clock::{ClockFit, Segment, MAX_SEGMENTS};
use crate::packets::PacketMatch;
use crate::pairing::ConnPair;
use crate::{Outcome, PairMatches, PairOutcome, PairSummary};
use index::{
    ClockModel, Endpoints, LossKind, Missing, PairSpec, SeqOffsets, TranslationKind,
    TranslationSpec,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The layout's version (the first byte).
const VERSION: u8 = 1;

/// Bytes that do not decode as an outcome (of this build).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// What was being read.
    pub what: &'static str,
    /// Where (byte offset).
    pub offset: usize,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a pair's outcome does not decode: {} at byte {} (a worker of another pktmatch build?)",
            self.what, self.offset
        )
    }
}

impl std::error::Error for WireError {}

/// Little-endian writer.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i128(&mut self, v: i128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    /// A length (u32) then the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.0.extend_from_slice(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    /// A count of items; counts past u32 cannot occur (frames are u32).
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
}

/// Little-endian reader over one byte string; every read is range-checked.
pub struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, at: 0 }
    }

    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let err = WireError {
            what,
            offset: self.at,
        };
        let end = self.at.checked_add(N).ok_or(err.clone())?;
        let s = self.buf.get(self.at..end).ok_or(err.clone())?;
        self.at = end;
        s.try_into().map_err(|_| err)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.take(what)?))
    }
    pub fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.take(what)?))
    }
    pub fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.take(what)?))
    }
    pub fn i64(&mut self, what: &'static str) -> Result<i64, WireError> {
        Ok(i64::from_le_bytes(self.take(what)?))
    }
    pub fn i128(&mut self, what: &'static str) -> Result<i128, WireError> {
        Ok(i128::from_le_bytes(self.take(what)?))
    }
    pub fn bool(&mut self, what: &'static str) -> Result<bool, WireError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.error(what)),
        }
    }
    /// A count of items, each at least `min_bytes` long: a count the rest
    /// of the bytes cannot hold is refused before anything is allocated.
    pub fn len(&mut self, what: &'static str, min_bytes: usize) -> Result<usize, WireError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_bytes.max(1)) > self.buf.len() - self.at {
            return Err(self.error(what));
        }
        Ok(n)
    }
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let n = self.len(what, 1)?;
        let s = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    pub fn string(&mut self, what: &'static str) -> Result<String, WireError> {
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.error(what))
    }
    /// Nothing may follow the last field.
    pub fn end(&self) -> Result<(), WireError> {
        if self.at == self.buf.len() {
            Ok(())
        } else {
            Err(self.error("bytes after the end"))
        }
    }
    pub fn error(&self, what: &'static str) -> WireError {
        WireError {
            what,
            offset: self.at,
        }
    }
}

impl PairOutcome {
    /// The packet matches and the rest as bytes ([`PairOutcome::from_parts`]
    /// rebuilds the outcome from them).
    pub fn into_parts(self) -> (Vec<PacketMatch>, Vec<u8>) {
        let mut o = self.0;
        let matches = std::mem::take(&mut o.matches.matches);
        let mut w = Writer::default();
        w.u8(VERSION);
        put_outcome(&mut w, &o);
        (matches, w.0)
    }

    /// Refuses an outcome that cannot be adjacent pair `k`'s of points
    /// with `frames` frames (k, k + 1): other points, or a match or loss
    /// past their frames (what another process sent: the index must not
    /// index past a table, and must not be quietly wrong).
    pub fn check_against(&self, k: usize, frames: (u32, u32)) -> Result<(), String> {
        let o = &self.0;
        let (pa, pb) = (o.matches.a, o.matches.b);
        if usize::from(pa) != k || usize::from(pb) != k + 1 {
            return Err(format!("pair {k} came back as points {pa} and {pb}"));
        }
        if let Some(m) = o
            .matches
            .matches
            .iter()
            .find(|m| m.a >= frames.0 || m.b >= frames.1)
        {
            return Err(format!(
                "pair {k}: a match of records {} and {}, past the points' {} and {} frames",
                m.a, m.b, frames.0, frames.1
            ));
        }
        let of = |p: u16| match p {
            p if p == pa => Some(frames.0),
            p if p == pb => Some(frames.1),
            _ => None,
        };
        for &(point, frame, at, _) in &o.lost {
            match (of(point), of(at)) {
                (Some(n), Some(_)) if (1..=n).contains(&frame) => {}
                _ => {
                    return Err(format!(
                        "pair {k}: a loss of frame {frame} at point {point} (not seen at {at}) \
                         outside the pair's points or frames"
                    ))
                }
            }
        }
        Ok(())
    }

    /// The outcome [`PairOutcome::into_parts`] was made from.
    pub fn from_parts(matches: Vec<PacketMatch>, rest: &[u8]) -> Result<PairOutcome, WireError> {
        let mut r = Reader::new(rest);
        if r.u8("version")? != VERSION {
            return Err(WireError {
                what: "version",
                offset: 0,
            });
        }
        let mut o = get_outcome(&mut r)?;
        r.end()?;
        o.matches.matches = matches;
        Ok(PairOutcome(o))
    }
}

fn put_outcome(w: &mut Writer, o: &Outcome) {
    w.u16(o.matches.a);
    w.u16(o.matches.b);
    put_option(w, o.matches.clock.as_ref(), put_fit);
    put_conn_pairs(w, &o.conn_pairs);
    put_summary(w, &o.summary);
    put_spec(w, &o.spec);
    w.len(o.lost.len());
    for &(point, frame, at, kind) in &o.lost {
        w.u16(point);
        w.u32(frame);
        w.u16(at);
        w.u8(kind.code());
    }
    w.len(o.translations.len());
    for t in &o.translations {
        put_translation(w, t);
    }
}

fn get_outcome(r: &mut Reader) -> Result<Outcome, WireError> {
    let a = r.u16("pair")?;
    let b = r.u16("pair")?;
    let clock = get_option(r, get_fit)?;
    let conn_pairs = get_conn_pairs(r)?;
    let summary = get_summary(r)?;
    let spec = get_spec(r)?;
    let n = r.len("losses", 9)?;
    let mut lost = Vec::with_capacity(n);
    for _ in 0..n {
        lost.push((
            r.u16("loss")?,
            r.u32("loss")?,
            r.u16("loss")?,
            LossKind::from_code(r.u8("loss")?),
        ));
    }
    let n = r.len("translations", 10)?;
    let mut translations = Vec::with_capacity(n);
    for _ in 0..n {
        translations.push(get_translation(r)?);
    }
    Ok(Outcome {
        matches: PairMatches {
            a,
            b,
            matches: Vec::new(),
            clock,
        },
        conn_pairs,
        summary,
        spec,
        lost,
        translations,
    })
}

/// Connection pairs (a pair's outcome; a cluster task's tier-1 pairs).
pub fn put_conn_pairs(w: &mut Writer, pairs: &[ConnPair]) {
    w.len(pairs.len());
    for p in pairs {
        w.u32(p.a);
        w.u32(p.b);
        w.bool(p.flip);
        w.u32(p.votes.to_bits());
        w.u8(p.tier);
    }
}

/// What [`put_conn_pairs`] wrote.
pub fn get_conn_pairs(r: &mut Reader) -> Result<Vec<ConnPair>, WireError> {
    let n = r.len("connection pairs", 14)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        pairs.push(ConnPair {
            a: r.u32("connection pair")?,
            b: r.u32("connection pair")?,
            flip: r.bool("connection pair")?,
            votes: f32::from_bits(r.u32("connection pair")?),
            tier: r.u8("connection pair")?,
        });
    }
    Ok(pairs)
}

fn put_option<T>(w: &mut Writer, v: Option<&T>, put: fn(&mut Writer, &T)) {
    match v {
        Some(v) => {
            w.u8(1);
            put(w, v);
        }
        None => w.u8(0),
    }
}

fn get_option<T>(
    r: &mut Reader,
    get: fn(&mut Reader) -> Result<T, WireError>,
) -> Result<Option<T>, WireError> {
    match r.bool("option")? {
        true => get(r).map(Some),
        false => Ok(None),
    }
}

fn put_model(w: &mut Writer, m: &ClockModel) {
    for v in m.to_raw() {
        w.i128(v);
    }
}

fn get_model(r: &mut Reader) -> Result<ClockModel, WireError> {
    let mut raw = [0i128; 4];
    for v in &mut raw {
        *v = r.i128("clock model")?;
    }
    ClockModel::from_raw(raw).ok_or(r.error("clock model"))
}

fn put_fit(w: &mut Writer, f: &ClockFit) {
    let (model, bound_ns, points, both_ways, segs, n) = f.raw();
    put_model(w, &model);
    w.u64(bound_ns);
    w.u32(points);
    w.bool(both_ways);
    w.u8(n);
    for s in segs {
        w.u32(s.from_a);
        w.u32(s.from_b);
        w.i64(s.from_ns);
        w.i64(s.before_ns);
        put_model(w, &s.model);
        w.u64(s.bound_ns);
    }
}

fn get_fit(r: &mut Reader) -> Result<ClockFit, WireError> {
    let model = get_model(r)?;
    let bound_ns = r.u64("clock fit")?;
    let points = r.u32("clock fit")?;
    let both_ways = r.bool("clock fit")?;
    let n = r.u8("clock fit")?;
    let mut segs = Vec::with_capacity(MAX_SEGMENTS);
    for _ in 0..MAX_SEGMENTS {
        segs.push(Segment {
            from_a: r.u32("clock segment")?,
            from_b: r.u32("clock segment")?,
            from_ns: r.i64("clock segment")?,
            before_ns: r.i64("clock segment")?,
            model: get_model(r)?,
            bound_ns: r.u64("clock segment")?,
        });
    }
    let segs: [Segment; MAX_SEGMENTS] = segs.try_into().map_err(|_| r.error("clock segments"))?;
    ClockFit::from_raw(model, bound_ns, points, both_ways, segs, n)
        .ok_or(r.error("clock segment count"))
}

fn put_missing(w: &mut Writer, m: &Missing) {
    for pair in [m.lost, m.dropped, m.outside, m.uncertain] {
        w.u32(pair[0]);
        w.u32(pair[1]);
    }
}

fn get_missing(r: &mut Reader) -> Result<Missing, WireError> {
    let mut two = || -> Result<[u32; 2], WireError> { Ok([r.u32("missing")?, r.u32("missing")?]) };
    Ok(Missing {
        lost: two()?,
        dropped: two()?,
        outside: two()?,
        uncertain: two()?,
    })
}

fn put_summary(w: &mut Writer, s: &PairSummary) {
    w.u16(s.a);
    w.u16(s.b);
    w.bool(s.adjacent);
    w.u32(s.conns_tier1);
    w.u32(s.conns_tier2);
    w.u32(s.conns_proxy);
    w.len(s.by_method.len());
    for &(m, n) in &s.by_method {
        w.u8(m);
        w.u64(n);
    }
    put_option(w, s.clock.as_ref(), put_fit);
    put_missing(w, &s.missing);
    w.u32(s.translations);
}

fn get_summary(r: &mut Reader) -> Result<PairSummary, WireError> {
    let a = r.u16("summary")?;
    let b = r.u16("summary")?;
    let adjacent = r.bool("summary")?;
    let conns_tier1 = r.u32("summary")?;
    let conns_tier2 = r.u32("summary")?;
    let conns_proxy = r.u32("summary")?;
    let n = r.len("matches by method", 9)?;
    let mut by_method = Vec::with_capacity(n);
    for _ in 0..n {
        by_method.push((r.u8("matches by method")?, r.u64("matches by method")?));
    }
    Ok(PairSummary {
        a,
        b,
        adjacent,
        conns_tier1,
        conns_tier2,
        conns_proxy,
        by_method,
        clock: get_option(r, get_fit)?,
        missing: get_missing(r)?,
        translations: r.u32("summary")?,
    })
}

fn put_spec(w: &mut Writer, s: &PairSpec) {
    put_option(w, s.clock.as_ref(), put_model);
    w.u64(s.offset_error_ns);
    w.u32(s.matched);
    w.bool(s.neighbours);
    put_missing(w, &s.missing);
}

fn get_spec(r: &mut Reader) -> Result<PairSpec, WireError> {
    Ok(PairSpec {
        clock: get_option(r, get_model)?,
        offset_error_ns: r.u64("pair record")?,
        matched: r.u32("pair record")?,
        neighbours: r.bool("pair record")?,
        missing: get_missing(r)?,
    })
}

fn put_addr(w: &mut Writer, a: &SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => {
            w.u8(4);
            w.0.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            w.u8(6);
            w.0.extend_from_slice(&ip.octets());
        }
    }
    w.u16(a.port());
}

fn get_addr(r: &mut Reader) -> Result<SocketAddr, WireError> {
    let ip = match r.u8("address")? {
        4 => IpAddr::V4(Ipv4Addr::from(r.take::<4>("address")?)),
        6 => IpAddr::V6(Ipv6Addr::from(r.take::<16>("address")?)),
        _ => return Err(r.error("address family")),
    };
    Ok(SocketAddr::new(ip, r.u16("address")?))
}

fn put_endpoints(w: &mut Writer, e: &Endpoints) {
    w.u8(e.ip_proto);
    for a in [&e.a_src, &e.a_dst, &e.b_src, &e.b_dst] {
        put_addr(w, a);
    }
}

fn get_endpoints(r: &mut Reader) -> Result<Endpoints, WireError> {
    Ok(Endpoints {
        ip_proto: r.u8("endpoints")?,
        a_src: get_addr(r)?,
        a_dst: get_addr(r)?,
        b_src: get_addr(r)?,
        b_dst: get_addr(r)?,
    })
}

fn put_offsets(w: &mut Writer, s: &SeqOffsets) {
    w.u32(s.client_to_server);
    w.u32(s.server_to_client);
}

fn get_offsets(r: &mut Reader) -> Result<SeqOffsets, WireError> {
    Ok(SeqOffsets {
        client_to_server: r.u32("sequence offsets")?,
        server_to_client: r.u32("sequence offsets")?,
    })
}

fn put_translation(w: &mut Writer, t: &TranslationSpec) {
    w.u16(t.a);
    w.u16(t.b);
    w.u8(t.kind.to_u8());
    w.str(&t.summary);
    put_option(w, t.endpoints.as_ref(), put_endpoints);
    put_option(w, t.seq_offsets.as_ref(), put_offsets);
}

fn get_translation(r: &mut Reader) -> Result<TranslationSpec, WireError> {
    Ok(TranslationSpec {
        a: r.u16("translation")?,
        b: r.u16("translation")?,
        kind: TranslationKind::from_u8(r.u8("translation")?),
        summary: r.string("translation")?,
        endpoints: get_option(r, get_endpoints)?,
        seq_offsets: get_option(r, get_offsets)?,
    })
}
