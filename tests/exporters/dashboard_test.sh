#!/usr/bin/env bash
# Checks the Grafana dashboard: valid JSON, unique panel ids, and every
# PromQL expression parses (promtool checks each as a recording rule, with
# Grafana's variables replaced by values).
# Usage: dashboard_test.sh PROMTOOL DASHBOARD_JSON
set -euo pipefail
promtool=$1
dashboard=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$dashboard" "$work/rules.yml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
panels = [p for p in d["panels"] if p["type"] != "row"]
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "panel ids repeat"
exprs = [t["expr"] for p in panels for t in p["targets"]]
assert len(exprs) >= 10, "too few queries"
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$instance", ".*")
        out.write(f"      - record: dashboard:query{i}\n        expr: {json.dumps(e)}\n")
print(f"{len(panels)} panels, {len(exprs)} queries")
PY
"$promtool" check rules "$work/rules.yml"
