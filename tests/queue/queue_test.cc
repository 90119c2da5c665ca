// The work queue on the simulated runtime: FIFO claims, leases that expire, tokens that go
// stale, nack backoff, dead letters after attempts_max, epochs across reopen, bad input; and an
// observer that sees every transaction the queue runs, whose history must be serializable.
#include "engine/queue/queue.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/runtime/bugs.h"
#include "engine/runtime/event.h"
#include "properties/serializability.h"
#include "properties/txn_history.h"
#include "tests/txn/txn_test_util.h"

namespace kiln::queue {
namespace {

using txn::testing::TxnRig;

constexpr Duration kLease(50'000);

struct QueueRig : TxnRig {
  explicit QueueRig(QueueOptions o = {}) : options(o) {}
  void OpenQueue() {
    Open();
    rig.Run([](QueueRig& r) -> Task<void> {
      Result<std::unique_ptr<Queue>> q =
          co_await Queue::Open(*r.txns, r.rig.clock, r.rig.sched_random, r.options, r.observer);
      EXPECT_TRUE(q.ok()) << q.status().ToString();
      if (q.ok()) r.queue = std::move(*q);
    }(*this));
    ASSERT_NE(queue, nullptr);
  }
  QueueOptions options;
  txn::TxnObserver* observer = nullptr;
  std::unique_ptr<Queue> queue;
};

Task<std::optional<Claim>> ClaimOne(Queue& q, Duration lease = kLease) {
  Result<std::optional<Claim>> c = co_await q.claim("jobs", lease);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  co_return c.ok() ? *c : std::nullopt;
}

TEST(Queue, ClaimsInEnqueueOrderAndAckRemoves) {
  QueueRig r;
  r.OpenQueue();
  r.rig.Run([](Queue& q) -> Task<void> {
    Result<std::string> a = co_await q.enqueue("jobs", "a");
    Result<std::string> b = co_await q.enqueue("jobs", std::string("b\0b", 3));
    EXPECT_TRUE(a.ok() && b.ok());
    EXPECT_LT(*a, *b);
    std::optional<Claim> first = co_await ClaimOne(q);
    std::optional<Claim> second = co_await ClaimOne(q);
    EXPECT_TRUE(first.has_value() && second.has_value());
    if (!first || !second) co_return;
    EXPECT_EQ(first->payload, "a");
    EXPECT_EQ(second->payload, std::string("b\0b", 3));
    EXPECT_EQ(first->attempt, 1u);
    EXPECT_FALSE((co_await ClaimOne(q)).has_value()) << "both are leased";
    EXPECT_TRUE((co_await q.ack("jobs", first->id, first->token)).ok());
    EXPECT_TRUE((co_await q.ack("jobs", first->id, first->token)).IsNotFound()) << "acked once";
    Result<QueueStats> st = co_await q.stats("jobs");
    EXPECT_TRUE(st.ok());
    EXPECT_EQ(st->ready, 0u);
    EXPECT_EQ(st->leased, 1u);
  }(*r.queue));
}

TEST(Queue, AnExpiredLeaseIsHandedOutAgainAndItsTokenGoesStale) {
  QueueRig r;
  r.OpenQueue();
  r.rig.Run([](Queue& q, kv::testing::Rig& rig) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "x")).ok());
    std::optional<Claim> first = co_await ClaimOne(q);
    EXPECT_TRUE(first.has_value());
    if (!first) co_return;
    co_await rig.scheduler.sleep_for(Duration(kLease.count() + 1000));
    EXPECT_TRUE((co_await q.ack("jobs", first->id, first->token)).IsInvalidArgument())
        << "the lease expired";
    std::optional<Claim> second = co_await ClaimOne(q);
    EXPECT_TRUE(second.has_value());
    if (!second) co_return;
    EXPECT_EQ(second->id, first->id);
    EXPECT_EQ(second->attempt, 2u);
    EXPECT_NE(second->token, first->token);
    EXPECT_TRUE((co_await q.ack("jobs", second->id, first->token)).IsInvalidArgument())
        << "a stale token";
    EXPECT_TRUE((co_await q.ack("jobs", second->id, 12345)).IsInvalidArgument()) << "foreign";
    EXPECT_TRUE((co_await q.ack("jobs", second->id, second->token)).ok());
  }(*r.queue, r.rig));
}

