#!/usr/bin/env bash
# Installs what a fresh machine lacks, builds the release site and serves Parlor on the
# SQLite default at http://127.0.0.1:3000. Extra arguments go to `parlor serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh
(cd end2end && npm ci --no-audit --no-fund --loglevel=error)
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

cargo leptos build --release --split
# Brotli and gzip copies of the client, served to browsers that accept them.
target/release/parlor precompress >/dev/null
exec target/release/parlor serve "$@"
