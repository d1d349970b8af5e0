#!/bin/bash
# Multi-point capture lab: the same traffic captured at four points of one
# path (client LAN, WAN behind source NAT/PAT, data-centre inside behind a
# destination-NAT firewall, server side of a full-proxy load balancer), with
# ground truth taken from the real components (client log, conntrack events of
# both NAT boxes, haproxy and nginx logs).  See docs/lab.md.
#
#   tests/lab/run.sh OUTDIR [--clients N] [--requests M] [--synproxy] [--loss PCT]
#                           [--udp-only] [--ipv6] [--max-size SIZE] [--seed S]
#                           [--no-skew] [--clock-step [--step-ns NS]] [--pause-ms MS]
#                           [--ping N] [--timeout SECS] [--capclock PATH]
#
# Needs root, Debian 12 packages: iproute2 nftables conntrack tcpdump ethtool
# haproxy nginx-light dnsmasq-base openssl python3 wireshark-common (editcap),
# and cargo (builds crates/capclock unless --capclock is given).
#
# Topology (documentation prefixes only, inside namespaces this script makes;
# nothing leaves the machine):
#
#  mpl-client          mpl-wanfw                mpl-dcfw                 mpl-lb                  mpl-srv
#  lan0 --[client]-- lan1  SNAT  wan0 --[wan]-- wan1  DNAT  dci0 --[dc]-- dci1  haproxy  lbs0 --[lbserver]-- lbs1
#  192.0.2.10+i   192.0.2.1  198.51.100.1   198.51.100.2  192.0.2.65    192.0.2.70      192.0.2.129    192.0.2.140
#
# Capture points ([name] above): client on lan0 (mpl-client), wan on wan0
# (mpl-wanfw), dc on dci1 (mpl-lb), lbserver on lbs0 (mpl-lb).  Offloads are
# off on every veth except the dci0/dci1 pair, which keeps the kernel's
# defaults (TSO/GSO on): the dc capture shows the load balancer's GSO
# super-packets, which dcfw segments before the WAN.
#
# Everything is bounded by timeouts and a watchdog; a trap stops every process
# this script started (by pid) and deletes the namespaces, whatever happens.
set -euo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)

usage() {
    sed -n '8,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

CLIENTS=2 REQUESTS=12 SYNPROXY=0 LOSS=0 UDP_ONLY=0 IPV6=0 MAX_SIZE=1m SEED=1
SKEW=1 TIMEOUT=600 CAPCLOCK="" CLOCK_STEP=0 STEP_NS=-1500000000 PAUSE_MS="" PING=0
[ $# -ge 1 ] || usage
OUTDIR=$1; shift
case "$OUTDIR" in -*) usage ;; esac
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS=$2; shift 2 ;;
        --requests) REQUESTS=$2; shift 2 ;;
        --synproxy) SYNPROXY=1; shift ;;
        --loss) LOSS=$2; shift 2 ;;
        --udp-only) UDP_ONLY=1; shift ;;
        --ipv6) IPV6=1; shift ;;
        --max-size) MAX_SIZE=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --no-skew) SKEW=0; shift ;;
        --clock-step) CLOCK_STEP=1; shift ;;
        --step-ns) STEP_NS=$2; shift 2 ;;
        --pause-ms) PAUSE_MS=$2; shift 2 ;;
        --ping) PING=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --capclock) CAPCLOCK=$2; shift 2 ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
# A step needs time on either side to measure the drift: --clock-step
# paces the workload (250 ms between requests, about 3.5 s) unless told.
[ -n "$PAUSE_MS" ] || { [ "$CLOCK_STEP" = 1 ] && PAUSE_MS=250 || PAUSE_MS=0; }
for v in CLIENTS REQUESTS LOSS SEED TIMEOUT PAUSE_MS PING; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${v,,} needs a whole number" >&2; exit 2; }
done
[ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 50 ] || { echo "run.sh: --clients 1..50" >&2; exit 2; }
[ "$LOSS" -le 50 ] || { echo "run.sh: --loss 0..50" >&2; exit 2; }
[[ $STEP_NS =~ ^-?[0-9]+$ ]] && [ "$STEP_NS" != 0 ] || { echo "run.sh: --step-ns needs a non-zero whole number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (namespaces, nftables, tcpdump)" >&2; exit 2; }

for tool in ip nft conntrack tcpdump ethtool haproxy nginx dnsmasq openssl editcap stdbuf timeout flock; do
    command -v "$tool" >/dev/null || { echo "run.sh: missing $tool (see docs/lab.md, Packages)" >&2; exit 1; }
done
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
T_START=$(date +%s)

