//! The pktmatch command line's work, as a library the tests call too.

pub mod convert;
pub mod heap;
pub mod index;
// Key tables (Parquet) of the captures: `pktmatch keys`.
pub mod keys;

// The reader subcommands: they read an existing index and the captures it names.
pub mod annotate;
pub mod export;
pub mod filter;
pub mod info;
pub mod merge;
pub mod output;
pub mod report;
pub mod session;
pub mod subset;
pub mod units;
pub mod worker;
