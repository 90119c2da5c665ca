// The production source of randomness: a DeterministicRandom seeded from the OS. The engine
// still draws only from the Random it is handed; only the seed is ambient, and only here.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/runtime/random.h"

namespace kiln {

// A DeterministicRandom seeded with 64 bits from std::random_device. Never returns null.
// The returned Random is not thread-safe (no Random is): give each thread its own.
std::unique_ptr<Random> MakeSystemRandom();

// The same, seeded with `seed`: what MakeSystemRandom() does once it has drawn a seed. Lets a
// production run log its seed and a test pin it.
std::unique_ptr<Random> MakeSystemRandom(uint64_t seed);

}  // namespace kiln
