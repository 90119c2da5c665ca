// bank: clients move money between accounts in transactions, and audit the total in read-only
// ones, under every fault kind of the spine's plan. The first transaction to find no accounts
// opens them all (`initial` each).
//
// Properties: the history is strictly serializable (properties/serializability.h); every audit
// and the final state see either no accounts or all of them, summing to accounts * initial,
// none negative.
#include <cstdint>
#include <map>
#include <string>

#include "scenarios/txn_scenario.h"

namespace kiln::scenarios {
namespace {

constexpr const char* kPrefix = "acct/";
constexpr const char* kPrefixEnd = "acct0";  // '/' + 1: the end of the prefix's range.

std::string Account(int64_t i) {
  return kPrefix + std::to_string(i);
}

class Bank final : public TxnScenario {
 public:
  static constexpr const char* kName = "bank";
  static constexpr const char* kDescription =
      "transfers between accounts in transactions, audited by read-only ones: the total is "
      "conserved, no account goes negative, the history is strictly serializable";

 protected:
  int64_t setup_workload(sim::World& world) override {
    accounts_ = world.param("accounts", 5, 2, 1000);
    initial_ = world.param("initial", 100, 1, 1'000'000);
    return world.param("ops", 200, 0, 1'000'000);
  }

  Task<Status> run_op(uint64_t client) override {
    if (random().chance(0.2)) co_return co_await Audit(client);
    co_return co_await Transfer(client);
  }

  sim::Check check_state(const std::map<std::string, std::string>& state) override {
    std::string why = Judge(state);
    return why.empty() ? sim::Check::Pass() : sim::Check::Fail("bank", "final state: " + why);
  }

 private:
  // "" if `rows` (the accounts) are none, or all of them with the total and none negative.
  std::string Judge(const std::map<std::string, std::string>& rows) const {
    if (rows.empty()) return "";
    if (static_cast<int64_t>(rows.size()) != accounts_) {
      return std::to_string(rows.size()) + " accounts, not " + std::to_string(accounts_);
    }
    int64_t total = 0;
    for (const auto& [k, v] : rows) {
      const int64_t balance = std::stoll(v);
      if (balance < 0) return k + " is negative (" + v + ")";
      total += balance;
    }
    if (total != accounts_ * initial_) {
      return "the total is " + std::to_string(total) + ", not " +
             std::to_string(accounts_ * initial_);
    }
    return "";
  }

  Task<Status> Audit(uint64_t client) {
    std::map<std::string, std::string> rows;
    Status s = co_await Transact(client, [&rows](RecordedTxn& t) -> Task<Status> {
      Result<kv::KeyValues> all = co_await t.scan_range(kPrefix, kPrefixEnd, SIZE_MAX);
      if (!all.ok()) co_return all.status();
      rows = std::map<std::string, std::string>(all->begin(), all->end());
      co_return Status::Ok();
    });
    if (s.ok()) {
      std::string why = Judge(rows);
      if (!why.empty()) world().fail("bank", "an audit saw: " + why);
    }
    co_return s;
  }

  Task<Status> Transfer(uint64_t client) {
    const int64_t from = random().range(0, accounts_ - 1);
    const int64_t to = (from + random().range(1, accounts_ - 1)) % accounts_;
    const int64_t want = random().range(1, initial_);
    Bank* self = this;
    co_return co_await TransactWithRetries(
        client, [self, from, to, want](RecordedTxn& t) -> Task<Status> {
          Result<std::optional<std::string>> a = co_await t.get(Account(from));
          if (!a.ok()) co_return a.status();
          Result<std::optional<std::string>> b = co_await t.get(Account(to));
          if (!b.ok()) co_return b.status();
          if (!a->has_value() || !b->has_value()) co_return co_await self->Open(t);
          const int64_t balance = std::stoll(**a);
          const int64_t amount = std::min(want, balance);  // Never below zero.
          if (Status s = t.put(Account(from), std::to_string(balance - amount)); !s.ok()) {
            co_return s;
          }
          co_return t.put(Account(to), std::to_string(std::stoll(**b) + amount));
        });
  }

  // No accounts yet (as this transaction sees it): open them all.
  Task<Status> Open(RecordedTxn& t) {
    Result<kv::KeyValues> all = co_await t.scan_range(kPrefix, kPrefixEnd, SIZE_MAX);
    if (!all.ok()) co_return all.status();
    if (!all->empty()) {
      world().fail("bank", "some accounts exist and some do not: " + std::to_string(all->size()) +
                               " of " + std::to_string(accounts_));
      co_return Status::Ok();
    }
    for (int64_t i = 0; i < accounts_; ++i) {
      if (Status s = t.put(Account(i), std::to_string(initial_)); !s.ok()) co_return s;
    }
    co_return Status::Ok();
  }

  int64_t accounts_ = 0;
  int64_t initial_ = 0;
};

}  // namespace

KILN_REGISTER_SCENARIO(Bank);

}  // namespace kiln::scenarios
