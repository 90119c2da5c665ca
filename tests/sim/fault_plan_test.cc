// Tests of fault plans: parsing, errors that list what is valid, and that a plan's printed spec
// parses back to the same plan (a report is a reproduction).
#include "sim/fault_plan.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace kiln::sim {
namespace {

const std::vector<FaultKind> kAll = {FaultKind::kCrash,  FaultKind::kLost,   FaultKind::kTorn,
                                     FaultKind::kFull,   FaultKind::kIoRead, FaultKind::kIoWrite,
                                     FaultKind::kIoSync, FaultKind::kIoMeta, FaultKind::kClockJump,
                                     FaultKind::kSlow};

TEST(FaultPlan, NoneIsEmpty) {
  auto p = FaultPlan::Parse("none", 1, kAll);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty());
  EXPECT_EQ(p->ToSpec(), "none");
  EXPECT_FALSE(p->disk_faults().any());
}

TEST(FaultPlan, KindsTakeDefaultsOrExplicitRates) {
  auto p = FaultPlan::Parse("crash,io-sync=0.25,torn", 1, kAll);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->enabled(FaultKind::kCrash));
  EXPECT_DOUBLE_EQ(p->rate(FaultKind::kIoSync), 0.25);
  EXPECT_TRUE(p->disk_faults().crash_tears_sectors);
  EXPECT_FALSE(p->enabled(FaultKind::kLost));
}

TEST(FaultPlan, UnknownKindListsTheValidOnes) {
  auto p = FaultPlan::Parse("crash,meteor", 1, kAll);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsInvalidArgument());
  EXPECT_NE(p.status().message().find("meteor"), std::string::npos);
  EXPECT_NE(p.status().message().find("io-write"), std::string::npos);
}

TEST(FaultPlan, BadNumbersAreRejected) {
  EXPECT_FALSE(FaultPlan::Parse("crash=abc", 1, kAll).ok());
  EXPECT_FALSE(FaultPlan::Parse("crash=-1", 1, kAll).ok());
  EXPECT_FALSE(FaultPlan::Parse("crash=nan", 1, kAll).ok());
  EXPECT_FALSE(FaultPlan::Parse("crash=", 1, kAll).ok());
}

TEST(FaultPlan, SwarmDependsOnTheSeedOnly) {
  EXPECT_EQ(FaultPlan::Swarm(5, kAll).ToSpec(), FaultPlan::Swarm(5, kAll).ToSpec());
  bool differs = false;
  for (uint64_t s = 6; s < 20 && !differs; ++s) {
    differs = FaultPlan::Swarm(s, kAll).ToSpec() != FaultPlan::Swarm(5, kAll).ToSpec();
  }
  EXPECT_TRUE(differs);
}

TEST(FaultPlan, SwarmStaysWithinTheScenarioKinds) {
  const std::vector<FaultKind> kinds = {FaultKind::kCrash, FaultKind::kTorn};
  for (uint64_t s = 0; s < 50; ++s) {
    FaultPlan p = FaultPlan::Swarm(s, kinds);
    EXPECT_FALSE(p.empty());
    EXPECT_FALSE(p.enabled(FaultKind::kIoWrite));
  }
}

RC_GTEST_PROP(FaultPlan, PrintedSpecParsesBackToTheSamePlan, (uint64_t seed)) {
  FaultPlan p = FaultPlan::Swarm(seed, kAll);
  auto back = FaultPlan::Parse(p.ToSpec(), 0, kAll);
  RC_ASSERT(back.ok());
  RC_ASSERT(back->ToSpec() == p.ToSpec());
  for (int k = 0; k < kFaultKindCount; ++k) {
    RC_ASSERT(back->rate(static_cast<FaultKind>(k)) == p.rate(static_cast<FaultKind>(k)));
  }
}

}  // namespace
}  // namespace kiln::sim
