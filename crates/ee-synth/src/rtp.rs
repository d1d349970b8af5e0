//! An RTP connection between node A and node B: builds network layer
//! packets (ANR NHDR + THDR + data) with the right TCID and byte sequence
//! numbers, and records the truth events that follow from what each packet
//! carries.
//!
//! TCID convention: each end chooses the TCID its partner puts in packets
//! sent *to* it, and announces it in a connection identifier exchange
//! segment (0x10) in its first packet.  So every A->B packet carries B's
//! TCID, every B->A packet carries A's TCID; A's very first packet uses
//! B's TCID as if known in advance and announces A's own.

use crate::capture::{Capture, Node};
use crate::layout::{self, nhdr, thdr, Arb, Status, SwitchingInformation};

/// Which way a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    AtoB,
    BtoA,
}

impl Dir {
    fn index(self) -> usize {
        match self {
            Dir::AtoB => 0,
            Dir::BtoA => 1,
        }
    }

    fn reverse(self) -> Dir {
        match self {
            Dir::AtoB => Dir::BtoA,
            Dir::BtoA => Dir::AtoB,
        }
    }

    fn arrow(self) -> &'static str {
        match self {
            Dir::AtoB => "A->B",
            Dir::BtoA => "B->A",
        }
    }
}

/// An optional segment as injected (the truth events come from these
/// values, not from the bytes).
#[derive(Clone, Debug)]
pub enum Segment {
    /// 0x0D with the sender's node identifier.
    ConnectionSetup,
    /// 0x0E.
    Status(Status),
    /// 0x0F.
    ClientOutOfBand(u16),
    /// 0x10 announcing the sender's own TCID.
    AnnounceTcid,
    /// 0x12 with this sense code.
    ConnectionFault(u32),
    /// 0x14.
    SwitchingInformation,
    /// 0x22.
    Arb(Arb),
}

/// What one RTP packet should carry.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// THDR byte 8 (SETUPI, SOMI, EOMI, SRI, ...).
    pub flags: u8,
    /// NHDR byte 1 indicators (slowdown 1/2).
    pub nhdr_flags: u8,
    pub segments: Vec<Segment>,
    pub data: Vec<u8>,
    pub comment: String,
}

impl Spec {
    /// A whole message in one packet (SOMI | EOMI).
    pub fn message(data: Vec<u8>, comment: &str) -> Spec {
        Spec {
            flags: thdr::SOMI | thdr::EOMI,
            data,
            comment: comment.to_string(),
            ..Spec::default()
        }
    }

    /// A packet carrying segments only (DLF 0).
    pub fn control(segments: Vec<Segment>, comment: &str) -> Spec {
        Spec {
            segments,
            comment: comment.to_string(),
            ..Spec::default()
        }
    }

    pub fn with(mut self, segment: Segment) -> Spec {
        self.segments.push(segment);
        self
    }

    pub fn flag(mut self, flag: u8) -> Spec {
        self.flags |= flag;
        self
    }
}

/// A packet built and numbered, ready to be written (once, twice, or not
/// at all when it is "lost").
#[derive(Clone, Debug)]
pub struct Packet {
    pub dir: Dir,
    pub bsn: u32,
    pub dlf: u32,
    pub spec: Spec,
    /// The UDP payload: LLC UI + NHDR + THDR + data.
    pub payload: Vec<u8>,
}

impl Packet {
    pub fn end(&self) -> u32 {
        self.bsn.wrapping_add(self.dlf)
    }
}

/// One end's sending state.
struct Side {
    /// The TCID the partner puts in packets sent to this end.
    own_tcid: u64,
    /// BSN of the next data byte this end sends.
    next_bsn: u32,
    /// ANR labels of packets this end sends.
    labels: Vec<u8>,
    /// FID5 sequence number of this end's last request.
    snf: u16,
    /// FID5 session address in packets this end sends.
    session_address: u64,
    /// Status report number of this end's last status segment.
    status_reports: u16,
    /// This end's status request (SRI frame) not yet answered.
    pending_status_request: Option<u32>,
}

/// The state of one RTP connection.
pub struct Connection {
    pub stream: u32,
    pub port: u16,
    pub tpf: u8,
    a: Node,
    b: Node,
    sides: [Side; 2],
}

/// Values used in every switching information segment.
pub const SWITCHING: SwitchingInformation = SwitchingInformation {
    flags: 0x80,
    max_packet_size: 1461,
    path_switch_time: 60,
    alive_timer: 180,
};

/// Connection setup flags: ARB flow control | reliable connection.
pub const SETUP_FLAGS: u8 = 0x10 | 0x08;

pub struct Ends {
    pub tcid: u64,
    pub labels: Vec<u8>,
    pub session_address: u64,
}

