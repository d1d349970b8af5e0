#!/bin/bash
# Capture small pcap fixtures of REAL traffic between real programs on this
# machine.  Nothing here is synthesised: dnsmasq, python3 http.server,
# openssl s_server, pyftpdlib answer dig, curl, ping and openssl s_client,
# and tcpdump records what the kernel puts on a veth link.
#
#   tools/capture-real-traffic.sh OUTDIR        (as root; tests/data for the fixtures)
#   tools/capture-real-traffic.sh OUTDIR vlan   (only section 7: real-vlan.pcap)
#
# Writes OUTDIR/real-{dns,http,tls,ftp,tcp-retrans,ipv6,vlan}.pcap (classic
# pcap, link type EN10MB, each < 200 KB) and OUTDIR/real-tls.keylog (the TLS
# secrets, NSS key log format, so real-tls.pcap can be decrypted).  With the
# second argument "vlan" only real-vlan.pcap is written and the other files
# in OUTDIR are left alone.
#
# Topology: three network namespaces joined by veth pairs, so every frame has
# a real Ethernet header (fixed, locally administered MACs).
#
#   rtc-cli  c0 ---- r0  rtc-rtr  r1 ---- s0  rtc-srv
#   192.0.2.10       192.0.2.1    198.51.100.1  198.51.100.10
#   2001:db8:1::10   2001:db8:1::1 2001:db8:2::1 2001:db8:2::10
#
# Only documentation prefixes (RFC 5737 / RFC 3849) are used, and only
# inside namespaces this script creates; nothing leaves the machine.
#
# Offloads (TSO/GSO/GRO, TX checksum) are switched off on every veth so the
# captured frames are <= 1514 bytes and carry correct checksums, as on a
# real wire.
#
# Packet loss: the kernel of the machine these were made on has no netem
# qdisc (CONFIG_NET_SCH_NETEM unset), so the 5 % random loss for
# real-tcp-retrans.pcap is an nftables rule in the router namespace
# (`numgen random mod 100 < 5 drop` on the server->client direction).  The
# effect on the wire is the same as netem loss on the router's egress: the
# server's TCP stack sees missing ACKs and retransmits.  That capture is
# taken on the server side (s0) so each lost segment shows up twice.
#
# VLAN tags: the same kernel has no 802.1Q support either (CONFIG_VLAN_8021Q
# and CONFIG_NET_ACT_VLAN unset, so no `ip link add ... type vlan` and no
# `tc action vlan`).  For real-vlan.pcap a second veth pair joins client and
# server directly, and a tc clsact BPF program on each end tags every frame
# it sends with VLAN 100 (bpf_skb_vlan_push, the kernel's skb_vlan_push that
# `tc action vlan push` uses) and, on ingress, accepts only VLAN-100 frames
# and strips the tag (bpf_skb_vlan_pop) -- a VLAN-100 subinterface on each
# end, in effect.  tcpdump on that veth sees the frames with their 802.1Q
# header (libpcap puts the tag back from the packet's auxdata).  The BPF
# object is compiled from C below with clang.
#
# Needs (Debian 12): tcpdump dnsmasq-base bind9-dnsutils curl openssl
#   python3 python3-pyftpdlib nftables ethtool iputils-ping iproute2 clang
#   (tshark optional: used to check the retransmission and VLAN captures).
#
# Everything is bounded by timeouts; a trap kills every server and tcpdump
# this script started and deletes the namespaces, whatever happens.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != vlan ]; }; then
    echo "usage: $0 OUTDIR [vlan]" >&2
    exit 2
fi
ONLY=${2:-}       # "vlan": run section 7 only
if [ "$(id -u)" != 0 ]; then
    echo "$0: must run as root (network namespaces, tcpdump)" >&2
    exit 2
fi
OUTDIR=$1
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

for tool in ip tc tcpdump dnsmasq dig host curl openssl nft ethtool ping timeout clang; do
    command -v "$tool" >/dev/null || { echo "$0: missing $tool" >&2; exit 1; }
