// SimLevelEnv: LevelDB's Env over SimDisk and SimClock. The rules for owners are in the header.
#include "simfs/sim_level_env.h"

#include "engine/runtime/buggify.h"

#include <algorithm>
#include <cassert>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>

#include "engine/runtime/filesystem.h"
#include "leveldb/slice.h"
#include "leveldb/status.h"

namespace kiln::simfs {
namespace {

// Every kiln NotFound is leveldb NotFound (LevelDB tells "missing" from "broken" by it); every
// other code (IOError, NoSpace, InvalidArgument, ...) is IOError with the kiln text, so an I/O
// error is never mistaken for a missing file or for end of file.
leveldb::Status ToLevelDb(const Status& s, std::string_view op, std::string_view path) {
  if (s.ok()) return leveldb::Status::OK();
  std::string context = std::string(op) + " " + std::string(path);
  if (s.IsNotFound()) return leveldb::Status::NotFound(context, s.ToString());
  return leveldb::Status::IOError(context, s.ToString());
}

std::span<const std::byte> Bytes(const leveldb::Slice& data) {
  return {reinterpret_cast<const std::byte*>(data.data()), data.size()};
}

std::string_view Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Reads `n` bytes at `offset` into `scratch`: fewer only at end of file (or none past it).
leveldb::Status ReadAt(SimDisk& disk, FileHandle h, const std::string& path, uint64_t offset,
                       size_t n, leveldb::Slice* result, char* scratch) {
  *result = leveldb::Slice();
  if (n == 0) return leveldb::Status::OK();
  assert(scratch != nullptr);
  Result<size_t> r = disk.read(h, offset, {reinterpret_cast<std::byte*>(scratch), n});
  if (!r.ok()) return ToLevelDb(r.status(), "read", path);
  assert(*r <= n);
  *result = leveldb::Slice(scratch, *r);
  return leveldb::Status::OK();
}

class SimSequentialFile final : public leveldb::SequentialFile {
 public:
  SimSequentialFile(SimDisk& disk, FileHandle h, std::string path)
      : disk_(disk), h_(h), path_(std::move(path)) {}
  ~SimSequentialFile() override { (void)disk_.close(h_); }  // A reader has nothing to lose.

  leveldb::Status Read(size_t n, leveldb::Slice* result, char* scratch) override {
    leveldb::Status s = ReadAt(disk_, h_, path_, offset_, n, result, scratch);
    if (s.ok()) offset_ += result->size();
    return s;
  }
  // Like lseek: skipping past the end is allowed, and later reads return nothing.
  leveldb::Status Skip(uint64_t n) override {
    offset_ += n;
    return leveldb::Status::OK();
  }

 private:
  SimDisk& disk_;
  const FileHandle h_;
  const std::string path_;
  uint64_t offset_ = 0;
};

class SimRandomAccessFile final : public leveldb::RandomAccessFile {
 public:
  SimRandomAccessFile(SimDisk& disk, FileHandle h, std::string path)
      : disk_(disk), h_(h), path_(std::move(path)) {}
  ~SimRandomAccessFile() override { (void)disk_.close(h_); }

  // An offset past the end returns what is there (nothing); LevelDB then reports the short read.
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    return ReadAt(disk_, h_, path_, offset, n, result, scratch);
  }

