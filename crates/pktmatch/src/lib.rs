//! The pktmatch command line's work, as a library the tests call too.

pub mod convert;
pub mod index;
