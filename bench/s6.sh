#!/usr/bin/env bash
# S6 (docs/BENCHMARKS.md): what running two instances over Redis adds to delivery latency.
# One room, 1,000 receivers, 100 msg/s from 10 senders, on PostgreSQL. Interleaved, REPEATS
# times each:
#   one  — one instance, every socket on it (no Redis);
#   two  — two instances on one database and one Redis, receivers split between them, the
#          senders on the first (half the deliveries cross Redis).
#
#   bench/s6.sh [REPEATS] [RECEIVERS:RATE]
#
# PARLOR and LOADGEN name the binaries (default target/release/…); PG is the PostgreSQL
# server URL (default postgres://postgres@127.0.0.1:5432). A redis-server of its own runs on
# port 6390, so the machine's Redis is not touched.
set -euo pipefail
repeats=${1:-3}
load=${2:-1000:100}
parlor=${PARLOR:-target/release/parlor}
loadgen=${LOADGEN:-target/release/loadgen}
pg=${PG:-postgres://postgres@127.0.0.1:5432}
ulimit -n "$(ulimit -Hn)"

wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }

fresh_db() {
    psql -q "$pg/postgres" -c 'DROP DATABASE IF EXISTS parlor_s6 WITH (FORCE)' -c 'CREATE DATABASE parlor_s6'
}

instance() { # port [extra flags…]; prints its pid
    local port=$1; shift
    RUST_LOG=warn "$parlor" serve --addr "127.0.0.1:$port" --data-dir "/tmp/s6-$port" \
        --database-url "$pg/parlor_s6" \
        --auth-rate-burst 1000000 --send-burst 1000000 --send-period-ms 1 \
        --ws-per-address 1000000 --max-connections 100000 "$@" >"/tmp/s6-$port.log" 2>&1 &
    echo $!
}

run() { # one|two
    local pids=() spread=()
    fresh_db
    rm -rf /tmp/s6-3100 /tmp/s6-3101
    if [ "$1" = one ]; then
        pids+=("$(instance 3100)")
        wait_port 3100
    else
        pids+=("$(instance 3100 --redis-url redis://127.0.0.1:6390)")
        pids+=("$(instance 3101 --redis-url redis://127.0.0.1:6390)")
        wait_port 3100; wait_port 3101
        spread=(--spread http://127.0.0.1:3101)
    fi
    "$loadgen" parlor --base http://127.0.0.1:3100 "${spread[@]}" \
        --receivers "${load%%:*}" --senders 10 --rate "${load##*:}" --secs 10 | tail -1
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
}

redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no >/dev/null & redis=$!
trap 'kill $redis 2>/dev/null || true' EXIT
wait_port 6390

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; load $load"
for _ in $(seq "$repeats"); do
    for mode in one two; do
        printf '%s ' "$mode"
        run "$mode"
    done
done
