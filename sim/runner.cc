#include "sim/runner.h"

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "engine/runtime/bugs.h"
#include "sim/scenario.h"
#include "sim/sim_log.h"
#include "sim/world.h"

namespace kiln::sim {

extern const char kBuildCommit[];  // Generated at build time (cmake/commit.cmake).

namespace {

// Enables the requested bugs for one run and disables them again, whatever happens.
class BugScope {
 public:
  BugScope() { BugRegistry::Instance().disable_all(); }
  ~BugScope() { BugRegistry::Instance().disable_all(); }
  Status enable(const std::vector<std::string>& names) {
    for (const auto& n : names) {
      Status s = BugRegistry::Instance().enable(n);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
};

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::vector<std::string> StateSummary(World& world, Scenario& scenario) {
  std::vector<std::string> out;
  auto& sched = world.scheduler();
  out.push_back("step " + std::to_string(sched.steps()) + ", virtual time " +
                std::to_string(ToMicros(world.clock().monotonic_now())) + "us");
  for (const auto& m : world.machines()) {
    out.push_back("machine " + m->name() + ": " + (m->up() ? "up" : "down") + ", boots " +
                  std::to_string(m->boots()) + ", disk used " +
                  std::to_string(m->disk().used_bytes()) + " bytes");
  }
  for (const auto& t : sched.live_task_names()) out.push_back("task " + t);
  for (const auto& p : sched.parked_descriptions()) out.push_back("waiting on " + p);
  const std::string pending = scenario.pending();
  if (!pending.empty()) out.push_back("pending: " + pending);
  return out;
}

void FinishReport(RunReport& r, World& world) {
  r.fault_events = world.trace().fault_candidates();
  if (r.only_faults) {
    r.fault_events = 0;
    for (uint64_t f : *r.only_faults) r.fault_events += f <= world.trace().fault_candidates();
  }
  if (const auto* b = dynamic_cast<const SimBuggify*>(CurrentBuggify())) {
    r.buggify_active = b->active();
    r.buggify_sites = b->sites();
  }
  r.trace_hash = world.trace().hash();
  r.steps = world.scheduler().steps();
  r.trace_events = world.trace().event_count();
  r.sim_time_us = ToMicros(world.clock().monotonic_now());
  r.fault_counts = world.fault_counts();
  r.replay_command = ReplayCommand(r);
}

void Fail(RunReport& r, World& world, std::string kind, std::string property, std::string message) {
  r.ok = false;
  r.failure_kind = std::move(kind);
  r.property = std::move(property);
  r.message = std::move(message);
  r.failure_step = world.scheduler().steps();
}

}  // namespace

const char* BuildCommit() {
  return kBuildCommit;
}

std::string ReplayCommand(const RunReport& r) {
  std::string cmd = "build/kiln sim run --scenario " + r.scenario + " --seed " +
                    std::to_string(r.seed) + " --faults " + r.faults;
  for (const auto& b : r.bugs) cmd += " --bug " + b;
  for (const auto& [k, v] : r.params) cmd += " --param " + k + "=" + std::to_string(v);
  if (r.buggify != BuggifyMode::kSwarm) {
    cmd += " --buggify " + std::string(BuggifyModeName(r.buggify));
  }
  if (r.only_faults) cmd += " --only-faults " + FormatFaultList(*r.only_faults);
  return cmd;
}

Result<BuggifyMode> ParseBuggifyMode(std::string_view text) {
  if (text == "swarm") return BuggifyMode::kSwarm;
  if (text == "on") return BuggifyMode::kOn;
  if (text == "off") return BuggifyMode::kOff;
  return Status::InvalidArgument("unknown --buggify mode '" + std::string(text) +
                                 "'; valid: swarm, on, off");
}

std::string_view BuggifyModeName(BuggifyMode mode) {
  switch (mode) {
    case BuggifyMode::kSwarm:
      return "swarm";
    case BuggifyMode::kOn:
      return "on";
    case BuggifyMode::kOff:
      return "off";
  }
  return "?";
}

namespace {
bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}
}  // namespace

Result<std::pair<std::string, int64_t>> ParseParam(std::string_view text) {
  const size_t eq = text.find('=');
  int64_t v = 0;
  if (eq == std::string_view::npos || eq == 0 || !ParseInt(text.substr(eq + 1), &v)) {
    return Status::InvalidArgument("--param takes NAME=INTEGER, got '" + std::string(text) + "'");
  }
  return std::make_pair(std::string(text.substr(0, eq)), v);
}

Result<std::set<uint64_t>> ParseFaultList(std::string_view text) {
  std::set<uint64_t> out;
  if (text == "none") return out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    int64_t v = 0;
    if (!ParseInt(text.substr(0, comma), &v) || v < 1) {
      return Status::InvalidArgument(
          "--only-faults takes 'none' or a comma list of fault numbers >= 1, got '" +
          std::string(text) + "'");
    }
    out.insert(static_cast<uint64_t>(v));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

std::string FormatFaultList(const std::set<uint64_t>& faults) {
  if (faults.empty()) return "none";
  std::string out;
  for (uint64_t f : faults) out += (out.empty() ? "" : ",") + std::to_string(f);
  return out;
}

Result<RunReport> RunScenario(const RunOptions& options) {
  auto info = ScenarioRegistry::Instance().find(options.scenario);
  if (!info.ok()) return info.status();
  auto plan = FaultPlan::Parse(options.faults, options.seed, (*info)->swarm_kinds);
  if (!plan.ok()) return plan.status();
  if (Status s = CheckLogLevel(options.log_level); !s.ok()) return s;
  BugScope bugs;
  if (Status s = bugs.enable(options.bugs); !s.ok()) return s;

  RunReport r;
  r.scenario = options.scenario;
  r.seed = options.seed;
  r.faults = plan->ToSpec();
  r.bugs = options.bugs;
  r.buggify = options.buggify;
  r.only_faults = options.only_faults;
  r.commit = BuildCommit();

  SimBuggify buggify(options.seed, options.buggify);
  BuggifyScope buggify_scope(&buggify);
  World world(WorldOptions{options.seed, *plan, options.keep_trace_events, options.params});
  AttachTraceLog(world.trace(), options.log_level);
  if (options.only_faults) world.trace().set_fault_mask(*options.only_faults);
  std::unique_ptr<Scenario> scenario = (*info)->make();
  auto& sched = world.scheduler();
  // Tasks reference the scenario's state: they die first, however the run ends.
  struct TasksFirst {
    simclock::SimScheduler& s;
    ~TasksFirst() { s.destroy_all_tasks(); }
  } tasks_first{sched};
  const RunLimits& lim = options.limits;
  auto stop_here = [&] { return options.until_step != 0 && sched.steps() >= options.until_step; };
  auto stopped = [&](World& w) {
    r.stopped_at_step = true;
    r.state_summary = StateSummary(w, *scenario);
    FinishReport(r, w);
    if (options.keep_trace_events) r.events = w.trace().events();
    return r;
  };

  // Safety phase: the workload under faults.
  scenario->setup(world);
  for (const auto& [name, value] : world.params_given()) {
    if (world.params_read().count(name) != 0) continue;
    std::string valid;
    for (const auto& [n, v] : world.params_read()) valid += (valid.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("scenario " + options.scenario + " has no parameter '" + name +
                                   "'; its parameters: " + (valid.empty() ? "(none)" : valid));
  }
  r.params = world.params_read();
  world.start_faults();
  sched.run_until(
      [&] {
        return scenario->done() || world.failed() || stop_here() ||
               ToMicros(world.clock().monotonic_now()) >= lim.safety_sim_us_max;
      },
      lim.safety_steps_max);
  if (stop_here() && !world.failed()) return stopped(world);

  // Heal, then liveness: every pending operation must complete within a bound.
  if (sched.failure().empty() && !world.failed()) {
    world.heal();
    scenario->heal(world);
    const uint64_t heal_step = sched.steps();
    auto result =
        sched.run_until([&] { return scenario->settled() || world.failed() || stop_here(); },
                        lim.liveness_steps_max);
    if (stop_here() && !world.failed()) return stopped(world);
    if (sched.failure().empty() && !world.failed() && !scenario->settled()) {
      std::string why = result.stalled
                            ? "stalled: nothing can run, work is pending"
                            : "not settled within " + std::to_string(lim.liveness_steps_max) +
                                  " steps after heal";
      Fail(r, world, "liveness", "liveness",
           why + " (healed at step " + std::to_string(heal_step) + "); " +
               Join(StateSummary(world, *scenario), "; "));
    }
  }
  if (!sched.failure().empty()) {
    Fail(r, world, "exception", "no-exceptions", sched.failure());
  } else if (world.failed()) {
    Fail(r, world, "property", world.failure_property(), world.failure_message());
  } else if (r.ok) {
    Check c = scenario->check(world);
    if (!c.ok) Fail(r, world, "property", c.property, c.message);
  }
  FinishReport(r, world);
  if (options.keep_trace_events) r.events = world.trace().events();
  return r;
}

}  // namespace kiln::sim
