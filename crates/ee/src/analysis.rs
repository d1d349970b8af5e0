//! RTP connection analysis, in the manner of Wireshark's tcp.analysis: what
//! each packet means for its connection, derived from the packets seen
//! before it in capture order.
//!
//! An RTP connection has one TCID per direction: each end chooses the TCID
//! its partner puts in packets sent *to* it, and announces it in a
//! connection identifier exchange segment (0x10).  A direction is therefore
//! keyed by (source, destination, TCID); the 0x10 segment links the reverse
//! direction to the same connection (stream index).
//!
//! Data bytes are numbered by the byte sequence number (BSN) of their first
//! byte; DLF bytes follow.  Per direction we keep the next expected BSN and
//! the byte ranges already seen, and classify each data packet:
//! - in order: BSN = next expected;
//! - gap: BSN beyond the next expected (bytes between were not captured);
//! - out of order: BSN below the next expected, bytes never seen before;
//! - retransmission: bytes seen before, after the partner sent a status
//!   since their first transmission (RTP resends what status reports missing
//!   or what a status request timed out on);
//! - duplicate: the same BSN and length seen before with nothing from the
//!   partner in between: a copy made by the network or the capture.
//!
//! Status requested (SRI) is paired with the partner's next status segment,
//! giving a response time; status segments reporting missing ranges
//! (received sequence number below an acknowledged byte sequence pair) name
//! them; ARB rate messages, slowdown bits, connection setup and switching
//! information sent after the setup (a path switch) are events of their own.

use std::collections::HashMap;

/// One end of a packet: address bytes and port, opaque to the analysis.
pub type EndpointKey = ([u8; 16], u8, u32);

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
    pub setup: bool,
    pub start_of_message: bool,
    pub end_of_message: bool,
    pub status_requested: bool,
    /// Status segment: (received sequence number, ABSP pairs).
    pub status: Option<(u32, Vec<(u32, u32)>)>,
    /// TCID announced in a connection identifier exchange segment.
    pub announced_tcid: Option<u64>,
    /// ARB segment: (message type, rate action) as decoded.
    pub arb: Option<(u8, u8)>,
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
    /// First sent in `original`.
    Retransmission {
        original: u32,
    },
    /// Same as `original`, nothing from the partner in between.
    Duplicate {
        original: u32,
    },
}

/// The analysis of one frame.
#[derive(Clone, Debug, Default)]
pub struct FrameAnalysis {
    pub stream: u32,
    pub data: Option<DataKind>,
    /// For a status: the frame whose status request it answers, and after
    /// how many nanoseconds.
    pub status_reply_to: Option<(u32, i64)>,
    /// For a status request: the frame of the status that answered it
    /// (known once that frame has been analysed).
    pub status_reply_in: Option<u32>,
    /// Ranges [begin, end) a status reports as not received.
    pub status_missing: Vec<(u32, u32)>,
    /// A whole message completed by this frame, and the frames it came in.
    pub message: Option<(Vec<u8>, Vec<u32>)>,
    pub setup: bool,
    pub path_switch: bool,
    pub slowdown: bool,
    pub arb: Option<(u8, u8)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Direction {
    source: EndpointKey,
    destination: EndpointKey,
    tcid: u64,
}

#[derive(Default)]
struct DirectionState {
    stream: u32,
    next_bsn: Option<u32>,
    /// (BSN, DLF, frame) of the latest transmission of each byte range
    /// within [`WINDOW`] bytes behind the next expected BSN, oldest first.
    sent: std::collections::VecDeque<(u32, u32, u32)>,
    /// Count of status segments the partner sent so far.
    partner_status_count: u32,
    /// partner_status_count when each entry of `sent` was sent.
    sent_status_mark: std::collections::VecDeque<u32>,
    /// The message being collected: BSN of its start and (BSN, bytes, frame).
    message_start: Option<u32>,
    message_parts: Vec<(u32, Vec<u8>, u32)>,
    /// End BSN of the EOMI part, once seen.
    message_end: Option<u32>,
    /// A status request waiting for the partner's status: (frame, time).
    pending_status_request: Option<(u32, i64)>,
}

/// The state of every RTP connection of one capture.
#[derive(Default)]
pub struct Analyzer {
    directions: HashMap<Direction, DirectionState>,
    /// Reverse directions announced by 0x10 segments before any traffic.
    announced: HashMap<Direction, u32>,
    streams: u32,
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

    /// The analysis of a frame analysed before (random access, second pass).
    pub fn result(&self, frame: u32) -> Option<&FrameAnalysis> {
        self.results.get(&frame)
    }

    /// Analyses a frame the first time it is seen; later calls for the same
    /// frame return the stored analysis unchanged.
    pub fn analyse(&mut self, facts: &PacketFacts) -> &FrameAnalysis {
        if !self.results.contains_key(&facts.frame) {
            let analysis = self.first_visit(facts);
            self.results.insert(facts.frame, analysis);
        }
        &self.results[&facts.frame]
    }

