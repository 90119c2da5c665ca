#include "properties/serializability.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/runtime/printable.h"

namespace kiln::properties {
namespace {

using Outcome = TxnRecord::Outcome;
using StepType = TxnStep::Type;

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// A value in the reference model and the transaction that wrote it last.
struct Cell {
  std::string value;
  size_t writer = kNone;
};

// A transaction's own writes so far: key -> value (nullopt: deleted).
using Overlay = std::map<std::string, std::optional<Cell>>;

bool ParseInt64(const std::string& s, int64_t* out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return !s.empty() && ec == std::errc() && ptr == end;
}

// Counters wrap like two's complement rather than overflow (undefined for int64_t).
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool InRange(const std::string& key, const std::string& begin, const std::string& end) {
  return key >= begin && (end.empty() || key < end);
}

// The keys a transaction touches, to tell which transactions commute.
struct Footprint {
  std::map<std::string, bool> writes;  // Key -> put or deleted (false: only added to).
  std::set<std::string> reads;
  std::vector<std::pair<std::string, std::string>> ranges;  // Scans: [begin, end).

  bool Reads(const std::string& key) const {
    if (reads.count(key) != 0) return true;
    for (const auto& [begin, end] : ranges) {
      if (InRange(key, begin, end)) return true;
    }
    return false;
  }
};

Footprint FootprintOf(const TxnRecord& t) {
  Footprint f;
  for (const TxnStep& s : t.steps) {
    switch (s.type) {
      case StepType::kRead:
        f.reads.insert(s.key);
        break;
      case StepType::kScan:
        f.ranges.emplace_back(s.key, s.end);
        break;
      case StepType::kAdd:
        f.writes.emplace(s.key, false);  // Keeps true if the key was put or deleted before.
        break;
      case StepType::kPut:
      case StepType::kDelete:
        f.writes[s.key] = true;
        break;
    }
  }
  return f;
}

// Two transactions conflict if one writes what the other reads, or both write a key (unless
// both only add to it: adds commute). Transactions that do not conflict commute.
bool Conflict(const Footprint& a, const Footprint& b) {
  for (const auto& [key, overwrites] : a.writes) {
    if (b.Reads(key)) return true;
    auto it = b.writes.find(key);
    if (it != b.writes.end() && (overwrites || it->second)) return true;
  }
  for (const auto& [key, overwrites] : b.writes) {
    if (a.Reads(key)) return true;
  }
  return false;
}

// What the checker derived about one transaction.
struct Facts {
  bool committed = false;
  bool writes = false;
  bool reads = false;  // Read the store (TxnRecord::reads_store).
  // Committed transactions with a place in the serial order: at `version` = commit_version
  // (`at_commit`) or at read_version (read-only).
  bool positioned = false;
  bool at_commit = false;
  uint64_t version = 0;
  // Among committed transactions acknowledged before this one began: the one with the highest
  // commit_version, and the read-only one with the highest read_version.
  size_t prior_writer = kNone;
  size_t prior_reader = kNone;
  // Unknown or pending transactions that wrote: whether they may be placed at all, and the
  // version they must commit above.
  bool unresolved = false;
  bool placeable = false;
  uint64_t lower_bound = 0;
};

// A read that did not match the serial order, kept as data: messages are built only for the
// failures that get reported.
struct Failure {
  enum class Kind : uint8_t {
    kNone,
    kRead,
    kScanMissing,
    kScanExtra,
    kScanValue,
    kOverLimit,
    kAdd
  };
  Kind kind = Kind::kNone;
  size_t txn = kNone;
  size_t step = 0;
  std::string key;
  std::optional<std::string> observed;
  std::optional<Cell> expected;
  // Where: the slot, and the index among the unknowns placed there (kNone: in its run of
  // committed transactions). `depth` orders failures by how far the replay got.
  size_t slot = 0;
  size_t index = kNone;
  size_t depth = 0;
  std::string placement;  // The unknown transactions placed on the way, for the message.

  bool failed() const { return kind != Kind::kNone; }
};

Failure Mismatch(Failure::Kind kind, size_t txn, size_t step, std::string key,
                 std::optional<std::string> observed, std::optional<Cell> expected) {
  Failure f;
  f.kind = kind;
  f.txn = txn;
  f.step = step;
  f.key = std::move(key);
  f.observed = std::move(observed);
  f.expected = std::move(expected);
  return f;
}

class Checker {
 public:
  Checker(const TxnHistory& history, const SerializabilityOptions& options)
      : history_(history), options_(options), facts_(history.size()) {}

