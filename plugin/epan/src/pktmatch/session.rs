//! The open capture against the index: which point of the session it is,
//! and for which frames the index may be trusted.
//!
//! Wireshark does not tell a post-dissector which file is open, and calls
//! it in frame order on the first pass only; later passes (`tshark -2`, the
//! GUI's packet list and clicks, filtering) revisit frames in any order.
//! So every frame is classified by its number against the highest frame
//! seen since the capture was (re)loaded:
//!
//! * a frame beyond it is a first visit: its check goes to the index
//!   crate's `Tracker` (identification, then verification);
//! * any other frame is a revisit: it is shown as the tracker's current
//!   state says, so `-2` and random access show what one pass shows (more
//!   only for frames seen while several points still agreed).
//!
//! A merged capture (`pktmatch merge`) holds the frames of every point; each
//! frame's comment names its point, its frame number and time stamp there,
//! and where its linked frames are in the merged file (`index::merged`).
//! Such a capture is recognised by the comment of the first frame seen, and
//! then each frame is verified on its own against the index.
//!
//! Wireshark's init and cleanup routines (run on every capture load and
//! redissection, e.g. after a preference change) forget the session; the
//! index itself stays cached in `source` unless its file changed.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use index::merged;
use index::{TrackState, Tracker};
use wireshark_ffi::{guard, sys};

use super::source::{self, Loaded};

/// What to show on one frame.  Plain data: taken under the session lock,
/// used after it is released (no lock is held across calls into Wireshark).
pub struct View {
    /// The index, when it could be read.
    pub index: Option<Arc<Loaded>>,
    /// Why the index cannot be used.
    pub problem: Option<Arc<str>>,
    /// What is known about the open capture.
    pub state: TrackState,
    /// Show the peers this point's index has for the frame.
    pub point: Option<u16>,
    /// The frame's number in its point's capture (the open capture's own
    /// number, except in a merged capture).
    pub frame: u32,
    /// Its time stamp in that capture.
    pub ts_ns: i64,
    /// In a merged capture: the frames linked to this one that it holds,
    /// (point, frame there, frame here, same packet).
    pub merged: Option<Vec<(u16, u32, u32, bool)>>,
    /// The open capture is a merged one (`merged` is None on its frames
    /// that could not be verified).
    pub merged_capture: bool,
    /// The capture-level finding (problem, staleness, not in the index) is
    /// reported on this frame: the one where it was found.
    pub report_here: bool,
}

struct Session {
    /// The index as read at the first frame after the last reset.
    outcome: Option<source::Outcome>,
    tracker: Tracker,
    /// Highest frame number seen since the reset.
    last_seen: u32,
    /// Frame where the capture-level finding was made.
    reported_at: Option<u32>,
    /// A merged capture (decided at the first frame seen).
    merged: Option<bool>,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);

fn session() -> MutexGuard<'static, Option<Session>> {
    // A panic while holding the lock (caught by the guard) left a state we
    // cannot trust: start over as after a reset.
    SESSION.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        let mut state = poisoned.into_inner();
        *state = None;
        state
    })
}

unsafe extern "C" fn reset() {
    let _ = guard::catch(|| *session() = None);
}

/// Forget the session whenever Wireshark (re)loads or closes a capture.
pub fn register_reset() {
    // SAFETY: a static function without arguments, called by Wireshark on
    // its main thread between dissections.
    unsafe {
        sys::register_init_routine(Some(reset));
        sys::register_cleanup_routine(Some(reset));
    }
}

/// The index of the capture being dissected, when it could be read (for
/// the statistics tables, which run after each frame's dissection).
pub fn current_index() -> Option<Arc<Loaded>> {
    session().as_ref()?.outcome.as_ref()?.as_ref().ok().cloned()
}

