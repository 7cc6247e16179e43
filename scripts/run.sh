#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running innsynd: installs
# what is missing, builds, and starts the daemon in the foreground on its
# local defaults (gRPC on 127.0.0.1:50051, metrics on 127.0.0.1:9464, data
# in ./innsyn-data). Extra arguments go to innsynd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/daemon/innsynd "$@"