  SerializabilityResult Run();

 private:
  const TxnRecord& txn(size_t t) const { return history_.txn(t); }
  std::string Name(size_t t) const {
    return "txn #" + std::to_string(t) + " (" + txn(t).ToString() + ")";
  }

  void ComputeFacts();
  std::string CheckVersions() const;
  void ComputePriors();
  std::string CheckRealTime() const;
  void BuildOrder();
  SerializabilityResult Search();

  uint64_t Version(size_t event) const { return facts_[events_[event]].version; }
  // Whether unknown i (an index into unresolved_) can commit in the gap of `slot`.
  bool Fits(size_t i, size_t slot) const;
  // Whether unknown i conflicts with the run of committed transactions after `slot`.
  bool ConflictsWithRun(size_t i, size_t slot);
  enum class Solved : uint8_t { kYes, kNo, kGaveUp };
  Solved Solve(size_t from_slot);
  std::vector<size_t> Fixers(const Failure& f) const;
  bool ConflictsWithUnplaced(size_t i);
  std::string PlacementKey() const;
  std::vector<std::pair<size_t, size_t>> Positions(size_t i, const Failure& f, bool first_pass);

  Failure Execute(size_t t);
  Failure CheckScan(size_t t, size_t step, const Overlay& own) const;
  Failure Replay(size_t from_slot);
  void Set(const std::string& key, const std::optional<Cell>& cell);
  void RollBack(size_t mark);
  void Note(Failure failure);

  std::string Format(const Failure& f) const;
  std::string DescribeCell(const std::optional<Cell>& cell, size_t reader) const;
  std::string DescribeObserved(const Failure& f, bool* aborted_only) const;

  const TxnHistory& history_;
  const SerializabilityOptions options_;
  std::vector<Facts> facts_;
  std::vector<Footprint> footprints_;  // Of positioned and unresolved transactions.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> putters_;  // For messages.

  std::vector<size_t> events_;  // Positioned transactions, in serial order.
  // Gaps in events_ (gap g: before events_[g]; events_.size(): the end) where an unknown can
  // commit; slot s's run is events_[slots_[s], slots_[s + 1]).
  std::vector<size_t> slots_;
  std::vector<size_t> unresolved_;                  // Placeable unknown transactions.
  std::vector<bool> placed_;                        // Per unresolved_.
  std::vector<std::vector<size_t>> slot_unknowns_;  // Per slot: unresolved_ indices, in order.
  std::vector<std::vector<int8_t>> run_conflict_;   // Per unresolved_ x slot: -1 not known yet.
  std::vector<std::optional<std::vector<size_t>>> unknown_conflicts_;  // Per unresolved_.
  std::unordered_set<std::string> visited_;  // PlacementKey()s that failed.

  std::map<std::string, Cell> model_;
  std::vector<std::pair<std::string, std::optional<Cell>>> undo_;
  std::vector<size_t> marks_;  // Per slot: undo_ size before its unknowns were replayed.
  size_t marks_valid_ = 0;     // marks_[0..marks_valid_] hold for the current placement.
  uint64_t attempts_ = 0;
  bool gave_up_ = false;

