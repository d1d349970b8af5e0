//! A capture being generated: Ethernet/IPv4/UDP frames with timestamps,
//! and the truth events recorded alongside.

use etherparse::{IpDscp, IpHeaders, IpNumber, Ipv4Header, PacketBuilder};

/// 2026-01-01T00:00:00Z in nanoseconds since the Unix epoch.
pub const START_NS: u64 = 1_767_225_600 * 1_000_000_000;

/// One endpoint of the generated traffic.
#[derive(Clone, Debug)]
pub struct Node {
    /// Network-qualified CP name, "NETID.NAME".
    pub cp_name: &'static str,
    pub mac: [u8; 6],
    pub ip: [u8; 4],
    /// XID3 node identification: IDBLK (12 bits) << 20 | IDNUM (20 bits).
    pub node_id: u32,
}

pub fn node_a() -> Node {
    Node {
        cp_name: "NETA.NODEA",
        mac: [0x02, 0, 0, 0, 0, 0x01],
        ip: [10, 1, 1, 1],
        node_id: 0x05D0_0001,
    }
}

pub fn node_b() -> Node {
    Node {
        cp_name: "NETA.NODEB",
        mac: [0x02, 0, 0, 0, 0, 0x02],
        ip: [10, 2, 2, 2],
        node_id: 0x05D0_0002,
    }
}

/// One captured frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub time_ns: u64,
    /// The whole Ethernet frame.
    pub bytes: Vec<u8>,
    /// What the frame is, for a human (written as the pcapng packet comment).
    pub comment: String,
}

/// One line of the truth file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub frame: u32,
    pub event: &'static str,
    /// "-" when the event has no value.
    pub value: String,
}

/// Frames and events in write order.  Frame numbers are 1-based.
pub struct Capture {
    pub frames: Vec<Frame>,
    pub truth: Vec<Event>,
    clock_ns: u64,
    lcg: u32,
    next_delay_us: Option<u64>,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    pub fn new() -> Self {
        Capture {
            frames: Vec::new(),
            truth: Vec::new(),
            clock_ns: START_NS,
            lcg: 0x2026_0101,
            next_delay_us: None,
        }
    }

    /// The number the next frame written will have.
    pub fn next_frame(&self) -> u32 {
        u32::try_from(self.frames.len() + 1).expect("frame count fits u32")
    }

    /// The gap before the next frame is `us` microseconds instead of the
    /// usual pseudo-random 1-20 ms.
    pub fn delay_next(&mut self, us: u64) {
        self.next_delay_us = Some(us);
    }

    /// Pseudo-random gap of 1 to 20 ms (an inline LCG with a fixed seed,
    /// so every run writes the same bytes).
    fn default_delay_us(&mut self) -> u64 {
        self.lcg = self.lcg.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        1_000 + u64::from(self.lcg >> 8) % 19_001
    }

    /// Writes one Ethernet/IPv4/UDP frame carrying `payload` with the same
    /// UDP port as source and destination; returns its frame number.
    pub fn send(
        &mut self,
        from: &Node,
        to: &Node,
        port: u16,
        payload: &[u8],
        comment: String,
    ) -> u32 {
        if !self.frames.is_empty() {
            let delay = match self.next_delay_us.take() {
                Some(us) => us,
                None => self.default_delay_us(),
            };
            self.clock_ns += delay * 1_000;
        }
        let mut ip =
            Ipv4Header::new(0, 64, IpNumber::UDP, from.ip, to.ip).expect("an empty payload fits");
        ip.dscp = IpDscp::try_new(type_of_service(port) >> 2).expect("six bits");
        let builder = PacketBuilder::ethernet2(from.mac, to.mac)
            .ip(IpHeaders::Ipv4(ip, Default::default()))
            .udp(port, port);
        let mut bytes = Vec::with_capacity(builder.size(payload.len()));
        builder
            .write(&mut bytes, payload)
            .expect("writing to a Vec cannot fail");
        let frame = self.next_frame();
        self.frames.push(Frame {
            time_ns: self.clock_ns,
            bytes,
            comment,
        });
        frame
    }

    /// Records a truth event; `value` "-" when there is none.
    pub fn event(&mut self, frame: u32, event: &'static str, value: impl ToString) {
        self.truth.push(Event {
            frame,
            event,
            value: value.to_string(),
        });
    }
}

/// The IP type of service VTAM sends each EE port with by default (IBM's
/// IPTOS start option: C0 C0 80 40 20 for the signal, network, high, medium
/// and low priority ports, DISPLAY EE message IST2008I); 0 elsewhere.
pub fn type_of_service(port: u16) -> u8 {
    const IPTOS: [u8; 5] = [0xC0, 0xC0, 0x80, 0x40, 0x20];
    port.checked_sub(12000)
        .and_then(|offset| IPTOS.get(usize::from(offset)))
        .copied()
        .unwrap_or(0)
}
