// CRC32C, record framing and segment classification: pure functions, so each test builds bytes
// by hand (with the encoder, then damages them as a crash or a bad disk would) and checks the
// exact verdict, down to the message that names the problem.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/wal/crc32c.h"
#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"
#include "tests/wal/wal_test_util.h"

namespace kiln::wal {
namespace {

using testing::Bytes;
using Verdict = SegmentScan::Verdict;

constexpr uint32_t kMax = 1024;

std::vector<std::byte> Repeat(uint8_t value, size_t n) {
  return std::vector<std::byte>(n, std::byte{value});
}

// --- CRC32C ---

TEST(Crc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c::Value(Bytes("123456789")), 0xe3069283u);
}

TEST(Crc32c, KnownVectorsFromRfc3720) {
  EXPECT_EQ(crc32c::Value(Repeat(0x00, 32)), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(Repeat(0xff, 32)), 0x62a8ab43u);
  std::vector<std::byte> up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = std::byte(i);
    down[i] = std::byte(31 - i);
  }
  EXPECT_EQ(crc32c::Value(up), 0x46dd794eu);
  EXPECT_EQ(crc32c::Value(down), 0x113fdb5cu);
  EXPECT_EQ(crc32c::Value({}), 0u);
}

TEST(Crc32c, ExtendIsConcatenation) {
  const std::string s = "hello, write-ahead log";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    const uint32_t a = crc32c::Value(Bytes(s.substr(0, cut)));
    EXPECT_EQ(crc32c::Extend(a, Bytes(s.substr(cut))), crc32c::Value(Bytes(s))) << cut;
  }
}

TEST(Crc32c, MaskRoundTripsAndHidesZero) {
  const uint32_t crc = crc32c::Value(Bytes("foo"));
  EXPECT_NE(crc32c::Mask(crc), crc);
  EXPECT_NE(crc32c::Mask(crc32c::Mask(crc)), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(crc)), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(crc32c::Mask(crc))), crc32c::Mask(crc));
  EXPECT_NE(crc32c::Mask(0), 0u);
}

// --- Records ---

std::vector<std::byte> Encoded(Lsn lsn, Lsn durable, std::string_view payload, uint8_t type = 3) {
  std::vector<std::byte> out;
  EncodeRecord(lsn, durable, type, Bytes(payload), &out);
  return out;
}

std::string Problem(std::span<const std::byte> bytes, Lsn expected = 0) {
  Result<DecodedRecord> r = DecodeRecord(bytes, expected, kMax);
  if (r.ok()) return r->end ? "end" : "record";
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  return r.status().message();
}

TEST(Record, RoundTrips) {
  std::vector<std::byte> bytes = Encoded(7, 5, "payload");
  ASSERT_EQ(bytes.size(), RecordBytes(7));
  const std::vector<std::byte> next = Encoded(8, 5, "");
  bytes.insert(bytes.end(), next.begin(), next.end());
  Result<DecodedRecord> r = DecodeRecord(bytes, 7, kMax);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->end);
  EXPECT_EQ(r->lsn, 7u);
  EXPECT_EQ(r->durable_lsn, 5u);
  EXPECT_EQ(r->type, 3);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->payload.data()), r->payload.size()),
            "payload");
  EXPECT_EQ(r->size_bytes, RecordBytes(7));
  Result<DecodedRecord> second = DecodeRecord(std::span(bytes).subspan(r->size_bytes), 8, kMax);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->lsn, 8u);
  EXPECT_TRUE(second->payload.empty());
}

TEST(Record, EmptyAndZerosAreTheEnd) {
  EXPECT_EQ(Problem({}), "end");
  EXPECT_EQ(Problem(Repeat(0, 3)), "end");
  EXPECT_EQ(Problem(Repeat(0, 4096)), "end");
}

TEST(Record, EachKindOfDamageIsCorruptionSayingWhich) {
  const std::vector<std::byte> good = Encoded(7, 5, "payload");
  EXPECT_EQ(Problem(std::span(good).first(10)), "truncated record header: 10 bytes left");
  std::vector<std::byte> hole = Repeat(0, 100);
  hole[60] = std::byte{1};
  EXPECT_EQ(Problem(hole), "zero record header followed by non-zero bytes");
  EXPECT_EQ(Problem(std::span(good).first(good.size() - 1)),
            "record length 7 runs past the end (6 bytes left)");
  EXPECT_EQ(Problem(Encoded(1, 0, std::string(kMax + 1, 'x'))),
            "record length 1025 over the maximum 1024");
  std::vector<std::byte> flipped = good;
  flipped.back() ^= std::byte{1};
  EXPECT_EQ(Problem(flipped), "record checksum mismatch");
  EXPECT_EQ(Problem(good, 8), "record LSN 7 where 8 was expected");
  EXPECT_EQ(Problem(good, 7), "record");
  EXPECT_EQ(Problem(good, 0), "record");
}