  Failure first_;    // With every unknown left out.
  Failure deepest_;  // The one that got furthest with some unknown placed.
};

void Checker::ComputeFacts() {
  footprints_.resize(history_.size());
  for (size_t t = 0; t < history_.size(); ++t) {
    const TxnRecord& r = txn(t);
    Facts& f = facts_[t];
    f.committed = r.outcome == Outcome::kCommitted;
    f.writes = r.has_writes();
    f.reads = r.reads_store();
    if (f.committed && r.commit_version != 0) {
      f.positioned = true;
      f.at_commit = true;
      f.version = r.commit_version;
    } else if (f.committed && f.reads) {
      f.positioned = true;
      f.version = r.read_version;
    }
    f.unresolved = f.writes && (r.outcome == Outcome::kUnknown || r.outcome == Outcome::kPending);
    if (f.positioned || f.unresolved) footprints_[t] = FootprintOf(r);
    for (const TxnStep& s : r.steps) {
      if (s.type == StepType::kPut) putters_[{s.key, s.value}].push_back(t);
    }
  }
}

std::string Checker::CheckVersions() const {
  std::map<uint64_t, size_t> by_version;
  for (size_t t = 0; t < history_.size(); ++t) {
    const TxnRecord& r = txn(t);
    if (!facts_[t].committed) continue;
    if (facts_[t].writes && r.commit_version == 0) {
      return "committed transaction with writes has no commit_version: " + Name(t);
    }
    if (r.commit_version == 0) continue;
    if (r.read_version >= r.commit_version) {
      return "read_version is not below commit_version: " + Name(t);
    }
    auto [it, inserted] = by_version.emplace(r.commit_version, t);
    if (!inserted) {
      return "duplicate commit_version " + std::to_string(r.commit_version) + ": " +
             Name(it->second) + " and " + Name(t) + " both committed at it";
    }
  }
  return "";
}

// One sweep in step order: each transaction's priors are the maxima over the committed
// transactions acknowledged before it began.
void Checker::ComputePriors() {
  std::vector<size_t> acked;
  std::vector<size_t> all(history_.size());
  for (size_t t = 0; t < history_.size(); ++t) {
    all[t] = t;
    if (facts_[t].committed && txn(t).complete_step != kNeverCompleted) acked.push_back(t);
  }
  std::sort(acked.begin(), acked.end(),
            [&](size_t a, size_t b) { return txn(a).complete_step < txn(b).complete_step; });
  std::sort(all.begin(), all.end(),
            [&](size_t a, size_t b) { return txn(a).invoke_step < txn(b).invoke_step; });
  size_t writer = kNone;
  size_t reader = kNone;
  size_t next = 0;
  for (size_t t : all) {
    for (; next < acked.size() && txn(acked[next]).complete_step < txn(t).invoke_step; ++next) {
      const size_t a = acked[next];
      if (!facts_[a].positioned) continue;
      if (facts_[a].at_commit) {
        if (writer == kNone || facts_[a].version > facts_[writer].version) writer = a;
      } else if (reader == kNone || facts_[a].version > facts_[reader].version) {
        reader = a;
      }
    }
    facts_[t].prior_writer = writer;
    facts_[t].prior_reader = reader;
  }
  for (size_t t = 0; t < history_.size(); ++t) {
    Facts& f = facts_[t];
    if (!f.unresolved) continue;
    const TxnRecord& r = txn(t);
    // A placed transaction counts as committed, so its reads must not be stale either.
    const bool stale = f.reads && r.read_version != 0 && f.prior_writer != kNone &&
                       r.read_version < facts_[f.prior_writer].version;
    f.placeable = !stale;
    f.lower_bound = r.read_version;
    if (f.prior_writer != kNone) {
      f.lower_bound = std::max(f.lower_bound, facts_[f.prior_writer].version);
    }
    if (f.prior_reader != kNone) {
      f.lower_bound = std::max(f.lower_bound, facts_[f.prior_reader].version);
    }
  }
}

std::string Checker::CheckRealTime() const {
  auto after = [&](size_t b, size_t a) {
    return Name(b) + " began after " + Name(a) + " was acknowledged, but ";
  };
  for (size_t b = 0; b < history_.size(); ++b) {
    const Facts& f = facts_[b];
    if (!f.positioned) continue;
    const uint64_t rb = txn(b).read_version;
    if (const size_t a = f.prior_writer; a != kNone) {
      const uint64_t ca = facts_[a].version;
      if (f.reads && rb < ca) {
        return "stale read: " + after(b, a) + "reads at version " + std::to_string(rb) +
               ", below that commit_version";
      }
      if (f.at_commit && f.version <= ca) {
        return "real-time order violated: " + after(b, a) + "commits at version " +
               std::to_string(f.version) + ", not above that commit_version";
      }
    }
    if (const size_t a = f.prior_reader; a != kNone) {
      // Strict (not just "no commit in between"): an unknown commit may sit in between.
      const uint64_t ra = facts_[a].version;
      if (f.at_commit && f.version <= ra) {
        return "real-time order violated: " + after(b, a) + "commits at version " +
               std::to_string(f.version) + ", which that read_version already includes";
      }
      if (!f.at_commit && f.version < ra) {
        return "stale read: " + after(b, a) + "reads at version " + std::to_string(f.version) +
               ", older than that read_version";
      }
    }
  }
  return "";
}

// The serial order, and the gaps in it where an unknown transaction could commit. Versions
// are dense: an unknown at v precedes a commit at c if v < c, and a read-only transaction at
// r sees it if v <= r. So a gap between two transactions of the same version is empty.
void Checker::BuildOrder() {
  for (size_t t = 0; t < history_.size(); ++t) {
    if (facts_[t].positioned) events_.push_back(t);
  }
  std::sort(events_.begin(), events_.end(), [&](size_t a, size_t b) {
    const Facts& fa = facts_[a];
    const Facts& fb = facts_[b];
    if (fa.version != fb.version) return fa.version < fb.version;
    if (fa.at_commit != fb.at_commit) return fa.at_commit;  // Writes before reads at a version.
    return a < b;
  });
  for (size_t gap = 0; gap <= events_.size(); ++gap) {
    const uint64_t lo = gap == 0 ? 0 : Version(gap - 1);
    if (gap == events_.size() || lo < Version(gap)) slots_.push_back(gap);
  }
  for (size_t t = 0; t < history_.size(); ++t) {
    if (facts_[t].unresolved && facts_[t].placeable) unresolved_.push_back(t);
  }
  assert(!slots_.empty());
  assert(slots_.back() == events_.size());
  placed_.assign(unresolved_.size(), false);
  slot_unknowns_.assign(slots_.size(), {});
  run_conflict_.assign(unresolved_.size(), std::vector<int8_t>(slots_.size(), -1));
  unknown_conflicts_.assign(unresolved_.size(), {});
  marks_.assign(slots_.size(), 0);
}

// Fits holds from some slot on: versions only grow along the slots.
bool Checker::Fits(size_t i, size_t slot) const {
  const size_t gap = slots_[slot];
  return gap == events_.size() || facts_[unresolved_[i]].lower_bound < Version(gap);
}

bool Checker::ConflictsWithRun(size_t i, size_t slot) {
  int8_t& memo = run_conflict_[i][slot];
  if (memo < 0) {
    memo = 0;
    const size_t end = slot + 1 < slots_.size() ? slots_[slot + 1] : events_.size();
    for (size_t e = slots_[slot]; e < end && memo == 0; ++e) {
      if (Conflict(footprints_[unresolved_[i]], footprints_[events_[e]])) memo = 1;
    }
  }
  return memo == 1;
}

void Checker::Set(const std::string& key, const std::optional<Cell>& cell) {
  auto it = model_.find(key);
  undo_.emplace_back(key, it == model_.end() ? std::nullopt : std::optional<Cell>(it->second));
  if (cell.has_value()) {
    model_[key] = *cell;
  } else if (it != model_.end()) {
    model_.erase(it);
  }
}

void Checker::RollBack(size_t mark) {
  while (undo_.size() > mark) {
    auto& [key, cell] = undo_.back();
    if (cell.has_value()) {
      model_[key] = std::move(*cell);
    } else {
      model_.erase(key);
    }
    undo_.pop_back();
  }
}

// Runs transaction t on the model as it stands: checks each read against the model overlaid
// with t's own earlier writes; if all match, applies its writes.
Failure Checker::Execute(size_t t) {
  assert(facts_[t].positioned || facts_[t].unresolved);
  const TxnRecord& r = txn(t);
  Overlay own;
  auto lookup = [&](const std::string& key) -> std::optional<Cell> {
    if (auto o = own.find(key); o != own.end()) return o->second;
    if (auto m = model_.find(key); m != model_.end()) return m->second;
    return std::nullopt;
  };
  for (size_t n = 0; n < r.steps.size(); ++n) {
    const TxnStep& s = r.steps[n];
    switch (s.type) {
      case StepType::kRead: {
        std::optional<Cell> e = lookup(s.key);
        const bool same =
            e.has_value() == s.observed.has_value() && (!e.has_value() || e->value == *s.observed);
        if (!same) return Mismatch(Failure::Kind::kRead, t, n, s.key, s.observed, std::move(e));
        break;
      }
      case StepType::kScan:
        if (Failure f = CheckScan(t, n, own); f.failed()) return f;
        break;
      case StepType::kPut:
        own[s.key] = Cell{s.value, t};
        break;
      case StepType::kDelete:
        own[s.key] = std::nullopt;
        break;
      case StepType::kAdd: {
        std::optional<Cell> e = lookup(s.key);
        int64_t base = 0;
        if (e.has_value() && !ParseInt64(e->value, &base)) {
          return Mismatch(Failure::Kind::kAdd, t, n, s.key, std::nullopt, std::move(e));
        }
        own[s.key] = Cell{std::to_string(WrapAdd(base, s.delta)), t};
        break;
      }
    }
  }
  for (const auto& [key, cell] : own) Set(key, cell);
  return {};
}

// Checks scan `step` of t: its rows must be the first rows of its range in the model overlaid
// with `own`, and if it returned fewer than its limit, all of them.
Failure Checker::CheckScan(size_t t, size_t step, const Overlay& own) const {
  const TxnStep& s = txn(t).steps[step];
  if (s.rows.size() > s.limit)
    return Mismatch(Failure::Kind::kOverLimit, t, step, s.key, std::nullopt, std::nullopt);
  const size_t want = s.rows.size() < s.limit ? s.rows.size() + 1 : s.limit;
  std::vector<std::pair<std::string, Cell>> view;
  auto m = model_.lower_bound(s.key);
  auto o = own.lower_bound(s.key);
  while (view.size() < want) {
    const bool has_m = m != model_.end() && InRange(m->first, s.key, s.end);
    const bool has_o = o != own.end() && InRange(o->first, s.key, s.end);
    if (!has_m && !has_o) break;
    if (has_o && (!has_m || o->first <= m->first)) {
      if (has_m && m->first == o->first) ++m;  // Its own write hides the model's.
      if (o->second.has_value()) view.emplace_back(o->first, *o->second);
      ++o;
    } else {
      view.emplace_back(m->first, m->second);
      ++m;
    }
  }
  for (size_t i = 0; i < view.size() || i < s.rows.size(); ++i) {
    using K = Failure::Kind;
    const bool missing = i >= s.rows.size() || (i < view.size() && view[i].first < s.rows[i].first);
    if (missing)
      return Mismatch(K::kScanMissing, t, step, view[i].first, std::nullopt, view[i].second);
    if (i >= view.size() || s.rows[i].first < view[i].first) {
      return Mismatch(K::kScanExtra, t, step, s.rows[i].first, s.rows[i].second, std::nullopt);
    }
    if (s.rows[i].second != view[i].second.value) {
      return Mismatch(K::kScanValue, t, step, s.rows[i].first, s.rows[i].second, view[i].second);
    }
  }
  return {};
}

// Replays from the start of `from_slot` (or the last slot whose start is still known) with
// the unknowns placed so far, up to the first failure.
Failure Checker::Replay(size_t from_slot) {
  assert(from_slot < slots_.size());
  size_t s = std::min(from_slot, marks_valid_);
  assert(marks_[s] <= undo_.size());
  RollBack(marks_[s]);
  for (; s < slots_.size(); ++s) {
    marks_[s] = undo_.size();
    marks_valid_ = s;
    const std::vector<size_t>& unknowns = slot_unknowns_[s];
    for (size_t i = 0; i < unknowns.size(); ++i) {
      if (++attempts_ > options_.search_attempts_max) gave_up_ = true;
      Failure f = Execute(unresolved_[unknowns[i]]);
      if (f.failed() || gave_up_) {
        f.slot = s;
        f.index = i;
        f.depth = 2 * slots_[s];
        return f;
      }
    }
    const size_t end = s + 1 < slots_.size() ? slots_[s + 1] : events_.size();
    for (size_t e = slots_[s]; e < end; ++e) {
      // The first replay, with every unknown left out, is not part of the search.
      if (first_.failed() && ++attempts_ > options_.search_attempts_max) gave_up_ = true;
      Failure f = Execute(events_[e]);
      if (f.failed() || gave_up_) {
        f.slot = s;
        f.depth = 2 * e + 1;
        return f;
      }
    }
  }
  return {};
}

void Checker::Note(Failure failure) {
  assert(failure.failed());
  if (!first_.failed()) {
    first_ = std::move(failure);
    deepest_ = first_;
    return;
  }
  if (failure.depth < deepest_.depth) return;
  if (failure.depth == deepest_.depth && !deepest_.placement.empty()) return;
  for (size_t s = 0; s < slots_.size(); ++s) {
    for (size_t i : slot_unknowns_[s]) {
      if (!failure.placement.empty()) failure.placement += ", ";
      failure.placement += "txn #" + std::to_string(unresolved_[i]) + " before txn #" +
                           std::to_string(events_[slots_[s]]);
    }
  }
  deepest_ = std::move(failure);
}

// The unknowns that could fix failure f. With the placement extended to a consistent one,
// the failing key's value there differs, so some newly placed unknown writes the key before
// it: as the last overwrite (so it put the value observed, or deleted the key if the read
// found nothing) or as an add after the last overwrite. Unknowns that put the observed value
// come first: values are usually unique, so that one read pins the unknown.
std::vector<size_t> Checker::Fixers(const Failure& f) const {
  using K = Failure::Kind;
  assert(f.failed());
  std::vector<size_t> first;
  std::vector<size_t> rest;
  if (f.kind == K::kOverLimit) return first;
  // A value that came from the transaction's own put or delete no unknown can change; one
  // its own adds built on depends on every write to the key.
  bool own_overwrite = false;
  bool own_add = false;
  for (size_t n = 0; n < f.step; ++n) {
    const TxnStep& s = txn(f.txn).steps[n];
    if (s.key != f.key || !s.is_write()) continue;
    (s.type == StepType::kAdd ? own_add : own_overwrite) = true;
  }
  if (own_overwrite) return first;
  const bool any_write = own_add || f.kind == K::kAdd;
  for (size_t i = 0; i < unresolved_.size(); ++i) {
    const Footprint& footprint = footprints_[unresolved_[i]];
    if (placed_[i] || footprint.writes.count(f.key) == 0 || !Fits(i, f.slot)) continue;
    bool puts_observed = false;
    bool deletes = false;
    bool adds = false;
    for (const TxnStep& s : txn(unresolved_[i]).steps) {
      if (s.key != f.key) continue;
      puts_observed |= s.type == StepType::kPut && f.observed == s.value;
      deletes |= s.type == StepType::kDelete;
      adds |= s.type == StepType::kAdd;
    }
    if (puts_observed) {
      first.push_back(i);
    } else if (any_write || adds || (!f.observed.has_value() && deletes)) {
      rest.push_back(i);
    }
  }
  first.insert(first.end(), rest.begin(), rest.end());
  return first;
}

// Whether some other unknown, not placed yet, conflicts with unknown i: only such an unknown,
// placed later between two places of i that replay alike, can tell them apart.
bool Checker::ConflictsWithUnplaced(size_t i) {
  std::optional<std::vector<size_t>>& conflicts = unknown_conflicts_[i];
  if (!conflicts.has_value()) {
    conflicts.emplace();
    for (size_t j = 0; j < unresolved_.size(); ++j) {
      if (j != i && Conflict(footprints_[unresolved_[i]], footprints_[unresolved_[j]])) {
        conflicts->push_back(j);
      }
    }
  }
  for (const size_t j : *conflicts) {
    if (!placed_[j]) return true;
  }
  return false;
}

// A key for the current placement, alike for placements that only differ in the order of
// adjacent commuting unknowns in a slot (those replay alike).
std::string Checker::PlacementKey() const {
  std::string key;
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slot_unknowns_[s].empty()) continue;
    std::vector<size_t> order = slot_unknowns_[s];
    for (bool swapped = true; swapped;) {  // Bubble to the least order: bounded by n^2 swaps.
      swapped = false;
      for (size_t i = 0; i + 1 < order.size(); ++i) {
        if (order[i] > order[i + 1] &&
            !Conflict(footprints_[unresolved_[order[i]]], footprints_[unresolved_[order[i + 1]]])) {
          std::swap(order[i], order[i + 1]);
          swapped = true;
        }
      }
    }
    key += std::to_string(s) + ":";
    for (size_t i : order) key += std::to_string(i) + ",";
    key += ";";
  }
  return key;
}

