//! A [`PointTable`] from frames read elsewhere: the per-frame keys of a
//! key table (the `engine` crate's Parquet files) instead of a capture.
//! Each frame goes through the same steps as in [`super::read_point`]
//! (`keyed` opens or finds the connection, `group` sorts by connection), so
//! the table — and the index matched from it — is the same as the one read
//! from the capture; the `engine` crate's tests check that whole indexes
//! are equal byte for byte.

use super::{
    group, keyed, lookup_bytes, make_room, mirrored_point, more_room, tcp_payload, Current, Msg,
    MsgKind, PointTable, Rec, Times, LONG_LEN, NO_CONN,
};
use capture::{FlowKey, PacketKey};

/// Most frames without a packet [`TableBuilder::push`] fills in at once.
pub const MAX_GAP: u64 = 1 << 20;

/// One frame of a key table.
#[derive(Clone, Copy, Debug)]
pub struct FrameRow<'a> {
    /// 1-based frame number; frames must come in increasing order (a gap
    /// is a frame without a packet: a pcapng journal or custom block).
    pub frame: u32,
    /// Capture time, ns since the epoch ([`capture::Packet::ts_ns`]).
    pub ts_ns: i64,
    /// The index's check of the frame ([`index::frame_check`]).
    pub check: u32,
    /// The keys [`capture::extract`] took, if any.
    pub keys: Option<(&'a FlowKey, &'a PacketKey)>,
    /// What the start of the TCP payload says ([`crate::payload::sniff`]),
    /// for any TCP packet with a payload (kept only where
    /// [`super::read_point`] keeps it).
    pub msg: Option<(MsgKind, u64)>,
}

/// Builds a [`PointTable`] frame by frame (the capture reader
/// [`super::read_point`] and key tables alike).
pub struct TableBuilder {
    t: PointTable,
    current: Current,
    /// The tuple of the last keyed frame and its connection
    /// ([`super::Last`]).
    last: super::Last,
    conn_of: Vec<u32>,
    last_ts: i64,
    /// The size of the capture being read, to size the per-frame vectors
    /// ([`super::make_room`]); None: not known.
    size: Option<u64>,
}

impl TableBuilder {
    /// A builder expecting about `frames` frames.
    pub fn with_capacity(frames: usize) -> TableBuilder {
        let t = PointTable {
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            recs: Vec::with_capacity(frames),
            ts: Times::with_capacity(frames),
            ..Default::default()
        };
        TableBuilder {
            t,
            current: Current::default(),
            last: None,
            conn_of: Vec::with_capacity(frames),
            last_ts: 0,
            size: None,
        }
    }

    /// A builder for a capture file of `size` bytes (None: compressed, or
    /// not a regular file): [`TableBuilder::add`] grows the per-frame
    /// vectors to what the bytes read so far predict.
    pub(crate) fn for_capture(size: Option<u64>) -> TableBuilder {
        TableBuilder {
            size,
            ..TableBuilder::with_capacity(0)
        }
    }

    /// Bytes a table of `frames` frames needs at most while it is built:
    /// per frame its record and time stamp (`whole_blocks` of its blocks
    /// keep theirs whole: [`super::WholeBlocks`]), and the connection of
    /// each frame beside the grouping by connection that [`Self::finish`]
    /// makes of it; the checks, in memory until they go to a file, or all
    /// of them without a file (`checks_file`: [`super::Checks::file_possible`]).
    /// Connections and messages are not counted: see
    /// [`PointTable::heap_bytes`] once built.
    pub fn bytes_for(frames: usize, whole_blocks: usize, checks_file: bool) -> usize {
        use std::mem::size_of;
        let per_frame = size_of::<Rec>() + 2 * size_of::<u32>();
        let checks = match checks_file {
            true => super::checks::SPILL_FRAMES,
            false => frames.max(super::checks::SPILL_FRAMES),
        };
        frames
            .saturating_mul(per_frame)
            .saturating_add(Times::bytes_for(frames, whole_blocks))
            .saturating_add(checks.saturating_mul(size_of::<u32>()))
    }

