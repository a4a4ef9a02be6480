#!/usr/bin/env bash
# The whole test suite, as CI runs it. On a fresh machine it first installs what is missing.
#   lints → Rust tests on SQLite → the same on PostgreSQL → fuzzers → release build → browser specs
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
bash scripts/install-tools.sh --with-browser --with-fuzz
(cd end2end && npm ci --no-audit --no-fund --loglevel=error)
# wasm-opt for release builds comes from npm's binaryen (never Debian's: too old).
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

# PostgreSQL runs on every machine of this kind; start it if it was stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi

# Each step says how long the run has taken so far, so a slow CI shows where its time went.
step() {
  printf '\n==> %s (at %dm%02ds, %s free on disk)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) \
    "$(df -h --output=avail . | tail -1 | tr -d ' ')"
}

if [ -n "${CI:-}" ]; then
  # A one-off build gains nothing from incremental caches, which double target/'s size.
  export CARGO_INCREMENTAL=0
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (server crates, all targets)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
step "cargo clippy (browser bundle, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "Rust tests on SQLite"
cargo test --workspace --exclude frontend

step "Rust tests on PostgreSQL (a fresh database per test, dropped after)"
PARLOR_TEST_DB=postgres cargo test --workspace --exclude frontend

step "Fuzzing: every target for 30 s (nightly, cargo-fuzz)"
bash scripts/fuzz.sh 30

if [ -n "${CI:-}" ]; then
  # The debug tree is done with; CI machines can be short of disk for the release build.
  rm -rf target/debug
fi

step "Release build (server + WASM)"
cargo leptos build --release --split
# Brotli and gzip copies of the client, served to browsers that accept them.
target/release/parlor precompress >/dev/null

step "Browser specs in headless Chromium against the release server"
node end2end/run.mjs
step "done"
