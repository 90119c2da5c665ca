// A model-based test of the queue API (RapidCheck's rc::state): random sequences of enqueue,
// claim (with a lease), ack and nack (with the claim's own token, current or stale, a foreign
// one, or a malformed id), peek, dead_letters, stats, reopen (a new Queue: a new epoch),
// advancing virtual time (leases expire, nack backoffs end) and wall-clock jumps, on two queues
// (and a bad name), run against the real queue on the simulated runtime, one rig run per
// command; every result is compared with what a simple in-memory model predicts exactly:
//
// - Items are numbered in enqueue order (ids increase in that order); each is ready, leased,
//   acked or dead, with its claim count. A claim hands out, of its queue's items: first those
//   whose lease expired (a lease of an older epoch first, then the earliest expiry), then the
//   ready ones in enqueue order that no nack's backoff hides (a backoff of an older epoch hides
//   nothing); each candidate counts a claim, and one claimed more than attempts_max times
//   becomes a dead letter and the search goes on; nullopt if none is left.
// - ack/nack: NotFound if the item is acked or dead; InvalidArgument if the token is not the
//   item's current lease (stale, foreign) or the lease expired (or is of an older epoch). A nack
//   hides the item for nack_backoff_first * 2^(claims-1), at most nack_backoff_max.
// - Time: the model counts in units of kUnit; leases and backoffs are whole units and time
//   advances by whole units. Each operation also takes a little virtual time (I/O latency), so
//   the engine's clock runs ahead of the model's by a drift that only grows; while it stays
//   under one unit, "expired" and "hidden" mean exactly what the model says (every test case
//   asserts that). Wall-clock jumps change nothing: leases run on the monotonic clock.
//
// The test must be able to fail: ModelCatchesLeasesOnTheWallClock runs the same property with
// the known bug queue-lease-wall-clock and expects RapidCheck to find a counterexample.
// (queue-claim-without-conflict needs two claims at once; the model is sequential, so the
// queue scenario and ConcurrentClaimsNeverShareAnItem catch that one.)
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/queue/queue.h"
#include "engine/runtime/bugs.h"
#include "tests/txn/txn_test_util.h"

namespace kiln::queue {
namespace {

using txn::testing::TxnRig;

constexpr int64_t kUnit = 10'000'000;  // 10 s of virtual time: far above any drift.
constexpr uint32_t kAttemptsMax = 2;
constexpr int64_t kBackoffFirst = 1;  // Units; doubles per claim.
constexpr int64_t kBackoffMax = 2;
constexpr size_t kPayloadBytesMax = 8;

QueueOptions Options() {
  QueueOptions o;
  o.attempts_max = kAttemptsMax;
  o.nack_backoff_first = Duration(kBackoffFirst * kUnit);
  o.nack_backoff_max = Duration(kBackoffMax * kUnit);
  o.payload_bytes_max = kPayloadBytesMax;
  return o;
}

// ---- The model ------------------------------------------------------------------------------

struct ModelItem {
  enum class State : uint8_t { kReady, kLeased, kAcked, kDead };
  std::string name;
  std::string payload;
  State state = State::kReady;
  uint32_t attempts = 0;
  size_t lease = 0;  // The claim that holds its lease (leased only).
  uint64_t lease_epoch = 0;
  int64_t lease_expiry = 0;  // Units.
  uint64_t visible_epoch = 0;
  int64_t visible_at = 0;  // A nacked item is hidden until then (in that epoch).
};

struct Model {
  uint64_t epoch = 1;
  int64_t now = 0;  // Units.
  std::vector<ModelItem> items;
  std::vector<size_t> claimed;  // By claim number (claims that handed out an item): the item.