 private:
  SimDisk& disk_;
  const FileHandle h_;
  const std::string path_;
};

// No buffer: each Append is one disk append, so what a crash tears is exactly what LevelDB wrote.
class SimWritableFile final : public leveldb::WritableFile {
 public:
  SimWritableFile(SimDisk& disk, FileHandle h, std::string path)
      : disk_(disk),
        h_(h),
        path_(std::move(path)),
        is_manifest_(Basename(path_).starts_with("MANIFEST")) {}
  ~SimWritableFile() override {
    if (!closed_) (void)disk_.close(h_);  // LevelDB closes explicitly when it cares.
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (closed_) return leveldb::Status::IOError("append " + path_, "file is closed");
    if (data.empty()) return leveldb::Status::OK();
    return ToLevelDb(disk_.append(h_, Bytes(data)), "append", path_);
  }
  leveldb::Status Close() override {
    if (closed_) return leveldb::Status::OK();
    closed_ = true;  // The disk releases the handle even when it reports an error.
    return ToLevelDb(disk_.close(h_), "close", path_);
  }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }  // Nothing is buffered.
  leveldb::Status Sync() override {
    if (closed_) return leveldb::Status::IOError("sync " + path_, "file is closed");
    // As LevelDB's POSIX Env: the directory first, so that the tables and logs a manifest record
    // names are durable before the record itself can be.
    if (is_manifest_) {
      const std::string dir = ParentDir(path_);
      leveldb::Status s = ToLevelDb(disk_.sync_dir(dir), "sync directory", dir);
      if (!s.ok()) return s;
    }
    return ToLevelDb(disk_.sync(h_), "sync", path_);
  }

 private:
  SimDisk& disk_;
  const FileHandle h_;
  const std::string path_;
  const bool is_manifest_;
  bool closed_ = false;
};

class SimFileLock final : public leveldb::FileLock {
 public:
  explicit SimFileLock(std::string path) : path(std::move(path)) {}
  const std::string path;
};

}  // namespace

// Formats LevelDB's printf-style lines and hands them to the env's sink. Holds no file.
class SimLevelEnv::SimLogger final : public leveldb::Logger {
 public:
  explicit SimLogger(SimLevelEnv* env) : env_(env) {}

  void Logv(const char* format, std::va_list ap) override {
    char buf[512];
    std::va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) {
      env_->EmitLogLine("(unformattable LevelDB log line)");
      return;
    }
    std::string line;
    if (static_cast<size_t>(n) < sizeof buf) {
      line.assign(buf, static_cast<size_t>(n));
    } else {
      // Too long for the stack buffer: format again into one of the right size (bounded).
      const size_t size = std::min(static_cast<size_t>(n), kLogLineBytesMax);
      line.resize(size + 1);
      std::vsnprintf(line.data(), line.size(), format, ap);
      line.resize(size);
    }
    while (!line.empty() && line.back() == '\n') line.pop_back();
    env_->EmitLogLine(line);
  }

 private:
  SimLevelEnv* const env_;
};

SimLevelEnv::SimLevelEnv(SimDisk& disk, simclock::SimClock& clock, simclock::Trace& trace)
    : disk_(disk), clock_(clock), trace_(trace), info_log_(std::make_unique<SimLogger>(this)) {}

// Queued items point into DBs; a DB still open here is the owner's bug (it must be deleted first),
// and running its work now could touch freed memory, so the queue is dropped, not run.
SimLevelEnv::~SimLevelEnv() = default;

leveldb::Options SimLevelEnv::options() {
  leveldb::Options options;  // NOTE: its constructor sets env = Env::Default(); replaced here.
  options.env = this;
  options.info_log = info_log_.get();
  assert(options.env == this);
  assert(options.info_log != nullptr);
  return options;
}

void SimLevelEnv::EmitLogLine(std::string_view line) {
  ++counts_.log_lines;
  if (log_sink_) log_sink_(line.substr(0, kLogLineBytesMax));
}

void SimLevelEnv::Note(std::string_view text, uint64_t a) {
  trace_.record(simclock::TraceKind::kNote, a, 0, text);
}

// --- Background work. ---

void SimLevelEnv::CheckNotInBackgroundWork(const char* op) const {
  if (!running_background_) return;
  std::fprintf(stderr,
               "kiln: SimLevelEnv::%s called from inside background work; queued LevelDB work "
               "must run only when no LevelDB call is on the stack\n",
               op);
  std::abort();
}

bool SimLevelEnv::run_background_work_once() {
  CheckNotInBackgroundWork("run_background_work_once");
  if (queue_.empty()) return false;
  const WorkItem item = queue_.front();
  queue_.pop_front();
  ++counts_.background_items_run;
  Note("leveldb background run", counts_.background_items_run);
  running_background_ = true;
  item.function(item.arg);  // May Schedule() again: that appends to the queue.
  running_background_ = false;
  return true;
}

