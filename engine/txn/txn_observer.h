// TxnObserver: what one transaction does, told as it happens, for history recorders (the
// simulator's serializability checker records the transactions that engine code such as the
// queue runs). Handed to TxnStore::begin; by default nothing observes a transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/kv/kv_store.h"
#include "engine/wal/wal.h"

namespace kiln::txn {

class TxnObserver {
 public:
  enum class Outcome : uint8_t {
    kCommitted,  // commit() returned Ok (read-only transactions too).
    kAborted,    // Nothing was written: abort(), Conflict, TooOld, a commit error that wrote
                 // nothing, a failed begin, or destroyed before commit() was called.
    kUnknown,    // commit() returned Unknown: the batch may or may not be durable.
  };

  virtual ~TxnObserver() = default;

  // TxnStore::begin was called; called before it takes its snapshot, so everything
  // acknowledged before the call is visible to the transaction. Returns its tag: its name in
  // the calls below and in TxnStore's sequence observer (it is the Transaction's tag).
  virtual uint64_t invoked() = 0;
  // begin() succeeded: the transaction reads at `read_version`.
  virtual void began(uint64_t tag, wal::Lsn read_version) = 0;
  // A get that returned Ok, and what it returned (its own writes included; nullopt: absent).
  virtual void read(uint64_t tag, const std::string& key,
                    const std::optional<std::string>& value) = 0;
  // A scan_range that returned Ok: its arguments and the rows it returned.
  virtual void scanned(uint64_t tag, const std::string& begin, const std::string& end, size_t limit,
                       const kv::KeyValues& rows) = 0;
  // A put (value) or del (nullopt) that returned Ok.
  virtual void wrote(uint64_t tag, const std::string& key,
                     const std::optional<std::string>& value) = 0;
  // An add that returned Ok.
  virtual void added(uint64_t tag, const std::string& key, int64_t delta) = 0;
  // The end, exactly once per invoked() — except for a commit in flight whose coroutine was
  // destroyed (its process was killed): that one never ends, and may or may not be durable.
  // `commit_version`: the commit's LSN for a committed transaction that wrote, else 0.
  virtual void ended(uint64_t tag, Outcome outcome, wal::Lsn read_version,
                     wal::Lsn commit_version) = 0;
};

}  // namespace kiln::txn
