//! [`IndexBuilder`]: collects a session and writes the index.

use crate::lost::{LossKind, Lost};
use crate::pairs::Missing;
use crate::points::PointDetails;
use crate::segments::ClockSegment;
use crate::session::SessionSpec;
use crate::translations::TranslationSpec;
use crate::{checks, methods, points, valid_name, ClockModel};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

mod write;

/// What a pair record holds besides its two points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairSpec {
    /// The clock model from a to b, if one was fitted.
    pub clock: Option<ClockModel>,
    /// Bound on the model's error over the captures, ns.
    pub offset_error_ns: u64,
    /// Packets matched between a and b.
    pub matched: u32,
    /// a and b are neighbours on the path (no capture point between them).
    pub neighbours: bool,
    /// Packets seen at one of them and not at the other, by why, each way.
    pub missing: Missing,
}

/// Why something cannot go into an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// More than 65535 points.
    TooManyPoints,
    /// A point number that was not added.
    NoSuchPoint { point: u16 },
    /// A frame outside 1..=frames added so far.
    NoSuchFrame {
        point: u16,
        frame: u32,
        packets: u32,
    },
    /// A pair, match, loss or translation between a point and itself.
    SamePoint { point: u16 },
    /// A pair given as (a, b) with a > b (the clock model is oriented a → b).
    PairOrder { a: u16, b: u16 },
    /// A label or method name that is empty, longer than 64 bytes, or holds
    /// a control character, comma or quote.
    BadName { name: String },
    /// Two points with one label.
    DuplicateLabel { label: String },
    /// A drift beyond ±DRIFT_LIMIT_PPB cannot be stored.
    DriftOutOfRange { drift_ppb: i64 },
    /// Clock segments out of order: the first must start at frames 1, the
    /// others at strictly later frames at both points.
    BadClockSegments { a: u16, b: u16, segment: usize },
    /// A size limit of the format (4 GiB of strings, 2^32-1 frames or peer
    /// entries per point): `what`.
    TooLarge { what: &'static str },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::TooManyPoints => write!(f, "more than 65535 capture points"),
            BuildError::NoSuchPoint { point } => write!(f, "point {point} was not added"),
            BuildError::NoSuchFrame {
                point,
                frame,
                packets,
            } => write!(
                f,
                "point {point} has no frame {frame} (frames 1..={packets} added)"
            ),
            BuildError::SamePoint { point } => {
                write!(f, "point {point} paired with itself")
            }
            BuildError::PairOrder { a, b } => {
                write!(f, "pair ({a}, {b}) must be given with a < b")
            }
            BuildError::BadName { name } => write!(
                f,
                "{name:?}: names must be 1-64 bytes without control characters, commas or quotes"
            ),
            BuildError::DuplicateLabel { label } => {
                write!(f, "two points labelled {label:?}")
            }
            BuildError::DriftOutOfRange { drift_ppb } => write!(
                f,
                "drift {drift_ppb} ppb is beyond ±{} ppb",
                crate::DRIFT_LIMIT_PPB
            ),
            BuildError::BadClockSegments { a, b, segment } => write!(
                f,
                "clock segment {segment} of pair ({a}, {b}): the first segment starts at \
                 frames 1, each other one at later frames than the one before, at both points"
            ),
            BuildError::TooLarge { what } => write!(f, "too large for the index format: {what}"),
        }
    }
}

impl std::error::Error for BuildError {}

#[derive(Clone, Debug)]
struct PointData {
    label: String,
    path: String,
    file_size: u64,
    details: PointDetails,
    ts: Vec<i64>,
    checks: Vec<u32>,
    /// Peer entries this point will get (both directions of every match).
    peers: u64,
    /// LOST entries added for this point.
    lost: u64,
}

/// One match of a pair (a, b), a < b, as the builder keeps it: 12 bytes,
/// so that a matcher's own 12-byte records can become these in place.
/// Frames are 1-based.  The raw delta is not kept: it is the difference of
/// the two frames' time stamps, which the builder has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PairMatch {
    pub frame_a: u32,
    pub frame_b: u32,
    /// 255 − confidence: sorting puts the most confident duplicate first.
    doubt: u8,
    pub method: u8,
}