TEST(Record, ImpossibleLsnsAreCorruptionEvenWithAGoodChecksum) {
  // Hand-framed: the encoder refuses these, but a disk might hold them.
  std::vector<std::byte> bytes = Encoded(5, 4, "x");
  bytes[format::kRecordDurableLsnOffset] = std::byte{9};  // durable_lsn 9 >= lsn 5
  const std::span<const std::byte> covered = std::span(bytes).subspan(4);
  const uint32_t crc = crc32c::Mask(crc32c::Value(covered));
  for (int i = 0; i < 4; ++i) bytes[i] = std::byte(crc >> (8 * i));
  EXPECT_EQ(Problem(bytes), "impossible record LSNs: lsn 5, durable_lsn 9");
}

TEST(Record, EverySingleBitFlipIsDetected) {
  const std::vector<std::byte> good = Encoded(3, 2, "some payload bytes");
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<std::byte> bad = good;
    bad[bit / 8] ^= std::byte(1u << (bit % 8));
    Result<DecodedRecord> r = DecodeRecord(bad, 3, kMax);
    EXPECT_TRUE(r.status().IsCorruption()) << "bit " << bit;
  }
}

TEST(SegmentHeader, RoundTripsAndRejectsDamage) {
  const auto h = EncodeSegmentHeader(42);
  Result<Lsn> first = DecodeSegmentHeader(h);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 42u);
  EXPECT_TRUE(DecodeSegmentHeader(std::span(h).first(10)).status().IsCorruption());
  for (size_t i = 0; i < h.size(); ++i) {
    auto bad = h;
    bad[i] ^= std::byte{0x10};
    EXPECT_TRUE(DecodeSegmentHeader(bad).status().IsCorruption()) << i;
  }
}

TEST(SegmentName, IsTheFirstLsnZeroPadded) {
  EXPECT_EQ(SegmentName(42), "00000000000000000042.wal");
  EXPECT_EQ(SegmentName(UINT64_MAX), "18446744073709551615.wal");
  EXPECT_EQ(ParseSegmentName("00000000000000000042.wal"), 42u);
  EXPECT_EQ(ParseSegmentName("18446744073709551615.wal"), UINT64_MAX);
  EXPECT_FALSE(ParseSegmentName("18446744073709551616.wal").has_value());
  EXPECT_FALSE(ParseSegmentName("00000000000000000000.wal").has_value());
  EXPECT_FALSE(ParseSegmentName("00000000000000000042.wal.quarantine").has_value());
  EXPECT_FALSE(ParseSegmentName("0000000000000000042.wal").has_value());
  EXPECT_FALSE(ParseSegmentName("LOCK").has_value());
}

// --- Segment classification ---

// A segment starting at `first` with records first.. (payload "r<lsn>"); record i was written
// when `durable[i]` was durable.
std::vector<std::byte> Segment(Lsn first, const std::vector<Lsn>& durable) {
  const auto h = EncodeSegmentHeader(first);
  std::vector<std::byte> bytes(h.begin(), h.end());
  for (size_t i = 0; i < durable.size(); ++i) {
    EncodeRecord(first + i, durable[i], 1, Bytes("r" + std::to_string(first + i)), &bytes);
  }
  return bytes;
}

uint64_t OffsetOf(Lsn first, Lsn lsn) {
  uint64_t at = format::kSegmentHeaderBytes;
  for (Lsn l = first; l < lsn; ++l) at += RecordBytes(("r" + std::to_string(l)).size());
  return at;
}

TEST(SegmentScan, CleanSegmentAndZeroTail) {
  std::vector<std::byte> bytes = Segment(10, {9, 9, 11});
  SegmentScan s = ScanSegment(bytes, 10, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kClean);
  EXPECT_EQ(s.first_lsn, 10u);
  EXPECT_EQ(s.last_lsn, 12u);
  EXPECT_EQ(s.end_bytes, bytes.size());
  ASSERT_EQ(s.index.size(), 1u);
  EXPECT_EQ(s.index[0], std::make_pair(Lsn{10}, uint64_t{format::kSegmentHeaderBytes}));
  const size_t end = bytes.size();
  bytes.resize(end + 300);  // Zeros: space that was extended but never written.
  s = ScanSegment(bytes, 10, false, kMax);
  EXPECT_EQ(s.verdict, Verdict::kClean);
  EXPECT_EQ(s.end_bytes, end);
}

TEST(SegmentScan, GarbageAfterTheLastRecordIsATornTail) {
  std::vector<std::byte> bytes = Segment(1, {0, 1, 2});
  const size_t end = bytes.size();
  const std::vector<std::byte> cut = Encoded(4, 3, "r4");
  bytes.insert(bytes.end(), cut.begin(), cut.begin() + 20);
  SegmentScan s = ScanSegment(bytes, 1, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kTornTail);
  EXPECT_EQ(s.end_bytes, end);
  EXPECT_EQ(s.last_lsn, 3u);
  EXPECT_EQ(s.problem_offset, end);
  // The same bytes in a segment that is not the last: corruption.
  s = ScanSegment(bytes, 1, false, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.stake_lsn_min, 4u);
}

