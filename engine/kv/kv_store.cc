// KvStore: validation, the write path (encode, append to the log, acknowledge when durable), the
// read path (wait for the apply worker, then read LevelDB), Open's recovery and close. The apply
// worker and checkpoints are in apply_worker.h.
//
// Beyond the contract in kv_store.h:
// - Open creates dir, dir/db and dir/wal and syncs each parent (LevelDB never syncs the parent of
//   its directory); dir's own parent must exist. It resolves once the apply worker has replayed
//   every durable record, so a store is ready when Open returns. It raises wal.record_bytes_max
//   to fit one put of the largest key and value, so every valid single put can be logged.
// - An empty batch is Ok and writes nothing. A batch whose encoding is over the log's
//   record_bytes_max is InvalidArgument.
// - Fail-stop: if the apply worker stops on an error (a LevelDB write error, a record that does
//   not decode, a gap in the log), every later call returns that error (writes return it as
//   Unavailable, since nothing is written) until the store is closed and reopened.
// - Reads validate keys as writes do (empty or over key_bytes_max: InvalidArgument); a scan's
//   prefix or bounds may be any bytes. scan_range with begin > end (end not empty) is
//   InvalidArgument. A limit of 0 returns nothing.
// - close() waits for calls in flight, then closes the log and the DB; later calls are
//   Unavailable. Destroying a store without close() is for crashes only: REQUIRES that the
//   scheduler has destroyed the store's coroutines (the simulator killed its process).
#include "engine/kv/kv_store.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <set>

#include "engine/kv/apply_worker.h"
#include "engine/kv/codec.h"
#include "engine/kv/db_layout.h"
#include "engine/kv/leveldb_status.h"
#include "engine/runtime/event.h"
#include "leveldb/db.h"
#include "leveldb/iterator.h"

namespace kiln::kv {
namespace {

constexpr size_t kOpsInFlightMax = size_t{1} << 20;  // A sanity bound: more is a leak.

Status ValidateOptions(KvOptions* options) {
  if (Status s = ValidatePath(options->dir); !s.ok()) return s.WithContext("kv: options.dir");
  if (options->key_bytes_max == 0) return Status::InvalidArgument("kv: key_bytes_max is 0");
  if (options->checkpoint_every_records == 0) {
    return Status::InvalidArgument("kv: checkpoint_every_records is 0");
  }
  const size_t one_put = EncodedPutBytes(options->key_bytes_max, options->value_bytes_max);
  if (one_put > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("kv: key_bytes_max + value_bytes_max is over 4 GiB");
  }
  options->wal.record_bytes_max =
      std::max(options->wal.record_bytes_max, static_cast<uint32_t>(one_put));
  options->wal.dir = options->dir + "/wal";
  return Status::Ok();
}

class KvStoreImpl final : public KvStore {
 public:
  KvStoreImpl(FileSystem& fs, Scheduler& scheduler, LevelDbHost& host, KvOptions options)
      : fs_(fs),
        scheduler_(scheduler),
        host_(host),
        options_(std::move(options)),
        idle_(scheduler, "kv-close-idle") {}
  ~KvStoreImpl() override;

  // Directories, LevelDB, the log, the worker; resolves when the replay is done.
  Task<Status> Start();

  Task<Status> put(std::string key, std::string value) override;
  Task<Status> del(std::string key) override;
  Task<Status> write(WriteBatch batch) override;
  Task<Result<wal::Lsn>> write_lsn(WriteBatch batch) override;
  Task<Result<std::unique_ptr<KvSnapshot>>> snapshot() override;
  Task<Result<std::optional<std::string>>> get(std::string key) override;
  Task<Result<KeyValues>> scan_prefix(std::string prefix, size_t limit) override;
  Task<Result<KeyValues>> scan_range(std::string begin, std::string end, size_t limit) override;
  Task<Status> wait_applied(wal::Lsn lsn) override;
  wal::Lsn applied_lsn() const override { return worker_ ? worker_->applied_lsn() : 0; }
  wal::Lsn durable_lsn() const override {
    return std::max(acked_lsn_, wal_ ? wal_->durable_lsn() : 0);
  }
  Task<Status> checkpoint() override;
  Task<Status> close() override;
  const ManifestTrim& manifest_trim() const override { return manifest_trim_; }

 private:
  // Counts a public call in flight, so close() can wait for it.
  struct OpGuard {
    KvStoreImpl* s;
    explicit OpGuard(KvStoreImpl* store) : s(store) {
      ++s->ops_in_flight_;
      assert(s->ops_in_flight_ < kOpsInFlightMax);
    }
    OpGuard(const OpGuard&) = delete;
    OpGuard& operator=(const OpGuard&) = delete;
    ~OpGuard() {
      assert(s->ops_in_flight_ > 0);
      if (--s->ops_in_flight_ == 0) s->idle_.set();
    }
  };