impl PairMatch {
    /// Frames 1-based; `confidence` 0-255 ↔ 0-100 %.
    pub fn new(frame_a: u32, frame_b: u32, method: u8, confidence: u8) -> PairMatch {
        PairMatch {
            frame_a,
            frame_b,
            doubt: 255 - confidence,
            method,
        }
    }
    pub fn confidence(&self) -> u8 {
        255 - self.doubt
    }
}

/// The matches of one pair.
#[derive(Clone, Debug, Default)]
struct PairStore {
    matches: Vec<PairMatch>,
    /// Empty: every delta is the difference of the frames' time stamps.
    /// Otherwise one per match: a delta given to [`IndexBuilder::add_match`]
    /// that differs from it.
    deltas: Vec<i64>,
}

impl PairStore {
    /// Sorts by (frame a, frame b, doubt) and keeps the first (most
    /// confident) of equal frame pairs.
    fn prepare(&mut self) {
        if self.deltas.is_empty() {
            // Matches that come in order, each pair of frames once (a
            // matcher's composed pairs), need neither the sort's copy nor
            // its passes.
            let done = self
                .matches
                .windows(2)
                .all(|w| (w[0].frame_a, w[0].frame_b) < (w[1].frame_a, w[1].frame_b));
            if !done {
                sort_matches(&mut self.matches);
                self.matches.dedup_by_key(|m| (m.frame_a, m.frame_b));
            }
        } else {
            let mut both: Vec<(PairMatch, i64)> = self
                .matches
                .iter()
                .copied()
                .zip(self.deltas.iter().copied())
                .collect();
            both.sort_unstable();
            both.dedup_by_key(|(m, _)| (m.frame_a, m.frame_b));
            (self.matches, self.deltas) = both.into_iter().unzip();
        }
        self.matches.shrink_to_fit();
        self.deltas.shrink_to_fit();
    }
}

/// Sorts `matches` (by every field: the result is the one sorted order
/// whatever the method) by counting frame a's matches into a copy, then
/// sorting each frame's few by the rest: linear in matches and frames,
/// where a comparison sort of a matcher's matches (grouped by connection,
/// not by frame) took ~190 instructions per match.  Needs 12 bytes per
/// match and 4 per frame a besides; a short list, or frames much sparser
/// than the matches, gets the comparison sort in place.
fn sort_matches(matches: &mut Vec<PairMatch>) {
    let n = matches.len();
    let top = matches
        .iter()
        .map(|m| m.frame_a as usize)
        .max()
        .unwrap_or(0);
    if n < 1024 || top > 4 * n {
        matches.sort_unstable();
        return;
    }
    // start[f]: the first slot of frame f's matches.
    let mut start = vec![0u32; top + 2];
    for m in matches.iter() {
        start[m.frame_a as usize + 1] += 1;
    }
    for f in 1..start.len() {
        start[f] += start[f - 1];
    }
    let mut out = matches.clone();
    for m in matches.iter() {
        let slot = &mut start[m.frame_a as usize];
        out[*slot as usize] = *m;
        *slot += 1;
    }
    drop(start);
    for group in out.chunk_by_mut(|x, y| x.frame_a == y.frame_a) {
        if group.len() > 1 {
            group.sort_unstable();
        }
    }
    *matches = out;
}

/// Collects a session — points with their frames, pairs, matches, losses,
/// translations, method names — and writes the index.
///
/// Add a point's frames before matches that name them.  Every method
/// checks its arguments, so [`IndexBuilder::build`] cannot fail.
#[derive(Clone, Debug)]
pub struct IndexBuilder {
    created_ns: i64,
    points: Vec<PointData>,
    pairs: BTreeMap<(u16, u16), PairSpec>,
    /// Pairs whose clocks stepped: their segments (at least two).
    clock_segments: BTreeMap<(u16, u16), Vec<ClockSegment>>,
    /// Per pair (a < b).
    matches: BTreeMap<(u16, u16), PairStore>,
    /// Every pair's matches are sorted and free of duplicates
    /// ([`IndexBuilder::prepare`]): writing needs no sorted copy.
    prepared: bool,
    lost: Vec<(u16, Lost)>,
    translations: Vec<TranslationSpec>,
    methods: BTreeMap<u8, String>,
    session: Option<SessionSpec>,
    string_bytes: u64,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder::new()
    }
}

const STRINGS_LIMIT: u64 = u32::MAX as u64;

