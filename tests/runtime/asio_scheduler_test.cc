// AsioScheduler on real time: each test spawns a few coroutines, runs the loop on the test
// thread until it drains, and checks what ran, in what order and on which thread. Delays are
// orders (10 ms before 20 ms), never timing assertions beyond "not earlier than asked".
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/system_clock.h"
#include "tests/runtime/test_util.h"

namespace kiln {
namespace {

using std::chrono::milliseconds;

Task<void> SleepThenRecord(Scheduler& s, Duration delay, int id, std::vector<int>* order) {
  co_await s.sleep_for(delay);
  order->push_back(id);
}

Task<void> YieldTwice(Scheduler& s, char name, std::string* trace) {
  trace->push_back(name);
  co_await s.yield();
  trace->push_back(name);
  co_await s.yield();
  trace->push_back(name);
}

Task<void> SetFlag(bool* flag) {
  *flag = true;
  co_return;
}

Task<void> SleepForever(Scheduler& s, bool* woke) {
  co_await s.sleep_for(std::chrono::hours(1));
  *woke = true;
}

// Counts live instances, to see when a frame's locals are destroyed.
struct Sentinel {
  int* live;
  explicit Sentinel(int* l) : live(l) { ++*live; }
  Sentinel(const Sentinel&) = delete;
  ~Sentinel() { --*live; }
};

Task<void> SleepForeverWithSentinel(Scheduler& s, int* live) {
  Sentinel sentinel(live);
  co_await s.sleep_for(std::chrono::hours(1));
  ADD_FAILURE() << "a task sleeping for an hour woke up";
}

TEST(AsioSchedulerTest, RunReturnsAtOnceWithNothingToDo) {
  AsioScheduler s;
  s.run();
  EXPECT_EQ(s.live_tasks(), 0u);
  EXPECT_EQ(s.armed_tickets(), 0u);
}

TEST(AsioSchedulerTest, RunToCompletionReturnsTheValue) {
  AsioScheduler s;
  auto answer = [](Scheduler& s) -> Task<int> {
    co_await s.yield();
    co_return 42;
  };
  EXPECT_EQ(RunToCompletion(s, answer(s)), 42);
  EXPECT_EQ(s.live_tasks(), 0u);
}

TEST(AsioSchedulerTest, RunToCompletionRethrows) {
  AsioScheduler s;
  auto fails = [](Scheduler& s) -> Task<int> {
    co_await s.yield();
    throw std::runtime_error("expected");
  };
  EXPECT_THROW(RunToCompletion(s, fails(s)), std::runtime_error);
}

TEST(AsioSchedulerTest, SleepsWakeInDeadlineOrder) {
  AsioScheduler s;
  std::vector<int> order;
  s.spawn(SleepThenRecord(s, milliseconds(30), 3, &order), "c");
  s.spawn(SleepThenRecord(s, milliseconds(10), 1, &order), "a");
  s.spawn(SleepThenRecord(s, milliseconds(20), 2, &order), "b");
  s.spawn(SleepThenRecord(s, milliseconds(0), 0, &order), "zero");
  EXPECT_EQ(s.live_tasks(), 4u);
  s.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.live_tasks(), 0u);
  EXPECT_EQ(s.armed_tickets(), 0u);
}

TEST(AsioSchedulerTest, SleepLastsAtLeastItsDelay) {
  AsioScheduler s;
  SystemClock clock;
  auto timed = [](Scheduler& s, const Clock& clock) -> Task<Duration> {
    const MonoTime start = clock.monotonic_now();
    co_await s.sleep_for(milliseconds(20));
    co_return clock.monotonic_now() - start;
  };
  EXPECT_GE(RunToCompletion(s, timed(s, clock)), milliseconds(20));
}

TEST(AsioSchedulerTest, NegativeSleepIsAYield) {
  AsioScheduler s;
  auto negative = [](Scheduler& s) -> Task<int> {
    co_await s.sleep_for(Duration(-5));
    co_return 1;
  };
  EXPECT_EQ(RunToCompletion(s, negative(s)), 1);
}

TEST(AsioSchedulerTest, YieldLetsOthersRun) {
  AsioScheduler s;
  std::string trace;
  s.spawn(YieldTwice(s, 'a', &trace), "a");
  s.spawn(YieldTwice(s, 'b', &trace), "b");
  s.run();
  // One loop thread, FIFO posting: each yield hands the loop to the other task.
  EXPECT_EQ(trace, "ababab");
}

TEST(AsioSchedulerTest, SpawnStartsOnALaterIteration) {
  AsioScheduler s;
  bool child_ran = false;
  auto parent = [](Scheduler& s, bool* child_ran) -> Task<bool> {
    s.spawn(SetFlag(child_ran), "child");
    const bool ran_inline = *child_ran;
    co_await s.yield();
    co_return ran_inline;
  };
  EXPECT_FALSE(RunToCompletion(s, parent(s, &child_ran)));
  EXPECT_TRUE(child_ran);
  EXPECT_EQ(s.live_tasks(), 0u);
}

TEST(AsioSchedulerTest, BlockingRunsOffTheLoopAndResumesOnIt) {
  AsioScheduler s;
  struct Threads {
    std::thread::id loop_before, work, loop_after;
  };
  auto probe = [](Scheduler& s) -> Task<Threads> {
    Threads t;
    t.loop_before = std::this_thread::get_id();
    t.work = co_await s.blocking([] { return std::this_thread::get_id(); });
    t.loop_after = std::this_thread::get_id();
    co_return t;
  };
  const Threads t = RunToCompletion(s, probe(s));
  EXPECT_EQ(t.loop_before, std::this_thread::get_id());
  EXPECT_EQ(t.loop_after, std::this_thread::get_id());
  EXPECT_NE(t.work, std::this_thread::get_id());
}

TEST(AsioSchedulerTest, BlockingReturnsValuesAndVoid) {
  AsioScheduler s;
  auto work = [](Scheduler& s) -> Task<std::string> {
    int side_effect = 0;
    co_await s.blocking([&side_effect] { side_effect = 5; });
    const std::string text = co_await s.blocking([] { return std::string("from the pool"); });
    co_return text + " " + std::to_string(side_effect);
  };
  EXPECT_EQ(RunToCompletion(s, work(s)), "from the pool 5");
}

Task<void> BlockingWithOwningWork(Scheduler& s, std::shared_ptr<int> p) {
  // NOTE: the work is named, then moved in. Written inline as a prvalue inside the co_await,
  // a closure with a non-trivial capture is destroyed twice by GCC 12 (a compiler bug with
  // aggregate temporaries in co_await expressions).
  auto work = [p] { return *p; };
  const int v = co_await s.blocking(std::move(work));
  EXPECT_EQ(v, 7);
}

TEST(AsioSchedulerTest, BlockingWorkThatOwnsCapturesReleasesThemOnce) {
  AsioScheduler s;
  auto p = std::make_shared<int>(7);
  s.spawn(BlockingWithOwningWork(s, p), "owning");
  s.run();
  EXPECT_EQ(p.use_count(), 1);
}

TEST(AsioSchedulerTest, ManyConcurrentBlockingCallsAllComplete) {
  AsioScheduler s(AsioSchedulerOptions{.blocking_threads = 3});
  std::atomic<int> in_flight{0};
  std::atomic<int> in_flight_max{0};
  int done = 0;
  auto one = [](Scheduler& s, std::atomic<int>* in_flight, std::atomic<int>* in_flight_max,
                int* done) -> Task<void> {
    co_await s.blocking([in_flight, in_flight_max] {
      const int now = ++*in_flight;
      int seen = in_flight_max->load();
      while (now > seen && !in_flight_max->compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(milliseconds(5));
      --*in_flight;
    });
    ++*done;  // On the loop thread: no race.
  };
  for (int i = 0; i < 12; ++i) s.spawn(one(s, &in_flight, &in_flight_max, &done), "blocking");
  s.run();
  EXPECT_EQ(done, 12);
  EXPECT_LE(in_flight_max.load(), 3);
  EXPECT_EQ(s.live_tasks(), 0u);
}

TEST(AsioSchedulerTest, DestroyingASleepingTaskCancelsItsTimer) {
  AsioScheduler s;
  bool woke = false;
  auto parent = [](AsioScheduler& s, bool* woke) -> Task<void> {
    {
      Task<void> child = SleepForever(s, woke);
      child.handle().resume();  // Start it by hand: it arms an hour-long timer.
      EXPECT_EQ(s.armed_tickets(), 1u);
      co_await s.yield();
      EXPECT_FALSE(child.done());
    }  // Destroying the child's frame withdraws its ticket and destroys the timer.
    EXPECT_EQ(s.armed_tickets(), 0u);
  };
  RunToCompletion(s, parent(s, &woke));
  EXPECT_EQ(s.armed_tickets(), 0u);
  // Nothing else is left: the loop drains at once instead of waiting an hour.
  s.run();
  EXPECT_FALSE(woke);
}

TEST(AsioSchedulerTest, DestroyingTheSchedulerDestroysLiveTasks) {
  int live = 0;
  {
    AsioScheduler s;
    s.spawn(SleepForeverWithSentinel(s, &live), "sleeper");
    auto stopper = [](AsioScheduler& s) -> Task<void> {
      co_await s.sleep_for(milliseconds(5));
      s.stop();
    };
    s.spawn(stopper(s), "stopper");
    s.run();
    EXPECT_EQ(live, 1);
    EXPECT_EQ(s.live_tasks(), 1u);
  }
  EXPECT_EQ(live, 0);
}

TEST(AsioSchedulerTest, StopThenRunContinues) {
  AsioScheduler s;
  std::vector<int> order;
  auto stopper = [](AsioScheduler& s) -> Task<void> {
    s.stop();
    co_return;
  };
  s.spawn(stopper(s), "stopper");
  s.spawn(SleepThenRecord(s, milliseconds(5), 1, &order), "sleeper");
  s.run();
  EXPECT_TRUE(order.empty());
  s.run();
  EXPECT_EQ(order, std::vector<int>{1});
}

TEST(AsioSchedulerTest, StopFromAnotherThread) {
  AsioScheduler s;
  int live = 0;
  s.spawn(SleepForeverWithSentinel(s, &live), "sleeper");
  std::thread stopper([&s] {
    std::this_thread::sleep_for(milliseconds(20));
    s.stop();
  });
  s.run();
  stopper.join();
  EXPECT_EQ(s.live_tasks(), 1u);
}

TEST(AsioSchedulerTest, QueuedBlockingWorkOfADestroyedTaskNeverRuns) {
  AsioScheduler s(AsioSchedulerOptions{.blocking_threads = 1});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool queued_ran = false;
  auto hog = [](Scheduler& s, std::shared_future<void> released) -> Task<void> {
    co_await s.blocking([&released] { released.wait(); });  // Holds the only pool thread.
  };
  auto queued = [](Scheduler& s, bool* ran) -> Task<void> {
    co_await s.blocking([ran] { *ran = true; });
  };
  auto body = [&]() -> Task<void> {
    s.spawn(hog(s, released), "hog");
    co_await s.yield();  // The hog starts and queues its call first.
    {
      Task<void> q = queued(s, &queued_ran);
      q.handle().resume();  // Queues behind the hog.
    }                       // Withdrawn while still queued.
    release.set_value();
  };
  RunToCompletion(s, body());
  s.run();  // Let the hog finish.
  EXPECT_FALSE(queued_ran);
  EXPECT_EQ(s.live_tasks(), 0u);
}

TEST(AsioSchedulerTest, DestroyingATaskWaitsForItsRunningBlockingCall) {
  AsioScheduler s(AsioSchedulerOptions{.blocking_threads = 1});
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto slow = [](Scheduler& s, std::atomic<bool>* started,
                 std::atomic<bool>* finished) -> Task<void> {
    int in_frame = 0;  // The work writes into this frame: it must outlive the work.
    co_await s.blocking([&in_frame, started, finished] {
      *started = true;
      std::this_thread::sleep_for(milliseconds(30));
      in_frame = 1;
      *finished = true;
    });
  };
  auto body = [&]() -> Task<bool> {
    bool finished_at_destroy = false;
    {
      Task<void> t = slow(s, &started, &finished);
      t.handle().resume();
      for (int i = 0; i < 10000 && !started; ++i) std::this_thread::sleep_for(milliseconds(1));
      EXPECT_TRUE(started);
      t = Task<void>();  // Destroys the frame: cancel() waits for the running work.
      finished_at_destroy = finished;
    }
    co_return finished_at_destroy;
  };
  EXPECT_TRUE(RunToCompletion(s, body()));
}

TEST(AsioSchedulerTest, RunToCompletionThrowsOnAStall) {
  AsioScheduler s;
  auto parked_forever = [](Scheduler& s) -> Task<int> {
    // Park with nobody to unpark: the loop runs dry.
    struct Park {
      Scheduler& s;
      Scheduler::Ticket t = 0;
      bool await_ready() { return false; }
      void await_suspend(std::coroutine_handle<> h) { t = s.park(h, "never"); }
      void await_resume() {}
      ~Park() {
        if (t != 0) s.cancel(t);
      }
    };
    co_await Park{s};
    co_return 1;
  };
  EXPECT_THROW(RunToCompletion(s, parked_forever(s)), std::runtime_error);
  EXPECT_EQ(s.live_tasks(), 1u);
  EXPECT_EQ(s.armed_tickets(), 1u);
}

TEST(AsioSchedulerDeathTest, ExceptionEscapingASpawnedTaskAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto throws = [](Scheduler& s) -> Task<void> {
    co_await s.yield();
    throw std::runtime_error("escaped");
  };
  EXPECT_DEATH(
      {
        AsioScheduler s;
        s.spawn(throws(s), "thrower");
        s.run();
      },
      "task 'thrower' threw: escaped");
}

}  // namespace
}  // namespace kiln
