#!/usr/bin/env bash
# What sealing costs: scripts/bench-switch.sh seal.
# Usage: [WINDOW=N] scripts/bench-sealing.sh [EVENTS] [ROUNDS]   (default 300000 3)
exec "$(dirname "$0")/bench-switch.sh" seal "$@"
