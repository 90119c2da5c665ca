// SimFileSystem: kiln::FileSystem over a SimDisk, on the simulated scheduler. Each operation
// first sleeps a seeded latency on virtual time (occasionally a much longer one: the "slow I/O"
// fault), then performs the disk's synchronous operation; the disk's errors pass through
// unchanged, so every fault of the disk model reaches the engine as it would in production.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/filesystem.h"
#include "engine/runtime/random.h"
#include "engine/runtime/scheduler.h"
#include "simfs/sim_disk.h"

namespace kiln::simfs {

// How long each kind of operation takes, in virtual microseconds: uniform in [min, max].
struct IoLatency {
  int64_t read_us_min = 20;
  int64_t read_us_max = 200;
  int64_t write_us_min = 20;  // write_at, append, truncate, allocate.
  int64_t write_us_max = 200;
  int64_t sync_us_min = 200;  // sync, sync_directory.
  int64_t sync_us_max = 5000;
  int64_t metadata_us_min = 10;  // open, close, size, names, lock.
  int64_t metadata_us_max = 100;
  // The probability that one operation takes slow_io_factor times its drawn latency (a device
  // stall: garbage collection in an SSD, a retried sector). Recorded as fault "slow-io".
  double slow_io_p = 0;
  uint32_t slow_io_factor = 100;
};

class SimFileSystem final : public FileSystem {
 public:
  enum class OpKind : uint8_t { kRead, kWrite, kSync, kMetadata };

  // All three must outlive the file system and every File and FileLock it returns.
  SimFileSystem(SimDisk& disk, Scheduler& scheduler, Random& random, IoLatency latency = {});

  Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<Status> create_dir(std::string path) override;
  Task<Status> remove(std::string path) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Result<std::vector<std::string>>> list(std::string dir) override;
  Task<Status> sync_directory(std::string dir) override;
  Task<Result<uint64_t>> file_size(std::string path) override;
  Task<Result<bool>> exists(std::string path) override;
  // The lock is released when the FileLock is destroyed, unless a crash released it first.
  Task<Result<std::unique_ptr<FileLock>>> lock(std::string path) override;

  // The seeded latency of one operation of `kind`; records a slow-io fault when it strikes.
  Duration latency(OpKind kind, std::string_view what);
  SimDisk& disk() { return disk_; }
  Scheduler& scheduler() { return scheduler_; }
  uint64_t slow_ios() const { return slow_ios_; }

 private:
  SimDisk& disk_;
  Scheduler& scheduler_;
  Random& random_;
  IoLatency latency_;
  uint64_t slow_ios_ = 0;
};

}  // namespace kiln::simfs
