//! Stage 5 — matches between points that are not neighbours: the packet
//! seen at A, B and C pairs A with C through B.  One-to-many links (a GSO
//! packet at C holding several of B's segments) compose too.  Where B has
//! no copy (its capture dropped the packet) the caller's `fill` matches A
//! and C directly; its matches go into the composition's next steps too.

use crate::beside::{beside, Beside};
use crate::clock::{self, ClockFit, Composer};
use crate::methods;
use crate::packets::PacketMatch;
use crate::PairMatches;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::Scope;

/// For every pair (i, j), j ≥ i + 2, the composition of the adjacent
/// matches i → i+1 → … → j, with what `fill(i, j, clock, composed)` adds
/// (direct matches of packets the points between did not capture), and
/// `made(pair)`, made on at most `workers()` threads of `scope`, each pair
/// as soon as it is complete (so that work on it runs while other rows are
/// still joining, and beside the caller's own work once all are joined):
/// [`Composed::finish`] waits for them.
/// `frames[p]`: point p's frame count.
/// `range(point, rec)`: a TCP frame's sequence number and payload length
/// (a GSO packet's first segment carries a message's first byte only when
/// the segments seen span the whole packet).
pub(crate) fn compose<'scope, R: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    frames: &[usize],
    adjacent: &[PairMatches],
    range: impl Fn(u16, u32) -> (u32, u32) + Sync,
    fill: impl Fn(u16, u16, Option<&ClockFit>, &[PacketMatch]) -> Vec<PacketMatch> + Sync,
    made: &'scope (impl Fn(&PairMatches) -> R + Sync),
) -> Composed<'scope, R> {
    // Row i holds the pairs (i, j), j = i + 2 ..= n - 1: where each row's
    // pairs start in the output.
    let in_row = |i: usize| adjacent.len().saturating_sub(i + 1);
    let first: Vec<usize> = (0..adjacent.len())
        .scan(0, |at, i| {
            let f = *at;
            *at += in_row(i);
            Some(f)
        })
        .collect();
    let total: usize = (0..adjacent.len()).map(in_row).sum();
    // `made` runs on at most `workers()` threads of `scope`, fed each pair
    // as soon as it is joined: while its row's next join runs, and past
    // the end of this function, while the caller does its own work (a row
    // is a chain: its last pair's `made` ran alone, a core idle).
    let (queue, jobs) = mpsc::channel::<(usize, Arc<PairMatches>)>();
    let jobs = Arc::new(Mutex::new(jobs));
    let makers = (0..crate::workers().min(total))
        .map(|_| {
            let jobs = Arc::clone(&jobs);
            // Where the system starts no thread, `finish` makes them.
            beside(scope, move || {
                let mut out = Vec::new();
                while let Some((k, pm)) = next_job(&jobs) {
                    out.push((k, made(&pm)));
                }
                out
            })
        })
        .collect();
    // Each row is a chain of joins; the rows are independent, so they run
    // on all cores (results in row order).
    let rows = crate::parallel(
        adjacent.len(),
        crate::workers(),
        |i| {
            compose_row(i, frames, adjacent, &range, &fill, |k, pm| {
                // Only fails when every maker is gone (a panic: `finish`
                // passes it on).
                let _ = queue.send((first[i] + k, Arc::clone(pm)));
            })
        },
        || {},
    );
    Composed {
        pairs: rows.into_iter().flatten().collect(),
        makers,
    }
}

/// What [`compose`] made: the pairs in row order, and `made` of each,
/// still being made.
pub(crate) struct Composed<'scope, R> {
    pub pairs: Vec<Arc<PairMatches>>,
    makers: Vec<Beside<'scope, Vec<(usize, R)>>>,
}

