//! `ee-synth OUTDIR`: writes the synthetic Enterprise Extender captures
//! (`synthetic-*.pcapng`) and the truth file into OUTDIR.  All traffic is
//! generated, not captured; see the crate README.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(outdir), None) = (args.next(), args.next()) else {
        eprintln!("usage: ee-synth OUTDIR");
        return ExitCode::from(2);
    };
    match ee_synth::generate(&PathBuf::from(outdir)) {
        Ok(written) => {
            for (path, frames) in &written.captures {
                println!("{}: {} frames", path.display(), frames);
            }
            println!(
                "{}: {} events",
                written.truth.display(),
                written.truth_events
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ee-synth: {error}");
            ExitCode::FAILURE
        }
    }
}