# One lab at a time on this machine (namespace names are fixed).
exec 9>/run/lock/mpl-lab.lock
flock -w 30 9 || { echo "run.sh: another lab run holds /run/lock/mpl-lab.lock" >&2; exit 1; }

NS_CLI=mpl-client NS_WAN=mpl-wanfw NS_DC=mpl-dcfw NS_LB=mpl-lb NS_SRV=mpl-srv
ALL_NS="$NS_CLI $NS_WAN $NS_DC $NS_LB $NS_SRV"

# ------------------------------------------------------------------ addresses
LAN4_GW=192.0.2.1      LAN6_GW=2001:db8:1::1
WAN4_A=198.51.100.1    WAN6_A=2001:db8:100::1     # wanfw outside = SNAT address
WAN4_B=198.51.100.2    WAN6_B=2001:db8:100::2     # dcfw outside
VIP4=203.0.113.80      VIP6=2001:db8:ffff::80     # public web VIP (DNAT on dcfw)
DNSVIP4=203.0.113.53   DNSVIP6=2001:db8:ffff::53  # public DNS VIP (DNAT on dcfw)
DC4_FW=192.0.2.65      DC6_FW=2001:db8:2::1
DC4_LB=192.0.2.70      DC6_LB=2001:db8:2::70      # load balancer inside (front) address
BK4_LB=192.0.2.129     BK6_LB=2001:db8:3::1       # load balancer server-side address
BK4_SRV=192.0.2.140    BK6_SRV=2001:db8:3::140    # nginx + dnsmasq
LB_HTTP_PORT=8080 LB_HTTPS_PORT=8443               # DNAT also translates ports (80->8080, 443->8443)
NAME=shop.example.test

client_addr4() { echo "192.0.2.$((10 + $1))"; }
client_addr6() { printf '2001:db8:1::%x\n' $((0x10 + $1)); }

if [ "$IPV6" = 1 ]; then FAM=6 VIP=$VIP6 DNSVIP=$DNSVIP6 SRV_IP=$BK6_SRV; else FAM=4 VIP=$VIP4 DNSVIP=$DNSVIP4 SRV_IP=$BK4_SRV; fi

# ------------------------------------------------------------------ output layout
RAW=$OUTDIR/raw LOGS=$OUTDIR/logs POINTS=$OUTDIR/points TRUTH=$OUTDIR/truth
rm -rf "$RAW" "$LOGS" "$POINTS" "$TRUTH" "$OUTDIR/run.json"
mkdir -p "$RAW" "$LOGS" "$POINTS" "$TRUTH"
WORK=$(mktemp -d /tmp/mpl-lab.XXXXXX)
RUNLOG=$LOGS/run.log
log() { echo "lab: $*" | tee -a "$RUNLOG" >&2; }

PIDS=()
WATCHDOG=""
exec 8>&2     # the caller's stderr, for messages from the exit trap (which may run inside a redirection)
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # Anything still inside our namespaces (a child that escaped its parent).
    for ns in $ALL_NS; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
    if [ "$rc" != 0 ]; then
        echo "lab: FAILED (exit $rc) after $(( $(date +%s) - T_START )) s; logs in $LOGS" | tee -a "$RUNLOG" >&8
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Watchdog: the whole run, including truth building, within --timeout seconds.
# (Its output goes to the run log only: an inherited stdout would keep a pipe
# reading this script open after it exits.)
(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$TIMEOUT" & sp=$!
    wait "$sp"
    echo "lab: watchdog: $TIMEOUT s elapsed, aborting" >>"$RUNLOG"
    kill -TERM $$
) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

start_bg() {   # name ns cmd... -> LASTPID; stdout/stderr to $LOGS/name.out
    local name=$1 ns=$2; shift 2
    ip netns exec "$ns" "$@" >"$LOGS/$name.out" 2>&1 &
    LASTPID=$!
    PIDS+=("$LASTPID")
}

wait_port() {  # ns tcp|udp port
    local i
    for i in $(seq 50); do
        if in_ns "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q .; then return 0; fi
        sleep 0.2
    done
    log "nothing listening on $2/$3 in $1"; return 1
}

# ------------------------------------------------------------------ capclock
if [ -z "$CAPCLOCK" ]; then
    CAPCLOCK=$REPO/target/release/capclock
    if [ "$SKEW" = 1 ] || [ "$CLOCK_STEP" = 1 ]; then
        log "building capclock (cargo build --release -p capclock)"
        (cd "$REPO" && timeout 600 cargo build --release -q -p capclock) >>"$RUNLOG" 2>&1 ||
            { log "cannot build capclock; use --capclock PATH or --no-skew"; exit 1; }
    fi
