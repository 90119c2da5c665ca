// Shared by the WAL tests: a simulated machine (seeded scheduler, SimDisk, SimFileSystem) with
// helpers to run coroutines on it to completion, crash and reboot it, and reach into the disk;
// and FaultFs, a FileSystem wrapper that fails exactly the operation a test names.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/runtime/filesystem.h"
#include "engine/runtime/random.h"
#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/wal.h"
#include "simclock/sim_clock.h"
#include "simclock/sim_scheduler.h"
#include "simclock/trace.h"
#include "simfs/sim_disk.h"
#include "simfs/sim_file_system.h"

namespace kiln::wal::testing {

inline std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Where record `lsn` of a segment starting at `first_lsn` begins, if every payload in it is
// `payload_bytes` long.
inline uint64_t RecordOffset(Lsn first_lsn, Lsn lsn, size_t payload_bytes) {
  return format::kSegmentHeaderBytes + (lsn - first_lsn) * RecordBytes(payload_bytes);
}

// What a FaultFs is told to break. Each knob fires once and then resets itself.
struct FaultKnobs {
  // >= 0: the next write_at on a .wal file lands only its first this-many bytes, then fails.
  int64_t tear_next_write_bytes = -1;
  uint64_t syncs = 0;  // Syncs of .wal files so far.
};

// Forwards everything to `inner`, except what the knobs break.
class FaultFs final : public FileSystem {
 public:
  FaultFs(FileSystem& inner, FaultKnobs& knobs) : inner_(inner), knobs_(knobs) {}

  Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<Status> create_dir(std::string path) override { return inner_.create_dir(path); }
  Task<Status> remove(std::string path) override { return inner_.remove(path); }
  Task<Status> rename(std::string from, std::string to) override { return inner_.rename(from, to); }
  Task<Result<std::vector<std::string>>> list(std::string dir) override { return inner_.list(dir); }
  Task<Status> sync_directory(std::string dir) override { return inner_.sync_directory(dir); }
  Task<Result<uint64_t>> file_size(std::string path) override { return inner_.file_size(path); }
  Task<Result<bool>> exists(std::string path) override { return inner_.exists(path); }
  Task<Result<std::unique_ptr<FileLock>>> lock(std::string path) override {
    return inner_.lock(path);
  }

 private:
  FileSystem& inner_;
  FaultKnobs& knobs_;
};

struct Acked {
  Lsn lsn = 0;
  std::string payload;
};

// One simulated machine with a WAL directory "wal".
class WalRig {
 public:
  explicit WalRig(simfs::DiskFaults faults = {}, uint64_t seed = 1);
  ~WalRig();

  // Runs `task` until it finishes (other tasks, like the WAL's writer, may stay alive).
  template <typename T>
  T Run(Task<T> task);
  // Runs every spawned task until `done()` or nothing can run.
  void RunUntil(const std::function<bool()>& done, uint64_t steps_max = 2'000'000);

  // Opens `wal` (or returns the error). Options default to `options`.
  Status Open();
  Result<Lsn> Append(std::string_view payload, uint8_t type = 1);
  Result<std::vector<Record>> Read(Lsn from, size_t records_max = 100000);
  Status Close();
  // Power loss with the given choice, the old process's coroutines killed, the WAL object gone,
  // then reboot.
  void CrashAndReboot(simfs::CrashChoice choice);

  // The durable segment names in "wal", sorted.
  std::vector<std::string> Segments();
  std::string SegmentPath(Lsn first_lsn) { return options.dir + "/" + SegmentName(first_lsn); }
  // XORs one byte of a file with `mask` and syncs it (outside the WAL, as a damaged disk would).
  void FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0x40);
  // Syncs of .wal files seen in the trace so far.
  uint64_t WalSyncs() const;
  // Checks that the log holds exactly the records 1..durable, each acknowledged one with its
  // payload, and every other one with a payload that some append submitted.
  void ExpectHolds(const std::vector<Acked>& acked, const std::vector<std::string>& submitted);

  simclock::SimClock clock;
  DeterministicRandom sched_random;
  DeterministicRandom disk_random;
  DeterministicRandom fs_random;
  simclock::Trace trace{true};
  simclock::SimScheduler scheduler{clock, sched_random, trace};
  simfs::SimDisk disk;
  simfs::SimFileSystem sim_fs;
  FaultKnobs knobs;
  FaultFs fs{sim_fs, knobs};
  WalOptions options;
  std::unique_ptr<Wal> wal;
};

template <typename T>
Task<void> CaptureInto(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

template <typename T>
T WalRig::Run(Task<T> task) {
  std::optional<T> out;
  scheduler.spawn(CaptureInto(std::move(task), &out), "test");
  RunUntil([&out] { return out.has_value(); });
  EXPECT_TRUE(out.has_value()) << "the task did not finish";
  if (!out.has_value()) return T(Status::Unknown("the task did not finish"));
  return std::move(*out);
}

}  // namespace kiln::wal::testing
