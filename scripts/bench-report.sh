#!/usr/bin/env bash
# Times the innsyn report of a patient with many accesses, end to end: a
# fresh innsynd (detection on, so every access is explained), N journal
# reads of one patient by 12 clinicians over a year, then `innsynctl report`
# as PDF, FHIR and JSON, each ROUNDS times; prints the seconds of each run
# and the PDF's pages. Usage: scripts/bench-report.sh [N=2000] [ROUNDS=3] [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-2000}"
rounds="${2:-3}"
build="${3:-$here/build}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$build/daemon/innsynd" --data-dir "$work/data" --listen 127.0.0.1:0 --metrics-listen "" \
  --detection true --port-file "$work/ports" > "$work/innsynd.log" 2>&1 &
pid=$!
until [ -s "$work/ports" ]; do sleep 0.1; done
export INNSYN_SERVER="127.0.0.1:$(head -n1 "$work/ports")"
ctl="$build/ctl/innsynctl"
python3 - "$n" > "$work/events.jsonl" <<'END'
import json, sys
n = int(sys.argv[1])
start = 1735718400  # 2025-01-01T08:00:00Z
for i in range(n):
    t = start + i * (365 * 86400 // n)
    print(json.dumps({
        "event_id": f"bench-{i}", "source": {"system": "opus-dental"},
        "occurred_at": f"{__import__('datetime').datetime.utcfromtimestamp(t).isoformat()}Z",
        "actor": {"id": f"dr-{i % 12}", "display_name": f"Tannlege Ærlig {i % 12}",
                  "role": "dentist", "hpr_number": f"91448{i % 12:02d}"},
        "subject": {"id": "01017012345", "kind": "SUBJECT_KIND_PATIENT"},
        "action": "ACTION_CODE_READ", "action_subtype": "ACTION_SUBTYPE_VIEW",
        "data_object": {"type": "DATA_OBJECT_TYPE_JOURNAL_NOTE"},
        "purpose_of_use": "PURPOSE_OF_USE_TREATMENT", "outcome": "OUTCOME_SUCCESS"}))
END
"$ctl" append --json < "$work/events.jsonl" > /dev/null
for format in pdf fhir json; do
  for round in $(seq "$rounds"); do
    start=$(date +%s.%N)
    "$ctl" --timeout 120 --reason bench report --subject 01017012345 --format "$format" \
      --out "$work/report-$format.$format" > /dev/null
    end=$(date +%s.%N)
    echo "$format round $round: $(echo "$end - $start" | bc) s, $(stat -c %s "$work/report-$format.$format") bytes"
  done
done
pdfinfo "$work/report-pdf.pdf" | grep Pages
"$ctl" verify-report "$work/report-pdf.pdf" --key-file "$work/data/checkpoint_key.pub" | head -4
