#!/usr/bin/env bash
# What sealing costs: the storage layer alone (innsyn-bench --mode storage,
# the clinic traffic, batches of 1,000, 2 clients), entries sealed under
# data keys (as innsynd always stores them) and in the clear, side by side
# and alternating, ROUNDS times each, so that the machine's noise falls on
# both alike. Prints each run and the median of each.
# Usage: scripts/bench-sealing.sh [EVENTS] [ROUNDS]   (default 300000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-300000}
rounds=${2:-3}
out=${BENCH_OUT:-build/bench-results}
mkdir -p "$out"
bench=build/bench/innsyn-bench
rate() { sed -n 's/.*"events_per_second": \([0-9]*\).*/\1/p' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq 1 "$rounds"); do
  for seal in true false; do
    json="$out/seal-$seal-$round.json"
    "$bench" --mode storage --batch 1000 --clients 2 --events "$events" --seal "$seal" \
      --json "$json" >/dev/null 2>&1
    echo "round $round seal=$seal: $(rate "$json") events/s"
  done
done
for seal in true false; do
  echo "median seal=$seal: $(for r in $(seq 1 "$rounds"); do rate "$out/seal-$seal-$r.json"; done | median) events/s"
done
