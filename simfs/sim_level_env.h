// SimLevelEnv: a leveldb::Env over the simulated disk and the virtual clock, so that LevelDB 1.23
// runs deterministically on the simulator's one thread (DESIGN.md section 4, "LevelDB under
// simulation").
//
// Why the rules below exist. LevelDB calls Schedule() with its mutex held, and three of its paths
// wait on a condition variable that only background work signals: MakeRoomForWrite (memtable full
// while the previous one is still being compacted, or too many level-0 files), ~DBImpl (a
// compaction is scheduled), and CompactRange. With one thread, background work can only run when
// no LevelDB call is on the stack, so reaching one of those waits would block forever. Hence:
// - Schedule() only enqueues. Queued work runs from run_background_work_once(),
//   drain_background_work() or the RunLevelDbBackground coroutine, never inside a LevelDB call.
// - Before every DB write (Put, Delete, Write) and before deleting a DB, the owner drains the queue
//   (CloseDb() does the latter). After a drain there is no immutable memtable and level 0 is below
//   its limits, so one write cannot reach a wait (it switches memtables at most once).
// - CompactRange and LevelDB's TEST_ functions are not used under simulation.
// - DBs are opened with options(): a default leveldb::Options means the real disk (its
//   constructor sets env = Env::Default()), and info_log = nullptr would make LevelDB open a LOG
//   file of its own.
//
// The crash procedure (CrashAndDelete() does exactly this, in this order):
//   1. disk.crash()                  Power loss: the disk decides what survives and latches dead.
//   2. env.drain_background_work()   Queued work runs and fails (every disk operation is IOError),
//                                    which sets LevelDB's background error, so it re-schedules
//                                    nothing.
//   3. delete the DB                 Its destructor waits for scheduled work: none is left.
//   4. disk.reboot()                 The surviving state comes back; the owner reopens the DB.
// Deleting the DB before step 2 would wait forever; rebooting before step 3 would let the dead
// process's queued work and destructor (which remove files by name) touch the new boot's disk.
//
// Durability notes (what LevelDB itself does, faithfully reproduced, not fixed here):
// - Syncing a file whose name starts with "MANIFEST" first syncs its directory, as LevelDB's POSIX
//   Env does, so the tables and logs a manifest names are durable before the manifest is.
// - LevelDB never syncs the directory after creating a new .log file or renaming CURRENT, and
//   never syncs the parent of the DB directory. Under DirCrashMode::kPrefix and kAnySubset a crash
//   can therefore lose such a name; the tests document this as a finding.
// - WritableFile::Append writes straight to the disk as an unsynced write (no hidden buffer), so
//   a crash can tear exactly what LevelDB appended.
// - With paranoid_checks=false (LevelDB's default, kept by options()), a read error while
//   recovering a .log file is treated as its end and the rest of the log is then deleted: an I/O
//   error silently loses synced writes. paranoid_checks=true makes DB::Open fail instead. The
//   tests document this too.
//
// Not thread-safe, by design: everything runs on the simulator's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/clock.h"
#include "engine/runtime/random.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/task.h"
#include "leveldb/db.h"
#include "leveldb/env.h"
#include "leveldb/options.h"
#include "simclock/sim_clock.h"
#include "simclock/trace.h"
#include "simfs/sim_disk.h"

namespace kiln::simfs {

// What the env did so far; printed in reports.
struct SimLevelEnvCounts {
  uint64_t background_items_scheduled = 0;  // Schedule() calls.
  uint64_t background_items_run = 0;        // Queued items run (by drain, once, or coroutine).
  uint64_t sleeps = 0;                      // SleepForMicroseconds() calls (write slowdowns).
  uint64_t log_lines = 0;                   // Lines LevelDB logged through this env's loggers.
  uint64_t crashes = 0;                     // CrashAndDelete() calls.
};

class SimLevelEnv final : public leveldb::Env {
 public:
  // Receives each line LevelDB logs (without the trailing newline). No real time is added.
  using LogSink = std::function<void(std::string_view line)>;

  // At most this many queued items: LevelDB keeps one per open DB, so more means nobody drains.
  static constexpr size_t kBackgroundQueueMax = 1024;
  // NowMicros() = this + virtual monotonic micros: a plausible epoch time (2026-01-01T00:00:00Z)
  // that never goes back, whatever a fault plan does to wall time.
  static constexpr uint64_t kNowBaseMicros = 1767225600ULL * 1000000ULL;
  // A logged line is cut to this many bytes.
  static constexpr size_t kLogLineBytesMax = size_t{16} * 1024;

  // `disk`, `clock` and `trace` must outlive the env. Every DB opened over this env must be
  // deleted before the env is.
  SimLevelEnv(SimDisk& disk, simclock::SimClock& clock, simclock::Trace& trace);
  ~SimLevelEnv() override;

  // Options with env = this and info_log = this env's logger; everything else LevelDB's defaults.
  // Use these (then set create_if_missing, write_buffer_size, ...) for every DB::Open.
  leveldb::Options options();

  // Where logged lines go; an empty sink (the default) discards them.
  void set_log_sink(LogSink sink) { log_sink_ = std::move(sink); }

  // --- Background work (see the rules at the top of this file). ---

