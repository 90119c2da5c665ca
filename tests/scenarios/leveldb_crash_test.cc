// Tests of the leveldb-crash scenario through the runner: a seed replays bit for bit, seeds
// differ, a printed plan reproduces its run, and the property catches known-wrong code (a disk
// model that loses synced data; clients that acknowledge unsynced writes as synced).
#include <gtest/gtest.h>

#include "sim/runner.h"

namespace kiln::sim {
namespace {

RunReport RunSeed(uint64_t seed, std::string faults = "swarm", std::vector<std::string> bugs = {}) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = seed;
  o.faults = std::move(faults);
  o.bugs = std::move(bugs);
  auto r = RunScenario(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : RunReport{};
}

TEST(LevelDbCrash, Seed42HoldsAndReplaysBitForBit) {
  RunReport a = RunSeed(42);
  EXPECT_TRUE(a.ok) << a.property << ": " << a.message << "\n" << a.replay_command;
  EXPECT_NE(a.trace_hash, 0u);
  RunReport b = RunSeed(42);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_NE(RunSeed(43).trace_hash, a.trace_hash);
}

TEST(LevelDbCrash, NoFaultsMeansZeroFaults) {
  RunReport r = RunSeed(7, "none");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.faults, "none");
  EXPECT_TRUE(r.fault_counts.empty());
}

TEST(LevelDbCrash, PrintedSwarmPlanReproducesTheRun) {
  RunReport swarm = RunSeed(11);
  RunReport explicit_plan = RunSeed(11, swarm.faults);
  EXPECT_EQ(swarm.faults, explicit_plan.faults);
  EXPECT_EQ(swarm.trace_hash, explicit_plan.trace_hash);
}

TEST(LevelDbCrash, FaultsAreInjectedAcrossSeeds) {
  std::map<std::string, uint64_t> totals;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    RunReport r = RunSeed(seed, "crash,lost,torn,io-write=0.01,io-sync=0.01,full");
    EXPECT_TRUE(r.ok) << r.property << ": " << r.message << "\n" << r.replay_command;
    for (const auto& [k, v] : r.fault_counts) totals[k] += v;
  }
  EXPECT_GT(totals["crash"], 0u);
  EXPECT_GT(totals["io-write"] + totals["io-sync"], 0u);
  EXPECT_GT(totals["full"], 0u);
}

// Runs seeds 1..seeds_max with `bug` on; returns the first failing report.
std::optional<RunReport> FirstFailure(const std::string& faults, const std::string& bug,
                                      uint64_t seeds_max) {
  for (uint64_t seed = 1; seed <= seeds_max; ++seed) {
    RunReport r = RunSeed(seed, faults, {bug});
    if (!r.ok) return r;
  }
  return std::nullopt;
}

TEST(LevelDbCrash, DiskModelThatLosesSyncedDataIsCaughtWithin20Seeds) {
  auto failure = FirstFailure("crash", "simfs-crash-loses-synced", 20);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->failure_kind, "property");
  // The same seeds pass without the bug.
  RunReport correct = RunSeed(failure->seed, "crash");
  EXPECT_TRUE(correct.ok) << correct.message;
}

TEST(LevelDbCrash, AcknowledgingUnsyncedWritesIsCaughtWithin20Seeds) {
  auto failure = FirstFailure("crash,lost", "leveldb-crash-ack-unsynced", 20);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->property, "durability");
  RunReport correct = RunSeed(failure->seed, "crash,lost");
  EXPECT_TRUE(correct.ok) << correct.message;
}

TEST(LevelDbCrash, UsageErrorsNameWhatIsValid) {
  RunOptions o;
  o.scenario = "no-such-scenario";
  auto r = RunScenario(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("leveldb-crash"), std::string::npos);
  o.scenario = "leveldb-crash";
  o.bugs = {"no-such-bug"};
  r = RunScenario(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("leveldb-crash-ack-unsynced"), std::string::npos);
}

TEST(LevelDbCrash, UntilStepStopsAndSummarisesTheState) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = 3;
  o.until_step = 200;
  auto r = RunScenario(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stopped_at_step);
  EXPECT_EQ(r->steps, 200u);
  EXPECT_FALSE(r->state_summary.empty());
}

}  // namespace
}  // namespace kiln::sim
