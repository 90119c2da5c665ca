// SimDisk: an in-memory disk with a precise persistence and fault model (DESIGN.md section 4).
// Synchronous: callers (SimFileSystem, SimLevelEnv) add latency and coroutines on top.
//
// The model.
// - Each file (inode) has durable bytes, visible bytes, and the ordered list of writes since its
//   last sync (its unsynced writes). Reads see the visible bytes. sync() applies the unsynced
//   writes to the durable bytes. A failed sync() clears the unsynced list WITHOUT making it
//   durable (Linux): reads still return the new bytes, a retried sync "succeeds" (it has nothing
//   left to write), and a crash loses them. So durable = visible only while no sync has failed.
// - Names live in directories. Creating, renaming and removing a name is a directory operation;
//   it is durable only after sync_directory() on its parent (or, in DirCrashMode::kJournal, after
//   any file sync). Renames must stay within one directory (InvalidArgument otherwise).
// - crash() is power loss: the disk computes what survives (DiskFaults decides: unsynced writes
//   kept none / all / prefix / any subset at sector granularity, torn sectors, lost directory
//   operations), then latches dead: every operation fails with IOError and changes nothing until
//   reboot(). Handles opened before the crash fail forever after it.
// - Capacity counts each inode's max(size, allocated) bytes. Past it, writes fail with NoSpace,
//   landing up to the boundary first if partial_write_on_full.
// - Any operation may fail with IOError per DiskFaults; a failed write applied none, a prefix,
//   or all of its bytes (the seed picks). Sticky errors fail a file until reboot.
// - Read corruption and misdirected writes are outside the durability contract: code must detect
//   them (checksums), not survive them.
// Every operation and every injected fault is recorded in the Trace.
//
// Details the summary leaves open.
// - Paths are normalized: "/a", "a", "./a" and "a/" name the same file; ".." is InvalidArgument.
// - Directory operations are kept with their parent directory's identity, so a sync_dir(d)
//   makes exactly d's operations durable, even if d was renamed since. A durable operation that
//   waits behind an unsynced earlier one (e.g. a file created in a directory whose mkdir is not
//   durable) is replayed after it on a crash, and lost if its premise was lost.
// - With !crash_loses_unsynced a crash keeps every unsynced directory operation too (as if only
//   the process died). Otherwise DirCrashMode decides (a prefix, or any subset).
// - Torn sectors (crash_tears_sectors): each sector holding unsynced bytes is torn with
//   probability 1/8; a torn sector's unsynced bytes are split at a seeded cut, each side holding
//   the new bytes, the old bytes, or garbage.
// - Capacity counts live inodes: named now, or held open (an unlinked open file keeps its space
//   until closed). Overwriting inside max(size, allocated) never fails with NoSpace.
// - A sync of a file in DirCrashMode::kJournal commits every directory operation, as does
//   sync_dir in that mode (a journal commit). A failed sync or sync_dir commits nothing.
// - Sticky errors (sticky_error_p, drawn when an error is injected on a file) fail that file's
//   handle operations, open() and file_size() until reboot; close() still releases the handle.
// - A handle from before a crash gets IOError naming it ("stale file handle"); a closed or
//   unknown handle is InvalidArgument (a caller bug).
// - exists(), lock() and unlock() are never injected with errors (they still fail when dead).
// - Crash choices can be forced for tests: crash_with(CrashChoice).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/bugs.h"
#include "engine/runtime/filesystem.h"
#include "engine/runtime/random.h"
#include "engine/runtime/result.h"
#include "engine/runtime/status.h"
#include "simclock/trace.h"
#include "simfs/disk_faults.h"

namespace kiln::simfs {

// An open file. Valid until close() or the next crash, whichever is first.
struct FileHandle {
  uint64_t id = 0;
};

// What a crash keeps of the unsynced writes (see DiskFaults::crash_loses_unsynced). kSeeded is
// the normal case; the others let a test force one outcome (SimDisk::crash_with).
enum class CrashChoice : uint8_t {
  kSeeded,      // The seed picks one of the four below (all, if !crash_loses_unsynced).
  kKeepNone,    // Every unsynced sector is lost.
  kKeepAll,     // Every unsynced sector survives.
  kKeepPrefix,  // A seeded prefix, in issue order across the whole disk, survives.
  kKeepSubset,  // Each unsynced sector survives or not, seeded.
};

class SimDisk {
 public:
  // `random` decides every fault; `trace` records every operation. Both must outlive the disk.
  SimDisk(Random& random, simclock::Trace& trace, DiskFaults faults = {});
  ~SimDisk();
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  const DiskFaults& faults() const { return faults_; }
  // Takes effect from the next operation (the heal phase sets DiskFaults{} here).
  // Ends every sticky error now (the heal phase: faults stop), as a reboot would.
  void clear_sticky_errors();
  void set_faults(const DiskFaults& faults) {
    assert(faults.sector_bytes > 0);
    faults_ = faults;
  }
  const DiskFaultCounts& fault_counts() const { return counts_; }

