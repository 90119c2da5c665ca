// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, as used by iSCSI, ext4 and
// LevelDB; no Debian library offers it for C++. Mask() is LevelDB's: a CRC stored next to the
// data it covers is rotated and offset, so a CRC of data that itself holds CRCs stays strong and
// an all-zero region never carries a "valid" checksum of zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kiln::wal::crc32c {

// The CRC32C of `init`'s data followed by `data` (Extend(Value(a), b) == Value(a + b)).
uint32_t Extend(uint32_t init, std::span<const std::byte> data);

inline uint32_t Value(std::span<const std::byte> data) {
  return Extend(0, data);
}

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

// The form stored on disk.
inline uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

// Mask's inverse: Unmask(Mask(c)) == c.
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace kiln::wal::crc32c
