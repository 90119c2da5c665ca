// SimDisk's name operations: directories, remove, rename, list, sync_dir, locks; and the queue
// of directory operations that a sync makes durable. The model is documented in sim_disk.h.
#include <algorithm>
#include <cassert>
#include <cstddef>

#include "simfs/sim_disk.h"
#include "simfs/sim_disk_impl.h"

namespace kiln::simfs {
namespace {

using detail::DirEntry;
using detail::DirOp;
using detail::DirOpKind;

Status Injected(std::string_view detail) {
  return Status::IOError("injected I/O error: " + std::string(detail));
}

}  // namespace

// --- The queue of directory operations. ---

void SimDisk::Impl::issue(DirOp op) {
  assert(!op.durable);
  const bool applied = visible.apply(op);
  assert(applied && "a directory operation was issued without checking that it applies");
  (void)applied;
  dir_ops.push_back(std::move(op));
}

uint64_t SimDisk::Impl::create_file(uint64_t parent, const std::string& name) {
  const uint64_t id = next_id++;
  inodes[id];
  issue(DirOp{DirOpKind::kCreate, parent, name, "", id});
  assert(inodes.count(id) == 1);
  return id;
}

void SimDisk::Impl::commit_dir_ops(uint64_t dir) {
  for (DirOp& op : dir_ops) {
    if (dir == 0 || op.parent == dir) op.durable = true;
  }
  // The durable prefix joins the base tree; a durable operation behind a pending one waits, so
  // that a crash can still replay the two in issue order.
  size_t folded = 0;
  while (folded < dir_ops.size() && dir_ops[folded].durable) {
    const bool applied = base.apply(dir_ops[folded]);
    assert(applied && "the base tree diverged from the operations issued on it");
    (void)applied;
    ++folded;
  }
  if (folded == 0) return;
  dir_ops.erase(dir_ops.begin(), dir_ops.begin() + static_cast<std::ptrdiff_t>(folded));
  collect_garbage();
}

void SimDisk::Impl::collect_garbage() {
  std::set<uint64_t> reachable;
  visible.collect_files(&reachable);
  base.collect_files(&reachable);
  for (const DirOp& op : dir_ops) {
    if (op.kind == DirOpKind::kCreate) reachable.insert(op.id);
  }
  for (const auto& [id, h] : handles) reachable.insert(h.inode);
  std::erase_if(inodes, [&reachable](const auto& kv) { return reachable.count(kv.first) == 0; });
  assert(inodes.size() == reachable.size());
}

detail::Namespace SimDisk::Impl::durable_tree() const {
  detail::Namespace tree = base;
  for (const DirOp& op : dir_ops) {
    if (op.durable) tree.apply(op);
  }
  return tree;
}

// --- Operations. ---

Status SimDisk::create_dir(std::string_view path) {
  if (op_begins()) return impl_->dead("mkdir");
  Result<std::vector<std::string>> parts = impl_->split(path, "mkdir");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "mkdir " + name);
  if (parts->empty()) return Status::Ok();
  Result<uint64_t> parent = impl_->visible.resolve_parent(*parts);
  if (!parent.ok()) return parent.status().WithContext("mkdir " + name);
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, "mkdir " + name,
                    0)) {
    return Injected("mkdir " + name);
  }
  const DirEntry* e = impl_->visible.find(*parent, parts->back());
  if (e != nullptr && e->is_dir) return Status::Ok();
  if (e != nullptr) return Status::InvalidArgument("mkdir " + name + ": a file has that name");
  impl_->issue(DirOp{DirOpKind::kMkdir, *parent, parts->back(), "", impl_->next_id++});
  return Status::Ok();
}

Status SimDisk::remove(std::string_view path) {
  if (op_begins()) return impl_->dead("remove");
  Result<std::vector<std::string>> parts = impl_->split(path, "remove");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "remove " + name);
  if (parts->empty()) return Status::InvalidArgument("remove: cannot remove the root directory");
  Result<uint64_t> parent = impl_->visible.resolve_parent(*parts);
  if (!parent.ok()) return parent.status().WithContext("remove " + name);
  const DirEntry* e = impl_->visible.find(*parent, parts->back());
  if (e == nullptr) return Status::NotFound("remove " + name + ": no such file or directory");
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, "remove " + name,
                    e->is_dir ? 0 : e->id)) {
    return Injected("remove " + name);
  }
  if (e->is_dir && !impl_->visible.entries(e->id)->empty()) {
    return Status::InvalidArgument("remove " + name + ": directory not empty");
  }
  impl_->issue(DirOp{DirOpKind::kRemove, *parent, parts->back(), "", 0});
  impl_->collect_garbage();
  return Status::Ok();
}

