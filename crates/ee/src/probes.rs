//! LDLC probes: an LLC TEST or XID command and its response, paired per
//! pair of EE endpoints (addresses and UDP port), with the round-trip time.
//!
//! LDLC (RFC 2353 section 2.2) checks a link with TEST and XID commands; an
//! EE port a firewall blocks answers none, which is what IBM's EEVERIFY
//! reports per port.  A command is unanswered when the same endpoints send
//! the next command of the kind with no response in between (a retry), or
//! when the capture ends without one ([`Probes::finish`], called once the
//! whole capture has been seen).  LDLC retries a command that got no
//! response (IBM counts them: IST2025I "LDLC signals retransmitted at least
//! one time"); a probe fails only when every retry goes unanswered
//! (IST2026I: retransmitted SRQRETRY times; EEVERIFY's failed port), so an
//! unanswered command whose retry was answered says which response ended
//! the series.

use std::collections::{HashMap, VecDeque};

use crate::analysis::EndpointKey;

/// Which LLC command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Test,
    Xid,
}

/// What the pairing needs from one LLC frame.
#[derive(Clone, Copy, Debug)]
pub struct ProbeFacts {
    pub frame: u32,
    pub time_ns: i64,
    pub source: EndpointKey,
    pub destination: EndpointKey,
    pub kind: ProbeKind,
    pub response: bool,
}

/// The pairing of one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeAnalysis {
    /// For a command: the frame of its response (known once seen).
    pub response_in: Option<u32>,
    /// For a response: the command it answers and the round-trip time.
    pub response_to: Option<(u32, i64)>,
    /// For a command: no response came.
    pub unanswered: bool,
    /// For a command: the earlier command it repeats, which got no response.
    pub retry_of: Option<u32>,
    /// For an unanswered command: the response that answered one of its
    /// retries (the probe succeeded after all).
    pub answered_on_retry: Option<u32>,
}

type Key = (EndpointKey, EndpointKey, ProbeKind);

#[derive(Default)]
pub struct Probes {
    /// Commands waiting for their response: (frame, time).
    pending: HashMap<Key, VecDeque<(u32, i64)>>,
    /// Commands retried without a response since the last response.
    retried: HashMap<Key, Vec<u32>>,
    results: HashMap<u32, ProbeAnalysis>,
}

impl Probes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn result(&self, frame: u32) -> Option<&ProbeAnalysis> {
        self.results.get(&frame)
    }

    /// Pairs a frame the first time it is seen; later calls return the
    /// stored result (as updated by later frames).
    pub fn analyse(&mut self, facts: &ProbeFacts) -> ProbeAnalysis {
        if !self.results.contains_key(&facts.frame) {
            let result = self.first_visit(facts);
            self.results.insert(facts.frame, result);
        }
        self.results[&facts.frame]
    }

    fn first_visit(&mut self, facts: &ProbeFacts) -> ProbeAnalysis {
        let mut out = ProbeAnalysis::default();
        if facts.response {
            let key = (facts.destination, facts.source, facts.kind);
            if let Some((command, time)) = self.pending.get_mut(&key).and_then(VecDeque::pop_front)
            {
                out.response_to = Some((command, facts.time_ns - time));
                if let Some(c) = self.results.get_mut(&command) {
                    c.response_in = Some(facts.frame);
                }
                for earlier in self.retried.remove(&key).unwrap_or_default() {
                    if let Some(c) = self.results.get_mut(&earlier) {
                        c.answered_on_retry = Some(facts.frame);
                    }
                }
            }
        } else {
            let key = (facts.source, facts.destination, facts.kind);
            let queue = self.pending.entry(key).or_default();
            // Commands still waiting are retried: they got no response.
            out.retry_of = queue.back().map(|(frame, _)| *frame);
            let retried = self.retried.entry(key).or_default();
            for (frame, _) in queue.drain(..) {
                if let Some(c) = self.results.get_mut(&frame) {
                    c.unanswered = true;
                }
                retried.push(frame);
            }
            queue.push_back((facts.frame, facts.time_ns));
        }
        out
    }

    /// The capture has been read to its end: every command still waiting
    /// is unanswered.
    pub fn finish(&mut self) {
        for queue in self.pending.values_mut() {
            for (frame, _) in queue.drain(..) {
                if let Some(c) = self.results.get_mut(&frame) {
                    c.unanswered = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: EndpointKey = ([1; 16], 4, 12000);
    const B: EndpointKey = ([2; 16], 4, 12000);
    const B_LOW: EndpointKey = ([2; 16], 4, 12004);

    fn probe(
        frame: u32,
        ms: i64,
        source: EndpointKey,
        destination: EndpointKey,
        response: bool,
    ) -> ProbeFacts {
        ProbeFacts {
            frame,
            time_ns: ms * 1_000_000,
            source,
            destination,
            kind: ProbeKind::Test,
            response,
        }
    }

    #[test]
    fn pairs_per_port_retries_and_the_end_of_the_capture() {
        let mut p = Probes::new();
        p.analyse(&probe(1, 0, A, B, false));
        let rsp = p.analyse(&probe(2, 7, B, A, true));
        assert_eq!(rsp.response_to, Some((1, 7_000_000)));
        assert_eq!(p.result(1).unwrap().response_in, Some(2));
        // Port 12004 blocked: a command, its retry, nothing back.
        let a_low = (A.0, A.1, 12004);
        p.analyse(&probe(3, 10, a_low, B_LOW, false));
        let retry = p.analyse(&probe(4, 3010, a_low, B_LOW, false));
        assert_eq!(retry.retry_of, Some(3));
        assert!(p.result(3).unwrap().unanswered);
        assert!(!p.result(4).unwrap().unanswered);
        p.finish();
        assert!(p.result(4).unwrap().unanswered);
        assert!(!p.result(1).unwrap().unanswered);
        // Never answered: no response ended the series.
        assert_eq!(p.result(3).unwrap().answered_on_retry, None);
        assert_eq!(p.result(4).unwrap().answered_on_retry, None);
    }

    #[test]
    fn a_command_answered_on_its_retry_names_the_response() {
        // A lost TEST, its retry answered: the probe succeeded (IBM counts
        // the retransmission, IST2025I); the first command says so.
        let mut p = Probes::new();
        p.analyse(&probe(1, 0, A, B, false));
        p.analyse(&probe(2, 3000, A, B, false));
        p.analyse(&probe(3, 3004, B, A, true));
        let first = *p.result(1).unwrap();
        assert!(first.unanswered);
        assert_eq!(first.answered_on_retry, Some(3));
        assert_eq!(p.result(2).unwrap().response_in, Some(3));
        // A later lost command starts a new series.
        p.analyse(&probe(4, 9000, A, B, false));
        p.finish();
        assert_eq!(p.result(4).unwrap().answered_on_retry, None);
    }
}
