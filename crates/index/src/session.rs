//! SESSION (optional, 2.0): what the indexer found about the session as a
//! whole — how it put the points in path order (inferred from the data,
//! stated with `--path`, or as given), whether they form a line, and how it
//! reconciled the pairs' clocks — each as text for people, one finding per
//! line.
//!
//! ```text
//! section:  a table (COUNT u32 = 1, RECORD_LEN u32 = 40 in 2.0), one record:
//! record:   0  1  ORDER      0 as given (the data says nothing against it),
//!                            1 inferred from the data, 2 stated with --path (checked)
//!           1  1  TOPOLOGY   0 a line, 1 not a line (WARNINGS say how)
//!           2  2  reserved   0
//!           4  4  FLAGS      none defined (0)
//!           8  8  EVIDENCE   STRINGS reference (offset u32, length u32): why this order
//!          16  8  WARNINGS   STRINGS reference: topology, unrelated points, clocks set aside
//!          24  8  CLOCKS     STRINGS reference: how the pairs' clocks were reconciled
//!          32  8  reserved   0
//! ```
//! Texts hold one finding per line (`\n` between them).

use crate::{le32, strings, Result, Sec, Table};

/// Byte ranges of the SESSION record.
pub mod field {
    use core::ops::Range;
    pub const ORDER: usize = 0;
    pub const TOPOLOGY: usize = 1;
    pub const RESERVED: Range<usize> = 2..4;
    pub const FLAGS: Range<usize> = 4..8;
    pub const EVIDENCE_OFF: Range<usize> = 8..12;
    pub const EVIDENCE_LEN: Range<usize> = 12..16;
    pub const WARNINGS_OFF: Range<usize> = 16..20;
    pub const WARNINGS_LEN: Range<usize> = 20..24;
    pub const CLOCKS_OFF: Range<usize> = 24..28;
    pub const CLOCKS_LEN: Range<usize> = 28..32;
    pub const RESERVED2: Range<usize> = 32..40;
    /// Record length in format 2.0.
    pub const LEN: usize = 40;
}

/// How the points came to be in the order they have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderSource {
    /// As given on the command line; nothing in the data says otherwise.
    #[default]
    AsGiven,
    /// Inferred from the data (TTL steps, which copy came first, NAT
    /// direction, which points share which traffic).
    Inferred,
    /// Stated with `--path` and not contradicted by the data.
    Stated,
    /// A value this reader does not know.
    Other(u8),
}

impl OrderSource {
    pub fn code(self) -> u8 {
        match self {
            OrderSource::AsGiven => 0,
            OrderSource::Inferred => 1,
            OrderSource::Stated => 2,
            OrderSource::Other(k) => k,
        }
    }
    pub fn from_code(k: u8) -> OrderSource {
        match k {
            0 => OrderSource::AsGiven,
            1 => OrderSource::Inferred,
            2 => OrderSource::Stated,
            k => OrderSource::Other(k),
        }
    }
    /// The word scripts see.
    pub fn name(self) -> &'static str {
        match self {
            OrderSource::AsGiven => "as-given",
            OrderSource::Inferred => "inferred",
            OrderSource::Stated => "stated",
            OrderSource::Other(_) => "unknown",
        }
    }
}

/// The shape the points form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Topology {
    /// One path, the points along it.
    #[default]
    Line,
    /// Not a line: branches behind one point, a capture that sees only one
    /// of several parallel paths (the warnings say which).
    NotALine,
    /// A value this reader does not know.
    Other(u8),
}

impl Topology {
    pub fn code(self) -> u8 {
        match self {
            Topology::Line => 0,
            Topology::NotALine => 1,
            Topology::Other(k) => k,
        }
    }
    pub fn from_code(k: u8) -> Topology {
        match k {
            0 => Topology::Line,
            1 => Topology::NotALine,
            k => Topology::Other(k),
        }
    }
    /// The word scripts see.
    pub fn name(self) -> &'static str {
        match self {
            Topology::Line => "line",
            Topology::NotALine => "not-a-line",
            Topology::Other(_) => "unknown",
        }
    }
}

/// What the builder writes into SESSION.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSpec {
    pub order: OrderSource,
    pub topology: Topology,
    /// Why this order, one finding per line.
    pub evidence: String,
    /// Topology, unrelated points, clocks set aside: one per line.
    pub warnings: String,
    /// How the pairs' clocks were reconciled, one finding per line.
    pub clocks: String,
}

/// The SESSION record.
#[derive(Clone, Copy, Debug)]
pub struct Session<'a> {
    rec: &'a [u8],
    strings: &'a str,
}

