//! RTP connection analysis, in the manner of Wireshark's tcp.analysis: what
//! each packet means for its connection, derived from the packets seen
//! before it in capture order.
//!
//! **Directions and connections.**  An RTP connection has one TCID per
//! direction: each end chooses the TCID its partner puts in packets sent
//! *to* it.  A direction is keyed by (source, destination, TCID).  The two
//! directions of a connection (one stream index) are linked by, in order of
//! strength:
//! 1. a connection identifier exchange segment (X'10'): it names the TCID
//!    the sender receives with, i.e. the reverse direction exactly;
//! 2. a status segment whose received sequence number lies in the byte
//!    range the other direction sent (the status acknowledges its bytes);
//! 3. the addresses and ports alone, when exactly one unlinked direction
//!    goes the other way between the same endpoints.
//!
//! The first is only seen at connection setup; a capture of a long-lived
//! RTP pipe starts later, so 2 and 3 link it.  A link by the addresses is
//! replaced when a status acknowledges another direction's bytes.  A
//! direction that joins a connection later has its earlier frames moved to
//! that connection's stream (visible on later passes).
//!
//! **Data**, per direction, by BSN and DLF: in order; gap (bytes between
//! the next expected BSN and this one were not captured); out of order
//! (bytes below the next expected BSN never seen before, and not reported
//! missing by the partner); retransmission (bytes seen before, or bytes the
//! partner's latest status reported not received: the original went
//! before the capture started or was lost before the capture point);
//! duplicate (the same BSN and length seen before, the
//! partner direction known and silent since: RTP resends only what a status
//! asks for, so a copy without a status in between is the network's or the
//! capture's).  With no partner known, a resend is a retransmission.
//!
//! **Stalls** (IBM message IST2245I): the same bytes retransmitted again
//! and again, never acknowledged; flagged from the 6th retransmission when
//! at least 10 s have passed since the first (IBM's thresholds, both
//! configurable), and relieved (IST2247I) by a status acknowledging them.
//!
//! **Status**: a status segment answers the partner's latest unanswered
//! status request (SRI), giving a round-trip time; the ranges it reports
//! missing are named.  ARB messages, slowdown bits, connection setup,
//! switching information after the setup (a path switch), faults and
//! client out-of-band requests are events of their own; a connection setup
//! segment from the listening partner is IBM's protocol violation A019FF0D.

use std::collections::{HashMap, VecDeque};

/// One end of a packet: address bytes, address length and port.
pub type EndpointKey = ([u8; 16], u8, u32);

/// Thresholds of the stall detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Retransmissions of the same bytes that make a stall (IBM: 6).
    pub stall_resends: u32,
    /// Time since the first of them (IBM: 10 s).
    pub stall_ns: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stall_resends: 6,
            stall_ns: 10_000_000_000,
        }
    }
}

/// An ARB segment as decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArbFacts {
    pub message_type: u8,
    pub rate_action: u8,
    pub mode: u8,
}

/// What the analysis needs from one RTP packet.
#[derive(Clone, Debug, Default)]
pub struct PacketFacts<'a> {
    pub frame: u32,
    pub time_ns: i64,
    pub source: EndpointKey,
    pub destination: EndpointKey,
    pub tcid: u64,
    pub bsn: u32,
    /// Data length field: bytes of data this packet carries.
    pub dlf: u32,
    /// The data bytes present in the capture (may be shorter than DLF).
    pub data: &'a [u8],
    /// SETUPI or a connection setup segment.
    pub setup: bool,
    /// A connection setup segment (X'0D') is present.
    pub setup_segment: bool,
    pub start_of_message: bool,
    pub end_of_message: bool,
    pub status_requested: bool,
    /// Status segment: (received sequence number, ABSP pairs).
    pub status: Option<(u32, Vec<(u32, u32)>)>,
    /// TCID announced in a connection identifier exchange segment.
    pub announced_tcid: Option<u64>,
    pub arb: Option<ArbFacts>,
    pub switching_information: bool,
    pub slowdown: bool,
}

/// How a data packet relates to the bytes before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    InOrder,
    /// Bytes in [expected, BSN) were never seen.
    Gap {
        missing: u32,
    },
    OutOfOrder,
    /// First sent in `original`; None when the earlier copy is not in the
    /// capture but the partner's status reported these bytes not received.
    Retransmission {
        original: Option<u32>,
    },
    /// Same as `original`, the partner silent in between.
    Duplicate {
        original: u32,
    },
}

