//! `pktmatch worker`: a datafusion-distributed worker (an Arrow Flight
//! service over tonic) that can decode and run the matching stage.

use super::codec::PairTasksCodec;
use super::exec::OnWorker;
use super::Error;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion_distributed::{DistributedExt, Worker, WorkerQueryContext};
use std::net::SocketAddr;
use std::sync::Arc;

/// Every query's session on the worker: our codec, and the mark that
/// lets the matching leaf run (exec.rs, `OnWorker`), with the address the
/// worker listens on (its errors name it).
async fn session(
    ctx: WorkerQueryContext,
    bound: SocketAddr,
) -> Result<SessionState, DataFusionError> {
    let mut builder = ctx.builder.with_distributed_user_codec(PairTasksCodec);
    builder
        .config()
        .get_or_insert_default()
        // The address bound: a worker listening on 0.0.0.0 or [::] is named
        // by its port only (the coordinator's message adds the cluster URL).
        .set_extension(Arc::new(OnWorker(bound.to_string())));
    Ok(builder.build())
}

/// Listens on `listen` (port 0: any free port), calls `ready` with the
/// address bound (so that a script can learn it), and serves until the
/// process ends.  `threads`: the runtime's worker threads (the matching
/// itself runs on its blocking pool, a thread per task).
pub fn serve(
    listen: SocketAddr,
    threads: usize,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let rt = crate::runtime::build(threads, "pktmatch-worker", true, "").map_err(Error::Worker)?;
    rt.block_on(async move {
        let incoming = tonic::transport::server::TcpIncoming::bind(listen)
            .map_err(|e| Error::Worker(format!("{listen}: {e}")))?;
        let bound = incoming
            .local_addr()
            .map_err(|e| Error::Worker(format!("{listen}: {e}")))?;
        ready(bound);
        let worker =
            Worker::from_session_builder(move |ctx: WorkerQueryContext| session(ctx, bound));
        tonic::transport::Server::builder()
            .add_service(worker.into_worker_server())
            .serve_with_incoming(incoming)
            .await
            .map_err(|e| Error::Worker(format!("{bound}: {e}")))
    })
}
