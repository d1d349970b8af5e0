//! An IPCS-like formatted report of the traced packets: what a user gets
//! when they send the output of `CTRACE COMP(SYSTCPDA) ... FULL` instead of
//! the trace itself.  The reader must recognise it as text.  The layout
//! imitates the shape of IBM's FORMAT report (record line, interface line,
//! Tod Clock, Sequence #, ports, IP header), not its every detail.

use crate::records;
use crate::{Options, Traced};
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// TOD → (date "yyyy/mm/dd", time "hh:mm:ss.uuuuuu").
fn date_time(tod: u64, leap_seconds: i64) -> (String, String) {
    let units = tod as i128 - 0x7D91_048B_CA00_0000i128;
    let us = units.div_euclid(4096) - leap_seconds as i128 * 1_000_000;
    let secs = us.div_euclid(1_000_000) as i64;
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    (
        format!("{y:04}/{m:02}/{d:02}"),
        format!("{:02}:{:02}:{:02}.{frac:06}", s / 3600, s / 60 % 60, s % 60),
    )
}

fn ip(a: &[u8; 16]) -> IpAddr {
    if a[..10].iter().all(|&b| b == 0) && a[10] == 0xFF && a[11] == 0xFF {
        IpAddr::V4(Ipv4Addr::new(a[12], a[13], a[14], a[15]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*a))
    }
}

fn name(options: &Options, t: &Traced) -> String {
    match t.format_id {
        records::FMT_DATA => options.job.clone(),
        records::FMT_OSAENTA => format!("EZANTA{}", options.port_name),
        _ => {
            // decode our own EBCDIC name back for the report
            let text = "OSAQDIO1";
            let enc = records::ebcdic_name(text, 16);
            if enc[..] == t.header.name[..] {
                text.into()
            } else if records::ebcdic_name("LOOPBACK", 16)[..] == t.header.name[..] {
                "LOOPBACK".into()
            } else if records::ebcdic_name("LOOPBACK6", 16)[..] == t.header.name[..] {
                "LOOPBACK6".into()
            } else {
                options.interface.clone().unwrap_or_default()
            }
        }
    }
}

/// The report text ('\n' line ends).
pub fn report(items: &[Traced], options: &Options) -> String {
    let mut s = String::new();
    let _ = writeln!(s, " IPCS PRINT LOG (SYNTHETIC FIXTURE, NOT FROM IBM)");
    let _ = writeln!(s, " COMPONENT TRACE FULL FORMAT");
    let _ = writeln!(s, " SYSNAME(SYNTH)");
    let _ = writeln!(s, " COMP(SYSTCPDA)SUBNAME((TCPIP))");
    let _ = writeln!(s, " z/OS TCP/IP Packet Trace Formatter");
    let mut day = String::new();
    for (n, t) in items.iter().enumerate() {
        let (date, time) = date_time(
            t.header.tod.wrapping_add(records::CTETIME_DELAY),
            options.leap_seconds,
        );
        let (_, tod_time) = date_time(t.header.tod, options.leap_seconds);
        if date != day {
            let _ = writeln!(s, " **** {date}");
            let _ = writeln!(
                s,
                " RcdNr Sysname  Mnemonic Entry Id Time Stamp      Description"
            );
            day = date.clone();
        }
        let (mnemonic, desc) = match t.format_id {
            records::FMT_DATA => ("DATA", "Data Trace"),
            records::FMT_OSAENTA => ("OSAENTA", "OSAENTA"),
            _ => ("PACKET", "Packet Trace"),
        };
        let _ = writeln!(
            s,
            " {:>5} SYNTH    {:<8} {:08X} {} {}",
            n + 1,
            mnemonic,
            t.format_id,
            time,
            desc
        );
        let dir = if t.header.flags & records::FLAG_OUT != 0 {
            "To"
        } else {
            "From"
        };
        let full = if t.header.tlen < u32::from(t.header.plen) {
            format!("Abbrev={}", t.header.tlen)
        } else {
            format!("Full={}", t.header.plen)
        };
        let device = if t.header.device_type == records::DEV_IPAQENET6 {
            "QDIO Ethernet6"
        } else {
            "QDIO Ethernet"
        };
        let _ = writeln!(
            s,
            " {:<4} Interface   : {:<16} Device: {device:<16} {full}",
            dir,
            name(options, t)
        );
        let _ = writeln!(s, " Tod Clock        : {date} {tod_time}");
        let _ = writeln!(
            s,
            " Sequence #       : {:<16} Flags: Pkt Ver2 {}",
            0,
            if dir == "To" { "Out" } else { "" }
        );
        let _ = writeln!(
            s,
            " Source Port      : {:<16} Dest Port: {:<6} Asid: 0000 TCB: 00000000",
            t.header.sport, t.header.dport
        );
        let _ = writeln!(s, " Source           : {}", ip(&t.header.src));
        let _ = writeln!(s, " Destination      : {}", ip(&t.header.dst));
        for (i, row) in t.bytes.chunks(16).take(4).enumerate() {
            let hex: Vec<String> = row
                .chunks(4)
                .map(|w| w.iter().map(|b| format!("{b:02X}")).collect())
                .collect();
            let _ = writeln!(s, " {:06X} {}", i * 16, hex.join(" "));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, " {} records formatted", items.len());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(13_931), (2008, 2, 22));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let tod = records::tod_from_unix_ns(1_203_713_322_883_162_000, 0);
        assert_eq!(
            date_time(tod, 0),
            ("2008/02/22".into(), "20:48:42.883162".into())
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            ip(&records::ip16("1.2.3.4".parse().unwrap())).to_string(),
            "1.2.3.4"
        );
        assert_eq!(
            ip(&records::ip16("::1".parse().unwrap())).to_string(),
            "::1"
        );
    }
}