  bool has_background_work() const { return !queue_.empty(); }
  size_t background_work_queued() const { return queue_.size(); }
  // Runs the oldest queued item, if any; returns whether one ran. The item may Schedule() more.
  // REQUIRES: no LevelDB call on the stack; in particular not called from queued work (aborts).
  bool run_background_work_once();
  // Runs queued items until the queue is empty, including items they re-schedule; returns how
  // many ran. REQUIRES: as run_background_work_once(). Aborts with a message if the queue is still
  // not empty after `max_items` (LevelDB re-scheduling forever is a bug to report, not to wait on).
  size_t drain_background_work(size_t max_items = 10000);

  // --- DB lifetime helpers. ---

  // Drains queued work, then deletes the DB (a no-op on a null pointer). REQUIRES: every
  // iterator and snapshot of `db` is already released.
  void CloseDb(std::unique_ptr<leveldb::DB>& db);
  // The crash procedure above: crash (unless the disk is already dead), drain, delete `db`,
  // reboot. REQUIRES: every other DB over this env is already deleted, and every iterator and
  // snapshot of `db` is released. `db` may be null (a crash while the DB was closed).
  void CrashAndDelete(std::unique_ptr<leveldb::DB>& db);

  const SimLevelEnvCounts& counts() const { return counts_; }
  SimDisk& disk() { return disk_; }

  // --- leveldb::Env. Every kiln NotFound becomes leveldb NotFound; every other error becomes
  // IOError carrying the kiln status text (an I/O error never looks like end of file). ---

  leveldb::Status NewSequentialFile(const std::string& fname,
                                    leveldb::SequentialFile** result) override;
  leveldb::Status NewRandomAccessFile(const std::string& fname,
                                      leveldb::RandomAccessFile** result) override;
  // Creates or truncates. Append is an unsynced disk write; Flush does nothing; Sync is
  // disk.sync (after syncing the directory, for MANIFEST files).
  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;
  // NOTE: the interface has no way to report an error. An error other than NotFound answers true:
  // LevelDB asks this about CURRENT, and "false" would make it create a fresh, empty DB over the
  // old one (with create_if_missing). "true" makes the next read report the real error instead.
  bool FileExists(const std::string& fname) override;
  leveldb::Status GetChildren(const std::string& dir, std::vector<std::string>* result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status DeleteFile(const std::string& fname) override { return RemoveFile(fname); }
  leveldb::Status CreateDir(const std::string& dirname) override;  // Ok if it exists.
  leveldb::Status RemoveDir(const std::string& dirname) override;
  leveldb::Status DeleteDir(const std::string& dirname) override { return RemoveDir(dirname); }
  leveldb::Status GetFileSize(const std::string& fname, uint64_t* file_size) override;
  // Within one directory only (the disk's rule); anything else is an IOError.
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;
  // Takes the disk's lock, which creates the file if needed (as POSIX does). A held lock is an
  // IOError. The lock is released by UnlockFile or by a crash.
  leveldb::Status LockFile(const std::string& fname, leveldb::FileLock** lock) override;
  // Always deletes `lock`, even when the disk reports an error (e.g. after a crash).
  leveldb::Status UnlockFile(leveldb::FileLock* lock) override;
  // Enqueues only; see the rules above.
  void Schedule(void (*function)(void* arg), void* arg) override;
  // Aborts: a simulation cannot run a thread, and LevelDB's DB never asks for one.
  [[noreturn]] void StartThread(void (*function)(void* arg), void* arg) override;
  leveldb::Status GetTestDirectory(std::string* path) override;  // "/test", created.
  // A logger that forwards to the sink; it writes no file. The caller owns it.
  leveldb::Status NewLogger(const std::string& fname, leveldb::Logger** result) override;
  uint64_t NowMicros() override;
  // Advances virtual time synchronously (LevelDB calls it inline, to slow writes down).
  void SleepForMicroseconds(int micros) override;

 private:
  class SimLogger;
  friend class SimLogger;
  struct WorkItem {
    void (*function)(void*);
    void* arg;
  };

  // Aborts if called from queued work: a LevelDB call would be on the stack.
  void CheckNotInBackgroundWork(const char* op) const;
  void EmitLogLine(std::string_view line);
  void Note(std::string_view text, uint64_t a = 0);

  SimDisk& disk_;
  simclock::SimClock& clock_;
  simclock::Trace& trace_;
  std::unique_ptr<leveldb::Logger> info_log_;  // The logger options() hands out.
  LogSink log_sink_;
  std::deque<WorkItem> queue_;
  bool running_background_ = false;
  SimLevelEnvCounts counts_;
};

// A simulator coroutine that runs LevelDB's background work at seeded times: forever, it sleeps a
// uniform time in [0, poll_max] and then runs one queued item, if any. So between reads, the seed
// decides when compactions happen. It ends only when its process is killed or the scheduler is
// destroyed. Writers still drain before every write (see the rules above).
// REQUIRES: poll_max >= 0; `scheduler`, `random` and `env` outlive the task.
Task<void> RunLevelDbBackground(Scheduler& scheduler, Random& random, SimLevelEnv& env,
                                Duration poll_max);

}  // namespace kiln::simfs
