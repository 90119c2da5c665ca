// BugRegistry and KILN_DEFINE_BUG/KILN_BUG: this file registers two known bugs of its own at
// static-initialisation time, then enables and disables them through the registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "engine/runtime/bugs.h"

namespace kiln {
namespace {

KILN_DEFINE_BUG(test_alpha, "runtime-test-alpha", "a bug that exists only in this test");
KILN_DEFINE_BUG(test_beta, "runtime-test-beta", "another bug that exists only in this test");

class BugsTest : public ::testing::Test {
 protected:
  void TearDown() override { BugRegistry::Instance().disable_all(); }
};

#if KILN_SIMULATION_HOOKS

TEST_F(BugsTest, DefinedBugsAreRegisteredAndOffByDefault) {
  EXPECT_FALSE(KILN_BUG(test_alpha));
  EXPECT_FALSE(KILN_BUG(test_beta));
  const auto bugs = BugRegistry::Instance().list();
  auto alpha = std::find_if(bugs.begin(), bugs.end(),
                            [](const auto* b) { return b->name == "runtime-test-alpha"; });
  ASSERT_NE(alpha, bugs.end());
  EXPECT_EQ((*alpha)->description, "a bug that exists only in this test");
  EXPECT_FALSE((*alpha)->enabled);
}

TEST_F(BugsTest, ListIsInNameOrder) {
  const auto bugs = BugRegistry::Instance().list();
  ASSERT_GE(bugs.size(), 2u);
  EXPECT_TRUE(std::is_sorted(bugs.begin(), bugs.end(),
                             [](const auto* a, const auto* b) { return a->name < b->name; }));
}

TEST_F(BugsTest, EnableTurnsOneBugOn) {
  ASSERT_TRUE(BugRegistry::Instance().enable("runtime-test-beta").ok());
  EXPECT_FALSE(KILN_BUG(test_alpha));
  EXPECT_TRUE(KILN_BUG(test_beta));
  EXPECT_EQ(BugRegistry::Instance().enabled_names(), std::vector<std::string>{"runtime-test-beta"});
  BugRegistry::Instance().disable_all();
  EXPECT_FALSE(KILN_BUG(test_beta));
  EXPECT_TRUE(BugRegistry::Instance().enabled_names().empty());
}

TEST_F(BugsTest, EnablingAnUnknownBugIsNotFoundAndListsTheValidNames) {
  const Status s = BugRegistry::Instance().enable("no-such-bug");
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("no-such-bug"), std::string::npos);
  EXPECT_NE(s.message().find("runtime-test-alpha"), std::string::npos);
  EXPECT_NE(s.message().find("runtime-test-beta"), std::string::npos);
  EXPECT_TRUE(BugRegistry::Instance().enabled_names().empty());
}

TEST_F(BugsTest, RegisteringADuplicateNameAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(BugRegistry::Instance().add("runtime-test-alpha", "again"), "registered twice");
}

#else

TEST_F(BugsTest, ProductionBuildCompilesBugsAway) {
  EXPECT_FALSE(KILN_BUG(test_alpha));
  EXPECT_TRUE(BugRegistry::Instance().enable("runtime-test-alpha").IsNotFound());
}

#endif

}  // namespace
}  // namespace kiln
