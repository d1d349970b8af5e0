//! `capclock IN OUT --offset-ns N --drift-ppm P [--reference-ns T0] [--step AT_S:DELTA_NS]...`
//!
//! Writes OUT, a copy of the pcap/pcapng capture IN whose packet time stamps
//! carry a known clock error, and prints the true values as one JSON object.

use std::path::PathBuf;
use std::process::ExitCode;

use capclock::{rewrite_file_stepped, Ppm, Step};
use clap::Parser;

/// Give a copy of a capture a known clock offset, linear drift and steps.
///
/// Every time stamp t (ns since the Unix epoch) becomes
/// t' = t + offset + (t - T0) * ppm * 1e-6, plus the DELTA_NS of every step
/// whose instant t has reached, rounded to the nearest ns and then to the
/// file's resolution.  IN is only read; OUT is written through a
/// temporary file and a rename.  The true values are printed as one JSON
/// object on standard output (and appended to --record FILE).
#[derive(Parser, Debug)]
#[command(name = "capclock", version, about, long_about = None)]
#[command(
    after_help = "Example:\n  capclock wan.pcapng wan-skewed.pcapng --offset-ns 2718281828 --drift-ppm 25 \\\n           --reference-ns 1700000000000000000\n  capclock wan.pcapng wan-stepped.pcapng --offset-ns 0 --step 3.5:-1500000000"
)]
struct Args {
    /// Input capture (pcap or pcapng); never modified.
    input: PathBuf,
    /// Output capture, same format as the input.
    output: PathBuf,
    /// Constant offset added to every time stamp, in nanoseconds (may be negative).
    #[arg(long, allow_negative_numbers = true)]
    offset_ns: i64,
    /// Linear drift in parts per million (decimal, may be negative): the clock
    /// gains ppm microseconds per second after the reference instant.
    #[arg(long, allow_negative_numbers = true, default_value = "0")]
    drift_ppm: Ppm,
    /// Reference instant T0 (ns since the Unix epoch) at which the drift term is
    /// zero; default: the first packet time stamp of IN.
    #[arg(long, allow_negative_numbers = true)]
    reference_ns: Option<i128>,
    /// A clock step: AT_SECONDS after T0 (on IN's clock; decimal, may be
    /// negative) the clock is set DELTA_NS further (negative: back, so time
    /// stamps go backwards there).  May be given several times.
    #[arg(long, value_name = "AT_SECONDS:DELTA_NS", allow_hyphen_values = true)]
    step: Vec<Step>,
    /// Also append the JSON object (one line) to this file.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match rewrite_file_stepped(
        &args.input,
        &args.output,
        args.offset_ns,
        args.drift_ppm,
        args.reference_ns,
        &args.step,
    ) {
        Ok(rep) => {
            let json = rep.to_json(&args.input, &args.output);
            println!("{json}");
            if let Some(path) = &args.record {
                use std::io::Write;
                let res = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| writeln!(f, "{json}"));
                if let Err(e) = res {
                    eprintln!("capclock: {}: {e}", path.display());
                    return ExitCode::from(1);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("capclock: {e}");
            ExitCode::from(1)
        }
    }
}
