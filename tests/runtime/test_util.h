// Helpers shared by the runtime tests: assertions usable inside coroutines (gtest's ASSERT_*
// expand to `return`, which a coroutine may not use) and byte-buffer conversions.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/status.h"

// Like ASSERT_TRUE, for a coroutine returning Task<void>: records the failure and co_returns.
#define KILN_CO_ASSERT(cond)                               \
  do {                                                     \
    if (!(cond)) {                                         \
      ADD_FAILURE() << "KILN_CO_ASSERT failed: " << #cond; \
      co_return;                                           \
    }                                                      \
  } while (0)

// Like ASSERT_TRUE(s.ok()) for a Status or Result, printing the status on failure.
#define KILN_CO_ASSERT_OK(expr)                                              \
  do {                                                                       \
    const auto& kiln_co_assert_ok_ = (expr);                                 \
    if (!kiln_co_assert_ok_.ok()) {                                          \
      ADD_FAILURE() << #expr << " failed: " << StatusOf(kiln_co_assert_ok_); \
      co_return;                                                             \
    }                                                                        \
  } while (0)

namespace kiln::testing {

inline std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

inline std::string ToString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace kiln::testing

namespace kiln {
// For KILN_CO_ASSERT_OK: the status of a Status or a Result.
template <typename S>
std::string StatusOf(const S& s) {
  return s.status().ToString();
}
inline std::string StatusOf(const Status& s) {
  return s.ToString();
}
}  // namespace kiln