TEST(Queue, NackHidesTheItemForABackoffThatDoubles) {
  QueueOptions o;
  o.nack_backoff_first = Duration(10'000);
  QueueRig r(o);
  r.OpenQueue();
  r.rig.Run([](Queue& q, kv::testing::Rig& rig) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "x")).ok());
    std::optional<Claim> c = co_await ClaimOne(q);
    EXPECT_TRUE(c.has_value());
    if (!c) co_return;
    EXPECT_TRUE((co_await q.nack("jobs", c->id, c->token)).ok());
    EXPECT_FALSE((co_await ClaimOne(q)).has_value()) << "hidden for 10 ms";
    co_await rig.scheduler.sleep_for(Duration(11'000));
    c = co_await ClaimOne(q);
    EXPECT_TRUE(c.has_value());
    if (!c) co_return;
    EXPECT_EQ(c->attempt, 2u);
    EXPECT_TRUE((co_await q.nack("jobs", c->id, c->token)).ok());
    co_await rig.scheduler.sleep_for(Duration(11'000));
    EXPECT_FALSE((co_await ClaimOne(q)).has_value()) << "now hidden for 20 ms";
    co_await rig.scheduler.sleep_for(Duration(10'000));
    EXPECT_TRUE((co_await ClaimOne(q)).has_value());
  }(*r.queue, r.rig));
}

TEST(Queue, DeadLettersOnlyAfterAttemptsMax) {
  QueueOptions o;
  o.attempts_max = 3;
  QueueRig r(o);
  r.OpenQueue();
  r.rig.Run([](Queue& q, kv::testing::Rig& rig) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "poison")).ok());
    for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
      std::optional<Claim> c = co_await ClaimOne(q);
      EXPECT_TRUE(c.has_value()) << attempt;
      if (c) {
        EXPECT_EQ(c->attempt, attempt);
      }
      co_await rig.scheduler.sleep_for(Duration(kLease.count() + 1000));  // The worker died.
    }
    EXPECT_FALSE((co_await ClaimOne(q)).has_value()) << "the fourth claim dead-letters it";
    Result<std::vector<PeekedItem>> dead = co_await q.dead_letters("jobs", 10);
    EXPECT_TRUE(dead.ok());
    EXPECT_EQ(dead->size(), 1u);
    if (!dead->empty()) {
      EXPECT_EQ(dead->front().payload, "poison");
      EXPECT_EQ(dead->front().attempts, 4u);
    }
    Result<QueueStats> st = co_await q.stats("jobs");
    EXPECT_EQ(st->ready + st->leased, 0u);
    EXPECT_EQ(st->dead, 1u);
  }(*r.queue, r.rig));
}

// The expiry a claim reports is the one the queue enforces (the one in its lease index), not
// a later one: a worker told its lease lasts longer than it does may work on while a second
// worker is handed the item (found by the queue scenario, seeds 1167 and 1616).
TEST(Queue, AClaimReportsTheExpiryTheQueueEnforces) {
  QueueRig r;
  r.OpenQueue();
  r.rig.Run([](Queue& q, txn::TxnStore& txns) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "x")).ok());
    std::optional<Claim> c = co_await ClaimOne(q);
    EXPECT_TRUE(c.has_value());
    if (!c) co_return;
    txn::testing::TxnPtr t = co_await txn::testing::Begin(txns);
    Result<kv::KeyValues> leases = co_await t->scan_range("q/jobs/l/", "q/jobs/l0", 10);
    EXPECT_TRUE(leases.ok());
    EXPECT_EQ(leases->size(), 1u);
    if (leases->size() != 1) co_return;
    // q/jobs/l/<epoch BE64><expiry BE64><id>
    const std::string& key = leases->front().first;
    const std::string_view expiry =
        std::string_view(key).substr(std::string("q/jobs/l/").size() + 8);
    EXPECT_EQ(static_cast<int64_t>(FromBigEndian64(expiry)), ToMicros(c->expires));
  }(*r.queue, *r.txns));
}

