//! One EE UDP payload decoded through every layer the crate knows, with
//! the absolute offset of each part, so a caller (the Wireshark plugin, the
//! fuzz target, tests) walks one structure instead of repeating the layer
//! logic.  Decoding stops at the first error, which is kept with its
//! absolute offset next to everything decoded before it.

use crate::cv::Vector;
use crate::fid5::Fid5;
use crate::gds::{self, Gds};
use crate::llc::{Command, LlcHeader};
use crate::nhdr::Nhdr;
use crate::thdr::{self, Arb, Segment, Status, SwitchingInformation, Thdr};
use crate::xid3::Xid3;
use crate::Error;

/// What follows the LLC header.
#[derive(Clone, Debug)]
pub enum Body<'a> {
    /// Nothing decoded (empty, or the LLC header itself failed).
    None,
    /// An XID3 I-field at `offset`.
    Xid { offset: usize, xid: Xid3<'a> },
    /// A network layer packet (UI frame).
    Nlp(Nlp<'a>),
    /// Bytes we do not decode (TEST data, XID of another format, …).
    Raw { offset: usize, bytes: &'a [u8] },
}

/// A network layer packet: NHDR, then either LDLC bytes (FR) or a THDR.
#[derive(Clone, Debug)]
pub struct Nlp<'a> {
    pub offset: usize,
    pub nhdr: Nhdr<'a>,
    /// FR / LDLC: the bytes after the function routing header.
    pub ldlc: Option<(usize, &'a [u8])>,
    pub thdr: Option<(usize, Thdr<'a>)>,
    pub segments: Vec<DecodedSegment<'a>>,
    /// The data after the THDR (DLF bytes as captured).
    pub payload: Option<(usize, Payload<'a>)>,
    /// Rules IBM's RTP enforces that this packet breaks.
    pub violations: Vec<Violation>,
}

/// A packet an RTP endpoint would fail the connection over, with the sense
/// code IBM documents for it (sense codes A018, A01A).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The bytes at fault, from the start of the UDP payload.
    pub range: std::ops::Range<usize>,
    pub sense: u32,
}

/// The optional segment types IBM's sense A01A names as allowed once per
/// packet (A01AFF0D, 0E, 0F, 10, 14, 22); for other types, the connection
/// fault segment X'12' among them, IBM documents no limit.
pub const SINGLE_SEGMENT_TYPES: [u8; 6] = [0x0D, 0x0E, 0x0F, 0x10, 0x14, 0x22];

/// Sense X'A01AFFkk': more than one optional segment of type kk.
pub fn duplicate_segment_sense(kind: u8) -> u32 {
    0xA01A_FF00 | u32::from(kind)
}

/// Sense X'A018mmkk': vector kk runs past the end of the segment or vector
/// mm that holds it.
pub fn vector_length_sense(embedding: u8, key: u8) -> u32 {
    0xA018_0000 | u32::from(embedding) << 8 | u32::from(key)
}

/// An optional segment with its absolute offset and content.
#[derive(Clone, Debug)]
pub struct DecodedSegment<'a> {
    pub offset: usize,
    pub segment: Segment<'a>,
    pub content: SegmentContent<'a>,
}

#[derive(Clone, Debug)]
pub enum SegmentContent<'a> {
    ConnectionSetup {
        version: u16,
        flags: u8,
        /// Control vectors, offsets relative to the segment.
        vectors: Vec<Vector<'a>>,
    },
    Status(Status),
    ClientOutOfBand(u16),
    ConnectionIdExchange(u64),
    ConnectionFault(u32),
    SwitchingInformation(SwitchingInformation<'a>),
    AdaptiveRateBased(Arb),
    Unknown,
}

/// The data of an RTP packet.
#[derive(Clone, Debug)]
pub enum Payload<'a> {
    /// Start of a message with session traffic: FID5 TH, RH and RU.
    Fid5(Fid5<'a>),
    /// Start of a Route Setup message.
    RouteSetup(Gds<'a>),
    /// A later part of a message (SOMI clear).
    Continuation(&'a [u8]),
    /// Start of a message that is neither (shown raw).
    Other(&'a [u8]),
}

#[derive(Clone, Debug)]
pub struct Datagram<'a> {
    pub llc: Option<LlcHeader<'a>>,
    pub body: Body<'a>,
    /// The first error met, offset from the start of the UDP payload.
    pub error: Option<Error>,
}

impl<'a> Datagram<'a> {
    pub fn parse(bytes: &'a [u8]) -> Datagram<'a> {
        let mut out = Datagram {
            llc: None,
            body: Body::None,
            error: None,
        };
        let llc = match LlcHeader::new_checked(bytes) {
            Ok(llc) => llc,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        out.llc = Some(llc);
        let offset = LlcHeader::LEN;
        let rest = llc.payload();
        match llc.command() {
            Command::Xid if rest.first().is_some_and(|b| b >> 4 == 3) => {
                match Xid3::new_checked(rest) {
                    Ok(xid) => out.body = Body::Xid { offset, xid },
                    Err(e) => out.error = Some(e.at(offset)),
                }
            }
            Command::UnnumberedInfo if !rest.is_empty() => match Nhdr::new_checked(rest) {
                Ok(nhdr) => {
                    let (nlp, error) = decode_nlp(offset, nhdr);
                    out.body = Body::Nlp(nlp);
                    out.error = error;
                }
                Err(e) => out.error = Some(e.at(offset)),
            },
            _ if !rest.is_empty() => {
                out.body = Body::Raw {
                    offset,
                    bytes: rest,
                }
            }
            _ => {}
        }
        out
    }
}

fn decode_nlp(offset: usize, nhdr: Nhdr<'_>) -> (Nlp<'_>, Option<Error>) {
    let after = offset + nhdr.len();
    let mut nlp = Nlp {
        offset,
        nhdr,
        ldlc: None,
        thdr: None,
        segments: Vec::new(),
        payload: None,
        violations: Vec::new(),
    };
    if nhdr.function_routing_header().is_some() {
        nlp.ldlc = Some((after, nhdr.payload()));
        return (nlp, None);
    }
    let thdr = match Thdr::new_checked(nhdr.payload()) {
        Ok(thdr) => thdr,
        Err(e) => return (nlp, Some(e.at(after))),
    };
    nlp.thdr = Some((after, thdr));
    let mut kinds_seen = Vec::new();
    for segment in thdr.segments() {
        let segment = match segment {
            Ok(s) => s,
            Err(e) => return (nlp, Some(e.at(after))),
        };
        let at = after + segment.offset;
        if kinds_seen.contains(&segment.kind) && SINGLE_SEGMENT_TYPES.contains(&segment.kind) {
            nlp.violations.push(Violation {
                range: at..at + segment.bytes.len(),
                sense: duplicate_segment_sense(segment.kind),
            });
        }
        kinds_seen.push(segment.kind);
        match decode_segment(&segment, &mut nlp.violations, at) {
            Ok(content) => nlp.segments.push(DecodedSegment {
                offset: at,
                segment,
                content,
            }),
            Err(e) => return (nlp, Some(e.at(after))),
        }
    }
    let data = thdr.data();
    let data_offset = after + thdr.header_len();
    if data.is_empty() {
        return (nlp, None);
    }
    let payload = if !thdr.has(thdr::flags0::SOMI) {
        Payload::Continuation(data)
    } else if data[0] >> 4 == crate::fid5::FID5 {
        match Fid5::new_checked(data) {
            Ok(fid5) => Payload::Fid5(fid5),
            Err(e) => return (nlp, Some(e.at(data_offset))),
        }
    } else if gds::is_route_setup(data) {
        match Gds::new_checked(data) {
            Ok(gds) => Payload::RouteSetup(gds),
            Err(e) => return (nlp, Some(e.at(data_offset))),
        }
    } else {
        Payload::Other(data)
    };
    nlp.payload = Some((data_offset, payload));
    (nlp, None)
}

/// Decodes one segment found at `at` (from the start of the UDP payload);
/// vector length errors inside a connection setup are violations (IBM
/// fails the connection with A018), not a decoding error.
fn decode_segment<'a>(
    segment: &Segment<'a>,
    violations: &mut Vec<Violation>,
    at: usize,
) -> Result<SegmentContent<'a>, Error> {
    use thdr::kind;
    Ok(match segment.kind {
        kind::CONNECTION_SETUP => {
            let (version, flags, vectors) = thdr::connection_setup(segment)?;
            let list_at = at + thdr::setup::VECTORS;
            let list = &segment.bytes[thdr::setup::VECTORS..];
            let mut decoded = Vec::new();
            for vector in vectors {
                match vector {
                    Ok(mut vector) => {
                        if vector.key == crate::cv::NETWORK_ADDRESS {
                            check_network_address(&vector, list_at, violations);
                        }
                        vector.offset += thdr::setup::VECTORS;
                        decoded.push(vector);
                    }
                    Err(e) => {
                        let offset = e.offset();
                        let key = list.get(offset + crate::cv::field::LT_KEY.start);
                        violations.push(Violation {
                            range: list_at + offset..at + segment.bytes.len(),
                            sense: vector_length_sense(kind::CONNECTION_SETUP, *key.unwrap_or(&0)),
                        });
                        break;
                    }
                }
            }
            SegmentContent::ConnectionSetup {
                version,
                flags,
                vectors: decoded,
            }
        }
        kind::STATUS => SegmentContent::Status(thdr::status(segment)?),
        kind::CLIENT_OUT_OF_BAND => {
            SegmentContent::ClientOutOfBand(thdr::client_out_of_band(segment)?)
        }
        kind::CONNECTION_ID_EXCHANGE => {
            SegmentContent::ConnectionIdExchange(thdr::connection_id_exchange(segment)?)
        }
        kind::CONNECTION_FAULT => SegmentContent::ConnectionFault(thdr::connection_fault(segment)?),
        kind::SWITCHING_INFORMATION => {
            SegmentContent::SwitchingInformation(thdr::switching_information(segment)?)
        }
        kind::ADAPTIVE_RATE_BASED => {
            SegmentContent::AdaptiveRateBased(thdr::adaptive_rate_based(segment)?)
        }
        _ => SegmentContent::Unknown,
    })
}

/// The vectors nested in a CV X'05' network address must end within it.
fn check_network_address(vector: &Vector, list_at: usize, violations: &mut Vec<Violation>) {
    let Some((_, first, nested)) = crate::cv::network_address(vector.data) else {
        return;
    };
    let nested_at = list_at + vector.data_range().start + first;
    let nested_bytes = &vector.data[first..];
    if let Some(Err(e)) = nested.into_iter().find(Result::is_err) {
        let offset = e.offset();
        let key = nested_bytes.get(offset + crate::cv::field::LT_KEY.start);
        violations.push(Violation {
            range: nested_at + offset..list_at + vector.range().end,
            sense: vector_length_sense(crate::cv::NETWORK_ADDRESS, *key.unwrap_or(&0)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_packet_with_status_and_fid5() {
        let mut d = vec![0x04, 0x04, 0x03, 0xC4, 0x00, 0x80, 0xFF, 0x00];
        // THDR: TCID 1, SOMI|EOMI, OSI, 5+6 words, DLF 16, BSN 0
        d.extend([
            0, 0, 0, 0, 0, 0, 0, 1, 0x30, 0x04, 0, 11, 0, 0, 0, 16, 0, 0, 0, 0,
        ]);
        d.extend([6, 0x0E, 0, 0, 0, 1, 0, 1, 0, 0, 0, 9]);
        d.extend([0; 12]);
        d.extend([
            0x5C, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x03, 0x80, 0x00, 0xAA,
        ]);
        let dg = Datagram::parse(&d);
        assert_eq!(dg.error, None);
        let Body::Nlp(nlp) = dg.body else {
            panic!("not an NLP")
        };
        assert_eq!(nlp.thdr.unwrap().0, 8);
        assert_eq!(nlp.segments.len(), 1);
        assert_eq!(nlp.segments[0].offset, 28);
        assert!(matches!(nlp.payload, Some((52, Payload::Fid5(_)))));
    }

    #[test]
    fn errors_keep_absolute_offsets() {
        let d = [0x04, 0x04, 0x03, 0xC4, 0x00, 0x80, 0xFF, 0x00, 1, 2, 3];
        let dg = Datagram::parse(&d);
        assert!(matches!(dg.error, Some(Error::Truncated { offset: 8, .. })));
        assert!(matches!(dg.body, Body::Nlp(_)));
    }

    #[test]
    fn a01a_only_for_the_types_ibm_lists() {
        // Two status segments (IBM: A01AFF0E), then two connection fault
        // segments (X'12', not in IBM's list: no violation).
        let mut d = vec![0x04, 0x04, 0x03, 0xC4, 0x00, 0x80, 0xFF, 0x00];
        d.extend([
            0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x04, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        for _ in 0..2 {
            d.extend([5, 0x0E, 0, 0, 0, 1, 0, 1, 0, 0, 0, 9]);
            d.extend([0; 8]);
        }
        for _ in 0..2 {
            d.extend([2, 0x12, 0, 0, 0x80, 0x03, 0x00, 0x04]);
        }
        let dg = Datagram::parse(&d);
        assert_eq!(dg.error, None);
        let Body::Nlp(nlp) = dg.body else {
            panic!("not an NLP")
        };
        let senses: Vec<u32> = nlp.violations.iter().map(|v| v.sense).collect();
        assert_eq!(senses, [0xA01A_FF0E]);
    }
}
