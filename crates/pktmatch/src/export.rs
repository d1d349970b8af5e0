//! `pktmatch export SESSION --csv OUT [--lost-csv OUT] [--parquet OUT]`: the
//! matches as the
//! CSV contract of docs/index-format.md (header
//! `point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence`,
//! one row per match), and the packets not seen where they should have
//! been (header `point,frame,not_seen_at,kind`, kind one of
//! `network-loss`, `capture-drop`, `outside-capture`, `uncertain`).  The
//! `index` crate's [`index::export_csv`] and [`index::export_lost_csv`]
//! write exactly that; this module only chooses where it goes.

use std::path::PathBuf;

use crate::output::{Inputs, Output, Rules};
use crate::session::{Error, IndexFile};

#[derive(clap::Args, Debug, Clone)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true))]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// Where to write the matches (`-`: standard output).
    #[arg(long, value_name = "OUT", group = "what")]
    pub csv: Option<PathBuf>,
    /// Where to write the packets not seen where they should have been,
    /// and why (`-`: standard output).
    #[arg(long, value_name = "OUT", group = "what")]
    pub lost_csv: Option<PathBuf>,
    /// Where to write the matches as Parquet (`-`: standard output): the
    /// CSV's rows, typed (docs/keys.md, "Matches as Parquet").
    #[arg(long, value_name = "OUT", group = "what")]
    pub parquet: Option<PathBuf>,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Rows written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub matches: Option<u64>,
    /// Rows of the Parquet matches.
    pub parquet: Option<u64>,
    pub lost: Option<u64>,
}

/// Runs `pktmatch export`.
pub fn run(args: &Args) -> Result<Summary, Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    let outs: Vec<&PathBuf> = [&args.csv, &args.lost_csv, &args.parquet]
        .into_iter()
        .flatten()
        .collect();
    for (k, a) in outs.iter().enumerate() {
        if outs[..k].contains(a) {
            return Err(Error(format!(
                "{}: two of --csv, --lost-csv and --parquet name the same output",
                a.display()
            )));
        }
    }
    // The captures are not read; their paths only guard against overwriting.
    let inputs: Vec<PathBuf> = ix.points().map(|p| PathBuf::from(p.path())).collect();
    let rules = Rules {
        inputs: Inputs {
            captures: &inputs,
            index: Some(file.path()),
        },
        force: args.force,
        binary: false,
    };
    let mut summary = Summary::default();
    if let Some(path) = &args.csv {
        let mut out = Output::create(path, &rules)?;
        let rows = index::export_csv(&ix, &mut out).map_err(|e| out.error(e))?;
        out.finish()?;
        summary.matches = Some(rows);
    }
    if let Some(path) = &args.parquet {
        let binary = Rules {
            inputs: Inputs {
                captures: &inputs,
                index: Some(file.path()),
            },
            force: args.force,
            binary: true,
        };
        let mut out = Output::create(path, &binary)?;
        let rows = engine::matches::export(&ix, &mut out, path).map_err(|e| out.error(e))?;
        out.finish()?;
        summary.parquet = Some(rows);
    }
    if let Some(path) = &args.lost_csv {
        let mut out = Output::create(path, &rules)?;
        let rows = index::export_lost_csv(&ix, &mut out).map_err(|e| out.error(e))?;
        out.finish()?;
        summary.lost = Some(rows);
    }
    Ok(summary)
}
