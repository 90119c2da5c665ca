#include "engine/txn/conflict_window.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "engine/runtime/printable.h"

namespace kiln::txn {

bool ReadSet::covers(const std::string& key) const {
  if (keys.contains(key)) return true;
  for (const auto& [begin, end] : ranges) {
    if (key >= begin && (end.empty() || key < end)) return true;
  }
  return false;
}

ConflictWindow::ConflictWindow(size_t commits_max) : commits_max_(commits_max) {
  assert(commits_max_ >= 1);
}

uint64_t ConflictWindow::add(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  Entry e;
  e.seq = next_seq_++;
  e.keys = std::move(keys);
  entries_.push_back(std::move(e));
  return entries_.back().seq;
}

ConflictWindow::Entry* ConflictWindow::find(uint64_t seq) {
  // Entries are in sequence order: binary search.
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Entry& e, uint64_t s) { return e.seq < s; });
  return it != entries_.end() && it->seq == seq ? &*it : nullptr;
}

void ConflictWindow::committed(uint64_t seq, wal::Lsn lsn) {
  assert(lsn > floor_);
  Entry* e = find(seq);
  assert(e != nullptr);
  e->lsn = lsn;
  evict();
}

void ConflictWindow::failed(uint64_t seq) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Entry& e, uint64_t s) { return e.seq < s; });
  assert(it != entries_.end() && it->seq == seq);
  entries_.erase(it);
}

void ConflictWindow::unknown(uint64_t seq) {
  Entry* e = find(seq);
  assert(e != nullptr);
  e->unknown = true;
  evict();
}

void ConflictWindow::evict() {
  // Oldest first, and only settled entries: the floor only rises, and an in-flight commit is
  // never forgotten.
  while (entries_.size() > commits_max_ &&
         (entries_.front().lsn != 0 || entries_.front().unknown)) {
    const Entry& e = entries_.front();
    floor_ = e.unknown ? std::numeric_limits<wal::Lsn>::max() : std::max(floor_, e.lsn);
    entries_.pop_front();
  }
}

Status ConflictWindow::check(wal::Lsn read_version, const ReadSet& reads) const {
  if (read_version < floor_) {
    return Status::TooOld("txn: read at version " + std::to_string(read_version) +
                          ", but commits after " + std::to_string(floor_) +
                          " are no longer remembered to check against");
  }
  // Newest first. Commits are sequenced in LSN order, so once one at or below the read version
  // is reached, every older one is too: an older commit still waiting to hear its LSN got a
  // smaller one, and is durable and applied if a later one is.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    const Entry& e = *it;
    if (e.lsn != 0 && e.lsn <= read_version) break;  // It and all before: in what it read.
    for (const std::string& key : e.keys) {
      if (!reads.covers(key)) continue;
      const std::string when =
          e.lsn != 0 ? "at version " + std::to_string(e.lsn) : std::string("in flight");
      return Status::Conflict("txn: " + Printable(key) + " was written by a commit " + when +
                              ", after this transaction's read version " +
                              std::to_string(read_version));
    }
  }
  return Status::Ok();
}

}  // namespace kiln::txn
