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

uint64_t ConflictWindow::add(std::vector<std::string> keys,
                             std::map<std::string, KeyEffect> effects) {
  std::sort(keys.begin(), keys.end());
  Entry e;
  e.seq = next_seq_++;
  e.keys = std::move(keys);
  e.effects = std::move(effects);
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

namespace {

// Saturating: the range only has to cover what may happen, and a bound past int64 is itself the
// answer "may overflow".
int64_t AddSat(int64_t a, int64_t b) {
  int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

ValueRange Apply(const ValueRange& v, const KeyEffect& e) {
  switch (e.kind) {
    case KeyEffect::Kind::kDelete:
      return {true, 0, 0, false};
    case KeyEffect::Kind::kPut:
      return e.integer ? ValueRange{true, e.number, e.number, false}
                       : ValueRange{false, 0, 0, true};
    case KeyEffect::Kind::kAdd:
      return {v.ints, AddSat(v.lo, e.number), AddSat(v.hi, e.number), v.other};
  }
  return v;
}

ValueRange Union(const ValueRange& a, const ValueRange& b) {
  if (!a.ints) return {b.ints, b.lo, b.hi, a.other || b.other};
  if (!b.ints) return {a.ints, a.lo, a.hi, a.other || b.other};
  return {true, std::min(a.lo, b.lo), std::max(a.hi, b.hi), a.other || b.other};
}

}  // namespace

ValueRange ConflictWindow::possible_values(wal::Lsn read_version, const std::string& key,
                                           ValueRange at_read) const {
  ValueRange v = at_read;
  for (const Entry& e : entries_) {
    if (e.lsn != 0 && e.lsn <= read_version) continue;  // Already in at_read.
    auto it = e.effects.find(key);
    if (it == e.effects.end()) continue;
    const ValueRange applied = Apply(v, it->second);
    v = e.lsn != 0 ? applied : Union(v, applied);  // In flight (or Unknown): either way.
  }
  return v;
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
