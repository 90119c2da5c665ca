// Ledger: the store of signed assertions and votes over strictly serializable transactions
// (DESIGN.md section 7, "Ledger"; docs/ledger.md). Key layout: ledger_layout.h.
//
// Contract:
// - submit(a): validates a (validate.h; the signature check runs through Scheduler::blocking:
//   the blocking pool in production, inline in simulation), computes its id, then in ONE
//   transaction stores the record, its three index entries (subject, subject+predicate, agent)
//   and, with a parent, the supersedes entry. The parent must exist (NotFound), be by the same
//   agent and not be retracted (InvalidArgument); the parent chain is walked (at most
//   LedgerOptions::parent_walk_max links) and must not reach the new id. Resubmitting a stored
//   assertion is Ok with the same id and changes nothing.
// - vote(v): the assertion must exist (NotFound) and not be retracted (InvalidArgument). One
//   standing vote per (voter, assertion): a vote newer than the voter's standing vote (or
//   withdrawal) replaces it; an older or equal one is refused (InvalidArgument), except that
//   the exact standing vote again is Ok and changes nothing. The tally (count, weight_micros)
//   changes by Transaction::add deltas in the same transaction as the vote record, so tallies
//   are exact under any concurrency: the transaction reads only the voter's own vote slot (and
//   the assertion's immutable record), never the tally.
// - retract(r): of an assertion, only by its agent (InvalidArgument otherwise); the assertion
//   leaves the lenses (retracted flag); retracting again is Ok. Of a vote, only by the voter
//   (the slot is keyed by the signer, so a foreign key finds no vote: NotFound), and only if
//   newer than the standing vote (InvalidArgument); the tally drops the vote in the same
//   transaction; withdrawing an already withdrawn vote again is Ok, and a newer withdrawal
//   moves the slot's time forward (a vote signed before it, delivered late, is refused).
// - Every failure stores nothing. Validation errors are InvalidArgument naming the field;
//   missing records NotFound; errors of the store pass through (Unknown: the change may or may
//   not have happened, never "failed"); Conflicts are retried (txn::RunTransaction) and surface
//   only after RetryOptions::attempts_max.
// - Reads (get, by_*, tally, votes_of, scan) run in one read-only transaction each: a consistent
//   snapshot that never aborts.
// Coroutine rules: one Scheduler; the TxnStore, Scheduler and Random outlive the Ledger. A
// Ledger has no state of its own beyond options: any number may share one TxnStore.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/ledger/ledger_layout.h"
#include "engine/ledger/lens.h"
#include "engine/ledger/types.h"
#include "engine/runtime/random.h"
#include "engine/runtime/result.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/task.h"
#include "engine/txn/txn_store.h"

namespace kiln::ledger {

struct LedgerOptions {
  size_t parent_walk_max = 64;        // Parent links a submit follows looking for a cycle.
  size_t scan_page_rows = 1024;       // Rows per scan_range call of a scan.
  size_t scan_rows_max = 10'000'000;  // A scan of more rows than this is InvalidArgument.
  // Candidates one resolve() takes at most; more is InvalidArgument (never a silent subset).
  size_t resolve_candidates_max = kLensCandidatesMax;
  txn::RetryOptions retry;
};

// Every record of the ledger, decoded, as one snapshot saw it: for checkers (CheckScan).
struct LedgerScan {
  enum class IndexKind : uint8_t { kSubject, kSubjectPredicate, kAgent };
  struct IndexEntry {
    IndexKind kind = IndexKind::kSubject;
    std::string subject;    // kSubject, kSubjectPredicate.
    std::string predicate;  // kSubjectPredicate.
    std::string agent;      // kAgent.
    int64_t timestamp_us = 0;
    AssertionId id;
  };
  struct Supersedes {
    AssertionId parent;
    AssertionId child;
  };
  // Keyed by the id in the key (for a correct store, ComputeId of the body). In key order, with
  // flags and the STORED tally (what the aggregate keys say, not a recount).
  std::vector<StoredAssertion> assertions;
  std::vector<Retraction> retractions;  // Of assertions, by the id in their key.
  std::vector<AssertionId> retraction_ids;
  std::vector<Supersedes> supersedes;
  std::vector<IndexEntry> index_entries;
  std::vector<Vote> votes;  // Standing votes only.
  std::vector<Retraction> withdrawn_votes;
  // Tally keys whose assertion is not stored (a correct store has none).
  std::vector<AssertionId> orphan_tallies;
  uint64_t audit_records = 0;
  wal::Lsn read_version = 0;
};

// The structural invariants of a scan, each failure naming what broke: every stored id is the
// hash of its body; every assertion has its three index entries and every index entry points at
// a stored assertion with those fields; each tally equals the recount of its standing votes
// (count and sum of WeightMicros); every standing vote and vote withdrawal is for a stored
// assertion and filed under its own (assertion, voter) key; every parent exists and is by the
// same agent, and every supersedes entry matches a child's parent; retractions are by the
// assertion's agent; no orphan tallies. Ok or Corruption. Structural only: signatures and ranges
// are not re-validated (under a validation bug the engine's validator shares it; a scenario
// checks stored records against its own reference), and the retracted/superseded flags are
// derived from the entries when the scan is built.
Status CheckScan(const LedgerScan& scan);

class Ledger {
 public:
  // `observer`, if given, sees every transaction the ledger runs (txn/txn_observer.h), e.g. a
  // history recorder for the serializability checker; it must outlive the ledger.
  Ledger(txn::TxnStore& txns, Scheduler& scheduler, Random& random, LedgerOptions options = {},
         txn::TxnObserver* observer = nullptr);
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Task<Result<AssertionId>> submit(Assertion assertion);
  Task<Status> vote(Vote vote);
  Task<Status> retract(Retraction retraction);

