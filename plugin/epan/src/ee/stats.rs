//! `tshark -z ee,rtp[,FILTER]` and Statistics → "Enterprise Extender RTP
//! connections" in the GUI: one row per RTP connection, the summary IBM's
//! `D NET,RTPS,HPRDIAG=YES` gives on the host, from the capture.  Filled
//! from one record per RTP packet that the dissector queues on the `ee.rtp`
//! tap (built from the stored per-frame analysis, so a retap gives the same
//! rows); a tap filter restricts the packets counted.

use std::fmt::Write;

use ee::nhdr;
use ee::thdr;
use wireshark_ffi::packet::Endpoint;
use wireshark_ffi::stats::{Cell, Column, Kind, StatTable, TableModel, Tap};

/// What one RTP packet contributes to its connection's row.
#[derive(Clone, Copy, Debug)]
pub struct RtpRecord {
    pub stream: u32,
    /// 0: the first direction seen (A→B), 1: the other.
    pub side: u8,
    pub source: Endpoint,
    pub destination: Endpoint,
    /// The TCID in the packet (chosen by its receiver).
    pub tcid: u64,
    pub tpf: u8,
    pub dlf: u32,
    pub end_of_message: bool,
    /// The bytes were seen before in the capture (retransmission of a
    /// captured packet, duplicate).
    pub repeat: bool,
    pub data: DataClass,
    /// A status answering a request: the round-trip time.
    pub status_rtt_ns: Option<i64>,
    pub setup: bool,
    pub path_switch: bool,
    pub fault: Option<u32>,
    pub out_of_band: Option<u16>,
    pub arb_mode: Option<u8>,
    /// A stall flagged (first time for its bytes) / relieved by this packet.
    pub stall: bool,
    pub stall_relieved: bool,
}

/// How a data packet was classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataClass {
    None,
    InOrder,
    Gap,
    OutOfOrder,
    Retransmission,
    Duplicate,
}

pub static RTP_TAP: Tap<RtpRecord> = Tap::new(c"ee.rtp");

const TEXT: Kind = Kind::Text;
const UINT: Kind = Kind::Uint;
const MS: Kind = Kind::Float { decimals: 3 };
const PERCENT: Kind = Kind::Float { decimals: 1 };

static COLUMNS: [Column; 27] = [
    Column::new("Conn", UINT, 4),
    Column::new("Endpoint A", TEXT, 21),
    Column::new("TCID A>B", TEXT, 16),
    Column::new("Endpoint B", TEXT, 21),
    Column::new("TCID B>A", TEXT, 16),
    Column::new("Priority", TEXT, 8),
    Column::new("State", TEXT, 14),
    Column::new("ARB mode", TEXT, 11),
    Column::new("NLPs A>B", UINT, 8),
    Column::new("Bytes A>B", UINT, 9),
    Column::new("Msgs A>B", UINT, 8),
    Column::new("NLPs B>A", UINT, 8),
    Column::new("Bytes B>A", UINT, 9),
    Column::new("Msgs B>A", UINT, 8),
    // Per direction, as HPRDIAG's outbound/inbound "NLPs retransmitted"
    // and "NLP retransmit rate" (IBM IST1842I, IST2249I): the direction
    // that resends is the one losing packets.
    Column::new("Retrans A>B", UINT, 7),
    Column::new("Rexmit % A>B", PERCENT, 6),
    Column::new("Retrans B>A", UINT, 7),
    Column::new("Rexmit % B>A", PERCENT, 6),
    Column::new("Dups", UINT, 4),
    Column::new("Gaps", UINT, 4),
    Column::new("Out of order", UINT, 4),
    Column::new("Status RTTs", UINT, 4),
    Column::new("RTT min ms", MS, 10),
    Column::new("RTT avg ms", MS, 10),
    Column::new("RTT max ms", MS, 10),
    Column::new("Path switches", UINT, 4),
    Column::new("Stalls", UINT, 4),
];

pub static RTP_TABLE: StatTable<Connections> = StatTable::new(
    c"Enterprise Extender RTP connections",
    c"RTP connections (per HPR pipe, as HPRDIAG)",
    c"ee,rtp",
    &RTP_TAP,
    &COLUMNS,
);

pub fn register() {
    RTP_TAP.register();
    RTP_TABLE.register();
}

/// One RTP connection's row.
#[derive(Default)]
struct Connection {
    stream: u32,
    /// Per side: the sender's endpoint, the receiver's, and the TCID.
    ends: [Option<(Endpoint, Endpoint, u64)>; 2],
    tpf: Option<u8>,
    nlps: [u32; 2],
    bytes: [u64; 2],
    messages: [u32; 2],
    retransmissions: [u32; 2],
    duplicates: u32,
    gaps: u32,
    out_of_order: u32,
    rtts: Vec<i64>,
    path_switches: u32,
    stalls: u32,
    stalled: bool,
    state: State,
    arb_mode: Option<u8>,
}

/// Where a connection stands, from the last events seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Active,
    Setup,
    Fault(u32),
    Deactivating,
    Deactivated,
    DeactivationRejected,
}

