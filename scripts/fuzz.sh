#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time (default 60 s each; CI uses
# less), starting from its corpus in tests/fuzz/corpus/. Needs the build of
# scripts/test-sanitizers.sh (build-sanitize/). A crash stops the run with
# the input saved in build-sanitize/fuzz-artifacts/: add that file to the
# target's corpus folder as a regression (the Fuzz.*_corpus tests replay
# every file there), fix the bug, and run again.
# Usage: scripts/fuzz.sh [SECONDS_EACH] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(event_validation json_ingest proof_verification checkpoint_parsing http_json
           fhir_audit_event history_proof)
fi
build=build-sanitize
if [ ! -x "$build/tests/${targets[0]}_fuzzer" ]; then
  echo "fuzz: build the targets first: scripts/test-sanitizers.sh" >&2
  exit 2
fi
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
for target in "${targets[@]}"; do
  # New inputs go to a scratch corpus; the seeds in the repository stay as
  # they are.
  work=$(mktemp -d)
  echo "== $target, ${seconds} s"
  if "$build/tests/${target}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/${target}-" \
    "$work" "tests/fuzz/corpus/$target" 2>"$artifacts/$target.log"; then
    grep -E '^stat::number_of_executed_units' "$artifacts/$target.log" || true
    passed=$((passed + 1))
  else
    tail -n 40 "$artifacts/$target.log"
    echo "fuzz: $target FAILED; the input is in $artifacts/"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