  // nullopt if no assertion has that id.
  Task<Result<std::optional<StoredAssertion>>> get(AssertionId id);
  // Up to `limit` assertions, oldest (timestamp) first, then by id. InvalidArgument for a
  // subject/predicate/agent that no assertion could have (validation's rules).
  Task<Result<std::vector<StoredAssertion>>> by_subject(std::string subject, size_t limit);
  Task<Result<std::vector<StoredAssertion>>> by_subject_predicate(std::string subject,
                                                                  std::string predicate,
                                                                  size_t limit);
  Task<Result<std::vector<StoredAssertion>>> by_agent(std::string agent, size_t limit);
  // The stored aggregate of the assertion's standing votes (zero for an unvoted or unknown id).
  Task<Result<Tally>> tally(AssertionId id);
  // The standing votes on `id`, in voter order, at most `limit`.
  Task<Result<std::vector<Vote>>> votes_of(AssertionId id, size_t limit);
  // Everything under the ledger's prefix, in one snapshot (LedgerOptions::scan_rows_max).
  Task<Result<LedgerScan>> scan();

  // Resolves (subject, predicate) through a lens (lens.h) over every stored assertion about it,
  // read in one read-only transaction (a consistent snapshot, with tallies and lifecycle flags).
  // With `record_audit`, the encoded resolution (audit.h) is then appended to the pair's audit
  // trail in a second transaction (so auditing never makes a resolution retry against votes);
  // the trail is ordered by a per-pair sequence that audits read and advance serializably.
  // InvalidArgument for a subject/predicate no assertion could have, or more candidates than
  // LedgerOptions::resolve_candidates_max. If the audit write fails, so does the call (Unknown:
  // the record may or may not have been appended).
  Task<Result<Resolution>> resolve(std::string subject, std::string predicate, LensOptions options,
                                   bool record_audit);
  // The pair's recorded resolutions, oldest first, at most `limit`.
  Task<Result<std::vector<Resolution>>> audit_trail(std::string subject, std::string predicate,
                                                    size_t limit);

  const LedgerOptions& options() const { return options_; }

 private:
  // The id of a validated body: ComputeId, or an error. A simulation-only BUGGIFY site makes
  // the hashing step fail here, so callers' error paths run.
  Result<AssertionId> HashId(const AssertionBody& body) const;
  Task<Status> Run(std::function<Task<Status>(txn::Transaction&)> body);
  // Applies the tally change of one vote slot transition (the ledger-vote-tally-rmw bug's
  // wrong path lives here).
  Task<Status> VoteWithRmwTally(Vote vote);
  Task<Result<std::vector<StoredAssertion>>> ByIndex(std::string prefix, size_t limit);

  txn::TxnStore& txns_;
  Scheduler& scheduler_;
  Random& random_;
  LedgerOptions options_;
  txn::TxnObserver* observer_;  // nullptr: none.
};

// Reads the StoredAssertion `id` in `t` (record, flags, tally); nullopt if absent.
Task<Result<std::optional<StoredAssertion>>> LoadStored(txn::Transaction& t, std::string id);

}  // namespace kiln::ledger
