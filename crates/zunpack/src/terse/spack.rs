//! SPACK: TERSE's LZMW variant.
//!
//! Every code after the first makes a new dictionary node: the pair
//! (previous code, this code), whose string is the two strings joined.
//! Nodes that no other node refers to sit on a recency list; when the
//! dictionary (codes 258–4095) is full, the least recently listed such
//! node is recycled first, dropping its references to its two halves (a
//! half left without references joins the back of the list).  A node
//! referred to again leaves the list.  Reference counts and the list share
//! one field per node, as in the published decoders: a negative value is
//! minus the number of references, otherwise the next node on the list;
//! symbols (codes 1–257) start at −1 so that they never join the list.

use super::codes::Codes;
use super::{Output, CODES, LAST_SYMBOL};
use crate::{Error, Result};

/// The list head (node 0, never a code).
const HEAD: i32 = 0;
/// No node / one reference.
const NONE: i32 = -1;

struct Tree {
    left: Vec<i32>,
    right: Vec<i32>,
    /// List link backwards.
    back: Vec<i32>,
    /// List link forwards, or −references (see the module documentation).
    link: Vec<i32>,
    /// The next free node, `NONE` when the dictionary is full.
    free: i32,
}

impl Tree {
    fn new() -> Tree {
        let mut t = Tree {
            left: vec![NONE; CODES],
            right: vec![NONE; CODES],
            back: vec![0; CODES],
            link: vec![0; CODES],
            free: LAST_SYMBOL as i32 + 1,
        };
        for code in 0..=LAST_SYMBOL as usize {
            t.right[code] = code as i32;
            t.link[code] = NONE;
        }
        for node in LAST_SYMBOL as usize + 1..CODES {
            t.link[node] = if node + 1 < CODES {
                node as i32 + 1
            } else {
                NONE
            };
        }
        t.link[HEAD as usize] = HEAD;
        t.back[HEAD as usize] = HEAD;
        t
    }

    fn node(&self, n: i32, at: usize) -> Result<usize> {
        if n <= 0 || n as usize >= CODES {
            return Err(Error::invalid(
                at,
                "TERSE SPACK code",
                format!("refers to node {n}, which does not exist"),
            ));
        }
        Ok(n as usize)
    }

    /// Appends `n` at the back of the list (most recent).
    fn list_add(&mut self, n: usize) {
        let last = self.back[HEAD as usize];
        self.link[n] = HEAD;
        self.back[HEAD as usize] = n as i32;
        self.back[n] = last;
        self.link[last as usize] = n as i32;
    }

    /// One more reference to `n`: off the list if it was on it.
    fn add_ref(&mut self, n: usize) {
        if self.link[n] < 0 {
            self.link[n] -= 1;
        } else {
            let (next, prev) = (self.link[n], self.back[n]);
            self.link[prev as usize] = next;
            self.back[next as usize] = prev;
            self.link[n] = NONE;
        }
    }

    /// One reference fewer to `n`: on the list when none is left.
    fn drop_ref(&mut self, n: i32, at: usize) -> Result<()> {
        let n = self.node(n, at)?;
        if self.link[n] == NONE {
            self.list_add(n);
        } else {
            self.link[n] += 1;
        }
        Ok(())
    }

    /// Recycles the node at the front of the list onto the free list.
    fn recycle(&mut self, at: usize) -> Result<()> {
        let n = self.link[HEAD as usize];
        if n <= HEAD {
            return Err(Error::invalid(
                at,
                "TERSE SPACK stream",
                "the dictionary is full and no node can be recycled",
            ));
        }
        let n = n as usize;
        let (next, prev) = (self.link[n], self.back[n]);
        if next < 0 || prev < 0 {
            return Err(Error::invalid(
                at,
                "TERSE SPACK stream",
                "damaged recency list",
            ));
        }
        self.back[next as usize] = prev;
        self.link[prev as usize] = next;
        self.drop_ref(self.left[n], at)?;
        self.drop_ref(self.right[n], at)?;
        self.link[n] = self.free;
        self.free = n as i32;
        Ok(())
    }

    /// Outputs the string of `code`: its halves, left first.
    fn emit(&self, code: u16, stack: &mut Vec<i32>, out: &mut Output) -> Result<()> {
        stack.clear();
        let mut x = i32::from(code);
        loop {
            while x > LAST_SYMBOL as i32 {
                if stack.len() >= CODES {
                    return Err(Error::invalid(
                        out.at,
                        "TERSE SPACK code",
                        format!("X'{code:03X}' names a string that loops"),
                    ));
                }
                let n = x as usize;
                stack.push(self.right[n]);
                x = self.left[n];
            }
            if x < 0 {
                return Err(Error::invalid(
                    out.at,
                    "TERSE SPACK code",
                    format!("X'{code:03X}' uses a node not yet defined"),
                ));
            }
            out.symbol(x as u16)?;
            match stack.pop() {
                Some(next) => x = next,
                None => return Ok(()),
            }
        }
    }
}

pub(crate) fn decode(codes: &mut Codes<'_>, out: &mut Output) -> Result<()> {
    let mut t = Tree::new();
    let mut stack = Vec::with_capacity(64);
    out.at = codes.offset();
    let Some(mut previous) = codes.next_code()? else {
        return Ok(());
    };
    t.emit(previous, &mut stack, out)?;
    loop {
        out.at = codes.offset();
        let Some(code) = codes.next_code()? else {
            return Ok(());
        };
        if t.free == NONE {
            t.recycle(out.at)?;
        }
        t.emit(code, &mut stack, out)?;
        let n = t.node(t.free, out.at)?;
        t.free = t.link[n];
        t.left[n] = i32::from(previous);
        t.right[n] = i32::from(code);
        t.add_ref(previous as usize);
        t.add_ref(code as usize);
        t.list_add(n);
        previous = code;
    }
}