impl IndexBuilder {
    /// An empty session with the default method names
    /// ([`crate::methods::DEFAULT`]), created now.
    pub fn new() -> IndexBuilder {
        let created_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        IndexBuilder {
            created_ns,
            points: Vec::new(),
            pairs: BTreeMap::new(),
            clock_segments: BTreeMap::new(),
            matches: BTreeMap::new(),
            prepared: false,
            lost: Vec::new(),
            translations: Vec::new(),
            session: None,
            methods: methods::DEFAULT
                .iter()
                .map(|(i, n)| (*i, n.to_string()))
                .collect(),
            string_bytes: methods::DEFAULT.iter().map(|(_, n)| n.len() as u64).sum(),
        }
    }

    /// Sets the creation time (ns since the Unix epoch; for reproducible
    /// files).
    pub fn created_ns(&mut self, ns: i64) -> &mut IndexBuilder {
        self.created_ns = ns;
        self
    }

    fn strings(&mut self, s: &str) -> Result<(), BuildError> {
        self.string_bytes_added(s.len())
    }

    /// Counts `len` more bytes of strings against the format's limit.
    fn string_bytes_added(&mut self, len: usize) -> Result<(), BuildError> {
        self.string_bytes += len as u64;
        if self.string_bytes > STRINGS_LIMIT {
            return Err(BuildError::TooLarge {
                what: "more than 4 GiB of strings",
            });
        }
        Ok(())
    }

    /// Checks a pair's points: both added, different, a < b.
    fn pair_ok(&self, a: u16, b: u16) -> Result<(), BuildError> {
        self.point_ref(a)?;
        self.point_ref(b)?;
        if a == b {
            return Err(BuildError::SamePoint { point: a });
        }
        if a > b {
            return Err(BuildError::PairOrder { a, b });
        }
        Ok(())
    }

    fn point_ref(&self, point: u16) -> Result<&PointData, BuildError> {
        self.points
            .get(point as usize)
            .ok_or(BuildError::NoSuchPoint { point })
    }

    fn frame_ok(&self, point: u16, frame: u32) -> Result<(), BuildError> {
        let packets = self.point_ref(point)?.checks.len() as u32;
        if frame == 0 || frame > packets {
            return Err(BuildError::NoSuchFrame {
                point,
                frame,
                packets,
            });
        }
        Ok(())
    }

    /// Adds the next point in path order; returns its number.  `label`
    /// names it in the CSV and in Wireshark; `path` is the capture file (the
    /// index is never written over it).
    pub fn add_point(
        &mut self,
        label: &str,
        path: &str,
        file_size: u64,
    ) -> Result<u16, BuildError> {
        if self.points.len() >= points::MAX_POINTS {
            return Err(BuildError::TooManyPoints);
        }
        if !valid_name(label) {
            return Err(BuildError::BadName { name: label.into() });
        }
        if self.points.iter().any(|p| p.label == label) {
            return Err(BuildError::DuplicateLabel {
                label: label.into(),
            });
        }
        self.strings(label)?;
        self.strings(path)?;
        self.points.push(PointData {
            label: label.into(),
            path: path.into(),
            file_size,
            details: PointDetails::default(),
            ts: Vec::new(),
            checks: Vec::new(),
            peers: 0,
            lost: 0,
        });
        Ok((self.points.len() - 1) as u16)
    }

    /// Sets what the indexer found about `point` besides its frames: its
    /// capture drops, clock resolution, encapsulations, position as given.
    pub fn set_point_details(
        &mut self,
        point: u16,
        details: PointDetails,
    ) -> Result<(), BuildError> {
        let p = self
            .points
            .get_mut(point as usize)
            .ok_or(BuildError::NoSuchPoint { point })?;
        p.details = details;
        Ok(())
    }

    /// Sets the SESSION section: how the order was found, the topology,
    /// the evidence and warnings.
    pub fn set_session(&mut self, spec: SessionSpec) -> Result<(), BuildError> {
        let len = spec.evidence.len() + spec.warnings.len() + spec.clocks.len();
        let old = self
            .session
            .as_ref()
            .map_or(0, |s| s.evidence.len() + s.warnings.len() + s.clocks.len());
        self.string_bytes = self.string_bytes.saturating_sub(old as u64);
        self.string_bytes_added(len)?;
        self.session = Some(spec);
        Ok(())
    }

