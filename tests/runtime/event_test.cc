// Event on the AsioScheduler: coroutines wait, others set and reset; the tests check who woke,
// in what order, and that a waiter destroyed mid-wait leaves the event and the scheduler clean.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"
#include "tests/runtime/test_util.h"

namespace kiln {
namespace {

using std::chrono::milliseconds;

Task<void> WaitThenRecord(Event& e, int id, std::vector<int>* woke) {
  co_await e.wait();
  woke->push_back(id);
}

Task<void> SetAfter(Scheduler& s, Event& e, Duration delay) {
  co_await s.sleep_for(delay);
  e.set();
}

TEST(EventTest, WaitReturnsAfterSet) {
  AsioScheduler s;
  Event e(s, "applied");
  std::vector<int> woke;
  s.spawn(WaitThenRecord(e, 1, &woke), "waiter");
  s.spawn(SetAfter(s, e, milliseconds(5)), "setter");
  s.run();
  EXPECT_EQ(woke, std::vector<int>{1});
  EXPECT_TRUE(e.is_set());
  EXPECT_EQ(e.waiter_count(), 0u);
}

TEST(EventTest, SetWakesEveryWaiterInArrivalOrder) {
  AsioScheduler s;
  Event e(s);
  std::vector<int> woke;
  for (int i = 0; i < 4; ++i) s.spawn(WaitThenRecord(e, i, &woke), "waiter");
  auto check_then_set = [](Scheduler& s, Event& e) -> Task<size_t> {
    co_await s.yield();  // Every waiter has started and parked by now.
    const size_t waiting = e.waiter_count();
    e.set();
    co_return waiting;
  };
  EXPECT_EQ(RunToCompletion(s, check_then_set(s, e)), 4u);
  s.run();
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3}));
}

TEST(EventTest, WaitOnASetEventDoesNotSuspend) {
  AsioScheduler s;
  Event e(s);
  e.set();
  auto waits = [](AsioScheduler& s, Event& e) -> Task<size_t> {
    co_await e.wait();
    co_return s.armed_tickets();
  };
  EXPECT_EQ(RunToCompletion(s, waits(s, e)), 0u);
}

TEST(EventTest, SetDoesNotResumeInline) {
  AsioScheduler s;
  Event e(s);
  std::vector<int> woke;
  s.spawn(WaitThenRecord(e, 7, &woke), "waiter");
  auto setter = [](Scheduler& s, Event& e, std::vector<int>* woke) -> Task<bool> {
    co_await s.yield();
    e.set();
    const bool inline_resume = !woke->empty();
    co_await s.yield();
    co_return inline_resume;
  };
  EXPECT_FALSE(RunToCompletion(s, setter(s, e, &woke)));
  EXPECT_EQ(woke, std::vector<int>{7});
}

TEST(EventTest, ResetMakesWaitersWaitAgain) {
  AsioScheduler s;
  Event e(s);
  std::vector<int> woke;
  auto body = [](Scheduler& s, Event& e, std::vector<int>* woke) -> Task<void> {
    e.set();
    e.reset();
    EXPECT_FALSE(e.is_set());
    s.spawn(WaitThenRecord(e, 1, woke), "waiter");
    co_await s.sleep_for(milliseconds(5));
    EXPECT_TRUE(woke->empty());  // Still waiting: the event was reset.
    e.set();
    co_await s.yield();
    co_await s.yield();
  };
  RunToCompletion(s, body(s, e, &woke));
  EXPECT_EQ(woke, std::vector<int>{1});
}

TEST(EventTest, DestroyingAWaiterUnlistsIt) {
  AsioScheduler s;
  Event e(s);
  std::vector<int> woke;
  auto body = [](AsioScheduler& s, Event& e, std::vector<int>* woke) -> Task<void> {
    {
      Task<void> waiter = WaitThenRecord(e, 1, woke);
      waiter.handle().resume();
      EXPECT_EQ(e.waiter_count(), 1u);
      EXPECT_EQ(s.armed_tickets(), 1u);
    }
    EXPECT_EQ(e.waiter_count(), 0u);
    EXPECT_EQ(s.armed_tickets(), 0u);
    e.set();
    co_await s.yield();
  };
  RunToCompletion(s, body(s, e, &woke));
  EXPECT_TRUE(woke.empty());
}

TEST(EventTest, DestroyingAWokenButNotResumedWaiterWithdrawsItsTicket) {
  AsioScheduler s;
  Event e(s);
  std::vector<int> woke;
  auto body = [](AsioScheduler& s, Event& e, std::vector<int>* woke) -> Task<void> {
    {
      Task<void> waiter = WaitThenRecord(e, 1, woke);
      waiter.handle().resume();
      e.set();  // Unparked: its resume is posted, not yet run.
      EXPECT_EQ(s.armed_tickets(), 1u);
    }
    EXPECT_EQ(s.armed_tickets(), 0u);
    co_await s.yield();  // The posted resume runs and finds nothing.
  };
  RunToCompletion(s, body(s, e, &woke));
  EXPECT_TRUE(woke.empty());
}

TEST(EventTest, AWaiterNobodySetsIsAStallThatTheSchedulerCleansUp) {
  auto s = std::make_unique<AsioScheduler>();
  Event e(*s);
  std::vector<int> woke;
  s->spawn(WaitThenRecord(e, 1, &woke), "waiter");
  s->run();  // Returns: a parked task does not keep the loop alive.
  EXPECT_EQ(s->live_tasks(), 1u);
  EXPECT_EQ(e.waiter_count(), 1u);
  s.reset();  // Destroys the waiter, which unlists itself before the event goes.
  EXPECT_EQ(e.waiter_count(), 0u);
  EXPECT_TRUE(woke.empty());
}

}  // namespace
}  // namespace kiln
