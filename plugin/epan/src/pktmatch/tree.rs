//! Shows a frame's [`View`]: the `pktmatch` subtree with one `pktmatch.peer`
//! subtree per peer, expert infos, and the optional Info column tag.
//!
//! When Wireshark builds no tree (plain `tshark -r`), only expert infos and
//! the Info tag are added: nothing else would be kept, and formatting the
//! labels is most of the cost.  When it builds a tree nobody sees (a display
//! filter, colouring rules, `-T fields`), Wireshark keeps only the fields a
//! filter, column or colouring rule refers to and "fakes" the others (hands
//! back the parent): so a group of fields is prepared only when Wireshark
//! would keep one of them (`Packet::is_referenced`, its own test), and the
//! labels' extra text only when the tree is shown.  A frame then costs the
//! same whatever the session's size: the peers and loss entries are O(1)
//! index reads, translations a hash lookup (`lookup`).

use std::borrow::Cow;
use std::ffi::c_int;
use std::fmt::Write as _;

use index::{Index, LossKind, Peer, TrackState, IDENTIFY_FRAMES};
use wireshark_ffi::packet::{Packet, Tree};
use wireshark_ffi::register::{
    DurationField, ExpertField, FrameNumField, Protocol, StringField, Subtree, UintField,
};

use super::fields::*;
use super::session::View;
use super::source::Loaded;

/// Preferences that shape what is shown.
pub struct Options {
    pub info_tag: bool,
    /// Matches below this confidence (percent) get expert info.
    pub low_confidence: u32,
}

/// Confidence 0-255 as a percentage, rounded.
pub fn percent(confidence: u8) -> u32 {
    (u32::from(confidence) * 100 + 127) / 255
}

pub fn show(packet: &Packet, protocol: &Protocol, view: &View, options: &Options) {
    let full = !packet.tree().is_null();
    let root = if full {
        packet.add_protocol(packet.tree(), protocol, &ETT, 0, 0)
    } else {
        packet.tree()
    };
    if view.report_here {
        report(packet, root, view);
    }
    let (Some(loaded), Some(point)) = (&view.index, view.point) else {
        if full {
            packet.append_text(root, &status(view));
        }
        return;
    };
    let ix = loaded.index();
    let lookup = loaded.lookup();
    let frame = view.frame;
    let label = |p: u16| ix.point(p).map_or("?", |pt| pt.label());
    let mut tag = String::new();
    // Only what Wireshark keeps is prepared (see the module comment).
    let kept = |id: c_int| packet.is_referenced(root, id);
    let any_kept = |ids: &[c_int]| full && ids.iter().any(|&id| kept(id));
    // Whether labels may be seen: the tree is shown.
    let mut labels = false;
    if any_kept(&[POINT.id()]) {
        let item = packet.add_string(root, &POINT, 0, 0, label(point));
        packet.set_generated(item);
        labels = item != root;
        if labels {
            packet.append_text(root, &format!(", {} frame {frame}", label(point)));
        }
    }
    if any_kept(&[FRAME.id()]) {
        packet.set_generated(packet.add_uint(root, &FRAME, 0, 0, frame));
    }
    let peers = ix.peers(point, frame);
    let matched = peers.len() > 0;
    if any_kept(&[MATCHED.id()]) {
        let item = packet.add_bool(root, &MATCHED, 0, 0, u64::from(matched));
        packet.set_generated(item);
    }
    if matched && (any_kept(&NEIGHBOUR_UP.ids()) || any_kept(&NEIGHBOUR_DOWN.ids())) {
        let n = index::neighbours(ix, &lookup.links, point, frame, view.ts_ns);
        let here = |q: u16, g: u32| merged_frame(view, q, g).map(|(m, _)| m);
        let sides = [(n.upstream, &NEIGHBOUR_UP), (n.downstream, &NEIGHBOUR_DOWN)];
        for (neighbour, f) in sides {
            if let Some(nb) = neighbour {
                let link = here(nb.point, nb.frame);
                neighbour_subtree(packet, root, f, label(nb.point), &nb, link, labels);
            }
        }
    }
    let peer_fields = any_kept(&[
        PEER.id(),
        PEER_POINT.id(),
        PEER_FILE.id(),
        PEER_FRAME.id(),
        PEER_LINK.id(),
        RELATED_LINK.id(),
        DELTA.id(),
        DELTA_CORRECTED.id(),
        CLOCK_OFFSET.id(),
        METHOD.id(),
        CONFIDENCE.id(),
        TRANSLATION.id(),
    ]);
    for peer in peers {
        let pct = percent(peer.confidence);
        let peer_item = if peer_fields {
            peer_subtree(packet, root, loaded, view, point, &peer, labels)
        } else {
            root
        };
        if pct < options.low_confidence {
            packet.add_expert(
                peer_item,
                &EI_LOW_CONFIDENCE,
                &format!(
                    "Low-confidence match ({pct} %) with {} frame {} ({})",
                    label(peer.point),
                    peer.frame,
                    method_name(ix, peer.method)
                ),
            );
        }
        if options.info_tag {
            let _ = write!(tag, " {}#{}", label(peer.point), peer.frame);
        }
    }
    let mut lost_any = false;
    for lost in ix.lost(point, frame) {
        lost_any = true;
        let at = label(lost.point);
        let (field, expert, message, word) = match lost.kind {
            LossKind::NetworkLoss => (
                &LOST_AT,
                &EI_LOST,
                format!(
                    "Lost on the network between {} and {at}: seen neither at {at} nor after it",
                    label(point)
                ),
                "lost",
            ),
            LossKind::CaptureDrop => (
                &CAPTURE_DROP_AT,
                &EI_CAPTURE_DROP,
                format!(
                    "Not captured at {at}: seen before and after it, so {at}'s capture dropped \
                     it (not a network loss)"
                ),
                "drop",
            ),
            LossKind::OutsideCapture => (
                &OUTSIDE_CAPTURE_AT,
                &EI_OUTSIDE_CAPTURE,
                format!("Not seen at {at}, whose capture was not running then"),
                "outside",
            ),
            LossKind::Uncertain | LossKind::Other(_) => (
                &UNCERTAIN_AT,
                &EI_UNCERTAIN,
                format!("Not seen at {at} (it may legitimately not pass there)"),
                "unseen",
            ),
        };
        let item = if any_kept(&[field.id()]) {
            let item = packet.add_string(root, field, 0, 0, at);
            packet.set_generated(item);
            item
        } else {
            root
        };
        packet.add_expert(item, expert, &message);
        if options.info_tag {
            let _ = write!(tag, " {word}@{at}");
        }
    }
    if !matched && !lost_any {
        packet.add_expert(root, &EI_UNMATCHED, "Not found at any other capture point");
        if options.info_tag {
            tag.push_str(" unmatched");
        }
    }
    if options.info_tag {
        packet.append_info(&format!(" [pm:{tag}]"));
    }
}