fi
{ [ "$SKEW" = 0 ] && [ "$CLOCK_STEP" = 0 ]; } || [ -x "$CAPCLOCK" ] || { log "no capclock at $CAPCLOCK"; exit 1; }

# ------------------------------------------------------------------ topology
log "topology (IPv$FAM workload, clients=$CLIENTS requests=$REQUESTS synproxy=$SYNPROXY loss=$LOSS% udp-only=$UDP_ONLY)"
for ns in $ALL_NS; do
    if ip netns list | grep -qw "$ns"; then
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns"
    fi
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0
done

veth() {  # nsA ifA macA nsB ifB macB
    ip link add "$2" netns "$1" address "$3" type veth peer name "$5" netns "$4" address "$6"
}
veth "$NS_CLI" lan0 02:00:00:00:01:0a "$NS_WAN" lan1 02:00:00:00:01:01
veth "$NS_WAN" wan0 02:00:00:00:02:01 "$NS_DC" wan1 02:00:00:00:02:02
veth "$NS_DC" dci0 02:00:00:00:03:01 "$NS_LB" dci1 02:00:00:00:03:46
veth "$NS_LB" lbs0 02:00:00:00:04:01 "$NS_SRV" lbs1 02:00:00:00:04:8c

ifup() {  # ns if offload(on|off) addr4/len addr6/len
    if [ "$3" = off ]; then
        in_ns "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1 || true
    fi
    in_ns "$1" ip addr add "$4" dev "$2"
    in_ns "$1" ip -6 addr add "$5" dev "$2" nodad
    in_ns "$1" ip link set "$2" up
}
ifup "$NS_CLI" lan0 off "$(client_addr4 0)/26" "$(client_addr6 0)/64"
for ((i = 1; i < CLIENTS; i++)); do
    in_ns "$NS_CLI" ip addr add "$(client_addr4 "$i")/26" dev lan0
    in_ns "$NS_CLI" ip -6 addr add "$(client_addr6 "$i")/64" dev lan0 nodad
done
ifup "$NS_WAN" lan1 off "$LAN4_GW/26" "$LAN6_GW/64"
ifup "$NS_WAN" wan0 off "$WAN4_A/24" "$WAN6_A/64"
ifup "$NS_DC" wan1 off "$WAN4_B/24" "$WAN6_B/64"
ifup "$NS_DC" dci0 on "$DC4_FW/26" "$DC6_FW/64"          # kernel defaults: TSO/GSO on
ifup "$NS_LB" dci1 on "$DC4_LB/26" "$DC6_LB/64"          # kernel defaults: TSO/GSO on
ifup "$NS_LB" lbs0 off "$BK4_LB/26" "$BK6_LB/64"
ifup "$NS_SRV" lbs1 off "$BK4_SRV/26" "$BK6_SRV/64"

for ns in "$NS_WAN" "$NS_DC" "$NS_LB"; do
    in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done
in_ns "$NS_CLI" ip route add default via "$LAN4_GW"
in_ns "$NS_CLI" ip -6 route add default via "$LAN6_GW"
in_ns "$NS_WAN" ip route add default via "$WAN4_B"
in_ns "$NS_WAN" ip -6 route add default via "$WAN6_B"
in_ns "$NS_DC" ip route add 192.0.2.128/26 via "$DC4_LB"          # DNS to srv is routed by lb
in_ns "$NS_DC" ip -6 route add 2001:db8:3::/64 via "$DC6_LB"
in_ns "$NS_LB" ip route add default via "$DC4_FW"
in_ns "$NS_LB" ip -6 route add default via "$DC6_FW"
in_ns "$NS_SRV" ip route add default via "$BK4_LB"
in_ns "$NS_SRV" ip -6 route add default via "$BK6_LB"
if [ "$SYNPROXY" = 1 ]; then
    # The SYN is not tracked (so not DNATed) and must be routed to reach the
    # forward chain where SYNPROXY answers it.
    in_ns "$NS_DC" ip route add "$VIP4/32" via "$DC4_LB"
    in_ns "$NS_DC" ip -6 route add "$VIP6/128" via "$DC6_LB"
    in_ns "$NS_DC" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 net.ipv4.tcp_timestamps=1
fi

for ns in $ALL_NS; do
    for ifc in $(in_ns "$ns" ls /sys/class/net | grep -v '^lo$'); do
        echo "== $ns $ifc"; in_ns "$ns" ethtool -k "$ifc" | grep -E 'segmentation-offload|generic-receive|tx-checksumming:'
    done
done >"$LOGS/offloads.txt" 2>&1

