// World: one simulated run. It owns the seed's random streams, the virtual clock, the seeded
// scheduler, the trace, and the machines (each a disk and the process booted on it). Faults that
// act on machines (power loss, disk-full windows, clock jumps) are injected here by a fault
// driver; faults inside a disk's operations are the disk's own (simfs::DiskFaults).
//
// Power loss of a machine, in order: the disk latches dead and decides what survives; the
// process's tasks are destroyed; the scenario's `halt` hook releases what wrapped the disk (a
// LevelDB handle); the disk reboots. The machine stays down until `boot` (after a seeded down
// time, or at heal).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/random.h"
#include "engine/runtime/task.h"
#include "sim/fault_plan.h"
#include "simclock/sim_clock.h"
#include "simclock/sim_scheduler.h"
#include "simclock/trace.h"
#include "simfs/sim_disk.h"

namespace kiln::sim {

using simclock::ProcessId;

class World;

class Machine {
 public:
  Machine(World& world, std::string name, Random& disk_random);

  const std::string& name() const { return name_; }
  simfs::SimDisk& disk() { return disk_; }
  bool up() const { return up_; }
  // The process of the current boot; kSimulatorProcess (0) while down.
  ProcessId process() const { return process_; }
  uint64_t boots() const { return boots_; }

  // Scenario hooks. `on_boot` spawns the process's tasks (through World::spawn_on); it runs as
  // the simulator, on a step of its own. `on_halt` runs after the process's tasks are gone and,
  // on power loss, while the disk is dead: release what wraps the disk (close a DB).
  std::function<void(Machine&)> on_boot;
  std::function<void(Machine&)> on_halt;

 private:
  friend class World;
  World& world_;
  std::string name_;
  simfs::SimDisk disk_;
  bool up_ = false;
  ProcessId process_ = simclock::kSimulatorProcess;
  uint64_t boots_ = 0;
};

struct WorldOptions {
  uint64_t seed = 0;
  FaultPlan plan;
  bool keep_trace_events = false;         // Needed to name the first divergence between two runs.
  std::map<std::string, int64_t> params;  // Scenario knobs given on the command line.
};

class World {
 public:
  explicit World(const WorldOptions& options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t seed() const { return seed_; }
  const FaultPlan& plan() const { return plan_; }
  simclock::SimClock& clock() { return clock_; }
  simclock::SimScheduler& scheduler() { return *scheduler_; }
  simclock::Trace& trace() { return trace_; }
  // The workload's own stream (clients' choices). Independent of the scheduler's and disks'.
  Random& random() { return workload_random_; }

  // A scenario knob: the value given with --param NAME=V, else `default_value`. A scenario reads
  // its knobs in setup(); a given name that no scenario reads is a usage error.
  // REQUIRES: min <= default_value <= max. A given value outside [min, max] is clamped.
  int64_t param(const std::string& name, int64_t default_value, int64_t min, int64_t max);
  // The knobs read so far, with their values: printed in the report.
  const std::map<std::string, int64_t>& params_read() const { return params_read_; }
  const std::map<std::string, int64_t>& params_given() const { return params_given_; }

  // A machine with a fresh disk configured by the plan. The world owns it.
  Machine& add_machine(const std::string& name);
  const std::vector<std::unique_ptr<Machine>>& machines() const { return machines_; }

  // Boots a machine that is down: a new process, then its on_boot hook.
  void boot(Machine& machine);
  // Power loss: see the file comment. REQUIRES: machine.up(), called as the simulator or from
  // another machine's process (never from the dying process itself).
  void power_loss(Machine& machine);
  // A process crash without power loss (unsynced writes stay in the page cache), then a boot.
  // REQUIRES: machine.up(), not called from the machine's own process.
  void restart(Machine& machine);
  // restart() on a later step: safe to call from the machine's own process.
  void request_restart(Machine& machine);
  // Spawns `task` into the machine's current process. REQUIRES: machine.up().
  void spawn_on(Machine& machine, Task<void> task, const std::string& name);

  // Starts the fault driver (crash, disk-full windows, clock jumps per the plan).
  void start_faults();
  // Stops every fault, clears the disks' fault options and boots every machine that is down.
  void heal();
  bool healing() const { return healing_; }

  // Records a property violation; the run stops at the end of this step and reports the first.
  void fail(const std::string& property, const std::string& message);
  bool failed() const { return !failure_property_.empty(); }
  const std::string& failure_property() const { return failure_property_; }
  const std::string& failure_message() const { return failure_message_; }

  // Faults injected so far, by kind (from the trace): what the report prints.
  const std::map<std::string, uint64_t>& fault_counts() const { return trace_.fault_counts(); }

 private:
  Task<void> fault_driver();
  Task<void> reboot_later(Machine* machine, Duration down);
  Task<void> end_full_window(Machine* machine, Duration window);
  Task<void> restart_now(Machine* machine);
  Machine* random_up_machine();

  uint64_t seed_;
  FaultPlan plan_;
  std::map<std::string, int64_t> params_given_;
  std::map<std::string, int64_t> params_read_;
  simclock::Trace trace_;
  simclock::SimClock clock_;
  DeterministicRandom root_random_;
  DeterministicRandom scheduler_random_;
  DeterministicRandom fault_random_;
  DeterministicRandom workload_random_;
  std::vector<std::unique_ptr<DeterministicRandom>> disk_randoms_;
  std::unique_ptr<simclock::SimScheduler> scheduler_;
  std::vector<std::unique_ptr<Machine>> machines_;
  ProcessId next_process_ = 1;
  bool healing_ = false;
  std::string failure_property_;
  std::string failure_message_;
};

}  // namespace kiln::sim
