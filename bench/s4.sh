#!/usr/bin/env bash
# S4 (docs/BENCHMARKS.md): server-rendered pages and /api calls under `oha` (crates.io:
# `cargo install oha --locked`). For each target: the most requests/s 50 connections get in
# 10 s, then 10 s at half that rate for the latency. Parlor runs on SQLite, as it ships, with
# its per-address limits raised so the one load address is not throttled.
#
#   bench/s4.sh            # PARLOR (default target/release/parlor) names the binary
set -euo pipefail
source "$(dirname "$0")/room.sh"

measure() { # label method path [body]
    local label=$1 method=$2 path=$3 body=${4:-} args max half
    args=(--no-tui --output-format json -c 50 -m "$method" -H "cookie: $cookie" -H "origin: $base")
    [ -n "$body" ] && args+=(-H 'content-type: application/json' -d "$body")
    max=$(oha -z 10s "${args[@]}" "$base$path" | python3 -c '
import json, sys
r = json.load(sys.stdin)
codes = r["statusCodeDistribution"]
assert set(codes) <= {"200"}, codes
print(int(r["summary"]["requestsPerSec"]))')
    half=$((max / 2))
    oha -z 10s -q "$half" "${args[@]}" "$base$path" | python3 -c "
import json, sys
r = json.load(sys.stdin)
p = r['latencyPercentiles']
codes = r['statusCodeDistribution']
assert set(codes) <= {'200'}, codes
print(f'$label: max $max req/s; at $half req/s: p50 {p[\"p50\"]*1000:.2f} ms, p99 {p[\"p99\"]*1000:.2f} ms, p99.9 {p[\"p99.9\"]*1000:.2f} ms')"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; parlor pid $pid"
measure "GET /rooms/ROOM (server-rendered room page)" GET "/rooms/$room"
measure "GET /rooms (directory page)" GET "/rooms"
measure "POST /api/rooms/get" POST /api/rooms/get "{\"room_id\":\"$room\"}"
measure "POST /api/messages/history (50 messages)" POST /api/messages/history "{\"room_id\":\"$room\",\"limit\":50}"
measure "GET /healthz" GET /healthz
