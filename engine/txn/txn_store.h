// Transactions over the KV store: strictly serializable by optimistic concurrency (DESIGN.md
// section 7, "Transactions").
//
// Contract:
// - begin() reads at the latest acknowledged version: a snapshot of the store at or after every
//   commit acknowledged before begin() was called (its read_version()).
// - get/scan_range read that snapshot, overlaid with the transaction's own writes, and record
//   what they read: point keys, and requested ranges (so a key inserted later into a scanned
//   range conflicts: no phantoms) — up to the last row returned when a scan stops at its limit.
//   A scan fails on an own add only if the row it makes is among those returned.
// - put/del buffer writes; nothing is visible to others before commit.
// - commit(): a read-only transaction commits at once and never aborts. Otherwise the read set is
//   checked against every commit after read_version (and every commit still in flight); any
//   write to a key it covers aborts it with Conflict. A transaction older than
//   TxnOptions::age_max, or one whose read version the conflict window has forgotten, aborts
//   with TooOld. Then the writes go to the log as one batch; Ok means durable, and the commit's
//   LSN is commit_version(). Unknown means the batch may or may not be durable; NoSpace,
//   InvalidArgument and Unavailable mean nothing was written.
// - Misuse is InvalidArgument and changes nothing: any call after commit() or abort(), commit()
//   twice, commit() after a Conflict. abort() is always allowed and idempotent.
// - An observer handed to begin() (txn_observer.h) is told every step of that transaction.
// Coroutine rules: one Scheduler; the TxnStore, its KvStore and Clock outlive every Transaction
// (and an observer every Transaction it observes); a Transaction is used by one coroutine at a
// time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/kv/kv_store.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/random.h"
#include "engine/runtime/result.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/task.h"
#include "engine/txn/conflict_window.h"
#include "engine/txn/txn_observer.h"

namespace kiln::txn {

struct TxnOptions {
  size_t window_commits_max = 10000;       // Commits remembered for conflict checks.
  Duration age_max = Duration(5'000'000);  // Older transactions get TooOld at commit.
  size_t reads_max = 100000;  // Keys and ranges one transaction may read (then InvalidArgument).
  size_t writes_max = 10000;  // Keys one transaction may write (then InvalidArgument).
};

class TxnStore;

class Transaction {
 public:
  ~Transaction();  // An observed transaction still active ends as aborted.
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Task<Result<std::optional<std::string>>> get(std::string key);
  // Keys in [begin, end) ("" end: to the last key), in order, at most `limit`.
  Task<Result<kv::KeyValues>> scan_range(std::string begin, std::string end, size_t limit);
  Status put(std::string key, std::string value);
  Status del(std::string key);
  // An atomic increment: does not read the key, so concurrent adds neither conflict nor lose
  // updates. The key's value is a decimal int64 (absent = 0). InvalidArgument, at the call if
  // this transaction's own write makes it so, else at commit, if the value may not be an
  // integer or the sum may overflow (commits in flight count either way).
  Status add(std::string key, int64_t delta);
  Task<Status> commit();
  void abort();

  wal::Lsn read_version() const { return read_version_; }
  // The commit's LSN once commit() returned Ok for a transaction that wrote; 0 otherwise.
  wal::Lsn commit_version() const { return commit_version_; }
  bool read_only() const { return writes_.empty() && adds_.empty(); }
  // A caller's label, handed to TxnStore's sequence observer (e.g. a history index).
  // REQUIRES: no observer (an observed transaction's tag is the one its observer gave).
  void set_tag(uint64_t tag);

 private:
  friend class TxnStore;
  enum class State : uint8_t { kActive, kCommitting, kCommitted, kAborted, kFailed };
  Transaction(TxnStore& store, std::unique_ptr<kv::KvSnapshot> view, MonoTime began);
  Status Usable(const char* what) const;
  Status Record(bool range, std::string begin, std::string end);
  // Buffers a put (value) or a delete (nullopt) after the checks both share.
  Status Buffer(const char* what, std::string key, std::optional<std::string> value);
  Status CheckWriteRoom(const std::string& key) const;
  // Whether this transaction's blind adds can be applied: each key's possible values at its
  // commit are integers and none overflows with the delta. `at_read`: values at read_version.
  Status CheckAdds(const std::map<std::string, std::optional<std::string>>& at_read) const;
  // Ends the transaction: releases its snapshot, tells the observer.
  void Finish(State state, Status why);

  TxnStore& store_;
  std::unique_ptr<kv::KvSnapshot> view_;
  MonoTime began_;
  wal::Lsn read_version_ = 0;
  wal::Lsn commit_version_ = 0;
  State state_ = State::kActive;
  Status ended_by_;  // Why it is no longer active (for misuse messages).
  uint64_t tag_ = 0;
  TxnObserver* observer_ = nullptr;
  ReadSet reads_;
  std::map<std::string, std::optional<std::string>> writes_;  // nullopt: a delete.
  std::map<std::string, int64_t> adds_;  // Blind adds: keys without a put or delete of its own.
};

class TxnStore {
 public:
  TxnStore(kv::KvStore& kv, Scheduler& scheduler, const Clock& clock, TxnOptions options = {});
  TxnStore(const TxnStore&) = delete;
  TxnStore& operator=(const TxnStore&) = delete;

  // A transaction reading at the latest acknowledged version. `observer`, if given, is told of
  // this transaction from the call on (TxnObserver; it gives the transaction its tag).
  Task<Result<std::unique_ptr<Transaction>>> begin(TxnObserver* observer = nullptr);

  // Called with a transaction's tag at the moment its commit is sequenced (its batch joins the
  // log's queue in the same step), so the calls come in LSN order. For history recorders.
  void set_sequence_observer(std::function<void(uint64_t tag)> observer) {
    sequenced_ = std::move(observer);
  }

  Scheduler& scheduler() { return scheduler_; }
  const TxnOptions& options() const { return options_; }
  const ConflictWindow& window() const { return window_; }

 private:
  friend class Transaction;
  kv::KvStore& kv_;
  Scheduler& scheduler_;
  const Clock& clock_;
  TxnOptions options_;
  ConflictWindow window_;
  std::function<void(uint64_t tag)> sequenced_;
};

struct RetryOptions {
  int attempts_max = 100;
  Duration backoff_first = Duration(1000);  // Doubles per Conflict, with jitter.
  Duration backoff_max = Duration(100'000);
};

// Runs `body` in a fresh transaction and commits it, retrying with backoff while the commit (or
// begin) says Conflict; every other error, and an error from `body` (the transaction is then
// aborted), is returned as is. After attempts_max Conflicts, returns the last one.
// `body` must not keep the Transaction beyond its call. `observer`, if given, observes each
// attempt (TxnStore::begin).
Task<Status> RunTransaction(TxnStore& store, Random& random,
                            std::function<Task<Status>(Transaction&)> body, RetryOptions retry = {},
                            TxnObserver* observer = nullptr);

}  // namespace kiln::txn
