// ScanSegment: decode a segment's records in order and classify the first bad one (see
// segment_scan.h for the rules and why they hold).
#include "engine/wal/segment_scan.h"

#include <algorithm>
#include <cassert>

#include "engine/runtime/bugs.h"
#include "engine/wal/format.h"
#include "engine/wal/record.h"

namespace kiln::wal {

KILN_DEFINE_BUG(midlog_truncated, "wal-midlog-corruption-truncated",
                "WAL recovery treats corruption before the tail as a torn tail and truncates the "
                "log there, silently dropping acknowledged records");

namespace {

using format::kRecordHeaderBytes;

// What the valid records found after a bad one say.
struct LaterRecords {
  bool found = false;
  Lsn lsn_max = 0;
  Lsn durable_lsn_max = 0;  // The newest LSN any of them proves was synced.
  // A record with LSN lsn_min itself, away from `from` where it belongs. No in-contract fault
  // moves bytes (a crash keeps or loses sectors in place; recovery rewrites a torn tail away),
  // so this is a misdirected write, never a torn tail.
  bool misplaced = false;
};

// Searches byte by byte from `from` (where a record with LSN `lsn_min` should be) for records
// that decode with a good CRC and an LSN of at least `lsn_min`. A quick filter on the LSN field
// rejects almost every offset before a CRC is computed: the records between `from` and `p` take at
// least a header each, so one at `p` has an LSN of at most lsn_min + (p - from) / header + 1.
LaterRecords FindLaterRecords(std::span<const std::byte> bytes, uint64_t from, Lsn lsn_min,
                              uint32_t record_bytes_max) {
  assert(lsn_min >= 1);
  LaterRecords later;
  uint64_t p = from;
  while (p + kRecordHeaderBytes <= bytes.size()) {
    const Lsn lsn = LoadU64(bytes, p + format::kRecordLsnOffset);
    const uint64_t lsn_span = (p - from) / kRecordHeaderBytes + 1;
    if (lsn >= lsn_min && lsn - lsn_min <= lsn_span) {
      Result<DecodedRecord> r = DecodeRecord(bytes.subspan(p), 0, record_bytes_max);
      if (r.ok() && !r->end) {
        later.found = true;
        later.lsn_max = std::max(later.lsn_max, r->lsn);
        later.durable_lsn_max = std::max(later.durable_lsn_max, r->durable_lsn);
        if (r->lsn == lsn_min && p != from) later.misplaced = true;
        p += r->size_bytes;
        continue;
      }
    }
    ++p;
  }
  assert(!later.found || later.lsn_max >= lsn_min);
  return later;
}

SegmentScan ScanBadHeader(std::span<const std::byte> bytes, Lsn name_lsn, bool is_last,
                          uint32_t record_bytes_max, const Status& problem) {
  SegmentScan s;
  s.first_lsn = name_lsn;
  s.last_lsn = name_lsn - 1;
  s.end_bytes = 0;
  s.problem = problem.message();
  s.problem_offset = 0;
  // Records are written only after the header was synced, so one after a bad header means the
  // header was damaged after the fact.
  const LaterRecords later = FindLaterRecords(bytes, 0, name_lsn, record_bytes_max);
  if (is_last && !later.found) {
    s.verdict = SegmentScan::Verdict::kTornHeader;
  } else {
    s.verdict = SegmentScan::Verdict::kCorrupt;
    s.stake_lsn_min = name_lsn;
    s.stake_lsn_max = later.lsn_max;
  }
  return s;
}

}  // namespace

SegmentScan ScanSegment(std::span<const std::byte> bytes, Lsn name_lsn, bool is_last,
                        uint32_t record_bytes_max) {
  assert(name_lsn >= 1);
  Result<Lsn> first = DecodeSegmentHeader(bytes);
  if (!first.ok()) return ScanBadHeader(bytes, name_lsn, is_last, record_bytes_max, first.status());
  SegmentScan s;
  s.first_lsn = *first;
  if (*first != name_lsn) {
    s.verdict = SegmentScan::Verdict::kCorrupt;
    s.last_lsn = *first - 1;
    s.problem = "segment header names first LSN " + std::to_string(*first);
    s.stake_lsn_min = std::min(*first, name_lsn);
    return s;
  }
  uint64_t offset = format::kSegmentHeaderBytes;
  Lsn expected = *first;
  Status problem;
  while (offset <= bytes.size()) {  // Bounded: each record moves `offset` forward.
    Result<DecodedRecord> r = DecodeRecord(bytes.subspan(offset), expected, record_bytes_max);
    if (!r.ok()) {
      problem = r.status();
      break;
    }
    if (r->end) break;
    if ((expected - *first) % kIndexStride == 0) s.index.emplace_back(expected, offset);
    offset += r->size_bytes;
    ++expected;
  }
  s.last_lsn = expected - 1;
  s.end_bytes = offset;
  if (problem.ok()) return s;  // kClean: the rest, if any, is zeros.
  s.problem = problem.message();
  s.problem_offset = offset;
  s.stake_lsn_min = expected;
  const LaterRecords later = FindLaterRecords(bytes, offset, expected, record_bytes_max);
  const bool proven_synced = later.found && later.durable_lsn_max >= expected;
  if (is_last && ((!proven_synced && !later.misplaced) || KILN_BUG(midlog_truncated))) {
    s.verdict = SegmentScan::Verdict::kTornTail;
  } else {
    s.verdict = SegmentScan::Verdict::kCorrupt;
    s.stake_lsn_max = later.lsn_max;
  }
  assert(s.end_bytes <= bytes.size());
  return s;
}

}  // namespace kiln::wal
