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
    /// Match packets across capture points (path order, client side first)
    /// and write the sidecar index the Wireshark plugin and the other
    /// subcommands read.
    #[command(after_help = "Examples:\n  \
        pktmatch index -o shop.pktmatch client.pcapng wan.pcapng dc.pcapng lbserver.pcapng\n  \
        pktmatch index -o s.pktmatch --point pc=laptop.pcap.gz --point fw=outside.pcapng\n\n\
        Inputs: pcap (µs/ns, either byte order), pcapng (any interfaces and link types), \
        gzip-compressed files, z/OS CTRACE.  Inputs are only read.")]
    Index(pktmatch::index::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => pktmatch::index::run(&args).map(|summary| {
            if !args.quiet {
                eprint!("{summary}");
            }
        }),
        Command::Convert(args) => pktmatch::convert::run(&args)
            .map(|summary| {
                eprintln!("{summary}");
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pktmatch: {error}");
            ExitCode::FAILURE
        }
    }
}
