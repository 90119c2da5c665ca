// SimDisk's names: directory operations, their durability per DirCrashMode, rename, paths and
// locks. Method: issue directory operations, make some durable (sync_dir, or a file sync in
// journal mode), cut the power with the choice forced or swept over seeds, and check which
// names survive.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/simfs/sim_disk_test_util.h"

namespace kiln::simfs {
namespace {

using testing::LossyFaults;
using testing::Rig;

std::vector<std::string> List(Rig& rig, std::string_view dir) {
  Result<std::vector<std::string>> r = rig.disk.list(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(SimDiskNames, DirOpIsLostWithoutSyncDir) {
  for (DirCrashMode mode :
       {DirCrashMode::kJournal, DirCrashMode::kPrefix, DirCrashMode::kAnySubset}) {
    Rig rig(LossyFaults(mode));
    FileHandle h = rig.Open("f");
    rig.Write(h, 0, "data");
    EXPECT_TRUE(rig.disk.close(h).ok());
    ASSERT_TRUE(rig.disk.create_dir("d").ok());
    rig.CrashAndReboot(CrashChoice::kKeepNone);
    EXPECT_FALSE(rig.Exists("f"));
    EXPECT_FALSE(rig.Exists("d"));
    EXPECT_EQ(rig.disk.fault_counts().dir_ops_lost, 2u);
  }
}

TEST(SimDiskNames, SyncDirMakesItsDirOpsDurable) {
  for (DirCrashMode mode :
       {DirCrashMode::kJournal, DirCrashMode::kPrefix, DirCrashMode::kAnySubset}) {
    Rig rig(LossyFaults(mode));
    ASSERT_TRUE(rig.disk.create_dir("d").ok());
    rig.Put("d/f", "synced");  // Syncs "d", not "/".
    rig.SyncDir("/");
    ASSERT_TRUE(rig.disk.remove("d/f").ok());
    rig.SyncDir("d");
    rig.CrashAndReboot(CrashChoice::kKeepNone);
    EXPECT_TRUE(rig.Exists("d"));
    EXPECT_FALSE(rig.Exists("d/f"));
  }
}

TEST(SimDiskNames, PrefixModeSyncDirCoversOnlyItsOwnDirectory) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  ASSERT_TRUE(rig.disk.create_dir("a").ok());
  ASSERT_TRUE(rig.disk.create_dir("b").ok());
  rig.SyncDir("/");
  FileHandle fa = rig.Open("a/x");
  FileHandle fb = rig.Open("b/y");
  rig.SyncDir("b");
  EXPECT_EQ(rig.Durable("a/x").substr(0, 9), "<NotFound");
  EXPECT_EQ(rig.Durable("b/y"), "");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_FALSE(rig.Exists("a/x"));
  EXPECT_TRUE(rig.Exists("b/y"));
  (void)fa, (void)fb;
}

TEST(SimDiskNames, JournalModeFileSyncCommitsEveryEarlierDirOp) {
  Rig rig(LossyFaults(DirCrashMode::kJournal));
  ASSERT_TRUE(rig.disk.create_dir("d").ok());
  FileHandle other = rig.Open("d/other");
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "data");
  rig.Sync(h);  // Commits the journal: "d", "d/other" and "f" are durable.
  ASSERT_TRUE(rig.disk.rename("d/other", "d/renamed").ok());  // After the commit: not durable.
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("f"), "data");
  EXPECT_TRUE(rig.Exists("d/other"));
  EXPECT_FALSE(rig.Exists("d/renamed"));
  (void)other;
}

TEST(SimDiskNames, PrefixModeFileSyncDoesNotCommitDirOps) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "data");
  rig.Sync(h);
  EXPECT_EQ(rig.Durable("f").substr(0, 9), "<NotFound");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_FALSE(rig.Exists("f"));
}

// Creates f0..f{n-1} without syncing anything, crashes with the seeded choice, and returns
// which names survived as a pattern like "11100".
std::string CreateAndCrash(DirCrashMode mode, uint64_t seed, int n) {
  Rig rig(LossyFaults(mode), seed);
  for (int i = 0; i < n; ++i) rig.Open("f" + std::to_string(i));
  rig.CrashAndReboot();
  std::string pattern;
  for (int i = 0; i < n; ++i) pattern += rig.Exists("f" + std::to_string(i)) ? '1' : '0';
  return pattern;
}

