#!/usr/bin/env bash
# Runs the README's five-minute tour exactly as written (the shell blocks
# between the tour markers) against a fresh innsynd, and checks what it
# printed. Usage: readme_tour_test.sh BUILD_DIR README
set -euo pipefail
build_dir=$1
readme=$2
work=$(mktemp -d)
trap 'kill "$daemon" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

"$build_dir/daemon/innsynd" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --port-file ports 2>daemon.log &
daemon=$!
for _ in $(seq 100); do [ -s ports ] && break; sleep 0.1; done
export INNSYN_SERVER="127.0.0.1:$(head -n1 ports)"
export PATH="$build_dir/daemon:$build_dir/ctl:$PATH"

sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$readme" \
  | awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0; next} inside' > tour.sh
[ -s tour.sh ] || { echo "FAIL: no tour found in $readme"; exit 1; }
bash -euo pipefail tour.sh > tour.out 2>&1 || { cat tour.out; echo "FAIL: the tour failed"; exit 1; }
cat tour.out

expect() {
  grep -qF -- "$1" tour.out || { echo "FAIL: the tour did not print: $1"; exit 1; }
}
expect "3 accesses; this query was recorded as seq"
expect "Kari Hansen (dentist, dr-hansen)"
expect "Ola Nordmann (receptionist, resepsjon-1)"
expect "entry 0 is included in the signed tree of size"
expect "is a prefix of the signed tree of size"
expect "OK: "
if grep -q "warning: verifier key not pinned" tour.out; then
  echo "FAIL: the tour should pin the verifier key"; exit 1
fi
echo "README tour: 1 passed, 0 failed"
