//! `pktmatch merge` and the post-dissector on merged captures, in the real
//! tshark.
//!
//! The sessions are the lab's example (examples/session-small) and any lab
//! runs named in PKTMATCH_LAB_DIRS (`make test` runs the lab and sets it),
//! each indexed by the real `pktmatch index`.  What the merged file must hold is checked
//! against evidence we did not write: the input captures as tshark reads
//! them (each frame's MD5, length and time stamp), the lab's truth
//! (truth/packets.csv: which frames carry the same packet, from the kernel
//! and the proxies; truth/connections.jsonl: each connection's 5-tuple at
//! every point) — never against the indexer's own answers.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{release_plugins, repo_root, Wireshark};

const POINTS: [&str; 4] = ["client", "wan", "dc", "lbserver"];

/// The sessions tested: the example, then fresh lab runs.
fn sessions() -> Vec<PathBuf> {
    let mut out = vec![repo_root().join("examples/session-small")];
    if let Some(dirs) = std::env::var_os("PKTMATCH_LAB_DIRS") {
        out.extend(std::env::split_paths(&dirs).filter(|d| d.join("truth").is_dir()));
    }
    out
}

/// A point's capture: OUTDIR/points/<p>.pcapng of a lab run, <p>.pcapng of
/// the example.
fn capture(dir: &Path, point: &str) -> PathBuf {
    let lab = dir.join("points").join(format!("{point}.pcapng"));
    if lab.exists() {
        lab
    } else {
        dir.join(format!("{point}.pcapng"))
    }
}

fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pktmatch-merge-{}-{name}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The index `pktmatch index` writes for a session (once per session).
fn index(dir: &Path) -> PathBuf {
    static INDEXES: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut cache = INDEXES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ix) = cache.get(dir) {
        return ix.clone();
    }
    let output = scratch("index").join("session.pktmatch");
    let args = pktmatch::index::Args {
        output: output.clone(),
        points: Vec::new(),
        files: POINTS.iter().map(|p| capture(dir, p)).collect(),
        window: 2.0,
        keys: None,
        engine: pktmatch::index::DEFAULT_ENGINE.into(),
        memory_limit: None,
        partitions: None,
        quiet: true,
        force: false,
        path: None,
    };
    pktmatch::index::run(&args).expect("pktmatch index");
    cache.insert(dir.to_path_buf(), output.clone());
    output
}

fn merge(dir: &Path, filter: Option<&str>, window: (Option<&str>, Option<&str>)) -> PathBuf {
    let out = scratch("out").join("merged.pcapng");
    let args = pktmatch::merge::Args {
        session: index(dir),
        out: out.clone(),
        points: Vec::new(),
        reference: None,
        from: window.0.map(str::to_owned),
        to: window.1.map(str::to_owned),
        filter: filter.map(str::to_owned),
        force: false,
    };
    pktmatch::merge::run(&args).expect("pktmatch merge");
    out
}

/// A whole session merged (once per session).
fn merged(dir: &Path) -> PathBuf {
    static MERGED: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut cache = MERGED.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(dir.to_path_buf())
        .or_insert_with(|| merge(dir, None, (None, None)))
        .clone()
}

/// A tshark without our plugins: Wireshark as a colleague has it.
fn stock() -> Wireshark {
    Wireshark::without_plugins()
}

fn with_plugin() -> Wireshark {
    Wireshark::with_plugins(release_plugins())
}

/// `tshark -T fields` rows (tab-separated, occurrences joined by ';').
fn fields(ws: &Wireshark, file: &str, extra: &[&str], names: &[&str]) -> Vec<Vec<String>> {
    ws.field_rows(file, extra, names, ";")
}

/// (point, frame) of a merged frame, from its comment's start as a person
/// reads it: "pktmatch: LABEL frame N, captured …".
fn origin(comment: &str) -> (String, u32) {
    let rest = comment
        .strip_prefix("pktmatch: ")
        .unwrap_or_else(|| panic!("{comment:?}"));
    let (node, _) = rest.split_once(", captured ").unwrap();
    let (label, frame) = node.rsplit_once(" frame ").unwrap();
    (label.to_owned(), frame.parse().unwrap())
}