# ------------------------------------------------------------------ nftables
in_ns "$NS_WAN" nft -f - <<EOF
# wanfw: source NAT with port translation (every connection gets a random source port)
table ip mpl_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" counter masquerade fully-random
    }
}
table ip6 mpl_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" counter masquerade fully-random
    }
}
EOF

dnat_rules() {   # family 4|6
    if [ "$1" = 4 ]; then
        cat <<EOF
        ip daddr $VIP4 tcp dport 80 counter dnat to $DC4_LB:$LB_HTTP_PORT
        ip daddr $VIP4 tcp dport 443 counter dnat to $DC4_LB:$LB_HTTPS_PORT
        ip daddr $DNSVIP4 udp dport 53 counter dnat to $BK4_SRV:53
EOF
    else
        cat <<EOF
        ip6 daddr $VIP6 tcp dport 80 counter dnat to [$DC6_LB]:$LB_HTTP_PORT
        ip6 daddr $VIP6 tcp dport 443 counter dnat to [$DC6_LB]:$LB_HTTPS_PORT
        ip6 daddr $DNSVIP6 udp dport 53 counter dnat to [$BK6_SRV]:53
EOF
    fi
}
for f in 4 6; do
    t=ip; [ $f = 6 ] && t=ip6
    in_ns "$NS_DC" nft -f - <<EOF
# dcfw: destination NAT of the public VIPs to the load balancer (ports too) and to the DNS server
table $t mpl_nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
$(dnat_rules $f)
    }
    # SYNPROXY's own SYN to the server is generated locally: DNAT it here.
    chain output {
        type nat hook output priority -100; policy accept;
$(dnat_rules $f)
    }
}
EOF
done
if [ "$SYNPROXY" = 1 ]; then
    in_ns "$NS_DC" nft -f - <<EOF
table inet mpl_synproxy {
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        iifname "wan1" ip daddr $VIP4 tcp dport { 80, 443 } tcp flags syn / fin,syn,rst,ack counter notrack
        iifname "wan1" ip6 daddr $VIP6 tcp dport { 80, 443 } tcp flags syn / fin,syn,rst,ack counter notrack
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        iifname "wan1" ip daddr $VIP4 tcp dport { 80, 443 } ct state invalid,untracked counter synproxy mss 1460 wscale 7 timestamp sack-perm
        iifname "wan1" ip6 daddr $VIP6 tcp dport { 80, 443 } ct state invalid,untracked counter synproxy mss 1440 wscale 7 timestamp sack-perm
        ct state invalid counter drop
    }
}
EOF
fi
if [ "$LOSS" -gt 0 ]; then
    # Random loss on the WAN link, both directions, after the wan capture
    # point for client->server packets and before it for server->client.
    in_ns "$NS_DC" nft -f - <<EOF
table inet mpl_loss {
    chain forward {
        type filter hook forward priority -10; policy accept;
        iifname "wan1" numgen random mod 100 < $LOSS counter drop
        oifname "wan1" numgen random mod 100 < $LOSS counter drop
    }
}
EOF
fi

# ------------------------------------------------------------------ content, certificate, configs
DOCROOT=$WORK/www
mkdir -p "$DOCROOT/f"
"$PYTHON" "$LAB/client.py" --make-files "$DOCROOT/f" --max-size "$MAX_SIZE" >"$WORK/sizes.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=$NAME" -addext "subjectAltName=DNS:$NAME" \
    -keyout "$WORK/lb.key" -out "$WORK/lb.crt" >/dev/null 2>&1
cat "$WORK/lb.crt" "$WORK/lb.key" >"$WORK/lb.pem"

if [ "$IPV6" = 1 ]; then BACKEND="[$BK6_SRV]:80"; else BACKEND="$BK4_SRV:80"; fi
cat >"$WORK/haproxy.cfg" <<EOF
global
    log stdout format raw local0 info
    maxconn 2000
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    log global
    option forwardfor
    option http-keep-alive
    # Each client connection gets its own server connections (no sharing
    # across clients): front and back connections pair one to one.
    http-reuse never
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
    unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
    unique-id-header X-Unique-ID
    log-format "uid=%ID fe=%f be=%b srv=%s ci=%ci cp=%cp fi=%fi fp=%fp bi=%bi bp=%bp si=%si sp=%sp accept=%Ts.%ms logged_us=%[date(0,us)] Th=%Th Ti=%Ti TR=%TR Tw=%Tw Tc=%Tc Tr=%Tr Ta=%Ta Tt=%Tt st=%ST bytes=%B req_bytes=%U rid=%[capture.req.hdr(0)] ssl=%[ssl_fc] sslv=%sslv rt=%rt tsc=%tsc req=%{+Q}r"