impl Connection {
    pub fn new(stream: u32, port: u16, tpf: u8, a: (Node, Ends), b: (Node, Ends)) -> Self {
        let side = |ends: Ends| Side {
            own_tcid: ends.tcid,
            next_bsn: 0,
            labels: ends.labels,
            snf: 0,
            session_address: ends.session_address,
            status_reports: 0,
            pending_status_request: None,
        };
        Connection {
            stream,
            port,
            tpf,
            a: a.0,
            b: b.0,
            sides: [side(a.1), side(b.1)],
        }
    }

    fn side(&mut self, dir: Dir) -> &mut Side {
        &mut self.sides[dir.index()]
    }

    /// BSN of the next data byte sent in direction `dir`.
    pub fn next_bsn(&self, dir: Dir) -> u32 {
        self.sides[dir.index()].next_bsn
    }

    /// New ANR labels for packets sent in direction `dir` (path switch).
    pub fn set_labels(&mut self, dir: Dir, labels: Vec<u8>) {
        self.side(dir).labels = labels;
    }

    /// A status segment sent in direction `dir`: all bytes below
    /// `received` were received, plus the `absp` ranges; gap flag when
    /// there are such ranges.
    pub fn status(&mut self, dir: Dir, received: u32, absp: Vec<(u32, u32)>) -> Segment {
        let side = self.side(dir);
        side.status_reports += 1;
        Segment::Status(Status {
            gap: !absp.is_empty(),
            idle: false,
            report_number: side.status_reports,
            acknowledge_number: 0,
            received,
            absp,
        })
    }

    /// FID5 TH + RH + RU of an FMD request of `total` bytes sent in `dir`.
    pub fn request(&mut self, dir: Dir, total: usize) -> Vec<u8> {
        let side = self.side(dir);
        side.snf = side.snf.wrapping_add(1);
        let mut out =
            layout::fid5(layout::MPF_WHOLE_BIU, false, side.snf, side.session_address).to_vec();
        out.extend(layout::rh(
            false,
            layout::rh::CATEGORY_FMD,
            layout::rh::BCI | layout::rh::ECI,
            layout::rh::DR1I,
            0,
        ));
        let seed = usize::from(side.snf);
        out.extend(ru_text(total.saturating_sub(out.len()), seed));
        out
    }

    /// FID5 TH + RH of a positive FMD response sent in `dir` to the
    /// partner's last request.
    pub fn response(&mut self, dir: Dir) -> Vec<u8> {
        let snf = self.sides[dir.reverse().index()].snf;
        let address = self.sides[dir.index()].session_address;
        let mut out = layout::fid5(layout::MPF_WHOLE_BIU, false, snf, address).to_vec();
        out.extend(layout::rh(
            true,
            layout::rh::CATEGORY_FMD,
            layout::rh::BCI | layout::rh::ECI,
            layout::rh::DR1I,
            0,
        ));
        out
    }

    /// FID5 TH + RH + RU of a session-control request (expedited flow).
    pub fn session_control(&mut self, dir: Dir, response: bool, ru: &[u8]) -> Vec<u8> {
        let snf = if response {
            self.sides[dir.reverse().index()].snf
        } else {
            let side = self.side(dir);
            side.snf = side.snf.wrapping_add(1);
            side.snf
        };
        let address = self.sides[dir.index()].session_address;
        let mut out = layout::fid5(layout::MPF_WHOLE_BIU, true, snf, address).to_vec();
        out.extend(layout::rh(
            response,
            layout::rh::CATEGORY_SC,
            layout::rh::FI | layout::rh::BCI | layout::rh::ECI,
            layout::rh::DR1I,
            0,
        ));
        out.extend_from_slice(ru);
        out
    }

    /// Builds the next packet in `dir`: it takes the next BSN, and the BSN
    /// moves on by its data length whether or not it is ever written.
    pub fn prepare(&mut self, dir: Dir, spec: Spec) -> Packet {
        let partner_tcid = self.sides[dir.reverse().index()].own_tcid;
        let side = &self.sides[dir.index()];
        let bsn = side.next_bsn;
        let dlf = u32::try_from(spec.data.len()).expect("DLF fits");
        let segments: Vec<Vec<u8>> = spec
            .segments
            .iter()
            .map(|segment| self.segment_bytes(dir, segment))
            .collect();
        let mut payload = layout::llc(layout::llc::SAP_SNA, false, layout::llc::UI).to_vec();
        payload.extend(layout::nhdr(
            nhdr::ANR,
            self.tpf,
            spec.nhdr_flags,
            &side.labels,
        ));
        payload.extend(layout::thdr(
            partner_tcid,
            spec.flags,
            0,
            &segments,
            dlf,
            bsn,
        ));
        payload.extend_from_slice(&spec.data);
        self.side(dir).next_bsn = bsn.wrapping_add(dlf);
        Packet {
            dir,
            bsn,
            dlf,
            spec,
            payload,
        }
    }