/// Per (point, frame) of the inputs: (MD5 of the bytes, length, time).
fn inputs(ws: &Wireshark, dir: &Path) -> BTreeMap<(String, u32), (String, String, String)> {
    let mut out = BTreeMap::new();
    for p in POINTS {
        let file = ws.add_file(&capture(dir, p));
        let names = [
            "frame.number",
            "frame.md5_hash",
            "frame.len",
            "frame.time_epoch",
        ];
        for r in fields(ws, &file, &["-o", "frame.generate_md5_hash:TRUE"], &names) {
            let frame = r[0].parse().unwrap();
            out.insert(
                (p.to_owned(), frame),
                (r[1].clone(), r[2].clone(), r[3].clone()),
            );
        }
    }
    out
}

/// A row of truth/packets.csv: two frames carrying one packet (or, for
/// the proxy's kinds, two packets that belong together).
struct TruthPair {
    a: (String, u32),
    b: (String, u32),
    kind: String,
    adjacent: bool,
    /// True time at b − true time at a.
    delta_ns: i64,
}

impl TruthPair {
    /// The same packet (the kernel's and tcpdump's view: DNS, TCP, TCP
    /// segments merged by TSO/GSO); the proxies' pairs are two packets.
    fn same_packet(&self) -> bool {
        matches!(self.kind.as_str(), "dns" | "icmp" | "tcp" | "tcp-tso")
    }
}

fn truth_pairs(dir: &Path) -> Vec<TruthPair> {
    let text = std::fs::read_to_string(dir.join("truth/packets.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            TruthPair {
                a: (c[0].to_owned(), c[1].parse().unwrap()),
                b: (c[2].to_owned(), c[3].parse().unwrap()),
                kind: c[4].to_owned(),
                adjacent: c[6] == "adjacent",
                delta_ns: c[7].parse().unwrap(),
            }
        })
        .collect()
}

type Node = (String, u32);

/// Groups of frames that carry the same packet, by the lab's truth, joined
/// transitively.
fn truth_groups(pairs: &[TruthPair]) -> Vec<BTreeSet<Node>> {
    let mut parent: HashMap<Node, Node> = HashMap::new();
    fn root(parent: &HashMap<Node, Node>, n: &Node) -> Node {
        let mut x = n.clone();
        while let Some(p) = parent.get(&x).filter(|p| **p != x) {
            x = p.clone();
        }
        x
    }
    for pair in pairs.iter().filter(|p| p.same_packet()) {
        for n in [&pair.a, &pair.b] {
            parent.entry(n.clone()).or_insert_with(|| n.clone());
        }
        let (ra, rb) = (root(&parent, &pair.a), root(&parent, &pair.b));
        if ra != rb {
            parent.insert(ra, rb);
        }
    }
    let mut groups: BTreeMap<Node, BTreeSet<Node>> = BTreeMap::new();
    for n in parent.keys() {
        groups
            .entry(root(&parent, n))
            .or_default()
            .insert(n.clone());
    }
    groups.into_values().collect()
}

#[test]
fn a_stock_tshark_sees_every_frame_once_by_label_in_time_order_with_one_id_per_packet() {
    for dir in sessions() {
        stock_view(&dir);
    }
}