frontend fe_http
    bind $DC4_LB:$LB_HTTP_PORT
    bind [$DC6_LB]:$LB_HTTP_PORT
    http-request capture req.hdr(X-Request-ID) len 64
    default_backend be_web
frontend fe_https
    bind $DC4_LB:$LB_HTTPS_PORT ssl crt $WORK/lb.pem
    bind [$DC6_LB]:$LB_HTTPS_PORT ssl crt $WORK/lb.pem
    http-request capture req.hdr(X-Request-ID) len 64
    default_backend be_web
backend be_web
    server web1 $BACKEND
EOF
haproxy -c -f "$WORK/haproxy.cfg" >>"$RUNLOG" 2>&1 || { log "haproxy config invalid (see $RUNLOG)"; exit 1; }

mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
user root;
pid $WORK/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format lab 'msec=\$msec ra=\$remote_addr rp=\$remote_port sa=\$server_addr sp=\$server_port conn=\$connection creq=\$connection_requests xff="\$http_x_forwarded_for" rid="\$http_x_request_id" uid="\$http_x_unique_id" st=\$status bytes=\$bytes_sent body=\$body_bytes_sent rt=\$request_time req="\$request"';
    access_log $LOGS/nginx-access.log lab;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    types { application/octet-stream bin; }
    default_type application/octet-stream;
    sendfile off;
    keepalive_timeout 60s;
    server {
        listen $BK4_SRV:80;
        listen [$BK6_SRV]:80;
        root $DOCROOT;
        location / { }
    }
}
EOF

# ------------------------------------------------------------------ servers
start_bg dnsmasq "$NS_SRV" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$BK4_SRV" --listen-address="$BK6_SRV" \
    --user=root --group=root --pid-file="$WORK/dnsmasq.pid" --log-queries=extra \
    --log-facility="$LOGS/dnsmasq.log" --cache-size=0 \
    --local=/example.test/ --domain=example.test \
    --host-record="$NAME,$VIP4,$VIP6" \
    --cname=api.example.test,"$NAME" \
    --txt-record=txt.example.test,"multi-point capture lab" \
    --mx-host=example.test,"$NAME",10
start_bg nginx "$NS_SRV" nginx -c "$WORK/nginx.conf" -p "$WORK/nginx"
start_bg haproxy "$NS_LB" haproxy -db -f "$WORK/haproxy.cfg"
HAPROXY_PID=$LASTPID
wait_port "$NS_SRV" udp 53
wait_port "$NS_SRV" tcp 80
wait_port "$NS_LB" tcp $LB_HTTP_PORT
wait_port "$NS_LB" tcp $LB_HTTPS_PORT

# Path check (not captured): ICMP through both routers, before the NAT tables matter.
in_ns "$NS_CLI" ping -c 1 -W 3 "$WAN4_B" >/dev/null || { log "IPv4 path broken"; exit 1; }
in_ns "$NS_CLI" ping -6 -c 1 -W 3 "$WAN6_B" >/dev/null || { log "IPv6 path broken"; exit 1; }

# ------------------------------------------------------------------ conntrack event logs
CT_FAM=ipv4; [ "$IPV6" = 1 ] && CT_FAM=ipv6
start_bg conntrack-wanfw "$NS_WAN" stdbuf -oL conntrack -E -f "$CT_FAM" -o timestamp,extended,id
CT_WAN_PID=$LASTPID
start_bg conntrack-dcfw "$NS_DC" stdbuf -oL conntrack -E -f "$CT_FAM" -o timestamp,extended,id
CT_DC_PID=$LASTPID
# Flush whatever the path check left, so the event logs start clean.
in_ns "$NS_WAN" conntrack -F >/dev/null 2>&1 || true
in_ns "$NS_DC" conntrack -F >/dev/null 2>&1 || true
for ns in $ALL_NS; do in_ns "$ns" ip neigh flush all 2>/dev/null || true; done

# ------------------------------------------------------------------ captures
POINT_NAMES=(client wan dc lbserver)
declare -A POINT_NS=([client]=$NS_CLI [wan]=$NS_WAN [dc]=$NS_LB [lbserver]=$NS_LB)
declare -A POINT_IF=([client]=lan0 [wan]=wan0 [dc]=dci1 [lbserver]=lbs0)
declare -A CAP_PID=()
for p in "${POINT_NAMES[@]}"; do
    start_bg "tcpdump-$p" "${POINT_NS[$p]}" tcpdump -i "${POINT_IF[$p]}" -s 0 -B 32768 -U --immediate-mode \
        -n -Z root --time-stamp-precision=nano -w "$RAW/$p.pcap"
    CAP_PID[$p]=$LASTPID
