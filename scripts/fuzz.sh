#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS each (default 30), on nightly.
# A crash stops the run and leaves its input under fuzz/artifacts/TARGET/; turn it into a
# regression test beside the rule it broke (docs/SECURITY.md, "Fuzzing"). A target's
# hand-written seeds, if any, are in fuzz/seeds/TARGET/ (kept; fuzz/corpus/ is not), and its
# libFuzzer dictionary in fuzz/dicts/TARGET.dict.
#   bash scripts/fuzz.sh 600     # longer, by hand
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-30}"
for target in $(cargo +nightly fuzz list); do
  printf '\n--> %s for %s s\n' "$target" "$seconds"
  corpus=("$PWD/corpus/$target")
  mkdir -p "${corpus[0]}"
  if [ -d "seeds/$target" ]; then corpus+=("$PWD/seeds/$target"); fi
  # A deadline per input: one that takes longer than this is a failure (a stall or a spin).
  options=(-max_total_time="$seconds" -timeout=10)
  if [ -f "dicts/$target.dict" ]; then options+=(-dict="$PWD/dicts/$target.dict"); fi
  set +e
  cargo +nightly fuzz run "$target" "${corpus[@]}" -- "${options[@]}" 2>&1 \
    | grep -E '^(Done|#[0-9]+ +DONE)|SUMMARY|panicked|ERROR|crash-'
  status=("${PIPESTATUS[@]}")
  set -e
  # cargo-fuzz's status decides (grep's does not): a crash fails the run.
  if [ "${status[0]}" != 0 ]; then
    echo "fuzz target $target failed; its input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
