#!/usr/bin/env bash
# S2 (docs/BENCHMARKS.md): one room, receivers × msg/s, Parlor beside axum's chat example and
# InspIRCd, each run on a fresh server, the servers interleaved at every load.
#
#   bench/s2.sh "1000:250 1000:500 100:2000 5000:50" [REPEATS]
#
# PARLOR (default target/release/parlor), LOADGEN (target/release/loadgen) and AXUM_CHAT
# (axum's examples/chat built by hand; skipped when unset) name the binaries; SERVERS
# (default "axum irc parlor") picks which run. Parlor runs on SQLite with its send limit
# raised (10 senders carry the whole load) and every check and the storing on.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
loads=${1:-"1000:250 1000:500 100:2000 5000:50"}
repeats=${2:-1}
parlor=${PARLOR:-target/release/parlor}
loadgen=${LOADGEN:-target/release/loadgen}
servers=${SERVERS:-"axum irc parlor"}
ulimit -n "$(ulimit -Hn)"

wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }

run_one() { # server receivers rate
    local server=$1 receivers=$2 rate=$3 pid
    case $server in
    axum)
        [ -n "${AXUM_CHAT:-}" ] || return 0
        RUST_LOG=warn "$AXUM_CHAT" >/dev/null 2>&1 & pid=$!
        wait_port 3000
        "$loadgen" axum-chat --receivers "$receivers" --senders 10 --rate "$rate" --secs 10 | tail -1
        kill "$pid"; wait "$pid" 2>/dev/null || true
        ;;
    irc)
        "$here/inspircd.sh" start /tmp/s2-inspircd >/dev/null
        "$loadgen" irc --receivers "$receivers" --senders 10 --rate "$rate" --secs 10 | tail -1
        "$here/inspircd.sh" stop /tmp/s2-inspircd >/dev/null
        ;;
    parlor)
        rm -rf /tmp/s2-parlor; mkdir -p /tmp/s2-parlor
        RUST_LOG=warn "$parlor" serve --addr 127.0.0.1:3100 --data-dir /tmp/s2-parlor \
            --database-url "sqlite:///tmp/s2-parlor/parlor.db?mode=rwc" \
            --auth-rate-burst 1000000 --send-burst 1000000 --send-period-ms 1 \
            --ws-per-address 1000000 --max-connections 100000 >/tmp/s2-parlor.log 2>&1 & pid=$!
        wait_port 3100
        "$loadgen" parlor --receivers "$receivers" --senders 10 --rate "$rate" --secs 10 | tail -1
        kill "$pid"; wait "$pid" 2>/dev/null || true
        ;;
    esac
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; loads: $loads"
for load in $loads; do
    for _ in $(seq "$repeats"); do
        for server in $servers; do
            printf '%s %s ' "$server" "$load"
            run_one "$server" "${load%%:*}" "${load##*:}"
        done
    done
done