done
for p in "${POINT_NAMES[@]}"; do
    for _ in $(seq 50); do grep -q 'listening on' "$LOGS/tcpdump-$p.out" 2>/dev/null && break; sleep 0.1; done
    grep -q 'listening on' "$LOGS/tcpdump-$p.out" || { log "tcpdump at $p did not start"; exit 1; }
done
sleep 0.5

# ------------------------------------------------------------------ workload
CLIENT_ADDRS=""
for ((i = 0; i < CLIENTS; i++)); do
    a=$(client_addr$FAM "$i"); CLIENT_ADDRS+="${CLIENT_ADDRS:+,}$a"
done
CLIENT_ARGS=(--log "$LOGS/client.jsonl" --addrs "$CLIENT_ADDRS" --requests "$REQUESTS"
    --name "$NAME" --dns "$DNSVIP" --cafile "$WORK/lb.crt" --seed "$SEED" --max-size "$MAX_SIZE")
[ "$UDP_ONLY" = 1 ] && CLIENT_ARGS+=(--udp-only)
[ "$PAUSE_MS" = 0 ] || CLIENT_ARGS+=(--pause-ms "$PAUSE_MS")
CLIENT_TIMEOUT=$(( TIMEOUT / 2 ))
log "workload: $CLIENTS client(s) x $REQUESTS request(s), timeout ${CLIENT_TIMEOUT}s"
T_WL=$(date +%s%N)
# In the background + wait, so that a signal (watchdog, ^C) is acted on at once.
ip netns exec "$NS_CLI" timeout -k 5 "$CLIENT_TIMEOUT" "$PYTHON" "$LAB/client.py" "${CLIENT_ARGS[@]}" \
    >"$LOGS/client.out" 2>&1 &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
set +e
wait "$CLIENT_PID"
CLIENT_RC=$?
set -e
T_WL_END=$(date +%s%N)
log "workload done in $(( (T_WL_END - T_WL) / 1000000 )) ms (client exit $CLIENT_RC)"
tail -n 3 "$LOGS/client.out" | sed 's/^/  client: /' >&2 || true

# --ping N: ICMP echo through the source NAT (wanfw masquerades the echo id
# too) to dcfw's outside address, seen at client and wan: a real UDP (the
# DNS above) and ICMP NAT pair.
if [ "$PING" -gt 0 ]; then
    if [ "$IPV6" = 1 ]; then PING_DST=$WAN6_B; else PING_DST=$WAN4_B; fi
    in_ns "$NS_CLI" ping -$FAM -c "$PING" -i 0.2 -W 1 -q "$PING_DST" >>"$RUNLOG" 2>&1 ||
        log "ping: not every echo was answered"
fi

# Let the last FINs and the load balancer's server-side closes pass.
sleep 1.5
for p in "${POINT_NAMES[@]}"; do kill -INT "${CAP_PID[$p]}" 2>/dev/null || true; done
for p in "${POINT_NAMES[@]}"; do
    for _ in $(seq 50); do kill -0 "${CAP_PID[$p]}" 2>/dev/null || break; sleep 0.1; done
    wait "${CAP_PID[$p]}" 2>/dev/null || true
done
for pid in "$CT_WAN_PID" "$CT_DC_PID"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
mv "$LOGS/conntrack-wanfw.out" "$LOGS/conntrack-wanfw.log"
mv "$LOGS/conntrack-dcfw.out" "$LOGS/conntrack-dcfw.log"
kill -TERM "$HAPROXY_PID" 2>/dev/null || true; wait "$HAPROXY_PID" 2>/dev/null || true
grep '^uid=' "$LOGS/haproxy.out" >"$LOGS/haproxy.log" || true
in_ns "$NS_WAN" nft list ruleset >"$LOGS/nft-wanfw.txt"
in_ns "$NS_DC" nft list ruleset >"$LOGS/nft-dcfw.txt"
cp "$WORK/haproxy.cfg" "$WORK/nginx.conf" "$LOGS/"
cp "$WORK/lb.crt" "$LOGS/lb-cert.pem"
for p in "${POINT_NAMES[@]}"; do
    grep -E 'packets (captured|received|dropped)' "$LOGS/tcpdump-$p.out" | sed "s/^/$p: /"
done >"$LOGS/tcpdump-stats.txt" || true

