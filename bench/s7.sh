#!/usr/bin/env bash
# S7 (docs/BENCHMARKS.md): message search at a million messages. For each database, a fresh
# Parlor is filled through its API (`loadgen seed-search`: 1,000 rooms of 5, the searcher in
# 50 of them, texts drawn from a word list by frequency), then `loadgen search` times a
# common word, a rare word, a phrase and a `from:` filter, alone and beside paced sends, and
# the sends' latency without and with the searches, in one run; then the indexes' size on
# disk against the message table's.
#
#   bench/s7.sh [MESSAGES] [DATABASES]     # defaults: 1000000 "sqlite postgres"
#
# PARLOR and LOADGEN name the binaries (default target/release/…); PG is the PostgreSQL
# server URL (default postgres://postgres@127.0.0.1:5432). Not part of CI.
set -euo pipefail
messages=${1:-1000000}
databases=${2:-sqlite postgres}
parlor=${PARLOR:-target/release/parlor}
loadgen=${LOADGEN:-target/release/loadgen}
pg=${PG:-postgres://postgres@127.0.0.1:5432}
dir=/tmp/s7
ulimit -n "$(ulimit -Hn)"

wait_port() { for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }

plenty=1000000/1m
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $messages messages"
for db in $databases; do
    rm -rf "$dir"; mkdir -p "$dir"
    if [ "$db" = postgres ]; then
        psql -q "$pg/postgres" -c 'DROP DATABASE IF EXISTS parlor_s7 WITH (FORCE)' -c 'CREATE DATABASE parlor_s7'
        url="$pg/parlor_s7"
    else
        url="sqlite://$dir/parlor.db?mode=rwc"
    fi
    RUST_LOG=warn "$parlor" serve --addr 127.0.0.1:3107 --data-dir "$dir" --database-url "$url" \
        --auth-rate-burst 1000000 --send-burst 1000000 --send-period-ms 1 \
        --rate-create-room "$plenty" --rate-join-leave "$plenty" --rate-message-search "$plenty" \
        --ws-per-address 1000000 --max-connections 100000 >"$dir.log" 2>&1 &
    server=$!
    wait_port 3107
    echo "## $db"
    "$loadgen" seed-search --base http://127.0.0.1:3107 --messages "$messages"
    "$loadgen" search --base http://127.0.0.1:3107 --send-rate 1000 --secs 20
    if [ "$db" = postgres ]; then
        psql -qAt "$pg/parlor_s7" -c "SELECT 'messages table (heap, with search_text and search_vector): ' || pg_size_pretty(pg_relation_size('messages'))" \
            -c "SELECT 'idx_messages_search_vector: ' || pg_size_pretty(pg_relation_size('idx_messages_search_vector'))" \
            -c "SELECT 'idx_messages_search_trigrams: ' || pg_size_pretty(pg_relation_size('idx_messages_search_trigrams'))" \
            -c "SELECT 'search_text + search_vector columns: ' || pg_size_pretty(SUM(pg_column_size(search_text) + COALESCE(pg_column_size(search_vector), 0))) FROM messages"
    else
        python3 - "$dir/parlor.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
except sqlite3.OperationalError as e:
    sys.exit(f"dbstat is not compiled into this sqlite3: {e}")
size = dict(rows)
messages = sum(v for k, v in size.items() if k == 'messages' or k.startswith('sqlite_autoindex_messages') or k.startswith('idx_messages'))
search = sum(v for k, v in size.items() if k.startswith('message_words') or k.startswith('message_trigrams'))
words = sum(v for k, v in size.items() if k.startswith('message_words'))
text = db.execute("SELECT SUM(LENGTH(search_text)) FROM messages").fetchone()[0] or 0
print(f"messages table and its indexes: {messages/2**20:.1f} MiB (search_text in it: {text/2**20:.1f} MiB)")
print(f"FTS5 tables: {search/2**20:.1f} MiB (words {words/2**20:.1f}, trigrams {(search-words)/2**20:.1f}), {search/messages:.2f}x the message table")
PY
    fi
    kill "$server"; wait "$server" 2>/dev/null || true
done
