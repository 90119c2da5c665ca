// SystemClock: monotonic time never goes back across many reads; wall time agrees with the
// system clock it wraps. Bounds are loose on purpose: nothing here asserts performance.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "engine/runtime/system_clock.h"

namespace kiln {
namespace {

TEST(SystemClockTest, MonotonicNeverGoesBack) {
  SystemClock clock;
  MonoTime previous = clock.monotonic_now();
  for (int i = 0; i < 100000; ++i) {
    const MonoTime now = clock.monotonic_now();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

TEST(SystemClockTest, WallTimeIsMicrosecondsSinceTheEpoch) {
  SystemClock clock;
  const int64_t ours_us = ToMicros(clock.wall_now());
  const int64_t theirs_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  EXPECT_LT(std::llabs(theirs_us - ours_us), 60'000'000);  // Within a minute.
  EXPECT_GT(ours_us, int64_t{1'600'000'000} * 1'000'000);  // After September 2020.
}

TEST(SystemClockTest, UsableThroughTheInterface) {
  SystemClock system;
  const Clock& clock = system;
  const MonoTime a = clock.monotonic_now();
  const MonoTime b = clock.monotonic_now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace kiln
