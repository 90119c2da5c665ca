// TxnHistory: what the clients of a transactional key-value store did, as the serializability
// checker sees it. Each transaction has an invocation, its steps in program order with what its
// reads observed, and, if the client lived to see it, a completion with its versions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "properties/kv_history.h"

namespace kiln::properties {

// One step of a transaction, in program order. Reads observe the transaction's own earlier
// writes (read-your-writes).
struct TxnStep {
  enum class Type : uint8_t {
    kRead,    // Point read of `key`; `observed` is what it returned (nullopt: absent).
    kScan,    // Range read of [key, end) in key order, at most `limit` rows; `rows` returned.
    kPut,     // key = value.
    kDelete,  // key becomes absent.
    kAdd,     // Atomic counter: key = key + delta, values as decimal int64 (absent = 0).
  };
  Type type = Type::kRead;
  std::string key;  // The key; a scan's first key (inclusive; "" = from the first key).
  std::string end;  // A scan's end key (exclusive; "" = to the last key).
  // A scan's most rows (SIZE_MAX: no limit). A scan that returned fewer rows than `limit`
  // claims that no other key is in its range; one that returned `limit` rows only covers keys
  // up to its last row.
  size_t limit = 0;
  std::vector<std::pair<std::string, std::string>> rows;  // A scan's result, in key order.
  std::optional<std::string> observed;                    // A point read's result.
  std::string value;                                      // A put's value.
  int64_t delta = 0;                                      // An add's increment.

  bool is_write() const {
    return type == Type::kPut || type == Type::kDelete || type == Type::kAdd;
  }
  // "get k -> v", "scan [a, z) limit 10 -> 3 rows", "put k=v", "add k +5"; values abbreviated.
  std::string ToString() const;
};

struct TxnRecord {
  enum class Outcome : uint8_t {
    kPending,    // Invoked; never completed (its client died): it may or may not have committed.
    kCommitted,  // The commit was acknowledged.
    kAborted,    // Definitely did not commit (Conflict, TooOld, explicit abort, or an error
                 // known to have written nothing).
    kUnknown,    // Completed with an error after which the commit may or may not have happened.
  };
  uint64_t client = 0;
  uint64_t invoke_step = 0;
  uint64_t complete_step = kNeverCompleted;
  Outcome outcome = Outcome::kPending;
  // The version (an LSN) all its reads observed; 0 if it read nothing (or never completed).
  uint64_t read_version = 0;
  // The LSN it committed at: set only for kCommitted transactions that wrote something. A
  // committed read-only transaction has 0 and serializes at its read_version. Ignored for
  // other outcomes.
  uint64_t commit_version = 0;
  std::vector<TxnStep> steps;  // In program order.

  bool has_writes() const;
  // True if some read or scan could have observed the store rather than only this
  // transaction's own earlier puts and deletes.
  bool reads_store() const;
  // "client 2 [step 10..14] committed read_version=5 commit_version=7: get k -> v; put k=w";
  // at most the first 8 steps are shown, long values are abbreviated.
  std::string ToString() const;
};

class TxnHistory {
 public:
  // Starts a transaction. Returns its index, for the calls below.
  size_t begin(uint64_t client, uint64_t step);

  // Append one step each, in program order.
  // REQUIRES: `index` was begun and not completed yet.
  void read(size_t index, std::string key, std::optional<std::string> observed);
  // `end_key` "" = to the last key. `rows` exactly as returned (the checker judges them).
  void scan(size_t index, std::string begin_key, std::string end_key, size_t limit,
            std::vector<std::pair<std::string, std::string>> rows);
  void put(size_t index, std::string key, std::string value);
  void del(size_t index, std::string key);
  void add(size_t index, std::string key, int64_t delta);

  // `commit_version` counts only for kCommitted: for other outcomes it is kept for messages
  // and otherwise ignored (an unknown commit's version is not trusted).
  // REQUIRES: `index` was begun and not completed; outcome != kPending; step >= its invoke
  // step.
  void complete(size_t index, TxnRecord::Outcome outcome, uint64_t read_version,
                uint64_t commit_version, uint64_t step);

  const std::vector<TxnRecord>& txns() const { return txns_; }
  const TxnRecord& txn(size_t index) const { return txns_.at(index); }
  size_t size() const { return txns_.size(); }
  size_t pending() const;  // Begun, not completed.

 private:
  TxnRecord& open(size_t index);

  std::vector<TxnRecord> txns_;
};

// `bytes` printable (see Printable), cut to its first 24 bytes plus its length if longer.
std::string AbbreviatedValue(std::string_view bytes);

}  // namespace kiln::properties
