#!/usr/bin/env bash
# `cmake --install` into a scratch DESTDIR puts every file where a Debian
# system looks for it, and the installed unit runs the installed innsynd.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR="$root" cmake --install "$build" --prefix /usr/local >/dev/null
for file in \
    usr/local/bin/innsynd usr/local/bin/innsynctl \
    usr/local/lib/systemd/system/innsynd.service \
    usr/local/lib/systemd/system/innsyn-forward@.service \
    usr/local/lib/sysusers.d/innsyn.conf usr/local/lib/tmpfiles.d/innsyn.conf \
    etc/innsyn/innsynd.toml \
    usr/local/share/innsyn/grafana/innsyn-dashboard.json \
    usr/local/share/innsyn/prometheus/innsyn-alerts.yml \
    usr/local/share/doc/innsyn/README.md; do
  [ -f "$root/$file" ] || { echo "missing: /$file"; exit 1; }
done
[ -x "$root/usr/local/bin/innsynd" ] || { echo "innsynd is not executable"; exit 1; }
grep -q '^ExecStart=/usr/local/bin/innsynd --config /etc/innsyn/innsynd.toml$' \
  "$root/usr/local/lib/systemd/system/innsynd.service"
# An existing configuration is left alone.
echo 'origin = "kept.example/innsyn"' > "$root/etc/innsyn/innsynd.toml"
DESTDIR="$root" cmake --install "$build" --prefix /usr/local >/dev/null
grep -q kept.example "$root/etc/innsyn/innsynd.toml" || { echo "innsynd.toml was overwritten"; exit 1; }
echo OK