    /// Bytes the table holds on the heap while it is built, and the most
    /// that finishing it holds: what is in it
    /// ([`PointTable::heap_bytes`]), each frame's connection, and the
    /// larger of the lookup of open connections and the grouping by
    /// connection that [`Self::finish`] makes once it has given the lookup
    /// back (a word a frame and two a connection).  What `pktmatch index
    /// --memory-limit` watches while a capture is read
    /// ([`super::read_point_within`]).
    pub fn held_bytes(&self) -> usize {
        use std::mem::size_of;
        let t = &self.t;
        let grouping = (t.recs.len() + 2 * t.conns.len()) * size_of::<u32>();
        t.heap_bytes()
            + self.conn_of.capacity() * size_of::<u32>()
            + lookup_bytes(&self.current).max(grouping)
    }

    /// Bytes the table grows by before the next frame of a capture, read
    /// at `read` (0: there is room): the per-frame vectors ([`make_room`];
    /// placeholders for frames without a packet take the same room), the
    /// connections' lookup and list, and the message starts (`msg`: the
    /// frame starts one) and long lengths (`long`: it has one).
    pub(crate) fn growth(&self, read: u64, msg: bool, long: bool) -> usize {
        use std::mem::size_of;
        let more = more_room(&self.t, self.conn_of.capacity(), read, self.size);
        let frames = match more {
            0 => 0,
            _ => more * (size_of::<Rec>() + size_of::<u32>()) + Times::bytes_for(more, 0),
        };
        // A full lookup or list of connections grows at the next new
        // connection: the lookup into a table twice the size (moved into
        // it, the old one given back after), the list by doubling.
        let lookup = match self.current.len() == self.current.capacity() {
            true => 2 * lookup_bytes(&self.current).max(16),
            false => 0,
        };
        let conns = &self.t.conns;
        let listed = match conns.len() == conns.capacity() {
            true => conns.capacity().max(16) * size_of::<super::Conn>(),
            false => 0,
        };
        // Pushed into when full, by doubling (at least 4).
        let doubled = |len: usize, cap: usize, size: usize, pushed: bool| match pushed && len == cap
        {
            true => cap.max(4) * size,
            false => 0,
        };
        let t = &self.t;
        let msgs = doubled(t.msgs.len(), t.msgs.capacity(), size_of::<Msg>(), msg);
        let long_lens = t.long_lens.len();
        let longs = doubled(
            long_lens,
            t.long_lens.capacity(),
            size_of::<(u32, u32)>(),
            long,
        );
        frames + lookup + listed + msgs + longs
    }

    /// Grows a full lookup or list of connections now, as the next new
    /// connection would ([`Self::growth`] told them first): full, they
    /// would be told again at every frame until then.
    pub(crate) fn grow_ahead(&mut self) {
        if self.current.len() == self.current.capacity() {
            self.current.reserve(self.current.capacity().max(16));
        }
        let conns = &mut self.t.conns;
        if conns.len() == conns.capacity() {
            conns.reserve_exact(conns.capacity().max(16));
        }
    }

    /// [`Self::bytes_for`] a capture of about `frames` frames, as its
    /// reading reserves them: the per-frame vectors grown to the
    /// prediction and 2 % and 1,024 frames more ([`make_room`]), each
    /// point's checks in memory until they go to their file.
    pub fn reading_bytes(frames: usize, checks_file: bool) -> usize {
        let room = frames.saturating_add(frames / 50).saturating_add(1024);
        Self::bytes_for(room, 0, checks_file)
    }

    /// Of [`Self::held_bytes`], the room not filled yet: the per-frame
    /// vectors' (grown ahead to the file's prediction), the checks' in
    /// memory, and the connections' lookup's and list's (grown by
    /// doubling).
    pub fn unused_bytes(&self) -> usize {
        use std::mem::size_of;
        let t = &self.t;
        let n = t.recs.len();
        let recs = (t.recs.capacity() - n) * size_of::<Rec>();
        let conn_of = (self.conn_of.capacity() - n) * size_of::<u32>();
        let ts = Times::bytes_for(t.ts.capacity().saturating_sub(n), 0);
        let c = &self.current;
        let lookup = lookup_bytes(c) / c.capacity().max(1) * (c.capacity() - c.len());
        let conns = (t.conns.capacity() - t.conns.len()) * size_of::<super::Conn>();
        recs + conn_of + ts + lookup + conns + t.checks.room_bytes()
    }

    /// Connections so far.
    pub fn conns(&self) -> usize {
        self.t.conns.len()
    }

    /// Frames so far (including placeholders for gaps).
    pub fn frames(&self) -> u32 {
        self.t.recs.len() as u32
    }

