// SimDisk's injected faults: capacity, I/O errors (transient and sticky), read corruption,
// misdirected writes, the fault options' report line, and determinism. Method: set one fault
// at probability 1 (or sweep a fractional one over seeds), perform the operation, and check
// both what the caller was told and what the disk now holds.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/simfs/sim_disk_test_util.h"

namespace kiln::simfs {
namespace {

using testing::Bytes;
using testing::LossyFaults;
using testing::Rig;

DiskFaults Capacity(uint64_t capacity_bytes, bool partial) {
  DiskFaults f;
  f.capacity_bytes = capacity_bytes;
  f.partial_write_on_full = partial;
  return f;
}

TEST(SimDiskFaults, ToStringListsEveryField) {
  DiskFaults f;
  f.capacity_bytes = 4096;
  f.read_error_p = 0.25;
  const std::string s = f.ToString();
  for (const char* key :
       {"crash_loses_unsynced=false", "crash_tears_sectors=false", "dir_crash_mode=journal",
        "sector_bytes=512", "capacity_bytes=4096", "partial_write_on_full=true",
        "read_error_p=0.25", "write_error_p=0", "sync_error_p=0", "metadata_error_p=0",
        "sticky_error_p=0", "read_corruption_p=0", "misdirected_write_p=0",
        "outside_contract_prefix=*"}) {
    EXPECT_NE(s.find(key), std::string::npos) << key << " missing from " << s;
  }
  EXPECT_NE(DiskFaults{}.ToString().find("capacity_bytes=unlimited"), std::string::npos);
}

TEST(SimDiskFaults, AnyIsTrueExactlyWhenAFaultCanFire) {
  EXPECT_FALSE(DiskFaults{}.any());
  DiskFaults sticky_only;
  sticky_only.sticky_error_p = 1;  // Makes injected errors sticky, but injects none itself.
  EXPECT_FALSE(sticky_only.any());
  EXPECT_TRUE(LossyFaults().any());
  EXPECT_TRUE(Capacity(100, true).any());
  DiskFaults misdirect;
  misdirect.misdirected_write_p = 0.01;
  EXPECT_TRUE(misdirect.any());
}

TEST(SimDiskFaults, NoSpacePartialWriteLandsUpToTheBoundary) {
  Rig rig(Capacity(10, true));
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "123456");
  Status s = rig.disk.write(h, 6, Bytes("789abc"));
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(rig.Visible("f"), "123456789a");
  EXPECT_EQ(rig.disk.used_bytes(), 10u);
  EXPECT_EQ(rig.disk.fault_counts().no_space, 1u);
  rig.Write(h, 0, "overwrite!");  // Inside the file: no new space needed.
  EXPECT_TRUE(rig.disk.append(h, Bytes("x")).IsNoSpace());
}

TEST(SimDiskFaults, NoSpaceWithoutPartialWritesLandsNothing) {
  Rig rig(Capacity(10, false));
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "123456");
  EXPECT_TRUE(rig.disk.write(h, 6, Bytes("789abc")).IsNoSpace());
  EXPECT_EQ(rig.Visible("f"), "123456");
  EXPECT_TRUE(rig.disk.truncate(h, 11).IsNoSpace());
  EXPECT_TRUE(rig.disk.truncate(h, 10).ok());
  EXPECT_EQ(rig.Visible("f").size(), 10u);
}

TEST(SimDiskFaults, AllocatedSpaceNeverFailsWithNoSpace) {
  Rig rig(Capacity(100, true));
  FileHandle wal = rig.Open("wal");
  ASSERT_TRUE(rig.disk.allocate(wal, 0, 80).ok());
  EXPECT_EQ(rig.disk.used_bytes(), 80u);
  EXPECT_EQ(*rig.disk.size(wal), 0u);  // Allocation does not change the size.
  FileHandle other = rig.Open("other");
  EXPECT_TRUE(rig.disk.write(other, 0, Bytes(std::string(30, 'o'))).IsNoSpace());
  EXPECT_TRUE(rig.disk.allocate(other, 0, 21).IsNoSpace());
  for (int i = 0; i < 8; ++i) rig.Append(wal, "0123456789");  // All 80 reserved bytes.
  EXPECT_EQ(rig.Visible("wal").size(), 80u);
  EXPECT_TRUE(rig.disk.append(wal, Bytes(std::string(21, 'x'))).IsNoSpace());
}

