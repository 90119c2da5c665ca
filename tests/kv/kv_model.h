// The model the KV crash tests check recovery against: the last acknowledged value of each key,
// and the one batch each client may have had in flight when the power went.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/runtime/printable.h"

namespace kiln::kv::testing {

struct Model {
  std::map<std::string, std::string> acked;
  std::map<int, std::vector<WriteBatch::Op>> in_flight;  // By client: at most one batch each.
  uint64_t acked_writes = 0;
  std::vector<std::string> errors;  // Every non-Ok answer, for an uncrashed run's check.
};

inline void ApplyOps(const std::vector<WriteBatch::Op>& ops,
                     std::map<std::string, std::string>* to) {
  for (const WriteBatch::Op& op : ops) {
    if (op.is_delete) {
      to->erase(op.key);
    } else {
      (*to)[op.key] = op.value;
    }
  }
}

inline std::string Lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string("<absent>") : it->second;
}

// Resolves each in-flight batch against what recovery shows (all of it, or none of it), then
// requires the recovered state to equal the model exactly. Returns what broke, or "".
inline std::string CheckRecovered(const KeyValues& scanned, Model* model) {
  const std::map<std::string, std::string> state(scanned.begin(), scanned.end());
  for (auto& [client, ops] : model->in_flight) {
    std::map<std::string, std::string> with = model->acked;
    ApplyOps(ops, &with);
    bool all = true;
    bool none = true;
    for (const WriteBatch::Op& op : ops) {
      all = all && Lookup(state, op.key) == Lookup(with, op.key);
      none = none && Lookup(state, op.key) == Lookup(model->acked, op.key);
    }
    if (!all && !none) {
      return "client " + std::to_string(client) + "'s in-flight batch is half applied";
    }
    if (all) model->acked = std::move(with);
  }
  model->in_flight.clear();
  for (const auto& [k, v] : model->acked) {
    if (Lookup(state, k) != v) {
      return "acknowledged " + Printable(k) + "=" + Printable(v.substr(0, 20)) + " recovered as " +
             Printable(Lookup(state, k).substr(0, 20));
    }
  }
  for (const auto& [k, v] : state) {
    if (!model->acked.contains(k)) {
      return "key " + Printable(k) + "=" + Printable(v.substr(0, 20)) +
             " was never written (or was deleted)";
    }
  }
  return "";
}

}  // namespace kiln::kv::testing
