//! `PairTasksExec` across the network: the DataFusion extension codec the
//! coordinator encodes the leaf with and every worker decodes it with.
//!
//! The layout is `matcher::wire`'s (little-endian, a version byte first):
//! both ends are the same pktmatch build, a worker of another one refuses
//! the plan instead of misreading it.

use super::exec::{PairTask, PairTasksExec, Source, Spec};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use matcher::table::Fingerprint;
use matcher::wire::{get_conn_pairs, put_conn_pairs, Reader, WireError, Writer};
use std::path::PathBuf;
use std::sync::Arc;

/// The layout's version.
const VERSION: u8 = 2;

/// The codec (registered on the coordinator's session and the workers').
#[derive(Debug, Default)]
pub struct PairTasksCodec;

impl PhysicalExtensionCodec for PairTasksCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return Err(DataFusionError::Internal(
                "PairTasksExec has no inputs".into(),
            ));
        }
        let spec = decode(buf).map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Arc::new(PairTasksExec::new(Arc::new(spec))))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> datafusion::error::Result<()> {
        let exec = node.downcast_ref::<PairTasksExec>().ok_or_else(|| {
            DataFusionError::Internal(format!("not a PairTasksExec: {}", node.name()))
        })?;
        buf.extend_from_slice(&encode(&exec.spec));
        Ok(())
    }
}

/// The stage's spec as bytes.
pub fn encode(spec: &Spec) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(VERSION);
    w.i64(spec.window_ns);
    w.len(spec.tasks);
    w.len(spec.pairs.len());
    for p in &spec.pairs {
        put_source(&mut w, &p.a);
        put_source(&mut w, &p.b);
        put_fingerprint(&mut w, &p.fa);
        put_fingerprint(&mut w, &p.fb);
        put_conn_pairs(&mut w, &p.tier1);
    }
    w.0
}

/// What [`encode`] wrote.
pub fn decode(buf: &[u8]) -> Result<Spec, WireError> {
    let mut r = Reader::new(buf);
    if r.u8("plan version")? != VERSION {
        return Err(WireError {
            what: "plan version",
            offset: 0,
        });
    }
    let window_ns = r.i64("window")?;
    let tasks = r.u32("tasks")? as usize;
    let n = r.len("pairs", 10)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        pairs.push(PairTask {
            a: get_source(&mut r)?,
            b: get_source(&mut r)?,
            fa: get_fingerprint(&mut r)?,
            fb: get_fingerprint(&mut r)?,
            tier1: get_conn_pairs(&mut r)?,
        });
    }
    r.end()?;
    Ok(Spec {
        pairs,
        window_ns,
        tasks,
    })
}

fn put_fingerprint(w: &mut Writer, f: &Fingerprint) {
    w.u32(f.frames);
    w.u32(f.conns);
    w.i64(f.first_ts);
    w.i64(f.last_ts);
}

fn get_fingerprint(r: &mut Reader) -> Result<Fingerprint, WireError> {
    Ok(Fingerprint {
        frames: r.u32("frames")?,
        conns: r.u32("connections")?,
        first_ts: r.i64("first time")?,
        last_ts: r.i64("last time")?,
    })
}

fn put_source(w: &mut Writer, s: &Source) {
    match s {
        Source::Capture(p) => {
            w.u8(0);
            w.bytes(&path_bytes(p));
        }
        Source::Keys { label, dir } => {
            w.u8(1);
            w.str(label);
            w.bytes(&path_bytes(dir));
        }
    }
}

fn get_source(r: &mut Reader) -> Result<Source, WireError> {
    match r.u8("source")? {
        0 => Ok(Source::Capture(bytes_path(r.bytes("capture path")?))),
        1 => Ok(Source::Keys {
            label: r.string("point label")?,
            dir: bytes_path(r.bytes("key table path")?),
        }),
        _ => Err(r.error("source kind")),
    }
}

// Paths as the OS's bytes: a capture's name need not be UTF-8.
#[cfg(unix)]
fn path_bytes(p: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn bytes_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_bytes(p: &std::path::Path) -> Vec<u8> {
    p.to_string_lossy().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use matcher::pairing::ConnPair;

    fn fp(n: u32) -> Fingerprint {
        Fingerprint {
            frames: n,
            conns: n + 1,
            first_ts: -i64::from(n),
            last_ts: i64::MAX - i64::from(n),
        }
    }

    #[test]
    fn spec_round_trip() {
        let spec = Spec {
            pairs: vec![
                PairTask {
                    a: Source::Capture("/data/client.pcapng".into()),
                    b: Source::Keys {
                        label: "wan".into(),
                        dir: "/data/k/point=wan".into(),
                    },
                    fa: fp(1),
                    fb: fp(2),
                    tier1: vec![ConnPair {
                        a: 3,
                        b: 7,
                        flip: true,
                        votes: 2.5,
                        tier: 1,
                    }],
                },
                PairTask {
                    a: Source::Capture("/data/x".into()),
                    b: Source::Capture("/data/y".into()),
                    fa: fp(3),
                    fb: fp(4),
                    tier1: vec![],
                },
            ],
            window_ns: 2_000_000_000,
            tasks: 2,
        };
        let bytes = encode(&spec);
        assert_eq!(decode(&bytes).unwrap(), spec);
        // Every truncation is refused, none panics.
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "{n} bytes decoded");
        }
    }
}
