#!/bin/bash
# Takes docs/img/ctrace-record.png: the real Wireshark GUI (Debian's
# wireshark-qt) under Xvfb with the freshly built plugins, showing a CTRACE
# record written straight from the evidence (tests/data/ctrace-vectors.py,
# raw framing with unknown bytes before every writer buffer), its `ctrace`
# subtree expanded: the skipped bytes as ctrace.writer_header, the CTE, and
# the packet trace header at IBM's positions (PTH_Tlen 5..7, PTH_Plen 82,
# PTH_Out X'01', the unknown bytes 68..81 with 2cUTC's labels unverified).
#
# Needs (Debian 12): apt-get install wireshark-qt xvfb xauth imagemagick xdotool
# Usage: tools/screenshot-ctrace.sh [OUT.png] [FRAME] [INPUT]
#   (defaults docs/img/ctrace-record.png, 1, the evidence vector; INPUT any
#   file the plugins open, e.g. tests/data/ibm-dump-example.txt for
#   docs/img/ipcs-report-record.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img/ctrace-record.png}
frame=${2:-1}
input=${3:-}
for tool in wireshark xvfb-run import xdotool python3; do
    command -v "$tool" >/dev/null || {
        echo "screenshot: $tool missing (apt-get install wireshark-qt xvfb xauth imagemagick xdotool)" >&2
        exit 1
    }
done
work=$(mktemp -d /tmp/pktmatch-shot-XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p pktmatch-epan -p pktmatch-wiretap
if [ -n "$input" ]; then
    cp "$input" "$work/trace.ctrace"
else
    python3 tests/data/ctrace-vectors.py "$work/vectors"
    cp "$work/vectors/vectors-raw-hdr.ctrace" "$work/trace.ctrace"
fi

# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
home="$work/home"
mkdir -p "$home/.config/wireshark"
cat > "$home/.config/wireshark/recent" <<'EOF'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1500
gui.geometry_main_height: 1150
gui.geometry_main_maximized: FALSE
gui.geometry_main_upper_pane: 180
gui.byte_view_show: TRUE
EOF
printf 'gui.geometry_main_width: 1500\ngui.geometry_main_height: 1150\n' > "$home/.config/wireshark/recent_common"
plugin_home "$home"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$work"; fi

cat > "$work/shoot.sh" <<EOF
#!/bin/bash
# Runs inside Xvfb: start Wireshark, select the frame, expand its ctrace
# subtree (the second top-level item), capture the window.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -g $frame -r $work/trace.ctrace >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'trace.ctrace' 2>/dev/null | head -1) && [ -n "\$win" ] && break
    sleep 1
done
[ -n "\${win:-}" ] || { echo "screenshot: no Wireshark window" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
xdotool windowmove "\$win" 0 0 windowsize "\$win" 1500 1150
sleep 2
# the details pane's first item (Frame; where a first start puts it in a
# 1500x1150 window), then the next one (ctrace)
xdotool mousemove 200 388 click 1
sleep 1
xdotool key Down
sleep 1
xdotool key shift+Right
sleep 2
import -window root -crop 1500x1150+0+0 $work/shot.png
kill %1 2>/dev/null || true
EOF
chmod a+rx "$work/shoot.sh"
as_plugin_user "$home" xvfb-run -a -s "-screen 0 1500x1150x24" "$work/shoot.sh"
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
