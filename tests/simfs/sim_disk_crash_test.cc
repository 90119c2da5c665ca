// SimDisk's persistence model under power loss. Method: each test builds a small disk state
// (synced bytes, unsynced writes, directory operations), cuts the power with the crash choice
// forced (crash_with) or swept over seeds, reboots, and compares what survived with what the
// model in sim_disk.h promises. Sector size is small so that short strings span sectors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/bugs.h"
#include "tests/simfs/sim_disk_test_util.h"

namespace kiln::simfs {
namespace {

using testing::LossyFaults;
using testing::Rig;

constexpr CrashChoice kAllChoices[] = {CrashChoice::kSeeded, CrashChoice::kKeepNone,
                                       CrashChoice::kKeepAll, CrashChoice::kKeepPrefix,
                                       CrashChoice::kKeepSubset};

DiskFaults SmallSectors(DiskFaults f) {
  f.sector_bytes = 4;
  return f;
}

TEST(SimDiskCrash, SyncedDataSurvivesEveryCrashChoice) {
  for (CrashChoice choice : kAllChoices) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      DiskFaults f = SmallSectors(LossyFaults());
      f.crash_tears_sectors = true;
      Rig rig(f, seed);
      rig.Put("d0", "synced-bytes-0123456789");
      FileHandle h = rig.Open("d0", {});
      rig.Write(h, 23, "unsynced tail");  // Unsynced bytes next to synced ones, same sectors.
      rig.CrashAndReboot(choice);
      const std::string after = rig.Visible("d0");
      EXPECT_EQ(after.substr(0, 23), "synced-bytes-0123456789") << "seed " << seed;
    }
  }
}

TEST(SimDiskCrash, KeepNoneLosesEveryUnsyncedWrite) {
  Rig rig(SmallSectors(LossyFaults()));
  rig.Put("f", "old!");
  FileHandle h = rig.Open("f", {});
  rig.Write(h, 0, "new!");
  rig.Write(h, 4, "more");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("f"), "old!");
  EXPECT_EQ(rig.disk.fault_counts().unsynced_writes_lost, 2u);
}

TEST(SimDiskCrash, KeepAllKeepsEveryUnsyncedWrite) {
  Rig rig(SmallSectors(LossyFaults()));
  rig.Put("f", "old!");
  FileHandle h = rig.Open("f", {});
  rig.Write(h, 0, "new!");
  rig.Write(h, 4, "more");
  rig.CrashAndReboot(CrashChoice::kKeepAll);
  EXPECT_EQ(rig.Visible("f"), "new!more");
}

TEST(SimDiskCrash, WithoutLossEveryUnsyncedWriteSurvives) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DiskFaults f;  // crash_loses_unsynced = false: as if only the process died.
    Rig rig(f, seed);
    FileHandle h = rig.Open("f");
    rig.Write(h, 0, "never synced");
    ASSERT_TRUE(rig.disk.create_dir("dir").ok());
    rig.CrashAndReboot();
    EXPECT_EQ(rig.Visible("f"), "never synced");
    EXPECT_TRUE(rig.Exists("dir"));
  }
}

// Writes one sector-sized record per sector, in order, without syncing: "AAAABBBBCCCC...".
std::string WriteRecords(Rig& rig, size_t n) {
  FileHandle h = rig.Open("log");
  rig.SyncDir("/");
  std::string all;
  for (size_t i = 0; i < n; ++i) {
    const std::string rec(4, static_cast<char>('A' + i));
    rig.Append(h, rec);
    all += rec;
  }
  return all;
}

// Which records survived: 1 for the record's bytes, 0 for zeros (lost).
std::string Survivors(const std::string& contents, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const bool kept =
        contents.size() >= 4 * (i + 1) && contents[4 * i] == static_cast<char>('A' + i);
    out += kept ? '1' : '0';
  }
  return out;
}

bool IsPrefix(const std::string& pattern) {
  return pattern.find("01") == std::string::npos;
}

TEST(SimDiskCrash, KeepPrefixKeepsAPrefixInIssueOrder) {
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Rig rig(SmallSectors(LossyFaults()), seed);
    WriteRecords(rig, 6);
    rig.CrashAndReboot(CrashChoice::kKeepPrefix);
    const std::string pattern = Survivors(rig.Visible("log"), 6);
    EXPECT_TRUE(IsPrefix(pattern)) << pattern << " seed " << seed;
    // Lost records past the kept prefix also shrink the file: nothing past the prefix exists.
    EXPECT_EQ(rig.Visible("log").size(), 4 * std::count(pattern.begin(), pattern.end(), '1'));
    seen.insert(pattern);
  }
  EXPECT_GT(seen.size(), 3u) << "the seed should pick different prefix lengths";
}

