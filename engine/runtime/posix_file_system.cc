#include "engine/runtime/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <limits>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

namespace kiln {
namespace {

// A call interrupted by a signal is retried, but not forever.
constexpr int kEintrRetriesMax = 1000;
// Linux transfers at most ~2 GiB per call; asking for less keeps every request well-formed.
constexpr size_t kIoChunkBytesMax = size_t{1} << 30;
constexpr uint64_t kOffsetMax = static_cast<uint64_t>(std::numeric_limits<off_t>::max());
constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirMode = 0755;

// An owned file descriptor. Results that carry one close it if nobody takes it (e.g. the
// awaiting task was destroyed while the blocking call ran), so no descriptor leaks.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    // NOTE: close() is not retried on EINTR: Linux has released the descriptor either way.
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status CheckRange(std::string_view op, std::string_view path, uint64_t offset, uint64_t length) {
  if (offset > kOffsetMax || length > kOffsetMax - offset) {
    return Status::InvalidArgument(std::string(op) + " " + std::string(path) + ": offset " +
                                   std::to_string(offset) + " + length " + std::to_string(length) +
                                   " is past the largest file offset");
  }
  return Status::Ok();
}

// Opens `path`; on failure returns the mapped error and stores the errno in `*err_out`.
Result<UniqueFd> OpenFd(std::string_view op, const std::string& path, int flags, mode_t mode,
                        int* err_out = nullptr) {
  assert((flags & O_CLOEXEC) != 0);
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(path.c_str(), flags, mode);
    if (fd >= 0) return UniqueFd(fd);
    const int err = errno;
    if (err == EINTR && attempt + 1 < kEintrRetriesMax) continue;
    if (err_out != nullptr) *err_out = err;
    return PosixError(op, path, err);
  }
}

// Reads until `buf` is full or end of file. An error is an error even after a partial read:
// never a short read.
Result<size_t> PreadFully(int fd, uint64_t offset, std::span<std::byte> buf,
                          const std::string& path) {
  assert(fd >= 0);
  size_t done_bytes = 0;
  int eintr_count = 0;
  while (done_bytes < buf.size()) {
    const size_t want_bytes = std::min(buf.size() - done_bytes, kIoChunkBytesMax);
    const ssize_t n =
        ::pread(fd, buf.data() + done_bytes, want_bytes, static_cast<off_t>(offset + done_bytes));
    if (n < 0) {
      const int err = errno;
      if (err == EINTR && ++eintr_count < kEintrRetriesMax) continue;
      return PosixError("pread", path, err);
    }
    if (n == 0) break;  // End of file: the only way a read comes back short.
    assert(static_cast<size_t>(n) <= want_bytes);
    done_bytes += static_cast<size_t>(n);
  }
  assert(done_bytes <= buf.size());
  return done_bytes;
}

// Writes all of `data`, continuing after short writes.
Status PwriteFully(int fd, uint64_t offset, std::span<const std::byte> data,
                   const std::string& path) {
  assert(fd >= 0);
  size_t done_bytes = 0;
  int eintr_count = 0;
  while (done_bytes < data.size()) {
    const size_t want_bytes = std::min(data.size() - done_bytes, kIoChunkBytesMax);
    const ssize_t n =
        ::pwrite(fd, data.data() + done_bytes, want_bytes, static_cast<off_t>(offset + done_bytes));
    if (n < 0) {
      const int err = errno;
      if (err == EINTR && ++eintr_count < kEintrRetriesMax) continue;
      return PosixError("pwrite", path, err);
    }
    // A zero-byte write of a non-empty buffer makes no progress; looping on it would spin.
    if (n == 0) return Status::IOError("pwrite " + path + ": wrote 0 bytes");
    assert(static_cast<size_t>(n) <= want_bytes);
    done_bytes += static_cast<size_t>(n);
  }
  assert(done_bytes == data.size());
  return Status::Ok();
}

// Locks held by this process, by (device, inode). flock locks already conflict between two
// descriptors of one process; the table also covers filesystems (NFS) where flock is emulated
// with per-process fcntl locks, and gives the clearer message.
class LockTable {
 public:
  using Key = std::pair<dev_t, ino_t>;
  static LockTable& Instance() {
    static LockTable table;
    return table;
  }
  bool insert(Key key) {
    std::lock_guard lock(mu_);
    return held_.insert(key).second;
  }
  void erase(Key key) {
    std::lock_guard lock(mu_);
    const size_t erased = held_.erase(key);
    assert(erased == 1);
    (void)erased;
  }

