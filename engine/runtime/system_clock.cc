#include "engine/runtime/system_clock.h"

#include <chrono>

namespace kiln {

MonoTime SystemClock::monotonic_now() const {
  // steady_clock is monotonic, and truncating to microseconds keeps it so.
  static_assert(std::chrono::steady_clock::is_steady);
  const auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
  return MonoTime(std::chrono::duration_cast<Duration>(since_epoch));
}

WallTime SystemClock::wall_now() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return WallTime(std::chrono::duration_cast<Duration>(since_epoch));
}

}  // namespace kiln
