#include "sim/world.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace kiln::sim {

using simclock::TraceKind;

Machine::Machine(World& world, std::string name, Random& disk_random)
    : world_(world),
      name_(std::move(name)),
      disk_(disk_random, world.trace(), world.plan().disk_faults()) {}

World::World(const WorldOptions& options)
    : seed_(options.seed),
      plan_(options.plan),
      params_given_(options.params),
      trace_(options.keep_trace_events),
      root_random_(options.seed),
      scheduler_random_(root_random_.fork()),
      fault_random_(root_random_.fork()),
      workload_random_(root_random_.fork()) {
  scheduler_ = std::make_unique<simclock::SimScheduler>(clock_, scheduler_random_, trace_);
  trace_.record(TraceKind::kNote, seed_, 0, "world faults=" + plan_.ToSpec());
}

World::~World() {
  // Tasks first (they reference machines and scenario state), then the machines.
  scheduler_.reset();
  machines_.clear();
}

int64_t World::param(const std::string& name, int64_t default_value, int64_t min, int64_t max) {
  assert(min <= default_value);
  assert(default_value <= max);
  int64_t v = default_value;
  auto it = params_given_.find(name);
  if (it != params_given_.end()) v = std::clamp(it->second, min, max);
  params_read_[name] = v;
  return v;
}

Machine& World::add_machine(const std::string& name) {
  disk_randoms_.push_back(std::make_unique<DeterministicRandom>(root_random_.fork()));
  machines_.push_back(std::make_unique<Machine>(*this, name, *disk_randoms_.back()));
  return *machines_.back();
}

void World::boot(Machine& m) {
  assert(!m.up_);
  assert(!m.disk_.dead());
  m.up_ = true;
  m.process_ = next_process_++;
  ++m.boots_;
  trace_.record(TraceKind::kProcess, m.process_, m.boots_, "boot " + m.name_);
  if (m.on_boot) m.on_boot(m);
}

void World::power_loss(Machine& m) {
  assert(m.up_);
  assert(scheduler_->current_process() != m.process_);
  trace_.record_fault("crash", m.name_);
  m.disk_.crash();
  scheduler_->kill_process(m.process_);
  m.up_ = false;
  m.process_ = simclock::kSimulatorProcess;
  if (m.on_halt) m.on_halt(m);
  m.disk_.reboot();
}

void World::request_restart(Machine& m) {
  scheduler_->spawn_in(simclock::kSimulatorProcess, restart_now(&m), "restart " + m.name_);
}

void World::restart(Machine& m) {
  assert(m.up_);
  assert(scheduler_->current_process() != m.process_);
  trace_.record(TraceKind::kProcess, m.process_, 0, "restart " + m.name_);
  scheduler_->kill_process(m.process_);
  m.up_ = false;
  m.process_ = simclock::kSimulatorProcess;
  if (m.on_halt) m.on_halt(m);
  boot(m);
}

Task<void> World::restart_now(Machine* m) {
  if (m->up_) restart(*m);  // Down already: a crash won the race, and its reboot will follow.
  co_return;
}

void World::spawn_on(Machine& m, Task<void> task, const std::string& name) {
  assert(m.up_);
  scheduler_->spawn_in(m.process_, std::move(task), m.name_ + "/" + name);
}

void World::start_faults() {
  scheduler_->spawn_in(simclock::kSimulatorProcess, fault_driver(), "fault-driver");
}

Machine* World::random_up_machine() {
  std::vector<Machine*> up;
  for (auto& m : machines_) {
    if (m->up_) up.push_back(m.get());
  }
  if (up.empty()) return nullptr;
  return up[fault_random_.uniform(up.size())];
}

Task<void> World::fault_driver() {
  const double crash_rate = plan_.rate(FaultKind::kCrash);
  const double full_rate = plan_.rate(FaultKind::kFull);
  const double jump_rate = plan_.rate(FaultKind::kClockJump);
  const double total_rate = crash_rate + full_rate + jump_rate;  // Events per simulated second.
  if (total_rate <= 0) co_return;
  for (uint64_t round = 0; round < 1000000 && !healing_; ++round) {
    // Exponential inter-arrival times: a Poisson process of fault events.
    const double wait_s = -std::log(1.0 - fault_random_.unit()) / total_rate;
    co_await scheduler_->sleep_for(Duration(static_cast<int64_t>(wait_s * 1e6) + 1));
    if (healing_) break;
    const double pick = fault_random_.unit() * total_rate;
    Machine* m = random_up_machine();
    if (!trace_.admit_fault()) continue;  // Suppressed while shrinking.
    if (pick < crash_rate) {
      if (m == nullptr) continue;
      power_loss(*m);
      const Duration down(fault_random_.range(100, 20000));
      scheduler_->spawn_in(simclock::kSimulatorProcess, reboot_later(m, down), "reboot");
    } else if (pick < crash_rate + full_rate) {
      if (m == nullptr) continue;
      simfs::DiskFaults f = m->disk_.faults();
      f.capacity_bytes = m->disk_.used_bytes() + fault_random_.uniform(uint64_t{64} * 1024);
      m->disk_.set_faults(f);
      trace_.record_fault("full", m->name_ + " capacity=" + std::to_string(f.capacity_bytes));
      const Duration window(fault_random_.range(1000, 30000));
      scheduler_->spawn_in(simclock::kSimulatorProcess, end_full_window(m, window), "full-end");
    } else {
      // Up to ten minutes either way.
      const Duration delta(fault_random_.range(-600000000LL, 600000000LL));
      clock_.jump_wall(delta);
      trace_.record_fault("clock-jump", std::to_string(delta.count()) + "us");
    }
  }
}

Task<void> World::reboot_later(Machine* m, Duration down) {
  co_await scheduler_->sleep_for(down);
  if (!m->up_ && !healing_) boot(*m);
}

Task<void> World::end_full_window(Machine* m, Duration window) {
  co_await scheduler_->sleep_for(window);
  simfs::DiskFaults f = m->disk_.faults();
  f.capacity_bytes = UINT64_MAX;
  m->disk_.set_faults(f);
}

void World::heal() {
  healing_ = true;
  trace_.record(TraceKind::kNote, 0, 0, "heal");
  for (auto& m : machines_) {
    // Operations stop failing; what a crash keeps stays as the plan says, because a scenario's
    // final check may still cut the power once to test durability.
    const simfs::DiskFaults old = m->disk_.faults();
    simfs::DiskFaults f;
    f.crash_loses_unsynced = old.crash_loses_unsynced;
    f.crash_tears_sectors = old.crash_tears_sectors;
    f.dir_crash_mode = old.dir_crash_mode;
    f.sector_bytes = old.sector_bytes;
    m->disk_.set_faults(f);
    m->disk_.clear_sticky_errors();
    if (!m->up_) boot(*m);
  }
}

void World::fail(const std::string& property, const std::string& message) {
  if (failed()) return;  // The first violation is the one to report.
  failure_property_ = property;
  failure_message_ = message;
  trace_.record(TraceKind::kNote, 0, 0, "property failed: " + property + ": " + message);
}

}  // namespace kiln::sim
