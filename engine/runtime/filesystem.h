// FileSystem: the engine's only way to the disk. PosixFileSystem is the real one; simfs provides
// a simulated disk with a fault model behind the same interface.
//
// Failure contract, for every implementation:
// - A short read happens only at end of file. An I/O error is IOError, never a short read and
//   never end-of-file.
// - Running out of space is NoSpace, distinct from IOError. A failed write may have applied none,
//   a prefix, or all of its bytes: the caller must treat the range as undefined.
// - sync() makes the file's data durable. If it fails, the data it covered may be lost even if a
//   later sync() succeeds: never retry a failed sync and trust it.
// - Creating, renaming and removing a name is durable only after sync_directory() on the parent.
// - Paths are '/'-separated; an empty path or one containing NUL is InvalidArgument.
// Coroutine rules: REQUIRES that buffers passed by span outlive the returned Task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/runtime/status.h"
#include "engine/runtime/task.h"

namespace kiln {

struct OpenOptions {
  bool create = false;     // Create the file if it does not exist.
  bool exclusive = false;  // With create: fail with InvalidArgument if it exists.
  bool truncate = false;   // Truncate to zero length on open.
  bool read_only = false;  // Writes fail with InvalidArgument.
};

class File {
 public:
  // Destroying an open file closes it; close() is the way to see a close error.
  virtual ~File() = default;

  // Reads up to buf.size() bytes at `offset` and returns how many were read: fewer only at end
  // of file, 0 when offset >= size.
  virtual Task<Result<size_t>> read_at(uint64_t offset, std::span<std::byte> buf) = 0;
  // Writes all of `data` at `offset`, extending the file if needed. An empty write changes
  // nothing (it does not extend the file).
  virtual Task<Status> write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  // Writes all of `data` at the current end of the file.
  virtual Task<Status> append(std::span<const std::byte> data) = 0;
  virtual Task<Status> truncate(uint64_t size_bytes) = 0;
  // fdatasync: the file's data and size are durable when this returns Ok.
  virtual Task<Status> sync() = 0;
  // Reserves space for [offset, offset+length) so later writes there cannot fail with NoSpace.
  // Does not change the file's size.
  virtual Task<Status> allocate(uint64_t offset, uint64_t length) = 0;
  virtual Task<Result<uint64_t>> size() = 0;
  virtual Task<Status> close() = 0;
};

// An advisory lock on a file, held until this object is destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // NotFound if the file does not exist and !options.create.
  virtual Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) = 0;
  // Ok if the directory already exists. REQUIRES: the parent exists.
  virtual Task<Status> create_dir(std::string path) = 0;
  // Removes a file or an empty directory.
  virtual Task<Status> remove(std::string path) = 0;
  // Atomically replaces `to` if it exists.
  virtual Task<Status> rename(std::string from, std::string to) = 0;
  // The names in `dir` (not paths), sorted, without "." and "..".
  virtual Task<Result<std::vector<std::string>>> list(std::string dir) = 0;
  // Makes creations, renames and removals of names in `dir` durable.
  virtual Task<Status> sync_directory(std::string dir) = 0;
  virtual Task<Result<uint64_t>> file_size(std::string path) = 0;
  virtual Task<Result<bool>> exists(std::string path) = 0;
  // Takes an exclusive lock; Unavailable if it is held (by this or another process).
  virtual Task<Result<std::unique_ptr<FileLock>>> lock(std::string path) = 0;
};

// InvalidArgument for an empty path or one containing NUL; Ok otherwise.
Status ValidatePath(std::string_view path);

// The directory part of `path` ("a/b/c" -> "a/b", "c" -> ".").
std::string ParentDir(std::string_view path);

}  // namespace kiln
