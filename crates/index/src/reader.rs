//! [`Index`]: a whole index, checked once by [`Index::load`], then read by
//! accessors that cannot fail.

use crate::header::{self, kind, Header};
use crate::lost::LostIter;
use crate::pairs::Pair;
use crate::peers::{Peer, Peers};
use crate::points::Point;
use crate::segments::ClockSegment;
use crate::session::Session;
use crate::translations::Translation;
use crate::{
    checks, clock, le32, lost, methods, pairs, peers, points, segments, session, strings, times,
    translations, ClockModel, Error, Result, Sec, Table,
};

/// Where one point's data lies in the per-frame sections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    packets: u32,
    /// Element index of frame 1 in FRAME_CHECKS and FRAME_TIMES.
    frame_start: usize,
    time_base: i64,
    time_shift: u8,
    /// Element index of first[0] in PEERS.
    first_start: usize,
    /// Index of the point's first peer entry.
    entry_start: usize,
    /// Index of the point's first LOST entry, and how many.
    lost_start: usize,
    lost_count: usize,
}

/// A loaded index: views into the bytes given to [`Index::load`] (an mmap of
/// the file, or a buffer), plus a small table per point.
#[derive(Clone, Debug)]
pub struct Index<'a> {
    bytes: &'a [u8],
    version: (u16, u16),
    flags: u32,
    created_ns: i64,
    strings: &'a str,
    points: Table<'a>,
    slots: Vec<Slot>,
    checks: &'a [u8],
    times: Option<&'a [u8]>,
    firsts: &'a [u8],
    peers: &'a [u8],
    pairs: Table<'a>,
    segments: Table<'a>,
    lost: &'a [u8],
    translations: Table<'a>,
    methods: &'a [u8],
    session: Option<Session<'a>>,
}

