//! What the post-dissector looks up per frame besides the peers, prepared
//! once when the index is loaded so that a frame costs the same however
//! many connections and translations the session has:
//!
//! * the class of every match method (`index::journey`: same packet,
//!   composed, related across a proxy);
//! * the translation of a packet's connection between two points, by the
//!   packet's addresses and ports (a hash map; the index keeps translations
//!   sorted by point pair only, and scanning a pair's thousands of
//!   connections per frame was most of the cost of a tree; FxHash, as the
//!   keys are not chosen by an adversary and SipHash cost more than the rest
//!   of the lookup).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use index::{Index, Links};
use rustc_hash::FxHashMap as HashMap;
use wireshark_ffi::packet::Endpoint;

/// (this point, peer point, source, destination) as the packet at this
/// point carries them.
type Key = (u16, u16, SocketAddr, SocketAddr);

pub struct Lookup<'a> {
    pub links: Links,
    by_endpoints: HashMap<Key, &'a str>,
    /// Per (point, peer) in either order: the pair's only translation when
    /// it names no endpoints.
    only: HashMap<(u16, u16), &'a str>,
}

impl<'a> Lookup<'a> {
    pub fn new(ix: &Index<'a>) -> Lookup<'a> {
        let mut by_endpoints = HashMap::default();
        let mut per_pair: HashMap<(u16, u16), (usize, Option<&'a str>)> = HashMap::default();
        for t in ix.all_translations() {
            let (a, b) = (t.a(), t.b());
            let count = per_pair.entry((a, b)).or_default();
            count.0 += 1;
            match t.endpoints() {
                Some(e) => {
                    // Either direction of the connection, at either point;
                    // the first record recorded for a key wins.
                    for key in [
                        (a, b, e.a_src, e.a_dst),
                        (a, b, e.a_dst, e.a_src),
                        (b, a, e.b_src, e.b_dst),
                        (b, a, e.b_dst, e.b_src),
                    ] {
                        by_endpoints.entry(key).or_insert(t.summary());
                    }
                }
                None => count.1 = Some(t.summary()),
            }
        }
        let mut only = HashMap::default();
        for ((a, b), (count, summary)) in per_pair {
            if let (1, Some(s)) = (count, summary) {
                only.insert((a, b), s);
                only.insert((b, a), s);
            }
        }
        Lookup {
            links: Links::new(ix),
            by_endpoints,
            only,
        }
    }

    /// The translation between `point` and `peer` for the connection of a
    /// packet with these endpoints at `point`: the record whose endpoints
    /// there are the packet's (either direction), else the pair's only
    /// record when it names no endpoints.
    pub fn translation(
        &self,
        point: u16,
        peer: u16,
        src: &Endpoint,
        dst: &Endpoint,
    ) -> Option<&'a str> {
        if let (Some(s), Some(d)) = (socket(src), socket(dst)) {
            if let Some(t) = self.by_endpoints.get(&(point, peer, s, d)) {
                return Some(t);
            }
        }
        self.only.get(&(point, peer)).copied()
    }
}

fn socket(e: &Endpoint) -> Option<SocketAddr> {
    let port = u16::try_from(e.port).ok()?;
    let ip = match e.address_len {
        4 => {
            let a = &e.address;
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        }
        16 => IpAddr::V6(Ipv6Addr::from(e.address)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}
