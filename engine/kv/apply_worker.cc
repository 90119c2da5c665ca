// ApplyWorker: tails the log into LevelDB; recovery of the applied state; checkpoints. The
// reasons behind each step are in apply_worker.h.
#include "engine/kv/apply_worker.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>

#include "engine/kv/codec.h"
#include "engine/kv/db_layout.h"
#include "engine/kv/leveldb_status.h"
#include "engine/runtime/buggify.h"
#include "engine/runtime/bugs.h"
#include "engine/runtime/printable.h"
#include "leveldb/iterator.h"

namespace kiln::kv {

KILN_DEFINE_BUG(applied_lsn_separate, "kv-applied-lsn-separate",
                "the apply worker records a group's applied LSN and then writes its data, in two "
                "LevelDB writes with an await between them, not in one batch: a crash or write "
                "error between them makes recovery skip the group, losing acknowledged writes");

namespace {

std::string LsnText(wal::Lsn lsn) {
  return "LSN " + std::to_string(lsn);
}

// Reads an LSN-valued metadata key; 0 if absent.
Result<wal::Lsn> GetLsn(leveldb::DB& db, std::string_view key) {
  std::string value;
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  const leveldb::Status s = db.Get(options, leveldb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return wal::Lsn{0};
  if (!s.ok()) return FromLevelDb(s, "kv recovery: read " + std::string(key));
  return DecodeLsn(value, key);
}

}  // namespace

Result<ApplyState> ReadApplyState(leveldb::DB& db) {
  ApplyState state;
  Result<wal::Lsn> checkpoint = GetLsn(db, kCheckpointLsnKey);
  if (!checkpoint.ok()) return checkpoint.status();
  Result<wal::Lsn> stored = GetLsn(db, kAppliedLsnKey);
  if (!stored.ok()) return stored.status();
  state.checkpoint_lsn = *checkpoint;
  state.stored_lsn = *stored;
  state.applied_lsn = state.checkpoint_lsn;

  // Walk the markers in LSN order. A group that starts at or before applied + 1 extends the run
  // (groups applied again after an earlier break may overlap older ones); one that starts later
  // means a group in between was lost: the run ends there.
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(db.NewIterator(options));
  bool broken = false;
  for (it->Seek(leveldb::Slice(kBatchMarkerPrefix.data(), kBatchMarkerPrefix.size()));
       it->Valid() &&
       it->key().starts_with(leveldb::Slice(kBatchMarkerPrefix.data(), kBatchMarkerPrefix.size()));
       it->Next()) {
    ++state.markers;
    Result<wal::Lsn> last = BatchMarkerLsn(std::string_view(it->key().data(), it->key().size()));
    if (!last.ok()) return last.status();
    Result<wal::Lsn> first =
        DecodeLsn(std::string_view(it->value().data(), it->value().size()), "batch marker");
    if (!first.ok()) return first.status();
    if (*first == 0 || *first > *last) {
      return Status::Corruption("kv recovery: batch marker for " + LsnText(*first) + ".." +
                                std::to_string(*last) + " is impossible");
    }
    if (!broken && *last <= state.applied_lsn) continue;  // Covered by the checkpoint or run.
    if (!broken && *first > state.applied_lsn + 1) broken = true;
    if (broken) {
      state.markers_past_run.push_back(*last);
      continue;
    }
    state.applied_lsn = *last;
  }
  if (!it->status().ok()) return FromLevelDb(it->status(), "kv recovery: read batch markers");
  const leveldb::Slice counters(kCounterPrefix.data(), kCounterPrefix.size());
  for (it->Seek(counters); it->Valid() && it->key().starts_with(counters); it->Next()) {
    state.counters.insert(it->key().ToString().substr(kCounterPrefix.size()));
  }
  if (!it->status().ok()) return FromLevelDb(it->status(), "kv recovery: read counters");
  // Every group writes m/applied and its marker together, so the run cannot pass m/applied.
  if (state.applied_lsn > state.stored_lsn && state.applied_lsn > state.checkpoint_lsn) {
    return Status::Corruption("kv recovery: batch markers reach " + LsnText(state.applied_lsn) +
                              " but m/applied is " + LsnText(state.stored_lsn));
  }
  assert(state.applied_lsn >= state.checkpoint_lsn);
  return state;
}

Status ResetPastRun(leveldb::DB& db, LevelDbHost& host, const ApplyState& state) {
  assert(state.broken_run());
  leveldb::WriteBatch batch;
  for (wal::Lsn last : state.markers_past_run) batch.Delete(BatchMarkerKey(last));
  batch.Put(leveldb::Slice(kAppliedLsnKey.data(), kAppliedLsnKey.size()),
            EncodeLsn(state.applied_lsn));
  host.before_write();
  leveldb::WriteOptions options;
  options.sync = true;  // Durable before the replay writes anything after it.
  return FromLevelDb(db.Write(options, &batch), "kv recovery: forget the groups past a break");
}

// Marks the loop as running while its frame lives: it clears the flag and wakes every waiter
// when the loop exits, and also when the scheduler destroys the frame (a killed process). It is
// the loop's parameter, so it lives in the frame from the moment the task is created: a frame
// destroyed before its first step still clears the flag.
struct ApplyWorker::RunningGuard {
  ApplyWorker* w;
  explicit RunningGuard(ApplyWorker* worker) : w(worker) { w->running_ = true; }
  RunningGuard(const RunningGuard&) = delete;
  RunningGuard& operator=(const RunningGuard&) = delete;
  ~RunningGuard() {
    w->running_ = false;
    w->progress_.set();
    w->exited_.set();
  }
};

// Holds the checkpoint "lock" for one checkpoint() call.
struct ApplyWorker::CheckpointGuard {
  ApplyWorker* w;
  explicit CheckpointGuard(ApplyWorker* worker) : w(worker) {
    assert(!w->checkpointing_);
    w->checkpointing_ = true;
  }
  CheckpointGuard(const CheckpointGuard&) = delete;
  CheckpointGuard& operator=(const CheckpointGuard&) = delete;
  ~CheckpointGuard() {
    w->checkpointing_ = false;
    w->checkpoint_idle_.set();
  }
};

ApplyWorker::ApplyWorker(Scheduler& scheduler, LevelDbHost& host, leveldb::DB& db, wal::Wal& log,
                         const ApplyState& state, uint64_t checkpoint_every_records)
    : scheduler_(scheduler),
      host_(host),
      db_(db),
      log_(log),
      checkpoint_every_records_(checkpoint_every_records),
      applied_lsn_(state.applied_lsn),
      checkpoint_lsn_(state.checkpoint_lsn),
      counters_(state.counters),
      wake_(scheduler, "kv-apply-wake"),
      progress_(scheduler, "kv-wait-applied"),
      exited_(scheduler, "kv-apply-exited"),
      checkpoint_idle_(scheduler, "kv-checkpoint-idle") {
  assert(checkpoint_every_records_ >= 1);
  assert(applied_lsn_ >= checkpoint_lsn_);
}

ApplyWorker::~ApplyWorker() {
  assert(!running_ && "destroy the ApplyWorker only after stop() or after its task died");
}

void ApplyWorker::start() {
  assert(!started_);
  started_ = true;
  scheduler_.spawn(Run(std::make_unique<RunningGuard>(this)), "kv-apply");
  assert(running_);
}

void ApplyWorker::notify() {
  wake_.set();
  progress_.set();
}

void ApplyWorker::Fail(const Status& status) {
  assert(!status.ok());
  if (failure_.ok()) failure_ = status;
  progress_.set();
}

Task<void> ApplyWorker::Run(std::unique_ptr<RunningGuard> guard) {
  assert(guard != nullptr);
  // Unbounded by design: the loop lives as long as the store. Each pass either applies at least
  // one record, or waits for notify(), or exits.
  while (!stop_requested_ && failure_.ok()) {
    if (BUGGIFY) co_await scheduler_.sleep_for(kBuggifyDelay);  // A delayed apply.
    if (stop_requested_) break;
    if (applied_lsn_ >= log_.durable_lsn()) {
      // No await between this check and the wait: a notify() cannot slip in between.
      wake_.reset();
      co_await wake_.wait();
      continue;
    }
    Status s = co_await ApplyAvailable();
    if (!s.ok()) {
      Fail(s);
      break;
    }
    if (applied_lsn_ - checkpoint_lsn_ >= checkpoint_every_records_) {
      Status c = co_await checkpoint();
      (void)c;  // A LevelDB error failed the worker (the loop ends); a truncation error waits
                // for the next checkpoint.
    }
  }
}

Task<Status> ApplyWorker::ApplyAvailable() {
  const wal::Lsn from = applied_lsn_ + 1;
  const wal::Lsn durable = log_.durable_lsn();
  assert(durable >= from);
  const bool one_per_group = BUGGIFY;  // Rare but legal: every record in its own group.
  const size_t records_max = BUGGIFY ? 1 : kReadRecordsMax;
  Result<std::vector<wal::Record>> read = co_await log_.read_from(from, records_max);
  if (!read.ok()) co_return read.status().WithContext("kv apply: read log from " + LsnText(from));
  const std::vector<wal::Record>& records = *read;
  if (records.empty() || records.front().lsn != from) {
    // The log skips what it truncated: a gap here means records the store never applied are gone.
    co_return Status::Corruption(
        "kv apply: the log is durable to " + LsnText(durable) + " but reading from " +
        LsnText(from) + " returned " +
        (records.empty() ? std::string("nothing") : LsnText(records.front().lsn)));
  }
  size_t next = 0;
  while (next < records.size()) {  // Bounded: each pass consumes at least one record.
    if (stop_requested_) break;    // Whole groups only: what is applied stays consistent.
    leveldb::WriteBatch data;
    const wal::Lsn first = records[next].lsn;
    wal::Lsn last = 0;
    Status f = FillGroup(records, &next, one_per_group, &data, &last);
    if (!f.ok()) co_return f;
    Status w = co_await WriteGroup(&data, first, last);
    if (!w.ok()) co_return w;
    assert(last > applied_lsn_);
    applied_lsn_ = last;
    ++groups_applied_;
    progress_.set();
  }
  co_return Status::Ok();
}

Status ApplyWorker::FillGroup(const std::vector<wal::Record>& records, size_t* next,
                              bool one_per_group, leveldb::WriteBatch* batch, wal::Lsn* last) {
  size_t bytes = 0;
  GroupView group;
  do {
    const wal::Record& r = records[*next];
    const wal::Lsn expected = records.front().lsn + *next;  // ApplyAvailable checked the front.
    if (r.lsn != expected) {
      return Status::Corruption("kv apply: the log returned " + LsnText(r.lsn) + " where " +
                                LsnText(expected) + " was next");
    }
    if (r.type != kBatchRecordType) {
      return Status::Corruption("kv apply: " + LsnText(r.lsn) + " has record type " +
                                std::to_string(r.type) + ", not a write batch");
    }
    Result<std::vector<OpView>> ops = DecodeBatchViews(r.payload);
    if (!ops.ok()) return ops.status().WithContext("kv apply: " + LsnText(r.lsn));
    for (const OpView& op : *ops) {
      if (Status s = ApplyOp(op, r.lsn, &group, batch); !s.ok()) {
        return s.WithContext("kv apply: " + LsnText(r.lsn));
      }
    }
    bytes += r.payload.size();
    *last = r.lsn;
    ++*next;
  } while (*next < records.size() && !one_per_group && bytes < kGroupBytesMax);
  return Status::Ok();
}

Status ApplyWorker::ApplyOp(const OpView& op, wal::Lsn lsn, GroupView* group,
                            leveldb::WriteBatch* batch) {
  const std::string key(op.key);
  const bool counter = op.is_add || counters_.contains(key);
  if (counter) {
    // A counter's writes are applied once: skip what its m/counter/ LSN already covers (a group
    // applied again after a broken run, apply_worker.h).
    wal::Lsn covered = 0;
    auto mine = group->counter_lsns.find(key);
    if (mine != group->counter_lsns.end()) {
      covered = mine->second;
    } else if (counters_.contains(key)) {
      Result<wal::Lsn> stored = GetLsn(db_, CounterKey(key));
      if (!stored.ok()) return stored.status();
      covered = *stored;
    }
    if (lsn <= covered) return Status::Ok();
  }
  const std::string db_key = UserKey(key);
  if (op.is_add) {
    std::optional<std::string> value;
    auto known = group->values.find(key);
    if (known != group->values.end()) {
      value = known->second;
    } else {
      std::string stored;
      leveldb::ReadOptions options;
      options.verify_checksums = true;
      const leveldb::Status s = db_.Get(options, db_key, &stored);
      if (!s.ok() && !s.IsNotFound()) return FromLevelDb(s, "read counter");
      if (s.ok()) value = std::move(stored);
    }
    int64_t n = 0;
    if (value.has_value() && !ParseInt64(*value, &n)) {
      return Status::Corruption("add to " + Printable(key) + ", which is not a decimal int64");
    }
    int64_t sum = 0;
    if (__builtin_add_overflow(n, op.delta, &sum)) {
      return Status::Corruption("add of " + std::to_string(op.delta) + " to " + Printable(key) +
                                " overflows int64");
    }
    const std::string text = std::to_string(sum);
    batch->Put(db_key, text);
    group->values[key] = text;
  } else if (op.is_delete) {
    batch->Delete(db_key);
    group->values[key] = std::nullopt;
  } else {
    batch->Put(db_key, leveldb::Slice(op.value.data(), op.value.size()));
    group->values[key] = std::string(op.value);
  }
  if (counter) {
    batch->Put(CounterKey(key), EncodeLsn(lsn));
    group->counter_lsns[key] = lsn;
    counters_.insert(key);
  }
  return Status::Ok();
}

Task<Status> ApplyWorker::WriteGroup(leveldb::WriteBatch* data, wal::Lsn first, wal::Lsn last) {
  leveldb::WriteBatch meta;
  meta.Put(leveldb::Slice(kAppliedLsnKey.data(), kAppliedLsnKey.size()), EncodeLsn(last));
  meta.Put(BatchMarkerKey(last), EncodeLsn(first));
  if (KILN_BUG(applied_lsn_separate)) {
    // The bug: the LSN lands, then (after an await, where a crash can strike) the data.
    Status s = co_await WriteDb(&meta, /*sync=*/false, "kv apply: write applied LSN");
    if (!s.ok()) co_return s;
    co_await scheduler_.yield();
    co_return co_await WriteDb(data, /*sync=*/false, "kv apply: write group data");
  }
  data->Append(meta);  // One batch: the data and its LSN land together or not at all.
  co_return co_await WriteDb(data, /*sync=*/false, "kv apply: write group");
}

Task<Status> ApplyWorker::WriteDb(leveldb::WriteBatch* batch, bool sync, const char* what) {
  leveldb::DB* db = &db_;
  LevelDbHost* host = &host_;
  const leveldb::Status s = co_await scheduler_.blocking([db, host, batch, sync] {
    host->before_write();
    leveldb::WriteOptions options;
    options.sync = sync;
    return db->Write(options, batch);
  });
  co_return FromLevelDb(s, what);
}

Task<Status> ApplyWorker::wait_applied(wal::Lsn lsn) {
  // Each pass waits for progress_ (set on every applied group, failure, stop and notify), so the
  // loop runs at most once per such event.
  for (;;) {
    if (applied_lsn_ >= lsn) co_return Status::Ok();
    if (!failure_.ok()) co_return failure_;
    if (!running_ || stop_requested_) co_return Status::Unavailable("kv apply worker stopped");
    if (lsn > log_.durable_lsn() && !log_.failure().ok()) {
      co_return Status::Unavailable("kv: the log fail-stopped before " + LsnText(lsn) +
                                    " was durable: " + log_.failure().ToString());
    }
    progress_.reset();
    co_await progress_.wait();
  }
}

Task<Status> ApplyWorker::checkpoint() {
  for (size_t waits = 0; checkpointing_; ++waits) {  // One checkpoint at a time.
    assert(waits < kCheckpointWaitersMax);
    checkpoint_idle_.reset();
    co_await checkpoint_idle_.wait();
  }
  if (!failure_.ok()) co_return failure_;
  CheckpointGuard guard(this);
  const wal::Lsn lsn = applied_lsn_;
  if (lsn > checkpoint_lsn_) {
    Status s = co_await CheckpointLevelDb(lsn);
    if (!s.ok()) {
      Fail(s);
      co_return s;
    }
    checkpoint_lsn_ = lsn;
  }
  if (checkpoint_lsn_ == 0) co_return Status::Ok();
  // Only now may the log let go of the records the checkpoint covers.
  co_return co_await log_.truncate_before(checkpoint_lsn_ + 1);
}

Task<Status> ApplyWorker::CheckpointLevelDb(wal::Lsn lsn) {
  // NOTE: a null batch is LevelDB's own way to force a memtable switch (DBImpl::Write; its
  // CompactRange uses it). The second one waits for the first memtable's flush (apply_worker.h).
  Status s = co_await WriteDb(nullptr, /*sync=*/false, "kv checkpoint: switch memtable");
  if (!s.ok()) co_return s;
  s = co_await WriteDb(nullptr, /*sync=*/false, "kv checkpoint: wait for the flush");
  if (!s.ok()) co_return s;

  // m/checkpoint, and the markers it covers deleted, in one synced write.
  leveldb::DB* db = &db_;
  leveldb::WriteBatch batch;
  leveldb::Status read_status;
  co_await scheduler_.blocking([db, lsn, &batch, &read_status] {
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    const leveldb::Slice prefix(kBatchMarkerPrefix.data(), kBatchMarkerPrefix.size());
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      Result<wal::Lsn> last = BatchMarkerLsn(std::string_view(it->key().data(), it->key().size()));
      if (last.ok() && *last > lsn) break;  // Sorted by LSN: the rest are newer.
      batch.Delete(it->key());
    }
    read_status = it->status();
  });
  if (!read_status.ok()) co_return FromLevelDb(read_status, "kv checkpoint: read batch markers");
  batch.Put(leveldb::Slice(kCheckpointLsnKey.data(), kCheckpointLsnKey.size()), EncodeLsn(lsn));
  co_return co_await WriteDb(&batch, /*sync=*/true, "kv checkpoint: write checkpoint LSN");
}

Task<void> ApplyWorker::stop() {
  stop_requested_ = true;
  wake_.set();
  progress_.set();
  if (running_) co_await exited_.wait();
  assert(!running_);
}

}  // namespace kiln::kv
