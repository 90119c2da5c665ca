// counter: 20 or more clients increment one counter, half the time with an atomic add (which
// never conflicts), half with a read-modify-write transaction (read it, write it plus one,
// commit), retried on Conflict.
//
// Properties: the history is strictly serializable; the final value is at least the number of
// acknowledged increments and at most that plus the increments whose outcome is unknown (or that
// never completed).
//
// Known bug (the client's, not the engine's): counter-rmw-split reads in one transaction and
// writes in another, with an await between: concurrent increments overwrite each other.
#include <cstdint>
#include <map>
#include <string>

#include "engine/runtime/bugs.h"
#include "scenarios/txn_scenario.h"

namespace kiln::scenarios {
namespace {

KILN_DEFINE_BUG(rmw_split, "counter-rmw-split",
                "the counter client reads the value in one transaction and writes value + 1 in a "
                "second, with an await between: concurrent increments are lost");

constexpr const char* kKey = "counter";

class Counter final : public TxnScenario {
 public:
  static constexpr const char* kName = "counter";
  static constexpr const char* kDescription =
      "20+ clients increment one counter by atomic adds and read-modify-write transactions: "
      "the final value equals the acknowledged increments, within the unknown ones";

 protected:
  int64_t default_clients(Random& random) override { return random.range(20, 32); }

  int64_t setup_workload(sim::World& world) override {
    return world.param("ops", 300, 0, 1'000'000);
  }

  Task<Status> run_op(uint64_t client) override {
    if (KILN_BUG(rmw_split)) co_return co_await SplitIncrement(client);
    ++in_doubt_;  // Until the outcome is known.
    Status s;
    if (random().chance(0.5)) {
      s = co_await TransactWithRetries(
          client, [](RecordedTxn& t) -> Task<Status> { co_return t.add(kKey, 1); });
    } else {
      s = co_await TransactWithRetries(client, [](RecordedTxn& t) -> Task<Status> {
        Result<std::optional<std::string>> v = co_await t.get(kKey);
        if (!v.ok()) co_return v.status();
        const int64_t n = v->has_value() ? std::stoll(**v) : 0;
        co_return t.put(kKey, std::to_string(n + 1));
      });
    }
    Settle(s);
    co_return s;
  }

  sim::Check check_state(const std::map<std::string, std::string>& state) override {
    auto it = state.find(kKey);
    const int64_t value = it == state.end() ? 0 : std::stoll(it->second);
    if (value < acked_ || value > acked_ + in_doubt_) {
      return sim::Check::Fail("counter", "final value " + std::to_string(value) + ", but " +
                                             std::to_string(acked_) +
                                             " increments were acknowledged and " +
                                             std::to_string(in_doubt_) + " are in doubt");
    }
    return sim::Check::Pass();
  }

 private:
  // An increment's outcome: acknowledged, in doubt (Unknown; or never settled because its
  // client died), or surely not applied.
  void Settle(const Status& s) {
    if (s.IsUnknown()) return;  // Stays in doubt.
    --in_doubt_;
    if (s.ok()) ++acked_;
  }

  Task<Status> SplitIncrement(uint64_t client) {
    int64_t n = 0;
    Status s = co_await Transact(client, [&n](RecordedTxn& t) -> Task<Status> {
      Result<std::optional<std::string>> v = co_await t.get(kKey);
      if (!v.ok()) co_return v.status();
      n = v->has_value() ? std::stoll(**v) : 0;
      co_return Status::Ok();
    });
    if (!s.ok()) co_return s;
    co_await world().scheduler().yield();  // Wrong: others increment meanwhile.
    ++in_doubt_;
    s = co_await Transact(client, [n](RecordedTxn& t) -> Task<Status> {
      co_return t.put(kKey, std::to_string(n + 1));
    });
    Settle(s);
    co_return s;
  }

  int64_t acked_ = 0;
  int64_t in_doubt_ = 0;
};

}  // namespace

KILN_REGISTER_SCENARIO(Counter);

}  // namespace kiln::scenarios
