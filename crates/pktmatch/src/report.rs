//! `pktmatch report SESSION (--csv OUT | --html OUT)`: the seed's packet
//! flow summary — one row per packet as it crossed the capture points
//! (direction, what it is, per point frame / time / client port, corrected
//! delta between adjacent points).
//!
//! The index holds matches, not packets, so the captures are read again
//! (each frame checked against the index first: a report must never put
//! one capture's packets beside another's matches).  Parts:
//! [`describe`] (what a packet is), [`rows`] (which frames make one row,
//! in time order), [`csv`] (every row), [`html`] (a page that stays small:
//! [`summary`], [`plot`], [`histogram`], [`ladder`]).
//!
//! `--connection EXPR` keeps the connections a display-filter-like
//! expression names, at every point (`filter`, `subset`); `--limit N` is
//! the length of the page's lists and ladder.

pub mod csv;
pub mod describe;
pub mod histogram;
pub mod html;
pub mod ladder;
pub mod plot;
pub mod rows;
pub mod summary;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use capture::keys;
use index::Links;

use crate::filter::Filter;
use crate::output::{Inputs, Output, Rules};
use crate::session::{self, Error, IndexFile, PointFile};
use crate::subset::{self, Selection};

#[derive(clap::Args, Debug, Clone)]
#[command(group = clap::ArgGroup::new("format").required(true).multiple(false))]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// Write the summary as CSV to OUT (`-`: standard output).
    #[arg(long, value_name = "OUT", group = "format")]
    pub csv: Option<PathBuf>,
    /// Write the summary as a self-contained HTML page to OUT (`-`: standard
    /// output).
    #[arg(long, value_name = "OUT", group = "format")]
    pub html: Option<PathBuf>,
    /// Read point LABEL's capture from FILE instead of the path in the index.
    #[arg(long = "point", value_name = "LABEL=FILE", value_parser = session::parse_point_file)]
    pub points: Vec<PointFile>,
    /// Only the connections this display-filter-like expression names
    /// (e.g. 'tcp.port == 35777'), at every point however NAT and proxies
    /// changed their addresses; the HTML page's ladder shows the first.
    #[arg(long, value_name = "EXPR")]
    pub connection: Option<String>,
    /// Rows in each list of the HTML page (worst packets, worst
    /// connections) and packets in its ladder diagram.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub limit: usize,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// What a report run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub frames: usize,
}

/// Runs `pktmatch report`.
pub fn run(args: &Args) -> Result<Summary, Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    let paths = session::capture_paths(&ix, file.path(), &args.points)?;
    let (target, html) = match (&args.csv, &args.html) {
        (Some(p), _) => (p, false),
        (None, Some(p)) => (p, true),
        (None, None) => return Err(Error::new("give --csv OUT or --html OUT")),
    };
    // Opened first: a bad output path fails before the captures are read.
    let rules = Rules {
        inputs: Inputs {
            captures: &paths,
            index: Some(file.path()),
        },
        force: args.force,
        binary: false,
    };
    let mut out = Output::create(target, &rules)?;

    let filter = args
        .connection
        .as_deref()
        .map(Filter::parse)
        .transpose()
        .map_err(Error)?;
    // Every frame's connection (5-tuple) and a name for each; with
    // --connection, the frames it keeps.
    let conns = connections(&ix, file.path(), &paths, filter.is_some() || html)?;
    let links = Links::new(&ix);
    let (selection, chosen) = match &filter {
        Some(f) => {
            let (seeds, first) = seeds(&ix, file.path(), &paths, f)?;
            let sel = subset::expand(&ix, &links, &seeds, &conns.of_frame);
            (Some(sel), first)
        }
        None => (None, None),
    };
    let kept = |n: &rows::Node| {
        selection
            .as_ref()
            .is_none_or(|s: &Selection| s.contains(*n))
    };
    let groups: Vec<Vec<rows::Node>> = rows::groups(&ix)
        .iter()
        .filter(|g| g.iter().any(&kept))
        .flat_map(|g| rows::split(&ix, g))
        .collect();
    let needed: HashSet<rows::Node> = groups.iter().flatten().copied().collect();
    let mut frames: HashMap<rows::Node, describe::Frame> = HashMap::with_capacity(needed.len());
    let mut describers = Vec::with_capacity(ix.point_count());
    for (p, path) in ix.points().zip(&paths) {
        let point = p.index();
        let mut d = describe::Describer::new();
        // A point none of whose frames is in a row need not be read (nor
        // be present).
        if needed.iter().any(|n| n.0 == point) {
            session::read_checked(&ix, file.path(), point, path, |packet| {
                let f = d.describe(packet.ts_ns, packet.link, packet.data);
                if needed.contains(&(point, packet.frame)) {
                    frames.insert((point, packet.frame), f);
                }
                Ok(())
            })?;
        }
        describers.push(d);
    }
    let table = rows::build(&ix, &groups, &describers, &frames);
    let session_name = file.path().display().to_string();
    let written = if html {
        let in_subset = |p: u16, f: u32| kept(&(p, f));
        let chosen = chosen.map(|(p, f)| (p, conns.of(p, f)));
        let s = summary::build(&ix, &table, &conns, &in_subset, chosen, args.limit);
        let page = html::Page {
            session: &session_name,
            connection: args.connection.as_deref(),
        };
        html::write(&ix, &page, &table, &s, &mut out)
    } else {
        csv::write(&ix, &table, &mut out).map(|_| ())
    };
    written.map_err(|e| out.error(e))?;
    out.finish()?;
    Ok(Summary {
        rows: table.len(),
        frames: frames.len(),
    })
}

