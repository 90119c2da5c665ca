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
  GeneratedRun first;
  GeneratedRun smallest;
  bool failed_once = false;
  const bool held = rc::check("leveldb-crash with leveldb-crash-ack-unsynced", [&] {
    const GeneratedRun g = *GenRun("leveldb-crash");
    auto r = RunScenario(ToRunOptions("leveldb-crash", g, {"leveldb-crash-ack-unsynced"}));
    RC_ASSERT(r.ok());
    RC_LOG() << "replay: " << r->replay_command << "\n";
    if (!r->ok) {
      // RapidCheck reports the last failing case it tried: the shrunk one.
      if (!failed_once) first = g;
      smallest = g;
      failed_once = true;
    }
    RC_ASSERT(r->ok);
  });
  EXPECT_FALSE(held);
  ASSERT_TRUE(failed_once);
  // Ops are drawn from 1..400. How far shrinking gets depends on the seed (a shorter run may
  // no longer reach the crash that shows the bug), so assert what always holds: the reported
  // case is no larger than the first failure, and small in absolute terms.
  EXPECT_LE(smallest.ops, first.ops);
  EXPECT_LE(smallest.clients, first.clients);
  EXPECT_LE(smallest.ops, 40) << "RapidCheck should shrink the workload";
  EXPECT_EQ(smallest.clients, 1);
}

}  // namespace
}  // namespace kiln::sim
