//! `pktmatch merge SESSION OUT.pcapng`: every point's capture in one pcapng,
//! on one clock, with the copies of each packet tied together.
//!
//! * One interface per point (per point and link type, when a capture
//!   mixes link types): `if_name` is the point's label, `if_description`
//!   names its capture; time stamps in nanoseconds.
//! * Every frame of every capture exactly once, its bytes and original
//!   length as captured, in the order of its time on the reference point's
//!   clock (`--reference`, by default the first point on the path): its
//!   own time stamp corrected with the pair's clock model (the frame's own
//!   segment where a clock stepped, `index::timeline`).  The time stamp is
//!   that corrected time; the one the capture recorded is kept in the
//!   packet's comment, with the point and the frame number there and where
//!   the frames linked to it are in this file (`index::merged`).
//! * The frames of one packet (its journey: the same packet at every point,
//!   `index::journey`) share one `epb_packetid` (pcapng EPB option 5, which
//!   means exactly that; Wireshark shows it as `frame.packet_id`).  Packets
//!   linked across a full proxy are different packets: different ids,
//!   listed as related in the comment.
//! * `--from`/`--to` keep a time window (on the reference clock),
//!   `--filter` one or more connections at every point (`subset`).
//!
//! Two passes over the captures: the first reads every frame's time stamp
//! (checked against the index, as every reader subcommand does) and puts
//! the frames in order; the second copies them out in that order, holding
//! back only the frames a capture has out of time order.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use capture::keys;
use index::merged::{self, MergedComment, MergedLink};
use index::{timeline, Index, Links};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{PcapNgWriter, RawBlock};
use pcap_file::{DataLink, Endianness};

use crate::annotate::out_linktype;
use crate::filter::Filter;
use crate::output::{Inputs, Output, Rules};
use crate::session::{self, Error, IndexFile, PointFile};
use crate::subset;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// The merged capture to write (pcapng; `-`: standard output).
    pub out: PathBuf,
    /// Read point LABEL's capture from FILE instead of the path in the index.
    #[arg(long = "point", value_name = "LABEL=FILE", value_parser = session::parse_point_file)]
    pub points: Vec<PointFile>,
    /// The point whose clock the merged time stamps are on (default: the
    /// first point on the path).
    #[arg(long, value_name = "LABEL")]
    pub reference: Option<String>,
    /// Only frames from TIME on, on the reference clock: `YYYY-MM-DD
    /// HH:MM:SS[.fraction]` (UTC) or `+SECONDS` after the session's first
    /// frame.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only frames up to TIME (inclusive), as for --from.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only the connections this display-filter-like expression names
    /// (e.g. 'tcp.port == 35777'), at every point, however NAT and proxies
    /// changed their addresses.
    #[arg(long, visible_alias = "connection", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Frames written, per point label.
    pub per_point: Vec<(String, u64)>,
    /// Distinct packet ids written.
    pub packets: u64,
    /// Packet ids carried by frames of more than one point.
    pub seen_at_several: u64,
    pub reference: String,
    /// Points without a clock model to the reference: their own time
    /// stamps are kept.
    pub uncorrected: Vec<String>,
}

impl Summary {
    pub fn frames(&self) -> u64 {
        self.per_point.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let points: Vec<String> = self
            .per_point
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        write!(
            f,
            "{} frames ({}), {} packets, {} of them seen at several points; times on {}'s clock",
            self.frames(),
            points.join(", "),
            self.packets,
            self.seen_at_several,
            self.reference
        )?;
        if !self.uncorrected.is_empty() {
            write!(
                f,
                "; WARNING: no clock model links {} to {}: their own time stamps are kept",
                self.uncorrected.join(", "),
                self.reference
            )?;
        }
        Ok(())
    }
}

/// The plan of the merged file: which frames, in which order, with which
/// ids and interfaces.
struct Plan {
    /// (time on the reference clock, point, frame), in output order.
    order: Vec<(i64, u16, u32)>,
    /// Per point, per frame: its number in the merged file (0: left out).
    merged: Vec<Vec<u32>>,
    /// Per point, per frame: its packet id (0: left out).
    ids: Vec<Vec<u32>>,
    /// (point, link type) → (interface id, snap length).
    interfaces: BTreeMap<(u16, u32), (u32, u32)>,
    uncorrected: Vec<u16>,
}