size_t SimLevelEnv::drain_background_work(size_t max_items) {
  CheckNotInBackgroundWork("drain_background_work");
  size_t ran = 0;
  while (has_background_work()) {
    if (ran >= max_items) {
      std::fprintf(stderr,
                   "kiln: SimLevelEnv::drain_background_work ran %zu items and %zu are still "
                   "queued: LevelDB keeps re-scheduling background work\n",
                   ran, queue_.size());
      std::abort();
    }
    const bool did_run = run_background_work_once();
    assert(did_run);
    (void)did_run;
    ++ran;
  }
  assert(queue_.empty());
  return ran;
}

void SimLevelEnv::Schedule(void (*function)(void* arg), void* arg) {
  assert(function != nullptr);
  if (queue_.size() >= kBackgroundQueueMax) {
    std::fprintf(stderr,
                 "kiln: SimLevelEnv has %zu queued background items: nobody drains LevelDB's "
                 "background work\n",
                 queue_.size());
    std::abort();
  }
  queue_.push_back(WorkItem{function, arg});
  ++counts_.background_items_scheduled;
  Note("leveldb schedule", queue_.size());
}

void SimLevelEnv::StartThread(void (*function)(void* arg), void* arg) {
  std::fprintf(stderr,
               "kiln: SimLevelEnv::StartThread called: a deterministic simulation runs no threads "
               "(LevelDB's DB never calls this; find the caller)\n");
  std::abort();
}

// --- DB lifetime. ---

void SimLevelEnv::CloseDb(std::unique_ptr<leveldb::DB>& db) {
  CheckNotInBackgroundWork("CloseDb");
  if (db == nullptr) return;
  drain_background_work();
  db.reset();  // ~DBImpl finds no scheduled compaction, so it does not wait.
  // Deleting a DB schedules nothing; if it ever did, the item would point at freed memory.
  assert(!has_background_work());
}

void SimLevelEnv::CrashAndDelete(std::unique_ptr<leveldb::DB>& db) {
  CheckNotInBackgroundWork("CrashAndDelete");
  ++counts_.crashes;
  Note("leveldb crash-and-delete", disk_.dead() ? 1 : 0);
  if (!disk_.dead()) disk_.crash();
  assert(disk_.dead());
  drain_background_work();  // Runs against the dead disk: it fails and schedules nothing more.
  db.reset();
  assert(!has_background_work());
  disk_.reboot();
  assert(!disk_.dead());
}

// --- Files. ---