/// Every frame's connection (`FlowKey::conn_hash`) and each connection's
/// name (`client:port → server:port PROTO at POINT`, from its first
/// frame; the client is the side with the higher port when the first frame
/// is no SYN), when `wanted`; else none (reading every capture costs).
fn connections(
    ix: &index::Index<'_>,
    session: &std::path::Path,
    paths: &[PathBuf],
    wanted: bool,
) -> Result<summary::Connections, Error> {
    let mut out = summary::Connections::default();
    if !wanted {
        return Ok(out);
    }
    for (p, path) in ix.points().zip(paths) {
        let point = p.index();
        let mut v = Vec::with_capacity(p.packets() as usize);
        session::read_checked(ix, session, point, path, |packet| {
            let key = keys::extract(packet.link, packet.data).map(|(k, _)| k);
            let c = key.map_or(0, |k| k.conn_hash().max(1));
            if let Some(k) = key {
                out.names
                    .entry((point, c))
                    .or_insert_with(|| name(&k, p.label()));
            }
            v.push(c);
            Ok(())
        })?;
        out.of_frame.push(v);
    }
    Ok(out)
}

fn name(k: &keys::FlowKey, label: &str) -> String {
    let proto = match k.proto {
        6 => "TCP".to_owned(),
        17 => "UDP".to_owned(),
        1 => "ICMP".to_owned(),
        58 => "ICMPv6".to_owned(),
        n => format!("IP proto {n}"),
    };
    let (s, d) = (
        std::net::SocketAddr::new(k.src_ip(), k.sport),
        std::net::SocketAddr::new(k.dst_ip(), k.dport),
    );
    format!("{s} → {d} {proto} at {label}")
}

/// The frames `filter` picks, and the first of them at the lowest point.
type Seeds = (Vec<rows::Node>, Option<rows::Node>);

fn seeds(
    ix: &index::Index<'_>,
    session: &std::path::Path,
    paths: &[PathBuf],
    filter: &Filter,
) -> Result<Seeds, Error> {
    let mut seeds = Vec::new();
    for (p, path) in ix.points().zip(paths) {
        let point = p.index();
        session::read_checked(ix, session, point, path, |packet| {
            let key = keys::extract(packet.link, packet.data).map(|(k, _)| k);
            if filter.matches(key.as_ref()) {
                seeds.push((point, packet.frame));
            }
            Ok(())
        })?;
    }
    let first = seeds.first().copied();
    Ok((seeds, first))
}
