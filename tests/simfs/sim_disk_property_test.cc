// Properties of SimDisk's crash model over random workloads. Method: RapidCheck generates
// writes, truncates and syncs on one file (with a durable name); a reference model tracks the
// durable bytes (the last synced state) and which bytes were written since; then the disk
// crashes with a generated seed and the survivors are checked against the model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "simfs/disk_inode.h"
#include "tests/simfs/sim_disk_test_util.h"

namespace kiln::simfs {
namespace {

using testing::Bytes;
using testing::LossyFaults;
using testing::Rig;

using Write = std::tuple<uint64_t, std::string, bool>;  // offset, bytes, sync afterwards.

rc::Gen<std::vector<Write>> Writes() {
  return rc::gen::container<std::vector<Write>>(
      rc::gen::tuple(rc::gen::inRange<uint64_t>(0, 1500),
                     rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::arbitrary<char>())),
                     rc::gen::arbitrary<bool>()));
}

void ApplyWrite(std::string* bytes, uint64_t offset, const std::string& data) {
  if (bytes->size() < offset + data.size()) bytes->resize(offset + data.size(), '\0');
  bytes->replace(offset, data.size(), data);
}

RC_GTEST_PROP(SimDiskProperty, CrashNeverChangesSyncedBytes, ()) {
  DiskFaults f = LossyFaults();
  f.crash_tears_sectors = *rc::gen::arbitrary<bool>();
  f.sector_bytes = *rc::gen::element<uint32_t>(1, 4, 16, 512);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  Rig rig(f, seed);
  rig.Put("f", "");
  std::string durable;  // The model: bytes as of the last sync.
  const int crashes = *rc::gen::inRange(1, 4);
  for (int c = 0; c < crashes; ++c) {
    FileHandle h = rig.Open("f", {});
    std::vector<std::set<char>> written;  // Per byte: the unsynced values written there.
    std::string visible = durable;
    for (const auto& [offset, bytes, sync] : *Writes()) {
      RC_ASSERT(rig.disk.write(h, offset, Bytes(bytes)).ok());
      ApplyWrite(&visible, offset, bytes);
      if (written.size() < visible.size()) written.resize(visible.size());
      for (size_t i = 0; i < bytes.size(); ++i) written[offset + i].insert(bytes[i]);
      if (sync) {
        RC_ASSERT(rig.disk.sync(h).ok());
        durable = visible;
        written.assign(visible.size(), {});
      }
    }
    RC_ASSERT(rig.Durable("f") == durable);
    rig.CrashAndReboot();
    const std::string after = rig.Visible("f");
    RC_ASSERT(after.size() >= durable.size());
    for (size_t p = 0; p < after.size(); ++p) {
      const bool unsynced = p < written.size() && !written[p].empty();
      const char old = p < durable.size() ? durable[p] : '\0';
      if (!unsynced) {
        RC_ASSERT(after[p] == old);  // Synced bytes (and never-written holes) never change.
      } else if (!f.crash_tears_sectors) {
        RC_ASSERT(after[p] == old || written[p].count(after[p]) == 1);  // Nothing invented.
      }
    }
    durable = after;
  }
}

RC_GTEST_PROP(SimDiskProperty, DurableContentsIsWhatACrashLosingEverythingKeeps, ()) {
  DiskFaults f = LossyFaults();
  f.sector_bytes = 8;
  Rig rig(f, *rc::gen::arbitrary<uint64_t>());
  rig.Put("f", "");
  f.sync_error_p = 0.3;
  rig.disk.set_faults(f);
  FileHandle h = rig.Open("f", {});
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, uint64_t, std::string>>>(
      rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::inRange<uint64_t>(0, 300),
                     rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
  for (const auto& [kind, offset, bytes] : ops) {
    if (kind == 0) RC_ASSERT(rig.disk.write(h, offset, Bytes(bytes)).ok());
    if (kind == 1) RC_ASSERT(rig.disk.truncate(h, offset).ok());
    if (kind == 2) static_cast<void>(rig.disk.sync(h));  // May fail: then nothing is durable.
  }
  const std::string durable = rig.Durable("f");
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  RC_ASSERT(rig.Visible("f") == durable);
}

// The undo log behind the known bug "simfs-crash-loses-synced" must restore the exact bytes.
RC_GTEST_PROP(SimDiskProperty, UndoLogRevertsASyncExactly, (const std::string& start)) {
  std::vector<detail::PendingWrite> ops;
  for (const auto& [kind, offset, bytes] :
       *rc::gen::container<std::vector<std::tuple<bool, uint64_t, std::string>>>(
           rc::gen::tuple(rc::gen::arbitrary<bool>(), rc::gen::inRange<uint64_t>(0, 200),
                          rc::gen::container<std::string>(rc::gen::arbitrary<char>())))) {
    ops.push_back({0, kind, offset, kind ? std::string() : bytes});
  }
  std::string bytes = start;
  std::vector<detail::Undo> undo;
  detail::ApplyWithUndo(&bytes, ops, &undo);
  std::string expected = start;
  for (const detail::PendingWrite& op : ops) detail::ApplyPending(&expected, op);
  RC_ASSERT(bytes == expected);
  detail::ApplyUndo(&bytes, undo);
  RC_ASSERT(bytes == start);
}

}  // namespace
}  // namespace kiln::simfs
