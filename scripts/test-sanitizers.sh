#!/usr/bin/env bash
# Builds everything with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (and libFuzzer's coverage, so that the same
# build also gives the fuzz targets) in build-sanitize/, and runs the whole
# test suite there: any sanitizer report fails the test that caused it.
# With DATE, the suite runs as if it were DATE (as scripts/test-at.sh).
# -O1 and line tables only, as the sanitizers' documentation advises: the
# reports keep their file and line, and the build takes less time.
# Usage: scripts/test-sanitizers.sh [DATE]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++ -DINNSYN_FUZZ=ON >/dev/null
cmake --build build-sanitize -j"$(nproc)"
cmake --build build-sanitize -j"$(nproc)" --target fuzzers
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
# Fontconfig's process-wide cache (the report's fonts) is never freed by design.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $# -gt 0 ]; then
  source scripts/fake-date.sh
  fake_date "$1"
fi
cd build-sanitize
ctest --output-on-failure -j2 --timeout 900