fn stock_view(dir: &Path) {
    let ws = stock();
    let file = ws.add_file(&merged(dir));
    let names = [
        "frame.number",
        "frame.interface_name",
        "frame.time_epoch",
        "frame.packet_id",
        "frame.md5_hash",
        "frame.len",
        "frame.comment",
    ];
    let merged = fields(&ws, &file, &["-o", "frame.generate_md5_hash:TRUE"], &names);
    let inputs = inputs(&ws, dir);
    let shown = dir.display();
    assert_eq!(
        merged.len(),
        inputs.len(),
        "{shown}: every frame of the four captures"
    );
    let mut seen = BTreeSet::new();
    let mut ids: BTreeMap<Node, u64> = BTreeMap::new();
    let mut times: HashMap<Node, f64> = HashMap::new();
    let mut last_time = 0f64;
    for r in &merged {
        let at = origin(&r[6]);
        assert!(seen.insert(at.clone()), "{shown}: {at:?} twice");
        let (md5, len, captured) = &inputs[&at];
        assert_eq!(
            (&r[4], &r[5]),
            (md5, len),
            "{shown}: frame {} is {at:?}'s bytes",
            r[0]
        );
        assert_eq!(r[1], at.0, "interface named by the point's label");
        let time: f64 = r[2].parse().unwrap();
        assert!(time >= last_time, "{shown}: frame {}: time goes back", r[0]);
        last_time = time;
        if at.0 == "client" {
            assert_eq!(r[2], *captured, "the reference point's own time");
        }
        times.insert(at.clone(), time);
        ids.insert(at, r[3].parse().unwrap());
    }
    let labels: BTreeSet<&str> = merged.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(labels, POINTS.iter().copied().collect());
    // Corrected times: the same packet at two points of a hop is as far
    // apart as the lab measured it (the clocks were seconds to hours off;
    // the models are good to a few µs, docs/matching.md).
    let pairs = truth_pairs(dir);
    let mut hops = 0;
    for pair in pairs.iter().filter(|p| p.adjacent && p.same_packet()) {
        let apart = (times[&pair.b] - times[&pair.a]) * 1e9;
        assert!(
            (apart - pair.delta_ns as f64).abs() < 25_000.0,
            "{shown}: {:?} → {:?}: {apart:.0} ns apart, truly {}",
            pair.a,
            pair.b,
            pair.delta_ns
        );
        hops += 1;
    }
    assert!(hops > 500, "{shown}: {hops}");
    // One id per packet of the truth: its frames share one, no two share it.
    let groups = truth_groups(&pairs);
    assert!(groups.len() > 100 && groups.iter().all(|g| g.len() >= 2));
    let mut owner: HashMap<u64, usize> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let of: BTreeSet<u64> = g.iter().map(|n| ids[n]).collect();
        assert_eq!(of.len(), 1, "{shown}: truth packet {g:?} has ids {of:?}");
        let id = *of.iter().next().unwrap();
        assert_eq!(owner.insert(id, i), None, "{shown}: id {id} on two packets");
    }
    // Frames no truth packet holds (ARP, frames seen at one point) have ids
    // of their own.
    let in_groups: BTreeSet<&Node> = groups.iter().flatten().collect();
    let mut count: HashMap<u64, usize> = HashMap::new();
    for id in ids.values() {
        *count.entry(*id).or_default() += 1;
    }
    for (n, id) in &ids {
        if !in_groups.contains(n) {
            assert!(
                !owner.contains_key(id),
                "{shown}: {n:?} shares id {id} with a packet"
            );
            assert_eq!(count[id], 1, "{shown}: {n:?}");
        }
    }
}

#[test]
fn with_the_plugin_every_frame_link_lands_on_the_same_packet() {
    for dir in sessions() {
        links_in_merged(&dir);
    }
}

fn links_in_merged(dir: &Path) {
    let ws = with_plugin();
    let file = ws.add_file(&merged(dir));
    let ix = ws.add_file(&index(dir));
    let pref = format!("pktmatch.index:{ix}");
    let names = [
        "frame.number",
        "frame.packet_id",
        "pktmatch.peer_link",
        "pktmatch.upstream.link",
        "pktmatch.downstream.link",
        "pktmatch.related_link",
        "pktmatch.point",
        "pktmatch.frame",
        "frame.comment",
    ];
    let rows = fields(&ws, &file, &["-o", &pref], &names);
    let shown = dir.display();
    let id: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let (mut links, mut related) = (0, 0);
    for r in &rows {
        // Every frame is shown as the point and frame it came from.
        assert_eq!((r[6].clone(), r[7].parse().unwrap()), origin(&r[8]));
        for col in 2..=4 {
            for target in r[col].split(';').filter(|v| !v.is_empty()) {
                links += 1;
                assert_eq!(
                    id[target], r[1],
                    "{shown}: {} of frame {}: {target}",
                    names[col], r[0]
                );
            }
        }
        for target in r[5].split(';').filter(|v| !v.is_empty()) {
            related += 1;
            assert_ne!(id[target], r[1], "{shown}: related {target} of {}", r[0]);
        }
    }
    assert!(links > 2000, "{shown}: {links} links");
    assert!(related > 50, "{shown}: {related} related (proxy) links");
    // The truth's same-packet pairs are peer links both ways.
    let merged_no: HashMap<Node, &str> = rows
        .iter()
        .map(|r| (origin(&r[8]), r[0].as_str()))
        .collect();
    let links_of: HashMap<&str, BTreeSet<&str>> = rows
        .iter()
        .map(|r| {
            let set = r[2].split(';').filter(|v| !v.is_empty()).collect();
            (r[0].as_str(), set)
        })
        .collect();
    let mut checked = 0;
    for pair in truth_pairs(dir).iter().filter(|p| p.same_packet()) {
        let (a, b) = (merged_no[&pair.a], merged_no[&pair.b]);
        assert!(
            links_of[a].contains(b) && links_of[b].contains(a),
            "{shown}: {:?} {:?}",
            pair.a,
            pair.b
        );
        checked += 1;
    }
    assert!(checked > 1000, "{shown}: {checked}");
}

