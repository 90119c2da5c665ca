#include "engine/runtime/bugs.h"

#include <cstdio>
#include <cstdlib>

namespace kiln {

BugRegistry& BugRegistry::Instance() {
  static BugRegistry registry;
  return registry;
}

BugRegistry::Bug* BugRegistry::add(std::string_view name, std::string_view description) {
  auto [it, inserted] = bugs_.try_emplace(std::string(name));
  if (!inserted) {
    std::fprintf(stderr, "kiln: known bug '%.*s' is registered twice\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  it->second.name = std::string(name);
  it->second.description = std::string(description);
  return &it->second;
}

Status BugRegistry::enable(std::string_view name) {
  auto it = bugs_.find(name);
  if (it == bugs_.end()) {
    std::string valid;
    for (const auto& [n, bug] : bugs_) valid += (valid.empty() ? "" : ", ") + n;
    return Status::NotFound("unknown bug '" + std::string(name) +
                            "'; known bugs: " + (valid.empty() ? "(none)" : valid));
  }
  it->second.enabled = true;
  return Status::Ok();
}

void BugRegistry::disable_all() {
  for (auto& [n, bug] : bugs_) bug.enabled = false;
}

std::vector<const BugRegistry::Bug*> BugRegistry::list() const {
  std::vector<const Bug*> out;
  for (const auto& [n, bug] : bugs_) out.push_back(&bug);
  return out;
}

std::vector<std::string> BugRegistry::enabled_names() const {
  std::vector<std::string> out;
  for (const auto& [n, bug] : bugs_) {
    if (bug.enabled) out.push_back(n);
  }
  return out;
}

}  // namespace kiln
