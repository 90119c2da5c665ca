#include "sim/scenario.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace kiln::sim {

ScenarioRegistry& ScenarioRegistry::Instance() {
  static ScenarioRegistry registry;
  return registry;
}

void ScenarioRegistry::add(ScenarioInfo info) {
  for (const auto& s : scenarios_) {
    if (s.name == info.name) {
      std::fprintf(stderr, "kiln: scenario '%s' is registered twice\n", info.name.c_str());
      std::abort();
    }
  }
  scenarios_.push_back(std::move(info));
}

Result<const ScenarioInfo*> ScenarioRegistry::find(std::string_view name) const {
  for (const auto& s : scenarios_) {
    if (s.name == name) return &s;
  }
  std::string valid;
  for (const ScenarioInfo* s : list()) valid += (valid.empty() ? "" : ", ") + s->name;
  return Status::NotFound("unknown scenario '" + std::string(name) +
                          "'; valid: " + (valid.empty() ? "(none registered)" : valid));
}

std::vector<const ScenarioInfo*> ScenarioRegistry::list() const {
  std::vector<const ScenarioInfo*> out;
  for (const auto& s : scenarios_) out.push_back(&s);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

}  // namespace kiln::sim