done
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
"$PYTHON" -c 'import pyftpdlib' 2>/dev/null ||
    { echo "$0: $PYTHON lacks pyftpdlib (apt-get install python3-pyftpdlib)" >&2; exit 1; }

CLI=rtc-cli RTR=rtc-rtr SRV=rtc-srv
CLI4=192.0.2.10  RTR4A=192.0.2.1    RTR4B=198.51.100.1  SRV4=198.51.100.10
CLI6=2001:db8:1::10 RTR6A=2001:db8:1::1 RTR6B=2001:db8:2::1 SRV6=2001:db8:2::10
VCLI4=203.0.113.10 VSRV4=203.0.113.20 VCLI6=2001:db8:100::10 VSRV6=2001:db8:100::20   # VLAN 100

WORK=$(mktemp -d /tmp/capture-real-traffic.XXXXXX)
PIDS=()           # every background process we started (servers, tcpdump)

log() { echo "capture-real-traffic: $*" >&2; }

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        # bounded wait: KILL whatever ignored TERM for 3 s
        for _ in 1 2 3 4 5 6; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for ns in "$CLI" "$RTR" "$SRV"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------- topology
for ns in "$CLI" "$RTR" "$SRV"; do
    ip netns del "$ns" 2>/dev/null || true      # left over from a killed run
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    # No router solicitations / RA processing, no DAD (addresses usable at
    # once, link-local included): keeps IPv6 noise and delays out.
    in_ns "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_dad=0
done
ip link add c0 netns "$CLI" address 02:00:00:00:01:0a type veth \
    peer name r0 netns "$RTR" address 02:00:00:00:01:01
ip link add r1 netns "$RTR" address 02:00:00:00:02:01 type veth \
    peer name s0 netns "$SRV" address 02:00:00:00:02:0a

setup_if() {   # ns ifname v4/len v6/len
    in_ns "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1 || true
    in_ns "$1" ip addr add "$3" dev "$2"
    in_ns "$1" ip -6 addr add "$4" dev "$2" nodad
    in_ns "$1" ip link set "$2" up
}
setup_if "$CLI" c0 "$CLI4/24"  "$CLI6/64"
setup_if "$RTR" r0 "$RTR4A/24" "$RTR6A/64"
setup_if "$RTR" r1 "$RTR4B/24" "$RTR6B/64"
setup_if "$SRV" s0 "$SRV4/24"  "$SRV6/64"
in_ns "$RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_ns "$CLI" ip route add default via "$RTR4A"
in_ns "$CLI" ip -6 route add default via "$RTR6A"
in_ns "$SRV" ip route add default via "$RTR4B"
in_ns "$SRV" ip -6 route add default via "$RTR6B"

in_ns "$CLI" ping -c 2 -i 0.2 -W 3 "$SRV4" >/dev/null || { log "IPv4 path broken"; exit 1; }
in_ns "$CLI" ping -6 -c 2 -i 0.2 -W 3 "$SRV6" >/dev/null || { log "IPv6 path broken"; exit 1; }

# ---------------------------------------------------------------- content
export TZ=UTC
DOCROOT=$WORK/www FTPROOT=$WORK/ftp
mkdir -p "$DOCROOT" "$FTPROOT/pub" "$FTPROOT/incoming"
"$PYTHON" - "$DOCROOT" "$FTPROOT" <<'EOF'
import os, random, sys
www, ftp = sys.argv[1], sys.argv[2]
rng = random.Random(20240101)          # fixed seed: same bytes every run
def text(n, word):
    line = ("%s line %%05d: the quick brown fox jumps over the lazy dog\n" % word)
    out, i = [], 0
    while sum(map(len, out)) < n:
        out.append(line % i); i += 1
    return "".join(out)[:n].encode()
