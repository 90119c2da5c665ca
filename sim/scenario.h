// Scenario: a named workload with the faults it runs under and the properties it checks, in
// FoundationDB's shape. A scenario is one small class in one file under scenarios/:
//
//   class Bank final : public sim::Scenario {
//    public:
//     static constexpr const char* kName = "bank";
//     static constexpr const char* kDescription = "transfers between accounts; total conserved";
//     static std::vector<sim::FaultKind> SwarmKinds() { return {...}; }
//     void setup(sim::World& w) override;   // machines, boot hooks, clients
//     bool done() const override;           // the safety phase's workload is spent
//     bool settled() const override;        // after heal: every pending operation completed
//     sim::Check check(sim::World& w) override;  // the final invariant
//   };
//   KILN_REGISTER_SCENARIO(Bank);
//
// The runner: setup, start faults, run until done() (the safety phase), heal (faults stop,
// machines reboot), heal(), run until settled() within a step bound (the liveness phase), check().
// A violation seen mid-run is reported at once with World::fail().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/result.h"
#include "sim/fault_plan.h"
#include "sim/world.h"

namespace kiln::sim {

struct Check {
  bool ok = true;
  std::string property;  // Which invariant broke ("durability", "liveness", ...).
  std::string message;   // What broke, with the numbers ("key k3: read v9, never written").
  static Check Pass() { return {}; }
  static Check Fail(std::string property, std::string message) {
    return {false, std::move(property), std::move(message)};
  }
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual void setup(World& world) = 0;
  virtual bool done() const = 0;
  // Called after the world healed (faults stopped, machines booted).
  virtual void heal(World& world) {}
  virtual bool settled() const = 0;
  virtual Check check(World& world) = 0;
  // What is still outstanding, for a liveness report ("client 3: put k7 since step 812").
  virtual std::string pending() const { return {}; }
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  std::vector<FaultKind> swarm_kinds;  // What "swarm" may enable: the scenario's contract.
  std::function<std::unique_ptr<Scenario>()> make;
};

class ScenarioRegistry {
 public:
  static ScenarioRegistry& Instance();
  // Aborts on a duplicate name.
  void add(ScenarioInfo info);
  // NotFound listing every valid name if `name` is unknown.
  Result<const ScenarioInfo*> find(std::string_view name) const;
  std::vector<const ScenarioInfo*> list() const;  // In name order.

 private:
  std::vector<ScenarioInfo> scenarios_;
};

struct ScenarioRegistrar {
  explicit ScenarioRegistrar(ScenarioInfo info) {
    ScenarioRegistry::Instance().add(std::move(info));
  }
};

}  // namespace kiln::sim

#define KILN_REGISTER_SCENARIO(Class)                                                   \
  static ::kiln::sim::ScenarioRegistrar kiln_scenario_registrar_##Class(                \
      ::kiln::sim::ScenarioInfo{Class::kName, Class::kDescription, Class::SwarmKinds(), \
                                [] { return std::make_unique<Class>(); }})
