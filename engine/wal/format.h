// The WAL's on-disk format: the layout and constants that the writer, recovery and readers share
// (after LevelDB's db/log_format.h). Every integer is little-endian. record.h encodes and decodes.
//
// A segment is a file named by its first LSN ("%020llu.wal") that starts with a header:
//   [magic "KILNWAL1" 8][version u32][first_lsn u64][crc u32]
// then holds records back to back, LSNs consecutive from first_lsn:
//   [crc u32][length u32][type u8][lsn u64][durable_lsn u64][payload: length bytes]
// Each crc is a masked CRC32C (crc32c.h) of every byte after the crc field (header: of the 20
// bytes before it), so runs of zeros never checksum to zero. durable_lsn is the newest LSN that
// had been synced when the record was written: every record up to it was acknowledged. Recovery
// uses it to tell damage in the unsynced tail (torn) from damage in synced records (corruption).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kiln::wal::format {

inline constexpr std::string_view kMagic = "KILNWAL1";
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderVersionOffset = 8;
inline constexpr size_t kHeaderFirstLsnOffset = 12;
inline constexpr size_t kHeaderCrcOffset = 20;
inline constexpr size_t kSegmentHeaderBytes = 24;

inline constexpr size_t kRecordLengthOffset = 4;
inline constexpr size_t kRecordTypeOffset = 8;
inline constexpr size_t kRecordLsnOffset = 9;
inline constexpr size_t kRecordDurableLsnOffset = 17;
inline constexpr size_t kRecordHeaderBytes = 25;

inline constexpr size_t kSegmentNameDigits = 20;  // Enough for any uint64_t.
inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr std::string_view kQuarantineSuffix = ".quarantine";
inline constexpr std::string_view kLockName = "LOCK";

static_assert(kMagic.size() == kHeaderVersionOffset);
static_assert(kHeaderFirstLsnOffset == kHeaderVersionOffset + sizeof(uint32_t));
static_assert(kHeaderCrcOffset == kHeaderFirstLsnOffset + sizeof(uint64_t));
static_assert(kSegmentHeaderBytes == kHeaderCrcOffset + sizeof(uint32_t));
static_assert(kRecordLengthOffset == sizeof(uint32_t));
static_assert(kRecordTypeOffset == kRecordLengthOffset + sizeof(uint32_t));
static_assert(kRecordLsnOffset == kRecordTypeOffset + sizeof(uint8_t));
static_assert(kRecordDurableLsnOffset == kRecordLsnOffset + sizeof(uint64_t));
static_assert(kRecordHeaderBytes == kRecordDurableLsnOffset + sizeof(uint64_t));

}  // namespace kiln::wal::format
