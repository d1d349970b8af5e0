//! capclock: give a copy of a capture a known clock error.
//!
//! Every packet time stamp `t` (nanoseconds since the Unix epoch) becomes
//!
//! ```text
//! t' = t + offset + (t - T0) * ppm * 1e-6
//! ```
//!
//! rounded to the nearest nanosecond (halves away from zero), then to the
//! resolution the file stores.  `T0` (the reference instant) defaults to the
//! first packet time stamp of the input.  The drift is kept as an exact
//! decimal ([`Ppm`]), so the arithmetic is integer only and reproducible.
//!
//! Clock steps ([`Step`]: the clock set forward or back by `delta_ns` at an
//! instant, as an NTP step or a manual correction does) add `delta_ns` to
//! every time stamp at or after that instant of the input's clock; a
//! negative step makes the time stamps go backwards there.
//!
//! The rewrite is byte-exact apart from time stamps: every block or record is
//! copied from the input as it is and only its time stamp bytes are patched.
//! pcap (micro- and nanosecond, either byte order) and pcapng (any number of
//! sections and interfaces, either byte order, `if_tsresol` decimal or binary,
//! `if_tsoffset`) are handled.  In pcapng the enhanced packet block, the
//! obsolete packet block and the interface statistics block (its time stamp
//! and its `isb_starttime` / `isb_endtime` options) are shifted; simple packet
//! blocks carry no time stamp; all other blocks are copied unchanged.
//!
//! The input is opened read-only and never written; the output is written to a
//! temporary file beside it and renamed into place.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::{Endianness, PcapError, TsResolution};

const NS_PER_SEC: i128 = 1_000_000_000;
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_PB: u32 = 0x0000_0002;
const PCAPNG_ISB: u32 = 0x0000_0005;
const PCAPNG_EPB: u32 = 0x0000_0006;

/// Errors of a rewrite.
#[derive(Debug)]
pub enum Error {
    Io(PathBuf, std::io::Error),
    Format(String),
    Pcap(PcapError),
    /// A shifted time stamp does not fit the file's time stamp field.
    OutOfRange(i128),
    SameFile,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(p, e) => write!(f, "{}: {e}", p.display()),
            Error::Format(m) => write!(f, "{m}"),
            Error::Pcap(e) => write!(f, "malformed capture: {e}"),
            Error::OutOfRange(t) => write!(
                f,
                "shifted time stamp {t} ns is outside what the file format can store (before 1970 or too far ahead)"
            ),
            Error::SameFile => write!(f, "OUT is the same file as IN: capclock never modifies its input"),
        }
    }
}

impl std::error::Error for Error {}

impl From<PcapError> for Error {
    fn from(e: PcapError) -> Self {
        Error::Pcap(e)
    }
}

/// A drift in parts per million, kept as an exact decimal `num / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ppm {
    num: i128,
    den: i128,
}

impl Ppm {
    pub const ZERO: Ppm = Ppm { num: 0, den: 1 };

    pub fn from_int(ppm: i64) -> Ppm {
        Ppm {
            num: ppm as i128,
            den: 1,
        }
    }

    pub fn as_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl FromStr for Ppm {
    type Err = String;

    /// A decimal number: `25`, `-40`, `12.5`, `+0.125` (no exponent).
    fn from_str(s: &str) -> Result<Ppm, String> {
        let bad = || format!("'{s}' is not a decimal number of ppm (e.g. 25, -12.5)");
        let t = s.trim();
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 9
            || int.len() > 9
        {
            return Err(bad());
        }
        let mut num: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            num = num * 10 + (b - b'0') as i128;
        }
        let den = 10i128.pow(frac.len() as u32);
        Ok(Ppm {
            num: if neg { -num } else { num },
            den,
        })
    }
}

impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Exact decimal form: den is a power of ten.
        let digits = (self.den as f64).log10().round() as usize;
        let sign = if self.num < 0 { "-" } else { "" };
        let a = self.num.abs();
        if digits == 0 {
            write!(f, "{sign}{a}")
        } else {
            write!(
                f,
                "{sign}{}.{:0width$}",
                a / self.den,
                a % self.den,
                width = digits
            )
        }
    }
}

/// Integer division rounding to nearest, halves away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

/// The clock error to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skew {
    pub offset_ns: i64,
    pub drift: Ppm,
    /// T0, nanoseconds since the Unix epoch.
    pub reference_ns: i128,
}