/// The fields of one side's neighbour.
struct NeighbourFields {
    item: &'static StringField,
    subtree: &'static Subtree,
    point: &'static StringField,
    frame: &'static UintField,
    link: &'static FrameNumField,
    delta: &'static DurationField,
    transit: &'static DurationField,
}

impl NeighbourFields {
    fn ids(&self) -> [c_int; 6] {
        [
            self.item.id(),
            self.point.id(),
            self.frame.id(),
            self.link.id(),
            self.delta.id(),
            self.transit.id(),
        ]
    }
}

static NEIGHBOUR_UP: NeighbourFields = NeighbourFields {
    item: &UPSTREAM,
    subtree: &ETT_UPSTREAM,
    point: &UPSTREAM_POINT,
    frame: &UPSTREAM_FRAME,
    link: &UPSTREAM_LINK,
    delta: &UPSTREAM_DELTA,
    transit: &UPSTREAM_TRANSIT,
};

static NEIGHBOUR_DOWN: NeighbourFields = NeighbourFields {
    item: &DOWNSTREAM,
    subtree: &ETT_DOWNSTREAM,
    point: &DOWNSTREAM_POINT,
    frame: &DOWNSTREAM_FRAME,
    link: &DOWNSTREAM_LINK,
    delta: &DOWNSTREAM_DELTA,
    transit: &DOWNSTREAM_TRANSIT,
};

