// The determinism check: run one seed twice and compare the traces event by event, so a mismatch
// names the first step where the runs diverge and what each did there (not just "hashes differ").
#pragma once

#include <cstdint>
#include <string>

#include "engine/runtime/result.h"
#include "sim/runner.h"

namespace kiln::sim {

struct DeterminismReport {
  bool deterministic = true;
  uint64_t events = 0;  // Events compared.
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  // On a mismatch: where, and each run's event there ("(none)" past the end of a run).
  uint64_t divergence_event = 0;
  uint64_t divergence_step = 0;
  std::string first_run;
  std::string second_run;
};

// Usage errors as RunScenario's. `options.keep_trace_events` is set by this function.
Result<DeterminismReport> CheckDeterminism(RunOptions options);

}  // namespace kiln::sim
