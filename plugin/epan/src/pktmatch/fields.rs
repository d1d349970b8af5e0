//! Every `pktmatch.*` field, subtree and expert info.  All values are
//! derived from the index, none read from the packet: items are zero-length
//! and marked generated.  docs/wireshark.md describes each one.

use wireshark_ffi::register::{
    Base, BoolField, DurationField, ExpertDef, ExpertField, ExpertGroup, FrameNumField,
    Registration, Severity, StringField, Subtree, UintField, UintWidth,
};
use wireshark_ffi::statics;

statics!(Subtree: ETT, ETT_PEER, ETT_UPSTREAM, ETT_DOWNSTREAM);
statics!(StringField: POINT, PEER, PEER_POINT, PEER_FILE, METHOD, TRANSLATION, LOST_AT,
    CAPTURE_DROP_AT, OUTSIDE_CAPTURE_AT, UNCERTAIN_AT, UPSTREAM, UPSTREAM_POINT, DOWNSTREAM,
    DOWNSTREAM_POINT);
statics!(FrameNumField: PEER_LINK, RELATED_LINK, UPSTREAM_LINK, DOWNSTREAM_LINK);
statics!(DurationField: DELTA, DELTA_CORRECTED, CLOCK_OFFSET, UPSTREAM_DELTA, UPSTREAM_TRANSIT,
    DOWNSTREAM_DELTA, DOWNSTREAM_TRANSIT);
statics!(UintField: CONFIDENCE, FRAME, PEER_FRAME, UPSTREAM_FRAME, DOWNSTREAM_FRAME);
statics!(BoolField: MATCHED);
statics!(ExpertField: EI_LOST, EI_CAPTURE_DROP, EI_OUTSIDE_CAPTURE, EI_UNCERTAIN, EI_UNMATCHED,
    EI_LOW_CONFIDENCE, EI_INDEX_STALE, EI_INDEX_FOREIGN, EI_INDEX_UNUSABLE);