/// `pktmatch.upstream` or `pktmatch.downstream` and its subtree.
fn neighbour_subtree(
    packet: &Packet,
    root: Tree,
    f: &NeighbourFields,
    label: &str,
    n: &index::Neighbour,
    link: Option<u32>,
    labels: bool,
) {
    // "wan 41.7 µs": where and how long, for a packet list column.
    let transit = human(n.transit_ns);
    let transit = transit.strip_prefix('+').unwrap_or(&transit);
    let item = packet.add_string(root, f.item, 0, 0, &format!("{label} {transit}"));
    packet.set_generated(item);
    if labels && item != root {
        packet.append_text(item, &format!(", frame {}", n.frame));
    }
    let sub = if item != root {
        packet.subtree(item, f.subtree)
    } else {
        root
    };
    let generated = |t: Tree| packet.set_generated(t);
    generated(packet.add_string(sub, f.point, 0, 0, label));
    generated(packet.add_uint(sub, f.frame, 0, 0, n.frame));
    if let Some(m) = link {
        generated(packet.add_frame_number(sub, f.link, m));
    }
    generated(packet.add_duration(sub, f.delta, n.delta_corrected_ns));
    generated(packet.add_duration(sub, f.transit, n.transit_ns));
}

/// In a merged capture: the frame number here of the peer's frame, and
/// whether it is the same packet; None elsewhere (or when the merge left
/// it out).
fn merged_frame(view: &View, point: u16, frame: u32) -> Option<(u32, bool)> {
    view.merged
        .as_ref()?
        .iter()
        .find(|l| l.0 == point && l.1 == frame)
        .map(|l| (l.2, l.3))
}

/// One `pktmatch.peer` item and its subtree; returns the item (experts
/// about the match attach to it).
fn peer_subtree(
    packet: &Packet,
    root: Tree,
    loaded: &Loaded,
    view: &View,
    point: u16,
    peer: &Peer,
    labels: bool,
) -> Tree {
    let ix = loaded.index();
    let (frame, this_ts) = (view.frame, view.ts_ns);
    let kept = |id: c_int| packet.is_referenced(root, id);
    let generated = |t: Tree| packet.set_generated(t);
    let peer_point = ix.point(peer.point);
    let label = peer_point.map_or("?", |p| p.label());
    let item = if kept(PEER.id()) {
        let item = packet.add_string(root, &PEER, 0, 0, &format!("{label} frame {}", peer.frame));
        generated(item);
        item
    } else {
        root
    };
    let sub = if item != root {
        packet.subtree(item, &ETT_PEER)
    } else {
        root
    };
    if kept(PEER_POINT.id()) {
        generated(packet.add_string(sub, &PEER_POINT, 0, 0, label));
    }
    let path = peer_point.map(|p| p.path()).filter(|p| !p.is_empty());
    if let (true, Some(path)) = (kept(PEER_FILE.id()), path) {
        generated(packet.add_string(sub, &PEER_FILE, 0, 0, path));
    }
    if kept(PEER_FRAME.id()) {
        let number = packet.add_uint(sub, &PEER_FRAME, 0, 0, peer.frame);
        generated(number);
        if let (true, Some(path)) = (labels && number != sub, path) {
            let name = path.rsplit('/').next().unwrap_or(path);
            packet.append_text(number, &format!(" (in {name})"));
        }
    }
    if let Some((here, same)) = merged_frame(view, peer.point, peer.frame) {
        let field = if same { &PEER_LINK } else { &RELATED_LINK };
        if kept(field.id()) {
            generated(packet.add_frame_number(sub, field, here));
        }
    }
    if kept(DELTA.id()) {
        generated(packet.add_duration(sub, &DELTA, peer.delta_raw_ns));
    }
    let mut delta = (peer.delta_raw_ns, "raw");
    let clock = labels || kept(DELTA_CORRECTED.id()) || kept(CLOCK_OFFSET.id());
    // The clock segment of this frame (a clock may have stepped).
    if let Some(model) = clock
        .then(|| ix.clock_at(point, frame, peer.point))
        .flatten()
    {
        let corrected = index::corrected_delta(peer.delta_raw_ns, this_ts, &model);
        generated(packet.add_duration(sub, &DELTA_CORRECTED, corrected));
        generated(packet.add_duration(sub, &CLOCK_OFFSET, model.difference_at(this_ts)));
        delta = (corrected, "corrected");
    }
    let method = (labels || kept(METHOD.id())).then(|| method_name(ix, peer.method));
    if let (true, Some(m)) = (kept(METHOD.id()), &method) {
        generated(packet.add_string(sub, &METHOD, 0, 0, m));
    }
    if kept(CONFIDENCE.id()) {
        generated(packet.add_uint(sub, &CONFIDENCE, 0, 0, percent(peer.confidence)));
    }
    if kept(TRANSLATION.id()) {
        let (src, dst) = (packet.source(), packet.destination());
        if let Some(summary) = loaded.lookup().translation(point, peer.point, &src, &dst) {
            generated(packet.add_string(sub, &TRANSLATION, 0, 0, summary));
        }
    }
    if let (true, Some(method)) = (labels && item != root, method) {
        let (ns, kind) = delta;
        packet.append_text(item, &format!(", delta {} ({kind}), {method}", human(ns)));
    }
    item
}