leveldb::Status SimLevelEnv::NewSequentialFile(const std::string& fname,
                                               leveldb::SequentialFile** result) {
  *result = nullptr;
  Result<FileHandle> h = disk_.open(fname, OpenOptions{.read_only = true});
  if (!h.ok()) return ToLevelDb(h.status(), "open", fname);
  *result = new SimSequentialFile(disk_, *h, fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::NewRandomAccessFile(const std::string& fname,
                                                 leveldb::RandomAccessFile** result) {
  *result = nullptr;
  Result<FileHandle> h = disk_.open(fname, OpenOptions{.read_only = true});
  if (!h.ok()) return ToLevelDb(h.status(), "open", fname);
  *result = new SimRandomAccessFile(disk_, *h, fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::NewWritableFile(const std::string& fname,
                                             leveldb::WritableFile** result) {
  *result = nullptr;
  Result<FileHandle> h = disk_.open(fname, OpenOptions{.create = true, .truncate = true});
  if (!h.ok()) return ToLevelDb(h.status(), "open", fname);
  *result = new SimWritableFile(disk_, *h, fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::NewAppendableFile(const std::string& fname,
                                               leveldb::WritableFile** result) {
  *result = nullptr;
  Result<FileHandle> h = disk_.open(fname, OpenOptions{.create = true});
  if (!h.ok()) return ToLevelDb(h.status(), "open", fname);
  *result = new SimWritableFile(disk_, *h, fname);  // Appends go to the end of the file.
  return leveldb::Status::OK();
}

// --- Names. ---

bool SimLevelEnv::FileExists(const std::string& fname) {
  Result<bool> r = disk_.exists(fname);
  if (r.ok()) return *r;
  if (r.status().IsNotFound()) return false;
  Note("leveldb file-exists error answered true: " + r.status().ToString());
  return true;  // See the header: "false" could make LevelDB create a new DB over the old one.
}

leveldb::Status SimLevelEnv::GetChildren(const std::string& dir, std::vector<std::string>* result) {
  result->clear();
  Result<std::vector<std::string>> names = disk_.list(dir);
  if (!names.ok()) return ToLevelDb(names.status(), "list", dir);
  *result = std::move(*names);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::RemoveFile(const std::string& fname) {
  return ToLevelDb(disk_.remove(fname), "remove", fname);
}

leveldb::Status SimLevelEnv::CreateDir(const std::string& dirname) {
  return ToLevelDb(disk_.create_dir(dirname), "create directory", dirname);
}

leveldb::Status SimLevelEnv::RemoveDir(const std::string& dirname) {
  return ToLevelDb(disk_.remove(dirname), "remove directory", dirname);
}

leveldb::Status SimLevelEnv::GetFileSize(const std::string& fname, uint64_t* file_size) {
  *file_size = 0;
  Result<uint64_t> size = disk_.file_size(fname);
  if (!size.ok()) return ToLevelDb(size.status(), "size", fname);
  *file_size = *size;
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::RenameFile(const std::string& src, const std::string& target) {
  return ToLevelDb(disk_.rename(src, target), "rename " + src + " to", target);
}

leveldb::Status SimLevelEnv::LockFile(const std::string& fname, leveldb::FileLock** lock) {
  *lock = nullptr;
  // The disk's lock creates a missing lock file, as POSIX's open(O_CREAT) + fcntl does.
  const Status locked = disk_.lock(fname);
  if (locked.IsUnavailable()) {
    return leveldb::Status::IOError("lock " + fname, "already held: " + locked.ToString());
  }
  if (!locked.ok()) return ToLevelDb(locked, "lock", fname);
  *lock = new SimFileLock(fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelEnv::UnlockFile(leveldb::FileLock* lock) {
  assert(lock != nullptr);
  auto* sim_lock = static_cast<SimFileLock*>(lock);
  const std::string path = sim_lock->path;
  delete sim_lock;
  return ToLevelDb(disk_.unlock(path), "unlock", path);
}

leveldb::Status SimLevelEnv::GetTestDirectory(std::string* path) {
  *path = "/test";
  return CreateDir(*path);
}

leveldb::Status SimLevelEnv::NewLogger(const std::string& fname, leveldb::Logger** result) {
  *result = new SimLogger(this);
  return leveldb::Status::OK();
}

// --- Time. ---

uint64_t SimLevelEnv::NowMicros() {
  const int64_t now_us = ToMicros(clock_.monotonic_now());
  assert(now_us >= 0);
  return kNowBaseMicros + static_cast<uint64_t>(now_us);
}

void SimLevelEnv::SleepForMicroseconds(int micros) {
  ++counts_.sleeps;
  if (micros > 0) clock_.advance(Duration(micros));
  // Virtual time moved outside the scheduler: keep the trace's position honest.
  trace_.set_position(trace_.step(), ToMicros(clock_.monotonic_now()));
  Note("leveldb sleep", static_cast<uint64_t>(micros > 0 ? micros : 0));
}

// --- The background coroutine. ---

Task<void> RunLevelDbBackground(Scheduler& scheduler, Random& random, SimLevelEnv& env,
                                Duration poll_max) {
  assert(poll_max >= Duration::zero());
  for (;;) {  // Ends when its process is killed; the scheduler's step limit bounds the run.
    Duration wait(random.range(0, poll_max.count()));
    // Rare but legal: compactions fall far behind the writers (who then drain them themselves).
    if (BUGGIFY) wait *= 100;
    co_await scheduler.sleep_for(wait);
    env.run_background_work_once();
  }
}

}  // namespace kiln::simfs
