// The simulated disk's directory tree: path handling, and applying directory operations.
#include "simfs/disk_namespace.h"

#include <cassert>
#include <cstddef>

#include "engine/runtime/filesystem.h"

namespace kiln::simfs::detail {
namespace {
// Bounds a path walk, so that a corrupt tree cannot loop forever.
constexpr size_t kDepthMax = 256;
}  // namespace

std::string DirOp::ToString() const {
  std::string out;
  switch (kind) {
    case DirOpKind::kCreate:
      out = "create ";
      break;
    case DirOpKind::kMkdir:
      out = "mkdir ";
      break;
    case DirOpKind::kRename:
      out = "rename ";
      break;
    case DirOpKind::kRemove:
      out = "remove ";
      break;
  }
  out += std::to_string(parent) + "/" + name;
  if (kind == DirOpKind::kRename) out += "->" + to;
  return out;
}

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  if (Status s = ValidatePath(path); !s.ok()) return s;
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(begin, end - begin);
    if (part == "..") return Status::InvalidArgument("path contains '..': " + std::string(path));
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (parts.size() > kDepthMax) return Status::InvalidArgument("path is too deep");
    begin = end + 1;
  }
  return parts;
}

std::string JoinPath(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

Namespace::Namespace() {
  dirs_[kRootDirId];
}

const DirEntries* Namespace::entries(uint64_t dir) const {
  auto it = dirs_.find(dir);
  return it == dirs_.end() ? nullptr : &it->second;
}

const DirEntry* Namespace::find(uint64_t dir, std::string_view name) const {
  const DirEntries* e = entries(dir);
  if (e == nullptr) return nullptr;
  auto it = e->find(name);
  return it == e->end() ? nullptr : &it->second;
}

Result<DirEntry> Namespace::resolve(const std::vector<std::string>& parts) const {
  assert(parts.size() <= kDepthMax);
  DirEntry at{true, kRootDirId};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!at.is_dir) {
      return Status::InvalidArgument(
          "not a directory: " +
          JoinPath({parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i)}));
    }
    const DirEntry* next = find(at.id, parts[i]);
    if (next == nullptr) return Status::NotFound("no such file or directory: " + JoinPath(parts));
    at = *next;
  }
  assert(at.id != 0);
  return at;
}

Result<uint64_t> Namespace::resolve_parent(const std::vector<std::string>& parts) const {
  assert(!parts.empty());
  Result<DirEntry> parent = resolve({parts.begin(), parts.end() - 1});
  if (!parent.ok()) return parent.status();
  if (!parent->is_dir) return Status::InvalidArgument("not a directory: " + JoinPath(parts));
  return parent->id;
}

bool Namespace::apply(const DirOp& op) {
  auto dir = dirs_.find(op.parent);
  if (dir == dirs_.end()) return false;
  DirEntries& entries = dir->second;
  switch (op.kind) {
    case DirOpKind::kCreate:
    case DirOpKind::kMkdir: {
      const bool is_dir = op.kind == DirOpKind::kMkdir;
      assert(op.id != 0);
      if (entries.count(op.name) != 0) return false;
      if (is_dir && dirs_.count(op.id) != 0) return false;
      entries.emplace(op.name, DirEntry{is_dir, op.id});
      if (is_dir) dirs_[op.id];
      return true;
    }
    case DirOpKind::kRename:
      return apply_rename(op);
    case DirOpKind::kRemove: {
      auto it = entries.find(op.name);
      if (it == entries.end()) return false;
      if (it->second.is_dir) {
        auto sub = dirs_.find(it->second.id);
        if (sub != dirs_.end() && !sub->second.empty()) return false;
        if (sub != dirs_.end()) dirs_.erase(sub);
      }
      entries.erase(it);
      return true;
    }
  }
  return false;
}

bool Namespace::apply_rename(const DirOp& op) {
  assert(op.kind == DirOpKind::kRename);
  DirEntries& entries = dirs_.at(op.parent);
  auto source = entries.find(op.name);
  if (source == entries.end()) return false;
  if (op.name == op.to) return true;
  auto target = entries.find(op.to);
  if (target != entries.end()) {
    if (target->second.is_dir != source->second.is_dir) return false;
    if (target->second.is_dir) {
      auto sub = dirs_.find(target->second.id);
      if (sub != dirs_.end() && !sub->second.empty()) return false;
      if (sub != dirs_.end()) dirs_.erase(sub);
    }
    target->second = source->second;
  } else {
    entries.emplace(op.to, source->second);
  }
  entries.erase(op.name);
  return true;
}

void Namespace::collect_files(std::set<uint64_t>* files) const {
  assert(files != nullptr);
  std::vector<uint64_t> stack = {kRootDirId};
  // Each directory is pushed at most once (a tree), so the walk is bounded by dirs_.size().
  for (size_t visited = 0; !stack.empty() && visited <= dirs_.size(); ++visited) {
    const uint64_t dir = stack.back();
    stack.pop_back();
    const DirEntries* e = entries(dir);
    if (e == nullptr) continue;
    for (const auto& [name, entry] : *e) {
      if (entry.is_dir) {
        stack.push_back(entry.id);
      } else {
        files->insert(entry.id);
      }
    }
  }
  assert(stack.empty());
}

void Namespace::prune() {
  std::set<uint64_t> reachable = {kRootDirId};
  std::vector<uint64_t> stack = {kRootDirId};
  for (size_t visited = 0; !stack.empty() && visited <= dirs_.size(); ++visited) {
    const uint64_t dir = stack.back();
    stack.pop_back();
    const DirEntries* e = entries(dir);
    if (e == nullptr) continue;
    for (const auto& [name, entry] : *e) {
      if (entry.is_dir && reachable.insert(entry.id).second) stack.push_back(entry.id);
    }
  }
  std::erase_if(dirs_, [&reachable](const auto& kv) { return reachable.count(kv.first) == 0; });
  assert(dirs_.count(kRootDirId) == 1);
}

}  // namespace kiln::simfs::detail
