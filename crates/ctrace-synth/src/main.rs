//! `ctrace-synth IN.pcap OUT --framing raw|rdw|bdw [--osaenta]
//! [--segment-size N] [--data-trace] [--malformed KIND] ...`: writes a
//! synthetic CTRACE file; see README.md.

fn main() {
    let (input, output, options) = match ctrace_synth::parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ctrace-synth: {e}");
            std::process::exit(2);
        }
    };
    match ctrace_synth::write(&input, &output, &options) {
        Ok(s) => eprintln!(
            "ctrace-synth: {} frames, {} written, {} skipped, {} data records, {} CTEs ({} packets segmented), {} bytes -> {}",
            s.frames,
            s.packets,
            s.skipped,
            s.data_records,
            s.ctes,
            s.segmented,
            s.bytes,
            output.display()
        ),
        Err(e) => {
            eprintln!("ctrace-synth: {}: {e}", input.display());
            std::process::exit(1);
        }
    }
}
