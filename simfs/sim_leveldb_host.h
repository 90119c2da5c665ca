// SimLevelDbHost: the LevelDbHost of a simulation. LevelDB runs on a SimLevelEnv over the
// simulated disk, whose queued background work must be drained before every write and before a
// DB is deleted (sim_level_env.h explains why); before_write() does exactly that.
#pragma once

#include <leveldb/options.h>

#include "engine/runtime/leveldb_host.h"
#include "simfs/sim_level_env.h"

namespace kiln::simfs {

class SimLevelDbHost final : public LevelDbHost {
 public:
  // `env` must outlive the host.
  explicit SimLevelDbHost(SimLevelEnv& env) : env_(env) {}

  // env.options(): env and info_log point at the simulated disk and its log sink.
  leveldb::Options options() override;
  // env.drain_background_work(). REQUIRES: no LevelDB call on the stack (true in a blocking
  // call, which the simulator runs between LevelDB calls).
  void before_write() override;

  SimLevelEnv& env() { return env_; }

 private:
  SimLevelEnv& env_;
};

}  // namespace kiln::simfs
