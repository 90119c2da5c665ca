#include "simclock/sim_scheduler.h"

#include <cassert>
#include <utility>

namespace kiln::simclock {

SimScheduler::SimScheduler(SimClock& clock, Random& random, Trace& trace, BlockingLatency latency)
    : clock_(clock), random_(random), trace_(trace), latency_(latency) {
  assert(latency_.min >= Duration::zero());
  assert(latency_.max >= latency_.min);
}

SimScheduler::~SimScheduler() {
  destroy_all_tasks();
}

void SimScheduler::destroy_all_tasks() {
  // Reverse spawn order; each frame's awaiters cancel into waiters_ as they die.
  while (!roots_.empty()) {
    auto it = std::prev(roots_.end());
    auto handle = it->second.handle;
    roots_.erase(it);
    handle.destroy();
  }
  waiters_.clear();
  ready_.clear();
  while (!timers_.empty()) timers_.pop();
}

void SimScheduler::spawn(Task<void> task, std::string_view name) {
  spawn_in(current_process_, std::move(task), name);
}

void SimScheduler::spawn_in(ProcessId process, Task<void> task, std::string_view name) {
  assert(task.valid());
  const uint64_t id = next_root_id_++;
  detail::RootTask root = detail::MakeRootTask(std::move(task));
  auto handle = root.release();
  handle.promise().on_done = [this, id](std::exception_ptr e) { finish_root(id, std::move(e)); };
  roots_.emplace(id, Root{handle, process, std::string(name)});
  trace_.record(TraceKind::kSpawn, id, process, name);
  // The task starts on a later step, as if woken: it joins the ready set like any waiter.
  const Ticket t = next_ticket_++;
  waiters_.emplace(t, Waiter{handle, nullptr, process, id, "start"});
  ready_.push_back(t);
}

Scheduler::Ticket SimScheduler::arm(std::coroutine_handle<> h, std::function<void()> work,
                                    const char* what) {
  assert(h);
  // The waiter belongs to the task suspending now: that is the task the handle resumes.
  const Ticket t = next_ticket_++;
  waiters_.emplace(t, Waiter{h, std::move(work), current_process_, current_root_, what, false});
  return t;
}

Scheduler::Ticket SimScheduler::schedule(std::coroutine_handle<> h, Duration delay,
                                         const char* what) {
  assert(delay >= Duration::zero());
  const Ticket t = arm(h, nullptr, what);
  if (delay <= Duration::zero()) {
    ready_.push_back(t);
  } else {
    timers_.emplace(ToMicros(clock_.monotonic_now()) + delay.count(), t);
  }
  return t;
}

Scheduler::Ticket SimScheduler::schedule_blocking(std::coroutine_handle<> h,
                                                  std::function<void()> work) {
  const Ticket t = arm(h, std::move(work), "blocking");
  const int64_t latency_us = random_.range(latency_.min.count(), latency_.max.count());
  timers_.emplace(ToMicros(clock_.monotonic_now()) + latency_us, t);
  return t;
}

Scheduler::Ticket SimScheduler::park(std::coroutine_handle<> h, const char* what) {
  const Ticket t = arm(h, nullptr, what);
  waiters_.at(t).parked = true;
  return t;
}

void SimScheduler::unpark(Ticket ticket) {
  auto it = waiters_.find(ticket);
  if (it == waiters_.end() || !it->second.parked) return;
  it->second.parked = false;
  ready_.push_back(ticket);
}

std::vector<std::string> SimScheduler::parked_descriptions() const {
  std::vector<std::string> out;
  for (const auto& [t, w] : waiters_) {
    if (!w.parked) continue;
    auto root = roots_.find(w.root);
    out.push_back(std::string(w.what) + " (process " + std::to_string(w.process) + ", task " +
                  (root == roots_.end() ? std::string("?") : root->second.name) + ")");
  }
  return out;
}

void SimScheduler::cancel(Ticket ticket) {
  // Timer entries of cancelled tickets are skipped when they come due; ready_ is kept exact.
  if (waiters_.erase(ticket) == 0) return;
  for (size_t i = 0; i < ready_.size(); ++i) {
    if (ready_[i] == ticket) {
      ready_[i] = ready_.back();
      ready_.pop_back();
      break;
    }
  }
}

void SimScheduler::kill_process(ProcessId process) {
  assert(process != current_process_ || current_root_ == 0);
  std::vector<uint64_t> doomed;
  for (const auto& [id, root] : roots_) {
    if (root.process == process) doomed.push_back(id);
  }
  // Newest first: a later task may hold awaiters on state an earlier one owns.
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
    auto node = roots_.extract(*it);
    trace_.record(TraceKind::kTaskEnd, *it, process, "killed " + node.mapped().name);
    node.mapped().handle.destroy();
  }
  // Anything of the process that is still armed (work scheduled outside a frame) goes too.
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->second.process == process) {
      const Ticket t = it->first;
      ++it;
      cancel(t);
    } else {
      ++it;
    }
  }
}

