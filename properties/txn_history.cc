#include "properties/txn_history.h"

#include <cassert>
#include <limits>
#include <set>

#include "engine/runtime/printable.h"

namespace kiln::properties {

std::string AbbreviatedValue(std::string_view bytes) {
  // Values can be kilobytes long; a value's identity is its prefix, so messages show that.
  constexpr size_t kShown = 24;
  if (bytes.size() <= kShown) return Printable(bytes);
  return Printable(bytes.substr(0, kShown)) + "...(" + std::to_string(bytes.size()) + " bytes)";
}

std::string TxnStep::ToString() const {
  switch (type) {
    case Type::kRead:
      return "get " + Printable(key) + " -> " +
             (observed.has_value() ? AbbreviatedValue(*observed) : std::string("absent"));
    case Type::kScan:
      return "scan [" + Printable(key) + ", " +
             (end.empty() ? std::string("end") : Printable(end)) + ")" +
             (limit == std::numeric_limits<size_t>::max() ? ""
                                                          : " limit " + std::to_string(limit)) +
             " -> " + std::to_string(rows.size()) + (rows.size() == 1 ? " row" : " rows");
    case Type::kPut:
      return "put " + Printable(key) + "=" + AbbreviatedValue(value);
    case Type::kDelete:
      return "delete " + Printable(key);
    case Type::kAdd:
      return "add " + Printable(key) + (delta < 0 ? " " : " +") + std::to_string(delta);
  }
  assert(false);
  return "";
}

bool TxnRecord::has_writes() const {
  for (const TxnStep& s : steps) {
    if (s.is_write()) return true;
  }
  return false;
}

bool TxnRecord::reads_store() const {
  std::set<std::string_view> overwritten;  // Keys this transaction put or deleted so far.
  for (const TxnStep& s : steps) {
    if (s.type == TxnStep::Type::kScan) return true;
    if (s.type == TxnStep::Type::kRead && overwritten.count(s.key) == 0) return true;
    if (s.type == TxnStep::Type::kPut || s.type == TxnStep::Type::kDelete) {
      overwritten.insert(s.key);
    }
  }
  return false;
}

std::string TxnRecord::ToString() const {
  static const char* kOutcomes[] = {"pending", "committed", "aborted", "unknown"};
  constexpr size_t kStepsShown = 8;
  std::string out =
      "client " + std::to_string(client) + " [step " + std::to_string(invoke_step) + "..";
  out += complete_step == kNeverCompleted ? "never" : std::to_string(complete_step);
  out += "] ";
  out += kOutcomes[static_cast<int>(outcome)];
  if (read_version != 0) out += " read_version=" + std::to_string(read_version);
  if (commit_version != 0) out += " commit_version=" + std::to_string(commit_version);
  out += ":";
  for (size_t i = 0; i < steps.size() && i < kStepsShown; ++i) {
    out += (i == 0 ? " " : "; ") + steps[i].ToString();
  }
  if (steps.size() > kStepsShown) out += "; ...(" + std::to_string(steps.size()) + " steps)";
  if (steps.empty()) out += " no steps";
  return out;
}

size_t TxnHistory::begin(uint64_t client, uint64_t step) {
  TxnRecord t;
  t.client = client;
  t.invoke_step = step;
  txns_.push_back(std::move(t));
  return txns_.size() - 1;
}

TxnRecord& TxnHistory::open(size_t index) {
  assert(index < txns_.size());
  TxnRecord& t = txns_[index];
  assert(t.outcome == TxnRecord::Outcome::kPending);
  assert(t.complete_step == kNeverCompleted);
  return t;
}

void TxnHistory::read(size_t index, std::string key, std::optional<std::string> observed) {
  TxnStep s;
  s.type = TxnStep::Type::kRead;
  s.key = std::move(key);
  s.observed = std::move(observed);
  open(index).steps.push_back(std::move(s));
}

void TxnHistory::scan(size_t index, std::string begin_key, std::string end_key, size_t limit,
                      std::vector<std::pair<std::string, std::string>> rows) {
  TxnStep s;
  s.type = TxnStep::Type::kScan;
  s.key = std::move(begin_key);
  s.end = std::move(end_key);
  s.limit = limit;
  s.rows = std::move(rows);
  open(index).steps.push_back(std::move(s));
}

void TxnHistory::put(size_t index, std::string key, std::string value) {
  TxnStep s;
  s.type = TxnStep::Type::kPut;
  s.key = std::move(key);
  s.value = std::move(value);
  open(index).steps.push_back(std::move(s));
}

void TxnHistory::del(size_t index, std::string key) {
  TxnStep s;
  s.type = TxnStep::Type::kDelete;
  s.key = std::move(key);
  open(index).steps.push_back(std::move(s));
}

void TxnHistory::add(size_t index, std::string key, int64_t delta) {
  TxnStep s;
  s.type = TxnStep::Type::kAdd;
  s.key = std::move(key);
  s.delta = delta;
  open(index).steps.push_back(std::move(s));
}

void TxnHistory::complete(size_t index, TxnRecord::Outcome outcome, uint64_t read_version,
                          uint64_t commit_version, uint64_t step) {
  TxnRecord& t = open(index);
  assert(outcome != TxnRecord::Outcome::kPending);
  assert(step >= t.invoke_step);
  t.outcome = outcome;
  t.read_version = read_version;
  t.commit_version = commit_version;
  t.complete_step = step;
}

size_t TxnHistory::pending() const {
  size_t n = 0;
  for (const TxnRecord& t : txns_) n += t.outcome == TxnRecord::Outcome::kPending ? 1 : 0;
  return n;
}

}  // namespace kiln::properties
