// SimScheduler: the seeded scheduler. One thread; a set of ready coroutines and a min-heap of
// timers on virtual time. Each step the seed picks which ready coroutine runs (not FIFO), so
// interleavings vary by seed. With nothing ready, virtual time jumps to the next timer.
//
// Processes: every top-level task belongs to a process (a small integer; 0 is the simulator's
// own). A task spawned from inside a running task joins that task's process. kill_process()
// destroys every task of a process; their awaiters withdraw their tickets as their frames die.
//
// Hangs become reports: run() stops at a step limit, and reports a stall when tasks are alive
// but nothing is ready and no timer is set (they wait on something that can never happen).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/random.h"
#include "engine/runtime/scheduler.h"
#include "simclock/sim_clock.h"
#include "simclock/trace.h"

namespace kiln::simclock {

using ProcessId = uint32_t;
inline constexpr ProcessId kSimulatorProcess = 0;

struct BlockingLatency {
  Duration min = Duration(5);
  Duration max = Duration(200);
};

class SimScheduler final : public Scheduler {
 public:
  // All three must outlive the scheduler.
  SimScheduler(SimClock& clock, Random& random, Trace& trace, BlockingLatency latency = {});
  ~SimScheduler() override;  // Destroys every task still alive.

  // --- Scheduler ---
  void spawn(Task<void> task, std::string_view name) override;
  Ticket schedule(std::coroutine_handle<> h, Duration delay, const char* what) override;
  Ticket schedule_blocking(std::coroutine_handle<> h, std::function<void()> work) override;
  Ticket park(std::coroutine_handle<> h, const char* what) override;
  void unpark(Ticket ticket) override;
  void cancel(Ticket ticket) override;

  // Spawns `task` into process `process` (rather than the current task's).
  void spawn_in(ProcessId process, Task<void> task, std::string_view name);
  // Destroys every task of `process`. REQUIRES: not called from a task of that process.
  void kill_process(ProcessId process);
  // Destroys every live task, newest first (the end of a run, before what they reference goes).
  void destroy_all_tasks();
  // The process of the task running now (kSimulatorProcess between steps).
  ProcessId current_process() const { return current_process_; }
  size_t live_tasks(ProcessId process) const;
  size_t live_tasks() const { return roots_.size(); }
  // "name (process P)" for every live task, in spawn order.
  std::vector<std::string> live_task_names() const;
  // "what (process P, task T)" for every parked waiter, in park order: what a stall waits on.
  std::vector<std::string> parked_descriptions() const;

  enum class StepResult {
    kRan,      // One coroutine ran.
    kIdle,     // Nothing alive, nothing scheduled.
    kStalled,  // Tasks alive, but nothing ready and no timer: they can never run again.
  };
  // Runs one coroutine (advancing virtual time to the next timer if nothing is ready).
  StepResult step();

  struct RunResult {
    bool stalled = false;     // See StepResult::kStalled.
    bool step_limit = false;  // steps_max reached.
    bool finished = false;    // `until` returned true.
    uint64_t steps = 0;       // Steps run by this call.
  };
  // Steps until `until()` is true (checked before each step), nothing is alive, a stall, or
  // `steps_max` steps. A task that throws fails the run: see failure().
  RunResult run_until(const std::function<bool()>& until, uint64_t steps_max);

  uint64_t steps() const { return steps_; }
  SimClock& clock() { return clock_; }
  Trace& trace() { return trace_; }
  // Non-empty once a task let an exception escape; the run should stop and report it.
  const std::string& failure() const { return failure_; }

 private:
  struct Waiter {
    std::coroutine_handle<> handle;
    std::function<void()> work;  // Blocking work to run before resuming, if any.
    ProcessId process = 0;
    uint64_t root = 0;  // The top-level task that armed it.
    const char* what = "";
    bool parked = false;
  };
  struct Root {
    std::coroutine_handle<> handle;  // The RootTask frame.
    ProcessId process = 0;
    std::string name;
  };
  Ticket arm(std::coroutine_handle<> h, std::function<void()> work, const char* what);
  using TimerEntry = std::pair<int64_t, Ticket>;  // (due time us, ticket): ticket breaks ties.

  void finish_root(uint64_t root_id, const std::exception_ptr& e);
  void reap_finished();
  void resume(Ticket ticket);

  SimClock& clock_;
  Random& random_;
  Trace& trace_;
  BlockingLatency latency_;
  uint64_t steps_ = 0;
  Ticket next_ticket_ = 1;
  uint64_t next_root_id_ = 1;
  ProcessId current_process_ = kSimulatorProcess;
  uint64_t current_root_ = 0;
  std::map<Ticket, Waiter> waiters_;  // Every armed ticket.
  std::vector<Ticket> ready_;         // Armed tickets that may run now.
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  std::map<uint64_t, Root> roots_;  // Live top-level tasks by id (spawn order).
  std::vector<uint64_t> finished_;  // Roots that ended during the current step.
  std::string failure_;
};

}  // namespace kiln::simclock
