// Transaction: reads through a snapshot overlaid with the transaction's own writes, the read
// set, and commit (validate against the conflict window, then one logged batch).
#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/runtime/bugs.h"
#include "engine/runtime/printable.h"
#include "engine/txn/txn_store.h"

namespace kiln::txn {
namespace {

// value (absent = 0) + delta, as a decimal int64; InvalidArgument if the value is not one or
// the sum overflows.
Result<std::string> Sum(const std::optional<std::string>& value, int64_t delta) {
  int64_t n = 0;
  if (value.has_value() && !kv::ParseInt64(*value, &n)) {
    return Status::InvalidArgument("txn add: the value is not a decimal int64");
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(n, delta, &sum)) {
    return Status::InvalidArgument("txn add: " + std::to_string(n) + " + " + std::to_string(delta) +
                                   " overflows int64");
  }
  return std::to_string(sum);
}

}  // namespace

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

Transaction::~Transaction() {
  // Destroyed before commit() (its coroutine ended or was destroyed): it never committed. One
  // destroyed while committing stays in doubt: its batch may be durable.
  if (observer_ != nullptr && state_ == State::kActive) {
    observer_->ended(tag_, TxnObserver::Outcome::kAborted, read_version_, 0);
  }
}

void Transaction::set_tag(uint64_t tag) {
  assert(observer_ == nullptr);
  tag_ = tag;
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
  view_.reset();  // Gives the snapshot back to LevelDB.
  if (observer_ != nullptr) {
    TxnObserver::Outcome outcome = TxnObserver::Outcome::kAborted;  // Nothing was written.
    if (state == State::kCommitted) {
      outcome = TxnObserver::Outcome::kCommitted;
    } else if (state == State::kFailed && why.IsUnknown()) {
      outcome = TxnObserver::Outcome::kUnknown;
    }
    observer_->ended(tag_, outcome, read_version_, commit_version_);
  }
  ended_by_ = std::move(why);
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
  if (own != writes_.end()) {  // Its own write: depends on no one else.
    if (observer_ != nullptr) observer_->read(tag_, key, own->second);
    co_return own->second;
  }
  if (Status s = Record(false, key, {}); !s.ok()) co_return s;
  auto added = adds_.find(key);
  const int64_t delta = added == adds_.end() ? 0 : added->second;
  const bool has_add = added != adds_.end();
  Result<std::optional<std::string>> stored = co_await view_->get(key);
  if (!stored.ok()) co_return stored;
  if (has_add) {
    Result<std::string> sum = Sum(*stored, delta);
    if (!sum.ok()) co_return sum.status();
    stored = std::optional<std::string>(std::move(*sum));
  }
  if (observer_ != nullptr) observer_->read(tag_, key, *stored);
  co_return stored;
}

Task<Result<kv::KeyValues>> Transaction::scan_range(std::string begin, std::string end,
                                                    size_t limit) {
  if (Status s = Usable("scan_range"); !s.ok()) co_return s;
  if (!end.empty() && begin > end) {
    co_return Status::InvalidArgument("txn scan_range: begin is after end");
  }
  // The range is recorded once the scan knows how much of it it saw (below).
  if (!KILN_BUG(range_reads_unrecorded) && reads_.size() >= store_.options_.reads_max) {
    co_return Status::InvalidArgument("txn: more than " +
                                      std::to_string(store_.options_.reads_max) +
                                      " reads in one transaction");
  }
  // This transaction's own writes in the range: puts and deletes win; adds add to the stored
  // value (absent = 0).
  struct Own {
    std::optional<std::string> value;  // A put's value; nullopt: a delete (if !add).
    bool add = false;
    int64_t delta = 0;
  };
  std::map<std::string, Own> own;
  auto in_range = [&begin, &end](const std::string& k) {
    return k >= begin && (end.empty() || k < end);
  };
  for (auto it = writes_.lower_bound(begin); it != writes_.end() && in_range(it->first); ++it) {
    own[it->first] = Own{it->second, false, 0};
  }
  for (auto it = adds_.lower_bound(begin); it != adds_.end() && in_range(it->first); ++it) {
    own[it->first] = Own{std::nullopt, true, it->second};
  }
  // Own deletes may hide stored rows: read that many more.
  size_t own_deletes = 0;
  for (const auto& [k, o] : own) own_deletes += !o.add && !o.value.has_value() ? 1 : 0;
  const size_t want = limit > SIZE_MAX - own_deletes ? SIZE_MAX : limit + own_deletes;
  Result<kv::KeyValues> stored = co_await view_->scan_range(begin, end, want);
  if (!stored.ok()) co_return stored.status();
  // Merge. If the stored rows were cut at `want`, only keys up to the last one returned are
  // complete, so own writes beyond it must not be merged in.
  const bool cut = stored->size() == want;
  const std::string last_stored = stored->empty() ? std::string() : stored->back().first;
  kv::KeyValues out;
  // The first row whose sum failed: an error only if that row is among those returned.
  Status bad;
  size_t bad_row = SIZE_MAX;
  // Emits an own write for a key with a stored row (`stored_value`) or without one (nullopt).
  auto emit = [&out, &bad, &bad_row](const std::string& k, const Own& o,
                                     const std::optional<std::string>& stored_value) {
    if (o.add) {
      Result<std::string> sum = Sum(stored_value, o.delta);
      if (!sum.ok() && bad_row == SIZE_MAX) {
        bad = sum.status();
        bad_row = out.size();
      }
      out.emplace_back(k, sum.ok() ? std::move(*sum) : std::string());
    } else if (o.value.has_value()) {
      out.emplace_back(k, *o.value);
    }
  };
  auto mine = own.begin();
  for (auto& [k, v] : *stored) {
    for (; mine != own.end() && mine->first < k; ++mine) emit(mine->first, mine->second, {});
    if (mine != own.end() && mine->first == k) {
      emit(k, mine->second, v);
      ++mine;
    } else {
      out.emplace_back(std::move(k), std::move(v));
    }
  }
  if (!cut) {
    for (; mine != own.end(); ++mine) emit(mine->first, mine->second, {});
  }
  if (out.size() > limit) out.resize(limit);
  if (bad_row < out.size()) co_return bad;
  // What the scan observed: the whole range, unless it stopped at `limit` rows (or the stored
  // rows were cut); then only up to the last key it saw, so inserts past it do not conflict.
  std::string seen_end = end;
  if (limit > 0 && out.size() == limit) {
    seen_end = out.back().first + '\0';
  } else if (cut && !last_stored.empty()) {
    seen_end = last_stored + '\0';
  }
  if (!end.empty() && !seen_end.empty() && seen_end > end) seen_end = end;
  if (limit > 0 && !KILN_BUG(range_reads_unrecorded)) {
    if (Status s = Record(true, begin, std::move(seen_end)); !s.ok()) co_return s;
  }
  if (observer_ != nullptr) observer_->scanned(tag_, begin, end, limit, out);
  co_return out;
}

Status Transaction::CheckWriteRoom(const std::string& key) const {
  if (key.empty()) return Status::InvalidArgument("txn: empty key");
  if (!writes_.contains(key) && !adds_.contains(key) &&
      writes_.size() + adds_.size() >= store_.options_.writes_max) {
    return Status::InvalidArgument("txn: more than " + std::to_string(store_.options_.writes_max) +
                                   " keys written in one transaction");
  }
  return Status::Ok();
}

Status Transaction::Buffer(const char* what, std::string key, std::optional<std::string> value) {
  if (Status s = Usable(what); !s.ok()) return s;
  if (Status s = CheckWriteRoom(key); !s.ok()) return s;
  if (observer_ != nullptr) observer_->wrote(tag_, key, value);
  adds_.erase(key);  // A put or delete replaces an earlier add of its own.
  writes_[std::move(key)] = std::move(value);
  return Status::Ok();
}

Status Transaction::add(std::string key, int64_t delta) {
  if (Status s = Usable("add"); !s.ok()) return s;
  if (Status s = CheckWriteRoom(key); !s.ok()) return s;
  auto own = writes_.find(key);
  if (own != writes_.end()) {  // Its own put or delete: the sum is known now.
    Result<std::string> sum = Sum(own->second, delta);
    if (!sum.ok()) return sum.status();
    own->second = std::move(*sum);
    if (observer_ != nullptr) observer_->added(tag_, key, delta);
    return Status::Ok();
  }
  auto it = adds_.find(key);
  int64_t total = 0;
  if (__builtin_add_overflow(it == adds_.end() ? 0 : it->second, delta, &total)) {
    return Status::InvalidArgument("txn add: the deltas added to one key overflow int64");
  }
  if (observer_ != nullptr) observer_->added(tag_, key, delta);
  adds_[std::move(key)] = total;
  return Status::Ok();
}

Status Transaction::CheckAdds(
    const std::map<std::string, std::optional<std::string>>& at_read) const {
  for (const auto& [key, delta] : adds_) {
    ValueRange v;
    const std::optional<std::string>& stored = at_read.at(key);
    int64_t n = 0;
    if (!stored.has_value()) {
      v = {true, 0, 0, false};
    } else if (kv::ParseInt64(*stored, &n)) {
      v = {true, n, n, false};
    } else {
      v = {false, 0, 0, true};
    }
    v = store_.window_.possible_values(read_version_, key, v);
    if (v.other) {
      return Status::InvalidArgument("txn add: " + Printable(key) +
                                     " may hold a value that is not a decimal int64");
    }
    int64_t out = 0;
    if (v.ints &&
        (__builtin_add_overflow(v.lo, delta, &out) || __builtin_add_overflow(v.hi, delta, &out))) {
      return Status::InvalidArgument("txn add: " + std::to_string(delta) + " to " + Printable(key) +
                                     " may overflow int64 (it may be anywhere in [" +
                                     std::to_string(v.lo) + ", " + std::to_string(v.hi) + "])");
    }
  }
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
  if (read_only()) {  // Its snapshot was consistent; nothing to check.
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
  // The values its blind adds start from (not reads: they do not join the read set).
  std::map<std::string, std::optional<std::string>> at_read;
  for (const auto& [key, delta] : adds_) {
    Result<std::optional<std::string>> v = co_await view_->get(key);
    if (!v.ok()) {
      Finish(State::kAborted, v.status());
      co_return v.status().WithContext("txn commit");
    }
    at_read[key] = std::move(*v);
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
  if (Status s = CheckAdds(at_read); !s.ok()) {
    Finish(State::kAborted, s);
    co_return s;
  }
  kv::WriteBatch batch;
  std::vector<std::string> keys;
  std::map<std::string, KeyEffect> effects;
  keys.reserve(writes_.size() + adds_.size());
  for (auto& [k, v] : writes_) {
    keys.push_back(k);
    KeyEffect e;
    if (v.has_value()) {
      e.kind = KeyEffect::Kind::kPut;
      e.integer = kv::ParseInt64(*v, &e.number);
      batch.put(k, std::move(*v));
    } else {
      e.kind = KeyEffect::Kind::kDelete;
      batch.del(k);
    }
    effects.emplace(k, e);
  }
  for (const auto& [k, delta] : adds_) {
    keys.push_back(k);
    effects.emplace(k, KeyEffect{KeyEffect::Kind::kAdd, delta, true});
    batch.add(k, delta);
  }
  const uint64_t seq = store_.window_.add(std::move(keys), std::move(effects));
  if (store_.sequenced_) store_.sequenced_(tag_);
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
