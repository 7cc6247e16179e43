#!/usr/bin/env bash
# Ingest figures for innsynd, side by side in one run: each mode with the
# anomaly detectors on and off, on realistic traffic (innsyn-bench's
# default: one simulated clinic per client, every source numbering its
# events without gaps, so detection raises the incidents the traffic holds
# and few others), and RocksDB's own db_bench on the same disk: fillseq
# (sync on, same batch size, a value the size of an innsyn entry), the
# ceiling for durable batched writes, and fillrandom with 64 threads each
# writing single values with sync on, the ceiling for 64 clients that each
# wait for their own durable write. Last, the PostgreSQL baseline
# (scripts/bench-postgres.sh): the same number of events in durable
# transactions of 100, from 2 clients.
# Usage: scripts/bench-ingest.sh [EVENTS]   (default 500000)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-500000}
batch=1000
value_size=480  # bytes: the mean sealed entry of the clinic traffic (sst_dump of a 300,000-event run, 2026-12-07)
out=${BENCH_OUT:-build/bench-results}
mkdir -p "$out"
bench=build/bench/innsyn-bench

run() {
  local name=$1
  shift
  echo "== $name"
  "$bench" "$@" --json "$out/$name.json" 2>/dev/null \
    | grep -E 'throughput|ack latency|innsynd CPU|alerts raised|holds|detection lag'
}
rate() { sed -n 's/.*"events_per_second": \([0-9]*\).*/\1/p' "$out/$1.json"; }

for detection in true false; do
  on=$([ "$detection" = true ] && echo on || echo off)
  run "stream-$on" --mode stream --batch "$batch" --clients 2 --events "$events" --detection "$detection"
  run "batch-$on" --mode batch --batch "$batch" --clients 4 --events "$events" --detection "$detection"
  run "unary64-$on" --mode unary --clients 64 --events $((events / 10)) --detection "$detection"
done
run storage --mode storage --batch "$batch" --clients 2 --events "$events"

echo "== db_bench fillseq (sync, batch $batch, value $value_size bytes)"
dbdir=$(mktemp -d)
db_bench --benchmarks=fillseq --sync=1 --batch_size="$batch" --value_size="$value_size" \
  --num="$events" --threads=1 --compression_type=lz4 --db="$dbdir" --disable_wal=0 2>/dev/null \
  | tr '\r' '\n' | tee "$out/db_bench.txt" | grep -E '^fillseq'
rm -rf "$dbdir"

echo "== db_bench fillrandom (sync, 64 threads, one $value_size-byte value per write)"
dbdir=$(mktemp -d)
db_bench --benchmarks=fillrandom --sync=1 --batch_size=1 --value_size="$value_size" \
  --num=$((events / 640)) --threads=64 --compression_type=lz4 --db="$dbdir" --histogram=1 \
  2>/dev/null | tr '\r' '\n' | tee "$out/db_bench_unary.txt" | grep -E '^fillrandom|^Percentiles'
rm -rf "$dbdir"

echo "== PostgreSQL, transactions of 100 events (scripts/bench-postgres.sh)"
ENTRY_BYTES=$value_size scripts/bench-postgres.sh "$events" 2 100 --json "$out/postgres.json"

ops_per_second() {
  awk -v b="$1" '$1 == b {for (i = 1; i <= NF; i++) if ($i ~ /^ops\/sec;?$/) print $(i - 1)}' "$2"
}
db_rate=$(ops_per_second fillseq "$out/db_bench.txt")
db_unary_rate=$(ops_per_second fillrandom "$out/db_bench_unary.txt")
echo "== summary (events/s; share of the db_bench ceiling)"
for name in stream-on stream-off batch-on batch-off storage; do
  awk -v n="$name" -v r="$(rate "$name")" -v d="$db_rate" \
    'BEGIN { printf "%-11s %8d = %.2f of db_bench fillseq (%d ops/s)\n", n, r, r / d, d }'
done
for name in stream-on stream-off batch-on batch-off storage; do
  awk -v n="$name" -v r="$(rate "$name")" -v p="$(rate postgres)" \
    'BEGIN { printf "%-11s %8d = %.1f times PostgreSQL in transactions of 100 (%d events/s)\n", n, r, r / p, p }'
done
for name in unary64-on unary64-off; do
  awk -v n="$name" -v r="$(rate "$name")" -v d="$db_unary_rate" \
    'BEGIN { printf "%-11s %8d = %.2f of db_bench fillrandom, 64 sync threads (%d ops/s)\n", n, r, r / d, d }'
done
