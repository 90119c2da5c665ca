// SystemClock: the production Clock. Monotonic time is std::chrono::steady_clock, wall time is
// std::chrono::system_clock, both in microseconds. Real time is read here and nowhere else in
// the engine (DESIGN.md section 1).
#pragma once

#include "engine/runtime/clock.h"

namespace kiln {

// Thread-safe: both methods only read the OS clocks.
class SystemClock final : public Clock {
 public:
  // Microseconds of steady_clock since its (unspecified) epoch; never goes back.
  MonoTime monotonic_now() const override;
  // Microseconds since the Unix epoch; can jump either way if the system time is set.
  WallTime wall_now() const override;
};

}  // namespace kiln
