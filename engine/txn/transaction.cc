// Transaction: reads through a snapshot overlaid with the transaction's own writes, the read
// set, and commit (validate against the conflict window, then one logged batch).
#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/runtime/bugs.h"
#include "engine/runtime/printable.h"
#include "engine/txn/txn_store.h"

namespace kiln::txn {

KILN_DEFINE_BUG(snapshot_isolation, "txn-snapshot-isolation",
                "commit checks only the transaction's writes against later commits' writes "
                "(snapshot isolation), not its reads: write skew commits");
KILN_DEFINE_BUG(range_reads_unrecorded, "txn-range-reads-unrecorded",
                "scan_range does not record its range in the read set: a key inserted into a "
                "scanned range does not conflict (phantoms)");

Transaction::Transaction(TxnStore& store, std::unique_ptr<kv::KvSnapshot> view, MonoTime began)
    : store_(store), view_(std::move(view)), began_(began) {
  assert(view_ != nullptr);
  read_version_ = view_->version();
}

Status Transaction::Usable(const char* what) const {
  if (state_ == State::kActive) return Status::Ok();
  std::string why;
  switch (state_) {
    case State::kCommitting:
      why = "is committing";
      break;
    case State::kCommitted:
      why = "has committed";
      break;
    case State::kAborted:
      why = "was aborted";
      break;
    case State::kFailed:
      why = "failed to commit";
      break;
    case State::kActive:
      break;
  }
  std::string msg = std::string("txn: ") + what + " on a transaction that " + why;
  if (!ended_by_.ok()) msg += " (" + ended_by_.ToString() + ")";
  return Status::InvalidArgument(msg);
}

void Transaction::Finish(State state, Status why) {
  assert(state != State::kActive);
  state_ = state;
  ended_by_ = std::move(why);
  view_.reset();  // Gives the snapshot back to LevelDB.
}

Status Transaction::Record(bool range, std::string begin, std::string end) {
  if (reads_.size() >= store_.options_.reads_max) {
    return Status::InvalidArgument("txn: more than " + std::to_string(store_.options_.reads_max) +
                                   " reads in one transaction");
  }
  if (range) {
    reads_.ranges.emplace_back(std::move(begin), std::move(end));
  } else {
    reads_.keys.insert(std::move(begin));
  }
  return Status::Ok();
}

Task<Result<std::optional<std::string>>> Transaction::get(std::string key) {
  if (Status s = Usable("get"); !s.ok()) co_return s;
  auto own = writes_.find(key);
  if (own != writes_.end()) co_return own->second;  // Its own write: depends on no one else.
  if (Status s = Record(false, key, {}); !s.ok()) co_return s;
  co_return co_await view_->get(std::move(key));
}

Task<Result<kv::KeyValues>> Transaction::scan_range(std::string begin, std::string end,
                                                    size_t limit) {
  if (Status s = Usable("scan_range"); !s.ok()) co_return s;
  if (!end.empty() && begin > end) {
    co_return Status::InvalidArgument("txn scan_range: begin is after end");
  }
  if (!KILN_BUG(range_reads_unrecorded)) {
    if (Status s = Record(true, begin, end); !s.ok()) co_return s;
  }
  // Own deletes in the range may hide stored rows: read that many more.
  auto first = writes_.lower_bound(begin);
  auto last = end.empty() ? writes_.end() : writes_.lower_bound(end);
  size_t own_deletes = 0;
  for (auto it = first; it != last; ++it) own_deletes += it->second.has_value() ? 0 : 1;
  const size_t want = limit > SIZE_MAX - own_deletes ? SIZE_MAX : limit + own_deletes;
  Result<kv::KeyValues> stored = co_await view_->scan_range(begin, end, want);
  if (!stored.ok()) co_return stored.status();
  // Merge: own writes win. If the stored rows were cut at `want`, only keys up to the last one
  // returned are complete, so own puts beyond it must not be merged in.
  const bool cut = stored->size() == want;
  kv::KeyValues out;
  auto own = first;
  for (auto& [k, v] : *stored) {
    for (; own != last && own->first < k; ++own) {
      if (own->second.has_value()) out.emplace_back(own->first, *own->second);
    }
    if (own != last && own->first == k) {
      if (own->second.has_value()) out.emplace_back(k, *own->second);
      ++own;
    } else {
      out.emplace_back(std::move(k), std::move(v));
    }
  }
  if (!cut) {
    for (; own != last; ++own) {
      if (own->second.has_value()) out.emplace_back(own->first, *own->second);
    }
  }
  if (out.size() > limit) out.resize(limit);
  co_return out;
}

Status Transaction::Buffer(const char* what, std::string key, std::optional<std::string> value) {
  if (Status s = Usable(what); !s.ok()) return s;
  if (key.empty()) return Status::InvalidArgument("txn: empty key");
  if (!writes_.contains(key) && writes_.size() >= store_.options_.writes_max) {
    return Status::InvalidArgument("txn: more than " + std::to_string(store_.options_.writes_max) +
                                   " keys written in one transaction");
  }
  writes_[std::move(key)] = std::move(value);
  return Status::Ok();
}

Status Transaction::put(std::string key, std::string value) {
  return Buffer("put", std::move(key), std::move(value));
}

Status Transaction::del(std::string key) {
  return Buffer("del", std::move(key), std::nullopt);
}

void Transaction::abort() {
  if (state_ == State::kActive) Finish(State::kAborted, Status::Ok());
}

Task<Status> Transaction::commit() {
  if (Status s = Usable("commit"); !s.ok()) co_return s;
  if (writes_.empty()) {  // Read-only: its snapshot was consistent; nothing to check.
    Finish(State::kCommitted, Status::Ok());
    co_return Status::Ok();
  }
  const Duration age = store_.clock_.monotonic_now() - began_;
  if (age > store_.options_.age_max) {
    Status s =
        Status::TooOld("txn: began " + std::to_string(age.count()) + "us ago, over age_max " +
                       std::to_string(store_.options_.age_max.count()) + "us");
    Finish(State::kAborted, s);
    co_return s;
  }
  // From the check to the append, no await: the check and the sequencing are one step, and the
  // batch takes its LSN in sequence order (KvStore::write_lsn's ordering contract).
  ReadSet checked;
  if (KILN_BUG(snapshot_isolation)) {
    for (const auto& [k, v] : writes_) checked.keys.insert(k);  // Wrong: first-committer-wins.
  }
  const ReadSet& against = KILN_BUG(snapshot_isolation) ? checked : reads_;
  if (Status s = store_.window_.check(read_version_, against); !s.ok()) {
    Finish(State::kAborted, s);
    co_return s;
  }
  kv::WriteBatch batch;
  std::vector<std::string> keys;
  keys.reserve(writes_.size());
  for (auto& [k, v] : writes_) {
    keys.push_back(k);
    if (v.has_value()) {
      batch.put(k, std::move(*v));
    } else {
      batch.del(k);
    }
  }
  const uint64_t seq = store_.window_.add(std::move(keys));
  state_ = State::kCommitting;
  view_.reset();
  Result<wal::Lsn> lsn = co_await store_.kv_.write_lsn(std::move(batch));
  if (lsn.ok()) {
    store_.window_.committed(seq, *lsn);
    commit_version_ = *lsn;
    assert(commit_version_ > read_version_);
    Finish(State::kCommitted, Status::Ok());
    co_return Status::Ok();
  }
  if (lsn.status().IsUnknown()) {
    store_.window_.unknown(seq);
  } else {
    store_.window_.failed(seq);  // NoSpace, InvalidArgument, Unavailable: nothing written.
  }
  Finish(State::kFailed, lsn.status());
  co_return lsn.status().WithContext("txn commit");
}

}  // namespace kiln::txn
