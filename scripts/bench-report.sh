#!/usr/bin/env bash
# Times the innsyn report of a patient with many accesses, end to end: a
# fresh innsynd (detection on, so every access is explained), N journal
# reads of one patient by 12 clinicians over a year, then `innsynctl report`
# as PDF (its answer attached), PDF encrypted with --encrypt, FHIR and JSON,
# each ROUNDS times; prints the seconds and bytes of each run (for FHIR,
# the bundle's answer file beside it too) and the PDF's pages. Usage: scripts/bench-report.sh [N=2000] [ROUNDS=3] [BUILD_DIR]
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
openssl rand -base64 15 > "$work/password"
for kind in pdf pdf-encrypted fhir json; do
  format="${kind%-encrypted}"
  flags=()
  [ "$kind" = pdf-encrypted ] && flags=(--encrypt --password-file "$work/password")
  for round in $(seq "$rounds"); do
    start=$(date +%s.%N)
    "$ctl" --timeout 120 --reason bench report --subject 01017012345 --format "$format" \
      "${flags[@]}" --out "$work/report-$kind.$format" > /dev/null
    end=$(date +%s.%N)
    sizes="$(stat -c %s "$work/report-$kind.$format")"
    [ -e "$work/report-$kind.answer.json" ] && sizes="$sizes + $(stat -c %s "$work/report-$kind.answer.json")"
    echo "$kind round $round: $(echo "$end - $start" | bc) s, $sizes bytes"
  done
done
pdfinfo "$work/report-pdf.pdf" | grep Pages
"$ctl" verify-report "$work/report-pdf.pdf" --key-file "$work/data/checkpoint_key.pub" | head -4