 private:
  std::mutex mu_;
  std::set<Key> held_;
};

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(UniqueFd fd, LockTable::Key key) : fd_(std::move(fd)), key_(key) {
    assert(fd_.get() >= 0);
  }
  ~PosixFileLock() override {
    // Release the OS lock before the table entry, so no other lock() can see the table free
    // while the OS lock is still held.
    ::flock(fd_.get(), LOCK_UN);
    fd_.reset();
    LockTable::Instance().erase(key_);
  }

 private:
  UniqueFd fd_;
  LockTable::Key key_;
};

// Runs on the blocking pool: open (creating), register in the table, flock.
Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) {
  Result<UniqueFd> fd = OpenFd("lock", path, O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return PosixError("lock (fstat)", path, errno);
  const LockTable::Key key{st.st_dev, st.st_ino};
  if (!LockTable::Instance().insert(key)) {
    return Status::Unavailable("lock " + path + ": already held by this process");
  }
  if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    LockTable::Instance().erase(key);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("lock " + path + ": held by another process");
    }
    return PosixError("lock (flock)", path, err);
  }
  return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(std::move(*fd), key));
}

class PosixFile final : public File {
 public:
  PosixFile(Scheduler& scheduler, UniqueFd fd, std::string path, bool read_only,
            uint64_t size_bytes)
      : scheduler_(scheduler),
        fd_(std::move(fd)),
        path_(std::move(path)),
        read_only_(read_only),
        end_bytes_(size_bytes) {
    assert(fd_.get() >= 0);
  }

  Task<Result<size_t>> read_at(uint64_t offset, std::span<std::byte> buf) override;
  Task<Status> write_at(uint64_t offset, std::span<const std::byte> data) override;
  Task<Status> append(std::span<const std::byte> data) override;
  Task<Status> truncate(uint64_t size_bytes) override;
  Task<Status> sync() override;
  Task<Status> allocate(uint64_t offset, uint64_t length) override;
  Task<Result<uint64_t>> size() override;
  Task<Status> close() override;

 private:
  Status check_open(std::string_view op) const {
    if (fd_.get() >= 0) return Status::Ok();
    return Status::InvalidArgument(std::string(op) + " " + path_ + ": the file is closed");
  }
  Status check_writable(std::string_view op) const {
    if (Status s = check_open(op); !s.ok()) return s;
    if (!read_only_) return Status::Ok();
    return Status::InvalidArgument(std::string(op) + " " + path_ + ": the file is read-only");
  }
  Task<Status> write_range(uint64_t offset, std::span<const std::byte> data);

  Scheduler& scheduler_;
  UniqueFd fd_;
  const std::string path_;
  const bool read_only_;
  // The end of the file as far as this File knows: its size at open, moved by every write
  // when it is issued (so concurrent appends get disjoint ranges) and by truncate.
  uint64_t end_bytes_;
};

Task<Result<size_t>> PosixFile::read_at(uint64_t offset, std::span<std::byte> buf) {
  if (Status s = check_open("read_at"); !s.ok()) co_return s;
  if (Status s = CheckRange("read_at", path_, offset, buf.size()); !s.ok()) co_return s;
  if (buf.empty()) co_return size_t{0};
  Result<size_t> n = co_await scheduler_.blocking(
      [this, offset, buf] { return PreadFully(fd_.get(), offset, buf, path_); });
  assert(!n.ok() || *n <= buf.size());
  co_return n;
}

Task<Status> PosixFile::write_range(uint64_t offset, std::span<const std::byte> data) {
  assert(offset <= kOffsetMax);
  if (data.empty()) co_return Status::Ok();
  co_return co_await scheduler_.blocking(
      [this, offset, data] { return PwriteFully(fd_.get(), offset, data, path_); });
}

Task<Status> PosixFile::write_at(uint64_t offset, std::span<const std::byte> data) {
  if (Status s = check_writable("write_at"); !s.ok()) co_return s;
  if (Status s = CheckRange("write_at", path_, offset, data.size()); !s.ok()) co_return s;
  // An empty write changes nothing: it does not extend the file (pwrite of 0 bytes does not).
  if (data.empty()) co_return Status::Ok();
  end_bytes_ = std::max(end_bytes_, offset + data.size());
  co_return co_await write_range(offset, data);
}

