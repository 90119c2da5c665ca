// write-skew: on-call doctors. A doctor may go off call only if, as the transaction sees it, at
// least one other doctor stays on call; doctors also come back on call, and read-only audits
// count who is on call. Each decision reads the whole roster with a range scan, and writes only
// the doctor's own row: exactly the shape snapshot isolation gets wrong (write skew).
//
// Properties: the history is strictly serializable; every audit and the final state show at
// least one doctor on call (once the roster exists).
#include <cstdint>
#include <map>
#include <string>

#include "scenarios/txn_scenario.h"

namespace kiln::scenarios {
namespace {

constexpr const char* kPrefix = "doctor/";
constexpr const char* kPrefixEnd = "doctor0";

std::string Doctor(int64_t i) {
  return kPrefix + std::to_string(i);
}

class WriteSkew final : public TxnScenario {
 public:
  static constexpr const char* kName = "write-skew";
  static constexpr const char* kDescription =
      "on-call doctors go off call only if another stays on: at least one is always on call, "
      "the history is strictly serializable";

 protected:
  int64_t setup_workload(sim::World& world) override {
    doctors_ = world.param("doctors", 3, 2, 100);
    return world.param("ops", 200, 0, 1'000'000);
  }

  Task<Status> run_op(uint64_t client) override {
    const int64_t doctor = random().range(0, doctors_ - 1);
    const uint64_t pick = random().uniform(100);
    WriteSkew* self = this;
    if (pick < 15) {  // An audit.
      std::map<std::string, std::string> roster;
      Status s = co_await Transact(client, [self, &roster](RecordedTxn& t) -> Task<Status> {
        co_return co_await self->ReadRoster(t, &roster);
      });
      if (s.ok()) {
        const std::string why = Judge(roster);
        if (!why.empty()) world().fail("on-call", "an audit saw " + why);
      }
      co_return s;
    }
    const bool going_off = pick < 70;
    co_return co_await Transact(client, [self, doctor, going_off](RecordedTxn& t) -> Task<Status> {
      std::map<std::string, std::string> roster;
      if (Status s = co_await self->ReadRoster(t, &roster); !s.ok()) co_return s;
      if (roster.empty()) {  // No roster yet: everyone starts on call.
        for (int64_t i = 0; i < self->doctors_; ++i) {
          if (Status s = t.put(Doctor(i), "on"); !s.ok()) co_return s;
        }
        co_return Status::Ok();
      }
      if (!going_off) co_return t.put(Doctor(doctor), "on");
      int64_t on_call = 0;
      for (const auto& [k, v] : roster) on_call += v == "on" ? 1 : 0;
      if (on_call < 2 || roster[Doctor(doctor)] != "on") co_return Status::Ok();  // Stays.
      co_return t.put(Doctor(doctor), "off");
    });
  }

  sim::Check check_state(const std::map<std::string, std::string>& state) override {
    const std::string why = Judge(state);
    return why.empty() ? sim::Check::Pass() : sim::Check::Fail("on-call", "final state: " + why);
  }

 private:
  Task<Status> ReadRoster(RecordedTxn& t, std::map<std::string, std::string>* roster) {
    Result<kv::KeyValues> rows = co_await t.scan_range(kPrefix, kPrefixEnd, SIZE_MAX);
    if (!rows.ok()) co_return rows.status();
    *roster = std::map<std::string, std::string>(rows->begin(), rows->end());
    co_return Status::Ok();
  }

  // "" if the roster is empty (not created yet) or has someone on call.
  static std::string Judge(const std::map<std::string, std::string>& state) {
    std::map<std::string, std::string> roster(state.lower_bound(kPrefix),
                                              state.lower_bound(kPrefixEnd));
    if (roster.empty()) return "";
    for (const auto& [k, v] : roster) {
      if (v == "on") return "";
    }
    return "no doctor on call (" + std::to_string(roster.size()) + " doctors)";
  }

  int64_t doctors_ = 0;
};

}  // namespace

KILN_REGISTER_SCENARIO(WriteSkew);

}  // namespace kiln::scenarios
