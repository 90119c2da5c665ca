#include "scenarios/txn_scenario.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/runtime/buggify.h"
#include "properties/serializability.h"

namespace kiln::scenarios {
namespace {

using properties::TxnRecord;
using sim::FaultKind;

constexpr const char* kDir = "/txn";
constexpr int kOpenAttemptsMax = 100000;
constexpr uint64_t kVerifyClient = 1'000'000;  // The final reads' client id in the history.
constexpr size_t kUnrecorded = SIZE_MAX;       // A commit outside the history.

}  // namespace

// --- RecordedTxn ---

Task<Result<std::optional<std::string>>> RecordedTxn::get(std::string key) {
  Result<std::optional<std::string>> v = co_await txn_.get(key);
  if (v.ok()) s_.history_.read(index_, std::move(key), *v);
  co_return v;
}

Task<Result<kv::KeyValues>> RecordedTxn::scan_range(std::string begin, std::string end,
                                                    size_t limit) {
  Result<kv::KeyValues> rows = co_await txn_.scan_range(begin, end, limit);
  if (rows.ok()) s_.history_.scan(index_, std::move(begin), std::move(end), limit, *rows);
  co_return rows;
}

Status RecordedTxn::put(std::string key, std::string value) {
  Status s = txn_.put(key, value);
  if (s.ok()) s_.history_.put(index_, std::move(key), std::move(value));
  return s;
}

Status RecordedTxn::add(std::string key, int64_t delta) {
  Status s = txn_.add(key, delta);
  if (s.ok()) s_.history_.add(index_, std::move(key), delta);
  return s;
}

Status RecordedTxn::del(std::string key) {
  Status s = txn_.del(key);
  if (s.ok()) s_.history_.del(index_, std::move(key));
  return s;
}

// --- Recorder ---

// Tags are history index + 1 (as Transact's), so the sequence observer reads them alike.
class TxnScenario::Recorder final : public txn::TxnObserver {
 public:
  explicit Recorder(TxnScenario& scenario) : s_(scenario) {}

  uint64_t invoked() override { return s_.history_.begin(kEngineClient, s_.step()) + 1; }
  void began(uint64_t tag, wal::Lsn read_version) override {
    s_.read_versions_[Index(tag)] = read_version;
  }
  void read(uint64_t tag, const std::string& key,
            const std::optional<std::string>& value) override {
    s_.history_.read(Index(tag), key, value);
  }
  void scanned(uint64_t tag, const std::string& begin, const std::string& end, size_t limit,
               const kv::KeyValues& rows) override {
    s_.history_.scan(Index(tag), begin, end, limit, rows);
  }
  void wrote(uint64_t tag, const std::string& key,
             const std::optional<std::string>& value) override {
    if (value.has_value()) {
      s_.history_.put(Index(tag), key, *value);
    } else {
      s_.history_.del(Index(tag), key);
    }
  }
  void added(uint64_t tag, const std::string& key, int64_t delta) override {
    s_.history_.add(Index(tag), key, delta);
  }
  void ended(uint64_t tag, Outcome outcome, wal::Lsn read_version,
             wal::Lsn commit_version) override {
    TxnRecord::Outcome o = TxnRecord::Outcome::kAborted;
    if (outcome == Outcome::kCommitted) o = TxnRecord::Outcome::kCommitted;
    if (outcome == Outcome::kUnknown) o = TxnRecord::Outcome::kUnknown;
    s_.history_.complete(Index(tag), o, read_version, commit_version, s_.step());
  }

 private:
  size_t Index(uint64_t tag) const {
    assert(tag >= 1 && tag <= s_.history_.size());
    return static_cast<size_t>(tag - 1);
  }