Task<Status> PosixFile::append(std::span<const std::byte> data) {
  if (Status s = check_writable("append"); !s.ok()) co_return s;
  const uint64_t offset = end_bytes_;
  if (Status s = CheckRange("append", path_, offset, data.size()); !s.ok()) co_return s;
  // Reserve the range now, on the loop, before any other append can run.
  end_bytes_ = offset + data.size();
  assert(end_bytes_ >= offset);
  co_return co_await write_range(offset, data);
}

Task<Status> PosixFile::truncate(uint64_t size_bytes) {
  if (Status s = check_writable("truncate"); !s.ok()) co_return s;
  if (Status s = CheckRange("truncate", path_, size_bytes, 0); !s.ok()) co_return s;
  Status s = co_await scheduler_.blocking([this, size_bytes] {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size_bytes)) == 0) return Status::Ok();
    return PosixError("ftruncate", path_, errno);
  });
  if (s.ok()) end_bytes_ = size_bytes;
  co_return s;
}

Task<Status> PosixFile::sync() {
  if (Status s = check_open("sync"); !s.ok()) co_return s;
  // NOTE: a failed fdatasync is reported as is and never retried (see filesystem.h).
  co_return co_await scheduler_.blocking([this] {
    if (::fdatasync(fd_.get()) == 0) return Status::Ok();
    return PosixError("fdatasync", path_, errno);
  });
}

Task<Status> PosixFile::allocate(uint64_t offset, uint64_t length) {
  if (Status s = check_writable("allocate"); !s.ok()) co_return s;
  if (Status s = CheckRange("allocate", path_, offset, length); !s.ok()) co_return s;
  if (length == 0) co_return Status::Ok();  // fallocate rejects an empty range.
  co_return co_await scheduler_.blocking([this, offset, length] {
    // KEEP_SIZE: reserve blocks without moving the end of file (posix_fallocate would).
    for (int attempt = 0;; ++attempt) {
      if (::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                      static_cast<off_t>(length)) == 0) {
        return Status::Ok();
      }
      const int err = errno;
      if (err != EINTR || attempt + 1 >= kEintrRetriesMax)
        return PosixError("fallocate", path_, err);
    }
  });
}

Task<Result<uint64_t>> PosixFile::size() {
  if (Status s = check_open("size"); !s.ok()) co_return s;
  co_return co_await scheduler_.blocking([this]() -> Result<uint64_t> {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return PosixError("fstat", path_, errno);
    assert(st.st_size >= 0);
    return static_cast<uint64_t>(st.st_size);
  });
}

Task<Status> PosixFile::close() {
  if (Status s = check_open("close"); !s.ok()) co_return s;
  // The descriptor moves into this frame, so it is closed even if this task dies first.
  // HACK: captured by reference, not moved into the lambda: GCC 12 destroys an aggregate
  // temporary (a closure too) with a non-trivial destructor twice when it appears in a co_await
  // expression, which here would close the descriptor twice.
  UniqueFd fd = std::move(fd_);
  co_return co_await scheduler_.blocking([this, &fd] {
    if (::close(fd.release()) == 0) return Status::Ok();
    return PosixError("close", path_, errno);
  });
}

struct OpenedFile {
  UniqueFd fd;
  uint64_t size_bytes = 0;
};

Result<OpenedFile> OpenFile(const std::string& path, int flags) {
  int err = 0;
  Result<UniqueFd> fd = OpenFd("open", path, flags, kFileMode, &err);
  if (!fd.ok()) {
    // filesystem.h: an exclusive create of an existing file is InvalidArgument.
    if (err == EEXIST) return Status::InvalidArgument("open " + path + ": exists (exclusive)");
    return fd.status();
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return PosixError("open (fstat)", path, errno);
  // O_RDONLY opens a directory without complaint; reads would then fail, so refuse it here.
  if (S_ISDIR(st.st_mode)) return PosixError("open", path, EISDIR);
  assert(st.st_size >= 0);
  return OpenedFile{std::move(*fd), static_cast<uint64_t>(st.st_size)};
}

Status CreateDir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) == 0) return Status::Ok();
  const int err = errno;
  if (err != EEXIST) return PosixError("mkdir", path, err);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return PosixError("mkdir (stat)", path, errno);
  if (S_ISDIR(st.st_mode)) return Status::Ok();
  return Status::IOError("mkdir " + path + ": exists and is not a directory");
}

