// PosixFileSystem: the production FileSystem over POSIX calls (pread/pwrite/fdatasync/
// fallocate, fsync of directories, flock). Every call that can block runs through
// Scheduler::blocking, so the loop thread never waits on the disk.
#pragma once

#include <string>
#include <string_view>

#include "engine/runtime/filesystem.h"
#include "engine/runtime/scheduler.h"

namespace kiln {

// Maps a POSIX errno from operation `op` on `path` to a Status: ENOSPC and EDQUOT are NoSpace,
// ENOENT is NotFound, EIO and everything else is IOError. The message names the operation, the
// path and the error ("pwrite /data/wal/000001.log: No space left on device"), so a person can
// act on it. REQUIRES: err != 0.
Status PosixError(std::string_view op, std::string_view path, int err);

// Failure contract: see filesystem.h. Beyond it:
// - open(): exclusive without create, or read_only with truncate, is InvalidArgument; files are
//   opened O_CLOEXEC with mode 0644 (less the umask). Writes, truncate and allocate on a
//   read_only file are InvalidArgument. Any operation on a closed file is InvalidArgument.
// - append() reserves its range at the end the File has tracked (starting from the size at
//   open) when it is called, so appends issued concurrently never overlap. A failed write leaves
//   its range reserved, with undefined bytes. REQUIRES: no other handle or process changes the
//   file's size while this File appends.
// - allocate() uses fallocate(FALLOC_FL_KEEP_SIZE); a filesystem without it gives IOError.
// - file_size() of a directory, and open() of one, are IOError.
// - A File's operations may overlap (each runs on the blocking pool), except close(): REQUIRES
//   no other operation of the File is in flight when close() is called or the File is destroyed.
// - lock() creates the file if needed and takes flock(LOCK_EX | LOCK_NB). The locks held in this
//   process are also tracked (by device and inode, so two spellings of one path are one lock),
//   because on some filesystems (NFS) flock is emulated with per-process fcntl locks: a second
//   lock of the same file is Unavailable whether it comes from another process, this file
//   system, or another PosixFileSystem in this process.
// Ownership: files hold a reference to the scheduler, which must outlive them; locks do not.
// Interrupted calls (EINTR) are retried, up to a bound; short reads and writes are continued.
class PosixFileSystem final : public FileSystem {
 public:
  // `scheduler` runs the blocking calls and must outlive this object and every file it opens.
  explicit PosixFileSystem(Scheduler& scheduler) : scheduler_(scheduler) {}

  Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<Status> create_dir(std::string path) override;
  Task<Status> remove(std::string path) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Result<std::vector<std::string>>> list(std::string dir) override;
  Task<Status> sync_directory(std::string dir) override;
  Task<Result<uint64_t>> file_size(std::string path) override;
  Task<Result<bool>> exists(std::string path) override;
  Task<Result<std::unique_ptr<FileLock>>> lock(std::string path) override;

 private:
  Scheduler& scheduler_;
};

}  // namespace kiln