    /// Adds the next frame of `point` (time stamp ns since the epoch, its
    /// check); returns its frame number (from 1).
    pub fn add_frame(&mut self, point: u16, ts_ns: i64, check: u32) -> Result<u32, BuildError> {
        let p = self
            .points
            .get_mut(point as usize)
            .ok_or(BuildError::NoSuchPoint { point })?;
        if p.checks.len() >= u32::MAX as usize - 1 {
            return Err(BuildError::TooLarge {
                what: "more than 2^32-2 frames at one point",
            });
        }
        p.ts.push(ts_ns);
        p.checks.push(check);
        Ok(p.checks.len() as u32)
    }

    /// [`IndexBuilder::add_frame`] with the check computed from the frame:
    /// time stamp, captured length, its bytes (the first 32 are used).
    pub fn add_frame_bytes(
        &mut self,
        point: u16,
        ts_ns: i64,
        caplen: u32,
        bytes: &[u8],
    ) -> Result<u32, BuildError> {
        self.add_frame(point, ts_ns, checks::frame_check(ts_ns, caplen, bytes))
    }

    /// Frames added to `point` so far.
    pub fn packets(&self, point: u16) -> u32 {
        self.points
            .get(point as usize)
            .map_or(0, |p| p.checks.len() as u32)
    }

    /// Adds frames of `point` in bulk: time stamps and checks, equally
    /// many; the vectors are taken as they are when the point has none yet
    /// (no copy of a large capture's tables).  Returns the frame count.
    pub fn add_frames(
        &mut self,
        point: u16,
        ts: Vec<i64>,
        checks: Vec<u32>,
    ) -> Result<u32, BuildError> {
        let p = self
            .points
            .get_mut(point as usize)
            .ok_or(BuildError::NoSuchPoint { point })?;
        if ts.len() != checks.len() || p.checks.len() + checks.len() >= u32::MAX as usize - 1 {
            return Err(BuildError::TooLarge {
                what: "frame time stamps and checks of unequal length, or more than 2^32-2 frames at one point",
            });
        }
        if p.checks.is_empty() {
            p.ts = ts;
            p.checks = checks;
        } else {
            p.ts.extend(ts);
            p.checks.extend(checks);
        }
        Ok(p.checks.len() as u32)
    }

    /// The time stamp of a frame added to `point` (1-based), if there is one.
    pub fn frame_time(&self, point: u16, frame: u32) -> Option<i64> {
        let p = self.points.get(point as usize)?;
        p.ts.get((frame as usize).checked_sub(1)?).copied()
    }

    /// Sorts the matches and drops duplicates in place, so that writing
    /// needs no sorted copy of them (a large session's biggest table).
    /// Adding a match afterwards undoes it.
    pub fn prepare(&mut self) {
        // The pairs on every core, largest first; at most one pair a core
        // at a time, so that the sorts' copies (12 bytes per match) are
        // only the largest pairs' at once.
        let mut stores: Vec<&mut PairStore> = self.matches.values_mut().collect();
        stores.sort_by_key(|s| s.matches.len());
        let queue = std::sync::Mutex::new(stores);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let work = || loop {
            let next = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            match next {
                Some(store) => store.prepare(),
                None => break,
            }
        };
        // This thread is one of the workers (and all of them where the
        // system will not start another: a panic of scope.spawn before).
        std::thread::scope(|s| {
            for _ in 1..workers {
                if std::thread::Builder::new().spawn_scoped(s, work).is_err() {
                    break;
                }
            }
            work();
        });
        self.prepared = true;
    }

    /// Counts `n` more peer entries at points `a` and `b` (one per match
    /// side), or none when either would pass the format's limit.
    fn count_peers(&mut self, a: u16, b: u16, n: u64) -> Result<(), BuildError> {
        for p in [a, b] {
            if self.points[p as usize].peers + n > u32::MAX as u64 {
                return Err(BuildError::TooLarge {
                    what: "more than 2^32-1 peer entries at one point",
                });
            }
        }
        for p in [a, b] {
            self.points[p as usize].peers += n;
        }
        Ok(())
    }

    /// The raw delta of a match as the frames' time stamps give it.
    fn frame_delta(&self, a: u16, b: u16, m: &PairMatch) -> i64 {
        let t = |p: u16, f: u32| self.points[p as usize].ts[f as usize - 1];
        t(b, m.frame_b).saturating_sub(t(a, m.frame_a))
    }

