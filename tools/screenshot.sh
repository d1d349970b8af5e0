#!/bin/bash
# Takes docs/img/pktmatch-profile.png: the real Wireshark GUI (Debian's
# wireshark-qt) under Xvfb, with the freshly built plugins, the `pktmatch`
# profile (plugin/epan/profile/pktmatch) and an index of the example session
# written by `pktmatch index`, showing examples/session-small/client.pcapng
# with frame 6 (a DNS response seen at all four points) selected and its
# pktmatch subtree expanded.
#
# Needs (Debian 12): apt-get install wireshark-qt xvfb xauth imagemagick xdotool
# Wireshark ignores personal plugins when run as root, so as root the GUI
# runs as nobody with a private HOME (tools/plugin-home.sh), as the tests do.
#
# Usage: tools/screenshot.sh [OUT.png] [FRAME]    (defaults docs/img/pktmatch-profile.png, 6)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img/pktmatch-profile.png}
frame=${2:-6}
for tool in wireshark xvfb-run import xdotool; do
    command -v "$tool" >/dev/null || {
        echo "screenshot: $tool missing (apt-get install wireshark-qt xvfb xauth imagemagick xdotool)" >&2
        exit 1
    }
done
work=$(mktemp -d /tmp/pktmatch-shot-XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p pktmatch-epan -p pktmatch-wiretap -p pktmatch
cp examples/session-small/{client,wan,dc,lbserver}.pcapng "$work/"
(cd "$work" && "$OLDPWD/target/release/pktmatch" index -q -o session.pktmatch \
    client.pcapng wan.pcapng dc.pcapng lbserver.pcapng)

# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
home="$work/home"
profile="$home/.config/wireshark/profiles/pktmatch"
mkdir -p "$profile"
cp plugin/epan/profile/pktmatch/preferences "$profile/"
# Window size, pane layout and column widths of a first start (no window
# manager under Xvfb places or maximises it); no bytes pane, so the details
# pane has the whole width.
cat > "$profile/recent" <<'EOF'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1800
gui.geometry_main_height: 1100
gui.geometry_main_maximized: FALSE
gui.geometry_main_upper_pane: 330
gui.byte_view_show: FALSE
column.width: "%m", "45", "%t", "85", "%s", "105", "%d", "105", "%p", "60", "%L", "50",
	"%Cus:ip.id:0:R", "115", "%Cus:tcp.seq_raw:0:R", "90", "%Cus:tcp.ack_raw:0:R", "90",
	"%Cus:pktmatch.peer_point:0:R", "135", "%Cus:pktmatch.peer_frame:0:R", "80",
	"%Cus:pktmatch.delta_corrected:0:R", "300", "%Cus:pktmatch.method:0:R", "120", "%i", "400"
EOF
# No "welcome"/update prompts: the recent_common file exists.
printf 'gui.geometry_main_width: 1800\ngui.geometry_main_height: 1100\n' > "$home/.config/wireshark/recent_common"
plugin_home "$home"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$work"; fi

cat > "$work/shoot.sh" <<EOF
#!/bin/bash
# Runs inside Xvfb: start Wireshark, wait for its main window, select the
# frame's pktmatch subtree, capture the window.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -C pktmatch -o pktmatch.index:$work/session.pktmatch -g $frame \\
    -r $work/client.pcapng >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'client.pcapng' 2>/dev/null | head -1) && [ -n "\$win" ] && break
    sleep 1
done
[ -n "\${win:-}" ] || { echo "screenshot: no Wireshark window" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
xdotool windowmove "\$win" 0 0 windowsize "\$win" 1800 1100
sleep 2
# Click into the details pane (the lower part of the window), go to its
# last top-level item (the post-dissector's), expand it and its subtrees
# (Shift+Right; Ctrl+Right would expand every protocol).
xdotool mousemove 300 1000 click 1
sleep 1
xdotool key End
sleep 1
xdotool key shift+Right
sleep 2
import -window root -crop 1800x1100+0+0 $work/shot.png
kill %1 2>/dev/null || true
EOF
chmod a+rx "$work/shoot.sh"
as_plugin_user "$home" xvfb-run -a -s "-screen 0 1800x1100x24" "$work/shoot.sh"
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
