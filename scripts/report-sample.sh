#!/usr/bin/env bash
# Makes the sample innsyn report the README shows: starts innsynd on a fresh
# folder, sends report/sample/patient.jsonl (a dozen accesses to one patient,
# with a disclosure and an emergency access), makes the report in bokmål and
# English, checks it with verify-report, and renders the first page of each
# with pdftoppm into report/sample/. Usage: scripts/report-sample.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/innsynd.toml" <<'END'
origin = "tannlege.example.no/innsyn"
metrics_listen = ""
[report]
controller_name = "Tannlegene i Storgata AS"
organisation_number = "987 654 321"
address = "Storgata 1, 0155 Oslo"
contact = "personvern@tannlege.example.no"
data_protection_officer = "Siri Ødegaard"
END
"$build/daemon/innsynd" --config "$work/innsynd.toml" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --detection true --port-file "$work/ports" > "$work/innsynd.log" 2>&1 &
pid=$!
until [ -s "$work/ports" ]; do sleep 0.1; done
export INNSYN_SERVER="127.0.0.1:$(head -n1 "$work/ports")"
ctl="$build/ctl/innsynctl"
"$ctl" append --json < "$here/report/sample/patient.jsonl" > /dev/null
for lang in nb en; do
  "$ctl" --reason "sample for the README" report --subject 01017012345 --lang "$lang" \
    --out "$work/innsyn-$lang.pdf"
  "$ctl" verify-report "$work/innsyn-$lang.pdf" --key-file "$work/data/checkpoint_key.pub"
  pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$work/innsyn-$lang.pdf" "$here/report/sample/innsyn-$lang"
done
echo "written: report/sample/innsyn-nb.png, report/sample/innsyn-en.png"
