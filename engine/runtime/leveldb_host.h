// LevelDbHost: how engine code runs LevelDB on the current runtime, without knowing which. In
// production it is LevelDB's default Env (its own background thread; nothing to do around a
// write). In simulation it is SimLevelEnv, whose queued background work must run before every
// write and before a DB is closed (simfs/sim_level_env.h explains why).
#pragma once

#include <leveldb/options.h>

namespace kiln {

class LevelDbHost {
 public:
  virtual ~LevelDbHost() = default;
  // Options with env and info_log set for this runtime (a default leveldb::Options silently
  // means the real disk). The caller sets the rest (create_if_missing, paranoid_checks, ...).
  virtual leveldb::Options options() = 0;
  // Call right before every DB write (Put, Delete, Write) and before deleting a DB, in the same
  // blocking call as the write. Production: nothing.
  virtual void before_write() = 0;
};

}  // namespace kiln
