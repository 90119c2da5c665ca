#include "tools/sweep.h"

#include <chrono>
#include <fstream>
#include <map>

#include "sim/runner.h"
#include "sim/scenario.h"
#include "tools/report_format.h"

namespace kiln::tools {
namespace {

struct ScenarioTotals {
  uint64_t runs = 0;
  uint64_t failures = 0;
  int64_t wall_ms = 0;
  std::map<std::string, uint64_t> fault_counts;
};

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void WriteJUnit(const std::string& path, const std::vector<sim::RunReport>& reports,
                const std::vector<int64_t>& wall_ms) {
  std::map<std::string, std::vector<size_t>> by_scenario;
  for (size_t i = 0; i < reports.size(); ++i) by_scenario[reports[i].scenario].push_back(i);
  std::ofstream f(path);
  f << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kiln sim sweep\">\n";
  for (const auto& [name, idx] : by_scenario) {
    uint64_t failures = 0;
    for (size_t i : idx) failures += reports[i].ok ? 0 : 1;
    f << "  <testsuite name=\"" << XmlEscape(name) << "\" tests=\"" << idx.size()
      << "\" failures=\"" << failures << "\">\n";
    for (size_t i : idx) {
      const auto& r = reports[i];
      f << "    <testcase classname=\"" << XmlEscape(name) << "\" name=\"seed " << r.seed
        << "\" time=\"" << wall_ms[i] / 1000.0 << "\">";
      if (!r.ok) {
        f << "\n      <failure message=\"" << XmlEscape(r.property + ": " + r.message)
          << "\" type=\"" << XmlEscape(r.failure_kind) << "\">"
          << XmlEscape("faults: " + r.faults + "\nreplay: " + r.replay_command)
          << "</failure>\n    ";
      }
      f << "</testcase>\n";
    }
    f << "  </testsuite>\n";
  }
  f << "</testsuites>\n";
}

}  // namespace

Result<bool> RunSweep(const SweepOptions& options, std::FILE* out) {
  std::vector<std::string> scenarios;
  if (options.scenario == "all") {
    for (const auto* s : sim::ScenarioRegistry::Instance().list()) scenarios.push_back(s->name);
  } else {
    auto info = sim::ScenarioRegistry::Instance().find(options.scenario);
    if (!info.ok()) return info.status();
    scenarios.push_back(options.scenario);
  }
  if (options.seeds == 0) return Status::InvalidArgument("--seeds must be at least 1");

  std::vector<sim::RunReport> reports;
  std::vector<int64_t> walls;
  std::map<std::string, ScenarioTotals> totals;
  bool all_ok = true;
  for (const auto& name : scenarios) {
    for (uint64_t i = 0; i < options.seeds; ++i) {
      sim::RunOptions run;
      run.scenario = name;
      run.seed = options.first_seed + i;
      run.faults = options.faults;
      run.bugs = options.bugs;
      const auto start = std::chrono::steady_clock::now();
      auto r = sim::RunScenario(run);
      if (!r.ok()) return r.status();
      const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
      auto& t = totals[name];
      ++t.runs;
      t.wall_ms += wall_ms;
      for (const auto& [k, v] : r->fault_counts) t.fault_counts[k] += v;
      if (options.json) {
        std::fprintf(out, "%s\n", ReportJson(*r, wall_ms).dump().c_str());
      }
      if (!r->ok) {
        ++t.failures;
        all_ok = false;
        if (!options.json) {
          std::fprintf(out, "FAIL %s seed %llu: %s: %s\n  faults: %s\n  replay: %s\n", name.c_str(),
                       static_cast<unsigned long long>(r->seed), r->property.c_str(),
                       r->message.c_str(), r->faults.c_str(), r->replay_command.c_str());
        }
      }
      reports.push_back(std::move(*r));
      walls.push_back(wall_ms);
      if (!all_ok && options.fail_fast) break;
    }
    if (!all_ok && options.fail_fast) break;
  }
  if (!options.junit_path.empty()) WriteJUnit(options.junit_path, reports, walls);

  std::fprintf(out, "\n%-16s %7s %8s %9s  %s\n", "scenario", "seeds", "failures", "seeds/s",
               "faults injected");
  for (const auto& [name, t] : totals) {
    std::string faults;
    for (const auto& [k, v] : t.fault_counts) faults += k + "=" + std::to_string(v) + " ";
    const double rate = t.wall_ms > 0 ? 1000.0 * t.runs / t.wall_ms : 0;
    std::fprintf(out, "%-16s %7llu %8llu %9.1f  %s\n", name.c_str(),
                 static_cast<unsigned long long>(t.runs),
                 static_cast<unsigned long long>(t.failures), rate,
                 faults.empty() ? "none" : faults.c_str());
  }
  return all_ok;
}

}  // namespace kiln::tools
