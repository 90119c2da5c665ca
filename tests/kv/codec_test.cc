// The WriteBatch log encoding and the LevelDB key layout. Method: round-trip properties over
// arbitrary batches (any bytes, NUL and 0xff included), then every damaged form of a known
// payload (each truncation, each single-byte change, trailing bytes, absurd counts) must decode
// to Corruption or to a batch, never crash or over-read; finally the layout's ordering.
#include "engine/kv/codec.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "engine/kv/db_layout.h"

namespace kiln::kv {
namespace {

bool SameBatch(const WriteBatch& a, const WriteBatch& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const WriteBatch::Op& x = a.ops()[i];
    const WriteBatch::Op& y = b.ops()[i];
    if (x.is_delete != y.is_delete || x.is_add != y.is_add || x.key != y.key ||
        x.value != y.value || x.delta != y.delta) {
      return false;
    }
  }
  return true;
}

WriteBatch Sample() {
  WriteBatch b;
  b.put("alpha", std::string("v\0\xff", 3));
  b.del(std::string(1, '\0'));
  b.put(std::string("\xff\xff", 2), "");
  return b;
}

RC_GTEST_PROP(KvCodecProperty, RoundTripsArbitraryBatches, ()) {
  const auto ops =
      *rc::gen::container<std::vector<std::tuple<int, std::string, std::string, int64_t>>>(
          rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::arbitrary<std::string>(),
                         rc::gen::arbitrary<std::string>(), rc::gen::arbitrary<int64_t>()));
  WriteBatch batch;
  for (const auto& [kind, key, value, delta] : ops) {
    if (kind == 0) {
      batch.put(key, value);
    } else if (kind == 1) {
      batch.del(key);
    } else {
      batch.add(key, delta);
    }
  }
  const std::string payload = EncodeBatch(batch);
  RC_ASSERT(payload.size() == EncodedBatchBytes(batch));
  Result<WriteBatch> decoded = DecodeBatch(payload);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(SameBatch(*decoded, batch));
}

RC_GTEST_PROP(KvCodecProperty, ArbitraryBytesDecodeOrReportCorruption, ()) {
  const std::string bytes = *rc::gen::arbitrary<std::string>();
  Result<std::vector<OpView>> ops = DecodeBatchViews(bytes);
  if (!ops.ok()) {
    RC_ASSERT(ops.status().IsCorruption());
  } else {
    // Whatever decodes re-encodes to the same bytes: there is one encoding.
    WriteBatch batch;
    for (const OpView& op : *ops) {
      if (op.is_add) {
        batch.add(std::string(op.key), op.delta);
      } else if (op.is_delete) {
        batch.del(std::string(op.key));
      } else {
        batch.put(std::string(op.key), std::string(op.value));
      }
    }
    RC_ASSERT(EncodeBatch(batch) == bytes);
  }
}

TEST(KvCodec, AddsRoundTripWithTheirDeltas) {
  WriteBatch batch;
  batch.add("c", INT64_MIN);
  batch.add("c", -1);
  batch.add(std::string(1, '\0'), INT64_MAX);
  Result<WriteBatch> decoded = DecodeBatch(EncodeBatch(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameBatch(*decoded, batch));
  EXPECT_EQ(decoded->ops()[0].delta, INT64_MIN);
  // A delta cut short is Corruption.
  std::string payload = EncodeBatch(batch);
  payload.pop_back();
  EXPECT_TRUE(DecodeBatch(payload).status().IsCorruption());
}

TEST(KvCodec, ParseInt64AcceptsOnlyWhatToStringWrites) {
  int64_t n = 0;
  EXPECT_TRUE(ParseInt64("-42", &n));
  EXPECT_EQ(n, -42);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &n));
  for (const char* bad : {"", "+1", " 1", "1 ", "9223372036854775808", "1e3", "0x10", "-"}) {
    EXPECT_FALSE(ParseInt64(bad, &n)) << bad;
  }
}

TEST(KvCodec, AllByteValuesRoundTrip) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  WriteBatch batch;
  batch.put(all, all);
  batch.del(all);
  Result<WriteBatch> decoded = DecodeBatch(EncodeBatch(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameBatch(*decoded, batch));
}