/// A frame at `(point, frame)` of a per-point table.
fn at<T: Copy + Default>(table: &[Vec<T>], p: u16, f: u32) -> T {
    table
        .get(p as usize)
        .and_then(|v| v.get((f as usize).wrapping_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Runs `pktmatch merge`.
pub fn run(args: &Args) -> Result<Summary, Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    let paths = session::capture_paths(&ix, file.path(), &args.points)?;
    let reference = match &args.reference {
        None => 0,
        Some(l) => ix.point_by_label(l).map(|p| p.index()).ok_or_else(|| {
            let labels: Vec<&str> = ix.points().map(|p| p.label()).collect();
            Error(format!(
                "--reference {l}: {} has no point labelled so (its points: {})",
                file.path().display(),
                labels.join(", ")
            ))
        })?,
    };
    let filter = args
        .filter
        .as_deref()
        .map(Filter::parse)
        .transpose()
        .map_err(Error)?;
    let rules = Rules {
        inputs: Inputs {
            captures: &paths,
            index: Some(file.path()),
        },
        force: args.force,
        binary: true,
    };
    // Opened first: a bad output path fails before the captures are read.
    let mut out = Output::create(&args.out, &rules)?;
    let links = Links::new(&ix);
    let plan = plan(
        &ix,
        file.path(),
        &paths,
        reference,
        args,
        filter.as_ref(),
        &links,
    )?;
    let summary = write(&ix, file.path(), &paths, reference, &plan, &mut out)?;
    out.finish()?;
    Ok(summary)
}

/// Pass one: every frame's time on the reference clock, the selection,
/// the order, the packet ids and the interfaces.
fn plan(
    ix: &Index<'_>,
    session: &Path,
    paths: &[PathBuf],
    reference: u16,
    args: &Args,
    filter: Option<&Filter>,
    links: &Links,
) -> Result<Plan, Error> {
    let n = ix.point_count();
    let mut times: Vec<Vec<i64>> = Vec::with_capacity(n);
    let mut conns: Vec<Vec<u64>> = vec![Vec::new(); n];
    let mut seeds = Vec::new();
    let mut interfaces: BTreeMap<(u16, u32), (u32, u32)> = BTreeMap::new();
    let mut uncorrected = Vec::new();
    for (p, path) in ix.points().zip(paths) {
        let point = p.index();
        let mut t = Vec::with_capacity(p.packets() as usize);
        let mut corrected = true;
        session::read_checked_with_interfaces(ix, session, point, path, |packet, ifaces| {
            let time = timeline::time_on(ix, point, packet.frame, packet.ts_ns, reference);
            corrected &= time.is_some();
            t.push(time.unwrap_or(packet.ts_ns));
            let iface = ifaces.get(packet.interface as usize);
            let linktype = u32::from(out_linktype(packet.link, iface));
            let snaplen = iface.map_or(0, |i| i.snaplen);
            let slot = interfaces.entry((point, linktype)).or_insert((0, 0));
            slot.1 = slot.1.max(snaplen);
            if let Some(f) = filter {
                let key = keys::extract(packet.link, packet.data).map(|(k, _)| k);
                if f.matches(key.as_ref()) {
                    seeds.push((point, packet.frame));
                }
                conns[point as usize].push(key.map_or(0, |k| k.conn_hash().max(1)));
            }
            Ok(())
        })?;
        if !corrected {
            uncorrected.push(point);
        }
        times.push(t);
    }
    for (id, v) in interfaces.values_mut().enumerate() {
        v.0 = id as u32;
    }
    let selection = filter.map(|_| subset::expand(ix, links, &seeds, &conns));
    let start = times.iter().flatten().copied().min().unwrap_or(0);
    let bound = |arg: &Option<String>, what: &str| -> Result<Option<i64>, Error> {
        arg.as_deref()
            .map(|s| parse_time(s, start).ok_or_else(|| bad_time(what, s)))
            .transpose()
    };
    let (from, to) = (bound(&args.from, "--from")?, bound(&args.to, "--to")?);
    let mut order: Vec<(i64, u16, u32)> = Vec::new();
    for (p, t) in times.iter().enumerate() {
        for (i, &ts) in t.iter().enumerate() {
            let node = (p as u16, i as u32 + 1);
            let in_window = from.is_none_or(|f| ts >= f) && to.is_none_or(|e| ts <= e);
            if in_window && selection.as_ref().is_none_or(|s| s.contains(node)) {
                order.push((ts, node.0, node.1));
            }
        }
    }
    drop(times);
    order.sort_unstable();
    let mut merged: Vec<Vec<u32>> = ix.points().map(|p| vec![0; p.packets() as usize]).collect();
    for (k, &(_, p, f)) in order.iter().enumerate() {
        merged[p as usize][f as usize - 1] = k as u32 + 1;
    }
    // Ids in order of first appearance: one per journey.
    let mut ids: Vec<Vec<u32>> = ix.points().map(|p| vec![0; p.packets() as usize]).collect();
    let mut next = 0u32;
    for &(_, p, f) in &order {
        if ids[p as usize][f as usize - 1] != 0 {
            continue;
        }
        next += 1;
        for (q, g) in links.journey(ix, (p, f)) {
            if at(&merged, q, g) != 0 {
                ids[q as usize][g as usize - 1] = next;
            }
        }
    }
    Ok(Plan {
        order,
        merged,
        ids,
        interfaces,
        uncorrected,
    })
}

fn bad_time(what: &str, s: &str) -> Error {
    Error(format!(
        "{what} {s:?}: expected YYYY-MM-DD HH:MM:SS[.fraction] (UTC) or +SECONDS after the \
         first frame"
    ))
}

/// `+SECONDS` after `start`, else a UTC date and time.
fn parse_time(s: &str, start: i64) -> Option<i64> {
    if let Some(secs) = s.strip_prefix('+') {
        let v: f64 = secs
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
        return start.checked_add((v * 1e9).round() as i64);
    }
    merged::parse_utc(s)
}

/// A frame read from a capture, kept until its turn.
struct Held {
    ts_ns: i64,
    orig_len: u32,
    linktype: u32,
    direction: capture::Direction,
    data: Vec<u8>,
}

/// Pass two: the file.
fn write(
    ix: &Index<'_>,
    session: &Path,
    paths: &[PathBuf],
    reference: u16,
    plan: &Plan,
    out: &mut Output,
) -> Result<Summary, Error> {
    let label = |p: u16| ix.point(p).map_or("?", |pt| pt.label());
    let write_err = |e: pcap_file::PcapError| out_error(&e);
    let shb =
        SectionHeaderBlock {
            endianness: Endianness::Little,
            options: vec![
                SectionHeaderOption::Comment(Cow::Owned(format!(
                "pktmatch merge: the captures of {} ({}) in one file; time stamps on {}'s clock, \
                 each frame's own in its comment; frame.packet_id: the same packet",
                session.display(),
                ix.points().map(|p| p.label()).collect::<Vec<_>>().join(", "),
                label(reference)
            ))),
                SectionHeaderOption::UserApplication(Cow::Owned(format!(
                    "pktmatch {}",
                    env!("CARGO_PKG_VERSION")
                ))),
            ],
            ..Default::default()
        };
    let mut w = PcapNgWriter::with_section_header(&mut *out, shb).map_err(write_err)?;
    for (&(p, linktype), &(_, snaplen)) in &plan.interfaces {
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(linktype),
            snaplen,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed(label(p))),
                InterfaceDescriptionOption::IfDescription(Cow::Owned(format!(
                    "pktmatch point {} ({})",
                    label(p),
                    paths[p as usize].display()
                ))),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        w.write_pcapng_block(idb).map_err(write_err)?;
    }
    let mut readers = Vec::with_capacity(paths.len());
    for (p, path) in paths.iter().enumerate() {
        readers.push(Reader::open(ix, session, p as u16, path)?);
    }
    let mut per_point = vec![0u64; paths.len()];
    let mut points_of_id: HashMap<u32, u64> = HashMap::new();
    for &(ts, p, f) in &plan.order {
        let held = readers[p as usize].take(ix, session, f, &plan.merged)?;
        let ts = u64::try_from(ts).map_err(|_| {
            Error(format!(
                "{}: frame {f} is before 1970 on {}'s clock, which pcapng cannot hold",
                paths[p as usize].display(),
                label(reference)
            ))
        })?;
        let id = at(&plan.ids, p, f);
        *points_of_id.entry(id).or_default() |= 1 << (p.min(63));
        let interface_id = plan.interfaces.get(&(p, held.linktype)).map_or(0, |v| v.0);
        let body = epb::body(
            interface_id,
            ts,
            &held,
            &comment(ix, plan, p, f, held.ts_ns),
            u64::from(id),
        );
        let len = epb::block_len(&body);
        let block = RawBlock {
            type_: epb::TYPE,
            initial_len: len,
            body: Cow::Owned(body),
            trailer_len: len,
        };
        w.write_raw_block(&block).map_err(write_err)?;
        per_point[p as usize] += 1;
    }
    Ok(Summary {
        per_point: ix
            .points()
            .map(|pt| (pt.label().to_owned(), per_point[pt.index() as usize]))
            .collect(),
        packets: points_of_id.len() as u64,
        seen_at_several: points_of_id.values().filter(|m| m.count_ones() > 1).count() as u64,
        reference: label(reference).to_owned(),
        uncorrected: plan
            .uncorrected
            .iter()
            .map(|&p| label(p).to_owned())
            .collect(),
    })
}

fn out_error(e: &pcap_file::PcapError) -> Error {
    Error(format!("cannot write the merged capture: {e}"))
}

/// The Enhanced Packet Block, written here rather than by pcap-file, whose
/// option type for epb_packetid is not public: draft-ietf-opsawg-pcapng
/// §4.3 (block) and §3.5 (options), little endian as the section header
/// says.
mod epb {
    use std::ops::Range;

    pub const TYPE: u32 = 6;
    pub const INTERFACE_ID: Range<usize> = 0..4;
    pub const TIMESTAMP_UPPER: Range<usize> = 4..8;
    pub const TIMESTAMP_LOWER: Range<usize> = 8..12;
    pub const CAPTURED_LEN: Range<usize> = 12..16;
    pub const ORIGINAL_LEN: Range<usize> = 16..20;
    /// The packet data, padded to 32 bits, then the options.
    pub const DATA: usize = 20;
    const OPT_ENDOFOPT: u16 = 0;
    const OPT_COMMENT: u16 = 1;
    /// epb_flags: bits 0-1 direction, 01 inbound, 10 outbound.
    const EPB_FLAGS: u16 = 2;
    /// epb_packetid: a 64-bit id "the same packet" carries at every
    /// interface it was seen on.
    const EPB_PACKETID: u16 = 5;

    /// Block type, both lengths and the body.
    pub fn block_len(body: &[u8]) -> u32 {
        (12 + body.len()) as u32
    }

    fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    pub fn body(interface: u32, ts_ns: u64, held: &super::Held, comment: &str, id: u64) -> Vec<u8> {
        let data = &held.data;
        let mut b = vec![0u8; DATA];
        b[INTERFACE_ID].copy_from_slice(&interface.to_le_bytes());
        b[TIMESTAMP_UPPER].copy_from_slice(&((ts_ns >> 32) as u32).to_le_bytes());
        b[TIMESTAMP_LOWER].copy_from_slice(&(ts_ns as u32).to_le_bytes());
        b[CAPTURED_LEN].copy_from_slice(&(data.len() as u32).to_le_bytes());
        let original = held.orig_len.max(data.len() as u32);
        b[ORIGINAL_LEN].copy_from_slice(&original.to_le_bytes());
        b.extend_from_slice(data);
        b.resize(b.len().next_multiple_of(4), 0);
        option(&mut b, OPT_COMMENT, comment.as_bytes());
        option(&mut b, EPB_PACKETID, &id.to_le_bytes());
        let flags: u32 = match held.direction {
            capture::Direction::Inbound => 1,
            capture::Direction::Outbound => 2,
            capture::Direction::Unknown => 0,
        };
        if flags != 0 {
            option(&mut b, EPB_FLAGS, &flags.to_le_bytes());
        }
        option(&mut b, OPT_ENDOFOPT, &[]);
        b
    }
}

/// pcapng options hold at most 65535 bytes: links beyond are left out of
/// the comment (a journey that long is no single packet anyway).
const COMMENT_MAX: usize = 65_000;

/// The comment of frame `f` of `p` (`index::merged`).
fn comment(ix: &Index<'_>, plan: &Plan, p: u16, f: u32, ts_ns: i64) -> String {
    let label = |q: u16| ix.point(q).map_or("?", |pt| pt.label());
    let id = at(&plan.ids, p, f);
    let mut c = MergedComment {
        label: label(p),
        frame: f,
        ts_ns,
        links: Vec::new(),
    };
    let mut len = 120;
    for peer in ix.peers(p, f) {
        let m = at(&plan.merged, peer.point, peer.frame);
        if m == 0 {
            continue;
        }
        len += label(peer.point).len() + 30;
        if len > COMMENT_MAX {
            break;
        }
        c.links.push(MergedLink {
            label: label(peer.point),
            frame: peer.frame,
            merged: m,
            same: at(&plan.ids, peer.point, peer.frame) == id,
        });
    }
    c.to_text()
}

/// One point's capture, read in its own order, handing out frames in the
/// merged order.
struct Reader {
    point: u16,
    path: PathBuf,
    capture: capture::Capture<'static>,
    /// Frames read ahead of their turn (the capture's own order is not the
    /// merged order where its time stamps go back).
    held: HashMap<u32, Held>,
    last: u32,
}

impl Reader {
    fn open(ix: &Index<'_>, session: &Path, point: u16, path: &Path) -> Result<Reader, Error> {
        let label = ix.point(point).map_or("?", |p| p.label());
        let capture = capture::open(path).map_err(|e| {
            Error(format!(
                "point {label}: {e} (read once already: did {} change? {})",
                path.display(),
                session.display()
            ))
        })?;
        Ok(Reader {
            point,
            path: path.to_path_buf(),
            capture,
            held: HashMap::new(),
            last: 0,
        })
    }

    /// Frame `f`, reading on and holding back the frames of the output
    /// that come later.
    fn take(
        &mut self,
        ix: &Index<'_>,
        session: &Path,
        f: u32,
        merged: &[Vec<u32>],
    ) -> Result<Held, Error> {
        if let Some(h) = self.held.remove(&f) {
            return Ok(h);
        }
        loop {
            let changed = || {
                Error(format!(
                    "{}: changed while pktmatch merge read it (frame {}): not the capture \
                     {} indexed",
                    self.path.display(),
                    self.last + 1,
                    session.display()
                ))
            };
            let (frame, ts_ns, orig_len, link, interface, direction, check, data) = {
                let packet = self
                    .capture
                    .next_packet()
                    .map_err(|e| Error(format!("{}: {e}", self.path.display())))?
                    .ok_or_else(changed)?;
                let keep = packet.frame == f || at(merged, self.point, packet.frame) != 0;
                (
                    packet.frame,
                    packet.ts_ns,
                    packet.orig_len,
                    packet.link,
                    packet.interface,
                    packet.direction,
                    session::frame_check(&packet),
                    keep.then(|| packet.data.to_vec()),
                )
            };
            if !ix.verify(self.point, frame, check) {
                return Err(changed());
            }
            self.last = frame;
            let Some(data) = data else { continue };
            let iface = self.capture.interfaces().get(interface as usize);
            let held = Held {
                ts_ns,
                orig_len,
                linktype: u32::from(out_linktype(link, iface)),
                direction,
                data,
            };
            let wanted = frame == f;
            if wanted {
                return Ok(held);
            }
            self.held.insert(frame, held);
        }
    }
}
