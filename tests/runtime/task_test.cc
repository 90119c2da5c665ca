// Task<T> without a scheduler: a test drives a task by resuming its handle directly (engine code
// never does) and parks inner coroutines on a Gate, a hand-made awaiter, so every start, await,
// resume and destruction happens exactly where the test says.
#include <gtest/gtest.h>

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>

#include "engine/runtime/task.h"

namespace kiln {
namespace {

// Runs a task that never suspends on anything outside itself, and returns its result.
template <typename T>
T RunInline(Task<T>& task) {
  EXPECT_TRUE(task.valid());
  task.handle().resume();
  EXPECT_TRUE(task.done());
  return task.handle().promise().take();
}

// A suspension point the test resumes by hand. Its awaiter counts its own destruction.
struct Gate {
  std::coroutine_handle<> waiting;
  int awaiters_destroyed = 0;

  struct Awaiter {
    Gate& gate;
    ~Awaiter() { ++gate.awaiters_destroyed; }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { gate.waiting = h; }
    void await_resume() const noexcept {}
  };
  Awaiter wait() { return Awaiter{*this}; }
  void open() {
    auto h = std::exchange(waiting, {});
    ASSERT_TRUE(h);
    h.resume();
  }
};

// Counts live instances, to see which frames' locals were destroyed.
struct Tracker {
  int* live;
  explicit Tracker(int* l) : live(l) { ++*live; }
  Tracker(const Tracker&) = delete;
  ~Tracker() { --*live; }
};

Task<int> Answer(bool* started) {
  *started = true;
  co_return 42;
}

Task<void> SetFlag(bool* flag) {
  *flag = true;
  co_return;
}

Task<int> Throws() {
  throw std::runtime_error("boom");
  co_return 0;
}

Task<void> ThrowsVoid() {
  throw std::logic_error("void boom");
  co_return;
}

Task<int> AddOne(Task<int> inner) {
  co_return co_await std::move(inner) + 1;
}

Task<int> Chain(int depth) {
  if (depth == 0) co_return 0;
  co_return co_await Chain(depth - 1) + 1;
}

Task<std::string> Catches() {
  try {
    co_await Throws();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not caught";
}

Task<int> WaitOnGate(Gate* gate, int* live) {
  Tracker t(live);
  co_await gate->wait();
  co_return 9;
}

Task<int> Outer(Gate* gate, int* live) {
  Tracker t(live);
  const int v = co_await WaitOnGate(gate, live);
  co_return v * 2;
}

Task<void> HoldsParameter(std::shared_ptr<int> p, bool* ran) {
  *ran = true;
  co_return;
}

TEST(TaskTest, IsLazy) {
  bool started = false;
  Task<int> t = Answer(&started);
  EXPECT_FALSE(started);
  EXPECT_TRUE(t.valid());
  EXPECT_FALSE(t.done());
  EXPECT_EQ(RunInline(t), 42);
  EXPECT_TRUE(started);
}

TEST(TaskTest, VoidTaskRuns) {
  bool flag = false;
  Task<void> t = SetFlag(&flag);
  EXPECT_FALSE(flag);
  RunInline(t);
  EXPECT_TRUE(flag);
}

TEST(TaskTest, DefaultTaskIsEmpty) {
  Task<int> t;
  EXPECT_FALSE(t.valid());
  EXPECT_FALSE(t.done());
}

TEST(TaskTest, MoveTransfersOwnership) {
  bool started = false;
  Task<int> a = Answer(&started);
  Task<int> b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state.
  EXPECT_TRUE(b.valid());
  Task<int> c;
  c = std::move(b);
  EXPECT_EQ(RunInline(c), 42);
}

TEST(TaskTest, ExceptionPropagatesToTheReader) {
  Task<int> t = Throws();
  EXPECT_THROW(RunInline(t), std::runtime_error);
  Task<void> v = ThrowsVoid();
  EXPECT_THROW(RunInline(v), std::logic_error);
}

TEST(TaskTest, ExceptionPropagatesThroughAwait) {
  Task<std::string> t = Catches();
  EXPECT_EQ(RunInline(t), "caught boom");
}

TEST(TaskTest, NestedAwaitsCompose) {
  bool started = false;
  Task<int> t = AddOne(AddOne(Answer(&started)));
  EXPECT_FALSE(started);
  EXPECT_EQ(RunInline(t), 44);
}

TEST(TaskTest, LongAwaitChainsDoNotGrowTheStack) {
  // Symmetric transfer: each level's completion jumps to its awaiter without a nested call.
  Task<int> t = Chain(10000);
  EXPECT_EQ(RunInline(t), 10000);
}

TEST(TaskTest, SuspendedTaskResumesWithItsValue) {
  Gate gate;
  int live = 0;
  Task<int> t = Outer(&gate, &live);
  t.handle().resume();
  EXPECT_FALSE(t.done());
  EXPECT_EQ(live, 2);  // Both frames are alive and suspended.
  gate.open();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.handle().promise().take(), 18);
  EXPECT_EQ(live, 0);  // The inner frame went with its Task once awaited; the outer returned.
}

TEST(TaskTest, DestroyingAnUnstartedTaskRunsNothingAndFreesParameters) {
  auto p = std::make_shared<int>(1);
  bool ran = false;
  {
    Task<void> t = HoldsParameter(p, &ran);
    EXPECT_EQ(p.use_count(), 2);  // The frame holds a copy.
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(p.use_count(), 1);
}

TEST(TaskTest, DestroyingASuspendedTaskDestroysTheFramesItAwaits) {
  Gate gate;
  int live = 0;
  {
    Task<int> t = Outer(&gate, &live);
    t.handle().resume();
    ASSERT_TRUE(gate.waiting);
    EXPECT_EQ(live, 2);
    EXPECT_EQ(gate.awaiters_destroyed, 0);
  }
  // Destroying the outer frame destroyed the inner Task, its frame, and the armed awaiter.
  EXPECT_EQ(live, 0);
  EXPECT_EQ(gate.awaiters_destroyed, 1);
}

}  // namespace
}  // namespace kiln