TEST(SimDiskFaults, ReadErrorIsIOErrorNeverAShortRead) {
  DiskFaults f;
  f.read_error_p = 0.5;
  Rig rig(f);
  FileHandle h = rig.Open("f");
  rig.Write(h, 0, "0123456789");
  int errors = 0;
  for (int i = 0; i < 200; ++i) {
    std::string buf(8, '\0');
    Result<size_t> r = rig.disk.read(h, 1, std::as_writable_bytes(std::span<char>(buf)));
    if (r.ok()) {
      EXPECT_EQ(*r, 8u);
      EXPECT_EQ(buf, "12345678");
    } else {
      EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
      ++errors;
    }
  }
  EXPECT_GT(errors, 50);
  EXPECT_EQ(rig.disk.fault_counts().read_errors, static_cast<uint64_t>(errors));
  EXPECT_EQ(rig.trace.fault_counts().at("io-read"), static_cast<uint64_t>(errors));
}

TEST(SimDiskFaults, FailedWriteAppliedNoneAPrefixOrAll) {
  std::map<size_t, int> landed;  // Bytes landed -> how often.
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    DiskFaults f;
    f.write_error_p = 1;
    Rig rig(f, seed);
    FileHandle h = rig.Open("f");
    EXPECT_TRUE(rig.disk.write(h, 0, Bytes("abcdefgh")).IsIOError());
    const std::string v = rig.Visible("f");
    EXPECT_EQ(v, std::string("abcdefgh").substr(0, v.size()));
    ++landed[v.size()];
  }
  EXPECT_GT(landed[0], 0);
  EXPECT_GT(landed[8], 0);
  EXPECT_GT(landed.size(), 3u);
}

TEST(SimDiskFaults, MetadataErrorsFailNameOperations) {
  DiskFaults f;
  f.metadata_error_p = 1;
  Rig rig(f);
  EXPECT_TRUE(rig.disk.open("f", {.create = true}).status().IsIOError());
  EXPECT_TRUE(rig.disk.create_dir("d").IsIOError());
  EXPECT_TRUE(rig.disk.list("/").status().IsIOError());
  EXPECT_TRUE(rig.disk.sync_dir("/").IsIOError());
  rig.disk.set_faults({});
  EXPECT_FALSE(rig.Exists("f"));
  EXPECT_FALSE(rig.Exists("d"));
  EXPECT_EQ(rig.disk.fault_counts().metadata_errors, 4u);
}

TEST(SimDiskFaults, StickyErrorPersistsUntilReboot) {
  DiskFaults f;
  f.write_error_p = 1;
  f.sticky_error_p = 1;
  Rig rig(f);
  FileHandle h = rig.Open("f");
  FileHandle other = rig.Open("g");
  EXPECT_TRUE(rig.disk.write(h, 0, Bytes("x")).IsIOError());
  rig.disk.set_faults({});  // No new faults: the sticky one stays.
  EXPECT_TRUE(rig.disk.write(h, 0, Bytes("x")).IsIOError());
  EXPECT_EQ(rig.Read(h, 0, 1).substr(0, 8), "<IOError");
  EXPECT_TRUE(rig.disk.sync(h).IsIOError());
  EXPECT_TRUE(rig.disk.file_size("f").status().IsIOError());
  EXPECT_TRUE(rig.disk.open("f", {}).status().IsIOError());
  EXPECT_TRUE(rig.disk.close(h).IsIOError());
  rig.Write(other, 0, "fine");  // Only that file.
  rig.CrashAndReboot();
  FileHandle again = rig.Open("f", {});
  rig.Write(again, 0, "works");
  EXPECT_EQ(rig.Read(again, 0, 5), "works");
}

TEST(SimDiskFaults, ReadCorruptionFlipsOneBitButStoredBytesAreIntact) {
  DiskFaults f;
  f.read_corruption_p = 1;
  Rig rig(f);
  FileHandle h = rig.Open("f");
  const std::string data = "the quick brown fox";
  rig.Write(h, 0, data);
  const std::string got = rig.Read(h, 0, data.size());
  ASSERT_EQ(got.size(), data.size());
  int bits = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    bits += __builtin_popcount(static_cast<unsigned char>(got[i] ^ data[i]));
  }
  EXPECT_EQ(bits, 1);
  EXPECT_EQ(rig.Visible("f"), data);
  EXPECT_EQ(rig.disk.fault_counts().read_corruptions, 1u);
}

TEST(SimDiskFaults, MisdirectedWriteLandsAtAnotherOffsetOfTheSameFile) {
  DiskFaults f;
  f.sector_bytes = 4;
  f.misdirected_write_p = 1;
  Rig rig(f);
  FileHandle h = rig.Open("f");
  FileHandle g = rig.Open("g");
  EXPECT_TRUE(rig.disk.write(h, 0, Bytes("DATA")).ok());  // Reported as a success.
  const std::string v = rig.Visible("f");
  EXPECT_NE(v.substr(0, 4), "DATA");
  EXPECT_NE(v.find("DATA"), std::string::npos);
  EXPECT_EQ(v.find("DATA") % 4, 0u);
  EXPECT_EQ(rig.Visible("g"), "");
  EXPECT_EQ(rig.disk.fault_counts().misdirected_writes, 1u);
  (void)g;
}

