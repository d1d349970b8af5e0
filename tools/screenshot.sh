#!/bin/bash
# Takes docs/img/pktmatch-profile.png: the real Wireshark GUI (Debian's
# wireshark-qt) under Xvfb, with the freshly built plugins, the `pktmatch`
# profile (plugin/epan/profile/pktmatch) and an index of the example session
# written by `pktmatch index`, showing the session merged by `pktmatch
# merge` with frame 20 (the wan copy of the first HTTP connection's SYN,
# between its client and dc copies) selected and its pktmatch subtree
# expanded.
#
# With --default: docs/img/pktmatch-profile-default.png, the same capture in
# a window of Wireshark's default size (no saved geometry or column widths:
# 750 x 550 pixels), to show the profile's columns fit there.
#
# Needs (Debian 12): apt-get install wireshark-qt xvfb xauth imagemagick xdotool
# Wireshark ignores personal plugins when run as root, so as root the GUI
# runs as nobody with a private HOME (tools/plugin-home.sh), as the tests do.
#
# With --hops: docs/img/pktmatch-hops.png, the statistics table
# (Statistics > pktmatch: Hops between capture points, opened with -z
# pktmatch,hops) over the session merged by `pktmatch merge`, and
# docs/img/pktmatch-hops-menu.png, the Statistics menu that holds it.
#
# Usage: tools/screenshot.sh [OUT.png] [FRAME]    (defaults docs/img/pktmatch-profile.png, 6)
#        tools/screenshot.sh --hops [OUT.png]     (default docs/img/pktmatch-hops.png)
#        tools/screenshot.sh --default [OUT.png]  (default docs/img/pktmatch-profile-default.png)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=profile
case "${1:-}" in
    --hops) mode=hops; shift ;;
    --default) mode=default; shift ;;
esac
case $mode in
    hops) out=${1:-docs/img/pktmatch-hops.png} ;;
    default) out=${1:-docs/img/pktmatch-profile-default.png} ;;
    *) out=${1:-docs/img/pktmatch-profile.png} ;;
esac
frame=${2:-20}
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
    client.pcapng wan.pcapng dc.pcapng lbserver.pcapng &&
    "$OLDPWD/target/release/pktmatch" merge session.pktmatch merged.pcapng 2>/dev/null)

# shellcheck source=tools/plugin-home.sh
. tools/plugin-home.sh
home="$work/home"
profile="$home/.config/wireshark/profiles/pktmatch"
mkdir -p "$profile"
cp plugin/epan/profile/pktmatch/preferences "$profile/"
# Window size and pane layout of a first start (no window manager under
# Xvfb places or maximises it); no bytes pane, so the details pane has the
# whole width.
cat > "$profile/recent" <<'EOF'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1800
gui.geometry_main_height: 1100
gui.geometry_main_maximized: FALSE
gui.geometry_main_upper_pane: 330
gui.byte_view_show: FALSE
EOF
# The profile's own column widths (what make install installs).
sed -n '/^column.width:/,$p' plugin/epan/profile/pktmatch/recent >> "$profile/recent"
if [ $mode = default ]; then
    cp plugin/epan/profile/pktmatch/recent "$profile/recent"
fi
# No "welcome"/update prompts: the recent_common file exists.
if [ $mode = default ]; then
    : > "$home/.config/wireshark/recent_common"
else
    printf 'gui.geometry_main_width: 1800\ngui.geometry_main_height: 1100\n' > "$home/.config/wireshark/recent_common"
fi
plugin_home "$home"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$work"; fi

if [ $mode = hops ]; then
cat > "$work/shoot.sh" <<EOF
#!/bin/bash
# Runs inside Xvfb: open the merged capture with the hops table, capture
# the table's window, then the Statistics menu of the main window.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -C pktmatch -o pktmatch.index:$work/session.pktmatch -z pktmatch,hops \\
    -r $work/merged.pcapng >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    table=\$(xdotool search --onlyvisible --name 'Hops between capture points' 2>/dev/null | head -1) && [ -n "\$table" ] && break
    sleep 1
done
[ -n "\${table:-}" ] || { echo "screenshot: no table window" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
xdotool windowmove "\$table" 0 0 windowsize "\$table" 1120 300
sleep 3
import -window "\$table" $work/shot.png
main=\$(xdotool search --onlyvisible --name 'merged.pcapng' 2>/dev/null | grep -vx "\$table" | head -1)
xdotool windowclose "\$table" 2>/dev/null || xdotool key --window "\$table" Escape
sleep 2
xdotool windowactivate --sync "\$main" 2>/dev/null || xdotool windowfocus "\$main"
xdotool windowmove "\$main" 0 0 windowsize "\$main" 1800 1100
sleep 2
xdotool key alt+s
sleep 2
import -window root -crop 900x760+0+0 $work/menu.png
kill %1 2>/dev/null || true
EOF
else
cat > "$work/shoot.sh" <<EOF
#!/bin/bash
# Runs inside Xvfb: start Wireshark, wait for its main window, select the
# frame's pktmatch subtree, capture the window.
export HOME=$home XDG_CONFIG_HOME=$home/.config
wireshark -C pktmatch -o pktmatch.index:$work/session.pktmatch -g $frame \\
    -r $work/merged.pcapng >$work/wireshark.log 2>&1 &
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'merged.pcapng' 2>/dev/null | head -1) && [ -n "\$win" ] && break
    sleep 1
done
[ -n "\${win:-}" ] || { echo "screenshot: no Wireshark window" >&2; cat $work/wireshark.log >&2; exit 1; }
sleep 4
if [ $mode = default ]; then
    xdotool windowmove "\$win" 0 0
    sleep 2
    import -window "\$win" $work/shot.png
    kill %1 2>/dev/null || true
    exit 0
fi
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
fi
chmod a+rx "$work/shoot.sh"
as_plugin_user "$home" xvfb-run -a -s "-screen 0 1800x1100x24" "$work/shoot.sh"
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
if [ $mode = hops ]; then
    cp "$work/menu.png" "${out%.png}-menu.png"
    echo "screenshot: ${out%.png}-menu.png"
fi
