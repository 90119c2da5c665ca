#!/usr/bin/env bash
# Configures and builds Kiln. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to build; the binary lands at BUILD_DIR/kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
# Two jobs: the machines have two cores and 24 GiB; more jobs only thrash.
ninja -C "$dir" -j "${KILN_JOBS:-2}"
