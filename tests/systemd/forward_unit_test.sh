#!/usr/bin/env bash
# Checks the configured innsyn-forward@.service as systemd reads it, for an
# instance "opus": `systemd-analyze verify` reports nothing, the command
# line is the one the README shows, and `systemd-analyze security` rates its
# exposure at most 1.5, like innsynd's.
# Usage: forward_unit_test.sh CONFIGURED_UNIT INNSYNCTL
set -euo pipefail
unit=$1
innsynctl=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=[^ ]*/innsynctl forward --mapping /etc/innsyn/forward/%i.toml --state /var/lib/innsyn-forward/%i.state$' "$unit"
sed -e "s|^ExecStart=[^ ]*innsynctl |ExecStart=$innsynctl |" "$unit" > "$work/innsyn-forward@.service"
cp "$work/innsyn-forward@.service" "$work/innsyn-forward@opus.service"
verify_output=$(cd "$work" && systemd-analyze verify "$work/innsyn-forward@opus.service" 2>&1) || {
  echo "systemd-analyze verify failed:"; echo "$verify_output"; exit 1; }
if [ -n "$verify_output" ]; then
  echo "systemd-analyze verify is not clean:"; echo "$verify_output"; exit 1
fi
security=$(systemd-analyze security --offline=true --threshold=15 "$work/innsyn-forward@opus.service" 2>&1) || {
  echo "$security" | grep -v '^✓'; echo "exposure above 1.5"; exit 1; }
echo "$security" | tail -1
echo OK