// The places for unknown i before failure f, earliest first: (slot, index among the unknowns
// placed there). An unknown transaction usually committed soon after it read, so early places
// are the likelier ones. Moving i one place later crosses a placed unknown or a slot's run;
// unless i conflicts with what it crosses, the replay is the same. The first pass gives the
// earliest place of each such class; the second the rest, which only matter through unknowns
// placed later.
std::vector<std::pair<size_t, size_t>> Checker::Positions(size_t i, const Failure& f,
                                                          bool first_pass) {
  std::vector<std::pair<size_t, size_t>> out;
  const Footprint& footprint = footprints_[unresolved_[i]];
  const size_t last_index = f.index == kNone ? slot_unknowns_[f.slot].size() : f.index;
  assert(Fits(i, f.slot));
  size_t s = f.slot;
  while (s > 0 && Fits(i, s - 1)) --s;  // Fits holds from some slot on: versions only grow.
  size_t index = 0;
  bool earliest_of_class = true;
  while (true) {
    if (earliest_of_class == first_pass) out.emplace_back(s, index);
    if (s == f.slot && index == last_index) break;
    if (index < slot_unknowns_[s].size()) {
      earliest_of_class = Conflict(footprint, footprints_[unresolved_[slot_unknowns_[s][index]]]);
      ++index;
    } else {
      earliest_of_class = ConflictsWithRun(i, s);
      ++s;
      index = 0;
    }
  }
  return out;
}