/// Why two directions were taken for one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A connection identifier exchange segment named the TCID.
    ConnectionIdExchange,
    /// A status acknowledged the other direction's bytes.
    Status,
    /// The only direction the other way between these endpoints.
    Endpoints,
}

impl Evidence {
    pub fn code(self) -> u8 {
        match self {
            Evidence::ConnectionIdExchange => 1,
            Evidence::Status => 2,
            Evidence::Endpoints => 3,
        }
    }
    pub const NAMES: &'static [(u8, &'static str)] = &[
        (1, "connection identifier exchange"),
        (2, "status acknowledges the partner's bytes"),
        (3, "only connection between these endpoints"),
    ];
}

/// The link of a direction to its partner: how, and in which frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pairing {
    pub evidence: Evidence,
    pub frame: u32,
}

/// A transmission stall: the bytes at `bsn` resent `resends` times,
/// `span_ns` since the first resend in `first_frame`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub bsn: u32,
    pub resends: u32,
    pub span_ns: i64,
    pub first_frame: u32,
}

/// The analysis of one frame.
#[derive(Clone, Debug, Default)]
pub struct FrameAnalysis {
    pub stream: u32,
    /// 0: the first direction seen of the connection, 1: the other.
    pub side: u8,
    pub pairing: Option<Pairing>,
    pub data: Option<DataKind>,
    /// For a retransmission: how many times these bytes have been resent.
    pub resend_count: Option<u32>,
    /// For a retransmission: the frame of the partner's latest status,
    /// which reported (some of) these bytes not received.
    pub retransmission_requested: Option<u32>,
    pub stall: Option<Stall>,
    /// A status acknowledging the bytes of a stall first flagged in this
    /// frame.
    pub stall_relieved: Option<u32>,
    /// For a status: the frame whose status request it answers, and after
    /// how many nanoseconds.
    pub status_reply_to: Option<(u32, i64)>,
    /// For a status request: the frame of the status that answered it
    /// (known once that frame has been analysed).
    pub status_reply_in: Option<u32>,
    /// For a status request: no status answered it before the next request
    /// or the end of the capture.
    pub status_unanswered: bool,
    /// Ranges [begin, end) a status reports as not received.
    pub status_missing: Vec<(u32, u32)>,
    /// A whole message completed by this frame, and the frames it came in.
    pub message: Option<(Vec<u8>, Vec<u32>)>,
    pub setup: bool,
    pub path_switch: bool,
    pub slowdown: bool,
    pub arb: Option<ArbFacts>,
    /// Sense codes of protocol violations found with the connection's
    /// state (A019FF0D).
    pub violations: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Direction {
    source: EndpointKey,
    destination: EndpointKey,
    tcid: u64,
}

/// One transmission of a byte range.
#[derive(Clone, Copy, Debug)]
struct Sent {
    bsn: u32,
    dlf: u32,
    frame: u32,
    /// The partner's status count when it was sent.
    status_mark: u32,
    /// Resends of these bytes so far, and when the first was seen.
    resends: u32,
    first_resend: Option<(u32, i64)>,
}

#[derive(Default)]
struct DirectionState {
    stream: u32,
    side: u8,
    partner: Option<Direction>,
    pairing: Option<Pairing>,
    /// Frames analysed in this direction (moved with it when it joins
    /// another stream).
    frames: Vec<u32>,
    first_bsn: Option<u32>,
    next_bsn: Option<u32>,
    /// Transmissions within [`WINDOW`] bytes behind the next expected BSN,
    /// oldest first.
    sent: VecDeque<Sent>,
    /// Count of status segments the partner sent so far.
    partner_status_count: u32,
    /// The partner's latest received sequence number: bytes below it are
    /// acknowledged.
    acknowledged: Option<u32>,
    /// What the partner's latest status reported not received (ranges
    /// [begin, end)), and the frame of that status.
    reported_missing: Vec<(u32, u32)>,
    reported_in: Option<u32>,
    /// A stall flagged and not yet relieved: (BSN, frame first flagged).
    stall: Option<(u32, u32)>,
    /// The message being collected: BSN of its start and (BSN, bytes, frame).
    message_start: Option<u32>,
    message_parts: Vec<(u32, Vec<u8>, u32)>,
    /// End BSN of the EOMI part, once seen.
    message_end: Option<u32>,
    /// A status request waiting for the partner's status: (frame, time).
    pending_status_request: Option<(u32, i64)>,
}

#[derive(Default)]
struct StreamState {
    /// The direction that sent the first connection setup segment.
    initiator: Option<Direction>,
}

/// The state of every RTP connection of one capture.
#[derive(Default)]
pub struct Analyzer {
    config: Config,
    directions: HashMap<Direction, DirectionState>,
    /// The directions between each (source, destination) pair.
    by_path: HashMap<(EndpointKey, EndpointKey), Vec<Direction>>,
    /// Reverse directions announced by X'10' segments: the stream, the
    /// announcing direction and the frame.
    announced: HashMap<Direction, (u32, Direction, u32)>,
    streams: Vec<StreamState>,
    results: HashMap<u32, FrameAnalysis>,
}

/// Byte distance from `from` to `to` in 32-bit sequence space.
fn ahead(from: u32, to: u32) -> i64 {
    i64::from(to.wrapping_sub(from) as i32)
}

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_config(config: Config) -> Self {
        Analyzer {
            config,
            ..Default::default()
        }
    }

