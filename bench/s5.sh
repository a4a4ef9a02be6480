#!/usr/bin/env bash
# S5 (docs/BENCHMARKS.md): messages stored per second on SQLite and on PostgreSQL, each beside
# the database's own single-row insert rate into the same table, measured right after.
#   Parlor: `loadgen persist`, 50 senders, one room each, with group commit as shipped; run
#   once per value in IN_FLIGHT (default "1": one send in flight per sender, ack then the next;
#   "1 16" also keeps 16 unanswered per sender, as a client that pipelines does).
#   SQLite's own: bench/s5-sqlite-inserts.py, one connection, one INSERT per transaction.
#   PostgreSQL's own: pgbench, 50 clients, one INSERT per transaction (bench/s5-pgbench-insert.sql).
#
#   bench/s5.sh [REPEATS]    # PARLOR, LOADGEN name the binaries; PG_ADMIN_URL the server
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
parlor=${PARLOR:-target/release/parlor}
loadgen=${LOADGEN:-target/release/loadgen}
repeats=${1:-1}
in_flight=${IN_FLIGHT:-1}
pg=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
ulimit -n "$(ulimit -Hn)"

serve() { # database-url
    rm -rf /tmp/s5-parlor; mkdir -p /tmp/s5-parlor
    RUST_LOG=warn "$parlor" serve --addr 127.0.0.1:3100 --data-dir /tmp/s5-parlor --database-url "$1" \
        --auth-rate-burst 1000000 --send-burst 1000000 --send-period-ms 1 \
        --rate-create-room 100000/1m >/tmp/s5-parlor.log 2>&1 &
    pid=$!
    for _ in $(seq 200); do curl -sf http://127.0.0.1:3100/healthz >/dev/null && return; sleep 0.1; done
    echo "parlor did not start" >&2; cat /tmp/s5-parlor.log >&2; exit 1
}

echo "# $(date -u +%FT%TZ) $(nproc) cores"
for _ in $(seq "$repeats"); do
    for k in $in_flight; do
        serve "sqlite:///tmp/s5-parlor/parlor.db?mode=rwc"
        printf 'SQLite   Parlor  '; "$loadgen" persist --senders 50 --secs 10 --in-flight "$k" | tail -1
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
    printf 'SQLite   own     '; python3 "$here/s5-sqlite-inserts.py" /tmp/s5-parlor/parlor.db 10

    for k in $in_flight; do
        psql -q "$pg/postgres" -c 'DROP DATABASE IF EXISTS parlor_s5' -c 'CREATE DATABASE parlor_s5'
        serve "$pg/parlor_s5"
        printf 'Postgres Parlor  '; "$loadgen" persist --senders 50 --secs 10 --in-flight "$k" | tail -1
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
    read -r room author < <(psql -qtA -F ' ' "$pg/parlor_s5" \
        -c "SELECT room_id, author_id FROM messages WHERE author_id IS NOT NULL LIMIT 1")
    printf 'Postgres own     '
    pgbench -n -M prepared -c 50 -j 2 -T 10 -f "$here/s5-pgbench-insert.sql" \
        -D room_id="$room" -D author_id="$author" "$pg/parlor_s5" 2>/dev/null | grep -E '^tps' | head -1
done
