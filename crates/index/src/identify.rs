//! Which point's capture is open, and whether it still is the capture that
//! was indexed.
//!
//! The post-dissector knows neither the file name nor its size.  It computes
//! [`crate::frame_check`] of each frame on the first pass and:
//!
//! 1. **Identifies** from the frames seen so far ([`Index::identify`]): the
//!    points whose checks agree with every observation are candidates.  One
//!    candidate: that point.  Several (the same capture indexed twice):
//!    ambiguous — wait for more frames, give up after [`IDENTIFY_FRAMES`].
//!    None: if one point agrees with at least half of the observations (and
//!    more than any other), its capture was changed since indexing (stale);
//!    otherwise the capture is not in the index (unknown).
//! 2. **Verifies** every later frame ([`Index::verify`]): the first frame
//!    whose check differs, or that is beyond the point's frame count, makes
//!    the index stale for this capture (the capture was edited, filtered,
//!    time-shifted or appended to): the post-dissector stops showing peers.
//!
//! [`Tracker`] runs both steps.  A capture that ends early (fewer frames than
//! indexed) is not stale: what it has still matches.

use crate::Index;

/// Observations [`Tracker`] collects while several points agree.
pub const IDENTIFY_FRAMES: usize = 8;

/// The result of [`Index::identify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Identification {
    /// This point's capture.
    Point(u16),
    /// Several points agree with every observation.
    Ambiguous,
    /// No point agrees well enough: not a capture of this session.
    Unknown,
    /// Most, not all, observations agree with this point: its capture, but
    /// changed since it was indexed.
    Stale(u16),
}

impl Index<'_> {
    /// Identifies the capture from `(frame, check)` observations (frames
    /// 1-based, checks from [`crate::frame_check`]).
    pub fn identify(&self, observations: &[(u32, u32)]) -> Identification {
        if observations.is_empty() {
            return Identification::Unknown;
        }
        let n = observations.len();
        let mut full = Vec::new();
        let mut best: Option<(usize, u16)> = None;
        let mut best_tied = false;
        for p in 0..self.point_count() as u16 {
            let agree = observations
                .iter()
                .filter(|&&(f, c)| self.verify(p, f, c))
                .count();
            if agree == n {
                full.push(p);
            }
            match best {
                Some((b, _)) if agree < b => {}
                Some((b, _)) if agree == b => best_tied = true,
                _ => {
                    best = Some((agree, p));
                    best_tied = false;
                }
            }
        }
        match full.len() {
            1 => return Identification::Point(full[0]),
            0 => {}
            _ => return Identification::Ambiguous,
        }
        match best {
            Some((agree, p)) if agree > 0 && 2 * agree >= n && !best_tied => {
                Identification::Stale(p)
            }
            _ => Identification::Unknown,
        }
    }
}

/// Where a [`Tracker`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackState {
    /// No frame yet, or several points still agree.
    Identifying,
    /// This point's capture; every frame verified so far agrees.
    Identified(u16),
    /// Several points agree with the first [`IDENTIFY_FRAMES`] frames.
    Ambiguous,
    /// Not a capture of this session.
    Unknown,
    /// This point's capture, changed since indexing: `frame` is the first
    /// that disagrees.
    Stale { point: u16, frame: u32 },
}

impl TrackState {
    /// The point whose peers may be shown (only while identified).
    pub fn point(&self) -> Option<u16> {
        match *self {
            TrackState::Identified(p) => Some(p),
            _ => None,
        }
    }
}

/// Identification then verification over the first pass, frame by frame.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    observations: Vec<(u32, u32)>,
    state: Option<TrackState>,
}

impl Tracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Current state.
    pub fn state(&self) -> TrackState {
        self.state.unwrap_or(TrackState::Identifying)
    }

    /// Takes the check of `frame` (first pass, in order; a frame seen twice
    /// is ignored while identifying) and returns the new state.
    pub fn observe(&mut self, index: &Index<'_>, frame: u32, check: u32) -> TrackState {
        let next = match self.state() {
            TrackState::Identifying => {
                if !self.observations.iter().any(|o| o.0 == frame) {
                    self.observations.push((frame, check));
                }
                match index.identify(&self.observations) {
                    Identification::Point(p) => {
                        self.observations = Vec::new();
                        TrackState::Identified(p)
                    }
                    Identification::Ambiguous if self.observations.len() < IDENTIFY_FRAMES => {
                        TrackState::Identifying
                    }
                    Identification::Ambiguous => TrackState::Ambiguous,
                    Identification::Unknown => TrackState::Unknown,
                    Identification::Stale(p) => {
                        let first_bad = self
                            .observations
                            .iter()
                            .find(|&&(f, c)| !index.verify(p, f, c))
                            .map_or(frame, |o| o.0);
                        TrackState::Stale {
                            point: p,
                            frame: first_bad,
                        }
                    }
                }
            }
            TrackState::Identified(p) if !index.verify(p, frame, check) => {
                TrackState::Stale { point: p, frame }
            }
            s => s,
        };
        self.state = Some(next);
        next
    }
}