Status SimDisk::rename(std::string_view from, std::string_view to) {
  if (op_begins()) return impl_->dead("rename");
  Result<std::vector<std::string>> source = impl_->split(from, "rename");
  if (!source.ok()) return source.status();
  Result<std::vector<std::string>> target = impl_->split(to, "rename");
  if (!target.ok()) return target.status();
  const std::string text = "rename " + detail::JoinPath(*source) + "->" + detail::JoinPath(*target);
  impl_->record(0, 0, text);
  if (source->empty() || target->empty()) {
    return Status::InvalidArgument(text + ": cannot rename the root directory");
  }
  if (!std::equal(source->begin(), source->end() - 1, target->begin(), target->end() - 1)) {
    return Status::InvalidArgument(text + ": rename across directories is not supported");
  }
  Result<uint64_t> parent = impl_->visible.resolve_parent(*source);
  if (!parent.ok()) return parent.status().WithContext(text);
  const DirEntry* src = impl_->visible.find(*parent, source->back());
  if (src == nullptr) return Status::NotFound(text + ": no such file or directory");
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, text,
                    src->is_dir ? 0 : src->id)) {
    return Injected(text);
  }
  if (source->back() == target->back()) return Status::Ok();
  const DirEntry* dst = impl_->visible.find(*parent, target->back());
  if (dst != nullptr && dst->is_dir != src->is_dir) {
    return Status::InvalidArgument(text + ": cannot replace a file with a directory or back");
  }
  if (dst != nullptr && dst->is_dir && !impl_->visible.entries(dst->id)->empty()) {
    return Status::InvalidArgument(text + ": target directory not empty");
  }
  impl_->issue(DirOp{DirOpKind::kRename, *parent, source->back(), target->back(), 0});
  impl_->collect_garbage();  // A replaced file may now be unreachable.
  return Status::Ok();
}

Result<std::vector<std::string>> SimDisk::list(std::string_view dir) {
  if (op_begins()) return impl_->dead("list");
  Result<std::vector<std::string>> parts = impl_->split(dir, "list");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "list " + name);
  Result<DirEntry> e = impl_->visible.resolve(*parts);
  if (!e.ok()) return e.status().WithContext("list " + name);
  if (!e->is_dir) return Status::InvalidArgument("list " + name + ": not a directory");
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, "list " + name,
                    0)) {
    return Injected("list " + name);
  }
  std::vector<std::string> names;
  for (const auto& [n, entry] : *impl_->visible.entries(e->id)) names.push_back(n);
  assert(std::is_sorted(names.begin(), names.end()));
  return names;
}

Status SimDisk::sync_dir(std::string_view dir) {
  if (op_begins()) return impl_->dead("syncdir");
  Result<std::vector<std::string>> parts = impl_->split(dir, "syncdir");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "syncdir " + name);
  Result<DirEntry> e = impl_->visible.resolve(*parts);
  if (!e.ok()) return e.status().WithContext("syncdir " + name);
  if (!e->is_dir) return Status::InvalidArgument("syncdir " + name + ": not a directory");
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors,
                    "syncdir " + name, 0)) {
    return Injected("syncdir " + name);  // Nothing became durable.
  }
  const bool journal = faults_.dir_crash_mode == DirCrashMode::kJournal;
  impl_->commit_dir_ops(journal ? 0 : e->id);
  return Status::Ok();
}

Result<uint64_t> SimDisk::file_size(std::string_view path) {
  if (op_begins()) return impl_->dead("filesize");
  Result<std::vector<std::string>> parts = impl_->split(path, "filesize");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "filesize " + name);
  Result<DirEntry> e = impl_->visible.resolve(*parts);
  if (!e.ok()) return e.status().WithContext("filesize " + name);
  if (e->is_dir) return Status::InvalidArgument("filesize " + name + ": is a directory");
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors,
                    "filesize " + name, e->id)) {
    return Injected("filesize " + name);
  }
  if (impl_->sticky.count(e->id) != 0) {
    return Status::IOError("sticky I/O error on " + name + " (until reboot)");
  }
  return uint64_t{impl_->inodes.at(e->id).visible.size()};
}

Result<bool> SimDisk::exists(std::string_view path) {
  if (op_begins()) return impl_->dead("exists");
  Result<std::vector<std::string>> parts = impl_->split(path, "exists");
  if (!parts.ok()) return parts.status();
  impl_->record(0, 0, "exists " + detail::JoinPath(*parts));
  return impl_->visible.resolve(*parts).ok();
}

Status SimDisk::lock(std::string_view path) {
  if (op_begins()) return impl_->dead("lock");
  Result<std::vector<std::string>> parts = impl_->split(path, "lock");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "lock " + name);
  if (parts->empty()) return Status::InvalidArgument("lock: the root directory is not a file");
  if (impl_->locks.count(name) != 0) return Status::Unavailable("lock " + name + ": held");
  Result<uint64_t> parent = impl_->visible.resolve_parent(*parts);
  if (!parent.ok()) return parent.status().WithContext("lock " + name);
  const DirEntry* e = impl_->visible.find(*parent, parts->back());
  if (e != nullptr && e->is_dir) return Status::InvalidArgument("lock " + name + ": directory");
  // Like open(O_CREAT) + flock: the lock file is created if it is missing.
  if (e == nullptr) impl_->create_file(*parent, parts->back());
  impl_->locks.insert(name);
  return Status::Ok();
}

Status SimDisk::unlock(std::string_view path) {
  if (op_begins()) return impl_->dead("unlock");
  Result<std::vector<std::string>> parts = impl_->split(path, "unlock");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "unlock " + name);
  if (impl_->locks.erase(name) == 0)
    return Status::InvalidArgument("unlock " + name + ": not held");
  return Status::Ok();
}

}  // namespace kiln::simfs