#[test]
fn in_a_single_capture_no_frame_number_field_points_into_another_file() {
    let ws = with_plugin();
    let glossary = ws.tshark_ok(&["-G", "fields"]);
    let framenums: Vec<&str> = glossary
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() > 3 && c[2].starts_with("pktmatch.") && c[3] == "FT_FRAMENUM")
        .map(|c| c[2])
        .collect();
    assert_eq!(
        framenums.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "pktmatch.peer_link",
            "pktmatch.related_link",
            "pktmatch.upstream.link",
            "pktmatch.downstream.link"
        ])
    );
    for dir in sessions() {
        let ix = ws.add_file(&index(&dir));
        let pref = format!("pktmatch.index:{ix}");
        for p in POINTS {
            let file = ws.add_file(&capture(&dir, p));
            let mut names = vec!["pktmatch.peer_frame", "pktmatch.peer_file"];
            names.extend(&framenums);
            let rows = fields(&ws, &file, &["-o", &pref], &names);
            let shown = rows.iter().filter(|r| !r[0].is_empty()).count();
            assert!(shown > 40, "{p}: peers shown on {shown} frames");
            // The peer frame is a plain number with its file beside it.
            for r in rows.iter().filter(|r| !r[0].is_empty()) {
                assert_eq!(
                    r[0].split(';').count(),
                    r[1].split(';').count(),
                    "{p}: {r:?}"
                );
                assert!(r[1].ends_with(".pcapng"), "{p}: {r:?}");
            }
            for r in &rows {
                assert!(r[2..].iter().all(String::is_empty), "{p}: {r:?}");
            }
        }
    }
}

#[test]
fn upstream_neighbour_and_transit_agree_with_the_truth_and_filter_as_one() {
    for dir in sessions() {
        neighbours(&dir);
    }
}

fn neighbours(dir: &Path) {
    let ws = with_plugin();
    let ix = ws.add_file(&index(dir));
    let pref = format!("pktmatch.index:{ix}");
    // Per frame, the frames of the previous point that carried the same
    // packet and the true transit from each (adjacent hops; the sign of the
    // true delta says which way the packet went).
    let mut truth: HashMap<Node, Vec<(String, u32, i64)>> = HashMap::new();
    for pair in truth_pairs(dir)
        .iter()
        .filter(|p| p.adjacent && p.same_packet())
    {
        let (from, to) = if pair.delta_ns >= 0 {
            (&pair.a, &pair.b)
        } else {
            (&pair.b, &pair.a)
        };
        let hop = (from.0.clone(), from.1, pair.delta_ns.abs());
        truth.entry(to.clone()).or_default().push(hop);
    }
    let names = [
        "frame.number",
        "pktmatch.upstream.point",
        "pktmatch.upstream.frame",
        "pktmatch.upstream.transit",
        "pktmatch.downstream.point",
        "pktmatch.downstream.transit",
    ];
    let shown = dir.display();
    let mut checked = 0;
    let mut misdirected = 0;
    for p in ["wan", "dc"] {
        let file = ws.add_file(&capture(dir, p));
        let rows = fields(&ws, &file, &["-o", &pref], &names);
        for r in &rows {
            let frame: u32 = r[0].parse().unwrap();
            let Some(from) = truth.get(&(p.to_owned(), frame)) else {
                continue;
            };
            assert!(
                !r[1].is_empty(),
                "{shown}: {p} {frame}: no upstream; truth {from:?}"
            );
            let us: u32 = r[2].parse().unwrap();
            let hit = from.iter().find(|f| f.0 == r[1] && f.1 == us);
            let Some(hit) = hit else {
                // The direction of travel is read from the clock-corrected
                // times: it can only be wrong where the clock models err by
                // more than the transit (docs/wireshark.md, "Neighbours"):
                // a few µs on the lab's veth links, next to a clock step.
                assert!(
                    from.iter().all(|f| f.2 < TIME_BLIND_NS),
                    "{shown}: {p} {frame}: {r:?} not in {from:?}"
                );
                misdirected += 1;
                continue;
            };
            let transit = (r[3].parse::<f64>().unwrap() * 1e9).round() as i64;
            // The clock models are good to a few µs (docs/matching.md).
            assert!(
                (transit - hit.2).abs() < 25_000,
                "{shown}: {p} {frame}: {transit} vs {hit:?}"
            );
            checked += 1;
        }
        // "Slower than T from the WAN to the DC" is one filter, on the dc
        // frames whose own upstream (not some other peer) is wan.
        if p != "dc" {
            continue;
        }
        let mut transits: Vec<f64> = rows
            .iter()
            .filter(|r| r[1] == "wan")
            .map(|r| r[3].parse().unwrap())
            .collect();
        transits.sort_by(f64::total_cmp);
        let t = transits[transits.len() / 2];
        let want: BTreeSet<String> = rows
            .iter()
            .filter(|r| r[1] == "wan" && r[3].parse::<f64>().unwrap() > t)
            .map(|r| r[0].clone())
            .collect();
        let filter =
            format!("pktmatch.upstream.point == \"wan\" && pktmatch.upstream.transit > {t:.9}");
        let out = ws.tshark_ok(&[
            "-r",
            &file,
            "-o",
            &pref,
            "-Y",
            &filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ]);
        let got: BTreeSet<String> = out.lines().map(str::to_owned).collect();
        assert_eq!(got, want, "{shown}: {filter}");
        assert!(want.len() > 10);
        // dc frames going back to wan slowly are not "from the WAN".
        let back = rows
            .iter()
            .filter(|r| r[4] == "wan" && r[5].parse::<f64>().unwrap() > t && r[1] != "wan")
            .count();
        assert!(
            back > 0,
            "{shown}: no dc→wan packet slower than {t}: a weak test"
        );
    }
    assert!(checked > 400, "{shown}: {checked}");
    assert!(
        misdirected * 200 <= checked,
        "{shown}: {misdirected} of {checked} frames with their neighbours swapped"
    );
}