impl<'a> Index<'a> {
    /// Checks everything — header, section table, every length, offset,
    /// string reference, point and frame number, order, fingerprint — and
    /// returns the index.  O(size of the file).  Alignment is not needed:
    /// every field is read byte-wise, little-endian.
    pub fn load(bytes: &'a [u8]) -> Result<Index<'a>> {
        let h = Header::new_checked(bytes)?;
        let secs = h.sections()?;
        let find = |k: u32| -> Option<Sec<'a>> {
            secs.iter().find(|e| e.kind == k).map(|e| Sec {
                bytes: &bytes[e.offset as usize..(e.offset + e.len) as usize],
                base: e.offset,
                what: kind::what(k),
            })
        };
        let require = |k: u32| -> Result<Sec<'a>> {
            find(k).ok_or_else(|| Error::Invalid {
                offset: h.header_len() as u64,
                what: "section table",
                detail: format!(
                    "no {} section (every index has STRINGS, POINTS, FRAME_CHECKS and PEERS)",
                    kind::name(k).unwrap_or("?")
                ),
            })
        };
        let strings = strings::check(require(kind::STRINGS)?)?;
        let methods = match find(kind::METHODS) {
            Some(s) => methods::check(s, strings)?,
            None => &[],
        };
        let pts = points::check(require(kind::POINTS)?, strings)?;
        let views: Vec<Point<'a>> = (0..pts.count)
            .map(|i| Point::new(pts.record(i), strings, i as u16))
            .collect();
        let meta: Vec<(u32, u64, &str)> = views
            .iter()
            .map(|p| (p.packets(), p.fingerprint(), p.label()))
            .collect();
        let packets: Vec<u32> = meta.iter().map(|m| m.0).collect();
        let checks = checks::check(require(kind::FRAME_CHECKS)?, &meta)?;
        let (time_params, times) = match find(kind::FRAME_TIMES) {
            Some(s) => {
                let (p, v) = times::check(s, &packets)?;
                (p, Some(v))
            }
            None => (vec![(0, 0); packets.len()], None),
        };
        let pairs = match find(kind::PAIRS) {
            Some(s) => pairs::check(s, pts.count)?,
            None => Table::default(),
        };
        let segments = match find(kind::CLOCK_SEGMENTS) {
            Some(s) => segments::check(s, &pairs, &packets)?,
            None => Table::default(),
        };
        let labelled: Vec<(u32, &str)> = meta.iter().map(|m| (m.0, m.2)).collect();
        let peers = peers::check(require(kind::PEERS)?, &labelled)?;
        let (lost_points, lost) = match find(kind::LOST) {
            Some(s) => lost::check(s, &packets)?,
            None => (vec![(0, 0); packets.len()], &[][..]),
        };
        let translations = match find(kind::TRANSLATIONS) {
            Some(s) => translations::check(s, pts.count, strings)?,
            None => Table::default(),
        };
        let session = match find(kind::SESSION) {
            Some(s) => session::check(s, strings)?,
            None => None,
        };
        // Last: a damaged structure is better named by its own check than
        // by the checksum; the checksum catches the damage every structure
        // check lets through (a frame number, time stamp or address).
        match find(kind::CHECKSUM) {
            Some(s) => header::checksum::verify(bytes, s.base, s.bytes.len() as u64)?,
            None => {
                return Err(Error::Invalid {
                    offset: h.header_len() as u64,
                    what: "section table",
                    detail: "no CHECKSUM section, which every index of format 2 ends in".into(),
                })
            }
        }
        let mut slots = Vec::with_capacity(pts.count);
        let mut frame_start = 0usize;
        for i in 0..pts.count {
            slots.push(Slot {
                packets: packets[i],
                frame_start,
                time_base: time_params[i].0,
                time_shift: time_params[i].1,
                first_start: peers.points[i].first_start,
                entry_start: peers.points[i].entry_start,
                lost_start: lost_points[i].0,
                lost_count: lost_points[i].1,
            });
            frame_start += packets[i] as usize;
        }
        Ok(Index {
            bytes,
            version: h.version(),
            flags: h.flags(),
            created_ns: h.created_ns(),
            strings,
            points: pts,
            slots,
            checks,
            times,
            firsts: peers.firsts,
            peers: peers.entries,
            pairs,
            segments,
            lost,
            translations,
            methods,
            session,
        })
    }

    /// What the indexer found about the session as a whole (how the order
    /// was found, the topology), if the index says.
    pub fn session(&self) -> Option<Session<'a>> {
        self.session
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// (major, minor) format version of the file.
    pub fn version(&self) -> (u16, u16) {
        self.version
    }

    /// Header flags.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// When the index was written, ns since the Unix epoch.
    pub fn created_ns(&self) -> i64 {
        self.created_ns
    }

    /// Number of points.
    pub fn point_count(&self) -> usize {
        self.points.count
    }

    /// The points in path order.
    pub fn points(&self) -> impl ExactSizeIterator<Item = Point<'a>> + 'a {
        let (t, s) = (self.points, self.strings);
        (0..t.count).map(move |i| Point::new(t.record(i), s, i as u16))
    }

    /// Point `i`.
    pub fn point(&self, i: u16) -> Option<Point<'a>> {
        (usize::from(i) < self.points.count)
            .then(|| Point::new(self.points.record(i as usize), self.strings, i))
    }

    /// The point labelled `label`.
    pub fn point_by_label(&self, label: &str) -> Option<Point<'a>> {
        self.points().find(|p| p.label() == label)
    }

    /// Frames of point `i` (0 when there is no such point).
    pub fn packets(&self, point: u16) -> u32 {
        self.slots.get(point as usize).map_or(0, |s| s.packets)
    }

    /// Frames of all points.
    pub fn total_packets(&self) -> u64 {
        self.slots.iter().map(|s| s.packets as u64).sum()
    }

    /// File bytes per frame (all points together).
    pub fn bytes_per_packet(&self) -> f64 {
        self.bytes.len() as f64 / self.total_packets().max(1) as f64
    }

    /// The slot of (point, frame) if the frame exists: (slot, frame index
    /// from 0).
    fn frame(&self, point: u16, frame: u32) -> Option<(&Slot, usize)> {
        let s = self.slots.get(point as usize)?;
        (frame >= 1 && frame <= s.packets).then(|| (s, frame as usize - 1))
    }

    /// The check of frame `frame` (1-based) of `point`.
    pub fn check(&self, point: u16, frame: u32) -> Option<u32> {
        let (s, f) = self.frame(point, frame)?;
        Some(le32(self.checks, 4 * (s.frame_start + f)))
    }

    /// True when the frame exists at `point` and has this check.
    pub fn verify(&self, point: u16, frame: u32, check: u32) -> bool {
        self.check(point, frame) == Some(check)
    }

    /// The frame's time stamp as stored in FRAME_TIMES (within 2^(shift-1) ns;
    /// None without that section).
    pub fn frame_time_ns(&self, point: u16, frame: u32) -> Option<i64> {
        let (s, f) = self.frame(point, frame)?;
        let t = self.times?;
        let v = le32(t, 4 * (s.frame_start + f));
        Some(times::decode(s.time_base, s.time_shift, v))
    }

    /// The peers of frame `frame` (1-based) of `point`, sorted by (peer
    /// point, peer frame).  Empty for a frame without peers or out of range.
    pub fn peers(&self, point: u16, frame: u32) -> Peers<'a> {
        let Some((s, f)) = self.frame(point, frame) else {
            return Peers::new(&[]);
        };
        let lo = le32(self.firsts, 4 * (s.first_start + f)) as usize;
        let hi = le32(self.firsts, 4 * (s.first_start + f + 1)) as usize;
        let e = peers::field::entry::LEN;
        Peers::new(&self.peers[(s.entry_start + lo) * e..(s.entry_start + hi) * e])
    }

    /// Peer entries of a point (all its frames).
    pub fn peer_count(&self, point: u16) -> usize {
        self.slots.get(point as usize).map_or(0, |s| {
            le32(self.firsts, 4 * (s.first_start + s.packets as usize)) as usize
        })
    }

    /// The pair (a, b), in either order.
    pub fn pair(&self, a: u16, b: u16) -> Option<Pair<'a>> {
        pairs::find(&self.pairs, a.min(b), a.max(b))
    }

    /// Every pair, sorted by (a, b).
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = Pair<'a>> + 'a {
        let t = self.pairs;
        (0..t.count).map(move |i| Pair::new(t.record(i)))
    }

    /// The clock model from `this` point to `peer` (inverted when this >
    /// peer): the PAIRS record's, which is the first segment's when the
    /// clocks stepped.  [`Index::clock_at`] gives the model of a frame.
    pub fn clock(&self, this: u16, peer: u16) -> Option<ClockModel> {
        let m = self.pair(this, peer)?.clock()?;
        Some(if this < peer { m } else { m.inverse() })
    }

    /// The clock segments of pair (a, b), either order, oriented from the
    /// lower point to the higher (as stored): empty when the pair has no
    /// step (its PAIRS record is then the whole model).
    pub fn clock_segments(
        &self,
        a: u16,
        b: u16,
    ) -> impl ExactSizeIterator<Item = ClockSegment> + 'a {
        let t = self.segments;
        segments::range(&t, a.min(b), a.max(b)).map(move |i| ClockSegment::read(t.record(i)))
    }

    /// The clock model from `this` to `peer` in force at frame `frame` of
    /// `this` (the segment whose first frame at `this` is the last one not
    /// after it; [`Index::clock`] when the pair has no step).
    pub fn clock_at(&self, this: u16, frame: u32, peer: u16) -> Option<ClockModel> {
        let m = self.clock(this, peer)?;
        let lower = this < peer;
        let seg = self
            .clock_segments(this, peer)
            .take_while(|s| {
                let from = if lower {
                    s.a_from_frame
                } else {
                    s.b_from_frame
                };
                from <= frame
            })
            .last();
        Some(match seg {
            Some(s) if lower => s.model,
            Some(s) => s.model.inverse(),
            None => m,
        })
    }

    /// The clock model from `this` to `peer` for a time stamp `ts_ns` of
    /// `this` when the frame is not known: the segment whose frames at
    /// `this` (their FRAME_TIMES) span `ts_ns`, the later one where two
    /// do (after a step backwards of this point's clock, the repeated
    /// readings); else the last one starting before it.  [`Index::clock_at`]
    /// is exact.
    pub fn clock_at_time(&self, this: u16, ts_ns: i64, peer: u16) -> Option<ClockModel> {
        let m = self.clock(this, peer)?;
        let lower = this < peer;
        let segs: Vec<ClockSegment> = self.clock_segments(this, peer).collect();
        let from = |s: &ClockSegment| {
            if lower {
                s.a_from_frame
            } else {
                s.b_from_frame
            }
        };
        let start = |k: usize| {
            let s = &segs[k];
            self.frame_time_ns(this, from(s)).unwrap_or(if lower {
                s.from_ns
            } else {
                s.model.peer_time(s.from_ns)
            })
        };
        let end = |k: usize| {
            let last = segs
                .get(k + 1)
                .map_or(self.packets(this), |n| from(n).saturating_sub(1));
            self.frame_time_ns(this, last).unwrap_or(i64::MAX)
        };
        let k = (0..segs.len())
            .rev()
            .find(|&k| start(k) <= ts_ns && ts_ns <= end(k))
            .or_else(|| (0..segs.len()).rev().find(|&k| start(k) <= ts_ns));
        Some(match k.map(|k| segs[k]) {
            Some(s) if lower => s.model,
            Some(s) => s.model.inverse(),
            None => m,
        })
    }

    /// The corrected delta of a peer of frame `frame` of `point`, whose
    /// time stamp is `this_ts_ns`, with the clock segment of that frame
    /// (None without a clock model for the pair).
    pub fn corrected_delta(
        &self,
        point: u16,
        frame: u32,
        peer: &Peer,
        this_ts_ns: i64,
    ) -> Option<i64> {
        let m = self.clock_at(point, frame, peer.point)?;
        Some(clock::corrected_delta(peer.delta_raw_ns, this_ts_ns, &m))
    }

    /// Where frame `frame` of `point` was lost (points it should have
    /// reached and was not seen at).
    pub fn lost(&self, point: u16, frame: u32) -> LostIter<'a> {
        LostIter::new(lost::of_frame(self.lost_entries(point), frame))
    }

    /// Every lost entry of `point`, sorted by frame.
    pub fn lost_all(&self, point: u16) -> LostIter<'a> {
        LostIter::new(self.lost_entries(point))
    }

    fn lost_entries(&self, point: u16) -> &'a [u8] {
        let e = lost::field::entry::LEN;
        match self.slots.get(point as usize) {
            Some(s) => &self.lost[s.lost_start * e..(s.lost_start + s.lost_count) * e],
            None => &[],
        }
    }

    /// The translations between a and b (either order).
    pub fn translations(
        &self,
        a: u16,
        b: u16,
    ) -> impl ExactSizeIterator<Item = Translation<'a>> + 'a {
        let (t, s) = (self.translations, self.strings);
        translations::range(&t, a.min(b), a.max(b)).map(move |i| Translation::new(t.record(i), s))
    }

    /// Every translation, sorted by (a, b).
    pub fn all_translations(&self) -> impl ExactSizeIterator<Item = Translation<'a>> + 'a {
        let (t, s) = (self.translations, self.strings);
        (0..t.count).map(move |i| Translation::new(t.record(i), s))
    }

    /// The name of a match method, if the METHODS section has it.
    pub fn method_name(&self, method: u8) -> Option<&'a str> {
        methods::name(self.methods, self.strings, method)
    }

    /// Every (method id, name), sorted by id.
    pub fn methods(&self) -> impl ExactSizeIterator<Item = (u8, &'a str)> + 'a {
        let (m, s) = (self.methods, self.strings);
        m.chunks_exact(methods::field::entry::LEN).map(move |e| {
            (
                e[methods::field::entry::ID],
                strings::get(
                    s,
                    le32(e, methods::field::entry::NAME_OFF.start),
                    le32(e, methods::field::entry::NAME_LEN.start),
                ),
            )
        })
    }
}
