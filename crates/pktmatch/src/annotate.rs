//! `pktmatch annotate SESSION OUTDIR`: for each capture point, a pcapng
//! copy OUTDIR/<label>.pcapng of its capture — every frame, same order,
//! link types, time stamps (nanoseconds), captured bytes and original
//! lengths — with a packet comment per match naming the peer point, frame
//! and delta, and a comment where the packet was not seen at another point,
//! saying why:
//!
//! ```text
//! pktmatch: wan #5 +2.718312 s (corrected +30.3 µs), method nat, 100%
//! pktmatch: not seen at dc (lost on the network)
//! pktmatch: not seen at wan (capture drop: seen before and after it)
//! ```
//! so any Wireshark or tshark shows the matches (`frame.comment`) without
//! the plugin.  The copy keeps the frames' checks, so the index still
//! identifies it.  Inputs are only read; an output that would be an input
//! (or the index) is refused before anything is written.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use capture::{Direction, Link};
use index::{Index, LossKind};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

use crate::output::{self, Inputs, Output, Rules};
use crate::session::{self, Error, IndexFile, PointFile};
use crate::units;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// Directory for the annotated copies (created if missing).
    pub outdir: PathBuf,
    /// Read point LABEL's capture from FILE instead of the path in the index.
    #[arg(long = "point", value_name = "LABEL=FILE", value_parser = session::parse_point_file)]
    pub points: Vec<PointFile>,
    /// Overwrite existing copies in OUTDIR (never an input).
    #[arg(long)]
    pub force: bool,
}

/// What was written for one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointSummary {
    pub label: String,
    pub output: PathBuf,
    pub frames: u32,
    /// Frames with at least one match comment.
    pub matched_frames: u32,
    pub match_comments: u64,
    pub lost_comments: u64,
}

impl std::fmt::Display for PointSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} frames -> {} ({} frames with matches, {} match comments, {} not-seen notes)",
            self.label,
            self.frames,
            self.output.display(),
            self.matched_frames,
            self.match_comments,
            self.lost_comments
        )
    }
}

/// The comment of one peer link of frame `frame` of `point`, whose time
/// stamp is `ts_ns`.
pub fn match_comment(
    ix: &Index<'_>,
    point: u16,
    frame: u32,
    ts_ns: i64,
    peer: &index::Peer,
) -> String {
    let label = ix.point(peer.point).map_or("?", |p| p.label());
    let method = ix
        .method_name(peer.method)
        .map_or_else(|| format!("method-{}", peer.method), str::to_owned);
    let corrected = match ix.corrected_delta(point, frame, peer, ts_ns) {
        Some(c) => format!(" (corrected {})", units::duration(c)),
        None => String::new(),
    };
    format!(
        "pktmatch: {label} #{} {}{corrected}, method {method}, {}%",
        peer.frame,
        units::duration(peer.delta_raw_ns),
        units::percent(peer.confidence)
    )
}

/// The comment of one LOST entry.
pub fn lost_comment(ix: &Index<'_>, l: &index::Lost) -> String {
    let label = ix.point(l.point).map_or("?", |p| p.label());
    format!("pktmatch: not seen at {label} ({})", why_not_seen(l.kind))
}

/// Why a packet was not seen at a point, in words.
pub fn why_not_seen(kind: LossKind) -> &'static str {
    match kind {
        LossKind::NetworkLoss => "lost on the network",
        LossKind::CaptureDrop => "capture drop: seen before and after it",
        LossKind::OutsideCapture => "that capture was not running then",
        LossKind::Uncertain => "lost, or it does not pass there",
        LossKind::Other(_) => "not seen",
    }
}

/// The link type a copy of a packet is written with: its interface's;
/// CTRACE records that are no packet keep their bytes on a user link type
/// (as pktmatch convert does).
pub fn out_linktype(link: Link, iface: Option<&capture::Interface>) -> DataLink {
    match (link, iface) {
        (Link::Ctrace(_), _) => DataLink::USER0,
        (_, Some(i)) => DataLink::from(i.linktype),
        (l, None) => DataLink::from(l.linktype().unwrap_or(147)),
    }
}

/// OUTDIR/<label>.pcapng for every point, each checked by the output
/// rules (inputs and the index refused, existing files only with --force,
/// never anything but a regular file replaced).
fn outputs(ix: &Index<'_>, args: &Args, rules: &Rules<'_>) -> Result<Vec<PathBuf>, Error> {
    let mut outs = Vec::new();
    for p in ix.points() {
        // Labels are names (no control characters); a '/' would leave OUTDIR.
        let name: String = p
            .label()
            .chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect();
        let out = args.outdir.join(format!("{name}.pcapng"));
        if outs.contains(&out) {
            return Err(Error(format!(
                "{}: two points would be written there (labels differing only in '/' or '\\')",
                out.display()
            )));
        }
        output::plan(&out, rules)?;
        outs.push(out);
    }
    Ok(outs)
}

