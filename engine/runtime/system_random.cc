#include "engine/runtime/system_random.h"

#include <cassert>
#include <random>

namespace kiln {

std::unique_ptr<Random> MakeSystemRandom() {
  std::random_device device;
  // random_device yields 32-bit values; two draws make the 64-bit seed.
  static_assert(sizeof(std::random_device::result_type) >= 4);
  const uint64_t high = static_cast<uint32_t>(device());
  const uint64_t low = static_cast<uint32_t>(device());
  return MakeSystemRandom((high << 32) | low);
}

std::unique_ptr<Random> MakeSystemRandom(uint64_t seed) {
  auto random = std::make_unique<DeterministicRandom>(seed);
  assert(random != nullptr);
  return random;
}

}  // namespace kiln
