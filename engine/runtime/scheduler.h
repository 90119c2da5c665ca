// Scheduler: runs the engine's coroutines. Production runs them on one Boost.Asio loop thread
// with a small pool for blocking calls; simulation runs them on one thread in an order the seed
// picks, on virtual time. Engine code sees only this interface.
//
// Coroutine rules:
// - Every suspension goes through an awaiter built on schedule()/cancel() (sleep_for, yield,
//   blocking, Event::wait). An awaiter that is destroyed while armed cancels its ticket, so a
//   frame destroyed mid-wait (the simulator killing a process) leaves nothing dangling.
// - spawn() takes ownership of a top-level task; it starts on a later step, never inline.
// - Nothing here is thread-safe: call it from coroutines running on this scheduler only.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/runtime/clock.h"
#include "engine/runtime/task.h"

namespace kiln {

class Scheduler {
 public:
  using Ticket = uint64_t;  // Never 0.

  virtual ~Scheduler() = default;

  // Starts `task` as an independent top-level coroutine named `name` (for traces and liveness
  // reports). The scheduler owns it until it finishes. An exception escaping it is a bug: the
  // production scheduler logs and aborts; the simulator fails the run.
  virtual void spawn(Task<void> task, std::string_view name) = 0;

  // Awaitable: resumes after `delay` (>= 0) of monotonic time.
  class WakeAwaiter;
  WakeAwaiter sleep_for(Duration delay);
  // Awaitable: lets every other ready coroutine have a chance to run first.
  WakeAwaiter yield();

  // Runs `f` (a blocking call: LevelDB, a CPU-heavy check) off the loop in production and inline
  // after a seeded latency in simulation; resumes with its result. REQUIRES: `f` touches no state
  // that coroutines use concurrently, because in production it runs on another thread.
  template <typename F>
  auto blocking(F f) -> Task<std::invoke_result_t<F&>>;

  // --- The awaiter protocol (for awaiters; engine code uses the methods above) ---

  // Resumes `h` on the loop after `delay`. `what` (a string literal) names the wait in traces.
  virtual Ticket schedule(std::coroutine_handle<> h, Duration delay, const char* what) = 0;
  // Runs `work` as a blocking call (see blocking()), then resumes `h` on the loop.
  virtual Ticket schedule_blocking(std::coroutine_handle<> h, std::function<void()> work) = 0;
  // Parks `h` until unpark(): for waits on a condition (Event). `what` names it in traces and in
  // stall reports.
  virtual Ticket park(std::coroutine_handle<> h, const char* what) = 0;
  // Makes a parked ticket runnable; a no-op for a ticket that is not parked.
  virtual void unpark(Ticket ticket) = 0;
  // Withdraws a ticket that has not fired yet; a no-op for one that has. REQUIRES (production):
  // not a blocking ticket whose work is already running.
  virtual void cancel(Ticket ticket) = 0;

  class WakeAwaiter {
   public:
    WakeAwaiter(Scheduler* scheduler, Duration delay, const char* what)
        : scheduler_(scheduler), delay_(delay), what_(what) {}
    WakeAwaiter(const WakeAwaiter&) = delete;
    WakeAwaiter& operator=(const WakeAwaiter&) = delete;
    ~WakeAwaiter() {
      if (ticket_ != 0) scheduler_->cancel(ticket_);
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      ticket_ = scheduler_->schedule(h, delay_, what_);
    }
    void await_resume() noexcept { ticket_ = 0; }

   private:
    Scheduler* scheduler_;
    Duration delay_;
    const char* what_;
    Ticket ticket_ = 0;
  };

  class BlockingAwaiter {
   public:
    BlockingAwaiter(Scheduler* scheduler, std::function<void()> work)
        : scheduler_(scheduler), work_(std::move(work)) {}
    BlockingAwaiter(const BlockingAwaiter&) = delete;
    BlockingAwaiter& operator=(const BlockingAwaiter&) = delete;
    ~BlockingAwaiter() {
      if (ticket_ != 0) scheduler_->cancel(ticket_);
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      ticket_ = scheduler_->schedule_blocking(h, std::move(work_));
    }
    void await_resume() noexcept { ticket_ = 0; }

   private:
    Scheduler* scheduler_;
    std::function<void()> work_;
    Ticket ticket_ = 0;
  };
};

inline Scheduler::WakeAwaiter Scheduler::sleep_for(Duration delay) {
  return WakeAwaiter(this, delay < Duration::zero() ? Duration::zero() : delay, "sleep");
}
inline Scheduler::WakeAwaiter Scheduler::yield() {
  return WakeAwaiter(this, Duration::zero(), "yield");
}

template <typename F>
auto Scheduler::blocking(F f) -> Task<std::invoke_result_t<F&>> {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    co_await BlockingAwaiter(this, [&f] { f(); });
  } else {
    std::optional<R> out;
    co_await BlockingAwaiter(this, [&f, &out] { out.emplace(f()); });
    co_return std::move(*out);
  }
}

namespace detail {

// The coroutine a scheduler wraps around each spawned task, so it learns when the task ends.
// The scheduler creates it with MakeRootTask, sets `on_done`, and destroys it after `on_done`
// has run (never from inside on_done).
class RootTask {
 public:
  struct promise_type {
    std::function<void(std::exception_ptr)> on_done;
    std::exception_ptr exception;

    RootTask get_return_object() {
      return RootTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
      struct Final {
        bool await_ready() noexcept { return false; }
        void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          auto& p = h.promise();
          if (p.on_done) p.on_done(p.exception);
        }
        void await_resume() noexcept {}
      };
      return Final{};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { exception = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  explicit RootTask(Handle h) : handle_(h) {}
  Handle release() { return std::exchange(handle_, {}); }
  RootTask(RootTask&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  RootTask& operator=(RootTask&&) = delete;
  ~RootTask() {
    if (handle_) handle_.destroy();
  }

 private:
  Handle handle_;
};

inline RootTask MakeRootTask(Task<void> task) {
  co_await std::move(task);
}

}  // namespace detail

}  // namespace kiln
