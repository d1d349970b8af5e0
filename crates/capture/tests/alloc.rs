//! Reading and key extraction allocate nothing per packet: a counting
//! global allocator watches a whole pass over real captures (mapped pcap,
//! pcapng in memory, gzip stream), after the capture is open.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made while every packet after the first is read and keyed
/// (the first may come after the interface descriptions, which are kept).
fn allocations_of_a_pass(cap: &mut capture::Capture<'_>) -> (usize, u64) {
    assert!(cap.next_packet().unwrap().is_some());
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut keyed = 0u64;
    let n = cap
        .for_each(|p| keyed += u64::from(capture::extract(p.link, p.data).is_some()))
        .unwrap();
    assert!(keyed > 0);
    (ALLOCATIONS.load(Ordering::Relaxed) - before, n + 1)
}

// One test only: the counter is global and tests run in parallel.
#[test]
fn no_allocation_per_packet() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    let http = data.join("real-http.pcap");

    let mut cap = capture::open(&http).unwrap();
    let (allocs, n) = allocations_of_a_pass(&mut cap);
    assert_eq!(
        allocs, 0,
        "mapped pcap: {allocs} allocations for {n} packets"
    );

    // the same packets as pcapng, written with pcap-file
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    let mut w = pcap_file::pcapng::PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(
        pcap_file::DataLink::ETHERNET,
        0,
    ))
    .unwrap();
    capture::open(&http)
        .unwrap()
        .for_each(|p| {
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: std::time::Duration::from_nanos(p.ts_ns as u64 / 1000),
                original_len: p.orig_len,
                data: std::borrow::Cow::Borrowed(p.data),
                options: vec![],
            })
            .unwrap();
        })
        .unwrap();
    let ng = w.into_inner();
    let mut cap = capture::from_bytes(&ng).unwrap();
    let (allocs, n2) = allocations_of_a_pass(&mut cap);
    assert_eq!(n2, n);
    assert_eq!(allocs, 0, "pcapng: {allocs} allocations for {n} packets");

    // gzip: the stream buffer is allocated once, the decompressor keeps its
    // own state; nothing grows with the packet count
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&http).unwrap()).unwrap();
    let gz = gz.finish().unwrap();
    let mut cap = capture::from_bytes(&gz).unwrap();
    let (allocs, n3) = allocations_of_a_pass(&mut cap);
    assert_eq!(n3, n);
    assert!(allocs <= 4, "gzip: {allocs} allocations for {n} packets");
}
