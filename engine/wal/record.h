// Record and segment-header framing (format.h): the one encoder and the one decoder of WAL bytes.
// Recovery, reads and the fuzzer all decode through DecodeRecord. Pure functions: no I/O, no
// state, so they can be fuzzed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/wal/format.h"
#include "engine/wal/wal.h"

namespace kiln::wal {

// Appends one framed record to `out`. REQUIRES: lsn >= 1; durable_lsn < lsn;
// payload.size() < 2^32.
void EncodeRecord(Lsn lsn, Lsn durable_lsn, uint8_t type, std::span<const std::byte> payload,
                  std::vector<std::byte>* out);

inline size_t RecordBytes(size_t payload_bytes) {
  return format::kRecordHeaderBytes + payload_bytes;
}

struct DecodedRecord {
  // True: there is no record here, only empty or all-zero space (the end of the log).
  bool end = false;
  Lsn lsn = 0;
  Lsn durable_lsn = 0;  // See format.h.
  uint8_t type = 0;
  std::span<const std::byte> payload;  // Points into the bytes given to DecodeRecord.
  size_t size_bytes = 0;               // Header + payload: where the next record starts.
};

// Decodes the record at the start of `bytes` (which may hold more after it). `expected_lsn` is
// the LSN the record must have (0: any); payloads over `payload_bytes_max` are rejected.
//
// The classification, in the order it is checked (each Corruption message says which):
// - `bytes` empty or all zeros: end (space that was never written, or preallocated).
// - fewer than kRecordHeaderBytes left, not all zeros: Corruption (a cut header).
// - an all-zero header with non-zero bytes after it: Corruption (a hole: lost sectors before
//   kept ones). An all-zero header is never a record, since LSN 0 is not a valid LSN.
// - length over payload_bytes_max: Corruption. length past the end of `bytes`: Corruption.
// - CRC mismatch: Corruption (known bug "wal-crc-unchecked" skips this check).
// - lsn == 0 or durable_lsn >= lsn (impossible for a record we wrote): Corruption.
// - lsn != expected_lsn (when expected_lsn != 0): Corruption.
// Otherwise a record. Never anything but a value or Corruption; never reads outside `bytes`.
Result<DecodedRecord> DecodeRecord(std::span<const std::byte> bytes, Lsn expected_lsn,
                                   uint32_t payload_bytes_max);

// The header that starts a segment whose first record has LSN `first_lsn`. REQUIRES: >= 1.
std::array<std::byte, format::kSegmentHeaderBytes> EncodeSegmentHeader(Lsn first_lsn);

// The first LSN from a segment header: Corruption if `bytes` is shorter than a header, or the
// magic, CRC or version is wrong.
Result<Lsn> DecodeSegmentHeader(std::span<const std::byte> bytes);

// "00000000000000000042.wal" for 42.
std::string SegmentName(Lsn first_lsn);
// 42 for "00000000000000000042.wal"; nullopt for any other name (".quarantine" included) and
// for LSN 0.
std::optional<Lsn> ParseSegmentName(std::string_view name);

// Little-endian field access, shared with the readers' quick filters. REQUIRES: in bounds.
uint32_t LoadU32(std::span<const std::byte> bytes, size_t offset);
uint64_t LoadU64(std::span<const std::byte> bytes, size_t offset);

}  // namespace kiln::wal