  // Ok if a call may start: the store is open and has not fail-stopped. After a fail-stop a
  // read gets the worker's error, a write Unavailable (naming it).
  Status Admit(bool is_write) const;
  Status ValidateKey(std::string_view key) const;
  Status ValidateBatch(const WriteBatch& batch) const;
  Task<Status> CreateDirectories();
  Task<Status> OpenDb();
  // Reads see every write acknowledged before they began.
  Task<Status> WaitForReads();
  // Up to `limit` user keys from `seek` on, while they start with `within` (a LevelDB key
  // prefix) and, if `end` is not empty, are below it (a LevelDB key).
  Task<Result<KeyValues>> Scan(std::string seek, std::string within, std::string end, size_t limit,
                               const leveldb::Snapshot* view = nullptr);
  Task<Result<std::optional<std::string>>> Get(std::string key, const leveldb::Snapshot* view);
  // Releases every live snapshot's LevelDB view (before the DB goes) and marks them dead.
  void ReleaseSnapshots();

  friend class KvSnapshotImpl;

  FileSystem& fs_;
  Scheduler& scheduler_;
  LevelDbHost& host_;
  KvOptions options_;
  std::unique_ptr<leveldb::DB> db_;
  ManifestTrim manifest_trim_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<ApplyWorker> worker_;
  wal::Lsn acked_lsn_ = 0;  // The newest LSN write() acknowledged.
  size_t ops_in_flight_ = 0;
  std::set<class KvSnapshotImpl*> snapshots_;  // Live views, released before the DB closes.
  bool closing_ = false;
  bool closed_ = false;
  Event idle_;  // Set when ops_in_flight_ drops to 0.
};

// A LevelDB snapshot and the applied LSN it holds. Single-threaded like the store: the store
// releases it (and nulls `store_`) if it closes first.
class KvSnapshotImpl final : public KvSnapshot {
 public:
  KvSnapshotImpl(KvStoreImpl* store, const leveldb::Snapshot* view, wal::Lsn version)
      : store_(store), view_(view), version_(version) {
    store_->snapshots_.insert(this);
  }
  ~KvSnapshotImpl() override { Release(); }
  KvSnapshotImpl(const KvSnapshotImpl&) = delete;
  KvSnapshotImpl& operator=(const KvSnapshotImpl&) = delete;

  wal::Lsn version() const override { return version_; }
  void set_version(wal::Lsn version) { version_ = version; }
  const leveldb::Snapshot* view() const { return view_; }
  Task<Result<std::optional<std::string>>> get(std::string key) override {
    if (store_ == nullptr) co_return Status::Unavailable("kv snapshot: the store is closed");
    co_return co_await store_->Get(std::move(key), view_);
  }
  Task<Result<KeyValues>> scan_range(std::string begin, std::string end, size_t limit) override {
    if (store_ == nullptr) co_return Status::Unavailable("kv snapshot: the store is closed");
    if (!end.empty() && begin > end) {
      co_return Status::InvalidArgument("kv scan_range: begin is after end");
    }
    std::string seek = UserKey(begin);
    std::string stop = end.empty() ? std::string() : UserKey(end);
    co_return co_await store_->Scan(std::move(seek), std::string(1, kUserPrefix), std::move(stop),
                                    limit, view_);
  }

  // Gives the view back to LevelDB. Idempotent.
  void Release() {
    if (store_ == nullptr) return;
    store_->snapshots_.erase(this);
    if (store_->db_ != nullptr) store_->db_->ReleaseSnapshot(view_);
    store_ = nullptr;
    view_ = nullptr;
  }

