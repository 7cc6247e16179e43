#!/usr/bin/env bash
# Runs the README's security commands exactly as written (the shell blocks
# between the security-tour markers) in a fresh folder, and checks what
# they printed and what they left behind. Usage:
# readme_security_test.sh BUILD_DIR README
set -euo pipefail
build_dir=$1
readme=$2
work=$(mktemp -d)
cleanup() {
  [ -s "$work/innsynd.pid" ] && kill "$(cat "$work/innsynd.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export PATH="$build_dir/daemon:$build_dir/ctl:$PATH"
unset INNSYN_SERVER INNSYN_TLS_CA INNSYN_TLS_CERT INNSYN_TLS_KEY

sed -n '/<!-- security-tour:begin -->/,/<!-- security-tour:end -->/p' "$readme" \
  | awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0; next} inside' > tour.sh
[ -s tour.sh ] || { echo "FAIL: no security tour found in $readme"; exit 1; }
# Remember innsynd's pid, so that a tour that fails halfway leaves nothing running.
sed -i 's/^innsynd --config \(.*\) &$/&\necho $! > innsynd.pid/' tour.sh
bash -euo pipefail tour.sh > tour.out 2>&1 || { cat tour.out; echo "FAIL: the tour failed"; exit 1; }
cat tour.out

expect() {
  grep -qF -- "$1" tour.out || { echo "FAIL: the tour did not print: $1"; exit 1; }
}
expect "ca.pem, ca.key: the CA"
expect "portal.pem, portal.key: client portal with role portal"
expect "1 access; this query was recorded as seq"
expect "Kari Hansen (dentist, dr-hansen)"
expect "leaf hashes give the root and chain head of the signed checkpoint"
expect "PERMISSION_DENIED: role auditor may not call ListSubjectAccess"
expect "refused, and recorded as a denied access"
expect "revoked billing"
# The portal's answer (JSON) names who read the journal but not where from.
portal=$(grep -F '"display_name":"Kari Hansen"' tour.out) || { echo "FAIL: no portal answer"; exit 1; }
case "$portal" in
  *surgery-2*) echo "FAIL: the portal was shown the workstation: $portal"; exit 1 ;;
esac
for file in pki/*; do
  [ "$(stat -c %a "$file")" = 600 ] || { echo "FAIL: $file is not mode 0600"; exit 1; }
done
[ -s innsyn-data-tls/checkpoint_key.pub ] || { echo "FAIL: no data folder"; exit 1; }
echo "README security: 1 passed, 0 failed"
