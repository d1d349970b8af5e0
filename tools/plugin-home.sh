# Sourced by tools/ and bench/ scripts: run Wireshark's tools with the
# freshly built plugins (target/release) from a private HOME, as the tests
# do (tests/common/mod.rs).  tshark ignores personal plugins when run as
# root, so as root the tools run as nobody.
#
#   plugin_home DIR          installs the plugins under DIR/.local/...
#   as_plugin_user DIR CMD…  runs CMD with HOME=DIR (as nobody when root)

plugin_home() {
    local home=$1 abi plugins
    abi=$(tshark --version 2>/dev/null | awk 'NR == 1 { split($3, v, "."); print v[1] "." v[2] }')
    plugins="$home/.local/lib/wireshark/plugins/$abi"
    mkdir -p "$plugins/epan" "$plugins/wiretap"
    cp target/release/libpktmatch_epan.so "$plugins/epan/pktmatch.so"
    cp target/release/libpktmatch_wiretap.so "$plugins/wiretap/ctrace.so"
    chmod -R a+rwX "$home"
    if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$home"; fi
}

as_plugin_user() {
    local home=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$home" "$@"
    else
        HOME="$home" "$@"
    fi
}