/// Connection `conn` of truth/connections.jsonl (the lab's own records):
/// its client port at the client, and per point the (source, destination)
/// endpoints it has there, either way, with its packet count.
fn truth_connection(
    dir: &Path,
    conn: &str,
) -> (u64, BTreeMap<String, (BTreeSet<(String, String)>, u64)>) {
    let text = std::fs::read_to_string(dir.join("truth/connections.jsonl")).unwrap();
    let key = format!("\"conn\": \"{conn}\"");
    let line = text.lines().find(|l| l.contains(&key)).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut out: BTreeMap<String, (BTreeSet<(String, String)>, u64)> = BTreeMap::new();
    let mut add = |point: &str, e: &serde_json::Value| {
        let a = format!("{}:{}", e["src"].as_str().unwrap(), e["sport"]);
        let b = format!("{}:{}", e["dst"].as_str().unwrap(), e["dport"]);
        let slot = out.entry(point.to_owned()).or_default();
        slot.0.insert((a.clone(), b.clone()));
        slot.0.insert((b, a));
        slot.1 += e["packets"].as_u64().unwrap();
    };
    for (point, e) in v["points"].as_object().unwrap() {
        add(point, e);
    }
    for e in v["lb_back"].as_array().unwrap() {
        add(v["lb_back_points"].as_str().unwrap(), e);
    }
    (v["points"]["client"]["sport"].as_u64().unwrap(), out)
}

#[test]
fn a_filter_keeps_one_connection_at_every_point_and_a_window_keeps_its_span() {
    for dir in sessions() {
        subsets(&dir);
    }
}

