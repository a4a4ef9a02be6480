#!/usr/bin/env bash
# S4 (docs/BENCHMARKS.md): server-rendered pages and /api calls under `oha` (crates.io:
# `cargo install oha --locked`). For each target: the most requests/s 50 connections get in
# 10 s, then 10 s at half that rate for the latency. Parlor runs on SQLite, as it ships, with
# its per-address limits raised so the one load address is not throttled.
#
#   bench/s4.sh            # PARLOR (default target/release/parlor) names the binary
set -euo pipefail
parlor=${PARLOR:-target/release/parlor}
base=http://127.0.0.1:3100
dir=/tmp/s4-parlor
rm -rf "$dir"; mkdir -p "$dir"
ulimit -n "$(ulimit -Hn)"
RUST_LOG=warn "$parlor" serve --addr 127.0.0.1:3100 --data-dir "$dir" \
    --database-url "sqlite://$dir/parlor.db?mode=rwc" --auth-rate-burst 1000000 \
    --send-burst 1000000 --send-period-ms 1 --rate-search 100000000/1m \
    >"$dir.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

json=(-H 'content-type: application/json' -H "origin: $base")
curl -sf -c "$dir/jar" "${json[@]}" "$base/api/auth/signup" -d '{"username":"bench","password":"bench-password-1"}' >/dev/null
cookie=$(awk '$6=="parlor_session" {print $6"="$7}' "$dir/jar")
room=$(curl -sf -b "$dir/jar" "${json[@]}" "$base/api/rooms/create" \
    -d '{"name":"Benchmark room","topic":"S4","join_policy":"open"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["room"]["id"])')
for i in $(seq 50); do
    curl -sf -b "$dir/jar" "${json[@]}" "$base/api/messages/send" \
        -d "{\"room_id\":\"$room\",\"client_id\":\"s4-$i\",\"body\":\"message $i of the S4 room, about sixty-four bytes long....\"}" >/dev/null
done

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
