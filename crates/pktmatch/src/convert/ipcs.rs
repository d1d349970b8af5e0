//! An IPCS formatted report to pcapng: one packet per record with hex
//! dumps, rebuilt by `ipcs-report`.  IP packets on a raw-IP interface per
//! interface name, data trace socket data as exported PDUs with the
//! socket's endpoints, other dumps kept whole on a LINKTYPE_USER0
//! interface.  Time to the µs (the report's precision), direction in the
//! packet flags, the original length kept; what does not add up, and the
//! report lines that were skipped, become packet comments and warnings
//! naming the file and line.

use std::borrow::Cow;
use std::io::Write;

use ipcs_report::{Direction, Kind, Note, Report, TimeZone};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::DataLink;

use super::{exported_pdu_header, io_error, Args, Error, Socket, Summary, Writer, MAX_WARNINGS};

fn flags(d: Option<Direction>) -> Option<u32> {
    match d? {
        Direction::Inbound => Some(1),
        Direction::Outbound => Some(2),
    }
}

/// The socket of a data trace record, from the values the report shows.
fn socket(rec: &ipcs_report::Record) -> Option<Socket> {
    let (src, dst) = (rec.ip_src?, rec.ip_dst?);
    Some(Socket {
        udp: rec
            .socket_protocol
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("UDP")),
        src,
        dst,
        src_port: rec.src_port.unwrap_or(0),
        dst_port: rec.dst_port.unwrap_or(0),
    })
}

pub(super) fn convert<W: Write>(
    report: &Report,
    args: &Args,
    writer: &mut Writer<W>,
) -> Result<Summary, Error> {
    let input = &args.input;
    let pcap_error = |e: pcap_file::PcapError| io_error(&args.output, "cannot write", e);
    let mut summary = Summary::default();
    let warn = |summary: &mut Summary, text: String| {
        summary.notes += 1;
        if summary.warnings.len() < MAX_WARNINGS {
            summary
                .warnings
                .push(format!("{}: {text}", input.display()));
        }
    };
    if report.time_zone == TimeZone::Local && args.report_local_offset == 0 {
        warn(
            &mut summary,
            "the report was formatted with LOCAL: its times are z/OS local time, written \
             as UTC (give --report-local-offset)"
                .into(),
        );
    }
    let offset_us = args.report_local_offset.saturating_mul(1_000_000);
    // report notes go with the record they are in (or the first one)
    let mut notes = report.notes.iter().peekable();
    let mut without_dump = Vec::new();
    let mut scratch = Vec::new();
    for (i, rec) in report.records.iter().enumerate() {
        let end = report.records.get(i + 1).map_or(usize::MAX, |r| r.line);
        let mine: Vec<&Note> = std::iter::from_fn(|| notes.next_if(|n| n.line < end)).collect();
        let mut options: Vec<EnhancedPacketOption> = Vec::new();
        for n in &mine {
            warn(&mut summary, n.to_string());
            options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                "IPCS report: {n}"
            ))));
        }
        let Some(p) = rec.packet() else {
            without_dump.push(rec.line);
            continue;
        };
        for problem in &p.problems {
            warn(&mut summary, problem.to_string());
            options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                "IPCS report: {problem}"
            ))));
        }
        if let Some(f) = flags(p.direction) {
            options.push(EnhancedPacketOption::Flags(f));
        }
        let time_ns = rec
            .time_us()
            .unwrap_or(0)
            .saturating_sub(offset_us)
            .saturating_mul(1000);
        let name = rec.name.clone().unwrap_or_else(|| "IPCS report".into());
        let (name, link, data): (String, DataLink, &[u8]) = match (p.kind, socket(rec)) {
            (Kind::Ip, _) => (name, DataLink::RAW, &p.bytes),
            (Kind::SocketData, Some(s)) => {
                scratch.clear();
                exported_pdu_header(&s, &mut scratch);
                scratch.extend_from_slice(&p.bytes);
                (
                    format!("data trace {name}"),
                    DataLink::WIRESHARK_UPPER_PDU,
                    &scratch,
                )
            }
            _ => {
                summary.raw_records += 1;
                ("IPCS report dumps".into(), DataLink::USER0, &p.bytes)
            }
        };
        let extra = (data.len() - p.bytes.len()) as u32;
        let id = writer.interface(name, link).map_err(pcap_error)?;
        writer
            .packet(
                id,
                time_ns,
                p.original_len.saturating_add(extra),
                data,
                options,
            )
            .map_err(pcap_error)?;
        summary.packets += 1;
        summary.entries += 1;
    }
    for n in notes {
        warn(&mut summary, n.to_string());
    }
    if !without_dump.is_empty() {
        let lines: Vec<String> = without_dump
            .iter()
            .take(10)
            .map(|l| l.to_string())
            .collect();
        warn(
            &mut summary,
            format!(
                "{} records without hex dumps not converted (lines {}{})",
                without_dump.len(),
                lines.join(", "),
                if without_dump.len() > 10 { ", …" } else { "" }
            ),
        );
    }
    summary.report = Some(format!(
        "IPCS {} report ({}{}): {} records",
        report.layout.name(),
        match report.encoding {
            ipcs_report::text::Encoding::Ascii => "text",
            ipcs_report::text::Encoding::Ebcdic => "EBCDIC",
        },
        if report.asa { ", ASA control" } else { "" },
        report.records.len()
    ));
    Ok(summary)
}