TEST(SimDiskNames, JournalAndPrefixModesKeepAPrefixOfDirOps) {
  for (DirCrashMode mode : {DirCrashMode::kJournal, DirCrashMode::kPrefix}) {
    std::set<std::string> seen;
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      const std::string pattern = CreateAndCrash(mode, seed, 5);
      EXPECT_EQ(pattern.find("01"), std::string::npos) << pattern << " seed " << seed;
      seen.insert(pattern);
    }
    EXPECT_GT(seen.size(), 3u);
  }
}

TEST(SimDiskNames, AnySubsetModeKeepsAnySubsetOfDirOps) {
  bool saw_gap = false;
  for (uint64_t seed = 1; seed <= 60 && !saw_gap; ++seed) {
    saw_gap = CreateAndCrash(DirCrashMode::kAnySubset, seed, 5).find("01") != std::string::npos;
  }
  EXPECT_TRUE(saw_gap);
}

TEST(SimDiskNames, AnySubsetModeSkipsDirOpsThatCannotApply) {
  // create a; rename a->b; create a again: any subset must replay to a consistent tree.
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Rig rig(LossyFaults(DirCrashMode::kAnySubset), seed);
    FileHandle h = rig.Open("a");
    rig.Write(h, 0, "first");
    rig.Sync(h);
    ASSERT_TRUE(rig.disk.rename("a", "b").ok());
    FileHandle h2 = rig.Open("a");
    rig.Write(h2, 0, "second");
    rig.Sync(h2);
    rig.CrashAndReboot();
    const std::vector<std::string> names = List(rig, "/");
    EXPECT_LE(names.size(), 2u);
    for (const std::string& n : names) {
      const std::string v = rig.Visible(n);
      EXPECT_TRUE(v == "first" || v == "second") << n << "=" << v << " seed " << seed;
    }
    if (rig.Exists("b")) {
      EXPECT_EQ(rig.Visible("b"), "first");
    }
  }
}

TEST(SimDiskNames, RenameReplacesTheTargetAtomically) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  rig.Put("a", "new version");
  rig.Put("b", "old version");
  ASSERT_TRUE(rig.disk.rename("a", "b").ok());
  EXPECT_EQ(rig.Visible("b"), "new version");
  EXPECT_FALSE(rig.Exists("a"));
  EXPECT_EQ(List(rig, "/"), std::vector<std::string>{"b"});
  // Not yet durable: a crash brings back the old names, never a state with "b" missing.
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("a"), "new version");
  EXPECT_EQ(rig.Visible("b"), "old version");
  ASSERT_TRUE(rig.disk.rename("a", "b").ok());
  rig.SyncDir("/");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("b"), "new version");
  EXPECT_FALSE(rig.Exists("a"));
}

TEST(SimDiskNames, RenameAcrossDirectoriesIsInvalidArgument) {
  Rig rig;
  ASSERT_TRUE(rig.disk.create_dir("d").ok());
  rig.Open("f");
  EXPECT_TRUE(rig.disk.rename("f", "d/f").IsInvalidArgument());
  EXPECT_TRUE(rig.Exists("f"));
  EXPECT_TRUE(rig.disk.rename("missing", "other").IsNotFound());
}

TEST(SimDiskNames, RenameOfADirectoryKeepsItsChildren) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  ASSERT_TRUE(rig.disk.create_dir("d").ok());
  rig.SyncDir("/");
  rig.Put("d/f", "child");
  ASSERT_TRUE(rig.disk.rename("d", "e").ok());
  EXPECT_EQ(rig.Visible("e/f"), "child");
  rig.SyncDir("/");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("e/f"), "child");
  EXPECT_FALSE(rig.Exists("d"));
}

TEST(SimDiskNames, CreateInAMissingParentIsNotFound) {
  Rig rig;
  EXPECT_TRUE(rig.disk.open("nodir/f", {.create = true}).status().IsNotFound());
  EXPECT_TRUE(rig.disk.create_dir("nodir/sub").IsNotFound());
  EXPECT_TRUE(rig.disk.open("missing", {}).status().IsNotFound());
}