// Replays from `from_slot`; at the first failure, tries each unknown that could fix it at each
// place before it, and recurses. Depth: at most one level per unknown.
Checker::Solved Checker::Solve(size_t from_slot) {
  if (!visited_.insert(PlacementKey()).second) {  // Explored before, and failed.
    if (++attempts_ > options_.search_attempts_max) gave_up_ = true;
    return gave_up_ ? Solved::kGaveUp : Solved::kNo;
  }
  Failure f = Replay(from_slot);
  if (gave_up_) return Solved::kGaveUp;
  if (!f.failed()) return Solved::kYes;
  const std::vector<size_t> fixers = Fixers(f);
  Note(f);
  for (const bool first_pass : {true, false}) {
    for (const size_t i : fixers) {
      if (!first_pass && !ConflictsWithUnplaced(i)) continue;
      for (const auto& [slot, index] : Positions(i, f, first_pass)) {
        std::vector<size_t>& unknowns = slot_unknowns_[slot];
        unknowns.insert(unknowns.begin() + static_cast<std::ptrdiff_t>(index), i);
        placed_[i] = true;
        const Solved solved = Solve(slot);
        if (solved != Solved::kNo) return solved;
        // Deeper levels undid their own placements, so `index` is still i's.
        assert(unknowns[index] == i);
        unknowns.erase(unknowns.begin() + static_cast<std::ptrdiff_t>(index));
        placed_[i] = false;
        marks_valid_ = std::min(marks_valid_, slot);
      }
    }
  }
  return Solved::kNo;
}

