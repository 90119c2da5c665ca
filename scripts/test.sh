#!/usr/bin/env bash
# The test command: installs what is missing, builds, and passes every test: unit and property
# tests, a 200-seed fault-injected sweep of every scenario, the determinism check on 20 seeds;
# then the same tests (without the slow sweep) under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
ctest --test-dir build --output-on-failure -j 2
scripts/build.sh build-asan -DKILN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j 2 -LE slow