    /// The analysis of a frame analysed before (random access, second pass).
    pub fn result(&self, frame: u32) -> Option<&FrameAnalysis> {
        self.results.get(&frame)
    }

    /// Analyses a frame the first time it is seen; later calls for the same
    /// frame return the stored analysis (as updated by later frames).
    pub fn analyse(&mut self, facts: &PacketFacts) -> &FrameAnalysis {
        if !self.results.contains_key(&facts.frame) {
            let analysis = self.first_visit(facts);
            self.results.insert(facts.frame, analysis);
            let key = Self::key(facts);
            if let Some(state) = self.directions.get_mut(&key) {
                state.frames.push(facts.frame);
            }
        }
        &self.results[&facts.frame]
    }

    fn key(facts: &PacketFacts) -> Direction {
        Direction {
            source: facts.source,
            destination: facts.destination,
            tcid: facts.tcid,
        }
    }

    fn new_stream(&mut self) -> u32 {
        self.streams.push(StreamState::default());
        (self.streams.len() - 1) as u32
    }

    /// The direction of a packet, created (and linked if it can be) on its
    /// first packet.
    fn place(&mut self, key: Direction, facts: &PacketFacts) {
        if self.directions.contains_key(&key) {
            return;
        }
        let link = if let Some((_, announcer, frame)) = self.announced.get(&key).copied() {
            Some((announcer, Evidence::ConnectionIdExchange, frame))
        } else if let Some(partner) = self.partner_by_status(&key, facts) {
            Some((partner, Evidence::Status, facts.frame))
        } else {
            let mut candidates = self
                .reverse_of(&key)
                .filter(|d| self.directions[d].partner.is_none());
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some((only, Evidence::Endpoints, facts.frame)),
                _ => None,
            }
        };
        let stream = match link {
            Some((partner, _, _)) => self.directions[&partner].stream,
            None => self.new_stream(),
        };
        self.directions.insert(
            key,
            DirectionState {
                stream,
                ..Default::default()
            },
        );
        self.by_path
            .entry((key.source, key.destination))
            .or_default()
            .push(key);
        if let Some((partner, evidence, frame)) = link {
            self.link(key, partner, evidence, frame);
        }
    }

    /// The directions going the other way between the same endpoints.
    fn reverse_of<'a>(&'a self, key: &Direction) -> impl Iterator<Item = Direction> + 'a {
        self.by_path
            .get(&(key.destination, key.source))
            .into_iter()
            .flatten()
            .copied()
    }

    /// The direction the other way whose bytes a status in this packet
    /// acknowledges, if exactly one (an exact "all received" match wins).
    fn partner_by_status(&self, key: &Direction, facts: &PacketFacts) -> Option<Direction> {
        let (received, _) = facts.status.as_ref()?;
        let within: Vec<(Direction, &DirectionState)> = self
            .reverse_of(key)
            .map(|d| (d, &self.directions[&d]))
            .filter(|(_, s)| match (s.first_bsn, s.next_bsn) {
                (Some(first), Some(next)) => {
                    ahead(first, *received) >= 0 && ahead(*received, next) >= 0
                }
                _ => false,
            })
            .collect();
        let exact: Vec<_> = within
            .iter()
            .filter(|(_, s)| s.next_bsn == Some(*received))
            .collect();
        match (&within[..], &exact[..]) {
            ([(only, _)], _) => Some(*only),
            (_, [(only, _)]) => Some(*only),
            _ => None,
        }
    }

    /// Makes `a` and `b` the two directions of one connection: `a` joins
    /// `b`'s stream (its frames so far move with it); previous partners of
    /// either are let go.
    fn link(&mut self, a: Direction, b: Direction, evidence: Evidence, frame: u32) {
        for d in [a, b] {
            let old = self.directions.get(&d).and_then(|s| s.partner);
            if let Some(old) = old.filter(|o| *o != a && *o != b) {
                if let Some(state) = self.directions.get_mut(&old) {
                    state.partner = None;
                    state.pairing = None;
                }
            }
        }
        let (stream, b_side) = {
            let sb = &self.directions[&b];
            (sb.stream, sb.side)
        };
        let pairing = Some(Pairing { evidence, frame });
        {
            let sa = self.directions.get_mut(&a).expect("placed");
            sa.partner = Some(b);
            sa.pairing = pairing;
            sa.side = 1 - b_side;
            sa.stream = stream;
        }
        {
            let sb = self.directions.get_mut(&b).expect("known");
            sb.partner = Some(a);
            sb.pairing = pairing;
        }
        // Frames of `a` analysed before the link belong to the connection;
        // those of both now show how it was linked.
        for d in [a, b] {
            let state = &self.directions[&d];
            for frame in &state.frames {
                if let Some(result) = self.results.get_mut(frame) {
                    result.stream = state.stream;
                    result.side = state.side;
                    result.pairing = pairing;
                }
            }
        }
    }

    fn first_visit(&mut self, facts: &PacketFacts) -> FrameAnalysis {
        let key = Self::key(facts);
        self.place(key, facts);
        // A status that acknowledges the bytes of another direction than
        // the one linked by the addresses alone corrects the link.
        if let Some(partner) = self.partner_by_status(&key, facts) {
            let current = &self.directions[&key];
            let weak = current
                .pairing
                .map_or(true, |p| p.evidence == Evidence::Endpoints);
            if current.partner != Some(partner) && weak {
                self.link(key, partner, Evidence::Status, facts.frame);
            }
        }
        if let Some(tcid) = facts.announced_tcid {
            let reverse = Direction {
                source: facts.destination,
                destination: facts.source,
                tcid,
            };
            let stream = self.directions[&key].stream;
            if self.directions.contains_key(&reverse) {
                let exact = self.directions[&key].partner == Some(reverse)
                    && self.directions[&key]
                        .pairing
                        .is_some_and(|p| p.evidence == Evidence::ConnectionIdExchange);
                if !exact {
                    self.link(reverse, key, Evidence::ConnectionIdExchange, facts.frame);
                }
            } else {
                self.announced.insert(reverse, (stream, key, facts.frame));
            }
        }

        let (stream, side, pairing, partner) = {
            let s = &self.directions[&key];
            (s.stream, s.side, s.pairing, s.partner)
        };
        let mut out = FrameAnalysis {
            stream,
            side,
            pairing,
            setup: facts.setup,
            // Switching information in a setup describes the first path.
            path_switch: facts.switching_information && !facts.setup,
            slowdown: facts.slowdown,
            arb: facts.arb,
            ..Default::default()
        };
        self.check_setup_side(key, stream, partner, facts, &mut out);

        // A status from us answers the partner's pending request, counts
        // for the partner's retransmission bookkeeping and acknowledges its
        // bytes.
        if let Some((received, pairs)) = &facts.status {
            out.status_missing = missing_ranges(*received, pairs);
            if let Some(partner) = partner {
                let missing = out.status_missing.clone();
                self.credit_status(partner, *received, missing, facts, &mut out);
            }
        }

        let config = self.config;
        let state = self.directions.get_mut(&key).expect("placed");
        if facts.status_requested {
            let earlier = state
                .pending_status_request
                .replace((facts.frame, facts.time_ns));
            if let Some(result) = earlier.and_then(|(frame, _)| self.results.get_mut(&frame)) {
                result.status_unanswered = true;
            }
        }
        let state = self.directions.get_mut(&key).expect("placed");
        if facts.dlf > 0 {
            let known_partner = state.partner.is_some();
            let kind = classify(state, facts, known_partner);
            out.data = Some(kind);
            if let DataKind::Retransmission { .. } = kind {
                let (resends, stall) = resend(state, facts, &config);
                out.resend_count = Some(resends);
                out.stall = stall;
                out.retransmission_requested = reported_missing(state, facts);
            }
            out.message = collect_message(state, facts, out.data);
        }
        out
    }

    /// The capture has been read to its end: status requests still waiting
    /// were never answered.
    pub fn finish(&mut self) {
        for state in self.directions.values_mut() {
            if let Some((frame, _)) = state.pending_status_request.take() {
                if let Some(result) = self.results.get_mut(&frame) {
                    result.status_unanswered = true;
                }
            }
        }
    }

    /// IBM's A019FF0D: a connection setup segment from the partner of the
    /// direction that set the connection up.
    fn check_setup_side(
        &mut self,
        key: Direction,
        stream: u32,
        partner: Option<Direction>,
        facts: &PacketFacts,
        out: &mut FrameAnalysis,
    ) {
        if !facts.setup_segment {
            return;
        }
        let state = &mut self.streams[stream as usize];
        match state.initiator {
            None => state.initiator = Some(key),
            Some(initiator) if initiator != key && partner == Some(initiator) => {
                out.violations.push(0xA019_FF0D);
            }
            Some(_) => {}
        }
    }

    fn credit_status(
        &mut self,
        partner: Direction,
        received: u32,
        missing: Vec<(u32, u32)>,
        facts: &PacketFacts,
        out: &mut FrameAnalysis,
    ) {
        let Some(state) = self.directions.get_mut(&partner) else {
            return;
        };
        state.partner_status_count += 1;
        state.reported_missing = missing;
        state.reported_in = Some(facts.frame);
        if state
            .acknowledged
            .map_or(true, |acked| ahead(acked, received) > 0)
        {
            state.acknowledged = Some(received);
        }
        if let Some((bsn, flagged)) = state.stall {
            if ahead(bsn, received) > 0 {
                state.stall = None;
                out.stall_relieved = Some(flagged);
            }
        }
        if let Some((request_frame, request_time)) = state.pending_status_request.take() {
            out.status_reply_to = Some((request_frame, facts.time_ns - request_time));
            if let Some(request) = self.results.get_mut(&request_frame) {
                request.status_reply_in = Some(facts.frame);
            }
        }
    }
}

