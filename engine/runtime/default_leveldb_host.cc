// DefaultLevelDbHost: LevelDB's default Env, for production.
#include "engine/runtime/default_leveldb_host.h"

#include <leveldb/env.h>

namespace kiln {

leveldb::Options DefaultLevelDbHost::options() {
  leveldb::Options options;
  // Explicit, although it is the default: a reader sees which Env production uses.
  options.env = leveldb::Env::Default();
  options.info_log = nullptr;
  return options;
}

}  // namespace kiln
