#!/bin/sh
# Gathers, for every supported Wireshark (4.0 bookworm, 4.4 trixie, 4.6 sid),
# what tests/layout.rs checks our hand-written headers against, and records
# where each piece came from (or why it could not be had) in
# DEST/X.Y/PROVENANCE.  It never fails for a reason outside the project: a
# version whose pieces cannot be fetched is recorded as such, and the layout
# test then says loudly what it could NOT verify.  It fails only when the
# installed Wireshark's own development headers are missing (a setup error).
#
# Per version:
#   headers   libwireshark-dev/libwiretap-dev/libwsutil-dev.  The installed
#             version's are copied from the system (no network); the others
#             are downloaded with `apt-get download`, trying every version the
#             archive lists for the suite and its -updates/-security suites,
#             newest first.
#   library   the compiled libwiretap of the same version (installed, or the
#             libwiretapNN package): the layout test reads struct wtap member
#             offsets from its machine code, a check that needs no source.
#   wtap-int  before 4.6 struct wtap is in wiretap/wtap-int.h, which the -dev
#             packages do not install: it (and wsutil/file_util.h, which it
#             includes) is taken from Debian's source package of exactly the
#             same upstream version, if the archive still serves it.
# Nothing is installed and the system's apt state is untouched: a private
# apt configuration lists the suites; packages are unpacked with dpkg-deb -x.
#
# Usage: tests/fetch-wireshark-headers.sh [DEST]   (default target/wireshark-headers)
set -eu

dest=${1:-target/wireshark-headers}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work="$dest/.apt"

# version  suites (main archive)  suites (security archive)
versions="4.0 bookworm,bookworm-updates bookworm-security
4.4 trixie,trixie-updates trixie-security
4.6 sid -"

installed=$(pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2 || true)

say() { echo "fetch-wireshark-headers: $*" >&2; }
# prov VERSION KEY VALUE: one line of DEST/VERSION/PROVENANCE.
prov() { printf '%s=%s\n' "$2" "$3" >> "$dest/$1/PROVENANCE.new"; }
inc_of() { echo "$dest/$1/usr/include/wireshark"; }

done_before() {
    [ -f "$dest/$1/PROVENANCE" ] || return 1
    # A version with a piece recorded as unobtainable is tried again.
    ! grep -q '=NOT obtainable' "$dest/$1/PROVENANCE"
}

# ---- the installed version: headers and library from the system -------------
# Sets $upstream.
installed_version() {
    version=$1
    sysinc=$(pkg-config --variable=includedir wireshark 2>/dev/null || echo /usr/include)/wireshark
    if [ ! -f "$sysinc/epan/proto.h" ]; then
        say "Wireshark $version is installed but its headers are not ($sysinc): apt-get install libwireshark-dev libwiretap-dev libwsutil-dev"
        exit 1
    fi
    pkg=$(dpkg-query -W -f '${Version}' libwireshark-dev 2>/dev/null || echo "?")
    mkdir -p "$(inc_of "$version")"
    cp -R "$sysinc/." "$(inc_of "$version")/"
    prov "$version" headers "installed libwireshark-dev $pkg ($sysinc)"
    libdir=$(pkg-config --variable=libdir wireshark 2>/dev/null || echo /usr/lib)
    lib=$(readlink -f "$libdir/libwiretap.so" 2>/dev/null || true)
    if [ -n "$lib" ] && [ -f "$lib" ]; then
        mkdir -p "$dest/$version/lib" && cp "$lib" "$dest/$version/lib/libwiretap.so"
        prov "$version" library "installed $(basename "$lib") ($lib)"
    else
        prov "$version" library "NOT obtainable: no $libdir/libwiretap.so"
    fi
    upstream=${pkg%%-*}
}

# ---- private apt configuration over every suite we may need ------------------
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 !~ /-security/ {print $2; exit}')
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:/ && $i !~ /-security/) {print $i; exit}}')
fi
security=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -o 'https\?://[^ ]*debian-security[^ ]*' | head -1 || true)
[ -n "$security" ] || security="${mirror%/debian}/debian-security"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
APT="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null \
-o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o Dir::State::status=/dev/null \
-o APT::Sandbox::User=root -o Acquire::Retries=2"

apt_ready=
apt_setup() {
    [ -z "$apt_ready" ] || return 0
    apt_ready=1
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
    echo "$versions" | while read -r version main sec; do
        for suite in $(echo "$main" | tr , ' '); do
            echo "deb [signed-by=$keyring] $mirror $suite main"
            echo "deb-src [signed-by=$keyring] $mirror $suite main"
        done
        [ "$sec" = - ] && continue
        echo "deb [signed-by=$keyring] $security $sec main"
        echo "deb-src [signed-by=$keyring] $security $sec main"
    done > "$work/sources.list"
    # A suite that does not exist (yet) makes apt-get update warn, not fail.
    apt-get $APT -q update > "$work/update.log" 2>&1 || true
}

# The last error line of an apt log, shortened for one line of a report.
apt_reason() {
    { grep -E '^E: Failed to fetch' "$1"; grep -E '^(E|W|Err):' "$1"; } 2>/dev/null | head -1 |
        sed 's/ *\[IP:[^]]*\]//; s/  */ /g' | cut -c1-200
}