    fn stream_of(&mut self, key: Direction) -> u32 {
        if let Some(state) = self.directions.get(&key) {
            return state.stream;
        }
        let stream = match self.announced.get(&key) {
            Some(&stream) => stream,
            None => {
                self.streams += 1;
                self.streams - 1
            }
        };
        self.directions.insert(
            key,
            DirectionState {
                stream,
                ..Default::default()
            },
        );
        stream
    }

    fn first_visit(&mut self, facts: &PacketFacts) -> FrameAnalysis {
        let key = Direction {
            source: facts.source,
            destination: facts.destination,
            tcid: facts.tcid,
        };
        let stream = self.stream_of(key);
        let mut out = FrameAnalysis {
            stream,
            setup: facts.setup,
            // Switching information in a setup describes the first path.
            path_switch: facts.switching_information && !facts.setup,
            slowdown: facts.slowdown,
            arb: facts.arb,
            ..Default::default()
        };

        if let Some(tcid) = facts.announced_tcid {
            let reverse = Direction {
                source: facts.destination,
                destination: facts.source,
                tcid,
            };
            match self.directions.get(&reverse) {
                Some(_) => {}
                None => {
                    self.announced.insert(reverse, stream);
                }
            }
        }

        // A status from us answers the partner's pending request and counts
        // for the partner's retransmission bookkeeping.
        if let Some((received, pairs)) = &facts.status {
            let partner = self.partner_direction_of(&key);
            if let Some(partner) = partner {
                let state = self.directions.get_mut(&partner).expect("partner known");
                state.partner_status_count += 1;
                if let Some((request_frame, request_time)) = state.pending_status_request.take() {
                    out.status_reply_to = Some((request_frame, facts.time_ns - request_time));
                    if let Some(request) = self.results.get_mut(&request_frame) {
                        request.status_reply_in = Some(facts.frame);
                    }
                }
            }
            out.status_missing = missing_ranges(*received, pairs);
        }

        let state = self.directions.get_mut(&key).expect("inserted above");
        if facts.status_requested {
            state.pending_status_request = Some((facts.frame, facts.time_ns));
        }
        if facts.dlf > 0 {
            out.data = Some(classify(state, facts));
            out.message = collect_message(state, facts, out.data);
        }
        out
    }