impl<R> Composed<'_, R> {
    /// Every pair with its `made`, once all are made (a panic in one is
    /// passed on).
    pub fn finish(self) -> Result<Vec<(PairMatches, R)>, String> {
        let mut made: Vec<Option<R>> = self.pairs.iter().map(|_| None).collect();
        for h in self.makers {
            for (k, r) in joined(h) {
                debug_assert!(k < made.len(), "pair {k} of {}", made.len());
                if let Some(slot) = made.get_mut(k) {
                    *slot = Some(r);
                }
            }
        }
        self.pairs
            .into_iter()
            .zip(made)
            .map(|(pm, r)| {
                let r = r.ok_or("internal error: a composed pair's clock fit was lost")?;
                let pm = Arc::try_unwrap(pm)
                    .map_err(|_| "internal error: a composed pair is still shared")?;
                Ok((pm, r))
            })
            .collect()
    }
}

/// The next pair to make, None once every row is done.
fn next_job<T>(jobs: &Mutex<mpsc::Receiver<T>>) -> Option<T> {
    jobs.lock().ok()?.recv().ok()
}

/// The pairs (i, j), j ≥ i + 2, in order of j: [`compose`] of one row;
/// `joined(k, pair)` is called as soon as the row's k-th pair is joined.
fn compose_row(
    i: usize,
    frames: &[usize],
    adjacent: &[PairMatches],
    range: &(impl Fn(u16, u32) -> (u32, u32) + Sync),
    fill: &(impl Fn(u16, u16, Option<&ClockFit>, &[PacketMatch]) -> Vec<PacketMatch> + Sync),
    mut joined: impl FnMut(usize, &Arc<PairMatches>),
) -> Vec<Arc<PairMatches>> {
    let mut out: Vec<Arc<PairMatches>> = Vec::new();
    for next in &adjacent[i + 1..] {
        let left = out.last().map_or(&adjacent[i], |pm| &**pm);
        let pm = Arc::new(compose_pair(left, next, frames, range, fill));
        joined(out.len(), &pm);
        out.push(pm);
    }
    out
}