Status RemovePath(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return Status::Ok();
  const int err = errno;
  // Linux says EISDIR for a directory, POSIX EPERM.
  struct stat st;
  const bool is_dir =
      (err == EISDIR || err == EPERM) && ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (!is_dir) return PosixError("unlink", path, err);
  if (::rmdir(path.c_str()) == 0) return Status::Ok();
  return PosixError("rmdir", path, errno);
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return PosixError("opendir", dir, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return PosixError("readdir", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

Status SyncDir(const std::string& dir) {
  Result<UniqueFd> fd = OpenFd("open directory", dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return PosixError("fsync directory", dir, errno);
  return Status::Ok();
}

}  // namespace

Status PosixError(std::string_view op, std::string_view path, int err) {
  assert(err != 0);
  std::string msg(op);
  msg += " ";
  msg += path;
  msg += ": ";
  // std::generic_category's message is thread-safe, unlike strerror.
  msg += std::error_code(err, std::generic_category()).message();
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(msg);
    case ENOENT:
      return Status::NotFound(msg);
    default:
      // EIO and everything unforeseen: an I/O error, never end of file.
      return Status::IOError(msg);
  }
}

Task<Result<std::unique_ptr<File>>> PosixFileSystem::open(std::string path, OpenOptions options) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("open");
  if (options.exclusive && !options.create) {
    co_return Status::InvalidArgument("open " + path + ": exclusive requires create");
  }
  if (options.read_only && options.truncate) {
    co_return Status::InvalidArgument("open " + path + ": read_only with truncate");
  }
  int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  if (options.create) flags |= O_CREAT;
  if (options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  Result<OpenedFile> opened =
      co_await scheduler_.blocking([&path, flags] { return OpenFile(path, flags); });
  if (!opened.ok()) co_return opened.status();
  co_return std::unique_ptr<File>(std::make_unique<PosixFile>(
      scheduler_, std::move(opened->fd), std::move(path), options.read_only, opened->size_bytes));
}

Task<Status> PosixFileSystem::create_dir(std::string path) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("create_dir");
  co_return co_await scheduler_.blocking([&path] { return CreateDir(path); });
}

Task<Status> PosixFileSystem::remove(std::string path) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("remove");
  co_return co_await scheduler_.blocking([&path] { return RemovePath(path); });
}

Task<Status> PosixFileSystem::rename(std::string from, std::string to) {
  if (Status s = ValidatePath(from); !s.ok()) co_return s.WithContext("rename (from)");
  if (Status s = ValidatePath(to); !s.ok()) co_return s.WithContext("rename (to)");
  co_return co_await scheduler_.blocking([&from, &to] {
    if (::rename(from.c_str(), to.c_str()) == 0) return Status::Ok();
    return PosixError("rename", from + " -> " + to, errno);
  });
}

Task<Result<std::vector<std::string>>> PosixFileSystem::list(std::string dir) {
  if (Status s = ValidatePath(dir); !s.ok()) co_return s.WithContext("list");
  co_return co_await scheduler_.blocking([&dir] { return ListDir(dir); });
}

Task<Status> PosixFileSystem::sync_directory(std::string dir) {
  if (Status s = ValidatePath(dir); !s.ok()) co_return s.WithContext("sync_directory");
  co_return co_await scheduler_.blocking([&dir] { return SyncDir(dir); });
}

Task<Result<uint64_t>> PosixFileSystem::file_size(std::string path) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("file_size");
  co_return co_await scheduler_.blocking([&path]() -> Result<uint64_t> {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return PosixError("file_size", path, EISDIR);
    assert(st.st_size >= 0);
    return static_cast<uint64_t>(st.st_size);
  });
}

Task<Result<bool>> PosixFileSystem::exists(std::string path) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("exists");
  co_return co_await scheduler_.blocking([&path]() -> Result<bool> {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    const int err = errno;
    // A missing entry, or a missing directory along the way ("file/x"), means it does not exist.
    if (err == ENOENT || err == ENOTDIR) return false;
    return PosixError("stat", path, err);
  });
}

Task<Result<std::unique_ptr<FileLock>>> PosixFileSystem::lock(std::string path) {
  if (Status s = ValidatePath(path); !s.ok()) co_return s.WithContext("lock");
  co_return co_await scheduler_.blocking([&path] { return LockFile(path); });
}

}  // namespace kiln
