#include "tools/report_format.h"

#include <cstdio>

namespace kiln::tools {

std::string HashHex(uint64_t hash) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

nlohmann::json ReportJson(const sim::RunReport& r, int64_t wall_ms) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["seed"] = r.seed;
  j["ok"] = r.ok;
  j["trace_hash"] = HashHex(r.trace_hash);
  j["steps"] = r.steps;
  j["trace_events"] = r.trace_events;
  j["sim_time_us"] = r.sim_time_us;
  j["wall_ms"] = wall_ms;
  j["faults"] = r.faults;
  j["fault_counts"] = r.fault_counts;
  j["bugs"] = r.bugs;
  j["params"] = r.params;
  j["fault_events"] = r.fault_events;
  if (r.only_faults) j["only_faults"] = sim::FormatFaultList(*r.only_faults);
  j["buggify"] = std::string(sim::BuggifyModeName(r.buggify));
  j["buggify_active"] = r.buggify_active;
  nlohmann::json sites = nlohmann::json::object();
  for (const auto& [site, b] : r.buggify_sites) {
    sites[site] = {{"enabled", b.enabled}, {"evaluations", b.evaluations}, {"fired", b.fired}};
  }
  j["buggify_sites"] = sites;
  j["commit"] = r.commit;
  j["replay"] = r.replay_command;
  if (!r.ok) {
    j["failure_kind"] = r.failure_kind;
    j["property"] = r.property;
    j["message"] = r.message;
    j["failure_step"] = r.failure_step;
  }
  if (r.stopped_at_step) j["state"] = r.state_summary;
  return j;
}

std::string ReportText(const sim::RunReport& r, int64_t wall_ms) {
  std::string out =
      "SEED=" + std::to_string(r.seed) + " scenario=" + r.scenario + " commit=" + r.commit + "\n";
  out += "faults: " + r.faults + "\n";
  if (!r.bugs.empty()) {
    out += "bugs:";
    for (const auto& b : r.bugs) out += " " + b;
    out += "\n";
  }
  if (!r.params.empty()) {
    out += "params:";
    for (const auto& [k, v] : r.params) out += " " + k + "=" + std::to_string(v);
    out += "\n";
  }
  out += "buggify: " + std::string(r.buggify_active ? "on" : "off");
  for (const auto& [site, b] : r.buggify_sites) {
    if (b.enabled)
      out += " " + site + " fired " + std::to_string(b.fired) + "/" + std::to_string(b.evaluations);
  }
  out += "\n";
  out += "fault events: " + std::to_string(r.fault_events) + "; fault counts:";
  if (r.fault_counts.empty()) out += " none";
  for (const auto& [k, v] : r.fault_counts) out += " " + k + "=" + std::to_string(v);
  out += "\n";
  out += "steps=" + std::to_string(r.steps) + " sim_time=" + std::to_string(r.sim_time_us) +
         "us wall=" + std::to_string(wall_ms) + "ms trace_hash=" + HashHex(r.trace_hash) + "\n";
  if (r.stopped_at_step) {
    out += "stopped at step " + std::to_string(r.steps) + ":\n";
    for (const auto& line : r.state_summary) out += "  " + line + "\n";
  } else if (r.ok) {
    out += "ok: every property held\n";
  } else {
    out += "FAILED (" + r.failure_kind + ") at step " + std::to_string(r.failure_step) + ": " +
           r.property + ": " + r.message + "\n";
  }
  out += "replay: " + r.replay_command + "\n";
  return out;
}

}  // namespace kiln::tools
