// Task<T>: a lazily started C++20 coroutine that produces a T (after cppcoro's task).
//
// - Lazy: creating a Task runs nothing; `co_await task` starts it and resumes the awaiter when
//   it finishes, by symmetric transfer (no stack growth over long chains of awaits).
// - Move-only and [[nodiscard]]: a Task that is dropped is destroyed without ever running.
// - Destroying a Task destroys its coroutine frame, and with it the frames of whatever it was
//   awaiting. The simulator kills a process this way; awaiters release what they registered in
//   their destructors (see scheduler.h), so nothing dangles.
// - An exception that escapes the body is stored and rethrown to the awaiter. Engine code
//   reports expected failures with Status, so an exception here is a bug.
//
// Top-level tasks are started with Scheduler::spawn(); nothing else resumes a Task directly.
//
// NOTE (GCC 12): GCC 12.2 destroys some temporaries twice when they appear inside a co_await
// expression: aggregates with a non-trivial destructor, lambdas included. So inside co_await,
// a lambda captures only references, pointers and trivially destructible values
// (`co_await s.blocking([&] {...})`); anything else is named first and moved in. Constructor
// calls such as std::string(...) are not affected. A co_await inside a conditional expression
// (`c ? co_await a : co_await b`) is: GCC 12 frees its result twice. Use if/else there.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <utility>
#include <variant>

namespace kiln {

template <typename T = void>
class Task;

namespace detail {

struct TaskFinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    auto continuation = h.promise().continuation;
    return continuation ? continuation : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  TaskFinalAwaiter final_suspend() const noexcept { return {}; }
};

// The result state is explicit: empty until the body finishes, then a value or an exception.
template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::variant<std::monostate, T, std::exception_ptr> result;

  Task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { result.template emplace<2>(std::current_exception()); }
  template <typename U>
  void return_value(U&& value) {
    result.template emplace<1>(std::forward<U>(value));
  }
  T take() {
    assert(result.index() != 0 && "Task result read before the task finished");
    if (result.index() == 2) std::rethrow_exception(std::get<2>(result));
    return std::move(std::get<1>(result));
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  bool finished = false;
  std::exception_ptr exception;

  Task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept {
    exception = std::current_exception();
    finished = true;
  }
  void return_void() noexcept { finished = true; }
  void take() {
    assert(finished && "Task result read before the task finished");
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const { return static_cast<bool>(handle_); }
  bool done() const { return handle_ && handle_.done(); }

  // Awaiting starts the task and resumes the awaiter with its result.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() const noexcept { return !handle || handle.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        handle.promise().continuation = awaiting;
        return handle;
      }
      T await_resume() { return handle.promise().take(); }
    };
    assert(handle_ && "awaiting an empty Task");
    return Awaiter{handle_};
  }

  // For the schedulers' root tasks: the raw handle. The Task keeps ownership.
  Handle handle() const { return handle_; }

 private:
  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace kiln
