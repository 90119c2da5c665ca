// Tests of shrinking: a failure from a known bug shrinks to a run with fewer operations and fewer
// fault events that still fails the same property, and replays from its own report.
#include "sim/shrink.h"

#include <gtest/gtest.h>

namespace kiln::sim {
namespace {

RunOptions FailingRun() {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RunOptions o;
    o.scenario = "leveldb-crash";
    o.seed = seed;
    o.faults = "crash,lost,torn,io-write=0.005,clock-jump";
    o.bugs = {"leveldb-crash-ack-unsynced"};
    auto r = RunScenario(o);
    if (r.ok() && !r->ok && r->fault_events >= 3) return o;
  }
  ADD_FAILURE() << "no failing seed with at least 3 fault events in 1..50";
  return {};
}

TEST(Shrink, KnownBugShrinksToFewerOperationsAndFaultEventsAndStillFails) {
  RunOptions o = FailingRun();
  auto s = Shrink(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const RunReport& before = s->original;
  const RunReport& after = s->minimal;
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.property, before.property);
  EXPECT_LT(after.params.at("ops"), before.params.at("ops"));
  EXPECT_LT(after.fault_events, before.fault_events);
  EXPECT_LE(after.params.at("clients"), before.params.at("clients"));

  // The minimal report's own options replay the failure.
  RunOptions replay = o;
  replay.faults = after.faults;
  replay.params = after.params;
  replay.only_faults = after.only_faults;
  auto again = RunScenario(replay);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->ok);
  EXPECT_EQ(again->trace_hash, after.trace_hash);
  EXPECT_NE(after.replay_command.find("--param ops="), std::string::npos);
  EXPECT_NE(after.replay_command.find("--only-faults"), std::string::npos);
}

TEST(Shrink, APassingRunHasNothingToShrink) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = 1;
  o.faults = "none";
  auto s = Shrink(o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
}

TEST(RunOptions, UnknownParameterIsAUsageErrorListingTheRealOnes) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.params["opps"] = 3;
  auto r = RunScenario(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("opps"), std::string::npos);
  EXPECT_NE(r.status().message().find("ops"), std::string::npos);
}

TEST(RunOptions, MaskingEveryFaultRemovesThem) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = 3;
  o.faults = "crash,io-write=0.01";
  auto all = RunScenario(o);
  ASSERT_TRUE(all.ok());
  EXPECT_GT(all->fault_events, 0u);
  o.only_faults = std::set<uint64_t>{};
  auto none = RunScenario(o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->fault_events, 0u);
  EXPECT_EQ(none->fault_counts.count("io-write"), 0u);
}

}  // namespace
}  // namespace kiln::sim
