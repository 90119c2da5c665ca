// SimFileSystem: kiln::FileSystem over SimDisk on the seeded scheduler. Method: run a coroutine
// on a SimScheduler until it finishes, then check the virtual time it took (each operation
// sleeps a seeded latency first) and that results and errors came through from the disk
// unchanged.
#include "simfs/sim_file_system.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "simclock/sim_clock.h"
#include "simclock/sim_scheduler.h"
#include "tests/simfs/sim_disk_test_util.h"

namespace kiln::simfs {
namespace {

using testing::Bytes;

struct FsRig {
  explicit FsRig(IoLatency latency = {}, DiskFaults faults = {})
      : disk(disk_random, trace, faults), fs(disk, scheduler, fs_random, latency) {}

  // Runs `task` to completion on the simulated scheduler.
  void Run(Task<void> task) {
    scheduler.spawn(std::move(task), "test");
    const simclock::SimScheduler::RunResult r = scheduler.run_until(nullptr, 100000);
    EXPECT_FALSE(r.stalled);
    EXPECT_FALSE(r.step_limit);
    EXPECT_EQ(scheduler.failure(), "");
    EXPECT_EQ(scheduler.live_tasks(), 0u);
  }
  int64_t now_us() const { return ToMicros(clock.monotonic_now()); }