SerializabilityResult Checker::Search() {
  // Committed transactions before the first slot: no unknown can precede them.
  for (size_t e = 0; e < slots_[0]; ++e) {
    if (Failure f = Execute(events_[e]); f.failed()) return {false, Format(f)};
  }
  marks_[0] = undo_.size();
  const Solved solved = Solve(0);
  if (solved == Solved::kYes) return {};
  if (solved == Solved::kGaveUp) {
    return {false, "too many unknown transactions to resolve: gave up after replaying " +
                       std::to_string(options_.search_attempts_max) +
                       " transactions while placing " + std::to_string(unresolved_.size()) +
                       " unknown or pending transactions that wrote; with all of them left "
                       "out: " +
                       Format(first_)};
  }
  std::string message = Format(first_);
  if (unresolved_.empty()) return {false, message};
  message += "; no placement of the " + std::to_string(unresolved_.size()) +
             " unknown or pending transactions that wrote explains it";
  if (!deepest_.placement.empty()) {
    message += "; the furthest placement (" + deepest_.placement + ") fails: " + Format(deepest_);
  }
  return {false, message};
}

// "v (written by txn #3 (...))", with why that writer matters when it is telling.
std::string Checker::DescribeCell(const std::optional<Cell>& cell, size_t reader) const {
  if (!cell.has_value()) return "absent";
  std::string out = AbbreviatedValue(cell->value);
  if (cell->writer == reader) return out + " (its own earlier write)";
  if (cell->writer == kNone) return out;
  const Facts& w = facts_[cell->writer];
  out += " (written by " + Name(cell->writer);
  const Facts& r = facts_[reader];
  if (w.positioned && r.at_commit && txn(reader).read_version < w.version &&
      w.version < r.version) {
    out +=
        ", which committed after its read_version and before its commit_version: its "
        "commit should have failed with a conflict";
  }
  return out + ")";
}

