//! [`IndexBuilder`]: collects a session and writes the index.

use crate::header::{self, entry_field, kind};
use crate::lost::{LossKind, Lost};
use crate::pairs::Missing;
use crate::peers::Peer;
use crate::points::PointDetails;
use crate::segments::{self, ClockSegment};
use crate::session::SessionSpec;
use crate::strings::Blob;
use crate::translations::TranslationSpec;
use crate::{
    align8, checks, lost, methods, pairs, peers, points, session, table_field, times, translations,
    valid_name, ClockModel,
};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

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
            self.matches.sort_unstable();
            self.matches.dedup_by_key(|m| (m.frame_a, m.frame_b));
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
        // Each pair's sort on a thread of its own (in place: no extra
        // memory), so that all cores share the work.
        std::thread::scope(|s| {
            for store in self.matches.values_mut() {
                s.spawn(|| store.prepare());
            }
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

    /// Writes the index to `w` as it is built: the per-frame sections go
    /// out in 1 MiB pieces, never as one buffer, so writing needs, besides
    /// what the builder holds, 4 bytes per frame of one point and 4 per
    /// match of the pairs where that point is b (and a sorted copy of the
    /// matches when [`IndexBuilder::prepare`] was not called), and the
    /// pieces in flight (at most [`PIPE_DEPTH`] + 3 of about [`PIECE`] bytes).
    /// Returns the bytes written.
    ///
    /// The bytes are made on a second thread and written by this one, so
    /// that copying them into the file (the kernel's copy into the page
    /// cache: about a third of the CPU time writing takes, by `perf`)
    /// overlaps making them.
    pub fn write_to<W: Write>(&self, mut w: W) -> io::Result<u64> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(PIPE_DEPTH);
        let (back, spare) = mpsc::channel::<Vec<u8>>();
        std::thread::scope(|s| {
            let made = s.spawn(move || {
                let mut c = Counting {
                    tx,
                    spare,
                    written: 0,
                    crc: crc32fast::Hasher::new(),
                };
                self.write_sections(&mut c)
            });
            let mut failed = None;
            for mut piece in rx.iter() {
                if let Err(e) = w.write_all(&piece) {
                    failed = Some(e);
                    break;
                }
                piece.clear();
                let _ = back.send(piece);
            }
            // A failed write ends the maker's next send.
            drop(rx);
            let made = match made.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            // Flushed here, so a failing last write is reported, not dropped
            // (not after a failed write: a buffered writer would try its
            // bytes again).
            match failed {
                Some(e) => Err(e),
                None => {
                    let flushed = w.flush();
                    made.and_then(|n| flushed.map(|()| n))
                }
            }
        })
    }

    /// The sections of [`IndexBuilder::write_to`], in file order, into `w`.
    fn write_sections(&self, w: &mut Counting) -> io::Result<u64> {
        let mut blob = Blob::default();
        let n = self.points.len();

        // POINTS
        let mut pts = Vec::with_capacity(table_field::LEN + n * points::field::record::LEN);
        pts.extend_from_slice(&(n as u32).to_le_bytes());
        pts.extend_from_slice(&(points::field::record::LEN as u32).to_le_bytes());
        for p in &self.points {
            let (l, path) = (blob.add(&p.label), blob.add(&p.path));
            points::write_record(
                &mut pts,
                &points::Record {
                    label: l,
                    path,
                    file_size: p.file_size,
                    packets: p.checks.len() as u32,
                    first_ts: p.ts.first().copied().unwrap_or(0),
                    last_ts: p.ts.last().copied().unwrap_or(0),
                    fingerprint: checks::checks_fingerprint(p.checks.iter().copied()),
                    details: p.details,
                },
            );
        }

        // SESSION
        let mut ses = Vec::new();
        if let Some(spec) = &self.session {
            let (e, w, c) = (
                blob.add(&spec.evidence),
                blob.add(&spec.warnings),
                blob.add(&spec.clocks),
            );
            session::write(&mut ses, spec, e, w, c);
        }

        // METHODS
        let mut meth = Vec::new();
        meth.extend_from_slice(&(self.methods.len() as u32).to_le_bytes());
        meth.extend_from_slice(&0u32.to_le_bytes());
        for (id, name) in &self.methods {
            let r = blob.add(name);
            methods::write_entry(&mut meth, *id, r);
        }

        // PAIRS
        let mut prs = Vec::new();
        prs.extend_from_slice(&(self.pairs.len() as u32).to_le_bytes());
        prs.extend_from_slice(&(pairs::field::LEN as u32).to_le_bytes());
        // CLOCK_SEGMENTS, when a pair's clocks stepped; its PAIRS record
        // repeats the first segment.
        let mut segs = Vec::new();
        segs.extend_from_slice(&0u32.to_le_bytes());
        segs.extend_from_slice(&(segments::field::LEN as u32).to_le_bytes());
        let mut seg_count = 0u32;
        for (&(a, b), spec) in &self.pairs {
            let mut spec = *spec;
            if let Some(list) = self.writable_segments(a, b) {
                spec.clock = Some(list[0].model);
                spec.offset_error_ns = list[0].offset_error_ns;
                for s in list {
                    segments::write_record(&mut segs, a, b, s);
                    seg_count += 1;
                }
            }
            pairs::write_record(&mut prs, a, b, &spec);
        }
        segs[..4].copy_from_slice(&seg_count.to_le_bytes());

        // TRANSLATIONS (stable sort: each pair's records in the order added)
        let mut tr_sorted: Vec<&TranslationSpec> = self.translations.iter().collect();
        tr_sorted.sort_by_key(|t| (t.a, t.b));
        let mut trs = Vec::new();
        trs.extend_from_slice(&(tr_sorted.len() as u32).to_le_bytes());
        trs.extend_from_slice(&(translations::field::LEN as u32).to_le_bytes());
        for t in tr_sorted {
            let labels = (
                &self.points[t.a as usize].label,
                &self.points[t.b as usize].label,
            );
            let r = blob.add(&t.summary_text(labels.0, labels.1));
            translations::write_record(&mut trs, t, r);
        }

        // FRAME_CHECKS, FRAME_TIMES and PEERS are most of the file: they are
        // written straight from the builder's vectors, never assembled.
        let total: usize = self.points.iter().map(|p| p.checks.len()).sum();
        let params: Vec<(i64, u8)> = self
            .points
            .iter()
            .map(|p| {
                let min = p.ts.iter().copied().min().unwrap_or(0);
                let max = p.ts.iter().copied().max().unwrap_or(0);
                times::choose(min, max)
            })
            .collect();
        let chk_len = 4 * total as u64;
        let tms_len = (times::field::HEADER_LEN + 16 * n + 4 * total) as u64;

        // PEERS: both directions of every match, per point grouped by frame
        // and within a frame sorted by (peer point, peer frame).  Written
        // point by point from the pairs' sorted matches, so besides them it
        // needs only one point's frame counts and, for the pairs where the
        // point is b, an order of their matches by b's frame.
        let copy;
        let stores: &BTreeMap<(u16, u16), PairStore> = if self.prepared {
            &self.matches
        } else {
            let mut c = self.matches.clone();
            c.values_mut().for_each(PairStore::prepare);
            copy = c;
            &copy
        };
        let entries: u64 = 2 * stores.values().map(|s| s.matches.len() as u64).sum::<u64>();
        let first_len = 8 + 4 * (total + n) as u64;
        let peers_len = align8(first_len) + 16 * entries;

        // LOST
        let mut lost_sorted = self.lost.clone();
        lost_sorted.sort_unstable_by_key(|(p, l)| (*p, l.frame, l.point, l.kind));
        lost_sorted.dedup_by_key(|(p, l)| (*p, l.frame, l.point));
        let mut lst = Vec::new();
        lst.extend_from_slice(&(n as u32).to_le_bytes());
        lst.extend_from_slice(&0u32.to_le_bytes());
        let mut counts = vec![0u32; n];
        for (p, _) in &lost_sorted {
            counts[*p as usize] += 1;
        }
        for c in counts {
            lst.extend_from_slice(&c.to_le_bytes());
        }
        lst.resize(align8(lst.len() as u64) as usize, 0);
        for (_, l) in &lost_sorted {
            lost::write_entry(&mut lst, l);
        }

        // Layout: header, section table, sections 8-aligned.
        let strings = blob.text.into_bytes();
        let mut lens: Vec<(u32, u64)> = vec![
            (kind::POINTS, pts.len() as u64),
            (kind::METHODS, meth.len() as u64),
            (kind::PAIRS, prs.len() as u64),
            (kind::TRANSLATIONS, trs.len() as u64),
            (kind::STRINGS, strings.len() as u64),
            (kind::FRAME_CHECKS, chk_len),
            (kind::FRAME_TIMES, tms_len),
            (kind::PEERS, peers_len),
            (kind::LOST, lst.len() as u64),
        ];
        if seg_count > 0 {
            lens.push((kind::CLOCK_SEGMENTS, segs.len() as u64));
        }
        if !ses.is_empty() {
            lens.push((kind::SESSION, ses.len() as u64));
        }
        // Last, so that it can cover every byte before it.
        lens.push((kind::CHECKSUM, header::checksum::LEN as u64));
        let table_end = header::field::LEN + lens.len() * entry_field::ENTRY_LEN;
        let mut offsets = Vec::with_capacity(lens.len());
        let mut at = align8(table_end as u64);
        for (_, len) in &lens {
            offsets.push(at);
            at = align8(at + len);
        }
        let total_len = at;
        let mut head = Vec::with_capacity(table_end);
        header::write(&mut head, total_len, self.created_ns, lens.len() as u32);
        for ((k, len), &o) in lens.iter().zip(&offsets) {
            header::write_entry(&mut head, *k, 0, o, *len);
        }
        w.write_all(&head)?;
        let mut buf: Vec<u8> = Vec::with_capacity(PIECE);
        for (i, ((k, _), &o)) in lens.iter().zip(&offsets).enumerate() {
            w.pad_to(o)?;
            match *k {
                kind::POINTS => w.write_all(&pts)?,
                kind::METHODS => w.write_all(&meth)?,
                kind::PAIRS => w.write_all(&prs)?,
                kind::TRANSLATIONS => w.write_all(&trs)?,
                kind::STRINGS => w.write_all(&strings)?,
                kind::FRAME_CHECKS => {
                    for p in &self.points {
                        for c in &p.checks {
                            buf.extend_from_slice(&c.to_le_bytes());
                            w.flush_when_full(&mut buf)?;
                        }
                    }
                }
                kind::FRAME_TIMES => {
                    buf.extend_from_slice(&(n as u32).to_le_bytes());
                    buf.extend_from_slice(&0u32.to_le_bytes());
                    for &(base, shift) in &params {
                        buf.extend_from_slice(&base.to_le_bytes());
                        buf.push(shift);
                        buf.extend_from_slice(&[0; 7]);
                    }
                    for (p, &(base, shift)) in self.points.iter().zip(&params) {
                        for &t in &p.ts {
                            buf.extend_from_slice(&times::encode(base, shift, t).to_le_bytes());
                            w.flush_when_full(&mut buf)?;
                        }
                    }
                }
                kind::PEERS => {
                    buf.extend_from_slice(&entries.to_le_bytes());
                    for p in 0..n as u16 {
                        self.write_first(p, stores, w, &mut buf)?;
                    }
                    w.write_all(&buf)?;
                    buf.clear();
                    w.pad_to(o + align8(first_len))?;
                    for p in 0..n as u16 {
                        self.write_peers(p, stores, w, &mut buf)?;
                    }
                }
                kind::LOST => w.write_all(&lst)?,
                kind::CLOCK_SEGMENTS => w.write_all(&segs)?,
                kind::SESSION => w.write_all(&ses)?,
                kind::CHECKSUM => {
                    let crc = w.crc.clone().finalize();
                    w.write_all(&header::checksum::section(crc))?;
                }
                _ => unreachable!("section {i} has a kind listed above"),
            }
            w.write_all(&buf)?;
            buf.clear();
        }
        w.pad_to(total_len)?;
        Ok(w.written)
    }

    /// PEERS' FIRST table of `point`: per frame the entries before it, then
    /// the point's total.
    fn write_first(
        &self,
        point: u16,
        stores: &BTreeMap<(u16, u16), PairStore>,
        w: &mut Counting,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let frames = self.points[point as usize].checks.len();
        // counts[f]: entries of frame f (1-based), turned into a running sum.
        let mut counts = vec![0u32; frames + 1];
        for (&(a, b), s) in stores {
            if a == point {
                s.matches
                    .iter()
                    .for_each(|m| counts[m.frame_a as usize] += 1);
            } else if b == point {
                s.matches
                    .iter()
                    .for_each(|m| counts[m.frame_b as usize] += 1);
            }
        }
        let mut before = 0u32;
        for &c in &counts[1..] {
            buf.extend_from_slice(&before.to_le_bytes());
            w.flush_when_full(buf)?;
            before += c;
        }
        buf.extend_from_slice(&before.to_le_bytes());
        Ok(())
    }

    /// PEERS' entries of `point`, frame by frame; within a frame the pairs
    /// with lower points first (there `point` is b), each pair's matches by
    /// peer frame.
    fn write_peers(
        &self,
        point: u16,
        stores: &BTreeMap<(u16, u16), PairStore>,
        w: &mut Counting,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        // One cursor per pair that holds the point: its matches in the
        // order of this point's frame, then of the peer's.
        struct Side<'s> {
            peer: u16,
            /// This point is the pair's a.
            is_a: bool,
            store: &'s PairStore,
            /// For a b side: match indexes by (frame b, frame a).
            order: Vec<u32>,
            next: usize,
        }
        let mut sides: Vec<Side> = Vec::new();
        for (&(a, b), s) in stores {
            if b == point {
                let order = by_frame_b(&s.matches, self.points[point as usize].checks.len());
                sides.push(Side {
                    peer: a,
                    is_a: false,
                    store: s,
                    order,
                    next: 0,
                });
            }
        }
        for (&(a, b), s) in stores {
            if a == point {
                sides.push(Side {
                    peer: b,
                    is_a: true,
                    store: s,
                    order: Vec::new(),
                    next: 0,
                });
            }
        }
        let frames = self.points[point as usize].checks.len() as u32;
        for f in 1..=frames {
            for side in &mut sides {
                let s = side.store;
                while side.next < s.matches.len() {
                    let k = if side.is_a {
                        side.next
                    } else {
                        side.order[side.next] as usize
                    };
                    let m = &s.matches[k];
                    let (this, peer_frame) = if side.is_a {
                        (m.frame_a, m.frame_b)
                    } else {
                        (m.frame_b, m.frame_a)
                    };
                    if this != f {
                        break;
                    }
                    let (a, b) = if side.is_a {
                        (point, side.peer)
                    } else {
                        (side.peer, point)
                    };
                    let delta = match s.deltas.get(k) {
                        Some(&d) => d,
                        None => self.frame_delta(a, b, m),
                    };
                    peers::write_entry(
                        buf,
                        &Peer {
                            point: side.peer,
                            frame: peer_frame,
                            method: m.method,
                            confidence: m.confidence(),
                            delta_raw_ns: if side.is_a {
                                delta
                            } else {
                                delta.saturating_neg()
                            },
                        },
                    );
                    w.flush_when_full(buf)?;
                    side.next += 1;
                }
            }
        }
        Ok(())
    }
}