// Found by queue_model_test: a claim that dead-lettered an expired lease returned nullopt
// although other items were visible (it looked at one expired lease, and at no ready item).
TEST(Queue, ADeadLetterDoesNotEndTheClaim) {
  QueueOptions o;
  o.attempts_max = 2;
  QueueRig r(o);
  r.OpenQueue();
  r.rig.Run([](Queue& q, kv::testing::Rig& rig) -> Task<void> {
    const Duration past_lease(kLease.count() + 1000);
    EXPECT_TRUE((co_await q.enqueue("jobs", "x")).ok());
    EXPECT_TRUE((co_await ClaimOne(q)).has_value());
    co_await rig.scheduler.sleep_for(past_lease);
    std::optional<Claim> x = co_await ClaimOne(q);  // Its second and last claim.
    EXPECT_TRUE(x.has_value() && x->attempt == 2u);
    EXPECT_TRUE((co_await q.enqueue("jobs", "y")).ok());
    EXPECT_TRUE((co_await ClaimOne(q)).has_value());
    co_await rig.scheduler.sleep_for(past_lease);
    // Both leases expired: x's first; it is dead-lettered, and y is handed out.
    std::optional<Claim> y = co_await ClaimOne(q);
    EXPECT_TRUE(y.has_value());
    if (y) {
      EXPECT_EQ(y->payload, "y");
      EXPECT_EQ(y->attempt, 2u);
    }
    EXPECT_TRUE((co_await q.enqueue("jobs", "z")).ok());
    co_await rig.scheduler.sleep_for(past_lease);
    // y's lease expired: it is dead-lettered, and the ready z is handed out.
    std::optional<Claim> z = co_await ClaimOne(q);
    EXPECT_TRUE(z.has_value());
    if (z) {
      EXPECT_EQ(z->payload, "z");
    }
    Result<std::vector<PeekedItem>> dead = co_await q.dead_letters("jobs", 10);
    EXPECT_TRUE(dead.ok());
    EXPECT_EQ(dead->size(), 2u);
  }(*r.queue, r.rig));
}

// Six workers claim two items each of twelve, concurrently; returns claims per payload.
std::map<std::string, int> ClaimConcurrently() {
  QueueRig r;
  r.OpenQueue();
  constexpr int kWorkers = 6;
  constexpr int kItems = 12;
  std::map<std::string, int> claims;
  r.rig.Run([](Queue& q, kv::testing::Rig& rig, std::map<std::string, int>& claims) -> Task<void> {
    for (int i = 0; i < kItems; ++i)
      EXPECT_TRUE((co_await q.enqueue("jobs", std::to_string(i))).ok());
    int done = 0;
    Event all(rig.scheduler, "all");
    for (int w = 0; w < kWorkers; ++w) {
      rig.scheduler.spawn(
          [](Queue& q, std::map<std::string, int>* claims, int* done, Event* all) -> Task<void> {
            for (int i = 0; i < 2; ++i) {
              Result<std::optional<Claim>> c = co_await q.claim("jobs", Duration(10'000'000));
              EXPECT_TRUE(c.ok()) << c.status().ToString();
              if (c.ok() && c->has_value()) ++(*claims)[(*c)->payload];
            }
            if (++*done == kWorkers) all->set();
          }(q, &claims, &done, &all),
          "worker");
    }
    co_await all.wait();
  }(*r.queue, r.rig, claims));
  return claims;
}

TEST(Queue, ConcurrentClaimsNeverShareAnItem) {
  const std::map<std::string, int> claims = ClaimConcurrently();
  EXPECT_EQ(claims.size(), 12u);
  for (const auto& [payload, n] : claims) EXPECT_EQ(n, 1) << payload;
}