TEST(SegmentScan, AHoleInTheUnsyncedBatchIsATornTail) {
  // LSN 3..5 were one unsynced batch (durable_lsn 2); a crash lost LSN 3's sectors and kept 4, 5.
  std::vector<std::byte> bytes = Segment(1, {0, 1, 2, 2, 2});
  const uint64_t at = OffsetOf(1, 3);
  for (uint64_t i = at; i < OffsetOf(1, 4); ++i) bytes[i] = std::byte{0};
  SegmentScan s = ScanSegment(bytes, 1, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kTornTail);
  EXPECT_EQ(s.last_lsn, 2u);
  EXPECT_EQ(s.end_bytes, at);
}

TEST(SegmentScan, DamageThatALaterRecordProvesSyncedIsCorruption) {
  // LSN 5 was written after LSN 3's sync (durable_lsn 3): LSN 3 was acknowledged.
  std::vector<std::byte> bytes = Segment(1, {0, 1, 2, 3, 3, 5});
  bytes[OffsetOf(1, 3) + format::kRecordHeaderBytes] ^= std::byte{1};
  SegmentScan s = ScanSegment(bytes, 1, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.problem, "record checksum mismatch");
  EXPECT_EQ(s.problem_offset, OffsetOf(1, 3));
  EXPECT_EQ(s.stake_lsn_min, 3u);
  EXPECT_EQ(s.stake_lsn_max, 6u);
}

TEST(SegmentScan, TheExpectedRecordFoundElsewhereIsCorruption) {
  // Found by the spine scenario under misdirect: the last batch (LSN 3, 4, never followed by a
  // record proving it synced) landed 512 bytes past its place. A torn tail never moves bytes.
  std::vector<std::byte> bytes = Segment(1, {0, 1, 2, 2});
  const uint64_t at = OffsetOf(1, 3);
  std::vector<std::byte> moved(bytes.begin() + static_cast<ptrdiff_t>(at), bytes.end());
  bytes.resize(at);
  bytes.resize(at + 512, std::byte{0});
  bytes.insert(bytes.end(), moved.begin(), moved.end());
  SegmentScan s = ScanSegment(bytes, 1, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.problem_offset, at);
  EXPECT_EQ(s.stake_lsn_min, 3u);
  EXPECT_EQ(s.stake_lsn_max, 4u);
}

TEST(SegmentScan, AMissingLsnInTheMiddleIsCorruption) {
  // LSN 3 is gone (its bytes cut out), and LSN 4 proves it was synced.
  std::vector<std::byte> bytes = Segment(1, {0, 1, 2, 3});
  bytes.erase(bytes.begin() + OffsetOf(1, 3), bytes.begin() + OffsetOf(1, 4));
  SegmentScan s = ScanSegment(bytes, 1, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.problem, "record LSN 4 where 3 was expected");
}

TEST(SegmentScan, ABadHeaderIsATornRotationOnlyWhenNothingFollows) {
  std::vector<std::byte> bytes(10, std::byte{0x33});
  SegmentScan s = ScanSegment(bytes, 7, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kTornHeader);
  EXPECT_EQ(s.first_lsn, 7u);
  EXPECT_EQ(ScanSegment({}, 7, true, kMax).verdict, Verdict::kTornHeader);
  EXPECT_EQ(ScanSegment(bytes, 7, false, kMax).verdict, Verdict::kCorrupt);
  bytes = Segment(7, {6, 7});
  bytes[0] ^= std::byte{1};
  s = ScanSegment(bytes, 7, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.stake_lsn_max, 8u);
}

TEST(SegmentScan, AHeaderThatDisagreesWithTheNameIsCorruption) {
  SegmentScan s = ScanSegment(Segment(7, {6}), 8, true, kMax);
  EXPECT_EQ(s.verdict, Verdict::kCorrupt);
  EXPECT_EQ(s.problem, "segment header names first LSN 7");
}

TEST(SegmentScan, IndexesEveryStrideRecords) {
  std::vector<Lsn> durable;
  for (Lsn l = 0; l < 2 * kIndexStride + 1; ++l) durable.push_back(l);
  SegmentScan s = ScanSegment(Segment(1, durable), 1, true, kMax);
  ASSERT_EQ(s.index.size(), 3u);
  EXPECT_EQ(s.index[1].first, 1 + kIndexStride);
  EXPECT_EQ(s.index[1].second, OffsetOf(1, 1 + kIndexStride));
  EXPECT_EQ(s.index[2].first, 1 + 2 * kIndexStride);
}

}  // namespace
}  // namespace kiln::wal