TEST(SimDiskCrash, KeepSubsetKeepsSectorsInAnyOrder) {
  bool saw_gap = false;
  for (uint64_t seed = 1; seed <= 60 && !saw_gap; ++seed) {
    Rig rig(SmallSectors(LossyFaults()), seed);
    WriteRecords(rig, 6);
    rig.CrashAndReboot(CrashChoice::kKeepSubset);
    saw_gap = !IsPrefix(Survivors(rig.Visible("log"), 6));
  }
  EXPECT_TRUE(saw_gap) << "a subset crash should sometimes keep a later sector but not an earlier";
}

TEST(SimDiskCrash, SeededChoiceSometimesLosesAndSometimesKeeps) {
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Rig rig(SmallSectors(LossyFaults()), seed);
    WriteRecords(rig, 4);
    rig.CrashAndReboot();
    seen.insert(Survivors(rig.Visible("log"), 4));
  }
  EXPECT_TRUE(seen.count("0000"));
  EXPECT_TRUE(seen.count("1111"));
  EXPECT_GT(seen.size(), 3u);
}

TEST(SimDiskCrash, AWriteSpanningSectorsIsKeptOrLostPerSector) {
  bool saw_split = false;
  for (uint64_t seed = 1; seed <= 60 && !saw_split; ++seed) {
    Rig rig(SmallSectors(LossyFaults()), seed);
    rig.Put("f", "................");
    FileHandle h = rig.Open("f", {});
    rig.Write(h, 0, "XXXXXXXXXXXXXXXX");  // One write, four sectors.
    rig.CrashAndReboot(CrashChoice::kKeepPrefix);
    const std::string after = rig.Visible("f");
    saw_split = after != "................" && after != "XXXXXXXXXXXXXXXX";
    if (saw_split) {
      EXPECT_EQ(after.find_first_not_of('X') % 4, 0u) << after;
    }
  }
  EXPECT_TRUE(saw_split);
}

TEST(SimDiskCrash, TornSectorsHoldNewOldOrGarbageOnlyInUnsyncedBytes) {
  uint64_t torn = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    DiskFaults f = SmallSectors(LossyFaults());
    f.crash_tears_sectors = true;
    Rig rig(f, seed);
    rig.Put("f", "ssss");
    FileHandle h = rig.Open("f", {});
    rig.Write(h, 2, "uuuuuuuuuuuuuu");  // Sector 0 is half synced, half not.
    rig.CrashAndReboot(CrashChoice::kKeepAll);
    EXPECT_EQ(rig.Visible("f").substr(0, 2), "ss");
    torn += rig.disk.fault_counts().sectors_torn;
  }
  EXPECT_GT(torn, 0u);
}

TEST(SimDiskCrash, FailedSyncLeavesWritesVisibleButNotDurable) {
  Rig rig(LossyFaults());
  rig.Put("f", "old");
  FileHandle h = rig.Open("f", {});
  rig.Write(h, 0, "new");
  DiskFaults f = rig.disk.faults();
  f.sync_error_p = 1;
  rig.disk.set_faults(f);
  EXPECT_TRUE(rig.disk.sync(h).IsIOError());
  EXPECT_EQ(rig.Read(h, 0, 3), "new");
  EXPECT_EQ(rig.Durable("f"), "old");
  EXPECT_EQ(rig.disk.fault_counts().sync_errors, 1u);
}

TEST(SimDiskCrash, RetriedSyncSucceedsButACrashStillLosesTheWrites) {
  Rig rig(LossyFaults());
  rig.Put("f", "old");
  FileHandle h = rig.Open("f", {});
  rig.Write(h, 0, "new");
  DiskFaults f = rig.disk.faults();
  f.sync_error_p = 1;
  rig.disk.set_faults(f);
  EXPECT_TRUE(rig.disk.sync(h).IsIOError());
  f.sync_error_p = 0;
  rig.disk.set_faults(f);
  EXPECT_TRUE(rig.disk.sync(h).ok());  // Nothing left to write: it "succeeds".
  EXPECT_EQ(rig.Durable("f"), "old");
  rig.CrashAndReboot(CrashChoice::kKeepAll);  // Even keeping every unsynced write.
  EXPECT_EQ(rig.Visible("f"), "old");
}

TEST(SimDiskCrash, CrashFreesFilesWithNoDurableName) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  FileHandle h = rig.Open("orphan");
  rig.Write(h, 0, "data that was synced");
  rig.Sync(h);  // The data is durable, its name is not.
  EXPECT_GT(rig.disk.used_bytes(), 0u);
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_FALSE(rig.Exists("orphan"));
  EXPECT_EQ(rig.disk.used_bytes(), 0u);
}