  bool Expired(const ModelItem& item) const {
    return item.lease_epoch != epoch || item.lease_expiry <= now;
  }
};

bool ValidName(const std::string& name) {
  return name == "jobs" || name == "mail";
}

// ---- Outcomes, as text both sides produce ---------------------------------------------------

std::string Describe(const Status& s) {
  return s.ok() ? "Ok" : std::string(CodeName(s.code()));
}

std::string DescribeItem(size_t index, const std::string& payload, uint32_t attempts) {
  return "#" + std::to_string(index) + " \"" + payload + "\" " + std::to_string(attempts);
}

const std::string kInvalid = "InvalidArgument";

// ---- The system under test ------------------------------------------------------------------

struct Sut {
  Sut() {
    t.Open();
    Reopen();
    start = t.rig.clock.monotonic_now();
  }
  void Reopen() {
    queue.reset();  // The old process is gone.
    std::optional<Result<std::unique_ptr<Queue>>> q;
    t.rig.Run([](Sut& s, std::optional<Result<std::unique_ptr<Queue>>>& out) -> Task<void> {
      Result<std::unique_ptr<Queue>> opened =
          co_await Queue::Open(*s.t.txns, s.t.rig.clock, s.t.rig.sched_random, Options());
      out.emplace(std::move(opened));
    }(*this, q));
    RC_ASSERT(q.has_value());
    RC_ASSERT(q->ok());
    queue = std::move(*q).value();
  }
  // How far the engine's clock runs ahead of the model's (see the file comment).
  Duration Drift(const Model& m) const {
    return (t.rig.clock.monotonic_now() - start) - Duration(m.now * kUnit);
  }
  // The model's index of an id the queue returned.
  std::string Index(const std::string& id) const {
    auto it = index_of.find(id);
    return it == index_of.end() ? "?" : std::to_string(it->second);
  }
  std::string DescribeItems(const Result<std::vector<PeekedItem>>& r) const {
    if (!r.ok()) return Describe(r.status());
    std::string out = "Ok [";
    for (size_t i = 0; i < r->size(); ++i) {
      const PeekedItem& p = (*r)[i];
      out += (i == 0 ? "" : ", ") + ("#" + Index(p.id)) + " \"" + p.payload + "\" " +
             std::to_string(p.attempts);
    }
    return out + "]";
  }

