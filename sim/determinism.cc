#include "sim/determinism.h"

#include <algorithm>

namespace kiln::sim {
namespace {

bool SameEvent(const simclock::TraceEvent& a, const simclock::TraceEvent& b) {
  return a.step == b.step && a.time_us == b.time_us && a.kind == b.kind && a.a == b.a &&
         a.b == b.b && a.text == b.text;
}

}  // namespace

Result<DeterminismReport> CheckDeterminism(RunOptions options) {
  options.keep_trace_events = true;
  auto first = RunScenario(options);
  if (!first.ok()) return first.status();
  auto second = RunScenario(options);
  if (!second.ok()) return second.status();
  const auto& ea = first->events;
  const auto& eb = second->events;
  DeterminismReport d;
  d.steps = first->steps;
  d.trace_hash = first->trace_hash;
  const size_t n = std::min(ea.size(), eb.size());
  size_t i = 0;
  while (i < n && SameEvent(ea[i], eb[i])) ++i;
  d.events = i;
  if (i == ea.size() && i == eb.size()) {
    // Same events, so the hashes agree too; a mismatch would mean the hash misses a field.
    if (first->trace_hash == second->trace_hash) return d;
  }
  d.deterministic = false;
  d.divergence_event = i;
  d.divergence_step = i < ea.size() ? ea[i].step : (i < eb.size() ? eb[i].step : 0);
  d.first_run = i < ea.size() ? ea[i].ToString() : "(none: the run ended)";
  d.second_run = i < eb.size() ? eb[i].ToString() : "(none: the run ended)";
  return d;
}

}  // namespace kiln::sim