    /// Adds one frame.  Refuses a frame number not above the last one.
    pub fn push(&mut self, row: &FrameRow<'_>) -> Result<(), String> {
        let have = self.t.recs.len() as u64;
        if u64::from(row.frame) <= have {
            return Err(format!(
                "frame {} after frame {have}: frames must be in increasing order",
                row.frame
            ));
        }
        // Frames without a packet are a few journal or custom blocks, not
        // millions: a bigger gap is a damaged table, not a reason to fill
        // memory with placeholders.
        if u64::from(row.frame) - have > MAX_GAP {
            return Err(format!(
                "frame {} after frame {have}: more than {MAX_GAP} frames missing",
                row.frame
            ));
        }
        self.fill_to(row.frame, None);
        // The connection lookup trusts the key's connection hash, which
        // capture::extract computes from the flow; a key table's is taken
        // from the flow again (a damaged table must not split connections).
        let fixed;
        let keys = match row.keys {
            Some((flow, key)) if key.conn_hash != flow.conn_hash() => {
                fixed = PacketKey {
                    conn_hash: flow.conn_hash(),
                    ..*key
                };
                Some((flow, &fixed))
            }
            keys => keys,
        };
        self.add(row.ts_ns, row.check, keys, || row.msg, None);
        Ok(())
    }

    /// Placeholders for the frames before `frame` not yet added: frames
    /// Wireshark numbers but that hold no packet (pcapng journal and custom
    /// blocks), so that `recs[f - 1]` stays frame `f`.  `read`: the file
    /// offset reached, when reading a capture.
    pub(crate) fn fill_to(&mut self, frame: u32, read: Option<u64>) {
        while (self.t.recs.len() as u64) + 1 < u64::from(frame) {
            self.room(read);
            let t = &mut self.t;
            t.checks.push(0);
            t.ts.push(self.last_ts);
            t.recs.push(Rec::default());
            self.conn_of.push(NO_CONN);
        }
    }

    /// Adds the next frame: its time stamp, its index check and its keys
    /// (whose `conn_hash` is the flow's, as [`capture::extract`] makes it);
    /// `msg` is asked for what the start of its payload says only where
    /// the table keeps it (a TCP packet with a payload).  `read`: the
    /// file offset of the frame, when reading a capture.  Returns the
    /// frame's index in `recs`.
    pub(crate) fn add(
        &mut self,
        ts_ns: i64,
        check: u32,
        keys: Option<(&FlowKey, &PacketKey)>,
        msg: impl FnOnce() -> Option<(MsgKind, u64)>,
        read: Option<u64>,
    ) -> u32 {
        self.room(read);
        let t = &mut self.t;
        self.last_ts = ts_ns;
        t.checks.push(check);
        t.first_ts = t.first_ts.min(ts_ns);
        t.last_ts = t.last_ts.max(ts_ns);
        let idx = t.recs.len() as u32;
        let conn = match keys {
            Some((flow, key)) => {
                t.encap |= key.encap;
                let conn = keyed(t, &mut self.current, &mut self.last, ts_ns, flow, key);
                // The record's LONG_LEN, and is_tcp() && has_payload(),
                // from the key.
                if key.l4_len >= u32::from(LONG_LEN) {
                    t.long_lens.push((idx, key.l4_len));
                }
                if tcp_payload(key) {
                    if let Some((kind, value)) = msg() {
                        t.msgs.push(Msg::new(idx, conn, kind, value));
                    }
                }
                conn
            }
            None => {
                t.recs.push(Rec::default());
                NO_CONN
            }
        };
        self.conn_of.push(conn);
        t.ts.push(ts_ns);
        idx
    }

    /// Room for one more frame when reading a capture (at `read`).
    fn room(&mut self, read: Option<u64>) {
        if let Some(read) = read {
            make_room(&mut self.t, &mut self.conn_of, read, self.size);
        }
    }

