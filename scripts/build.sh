#!/usr/bin/env bash
# Configures and builds innsyn in build/ (warnings are errors when CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINNSYN_WERROR="$werror" >/dev/null
cmake --build build -j"$(nproc)"
