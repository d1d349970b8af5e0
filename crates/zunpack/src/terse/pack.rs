//! PACK: TERSE's LZW variant.
//!
//! The dictionary has a slot for every code 258–4095, each holding a
//! string as (prefix code, last symbol).  It starts full: slot 258 is two
//! EBCDIC blanks, each later slot one blank longer.  Slots sit on a
//! recency list.  For every code read:
//!
//! 1. the least recently used slot is taken off the list: it will hold
//!    the string the *next* code extends;
//! 2. the code's string is produced by walking its prefix chain down to a
//!    symbol; every slot on the chain moves to the front of the list,
//!    the chain's root-most slot foremost, then the others in order, then
//!    the slot taken in 1;
//! 3. the slot taken for the previous code gets this string's first
//!    symbol as its last symbol (so a code may name the slot made by the
//!    code before it), then the string is output;
//! 4. the slot taken in 1 gets this code as its prefix.
//!
//! The order of the recency list decides which slot is recycled next, so
//! it must be kept exactly as the encoder keeps it.

use super::codes::Codes;
use super::{Output, CODES, LAST_SYMBOL};
use crate::{Error, Result};

/// The EBCDIC blank as a symbol (byte X'40' + 1).
const BLANK: u16 = 0x41;
/// The first dictionary slot.
const FIRST_SLOT: u16 = LAST_SYMBOL + 1;
/// The head of the recency list (front = most recent).
const HEAD: u16 = 0;

struct Dictionary {
    prefix: Vec<u16>,
    last: Vec<u16>,
    /// Recency list: `newer[n]` is the slot in front of `n`, `older[n]`
    /// the one behind it; `HEAD` closes the ring.
    newer: Vec<u16>,
    older: Vec<u16>,
}

impl Dictionary {
    fn new() -> Dictionary {
        let mut d = Dictionary {
            prefix: vec![0; CODES],
            last: vec![0; CODES],
            newer: vec![0; CODES],
            older: vec![0; CODES],
        };
        let first = FIRST_SLOT as usize;
        for slot in first..CODES {
            d.prefix[slot] = if slot == first {
                BLANK
            } else {
                slot as u16 - 1
            };
            d.last[slot] = BLANK;
            // front to back: 258, 259, ..., 4095
            d.older[slot] = if slot + 1 < CODES {
                slot as u16 + 1
            } else {
                HEAD
            };
            d.newer[slot] = if slot == first { HEAD } else { slot as u16 - 1 };
        }
        d.older[HEAD as usize] = FIRST_SLOT;
        d.newer[HEAD as usize] = CODES as u16 - 1;
        d
    }

    /// Takes the least recently used slot off the back of the list.
    fn take_oldest(&mut self) -> u16 {
        let slot = self.newer[HEAD as usize];
        let before = self.newer[slot as usize];
        self.newer[HEAD as usize] = before;
        self.older[before as usize] = HEAD;
        slot
    }

    fn unlink(&mut self, slot: u16) {
        let (n, o) = (self.newer[slot as usize], self.older[slot as usize]);
        self.older[n as usize] = o;
        self.newer[o as usize] = n;
    }

    /// Puts `chain` (front first) at the front of the list.
    fn push_front(&mut self, chain: &[u16]) {
        let Some((&first, _)) = chain.split_first() else {
            return;
        };
        let old_front = self.older[HEAD as usize];
        let mut ahead = HEAD;
        for &slot in chain {
            self.older[ahead as usize] = slot;
            self.newer[slot as usize] = ahead;
            ahead = slot;
        }
        self.older[ahead as usize] = old_front;
        self.newer[old_front as usize] = ahead;
        debug_assert_eq!(self.older[HEAD as usize], first);
    }
}

pub(crate) fn decode(codes: &mut Codes<'_>, out: &mut Output) -> Result<()> {
    let mut d = Dictionary::new();
    // the slot taken for the previous code (0: none yet)
    let mut previous: u16 = 0;
    let mut chain: Vec<u16> = Vec::with_capacity(64);
    loop {
        out.at = codes.offset();
        let Some(code) = codes.next_code()? else {
            return Ok(());
        };
        let fresh = d.take_oldest();
        // Walk the prefix chain (leaf first); it can never be longer than
        // the dictionary unless the input is damaged (a loop).
        chain.clear();
        let mut at = code;
        while at > LAST_SYMBOL {
            if chain.len() >= CODES {
                return Err(Error::invalid(
                    out.at,
                    "TERSE PACK code",
                    format!("X'{code:03X}' names a string that loops"),
                ));
            }
            if at != fresh {
                d.unlink(at);
            }
            chain.push(at);
            at = d.prefix[at as usize];
        }
        let first_symbol = at;
        // front of the list: root-most slot first, then down to the leaf,
        // then the fresh slot (once, even when the code named it)
        chain.reverse();
        let leaf_is_fresh = chain.last() == Some(&fresh);
        if !leaf_is_fresh {
            chain.push(fresh);
        }
        d.push_front(&chain);
        if !leaf_is_fresh {
            chain.pop();
        }
        if previous != 0 {
            d.last[previous as usize] = first_symbol;
        }
        out.symbol(first_symbol)?;
        for &slot in chain.iter() {
            out.symbol(d.last[slot as usize])?;
        }
        d.prefix[fresh as usize] = code;
        previous = fresh;
    }
}