# ---- another version: from the Debian archive; sets $upstream -----------------
remote_version() {
    version=$1 suites=$2
    upstream=
    if [ -z "$mirror" ]; then
        prov "$version" headers "NOT obtainable: no Debian mirror in /etc/apt sources"
        return 0
    fi
    apt_setup
    # Every libwireshark-dev X.Y.* the suites list, newest first.
    candidates=$(apt-cache $APT madison libwireshark-dev 2>/dev/null |
        awk -F'|' -v v="$version." '{gsub(/ /, "", $2); if (index($2, v) == 1) print $2}' |
        sort -u -V -r)
    if [ -z "$candidates" ]; then
        reason=$(apt_reason "$work/update.log")
        prov "$version" headers "NOT obtainable: no libwireshark-dev $version.* listed in $suites${reason:+ ($reason)}"
        return 0
    fi
    got= tried=
    for pkgver in $candidates; do
        rm -f "$work"/debs/*.deb
        lib=$(apt-cache $APT show "libwiretap-dev=$pkgver" 2>/dev/null |
            sed -n 's/^Depends:.*\(libwiretap[0-9][0-9]*\) (= [^)]*).*/\1/p' | head -1)
        if (cd "$work/debs" && apt-get $APT -q download "libwireshark-dev=$pkgver" \
            "libwiretap-dev=$pkgver" "libwsutil-dev=$pkgver" ${lib:+"$lib=$pkgver"}) \
            > "$work/download.log" 2>&1; then
            got=$pkgver
            break
        fi
        tried="$tried $pkgver: $(apt_reason "$work/download.log");"
    done
    if [ -z "$got" ]; then
        prov "$version" headers "NOT obtainable: download failed:${tried%;}"
        return 0
    fi
    rm -rf "$work/lib"
    for deb in "$work"/debs/*.deb; do
        case "$deb" in
        */libwiretap[0-9]*_*) dpkg-deb -x "$deb" "$work/lib" ;;
        *) dpkg-deb -x "$deb" "$dest/$version" ;;
        esac
    done
    rm -f "$work"/debs/*.deb
    prov "$version" headers "downloaded libwireshark-dev $got (Debian $suites)"
    so=$(find "$work/lib" -name 'libwiretap.so.*.*' -type f 2>/dev/null | head -1)
    if [ -n "$so" ]; then
        mkdir -p "$dest/$version/lib" && cp "$so" "$dest/$version/lib/libwiretap.so"
        prov "$version" library "downloaded $lib $got ($(basename "$so"))"
    else
        prov "$version" library "NOT obtainable: no libwiretap package for $got"
    fi
    rm -rf "$work/lib"
    upstream=${got%%-*}
}

# ---- wtap-int.h from the source package of the same upstream version ---------
wtap_int() {
    version=$1 upstream=$2
    inc=$(inc_of "$version")
    if [ -f "$inc/wiretap/wtap_module.h" ]; then
        prov "$version" wtap_int "not needed: struct wtap is public (wiretap/wtap_module.h)"
        return 0
    fi
    if [ -z "$mirror" ]; then
        prov "$version" wtap_int "NOT obtainable: no Debian mirror in /etc/apt sources"
        return 0
    fi
    apt_setup
    sources=$(apt-cache $APT showsrc wireshark 2>/dev/null |
        awk -v u="$upstream-" '/^Version:/ {if (index($2, u) == 1) print $2}' | sort -u -V -r)
    if [ -z "$sources" ]; then
        prov "$version" wtap_int "NOT obtainable: no source package of wireshark $upstream listed"
        return 0
    fi
    tried=
    for srcver in $sources; do
        rm -rf "$work/src" && mkdir -p "$work/src"
        if (cd "$work/src" && apt-get $APT -q source --download-only "wireshark=$srcver") \
            > "$work/source.log" 2>&1; then
            orig=$(ls "$work"/src/wireshark_"$upstream".orig.tar.* 2>/dev/null | head -1)
            if [ -n "$orig" ] && tar -xf "$orig" -C "$work/src" --strip-components=1 --wildcards \
                '*/wiretap/wtap-int.h' '*/wsutil/file_util.h' 2>> "$work/source.log"; then
                cp "$work/src/wiretap/wtap-int.h" "$inc/wiretap/"
                cp "$work/src/wsutil/file_util.h" "$inc/wsutil/"
                prov "$version" wtap_int "from Debian source package wireshark $srcver ($(basename "$orig"))"
                rm -rf "$work/src"
                return 0
            fi
        fi
        tried="$tried $srcver: $(apt_reason "$work/source.log");"
    done
    rm -rf "$work/src"
    prov "$version" wtap_int "NOT obtainable:${tried%;}"
}

# The installed version must be complete: that is a setup error, not the archive's.
if [ -n "$installed" ] && ! echo "$versions" | grep -q "^$installed "; then
    say "installed Wireshark $installed is not a supported version; checking the others only"
fi
for version in $(echo "$versions" | cut -d' ' -f1); do
    if done_before "$version"; then
        echo "Wireshark $version: already in $dest/$version"
        continue
    fi
    line=$(echo "$versions" | grep "^$version ")
    main=$(echo "$line" | cut -d' ' -f2) sec=$(echo "$line" | cut -d' ' -f3)
    suites=$main
    [ "$sec" = - ] || suites="$main,$sec"
    rm -rf "$dest/$version" && mkdir -p "$dest/$version"
    if [ "$version" = "$installed" ]; then
        installed_version "$version"
    else
        remote_version "$version" "$suites"
    fi
    [ -z "$upstream" ] || wtap_int "$version" "$upstream"
    mv "$dest/$version/PROVENANCE.new" "$dest/$version/PROVENANCE"
    sed "s/^/Wireshark $version: /" "$dest/$version/PROVENANCE"
done
