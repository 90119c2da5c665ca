// DefaultLevelDbHost: the production LevelDbHost. LevelDB runs on its default Env (the real disk,
// its own background thread), so there is nothing to do around a write.
#pragma once

#include <leveldb/options.h>

#include "engine/runtime/leveldb_host.h"

namespace kiln {

class DefaultLevelDbHost final : public LevelDbHost {
 public:
  // LevelDB's defaults: env = Env::Default(), info_log = nullptr (LevelDB then keeps a LOG file
  // in the DB directory). The caller sets the rest.
  leveldb::Options options() override;
  // Nothing: LevelDB's own background thread runs compactions, and a write that must wait for
  // one waits on it (in a blocking call, off the loop).
  void before_write() override {}
};

}  // namespace kiln
