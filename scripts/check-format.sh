#!/usr/bin/env bash
# Fails if any C++ file differs from what clang-format (.clang-format:
# Google style, 100 columns) would make of it. `clang-format -i FILE` fixes.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror
echo "check-format: $(git ls-files '*.cc' '*.h' | wc -l) files formatted"