fn subsets(dir: &Path) {
    let ws = stock();
    let shown = dir.display();
    // conn0000 has its client port at the client only: NAT and the proxy
    // change it on the way.
    let (port, truth) = truth_connection(dir, "conn0000");
    let filter = format!("tcp.port == {port}");
    let one = ws.add_file(&merge(dir, Some(&filter), (None, None)));
    let names = [
        "frame.interface_name",
        "ip.src",
        "tcp.srcport",
        "ip.dst",
        "tcp.dstport",
    ];
    let rows = fields(&ws, &one, &[], &names);
    let mut per_point: BTreeMap<String, u64> = BTreeMap::new();
    for r in &rows {
        let t = (format!("{}:{}", r[1], r[2]), format!("{}:{}", r[3], r[4]));
        assert!(
            truth[&r[0]].0.contains(&t),
            "{shown}: {r:?} is not conn0000 at {}",
            r[0]
        );
        *per_point.entry(r[0].clone()).or_default() += 1;
    }
    let want: BTreeMap<String, u64> = truth.iter().map(|(p, v)| (p.clone(), v.1)).collect();
    assert_eq!(
        per_point, want,
        "{shown}: every packet of conn0000 at every point"
    );

    // A window: exactly the frames of the whole merge within it.
    let all = ws.add_file(&merged(dir));
    let times = fields(&ws, &all, &[], &["frame.time_epoch", "frame.comment"]);
    // Times in integer nanoseconds (an f64 of the epoch keeps only about
    // 0.2 µs, and frames of different points can be closer than that).
    let ns = |text: &str| -> i128 {
        let (sec, frac) = text.split_once('.').unwrap_or((text, "0"));
        let frac = format!("{frac:0<9}");
        sec.parse::<i128>().unwrap() * 1_000_000_000 + frac[..9].parse::<i128>().unwrap()
    };
    let t: Vec<i128> = times.iter().map(|r| ns(&r[0])).collect();
    // Bounds halfway between frames, a third and two thirds of the way in
    // (moved on past frames with the same time stamp).
    let mut i = t.len() / 3;
    while t[i - 1] == t[i] {
        i += 1;
    }
    let mut j = 2 * t.len() / 3;
    while t[j] == t[j + 1] {
        j += 1;
    }
    let (from, to) = ((t[i - 1] + t[i]) / 2 - t[0], (t[j] + t[j + 1]) / 2 - t[0]);
    let want: Vec<&String> = times[i..=j].iter().map(|r| &r[1]).collect();
    let secs = |d: i128| format!("+{}.{:09}", d / 1_000_000_000, d % 1_000_000_000);
    let (from, to) = (secs(from), secs(to));
    let part = ws.add_file(&merge(dir, None, (Some(&from), Some(&to))));
    let got = fields(&ws, &part, &[], &["frame.comment"]);
    let got: Vec<&String> = got.iter().map(|r| &r[0]).collect();
    assert!(want.len() > 100);
    // The same frames (each comment names its frame) in the same order.
    let frame_of = |c: &&String| origin(c);
    assert_eq!(
        got.iter().map(frame_of).collect::<Vec<_>>(),
        want.iter().map(frame_of).collect::<Vec<_>>(),
        "{shown}: window {from} .. {to}"
    );
}

