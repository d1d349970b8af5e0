#!/bin/bash
# CTRACE benchmark (issue: CTRACE, "Performance").  Everything is measured
# in this one run, as ratios against a baseline measured beside it:
#   1. tshark reading a >= 500,000-record CTRACE file with our plugins
#      vs. tshark reading the same packets as pcapng (target: <= 1.2x);
#   2. `pktmatch convert` throughput on page-cached input (target: >= 200 MB/s).
# Input: the real captures in tests/data repeated to PACKETS packets
# (bench/make-pcap.py), written as CTRACE by ctrace-synth (raw framing).
# Usage: bench/ctrace.sh [PACKETS] [RUNS]     (defaults 510000, 3: the writer
# leaves out the ~1.4% non-IP packets, so the trace has over 500,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-510000}
runs=${2:-3}
work=$(mktemp -d /tmp/pktmatch-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release -q --workspace
python3 bench/make-pcap.py "$work/source.pcap" "$packets" tests/data/real-*.pcap
target/release/ctrace-synth "$work/source.pcap" "$work/trace.ctrace" --framing raw >/dev/null
# The same packets as pcapng: the IP packets of the source (the writer
# leaves out what is not IP, e.g. ARP), as Wireshark's own tools write them.
tshark -r "$work/source.pcap" -Y "ip || ipv6" -F pcapng -w "$work/baseline.pcapng" 2>/dev/null

# tshark with our plugins from a private HOME (the Python below runs it as
# nobody when root, as plugin_home expects).
home="$work/home"
# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
plugin_home "$home"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$work"; fi

python3 - "$runs" "$work" "$packets" <<'PY'
import os, subprocess, sys, time, statistics
runs, work, packets = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def timed(cmd):
    best = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best.append(time.perf_counter() - t)
    return statistics.median(best)
user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.getuid() == 0 else []
env = ["env", f"HOME={work}/home"]
tshark = lambda f: user + env + ["tshark", "-r", f]
# warm the page cache and check both files have the same packet count
counts = []
for f in ("baseline.pcapng", "trace.ctrace"):
    out = subprocess.run(user + env + ["capinfos", "-M", "-c", f"{work}/{f}"], check=True,
                         capture_output=True, text=True).stdout
    counts.append(int(out.split("Number of packets:")[1].split()[0]))
assert counts[0] == counts[1], f"packet counts differ: {counts}"
base = timed(tshark(f"{work}/baseline.pcapng"))
ours = timed(tshark(f"{work}/trace.ctrace"))
size = os.path.getsize(f"{work}/trace.ctrace")
out = f"{work}/converted.pcapng"
def convert():
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["target/release/pktmatch", "convert", f"{work}/trace.ctrace", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
convert()  # warm
conv = statistics.median([(lambda t: (convert(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(runs)])
print(f"{counts[0]} packets in both files; CTRACE file {size/1e6:.1f} MB")
print(f"tshark -r baseline.pcapng: {base:.2f} s (median of {runs})")
print(f"tshark -r trace.ctrace:    {ours:.2f} s  ratio {ours/base:.3f}  (target <= 1.2)")
print(f"pktmatch convert:          {conv:.2f} s  {size/conv/1e6:.0f} MB/s  (target >= 200)")
PY