    /// The table; `truncated`: the capture ended in damaged data (what
    /// and where), as [`PointTable::truncated`].
    pub fn finish(self, truncated: Option<String>) -> PointTable {
        let mut t = self.t;
        if t.recs.is_empty() {
            t.first_ts = 0;
            t.last_ts = 0;
        }
        t.truncated = truncated;
        t.recs.shrink_to_fit();
        t.ts.shrink_to_fit();
        t.checks.finish();
        t.msgs.shrink_to_fit();
        t.long_lens.shrink_to_fit();
        t.conns.shrink_to_fit();
        drop(self.current);
        group(&mut t, self.conn_of);
        t.mirrored = mirrored_point(&t);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frame: u32) -> FrameRow<'static> {
        FrameRow {
            frame,
            ts_ns: i64::from(frame) * 1000,
            check: frame,
            keys: None,
            msg: None,
        }
    }

    #[test]
    fn gaps_are_filled_and_disorder_refused() {
        let mut b = TableBuilder::with_capacity(4);
        b.push(&row(1)).unwrap();
        b.push(&row(4)).unwrap();
        assert_eq!(b.frames(), 4);
        assert!(b.push(&row(4)).unwrap_err().contains("increasing"));
        assert!(b.push(&row(3)).is_err());
        let e = b.push(&row(5 + MAX_GAP as u32)).unwrap_err();
        assert!(e.contains("missing"), "{e}");
        let t = b.finish(None);
        // placeholders: check 0, the previous frame's time, no connection
        assert!(t.checks == [1, 0, 0, 4]);
        assert_eq!(t.ts, [1000, 1000, 1000, 4000]);
        assert!(t.conns.is_empty());
    }

    /// Payloads of 65,535 bytes or more (a GRO super packet, a jumbogram)
    /// keep their whole length, and two records differing only there are
    /// not equal.
    #[test]
    fn long_payloads_keep_their_length() {
        let flow = FlowKey {
            proto: 17,
            sport: 4000,
            dport: 5000,
            ..Default::default()
        };
        let mut b = TableBuilder::with_capacity(4);
        for (frame, len) in [(1u32, 100u32), (2, 65_535), (3, 200_000), (4, 300_000)] {
            let key = PacketKey {
                proto: 17,
                l4_len: len,
                ..Default::default()
            };
            b.push(&FrameRow {
                frame,
                ts_ns: 1000,
                check: frame,
                keys: Some((&flow, &key)),
                msg: None,
            })
            .unwrap();
        }
        let t = b.finish(None);
        let lens: Vec<u32> = (0..4).map(|i| t.len(i)).collect();
        assert_eq!(lens, [100, 65_535, 200_000, 300_000]);
        assert_eq!(t.recs[2].len16, LONG_LEN);
        assert_eq!(t.recs[2], t.recs[3], "the records alone look alike");
        assert!(!t.same_rec(2, 3));
        assert!(t.same_rec(2, 2));
        assert_eq!(t.long_lens.len(), 3);
    }

    /// The message starts and long lengths grow by doubling when a frame
    /// that adds one finds them full: [`TableBuilder::growth`] tells that
    /// growth before the frame is added (so `--memory-limit` sees it
    /// before it is made), and nothing for a frame that adds none.
    #[test]
    fn message_starts_and_long_lengths_growth_told_before_it_is_made() {
        use std::mem::size_of;
        let flow = FlowKey {
            proto: 6,
            sport: 40000,
            dport: 80,
            ..Default::default()
        };
        let mut b = TableBuilder::with_capacity(64);
        let mut told = Vec::new();
        for frame in 1..=40u32 {
            let key = PacketKey {
                proto: 6,
                l4_len: 70_000,
                seq: frame * 70_000,
                ..Default::default()
            };
            let read = u64::from(frame) * 100;
            let (msgs, longs) = (&b.t.msgs, &b.t.long_lens);
            let full = (
                msgs.len() == msgs.capacity(),
                longs.len() == longs.capacity(),
            );
            let told_both = b.growth(read, true, true);
            let told_none = b.growth(read, false, false);
            let before = (msgs.capacity(), longs.capacity());
            b.push(&FrameRow {
                frame,
                ts_ns: i64::from(frame) * 1000,
                check: frame,
                keys: Some((&flow, &key)),
                msg: Some((MsgKind::HttpRequest, u64::from(frame))),
            })
            .unwrap();
            let grown = (b.t.msgs.capacity() - before.0) * size_of::<Msg>()
                + (b.t.long_lens.capacity() - before.1) * size_of::<(u32, u32)>();
            assert_eq!(
                told_both - told_none,
                grown,
                "frame {frame}: told {told_both}, {full:?}"
            );
            told.push(grown);
        }
        assert_eq!(b.t.msgs.len(), 40);
        assert_eq!(b.t.long_lens.len(), 40);
        assert!(told.iter().filter(|&&g| g > 0).count() >= 4, "{told:?}");
    }
}