# ------------------------------------------------------------------ point files with clock errors
# Known clock errors: t' = t + offset + (t - T0) * ppm * 1e-6 (capclock).
# client: reference clock; wan: seconds; dc: minutes; lbserver: hours.
declare -A OFFSET=([client]=0 [wan]=2718281828 [dc]=-97314159265 [lbserver]=10812345678901)
declare -A DRIFT=([client]=0 [wan]=25 [dc]=-40 [lbserver]=12.5)
if [ "$SKEW" = 0 ]; then for p in "${POINT_NAMES[@]}"; do OFFSET[$p]=0; DRIFT[$p]=0; done; fi
T0=$(( T_START * 1000000000 ))
# --clock-step: wan's clock is set STEP_NS (default back 1.5 s) halfway
# through the workload, so its time stamps jump there (backwards: a stretch
# of readings happens twice).  The instant is on the true clock.
declare -A STEP=()
if [ "$CLOCK_STEP" = 1 ]; then
    STEP_REL=$(( (T_WL + T_WL_END) / 2 - T0 ))
    STEP[wan]=$(printf '%d.%09d:%s' $((STEP_REL / 1000000000)) $((STEP_REL % 1000000000)) "$STEP_NS")
    log "clock step: wan ${STEP_NS} ns at T0 + ${STEP[wan]%%:*} s"
fi
: >"$LOGS/capclock.jsonl"
for p in "${POINT_NAMES[@]}"; do
    editcap -F pcapng --capture-comment "mpl-lab point=$p ns=${POINT_NS[$p]} if=${POINT_IF[$p]}" \
        "$RAW/$p.pcap" "$WORK/$p.pcapng"
    if [ "${OFFSET[$p]}" = 0 ] && [ "${DRIFT[$p]}" = 0 ] && [ -z "${STEP[$p]:-}" ]; then
        cp "$WORK/$p.pcapng" "$POINTS/$p.pcapng"
    else
        "$CAPCLOCK" "$WORK/$p.pcapng" "$POINTS/$p.pcapng" --offset-ns "${OFFSET[$p]}" \
            --drift-ppm "${DRIFT[$p]}" --reference-ns "$T0" ${STEP[$p]:+--step "${STEP[$p]}"} \
            --record "$LOGS/capclock.jsonl" >/dev/null
    fi
done
"$PYTHON" - "$TRUTH/clocks.json" "$T0" "$SKEW" "$LOGS/capclock.jsonl" "$OUTDIR" "$LAB" \
    "${OFFSET[client]}" "${DRIFT[client]}" "${OFFSET[wan]}" "${DRIFT[wan]}" "${OFFSET[dc]}" \
    "${DRIFT[dc]}" "${OFFSET[lbserver]}" "${DRIFT[lbserver]}" <<'EOF'
import json, os, sys
out, t0, skew, record, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
sys.path.insert(0, sys.argv[6])
import labpcap  # noqa: E402
names = ["client", "wan", "dc", "lbserver"]
vals = sys.argv[7:]
points = {}
for i, n in enumerate(names):
    points[n] = {"file": "points/%s.pcapng" % n, "offset_ns": int(vals[2 * i]),
                 "drift_ppm": float(vals[2 * i + 1]), "reference_ns": t0, "steps": []}
# Steps as capclock applied them: the instant (true clock), the size and the
# first frame at or after it.
for line in open(record):
    r = json.loads(line)
    n = os.path.basename(r["output"])[:-len(".pcapng")]
    points[n]["steps"] = [{"at_ns": s["at_ns"], "delta_ns": s["delta_ns"],
                           "first_frame": s["first_packet"]} for s in r.get("steps", [])]


def clock(n, t):
    # Point n's reading at true time t (steps included).
    p = points[n]
    dt = t - p["reference_ns"]
    return (t + p["offset_ns"] + round(dt * p["drift_ppm"] * 1e-6)
            + sum(s["delta_ns"] for s in p["steps"] if t >= s["at_ns"]))


true_ts = {}


def first_frame(n, at):
    # The first frame of n at or after true instant at (raw captures: true clock).
    if n not in true_ts:
        true_ts[n] = [t for _, t, _, _, _ in labpcap.read_capture(os.path.join(outdir, "raw", n + ".pcap"))]
    return next((i + 1 for i, t in enumerate(true_ts[n]) if t >= at), len(true_ts[n]) + 1)


