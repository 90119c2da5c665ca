// ScanSegment: recovery's verdict on one segment's bytes, as a pure function (no I/O) so that
// every classification can be tested and fuzzed directly. recovery.cc reads the bytes and acts.
//
// Records are decoded in order from the header. The first one that does not decode (record.h)
// ends the clean part, and the question is whether the bytes after it were ever acknowledged:
// - All zeros to the end: the end of the log (kClean).
// - In the last segment, if no later valid record proves that the damaged one was synced: a torn
//   tail (kTornTail). A later record proves it when its durable_lsn (format.h) reaches the
//   damaged LSN: it was written after that LSN's sync succeeded. Damage inside the final,
//   unsynced batch (a crash that kept some of its sectors and lost others) is torn; so is a
//   record cut at the end. Nothing acknowledged is lost by cutting there.
// - Otherwise corruption before the tail (kCorrupt): a non-last segment is always complete
//   (every batch in it was synced before the next segment was created), and a synced record
//   is never changed by a crash, so the damage is outside the durability contract.
// A header that does not decode is a torn rotation (kTornHeader: the segment was being created
// when the power went, and holds nothing) if this is the last segment and no valid record
// follows; otherwise kCorrupt.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/wal/wal.h"

namespace kiln::wal {

// Every this many records a segment remembers an offset, so reads need not start at its head.
inline constexpr uint64_t kIndexStride = 64;

struct SegmentScan {
  enum class Verdict : uint8_t { kClean, kTornTail, kTornHeader, kCorrupt };
  Verdict verdict = Verdict::kClean;
  Lsn first_lsn = 0;       // From the header (the name's LSN for kTornHeader).
  Lsn last_lsn = 0;        // The last good record; first_lsn - 1 if none.
  uint64_t end_bytes = 0;  // Where the good records end: the log continues here.
  // (lsn, offset) of records first_lsn, first_lsn + kIndexStride, ...
  std::vector<std::pair<Lsn, uint64_t>> index;
  // For anything but kClean: what is wrong, where, and (kCorrupt) which LSNs are at stake.
  std::string problem;
  uint64_t problem_offset = 0;
  Lsn stake_lsn_min = 0;
  Lsn stake_lsn_max = 0;  // 0: unknown (only a later segment could tell).
};

// `name_lsn` is the LSN in the segment's file name; `is_last`: no segment follows it.
SegmentScan ScanSegment(std::span<const std::byte> bytes, Lsn name_lsn, bool is_last,
                        uint32_t record_bytes_max);

}  // namespace kiln::wal
