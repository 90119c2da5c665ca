// The simulated disk's file data: durable bytes, visible bytes, and the unsynced writes between
// them. Internal to SimDisk. Bytes are kept in std::string (one char per byte).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::simfs::detail {

// No simulated file grows past this: a write there is a bug in the caller, not a disk to model.
inline constexpr uint64_t kFileBytesMax = uint64_t{1} << 32;

// One write or truncate issued since the file's last sync.
struct PendingWrite {
  uint64_t seq = 0;  // Issue order across the whole disk.
  bool is_truncate = false;
  uint64_t offset = 0;  // Write: where it starts. Truncate: the new size.
  std::string bytes;    // Write only.
};

// Undoes one write or truncate: put `old_bytes` back at `offset`, then cut to `size_before`.
struct Undo {
  uint64_t size_before = 0;
  uint64_t offset = 0;
  std::string old_bytes;
};

struct Inode {
  std::string durable;           // What a crash keeps for certain.
  std::string visible;           // What reads see.
  uint64_t allocated_bytes = 0;  // allocate() reserved [0, allocated_bytes); survives crashes.
  std::vector<PendingWrite> unsynced;  // In issue order.
  // How to turn `durable` back into what it was before the last sync that changed it: for a
  // known bug, which does that on a crash. Costs the bytes that sync overwrote, not the file.
  std::vector<Undo> last_sync_undo;

  // Bytes counted against capacity.
  uint64_t footprint_bytes() const;
};

// Writes `data` at `offset`, zero-filling any gap past the end.
void ApplyWrite(std::string* bytes, uint64_t offset, std::string_view data);
// Cuts or zero-extends to `size`.
void ApplyTruncate(std::string* bytes, uint64_t size);
// Applies `op` to `bytes`.
void ApplyPending(std::string* bytes, const PendingWrite& op);
// Applies `ops` in order to `bytes`, replacing `undo` with the log that reverts them.
void ApplyWithUndo(std::string* bytes, const std::vector<PendingWrite>& ops,
                   std::vector<Undo>* undo);
// Reverts what ApplyWithUndo applied (last first).
void ApplyUndo(std::string* bytes, const std::vector<Undo>& undo);

}  // namespace kiln::simfs::detail