TEST(Queue, KnownBugClaimWithoutConflictSharesItems) {
  BugRegistry::Instance().disable_all();
  ASSERT_TRUE(BugRegistry::Instance().enable("queue-claim-without-conflict").ok());
  const std::map<std::string, int> claims = ClaimConcurrently();
  BugRegistry::Instance().disable_all();
  int shared = 0;
  for (const auto& [payload, n] : claims) shared += n > 1 ? 1 : 0;
  EXPECT_GT(shared, 0) << "two workers should have claimed one item";
}

TEST(Queue, LeasesDoNotOutliveTheEpochThatGrantedThem) {
  QueueRig r;
  r.OpenQueue();
  std::optional<Claim> held;
  r.rig.Run([](Queue& q, std::optional<Claim>* held) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "x")).ok());
    *held = co_await ClaimOne(q, Duration(60'000'000));
  }(*r.queue, &held));
  ASSERT_TRUE(held.has_value());
  const uint64_t old_epoch = r.queue->epoch();
  r.rig.Run([](QueueRig& r) -> Task<void> {  // The process restarts: a new Queue, a new epoch.
    Result<std::unique_ptr<Queue>> q =
        co_await Queue::Open(*r.txns, r.rig.clock, r.rig.sched_random, r.options);
    EXPECT_TRUE(q.ok());
    if (q.ok()) r.queue = std::move(*q);
  }(r));
  EXPECT_GT(r.queue->epoch(), old_epoch);
  r.rig.Run([](Queue& q, const Claim& held) -> Task<void> {
    std::optional<Claim> again = co_await ClaimOne(q);
    EXPECT_TRUE(again.has_value()) << "the old epoch's lease counts as expired";
    if (again) {
      EXPECT_EQ(again->id, held.id);
    }
    EXPECT_TRUE((co_await q.ack("jobs", held.id, held.token)).IsInvalidArgument());
  }(*r.queue, *held));
}

TEST(Queue, BadInputIsRefusedAndChangesNothing) {
  QueueRig r;
  r.OpenQueue();
  r.rig.Run([](Queue& q) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("", "x")).status().IsInvalidArgument());
    EXPECT_TRUE((co_await q.enqueue("a/b", "x")).status().IsInvalidArgument());
    EXPECT_TRUE((co_await q.enqueue("jobs", std::string(70000, 'x'))).status().IsInvalidArgument());
    EXPECT_TRUE((co_await q.claim("jobs", Duration(0))).status().IsInvalidArgument());
    EXPECT_TRUE((co_await q.ack("jobs", "short", 1)).IsInvalidArgument());
    Result<QueueStats> st = co_await q.stats("jobs");
    EXPECT_TRUE(st.ok());
    EXPECT_EQ(st->ready + st->leased + st->dead, 0u);
  }(*r.queue));
}

// Records what it is told into a TxnHistory, as the simulator's recorder does; the "steps" are
// its own calls, counted, so the history's real-time order is the order of the calls.
class HistoryObserver final : public txn::TxnObserver {
 public:
  uint64_t invoked() override { return history.begin(0, ++calls) + 1; }
  void began(uint64_t tag, wal::Lsn read_version) override {
    ++calls;
    ++begun;
    EXPECT_GE(read_version, read_version_max) << "one client: versions never go back";
    read_version_max = read_version;
    EXPECT_LE(tag, history.size());
  }
  void read(uint64_t tag, const std::string& key,
            const std::optional<std::string>& value) override {
    history.read(tag - 1, key, value);
  }
  void scanned(uint64_t tag, const std::string& begin, const std::string& end, size_t limit,
               const kv::KeyValues& rows) override {
    history.scan(tag - 1, begin, end, limit, rows);
  }
  void wrote(uint64_t tag, const std::string& key,
             const std::optional<std::string>& value) override {
    if (value.has_value()) {
      history.put(tag - 1, key, *value);
    } else {
      history.del(tag - 1, key);
    }
  }
  void added(uint64_t tag, const std::string& key, int64_t delta) override {
    history.add(tag - 1, key, delta);
  }
  void ended(uint64_t tag, Outcome outcome, wal::Lsn read_version,
             wal::Lsn commit_version) override {
    using properties::TxnRecord;
    ASSERT_EQ(history.txn(tag - 1).outcome, TxnRecord::Outcome::kPending) << "ended twice";
    TxnRecord::Outcome o = TxnRecord::Outcome::kAborted;
    if (outcome == Outcome::kCommitted) o = TxnRecord::Outcome::kCommitted;
    if (outcome == Outcome::kUnknown) o = TxnRecord::Outcome::kUnknown;
    history.complete(tag - 1, o, read_version, commit_version, ++calls);
  }

