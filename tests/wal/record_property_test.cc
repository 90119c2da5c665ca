// Properties of the one WAL decoder and of segment classification over arbitrary bytes. Method:
// RapidCheck generates random bytes, and valid encodings that it then damages (flipped bits,
// overwritten runs, cuts, splices); whatever the input, DecodeRecord returns a record or end or
// Corruption (never another code, never a crash, never a read outside its input), and a valid
// record always decodes to exactly what was encoded.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"

namespace kiln::wal {
namespace {

constexpr uint32_t kMax = 4096;

std::vector<std::byte> ToBytes(const std::vector<uint8_t>& v) {
  std::vector<std::byte> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](uint8_t b) { return std::byte{b}; });
  return out;
}

// The decoder's contract on any input.
void CheckDecode(const std::vector<std::byte>& bytes, Lsn expected) {
  // A private copy, exactly sized, so that a read past the end is caught by sanitizers.
  const std::vector<std::byte> copy(bytes);
  Result<DecodedRecord> r = DecodeRecord(copy, expected, kMax);
  if (!r.ok()) {
    RC_ASSERT(r.status().IsCorruption());
    RC_ASSERT(!r.status().message().empty());
    return;
  }
  const bool zeros =
      std::all_of(copy.begin(), copy.end(), [](std::byte b) { return b == std::byte{0}; });
  RC_ASSERT(r->end == zeros);
  if (r->end) return;
  RC_ASSERT(r->size_bytes <= copy.size());
  RC_ASSERT(r->size_bytes == RecordBytes(r->payload.size()));
  RC_ASSERT(r->payload.data() == copy.data() + format::kRecordHeaderBytes);
  RC_ASSERT(r->lsn >= 1);
  RC_ASSERT(r->durable_lsn < r->lsn);
  const bool lsn_as_expected = expected == 0 || r->lsn == expected;
  RC_ASSERT(lsn_as_expected);
}

RC_GTEST_PROP(RecordProperty, RandomBytesDecodeToARecordEndOrCorruption,
              (const std::vector<uint8_t>& raw, bool expect_any)) {
  CheckDecode(ToBytes(raw), expect_any ? 0 : 1);
}

RC_GTEST_PROP(RecordProperty, ValidRecordsRoundTrip,
              (const std::string& payload, uint8_t type, uint32_t lsn_low, uint8_t back)) {
  RC_PRE(payload.size() <= kMax);
  const Lsn lsn = Lsn{lsn_low} + 1;
  const Lsn durable = lsn > back ? lsn - 1 - std::min<Lsn>(back, lsn - 1) : 0;
  std::vector<std::byte> bytes;
  EncodeRecord(lsn, durable, type,
               std::as_bytes(std::span<const char>(payload.data(), payload.size())), &bytes);
  Result<DecodedRecord> r = DecodeRecord(bytes, lsn, kMax);
  RC_ASSERT(r.ok());
  RC_ASSERT(!r->end);
  RC_ASSERT(r->lsn == lsn);
  RC_ASSERT(r->durable_lsn == durable);
  RC_ASSERT(r->type == type);
  RC_ASSERT(r->size_bytes == bytes.size());
  RC_ASSERT(std::string(reinterpret_cast<const char*>(r->payload.data()), r->payload.size()) ==
            payload);
}

// A valid record damaged in one of several ways: never silently accepted as different data.
RC_GTEST_PROP(RecordProperty, DamagedRecordsAreCorruptionOrEnd,
              (const std::string& payload, uint8_t how, uint32_t where, uint8_t value,
               uint16_t len)) {
  RC_PRE(payload.size() <= kMax);
  std::vector<std::byte> bytes;
  EncodeRecord(5, 4, 1, std::as_bytes(std::span<const char>(payload.data(), payload.size())),
               &bytes);
  const size_t at = where % bytes.size();
  switch (how % 4) {
    case 0:  // One flipped bit.
      bytes[at] ^= std::byte(1u << (value % 8));
      break;
    case 1:  // A run overwritten with one value, as a torn sector holds.
      for (size_t i = at; i < std::min(bytes.size(), at + 1 + len % 64); ++i)
        bytes[i] ^= std::byte{static_cast<uint8_t>(value | 1)};
      break;
    case 2:  // Cut short.
      bytes.resize(at);
      break;
    default:  // Garbage appended: the record itself still decodes.
      bytes.insert(bytes.end(), len % 64, std::byte{value});
      break;
  }
  CheckDecode(bytes, 5);
  Result<DecodedRecord> r = DecodeRecord(bytes, 5, kMax);
  // NOTE: RC_ASSERT decomposes its expression, so && and || inside it do not short-circuit.
  const bool rejected = !r.ok() || r->end;
  if (how % 4 != 3) {
    RC_ASSERT(rejected);
  } else {
    const bool intact = r.ok() && !r->end && r->payload.size() == payload.size();
    RC_ASSERT(intact);
  }
}

// Segment classification never crashes, and its cut is always inside the bytes at a record
// boundary that the decoder agrees with.
RC_GTEST_PROP(RecordProperty, SegmentScanIsTotal,
              (const std::vector<uint8_t>& tail, uint8_t records, bool is_last)) {
  const auto h = EncodeSegmentHeader(1);
  std::vector<std::byte> bytes(h.begin(), h.end());
  for (Lsn lsn = 1; lsn <= records % 8; ++lsn) {
    EncodeRecord(lsn, lsn - 1, 0, std::as_bytes(std::span<const char>("abc", 3)), &bytes);
  }
  const std::vector<std::byte> t = ToBytes(tail);
  bytes.insert(bytes.end(), t.begin(), t.end());
  const SegmentScan s = ScanSegment(bytes, 1, is_last, kMax);
  RC_ASSERT(s.end_bytes <= bytes.size());
  RC_ASSERT(s.last_lsn >= records % 8);
  if (s.verdict == SegmentScan::Verdict::kTornTail) {
    RC_ASSERT(is_last);
  }
  if (s.verdict == SegmentScan::Verdict::kCorrupt) {
    RC_ASSERT(s.stake_lsn_min == s.last_lsn + 1);
  }
}

}  // namespace
}  // namespace kiln::wal
