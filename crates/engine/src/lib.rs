//! pktmatch's columnar side, for data past one process's reach:
//!
//! * key tables — every frame's matching keys as Parquet
//!   (`pktmatch keys`, [`write`]), the schema in [`schema`] and
//!   docs/keys.md, readable from DuckDB, Spark, pandas or DataFusion;
//! * the index built from them (`pktmatch index --keys`, [`load`]): the
//!   same index as from the captures, byte for byte;
//! * matches as Parquet (`pktmatch export --parquet`, [`matches`]);
//! * the indexer's stages as an embedded Apache DataFusion plan with a
//!   bounded memory pool (`plan`, feature `datafusion`, docs/engine.md),
//!   tier-1 connection pairing in it as a join and aggregates (`tier1`);
//! * the matching stage on a cluster of `pktmatch worker`s through
//!   datafusion-distributed (`cluster`, the same feature).
//!
//! Only the `pktmatch` command depends on this crate: the Wireshark plugins
//! never link Arrow or Parquet.

mod batch;
#[cfg(feature = "datafusion")]
pub mod cluster;
pub mod error;
pub mod load;
pub mod matches;
#[cfg(feature = "datafusion")]
pub mod plan;
#[cfg(feature = "datafusion")]
pub mod runtime;
pub mod schema;
#[cfg(feature = "datafusion")]
mod tier1;
pub mod write;

pub use error::{Error, ErrorKind};
