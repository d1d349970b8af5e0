#!/bin/bash
# Takes docs/img/pktmatch-report.png: the HTML page of `pktmatch report` on
# the example session (examples/session-small, indexed by `pktmatch index`,
# --limit 8) as a real browser draws it: Debian's chromium, headless.
#
# Needs (Debian 12): apt-get install chromium
# Usage: tools/report-screenshot.sh [OUT.png]   (default docs/img/pktmatch-report.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img/pktmatch-report.png}
command -v chromium >/dev/null || { echo "report-screenshot: apt-get install chromium" >&2; exit 1; }
work=$(mktemp -d /tmp/pktmatch-report-shot-XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p pktmatch
cp examples/session-small/{client,wan,dc,lbserver}.pcapng "$work/"
(cd "$work" && "$OLDPWD/target/release/pktmatch" index -q -o shop.pktmatch \
    client.pcapng wan.pcapng dc.pcapng lbserver.pcapng &&
    "$OLDPWD/target/release/pktmatch" report shop.pktmatch --html report.html --limit 8 2>/dev/null)
# The browser's own options: no network, no first-run tasks, a throwaway
# profile; a window tall enough for the whole page.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1280,2560 \
    --screenshot="$work/shot.png" "file://$work/report.html" > "$work/chromium.log" 2>&1 ||
    { cat "$work/chromium.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
