// ApplyWorker: the one coroutine that tails the write-ahead log and applies its records to
// LevelDB, and the checkpoints that let old log segments go (DESIGN.md section 7, "Apply and KV").
//
// Applying. The worker waits on an Event (never a sleep) until the log's durable LSN passes the
// applied LSN, reads the records after it (wal::Wal::read_from), and writes each group of records
// to LevelDB as ONE leveldb::WriteBatch holding their puts and deletes, the new applied LSN
// (m/applied) and a marker for the group (m/batch/<last> = first; db_layout.h). sync=false: the
// log, not LevelDB, is what makes a write durable; a crash that loses applies is repaired by
// replaying the log.
//
// Recovery (ReadApplyState). LevelDB does not always come back from a crash with a prefix of its
// unsynced writes: with paranoid_checks=false (which surviving a torn tail requires) its log
// reader skips a damaged block and reads on, and a memtable switch leaves an older log's
// unsynced tail beside a newer log. So m/applied can be ahead of a group that was lost (the
// seeded crash tests reach this with a large memtable and rare checkpoints). Recovery therefore
// walks the markers from the checkpoint and replays from the end of the unbroken run
// (ApplyState::applied_lsn). Without a break, the usual case, every record is applied exactly
// once. After a break, ResetPastRun first forgets the groups beyond it (durably), and the replay
// applies them again, in log order after the lost ones; puts and deletes applied again in order
// leave exactly the log's state.
//
// Checkpoints. checkpoint() makes every applied record durable in LevelDB, records that as
// m/checkpoint with a synced write (deleting the markers it covers), and only then deletes the
// log segments below it. A synced LevelDB write alone would not do: it syncs only the current
// LevelDB log, and if a memtable switch happened since the last flush, the previous log's
// unsynced tail can still be lost. So the checkpoint first forces two memtable switches (a
// LevelDB Write with a null batch, which is how LevelDB's own CompactRange flushes): the second
// waits until the first memtable, holding every applied record, is in a synced table named by a
// synced MANIFEST (or fails with LevelDB's background error).
//
// Failure. A LevelDB write error (or a record that does not decode, or a gap in the log's LSNs)
// stops the worker for good: failure() holds the error, every wait_applied() returns it, and the
// store fail-stops with it until it is closed and reopened (recovery then replays from LevelDB's
// durable state). A failed log truncation is returned by checkpoint() but stops nothing: the
// segments stay until a later checkpoint deletes them.
//
// Coroutine rules: every method on the store's Scheduler. LevelDB is called only inside
// Scheduler::blocking, with LevelDbHost::before_write() first in the same call for every write.
// REQUIRES: the scheduler, host, DB and log outlive the worker, and the worker outlives its
// coroutine: destroy it only after stop() returned, or after the scheduler destroyed the
// coroutine (a simulated crash kills the process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/kv/codec.h"
#include "engine/runtime/event.h"
#include "engine/runtime/leveldb_host.h"
#include "engine/runtime/result.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/status.h"
#include "engine/runtime/task.h"
#include "engine/wal/wal.h"
#include "leveldb/db.h"
#include "leveldb/write_batch.h"