/// A scoped thread's result, its panic passed on.
fn joined<T>(h: Beside<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// The pair (left.a, next.b): left (A–M) joined with next (M–B), its
/// clock composed, and `fill`'s direct matches added.
fn compose_pair(
    left: &PairMatches,
    next: &PairMatches,
    frames: &[usize],
    range: &impl Fn(u16, u32) -> (u32, u32),
    fill: &impl Fn(u16, u16, Option<&ClockFit>, &[PacketMatch]) -> Vec<PacketMatch>,
) -> PairMatches {
    // A hop whose clock stepped: each joined packet says, by its frame in
    // the middle, which segments it crossed.
    let mut steps = match (&left.clock, &next.clock) {
        (Some(x), Some(y)) => Composer::new(x, y),
        _ => None,
    };
    let joined = join(left, next, frames[next.a as usize], range, |a, m, b| {
        if let Some(c) = steps.as_mut() {
            c.add(a, m, b);
        }
    });
    let clock = match (steps, &left.clock, &next.clock) {
        (Some(c), _, _) => Some(c.finish()),
        (None, Some(x), Some(y)) => Some(clock::compose(x, y)),
        _ => None,
    };
    let mut pm = PairMatches {
        a: left.a,
        b: next.b,
        matches: joined,
        clock,
    };
    let extra = fill(pm.a, pm.b, pm.clock.as_ref(), &pm.matches);
    if !extra.is_empty() {
        pm.matches.extend(extra);
        pm.matches
            .sort_unstable_by_key(|m| (m.a, m.b, preference(m)));
        pm.matches.dedup_by_key(|m| (m.a, m.b));
    }
    pm.matches.shrink_to_fit();
    pm
}

/// Joins left (A–M) and right (M–B) on M's frame; `each(a, m, b)` sees
/// every joined packet's records.
fn join(
    left: &PairMatches,
    right: &PairMatches,
    m_frames: usize,
    range: &impl Fn(u16, u32) -> (u32, u32),
    mut each: impl FnMut(u32, u32, u32),
) -> Vec<PacketMatch> {
    // right's matches grouped by their M frame.
    let (start, by_m) = by_frame(&right.matches, |r| r.a, m_frames);
    // A proxy anchor names the packet carrying a message's first byte; a
    // one-to-many link next to it (a GSO packet) would spread it over all
    // its segments: only the first segment (lowest frame) carries that byte.
    let anchor = |m: &PacketMatch| m.method == methods::HTTP || m.method == methods::TURNS;
    // (middle frame, lowest left frame), needed only when the right side
    // has anchors: the lowest segment carries the message's first byte
    // only when the segments the left point captured span the whole middle
    // frame (a capture drop of the first would make the second look first;
    // one of a middle segment does not matter).
    // Only the middle frames a right anchor names are asked about (a
    // counting sort of every left match by middle frame, and two ranges
    // looked up per frame, were half of a join into a proxy pair).
    let mut first_left: Vec<(u32, u32)> = Vec::new();
    if right.matches.iter().any(anchor) {
        let mut anchored = vec![0u64; (start.len() - 1).div_ceil(64)];
        for r in right.matches.iter().filter(|r| anchor(r)) {
            anchored[r.a as usize / 64] |= 1 << (r.a % 64);
        }
        let named = |m: u32| {
            anchored
                .get(m as usize / 64)
                .is_some_and(|w| w >> (m % 64) & 1 != 0)
        };
        let mut all: Vec<(u32, u32)> = left
            .matches
            .iter()
            .filter(|l| named(l.b))
            .map(|l| (l.b, l.a))
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut k = 0;
        while k < all.len() {
            let m = all[k].0;
            let end = k + all[k..].iter().take_while(|x| x.0 == m).count();
            let ranges: Vec<(u32, u32)> = all[k..end].iter().map(|x| range(left.a, x.1)).collect();
            // Relative to the lowest frame's start (wrapping).
            let start = ranges[0].0;
            let span = ranges
                .iter()
                .map(|&(seq, len)| seq.wrapping_sub(start).wrapping_add(len))
                .max()
                .unwrap_or(0);
            // Or it starts where the middle frame starts (the sequence
            // numbers untranslated, as most NATs leave them: a dropped last
            // segment does not matter either).
            let (m_seq, m_len) = range(left.b, m);
            if end - k == 1 || span == m_len || start == m_seq {
                first_left.push(all[k]);
            }
            k = end;
        }
    }
    let first_of = |m: u32| {
        first_left
            .binary_search_by_key(&m, |x| x.0)
            .ok()
            .map(|k| first_left[k].1)
    };
    // Most packets cross the middle point once: about one joined match per
    // left one (a doubling vector would leave up to half of itself unused
    // while the row's next join runs).
    let mut out = Vec::with_capacity(left.matches.len());
    // The left matches in the order of their A frames, so that the output
    // comes grouped by A frame and only each frame's few need sorting (a
    // comparison sort of all of them was about half of the join's time).
    for l in in_order(&left.matches, |l| l.a) {
        let m = l.b as usize;
        let here = &by_m[start[m] as usize..start[m + 1] as usize];
        let first_right = if anchor(l) {
            here.iter().map(|&q| right.matches[q as usize].b).min()
        } else {
            None
        };
        for &n in here {
            let r = &right.matches[n as usize];
            if anchor(r) && first_of(l.b) != Some(l.a) {
                continue;
            }
            if anchor(l) && first_right != Some(r.b) {
                continue;
            }
            each(l.a, l.b, r.b);
            // Through a span-port duplicate the composed match is one too
            // (kept apart from the clock fit like it).
            let dup = l.method == methods::DUPLICATE || r.method == methods::DUPLICATE;
            out.push(PacketMatch {
                a: l.a,
                b: r.b,
                method: if dup {
                    methods::DUPLICATE
                } else {
                    methods::VIA
                },
                conf: l.conf.min(r.conf),
                dir: l.dir,
            });
        }
    }
    for group in out.chunk_by_mut(|x, y| x.a == y.a) {
        if group.len() > 1 {
            group.sort_unstable_by_key(|m| (m.b, preference(m)));
        }
    }
    out.dedup_by_key(|m| (m.a, m.b));
    out
}

/// Which of several matches of the same two frames is kept (the first in
/// this order): the surest, then one not through a span-port duplicate
/// (it counts in the clock fit), then by method and direction — a total
/// order, so that the choice does not depend on how the matches were
/// sorted (review of 2026-12-06, third session: a per-frame sort and a
/// whole-vector sort kept different ones of equal confidence).
fn preference(m: &PacketMatch) -> (std::cmp::Reverse<u8>, bool, u8, u8) {
    (
        std::cmp::Reverse(m.conf),
        m.method == methods::DUPLICATE,
        m.method,
        m.dir,
    )
}

/// `matches` in the order of `frame` (one of their frames): a stable
/// counting sort of their indexes (4 bytes a match and a frame besides),
/// none when they are in that order already (the matches a join made).
fn in_order(
    matches: &[PacketMatch],
    frame: impl Fn(&PacketMatch) -> u32,
) -> impl Iterator<Item = &PacketMatch> {
    let order = (!matches.is_sorted_by_key(&frame)).then(|| by_frame(matches, &frame, 0).1);
    (0..matches.len()).map(move |k| &matches[order.as_ref().map_or(k, |o| o[k] as usize)])
}

/// The indexes of `matches` in the order of `frame` (a stable counting
/// sort), and where each frame's run starts in that order: frame f's
/// matches are `order[start[f]..start[f + 1]]`.  `frames`: the frames
/// there are (more are counted if a match names one).
fn by_frame(
    matches: &[PacketMatch],
    frame: impl Fn(&PacketMatch) -> u32,
    frames: usize,
) -> (Vec<u32>, Vec<u32>) {
    let top = matches
        .iter()
        .map(|m| frame(m) as usize + 1)
        .max()
        .unwrap_or(0);
    let mut start = vec![0u32; frames.max(top) + 1];
    for m in matches {
        start[frame(m) as usize + 1] += 1;
    }
    for f in 1..start.len() {
        start[f] += start[f - 1];
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; matches.len()];
    for (k, m) in matches.iter().enumerate() {
        let slot = &mut fill[frame(m) as usize];
        order[*slot as usize] = k as u32;
        *slot += 1;
    }
    (start, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers below a bound, the same every run (xorshift64).
    fn xorshift(mut x: u64) -> impl FnMut(u64) -> u32 {
        move |below| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % below) as u32
        }
    }

    fn m(a: u32, b: u32, method: u8) -> PacketMatch {
        PacketMatch {
            a,
            b,
            method,
            conf: 255,
            dir: 1,
        }
    }

    /// The join's output, made in the left matches' A-frame order, is the
    /// one a nested loop over every left and right match gives once sorted
    /// by (A frame, B frame, confidence down) and freed of repeated frame
    /// pairs: left matches in connection order (not by frame), several per
    /// A frame (one-to-many links), middle frames reached from both sides
    /// more than once, confidences that differ.
    #[test]
    fn a_join_is_the_nested_loop_sorted() {
        let mut random = xorshift(0x2545_F491_4F6C_DD1D);
        for (n, frames) in [(0, 4), (50, 10), (3000, 2000), (5000, 200)] {
            let mut pm = |a: u16| PairMatches {
                a,
                b: a + 1,
                matches: (0..n)
                    .map(|_| PacketMatch {
                        a: random(frames),
                        b: random(frames),
                        method: [methods::VIA, methods::DUPLICATE][random(2) as usize],
                        conf: [255, 200, 90][random(3) as usize],
                        dir: random(2) as u8,
                    })
                    .collect(),
                clock: None,
            };
            let (left, right) = (pm(0), pm(1));
            let got = join(&left, &right, frames as usize, &|_, _| (0, 0), |_, _, _| {});
            // Every (left, right) pair through the same middle frame; of
            // those of the same two end frames the surest, then one not
            // through a duplicate, then the lower direction.
            let mut want: Vec<(u32, u32, u8, bool, u8)> = Vec::new();
            for l in &left.matches {
                for r in right.matches.iter().filter(|r| r.a == l.b) {
                    let dup = l.method == methods::DUPLICATE || r.method == methods::DUPLICATE;
                    want.push((l.a, r.b, l.conf.min(r.conf), dup, l.dir));
                }
            }
            want.sort_unstable_by_key(|&(a, b, c, dup, dir)| {
                (a, b, std::cmp::Reverse(c), dup, dir)
            });
            want.dedup_by_key(|w| (w.0, w.1));
            let seen = |v: &[PacketMatch]| -> Vec<(u32, u32, u8, bool, u8)> {
                v.iter()
                    .map(|m| (m.a, m.b, m.conf, m.method == methods::DUPLICATE, m.dir))
                    .collect()
            };
            assert_eq!(seen(&got), want, "{n} matches over {frames} frames");
            // Whatever order the left matches come in.
            let reversed = PairMatches {
                matches: left.matches.iter().rev().copied().collect(),
                clock: None,
                ..left
            };
            let again = join(
                &reversed,
                &right,
                frames as usize,
                &|_, _| (0, 0),
                |_, _, _| {},
            );
            assert_eq!(
                seen(&again),
                want,
                "{n} matches over {frames} frames, reversed"
            );
        }
    }

    /// Anchors among many other matches (a proxy hop's HTTP and TURNS
    /// among VIA ones), frames with several segments on the left, random
    /// sequence ranges: the join keeps exactly what the rule says, checked
    /// by a nested loop — an anchor on the right reaches the left frame
    /// that carries the middle frame's first byte (the lowest of its
    /// segments, when those span the frame or start where it starts, or
    /// the only one), an anchor on the left only the right's lowest frame.
    #[test]
    fn anchors_among_other_matches_follow_the_rule() {
        let mut random = xorshift(0x9E37_79B9_7F4A_7C15);
        let methods_drawn = [methods::VIA, methods::HTTP, methods::TURNS, methods::TSO];
        for (n, frames) in [(40, 30), (3000, 900), (6000, 200)] {
            let ranges: Vec<Vec<(u32, u32)>> = (0..2)
                .map(|_| {
                    (0..frames)
                        .map(|_| (random(8) * 100, random(3) * 100))
                        .collect()
                })
                .collect();
            let range = |p: u16, r: u32| ranges[p as usize][r as usize];
            let mut pm = |a: u16| PairMatches {
                a,
                b: a + 1,
                matches: (0..n)
                    .map(|_| PacketMatch {
                        a: random(frames),
                        b: random(frames),
                        method: methods_drawn[random(4) as usize],
                        conf: 255,
                        dir: 0,
                    })
                    .collect(),
                clock: None,
            };
            let (left, right) = (pm(0), pm(1));
            let got = join(&left, &right, frames as usize, &range, |_, _, _| {});
            let anchor = |m: &PacketMatch| m.method == methods::HTTP || m.method == methods::TURNS;
            let carries_first = |l: &PacketMatch| {
                let mut segs: Vec<u32> = left
                    .matches
                    .iter()
                    .filter(|o| o.b == l.b)
                    .map(|o| o.a)
                    .collect();
                segs.sort_unstable();
                segs.dedup();
                let start = range(0, segs[0]).0;
                let span = segs
                    .iter()
                    .map(|&s| {
                        let (seq, len) = range(0, s);
                        seq.wrapping_sub(start).wrapping_add(len)
                    })
                    .max();
                let (m_seq, m_len) = range(1, l.b);
                segs[0] == l.a && (segs.len() == 1 || span == Some(m_len) || start == m_seq)
            };
            let mut want: Vec<(u32, u32)> = Vec::new();
            // Through a right anchor: kept and left out (the rule binds).
            let (mut kept, mut left_out) = (0, 0);
            for l in &left.matches {
                let here: Vec<&PacketMatch> = right.matches.iter().filter(|r| r.a == l.b).collect();
                let lowest = here.iter().map(|r| r.b).min();
                for r in here {
                    let keep =
                        (!anchor(r) || carries_first(l)) && (!anchor(l) || lowest == Some(r.b));
                    if keep {
                        want.push((l.a, r.b));
                    }
                    if anchor(r) && !anchor(l) {
                        *if keep { &mut kept } else { &mut left_out } += 1;
                    }
                }
            }
            want.sort_unstable();
            want.dedup();
            let seen: Vec<(u32, u32)> = got.iter().map(|m| (m.a, m.b)).collect();
            assert_eq!(seen, want, "{n} matches over {frames} frames");
            assert!(
                kept > 0 && left_out > 0,
                "{n}: {kept} kept, {left_out} left out"
            );
        }
    }

    /// A response's GSO packet at the middle point (frame 5: 4327 bytes
    /// from seq 0) and its segments at the left point; the right hop's
    /// anchor names frame 5.  The left segment that carries the first
    /// byte gets the composed anchor; when the left capture dropped that
    /// segment, none does (the second segment used to take it).
    #[test]
    fn an_anchor_goes_only_to_the_segment_with_the_first_byte() {
        let ranges = |segs: &'static [(u32, u32, u32)]| {
            move |p: u16, r: u32| -> (u32, u32) {
                if p == 1 {
                    return (0, 4327);
                }
                segs.iter()
                    .find(|s| s.0 == r)
                    .map_or((0, 0), |s| (s.1, s.2))
            }
        };
        let right = PairMatches {
            a: 1,
            b: 2,
            matches: vec![m(5, 7, methods::HTTP)],
            clock: None,
        };
        let left = |recs: &[u32]| PairMatches {
            a: 0,
            b: 1,
            matches: recs.iter().map(|&r| m(r, 5, methods::TSO)).collect(),
            clock: None,
        };
        // Every segment: the first (rec 10) gets it.
        const ALL: &[(u32, u32, u32)] = &[(10, 0, 1448), (11, 1448, 1448), (12, 2896, 1431)];
        let got = join(&left(&[10, 11, 12]), &right, 8, &ranges(ALL), |_, _, _| {});
        assert_eq!(
            got.iter().map(|x| (x.a, x.b)).collect::<Vec<_>>(),
            [(10, 7)]
        );
        // The middle segment dropped: still the first.
        const GAP: &[(u32, u32, u32)] = &[(10, 0, 1448), (12, 2896, 1431)];
        let got = join(&left(&[10, 12]), &right, 8, &ranges(GAP), |_, _, _| {});
        assert_eq!(
            got.iter().map(|x| (x.a, x.b)).collect::<Vec<_>>(),
            [(10, 7)]
        );
        // The last segment dropped: the first still starts the frame.
        const NO_LAST: &[(u32, u32, u32)] = &[(10, 0, 1448), (11, 1448, 1448)];
        let got = join(&left(&[10, 11]), &right, 8, &ranges(NO_LAST), |_, _, _| {});
        assert_eq!(
            got.iter().map(|x| (x.a, x.b)).collect::<Vec<_>>(),
            [(10, 7)]
        );
        // The first segment dropped: no left frame carries the first byte.
        const NO_FIRST: &[(u32, u32, u32)] = &[(11, 1448, 1448), (12, 2896, 1431)];
        let got = join(&left(&[11, 12]), &right, 8, &ranges(NO_FIRST), |_, _, _| {});
        assert!(got.is_empty(), "{got:?}");
    }
}
