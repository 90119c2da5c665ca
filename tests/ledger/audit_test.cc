// The audit record of a resolution. Method: a golden encoding pins the version-1 layout; every
// resolution Resolve makes round-trips (property); scores round-trip bit for bit (NaN, -0.0);
// then every damaged form of a known record (each truncation, each single-byte change, trailing
// bytes, absurd counts) and arbitrary bytes decode to Corruption or to a record that re-encodes
// to exactly those bytes, never crash, over-read or allocate what the input cannot hold.
#include "engine/ledger/audit.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tests/ledger/lens_test_util.h"

namespace kiln::ledger {
namespace {

using lens_testing::Id;
using lens_testing::kT0;
using lens_testing::MakeStored;

// Equality with scores compared bit for bit, so NaN and -0.0 count.
bool SameBits(const Resolution& a, const Resolution& b) {
  if (a.candidates.size() != b.candidates.size()) return false;
  for (size_t i = 0; i < a.candidates.size(); ++i) {
    if (std::memcmp(&a.candidates[i].score, &b.candidates[i].score, sizeof(double)) != 0) {
      return false;
    }
  }
  Resolution x = a, y = b;
  for (Candidate& c : x.candidates) c.score = 0;
  for (Candidate& c : y.candidates) c.score = 0;
  return x == y;
}

Resolution Sample() {
  return Resolve("s", "p",
                 {MakeStored({.id_head = "a", .timestamp_us = kT0 + 1, .weight_micros = 5}),
                  MakeStored({.id_head = "b", .weight_micros = 5, .retracted = true})},
                 {.rule = LensRule::kConsensus, .include_superseded = true});
}

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(Audit, GoldenEncodingOfVersionOne) {
  Resolution r;
  r.subject = "s";
  r.predicate = "pq";
  r.rule = LensRule::kConfidence;
  r.include_retracted = true;
  r.winner = "i";
  r.decided_by = std::string(kDecidedByOnlyCandidate);
  r.candidates = {{"i", 1.0, 2, true, ""}, {"j", -0.0, -1, false, "superseded"}};
  const std::string expected =
      "01"                // version
      "03"                // rule: confidence
      "02"                // flags: include_retracted
      "0000000173"        // subject "s"
      "000000027071"      // predicate "pq"
      "01"                // decided_by: only candidate
      "00000002"          // two candidates
      "0000000169"        // id "i"
      "3ff0000000000000"  // score 1.0
      "0000000000000002"  // timestamp 2
      "00"                // eligible
      "000000016a"        // id "j"
      "8000000000000000"  // score -0.0
      "ffffffffffffffff"  // timestamp -1
      "02";               // superseded
  EXPECT_EQ(Hex(EncodeResolution(r)), expected);
  Result<Resolution> back = DecodeResolution(EncodeResolution(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameBits(*back, r));
}

TEST(Audit, ScoresRoundTripBitForBit) {
  Resolution r = Sample();
  r.candidates[0].score = std::numeric_limits<double>::quiet_NaN();
  r.candidates[1].score = -std::numeric_limits<double>::infinity();
  Result<Resolution> back = DecodeResolution(EncodeResolution(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameBits(*back, r));
  EXPECT_TRUE(std::isnan(back->candidates[0].score));
}

TEST(Audit, EmptyResolutionRoundTrips) {
  const Resolution r = Resolve("", "", {}, {});
  Result<Resolution> back = DecodeResolution(EncodeResolution(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

RC_GTEST_PROP(AuditProperty, EveryResolutionRoundTrips, ()) {
  const std::string subject = *rc::gen::arbitrary<std::string>();
  const std::string predicate = *rc::gen::arbitrary<std::string>();
  const Resolution r =
      Resolve(subject, predicate, *lens_testing::GenTieDenseStoredList(subject, predicate),
              *lens_testing::GenLensOptions());
  const std::string bytes = EncodeResolution(r);
  Result<Resolution> back = DecodeResolution(bytes);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == r);
  RC_ASSERT(EncodeResolution(*back) == bytes);
}

// Whatever decodes is a well-formed resolution that re-encodes to the same bytes.
void ExpectCorruptionOrCanonical(const std::string& bytes) {
  Result<Resolution> r = DecodeResolution(bytes);
  if (!r.ok()) {
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    return;
  }
  EXPECT_TRUE(CheckResolution(*r).ok());
  EXPECT_EQ(EncodeResolution(*r), bytes);
}

TEST(Audit, EveryTruncationIsCorruption) {
  const std::string bytes = EncodeResolution(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<Resolution> r = DecodeResolution(bytes.substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(r.status().IsCorruption()) << n << ": " << r.status().ToString();
  }
}

TEST(Audit, TrailingBytesAreCorruption) {
  Result<Resolution> r = DecodeResolution(EncodeResolution(Sample()) + std::string(1, '\0'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos) << r.status().ToString();
}

TEST(Audit, EverySingleByteChangeIsCorruptionOrCanonical) {
  const std::string bytes = EncodeResolution(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int v = 0; v < 256; ++v) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(v);
      ExpectCorruptionOrCanonical(damaged);
    }
  }
}

TEST(Audit, UnknownCodesAndBrokenInvariantsAreCorruption) {
  const std::string good = EncodeResolution(Sample());
  auto with = [&](size_t at, char v) {
    std::string b = good;
    b[at] = v;
    return DecodeResolution(b).status();
  };
  EXPECT_NE(with(0, 2).message().find("unknown version 2"), std::string::npos);
  EXPECT_NE(with(1, 4).message().find("unknown rule"), std::string::npos);
  EXPECT_NE(with(2, 4).message().find("unknown flags"), std::string::npos);
  // Header: 3 bytes, subject 5, predicate 5; decided_by at 13; count at 14..17.
  EXPECT_NE(with(13, 9).message().find("unknown decided_by"), std::string::npos);
  EXPECT_NE(with(13, 2).message().find("decided_by"), std::string::npos);  // One eligible.
  EXPECT_TRUE(with(17, 3).IsCorruption());
}

TEST(Audit, AbsurdCandidateCountsAreRefusedBeforeAllocating) {
  std::string header = EncodeResolution(Resolve("s", "p", {}, {}));
  ASSERT_EQ(header.size(), 18u);
  header.resize(14);
  for (const char* count : {"\xff\xff\xff\xff", "\x00\x01\x86\xa1", "\x00\x00\x00\x02"}) {
    Result<Resolution> r = DecodeResolution(header + std::string(count, 4));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
}

RC_GTEST_PROP(AuditProperty, ArbitraryBytesDecodeOrReportCorruption, ()) {
  const auto bytes =
      *rc::gen::oneOf(rc::gen::arbitrary<std::string>(),
                      // A valid header, then anything.
                      rc::gen::map(rc::gen::arbitrary<std::string>(), [](const std::string& tail) {
                        return EncodeResolution(Resolve("s", "p", {}, {})).substr(0, 14) + tail;
                      }));
  Result<Resolution> r = DecodeResolution(bytes);
  if (!r.ok()) {
    RC_ASSERT(r.status().IsCorruption());
  } else {
    RC_ASSERT(EncodeResolution(*r) == bytes);
  }
}

}  // namespace
}  // namespace kiln::ledger
