// Shared by the KV tests: one simulated machine (seeded scheduler, disk, file system, LevelDB
// env) that runs test coroutines to completion, a LevelDB host that can shrink LevelDB's
// memtable, wrap LevelDB's env in a fault layer and cut the power at a chosen write, the crash
// procedure for a whole store, and helpers to open, read and compare stores.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/kv/kv_store.h"
#include "engine/runtime/buggify.h"
#include "engine/runtime/random.h"
#include "simclock/sim_clock.h"
#include "simclock/sim_scheduler.h"
#include "simclock/trace.h"
#include "simfs/disk_faults.h"
#include "simfs/sim_disk.h"
#include "simfs/sim_file_system.h"
#include "simfs/sim_level_env.h"
#include "simfs/sim_leveldb_host.h"
#include "tests/runtime/test_util.h"

namespace kiln::kv::testing {

// The process every store task runs in, so that a crash can kill exactly those.
inline constexpr simclock::ProcessId kStoreProcess = 1;
inline constexpr uint64_t kStepsMax = 5'000'000;
inline constexpr char kDir[] = "/kv";

// SimLevelDbHost, plus: a smaller memtable (so switches and compactions happen in small tests),
// and a power cut (SimDisk::crash_with) right before the Nth DB write (counting from 1).
class TestHost final : public LevelDbHost {
 public:
  TestHost(simfs::SimLevelEnv& env, simfs::SimDisk& disk) : inner_(env), disk_(disk) {}
  leveldb::Options options() override {
    leveldb::Options o = inner_.options();
    if (write_buffer_bytes != 0) o.write_buffer_size = write_buffer_bytes;
    if (env != nullptr) o.env = env;
    return o;
  }
  void before_write() override {
    ++writes;
    if (crash_at_write != 0 && writes == crash_at_write && !disk_.dead()) {
      disk_.crash_with(crash_choice);
      ++crashes;
    }
    inner_.before_write();
  }

  size_t write_buffer_bytes = 0;  // 0: LevelDB's default.
  leveldb::Env* env = nullptr;    // A fault layer over the SimLevelEnv (nullptr: none).
  uint64_t writes = 0;            // before_write() calls so far.
  uint64_t crash_at_write = 0;    // 0: never.
  simfs::CrashChoice crash_choice = simfs::CrashChoice::kKeepAll;
  uint64_t crashes = 0;

 private:
  simfs::SimLevelDbHost inner_;
  simfs::SimDisk& disk_;
};

// A BUGGIFY context that fires with probability p (1: always), from its own seeded stream.
class TestBuggify final : public BuggifyContext {
 public:
  TestBuggify(uint64_t seed, double p) : random_(seed), p_(p) { SetBuggify(this); }
  ~TestBuggify() override { SetBuggify(nullptr); }
  bool fire(const char*, int) override { return random_.chance(p_); }

 private:
  DeterministicRandom random_;
  double p_;
};

struct Rig {
  explicit Rig(uint64_t seed = 1, simfs::DiskFaults faults = {})
      : sched_random(seed),
        disk_random(seed * 31 + 7),
        fs_random(seed * 131 + 11),
        scheduler(clock, sched_random, trace),
        disk(disk_random, trace, faults),
        fs(disk, scheduler, fs_random),
        env(disk, clock, trace),
        host(env, disk) {}
  ~Rig() {
    // Tasks first (they reference the store), then the store, then the rest in member order.
    scheduler.destroy_all_tasks();
    store.reset();
  }

  // Runs `task` in the store's process until it finishes (other tasks, such as the apply worker,
  // may stay parked). Fails the test on a stall, the step limit, or an escaped exception.
  void Run(Task<void> task) {
    bool done = false;
    scheduler.spawn_in(kStoreProcess, Finish(std::move(task), &done), "test");
    const simclock::SimScheduler::RunResult r =
        scheduler.run_until([&done] { return done; }, kStepsMax);
    EXPECT_TRUE(done) << "stalled=" << r.stalled << " step_limit=" << r.step_limit;
    EXPECT_EQ(scheduler.failure(), "");
  }

  // Power loss for the whole store: the disk crashes (unless it already has), every task of the
  // store dies, the store object goes (draining LevelDB's queued work, which fails, before its
  // DB is deleted), and the disk reboots: SimLevelEnv::CrashAndDelete's order.
  void Crash(simfs::CrashChoice choice = simfs::CrashChoice::kSeeded) {
    if (!disk.dead()) {
      if (choice == simfs::CrashChoice::kSeeded) {
        disk.crash();
      } else {
        disk.crash_with(choice);
      }
    }
    scheduler.kill_process(kStoreProcess);
    store.reset();
    env.drain_background_work();
    disk.reboot();
  }

  KvOptions Options() const {
    KvOptions o;
    o.dir = kDir;
    return o;
  }

  static Task<void> Finish(Task<void> task, bool* done) {
    co_await std::move(task);
    *done = true;
  }

  simclock::SimClock clock;
  DeterministicRandom sched_random;
  DeterministicRandom disk_random;
  DeterministicRandom fs_random;
  simclock::Trace trace;
  simclock::SimScheduler scheduler;
  simfs::SimDisk disk;
  simfs::SimFileSystem fs;
  simfs::SimLevelEnv env;
  TestHost host;
  std::unique_ptr<KvStore> store;
};

// Opens rig.store (asserting success). NOTE (GCC 12, task.h): the options aggregate is passed to
// Open outside any co_await expression.
inline Task<Status> OpenStore(Rig& rig, const KvOptions& options) {
  Task<Result<std::unique_ptr<KvStore>>> opening =
      KvStore::Open(rig.fs, rig.scheduler, rig.host, options);
  Result<std::unique_ptr<KvStore>> store = co_await std::move(opening);
  if (!store.ok()) co_return store.status();
  rig.store = std::move(store).value();
  co_return Status::Ok();
}

inline Task<Status> CloseStore(Rig& rig) {
  Status s = co_await rig.store->close();
  rig.store.reset();
  co_return s;
}

// Every key and value, in order (fails the test on an error).
inline Task<KeyValues> ScanAll(KvStore& store) {
  Result<KeyValues> all = co_await store.scan_prefix(std::string(), SIZE_MAX);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  co_return all.ok() ? std::move(all).value() : KeyValues();
}

}  // namespace kiln::kv::testing
