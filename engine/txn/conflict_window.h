// ConflictWindow: what optimistic concurrency checks a commit against. It remembers the write
// keys of recent commits, in the order they were sequenced (which is their LSN order: see
// KvStore::write_lsn), and answers: did any commit after version V write a key that this read
// set covers?
//
// Bounds: at most `commits_max` resolved commits are remembered; forgetting one raises floor(),
// and a transaction that read below the floor can no longer be checked (TooOld). A commit still
// in flight (no LSN yet) is never forgotten and conflicts with everyone: it may land at any LSN.
// A commit whose outcome is Unknown is kept as in flight until forgotten, then raises the floor
// to "everything": after an Unknown the store has fail-stopped anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/runtime/status.h"
#include "engine/wal/wal.h"

namespace kiln::txn {

// The keys a transaction's reads depend on: point keys and [begin, end) ranges ("" end: to the
// last key).
struct ReadSet {
  std::set<std::string> keys;
  std::vector<std::pair<std::string, std::string>> ranges;

  bool covers(const std::string& key) const;
  size_t size() const { return keys.size() + ranges.size(); }
};

// What a commit did to one key, as far as a counter on it is concerned.
struct KeyEffect {
  enum class Kind : uint8_t { kPut, kDelete, kAdd };
  Kind kind = Kind::kPut;
  int64_t number = 0;    // A put's value if `integer`; an add's delta.
  bool integer = false;  // A put: its value is a decimal int64.
};

// The values a key may hold: integers within [lo, hi] if `ints`, and a non-integer if `other`.
struct ValueRange {
  bool ints = true;
  int64_t lo = 0;
  int64_t hi = 0;
  bool other = false;
};

class ConflictWindow {
 public:
  explicit ConflictWindow(size_t commits_max);

  // Sequences a commit that writes `keys` with these effects (by key); returns its sequence
  // number.
  uint64_t add(std::vector<std::string> keys, std::map<std::string, KeyEffect> effects = {});
  // The commit landed at `lsn`.
  void committed(uint64_t seq, wal::Lsn lsn);
  // The commit wrote nothing (NoSpace, InvalidArgument, Unavailable): forget it.
  void failed(uint64_t seq);
  // The commit's fate is unknown: it stays as if in flight.
  void unknown(uint64_t seq);

  // Ok; Conflict naming a key if a commit after `read_version` (or in flight) wrote a key that
  // `reads` covers; TooOld if commits after `read_version` may have been forgotten.
  Status check(wal::Lsn read_version, const ReadSet& reads) const;

  // The values `key` may hold just after every commit sequenced so far, given the value it had
  // at `read_version` (`at_read`): commits after read_version apply; ones still in flight may
  // or may not. REQUIRES: check(read_version, ...) was not TooOld.
  ValueRange possible_values(wal::Lsn read_version, const std::string& key,
                             ValueRange at_read) const;

  wal::Lsn floor() const { return floor_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t seq = 0;
    wal::Lsn lsn = 0;  // 0: in flight (or unknown).
    bool unknown = false;
    std::vector<std::string> keys;  // Sorted.
    std::map<std::string, KeyEffect> effects;
  };
  Entry* find(uint64_t seq);
  void evict();

  size_t commits_max_;
  uint64_t next_seq_ = 1;
  wal::Lsn floor_ = 0;  // Every commit with an LSN above the floor is in entries_.
  std::deque<Entry> entries_;
};

}  // namespace kiln::txn
