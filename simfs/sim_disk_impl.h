// SimDisk's state and the helpers its operations share. Internal to simfs: included only by the
// sim_disk*.cc files. Every container is ordered and keyed by value (ids, names), never by
// pointer, so iteration replays identically.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "simfs/disk_inode.h"
#include "simfs/disk_namespace.h"
#include "simfs/sim_disk.h"

namespace kiln::simfs {

struct SimDisk::Impl {
  struct Handle {
    uint64_t inode = 0;
    std::string path;  // As opened, normalized: for traces and messages.
    bool read_only = false;
  };

  explicit Impl(SimDisk& d) : disk(d) {}

  // --- Shared by the operations (sim_disk.cc). ---

  // Records `op` on a dead disk and returns the error every operation then gets.
  Status dead(std::string_view op);
  // Records an I/O operation in the trace.
  void record(uint64_t inode, uint64_t handle, std::string_view text);
  // Draws whether an injected fault of probability `p` fires; if so counts it, records it, and
  // (with sticky_error_p) makes `inode` (0: none) fail until reboot.
  bool inject(double p, const char* kind, uint64_t* count, std::string_view detail, uint64_t inode);
  // The open handle, or IOError (stale: opened before the last crash; sticky inode) or
  // InvalidArgument (closed, never opened). Records the failure. REQUIRES: disk alive.
  Result<Handle*> handle(FileHandle h, const char* op);
  // Normalizes `path`, or records the failure of `op` and returns it.
  Result<std::vector<std::string>> split(std::string_view path, const char* op);
  Status sticky_error(const Handle& h) const;

  // --- Data (sim_disk_files.cc). ---

  // How many of `length` bytes at `offset` fit under capacity.
  uint64_t fit_bytes(const detail::Inode& inode, uint64_t offset, uint64_t length) const;
  // Makes `bytes` visible at `offset` and records them as unsynced.
  void land(uint64_t inode, uint64_t offset, std::string_view bytes);
  void land_truncate(uint64_t inode, uint64_t size);
  Status write_bytes(FileHandle h, bool append, uint64_t offset, std::string_view data);
  // Where a misdirected write lands instead of `offset`.
  uint64_t misdirect(uint64_t offset);

  // --- Names (sim_disk_names.cc). ---

  // Applies `op` to the visible tree and queues it until a sync makes it durable.
  void issue(detail::DirOp op);
  // Marks the queued operations of directory `dir` durable (0: every one, a journal commit),
  // then folds the durable prefix into the base tree.
  void commit_dir_ops(uint64_t dir);
  // Creates an empty file `name` in `parent`; returns its inode.
  uint64_t create_file(uint64_t parent, const std::string& name);
  // Frees inodes that no name, queued operation or handle can reach.
  void collect_garbage();
  // The tree a crash right now would certainly keep: the base plus every durable operation.
  detail::Namespace durable_tree() const;

  // --- Power (sim_disk.cc). ---

  void crash_data(CrashChoice choice);
  void crash_names(CrashChoice choice);
  // Tears some of the sectors holding `inode`'s unsynced bytes in `result` (its surviving
  // bytes); `before` is what it held before them.
  void tear_sectors(uint64_t id, const detail::Inode& inode, const std::string& before,
                    std::string* result);

  SimDisk& disk;
  detail::Namespace visible;           // What operations see now.
  detail::Namespace base;              // Durable, with every operation before dir_ops[0] folded in.
  std::vector<detail::DirOp> dir_ops;  // Issued after `base`, in issue order.
  std::map<uint64_t, detail::Inode> inodes;
  std::map<uint64_t, Handle> handles;         // Open handles of this boot.
  std::set<std::string> locks;                // Normalized paths.
  std::set<uint64_t> sticky;                  // Inodes failing every operation until reboot.
  uint64_t next_id = detail::kRootDirId + 1;  // Inodes and directories.
  uint64_t next_handle = 1;
  uint64_t first_handle_this_boot = 1;
  uint64_t next_seq = 1;  // Issue order of unsynced writes.
};

}  // namespace kiln::simfs
