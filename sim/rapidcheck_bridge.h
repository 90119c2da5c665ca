// The RapidCheck bridge: generate a scenario's run (seed, fault kinds, workload knobs), run it in
// the simulator, and let RapidCheck shrink a failure (fewer fault kinds, fewer operations, fewer
// clients, smaller seeds). A failure logs the `kiln sim run` command beside RapidCheck's own
// reproduction string. Header-only: only tests link RapidCheck.
//
//   RC_GTEST_PROP(MyScenario, Holds, ()) { kiln::sim::CheckGeneratedRun("my-scenario"); }
#pragma once

#include <rapidcheck.h>

#include <ostream>
#include <string>
#include <vector>

#include "sim/fault_plan.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace kiln::sim {

struct GeneratedRun {
  uint64_t seed = 0;
  std::vector<FaultKind> kinds;  // Each at its default rate.
  int64_t ops = 0;
  int64_t clients = 0;
};

// How RapidCheck prints a counterexample.
inline void showValue(const GeneratedRun& g, std::ostream& os) {
  os << "seed=" << g.seed << " faults=";
  if (g.kinds.empty()) os << "none";
  for (size_t i = 0; i < g.kinds.size(); ++i) os << (i ? "," : "") << FaultKindName(g.kinds[i]);
  os << " ops=" << g.ops << " clients=" << g.clients;
}

// REQUIRES: `scenario` is registered.
inline rc::Gen<GeneratedRun> GenRun(const std::string& scenario) {
  auto info = ScenarioRegistry::Instance().find(scenario);
  const std::vector<FaultKind> kinds = info.ok() ? (*info)->swarm_kinds : std::vector<FaultKind>{};
  return rc::gen::build<GeneratedRun>(
      rc::gen::set(&GeneratedRun::seed, rc::gen::inRange<uint64_t>(0, 1000000)),
      rc::gen::set(&GeneratedRun::kinds,
                   rc::gen::container<std::vector<FaultKind>>(rc::gen::elementOf(kinds))),
      rc::gen::set(&GeneratedRun::ops, rc::gen::inRange<int64_t>(1, 401)),
      rc::gen::set(&GeneratedRun::clients, rc::gen::inRange<int64_t>(1, 7)));
}

inline RunOptions ToRunOptions(const std::string& scenario, const GeneratedRun& g,
                               const std::vector<std::string>& bugs) {
  RunOptions o;
  o.scenario = scenario;
  o.seed = g.seed;
  std::string spec;
  for (FaultKind k : g.kinds) spec += (spec.empty() ? "" : ",") + std::string(FaultKindName(k));
  o.faults = spec.empty() ? "none" : spec;
  o.params = {{"ops", g.ops}, {"clients", g.clients}};
  o.bugs = bugs;
  return o;
}

// Generates one run of `scenario`, runs it, and asserts that every property held.
inline RunReport CheckGeneratedRun(const std::string& scenario,
                                   const std::vector<std::string>& bugs = {}) {
  const GeneratedRun g = *GenRun(scenario);
  auto r = RunScenario(ToRunOptions(scenario, g, bugs));
  RC_ASSERT(r.ok());
  RC_LOG() << "replay: " << r->replay_command << "\n";
  RC_ASSERT(r->ok);
  return *r;
}

}  // namespace kiln::sim