TEST(SimDiskCrash, DeadDiskFailsEverythingAndChangesNothing) {
  Rig rig(LossyFaults());
  rig.Put("f", "kept");
  FileHandle h = rig.Open("f", {});
  rig.disk.crash_with(CrashChoice::kKeepAll);
  ASSERT_TRUE(rig.disk.dead());
  const std::string dead = "IOError: disk is dead (crashed)";
  const std::string before = rig.Durable("f");
  DeterministicRandom probe = rig.random;  // The disk must not draw while dead.
  EXPECT_EQ(rig.disk.open("g", {.create = true}).status().ToString(), dead);
  EXPECT_EQ(rig.disk.write(h, 0, testing::Bytes("x")).ToString(), dead);
  EXPECT_EQ(rig.disk.append(h, testing::Bytes("x")).ToString(), dead);
  EXPECT_EQ(rig.disk.truncate(h, 0).ToString(), dead);
  EXPECT_EQ(rig.disk.sync(h).ToString(), dead);
  EXPECT_EQ(rig.disk.allocate(h, 0, 100).ToString(), dead);
  EXPECT_EQ(rig.disk.size(h).status().ToString(), dead);
  EXPECT_EQ(rig.disk.close(h).ToString(), dead);
  EXPECT_EQ(rig.Read(h, 0, 4), "<" + dead + ">");
  EXPECT_EQ(rig.disk.create_dir("d").ToString(), dead);
  EXPECT_EQ(rig.disk.remove("f").ToString(), dead);
  EXPECT_EQ(rig.disk.rename("f", "g").ToString(), dead);
  EXPECT_EQ(rig.disk.list("/").status().ToString(), dead);
  EXPECT_EQ(rig.disk.sync_dir("/").ToString(), dead);
  EXPECT_EQ(rig.disk.file_size("f").status().ToString(), dead);
  EXPECT_EQ(rig.disk.exists("f").status().ToString(), dead);
  EXPECT_EQ(rig.disk.lock("f").ToString(), dead);
  EXPECT_EQ(rig.disk.unlock("f").ToString(), dead);
  EXPECT_EQ(rig.random.next_u64(), probe.next_u64());
  EXPECT_EQ(rig.Durable("f"), before);
  rig.disk.reboot();
  EXPECT_EQ(rig.Visible("f"), "kept");
  EXPECT_FALSE(rig.Exists("g"));
  EXPECT_FALSE(rig.Exists("d"));
}

TEST(SimDiskCrash, HandlesFromBeforeARebootAreStaleForever) {
  Rig rig;
  FileHandle h = rig.Open("f");
  rig.CrashAndReboot();
  Status s = rig.disk.write(h, 0, testing::Bytes("x"));
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("stale"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("#" + std::to_string(h.id)), std::string::npos) << s.ToString();
  FileHandle fresh = rig.Open("f");
  EXPECT_NE(fresh.id, h.id);
  rig.CrashAndReboot();
  EXPECT_TRUE(rig.disk.read(h, 0, {}).status().IsIOError());  // Still stale, a boot later.
  EXPECT_TRUE(rig.disk.close(fresh).IsIOError());
}

TEST(SimDiskCrash, KnownBugCrashLosesSyncedWrite) {
#if !(defined(KILN_SIMULATION_HOOKS) && KILN_SIMULATION_HOOKS)
  GTEST_SKIP() << "known bugs compile away without KILN_SIMULATION_HOOKS";
#endif
  auto run = [] {
    Rig rig(LossyFaults());
    rig.Put("f", "first");
    FileHandle h = rig.Open("f", {});
    rig.Write(h, 0, "second");
    rig.Sync(h);
    rig.CrashAndReboot(CrashChoice::kKeepAll);
    return rig.Visible("f");
  };
  EXPECT_EQ(run(), "second");
  ASSERT_TRUE(BugRegistry::Instance().enable("simfs-crash-loses-synced").ok());
  const std::string with_bug = run();
  BugRegistry::Instance().disable_all();
  EXPECT_EQ(with_bug, "first");
}

}  // namespace
}  // namespace kiln::simfs

namespace kiln::simfs {
namespace {

// Crash points: power goes out just before the armed operation, which fails without effect.
TEST(SimDiskCrash, CrashBeforeOpLosesPowerExactlyThere) {
  Rig rig;
  FileHandle h = rig.Open("/f");
  rig.Append(h, "one");
  rig.Sync(h);
  rig.SyncDir("/");
  const uint64_t before = rig.disk.ops_started();
  rig.disk.crash_before_op(2);  // The append below is op 1; the sync would be op 2.
  rig.Append(h, "two");
  EXPECT_FALSE(rig.disk.dead());
  Status st = rig.disk.sync(h);
  EXPECT_TRUE(st.IsIOError()) << st.ToString();
  EXPECT_TRUE(rig.disk.dead());
  EXPECT_EQ(rig.disk.ops_started(), before + 1);
  rig.disk.reboot();
  auto durable = rig.disk.durable_contents("/f");
  ASSERT_TRUE(durable.ok());
  EXPECT_EQ(durable->substr(0, 3), "one");  // Synced data survives; "two" never was synced.
}

TEST(SimDiskCrash, DisarmedCrashPointNeverFires) {
  Rig rig;
  FileHandle h = rig.Open("/f");
  rig.disk.crash_before_op(1);
  rig.disk.crash_before_op(0);
  rig.Append(h, "x");
  EXPECT_FALSE(rig.disk.dead());
}

}  // namespace
}  // namespace kiln::simfs
