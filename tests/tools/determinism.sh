#!/usr/bin/env bash
# Runs `kiln sim check-determinism` on N seeds of every scenario; fails on the first divergence.
set -eu
kiln="$1"; n="$2"
for scenario in $("$kiln" sim list | awk '{print $1}'); do
  for seed in $(seq 1 "$n"); do
    "$kiln" sim check-determinism --scenario "$scenario" --seed "$seed"
  done
done
