// The durability property of a key-value store under crashes, checked over a KvHistory.
//
// For a read R of key k (and for the final state, read after the last crash and recovery):
//   - R may return the value of a write X of k only if X was invoked before R completed
//     ("nothing that was never written appears"), and X was not superseded before R began.
//   - X is superseded by W if W is a write of k acknowledged with sync=true, X completed before
//     W was invoked (so X took effect before W), and W completed before R was invoked. An
//     acknowledged sync write survives every crash, so everything before it is gone for good.
//   - R may find nothing only if some allowed candidate is a delete, or no acknowledged sync
//     write of k completed before R began ("errors surface as errors, not as missing data").
// Unacknowledged, failed and never-completed writes are candidates (they may have happened) but
// supersede nothing. Values must be unique per write, so a value names its write.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "properties/kv_history.h"

namespace kiln::properties {

struct DurabilityResult {
  bool ok = true;
  std::string message;  // The first violation, with the operations involved.
};

// The rule above for every read in `history` (no final state: when there is none to check).
DurabilityResult CheckKvReads(const KvHistory& history);

// `final_state`: each key's value after the final recovery (nullopt: absent), read at
// `final_step`. Keys never written may be omitted.
DurabilityResult CheckKvDurability(
    const KvHistory& history, const std::map<std::string, std::optional<std::string>>& final_state,
    uint64_t final_step);

}  // namespace kiln::properties
