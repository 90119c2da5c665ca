// spine: clients put, delete, read and scan the engine's KvStore (write-ahead log -> apply
// worker -> LevelDB) on one simulated disk, under every fault kind of the plan: power loss, torn
// and lost unsynced writes, full disks, I/O errors, clock jumps, slow I/O.
//
// Properties (properties/kv_durability.h, every write acknowledged only once durable): every
// acknowledged write survives every crash; nothing appears that was never written (so no torn or
// corrupt record is ever applied: values are unique); a scan misses no key it must hold; errors
// surface as errors and lose nothing; recovery run twice equals recovery once.
//
// A client goes on after an `Unknown` write (its fate is for recovery to decide) and asks for a
// restart after any other failure. With faults outside the contract (corrupt, misdirect) in the
// plan, corruption reported at open is the right outcome: the run ends there and only the reads
// made before it are checked; without them, reported corruption is a violation. Those faults hit
// only the log's files (DiskFaults::outside_contract_prefix): see setup().
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/kv/kv_store.h"
#include "engine/runtime/buggify.h"
#include "engine/runtime/event.h"
#include "properties/kv_durability.h"
#include "properties/kv_history.h"
#include "sim/scenario.h"
#include "simfs/sim_file_system.h"
#include "simfs/sim_level_env.h"
#include "simfs/sim_leveldb_host.h"

namespace kiln::scenarios {
namespace {

using properties::KvOp;
using sim::FaultKind;

constexpr const char* kDir = "/spine";
constexpr int kOpenAttemptsMax = 100000;

// Keys are bytes, NUL included: "k", 0x00, then the index as one or two bytes.
std::string KeyOf(int64_t i) {
  std::string k("k");
  k.push_back('\0');
  k.push_back(static_cast<char>(i & 0xff));
  if (i > 0xff) k.push_back(static_cast<char>((i >> 8) & 0xff));
  return k;
}

class Spine final : public sim::Scenario {
 public:
  static constexpr const char* kName = "spine";
  static constexpr const char* kDescription =
      "clients put/delete/get/scan the KvStore (WAL -> apply -> LevelDB) under every fault "
      "kind; acknowledged writes survive, nothing unwritten appears, recovery is idempotent";
  static std::vector<FaultKind> SwarmKinds() {
    return {FaultKind::kCrash,  FaultKind::kLost,      FaultKind::kTorn,   FaultKind::kFull,
            FaultKind::kIoRead, FaultKind::kIoWrite,   FaultKind::kIoSync, FaultKind::kIoMeta,
            FaultKind::kSticky, FaultKind::kClockJump, FaultKind::kSlow};
  }

  ~Spine() override { CloseStoreNow(); }

  void setup(sim::World& world) override {
    world_ = &world;
    machine_ = &world.add_machine("db");
    clients_ = world.param("clients", world.random().range(2, 6), 1, 64);
    ops_remaining_ = world.param("ops", 300, 0, 1000000);
    keys_ = world.param("keys", 16, 1, 60000);
    segment_kib_ = world.param("segment_kib", 64, 4, 1 << 20);
    corruption_allowed_ =
        world.plan().enabled(FaultKind::kCorrupt) || world.plan().enabled(FaultKind::kMisdirect);
    // Faults outside the contract are aimed at Kiln's log. LevelDB's own reaction to them is
    // leveldb-crash's subject (docs/fault-model.md): with paranoid_checks off, which surviving
    // its torn log tails needs, a compaction copies a flipped bit into a new table silently.
    simfs::DiskFaults faults = machine_->disk().faults();
    faults.outside_contract_prefix = std::string(kDir + 1) + "/wal/";
    machine_->disk().set_faults(faults);
    env_ = std::make_unique<simfs::SimLevelEnv>(machine_->disk(), world.clock(), world.trace());
    host_ = std::make_unique<simfs::SimLevelDbHost>(*env_);
    simfs::IoLatency latency;
    latency.slow_io_p = world.plan().rate(FaultKind::kSlow);
    fs_random_ = std::make_unique<DeterministicRandom>(world.random().next_u64());
    fs_ = std::make_unique<simfs::SimFileSystem>(machine_->disk(), world.scheduler(), *fs_random_,
                                                 latency);
    store_open_ = std::make_unique<Event>(world.scheduler(), "store-open");
    clients_finished_ = std::make_unique<Event>(world.scheduler(), "clients-finished");
    machine_->on_boot = [this](sim::Machine& m) { world_->spawn_on(m, Boot(), "boot"); };
    machine_->on_halt = [this](sim::Machine&) {
      store_open_->reset();
      // The process is gone: its store object is dropped without a clean close, as a crash
      // would; what LevelDB queued runs and (on power loss) fails first.
      DropStore();
    };
    world.boot(*machine_);
  }

  bool done() const override { return ops_remaining_ == 0 && active_clients_ == 0; }

