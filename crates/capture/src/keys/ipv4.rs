//! The fixed part of an IPv4 header (RFC 791, section 3.1): where each
//! field the keys read lies, written once for both readers that take it
//! by hand (`ipv4_layer` and the Ethernet/IPv4/TCP fast path).  Checked
//! frame by frame against etherparse's parse (`fast_tests.rs`).

/// Bytes of the header without options (IHL 5).
pub(super) const MIN_LEN: usize = 20;
/// The flags-and-fragment-offset word: Don't Fragment, More Fragments and
/// the 13-bit offset (RFC 791: flags in bits 0–2, offset in 3–15).
pub(super) const DF: u16 = 0x4000;
pub(super) const MF: u16 = 0x2000;
pub(super) const OFFSET: u16 = 0x1FFF;

/// The first 20 bytes of a header, read by name.
#[derive(Clone, Copy)]
pub(super) struct Ipv4<'a>(&'a [u8; MIN_LEN]);

impl<'a> Ipv4<'a> {
    /// The fixed part at the start of `bytes` (None when fewer are there).
    #[inline(always)]
    pub(super) fn at(bytes: &'a [u8]) -> Option<Ipv4<'a>> {
        bytes.first_chunk().map(Ipv4)
    }

    fn be16(self, at: usize) -> u16 {
        u16::from_be_bytes([self.0[at], self.0[at + 1]])
    }

    fn addr(self, at: usize) -> [u8; 4] {
        [self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]]
    }

    /// Version (bits 0–3 of byte 0).
    #[inline(always)]
    pub(super) fn version(self) -> u8 {
        self.0[0] >> 4
    }
    /// Header length in bytes (IHL, bits 4–7 of byte 0, in 32-bit words).
    #[inline(always)]
    pub(super) fn header_len(self) -> usize {
        usize::from(self.0[0] & 0x0F) * 4
    }
    /// Total length (bytes 2–3).
    #[inline(always)]
    pub(super) fn total_len(self) -> usize {
        usize::from(self.be16(2))
    }
    /// Identification (bytes 4–5).
    #[inline(always)]
    pub(super) fn ident(self) -> u16 {
        self.be16(4)
    }
    /// Flags and fragment offset (bytes 6–7): see [`DF`], [`MF`], [`OFFSET`].
    #[inline(always)]
    pub(super) fn frag_word(self) -> u16 {
        self.be16(6)
    }
    /// Time to live (byte 8).
    #[inline(always)]
    pub(super) fn ttl(self) -> u8 {
        self.0[8]
    }
    /// Protocol (byte 9).
    #[inline(always)]
    pub(super) fn protocol(self) -> u8 {
        self.0[9]
    }
    /// Source address (bytes 12–15).
    #[inline(always)]
    pub(super) fn src(self) -> [u8; 4] {
        self.addr(12)
    }
    /// Destination address (bytes 16–19).
    #[inline(always)]
    pub(super) fn dst(self) -> [u8; 4] {
        self.addr(16)
    }
}
