// TxnScenario: what the transactional scenarios (bank, counter, write-skew) share. One machine
// runs the KV store and a TxnStore over it; clients run transactions through RecordedTxn, which
// records every step, outcome and version in a TxnHistory; after heal the machine loses power
// (or restarts), recovers, and a final read-only transaction reads the whole state. The check is
// the serializability checker over the history, then the scenario's own invariant over the
// final state.
//
// Transactions that engine code runs on the clients' behalf (the queue's) are recorded too:
// handed recorder(), the engine tells it each of their steps (txn::TxnObserver).
//
// A derived scenario supplies: its knobs (setup_workload), one client's operation (run_op), and
// its invariant (check_state). Clients go on after Conflict, TooOld and NoSpace; after Unknown
// or any other failure they stop and ask for a restart (the store fail-stops on those).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/runtime/event.h"
#include "engine/txn/txn_store.h"
#include "properties/txn_history.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "simfs/sim_file_system.h"
#include "simfs/sim_level_env.h"
#include "simfs/sim_leveldb_host.h"

namespace kiln::scenarios {

class TxnScenario;

// One transaction, recorded. Every read and write goes through here.
class RecordedTxn {
 public:
  RecordedTxn(TxnScenario& scenario, txn::Transaction& txn, size_t index)
      : s_(scenario), txn_(txn), index_(index) {}
  Task<Result<std::optional<std::string>>> get(std::string key);
  Task<Result<kv::KeyValues>> scan_range(std::string begin, std::string end, size_t limit);
  Status put(std::string key, std::string value);
  Status del(std::string key);
  Status add(std::string key, int64_t delta);
  txn::Transaction& raw() { return txn_; }

 private:
  TxnScenario& s_;
  txn::Transaction& txn_;
  size_t index_;
};

class TxnScenario : public sim::Scenario {
 public:
  TxnScenario();
  ~TxnScenario() override;

  void setup(sim::World& world) final;
  bool done() const final { return ops_remaining_ == 0 && active_clients_ == 0; }
  void heal(sim::World& world) final;
  bool settled() const final { return verified_; }
  sim::Check check(sim::World& world) final;
  std::string pending() const final;

  // The faults every transactional scenario runs under (the spine's contract).
  static std::vector<sim::FaultKind> SwarmKinds();

 protected:
  // Reads the scenario's knobs (world.param) and returns how many operations to run in all.
  virtual int64_t setup_workload(sim::World& world) = 0;
  // The number of clients when --param clients is not given.
  virtual int64_t default_clients(Random& random) { return random.range(2, 8); }
  // One operation of client `client`. Returns the status of the transaction it ran (Ok,
  // Conflict, ...): the client loop decides what to do about it.
  virtual Task<Status> run_op(uint64_t client) = 0;
  // The scenario's invariant over the final state (every key and value after recovery).
  virtual sim::Check check_state(const std::map<std::string, std::string>& state) = 0;

  // Runs `body` in a recorded transaction and commits it (no retries: the caller decides).
  // `body` returns Ok to commit, anything else to abort.
  Task<Status> Transact(uint64_t client, std::function<Task<Status>(RecordedTxn&)> body);
  // Transact, retried with jittered exponential backoff while it says Conflict (each attempt is
  // its own transaction in the history), as txn::RunTransaction does.
  Task<Status> TransactWithRetries(uint64_t client, std::function<Task<Status>(RecordedTxn&)> body);

  // Records the transactions begun with it (TxnStore::begin, RunTransaction, queue::Queue::Open)
  // in the history, as client kEngineClient. It lives as long as the scenario.
  txn::TxnObserver* recorder();
  static constexpr uint64_t kEngineClient = 1'000'001;

  // False if the scenario's clients also write through transactions the history does not
  // record (begun without recorder()): then the final reads cannot be checked against it
  // either. Every scenario records all of its transactions now.
  virtual bool history_complete() const { return true; }
  // Called when the process dies (before the store is dropped): drop what refers to it.
  virtual void on_halt() {}
  // The transaction store of the running process (nullptr while it is down), and how many times
  // the store has been opened (a new value: a new process).
  txn::TxnStore* txns() { return txns_.get(); }
  uint64_t incarnation() const { return incarnations_.size(); }

  sim::World& world() { return *world_; }
  Random& random() { return world_->random(); }
  int64_t clients() const { return clients_; }

 private:
  friend class RecordedTxn;
  struct ClientGuard;
  class Recorder;

  kv::KvOptions Options() const;
  uint64_t step() const;
  void DropStore();
  Task<void> Boot();
  Task<void> Client(uint64_t client);
  Task<void> Verify();

  sim::World* world_ = nullptr;
  sim::Machine* machine_ = nullptr;
  std::unique_ptr<simfs::SimLevelEnv> env_;
  std::unique_ptr<simfs::SimLevelDbHost> host_;
  std::unique_ptr<DeterministicRandom> fs_random_;
  std::unique_ptr<simfs::SimFileSystem> fs_;
  std::unique_ptr<kv::KvStore> store_;
  std::unique_ptr<txn::TxnStore> txns_;
  std::unique_ptr<Event> store_open_;
  std::unique_ptr<Event> clients_finished_;
  int64_t clients_ = 0;
  int64_t ops_remaining_ = 0;
  int64_t active_clients_ = 0;
  bool restart_requested_ = false;
  properties::TxnHistory history_;
  std::unique_ptr<Recorder> recorder_;
  // Transactions begun whose commit() was not called yet. If the process dies, they can never
  // commit: on_halt completes them as aborted (a pending one would be "may have committed").
  std::set<size_t> before_commit_;
  // Resolving commits in doubt (Unknown, or never completed because the process died). The
  // log gives LSNs in submission order (KvStore::write_lsn), and nothing after a failure that
  // fail-stops it, so each in-doubt commit of an incarnation of the store would have taken the
  // next LSN after the commits before it; it is durable iff that LSN is at most the durable LSN
  // the next incarnation recovered. check() hands the checker the history with them resolved
  // (and fails if an acknowledged commit's LSN breaks the order this relies on).
  struct Incarnation {
    wal::Lsn opened_at = 0;           // The durable LSN when the store opened.
    wal::Lsn recovered = UINT64_MAX;  // The next incarnation's durable LSN at open.
    uint64_t recovered_step = 0;      // When that recovery made them visible, at the latest.
    std::vector<size_t> submitted;    // Commits, in the order they were sequenced (LSN order).
  };
  std::vector<Incarnation> incarnations_;
  // Of writing commits, known once they began (of every recorder() transaction: at begin).
  std::map<size_t, wal::Lsn> read_versions_;
  // The history with every in-doubt commit resolved, or an error.
  Result<properties::TxnHistory> Resolved() const;
  std::map<std::string, std::string> final_state_;
  bool verified_ = false;
};

}  // namespace kiln::scenarios