/// Indexes of `matches` (sorted by frame a, then frame b, no two alike:
/// [`PairStore::prepare`]) in the order of (frame b, frame a): a stable
/// counting sort by frame b (`frames_b`: the b point's frame count), in
/// time linear in the matches and frames (it was a comparison sort of the
/// indexes).
fn by_frame_b(matches: &[PairMatch], frames_b: usize) -> Vec<u32> {
    // start[f]: the first slot of frame f's matches (frames are 1-based;
    // a frame number past the count only makes the table longer).
    let top = matches
        .iter()
        .map(|m| m.frame_b as usize)
        .max()
        .unwrap_or(0);
    let mut start = vec![0u32; frames_b.max(top) + 2];
    for m in matches {
        start[m.frame_b as usize + 1] += 1;
    }
    for f in 1..start.len() {
        start[f] += start[f - 1];
    }
    let mut order = vec![0u32; matches.len()];
    for (k, m) in matches.iter().enumerate() {
        let slot = &mut start[m.frame_b as usize];
        order[*slot as usize] = k as u32;
        *slot += 1;
    }
    order
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

/// Pieces of the index in flight from [`IndexBuilder::write_sections`] to
/// the thread that writes them.
const PIPE_DEPTH: usize = 4;

/// The size of a piece: large, because each one may wake the writing
/// thread, and on a busy machine a woken thread waits for a core (with
/// 64 KiB pieces writing the full-size bench session's 192 MB index took
/// 1.36 s against 0.84 s before the pipe, at load 7; with 1 MiB, 0.68 s
/// against 0.69 s).  At most about 7 MiB are in flight.
const PIECE: usize = 1 << 20;

/// A writer that counts, pads, checksums and hands a staging buffer (whole,
/// not copied) to the thread that writes the file.
struct Counting {
    tx: mpsc::SyncSender<Vec<u8>>,
    /// Emptied buffers coming back, to be filled again.
    spare: mpsc::Receiver<Vec<u8>>,
    written: u64,
    /// CRC-32 of everything written so far (for the CHECKSUM section).
    crc: crc32fast::Hasher,
}

impl Counting {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        if !b.is_empty() {
            self.send(b.to_vec())?;
        }
        Ok(())
    }
    fn send(&mut self, piece: Vec<u8>) -> io::Result<()> {
        self.crc.update(&piece);
        self.written += piece.len() as u64;
        self.tx
            .send(piece)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the index writer stopped"))
    }
    /// Zero bytes up to absolute offset `to`.
    fn pad_to(&mut self, to: u64) -> io::Result<()> {
        if self.written < to {
            self.write_all(&vec![0u8; (to - self.written) as usize])?;
        }
        Ok(())
    }
    /// Called after every entry: the test inlined, the hand-over not.
    #[inline(always)]
    fn flush_when_full(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        if buf.len() >= PIECE {
            self.hand_over(buf)?;
        }
        Ok(())
    }
    #[cold]
    #[inline(never)]
    fn hand_over(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(PIECE));
        let full = std::mem::replace(buf, next);
        self.send(full)
    }
}
