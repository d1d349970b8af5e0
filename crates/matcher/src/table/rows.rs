//! A [`PointTable`] from frames read elsewhere: the per-frame keys of a
//! key table (the `engine` crate's Parquet files) instead of a capture.
//! Each frame goes through the same steps as in [`super::read_point`]
//! (`keyed` opens or finds the connection, `group` sorts by connection), so
//! the table — and the index matched from it — is the same as the one read
//! from the capture; the `engine` crate's tests check that whole indexes
//! are equal byte for byte.

use super::{group, keyed, mirrored_point, Msg, MsgKind, PointTable, Rec, NO_CONN};
use capture::{FlowKey, PacketKey};
use rustc_hash::FxHashMap;

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

/// Builds a [`PointTable`] frame by frame.
pub struct TableBuilder {
    t: PointTable,
    current: FxHashMap<FlowKey, u32>,
    conn_of: Vec<u32>,
    last_ts: i64,
}

impl TableBuilder {
    /// A builder expecting about `frames` frames.
    pub fn with_capacity(frames: usize) -> TableBuilder {
        let t = PointTable {
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            recs: Vec::with_capacity(frames),
            ts: Vec::with_capacity(frames),
            checks: Vec::with_capacity(frames),
            ..Default::default()
        };
        TableBuilder {
            t,
            current: FxHashMap::default(),
            conn_of: Vec::with_capacity(frames),
            last_ts: 0,
        }
    }

    /// Frames so far (including placeholders for gaps).
    pub fn frames(&self) -> u32 {
        self.t.recs.len() as u32
    }

    /// Adds one frame.  Refuses a frame number not above the last one.
    pub fn push(&mut self, row: &FrameRow<'_>) -> Result<(), String> {
        let t = &mut self.t;
        if u64::from(row.frame) <= t.recs.len() as u64 {
            return Err(format!(
                "frame {} after frame {}: frames must be in increasing order",
                row.frame,
                t.recs.len()
            ));
        }
        // Frames without a packet are a few journal or custom blocks, not
        // millions: a bigger gap is a damaged table, not a reason to fill
        // memory with placeholders.
        if u64::from(row.frame) - t.recs.len() as u64 > MAX_GAP {
            return Err(format!(
                "frame {} after frame {}: more than {MAX_GAP} frames missing",
                row.frame,
                t.recs.len()
            ));
        }
        while (t.recs.len() as u64) + 1 < u64::from(row.frame) {
            t.checks.push(0);
            t.ts.push(self.last_ts);
            t.recs.push(Rec::default());
            self.conn_of.push(NO_CONN);
        }
        self.last_ts = row.ts_ns;
        t.checks.push(row.check);
        t.first_ts = t.first_ts.min(row.ts_ns);
        t.last_ts = t.last_ts.max(row.ts_ns);
        let idx = t.recs.len() as u32;
        let (conn, rec) = match row.keys {
            Some((flow, key)) => {
                t.encap |= key.encap;
                let (conn, rec) = keyed(t, &mut self.current, row.ts_ns, flow, key);
                if rec.is_tcp() && rec.len > 0 {
                    if let Some((kind, value)) = row.msg {
                        t.msgs.push(Msg::new(idx, conn, kind, value));
                    }
                }
                (conn, rec)
            }
            None => (NO_CONN, Rec::default()),
        };
        t.recs.push(rec);
        self.conn_of.push(conn);
        t.ts.push(row.ts_ns);
        Ok(())
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
        t.checks.shrink_to_fit();
        t.msgs.shrink_to_fit();
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
        assert_eq!(t.checks, [1, 0, 0, 4]);
        assert_eq!(t.ts, [1000, 1000, 1000, 4000]);
        assert!(t.conns.is_empty());
    }
}
