// SimClock: virtual time. Monotonic time starts at zero and moves only when the simulator moves
// it (to the next timer, or forward by a simulated sleep). Wall time is monotonic time plus an
// offset that a fault plan can move, backwards included.
#pragma once

#include <cassert>

#include "engine/runtime/clock.h"

namespace kiln::simclock {

class SimClock final : public Clock {
 public:
  // Wall time starts at 2026-01-01T00:00:00Z plus `wall_start_offset`.
  explicit SimClock(Duration wall_start_offset = Duration::zero())
      : wall_offset_(kWallEpoch + wall_start_offset) {}

  MonoTime monotonic_now() const override { return now_; }
  WallTime wall_now() const override { return WallTime(now_.time_since_epoch() + wall_offset_); }

  // Moves monotonic time forward to `t`. REQUIRES: t >= monotonic_now().
  void advance_to(MonoTime t) {
    assert(t >= now_);
    if (t > now_) now_ = t;
  }
  // Moves monotonic time forward by `d`. REQUIRES: d >= 0.
  void advance(Duration d) {
    assert(d >= Duration::zero());
    if (d > Duration::zero()) now_ += d;
  }
  // Moves wall time by `delta` (negative: backwards). Monotonic time is unaffected.
  void jump_wall(Duration delta) { wall_offset_ += delta; }

 private:
  static constexpr Duration kWallEpoch = Duration(1767225600LL * 1000000LL);
  MonoTime now_{};
  Duration wall_offset_;
};

}  // namespace kiln::simclock
