#!/usr/bin/env bash
# Detection before and after a change, side by side in one run: the
# detection report (scripts/detection-report.sh) built twice, from a git
# revision BEFORE (default main) and from this tree, both with this tree's
# clinic simulation and scoring (bench/, and the attribute names of
# anomaly/event_conventions.h that the simulation sends), then run on the
# same clinics: every size in SIZES (working staff; 420 patients each) and
# seed in SEEDS, DAYS days. Prints, per clinic, false alerts per 100
# staff-days (routine alone, and unmatched alerts with incidents), recall,
# and explanation coverage of staff accesses, before and after.
# Usage: scripts/detection-before-after.sh [BEFORE]
#   SIZES="6 12 24 40" SEEDS="1 2" DAYS=45 BUILD_DIR=build by default.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:-main}
build=${BUILD_DIR:-build}
sizes=${SIZES:-6 12 24 40}
seeds=${SEEDS:-1 2}
days=${DAYS:-45}
src=$build/before-src
out=$build/bench-results/before-after
source scripts/before-tree.sh

mkdir -p "$out"
prepare_before_tree "$before" "$src" anomaly/event_conventions.h
cmake -S "$src" -B "$build/before" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS=-DINNSYN_DETECTION_BEFORE -DINNSYN_BENCH_DETECTION_ONLY=ON \
  "${launcher[@]}" >/dev/null
cmake --build "$build/before" -j2 --target innsyn-detection-report >/dev/null
cmake --build "$build" -j2 --target innsyn-detection-report >/dev/null

printf '%-5s %-4s %-8s | %-28s | %-28s\n' staff seed staff-days \
  "before: routine/incid./recall/cov" "after: routine/incid./recall/cov"
for staff in $sizes; do
  for seed in $seeds; do
    row=()
    for side in before after; do
      dir=$build/before
      [ "$side" = after ] && dir=$build
      json=$out/$side-$staff-$seed.json
      "$dir/bench/innsyn-detection-report" --staff "$staff" --patients $((staff * 420)) \
        --days "$days" --seed "$seed" --json "$json" > "$out/$side-$staff-$seed.txt" || true
      row+=("$(printf '%5.2f %5.2f %5.3f %5.3f' \
        "$(field "$json" routine_alerts_per_100_staff_days)" \
        "$(field "$json" false_alerts_per_100_staff_days)" "$(field "$json" recall)" \
        "$(field "$json" explanation_coverage)")")
    done
    printf '%-5s %-4s %-8s | %-28s | %-28s\n' "$staff" "$seed" \
      "$(field "$json" staff_days)" "${row[0]}" "${row[1]}"
  done
done
echo "reports: $out/{before,after}-STAFF-SEED.{txt,json}"
