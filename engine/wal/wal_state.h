// The Wal's internals, shared by its source files: the state that the public object and the
// writer coroutine share, and the functions that work on it. Not part of the engine's API.
//
// Ownership: the Wal object and the writer coroutine each hold a shared_ptr to the WalState, so
// either may go first (the simulator kills a process's coroutines in any order relative to the
// objects they use). Each pending append is shared the same way between its caller's frame and
// the queue, so a caller killed mid-wait leaves nothing dangling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/runtime/event.h"
#include "engine/runtime/filesystem.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/status.h"
#include "engine/wal/wal.h"

namespace kiln::wal::internal {

// What the log knows about one segment file.
struct SegmentInfo {
  Lsn first_lsn = 0;
  std::string path;
  Lsn last_lsn = 0;        // The newest durable record in it; first_lsn - 1 if none.
  uint64_t end_bytes = 0;  // The durable end: bytes [0, end) are the header and its records.
  std::vector<std::pair<Lsn, uint64_t>> index;  // See SegmentScan::index.
};

// One append() waiting for the writer.
struct PendingAppend {
  PendingAppend(Scheduler& scheduler, uint8_t t, std::string p)
      : done(scheduler, "wal-append"), type(t), payload(std::move(p)) {}
  Event done;  // Set once `status` (and, if Ok, `lsn`) is final.
  uint8_t type;
  std::string payload;
  Status status;
  Lsn lsn = 0;
};

// The recent durable records kept in memory, so a reader tailing the log does not go to disk.
inline constexpr size_t kCacheRecordsMax = 4096;
inline constexpr size_t kCacheBytesMax = size_t{4} << 20;

struct WalState {
  WalState(FileSystem& f, Scheduler& s, WalOptions o)
      : fs(f),
        scheduler(s),
        options(std::move(o)),
        wake(s, "wal-writer-idle"),
        writer_exited(s, "wal-writer-exit") {}

  FileSystem& fs;
  Scheduler& scheduler;
  const WalOptions options;
  std::unique_ptr<FileLock> lock;

  // Oldest first; back() is the segment being written. Never empty once a record is durable.
  std::deque<SegmentInfo> segments;
  std::unique_ptr<File> current;   // segments.back(), open for writing; null before the first.
  bool current_allocated = false;  // allocate(0, segment_bytes) succeeded on `current`.
  uint64_t write_offset = 0;       // Where the next batch goes in `current`.

  Lsn durable_lsn = 0;  // The newest acknowledged record.
  Lsn next_lsn = 1;     // The LSN the next record written gets.
  Status failure;       // Non-Ok: fail-stopped, by this status.
  bool closing = false;

  std::deque<std::shared_ptr<PendingAppend>> queue;  // Appends the writer has not taken yet.
  Event wake;                                        // Set when the writer has something to do.
  Event writer_exited;                               // Set when the writer coroutine has returned.

  std::deque<Record> cache;  // Durable records, consecutive, newest last (bounded above).
  size_t cache_bytes = 0;

  RecoveryReport report;
};

// Opens the directory, takes its lock, and recovers the segments into `state` (Wal::Open's body
// before the writer starts). On error `state` is to be dropped.
Task<Status> Recover(WalState& state);

// The group-commit writer: runs until the log is closed (or its process is killed).
Task<void> WriterLoop(std::shared_ptr<WalState> state);

// Up to `records_max` durable records from `from` on, read from the segment files.
Task<Result<std::vector<Record>>> ReadFromSegments(std::shared_ptr<WalState> state, Lsn from,
                                                   size_t records_max);

// The Wal object over a recovered state whose writer is running.
std::unique_ptr<Wal> MakeWal(std::shared_ptr<WalState> state);

}  // namespace kiln::wal::internal
