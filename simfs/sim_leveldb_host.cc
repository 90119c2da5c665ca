// SimLevelDbHost: LevelDB on the simulated disk, drained before every write.
#include "simfs/sim_leveldb_host.h"

namespace kiln::simfs {

leveldb::Options SimLevelDbHost::options() {
  return env_.options();
}

void SimLevelDbHost::before_write() {
  env_.drain_background_work();
}

}  // namespace kiln::simfs
