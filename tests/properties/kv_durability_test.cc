// Tests of the durability checker: hand-written histories, good ones that must pass and
// known-bad ones (lost acknowledged write, value never written, resurrected old value, missing
// data) that must fail: a checker that cannot fail proves nothing.
#include "properties/kv_durability.h"

#include <gtest/gtest.h>

namespace kiln::properties {
namespace {

using Type = KvOp::Type;
using Outcome = KvOp::Outcome;
using State = std::map<std::string, std::optional<std::string>>;

struct H {
  KvHistory h;
  void put(std::string k, std::string v, bool sync, uint64_t from, uint64_t to,
           Outcome o = Outcome::kOk) {
    size_t i = h.invoke(Type::kPut, k, v, sync, 0, from);
    if (to != kNeverCompleted) h.complete(i, o, "", "", to);
  }
  void del(std::string k, bool sync, uint64_t from, uint64_t to) {
    size_t i = h.invoke(Type::kDelete, k, "", sync, 0, from);
    h.complete(i, Outcome::kOk, "", "", to);
  }
  void get(std::string k, std::optional<std::string> v, uint64_t from, uint64_t to) {
    size_t i = h.invoke(Type::kGet, k, "", false, 1, from);
    h.complete(i, v ? Outcome::kOk : Outcome::kNotFound, v.value_or(""), "", to);
  }
};

TEST(KvDurability, AcknowledgedSyncWriteSurvives) {
  H h;
  h.put("k", "v1", true, 1, 2);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "v1"}}, 10).ok);
}

TEST(KvDurability, LostAcknowledgedSyncWriteFails) {
  H h;
  h.put("k", "v1", true, 1, 2);
  auto r = CheckKvDurability(h.h, {{"k", std::nullopt}}, 10);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("found nothing"), std::string::npos) << r.message;
}

TEST(KvDurability, UnsyncedWriteMayBeLost) {
  H h;
  h.put("k", "v1", false, 1, 2);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", std::nullopt}}, 10).ok);
}

TEST(KvDurability, ValueNeverWrittenFails) {
  H h;
  h.put("k", "v1", true, 1, 2);
  auto r = CheckKvDurability(h.h, {{"k", "garbage"}}, 10);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("never written"), std::string::npos) << r.message;
}

TEST(KvDurability, OlderValueResurrectedAfterSyncOverwriteFails) {
  H h;
  h.put("k", "v1", false, 1, 2);
  h.put("k", "v2", true, 3, 4);
  auto r = CheckKvDurability(h.h, {{"k", "v1"}}, 10);
  EXPECT_FALSE(r.ok) << "v1 was superseded by the acknowledged sync write v2";
}

TEST(KvDurability, WriteAfterLastSyncMaySurviveEvenIfUnacknowledged) {
  H h;
  h.put("k", "v1", true, 1, 2);
  h.put("k", "v2", false, 3, kNeverCompleted);  // The process died mid-write.
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "v2"}}, 10).ok);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "v1"}}, 10).ok);
}

TEST(KvDurability, ConcurrentWritesAreBothCandidates) {
  H h;
  h.put("k", "a", true, 1, 5);
  h.put("k", "b", true, 2, 4);  // Overlaps a: either may have been applied last.
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "a"}}, 10).ok);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "b"}}, 10).ok);
}

TEST(KvDurability, ReadOfFutureWriteFails) {
  H h;
  h.get("k", "v1", 1, 2);
  h.put("k", "v1", true, 3, 4);
  EXPECT_FALSE(CheckKvDurability(h.h, {{"k", "v1"}}, 10).ok);
}

TEST(KvDurability, ReadFindingNothingAfterAcknowledgedSyncPutFails) {
  H h;
  h.put("k", "v1", true, 1, 2);
  h.get("k", std::nullopt, 3, 4);
  EXPECT_FALSE(CheckKvDurability(h.h, {{"k", "v1"}}, 10).ok);
}

TEST(KvDurability, DeleteExplainsNothingFound) {
  H h;
  h.put("k", "v1", true, 1, 2);
  h.del("k", false, 3, 4);
  h.get("k", std::nullopt, 5, 6);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", std::nullopt}}, 10).ok);
  EXPECT_TRUE(CheckKvDurability(h.h, {{"k", "v1"}}, 10).ok);  // The unsynced delete was lost.
}

TEST(KvDurability, ReadsAloneCanBeCheckedAndFail) {
  H h;
  h.put("k", "v1", true, 1, 2);
  EXPECT_TRUE(CheckKvReads(h.h).ok);  // No final state to miss.
  h.get("k", std::nullopt, 3, 4);
  EXPECT_FALSE(CheckKvReads(h.h).ok);
}

TEST(KvDurability, KeyNeverWrittenInFinalStateFails) {
  H h;
  EXPECT_FALSE(CheckKvDurability(h.h, {{"ghost", "x"}}, 10).ok);
}

}  // namespace
}  // namespace kiln::properties
