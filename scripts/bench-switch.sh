#!/usr/bin/env bash
# What one of the storage layer's duties costs: innsyn-bench --mode storage
# (the clinic traffic, batches of 1,000, 2 clients) with the duty on (as
# innsynd always runs) and off, side by side and alternating, ROUNDS times
# each, so that the machine's noise falls on both alike. Prints each run
# with its CPU time, the medians, and the median of what the duty cost in
# each round (1 - on/off). Each client waits for the ack of its
# batch before it sends the next, unless WINDOW (batches in flight per
# client, as innsynd's AppendStream keeps them) is set.
# Usage: [WINDOW=N] scripts/bench-switch.sh seal|histories [EVENTS] [ROUNDS]   (default 300000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
switch=${1:?usage: $0 seal|histories [EVENTS] [ROUNDS]}
events=${2:-300000}
rounds=${3:-3}
window=${WINDOW:-1}
out=${BENCH_OUT:-build/bench-results}
mkdir -p "$out"
bench=build/bench/innsyn-bench
rate() { sed -n 's/.*"events_per_second": \([0-9]*\).*/\1/p' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq 1 "$rounds"); do
  for on in true false; do
    json="$out/$switch-$on-$round.json"
    /usr/bin/time -f "%U %S" -o "$out/$switch-$on-$round.time" \
      "$bench" --mode storage --batch 1000 --clients 2 --events "$events" --"$switch" "$on" \
      --window "$window" \
      --json "$json" >/dev/null 2>&1
    cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$out/$switch-$on-$round.time")
    keys=$(sed -n 's/.*"data_keys": \([0-9]*\).*/\1/p' "$json")
    made=""
    [ "${keys:-0}" != 0 ] && made=", $keys data keys made"
    echo "round $round $switch=$on window=$window: $(rate "$json") events/s, ${cpu} s CPU$made"
  done
done
for on in true false; do
  rates=$(for r in $(seq 1 "$rounds"); do rate "$out/$switch-$on-$r.json"; done | median)
  cpus=$(for r in $(seq 1 "$rounds"); do awk '{ print $1 + $2 }' "$out/$switch-$on-$r.time"; done | median)
  echo "median $switch=$on: $rates events/s, $cpus s CPU"
done
# Each round's on and off ran back to back, so their ratio is less moved by
# the machine's load than either rate alone: the median of the ratios.
cost=$(for r in $(seq 1 "$rounds"); do
  awk -v on="$(rate "$out/$switch-true-$r.json")" -v off="$(rate "$out/$switch-false-$r.json")" \
    'BEGIN { printf "%.1f\n", 100 * (1 - on / off) }'
done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median of the rounds' costs ($switch on against off): $cost %"
