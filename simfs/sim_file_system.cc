// SimFileSystem, SimFile and SimFileLock: latency on virtual time, then the disk's operation.
#include "simfs/sim_file_system.h"

#include <cassert>
#include <utility>

namespace kiln::simfs {
namespace {

using OpKind = SimFileSystem::OpKind;

class SimFile final : public File {
 public:
  SimFile(SimFileSystem& fs, FileHandle handle, std::string path)
      : fs_(fs), handle_(handle), path_(std::move(path)) {}
  ~SimFile() override {
    // Closing without the latency: a destructor cannot wait. Errors are for close() to report.
    if (!closed_ && !fs_.disk().dead()) static_cast<void>(fs_.disk().close(handle_));
  }

  Task<Result<size_t>> read_at(uint64_t offset, std::span<std::byte> buf) override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kRead, path_));
    co_return fs_.disk().read(handle_, offset, buf);
  }
  Task<Status> write_at(uint64_t offset, std::span<const std::byte> data) override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kWrite, path_));
    co_return fs_.disk().write(handle_, offset, data);
  }
  Task<Status> append(std::span<const std::byte> data) override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kWrite, path_));
    co_return fs_.disk().append(handle_, data);
  }
  Task<Status> truncate(uint64_t size_bytes) override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kWrite, path_));
    co_return fs_.disk().truncate(handle_, size_bytes);
  }
  Task<Status> sync() override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kSync, path_));
    co_return fs_.disk().sync(handle_);
  }
  Task<Status> allocate(uint64_t offset, uint64_t length) override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kWrite, path_));
    co_return fs_.disk().allocate(handle_, offset, length);
  }
  Task<Result<uint64_t>> size() override {
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kMetadata, path_));
    co_return fs_.disk().size(handle_);
  }
  Task<Status> close() override {
    if (closed_) co_return Status::InvalidArgument("close " + path_ + ": already closed");
    co_await fs_.scheduler().sleep_for(fs_.latency(OpKind::kMetadata, path_));
    closed_ = true;  // The disk releases the handle even when it reports an error.
    co_return fs_.disk().close(handle_);
  }

 private:
  SimFileSystem& fs_;
  FileHandle handle_;
  std::string path_;
  bool closed_ = false;
};

class SimFileLock final : public FileLock {
 public:
  SimFileLock(SimDisk& disk, std::string path)
      : disk_(disk), path_(std::move(path)), boot_(disk.boot_count()) {}
  ~SimFileLock() override {
    // A crash released the lock already, and after the reboot it may be someone else's.
    if (!disk_.dead() && disk_.boot_count() == boot_) static_cast<void>(disk_.unlock(path_));
  }

 private:
  SimDisk& disk_;
  std::string path_;
  uint64_t boot_;
};

}  // namespace

SimFileSystem::SimFileSystem(SimDisk& disk, Scheduler& scheduler, Random& random, IoLatency latency)
    : disk_(disk), scheduler_(scheduler), random_(random), latency_(latency) {
  assert(latency_.read_us_min >= 0 && latency_.read_us_min <= latency_.read_us_max);
  assert(latency_.write_us_min >= 0 && latency_.write_us_min <= latency_.write_us_max);
  assert(latency_.sync_us_min >= 0 && latency_.sync_us_min <= latency_.sync_us_max);
  assert(latency_.metadata_us_min >= 0 && latency_.metadata_us_min <= latency_.metadata_us_max);
  assert(latency_.slow_io_factor >= 1);
}

Duration SimFileSystem::latency(OpKind kind, std::string_view what) {
  int64_t lo = latency_.metadata_us_min;
  int64_t hi = latency_.metadata_us_max;
  switch (kind) {
    case OpKind::kRead:
      lo = latency_.read_us_min, hi = latency_.read_us_max;
      break;
    case OpKind::kWrite:
      lo = latency_.write_us_min, hi = latency_.write_us_max;
      break;
    case OpKind::kSync:
      lo = latency_.sync_us_min, hi = latency_.sync_us_max;
      break;
    case OpKind::kMetadata:
      break;
  }
  int64_t us = random_.range(lo, hi);
  if (random_.chance(latency_.slow_io_p)) {
    us *= latency_.slow_io_factor;
    ++slow_ios_;
    disk_.trace().record_fault("slow-io", std::string(what) + " " + std::to_string(us) + "us");
  }
  assert(us >= 0);
  return Duration(us);
}

Task<Result<std::unique_ptr<File>>> SimFileSystem::open(std::string path, OpenOptions options) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  Result<FileHandle> h = disk_.open(path, options);
  if (!h.ok()) co_return h.status();
  co_return std::unique_ptr<File>(std::make_unique<SimFile>(*this, *h, std::move(path)));
}

Task<Status> SimFileSystem::create_dir(std::string path) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  co_return disk_.create_dir(path);
}

Task<Status> SimFileSystem::remove(std::string path) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  co_return disk_.remove(path);
}

Task<Status> SimFileSystem::rename(std::string from, std::string to) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, from));
  co_return disk_.rename(from, to);
}

Task<Result<std::vector<std::string>>> SimFileSystem::list(std::string dir) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, dir));
  co_return disk_.list(dir);
}

Task<Status> SimFileSystem::sync_directory(std::string dir) {
  co_await scheduler_.sleep_for(latency(OpKind::kSync, dir));
  co_return disk_.sync_dir(dir);
}

Task<Result<uint64_t>> SimFileSystem::file_size(std::string path) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  co_return disk_.file_size(path);
}

Task<Result<bool>> SimFileSystem::exists(std::string path) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  co_return disk_.exists(path);
}

Task<Result<std::unique_ptr<FileLock>>> SimFileSystem::lock(std::string path) {
  co_await scheduler_.sleep_for(latency(OpKind::kMetadata, path));
  if (Status s = disk_.lock(path); !s.ok()) co_return s;
  co_return std::unique_ptr<FileLock>(std::make_unique<SimFileLock>(disk_, std::move(path)));
}

}  // namespace kiln::simfs
