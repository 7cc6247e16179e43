#!/usr/bin/env bash
# Checks the configured innsynd.service as systemd itself reads it:
# `systemd-analyze verify` reports nothing, and `systemd-analyze security`
# rates its exposure at most 1.5 (--threshold fails the command above it).
# The unit's ExecStart is pointed at the built innsynd, since verify checks
# that the program exists. Also shows the threshold can fail: a unit without
# the sandbox is rejected.
# Then sysusers.d creates the innsyn user and tmpfiles.d its folders, in a
# scratch root.
# Usage: unit_test.sh CONFIGURED_UNIT INNSYND SYSUSERS_CONF TMPFILES_CONF
set -euo pipefail
unit=$1
innsynd=$2
sysusers=$(realpath "$3")
tmpfiles=$(realpath "$4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s|^ExecStart=[^ ]*innsynd |ExecStart=$innsynd |" "$unit" > "$work/innsynd.service"
grep -q "^ExecStart=$innsynd " "$work/innsynd.service"

verify_output=$(systemd-analyze verify "$work/innsynd.service" 2>&1) || {
  echo "systemd-analyze verify failed:"; echo "$verify_output"; exit 1; }
if [ -n "$verify_output" ]; then
  echo "systemd-analyze verify is not clean:"; echo "$verify_output"; exit 1
fi

security=$(systemd-analyze security --offline=true --threshold=15 "$work/innsynd.service" 2>&1) || {
  echo "$security" | grep -v '^✓'; echo "exposure above 1.5"; exit 1; }
echo "$security" | tail -1

# The same check on an unhardened unit must fail.
grep -v -E '^(Protect|Private|Restrict|SystemCall|Capability|NoNew|Memory|Lock|Remove|Keyring|Device|ProcSubset|UMask|AmbientCap)' \
  "$work/innsynd.service" > "$work/plain.service"
if systemd-analyze security --offline=true --threshold=15 "$work/plain.service" >/dev/null 2>&1; then
  echo "the threshold did not reject an unhardened unit"; exit 1
fi
mkdir -p "$work/root/etc"
touch "$work/root/etc/passwd" "$work/root/etc/group"
systemd-sysusers --root="$work/root" "$sysusers" 2>/dev/null
grep -q '^innsyn:' "$work/root/etc/passwd"
systemd-tmpfiles --create --root="$work/root" "$tmpfiles"
for folder in var/lib/innsyn var/backups/innsyn; do
  mode=$(stat -c %a "$work/root/$folder")
  [ "$mode" = 700 ] || { echo "$folder has mode $mode, not 700"; exit 1; }
done
echo "OK"
