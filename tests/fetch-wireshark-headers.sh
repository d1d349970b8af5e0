#!/bin/sh
# Fetches the real Wireshark development headers of every supported version
# from Debian (4.0 bookworm, 4.4 trixie, 4.6 sid) for tests/layout.rs.
# Before 4.6 the file-reader structure (struct wtap) is in wiretap/wtap-int.h,
# which the -dev packages do not install: for 4.0 and 4.4 that header (and
# wsutil/file_util.h, which it includes) is taken from Debian's source
# package of the same version and put beside the installed headers.
# Packages are downloaded with `apt-get download` through a private apt
# configuration (the system's own apt sources and state are not touched) and
# unpacked with `dpkg-deb -x`; nothing is installed.  The Debian mirror is
# the one this machine's apt already uses.
#
# Usage: tests/fetch-wireshark-headers.sh [DEST]   (default target/wireshark-headers)
set -eu

dest=${1:-target/wireshark-headers}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work="$dest/.apt"

# version suite
versions="4.0 bookworm
4.4 trixie
4.6 sid"

complete() {
    inc="$dest/$1/usr/include/wireshark"
    [ -f "$inc/epan/proto.h" ] && { [ -f "$inc/wiretap/wtap_module.h" ] || [ -f "$inc/wiretap/wtap-int.h" ]; }
}
echo "$versions" | while read -r version suite; do
    complete "$version" || echo "$version"
done > "$dest/.missing"
if [ ! -s "$dest/.missing" ]; then
    echo "Wireshark headers already in $dest"
    rm -f "$dest/.missing"
    exit 0
fi

# The mirror: first Debian URI of the system's apt sources (deb822 or one-line).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $2 !~ /^\[/ {print $2; exit} $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:/) {print $i; exit}}')
fi
[ -n "$mirror" ] || { echo "fetch-wireshark-headers: no Debian mirror found in /etc/apt sources" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
: > "$work/sources.list"
echo "$versions" | while read -r version suite; do
    echo "deb [signed-by=$keyring] $mirror $suite main" >> "$work/sources.list"
    echo "deb-src [signed-by=$keyring] $mirror $suite main" >> "$work/sources.list"
done
set -- -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
    -o Dir::State::status=/dev/null -o APT::Sandbox::User=root
apt-get "$@" -qq update

echo "$versions" | while read -r version suite; do
    grep -qx "$version" "$dest/.missing" || continue
    # The newest package of that upstream version in the suite.
    pkgver=$(apt-cache "$@" madison libwireshark-dev | awk -v s="$suite/" -v v="$version." \
        '$0 ~ s && index($3, v) == 1 {print $3; exit}')
    [ -n "$pkgver" ] || { echo "fetch-wireshark-headers: no libwireshark-dev $version in $suite" >&2; exit 1; }
    (cd "$work/debs" && apt-get "$@" -qq download \
        "libwireshark-dev=$pkgver" "libwiretap-dev=$pkgver" "libwsutil-dev=$pkgver")
    mkdir -p "$dest/$version"
    for deb in "$work"/debs/*_"$(echo "$pkgver" | sed 's/:/%3a/')"_*.deb; do
        dpkg-deb -x "$deb" "$dest/$version"
    done
    inc="$dest/$version/usr/include/wireshark"
    if [ ! -f "$inc/wiretap/wtap_module.h" ]; then
        mkdir -p "$work/src" && rm -rf "$work/src/$version" && mkdir -p "$work/src/$version"
        (cd "$work/src" && apt-get "$@" -qq source --download-only "wireshark=$pkgver" 2>/dev/null || true)
        orig=$(ls "$work"/src/wireshark_"${pkgver%%-*}".orig.tar.* 2>/dev/null | head -1)
        [ -n "$orig" ] || { echo "fetch-wireshark-headers: no source package wireshark=$pkgver" >&2; exit 1; }
        tar -xf "$orig" -C "$work/src/$version" --strip-components=1 --wildcards \
            '*/wiretap/wtap-int.h' '*/wsutil/file_util.h'
        cp "$work/src/$version/wiretap/wtap-int.h" "$inc/wiretap/"
        cp "$work/src/$version/wsutil/file_util.h" "$inc/wsutil/"
        rm -f "$orig"
    fi
    echo "Wireshark $version headers ($pkgver from $suite) in $dest/$version"
done
rm -f "$dest/.missing"