#[test]
fn an_existing_output_needs_force_and_inputs_are_refused() {
    let dir = repo_root().join("examples/session-small");
    let out = scratch("refuse").join("m.pcapng");
    std::fs::write(&out, b"keep me").unwrap();
    let mut args = pktmatch::merge::Args {
        session: index(&dir),
        out: out.clone(),
        points: Vec::new(),
        reference: None,
        from: None,
        to: None,
        filter: None,
        force: false,
    };
    let err = pktmatch::merge::run(&args).unwrap_err().to_string();
    assert!(err.contains("exists (use --force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    args.out = capture(&dir, "wan");
    args.force = true;
    let err = pktmatch::merge::run(&args).unwrap_err().to_string();
    assert!(err.contains("refusing to write over a capture"), "{err}");
    args.out = out.clone();
    args.filter = Some("tcp.port == x".into());
    let err = pktmatch::merge::run(&args).unwrap_err().to_string();
    assert!(err.contains("expected a port number"), "{err}");
    args.filter = None;
    pktmatch::merge::run(&args).unwrap();
    // A pcapng section header block now (its type, 0x0A0D0D0A).
    assert_eq!(
        &std::fs::read(&out).unwrap()[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a]
    );
}

// ---- -z pktmatch,hops ---------------------------------------------------

/// `tshark -z pktmatch,hops[,FILTER]` rows: hop → the other columns.
fn hops_table(
    ws: &Wireshark,
    file: &str,
    pref: &str,
    filter: Option<&str>,
) -> BTreeMap<String, Vec<String>> {
    let z = match filter {
        Some(f) => format!("pktmatch,hops,{f}"),
        None => "pktmatch,hops".into(),
    };
    let out = ws.tshark_ok(&["-r", file, "-o", pref, "-q", "-z", &z]);
    assert!(
        out.contains("pktmatch: Hops between capture points"),
        "{out}"
    );
    out.lines()
        .filter(|l| l.contains(" -> "))
        .map(|l| {
            let cells: Vec<String> = l.split('|').map(|c| c.trim().to_owned()).collect();
            (cells[0].clone(), cells[1..].to_vec())
        })
        .collect()
}

/// Below this true transit, a hop's direction of travel read from
/// clock-corrected times may be wrong: the clock models are good to a few
/// µs (docs/matching.md), the lab's veth hops take 2–5 µs.
const TIME_BLIND_NS: i64 = 10_000;

/// The nearest-rank q-quantile of sorted values.
fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
fn hop_statistics_agree_with_the_truth_in_one_capture_and_in_the_merged_one() {
    for dir in sessions() {
        hop_statistics(&dir);
    }
}

fn hop_statistics(dir: &Path) {
    let ws = with_plugin();
    let ix = ws.add_file(&index(dir));
    let pref = format!("pktmatch.index:{ix}");
    let shown = dir.display();
    let client = ws.add_file(&capture(dir, "client"));
    let table = hops_table(&ws, &client, &pref, None);
    let hops: Vec<&str> = table.keys().map(String::as_str).collect();
    assert_eq!(
        hops.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "client -> wan",
            "wan -> client",
            "wan -> dc",
            "dc -> wan",
            "dc -> lbserver",
            "lbserver -> dc"
        ]),
        "{shown}"
    );
    // The merged capture (every copy of every packet) gives the same table.
    let merged = ws.add_file(&merged(dir));
    assert_eq!(
        hops_table(&ws, &merged, &pref, None),
        table,
        "{shown}: merged"
    );
    // Per hop and direction, the truth's transits (same-packet hops, where
    // the truth lists every pair).
    let mut truth: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for p in truth_pairs(dir)
        .iter()
        .filter(|p| p.adjacent && p.same_packet())
    {
        let (from, to) = if p.delta_ns >= 0 {
            (&p.a, &p.b)
        } else {
            (&p.b, &p.a)
        };
        if from.0 == "lbserver" || to.0 == "lbserver" {
            continue;
        }
        truth
            .entry(format!("{} -> {}", from.0, to.0))
            .or_default()
            .push(p.delta_ns.abs());
    }
    let ms = |s: &str| -> i64 { (s.parse::<f64>().unwrap() * 1e6).round() as i64 };
    // Both directions of a hop together hold exactly the truth's packets;
    // each direction may differ by the few whose transit is shorter than
    // the clock models' error (TIME_BLIND_NS), at most 1 %.
    let blind = |hop: &str| -> usize {
        truth
            .get(hop)
            .map_or(0, |t| t.iter().filter(|&&d| d < TIME_BLIND_NS).count())
    };
    for (hop, transits) in &truth {
        let (a, b) = hop.split_once(" -> ").unwrap();
        let back = format!("{b} -> {a}");
        let got = |h: &str| table.get(h).map_or(0, |r| r[0].parse::<usize>().unwrap());
        let want_back = truth.get(&back).map_or(0, Vec::len);
        assert_eq!(
            got(hop) + got(&back),
            transits.len() + want_back,
            "{shown}: {hop} and back: packets"
        );
        let off = got(hop).abs_diff(transits.len());
        assert!(
            off <= blind(&back).max(blind(hop)) && off * 100 <= transits.len(),
            "{shown}: {hop}: {} packets, truly {}",
            got(hop),
            transits.len()
        );
    }
    for (hop, mut transits) in truth {
        transits.sort_unstable();
        let row = &table[&hop];
        assert_eq!(
            (row[1].as_str(), row[2].as_str()),
            ("0", "0"),
            "{shown}: {hop}"
        );
        let want = [
            transits[0],
            nearest_rank(&transits, 0.5),
            nearest_rank(&transits, 0.99),
            transits[transits.len() - 1],
        ];
        for (got, want) in row[3..7].iter().zip(want) {
            // µs shown; the clock models are good to a few µs.
            assert!(
                (ms(got) - want).abs() < 12_000,
                "{shown}: {hop}: {got} ms vs {want} ns"
            );
        }
        assert!(row[7].contains(" s") && row[8].ends_with(" ppm"), "{row:?}");
    }
    // A filter selects packets: TCP only leaves out the DNS and ICMP echo
    // exchanges.
    let tcp = hops_table(&ws, &client, &pref, Some("tcp"));
    let dns: usize = truth_pairs(dir)
        .iter()
        .filter(|p| {
            p.adjacent
                && matches!(p.kind.as_str(), "dns" | "icmp")
                && p.a.0 == "client"
                && p.b.0 == "wan"
        })
        .count();
    let count = |t: &BTreeMap<String, Vec<String>>, h: &str| t[h][0].parse::<usize>().unwrap();
    assert_eq!(
        count(&tcp, "client -> wan") + count(&tcp, "wan -> client") + dns,
        count(&table, "client -> wan") + count(&table, "wan -> client"),
        "{shown}"
    );
}