/// How far behind the next expected BSN sent ranges are remembered: far
/// more than any RTP send window, far less than the 4 GiB sequence space
/// (so a wrapped BSN never meets a range from the previous lap).
const WINDOW: u32 = 64 << 20;

fn classify(state: &mut DirectionState, facts: &PacketFacts, known_partner: bool) -> DataKind {
    let end = facts.bsn.wrapping_add(facts.dlf);
    let in_order = state.next_bsn.map_or(true, |next| next == facts.bsn);
    // Data at the next expected BSN overlaps nothing sent before: only the
    // rest needs the search (latest transmission first).
    let earlier = if in_order {
        None
    } else {
        state.sent.iter().rposition(|s| {
            // Overlap of [bsn, bsn+dlf) and [facts.bsn, end).
            ahead(s.bsn, end) > 0 && ahead(facts.bsn, s.bsn.wrapping_add(s.dlf)) > 0
        })
    };
    let mut carried = (0, None);
    let kind = match (state.next_bsn, earlier) {
        (_, Some(index)) => {
            let sent = state.sent[index];
            let partner_spoke = state.partner_status_count > sent.status_mark;
            if sent.bsn == facts.bsn && sent.dlf == facts.dlf && known_partner && !partner_spoke {
                DataKind::Duplicate {
                    original: sent.frame,
                }
            } else {
                if sent.bsn == facts.bsn {
                    carried = (sent.resends, sent.first_resend);
                }
                DataKind::Retransmission {
                    original: Some(sent.frame),
                }
            }
        }
        (None, None) => DataKind::InOrder,
        (Some(next), None) => match ahead(next, facts.bsn) {
            0 => DataKind::InOrder,
            d if d > 0 => DataKind::Gap { missing: d as u32 },
            // Never seen, but the partner said it lacks them: the resend
            // its status asked for (the original was sent before the
            // capture started or lost before the capture point).
            _ if reported_missing(state, facts).is_some() => {
                DataKind::Retransmission { original: None }
            }
            _ => DataKind::OutOfOrder,
        },
    };
    // Remember this transmission, unless it is a mere copy: a copy of a
    // retransmission is then a duplicate of the retransmission.
    if !matches!(kind, DataKind::Duplicate { .. }) {
        state.sent.push_back(Sent {
            bsn: facts.bsn,
            dlf: facts.dlf,
            frame: facts.frame,
            status_mark: state.partner_status_count,
            resends: carried.0,
            first_resend: carried.1,
        });
    }
    if state.first_bsn.is_none() {
        state.first_bsn = Some(facts.bsn);
    }
    let advance = match state.next_bsn {
        None => true,
        Some(next) => ahead(next, end) > 0,
    };
    if advance {
        state.next_bsn = Some(end);
    }
    // Forget ranges that ended far behind what is expected next.
    if let Some(next) = state.next_bsn {
        while let Some(s) = state.sent.front() {
            let behind = ahead(s.bsn.wrapping_add(s.dlf), next);
            if (0..i64::from(WINDOW)).contains(&behind) {
                break;
            }
            state.sent.pop_front();
        }
    }
    kind
}