files = {
    os.path.join(www, "small.txt"): text(1024, "small"),
    os.path.join(www, "page.html"): b"<!DOCTYPE html>\n<html><head><title>fixture</title></head><body><pre>\n"
        + text(10 * 1024 - 100, "page") + b"</pre></body></html>\n",
    os.path.join(www, "data.bin"): bytes(rng.getrandbits(8) for _ in range(100 * 1024)),
    os.path.join(www, "loss.bin"): bytes(rng.getrandbits(8) for _ in range(120 * 1024)),
    os.path.join(ftp, "pub", "README.txt"): text(600, "readme"),
    os.path.join(ftp, "pub", "archive.bin"): bytes(rng.getrandbits(8) for _ in range(24 * 1024)),
    os.path.join(ftp, "welcome.msg"): b"welcome to the fixture ftp server\n",
}
for path, data in files.items():
    with open(path, "wb") as f:
        f.write(data)
EOF
find "$DOCROOT" "$FTPROOT" -exec touch -d '2024-01-01 12:00:00 UTC' {} +
printf 'uploaded by curl -T\n' > "$WORK/upload.txt"

# ---------------------------------------------------------------- helpers
start_bg() {   # logname ns cmd...  -> runs in background, pid recorded in LASTPID
    local name=$1 ns=$2; shift 2
    ip netns exec "$ns" "$@" >"$WORK/$name.log" 2>&1 &
    LASTPID=$!
    PIDS+=("$LASTPID")
}

wait_port() {  # ns proto port  -- until something listens (max 10 s)
    local i
    for i in $(seq 50); do
        if in_ns "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q .; then return 0; fi
        sleep 0.2
    done
    log "nothing listening on $2/$3 in $1"; return 1
}

flush_neigh() {   # forget ARP/ND so each capture starts with its own resolution
    local ns
    for ns in "$CLI" "$RTR" "$SRV"; do in_ns "$ns" ip neigh flush all 2>/dev/null || true; done
}

CAP_PID="" CAP_FILE=""
cap_start() {  # ns iface file filter
    local ns=$1 ifc=$2 file=$3 filter=$4 i
    flush_neigh
    CAP_FILE=$WORK/$file
    ip netns exec "$ns" tcpdump -i "$ifc" -s 0 -U --immediate-mode -n -Z root -w "$CAP_FILE" "$filter" \
        2>"$WORK/$file.tcpdump.log" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    for i in $(seq 50); do
        grep -q 'listening on' "$WORK/$file.tcpdump.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q 'listening on' "$WORK/$file.tcpdump.log" || { log "tcpdump did not start"; return 1; }
    sleep 0.3
}

cap_stop() {   # SIGINT, wait: tcpdump writes a complete file
    local i
    # Let teardown segments pass.  --immediate-mode hands every packet to
    # tcpdump at once; without it, packets still in the TPACKET_V3 ring block
    # (up to ~1 s) are lost at SIGINT.
    sleep 1
    kill -INT "$CAP_PID"
    for i in $(seq 50); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$CAP_PID" || true
    sed -n 's/^/  tcpdump: /p' "$WORK/$(basename "$CAP_FILE").tcpdump.log" | grep -v 'listening on' >&2 || true
    cp "$CAP_FILE" "$OUTDIR/"
    log "wrote $OUTDIR/$(basename "$CAP_FILE") ($(stat -c %s "$CAP_FILE") bytes)"
}

q() { timeout 10 "$@" >/dev/null 2>&1 || log "note: '$*' exited $?"; }
cli() { q ip netns exec "$CLI" "$@"; }
cli_fails() { ! timeout 10 ip netns exec "$CLI" "$@" >/dev/null 2>&1 || log "note: '$*' should have failed"; }