namespace kiln::kv {

// What recovery found in LevelDB.
struct ApplyState {
  wal::Lsn checkpoint_lsn = 0;  // m/checkpoint: every record <= it is durable in LevelDB.
  wal::Lsn stored_lsn = 0;      // m/applied as found (the newest group that survived).
  // The end of the unbroken run of groups from the checkpoint: replay starts after it.
  wal::Lsn applied_lsn = 0;
  uint64_t markers = 0;  // Batch markers found.
  // The markers of groups beyond a break in the run (their `last` LSNs, ascending).
  std::vector<wal::Lsn> markers_past_run;
  // Every key that has taken an add (from m/counter/): writes to them are gated by LSN.
  std::set<std::string> counters;
  // LevelDB lost a group but kept a later one (see the top of the file).
  bool broken_run() const { return stored_lsn > applied_lsn || !markers_past_run.empty(); }
};

// Reads the state above. A blocking call: run it inside Scheduler::blocking. Corruption if the
// metadata is malformed or m/applied is behind the markers (the two are written together).
Result<ApplyState> ReadApplyState(leveldb::DB& db);

// After a broken run: deletes the markers past the run and sets m/applied to the run's end, in
// one synced write, before the replay writes anything. Without this, a marker from before the
// replay could later join a run that the replay has since invalidated (the replay writes older
// values over keys that group had written) and hide records from a later recovery. A blocking
// call (it calls host.before_write() itself). REQUIRES: state.broken_run().
Status ResetPastRun(leveldb::DB& db, LevelDbHost& host, const ApplyState& state);

class ApplyWorker {
 public:
  // Limits of one pass of the loop.
  static constexpr size_t kReadRecordsMax = 64;                // Records per read_from().
  static constexpr size_t kGroupBytesMax = size_t{4} << 20;    // Payload bytes per group.
  static constexpr Duration kBuggifyDelay = Duration(20'000);  // A delayed apply.
  static constexpr size_t kCheckpointWaitersMax = 1024;        // Bounds checkpoint()'s queue.

  // `state` is what ReadApplyState found: the worker applies from state.applied_lsn + 1.
  // REQUIRES: checkpoint_every_records >= 1.
  ApplyWorker(Scheduler& scheduler, LevelDbHost& host, leveldb::DB& db, wal::Wal& log,
              const ApplyState& state, uint64_t checkpoint_every_records);
  ApplyWorker(const ApplyWorker&) = delete;
  ApplyWorker& operator=(const ApplyWorker&) = delete;
  ~ApplyWorker();

  // Spawns the loop (named "kv-apply"); it starts on a later step. REQUIRES: called once.
  void start();
  // New durable records (or a log failure) may be there: wakes the loop and every waiter.
  void notify();
  // Resolves Ok once every record <= lsn is applied; with failure() if the worker stopped on an
  // error; Unavailable if it was stopped, or if the log fail-stopped before `lsn` was durable
  // (then it never will be). Never a timeout: it waits as long as progress is possible.
  Task<Status> wait_applied(wal::Lsn lsn);
  // See the top of the file. Ok with nothing to do if nothing was applied since the last one.
  // A LevelDB error fails the worker (and is returned); a truncation error is only returned.
  // Concurrent calls run one after another.
  Task<Status> checkpoint();
  // Asks the loop to finish its current pass and exit, and waits until it has. Waiters then get
  // Unavailable (or failure()). Idempotent.
  Task<void> stop();

  wal::Lsn applied_lsn() const { return applied_lsn_; }
  wal::Lsn checkpoint_lsn() const { return checkpoint_lsn_; }
  // Ok while the worker has not failed.
  const Status& failure() const { return failure_; }
  bool running() const { return running_; }
  // Groups written to LevelDB since start (for tests and metrics).
  uint64_t groups_applied() const { return groups_applied_; }

 private:
  struct RunningGuard;
  struct CheckpointGuard;

  Task<void> Run(std::unique_ptr<RunningGuard> guard);
  // One pass: reads the next records and applies them, group by group.
  Task<Status> ApplyAvailable();
  // Adds records[*next...] to `batch` until the group is full; sets *last to the group's last LSN.
  Status FillGroup(const std::vector<wal::Record>& records, size_t* next, bool one_per_group,
                   leveldb::WriteBatch* batch, wal::Lsn* last);
  // What FillGroup knows of the keys its group wrote so far.
  struct GroupView {
    std::map<std::string, std::optional<std::string>> values;  // By user key; nullopt: deleted.
    std::map<std::string, wal::Lsn> counter_lsns;              // m/counter/ values written.
  };
  // One decoded op of the record at `lsn` into `batch`. Counters: skips a write the key's
  // m/counter/ LSN already covers; an add reads the value (the group's, else LevelDB's: a
  // synchronous read on the loop, usually from the memtable or block cache).
  Status ApplyOp(const OpView& op, wal::Lsn lsn, GroupView* group, leveldb::WriteBatch* batch);
  // Writes a group's data with its applied LSN and marker (or, under the known bug, in two
  // writes with an await between them).
  Task<Status> WriteGroup(leveldb::WriteBatch* data, wal::Lsn first, wal::Lsn last);
  // host.before_write(); db.Write(batch) — in one blocking call. A null batch forces a memtable
  // switch (see Checkpoint).
  Task<Status> WriteDb(leveldb::WriteBatch* batch, bool sync, const char* what);
  Task<Status> CheckpointLevelDb(wal::Lsn lsn);
  void Fail(const Status& status);

  Scheduler& scheduler_;
  LevelDbHost& host_;
  leveldb::DB& db_;
  wal::Wal& log_;
  const uint64_t checkpoint_every_records_;
  wal::Lsn applied_lsn_;
  wal::Lsn checkpoint_lsn_;
  Status failure_;
  bool started_ = false;
  bool running_ = false;
  bool stop_requested_ = false;
  bool checkpointing_ = false;
  uint64_t groups_applied_ = 0;
  std::set<std::string> counters_;  // Keys that have taken an add (user keys).
  Event wake_;                      // The loop waits here for new durable records.
  Event progress_;         // Set on every applied group, failure and stop; waiters re-check.
  Event exited_;           // The loop has exited.
  Event checkpoint_idle_;  // Set when a checkpoint ends.
};

}  // namespace kiln::kv