  void heal(sim::World& world) override {
    world.scheduler().spawn_in(simclock::kSimulatorProcess, Verify(), "verify");
  }

  bool settled() const override { return verified_; }

  sim::Check check(sim::World& world) override {
    if (!corruption_detected_.empty()) {
      // Only the reads seen before detection can be checked: there is no final state.
      auto r = properties::CheckKvReads(history_);
      return r.ok ? sim::Check::Pass() : sim::Check::Fail("durability", r.message);
    }
    auto r = properties::CheckKvDurability(history_, final_state_, final_step_);
    if (!r.ok) return sim::Check::Fail("durability", r.message);
    if (second_recovery_ != first_recovery_) {
      return sim::Check::Fail("recovery-idempotent",
                              "a second recovery saw " + std::to_string(second_recovery_.size()) +
                                  " keys, the first " + std::to_string(first_recovery_.size()) +
                                  " (or different values)");
    }
    return sim::Check::Pass();
  }

  std::string pending() const override {
    return std::to_string(ops_remaining_) + " ops unissued, " + std::to_string(active_clients_) +
           " clients active, " + std::to_string(history_.pending()) + " ops never completed, " +
           "store " + (store_ ? "open" : "closed");
  }

 private:
  struct ClientGuard {
    Spine* s;
    explicit ClientGuard(Spine* spine) : s(spine) { ++s->active_clients_; }
    ~ClientGuard() {
      if (--s->active_clients_ == 0 && s->ops_remaining_ == 0) s->clients_finished_->set();
    }
  };

  kv::KvOptions Options() const {
    kv::KvOptions o;
    o.dir = kDir;
    o.wal.segment_bytes = static_cast<uint64_t>(segment_kib_) * 1024;
    o.wal.batch_bytes_max = 16 * 1024;
    o.wal.record_bytes_max = 8 * 1024;  // Room for a header and several records per segment.
    o.key_bytes_max = 64;
    o.value_bytes_max = 4 * 1024;
    o.checkpoint_every_records = 50;
    return o;
  }

  uint64_t step() const { return world_->scheduler().steps(); }

  // Drops the store without closing it (the process died). LevelDB's queued work runs first.
  void DropStore() {
    env_->drain_background_work();
    store_.reset();
    env_->drain_background_work();
  }

  void CloseStoreNow() {
    if (store_ != nullptr && env_ != nullptr) DropStore();
  }

  Task<void> Boot() {
    auto& sched = world_->scheduler();
    for (int attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
      auto opened = co_await kv::KvStore::Open(*fs_, sched, *host_, Options());
      if (opened.ok()) {
        store_ = std::move(*opened);
        restart_requested_ = false;
        break;
      }
      world_->trace().record(simclock::TraceKind::kNote, static_cast<uint64_t>(attempt), 0,
                             "store open failed: " + opened.status().ToString());
      if (opened.status().IsInvalidArgument()) {
        world_->fail("open", "the store rejected its options: " + opened.status().ToString());
        co_return;
      }
      if (opened.status().IsCorruption()) {
        if (!corruption_allowed_) {
          // In-contract faults must never corrupt the log: recovery refused it.
          world_->fail("no-corruption", "recovery reported corruption under in-contract faults: " +
                                            opened.status().ToString());
          co_return;
        }
        // Outside the contract, detection is the right outcome. The workload ends here.
        corruption_detected_ = opened.status().ToString();
        ops_remaining_ = 0;
        if (active_clients_ == 0) clients_finished_->set();
        store_open_->set();
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

  Task<void> Client(uint64_t client) {
    ClientGuard guard(this);
    auto& rnd = world_->random();
    while (ops_remaining_ > 0 && !world_->failed()) {
      const Duration think(rnd.range(0, 1000));
      if (!BUGGIFY) co_await world_->scheduler().sleep_for(think);
      if (ops_remaining_ == 0) break;
      --ops_remaining_;
      const std::string key = KeyOf(static_cast<int64_t>(rnd.uniform(keys_)));
      const uint64_t pick = rnd.uniform(100);
      Status s;
      if (pick < 40) {
        std::string value = "c" + std::to_string(client) + "n" + std::to_string(++seq_) + ":";
        const uint64_t n = rnd.uniform(1500);
        for (uint64_t i = 0; i < n; ++i) value.push_back(static_cast<char>(rnd.uniform(256)));
        s = co_await Write(client, KvOp::Type::kPut, key, value);
      } else if (pick < 50) {
        s = co_await Write(client, KvOp::Type::kDelete, key, "");
      } else if (pick < 85) {
        co_await Read(client, key);
      } else {
        co_await Scan(client);
      }
      if (!s.ok() && !s.IsNoSpace() && !s.IsInvalidArgument() && !s.IsUnknown()) {
        // The log fail-stopped (Unavailable, IOError, ...): restart the process and let recovery
        // decide what survived. NoSpace leaves the log usable; after Unknown the client goes on
        // (a correct log has fail-stopped and says Unavailable next).
        if (!restart_requested_) world_->request_restart(*machine_);
        restart_requested_ = true;
        co_return;
      }
    }
  }

  Task<Status> Write(uint64_t client, KvOp::Type type, std::string key, std::string value) {
    const size_t op = history_.invoke(type, key, value, /*sync=*/true, client, step());
    // NOTE (GCC 12): no co_await inside a conditional expression; it miscompiles.
    Status s;
    if (type == KvOp::Type::kPut) {
      s = co_await store_->put(key, value);
    } else {
      s = co_await store_->del(key);
    }
    // Ok: durable. NoSpace and InvalidArgument: nothing written. Anything else: unknown.
    history_.complete(op, s.ok() ? KvOp::Outcome::kOk : KvOp::Outcome::kError, "", s.ToString(),
                      step());
    co_return s;
  }

  Task<void> Read(uint64_t client, std::string key) {
    const size_t op = history_.invoke(KvOp::Type::kGet, key, "", false, client, step());
    auto r = co_await store_->get(key);
    if (!r.ok()) {
      history_.complete(op, KvOp::Outcome::kError, "", r.status().ToString(), step());
    } else if (r->has_value()) {
      history_.complete(op, KvOp::Outcome::kOk, **r, "", step());
    } else {
      history_.complete(op, KvOp::Outcome::kNotFound, "", "", step());
    }
  }

  // A full scan is a read of every key: the ones it returns, and "not found" for the rest.
  Task<void> Scan(uint64_t client) {
    const uint64_t invoked = step();
    auto r = co_await store_->scan_prefix("k", static_cast<size_t>(keys_) + 1);
    const uint64_t completed = step();
    if (!r.ok()) co_return;
    std::map<std::string, std::string> seen(r->begin(), r->end());
    for (int64_t i = 0; i < keys_; ++i) {
      const std::string key = KeyOf(i);
      const size_t op = history_.invoke(KvOp::Type::kGet, key, "", false, client, invoked);
      auto it = seen.find(key);
      if (it != seen.end()) {
        history_.complete(op, KvOp::Outcome::kOk, it->second, "", completed);
        seen.erase(it);
      } else {
        history_.complete(op, KvOp::Outcome::kNotFound, "", "", completed);
      }
    }
    if (!seen.empty()) {
      world_->fail("durability", "a scan returned a key never written (" +
                                     std::to_string(seen.size()) + " such keys)");
    }
  }

  Task<std::map<std::string, std::string>> FullScan() {
    auto r = co_await store_->scan_prefix("", 1000000);
    if (!r.ok()) {
      world_->fail("durability", "scanning after heal failed: " + r.status().ToString());
      co_return std::map<std::string, std::string>();
    }
    co_return std::map<std::string, std::string>(r->begin(), r->end());
  }

  // After heal: once the clients are done, cut the power (or restart the process), recover and
  // read everything; then recover once more and compare.
  Task<void> Verify() {
    if (!done()) co_await clients_finished_->wait();
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
      if (!corruption_detected_.empty()) {  // No final state to read.
        verified_ = true;
        co_return;
      }
      auto all = co_await FullScan();
      if (round == 0) {
        first_recovery_ = all;
      } else {
        second_recovery_ = all;
      }
    }
    for (int64_t i = 0; i < keys_; ++i) {
      auto it = first_recovery_.find(KeyOf(i));
      final_state_[KeyOf(i)] =
          it == first_recovery_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    for (const auto& [k, v] : first_recovery_) final_state_.emplace(k, v);
    final_step_ = step();
    verified_ = true;
  }

  sim::World* world_ = nullptr;
  sim::Machine* machine_ = nullptr;
  std::unique_ptr<simfs::SimLevelEnv> env_;
  std::unique_ptr<simfs::SimLevelDbHost> host_;
  std::unique_ptr<DeterministicRandom> fs_random_;
  std::unique_ptr<simfs::SimFileSystem> fs_;
  std::unique_ptr<kv::KvStore> store_;
  std::unique_ptr<Event> store_open_;
  std::unique_ptr<Event> clients_finished_;
  int64_t clients_ = 0;
  int64_t ops_remaining_ = 0;
  int64_t keys_ = 0;
  int64_t segment_kib_ = 0;
  int64_t active_clients_ = 0;
  uint64_t seq_ = 0;
  bool restart_requested_ = false;
  properties::KvHistory history_;
  std::map<std::string, std::optional<std::string>> final_state_;
  std::map<std::string, std::string> first_recovery_;
  std::map<std::string, std::string> second_recovery_;
  uint64_t final_step_ = 0;
  bool verified_ = false;
  bool corruption_allowed_ = false;  // The plan has faults outside the contract.
  std::string corruption_detected_;  // Recovery refused a damaged log (outside the contract).
};

}  // namespace

KILN_REGISTER_SCENARIO(Spine);

}  // namespace kiln::scenarios
