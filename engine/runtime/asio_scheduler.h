// AsioScheduler: the production Scheduler. One Boost.Asio io_context, run on the thread that
// calls run(), resumes every engine coroutine; blocking calls run on a small thread pool and
// resume on the loop. Boost.Asio stays behind a pimpl so including this header is cheap.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "engine/runtime/scheduler.h"

namespace kiln {

struct AsioSchedulerOptions {
  // Threads in the pool that runs blocking() calls. REQUIRES: >= 1.
  size_t blocking_threads = 2;
};

// Threading: every Scheduler method, and run(), is called on one thread (the loop thread while
// run() is active); only stop() may be called from any thread. Blocking work runs on the pool
// and touches nothing of the scheduler's but a per-call job record.
//
// Differences from the Scheduler contract, both more permissive:
// - cancel() of a blocking ticket whose work is running waits (on the loop thread) for the work
//   to finish, so the awaiting frame can be destroyed safely. Work that is still queued is
//   skipped.
// - An exception escaping blocking work is a bug, like one escaping a spawned task: it is
//   logged to stderr and the process aborts.
class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(AsioSchedulerOptions options = {});
  // Destroys every live task (newest first; their awaiters withdraw their tickets), then waits
  // for the blocking pool to drain. REQUIRES: run() is not active.
  ~AsioScheduler() override;
  AsioScheduler(const AsioScheduler&) = delete;
  AsioScheduler& operator=(const AsioScheduler&) = delete;

  // --- Scheduler ---
  // The task starts on a later loop iteration. An exception escaping it is logged to stderr
  // with the task's name, then the process aborts. Its frame is destroyed after it finishes.
  void spawn(Task<void> task, std::string_view name) override;
  // Zero delay posts the resume; a positive delay arms a steady_timer.
  Ticket schedule(std::coroutine_handle<> h, Duration delay, const char* what) override;
  Ticket schedule_blocking(std::coroutine_handle<> h, std::function<void()> work) override;
  Ticket park(std::coroutine_handle<> h, const char* what) override;
  void unpark(Ticket ticket) override;
  void cancel(Ticket ticket) override;

  // Runs the loop on the calling thread until stop() is called or nothing is left that could
  // make progress: no posted resume, no timer, no blocking call in flight. A parked task does
  // not keep the loop alive (only the loop could unpark it), so if run() returns without stop()
  // while live_tasks() > 0, those tasks are stalled. Clears an earlier stop() first; may be
  // called again to continue. REQUIRES: not already running; not called from a task.
  void run();
  // Makes the active run() return after the current handler; tasks stay alive and continue on
  // the next run(). Thread-safe. A stop() while run() is not active is forgotten.
  void stop();

  // Spawned tasks that have not finished (or been destroyed).
  size_t live_tasks() const;
  // Armed tickets: sleeping, parked, posted or blocking waits not yet resumed or withdrawn.
  size_t armed_tickets() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {

template <typename T>
struct CompletionSlot {
  bool finished = false;
  std::exception_ptr exception;
  std::optional<T> value;
};
template <>
struct CompletionSlot<void> {
  bool finished = false;
  std::exception_ptr exception;
};

// Awaits `task`, stores its outcome in `slot`, then stops the loop. The slot is shared so that
// this frame never dangles if RunToCompletion gives up on it.
template <typename T>
Task<void> CompleteInto(AsioScheduler& scheduler, Task<T> task,
                        std::shared_ptr<CompletionSlot<T>> slot) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
    } else {
      slot->value.emplace(co_await std::move(task));
    }
  } catch (...) {
    slot->exception = std::current_exception();
  }
  slot->finished = true;
  scheduler.stop();
}

}  // namespace detail

// Spawns `task` as "main", runs the loop until it finishes, and returns its value (rethrowing
// its exception). Other tasks stay alive: they continue on a later run() or die with the
// scheduler. Throws std::runtime_error if the loop stops or stalls before `task` finishes.
// For tests and tools' main functions. REQUIRES: the scheduler is not running.
template <typename T>
T RunToCompletion(AsioScheduler& scheduler, Task<T> task) {
  auto slot = std::make_shared<detail::CompletionSlot<T>>();
  scheduler.spawn(detail::CompleteInto(scheduler, std::move(task), slot), "main");
  scheduler.run();
  if (!slot->finished) {
    throw std::runtime_error(
        "RunToCompletion: the loop stopped or stalled before the main task finished");
  }
  if (slot->exception) std::rethrow_exception(slot->exception);
  if constexpr (!std::is_void_v<T>) return std::move(*slot->value);
}

}  // namespace kiln
