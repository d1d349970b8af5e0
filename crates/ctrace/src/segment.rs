//! Packets split over several CTEs ("segmented trace records").
//!
//! IBM (IP Programmer's Guide, "Segmented records"): a packet or socket
//! request whose record would exceed the CTE limit is traced as a set of
//! records, each a full CTE with its own PTHDR_T, in which
//! * PTH_Tlen is the same in every record: the total traced length of the
//!   whole set;
//! * PTH_Time is the same in every record;
//! * PTH_SeqNum is 0 in the first record and goes up by one per record
//!   (past 255 it wraps back to 1);
//! * the first record holds the IP and transport headers (packet trace) or
//!   the ancillary data (data trace), the others data only.
//!
//! This crate (and its fixture writer) also sets PTO_SEGMENT in every record
//! of the set and PTH_OffSegLen to the offset of the record's bytes in the
//! whole; the grouping below does not rely on either, only on IBM's rules
//! plus "same format id, same direction".

use crate::cte::Cte;
use crate::pthdr::{next_seq, Pthdr};
use crate::{Error, Result};
use std::borrow::Cow;

/// True when the CTE `next` continues the packet of the CTE `prev` (both
/// whole CTEs): both have a packet trace header, the same format id,
/// PTH_Time, PTH_Tlen and direction, `next`'s PTH_SeqNum follows `prev`'s,
/// and `prev` did not already complete the packet (its PTH_OffSegLen plus
/// its bytes fall short of PTH_Tlen).  Malformed CTEs never continue
/// anything.
pub fn continues(prev: &[u8], next: &[u8]) -> bool {
    let (Ok(pc), Ok(nc)) = (Cte::new_checked(prev), Cte::new_checked(next)) else {
        return false;
    };
    let (Ok(p), Ok(n)) = (Pthdr::from_cte(&pc), Pthdr::from_cte(&nc)) else {
        return false;
    };
    pc.fmtid() == nc.fmtid()
        && n.seq_num() != 0
        && n.seq_num() == next_seq(p.seq_num())
        && n.tod() == p.tod()
        && n.traced_len() == p.traced_len()
        && n.is_outbound() == p.is_outbound()
        && falls_short(&p)
}

/// True when the CTE `cte` (a whole CTE) ends before the end of its packet:
/// its PTH_OffSegLen plus its bytes fall short of PTH_Tlen, so the next CTE
/// may continue it.  A reader grouping CTEs into packets needs to look at
/// the next entry only then.
pub fn needs_more(cte: &[u8]) -> bool {
    Cte::new_checked(cte)
        .and_then(|c| Pthdr::from_cte(&c))
        .is_ok_and(|p| falls_short(&p))
}

fn falls_short(p: &Pthdr) -> bool {
    (p.segment_offset() as u64 + p.payload().len() as u64) < p.traced_len() as u64
}

/// A packet put back together from one or more CTEs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled<'a> {
    /// The first CTE.
    pub cte: Cte<'a>,
    /// The first CTE's packet trace header (PTH_Tlen, PTH_Plen, addresses…
    /// describe the whole packet).
    pub header: Pthdr<'a>,
    /// The traced bytes of the whole packet: borrowed from the CTE when it
    /// was not split, else the segments' bytes joined.
    pub packet: Cow<'a, [u8]>,
    /// How many CTEs it took.
    pub segments: usize,
}

impl Reassembled<'_> {
    /// True when all PTH_Tlen bytes are there.
    pub fn is_complete(&self) -> bool {
        self.packet.len() as u64 >= self.header.traced_len() as u64
    }
}

/// How many of the leading CTEs of `ctes` make up one packet: 1, plus every
/// following CTE that [`continues`] the one before.
pub fn group_len(ctes: &[&[u8]]) -> usize {
    if ctes.is_empty() {
        return 0;
    }
    let mut n = 1;
    while n < ctes.len() && continues(ctes[n - 1], ctes[n]) {
        n += 1;
    }
    n
}

