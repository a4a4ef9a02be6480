#!/usr/bin/env bash
# Runs every migration up, then down, on a fresh SQLite file and a fresh PostgreSQL database,
# and writes the schema after each into DIR (docs/ARCHITECTURE.md, "Migrations"). Dump before
# and after changing a migration and compare: `diff -r before after` must print nothing.
# Needs sqlite3, psql and pg_dump; PostgreSQL at PG_URL (default: the local trust-auth server).
set -euo pipefail
out=${1:?usage: scripts/schema-dump.sh DIR}
pg=${PG_URL:-postgres://postgres@127.0.0.1}
db=parlor_schema_dump
cd "$(dirname "$0")/.."
cargo build -q -p migration
bin=target/debug/migration
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" -u "sqlite://$work/schema.db?mode=rwc" up >"$out/sqlite-up.log"
sqlite3 "$work/schema.db" .schema >"$out/sqlite-up.sql"
"$bin" -u "sqlite://$work/schema.db?mode=rwc" down -n 1000 >"$out/sqlite-down.log"
sqlite3 "$work/schema.db" .schema >"$out/sqlite-down.sql"

# pg_dump's \restrict lines carry a random key: leave them out, with the comments.
dump() { pg_dump --schema-only "$pg/$db" | grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict'; }
psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
"$bin" -u "$pg/$db" up >"$out/postgres-up.log"
dump >"$out/postgres-up.sql"
"$bin" -u "$pg/$db" down -n 1000 >"$out/postgres-down.log"
dump >"$out/postgres-down.sql"
psql -q "$pg/postgres" -c "DROP DATABASE $db"
