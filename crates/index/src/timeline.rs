//! One time line for a whole session: a frame's time stamp read on another
//! point's clock.
//!
//! The pair's clock model of the frame's own segment (`Index::clock_at`,
//! exact where a clock stepped) when the index has one for the two points;
//! else, hop by hop along the path towards the other point (the first hop
//! by the frame's segment, the others by time, `Index::clock_at_time`).

use crate::Index;

/// The instant frame `frame` of `point` (time stamp `ts_ns` on its own
/// clock) reads on `reference`'s clock; None when no chain of clock models
/// links the two points.
pub fn time_on(ix: &Index<'_>, point: u16, frame: u32, ts_ns: i64, reference: u16) -> Option<i64> {
    if point == reference {
        return Some(ts_ns);
    }
    if let Some(m) = ix.clock_at(point, frame, reference) {
        return Some(m.peer_time(ts_ns));
    }
    let step = |q: u16| if q < reference { q + 1 } else { q - 1 };
    let mut q = step(point);
    let mut t = ix.clock_at(point, frame, q)?.peer_time(ts_ns);
    while q != reference {
        let next = step(q);
        t = ix.clock_at_time(q, t, next)?.peer_time(t);
        q = next;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClockModel, IndexBuilder, PairSpec};

    #[test]
    fn direct_model_else_hop_by_hop() {
        const T0: i64 = 1_800_000_000_000_000_000;
        let mut b = IndexBuilder::new();
        for l in ["a", "b", "c"] {
            let p = b.add_point(l, "", 0).unwrap();
            b.add_frame(p, T0, 0).unwrap();
        }
        // b = a + 1 s + 100 ppm; c = b − 3 s; a–c has no model.
        let spec = |off, ppb| PairSpec {
            clock: Some(ClockModel::new(off, ppb, T0)),
            neighbours: true,
            ..Default::default()
        };
        b.set_pair(0, 1, spec(1_000_000_000, 100_000)).unwrap();
        b.set_pair(1, 2, spec(-3_000_000_000, 0)).unwrap();
        let bytes = b.build();
        let ix = Index::load(&bytes).unwrap();
        let t = T0 + 10_000_000_000;
        assert_eq!(time_on(&ix, 0, 1, t, 0), Some(t));
        // 10 s after the reference at 100 ppm: +1 ms.
        assert_eq!(
            time_on(&ix, 0, 1, t, 1),
            Some(t + 1_000_000_000 + 1_000_000)
        );
        assert_eq!(
            time_on(&ix, 0, 1, t, 2),
            Some(t - 2_000_000_000 + 1_000_000)
        );
        let back = time_on(&ix, 2, 1, t - 2_000_000_000 + 1_000_000, 0).unwrap();
        assert!((back - t).abs() <= 1, "{back} vs {t}");
    }
}
