// LedgerHistory: what clients submitted to a Ledger (assertions, votes, retractions) and what
// they were told, and the checker that holds a final LedgerScan to it. The arena scenario records
// every submission here; tests feed it known-bad histories.
//
// Each submission is valid (made by its signer over SignedForm, every field in bounds; it may
// still be refused for a reason of state: an older vote, a missing parent) or hostile (forged,
// malformed, or by the wrong signer: it must be refused and must never be stored).
//
// CheckLedgerHistory, each failure naming what broke:
//   - bounds: every stored record's lengths, confidence, weight and timestamps are in range
//     (checked here, not with validate.h);
//   - signatures: every stored assertion, assertion retraction, standing vote and vote withdrawal
//     verifies over its SignedForm by the key it names (checked with crypto directly, not with
//     the store's validation);
//   - nothing forged or invalid is stored: every stored record equals a valid submission that was
//     acknowledged or is in doubt (none refused, failed or hostile);
//   - hostile submissions were refused (InvalidArgument or NotFound; a store error only where the
//     store had to be read to judge it) and never acknowledged; CheckOutcome, per submission;
//   - nothing acknowledged is lost: every acknowledged assertion is stored as submitted; every
//     acknowledged assertion retraction holds; each (assertion, voter) vote slot ends in a state
//     that some order of its submissions reaches: the acknowledged ones all applied (Ok in the
//     state they met), those in doubt applied or not, one acknowledged before another was invoked
//     ordered first (a brute-force search over orders, for slots of at most kSlotOpsSearchMax
//     submissions and kSlotStatesMax search states; beyond, only the necessary conditions: the
//     final state is one of them and no acknowledged vote is newer).
//   The slot rules (engine/ledger/ledger.h): a vote replaces the slot if the slot is empty or
//   older; the exact standing vote again is Ok and changes nothing; a withdrawal replaces a
//   standing vote older than it, is Ok and changes nothing on a withdrawn slot, and is NotFound on
//   an empty one; anything else is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ledger/ledger.h"
#include "engine/ledger/types.h"
#include "engine/runtime/status.h"
#include "properties/kv_history.h"

namespace kiln::properties {

struct LedgerOp {
  enum class Kind : uint8_t { kAssertion, kVote, kRetraction };
  enum class Outcome : uint8_t {
    kPending,  // Invoked; never completed (its process died): it may or may not have happened.
    kOk,       // Acknowledged.
    kRefused,  // InvalidArgument or NotFound: judged and refused, nothing stored.
    kFailed,   // A store error that writes nothing (Conflict, NoSpace, Unavailable, IOError, ...).
    kUnknown,  // Unknown: it may or may not have happened.
  };
  Kind kind = Kind::kAssertion;
  bool valid = true;
  // For a hostile record: what was done to it ("vote weight NaN"). For a valid one: a note
  // ("replay", "supersedes") or "".
  std::string what;
  // Hostile records that stateless validation refuses: the field its InvalidArgument message
  // must name ("vote weight"). "" when the store must be read to refuse it (a vote for a missing
  // assertion, a retraction by the wrong signer).
  std::string field;
  ledger::Assertion assertion;    // kAssertion.
  ledger::Vote vote;              // kVote.
  ledger::Retraction retraction;  // kRetraction.
  uint64_t client = 0;
  uint64_t invoke_step = 0;
  uint64_t complete_step = kNeverCompleted;
  Outcome outcome = Outcome::kPending;
  std::string status;  // What the call returned (Status::ToString()).

  bool acked() const { return outcome == Outcome::kOk; }
  bool in_doubt() const { return outcome == Outcome::kPending || outcome == Outcome::kUnknown; }
  bool may_be_stored() const { return valid && (acked() || in_doubt()); }
  // "client 3 vote 1a2b.. by 9f8e.. weight 0.5 ts 123 [step 10..14] ok"
  std::string ToString() const;
};

// The outcome a status means for a submission.
LedgerOp::Outcome OutcomeOf(const Status& status);

class LedgerHistory {
 public:
  // Returns the submission's index, for complete().
  size_t invoke(LedgerOp op, uint64_t step);
  // REQUIRES: `index` was invoked and not completed.
  void complete(size_t index, const Status& status, uint64_t step);
  const std::vector<LedgerOp>& ops() const { return ops_; }
  const LedgerOp& op(size_t index) const { return ops_[index]; }
  size_t size() const { return ops_.size(); }

 private:
  std::vector<LedgerOp> ops_;
};

// A completed submission's outcome against what it is: a hostile one never acknowledged or in
// doubt, refused with InvalidArgument naming `field` when stateless validation must refuse it.
// Ok, or Corruption saying what broke.
Status CheckOutcome(const LedgerOp& op);

inline constexpr size_t kSlotOpsSearchMax = 16;
inline constexpr size_t kSlotStatesMax = 100'000;

// The final scan against the history (see the file comment). Ok, or Corruption saying what broke.
Status CheckLedgerHistory(const LedgerHistory& history, const ledger::LedgerScan& scan);

}  // namespace kiln::properties