TEST(KvCodec, EmptyBatchRoundTrips) {
  Result<WriteBatch> decoded = DecodeBatch(EncodeBatch(WriteBatch()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 0u);
}

TEST(KvCodec, EveryTruncationIsCorruption) {
  const std::string payload = EncodeBatch(Sample());
  for (size_t n = 0; n < payload.size(); ++n) {
    Result<WriteBatch> d = DecodeBatch(payload.substr(0, n));
    EXPECT_TRUE(d.status().IsCorruption()) << "cut at " << n << ": " << d.status().ToString();
  }
}

TEST(KvCodec, TrailingBytesAreCorruption) {
  Result<WriteBatch> d = DecodeBatch(EncodeBatch(Sample()) + "x");
  EXPECT_TRUE(d.status().IsCorruption()) << d.status().ToString();
  EXPECT_NE(d.status().message().find("trailing"), std::string::npos);
}

TEST(KvCodec, EverySingleByteChangeDecodesOrIsCorruption) {
  const std::string payload = EncodeBatch(Sample());
  for (size_t i = 0; i < payload.size(); ++i) {
    for (int delta : {1, 0x80, 0xff}) {
      std::string damaged = payload;
      damaged[i] = static_cast<char>(static_cast<uint8_t>(damaged[i]) + delta);
      Result<WriteBatch> d = DecodeBatch(damaged);
      EXPECT_TRUE(d.ok() || d.status().IsCorruption()) << i << ": " << d.status().ToString();
    }
  }
}

TEST(KvCodec, BadVersionKindAndCountAreCorruption) {
  std::string payload = EncodeBatch(Sample());
  std::string bad_version = payload;
  bad_version[0] = 9;
  EXPECT_NE(DecodeBatch(bad_version).status().message().find("version"), std::string::npos);

  std::string bad_kind = payload;
  bad_kind[kBatchHeaderBytes] = 7;
  EXPECT_NE(DecodeBatch(bad_kind).status().message().find("kind"), std::string::npos);

  std::string huge_count = payload;  // 0xffffffff ops in a few bytes: refused before any reserve.
  for (int i = 1; i <= 4; ++i) huge_count[i] = static_cast<char>(0xff);
  Result<WriteBatch> d = DecodeBatch(huge_count);
  EXPECT_TRUE(d.status().IsCorruption());
  EXPECT_NE(d.status().message().find("op count"), std::string::npos) << d.status().ToString();
}

TEST(KvLayout, UserKeysSortBytewiseAndStayOutsideMetadata) {
  EXPECT_LT(UserKey(std::string(1, '\0')), UserKey("a"));
  EXPECT_LT(UserKey("a"), UserKey(std::string(1, '\xff')));
  EXPECT_LT(UserKey("a"), UserKey(std::string("a\0", 2)));
  EXPECT_EQ(UserKeyOf(UserKey(std::string("k\0", 2))), std::string_view("k\0", 2));
  // No user key can be a metadata key.
  for (std::string_view meta : {kAppliedLsnKey, kCheckpointLsnKey, kBatchMarkerPrefix}) {
    EXPECT_NE(meta[0], kUserPrefix);
  }
}

TEST(KvLayout, LsnsRoundTripAndMarkersSortByLsn) {
  for (wal::Lsn lsn : {wal::Lsn{0}, wal::Lsn{1}, wal::Lsn{255}, wal::Lsn{256}, ~wal::Lsn{0}}) {
    Result<wal::Lsn> back = DecodeLsn(EncodeLsn(lsn), "test");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, lsn);
    Result<wal::Lsn> marker = BatchMarkerLsn(BatchMarkerKey(lsn));
    ASSERT_TRUE(marker.ok());
    EXPECT_EQ(*marker, lsn);
  }
  EXPECT_LT(BatchMarkerKey(255), BatchMarkerKey(256));
  EXPECT_TRUE(DecodeLsn("short", "test").status().IsCorruption());
  EXPECT_TRUE(BatchMarkerLsn("m/other").status().IsCorruption());
}

}  // namespace
}  // namespace kiln::kv
