// Wal: the write-ahead log, the engine's source of truth (DESIGN.md section 7). Records are
// appended with group commit and acknowledged only once durable; recovery tells a torn tail
// (truncated, and the log goes on) from corruption before the tail (refused: the segment is
// quarantined and the error names the LSN range); a failed sync fail-stops the log.
//
// Contract:
// - append() resolves Ok(lsn) only after a sync that covers the record succeeded. Concurrent
//   appends share one write and one sync (group commit). LSNs are 1, 2, 3, ... with no gaps.
// - If a sync fails, every append in that batch resolves Unknown (it may or may not be durable:
//   never "failed"), and the log is fail-stopped: every later append is Unavailable until the
//   log is closed and reopened (recovery decides what survived). A failed sync is never retried.
// - If a write (not a sync) fails, the records of that batch resolve Unknown too (a failed write
//   may have landed whole, so recovery may still find them) and the log is fail-stopped the same
//   way: a partly written record is never followed by another.
// - Running out of space is met when a segment is created (segments are preallocated), so a
//   record is never cut short by a full disk: append() is NoSpace and nothing is written; reads
//   go on, and appends work again once space is freed.
// - Reads (read_from) never see a record that is not yet durable.
// Coroutine rules: one Wal per directory (a lock file enforces it); all calls on one Scheduler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/filesystem.h"
#include "engine/runtime/result.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/status.h"
#include "engine/runtime/task.h"

namespace kiln::wal {

using Lsn = uint64_t;  // Log sequence number: 1 is the first record; 0 means "none".

struct WalOptions {
  std::string dir;                      // Created if missing.
  uint64_t segment_bytes = 64 << 20;    // Each segment is preallocated to this size.
  uint64_t batch_bytes_max = 1 << 20;   // Group commit: one write carries at most this.
  uint32_t record_bytes_max = 4 << 20;  // Larger payloads are InvalidArgument.
};

struct Record {
  Lsn lsn = 0;
  uint8_t type = 0;
  std::string payload;
};

// What recovery found, for logs and tests.
struct RecoveryReport {
  Lsn first_lsn = 0;  // The oldest record still in the log (0: empty).
  Lsn last_lsn = 0;   // The newest durable record (0: empty).
  uint64_t segments = 0;
  uint64_t torn_tail_bytes = 0;  // Bytes cut from the end of the last segment.
};

class Wal {
 public:
  virtual ~Wal() = default;

  // Opens the log in options.dir and recovers it. Corruption (naming the segment and the LSN
  // range) if a record before the tail is damaged; the segment is renamed *.quarantine first, and
  // the log does not open, now or later, while a *.quarantine file is in the directory (an
  // operator restores or removes it). IOError if a segment cannot be read (never a shorter log).
  // Spawns the writer coroutine from the caller (in simulation it joins the caller's process).
  // REQUIRES: `fs` and `scheduler` outlive the Wal.
  static Task<Result<std::unique_ptr<Wal>>> Open(FileSystem& fs, Scheduler& scheduler,
                                                 WalOptions options);

  // See the contract above. InvalidArgument if the payload is larger than record_bytes_max.
  // The record joins the log's queue before this call first suspends, and the queue is written
  // in order: appends started in order (no await between them) get increasing LSNs.
  virtual Task<Result<Lsn>> append(uint8_t type, std::string payload) = 0;

  // Up to `records_max` durable records with lsn >= `from`, in LSN order (empty: none yet); from
  // first_lsn() on if `from` is below it.
  // IOError/Corruption if a segment cannot be read back; never a short answer that hides one.
  virtual Task<Result<std::vector<Record>>> read_from(Lsn from, size_t records_max) = 0;

  // The newest acknowledged (durable) LSN.
  virtual Lsn durable_lsn() const = 0;
  // The oldest LSN still in the log (after truncate_before).
  virtual Lsn first_lsn() const = 0;
  virtual const RecoveryReport& recovery() const = 0;

  // Deletes every segment whose records all have lsn < `lsn` (they are checkpointed), and syncs
  // the directory. Never deletes the segment being written.
  virtual Task<Status> truncate_before(Lsn lsn) = 0;

  // Non-Ok once the log fail-stopped: the status that stopped it.
  virtual Status failure() const = 0;

  // Waits for in-flight appends, then releases the files and the lock.
  virtual Task<Status> close() = 0;
};

}  // namespace kiln::wal
