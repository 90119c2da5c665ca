// queue: producers enqueue items with unique payloads; workers claim them with a short lease,
// work (sometimes past the lease), then ack, nack or walk away (a worker that died); processes
// crash under the spine's fault plan. Leases are checked against the monotonic clock the
// workers see.
//
// Properties: the history of the queue's transactions (every one it runs, recorded through
// TxnScenario::recorder()) is strictly serializable; no item is handed to two live leases; every
// item enqueued with Ok is, at the end, acked, still in the queue, or a dead letter (none lost);
// no item is acked twice; nothing never enqueued appears; dead letters only after attempts_max
// claims.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/queue/queue.h"
#include "scenarios/txn_scenario.h"

namespace kiln::scenarios {
namespace {

constexpr const char* kQueue = "jobs";
constexpr uint32_t kAttemptsMax = 4;

class QueueScenario final : public TxnScenario {
 public:
  static constexpr const char* kName = "queue";
  static constexpr const char* kDescription =
      "workers claim, ack, nack and crash: no item under two live leases, none lost, none acked "
      "twice, dead letters only after attempts_max claims";

 protected:
  int64_t setup_workload(sim::World& world) override {
    lease_us_ = world.param("lease_us", 30'000, 1'000, 10'000'000);
    return world.param("ops", 200, 0, 1'000'000);
  }

  void on_halt() override {
    queue_.reset();
    opening_ = 0;
    leases_.clear();  // Their holders died with the process (and the new epoch ends them).
    for (const auto& [payload, n] : acks_in_flight_) maybe_acked_.insert(payload);
    acks_in_flight_.clear();
  }

