//! `pktmatch`: the command line of the pktmatch suite.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pktmatch",
    version,
    about = "Packet matching across capture points, and z/OS trace conversion"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a z/OS CTRACE (SYSTCPDA/SYSTCPOT) trace to pcapng, readable
    /// by any Wireshark without the pktmatch plugins.
    #[command(after_help = "Examples:\n  \
        pktmatch convert SYSTCPDA.TRACE.bin trace.pcapng\n  \
        pktmatch convert --raw-cte --leap-seconds 27 trace.bin trace.pcapng\n\n\
        One interface per CTRACE interface (raw IP for packet trace, Ethernet for \
        OSAENTA, exported PDUs with the socket endpoints for data trace), direction \
        in the packet flags, original length kept, nanosecond time stamps.  The \
        input is only read.")]
    Convert(pktmatch::convert::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => pktmatch::convert::run(&args).map(|summary| {
            eprintln!("{summary}");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pktmatch: {error}");
            ExitCode::FAILURE
        }
    }
}