    /// The direction that sends to the source of `key` on the same stream.
    fn partner_direction_of(&self, key: &Direction) -> Option<Direction> {
        let stream = self.directions.get(key)?.stream;
        self.directions
            .iter()
            .find(|(other, state)| {
                state.stream == stream
                    && other.source == key.destination
                    && other.destination == key.source
            })
            .map(|(other, _)| *other)
    }
}

/// How far behind the next expected BSN sent ranges are remembered: far
/// more than any RTP send window, far less than the 4 GiB sequence space
/// (so a wrapped BSN never meets a range from the previous lap).
const WINDOW: u32 = 64 << 20;

fn classify(state: &mut DirectionState, facts: &PacketFacts) -> DataKind {
    let end = facts.bsn.wrapping_add(facts.dlf);
    let in_order = state.next_bsn.map_or(true, |next| next == facts.bsn);
    // Data at the next expected BSN overlaps nothing sent before: only the
    // rest needs the search (latest transmission first).
    let earlier = if in_order {
        None
    } else {
        state.sent.iter().rposition(|&(bsn, dlf, _)| {
            // Overlap of [bsn, bsn+dlf) and [facts.bsn, end).
            ahead(bsn, end) > 0 && ahead(facts.bsn, bsn.wrapping_add(dlf)) > 0
        })
    };
    let kind = match (state.next_bsn, earlier) {
        (_, Some(index)) => {
            let (bsn, dlf, frame) = state.sent[index];
            let partner_spoke = state.partner_status_count > state.sent_status_mark[index];
            if bsn == facts.bsn && dlf == facts.dlf && !partner_spoke {
                DataKind::Duplicate { original: frame }
            } else {
                DataKind::Retransmission { original: frame }
            }
        }
        (None, None) => DataKind::InOrder,
        (Some(next), None) => match ahead(next, facts.bsn) {
            0 => DataKind::InOrder,
            d if d > 0 => DataKind::Gap { missing: d as u32 },
            _ => DataKind::OutOfOrder,
        },
    };
    // Remember this transmission, unless it is a mere copy: a copy of a
    // retransmission is then a duplicate of the retransmission.
    if !matches!(kind, DataKind::Duplicate { .. }) {
        state.sent.push_back((facts.bsn, facts.dlf, facts.frame));
        state.sent_status_mark.push_back(state.partner_status_count);
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
        while let Some(&(bsn, dlf, _)) = state.sent.front() {
            let behind = ahead(bsn.wrapping_add(dlf), next);
            if (0..i64::from(WINDOW)).contains(&behind) {
                break;
            }
            state.sent.pop_front();
            state.sent_status_mark.pop_front();
        }
    }
    kind
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
mod tests {
    use super::*;

    const A: EndpointKey = ([10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4, 12002);
    const B: EndpointKey = ([10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4, 12002);

    fn data<'a>(frame: u32, bsn: u32, bytes: &'a [u8]) -> PacketFacts<'a> {
        PacketFacts {
            frame,
            time_ns: i64::from(frame) * 1_000_000,
            source: A,
            destination: B,
            tcid: 0xB,
            bsn,
            dlf: bytes.len() as u32,
            data: bytes,
            start_of_message: true,
            end_of_message: true,
            ..Default::default()
        }
    }

    fn status(frame: u32, received: u32, pairs: Vec<(u32, u32)>) -> PacketFacts<'static> {
        PacketFacts {
            frame,
            time_ns: i64::from(frame) * 1_000_000,
            source: B,
            destination: A,
            tcid: 0xA,
            status: Some((received, pairs)),
            ..Default::default()
        }
    }

    #[test]
    fn classifies_gap_out_of_order_retransmission_and_duplicate() {
        let mut an = Analyzer::new();
        let mut setup = data(1, 0, b"aaaa");
        setup.announced_tcid = Some(0xA);
        assert_eq!(an.analyse(&setup).data, Some(DataKind::InOrder));
        // bytes 4..8 lost, 8..12 arrives: gap of 4.
        assert_eq!(
            an.analyse(&data(2, 8, b"cccc")).data,
            Some(DataKind::Gap { missing: 4 })
        );
        // partner reports 4..8 missing
        let st = an.analyse(&status(3, 4, vec![(8, 12)])).clone();
        assert_eq!(st.stream, 0, "0x10 segment links the reverse direction");
        assert_eq!(st.status_missing, vec![(4, 8)]);
        // late original of 4..8 would be out of order; here a resend after
        // the status is a first sight too (never captured before)
        assert_eq!(
            an.analyse(&data(4, 4, b"bbbb")).data,
            Some(DataKind::OutOfOrder)
        );
        // resend of 8..12 after the status: retransmission
        assert_eq!(
            an.analyse(&data(5, 8, b"cccc")).data,
            Some(DataKind::Retransmission { original: 2 })
        );
        // the same packet again with no status between: a duplicate of the
        // retransmission
        assert_eq!(
            an.analyse(&data(6, 8, b"cccc")).data,
            Some(DataKind::Duplicate { original: 5 })
        );
        assert_eq!(
            an.analyse(&data(7, 12, b"dddd")).data,
            Some(DataKind::InOrder)
        );
        assert_eq!(
            an.analyse(&data(8, 12, b"dddd")).data,
            Some(DataKind::Duplicate { original: 7 })
        );
        // a second visit returns the stored result
        assert_eq!(
            an.analyse(&data(2, 8, b"cccc")).data,
            Some(DataKind::Gap { missing: 4 })
        );
    }

    #[test]
    fn sequence_numbers_wrap_and_old_ranges_are_forgotten() {
        let mut an = Analyzer::new();
        let chunk = vec![0u8; 1400];
        let mut bsn = u32::MAX - 10 * 1400;
        for frame in 1..=40 {
            let facts = data(frame, bsn, &chunk);
            assert_eq!(
                an.analyse(&facts).data,
                Some(DataKind::InOrder),
                "frame {frame}"
            );
            bsn = bsn.wrapping_add(1400);
        }
    }

    #[test]
    fn a_repeated_start_of_message_does_not_restart_reassembly() {
        let mut an = Analyzer::new();
        let mut first = data(1, 100, b"ab");
        first.end_of_message = false;
        an.analyse(&first);
        let mut copy = first.clone();
        copy.frame = 2;
        an.analyse(&copy);
        let mut last = data(3, 102, b"cd");
        last.start_of_message = false;
        let done = an.analyse(&last).message.clone().unwrap();
        assert_eq!(done, (b"abcd".to_vec(), vec![1, 3]));
    }

    #[test]
    fn pairs_status_request_with_reply() {
        let mut an = Analyzer::new();
        let mut request = data(1, 0, b"xy");
        request.announced_tcid = Some(0xA);
        request.status_requested = true;
        an.analyse(&request);
        let reply = an.analyse(&status(2, 2, vec![])).clone();
        assert_eq!(reply.status_reply_to, Some((1, 1_000_000)));
        assert!(reply.status_missing.is_empty());
        assert_eq!(an.result(1).unwrap().status_reply_in, Some(2));
    }

    #[test]
    fn reassembles_a_message_over_three_packets() {
        let mut an = Analyzer::new();
        let mut first = data(1, 100, b"ab");
        first.end_of_message = false;
        let mut middle = data(2, 102, b"cd");
        middle.start_of_message = false;
        middle.end_of_message = false;
        let mut last = data(3, 104, b"e");
        last.start_of_message = false;
        assert!(an.analyse(&first).message.is_none());
        assert!(an.analyse(&middle).message.is_none());
        let done = an.analyse(&last).message.clone().unwrap();
        assert_eq!(done, (b"abcde".to_vec(), vec![1, 2, 3]));
    }
}
