#!/bin/bash
# Takes docs/img/ee-rtp-connections.png: the real Wireshark GUI (Debian's
# wireshark-qt) under Xvfb with the freshly built plugins, showing
# Statistics → "Enterprise Extender RTP connections" (the table that
# `tshark -z ee,rtp` prints; one stat_tap_table_ui registration gives both)
# over the synthetic EE session of crates/ee-synth.  Wireshark opens the
# dialog itself from `-z ee,rtp`, as from the menu.
#
# Needs (Debian 12): apt-get install wireshark-qt xvfb xauth imagemagick xdotool
# Wireshark ignores personal plugins when run as root, so as root the GUI
# runs as nobody with a private HOME (tools/plugin-home.sh).
#
# With --menu it takes docs/img/ee-statistics-menu.png instead: the
# Statistics menu open, listing the entry.
#
# Usage: tools/screenshot-ee-rtp.sh [--menu] [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
menu=
if [ "${1:-}" = --menu ]; then menu=1; shift; fi
if [ -n "$menu" ]; then out=${1:-docs/img/ee-statistics-menu.png}; else out=${1:-docs/img/ee-rtp-connections.png}; fi
for tool in wireshark xvfb-run import xdotool; do
    command -v "$tool" >/dev/null || {
        echo "screenshot: $tool missing (apt-get install wireshark-qt xvfb xauth imagemagick xdotool)" >&2
        exit 1
    }
done
work=$(mktemp -d /tmp/pktmatch-shot-XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p pktmatch-epan -p pktmatch-wiretap -p ee-synth
target/release/ee-synth "$work" >/dev/null

# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
home="$work/home"
mkdir -p "$home/.config/wireshark"
cat > "$home/.config/wireshark/recent" <<'RECENT'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 2560
gui.geometry_main_height: 1000
gui.geometry_main_maximized: FALSE
RECENT
printf 'gui.geometry_main_width: 2560\ngui.geometry_main_height: 1000\n' > "$home/.config/wireshark/recent_common"
plugin_home "$home"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$work"; fi

if [ -n "$menu" ]; then
cat > "$work/shoot.sh" <<SHOOT
#!/bin/bash
# Runs inside Xvfb: start Wireshark, open the Statistics menu, capture.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -r $work/synthetic-ee-session.pcapng >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'synthetic-ee-session' 2>/dev/null | head -1) && [ -n "\$win" ] && break
    sleep 1
done
[ -n "\${win:-}" ] || { echo "screenshot: no Wireshark window" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
xdotool windowmove "\$win" 0 0 windowsize "\$win" 1400 900
sleep 2
xdotool windowactivate --sync "\$win" 2>/dev/null || true
xdotool mousemove 325 10 click 1
sleep 2
import -window root -crop 1000x900+0+0 $work/shot.png
kill %1 2>/dev/null || true
SHOOT
else
cat > "$work/shoot.sh" <<SHOOT
#!/bin/bash
# Runs inside Xvfb: start Wireshark with the table open, wait for the
# dialog, widen it over the main window, capture the screen.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -z ee,rtp -r $work/synthetic-ee-session.pcapng >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'Enterprise Extender RTP connections' 2>/dev/null | head -1) && [ -n "\$win" ] && break
    sleep 1
done
[ -n "\${win:-}" ] || { echo "screenshot: no table dialog" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
main=\$(xdotool search --onlyvisible --name 'synthetic-ee-session' 2>/dev/null | grep -v "^\$win\$" | head -1)
[ -z "\$main" ] || xdotool windowmove "\$main" 0 0 windowsize "\$main" 2560 420
xdotool windowmove "\$win" 0 300 windowsize "\$win" 2560 250
sleep 3
import -window root -crop 2560x560+0+0 $work/shot.png
kill %1 2>/dev/null || true
SHOOT
fi
chmod a+rx "$work/shoot.sh"
as_plugin_user "$home" xvfb-run -a -s "-screen 0 2560x900x24" "$work/shoot.sh"
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
