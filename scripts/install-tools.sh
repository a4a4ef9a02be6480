#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks to build and run Parlor.
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail

need_chromium=0
need_fuzz=0
for arg in "$@"; do
  [ "$arg" = "--with-browser" ] && need_chromium=1
  [ "$arg" = "--with-fuzz" ] && need_fuzz=1
done

# Tools are built once, for this machine, so their build time counts: without their own LTO
# profiles (wasm-bindgen's and cargo-fuzz's), and cargo-leptos unoptimised (below).
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

if ! cargo leptos --version 2>/dev/null | grep -q '0.3.10'; then
  # 0.3.11 needs rustc 1.96; 0.3.10 builds on the machine's 1.95.
  # Unoptimised (--debug): its own profile (fat LTO, one codegen unit) took 14 of a fresh CI
  # run's 49 minutes, an optimised build without LTO 12.7, this one 5.5; it spends its time
  # waiting on cargo, wasm-bindgen and wasm-opt, which stay optimised.
  cargo install cargo-leptos --version 0.3.10 --locked --debug
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q '0.2.130'; then
  # Must match the wasm-bindgen version pinned in Cargo.toml; cargo-leptos would
  # otherwise try to download it, and this machine cannot.
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi

if [ "$need_fuzz" = 1 ]; then
  # The fuzzers (fuzz/) build with nightly's sanitizers through cargo-fuzz.
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked
fi

if [ "$need_chromium" = 1 ]; then
  # Chromium for the browser specs; the fonts draw the stickers' Japanese, Kannada and Thai
  # characters, and the reactions' emoji, in the screenshots instead of empty boxes.
  missing=""
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  dpkg -s fonts-ipafont-gothic >/dev/null 2>&1 || missing="$missing fonts-ipafont-gothic"
  dpkg -s fonts-noto-core >/dev/null 2>&1 || missing="$missing fonts-noto-core"
  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing="$missing fonts-noto-color-emoji"
  if [ -n "$missing" ]; then
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
  fi
fi

# The multi-instance tests (tests/api/instances.rs) run a redis-server of their own, which they
# stop and restart; the machine's Redis service comes from the same Debian package.
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi
