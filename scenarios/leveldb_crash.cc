// leveldb-crash: clients write and read LevelDB through SimLevelEnv on a simulated disk that
// loses power, tears and loses unsynced writes, fills up and fails I/O. LevelDB is the system
// under test here, and its own contract bounds the default fault plan: the journaling directory
// model, no corruption outside the contract. The stress kinds (dir-prefix, dir-any, corrupt,
// misdirect) can be asked for explicitly; a failure there is a finding about LevelDB (see
// docs/fault-model.md).
//
// Property (properties/kv_durability.h): after every crash and reopen, each key holds the value
// of its last write acknowledged with sync=true, or of a write issued after it; every value read
// was written; a read never finds nothing where an acknowledged sync write must be; errors
// surface as errors. Corruption reported under in-contract faults is a violation.
#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/runtime/buggify.h"
#include "engine/runtime/bugs.h"
#include "engine/runtime/event.h"
#include "properties/kv_durability.h"
#include "properties/kv_history.h"
#include "sim/scenario.h"
#include "simfs/sim_level_env.h"

namespace kiln::scenarios {
namespace {

using properties::KvOp;
using sim::FaultKind;

KILN_DEFINE_BUG(no_failstop, "leveldb-crash-no-failstop",
                "leveldb-crash clients shrug off a write error and keep writing, as LevelDB's "
                "API lets them (LevelDB fail-stops itself only on a failed sync)");
KILN_DEFINE_BUG(leaky_state, "leveldb-crash-nondeterministic",
                "leveldb-crash lets state leak from one run to the next (a static counter picks "
                "keys), so the same seed replays differently: check-determinism must say where");
KILN_DEFINE_BUG(ack_unsynced, "leveldb-crash-ack-unsynced",
                "leveldb-crash clients write with sync=false but record the write as synced "
                "(a durability bug the checker must catch)");

constexpr const char* kDbPath = "/db";
constexpr int kOpenAttemptsMax = 100000;

class LevelDbCrash final : public sim::Scenario {
 public:
  static constexpr const char* kName = "leveldb-crash";
  static constexpr const char* kDescription =
      "clients put/delete/get LevelDB on SimLevelEnv under power loss, torn and lost writes, "
      "disk full and I/O errors; acknowledged sync writes survive";
  // Not io-read, io-meta or sticky: with paranoid_checks=false (which surviving a torn tail
  // requires), LevelDB's recovery takes an I/O error reading a log for its end, and ignores one
  // opening a log, then deletes that log: acknowledged writes are lost. These are findings about
  // LevelDB (docs/fault-model.md), reproducible with --faults io-read / io-meta / sticky.
  static std::vector<FaultKind> SwarmKinds() {
    return {FaultKind::kCrash,   FaultKind::kLost,   FaultKind::kTorn,     FaultKind::kFull,
            FaultKind::kIoWrite, FaultKind::kIoSync, FaultKind::kClockJump};
  }

  ~LevelDbCrash() override {
    if (env_ != nullptr) env_->CloseDb(db_);
  }

  void setup(sim::World& world) override {
    world_ = &world;
    machine_ = &world.add_machine("db");
    env_ = std::make_unique<simfs::SimLevelEnv>(machine_->disk(), world.clock(), world.trace());
    db_open_ = std::make_unique<Event>(world.scheduler(), "db-open");
    clients_finished_ = std::make_unique<Event>(world.scheduler(), "clients-finished");
    corruption_allowed_ =
        world.plan().enabled(FaultKind::kCorrupt) || world.plan().enabled(FaultKind::kMisdirect);
    // Knobs (--param NAME=V): the shrinker lowers ops and clients to find a small failing run.
    clients_ = world.param("clients", world.random().range(2, 6), 1, 64);
    ops_remaining_ = world.param("ops", 400, 0, 1000000);
    keys_ = world.param("keys", 12, 1, 100000);
    machine_->on_boot = [this](sim::Machine& m) { world_->spawn_on(m, Boot(), "boot"); };
    machine_->on_halt = [this](sim::Machine&) {
      // Queued background work runs (on power loss it fails: the disk is dead), then the DB
      // object goes; only then does the disk reboot (DESIGN.md section 4).
      db_open_->reset();
      env_->CloseDb(db_);
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
      // Only the reads seen before detection can be checked: no final state.
      auto r = properties::CheckKvReads(history_);
      return r.ok ? sim::Check::Pass() : sim::Check::Fail("durability", r.message);
    }
    auto r = properties::CheckKvDurability(history_, final_state_, final_step_);
    if (!r.ok) return sim::Check::Fail("durability", r.message);
    return sim::Check::Pass();
  }

  std::string pending() const override {
    return std::to_string(ops_remaining_) + " ops unissued, " + std::to_string(active_clients_) +
           " clients active, " + std::to_string(history_.pending()) + " ops never completed, db " +
           (db_ ? "open" : "closed");
  }

 private:
  // Counts a live client; the frame's destruction (end or kill) uncounts it.
  struct ClientGuard {
    LevelDbCrash* s;
    explicit ClientGuard(LevelDbCrash* scenario) : s(scenario) { ++s->active_clients_; }
    ~ClientGuard() {
      if (--s->active_clients_ == 0 && s->ops_remaining_ == 0) s->clients_finished_->set();
    }
  };

  leveldb::Options Options() const {
    leveldb::Options o = env_->options();
    o.create_if_missing = true;
    o.write_buffer_size =
        size_t{64} * 1024;  // Small: memtable flushes and compactions happen often.
    o.paranoid_checks = corruption_allowed_;
    return o;
  }

  uint64_t step() const { return world_->scheduler().steps(); }

  // A violation unless the plan includes faults outside the contract, which must be detected.
  void NoteError(const leveldb::Status& s, const std::string& during) {
    if (s.IsCorruption() && !corruption_allowed_) {
      world_->fail("no-corruption", "LevelDB reported corruption under in-contract faults during " +
                                        during + ": " + s.ToString());
    }
  }

  Task<void> Boot() {
    auto& sched = world_->scheduler();
    for (int attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
      leveldb::DB* raw = nullptr;
      const leveldb::Options options = Options();
      leveldb::Status s = co_await sched.blocking([&] {
        // LevelDB never syncs the parent of its directory: a crash could lose the whole DB.
        // The application makes the directory's name durable before trusting anything in it.
        if (Status d = machine_->disk().create_dir(kDbPath); !d.ok()) {
          return leveldb::Status::IOError(d.ToString());
        }
        if (Status d = machine_->disk().sync_dir("/"); !d.ok()) {
          return leveldb::Status::IOError(d.ToString());
        }
        return leveldb::DB::Open(options, kDbPath, &raw);
      });
      if (s.ok()) {
        db_.reset(raw);
        db_failed_ = false;
        restart_requested_ = false;
        break;
      }
      NoteError(s, "open");
      if (world_->failed()) co_return;
      if (s.IsCorruption()) {
        // Outside the contract, detection is the right outcome: LevelDB refuses the damaged
        // files. Nothing more can be checked of this DB; the history still must hold.
        corruption_detected_ = s.ToString();
        ops_remaining_ = 0;  // The workload ends here.
        if (active_clients_ == 0) clients_finished_->set();
        db_open_->set();
        co_return;
      }
      co_await sched.sleep_for(Duration(world_->random().range(100, 5000)));
    }
    if (db_ == nullptr) co_return;  // The liveness check reports it.
    db_open_->set();
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
      // Think time: clients do not hammer the store back to back, and faults get time to land.
      // Rare but legal: a burst with none.
      const Duration think(rnd.range(0, 1000));
      if (!BUGGIFY) co_await world_->scheduler().sleep_for(think);
      if (ops_remaining_ == 0) break;
      --ops_remaining_;
      uint64_t key_index = rnd.uniform(static_cast<uint64_t>(keys_));
      if (KILN_BUG(leaky_state)) {
        static uint64_t runs_so_far = 0;  // Survives the run: exactly the bug.
        key_index = (key_index + runs_so_far++) % static_cast<uint64_t>(keys_);
      }
      const std::string key = "k" + std::to_string(key_index);
      const uint64_t pick = rnd.uniform(100);
      bool ok = true;
      if (pick < 45) {
        std::string value = "c" + std::to_string(client) + "n" + std::to_string(++seq_) + ".";
        value.append(rnd.uniform(2000), 'v');
        ok = co_await Write(client, KvOp::Type::kPut, key, value, rnd.chance(0.5));
      } else if (pick < 55) {
        ok = co_await Write(client, KvOp::Type::kDelete, key, "", rnd.chance(0.5));
      } else {
        co_await Read(client, key);
      }
      if (!ok && !KILN_BUG(no_failstop)) {
        // After a write error this DB instance takes no more writes (see Write); restart the
        // process, as an operator would, and let recovery sort out what was written.
        if (!restart_requested_) world_->request_restart(*machine_);
        restart_requested_ = true;
        co_return;
      }
    }
  }

  Task<bool> Write(uint64_t client, KvOp::Type type, std::string key, std::string value,
                   bool sync) {
    const size_t op = history_.invoke(type, key, value, sync, client, step());
    leveldb::WriteOptions wo;
    wo.sync = sync && !KILN_BUG(ack_unsynced);
    leveldb::Status s = co_await world_->scheduler().blocking([&] {
      // LevelDB fail-stops itself only when a sync fails. After a failed append its log writer
      // has already advanced past bytes that may not be there, so a later record can be
      // misframed and dropped by recovery, acknowledged or not. The application must stop
      // writing at the first error; this flag is set in the same step as the failing write.
      if (db_failed_ && !KILN_BUG(no_failstop)) {
        return leveldb::Status::IOError("fail-stopped after an earlier write error");
      }
      // Queued background work runs first: no wait inside the write can then be reached.
      env_->drain_background_work();
      leveldb::Status st =
          type == KvOp::Type::kPut ? db_->Put(wo, key, value) : db_->Delete(wo, key);
      if (!st.ok()) db_failed_ = true;
      return st;
    });
    history_.complete(op, s.ok() ? KvOp::Outcome::kOk : KvOp::Outcome::kError, "",
                      s.ok() ? "" : s.ToString(), step());
    if (!s.ok()) NoteError(s, "write");
    co_return s.ok();
  }

  Task<void> Read(uint64_t client, std::string key) {
    const size_t op = history_.invoke(KvOp::Type::kGet, key, "", false, client, step());
    std::string value;
    leveldb::ReadOptions ro;
    ro.verify_checksums = corruption_allowed_;
    leveldb::Status s =
        co_await world_->scheduler().blocking([&] { return db_->Get(ro, key, &value); });
    if (s.ok()) {
      history_.complete(op, KvOp::Outcome::kOk, value, "", step());
    } else if (s.IsNotFound()) {
      history_.complete(op, KvOp::Outcome::kNotFound, "", "", step());
    } else {
      history_.complete(op, KvOp::Outcome::kError, "", s.ToString(), step());
      NoteError(s, "read");
    }
  }

  // After heal: once the clients are done, cut the power once more (or restart the process if
  // the plan has no crashes), reopen, and read every key: the final state the property checks.
  Task<void> Verify() {
    auto& sched = world_->scheduler();
    if (!done()) co_await clients_finished_->wait();
    if (machine_->up()) {
      if (world_->plan().enabled(FaultKind::kCrash)) {
        world_->power_loss(*machine_);
        world_->boot(*machine_);
      } else {
        world_->restart(*machine_);
      }
    }
    co_await db_open_->wait();
    if (!corruption_detected_.empty()) {
      verified_ = true;  // No final state: the check covers the reads made before detection.
      co_return;
    }
    for (int64_t k = 0; k < keys_; ++k) {
      const std::string key = "k" + std::to_string(k);
      std::string value;
      leveldb::Status s = co_await sched.blocking([&] {
        leveldb::ReadOptions ro;
        ro.verify_checksums = true;
        return db_->Get(ro, key, &value);
      });
      if (s.ok()) {
        final_state_[key] = value;
      } else if (s.IsNotFound()) {
        final_state_[key] = std::nullopt;
      } else {
        world_->fail("durability", "reading " + key + " after heal failed: " + s.ToString());
        co_return;
      }
    }
    final_step_ = step();
    verified_ = true;
  }

  sim::World* world_ = nullptr;
  sim::Machine* machine_ = nullptr;
  std::unique_ptr<simfs::SimLevelEnv> env_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<Event> db_open_;
  std::unique_ptr<Event> clients_finished_;
  bool corruption_allowed_ = false;
  std::string corruption_detected_;  // LevelDB refused damaged files (faults outside contract).
  bool db_failed_ = false;           // This DB instance saw a write error: it takes no more.
  bool restart_requested_ = false;
  int64_t clients_ = 0;
  int64_t ops_remaining_ = 0;
  int64_t keys_ = 0;
  int active_clients_ = 0;
  uint64_t seq_ = 0;
  properties::KvHistory history_;
  std::map<std::string, std::optional<std::string>> final_state_;
  uint64_t final_step_ = 0;
  bool verified_ = false;
};

}  // namespace

KILN_REGISTER_SCENARIO(LevelDbCrash);

}  // namespace kiln::scenarios