  TxnRig t;
  std::unique_ptr<Queue> queue;  // Destroyed before the rig.
  MonoTime start;
  std::vector<std::string> ids;  // By enqueue index.
  std::map<std::string, size_t> index_of;
  std::vector<Claim> claims;  // By claim number.
  std::vector<std::string> claim_names;
};

// Runs `task` to its end in the rig; returns its result.
template <typename T>
T RunToEnd(Sut& sut, Task<T> task) {
  std::optional<T> out;
  sut.t.rig.Run([](Task<T> task, std::optional<T>& out) -> Task<void> {
    T r = co_await std::move(task);
    out.emplace(std::move(r));
  }(std::move(task), out));
  RC_ASSERT(out.has_value());
  return std::move(*out);
}

// ---- Commands -------------------------------------------------------------------------------

using Command = rc::state::Command<Model, Sut>;

rc::Gen<std::string> GenName() {  // Sometimes a name the queue refuses.
  return rc::gen::weightedElement<std::string>({{12, "jobs"}, {6, "mail"}, {1, "bad/name"}});
}

// A command whose outcome the model predicts as text.
struct Predicted : Command {
  void apply(Model& m) const override { (void)Step(m); }
  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    const std::string expected = Step(next);
    const std::string actual = Run(m, sut);
    RC_ASSERT(sut.Drift(m) < Duration(kUnit));  // The model's premise (file comment).
    RC_ASSERT(actual == expected);
  }
  // Updates the model; returns the outcome it predicts.
  virtual std::string Step(Model& m) const = 0;
  // Runs the command on the engine; returns its outcome. `m`: the model before the command.
  virtual std::string Run(const Model& m, Sut& sut) const = 0;
};

struct Enqueue : Predicted {
  std::string name = *GenName();
  std::string payload = *rc::gen::weightedElement<std::string>(
      {{4, "a"}, {4, "bb"}, {2, ""}, {2, std::string("n\0l", 3)}, {1, "123456789"}});
  std::string Step(Model& m) const override {
    if (!ValidName(name) || payload.size() > kPayloadBytesMax) return kInvalid;
    ModelItem item;
    item.name = name;
    item.payload = payload;
    m.items.push_back(std::move(item));
    return "Ok #" + std::to_string(m.items.size() - 1);
  }
  std::string Run(const Model&, Sut& sut) const override {
    Result<std::string> id = RunToEnd(sut, sut.queue->enqueue(name, payload));
    if (!id.ok()) return Describe(id.status());
    RC_ASSERT(id->size() == kIdBytes);
    const bool increasing = sut.ids.empty() || sut.ids.back() < *id;  // In enqueue order.
    RC_ASSERT(increasing);  // (RC_ASSERT takes its expression apart: no || inside.)
    sut.index_of[*id] = sut.ids.size();
    sut.ids.push_back(*id);
    return "Ok #" + std::to_string(sut.ids.size() - 1);
  }
  void show(std::ostream& os) const override {
    os << "enqueue(" << name << ", \"" << payload << "\")";
  }
};

struct ClaimItem : Predicted {
  std::string name = *GenName();
  int64_t lease = *rc::gen::weightedElement<int64_t>({{6, 1}, {3, 2}, {1, 0}});  // Units.
  std::string Step(Model& m) const override {
    if (!ValidName(name) || lease <= 0) return kInvalid;
    // Candidates: expired leases (older epoch first, then earliest expiry, then the earlier
    // claim), then ready items in enqueue order.
    std::vector<size_t> expired;
    std::vector<size_t> ready;
    for (size_t i = 0; i < m.items.size(); ++i) {
      const ModelItem& it = m.items[i];
      if (it.name != name) continue;
      if (it.state == ModelItem::State::kLeased && m.Expired(it)) expired.push_back(i);
      if (it.state == ModelItem::State::kReady) ready.push_back(i);
    }
    std::sort(expired.begin(), expired.end(), [&m](size_t a, size_t b) {
      const ModelItem& x = m.items[a];
      const ModelItem& y = m.items[b];
      return std::tie(x.lease_epoch, x.lease_expiry, x.lease) <
             std::tie(y.lease_epoch, y.lease_expiry, y.lease);
    });
    std::vector<size_t> candidates = expired;
    candidates.insert(candidates.end(), ready.begin(), ready.end());
    for (size_t i : candidates) {
      ModelItem& it = m.items[i];
      const bool hidden = it.state == ModelItem::State::kReady && it.visible_epoch == m.epoch &&
                          it.visible_at > m.now;
      if (hidden) continue;
      if (++it.attempts > kAttemptsMax) {
        it.state = ModelItem::State::kDead;
        continue;
      }
      it.state = ModelItem::State::kLeased;
      it.lease = m.claimed.size();
      m.claimed.push_back(i);
      it.lease_epoch = m.epoch;
      it.lease_expiry = m.now + lease;
      return "Ok " + DescribeItem(i, it.payload, it.attempts) + " claim " +
             std::to_string(it.lease);
    }
    return "Ok none";
  }
  std::string Run(const Model&, Sut& sut) const override {
    Result<std::optional<Claim>> c = RunToEnd(sut, sut.queue->claim(name, Duration(lease * kUnit)));
    if (!c.ok()) return Describe(c.status());
    if (!c->has_value()) return "Ok none";
    const Claim& got = **c;
    RC_ASSERT(got.token % 2 == 1);
    sut.claims.push_back(got);
    sut.claim_names.push_back(name);
    return "Ok #" + sut.Index(got.id) + " \"" + got.payload + "\" " + std::to_string(got.attempt) +
           " claim " + std::to_string(sut.claims.size() - 1);
  }
  void show(std::ostream& os) const override {
    os << "claim(" << name << ", lease " << lease << ")";
  }
};

// ack or nack of what claim number `claim` handed out.
struct Settle : Predicted {
  enum class Token : uint8_t { kOwn, kForeign, kBadId, kOtherQueue };
  size_t claim = 0;
  Token token = *rc::gen::weightedElement<Token>(
      {{12, Token::kOwn}, {3, Token::kForeign}, {1, Token::kBadId}, {1, Token::kOtherQueue}});
  explicit Settle(const Model& m) {
    RC_PRE(!m.claimed.empty());
    // Mostly the latest claim (likelier current), sometimes any (likelier stale).
    const size_t last = m.claimed.size() - 1;
    claim = *rc::gen::weightedOneOf<size_t>(
        {{3, rc::gen::just(last)}, {2, rc::gen::inRange<size_t>(0, last + 1)}});
  }
  void checkPreconditions(const Model& m) const override { RC_PRE(claim < m.claimed.size()); }
  virtual bool ack() const = 0;
  std::string Step(Model& m) const override {
    if (token == Token::kBadId) return kInvalid;
    ModelItem& it = m.items[m.claimed[claim]];
    if (token == Token::kOtherQueue) return "NotFound";  // No such item in that queue.
    if (it.state == ModelItem::State::kAcked || it.state == ModelItem::State::kDead) {
      return "NotFound";
    }
    const bool current = it.state == ModelItem::State::kLeased && it.lease == claim;
    if (token == Token::kForeign || !current) return kInvalid;  // Foreign or stale.
    if (m.Expired(it)) return kInvalid;
    if (ack()) {
      it.state = ModelItem::State::kAcked;
      return "Ok";
    }
    int64_t backoff = kBackoffFirst;
    for (uint32_t i = 1; i < it.attempts && backoff < kBackoffMax; ++i) backoff *= 2;
    it.state = ModelItem::State::kReady;
    it.visible_epoch = m.epoch;
    it.visible_at = m.now + std::min(backoff, kBackoffMax);
    return "Ok";
  }
  std::string Run(const Model&, Sut& sut) const override {
    RC_ASSERT(claim < sut.claims.size());
    const Claim& c = sut.claims[claim];
    std::string name = sut.claim_names[claim];
    if (token == Token::kOtherQueue) name = name == "jobs" ? "mail" : "jobs";
    const std::string id = token == Token::kBadId ? std::string("short") : c.id;
    uint64_t t = c.token;
    if (token == Token::kForeign) {
      t ^= 2;  // Still odd, as every token is; never handed out (checked).
      for (const Claim& other : sut.claims) RC_ASSERT(other.token != t);
    }
    const Status s = ack() ? RunToEnd(sut, sut.queue->ack(name, id, t))
                           : RunToEnd(sut, sut.queue->nack(name, id, t));
    return Describe(s);
  }
  void show(std::ostream& os) const override {
    static const char* const kTokens[] = {"its token", "a foreign token", "a bad id",
                                          "the other queue"};
    os << (ack() ? "ack" : "nack") << "(claim " << claim << ", " << kTokens[static_cast<int>(token)]
       << ")";
  }
};

struct Ack : Settle {
  using Settle::Settle;
  bool ack() const override { return true; }
};

struct Nack : Settle {
  using Settle::Settle;
  bool ack() const override { return false; }
};

// Virtual time passes: leases expire, backoffs end.
struct Advance : Command {
  int64_t units = *rc::gen::element<int64_t>(1, 2);
  void apply(Model& m) const override { m.now += units; }
  void run(const Model& m, Sut& sut) const override {
    sut.t.rig.Run([](kv::testing::Rig& rig, int64_t units) -> Task<void> {
      co_await rig.scheduler.sleep_for(Duration(units * kUnit));
    }(sut.t.rig, units));
    Model next = m;
    apply(next);
    RC_ASSERT(sut.Drift(next) >= Duration(0));
    RC_ASSERT(sut.Drift(next) < Duration(kUnit));
  }
  void show(std::ostream& os) const override { os << "advance(" << units << ")"; }
};

// The wall clock jumps (as NTP may make it): nothing about leases changes.
struct JumpWall : Command {
  int64_t units = *rc::gen::element<int64_t>(-3, -1, 1, 3);
  void run(const Model&, Sut& sut) const override {
    sut.t.rig.clock.jump_wall(Duration(units * kUnit));
  }
  void show(std::ostream& os) const override { os << "jump_wall(" << units << ")"; }
};

// The process restarts: a new Queue, a new epoch; every lease of the old one has expired.
struct Reopen : Command {
  void apply(Model& m) const override { ++m.epoch; }
  void run(const Model&, Sut& sut) const override { sut.Reopen(); }
  void show(std::ostream& os) const override { os << "reopen()"; }
};

// Lists ready (peek) or dead items, in enqueue order, at most `limit`.
struct List : Predicted {
  std::string name = *GenName();
  size_t limit = *rc::gen::inRange<size_t>(0, 5);
  virtual ModelItem::State state() const = 0;
  std::string Step(Model& m) const override {
    if (!ValidName(name)) return kInvalid;
    std::string out = "Ok [";
    size_t n = 0;
    for (size_t i = 0; i < m.items.size() && n < limit; ++i) {
      const ModelItem& it = m.items[i];
      if (it.name != name || it.state != state()) continue;
      out += (n++ == 0 ? "" : ", ") + DescribeItem(i, it.payload, it.attempts);
    }
    return out + "]";
  }
};

struct Peek : List {
  ModelItem::State state() const override { return ModelItem::State::kReady; }
  std::string Run(const Model&, Sut& sut) const override {
    return sut.DescribeItems(RunToEnd(sut, sut.queue->peek(name, limit)));
  }
  void show(std::ostream& os) const override { os << "peek(" << name << ", " << limit << ")"; }
};

struct DeadLetters : List {
  ModelItem::State state() const override { return ModelItem::State::kDead; }
  std::string Run(const Model&, Sut& sut) const override {
    return sut.DescribeItems(RunToEnd(sut, sut.queue->dead_letters(name, limit)));
  }
  void show(std::ostream& os) const override {
    os << "dead_letters(" << name << ", " << limit << ")";
  }
};

struct Stats : Predicted {
  std::string name = *GenName();
  std::string Step(Model& m) const override {
    if (!ValidName(name)) return kInvalid;
    uint64_t counts[4] = {0, 0, 0, 0};  // By state.
    for (const ModelItem& it : m.items) {
      if (it.name == name) ++counts[static_cast<int>(it.state)];
    }
    return "Ok ready=" + std::to_string(counts[0]) + " leased=" + std::to_string(counts[1]) +
           " dead=" + std::to_string(counts[3]);
  }
  std::string Run(const Model&, Sut& sut) const override {
    Result<QueueStats> st = RunToEnd(sut, sut.queue->stats(name));
    if (!st.ok()) return Describe(st.status());
    return "Ok ready=" + std::to_string(st->ready) + " leased=" + std::to_string(st->leased) +
           " dead=" + std::to_string(st->dead);
  }
  void show(std::ostream& os) const override { os << "stats(" << name << ")"; }
};

// The property: a random command sequence on a fresh store and queue agrees with the model.
void CheckAgainstModel() {
  const auto commands = *rc::gen::scale(
      3.0, rc::state::gen::commands(
               Model{},
               rc::state::gen::execOneOfWithArgs<Enqueue, Enqueue, Enqueue, ClaimItem, ClaimItem,
                                                 ClaimItem, Ack, Ack, Nack, Advance, Advance,
                                                 JumpWall, Reopen, Peek, DeadLetters, Stats>()));
  Sut sut;
  rc::state::runAll(commands, Model{}, sut);
}

RC_GTEST_PROP(QueueModel, TheQueueAgreesWithTheModel, ()) {
  CheckAgainstModel();
}

// ---- The model can fail ---------------------------------------------------------------------

// Enables a known bug for one scope.
class EnableBug {
 public:
  explicit EnableBug(const char* name) { ok_ = BugRegistry::Instance().enable(name).ok(); }
  ~EnableBug() { BugRegistry::Instance().disable_all(); }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

// Runs the property with `bug` enabled, under fixed parameters (independent of RC_PARAMS, so it
// is deterministic run by hand too), and expects a counterexample; returns it, shrunk, with the
// disagreement ("Expands to: <engine> == <model>").
std::string ExpectCounterexample(const char* bug) {
  EnableBug enabled(bug);
  EXPECT_TRUE(enabled.ok()) << bug;
  rc::detail::TestParams params;
  params.seed = 20261122;
  params.maxSuccess = 200;
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("QueueModel/") + bug;
  rc::detail::TestListenerAdapter quiet;  // Keeps it out of RapidCheck's end-of-run report.
  const rc::detail::TestResult result =
      rc::detail::checkTestable(&CheckAgainstModel, metadata, params, quiet);
  std::ostringstream shown;
  rc::detail::printResultMessage(result, shown);
  EXPECT_TRUE(result.is<rc::detail::FailureResult>()) << shown.str();
  return shown.str();
}

TEST(QueueModel, ModelCatchesLeasesOnTheWallClock) {
#if defined(KILN_SIMULATION_HOOKS) && KILN_SIMULATION_HOOKS
  // Leases measured on the wall clock: a jump expires a live lease, or keeps an expired one.
  const std::string shown = ExpectCounterexample("queue-lease-wall-clock");
  EXPECT_NE(shown.find("jump_wall"), std::string::npos) << shown;
#else
  GTEST_SKIP() << "known bugs are compiled out";
#endif
}

}  // namespace
}  // namespace kiln::queue