TEST(SimDiskFaults, FaultsOutsideTheContractHitOnlyFilesUnderTheirPrefix) {
  DiskFaults f;
  f.sector_bytes = 4;
  f.misdirected_write_p = 1;
  f.read_corruption_p = 1;
  f.outside_contract_prefix = "wal/";
  Rig rig(f);
  ASSERT_TRUE(rig.disk.create_dir("wal").ok());
  ASSERT_TRUE(rig.disk.create_dir("db").ok());
  FileHandle db = rig.Open("db/f");
  FileHandle wal = rig.Open("/wal/f");  // Normalized before the prefix is compared.
  EXPECT_TRUE(rig.disk.write(db, 0, Bytes("DATA")).ok());
  EXPECT_EQ(rig.Visible("db/f"), "DATA");
  std::string buf(4, '?');
  Result<size_t> n = rig.disk.read(db, 0, std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf, "DATA");
  EXPECT_EQ(rig.disk.fault_counts().misdirected_writes, 0u);
  EXPECT_EQ(rig.disk.fault_counts().read_corruptions, 0u);
  EXPECT_TRUE(rig.disk.write(wal, 0, Bytes("DATA")).ok());
  EXPECT_NE(rig.Visible("wal/f").substr(0, 4), "DATA");
  EXPECT_EQ(rig.disk.fault_counts().misdirected_writes, 1u);
}

// A workload with every fault on: the trace and the surviving state must be a function of
// the seed alone.
std::pair<uint64_t, std::string> RunWorkload(uint64_t seed) {
  DiskFaults f = LossyFaults(DirCrashMode::kAnySubset);
  f.crash_tears_sectors = true;
  f.sector_bytes = 16;
  f.capacity_bytes = 4000;
  f.read_error_p = f.write_error_p = f.sync_error_p = f.metadata_error_p = 0.05;
  f.sticky_error_p = 0.2;
  f.read_corruption_p = f.misdirected_write_p = 0.05;
  Rig rig(f, seed);
  DeterministicRandom ops(seed * 7919);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      const std::string name = "f" + std::to_string(ops.uniform(4));
      Result<FileHandle> h = rig.disk.open(name, {.create = true});
      if (!h.ok()) continue;
      const std::string data(ops.uniform(100) + 1, static_cast<char>('a' + ops.uniform(26)));
      static_cast<void>(rig.disk.write(*h, ops.uniform(300), Bytes(data)));
      if (ops.chance(0.3)) static_cast<void>(rig.disk.sync(*h));
      if (ops.chance(0.2)) static_cast<void>(rig.disk.sync_dir("/"));
      if (ops.chance(0.1)) static_cast<void>(rig.disk.rename(name, "r" + name));
      static_cast<void>(rig.disk.close(*h));
    }
    rig.CrashAndReboot();
  }
  std::string state;
  Result<std::vector<std::string>> names = rig.disk.list("/");
  for (const std::string& n : names.ok() ? *names : std::vector<std::string>{}) {
    state += n + "=" + rig.Visible(n) + ";";
  }
  return {rig.trace.hash(), state};
}

TEST(SimDiskFaults, SameSeedGivesTheSameTraceAndTheSameSurvivors) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const auto a = RunWorkload(seed);
    const auto b = RunWorkload(seed);
    EXPECT_EQ(a.first, b.first) << "seed " << seed;
    EXPECT_EQ(a.second, b.second) << "seed " << seed;
  }
  EXPECT_NE(RunWorkload(1).first, RunWorkload(2).first);
}

TEST(SimDiskFaults, EveryOperationAndFaultIsTraced) {
  DiskFaults f;
  f.write_error_p = 1;
  Rig rig(f);
  const uint64_t before = rig.trace.event_count();
  FileHandle h = rig.Open("f");
  EXPECT_TRUE(rig.disk.write(h, 0, Bytes("x")).IsIOError());
  EXPECT_EQ(rig.trace.event_count(), before + 3);  // open, write, the fault.
  EXPECT_EQ(rig.trace.fault_counts().at("io-write"), 1u);
  EXPECT_EQ(rig.disk.fault_counts().write_errors, 1u);
}

}  // namespace
}  // namespace kiln::simfs
