// The simulated disk's file data: applying writes and truncates.
#include "simfs/disk_inode.h"

#include <algorithm>
#include <cassert>
#include <cstddef>

namespace kiln::simfs::detail {

uint64_t Inode::footprint_bytes() const {
  return std::max<uint64_t>(visible.size(), allocated_bytes);
}

void ApplyWrite(std::string* bytes, uint64_t offset, std::string_view data) {
  assert(bytes != nullptr);
  assert(offset + data.size() <= kFileBytesMax);
  if (data.empty()) return;
  const uint64_t end = offset + data.size();
  if (bytes->size() < end) bytes->resize(end, '\0');
  std::copy(data.begin(), data.end(), bytes->begin() + static_cast<std::ptrdiff_t>(offset));
  assert(bytes->size() >= end);
}

void ApplyTruncate(std::string* bytes, uint64_t size) {
  assert(bytes != nullptr);
  assert(size <= kFileBytesMax);
  bytes->resize(size, '\0');
}

void ApplyPending(std::string* bytes, const PendingWrite& op) {
  if (op.is_truncate) {
    assert(op.bytes.empty());
    ApplyTruncate(bytes, op.offset);
  } else {
    ApplyWrite(bytes, op.offset, op.bytes);
  }
}

void ApplyWithUndo(std::string* bytes, const std::vector<PendingWrite>& ops,
                   std::vector<Undo>* undo) {
  assert(undo != nullptr);
  undo->clear();
  for (const PendingWrite& op : ops) {
    const uint64_t size = bytes->size();
    // The bytes the op overwrites (a write) or cuts off (a shrinking truncate).
    const uint64_t begin = std::min(op.offset, size);
    const uint64_t end = op.is_truncate ? size : std::min(op.offset + op.bytes.size(), size);
    undo->push_back({size, begin, bytes->substr(begin, end - begin)});
    ApplyPending(bytes, op);
  }
  assert(undo->size() == ops.size());
}

void ApplyUndo(std::string* bytes, const std::vector<Undo>& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    ApplyWrite(bytes, it->offset, it->old_bytes);
    ApplyTruncate(bytes, it->size_before);
    assert(bytes->size() == it->size_before);
  }
}

}  // namespace kiln::simfs::detail
