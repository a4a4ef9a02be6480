#!/usr/bin/env bash
# S8 (docs/BENCHMARKS.md): a room page in Chromium, cold and warm, unthrottled and under
# Fast 3G, beside a static copy of the same page (bench/s8.mjs). Needs the release build,
# precompressed (`parlor precompress`), and end2end's npm packages.
#
#   bench/s8.sh [RUNS]
set -euo pipefail
source "$(dirname "$0")/room.sh"
node "$(dirname "$0")/s8.mjs" "$base" "$cookie" "$room" "${1:-5}"
