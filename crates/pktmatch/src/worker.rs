//! `pktmatch worker`: one worker of a cluster that `index --engine
//! flight://...` sends the matching of each pair of points to
//! (docs/engine.md, "The cluster").

use clap::Args as ClapArgs;
use std::net::SocketAddr;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Address to serve on (HOST:PORT; port 0: any free port).  Once it
    /// listens, the worker prints "pktmatch worker listening on
    /// flight://HOST:PORT" on standard output.
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: SocketAddr,
    /// Threads for the network side (the matching of each task runs on a
    /// thread of its own).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub threads: usize,
}

#[cfg(feature = "datafusion")]
pub fn run(args: &Args) -> Result<(), String> {
    use std::io::Write as _;
    engine::cluster::worker::serve(args.listen, args.threads, |bound| {
        // A script waits for this line to learn the port.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "pktmatch worker listening on flight://{bound}");
        let _ = out.flush();
    })
    .map_err(|e| e.to_string())
}

#[cfg(not(feature = "datafusion"))]
pub fn run(args: &Args) -> Result<(), String> {
    Err(format!(
        "worker --listen {}: this pktmatch is built without DataFusion (cargo feature \
         pktmatch/datafusion, docs/engine.md)",
        args.listen
    ))
}
