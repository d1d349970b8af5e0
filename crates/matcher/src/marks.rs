//! A set of a table's record indexes as one bit per record, marked and
//! cleared a few at a time: the losses step asks, per connection pair,
//! which of its packets were matched.  A hash set per connection pair cost
//! an allocation and a hash per match (about a tenth of matching's CPU,
//! by `perf`); the bits are allocated once per pair of points.

pub(crate) struct Marks(Vec<u64>);

impl Marks {
    /// Room for records `0..records`.
    pub(crate) fn new(records: usize) -> Marks {
        Marks(vec![0; records.div_ceil(64)])
    }

    /// Marks record `r` (one past the records is ignored: none expected).
    pub(crate) fn set(&mut self, r: u32) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w |= 1 << (r % 64);
        }
    }

    pub(crate) fn contains(&self, r: u32) -> bool {
        self.0
            .get(r as usize / 64)
            .is_some_and(|w| w >> (r % 64) & 1 != 0)
    }

    /// Unmarks record `r`: what was marked is cleared the same way, so the
    /// set is empty again for the next connection pair.
    pub(crate) fn clear(&mut self, r: u32) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w &= !(1 << (r % 64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Marks;

    #[test]
    fn marks_and_clears() {
        let mut m = Marks::new(130);
        for r in [0, 63, 64, 129] {
            assert!(!m.contains(r));
            m.set(r);
            assert!(m.contains(r));
        }
        assert!(!m.contains(1) && !m.contains(128));
        m.set(130 + 64); // past the room: ignored
        assert!(!m.contains(130 + 64));
        for r in [0, 63, 64, 129] {
            m.clear(r);
            assert!(!m.contains(r));
        }
        assert!(m.0.iter().all(|&w| w == 0));
    }
}
