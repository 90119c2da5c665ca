// Random: the one source of randomness. Engine and simulation code draw from a Random handed to
// them; in simulation it is seeded from the run's seed, so every draw replays.
#pragma once

#include <cassert>
#include <cstdint>

namespace kiln {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next_u64() = 0;

  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t uniform(uint64_t n);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t range(int64_t lo, int64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p (p <= 0: never; p >= 1: always).
  bool chance(double p);
};

// xoshiro256** seeded through splitmix64: fast, small, and the same on every platform.
class DeterministicRandom final : public Random {
 public:
  explicit DeterministicRandom(uint64_t seed);
  uint64_t next_u64() override;
  // An independent stream derived from this one. Giving each subsystem its own fork keeps one
  // subsystem's extra draws from shifting every other subsystem's choices.
  DeterministicRandom fork();

 private:
  uint64_t s_[4];
};

}  // namespace kiln