    fn segment_bytes(&self, dir: Dir, segment: &Segment) -> Vec<u8> {
        let side = &self.sides[dir.index()];
        let sender = match dir {
            Dir::AtoB => &self.a,
            Dir::BtoA => &self.b,
        };
        match segment {
            Segment::ConnectionSetup => {
                let network_id = sender.cp_name.split('.').next().expect("NETID.NAME");
                layout::connection_setup(SETUP_FLAGS, sender.node_id, network_id)
            }
            Segment::Status(status) => layout::status(status),
            Segment::ClientOutOfBand(bits) => layout::client_out_of_band(*bits),
            Segment::AnnounceTcid => layout::connection_id_exchange(side.own_tcid),
            Segment::ConnectionFault(sense) => layout::connection_fault(*sense),
            Segment::SwitchingInformation => layout::switching_information(&SWITCHING),
            Segment::Arb(arb) => layout::arb(arb),
        }
    }

    /// Writes `packet` into the capture and records the events that follow
    /// from its contents: stream, setup, path_switch, arb, slowdown, fault,
    /// status_reply and status_missing.  Returns the frame number.
    pub fn emit(&mut self, capture: &mut Capture, packet: &Packet) -> u32 {
        let (from, to) = match packet.dir {
            Dir::AtoB => (&self.a, &self.b),
            Dir::BtoA => (&self.b, &self.a),
        };
        let comment = format!(
            "{} stream {} BSN {} DLF {}: {}",
            packet.dir.arrow(),
            self.stream,
            packet.bsn,
            packet.dlf,
            packet.spec.comment
        );
        let frame = capture.send(from, to, self.port, &packet.payload, comment);
        capture.event(frame, "stream", self.stream);

        let spec = &packet.spec;
        let setup = spec
            .segments
            .iter()
            .any(|s| matches!(s, Segment::ConnectionSetup));
        for segment in &spec.segments {
            match segment {
                Segment::ConnectionSetup => capture.event(frame, "setup", "-"),
                // Switching information sent with the setup describes the
                // first path; sent later, it announces a path switch.
                Segment::SwitchingInformation if !setup => capture.event(frame, "path_switch", "-"),
                Segment::SwitchingInformation => {}
                Segment::Arb(arb) => capture.event(
                    frame,
                    "arb",
                    format!("{}/{}", arb.message_type, arb.rate_action),
                ),
                Segment::ConnectionFault(sense) => {
                    capture.event(frame, "fault", format!("{sense:08X}"))
                }
                Segment::Status(status) => {
                    let partner = self.side(packet.dir.reverse());
                    if let Some(request) = partner.pending_status_request.take() {
                        capture.event(frame, "status_reply", request);
                    }
                    for (begin, end) in missing_ranges(status) {
                        capture.event(frame, "status_missing", format!("{begin}-{end}"));
                    }
                }
                Segment::ClientOutOfBand(_) | Segment::AnnounceTcid => {}
            }
        }
        if spec.nhdr_flags & (nhdr::SLOWDOWN1 | nhdr::SLOWDOWN2) != 0 {
            capture.event(frame, "slowdown", "-");
        }
        if spec.flags & thdr::SRI != 0 {
            self.side(packet.dir).pending_status_request = Some(frame);
        }
        frame
    }

    /// Writes `packet` again (same bytes), with `note` as its comment.
    pub fn emit_again(&mut self, capture: &mut Capture, packet: &Packet, note: &str) -> u32 {
        let mut copy = packet.clone();
        copy.spec.comment = note.to_string();
        self.emit(capture, &copy)
    }

    /// Builds and writes the next packet in `dir`.
    pub fn send(&mut self, capture: &mut Capture, dir: Dir, spec: Spec) -> (u32, Packet) {
        let packet = self.prepare(dir, spec);
        let frame = self.emit(capture, &packet);
        (frame, packet)
    }
}

/// Ranges a status reports as not received: from the received sequence
/// number to the first ABSP begin, and between consecutive pairs.
pub fn missing_ranges(status: &Status) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut from = status.received;
    for &(begin, end) in &status.absp {
        if begin > from {
            out.push((from, begin));
        }
        from = from.max(end);
    }
    out
}

/// `len` bytes of EBCDIC text, starting at a place in the text chosen by
/// `seed`, as request unit contents.
pub fn ru_text(len: usize, seed: usize) -> Vec<u8> {
    let text = layout::ebcdic("SYNTHETIC ENTERPRISE EXTENDER TEST DATA 0123456789 ");
    (0..len)
        .map(|i| text[(i + seed * 7) % text.len()])
        .collect()
}

/// An ARB segment with no parity, responsive mode, and the given fields.
pub fn arb(message_type: u8, rate_action: u8, correlators: (u8, u8), fields: Vec<u32>) -> Segment {
    Segment::Arb(Arb {
        message_type,
        rate_action,
        parity: false,
        mode: layout::arb::MODE_RESPONSIVE,
        request_correlator: correlators.0,
        reply_correlator: correlators.1,
        fields,
    })
}