  Task<Status> run_op(uint64_t client) override {
    // One Queue per process (each Open starts a new epoch, which ends older leases): the first
    // client opens it, the others wait for it.
    while (queue_ == nullptr || queue_incarnation_ != incarnation()) {
      if (txns() == nullptr) co_return Status::Unavailable("no store");
      if (opening_ == incarnation()) {
        co_await world().scheduler().sleep_for(Duration(1000));
        continue;
      }
      opening_ = incarnation();
      queue::QueueOptions o;
      o.attempts_max = kAttemptsMax;
      o.nack_backoff_first = Duration(5'000);
      Result<std::unique_ptr<queue::Queue>> q =
          co_await queue::Queue::Open(*txns(), world().clock(), random(), o, recorder());
      if (!q.ok()) {
        opening_ = 0;
        co_return q.status();
      }
      queue_ = std::move(*q);
      queue_incarnation_ = incarnation();
    }
    if (random().chance(0.3)) co_return co_await Produce();
    co_return co_await Work();
  }

  sim::Check check_state(const std::map<std::string, std::string>& state) override {
    if (!violation_.empty()) return sim::Check::Fail("queue", violation_);
    const std::string prefix = queue::Prefix(kQueue);
    std::set<std::string> present;  // Payloads still in the queue.
    std::set<std::string> dead;
    for (const auto& [k, v] : state) {
      const bool item = k.starts_with(prefix + "i/");
      const bool letter = k.starts_with(prefix + "d/");
      if (!item && !letter) continue;
      Result<queue::Item> decoded = queue::DecodeItem(v);
      if (!decoded.ok()) return sim::Check::Fail("queue", "an item does not decode");
      const std::string& p = decoded->payload;
      if (!enqueued_.contains(p) && !maybe_enqueued_.contains(p)) {
        return sim::Check::Fail("queue", "item " + p + " was never enqueued");
      }
      if (letter) {
        if (decoded->attempts <= kAttemptsMax) {
          return sim::Check::Fail("queue", "item " + p + " is a dead letter after " +
                                               std::to_string(decoded->attempts) + " claims");
        }
        dead.insert(p);
      } else {
        present.insert(p);
      }
      if (acked_.contains(p)) {
        return sim::Check::Fail("queue", "item " + p + " was acked and is still there");
      }
    }
    for (const std::string& p : enqueued_) {
      if (!acked_.contains(p) && !maybe_acked_.contains(p) && !present.contains(p) &&
          !dead.contains(p)) {
        return sim::Check::Fail("queue", "item " + p + " was enqueued with Ok and is lost");
      }
    }
    return sim::Check::Pass();
  }

 private:
  struct Lease {
    uint64_t token = 0;
    MonoTime expires;
  };

  Task<Status> Produce() {
    const std::string payload = "p" + std::to_string(++produced_);
    // In doubt until the answer comes (the process may die first).
    maybe_enqueued_.insert(payload);
    Result<std::string> id = co_await queue_->enqueue(kQueue, payload);
    Note("enqueue " + payload + ": " + id.status().ToString());
    if (id.ok()) {
      enqueued_.insert(payload);
      maybe_enqueued_.erase(payload);
    } else if (!id.status().IsUnknown()) {
      maybe_enqueued_.erase(payload);  // Nothing was written.
    }
    co_return id.status();
  }

  Task<Status> Work() {
    Result<std::optional<queue::Claim>> c = co_await queue_->claim(kQueue, Duration(lease_us_));
    if (!c.ok()) co_return c.status();
    if (!c->has_value()) co_return Status::Ok();
    const queue::Claim claim = **c;
    Note("claim " + claim.payload + " attempt " + std::to_string(claim.attempt));
    const MonoTime now = world().clock().monotonic_now();
    auto live = leases_.find(claim.payload);
    if (live != leases_.end() && live->second.expires > now) {
      violation_ = "item " + claim.payload + " was handed to a second live lease (the first has " +
                   std::to_string((live->second.expires - now).count()) + "us left)";
      world().fail("queue", violation_);
    }
    leases_[claim.payload] = Lease{claim.token, claim.expires};
    co_await world().scheduler().sleep_for(Duration(random().range(0, lease_us_ * 4 / 3)));
    const uint64_t pick = random().uniform(100);
    if (pick >= 90) co_return Status::Ok();  // Walks away: the lease runs out.
    // Whatever happens next, this worker lets the lease go (an expired one is not live anyway).
    Status s;
    if (pick < 70) {
      ++acks_in_flight_[claim.payload];  // If the process dies now, the ack is in doubt.
      s = co_await queue_->ack(kQueue, claim.id, claim.token);
      if (--acks_in_flight_[claim.payload] == 0) acks_in_flight_.erase(claim.payload);
      if (s.IsUnknown()) maybe_acked_.insert(claim.payload);
      Note("ack " + claim.payload + ": " + s.ToString());
      if (s.ok()) {
        if (!acked_.insert(claim.payload).second) {
          violation_ = "item " + claim.payload + " was acked twice";
          world().fail("queue", violation_);
        }
      }
    } else {
      s = co_await queue_->nack(kQueue, claim.id, claim.token);
      Note("nack " + claim.payload + ": " + s.ToString());
    }
    auto mine = leases_.find(claim.payload);
    if (mine != leases_.end() && mine->second.token == claim.token) leases_.erase(mine);
    // A rejected token (the lease expired) or a gone item is the worker's news, not a failure.
    if (s.IsInvalidArgument() || s.IsNotFound()) co_return Status::Ok();
    co_return s;
  }

  // A line in the run's log (--log-level info): what happened to which item.
  void Note(const std::string& what) {
    world().trace().record(simclock::TraceKind::kNote, 0, 0, "queue: " + what);
  }

  int64_t lease_us_ = 0;
  std::unique_ptr<queue::Queue> queue_;
  uint64_t queue_incarnation_ = 0;
  uint64_t opening_ = 0;  // The incarnation whose Queue is being opened.
  uint64_t produced_ = 0;
  std::set<std::string> enqueued_;
  std::set<std::string> maybe_enqueued_;
  std::set<std::string> acked_;
  std::set<std::string> maybe_acked_;  // An ack said Unknown, or its process died first.
  std::map<std::string, int> acks_in_flight_;
  std::map<std::string, Lease> leases_;  // The latest lease seen per payload.
  std::string violation_;
};

}  // namespace

KILN_REGISTER_SCENARIO(QueueScenario);

}  // namespace kiln::scenarios