    /// Adds many matches of pair (a, b), a < b, at once; their raw deltas
    /// are the differences of the frames' time stamps.  The vector is
    /// taken as it is when the pair has no matches yet (no copy of a large
    /// pair's matches).
    pub fn add_pair_matches(
        &mut self,
        a: u16,
        b: u16,
        matches: Vec<PairMatch>,
    ) -> Result<(), BuildError> {
        self.pair_ok(a, b)?;
        for m in &matches {
            self.frame_ok(a, m.frame_a)?;
            self.frame_ok(b, m.frame_b)?;
        }
        let n = matches.len() as u64;
        self.count_peers(a, b, n)?;
        let keep_deltas = self
            .matches
            .get(&(a, b))
            .is_some_and(|s| !s.deltas.is_empty());
        let implied: Vec<i64> = if keep_deltas {
            matches.iter().map(|m| self.frame_delta(a, b, m)).collect()
        } else {
            Vec::new()
        };
        let store = self.matches.entry((a, b)).or_default();
        if store.matches.is_empty() && !keep_deltas {
            store.matches = matches;
        } else {
            store.matches.extend_from_slice(&matches);
            store.deltas.extend(implied);
        }
        self.prepared = false;
        Ok(())
    }

    /// Sets (or replaces) the record of pair (a, b), a < b.
    pub fn set_pair(&mut self, a: u16, b: u16, spec: PairSpec) -> Result<(), BuildError> {
        self.pair_ok(a, b)?;
        if let Some(m) = spec.clock {
            // ClockModel::new clamps; refuse rather than store a clamped model.
            let d = m.drift_ppb();
            if d.abs() >= crate::DRIFT_LIMIT_PPB {
                return Err(BuildError::DriftOutOfRange { drift_ppb: d });
            }
        }
        self.pairs.insert((a, b), spec);
        Ok(())
    }

    /// Sets (or, with fewer than two segments, clears) the clock segments
    /// of pair (a, b), a < b, whose clocks stepped: the segments in order,
    /// the first starting at frames 1, the first frames strictly
    /// increasing at both points.  The pair's PAIRS record (made if
    /// missing) holds the first segment's model and bound.  Segments naming
    /// frames a point does not have when the index is written are left out.
    pub fn set_clock_segments(
        &mut self,
        a: u16,
        b: u16,
        segments: &[ClockSegment],
    ) -> Result<(), BuildError> {
        self.pair_ok(a, b)?;
        if segments.len() < 2 {
            self.clock_segments.remove(&(a, b));
            return Ok(());
        }
        for (k, s) in segments.iter().enumerate() {
            let d = s.model.drift_ppb();
            if d.abs() >= crate::DRIFT_LIMIT_PPB {
                return Err(BuildError::DriftOutOfRange { drift_ppb: d });
            }
            let in_order = match k {
                0 => s.a_from_frame == 1 && s.b_from_frame == 1,
                _ => {
                    let p = &segments[k - 1];
                    s.a_from_frame > p.a_from_frame && s.b_from_frame > p.b_from_frame
                }
            };
            if !in_order {
                return Err(BuildError::BadClockSegments { a, b, segment: k });
            }
        }
        let first = segments[0];
        let rec = self.pairs.entry((a, b)).or_default();
        rec.clock = Some(first.model);
        rec.offset_error_ns = first.offset_error_ns;
        self.clock_segments.insert((a, b), segments.to_vec());
        Ok(())
    }

    /// The segments of (a, b) that the index can hold (every first frame a
    /// frame of its point), if the pair has some.
    fn writable_segments(&self, a: u16, b: u16) -> Option<&[ClockSegment]> {
        let segs = self.clock_segments.get(&(a, b))?;
        let frames = |p: u16| {
            self.points
                .get(p as usize)
                .map_or(0, |d| d.checks.len() as u32)
                .max(1)
        };
        segs.iter()
            .all(|s| s.a_from_frame <= frames(a) && s.b_from_frame <= frames(b))
            .then_some(segs.as_slice())
    }