 private:
  KvStoreImpl* store_;
  const leveldb::Snapshot* view_;
  wal::Lsn version_;
};

void KvStoreImpl::ReleaseSnapshots() {
  while (!snapshots_.empty()) (*snapshots_.begin())->Release();  // Each pass erases one.
}

KvStoreImpl::~KvStoreImpl() {
  // Without close(): a crash. The worker's frame is already gone (see the top of the file).
  assert(worker_ == nullptr || !worker_->running());
  ReleaseSnapshots();
  worker_.reset();
  wal_.reset();
  if (db_ != nullptr) {
    host_.before_write();  // The DB's destructor waits for queued work: run it first.
    db_.reset();
  }
}

Status KvStoreImpl::Admit(bool is_write) const {
  if (closing_ || closed_) return Status::Unavailable("kv store is closed");
  if (worker_ == nullptr || worker_->failure().ok()) return Status::Ok();
  const Status& failure = worker_->failure();
  if (is_write) {
    return Status::Unavailable("kv store fail-stopped until it is reopened: " + failure.ToString());
  }
  return failure.WithContext("kv store fail-stopped until it is reopened");
}

Status KvStoreImpl::ValidateKey(std::string_view key) const {
  if (key.empty()) return Status::InvalidArgument("kv: empty key");
  if (key.size() > options_.key_bytes_max) {
    return Status::InvalidArgument("kv: key of " + std::to_string(key.size()) +
                                   " bytes is over key_bytes_max " +
                                   std::to_string(options_.key_bytes_max));
  }
  return Status::Ok();
}

Status KvStoreImpl::ValidateBatch(const WriteBatch& batch) const {
  for (const WriteBatch::Op& op : batch.ops()) {
    if (Status s = ValidateKey(op.key); !s.ok()) return s;
    if (!op.is_delete && op.value.size() > options_.value_bytes_max) {
      return Status::InvalidArgument("kv: value of " + std::to_string(op.value.size()) +
                                     " bytes is over value_bytes_max " +
                                     std::to_string(options_.value_bytes_max));
    }
  }
  const size_t bytes = EncodedBatchBytes(batch);
  if (bytes > options_.wal.record_bytes_max) {
    return Status::InvalidArgument("kv: batch of " + std::to_string(batch.size()) +
                                   " ops encodes to " + std::to_string(bytes) +
                                   " bytes, over the log's record_bytes_max " +
                                   std::to_string(options_.wal.record_bytes_max));
  }
  return Status::Ok();
}

Task<Status> KvStoreImpl::CreateDirectories() {
  const std::string& dir = options_.dir;
  Status s = co_await fs_.create_dir(dir);
  if (s.ok()) s = co_await fs_.sync_directory(ParentDir(dir));
  if (s.ok()) s = co_await fs_.create_dir(dir + "/db");
  if (s.ok()) s = co_await fs_.create_dir(dir + "/wal");
  if (s.ok()) s = co_await fs_.sync_directory(dir);
  co_return s.ok() ? s : s.WithContext("kv open: create " + dir);
}

Task<Status> KvStoreImpl::OpenDb() {
  leveldb::Options options = host_.options();
  options.create_if_missing = true;
  const std::string path = options_.dir + "/db";
  leveldb::DB* raw = nullptr;
  ManifestTrim* trim = &manifest_trim_;
  const leveldb::Status s = co_await scheduler_.blocking([&options, &path, &raw, trim] {
    // LevelDB finding 9 (docs/fault-model.md): a torn last MANIFEST record would make it refuse.
    leveldb::Status trimmed = TrimTornManifestTail(options.env, path, trim);
    if (!trimmed.ok()) return trimmed;
    return leveldb::DB::Open(options, path, &raw);
  });
  db_.reset(raw);
  co_return FromLevelDb(s, "kv open: open LevelDB " + path);
}

Task<Status> KvStoreImpl::Start() {
  if (Status s = co_await CreateDirectories(); !s.ok()) co_return s;
  if (Status s = co_await OpenDb(); !s.ok()) co_return s;
  assert(db_ != nullptr);

  leveldb::DB* db = db_.get();
  std::optional<Result<ApplyState>> read;
  co_await scheduler_.blocking([db, &read] { read.emplace(ReadApplyState(*db)); });
  if (!read->ok()) co_return read->status();
  const ApplyState state = read->value();
  if (state.broken_run()) {
    LevelDbHost* host = &host_;
    Status reset = co_await scheduler_.blocking(
        [db, host, &state] { return ResetPastRun(*db, *host, state); });
    if (!reset.ok()) co_return reset;
  }

  // NOTE (GCC 12, task.h): the options aggregate is passed outside the co_await expression.
  Task<Result<std::unique_ptr<wal::Wal>>> opening = wal::Wal::Open(fs_, scheduler_, options_.wal);
  Result<std::unique_ptr<wal::Wal>> log = co_await std::move(opening);
  if (!log.ok()) co_return log.status().WithContext("kv open: open the log");
  wal_ = std::move(log).value();

  // The log must hold every record after what LevelDB has, and nothing LevelDB has applied can
  // be missing from it (applies only ever follow durable records, and synced records survive).
  const wal::Lsn durable = wal_->durable_lsn();
  if (state.applied_lsn > durable) {
    co_return Status::Corruption("kv open: LevelDB has applied up to LSN " +
                                 std::to_string(state.applied_lsn) + " but the log ends at LSN " +
                                 std::to_string(durable));
  }
  const wal::Lsn first = wal_->first_lsn();
  if (state.applied_lsn < durable && first > state.applied_lsn + 1) {
    co_return Status::Corruption("kv open: replay must start at LSN " +
                                 std::to_string(state.applied_lsn + 1) +
                                 " but the log starts at LSN " + std::to_string(first));
  }
  acked_lsn_ = durable;
  worker_ = std::make_unique<ApplyWorker>(scheduler_, host_, *db_, *wal_, state,
                                          options_.checkpoint_every_records);
  worker_->start();
  Status replay = co_await worker_->wait_applied(durable);
  co_return replay.ok() ? replay : replay.WithContext("kv open: replay the log");
}

Task<Status> KvStoreImpl::put(std::string key, std::string value) {
  WriteBatch batch;
  batch.put(std::move(key), std::move(value));
  co_return co_await write(std::move(batch));
}

Task<Status> KvStoreImpl::del(std::string key) {
  WriteBatch batch;
  batch.del(std::move(key));
  co_return co_await write(std::move(batch));
}

Task<Status> KvStoreImpl::write(WriteBatch batch) {
  if (batch.size() == 0) {
    co_return Admit(/*is_write=*/true);  // Ok, and writes nothing.
  }
  Result<wal::Lsn> lsn = co_await write_lsn(std::move(batch));
  co_return lsn.status();
}

Task<Result<wal::Lsn>> KvStoreImpl::write_lsn(WriteBatch batch) {
  // No await before the append: see the ordering contract in kv_store.h.
  if (Status s = Admit(/*is_write=*/true); !s.ok()) co_return s;
  OpGuard op(this);
  if (Status s = ValidateBatch(batch); !s.ok()) co_return s;
  if (batch.size() == 0) co_return Status::InvalidArgument("kv: an empty batch has no LSN");
  std::string payload = EncodeBatch(batch);
  Result<wal::Lsn> lsn = co_await wal_->append(kBatchRecordType, std::move(payload));
  // Wake the worker either way: on a failure, waiters must see that the log fail-stopped.
  worker_->notify();
  if (!lsn.ok()) co_return lsn.status();
  assert(*lsn <= wal_->durable_lsn());
  acked_lsn_ = std::max(acked_lsn_, *lsn);
  co_return *lsn;
}

Task<Result<std::unique_ptr<KvSnapshot>>> KvStoreImpl::snapshot() {
  if (Status s = Admit(/*is_write=*/false); !s.ok()) co_return s;
  OpGuard op(this);
  if (Status s = co_await WaitForReads(); !s.ok()) co_return s;
  if (closing_ || closed_) co_return Status::Unavailable("kv store is closed");
  // The applied LSN is written in the same LevelDB batch as the data it covers, so reading it
  // through the view gives the view's version exactly, whatever the worker does meanwhile.
  leveldb::DB* db = db_.get();
  // Owned (and registered) before the await, so a frame destroyed there releases it.
  auto snapshot = std::make_unique<KvSnapshotImpl>(this, db->GetSnapshot(), 0);
  const leveldb::Snapshot* view = snapshot->view();
  std::string applied;
  const leveldb::Status s = co_await scheduler_.blocking([db, view, &applied] {
    leveldb::ReadOptions options;
    options.verify_checksums = true;
    options.snapshot = view;
    return db->Get(options, std::string(kAppliedLsnKey), &applied);
  });
  if (s.ok()) {
    Result<wal::Lsn> decoded = DecodeLsn(applied, "kv snapshot: applied LSN");
    if (!decoded.ok()) co_return decoded.status();
    snapshot->set_version(*decoded);
  } else if (!s.IsNotFound()) {
    co_return FromLevelDb(s, "kv snapshot");
  }
  co_return std::unique_ptr<KvSnapshot>(std::move(snapshot));
}

Task<Status> KvStoreImpl::WaitForReads() {
  Status s = co_await worker_->wait_applied(durable_lsn());
  if (s.ok() && !worker_->failure().ok()) s = worker_->failure();
  co_return s;
}

Task<Result<std::optional<std::string>>> KvStoreImpl::get(std::string key) {
  co_return co_await Get(std::move(key), nullptr);
}

Task<Result<std::optional<std::string>>> KvStoreImpl::Get(std::string key,
                                                          const leveldb::Snapshot* view) {
  if (Status s = Admit(/*is_write=*/false); !s.ok()) co_return s;
  OpGuard op(this);
  if (Status s = ValidateKey(key); !s.ok()) co_return s;
  if (view == nullptr) {
    if (Status s = co_await WaitForReads(); !s.ok()) co_return s;
  }
  leveldb::DB* db = db_.get();
  const std::string db_key = UserKey(key);
  std::string value;
  const leveldb::Status s = co_await scheduler_.blocking([db, view, &db_key, &value] {
    leveldb::ReadOptions options;
    options.verify_checksums = true;
    options.snapshot = view;
    return db->Get(options, db_key, &value);
  });
  if (s.IsNotFound()) co_return std::optional<std::string>();
  if (!s.ok()) co_return FromLevelDb(s, "kv get");
  co_return std::optional<std::string>(std::move(value));
}

Task<Result<KeyValues>> KvStoreImpl::scan_prefix(std::string prefix, size_t limit) {
  std::string within = UserKey(prefix);
  std::string seek = within;
  co_return co_await Scan(std::move(seek), std::move(within), std::string(), limit);
}

Task<Result<KeyValues>> KvStoreImpl::scan_range(std::string begin, std::string end, size_t limit) {
  if (!end.empty() && begin > end) {
    co_return Status::InvalidArgument("kv scan_range: begin is after end");
  }
  std::string seek = UserKey(begin);
  std::string stop = end.empty() ? std::string() : UserKey(end);
  co_return co_await Scan(std::move(seek), std::string(1, kUserPrefix), std::move(stop), limit);
}

Task<Result<KeyValues>> KvStoreImpl::Scan(std::string seek, std::string within, std::string end,
                                          size_t limit, const leveldb::Snapshot* view) {
  if (Status s = Admit(/*is_write=*/false); !s.ok()) co_return s;
  OpGuard op(this);
  if (view == nullptr) {
    if (Status s = co_await WaitForReads(); !s.ok()) co_return s;
  }
  leveldb::DB* db = db_.get();
  KeyValues out;
  leveldb::Status status;
  co_await scheduler_.blocking([db, view, &seek, &within, &end, limit, &out, &status] {
    leveldb::ReadOptions options;
    options.verify_checksums = true;
    options.snapshot = view;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
    const leveldb::Slice end_key(end);
    for (it->Seek(seek); it->Valid() && out.size() < limit; it->Next()) {
      const leveldb::Slice key = it->key();
      if (!key.starts_with(within)) break;
      if (!end.empty() && key.compare(end_key) >= 0) break;
      out.emplace_back(std::string(UserKeyOf(std::string_view(key.data(), key.size()))),
                       it->value().ToString());
    }
    status = it->status();
  });
  if (!status.ok()) co_return FromLevelDb(status, "kv scan");
  assert(out.size() <= limit);
  co_return out;
}

Task<Status> KvStoreImpl::wait_applied(wal::Lsn lsn) {
  if (Status s = Admit(/*is_write=*/false); !s.ok()) co_return s;
  OpGuard op(this);
  co_return co_await worker_->wait_applied(lsn);
}

Task<Status> KvStoreImpl::checkpoint() {
  if (Status s = Admit(/*is_write=*/false); !s.ok()) co_return s;
  OpGuard op(this);
  co_return co_await worker_->checkpoint();
}

Task<Status> KvStoreImpl::close() {
  if (closed_) co_return Status::Ok();
  if (closing_) co_return Status::Unavailable("kv store: close() is already running");
  closing_ = true;
  if (worker_ != nullptr) co_await worker_->stop();  // Waiters return Unavailable now.
  for (size_t waits = 0; ops_in_flight_ > 0; ++waits) {
    assert(waits < kOpsInFlightMax);
    idle_.reset();
    co_await idle_.wait();
  }
  worker_.reset();
  Status result;
  if (wal_ != nullptr) {
    result = co_await wal_->close();
    wal_.reset();
  }
  ReleaseSnapshots();
  if (db_ != nullptr) {
    std::unique_ptr<leveldb::DB>* db = &db_;
    LevelDbHost* host = &host_;
    co_await scheduler_.blocking([db, host] {
      host->before_write();  // Queued work runs before the DB's destructor waits for it.
      db->reset();
    });
  }
  closed_ = true;
  co_return result;
}

}  // namespace

Task<Result<std::unique_ptr<KvStore>>> KvStore::Open(FileSystem& fs, Scheduler& scheduler,
                                                     LevelDbHost& leveldb, KvOptions options) {
  if (Status s = ValidateOptions(&options); !s.ok()) co_return s;
  auto store = std::make_unique<KvStoreImpl>(fs, scheduler, leveldb, std::move(options));
  Status s = co_await store->Start();
  if (!s.ok()) {
    Status closed = co_await store->close();  // Releases what Start opened; its error is moot.
    (void)closed;
    co_return s;
  }
  co_return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace kiln::kv
