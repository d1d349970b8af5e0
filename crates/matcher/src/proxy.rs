//! Full proxy (stage 3b): links front and back connections.  (Being written.)

use crate::packets::PacketMatch;
use crate::pairing::ConnPair;
use crate::table::PointTable;
use index::{ClockModel, TranslationSpec};

/// Links and message matches found across a full proxy.
#[derive(Debug, Default)]
pub struct Proxied {
    pub matches: Vec<PacketMatch>,
    pub links: Vec<TranslationSpec>,
}

pub fn link(
    _ta: &PointTable,
    _tb: &PointTable,
    _paired: &[ConnPair],
    _clock: Option<&ClockModel>,
    _window_ns: i64,
) -> Proxied {
    Proxied::default()
}
