#!/usr/bin/env bash
# `innsynctl forward --once` of a LINES-row CSV export (the journal-system
# mapping of the README, local times in Europe/Oslo, derived event ids)
# into a freshly started innsynd (detection off, plaintext on loopback),
# ROUNDS times, each into a new data folder; prints each run's rate, as
# forward's own summary line gives it, and the median.
# Usage: scripts/bench-forward.sh [LINES] [ROUNDS]   (default 1000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
rounds=${2:-3}
work=$(mktemp -d)
daemon=
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/opus.toml" <<'TOML'
format = "csv"
time_zone = "Europe/Oslo"
time_formats = ["%d.%m.%Y %H:%M:%S"]
[csv]
delimiter = ";"
[columns]
occurred-at = "Tidspunkt"
actor-id = "Bruker"
actor-role = "Rolle"
subject-id = "Fnr"
action = "Handling"
subtype = "Handling"
object-id = "Dokument"
[constants]
source = "opus-dental/klinikk-1"
subject-kind = "patient"
object-type = "journal_note"
purpose = "treatment"
[values.action]
"Les" = "read"
"Endre" = "update"
[values.subtype]
"Les" = "view"
"Endre" = "update"
TOML
# 40 clinicians, 20,000 patients, one row every 10 s from 1 Jan 2025 (UTC+1).
python3 - "$lines" > "$work/audit.csv" <<'PY'
import sys, time
n = int(sys.argv[1])
out = ["Tidspunkt;Bruker;Rolle;Fnr;Handling;Dokument\n"]
for i in range(n):
    t = time.gmtime(1735689600 + 3600 + i * 10)
    out.append("%s;dr-%d;tannlege;%011d;%s;note-%d\n" % (time.strftime("%d.%m.%Y %H:%M:%S", t),
               i % 40, 10000000000 + (i * 7919) % 20000, "Les" if i % 5 else "Endre", i))
sys.stdout.write("".join(out))
PY
echo "$(wc -l < "$work/audit.csv") lines, $(du -h "$work/audit.csv" | cut -f1) in $work/audit.csv"

: > "$work/rates"
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/data" "$work/ports"
  build/daemon/innsynd --data-dir "$work/data" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
    --port-file "$work/ports" --detection false 2> "$work/innsynd.log" &
  daemon=$!
  for _ in $(seq 1 300); do [ -s "$work/ports" ] && break; sleep 0.1; done
  port=$(awk '{ print $1; exit }' "$work/ports")
  summary=$(build/ctl/innsynctl --server "127.0.0.1:$port" forward --once --batch 1000 \
    --mapping "$work/opus.toml" "$work/audit.csv" 2>&1 | tail -1)
  echo "round $round: $summary"
  echo "$summary" | sed -n 's/.*(\([0-9]*\) events\/s).*/\1/p' >> "$work/rates"
  kill "$daemon"; wait "$daemon" || true; daemon=
done
sort -n "$work/rates" | awk -v n="$rounds" '{ v[NR] = $1 } END {
  printf "median of %d runs: %d events/s\n", n, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
