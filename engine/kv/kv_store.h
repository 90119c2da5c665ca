// KvStore: the engine's key-value store (DESIGN.md section 7, "Apply and KV"). Writes go to the
// write-ahead log and are acknowledged once durable there; one apply worker tails the log and
// applies each record to LevelDB in a batch that also stores the applied LSN, so application is
// exactly-once across crashes. Periodic synced checkpoints let old log segments go.
//
// Contract:
// - put/del/write resolve Ok only when the write is durable in the log. Errors are the log's
//   (wal.h): Unknown when the outcome is not known, Unavailable after a fail-stop, NoSpace,
//   InvalidArgument for bad input (nothing is written then).
// - Reads see every write acknowledged before they began (they wait for the apply worker to reach
//   the newest acknowledged LSN: wait_applied, never a sleep).
// - Keys and values are arbitrary bytes (NUL and all 256 values). Empty keys, keys over
//   key_bytes_max and values over value_bytes_max are InvalidArgument.
// - After a crash, Open replays the log from the applied LSN stored in LevelDB; recovery twice
//   equals recovery once.
// - If applying a record to LevelDB fails (a LevelDB write error), the store fail-stops: reads and
//   wait_applied return that error and writes are Unavailable, until it is closed and reopened.
// Coroutine rules: all calls on one Scheduler; Open's arguments outlive the store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/kv/manifest_trim.h"
#include "engine/runtime/filesystem.h"
#include "engine/runtime/leveldb_host.h"
#include "engine/runtime/result.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/task.h"
#include "engine/wal/wal.h"

namespace kiln::kv {

struct KvOptions {
  std::string dir;  // dir/wal holds the log, dir/db LevelDB. NUL: invalid.
  // The log's options. Open sets its dir from `dir` and raises its record_bytes_max to fit one
  // put of the largest key and value.
  wal::WalOptions wal;
  uint32_t key_bytes_max = 64 << 10;
  uint32_t value_bytes_max = 4 << 20;
  uint64_t checkpoint_every_records = 1000;  // A synced checkpoint after this many applies.
};

// A counter's value: a decimal int64 as std::to_string writes it ("-" and digits only). False
// for anything else (empty, spaces, "+", out of range).
bool ParseInt64(std::string_view text, int64_t* out);

// One atomic group of writes.
class WriteBatch {
 public:
  void put(std::string key, std::string value);
  void del(std::string key);
  // An atomic counter increment, applied in log order without a read by the writer: the value
  // becomes the decimal int64 of (its value, absent = 0) + delta. The value must be a decimal
  // int64 (or absent) and the sum must not overflow when it is applied; txn::TxnStore checks
  // both at commit. If a plain write breaks that, the apply worker fail-stops with Corruption.
  void add(std::string key, int64_t delta);
  size_t size() const { return ops_.size(); }
  struct Op {
    bool is_delete = false;
    bool is_add = false;
    std::string key;
    std::string value;  // A put's.
    int64_t delta = 0;  // An add's.
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// A consistent read view of the store: every record applied up to version(), nothing after.
// Released when destroyed. If the store closes (or is dropped in a crash) first, the view's
// reads return Unavailable.
class KvSnapshot {
 public:
  virtual ~KvSnapshot() = default;
  // The LSN of the newest record the view holds (0: none).
  virtual wal::Lsn version() const = 0;
  virtual Task<Result<std::optional<std::string>>> get(std::string key) = 0;
  // As KvStore::scan_range, at version().
  virtual Task<Result<KeyValues>> scan_range(std::string begin, std::string end, size_t limit) = 0;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  static Task<Result<std::unique_ptr<KvStore>>> Open(FileSystem& fs, Scheduler& scheduler,
                                                     LevelDbHost& leveldb, KvOptions options);

  virtual Task<Status> put(std::string key, std::string value) = 0;
  virtual Task<Status> del(std::string key) = 0;
  virtual Task<Status> write(WriteBatch batch) = 0;
  // write(), returning the LSN the batch was logged at. Ordering contract: the batch takes its
  // place in the log before this call first suspends, so calls started in order (with no await
  // between them) get increasing LSNs. An empty batch is InvalidArgument (it has no LSN).
  virtual Task<Result<wal::Lsn>> write_lsn(WriteBatch batch) = 0;

  // nullopt if absent.
  virtual Task<Result<std::optional<std::string>>> get(std::string key) = 0;
  // Keys starting with `prefix` (empty: every key), in order, at most `limit`.
  virtual Task<Result<KeyValues>> scan_prefix(std::string prefix, size_t limit) = 0;
  // Keys in [begin, end) (empty end: to the last key), in order, at most `limit`.
  virtual Task<Result<KeyValues>> scan_range(std::string begin, std::string end, size_t limit) = 0;
  // A view at a version at or after every write acknowledged before the call.
  virtual Task<Result<std::unique_ptr<KvSnapshot>>> snapshot() = 0;

  // Resolves when the apply worker has applied every record up to `lsn` (or fails with the
  // worker's error).
  virtual Task<Status> wait_applied(wal::Lsn lsn) = 0;
  virtual wal::Lsn applied_lsn() const = 0;
  virtual wal::Lsn durable_lsn() const = 0;
  // A synced checkpoint now; then log segments wholly below it are deleted.
  virtual Task<Status> checkpoint() = 0;
  virtual Task<Status> close() = 0;

  // What Open did to LevelDB's MANIFEST before opening it: a torn last record (an edit whose sync
  // never completed) is cut off, since LevelDB would refuse to open over it (manifest_trim.h).
  virtual const ManifestTrim& manifest_trim() const = 0;
};

}  // namespace kiln::kv
