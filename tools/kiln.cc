// kiln: the command line. `kiln sim ...` runs the simulator (DESIGN.md section 8).
// Exit status: 0 every property held, 1 a property failed, 2 usage error.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "engine/runtime/bugs.h"
#include "sim/chrome_trace.h"
#include "sim/determinism.h"
#include "sim/fault_plan.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/shrink.h"
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

// Flags every single-run command shares: scenario knobs, BUGGIFY, and the fault mask.
struct RunKnobs {
  std::vector<std::string> params;  // NAME=VALUE
  std::string buggify = "swarm";
  std::string only_faults;  // Empty: all faults admitted.
};

void AddRunKnobs(CLI::App* cmd, RunKnobs& knobs) {
  cmd->add_option("--param", knobs.params,
                  "set a scenario knob, NAME=INTEGER (repeatable; the report lists them)");
  cmd->add_option("--buggify", knobs.buggify,
                  "BUGGIFY: swarm (default: the seed decides), on, or off");
  cmd->add_option("--only-faults", knobs.only_faults,
                  "admit only these numbered fault events (comma list, or none): shrink output");
}

Status ApplyRunKnobs(const RunKnobs& knobs, sim::RunOptions* options) {
  for (const auto& p : knobs.params) {
    auto kv = sim::ParseParam(p);
    if (!kv.ok()) return kv.status();
    options->params[kv->first] = kv->second;
  }
  auto mode = sim::ParseBuggifyMode(knobs.buggify);
  if (!mode.ok()) return mode.status();
  options->buggify = *mode;
  if (!knobs.only_faults.empty()) {
    auto faults = sim::ParseFaultList(knobs.only_faults);
    if (!faults.ok()) return faults.status();
    options->only_faults = *faults;
  }
  return Status::Ok();
}