    /// Adds a match: frame `frame_a` of `point_a` and frame `frame_b` of
    /// `point_b` carry the same packet; `delta_raw_ns` = time at b − time at
    /// a as captured; `confidence` 0-255 ↔ 0-100 %.  Either point may come
    /// first.  Both points get a peer entry; a pair of frames added twice is
    /// kept once, with the highest confidence.
    #[allow(clippy::too_many_arguments)]
    pub fn add_match(
        &mut self,
        point_a: u16,
        frame_a: u32,
        point_b: u16,
        frame_b: u32,
        delta_raw_ns: i64,
        method: u8,
        confidence: u8,
    ) -> Result<(), BuildError> {
        self.frame_ok(point_a, frame_a)?;
        self.frame_ok(point_b, frame_b)?;
        if point_a == point_b {
            return Err(BuildError::SamePoint { point: point_a });
        }
        let (a, b, m, delta) = if point_a < point_b {
            let m = PairMatch::new(frame_a, frame_b, method, confidence);
            (point_a, point_b, m, delta_raw_ns)
        } else {
            let m = PairMatch::new(frame_b, frame_a, method, confidence);
            (point_b, point_a, m, delta_raw_ns.saturating_neg())
        };
        self.count_peers(a, b, 1)?;
        let implied = self.frame_delta(a, b, &m);
        let store = self.matches.entry((a, b)).or_default();
        // Deltas are kept only once one differs from the frames' times.
        if store.deltas.is_empty() && delta != implied {
            let ts = |p: u16, f: u32| self.points[p as usize].ts[f as usize - 1];
            store.deltas = store
                .matches
                .iter()
                .map(|m| ts(b, m.frame_b).saturating_sub(ts(a, m.frame_a)))
                .collect();
        }
        if !store.deltas.is_empty() || delta != implied {
            store.deltas.push(delta);
        }
        store.matches.push(m);
        self.prepared = false;
        Ok(())
    }

    /// Records that frame `frame` of `point` was not seen at `lost_at`, and
    /// why.  Added twice: kept once (the first kind in code order).
    pub fn add_lost(
        &mut self,
        point: u16,
        frame: u32,
        lost_at: u16,
        kind: LossKind,
    ) -> Result<(), BuildError> {
        self.frame_ok(point, frame)?;
        self.point_ref(lost_at)?;
        if point == lost_at {
            return Err(BuildError::SamePoint { point });
        }
        let d = &mut self.points[point as usize];
        if d.lost >= u32::MAX as u64 {
            return Err(BuildError::TooLarge {
                what: "more than 2^32-1 lost entries at one point",
            });
        }
        d.lost += 1;
        self.lost.push((
            point,
            Lost {
                frame,
                point: lost_at,
                kind,
            },
        ));
        Ok(())
    }

    /// Adds a translation (a < b: client side first).
    pub fn add_translation(&mut self, t: TranslationSpec) -> Result<(), BuildError> {
        self.pair_ok(t.a, t.b)?;
        let labels = (
            &self.points[t.a as usize].label,
            &self.points[t.b as usize].label,
        );
        let summary_len = t.summary_text(labels.0, labels.1).len();
        self.string_bytes_added(summary_len)?;
        if self.translations.len() == self.translations.capacity() {
            // Grown by a quarter, not doubled: a session may have one per
            // connection.
            self.translations
                .reserve_exact(self.translations.len() / 4 + 16);
        }
        self.translations.push(t);
        Ok(())
    }

    /// Names method `id` (replacing the default name, if any).
    pub fn set_method(&mut self, id: u8, name: &str) -> Result<(), BuildError> {
        if !valid_name(name) {
            return Err(BuildError::BadName { name: name.into() });
        }
        self.strings(name)?;
        self.methods.insert(id, name.into());
        Ok(())
    }

    /// The index file.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    /// Writes the index to `w`: made on a worker per core in jobs of about
    /// 1 MiB, written by this thread in file order (the module `write`
    /// says how), so that making the per-frame sections and copying them
    /// into the file (the kernel's copy into the page cache) overlap.
    /// Besides what the builder holds, writing needs each point's facts,
    /// the translations' summaries and the LOST section, 4 bytes per match
    /// (each pair's order by its b point's frames), the pieces in flight
    /// (at most two of about 1 MiB for each of three jobs per worker, and a
    /// few spares), and a sorted copy of the matches when
    /// [`IndexBuilder::prepare`] was not called.  Returns the bytes
    /// written.  A writer's error comes back as it is, with nothing written
    /// after it and no flush.
    pub fn write_to<W: Write>(&self, w: W) -> io::Result<u64> {
        write::write_to(self, w)
    }
}

