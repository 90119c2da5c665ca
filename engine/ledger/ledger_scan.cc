// Ledger::scan and CheckScan: every record under "l/", decoded, and the invariants a checker
// holds them to (ledger.h).
#include <cassert>
#include <map>
#include <set>
#include <utility>

#include "engine/kv/kv_store.h"
#include "engine/ledger/encoding.h"
#include "engine/ledger/ledger.h"

namespace kiln::ledger {

namespace {

using txn::Transaction;

// Parse state while scanning: assertions by id, tallies by id.
struct ScanBuilder {
  LedgerScan scan;
  std::map<std::string, size_t> assertion_at;  // id → index in scan.assertions.
  std::map<std::string, Tally> tallies;
  std::set<std::string> tallied;  // Ids with a tally key.
};

Status BadKey(std::string_view what, std::string_view key) {
  return Status::Corruption("ledger scan: malformed " + std::string(what) + " key " + Hex(key));
}

// "<a>\0<b>\0" → (a, b); false if it is not that shape.
bool SplitTwo(std::string_view s, std::string* a, std::string* b) {
  const size_t first = s.find('\0');
  if (first == std::string_view::npos || s.empty() || s.back() != '\0') return false;
  *a = std::string(s.substr(0, first));
  const std::string_view rest = s.substr(first + 1, s.size() - first - 2);
  if (rest.find('\0') != std::string_view::npos) return false;
  *b = std::string(rest);
  return true;
}

// An index key's tail: <ts BE64><id>. `head` is what precedes it.
bool SplitTail(std::string_view rest, std::string_view* head, int64_t* ts, std::string* id) {
  if (rest.size() < 8 + kIdBytes) return false;
  *head = rest.substr(0, rest.size() - 8 - kIdBytes);
  *ts = static_cast<int64_t>(FromBigEndian64(rest.substr(rest.size() - 8 - kIdBytes)));
  *id = std::string(rest.substr(rest.size() - kIdBytes));
  return true;
}

Status AddIndex(ScanBuilder& b, LedgerScan::IndexKind kind, std::string_view key,
                std::string_view rest) {
  LedgerScan::IndexEntry e;
  e.kind = kind;
  std::string_view head;
  if (!SplitTail(rest, &head, &e.timestamp_us, &e.id)) return BadKey("index", key);
  switch (kind) {
    case LedgerScan::IndexKind::kSubject:
      if (head.empty() || head.back() != '\0') return BadKey("subject index", key);
      e.subject = std::string(head.substr(0, head.size() - 1));
      break;
    case LedgerScan::IndexKind::kSubjectPredicate:
      if (!SplitTwo(head, &e.subject, &e.predicate)) return BadKey("subject+predicate", key);
      break;
    case LedgerScan::IndexKind::kAgent:
      e.agent = std::string(head);
      break;
  }
  b.scan.index_entries.push_back(std::move(e));
  return Status::Ok();
}

Status AddRow(ScanBuilder& b, const std::string& key, const std::string& value) {
  const std::string_view k(key);
  auto starts = [&k](std::string_view p) { return k.substr(0, p.size()) == p; };
  if (starts("l/a/")) {
    if (k.size() != 4 + kIdBytes) return BadKey("assertion", k);
    Result<Assertion> a = DecodeStoredAssertion(value);
    if (!a.ok()) return a.status();
    StoredAssertion stored;
    stored.id = std::string(k.substr(4));
    stored.assertion = std::move(a).value();
    b.assertion_at[stored.id] = b.scan.assertions.size();
    b.scan.assertions.push_back(std::move(stored));
  } else if (starts("l/r/")) {
    if (k.size() != 4 + kIdBytes) return BadKey("retraction", k);
    Result<Retraction> r = DecodeStoredRetraction(value);
    if (!r.ok()) return r.status();
    b.scan.retraction_ids.emplace_back(k.substr(4));
    b.scan.retractions.push_back(std::move(r).value());
  } else if (starts("l/s/")) {
    if (k.size() != 4 + 2 * kIdBytes) return BadKey("supersedes", k);
    b.scan.supersedes.push_back(LedgerScan::Supersedes{std::string(k.substr(4, kIdBytes)),
                                                       std::string(k.substr(4 + kIdBytes))});
  } else if (starts("l/xs/")) {
    return AddIndex(b, LedgerScan::IndexKind::kSubject, k, k.substr(5));
  } else if (starts("l/xp/")) {
    return AddIndex(b, LedgerScan::IndexKind::kSubjectPredicate, k, k.substr(5));
  } else if (starts("l/xa/")) {
    return AddIndex(b, LedgerScan::IndexKind::kAgent, k, k.substr(5));
  } else if (starts("l/v/")) {
    if (k.size() != 4 + kIdBytes + kPublicKeyBytes) return BadKey("vote", k);
    Result<VoteSlot> slot = DecodeVoteSlot(value);
    if (!slot.ok()) return slot.status();
    const std::string_view id = k.substr(4, kIdBytes);
    const std::string_view voter = k.substr(4 + kIdBytes);
    if (slot->standing) {
      if (slot->standing->body.assertion != id || slot->standing->body.voter != voter) {
        return Status::Corruption("ledger scan: vote filed under another key " + Hex(k));
      }
      b.scan.votes.push_back(std::move(*slot->standing));
    } else {
      if (slot->withdrawal->body.assertion != id || slot->withdrawal->body.signer != voter) {
        return Status::Corruption("ledger scan: vote withdrawal filed under another key " + Hex(k));
      }
      b.scan.withdrawn_votes.push_back(std::move(*slot->withdrawal));
    }
  } else if (starts("l/tc/") || starts("l/tw/")) {
    if (k.size() != 5 + kIdBytes) return BadKey("tally", k);
    int64_t n = 0;
    if (!kv::ParseInt64(value, &n)) return Status::Corruption("ledger scan: tally not a number");
    const std::string id(k.substr(5));
    (starts("l/tc/") ? b.tallies[id].votes : b.tallies[id].weight_micros) = n;
  } else if (starts("l/aq/")) {
    // The audit sequence: checked against the records below by the audit trail's readers.
  } else if (starts("l/au/")) {
    ++b.scan.audit_records;
  } else {
    return Status::Corruption("ledger scan: unknown key " + Hex(k));
  }
  return Status::Ok();
}

Task<Status> ScanTxn(Transaction& t, size_t page, size_t rows_max, ScanBuilder& b) {
  b = ScanBuilder();
  b.scan.read_version = t.read_version();
  const std::string end = PrefixEnd(std::string(kLedgerPrefix));
  std::string begin(kLedgerPrefix);
  for (size_t rows_seen = 0;;) {
    Result<kv::KeyValues> rows = co_await t.scan_range(begin, end, page);
    if (!rows.ok()) co_return rows.status();
    for (const auto& [key, value] : *rows) {
      if (Status s = AddRow(b, key, value); !s.ok()) co_return s;
    }
    rows_seen += rows->size();
    if (rows->size() < page) break;
    if (rows_seen >= rows_max) co_return Status::InvalidArgument("ledger scan: over scan_rows_max");
    begin = rows->back().first + '\0';
  }
  co_return Status::Ok();
}

}  // namespace

Task<Result<LedgerScan>> Ledger::scan() {
  ScanBuilder b;
  const size_t page = options_.scan_page_rows;
  const size_t rows_max = options_.scan_rows_max;
  Status s =
      co_await Run([page, rows_max, &b](Transaction& t) { return ScanTxn(t, page, rows_max, b); });
  if (!s.ok()) co_return s;
  const std::set<std::string> retracted(b.scan.retraction_ids.begin(), b.scan.retraction_ids.end());
  std::set<std::string> parents;
  for (const auto& e : b.scan.supersedes) parents.insert(e.parent);
  for (StoredAssertion& a : b.scan.assertions) {
    a.retracted = retracted.count(a.id) > 0;
    a.superseded = parents.count(a.id) > 0;
    if (auto it = b.tallies.find(a.id); it != b.tallies.end()) a.tally = it->second;
  }
  for (const auto& [id, tally] : b.tallies) {
    if (b.assertion_at.count(id) == 0) b.scan.orphan_tallies.push_back(id);
  }
  co_return std::move(b.scan);
}

namespace {

Status Broken(const std::string& what) {
  return Status::Corruption("ledger check: " + what);
}

Status CheckAssertions(const LedgerScan& scan,
                       const std::map<std::string, const Assertion*>& by_id) {
  std::map<std::string, Tally> recount;
  for (const Vote& v : scan.votes) {
    if (by_id.count(v.body.assertion) == 0) {
      return Broken("a standing vote for missing assertion " + Hex(v.body.assertion));
    }
    Tally& t = recount[v.body.assertion];
    ++t.votes;
    t.weight_micros += WeightMicros(v.body.weight);
  }
  for (const StoredAssertion& a : scan.assertions) {
    Result<AssertionId> id = ComputeId(a.assertion.body);
    if (!id.ok()) return Broken("assertion " + Hex(a.id) + ": " + id.status().ToString());
    if (*id != a.id) {
      return Broken("assertion stored under id " + Hex(a.id) + " hashes to " + Hex(*id));
    }
    const Tally expected = recount[a.id];
    if (!(a.tally == expected)) {
      return Broken("tally of " + Hex(a.id) + " is " + std::to_string(a.tally.votes) + " votes / " +
                    std::to_string(a.tally.weight_micros) + " micros; the standing votes recount " +
                    std::to_string(expected.votes) + " / " +
                    std::to_string(expected.weight_micros));
    }
    const auto& parent = a.assertion.body.parent;
    if (parent.has_value()) {
      auto it = by_id.find(*parent);
      if (it == by_id.end()) return Broken("parent of " + Hex(a.id) + " is not stored");
      if (it->second->body.agent != a.assertion.body.agent) {
        return Broken("parent of " + Hex(a.id) + " is by another agent");
      }
    }
  }
  if (!scan.orphan_tallies.empty()) {
    return Broken("a tally for missing assertion " + Hex(scan.orphan_tallies.front()));
  }
  return Status::Ok();
}

Status CheckIndexes(const LedgerScan& scan, const std::map<std::string, const Assertion*>& by_id) {
  using Kind = LedgerScan::IndexKind;
  std::map<std::string, int> seen;  // id → bitmask of kinds found.
  for (const LedgerScan::IndexEntry& e : scan.index_entries) {
    auto it = by_id.find(e.id);
    if (it == by_id.end()) return Broken("an index entry points at missing " + Hex(e.id));
    const AssertionBody& body = it->second->body;
    bool match = e.timestamp_us == body.timestamp_us;
    if (e.kind == Kind::kSubject) match = match && e.subject == body.subject;
    if (e.kind == Kind::kSubjectPredicate) {
      match = match && e.subject == body.subject && e.predicate == body.predicate;
    }
    if (e.kind == Kind::kAgent) match = match && e.agent == body.agent;
    if (!match) return Broken("an index entry disagrees with assertion " + Hex(e.id));
    seen[e.id] |= 1 << static_cast<int>(e.kind);
  }
  for (const StoredAssertion& a : scan.assertions) {
    if (seen[a.id] != 0b111) return Broken("assertion " + Hex(a.id) + " is not in every index");
  }
  return Status::Ok();
}

Status CheckLifecycle(const LedgerScan& scan,
                      const std::map<std::string, const Assertion*>& by_id) {
  std::set<std::pair<std::string, std::string>> children;  // (parent, child) from bodies.
  for (const StoredAssertion& a : scan.assertions) {
    if (a.assertion.body.parent) children.emplace(*a.assertion.body.parent, a.id);
  }
  std::set<std::pair<std::string, std::string>> entries;
  for (const auto& e : scan.supersedes) entries.emplace(e.parent, e.child);
  if (children != entries) return Broken("supersedes entries differ from the stored parents");
  for (size_t i = 0; i < scan.retractions.size(); ++i) {
    const std::string& id = scan.retraction_ids[i];
    auto it = by_id.find(id);
    if (it == by_id.end()) return Broken("a retraction of missing assertion " + Hex(id));
    const RetractionBody& r = scan.retractions[i].body;
    if (r.assertion != id || r.signer != it->second->body.agent ||
        r.kind != RetractionBody::Kind::kAssertion) {
      return Broken("the retraction of " + Hex(id) + " is not its agent's");
    }
  }
  for (const Retraction& w : scan.withdrawn_votes) {
    if (by_id.count(w.body.assertion) == 0) {
      return Broken("a vote withdrawal for missing assertion " + Hex(w.body.assertion));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckScan(const LedgerScan& scan) {
  assert(scan.retractions.size() == scan.retraction_ids.size());
  std::map<std::string, const Assertion*> by_id;
  for (const StoredAssertion& a : scan.assertions) by_id[a.id] = &a.assertion;
  if (Status s = CheckAssertions(scan, by_id); !s.ok()) return s;
  if (Status s = CheckIndexes(scan, by_id); !s.ok()) return s;
  return CheckLifecycle(scan, by_id);
}

}  // namespace kiln::ledger