  // --- Files. Paths as in kiln::FileSystem; the root directory "/" (also ".") always exists. ---
  Result<FileHandle> open(std::string_view path, OpenOptions options);
  // Bytes read; fewer than buf.size() only at end of file.
  Result<size_t> read(FileHandle h, uint64_t offset, std::span<std::byte> buf);
  Status write(FileHandle h, uint64_t offset, std::span<const std::byte> data);
  Status append(FileHandle h, std::span<const std::byte> data);
  Status truncate(FileHandle h, uint64_t size_bytes);
  Status sync(FileHandle h);
  Status allocate(FileHandle h, uint64_t offset, uint64_t length);
  Result<uint64_t> size(FileHandle h);
  // Always releases the handle (even when it reports an error).
  Status close(FileHandle h);

  // --- Names. ---
  Status create_dir(std::string_view path);  // Ok if it exists.
  Status remove(std::string_view path);      // A file, or an empty directory.
  Status rename(std::string_view from, std::string_view to);
  Result<std::vector<std::string>> list(std::string_view dir);  // Sorted names.
  Status sync_dir(std::string_view dir);
  Result<uint64_t> file_size(std::string_view path);
  Result<bool> exists(std::string_view path);
  // Advisory whole-file locks, released by unlock() or by a crash. Unavailable if held. lock()
  // creates the file if it is missing, like open(O_CREAT) + flock; NotFound if its parent is.
  Status lock(std::string_view path);
  Status unlock(std::string_view path);

  // --- Power. ---
  void crash();  // Decide what survives, then latch dead. REQUIRES: !dead().
  // Test-only: crash() with the unsynced-data choice forced, even if !crash_loses_unsynced.
  // Directory operations follow it too: kKeepNone loses every unsynced one, kKeepAll keeps them
  // all, and kKeepPrefix/kKeepSubset keep what the DirCrashMode's own rule picks. Torn sectors
  // still follow crash_tears_sectors. REQUIRES: !dead().
  void crash_with(CrashChoice choice);
  void reboot();  // Come back with the surviving state. REQUIRES: dead().
  bool dead() const { return dead_; }

  // --- Crash points (for walking every crash point of a workload, as ALICE does). ---
  // Operations started since the disk was made (each public operation counts once).
  uint64_t ops_started() const { return ops_started_; }
  // Loses power (crash(), with this disk's DiskFaults) just before operation number
  // ops_started() + n starts; that operation and every later one fail as on a dead disk.
  // n = 0 disarms. The owner completes the power loss as after crash(): release, reboot().
  void crash_before_op(uint64_t n) { crash_at_op_ = n == 0 ? 0 : ops_started_ + n; }
  uint64_t boot_count() const { return boot_count_; }

  // --- Inspection for tests and checkers (no faults, no trace). ---
  uint64_t used_bytes() const;
  // The bytes a crash right now would certainly keep: NotFound if the name is not durable.
  Result<std::string> durable_contents(std::string_view path) const;
  // The bytes reads see now.
  Result<std::string> visible_contents(std::string_view path) const;
  // The trace the disk records into (SimFileSystem records its latency faults there too).
  simclock::Trace& trace() { return trace_; }

 private:
  struct Impl;
  Random& random_;
  simclock::Trace& trace_;
  DiskFaults faults_;
  DiskFaultCounts counts_;
  // Counts an operation about to start; at an armed crash point, loses power first.
  // Returns dead(): the operation must then fail without effect.
  bool op_begins();
  bool dead_ = false;
  uint64_t ops_started_ = 0;
  uint64_t crash_at_op_ = 0;  // 0: not armed.
  uint64_t boot_count_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::simfs
