#!/bin/bash
# A cluster of `pktmatch worker`s on this machine (loopback), for
# `pktmatch index --engine URL` (docs/engine.md, "The cluster").
#
# Usage: tools/local-cluster.sh start N   starts N workers, each on a free
#                                         port the OS picks, waits until
#                                         every one answers, prints the
#                                         cluster's URL as its last line
#                                         (flight://127.0.0.1:P1,...)
#        tools/local-cluster.sh stop      stops the workers it started
#        tools/local-cluster.sh url       prints the running cluster's URL
#
# The state (pid files, logs, the URL) is in $PKTMATCH_CLUSTER_DIR (default
# /tmp/pktmatch-cluster-$UID): give each concurrent cluster its own.  Stop
# kills only the processes whose pid files this script wrote, and only
# while they still are `pktmatch worker`s (a pid reused by another program
# is left alone).  The binary: $PKTMATCH_BIN, else target/release/pktmatch
# (under $CARGO_TARGET_DIR when set), built with the datafusion feature.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${PKTMATCH_CLUSTER_DIR:-/tmp/pktmatch-cluster-$(id -u)}"
bin="${PKTMATCH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/pktmatch}"
wait_s="${PKTMATCH_CLUSTER_WAIT:-30}"

die() { echo "local-cluster: $*" >&2; exit 1; }

# True when pid file $1 names a live `pktmatch worker` process.
ours() {
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- ' worker --listen '
}

stop() {
    local f pid n=0
    shopt -s nullglob
    for f in "$state"/worker-*.pid; do
        if ours "$f"; then
            pid="$(cat "$f")"
            kill "$pid" 2>/dev/null || true
            # Up to 5 s to go, then it is made to.
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
            n=$((n + 1))
        fi
        rm -f "$f"
    done
    rm -f "$state/url"
    echo "local-cluster: stopped $n worker(s)" >&2
}

# The address worker $1 printed once listening (empty until then).
bound() {
    sed -n 's/^pktmatch worker listening on flight:\/\///p' "$state/worker-$1.log" 2>/dev/null | head -1
}

# True when a TCP connection to HOST:PORT $1 is accepted.
answers() {
    local host="${1%:*}" port="${1##*:}"
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

start() {
    local n="$1" i addr addrs=() deadline
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start N: N is a number of workers (1 or more)"
    [ -x "$bin" ] || die "$bin: no pktmatch binary (cargo build --release -p pktmatch --features datafusion, or set PKTMATCH_BIN)"
    mkdir -p "$state"
    shopt -s nullglob
    for f in "$state"/worker-*.pid; do
        ours "$f" && die "a cluster is already running from $state (tools/local-cluster.sh stop first)"
        rm -f "$f"
    done
    for i in $(seq "$n"); do
        # Its own session: a terminal's ^C to the caller does not reach it.
        setsid "$bin" worker --listen 127.0.0.1:0 > "$state/worker-$i.log" 2>&1 < /dev/null &
        echo $! > "$state/worker-$i.pid"
    done
    deadline=$((SECONDS + wait_s))
    for i in $(seq "$n"); do
        while :; do
            addr="$(bound "$i")"
            if [ -n "$addr" ] && answers "$addr"; then
                break
            fi
            if ! ours "$state/worker-$i.pid" || [ "$SECONDS" -ge "$deadline" ]; then
                echo "local-cluster: worker $i did not start:" >&2
                sed 's/^/  /' "$state/worker-$i.log" >&2 || true
                stop
                exit 1
            fi
            sleep 0.1
        done
        addrs+=("$addr")
    done
    local url
    url="flight://$(IFS=,; echo "${addrs[*]}")"
    echo "$url" > "$state/url"
    echo "local-cluster: $n worker(s) running, state in $state" >&2
    echo "$url"
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: $0 start N"; start "$2" ;;
    stop) stop ;;
    url) cat "$state/url" 2>/dev/null || die "no cluster running from $state" ;;
    *) die "usage: $0 start N | stop | url" ;;
esac
