#include "properties/ledger_history.h"

#include <cassert>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"

namespace kiln::properties {
namespace {

using ledger::Assertion;
using ledger::AssertionId;
using ledger::Hex;
using ledger::LedgerScan;
using ledger::Retraction;
using ledger::RetractionBody;
using ledger::Vote;
using Kind = LedgerOp::Kind;
using Outcome = LedgerOp::Outcome;

std::string Short(std::string_view bytes) {
  return Hex(bytes).substr(0, 12);
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

Status Broken(const std::string& what) {
  return Status::Corruption(what);
}

template <typename Body>
bool Verifies(const Body& body, const std::string& signature, const std::string& key) {
  Result<std::string> form = ledger::SignedForm(body);
  return form.ok() && ledger::VerifyDetached(*form, signature, key);
}

bool IsVoteWithdrawal(const LedgerOp& op) {
  return op.kind == Kind::kRetraction && op.retraction.body.kind == RetractionBody::Kind::kVote;
}

// --- Vote slots ---

// One (assertion, voter) slot: its valid submissions that may have applied, and its final state.
struct Slot {
  std::vector<const LedgerOp*> ops;       // Acknowledged or in doubt, valid.
  const Vote* standing = nullptr;         // Final state: a standing vote, or
  const Retraction* withdrawn = nullptr;  // a withdrawal, or neither (no slot).
};

int64_t TimestampOf(const LedgerOp& op) {
  return op.kind == Kind::kVote ? op.vote.body.timestamp_us : op.retraction.body.timestamp_us;
}

// The search over orders of one slot's submissions (see the header).
class SlotSearch {
 public:
  explicit SlotSearch(const Slot& slot) : slot_(slot), n_(slot.ops.size()) {
    assert(n_ <= kSlotOpsSearchMax);
    before_.assign(n_, 0);
    for (size_t y = 0; y < n_; ++y) {
      for (size_t x = 0; x < n_; ++x) {
        const LedgerOp& a = *slot.ops[x];
        if (x != y && a.acked() && a.complete_step < slot.ops[y]->invoke_step) {
          before_[y] |= 1u << x;
        }
      }
    }
  }

  // Whether some order ends in the slot's final state; nullopt if the search gave up after
  // kSlotStatesMax states (the caller then checks only the necessary conditions).
  std::optional<bool> Reachable() {
    const bool found = Visit(0, -1);
    if (exhausted_) return std::nullopt;
    return found;
  }

 private:
  // The state after op `i` meets `state` (-1: empty slot): the new state, or -2 if refused.
  int Apply(int state, size_t i) const {
    const LedgerOp& op = *slot_.ops[i];
    if (op.kind == Kind::kVote) {
      if (state < 0) return static_cast<int>(i);
      const LedgerOp& cur = *slot_.ops[static_cast<size_t>(state)];
      if (cur.kind == Kind::kVote && cur.vote == op.vote) return state;  // The same vote again.
      return TimestampOf(op) > TimestampOf(cur) ? static_cast<int>(i) : -2;
    }
    if (state < 0) return -2;  // Nothing to withdraw: NotFound.
    const LedgerOp& cur = *slot_.ops[static_cast<size_t>(state)];
    if (cur.kind != Kind::kVote) {  // Withdrawn already: Ok; a newer withdrawal replaces it.
      return TimestampOf(op) > TimestampOf(cur) ? static_cast<int>(i) : state;
    }
    return TimestampOf(op) > TimestampOf(cur) ? static_cast<int>(i) : -2;
  }

  bool Final(int state) const {
    if (state < 0) return slot_.standing == nullptr && slot_.withdrawn == nullptr;
    const LedgerOp& op = *slot_.ops[static_cast<size_t>(state)];
    if (op.kind == Kind::kVote) return slot_.standing != nullptr && *slot_.standing == op.vote;
    return slot_.withdrawn != nullptr && *slot_.withdrawn == op.retraction;
  }

  bool Visit(uint32_t done, int state) {
    if (exhausted_ || !seen_.insert({done, state}).second) return false;
    if (seen_.size() > kSlotStatesMax) {
      exhausted_ = true;
      return false;
    }
    if (done == (1u << n_) - 1) return Final(state);
    for (size_t i = 0; i < n_; ++i) {
      if ((done >> i) & 1u || (before_[i] & ~done) != 0) continue;
      const uint32_t next = done | (1u << i);
      const int after = Apply(state, i);
      if (slot_.ops[i]->acked()) {
        if (after != -2 && Visit(next, after)) return true;
      } else {
        if (after >= -1 && after != state && Visit(next, after)) return true;
        if (Visit(next, state)) return true;  // Not applied (or refused).
      }
    }
    return false;
  }

  const Slot& slot_;
  size_t n_;
  std::vector<uint32_t> before_;  // Ops that must precede each (acknowledged before it began).
  std::set<std::pair<uint32_t, int>> seen_;
  bool exhausted_ = false;
};

std::string DescribeSlot(const Slot& slot) {
  std::ostringstream d;
  d << "final ";
  if (slot.standing != nullptr) {
    d << "vote weight " << slot.standing->body.weight << " ts " << slot.standing->body.timestamp_us;
  } else if (slot.withdrawn != nullptr) {
    d << "withdrawal ts " << slot.withdrawn->body.timestamp_us;
  } else {
    d << "none";
  }
  d << "; submissions:";
  for (const LedgerOp* op : slot.ops) d << " [" << op->ToString() << "]";
  return d.str();
}

// Necessary conditions only, for slots too big to search: the final state is one of the
// submissions and no acknowledged vote or withdrawal is newer than it (each one that applied
// left the slot at least that new).
bool SlotPlausible(const Slot& slot) {
  int64_t final_ts = INT64_MIN;
  if (slot.standing != nullptr) final_ts = slot.standing->body.timestamp_us;
  if (slot.withdrawn != nullptr) final_ts = slot.withdrawn->body.timestamp_us;
  for (const LedgerOp* op : slot.ops) {
    if (op->acked() && TimestampOf(*op) > final_ts) {
      return false;
    }
  }
  return true;
}

Status CheckSlots(const std::vector<LedgerOp>& ops, const LedgerScan& scan) {
  std::map<std::pair<std::string, std::string>, Slot> slots;  // (assertion, voter).
  for (const Vote& v : scan.votes) slots[{v.body.assertion, v.body.voter}].standing = &v;
  for (const Retraction& w : scan.withdrawn_votes) {
    slots[{w.body.assertion, w.body.signer}].withdrawn = &w;
  }
  for (const LedgerOp& op : ops) {
    if (!op.may_be_stored()) continue;
    if (op.kind == Kind::kVote) {
      slots[{op.vote.body.assertion, op.vote.body.voter}].ops.push_back(&op);
    } else if (IsVoteWithdrawal(op)) {
      slots[{op.retraction.body.assertion, op.retraction.body.signer}].ops.push_back(&op);
    }
  }
  for (const auto& [key, slot] : slots) {
    // The final state must be one of the submissions that may have applied.
    bool found = slot.standing == nullptr && slot.withdrawn == nullptr;
    for (const LedgerOp* op : slot.ops) {
      if (slot.standing != nullptr && op->kind == Kind::kVote && op->vote == *slot.standing) {
        found = true;
      }
      if (slot.withdrawn != nullptr && IsVoteWithdrawal(*op) && op->retraction == *slot.withdrawn) {
        found = true;
      }
    }
    const std::string where = "vote slot of " + Short(key.second) + " on " + Short(key.first);
    if (!found) {
      return Broken(where + ": the stored " + (slot.standing ? "vote" : "withdrawal") +
                    " is no valid submission that was acknowledged or is in doubt; " +
                    DescribeSlot(slot));
    }
    std::optional<bool> reachable;
    if (slot.ops.size() <= kSlotOpsSearchMax) reachable = SlotSearch(slot).Reachable();
    const bool consistent = reachable.has_value() ? *reachable : SlotPlausible(slot);
    if (!consistent) {
      return Broken(where +
                    ": no order of its submissions ends there (an acknowledged vote or "
                    "withdrawal was lost); " +
                    DescribeSlot(slot));
    }
  }
  return Status::Ok();
}

// --- Assertions and their retractions ---

Status CheckSignatures(const LedgerScan& scan) {
  for (const ledger::StoredAssertion& s : scan.assertions) {
    const Assertion& a = s.assertion;
    if (!Verifies(a.body, a.signature, a.body.agent)) {
      return Broken("stored assertion " + Short(s.id) + ": its signature does not verify");
    }
  }
  for (const Retraction& r : scan.retractions) {
    if (!Verifies(r.body, r.signature, r.body.signer)) {
      return Broken("stored retraction of " + Short(r.body.assertion) + ": bad signature");
    }
  }
  for (const Vote& v : scan.votes) {
    if (!Verifies(v.body, v.signature, v.body.voter)) {
      return Broken("standing vote on " + Short(v.body.assertion) + " by " + Short(v.body.voter) +
                    ": its signature does not verify");
    }
  }
  for (const Retraction& w : scan.withdrawn_votes) {
    if (!Verifies(w.body, w.signature, w.body.signer)) {
      return Broken("vote withdrawal on " + Short(w.body.assertion) + ": bad signature");
    }
  }
  return Status::Ok();
}

bool TimestampInRange(int64_t us) {
  return us >= ledger::kTimestampMinUs && us < ledger::kTimestampMaxUs;
}

bool TextOk(const std::string& text, size_t bytes_max) {
  return !text.empty() && text.size() <= bytes_max && text.find('\0') == std::string::npos;
}

// The bounds of every stored record, checked here rather than by validate.h (whose bugs would
// be shared): keys and signatures of their lengths, subject and predicate within bounds without
// NUL, confidence in [0, 1], weights in [kWeightMin, kWeightMax], timestamps in range.
Status CheckStoredFields(const LedgerScan& scan) {
  for (const ledger::StoredAssertion& s : scan.assertions) {
    const ledger::AssertionBody& b = s.assertion.body;
    const std::string where = "stored assertion " + Short(s.id) + ": ";
    if (b.agent.size() != ledger::kPublicKeyBytes ||
        s.assertion.signature.size() != ledger::kSignatureBytes) {
      return Broken(where + "a key or signature of the wrong length");
    }
    if (!TextOk(b.subject, ledger::kSubjectBytesMax) ||
        !TextOk(b.predicate, ledger::kPredicateBytesMax)) {
      return Broken(where + "subject or predicate empty, too long or with NUL");
    }
    if (!(b.confidence >= 0.0 && b.confidence <= 1.0)) {
      std::ostringstream c;
      c << b.confidence;
      return Broken(where + "confidence " + c.str() + " is outside [0, 1]");
    }
    if (!TimestampInRange(b.timestamp_us)) return Broken(where + "timestamp out of range");
  }
  for (const Vote& v : scan.votes) {
    if (!(v.body.weight >= ledger::kWeightMin && v.body.weight <= ledger::kWeightMax)) {
      return Broken("standing vote on " + Short(v.body.assertion) + ": weight out of range");
    }
    if (!TimestampInRange(v.body.timestamp_us)) {
      return Broken("standing vote on " + Short(v.body.assertion) + ": timestamp out of range");
    }
  }
  return Status::Ok();
}

// What the submissions of one record say about it: the best outcome among its copies.
struct Copies {
  const LedgerOp* may_be_stored = nullptr;
  const LedgerOp* any = nullptr;
};

template <typename Record>
Status CheckStoredRecord(const std::string& what, const std::string& key,
                         const std::vector<std::pair<Record, const LedgerOp*>>& submitted,
                         const Record& stored) {
  Copies c;
  for (const auto& [record, op] : submitted) {
    if (!(record == stored)) continue;
    if (c.any == nullptr || !op->valid) c.any = op;
    if (op->may_be_stored()) c.may_be_stored = op;
  }
  if (c.may_be_stored != nullptr) return Status::Ok();
  if (c.any == nullptr) return Broken(what + " " + key + " is stored but was never submitted");
  return Broken(what + " " + key +
                " is stored, but its submission may not be: " + c.any->ToString());
}

Status CheckAssertions(const std::vector<LedgerOp>& ops, const LedgerScan& scan) {
  std::vector<std::pair<Assertion, const LedgerOp*>> asserted;
  std::vector<std::pair<Retraction, const LedgerOp*>> retracted;
  for (const LedgerOp& op : ops) {
    if (op.kind == Kind::kAssertion) asserted.emplace_back(op.assertion, &op);
    if (op.kind == Kind::kRetraction && !IsVoteWithdrawal(op)) {
      retracted.emplace_back(op.retraction, &op);
    }
  }
  std::map<AssertionId, const Assertion*> stored;
  for (const ledger::StoredAssertion& s : scan.assertions) {
    stored[s.id] = &s.assertion;
    if (Status st = CheckStoredRecord("assertion", Short(s.id), asserted, s.assertion); !st.ok()) {
      return st;
    }
  }
  std::set<AssertionId> retracted_ids(scan.retraction_ids.begin(), scan.retraction_ids.end());
  for (const Retraction& r : scan.retractions) {
    const std::string key = "of " + Short(r.body.assertion);
    if (Status st = CheckStoredRecord("retraction", key, retracted, r); !st.ok()) return st;
  }
  for (const LedgerOp& op : ops) {
    if (!op.acked() || !op.valid) continue;
    if (op.kind == Kind::kAssertion) {
      Result<AssertionId> id = ledger::ComputeId(op.assertion.body);
      if (!id.ok()) return Broken("an acknowledged assertion has no id: " + op.ToString());
      auto it = stored.find(*id);
      if (it == stored.end()) return Broken("acknowledged assertion lost: " + op.ToString());
      if (!(*it->second == op.assertion)) {
        return Broken("acknowledged assertion stored differently: " + op.ToString());
      }
    } else if (op.kind == Kind::kRetraction && !IsVoteWithdrawal(op)) {
      if (retracted_ids.count(op.retraction.body.assertion) == 0) {
        return Broken("acknowledged retraction does not hold: " + op.ToString());
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string LedgerOp::ToString() const {
  std::ostringstream s;
  s << "client " << client << (valid ? " " : " hostile ");
  switch (kind) {
    case Kind::kAssertion:
      s << "assertion by " << Short(assertion.body.agent) << " ts " << assertion.body.timestamp_us;
      break;
    case Kind::kVote:
      s << "vote on " << Short(vote.body.assertion) << " by " << Short(vote.body.voter)
        << " weight " << vote.body.weight << " ts " << vote.body.timestamp_us;
      break;
    case Kind::kRetraction:
      s << (IsVoteWithdrawal(*this) ? "vote withdrawal on " : "retraction of ")
        << Short(retraction.body.assertion) << " by " << Short(retraction.body.signer) << " ts "
        << retraction.body.timestamp_us;
      break;
  }
  if (!what.empty()) s << " (" << what << ")";
  s << " [step " << invoke_step << "..";
  if (complete_step != kNeverCompleted) s << complete_step;
  s << "] " << OutcomeName(outcome);
  if (!status.empty() && outcome != Outcome::kOk) s << ": " << status.substr(0, 160);
  return s.str();
}

LedgerOp::Outcome OutcomeOf(const Status& status) {
  if (status.ok()) return Outcome::kOk;
  if (status.IsUnknown()) return Outcome::kUnknown;
  if (status.IsInvalidArgument() || status.IsNotFound()) return Outcome::kRefused;
  return Outcome::kFailed;
}

size_t LedgerHistory::invoke(LedgerOp op, uint64_t step) {
  op.invoke_step = step;
  op.complete_step = kNeverCompleted;
  op.outcome = Outcome::kPending;
  op.status.clear();
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void LedgerHistory::complete(size_t index, const Status& status, uint64_t step) {
  assert(index < ops_.size());
  LedgerOp& op = ops_[index];
  assert(op.complete_step == kNeverCompleted);
  assert(step >= op.invoke_step);
  op.complete_step = step;
  op.outcome = OutcomeOf(status);
  op.status = status.ToString();
}

Status CheckOutcome(const LedgerOp& op) {
  if (op.valid || op.outcome == Outcome::kPending) return Status::Ok();
  if (op.outcome == Outcome::kOk)
    return Broken("a hostile submission was accepted: " + op.ToString());
  if (op.outcome == Outcome::kUnknown) {
    return Broken("a hostile submission reached a commit (Unknown): " + op.ToString());
  }
  if (op.field.empty()) return Status::Ok();  // Refused, or a store error before it was judged.
  if (op.outcome != Outcome::kRefused || op.status.find("InvalidArgument") == std::string::npos) {
    return Broken("validation must refuse it as InvalidArgument: " + op.ToString());
  }
  if (op.status.find(op.field) == std::string::npos) {
    return Broken("the refusal does not name the field \"" + op.field + "\": " + op.ToString());
  }
  return Status::Ok();
}

Status CheckLedgerHistory(const LedgerHistory& history, const LedgerScan& scan) {
  for (const LedgerOp& op : history.ops()) {
    if (Status s = CheckOutcome(op); !s.ok()) return s;
  }
  if (Status s = CheckStoredFields(scan); !s.ok()) return s;
  if (Status s = CheckSignatures(scan); !s.ok()) return s;
  if (Status s = CheckAssertions(history.ops(), scan); !s.ok()) return s;
  return CheckSlots(history.ops(), scan);
}

}  // namespace kiln::properties