TEST(SimDiskNames, PathsAreNormalizedAndValidated) {
  Rig rig;
  rig.Put("/f", "x");
  EXPECT_EQ(rig.Visible("f"), "x");
  EXPECT_EQ(rig.Visible("./f"), "x");
  EXPECT_TRUE(rig.disk.open("", {}).status().IsInvalidArgument());
  EXPECT_TRUE(rig.disk.open(std::string_view("a\0b", 3), {}).status().IsInvalidArgument());
  EXPECT_TRUE(rig.disk.open("../f", {}).status().IsInvalidArgument());
  EXPECT_TRUE(rig.disk.open("f/g", {.create = true}).status().IsInvalidArgument());
  EXPECT_TRUE(rig.disk.open("/", {}).status().IsInvalidArgument());
  EXPECT_TRUE(rig.Exists("/"));
  EXPECT_TRUE(rig.Exists("."));
}

TEST(SimDiskNames, OpenOptionsAreHonoured) {
  Rig rig;
  rig.Put("f", "contents");
  EXPECT_TRUE(rig.disk.open("f", {.create = true, .exclusive = true}).status().IsInvalidArgument());
  FileHandle ro = rig.Open("f", {.read_only = true});
  EXPECT_TRUE(rig.disk.write(ro, 0, testing::Bytes("x")).IsInvalidArgument());
  EXPECT_EQ(rig.Read(ro, 0, 100), "contents");
  FileHandle t = rig.Open("f", {.truncate = true});
  EXPECT_EQ(*rig.disk.size(t), 0u);
  EXPECT_EQ(*rig.disk.file_size("f"), 0u);
}

TEST(SimDiskNames, ListIsSortedNamesOnly) {
  Rig rig;
  ASSERT_TRUE(rig.disk.create_dir("d").ok());
  ASSERT_TRUE(rig.disk.create_dir("d").ok());  // Ok if it exists.
  rig.Open("d/b");
  rig.Open("d/a");
  ASSERT_TRUE(rig.disk.create_dir("d/c").ok());
  rig.Open("d/c/deep");
  EXPECT_EQ(List(rig, "d"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(List(rig, "/"), std::vector<std::string>{"d"});
  EXPECT_TRUE(rig.disk.list("d/a").status().IsInvalidArgument());
  EXPECT_TRUE(rig.disk.list("nope").status().IsNotFound());
  EXPECT_TRUE(rig.disk.remove("d/c").IsInvalidArgument());  // Not empty.
  ASSERT_TRUE(rig.disk.remove("d/c/deep").ok());
  ASSERT_TRUE(rig.disk.remove("d/c").ok());
  EXPECT_TRUE(rig.disk.remove("d/c").IsNotFound());
}

TEST(SimDiskNames, RemovedFileComesBackIfTheRemoveWasNotDurable) {
  Rig rig(LossyFaults(DirCrashMode::kPrefix));
  rig.Put("f", "durable");
  ASSERT_TRUE(rig.disk.remove("f").ok());
  EXPECT_EQ(rig.disk.used_bytes(), 0u);
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  EXPECT_EQ(rig.Visible("f"), "durable");
}

TEST(SimDiskNames, AnOpenUnlinkedFileKeepsWorkingUntilClosed) {
  Rig rig;
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "still here");
  ASSERT_TRUE(rig.disk.remove("f").ok());
  EXPECT_FALSE(rig.Exists("f"));
  EXPECT_EQ(rig.Read(h, 0, 100), "still here");
  EXPECT_EQ(rig.disk.used_bytes(), 10u);
  EXPECT_TRUE(rig.disk.close(h).ok());
  EXPECT_EQ(rig.disk.used_bytes(), 0u);
}

TEST(SimDiskNames, LocksAreExclusiveAndReleasedByUnlockOrCrash) {
  Rig rig;
  ASSERT_TRUE(rig.disk.lock("LOCK").ok());
  EXPECT_TRUE(rig.Exists("LOCK"));  // Created, like open(O_CREAT) + flock.
  EXPECT_TRUE(rig.disk.lock("LOCK").IsUnavailable());
  EXPECT_TRUE(rig.disk.lock("/LOCK").IsUnavailable());  // The same file.
  ASSERT_TRUE(rig.disk.unlock("LOCK").ok());
  EXPECT_TRUE(rig.disk.unlock("LOCK").IsInvalidArgument());
  ASSERT_TRUE(rig.disk.lock("LOCK").ok());
  rig.CrashAndReboot();
  EXPECT_TRUE(rig.disk.lock("LOCK").ok());
  EXPECT_TRUE(rig.disk.lock("nodir/LOCK").IsNotFound());
}

}  // namespace
}  // namespace kiln::simfs