/// The frame of the partner's latest status if it reported any byte of this
/// packet not received.
fn reported_missing(state: &DirectionState, facts: &PacketFacts) -> Option<u32> {
    let end = facts.bsn.wrapping_add(facts.dlf);
    state
        .reported_missing
        .iter()
        .any(|&(begin, stop)| ahead(begin, end) > 0 && ahead(facts.bsn, stop) > 0)
        .then_some(state.reported_in)
        .flatten()
}

/// Counts a retransmission (the entry `classify` just pushed) and says
/// whether the bytes now stall: resent `stall_resends` times, the first
/// resend `stall_ns` ago, and still not acknowledged.
fn resend(
    state: &mut DirectionState,
    facts: &PacketFacts,
    config: &Config,
) -> (u32, Option<Stall>) {
    let sent = state.sent.back_mut().expect("classify pushed it");
    sent.resends += 1;
    let (first_frame, first_time) = *sent
        .first_resend
        .get_or_insert((facts.frame, facts.time_ns));
    let resends = sent.resends;
    let span_ns = facts.time_ns - first_time;
    let acknowledged = state
        .acknowledged
        .is_some_and(|acked| ahead(facts.bsn, acked) > 0);
    let stalled = resends >= config.stall_resends && span_ns >= config.stall_ns && !acknowledged;
    let stall = stalled.then(|| {
        if state.stall.is_none() {
            state.stall = Some((facts.bsn, facts.frame));
        }
        Stall {
            bsn: facts.bsn,
            resends,
            span_ns,
            first_frame,
        }
    });
    (resends, stall)
}