size_t SimScheduler::live_tasks(ProcessId process) const {
  size_t n = 0;
  for (const auto& [id, root] : roots_) n += root.process == process ? 1 : 0;
  return n;
}

std::vector<std::string> SimScheduler::live_task_names() const {
  std::vector<std::string> out;
  for (const auto& [id, root] : roots_) {
    out.push_back(root.name + " (process " + std::to_string(root.process) + ")");
  }
  return out;
}

void SimScheduler::finish_root(uint64_t root_id, const std::exception_ptr& e) {
  finished_.push_back(root_id);
  if (e && failure_.empty()) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    auto it = roots_.find(root_id);
    failure_ =
        "task '" + (it == roots_.end() ? std::string("?") : it->second.name) + "' threw: " + what;
  }
}

void SimScheduler::reap_finished() {
  for (uint64_t id : finished_) {
    auto node = roots_.extract(id);
    if (node.empty()) continue;
    trace_.record(TraceKind::kTaskEnd, id, node.mapped().process, node.mapped().name);
    node.mapped().handle.destroy();
  }
  finished_.clear();
}

void SimScheduler::resume(Ticket ticket) {
  auto node = waiters_.extract(ticket);
  assert(!node.empty());
  Waiter w = std::move(node.mapped());
  current_process_ = w.process;
  current_root_ = w.root;
  trace_.set_position(steps_, ToMicros(clock_.monotonic_now()));
  trace_.record(TraceKind::kStep, ticket, w.root, w.what);
  if (w.work) w.work();
  w.handle.resume();
  current_process_ = kSimulatorProcess;
  current_root_ = 0;
  reap_finished();
}

SimScheduler::StepResult SimScheduler::step() {
  // Timers that are due (time may have moved synchronously, e.g. a simulated sleep inside a
  // blocking call) join the ready set; with nothing ready, time jumps to the next timer.
  while (!timers_.empty() && waiters_.count(timers_.top().second) == 0) timers_.pop();
  if (ready_.empty()) {
    if (timers_.empty()) return roots_.empty() ? StepResult::kIdle : StepResult::kStalled;
    const int64_t due_us = timers_.top().first;
    if (due_us > ToMicros(clock_.monotonic_now())) clock_.advance_to(MonoTime(Duration(due_us)));
  }
  const int64_t now_us = ToMicros(clock_.monotonic_now());
  while (!timers_.empty() && timers_.top().first <= now_us) {
    const Ticket t = timers_.top().second;
    timers_.pop();
    if (waiters_.count(t) != 0) ready_.push_back(t);
  }
  assert(!ready_.empty());
  // The seed picks which ready coroutine runs.
  const size_t i = static_cast<size_t>(random_.uniform(ready_.size()));
  const Ticket t = ready_[i];
  ready_[i] = ready_.back();
  ready_.pop_back();
  ++steps_;
  resume(t);
  return StepResult::kRan;
}

SimScheduler::RunResult SimScheduler::run_until(const std::function<bool()>& until,
                                                uint64_t steps_max) {
  RunResult r;
  while (true) {
    if (until && until()) {
      r.finished = true;
      break;
    }
    if (!failure_.empty()) break;
    if (r.steps >= steps_max) {
      r.step_limit = true;
      break;
    }
    const StepResult s = step();
    if (s == StepResult::kIdle) break;
    if (s == StepResult::kStalled) {
      r.stalled = true;
      break;
    }
    ++r.steps;
  }
  return r;
}

}  // namespace kiln::simclock