// "; that value was written by txn #3 (...)": who wrote the value a failed read observed.
std::string Checker::DescribeObserved(const Failure& f, bool* aborted_only) const {
  *aborted_only = false;
  if (!f.observed.has_value()) return "";
  auto it = putters_.find({f.key, *f.observed});
  if (it == putters_.end()) return "; no transaction put that value";
  // Name the most telling writer: a committed one, else an unknown one, else an aborted one.
  auto rank = [&](size_t w) {
    return facts_[w].committed ? 0 : txn(w).outcome == Outcome::kAborted ? 2 : 1;
  };
  const size_t best = *std::min_element(it->second.begin(), it->second.end(),
                                        [&](size_t a, size_t b) { return rank(a) < rank(b); });
  const TxnRecord& w = txn(best);
  if (w.outcome == Outcome::kAborted) {
    *aborted_only = true;
    return "; that value was written only by aborted " + Name(best);
  }
  if (!facts_[best].committed) {
    const Facts& u = facts_[best];
    if (!u.unresolved) return "; that value was written by " + Name(best);
    if (!u.placeable) {
      return "; that value was written by " + Name(best) +
             ", which read at a stale version and so cannot have committed";
    }
    return "; that value was written by " + Name(best) + ", which if it committed did so above " +
           "version " + std::to_string(u.lower_bound);
  }
  std::string out = "; that value was written by " + Name(best);
  const Facts& r = facts_[f.txn];
  if (r.positioned && facts_[best].positioned && facts_[best].version > r.version) {
    out += ", which is after this transaction in the serial order";
  }
  return out;
}

