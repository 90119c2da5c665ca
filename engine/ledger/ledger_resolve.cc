// Ledger::resolve and Ledger::audit_trail: lenses (lens.h) over the stored candidates, and the
// audit trail of their resolutions (audit.h) under l/aq/ and l/au/ (ledger_layout.h).
#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/kv/kv_store.h"
#include "engine/ledger/audit.h"
#include "engine/ledger/encoding.h"
#include "engine/ledger/ledger.h"
#include "engine/ledger/validate.h"

namespace kiln::ledger {

namespace {

using txn::Transaction;

Status CheckPair(const std::string& subject, const std::string& predicate) {
  if (Status s = ValidateUtf8Text("subject", subject, 1, kSubjectBytesMax); !s.ok()) return s;
  return ValidateUtf8Text("predicate", predicate, 1, kPredicateBytesMax);
}

// Every assertion indexed under (subject, predicate), at most `max` (one more is an error).
Task<Status> CandidatesTxn(Transaction& t, const std::string& subject, const std::string& predicate,
                           size_t max, std::vector<StoredAssertion>& out) {
  out.clear();
  const std::string prefix = SubjectPredicatePrefix(subject, predicate);
  Result<kv::KeyValues> rows = co_await t.scan_range(prefix, PrefixEnd(prefix), max + 1);
  if (!rows.ok()) co_return rows.status();
  if (rows->size() > max) {
    co_return Status::InvalidArgument("resolve: more than " + std::to_string(max) + " candidates");
  }
  for (const auto& [key, value] : *rows) {
    if (key.size() < prefix.size() + 8 + kIdBytes) {
      co_return Status::Corruption("ledger: index key too short");
    }
    Result<std::optional<StoredAssertion>> loaded = co_await LoadStored(t, IdAtEnd(key));
    if (!loaded.ok()) co_return loaded.status();
    if (!loaded->has_value()) {
      co_return Status::Corruption("ledger: index entry for missing assertion " +
                                   Hex(IdAtEnd(key)));
    }
    const AssertionBody& body = (*loaded)->assertion.body;
    if (body.subject != subject || body.predicate != predicate) {
      co_return Status::Corruption("ledger: index entry disagrees with assertion " +
                                   Hex(IdAtEnd(key)));
    }
    out.push_back(std::move(**loaded));
  }
  co_return Status::Ok();
}

Task<Status> AppendAuditTxn(Transaction& t, const std::string& subject,
                            const std::string& predicate, const std::string& record) {
  const std::string seq_key = AuditSequenceKey(subject, predicate);
  Result<std::optional<std::string>> raw = co_await t.get(seq_key);
  if (!raw.ok()) co_return raw.status();
  int64_t seq = 0;
  if (raw->has_value() && (!kv::ParseInt64(**raw, &seq) || seq < 0)) {
    co_return Status::Corruption("ledger: audit sequence is not a count");
  }
  if (Status s = t.put(AuditKey(subject, predicate, static_cast<uint64_t>(seq)), record); !s.ok()) {
    co_return s;
  }
  co_return t.put(seq_key, std::to_string(seq + 1));
}

Task<Status> AuditTrailTxn(Transaction& t, const std::string& subject, const std::string& predicate,
                           size_t limit, std::vector<Resolution>& out) {
  out.clear();
  const std::string prefix = AuditPrefix(subject, predicate);
  Result<kv::KeyValues> rows = co_await t.scan_range(prefix, PrefixEnd(prefix), limit);
  if (!rows.ok()) co_return rows.status();
  for (const auto& [key, value] : *rows) {
    Result<Resolution> resolution = DecodeResolution(value);
    if (!resolution.ok()) co_return resolution.status().WithContext("ledger audit record");
    out.push_back(std::move(resolution).value());
  }
  co_return Status::Ok();
}

}  // namespace

Task<Result<Resolution>> Ledger::resolve(std::string subject, std::string predicate,
                                         LensOptions options, bool record_audit) {
  if (Status s = CheckPair(subject, predicate); !s.ok()) co_return s;
  const size_t max = std::min(options_.resolve_candidates_max, kLensCandidatesMax);
  std::vector<StoredAssertion> candidates;
  const std::string& sub = subject;
  const std::string& pred = predicate;
  Status s = co_await Run([&sub, &pred, max, &candidates](Transaction& t) {
    return CandidatesTxn(t, sub, pred, max, candidates);
  });
  if (!s.ok()) co_return s;
  Resolution resolution = Resolve(subject, predicate, candidates, options);
  assert(CheckResolution(resolution).ok());
  if (!record_audit) co_return resolution;
  const std::string record = EncodeResolution(resolution);
  const std::string& rec = record;
  s = co_await Run(
      [&sub, &pred, &rec](Transaction& t) { return AppendAuditTxn(t, sub, pred, rec); });
  if (!s.ok()) co_return s.WithContext("resolve: recording the audit");
  co_return resolution;
}

Task<Result<std::vector<Resolution>>> Ledger::audit_trail(std::string subject,
                                                          std::string predicate, size_t limit) {
  if (Status s = CheckPair(subject, predicate); !s.ok()) co_return s;
  std::vector<Resolution> out;
  if (limit == 0) co_return out;
  const std::string& sub = subject;
  const std::string& pred = predicate;
  Status s = co_await Run([&sub, &pred, limit, &out](Transaction& t) {
    return AuditTrailTxn(t, sub, pred, limit, out);
  });
  if (!s.ok()) co_return s;
  co_return std::move(out);
}

}  // namespace kiln::ledger
