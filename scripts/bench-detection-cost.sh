#!/usr/bin/env bash
# What the anomaly detectors cost ingest: the simulated clinic's events
# (bench/clinic_sim.h, in time order, with its roster and networks) streamed
# into innsynd with detection off and on, alternately, ROUNDS times each;
# prints every run and the medians.
# Usage: scripts/bench-detection-cost.sh [EVENTS] [ROUNDS]   (default 200000 5)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-200000}
rounds=${2:-5}
out=${BENCH_OUT:-build/bench-results}
mkdir -p "$out"
bench=build/bench/innsyn-bench

rate() { sed -n 's/.*"events_per_second": \([0-9]*\).*/\1/p' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$out/detection-off.rates"
: > "$out/detection-on.rates"
for round in $(seq 1 "$rounds"); do
  for detection in false true; do
    name=detection-$([ "$detection" = true ] && echo on || echo off)
    "$bench" --mode stream --batch 1000 --clients 2 --traffic clinic --events "$events" \
      --detection "$detection" --json "$out/$name-$round.json" 2>/dev/null \
      | grep -E 'throughput|innsynd (CPU|stop)' | sed "s/^/  $name round $round:/"
    rate "$out/$name-$round.json" >> "$out/$name.rates"
  done
done
off=$(median < "$out/detection-off.rates")
on=$(median < "$out/detection-on.rates")
awk -v off="$off" -v on="$on" -v n="$rounds" 'BEGIN {
  printf "median of %d runs: detection off %d events/s, on %d events/s (on/off = %.2f)\n",
         n, off, on, on / off }'
