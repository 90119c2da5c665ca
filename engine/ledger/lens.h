// Lenses (DESIGN.md section 7, "Ledger"): which of the assertions about one (subject, predicate)
// wins, by a named rule, with deterministic tie-breaks and an explanation. Pure: no I/O, no
// time, no randomness; the same stored assertions give the same Resolution in any input order.
//
// Scores, highest wins:
//   recency     timestamp_us (exact: every timestamp in range is below 2^53).
//   consensus   tally.weight_micros, compared as the exact integer. Candidate::score shows it
//               as a double, which rounds above 2^53 micros (9e9 weight units); ranking never
//               uses the rounded value.
//   confidence  confidence * (1 + tally.weight_micros / kWeightScale): the agent's own
//               confidence, amplified by the weight of the votes behind it (an unvoted
//               assertion scores its confidence; one with total weight 1 scores twice it).
//               Computed in IEEE double from the record alone, so equal inputs give equal
//               scores on every run; ranking uses exactly this double.
// Ties: the newer timestamp wins, then the bytewise (unsigned) smaller id.
//
// Lifecycle: retracted and superseded assertions are excluded from winning unless the options
// include them; they still appear among the candidates, after the eligible ones, with the reason
// ("retracted" takes precedence when both apply and neither is included).
//
// Values are not validated here (validation happens at ingest, validate.h). Should an invalid
// value reach a lens anyway (a NaN confidence), its NaN score ranks below every number and
// equal to other NaNs, so the order is still total and the result still input-order free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ledger/types.h"
#include "engine/runtime/result.h"

namespace kiln::ledger {

enum class LensRule : uint8_t { kRecency, kConsensus, kConfidence };

// "recency", "consensus", "confidence".
std::string_view LensRuleName(LensRule rule);
// The rule named `name` (exactly, case-sensitive); InvalidArgument listing the valid names.
Result<LensRule> ParseLensRule(std::string_view name);

// The most stored assertions one Resolve call takes (and one decoded audit record holds). A
// caller that may hold more about one (subject, predicate) must page or refuse before calling.
inline constexpr size_t kLensCandidatesMax = 100'000;

struct LensOptions {
  LensRule rule = LensRule::kRecency;
  bool include_superseded = false;  // Superseded assertions may win.
  bool include_retracted = false;   // Retracted assertions may win.
};

// Why a candidate was excluded (Candidate::excluded_because), or "" when it is eligible.
inline constexpr std::string_view kExcludedRetracted = "retracted";
inline constexpr std::string_view kExcludedSuperseded = "superseded";

// What separated the winner from the runner-up (Resolution::decided_by).
inline constexpr std::string_view kDecidedByOnlyCandidate = "only candidate";
inline constexpr std::string_view kDecidedByScore = "score";
inline constexpr std::string_view kDecidedByTimestamp = "timestamp";
inline constexpr std::string_view kDecidedById = "id";
inline constexpr std::string_view kDecidedByNoCandidates = "no candidates";

struct Candidate {
  AssertionId id;
  double score = 0;  // By the resolution's rule (see the file comment).
  int64_t timestamp_us = 0;
  bool eligible = false;
  std::string excluded_because;  // "" (eligible), kExcludedRetracted or kExcludedSuperseded.
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

struct Resolution {
  std::string subject;
  std::string predicate;
  LensRule rule = LensRule::kRecency;
  bool include_superseded = false;  // The options the resolution was made with.
  bool include_retracted = false;
  std::optional<AssertionId> winner;  // The first candidate, when it is eligible.
  // The eligible candidates best first, then the excluded ones, also best first.
  std::vector<Candidate> candidates;
  // kDecidedByNoCandidates (nothing eligible), kDecidedByOnlyCandidate (one eligible), else what
  // separated the first two eligible candidates: kDecidedByScore, kDecidedByTimestamp or
  // kDecidedById.
  std::string decided_by;
  friend bool operator==(const Resolution&, const Resolution&) = default;
};

// Resolves (subject, predicate) over `stored`: the assertions the caller found for it, in any
// order.
// REQUIRES (asserted: a caller's bug, not bad input): every stored assertion's body has exactly
// this subject and predicate; ids are unique; stored.size() <= kLensCandidatesMax.
Resolution Resolve(const std::string& subject, const std::string& predicate,
                   const std::vector<StoredAssertion>& stored, const LensOptions& options);

// The structural invariants of a Resolution (every one Resolve makes has them):
// candidates.size() <= kLensCandidatesMax; eligible ones first; eligible exactly when
// excluded_because is "", which is otherwise a known reason; winner is the first candidate's
// id exactly when that one is eligible; decided_by is a known value agreeing with the number
// of eligible candidates. Ok or InvalidArgument saying which one broke.
Status CheckResolution(const Resolution& resolution);

}  // namespace kiln::ledger