#[test]
fn hop_statistics_count_network_losses_and_capture_drops_where_they_happened() {
    // The example's client, wan and dc captures with the truth's matches,
    // less two packets' copies further on: one lost on the network before
    // wan (seen at the client only), one the wan capture dropped (seen at
    // the client and at dc).  Hand-counted: client -> wan loses one link
    // each, and shows one loss and one drop.
    let dir = repo_root().join("examples/session-small");
    let points = ["client", "wan", "dc"];
    let mut b = index::IndexBuilder::new();
    for p in points {
        let path = capture(&dir, p);
        let size = std::fs::metadata(&path).unwrap().len();
        let id = b.add_point(p, &path.to_string_lossy(), size).unwrap();
        let mut cap = capture::open(&path).unwrap();
        while let Some(packet) = cap.next_packet().unwrap() {
            b.add_frame_bytes(id, packet.ts_ns, packet.data.len() as u32, packet.data)
                .unwrap();
        }
    }
    let at = |l: &str| points.iter().position(|p| *p == l).map(|p| p as u16);
    // Two client→server TCP packets seen at all three points.
    let pairs = truth_pairs(&dir);
    let mut three: Vec<u32> = pairs
        .iter()
        .filter(|p| p.kind == "tcp" && p.a.0 == "client" && p.b.0 == "dc" && p.delta_ns > 0)
        .map(|p| p.a.1)
        .collect();
    three.sort_unstable();
    let (lost, dropped) = (three[3], three[4]);
    let mut links = 0;
    for p in pairs.iter().filter(|p| p.same_packet() && p.adjacent) {
        let (Some(pa), Some(pb)) = (at(&p.a.0), at(&p.b.0)) else {
            continue;
        };
        let involves =
            |f: u32| (p.a.0 == "client" && p.a.1 == f) || (p.b.0 == "client" && p.b.1 == f);
        let is_copy = |f: u32| {
            pairs
                .iter()
                .any(|q| q.a == ("client".to_owned(), f) && (q.b == p.a || q.b == p.b))
        };
        if involves(lost)
            || involves(dropped)
            || is_copy(lost)
            || (is_copy(dropped) && p.b.0 == "dc")
        {
            continue;
        }
        b.add_match(pa, p.a.1, pb, p.b.1, p.delta_ns, 2, 255)
            .unwrap();
        links += 1;
    }
    // The dropped one: client and dc directly.
    let dc_copy = pairs
        .iter()
        .find(|q| q.a == ("client".to_owned(), dropped) && q.b.0 == "dc")
        .unwrap()
        .b
        .1;
    b.add_match(0, dropped, 2, dc_copy, 60_000, 2, 255).unwrap();
    b.add_lost(0, lost, 1, index::LossKind::NetworkLoss)
        .unwrap();
    b.add_lost(0, dropped, 1, index::LossKind::CaptureDrop)
        .unwrap();
    b.add_lost(2, dc_copy, 1, index::LossKind::CaptureDrop)
        .unwrap();
    for (p, q) in [(0, 1), (1, 2)] {
        let spec = index::PairSpec {
            neighbours: true,
            ..Default::default()
        };
        b.set_pair(p, q, spec).unwrap();
    }
    let out = scratch("losses").join("losses.pktmatch");
    std::fs::write(&out, b.build()).unwrap();
    let ws = with_plugin();
    let ix = ws.add_file(&out);
    let pref = format!("pktmatch.index:{ix}");
    let client = ws.add_file(&capture(&dir, "client"));
    let table = hops_table(&ws, &client, &pref, None);
    let full = hops_table(&ws, &ws.add_file(&capture(&dir, "dc")), &pref, None);
    let row = |t: &BTreeMap<String, Vec<String>>, h: &str| t[h][..3].join(" ");
    // No clock models: links count on the path's way, no delays shown.
    let client_wan: usize = pairs
        .iter()
        .filter(|p| p.adjacent && p.same_packet() && p.a.0 == "client" && p.b.0 == "wan")
        .count();
    assert_eq!(
        row(&table, "client -> wan"),
        format!("{} 1 1", client_wan - 2)
    );
    assert_eq!(table["client -> wan"][3], "-");
    assert_eq!(table["client -> wan"][7], "no model");
    assert_eq!(row(&table, "wan -> client"), "0 0 0");
    // Seen from dc's capture the drop is the same one (counted once).
    assert_eq!(full["client -> wan"][2], "1");
    assert!(links > 600);
}
