//! Synthetic Enterprise Extender (EE) traffic: IBM SNA/HPR carried over
//! UDP ports 12000-12004, written as real Ethernet/IPv4/UDP frames into
//! pcapng files named `synthetic-*`, with a truth file listing the RTP
//! analysis events that were injected.
//!
//! **Everything here is synthetic.**  No public EE capture is known, so this
//! generator is the project's test data: two nodes (A 10.1.1.1, B 10.2.2.2)
//! bring up an LDLC link (TEST, XID3, XID-complete), open a route setup and
//! a session RTP connection, exchange data, and inject loss, gaps,
//! out-of-order delivery, a retransmission, a duplicate, status requests,
//! ARB rate messages, slowdown, a path switch, a connection fault and the
//! close-down.  See README.md beside this crate for the scenario, the truth
//! file columns and the event definitions.
//!
//! The bytes are written by small builders in [`layout`] into the ranges of
//! the `ee` crate's layout table (docs/ee.md of the project), the one source
//! of offsets the reader uses too: these captures test the analysis and the
//! Wireshark integration; the layout itself is checked against public
//! sources by the vectors in tests/data/ee-vectors and Wireshark's decode.

pub mod capture;
pub mod layout;
pub mod output;
pub mod rtp;
pub mod scenario;

use std::io;
use std::path::{Path, PathBuf};

/// File names written into the output directory.
pub const SESSION_PCAPNG: &str = "synthetic-ee-session.pcapng";
pub const SESSION_TRUTH: &str = "synthetic-ee-session.truth.tsv";
pub const SAP_C8_PCAPNG: &str = "synthetic-ee-sap-c8.pcapng";

/// What [`generate`] wrote: (path, frame count) per capture, and the truth
/// file.
pub struct Written {
    pub captures: Vec<(PathBuf, usize)>,
    pub truth: PathBuf,
    pub truth_events: usize,
}

/// Writes every synthetic capture and the truth file into `outdir`
/// (created if missing).
pub fn generate(outdir: &Path) -> io::Result<Written> {
    std::fs::create_dir_all(outdir)?;
    let session = scenario::session();
    let sap_c8 = scenario::sap_c8();
    let session_path = outdir.join(SESSION_PCAPNG);
    let truth_path = outdir.join(SESSION_TRUTH);
    let c8_path = outdir.join(SAP_C8_PCAPNG);
    output::write_pcapng(&session_path, &session)?;
    output::write_truth(&truth_path, &session)?;
    output::write_pcapng(&c8_path, &sap_c8)?;
    Ok(Written {
        captures: vec![
            (session_path, session.frames.len()),
            (c8_path, sap_c8.frames.len()),
        ],
        truth: truth_path,
        truth_events: session.truth.len(),
    })
}
