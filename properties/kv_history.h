// KvHistory: what the clients of a key-value store did, as the checkers see it. Each operation
// has an invocation and, if the client lived to see it, a completion; steps order them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kiln::properties {

inline constexpr uint64_t kNeverCompleted = std::numeric_limits<uint64_t>::max();

struct KvOp {
  enum class Type : uint8_t { kPut, kDelete, kGet };
  enum class Outcome : uint8_t {
    kPending,   // Invoked; never completed (its process died): it may or may not have happened.
    kOk,        // A write was acknowledged; a get returned `value`.
    kNotFound,  // A get found no value.
    kError,     // Failed with an error: a write may or may not have happened; a get saw nothing.
  };
  Type type = Type::kGet;
  std::string key;
  std::string value;  // A put's value; a get's result.
  bool sync = false;  // A write acknowledged with sync=true must survive any crash.
  uint64_t client = 0;
  uint64_t invoke_step = 0;
  uint64_t complete_step = kNeverCompleted;
  Outcome outcome = Outcome::kPending;
  std::string error;

  bool is_write() const { return type != Type::kGet; }
  bool acked_sync_write() const { return is_write() && sync && outcome == Outcome::kOk; }
  // "client 2 put k3=v (sync) [step 10..14] ok"; long values are abbreviated.
  std::string ToString() const;
};

class KvHistory {
 public:
  // Returns the operation's index, for complete().
  size_t invoke(KvOp::Type type, std::string key, std::string value, bool sync, uint64_t client,
                uint64_t step);
  // REQUIRES: `index` was invoked and not completed yet; step >= its invoke step.
  void complete(size_t index, KvOp::Outcome outcome, std::string value, std::string error,
                uint64_t step);
  const std::vector<KvOp>& ops() const { return ops_; }
  size_t pending() const;  // Invoked, not completed.

 private:
  std::vector<KvOp> ops_;
};

}  // namespace kiln::properties
