// Crash-point exhaustion for KvStore (issue #4), the way ALICE and LevelDB's fault_injection_test
// walk crash points. Method: a small fixed workload (open, two clients of puts, deletes, batches
// and a checkpoint, close) runs once uncrashed on a fixed schedule seed, which gives N, its number
// of disk operations. Then, for every k in 1..N and several crash seeds (which pick what of the
// unsynced data survives a power loss, and which sectors tear), a fresh machine replays the same
// schedule with the power cut just before disk operation k, so unlike the seeded crashes of
// kv_recovery_test (which land between scheduler steps) it also lands inside one LevelDB call.
// After the reboot the store must open and hold every acknowledged write, each in-flight batch all
// or nothing, and nothing else (values are unique, so a torn or stale record that was applied
// shows); recovering a second time must give the same contents. A known bug must be caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/runtime/bugs.h"
#include "tests/kv/kv_model.h"
#include "tests/kv/kv_test_util.h"

namespace kiln::kv {
namespace {

using testing::ApplyOps;
using testing::CheckRecovered;
using testing::CloseStore;
using testing::kStoreProcess;
using testing::Model;
using testing::OpenStore;
using testing::Rig;

// The schedule (scheduler, file-system latencies) is the same in every run; only the disk's
// crash choices vary, by crash seed.
constexpr uint64_t kScheduleSeed = 17;
constexpr uint64_t kCrashSeeds = 8;
constexpr uint64_t kCrashPointsMin = 30;  // Fewer would make the walk meaningless.
constexpr uint64_t kCrashPointsMax = 5000;
constexpr int kClients = 2;

// Small enough that segments rotate and automatic checkpoints delete them within the workload.
KvOptions WalkOptions(const Rig& rig) {
  KvOptions options = rig.Options();
  options.key_bytes_max = 16;
  options.value_bytes_max = 64;
  options.wal.record_bytes_max = 256;
  options.wal.segment_bytes = 512;  // About five records per segment.
  options.checkpoint_every_records = 4;
  return options;
}

simfs::DiskFaults WalkFaults() {
  simfs::DiskFaults faults;
  faults.crash_loses_unsynced = true;
  faults.crash_tears_sectors = true;
  // Smaller than the disk's default, so that log records and LevelDB's writes often straddle a
  // sector boundary and a power cut can keep one part of a write and lose (or tear) another.
  faults.sector_bytes = 128;
  return faults;
}

// --- The workload. ---

// One step of a client: a write (one batch), or an explicit checkpoint.
struct Step {
  bool checkpoint = false;
  std::vector<WriteBatch::Op> ops;
};

WriteBatch::Op Put(int client, int key, int seq) {
  // Unique per write, so a value that was never written, or a stale one, is recognisable.
  std::string value = "c" + std::to_string(client) + "#" + std::to_string(seq) + ":";
  value.resize(value.size() + 8 + 4 * static_cast<size_t>(seq), 'v');
  return {.key = "c" + std::to_string(client) + "k" + std::to_string(key),
          .value = std::move(value)};
}

WriteBatch::Op Del(int client, int key) {
  return {.is_delete = true,
          .key = "c" + std::to_string(client) + "k" + std::to_string(key),
          .value = {}};
}

// Each client owns its keys, so a client's in-flight batch never races another's. Client 0:
// puts, a three-op batch (put, overwrite, delete), a checkpoint, then more. Client 1: puts, an
// overwrite, a delete, a batch. Twelve writes and a checkpoint in all.
std::vector<Step> ClientSteps(int client) {
  std::vector<Step> steps;
  auto one = [&steps](WriteBatch::Op op) {
    Step step;
    step.ops.push_back(std::move(op));
    steps.push_back(std::move(step));
  };
  if (client == 0) {
    one(Put(0, 0, 0));
    one(Put(0, 1, 1));
    Step batch;
    batch.ops.push_back(Put(0, 2, 2));
    batch.ops.push_back(Put(0, 0, 3));
    batch.ops.push_back(Del(0, 1));
    steps.push_back(std::move(batch));
    Step checkpoint;
    checkpoint.checkpoint = true;
    steps.push_back(std::move(checkpoint));
    one(Put(0, 1, 4));
    one(Del(0, 2));
    one(Put(0, 0, 5));
  } else {
    one(Put(1, 0, 0));
    one(Put(1, 1, 1));
    one(Put(1, 0, 2));
    one(Del(1, 1));
    Step batch;
    batch.ops.push_back(Put(1, 2, 3));
    batch.ops.push_back(Put(1, 1, 4));
    batch.ops.push_back(Del(1, 0));
    steps.push_back(std::move(batch));
    one(Put(1, 3, 5));
  }
  return steps;
}

// What the clients were told: the acknowledged writes, applied in order, and per client the one
// batch whose outcome is unknown (a write answered Unavailable was refused: it must not appear).
// Runs the client's steps in order and stops at its first failure (the disk died).
Task<void> Client(Rig& r, Model& m, int client, int* done) {
  const std::vector<Step> steps = ClientSteps(client);
  for (const Step& step : steps) {
    if (step.checkpoint) {
      Status s = co_await r.store->checkpoint();
      if (!s.ok()) {
        m.errors.push_back("checkpoint: " + s.ToString());
        break;
      }
      continue;
    }
    WriteBatch batch;
    for (const WriteBatch::Op& op : step.ops) {
      if (op.is_delete) {
        batch.del(op.key);
      } else {
        batch.put(op.key, op.value);
      }
    }
    m.in_flight[client] = step.ops;
    Status s = co_await r.store->write(std::move(batch));
    if (s.ok()) {
      m.in_flight.erase(client);
      ApplyOps(step.ops, &m.acked);
      ++m.acked_writes;
      continue;
    }
    m.errors.push_back("write: " + s.ToString());
    if (s.IsUnavailable()) {  // Refused before anything was written.
      m.in_flight.erase(client);
    }
    break;
  }
  ++*done;
}

// Runs `task` in the store's process until it ends. Returns "" or why it did not (a stall, the
// step limit, an escaped exception): failures a walk reports, not test assertions.
std::string RunTask(Rig& rig, Task<void> task) {
  bool done = false;
  rig.scheduler.spawn_in(kStoreProcess, Rig::Finish(std::move(task), &done), "walk");
  const simclock::SimScheduler::RunResult r =
      rig.scheduler.run_until([&done] { return done; }, testing::kStepsMax);
  if (!rig.scheduler.failure().empty()) return "task failed: " + rig.scheduler.failure();
  if (done) return "";
  return r.stalled ? "stalled" : "step limit";
}

Task<void> OpenTask(Rig& r, const KvOptions& options, Status* out) {
  *out = co_await OpenStore(r, options);
}

Task<void> CloseTask(Rig& r, Status* out) {
  *out = co_await CloseStore(r);
}

Task<void> ScanTask(Rig& r, Result<KeyValues>* out) {
  *out = co_await r.store->scan_prefix(std::string(), SIZE_MAX);
}

// Opens the store, runs both clients, closes it; stops early if the disk dies. Returns "" or a
// liveness failure.
std::string RunWorkload(Rig& rig, Model* model) {
  const KvOptions options = WalkOptions(rig);
  Status open;
  std::string failure = RunTask(rig, OpenTask(rig, options, &open));
  if (!failure.empty()) return "workload open: " + failure;
  if (!open.ok()) {
    model->errors.push_back("open: " + open.ToString());
    return "";
  }
  int done = 0;
  for (int c = 0; c < kClients; ++c) {
    rig.scheduler.spawn_in(kStoreProcess, Client(rig, *model, c, &done), "client");
  }
  const simclock::SimScheduler::RunResult r =
      rig.scheduler.run_until([&done] { return done == kClients; }, testing::kStepsMax);
  if (!rig.scheduler.failure().empty()) return "clients: " + rig.scheduler.failure();
  if (done != kClients) return r.stalled ? "clients stalled" : "clients hit the step limit";
  if (rig.disk.dead()) return "";  // The crash procedure drops the store.
  Status close;
  failure = RunTask(rig, CloseTask(rig, &close));
  if (!failure.empty()) return "workload close: " + failure;
  if (!close.ok()) model->errors.push_back("close: " + close.ToString());
  return "";
}

// --- The check. ---

struct Walk {
  uint64_t crash_points = 0;  // N.
  uint64_t seeds = 0;
  uint64_t runs = 0;
  std::vector<std::string> violations;  // "k=.. seed=..: what broke", one per failing run.
  // How the runs went, to show that the walk reaches what it claims to.
  uint64_t runs_with_acked_writes = 0;
  uint64_t runs_with_in_flight = 0;
  uint64_t runs_losing_unsynced = 0;
  uint64_t runs_with_torn_sectors = 0;
  // Runs whose recovery cut a torn MANIFEST record (docs/fault-model.md, LevelDB finding 9),
  // without which LevelDB would have refused to open.
  uint64_t runs_with_manifest_trimmed = 0;
};

// Opens the store (recovery), reads everything in it, and closes it. `trimmed`: whether the
// open cut a torn MANIFEST record (LevelDB finding 9).
std::string Reopen(Rig& rig, KeyValues* contents, bool* trimmed) {
  Status open;
  std::string failure = RunTask(rig, OpenTask(rig, WalkOptions(rig), &open));
  if (!failure.empty()) return "recovery: " + failure;
  if (!open.ok()) return "recovery refused to open: " + open.ToString();
  *trimmed = rig.store->manifest_trim().trimmed;
  Result<KeyValues> scanned = Status::Unknown("not scanned");
  failure = RunTask(rig, ScanTask(rig, &scanned));
  if (!failure.empty()) return "scan after recovery: " + failure;
  if (!scanned.ok()) return "scan after recovery: " + scanned.status().ToString();
  *contents = std::move(scanned).value();
  Status closed;
  failure = RunTask(rig, CloseTask(rig, &closed));
  if (!failure.empty()) return "close after recovery: " + failure;
  if (!closed.ok()) return "close after recovery: " + closed.ToString();
  return "";
}

// The crash procedure (the disk is already dead), then recovery checked against the model, then
// a second recovery that must give the same contents. Returns what broke, or "".
std::string RecoverAndCheck(Rig& rig, Model* model, Walk* walk) {
  rig.Crash();
  KeyValues first;
  bool trimmed = false;
  std::string failure = Reopen(rig, &first, &trimmed);
  if (!failure.empty()) return failure;
  walk->runs_with_manifest_trimmed += trimmed ? 1 : 0;
  failure = CheckRecovered(first, model);
  if (!failure.empty()) return failure;
  KeyValues second;
  failure = Reopen(rig, &second, &trimmed);
  if (!failure.empty()) return "second " + failure;
  if (trimmed) return "the second recovery trimmed the MANIFEST again";
  if (second != first) return "recovering twice differs from recovering once";
  return "";
}

// --- The walk. ---

struct Baseline {
  uint64_t ops = 0;  // N: disk operations of the whole uncrashed workload.
  Model model;
  std::vector<std::string> wal_segments;  // What is left in the log's directory after close.
  bool crashed = false;
};

// The workload with the power cut armed at `crash_before_op` (0: never), which must not be
// reached: N is then the number of disk operations.
Baseline RunUncrashed(uint64_t crash_before_op = 0) {
  Baseline out;
  Rig rig(kScheduleSeed, WalkFaults());
  rig.disk.crash_before_op(crash_before_op);
  EXPECT_EQ(RunWorkload(rig, &out.model), "");
  out.ops = rig.disk.ops_started();
  out.crashed = rig.disk.dead();
  Result<std::vector<std::string>> segments = rig.disk.list("/kv/wal");
  if (segments.ok()) out.wal_segments = std::move(segments).value();
  return out;
}

// Cuts the power before disk operation k (counting from 1) of the workload, with crash seed
// `crash_seed`; returns what broke, or "".
std::string CrashAt(uint64_t k, uint64_t crash_seed, Walk* walk) {
  Rig rig(kScheduleSeed, WalkFaults());
  // The disk draws from its own stream only for faults, and none fires before the power cut, so
  // reseeding it changes what the cut keeps and nothing before it.
  rig.disk_random = DeterministicRandom(crash_seed * 1'000'003 + 5);
  rig.disk.crash_before_op(k);
  Model model;
  const std::string liveness = RunWorkload(rig, &model);
  if (!liveness.empty()) return "workload: " + liveness;
  if (!rig.disk.dead() || rig.disk.ops_started() != k - 1) {
    return "the power cut did not happen before op " + std::to_string(k) +
           " (ops started: " + std::to_string(rig.disk.ops_started()) + ")";
  }
  const simfs::DiskFaultCounts& counts = rig.disk.fault_counts();
  walk->runs_with_acked_writes += model.acked_writes > 0 ? 1 : 0;
  walk->runs_with_in_flight += model.in_flight.empty() ? 0 : 1;
  walk->runs_losing_unsynced += counts.unsynced_writes_lost > 0 ? 1 : 0;
  walk->runs_with_torn_sectors += counts.sectors_torn > 0 ? 1 : 0;
  return RecoverAndCheck(rig, &model, walk);
}

// Every crash point of the workload under every crash seed (with whatever known bug is enabled).
Walk WalkCrashPoints() {
  Walk walk;
  const Baseline base = RunUncrashed();
  EXPECT_TRUE(base.model.errors.empty()) << base.model.errors.front();
  EXPECT_GE(base.ops, kCrashPointsMin);
  walk.crash_points = std::min(base.ops, kCrashPointsMax);
  walk.seeds = kCrashSeeds;
  for (uint64_t k = 1; k <= walk.crash_points; ++k) {
    for (uint64_t seed = 1; seed <= walk.seeds; ++seed) {
      ++walk.runs;
      const std::string failure = CrashAt(k, seed, &walk);
      if (failure.empty()) continue;
      const std::string line =
          "k=" + std::to_string(k) + " seed=" + std::to_string(seed) + ": " + failure;
      walk.violations.push_back(line);
    }
  }
  return walk;
}

// The walk without any known bug, computed once per process (two tests read it).
const Walk& CleanWalk() {
  static const Walk walk = [] {
    BugRegistry::Instance().disable_all();
    return WalkCrashPoints();
  }();
  return walk;
}

void Print(const Walk& walk, const char* what, const std::vector<std::string>& violations) {
  std::printf(
      "%s: N=%llu crash points x %llu seeds = %llu runs; acked writes in %llu, in flight in %llu,"
      " unsynced sectors lost in %llu, sectors torn in %llu; violations: %zu\n",
      what, static_cast<unsigned long long>(walk.crash_points),
      static_cast<unsigned long long>(walk.seeds), static_cast<unsigned long long>(walk.runs),
      static_cast<unsigned long long>(walk.runs_with_acked_writes),
      static_cast<unsigned long long>(walk.runs_with_in_flight),
      static_cast<unsigned long long>(walk.runs_losing_unsynced),
      static_cast<unsigned long long>(walk.runs_with_torn_sectors), violations.size());
  for (size_t i = 0; i < violations.size() && i < 20; ++i) {
    std::printf("  %s\n", violations[i].c_str());
  }
}

// Enables one known bug for its lifetime.
class ScopedBug {
 public:
  explicit ScopedBug(const char* name) {
    BugRegistry::Instance().disable_all();
    EXPECT_TRUE(BugRegistry::Instance().enable(name).ok()) << name;
  }
  ~ScopedBug() { BugRegistry::Instance().disable_all(); }
  ScopedBug(const ScopedBug&) = delete;
  ScopedBug& operator=(const ScopedBug&) = delete;
};

TEST(KvCrashPoints, TheUncrashedWorkloadRotatesAndDeletesSegments) {
  const Baseline base = RunUncrashed();
  EXPECT_TRUE(base.model.errors.empty()) << base.model.errors.front();
  EXPECT_EQ(base.model.acked_writes, 12u);
  EXPECT_TRUE(base.model.in_flight.empty());
  EXPECT_FALSE(base.crashed);
  EXPECT_GE(base.ops, kCrashPointsMin);
  EXPECT_LE(base.ops, kCrashPointsMax);
  // Segment names are their first LSN: the first one (LSN 1) was rotated away and deleted.
  ASSERT_FALSE(base.wal_segments.empty());
  EXPECT_NE(base.wal_segments.front(), "00000000000000000001.wal");
  // N is exact: a power cut armed one operation past the end is never reached.
  const Baseline armed = RunUncrashed(base.ops + 1);
  EXPECT_FALSE(armed.crashed);
  EXPECT_EQ(armed.ops, base.ops);
  std::printf("N=%llu disk operations; log segments left: %zu\n",
              static_cast<unsigned long long>(base.ops), base.wal_segments.size());
}

TEST(KvCrashPoints, EveryCrashPointKeepsAcknowledgedWritesAndNothingElse) {
  const Walk& walk = CleanWalk();
  Print(walk, "walk", walk.violations);
  std::printf("runs whose recovery trimmed a torn MANIFEST record: %llu\n",
              static_cast<unsigned long long>(walk.runs_with_manifest_trimmed));
  EXPECT_TRUE(walk.violations.empty()) << walk.violations.front();
  EXPECT_EQ(walk.runs, walk.crash_points * kCrashSeeds);
  // The walk must reach the interesting states, not only crashes before the first write.
  EXPECT_GT(walk.runs_with_acked_writes, walk.runs / 2);
  EXPECT_GT(walk.runs_with_in_flight, walk.runs / 4);
  EXPECT_GT(walk.runs_losing_unsynced, walk.runs / 4);
  EXPECT_GT(walk.runs_with_torn_sectors, walk.runs / 10);
}

// LevelDB finding 9: the walk reaches MANIFEST appends torn by the power cut (which LevelDB alone
// refuses to open over), and the store's recovery trims them (the walk's check above shows that
// nothing acknowledged is lost and nothing appears).
TEST(KvCrashPoints, ATornManifestAppendIsTrimmedAndTheStoreOpens) {
  const Walk& walk = CleanWalk();
  EXPECT_GT(walk.runs_with_manifest_trimmed, 0u);
  EXPECT_LT(walk.runs_with_manifest_trimmed, walk.runs / 100) << "rare, not the common case";
}

// With record CRCs unchecked, a record torn by the power cut reaches the apply worker. The walk
// must catch it: at least one run fails that fails nowhere in the bug-free walk.
TEST(KvCrashPoints, KnownBugCrcUncheckedIsCaught) {
  const Walk& clean = CleanWalk();
  Walk buggy;
  {
    ScopedBug bug("wal-crc-unchecked");
    buggy = WalkCrashPoints();
  }
  std::vector<std::string> added;
  for (const std::string& v : buggy.violations) {
    if (std::find(clean.violations.begin(), clean.violations.end(), v) == clean.violations.end()) {
      added.push_back(v);
    }
  }
  Print(buggy, "walk with wal-crc-unchecked (new violations)", added);
  EXPECT_FALSE(added.empty()) << "the walk did not catch wal-crc-unchecked";
}

}  // namespace
}  // namespace kiln::kv