# ---------------------------------------------------------------- servers
start_bg dnsmasq "$SRV" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$SRV4" --listen-address="$SRV6" \
    --user=root --group=root --pid-file="$WORK/dnsmasq.pid" --log-facility=- --log-queries \
    --local=/example.test/ --domain=example.test \
    --host-record=www.example.test,198.51.100.80,2001:db8:2::80 \
    --host-record=mail.example.test,198.51.100.25 \
    --host-record=ftp.example.test,"$SRV4","$SRV6" \
    --cname=alias.example.test,www.example.test \
    --mx-host=example.test,mail.example.test,10 \
    --txt-record=example.test,"v=spf1 mx -all" \
    --txt-record=long.example.test,"$(printf 'chunk%02d-' $(seq 1 30))" \
    --srv-host=_ftp._tcp.example.test,ftp.example.test,21,0,5
start_bg http "$SRV" "$PYTHON" -m http.server 80 --bind :: --protocol HTTP/1.1 --directory "$DOCROOT"
start_bg ftp "$SRV" "$PYTHON" -m pyftpdlib -i "$SRV4" -p 21 -w -d "$FTPROOT" \
    -u fixture -P fixture-pass -r 40000-40009

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj /CN=server.example.test -addext subjectAltName=DNS:server.example.test \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
: >"$WORK/tls.keylog"
start_bg tls "$SRV" openssl s_server -accept "$SRV4:443" -www -cert "$WORK/cert.pem" \
    -key "$WORK/key.pem" -keylogfile "$WORK/tls.keylog"

wait_port "$SRV" udp 53
wait_port "$SRV" tcp 53
wait_port "$SRV" tcp 80
wait_port "$SRV" tcp 21
wait_port "$SRV" tcp 443

# Sections 1-6 (not indented) are skipped when only section 7 was asked for.
if [ "$ONLY" != vlan ]; then

# ---------------------------------------------------------------- 1. DNS
log "DNS"
cap_start "$CLI" c0 real-dns.pcap "arp or (ip and port 53)"
DIG="dig @$SRV4 +tries=1 +time=3"
cli $DIG www.example.test A
cli $DIG www.example.test AAAA
cli $DIG alias.example.test A
cli $DIG example.test MX
cli $DIG example.test TXT
cli $DIG long.example.test TXT +noedns
cli $DIG _ftp._tcp.example.test SRV
cli $DIG -x 198.51.100.80
cli $DIG nosuchname.example.test A
cli $DIG www.example.com A                     # no upstream: dnsmasq refuses
cli host -W 3 mail.example.test "$SRV4"        # A, AAAA and MX queries
cli $DIG +tcp www.example.test A               # DNS over TCP
cli $DIG +tcp example.test MX
cap_stop

# ---------------------------------------------------------------- 2. HTTP
log "HTTP"
URL=http://$SRV4
cap_start "$CLI" c0 real-http.pcap "arp or (ip and tcp port 80)"
CURL="curl -sS --max-time 8 -o /dev/null"
cli $CURL "$URL/"                                        # directory listing
cli $CURL "$URL/small.txt" "$URL/page.html"              # two requests, one kept-alive connection
cli $CURL --http1.0 "$URL/data.bin"                      # 100 KB, HTTP/1.0: server closes
cli $CURL -I "$URL/page.html"                            # HEAD
cli $CURL -z 'Mon, 01 Jan 2024 12:00:00 GMT' "$URL/small.txt"   # 304 Not Modified
cli $CURL "$URL/missing.txt"                             # 404
cli $CURL -d 'name=fixture&value=1' "$URL/small.txt"     # POST: 501 Unsupported method
cap_stop

# ---------------------------------------------------------------- 3. TLS
log "TLS"
cap_start "$CLI" c0 real-tls.pcap "arp or (ip and tcp port 443)"
SCLI="openssl s_client -connect $SRV4:443 -servername server.example.test -ign_eof"
req='GET / HTTP/1.0\r\nHost: server.example.test\r\n\r\n'
printf "$req" | q ip netns exec "$CLI" $SCLI -tls1_2 -sess_out "$WORK/sess12.pem"
printf "$req" | q ip netns exec "$CLI" $SCLI -tls1_2 -sess_in "$WORK/sess12.pem"   # resumption
printf "$req" | q ip netns exec "$CLI" $SCLI -tls1_3 -groups X25519
cli curl -sS --max-time 8 -o /dev/null -k --tlsv1.3 \
    --resolve "server.example.test:443:$SRV4" https://server.example.test/
