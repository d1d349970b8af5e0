//! `pktmatch export SESSION --csv OUT`: the matches as the CSV contract of
//! docs/index-format.md (header
//! `point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence`,
//! one row per match).  The `index` crate's [`index::export_csv`] writes
//! exactly that; this module only chooses where it goes.

use std::path::PathBuf;

use crate::output::Output;
use crate::session::{Error, IndexFile};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The index (`*.pktmatch`) written by `pktmatch index`.
    pub session: PathBuf,
    /// Where to write the CSV (`-`: standard output).
    #[arg(long, value_name = "OUT")]
    pub csv: PathBuf,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `pktmatch export`; returns the number of rows written.
pub fn run(args: &Args) -> Result<u64, Error> {
    let file = IndexFile::open(&args.session)?;
    let ix = file.load()?;
    // The captures are not read; their paths only guard against overwriting.
    let inputs: Vec<PathBuf> = ix.points().map(|p| PathBuf::from(p.path())).collect();
    let mut out = Output::create(&args.csv, &inputs, file.path(), args.force)?;
    let rows = index::export_csv(&ix, &mut out).map_err(|e| out.error(e))?;
    out.finish()?;
    Ok(rows)
}
