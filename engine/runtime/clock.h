// Clock: the engine's only source of time. Monotonic time never goes back and drives timeouts
// and leases; wall time can jump (in simulation, deliberately, even backwards) and is only data.
#pragma once

#include <chrono>
#include <cstdint>

namespace kiln {

using Duration = std::chrono::microseconds;

// Tags that make monotonic and wall instants distinct types, so one cannot stand for the other.
struct MonotonicTag {
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  static constexpr bool is_steady = true;
};
struct WallTag {
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  static constexpr bool is_steady = false;
};
using MonoTime = std::chrono::time_point<MonotonicTag, Duration>;
using WallTime = std::chrono::time_point<WallTag, Duration>;  // Microseconds since the epoch.

inline int64_t ToMicros(MonoTime t) {
  return t.time_since_epoch().count();
}
inline int64_t ToMicros(WallTime t) {
  return t.time_since_epoch().count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  // Never smaller than an earlier return value.
  virtual MonoTime monotonic_now() const = 0;
  // Wall-clock time; may jump in either direction between calls.
  virtual WallTime wall_now() const = 0;
};

}  // namespace kiln