impl Skew {
    /// `t + offset + round((t - T0) * ppm * 1e-6)`.
    pub fn apply(&self, t_ns: i128) -> i128 {
        let drift = div_round(
            (t_ns - self.reference_ns) * self.drift.num,
            self.drift.den * 1_000_000,
        );
        t_ns + self.offset_ns as i128 + drift
    }
}

/// Capture file formats handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

impl Format {
    pub fn detect(data: &[u8]) -> Result<Format, Error> {
        match data.get(..4) {
            Some([0x0A, 0x0D, 0x0D, 0x0A]) => Ok(Format::PcapNg),
            Some(m) => {
                let magic = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
                match magic {
                    0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1 => Ok(Format::Pcap),
                    _ => Err(Error::Format(format!(
                        "not a pcap or pcapng file (magic {:02x}{:02x}{:02x}{:02x})",
                        m[0], m[1], m[2], m[3]
                    ))),
                }
            }
            None => Err(Error::Format(
                "file shorter than 4 bytes: not a capture".into(),
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}

/// A clock step: from `after_ns` after the reference instant T0 (on the
/// input's clock) on, every time stamp moves by `delta_ns` more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub after_ns: i128,
    pub delta_ns: i64,
}

impl FromStr for Step {
    type Err = String;

    /// `AT_SECONDS:DELTA_NS`: seconds after T0 (a decimal, up to 9
    /// fractional digits, may be negative) and the step in ns (may be
    /// negative), e.g. `3.5:-1500000000`.
    fn from_str(s: &str) -> Result<Step, String> {
        let bad = || {
            format!(
                "'{s}' is not AT_SECONDS:DELTA_NS (e.g. 3.5:-1500000000: 3.5 s after the \
                 reference, the clock goes back 1.5 s)"
            )
        };
        let (at, delta) = s.split_once(':').ok_or_else(bad)?;
        let at: Ppm = at.parse().map_err(|_| bad())?;
        let delta: i64 = delta.trim().parse().map_err(|_| bad())?;
        // Ppm is an exact decimal: seconds × 1e9 / den, exactly.
        let after_ns = at.num * NS_PER_SEC / at.den;
        if after_ns * at.den != at.num * NS_PER_SEC {
            return Err(bad());
        }
        Ok(Step {
            after_ns,
            delta_ns: delta,
        })
    }
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The instant, ns since the Unix epoch on the input's clock.
    pub at_ns: i128,
    pub delta_ns: i64,
    /// The first packet (1-based, in file order, packets with a time stamp)
    /// at or after the instant.
    pub first_packet: Option<u64>,
}

/// The sum of the steps whose instant `t_ns` has reached.
fn stepped(steps: &[StepReport], t_ns: i128) -> i128 {
    steps
        .iter()
        .filter(|s| t_ns >= s.at_ns)
        .map(|s| s.delta_ns as i128)
        .sum()
}

/// What a rewrite did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub format: Format,
    /// Packets whose time stamp was shifted (pcap records; pcapng EPB and PB).
    pub packets: u64,
    /// Other time stamps shifted (pcapng interface statistics: block and options).
    pub other_timestamps: u64,
    pub skew: Skew,
    pub steps: Vec<StepReport>,
    pub first_in_ns: Option<i128>,
    pub first_out_ns: Option<i128>,
    pub last_in_ns: Option<i128>,
    pub last_out_ns: Option<i128>,
}

impl Report {
    /// One JSON object (no external JSON crate: the fields are numbers and fixed strings).
    pub fn to_json(&self, input: &Path, output: &Path) -> String {
        fn opt(v: Option<i128>) -> String {
            v.map_or("null".to_string(), |x| x.to_string())
        }
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{{\"at_ns\": {}, \"delta_ns\": {}, \"first_packet\": {}}}",
                    s.at_ns,
                    s.delta_ns,
                    s.first_packet.map_or("null".to_string(), |p| p.to_string())
                )
            })
            .collect();
        format!(
            "{{\"input\": {}, \"output\": {}, \"format\": \"{}\", \"offset_ns\": {}, \"drift_ppm\": {}, \
             \"reference_ns\": {}, \"steps\": [{}], \"packets\": {}, \"other_timestamps\": {}, \
             \"first_in_ns\": {}, \"first_out_ns\": {}, \"last_in_ns\": {}, \"last_out_ns\": {}, \
             \"formula\": \"t' = t + offset_ns + (t - reference_ns) * drift_ppm * 1e-6 + the delta_ns \
             of every step with t >= at_ns\"}}",
            json_str(&input.display().to_string()),
            json_str(&output.display().to_string()),
            self.format.name(),
            self.skew.offset_ns,
            self.skew.drift,
            self.skew.reference_ns,
            steps.join(", "),
            self.packets,
            self.other_timestamps,
            opt(self.first_in_ns),
            opt(self.first_out_ns),
            opt(self.last_in_ns),
            opt(self.last_out_ns),
        )
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

// ------------------------------------------------------------------ byte order helpers

fn rd32(b: &[u8], e: Endianness) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    match e {
        Endianness::Big => u32::from_be_bytes(a),
        Endianness::Little => u32::from_le_bytes(a),
    }
}

fn rd16(b: &[u8], e: Endianness) -> u16 {
    let a = [b[0], b[1]];
    match e {
        Endianness::Big => u16::from_be_bytes(a),
        Endianness::Little => u16::from_le_bytes(a),
    }
}

fn wr32(b: &mut [u8], v: u32, e: Endianness) {
    let a = match e {
        Endianness::Big => v.to_be_bytes(),
        Endianness::Little => v.to_le_bytes(),
    };
    b[..4].copy_from_slice(&a);
}

// ------------------------------------------------------------------ pcapng time base

/// How one pcapng interface stores time: `if_tsresol` and `if_tsoffset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeBase {
    /// Units per second are 10^n (decimal) or 2^n (binary).
    pub binary: bool,
    pub exponent: u32,
    /// Seconds added to every time stamp of the interface.
    pub offset_s: i128,
}

impl TimeBase {
    pub const MICRO: TimeBase = TimeBase {
        binary: false,
        exponent: 6,
        offset_s: 0,
    };

