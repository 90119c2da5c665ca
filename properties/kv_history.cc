#include "properties/kv_history.h"

#include <cassert>

#include "engine/runtime/printable.h"

namespace kiln::properties {

namespace {
// Values can be kilobytes long; a value's identity is its prefix, so messages show that.
std::string Abbreviate(const std::string& v) {
  constexpr size_t kShown = 24;
  if (v.size() <= kShown) return Printable(v);
  return Printable(v.substr(0, kShown)) + "...(" + std::to_string(v.size()) + " bytes)";
}
}  // namespace

std::string KvOp::ToString() const {
  static const char* kTypes[] = {"put", "delete", "get"};
  static const char* kOutcomes[] = {"pending", "ok", "not-found", "error"};
  std::string out = "client " + std::to_string(client) + " " + kTypes[static_cast<int>(type)] +
                    " " + Printable(key);
  if (type == Type::kPut) out += "=" + Abbreviate(value);
  if (is_write() && sync) out += " (sync)";
  out += " [step " + std::to_string(invoke_step) + "..";
  out += complete_step == kNeverCompleted ? "never" : std::to_string(complete_step);
  out += "] ";
  out += kOutcomes[static_cast<int>(outcome)];
  if (type == Type::kGet && outcome == Outcome::kOk) out += " " + Abbreviate(value);
  if (!error.empty()) out += " (" + error + ")";
  return out;
}

size_t KvHistory::invoke(KvOp::Type type, std::string key, std::string value, bool sync,
                         uint64_t client, uint64_t step) {
  KvOp op;
  op.type = type;
  op.key = std::move(key);
  op.value = std::move(value);
  op.sync = sync;
  op.client = client;
  op.invoke_step = step;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void KvHistory::complete(size_t index, KvOp::Outcome outcome, std::string value, std::string error,
                         uint64_t step) {
  assert(index < ops_.size());
  KvOp& op = ops_[index];
  assert(op.outcome == KvOp::Outcome::kPending);
  assert(step >= op.invoke_step);
  op.outcome = outcome;
  if (op.type == KvOp::Type::kGet) op.value = std::move(value);
  op.error = std::move(error);
  op.complete_step = step;
}

size_t KvHistory::pending() const {
  size_t n = 0;
  for (const auto& op : ops_) n += op.outcome == KvOp::Outcome::kPending ? 1 : 0;
  return n;
}

}  // namespace kiln::properties