/// Runs `pktmatch annotate`.
pub fn run(args: &Args) -> Result<Vec<PointSummary>, Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    let inputs = session::capture_paths(&ix, file.path(), &args.points)?;
    let dir = &args.outdir;
    if output::is_stdout(dir) {
        return Err(Error(
            "annotate writes one file per point: OUTDIR cannot be - (standard output)".into(),
        ));
    }
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(Error(format!(
                "{}: exists and is not a directory",
                dir.display()
            )))
        }
        Ok(_) => {}
        Err(_) => fs::create_dir_all(dir)
            .map_err(|e| Error(format!("{}: cannot create: {e}", dir.display())))?,
    }
    let rules = Rules {
        inputs: Inputs {
            captures: &inputs,
            index: Some(file.path()),
        },
        force: args.force,
        binary: true,
    };
    // Every output is checked before the first is written.
    let outs = outputs(&ix, args, &rules)?;
    let mut done = Vec::new();
    for ((p, input), out) in ix.points().zip(&inputs).zip(&outs) {
        done.push(annotate_point(
            &ix,
            file.path(),
            p.index(),
            input,
            out,
            &rules,
        )?);
    }
    Ok(done)
}

/// Maps the capture's interfaces to the copy's, writing an interface
/// block the first time one is used.
struct Interfaces {
    ids: HashMap<u32, u32>,
}

fn annotate_point(
    ix: &Index<'_>,
    session: &Path,
    point: u16,
    input: &Path,
    out: &Path,
    rules: &Rules<'_>,
) -> Result<PointSummary, Error> {
    let label = ix.point(point).map_or("?", |p| p.label()).to_owned();
    let sink = Output::create(out, rules)?;
    let write_err =
        |e: pcap_file::PcapError| Error(format!("{}: cannot write: {e}", out.display()));
    let shb = SectionHeaderBlock {
        options: vec![SectionHeaderOption::Comment(Cow::Owned(format!(
            "pktmatch annotate: point {label} of {} (capture {})",
            session.display(),
            input.display()
        )))],
        ..Default::default()
    };
    (|| {
        let mut w = PcapNgWriter::with_section_header(sink, shb).map_err(write_err)?;
        let mut ifaces = Interfaces {
            ids: HashMap::new(),
        };
        let mut s = PointSummary {
            label: label.clone(),
            output: out.to_path_buf(),
            frames: 0,
            matched_frames: 0,
            match_comments: 0,
            lost_comments: 0,
        };
        let mut last_frame = 0u32;
        session::read_checked_with_interfaces(ix, session, point, input, |packet, interfaces| {
            if packet.frame != last_frame + 1 {
                // The reader skips pcapng blocks Wireshark numbers but that
                // hold no packet: the copy's numbers would shift.
                return Err(Error(format!(
                    "{}: frames {}..{} are not packets (systemd journal or custom blocks); \
                     a copy without them would renumber the frames after them",
                    input.display(),
                    last_frame + 1,
                    packet.frame.saturating_sub(1)
                )));
            }
            last_frame = packet.frame;
            let id = match ifaces.ids.get(&packet.interface) {
                Some(id) => *id,
                None => {
                    let iface = interfaces.get(packet.interface as usize);
                    let linktype = out_linktype(packet.link, iface);
                    let mut options = vec![InterfaceDescriptionOption::IfTsResol(9)];
                    if let Some(name) = iface.and_then(|i| i.name.clone()) {
                        options.insert(0, InterfaceDescriptionOption::IfName(Cow::Owned(name)));
                    }
                    let idb = InterfaceDescriptionBlock {
                        linktype,
                        snaplen: iface.map_or(0, |i| i.snaplen),
                        options,
                    };
                    w.write_pcapng_block(idb).map_err(write_err)?;
                    let id = ifaces.ids.len() as u32;
                    ifaces.ids.insert(packet.interface, id);
                    id
                }
            };
            let ts = u64::try_from(packet.ts_ns).map_err(|_| {
                Error(format!(
                    "{}: frame {} has a time stamp before 1970, which this pcapng writer \
                     cannot store",
                    input.display(),
                    packet.frame
                ))
            })?;
            let mut options = Vec::new();
            let mut matched = false;
            for peer in ix.peers(point, packet.frame) {
                options.push(EnhancedPacketOption::Comment(Cow::Owned(match_comment(
                    ix,
                    point,
                    packet.frame,
                    packet.ts_ns,
                    &peer,
                ))));
                s.match_comments += 1;
                matched = true;
            }
            for l in ix.lost(point, packet.frame) {
                options.push(EnhancedPacketOption::Comment(Cow::Owned(lost_comment(
                    ix, &l,
                ))));
                s.lost_comments += 1;
            }
            match packet.direction {
                // epb_flags bits 0-1: 01 inbound, 10 outbound.
                Direction::Inbound => options.push(EnhancedPacketOption::Flags(1)),
                Direction::Outbound => options.push(EnhancedPacketOption::Flags(2)),
                Direction::Unknown => {}
            }
            s.matched_frames += u32::from(matched);
            s.frames += 1;
            let epb = EnhancedPacketBlock {
                interface_id: id,
                timestamp: Duration::from_nanos(ts),
                original_len: packet.orig_len.max(packet.data.len() as u32),
                data: Cow::Borrowed(packet.data),
                options,
            };
            w.write_pcapng_block(epb).map_err(write_err)?;
            Ok(())
        })?;
        // Synced and put in place; an error before leaves nothing (the
        // output's drop removes its partial file).
        w.into_inner().finish()?;
        Ok(s)
    })()
}