/// File name endings of captures (and of compressed files, which may be
/// captures): an index is never written to such a name.
pub const CAPTURE_SUFFIXES: &[&str] = &[
    ".pcap", ".pcapng", ".ntar", ".cap", ".dmp", ".erf", ".snoop", ".trc", ".5vw", ".pkt", ".gz",
    ".zst", ".xz", ".bz2", ".lz4", ".zip", ".7z",
];

/// First bytes of files an index must never replace: pcap (both byte
/// orders, µs and ns), pcapng, gzip, zstd, xz, bzip2, lz4.
const CAPTURE_MAGICS: &[&[u8]] = &[
    &[0xD4, 0xC3, 0xB2, 0xA1],
    &[0xA1, 0xB2, 0xC3, 0xD4],
    &[0x4D, 0x3C, 0xB2, 0xA1],
    &[0xA1, 0xB2, 0x3C, 0x4D],
    &[0x0A, 0x0D, 0x0D, 0x0A],
    &[0x1F, 0x8B],
    &[0x28, 0xB5, 0x2F, 0xFD],
    &[0xFD, b'7', b'z', b'X', b'Z', 0x00],
    b"BZh",
    &[0x04, 0x22, 0x4D, 0x18],
];

fn refused(path: &Path, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "refusing to write the index to {}: {why} (choose a name ending in .pktmatch)",
            path.display()
        ),
    )
}

/// Refuses a path an index must not be written to: a capture-like name, one
/// of `protected` (the same file, also through links), an existing capture.
/// The command line checks it before writing an index to a file (its one
/// output writer does the writing: `pktmatch::output`).
pub fn refuse_capture_path(path: &Path, protected: &[&Path]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.is_empty() {
        return Err(refused(path, "not a file name".into()));
    }
    if let Some(s) = CAPTURE_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(refused(
            path,
            format!("the name ends in {s}, a capture file name"),
        ));
    }
    let canon = |p: &Path| -> Option<PathBuf> { fs::canonicalize(p).ok() };
    let target = canon(path);
    for p in protected {
        let same = p == &path || (target.is_some() && canon(p) == target);
        if same {
            return Err(refused(
                path,
                format!("it is the capture file of a point ({})", p.display()),
            ));
        }
    }
    if let Ok(mut f) = File::open(path) {
        let mut head = [0u8; 8];
        let mut n = 0;
        while n < head.len() {
            match io::Read::read(&mut f, &mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if CAPTURE_MAGICS
            .iter()
            .any(|m| n >= m.len() && head.starts_with(m))
        {
            return Err(refused(
                path,
                "the existing file there is a capture or a compressed file".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Matches already in order, each pair of frames once, stay as they
    /// are; others (out of order, a pair of frames twice) are sorted and
    /// keep the most confident of each pair of frames.
    #[test]
    fn prepare_leaves_ordered_matches_and_sorts_the_rest() {
        let m = |a, b, confidence| PairMatch::new(a, b, 1, confidence);
        for v in [
            vec![m(1, 2, 255), m(1, 3, 9), m(2, 1, 255)],
            vec![m(1, 2, 9), m(1, 2, 255), m(2, 1, 0)],
            vec![m(2, 1, 0), m(1, 2, 9)],
            vec![],
        ] {
            let mut want = v.clone();
            want.sort_unstable();
            want.dedup_by_key(|m| (m.frame_a, m.frame_b));
            let mut store = PairStore {
                matches: v,
                deltas: Vec::new(),
            };
            store.prepare();
            assert_eq!(store.matches, want);
        }
    }

    /// The counting sort gives `sort_unstable`'s order: dense and sparse
    /// frames, repeated frames and repeated matches, short lists.
    #[test]
    fn sort_matches_is_the_sorted_order() {
        let mut x = 0x853C_49E6_748F_EA9Bu64;
        let mut random = move |below: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % below
        };
        for (n, frames) in [(0, 1), (5, 3), (2000, 700), (5000, 5000), (3000, 100_000)] {
            let mut v: Vec<PairMatch> = (0..n)
                .map(|_| {
                    PairMatch::new(
                        1 + random(frames) as u32,
                        1 + random(frames) as u32,
                        random(4) as u8,
                        [255, 200, 0][random(3) as usize],
                    )
                })
                .collect();
            let copies: Vec<PairMatch> = v.iter().step_by(7).copied().collect();
            v.extend(copies);
            let mut want = v.clone();
            want.sort_unstable();
            sort_matches(&mut v);
            assert_eq!(v, want, "{n} matches over {frames} frames");
        }
    }
}
