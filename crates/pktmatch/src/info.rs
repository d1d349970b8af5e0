//! `pktmatch info SESSION [--json]`: what an index says — how the points
//! were put in path order and why; per point its capture, whether the file
//! on disk is still that capture, its capture drops, clock resolution and
//! encapsulations; per point pair the clock model, the matches by method,
//! the packets not seen each way by why (lost on the network, dropped by
//! the other capture, outside the other capture, uncertain) and the
//! address/port/sequence translations found.
//!
//! `--json` is what scripts read; tests/lab/score.py takes it as its
//! CLOCKS.json: `pairs: [{a, b, offset_ns, drift_ppm, reference_ns, ...}]`
//! with a and b as point labels and `t_b = t_a + offset_ns + (t_a −
//! reference_ns) × drift_ppm × 1e-6`, reference_ns on a's clock.  When a
//! clock stepped inside the captures, those fields are the first segment's
//! model (until the first step); `segments` has every segment's model and
//! where it starts (frames at a and b, a's clock reading), `steps` each
//! step's instant and size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use index::{Index, LossKind, Missing};
use serde::Serialize;

use crate::session::{self, Error, IndexFile, PointFile};
use crate::units;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Read point LABEL's capture from FILE instead of the path in the index.
    #[arg(long = "point", value_name = "LABEL=FILE", value_parser = session::parse_point_file)]
    pub points: Vec<PointFile>,
    /// Do not read the capture files (skips the on-disk check).
    #[arg(long)]
    pub no_files: bool,
}

/// Everything `info` reports; serialised as is for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub session: String,
    pub format_version: String,
    pub created_ns: i64,
    pub index_bytes: u64,
    pub total_packets: u64,
    /// How the points were put in path order (null when the index does
    /// not say).
    pub order: Option<OrderInfo>,
    pub points: Vec<PointInfo>,
    pub pairs: Vec<PairInfo>,
    /// Match method ids and names.
    pub methods: BTreeMap<u8, String>,
}