/// The method's name from the index, else `method-<id>` (the format's rule).
pub fn method_name<'a>(ix: &Index<'a>, method: u8) -> Cow<'a, str> {
    ix.method_name(method)
        .map_or_else(|| Cow::Owned(format!("method-{method}")), Cow::Borrowed)
}

/// The capture-level finding, once, on the frame where it was made.
fn report(packet: &Packet, root: Tree, view: &View) {
    let (expert, message): (&ExpertField, String) = if let Some(problem) = &view.problem {
        (
            &EI_INDEX_UNUSABLE,
            format!("pktmatch index unusable: {problem}"),
        )
    } else {
        let Some(loaded) = &view.index else { return };
        let ix = loaded.index();
        let path = loaded.path();
        match view.state {
            TrackState::Stale { point, frame } if view.merged_capture => (
                &EI_INDEX_STALE,
                format!(
                    "Merged capture: frame {frame}'s comment names a frame of point {} that is \
                     not the frame indexed in {path} (merged from other captures, or they \
                     changed since indexing); frames whose comment does not agree with the \
                     index show no peers",
                    ix.point(point).map_or("?", |p| p.label())
                ),
            ),
            TrackState::Unknown if view.merged_capture => (
                &EI_INDEX_FOREIGN,
                format!(
                    "Merged capture: frame {} has no pktmatch merge comment naming a point of \
                     {path}: frames without one show no peers",
                    packet.frame_number()
                ),
            ),
            TrackState::Stale { point, frame } => (
                &EI_INDEX_STALE,
                format!(
                    "Index stale: this capture is point {} of {path}, but frame {frame} is not \
                     the frame that was indexed (capture edited, filtered, time-shifted or \
                     appended to since): no peers from frame {frame} on; re-run pktmatch index",
                    ix.point(point).map_or("?", |p| p.label())
                ),
            ),
            TrackState::Ambiguous => (
                &EI_INDEX_FOREIGN,
                format!(
                    "The first {IDENTIFY_FRAMES} frames match several points of {path} (the \
                     same capture indexed twice?): no peers shown"
                ),
            ),
            TrackState::Unknown => {
                let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
                (
                    &EI_INDEX_FOREIGN,
                    format!(
                        "Index not for this file: this capture is none of the capture points \
                         of {path} ({})",
                        labels.join(", ")
                    ),
                )
            }
            TrackState::Identifying | TrackState::Identified(_) => return,
        }
    };
    packet.add_expert(root, expert, &message);
}

/// The protocol item's text when no peers are shown.
fn status(view: &View) -> String {
    if view.problem.is_some() {
        return ": index unusable (see Expert Info)".into();
    }
    if view.merged_capture {
        return ": frame of the merged capture not in the index".into();
    }
    match view.state {
        TrackState::Identifying => ": identifying the capture".into(),
        TrackState::Identified(_) => ": frame not in the index".into(),
        TrackState::Stale { frame, .. } => {
            format!(": index stale from frame {frame} (capture changed since indexing)")
        }
        TrackState::Ambiguous => ": capture matches several points of the index".into(),
        TrackState::Unknown => ": capture not in the index".into(),
    }
}

/// A duration for labels, rounded to the unit that keeps 3-4 significant
/// digits (integer arithmetic: this runs for every peer shown).
pub fn human(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    let abs = ns.unsigned_abs();
    if abs < 1_000 {
        format!("{sign}{abs} ns")
    } else if abs < 1_000_000 {
        let tenths = (abs + 50) / 100;
        format!("{sign}{}.{} µs", tenths / 10, tenths % 10)
    } else if abs < 1_000_000_000 {
        let us = (abs + 500) / 1_000;
        format!("{sign}{}.{:03} ms", us / 1_000, us % 1_000)
    } else {
        let us = (abs + 500) / 1_000;
        format!("{sign}{}.{:06} s", us / 1_000_000, us % 1_000_000)
    }
}
