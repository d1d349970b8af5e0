//! `pktmatch`: the command line of the pktmatch suite.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static HEAP: pktmatch::heap::Counting = pktmatch::heap::Counting;

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
    /// Convert a z/OS CTRACE (SYSTCPDA/SYSTCPOT) trace — or an IPCS
    /// formatted report of one, either possibly AMATERSE- or XMIT-packed —
    /// to pcapng, readable by any Wireshark without the pktmatch plugins.
    #[command(after_help = "Examples:\n  \
        pktmatch convert SYSTCPDA.TRACE.bin trace.pcapng\n  \
        pktmatch convert --raw-cte --leap-seconds 27 trace.bin trace.pcapng\n  \
        pktmatch convert ipcs-full-report.txt trace.pcapng\n  \
        pktmatch convert TRACE.TRS trace.pcapng   (AMATERSE PACK/SPACK; TSO XMIT likewise)\n\n\
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
    /// Write every capture's per-frame matching keys as Parquet key tables
    /// (DIR/point=LABEL/part-N.parquet), for `index --keys` and for DuckDB,
    /// Spark, pandas or DataFusion.
    #[command(after_help = "Examples:\n  \
        pktmatch keys -o shop.keys client.pcapng wan.pcapng dc.pcapng lbserver.pcapng\n  \
        pktmatch index --keys shop.keys -o shop.pktmatch\n  \
        duckdb -c \"SELECT point, count(*) FROM read_parquet('shop.keys/*/*.parquet', \
        hive_partitioning = true) GROUP BY point\"\n\n\
        One row per frame in frame order: time stamp, lengths, the index's frame check, and \
        the keys the matcher uses (addresses, ports, IP ID, TCP seq/ack/flags/TSval, lengths, \
        payload digest, application ids, conn_hash to repartition by connection); the schema \
        is in docs/keys.md.  Inputs are only read.")]
    Keys(pktmatch::keys::Args),
    /// Show what an index holds: per point its capture and whether the file
    /// on disk is still that capture; per point pair the clock offset and
    /// drift, matches by method, packets lost each way, translations found.
    #[command(after_help = "Examples:\n  \
        pktmatch info shop.pktmatch\n  \
        pktmatch info shop.pktmatch --json > clocks.json\n  \
        pktmatch info shop.pktmatch --point wan=/archive/wan.pcapng\n\n\
        --json has pairs: [{a, b, offset_ns, drift_ppm, reference_ns, offset_bound_ns, \
        matched, lost_a_to_b, lost_b_to_a (network loss), methods, translations}] with a and b as point \
        labels, meaning t_b = t_a + offset_ns + (t_a - reference_ns) * drift_ppm * 1e-6 \
        (tests/lab/score.py reads it as CLOCKS.json).  Reading the captures to check \
        them can be skipped with --no-files.")]
    Info(pktmatch::info::Args),
    /// Write every match as CSV, the machine-readable contract (one row per
    /// match, points by label, frames numbered as in Wireshark).
    #[command(after_help = "Examples:\n  \
        pktmatch export shop.pktmatch --csv matches.csv\n  \
        pktmatch export shop.pktmatch --csv - | head\n  \
        pktmatch export shop.pktmatch --lost-csv missing.csv\n\n\
        Header: point_a,frame_a,point_b,frame_b,delta_raw_ns,delta_corrected_ns,method,confidence \
        (docs/index-format.md, \"The CSV contract\"); --lost-csv: point,frame,not_seen_at,kind \
        with kind network-loss, capture-drop, outside-capture or uncertain.  Only the index is read.")]
    Export(pktmatch::export::Args),
    /// The packet flow summary: one row per packet as it crossed the points
    /// (direction, what it is, per point frame/time/client port, corrected
    /// delta between adjacent points), as CSV or a self-contained HTML page
    /// with a plot of per-hop delay over time.
    #[command(after_help = "Examples:\n  \
        pktmatch report shop.pktmatch --html shop.html\n  \
        pktmatch report shop.pktmatch --csv - --point client=/mnt/pc/client.pcapng\n\n\
        The captures are read again to describe the packets ([SYN, ACK], GET /index.html, \
        200 OK – first of 20, DNS query A www.example.com, TLS Client Hello); a capture \
        whose frames differ from the indexed ones is refused.")]
    Report(pktmatch::report::Args),
    /// Write a pcapng copy of each capture with packet comments naming the
    /// matching frames at the other points, for any Wireshark without the
    /// plugin.
    #[command(after_help = "Examples:\n  \
        pktmatch annotate shop.pktmatch annotated/\n  \
        tshark -r annotated/wan.pcapng -Y frame.comment -T fields -e frame.number -e frame.comment\n\n\
        Writes OUTDIR/<label>.pcapng per point: every frame, same order, link types, time \
        stamps and lengths, comments like\n  \
        pktmatch: wan #5 +2.718312 s (corrected +30.3 µs), method nat, 100%\n  \
        pktmatch: not seen at dc (lost on the network)\n\
        Inputs are never modified; an output that would overwrite an input is refused.")]
    Annotate(pktmatch::annotate::Args),
    /// Write every point's capture into one pcapng on one clock: one
    /// interface per point, frames in corrected time order, the copies of
    /// each packet sharing one packet id (frame.packet_id).
    #[command(after_help = "Examples:\n  \
        pktmatch merge shop.pktmatch shop-merged.pcapng\n  \
        pktmatch merge shop.pktmatch conn.pcapng --filter 'tcp.port == 35777'\n  \
        pktmatch merge shop.pktmatch burst.pcapng --from +1.5 --to +2.0 --reference dc\n  \
        tshark -r shop-merged.pcapng -Y 'frame.packet_id == 42'\n\n\
        Each frame keeps its bytes and original length; its time stamp is its own corrected to \
        the reference point's clock, and its comment says the point, its frame number and time \
        stamp there, and where the frames linked to it are in the merged file.  Open it with \
        the same index (-o pktmatch.index:shop.pktmatch) for links that go to the right frame.  \
        Inputs are never modified.")]
    Merge(pktmatch::merge::Args),
    /// Serve as a worker of a cluster that `pktmatch index --engine
    /// flight://...` sends the matching of each pair of points to (built
    /// with the `datafusion` feature).
    #[command(after_help = "Examples:\n  \
        pktmatch worker --listen 127.0.0.1:50051\n  \
        pktmatch index --engine flight://127.0.0.1:50051,127.0.0.1:50052 -o s.pktmatch a.pcap b.pcap\n  \
        tools/local-cluster.sh start 2   (prints the URL as its last line)\n\n\
        A datafusion-distributed worker (Arrow Flight over gRPC).  It reads the captures \
        or key tables at the paths the coordinator gives: on one machine they are shared; \
        on several, the paths must name shared storage.  Port 0: any free port (printed).")]
    Worker(pktmatch::worker::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => pktmatch::index::run(&args).map(|summary| {
            if !args.quiet {
                eprint!("{summary}");
            }
        }),
        Command::Worker(args) => pktmatch::worker::run(&args),
        Command::Keys(args) => pktmatch::keys::run(&args).map(|summary| {
            if !args.quiet {
                eprint!("{summary}");
            }
        }),
        Command::Convert(args) => pktmatch::convert::run(&args)
            .map(|summary| {
                eprintln!("{summary}");
            })
            .map_err(|e| e.to_string()),
        Command::Info(args) => {
            pktmatch::info::run(&args, &mut std::io::stdout().lock()).map_err(|e| e.to_string())
        }
        Command::Export(args) => pktmatch::export::run(&args)
            .map(|s| {
                let shown = |p: &Option<std::path::PathBuf>| {
                    p.as_ref()
                        .filter(|p| !pktmatch::output::is_stdout(p))
                        .cloned()
                };
                if let (Some(n), Some(p)) = (s.matches, shown(&args.csv)) {
                    eprintln!("{n} matches -> {}", p.display());
                }
                if let (Some(n), Some(p)) = (s.parquet, shown(&args.parquet)) {
                    eprintln!("{n} matches -> {}", p.display());
                }
                if let (Some(n), Some(p)) = (s.lost, shown(&args.lost_csv)) {
                    eprintln!("{n} packets not seen somewhere -> {}", p.display());
                }
            })
            .map_err(|e| e.to_string()),
        Command::Report(args) => pktmatch::report::run(&args)
            .map(|s| {
                let out = args.csv.as_ref().or(args.html.as_ref());
                if let Some(out) = out.filter(|o| !pktmatch::output::is_stdout(o)) {
                    eprintln!("{} rows ({} frames) -> {}", s.rows, s.frames, out.display());
                }
            })
            .map_err(|e| e.to_string()),
        Command::Merge(args) => pktmatch::merge::run(&args)
            .map(|summary| {
                if !pktmatch::output::is_stdout(&args.out) {
                    eprintln!("{summary} -> {}", args.out.display());
                }
            })
            .map_err(|e| e.to_string()),
        Command::Annotate(args) => pktmatch::annotate::run(&args)
            .map(|points| {
                for p in points {
                    eprintln!("{p}");
                }
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