pairs = []
for i, a in enumerate(names):
    for b in names[i + 1:]:
        pa, pb = points[a], points[b]
        drift = (pb["drift_ppm"] - pa["drift_ppm"]) / (1 + pa["drift_ppm"] * 1e-6)
        # In a's clock: t_b = t_a + offset + (t_a - reference) * drift * 1e-6, reference = a's reading at T0.
        q = {"a": a, "b": b, "offset_ns": pb["offset_ns"] - pa["offset_ns"], "drift_ppm": drift,
             "reference_ns": t0 + pa["offset_ns"]}
        # A step of either clock starts a segment: from its instant on, the
        # same form with the reference at a's reading of that instant.
        q["segments"] = [{"a_from_frame": 1, "b_from_frame": 1, "from_ns": q["reference_ns"],
                          "offset_ns": q["offset_ns"], "drift_ppm": drift, "reference_ns": q["reference_ns"]}]
        q["steps"] = []
        for st in sorted(pa["steps"] + pb["steps"], key=lambda s: s["at_ns"]):
            at = st["at_ns"]
            ref = clock(a, at)
            seg = {"a_from_frame": first_frame(a, at), "b_from_frame": first_frame(b, at), "from_ns": ref,
                   "offset_ns": clock(b, at) - ref, "drift_ppm": drift, "reference_ns": ref}
            size = sum(s["delta_ns"] for s in pb["steps"] if s["at_ns"] == at) - \
                sum(s["delta_ns"] for s in pa["steps"] if s["at_ns"] == at)
            # a's reading at its last frame before the step.
            fa = seg["a_from_frame"]
            before = clock(a, true_ts[a][fa - 2]) if fa >= 2 else 0
            q["steps"].append({"at_ns": ref, "before_ns": before, "true_at_ns": at, "size_ns": size,
                               "a_frame": fa, "b_frame": seg["b_from_frame"]})
            q["segments"].append(seg)
        pairs.append(q)
json.dump({"model": "t_point = t_true + offset_ns + (t_true - reference_ns) * drift_ppm * 1e-6 "
                    "+ the delta_ns of every step with t_true >= at_ns",
           "pair_model": "t_b = t_a + offset_ns + (t_a - reference_ns) * drift_ppm * 1e-6 "
                         "(t_a, t_b: readings of the clocks of points a and b at the same instant; "
                         "reference_ns is on a's clock); with steps, segments[k] holds from frame "
                         "a_from_frame of a and b_from_frame of b on, steps[k] at a's reading at_ns",
           "raw_captures_are_true_time": True, "skew_applied": skew,
           "reference_ns": t0, "points": points, "pairs": pairs}, open(out, "w"), indent=1)
EOF

# ------------------------------------------------------------------ run parameters and truth
"$PYTHON" - "$OUTDIR/run.json" <<EOF
import json, sys
json.dump({"clients": $CLIENTS, "requests": $REQUESTS, "synproxy": bool($SYNPROXY), "loss_pct": $LOSS,
           "udp_only": bool($UDP_ONLY), "pause_ms": $PAUSE_MS, "ping": $PING, "family": $FAM, "max_size": "$MAX_SIZE", "seed": $SEED,
           "skew": bool($SKEW), "clock_step_ns": $([ "$CLOCK_STEP" = 1 ] && echo "$STEP_NS" || echo None),
           "client_exit": $CLIENT_RC, "started": $T_START,
           "name": "$NAME", "vip": "$VIP", "dns_vip": "$DNSVIP",
           "lb_front": {"http": "$([ $FAM = 6 ] && echo "[$DC6_LB]" || echo "$DC4_LB"):$LB_HTTP_PORT",
                        "https": "$([ $FAM = 6 ] && echo "[$DC6_LB]" || echo "$DC4_LB"):$LB_HTTPS_PORT"},
           "server": "$SRV_IP",
           "points": {"client": {"ns": "$NS_CLI", "if": "lan0", "offloads": "off"},
                      "wan": {"ns": "$NS_WAN", "if": "wan0", "offloads": "off"},
                      "dc": {"ns": "$NS_LB", "if": "dci1", "offloads": "kernel defaults (TSO/GSO on, GRO off, tx checksum on)"},
                      "lbserver": {"ns": "$NS_LB", "if": "lbs0", "offloads": "off"}}},
          open(sys.argv[1], "w"), indent=1)
EOF
log "building truth"
timeout 300 "$PYTHON" "$LAB/build_truth.py" "$OUTDIR" >"$LOGS/build_truth.out" 2>&1 &
TRUTH_PID=$!
PIDS+=("$TRUTH_PID")
set +e
wait "$TRUTH_PID"
TRUTH_RC=$?
set -e
tee -a "$RUNLOG" <"$LOGS/build_truth.out" >&2
[ "$TRUTH_RC" = 0 ] || { log "build_truth.py failed"; exit 1; }
[ "$CLIENT_RC" = 0 ] || { log "client exited $CLIENT_RC (see $LOGS/client.out)"; exit 1; }
log "done in $(( $(date +%s) - T_START )) s: $OUTDIR"