  TxnScenario& s_;
};

txn::TxnObserver* TxnScenario::recorder() {
  if (recorder_ == nullptr) recorder_ = std::make_unique<Recorder>(*this);
  return recorder_.get();
}

// --- TxnScenario ---

struct TxnScenario::ClientGuard {
  TxnScenario* s;
  explicit ClientGuard(TxnScenario* scenario) : s(scenario) { ++s->active_clients_; }
  ~ClientGuard() {
    if (--s->active_clients_ == 0 && s->ops_remaining_ == 0) s->clients_finished_->set();
  }
};

std::vector<FaultKind> TxnScenario::SwarmKinds() {
  return {FaultKind::kCrash,  FaultKind::kLost,      FaultKind::kTorn,   FaultKind::kFull,
          FaultKind::kIoRead, FaultKind::kIoWrite,   FaultKind::kIoSync, FaultKind::kIoMeta,
          FaultKind::kSticky, FaultKind::kClockJump, FaultKind::kSlow};
}

TxnScenario::TxnScenario() = default;

TxnScenario::~TxnScenario() {
  if (store_ != nullptr && env_ != nullptr) DropStore();
}

void TxnScenario::setup(sim::World& world) {
  world_ = &world;
  machine_ = &world.add_machine("db");
  clients_ = world.param("clients", default_clients(world.random()), 1, 256);
  ops_remaining_ = setup_workload(world);
  env_ = std::make_unique<simfs::SimLevelEnv>(machine_->disk(), world.clock(), world.trace());
  host_ = std::make_unique<simfs::SimLevelDbHost>(*env_);
  simfs::IoLatency latency;
  latency.slow_io_p = world.plan().rate(FaultKind::kSlow);
  fs_random_ = std::make_unique<DeterministicRandom>(world.random().next_u64());
  fs_ = std::make_unique<simfs::SimFileSystem>(machine_->disk(), world.scheduler(), *fs_random_,
                                               latency);
  store_open_ = std::make_unique<Event>(world.scheduler(), "store-open");
  clients_finished_ = std::make_unique<Event>(world.scheduler(), "clients-finished");
  if (ops_remaining_ == 0) clients_finished_->set();
  machine_->on_boot = [this](sim::Machine& m) { world_->spawn_on(m, Boot(), "boot"); };
  machine_->on_halt = [this](sim::Machine&) {
    store_open_->reset();
    on_halt();
    for (size_t index : before_commit_) {
      history_.complete(index, TxnRecord::Outcome::kAborted, 0, 0, step());
    }
    before_commit_.clear();
    DropStore();  // The process died: no clean close.
  };
  world.boot(*machine_);
}

void TxnScenario::heal(sim::World& world) {
  world.scheduler().spawn_in(simclock::kSimulatorProcess, Verify(), "verify");
}

Result<properties::TxnHistory> TxnScenario::Resolved() const {
  // Each transaction's outcome and commit version, resolved.
  struct Fate {
    TxnRecord::Outcome outcome;
    uint64_t commit_version;
    uint64_t read_version;
    uint64_t complete_step;
  };
  std::vector<Fate> fate(history_.size());
  for (size_t i = 0; i < history_.size(); ++i) {
    const TxnRecord& r = history_.txn(i);
    fate[i] = {r.outcome, r.commit_version, r.read_version, r.complete_step};
  }
  for (const Incarnation& inc : incarnations_) {
    if (inc.recovered == UINT64_MAX) continue;  // Never recovered: its doubts stay doubts.
    // Commits the history does not record took LSNs too, unknown which: leave the doubts.
    if (std::find(inc.submitted.begin(), inc.submitted.end(), kUnrecorded) != inc.submitted.end()) {
      continue;
    }
    wal::Lsn next = inc.opened_at + 1;
    for (size_t index : inc.submitted) {
      const TxnRecord& r = history_.txn(index);
      if (r.outcome == TxnRecord::Outcome::kCommitted) {
        if (r.commit_version != next) {
          return Status::Corruption("commit order: txn #" + std::to_string(index) +
                                    " was acknowledged at LSN " + std::to_string(r.commit_version) +
                                    " where " + std::to_string(next) +
                                    " was next in submission order");
        }
        ++next;
      } else if (r.outcome == TxnRecord::Outcome::kUnknown ||
                 r.outcome == TxnRecord::Outcome::kPending) {
        // Visible at the latest once the next incarnation recovered it: that is its completion.
        Fate& f = fate[index];
        f.read_version = read_versions_.at(index);
        f.complete_step = inc.recovered_step;
        if (next <= inc.recovered) {
          f.outcome = TxnRecord::Outcome::kCommitted;
          f.commit_version = next;
        } else {
          f.outcome = TxnRecord::Outcome::kAborted;
          f.commit_version = 0;
        }
        ++next;
      }  // Aborted (Conflict, TooOld, NoSpace, ...): it took no LSN.
    }
  }
  properties::TxnHistory out;
  for (size_t i = 0; i < history_.size(); ++i) {
    const TxnRecord& r = history_.txn(i);
    const size_t index = out.begin(r.client, r.invoke_step);
    for (const properties::TxnStep& st : r.steps) {
      switch (st.type) {
        case properties::TxnStep::Type::kRead:
          out.read(index, st.key, st.observed);
          break;
        case properties::TxnStep::Type::kScan:
          out.scan(index, st.key, st.end, st.limit, st.rows);
          break;
        case properties::TxnStep::Type::kPut:
          out.put(index, st.key, st.value);
          break;
        case properties::TxnStep::Type::kDelete:
          out.del(index, st.key);
          break;
        case properties::TxnStep::Type::kAdd:
          out.add(index, st.key, st.delta);
          break;
      }
    }
    const Fate& f = fate[i];
    if (f.outcome == TxnRecord::Outcome::kPending) continue;  // Left in doubt for the checker.
    out.complete(index, f.outcome, f.read_version, f.commit_version, f.complete_step);
  }
  return out;
}

sim::Check TxnScenario::check(sim::World&) {
  if (!history_complete()) return check_state(final_state_);
  Result<properties::TxnHistory> resolved = Resolved();
  if (!resolved.ok()) return sim::Check::Fail("serializability", resolved.status().message());
  properties::SerializabilityResult r = properties::CheckSerializable(*resolved);
  if (!r.ok) return sim::Check::Fail("serializability", r.message);
  return check_state(final_state_);
}

std::string TxnScenario::pending() const {
  return std::to_string(ops_remaining_) + " ops unissued, " + std::to_string(active_clients_) +
         " clients active, " + std::to_string(history_.pending()) +
         " transactions never completed, store " + (store_ ? "open" : "closed");
}

kv::KvOptions TxnScenario::Options() const {
  kv::KvOptions o;
  o.dir = kDir;
  o.wal.segment_bytes = 64 * 1024;
  o.wal.batch_bytes_max = 16 * 1024;
  o.wal.record_bytes_max = 8 * 1024;
  o.key_bytes_max = 64;
  o.value_bytes_max = 1024;
  o.checkpoint_every_records = 50;
  return o;
}

uint64_t TxnScenario::step() const {
  return world_->scheduler().steps();
}

void TxnScenario::DropStore() {
  txns_.reset();
  env_->drain_background_work();
  store_.reset();
  env_->drain_background_work();
}

Task<void> TxnScenario::Boot() {
  auto& sched = world_->scheduler();
  for (int attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
    auto opened = co_await kv::KvStore::Open(*fs_, sched, *host_, Options());
    if (opened.ok()) {
      store_ = std::move(*opened);
      txns_ = std::make_unique<txn::TxnStore>(*store_, sched, world_->clock());
      // Tags are history index + 1; 0: a commit this history does not record (one begun
      // without recorder()).
      txns_->set_sequence_observer([this](uint64_t tag) {
        incarnations_.back().submitted.push_back(tag == 0 ? kUnrecorded : tag - 1);
      });
      if (!incarnations_.empty()) {
        incarnations_.back().recovered = store_->durable_lsn();
        incarnations_.back().recovered_step = step();
      }
      incarnations_.push_back({store_->durable_lsn(), UINT64_MAX, 0, {}});
      restart_requested_ = false;
      break;
    }
    world_->trace().record(simclock::TraceKind::kNote, static_cast<uint64_t>(attempt), 0,
                           "store open failed: " + opened.status().ToString());
    if (opened.status().IsInvalidArgument() || opened.status().IsCorruption()) {
      // In-contract faults never corrupt the store, and the options are the scenario's own.
      world_->fail("no-corruption", "the store refused to open: " + opened.status().ToString());
      co_return;
    }
    co_await sched.sleep_for(Duration(world_->random().range(100, 5000)));
  }
  if (store_ == nullptr) co_return;  // The liveness check reports it.
  store_open_->set();
  sched.spawn(simfs::RunLevelDbBackground(sched, world_->random(), *env_, Duration(2000)),
              "leveldb-background");
  for (int64_t c = 0; c < clients_ && ops_remaining_ > 0; ++c) {
    sched.spawn(Client(static_cast<uint64_t>(c)), "client-" + std::to_string(c));
  }
}

Task<void> TxnScenario::Client(uint64_t client) {
  ClientGuard guard(this);
  while (ops_remaining_ > 0 && !world_->failed()) {
    if (!BUGGIFY) co_await world_->scheduler().sleep_for(Duration(random().range(0, 1000)));
    if (ops_remaining_ == 0) break;
    --ops_remaining_;
    Status s = co_await run_op(client);
    if (s.ok() || s.IsConflict() || s.IsTooOld() || s.IsNoSpace()) continue;
    if (s.IsInvalidArgument()) {
      world_->fail("api", "a transaction was refused as invalid: " + s.ToString());
      co_return;
    }
    // Unknown, Unavailable, IOError: the store fail-stopped. Restart and let recovery decide.
    if (!restart_requested_) world_->request_restart(*machine_);
    restart_requested_ = true;
    co_return;
  }
}

Task<Status> TxnScenario::Transact(uint64_t client,
                                   std::function<Task<Status>(RecordedTxn&)> body) {
  const size_t index = history_.begin(client, step());
  before_commit_.insert(index);
  Result<std::unique_ptr<txn::Transaction>> t = co_await txns_->begin();
  if (!t.ok()) {
    before_commit_.erase(index);
    history_.complete(index, TxnRecord::Outcome::kAborted, 0, 0, step());
    co_return t.status();
  }
  txn::Transaction& txn = **t;
  RecordedTxn recorded(*this, txn, index);
  Status s = co_await body(recorded);
  before_commit_.erase(index);
  if (!s.ok()) {
    txn.abort();
    history_.complete(index, TxnRecord::Outcome::kAborted, txn.read_version(), 0, step());
    co_return s;
  }
  if (!txn.read_only()) read_versions_[index] = txn.read_version();
  txn.set_tag(index + 1);
  s = co_await txn.commit();
  TxnRecord::Outcome outcome = TxnRecord::Outcome::kAborted;  // Nothing written.
  if (s.ok()) {
    outcome = TxnRecord::Outcome::kCommitted;
  } else if (s.IsUnknown()) {
    outcome = TxnRecord::Outcome::kUnknown;
  }
  history_.complete(index, outcome, txn.read_version(), txn.commit_version(), step());
  co_return s;
}

Task<Status> TxnScenario::TransactWithRetries(uint64_t client,
                                              std::function<Task<Status>(RecordedTxn&)> body) {
  const txn::RetryOptions retry;
  Duration backoff = retry.backoff_first;
  Status s;
  for (int attempt = 0; attempt < retry.attempts_max; ++attempt) {
    if (attempt > 0) {
      const auto us = static_cast<uint64_t>(backoff.count());
      co_await world_->scheduler().sleep_for(
          Duration(static_cast<int64_t>(random().uniform(us + 1))));
      backoff = std::min(backoff * 2, retry.backoff_max);
    }
    s = co_await Transact(client, body);
    if (!s.IsConflict()) co_return s;
  }
  co_return s;
}

// After heal: once the clients are done, cut the power (or restart), recover, read everything
// in one read-only transaction; twice, and the two must agree.
Task<void> TxnScenario::Verify() {
  if (!done()) co_await clients_finished_->wait();
  std::map<std::string, std::string> first;
  for (int round = 0; round < 2 && !world_->failed(); ++round) {
    if (machine_->up()) {
      if (world_->plan().enabled(FaultKind::kCrash)) {
        world_->power_loss(*machine_);
        world_->boot(*machine_);
      } else {
        world_->restart(*machine_);
      }
    }
    co_await store_open_->wait();
    if (world_->failed()) co_return;
    std::map<std::string, std::string> state;
    Status s = co_await Transact(kVerifyClient, [&state](RecordedTxn& t) -> Task<Status> {
      Result<kv::KeyValues> all = co_await t.scan_range("", "", SIZE_MAX);
      if (!all.ok()) co_return all.status();
      state = std::map<std::string, std::string>(all->begin(), all->end());
      co_return Status::Ok();
    });
    if (!s.ok()) {
      world_->fail("durability", "reading the state after heal failed: " + s.ToString());
      co_return;
    }
    if (round == 0) {
      first = state;
    } else if (state != first) {
      world_->fail("recovery-idempotent", "a second recovery read a different state");
      co_return;
    }
  }
  final_state_ = std::move(first);
  verified_ = true;
  uint64_t counts[4] = {0, 0, 0, 0};  // By outcome.
  for (const TxnRecord& r : history_.txns()) ++counts[static_cast<int>(r.outcome)];
  world_->trace().record(simclock::TraceKind::kNote, 0, 0,
                         "transactions: " + std::to_string(counts[1]) + " committed, " +
                             std::to_string(counts[2]) + " aborted, " + std::to_string(counts[3]) +
                             " unknown, " + std::to_string(counts[0]) + " pending");
}

}  // namespace kiln::scenarios
