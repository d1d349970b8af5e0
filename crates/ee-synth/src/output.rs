//! Writers: pcapng (one Ethernet interface, nanosecond timestamps, a
//! comment on every packet) and the truth TSV.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness};

use crate::capture::Capture;

fn pcap_error(error: pcap_file::PcapError) -> io::Error {
    io::Error::other(error.to_string())
}

/// Writes the frames of `capture` as pcapng to `path`.
pub fn write_pcapng(path: &Path, capture: &Capture) -> io::Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let section = SectionHeaderBlock {
        // Fixed byte order so that every run writes the same bytes anywhere.
        endianness: Endianness::Little,
        options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
            "ee-synth (synthetic Enterprise Extender traffic)",
        ))],
        ..SectionHeaderBlock::default()
    };
    let mut writer = PcapNgWriter::with_section_header(file, section).map_err(pcap_error)?;
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0xFFFF,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("synthetic0")),
            // pcap-file writes EPB timestamps in nanoseconds.
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    };
    writer.write_pcapng_block(interface).map_err(pcap_error)?;
    for frame in &capture.frames {
        let length = u32::try_from(frame.bytes.len()).expect("frame length fits");
        let packet = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(frame.time_ns),
            original_len: length,
            data: Cow::Borrowed(&frame.bytes),
            options: vec![EnhancedPacketOption::Comment(Cow::Borrowed(&frame.comment))],
        };
        writer.write_pcapng_block(packet).map_err(pcap_error)?;
    }
    writer.into_inner().flush()
}

/// The truth file text: header line, then one event per line sorted by
/// frame (events of one frame in the order recorded).
pub fn truth_tsv(capture: &Capture) -> String {
    let mut events = capture.truth.clone();
    events.sort_by_key(|event| event.frame); // stable: keeps recording order
    let mut out = String::from("frame\tevent\tvalue\n");
    for event in events {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            event.frame, event.event, event.value
        ));
    }
    out
}

pub fn write_truth(path: &Path, capture: &Capture) -> io::Result<()> {
    std::fs::write(path, truth_tsv(capture))
}
