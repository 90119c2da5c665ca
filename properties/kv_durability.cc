#include "properties/kv_durability.h"

#include <algorithm>
#include <vector>

#include "engine/runtime/printable.h"

namespace kiln::properties {
namespace {

struct ReadView {
  std::string key;
  std::optional<std::string> value;  // nullopt: found nothing.
  uint64_t invoke_step;
  uint64_t complete_step;
  std::string what;  // For messages.
};

// Checks one read against the writes of its key. Returns an empty string if it is allowed.
//
// X is superseded for r by an acknowledged sync write W completed before r began if X completed
// before W was invoked. So with M = the latest invocation among such W, X is superseded iff
// X.complete < M: one pass over the key's writes, not one per pair.
std::string CheckRead(const ReadView& r, const std::vector<const KvOp*>& writes) {
  bool initial_superseded = false;
  uint64_t latest_sync_invoke = 0;
  for (const KvOp* w : writes) {
    if (w->acked_sync_write() && w->complete_step < r.invoke_step) {
      initial_superseded = true;
      latest_sync_invoke = std::max(latest_sync_invoke, w->invoke_step);
    }
  }
  // The writes that may still be visible to r: invoked before r completed, not superseded.
  std::vector<const KvOp*> allowed;
  for (const KvOp* x : writes) {
    if (x->invoke_step > r.complete_step) continue;
    if (initial_superseded && x->complete_step < latest_sync_invoke) continue;
    allowed.push_back(x);
  }
  if (r.value.has_value()) {
    for (const KvOp* x : allowed) {
      if (x->type == KvOp::Type::kPut && x->value == *r.value) return "";
    }
    for (const KvOp* x : writes) {
      if (x->type != KvOp::Type::kPut || x->value != *r.value) continue;
      if (x->invoke_step > r.complete_step) {
        return r.what + ", written later by (" + x->ToString() + ")";
      }
      for (const KvOp* w : writes) {
        if (w != x && w->acked_sync_write() && x->complete_step < w->invoke_step &&
            w->complete_step < r.invoke_step) {
          return r.what + ", written by (" + x->ToString() + "), but (" + w->ToString() +
                 ") superseded it and was acknowledged with sync=true before the read began";
        }
      }
    }
    return r.what + " returned " + Printable(r.value->substr(0, 24)) + "..., never written to " +
           Printable(r.key);
  }
  if (!initial_superseded) return "";
  for (const KvOp* x : allowed) {
    if (x->type == KvOp::Type::kDelete) return "";
  }
  const KvOp* last = nullptr;
  for (const KvOp* w : writes) {
    if (w->acked_sync_write() && w->complete_step < r.invoke_step) last = w;
  }
  return r.what + " found nothing, but (" + last->ToString() +
         ") was acknowledged with sync=true before it began and no delete could explain it";
}

using WritesByKey = std::map<std::string, std::vector<const KvOp*>>;

WritesByKey GroupWrites(const KvHistory& history) {
  WritesByKey writes_by_key;
  for (const KvOp& op : history.ops()) {
    if (op.is_write()) writes_by_key[op.key].push_back(&op);
  }
  return writes_by_key;
}

DurabilityResult CheckReads(const KvHistory& history, const WritesByKey& writes_by_key) {
  static const std::vector<const KvOp*> kNone;
  auto writes_of = [&](const std::string& key) -> const std::vector<const KvOp*>& {
    auto it = writes_by_key.find(key);
    return it == writes_by_key.end() ? kNone : it->second;
  };
  for (const KvOp& op : history.ops()) {
    if (op.type != KvOp::Type::kGet) continue;
    if (op.outcome != KvOp::Outcome::kOk && op.outcome != KvOp::Outcome::kNotFound) continue;
    ReadView r{op.key, std::nullopt, op.invoke_step, op.complete_step,
               "read (" + op.ToString() + ")"};
    if (op.outcome == KvOp::Outcome::kOk) r.value = op.value;
    std::string v = CheckRead(r, writes_of(op.key));
    if (!v.empty()) return {false, v};
  }
  return {};
}

}  // namespace

DurabilityResult CheckKvReads(const KvHistory& history) {
  return CheckReads(history, GroupWrites(history));
}

DurabilityResult CheckKvDurability(
    const KvHistory& history, const std::map<std::string, std::optional<std::string>>& final_state,
    uint64_t final_step) {
  const WritesByKey writes_by_key = GroupWrites(history);
  if (DurabilityResult r = CheckReads(history, writes_by_key); !r.ok) return r;
  // Every key ever written is checked in the final state, present or not.
  for (const auto& [key, writes] : writes_by_key) {
    auto it = final_state.find(key);
    ReadView r{key, it == final_state.end() ? std::nullopt : it->second, final_step, final_step,
               "final state of " + Printable(key)};
    std::string v = CheckRead(r, writes);
    if (!v.empty()) return {false, v};
  }
  for (const auto& [key, value] : final_state) {
    if (value.has_value() && writes_by_key.count(key) == 0) {
      return {false, "final state has " + Printable(key) + "=" + Printable(value->substr(0, 24)) +
                         ", a key never written"};
    }
  }
  return {};
}

}  // namespace kiln::properties
