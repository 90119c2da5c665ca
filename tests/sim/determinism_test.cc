// Tests of the determinism check: a correct scenario replays event for event, and one that leaks
// state between runs (the known bug leveldb-crash-nondeterministic) is caught, with the first
// divergent step and both runs' events named.
#include "sim/determinism.h"

#include <gtest/gtest.h>

namespace kiln::sim {
namespace {

TEST(Determinism, SameSeedReplaysEventForEvent) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = 9;
  auto d = CheckDeterminism(o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->deterministic) << d->first_run << " vs " << d->second_run;
  EXPECT_GT(d->events, 100u);
}

TEST(Determinism, StateLeakingBetweenRunsIsCaughtAndLocated) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = 9;
  o.bugs = {"leveldb-crash-nondeterministic"};
  auto d = CheckDeterminism(o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->deterministic);
  EXPECT_NE(d->first_run, d->second_run);
  EXPECT_FALSE(d->first_run.empty());
  EXPECT_NE(d->first_run.find("step " + std::to_string(d->divergence_step)), std::string::npos);
}

TEST(Determinism, UsageErrorsPassThrough) {
  RunOptions o;
  o.scenario = "nope";
  EXPECT_FALSE(CheckDeterminism(o).ok());
}

}  // namespace
}  // namespace kiln::sim
