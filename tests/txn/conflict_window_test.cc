#include "engine/txn/conflict_window.h"

#include <gtest/gtest.h>

namespace kiln::txn {
namespace {

ReadSet Keys(std::initializer_list<const char*> keys) {
  ReadSet r;
  for (const char* k : keys) r.keys.insert(k);
  return r;
}

TEST(ConflictWindow, OnlyCommitsAfterTheReadVersionConflict) {
  ConflictWindow w(100);
  w.committed(w.add({"a"}), 5);
  w.committed(w.add({"b"}), 6);
  EXPECT_TRUE(w.check(5, Keys({"a"})).ok()) << "a at 5 is in what it read";
  EXPECT_TRUE(w.check(4, Keys({"a"})).IsConflict());
  EXPECT_TRUE(w.check(5, Keys({"b"})).IsConflict());
  EXPECT_TRUE(w.check(6, Keys({"a", "b"})).ok());
  EXPECT_TRUE(w.check(4, Keys({"c"})).ok());
}

TEST(ConflictWindow, ACommitInFlightConflictsWithEveryoneUntilItLands) {
  ConflictWindow w(100);
  const uint64_t seq = w.add({"a"});
  EXPECT_TRUE(w.check(1000, Keys({"a"})).IsConflict());
  w.failed(seq);
  EXPECT_TRUE(w.check(0, Keys({"a"})).ok()) << "nothing was written";
}

TEST(ConflictWindow, RangesCoverTheirKeysAndAnEmptyEndMeansToTheLast) {
  ConflictWindow w(100);
  w.committed(w.add({"m"}), 3);
  ReadSet r;
  r.ranges.emplace_back("a", "m");
  EXPECT_TRUE(w.check(1, r).ok()) << "end is exclusive";
  r.ranges.emplace_back("k", "");
  EXPECT_TRUE(w.check(1, r).IsConflict());
}

TEST(ConflictWindow, ForgettingRaisesTheFloorAndOlderReadsAreTooOld) {
  ConflictWindow w(2);
  for (wal::Lsn l = 1; l <= 5; ++l) w.committed(w.add({"k" + std::to_string(l)}), l);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.floor(), 3u);
  EXPECT_TRUE(w.check(2, Keys({"zzz"})).IsTooOld());
  EXPECT_TRUE(w.check(3, Keys({"k4"})).IsConflict());
  EXPECT_TRUE(w.check(3, Keys({"k3"})).ok());
}

TEST(ConflictWindow, AnInFlightCommitIsNeverForgotten) {
  ConflictWindow w(1);
  const uint64_t flying = w.add({"a"});
  w.committed(w.add({"b"}), 2);
  w.committed(w.add({"c"}), 3);
  EXPECT_EQ(w.size(), 3u) << "the oldest is in flight: nothing behind it goes";
  EXPECT_TRUE(w.check(1, Keys({"a"})).IsConflict());
  // A read version at or past a later commit's LSN holds the in-flight one too (sequenced
  // earlier, so a smaller LSN, durable and applied first): no conflict.
  EXPECT_TRUE(w.check(3, Keys({"a"})).ok());
  w.committed(flying, 1);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.floor(), 2u);
}

}  // namespace
}  // namespace kiln::txn
