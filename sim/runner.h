// Runs one scenario under one seed and reports what happened: the safety phase under faults,
// the heal, the liveness phase, the final check. The report is a reproduction: it names the seed,
// the build, the full fault plan and the bugs enabled, and ends with the command that replays it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/runtime/result.h"
#include "sim/buggify.h"
#include "simclock/trace.h"

namespace kiln::sim {

struct RunLimits {
  uint64_t safety_steps_max = 3000000;    // The safety phase ends here even if not done().
  int64_t safety_sim_us_max = 600000000;  // ... or at this much virtual time.
  uint64_t liveness_steps_max = 2000000;  // After heal, settled() must hold within this.
};

struct RunOptions {
  std::string scenario;
  uint64_t seed = 0;
  std::string faults = "swarm";           // A FaultPlan spec.
  std::vector<std::string> bugs;          // Known bugs to enable (KILN_BUG names).
  bool keep_trace_events = false;         // Return every trace event in the report.
  uint64_t until_step = 0;                // Stop after this many steps (0: run to the end).
  std::string log_level = "off";          // See sim_log.h.
  std::map<std::string, int64_t> params;  // Scenario knobs (--param NAME=V).
  BuggifyMode buggify = BuggifyMode::kSwarm;
  // Shrinking: admit only these fault candidates (see Trace::admit_fault); unset admits all.
  std::optional<std::set<uint64_t>> only_faults;
  RunLimits limits;
};

struct RunReport {
  std::string scenario;
  uint64_t seed = 0;
  bool ok = true;
  std::string failure_kind;  // "" | "property" | "liveness" | "exception"
  std::string property;
  std::string message;
  uint64_t failure_step = 0;
  uint64_t trace_hash = 0;
  uint64_t steps = 0;
  uint64_t trace_events = 0;
  int64_t sim_time_us = 0;
  std::string faults;  // The explicit plan spec.
  std::map<std::string, uint64_t> fault_counts;
  std::vector<std::string> bugs;
  std::map<std::string, int64_t> params;  // Every knob the scenario read, with its value.
  BuggifyMode buggify = BuggifyMode::kSwarm;
  std::optional<std::set<uint64_t>> only_faults;
  uint64_t fault_events = 0;  // Faults admitted by the gate: what shrinking reduces.
  bool buggify_active = false;
  std::map<std::string, BuggifySite> buggify_sites;
  std::string commit;
  std::string replay_command;
  bool stopped_at_step = false;  // --until-step reached: the summary below says where.
  std::vector<std::string> state_summary;
  std::vector<simclock::TraceEvent> events;  // With keep_trace_events.
};

// The build's commit (a seed replays only on the same build).
const char* BuildCommit();

// InvalidArgument/NotFound for a usage error (unknown scenario, bad fault spec, unknown bug),
// with a message that lists what is valid. A failing run is an Ok result with report.ok false.
Result<RunReport> RunScenario(const RunOptions& options);

// "build/kiln sim run --scenario S --seed N --faults SPEC [--bug B]... [--param K=V]..."
std::string ReplayCommand(const RunReport& report);

// Parsing of the command-line spellings, with errors that list what is valid.
Result<BuggifyMode> ParseBuggifyMode(std::string_view text);  // swarm | on | off
std::string_view BuggifyModeName(BuggifyMode mode);
Result<std::pair<std::string, int64_t>> ParseParam(std::string_view text);  // NAME=INTEGER
Result<std::set<uint64_t>> ParseFaultList(std::string_view text);           // "1,4,9" or "none"
std::string FormatFaultList(const std::set<uint64_t>& faults);

}  // namespace kiln::sim
