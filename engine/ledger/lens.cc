// Lenses: score every candidate, rank them by one total order, read off the winner and what
// decided it. The order is total (ids are unique and NaN has a place), so sorting makes the
// result independent of the input order.
#include "engine/ledger/lens.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>

namespace kiln::ledger {
namespace {

constexpr LensRule kRules[] = {LensRule::kRecency, LensRule::kConsensus, LensRule::kConfidence};

// One candidate while ranking. `exact` is the integer the rule ranks by (recency, consensus);
// confidence ranks by `score`.
struct Ranked {
  const StoredAssertion* stored = nullptr;
  int64_t exact = 0;
  double score = 0;
  std::string_view excluded_because;
};

// -1, 0 or 1 as a's score is below, equal to or above b's. NaN is below every number and equal
// to NaN, so this is a total preorder on doubles.
int CompareDoubles(double a, double b) {
  const bool a_nan = std::isnan(a);
  const bool b_nan = std::isnan(b);
  if (a_nan || b_nan) return a_nan == b_nan ? 0 : (a_nan ? -1 : 1);
  return a < b ? -1 : (a > b ? 1 : 0);
}

int CompareScores(LensRule rule, const Ranked& a, const Ranked& b) {
  if (rule == LensRule::kConfidence) return CompareDoubles(a.score, b.score);
  return a.exact < b.exact ? -1 : (a.exact > b.exact ? 1 : 0);
}

int64_t TimestampOf(const Ranked& r) {
  return r.stored->assertion.body.timestamp_us;
}

// Whether a ranks before b: eligible first; then the higher score, the newer timestamp, the
// bytewise smaller id (std::string compares bytes as unsigned char).
bool RanksBefore(LensRule rule, const Ranked& a, const Ranked& b) {
  const bool a_eligible = a.excluded_because.empty();
  const bool b_eligible = b.excluded_because.empty();
  if (a_eligible != b_eligible) return a_eligible;
  const int by_score = CompareScores(rule, a, b);
  if (by_score != 0) return by_score > 0;
  if (TimestampOf(a) != TimestampOf(b)) return TimestampOf(a) > TimestampOf(b);
  return a.stored->id < b.stored->id;
}

Ranked Score(const StoredAssertion& s, const LensOptions& options) {
  Ranked r;
  r.stored = &s;
  const int64_t weight_micros = s.tally.weight_micros;
  switch (options.rule) {
    case LensRule::kRecency:
      r.exact = s.assertion.body.timestamp_us;
      r.score = static_cast<double>(r.exact);
      break;
    case LensRule::kConsensus:
      r.exact = weight_micros;
      r.score = static_cast<double>(r.exact);
      break;
    case LensRule::kConfidence:
      r.score = s.assertion.body.confidence *
                (1.0 + static_cast<double>(weight_micros) / static_cast<double>(kWeightScale));
      break;
  }
  if (s.retracted && !options.include_retracted) {
    r.excluded_because = kExcludedRetracted;
  } else if (s.superseded && !options.include_superseded) {
    r.excluded_because = kExcludedSuperseded;
  }
  return r;
}

bool IdsUnique(const std::vector<StoredAssertion>& stored) {
  std::vector<std::string_view> ids;
  ids.reserve(stored.size());
  for (const StoredAssertion& s : stored) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

std::string_view DecidedBy(LensRule rule, const std::vector<Ranked>& ranked, size_t eligible) {
  if (eligible == 0) return kDecidedByNoCandidates;
  if (eligible == 1) return kDecidedByOnlyCandidate;
  const Ranked& first = ranked[0];
  const Ranked& second = ranked[1];
  assert(RanksBefore(rule, first, second));
  if (CompareScores(rule, first, second) != 0) return kDecidedByScore;
  if (TimestampOf(first) != TimestampOf(second)) return kDecidedByTimestamp;
  return kDecidedById;
}

}  // namespace

std::string_view LensRuleName(LensRule rule) {
  switch (rule) {
    case LensRule::kRecency:
      return "recency";
    case LensRule::kConsensus:
      return "consensus";
    case LensRule::kConfidence:
      return "confidence";
  }
  assert(false && "unknown LensRule");
  return "unknown";
}

Result<LensRule> ParseLensRule(std::string_view name) {
  std::string valid;
  for (LensRule rule : kRules) {
    if (LensRuleName(rule) == name) return rule;
    valid += valid.empty() ? "" : ", ";
    valid += LensRuleName(rule);
  }
  return Status::InvalidArgument("unknown lens rule \"" + std::string(name) +
                                 "\"; valid rules: " + valid);
}

Resolution Resolve(const std::string& subject, const std::string& predicate,
                   const std::vector<StoredAssertion>& stored, const LensOptions& options) {
  assert(stored.size() <= kLensCandidatesMax);
  assert(IdsUnique(stored));
  std::vector<Ranked> ranked;
  ranked.reserve(stored.size());
  size_t eligible = 0;
  for (const StoredAssertion& s : stored) {
    assert(s.assertion.body.subject == subject);
    assert(s.assertion.body.predicate == predicate);
    ranked.push_back(Score(s, options));
    eligible += ranked.back().excluded_because.empty() ? 1 : 0;
  }
  std::sort(ranked.begin(), ranked.end(),
            [&](const Ranked& a, const Ranked& b) { return RanksBefore(options.rule, a, b); });

  Resolution out;
  out.subject = subject;
  out.predicate = predicate;
  out.rule = options.rule;
  out.include_superseded = options.include_superseded;
  out.include_retracted = options.include_retracted;
  out.decided_by = DecidedBy(options.rule, ranked, eligible);
  out.candidates.reserve(ranked.size());
  for (const Ranked& r : ranked) {
    out.candidates.push_back(Candidate{r.stored->id, r.score, TimestampOf(r),
                                       r.excluded_because.empty(),
                                       std::string(r.excluded_because)});
  }
  if (eligible > 0) out.winner = out.candidates.front().id;
  assert(CheckResolution(out).ok());
  return out;
}

Status CheckResolution(const Resolution& r) {
  if (std::find(std::begin(kRules), std::end(kRules), r.rule) == std::end(kRules)) {
    return Status::InvalidArgument("resolution: unknown rule " +
                                   std::to_string(static_cast<int>(r.rule)));
  }
  if (r.candidates.size() > kLensCandidatesMax) {
    return Status::InvalidArgument("resolution: more than kLensCandidatesMax candidates");
  }
  size_t eligible = 0;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    const std::string where = "resolution candidate " + std::to_string(i) + ": ";
    if (c.eligible != c.excluded_because.empty()) {
      return Status::InvalidArgument(where + "eligible disagrees with excluded_because");
    }
    if (!c.eligible && c.excluded_because != kExcludedRetracted &&
        c.excluded_because != kExcludedSuperseded) {
      return Status::InvalidArgument(where + "unknown excluded_because \"" + c.excluded_because +
                                     "\"");
    }
    if (c.eligible && eligible != i) {
      return Status::InvalidArgument(where + "eligible after an excluded candidate");
    }
    eligible += c.eligible ? 1 : 0;
  }
  const bool has_winner = eligible > 0;
  if (r.winner.has_value() != has_winner || (has_winner && *r.winner != r.candidates.front().id)) {
    return Status::InvalidArgument("resolution: the winner is not the first eligible candidate");
  }
  const std::string_view d = r.decided_by;
  const bool decided_ok =
      eligible == 0   ? d == kDecidedByNoCandidates
      : eligible == 1 ? d == kDecidedByOnlyCandidate
                      : (d == kDecidedByScore || d == kDecidedByTimestamp || d == kDecidedById);
  if (!decided_ok) {
    return Status::InvalidArgument("resolution: decided_by \"" + r.decided_by + "\" with " +
                                   std::to_string(eligible) + " eligible candidates");
  }
  return Status::Ok();
}

}  // namespace kiln::ledger
