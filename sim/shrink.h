// Shrinking: turn a failing run into a smaller one that fails the same property. In order:
// fewer client operations (the scenario's "ops" knob, halved while it still fails, then
// bisected), fewer clients (the "clients" knob), then fewer fault events: delta debugging
// (ddmin) over the numbered fault candidates of Trace::admit_fault, replayed with --only-faults.
// The result is one command that reproduces the minimal failure.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/runtime/result.h"
#include "sim/runner.h"

namespace kiln::sim {

struct ShrinkReport {
  RunReport original;  // The failing run as given.
  RunReport minimal;   // The smallest failing run found (same property).
  uint64_t runs = 0;   // Simulation runs the search took.
};

struct ShrinkOptions {
  uint64_t runs_max = 3000;  // The search stops here and reports the smallest failure so far.
  // Called with a line of progress ("ops 400 -> 200: still fails"); may be empty.
  std::function<void(const std::string&)> progress;
};

// InvalidArgument if the run does not fail (nothing to shrink); usage errors as RunScenario's.
Result<ShrinkReport> Shrink(const RunOptions& options, const ShrinkOptions& shrink = {});

}  // namespace kiln::sim