  properties::TxnHistory history;
  uint64_t calls = 0;
  uint64_t begun = 0;
  wal::Lsn read_version_max = 0;
};

// Whether some transaction of `h` scanned from `begin`.
bool Scanned(const properties::TxnHistory& h, const std::string& begin) {
  for (const properties::TxnRecord& r : h.txns()) {
    for (const properties::TxnStep& st : r.steps) {
      if (st.type == properties::TxnStep::Type::kScan && st.key == begin) return true;
    }
  }
  return false;
}

TEST(Queue, AnObserverSeesEveryTransactionAndTheirHistoryIsSerializable) {
  QueueOptions o;
  o.attempts_max = 1;
  HistoryObserver seen;
  QueueRig r(o);
  r.observer = &seen;
  r.OpenQueue();
  ASSERT_EQ(seen.history.size(), 1u) << "Open's transaction";
  r.rig.Run([](Queue& q, kv::testing::Rig& rig) -> Task<void> {
    EXPECT_TRUE((co_await q.enqueue("jobs", "a")).ok());
    EXPECT_TRUE((co_await q.enqueue("jobs", "b")).ok());
    std::optional<Claim> a = co_await ClaimOne(q);
    std::optional<Claim> b = co_await ClaimOne(q);
    EXPECT_TRUE(a.has_value() && b.has_value());
    if (!a || !b) co_return;
    EXPECT_TRUE((co_await q.ack("jobs", a->id, a->token + 2)).IsInvalidArgument()) << "foreign";
    EXPECT_TRUE((co_await q.ack("jobs", a->id, a->token)).ok());
    EXPECT_TRUE((co_await q.nack("jobs", b->id, b->token)).ok());
    co_await rig.scheduler.sleep_for(Duration(1'000'000));
    EXPECT_FALSE((co_await ClaimOne(q)).has_value()) << "b is dead after one attempt";
    EXPECT_TRUE((co_await q.peek("jobs", 10)).ok());
    EXPECT_TRUE((co_await q.dead_letters("jobs", 10)).ok());
    EXPECT_TRUE((co_await q.stats("jobs")).ok());
  }(*r.queue, r.rig));
  const properties::TxnHistory& h = seen.history;
  EXPECT_EQ(h.pending(), 0u) << "every transaction ended";
  EXPECT_EQ(seen.begun, h.size()) << "no begin failed";
  // Open, 2 enqueues, 3 claims, 2 acks, a nack, peek, dead_letters, stats.
  EXPECT_EQ(h.size(), 12u);
  size_t committed = 0;
  for (const properties::TxnRecord& t : h.txns()) {
    committed += t.outcome == properties::TxnRecord::Outcome::kCommitted ? 1 : 0;
  }
  EXPECT_EQ(committed, h.size() - 1) << "all but the foreign ack";
  EXPECT_TRUE(Scanned(h, "q/jobs/r/")) << "a claim's scan of the ready index is a range read";
  EXPECT_TRUE(Scanned(h, "q/jobs/l/"));
  EXPECT_TRUE(Scanned(h, "q/jobs/d/"));
  const properties::SerializabilityResult ok = properties::CheckSerializable(h);
  EXPECT_TRUE(ok.ok) << ok.message;
}

}  // namespace
}  // namespace kiln::queue