/// Classifies `frame` (time stamp `ts_ns`; `check(ts)` computes its check
/// with a time stamp, `comment()` reads its first comment, each only when
/// needed) and says what to show.  `path` names the index; it is asked for
/// and the index read at the first frame after a reset.
pub fn view<'p>(
    path: impl FnOnce() -> String,
    frame: u32,
    ts_ns: i64,
    check: impl Fn(i64) -> u32,
    comment: impl Fn() -> Option<&'p str>,
) -> View {
    let mut state = session();
    let s = state.get_or_insert_with(|| Session {
        outcome: None,
        tracker: Tracker::new(),
        last_seen: 0,
        reported_at: None,
        merged: None,
    });
    let outcome = s
        .outcome
        .get_or_insert_with(|| source::load(&path()))
        .clone();
    let loaded = match outcome {
        Ok(loaded) => loaded,
        Err(problem) => {
            let at = *s.reported_at.get_or_insert(frame);
            return View {
                index: None,
                problem: Some(problem),
                state: TrackState::Unknown,
                point: None,
                frame,
                ts_ns,
                merged: None,
                merged_capture: false,
                report_here: at == frame,
            };
        }
    };
    let ix = loaded.index();
    let is_merged = *s
        .merged
        .get_or_insert_with(|| comment().and_then(merged::parse_comment).is_some());
    if is_merged {
        return merged_view(s, loaded, frame, ts_ns, &check, &comment);
    }
    let check = check(ts_ns);
    let track = if frame > s.last_seen {
        s.last_seen = frame;
        let before = s.tracker.state();
        let after = s.tracker.observe(ix, frame, check);
        let finding = matches!(
            after,
            TrackState::Stale { .. } | TrackState::Ambiguous | TrackState::Unknown
        );
        if finding && after != before {
            s.reported_at = Some(frame);
        }
        after
    } else {
        s.tracker.state()
    };
    // Revisits are verified too (one hash): a frame that does not match
    // shows nothing rather than another packet's peers.
    let point = match track {
        TrackState::Identified(p) => Some(p),
        TrackState::Stale {
            point,
            frame: first_bad,
        } if frame < first_bad => Some(point),
        _ => None,
    }
    .filter(|&p| ix.verify(p, frame, check));
    View {
        point,
        frame,
        ts_ns,
        merged: None,
        merged_capture: false,
        state: track,
        report_here: s.reported_at == Some(frame),
        problem: None,
        index: Some(loaded),
    }
}

/// A frame of a merged capture: the point, frame and time stamp its
/// comment names, verified against the index's check for that frame.  The
/// first frame that fails (no comment, a point the index lacks, another
/// frame than the one indexed) is reported once.
fn merged_view<'p>(
    s: &mut Session,
    loaded: Arc<Loaded>,
    frame: u32,
    ts_ns: i64,
    check: &impl Fn(i64) -> u32,
    comment: &impl Fn() -> Option<&'p str>,
) -> View {
    let ix = loaded.index();
    let said = comment().and_then(merged::parse_comment);
    let found = said.as_ref().and_then(|c| {
        let p = ix.point_by_label(c.label)?.index();
        Some((p, c))
    });
    let mut view = View {
        index: None,
        problem: None,
        state: TrackState::Unknown,
        point: None,
        frame,
        ts_ns,
        merged: None,
        merged_capture: true,
        report_here: false,
    };
    match found {
        Some((p, c)) if ix.verify(p, c.frame, check(c.ts_ns)) => {
            let links = c
                .links
                .iter()
                .filter_map(|l| {
                    let q = ix.point_by_label(l.label)?.index();
                    Some((q, l.frame, l.merged, l.same))
                })
                .collect();
            view.state = TrackState::Identified(p);
            view.point = Some(p);
            view.frame = c.frame;
            view.ts_ns = c.ts_ns;
            view.merged = Some(links);
        }
        Some((p, _)) => view.state = TrackState::Stale { point: p, frame },
        None => {}
    }
    if view.point.is_none() && frame > s.last_seen && s.reported_at.is_none() {
        s.reported_at = Some(frame);
    }
    s.last_seen = s.last_seen.max(frame);
    view.report_here = s.reported_at == Some(frame);
    view.index = Some(loaded);
    view
}
