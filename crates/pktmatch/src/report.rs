//! `pktmatch report SESSION (--csv OUT | --html OUT)`: the seed's packet
//! flow summary — one row per packet as it crossed the capture points
//! (direction, what it is, per point frame / time / client port, corrected
//! delta between adjacent points).
//!
//! The index holds matches, not packets, so the captures are read again
//! (each frame checked against the index first: a report must never put
//! one capture's packets beside another's matches).  Parts:
//! [`describe`] (what a packet is), [`rows`] (which frames make one row,
//! in time order), [`csv`], [`html`] with [`plot`].

pub mod csv;
pub mod describe;
pub mod html;
pub mod plot;
pub mod rows;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::output::{Inputs, Output, Rules};
use crate::session::{self, Error, IndexFile, PointFile};

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

    let groups: Vec<Vec<rows::Node>> = rows::groups(&ix)
        .iter()
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
        html::write(&ix, &session_name, &table, &mut out)
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
