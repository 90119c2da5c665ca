// Tests of the RapidCheck bridge: generated runs of leveldb-crash hold; with a known bug,
// RapidCheck finds a failure and shrinks it to a small run (few operations, few clients).
#include "sim/rapidcheck_bridge.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace kiln::sim {
namespace {

RC_GTEST_PROP(RapidCheckBridge, GeneratedLevelDbCrashRunsHold, ()) {
  CheckGeneratedRun("leveldb-crash");
}

TEST(RapidCheckBridge, KnownBugIsFoundAndShrunk) {
  GeneratedRun smallest;
  bool failed_once = false;
  const bool held = rc::check("leveldb-crash with leveldb-crash-ack-unsynced", [&] {
    const GeneratedRun g = *GenRun("leveldb-crash");
    auto r = RunScenario(ToRunOptions("leveldb-crash", g, {"leveldb-crash-ack-unsynced"}));
    RC_ASSERT(r.ok());
    RC_LOG() << "replay: " << r->replay_command << "\n";
    if (!r->ok) {
      // RapidCheck reports the last failing case it tried: the shrunk one.
      smallest = g;
      failed_once = true;
    }
    RC_ASSERT(r->ok);
  });
  EXPECT_FALSE(held);
  ASSERT_TRUE(failed_once);
  EXPECT_LE(smallest.ops, 10) << "RapidCheck should shrink the workload";
  EXPECT_EQ(smallest.clients, 1);
}

}  // namespace
}  // namespace kiln::sim