/// Collects message parts (a part already held is not taken again) and
/// returns the whole message once the parts cover, without a hole, the
/// bytes from the SOMI part to the end of the EOMI part, whichever order
/// they came in.  Messages of one packet need no reassembly: None.
fn collect_message(
    state: &mut DirectionState,
    facts: &PacketFacts,
    kind: Option<DataKind>,
) -> Option<(Vec<u8>, Vec<u32>)> {
    if facts.data.len() != facts.dlf as usize {
        return None; // not all bytes captured: nothing to reassemble
    }
    let duplicate = matches!(kind, Some(DataKind::Duplicate { .. }));
    // A SOMI part starts a new message, unless it is the start of the one
    // being collected again (a copy or a retransmission).
    if facts.start_of_message && !duplicate && state.message_start != Some(facts.bsn) {
        state.message_start = Some(facts.bsn);
        state.message_end = None;
        state.message_parts.clear();
    }
    let start = state.message_start?;
    let held = state
        .message_parts
        .iter()
        .any(|(bsn, _, _)| *bsn == facts.bsn);
    if !duplicate && !held {
        state
            .message_parts
            .push((facts.bsn, facts.data.to_vec(), facts.frame));
    }
    if facts.end_of_message {
        state.message_end = Some(facts.bsn.wrapping_add(facts.dlf));
    }
    let end = state.message_end?;
    state
        .message_parts
        .sort_by_key(|(bsn, _, _)| ahead(start, *bsn));
    let mut next = start;
    for (bsn, bytes, _) in &state.message_parts {
        if *bsn != next {
            return None; // a hole: wait for the missing part
        }
        next = next.wrapping_add(bytes.len() as u32);
    }
    if next != end {
        return None;
    }
    let parts = std::mem::take(&mut state.message_parts);
    state.message_start = None;
    state.message_end = None;
    if parts.len() < 2 {
        return None;
    }
    let frames = parts.iter().map(|(_, _, frame)| *frame).collect();
    let message = parts.into_iter().flat_map(|(_, bytes, _)| bytes).collect();
    Some((message, frames))
}

/// Ranges a status reports missing: from the received sequence number to
/// the first acknowledged pair, and between pairs.
fn missing_ranges(received: u32, pairs: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut missing = Vec::new();
    let mut from = received;
    for &(begin, end) in pairs {
        if ahead(from, begin) > 0 {
            missing.push((from, begin));
        }
        if ahead(from, end) > 0 {
            from = end;
        }
    }
    missing
}

#[cfg(test)]
mod tests;
