#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a fault-injected simulation sweep of
# every scenario. Usage: scripts/sweep.sh [SEEDS] (default 1000). Extra arguments go to the sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
seeds="${1:-1000}"
shift || true
exec build/kiln sim sweep --scenario all --seeds "$seeds" --junit build/sweep-junit.xml "$@"
