#!/usr/bin/env bash
# Detection quality of innsyn's anomaly detectors on a simulated clinic
# (12 staff, 5,000 patients, 90 days from Monday 2026-01-05, across the
# change to summer time and Easter) with labelled incidents of every rule:
# recall and precision per rule, false alerts per 100 staff-days, and the
# time detection takes. Exits non-zero when the targets are missed (recall
# at least 0.95, at most 1 false alert per 100 staff-days).
# Usage: scripts/detection-report.sh [innsyn-detection-report flags]
#   for example --seed 3 --days 180; BUILD_DIR (default build) picks the build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out=${BENCH_OUT:-$build/bench-results}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target innsyn-detection-report
mkdir -p "$out"
"$build/bench/innsyn-detection-report" --json "$out/detection.json" \
  --roster-out "$out/detection-roster.toml" "$@"