/// Joins the packet that starts with `ctes[0]` and continues in the CTEs
/// after it (each of which must [`continue`](continues) the one before);
/// pass exactly one packet's CTEs ([`group_len`] finds them).  Offsets in
/// errors count as if the CTEs were laid end to end.
pub fn reassemble<'a>(ctes: &[&'a [u8]]) -> Result<Reassembled<'a>> {
    let Some(first) = ctes.first() else {
        return Err(Error::Truncated {
            offset: 0,
            what: "segmented packet",
            needed: 1,
            available: 0,
        });
    };
    let cte = Cte::new_checked(first)?;
    let header = Pthdr::from_cte(&cte)?;
    if header.seq_num() != 0 {
        return Err(Error::Invalid {
            offset: cte.cteoff() as u64 + crate::pthdr::field::SEQ_NUM as u64,
            what: "PTHDR",
            field: "PTH_SeqNum",
            value: header.seq_num() as u32,
            rule: "is not 0: the packet's first record is missing",
        });
    }
    if ctes.len() == 1 {
        return Ok(Reassembled {
            cte,
            header,
            packet: Cow::Borrowed(header.payload()),
            segments: 1,
        });
    }
    let mut packet = header.payload().to_vec();
    let mut base = first.len() as u64;
    for w in ctes.windows(2) {
        let next = w[1];
        if !continues(w[0], next) {
            let c = Cte::new_checked(next).map_err(|e| e.at(base))?;
            let p = Pthdr::from_cte(&c).map_err(|e| e.at(base))?;
            return Err(Error::Invalid {
                offset: base + c.cteoff() as u64 + crate::pthdr::field::SEQ_NUM as u64,
                what: "PTHDR",
                field: "PTH_SeqNum",
                value: p.seq_num() as u32,
                rule: "does not continue the packet before (sequence, PTH_Time, PTH_Tlen or direction differ)",
            });
        }
        // `continues` checked both CTEs and headers.
        if let Ok(p) = Cte::new_checked(next).and_then(|c| Pthdr::from_cte(&c)) {
            packet.extend_from_slice(p.payload());
        }
        base += next.len() as u64;
    }
    if packet.len() as u64 > header.traced_len() as u64 {
        return Err(Error::LengthMismatch {
            offset: 0,
            what: "segmented packet",
            field: "joined length",
            found: packet.len() as u32,
            other: "PTH_Tlen",
            expected: header.traced_len(),
        });
    }
    Ok(Reassembled {
        cte,
        header,
        packet: Cow::Owned(packet),
        segments: ctes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cte::tests::make as make_cte;
    use crate::pthdr::tests::make as make_hdr;
    use crate::pthdr::{field, opt, EXT_LEN};

    fn seg(seq: u8, tlen: u32, off: u32, part: &[u8]) -> Vec<u8> {
        make_cte(4, 0, &make_hdr(EXT_LEN, seq, tlen, off, opt::SEGMENT, part))
    }

    #[test]
    fn single() {
        let c = make_cte(4, 0, &make_hdr(EXT_LEN, 0, 3, 0, 0, b"abc"));
        let r = reassemble(&[&c]).unwrap();
        assert!(matches!(r.packet, Cow::Borrowed(b"abc")));
        assert_eq!(r.segments, 1);
        assert!(r.is_complete());
        assert_eq!(group_len(&[&c, &c]), 1);
        assert_eq!(group_len(&[]), 0);
    }

    #[test]
    fn three_segments() {
        let a = seg(0, 10, 0, b"0123");
        let b = seg(1, 10, 4, b"4567");
        let c = seg(2, 10, 8, b"89");
        let other = make_cte(4, 0, &make_hdr(EXT_LEN, 0, 1, 0, 0, b"x"));
        assert!(continues(&a, &b) && continues(&b, &c));
        assert!(!continues(&c, &other));
        assert!(!continues(&a, &c));
        let all: [&[u8]; 4] = [&a, &b, &c, &other];
        assert_eq!(group_len(&all), 3);
        let r = reassemble(&all[..3]).unwrap();
        assert_eq!(&r.packet[..], b"0123456789");
        assert_eq!(r.segments, 3);
        assert!(r.is_complete());
        assert_eq!(r.header.traced_len(), 10);
        // incomplete: last segment missing
        let r = reassemble(&all[..2]).unwrap();
        assert!(!r.is_complete());
    }

    #[test]
    fn sequence_wraps_to_one() {
        let a = seg(255, 10, 0, b"0123");
        let b = seg(1, 10, 4, b"4567");
        assert!(continues(&a, &b));
        let z = seg(0, 10, 4, b"4567");
        assert!(!continues(&a, &z));
    }

    #[test]
    fn continuation_needs_same_time_and_tlen() {
        let a = seg(0, 10, 0, b"0123");
        let mut b = seg(1, 10, 4, b"4567");
        assert!(continues(&a, &b));
        b[16 + field::TIME.start] ^= 1;
        assert!(!continues(&a, &b));
        let c = seg(1, 11, 4, b"4567");
        assert!(!continues(&a, &c));
        let mut d = seg(1, 10, 4, b"4567");
        d[16 + field::FLAG] ^= crate::pthdr::flag::OUT;
        assert!(!continues(&a, &d));
        let mut e = seg(1, 10, 4, b"4567");
        e[7] = 5; // data trace
        assert!(!continues(&a, &e));
        // a complete record is not continued
        let full = seg(0, 4, 0, b"0123");
        assert!(!continues(&full, &b));
        assert!(!continues(b"junk", &b));
    }

    #[test]
    fn errors() {
        assert!(matches!(reassemble(&[]), Err(Error::Truncated { .. })));
        let b = seg(1, 10, 4, b"4567");
        assert!(matches!(
            reassemble(&[&b]),
            Err(Error::Invalid {
                field: "PTH_SeqNum",
                value: 1,
                offset: 18,
                ..
            })
        ));
        let a = seg(0, 10, 0, b"0123");
        let c = seg(2, 10, 8, b"89");
        let e = reassemble(&[&a, &c]).unwrap_err();
        assert!(matches!(
            e,
            Error::Invalid {
                field: "PTH_SeqNum",
                value: 2,
                ..
            }
        ));
        assert_eq!(e.offset(), a.len() as u64 + 18);
        // joined bytes longer than PTH_Tlen cannot happen with `continues`
        // (it stops at PTH_Tlen), but a lying PTH_OffSegLen can cause it
        let a = seg(0, 6, 0, b"0123");
        let b = seg(1, 6, 0, b"4567");
        assert!(matches!(
            reassemble(&[&a, &b]),
            Err(Error::LengthMismatch {
                found: 8,
                expected: 6,
                ..
            })
        ));
        let lost = make_cte(0xFF00_0000, 0, &[]);
        assert!(matches!(
            reassemble(&[&lost]),
            Err(Error::Invalid {
                field: "CTEFMTID",
                ..
            })
        ));
        assert!(matches!(reassemble(&[b"zz"]), Err(Error::Truncated { .. })));
        let bad_next = make_cte(4, 0, b"short");
        assert!(matches!(
            reassemble(&[&a, &bad_next]),
            Err(Error::Truncated { .. })
        ));
    }
}