cli curl -sS --max-time 8 -o /dev/null -k --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 \
    --resolve "server.example.test:443:$SRV4" https://server.example.test/
cap_stop
cp "$WORK/tls.keylog" "$OUTDIR/real-tls.keylog"

# ---------------------------------------------------------------- 4. FTP
log "FTP"
FURL=ftp://$SRV4
cap_start "$CLI" c0 real-ftp.pcap "arp or (ip and tcp and (port 21 or portrange 40000-40009))"
FCURL="curl -sS --max-time 8 -o /dev/null -u fixture:fixture-pass"
cli $FCURL --disable-epsv "$FURL/"                       # PASV + LIST
cli $FCURL --disable-epsv "$FURL/pub/README.txt"         # PASV + RETR (text)
cli $FCURL "$FURL/pub/archive.bin"                       # EPSV + RETR (binary, 24 KB)
cli $FCURL --list-only "$FURL/pub/"                      # EPSV + NLST
cli $FCURL --disable-epsv -T "$WORK/upload.txt" "$FURL/incoming/"   # STOR
cap_stop

# ---------------------------------------------------------------- 5. TCP retransmissions
# 5 % random loss on the router, server -> client only; capture at the sender.
log "TCP retransmissions"
in_ns "$RTR" nft -f - <<EOF
table ip rtc_loss {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip saddr $SRV4 tcp sport 80 numgen random mod 100 < 5 counter drop
    }
}
EOF
for attempt in 1 2 3; do
    cap_start "$SRV" s0 real-tcp-retrans.pcap "arp or (ip and tcp port 80)"
    cli curl -sS --max-time 20 -o /dev/null "$URL/loss.bin"
    cap_stop
    log "router dropped: $(in_ns "$RTR" nft list table ip rtc_loss | grep -o 'packets [0-9]*')"
    command -v tshark >/dev/null || break
    n=$(tshark -r "$OUTDIR/real-tcp-retrans.pcap" -Y tcp.analysis.retransmission 2>/dev/null | wc -l)
    log "retransmissions in capture: $n"
    [ "$n" -gt 0 ] && break
    in_ns "$RTR" nft reset counters table ip rtc_loss >/dev/null
done
in_ns "$RTR" nft delete table ip rtc_loss

# ---------------------------------------------------------------- 6. IPv6
log "IPv6"
cap_start "$CLI" c0 real-ipv6.pcap "ip6"
cli ping -6 -c 3 -i 0.2 -W 2 "$SRV6"                      # ND with the router + ICMPv6 echo
cli ping -6 -c 2 -i 0.2 -W 2 -s 1400 "$RTR6A"
cli dig @"$SRV6" +tries=1 +time=3 www.example.test AAAA  # DNS over IPv6 UDP
cli_fails dig @"$SRV6" -p 5300 +tries=1 +time=1 www.example.test AAAA   # ICMPv6 port unreachable
cli_fails ping -6 -c 1 -W 5 2001:db8:2::99   # router's ND fails: ICMPv6 address unreachable (~3 s)
cli curl -sS --max-time 8 -o /dev/null -g "http://[$SRV6]/small.txt" "http://[$SRV6]/page.html"
cli_fails curl -sS --max-time 8 -o /dev/null -6 -k --resolve "server.example.test:443:[$SRV6]" \
    https://server.example.test/ --connect-timeout 2   # nothing on [::]:443: RST
cap_stop

fi   # end of sections 1-6