// "<property>: txn #5 (...) step 1 (get x -> 2) returned 2, but ... x is 3 (written by ...)".
std::string Checker::Format(const Failure& f) const {
  assert(f.failed());
  const Facts& t = facts_[f.txn];
  const TxnStep& s = txn(f.txn).steps[f.step];
  std::string where = t.at_commit    ? "just before its commit_version"
                      : t.positioned ? "at its read_version"
                                     : "where it was placed";
  std::string step = "step " + std::to_string(f.step) + " (" + s.ToString() + ")";
  bool aborted_only = false;
  const std::string observed = DescribeObserved(f, &aborted_only);
  const std::string expected = DescribeCell(f.expected, f.txn);
  std::string what;
  std::string label = "read inconsistent with the serial order";
  using K = Failure::Kind;
  switch (f.kind) {
    case K::kRead:
      what = step + " returned " +
             (f.observed.has_value() ? AbbreviatedValue(*f.observed) : std::string("absent")) +
             ", but " + where + " " + Printable(f.key) + " is " + expected;
      break;
    case K::kScanMissing:
      label = "phantom";
      what = step + " missed " + Printable(f.key) + ", which " + where + " is " + expected;
      break;
    case K::kScanExtra:
      label = "phantom";
      what = step + " returned " + Printable(f.key) + "=" + AbbreviatedValue(*f.observed) +
             ", but " + where + " that key is absent";
      break;
    case K::kScanValue:
      what = step + " returned " + Printable(f.key) + "=" + AbbreviatedValue(*f.observed) +
             ", but " + where + " it is " + expected;
      break;
    case K::kOverLimit:
      label = "scan over its limit";
      what = step + " returned more rows than its limit";
      break;
    case K::kAdd:
      label = "add to a non-integer";
      what = step + " adds to " + Printable(f.key) + ", which " + where + " is " + expected +
             ", not a decimal int64";
      break;
    case K::kNone:
      break;
  }
  if (aborted_only) label = "aborted read (G1a)";
  return label + ": " + Name(f.txn) + " " + what + observed;
}

SerializabilityResult Checker::Run() {
  ComputeFacts();
  if (std::string v = CheckVersions(); !v.empty()) return {false, v};
  ComputePriors();
  if (std::string v = CheckRealTime(); !v.empty()) return {false, v};
  BuildOrder();
  return Search();
}

}  // namespace

SerializabilityResult CheckSerializable(const TxnHistory& history,
                                        const SerializabilityOptions& options) {
  return Checker(history, options).Run();
}

}  // namespace kiln::properties
