//! ANR labels: where the label field of an NHDR can be split into labels.
//!
//! The ANR field is a list of labels ended by X'FF'; a label is 1 to 8
//! bytes (RFC 2238, hprAnrLabel) and nothing in the header says where one
//! ends and the next begins.  Each ANR node removes the label it routed by
//! before forwarding, so the same RTP packet seen on both sides of a node
//! (one capture on a node routing between two EE links, or two merged
//! captures) shows its first label: the bytes missing from the front of the
//! later copy.  Labels learnt that way, or a fixed length the user knows
//! for the network (a preference), split the field; bytes not covered stay
//! one run of unknown boundaries.

use std::collections::HashMap;
use std::ops::Range;

/// The longest ANR label (RFC 2238).
pub const MAX_LABEL: usize = 8;

/// What identifies one RTP packet across hops: TCID, BSN, DLF and the THDR
/// flag bytes (ANR nodes change none of them).
pub type PacketId = (u64, u32, u32, u8, u8);

/// A label and how its length is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelSource {
    /// The packet in frame `before` carried it in front of the labels the
    /// same packet carried in frame `after`.
    Learnt { before: u32, after: u32 },
    /// Every label is this long, as the user set.
    Preference(usize),
}

/// A split of a label field: labels (ranges within the field) and the bytes
/// left whose boundaries are unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub labels: Vec<(Range<usize>, LabelSource)>,
    pub unknown: Range<usize>,
}

/// How many packet copies are remembered for the comparison.
const REMEMBERED: usize = 1 << 16;

#[derive(Default)]
pub struct Labels {
    seen: HashMap<PacketId, (u32, Vec<u8>)>,
    known: Vec<(Vec<u8>, LabelSource)>,
}

impl Labels {
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks at the label field of one ANR packet (first pass, in frame
    /// order): a copy of a packet seen before with a label more or fewer
    /// teaches that label.
    pub fn observe(&mut self, frame: u32, id: PacketId, labels: &[u8]) {
        if let Some((earlier, before)) = self.seen.get(&id) {
            let (long, short, first, second) = if before.len() > labels.len() {
                (before.as_slice(), labels, *earlier, frame)
            } else {
                (labels, before.as_slice(), frame, *earlier)
            };
            let stripped = long.len() - short.len();
            if (1..=MAX_LABEL).contains(&stripped) && long.ends_with(short) {
                let label = long[..stripped].to_vec();
                if !self.known.iter().any(|(k, _)| *k == label) {
                    let source = LabelSource::Learnt {
                        before: first,
                        after: second,
                    };
                    self.known.push((label, source));
                }
            }
        }
        if self.seen.len() >= REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert(id, (frame, labels.to_vec()));
    }

    /// Splits a label field: with a fixed length, into labels of that
    /// length; else label by label from the front while a known label
    /// starts the rest (the longest if several do).
    pub fn split(&self, labels: &[u8], fixed: Option<usize>) -> Split {
        let mut out = Split {
            labels: Vec::new(),
            unknown: labels.len()..labels.len(),
        };
        let mut at = 0;
        if let Some(len) = fixed.filter(|l| (1..=MAX_LABEL).contains(l)) {
            while at + len <= labels.len() {
                out.labels
                    .push((at..at + len, LabelSource::Preference(len)));
                at += len;
            }
        } else {
            while let Some((label, source)) = self
                .known
                .iter()
                .filter(|(k, _)| labels[at..].starts_with(k))
                .max_by_key(|(k, _)| k.len())
            {
                out.labels.push((at..at + label.len(), source.clone()));
                at += label.len();
            }
        }
        out.unknown = at..labels.len();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_seen_before_and_after_a_node_teaches_its_first_label() {
        let mut l = Labels::new();
        let id = (7, 100, 40, 0x30, 0);
        // 8-byte label of the first node, then a 2-byte one.
        let full = [1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0x15];
        assert_eq!(l.split(&full, None).unknown, 0..10);
        l.observe(10, id, &full);
        l.observe(11, id, &full[8..]);
        let split = l.split(&full, None);
        assert_eq!(
            split.labels,
            vec![(
                0..8,
                LabelSource::Learnt {
                    before: 10,
                    after: 11
                }
            )]
        );
        assert_eq!(split.unknown, 8..10);
        // Unrelated packets teach nothing.
        l.observe(12, (8, 0, 0, 0, 0), &[9, 9]);
        l.observe(13, (8, 0, 0, 0, 0), &[9, 9]);
        assert_eq!(l.split(&[9, 9], None).labels, vec![]);
    }

    #[test]
    fn a_fixed_length_splits_whole_labels_only() {
        let l = Labels::new();
        let split = l.split(&[1, 2, 3, 4, 5], Some(2));
        assert_eq!(split.labels.len(), 2);
        assert_eq!(split.labels[1].0, 2..4);
        assert_eq!(split.unknown, 4..5);
    }
}
