// CRC32C with one 256-entry table per byte lane (slicing-by-4), built at compile time.
#include "engine/wal/crc32c.h"

#include <array>
#include <cassert>

namespace kiln::wal::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u;  // Castagnoli, bit-reversed.

using Tables = std::array<std::array<uint32_t, 256>, 4>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kPolynomial : 0u);
    t[0][i] = crc;
  }
  // t[k][i]: the CRC of byte i followed by k zero bytes, so four bytes fold in one step.
  for (size_t k = 1; k < 4; ++k) {
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
  }
  return t;
}

constexpr Tables kTables = MakeTables();
static_assert(kTables[0][128] == kPolynomial, "table 0 must be the reflected Castagnoli table");

}  // namespace

uint32_t Extend(uint32_t init, std::span<const std::byte> data) {
  uint32_t crc = init ^ 0xffffffffu;
  const std::byte* p = data.data();
  size_t n = data.size();
  while (n >= 4) {
    crc ^= static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    crc = kTables[3][crc & 0xffu] ^ kTables[2][(crc >> 8) & 0xffu] ^
          kTables[1][(crc >> 16) & 0xffu] ^ kTables[0][crc >> 24];
    p += 4;
    n -= 4;
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ kTables[0][(crc ^ static_cast<uint32_t>(*p)) & 0xffu];
  assert(p == data.data() + data.size());
  return crc ^ 0xffffffffu;
}

}  // namespace kiln::wal::crc32c
