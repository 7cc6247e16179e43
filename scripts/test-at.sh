#!/usr/bin/env bash
# Runs the test suite (in build/) as if it were DATE: innsynd, innsynctl and
# the test programs all read innsyn's clock (base/clock.h), which
# INNSYN_TEST_CLOCK_OFFSET_SECONDS shifts by the same amount for all of
# them. CI runs the suite on a Sunday night in winter and across both
# changes of summer time, so that no test depends on the day or the hour.
# Usage: scripts/test-at.sh DATE [ctest arguments]
#   DATE as date(1) reads it, for example 2027-01-03T23:30:00+01:00
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fake-date.sh
at=$1
shift
fake_date "$at"
cd build
ctest --output-on-failure -j2 --timeout 600 "$@"