/// How the indexer put the points in path order, and what else it found
/// about the session as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct OrderInfo {
    /// `inferred` (from the data), `stated` (with --path, checked against
    /// the data) or `as-given`.
    pub source: &'static str,
    /// `line`, or `not-a-line` (the warnings say how).
    pub topology: &'static str,
    /// Why this order, one finding each.
    pub evidence: Vec<String>,
    /// Topology findings, unrelated points, clocks set aside.
    pub warnings: Vec<String>,
    /// How the pairs' clocks were reconciled.
    pub clocks: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PointInfo {
    pub index: u16,
    pub label: String,
    /// The capture file read for this point (the override, or the indexed
    /// path).
    pub file: String,
    /// The path stored in the index.
    pub indexed_path: String,
    pub file_size: u64,
    pub packets: u32,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    /// FNV-1a 64 of the frame checks, hex.
    pub fingerprint: String,
    /// Peer entries (links to frames at other points) of this point's frames.
    pub peer_entries: usize,
    /// LOST entries: frames of this point not seen at another point.
    pub lost_entries: usize,
    /// Packets this capture did not record although they passed the point:
    /// seen at a point before it and at one after it on their way.
    pub capture_drops: u32,
    /// The resolution its time stamps show, ns (null: unknown).
    pub clock_resolution_ns: Option<u32>,
    /// The tunnels its packets arrived in (ERSPAN, VXLAN, …).
    pub encapsulations: Vec<String>,
    /// Where its capture was given among the inputs, from 0 (null: unknown).
    pub given_position: Option<u16>,
    /// `matches`, `converted` (same frames, other file size), `changed`,
    /// `missing`, `unreadable`; absent with --no-files.
    pub file_state: Option<&'static str>,
    pub file_note: Option<String>,
    pub disk_size: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairInfo {
    /// Point labels, a before b in path order.
    pub a: String,
    pub b: String,
    pub a_index: u16,
    pub b_index: u16,
    /// Next to each other on the path (no capture point between them).
    pub neighbours: bool,
    pub has_clock: bool,
    /// Clock model (null without one): t_b = t_a + offset_ns + (t_a −
    /// reference_ns) × drift_ppm × 1e-6.
    pub offset_ns: Option<i64>,
    pub drift_ppm: Option<f64>,
    pub drift_ppb: Option<i64>,
    /// On a's clock.
    pub reference_ns: Option<i64>,
    /// Bound on the model's error over the captures (the first segment's
    /// when the clocks stepped).
    pub offset_bound_ns: u64,
    /// Bound on the drift's error: the offset bound at both ends of the
    /// time both captures ran (2 × offset_bound_ns / that span); null
    /// without a model or without overlapping captures.
    pub drift_bound_ppm: Option<f64>,
    /// The clock model piece by piece, in frame order: one segment without
    /// a step, none without a model.
    pub segments: Vec<SegmentInfo>,
    /// The clock steps found: where each segment after the first starts.
    pub steps: Vec<StepInfo>,
    /// Packets matched (the indexer's count; the links counted when the
    /// index has no pair record).
    pub matched: u64,
    /// Frame-to-frame links between the two points (one packet may have
    /// several links: TSO/GSO).
    pub links: u64,
    /// Links by match method name.
    pub methods: BTreeMap<String, u64>,
    /// Network loss: seen at a on the way to b, seen neither at b nor after.
    pub lost_a_to_b: u64,
    pub lost_b_to_a: u64,
    /// Seen at a on the way to b and after b, not at b: b's capture
    /// dropped it.
    pub dropped_a_to_b: u64,
    /// The same the other way: a's capture dropped it.
    pub dropped_b_to_a: u64,
    /// Seen at a while b's capture was not running.
    pub outside_capture_a_to_b: u64,
    pub outside_capture_b_to_a: u64,
    /// Seen at a, not at b, which it may legitimately not pass.
    pub uncertain_a_to_b: u64,
    pub uncertain_b_to_a: u64,
    pub translations: Vec<TranslationInfo>,
}

/// One segment of a pair's clock: from frame `a_from_frame` of a and
/// `b_from_frame` of b on, t_b = t_a + offset_ns + (t_a − reference_ns) ×
/// drift_ppm × 1e-6.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentInfo {
    pub a_from_frame: u32,
    pub b_from_frame: u32,
    /// a's clock reading where the segment starts (its first frame's time
    /// stamp; the first segment: the reference).
    pub from_ns: i64,
    /// t_b − t_a at from_ns.
    pub offset_at_start_ns: i64,
    pub offset_ns: i64,
    pub drift_ppm: f64,
    pub drift_ppb: i64,
    pub reference_ns: i64,
    pub offset_bound_ns: u64,
}

