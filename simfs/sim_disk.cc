// SimDisk: construction, the helpers every operation shares, power loss and reboot, and the
// inspection functions. File operations are in sim_disk_files.cc, name operations in
// sim_disk_names.cc. The model itself is documented in sim_disk.h.
#include "simfs/sim_disk.h"

#include <algorithm>
#include <cassert>

#include "simfs/sim_disk_impl.h"

namespace kiln::simfs {

KILN_DEFINE_BUG(simfs_crash_loses_synced, "simfs-crash-loses-synced",
                "the simulated disk's crash drops the last synced write of a file (a wrong disk "
                "model; the leveldb-crash property must catch it)");

namespace {

using detail::Inode;
using detail::PendingWrite;

// The chance that a sector holding unsynced bytes is torn by a crash, with crash_tears_sectors.
constexpr double kTornSectorP = 0.125;

// One piece of unsynced data a crash keeps or loses: a write's bytes within one sector, or a
// whole truncate.
struct CrashUnit {
  uint64_t seq = 0;    // The write's issue order ...
  uint64_t begin = 0;  // ... then its position: together, the issue order of the pieces.
  uint64_t end = 0;
  uint64_t inode = 0;
  size_t op = 0;  // Index into the inode's unsynced list.
};

std::vector<CrashUnit> SplitIntoUnits(const std::map<uint64_t, Inode>& inodes,
                                      uint64_t sector_bytes) {
  assert(sector_bytes > 0);
  std::vector<CrashUnit> units;
  for (const auto& [id, inode] : inodes) {
    for (size_t i = 0; i < inode.unsynced.size(); ++i) {
      const PendingWrite& w = inode.unsynced[i];
      if (w.is_truncate) {
        units.push_back({w.seq, 0, 0, id, i});
        continue;
      }
      const uint64_t end = w.offset + w.bytes.size();
      for (uint64_t at = w.offset; at < end;) {
        const uint64_t piece_end = std::min(end, (at / sector_bytes + 1) * sector_bytes);
        units.push_back({w.seq, at, piece_end, id, i});
        at = piece_end;
      }
    }
  }
  std::sort(units.begin(), units.end(), [](const CrashUnit& a, const CrashUnit& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.begin < b.begin;
  });
  return units;
}

// Which of `n` items (in issue order) a crash keeps.
std::vector<bool> ChooseKept(size_t n, CrashChoice choice, Random& random) {
  assert(choice != CrashChoice::kSeeded);
  std::vector<bool> kept(n, choice == CrashChoice::kKeepAll);
  if (choice == CrashChoice::kKeepPrefix) {
    const uint64_t prefix = random.uniform(n + 1);
    for (size_t i = 0; i < prefix; ++i) kept[i] = true;
  } else if (choice == CrashChoice::kKeepSubset) {
    for (size_t i = 0; i < n; ++i) kept[i] = random.chance(0.5);
  }
  assert(kept.size() == n);
  return kept;
}

const char* ChoiceName(CrashChoice choice) {
  switch (choice) {
    case CrashChoice::kSeeded:
      return "seeded";
    case CrashChoice::kKeepNone:
      return "none";
    case CrashChoice::kKeepAll:
      return "all";
    case CrashChoice::kKeepPrefix:
      return "prefix";
    case CrashChoice::kKeepSubset:
      return "subset";
  }
  return "?";
}

}  // namespace

SimDisk::SimDisk(Random& random, simclock::Trace& trace, DiskFaults faults)
    : random_(random), trace_(trace), faults_(faults), impl_(std::make_unique<Impl>(*this)) {
  assert(faults_.sector_bytes > 0);
  assert(impl_->visible.entries(detail::kRootDirId) != nullptr);
}

SimDisk::~SimDisk() = default;

// --- Helpers shared by every operation. ---

Status SimDisk::Impl::dead(std::string_view op) {
  assert(disk.dead_);
  record(0, 0, "dead " + std::string(op));
  return Status::IOError("disk is dead (crashed)");
}

void SimDisk::Impl::record(uint64_t inode, uint64_t handle, std::string_view text) {
  disk.trace_.record(simclock::TraceKind::kIo, inode, handle, text);
}

bool SimDisk::Impl::inject(double p, const char* kind, uint64_t* count, std::string_view detail,
                           uint64_t inode) {
  assert(count != nullptr);
  if (!disk.random_.chance(p)) return false;
  const bool stick = inode != 0 && disk.random_.chance(disk.faults_.sticky_error_p);
  if (!disk.trace_.admit_fault()) return false;  // Suppressed while shrinking.
  ++*count;
  if (stick) sticky.insert(inode);
  disk.trace_.record_fault(kind, stick ? std::string(detail) + " sticky" : detail);
  return true;
}

Result<SimDisk::Impl::Handle*> SimDisk::Impl::handle(FileHandle h, const char* op) {
  assert(!disk.dead_);
  auto it = handles.find(h.id);
  if (it == handles.end()) {
    const std::string text = std::string(op) + " #" + std::to_string(h.id);
    record(0, h.id, text + " bad handle");
    if (h.id != 0 && h.id < first_handle_this_boot) {
      return Status::IOError(text + ": stale file handle, opened before the last crash");
    }
    return Status::InvalidArgument(text + ": file handle is not open");
  }
  assert(inodes.count(it->second.inode) == 1);
  return &it->second;
}

Status SimDisk::Impl::sticky_error(const Handle& h) const {
  if (sticky.count(h.inode) == 0) return Status::Ok();
  return Status::IOError("sticky I/O error on " + h.path + " (until reboot)");
}

Result<std::vector<std::string>> SimDisk::Impl::split(std::string_view path, const char* op) {
  Result<std::vector<std::string>> parts = detail::SplitPath(path);
  if (!parts.ok()) record(0, 0, std::string(op) + " bad path");
  return parts;
}

// --- Power. ---

void SimDisk::clear_sticky_errors() {
  impl_->sticky.clear();
}

bool SimDisk::op_begins() {
  if (dead_) return true;
  if (crash_at_op_ != 0 && ops_started_ + 1 == crash_at_op_) {
    crash_at_op_ = 0;
    impl_->record(0, 0, "crash point before op " + std::to_string(ops_started_ + 1));
    crash();
    return true;
  }
  ++ops_started_;
  return false;
}

void SimDisk::crash() {
  crash_with(CrashChoice::kSeeded);
}

void SimDisk::crash_with(CrashChoice choice) {
  assert(!dead_);
  assert(faults_.sector_bytes > 0);
  ++counts_.crashes;
  impl_->record(0, 0, std::string("crash ") + ChoiceName(choice));
  impl_->crash_data(choice);
  impl_->crash_names(choice);
  // The old process's handles and locks die with the power; its sticky errors last until reboot.
  impl_->handles.clear();
  impl_->locks.clear();
  impl_->collect_garbage();
  dead_ = true;
  assert(impl_->dir_ops.empty());
}

void SimDisk::Impl::crash_data(CrashChoice choice) {
  const DiskFaults& f = disk.faults_;
  if (choice == CrashChoice::kSeeded) {
    static constexpr CrashChoice kChoices[] = {CrashChoice::kKeepNone, CrashChoice::kKeepAll,
                                               CrashChoice::kKeepPrefix, CrashChoice::kKeepSubset};
    choice = f.crash_loses_unsynced ? kChoices[disk.random_.uniform(4)] : CrashChoice::kKeepAll;
  }
  const std::vector<CrashUnit> units = SplitIntoUnits(inodes, f.sector_bytes);
  const std::vector<bool> kept = ChooseKept(units.size(), choice, disk.random_);
  // Each file restarts from its durable bytes and replays the kept pieces in issue order.
  std::map<uint64_t, std::string> before;
  for (const auto& [id, inode] : inodes) {
    before[id] = inode.durable;
    if (KILN_BUG(simfs_crash_loses_synced)) detail::ApplyUndo(&before[id], inode.last_sync_undo);
  }
  std::map<uint64_t, std::string> after = before;
  std::map<uint64_t, uint64_t> lost;  // Inode -> sectors lost.
  for (size_t i = 0; i < units.size(); ++i) {
    const CrashUnit& u = units[i];
    const PendingWrite& w = inodes.at(u.inode).unsynced[u.op];
    if (!kept[i]) {
      lost[u.inode] += w.is_truncate ? 0 : 1;
      continue;
    }
    if (w.is_truncate) {
      detail::ApplyTruncate(&after[u.inode], w.offset);
    } else {
      const std::string_view piece(w.bytes);
      detail::ApplyWrite(&after[u.inode], u.begin,
                         piece.substr(u.begin - w.offset, u.end - u.begin));
    }
  }
  for (auto& [id, inode] : inodes) {
    std::string result = std::move(after[id]);
    if (f.crash_tears_sectors && !inode.unsynced.empty()) {
      tear_sectors(id, inode, before[id], &result);
    }
    if (lost[id] > 0) {
      disk.counts_.unsynced_writes_lost += lost[id];
      disk.trace_.record_fault("lost-unsynced", "inode " + std::to_string(id) + ": " +
                                                    std::to_string(lost[id]) + " sectors");
    }
    inode.durable = result;
    inode.visible = std::move(result);
    inode.unsynced.clear();
    inode.last_sync_undo.clear();
  }
}

void SimDisk::Impl::tear_sectors(uint64_t id, const detail::Inode& inode, const std::string& before,
                                 std::string* result) {
  const uint64_t sector_bytes = disk.faults_.sector_bytes;
  // The new bytes: every unsynced write applied, as if the crash had waited for them.
  std::string all = before;
  for (const PendingWrite& w : inode.unsynced) detail::ApplyPending(&all, w);
  // Which bytes of each sector are unsynced: only those may be torn.
  std::map<uint64_t, std::vector<bool>> unsynced;
  for (const PendingWrite& w : inode.unsynced) {
    if (w.is_truncate) continue;
    const uint64_t end = w.offset + w.bytes.size();
    for (uint64_t at = w.offset; at < end;) {
      const uint64_t sector = at / sector_bytes;
      const uint64_t piece_end = std::min(end, (sector + 1) * sector_bytes);
      std::vector<bool>& mask = unsynced[sector];
      if (mask.empty()) mask.resize(sector_bytes);
      for (uint64_t p = at; p < piece_end; ++p) mask[p - sector * sector_bytes] = true;
      at = piece_end;
    }
  }
  for (const auto& [sector, mask] : unsynced) {
    if (!disk.random_.chance(kTornSectorP)) continue;
    // A tear: the bytes before `cut` hold one outcome, the rest another.
    const uint64_t cut = disk.random_.uniform(sector_bytes + 1);
    const uint64_t outcome[2] = {disk.random_.uniform(3), disk.random_.uniform(3)};
    for (uint64_t i = 0; i < sector_bytes; ++i) {
      const uint64_t p = sector * sector_bytes + i;
      if (!mask[i] || p >= result->size()) continue;
      switch (outcome[i < cut ? 0 : 1]) {
        case 0:
          (*result)[p] = p < all.size() ? all[p] : (*result)[p];
          break;  // New.
        case 1:
          (*result)[p] = p < before.size() ? before[p] : '\0';
          break;  // Old.
        default:
          (*result)[p] = static_cast<char>(disk.random_.next_u64());
          break;  // Garbage.
      }
    }
    ++disk.counts_.sectors_torn;
    disk.trace_.record_fault("torn",
                             "inode " + std::to_string(id) + " sector " + std::to_string(sector));
  }
}

void SimDisk::Impl::crash_names(CrashChoice choice) {
  std::vector<size_t> unsynced;
  for (size_t i = 0; i < dir_ops.size(); ++i) {
    if (!dir_ops[i].durable) unsynced.push_back(i);
  }
  const DiskFaults& f = disk.faults_;
  if (choice == CrashChoice::kSeeded && !f.crash_loses_unsynced) choice = CrashChoice::kKeepAll;
  if (choice != CrashChoice::kKeepNone && choice != CrashChoice::kKeepAll) {
    const bool any = f.dir_crash_mode == DirCrashMode::kAnySubset;
    choice = any ? CrashChoice::kKeepSubset : CrashChoice::kKeepPrefix;
  }
  const std::vector<bool> kept = ChooseKept(unsynced.size(), choice, disk.random_);
  std::vector<bool> keep(dir_ops.size(), true);
  for (size_t i = 0; i < unsynced.size(); ++i) keep[unsynced[i]] = kept[i];
  // Replay onto the durable base; an operation whose premise was lost (its source, its parent)
  // cannot apply and is lost too.
  detail::Namespace tree = base;
  for (size_t i = 0; i < dir_ops.size(); ++i) {
    if (keep[i] && tree.apply(dir_ops[i])) continue;
    ++disk.counts_.dir_ops_lost;
    disk.trace_.record_fault("lost-dir-op",
                             dir_ops[i].ToString() + (keep[i] ? " (cannot apply)" : ""));
  }
  tree.prune();
  base = tree;
  visible = std::move(tree);
  dir_ops.clear();
}

void SimDisk::reboot() {
  assert(dead_);
  assert(impl_->handles.empty());
  dead_ = false;
  ++boot_count_;
  impl_->sticky.clear();
  impl_->first_handle_this_boot = impl_->next_handle;
  impl_->record(0, boot_count_, "reboot");
}

// --- Inspection. ---

uint64_t SimDisk::used_bytes() const {
  // Live inodes: named now, or held open (an unlinked open file still holds its space).
  std::set<uint64_t> live;
  impl_->visible.collect_files(&live);
  for (const auto& [id, h] : impl_->handles) live.insert(h.inode);
  uint64_t used = 0;
  for (uint64_t id : live) used += impl_->inodes.at(id).footprint_bytes();
  return used;
}

Result<std::string> SimDisk::durable_contents(std::string_view path) const {
  Result<std::vector<std::string>> parts = detail::SplitPath(path);
  if (!parts.ok()) return parts.status();
  Result<detail::DirEntry> e = impl_->durable_tree().resolve(*parts);
  if (!e.ok()) return e.status();
  if (e->is_dir) return Status::InvalidArgument("is a directory: " + std::string(path));
  return impl_->inodes.at(e->id).durable;
}

Result<std::string> SimDisk::visible_contents(std::string_view path) const {
  Result<std::vector<std::string>> parts = detail::SplitPath(path);
  if (!parts.ok()) return parts.status();
  Result<detail::DirEntry> e = impl_->visible.resolve(*parts);
  if (!e.ok()) return e.status();
  if (e->is_dir) return Status::InvalidArgument("is a directory: " + std::string(path));
  return impl_->inodes.at(e->id).visible;
}

}  // namespace kiln::simfs