    fn units_per_sec(&self) -> i128 {
        if self.binary {
            1i128 << self.exponent
        } else {
            10i128.pow(self.exponent)
        }
    }

    pub fn to_ns(&self, raw: u64) -> i128 {
        let ups = self.units_per_sec();
        let ns = if !self.binary && self.exponent <= 9 {
            raw as i128 * 10i128.pow(9 - self.exponent)
        } else {
            div_round(raw as i128 * NS_PER_SEC, ups)
        };
        ns + self.offset_s * NS_PER_SEC
    }

    pub fn from_ns(&self, t_ns: i128) -> Result<u64, Error> {
        let rel = t_ns - self.offset_s * NS_PER_SEC;
        let raw = if !self.binary && self.exponent <= 9 {
            div_round(rel, 10i128.pow(9 - self.exponent))
        } else {
            div_round(rel * self.units_per_sec(), NS_PER_SEC)
        };
        u64::try_from(raw).map_err(|_| Error::OutOfRange(t_ns))
    }

    fn from_options(opts: &[InterfaceDescriptionOption]) -> Result<TimeBase, Error> {
        let mut tb = TimeBase::MICRO;
        for o in opts {
            match o {
                InterfaceDescriptionOption::IfTsResol(v) => {
                    tb.binary = v & 0x80 != 0;
                    tb.exponent = (v & 0x7f) as u32;
                    if (tb.binary && tb.exponent > 64) || (!tb.binary && tb.exponent > 18) {
                        return Err(Error::Format(format!("unsupported if_tsresol {v:#04x}")));
                    }
                }
                InterfaceDescriptionOption::IfTsOffset(s) => tb.offset_s = *s as i64 as i128,
                _ => {}
            }
        }
        Ok(tb)
    }
}

// ------------------------------------------------------------------ walking

/// Calls `f(t_ns)` for every packet time stamp in file order; returns the format.
/// Used to find the default reference (first packet) and in tests.
pub fn packet_times(data: &[u8], mut f: impl FnMut(i128)) -> Result<Format, Error> {
    let format = Format::detect(data)?;
    match format {
        Format::Pcap => {
            let (mut rem, parser) = PcapParser::new(data)?;
            let hdr = parser.header();
            let frac_ns: i128 = match hdr.ts_resolution {
                TsResolution::MicroSecond => 1000,
                TsResolution::NanoSecond => 1,
            };
            while !rem.is_empty() {
                let (r, p) = parser.next_raw_packet(rem)?;
                f(p.ts_sec as i128 * NS_PER_SEC + p.ts_frac as i128 * frac_ns);
                rem = r;
            }
        }
        Format::PcapNg => {
            let (mut rem, mut parser) = PcapNgParser::new(data)?;
            while !rem.is_empty() {
                let (r, block) = parser.next_raw_block(rem)?;
                let e = parser.section().endianness;
                if block.type_ == PCAPNG_EPB || block.type_ == PCAPNG_PB {
                    let body = &block.body[..];
                    if body.len() < 20 {
                        return Err(Error::Format("pcapng packet block too short".into()));
                    }
                    let iface = if block.type_ == PCAPNG_EPB {
                        rd32(body, e) as usize
                    } else {
                        rd16(body, e) as usize
                    };
                    let tb = timebase(&parser, iface)?;
                    let raw = ((rd32(&body[4..], e) as u64) << 32) | rd32(&body[8..], e) as u64;
                    f(tb.to_ns(raw));
                }
                rem = r;
            }
        }
    }
    Ok(format)
}

fn timebase(parser: &PcapNgParser, iface: usize) -> Result<TimeBase, Error> {
    let idb = parser.interfaces().get(iface).ok_or_else(|| {
        Error::Format(format!(
            "pcapng block refers to interface {iface}, which is not described"
        ))
    })?;
    TimeBase::from_options(&idb.options)
}

/// First packet time stamp, if the capture has a packet.
pub fn first_packet_ns(data: &[u8]) -> Result<Option<i128>, Error> {
    let mut first = None;
    packet_times(data, |t| {
        if first.is_none() {
            first = Some(t)
        }
    })?;
    Ok(first)
}

/// Rewrites `data` (a whole capture in memory) into a new buffer.
/// `reference_ns` None: the first packet time stamp.
pub fn rewrite_bytes(
    data: &[u8],
    offset_ns: i64,
    drift: Ppm,
    reference_ns: Option<i128>,
) -> Result<(Vec<u8>, Report), Error> {
    rewrite_bytes_stepped(data, offset_ns, drift, reference_ns, &[])
}

/// [`rewrite_bytes`] with clock steps.
pub fn rewrite_bytes_stepped(
    data: &[u8],
    offset_ns: i64,
    drift: Ppm,
    reference_ns: Option<i128>,
    steps: &[Step],
) -> Result<(Vec<u8>, Report), Error> {
    let reference_ns = match reference_ns {
        Some(t) => t,
        None => first_packet_ns(data)?.unwrap_or(0),
    };
    let skew = Skew {
        offset_ns,
        drift,
        reference_ns,
    };
    let format = Format::detect(data)?;
    let mut out = Vec::with_capacity(data.len());
    let mut steps: Vec<StepReport> = steps
        .iter()
        .map(|s| StepReport {
            at_ns: reference_ns + s.after_ns,
            delta_ns: s.delta_ns,
            first_packet: None,
        })
        .collect();
    steps.sort_by_key(|s| s.at_ns);
    let apply = |t: i128| skew.apply(t) + stepped(&steps, t);
    let mut rep = Report {
        format,
        packets: 0,
        other_timestamps: 0,
        skew,
        steps: steps.clone(),
        first_in_ns: None,
        first_out_ns: None,
        last_in_ns: None,
        last_out_ns: None,
    };
    let note = |rep: &mut Report, tin: i128, tout: i128| {
        rep.packets += 1;
        let n = rep.packets;
        for s in rep.steps.iter_mut() {
            if s.first_packet.is_none() && tin >= s.at_ns {
                s.first_packet = Some(n);
            }
        }
        if rep.first_in_ns.is_none() {
            rep.first_in_ns = Some(tin);
            rep.first_out_ns = Some(tout);
        }
        rep.last_in_ns = Some(tin);
        rep.last_out_ns = Some(tout);
    };
    match format {
        Format::Pcap => {
            let (mut rem, parser) = PcapParser::new(data)?;
            out.extend_from_slice(&data[..data.len() - rem.len()]);
            let hdr = parser.header();
            let e = hdr.endianness;
            let frac_ns: i128 = match hdr.ts_resolution {
                TsResolution::MicroSecond => 1000,
                TsResolution::NanoSecond => 1,
            };
            while !rem.is_empty() {
                let (r, p) = parser.next_raw_packet(rem)?;
                let mut rec = rem[..rem.len() - r.len()].to_vec();
                let tin = p.ts_sec as i128 * NS_PER_SEC + p.ts_frac as i128 * frac_ns;
                let tout = apply(tin);
                // Round to the file's resolution, carrying into seconds.
                let units = div_round(tout, frac_ns);
                let per_sec = NS_PER_SEC / frac_ns;
                let sec = units.div_euclid(per_sec);
                let frac = units.rem_euclid(per_sec);
                let sec = u32::try_from(sec).map_err(|_| Error::OutOfRange(tout))?;
                wr32(&mut rec[0..], sec, e);
                wr32(&mut rec[4..], frac as u32, e);
                note(&mut rep, tin, units * frac_ns);
                out.extend_from_slice(&rec);
                rem = r;
            }
        }
        Format::PcapNg => {
            let (mut rem, mut parser) = PcapNgParser::new(data)?;
            out.extend_from_slice(&data[..data.len() - rem.len()]);
            while !rem.is_empty() {
                let (r, block) = parser.next_raw_block(rem)?;
                let mut raw = rem[..rem.len() - r.len()].to_vec();
                let e = parser.section().endianness;
                // Block header is 8 bytes (type, length); the body follows.
                match block.type_ {
                    PCAPNG_EPB | PCAPNG_PB => {
                        if raw.len() < 8 + 20 {
                            return Err(Error::Format("pcapng packet block too short".into()));
                        }
                        let iface = if block.type_ == PCAPNG_EPB {
                            rd32(&raw[8..], e) as usize
                        } else {
                            rd16(&raw[8..], e) as usize
                        };
                        let tb = timebase(&parser, iface)?;
                        let (tin, tout) = shift_ts64(&mut raw[12..20], e, &tb, &apply)?;
                        note(&mut rep, tin, tout);
                    }
                    PCAPNG_ISB => {
                        if raw.len() < 8 + 12 + 4 {
                            return Err(Error::Format(
                                "pcapng interface statistics block too short".into(),
                            ));
                        }
                        let iface = rd32(&raw[8..], e) as usize;
                        let tb = timebase(&parser, iface)?;
                        shift_ts64(&mut raw[12..20], e, &tb, &apply)?;
                        rep.other_timestamps += 1;
                        // Options: code, length, value padded to 4; up to the trailer.
                        let end = raw.len() - 4;
                        let mut pos = 20;
                        while pos + 4 <= end {
                            let code = rd16(&raw[pos..], e);
                            let len = rd16(&raw[pos + 2..], e) as usize;
                            if code == 0 {
                                break;
                            }
                            let v = pos + 4;
                            if v + len > end {
                                return Err(Error::Format(
                                    "pcapng option runs past its block".into(),
                                ));
                            }
                            if (code == 2 || code == 3) && len == 8 {
                                shift_ts64(&mut raw[v..v + 8], e, &tb, &apply)?;
                                rep.other_timestamps += 1;
                            }
                            pos = v + len.div_ceil(4) * 4;
                        }
                    }
                    PCAPNG_SHB => {}
                    _ => {}
                }
                out.extend_from_slice(&raw);
                rem = r;
            }
        }
    }
    Ok((out, rep))
}

/// Shifts one pcapng 64-bit time stamp (high word, low word) in place.
fn shift_ts64(
    b: &mut [u8],
    e: Endianness,
    tb: &TimeBase,
    apply: &dyn Fn(i128) -> i128,
) -> Result<(i128, i128), Error> {
    let raw = ((rd32(b, e) as u64) << 32) | rd32(&b[4..], e) as u64;
    let tin = tb.to_ns(raw);
    let tout = apply(tin);
    let nraw = tb.from_ns(tout)?;
    wr32(b, (nraw >> 32) as u32, e);
    wr32(&mut b[4..], nraw as u32, e);
    Ok((tin, tb.to_ns(nraw)))
}

/// Reads `input`, writes the shifted copy to `output` (temporary file and
/// rename), never touching `input`.
pub fn rewrite_file(
    input: &Path,
    output: &Path,
    offset_ns: i64,
    drift: Ppm,
    reference_ns: Option<i128>,
) -> Result<Report, Error> {
    rewrite_file_stepped(input, output, offset_ns, drift, reference_ns, &[])
}

/// [`rewrite_file`] with clock steps.
pub fn rewrite_file_stepped(
    input: &Path,
    output: &Path,
    offset_ns: i64,
    drift: Ppm,
    reference_ns: Option<i128>,
    steps: &[Step],
) -> Result<Report, Error> {
    if same_file(input, output) {
        return Err(Error::SameFile);
    }
    let data = fs::read(input).map_err(|e| Error::Io(input.to_path_buf(), e))?;
    let (bytes, rep) = rewrite_bytes_stepped(&data, offset_ns, drift, reference_ns, steps)?;
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(format!(".capclock-{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, output)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::Io(output.to_path_buf(), e)
    })?;
    Ok(rep)
}

fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
