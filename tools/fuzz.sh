#!/bin/bash
# Runs every cargo-fuzz target for a set number of executions and prints one
# line per target: name, executions, crashes.  Usage:
#   tools/fuzz.sh [RUNS] [TARGET...]      (RUNS default 1000000)
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; with
# only stable, RUSTC_BOOTSTRAP=1 lets it take libFuzzer's -Z flags.
# Seeds: the UDP payloads of the synthetic EE captures (ee-synth, if tshark is
# there to extract them), CTRACE files from ctrace-synth, indexes built by the
# index crate's tests, a few HTTP/TLS message starts.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ee_datagram ctrace_records capture_keys index_loader message_starts zunpack_containers ipcs_report_text)

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

seed_ee() {
    local corpus=fuzz/corpus/ee_datagram
    mkdir -p "$corpus"
    command -v tshark >/dev/null || return 0
    local out; out=$(mktemp -d)
    cargo run -q --release -p ee-synth -- "$out" >/dev/null
    local n=0
    for capture in "$out"/*.pcapng; do
        { tshark -r "$capture" -T fields -e udp.payload 2>/dev/null || true; } |
        while read -r hex; do
            n=$((n + 1))
            echo "$hex" | xxd -r -p > "$corpus/$(basename "$capture" .pcapng)-$n"
        done
    done
    rm -rf "$out"
}

seed_ctrace() {
    local corpus=fuzz/corpus/ctrace_records
    mkdir -p "$corpus"
    for framing in raw rdw bdw; do
        cargo run -q --release -p ctrace-synth -- tests/data/real-dns.pcap \
            "$corpus/seed-dns-$framing" --framing "$framing" --segment-size 120 >/dev/null 2>&1 || true
    done
}

seed_index() {
    mkdir -p fuzz/corpus/index_loader
    INDEX_FUZZ_SEEDS="$PWD/fuzz/corpus/index_loader" \
        cargo test -q --release -p index --test index write_fuzz_seeds >/dev/null 2>&1 || true
}

seed_messages() {
    local corpus=fuzz/corpus/message_starts
    mkdir -p "$corpus"
    printf 'GET /f/4k.bin?rid=c00r0001 HTTP/1.1\r\nHost: lab\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n' \
        > "$corpus/request-xff"
    printf 'POST /a HTTP/1.1\r\nx-forwarded-for: 10.0.0.1, 2001:db8::7\r\nContent-Length: 3\r\n\r\nabc' \
        > "$corpus/request-body"
    printf 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody' > "$corpus/response"
    printf '\x17\x03\x03\x00\x28' > "$corpus/tls-record"
}

seed_zunpack() {
    local corpus=fuzz/corpus/zunpack_containers
    mkdir -p "$corpus"
    cp tests/data/*-tersed-* tests/data/*-xmit-* "$corpus/" 2>/dev/null || true
}

seed_ipcs() {
    local corpus=fuzz/corpus/ipcs_report_text
    mkdir -p "$corpus"
    cp tests/data/ibm-*.txt tests/data/share2010-full-record.txt "$corpus/"
    head -c 16000 tests/data/rendered-ipcs-full-real-ftp.txt > "$corpus/rendered-full"
    head -c 16000 tests/data/rendered-ipcs-dump-real-dns.txt > "$corpus/rendered-dump"
}

for target in "${targets[@]}"; do
    case $target in
        zunpack_containers) seed_zunpack ;;
        ipcs_report_text) seed_ipcs ;;
        message_starts) seed_messages ;;
        ee_datagram) seed_ee ;;
        ctrace_records) seed_ctrace ;;
        index_loader) seed_index ;;
    esac
    log=fuzz/$target.log
    # -runs counts executions; a crash stops libFuzzer with a non-zero exit.
    if cargo "${toolchain[@]}" fuzz run --release "$target" -- \
        -runs="$runs" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        crashes=0
    else
        crashes=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    echo "$target executions=$execs crashes=$crashes (log: $log)"
done