#[derive(Default)]
pub struct Connections {
    rows: Vec<Connection>,
    /// Row of each stream index.
    by_stream: std::collections::HashMap<u32, usize>,
}

impl TableModel for Connections {
    type Record = RtpRecord;

    fn add(&mut self, r: &RtpRecord, changed: &mut Vec<usize>) {
        let index = *self.by_stream.entry(r.stream).or_insert_with(|| {
            self.rows.push(Connection {
                stream: r.stream,
                ..Default::default()
            });
            self.rows.len() - 1
        });
        let c = &mut self.rows[index];
        let side = usize::from(r.side.min(1));
        c.ends[side] = Some((r.source, r.destination, r.tcid));
        c.tpf = Some(r.tpf);
        c.nlps[side] += 1;
        c.bytes[side] += u64::from(r.dlf);
        // A message sent again (a retransmission or copy of bytes the
        // capture holds) is still one message.
        if r.end_of_message && r.dlf > 0 && !r.repeat {
            c.messages[side] += 1;
        }
        match r.data {
            DataClass::Retransmission => c.retransmissions[side] += 1,
            DataClass::Duplicate => c.duplicates += 1,
            DataClass::Gap => c.gaps += 1,
            DataClass::OutOfOrder => c.out_of_order += 1,
            DataClass::None | DataClass::InOrder => {}
        }
        if let Some(rtt) = r.status_rtt_ns {
            c.rtts.push(rtt);
        }
        c.path_switches += u32::from(r.path_switch);
        if r.stall && !c.stalled {
            c.stalls += 1;
            c.stalled = true;
        }
        if r.stall_relieved {
            c.stalled = false;
        }
        if let Some(mode) = r.arb_mode {
            c.arb_mode = Some(mode);
        }
        c.state = next_state(c.state, r);
        changed.push(index);
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn row(&self, index: usize) -> Vec<Cell> {
        let c = &self.rows[index];
        // Side 0 sends A→B; its receiver is B.  A side seen only the other
        // way round still names both ends.
        let (a, b) = match (c.ends[0], c.ends[1]) {
            (Some((src, dst, _)), _) => (Some(src), Some(dst)),
            (None, Some((src, dst, _))) => (Some(dst), Some(src)),
            (None, None) => (None, None),
        };
        let tcid =
            |side: usize| c.ends[side].map_or_else(String::new, |(_, _, t)| format!("{t:016X}"));
        let (rtt_min, rtt_avg, rtt_max) = rtt_summary(&c.rtts);
        let n = |v: u64| Cell::Uint(u32::try_from(v).unwrap_or(u32::MAX));
        vec![
            Cell::Uint(c.stream),
            Cell::Text(a.map_or_else(String::new, endpoint)),
            Cell::Text(tcid(0)),
            Cell::Text(b.map_or_else(String::new, endpoint)),
            Cell::Text(tcid(1)),
            Cell::Text(
                c.tpf
                    .map_or("", |t| name(nhdr::TRANSMISSION_PRIORITIES, t))
                    .to_lowercase(),
            ),
            Cell::Text(state_text(c)),
            Cell::Text(c.arb_mode.map_or_else(String::new, arb_mode)),
            Cell::Uint(c.nlps[0]),
            n(c.bytes[0]),
            Cell::Uint(c.messages[0]),
            Cell::Uint(c.nlps[1]),
            n(c.bytes[1]),
            Cell::Uint(c.messages[1]),
            Cell::Uint(c.retransmissions[0]),
            Cell::Float(percent(c.retransmissions[0], c.nlps[0])),
            Cell::Uint(c.retransmissions[1]),
            Cell::Float(percent(c.retransmissions[1], c.nlps[1])),
            Cell::Uint(c.duplicates),
            Cell::Uint(c.gaps),
            Cell::Uint(c.out_of_order),
            Cell::Uint(c.rtts.len() as u32),
            Cell::Float(rtt_min),
            Cell::Float(rtt_avg),
            Cell::Float(rtt_max),
            Cell::Uint(c.path_switches),
            Cell::Uint(c.stalls),
        ]
    }
}

/// `part` of `whole` in percent (0 for nothing sent).
fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

fn next_state(state: State, r: &RtpRecord) -> State {
    if let Some(sense) = r.fault {
        return State::Fault(sense);
    }
    match r.out_of_band {
        Some(0x0001) => return State::Deactivating,
        Some(0x8000) => return State::Deactivated,
        Some(0x8004) => return State::DeactivationRejected,
        _ => {}
    }
    match state {
        State::Fault(_) | State::Deactivated => state,
        _ if r.setup => State::Setup,
        State::Setup if r.dlf > 0 && !r.setup => State::Active,
        _ => state,
    }
}

fn state_text(c: &Connection) -> String {
    let base = match c.state {
        State::Active => "active".to_owned(),
        State::Setup => "setup".to_owned(),
        State::Fault(sense) => format!("fault {sense:08X}"),
        State::Deactivating => "deactivating".to_owned(),
        State::Deactivated => "deactivated".to_owned(),
        State::DeactivationRejected => "deact. rejected".to_owned(),
    };
    if c.stalled {
        format!("{base}, stalled")
    } else {
        base
    }
}

fn arb_mode(mode: u8) -> String {
    name(thdr::ARB_MODES, mode)
        .trim_end_matches(" mode ARB")
        .to_lowercase()
}

fn name(table: &[(u8, &'static str)], value: u8) -> &'static str {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("unknown", |(_, n)| n)
}

/// (min, average, max) in milliseconds; zeros when there is none.
fn rtt_summary(rtts: &[i64]) -> (f64, f64, f64) {
    if rtts.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let ms = |ns: i64| ns as f64 / 1e6;
    let min = rtts.iter().copied().min().unwrap_or(0);
    let max = rtts.iter().copied().max().unwrap_or(0);
    let sum: i64 = rtts.iter().sum();
    (ms(min), ms(sum) / rtts.len() as f64, ms(max))
}

/// "10.1.1.1:12002" or "[2001:db8::1]:12002".
pub fn endpoint(e: Endpoint) -> String {
    let mut out = String::new();
    match e.address_len {
        4 => {
            let a = &e.address[..4];
            let _ = write!(out, "{}.{}.{}.{}:{}", a[0], a[1], a[2], a[3], e.port);
        }
        16 => {
            let ip = std::net::Ipv6Addr::from(e.address);
            let _ = write!(out, "[{ip}]:{}", e.port);
        }
        _ => {
            let _ = write!(out, "port {}", e.port);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(last: u8, port: u32) -> Endpoint {
        let mut address = [0; 16];
        address[..4].copy_from_slice(&[10, 0, 0, last]);
        Endpoint {
            address,
            address_len: 4,
            port,
        }
    }

    fn record(side: u8, dlf: u32, data: DataClass) -> RtpRecord {
        let (s, d) = if side == 0 {
            (ep(1, 12002), ep(2, 12002))
        } else {
            (ep(2, 12002), ep(1, 12002))
        };
        RtpRecord {
            stream: 3,
            side,
            source: s,
            destination: d,
            tcid: if side == 0 { 0xB } else { 0xA },
            tpf: 2,
            dlf,
            end_of_message: true,
            repeat: matches!(data, DataClass::Retransmission | DataClass::Duplicate),
            data,
            status_rtt_ns: None,
            setup: false,
            path_switch: false,
            fault: None,
            out_of_band: None,
            arb_mode: None,
            stall: false,
            stall_relieved: false,
        }
    }

    #[test]
    fn a_row_sums_both_directions() {
        let mut m = Connections::default();
        let mut changed = Vec::new();
        m.add(&record(0, 100, DataClass::InOrder), &mut changed);
        m.add(&record(0, 100, DataClass::Retransmission), &mut changed);
        let mut st = record(1, 0, DataClass::None);
        st.status_rtt_ns = Some(4_000_000);
        st.arb_mode = Some(1);
        m.add(&st, &mut changed);
        assert_eq!(changed, [0, 0, 0]);
        let row = m.row(0);
        assert_eq!(row.len(), COLUMNS.len());
        assert_eq!(row[1], Cell::Text("10.0.0.1:12002".into()));
        assert_eq!(row[2], Cell::Text("000000000000000B".into()));
        assert_eq!(row[4], Cell::Text("000000000000000A".into()));
        assert_eq!(row[5], Cell::Text("high".into()));
        assert_eq!(row[7], Cell::Text("responsive".into()));
        assert_eq!(
            (row[8].clone(), row[9].clone()),
            (Cell::Uint(2), Cell::Uint(200))
        );
        // Two NLPs, one message: the second is its retransmission.
        assert_eq!(row[10], Cell::Uint(1));
        // One of A's two NLPs resent: 50 %; B resent nothing.
        assert_eq!(row[14], Cell::Uint(1));
        assert_eq!(row[15], Cell::Float(50.0));
        assert_eq!(
            (row[16].clone(), row[17].clone()),
            (Cell::Uint(0), Cell::Float(0.0))
        );
        assert_eq!(row[21], Cell::Uint(1));
        assert_eq!(row[22], Cell::Float(4.0));
        // Columns and cells agree on kinds.
        for (cell, column) in row.iter().zip(&COLUMNS) {
            let ok = matches!(
                (cell, column.kind),
                (Cell::Uint(_), Kind::Uint)
                    | (Cell::Text(_), Kind::Text)
                    | (Cell::Float(_), Kind::Float { .. })
            );
            assert!(ok, "{}: {cell:?}", column.name);
        }
    }

    #[test]
    fn state_follows_setup_fault_and_deactivation() {
        let mut s = State::Active;
        let mut r = record(0, 10, DataClass::InOrder);
        r.setup = true;
        s = next_state(s, &r);
        assert_eq!(s, State::Setup);
        r.setup = false;
        s = next_state(s, &r);
        assert_eq!(s, State::Active);
        r.out_of_band = Some(0x0001);
        assert_eq!(next_state(s, &r), State::Deactivating);
        r.fault = Some(0x8003_0004);
        assert_eq!(next_state(s, &r), State::Fault(0x8003_0004));
    }
}