  simclock::SimClock clock;
  DeterministicRandom sched_random{1};
  DeterministicRandom disk_random{2};
  DeterministicRandom fs_random{3};
  simclock::Trace trace;
  simclock::SimScheduler scheduler{clock, sched_random, trace};
  SimDisk disk;
  SimFileSystem fs;
};

IoLatency Fixed(int64_t read_us, int64_t write_us, int64_t sync_us, int64_t metadata_us) {
  IoLatency l;
  l.read_us_min = l.read_us_max = read_us;
  l.write_us_min = l.write_us_max = write_us;
  l.sync_us_min = l.sync_us_max = sync_us;
  l.metadata_us_min = l.metadata_us_max = metadata_us;
  return l;
}

Task<void> WriteSyncRead(FileSystem& fs, std::string* out) {
  Result<std::unique_ptr<File>> f = co_await fs.open("f", {.create = true});
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) co_return;
  EXPECT_TRUE((co_await (*f)->append(Bytes("hello "))).ok());
  EXPECT_TRUE((co_await (*f)->write_at(6, Bytes("world"))).ok());
  EXPECT_TRUE((co_await (*f)->sync()).ok());
  std::string buf(64, '\0');
  Result<size_t> n = co_await (*f)->read_at(0, std::as_writable_bytes(std::span<char>(buf)));
  EXPECT_TRUE(n.ok());
  buf.resize(n.ok() ? *n : 0);
  *out = buf;
  EXPECT_EQ(*(co_await (*f)->size()), 11u);
  EXPECT_TRUE((co_await (*f)->close()).ok());
}

TEST(SimFileSystem, EachOperationSleepsItsLatencyOnVirtualTime) {
  FsRig rig(Fixed(1000, 100, 10000, 1));
  std::string got;
  rig.Run(WriteSyncRead(rig.fs, &got));
  EXPECT_EQ(got, "hello world");
  // open 1 + append 100 + write 100 + sync 10000 + read 1000 + size 1 + close 1.
  EXPECT_EQ(rig.now_us(), 11203);
  EXPECT_EQ(rig.disk.durable_contents("f").status().ToString(), "Ok");
}

TEST(SimFileSystem, LatencyIsSeededWithinItsBounds) {
  IoLatency l;
  FsRig a(l), b(l);
  std::string got;
  a.Run(WriteSyncRead(a.fs, &got));
  b.Run(WriteSyncRead(b.fs, &got));
  EXPECT_EQ(a.now_us(), b.now_us());
  EXPECT_EQ(a.trace.hash(), b.trace.hash());
  // open, size, close; append, write_at; sync; read_at.
  const int64_t min_us = 3 * l.metadata_us_min + 2 * l.write_us_min + l.sync_us_min + l.read_us_min;
  const int64_t max_us = 3 * l.metadata_us_max + 2 * l.write_us_max + l.sync_us_max + l.read_us_max;
  EXPECT_GE(a.now_us(), min_us);
  EXPECT_LE(a.now_us(), max_us);
}

TEST(SimFileSystem, SlowIoMultipliesLatency) {
  IoLatency l = Fixed(10, 10, 10, 10);
  l.slow_io_p = 1;
  l.slow_io_factor = 50;
  FsRig rig(l);
  std::string got;
  rig.Run(WriteSyncRead(rig.fs, &got));
  EXPECT_EQ(rig.now_us(), 7 * 10 * 50);
  EXPECT_EQ(rig.fs.slow_ios(), 7u);
  EXPECT_EQ(rig.trace.fault_counts().at("slow-io"), 7u);
}

Task<void> ExpectErrors(FileSystem& fs) {
  Result<std::unique_ptr<File>> missing = co_await fs.open("missing", {});
  EXPECT_EQ(missing.status().ToString(), "NotFound: open missing: no such file");
  EXPECT_TRUE((co_await fs.rename("a", "d/a")).IsInvalidArgument());
  EXPECT_TRUE((co_await fs.create_dir("x/y")).IsNotFound());
  Result<std::unique_ptr<File>> f = co_await fs.open("f", {.create = true});
  EXPECT_TRUE(f.ok());
  if (!f.ok()) co_return;
  Status full = co_await (*f)->append(Bytes("0123456789"));
  EXPECT_TRUE(full.IsNoSpace()) << full.ToString();
  EXPECT_EQ(*(co_await fs.file_size("f")), 4u);  // Landed up to the boundary.
}

TEST(SimFileSystem, DiskErrorsPassThroughUnchanged) {
  DiskFaults f;
  f.capacity_bytes = 4;
  FsRig rig({}, f);
  rig.Run(ExpectErrors(rig.fs));
}

Task<void> NamesAndLocks(FileSystem& fs) {
  EXPECT_TRUE((co_await fs.create_dir("db")).ok());
  Result<std::unique_ptr<FileLock>> lock = co_await fs.lock("db/LOCK");
  EXPECT_TRUE(lock.ok());
  EXPECT_TRUE((co_await fs.lock("db/LOCK")).status().IsUnavailable());
  lock = Status::NotFound("dropped");  // Destroys the lock: released.
  Result<std::unique_ptr<FileLock>> again = co_await fs.lock("db/LOCK");
  EXPECT_TRUE(again.ok());
  {
    Result<std::unique_ptr<File>> f = co_await fs.open("db/tmp", {.create = true});
    EXPECT_TRUE(f.ok());
    // Destroying an open File closes it.
  }
  EXPECT_TRUE((co_await fs.rename("db/tmp", "db/CURRENT")).ok());
  EXPECT_TRUE((co_await fs.sync_directory("db")).ok());
  Result<std::vector<std::string>> names = co_await fs.list("db");
  EXPECT_EQ(*names, (std::vector<std::string>{"CURRENT", "LOCK"}));
  EXPECT_TRUE(*(co_await fs.exists("db/CURRENT")));
  EXPECT_TRUE((co_await fs.remove("db/CURRENT")).ok());
  EXPECT_FALSE(*(co_await fs.exists("db/CURRENT")));
}

TEST(SimFileSystem, NamesAndLocksGoThroughToTheDisk) {
  FsRig rig;
  rig.Run(NamesAndLocks(rig.fs));
  EXPECT_EQ(rig.disk.used_bytes(), 0u);
}

Task<void> OpenThenWait(FileSystem& fs, std::unique_ptr<File>* out) {
  Result<std::unique_ptr<File>> f = co_await fs.open("f", {.create = true});
  EXPECT_TRUE(f.ok());
  if (f.ok()) *out = std::move(*f);
}

Task<void> UseStale(File& file) {
  Status s = co_await file.append(Bytes("x"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

TEST(SimFileSystem, FilesFromBeforeACrashFailAfterReboot) {
  FsRig rig;
  std::unique_ptr<File> file;
  rig.Run(OpenThenWait(rig.fs, &file));
  ASSERT_NE(file, nullptr);
  rig.disk.crash();
  rig.Run(UseStale(*file));
  rig.disk.reboot();
  rig.Run(UseStale(*file));
  file.reset();  // The destructor's close of a stale handle is harmless.
}

}  // namespace
}  // namespace kiln::simfs
