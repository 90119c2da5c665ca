// kiln: the command line. `kiln sim ...` runs the simulator (DESIGN.md section 8).
// Exit status: 0 every property held, 1 a property failed, 2 usage error.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/runtime/bugs.h"
#include "sim/determinism.h"
#include "sim/fault_plan.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tools/report_format.h"
#include "tools/sweep.h"

namespace kiln::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int64_t WallMsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

int Usage(const Status& s) {
  std::fprintf(stderr, "kiln: %s\n", s.message().c_str());
  if (s.message().find("fault kind") != std::string::npos) {
    std::fprintf(stderr, "fault kinds:\n%s", sim::FaultKindHelp().c_str());
  }
  return kExitUsage;
}

int CmdList() {
  for (const auto* s : sim::ScenarioRegistry::Instance().list()) {
    std::printf("%-16s %s\n", s->name.c_str(), s->description.c_str());
  }
  return kExitOk;
}

int CmdBugs() {
  for (const auto* b : BugRegistry::Instance().list()) {
    std::printf("%-28s %s\n", b->name.c_str(), b->description.c_str());
  }
  return kExitOk;
}

int CmdRun(const sim::RunOptions& options, bool json) {
  const auto start = std::chrono::steady_clock::now();
  auto report = sim::RunScenario(options);
  if (!report.ok()) return Usage(report.status());
  const int64_t wall_ms = WallMsSince(start);
  if (json) {
    std::printf("%s\n", ReportJson(*report, wall_ms).dump().c_str());
  } else {
    std::printf("%s", ReportText(*report, wall_ms).c_str());
  }
  return report->ok ? kExitOk : kExitFailed;
}

// Runs the seed twice and names the first step where they differ.
int CmdCheckDeterminism(const sim::RunOptions& options) {
  auto d = sim::CheckDeterminism(options);
  if (!d.ok()) return Usage(d.status());
  const auto seed = static_cast<unsigned long long>(options.seed);
  if (!d->deterministic) {
    std::printf("NONDETERMINISTIC: %s seed %llu diverges at event %llu (step %llu)\n",
                options.scenario.c_str(), seed,
                static_cast<unsigned long long>(d->divergence_event),
                static_cast<unsigned long long>(d->divergence_step));
    std::printf("  run 1: %s\n  run 2: %s\n", d->first_run.c_str(), d->second_run.c_str());
    return kExitFailed;
  }
  std::printf("deterministic: %s seed %llu, %llu events, %llu steps, trace_hash %s\n",
              options.scenario.c_str(), seed, static_cast<unsigned long long>(d->events),
              static_cast<unsigned long long>(d->steps), HashHex(d->trace_hash).c_str());
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"kiln: deterministic simulation testing for storage code"};
  app.require_subcommand(1);
  CLI::App* sim = app.add_subcommand("sim", "the simulator");
  sim->require_subcommand(1);

  sim->add_subcommand("list", "scenarios, one line each");
  sim->add_subcommand("bugs", "registered known bugs, one line each");

  sim::RunOptions run;
  bool json = false;
  CLI::App* run_cmd = sim->add_subcommand("run", "run one seed of a scenario");
  run_cmd->add_option("--scenario", run.scenario, "scenario name (see `kiln sim list`)")
      ->required();
  run_cmd->add_option("--seed", run.seed, "the seed (an unsigned integer)")->required();
  run_cmd->add_option("--faults", run.faults, "none, swarm (default), or a comma list of kinds");
  run_cmd->add_option("--bug", run.bugs, "enable a known bug (repeatable; `kiln sim bugs`)");
  run_cmd->add_option("--log-level", run.log_level,
                      "off, error, warn, info, debug, trace (stderr, virtual time)");
  run_cmd->add_option("--until-step", run.until_step, "stop at this step and print the state");
  run_cmd->add_flag("--json", json, "print one JSON object");

  SweepOptions sweep;
  CLI::App* sweep_cmd = sim->add_subcommand("sweep", "run many seeds");
  sweep_cmd->add_option("--scenario", sweep.scenario, "scenario name, or all")->required();
  sweep_cmd->add_option("--seeds", sweep.seeds, "how many seeds")->required();
  sweep_cmd->add_option("--first-seed", sweep.first_seed, "the first seed (default 1)");
  sweep_cmd->add_option("--faults", sweep.faults, "none, swarm (default), or a comma list");
  sweep_cmd->add_option("--bug", sweep.bugs, "enable a known bug (repeatable)");
  sweep_cmd->add_option("--junit", sweep.junit_path, "write a JUnit XML report here");
  sweep_cmd->add_flag("--json", sweep.json, "one JSON line per run");
  sweep_cmd->add_flag("--fail-fast", sweep.fail_fast, "stop at the first failure");

  sim::RunOptions det;
  CLI::App* det_cmd =
      sim->add_subcommand("check-determinism", "run a seed twice; name the first divergence");
  det_cmd->add_option("--scenario", det.scenario, "scenario name")->required();
  det_cmd->add_option("--seed", det.seed, "the seed")->required();
  det_cmd->add_option("--faults", det.faults, "none, swarm (default), or a comma list");
  det_cmd->add_option("--bug", det.bugs, "enable a known bug (repeatable)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (sim->got_subcommand("list")) return CmdList();
  if (sim->got_subcommand("bugs")) return CmdBugs();
  if (run_cmd->parsed()) return CmdRun(run, json);
  if (sweep_cmd->parsed()) {
    auto r = RunSweep(sweep, stdout);
    if (!r.ok()) return Usage(r.status());
    return *r ? kExitOk : kExitFailed;
  }
  if (det_cmd->parsed()) return CmdCheckDeterminism(det);
  return kExitUsage;
}

}  // namespace kiln::tools

int main(int argc, char** argv) {
  return kiln::tools::Main(argc, argv);
}