pub fn register(reg: &Registration) {
    reg.fields(vec![
        POINT.def(
            c"This point",
            c"pktmatch.point",
            c"Label of the capture point the open capture was identified as",
        ),
        FRAME.def(
            c"Frame in its capture",
            c"pktmatch.frame",
            UintWidth::U32,
            Base::Dec,
            c"This frame's number in its point's capture (differs from frame.number in a \
              merged capture)",
        ),
        UPSTREAM.def(
            c"Previous point",
            c"pktmatch.upstream",
            c"Upstream neighbour: the nearest point the same packet passed before this one and \
              the transit from there, e.g. \"client 89.4 µs\"",
        ),
        UPSTREAM_POINT.def(
            c"Previous point",
            c"pktmatch.upstream.point",
            c"Label of the nearest point the packet passed before this one",
        ),
        UPSTREAM_FRAME.def(
            c"Frame there",
            c"pktmatch.upstream.frame",
            UintWidth::U32,
            Base::Dec,
            c"Frame number of the packet in the previous point's own capture",
        ),
        UPSTREAM_LINK.def(
            c"Frame here",
            c"pktmatch.upstream.link",
            c"The previous point's frame in this merged capture",
        ),
        UPSTREAM_DELTA.def(
            c"Delta (clock corrected)",
            c"pktmatch.upstream.delta_corrected",
            c"Previous point's time minus this time, clock corrected (negative)",
        ),
        UPSTREAM_TRANSIT.def(
            c"Transit",
            c"pktmatch.upstream.transit",
            c"Time from the previous point to this one, clock corrected (positive in the \
              packet's direction of travel)",
        ),
        DOWNSTREAM.def(
            c"Next point",
            c"pktmatch.downstream",
            c"Downstream neighbour: the nearest point the same packet passed after this one and \
              the transit to there, e.g. \"dc 41.7 µs\"",
        ),
        DOWNSTREAM_POINT.def(
            c"Next point",
            c"pktmatch.downstream.point",
            c"Label of the nearest point the packet passed after this one",
        ),
        DOWNSTREAM_FRAME.def(
            c"Frame there",
            c"pktmatch.downstream.frame",
            UintWidth::U32,
            Base::Dec,
            c"Frame number of the packet in the next point's own capture",
        ),
        DOWNSTREAM_LINK.def(
            c"Frame here",
            c"pktmatch.downstream.link",
            c"The next point's frame in this merged capture",
        ),
        DOWNSTREAM_DELTA.def(
            c"Delta (clock corrected)",
            c"pktmatch.downstream.delta_corrected",
            c"Next point's time minus this time, clock corrected (positive)",
        ),
        DOWNSTREAM_TRANSIT.def(
            c"Transit",
            c"pktmatch.downstream.transit",
            c"Time from this point to the next one, clock corrected (positive in the packet's \
              direction of travel)",
        ),
        MATCHED.def(
            c"Matched",
            c"pktmatch.matched",
            c"The packet was found at at least one other capture point",
        ),
        PEER.def(
            c"Peer",
            c"pktmatch.peer",
            c"The same packet at another capture point: point label and frame",
        ),
        PEER_POINT.def(
            c"Peer point",
            c"pktmatch.peer_point",
            c"Label of the capture point where the peer frame was seen",
        ),
        PEER_FILE.def(
            c"Peer file",
            c"pktmatch.peer_file",
            c"Capture file of the peer point, as given to `pktmatch index`",
        ),
        PEER_FRAME.def(
            c"Peer frame",
            c"pktmatch.peer_frame",
            UintWidth::U32,
            Base::Dec,
            c"Frame number of the same packet in the peer point's own capture (pktmatch.peer_file): \
              a plain number, not a link into the open capture",
        ),
        PEER_LINK.def(
            c"Peer frame here",
            c"pktmatch.peer_link",
            c"The peer frame in this merged capture (pktmatch merge): the same packet, same \
              frame.packet_id",
        ),
        RELATED_LINK.def(
            c"Related frame here",
            c"pktmatch.related_link",
            c"A frame of this merged capture linked across a full proxy: another packet that \
              belongs with this one (the request it was forwarded as, its response)",
        ),
        DELTA.def(
            c"Delta (raw)",
            c"pktmatch.delta",
            c"Peer time stamp minus this time stamp, as captured (no clock correction)",
        ),
        DELTA_CORRECTED.def(
            c"Delta (clock corrected)",
            c"pktmatch.delta_corrected",
            c"Transit time from this point to the peer point after removing the clock \
              difference of the pair's clock model (positive: the peer saw it later)",
        ),
        CLOCK_OFFSET.def(
            c"Clock offset",
            c"pktmatch.clock_offset",
            c"Peer clock minus this clock at this packet's time, from the pair's clock model",
        ),
        METHOD.def(
            c"Match method",
            c"pktmatch.method",
            c"How the indexer recognised the packet at the peer point",
        ),
        CONFIDENCE.def(
            c"Confidence (%)",
            c"pktmatch.confidence",
            UintWidth::U8,
            Base::Dec,
            c"The indexer's confidence in this match, 0-100 %",
        ),
        TRANSLATION.def(
            c"Translation",
            c"pktmatch.translation",
            c"How addresses, ports or sequence numbers change between the two points \
              for this connection (NAT/PAT, proxy, sequence offset)",
        ),
        LOST_AT.def(
            c"Lost before",
            c"pktmatch.lost_at",
            c"Lost on the network before this capture point: seen on the way to it, seen \
              neither there nor at any point after it",
        ),
        CAPTURE_DROP_AT.def(
            c"Not captured at",
            c"pktmatch.capture_drop_at",
            c"A capture point whose capture dropped the packet: seen at a point before it \
              and at one after it, not there (not a network loss)",
        ),
        OUTSIDE_CAPTURE_AT.def(
            c"Outside the capture at",
            c"pktmatch.outside_capture_at",
            c"A capture point whose capture was not running when the packet passed",
        ),
        UNCERTAIN_AT.def(
            c"Not seen at",
            c"pktmatch.uncertain_at",
            c"A capture point the packet may legitimately not pass (made or answered by a \
              middlebox between the points, filtered): not seen there",
        ),
    ]);
    reg.subtrees(&[&ETT, &ETT_PEER, &ETT_UPSTREAM, &ETT_DOWNSTREAM]);

    let expert = ExpertDef::new;
    use ExpertGroup::{Protocol, Sequence};
    use Severity::{Error, Note, Warn};
    reg.experts(vec![
        expert(
            &EI_LOST,
            c"pktmatch.expert.lost",
            Sequence,
            Warn,
            c"Packet lost between capture points",
        ),
        expert(
            &EI_CAPTURE_DROP,
            c"pktmatch.expert.capture_drop",
            Sequence,
            Note,
            c"Packet not captured at a point it passed (seen before and after it): a capture drop",
        ),
        expert(
            &EI_OUTSIDE_CAPTURE,
            c"pktmatch.expert.outside_capture",
            Sequence,
            Note,
            c"Packet not seen at a point whose capture was not running then",
        ),
        expert(
            &EI_UNCERTAIN,
            c"pktmatch.expert.uncertain",
            Sequence,
            Note,
            c"Packet not seen at a point it may legitimately not pass",
        ),
        expert(
            &EI_UNMATCHED,
            c"pktmatch.expert.unmatched",
            Sequence,
            Note,
            c"Packet not found at any other capture point",
        ),
        expert(
            &EI_LOW_CONFIDENCE,
            c"pktmatch.expert.low_confidence",
            Sequence,
            Note,
            c"Low-confidence match",
        ),
        expert(
            &EI_INDEX_STALE,
            c"pktmatch.expert.index_stale",
            Protocol,
            Warn,
            c"The capture changed since it was indexed: no peers shown from here on",
        ),
        expert(
            &EI_INDEX_FOREIGN,
            c"pktmatch.expert.index_foreign",
            Protocol,
            Warn,
            c"The capture is not one of the index's capture points",
        ),
        expert(
            &EI_INDEX_UNUSABLE,
            c"pktmatch.expert.index_unusable",
            Protocol,
            Error,
            c"The pktmatch index cannot be read",
        ),
    ]);
}
