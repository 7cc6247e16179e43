#!/usr/bin/env bash
# Sustained ingest before and after a change, side by side in one run: the
# storage layer alone (innsyn-bench --mode storage, the simulated clinic's
# traffic, batches of 1,000, 4 clients, detection off) over EVENTS events,
# with innsyn-bench built from a git revision BEFORE (default main, with
# this tree's bench/) and from this tree, alternating ROUNDS times, so that
# the machine's noise falls on both alike. Prints each run's rate, its first
# and last tenth (a rate that falls as the ledger grows shows there), and
# its ack p99, then the medians. BENCH_FLAGS replaces the flags after
# --events (default "--clients 4 --detection false"), for example
# BENCH_FLAGS="--clients 2 --histories false"; BEFORE_BUILD names the
# before side's build folder (default build/sustained-before; its source
# goes beside it, in BEFORE_BUILD-src).
# Usage: scripts/bench-sustained.sh [BEFORE] [EVENTS] [ROUNDS]   (default main 3000000 2)
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:-main}
events=${2:-3000000}
rounds=${3:-2}
build=${BUILD_DIR:-build}
before_build=${BEFORE_BUILD:-$build/sustained-before}
src=$before_build-src
flags=${BENCH_FLAGS:---clients 4 --detection false}
out=$build/bench-results/sustained
source scripts/before-tree.sh

mkdir -p "$out"
prepare_before_tree "$before" "$src"
cmake -S "$src" -B "$before_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$before_build" -j2 --target innsyn-bench >/dev/null
cmake --build "$build" -j2 --target innsyn-bench >/dev/null

tenth() {
  python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['tenths_events_per_second'][int(sys.argv[2])]))" "$@"
}
p99() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['ack_ms']['p99']))" "$@"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$before_build
    [ "$side" = after ] && dir=$build
    json=$out/$side-$round.json
    # shellcheck disable=SC2086  # the flags are words
    "$dir/bench/innsyn-bench" --mode storage --batch 1000 --events "$events" $flags \
      --json "$json" > "$out/$side-$round.txt" 2>&1
    echo "round $round $side: $(field "$json" events_per_second) events/s," \
      "first tenth $(tenth "$json" 0), last tenth $(tenth "$json" 9)," \
      "ack p99 $(p99 "$json") ms"
  done
done
for side in before after; do
  rate=$(for r in $(seq 1 "$rounds"); do field "$out/$side-$r.json" events_per_second; done | median)
  last=$(for r in $(seq 1 "$rounds"); do tenth "$out/$side-$r.json" 9; done | median)
  echo "median $side: $rate events/s, last tenth $last events/s"
done
echo "runs: $out/{before,after}-ROUND.{txt,json}"