// Shrinks a failing seed and prints the smallest reproduction as one command.
int CmdShrink(const sim::RunOptions& options, uint64_t runs_max) {
  sim::ShrinkOptions shrink;
  shrink.runs_max = runs_max;
  shrink.progress = [](const std::string& line) {
    std::fprintf(stderr, "shrink: %s\n", line.c_str());
  };
  auto s = sim::Shrink(options, shrink);
  if (!s.ok()) {
    if (s.status().IsInvalidArgument() &&
        s.status().message().find("nothing to shrink") != std::string::npos) {
      std::printf("%s\n", s.status().message().c_str());
      return kExitOk;
    }
    return Usage(s.status());
  }
  auto describe = [](const sim::RunReport& r) {
    std::string params;
    for (const auto& [k, v] : r.params) params += " " + k + "=" + std::to_string(v);
    return "fault events " + std::to_string(r.fault_events) + ", steps " + std::to_string(r.steps) +
           ", params" + params;
  };
  std::printf("original: %s\n  %s: %s\n", describe(s->original).c_str(),
              s->original.property.c_str(), s->original.message.c_str());
  std::printf("minimal (%llu runs): %s\n  %s: %s\n", static_cast<unsigned long long>(s->runs),
              describe(s->minimal).c_str(), s->minimal.property.c_str(),
              s->minimal.message.c_str());
  std::printf("reproduce: %s\n", s->minimal.replay_command.c_str());
  return kExitFailed;
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

// With `trace_path`, also writes the run's timeline there (sim/chrome_trace.h). The file is opened
// before the run, so a path that cannot be written is a usage error that costs no simulation.
int CmdRun(sim::RunOptions options, bool json, const std::string& trace_path) {
  std::ofstream trace_out;
  if (!trace_path.empty()) {
    trace_out.open(trace_path, std::ios::binary | std::ios::trunc);
    if (!trace_out) {
      return Usage(Status::InvalidArgument("cannot write --trace file '" + trace_path +
                                           "': " + std::strerror(errno)));
    }
    options.keep_trace_events = true;
  }
  const auto start = std::chrono::steady_clock::now();
  auto report = sim::RunScenario(options);
  if (!report.ok()) {
    if (!trace_path.empty()) std::remove(trace_path.c_str());  // Leave no empty timeline.
    return Usage(report.status());
  }
  const int64_t wall_ms = WallMsSince(start);
  if (json) {
    std::printf("%s\n", ReportJson(*report, wall_ms).dump().c_str());
  } else {
    std::printf("%s", ReportText(*report, wall_ms).c_str());
  }
  if (!trace_path.empty()) {
    Status s = sim::WriteChromeTrace(report->events, sim::ChromeTraceInfoFor(*report), trace_out);
    if (!s.ok()) return Usage(Status::IOError("writing --trace file '" + trace_path + "' failed"));
    if (!json) std::fprintf(stderr, "timeline: %s (open in ui.perfetto.dev)\n", trace_path.c_str());
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
  std::string trace_path;
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
  run_cmd->add_option("--trace", trace_path, "write the timeline here (Chrome Trace JSON)");
  RunKnobs run_knobs;
  AddRunKnobs(run_cmd, run_knobs);

  SweepOptions sweep;
  CLI::App* sweep_cmd = sim->add_subcommand(
      "sweep", "run many seeds, each in its own worker process; exit 1 if any fails");
  sweep_cmd->add_option("--scenario", sweep.scenario, "scenario name, or all")->required();
  sweep_cmd->add_option("--seeds", sweep.seeds, "how many seeds (per scenario)")->required();
  sweep_cmd->add_option("--first-seed", sweep.first_seed, "the first seed (default 1)");
  sweep_cmd->add_option("--jobs", sweep.jobs, "worker processes at once (default: the cores)");
  sweep_cmd->add_option("--shard", sweep.shard,
                        "I/N: run only shard I of N; seed index i (0-based from --first-seed) "
                        "is in shard i % N + 1, so N shards run each seed once");
  sweep_cmd->add_option("--timeout-s", sweep.timeout_s,
                        "wall seconds per seed before it is killed as a hang (default 120)");
  sweep_cmd->add_option("--faults", sweep.faults, "none, swarm (default), or a comma list");
  sweep_cmd->add_option("--bug", sweep.bugs, "enable a known bug (repeatable)");
  sweep_cmd->add_option("--junit", sweep.junit_path, "write a JUnit XML report here");
  sweep_cmd->add_flag("--json", sweep.json,
                      "one JSON line per run on stdout, in seed order; the rest on stderr");
  sweep_cmd->add_flag("--fail-fast", sweep.fail_fast,
                      "start no seed after the first failure (default: keep going)");

  sim::RunOptions det;
  CLI::App* det_cmd =
      sim->add_subcommand("check-determinism", "run a seed twice; name the first divergence");
  det_cmd->add_option("--scenario", det.scenario, "scenario name")->required();
  det_cmd->add_option("--seed", det.seed, "the seed")->required();
  det_cmd->add_option("--faults", det.faults, "none, swarm (default), or a comma list");
  det_cmd->add_option("--bug", det.bugs, "enable a known bug (repeatable)");
  RunKnobs det_knobs;
  AddRunKnobs(det_cmd, det_knobs);

  sim::RunOptions shr;
  uint64_t shrink_runs_max = 3000;
  CLI::App* shrink_cmd = sim->add_subcommand(
      "shrink", "shrink a failing seed: fewer operations, clients and fault events");
  shrink_cmd->add_option("--scenario", shr.scenario, "scenario name")->required();
  shrink_cmd->add_option("--seed", shr.seed, "the failing seed")->required();
  shrink_cmd->add_option("--faults", shr.faults, "none, swarm (default), or a comma list");
  shrink_cmd->add_option("--bug", shr.bugs, "enable a known bug (repeatable)");
  shrink_cmd->add_option("--runs-max", shrink_runs_max, "stop searching after this many runs");
  RunKnobs shr_knobs;
  AddRunKnobs(shrink_cmd, shr_knobs);

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
  if (run_cmd->parsed()) {
    if (Status k = ApplyRunKnobs(run_knobs, &run); !k.ok()) return Usage(k);
    return CmdRun(run, json, trace_path);
  }
  if (shrink_cmd->parsed()) {
    if (Status k = ApplyRunKnobs(shr_knobs, &shr); !k.ok()) return Usage(k);
    return CmdShrink(shr, shrink_runs_max);
  }
  if (sweep_cmd->parsed()) {
    auto r = RunSweep(sweep, stdout);
    if (!r.ok()) return Usage(r.status());
    return *r ? kExitOk : kExitFailed;
  }
  if (det_cmd->parsed()) {
    if (Status k = ApplyRunKnobs(det_knobs, &det); !k.ok()) return Usage(k);
    return CmdCheckDeterminism(det);
  }
  return kExitUsage;
}

}  // namespace kiln::tools

int main(int argc, char** argv) {
  return kiln::tools::Main(argc, argv);
}