/// A clock step: between a's clock readings `before_ns` (the last frame
/// matched before it) and `at_ns` (frame `a_frame` of a, `b_frame` of b,
/// the first after it) the clock difference b − a changes by `size_ns`.
#[derive(Debug, Clone, Serialize)]
pub struct StepInfo {
    pub at_ns: i64,
    pub before_ns: i64,
    pub a_frame: u32,
    pub b_frame: u32,
    pub size_ns: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TranslationInfo {
    pub kind: &'static str,
    pub summary: String,
    pub ip_proto: Option<u8>,
    /// Client-side (initiator) and server-side endpoints at a and at b.
    pub a_src: Option<String>,
    pub a_dst: Option<String>,
    pub b_src: Option<String>,
    pub b_dst: Option<String>,
    /// Sequence number at b − at a, mod 2^32, per direction.
    pub seq_client_to_server: Option<u32>,
    pub seq_server_to_client: Option<u32>,
}

/// Per (a, b) link counts by method id, from the PEERS of every frame.
fn count_links(ix: &Index<'_>) -> BTreeMap<(u16, u16), BTreeMap<u8, u64>> {
    let mut out: BTreeMap<(u16, u16), BTreeMap<u8, u64>> = BTreeMap::new();
    for p in ix.points() {
        let a = p.index();
        for frame in 1..=p.packets() {
            for peer in ix.peers(a, frame) {
                // Each match is stored from both sides: count it from a < b.
                if peer.point > a {
                    *out.entry((a, peer.point))
                        .or_default()
                        .entry(peer.method)
                        .or_default() += 1;
                }
            }
        }
    }
    out
}

fn method_name(ix: &Index<'_>, id: u8) -> String {
    ix.method_name(id)
        .map_or_else(|| format!("method-{id}"), str::to_owned)
}

/// Gathers what `info` shows; reads the capture files unless `no_files`.
pub fn gather(
    file: &IndexFile,
    ix: &Index<'_>,
    overrides: &[PointFile],
    no_files: bool,
) -> Result<Info, Error> {
    let paths = session::capture_paths(ix, file.path(), overrides)?;
    let mut points = Vec::new();
    for (p, path) in ix.points().zip(&paths) {
        let i = p.index();
        let check = (!no_files).then(|| session::check_file(ix, i, path));
        points.push(PointInfo {
            index: i,
            label: p.label().to_owned(),
            file: path.display().to_string(),
            indexed_path: p.path().to_owned(),
            file_size: p.file_size(),
            packets: p.packets(),
            first_ts_ns: p.first_ts_ns(),
            last_ts_ns: p.last_ts_ns(),
            fingerprint: format!("{:016x}", p.fingerprint()),
            peer_entries: ix.peer_count(i),
            lost_entries: ix.lost_all(i).len(),
            capture_drops: p.capture_drops(),
            clock_resolution_ns: Some(p.clock_resolution_ns()).filter(|&r| r > 0),
            encapsulations: index::points::encap::names(p.encapsulations()),
            given_position: p.given_position(),
            file_state: check
                .as_ref()
                .map(|c| c.state(p.file_size(), p.fingerprint())),
            file_note: check.as_ref().map(|c| c.describe(ix, i)),
            disk_size: check.as_ref().and_then(|c| c.disk_size),
        });
    }

    let links = count_links(ix);
    // From the LOST entries, for pairs without a record.
    let mut lost_counts: BTreeMap<(u16, u16), Missing> = BTreeMap::new();
    for p in ix.points() {
        let a = p.index();
        for l in ix.lost_all(a) {
            let key = (a.min(l.point), a.max(l.point));
            lost_counts
                .entry(key)
                .or_default()
                .count(l.kind, usize::from(a > l.point));
        }
    }
    // Every pair with a record, links or translations, in (a, b) order.
    let mut keys: Vec<(u16, u16)> = ix.pairs().map(|q| (q.a(), q.b())).collect();
    keys.extend(links.keys().copied());
    keys.extend(ix.all_translations().map(|t| (t.a(), t.b())));
    keys.sort_unstable();
    keys.dedup();

    let label = |i: u16| {
        ix.point(i)
            .map_or_else(|| format!("#{i}"), |p| p.label().to_owned())
    };
    let mut pairs = Vec::new();
    for (a, b) in keys {
        let rec = ix.pair(a, b);
        let clock = rec.and_then(|r| r.clock());
        let by_method = links.get(&(a, b));
        let link_total: u64 = by_method.map_or(0, |m| m.values().sum());
        let missing = rec.map_or_else(
            || lost_counts.get(&(a, b)).copied().unwrap_or_default(),
            |r| r.missing(),
        );
        let count = |kind: LossKind, dir: usize| u64::from(missing.of(kind)[dir]);
        let mut segs: Vec<index::ClockSegment> = ix.clock_segments(a, b).collect();
        if let (true, Some(m), Some(r)) = (segs.is_empty(), clock, rec) {
            segs.push(index::ClockSegment {
                a_from_frame: 1,
                b_from_frame: 1,
                from_ns: m.reference_ns(),
                model: m,
                offset_error_ns: r.offset_error_ns(),
                before_ns: 0,
            });
        }
        pairs.push(PairInfo {
            a: label(a),
            b: label(b),
            a_index: a,
            b_index: b,
            neighbours: rec.is_some_and(|r| r.neighbours()),
            has_clock: clock.is_some(),
            offset_ns: clock.map(|m| m.offset_ns()),
            drift_ppm: clock.map(|m| m.drift_ppb() as f64 / 1000.0),
            drift_ppb: clock.map(|m| m.drift_ppb()),
            reference_ns: clock.map(|m| m.reference_ns()),
            offset_bound_ns: rec.map_or(0, |r| r.offset_error_ns()),
            drift_bound_ppm: clock.zip(rec).and_then(|(m, r)| {
                let (pa, pb) = (ix.point(a)?, ix.point(b)?);
                // b's time span on a's clock, intersected with a's (in
                // i128: time stamps may lie anywhere in the i64 range).
                let to_a = |t: i64| i128::from(t) - i128::from(m.difference_at(t));
                let from = i128::from(pa.first_ts_ns()).max(to_a(pb.first_ts_ns()));
                let to = i128::from(pa.last_ts_ns()).min(to_a(pb.last_ts_ns()));
                (to > from).then(|| 2.0 * r.offset_error_ns() as f64 / (to - from) as f64 * 1e6)
            }),
            segments: segs
                .iter()
                .map(|s| SegmentInfo {
                    a_from_frame: s.a_from_frame,
                    b_from_frame: s.b_from_frame,
                    from_ns: s.from_ns,
                    offset_at_start_ns: s.model.difference_at(s.from_ns),
                    offset_ns: s.model.offset_ns(),
                    drift_ppm: s.model.drift_ppb() as f64 / 1000.0,
                    drift_ppb: s.model.drift_ppb(),
                    reference_ns: s.model.reference_ns(),
                    offset_bound_ns: s.offset_error_ns,
                })
                .collect(),
            steps: segs
                .windows(2)
                .map(|w| StepInfo {
                    at_ns: w[1].from_ns,
                    before_ns: w[1].before_ns,
                    a_frame: w[1].a_from_frame,
                    b_frame: w[1].b_from_frame,
                    size_ns: w[1].step_from(&w[0]),
                })
                .collect(),
            matched: rec.map_or(link_total, |r| u64::from(r.matched())),
            links: link_total,
            methods: by_method
                .map(|m| m.iter().map(|(id, n)| (method_name(ix, *id), *n)).collect())
                .unwrap_or_default(),
            lost_a_to_b: count(LossKind::NetworkLoss, 0),
            lost_b_to_a: count(LossKind::NetworkLoss, 1),
            dropped_a_to_b: count(LossKind::CaptureDrop, 0),
            dropped_b_to_a: count(LossKind::CaptureDrop, 1),
            outside_capture_a_to_b: count(LossKind::OutsideCapture, 0),
            outside_capture_b_to_a: count(LossKind::OutsideCapture, 1),
            uncertain_a_to_b: count(LossKind::Uncertain, 0),
            uncertain_b_to_a: count(LossKind::Uncertain, 1),
            translations: ix
                .translations(a, b)
                .map(|t| {
                    let e = t.endpoints();
                    let s = t.seq_offsets();
                    TranslationInfo {
                        kind: t.kind().name(),
                        summary: if t.summary().is_empty() {
                            index::translations::describe(
                                t.kind(),
                                e.as_ref(),
                                s.as_ref(),
                                &label(a),
                                &label(b),
                            )
                        } else {
                            t.summary().to_owned()
                        },
                        ip_proto: e.map(|e| e.ip_proto),
                        a_src: e.map(|e| e.a_src.to_string()),
                        a_dst: e.map(|e| e.a_dst.to_string()),
                        b_src: e.map(|e| e.b_src.to_string()),
                        b_dst: e.map(|e| e.b_dst.to_string()),
                        seq_client_to_server: s.map(|s| s.client_to_server),
                        seq_server_to_client: s.map(|s| s.server_to_client),
                    }
                })
                .collect(),
        });
    }

    let (major, minor) = ix.version();
    let lines = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let order = ix.session().map(|s| OrderInfo {
        source: s.order().name(),
        topology: s.topology().name(),
        evidence: lines(s.evidence()),
        warnings: lines(s.warnings()),
        clocks: lines(s.clocks()),
    });
    Ok(Info {
        session: file.path().display().to_string(),
        format_version: format!("{major}.{minor}"),
        created_ns: ix.created_ns(),
        index_bytes: ix.as_bytes().len() as u64,
        total_packets: ix.total_packets(),
        order,
        points,
        pairs,
        methods: ix.methods().map(|(id, n)| (id, n.to_owned())).collect(),
    })
}

/// Text translations shown per pair before "… and N more".
const TEXT_TRANSLATIONS: usize = 12;

/// The text form.
pub fn text(info: &Info) -> String {
    let mut o = String::new();
    let bpp = info.index_bytes as f64 / info.total_packets.max(1) as f64;
    let _ = writeln!(
        o,
        "{}: index format {}, written {} UTC; {} points, {} frames, {} bytes ({bpp:.1} per frame)",
        info.session,
        info.format_version,
        units::datetime(info.created_ns),
        info.points.len(),
        info.total_packets,
        info.index_bytes
    );
    let how = match info.order.as_ref().map(|o| o.source) {
        Some("inferred") => "; order inferred from the data",
        Some("stated") => "; order stated with --path, checked against the data",
        Some("as-given") => "; order as given",
        _ => "",
    };
    let _ = writeln!(o, "\nPoints (path order, client side first{how})");
    let w = info.points.iter().map(|p| p.label.len()).max().unwrap_or(5);
    for p in &info.points {
        let _ = writeln!(
            o,
            "  {:>2} {:<w$}  {:>9} frames  {:>12} bytes  {} .. {}",
            p.index,
            p.label,
            p.packets,
            p.file_size,
            units::datetime(p.first_ts_ns),
            units::time_of_day(p.last_ts_ns),
        );
        let note = p.file_note.as_deref().unwrap_or("not checked (--no-files)");
        let _ = writeln!(o, "     {:<w$}  {}: {note}", "", p.file);
        let mut facts = Vec::new();
        if let Some(g) = p.given_position {
            if g != p.index {
                facts.push(format!("given as input {}", g + 1));
            }
        }
        facts.push(format!("capture drops {}", p.capture_drops));
        if let Some(r) = p.clock_resolution_ns {
            facts.push(format!("time stamps in steps of {}", units::resolution(r)));
        }
        if !p.encapsulations.is_empty() {
            facts.push(format!("arrived in {}", p.encapsulations.join(", ")));
        }
        let _ = writeln!(o, "     {:<w$}  {}", "", facts.join("; "));
    }
    if let Some(ord) = &info.order {
        let _ = writeln!(o, "\nPath ({})", ord.topology.replace('-', " "));
        for (head, list) in [
            ("evidence", &ord.evidence),
            ("warning", &ord.warnings),
            ("clocks", &ord.clocks),
        ] {
            for l in list {
                let _ = writeln!(o, "  {head:<9} {l}");
            }
        }
    }
    let _ = writeln!(o, "\nPoint pairs");
    if info.pairs.is_empty() {
        let _ = writeln!(o, "  (no matches between points)");
    }
    for q in &info.pairs {
        let _ = writeln!(
            o,
            "  {} → {}{}",
            q.a,
            q.b,
            if q.neighbours { " (neighbours)" } else { "" }
        );
        match (q.offset_ns, q.drift_ppm, q.reference_ns) {
            (Some(off), Some(ppm), Some(r)) => {
                let _ = writeln!(
                    o,
                    "    clock         {} = {} {}, drift {ppm:+.3} ppm, error bound ±{}{} \
                     (reference {} on {}'s clock)",
                    q.b,
                    q.a,
                    units::duration(off),
                    units::duration(q.offset_bound_ns.min(i64::MAX as u64) as i64)
                        .trim_start_matches('+'),
                    q.drift_bound_ppm
                        .map(|d| format!(", drift within ±{d:.2} ppm"))
                        .unwrap_or_default(),
                    units::datetime(r),
                    q.a
                );
            }
            _ => {
                let _ = writeln!(o, "    clock         no model (deltas are raw)");
            }
        }
        // Steps: the line above holds until the first; each later segment
        // where it starts.
        for (st, seg) in q.steps.iter().zip(q.segments.iter().skip(1)) {
            let _ = writeln!(
                o,
                "    clock step    {} between {} and {} on {}'s clock (from {} frame {}, {} \
                 frame {})",
                units::duration(st.size_ns),
                units::datetime(st.before_ns),
                units::time_of_day(st.at_ns),
                q.a,
                q.a,
                st.a_frame,
                q.b,
                st.b_frame
            );
            let _ = writeln!(
                o,
                "                  from there {} = {} {}, drift {:+.3} ppm, error bound ±{}",
                q.b,
                q.a,
                units::duration(seg.offset_at_start_ns),
                seg.drift_ppm,
                units::duration(seg.offset_bound_ns.min(i64::MAX as u64) as i64)
                    .trim_start_matches('+'),
            );
        }
        let methods: Vec<String> = q.methods.iter().map(|(m, n)| format!("{m} {n}")).collect();
        let _ = writeln!(
            o,
            "    matched       {} packets; {} frame links: {}",
            q.matched,
            q.links,
            if methods.is_empty() {
                "none".to_owned()
            } else {
                methods.join(", ")
            }
        );
        let _ = writeln!(
            o,
            "    lost          on the network {} → {}: {}, {} → {}: {}",
            q.a, q.b, q.lost_a_to_b, q.b, q.a, q.lost_b_to_a
        );
        if q.dropped_a_to_b + q.dropped_b_to_a > 0 {
            let _ = writeln!(
                o,
                "    not captured  at {}: {}, at {}: {} (capture drops: seen before and after)",
                q.b, q.dropped_a_to_b, q.a, q.dropped_b_to_a
            );
        }
        if q.outside_capture_a_to_b + q.outside_capture_b_to_a > 0 {
            let _ = writeln!(
                o,
                "    outside       {}'s capture: {}, {}'s capture: {} (not running then)",
                q.b, q.outside_capture_a_to_b, q.a, q.outside_capture_b_to_a
            );
        }
        if q.uncertain_a_to_b + q.uncertain_b_to_a > 0 {
            let _ = writeln!(
                o,
                "    not seen      {} → {}: {}, {} → {}: {} (may not pass there)",
                q.a, q.b, q.uncertain_a_to_b, q.b, q.a, q.uncertain_b_to_a
            );
        }
        if q.translations.is_empty() {
            continue;
        }
        let _ = writeln!(o, "    translations  {}", q.translations.len());
        for t in q.translations.iter().take(TEXT_TRANSLATIONS) {
            let line = &t.summary;
            let _ = writeln!(o, "      {line}");
        }
        if q.translations.len() > TEXT_TRANSLATIONS {
            let _ = writeln!(
                o,
                "      … and {} more (--json lists all)",
                q.translations.len() - TEXT_TRANSLATIONS
            );
        }
    }
    o
}

/// Runs `pktmatch info`: prints to `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    let info = gather(&file, &ix, &args.points, args.no_files)?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&info)
            .map_err(|e| Error(format!("cannot write JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        text(&info)
    };
    crate::output::unless_closed(out.write_all(text.as_bytes()), ())
        .map_err(|e| Error(format!("cannot write the output: {e}")))
}