# ---------------------------------------------------------------- 7. VLAN
# A second veth pair straight from client to server, used as a trunk that
# carries VLAN 100 only (see "VLAN tags" at the top):
#
#   rtc-cli  c1 ---- VLAN 100 ---- s1  rtc-srv
#   203.0.113.10                   203.0.113.20
#   2001:db8:100::10               2001:db8:100::20
#
# The capture is on c1 with no filter: every frame on the link, both ways.
log "VLAN"
cat >"$WORK/vlan.c" <<'EOF'
/* tc clsact, direct action.  Egress: tag with 802.1Q VLAN 100.
 * Ingress: pass only frames tagged VLAN 100, without their tag. */
struct __sk_buff {                     /* leading fields of the UAPI struct */
    unsigned int len, pkt_type, mark, queue_mapping, protocol;
    unsigned int vlan_present, vlan_tci, vlan_proto;
};
static long (*bpf_skb_vlan_push)(struct __sk_buff *, unsigned short, unsigned short) = (void *)18;
static long (*bpf_skb_vlan_pop)(struct __sk_buff *) = (void *)19;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ETH_P_8021Q_BE 0x0081
#else
#define ETH_P_8021Q_BE 0x8100
#endif
#define VID 100
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

__attribute__((section("tc/egress"), used))
int vlan_push(struct __sk_buff *skb)
{
    return bpf_skb_vlan_push(skb, ETH_P_8021Q_BE, VID) ? TC_ACT_SHOT : TC_ACT_OK;
}

__attribute__((section("tc/ingress"), used))
int vlan_pop(struct __sk_buff *skb)
{
    if (!skb->vlan_present || skb->vlan_proto != ETH_P_8021Q_BE || (skb->vlan_tci & 0xfff) != VID)
        return TC_ACT_SHOT;
    return bpf_skb_vlan_pop(skb) ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
clang -O2 -target bpf -c "$WORK/vlan.c" -o "$WORK/vlan.o"
ip link add c1 netns "$CLI" address 02:00:00:00:64:0a type veth \
    peer name s1 netns "$SRV" address 02:00:00:00:64:14
vlan_if() {   # ns ifname v4/len v6/len: VLAN-100 trunk end, tags on before the link is up
    in_ns "$1" tc qdisc add dev "$2" clsact
    in_ns "$1" tc filter add dev "$2" egress bpf da obj "$WORK/vlan.o" sec tc/egress
    in_ns "$1" tc filter add dev "$2" ingress bpf da obj "$WORK/vlan.o" sec tc/ingress
    setup_if "$@"
}
vlan_if "$CLI" c1 "$VCLI4/24" "$VCLI6/64"
vlan_if "$SRV" s1 "$VSRV4/24" "$VSRV6/64"
in_ns "$CLI" ping -c 1 -W 3 "$VSRV4" >/dev/null || { log "VLAN IPv4 path broken"; exit 1; }
in_ns "$CLI" ping -6 -c 1 -W 3 "$VSRV6" >/dev/null || { log "VLAN IPv6 path broken"; exit 1; }

cap_start "$CLI" c1 real-vlan.pcap ""
cli ping -c 3 -i 0.2 -W 2 "$VSRV4"                       # ARP + ICMP echo
cli ping -6 -c 3 -i 0.2 -W 2 "$VSRV6"                    # ND + ICMPv6 echo
cli curl -sS --max-time 8 -o /dev/null "http://$VSRV4/page.html"       # 10 KB: 1518-byte tagged frames
cli curl -sS --max-time 8 -o /dev/null -g "http://[$VSRV6]/small.txt"  # HTTP over IPv6
cap_stop
if command -v tshark >/dev/null; then
    log "frames with VLAN 100: $(tshark -r "$OUTDIR/real-vlan.pcap" -Y 'vlan.id == 100' 2>/dev/null | wc -l)" \
        "of $(tshark -r "$OUTDIR/real-vlan.pcap" 2>/dev/null | wc -l)"
fi

log "done: $(cd "$OUTDIR" && ls -l real-*.pcap real-tls.keylog 2>/dev/null | awk '{print $5, $9}' | tr '\n' ' ')"
