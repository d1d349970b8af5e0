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
# $XDG_RUNTIME_DIR, else /tmp, /pktmatch-cluster-$UID): give each concurrent
# cluster its own.  The directory must be the user's own (not a link; made
# with mode 700), and start/stop/url on one directory take turns (a lock
# in it).  Stop kills only the processes whose pid files this script wrote,
# and only while they still are this binary's `worker` (a pid reused by
# another program is left alone), checked again before each signal; it
# removes only regular files.  The binary: $PKTMATCH_BIN, else target/release/pktmatch
# (under $CARGO_TARGET_DIR when set), built with the datafusion feature.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${PKTMATCH_CLUSTER_DIR:-${XDG_RUNTIME_DIR:-/tmp}/pktmatch-cluster-$(id -u)}"
bin="${PKTMATCH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/pktmatch}"
wait_s="${PKTMATCH_CLUSTER_WAIT:-30}"

die() { echo "local-cluster: $*" >&2; exit 1; }

# True when pid file $1 (a regular file) names a live process of this
# binary's `worker --listen` (its command line as start wrote it).
ours() {
    local pid argv
    regular "$1" || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    mapfile -d '' -t argv 2>/dev/null < "/proc/$pid/cmdline" || return 1
    [ "${#argv[@]}" -ge 3 ] && [ "${argv[0]}" = "$(started_bin)" ] && [ "${argv[1]}" = worker ] &&
        [ "${argv[2]}" = --listen ]
}

# The binary start ran (recorded in the state), else this run's.
started_bin() {
    if regular "$state/bin"; then cat "$state/bin"; else echo "$bin"; fi
}

# True while pid $1 is a live child of this script (a worker it started,
# whether or not it runs the binary yet).
is_child() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    set -- $stat
    [ "$1" != Z ] && [ "$2" = "$$" ]
}

# True for a regular file that is not a link.
regular() { [ -f "$1" ] && [ ! -L "$1" ]; }

# Removes $1 if it is a regular file; refuses anything else there.
remove() {
    if regular "$1"; then
        rm -f -- "$1"
    elif [ -e "$1" ] || [ -L "$1" ]; then
        die "$1 is not a regular file: left alone (remove it yourself)"
    fi
}

# The state directory, the user's own, locked for this run.
open_state() {
    mkdir -p -m 700 -- "$state"
    [ -d "$state" ] && [ ! -L "$state" ] && [ -O "$state" ] ||
        die "$state: not a directory of this user's (set PKTMATCH_CLUSTER_DIR)"
    exec 9>> "$state/lock"
    flock -w 60 9 || die "$state: another local-cluster.sh holds the lock"
}

stop() {
    local f pid n=0
    shopt -s nullglob
    for f in "$state"/worker-*.pid; do
        if ours "$f"; then
            pid="$(cat "$f")"
            kill "$pid" 2>/dev/null || true
            # Up to 5 s to go, then it is made to (if the pid is still
            # this worker's: it may have gone and the pid been reused).
            for _ in $(seq 50); do
                ours "$f" || break
                sleep 0.1
            done
            ours "$f" && kill -9 "$pid" 2>/dev/null || true
            n=$((n + 1))
        fi
        remove "$f"
    done
    remove "$state/url"
    echo "local-cluster: stopped $n worker(s)" >&2
}

# The address worker $1 printed once listening (empty until then, and
# before its log exists: the started process makes it, and on a busy
# machine it may not have run yet — a failing sed here used to end the
# script silently under set -e).
bound() {
    local log="$state/worker-$1.log"
    regular "$log" || return 0
    sed -n 's/^pktmatch worker listening on flight:\/\///p' "$log" | head -1 || true
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
    shopt -s nullglob
    for f in "$state"/worker-*.pid; do
        ours "$f" && die "a cluster is already running from $state (tools/local-cluster.sh stop first)"
        remove "$f"
    done
    remove "$state/bin"
    echo "$bin" > "$state/bin"
    # Whatever ends this start early stops the workers it started (none
    # is left running without a URL to reach it or a caller who knows):
    # stop for those that run the binary, and those still the shell forked
    # to start them (not yet `ours`, or never recorded) by their pids.
    started=()
    trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "local-cluster: start failed ($rc)" >&2; stop; for p in "${started[@]}"; do is_child "$p" && kill "$p" 2>/dev/null; done; fi' EXIT
    for i in $(seq "$n"); do
        remove "$state/worker-$i.log"
        # Its own session: a terminal's ^C to the caller does not reach it.
        # Not holding the lock (fd 9) while it runs.
        setsid "$bin" worker --listen 127.0.0.1:0 > "$state/worker-$i.log" 2>&1 < /dev/null 9>&- &
        started+=("$!")
        echo $! > "$state/worker-$i.pid"
    done
    deadline=$((SECONDS + wait_s))
    for i in $(seq "$n"); do
        while :; do
            addr="$(bound "$i")"
            if [ -n "$addr" ] && answers "$addr"; then
                break
            fi
            # Alive (its own child, whatever it runs yet: it may still be
            # the shell forked to start it on a busy machine) and in time.
            if ! is_child "${started[i - 1]}" || [ "$SECONDS" -ge "$deadline" ]; then
                echo "local-cluster: worker $i did not start:" >&2
                sed 's/^/  /' "$state/worker-$i.log" >&2 || true
                exit 1
            fi
            sleep 0.1
        done
        addrs+=("$addr")
    done
    local url
    url="flight://$(IFS=,; echo "${addrs[*]}")"
    remove "$state/url"
    echo "$url" > "$state/url"
    trap - EXIT
    echo "local-cluster: $n worker(s) running, state in $state" >&2
    echo "$url"
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: $0 start N"; open_state; start "$2" ;;
    stop) open_state; stop ;;
    url) open_state; regular "$state/url" && cat "$state/url" || die "no cluster running from $state" ;;
    *) die "usage: $0 start N | stop | url" ;;
esac
