// The simulated disk's directory tree and its directory operations (create, mkdir, rename,
// remove). Internal to SimDisk: the disk keeps a visible tree, a durable base tree, and the
// ordered list of operations between them; a crash replays a chosen subset onto the base.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/result.h"

namespace kiln::simfs::detail {

// Directories and inodes share one id space; the root directory is always kRootDirId.
inline constexpr uint64_t kRootDirId = 1;

struct DirEntry {
  bool is_dir = false;
  uint64_t id = 0;  // The file's inode, or the directory's id.
};
using DirEntries = std::map<std::string, DirEntry, std::less<>>;

enum class DirOpKind : uint8_t { kCreate, kMkdir, kRename, kRemove };

// One directory operation, as issued. Names are single components within `parent`, so replaying
// an operation does not depend on what its parent is called (a renamed directory keeps them).
struct DirOp {
  DirOpKind kind = DirOpKind::kCreate;
  uint64_t parent = kRootDirId;  // The directory whose sync makes this durable.
  std::string name;              // The entry (rename: the source).
  std::string to;                // Rename only: the target name.
  uint64_t id = 0;               // Create: the new inode; mkdir: the new directory's id.
  bool durable = false;          // Made durable by a sync; still waiting for earlier ops.

  std::string ToString() const;  // "create 7/name", "rename 1/a->b": short, for traces.
};

// A normalized path: its components, root = no components. "a//b/./c/" -> {a, b, c}.
// InvalidArgument for an empty path, NUL, or "..".
Result<std::vector<std::string>> SplitPath(std::string_view path);
// "a/b/c", or "/" for the root.
std::string JoinPath(const std::vector<std::string>& parts);

class Namespace {
 public:
  Namespace();  // Just the root.

  // The entries of directory `dir`, or nullptr if it does not exist.
  const DirEntries* entries(uint64_t dir) const;
  const DirEntry* find(uint64_t dir, std::string_view name) const;
  // Walks `parts` from the root. NotFound if a component is missing; InvalidArgument if one
  // before the last is a file. The root resolves to {is_dir, kRootDirId}.
  Result<DirEntry> resolve(const std::vector<std::string>& parts) const;
  // The directory holding the last component. REQUIRES: !parts.empty().
  Result<uint64_t> resolve_parent(const std::vector<std::string>& parts) const;

  // True if `op` applies here (and then applies it); false (changing nothing) if it cannot:
  // a missing parent or source, an existing target of the wrong kind, a non-empty directory.
  bool apply(const DirOp& op);

  // The file inodes reachable from the root, added to `files`.
  void collect_files(std::set<uint64_t>* files) const;
  // Drops directories that the root cannot reach (their mkdir was lost, or an ancestor's).
  void prune();

 private:
  bool apply_rename(const DirOp& op);

  std::map<uint64_t, DirEntries> dirs_;
};

}  // namespace kiln::simfs::detail