impl<'a> Session<'a> {
    pub(crate) fn new(rec: &'a [u8], strings: &'a str) -> Session<'a> {
        Session { rec, strings }
    }

    pub fn order(&self) -> OrderSource {
        OrderSource::from_code(self.rec[field::ORDER])
    }

    pub fn topology(&self) -> Topology {
        Topology::from_code(self.rec[field::TOPOLOGY])
    }

    fn text(&self, off: core::ops::Range<usize>, len: core::ops::Range<usize>) -> &'a str {
        strings::get(
            self.strings,
            le32(self.rec, off.start),
            le32(self.rec, len.start),
        )
    }

    /// Why the points are in this order, one finding per line.
    pub fn evidence(&self) -> &'a str {
        self.text(field::EVIDENCE_OFF, field::EVIDENCE_LEN)
    }

    /// Topology findings and other warnings, one per line.
    pub fn warnings(&self) -> &'a str {
        self.text(field::WARNINGS_OFF, field::WARNINGS_LEN)
    }

    /// How the clocks were reconciled, one finding per line.
    pub fn clocks(&self) -> &'a str {
        self.text(field::CLOCKS_OFF, field::CLOCKS_LEN)
    }
}

/// Checks SESSION: a table of one record whose string references lie in
/// STRINGS.
pub(crate) fn check<'a>(sec: Sec<'a>, strings: &'a str) -> Result<Option<Session<'a>>> {
    let t = Table::check(sec, field::LEN)?;
    if t.count == 0 {
        return Ok(None);
    }
    if t.count > 1 {
        return Err(sec.invalid(
            crate::table_field::COUNT.start,
            format!("{} records, a session has one", t.count),
        ));
    }
    let r = t.record(0);
    let at = crate::table_field::LEN;
    for (off, len, what) in [
        (field::EVIDENCE_OFF, field::EVIDENCE_LEN, "evidence"),
        (field::WARNINGS_OFF, field::WARNINGS_LEN, "warnings"),
        (field::CLOCKS_OFF, field::CLOCKS_LEN, "clocks"),
    ] {
        strings::check_ref(
            strings,
            le32(r, off.start),
            le32(r, len.start),
            &sec,
            at + off.start,
            &format!("session {what}"),
        )?;
    }
    Ok(Some(Session::new(r, strings)))
}

/// Writes the section (a table of one record).
pub(crate) fn write(
    out: &mut Vec<u8>,
    spec: &SessionSpec,
    evidence: (u32, u32),
    warnings: (u32, u32),
    clocks: (u32, u32),
) {
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(field::LEN as u32).to_le_bytes());
    out.push(spec.order.code());
    out.push(spec.topology.code());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&0u32.to_le_bytes());
    for (o, l) in [evidence, warnings, clocks] {
        out.extend_from_slice(&o.to_le_bytes());
        out.extend_from_slice(&l.to_le_bytes());
    }
    out.extend_from_slice(&0u64.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::Blob;

    #[test]
    fn round_trip_and_rules() {
        let mut blob = Blob::default();
        let spec = SessionSpec {
            order: OrderSource::Inferred,
            topology: Topology::NotALine,
            evidence: "client → wan: TTL 64 → 63".into(),
            warnings: "a\nb".into(),
            clocks: String::new(),
        };
        let (e, w, c) = (
            blob.add(&spec.evidence),
            blob.add(&spec.warnings),
            blob.add(&spec.clocks),
        );
        let mut v = Vec::new();
        write(&mut v, &spec, e, w, c);
        assert_eq!(v.len(), 8 + field::LEN);
        let sec = Sec {
            bytes: &v,
            base: 0,
            what: "SESSION section",
        };
        let s = check(sec, &blob.text).unwrap().unwrap();
        assert_eq!(s.order(), OrderSource::Inferred);
        assert_eq!(s.topology(), Topology::NotALine);
        assert_eq!(s.evidence(), spec.evidence);
        assert_eq!(s.warnings().lines().count(), 2);
        assert_eq!(s.clocks(), "");
        for k in 0..4 {
            assert_eq!(OrderSource::from_code(k).code(), k);
            assert_eq!(Topology::from_code(k).code(), k);
        }
        // A reference beyond the strings is refused, naming the field.
        let mut bad = v.clone();
        bad[8 + 20] = 200;
        let err = check(Sec { bytes: &bad, ..sec }, &blob.text).unwrap_err();
        assert!(err.to_string().contains("session warnings"), "{err}");
        // Two records: refused.
        let mut two = v.clone();
        two[0] = 2;
        two.extend_from_slice(&v[8..]);
        assert!(check(Sec { bytes: &two, ..sec }, &blob.text).is_err());
    }
}
