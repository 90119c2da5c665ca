// Tests of the seeded scheduler: each drives small coroutines on a SimScheduler and checks
// virtual time, ordering by seed, process kills, stalls and replay (same seed, same trace hash).
#include "simclock/sim_scheduler.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/runtime/event.h"

namespace kiln::simclock {
namespace {

struct Sim {
  explicit Sim(uint64_t seed) : random(seed), sched(clock, random, trace) {}
  SimClock clock;
  DeterministicRandom random;
  Trace trace;
  SimScheduler sched;
};

Task<void> SleepThenLog(Scheduler& s, Duration d, std::vector<int>* log, int id) {
  co_await s.sleep_for(d);
  log->push_back(id);
}

TEST(SimScheduler, SleepAdvancesVirtualTimeInDueOrder) {
  Sim sim(1);
  std::vector<int> log;
  sim.sched.spawn(SleepThenLog(sim.sched, Duration(300), &log, 3), "c");
  sim.sched.spawn(SleepThenLog(sim.sched, Duration(100), &log, 1), "a");
  sim.sched.spawn(SleepThenLog(sim.sched, Duration(200), &log, 2), "b");
  auto r = sim.sched.run_until(nullptr, 1000);
  EXPECT_FALSE(r.stalled);
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ToMicros(sim.clock.monotonic_now()), 300);
  EXPECT_EQ(sim.sched.live_tasks(), 0u);
}

Task<void> YieldLoop(Scheduler& s, std::vector<int>* log, int id, int n) {
  for (int i = 0; i < n; ++i) {
    log->push_back(id);
    co_await s.yield();
  }
}

std::vector<int> Interleaving(uint64_t seed) {
  Sim sim(seed);
  std::vector<int> log;
  for (int id = 0; id < 4; ++id) sim.sched.spawn(YieldLoop(sim.sched, &log, id, 8), "t");
  sim.sched.run_until(nullptr, 10000);
  return log;
}

TEST(SimScheduler, SameSeedSameInterleavingOtherSeedsDiffer) {
  EXPECT_EQ(Interleaving(7), Interleaving(7));
  bool any_differs = false;
  for (uint64_t seed = 8; seed < 16 && !any_differs; ++seed) {
    any_differs = Interleaving(seed) != Interleaving(7);
  }
  EXPECT_TRUE(any_differs) << "the seed must choose among ready coroutines";
}

TEST(SimScheduler, TraceHashReplays) {
  auto hash = [](uint64_t seed) {
    Sim sim(seed);
    std::vector<int> log;
    for (int id = 0; id < 3; ++id) sim.sched.spawn(YieldLoop(sim.sched, &log, id, 5), "t");
    sim.sched.run_until(nullptr, 10000);
    return sim.trace.hash();
  };
  EXPECT_EQ(hash(42), hash(42));
  EXPECT_NE(hash(42), hash(43));
}

Task<void> WaitForever(Event& e) {
  co_await e.wait();
}

TEST(SimScheduler, NothingCanRunWhileTasksWaitIsAStall) {
  Sim sim(1);
  Event never(sim.sched, "never-set");
  sim.sched.spawn(WaitForever(never), "waiter");
  auto r = sim.sched.run_until(nullptr, 1000);
  EXPECT_TRUE(r.stalled);
  ASSERT_EQ(sim.sched.parked_descriptions().size(), 1u);
  EXPECT_NE(sim.sched.parked_descriptions()[0].find("never-set"), std::string::npos);
  sim.sched.destroy_all_tasks();  // The waiter's frame goes before the event.
  EXPECT_EQ(never.waiter_count(), 0u);
}

Task<void> SetLater(Scheduler& s, Event& e) {
  co_await s.sleep_for(Duration(50));
  e.set();
}

TEST(SimScheduler, EventWakesWaiters) {
  Sim sim(3);
  Event e(sim.sched, "e");
  sim.sched.spawn(WaitForever(e), "w1");
  sim.sched.spawn(WaitForever(e), "w2");
  sim.sched.spawn(SetLater(sim.sched, e), "setter");
  auto r = sim.sched.run_until(nullptr, 1000);
  EXPECT_FALSE(r.stalled);
  EXPECT_EQ(sim.sched.live_tasks(), 0u);
}

Task<void> SpawnChild(SimScheduler& s, std::vector<int>* log) {
  s.spawn(SleepThenLog(s, Duration(1000), log, 99), "child");
  co_await s.sleep_for(Duration(1000));
  log->push_back(1);
}

TEST(SimScheduler, KillDestroysEveryTaskOfTheProcessAndNothingElse) {
  Sim sim(5);
  std::vector<int> log;
  sim.sched.spawn_in(1, SpawnChild(sim.sched, &log), "parent");
  sim.sched.spawn_in(2, SleepThenLog(sim.sched, Duration(2000), &log, 2), "other");
  sim.sched.run_until([&] { return sim.sched.live_tasks(1) == 2; }, 100);
  ASSERT_EQ(sim.sched.live_tasks(1), 2u);  // The child joined its parent's process.
  sim.sched.kill_process(1);
  EXPECT_EQ(sim.sched.live_tasks(1), 0u);
  sim.sched.run_until(nullptr, 1000);
  EXPECT_EQ(log, (std::vector<int>{2}));
}

Task<void> Throws(Scheduler& s) {
  co_await s.yield();
  throw std::runtime_error("boom");
}

TEST(SimScheduler, ExceptionEscapingATaskFailsTheRun) {
  Sim sim(1);
  sim.sched.spawn(Throws(sim.sched), "thrower");
  sim.sched.run_until(nullptr, 100);
  EXPECT_NE(sim.sched.failure().find("boom"), std::string::npos);
  EXPECT_NE(sim.sched.failure().find("thrower"), std::string::npos);
}

Task<void> Spin(Scheduler& s) {
  for (;;) co_await s.yield();
}

TEST(SimScheduler, StepLimitBoundsARun) {
  Sim sim(1);
  sim.sched.spawn(Spin(sim.sched), "spin");
  auto r = sim.sched.run_until(nullptr, 500);
  EXPECT_TRUE(r.step_limit);
  EXPECT_EQ(r.steps, 500u);
}

Task<void> BlockingCall(Scheduler& s, int* out) {
  *out = co_await s.blocking([] { return 41 + 1; });
}

TEST(SimScheduler, BlockingRunsInlineAfterSeededLatency) {
  Sim sim(9);
  int out = 0;
  sim.sched.spawn(BlockingCall(sim.sched, &out), "b");
  sim.sched.run_until(nullptr, 100);
  EXPECT_EQ(out, 42);
  EXPECT_GE(ToMicros(sim.clock.monotonic_now()), 5);
  EXPECT_LE(ToMicros(sim.clock.monotonic_now()), 200);
}

TEST(SimClock, WallTimeJumpsBothWaysMonotonicNever) {
  SimClock clock;
  const auto mono = clock.monotonic_now();
  const auto wall = clock.wall_now();
  clock.jump_wall(Duration(-5000000));
  EXPECT_EQ(clock.monotonic_now(), mono);
  EXPECT_EQ(clock.wall_now(), wall - Duration(5000000));
  clock.advance(Duration(10));
  EXPECT_EQ(ToMicros(clock.monotonic_now()), 10);
}

}  // namespace
}  // namespace kiln::simclock
